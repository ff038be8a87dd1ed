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
