/* dense.c - fully connected layer, out = inp @ w^T + b, on OpenBLAS.
 * The batch is the M dimension of one sgemm, so all N rows share one
 * packing of w. For N == 1 (one voice of streaming generation) sgemv is
 * used: OpenBLAS's sgemm repacks w on every call and is 2-5x slower there
 * (see /work/shared/peers/README.md). The _packed variants give the
 * products gw_conv_sgemm's packed AVX-512 kernel where it applies. */
#include "nn/layers.h"
#include "nn/im2col.h"

#include <cblas.h>

void gw_dense_forward_packed(float *out, const float *inp, const float *w, const float *b, int N,
                             int C, int OC, int bf16, float *pack) {
    if (N <= 0 || OC <= 0) return;
    float beta = 0.0f;
    if (b) {
        for (int n = 0; n < N; n++)
            for (int oc = 0; oc < OC; oc++) out[(size_t)n * OC + oc] = b[oc];
        beta = 1.0f;
    }
    if (C <= 0) {
        if (!b)
            for (size_t i = 0; i < (size_t)N * OC; i++) out[i] = 0.0f;
        return;
    }
    if (N == 1 && !(bf16 && pack && gw_conv_bf16_ok())) /* bf16 takes the packed kernel */
        cblas_sgemv(CblasRowMajor, CblasNoTrans, OC, C, 1.0f, w, C, inp, 1, beta, out, 1);
    else
        gw_conv_sgemm_p(bf16, 0, 1, N, OC, C, inp, C, w, C, beta, out, OC, pack);
}

void gw_dense_forward(float *out, const float *inp, const float *w, const float *b, int N, int C,
                      int OC) {
    gw_dense_forward_packed(out, inp, w, b, N, C, OC, 0, NULL);
}

void gw_dense_backward_packed(float *dinp, float *dw, float *db, const float *dout,
                              const float *inp, const float *w, int N, int C, int OC, int bf16,
                              float *pack) {
    if (N <= 0 || OC <= 0) return;
    if (db)
        for (int n = 0; n < N; n++)
            for (int oc = 0; oc < OC; oc++) db[oc] += dout[(size_t)n * OC + oc];
    if (C <= 0) return;
    // dinp (N, C) += dout (N, OC) @ w (OC, C)
    if (dinp) gw_conv_sgemm_p(bf16, 0, 0, N, C, OC, dout, OC, w, C, 1.0f, dinp, C, pack);
    // dw (OC, C) += dout^T (OC, N) @ inp (N, C)
    if (dw) gw_conv_sgemm_p(bf16, 1, 0, OC, C, N, dout, OC, inp, C, 1.0f, dw, C, pack);
}

/* shapes as in layers.h */
void gw_dense_backward(float *dinp, float *dw, float *db, const float *dout, const float *inp,
                       const float *w, int N, int C, int OC) {
    gw_dense_backward_packed(dinp, dw, db, dout, inp, w, N, C, OC, 0, NULL);
}

void gw_dense_forward_naive(float *out, const float *inp, const float *w, const float *b, int N,
                            int C, int OC) {
    for (int n = 0; n < N; n++)
        for (int oc = 0; oc < OC; oc++) {
            float s = b ? b[oc] : 0.0f;
            for (int c = 0; c < C; c++) s += inp[(size_t)n * C + c] * w[(size_t)oc * C + c];
            out[(size_t)n * OC + oc] = s;
        }
}

void gw_dense_backward_naive(float *dinp, float *dw, float *db, const float *dout,
                             const float *inp, const float *w, int N, int C, int OC) {
    for (int n = 0; n < N; n++)
        for (int oc = 0; oc < OC; oc++) {
            float g = dout[(size_t)n * OC + oc];
            if (db) db[oc] += g;
            for (int c = 0; c < C; c++) {
                if (dinp) dinp[(size_t)n * C + c] += g * w[(size_t)oc * C + c];
                if (dw) dw[(size_t)oc * C + c] += g * inp[(size_t)n * C + c];
            }
        }
}
