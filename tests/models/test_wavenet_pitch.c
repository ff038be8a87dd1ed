/* Pitch features of the global conditioning (gw_wavenet_cond_features): the
 * documented formulas of both encodings, the preset key and its round trip
 * through the stored config, and the property "harmonic" exists for: every
 * trained note gets a vector far from every other note's (neighbours and
 * octaves included) while the features stay continuous in the note. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "models/wavenet.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define PRESET(P, ENC)                                                                             \
    "{\"model\": \"wavenet\", \"name\": \"t\", \"sample_rate\": 8000, \"classes\": 256,"           \
    " \"residual_channels\": 4, \"gate_channels\": 4, \"skip_channels\": 4,"                       \
    " \"head_channels\": 4, \"stacks\": 1, \"layers_per_stack\": 2,"                               \
    " \"conditioning\": {\"pitch_features\": " #P ", \"velocity\": true" ENC "}}"

static gw_wavenet_config parse(const char *json) {
    gw_wavenet_config c;
    gw_error err = {0};
    if (gw_wavenet_config_parse(&c, json, "test", &err)) fail_msg("config: %s", err.msg);
    return c;
}

static void test_octave_is_the_default(void **state) {
    (void)state;
    gw_wavenet_config c = parse(PRESET(5, ""));
    assert_int_equal(c.pitch_encoding, GW_WAVENET_PITCH_OCTAVE);
    float f[6];
    gw_wavenet_cond_features(&c, f, 67.0f, 0.5f, 0);
    assert_float_equal(f[0], 7.0f / 48.0f, 1e-6);
    assert_float_equal(f[1], sinf(6.2831853f * 67.0f / 12.0f), 1e-5);
    assert_float_equal(f[2], cosf(6.2831853f * 67.0f / 12.0f), 1e-5);
    assert_float_equal(f[3], sinf(6.2831853f * 67.0f / 24.0f), 1e-5);
    assert_float_equal(f[4], cosf(6.2831853f * 67.0f / 24.0f), 1e-5);
    assert_float_equal(f[5], 0.5f, 0); /* velocity */
}

static void test_harmonic_formula_and_round_trip(void **state) {
    (void)state;
    gw_wavenet_config c = parse(PRESET(19, ", \"pitch_encoding\": \"harmonic\""));
    assert_int_equal(c.pitch_encoding, GW_WAVENET_PITCH_HARMONIC);
    assert_int_equal(c.cond_dim, 20);
    const double periods[9] = {12, 6, 4, 3, 2.4, 2, 24, 48, 96};
    float f[20];
    const float m = 61.3f;
    gw_wavenet_cond_features(&c, f, m, 1.0f, 0);
    assert_float_equal(f[0], 1.3f / 12.0f, 1e-6);
    for (int j = 0; j < 9; j++) {
        assert_float_equal(f[1 + 2 * j], sin(6.283185307179586 * m / periods[j]), 1e-5);
        assert_float_equal(f[2 + 2 * j], cos(6.283185307179586 * m / periods[j]), 1e-5);
    }
    assert_float_equal(f[19], 1.0f, 0);
    /* a model file stores its config as this JSON: the encoding must survive */
    char *json = gw_wavenet_config_to_json(&c);
    assert_non_null(json);
    gw_wavenet_config back = parse(json);
    free(json);
    assert_int_equal(back.pitch_encoding, GW_WAVENET_PITCH_HARMONIC);
    assert_int_equal(back.pitch_features, 19);
}

static float min_distance(const gw_wavenet_config *c, int lo, int hi, int *a_out, int *b_out) {
    float best = INFINITY, fa[64], fb[64];
    for (int a = lo; a <= hi; a++)
        for (int b = a + 1; b <= hi; b++) {
            gw_wavenet_cond_features(c, fa, (float)a, 0.8f, 0);
            gw_wavenet_cond_features(c, fb, (float)b, 0.8f, 0);
            float d2 = 0;
            for (int i = 0; i < c->pitch_features; i++)
                d2 += (fa[i] - fb[i]) * (fa[i] - fb[i]);
            if (sqrtf(d2) < best) best = sqrtf(d2), *a_out = a, *b_out = b;
        }
    return best;
}

static void test_harmonic_separates_neighbours_and_octaves(void **state) {
    (void)state;
    gw_wavenet_config oct = parse(PRESET(5, ""));
    gw_wavenet_config harm = parse(PRESET(19, ", \"pitch_encoding\": \"harmonic\""));
    int a, b;
    float d_oct = min_distance(&oct, 36, 84, &a, &b);
    float d_harm = min_distance(&harm, 36, 84, &a, &b);
    /* octave: neighbours are a 30 degree turn of one pair apart (~0.55) */
    assert_true(d_oct < 0.6f);
    /* harmonic: the period-2 pair alone flips sign between neighbours */
    if (d_harm < 2.0f) fail_msg("notes %d and %d are only %.3f apart", a, b, d_harm);
    /* still continuous: a hundredth of a semitone moves the vector a little */
    float f0[20], f1[20], d2 = 0;
    gw_wavenet_cond_features(&harm, f0, 60.0f, 0.8f, 0);
    gw_wavenet_cond_features(&harm, f1, 60.01f, 0.8f, 0);
    for (int i = 0; i < 19; i++)
        d2 += (f0[i] - f1[i]) * (f0[i] - f1[i]);
    assert_true(sqrtf(d2) < 0.1f);
}

static void test_bad_encoding_is_an_error(void **state) {
    (void)state;
    gw_wavenet_config c;
    gw_error err = {0};
    assert_int_equal(gw_wavenet_config_parse(&c, PRESET(5, ", \"pitch_encoding\": \"chromatic\""),
                                             "p.json", &err),
                     GW_ERR_FORMAT);
    assert_non_null(strstr(err.msg, "p.json"));
    assert_non_null(strstr(err.msg, "pitch_encoding"));
    assert_non_null(strstr(err.msg, "chromatic"));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_octave_is_the_default),
        cmocka_unit_test(test_harmonic_formula_and_round_trip),
        cmocka_unit_test(test_harmonic_separates_neighbours_and_octaves),
        cmocka_unit_test(test_bad_encoding_is_an_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
