/* genwave render MODEL.gwm -o out.wav: one note, or a Standard MIDI File,
 * through the real-time engine offline (docs/wavenet.md, "Render").
 *
 * There is one path from a note to sound: render feeds the engine the same
 * events play and the plugin would (engine/gw_engine.h, gw_midi_map and
 * gw_engine_render_song), stamped to their frames, so a rendered file is,
 * sample for sample, what a host hears from the same events and seed. The
 * mix is scaled down only if it would clip.
 */
#include "base/gw_base.h"
#include "cli/args.h"
#include "dsp/gw_dsp.h"
#include "engine/gw_engine.h"
#include "io/audio.h"
#include "io/midi.h"
#include "models/wavenet.h"
#include "models/wavenet_file.h"
#include "nn/gwm.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct render_opts {
    const char *model, *out, *midi, *vocode, *format;
    double seconds;
    double note;
    int velocity;
    float temperature;
    uint64_t seed;
    int rate;
    double attack_ms, release_ms;
    double highpass; /* key-tracked low cut, x the fundamental (0 = off) */
    int weights; /* gw_wavenet_weight_type, or -1: the model's default */
    gw_wavenet_plan plan; /* --plan TYPE/ISA/PREFETCH (plan_given) */
    int plan_given, measure, weights_forced;
    int voices;
    double transpose;
    int fit;
    double bend_range;
} render_opts;

static void usage(FILE *f) {
    fprintf(f,
            "usage: genwave render MODEL.gwm -o OUT.wav [--seconds S] [--note N --velocity V]\n"
            "                      [--midi SONG.mid [--transpose N | --fit]] [--temperature T]\n"
            "                      [--seed S] [--rate HZ] [--attack MS] [--release MS]\n"
            "                      [--highpass R] [--voices N] [--precision f32|f16|bf16|i8]\n"
            "                      [--format F]\n"
            "  --seconds S      length of a single note (default 1)\n"
            "  --note N         MIDI note (fractional allowed), --velocity V 1..127 (default 100)\n"
            "  --midi FILE      render a Standard MIDI File polyphonically instead, with the\n"
            "                   meaning play and the plugin give MIDI (docs/engine.md, \"MIDI\")\n"
            "  --transpose N    shift the file's notes by N semitones (fractional allowed)\n"
            "  --fit            shift them by whole octaves into the model's range\n"
            "  --bend-range N   semitones at full pitch bend (default 2)\n"
            "  --vocode FILE    (models with a mel input) resynthesise a sound from its mel\n"
            "                   spectrogram\n"
            "  --temperature T  softmax temperature, 0 = greedy (default 1)\n"
            "  --seed S         sampling seed (default 1)\n"
            "  --rate HZ        output rate (default: the model's), resampled as the engine\n"
            "                   does for a host at that rate\n"
            "  --attack MS, --release MS   note envelope (default 5 and 60)\n"
            "  --highpass R     key-tracked low cut: an 8th-order Butterworth high-pass at R x\n"
            "                   each note's fundamental, 0..1 (default 0: off; the shipped\n"
            "                   clarinet-48k preset uses 0.7)\n"
            "  --voices N       voices at once, 1..256 (default 64; more notes steal the\n"
            "                   quietest released or oldest voice)\n"
            "  --precision P    weights generation streams: bf16, f16, f32 (exact: the\n"
            "                   model's own logits), or i8 (bytes, inputs rounded too;\n"
            "                   fastest where the CPU has AVX512_VNNI); default bf16 from\n"
            "                   65536 MAC per sample on, f32 below\n"
            "  --plan P         how the voices run: by default the precision above with the\n"
            "                   best kernels this CPU has (the same samples on every run here);\n"
            "                   'measure': the planner's fastest; or TYPE/ISA/PREFETCH as a\n"
            "                   previous render printed it, to replay its samples exactly\n"
            "  --format F       wav16, wav24, wavf32, flac16, flac24 (default: from the\n"
            "                   extension, .wav 16-bit, .flac 24-bit)\n");
}

static int is_note_on(const uint8_t *m) {
    return (m[0] & 0xF0) == 0x90 && m[2] > 0 && (m[0] & 0x0F) != 9;
}

/* the MIDI file's notes within the model's range lo..hi, after --transpose
 * or --fit (which sets o->transpose) */
static gw_status song_from_midi(gw_engine_song *song, const gw_midi_file *f, render_opts *o,
                                int lo, int hi, gw_error *err) {
    int song_lo = 128, song_hi = -1;
    size_t n_on = 0;
    for (size_t i = 0; i < f->n; i++)
        if (is_note_on(f->events[i].msg)) {
            const int k = f->events[i].msg[1];
            song_lo = k < song_lo ? k : song_lo;
            song_hi = k > song_hi ? k : song_hi;
            n_on++;
        }
    if (n_on == 0)
        return gw_fail(err, GW_ERR_FORMAT, "%s: no notes outside the percussion channel", o->midi);
    if (o->fit) {
        int k = 0; /* the octave shift that centres the song in the range, if it fits */
        if (song_hi - song_lo > hi - lo)
            return gw_fail(err, GW_ERR_ARG,
                           "%s: notes %d..%d span more than the model's range %d..%d; no octave "
                           "shift fits them",
                           o->midi, song_lo, song_hi, lo, hi);
        k = (int)floor(((lo + hi) - (song_lo + song_hi)) / 24.0 + 0.5);
        while (song_lo + 12 * k < lo) k++;
        while (song_hi + 12 * k > hi) k--;
        if (song_lo + 12 * k < lo)
            return gw_fail(err, GW_ERR_ARG,
                           "%s: notes %d..%d fit the model's range %d..%d by no whole octave; try "
                           "--transpose",
                           o->midi, song_lo, song_hi, lo, hi);
        o->transpose = 12.0 * k;
    }
    for (size_t i = 0; i < f->n; i++) {
        const gw_midi_event *e = &f->events[i];
        const double note = e->msg[1] + o->transpose;
        if (is_note_on(e->msg) && (note < lo || note > hi))
            return gw_fail(err, GW_ERR_ARG,
                           "%s: note %g at %.2f s is outside the model's range %d..%d (try "
                           "--transpose N or --fit)",
                           o->midi, note, e->seconds, lo, hi);
    }
    /* the song ends with its last note, or with the file if a note is still
     * held there (then the engine releases it at the end) */
    double end = 0;
    uint8_t down[16][128] = {{0}}; /* keys down per channel */
    int held = 0;
    for (size_t i = 0; i < f->n; i++) {
        const uint8_t *msg = f->events[i].msg;
        const int st = msg[0] & 0xF0, ch = msg[0] & 0x0F, on = is_note_on(msg);
        if (ch == 9 || (st != 0x80 && st != 0x90)) continue;
        end = f->events[i].seconds;
        held += on - down[ch][msg[1]];
        down[ch][msg[1]] = (uint8_t)on;
    }
    if (held > 0) end = f->seconds;
    *song = (gw_engine_song){.ev = f->events, .n = f->n, .end_seconds = end,
                             .bend_range = (float)o->bend_range, .transpose = (float)o->transpose};
    return GW_OK;
}

/* one note held for --seconds: the integer key, the fraction as transpose */
static void song_from_note(gw_engine_song *song, gw_midi_event ev[2], const render_opts *o) {
    const int key = (int)floor(o->note);
    ev[0] = (gw_midi_event){.seconds = 0.0, .msg = {0x90, (uint8_t)key, (uint8_t)o->velocity},
                            .len = 3};
    ev[1] = (gw_midi_event){.seconds = o->seconds, .msg = {0x80, (uint8_t)key, 0}, .len = 3};
    *song = (gw_engine_song){.ev = ev, .n = 2, .end_seconds = o->seconds, .bend_range = 2.0f,
                             .transpose = (float)(o->note - key)};
}

/* vocoder mode: the file's mel rows (models/wavenet.h's gw_wavenet_mel)
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
    gw_wavenet_plan plan = {.type = (gw_wavenet_weight_type)o->weights, .prefetch = -1};
    gw_cli_isa_cap(plan.isa, sizeof plan.isa);
    if (!st) st = gw_wavenet_stream_create_plan(&s, m, 1, &plan, err);
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
                     .weights = -1, .voices = 64, .bend_range = 2};
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
        } else if (!strcmp(a, "--fit")) {
            o.fit = 1;
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
        } else if (!strcmp(a, "--format")) {
            o.format = v;
        } else if (!strcmp(a, "--precision")) {
            if (!gw_cli_precision(&o.weights, "render", v)) return 2;
            o.weights_forced = 1;
        } else if (!strcmp(a, "--plan")) {
            if (!gw_cli_plan(&o.plan, &o.measure, "render", v)) return 2;
            o.plan_given = 1;
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
        } else if (!strcmp(a, "--highpass") && x >= 0 && x <= 1) {
            o.highpass = x;
        } else if (!strcmp(a, "--voices") && x >= 1 && x <= 256 && x == floor(x)) {
            o.voices = (int)x;
        } else if (!strcmp(a, "--transpose") && x >= -127 && x <= 127) {
            o.transpose = x;
        } else if (!strcmp(a, "--bend-range") && x >= 0 && x <= 24) {
            o.bend_range = x;
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
    gw_error err = {0};
    gw_audio_format fmt;
    struct stat sb;
    if (stat(o.out, &sb) == 0 && S_ISDIR(sb.st_mode)) {
        fprintf(stderr, "genwave: %s: is a folder; name a .wav or .flac file in it\n", o.out);
        return 1;
    }
    if (o.format && gw_audio_format_parse(&fmt, o.format, &err)) {
        fprintf(stderr, "genwave: --format: %s\n", err.msg);
        return 2;
    }
    if (!o.format && gw_audio_format_for_path(&fmt, o.out, &err)) {
        fprintf(stderr, "genwave: %s\n", err.msg);
        return 1;
    }
    if (o.fit && o.transpose != 0) {
        fprintf(stderr, "genwave render: --fit and --transpose do not go together\n");
        return 2;
    }
    if (!output_dir_writable(o.out)) {
        fprintf(stderr, "genwave: %s: cannot write there: %s\n", o.out, strerror(errno));
        return 1;
    }
    gw_gwm *f = NULL;
    gw_wavenet *m = NULL;
    gw_midi_file song_file = {0};
    gw_midi_event one[2];
    gw_engine_song song = {0};
    size_t n = 0, rn = 0, n_notes = 1;
    float *audio = NULL, *res = NULL;
    char plan_name[64] = "";
    int rc = 1, lo, hi;
    if (gw_gwm_open(&f, o.model, &err) || gw_wavenet_from_gwm(&m, f, &err)) goto fail;
    gw_cli_model_notes(f, &lo, &hi);
    if (o.weights < 0) o.weights = (int)gw_wavenet_default_weights(&m->cfg);
    const int sr = m->cfg.sample_rate;
    const int out_rate = o.rate ? o.rate : sr;
    const int pitched = m->cfg.pitch_features > 0;
    if (!o.vocode && (out_rate > 8 * sr || 8 * out_rate < sr)) {
        gw_fail(&err, GW_ERR_ARG,
                "--rate %d: %s plays at %d Hz and is resampled by at most 8x (%d..%d Hz)",
                out_rate, o.model, sr, (sr + 7) / 8 > 1000 ? (sr + 7) / 8 : 1000, 8 * sr);
        goto fail;
    }
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
        if (o.highpass > 0) { /* the low cut follows notes; a vocoder plays none */
            gw_fail(&err, GW_ERR_ARG, "--highpass and --vocode do not go together");
            goto fail;
        }
        if (render_vocode(&audio, &n, m, &o, &err)) goto fail;
        if (out_rate != sr) {
            if (gw_resample(&res, &rn, audio, n, sr, out_rate, &err)) goto fail;
            free(audio);
            audio = res, n = rn, res = NULL;
        }
    } else {
        if (o.midi) {
            if (!pitched) {
                gw_fail(&err, GW_ERR_UNSUPPORTED, "%s: model has no pitch input; it cannot play %s",
                        o.model, o.midi);
                goto fail;
            }
            if (gw_midi_read(&song_file, o.midi, &err) ||
                song_from_midi(&song, &song_file, &o, lo, hi, &err))
                goto fail;
            n_notes = 0;
            for (size_t i = 0; i < song_file.n; i++) n_notes += is_note_on(song_file.events[i].msg);
        } else {
            if (o.note >= 0 && !pitched) {
                gw_fail(&err, GW_ERR_UNSUPPORTED,
                        "%s: model has no pitch input; --note is not allowed", o.model);
                goto fail;
            }
            if (o.note < 0) o.note = pitched ? 0.5 * (lo + hi) : 60;
            if (pitched && (o.note < lo || o.note > hi)) {
                gw_fail(&err, GW_ERR_ARG, "--note %g is outside the model's range %d..%d", o.note,
                        lo, hi);
                goto fail;
            }
            song_from_note(&song, one, &o);
        }
        gw_engine_config cfg;
        gw_engine_config_default(&cfg);
        cfg.max_voices = o.voices;
        cfg.host_rate = out_rate;
        cfg.max_block = 256;
        cfg.temperature = o.temperature;
        cfg.attack_ms = (float)o.attack_ms;
        cfg.release_ms = (float)o.release_ms;
        cfg.highpass = (float)o.highpass;
        cfg.seed = o.seed;
        cfg.weights = (gw_wavenet_weight_type)o.weights;
        char wisdom[4096];
        if (o.plan_given && o.measure) {
            cfg.plan_measure = 1;
            cfg.plan_force_weights = o.weights_forced;
            cfg.wisdom = gw_wisdom_path(wisdom, sizeof wisdom);
        } else if (o.plan_given) {
            if (o.weights_forced && o.plan.type != cfg.weights) {
                gw_fail(&err, GW_ERR_ARG, "--precision %s and --plan %s disagree",
                        gw_wavenet_weight_type_name(cfg.weights),
                        gw_wavenet_weight_type_name(o.plan.type));
                goto fail;
            }
            cfg.weights = o.plan.type;
            snprintf(cfg.plan_isa, sizeof cfg.plan_isa, "%s", o.plan.isa);
            cfg.plan_prefetch = o.plan.prefetch;
        }
        if (!cfg.plan_measure) gw_cli_isa_cap(cfg.plan_isa, sizeof cfg.plan_isa);
        gw_wavenet_plan used;
        song.plan_used = &used;
        if (gw_engine_render_song(&audio, &n, m, &cfg, &song, &err)) goto fail;
        gw_wavenet_plan_name(&used, plan_name, sizeof plan_name);
    }
    gw_fit_peak(audio, n, 0.99f); /* scaled down only if it would clip */
    char pitch[96] = "";
    if (!o.midi && !o.vocode && pitched && n > (size_t)out_rate / 10) {
        /* the pitch it actually played (YIN over the held part, after the
         * first 20 percent), so a user or a script can check tuning */
        size_t held = (size_t)llround(o.seconds * out_rate), skip = held / 5;
        if (held > n) held = n;
        float f0 = gw_yin_f0(audio + skip, held - skip, out_rate, 30.0f, 0.45f * sr);
        if (f0 > 0)
            snprintf(pitch, sizeof pitch, ", f0 %.1f Hz (%+.1f cents from note %g)", f0,
                     gw_cents(f0, gw_midi_to_hz((float)o.note)), o.note);
        else
            snprintf(pitch, sizeof pitch, ", no clear pitch");
    }
    if (gw_audio_write(o.out, audio, n, 1, out_rate, fmt, &err)) goto fail;
    if (o.vocode)
        printf("%s: %.2f s at %d Hz, vocoded from the mel spectrogram of %s\n", o.out,
               (double)n / out_rate, out_rate, o.vocode);
    else
        printf("%s: %.2f s at %d Hz, %zu note%s%s%s, plan %s\n", o.out, (double)n / out_rate,
               out_rate, n_notes, n_notes == 1 ? "" : "s", pitch,
               o.transpose != 0 && o.midi ? (o.fit ? " (fitted by octaves)" : " (transposed)") : "",
               plan_name);
    rc = 0;
fail:
    if (rc) fprintf(stderr, "genwave: %s\n", err.msg[0] ? err.msg : "render failed: out of memory");
    free(audio);
    free(res);
    gw_midi_free(&song_file);
    gw_wavenet_free(m);
    gw_gwm_free(f);
    return rc;
}
