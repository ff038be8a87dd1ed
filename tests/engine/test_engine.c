#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dsp/gw_dsp.h"
#include "engine/gw_engine.h"
#include "engine/sinc.h"
#include "engine_models.h"
#include "gw_test.h"
#include "string_model.h"

enum { CLS = 240 };

static float amp(void) {
    return gw_mulaw_decode(CLS);
}

/* an engine of the default config but these, started in callback mode;
 * highpass: the key-tracked high-pass's initial value */
static gw_engine *make_engine_hp(const gw_wavenet *m, int voices, int host_rate, int block,
                                 gw_engine_mode mode, float highpass) {
    gw_engine_config c;
    gw_engine_config_default(&c);
    c.max_voices = voices;
    c.host_rate = host_rate;
    c.max_block = block;
    c.mode = mode;
    c.highpass = highpass;
    gw_engine *e = NULL;
    gw_error err = {0};
    if (gw_engine_create(&e, m, &c, &err)) fail_msg("%s", err.msg);
    if (mode == GW_ENGINE_CALLBACK && gw_engine_start(e, &err)) fail_msg("%s", err.msg);
    return e;
}

static gw_engine *make_engine(const gw_wavenet *m, int voices, int host_rate, int block,
                              gw_engine_mode mode) {
    return make_engine_hp(m, voices, host_rate, block, mode, 0.0f);
}

/* runs the engine for n frames in blocks of `block` into out (n) */
static void run(gw_engine *e, float *out, size_t n, int block) {
    for (size_t t = 0; t < n; t += (size_t)block) {
        int k = n - t < (size_t)block ? (int)(n - t) : block;
        gw_engine_process(e, out + t, k);
    }
}

/* the same in ragged blocks of 1, 37, 256, 100, 3, 255, 64 and 129 frames,
 * as a host with a varying period would ask (max_block 256 or more) */
static void run_ragged(gw_engine *e, float *out, size_t n) {
    static const int ragged[] = {1, 37, 256, 100, 3, 255, 64, 129};
    for (size_t t = 0, k = 0; t < n; k++) {
        int b = ragged[k % 8];
        if ((size_t)b > n - t) b = (int)(n - t);
        gw_engine_process(e, out + t, b);
        t += (size_t)b;
    }
}

static float peak_abs(const float *x, size_t n) {
    float m = 0;
    for (size_t i = 0; i < n; i++)
        m = fmaxf(m, fabsf(x[i]));
    return m;
}

static float max_jump(const float *x, size_t n, float prev) {
    float m = 0;
    for (size_t i = 0; i < n; i++) {
        float d = fabsf(x[i] - prev);
        if (!(d <= m)) m = d;
        prev = x[i];
    }
    return m;
}

/* ---- rings ---- */

static void test_ring_basic(void **state) {
    int mem[8], out[8];
    gw_ring r;
    gw_error err = {0};
    assert_int_equal(gw_ring_init(&r, mem, sizeof(int), 6, &err), GW_ERR_ARG);
    assert_int_equal(gw_ring_init(&r, mem, sizeof(int), 8, &err), GW_OK);
    assert_int_equal(gw_ring_readable(&r), 0);
    assert_int_equal(gw_ring_read(&r, out, 1), 0);
    int next_w = 0, next_r = 0;
    for (int round = 0; round < 50; round++) { /* wraps the indices many times */
        int in[8], k = 1 + round % 8;
        for (int i = 0; i < k; i++) in[i] = next_w + i;
        size_t w = gw_ring_write(&r, in, (size_t)k);
        assert_true(w <= (size_t)k);
        next_w += (int)w;
        assert_int_equal(gw_ring_readable(&r) + gw_ring_writable(&r), 8);
        size_t got = gw_ring_read(&r, out, (size_t)(1 + round % 5));
        for (size_t i = 0; i < got; i++) assert_int_equal(out[i], next_r++);
    }
    /* full ring refuses more */
    while (gw_ring_read(&r, out, 8)) {
    }
    int fill[9] = {0};
    assert_int_equal(gw_ring_write(&r, fill, 9), 8);
    assert_int_equal(gw_ring_write(&r, fill, 1), 0);
}

typedef struct stress {
    gw_ring *r;
    uint32_t n;
} stress;

static void *producer(void *arg) {
    stress *s = arg;
    uint32_t next = 0, buf[37];
    while (next < s->n) {
        uint32_t k = 1 + next % 37;
        if (k > s->n - next) k = s->n - next;
        for (uint32_t i = 0; i < k; i++) buf[i] = next + i;
        size_t w = gw_ring_write(s->r, buf, k);
        if (w == 0) sched_yield(); /* full: let the reader run (2 shared cores) */
        next += (uint32_t)w;
    }
    return NULL;
}

/* one writer and one reader thread hammer a small ring with odd-sized
 * chunks: every item arrives once, in order */
static void test_ring_two_threads(void **state) {
    uint32_t mem[64], buf[29];
    gw_ring r;
    assert_int_equal(gw_ring_init(&r, mem, sizeof(uint32_t), 64, NULL), GW_OK);
    stress s = {&r, 300000};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, producer, &s), 0);
    uint32_t expect = 0;
    while (expect < s.n) {
        size_t got = gw_ring_read(&r, buf, 1 + expect % 29);
        if (got == 0) sched_yield();
        for (size_t i = 0; i < got; i++)
            if (buf[i] != expect++) fail_msg("item %u arrived as %u", expect - 1, buf[i]);
    }
    pthread_join(th, NULL);
    assert_int_equal(gw_ring_readable(&r), 0);
}

/* ---- voices ---- */

static void notes_of(gw_engine *e, float *notes, int *n) {
    gw_engine_voice_info info[16];
    *n = gw_engine_voices(e, info, 16);
    for (int i = 0; i < *n; i++) notes[i] = info[i].stage == 3 ? -info[i].pending_note : info[i].note;
}

static int has(const float *notes, int n, float x) {
    for (int i = 0; i < n; i++)
        if (notes[i] == x) return 1;
    return 0;
}

static void test_allocation_and_stealing(void **state) {
    gw_wavenet *m;
    assert_int_equal(gw_test_const_model(&m, 16000, CLS, 0, NULL), GW_OK);
    gw_engine *e = make_engine(m, 4, 16000, 160, GW_ENGINE_CALLBACK);
    float buf[1600], notes[16];
    int n;
    for (int k = 0; k < 4; k++) assert_true(gw_engine_note_on(e, 60.0f + k, 1.0f));
    run(e, buf, 160, 160);
    notes_of(e, notes, &n);
    assert_int_equal(n, 4);
    gw_engine_meters mt;
    gw_engine_read_meters(e, &mt);
    assert_int_equal(mt.voices, 4);
    /* full: the oldest held note (60) fades and restarts as 70 */
    gw_engine_note_on(e, 70, 1.0f);
    run(e, buf, 16, 16);
    notes_of(e, notes, &n);
    assert_int_equal(n, 4);
    assert_true(has(notes, n, -70.0f)); /* fading, 70 pending */
    run(e, buf, 1600, 160);             /* 3 ms fade is long over */
    notes_of(e, notes, &n);
    assert_true(has(notes, n, 70) && !has(notes, n, 60) && has(notes, n, 61));
    /* a released voice is taken before any held one, the quietest first */
    gw_engine_note_off(e, 62);
    run(e, buf, 320, 160); /* 20 ms into an 80 ms release */
    gw_engine_note_off(e, 63);
    run(e, buf, 160, 160); /* 62 is now quieter than 63 */
    gw_engine_note_on(e, 72, 1.0f);
    run(e, buf, 1600, 160);
    notes_of(e, notes, &n);
    assert_true(has(notes, n, 72) && !has(notes, n, 62) && has(notes, n, 61));
    /* all released voices retire when their envelopes reach zero */
    gw_engine_send(e, &(gw_engine_event){.type = GW_ENGINE_EV_ALL_OFF});
    for (int k = 0; k < 3; k++) run(e, buf, 1600, 160); /* 300 ms > 80 ms release */
    assert_int_equal(gw_engine_voices(e, NULL, 0), 0);
    assert_true(fabsf(buf[1599]) == 0.0f);
    gw_engine_free(e);
    gw_wavenet_free(m);
}

/* note-on and note-off never step: the largest sample-to-sample change is
 * the attack ramp's slope, with and without resampling to the host rate */
static void test_envelopes_click_free(void **state) {
    const int rates[2] = {16000, 48000};
    for (int ri = 0; ri < 2; ri++) {
        const int host = rates[ri];
        gw_wavenet *m;
        assert_int_equal(gw_test_const_model(&m, 16000, CLS, 0, NULL), GW_OK);
        gw_engine *e = make_engine(m, 2, host, 128, GW_ENGINE_CALLBACK);
        const size_t n = (size_t)host / 4; /* 250 ms */
        float *on = calloc(n, sizeof(float)), *off = calloc(n, sizeof(float));
        run(e, on, 1024, 128); /* silence first, so the resampler sees the onset */
        gw_engine_note_on(e, 60, 1.0f);
        run(e, on, n, 128);
        gw_engine_note_off(e, 60);
        run(e, off, n, 128);
        const float A = amp();
        const float attack_slope = A / (0.005f * host), release_slope = A / (0.080f * host);
        float j_on = max_jump(on, n, 0.0f), j_off = max_jump(off, n, on[n - 1]);
        /* a bandlimited resampler overshoots a slope's corners a little
         * (Gibbs on the derivative) */
        const float tol = host == 16000 ? 1.01f : 1.3f;
        /* the sustained level, and silence after release */
        assert_true(fabsf(on[n - 1] - A) < 1e-3f);
        assert_true(fabsf(off[n - 1]) < 1e-4f);
        /* without the envelope either jump would be A (0.52) */
        if (j_on > tol * attack_slope || j_off > tol * release_slope)
            fail_msg("host %d Hz: jumps %g (attack slope %g), %g (release slope %g)", host,
                     (double)j_on, (double)attack_slope, (double)j_off, (double)release_slope);
        free(on);
        free(off);
        gw_engine_free(e);
        gw_wavenet_free(m);
    }
}

/* a stolen voice fades over steal_ms before its new note attacks */
static void test_steal_click_free(void **state) {
    gw_wavenet *m;
    assert_int_equal(gw_test_const_model(&m, 16000, CLS, 0, NULL), GW_OK);
    gw_engine *e = make_engine(m, 1, 16000, 64, GW_ENGINE_CALLBACK);
    float a[3200], b[3200];
    gw_engine_note_on(e, 60, 1.0f);
    run(e, a, 3200, 64);
    gw_engine_note_on(e, 67, 1.0f);
    run(e, b, 3200, 64);
    const float A = amp(), fade_slope = A / (0.003f * 16000);
    float j = max_jump(b, 3200, a[3199]);
    if (j > 1.05f * fade_slope) fail_msg("steal jump %g > fade slope %g", (double)j, (double)fade_slope);
    float notes[4];
    int n;
    notes_of(e, notes, &n);
    assert_int_equal(n, 1);
    assert_true(notes[0] == 67.0f);
    assert_true(fabsf(b[3199] - A) < 1e-3f);
    gw_engine_free(e);
    gw_wavenet_free(m);
}

/* a gain jump glides with the smoothing time constant (20 ms) */
static void test_gain_smoothing(void **state) {
    gw_wavenet *m;
    assert_int_equal(gw_test_const_model(&m, 16000, CLS, 0, NULL), GW_OK);
    gw_engine *e = make_engine(m, 2, 16000, 100, GW_ENGINE_CALLBACK);
    float a[1600], b[3200];
    gw_engine_note_on(e, 60, 1.0f);
    run(e, a, 1600, 100);
    gw_engine_set_param(e, GW_ENGINE_PARAM_GAIN, 0.25f);
    run(e, b, 3200, 100);
    const float A = amp(), coef = 1.0f - expf(-1.0f / (0.020f * 16000));
    float j = max_jump(b, 3200, a[1599]);
    assert_true(j <= 1.01f * 0.75f * A * coef);
    assert_true(j > 0.5f * 0.75f * A * coef); /* it did move */
    /* after one time constant (320 samples) 1/e of the step is left */
    assert_true(fabsf((b[319] - 0.25f * A) / (0.75f * A) - expf(-1.0f)) < 0.02f);
    assert_true(fabsf(b[3199] - 0.25f * A) < 1e-3f);
    /* the temperature is smoothed too: a greedy switch keeps the constant */
    gw_engine_set_param(e, GW_ENGINE_PARAM_TEMPERATURE, 0.0f);
    run(e, b, 1600, 100);
    assert_true(fabsf(b[1599] - 0.25f * A) < 1e-3f);
    gw_engine_free(e);
    gw_wavenet_free(m);
}

/* the string model sounds its note's pitch through the engine at 48 kHz,
 * and pitch bend moves the pitch conditioning (+2 semitones -> note + 2) */
static void test_pitch_and_bend(void **state) {
    gw_wavenet *m;
    gw_error err = {0};
    if (gw_test_string_model(&m, 8000, 55, 67, &err)) fail_msg("%s", err.msg);
    gw_engine *e = make_engine(m, 4, 48000, 256, GW_ENGINE_CALLBACK);
    const size_t n = 48000 * 3 / 2;
    float *x = calloc(n, sizeof(float));
    gw_engine_note_on(e, 57, 1.0f);
    run(e, x, n, 256);
    float f0 = gw_yin_f0(x + n / 3, n - n / 3, 48000, 60.0f, 1000.0f);
    float rms = 0;
    for (size_t i = n / 3; i < n; i++) rms += x[i] * x[i];
    rms = sqrtf(rms / (float)(n - n / 3));
    assert_true(rms > 0.02f);
    if (!(fabsf(gw_cents(f0, gw_midi_to_hz(57))) < 25.0f))
        fail_msg("note 57: f0 %.2f Hz, expected %.2f", (double)f0, (double)gw_midi_to_hz(57));
    gw_engine_set_param(e, GW_ENGINE_PARAM_PITCH_BEND, 2.0f);
    run(e, x, n, 256);
    f0 = gw_yin_f0(x + n / 3, n - n / 3, 48000, 60.0f, 1000.0f);
    if (!(fabsf(gw_cents(f0, gw_midi_to_hz(59))) < 25.0f))
        fail_msg("note 57 bent +2: f0 %.2f Hz, expected %.2f", (double)f0,
                 (double)gw_midi_to_hz(59));
    free(x);
    gw_engine_free(e);
    gw_wavenet_free(m);
}

static void sleep_us(long us) {
    struct timespec ts = {0, us * 1000};
    nanosleep(&ts, NULL);
}

/* GW_ENGINE_THREAD: `blocks` blocks of B frames into out, each once the
 * generator has it ready (so a slow machine never turns into underruns) */
static void run_thread(gw_engine *e, float *out, int blocks, int B) {
    for (int k = 0; k < blocks; k++) {
        gw_engine_meters mt;
        for (int w = 0; w < 20000; w++) { /* at most 2 s for the generator to catch up */
            gw_engine_read_meters(e, &mt);
            if (mt.ready >= (uint64_t)B) break;
            sleep_us(100);
        }
        gw_engine_process(e, out + (size_t)k * B, B);
    }
}

/* the generator thread renders exactly what the callback would: same
 * voices, same noise, same resampling, only earlier */
static void test_thread_mode_matches_callback(void **state) {
    gw_wavenet *m;
    gw_error err = {0};
    if (gw_test_string_model(&m, 8000, 55, 67, &err)) fail_msg("%s", err.msg);
    enum { B = 256, BLOCKS = 60 };
    gw_engine *cb = make_engine(m, 4, 48000, B, GW_ENGINE_CALLBACK);
    gw_engine *th = make_engine(m, 4, 48000, B, GW_ENGINE_THREAD);
    static float a[B * BLOCKS], b[B * BLOCKS];
    gw_engine_note_on(cb, 60, 0.8f);
    gw_engine_note_on(cb, 64, 0.8f);
    gw_engine_note_on(th, 60, 0.8f);
    gw_engine_note_on(th, 64, 0.8f);
    run(cb, a, B * BLOCKS, B);
    if (gw_engine_start(th, &err)) fail_msg("%s", err.msg);
    run_thread(th, b, BLOCKS, B);
    gw_engine_meters mt;
    gw_engine_read_meters(th, &mt);
    assert_int_equal(mt.underruns, 0);
    assert_true(mt.load > 0.0f);
    gw_engine_stop(th);
    assert_true(gw_test_max_abs_diff(a, b, B * BLOCKS) == 0.0f);
    assert_true(peak_abs(a, B * BLOCKS) > 0.01f);
    /* the generator runs `ahead` blocks in front: the latency says so */
    assert_true(gw_engine_latency_frames(th) >= 4.0 * B);
    gw_engine_free(cb);
    gw_engine_free(th);
    gw_wavenet_free(m);
}

/* events stamped with a frame land on the same model sample whatever the
 * host's block sizes: a note-on at frame F1 and its note-off at F2 give
 * bit-identical output played in blocks of 256 and in ragged blocks, exact
 * silence before F1, and sound from F1 + latency on; in thread mode the
 * same output comes ahead * block frames later (its larger latency) */
static void test_event_frames(void **state) {
    gw_wavenet *m;
    gw_error err = {0};
    if (gw_test_string_model(&m, 8000, 55, 67, &err)) fail_msg("%s", err.msg);
    enum { B = 256, N = B * 40, F1 = 1000, F2 = 6001 };
    static float a[N], b[N], c[N];
    gw_engine *ea = make_engine(m, 4, 48000, B, GW_ENGINE_CALLBACK);
    gw_engine *eb = make_engine(m, 4, 48000, B, GW_ENGINE_CALLBACK);
    /* 3 blocks ahead: 768 frames, a whole number of model samples (6 frames
     * each), so the thread's output is the callback's shifted exactly */
    gw_engine_config cc = *gw_engine_get_config(ea);
    cc.mode = GW_ENGINE_THREAD;
    cc.ahead = 3;
    gw_engine *ec = NULL;
    if (gw_engine_create(&ec, m, &cc, &err)) fail_msg("%s", err.msg);
    gw_engine *all[3] = {ea, eb, ec};
    for (int k = 0; k < 3; k++) {
        assert_int_equal(gw_engine_send(all[k], &(gw_engine_event){.type = GW_ENGINE_EV_NOTE_ON,
                                                                   .note = 60, .value = 0.8f,
                                                                   .frame = F1}),
                         1);
        assert_int_equal(gw_engine_send(all[k], &(gw_engine_event){.type = GW_ENGINE_EV_NOTE_OFF,
                                                                   .note = 60, .frame = F2}),
                         1);
    }
    run(ea, a, N, B);
    run_ragged(eb, b, N);
    assert_true(gw_test_max_abs_diff(a, b, N) == 0.0f);
    for (int t = 0; t < F1; t++) assert_true(a[t] == 0.0f);
    const int lat = (int)ceil(gw_engine_latency_frames(ea));
    float onset = 0, held = 0, after = 0;
    for (int t = F1; t < F1 + lat + 480; t++) onset = fmaxf(onset, fabsf(a[t]));
    for (int t = F1 + lat + 480; t < F2; t++) held = fmaxf(held, fabsf(a[t]));
    /* 80 ms release (3840 frames) past F2 + latency, and the resampler's tail
     * (its latency again): silent */
    for (int t = F2 + 2 * lat + 3840 + 48; t < N; t++) after = fmaxf(after, fabsf(a[t]));
    assert_true(onset > 1e-3f && held > 0.01f);
    assert_true(after == 0.0f);

    if (gw_engine_start(ec, &err)) fail_msg("%s", err.msg);
    run_thread(ec, c, N / B, B);
    const int ahead = cc.ahead * B;
    assert_true(gw_engine_latency_frames(ec) == gw_engine_latency_frames(ea) + ahead);
    assert_true(gw_test_max_abs_diff(a, c + ahead, N - ahead) == 0.0f);
    gw_engine_free(ea);
    gw_engine_free(eb);
    gw_engine_free(ec);
    gw_wavenet_free(m);
}

/* a prepared model comes in after the voices fade; the old one comes back
 * for freeing; swaps that do not fit are refused */
static void test_model_swap(void **state) {
    gw_wavenet *s, *c;
    gw_error err = {0};
    if (gw_test_string_model(&s, 8000, 55, 67, &err)) fail_msg("%s", err.msg);
    assert_int_equal(gw_test_const_model(&c, 8000, CLS, 11, NULL), GW_OK);
    gw_engine *e = make_engine(s, 2, 48000, 256, GW_ENGINE_CALLBACK);
    gw_engine_config cfg = *gw_engine_get_config(e);
    gw_engine_model *pm = NULL, *bad = NULL;
    assert_int_equal(gw_engine_model_create(&pm, c, &cfg, &err), GW_OK);
    cfg.max_voices = 3;
    assert_int_equal(gw_engine_model_create(&bad, c, &cfg, &err), GW_OK);
    assert_int_equal(gw_engine_swap_model(e, bad, &err), GW_ERR_ARG);
    gw_engine_model_free(bad);
    static float x[48000];
    gw_engine_note_on(e, 60, 1.0f);
    run(e, x, 24000, 256);
    assert_int_equal(gw_engine_swap_model(e, pm, &err), GW_OK);
    assert_null(gw_engine_collect(e));
    run(e, x, 48000, 256);
    gw_engine_model *old = gw_engine_collect(e);
    assert_non_null(old);
    assert_string_equal(gw_engine_model_config(old)->name, "ks-string-55-67");
    gw_engine_model_free(old);
    /* the held note restarted on the constant model */
    assert_true(fabsf(x[47999] - amp()) < 2e-3f);
    assert_int_equal(gw_engine_voices(e, NULL, 0), 1);
    gw_engine_free(e);
    gw_wavenet_free(s);
    gw_wavenet_free(c);
}

/* the tabulated streaming resampler against its directly evaluated kernel
 * (naive twin), fed in odd-sized pieces, up and down; and against libsoxr's
 * whole-buffer gw_resample on a band-limited signal */
static void test_sinc_resampler(void **state) {
    const double rates[3][2] = {{16000, 48000}, {24000, 44100}, {48000, 16000}};
    for (int r = 0; r < 3; r++) {
        const double in_rate = rates[r][0], out_rate = rates[r][1];
        const size_t n = (size_t)in_rate / 2;
        float *x = calloc(n, sizeof(float)), *y = calloc(2 * n * 3 + 64, sizeof(float));
        for (size_t i = 0; i < n; i++) /* two partials inside both passbands */
            x[i] = (float)(0.5 * sin(2 * M_PI * 440.0 * i / in_rate) +
                           0.25 * sin(2 * M_PI * 3000.0 * i / in_rate));
        gw_sinc *s = NULL;
        gw_error err = {0};
        if (gw_sinc_create(&s, in_rate, out_rate, 97, &err)) fail_msg("%s", err.msg);
        size_t got = 0;
        for (size_t at = 0, k = 0; at < n; k++) {
            size_t piece = 1 + (k * 37) % 97, used = 0;
            if (piece > n - at) piece = n - at;
            got += gw_sinc_process(s, y + got, 3 * n - got, x + at, piece, &used);
            at += used;
        }
        assert_true(got > (size_t)(0.45 * out_rate));
        double worst = 0;
        for (size_t j = 0; j < got; j += 7) {
            double ref = gw_sinc_reference(s, x, n, (double)j * in_rate / out_rate);
            worst = fmax(worst, fabs(ref - y[j]));
        }
        if (worst > 2e-4) fail_msg("%g -> %g Hz: table vs direct kernel %g", in_rate, out_rate, worst);
        float *z = NULL;
        size_t zn = 0;
        assert_int_equal(gw_resample(&z, &zn, x, n, in_rate, out_rate, &err), GW_OK);
        /* away from the edges both are the same band-limited signal */
        double err2 = 0, sig2 = 0;
        size_t lo = (size_t)(0.05 * out_rate), hi = got < zn ? got : zn;
        hi -= (size_t)(0.05 * out_rate);
        for (size_t j = lo; j < hi; j++) {
            err2 += (double)(y[j] - z[j]) * (y[j] - z[j]);
            sig2 += (double)z[j] * z[j];
        }
        double snr = 10 * log10(sig2 / err2);
        if (snr < 60) fail_msg("%g -> %g Hz: sinc vs soxr only %.1f dB apart", in_rate, out_rate, snr);
        free(z);
        free(x);
        free(y);
        gw_sinc_free(s);
    }
    gw_sinc *s = NULL;
    assert_int_equal(gw_sinc_create(&s, 8000, 96000, 64, NULL), GW_ERR_ARG);
}

/* ---- key-tracked high-pass ---- */

/* energy of x (n) in [lo, hi) Hz: Hann-windowed DFT bins 1 / (n / sr) apart */
static double band_energy(const float *x, size_t n, int sr, double lo, double hi) {
    double sum = 0;
    for (size_t k = 0; (double)k * sr / n < hi; k++) {
        if ((double)k * sr / n < lo) continue;
        double re = 0, im = 0;
        for (size_t i = 0; i < n; i++) {
            const double w = 0.5 - 0.5 * cos(2 * M_PI * i / n), ph = 2 * M_PI * k * i / n;
            re += w * x[i] * cos(ph);
            im -= w * x[i] * sin(ph);
        }
        sum += re * re + im * im;
    }
    return sum;
}

/* The string model's note 60 (261.6 Hz) over its sampling noise: the
 * Karplus-Strong loop's comb has a peak at 0 Hz too, so there is energy far
 * below the fundamental, as in the 48 kHz clarinet's lowest band. With
 * highpass 0.7 (cutoff 183 Hz) the band below f0 / 2 loses more than 20 dB
 * and the partials from 2 f0 up keep their energy within 0.1 dB: the voices
 * draw the same samples (the filter comes after the model), only the low
 * cut differs. */
static void test_highpass_cuts_below_fundamental(void **state) {
    gw_wavenet *m;
    gw_error err = {0};
    if (gw_test_string_model(&m, 8000, 55, 67, &err)) fail_msg("%s", err.msg);
    enum { SR = 8000, N = SR * 3 / 2 };
    static float off[N], on[N];
    const float hp[2] = {0.0f, 0.7f};
    float *out[2] = {off, on};
    for (int k = 0; k < 2; k++) {
        gw_engine *e = make_engine_hp(m, 2, SR, 256, GW_ENGINE_CALLBACK, hp[k]);
        gw_engine_note_on(e, 60, 1.0f);
        run(e, out[k], N, 256);
        gw_engine_free(e);
    }
    const float f0 = gw_midi_to_hz(60);
    const float *a = off + SR / 2, *b = on + SR / 2; /* the held note, 0.5 .. 1.5 s */
    const double low_off = band_energy(a, SR, SR, 0, f0 / 2),
                 low_on = band_energy(b, SR, SR, 0, f0 / 2),
                 high_off = band_energy(a, SR, SR, 2 * f0, 3800),
                 high_on = band_energy(b, SR, SR, 2 * f0, 3800);
    const double cut = 10 * log10(low_off / low_on), kept = 10 * log10(high_on / high_off);
    fprintf(stderr, "highpass 0.7 on note 60: below f0/2 %.1f dB less, above 2 f0 %+.3f dB\n", cut,
            kept);
    assert_true(low_off > 1e-4 * high_off); /* there is something below f0 / 2 to cut */
    assert_true(cut > 20.0);
    assert_true(fabs(kept) < 0.1);
    gw_wavenet_free(m);
}

/* With the low cut on and moving (a stamped change mid-note) and the pitch
 * bent, the output is still the same, bit for bit, whatever the host's
 * block sizes: the cutoffs follow the model-sample clock, not the blocks */
static void test_highpass_block_sizes(void **state) {
    gw_wavenet *m;
    gw_error err = {0};
    if (gw_test_string_model(&m, 8000, 55, 67, &err)) fail_msg("%s", err.msg);
    enum { B = 256, N = B * 60 };
    static float a[N], b[N];
    gw_engine *ea = make_engine_hp(m, 4, 48000, B, GW_ENGINE_CALLBACK, 0.6f);
    gw_engine *eb = make_engine_hp(m, 4, 48000, B, GW_ENGINE_CALLBACK, 0.6f);
    gw_engine *all[2] = {ea, eb};
    for (int k = 0; k < 2; k++) {
        gw_engine *e = all[k];
        gw_engine_send(e,
                       &(gw_engine_event){
                           .type = GW_ENGINE_EV_NOTE_ON, .note = 60, .value = 0.8f, .frame = 500});
        gw_engine_send(e,
                       &(gw_engine_event){
                           .type = GW_ENGINE_EV_NOTE_ON, .note = 64, .value = 0.8f, .frame = 700});
        gw_engine_send(e, &(gw_engine_event){.type = GW_ENGINE_EV_PARAM,
                                             .param = GW_ENGINE_PARAM_HIGHPASS,
                                             .value = 0.9f,
                                             .frame = 5001});
        gw_engine_send(e, &(gw_engine_event){.type = GW_ENGINE_EV_PARAM,
                                             .param = GW_ENGINE_PARAM_PITCH_BEND,
                                             .value = -1.5f,
                                             .frame = 8003});
        gw_engine_send(
            e, &(gw_engine_event){.type = GW_ENGINE_EV_NOTE_OFF, .note = 60, .frame = 11000});
    }
    run(ea, a, N, B);
    run_ragged(eb, b, N);
    assert_true(gw_test_max_abs_diff(a, b, N) == 0.0f);
    assert_true(peak_abs(a, N) > 0.01f);
    gw_engine_free(ea);
    gw_engine_free(eb);
    gw_wavenet_free(m);
}

/* The highpass may change while notes play: on, up to 1, down, off and on
 * again, with pitch bend and a new note meanwhile, the output stays finite
 * and bounded; out-of-range values clamp to 0..1; the voices filtered
 * when it goes off stay filtered until they end, and a note started after
 * that is bit-identical to an engine that never filtered (the filter sits
 * after the model, so the voices drew the same samples). */
static void test_highpass_live_changes(void **state) {
    gw_wavenet *m;
    gw_error err = {0};
    if (gw_test_string_model(&m, 8000, 55, 67, &err)) fail_msg("%s", err.msg);
    enum { B = 128, BLOCKS = 400 };
    static float a[B * BLOCKS], b[B * BLOCKS];
    gw_engine *plain = make_engine_hp(m, 4, 48000, B, GW_ENGINE_CALLBACK, 0.0f);
    gw_engine *live = make_engine_hp(m, 4, 48000, B, GW_ENGINE_CALLBACK, 0.0f);
    gw_engine *all[2] = {plain, live};
    for (int k = 0; k < BLOCKS; k++) {
        for (int j = 0; j < 2; j++) {
            gw_engine *e = all[j];
            if (k == 0) gw_engine_note_on(e, 57, 1.0f);
            if (k == 40) gw_engine_note_on(e, 62, 0.7f);
            if (k == 120) gw_engine_set_param(e, GW_ENGINE_PARAM_PITCH_BEND, 2.0f);
            if (k == 170) gw_engine_note_off(e, 57);
            if (k == 180) gw_engine_note_on(e, 65, 0.9f);
            if (k == 230) gw_engine_note_off(e, 62), gw_engine_note_off(e, 65);
            if (k == 300) gw_engine_note_on(e, 60, 0.8f);
            if (j == 0) continue;
            static const struct {
                int block;
                float value;
            } changes[] = {{20, 0.7f},  {60, 5.0f},  {90, 0.3f}, {110, -1.0f},
                           {130, 1.0f}, {150, 0.5f}, {200, 0.0f}};
            for (size_t c = 0; c < sizeof changes / sizeof *changes; c++)
                if (changes[c].block == k)
                    gw_engine_set_param(e, GW_ENGINE_PARAM_HIGHPASS, changes[c].value);
        }
        gw_engine_process(plain, a + k * B, B);
        gw_engine_process(live, b + k * B, B);
    }
    const float peak_a = peak_abs(a, B * BLOCKS), peak_b = peak_abs(b, B * BLOCKS);
    assert_true(isfinite(peak_b)); /* fmaxf skips NaN: check them all */
    for (int i = 0; i < B * BLOCKS; i++)
        assert_true(isfinite(b[i]));
    assert_true(peak_a > 0.01f);
    assert_true(peak_b < 2.0f * peak_a);
    /* the filtered stretch differs from the plain one */
    assert_true(gw_test_max_abs_diff(a + 30 * B, b + 30 * B, 150 * B) > 1e-3f);
    /* off from block 200 (20 ms smoothing reaches 1e-3 within ~7 time
     * constants, 0.15 s, 56 blocks): the voices filtered then stay filtered
     * until they end, so switching off adds no step (their DC would come
     * back at once): no sample-to-sample jump past the plain engine's */
    float jump_a = 0, jump_b = 0;
    for (int i = 200 * B; i < 300 * B; i++) {
        jump_a = fmaxf(jump_a, fabsf(a[i] - a[i - 1]));
        jump_b = fmaxf(jump_b, fabsf(b[i] - b[i - 1]));
    }
    assert_true(jump_b <= 1.1f * jump_a + 1e-6f);
    /* released at block 230 (80 ms, 30 blocks); the note from block 300 is
     * started unfiltered: the same samples as never filtered */
    assert_true(gw_test_max_abs_diff(a + 300 * B, b + 300 * B, 100 * B) == 0.0f);
    gw_engine_free(plain);
    gw_engine_free(live);
    gw_wavenet_free(m);
}

/* switching the low cut off under a sounding voice does not step: a model
 * whose output is pure DC (a constant class) is held with the low cut on,
 * which takes the DC away; when it is switched off the voice stays
 * filtered until it ends (stopping its filter would bring the whole DC
 * back in one sample), and a note started after that is unfiltered */
static void test_highpass_off_no_step(void **state) {
    gw_wavenet *m;
    assert_int_equal(gw_test_const_model(&m, 16000, CLS, 0, NULL), GW_OK);
    enum { B = 256, BLOCKS = 120 };
    static float a[B * BLOCKS];
    gw_engine *e = make_engine_hp(m, 2, 48000, B, GW_ENGINE_CALLBACK, 0.7f);
    gw_engine_note_on(e, 60, 1.0f);
    for (int k = 0; k < BLOCKS; k++) {
        if (k == 40) gw_engine_set_param(e, GW_ENGINE_PARAM_HIGHPASS, 0.0f);
        if (k == 90) gw_engine_note_off(e, 60);
        if (k == 110) gw_engine_note_on(e, 60, 1.0f);
        gw_engine_process(e, a + k * B, B);
    }
    /* the DC is gone by block 30 and does not come back while the note is
     * held, through the switch-off at block 40 and its smoothing */
    const float dc = fabsf(amp());
    assert_true(dc > 0.01f);
    for (int i = 30 * B; i < 90 * B; i++)
        assert_true(fabsf(a[i]) < 1e-3f * dc);
    /* the new note (block 110, after the release) plays the DC unfiltered:
     * its attack ramp reaches it */
    assert_true(fabsf(a[BLOCKS * B - 1]) > 0.5f * dc);
    gw_engine_free(e);
    gw_wavenet_free(m);
}

/* meters: readable at any time, snapshots through the meter ring, host
 * xruns counted apart */
static void test_meters(void **state) {
    gw_wavenet *m;
    assert_int_equal(gw_test_const_model(&m, 16000, CLS, 0, NULL), GW_OK);
    gw_engine *e = make_engine(m, 2, 48000, 256, GW_ENGINE_CALLBACK);
    gw_engine_meters mt;
    assert_int_equal(gw_engine_poll(e, &mt), 0);
    float buf[256 * 8];
    gw_engine_note_on(e, 60, 1.0f);
    run(e, buf, 256 * 8, 256);
    gw_engine_count_xrun(e);
    assert_int_equal(gw_engine_poll(e, &mt), 1); /* the newest snapshot, ~every 10 ms */
    assert_true(mt.frames >= 256 * 6 && mt.frames <= 256 * 8);
    assert_int_equal(mt.voices, 1);
    assert_int_equal(gw_engine_poll(e, &mt), 0);
    gw_engine_read_meters(e, &mt);
    assert_int_equal(mt.frames, 256 * 8);
    assert_true(mt.load > 0.0f && mt.load_peak >= mt.load);
    assert_int_equal(mt.host_xruns, 1);
    assert_true(mt.xruns >= 1);
    assert_true(gw_engine_latency_frames(e) > 0); /* the sinc filter's delay */
    gw_engine_free(e);
    gw_wavenet_free(m);
}

static void test_bad_input(void **state) {
    gw_wavenet_config cfg = {0};
    snprintf(cfg.name, sizeof cfg.name, "voc");
    cfg.sample_rate = 16000;
    cfg.classes = 256;
    cfg.residual = cfg.gate = cfg.skip = cfg.head = 4;
    cfg.stacks = 1;
    cfg.layers_per_stack = 2;
    cfg.kernel = 2;
    cfg.dilations[0] = 1;
    cfg.dilations[1] = 2;
    cfg.n_mels = 8;
    cfg.hop = 64;
    gw_wavenet *v = NULL;
    gw_error err = {0};
    assert_int_equal(gw_wavenet_create(&v, &cfg, &err), GW_OK);
    gw_engine_config ec;
    gw_engine_config_default(&ec);
    gw_engine *e = NULL;
    assert_int_equal(gw_engine_create(&e, v, &ec, &err), GW_ERR_UNSUPPORTED);
    assert_non_null(strstr(err.msg, "vocoder"));
    assert_null(e);
    cfg.n_mels = 0;
    gw_wavenet *ok = NULL;
    assert_int_equal(gw_wavenet_create(&ok, &cfg, &err), GW_OK);
    ec.max_voices = 0;
    assert_int_equal(gw_engine_create(&e, ok, &ec, &err), GW_ERR_ARG);
    gw_engine_config_default(&ec);
    ec.max_block = 100000;
    assert_int_equal(gw_engine_create(&e, ok, &ec, &err), GW_ERR_ARG);
    gw_engine_config_default(&ec);
    ec.mode = GW_ENGINE_THREAD;
    ec.ahead = 0;
    assert_int_equal(gw_engine_create(&e, ok, &ec, &err), GW_ERR_ARG);
    /* a full event ring drops and counts instead of blocking */
    gw_engine_config_default(&ec);
    ec.events = 4;
    assert_int_equal(gw_engine_create(&e, ok, &ec, &err), GW_OK);
    int sent = 0;
    for (int k = 0; k < 10; k++) sent += gw_engine_note_on(e, 60, 1.0f);
    assert_int_equal(sent, 4);
    gw_engine_meters mt;
    gw_engine_read_meters(e, &mt);
    assert_int_equal(mt.dropped, 6);
    gw_engine_free(e);
    gw_engine_free(NULL);
    gw_wavenet_free(v);
    gw_wavenet_free(ok);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ring_basic),
        cmocka_unit_test(test_ring_two_threads),
        cmocka_unit_test(test_allocation_and_stealing),
        cmocka_unit_test(test_envelopes_click_free),
        cmocka_unit_test(test_steal_click_free),
        cmocka_unit_test(test_gain_smoothing),
        cmocka_unit_test(test_pitch_and_bend),
        cmocka_unit_test(test_thread_mode_matches_callback),
        cmocka_unit_test(test_event_frames),
        cmocka_unit_test(test_model_swap),
        cmocka_unit_test(test_sinc_resampler),
        cmocka_unit_test(test_highpass_cuts_below_fundamental),
        cmocka_unit_test(test_highpass_block_sizes),
        cmocka_unit_test(test_highpass_live_changes),
        cmocka_unit_test(test_highpass_off_no_step),
        cmocka_unit_test(test_meters),
        cmocka_unit_test(test_bad_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
