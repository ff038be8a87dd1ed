/* conv1d.c - dilated, left-padded (causal) 1-D convolution, channels-last.
 *
 * With x (T_in, C_in) rows and w (C_out, K, C_in), tap k contributes
 *   out[t] += w[:, k, :] @ x[t + o_k],   o_k = k*dilation - pad_left,
 * for every t whose source row t + o_k lies inside x (rows in the left pad
 * are zeros and contribute nothing). For one batch item those t form one
 * contiguous range and so do their source rows, so each tap is a single
 * sgemm of (rows x C_in) by w_k^T, reading x and w in place: w_k is the
 * (C_out, C_in) slice at column offset k*C_in with leading dimension
 * K*C_in. No im2col copy is made. Rows of different batch items cannot
 * share one sgemm because T_in != T_out (valid) or because a shifted tap
 * would read across the item boundary (causal).
 */
#include "nn/layers.h"

#include <cblas.h>

int gw_conv1d_out_len(int T_in, int K, int dilation, int pad_left) {
    long t = (long)T_in + pad_left - (long)(K - 1) * dilation;
    return t > 0 && t <= 0x7fffffffL ? (int)t : 0;
}

gw_status gw_conv1d_check(int *T_out, int T_in, int K, int dilation, int pad_left,
                          const char *what, gw_error *err) {
    *T_out = 0;
    if (K < 1 || dilation < 1 || pad_left < 0 || T_in < 1)
        return gw_fail(err, GW_ERR_ARG,
                       "%s: invalid conv1d settings (T_in %d, kernel %d, dilation %d, pad %d)",
                       what, T_in, K, dilation, pad_left);
    int t = gw_conv1d_out_len(T_in, K, dilation, pad_left);
    if (t < 1)
        return gw_fail(err, GW_ERR_ARG,
                       "%s: %d input steps are shorter than the receptive field %ld "
                       "(kernel %d, dilation %d, pad %d)",
                       what, T_in, (long)(K - 1) * dilation + 1, K, dilation, pad_left);
    *T_out = t;
    return GW_OK;
}

/* the output rows [*t0, *t1) that tap k reads from inside x */
static int tap_rows(int *t0, int *t1, int k, int T_in, int T_out, int dilation, int pad_left) {
    int o = k * dilation - pad_left;
    *t0 = o < 0 ? -o : 0;
    *t1 = T_in - o < T_out ? T_in - o : T_out;
    return o;
}

void gw_conv1d_forward(float *out,       // (B, T_out, C_out)
                       const float *inp, // (B, T_in, C_in)
                       const float *w,   // (C_out, K, C_in)
                       const float *b,   // (C_out) or NULL
                       int B, int T_in, int C_in, int C_out, int K, int dilation, int pad_left) {
    int T_out = gw_conv1d_out_len(T_in, K, dilation, pad_left);
    if (B <= 0 || T_out <= 0 || C_out <= 0) return;
    size_t rows = (size_t)B * T_out;
    for (size_t r = 0; r < rows; r++)
        for (int c = 0; c < C_out; c++) out[r * C_out + c] = b ? b[c] : 0.0f;
    if (C_in <= 0) return;
    for (int bi = 0; bi < B; bi++) {
        const float *x = inp + (size_t)bi * T_in * C_in; // (T_in, C_in)
        float *y = out + (size_t)bi * T_out * C_out;     // (T_out, C_out)
        for (int k = 0; k < K; k++) {
            int t0, t1;
            int o = tap_rows(&t0, &t1, k, T_in, T_out, dilation, pad_left);
            if (t1 <= t0) continue;
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, t1 - t0, C_out, C_in, 1.0f,
                        x + (size_t)(t0 + o) * C_in, C_in, w + (size_t)k * C_in, K * C_in, 1.0f,
                        y + (size_t)t0 * C_out, C_out);
        }
    }
}

void gw_conv1d_backward(float *dinp,       // (B, T_in, C_in) or NULL
                        float *dw,         // (C_out, K, C_in) or NULL
                        float *db,         // (C_out) or NULL
                        const float *dout, // (B, T_out, C_out)
                        const float *inp,  // (B, T_in, C_in)
                        const float *w,    // (C_out, K, C_in)
                        int B, int T_in, int C_in, int C_out, int K, int dilation,
                        int pad_left) {
    int T_out = gw_conv1d_out_len(T_in, K, dilation, pad_left);
    if (B <= 0 || T_out <= 0 || C_out <= 0) return;
    if (db) {
        size_t rows = (size_t)B * T_out;
        for (size_t r = 0; r < rows; r++)
            for (int c = 0; c < C_out; c++) db[c] += dout[r * C_out + c];
    }
    if (C_in <= 0 || (!dinp && !dw)) return;
    for (int bi = 0; bi < B; bi++) {
        const float *x = inp + (size_t)bi * T_in * C_in;    // (T_in, C_in)
        const float *g = dout + (size_t)bi * T_out * C_out; // (T_out, C_out)
        for (int k = 0; k < K; k++) {
            int t0, t1;
            int o = tap_rows(&t0, &t1, k, T_in, T_out, dilation, pad_left);
            if (t1 <= t0) continue;
            // dw_k (C_out, C_in) += g_rows^T (C_out, rows) @ x_rows (rows, C_in)
            if (dw)
                cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, C_out, C_in, t1 - t0, 1.0f,
                            g + (size_t)t0 * C_out, C_out, x + (size_t)(t0 + o) * C_in, C_in, 1.0f,
                            dw + (size_t)k * C_in, K * C_in);
            // dx_rows (rows, C_in) += g_rows (rows, C_out) @ w_k (C_out, C_in)
            if (dinp)
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, t1 - t0, C_in, C_out, 1.0f,
                            g + (size_t)t0 * C_out, C_out, w + (size_t)k * C_in, K * C_in, 1.0f,
                            dinp + ((size_t)bi * T_in + t0 + o) * C_in, C_in);
        }
    }
}

void gw_conv1d_forward_naive(float *out, const float *inp, const float *w, const float *b, int B,
                             int T_in, int C_in, int C_out, int K, int dilation, int pad_left) {
    int T_out = gw_conv1d_out_len(T_in, K, dilation, pad_left);
    for (int bi = 0; bi < B; bi++)
        for (int t = 0; t < T_out; t++)
            for (int co = 0; co < C_out; co++) {
                float s = b ? b[co] : 0.0f;
                for (int k = 0; k < K; k++) {
                    int ts = t + k * dilation - pad_left;
                    if (ts < 0 || ts >= T_in) continue;
                    for (int ci = 0; ci < C_in; ci++)
                        s += w[((size_t)co * K + k) * C_in + ci] *
                             inp[((size_t)bi * T_in + ts) * C_in + ci];
                }
                out[((size_t)bi * T_out + t) * C_out + co] = s;
            }
}

void gw_conv1d_backward_naive(float *dinp, float *dw, float *db, const float *dout,
                              const float *inp, const float *w, int B, int T_in, int C_in,
                              int C_out, int K, int dilation, int pad_left) {
    int T_out = gw_conv1d_out_len(T_in, K, dilation, pad_left);
    for (int bi = 0; bi < B; bi++)
        for (int t = 0; t < T_out; t++)
            for (int co = 0; co < C_out; co++) {
                float g = dout[((size_t)bi * T_out + t) * C_out + co];
                if (db) db[co] += g;
                for (int k = 0; k < K; k++) {
                    int ts = t + k * dilation - pad_left;
                    if (ts < 0 || ts >= T_in) continue;
                    for (int ci = 0; ci < C_in; ci++) {
                        size_t wi = ((size_t)co * K + k) * C_in + ci;
                        size_t xi = ((size_t)bi * T_in + ts) * C_in + ci;
                        if (dw) dw[wi] += g * inp[xi];
                        if (dinp) dinp[xi] += g * w[wi];
                    }
                }
            }
}
