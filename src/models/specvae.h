/* specvae.h - the spectrogram VAE (Kingma and Welling 2014): an encoder
 * q(z|x) = N(mu(x), diag exp(logvar(x))) over normalised log-mel images
 * (spec_features.h), a decoder p(x|z) = N(xhat(z), sigma^2 I), prior
 * p(z) = N(0, I). Architecture of the shipped preset:
 * shared/spec/reference-models.md, "specvae-small"; the math (ELBO, beta,
 * KL warm-up, free bits, the Gaussian decoder) is in docs/vae.md.
 *
 * Objective minimised per example (D = H W pixels):
 *   sum_d (x_d - xhat_d)^2 / (2 sigma^2) + beta_t * sum_j max(free_bits, KL_j)
 * where KL_j is the batch mean KL of latent dim j and beta_t ramps linearly
 * from 0 to beta over kl_warmup steps. With the default sigma^2 = 1/2 and
 * beta 1, free_bits 0, this is exactly the reference loss "sum-over-pixels
 * squared error + KL" (the spec's "unit variance" Gaussian up to that factor),
 * i.e. -ELBO minus the constant D/2 log(2 pi sigma^2).
 *
 * Preset JSON (presets/specvae-small.json):
 *   {"model": "specvae", "name": "...", "features": {...},
 *    "z_dim": 32, "enc_channels": [32, 64, 128, 256],
 *    "dec_channels": [256, 128, 64, 32], "kernel": 5, "lrelu_slope": 0.2,
 *    "decoder_variance": 0.5,
 *    "train": {"batch": 64, "lr": 1e-3, "beta1": 0.9, "beta2": 0.999,
 *              "beta": 1, "kl_warmup": 0, "free_bits": 0,
 *              "sample_every": 500}}
 *
 * Model file: metadata "model" = "specvae", "specvae.config", "sample_rate";
 * tensors "enc.*", "dec.*", "features.mean/std".
 */
#ifndef GW_MODELS_SPECVAE_H
#define GW_MODELS_SPECVAE_H

#include "models/spec_config.h"
#include "models/spec_features.h"
#include "models/spec_nets.h"
#include "nn/gwm.h"
#include "nn/optim.h"
#include "nn/params.h"

#define GW_SPECVAE_KIND "specvae"

typedef struct gw_specvae_config {
    GW_SPEC_COMMON; /* first: name, feat, batch, lr, beta1, beta2, sample_every (spec_config.h) */
    int z_dim;
    gw_specnet_shape enc, dec;
    float slope;
    float dec_var; /* sigma^2 of the Gaussian decoder */
    /* training, the VAE's own */
    int kl_warmup;
    float beta, free_bits;
} gw_specvae_config;

void gw_specvae_config_default(gw_specvae_config *c); /* specvae-small */
gw_status gw_specvae_config_from_json(gw_specvae_config *c, const cJSON *root, const char *path,
                                      gw_error *err);
gw_status gw_specvae_config_load(gw_specvae_config *c, const char *path, gw_error *err);
char *gw_specvae_config_to_json(const gw_specvae_config *c);

typedef struct gw_specvae_stats {
    float loss;  /* the objective minimised (per example) */
    float recon; /* sum (x - xhat)^2 / (2 sigma^2) per example */
    float kl;    /* KL(q || p) per example, nats (before beta and free bits) */
    float elbo;  /* -(recon + D/2 log(2 pi sigma^2) + kl), nats per example */
    float beta;  /* beta used */
    int active;  /* latent dims whose batch KL exceeds 0.01 nats */
} gw_specvae_stats;

typedef struct gw_specvae {
    gw_specvae_config cfg;
    gw_params *p;
    gw_downnet enc; /* out: (B, 2 z_dim) = [mu, logvar] */
    gw_upnet dec;
    gw_specfeat *feat;
    int B_max;
    int share_off, share_total; /* data-parallel share (gw_specvae_set_share); 0, 0 = none */
    gw_adam *opt;
    /* (B_max, z_dim) each */
    float *mu, *logvar, *eps, *z, *dz, *dmu, *dlogvar, *tmu, *tlogvar;
    float *dstats; /* (B_max, 2 z_dim) */
    float *drecon; /* (B_max, H W) */
    float *kl_dim; /* (z_dim) batch-mean KL per latent dim of the last pass */
} gw_specvae;

gw_status gw_specvae_create(gw_specvae **out, const gw_specvae_config *c, int B_max, gw_rng *rng,
                            gw_error *err);
void gw_specvae_free(gw_specvae *m);
size_t gw_specvae_image_size(const gw_specvae *m);

gw_status gw_specvae_train_begin(gw_specvae *m, gw_error *err);
/* beta_t for training step `step` (0-based): linear warm-up to cfg.beta */
float gw_specvae_beta_at(const gw_specvae_config *c, long step);

/* The objective and its gradient for x (B, 1, H, W), one reparameterised
 * sample per example with eps from rng. grads != 0 zeroes the gradients and
 * runs the backward (no optimiser step). The building block of the training
 * step, the held-out ELBO and the gradient test. */
gw_status gw_specvae_forward_backward(gw_specvae *m, gw_specvae_stats *st, const float *x, int B,
                                      float beta, float free_bits, gw_rng *rng, int grads,
                                      gw_error *err);
/* Data-parallel training (train/dist.h): this process's training batches
 * are examples off..off+B of global batches of `total`. The noise of a
 * training step is then drawn for the whole batch and the share kept, and
 * the batch-mean KL per dim that free bits gate on is averaged over the
 * processes through the optimiser's reduce hook, so N processes take the
 * step one would. total = 0 turns it off. */
void gw_specvae_set_share(gw_specvae *m, int off, int total);
/* forward_backward + Adam step */
gw_status gw_specvae_train_step(gw_specvae *m, gw_specvae_stats *st, const float *x, int B,
                                float beta, gw_rng *rng, gw_error *err);

/* mu, logvar (n, z_dim) of images (n, 1, H, W); chunks of B_max */
void gw_specvae_encode(gw_specvae *m, float *mu, float *logvar, const float *img, int n);
/* img (n, 1, H, W) = decoder mean at z (n, z_dim) */
void gw_specvae_decode(gw_specvae *m, float *img, const float *z, int n);

/* Held-out figures over n images (n, 1, H, W), one posterior sample per
 * clip from a generator seeded with seed (so repeated evaluations agree):
 *   elbo            mean ELBO, nats per clip (higher is better)
 *   elbo_per_dim    elbo / (H W)
 *   recon, kl       its two terms (recon without the Gaussian constant)
 *   active          latent dims with Var_x(E_q[z_j]) > 0.01 (Burda et al. 2016)
 *   lsd_db          log-spectral distance between each clip's log-mel and
 *                   its reconstruction from the posterior mean (dB)
 *   kl_dim          (z_dim) mean KL per latent dim; may be NULL */
typedef struct gw_specvae_eval {
    double elbo, elbo_per_dim, recon, kl, lsd_db;
    int active;
} gw_specvae_eval;
gw_status gw_specvae_evaluate(gw_specvae *m, gw_specvae_eval *ev, float *kl_dim, const float *img,
                              size_t n, uint64_t seed, gw_error *err);

/* The ELBO as a bound on the likelihood of the same 256-level pixels the
 * PixelCNN models (gw_spec_level), so the two compare in bits per dimension:
 * the decoder N(xhat(z), var) discretised, each level taking the Gaussian's
 * mass over its bin (the end levels their whole tail, as PixelCNN++ does
 * for its logistics), one posterior sample per clip (seeded as in
 * gw_specvae_evaluate):
 *   bits = -(E_q[sum_d log P(level_d | z)] - KL) / (D ln 2), mean over clips.
 * var <= 0 uses the model's own cfg.dec_var. mse (may be NULL) gets the mean
 * of (x - xhat(z))^2 over every value: the var that maximises the Gaussian
 * likelihood of these clips with the decoder as it is. */
gw_status gw_specvae_discrete_bits(gw_specvae *m, double *bits, double *mse, double var,
                                   const float *img, size_t n, uint64_t seed, gw_error *err);

/* log of the N(mu, sigma^2) mass of level k's bin (the end levels: their
 * tails), natural log */
double gw_specvae_level_log_mass(int k, double mu, double sigma);

gw_status gw_specvae_write(gw_specvae *m, gw_gwm_writer *w, gw_error *err);
gw_status gw_specvae_from_gwm(gw_specvae **out, const gw_gwm *f, int B_max, gw_error *err);

#endif
