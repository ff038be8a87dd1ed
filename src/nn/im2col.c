#include "nn/im2col.h"
#include "nn/vmath.h"

#include <string.h>

/* The grid positions ow with 0 <= ow * stride - pad + k < W (pad: the
 * columns left of the image) form one run
 * [lo, hi): everything left of it reads the left zero padding, everything
 * right of it the right padding. */
static void tap_range(int *lo, int *hi, int k, int W, int Wo, int stride, int pad) {
    int off = pad - k; /* iw = ow * stride - off */
    int l = off > 0 ? (off + stride - 1) / stride : 0;
    int h = (W - 1 + off) >= 0 ? (W - 1 + off) / stride + 1 : 0;
    if (l > Wo) l = Wo;
    if (h > Wo) h = Wo;
    if (h < l) h = l;
    *lo = l;
    *hi = h;
}

void gw_im2col(float *col, const float *img, int nb, const gw_im2col_geom *g) {
    const int C = g->C, H = g->H, W = g->W, Ho = g->Ho, Wo = g->Wo;
    const int KH = g->KH, KW = g->KW, s = g->stride, p = g->pad, pw = g->pad_w;
    const size_t hwo = (size_t)Ho * Wo, n_cols = (size_t)nb * hwo, hw = (size_t)H * W;
    for (int c = 0; c < C; c++)
        for (int kh = 0; kh < KH; kh++)
            for (int kw = 0; kw < KW; kw++) {
                float *row = col + ((size_t)(c * KH + kh) * KW + kw) * n_cols;
                int lo, hi;
                tap_range(&lo, &hi, kw, W, Wo, s, pw);
                for (int n = 0; n < nb; n++) {
                    const float *src = img + ((size_t)n * C + c) * hw;
                    for (int oh = 0; oh < Ho; oh++) {
                        float *dst = row + n * hwo + (size_t)oh * Wo;
                        int ih = oh * s - p + kh;
                        if (ih < 0 || ih >= H) {
                            memset(dst, 0, sizeof(float) * Wo);
                            continue;
                        }
                        const float *srow = src + (size_t)ih * W;
                        const int off = kw - pw; /* ow * s + off >= 0 from lo on */
                        for (int ow = 0; ow < lo; ow++) dst[ow] = 0.0f;
                        if (s == 1) {
                            memcpy(dst + lo, srow + lo + off, sizeof(float) * (hi - lo));
                        } else if (s == 2) {
                            /* constant stride: vectorised with even/odd permutes */
                            for (int ow = lo; ow < hi; ow++) dst[ow] = srow[2 * ow + off];
                        } else {
                            for (int ow = lo; ow < hi; ow++) dst[ow] = srow[ow * s + off];
                        }
                        for (int ow = hi; ow < Wo; ow++) dst[ow] = 0.0f;
                    }
                }
            }
}

/* Stride 2: taps kw and kw + 1 land on the even and odd pixels of the same
 * stretch of an image row, so adding both at once is one contiguous
 * interleaved update the compiler vectorises, where one tap alone is a
 * stride-2 scatter it cannot. Both taps' ranges are handled exactly. */
static void col2im_pair(float *img, const float *row, const float *row2, int lo, int hi, int nb,
                        int c, int kh, int kw, const gw_im2col_geom *g) {
    const int C = g->C, H = g->H, W = g->W, Ho = g->Ho, Wo = g->Wo, p = g->pad, pw = g->pad_w;
    const size_t hwo = (size_t)Ho * Wo, hw = (size_t)H * W;
    int lo2, hi2;
    tap_range(&lo2, &hi2, kw + 1, W, Wo, 2, pw);
    const int a = lo > lo2 ? lo : lo2;
    int b = hi < hi2 ? hi : hi2;
    if (b < a) b = a;
    const int e1 = a < hi ? a : hi, e2 = a < hi2 ? a : hi2;
    const int s1 = b > lo ? b : lo, s2 = b > lo2 ? b : lo2;
    const int off = kw - pw;
    for (int n = 0; n < nb; n++) {
        float *dst = img + ((size_t)n * C + c) * hw;
        for (int oh = 0; oh < Ho; oh++) {
            int ih = oh * 2 - p + kh;
            if (ih < 0 || ih >= H) continue;
            const float *x = row + n * hwo + (size_t)oh * Wo, *y = row2 + n * hwo + (size_t)oh * Wo;
            float *d = dst + (size_t)ih * W;
            for (int ow = lo; ow < e1; ow++) d[2 * ow + off] += x[ow];
            for (int ow = lo2; ow < e2; ow++) d[2 * ow + off + 1] += y[ow];
            for (int ow = a; ow < b; ow++) {
                d[2 * ow + off] += x[ow];
                d[2 * ow + off + 1] += y[ow];
            }
            for (int ow = s1; ow < hi; ow++) d[2 * ow + off] += x[ow];
            for (int ow = s2; ow < hi2; ow++) d[2 * ow + off + 1] += y[ow];
        }
    }
}

void gw_col2im(float *img, const float *col, int nb, const gw_im2col_geom *g) {
    const int C = g->C, H = g->H, W = g->W, Ho = g->Ho, Wo = g->Wo;
    const int KH = g->KH, KW = g->KW, s = g->stride, p = g->pad, pw = g->pad_w;
    const size_t hwo = (size_t)Ho * Wo, n_cols = (size_t)nb * hwo, hw = (size_t)H * W;
    for (int c = 0; c < C; c++)
        for (int kh = 0; kh < KH; kh++)
            for (int kw = 0; kw < KW; kw++) {
                const float *row = col + ((size_t)(c * KH + kh) * KW + kw) * n_cols;
                int lo, hi;
                tap_range(&lo, &hi, kw, W, Wo, s, pw);
                if (s == 2 && kw + 1 < KW) {
                    col2im_pair(img, row, row + n_cols, lo, hi, nb, c, kh, kw, g);
                    kw++;
                    continue;
                }
                for (int n = 0; n < nb; n++) {
                    float *dst = img + ((size_t)n * C + c) * hw;
                    for (int oh = 0; oh < Ho; oh++) {
                        int ih = oh * s - p + kh;
                        if (ih < 0 || ih >= H) continue;
                        const float *src = row + n * hwo + (size_t)oh * Wo;
                        float *drow = dst + (size_t)ih * W;
                        const int off = kw - pw;
                        for (int ow = lo; ow < hi; ow++) drow[ow * s + off] += src[ow];
                    }
                }
            }
}

void gw_nchw_to_cnhw(float *t, const float *a, int nb, int C, int HW) {
    for (int n = 0; n < nb; n++)
        for (int c = 0; c < C; c++)
            memcpy(t + ((size_t)c * nb + n) * HW, a + ((size_t)n * C + c) * HW,
                   sizeof(float) * HW);
}

void gw_cnhw_to_nchw(float *a, const float *t, const float *bias, int accumulate, int nb, int C,
                     int HW) {
    for (int n = 0; n < nb; n++)
        for (int c = 0; c < C; c++) {
            float *dst = a + ((size_t)n * C + c) * HW;
            const float *src = t + ((size_t)c * nb + n) * HW;
            if (accumulate) {
                for (int i = 0; i < HW; i++) dst[i] += src[i];
            } else {
                float b0 = bias ? bias[c] : 0.0f;
                for (int i = 0; i < HW; i++) dst[i] = src[i] + b0;
            }
        }
}

void gw_channel_sum(float *dbias, const float *a, int nb, int C, int HW) {
    for (int n = 0; n < nb; n++)
        for (int c = 0; c < C; c++) {
            dbias[c] += gw_vsum(a + ((size_t)n * C + c) * HW, (size_t)HW);
        }
}
