/* conv_transpose2d.c - the transposed convolution, i.e. the adjoint of
 * conv2d in its input (Dumoulin and Visin 2016, "A guide to convolution
 * arithmetic for deep learning", section 4): forward is conv2d's input
 * gradient, so it lowers to sgemm + col2im, and its backward to im2col +
 * sgemm. Here the lowered "image" is the output and the grid the input. */
#include "nn/conv2d.h"
#include "nn/im2col.h"

#include <string.h>

static gw_im2col_geom convt_geom(const gw_conv2d_dims *d) {
    gw_im2col_geom g = {.C = d->C_out, .H = d->H_out, .W = d->W_out, .Ho = d->H_in, .Wo = d->W_in};
    g.KH = d->KH, g.KW = d->KW, g.stride = d->stride, g.pad = d->pad, g.pad_w = d->pad;
    return g;
}

void gw_conv_transpose2d_forward(float *out, const float *inp, const float *weight,
                                 const float *bias, const gw_conv2d_dims *d, float *workspace) {
    const gw_im2col_geom g = convt_geom(d);
    const int K = d->C_out * d->KH * d->KW, hwi = d->H_in * d->W_in, hwo = d->H_out * d->W_out;
    const size_t in_sz = (size_t)d->C_in * hwi, out_sz = (size_t)d->C_out * hwo;
    for (int b = 0; b < d->B; b++)
        for (int co = 0; co < d->C_out; co++) {
            float *p = out + b * out_sz + (size_t)co * hwo;
            float b0 = bias ? bias[co] : 0.0f;
            for (int i = 0; i < hwo; i++) p[i] = b0;
        }
    /* one thread: col2im of a column matrix wins (see gw_conv2d_backward) */
    if (gw_conv_fused_ok(d) && gw_conv_threads() > 1) {
        // out += col2im(weight^T (K, C_in) inp (C_in, B hwi))
        const gw_conv_a a = {.kind = GW_CONV_A_DENSE, .p = weight, .ld = K, .trans = 1};
        const gw_conv_b b = {.kind = GW_CONV_B_NCHW, .p = inp, .hw = hwi};
        const gw_conv_c c = {.kind = GW_CONV_C_COL2IM, .p = out, .g = &g, .bf16 = gw_conv_bf16(d)};
        gw_conv_gemm(K, d->B * hwi, d->C_in, &a, &b, &c, gw_conv_threads(), workspace);
        return;
    }
    const int chunk = gw_conv_chunk(d->chunk, d->B);
    for (int b0 = 0; b0 < d->B; b0 += chunk) {
        const int nb = d->B - b0 < chunk ? d->B - b0 : chunk, N = nb * hwi;
        float *col = workspace;                                               // (K, N)
        float *t = col + gw_align64((size_t)K * N * sizeof(float)) / sizeof(float); // (C_in, N)
        float *pack = t + gw_align64((size_t)d->C_in * N * sizeof(float)) / sizeof(float);
        gw_nchw_to_cnhw(t, inp + b0 * in_sz, nb, d->C_in, hwi);
        // col (K, N) = weight^T (K, C_in) t (C_in, N)
        gw_conv_sgemm_p(gw_conv_bf16(d), 1, 0, K, N, d->C_in, weight, K, t, N, 0.0f, col, N, pack);
        gw_col2im(out + b0 * out_sz, col, nb, &g);
    }
}

void gw_conv_transpose2d_backward(float *dinp, float *dweight, float *dbias, const float *dout,
                                  const float *inp, const float *weight,
                                  const gw_conv2d_dims *d, float *workspace) {
    const gw_im2col_geom g = convt_geom(d);
    const int K = d->C_out * d->KH * d->KW, hwi = d->H_in * d->W_in, hwo = d->H_out * d->W_out;
    const size_t in_sz = (size_t)d->C_in * hwi, out_sz = (size_t)d->C_out * hwo;
    if (dbias) gw_channel_sum(dbias, dout, d->B, d->C_out, hwo);
    if (!dinp && !dweight) return;
    if (gw_conv_fused_ok(d)) {
        const int T = gw_conv_threads(), N = d->B * hwi;
        if (dweight) {
            // dweight (C_in, K) += inp (C_in, B hwi) im2col(dout)^T (B hwi, K)
            const gw_conv_a a = {.kind = GW_CONV_A_NCHW, .p = inp, .hw = hwi};
            const gw_conv_b b = {.kind = GW_CONV_B_IM2COL_T, .p = dout, .g = &g};
            const gw_conv_c c = {.kind = GW_CONV_C_DENSE,
                                 .p = dweight,
                                 .ldc = K,
                                 .beta = 1.0f,
                                 .bf16 = gw_conv_bf16(d)};
            gw_conv_gemm(d->C_in, K, N, &a, &b, &c, T, workspace);
        }
        if (dinp) {
            // dinp (B, C_in, hwi) += weight (C_in, K) im2col(dout) (K, B hwi)
            const gw_conv_a a = {.kind = GW_CONV_A_DENSE, .p = weight, .ld = K};
            const gw_conv_b b = {.kind = GW_CONV_B_IM2COL, .p = dout, .g = &g};
            const gw_conv_c c = {.kind = GW_CONV_C_NCHW,
                                 .p = dinp,
                                 .hw = hwi,
                                 .accumulate = 1,
                                 .bf16 = gw_conv_bf16(d)};
            gw_conv_gemm(d->C_in, N, K, &a, &b, &c, T, workspace);
        }
        return;
    }
    const int chunk = gw_conv_chunk(d->chunk, d->B);
    for (int b0 = 0; b0 < d->B; b0 += chunk) {
        const int nb = d->B - b0 < chunk ? d->B - b0 : chunk, N = nb * hwi;
        float *col = workspace;                                               // (K, N)
        float *t = col + gw_align64((size_t)K * N * sizeof(float)) / sizeof(float); // (C_in, N)
        float *pack = t + gw_align64((size_t)d->C_in * N * sizeof(float)) / sizeof(float);
        gw_im2col(col, dout + b0 * out_sz, nb, &g);
        if (dweight) {
            gw_nchw_to_cnhw(t, inp + b0 * in_sz, nb, d->C_in, hwi);
            // dweight (C_in, K) += t (C_in, N) col^T (N, K)
            gw_conv_sgemm_p(gw_conv_bf16(d), 0, 1, d->C_in, K, N, t, N, col, N, 1.0f, dweight, K,
                            pack);
        }
        if (dinp) {
            // t (C_in, N) = weight (C_in, K) col (K, N), added back in NCHW order
            gw_conv_sgemm_p(gw_conv_bf16(d), 0, 0, d->C_in, N, K, weight, K, col, N, 0.0f, t, N,
                            pack);
            gw_cnhw_to_nchw(dinp + b0 * in_sz, t, NULL, 1, nb, d->C_in, hwi);
        }
    }
}

/* ---- direct loops (PyTorch's definition: every input pixel scatters its
 * kernel-weighted copy into the output at stride spacing, shifted by -pad) */

void gw_conv_transpose2d_forward_ref(float *out, const float *inp, const float *weight,
                                     const float *bias, const gw_conv2d_dims *d) {
    const int Ci = d->C_in, Co = d->C_out, H = d->H_in, W = d->W_in, Ho = d->H_out,
              Wo = d->W_out, KH = d->KH, KW = d->KW, s = d->stride, p = d->pad;
    for (int b = 0; b < d->B; b++)
        for (int co = 0; co < Co; co++)
            for (size_t i = 0; i < (size_t)Ho * Wo; i++)
                out[((size_t)b * Co + co) * Ho * Wo + i] = bias ? bias[co] : 0.0f;
    for (int b = 0; b < d->B; b++)
        for (int ci = 0; ci < Ci; ci++)
            for (int ih = 0; ih < H; ih++)
                for (int iw = 0; iw < W; iw++) {
                    float x = inp[(((size_t)b * Ci + ci) * H + ih) * W + iw];
                    for (int co = 0; co < Co; co++)
                        for (int kh = 0; kh < KH; kh++) {
                            int oh = ih * s - p + kh;
                            if (oh < 0 || oh >= Ho) continue;
                            for (int kw = 0; kw < KW; kw++) {
                                int ow = iw * s - p + kw;
                                if (ow < 0 || ow >= Wo) continue;
                                out[(((size_t)b * Co + co) * Ho + oh) * Wo + ow] +=
                                    x * weight[(((size_t)ci * Co + co) * KH + kh) * KW + kw];
                            }
                        }
                }
}

void gw_conv_transpose2d_backward_ref(float *dinp, float *dweight, float *dbias,
                                      const float *dout, const float *inp, const float *weight,
                                      const gw_conv2d_dims *d) {
    const int Ci = d->C_in, Co = d->C_out, H = d->H_in, W = d->W_in, Ho = d->H_out,
              Wo = d->W_out, KH = d->KH, KW = d->KW, s = d->stride, p = d->pad;
    if (dbias)
        for (int b = 0; b < d->B; b++)
            for (int co = 0; co < Co; co++)
                for (size_t i = 0; i < (size_t)Ho * Wo; i++)
                    dbias[co] += dout[((size_t)b * Co + co) * Ho * Wo + i];
    for (int b = 0; b < d->B; b++)
        for (int ci = 0; ci < Ci; ci++)
            for (int ih = 0; ih < H; ih++)
                for (int iw = 0; iw < W; iw++) {
                    size_t ii = (((size_t)b * Ci + ci) * H + ih) * W + iw;
                    float acc = 0.0f;
                    for (int co = 0; co < Co; co++)
                        for (int kh = 0; kh < KH; kh++) {
                            int oh = ih * s - p + kh;
                            if (oh < 0 || oh >= Ho) continue;
                            for (int kw = 0; kw < KW; kw++) {
                                int ow = iw * s - p + kw;
                                if (ow < 0 || ow >= Wo) continue;
                                size_t wi = (((size_t)ci * Co + co) * KH + kh) * KW + kw;
                                float g = dout[(((size_t)b * Co + co) * Ho + oh) * Wo + ow];
                                acc += g * weight[wi];
                                if (dweight) dweight[wi] += g * inp[ii];
                            }
                        }
                    if (dinp) dinp[ii] += acc;
                }
}
