/* wavenet_backprop.h - teacher-forced training pass of the WaveNet (wavenet.h):
 * the full forward over a batch of windows and its backward.
 *
 * A window is one receptive field of context plus N target samples, as in
 * the reference training step (shared/spec/reference-models.md):
 *
 *   window   (B, N + RF)      mu-law classes
 *   inputs   window[:, 0 : T_in]        T_in = N + RF - 1
 *   targets  window[:, RF : RF + N]     target n is predicted from inputs
 *                                       n .. n + RF - 1 (a full receptive field)
 *
 * Every dilated convolution is "valid" (no padding): layer l's output is
 * (K-1) d_l samples shorter than its input, so the last layer leaves exactly
 * N positions, each of which has seen RF real samples. The skip 1x1 convs are
 * evaluated only on those N positions, and the last layer's residual 1x1
 * (which feeds nothing) not at all. Global conditioning (B, C_g) and local
 * conditioning (B, T_in, n_mels), one mel row per input sample, enter every
 * gate as in wavenet.h; the result equals the causal forward
 * (gw_wavenet_forward_reference, the stream) wherever that one sees a full
 * receptive field.
 *
 * All activations live in one arena sized at create for (B, N); forward keeps
 * what backward needs (each layer's input and its [tanh, sigmoid] gate
 * values), and backward ACCUMULATES into the model's gradient group
 * (model->g), so call gw_params_zero_grad once per step. Products run over
 * all B*T rows at once (the K taps side by side), in an AVX-512 kernel of
 * this module or OpenBLAS (gw_wavenet_train_set_gemm); elementwise work
 * (bias, gate, residual, their gradients) is fused into single passes.
 * Threads: data-parallel shards (gw_wavenet_train_set_threads), or
 * OpenBLAS's own threads in BLAS mode.
 */
#ifndef GW_MODELS_WAVENET_BACKPROP_H
#define GW_MODELS_WAVENET_BACKPROP_H

#include "base/gw_base.h"
#include "models/wavenet.h"

#include <stdint.h>

typedef struct gw_wavenet_train gw_wavenet_train;

enum { GW_WAVENET_TRAIN_MAX_THREADS = 16 };

/* The model must outlive the arena; its weights may change between steps. */
gw_status gw_wavenet_train_create(gw_wavenet_train **out, gw_wavenet *model, int batch,
                                  int n_targets, gw_error *err);
void gw_wavenet_train_free(gw_wavenet_train *t); /* NULL is fine */

/* Data parallelism: splits the B items into `threads` equal shards (fewer
 * if B is not divisible), each with its own activations, run on as many
 * threads; shards 1.. accumulate into private gradients that the backward
 * adds into the model's. The result equals the single-threaded pass up to
 * float summation order. Each shard calls OpenBLAS from its own thread, so
 * use it with OpenBLAS at 1 thread (openblas_set_num_threads(1)): it scales
 * the elementwise work too, which OpenBLAS's own threads do not. threads <= 1
 * returns to one arena. In this mode gw_wavenet_train_logits gives NULL. */
gw_status gw_wavenet_train_set_threads(gw_wavenet_train *t, int threads, gw_error *err);
int gw_wavenet_train_threads(const gw_wavenet_train *t);

/* Where the products run: GW_WAVENET_GEMM_AUTO (the default) uses
 * nn/gemm.h's AVX-512 kernels when the CPU has AVX-512F, else OpenBLAS;
 * GW_WAVENET_GEMM_BLAS forces OpenBLAS (its own threads then parallelise
 * each product); GW_WAVENET_GEMM_OWN forces the kernel (scalar reference
 * loops without AVX-512: for tests only). */
typedef enum gw_wavenet_gemm {
    GW_WAVENET_GEMM_AUTO = 0,
    GW_WAVENET_GEMM_BLAS,
    GW_WAVENET_GEMM_OWN,
} gw_wavenet_gemm;
void gw_wavenet_train_set_gemm(gw_wavenet_train *t, gw_wavenet_gemm which);


/* samples per window: n_targets + receptive field */
int gw_wavenet_train_window_len(const gw_wavenet_train *t);
/* T_in = window - 1: rows of the mel argument per item */
int gw_wavenet_train_input_len(const gw_wavenet_train *t);

/* Forward over B windows. *loss = mean cross-entropy over the B*N targets in
 * nats (divide by ln 2 for bits per sample). cond: (B, C_g) or NULL (zeros);
 * mel: (B, T_in, n_mels) or NULL (zeros), read again by the backward, so it
 * must stay valid until then. want_grad = 0 skips the loss gradient
 * (validation). GW_ERR_NUMERIC when the loss is not finite. */
/* Input jitter for the training passes (want_grad) that follow, from a
 * stream seeded by `seed` (set a new seed per step); targets never move.
 * Mu-law: each input class moves one or two mu-law steps up or down with
 * probability p. Logistic (bands): every input band value gets Gaussian
 * noise of standard deviation p (times the band's scale, below), clamped to
 * [-1, 1].
 * p = 0 (the default) is off. */
void gw_wavenet_train_set_input_noise(gw_wavenet_train *t, float p, uint64_t seed);
/* a band model's noise per band: band k's standard deviation is p times
 * scale[k] (bands values; NULL: 1 for every band). The trainer gives each
 * band's RMS over the training data, so p is a fraction of each band's own
 * level: one absolute p swamps the quiet upper bands (docs/fidelity.md,
 * ablation 3). */
void gw_wavenet_train_set_band_noise_scale(gw_wavenet_train *t, const float *scale);

gw_status gw_wavenet_train_forward(gw_wavenet_train *t, float *loss,
                                   const uint8_t *window, // (B, N + RF)
                                   const float *cond,     // (B, C_g) or NULL
                                   const float *mel,      // (B, T_in, n_mels) or NULL
                                   int want_grad, gw_error *err);

/* the same for a logistic-output model (wavenet.h): window (B, N + RF,
 * bands) band values in [-1, 1]; *loss = mean -ln P over the B N bands
 * values (nats per band value, 16-bit bins: gw_loss_dmol) */
gw_status gw_wavenet_train_forward_bands(gw_wavenet_train *t, float *loss,
                                         const float *window, // (B, N + RF, bands)
                                         const float *cond, const float *mel, int want_grad,
                                         gw_error *err);

/* Backward of the last forward (which had want_grad = 1): ACCUMULATES every
 * parameter's gradient into model->g. */
void gw_wavenet_train_backward(gw_wavenet_train *t);

/* the last forward's logits, (B, N, n_out): row (b, n) predicts target n */
const float *gw_wavenet_train_logits(const gw_wavenet_train *t);

/* multiply-adds of one forward over (B, N) windows (the peers' count:
 * dilated convs over their valid lengths, residuals except the last layer's,
 * skips and head on the N outputs; conditioning products included) */
double gw_wavenet_train_forward_macs(const gw_wavenet_config *cfg, int batch, int n_targets);

#endif
