/* Data augmentation (train/augment.h): a pitch-shifted copy of a training
 * clip plays the shifted pitch (YIN), lasts 2^(-s/12) as long, carries the
 * moved label and joins the training side; held-out clips are left alone;
 * a note pushed past 127 is skipped; bad shifts are refused. Gain: each
 * window scaled by one factor within the range. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/gw_base.h"
#include "dsp/gw_dsp.h"
#include "train/augment.h"

enum { RATE = 16000, N = 8000 };

/* two clips: a training sine at note `note` and a held-out one */
static gw_dataset *two_clips(int note) {
    gw_dataset *ds = calloc(1, sizeof *ds);
    ds->sample_rate = RATE;
    ds->audio_n = 2 * N;
    ds->audio = malloc(ds->audio_n * sizeof *ds->audio);
    const double f = gw_midi_to_hz((float)note);
    for (size_t i = 0; i < ds->audio_n; i++)
        ds->audio[i] = 0.5f * (float)sin(2 * M_PI * f * (double)(i % N) / RATE);
    ds->n_clips = 2;
    ds->clips = calloc(2, sizeof *ds->clips);
    ds->clips[0] = (gw_clip){.offset = 0, .n = N, .valid = N, .note = note, .velocity = 90};
    ds->clips[1] =
        (gw_clip){.offset = N, .n = N, .valid = N, .note = note, .velocity = 90, .is_val = 1};
    ds->train = malloc(sizeof *ds->train);
    ds->val = malloc(sizeof *ds->val);
    ds->train[0] = 0, ds->val[0] = 1;
    ds->n_train = ds->n_val = 1;
    return ds;
}

static void test_pitch_shift(void **state) {
    (void)state;
    gw_dataset *ds = two_clips(60);
    gw_error err = {0};
    size_t added = 0;
    const int shifts[] = {-2, 3};
    assert_int_equal(gw_augment_pitch_shift(ds, shifts, 2, &added, &err), GW_OK);
    assert_int_equal(added, 2);
    assert_int_equal(ds->n_clips, 4);
    assert_int_equal(ds->n_train, 3);
    assert_int_equal(ds->n_val, 1);
    assert_int_equal(ds->val[0], 1); /* the held-out clip stays as it was */
    for (int k = 0; k < 2; k++) {
        const gw_clip *c = &ds->clips[ds->train[1 + k]];
        assert_int_equal(c->note, 60 + shifts[k]);
        assert_int_equal(c->velocity, 90);
        assert_false(c->is_val);
        const double len = N * pow(2.0, -shifts[k] / 12.0);
        assert_true(fabs((double)c->n - len) < 0.01 * len);
        const float *x = ds->audio + c->offset;
        float f0 = gw_yin_f0(x + 1000, 4096, RATE, 100.0f, 1000.0f);
        assert_true(fabsf(gw_cents(f0, gw_midi_to_hz(60.0f + (float)shifts[k]))) < 5.0f);
    }
    gw_dataset_free(ds);

    /* note 126 + 3 is past MIDI's range: skipped; -2 lands on 124 */
    ds = two_clips(126);
    assert_int_equal(gw_augment_pitch_shift(ds, shifts, 2, &added, &err), GW_OK);
    assert_int_equal(added, 1);
    assert_int_equal(ds->clips[ds->train[1]].note, 124);
    const int bad[] = {0};
    assert_int_equal(gw_augment_pitch_shift(ds, bad, 1, &added, &err), GW_ERR_ARG);
    assert_non_null(strstr(err.msg, "pitch shift 0"));
    const int far[] = {13};
    assert_int_equal(gw_augment_pitch_shift(ds, far, 1, &added, &err), GW_ERR_ARG);
    gw_dataset_free(ds);
}

static void test_gain(void **state) {
    (void)state;
    enum { B = 200, W = 16 };
    static float x[B * W];
    for (int i = 0; i < B * W; i++)
        x[i] = 1.0f;
    gw_rng r;
    gw_rng_seed(&r, 1);
    gw_augment_gain(x, B, W, 6.0f, &r);
    float lo = 10, hi = 0;
    for (int b = 0; b < B; b++) {
        for (int i = 1; i < W; i++)
            assert_true(x[b * W + i] == x[b * W]); /* one gain a window */
        lo = fminf(lo, x[b * W]), hi = fmaxf(hi, x[b * W]);
    }
    const float g6 = powf(10.0f, 6.0f / 20.0f);
    assert_true(lo >= 1.0f / g6 - 1e-5f && hi <= g6 + 1e-5f);
    assert_true(lo < 0.6f && hi > 1.8f); /* the range is used */
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pitch_shift),
        cmocka_unit_test(test_gain),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
