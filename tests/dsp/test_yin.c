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

/* a clarinet-like tone (strong upper partials) with a little noise at 8 kHz,
 * where the periods of notes 48-72 (61..15 samples) are not whole numbers of
 * samples: d' at the integer lag next to the period is raised by the
 * misalignment, and thresholding it there picked the period's double (392
 * Hz measured as 196) wherever that fell nearer an integer lag */
static void test_fractional_periods_8k(void **state) {
    const int sr = 8000;
    const size_t n = 6000;
    float *x = malloc(sizeof(float) * n);
    gw_rng rng;
    gw_rng_seed(&rng, 8);
    /* partial amplitudes of a clarinet note a WaveNet generated at 8 kHz
     * (note 67: the 5th partial the strongest, the even ones weak) */
    static const double amp[9] = {0, 0.08, 0.002, 0.04, 0.01, 0.10, 0.066, 0.044, 0.05};
    float worst = 0;
    for (int note = 48; note <= 72; note++) {
        double f = gw_midi_to_hz((float)note);
        for (size_t i = 0; i < n; i++) {
            double t = (double)i / sr;
            double v = 0.02 * (2 * gw_rng_uniform(&rng) - 1);
            for (int h = 1; h <= 8; h++)
                if (h * f < 0.45 * sr) v += amp[h] * sin(2 * M_PI * h * f * t + h);
            x[i] = (float)v;
        }
        float est = gw_yin_f0(x, n, sr, 0.5f * gw_midi_to_hz(48), 2.0f * gw_midi_to_hz(72));
        float c = est > 0 ? fabsf(gw_cents(est, (float)f)) : INFINITY;
        if (c >= 5.0f) fprintf(stderr, "8 kHz note %d (%.2f Hz): got %.3f Hz\n", note, f, est);
        assert_true(c < 5.0f);
        if (c > worst) worst = c;
    }
    fprintf(stderr, "yin at 8 kHz, clarinet-like tones with noise: worst %.3f cents\n", worst);
    free(x);
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
        cmocka_unit_test(test_fractional_periods_8k),
        cmocka_unit_test(test_unvoiced_and_bad_args),
        cmocka_unit_test(test_pitch_helpers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
