/* gw_base.h - the bottom layer every other part of genwave stands on.
 *
 * Errors: library functions return a gw_status (GW_OK == 0) and, when they
 * fail, fill a caller-owned gw_error with one human-readable line that names
 * the file or value at fault. Nothing here prints or exits; only the CLI
 * decides how to report.
 *
 * Randomness: gw_rng is xoshiro256** seeded through splitmix64, so the same
 * seed gives the same bits on every run and every machine. There is no global
 * RNG: whoever needs randomness owns a gw_rng.
 *
 * Files: gw_afile writes a file atomically (temp file, fsync, rename), so a
 * crash or a full disk never leaves a half-written model or checkpoint where
 * the good one was. gw_mkdirs makes the folders they go in.
 */
#ifndef GW_BASE_H
#define GW_BASE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define GW_VERSION_STRING "0.1.0"

typedef enum gw_status {
    GW_OK = 0,
    GW_ERR_NOMEM,   /* allocation failed */
    GW_ERR_IO,      /* open/read/write/fsync/rename failed */
    GW_ERR_FORMAT,  /* a file's contents are malformed, truncated or corrupt */
    GW_ERR_ARG,     /* a caller passed an invalid value */
    GW_ERR_NUMERIC, /* NaN or Inf where a finite number was required */
    GW_ERR_UNSUPPORTED,
    GW_ERR_INTERRUPTED, /* stopped by a signal (Ctrl-C) */
} gw_status;

enum { GW_ERROR_MSG_MAX = 512 };

typedef struct gw_error {
    gw_status status;
    char msg[GW_ERROR_MSG_MAX];
} gw_error;

/* Fills err (which may be NULL) and returns status, so a failing path reads
 * `return gw_fail(err, GW_ERR_IO, "%s: cannot open: %s", path, strerror(errno));` */
gw_status gw_fail(gw_error *err, gw_status status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
const char *gw_status_name(gw_status s);
/* s with control bytes (ESC, newline ...) and backslashes escaped as \xNN
 * and \\, so a file name printed to a terminal runs no escape sequence and
 * splits no line (D11); truncated to fit buf */
const char *gw_printable(char *buf, size_t cap, const char *s);

/* ---- seeded random numbers (xoshiro256**) ---- */
typedef struct gw_rng {
    uint64_t s[4];
} gw_rng;

void gw_rng_seed(gw_rng *rng, uint64_t seed);
uint64_t gw_rng_u64(gw_rng *rng);
/* uniform in [0, 1) with 24 random bits (exactly representable in float) */
float gw_rng_uniform(gw_rng *rng);
/* uniform integer in [0, n), unbiased; n > 0 */
uint64_t gw_rng_below(gw_rng *rng, uint64_t n);
/* advances the stream by n words, as n gw_rng_u64 calls would */
void gw_rng_skip(gw_rng *rng, uint64_t n);
/* standard normal (Box-Muller on two uniforms; no cached spare, so the stream
 * position depends only on the number of calls) */
float gw_rng_normal(gw_rng *rng);
void gw_rng_fill_normal(gw_rng *rng, float *out, size_t n, float mean, float std);
/* One process's share of a batch's noise (data-parallel training): draws
 * before + n + after standard normals and keeps the middle n, so the
 * stream is where drawing all of them would leave it and the kept values
 * are the ones the whole batch drawn at once would hold there. */
void gw_rng_fill_normal_share(gw_rng *rng, float *out, size_t n, size_t before, size_t after);
void gw_rng_fill_uniform(gw_rng *rng, float *out, size_t n, float lo, float hi);
/* splitmix64's finaliser: a bijection of 64-bit words that spreads every
 * input bit over the output (for hashes with weak low bits, and for deriving
 * seeds from (seed, counter) pairs) */
uint64_t gw_mix64(uint64_t z);

/* ---- memory ---- */
/* 64-byte aligned, zeroed allocation of n bytes; free with gw_free. */
void *gw_alloc(size_t n);
void gw_free(void *p);

/* ---- atomic file writes ---- */
typedef struct gw_afile {
    FILE *fp;            /* write through this */
    char path[4096];     /* final path */
    char tmp_path[4096]; /* path.tmp.PID */
} gw_afile;

gw_status gw_afile_open(gw_afile *af, const char *path, gw_error *err);
/* flush, fsync, close and rename over path; on any failure the temp file is
 * removed and the old file at path (if any) is left untouched. */
gw_status gw_afile_commit(gw_afile *af, gw_error *err);
/* close and remove the temp file; safe to call after a failed commit */
void gw_afile_abort(gw_afile *af);
/* Removes the NAME.tmp.PID files in dir whose writer is gone (no process
 * has that pid: killed mid-write, D7), never one a live process may be
 * writing; returns how many. Called where atomic files are written: a run
 * folder when a run starts, the cache folder when it is saved to. */
int gw_afile_clean_stale(const char *dir);

/* ---- floating-point mode of the calling thread (fpenv.c) ----
 * Denormals cost Intel cores ~100 cycles per operation and AMD's hardly
 * anything, so every thread that computes (audio, generation, training and
 * the BLAS pool's workers: nn/gw_nn.h's gw_blas_setup) flushes them.
 * gw_denormals_flush sets FTZ+DAZ and returns the mode it replaced, for
 * gw_denormals_restore; gw_denormals_flushed tells whether both are set. */
unsigned gw_denormals_flush(void);
void gw_denormals_restore(unsigned old);
int gw_denormals_flushed(void);

/* The generation planner's wisdom file (models/wavenet.h), for programs
 * (the CLI, the plugin) to pass on; the library never calls this itself:
 * $GW_WISDOM if set (empty: none), else $XDG_CACHE_HOME/genwave/wisdom,
 * else ~/.cache/genwave/wisdom; NULL when none can be named. */
const char *gw_wisdom_path(char *buf, size_t cap);

/* The processed-audio cache folder of a dataset folder, for programs to
 * pass on (never the sound folder itself): $GW_CACHE, else
 * $XDG_CACHE_HOME/genwave, else ~/.cache/genwave, then
 * /datasets/<hash of data_dir's real path>; NULL when none can be named. */
const char *gw_cache_path(char *buf, size_t cap, const char *data_dir);

/* ---- fork-join (threads.c) ----
 * gw_run_jobs runs fn(job) for the n jobs of an array (job i at
 * (char *)jobs + i * job_size): jobs 1.. on new threads, job 0 on the
 * caller's, and returns when all are done. A job whose thread cannot be
 * started runs on the caller's thread after the others, so the work is
 * always done. The data-parallel trainers' shards and the convolution's
 * column blocks use it; each fn sets its own thread's floating-point mode. */
void gw_run_jobs(void *(*fn)(void *), void *jobs, size_t job_size, int n);

/* ---- bfloat16 (bf16.c) ----
 * A float's top 16 bits: rounding is to nearest even and NaN stays NaN;
 * widening is exact. */
uint16_t gw_f32_to_bf16(float f);
float gw_bf16_to_f32(uint16_t h);

/* ---- the CPU ---- */
/* "AMD EPYC (family 25 model 17)": the brand string and the family/model
 * numbers (two steppings of one name can differ); writes buf, returns it */
const char *gw_cpu_model(char *buf, size_t cap);

/* ---- folders ---- */
/* mkdir -p: creates path and every missing parent (mode 0777 less umask).
 * what names the folder's role in the "bad" error ("run directory"). */
gw_status gw_mkdirs(const char *path, const char *what, gw_error *err);

/* Reads a whole regular file into *out (free with free(); a NUL follows the
 * last byte, not counted in *n). A FIFO, device or folder is refused without
 * blocking, and a file over max bytes before it is read ("larger than any
 * WHAT"). */
gw_status gw_read_file(const char *path, size_t max, const char *what, unsigned char **out,
                       size_t *n, gw_error *err);
/* "PATH: cannot open: ..." or "PATH: not a regular file" (a FIFO, a device,
 * a folder), found by stat, which never blocks, before a reader's open
 * would wait on a FIFO forever (D5) */
gw_status gw_check_regular(const char *path, gw_error *err);

/* ---- small helpers ---- */
static inline size_t gw_align64(size_t n) {
    return (n + 63u) & ~(size_t)63u;
}

#endif
