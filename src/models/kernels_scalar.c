/* kernels_scalar.c - naive reference versions of the fast-WaveNet kernels
 * (wavenet_kernels.h), the weight packer, and the run-time choice of ISA.
 * The SIMD kernels are tested against these. */
#include "models/wavenet_kernels.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void gw_wn_pack(float *dst, const float *W, int M, int N) {
    int Mp = gw_wn_pad16(M);
    for (int r0 = 0; r0 < Mp; r0 += GW_WN_BLOCK) {
        int bw = Mp - r0 < GW_WN_BLOCK ? Mp - r0 : GW_WN_BLOCK;
        float *blk = dst + (size_t)r0 * N;
        for (int k = 0; k < N; k++)
            for (int i = 0; i < bw; i++) {
                int r = r0 + i;
                blk[(size_t)k * bw + i] = r < M ? W[(size_t)r * N + k] : 0.0f;
            }
    }
}

/* W[r][k] of a packed matrix */
static float packed_at(const float *W, int N, int Mp, int r, int k) {
    int r0 = r / GW_WN_BLOCK * GW_WN_BLOCK;
    int bw = Mp - r0 < GW_WN_BLOCK ? Mp - r0 : GW_WN_BLOCK;
    return W[(size_t)r0 * N + (size_t)k * bw + (r - r0)];
}

static void matvec_scalar(float *y, int y_stride, const float *W, const float *x, int x_stride,
                          const float *bias, int bias_stride, const float *add, int add_stride,
                          int Mp, int N, int B, int relu) {
    for (int v = 0; v < B; v++)
        for (int r = 0; r < Mp; r++) {
            float s = 0.0f;
            for (int k = 0; k < N; k++) s += packed_at(W, N, Mp, r, k) * x[(size_t)v * x_stride + k];
            if (bias) s += bias[(size_t)v * bias_stride + r];
            if (add) s += add[(size_t)v * add_stride + r];
            if (relu && s < 0.0f) s = 0.0f;
            y[(size_t)v * y_stride + r] = s;
        }
}

static void gate_scalar(float *z, int z_stride, const float *h, int h_stride, int Gp, int B) {
    for (int v = 0; v < B; v++)
        for (int i = 0; i < Gp; i++) {
            const float *hv = h + (size_t)v * h_stride;
            z[(size_t)v * z_stride + i] = tanhf(hv[i]) / (1.0f + expf(-hv[Gp + i]));
        }
}

static float softmax_exp_scalar(float *p, const float *logits, int n, float inv_t) {
    float m = logits[0];
    for (int i = 1; i < n; i++)
        if (logits[i] > m) m = logits[i];
    float sum = 0.0f;
    for (int i = 0; i < n; i++) sum += p[i] = expf((logits[i] - m) * inv_t);
    return sum;
}

const gw_wn_kernels gw_wn_kernels_scalar = {
    .name = "scalar",
    .matvec = matvec_scalar,
    .gate = gate_scalar,
    .softmax_exp = softmax_exp_scalar,
};

const gw_wn_kernels *gw_wn_kernels_best(void) {
    const char *cap = getenv("GW_WAVENET_ISA");
    if (cap && !strcmp(cap, "scalar")) return &gw_wn_kernels_scalar;
    const gw_wn_kernels *k = NULL;
    if (!(cap && !strcmp(cap, "avx2"))) k = gw_wn_kernels_avx512();
    if (!k) k = gw_wn_kernels_avx2();
    return k ? k : &gw_wn_kernels_scalar;
}
