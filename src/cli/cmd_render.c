/* genwave render MODEL.gwm -o out.wav: one note, or a Standard MIDI File
 * rendered polyphonically, with a WaveNet (docs/wavenet.md, "Render").
 *
 * MIDI: parsed with libsmf; every note-on/note-off pair of channels 1-16
 * except 10 (General MIDI percussion, which a pitched model cannot play)
 * becomes a voice of one batched gw_wavenet_stream, so chords cost one GEMM
 * per layer rather than one GEMV per note. Each voice is shaped by an
 * attack/release envelope (linear 5 ms attack, 60 ms release from the level
 * it has at note-off), so neither note starts nor note ends click. The mix is
 * scaled down only if it would clip.
 */
#include "base/gw_base.h"
#include "cli/args.h"
#include "dsp/gw_dsp.h"
#include "io/audio.h"
#include "models/wavenet.h"
#include "models/wavenet_file.h"
#include "train/wavenet_trainer.h"
#include "nn/gwm.h"

#include <errno.h>
#include <glib.h>
#include <limits.h>
#include <math.h>
#include <smf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { MAX_VOICES = 64 };

typedef struct render_opts {
    const char *model, *out, *midi, *vocode;
    double seconds;
    double note;
    int velocity;
    float temperature;
    uint64_t seed;
    int rate;
    double attack_ms, release_ms;
    int weights; /* gw_wavenet_weight_type, or -1: the model's default */
} render_opts;

static void usage(FILE *f) {
    fprintf(f,
            "usage: genwave render MODEL.gwm -o OUT.wav [--seconds S] [--note N --velocity V]\n"
            "                      [--midi SONG.mid] [--temperature T] [--seed S] [--rate HZ]\n"
            "                      [--attack MS] [--release MS] [--precision f32|f16|bf16]\n"
            "  --seconds S      length of a single note (default 1)\n"
            "  --note N         MIDI note (fractional allowed), --velocity V 1..127 (default 100)\n"
            "  --midi FILE      render a Standard MIDI File polyphonically instead\n"
            "  --vocode FILE    (models with a mel input) resynthesise a sound from its mel\n"
            "                   spectrogram\n"
            "  --temperature T  softmax temperature, 0 = greedy (default 1)\n"
            "  --seed S         sampling seed (default 1)\n"
            "  --rate HZ        resample the output to HZ (default: the model's rate)\n"
            "  --attack MS, --release MS   note envelope (default 5 and 60)\n"
            "  --precision P    weights generation streams: bf16 (fastest), f16, or f32\n"
            "                   (exact: the model's own logits); default bf16 from 65536\n"
            "                   MAC per sample on, f32 below\n"
            "The output format follows the extension (.wav 16-bit, .flac 24-bit).\n");
}

/* a note's place in time, in model-rate samples */
typedef struct note_ev {
    size_t on, off;
    float note;
    int velocity;
} note_ev;

static int note_cmp(const void *a, const void *b) {
    const note_ev *x = a, *y = b;
    return x->on < y->on ? -1 : x->on > y->on ? 1 : 0;
}

static void quiet_glib(const gchar *domain, GLogLevelFlags level, const gchar *msg, gpointer p) {
    (void)domain, (void)level, (void)msg, (void)p; /* libsmf's warnings: we report one line */
}

/* note-on / note-off pairs of a MIDI file, sorted by onset */
static gw_status read_midi(note_ev **out, size_t *n_out, const char *path, int sr,
                           gw_error *err) {
    *out = NULL;
    *n_out = 0;
    FILE *fp = fopen(path, "rb");
    if (!fp) return gw_fail(err, GW_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    fclose(fp);
    g_log_set_default_handler(quiet_glib, NULL);
    smf_t *smf = smf_load(path);
    if (!smf) return gw_fail(err, GW_ERR_FORMAT, "%s: not a readable Standard MIDI File", path);
    size_t cap = 64, n = 0;
    note_ev *ev = malloc(cap * sizeof *ev);
    /* open[channel][key]: index of the sounding note + 1, 0 when silent */
    static const size_t none = 0;
    size_t(*open)[128] = calloc(16, sizeof *open);
    gw_status st = GW_OK;
    if (!ev || !open) {
        st = gw_fail(err, GW_ERR_NOMEM, "%s: out of memory", path);
        goto done;
    }
    smf_event_t *e;
    double end_s = 0;
    while ((e = smf_get_next_event(smf)) != NULL) {
        if (e->time_seconds > end_s) end_s = e->time_seconds;
        if (smf_event_is_metadata(e) || e->midi_buffer_length < 3) continue;
        int status = e->midi_buffer[0] & 0xF0, ch = e->midi_buffer[0] & 0x0F;
        int key = e->midi_buffer[1] & 0x7F, vel = e->midi_buffer[2] & 0x7F;
        if (ch == 9) continue; /* percussion */
        size_t at = (size_t)llround(e->time_seconds * sr);
        int on = status == 0x90 && vel > 0, off = status == 0x80 || (status == 0x90 && vel == 0);
        if ((on || off) && open[ch][key] != none) { /* end the sounding one (retrigger too) */
            ev[open[ch][key] - 1].off = at;
            open[ch][key] = none;
        }
        if (on) {
            if (n == cap) {
                note_ev *bigger = realloc(ev, 2 * cap * sizeof *ev);
                if (!bigger) {
                    st = gw_fail(err, GW_ERR_NOMEM, "%s: out of memory", path);
                    goto done;
                }
                ev = bigger, cap *= 2;
            }
            ev[n] = (note_ev){.on = at, .off = SIZE_MAX, .note = (float)key, .velocity = vel};
            open[ch][key] = ++n;
        }
    }
    size_t song_end = (size_t)llround(end_s * sr);
    for (size_t i = 0; i < n; i++)
        if (ev[i].off == SIZE_MAX) ev[i].off = song_end > ev[i].on ? song_end : ev[i].on + sr / 4;
    if (n == 0) {
        st = gw_fail(err, GW_ERR_FORMAT, "%s: no notes outside the percussion channel", path);
        goto done;
    }
    qsort(ev, n, sizeof *ev, note_cmp);
done:
    free(open);
    smf_delete(smf);
    if (st) {
        free(ev);
        return st;
    }
    *out = ev;
    *n_out = n;
    return GW_OK;
}

/* ---- the polyphonic renderer ---- */

typedef struct voice {
    const note_ev *ev;
    float env;      /* current envelope level */
    float step_rel; /* per-sample decrement once released */
} voice;

static gw_status render_notes(float **audio, size_t *n_audio, const gw_wavenet *m,
                              const note_ev *ev, size_t n_ev, const render_opts *o,
                              gw_error *err) {
    const int sr = m->cfg.sample_rate;
    const size_t attack = (size_t)fmax(1.0, o->attack_ms * 1e-3 * sr);
    const size_t release = (size_t)fmax(1.0, o->release_ms * 1e-3 * sr);
    size_t total = 0;
    for (size_t i = 0; i < n_ev; i++)
        if (ev[i].off + release > total) total = ev[i].off + release;
    /* the most voices sounding at once, release tails included */
    int max_voices = 0;
    for (size_t i = 0; i < n_ev; i++) {
        int k = 0;
        for (size_t j = 0; j < n_ev && ev[j].on <= ev[i].on; j++)
            if (ev[j].off + release > ev[i].on) k++;
        if (k > max_voices) max_voices = k;
    }
    if (max_voices > MAX_VOICES)
        return gw_fail(err, GW_ERR_UNSUPPORTED, "%d notes sound at once; at most %d are rendered",
                       max_voices, MAX_VOICES);
    float *out = calloc(total ? total : 1, sizeof(float));
    gw_wavenet_stream *s = NULL;
    gw_status st = GW_OK;
    if (!out) {
        st = gw_fail(err, GW_ERR_NOMEM, "render: cannot allocate %zu samples", total);
        goto fail;
    }
    st = gw_wavenet_stream_create_typed(&s, m, max_voices, (gw_wavenet_weight_type)o->weights, err);
    if (st) goto fail;
    voice v[MAX_VOICES];
    float cond[256], u[MAX_VOICES], y[MAX_VOICES];
    const int cg = m->cfg.cond_dim;
    float *c = cg <= 256 ? cond : NULL;
    if (cg > 256) {
        st = gw_fail(err, GW_ERR_UNSUPPORTED, "render: conditioning of %d values is too large", cg);
        goto fail;
    }
    gw_rng rng;
    gw_rng_seed(&rng, o->seed);
    size_t next = 0;
    int active = 0;
    for (size_t t = 0; t < total; t++) {
        while (next < n_ev && ev[next].on <= t) { /* note-ons due now */
            const note_ev *e = &ev[next++];
            gw_wavenet_stream_reset(s, active);
            if (cg > 0) {
                gw_wavenet_cond_features(&m->cfg, c, e->note, e->velocity / 127.0f, 0);
                gw_wavenet_stream_set_cond(s, active, c);
            }
            v[active++] = (voice){.ev = e, .env = 0.0f, .step_rel = 0.0f};
        }
        if (active == 0) continue;
        for (int i = 0; i < active; i++) u[i] = gw_rng_uniform(&rng);
        gw_wavenet_stream_step(s, NULL, y, NULL, active, o->temperature, u);
        for (int i = 0; i < active; i++) {
            voice *vi = &v[i];
            if (t < vi->ev->off) { /* attack, then hold */
                float a = vi->env + 1.0f / (float)attack;
                vi->env = a < 1.0f ? a : 1.0f;
            } else {
                if (vi->step_rel == 0.0f) vi->step_rel = fmaxf(vi->env, 1e-6f) / (float)release;
                vi->env = fmaxf(0.0f, vi->env - vi->step_rel);
            }
            /* a model without velocity input plays velocity as loudness */
            float gain = m->cfg.velocity ? 1.0f : vi->ev->velocity / 127.0f;
            out[t] += y[i] * vi->env * gain;
        }
        for (int i = active - 1; i >= 0; i--) /* retire finished voices, keep 0..active-1 packed */
            if (t >= v[i].ev->off && v[i].env <= 0.0f) {
                active--;
                if (i != active) {
                    gw_wavenet_stream_swap_voices(s, i, active);
                    v[i] = v[active];
                }
            }
    }
    float peak = 0;
    for (size_t t = 0; t < total; t++) peak = fmaxf(peak, fabsf(out[t]));
    if (peak > 0.99f)
        for (size_t t = 0; t < total; t++) out[t] *= 0.99f / peak;
    gw_wavenet_stream_free(s);
    *audio = out;
    *n_audio = total;
    return GW_OK;
fail:
    gw_wavenet_stream_free(s);
    free(out);
    return st;
}

/* vocoder mode: the file's mel rows (train/wavenet_trainer.h's features)
 * drive one voice, one row per sample */
static gw_status render_vocode(float **audio, size_t *n_audio, const gw_wavenet *m,
                               const render_opts *o, gw_error *err) {
    const gw_wavenet_config *c = &m->cfg;
    float *x = NULL, *rows = NULL, *out = NULL, cond[256] = {0};
    size_t n = 0;
    gw_wavenet_mel *mf = NULL;
    gw_wavenet_stream *s = NULL;
    gw_status st = gw_audio_read_mono(&x, &n, NULL, o->vocode, c->sample_rate, err);
    if (!st && n == 0) st = gw_fail(err, GW_ERR_FORMAT, "%s: no samples", o->vocode);
    if (!st) st = gw_wavenet_mel_create(&mf, c, n, err);
    if (!st) st = gw_wavenet_stream_create_typed(&s, m, 1, (gw_wavenet_weight_type)o->weights,
                                                         err);
    if (!st) {
        rows = malloc(n * c->n_mels * sizeof(float));
        out = malloc(n * sizeof(float));
        if (!rows || !out) st = gw_fail(err, GW_ERR_NOMEM, "%s: out of memory", o->vocode);
    }
    if (!st && c->cond_dim > 256)
        st = gw_fail(err, GW_ERR_UNSUPPORTED, "render: conditioning of %d values is too large",
                     c->cond_dim);
    if (!st) {
        gw_wavenet_mel_rows(mf, rows, x, n);
        gw_wavenet_stream_reset(s, 0);
        if (c->cond_dim > 0) {
            gw_wavenet_cond_features(c, cond, o->note >= 0 ? (float)o->note : 60.0f,
                                     o->velocity / 127.0f, 0);
            gw_wavenet_stream_set_cond(s, 0, cond);
        }
        gw_rng rng;
        gw_rng_seed(&rng, o->seed);
        for (size_t t = 0; t < n; t++) {
            float u = gw_rng_uniform(&rng);
            gw_wavenet_stream_set_mel(s, 0, rows + t * c->n_mels);
            gw_wavenet_stream_step(s, NULL, out + t, NULL, 1, o->temperature, &u);
        }
        *audio = out, *n_audio = n, out = NULL;
    }
    free(x), free(rows), free(out);
    gw_wavenet_mel_free(mf);
    gw_wavenet_stream_free(s);
    return st;
}

/* "train.note_min"/"train.note_max" written by the trainer: the labelled
 * range; absent (unlabelled data, older files) = 0..127 */
static void model_note_range(const gw_gwm *f, int *lo, int *hi) {
    const char *a = gw_gwm_meta(f, "train.note_min"), *b = gw_gwm_meta(f, "train.note_max");
    *lo = a ? atoi(a) : 0;
    *hi = b ? atoi(b) : 127;
}

static int output_dir_writable(const char *path) {
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (!slash) return access(".", W_OK) == 0;
    if (slash == dir) slash[1] = 0;
    else *slash = 0;
    return access(dir, W_OK) == 0;
}

int gw_cmd_render(int argc, char **argv) {
    render_opts o = {.seconds = 1.0, .note = -1, .velocity = 100, .temperature = 1.0f,
                     .seed = 1, .rate = 0, .attack_ms = 5, .release_ms = 60,
                     .weights = -1};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        double x;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return 0;
        } else if (a[0] != '-' && !o.model) {
            o.model = a;
            continue;
        } else if (!v) {
            fprintf(stderr, "genwave render: %s needs a value (or unknown argument)\n", a);
            return 2;
        } else if (!strcmp(a, "-o") || !strcmp(a, "--out")) {
            o.out = v;
        } else if (!strcmp(a, "--midi")) {
            o.midi = v;
        } else if (!strcmp(a, "--vocode")) {
            o.vocode = v;
        } else if (!strcmp(a, "--precision")) {
            if (!gw_cli_precision(&o.weights, "render", v)) return 2;
        } else if (!gw_cli_number(v, &x)) {
            fprintf(stderr, "genwave render: %s: '%s' is not a number\n", a, v);
            return 2;
        } else if (!strcmp(a, "--seconds") && x > 0 && x <= 3600) {
            o.seconds = x;
        } else if (!strcmp(a, "--note") && x >= 0 && x <= 127) {
            o.note = x;
        } else if (!strcmp(a, "--velocity") && x >= 1 && x <= 127) {
            o.velocity = (int)x;
        } else if (!strcmp(a, "--temperature") && x >= 0 && x <= 10) {
            o.temperature = (float)x;
        } else if (!strcmp(a, "--seed") && x >= 0 && x == floor(x)) {
            o.seed = (uint64_t)x;
        } else if (!strcmp(a, "--rate") && x >= 1000 && x <= 384000) {
            o.rate = (int)x;
        } else if (!strcmp(a, "--attack") && x >= 0 && x <= 10000) {
            o.attack_ms = x;
        } else if (!strcmp(a, "--release") && x >= 0 && x <= 10000) {
            o.release_ms = x;
        } else {
            fprintf(stderr, "genwave render: %s %s: unknown option or value out of range\n", a, v);
            return 2;
        }
        i++;
    }
    if (!o.model || !o.out) {
        usage(stderr);
        return 2;
    }
    if (!output_dir_writable(o.out)) {
        fprintf(stderr, "genwave: %s: cannot write there: %s\n", o.out, strerror(errno));
        return 1;
    }
    gw_error err = {0};
    gw_gwm *f = NULL;
    gw_wavenet *m = NULL;
    note_ev *ev = NULL, one;
    size_t n_ev = 0, n = 0, rn = 0;
    float *audio = NULL, *res = NULL;
    int rc = 1, lo, hi;
    if (gw_gwm_open(&f, o.model, &err) || gw_wavenet_from_gwm(&m, f, &err)) goto fail;
    model_note_range(f, &lo, &hi);
    if (o.weights < 0) o.weights = (int)gw_wavenet_default_weights(&m->cfg);
    const int sr = m->cfg.sample_rate;
    const int pitched = m->cfg.pitch_features > 0;
    if (o.vocode) {
        if (m->cfg.n_mels < 1) {
            gw_fail(&err, GW_ERR_UNSUPPORTED, "%s: model has no mel input; it cannot vocode %s",
                    o.model, o.vocode);
            goto fail;
        }
        if (o.midi) {
            gw_fail(&err, GW_ERR_ARG, "--vocode and --midi do not go together");
            goto fail;
        }
        if (render_vocode(&audio, &n, m, &o, &err)) goto fail;
        n_ev = 0;
    } else if (o.midi) {
        if (!pitched) {
            gw_fail(&err, GW_ERR_UNSUPPORTED, "%s: model has no pitch input; it cannot play %s",
                    o.model, o.midi);
            goto fail;
        }
        if (read_midi(&ev, &n_ev, o.midi, sr, &err)) goto fail;
        for (size_t i = 0; i < n_ev; i++)
            if (ev[i].note < lo || ev[i].note > hi) {
                gw_fail(&err, GW_ERR_ARG, "%s: note %d at %.2f s is outside the model's range %d..%d",
                        o.midi, (int)ev[i].note, (double)ev[i].on / sr, lo, hi);
                goto fail;
            }
    } else {
        if (o.note >= 0 && !pitched) {
            gw_fail(&err, GW_ERR_UNSUPPORTED, "%s: model has no pitch input; --note is not allowed",
                    o.model);
            goto fail;
        }
        if (o.note < 0) o.note = pitched ? 0.5 * (lo + hi) : 60;
        if (pitched && (o.note < lo || o.note > hi)) {
            gw_fail(&err, GW_ERR_ARG, "--note %g is outside the model's range %d..%d", o.note, lo,
                    hi);
            goto fail;
        }
        one = (note_ev){.on = 0,
                        .off = (size_t)llround(o.seconds * sr),
                        .note = (float)o.note,
                        .velocity = o.velocity};
        ev = malloc(sizeof *ev);
        if (!ev) goto fail;
        *ev = one;
        n_ev = 1;
    }
    if (!o.vocode && render_notes(&audio, &n, m, ev, n_ev, &o, &err)) goto fail;
    char pitch[96] = "";
    if (!o.midi && !o.vocode && pitched && n > (size_t)sr / 10) {
        /* the pitch it actually played (YIN over the held part, after the
         * first 20 percent), so a user or a script can check tuning */
        size_t held = (size_t)llround(o.seconds * sr), skip = held / 5;
        if (held > n) held = n;
        float f0 = gw_yin_f0(audio + skip, held - skip, sr, 30.0f, 0.45f * sr);
        if (f0 > 0)
            snprintf(pitch, sizeof pitch, ", f0 %.1f Hz (%+.1f cents from note %g)", f0,
                     gw_cents(f0, gw_midi_to_hz((float)o.note)), o.note);
        else
            snprintf(pitch, sizeof pitch, ", no clear pitch");
    }
    int out_rate = sr;
    if (o.rate && o.rate != sr) {
        if (gw_resample(&res, &rn, audio, n, sr, o.rate, &err)) goto fail;
        free(audio);
        audio = res, n = rn, res = NULL;
        out_rate = o.rate;
    }
    if (gw_audio_write(o.out, audio, n, 1, out_rate, gw_audio_format_for_path(o.out), &err))
        goto fail;
    if (o.vocode)
        printf("%s: %.2f s at %d Hz, vocoded from the mel spectrogram of %s\n", o.out,
               (double)n / out_rate, out_rate, o.vocode);
    else
        printf("%s: %.2f s at %d Hz, %zu note%s%s\n", o.out, (double)n / out_rate, out_rate,
               n_ev, n_ev == 1 ? "" : "s", pitch);
    rc = 0;
fail:
    if (rc) fprintf(stderr, "genwave: %s\n", err.msg[0] ? err.msg : "render failed: out of memory");
    free(audio);
    free(res);
    free(ev);
    gw_wavenet_free(m);
    gw_gwm_free(f);
    return rc;
}
