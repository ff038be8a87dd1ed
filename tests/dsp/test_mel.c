#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dsp/gw_dsp.h"

/* the specgan/specvae feature: 16 kHz, n_fft 1024, 64 bands, 0..8 kHz */
enum { SR = 16000, NFFT = 1024, BINS = NFFT / 2 + 1, NM = 64 };

static double bin_hz(int k) {
    return (double)k * SR / NFFT;
}

/* reference values from librosa's Slaney formulas */
static void test_scale(void **state) {
    assert_true(fabsf(gw_hz_to_mel(1000.0f) - 15.0f) < 1e-5f);
    assert_true(fabsf(gw_hz_to_mel(200.0f) - 3.0f) < 1e-5f);
    assert_true(fabsf(gw_hz_to_mel(6400.0f) - 42.0f) < 1e-4f); /* 15 + 27 */
    for (float m = 0.5f; m < 60; m += 0.5f)
        assert_true(fabsf(gw_hz_to_mel(gw_mel_to_hz(m)) - m) < 1e-4f);
}

/* peaks at increasing centres, unit area, coverage of fmin..fmax */
static void test_filters(void **state) {
    gw_mel *m;
    assert_int_equal(gw_mel_create(&m, SR, NFFT, NM, 0, 8000, NULL), GW_OK);
    assert_int_equal(gw_mel_bands(m), NM);
    const float *w = gw_mel_weights(m);
    int prev_peak = -1;
    double mel_step = gw_hz_to_mel(8000.0f) / (NM + 1);
    for (int i = 0; i < NM; i++) {
        const float *row = w + (size_t)i * BINS;
        int peak = 0;
        double area = 0;
        for (int k = 0; k < BINS; k++) {
            assert_true(row[k] >= 0);
            if (row[k] > row[peak]) peak = k;
            area += row[k] * (SR / (double)NFFT);
        }
        assert_true(peak > prev_peak);
        prev_peak = peak;
        /* the peak bin is a neighbour of the centre frequency (not always the
         * nearest: the two slopes of a triangle differ) */
        double centre = gw_mel_to_hz((float)((i + 1) * mel_step));
        assert_true(fabs(bin_hz(peak) - centre) < (double)SR / NFFT);
        /* Riemann sum of a unit-area triangle sampled at the bins; narrow
         * low bands (6 bins wide) make it approximate */
        assert_true(fabs(area - 1.0) < 0.08);
    }
    /* every bin strictly between the first and last centres is covered by
     * some band, nothing above fmax is, and there the un-normalised
     * triangles (weight / (2 / (f[i+2] - f[i]))) form a partition of unity:
     * rising and falling edges of neighbours meet at the same points */
    double c_first = gw_mel_to_hz((float)mel_step), c_last = gw_mel_to_hz((float)(NM * mel_step));
    for (int k = 0; k < BINS; k++) {
        double s = 0, unity = 0;
        for (int i = 0; i < NM; i++) {
            double width =
                gw_mel_to_hz((float)((i + 2) * mel_step)) - gw_mel_to_hz((float)(i * mel_step));
            s += w[(size_t)i * BINS + k];
            unity += w[(size_t)i * BINS + k] * width / 2;
        }
        if (bin_hz(k) > c_first && bin_hz(k) < c_last) {
            assert_true(s > 0);
            assert_true(fabs(unity - 1.0) < 1e-3);
        }
        if (bin_hz(k) > 8000.0) assert_true(s == 0);
    }
    gw_mel_free(m);
}

/* a 1 kHz tone lands in the band centred nearest 1 kHz */
static void test_tone_band(void **state) {
    const size_t n = 8192;
    float *x = malloc(sizeof(float) * n);
    gw_stft *s;
    gw_mel *m;
    assert_int_equal(gw_stft_create(&s, NFFT, 256, NULL), GW_OK);
    assert_int_equal(gw_mel_create(&m, SR, NFFT, NM, 0, 8000, NULL), GW_OK);
    int frames = gw_stft_frames(s, n);
    float *mag = malloc(sizeof(float) * frames * BINS), *mel = malloc(sizeof(float) * frames * NM);
    for (float f = 300; f < 7000; f *= 1.7f) {
        for (size_t i = 0; i < n; i++)
            x[i] = 0.5f * sinf(2 * (float)M_PI * f * i / SR);
        gw_stft_magnitude(s, mag, x, n);
        gw_mel_apply(m, mel, mag, frames);
        const float *row = mel + (size_t)(frames / 2) * NM;
        int best = 0;
        for (int i = 1; i < NM; i++)
            if (row[i] > row[best]) best = i;
        double mel_step = gw_hz_to_mel(8000.0f) / (NM + 1);
        double want = gw_hz_to_mel(f) / mel_step - 1; /* band whose centre is f */
        assert_true(fabs(best - want) <= 1.0);
    }
    float lm[3], v[3] = {0, 1, 1e-3f};
    gw_log_mel(lm, v, 3);
    assert_true(fabsf(lm[0] - logf(1e-5f)) < 1e-6f && fabsf(lm[1] - logf(1 + 1e-5f)) < 1e-6f);
    free(x), free(mag), free(mel);
    gw_stft_free(s);
    gw_mel_free(m);
}

/* invert(apply(mag)): non-negative, reproduces the mel energies, and for a
 * smooth spectral envelope lands near the original magnitude */
static void test_invert(void **state) {
    gw_mel *m;
    assert_int_equal(gw_mel_create(&m, SR, NFFT, NM, 0, 8000, NULL), GW_OK);
    float *mag = malloc(sizeof(float) * BINS), *rec = malloc(sizeof(float) * BINS);
    float mel[NM], mel2[NM];
    for (int k = 0; k < BINS; k++) {
        double f = bin_hz(k);
        mag[k] = (float)(1.0 / (1.0 + f / 500.0) + 0.3 * exp(-pow((f - 3000) / 400, 2)));
    }
    gw_mel_apply(m, mel, mag, 1);
    gw_mel_invert(m, rec, mel, 1);
    gw_mel_apply(m, mel2, rec, 1);
    double e_mel = 0, n_mel = 0, e_mag = 0, n_mag = 0;
    for (int i = 0; i < NM; i++)
        e_mel += pow(mel2[i] - mel[i], 2), n_mel += pow(mel[i], 2);
    for (int k = 0; k < BINS; k++) {
        assert_true(rec[k] >= 0);
        /* between the first and last band centres, where mel sees the
         * spectrum with full weight */
        if (bin_hz(k) > 150 && bin_hz(k) < 7500)
            e_mag += pow(rec[k] - mag[k], 2), n_mag += pow(mag[k], 2);
    }
    fprintf(stderr, "mel invert: mel rel err %.4f, magnitude rel err %.4f\n", sqrt(e_mel / n_mel),
            sqrt(e_mag / n_mag));
    assert_true(sqrt(e_mel / n_mel) < 0.02);
    assert_true(sqrt(e_mag / n_mag) < 0.15);
    free(mag), free(rec);
    gw_mel_free(m);
}

/* a harmonic spectrum (peaks and near-zero valleys) is where the
 * minimum-norm solution goes negative and the clamp + projected gradient
 * must do the work: the mel energies must still come back closely */
static void test_invert_peaky(void **state) {
    gw_mel *m;
    gw_stft *s;
    assert_int_equal(gw_mel_create(&m, SR, NFFT, NM, 0, 8000, NULL), GW_OK);
    assert_int_equal(gw_stft_create(&s, NFFT, 256, NULL), GW_OK);
    const size_t n = 4096;
    float *x = malloc(sizeof(float) * n);
    for (size_t i = 0; i < n; i++) {
        double v = 0;
        for (int h = 1; h <= 20; h++)
            v += sin(2 * M_PI * 180.0 * h * i / SR) / h;
        x[i] = (float)(0.3 * v);
    }
    int frames = gw_stft_frames(s, n);
    float *mag = malloc(sizeof(float) * frames * BINS), *rec = malloc(sizeof(float) * BINS);
    float mel[NM], mel2[NM];
    gw_stft_magnitude(s, mag, x, n);
    const float *row = mag + (size_t)(frames / 2) * BINS;
    gw_mel_apply(m, mel, row, 1);
    gw_mel_invert(m, rec, mel, 1);
    gw_mel_apply(m, mel2, rec, 1);
    double e = 0, nn = 0;
    for (int i = 0; i < NM; i++)
        e += pow(mel2[i] - mel[i], 2), nn += pow(mel[i], 2);
    for (int k = 0; k < BINS; k++)
        assert_true(rec[k] >= 0);
    fprintf(stderr, "mel invert, harmonic spectrum: mel rel err %.4f\n", sqrt(e / nn));
    assert_true(sqrt(e / nn) < 0.02); /* 0.116 from the clamped min-norm start alone */
    free(x), free(mag), free(rec);
    gw_mel_free(m);
    gw_stft_free(s);
}

static void test_bad_args(void **state) {
    gw_mel *m;
    gw_error err;
    assert_int_equal(gw_mel_create(&m, SR, NFFT, 64, 0, 9000, &err), GW_ERR_ARG);
    assert_null(m);
    assert_int_equal(gw_mel_create(&m, SR, NFFT, 0, 0, 8000, &err), GW_ERR_ARG);
    assert_int_equal(gw_mel_create(&m, SR, NFFT, 64, 5000, 4000, &err), GW_ERR_ARG);
    /* 256 bands at n_fft 64 leaves bands without a bin */
    assert_int_equal(gw_mel_create(&m, SR, 64, 256, 0, 8000, &err), GW_ERR_ARG);
    assert_non_null(strstr(err.msg, "no FFT bin"));
    assert_int_equal(gw_mel_create(&m, 22050, 1024, 80, 0, 0, &err), GW_OK); /* fmax = sr/2 */
    gw_mel_free(m);
    gw_mel_free(NULL);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scale),        cmocka_unit_test(test_filters),
        cmocka_unit_test(test_tone_band),    cmocka_unit_test(test_invert),
        cmocka_unit_test(test_invert_peaky), cmocka_unit_test(test_bad_args),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
