/* spec_config.h - what the configs of the spectrogram models (the GAN,
 * specgan.h; the VAE, specvae.h; the Gated PixelCNN, pixelcnn.h) share, and
 * the one reader and writer of it.
 *
 * Every such config begins with GW_SPEC_COMMON: the name, the log-mel image
 * (spec_features.h) and the training values more than one kind has. A
 * preset holds them as
 *   {"model": KIND, "name": "...", "features": {...}, ...the kind's own...,
 *    "train": {"batch": 64, "lr": 1e-3, "beta1": 0.9, "beta2": 0.999, ...,
 *              "sample_every": 500}}
 * "train" is read and written through a table of its keys (gw_spec_key):
 * each kind lists its train keys in the order it writes them, naming a
 * shared one ({"batch"}) or giving its own row (the GAN's lr_g, lr_d,
 * d_steps, ema_decay; the VAE's beta, kl_warmup, free_bits); the shared
 * rows (range, place in gw_spec_common) are in spec_config.c. A key a kind
 * does not list is unknown in its presets: the GAN has no "lr" (it has
 * lr_g and lr_d), the PixelCNN no "sample_every" (its trainer validates
 * every 500 steps unless told otherwise). Absent keys keep the value the
 * kind's _config_default put there: the defaults differ by kind.
 */
#ifndef GW_MODELS_SPEC_CONFIG_H
#define GW_MODELS_SPEC_CONFIG_H

#include "base/gw_base.h"
#include "models/spec_features.h"

#include <cjson/cJSON.h>
#include <stddef.h>

enum {
    GW_SPEC_NAME_MAX = 64,
    GW_SPEC_TRAIN_KEYS_MAX = 16, /* train keys of one kind */
};

#define GW_SPEC_COMMON_MEMBERS                                                                     \
    char name[GW_SPEC_NAME_MAX];                                                                   \
    gw_specfeat_config feat; /* the log-mel image */                                               \
    /* "train" */                                                                                  \
    int batch;                                                                                     \
    float lr; /* Adam's rate: the VAE's and the PixelCNN's (the GAN has lr_g, lr_d) */             \
    float beta1, beta2;                                                                            \
    int sample_every; /* grids, WAVs and validation every N steps */

typedef struct gw_spec_common {
    GW_SPEC_COMMON_MEMBERS
} gw_spec_common;

/* The first member of a kind's config: the common part both as one struct,
 * c->common (what the shared code takes), and as plain members, c->batch
 * (what the kind's code reads), the same bytes under two names as Linux's
 * struct_group() gives them. */
#define GW_SPEC_COMMON                                                                             \
    union {                                                                                        \
        gw_spec_common common;                                                                     \
        struct {                                                                                   \
            GW_SPEC_COMMON_MEMBERS                                                                 \
        };                                                                                         \
    }

/* Reads "model" (must be kind), "name" (default: kind) and "features"
 * (absent keys keep the values already there). */
gw_status gw_spec_common_read(gw_spec_common *c, const char *kind, const cJSON *root,
                              const char *path, gw_error *err);
/* adds "model", "name" and "features" to root; nonzero on failure */
int gw_spec_common_write(const gw_spec_common *c, const char *kind, cJSON *root);

typedef enum gw_spec_key_type {
    GW_SPEC_KEY_SHARED = 0, /* a gw_spec_common value: its row is spec_config.c's */
    GW_SPEC_KEY_INT,
    GW_SPEC_KEY_FLOAT,
} gw_spec_key_type;

/* One key of "train": where its value lives in the config, its range. */
typedef struct gw_spec_key {
    const char *key; /* under "train" */
    gw_spec_key_type type;
    double lo, hi;
    size_t offset; /* of the int or float in the config */
} gw_spec_key;

/* "PATH: unknown key 'train.K'" unless every member of the preset's
 * "train" object is among keys[0..n) */
gw_status gw_spec_train_check(const gw_spec_key *keys, int n, const cJSON *root, const char *path,
                              gw_error *err);
/* Reads the "train" object of a preset into cfg, a config that begins with
 * GW_SPEC_COMMON: gw_spec_train_check, then each value in its range (the
 * integers, then the numbers); absent keys keep the values already there. */
gw_status gw_spec_train_read(void *cfg, const gw_spec_key *keys, int n, const cJSON *root,
                             const char *path, gw_error *err);
/* adds "train" with keys[0..n) in that order to root; nonzero on failure */
int gw_spec_train_write(const void *cfg, const gw_spec_key *keys, int n, cJSON *root);

#endif
