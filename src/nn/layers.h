/* layers.h - genwave's 1-D and elementwise neural layers and its losses.
 *
 * Every layer is a forward / backward pair of free functions on raw float32
 * arrays, llm.c style:
 *   - arguments are outputs first, then const inputs, then settings, then
 *     sizes; each tensor pointer carries its shape, row-major, last index
 *     fastest, e.g. `// (N, C)`;
 *   - forward OVERWRITES its output;
 *   - backward ACCUMULATES (+=) into every gradient it is given, so a tensor
 *     read by several layers collects all its gradients; zero them once per
 *     step. Any gradient pointer may be NULL to skip computing it;
 *   - losses ACCUMULATE their gradient too (NULL: only the value);
 *   - a layer backed by BLAS has a `_naive` twin (plain loops, same
 *     signature) that the tests compare it with.
 * Sizes are the caller's contract (kernels do not check them); values that
 * come from data - class indices, targets - are checked and a bad one is
 * reported through gw_error, never trusted to index memory.
 * The math is written out in docs/nn.md, "Layers and losses".
 */
#ifndef GW_NN_LAYERS_H
#define GW_NN_LAYERS_H

#include "base/gw_base.h"

#include <stdint.h>

/* ---- dense (fully connected) ---------------------------------------------
 * out = inp @ w^T + b. One sgemm (sgemv when N == 1). */
void gw_dense_forward(float *out,       // (N, OC)
                      const float *inp, // (N, C)
                      const float *w,   // (OC, C)
                      const float *b,   // (OC) or NULL for no bias
                      int N, int C, int OC);
void gw_dense_backward(float *dinp,       // (N, C) or NULL
                       float *dw,         // (OC, C) or NULL
                       float *db,         // (OC) or NULL
                       const float *dout, // (N, OC)
                       const float *inp,  // (N, C)
                       const float *w,    // (OC, C)
                       int N, int C, int OC);
/* The same with pack: gw_conv_sgemm_pack_size() floats of scratch, so the
 * products take the packed AVX-512 kernel on one BLAS thread (nn/im2col.h,
 * gw_conv_sgemm); OpenBLAS (AVX2 here, OPENBLAS_CORETYPE) otherwise. NULL
 * pack is the two above. The PixelCNN's head uses it: 65,536 rows a batch. */
/* bf16: the products' operands rounded to bfloat16, summed in f32, where
 * the CPU has AVX512_BF16 and pack is given (gw_conv_sgemm_bf16) */
void gw_dense_forward_packed(float *out, const float *inp, const float *w, const float *b, int N,
                             int C, int OC, int bf16, float *pack);
void gw_dense_backward_packed(float *dinp, float *dw, float *db, const float *dout,
                              const float *inp, const float *w, int N, int C, int OC, int bf16,
                              float *pack);
void gw_dense_forward_naive(float *out, const float *inp, const float *w, const float *b, int N,
                            int C, int OC);
void gw_dense_backward_naive(float *dinp, float *dw, float *db, const float *dout, const float *inp,
                             const float *w, int N, int C, int OC);

/* ---- conv1d: dilated, optionally causal, any kernel size K ----------------
 * Channels-last. The input is padded on the left with pad_left zeros (none
 * on the right), so
 *   T_out = T_in + pad_left - (K - 1) * dilation
 *   out[b, t, :] = bias + sum_k w[:, k, :] @ x[b, t + k*dilation - pad_left, :]
 * pad_left = 0 is a "valid" convolution (each output sees K real inputs);
 * pad_left = (K-1)*dilation is the causal same-length one of WaveNet (output
 * t sees inputs t - (K-1)*dilation .. t). Implemented as one sgemm per
 * (batch item, tap) over all that item's rows: no im2col copy.
 * Preconditions: K >= 1, dilation >= 1, 0 <= pad_left, T_out >= 1. */
/* T_out, or 0 when the settings leave no output step */
int gw_conv1d_out_len(int T_in, int K, int dilation, int pad_left);
/* GW_ERR_ARG naming `what` when the settings give no output or are invalid;
 * writes T_out */
gw_status gw_conv1d_check(int *T_out, int T_in, int K, int dilation, int pad_left, const char *what,
                          gw_error *err);
void gw_conv1d_forward(float *out,       // (B, T_out, C_out)
                       const float *inp, // (B, T_in, C_in)
                       const float *w,   // (C_out, K, C_in)
                       const float *b,   // (C_out) or NULL
                       int B, int T_in, int C_in, int C_out, int K, int dilation, int pad_left);
void gw_conv1d_backward(float *dinp,       // (B, T_in, C_in) or NULL
                        float *dw,         // (C_out, K, C_in) or NULL
                        float *db,         // (C_out) or NULL
                        const float *dout, // (B, T_out, C_out)
                        const float *inp,  // (B, T_in, C_in)
                        const float *w,    // (C_out, K, C_in)
                        int B, int T_in, int C_in, int C_out, int K, int dilation, int pad_left);
void gw_conv1d_forward_naive(float *out, const float *inp, const float *w, const float *b, int B,
                             int T_in, int C_in, int C_out, int K, int dilation, int pad_left);
void gw_conv1d_backward_naive(float *dinp, float *dw, float *db, const float *dout,
                              const float *inp, const float *w, int B, int T_in, int C_in,
                              int C_out, int K, int dilation, int pad_left);

/* ---- embedding lookup ------------------------------------------------------
 * out[n, :] = table[idx[n], :]; backward scatter-adds dout rows into dtable.
 * GW_ERR_ARG (naming the position and value) if an index is outside [0, V);
 * nothing is written past the checked prefix in that case. */
gw_status gw_embedding_forward(float *out,         // (N, C)
                               const float *table, // (V, C)
                               const int32_t *idx, // (N)
                               int N, int V, int C, gw_error *err);
gw_status gw_embedding_backward(float *dtable,      // (V, C)
                                const float *dout,  // (N, C)
                                const int32_t *idx, // (N)
                                int N, int V, int C, gw_error *err);

/* ---- activations -------------------------------------------------------------
 * Elementwise ones work on n values and may run in place (out == inp).
 * Their backward takes the forward OUTPUT (all derivatives below are
 * functions of it), so the input need not be kept:
 *   relu'    = out > 0          leaky'   = out > 0 ? 1 : slope  (slope >= 0)
 *   tanh'    = 1 - out^2        sigmoid' = out * (1 - out)                  */
void gw_relu_forward(float *out, const float *inp, size_t n);
void gw_relu_backward(float *dinp, const float *dout, const float *out, size_t n);
void gw_leaky_relu_forward(float *out, const float *inp, float slope, size_t n);
void gw_leaky_relu_backward(float *dinp, const float *dout, const float *out, float slope,
                            size_t n);
void gw_tanh_forward(float *out, const float *inp, size_t n);
void gw_tanh_backward(float *dinp, const float *dout, const float *out, size_t n);
/* 1 / (1 + exp(-x)) evaluated without overflow for any finite x */
void gw_sigmoid_forward(float *out, const float *inp, size_t n);
void gw_sigmoid_backward(float *dinp, const float *dout, const float *out, size_t n);

/* WaveNet gated activation (van den Oord et al. 2016, eq. 2):
 *   out[n, g] = tanh(inp[n, g]) * sigmoid(inp[n, G + g])
 * filter half [0, G), gate half [G, 2G) of each row. Forward also stores
 * act = [tanh(filter), sigmoid(gate)] for the backward (act may be NULL when
 * no backward follows, e.g. generation). */
void gw_gate_forward(float *out,       // (N, G)
                     float *act,       // (N, 2G) or NULL
                     const float *inp, // (N, 2G)
                     int N, int G);
void gw_gate_backward(float *dinp,       // (N, 2G)
                      const float *dout, // (N, G)
                      const float *act,  // (N, 2G) as stored by the forward
                      int N, int G);

/* softmax over the last dim, max-subtracted so it never overflows; in place
 * is fine. Backward takes the output: dinp += out * (dout - sum(dout*out)). */
void gw_softmax_forward(float *out,       // (N, V)
                        const float *inp, // (N, V)
                        int N, int V);
void gw_softmax_backward(float *dinp,       // (N, V)
                         const float *dout, // (N, V)
                         const float *out,  // (N, V)
                         int N, int V);

/* ---- losses --------------------------------------------------------------------
 * Each writes the loss to *loss and ADDS its gradient into the d-argument
 * (NULL: value only). All return GW_ERR_ARG for a bad target and
 * GW_ERR_NUMERIC when the loss is not finite (a diverged model), naming
 * `what` (e.g. "wavenet logits") in the message; after GW_ERR_NUMERIC the
 * gradient may hold non-finite values and the step must be discarded.
 * A bad target or an empty batch is caught before anything is written. */

/* softmax cross-entropy on logits with class targets, mean nats over N:
 *   loss = 1/N sum_n [logsumexp(logits[n]) - logits[n, targets[n]]]
 *   dlogits += (softmax(logits) - onehot(target)) / N                      */
gw_status gw_loss_softmax_xent(float *loss,
                               float *dlogits,         // (N, V) or NULL
                               const float *logits,    // (N, V)
                               const int32_t *targets, // (N), each in [0, V)
                               int N, int V, const char *what, gw_error *err);

/* binary cross-entropy on logits x with targets t in [0, 1], mean over n,
 * in the stable form max(x, 0) - x t + log1p(exp(-|x|)):
 *   dlogits += (sigmoid(x) - t) / n                                        */
gw_status gw_loss_bce_logits(float *loss,
                             float *dlogits,       // (n) or NULL
                             const float *logits,  // (n)
                             const float *targets, // (n), each in [0, 1]
                             size_t n, const char *what, gw_error *err);

/* squared error summed over the D values of each example, mean over N (the
 * unit-variance Gaussian decoder's recon term, up to constants):
 *   loss = 1/N sum_n sum_d (pred - target)^2;  dpred += 2 (pred - target) / N */
gw_status gw_loss_sq_error(float *loss,
                           float *dpred,        // (N, D) or NULL
                           const float *pred,   // (N, D)
                           const float *target, // (N, D)
                           int N, int D, const char *what, gw_error *err);

/* KL(N(mu, exp(logvar)) || N(0, I)) summed over D dims, mean over N
 * (Kingma and Welling 2014, appendix B):
 *   loss = 1/N sum_n sum_d -0.5 (1 + logvar - mu^2 - exp(logvar))
 *   dmu += mu / N;  dlogvar += 0.5 (exp(logvar) - 1) / N                   */
gw_status gw_loss_gauss_kl(float *loss,
                           float *dmu,          // (N, D) or NULL
                           float *dlogvar,      // (N, D) or NULL
                           const float *mu,     // (N, D)
                           const float *logvar, // (N, D)
                           int N, int D, const char *what, gw_error *err);

/* reparameterised sample z = mu + exp(0.5 logvar) * eps, eps ~ N(0, 1)
 * drawn by the caller (gw_rng_fill_normal) and kept for the backward:
 *   dmu += dz;  dlogvar += dz * 0.5 exp(0.5 logvar) eps                    */
void gw_reparam_forward(float *z,            // (n)
                        const float *mu,     // (n)
                        const float *logvar, // (n)
                        const float *eps,    // (n)
                        size_t n);
void gw_reparam_backward(float *dmu,          // (n) or NULL
                         float *dlogvar,      // (n) or NULL
                         const float *dz,     // (n)
                         const float *logvar, // (n)
                         const float *eps,    // (n)
                         size_t n);

/* ---- DiffAugment: "translation,cutout" (Zhao et al. 2020) ----------------
 * Differentiable augmentation of a GAN discriminator's input, applied to
 * real and generated images alike, so D sees more varied data on a small
 * folder without the augmentation leaking into G's samples. Per image
 * (H, W): translation by (dy, dx), |dy| <= H/8, |dx| <= W/8, zero-filled;
 * then a zeroed H/2 x W/2 rectangle centred at (cy, cx) (clipped at the
 * edges). On normalised log-mel images zero is each band's mean level.
 * Both are linear, so the backward is the transpose: dinp = T^T C dout. */
typedef struct gw_diffaug {
    int dy, dx, cy, cx;
} gw_diffaug;
/* n images' parameters, exactly 4 words of rng each (so a data-parallel
 * rank can skip the others' draws: gw_rng_skip) */
void gw_diffaug_draw(gw_diffaug *p, int n, int H, int W, gw_rng *rng);
void gw_diffaug_forward(float *out,          // (B, H, W)
                        const float *inp,    // (B, H, W)
                        const gw_diffaug *p, // (B)
                        int B, int H, int W);
void gw_diffaug_backward(float *dinp,         // (B, H, W), overwritten
                         const float *dout,   // (B, H, W)
                         const gw_diffaug *p, // (B)
                         int B, int H, int W);

/* discretised mixture of logistics (PixelCNN++, Salimans et al. 2017,
 * sec. 2.1; the 16-bit audio output of Parallel WaveNet, van den Oord et al.
 * 2018), in nn/dmol.c. A parameter row of 3M floats is
 * [logit_pi (M) | mu (M) | log_s (M)]; log_s is clamped below at
 * log_scale_min (no gradient where the clamp binds). x in [-1, 1] falls in
 * one of `levels` bins (65536 for 16 bits): bin i has centre
 * c_i = -1 + 2 i / (levels - 1) and half-width h = 1 / (levels - 1), and the
 * first and last bins extend to -inf and +inf. With s = exp(log_s),
 * plus = (c_i - mu + h) / s, minus = (c_i - mu - h) / s, mid = (c_i - mu) / s:
 *   ln P_k(i) = ln sigmoid(plus)                        first bin
 *             = -softplus(minus)                        last bin
 *             = ln(sigmoid(plus) - sigmoid(minus))      if that is > 1e-5
 *             = mid - log_s - 2 softplus(mid) + ln(2h)  else (midpoint rule)
 *   ln P(i)   = logsumexp_k(logit_pi_k + ln P_k(i)) - logsumexp_k(logit_pi_k)
 * computed in double. M is 1..GW_DMOL_MAX_M (scratch lives on the stack). */
enum { GW_DMOL_MAX_M = 64 };

/* mean over N of -ln P(bin of targets[n]) in nats; ADDS the gradient / N
 * into dparams (the softmax gradient pi - r on the logits, and each
 * component's responsibility r_k times d ln P_k / d(mu, log_s), of the
 * branch used). GW_ERR_ARG for N < 1, M outside 1..GW_DMOL_MAX_M,
 * levels < 2 or a target that is NaN or outside [-1, 1]. Single-threaded,
 * allocation-free. */
gw_status gw_loss_dmol(float *loss,
                       float *dparams,       // (N, 3M) or NULL
                       const float *params,  // (N, 3M)
                       const float *targets, // (N), each in [-1, 1]
                       int N, int M, int levels, float log_scale_min, const char *what,
                       gw_error *err);

/* ln P(bin of x) for one parameter row (x beyond [-1, 1] counts in an edge
 * bin; NaN for a NaN x or M, levels out of range) */
double gw_dmol_log_prob(const float *params, int M, int levels, float log_scale_min, float x);

/* one draw from a single uniform u in [0, 1): u against the cumulative
 * mixture weights picks the component, and u's position within that
 * component's stretch is the uniform of the logistic's inverse CDF
 * mu + s ln(v / (1 - v)); one uniform per value is what the real-time engine
 * can afford. The draw is rounded to its bin centre (edge bins taking the
 * tails), so draws follow the discretised distribution exactly, up to u's
 * 24-bit resolution. temperature scales s (1: the model's distribution);
 * temperature <= 0 gives the mean of the most probable component, rounded.
 * A NaN parameter gives the bin nearest 0 (silence). */
float gw_dmol_sample(const float *params, // (3M)
                     int M, float log_scale_min, int levels, float temperature, float u);

#endif
