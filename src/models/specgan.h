/* specgan.h - the spectrogram GAN (after Donahue et al. 2018, "Adversarial
 * Audio Synthesis", SpecGAN): a generator G maps z ~ N(0, I) to a normalised
 * log-mel image (spec_features.h), a discriminator D maps an image to a logit.
 * Architecture of the shipped preset: shared/spec/reference-models.md,
 * "specgan-small"; the math of the losses, spectral norm and EMA:
 * docs/gan.md.
 *
 * Preset JSON (presets/specgan-small.json):
 *   {"model": "specgan", "name": "...", "features": {...spec_features...},
 *    "z_dim": 100, "g_channels": [256, 128, 64, 32],
 *    "d_channels": [32, 64, 128, 256], "kernel": 5, "lrelu_slope": 0.2,
 *    "loss": "nonsaturating" | "minimax" | "hinge",
 *    "spectral_norm": false (absent: true for hinge, else false),
 *    "minibatch_std": 0 (group size of D's minibatch-stddev feature; 0 = off),
 *    "train": {"batch": 64, "lr_g": 2e-4, "lr_d": 2e-4, "beta1": 0.5,
 *              "beta2": 0.999, "d_steps": 1, "ema_decay": 0.999,
 *              "sample_every": 500}}
 * g_channels are the inputs of G's transposed convs (the last outputs 1
 * channel), d_channels the outputs of D's convs; both must have the same
 * count L, and the image n_mels x frames must be divisible by 2^L.
 *
 * Model file (.gwm): metadata "model" = "specgan", "specgan.config" = the
 * preset JSON, "sample_rate"; tensors "gen.*" (G; the EMA weights in a
 * finished model), "disc.*" (D), "features.mean/std".
 */
#ifndef GW_MODELS_SPECGAN_H
#define GW_MODELS_SPECGAN_H

#include "models/spec_config.h"
#include "models/spec_features.h"
#include "models/spec_nets.h"
#include "nn/gwm.h"
#include "nn/layers.h"
#include "nn/optim.h"
#include "nn/params.h"

#define GW_SPECGAN_KIND "specgan"

typedef enum gw_gan_loss {
    GW_GAN_LOSS_MINIMAX = 0,   /* G minimises E log(1 - D(G(z))) */
    GW_GAN_LOSS_NONSATURATING, /* G maximises E log D(G(z)) (default) */
    GW_GAN_LOSS_HINGE,         /* D: relu(1 - D(x)) + relu(1 + D(G(z))); G: -D(G(z)) */
} gw_gan_loss;

const char *gw_gan_loss_name(gw_gan_loss l);
gw_status gw_gan_loss_parse(gw_gan_loss *out, const char *name, gw_error *err);

typedef struct gw_specgan_config {
    GW_SPEC_COMMON; /* first: name, feat, batch, beta1, beta2, sample_every (spec_config.h) */
    int z_dim;
    gw_specnet_shape g, d;
    float slope;
    gw_gan_loss loss;
    int spectral_norm;
    int mbstd; /* minibatch-stddev group size in D (spec_nets.h), 0 = off */
    /* training, the GAN's own */
    int d_steps;
    float lr_g, lr_d, ema_decay;
    int diffaugment; /* train.diffaugment: D sees real and generated images through
                        DiffAugment "translation,cutout" (nn/layers.h); 0 = off */
} gw_specgan_config;

/* specgan-small */
void gw_specgan_config_default(gw_specgan_config *c);
gw_status gw_specgan_config_from_json(gw_specgan_config *c, const cJSON *root, const char *path,
                                      gw_error *err);
gw_status gw_specgan_config_load(gw_specgan_config *c, const char *path, gw_error *err);
/* the config as preset JSON (malloc'ed string, caller frees); NULL on no memory */
char *gw_specgan_config_to_json(const gw_specgan_config *c);

typedef struct gw_specgan_stats {
    float d_loss, g_loss;
    float d_real, d_fake; /* mean sigmoid(D logit) on real and generated images */
} gw_specgan_stats;

typedef struct gw_specgan {
    gw_specgan_config cfg;
    gw_params *gp, *dp; /* one group per optimiser */
    gw_upnet G;
    gw_downnet D;
    gw_specfeat *feat;
    int B_max;
    int share_off, share_total; /* data-parallel share (gw_specgan_set_share); 0, 0 = none */
    /* training state (gw_specgan_train_begin) */
    gw_adam *opt_g, *opt_d;
    gw_ema *ema;
    float *z;       /* (B_max, z_dim) latents of the current fakes */
    float *dbatch;  /* (2 B_max, 1, H, W) real then fake images for D */
    float *dlogits; /* (2 B_max) */
    float *dimg;    /* (B_max, 1, H, W) gradient wrt the fakes */
    /* DiffAugment (cfg.diffaugment): parameters of the D step's reals and
     * fakes and of the G step's fakes, and the augmented images */
    gw_diffaug *aug; /* (3 B_max) */
    float *abatch;   /* (2 B_max, 1, H, W) */
    int fake_B;      /* batch of the last G forward of a D step, 0 = none */
} gw_specgan;

/* A model for batches of up to B_max images. rng != NULL initialises the
 * weights randomly (else they stay zero for a load to fill). */
gw_status gw_specgan_create(gw_specgan **out, const gw_specgan_config *c, int B_max, gw_rng *rng,
                            gw_error *err);
void gw_specgan_free(gw_specgan *m);
size_t gw_specgan_image_size(const gw_specgan *m); /* H * W */

/* Adam for G and D (lr, betas from the config) and the EMA of G */
gw_status gw_specgan_train_begin(gw_specgan *m, gw_error *err);
/* Data-parallel training (train/dist.h): this process's D steps are
 * examples off..off+B of global batches of `total`; their latents are drawn
 * for the whole batch and the share kept, so N processes take the step one
 * would (off a multiple of minibatch_std keeps its groups whole). total = 0
 * turns it off. */
void gw_specgan_set_share(gw_specgan *m, int off, int total);
/* One D update on real (B, 1, H, W) and B fresh fakes; the fakes are kept
 * for the next G step (as the reference training step does). */
gw_status gw_specgan_d_step(gw_specgan *m, gw_specgan_stats *st, const float *real, int B,
                            gw_rng *rng, gw_error *err);
/* One G update on the fakes of the last D step, scored by the updated D
 * (whose weights are frozen: only the gradient wrt its input is computed),
 * then the EMA update. */
gw_status gw_specgan_g_step(gw_specgan *m, gw_specgan_stats *st, gw_error *err);

/* Losses on D's logits with their gradients (dlogits ADDED), mean over the
 * batch. D: real logits (B) and fake logits (B); G: fake logits (B).
 * Exposed for tests. */
float gw_gan_d_loss(float *dreal, float *dfake, const float *lreal, const float *lfake, int B,
                    gw_gan_loss loss);
float gw_gan_g_loss(float *dfake, const float *lfake, int B, gw_gan_loss loss);

/* G forward in chunks of B_max with the live weights (swap in the EMA with
 * gw_ema_swap first during training): img (n, 1, H, W) from z (n, z_dim) */
void gw_specgan_generate(gw_specgan *m, float *img, const float *z, int n);
/* D logits (n) of images (n, 1, H, W), evaluation mode */
void gw_specgan_discriminate(gw_specgan *m, float *logits, const float *img, int n);
/* z ~ N(0, I) truncated to |z_i| <= truncation by resampling (<= 0: none) */
void gw_specgan_sample_z(float *z, size_t n, float truncation, gw_rng *rng);

/* metadata and model tensors (G as live weights; use_ema swaps the EMA in
 * for the G tensors) into a writer the caller commits */
gw_status gw_specgan_write(gw_specgan *m, gw_gwm_writer *w, int use_ema, gw_error *err);
/* a model from an opened file (kind checked, config parsed, tensors read) */
gw_status gw_specgan_from_gwm(gw_specgan **out, const gw_gwm *f, int B_max, gw_error *err);

#endif
