/* train_args.h - the run controls every `genwave train KIND` takes, parsed
 * in one place (issue 7: every trainer has the same run controls; the loop
 * behind them is train/trainer.h). A kind adds its own options through a
 * callback; the option loop, the help for the run controls and the bad-usage
 * reports are the same for all kinds:
 *
 *   gw_cli_train_run r = {.seed = o.seed};   // the trainer's defaults
 *   int rc = gw_cli_train_args(&r, argc, argv, my_option, &o, my_usage);
 *   if (rc >= 0) return rc;                  // --help, or bad usage
 *   GW_CLI_TRAIN_RUN_APPLY(&o, &r);
 */
#ifndef GW_CLI_TRAIN_ARGS_H
#define GW_CLI_TRAIN_ARGS_H

#include "train/dist.h"

#include <stdint.h>
#include <stdio.h>

typedef struct gw_cli_train_run {
    const char *data_dir;  /* --data DIR (required) */
    const char *preset;    /* --preset NAME|FILE (required); the FILE once parsed */
    const char *out_dir;   /* --out RUNDIR (required) */
    long steps;            /* --steps: total, a resumed run's included; 0 = trainer's */
    double minutes;        /* --minutes: wall time of this session; 0 = no limit */
    int threads;           /* --threads: BLAS threads; 0 = 1 */
    uint64_t seed;         /* --seed */
    int resume, overwrite; /* --resume, --overwrite */
    int batch;             /* --batch; 0 = preset's */
    float lr;              /* --lr; 0 = preset's */
    int checkpoint_every;  /* --checkpoint-every; 0 = preset's or 500 */
    int early_stop;        /* --early-stop N: validations without a new best; 0 = never */
    const char *cache_dir; /* --cache DIR; NULL = the user's cache (gw_cache_path) */
    char cache_buf[4200];
    char preset_buf[4200]; /* where a --preset NAME was found (gw_cli_find_preset) */
    double mpi_timeout;    /* --mpi-timeout S (read by gw_cli_train_dist_start) */
    char auto_name[64];    /* the preset --preset auto chose */
    gw_dist *dist;         /* the ranks of an mpirun job, or NULL (set before parsing) */
} gw_cli_train_run;

/* The MPI side of `genwave train` (train/dist.h): a process started by
 * mpirun joins its job (with --mpi-timeout S, default 600, as the wait
 * limit of one collective); any other runs alone (*d = NULL). */
typedef struct gw_cli_dist {
    gw_dist *dist;
    int interrupted;  /* set by a kind when its run ended on Ctrl-C (every rank did) */
    int shared_error; /* set by gw_cli_dist_error: every rank failed alike (agreement) */
} gw_cli_dist;
gw_status gw_cli_train_dist_start(gw_cli_dist *d, int argc, char **argv, gw_error *err);
/* Leaves the job: a rank that failed on its own ends the whole job (the
 * others would wait for it forever); returns rc. */
int gw_cli_train_dist_end(gw_cli_dist *d, int rc);
/* gw_cli_error for a rank: rank 0 says it for the job; another rank names
 * itself ("genwave: rank K: ..."), and keeps quiet when the ranks' agreement
 * check failed (every rank refuses alike, and none needs ending) */
int gw_cli_dist_error(gw_cli_dist *d, const gw_error *err);

/* the run controls into a trainer's options: gw_wavenet_trainer_opts and
 * gw_spec_trainer_opts give them the same names (a macro because they are
 * two types, and the train layer keeps its own option structs) */
#define GW_CLI_TRAIN_RUN_APPLY(o, r)                                                               \
    do {                                                                                           \
        (o)->data_dir = (r)->data_dir;                                                             \
        (o)->preset = (r)->preset;                                                                 \
        (o)->out_dir = (r)->out_dir;                                                               \
        (o)->steps = (r)->steps;                                                                   \
        (o)->minutes = (r)->minutes;                                                               \
        (o)->threads = (r)->threads;                                                               \
        (o)->seed = (r)->seed;                                                                     \
        (o)->resume = (r)->resume;                                                                 \
        (o)->overwrite = (r)->overwrite;                                                           \
        (o)->batch = (r)->batch;                                                                   \
        (o)->lr = (r)->lr;                                                                         \
        (o)->checkpoint_every = (r)->checkpoint_every;                                             \
        (o)->early_stop = (r)->early_stop;                                                         \
        (o)->dist = (r)->dist;                                                                     \
        (o)->cache_dir = (r)->cache_dir                                                            \
                             ? (r)->cache_dir                                                      \
                             : gw_cache_path((r)->cache_buf, sizeof(r)->cache_buf, (r)->data_dir); \
    } while (0)

/* If option a (with the next argument v, NULL at the end of the command
 * line) is a run control, stores it in *r and returns how many arguments it
 * took (1 for --resume and --overwrite, 2 for the others); -1 when it is one
 * but v is missing or out of range; 0 when it is not a run control. */
int gw_cli_train_option(gw_cli_train_run *r, const char *a, const char *v);

/* the usage lines of `genwave train KIND` for the run controls (a kind
 * prints its own options after them) */
void gw_cli_train_usage(FILE *f, const char *kind);

/* a kind's own options: stores value v of option a and returns 1; returns 0
 * when a is not one of them or v is bad */
typedef int (*gw_cli_train_option_fn)(void *ctx, const char *a, const char *v);

/* Parses `genwave train KIND ...` (argv[0] = KIND): run controls into *r,
 * every other option with a value through option(ctx, a, v), and resolves
 * --preset to a file (r->preset then names it: the trainers take files).
 * Returns -1 when the command line is good (go on and train), else the exit
 * code: 0 after --help (usage(stdout, KIND)); 2 for an unknown option, a bad
 * or missing value, or a missing --data/--preset/--out ("genwave train KIND:
 * ..." and usage(stderr, KIND)); 1 for a preset that is not there
 * ("genwave: --preset NAME: no such preset ..."). */
int gw_cli_train_args(gw_cli_train_run *r, int argc, char **argv, gw_cli_train_option_fn option,
                      void *ctx, void (*usage)(FILE *f, const char *kind));

#endif
