/* The spectrogram models' features and metrics: a tone lands in its mel band,
 * normalisation round-trips and stays in [-1, 1], the image goes back to
 * audio with the tone's energy where it was, the Frechet distance matches
 * closed forms, the Jacobi eigensolver a known spectrum. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "gw_test.h"
#include "models/spec_features.h"
#include "models/spec_metrics.h"

static void tone(float *x, size_t n, float hz, int rate, float amp) {
    for (size_t i = 0; i < n; i++) x[i] = amp * sinf(6.2831853f * hz * (float)i / rate);
}

static int loudest_band(const float *logmel, int M, int T) {
    int best = 0;
    float bv = -1e30f;
    for (int b = 0; b < M; b++) {
        double s = 0;
        for (int t = 0; t < T; t++) s += logmel[b * T + t];
        if (s > bv) bv = (float)s, best = b;
    }
    return best;
}

static void test_features_round_trip(void **state) {
    gw_specfeat_config c;
    gw_specfeat_config_default(&c);
    gw_specfeat *f = NULL;
    gw_error err = {0};
    assert_int_equal(gw_specfeat_create(&f, &c, &err), GW_OK);
    size_t n = (size_t)c.clip_samples, isz = gw_specfeat_image_size(f);
    float *clips = malloc(3 * n * 4), *lm = malloc(3 * isz * 4), *img = malloc(isz * 4);
    float *back = malloc(isz * 4), *audio = malloc(n * 4), *lm2 = malloc(isz * 4);
    float hz[3] = {300, 1200, 4000};
    for (int k = 0; k < 3; k++) {
        tone(clips + k * n, n, hz[k], c.sample_rate, 0.5f);
        gw_specfeat_logmel(f, lm + k * isz, clips + k * n);
    }
    /* higher tones land in higher mel bands */
    int b0 = loudest_band(lm, 64, 64), b1 = loudest_band(lm + isz, 64, 64),
        b2 = loudest_band(lm + 2 * isz, 64, 64);
    assert_true(b0 < b1 && b1 < b2);
    gw_specfeat_fit(f, lm, 3);
    for (int k = 0; k < 3; k++) {
        gw_specfeat_normalise(f, img, lm + k * isz);
        for (size_t i = 0; i < isz; i++) assert_true(img[i] >= -1.0f && img[i] <= 1.0f);
        gw_specfeat_denormalise(f, back, img);
        /* exact wherever the value was inside +-clip_std */
        size_t inside = 0;
        for (size_t i = 0; i < isz; i++)
            if (fabsf(img[i]) < 0.999f) {
                assert_true(fabsf(back[i] - lm[k * isz + i]) < 1e-3f);
                inside++;
            }
        assert_true(inside > isz / 2);
    }
    /* back to audio: the 1200 Hz tone's band is again the loudest */
    gw_specfeat_normalise(f, img, lm + isz);
    assert_int_equal(gw_specfeat_to_audio(f, audio, img, 32, 1, &err), GW_OK);
    float peak = 0;
    for (size_t i = 0; i < n; i++) peak = fmaxf(peak, fabsf(audio[i]));
    assert_true(peak > 0.01f && peak <= 0.99f);
    gw_specfeat_logmel(f, lm2, audio);
    assert_true(abs(loudest_band(lm2, 64, 64) - b1) <= 1);
    free(clips), free(lm), free(img), free(back), free(audio), free(lm2);
    gw_specfeat_free(f);
    /* bad settings are refused with the value named */
    c.frames = 100;
    assert_int_equal(gw_specfeat_create(&f, &c, &err), GW_ERR_ARG);
    assert_non_null(strstr(err.msg, "frames"));
}

static void test_jacobi_and_frechet(void **state) {
    double a[9] = {4, 1, 0, 1, 3, 0, 0, 0, 7}, ev[3], v[9];
    gw_spec_jacobi_eig(ev, v, a, 3);
    double e[3] = {ev[0], ev[1], ev[2]};
    /* eigenvalues of [[4,1],[1,3]] are (7 +- sqrt 5) / 2, and 7 */
    double want[3] = {(7 + sqrt(5)) / 2, (7 - sqrt(5)) / 2, 7};
    for (int i = 0; i < 3; i++) {
        int found = 0;
        for (int j = 0; j < 3; j++) found |= fabs(e[j] - want[i]) < 1e-9;
        assert_true(found);
    }
    /* FD of a set with itself is 0; a shift by m adds |m|^2; a scale by s of
     * an isotropic Gaussian gives d (1 - s)^2 sigma^2 */
    gw_rng r;
    gw_rng_seed(&r, 3);
    int d = 6;
    size_t n = 4000;
    float *x = malloc(n * d * 4), *y = malloc(n * d * 4);
    gw_rng_fill_normal(&r, x, n * d, 0, 1);
    double fd;
    gw_error err;
    assert_int_equal(gw_spec_frechet(&fd, x, n, x, n, d, &err), GW_OK);
    assert_true(fd < 1e-6);
    for (size_t i = 0; i < n * d; i++) y[i] = 2.0f * x[i] + ((i % d) == 0 ? 3.0f : 0.0f);
    assert_int_equal(gw_spec_frechet(&fd, x, n, y, n, d, &err), GW_OK);
    assert_true(fabs(fd - (9.0 + d * 1.0)) < 0.5);
    free(x), free(y);
    /* distances */
    float p[8] = {0, 0, 0, 0, 1, 1, 1, 1};
    assert_float_equal(gw_spec_image_dist(p, p + 4, 4), 1.0f, 1e-6);
    assert_float_equal(gw_spec_mean_pairwise(p, 2, 4), 1.0, 1e-6);
    assert_float_equal(gw_spec_mean_nn(p, 2, p, 2, 4), 1.0, 1e-6);
    float lx[4] = {0, 0, 0, 0}, ly[4] = {1, 1, 1, 1};
    assert_float_equal(gw_spec_lsd_db(lx, ly, 2, 2), 8.685889638, 1e-6);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_features_round_trip),
        cmocka_unit_test(test_jacobi_and_frechet),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
