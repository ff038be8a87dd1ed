/* spec_trainer.h - training the spectrogram GAN, VAE and PixelCNN on a
 * folder of sounds (`genwave train gan|vae|pixelcnn`), on the shared trainer
 * loop (trainer.h), plus the data pipeline and sample writers that
 * eval/sample commands reuse.
 *
 * Data: the folder is loaded as a dataset (io/dataset.h) at the model's
 * rate in clip mode: clips of clip_samples (silence trimmed; a file shorter
 * than a clip is zero padded), split by file into training and held-out.
 * Each clip becomes a normalised log-mel image (spec_features.h); the
 * per-band statistics are fitted on the training clips and travel in the
 * model file. Mini-batches come from a seeded shuffler (batcher.h) whose
 * (epoch, pos) is saved in checkpoints, so --resume continues with the same
 * batches.
 *
 * RUNDIR gets: model.gwm (the final model with provenance metadata
 * train.command, train.data, train.seed, train.steps, train.commit, metric.*;
 * for the GAN the generator's EMA weights), the trainer loop's
 * checkpoint.gwm, log.csv and loss.png, and samples/:
 *   GAN: step-NNNNNNN.png, a grid of spectrograms from a fixed set of z, and
 *        step-NNNNNNN-K.wav for the first few (Griffin-Lim);
 *   VAE: recon-NNNNNNN.png, held-out inputs (odd rows) above their
 *        reconstructions (even rows), and a reconstructed WAV; and
 *        kl_per_dim.csv, the KL of every latent dim at each validation.
 *   PixelCNN: step-NNNNNNN.png, a grid of images sampled (cached sampler,
 *        fixed seed; a conditioned model's classes in turn), and
 *        step-NNNNNNN-K.wav for the first few. Its model.gwm adds the class
 *        names (models/pixelcnn_file.h); held-out bits per dimension is the
 *        validation figure that picks best.gwm.
 */
#ifndef GW_TRAIN_SPEC_TRAINER_H
#define GW_TRAIN_SPEC_TRAINER_H

#include "base/gw_base.h"
#include "io/dataset.h"
#include "models/spec_config.h"
#include "models/spec_features.h"
#include "nn/gwm.h"
#include "train/batcher.h"
#include "train/trainer.h"

#include <stdint.h>
#include <stdio.h>

/* ---- data ---- */
typedef struct gw_spec_data {
    gw_dataset *ds;
    size_t img;   /* values per image (n_mels * frames) */
    float *train; // (n_train, img) normalised images
    size_t n_train;
    float *val; // (n_val, img); the training images when < 2 clips are held out
    size_t n_val;
    int val_is_train; /* 1 when fewer than 2 clips are held out */
} gw_spec_data;

/* Loads DIR and makes the images. fit != 0 fits feat's band statistics on the
 * training clips first (training); 0 uses feat's (evaluating a model). Log-mels
 * are cached beside the dataset's audio cache. */
gw_status gw_spec_data_load(gw_spec_data **out, const char *dir, const char *cache_dir,
                            gw_specfeat *feat, int fit, uint64_t split_seed, gw_error *err);
void gw_spec_data_free(gw_spec_data *d);

/* spectrogram grid PNG of n images (n, M, T), cols per row; the images are
 * drawn with frames left to right and band 0 at the bottom */
gw_status gw_spec_write_grid(const char *path, const float *img, int n, int M, int T, int cols,
                             gw_error *err);
/* one image -> WAV through the features' inverse and Griffin-Lim */
gw_status gw_spec_write_wav(const char *path, gw_specfeat *feat, const float *img, int gl_iters,
                            uint64_t seed, float *scratch, gw_error *err); // scratch (clip_samples)

/* mini-batches over the training images: indices into d->train (not clip
 * indices of the dataset) */
gw_status gw_spec_batcher_create(gw_batcher **out, const gw_spec_data *d, uint64_t seed,
                                 gw_error *err);
/* checkpoint hooks' data order: tensor "data.order" = (epoch, pos) */
gw_status gw_spec_batcher_save(const gw_batcher *b, gw_gwm_writer *w, gw_error *err);
gw_status gw_spec_batcher_load(gw_batcher *b, const gw_gwm *f, gw_error *err);

/* ---- training ---- */
typedef struct gw_spec_trainer_opts {
    const char *data_dir;
    const char *preset;       /* a FILE (a program resolves a NAME: gw_train_find_preset_in) */
    const char *out_dir;      /* RUNDIR */
    const char *command_line; /* recorded in the model file */
    long steps;               /* 0 = 2000, or no cap when minutes > 0 */
    double minutes;           /* 0 = no limit */
    int threads;              /* 0 = 1 */
    uint64_t seed;
    int resume;
    int overwrite;         /* start afresh in a RUNDIR that holds a checkpoint */
    int batch;             /* 0 = preset's */
    float lr;              /* 0 = preset's (GAN: both nets) */
    int sample_every;      /* 0 = preset's: grids, WAVs, validation */
    int checkpoint_every;  /* 0 = 500 */
    int early_stop;        /* stop after N validations without a new best; 0 = never */
    const char *cache_dir; /* processed-audio cache; NULL = DATA/.genwave-cache */
    int gl_iters;          /* Griffin-Lim iterations of the WAVs; 0 = 32 */
    /* GAN overrides (NULL / -1 = preset's) */
    const char *loss;
    int d_steps;
    int spectral_norm;
    /* the convolutions' products (--precision): -1 auto (the default: bf16
     * where the CPU has AVX512_BF16, else f32), 0 f32, 1 bf16 (mixed
     * precision; gw_spec_run_precision) */
    int bf16;
    /* VAE overrides (< 0 = preset's) */
    float beta;
    int kl_warmup;
    float free_bits;
    FILE *progress; /* progress lines and warnings (NULL = silent) */
    gw_dist *dist;  /* data-parallel ranks (dist.h); NULL = this process alone */
} gw_spec_trainer_opts;

void gw_spec_trainer_opts_default(gw_spec_trainer_opts *o);
/* the options every kind takes alike onto its config's shared part:
 * --batch, --lr (the GAN sets its two rates itself), --sample-every */
void gw_spec_trainer_apply(gw_spec_common *c, const gw_spec_trainer_opts *o);

typedef struct gw_spec_trainer_result {
    long steps;
    double examples_per_s;
    /* GAN: Frechet distance of the generator (EMA) to held-out clips at the
     * first (untrained) and last validation, and the diversity ratio (mean
     * pairwise distance generated / real) */
    double fd_first, fd_last, diversity;
    double fd_floor; /* real training clips vs held-out: what a perfect model would score */
    /* VAE: held-out ELBO (nats per clip) at the first and last validation,
     * active latent dims at the last */
    double elbo_first, elbo_last;
    int active;
    /* PixelCNN: held-out bits per dimension at the first and last
     * validation, and the classes it is conditioned on (0 = none) */
    double bits_first, bits_last;
    int classes;
    char model_path[4200];
    /* the best held-out figure (FD, bits/dim: lower better; ELBO, higher better), its
     * step and RUNDIR/best.gwm; warnings printed; whether --early-stop ended it */
    double best;
    long best_step;
    char best_path[4200];
    int warnings, early_stopped;
} gw_spec_trainer_result;

/* ---- one run (spec_run.c) ----
 * A kind's trainer keeps its networks, its step and validation hooks and
 * its figures; the rest of a run is shared: the data and its batch order
 * (gw_spec_run_open), the loop's config (gw_spec_trainer_config) and the
 * loop, model.gwm and best.gwm, the result (gw_spec_run_train). */

/* one "metric.*" line of model.gwm and best.gwm, after the provenance */
typedef enum gw_spec_metric_from {
    GW_SPEC_METRIC_LAST = 0, /* validation figure `at`, latest */
    GW_SPEC_METRIC_FIRST,    /* validation figure `at` of the untrained model */
    GW_SPEC_METRIC_RUN,      /* the double at offset `at` in the kind's run state */
} gw_spec_metric_from;

typedef struct gw_spec_metric {
    const char *key; /* "metric.fd" */
    int decimals;
    gw_spec_metric_from from;
    size_t at;
} gw_spec_metric;

enum { GW_SPEC_METRICS_MAX = 8 };

/* What a kind is to the shared run. */
typedef struct gw_spec_kind {
    const char *what; /* "train gan": names the run in messages */
    /* the loop's figures; val_figures[0] picks best.gwm, larger better if best_higher */
    const char *const *figures, *const *val_figures;
    int n_figures, n_val_figures;
    int best_higher;
    /* its model's tensors and metadata into model.gwm and best.gwm */
    gw_status (*write)(void *run, gw_gwm_writer *w, gw_error *err);
    gw_spec_metric metrics[GW_SPEC_METRICS_MAX];
    int n_metrics;
    /* its figures into the result */
    void (*result)(const void *run, const gw_trainer_result *tr, gw_spec_trainer_result *res);
} gw_spec_kind;

/* The first member of every kind's run state, so the hooks below take any:
 * the kind, the data, its batch order, the batch buffer, Griffin-Lim
 * scratch and the samples folder. */
typedef struct gw_spec_run {
    const gw_spec_kind *kind;
    const gw_spec_trainer_opts *o;
    gw_spec_data *data;
    gw_batcher *batcher;
    int B, gl_iters;
    int Bl, off;  /* this rank's share of the global batch B: images off..off+Bl (dist.h) */
    size_t img;   /* values per image */
    float *batch; // (B, img)
    size_t *idx;  // (B)
    float *wav;   // (clip_samples)
    char samples[4200];
    char *intro; /* the data's summary (gw_trainer_config.intro) */
    size_t intro_n;
    const char *precision; /* "f32" or "bf16": the products' (meta train.precision);
                              NULL: not recorded */
} gw_spec_run;

/* the products' precision of the run: bf16 where asked for (1) or by
 * default (-1) and the CPU has AVX512_BF16, else f32; sets r->precision,
 * adds a line to the intro, returns 1 for bf16. The trainers' validation
 * runs f32 either way, so a figure a model records is genwave eval's. */
int gw_spec_run_precision(gw_spec_run *r, int asked);

/* loads o->data_dir through feat (fitting its band statistics; the split
 * seeded by o->seed), makes the batch order and the buffers for batches of
 * B. gw_spec_run_close frees (also after a failed open). */
gw_status gw_spec_run_open(gw_spec_run *r, const gw_spec_kind *kind, const gw_spec_trainer_opts *o,
                           gw_specfeat *feat, int B, gw_error *err);
void gw_spec_run_close(gw_spec_run *r);
/* the next B training images into r->batch */
void gw_spec_run_next(gw_spec_run *r);
/* gw_trainer_hooks save / load, ctx a run state that starts with a
 * gw_spec_run: the data order is the only state beyond params, moments, EMA
 * and rng */
gw_status gw_spec_run_save(void *ctx, gw_gwm_writer *w, gw_error *err);
gw_status gw_spec_run_load(void *ctx, const gw_gwm *f, gw_error *err);

/* what every kind sets alike in the shared loop's config: run controls,
 * validation (grids, WAVs) every sample_every steps and at the start,
 * checkpoints, progress, the data's summary, units (B examples a step),
 * the kind's figures, best.gwm by the first validation figure */
void gw_spec_trainer_config(gw_trainer_config *tc, const gw_spec_run *r, int sample_every);
/* provenance metadata: train.command, train.data, train.seed, train.steps,
 * train.commit */
gw_status gw_spec_write_provenance(gw_gwm_writer *w, const gw_spec_trainer_opts *o, uint64_t steps,
                                   gw_error *err);
/* Runs the loop with the kind's step and validate (and, when set, save and
 * load; else gw_spec_run_save / _load) on r, the first member of the kind's
 * run state; best.gwm and, when the loop ran (also when interrupted),
 * RUNDIR/model.gwm are the kind's write, the provenance and its metrics,
 * and res (may be NULL) gets the run's figures. */
gw_status gw_spec_run_train(gw_spec_run *r, const gw_trainer_config *tc,
                            const gw_trainer_hooks *hooks, gw_spec_trainer_result *res,
                            gw_error *err);

gw_status gw_gan_trainer_run(const gw_spec_trainer_opts *o, gw_spec_trainer_result *res,
                             gw_error *err);
gw_status gw_vae_trainer_run(const gw_spec_trainer_opts *o, gw_spec_trainer_result *res,
                             gw_error *err);
/* the Gated PixelCNN (docs/pixelcnn.md): images quantised to 256 levels,
 * Adam on the mean cross-entropy; a preset with classes > 0 conditions it
 * on each file's class (gw_spec_class_of), as many classes as the data has
 * and at most the preset's */
gw_status gw_pixelcnn_trainer_run(const gw_spec_trainer_opts *o, gw_spec_trainer_result *res,
                                  gw_error *err);

/* ---- classes of files (class-conditioned models) ---- */
/* The class of a file: manifest.csv's class column when it names one, else
 * from its path relative to the data folder: its first folder when it sits
 * in one ("kick/a.wav" -> "kick"), else its name up to the first '_', ' ' or
 * '.' ("snare_03.wav" -> "snare"). Truncated to cap. */
void gw_spec_class_of(char *name, size_t cap, const gw_dataset_file *f);
/* the file image i of d's training (val = 0) or held-out (val = 1) images
 * comes from */
const gw_dataset_file *gw_spec_data_file(const gw_spec_data *d, int val, size_t i);

#endif
