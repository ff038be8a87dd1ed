#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dsp/gw_dsp.h"

/* Count every malloc/calloc/realloc in the process (libsoxr's included: the
 * executable's definitions interpose the C library's), to prove the
 * streaming path allocates nothing after create. ASan brings its own
 * allocator, so the sanitizer build skips this check. */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__) /* their own allocators */
#define COUNT_ALLOCS 0
#else
#define COUNT_ALLOCS 1
extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
static size_t n_allocs;
void *malloc(size_t n) {
    n_allocs++;
    return __libc_malloc(n);
}
void *calloc(size_t a, size_t b) {
    n_allocs++;
    return __libc_calloc(a, b);
}
void *realloc(void *p, size_t n) {
    n_allocs++;
    return __libc_realloc(p, n);
}
#endif

static void sine(float *x, size_t n, double rate, double f, double amp) {
    for (size_t i = 0; i < n; i++)
        x[i] = (float)(amp * sin(2 * M_PI * f * i / rate));
}

/* least-squares amplitude of a sinusoid at f in y[a, b), and the rms of
 * what is left after removing it */
static double fit(const float *y, size_t a, size_t b, double rate, double f, double *resid_rms) {
    double cc = 0, ss = 0, cs = 0, yc = 0, ys = 0;
    for (size_t i = a; i < b; i++) {
        double c = cos(2 * M_PI * f * i / rate), s = sin(2 * M_PI * f * i / rate);
        cc += c * c, ss += s * s, cs += c * s, yc += y[i] * c, ys += y[i] * s;
    }
    double det = cc * ss - cs * cs;
    double ca = (yc * ss - ys * cs) / det, sa = (ys * cc - yc * cs) / det;
    if (resid_rms) {
        double r = 0;
        for (size_t i = a; i < b; i++) {
            double e = y[i] - ca * cos(2 * M_PI * f * i / rate) - sa * sin(2 * M_PI * f * i / rate);
            r += e * e;
        }
        *resid_rms = sqrt(r / (double)(b - a));
    }
    return sqrt(ca * ca + sa * sa);
}

static double db(double ratio) {
    return 20 * log10(ratio);
}

/* passband tones keep their amplitude within 0.1 dB; tones above the lower
 * Nyquist (downsampling) are removed, and images (upsampling) stay out */
static void check_rates(double in_rate, double out_rate, const double *pass, int n_pass,
                        const double *stop, int n_stop) {
    const size_t n = (size_t)in_rate / 2;
    float *x = malloc(sizeof(float) * n);
    for (int i = 0; i < n_pass + n_stop; i++) {
        double f = i < n_pass ? pass[i] : stop[i - n_pass];
        sine(x, n, in_rate, f, 0.5);
        float *y;
        size_t m;
        assert_int_equal(gw_resample(&y, &m, x, n, in_rate, out_rate, NULL), GW_OK);
        assert_true(fabs((double)m - n * out_rate / in_rate) <= 1.0);
        size_t a = m / 8, b = m - m / 8; /* away from the ends */
        if (i < n_pass) {
            double resid;
            double g = db(fit(y, a, b, out_rate, f, &resid) / 0.5);
            double images = db(resid / (0.5 / sqrt(2.0)));
            fprintf(stderr, "%g -> %g Hz: %g Hz gain %+.4f dB, everything else %.1f dB\n", in_rate,
                    out_rate, f, g, images);
            assert_true(fabs(g) < 0.1);
            assert_true(images < -60);
        } else {
            double rms = 0;
            for (size_t k = a; k < b; k++)
                rms += (double)y[k] * y[k];
            double att = db(sqrt(rms / (double)(b - a)) / (0.5 / sqrt(2.0)));
            fprintf(stderr, "%g -> %g Hz: %g Hz tone attenuated to %.1f dB\n", in_rate, out_rate, f,
                    att);
            assert_true(att < -60);
        }
        free(y);
    }
    free(x);
}

static void test_down_44100_16000(void **state) {
    const double pass[] = {100, 1000, 5000, 7000}, stop[] = {9000, 12000, 20000};
    check_rates(44100, 16000, pass, 4, stop, 3);
}

static void test_up_16000_48000(void **state) {
    /* upsampling has no input above the new Nyquist; the images a 7 kHz tone
     * would leave at 9, 23, 25 kHz are what must stay 60 dB down */
    const double pass[] = {100, 1000, 5000, 7000};
    check_rates(16000, 48000, pass, 4, NULL, 0);
}

/* stream a signal through in blocks of varying size and compare with the
 * whole-buffer result: the same filter, so the same samples once the stream
 * has started (it is not flushed at the end) */
static void stream_vs_whole(double in_rate, double out_rate, size_t max_block, uint64_t seed) {
    const size_t n = 3 * (size_t)in_rate; /* 3 s */
    float *x = malloc(sizeof(float) * n);
    gw_rng rng;
    gw_rng_seed(&rng, seed);
    for (size_t i = 0; i < n; i++)
        x[i] = 0.4f * sinf(2 * (float)M_PI * 440.0f * i / (float)in_rate) +
               0.1f * (gw_rng_uniform(&rng) - 0.5f);
    float *whole;
    size_t m;
    assert_int_equal(gw_resample(&whole, &m, x, n, in_rate, out_rate, NULL), GW_OK);
    gw_resampler *r;
    assert_int_equal(gw_resampler_create(&r, in_rate, out_rate, max_block, NULL), GW_OK);
    float *got = malloc(sizeof(float) * (m + 16));
    float *blk = malloc(sizeof(float) * 4 * max_block * 4);
    for (int pass = 0; pass < 2; pass++) {
        size_t pos = 0, k = 0;
#if COUNT_ALLOCS
        size_t allocs_before = n_allocs;
#endif
        while (pos < n && k < m) {
            size_t want = 1 + gw_rng_below(&rng, max_block * 2); /* sometimes > max_block */
            if (want > n - pos) want = n - pos;
            size_t cap = 1 + gw_rng_below(&rng, 4 * max_block);
            size_t used = 0;
            size_t got_n = gw_resampler_process(r, blk, cap, x + pos, want, &used);
            assert_true(used <= want && used <= max_block && got_n <= cap);
            for (size_t i = 0; i < got_n && k < m; i++)
                got[k++] = blk[i];
            pos += used;
        }
        /* drain what the filter can still give without flushing */
        for (int it = 0; it < 8; it++) {
            size_t used;
            size_t got_n = gw_resampler_process(r, blk, 4 * max_block, x, 0, &used);
            for (size_t i = 0; i < got_n && k < m; i++)
                got[k++] = blk[i];
        }
#if COUNT_ALLOCS
        assert_int_equal(n_allocs, allocs_before); /* nothing allocated while streaming */
#endif
        assert_true(k > m - m / 10);
        /* soxr_oneshot treats the very first outputs slightly differently
         * (1e-4 at sample 0); from the 32nd on the two agree to rounding */
        float worst = 0, steady = 0;
        for (size_t i = 0; i < k; i++) {
            float d = fabsf(got[i] - whole[i]);
            worst = fmaxf(worst, d);
            if (i >= 32) steady = fmaxf(steady, d);
        }
        fprintf(stderr,
                "stream vs whole %g -> %g Hz, pass %d: %zu of %zu samples, max diff %.2g, "
                "after 32 samples %.2g\n",
                in_rate, out_rate, pass, k, m, worst, steady);
        assert_true(worst < 1e-3f);
        assert_true(steady < 1e-5f);
        /* the second pass starts from a reset: it must behave as fresh */
#if COUNT_ALLOCS
        allocs_before = n_allocs;
#endif
        gw_resampler_reset(r);
#if COUNT_ALLOCS
        assert_int_equal(n_allocs, allocs_before);
#endif
    }
    gw_resampler_free(r);
    free(x), free(whole), free(got), free(blk);
}

static void test_stream_matches_whole(void **state) {
    stream_vs_whole(44100, 16000, 512, 1);
    stream_vs_whole(16000, 48000, 256, 2);
    stream_vs_whole(48000, 44100, 1024, 3);
}

static void test_bad_args(void **state) {
    gw_resampler *r;
    gw_error err;
    float *y;
    size_t m;
    float x[4] = {0};
    assert_int_equal(gw_resampler_create(&r, 0, 16000, 64, &err), GW_ERR_ARG);
    assert_null(r);
    assert_int_equal(gw_resampler_create(&r, 16000, 48000, 0, &err), GW_ERR_ARG);
    assert_int_equal(gw_resample(&y, &m, x, 4, 16000, -1, &err), GW_ERR_ARG);
    assert_int_equal(gw_resample(&y, &m, x, 0, 16000, 48000, &err), GW_OK);
    assert_int_equal(m, 0);
    free(y);
    gw_resampler_free(NULL);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_down_44100_16000),
        cmocka_unit_test(test_up_16000_48000),
        cmocka_unit_test(test_stream_matches_whole),
        cmocka_unit_test(test_bad_args),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
