/* conv2d.h - 2-D convolution, transposed convolution and spectral
 * normalisation, the layers the spectrogram GAN and VAE stand on.
 *
 * Layout NCHW, float32, batched. Semantics match PyTorch exactly:
 *   conv2d:           nn.Conv2d(C_in, C_out, (KH, KW), stride, padding)
 *                     weight (C_out, C_in, KH, KW), bias (C_out)
 *                     H_out = (H_in + 2 pad - KH) / stride + 1
 *   conv_transpose2d: nn.ConvTranspose2d(C_in, C_out, (KH, KW), stride,
 *                     padding, output_padding), weight (C_in, C_out, KH, KW)
 *                     H_out = (H_in - 1) stride - 2 pad + KH + out_pad
 * Padding and stride are the same along both axes, except that
 * gw_conv2d_dims_init_pads gives a convolution its own zero padding on each
 * side (the PixelCNN's masked convolutions: rows above only, columns on
 * one side), read in place with no padded copy of the input.
 *
 * Fast kernels are one matrix product per layer and pass. With AVX-512 it
 * is fused: the product's packing reads the im2col lowering straight from
 * the images and its register tiles are added straight into NCHW outputs or
 * col2im'ed into images, on as many threads as OpenBLAS is set to (up to
 * GW_CONV_THREADS_MAX, sharing out blocks of columns). The lowered path (no
 * AVX-512, or dims.lowered = 1) materialises im2col / col2im for chunks of
 * `chunk` images (so the small late layers still give the product a wide
 * matrix) and multiplies with cblas_sgemm (see docs/nn.md). They need a
 * caller-owned workspace of gw_conv2d_workspace_size() floats (64-byte
 * aligned is best, e.g. gw_alloc) and never allocate; one workspace may be
 * shared by layers run one after another. The *_ref kernels are the direct
 * loops they are tested against.
 *
 * Kernels follow llm.c: outputs first, then const inputs, then settings.
 * Forward OVERWRITES its output; backward ACCUMULATES (+=) into dinp,
 * dweight, dbias, and any of those may be NULL to skip it. The workspace is
 * scratch only: nothing needs to be kept from forward to backward.
 */
#ifndef GW_NN_CONV2D_H
#define GW_NN_CONV2D_H

#include "base/gw_base.h"

#include <stddef.h>

/* Geometry of one convolution layer; fill it with gw_conv2d_dims_init or
 * gw_conv_transpose2d_dims_init, which check every value. */
typedef struct gw_conv2d_dims {
    int B;                  /* batch */
    int C_in, H_in, W_in;   /* input (B, C_in, H_in, W_in) */
    int C_out, H_out, W_out; /* output (B, C_out, H_out, W_out), computed */
    int KH, KW;             /* kernel */
    int stride, pad;
    int pad_top, pad_left;  /* zero rows above / columns left of the input:
                               pad, but for gw_conv2d_dims_init_pads */
    int out_pad;            /* transposed only (0 for conv2d), < stride */
    int transposed;         /* 1 for conv_transpose2d */
    int chunk;              /* images per sgemm, 1..B; set by init, may be
                               lowered by the caller to shrink the workspace */
    int lowered;            /* 0 (init): with AVX-512, the fused product that
                               reads and writes the images in place (no column
                               matrix); 1: im2col / col2im through the
                               workspace, `chunk` images per product (the
                               path without AVX-512) */
    int bf16;               /* 0 (init): f32 products; 1: mixed precision, the
                               products' operands rounded to bfloat16 and summed
                               in f32, where the CPU has AVX512_BF16
                               (gw_conv_bf16_ok; f32 elsewhere) */
} gw_conv2d_dims;

gw_status gw_conv2d_dims_init(gw_conv2d_dims *d, int B, int C_in, int H_in, int W_in, int C_out,
                              int KH, int KW, int stride, int pad, gw_error *err);
/* conv2d with stride 1 and `top` zero rows above the input, `bottom`
 * below, `left` columns left of it and `right` right of it:
 * H_out = H_in + top + bottom - KH + 1 (pad is left 0) */
gw_status gw_conv2d_dims_init_pads(gw_conv2d_dims *d, int B, int C_in, int H_in, int W_in,
                                   int C_out, int KH, int KW, int top, int bottom, int left,
                                   int right, gw_error *err);
gw_status gw_conv_transpose2d_dims_init(gw_conv2d_dims *d, int B, int C_in, int H_in, int W_in,
                                        int C_out, int KH, int KW, int stride, int pad,
                                        int out_pad, gw_error *err);

/* floats of workspace the fast kernels of d need (forward and backward) */
size_t gw_conv2d_workspace_size(const gw_conv2d_dims *d);
/* multiply-adds of one forward pass of d (backward is twice that) */
double gw_conv2d_macs(const gw_conv2d_dims *d);

/* ---- conv2d ---- */
void gw_conv2d_forward(float *out,          // (B, C_out, H_out, W_out)
                       const float *inp,    // (B, C_in, H_in, W_in)
                       const float *weight, // (C_out, C_in, KH, KW)
                       const float *bias,   // (C_out) or NULL
                       const gw_conv2d_dims *d, float *workspace);
void gw_conv2d_backward(float *dinp,          // (B, C_in, H_in, W_in) or NULL
                        float *dweight,       // (C_out, C_in, KH, KW) or NULL
                        float *dbias,         // (C_out) or NULL
                        const float *dout,    // (B, C_out, H_out, W_out)
                        const float *inp,     // (B, C_in, H_in, W_in)
                        const float *weight,  // (C_out, C_in, KH, KW)
                        const gw_conv2d_dims *d, float *workspace);
void gw_conv2d_forward_ref(float *out, const float *inp, const float *weight, const float *bias,
                           const gw_conv2d_dims *d);
void gw_conv2d_backward_ref(float *dinp, float *dweight, float *dbias, const float *dout,
                            const float *inp, const float *weight, const gw_conv2d_dims *d);

/* ---- transposed conv2d (the adjoint of conv2d in its input) ---- */
void gw_conv_transpose2d_forward(float *out,          // (B, C_out, H_out, W_out)
                                 const float *inp,    // (B, C_in, H_in, W_in)
                                 const float *weight, // (C_in, C_out, KH, KW)
                                 const float *bias,   // (C_out) or NULL
                                 const gw_conv2d_dims *d, float *workspace);
void gw_conv_transpose2d_backward(float *dinp,         // (B, C_in, H_in, W_in) or NULL
                                  float *dweight,      // (C_in, C_out, KH, KW) or NULL
                                  float *dbias,        // (C_out) or NULL
                                  const float *dout,   // (B, C_out, H_out, W_out)
                                  const float *inp,    // (B, C_in, H_in, W_in)
                                  const float *weight, // (C_in, C_out, KH, KW)
                                  const gw_conv2d_dims *d, float *workspace);
void gw_conv_transpose2d_forward_ref(float *out, const float *inp, const float *weight,
                                     const float *bias, const gw_conv2d_dims *d);
void gw_conv_transpose2d_backward_ref(float *dinp, float *dweight, float *dbias,
                                      const float *dout, const float *inp, const float *weight,
                                      const gw_conv2d_dims *d);

/* ---- spectral normalisation (Miyato et al. 2018, "Spectral Normalization
 * for Generative Adversarial Networks") ----
 * A weight tensor is viewed as a matrix W (rows, cols): for conv2d rows =
 * C_out and cols = C_in KH KW; for a dense layer (out, in). The persistent u
 * (rows) is the running estimate of the top left singular vector; v (cols)
 * and sigma hold the values of the last forward, which backward uses. */
typedef struct gw_spectral_norm {
    int rows, cols;
    float *u;    // (rows) persistent across steps; save it with the model
    float *v;    // (cols) from the last forward
    float sigma; // u^T W v from the last forward
} gw_spectral_norm;

/* u starts as a random unit vector drawn from rng */
gw_status gw_spectral_norm_create(gw_spectral_norm **out, int rows, int cols, gw_rng *rng,
                                  gw_error *err);
void gw_spectral_norm_free(gw_spectral_norm *sn);
/* w_sn = w / sigma. power_iters power iterations update u and v first (1 in
 * training, as in the paper); 0 reuses the stored u, v (evaluation) and only
 * recomputes sigma = u^T W v (one iteration is still made if v was never
 * computed, e.g. right after create or after loading only u). */
void gw_spectral_norm_forward(float *w_sn,    // (rows, cols)
                              gw_spectral_norm *sn,
                              const float *w, // (rows, cols)
                              int power_iters);
/* dw += (dw_sn - sum(dw_sn .* w_sn) u v^T) / sigma, u and v held constant */
void gw_spectral_norm_backward(float *dw,          // (rows, cols)
                               const float *dw_sn, // (rows, cols)
                               const float *w_sn,  // (rows, cols) from forward
                               const gw_spectral_norm *sn);

#endif
