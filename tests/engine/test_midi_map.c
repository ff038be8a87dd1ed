/* The one MIDI meaning (engine/midi_map.c): what play, render and the LV2
 * plugin all do with a message, checked on the voices and the output of an
 * engine playing a constant model. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <math.h>
#include <string.h>

#include "dsp/gw_dsp.h"
#include "engine/gw_engine.h"
#include "engine_models.h"
#include "gw_test.h"

enum { CLS = 240, RATE = 16000, BLOCK = 160 };

typedef struct rig {
    gw_wavenet *m;
    gw_engine *e;
    gw_midi_map map;
    float buf[RATE];
} rig;

static void rig_open(rig *r, int voice_limit) {
    gw_error err = {0};
    assert_int_equal(gw_test_const_model(&r->m, RATE, CLS, 0, &err), GW_OK);
    gw_engine_config c;
    gw_engine_config_default(&c);
    c.max_voices = 16;
    c.host_rate = RATE;
    c.max_block = BLOCK;
    c.smooth_ms = 0.0f; /* parameters jump: levels are exact */
    if (gw_engine_create(&r->e, r->m, &c, &err) || gw_engine_start(r->e, &err))
        fail_msg("%s", err.msg);
    gw_midi_map_init(&r->map, 2.0f, voice_limit);
}

static void rig_close(rig *r) {
    gw_engine_free(r->e);
    gw_wavenet_free(r->m);
}

static void midi(rig *r, int status, int a, int b) {
    const uint8_t msg[3] = {(uint8_t)status, (uint8_t)a, (uint8_t)b};
    gw_midi_map_send(&r->map, r->e, msg, 3, 0);
}

/* n frames; returns the last sample */
static float play(rig *r, int n) {
    for (int t = 0; t < n; t += BLOCK)
        gw_engine_process(r->e, r->buf, BLOCK);
    return r->buf[BLOCK - 1];
}

/* keys sounding and not released (attack or hold) */
static int held(rig *r, float *keys) {
    gw_engine_voice_info v[16];
    int n = gw_engine_voices(r->e, v, 16), k = 0;
    for (int i = 0; i < n; i++)
        if (v[i].stage <= 1) keys[k++] = v[i].note;
    return k;
}

static int has(const float *keys, int n, float x) {
    for (int i = 0; i < n; i++)
        if (keys[i] == x) return 1;
    return 0;
}

static void test_sustain_pedal(void **state) {
    rig r;
    rig_open(&r, 0);
    float k[16];
    midi(&r, 0x90, 60, 100);
    midi(&r, 0xB0, 64, 127); /* pedal down */
    midi(&r, 0x80, 60, 0);   /* kept */
    midi(&r, 0x90, 64, 100);
    midi(&r, 0x90, 64, 0); /* note on velocity 0 is a note off: kept too */
    play(&r, 1600);
    assert_int_equal(held(&r, k), 2);
    midi(&r, 0x90, 67, 100);
    midi(&r, 0xB0, 64, 0); /* pedal up: 60 and 64 go, 67 (still down) stays */
    play(&r, 160);
    assert_int_equal(held(&r, k), 1);
    assert_true(has(k, 1, 67));
    rig_close(&r);
}

static void test_retrigger_and_voice_limit(void **state) {
    rig r;
    rig_open(&r, 3);
    float k[16];
    midi(&r, 0x90, 60, 100);
    midi(&r, 0x90, 60, 50); /* the same key again: one voice releases, one starts */
    play(&r, 320);
    assert_int_equal(held(&r, k), 1);
    for (int i = 1; i <= 3; i++)
        midi(&r, 0x90, 60 + i, 100); /* four held, limit three */
    play(&r, 320);
    assert_int_equal(held(&r, k), 3);
    assert_false(has(k, 3, 60)); /* the oldest yielded */
    assert_true(has(k, 3, 61) && has(k, 3, 62) && has(k, 3, 63));
    midi(&r, 0xB0, 123, 0); /* all notes off */
    play(&r, 320);
    assert_int_equal(held(&r, k), 0);
    rig_close(&r);
}

static void test_volume_percussion_and_ignored(void **state) {
    rig r;
    rig_open(&r, 0);
    float k[16];
    midi(&r, 0x99, 36, 100);             /* channel 10: General MIDI percussion */
    midi(&r, 0xC0, 5, 0);                /* program change: no instruments yet */
    uint8_t bad[3] = {0x90, 0x80, 0x10}; /* a data byte above 127 */
    assert_int_equal(gw_midi_map_send(&r.map, r.e, bad, 3, 0), 0);
    assert_int_equal(gw_midi_map_send(&r.map, r.e, bad, 2, 0), 0); /* too short */
    play(&r, 320);
    assert_int_equal(held(&r, k), 0);
    midi(&r, 0x91, 60, 127); /* channel 2 plays */
    const float full = play(&r, 1600);
    assert_true(fabsf(full - gw_mulaw_decode(CLS)) < 1e-6f);
    midi(&r, 0xB0, 7, 32); /* CC7 volume scales the output, after the gain */
    const float vol = play(&r, 160);
    assert_true(fabsf(vol - full * 32.0f / 127.0f) < 1e-6f);
    rig_close(&r);
}

/* the plugin's model change: another engine takes over what is held, with
 * the volume and bend in effect; an untouched map replays nothing */
static void test_replay(void **state) {
    rig a, b;
    rig_open(&a, 0);
    rig_open(&b, 0);
    float k[16];
    gw_midi_map_replay(&a.map, a.e, 0);
    const float silent = play(&a, 320);
    assert_true(silent == 0.0f);
    midi(&a, 0x90, 60, 127);
    midi(&a, 0xB0, 64, 127);
    midi(&a, 0x90, 62, 127);
    midi(&a, 0x80, 62, 0); /* sustained */
    midi(&a, 0xB0, 7, 64);
    gw_midi_map_replay(&a.map, b.e, 0);
    const float out = play(&b, 1600);
    assert_int_equal(held(&b, k), 2);
    assert_true(has(k, 2, 60) && has(k, 2, 62));
    assert_true(fabsf(out - 2.0f * gw_mulaw_decode(CLS) * 64.0f / 127.0f) < 1e-5f);
    rig_close(&a);
    rig_close(&b);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sustain_pedal),
        cmocka_unit_test(test_retrigger_and_voice_limit),
        cmocka_unit_test(test_volume_percussion_and_ignored),
        cmocka_unit_test(test_replay),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
