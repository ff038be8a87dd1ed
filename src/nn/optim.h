/* optim.h - Adam / AdamW, global-norm gradient clipping, parameter EMA.
 *
 * Adam (Kingma & Ba 2015, Algorithm 1), per parameter, step t = 1, 2, ...:
 *   m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2
 *   w -= lr * (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps)
 * AdamW (Loshchilov & Hutter 2019): additionally w -= lr * wd * w, decoupled
 * from the gradient. Plain Adam with wd > 0 adds wd * w to g instead (L2).
 * Tensors flagged GW_PARAM_STATE are never touched; GW_PARAM_NO_DECAY ones get
 * no weight decay.
 *
 * The moments live in two allocations laid out exactly like the group's data
 * (p->total floats, same 64-byte aligned offsets). The step counter t is part
 * of the optimiser's state and is saved with it, so a resumed run applies the
 * same bias corrections as an uninterrupted one.
 *
 * Clipping (Pascanu et al. 2013): if the global L2 norm of all trainable
 * gradients exceeds max_norm, every gradient is scaled by max_norm / norm.
 *
 * EMA (Polyak averaging): shadow = d * shadow + (1 - d) * w after each step.
 * With warm-up, d_t = min(d, (1 + t) / (10 + t)) (the num_updates rule of
 * TensorFlow's ExponentialMovingAverage), so early shadows are not dominated
 * by the random initialisation.
 */
#ifndef GW_NN_OPTIM_H
#define GW_NN_OPTIM_H

#include "nn/gwm.h"
#include "nn/params.h"

typedef struct gw_adam_config {
    float lr;           /* default 1e-3 (callers may pass a schedule per step) */
    float beta1;        /* default 0.9 */
    float beta2;        /* default 0.999 */
    float eps;          /* default 1e-8 */
    float weight_decay; /* default 0 */
    int decoupled;      /* 1 = AdamW, 0 = Adam (L2 added to the gradient) */
    float clip_norm;    /* > 0: clip the global gradient norm to this; 0 = off */
} gw_adam_config;

gw_adam_config gw_adam_defaults(void);

typedef struct gw_adam {
    gw_adam_config cfg;
    gw_params *params;    /* not owned; must outlive the optimiser */
    float *m;             /* (params->total) first moments */
    float *v;             /* (params->total) second moments */
    uint64_t step;        /* completed steps t */
    float last_grad_norm; /* pre-clip global norm seen by the last step */
    /* optional: applied to params->grad (params->total floats) before the
     * norm and the update. Data-parallel training (train/dist.h) averages
     * the gradients of every process here, so all take the identical step;
     * set by the trainer loop, NULL in a single process. */
    gw_status (*reduce)(void *ctx, float *grad, size_t n, gw_error *err);
    void *reduce_ctx;
} gw_adam;

/* p must be allocated (gw_params_alloc). cfg NULL means defaults. */
gw_status gw_adam_create(gw_adam **out, gw_params *p, const gw_adam_config *cfg, gw_error *err);
void gw_adam_free(gw_adam *opt);

/* One update with learning rate lr from the gradients in params->grad
 * (reduced first when opt->reduce is set, then clipped when cfg.clip_norm > 0). If the gradient
 * norm is NaN or Inf nothing is changed (not the weights, moments nor step) and GW_ERR_NUMERIC is
 * returned. Does not zero the gradients. */
gw_status gw_adam_step(gw_adam *opt, float lr, gw_error *err);

/* The update on one flat array, exposed for tests and for callers without a
 * group: w, m, v, g: (n). t is the 1-based step number. wd as above. */
void gw_adam_update(float *w, float *m, float *v, const float *g, size_t n, float lr, float beta1,
                    float beta2, float eps, float wd, int decoupled, uint64_t t);

/* Global L2 norm of the trainable gradients (double accumulation). */
float gw_optim_grad_norm(const gw_params *p);
/* Scales trainable gradients so their global norm is at most max_norm and
 * returns the norm before clipping (NaN/Inf returned as is, grads untouched). */
float gw_optim_clip_grad_norm(gw_params *p, float max_norm);

/* Checkpoint: tensors "<prefix>adam.m.<param>", "<prefix>adam.v.<param>" (f32,
 * the param's shape) and "<prefix>adam.step" (u64, shape (1)). prefix may be
 * "" (e.g. "gen." / "disc." for a GAN's two optimisers). */
gw_status gw_adam_save(const gw_adam *opt, gw_gwm_writer *w, const char *prefix, gw_error *err);
/* every tensor named above must be present with the right shape */
gw_status gw_adam_load(gw_adam *opt, const gw_gwm *f, const char *prefix, gw_error *err);

/* ---- parameter EMA ---- */
typedef struct gw_ema {
    gw_params *params; /* not owned */
    float *shadow;     /* (params->total) same layout as params->data */
    float decay;       /* d, e.g. 0.999 */
    int warmup;        /* 1: use d_t = min(d, (1+t)/(10+t)) */
    uint64_t updates;  /* t */
} gw_ema;

/* shadow starts as a copy of the current parameters (all tensors, including
 * GW_PARAM_STATE ones, which are copied rather than averaged) */
gw_status gw_ema_create(gw_ema **out, gw_params *p, float decay, int warmup, gw_error *err);
void gw_ema_free(gw_ema *e);
void gw_ema_update(gw_ema *e);
/* the decay the next update will use */
float gw_ema_current_decay(const gw_ema *e);
/* exchange shadow and live weights (call twice to undo): evaluate or save
 * the averaged model without a second param group */
void gw_ema_swap(gw_ema *e);
/* tensors "<prefix>ema.<param>" (f32) and "<prefix>ema.updates" (u64, (1)) */
gw_status gw_ema_save(const gw_ema *e, gw_gwm_writer *w, const char *prefix, gw_error *err);
gw_status gw_ema_load(gw_ema *e, const gw_gwm *f, const char *prefix, gw_error *err);

#endif
