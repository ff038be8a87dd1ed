#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <math.h>
#include <string.h>

#include "dsp/gw_dsp.h"

/* mu-law compression in double, the continuous curve the codec quantises */
static double compress(double x) {
    double y = log1p(255.0 * fabs(x)) / log1p(255.0);
    return x < 0 ? -y : y;
}

/* all 256 decoder inputs: each level re-encodes to itself, levels strictly
 * increase, are symmetric about zero and stay inside [-1, 1] */
/* pre-emphasis then the generator's de-emphasis y[n] = s[n] + a y[n-1] give
 * the signal back; the filter lowers a low tone and keeps a high one */
static void test_preemphasis_inverts(void **state) {
    enum { N = 4000 };
    static float x[N], y[N];
    for (int i = 0; i < N; i++)
        x[i] = 0.5f * sinf(2.0f * 3.14159265f * 100.0f * i / 16000.0f) +
               0.1f * sinf(2.0f * 3.14159265f * 7000.0f * i / 16000.0f);
    memcpy(y, x, sizeof x);
    const float a = 0.85f;
    gw_preemphasis(y, N, a);
    float prev = 0.0f, worst = 0.0f;
    for (int i = 0; i < N; i++) {
        prev = y[i] + a * prev;
        worst = fmaxf(worst, fabsf(prev - x[i]));
    }
    assert_true(worst < 1e-5f);
    /* |1 - a e^{-jw}|: 0.16 at 100 Hz, 1.8 at 7 kHz (16 kHz): the low tone
     * shrinks about 6x, the high one nearly doubles */
    static float lo[N], hi[N];
    for (int i = 0; i < N; i++) {
        lo[i] = sinf(2.0f * 3.14159265f * 100.0f * i / 16000.0f);
        hi[i] = sinf(2.0f * 3.14159265f * 7000.0f * i / 16000.0f);
    }
    gw_preemphasis(lo, N, a);
    gw_preemphasis(hi, N, a);
    float plo = 0, phi = 0;
    for (int i = 100; i < N; i++) plo = fmaxf(plo, fabsf(lo[i])), phi = fmaxf(phi, fabsf(hi[i]));
    assert_true(plo > 0.14f && plo < 0.18f);
    assert_true(phi > 1.75f && phi < 1.86f);
}

static void test_decoder_exhaustive(void **state) {
    for (int q = 0; q < 256; q++) {
        float x = gw_mulaw_decode((uint8_t)q);
        assert_true(x >= -1.0f && x <= 1.0f);
        assert_int_equal(gw_mulaw_encode(x), q);
        assert_true(gw_mulaw_decode((uint8_t)(255 - q)) == -x);
        if (q > 0) assert_true(x > gw_mulaw_decode((uint8_t)(q - 1)));
        /* the level sits at the centre of its cell in the compressed domain */
        assert_true(fabs(compress(x) - (2.0 * q / 255.0 - 1.0)) < 1e-6);
    }
    assert_true(gw_mulaw_decode(0) == -1.0f);
    assert_true(gw_mulaw_decode(255) == 1.0f);
}

/* a dense sweep of [-1.1, 1.1]: the encoder is monotone, reaches every code,
 * picks the nearest level in the compressed domain (error <= half a step,
 * 1/255) and clips outside [-1, 1] */
static void test_encoder_sweep(void **state) {
    const int n = 4000000;
    int prev = -1;
    int hits[256] = {0};
    double worst = 0;
    for (int i = 0; i <= n; i++) {
        double xd = -1.1 + 2.2 * i / n;
        float x = (float)xd;
        int q = gw_mulaw_encode(x);
        assert_true(q >= prev);
        prev = q;
        hits[q]++;
        double xc = fmin(1.0, fmax(-1.0, (double)x));
        double e = fabs(compress(xc) - (2.0 * q / 255.0 - 1.0));
        if (e > worst) worst = e;
        /* no other level is closer */
        if (q > 0) assert_true(fabs(compress(xc) - (2.0 * (q - 1) / 255.0 - 1.0)) >= e - 1e-9);
        if (q < 255) assert_true(fabs(compress(xc) - (2.0 * (q + 1) / 255.0 - 1.0)) >= e - 1e-9);
    }
    assert_true(worst <= 1.0 / 255.0 + 1e-7);
    for (int q = 0; q < 256; q++)
        assert_true(hits[q] > 0);
    assert_int_equal(gw_mulaw_encode(0.0f), 128); /* the peer's SILENCE */
    assert_int_equal(gw_mulaw_encode(1.0f), 255);
    assert_int_equal(gw_mulaw_encode(-1.0f), 0);
    assert_int_equal(gw_mulaw_encode(5.0f), 255);
    assert_int_equal(gw_mulaw_encode(-5.0f), 0);
    assert_int_equal(gw_mulaw_encode(NAN), 0);
}

/* the x-domain error is smallest near zero, where mu-law spends its levels */
static void test_error_is_relative(void **state) {
    for (int i = 1; i <= 1000; i++) {
        float x = 1e-3f * i;
        float r = gw_mulaw_decode(gw_mulaw_encode(x));
        /* a cell spans dx = (1 + 255 x) ln(256) / 255 * (2 / 255) at x */
        double cell = (1.0 + 255.0 * fmax(x, r)) * log(256.0) / 255.0 * (2.0 / 255.0);
        assert_true(fabs(r - x) <= 0.5 * cell + 1e-6);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_decoder_exhaustive),
        cmocka_unit_test(test_preemphasis_inverts),
        cmocka_unit_test(test_encoder_sweep),
        cmocka_unit_test(test_error_is_relative),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
