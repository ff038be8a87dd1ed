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
    int KH, KW, stride;
    int pad, pad_w; /* zero rows above the image, zero columns left of it
                       (equal but for the PixelCNN's masked convolutions,
                       which pad one side only) */
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
/* the same with both operands rounded to bfloat16 and the products summed in
 * f32 (vdpbf16ps: twice the multiply-adds per instruction), on the calling
 * thread, where gw_conv_bf16_ok() and pack is given; gw_conv_sgemm otherwise */
void gw_conv_sgemm_bf16(int trans_a, int trans_b, int M, int N, int K, const float *A, int lda,
                        const float *B, int ldb, float beta, float *C, int ldc, float *pack);
/* whether this CPU runs the bf16 products (AVX-512 with AVX512_BF16) */
int gw_conv_bf16_ok(void);
/* the packed AVX-512 kernel itself (cblas_sgemm where not compiled in) and
 * whether this CPU can run it: the packed entry of nn/gemm.h's table, which
 * is how the rest of the core reaches it */
void gw_conv_sgemm_avx512(int trans_a, int trans_b, int M, int N, int K, const float *A, int lda,
                          const float *B, int ldb, float beta, float *C, int ldc, float *pack);
int gw_conv_sgemm_avx512_ok(void);

/* ---- the fused product (conv_gemm.c): C = op(A) B where B is read straight
 * from the images it lowers and C is written straight to where it belongs, so
 * neither the column matrix of im2col nor the (C, nb HW) copies of the plain
 * path are ever materialised ("implicit GEMM": the packing of the product's
 * B panels does the im2col, the store of each register tile does the col2im
 * or the NCHW reordering; Chetlur et al. 2014, "cuDNN: efficient primitives
 * for deep learning", section 3.1). Needs AVX-512 (gw_conv_sgemm_avx512_ok).
 *
 * Columns of B and C are "pixels" (n, oh, ow) of a chunk of nb images, or,
 * in the _T kinds, rows are. */
typedef enum gw_conv_a_kind {
    GW_CONV_A_DENSE = 0, /* A (M, K) at p with lda, or A^T (K, M) stored when trans */
    GW_CONV_A_NCHW,      /* A (M, nb hw): row m = channel m of img (nb, M, hw) */
} gw_conv_a_kind;

typedef struct gw_conv_a {
    gw_conv_a_kind kind;
    const float *p;
    int ld, trans; /* DENSE */
    int hw;        /* NCHW */
} gw_conv_a;

typedef enum gw_conv_b_kind {
    GW_CONV_B_DENSE = 0, /* B (K, N) at p with leading dimension ld */
    GW_CONV_B_NCHW,      /* B (K, nb hw): row k = channel k of img (nb, K, hw) */
    GW_CONV_B_IM2COL,    /* B (C KH KW, nb Ho Wo) = im2col(img (nb, C, H, W)) of g */
    GW_CONV_B_IM2COL_T,  /* B (nb Ho Wo, C KH KW) = im2col(img)^T */
} gw_conv_b_kind;

typedef struct gw_conv_b {
    gw_conv_b_kind kind;
    const float *p;         /* the matrix or the images */
    int ld;                 /* DENSE */
    int hw;                 /* NCHW: pixels per image */
    const gw_im2col_geom *g; /* IM2COL, IM2COL_T */
} gw_conv_b;

typedef enum gw_conv_c_kind {
    GW_CONV_C_DENSE = 0, /* C (M, N) at p with ldc: C = AB + beta C */
    GW_CONV_C_NCHW,      /* out (nb, M, hw) = AB + bias (accumulate 0) or += AB (1) */
    GW_CONV_C_COL2IM,    /* img (nb, C, H, W) += col2im(AB) of g, AB (C KH KW, nb Ho Wo) */
} gw_conv_c_kind;

typedef struct gw_conv_c {
    gw_conv_c_kind kind;
    float *p;
    int ldc;               /* DENSE */
    float beta;            /* DENSE */
    const float *bias;     /* NCHW, (M) or NULL */
    int hw, accumulate;    /* NCHW */
    const gw_im2col_geom *g; /* COL2IM */
    int bf16;                /* 1: A and B rounded to bfloat16, the products summed in
                                f32 (mixed precision), where gw_conv_bf16_ok(); f32
                                elsewhere (gw_conv_gemm_ref always rounds: it is the
                                definition) */
} gw_conv_c;

enum { GW_CONV_THREADS_MAX = 4 };

/* C (M, N) <- A (M, K) B (K, N) as the kinds say, on `threads` threads
 * (1..GW_CONV_THREADS_MAX; they take blocks of columns from a shared
 * counter, whole images for COL2IM so no two add into the same one). pack
 * holds threads x gw_conv_sgemm_pack_size() floats. Without AVX-512 it is
 * gw_conv_gemm_ref (the conv layers then take the lowered path instead). */
void gw_conv_gemm(int M, int N, int K, const gw_conv_a *a, const gw_conv_b *b, const gw_conv_c *c,
                  int threads, float *pack);
/* threads for the convolutions: OpenBLAS's count, 1..GW_CONV_THREADS_MAX */
int gw_conv_threads(void);
struct gw_conv2d_dims;
/* whether d takes the fused product (AVX-512 and not forced lowered) */
int gw_conv_fused_ok(const struct gw_conv2d_dims *d);
/* whether d's products run in bf16: asked for (d->bf16) and run here
 * (gw_conv_bf16_ok) */
int gw_conv_bf16(const struct gw_conv2d_dims *d);
/* gw_conv_sgemm_bf16 where bf16, gw_conv_sgemm otherwise: the lowered
 * convolutions' and the dense layers' product */
void gw_conv_sgemm_p(int bf16, int trans_a, int trans_b, int M, int N, int K, const float *A,
                     int lda, const float *B, int ldb, float beta, float *C, int ldc, float *pack);
/* the same by the definitions: A and B read element by element, the product
 * in double, C written through its definition; for tests */
void gw_conv_gemm_ref(int M, int N, int K, const gw_conv_a *a, const gw_conv_b *b,
                      const gw_conv_c *c);

#endif
