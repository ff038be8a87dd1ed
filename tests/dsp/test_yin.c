#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <math.h>
#include <stdlib.h>

#include "dsp/gw_dsp.h"

/* a tone at f: a sine, or a harmonic tone with partials 1..8 at 1/h and
 * random phases, band-limited below 0.45 sr (what a synth voice looks like) */
static void tone(float *x, size_t n, int sr, double f, int harmonic, gw_rng *rng) {
    double ph[9];
    for (int h = 1; h <= 8; h++)
        ph[h] = 2 * M_PI * gw_rng_uniform(rng);
    for (size_t i = 0; i < n; i++) {
        double t = (double)i / sr, v = 0;
        if (!harmonic)
            v = sin(2 * M_PI * f * t + ph[1]);
        else
            for (int h = 1; h <= 8 && h * f < 0.45 * sr; h++)
                v += sin(2 * M_PI * h * f * t + ph[h]) / h;
        x[i] = (float)(0.5 * v);
    }
}

static void sweep(int sr) {
    gw_rng rng;
    gw_rng_seed(&rng, (uint64_t)sr);
    const size_t n = (size_t)(0.1 * sr);
    float *x = malloc(sizeof(float) * n);
    float worst[2] = {0, 0};
    for (int k = 0; k <= 23; k++) {
        /* 40 Hz to 2 kHz in quarter octaves, off the grid of integer periods */
        double f = k == 23 ? 2000.0 : 40.0 * pow(2.0, k / 4.0) * 1.0123;
        for (int harmonic = 0; harmonic < 2; harmonic++) {
            tone(x, n, sr, f, harmonic, &rng);
            float est = gw_yin_f0(x, n, sr, 30.0f, 2500.0f);
            assert_true(est > 0);
            float c = fabsf(gw_cents(est, (float)f));
            if (c > worst[harmonic]) worst[harmonic] = c;
            if (c >= 5.0f)
                fprintf(stderr, "%d Hz %s %.2f Hz: got %.3f (%.2f cents)\n", sr,
                        harmonic ? "harmonic" : "sine", f, est, c);
            assert_true(c < 5.0f);
        }
    }
    fprintf(stderr, "yin at %d Hz: worst %.3f cents (sines), %.3f cents (harmonic tones)\n", sr,
            worst[0], worst[1]);
    free(x);
}

static void test_sweep_16k(void **state) {
    sweep(16000);
}

static void test_sweep_48k(void **state) {
    sweep(48000);
}

static void test_unvoiced_and_bad_args(void **state) {
    float x[4000] = {0};
    assert_true(gw_yin_f0(x, 4000, 16000, 50, 1000) == 0.0f); /* silence */
    gw_rng rng;
    gw_rng_seed(&rng, 5);
    gw_rng_fill_uniform(&rng, x, 4000, -1, 1);
    assert_true(gw_yin_f0(x, 4000, 16000, 50, 1000) == 0.0f); /* white noise */
    tone(x, 4000, 16000, 440.0, 1, &rng);
    assert_true(gw_yin_f0(x, 4000, 16000, 0, 1000) == 0.0f);
    assert_true(gw_yin_f0(x, 4000, 16000, 500, 400) == 0.0f);
    assert_true(gw_yin_f0(x, 100, 16000, 50, 1000) == 0.0f); /* too short for 50 Hz */
    assert_true(fabsf(gw_cents(gw_yin_f0(x, 4000, 16000, 50, 1000), 440.0f)) < 5.0f);
}

static void test_pitch_helpers(void **state) {
    assert_true(fabsf(gw_midi_to_hz(69) - 440.0f) < 1e-3f);
    assert_true(fabsf(gw_midi_to_hz(60) - 261.6256f) < 1e-3f);
    assert_true(fabsf(gw_hz_to_midi(880.0f) - 81.0f) < 1e-4f);
    assert_true(fabsf(gw_cents(880.0f, 440.0f) - 1200.0f) < 1e-3f);
    for (float m = 20; m < 110; m += 0.37f)
        assert_true(fabsf(gw_hz_to_midi(gw_midi_to_hz(m)) - m) < 1e-3f);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sweep_16k),
        cmocka_unit_test(test_sweep_48k),
        cmocka_unit_test(test_unvoiced_and_bad_args),
        cmocka_unit_test(test_pitch_helpers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
