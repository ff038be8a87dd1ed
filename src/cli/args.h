/* args.h - what every subcommand's option loop shares: strict number
 * parsing (the whole argument must be a number within a range), the
 * one-line "genwave: ..." error report, and output folders. */
#ifndef GW_CLI_ARGS_H
#define GW_CLI_ARGS_H

#include "base/gw_base.h"
#include "models/wavenet.h"

#include <stdio.h>

/* prints "genwave: MSG" and returns 1 (the failure exit code) */
int gw_cli_error(const gw_error *err);

/* strict parsers: 1 if all of s is a number within [lo, hi] (stored in
 * *out), 0 otherwise, silently; s may be NULL (a missing value) */
int gw_cli_int(const char *s, long lo, long hi, long *out);
int gw_cli_double(const char *s, double lo, double hi, double *out);
/* any finite number */
int gw_cli_number(const char *s, double *out);

/* the same, for the value s of option opt; on failure prints
 * "genwave: OPT: 'S' is not an integer in [LO, HI]" (or "a number") */
int gw_cli_int_opt(int *out, const char *opt, const char *s, long lo, long hi);
int gw_cli_double_opt(double *out, const char *opt, const char *s, double lo, double hi);

/* prints "genwave CMD: bad value 'V' for OPT" and returns 2 (bad usage) */
int gw_cli_bad_value(const char *cmd, const char *opt, const char *v);

/* prints "genwave CMD: unexpected argument 'ARG'" and the usage, returns 2 */
int gw_cli_unexpected(const char *cmd, const char *arg, void (*usage)(FILE *out));

/* A table-driven option loop for commands whose options are plain values
 * (the spectrogram-model commands): the loop, -h/--help and the usage
 * errors live once in gw_cli_parse; each command lists its options. */
typedef enum {
    GW_CLI_STR,    /* out: const char ** */
    GW_CLI_INT,    /* out: long *, within [lo, hi] */
    GW_CLI_DOUBLE, /* out: double *, within [lo, hi] */
    GW_CLI_FLAG,   /* out: int *, set to 1; takes no value */
    GW_CLI_CUSTOM, /* take(out, values) reads nargs values (0 means 1) */
} gw_cli_opt_type;

typedef struct gw_cli_opt {
    const char *name;
    gw_cli_opt_type type;
    void *out;
    double lo, hi;
    int *given; /* optional: set to 1 when the option is given */
    /* CUSTOM: 0 when the values are taken, else the exit code after its
     * own message (gw_cli_bad_value or another) */
    int (*take)(void *out, char **values);
    int nargs;
} gw_cli_opt;

/* table rows; `1 ? out : (T *)NULL` makes the compiler check out's type */
#define GW_CLI_OPT_STR(name, out)                                                                  \
    { (name), GW_CLI_STR, 1 ? (out) : (const char **)NULL, 0, 0, NULL, NULL, 0 }
#define GW_CLI_OPT_INT(name, out, lo, hi)                                                          \
    { (name), GW_CLI_INT, 1 ? (out) : (long *)NULL, (lo), (hi), NULL, NULL, 0 }
#define GW_CLI_OPT_DOUBLE(name, out, lo, hi, given)                                                \
    { (name), GW_CLI_DOUBLE, 1 ? (out) : (double *)NULL, (lo), (hi), (given), NULL, 0 }
#define GW_CLI_OPT_FLAG(name, out)                                                                 \
    { (name), GW_CLI_FLAG, 1 ? (out) : (int *)NULL, 0, 0, NULL, NULL, 0 }
#define GW_CLI_OPT_CUSTOM(name, out, take, nargs)                                                  \
    { (name), GW_CLI_CUSTOM, (out), 0, 0, NULL, (take), (nargs) }

/* the option loop of `genwave CMD`: -h/--help prints the usage to stdout
 * (returns 0); an option of opts takes its value(s) (a number out of range:
 * gw_cli_bad_value, 2); other arguments not starting with '-' fill *pos[0],
 * *pos[1], ... in order; anything else (also an option without its value):
 * gw_cli_unexpected, 2. Returns -1 when every argument was taken. */
int gw_cli_parse(int argc, char **argv, const char *cmd, void (*usage)(FILE *out),
                 const gw_cli_opt *opts, int n_opts, const char **pos[], int n_pos);
/* the same over the arrays opts[] and pos[] */
#define GW_CLI_PARSE(argc, argv, cmd, usage, opts, pos)                                            \
    gw_cli_parse((argc), (argv), (cmd), (usage), (opts), (int)(sizeof(opts) / sizeof((opts)[0])),  \
                 (pos), (int)(sizeof(pos) / sizeof((pos)[0])))

/* "PREFIX ARGV[0] ARGV[1] ...": the command line a model file records;
 * malloc'd (free it), NULL when out of memory */
char *gw_cli_join(const char *prefix, int argc, char **argv);

/* --precision V of CMD: 1 with the gw_wavenet_weight_type in *out, or 0
 * after printing "genwave CMD: --precision: ..." */
int gw_cli_precision(int *out, const char *cmd, const char *v);

/* --plan V of CMD: "measure" (*measure = 1) or a plan TYPE/ISA/PREFETCH to
 * replay (*measure = 0, *plan set); 1, or 0 after printing the error */
int gw_cli_plan(gw_wavenet_plan *plan, int *measure, const char *cmd, const char *v);

/* The programs, not the library, read the environment (the library is
 * handed the values). These two are genwave's variables for it. */

/* --preset NAME|FILE: a FILE as is, else NAME.json in the first of
 * $GW_PRESETS_DIR, ./presets, presets/ beside the executable, above it (a
 * build tree) and in ../share/genwave/presets (an install), then
 * $GW_SOURCE_DIR/presets (train/trainer.h's gw_train_find_preset_in over
 * those folders) */
gw_status gw_cli_find_preset(char *path, size_t cap, const char *name_or_file, gw_error *err);

/* $GW_WAVENET_ISA=scalar|avx2|avx512 caps the WaveNet kernels for
 * benchmarks and debugging (models/wavenet_kernels.h gw_wn_kernels_capped):
 * when isa (a plan's, cap bytes) is "" - the best this CPU runs - and the
 * variable is set, isa becomes the name of the best set at or below the
 * cap; an ISA already chosen (--plan, the planner) stays. */
void gw_cli_isa_cap(char *isa, size_t cap);

/* "LO-HI" or "N": MIDI notes 0..127; 1 if valid (*lo, *hi set) */
int gw_cli_note_range(const char *s, int *lo, int *hi);
/* the notes a model was trained on (train.note_min/note_max, written by
 * the trainer): 1 with them, or 0 with 0..127 when absent or malformed */
struct gw_gwm;
int gw_cli_model_notes(const struct gw_gwm *f, int *lo, int *hi);

/* Levenshtein distance of two short strings (for "did you mean ...?") */
int gw_cli_edit_distance(const char *a, const char *b);

/* mkdir -p; prints the error and returns 1 on failure */
int gw_cli_mkdirs(const char *dir);

#endif
