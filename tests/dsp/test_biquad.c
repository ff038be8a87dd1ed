#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "dsp/gw_dsp.h"

enum { SECTIONS = GW_BIQUAD_MAX_ORDER / 2 };

/* gain in dB of an 8th-order high-pass at fc for a sine at f: 1 s to settle
 * (the sharpest section, Q 2.56, rings for ~2Q / (2 pi fc) = 8 ms at
 * 100 Hz), then the sine's amplitude over 1 s (whole periods of every f
 * used here) by projection on sin and cos, against the input's 0.5 */
static double gain_db(double fc, double f, int rate) {
    gw_biquad s[SECTIONS] = {{0}};
    assert_int_equal(gw_biquad_highpass(s, 8, fc, rate), GW_OK);
    double ps = 0, pc = 0;
    for (int i = 0; i < 2 * rate; i++) {
        const double ph = 2 * M_PI * f * i / rate;
        const float y = gw_biquad_process(s, SECTIONS, (float)(0.5 * sin(ph)));
        if (i >= rate) ps += y * sin(ph), pc += y * cos(ph);
    }
    const double amp = 2.0 / rate * sqrt(ps * ps + pc * pc);
    return 20 * log10(amp / 0.5);
}

/* the Butterworth magnitude: -3.01 dB at fc, -48.2 dB at fc / 2
 * (10 log10(1 + 2^16)), flat at 4 fc */
static void check_response(double fc, int rate) {
    const double at_fc = gain_db(fc, fc, rate), half = gain_db(fc, fc / 2, rate),
                 four = gain_db(fc, 4 * fc, rate);
    fprintf(stderr, "fc %g Hz at %d Hz: %.3f dB at fc, %.2f dB at fc/2, %.4f dB at 4 fc\n", fc,
            rate, at_fc, half, four);
    assert_true(fabs(at_fc + 3.0103) < 0.1);
    assert_true(fabs(half + 10 * log10(1 + 65536.0)) < 1.0);
    assert_true(fabs(four) < 0.05);
}

static void test_response_100_48k(void **state) {
    check_response(100, 48000);
}

static void test_response_100_8k(void **state) {
    check_response(100, 8000);
}

static void test_response_3000_48k(void **state) {
    check_response(3000, 48000);
}

/* every even order meets -3.01 dB at fc; odd, zero, too high orders and
 * cutoffs outside (0, rate / 2) are refused without touching the sections */
static void test_orders_and_arguments(void **state) {
    for (int order = 2; order <= GW_BIQUAD_MAX_ORDER; order += 2) {
        gw_biquad s[SECTIONS] = {{0}};
        assert_int_equal(gw_biquad_highpass(s, order, 440, 48000), GW_OK);
        double ps = 0, pc = 0;
        for (int i = 0; i < 96000; i++) {
            const double ph = 2 * M_PI * 440 * i / 48000;
            const float y = gw_biquad_process(s, order / 2, (float)sin(ph));
            if (i >= 48000) ps += y * sin(ph), pc += y * cos(ph);
        }
        assert_true(fabs(20 * log10(2.0 / 48000 * sqrt(ps * ps + pc * pc)) + 3.0103) < 0.05);
    }
    gw_biquad s[SECTIONS] = {{.b0 = 7}};
    const int orders[] = {0, 1, 3, 10, -2};
    for (int i = 0; i < 5; i++)
        assert_int_equal(gw_biquad_highpass(s, orders[i], 100, 48000), GW_ERR_ARG);
    const double bad_fc[] = {0, -1, 24000, 30000, NAN};
    for (int i = 0; i < 5; i++)
        assert_int_equal(gw_biquad_highpass(s, 8, bad_fc[i], 48000), GW_ERR_ARG);
    assert_int_equal(gw_biquad_highpass(s, 8, 100, 0), GW_ERR_ARG);
    assert_true(s[0].b0 == 7);
}

/* a low cutoff (20 Hz at 48 kHz: poles within 0.003 of z = 1) stays
 * stable over 10 s of full-scale noise, and takes the noise's DC away */
static void test_low_cutoff_stable(void **state) {
    gw_biquad s[SECTIONS] = {{0}};
    assert_int_equal(gw_biquad_highpass(s, 8, 20, 48000), GW_OK);
    gw_rng rng;
    gw_rng_seed(&rng, 20);
    double peak = 0, sum = 0;
    const int n = 480000;
    for (int i = 0; i < n; i++) {
        const float y = gw_biquad_process(s, SECTIONS, 0.3f + 2 * gw_rng_uniform(&rng) - 1);
        assert_true(isfinite(y));
        peak = fmax(peak, fabs(y));
        if (i >= n / 2) sum += y;
    }
    fprintf(stderr, "20 Hz at 48 kHz over 10 s of noise: peak %.3f, mean %.2e\n", peak,
            sum / (n / 2));
    assert_true(peak < 3.0);
    assert_true(fabs(sum / (n / 2)) < 1e-3); /* the 0.3 offset is gone */
}

/* largest |x[i] - x[i-1]| */
static float max_step(const float *x, int n) {
    float m = 0;
    for (int i = 1; i < n; i++)
        m = fmaxf(m, fabsf(x[i] - x[i - 1]));
    return m;
}

enum { CLICK_N = 48000 };

/* a 1 kHz sine through the filter at 100 Hz; `how` moves the cutoff from
 * sample N/4 on: 0 glides it to 500 Hz and back down to 50 Hz as the engine
 * does (a 20 ms one-pole, a new cutoff every 32 samples), 1 jumps to 150 Hz
 * at once, 2 jumps there and clears the history (what an update must not
 * do). Returns the output's largest step past the start-up. */
static float step_when_moved(const float *x, int how) {
    static float y[CLICK_N];
    gw_biquad s[SECTIONS] = {{0}};
    assert_int_equal(gw_biquad_highpass(s, 8, 100, 48000), GW_OK);
    double fc = 100;
    for (int i = 0; i < CLICK_N; i++) {
        if (how == 0 && i >= CLICK_N / 4 && i % 32 == 0) {
            fc += ((i < CLICK_N / 2 ? 500 : 50) - fc) * (1 - exp(-32.0 / 960));
            assert_int_equal(gw_biquad_highpass(s, 8, fc, 48000), GW_OK);
        }
        if (how > 0 && i == CLICK_N / 4) {
            assert_int_equal(gw_biquad_highpass(s, 8, 150, 48000), GW_OK);
            if (how == 2) gw_biquad_reset(s, SECTIONS);
        }
        y[i] = gw_biquad_process(s, SECTIONS, x[i]);
    }
    return max_step(y + CLICK_N / 8, CLICK_N - CLICK_N / 8);
}

/* the cutoff moved under a running filter does not click: the output steps
 * no further than the input does, but for the few percent a time-varying
 * filter's own transient adds (a cleared history, the click an update must
 * not make, steps several times further) */
static void test_moving_cutoff_no_click(void **state) {
    static float x[CLICK_N];
    for (int i = 0; i < CLICK_N; i++)
        x[i] = (float)(0.5 * sin(2 * M_PI * 1000.0 * i / 48000));
    const float in = max_step(x, CLICK_N), glide = step_when_moved(x, 0),
                jump = step_when_moved(x, 1), reset = step_when_moved(x, 2);
    fprintf(stderr,
            "largest step: input %.4f, gliding cutoff %.4f, jump 100 -> 150 Hz %.4f, the same "
            "jump with the history cleared %.4f\n",
            in, glide, jump, reset);
    assert_true(glide <= 1.05f * in);
    assert_true(jump <= 1.05f * in);
    assert_true(reset > 2.0f * in);
    /* an update keeps the history: the same cutoff set again changes nothing */
    gw_biquad a[SECTIONS], b[SECTIONS];
    assert_int_equal(gw_biquad_highpass(a, 8, 250, 48000), GW_OK);
    gw_biquad_reset(a, SECTIONS);
    for (int i = 0; i < 1000; i++)
        gw_biquad_process(a, SECTIONS, x[i]);
    for (int k = 0; k < SECTIONS; k++)
        b[k] = a[k];
    assert_int_equal(gw_biquad_highpass(b, 8, 250, 48000), GW_OK);
    for (int i = 1000; i < 2000; i++)
        assert_true(gw_biquad_process(a, SECTIONS, x[i]) == gw_biquad_process(b, SECTIONS, x[i]));
    /* reset clears the history and keeps the coefficients */
    gw_biquad_reset(b, SECTIONS);
    assert_true(b[0].x1 == 0 && b[3].y2 == 0 && b[0].b0 == a[0].b0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_response_100_48k),  cmocka_unit_test(test_response_100_8k),
        cmocka_unit_test(test_response_3000_48k), cmocka_unit_test(test_orders_and_arguments),
        cmocka_unit_test(test_low_cutoff_stable), cmocka_unit_test(test_moving_cutoff_no_click),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
