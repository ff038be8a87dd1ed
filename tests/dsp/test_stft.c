#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <math.h>
#include <stdlib.h>
#include <threads.h>

#include "dsp/gw_dsp.h"

/* the librosa definition written out directly: reflect-padded, periodic-Hann
 * windowed frames and an O(N^2) DFT in double */
static void naive_stft(double *spec, const float *x, long n, int n_fft, int hop, int frames) {
    int bins = n_fft / 2 + 1;
    double *fr = malloc(sizeof(double) * n_fft);
    for (int t = 0; t < frames; t++) {
        for (int k = 0; k < n_fft; k++) {
            long i = (long)t * hop - n_fft / 2 + k;
            while (i < 0 || i >= n)
                i = i < 0 ? -i : 2 * (n - 1) - i;
            fr[k] = (0.5 - 0.5 * cos(2 * M_PI * k / n_fft)) * x[i];
        }
        for (int f = 0; f < bins; f++) {
            double re = 0, im = 0;
            for (int k = 0; k < n_fft; k++) {
                double a = -2 * M_PI * (double)f * k / n_fft;
                re += fr[k] * cos(a);
                im += fr[k] * sin(a);
            }
            spec[((size_t)t * bins + f) * 2] = re;
            spec[((size_t)t * bins + f) * 2 + 1] = im;
        }
    }
    free(fr);
}

static void test_against_naive_dft(void **state) {
    const int n_fft = 64, hop = 16;
    const size_t n = 300;
    gw_stft *s;
    assert_int_equal(gw_stft_create(&s, n_fft, hop, NULL), GW_OK);
    int frames = gw_stft_frames(s, n), bins = gw_stft_bins(s);
    assert_int_equal(frames, 1 + 300 / 16);
    assert_int_equal(bins, 33);
    float *x = malloc(sizeof(float) * n);
    gw_rng rng;
    gw_rng_seed(&rng, 3);
    gw_rng_fill_uniform(&rng, x, n, -1, 1);
    float *spec = malloc(sizeof(float) * 2 * frames * bins);
    float *mag = malloc(sizeof(float) * frames * bins);
    double *ref = malloc(sizeof(double) * 2 * frames * bins);
    gw_stft_forward(s, spec, x, n);
    gw_stft_magnitude(s, mag, x, n);
    naive_stft(ref, x, (long)n, n_fft, hop, frames);
    double worst = 0;
    for (int i = 0; i < 2 * frames * bins; i++)
        worst = fmax(worst, fabs(spec[i] - ref[i]));
    assert_true(worst < 1e-4);
    for (int i = 0; i < frames * bins; i++)
        assert_true(fabs(mag[i] - hypot(ref[2 * i], ref[2 * i + 1])) < 1e-4);
    free(x), free(spec), free(mag), free(ref);
    gw_stft_free(s);
}

static void round_trip(int n_fft, int hop, size_t n) {
    gw_stft *s;
    assert_int_equal(gw_stft_create(&s, n_fft, hop, NULL), GW_OK);
    int frames = gw_stft_frames(s, n), bins = gw_stft_bins(s);
    float *x = malloc(sizeof(float) * n), *y = malloc(sizeof(float) * n);
    float *spec = malloc(sizeof(float) * 2 * frames * bins);
    gw_rng rng;
    gw_rng_seed(&rng, (uint64_t)n_fft);
    for (size_t i = 0; i < n; i++)
        x[i] = 0.5f * sinf(0.01f * i) + 0.3f * gw_rng_uniform(&rng) - 0.15f;
    gw_stft_forward(s, spec, x, n);
    gw_stft_inverse(s, y, spec, frames, n);
    float err = 0;
    for (size_t i = 0; i < n; i++)
        err = fmaxf(err, fabsf(x[i] - y[i]));
    if (err >= 1e-5f) fprintf(stderr, "round trip n_fft %d hop %d n %zu: %g\n", n_fft, hop, n, err);
    assert_true(err < 1e-5f);
    free(x), free(y), free(spec);
    gw_stft_free(s);
}

/* COLA settings from the models, lengths on and off the hop grid; the
 * least-squares inverse also inverts a non-COLA hop exactly */
static void test_round_trip(void **state) {
    round_trip(1024, 256, 16384);
    round_trip(1024, 256, 10001);
    round_trip(512, 128, 8000);
    round_trip(512, 128, 777);
    round_trip(400, 150, 5000);
}

/* scale convention: no normalisation on the forward transform, so a sine of
 * amplitude A on a bin centre shows |X| = A n_fft / 4 under the Hann window */
static void test_sine_scale(void **state) {
    const int n_fft = 512;
    const size_t n = 4096;
    gw_stft *s;
    assert_int_equal(gw_stft_create(&s, n_fft, 128, NULL), GW_OK);
    float *x = malloc(sizeof(float) * n);
    for (size_t i = 0; i < n; i++)
        x[i] = 0.5f * sinf(2 * (float)M_PI * 20 * i / n_fft);
    int frames = gw_stft_frames(s, n), bins = gw_stft_bins(s);
    float *mag = malloc(sizeof(float) * frames * bins);
    gw_stft_magnitude(s, mag, x, n);
    const float *mid = mag + (size_t)(frames / 2) * bins;
    assert_true(fabsf(mid[20] - 0.5f * n_fft / 4) < 1e-3f * n_fft);
    assert_true(fabsf(mid[19] - 0.5f * n_fft / 8) < 1e-3f * n_fft); /* Hann's side bins */
    assert_true(mid[23] < 1e-3f * mid[20]);
    free(x), free(mag);
    gw_stft_free(s);
}

/* a signal shorter than half a frame still works (mirrored repeatedly) */
static void test_short_and_bad_args(void **state) {
    gw_stft *s;
    gw_error err;
    assert_int_equal(gw_stft_create(&s, 64, 0, &err), GW_ERR_ARG);
    assert_null(s);
    assert_int_equal(gw_stft_create(&s, 2, 1, &err), GW_ERR_ARG);
    assert_int_equal(gw_stft_create(&s, 64, 65, &err), GW_ERR_ARG);
    assert_int_equal(gw_stft_create(&s, 64, 16, &err), GW_OK);
    float x[5] = {1, -2, 3, 0.5f, 0.25f}, y[5];
    int frames = gw_stft_frames(s, 5);
    float spec[2 * 33];
    assert_int_equal(frames, 1);
    gw_stft_forward(s, spec, x, 5);
    for (int i = 0; i < 66; i++)
        assert_true(isfinite(spec[i]));
    gw_stft_inverse(s, y, spec, frames, 5);
    for (int i = 0; i < 5; i++)
        assert_true(fabsf(x[i] - y[i]) < 1e-5f);
    gw_stft_free(s);
    gw_stft_free(NULL);
}

/* plans are created and destroyed from several threads at once (the planner
 * lock in stft.c serialises FFTW's planner); each thread's results must
 * match those of the main thread */
enum { THREADS = 4, ROUNDS = 20 };
static float ref_spec[2 * 17 * 129];

static int worker(void *arg) {
    int id = (int)(intptr_t)arg;
    float x[2048], spec[2 * 17 * 129];
    for (int i = 0; i < 2048; i++)
        x[i] = sinf(0.05f * i) + 0.25f * cosf(0.31f * i);
    for (int r = 0; r < ROUNDS; r++) {
        gw_stft *s, *other;
        if (gw_stft_create(&s, 256, 128, NULL)) return 1;
        if (gw_stft_create(&other, 64 + 32 * ((id + r) % 5), 16, NULL)) return 1;
        gw_stft_forward(s, spec, x, 2048);
        gw_stft_free(other);
        gw_stft_free(s);
        for (int i = 0; i < 2 * 17 * 129; i++)
            if (spec[i] != ref_spec[i]) return 2;
    }
    return 0;
}

static void test_threads(void **state) {
    float x[2048];
    for (int i = 0; i < 2048; i++)
        x[i] = sinf(0.05f * i) + 0.25f * cosf(0.31f * i);
    gw_stft *s;
    assert_int_equal(gw_stft_create(&s, 256, 128, NULL), GW_OK);
    assert_int_equal(gw_stft_frames(s, 2048), 17);
    gw_stft_forward(s, ref_spec, x, 2048);
    gw_stft_free(s);
    thrd_t th[THREADS];
    for (int i = 0; i < THREADS; i++)
        assert_int_equal(thrd_create(&th[i], worker, (void *)(intptr_t)i), thrd_success);
    for (int i = 0; i < THREADS; i++) {
        int rc = -1;
        thrd_join(th[i], &rc);
        assert_int_equal(rc, 0);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_against_naive_dft), cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_sine_scale),        cmocka_unit_test(test_short_and_bad_args),
        cmocka_unit_test(test_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
