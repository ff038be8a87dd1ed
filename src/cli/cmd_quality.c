/* genwave quality MODEL.gwm [--reference DIR]: how close a pitched
 * WaveNet's notes sound to the real instrument (docs/wavenet.md,
 * "Measuring sound quality").
 *
 * Every note of the range at each velocity and sampling seed is rendered as
 * `genwave render MODEL --note N --velocity V --seed S --seconds S --rate R`
 * would render it (the engine offline, gw_engine_render_song), and measured
 * by gw_quality_measure (dsp/quality.c): pitch in cents, noise floor,
 * harmonics-to-noise ratio, 99% bandwidth and 1/6-octave long-term spectrum.
 * With --reference, the recording of the same note and velocity (a
 * manifest.csv folder, as scripts/datasets/instrument-notes.sh writes) is
 * measured by the same function at the same rate, and the distance between
 * the two spectra is reported. --audio measures one recording alone, so the
 * instrument's own figures come from the same code as the model's. */
#include "base/gw_base.h"
#include "cli/args.h"
#include "dsp/gw_dsp.h"
#include "engine/gw_engine.h"
#include "io/audio.h"
#include "io/dataset.h"
#include "io/midi.h"
#include "io/png.h"
#include "models/wavenet.h"
#include "models/wavenet_file.h"
#include "nn/gwm.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { MAX_VELOCITIES = 16, MAX_SEEDS = 64 };
static const float in_tune_cents = 25.0f;

typedef struct quality_opts {
    const char *model, *reference, *audio, *csv, *png;
    int note_lo, note_hi; /* -1: the model's trained range */
    double note;          /* --audio: the note played, -1 = none given */
    int velocities[MAX_VELOCITIES], n_vel;
    long seeds[MAX_SEEDS];
    int n_seeds;
    double seconds;
    int rate;
    double highpass; /* the engine's key-tracked low cut, x the fundamental (0 = off) */
    int weights;     /* a gw_wavenet_weight_type, or -1: the model's default, as render */
} quality_opts;

/* one measured note; ref indexes the reference recordings, -1 without */
typedef struct quality_row {
    int note, velocity;
    long seed;
    gw_quality q;
    float distance; /* LTAS distance to the reference, dB; NAN without */
    float high;     /* the same over the bands above 4.5 kHz (what an 8 kHz model lacks) */
    int ref;
} quality_row;

static void usage(FILE *f) {
    fprintf(f,
            "usage: genwave quality MODEL.gwm [--reference DIR] [--notes LO-HI] [--velocity V]...\n"
            "                       [--seeds S,S,...] [--seconds S] [--rate HZ] [--csv OUT.csv]\n"
            "                       [--png OUT.png] [--highpass R] [--precision P]\n"
            "       genwave quality --audio FILE --note N [--rate HZ] [--csv OUT.csv]\n"
            "Renders every note as `genwave render` does and measures pitch (cents), noise\n"
            "floor, harmonics-to-noise ratio, 99%% bandwidth and the 1/6-octave long-term\n"
            "spectrum (LTAS) %.2g-%.2g s after the onset.\n"
            "  --reference DIR  recordings of the instrument, labelled as for training\n"
            "                   (DIR/manifest.csv: file,note,velocity); adds the LTAS\n"
            "                   distance (dB) to each note and the recordings' own\n"
            "                   figures to the summary\n"
            "  --notes LO-HI    MIDI notes (default: the model's trained range)\n"
            "  --velocity V     1..127, repeatable (default 64 and 100)\n"
            "  --seeds LIST     sampling seeds, comma-separated (default 1)\n"
            "  --seconds S      note held for S seconds, 0.5..60 (default 1.2)\n"
            "  --rate HZ        rate of rendering and analysis (default 48000; the engine\n"
            "                   resamples the model, the recordings are resampled on reading)\n"
            "  --csv FILE       every row, with the reference's figures when given\n"
            "  --png FILE       (with --reference) the model's and the reference's LTAS of\n"
            "                   the note at the median distance\n"
            "  --highpass R     render through the engine's key-tracked low cut at R x each\n"
            "                   note's fundamental, 0..1 (default 0: off), as render does\n"
            "  --precision P    the generation weights, as render's: f32, f16, bf16 or i8\n"
            "                   (default: render's, bf16 from 65536 MAC per sample on)\n"
            "  --audio FILE     measure one recording instead, played at --note N\n",
            GW_QUALITY_START_S, GW_QUALITY_END_S);
}

/* "1,2,3": up to MAX_SEEDS integers 0..2^31-1 */
static int parse_seeds(const char *s, long *seeds, int *n) {
    char buf[1024];
    if (strlen(s) >= sizeof buf) return 0;
    strcpy(buf, s);
    *n = 0;
    for (char *save = NULL, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        long x;
        if (*n == MAX_SEEDS || !gw_cli_int(t, 0, 0x7fffffffL, &x)) return 0;
        seeds[(*n)++] = x;
    }
    return *n > 0;
}

/* -1: go on; else the exit code */
static int parse_args(quality_opts *o, int argc, char **argv) {
    int explicit_notes = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        long x;
        double d;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return 0;
        }
        if (a[0] != '-') {
            if (o->model) goto bad;
            o->model = a;
            continue;
        }
        if (!v) goto bad;
        i++;
        if (!strcmp(a, "--notes") && gw_cli_note_range(v, &o->note_lo, &o->note_hi)) {
            explicit_notes = 1;
            continue;
        }
        if (!strcmp(a, "--velocity") && gw_cli_int(v, 1, 127, &x) && o->n_vel < MAX_VELOCITIES) {
            o->velocities[o->n_vel++] = (int)x;
            continue;
        }
        if (!strcmp(a, "--seeds") && parse_seeds(v, o->seeds, &o->n_seeds)) continue;
        if (!strcmp(a, "--seconds") && gw_cli_double(v, 0.5, 60, &d))
            o->seconds = d;
        else if (!strcmp(a, "--rate") && gw_cli_int(v, 1000, 384000, &x))
            o->rate = (int)x;
        else if (!strcmp(a, "--note") && gw_cli_double(v, 0, 127, &d))
            o->note = d;
        else if (!strcmp(a, "--highpass") && gw_cli_double(v, 0, 1, &d))
            o->highpass = d;
        else if (!strcmp(a, "--precision")) {
            if (!gw_cli_precision(&o->weights, "quality", v)) return 2;
        } else if (!strcmp(a, "--reference"))
            o->reference = v;
        else if (!strcmp(a, "--audio"))
            o->audio = v;
        else if (!strcmp(a, "--csv"))
            o->csv = v;
        else if (!strcmp(a, "--png"))
            o->png = v;
        else
            goto bad;
        continue;
    bad:
        fprintf(stderr, "genwave quality: bad or unknown argument '%s'%s%s\n", a,
                v && a[0] == '-' ? " with value " : "", v && a[0] == '-' ? v : "");
        usage(stderr);
        return 2;
    }
    const char *problem = NULL;
    if (o->audio) {
        if (o->model)
            problem = "--audio measures a recording; give no model with it";
        else if (o->note < 0)
            problem = "--audio needs --note N, the note the recording plays";
        else if (o->reference || o->png || explicit_notes || o->n_vel || o->n_seeds ||
                 o->highpass > 0)
            problem = "--audio goes with --note, --rate and --csv only";
    } else if (!o->model) {
        problem = "no model given (or --audio FILE --note N)";
    } else if (o->note >= 0) {
        problem = "--note goes with --audio; use --notes LO-HI for a model";
    } else if (o->png && !o->reference) {
        problem = "--png draws the model against --reference; give both";
    }
    if (problem) {
        fprintf(stderr, "genwave quality: %s\n", problem);
        usage(stderr);
        return 2;
    }
    if (!o->n_vel) o->velocities[o->n_vel++] = 64, o->velocities[o->n_vel++] = 100;
    if (!o->n_seeds) o->seeds[o->n_seeds++] = 1;
    return -1;
}

/* one note held for `seconds` through the engine, with render's defaults
 * (cmd_render.c: 64 voices, blocks of 256, temperature 1, attack 5 ms,
 * release 60 ms, the model's default weights) and render's --highpass,
 * peak-fitted as render does */
static gw_status render_note(float **audio, size_t *n, const gw_wavenet *m, int note, int velocity,
                             long seed, double seconds, int rate, double highpass, int weights,
                             gw_error *err) {
    gw_midi_event ev[2] = {
        {.seconds = 0.0, .msg = {0x90, (uint8_t)note, (uint8_t)velocity}, .len = 3},
        {.seconds = seconds, .msg = {0x80, (uint8_t)note, 0}, .len = 3},
    };
    const gw_engine_song song = {.ev = ev, .n = 2, .end_seconds = seconds, .bend_range = 2.0f};
    gw_engine_config cfg;
    gw_engine_config_default(&cfg);
    cfg.max_voices = 64;
    cfg.host_rate = rate;
    cfg.max_block = 256;
    cfg.temperature = 1.0f;
    cfg.attack_ms = 5.0f;
    cfg.release_ms = 60.0f;
    cfg.highpass = (float)highpass;
    cfg.seed = (uint64_t)seed;
    cfg.weights =
        weights >= 0 ? (gw_wavenet_weight_type)weights : gw_wavenet_default_weights(&m->cfg);
    gw_cli_isa_cap(cfg.plan_isa, sizeof cfg.plan_isa);
    gw_status st = gw_engine_render_song(audio, n, m, &cfg, &song, err);
    if (!st) gw_fit_peak(*audio, *n, 0.99f);
    return st;
}

/* reads and measures one recording at `rate` */
static gw_status measure_file(gw_quality *q, const char *path, int rate, float note,
                              gw_error *err) {
    float *x = NULL;
    size_t n = 0;
    gw_status st = gw_audio_read_mono(&x, &n, NULL, path, rate, err);
    if (!st && (st = gw_quality_measure(q, x, n, rate, note, err))) {
        char why[GW_ERROR_MSG_MAX];
        memcpy(why, err->msg, sizeof why);
        gw_fail(err, st, "%s: %s", path, why);
    }
    free(x);
    return st;
}

/* ---- the reference folder ---- */

typedef struct reference_set {
    gw_quality *q; /* (count) one per note and velocity of the range */
    int count;
} reference_set;

/* every note lo..hi at every velocity must have a recording; labels come
 * from the dataset scanner, as the trainer reads them: manifest.csv rows,
 * else "n60_v100" tokens in the file name */
static gw_status reference_load(reference_set *r, const quality_opts *o, int lo, int hi,
                                gw_error *err) {
    char path[8192];
    snprintf(path, sizeof path, "%s/manifest.csv", o->reference);
    const char *where =
        access(path, F_OK) == 0 ? "in manifest.csv" : "(no manifest.csv, and no file named so)";
    gw_dataset_opts dopts;
    gw_dataset_opts_default(&dopts);
    dopts.no_cache = 1;
    gw_dataset_report *rep = NULL;
    gw_status st = gw_dataset_scan(&rep, o->reference, &dopts, err);
    if (st) return st;
    r->count = (hi - lo + 1) * o->n_vel;
    const char **files = calloc((size_t)r->count, sizeof *files);
    r->q = calloc((size_t)r->count, sizeof *r->q);
    if (!files || !r->q) st = gw_fail(err, GW_ERR_NOMEM, "%s: out of memory", o->reference);
    /* the first file (in path order) of each note and velocity */
    for (size_t i = 0; !st && i < rep->n_files; i++) {
        const gw_dataset_file *df = &rep->files[i];
        for (int v = 0; v < o->n_vel; v++)
            if (df->note >= lo && df->note <= hi && df->velocity == o->velocities[v]) {
                const int k = (df->note - lo) * o->n_vel + v;
                if (!files[k]) files[k] = df->rel;
            }
    }
    for (int k = 0; !st && k < r->count; k++)
        if (!files[k])
            st = gw_fail(err, GW_ERR_ARG, "%s: no reference recording for note %d velocity %d %s",
                         o->reference, lo + k / o->n_vel, o->velocities[k % o->n_vel], where);
    for (int k = 0; !st && k < r->count; k++) {
        snprintf(path, sizeof path, "%s/%s", o->reference, files[k]);
        st = measure_file(&r->q[k], path, o->rate, (float)(lo + k / o->n_vel), err);
    }
    free(files);
    gw_dataset_report_free(rep);
    return st;
}

/* ---- output ---- */

static void print_header(int with_distance) {
    printf("note  vel  seed     f0 Hz    cents  noise dB   HNR dB    bw Hz%s\n",
           with_distance ? "  LTAS dB" : "");
}

static void print_row(const quality_row *r, double audio_note) {
    if (audio_note >= 0)
        printf("%4g    -     -", audio_note);
    else
        printf("%4d %4d %5ld", r->note, r->velocity, r->seed);
    if (r->q.f0_hz > 0)
        printf(" %9.2f %+8.1f", r->q.f0_hz, r->q.cents);
    else
        printf(" %9s %8s", "unvoiced", "-");
    /* no floor where the sound ends below its second partial: no midpoint */
    if (isnan(r->q.noise_db))
        printf(" %9s", "-");
    else
        printf(" %9.1f", r->q.noise_db);
    printf(" %8.1f %8.0f", r->q.hnr_db, r->q.bandwidth_hz);
    if (r->ref >= 0) printf(" %8.2f", r->distance);
    printf("\n");
    fflush(stdout);
}

/* a CSV cell: empty for NaN (unvoiced, undefined) */
static void csv_num(FILE *f, const char *fmt, float v) {
    fputc(',', f);
    if (!isnan(v)) fprintf(f, fmt, v);
}

static gw_status write_csv(const char *path, const quality_row *rows, int n,
                           const reference_set *ref, double audio_note, gw_error *err) {
    gw_afile af;
    gw_status st = gw_afile_open(&af, path, err);
    if (st) return st;
    fprintf(af.fp, "note,velocity,seed,f0_hz,cents,noise_db,hnr_db,bandwidth_hz%s\n",
            ref ? ",ltas_distance_db,ref_f0_hz,ref_cents,ref_noise_db,ref_hnr_db,"
                  "ref_bandwidth_hz,ltas_above_4k5_db"
                : "");
    for (int i = 0; i < n; i++) {
        const quality_row *r = &rows[i];
        if (audio_note >= 0)
            fprintf(af.fp, "%g,,", audio_note);
        else
            fprintf(af.fp, "%d,%d,%ld", r->note, r->velocity, r->seed);
        csv_num(af.fp, "%.3f", r->q.f0_hz > 0 ? r->q.f0_hz : NAN);
        csv_num(af.fp, "%.2f", r->q.cents);
        csv_num(af.fp, "%.2f", r->q.noise_db);
        csv_num(af.fp, "%.2f", r->q.hnr_db);
        csv_num(af.fp, "%.1f", r->q.bandwidth_hz);
        if (ref) {
            const gw_quality *q = &ref->q[r->ref];
            csv_num(af.fp, "%.3f", r->distance);
            csv_num(af.fp, "%.3f", q->f0_hz > 0 ? q->f0_hz : NAN);
            csv_num(af.fp, "%.2f", q->cents);
            csv_num(af.fp, "%.2f", q->noise_db);
            csv_num(af.fp, "%.2f", q->hnr_db);
            csv_num(af.fp, "%.1f", q->bandwidth_hz);
            csv_num(af.fp, "%.3f", r->high);
        }
        fputc('\n', af.fp);
    }
    return gw_afile_commit(&af, err);
}

/* the medians of the summary over n measurements */
typedef struct quality_summary {
    int in_tune;
    float abs_cents, noise_db, hnr_db, bandwidth_hz;
} quality_summary;

static gw_status summarise(quality_summary *s, const gw_quality *const *q, int n, gw_error *err) {
    float *col = malloc(sizeof(float) * (size_t)(n > 0 ? n : 1));
    if (!col) return gw_fail(err, GW_ERR_NOMEM, "quality: out of memory for the summary");
    s->in_tune = 0;
    for (int i = 0; i < n; i++) {
        col[i] = q[i]->f0_hz > 0 ? fabsf(q[i]->cents) : NAN;
        s->in_tune += col[i] <= in_tune_cents;
    }
    s->abs_cents = gw_quality_median(col, (size_t)n);
    for (int i = 0; i < n; i++)
        col[i] = q[i]->noise_db;
    s->noise_db = gw_quality_median(col, (size_t)n);
    for (int i = 0; i < n; i++)
        col[i] = q[i]->hnr_db;
    s->hnr_db = gw_quality_median(col, (size_t)n);
    for (int i = 0; i < n; i++)
        col[i] = q[i]->bandwidth_hz;
    s->bandwidth_hz = gw_quality_median(col, (size_t)n);
    free(col);
    return GW_OK;
}

/* "  LABEL   MODEL   REFERENCE", the reference when not NAN */
static void summary_line(const char *label, const char *fmt, float model, float ref) {
    printf("  %-26s", label);
    if (isnan(model)) /* nothing measured (no note had a midpoint, no voiced note) */
        printf("%8s", "-");
    else
        printf(fmt, model);
    if (!isnan(ref)) {
        printf("    ");
        printf(fmt, ref);
    }
    printf("\n");
}

static gw_status print_summary(const quality_row *rows, int n, const reference_set *ref,
                               gw_error *err) {
    const int n_ref = ref ? ref->count : 0;
    const gw_quality **q = malloc(sizeof(*q) * (size_t)(n + n_ref));
    float *dist = malloc(sizeof(float) * (size_t)n);
    if (!q || !dist) {
        free(q), free(dist);
        return gw_fail(err, GW_ERR_NOMEM, "quality: out of memory for the summary");
    }
    for (int i = 0; i < n; i++)
        q[i] = &rows[i].q;
    for (int i = 0; i < n_ref; i++)
        q[n + i] = &ref->q[i];
    quality_summary m, r = {0};
    gw_status st = summarise(&m, q, n, err);
    if (!st && ref) st = summarise(&r, q + n, n_ref, err);
    if (!st) {
        char label[64];
        snprintf(label, sizeof label, "summary of %d note%s:", n, n == 1 ? "" : "s");
        printf("%-28s%8s%s\n", label, "model", ref ? "   reference" : "");
        snprintf(label, sizeof label, "within %g cents (%%)", in_tune_cents);
        summary_line(label, "%8.1f", 100.0f * m.in_tune / n,
                     ref ? 100.0f * r.in_tune / n_ref : NAN);
        summary_line("median |cents|", "%8.1f", m.abs_cents, ref ? r.abs_cents : NAN);
        summary_line("median noise floor (dB)", "%8.1f", m.noise_db, ref ? r.noise_db : NAN);
        summary_line("median HNR (dB)", "%8.1f", m.hnr_db, ref ? r.hnr_db : NAN);
        summary_line("median bandwidth (Hz)", "%8.0f", m.bandwidth_hz, ref ? r.bandwidth_hz : NAN);
        if (ref) {
            double sum = 0;
            for (int i = 0; i < n; i++)
                sum += dist[i] = rows[i].distance;
            const float med = gw_quality_median(dist, (size_t)n);
            printf("  %-26s median %.2f, mean %.2f\n", "LTAS distance (dB)", med, sum / n);
            for (int i = 0; i < n; i++) dist[i] = rows[i].high;
            printf("  %-26s median %.2f\n", "  above 4.5 kHz (dB)",
                   gw_quality_median(dist, (size_t)n));
        }
    }
    free(q);
    free(dist);
    return st;
}

/* the model's and the reference's LTAS of the row at the median distance
 * (the lower middle one, so a real note is drawn) */
static gw_status write_png(const char *path, const quality_row *rows, int n,
                           const reference_set *ref, gw_error *err) {
    int *idx = malloc(sizeof(int) * (size_t)n);
    if (!idx) return gw_fail(err, GW_ERR_NOMEM, "%s: out of memory", path);
    for (int i = 0; i < n; i++)
        idx[i] = i;
    for (int i = 1; i < n; i++) /* insertion sort by distance: n is a few hundred at most */
        for (int j = i; j > 0 && rows[idx[j - 1]].distance > rows[idx[j]].distance; j--) {
            const int t = idx[j];
            idx[j] = idx[j - 1], idx[j - 1] = t;
        }
    const quality_row *r = &rows[idx[(n - 1) / 2]];
    free(idx);
    /* the bands are even on a log axis: x in octaves from 1 kHz */
    float x[GW_QUALITY_BANDS];
    for (int b = 0; b < GW_QUALITY_BANDS; b++)
        x[b] = log2f(gw_quality_band_hz(b) / 1000.0f);
    char model_name[64], title[160];
    snprintf(model_name, sizeof model_name, "model, seed %ld", r->seed);
    snprintf(title, sizeof title,
             "1/6-octave LTAS of note %d velocity %d: distance %.2f dB (the median)", r->note,
             r->velocity, r->distance);
    const gw_plot_series series[2] = {
        {.name = model_name, .x = x, .y = r->q.ltas_db, .n = GW_QUALITY_BANDS},
        {.name = "reference", .x = x, .y = ref->q[r->ref].ltas_db, .n = GW_QUALITY_BANDS},
    };
    const gw_plot_style style = {
        .width = 900,
        .height = 520,
        .title = title,
        .xlabel = "frequency (octaves from 1 kHz: -4 = 62.5 Hz, 0 = 1 kHz, 4 = 16 kHz)",
        .ylabel = "level re the strongest band (dB)",
    };
    return gw_png_write_plot(path, series, 2, &style, err);
}

/* ---- the two modes ---- */

static int run_audio(const quality_opts *o) {
    gw_error err = {0};
    quality_row row = {.ref = -1, .distance = NAN, .high = NAN};
    if (measure_file(&row.q, o->audio, o->rate, (float)o->note, &err)) return gw_cli_error(&err);
    printf("%s: note %g at %d Hz; analysis %.2g-%.2g s after the onset\n", o->audio, o->note,
           o->rate, GW_QUALITY_START_S, GW_QUALITY_END_S);
    print_header(0);
    print_row(&row, o->note);
    if (o->csv && write_csv(o->csv, &row, 1, NULL, o->note, &err)) return gw_cli_error(&err);
    return 0;
}

static int run_model(quality_opts *o) {
    gw_error err = {0};
    gw_gwm *file = NULL;
    gw_wavenet *m = NULL;
    reference_set ref = {0};
    quality_row *rows = NULL;
    float *audio = NULL;
    int rc = 1, lo, hi;
    if (gw_gwm_open(&file, o->model, &err) || gw_wavenet_from_gwm(&m, file, &err)) goto fail;
    if (m->cfg.pitch_features <= 0) {
        gw_fail(&err, GW_ERR_UNSUPPORTED,
                "%s: the model is not conditioned on pitch; it has no notes to measure", o->model);
        goto fail;
    }
    gw_cli_model_notes(file, &lo, &hi);
    if (o->note_lo < 0) o->note_lo = lo, o->note_hi = hi;
    if (o->note_lo < lo || o->note_hi > hi) {
        gw_fail(&err, GW_ERR_ARG, "--notes %d-%d reaches outside the model's range %d..%d",
                o->note_lo, o->note_hi, lo, hi);
        goto fail;
    }
    if (o->reference && reference_load(&ref, o, o->note_lo, o->note_hi, &err)) goto fail;
    const int n = (o->note_hi - o->note_lo + 1) * o->n_vel * o->n_seeds;
    if (!(rows = calloc((size_t)n, sizeof *rows))) {
        gw_fail(&err, GW_ERR_NOMEM, "quality: out of memory for %d notes", n);
        goto fail;
    }
    char low_cut[64] = "";
    if (o->highpass > 0)
        snprintf(low_cut, sizeof low_cut, " through a high-pass at %g x f0", o->highpass);
    printf("%s: notes %d-%d, %d velocit%s, %d seed%s, %.3g s each, rendered at %d Hz%s; analysis "
           "%.2g-%.2g s after the onset%s%s\n",
           o->model, o->note_lo, o->note_hi, o->n_vel, o->n_vel == 1 ? "y" : "ies", o->n_seeds,
           o->n_seeds == 1 ? "" : "s", o->seconds, o->rate, low_cut, GW_QUALITY_START_S,
           GW_QUALITY_END_S, o->reference ? "; reference " : "", o->reference ? o->reference : "");
    print_header(o->reference != NULL);
    for (int i = 0; i < n; i++) {
        quality_row *r = &rows[i];
        const int k = i / o->n_seeds; /* note and velocity */
        r->note = o->note_lo + k / o->n_vel;
        r->velocity = o->velocities[k % o->n_vel];
        r->seed = o->seeds[i % o->n_seeds];
        r->ref = o->reference ? k : -1;
        size_t len = 0;
        if (render_note(&audio, &len, m, r->note, r->velocity, r->seed, o->seconds, o->rate,
                        o->highpass, o->weights, &err))
            goto fail;
        if (gw_quality_measure(&r->q, audio, len, o->rate, (float)r->note, &err)) {
            char why[GW_ERROR_MSG_MAX];
            memcpy(why, err.msg, sizeof why);
            gw_fail(&err, err.status, "%s: note %d velocity %d seed %ld: %s", o->model, r->note,
                    r->velocity, r->seed, why);
            goto fail;
        }
        free(audio);
        audio = NULL;
        r->distance = r->ref >= 0 ? gw_quality_ltas_distance(&r->q, &ref.q[r->ref]) : NAN;
        r->high = r->ref >= 0 ? gw_quality_ltas_distance_in(&r->q, &ref.q[r->ref], 4500.0f, 1e9f)
                              : NAN;
        print_row(r, -1);
    }
    if (print_summary(rows, n, o->reference ? &ref : NULL, &err)) goto fail;
    if (o->csv && write_csv(o->csv, rows, n, o->reference ? &ref : NULL, -1, &err)) goto fail;
    if (o->png && write_png(o->png, rows, n, &ref, &err)) goto fail;
    rc = 0;
fail:
    if (rc) gw_cli_error(&err);
    free(audio);
    free(rows);
    free(ref.q);
    gw_wavenet_free(m);
    gw_gwm_free(file);
    return rc;
}

int gw_cmd_quality(int argc, char **argv) {
    quality_opts o = {
        .note_lo = -1, .note_hi = -1, .note = -1, .seconds = 1.2, .rate = 48000, .weights = -1};
    const int rc = parse_args(&o, argc, argv);
    if (rc >= 0) return rc;
    return o.audio ? run_audio(&o) : run_model(&o);
}
