/* Datasets: scan a folder of sounds, label, split, load, cut, cache, batch
 * (see dataset.h for the rules). */
#include "io/dataset.h"

#include "dsp/gw_dsp.h"
#include "io/audio.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#define CACHE_FOLDER ".genwave-cache"
#define MANIFEST     "manifest.csv"
enum { MAX_DEPTH = 32, DATASET_CACHE_VERSION = 1 };

void gw_dataset_opts_default(gw_dataset_opts *o) {
    memset(o, 0, sizeof *o);
    o->min_seconds = 0.05;
    o->silence_db = -60.0f;
    o->trim = 1;
    o->val_fraction = 0.1;
    o->split_seed = 1;
}

/* ---- report bookkeeping ---- */

static gw_status add_warning(gw_dataset_report *r, gw_error *err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static gw_status add_warning(gw_dataset_report *r, gw_error *err, const char *fmt, ...) {
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    char **nw = realloc(r->warnings, (r->n_warnings + 1) * sizeof *nw);
    if (!nw) return gw_fail(err, GW_ERR_NOMEM, "%s: out of memory", r->root);
    r->warnings = nw;
    if (!(nw[r->n_warnings] = strdup(line))) return gw_fail(err, GW_ERR_NOMEM, "out of memory");
    r->n_warnings++;
    return GW_OK;
}

void gw_dataset_report_free(gw_dataset_report *r) {
    if (!r) return;
    for (size_t i = 0; i < r->n_files; i++)
        free(r->files[i].rel);
    for (size_t i = 0; i < r->n_warnings; i++)
        free(r->warnings[i]);
    free(r->files);
    free(r->warnings);
    free(r->root);
    free(r);
}

/* ---- walking the folder ---- */

typedef struct walker {
    gw_dataset_report *r;
    size_t cap;
} walker;

/* the folders on the current path, to step over symlink loops */
typedef struct visit {
    dev_t dev;
    ino_t ino;
    const struct visit *up;
} visit;

static gw_status walk(walker *w, const char *abs, const char *rel, int depth, const visit *path,
                      gw_error *err) {
    if (depth > MAX_DEPTH)
        return add_warning(w->r, err, "%s: folders nested too deep, skipped", rel);
    DIR *d = opendir(abs);
    if (!d) {
        if (depth == 0)
            return gw_fail(err, GW_ERR_IO, "%s: cannot open dataset folder: %s", abs,
                           strerror(errno));
        return add_warning(w->r, err, "%s: folder skipped: %s", rel, strerror(errno));
    }
    gw_status st = GW_OK;
    struct dirent *e;
    while (!st && (e = readdir(d))) {
        if (e->d_name[0] == '.') continue; /* hidden, ".", "..", .genwave-cache */
        char pa[8192], pr[8192];
        snprintf(pa, sizeof pa, "%s/%s", abs, e->d_name);
        if (*rel)
            snprintf(pr, sizeof pr, "%s/%s", rel, e->d_name);
        else
            snprintf(pr, sizeof pr, "%s", e->d_name);
        struct stat sb;
        if (stat(pa, &sb) != 0) continue; /* dangling link */
        if (S_ISDIR(sb.st_mode)) {
            int loop = 0;
            for (const visit *v = path; v && !loop; v = v->up)
                loop = v->dev == sb.st_dev && v->ino == sb.st_ino;
            if (loop) {
                st = add_warning(w->r, err, "%s: link back to a parent folder, skipped", pr);
                continue;
            }
            visit here = {sb.st_dev, sb.st_ino, path};
            st = walk(w, pa, pr, depth + 1, &here, err);
            continue;
        }
        if (!S_ISREG(sb.st_mode)) continue;
        if (depth == 0 && !strcmp(e->d_name, MANIFEST)) continue;
        if (!gw_audio_is_audio_ext(e->d_name)) {
            w->r->n_ignored++;
            continue;
        }
        if (w->r->n_files == w->cap) {
            size_t nc = w->cap ? 2 * w->cap : 64;
            gw_dataset_file *nf = realloc(w->r->files, nc * sizeof *nf);
            if (!nf) {
                st = gw_fail(err, GW_ERR_NOMEM, "%s: out of memory", abs);
                break;
            }
            w->r->files = nf, w->cap = nc;
        }
        gw_dataset_file *f = &w->r->files[w->r->n_files];
        memset(f, 0, sizeof *f);
        if (!(f->rel = strdup(pr))) {
            st = gw_fail(err, GW_ERR_NOMEM, "%s: out of memory", abs);
            break;
        }
        f->size = (int64_t)sb.st_size;
        f->mtime_ns = (int64_t)sb.st_mtim.tv_sec * 1000000000 + sb.st_mtim.tv_nsec;
        f->note = f->velocity = -1;
        w->r->n_files++;
    }
    closedir(d);
    return st;
}

static int by_rel(const void *a, const void *b) {
    return strcmp(((const gw_dataset_file *)a)->rel, ((const gw_dataset_file *)b)->rel);
}

/* ---- labels ---- */

/* one token "n60" / "v100": the letter then 1-3 digits and nothing else */
static int token_value(const char *t, size_t len, char letter) {
    if (len < 2 || len > 4 || (t[0] != letter && t[0] != letter - 32)) return -1;
    int v = 0;
    for (size_t i = 1; i < len; i++) {
        if (t[i] < '0' || t[i] > '9') return -1;
        v = v * 10 + (t[i] - '0');
    }
    return v;
}

int gw_dataset_label_from_name(const char *name, int *note, int *velocity) {
    const char *base = strrchr(name, '/');
    base = base ? base + 1 : name;
    const char *dot = strrchr(base, '.');
    size_t n = dot ? (size_t)(dot - base) : strlen(base);
    *note = *velocity = -1;
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j < n && !strchr("_-. ", base[j]))
            j++;
        int v;
        if (*note < 0 && (v = token_value(base + i, j - i, 'n')) >= 0 && v <= 127) *note = v;
        if (*velocity < 0 && (v = token_value(base + i, j - i, 'v')) >= 1 && v <= 127)
            *velocity = v;
        i = j + 1;
    }
    if (*note < 0) *velocity = -1; /* a velocity alone is no label */
    return *note >= 0;
}

static char *trim_field(char *s) {
    while (*s == ' ' || *s == '\t' || *s == '"')
        s++;
    size_t n = strlen(s);
    while (n && strchr(" \t\r\n\"", s[n - 1]))
        s[--n] = 0;
    return s;
}

static int parse_int_field(const char *s, int lo, int hi, int *out) {
    char *end;
    if (!*s) return 0;
    long v = strtol(s, &end, 10);
    if (*end || v < lo || v > hi) return -1;
    *out = (int)v;
    return 1;
}

static gw_dataset_file *find_file(gw_dataset_report *r, const char *rel) {
    gw_dataset_file key = {.rel = (char *)rel};
    return bsearch(&key, r->files, r->n_files, sizeof key, by_rel);
}

/* manifest.csv's columns. A first line with a column "file" is a header
 * that names them, in any order (file is required; the others optional): "file,class" labels
 * one-shots, "file,note,velocity,split" a pitched instrument. Without such a
 * header the columns are positional, file,note,velocity[,split], and a first
 * line whose note is not a number is skipped as a header, as before. */
enum { COL_FILE, COL_NOTE, COL_VELOCITY, COL_SPLIT, COL_CLASS, N_COLS, MAX_FIELDS = 16 };
static const char *const col_names[N_COLS] = {"file", "note", "velocity", "split", "class"};

/* splits s at commas, in place, into at most MAX_FIELDS trimmed fields;
 * returns their count, or -1 if there are more */
static int split_fields(char *s, char **fields) {
    int n = 0;
    for (char *p = s;; n++) {
        if (n == MAX_FIELDS) return -1;
        char *c = strchr(p, ',');
        if (c) *c = 0;
        fields[n] = trim_field(p);
        if (!c) return n + 1;
        p = c + 1;
    }
}

/* the header's column map into col[] (-1: absent); 0 if the line is no
 * named header, 1 if it is, or an error naming the column */
static gw_status parse_header(int *named, int col[N_COLS], char **fields, int nf, const char *path,
                              long lineno, gw_error *err) {
    *named = 0;
    int has_file = 0;
    for (int i = 0; i < nf; i++)
        has_file |= !strcmp(fields[i], "file");
    if (!has_file) return GW_OK;
    for (int c = 0; c < N_COLS; c++)
        col[c] = -1;
    for (int i = 0; i < nf; i++) {
        int c = 0;
        while (c < N_COLS && strcmp(fields[i], col_names[c]))
            c++;
        if (c == N_COLS)
            return gw_fail(
                err, GW_ERR_FORMAT,
                "%s:%ld: unknown column '%s' (known: file, note, velocity, split, class)", path,
                lineno, fields[i]);
        if (col[c] >= 0)
            return gw_fail(err, GW_ERR_FORMAT, "%s:%ld: column '%s' named twice", path, lineno,
                           fields[i]);
        col[c] = i;
    }
    *named = 1;
    return GW_OK;
}

/* manifest.csv rows win over file-name tokens */
static gw_status apply_labels(gw_dataset_report *r, const char *dir, gw_error *err) {
    for (size_t i = 0; i < r->n_files; i++) {
        gw_dataset_label_from_name(r->files[i].rel, &r->files[i].note, &r->files[i].velocity);
        r->files[i].split = -1;
        r->files[i].class_name[0] = 0;
    }
    char path[8192];
    snprintf(path, sizeof path, "%s/%s", dir, MANIFEST);
    FILE *f = fopen(path, "r");
    if (!f) return GW_OK;
    char *line = NULL;
    size_t cap = 0;
    long lineno = 0;
    gw_status st = GW_OK;
    int seen_header = 0, named = 0, n_named = 0;
    int col[N_COLS] = {COL_FILE, COL_NOTE, COL_VELOCITY, COL_SPLIT, -1}; /* positional */
    while (!st && getline(&line, &cap, f) > 0) {
        lineno++;
        char *s = trim_field(line);
        if (!*s || *s == '#') continue;
        char *fields[MAX_FIELDS];
        int nf = split_fields(s, fields);
        if (nf < 0) {
            st = gw_fail(err, GW_ERR_FORMAT, "%s:%ld: more than %d columns", path, lineno,
                         MAX_FIELDS);
            break;
        }
        const int first = !seen_header;
        if (first) {
            seen_header = 1;
            if ((st = parse_header(&named, col, fields, nf, path, lineno, err))) break;
            if (named) {
                n_named = nf;
                continue;
            }
        }
        if (named ? nf > n_named : nf < 2) {
            if (named)
                st = gw_fail(err, GW_ERR_FORMAT, "%s:%ld: %d columns where the header names %d",
                             path, lineno, nf, n_named);
            else
                st = gw_fail(err, GW_ERR_FORMAT, "%s:%ld: expected 'file,note,velocity'", path,
                             lineno);
            break;
        }
        const char *v[N_COLS];
        for (int c = 0; c < N_COLS; c++)
            v[c] = col[c] >= 0 && col[c] < nf ? fields[col[c]] : "";
        int note = -1, vel = -1;
        int pn = parse_int_field(v[COL_NOTE], 0, 127, &note);
        int pv = parse_int_field(v[COL_VELOCITY], 1, 127, &vel);
        if (!named && first && pn <= 0) continue; /* a header of other names */
        if (pn < 0) {
            st = gw_fail(err, GW_ERR_FORMAT, "%s:%ld: note '%s' is not a MIDI note 0..127", path,
                         lineno, v[COL_NOTE]);
            break;
        }
        if (pv < 0) {
            st = gw_fail(err, GW_ERR_FORMAT, "%s:%ld: velocity '%s' is not 1..127", path, lineno,
                         v[COL_VELOCITY]);
            break;
        }
        /* the split column puts the file on a side of the split (e.g. every
         * file of one recording held out, so that "held-out" means sounds the
         * model has never heard, not neighbours of training ones) */
        int split = -1;
        if (!strcmp(v[COL_SPLIT], "train"))
            split = 0;
        else if (!strcmp(v[COL_SPLIT], "val"))
            split = 1;
        else if (*v[COL_SPLIT]) {
            st = gw_fail(err, GW_ERR_FORMAT, "%s:%ld: split '%s' is not 'train' or 'val'", path,
                         lineno, v[COL_SPLIT]);
            break;
        }
        const char *cls = v[COL_CLASS];
        size_t cl = strlen(cls);
        if (cl >= sizeof r->files[0].class_name) {
            st = gw_fail(err, GW_ERR_FORMAT, "%s:%ld: class '%.40s...' is longer than %zu bytes",
                         path, lineno, cls, sizeof r->files[0].class_name - 1);
            break;
        }
        for (size_t k = 0; k < cl && !st; k++)
            if ((unsigned char)cls[k] < 0x20 || cls[k] == 0x7f)
                st = gw_fail(err, GW_ERR_FORMAT, "%s:%ld: class '%s' holds a control character",
                             path, lineno, cls);
        if (st) break;
        const char *file = v[COL_FILE];
        while (file[0] == '.' && file[1] == '/')
            file += 2;
        if (!*file) {
            st = gw_fail(err, GW_ERR_FORMAT, "%s:%ld: no file name", path, lineno);
            break;
        }
        gw_dataset_file *df = find_file(r, file);
        if (!df) {
            st = add_warning(r, err, "%s:%ld: no audio file '%s' in the dataset", MANIFEST, lineno,
                             file);
            continue;
        }
        if (col[COL_NOTE] >= 0) {
            df->note = pn > 0 ? note : -1;
            df->velocity = pn > 0 && pv > 0 ? vel : -1;
        }
        df->split = split;
        snprintf(df->class_name, sizeof df->class_name, "%s", cls);
    }
    free(line);
    fclose(f);
    return st;
}

/* ---- split ---- */

/* FNV-1a's low bits are weak: splitmix64's finaliser (gw_mix64) spreads them */
static uint64_t split_hash(const char *rel, uint64_t seed) {
    uint64_t h = gw_hash64(GW_HASH_INIT, &seed, sizeof seed);
    return gw_mix64(gw_hash64(h, rel, strlen(rel)));
}

int gw_dataset_split_is_val(const char *rel, uint64_t seed, double val_fraction) {
    return (double)(split_hash(rel, seed) >> 11) * 0x1.0p-53 < val_fraction;
}

static void assign_split(gw_dataset_report *r, const gw_dataset_opts *o) {
    size_t n_ok = 0, n_val = 0, lo = 0, hi = 0, forced = 0;
    uint64_t hlo = UINT64_MAX, hhi = 0;
    for (size_t i = 0; i < r->n_files; i++) {
        gw_dataset_file *f = &r->files[i];
        f->is_val =
            f->status == GW_FILE_OK &&
            (f->split >= 0 ? f->split == 1
                           : gw_dataset_split_is_val(f->rel, o->split_seed, o->val_fraction));
        if (f->status != GW_FILE_OK) continue;
        if (f->split >= 0) forced++;
        n_ok++, n_val += f->is_val;
        uint64_t h = split_hash(f->rel, o->split_seed);
        if (h <= hlo) hlo = h, lo = i;
        if (h >= hhi) hhi = h, hi = i;
    }
    if (n_ok >= 2 && o->val_fraction > 0 && forced == 0) { /* a manifest's split stands */
        if (n_val == 0) r->files[lo].is_val = 1, n_val = 1;
        if (n_val == n_ok) r->files[hi].is_val = 0, n_val--;
    }
    r->n_val_files = n_val;
    r->n_train_files = n_ok - n_val;
}

/* ---- per-file analysis ---- */

static void downmix(float *x, size_t frames, int ch) {
    if (ch <= 1) return;
    for (size_t i = 0; i < frames; i++) {
        float s = 0;
        for (int c = 0; c < ch; c++)
            s += x[i * (size_t)ch + c];
        x[i] = s / (float)ch;
    }
}

/* reads, measures, trims; with rate > 0 also returns the trimmed audio
 * resampled to rate (*audio malloc'ed). Unreadable files are not errors: the
 * status and reason say why. */
static gw_status analyse(gw_dataset_file *f, const char *path, const gw_dataset_opts *o, int rate,
                         float **audio, size_t *n_audio, gw_error *err) {
    if (audio) *audio = NULL, *n_audio = 0;
    gw_error e = {0};
    gw_audio *a = NULL;
    gw_status st = gw_audio_read(&a, path, 0, &e);
    if (st == GW_ERR_NOMEM) return gw_fail(err, st, "%s", e.msg);
    if (st) {
        f->status = GW_FILE_UNREADABLE;
        size_t pl = strlen(path); /* the message starts "PATH: " */
        const char *why = !strncmp(e.msg, path, pl) && e.msg[pl] == ':' ? e.msg + pl + 2 : e.msg;
        snprintf(f->reason, sizeof f->reason, "%.255s", why);
        return GW_OK;
    }
    f->sample_rate = a->sample_rate;
    f->channels = a->channels;
    f->seconds = (double)a->frames / a->sample_rate;
    downmix(a->data, a->frames, a->channels);
    float peak = 0;
    for (size_t i = 0; i < a->frames; i++)
        peak = fmaxf(peak, fabsf(a->data[i]));
    f->peak_db = peak > 0 ? 20.0f * log10f(peak) : -INFINITY;
    /* D9: what no sound card plays is rejected here, named, instead of
     * stopping the whole run later in the resampler or the STFT */
    const char *bad = NULL;
    char why[128];
    if (a->sample_rate < 1000 || a->sample_rate > 768000) {
        snprintf(why, sizeof why, "a sample rate of %d Hz (1000..768000 Hz is audio)",
                 a->sample_rate);
        bad = why;
    } else if (!(peak <= 1000.0f)) { /* NaN, Inf, or 60 dB over full scale */
        snprintf(why, sizeof why,
                 "samples up to %g: not audio in [-1, 1] (a float file gone wrong?)", (double)peak);
        bad = why;
    }
    if (bad) {
        f->status = GW_FILE_UNREADABLE;
        snprintf(f->reason, sizeof f->reason, "rejected: %s", bad);
        gw_audio_free(a);
        return GW_OK;
    }
    const float thr = powf(10.0f, o->silence_db / 20.0f);
    size_t b = 0, e2 = a->frames;
    if (o->trim) {
        while (b < e2 && fabsf(a->data[b]) < thr)
            b++;
        while (e2 > b && fabsf(a->data[e2 - 1]) < thr)
            e2--;
    }
    f->trimmed_seconds = (double)(e2 - b) / a->sample_rate;
    if (!(f->peak_db >= o->silence_db)) {
        f->status = GW_FILE_SILENT;
        snprintf(f->reason, sizeof f->reason, "silent (peak %.1f dBFS below %.1f dBFS)",
                 (double)f->peak_db, (double)o->silence_db);
    } else if (f->trimmed_seconds < o->min_seconds) {
        f->status = GW_FILE_TOO_SHORT;
        snprintf(f->reason, sizeof f->reason, "too short (%.3f s after trimming, minimum %.3f s)",
                 f->trimmed_seconds, o->min_seconds);
    } else {
        f->status = GW_FILE_OK;
    }
    if (audio && f->status == GW_FILE_OK) {
        if (rate == a->sample_rate) {
            float *x = malloc((e2 - b) * sizeof *x);
            if (!x)
                st = gw_fail(err, GW_ERR_NOMEM, "%s: out of memory", path);
            else {
                memcpy(x, a->data + b, (e2 - b) * sizeof *x);
                *audio = x, *n_audio = e2 - b;
            }
        } else {
            gw_error re = {0};
            st = gw_resample(audio, n_audio, a->data + b, e2 - b, a->sample_rate, rate, &re);
            if (st) st = gw_fail(err, st, "%s: %s", path, re.msg); /* name the file */
        }
    }
    gw_audio_free(a);
    return st;
}

/* ---- report ---- */

static void count_report(gw_dataset_report *r, const gw_dataset_opts *o) {
    r->n_ok = r->n_unreadable = r->n_silent = r->n_short = r->n_padded = r->n_labelled = 0;
    r->total_seconds = r->usable_seconds = 0;
    r->n_rates = 0;
    memset(r->rate_files, 0, sizeof r->rate_files);
    memset(r->channel_files, 0, sizeof r->channel_files);
    for (size_t i = 0; i < r->n_files; i++) {
        const gw_dataset_file *f = &r->files[i];
        switch (f->status) {
        case GW_FILE_OK:
            r->n_ok++;
            break;
        case GW_FILE_UNREADABLE:
            r->n_unreadable++;
            break;
        case GW_FILE_SILENT:
            r->n_silent++;
            break;
        case GW_FILE_TOO_SHORT:
            r->n_short++;
            break;
        }
        if (f->status == GW_FILE_UNREADABLE) continue;
        r->total_seconds += f->seconds;
        if (f->status == GW_FILE_OK) {
            r->usable_seconds += f->trimmed_seconds;
            r->n_padded += f->padded;
            r->n_labelled += f->note >= 0;
        }
        int k = 0;
        while (k < r->n_rates && r->rates[k] != f->sample_rate)
            k++;
        if (k == r->n_rates) {
            if (r->n_rates < 16)
                r->rates[r->n_rates++] = f->sample_rate;
            else
                k = 15;
        }
        r->rate_files[k]++;
        r->channel_files[f->channels >= 8 ? 8 : f->channels]++;
    }
}

static gw_status skipped_warnings(gw_dataset_report *r, gw_error *err) {
    gw_status st = GW_OK;
    for (size_t i = 0; i < r->n_files && !st; i++) {
        const gw_dataset_file *f = &r->files[i];
        if (f->status == GW_FILE_UNREADABLE)
            st = add_warning(r, err, "%s: unreadable, skipped: %s", f->rel, f->reason);
        else if (f->status != GW_FILE_OK)
            st = add_warning(r, err, "%s: skipped: %s", f->rel, f->reason);
        else if (f->padded)
            st = add_warning(r, err, "%s: shorter than one clip (%.3f s), padded with silence",
                             f->rel, f->trimmed_seconds);
    }
    return st;
}

static gw_status check_usable_files(const gw_dataset_report *r, gw_error *err) {
    if (r->n_files == 0)
        return gw_fail(err, GW_ERR_ARG,
                       "%s: no audio files found (%zu other files ignored; looking for .wav, "
                       ".flac, .ogg, .aiff, .mp3, ...)",
                       r->root, r->n_ignored);
    if (r->n_unreadable == r->n_files)
        return gw_fail(err, GW_ERR_FORMAT, "%s: none of the %zu audio files could be read (%s: %s)",
                       r->root, r->n_files, r->files[0].rel, r->files[0].reason);
    return GW_OK;
}

/* the walk and labels every entry point shares */
static gw_status begin(gw_dataset_report **out, const char *dir, gw_error *err) {
    *out = NULL;
    struct stat sb;
    if (stat(dir, &sb) != 0)
        return gw_fail(err, GW_ERR_IO, "%s: cannot open dataset folder: %s", dir, strerror(errno));
    if (!S_ISDIR(sb.st_mode))
        return gw_fail(err, GW_ERR_ARG, "%s: not a folder (a dataset is a folder of sounds)", dir);
    gw_dataset_report *r = calloc(1, sizeof *r);
    if (!r || !(r->root = strdup(dir))) {
        free(r);
        return gw_fail(err, GW_ERR_NOMEM, "%s: out of memory", dir);
    }
    walker w = {.r = r};
    visit root = {sb.st_dev, sb.st_ino, NULL};
    gw_status st = walk(&w, dir, "", 0, &root, err);
    if (!st && r->n_files) qsort(r->files, r->n_files, sizeof *r->files, by_rel);
    if (!st) st = apply_labels(r, dir, err);
    if (st) {
        gw_dataset_report_free(r);
        return st;
    }
    *out = r;
    return GW_OK;
}

gw_status gw_dataset_scan(gw_dataset_report **out, const char *dir, const gw_dataset_opts *opts,
                          gw_error *err) {
    *out = NULL;
    gw_dataset_opts def;
    if (!opts) gw_dataset_opts_default(&def), opts = &def;
    gw_dataset_report *r;
    gw_status st = begin(&r, dir, err);
    if (st) return st;
    for (size_t i = 0; i < r->n_files && !st; i++) {
        char path[8192];
        snprintf(path, sizeof path, "%s/%s", dir, r->files[i].rel);
        st = analyse(&r->files[i], path, opts, 0, NULL, NULL, err);
        /* a file too short for one clip is padded when loading */
        gw_dataset_file *f = &r->files[i];
        if (f->status == GW_FILE_OK && opts->clip_samples > 0 && opts->sample_rate > 0)
            f->padded = f->trimmed_seconds * opts->sample_rate < (double)opts->clip_samples;
    }
    if (!st) {
        assign_split(r, opts);
        count_report(r, opts);
        st = skipped_warnings(r, err);
    }
    if (!st) st = check_usable_files(r, err);
    if (st) {
        gw_dataset_report_free(r);
        return st;
    }
    *out = r;
    return GW_OK;
}

static const char *channel_word(int c) {
    static const char *w[] = {"?",    "mono", "stereo", "3 ch", "4 ch",
                              "5 ch", "6 ch", "7 ch",   "8+ ch"};
    return w[c];
}

void gw_dataset_report_write(const gw_dataset_report *r, FILE *out) {
    char line[2048];
    fprintf(out, "dataset %s\n", gw_printable(line, sizeof line, r->root));
    fprintf(out, "  audio files      %zu (%zu other files ignored)\n", r->n_files, r->n_ignored);
    fprintf(out, "  readable         %zu, total %.1f s\n", r->n_files - r->n_unreadable,
            r->total_seconds);
    fprintf(out, "  usable           %zu, %.1f s after trimming silence\n", r->n_ok,
            r->usable_seconds);
    fprintf(out, "  sample rates    ");
    for (int k = 0; k < r->n_rates; k++)
        fprintf(out, " %d Hz x %zu%s", r->rates[k], r->rate_files[k],
                k + 1 < r->n_rates ? "," : "");
    fprintf(out, "%s\n", r->n_rates ? "" : " -");
    fprintf(out, "  channels        ");
    int first = 1;
    for (int c = 1; c <= 8; c++)
        if (r->channel_files[c]) {
            fprintf(out, "%s %s x %zu", first ? "" : ",", channel_word(c), r->channel_files[c]);
            first = 0;
        }
    fprintf(out, "%s\n", first ? " -" : "");
    fprintf(out, "  labelled         %zu of %zu usable files (note from manifest.csv or name)\n",
            r->n_labelled, r->n_ok);
    fprintf(out, "  split            %zu train / %zu validation files\n", r->n_train_files,
            r->n_val_files);
    fprintf(out, "  skipped          %zu unreadable, %zu silent, %zu too short\n", r->n_unreadable,
            r->n_silent, r->n_short);
    if (r->n_padded) fprintf(out, "  padded           %zu shorter than one clip\n", r->n_padded);
    if (r->n_warnings) {
        fprintf(out, "warnings:\n");
        for (size_t i = 0; i < r->n_warnings; i++)
            fprintf(out, "  %s\n", gw_printable(line, sizeof line, r->warnings[i]));
    }
}

/* ---- loading ---- */

void gw_dataset_free(gw_dataset *ds) {
    if (!ds) return;
    gw_dataset_report_free(ds->report);
    free(ds->audio);
    free(ds->clips);
    free(ds->train);
    free(ds->val);
    free(ds);
}

static uint64_t settings_hash(const gw_dataset_opts *o) {
    /* field by field: struct padding must not leak into the key */
    uint64_t h = GW_HASH_INIT;
    int32_t v = DATASET_CACHE_VERSION;
    h = gw_hash64(h, &v, sizeof v);
    int32_t ints[3] = {o->sample_rate, o->trim, o->max_clips_per_file};
    h = gw_hash64(h, ints, sizeof ints);
    double d[2] = {o->min_seconds, (double)o->silence_db};
    h = gw_hash64(h, d, sizeof d);
    uint64_t sz[2] = {o->clip_samples, o->clip_hop};
    return gw_hash64(h, sz, sizeof sz);
}

static uint64_t files_key(uint64_t settings, const gw_dataset_report *r) {
    uint64_t h = settings;
    for (size_t i = 0; i < r->n_files; i++) {
        const gw_dataset_file *f = &r->files[i];
        h = gw_hash64(h, f->rel, strlen(f->rel) + 1);
        int64_t sm[2] = {f->size, f->mtime_ns};
        h = gw_hash64(h, sm, sizeof sm);
    }
    return h;
}

/* growing output while loading */
typedef struct builder {
    float *audio;
    size_t n, cap;
    gw_clip *clips;
    size_t n_clips, cap_clips;
} builder;

static gw_status push_clip(builder *b, const float *x, size_t n, size_t len, int file,
                           gw_error *err) {
    if (b->n + len > b->cap) {
        size_t nc = b->cap ? b->cap : 1 << 16;
        while (nc < b->n + len)
            nc *= 2;
        float *na = realloc(b->audio, nc * sizeof *na);
        if (!na) return gw_fail(err, GW_ERR_NOMEM, "dataset: out of memory for %zu samples", nc);
        b->audio = na, b->cap = nc;
    }
    if (b->n_clips == b->cap_clips) {
        size_t nc = b->cap_clips ? 2 * b->cap_clips : 256;
        gw_clip *ncl = realloc(b->clips, nc * sizeof *ncl);
        if (!ncl) return gw_fail(err, GW_ERR_NOMEM, "dataset: out of memory");
        b->clips = ncl, b->cap_clips = nc;
    }
    size_t valid = n < len ? n : len;
    memcpy(b->audio + b->n, x, valid * sizeof *x);
    memset(b->audio + b->n + valid, 0, (len - valid) * sizeof *x);
    b->clips[b->n_clips++] = (gw_clip){.offset = b->n, .n = len, .valid = valid, .file = file};
    b->n += len;
    return GW_OK;
}

/* whole file, or fixed clips at 0, hop, 2 hop, ...; one padded clip when
 * the file is shorter than a clip */
static gw_status cut_clips(builder *b, gw_dataset_file *f, int file, const float *x, size_t n,
                           const gw_dataset_opts *o, gw_error *err) {
    if (o->clip_samples == 0) return push_clip(b, x, n, n, file, err);
    size_t len = o->clip_samples, hop = o->clip_hop ? o->clip_hop : len;
    if (n < len) {
        f->padded = 1;
        return push_clip(b, x, n, len, file, err);
    }
    int k = 0;
    for (size_t s = 0; s + len <= n; s += hop) {
        if (o->max_clips_per_file > 0 && k == o->max_clips_per_file) break;
        gw_status st = push_clip(b, x + s, len, len, file, err);
        if (st) return st;
        k++;
    }
    return GW_OK;
}

/* cache payload: per file (status, rate, channels, padded, seconds,
 * trimmed, peak, reason), per clip (offset, n, valid, file), then audio */
typedef struct cached_file {
    int32_t status, sample_rate, channels, padded;
    double seconds, trimmed_seconds;
    float peak_db;
    char reason[256];
} cached_file;
typedef struct cached_clip {
    uint64_t offset, n, valid, file;
} cached_clip;

static gw_status cache_store(const gw_dataset *ds, const char *name, gw_error *err) {
    const gw_dataset_report *r = ds->report;
    size_t bytes = 3 * sizeof(uint64_t) + r->n_files * sizeof(cached_file) +
                   ds->n_clips * sizeof(cached_clip) + ds->audio_n * sizeof(float);
    unsigned char *buf = calloc(1, bytes), *p = buf;
    if (!buf) return gw_fail(err, GW_ERR_NOMEM, "dataset cache: out of memory");
    uint64_t counts[3] = {r->n_files, ds->n_clips, ds->audio_n};
    memcpy(p, counts, sizeof counts);
    p += sizeof counts;
    for (size_t i = 0; i < r->n_files; i++) {
        const gw_dataset_file *f = &r->files[i];
        cached_file c;
        memset(&c, 0, sizeof c); /* padding bytes are checksummed: zero them */
        c.status = f->status, c.sample_rate = f->sample_rate, c.channels = f->channels;
        c.padded = f->padded, c.seconds = f->seconds, c.trimmed_seconds = f->trimmed_seconds;
        c.peak_db = f->peak_db;
        snprintf(c.reason, sizeof c.reason, "%s", f->reason);
        memcpy(p, &c, sizeof c);
        p += sizeof c;
    }
    for (size_t i = 0; i < ds->n_clips; i++) {
        const gw_clip *k = &ds->clips[i];
        cached_clip c = {k->offset, k->n, k->valid, (uint64_t)k->file};
        memcpy(p, &c, sizeof c);
        p += sizeof c;
    }
    if (ds->audio_n) memcpy(p, ds->audio, ds->audio_n * sizeof(float));
    gw_status st = gw_cache_save_blob(ds->cache_dir, name, ds->key, buf, bytes, err);
    free(buf);
    return st;
}

/* a checksummed blob can still disagree with today's folder (the same key
 * by a hash collision, or a bug): every count and offset is checked */
static int cache_restore(gw_dataset *ds, const unsigned char *p, size_t bytes) {
    gw_dataset_report *r = ds->report;
    uint64_t counts[3];
    if (bytes < sizeof counts) return 0;
    memcpy(counts, p, sizeof counts);
    if (counts[0] != r->n_files || counts[1] > bytes || counts[2] > bytes) return 0;
    size_t need = sizeof counts + counts[0] * sizeof(cached_file) +
                  counts[1] * sizeof(cached_clip) + counts[2] * sizeof(float);
    if (need != bytes) return 0;
    p += sizeof counts;
    for (size_t i = 0; i < r->n_files; i++, p += sizeof(cached_file)) {
        cached_file c;
        memcpy(&c, p, sizeof c);
        if (c.status < GW_FILE_OK || c.status > GW_FILE_TOO_SHORT) return 0;
        gw_dataset_file *f = &r->files[i];
        f->status = (gw_file_status)c.status, f->sample_rate = c.sample_rate;
        f->channels = c.channels < 0 ? 0 : c.channels, f->padded = c.padded != 0;
        f->seconds = c.seconds, f->trimmed_seconds = c.trimmed_seconds, f->peak_db = c.peak_db;
        c.reason[sizeof c.reason - 1] = 0;
        snprintf(f->reason, sizeof f->reason, "%s", c.reason);
    }
    gw_clip *clips = malloc((counts[1] ? counts[1] : 1) * sizeof *clips);
    float *audio = malloc((counts[2] ? counts[2] : 1) * sizeof *audio);
    if (!clips || !audio) {
        free(clips), free(audio);
        return 0;
    }
    for (size_t i = 0; i < counts[1]; i++, p += sizeof(cached_clip)) {
        cached_clip c;
        memcpy(&c, p, sizeof c);
        if (c.file >= r->n_files || c.valid > c.n || c.offset > counts[2] ||
            c.n > counts[2] - c.offset || r->files[c.file].status != GW_FILE_OK) {
            free(clips), free(audio);
            return 0;
        }
        clips[i] = (gw_clip){.offset = c.offset, .n = c.n, .valid = c.valid, .file = (int)c.file};
    }
    memcpy(audio, p, counts[2] * sizeof *audio);
    ds->clips = clips, ds->n_clips = counts[1];
    ds->audio = audio, ds->audio_n = counts[2];
    return 1;
}

static gw_status decode_all(gw_dataset *ds, const char *dir, gw_error *err) {
    builder b = {0};
    gw_status st = GW_OK;
    gw_dataset_report *r = ds->report;
    for (size_t i = 0; i < r->n_files && !st; i++) {
        char path[8192];
        snprintf(path, sizeof path, "%s/%s", dir, r->files[i].rel);
        float *x = NULL;
        size_t n = 0;
        st = analyse(&r->files[i], path, &ds->opts, ds->sample_rate, &x, &n, err);
        if (!st && r->files[i].status == GW_FILE_OK && n == 0) { /* min_seconds 0, a blip */
            r->files[i].status = GW_FILE_TOO_SHORT;
            snprintf(r->files[i].reason, sizeof r->files[i].reason,
                     "too short (no samples at %d Hz)", ds->sample_rate);
        }
        if (!st && r->files[i].status == GW_FILE_OK)
            st = cut_clips(&b, &r->files[i], (int)i, x, n, &ds->opts, err);
        free(x);
    }
    ds->audio = b.audio, ds->audio_n = b.n;
    ds->clips = b.clips, ds->n_clips = b.n_clips;
    return st;
}

static gw_status index_split(gw_dataset *ds, gw_error *err) {
    ds->train = malloc((ds->n_clips ? ds->n_clips : 1) * sizeof *ds->train);
    ds->val = malloc((ds->n_clips ? ds->n_clips : 1) * sizeof *ds->val);
    if (!ds->train || !ds->val) return gw_fail(err, GW_ERR_NOMEM, "dataset: out of memory");
    ds->n_train = ds->n_val = 0;
    for (size_t i = 0; i < ds->n_clips; i++) {
        gw_clip *c = &ds->clips[i];
        const gw_dataset_file *f = &ds->report->files[c->file];
        c->note = f->note, c->velocity = f->velocity, c->is_val = f->is_val;
        if (c->is_val)
            ds->val[ds->n_val++] = i;
        else
            ds->train[ds->n_train++] = i;
    }
    return GW_OK;
}

gw_status gw_dataset_load(gw_dataset **out, const char *dir, const gw_dataset_opts *opts,
                          gw_error *err) {
    *out = NULL;
    gw_dataset_opts def;
    if (!opts) gw_dataset_opts_default(&def), opts = &def;
    if (opts->sample_rate <= 0 || opts->sample_rate > 768000)
        return gw_fail(err, GW_ERR_ARG, "%s: loading needs a model sample rate (got %d)", dir,
                       opts->sample_rate);
    gw_dataset *ds = calloc(1, sizeof *ds);
    if (!ds) return gw_fail(err, GW_ERR_NOMEM, "%s: out of memory", dir);
    ds->sample_rate = opts->sample_rate;
    ds->opts = *opts;
    ds->opts.cache_dir = NULL;
    gw_status st = begin(&ds->report, dir, err);
    if (st) goto fail;
    gw_dataset_report *r = ds->report;
    if (!opts->no_cache) {
        if (opts->cache_dir && *opts->cache_dir)
            snprintf(ds->cache_dir, sizeof ds->cache_dir, "%s", opts->cache_dir);
        else
            snprintf(ds->cache_dir, sizeof ds->cache_dir, "%s/%s", dir, CACHE_FOLDER);
    }
    uint64_t sh = settings_hash(opts);
    ds->key = files_key(sh, r);
    char name[64];
    snprintf(name, sizeof name, "dataset-%08" PRIx32, (uint32_t)(sh ^ (sh >> 32)));
    if (ds->cache_dir[0] && r->n_files) {
        void *blob = NULL;
        size_t bytes = 0;
        int hit = 0;
        char warn[1024];
        st = gw_cache_load_blob(&blob, &bytes, &hit, warn, sizeof warn, ds->cache_dir, name,
                                ds->key, err);
        if (st) goto fail;
        if (warn[0] && (st = add_warning(r, err, "%s", warn))) goto fail;
        if (hit) {
            ds->from_cache = cache_restore(ds, blob, bytes);
            if (!ds->from_cache &&
                (st = add_warning(r, err, "%s/%s: cache does not match the folder, rebuilt",
                                  ds->cache_dir, name)))
                goto fail;
        }
        free(blob);
    }
    if (!ds->from_cache && (st = decode_all(ds, dir, err))) goto fail;
    assign_split(r, opts);
    count_report(r, opts);
    if (!ds->from_cache && ds->cache_dir[0] && r->n_unreadable < r->n_files) {
        gw_error ce = {0};
        if (cache_store(ds, name, &ce) &&
            (st = add_warning(r, err, "cache not written: %s", ce.msg)))
            goto fail;
    }
    if ((st = skipped_warnings(r, err)) || (st = check_usable_files(r, err))) goto fail;
    if (ds->n_clips == 0) {
        st = gw_fail(err, GW_ERR_ARG,
                     "%s: no usable audio: %zu silent (below %.0f dBFS), %zu too short (< %.2f s), "
                     "%zu unreadable of %zu files",
                     dir, r->n_silent, (double)opts->silence_db, r->n_short, opts->min_seconds,
                     r->n_unreadable, r->n_files);
        goto fail;
    }
    if ((st = index_split(ds, err))) goto fail;
    *out = ds;
    return GW_OK;
fail:
    gw_dataset_free(ds);
    return st;
}

/* ---- batches and windows ---- */

void gw_dataset_batch(float *out, int *notes, int *velocities, const gw_dataset *ds,
                      const size_t *idx, size_t batch, size_t len) {
    for (size_t b = 0; b < batch; b++) {
        const gw_clip *c = &ds->clips[idx[b]];
        size_t k = c->n < len ? c->n : len;
        memcpy(out + b * len, ds->audio + c->offset, k * sizeof *out);
        memset(out + b * len + k, 0, (len - k) * sizeof *out);
        if (notes) notes[b] = c->note;
        if (velocities) velocities[b] = c->velocity;
    }
}

void gw_dataset_random_windows(float *out, size_t *clip_idx, const gw_dataset *ds,
                               const size_t *pool, size_t n_pool, size_t batch, size_t len,
                               size_t left_context, double onset_share, size_t onset_span,
                               gw_rng *rng) {
    uint64_t total = 0;
    for (size_t i = 0; i < n_pool; i++)
        total += ds->clips[pool[i]].n;
    for (size_t b = 0; b < batch; b++) {
        float *w = out + b * len;
        if (total == 0) {
            memset(w, 0, len * sizeof *w);
            if (clip_idx) clip_idx[b] = n_pool ? pool[0] : 0;
            continue;
        }
        /* a clip with probability proportional to its length: a uniform
         * sample position, then the clip holding it */
        uint64_t u = gw_rng_below(rng, total);
        size_t i = 0;
        while (u >= ds->clips[pool[i]].n)
            u -= ds->clips[pool[i++]].n;
        const gw_clip *c = &ds->clips[pool[i]];
        if (clip_idx) clip_idx[b] = pool[i];
        /* start in [-left_context, n - len] (or just -left_context..0 when
         * the clip is shorter than a window) */
        int64_t lo = -(int64_t)left_context;
        int64_t hi = (int64_t)c->n - (int64_t)len;
        if (hi < 0) hi = 0;
        if (onset_share > 0 && gw_rng_uniform(rng) < onset_share && lo + (int64_t)onset_span < hi)
            hi = lo + (int64_t)onset_span;
        int64_t start = lo + (int64_t)gw_rng_below(rng, (uint64_t)(hi - lo + 1));
        for (size_t t = 0; t < len; t++) {
            int64_t s = start + (int64_t)t;
            w[t] = s >= 0 && s < (int64_t)c->n ? ds->audio[c->offset + (size_t)s] : 0.0f;
        }
    }
}

void gw_dataset_report_brief(const gw_dataset_report *r, FILE *out, const char *what) {
    if (!out) return;
    char line[2048];
    fprintf(out, "%s: %zu usable files, %.1f s (%zu train / %zu held out)", what, r->n_ok,
            r->usable_seconds, r->n_train_files, r->n_val_files);
    if (r->n_unreadable + r->n_silent + r->n_short)
        fprintf(out, "; skipped %zu unreadable, %zu silent, %zu too short", r->n_unreadable,
                r->n_silent, r->n_short);
    fprintf(out, "\n");
    /* skipped files first: they are what a user loses */
    size_t shown = 0;
    for (int pass = 0; pass < 2; pass++)
        for (size_t i = 0; i < r->n_warnings && shown < 10; i++)
            if ((strstr(r->warnings[i], "skipped") != NULL) == !pass) {
                fprintf(out, "warning: %s\n", gw_printable(line, sizeof line, r->warnings[i]));
                shown++;
            }
    if (r->n_warnings > 10)
        fprintf(out, "warning: ... and %zu more (genwave dataset %s lists them all)\n",
                r->n_warnings - 10, gw_printable(line, sizeof line, r->root));
    if (r->n_val_files == 0)
        fprintf(out,
                "warning: no file is held out (%zu usable): the held-out figures are measured "
                "on training data and cannot show overfitting; add files\n",
                r->n_ok);
}

uint64_t gw_dataset_content_hash(const gw_dataset *ds) {
    uint64_t h = gw_hash64(GW_HASH_INIT, &ds->sample_rate, sizeof ds->sample_rate);
    h = gw_hash64(h, ds->audio, ds->audio_n * sizeof *ds->audio);
    for (size_t i = 0; i < ds->n_clips; i++) { /* field by field: no padding bytes */
        const gw_clip *c = &ds->clips[i];
        const int64_t v[6] = {(int64_t)c->offset, (int64_t)c->n, (int64_t)c->valid, c->note,
                              c->velocity,        c->is_val};
        h = gw_hash64(h, v, sizeof v);
    }
    h = gw_hash64(h, ds->train, ds->n_train * sizeof *ds->train);
    return gw_mix64(gw_hash64(h, ds->val, ds->n_val * sizeof *ds->val));
}
