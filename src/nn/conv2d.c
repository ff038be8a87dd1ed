/* conv2d.c - geometry checks, workspace sizing and conv2d forward/backward
 * as im2col + one matrix product per chunk of images, beside the direct loops
 * that define them. conv_transpose2d.c holds the transposed layer. */
#include "nn/conv2d.h"
#include "nn/im2col.h"

#include <string.h>

/* Aim for about this many output columns per sgemm: the late layers have
 * 4x4 or 8x8 outputs per image, far too narrow for BLAS alone, so several
 * images share one product (measured with bench/conv2d.c). */
enum { CHUNK_COLUMNS = 2048, DIM_MAX = 1 << 20 };

static const char *layer_name(int transposed) {
    return transposed ? "conv_transpose2d" : "conv2d";
}

static gw_status check_common(int transposed, int B, int C_in, int H_in, int W_in, int C_out,
                              int KH, int KW, int stride, int pad, gw_error *err) {
    const char *name = layer_name(transposed);
    const int v[] = {B, C_in, H_in, W_in, C_out, KH, KW, stride};
    const char *what[] = {"batch", "C_in", "H_in", "W_in", "C_out", "KH", "KW", "stride"};
    for (int i = 0; i < 8; i++)
        if (v[i] < 1 || v[i] > DIM_MAX)
            return gw_fail(err, GW_ERR_ARG, "%s: %s = %d out of range 1..%d", name, what[i], v[i],
                           DIM_MAX);
    if (pad < 0 || pad > DIM_MAX)
        return gw_fail(err, GW_ERR_ARG, "%s: padding %d out of range 0..%d", name, pad, DIM_MAX);
    /* buffers are indexed with size_t but the grid arithmetic uses int */
    if ((double)C_in * KH * KW > DIM_MAX * 16.0 || (double)C_out * KH * KW > DIM_MAX * 16.0 ||
        (double)(H_in + 2 * pad) * (W_in + 2 * pad) * stride > DIM_MAX * 64.0)
        return gw_fail(err, GW_ERR_ARG, "%s: layer too large (%d x %d x %dx%d, input %dx%d)", name,
                       C_out, C_in, KH, KW, H_in, W_in);
    return GW_OK;
}

static void pick_chunk(gw_conv2d_dims *d) {
    /* the sgemm's column count is chunk x (grid of the lowered convolution) */
    int grid = d->transposed ? d->H_in * d->W_in : d->H_out * d->W_out;
    int nb = (CHUNK_COLUMNS + grid - 1) / grid;
    d->chunk = gw_conv_chunk(nb, d->B);
}

/* d for a conv2d whose input, padded with `top` rows above and `left`
 * columns left (and the rest below and right), is Hp x Wp */
static gw_status conv_dims_fill(gw_conv2d_dims *d, int B, int C_in, int H_in, int W_in, int C_out,
                                int KH, int KW, int stride, int pad, int top, int left, int Hp,
                                int Wp, gw_error *err) {
    if (Hp < KH || Wp < KW)
        return gw_fail(err, GW_ERR_ARG, "conv2d: kernel %dx%d larger than padded input %dx%d", KH,
                       KW, Hp, Wp);
    *d = (gw_conv2d_dims){.B = B, .C_in = C_in, .H_in = H_in, .W_in = W_in, .C_out = C_out,
                          .KH = KH, .KW = KW, .stride = stride, .pad = pad};
    d->pad_top = top, d->pad_left = left;
    d->H_out = (Hp - KH) / stride + 1;
    d->W_out = (Wp - KW) / stride + 1;
    pick_chunk(d);
    return GW_OK;
}

gw_status gw_conv2d_dims_init(gw_conv2d_dims *d, int B, int C_in, int H_in, int W_in, int C_out,
                              int KH, int KW, int stride, int pad, gw_error *err) {
    gw_status st = check_common(0, B, C_in, H_in, W_in, C_out, KH, KW, stride, pad, err);
    if (st) return st;
    return conv_dims_fill(d, B, C_in, H_in, W_in, C_out, KH, KW, stride, pad, pad, pad,
                          H_in + 2 * pad, W_in + 2 * pad, err);
}

gw_status gw_conv2d_dims_init_pads(gw_conv2d_dims *d, int B, int C_in, int H_in, int W_in,
                                   int C_out, int KH, int KW, int top, int bottom, int left,
                                   int right, gw_error *err) {
    const int pads[] = {top, bottom, left, right};
    for (int i = 0; i < 4; i++)
        if (pads[i] < 0 || pads[i] > DIM_MAX)
            return gw_fail(err, GW_ERR_ARG, "conv2d: padding %d out of range 0..%d", pads[i],
                           DIM_MAX);
    const int Hp = H_in + top + bottom, Wp = W_in + left + right;
    /* the symmetric checks on the padded size (pad 0) */
    gw_status st = check_common(0, B, C_in, Hp, Wp, C_out, KH, KW, 1, 0, err);
    if (st) return st;
    return conv_dims_fill(d, B, C_in, H_in, W_in, C_out, KH, KW, 1, 0, top, left, Hp, Wp, err);
}

gw_status gw_conv_transpose2d_dims_init(gw_conv2d_dims *d, int B, int C_in, int H_in, int W_in,
                                        int C_out, int KH, int KW, int stride, int pad,
                                        int out_pad, gw_error *err) {
    gw_status st = check_common(1, B, C_in, H_in, W_in, C_out, KH, KW, stride, pad, err);
    if (st) return st;
    /* as PyTorch: output padding only picks among the sizes a stride-s conv
     * maps to the same input size, so it must stay below the stride */
    if (out_pad < 0 || out_pad >= stride)
        return gw_fail(err, GW_ERR_ARG,
                       "conv_transpose2d: output padding %d must be in 0..stride-1 (stride %d)",
                       out_pad, stride);
    int H_out = (H_in - 1) * stride - 2 * pad + KH + out_pad;
    int W_out = (W_in - 1) * stride - 2 * pad + KW + out_pad;
    if (H_out < 1 || W_out < 1)
        return gw_fail(err, GW_ERR_ARG,
                       "conv_transpose2d: padding %d leaves an empty output (%dx%d)", pad, H_out,
                       W_out);
    *d = (gw_conv2d_dims){.B = B,
                          .C_in = C_in,
                          .H_in = H_in,
                          .W_in = W_in,
                          .C_out = C_out,
                          .H_out = H_out,
                          .W_out = W_out,
                          .KH = KH,
                          .KW = KW,
                          .stride = stride,
                          .pad = pad,
                          .pad_top = pad,
                          .pad_left = pad,
                          .out_pad = out_pad,
                          .transposed = 1};
    pick_chunk(d);
    return GW_OK;
}

size_t gw_conv2d_workspace_size(const gw_conv2d_dims *d) {
    /* col (rows, chunk grid) + the channel-major copy of the side that is not
     * lowered (chunk channels grid); see the kernels for which is which */
    size_t nb = (size_t)gw_conv_chunk(d->chunk, d->B);
    size_t grid, rows, chans;
    if (d->transposed) {
        grid = (size_t)d->H_in * d->W_in;
        rows = (size_t)d->C_out * d->KH * d->KW;
        chans = (size_t)d->C_in;
    } else {
        grid = (size_t)d->H_out * d->W_out;
        rows = (size_t)d->C_in * d->KH * d->KW;
        chans = (size_t)d->C_out;
    }
    /* each part rounded to 64 bytes so both start aligned */
    size_t lowered = gw_align64(rows * nb * grid * sizeof(float)) / sizeof(float) +
                     gw_align64(chans * nb * grid * sizeof(float)) / sizeof(float) +
                     gw_conv_sgemm_pack_size();
    /* the fused product needs only its packing buffers, one per thread */
    size_t fused = (size_t)GW_CONV_THREADS_MAX * gw_conv_sgemm_pack_size();
    return lowered > fused ? lowered : fused;
}

double gw_conv2d_macs(const gw_conv2d_dims *d) {
    double grid = d->transposed ? (double)d->H_in * d->W_in : (double)d->H_out * d->W_out;
    return (double)d->B * grid * d->C_in * d->C_out * d->KH * d->KW;
}

static gw_im2col_geom conv_geom(const gw_conv2d_dims *d) {
    gw_im2col_geom g = {.C = d->C_in, .H = d->H_in, .W = d->W_in, .Ho = d->H_out, .Wo = d->W_out};
    g.KH = d->KH, g.KW = d->KW, g.stride = d->stride, g.pad = d->pad_top, g.pad_w = d->pad_left;
    return g;
}

/* ---- fast kernels ---- */

void gw_conv2d_forward(float *out, const float *inp, const float *weight, const float *bias,
                       const gw_conv2d_dims *d, float *workspace) {
    const gw_im2col_geom g = conv_geom(d);
    const int K = d->C_in * d->KH * d->KW, hwo = d->H_out * d->W_out;
    const size_t in_sz = (size_t)d->C_in * d->H_in * d->W_in, out_sz = (size_t)d->C_out * hwo;
    if (gw_conv_fused_ok(d)) {
        // out (B, C_out, hwo) = weight (C_out, K) im2col(inp) (K, B hwo) + bias
        const gw_conv_a a = {.kind = GW_CONV_A_DENSE, .p = weight, .ld = K};
        const gw_conv_b b = {.kind = GW_CONV_B_IM2COL, .p = inp, .g = &g};
        const gw_conv_c c = {
            .kind = GW_CONV_C_NCHW, .p = out, .bias = bias, .hw = hwo, .bf16 = gw_conv_bf16(d)};
        gw_conv_gemm(d->C_out, d->B * hwo, K, &a, &b, &c, gw_conv_threads(), workspace);
        return;
    }
    const int chunk = gw_conv_chunk(d->chunk, d->B);
    for (int b0 = 0; b0 < d->B; b0 += chunk) {
        const int nb = d->B - b0 < chunk ? d->B - b0 : chunk, N = nb * hwo;
        float *col = workspace;                                               // (K, N)
        float *t = col + gw_align64((size_t)K * N * sizeof(float)) / sizeof(float); // (C_out, N)
        float *pack = t + gw_align64((size_t)d->C_out * N * sizeof(float)) / sizeof(float);
        gw_im2col(col, inp + b0 * in_sz, nb, &g);
        // t (C_out, N) = weight (C_out, K) col (K, N)
        gw_conv_sgemm_p(gw_conv_bf16(d), 0, 0, d->C_out, N, K, weight, K, col, N, 0.0f, t, N, pack);
        gw_cnhw_to_nchw(out + b0 * out_sz, t, bias, 0, nb, d->C_out, hwo);
    }
}

void gw_conv2d_backward(float *dinp, float *dweight, float *dbias, const float *dout,
                        const float *inp, const float *weight, const gw_conv2d_dims *d,
                        float *workspace) {
    const gw_im2col_geom g = conv_geom(d);
    const int K = d->C_in * d->KH * d->KW, hwo = d->H_out * d->W_out;
    const size_t in_sz = (size_t)d->C_in * d->H_in * d->W_in, out_sz = (size_t)d->C_out * hwo;
    if (dbias) gw_channel_sum(dbias, dout, d->B, d->C_out, hwo);
    if (!dinp && !dweight) return;
    if (gw_conv_fused_ok(d)) {
        const int T = gw_conv_threads(), N = d->B * hwo;
        const gw_conv_a da = {.kind = GW_CONV_A_NCHW, .p = dout, .hw = hwo};
        if (dweight) {
            // dweight (C_out, K) += dout (C_out, B hwo) im2col(inp)^T (B hwo, K)
            const gw_conv_b b = {.kind = GW_CONV_B_IM2COL_T, .p = inp, .g = &g};
            const gw_conv_c c = {.kind = GW_CONV_C_DENSE,
                                 .p = dweight,
                                 .ldc = K,
                                 .beta = 1.0f,
                                 .bf16 = gw_conv_bf16(d)};
            gw_conv_gemm(d->C_out, K, N, &da, &b, &c, T, workspace);
        }
        /* On one thread col2im of a column matrix (the lowered path below)
         * is ~15% faster than adding each register tile into the image (tiles
         * of neighbouring kernel rows overlap in the image, and each masked
         * read-modify-write waits for the last; bench/conv2d.c); on several
         * threads the fused product, which splits the images between them. */
        if (dinp && T > 1) {
            // dinp += col2im(weight^T (K, C_out) dout (C_out, B hwo))
            const gw_conv_a a = {.kind = GW_CONV_A_DENSE, .p = weight, .ld = K, .trans = 1};
            const gw_conv_b b = {.kind = GW_CONV_B_NCHW, .p = dout, .hw = hwo};
            const gw_conv_c c = {
                .kind = GW_CONV_C_COL2IM, .p = dinp, .g = &g, .bf16 = gw_conv_bf16(d)};
            gw_conv_gemm(K, N, d->C_out, &a, &b, &c, T, workspace);
        }
        if (!dinp || T > 1) return;
        dweight = NULL; /* done: only dinp is left for the lowered path */
    }
    const int chunk = gw_conv_chunk(d->chunk, d->B);
    for (int b0 = 0; b0 < d->B; b0 += chunk) {
        const int nb = d->B - b0 < chunk ? d->B - b0 : chunk, N = nb * hwo;
        float *col = workspace;                                               // (K, N)
        float *t = col + gw_align64((size_t)K * N * sizeof(float)) / sizeof(float); // (C_out, N)
        float *pack = t + gw_align64((size_t)d->C_out * N * sizeof(float)) / sizeof(float);
        gw_nchw_to_cnhw(t, dout + b0 * out_sz, nb, d->C_out, hwo);
        if (dweight) {
            gw_im2col(col, inp + b0 * in_sz, nb, &g);
            // dweight (C_out, K) += t (C_out, N) col^T (N, K)
            gw_conv_sgemm_p(gw_conv_bf16(d), 0, 1, d->C_out, K, N, t, N, col, N, 1.0f, dweight, K,
                            pack);
        }
        if (dinp) {
            // dcol (K, N) = weight^T (K, C_out) t (C_out, N), folded back onto the input
            gw_conv_sgemm_p(gw_conv_bf16(d), 1, 0, K, N, d->C_out, weight, K, t, N, 0.0f, col, N,
                            pack);
            gw_col2im(dinp + b0 * in_sz, col, nb, &g);
        }
    }
}

/* ---- direct loops: the definition the fast kernels are tested against ---- */

void gw_conv2d_forward_ref(float *out, const float *inp, const float *weight, const float *bias,
                           const gw_conv2d_dims *d) {
    const int Ci = d->C_in, Co = d->C_out, H = d->H_in, W = d->W_in, Ho = d->H_out, Wo = d->W_out,
              KH = d->KH, KW = d->KW, s = d->stride, p = d->pad_top, pw = d->pad_left;
    for (int b = 0; b < d->B; b++)
        for (int co = 0; co < Co; co++)
            for (int oh = 0; oh < Ho; oh++)
                for (int ow = 0; ow < Wo; ow++) {
                    float acc = bias ? bias[co] : 0.0f;
                    for (int ci = 0; ci < Ci; ci++)
                        for (int kh = 0; kh < KH; kh++) {
                            int ih = oh * s - p + kh;
                            if (ih < 0 || ih >= H) continue;
                            for (int kw = 0; kw < KW; kw++) {
                                int iw = ow * s - pw + kw;
                                if (iw < 0 || iw >= W) continue;
                                acc += inp[(((size_t)b * Ci + ci) * H + ih) * W + iw] *
                                       weight[(((size_t)co * Ci + ci) * KH + kh) * KW + kw];
                            }
                        }
                    out[(((size_t)b * Co + co) * Ho + oh) * Wo + ow] = acc;
                }
}

void gw_conv2d_backward_ref(float *dinp, float *dweight, float *dbias, const float *dout,
                            const float *inp, const float *weight, const gw_conv2d_dims *d) {
    const int Ci = d->C_in, Co = d->C_out, H = d->H_in, W = d->W_in, Ho = d->H_out, Wo = d->W_out,
              KH = d->KH, KW = d->KW, s = d->stride, p = d->pad_top, pw = d->pad_left;
    for (int b = 0; b < d->B; b++)
        for (int co = 0; co < Co; co++)
            for (int oh = 0; oh < Ho; oh++)
                for (int ow = 0; ow < Wo; ow++) {
                    float g = dout[(((size_t)b * Co + co) * Ho + oh) * Wo + ow];
                    if (dbias) dbias[co] += g;
                    for (int ci = 0; ci < Ci; ci++)
                        for (int kh = 0; kh < KH; kh++) {
                            int ih = oh * s - p + kh;
                            if (ih < 0 || ih >= H) continue;
                            for (int kw = 0; kw < KW; kw++) {
                                int iw = ow * s - pw + kw;
                                if (iw < 0 || iw >= W) continue;
                                size_t ii = (((size_t)b * Ci + ci) * H + ih) * W + iw;
                                size_t wi = (((size_t)co * Ci + ci) * KH + kh) * KW + kw;
                                if (dinp) dinp[ii] += g * weight[wi];
                                if (dweight) dweight[wi] += g * inp[ii];
                            }
                        }
                }
}
