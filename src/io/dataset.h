/* dataset.h - "train on your own sounds": a dataset is any folder, scanned
 * recursively for audio files (by extension, see gw_audio_is_audio_ext; hidden
 * entries, the cache folder and manifest.csv are skipped).
 *
 * Pipeline per file (gw_dataset_load): decode -> downmix to mono -> resample
 * to the model rate (gw_resample) -> trim leading/trailing silence below
 * silence_db dBFS -> either cut fixed-length clips or keep the whole file.
 *   - silent: peak below silence_db -> skipped (listed in the report)
 *   - too short: shorter than min_seconds after trimming -> skipped
 *   - clip mode: clips start at 0, hop, 2 hop, ... while a whole clip fits;
 *     a file shorter than one clip (but >= min_seconds) gives one clip padded
 *     with zeros at the end (counted as "padded"); a tail shorter than a clip
 *     after the last whole one is dropped.
 * Unreadable or truncated files are skipped with one warning line each in
 * report->warnings; library code never prints.
 *
 * Labels (optional): DIR/manifest.csv wins, one row per file (relative to
 * DIR). A first line with a column "file" names the columns in any order:
 * file, note, velocity, split (train|val) and class (a name, for models
 * conditioned on classes), all but file optional, e.g. "file,class" for
 * one-shots. Without such a header the columns are file,note,velocity[,split]
 * (velocity may be empty) and the first line is skipped as a header.
 * Otherwise the file name may carry tokens "n<NOTE>" and "v<VEL>" separated by
 * '_', '-', '.' or ' ', e.g. "piano_n60_v100.wav" (note 0..127, velocity
 * 1..127). Unlabelled: note = velocity = -1.
 *
 * Split: by file, so clips of one recording never sit on both sides. A file is
 * validation when FNV-1a-64(relative path) mixed with the seed, as a fraction
 * of 2^64, is below val_fraction. With >= 2 usable files and val_fraction > 0
 * at least one file lands on each side (the file with the smallest hash moves
 * to validation, or the largest to training).
 *
 * Cache: the processed audio is stored in CACHE/dataset-<S>-<key>.bin where S
 * hashes the settings and key hashes them with every file's relative path,
 * size and mtime; the file carries a checksum. Labels and the split are
 * recomputed on every load, so editing manifest.csv or the split settings
 * needs no rebuild. A stale key misses; a corrupt or truncated cache
 * file is detected, reported as a warning and rebuilt. Writes are atomic.
 */
#ifndef GW_IO_DATASET_H
#define GW_IO_DATASET_H

#include "base/gw_base.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef struct gw_dataset_opts {
    int sample_rate;        /* model rate; <= 0 keeps each file's rate (scan only) */
    double min_seconds;     /* after trimming; default 0.05 */
    float silence_db;       /* trim / silence threshold in dBFS; default -60 */
    int trim;               /* trim leading/trailing silence; default 1 */
    size_t clip_samples;    /* > 0: fixed clips of this length; 0: whole files (default) */
    size_t clip_hop;        /* hop between clips; 0 = clip_samples */
    int max_clips_per_file; /* 0 = all clips; 1 = first clip only (one-shots) */
    double val_fraction;    /* default 0.1 */
    uint64_t split_seed;    /* default 1 */
    const char *cache_dir;  /* NULL = DIR/.genwave-cache */
    int no_cache;           /* 1 = neither read nor write a cache */
} gw_dataset_opts;

void gw_dataset_opts_default(gw_dataset_opts *o);

typedef enum gw_file_status {
    GW_FILE_OK = 0,
    GW_FILE_UNREADABLE, /* libsndfile could not decode it (reason says why) */
    GW_FILE_SILENT,     /* peak below silence_db */
    GW_FILE_TOO_SHORT,  /* shorter than min_seconds after trimming */
} gw_file_status;

typedef struct gw_dataset_file {
    char *rel; /* path relative to the dataset root */
    gw_file_status status;
    char reason[256]; /* why unreadable / skipped; "" when ok */
    int sample_rate, channels;
    double seconds;         /* as stored */
    double trimmed_seconds; /* after silence trimming */
    float peak_db;          /* peak level, dBFS */
    int note, velocity;     /* -1 when unlabelled */
    int is_val;             /* split side */
    int split;              /* manifest.csv's split column: -1 none (hashed), 0 train, 1 val */
    char class_name[64];    /* manifest.csv's class column; "" when none */
    int padded;             /* clip mode: shorter than a clip, padded */
    int64_t size, mtime_ns; /* for the cache key */
} gw_dataset_file;

typedef struct gw_dataset_report {
    char *root;
    gw_dataset_file *files; /* (n_files) sorted by relative path */
    size_t n_files;         /* audio-looking files found */
    size_t n_ignored;       /* other files (not audio by name) */
    size_t n_ok, n_unreadable, n_silent, n_short, n_padded, n_labelled;
    size_t n_train_files, n_val_files;
    double total_seconds;    /* all readable files, as stored */
    double usable_seconds;   /* ok files after trimming */
    int rates[16];           /* distinct sample rates seen ... */
    size_t rate_files[16];   /* ... and how many files have each */
    int n_rates;             /* (rates beyond 16 distinct ones are lumped into the last) */
    size_t channel_files[9]; /* [c] files with c channels (1..7), [8] = 8 or more */
    char **warnings;         /* one line each, e.g. "a/b.wav: skipped: ..." */
    size_t n_warnings;
} gw_dataset_report;

/* Scan only: probes and decodes each file at its own rate to measure length,
 * peak and trimmed length; no resampling, no cache. Errors: missing or
 * unreadable DIR (GW_ERR_IO), no audio files (GW_ERR_ARG), every audio file
 * unreadable (GW_ERR_FORMAT, naming the first and its reason). */
gw_status gw_dataset_scan(gw_dataset_report **out, const char *dir, const gw_dataset_opts *opts,
                          gw_error *err);
void gw_dataset_report_free(gw_dataset_report *r);
/* human-readable report (what `genwave dataset` prints) to a caller's stream */
void gw_dataset_report_write(const gw_dataset_report *r, FILE *out);
/* What a trainer says about its data before it starts (D8): one line
 * "WHAT: N usable files, S s (T train / V held out); skipped ...", then
 * each warning (a skipped or rejected file, named) as "warning: ..." and,
 * when no file is held out, that the held-out figure then measures
 * training data. */
void gw_dataset_report_brief(const gw_dataset_report *r, FILE *out, const char *what);

typedef struct gw_clip {
    size_t offset; /* into gw_dataset.audio */
    size_t n;      /* samples (clip_samples in clip mode) */
    size_t valid;  /* real samples before zero padding */
    int file;      /* index into report->files */
    int note, velocity;
    int is_val;
} gw_clip;

typedef struct gw_dataset {
    int sample_rate;
    gw_dataset_opts opts; /* settings used (cache_dir not kept) */
    gw_dataset_report *report;
    float *audio; // (audio_n) every clip back to back, mono, model rate
    size_t audio_n;
    gw_clip *clips; // (n_clips)
    size_t n_clips;
    size_t *train, n_train; /* clip indices of each split side */
    size_t *val, n_val;
    uint64_t key;         /* settings + files: derive feature cache keys from it */
    char cache_dir[4096]; /* "" when caching is off */
    int from_cache;       /* 1 when the audio came from a valid cache */
} gw_dataset;

/* Needs opts->sample_rate > 0. Besides the scan errors: no usable clip at all
 * (GW_ERR_ARG, saying how many were silent/too short). */
gw_status gw_dataset_load(gw_dataset **out, const char *dir, const gw_dataset_opts *opts,
                          gw_error *err);
void gw_dataset_free(gw_dataset *ds);
/* A hash of what training sees: the samples, the clips with their labels
 * and the split; unlike key, not of file times, so two hosts with copies of
 * the same folder agree (train/dist.h). */
uint64_t gw_dataset_content_hash(const gw_dataset *ds);

static inline const float *gw_dataset_clip_data(const gw_dataset *ds, size_t i) {
    return ds->audio + ds->clips[i].offset;
}

/* copy clips idx[0..batch) into out; clips shorter than len are zero padded,
 * longer ones cut. notes/velocities (may be NULL) get the labels. */
void gw_dataset_batch(float *out, int *notes, int *velocities, const gw_dataset *ds,
                      const size_t *idx, size_t batch, size_t len); // out (batch, len)

/* Random training windows from whole files: a clip of pool is drawn with
 * probability proportional to its length, then a start uniformly in
 * [-left_context, n - len] (samples before the clip start read as zeros, so a
 * model also learns to start from silence; a clip shorter than len is right
 * padded with zeros). clip_idx (may be NULL) receives the chosen clips.
 * Onset windows: with probability onset_share (> 0; drawn only then, so
 * the stream is unchanged without) the start is drawn in [-left_context,
 * -left_context + onset_span] instead: the clip's first samples, a note
 * leaving silence, fall among the window's first predicted samples. A
 * uniform start makes that one window in (n - len + left_context). */
void gw_dataset_random_windows(float *out, size_t *clip_idx, const gw_dataset *ds,
                               const size_t *pool, size_t n_pool, size_t batch, size_t len,
                               size_t left_context, double onset_share, size_t onset_span,
                               gw_rng *rng); // out (batch, len)

/* ---- helpers, public for tests and for other feature caches ---- */
/* filename label tokens; returns 1 when a note was found */
int gw_dataset_label_from_name(const char *name, int *note, int *velocity);
/* the raw split rule for one relative path (before the at-least-one fix) */
int gw_dataset_split_is_val(const char *rel, uint64_t seed, double val_fraction);
/* FNV-1a 64 continuing from h (start with GW_HASH_INIT) */
#define GW_HASH_INIT 0xcbf29ce484222325ULL
uint64_t gw_hash64(uint64_t h, const void *data, size_t n);

/* Caches of derived data in dir (created if missing). A cache slot is a
 * name; its current version is the file dir/<name>-<key as 16 hex>.bin with
 * a header and an FNV-1a checksum; saving a new version removes the slot's
 * other versions (they are stale). load: absent or stale -> *hit = 0 and
 * GW_OK; a corrupt file (truncated, bad checksum) is removed, *hit = 0, GW_OK,
 * and a one-line note goes to *warning (if not NULL; cap bytes). On a hit
 * *data is malloc'ed. dir NULL or "" (gw_dataset.cache_dir when caching is
 * off) means no cache: load always misses, save does nothing. */
gw_status gw_cache_load(float **data, size_t *n, int *hit, char *warning, size_t cap,
                        const char *dir, const char *name, uint64_t key, gw_error *err);
gw_status gw_cache_save(const char *dir, const char *name, uint64_t key, const float *data,
                        size_t n, gw_error *err);
/* the same for raw bytes (n bytes) */
gw_status gw_cache_load_blob(void **data, size_t *n, int *hit, char *warning, size_t cap,
                             const char *dir, const char *name, uint64_t key, gw_error *err);
gw_status gw_cache_save_blob(const char *dir, const char *name, uint64_t key, const void *data,
                             size_t n, gw_error *err);

#endif
