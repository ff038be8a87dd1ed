/* trainer.h - the one training loop every genwave trainer (WaveNet, GAN, VAE)
 * runs. It knows nothing about models: it calls back for a training step and
 * for validation, and owns everything around them:
 *
 *   - run controls: max steps, max minutes, seed, OpenBLAS threads;
 *   - a progress line on the progress stream (step/total, figures, units per
 *     second, ETA), \r-updated on a TTY, one line per interval otherwise;
 *   - RUNDIR/log.csv: one row per step with every figure (validation figures
 *     filled on validation steps), and RUNDIR/loss.png plotted from it;
 *   - RUNDIR/checkpoint.gwm every checkpoint_every steps, at the end, and on
 *     SIGINT/SIGTERM (the handler only sets an atomic flag; the loop finishes
 *     the current step, checkpoints and returns GW_ERR_INTERRUPTED). A
 *     checkpoint holds the registered parameter groups with their Adam
 *     moments/step and EMA shadows, the trainer's RNG and step, and whatever
 *     the save hook adds (data-order state ...). Written atomically, so a
 *     crash mid-write leaves the previous checkpoint;
 *   - resume: with cfg.resume the checkpoint is loaded and the run continues
 *     bit for bit as if never stopped (same params, moments, RNG stream);
 *   - a NaN/Inf loss (figure 0) or a GW_ERR_NUMERIC from the step stops the
 *     run with GW_ERR_NUMERIC naming the step; no checkpoint is written after
 *     it, so the last good one stays untouched.
 *
 * Usage (see tests/train/test_trainer.c for a complete toy trainer):
 *
 *   static const char *figs[] = {"loss", "grad_norm"};
 *   gw_trainer_config c = gw_trainer_defaults();
 *   c.run_dir = "runs/a"; c.max_steps = 2000; c.seed = 1;
 *   c.figure_names = figs; c.n_figures = 2;
 *   c.groups[0] = (gw_trainer_group){"", params, adam, ema}; c.n_groups = 1;
 *   c.units = "samples"; c.units_per_step = 4 * 4096;
 *   gw_trainer_hooks h = {.ctx = me, .step = my_step, .validate = my_val};
 *   gw_trainer_result r;
 *   st = gw_trainer_run(&c, &h, &r, err);
 *
 * The step callback must draw all its randomness from the rng it is given
 * (or from state it saves through the hooks) for resume to be exact.
 */
#ifndef GW_TRAIN_TRAINER_H
#define GW_TRAIN_TRAINER_H

#include "base/gw_base.h"
#include "io/dataset.h"
#include "nn/gwm.h"
#include "nn/optim.h"
#include "nn/params.h"
#include "train/dist.h"

#include <stdint.h>
#include <stdio.h>

enum {
    GW_TRAINER_MAX_FIGURES = 32, /* per kind (step / validation) */
    GW_TRAINER_MAX_GROUPS = 4,
};

/* one parameter group the trainer checkpoints and restores: tensors
 * "<prefix><name>", "<prefix>adam.*", "<prefix>ema.*" (see nn/optim.h) */
typedef struct gw_trainer_group {
    const char *prefix; /* "" or e.g. "gen." / "disc." */
    gw_params *params;
    gw_adam *adam; /* may be NULL */
    gw_ema *ema;   /* may be NULL */
} gw_trainer_group;

typedef struct gw_trainer_result gw_trainer_result; /* below */

typedef struct gw_trainer_hooks {
    void *ctx;
    /* One training step: forward, backward, optimiser update. step is the
     * 0-based number of this step (steps already done); draw randomness from
     * rng. Writes cfg.n_figures values into figures, in the order of
     * cfg.figure_names; figures[0] is the loss and must be finite. */
    gw_status (*step)(void *ctx, uint64_t step, gw_rng *rng, double *figures, gw_error *err);
    /* optional: validation after `step` completed steps; writes
     * cfg.n_val_figures values. Must not disturb the training state (use its
     * own fixed data/rng). */
    gw_status (*validate)(void *ctx, uint64_t step, double *figures, gw_error *err);
    /* optional: extra checkpoint state (data order, schedules, metadata) */
    gw_status (*save)(void *ctx, gw_gwm_writer *w, gw_error *err);
    gw_status (*load)(void *ctx, const gw_gwm *f, gw_error *err);
    /* optional, with cfg.best_figure >= 0: write the model as it is now to
     * path (RUNDIR/best.gwm), as the trainer writes model.gwm at the end;
     * so_far holds the run's figures up to this validation */
    gw_status (*save_best)(void *ctx, const char *path, const gw_trainer_result *so_far,
                           gw_error *err);
} gw_trainer_hooks;

typedef struct gw_trainer_config {
    const char *run_dir;             /* RUNDIR (created, with parents, if missing) */
    uint64_t max_steps;              /* total steps of the run (including resumed ones), > 0 */
    double max_minutes;              /* stop (with a checkpoint) after this wall time; 0 = none */
    uint64_t seed;                   /* seeds the rng handed to step */
    int threads;                     /* OpenBLAS threads; 0 = leave as is */
    int resume;                      /* continue from RUNDIR/checkpoint.gwm (error if absent) */
    int overwrite;                   /* start fresh even if RUNDIR has a checkpoint (else error) */
    uint64_t val_every;              /* validate every N steps (and at the end); 0 = never */
    int val_at_start;                /* validate before the first step (logged as step 0) */
    uint64_t checkpoint_every;       /* 0 = only at the end / on a signal */
    FILE *progress;                  /* progress lines; NULL = silent */
    double progress_seconds;         /* non-TTY: one line per this many seconds (default 10) */
    const char *units;               /* throughput unit, e.g. "samples", "examples" */
    double units_per_step;           /* units processed by one step */
    const char *const *figure_names; /* (n_figures) CSV column names, [0] = loss */
    int n_figures;
    const char *const *val_figure_names; /* (n_val_figures) e.g. "val_bits" */
    int n_val_figures;
    gw_trainer_group groups[GW_TRAINER_MAX_GROUPS];
    int n_groups;
    int handle_signals; /* install SIGINT/SIGTERM handlers during the run (default 1) */
    int write_png;      /* plot RUNDIR/loss.png at checkpoints (default 1) */
    const char *intro;  /* printed to the progress stream when the run really starts (after
                           the checkpoint checks, so a refused run says only its error):
                           what the data is, what was skipped */
    double val_minutes; /* also validate when this much wall time passed since the last
                           validation (0 = by steps only): a figure every few minutes
                           whatever a step costs */
    /* Keeping the best (docs/training.md, "The best model"): validation
     * figure best_figure (-1 = none) decides, larger better if best_higher.
     * Each new best is written to RUNDIR/best.gwm (hooks.save_best). A
     * warning line goes to the progress stream when the figure is worse
     * than its best by more than worse_margin for worse_patience
     * validations in a row (overfitting), when it is worse than the
     * untrained model's, and when figure grad_figure (-1 = none) runs away
     * (its running mean 10x that of steps 50-150 of the session). With
     * early_stop N the run stops (with a checkpoint) after N validations
     * without a new best. */
    int best_figure;
    int best_higher;
    double worse_margin; /* default 0: any worse counts */
    int worse_patience;  /* default 3 */
    int early_stop;      /* 0 = never */
    int grad_figure;     /* default -1 */
    /* Data-parallel training (dist.h; NULL = one process). Every rank runs
     * the loop; hooks.step computes its share of the global batch, and the
     * registered groups' optimisers average the gradients of all ranks.
     * Step figures are averaged over the ranks. Rank 0 alone validates,
     * prints, logs, plots and checkpoints (the other ranks' progress, PNG
     * and hook writes are off), and decides when the loop ends. Resuming
     * reads the checkpoint on every rank (a run directory all can read).
     * units_per_step is the job's (the global batch). */
    gw_dist *dist;
    /* checked to agree on every rank before the run (gw_dist_agree), with
     * the seed, step count and parameter counts the loop adds itself:
     * e.g. hashes of the preset and of the training data */
    uint64_t agree[4];
    const char *agree_what[4];
    int n_agree;
} gw_trainer_config;

gw_trainer_config gw_trainer_defaults(void);

typedef enum gw_trainer_stop {
    GW_TRAINER_STOP_STEPS = 0, /* reached max_steps */
    GW_TRAINER_STOP_TIME,      /* reached max_minutes */
    GW_TRAINER_STOP_SIGNAL,    /* SIGINT/SIGTERM (status GW_ERR_INTERRUPTED) */
    GW_TRAINER_STOP_NUMERIC,   /* NaN/Inf (status GW_ERR_NUMERIC) */
    GW_TRAINER_STOP_ERROR,     /* a callback or I/O failed */
    GW_TRAINER_STOP_EARLY,     /* early_stop validations without a new best */
} gw_trainer_stop;

struct gw_trainer_result {
    uint64_t steps;        /* completed steps (total, including resumed) */
    uint64_t resumed_from; /* step the run resumed at (0 if fresh) */
    gw_trainer_stop stop;
    double figures[GW_TRAINER_MAX_FIGURES];     /* last step's */
    double val_figures[GW_TRAINER_MAX_FIGURES]; /* last validation's (NaN if none) */
    double val_first[GW_TRAINER_MAX_FIGURES];   /* the untrained model's (step 0), kept across
                                                   resumes; else the session's first */
    double best_value;                          /* best_figure at its best (NaN if none) */
    uint64_t best_step;                         /* the step it was reached at */
    char best_path[4200];                       /* RUNDIR/best.gwm ("" if none written) */
    int warnings;                               /* warning lines printed */
    char warning[512];                          /* the last one */
    double seconds;                             /* wall time of this session */
    double units_per_second;                    /* this session's throughput */
    char checkpoint_path[4200];
    char log_path[4200];
};

/* Runs the loop (see the top of this file). res may be NULL. On
 * GW_ERR_INTERRUPTED a checkpoint of the last completed step was written. */
gw_status gw_trainer_run(const gw_trainer_config *cfg, const gw_trainer_hooks *hooks,
                         gw_trainer_result *res, gw_error *err);

/* Step decay of the learning rate: lr * factor^k at `step` (0-based), k the
 * number of entries of decay_steps (ascending) that are <= step. A function
 * of the step alone, so a resumed run follows the same schedule. */
double gw_train_lr_at(double lr, const int *decay_steps, int n, double factor, uint64_t step);

/* "12m05s" style durations for progress lines */
char *gw_trainer_format_duration(char *buf, size_t cap, double seconds);

/* ---- what every trainer's CLI and provenance need ---- */
/* Resolves a preset given as a file path or a bare NAME: NAME.json in the
 * first of dirs[0..n_dirs) that holds it (NULL or empty entries are
 * skipped). The library reads no environment: the program decides where
 * presets live (genwave's order - $GW_PRESETS_DIR, ./presets, presets/
 * beside or above the executable, $GW_SOURCE_DIR/presets - is built by the
 * CLI's gw_cli_find_preset, cli/args.h). A missing NAME is GW_ERR_ARG with
 * the folders searched in the message. Any kind of preset (WaveNet, GAN,
 * VAE, PixelCNN) works. */
gw_status gw_train_find_preset_in(char *path, size_t cap, const char *name_or_file,
                                  const char *const *dirs, int n_dirs, gw_error *err);
/* the same with no folders: a preset FILE only, checked - what the trainers
 * take (the program resolves a NAME before they run) */
gw_status gw_train_find_preset(char *path, size_t cap, const char *file, gw_error *err);

/* `--preset auto` (docs/training-your-own-sounds.md, "Small folders"): the
 * preset NAME for training `kind` (wavenet, gan, vae, pixelcnn) on the
 * folder that report describes (gw_dataset_scan), chosen by its size:
 *   wavenet: pitch-labelled files, under 30 minutes usable: wavenet-small-data
 *            (pitch-shift augmentation); 30 minutes or more:
 *            wavenet-default-harmonic; mostly unlabelled: wavenet-small;
 *   gan:     under 500 usable files: specgan-small-data (DiffAugment);
 *            else specgan-small;
 *   vae:     specvae-small; pixelcnn: pixelcnn-small.
 * why (may be NULL) gets a line saying what was seen. GW_ERR_ARG for an
 * unknown kind. */
gw_status gw_train_auto_preset(char *name, size_t cap, char *why, size_t why_cap, const char *kind,
                               const gw_dataset_report *report, gw_error *err);

/* FNV-1a 64 of a file's bytes (a preset's, for the ranks' agreement);
 * GW_HASH_INIT-based, 0 when it cannot be read */
uint64_t gw_train_hash_file(const char *path);

/* "git rev-parse HEAD" of the current directory's repository, or "unknown" */
void gw_train_git_commit(char *out, size_t cap);

#endif
