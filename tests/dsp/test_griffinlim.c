#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dsp/gw_dsp.h"

enum { SR = 16000, N = 12000, NFFT = 512, HOP = 128, ITERS = 60 };

/* a harmonic tone under a chirp: partials that move and ones that stay */
static void make_signal(float *x) {
    for (int i = 0; i < N; i++) {
        double t = (double)i / SR;
        double v = 0;
        for (int h = 1; h <= 5; h++)
            v += 0.3 / h * sin(2 * M_PI * 220.0 * h * t);
        v += 0.2 * sin(2 * M_PI * (300.0 * t + 1500.0 * t * t)); /* 300 -> 3300 Hz */
        x[i] = (float)v;
    }
}

static void test_fast_griffin_lim_converges(void **state) {
    gw_stft *s;
    assert_int_equal(gw_stft_create(&s, NFFT, HOP, NULL), GW_OK);
    int frames = gw_stft_frames(s, N), bins = gw_stft_bins(s);
    float *x = malloc(sizeof(float) * N), *y = malloc(sizeof(float) * N),
          *y2 = malloc(sizeof(float) * N);
    float *mag = malloc(sizeof(float) * frames * bins);
    float sc_fast[ITERS], sc_classic[ITERS], sc_again[ITERS];
    make_signal(x);
    gw_stft_magnitude(s, mag, x, N);
    assert_int_equal(gw_griffin_lim(s, y, mag, frames, N, ITERS, 0.99f, 7, sc_fast, NULL), GW_OK);
    assert_int_equal(gw_griffin_lim(s, y2, mag, frames, N, ITERS, 0.0f, 7, sc_classic, NULL),
                     GW_OK);
    fprintf(stderr, "spectral convergence: start %.3f, fast %.4f, classic %.4f after %d\n",
            sc_fast[0], sc_fast[ITERS - 1], sc_classic[ITERS - 1], ITERS);
    /* random phase starts far off; both variants descend; momentum wins */
    assert_true(sc_fast[0] > 0.3f);
    assert_true(sc_fast[ITERS - 1] < 0.25f * sc_fast[0]);
    assert_true(sc_classic[ITERS - 1] < sc_classic[0]);
    assert_true(sc_fast[ITERS - 1] < 0.8f * sc_classic[ITERS - 1]);
    /* the last value is the returned signal's own spectral convergence */
    float *m2 = malloc(sizeof(float) * frames * bins);
    gw_stft_magnitude(s, m2, y, N);
    double d = 0, nn = 0;
    for (int i = 0; i < frames * bins; i++)
        d += pow(mag[i] - m2[i], 2), nn += pow(mag[i], 2);
    assert_true(fabs(sqrt(d / nn) - sc_fast[ITERS - 1]) < 1e-3);
    /* same seed, same result */
    assert_int_equal(gw_griffin_lim(s, y2, mag, frames, N, ITERS, 0.99f, 7, sc_again, NULL), GW_OK);
    assert_memory_equal(y, y2, sizeof(float) * N);
    free(x), free(y), free(y2), free(mag), free(m2);
    gw_stft_free(s);
}

static void test_bad_args(void **state) {
    gw_stft *s;
    gw_error err;
    assert_int_equal(gw_stft_create(&s, 64, 16, NULL), GW_OK);
    float mag[33 * 7] = {0}, x[100]; /* 7 frames of 33 bins */
    assert_int_equal(gw_griffin_lim(s, x, mag, 6, 100, 4, 0.99f, 1, NULL, &err), GW_ERR_ARG);
    assert_int_equal(gw_griffin_lim(s, x, mag, 7, 100, 0, 0.99f, 1, NULL, &err), GW_ERR_ARG);
    assert_int_equal(gw_griffin_lim(s, x, mag, 7, 100, 4, 1.5f, 1, NULL, &err), GW_ERR_ARG);
    mag[5] = NAN;
    assert_int_equal(gw_griffin_lim(s, x, mag, 7, 100, 4, 0.99f, 1, NULL, &err), GW_ERR_NUMERIC);
    mag[5] = 0;
    float sc[4];
    if (gw_griffin_lim(s, x, mag, 7, 100, 4, 0.99f, 1, sc, &err)) fail_msg("%s", err.msg);
    for (int i = 0; i < 100; i++)
        assert_true(x[i] == 0.0f); /* silence stays silence */
    gw_stft_free(s);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fast_griffin_lim_converges),
        cmocka_unit_test(test_bad_args),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
