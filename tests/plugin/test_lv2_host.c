/* test_lv2_host.c - cmocka tests that play the genwave plugin the way a
 * DAW does, through the liblilv host of lv2_host.h: the bundle discovered
 * from the build tree through LV2_PATH, urid:map, log:log, work:schedule,
 * options, and state saved and restored by lilv.
 *
 * The models: small random-weights WaveNets with pitch and velocity
 * conditioning, and the hand-set Karplus-Strong WaveNet of
 * tests/engine/string_model.h whose pitch is known without training, are
 * written to a scratch dir and chosen with patch:Set, so every test also
 * goes through the worker. models/default.gwm, when the source tree has
 * it, is pitch-checked too.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lv2/presets/presets.h>

#include "dsp/gw_dsp.h"
#include "engine/engine_models.h"
#include "engine/string_model.h"
#include "gw_test.h"
#include "models/wavenet.h"
#include "models/wavenet_file.h"

#include "plugin/lv2_host.h"

/* ---- the test model ---------------------------------------------------- */
static char g_dir[4096], g_model[4200], g_model2[4200], g_string[4200], g_trained[4200];
static char g_bands[4200]; /* a 48 kHz model of 6 bands (random weights) */

static void write_model(const char *path, uint64_t seed) {
    gw_wavenet_config cfg;
    const char *js =
        "{\"model\": \"wavenet\", \"name\": \"plugin-test\", \"sample_rate\": 16000,"
        " \"classes\": 256, \"residual_channels\": 16, \"gate_channels\": 16,"
        " \"skip_channels\": 32, \"head_channels\": 32, \"stacks\": 1,"
        " \"layers_per_stack\": 6, \"kernel_size\": 2,"
        " \"conditioning\": {\"pitch_features\": 5, \"velocity\": true, \"instruments\": 0}}";
    gw_error err = {0};
    assert_int_equal(gw_wavenet_config_parse(&cfg, js, "test", &err), GW_OK);
    gw_wavenet *m = NULL;
    assert_int_equal(gw_wavenet_create(&m, &cfg, &err), GW_OK);
    gw_rng rng;
    gw_rng_seed(&rng, seed);
    gw_wavenet_weights_init(&m->w, &cfg, &rng);
    if (gw_wavenet_save(m, path, &err) != GW_OK) fail_msg("%s", err.msg);
    gw_wavenet_free(m);
}

/* ---- allocations inside run() ------------------------------------------
 * The test executable defines malloc and friends, forwarding to glibc's
 * __libc_* entry points; an executable's definitions interpose for every
 * shared object, the dlopen'ed plugin included. Calls made while
 * lh_in_audio is set (inside run and work_response) are counted. Not under
 * AddressSanitizer, which owns malloc itself. */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__) /* their own allocators */
#define GW_COUNT_ALLOCS 0
#else
#define GW_COUNT_ALLOCS 1
extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);
extern void __libc_free(void *);
static _Atomic long g_audio_allocs;
void *malloc(size_t n) {
    if (lh_in_audio) g_audio_allocs++;
    return __libc_malloc(n);
}
void *calloc(size_t k, size_t n) {
    if (lh_in_audio) g_audio_allocs++;
    return __libc_calloc(k, n);
}
void *realloc(void *p, size_t n) {
    if (lh_in_audio) g_audio_allocs++;
    return __libc_realloc(p, n);
}
void free(void *p) {
    if (lh_in_audio && p) g_audio_allocs++;
    __libc_free(p);
}
int posix_memalign(void **out, size_t align, size_t n) {
    if (lh_in_audio) g_audio_allocs++;
    *out = __libc_memalign(align, n);
    return *out || !n ? 0 : 12 /* ENOMEM */;
}
void *aligned_alloc(size_t align, size_t n) {
    if (lh_in_audio) g_audio_allocs++;
    return __libc_memalign(align, n);
}
#endif

/* ctest sets GW_SOURCE_DIR; run by hand, the tree the test was built from */
static const char *source_dir(void) {
    const char *src = getenv("GW_SOURCE_DIR");
#ifdef GW_LV2_SOURCE_DIR
    if (!src) src = GW_LV2_SOURCE_DIR;
#endif
    return src ? src : ".";
}

static int setup(void **state) {
    gw_test_tmpdir(g_dir, sizeof g_dir, "lv2host");
    snprintf(g_model, sizeof g_model, "%s/a.gwm", g_dir);
    snprintf(g_model2, sizeof g_model2, "%s/b.gwm", g_dir);
    write_model(g_model, 1);
    write_model(g_model2, 2);
    snprintf(g_string, sizeof g_string, "%s/string.gwm", g_dir);
    gw_wavenet *ks = NULL;
    gw_error err = {0};
    if (gw_test_string_model(&ks, 16000, 48, 72, &err) != GW_OK ||
        gw_wavenet_save(ks, g_string, &err) != GW_OK)
        fail_msg("%s", err.msg);
    gw_wavenet_free(ks);
    snprintf(g_bands, sizeof g_bands, "%s/bands.gwm", g_dir);
    if (gw_test_band_model(&ks, 48000, 6, 5, &err) != GW_OK ||
        gw_wavenet_save(ks, g_bands, &err) != GW_OK)
        fail_msg("%s", err.msg);
    gw_wavenet_free(ks);
    /* GW_LV2_TEST_MODEL names another trained model to check instead */
    const char *tm = getenv("GW_LV2_TEST_MODEL");
    if (tm && *tm)
        snprintf(g_trained, sizeof g_trained, "%s", tm);
    else
        snprintf(g_trained, sizeof g_trained, "%s/models/default.gwm", source_dir());
    if (access(g_trained, R_OK) != 0) g_trained[0] = 0;
    return 0;
}

static int teardown(void **state) {
    char cmd[4300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* a host with model `path` chosen through patch:Set and the worker; the
 * notify port then names it */
static host *host_with_model(double rate, int block, const char *path) {
    host *H = host_new(rate, block, 1);
    event e[2] = {set_model(0, path), get_model(1)};
    host_play(H, NULL, 2, 1, e, 2);
    host_play(H, NULL, 1, 1, NULL, 0); /* the notification of the swap */
    if (strcmp(H->notified_path, path) != 0)
        fail_msg("model %s not loaded; log: %s", path, H->log_text);
    return H;
}

static float max_abs(const float *x, long a, long b) {
    float m = 0;
    for (long i = a; i < b; i++)
        m = fmaxf(m, fabsf(x[i]));
    return m;
}

static double rms(const float *x, long a, long b) {
    double s = 0;
    for (long i = a; i < b; i++)
        s += (double)x[i] * x[i];
    return sqrt(s / (double)(b - a));
}

/* ---- tests ------------------------------------------------------------- */

/* At 44.1 and 48 kHz and blocks of 1, 37, 256 and 4096 frames: exact silence
 * before the note-on, sound from its frame on (within the latency the
 * plugin reports), exact silence again once the release has run out. The
 * event frames are odd and fall inside blocks, so a plugin that applied
 * events at block starts would be caught at every block size but 1. */
static void test_note_timing_rates_blocks(void **state) {
    const double rates[2] = {44100, 48000};
    const int blocks[4] = {1, 37, 256, 4096};
    for (int r = 0; r < 2; r++) {
        long n = (long)(0.5 * rates[r]);
        long on = 5003, off = (long)(0.25 * rates[r]) + 17;
        float *ref = NULL;
        for (int b = 0; b < 4; b++) {
            host *H = host_with_model(rates[r], blocks[b], g_model);
            float *a = calloc((size_t)n, sizeof *a);
            event e[2] = {note_on(on, 60, 100), note_off(off, 60)};
            host_play(H, a, n, blocks[b], e, 2);
            long lat = lroundf(H->ctl[P_LATENCY]);
            assert_true(lat >= 0 && lat < 4096);
            /* silence before the note */
            assert_true(max_abs(a, 0, on) == 0.0f);
            /* sound from the note's frame, no later than its latency allows
             * (+ one model sample and the 0.5 ms attack) */
            long first = on;
            while (first < n && fabsf(a[first]) < 1e-4f)
                first++;
            long slack = lat + (long)(0.002 * rates[r]) + 8;
            if (first < on || first > on + slack)
                fail_msg("rate %.0f block %d: first sound at %ld, note-on at %ld, latency %ld",
                         rates[r], blocks[b], first, on, lat);
            assert_true(rms(a, on + slack, off) > 0.01);
            /* silence once the 10 ms release and the latency are over */
            long quiet = off + lat + (long)(0.08 * rates[r]);
            assert_true(quiet < n);
            if (max_abs(a, quiet, n) > 1e-4f)
                fail_msg("rate %.0f block %d: %g after release", rates[r], blocks[b],
                         max_abs(a, quiet, n));
            /* the same timeline at every block size gives the same audio
             * (sample-accurate rendering does not depend on the partition) */
            if (!ref) {
                ref = a;
            } else {
                float d = gw_test_max_abs_diff(ref, a, (size_t)n);
                if (d > 1e-5f)
                    fail_msg("rate %.0f: block %d differs from block 1 by %g", rates[r], blocks[b],
                             d);
                free(a);
            }
            host_free(H);
        }
        free(ref);
    }
}

/* f0 of note `note` played by model `path` at 48 kHz, measured with YIN
 * over the middle half of 0.8 s */
static double played_f0(const char *path, int note) {
    const double rate = 48000;
    long n = (long)(0.8 * rate);
    host *H = host_with_model(rate, 256, path);
    float *a = calloc((size_t)n, sizeof *a);
    event e[1] = {note_on(100, note, 100)};
    host_play(H, a, n, 256, e, 1);
    assert_true(rms(a, n / 4, n) > 0.001);
    double f0 = gw_yin_f0(a + n / 4, (size_t)(n / 2), (int)rate, 50.0f, 2000.0f);
    free(a);
    host_free(H);
    return f0;
}

/* f0 of the same note generated by the model alone (its own stream at its
 * own rate, the conditioning the engine gives a note-on at velocity 100):
 * what the plugin should reproduce at the host's rate */
static double model_f0(const char *path, int note, uint64_t seed) {
    gw_error err = {0};
    gw_wavenet *m = NULL;
    gw_wavenet_stream *st = NULL;
    if (gw_wavenet_load(&m, path, &err) || gw_wavenet_stream_create(&st, m, 1, &err))
        fail_msg("%s", err.msg);
    int sr = m->cfg.sample_rate;
    size_t n = (size_t)(0.8 * sr);
    float *a = calloc(n, sizeof *a), c[GW_WAVENET_MAX_CHANNELS];
    gw_wavenet_cond_features(&m->cfg, c, (float)note, 100.0f / 127.0f, 0);
    gw_wavenet_stream_reset(st, 0);
    gw_wavenet_stream_set_cond(st, 0, c);
    gw_rng rng;
    gw_rng_seed(&rng, seed);
    gw_wavenet_stream_generate(st, a, 1, n, 1.0f, &rng);
    double f0 = gw_yin_f0(a + n / 4, n / 2, sr, 50.0f, 2000.0f);
    free(a);
    gw_wavenet_stream_free(st);
    gw_wavenet_free(m);
    return f0;
}

static double cents(double f, double ref) {
    return 1200.0 * log2(f / ref);
}

/* The right pitch, by the project's YIN, through the whole plugin (MIDI,
 * conditioning, engine, interpolation from 16 kHz to 48 kHz):
 *  - the hand-set Karplus-Strong WaveNet of tests/engine/string_model.h,
 *    whose pitch is known without training: within 50 cents of the note;
 *  - models/default.gwm (or $GW_LV2_TEST_MODEL), when present: within 50 cents of
 *    one of the pitches the model plays on its own at its own rate over
 *    TAKES random streams (a trained model is not in tune on every note and
 *    its misses depend on the random stream, which the plugin draws
 *    differently: its card says how often; the plugin must not play a pitch
 *    the model itself never plays), and the distance to the note is
 *    printed. */
static void test_pitch(void **state) {
    const int notes[3] = {50, 57, 64};
    for (int k = 0; k < 3; k++) {
        double want = 440.0 * pow(2.0, (notes[k] - 69) / 12.0);
        double f0 = played_f0(g_string, notes[k]);
        if (!(fabs(cents(f0, want)) < 50.0))
            fail_msg("string model note %d: f0 %.1f Hz, want %.1f (%.0f cents)", notes[k], f0, want,
                     cents(f0, want));
        double own = model_f0(g_string, notes[k], 7);
        assert_true(fabs(cents(f0, own)) < 50.0);
    }
    if (!g_trained[0]) {
        print_message("no models/default.gwm: pitch checked on the string model only\n");
        return;
    }
    enum { TAKES = 8 };
    for (int k = 0; k < 3; k++) {
        double want = 440.0 * pow(2.0, (notes[k] - 69) / 12.0);
        double f0 = played_f0(g_trained, notes[k]), best = INFINITY, own = 0;
        for (int t = 0; t < TAKES; t++) {
            double f = model_f0(g_trained, notes[k], 7 + (uint64_t)t);
            if (f > 0 && f0 > 0 && fabs(cents(f0, f)) < best) best = fabs(cents(f0, f)), own = f;
        }
        print_message("trained model note %d: plugin %.1f Hz, nearest of %d model-alone takes "
                      "%.1f Hz, note %.1f Hz (%.0f cents)\n",
                      notes[k], f0, TAKES, own, want, cents(f0, want));
        if (!(best < 50.0))
            fail_msg("trained model note %d: the plugin plays %.1f Hz, no pitch the model alone "
                     "plays in %d takes (nearest %.1f Hz)",
                     notes[k], f0, TAKES, own);
    }
}

/* A bad model path (missing file, corrupt file) leaves the previous model
 * playing and is reported through log:log naming the file. */
static void test_bad_model_keeps_previous(void **state) {
    char bad[4300], corrupt[4300];
    snprintf(bad, sizeof bad, "%s/missing.gwm", g_dir);
    snprintf(corrupt, sizeof corrupt, "%s/corrupt.gwm", g_dir);
    FILE *f = fopen(corrupt, "wb");
    assert_non_null(f);
    fputs("GWM? this is not a model file at all", f);
    fclose(f);
    const char *paths[2] = {bad, corrupt};
    for (int k = 0; k < 2; k++) {
        host *H = host_with_model(48000, 64, g_model);
        H->log_text[0] = 0;
        long n = 9600;
        float *a = calloc((size_t)n, sizeof *a);
        event e[3] = {set_model(10, paths[k]), get_model(100), note_on(200, 60, 100)};
        host_play(H, a, n, 64, e, 3);
        if (!strstr(H->log_text, paths[k]))
            fail_msg("log does not name %s: %s", paths[k], H->log_text);
        assert_non_null(strstr(H->log_text, "cannot load"));
        assert_string_equal(H->notified_path, g_model);
        assert_true(rms(a, 2000, n) > 0.01); /* the previous model plays on */
        free(a);
        host_free(H);
    }
}

/* A good model chosen while a note sounds replaces the playing one (the
 * swap happens in work_response, the notify port names the new file). */
static void test_model_swap_while_playing(void **state) {
    host *H = host_with_model(48000, 128, g_model);
    long n = 24000;
    float *a = calloc((size_t)n, sizeof *a);
    event e[3] = {note_on(0, 60, 100), set_model(6000, g_model2), get_model(12000)};
    host_play(H, a, n, 128, e, 3);
    assert_string_equal(H->notified_path, g_model2);
    assert_true(rms(a, 18000, n) > 0.01); /* a stolen voice restarts on the new model */
    for (long i = 0; i < n; i++)
        if (!isfinite(a[i])) fail_msg("frame %ld: %g", i, a[i]);
    free(a);
    host_free(H);
}

static const void *get_port_value(const char *sym, void *user, uint32_t *size, uint32_t *type) {
    host *H = user;
    for (uint32_t i = P_GAIN; i < P_COUNT; i++) {
        const LilvPort *p = lilv_plugin_get_port_by_index(H->plugin, i);
        if (strcmp(lilv_node_as_string(lilv_port_get_symbol(H->plugin, p)), sym) == 0) {
            *size = sizeof(float);
            *type = map_uri(H->urids, LV2_ATOM__Float);
            return &H->ctl[i];
        }
    }
    *size = *type = 0;
    return NULL;
}

static void set_port_value(const char *sym, void *user, const void *value, uint32_t size,
                           uint32_t type) {
    host *H = user;
    for (uint32_t i = P_GAIN; i < P_COUNT; i++) {
        const LilvPort *p = lilv_plugin_get_port_by_index(H->plugin, i);
        if (strcmp(lilv_node_as_string(lilv_port_get_symbol(H->plugin, p)), sym) == 0 &&
            size == sizeof(float))
            memcpy(&H->ctl[i], value, sizeof(float));
    }
}

/* State saved to a file and restored into a fresh instance brings back the
 * model (with and without a worker in restore) and the control values. */
static void test_state_roundtrip(void **state) {
    for (int with_worker = 1; with_worker >= 0; with_worker--) {
        host *A = host_with_model(48000, 256, g_model2);
        A->ctl[P_GAIN] = -6.0f;
        char sdir[4400];
        snprintf(sdir, sizeof sdir, "%s/state%d.lv2", g_dir, with_worker);
        /* the directories a session host gives lilv: files the plugin
         * names outside them are linked into the state, not copied */
        LilvState *st = lilv_state_new_from_instance(A->plugin, A->inst, &A->map, NULL, sdir, sdir,
                                                     sdir, get_port_value, A, 0, A->features);
        assert_non_null(st);
        assert_int_equal(lilv_state_save(A->world, &A->map, &A->unmap, st, "urn:genwave:test-state",
                                         sdir, "state.ttl"),
                         0);
        lilv_state_free(st);
        host_free(A);

        host *B = host_new(48000, 256, with_worker);
        char file[4500];
        snprintf(file, sizeof file, "%s/state.ttl", sdir);
        LilvNode *subject = lilv_new_uri(B->world, "urn:genwave:test-state");
        LilvState *ld = lilv_state_new_from_file(B->world, &B->map, subject, file);
        lilv_node_free(subject);
        assert_non_null(ld);
        const LV2_Feature *rf[3] = {&B->f_map, with_worker ? &B->f_sched : NULL, NULL};
        lilv_state_restore(ld, B->inst, set_port_value, B, 0, rf);
        lilv_state_free(ld);
        assert_true(fabsf(B->ctl[P_GAIN] + 6.0f) < 1e-6f);
        host_play(B, NULL, 1, 1, NULL, 0); /* a worker's load lands between blocks */
        long n = 4800;
        float *a = calloc((size_t)n, sizeof *a);
        event e[2] = {get_model(0), note_on(10, 60, 100)};
        host_play(B, a, n, 256, e, 2);
        host_play(B, NULL, 1, 1, NULL, 0);
        /* lilv's mapPath links the model into the state directory: the
         * restored path is that link, to the same file */
        char got[PATH_MAX], want[PATH_MAX];
        if (!realpath(B->notified_path, got) || !realpath(g_model2, want) || strcmp(got, want) != 0)
            fail_msg("restored (worker %d) '%s', want %s; log: %s", with_worker, B->notified_path,
                     g_model2, B->log_text);
        assert_true(rms(a, 1000, n) > 0.005);
        free(a);
        host_free(B);
    }
}

/* issue "Your own sounds": `genwave lv2-preset` writes a preset any host
 * lists; restored like any preset, it loads that model and plays */
static void test_user_preset(void **state) {
    char cmd[16384], file[8192];
    snprintf(cmd, sizeof cmd,
             "'%s/genwave' lv2-preset '%s' --name 'My trained model' --dir '%s/user' >/dev/null",
             GW_LV2_BUILD_DIR, g_model2, g_dir);
    assert_int_equal(system(cmd), 0);
    snprintf(file, sizeof file, "%s/user/genwave-My-trained-model.preset.lv2/My-trained-model.ttl",
             g_dir);
    for (int with_worker = 1; with_worker >= 0; with_worker--) {
        host *B = host_new(48000, 256, with_worker);
        LilvState *ld = lilv_state_new_from_file(B->world, &B->map, NULL, file);
        assert_non_null(ld);
        assert_string_equal(lilv_state_get_label(ld), "My trained model");
        const LV2_Feature *rf[3] = {&B->f_map, with_worker ? &B->f_sched : NULL, NULL};
        lilv_state_restore(ld, B->inst, set_port_value, B, 0, rf);
        lilv_state_free(ld);
        host_play(B, NULL, 1, 1, NULL, 0);
        long n = 4800;
        float *a = calloc((size_t)n, sizeof *a);
        event e[2] = {get_model(0), note_on(10, 60, 100)};
        host_play(B, a, n, 256, e, 2);
        host_play(B, NULL, 1, 1, NULL, 0);
        char got[PATH_MAX], want[PATH_MAX];
        if (!realpath(B->notified_path, got) || !realpath(g_model2, want) || strcmp(got, want))
            fail_msg("preset loaded '%s', want %s; log: %s", B->notified_path, g_model2,
                     B->log_text);
        assert_true(rms(a, 1000, n) > 0.005);
        free(a);
        host_free(B);
    }
}

/* lilv sees what genwave.ttl declares: an instrument, the model as a
 * patch:writable parameter, the latency port */
static void test_description(void **state) {
    host H0 = {0};
    host_world(&H0);
    LilvWorld *w = H0.world;
    const LilvPluginClass *cls = lilv_plugin_get_class(H0.plugin);
    assert_string_equal(lilv_node_as_uri(lilv_plugin_class_get_uri(cls)),
                        LV2_CORE__InstrumentPlugin);
    LilvNode *writable = lilv_new_uri(w, LV2_PATCH__writable);
    LilvNodes *params = lilv_plugin_get_value(H0.plugin, writable);
    assert_non_null(params);
    assert_string_equal(lilv_node_as_uri(lilv_nodes_get_first(params)), MODEL_URI);
    lilv_nodes_free(params);
    lilv_node_free(writable);
    assert_true(lilv_plugin_has_latency(H0.plugin));
    assert_int_equal(lilv_plugin_get_latency_port_index(H0.plugin), P_LATENCY);
    lilv_world_free(w);
}

/* the "highpass" of presets/synth/STEM.json, 0 when it has none (a plain
 * scan: the shipped presets write one key per line) */
static float preset_highpass(const char *stem) {
    char path[4200], line[512];
    snprintf(path, sizeof path, "%s/presets/synth/%s.json", source_dir(), stem);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    float v = 0.0f;
    while (fgets(line, sizeof line, f)) {
        const char *k = strstr(line, "\"highpass\"");
        if (k) assert_int_equal(sscanf(strchr(k, ':') + 1, "%f", &v), 1);
    }
    fclose(f);
    return v;
}

/* Every synth preset of presets/synth/ is in the bundle as an LV2 preset
 * that lilv finds, loads and applies: its label and its control values
 * reach the ports; the low cut too, as 0 from a preset without one (so a
 * preset chosen after clarinet-48k's turns it off). */
static void test_presets(void **state) {
    host *H = host_new(48000, 256, 1);
    LilvNode *pset = lilv_new_uri(H->world, LV2_PRESETS__Preset);
    LilvNode *label = lilv_new_uri(H->world, LILV_NS_RDFS "label");
    LilvNodes *presets = lilv_plugin_get_related(H->plugin, pset);
    int n = 0;
    LILV_FOREACH(nodes, i, presets) {
        const LilvNode *uri = lilv_nodes_get(presets, i);
        assert_int_equal(lilv_world_load_resource(H->world, uri) >= 0, 1);
        LilvNodes *labels = lilv_world_find_nodes(H->world, uri, label, NULL);
        assert_non_null(labels); /* a name hosts can show */
        lilv_nodes_free(labels);
        LilvState *st = lilv_state_new_from_world(H->world, &H->map, uri);
        assert_non_null(st);
        for (int k = P_GAIN; k <= P_BEND; k++)
            H->ctl[k] = -1000.0f;
        H->ctl[P_HIGHPASS] = -1000.0f;
        lilv_state_restore(st, H->inst, set_port_value, H, 0, H->features);
        for (int k = P_GAIN; k <= P_BEND; k++) /* every control the JSON has is set */
            assert_true(H->ctl[k] > -1000.0f);
        const char *stem = strrchr(lilv_node_as_uri(uri), ':') + 1;
        if (H->ctl[P_HIGHPASS] != preset_highpass(stem))
            fail_msg("preset %s: highpass port %g, the JSON says %g", stem,
                     (double)H->ctl[P_HIGHPASS], (double)preset_highpass(stem));
        lilv_state_free(st);
        n++;
    }
    lilv_nodes_free(presets);
    lilv_node_free(label);
    lilv_node_free(pset);
    /* as many as presets/synth/ has synth presets */
    const char *src = source_dir();
    char cmd[4200];
    snprintf(cmd, sizeof cmd,
             "grep -l '\"kind\": *\"synth\"' '%s'/presets/synth/*.json 2>/dev/null | wc -l", src);
    FILE *p = popen(cmd, "r");
    int want = -1;
    assert_non_null(p);
    assert_int_equal(fscanf(p, "%d", &want), 1);
    pclose(p);
    assert_int_equal(n, want);
    host_free(H);
}

/* The sustain pedal (CC 64) keeps a released note sounding until it
 * lifts; the voices port bounds held notes (at 1, a second note-on
 * releases the first). */
static void test_pedal_and_voice_limit(void **state) {
    const long n = 19200, q = 480; /* 0.4 s at 48 kHz; 10 ms */
    host *H = host_with_model(48000, 64, g_model);
    float *a = calloc((size_t)n, sizeof *a);
    event e[4] = {note_on(100, 60, 100), control_change(200, 64, 127), note_off(1000, 60),
                  control_change(9600, 64, 0)};
    host_play(H, a, n, 64, e, 4);
    assert_true(rms(a, 1000 + 10 * q, 9600) > 0.01);   /* held by the pedal past its release */
    assert_true(max_abs(a, 9600 + 10 * q, n) == 0.0f); /* released when the pedal lifts */
    host_free(H);

    float *b[2];
    for (int k = 0; k < 2; k++) {
        H = host_with_model(48000, 64, g_model);
        H->ctl[P_VOICES] = 1.0f;
        b[k] = calloc((size_t)n, sizeof *b[k]);
        event two[2] = {note_on(100, 60, 100), note_on(2000, 67, 100)};
        /* k = 0: both notes; k = 1: the second alone, at the same frame */
        host_play(H, b[k], n, 64, k == 0 ? two : two + 1, k == 0 ? 2 : 1);
        host_free(H);
    }
    /* the first note was released at frame 2000 (10 ms release): from then
     * on the mix is as loud as the second note alone, not sqrt(2) louder as
     * two independent noisy voices would be (loudness, not samples: the
     * first voice also drew from the engine's random stream) */
    double both = rms(b[0], 2000 + 10 * q, n), alone = rms(b[1], 2000 + 10 * q, n);
    assert_true(both < 1.3 * alone && both > 0.7 * alone);
    free(a);
    free(b[0]);
    free(b[1]);
}

/* run() and work_response() allocate and free nothing: through note-ons
 * and note-offs at odd frames, the pedal, pitch-bend, all-notes-off,
 * control changes, patch:Get, a model swap (work_response installing the
 * new model, the crossfade, the old model sent back to the worker) and a
 * bad model path. The counter is checked to work first. */
static void test_run_allocates_nothing(void **state) {
#if GW_COUNT_ALLOCS
    /* the interposer sees calls made from a shared object: strdup in libc */
    char *(*volatile dup)(const char *) = strdup;
    void (*volatile release)(void *) = free;
    g_audio_allocs = 0;
    lh_in_audio = 1;
    release(dup("probe"));
    lh_in_audio = 0;
    assert_int_equal(g_audio_allocs, 2);
    host *H = host_with_model(48000, 256, g_model);
    g_audio_allocs = 0;
    event e[] = {note_on(7, 60, 100),
                 note_on(301, 64, 90),
                 control_change(999, 64, 127),
                 note_off(1501, 60),
                 (event){2001, 0, {0xE0, 0, 96}, NULL},
                 get_model(2500),
                 set_model(3001, g_model2),
                 note_on(5003, 67, 80),
                 control_change(7001, 64, 0),
                 set_model(8000, "/nonexistent/x.gwm"),
                 control_change(9001, 123, 0),
                 note_on(10001, 55, 100),
                 note_off(12001, 55)};
    long n = 24000;
    float *a = calloc((size_t)n, sizeof *a);
    for (int blk = 0; blk < 2; blk++) {
        H->ctl[P_GAIN] = blk ? -3.0f : 0.0f; /* control changes between runs */
        H->ctl[P_HIGHPASS] = blk ? 0.7f : 0.0f;
        host_play(H, blk ? a : NULL, n, 256, e, (int)(sizeof e / sizeof e[0]));
    }
    if (g_audio_allocs != 0) fail_msg("%ld allocator calls inside run()", (long)g_audio_allocs);
    assert_string_equal(H->notified_path, g_model2);
    free(a);
    host_free(H);
#else
    skip(); /* AddressSanitizer build: its malloc cannot be interposed */
#endif
}

/* a multi-band model (6 samples a step) plays in the plugin at its own rate
 * and resampled, in blocks that cut steps in odd places, without
 * allocating in run() */
static void test_band_model(void **state) {
    const int rates[2] = {48000, 44100}, blocks[2] = {64, 37};
    for (int i = 0; i < 2; i++) {
        host *H = host_with_model(rates[i], blocks[i], g_bands);
        event e[] = {note_on(5, 60, 100), note_on(333, 67, 80), note_off(7001, 60),
                     note_on(9001, 72, 110), control_change(12001, 123, 0)};
        long n = rates[i] / 3;
        float *a = calloc((size_t)n, sizeof *a);
#if GW_COUNT_ALLOCS
        host_play(H, NULL, 256, blocks[i], NULL, 0); /* the worker has loaded the model */
        g_audio_allocs = 0;
#endif
        host_play(H, a, n, blocks[i], e, (int)(sizeof e / sizeof e[0]));
#if GW_COUNT_ALLOCS
        if (g_audio_allocs != 0) fail_msg("%ld allocator calls inside run()", (long)g_audio_allocs);
#endif
        double energy = 0;
        for (long k = 0; k < n; k++) {
            assert_true(isfinite(a[k]));
            energy += (double)a[k] * a[k];
        }
        print_message("6-band model at %d Hz, blocks of %d: rms %.4f\n", rates[i], blocks[i],
                      sqrt(energy / n));
        assert_true(energy > 0);
        assert_string_equal(H->notified_path, g_bands);
        free(a);
        host_free(H);
    }
    /* a host rate the 48 kHz model cannot reach (the engine converts by at
     * most 8x): one line naming the file, and the previous model plays on */
    host *H = host_with_model(4000, 64, g_model);
    H->log_text[0] = 0;
    float *a = calloc(4000, sizeof *a);
    event e[3] = {set_model(10, g_bands), get_model(100), note_on(200, 60, 100)};
    host_play(H, a, 4000, 64, e, 3);
    if (!strstr(H->log_text, g_bands) || !strstr(H->log_text, "cannot play at 4000 Hz"))
        fail_msg("log does not refuse %s at 4000 Hz: %s", g_bands, H->log_text);
    assert_string_equal(H->notified_path, g_model);
    assert_true(rms(a, 1000, 4000) > 0.01);
    free(a);
    host_free(H);
}

/* mean LTAS level (dB re the strongest band) of the bands whose centre
 * lies in [lo, hi) Hz */
static double ltas_mean(const gw_quality *q, double lo, double hi) {
    double sum = 0;
    int n = 0;
    for (int b = 0; b < GW_QUALITY_BANDS; b++)
        if (gw_quality_band_hz(b) >= lo && gw_quality_band_hz(b) < hi) sum += q->ltas_db[b], n++;
    assert_true(n > 0);
    return sum / n;
}

/* The highpass port reaches the engine's key-tracked low cut: at 0.7 the
 * string model's note 60 (its Karplus-Strong comb also rings at 0 Hz)
 * loses its energy below f0 / 2 = 131 Hz and keeps its partials, the
 * long-term spectrum from 600 Hz to 6 kHz within 0.2 dB of the port at 0 */
static void test_highpass_port(void **state) {
    const int rate = 48000;
    const long n = (long)(1.2 * rate);
    gw_quality q[2];
    for (int k = 0; k < 2; k++) {
        host *H = host_with_model(rate, 256, g_string);
        H->ctl[P_HIGHPASS] = k ? 0.7f : 0.0f;
        float *a = calloc((size_t)n, sizeof *a);
        event e[1] = {note_on(0, 60, 100)};
        host_play(H, a, n, 256, e, 1);
        gw_error err = {0};
        if (gw_quality_measure(&q[k], a, (size_t)n, rate, 60.0f, &err)) fail_msg("%s", err.msg);
        free(a);
        host_free(H);
    }
    const double f0 = gw_midi_to_hz(60),
                 cut = ltas_mean(&q[0], 0, f0 / 2) - ltas_mean(&q[1], 0, f0 / 2);
    double worst = 0;
    for (int b = 0; b < GW_QUALITY_BANDS; b++)
        if (gw_quality_band_hz(b) >= 600 && gw_quality_band_hz(b) < 6000)
            worst = fmax(worst, fabs(q[1].ltas_db[b] - q[0].ltas_db[b]));
    print_message("highpass port 0.7, note 60: bands below f0/2 %.1f dB lower, 600 Hz-6 kHz "
                  "within %.3f dB\n",
                  cut, worst);
    assert_true(cut > 20.0);
    assert_true(worst < 0.2);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_description),
        cmocka_unit_test(test_note_timing_rates_blocks),
        cmocka_unit_test(test_pitch),
        cmocka_unit_test(test_bad_model_keeps_previous),
        cmocka_unit_test(test_model_swap_while_playing),
        cmocka_unit_test(test_state_roundtrip),
        cmocka_unit_test(test_presets),
        cmocka_unit_test(test_user_preset),
        cmocka_unit_test(test_pedal_and_voice_limit),
        cmocka_unit_test(test_run_allocates_nothing),
        cmocka_unit_test(test_band_model),
        cmocka_unit_test(test_highpass_port),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
