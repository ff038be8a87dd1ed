/* im2col.h - internal to src/nn: the lowering that turns a convolution into
 * one matrix product (Chellapilla et al. 2006, "High performance convolutional
 * neural networks for document processing").
 *
 * An "image" (C, H, W) is seen through a kernel (KH, KW) moved with the given
 * stride and zero padding over a grid (Ho, Wo). For conv2d the image is the
 * input and the grid its output; for conv_transpose2d the image is the output
 * and the grid its input. A chunk of nb images, nb * C * H * W contiguous
 * floats, maps to the column matrix
 *     col (C KH KW, nb Ho Wo): row (c, kh, kw), column (n, oh, ow)
 * so one sgemm covers the whole chunk.
 */
#ifndef GW_NN_IM2COL_H
#define GW_NN_IM2COL_H

#include <stddef.h>

typedef struct gw_im2col_geom {
    int C, H, W;     /* image */
    int Ho, Wo;      /* grid */
    int KH, KW, stride, pad;
} gw_im2col_geom;

/* col = im2col(img) for nb images; out-of-image taps read as 0 */
void gw_im2col(float *col,       // (C KH KW, nb Ho Wo)
               const float *img, // (nb, C, H, W)
               int nb, const gw_im2col_geom *g);
/* img += col2im(col), the adjoint of gw_im2col */
void gw_col2im(float *img,       // (nb, C, H, W)
               const float *col, // (C KH KW, nb Ho Wo)
               int nb, const gw_im2col_geom *g);

/* images per product: d->chunk clamped to 1..B, so a caller's bad value can
 * neither loop forever nor overrun the workspace it sized with it */
static inline int gw_conv_chunk(int chunk, int B) {
    return chunk < 1 ? 1 : chunk > B ? B : chunk;
}

/* t (C, nb HW) <- a (nb, C, HW) and back: channel-major for the sgemm */
void gw_nchw_to_cnhw(float *t, const float *a, int nb, int C, int HW);
/* a (nb, C, HW) = t (C, nb HW) (+ bias[c] if bias) or a += t when accumulate */
void gw_cnhw_to_nchw(float *a, const float *t, const float *bias, int accumulate, int nb, int C,
                     int HW);

/* dbias[c] += sum of a (nb, C, HW) over n and HW: the bias gradient */
void gw_channel_sum(float *dbias, const float *a, int nb, int C, int HW);

/* C (M, N) = op(A) op(B) + beta C, all row-major; op(X) = X^T when trans_x.
 * AVX-512 kernel on one BLAS thread when pack (gw_conv_sgemm_pack_size()
 * floats of scratch) is given, cblas_sgemm otherwise (conv_gemm.c) */
void gw_conv_sgemm(int trans_a, int trans_b, int M, int N, int K, const float *A, int lda,
                   const float *B, int ldb, float beta, float *C, int ldc, float *pack);
size_t gw_conv_sgemm_pack_size(void);
/* the packed AVX-512 kernel itself (cblas_sgemm where not compiled in) and
 * whether this CPU can run it */
void gw_conv_sgemm_avx512(int trans_a, int trans_b, int M, int N, int K, const float *A, int lda,
                          const float *B, int ldb, float beta, float *C, int ldc, float *pack);
int gw_conv_sgemm_avx512_ok(void);
/* the same product as direct loops in double, for tests */
void gw_conv_sgemm_ref(int trans_a, int trans_b, int M, int N, int K, const float *A, int lda,
                       const float *B, int ldb, float beta, float *C, int ldc);

#endif
