#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dsp/gw_dsp.h"

enum { SECONDS = 1 };

/* n samples of a harmonic tone at f: partials k = 1, 2, ... below f_max
 * (and at most max_k of them) of amplitude a1 k^-slope with random phases,
 * plus white Gaussian noise of standard deviation sigma */
static float *tone(size_t n, int sr, double f, double f_max, int max_k, double a1, double slope,
                   double sigma, uint64_t seed) {
    float *x = malloc(sizeof(float) * n);
    assert_non_null(x);
    gw_rng rng;
    gw_rng_seed(&rng, seed);
    double ph[512];
    int K = 0;
    while (K < max_k && K < 511 && (K + 1) * f < f_max)
        ph[++K] = 2 * M_PI * gw_rng_uniform(&rng);
    for (size_t i = 0; i < n; i++) {
        const double t = (double)i / sr;
        double v = 0;
        for (int k = 1; k <= K; k++)
            v += a1 * pow(k, -slope) * sin(2 * M_PI * k * f * t + ph[k]);
        x[i] = (float)(v + sigma * gw_rng_normal(&rng));
    }
    return x;
}

static gw_quality measure(const float *x, size_t n, int sr, float note) {
    gw_quality q;
    gw_error err = {0};
    gw_status st = gw_quality_measure(&q, x, n, sr, note, &err);
    if (st) fprintf(stderr, "%s\n", err.msg);
    assert_int_equal(st, GW_OK);
    return q;
}

/* ten partials at 1/k (the first at amplitude 0.3) in white noise of known
 * sigma: the noise's power in the window's 9 Hz noise bandwidth, 2 sigma^2 /
 * sr per Hz x 1.5 bins x 6 Hz, against the first partial's 0.3^2 / 2; the
 * HNR from the partials' power against the noise outside +-f0/4 of them */
static void noise_floor_at(int sr, double sigma) {
    const double f = gw_midi_to_hz(58) * 1.003; /* off the 6 Hz bin grid */
    const size_t n = (size_t)SECONDS * sr;
    float *x = tone(n, sr, f, 0.5 * sr, 10, 0.3, 1.0, sigma, (uint64_t)sr + 17);
    gw_quality q = measure(x, n, sr, 58);
    const double density = 2 * sigma * sigma / sr;
    const double want = 10 * log10(density * 1.5 * GW_QUALITY_BIN_HZ / (0.3 * 0.3 / 2));
    double harmonic = 0;
    for (int k = 1; k <= 10; k++)
        harmonic += 0.5 * pow(0.3 / k, 2);
    /* noise below the first partial's region, then half of every partial's
     * spacing up to the top */
    const double top = fmin(16000.0, 0.5 * sr);
    const double noise = density * ((0.75 * f - 50) + 0.5 * (top - 0.75 * f));
    const double want_hnr = 10 * log10(harmonic / noise);
    fprintf(stderr, "%d Hz, sigma %g: noise floor %.2f dB (construction %.2f), HNR %.2f (%.2f)\n",
            sr, sigma, q.noise_db, want, q.hnr_db, want_hnr);
    assert_true(fabs(q.noise_db - want) < 3.0);
    assert_true(fabs(q.hnr_db - want_hnr) < 1.5);
    assert_true(fabsf(q.cents) < 2.0f + 5.2f); /* 0.3% sharp is 5.2 cents */
    free(x);
}

static void test_noise_floor(void **state) {
    noise_floor_at(48000, 0.01);
    noise_floor_at(48000, 0.001);
    noise_floor_at(16000, 0.01);
    noise_floor_at(44100, 0.003);
}

static void test_cents(void **state) {
    const int sr = 48000;
    const size_t n = (size_t)(1.2 * sr);
    for (int note = 48; note <= 72; note += 12)
        for (int c = -20; c <= 20; c += 40) {
            float *x = tone(n, sr, gw_midi_to_hz(note) * exp2(c / 1200.0), 12000, 10, 0.3, 1.0,
                            0.003, (uint64_t)(note * 100 + c));
            gw_quality q = measure(x, n, sr, (float)note);
            fprintf(stderr, "note %d detuned %+d cents: f0 %.3f Hz, %+.2f cents\n", note, c,
                    q.f0_hz, q.cents);
            assert_true(fabsf(q.cents - (float)c) < 2.0f);
            free(x);
        }
}

/* partials at 1/sqrt(k) (energy falling 3 dB an octave, a bright reed or
 * brass): below 4 kHz the 99% bandwidth stays under 4.2 kHz, up to 12 kHz
 * it passes 8 kHz (at 1/k, 99% of the energy would lie below 6.3 kHz) */
static void test_bandwidth(void **state) {
    const int sr = 48000;
    const size_t n = (size_t)SECONDS * sr;
    const double f = gw_midi_to_hz(57);
    float *lo = tone(n, sr, f, 4000, 511, 0.1, 0.5, 1e-4, 3);
    float *hi = tone(n, sr, f, 12000, 511, 0.1, 0.5, 1e-4, 4);
    gw_quality ql = measure(lo, n, sr, 57), qh = measure(hi, n, sr, 57);
    fprintf(stderr, "99%% bandwidth: partials to 4 kHz %.0f Hz, to 12 kHz %.0f Hz\n",
            ql.bandwidth_hz, qh.bandwidth_hz);
    assert_true(ql.bandwidth_hz < 4200 && ql.bandwidth_hz > 3000);
    assert_true(qh.bandwidth_hz > 8000 && qh.bandwidth_hz < 12100);
    free(lo);
    free(hi);
}

/* a signal is 0 dB from itself; another noise draw of the same tone is
 * close (the lowest bands hold a bin or two of noise each, so they vary by
 * about a dB); a 6 dB/octave tilt (first difference, |H| = 2 sin(pi f /
 * sr)) is far */
static void test_ltas_distance(void **state) {
    const int sr = 48000;
    const size_t n = (size_t)SECONDS * sr;
    const double f = gw_midi_to_hz(62);
    float *x = tone(n, sr, f, 16000, 511, 0.2, 1.0, 0.002, 5);
    float *y = tone(n, sr, f, 16000, 511, 0.2, 1.0, 0.002, 6);
    float *tilt = malloc(sizeof(float) * n);
    assert_non_null(tilt);
    tilt[0] = x[0];
    for (size_t i = 1; i < n; i++)
        tilt[i] = x[i] - x[i - 1];
    gw_quality qx = measure(x, n, sr, 62), qx2 = measure(x, n, sr, 62);
    gw_quality qy = measure(y, n, sr, 62), qt = measure(tilt, n, sr, 62);
    const float self = gw_quality_ltas_distance(&qx, &qx2);
    const float other = gw_quality_ltas_distance(&qx, &qy);
    const float tilted = gw_quality_ltas_distance(&qx, &qt);
    fprintf(stderr, "LTAS distance: self %.3f dB, another draw %.3f dB, tilted 6 dB/oct %.2f dB\n",
            self, other, tilted);
    assert_true(self == 0.0f);
    assert_true(other < 2.0f);
    assert_true(tilted > 3.0f);
    /* over a range of bands: the whole range is the plain distance; the
     * tilt (a first difference: +6 dB per octave) is larger above 4 kHz than
     * below 1 kHz once both are levelled to the strongest band */
    assert_true(fabsf(gw_quality_ltas_distance_in(&qx, &qt, 0, 1e9f) - tilted) < 1e-4f);
    assert_true(isnan(gw_quality_ltas_distance_in(&qx, &qt, 20000, 30000)));
    assert_true(gw_quality_ltas_distance_in(&qx, &qy, 4000, 16000) < 2.0f);
    float top = -1000;
    for (int b = 0; b < GW_QUALITY_BANDS; b++) {
        assert_true(qx.ltas_db[b] >= -90.0f && qx.ltas_db[b] <= 0.0f);
        top = fmaxf(top, qx.ltas_db[b]);
    }
    assert_true(top == 0.0f);
    /* the bands: 50 Hz up in sixth-octaves, the last cut at 16 kHz */
    assert_true(fabsf(gw_quality_band_hz(0) - 50.0f * exp2f(1.0f / 12)) < 0.01f);
    assert_true(gw_quality_band_hz(GW_QUALITY_BANDS - 1) < 16000.0f);
    assert_true(gw_quality_band_hz(GW_QUALITY_BANDS - 1) > 14000.0f);
    free(x);
    free(y);
    free(tilt);
}

/* a tone sampled at 8 kHz has nothing above 4 kHz: those bands sit on the
 * floor; and a short or silent sound, a bad rate or note are handled */
static void test_edges(void **state) {
    const int sr = 8000;
    const size_t n = (size_t)SECONDS * sr;
    float *x = tone(n, sr, gw_midi_to_hz(60), 3900, 511, 0.2, 1.0, 0.001, 7);
    gw_quality q = measure(x, n, sr, 60);
    assert_true(fabsf(q.cents) < 2.0f);
    assert_true(q.bandwidth_hz < 4000);
    for (int b = 0; b < GW_QUALITY_BANDS; b++)
        if (gw_quality_band_hz(b) > 4500) assert_true(q.ltas_db[b] == -90.0f);
    gw_error err = {0};
    gw_quality r;
    assert_int_equal(gw_quality_measure(&r, x, (size_t)(0.4 * sr), sr, 60, &err), GW_ERR_ARG);
    assert_non_null(strstr(err.msg, "too short"));
    assert_int_equal(gw_quality_measure(&r, x, n, 999, 60, &err), GW_ERR_ARG);
    assert_int_equal(gw_quality_measure(&r, x, n, sr, 128, &err), GW_ERR_ARG);
    assert_int_equal(gw_quality_measure(&r, x, n, sr, NAN, &err), GW_ERR_ARG);
    memset(x, 0, sizeof(float) * n);
    q = measure(x, n, sr, 60);
    assert_true(q.f0_hz == 0 && isnan(q.cents) && isnan(q.bandwidth_hz));
    assert_true(isnan(q.noise_db) && isnan(q.hnr_db));
    for (int b = 0; b < GW_QUALITY_BANDS; b++)
        assert_true(q.ltas_db[b] == -90.0f);
    free(x);
}

static void test_median(void **state) {
    float a[] = {3, NAN, 1, 2};
    assert_true(gw_quality_median(a, 4) == 2.0f);
    float b[] = {4, 1, NAN, 3, 2};
    assert_true(gw_quality_median(b, 5) == 2.5f);
    float c[] = {NAN, NAN};
    assert_true(isnan(gw_quality_median(c, 2)));
    assert_true(isnan(gw_quality_median(c, 0)));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_noise_floor), cmocka_unit_test(test_cents),
        cmocka_unit_test(test_bandwidth),   cmocka_unit_test(test_ltas_distance),
        cmocka_unit_test(test_edges),       cmocka_unit_test(test_median),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
