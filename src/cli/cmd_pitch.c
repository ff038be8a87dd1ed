/* genwave pitch MODEL.gwm: how well a pitch-conditioned WaveNet plays in
 * tune. Every note of a range (by default the range the model was trained
 * on, from its train.note_min / train.note_max metadata) at each velocity is
 * generated from silence for --seconds, as `genwave render` would without
 * its envelope; the first --skip seconds (the attack, where the model is
 * still finding its period) are dropped and the fundamental of the rest is
 * measured with YIN (dsp/yin.c). A note counts as in tune when it is voiced
 * and within --cents of 440 * 2^((n - 69) / 12) Hz.
 *
 * YIN searches half the lowest target to twice the highest, so an octave
 * error is measured as one (1200 cents off) rather than missed. All notes
 * run as the voices of one batched stream (one GEMM per layer and step). */
#include "base/gw_base.h"
#include "cli/args.h"
#include "dsp/gw_dsp.h"
#include "io/audio.h"
#include "models/wavenet.h"
#include "models/wavenet_file.h"
#include "nn/gwm.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { MAX_NOTES = 128 * 8, MAX_VELOCITIES = 8, CHUNK_VOICES = 64 };

typedef struct pitch_opts {
    const char *model, *csv, *wav_dir;
    int note_lo, note_hi; /* -1 = from the model's metadata */
    int velocities[MAX_VELOCITIES], n_vel;
    double seconds, skip, cents, min_accuracy;
    float temperature;
    uint64_t seed;
} pitch_opts;

static void usage(FILE *f) {
    fprintf(f,
            "usage: genwave pitch MODEL.gwm [--notes LO-HI] [--velocity V]... [--seconds S]\n"
            "                     [--skip S] [--temperature T] [--seed S] [--cents C]\n"
            "                     [--csv OUT.csv] [--wav-dir DIR] [--min-accuracy P]\n"
            "Renders every note of the range from silence and measures its pitch with YIN.\n"
            "  --notes LO-HI     MIDI notes (default: the range the model was trained on)\n"
            "  --velocity V      1..127, repeatable (default 100)\n"
            "  --seconds S       length of each note (default 1)\n"
            "  --skip S          attack left out of the measurement (default 0.25)\n"
            "  --temperature T   sampling temperature (default 1, as render and play)\n"
            "  --cents C         in-tune tolerance (default 50)\n"
            "  --csv FILE        one row per note: note,velocity,target_hz,f0_hz,cents,rms,in_tune\n"
            "  --wav-dir DIR     also write each rendered note as DIR/nNNN_vVVV.wav\n"
            "  --min-accuracy P  exit 1 when fewer than P percent are in tune\n");
}

static int parse_args(pitch_opts *o, int argc, char **argv) {
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
        if (!strcmp(a, "--notes") && gw_cli_note_range(v, &o->note_lo, &o->note_hi)) continue;
        if (!strcmp(a, "--velocity") && gw_cli_int(v, 1, 127, &x) && o->n_vel < MAX_VELOCITIES) {
            o->velocities[o->n_vel++] = (int)x;
            continue;
        }
        if (!strcmp(a, "--seconds") && gw_cli_double(v, 0.1, 60, &d)) o->seconds = d;
        else if (!strcmp(a, "--skip") && gw_cli_double(v, 0, 59, &d)) o->skip = d;
        else if (!strcmp(a, "--temperature") && gw_cli_double(v, 0, 4, &d)) o->temperature = (float)d;
        else if (!strcmp(a, "--seed") && gw_cli_int(v, 0, 0x7fffffffL, &x)) o->seed = (uint64_t)x;
        else if (!strcmp(a, "--cents") && gw_cli_double(v, 0.1, 1200, &d)) o->cents = d;
        else if (!strcmp(a, "--min-accuracy") && gw_cli_double(v, 0, 100, &d)) o->min_accuracy = d;
        else if (!strcmp(a, "--csv")) o->csv = v;
        else if (!strcmp(a, "--wav-dir")) o->wav_dir = v;
        else goto bad;
        continue;
    bad:
        fprintf(stderr, "genwave pitch: bad or unknown argument '%s'%s%s\n", a,
                v && a[0] == '-' ? " with value " : "", v && a[0] == '-' ? v : "");
        usage(stderr);
        return 2;
    }
    if (!o->model) {
        fprintf(stderr, "genwave pitch: no model given\n");
        usage(stderr);
        return 2;
    }
    if (o->skip + 0.1 > o->seconds) {
        fprintf(stderr, "genwave pitch: --skip %.3g leaves less than 0.1 s of --seconds %.3g\n",
                o->skip, o->seconds);
        return 2;
    }
    if (!o->n_vel) o->velocities[o->n_vel++] = 100;
    return -1;
}

typedef struct note_result {
    int note, velocity;
    float target, f0, cents, rms;
    int in_tune;
} note_result;

int gw_cmd_pitch(int argc, char **argv) {
    pitch_opts o = {.note_lo = -1, .note_hi = -1, .seconds = 1.0, .skip = 0.25, .cents = 50,
                    .temperature = 1.0f, .seed = 1, .min_accuracy = -1};
    int rc = parse_args(&o, argc, argv);
    if (rc >= 0) return rc;
    rc = 1;

    gw_error err = {0};
    gw_gwm *file = NULL;
    gw_wavenet *m = NULL;
    gw_wavenet_stream *s = NULL;
    float *audio = NULL, *cond = NULL;
    note_result *res = NULL;
    FILE *csv = NULL;

    if (gw_gwm_open(&file, o.model, &err) || gw_wavenet_from_gwm(&m, file, &err)) {
        gw_cli_error(&err);
        goto done;
    }
    if (m->cfg.pitch_features <= 0) {
        fprintf(stderr, "genwave: %s: the model is not conditioned on pitch (pitch_features 0)\n",
                o.model);
        goto done;
    }
    if (o.note_lo < 0 && !gw_cli_model_notes(file, &o.note_lo, &o.note_hi)) {
        fprintf(stderr, "genwave: %s: no train.note_min/note_max in the model; give --notes LO-HI\n",
                o.model);
        goto done;
    }
    const int sr = m->cfg.sample_rate;
    const size_t n = (size_t)llround(o.seconds * sr), skip = (size_t)llround(o.skip * sr);
    const float f_lo = gw_midi_to_hz((float)o.note_lo), f_hi = gw_midi_to_hz((float)o.note_hi);
    const float fmin = 0.5f * f_lo, fmax = fminf(2.0f * f_hi, 0.45f * (float)sr);
    if (fmax <= fmin * 1.5f || n - skip < (size_t)(2.5f * sr / fmin)) {
        fprintf(stderr,
                "genwave: %s: notes %d-%d cannot be measured at %d Hz in %.3g s (after the %.3g s "
                "skip)\n",
                o.model, o.note_lo, o.note_hi, sr, o.seconds, o.skip);
        goto done;
    }
    const int total = (o.note_hi - o.note_lo + 1) * o.n_vel;
    const int voices = total < CHUNK_VOICES ? total : CHUNK_VOICES;
    const int cg = m->cfg.cond_dim;
    res = calloc((size_t)total, sizeof *res);
    audio = malloc((size_t)voices * n * sizeof *audio);
    cond = malloc((size_t)(cg > 0 ? cg : 1) * sizeof *cond);
    if (!res || !audio || !cond) {
        fprintf(stderr, "genwave: %s: out of memory for %d notes of %zu samples\n", o.model, total,
                n);
        goto done;
    }
    gw_wavenet_plan plan = {.type = GW_WAVENET_WEIGHTS_F32, .prefetch = -1};
    gw_cli_isa_cap(plan.isa, sizeof plan.isa);
    if (gw_wavenet_stream_create_plan(&s, m, voices, &plan, &err)) {
        gw_cli_error(&err);
        goto done;
    }
    if (o.wav_dir && gw_cli_mkdirs(o.wav_dir)) goto done;
    for (int i = 0; i < total; i++) {
        res[i].note = o.note_lo + i / o.n_vel;
        res[i].velocity = o.velocities[i % o.n_vel];
        res[i].target = gw_midi_to_hz((float)res[i].note);
    }
    gw_rng rng;
    gw_rng_seed(&rng, o.seed);
    for (int first = 0; first < total; first += voices) {
        int nv = total - first < voices ? total - first : voices;
        for (int v = 0; v < nv; v++) {
            const note_result *r = &res[first + v];
            gw_wavenet_stream_reset(s, v);
            gw_wavenet_cond_features(&m->cfg, cond, (float)r->note, r->velocity / 127.0f, 0);
            gw_wavenet_stream_set_cond(s, v, cond);
        }
        gw_wavenet_stream_generate(s, audio, nv, n, o.temperature, &rng);
        for (int v = 0; v < nv; v++) {
            note_result *r = &res[first + v];
            const float *x = audio + (size_t)v * n;
            double e = 0;
            for (size_t t = skip; t < n; t++) e += (double)x[t] * x[t];
            r->rms = (float)sqrt(e / (double)(n - skip));
            r->f0 = gw_yin_f0(x + skip, n - skip, sr, fmin, fmax);
            r->cents = r->f0 > 0 ? gw_cents(r->f0, r->target) : NAN;
            r->in_tune = r->f0 > 0 && fabsf(r->cents) < (float)o.cents;
            if (o.wav_dir) {
                char path[4200];
                snprintf(path, sizeof path, "%s/n%03d_v%03d.wav", o.wav_dir, r->note, r->velocity);
                if (gw_audio_write(path, x, n, 1, sr, GW_AUDIO_WAV16, &err)) {
                    gw_cli_error(&err);
                    goto done;
                }
            }
        }
    }
    if (o.csv) {
        if (!(csv = fopen(o.csv, "w"))) {
            fprintf(stderr, "genwave: %s: cannot write the CSV file\n", o.csv);
            goto done;
        }
        fprintf(csv, "note,velocity,target_hz,f0_hz,cents,rms,in_tune\n");
    }
    int good = 0;
    double abs_sum = 0;
    int voiced = 0;
    printf("%s: %d Hz, notes %d-%d, %d velocit%s, %.3g s each (YIN after %.3g s), temperature %g\n",
           o.model, sr, o.note_lo, o.note_hi, o.n_vel, o.n_vel == 1 ? "y" : "ies", o.seconds,
           o.skip, o.temperature);
    for (int i = 0; i < total; i++) {
        const note_result *r = &res[i];
        good += r->in_tune;
        if (r->f0 > 0) voiced++, abs_sum += fabsf(r->cents);
        if (r->f0 > 0)
            printf("  note %3d vel %3d  target %7.2f Hz  measured %7.2f Hz  %+8.1f cents  rms %.3f  %s\n",
                   r->note, r->velocity, r->target, r->f0, r->cents, r->rms,
                   r->in_tune ? "in tune" : "OUT");
        else
            printf("  note %3d vel %3d  target %7.2f Hz  unvoiced (no pitch found)  rms %.3f  OUT\n",
                   r->note, r->velocity, r->target, r->rms);
        if (csv)
            fprintf(csv, "%d,%d,%.3f,%.3f,%.2f,%.5f,%d\n", r->note, r->velocity, r->target, r->f0,
                    r->f0 > 0 ? r->cents : 0.0f, r->rms, r->in_tune);
    }
    double acc = 100.0 * good / total;
    printf("in tune (within %g cents): %d of %d notes = %.1f%%; mean |cents| of the "
           "%d voiced: %.1f\n",
           o.cents, good, total, acc, voiced, voiced ? abs_sum / voiced : 0.0);
    if (csv && fclose(csv)) {
        csv = NULL;
        fprintf(stderr, "genwave: %s: write failed\n", o.csv);
        goto done;
    }
    csv = NULL;
    if (o.min_accuracy >= 0 && acc < o.min_accuracy) {
        fprintf(stderr, "genwave: %s: %.1f%% of notes in tune, below --min-accuracy %g\n", o.model,
                acc, o.min_accuracy);
        goto done;
    }
    rc = 0;
done:
    if (csv) fclose(csv);
    gw_wavenet_stream_free(s);
    gw_wavenet_free(m);
    gw_gwm_free(file);
    free(audio);
    free(cond);
    free(res);
    return rc;
}
