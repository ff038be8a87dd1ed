/* wavenet_trainer.h - training a WaveNet on a folder of sounds
 * (`genwave train wavenet`), on top of the teacher-forced pass in
 * models/wavenet_backprop.h and the shared trainer loop.
 *
 * Data: the dataset (io/dataset.h) is loaded at the model's rate as whole
 * files and split by file into training and validation. A training step
 * draws B random windows of N + RF samples from the training files (a file
 * is picked with probability proportional to its length; a window may start
 * up to RF samples before the file so the model learns to start from
 * silence), mu-law encodes them, and conditions each on its file's label:
 * MIDI note and velocity from manifest.csv or the file name
 * (gw_wavenet_cond_features). Validation NLL is measured on a fixed set of
 * windows of the held-out files, drawn once from the seed, in bits per
 * sample (nats / ln 2), every val_every steps.
 *
 * Outputs in RUNDIR: model.gwm (the final model with provenance metadata:
 * train.command, train.data, train.seed, train.steps, train.commit (git
 * rev-parse HEAD at run time, else "unknown"), train.note_min/max, metric.*),
 * and the trainer loop's checkpoint, CSV log and loss PNG.
 */
#ifndef GW_TRAIN_WAVENET_TRAINER_H
#define GW_TRAIN_WAVENET_TRAINER_H

#include "base/gw_base.h"
#include "io/dataset.h"
#include "train/dist.h"
#include "models/wavenet.h"
#include "models/wavenet_backprop.h"

#include <stdint.h>
#include <stdio.h>

typedef struct gw_wavenet_trainer_opts {
    const char *data_dir;
    const char *preset;       /* a FILE (a program resolves a NAME: gw_train_find_preset_in) */
    const char *out_dir;      /* RUNDIR, created if missing */
    const char *command_line; /* recorded in the model file */
    long steps;               /* 0 = preset's train.steps or 2000 */
    double minutes;           /* 0 = no time limit */
    int threads;              /* 0 = 1 */
    uint64_t seed;
    int resume;
    int overwrite;         /* start afresh even if RUNDIR holds a checkpoint */
    int batch;             /* 0 = preset's train.batch or 4 */
    int targets;           /* N per window; 0 = preset's train.targets or 4096 */
    float lr;              /* 0 = preset's train.lr or 1e-3 */
    int val_every;         /* 0 = preset's train.val_every or 200 */
    int val_batches;       /* fixed validation windows = val_batches x batch; 0 = 4 */
    int checkpoint_every;  /* 0 = preset's train.checkpoint_every or 500 */
    float clip_norm;       /* 0 = preset's train.clip_norm or 1.0 (<0: off) */
    int early_stop;        /* stop after N validations without a new best; 0 = never */
    const char *cache_dir; /* processed-audio cache; NULL = DATA/.genwave-cache */
    /* a second held-out folder, every clip of it (new velocities or takes of
     * the instrument being learnt): validated beside the split's held-out
     * side as val_data_bits, and the figure best.gwm and the warnings follow */
    const char *val_data_dir;
    const char *val_cache_dir; /* its processed-audio cache (as cache_dir) */
    FILE *progress;            /* progress line stream (NULL = silent) */
    gw_dist *dist;         /* data-parallel ranks (dist.h); NULL = this process alone */
} gw_wavenet_trainer_opts;

typedef struct gw_wavenet_trainer_result {
    long steps;             /* completed steps */
    float train_loss;       /* last training loss, nats */
    float val_bits;         /* last validation bits/sample */
    float val_bits_initial; /* validation bits/sample before the first step */
    double samples_per_s;   /* target samples per second of training */
    char model_path[4200];  /* RUNDIR/model.gwm */
    float val_data_bits;    /* last val_data_bits (NaN without val_data_dir) */
    float best_bits; /* the best validation bits/sample (NaN if none): of val_data_dir when given */
    long best_step;         /* its step: RUNDIR/best.gwm */
    char best_path[4200];
    int warnings; /* warnings printed (overfitting, worse than untrained, ...) */
    int early_stopped;
} gw_wavenet_trainer_result;

gw_status gw_wavenet_trainer_run(const gw_wavenet_trainer_opts *o, gw_wavenet_trainer_result *res,
                                 gw_error *err);

/* ---- building blocks (public for tests and benchmarks) ---- */

/* The held-out figure of a trained model on a folder (genwave eval): the
 * mean teacher-forced bits per sample (per band value for a band model) of
 * batches x batch windows of `targets` targets, drawn as the trainer draws
 * its validation windows. held_out: only the clips the folder's split holds
 * out (split_seed: the training --seed, the model's train.seed); else every
 * clip, for a folder the model never saw. With the training folder and the
 * training seed, batch and targets (train.batch), the windows are the
 * trainer's own and the figure is metric.val_bits_per_sample; every clip of
 * the --val-data folder (val_data_dir) gives metric.val_data_bits. Exactly
 * so for a run on one rank and one thread; with more, the trainer sums the
 * same losses in pieces, so the 4th decimal may differ. A folder with one
 * file validates on its training clips without the preset's pitch-shifted
 * copies, unlike the trainer. Mel-input (vocoder) models are refused. */
typedef struct gw_wavenet_eval_opts {
    const char *data_dir;
    const char *cache_dir; /* NULL: the dataset's default */
    int held_out;
    uint64_t split_seed, seed;
    int batch, targets, batches; /* 0: 8, 1024, 4 */
} gw_wavenet_eval_opts;

typedef struct gw_wavenet_eval_result {
    double bits;
    size_t clips;
    int windows, window_targets;
    int note_min, note_max; /* of the folder's labels */
} gw_wavenet_eval_result;

gw_status gw_wavenet_eval(gw_wavenet *m, const gw_wavenet_eval_opts *o, gw_wavenet_eval_result *res,
                          gw_error *err);

/* How training windows are drawn besides the data order (0 = off; the
 * held-out windows use none): gain_db scales each window by a random gain
 * (augment.h), drawn from rng after the windows; onset_share is the share
 * of windows whose first predicted samples are a clip's first ones, a note
 * leaving silence (gw_dataset_random_windows, within a quarter of the
 * targets). */
typedef struct gw_wavenet_draw_opts {
    float gain_db;
    float onset_share;
} gw_wavenet_draw_opts;

/* B random training windows as mu-law classes plus each item's conditioning,
 * from the clips in pool (see the top of this file). cond may be NULL when
 * the model has none. Unlabelled clips get note 60, velocity 100. opts may
 * be NULL. */
void gw_wavenet_draw_windows(uint8_t *window, // (B, W)
                             float *cond,     // (B, C_g) or NULL
                             const gw_dataset *ds, const size_t *pool, size_t n_pool,
                             const gw_wavenet_config *cfg, int B, int W,
                             const gw_wavenet_draw_opts *opts, gw_rng *rng,
                             float *scratch); // (B, W) floats

/* A logistic-output model's data (wavenet.h): every clip split by the PQMF
 * bank into `bands` sub-bands at sample_rate / bands (each clip from its own
 * start); gw_wavenet_band_data_scale then divides band k by gain[k] and
 * clamps to [-1, 1]. view[k] is the
 * dataset with band k's plane as its audio and the clips in frames, so the
 * dataset's window drawing works on it unchanged; ptr[k] = &view[k]. */
typedef struct gw_wavenet_band_data {
    gw_dataset view[GW_WAVENET_MAX_BANDS];
    const gw_dataset *ptr[GW_WAVENET_MAX_BANDS];
    gw_clip *clips;
    float *planes; // (bands, frames)
} gw_wavenet_band_data;
gw_status gw_wavenet_band_data_create(gw_wavenet_band_data **out, const gw_dataset *ds, int bands,
                                      gw_error *err);
void gw_wavenet_band_data_free(gw_wavenet_band_data *bd);
/* the largest |value| of each band over the clips in pool: peak (bands) */
void gw_wavenet_band_peak(float *peak, const gw_wavenet_band_data *bd, const size_t *pool,
                          size_t n_pool);
void gw_wavenet_band_data_scale(gw_wavenet_band_data *bd, const float *gain); // (bands)
/* RMS of each band's values over the clips in pool: rms (bands) */
void gw_wavenet_band_rms(float *rms, const gw_wavenet_band_data *bd, const size_t *pool,
                         size_t n_pool);

/* B random windows of band values (B, W, bands), each band's drawn at the
 * same positions (bands: gw_wavenet_band_data.ptr), plus conditioning as
 * gw_wavenet_draw_windows */
void gw_wavenet_draw_windows_bands(float *window, // (B, W, bands)
                                   float *cond,   // (B, C_g) or NULL
                                   const gw_dataset *const *bands, const size_t *pool,
                                   size_t n_pool, const gw_wavenet_config *cfg, int B, int W,
                                   const gw_wavenet_draw_opts *opts, gw_rng *rng,
                                   float *scratch); // (B, W) floats

#endif
