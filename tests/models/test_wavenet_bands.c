/* The multi-band WaveNet with a mixture-of-logistics output (wavenet.h,
 * "logistic"): the preset's checks and JSON round trip, the training pass's
 * backward against central differences, the training forward and the
 * incremental stream against the causal reference (1e-4), the stream's
 * audio against the PQMF synthesis of the values it drew, and the .gwm
 * round trip. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "dsp/gw_dsp.h"
#include "gw_test.h"
#include "models/wavenet.h"
#include "models/wavenet_file.h"
#include "models/wavenet_backprop.h"
#include "wavenet_models.h"
#include "nn/layers.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* 4 bands of 3 logistics, kernel 2, two stacks, pitch + velocity */
static const char *BANDS4 =
    "{\"model\": \"wavenet\", \"name\": \"tiny-bands4\", \"sample_rate\": 48000,"
    " \"residual_channels\": 5, \"gate_channels\": 3, \"skip_channels\": 6,"
    " \"head_channels\": 7, \"stacks\": 2, \"layers_per_stack\": 3, \"kernel_size\": 2,"
    " \"conditioning\": {\"pitch_features\": 3, \"velocity\": true},"
    " \"output\": {\"distribution\": \"logistic\", \"bands\": 4, \"mixtures\": 3,"
    " \"band_gain\": [0.5, 0.25, 0.125, 2.0]}}";
/* one band (a plain 16-bit logistic WaveNet), kernel 3, no conditioning */
static const char *BANDS1 =
    "{\"model\": \"wavenet\", \"name\": \"tiny-bands1\", \"sample_rate\": 16000,"
    " \"residual_channels\": 4, \"gate_channels\": 4, \"skip_channels\": 5,"
    " \"head_channels\": 6, \"stacks\": 1, \"layers_per_stack\": 3, \"kernel_size\": 3,"
    " \"dilations\": [1, 3, 2], \"output\": {\"distribution\": \"logistic\", \"mixtures\": 2}}";

static void test_config(void **state) {
    (void)state;
    gw_wavenet_config c;
    gw_error err = {0};
    assert_int_equal(gw_wavenet_config_parse(&c, BANDS4, "t", &err), GW_OK);
    assert_int_equal(c.distribution, GW_WAVENET_DIST_LOGISTIC);
    assert_int_equal(c.bands, 4);
    assert_int_equal(c.mixtures, 3);
    assert_int_equal(c.n_out, 4 * 3 * 3);
    assert_int_equal(gw_wavenet_step_rate(&c), 12000);
    char *json = gw_wavenet_config_to_json(&c);
    gw_wavenet_config back;
    assert_int_equal(gw_wavenet_config_parse(&back, json, "round trip", &err), GW_OK);
    free(json);
    assert_int_equal(back.bands, 4), assert_int_equal(back.mixtures, 3);
    assert_int_equal(back.distribution, GW_WAVENET_DIST_LOGISTIC);
    for (int k = 0; k < 4; k++)
        assert_true(back.band_gain[k] == c.band_gain[k]);
    assert_true(c.band_gain[3] == 2.0f);
    /* a mu-law preset keeps one band and 256 outputs */
    static const char *mu = "{\"model\": \"wavenet\", \"sample_rate\": 8000, "
                            "\"residual_channels\": 2, \"gate_channels\": 2, \"skip_channels\": 2,"
                            " \"head_channels\": 2, \"stacks\": 1, \"layers_per_stack\": 2%s}";
    char buf[512];
    snprintf(buf, sizeof buf, mu, "");
    assert_int_equal(gw_wavenet_config_parse(&c, buf, "t", &err), GW_OK);
    assert_int_equal(c.bands, 1), assert_int_equal(c.n_out, 256);
    struct {
        const char *extra, *says;
    } bad[] = {
        {", \"output\": {\"bands\": 2}", "logistic"},
        {", \"output\": {\"distribution\": \"logistic\", \"bands\": 3}", "divide"},
        {", \"output\": {\"distribution\": \"logistic\", \"bands\": 17}", "bands"},
        {", \"output\": {\"distribution\": \"logistic\", \"mixtures\": 0}", "mixtures"},
        {", \"output\": {\"distribution\": \"gauss\"}", "gauss"},
        {", \"output\": {\"distribution\": \"logistic\", \"bands\": 2, \"band_gain\": [1]}",
         "band_gain"},
        {", \"output\": {\"distribution\": \"logistic\", \"band_gain\": [0]}", "band_gain"},
        {", \"output\": {\"distribution\": \"logistic\", \"preemphasis\": 0.5}", "preemphasis"},
        {", \"output\": {\"distribution\": \"logistic\"}, \"local_conditioning\": {\"n_mels\": 4}",
         "mel"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        snprintf(buf, sizeof buf, mu, bad[i].extra);
        memset(&err, 0, sizeof err);
        assert_int_not_equal(gw_wavenet_config_parse(&c, buf, "bad.json", &err), GW_OK);
        if (!strstr(err.msg, bad[i].says) || !strstr(err.msg, "bad.json"))
            fail_msg("case %zu: '%s' does not say '%s'", i, err.msg, bad[i].says);
    }
}

/* ---- the training pass ---- */

typedef struct batch {
    int B, W, NB;
    float *window; // (B, W, NB)
    float *cond;   // (B, C_g) or NULL
} batch;

static batch make_batch(const gw_wavenet *m, gw_wavenet_train *t, int B, uint64_t seed) {
    batch b = {.B = B, .W = gw_wavenet_train_window_len(t), .NB = m->cfg.bands};
    gw_rng rng;
    gw_rng_seed(&rng, seed);
    size_t n = (size_t)B * b.W * b.NB;
    b.window = malloc(n * sizeof(float));
    /* values anywhere in [-1, 1], the two edge bins included */
    for (size_t i = 0; i < n; i++) {
        float u = gw_rng_uniform(&rng);
        b.window[i] = i % 17 == 3 ? 1.0f : i % 19 == 5 ? -1.0f : 0.6f * (2.0f * u - 1.0f);
    }
    if (m->cfg.cond_dim > 0) {
        b.cond = malloc((size_t)B * m->cfg.cond_dim * sizeof(float));
        for (int i = 0; i < B; i++)
            gw_wavenet_cond_features(&m->cfg, b.cond + (size_t)i * m->cfg.cond_dim,
                                     50.0f + 6.5f * i, 0.4f + 0.2f * i, 0);
    }
    return b;
}

typedef struct loss_ctx {
    gw_wavenet_train *t;
    const gw_wavenet *m;
    batch *b;
    int N, rf;
} loss_ctx;

/* mean -ln P in double from the mixture parameters */
static double mean_nll(const loss_ctx *c) {
    const float *out = gw_wavenet_train_logits(c->t);
    const int NB = c->b->NB, M = c->m->cfg.mixtures, n_out = c->m->cfg.n_out;
    double nll = 0;
    for (int i = 0; i < c->b->B; i++)
        for (int n = 0; n < c->N; n++)
            for (int k = 0; k < NB; k++) {
                float x = c->b->window[((size_t)i * c->b->W + c->rf + n) * NB + k];
                nll -= gw_dmol_log_prob(out + ((size_t)i * c->N + n) * n_out + (size_t)k * 3 * M, M,
                                        GW_WAVENET_LEVELS, c->m->cfg.log_scale_min, x);
            }
    return nll / ((double)c->b->B * c->N * NB);
}

static double train_loss(void *p) {
    loss_ctx *c = p;
    float loss;
    gw_error err = {0};
    if (gw_wavenet_train_forward_bands(c->t, &loss, c->b->window, c->b->cond, NULL, 0, &err))
        fail_msg("forward: %s", err.msg);
    return mean_nll(c);
}

static void gradcheck_config(const char *json, int B, int N) {
    gw_wavenet *m = gw_test_wavenet_parse(json, 11, 1.0f);
    gw_wavenet_train *t = NULL;
    gw_error err = {0};
    assert_int_equal(gw_wavenet_train_create(&t, m, B, N, &err), GW_OK);
    batch b = make_batch(m, t, B, 5);
    float loss;
    /* the classes entry point refuses a logistic model */
    assert_int_equal(
        gw_wavenet_train_forward(t, &loss, (const uint8_t *)b.window, NULL, NULL, 0, &err),
        GW_ERR_ARG);
    gw_params_zero_grad(m->params);
    assert_int_equal(gw_wavenet_train_forward_bands(t, &loss, b.window, b.cond, NULL, 1, &err),
                     GW_OK);
    gw_wavenet_train_backward(t);
    loss_ctx ctx = {t, m, &b, N, gw_wavenet_receptive_field(&m->cfg)};
    assert_true(fabs(loss - mean_nll(&ctx)) < 1e-4 * fabs(loss) + 1e-5);
    double worst = 0;
    for (size_t i = 0; i < m->params->count; i++) {
        gw_param *p = gw_params_at(m->params, i);
        double e =
            gw_test_gradcheck(p->name, p->data, p->grad, p->numel, train_loss, &ctx, 1e-3f, 60);
        if (e > worst) worst = e;
        if (e > 2e-3) fail_msg("%s: gradient error %.3g", p->name, e);
    }
    print_message("%s: loss %.3f nats, worst gradient error %.2e\n", m->cfg.name, (double)loss,
                  worst);
    free(b.window), free(b.cond);
    gw_wavenet_train_free(t);
    gw_wavenet_free(m);
}

static void test_gradcheck_bands4(void **state) {
    (void)state;
    gradcheck_config(BANDS4, 2, 3);
}

static void test_gradcheck_bands1(void **state) {
    (void)state;
    gradcheck_config(BANDS1, 2, 4);
}

/* the valid training forward equals the causal reference on its N outputs */
static void test_train_forward_matches_reference(void **state) {
    (void)state;
    gw_wavenet *m = gw_test_wavenet_parse(BANDS4, 21, 1.0f);
    gw_wavenet_train *t = NULL;
    gw_error err = {0};
    const int B = 2, N = 7, n_out = m->cfg.n_out, NB = m->cfg.bands;
    assert_int_equal(gw_wavenet_train_create(&t, m, B, N, &err), GW_OK);
    batch b = make_batch(m, t, B, 8);
    float loss;
    assert_int_equal(gw_wavenet_train_forward_bands(t, &loss, b.window, b.cond, NULL, 0, &err),
                     GW_OK);
    const int T = b.W - 1, rf = gw_wavenet_receptive_field(&m->cfg);
    float *ref = malloc((size_t)T * n_out * sizeof(float));
    float worst = 0;
    for (int i = 0; i < B; i++) {
        assert_int_equal(gw_wavenet_forward_reference_bands(m, ref, b.window + (size_t)i * b.W * NB,
                                                            b.cond + (size_t)i * m->cfg.cond_dim,
                                                            NULL, T, &err),
                         GW_OK);
        /* the reference's row rf - 1 + n predicts the window's sample rf + n */
        for (int n = 0; n < N; n++) {
            float d = gw_test_max_abs_diff(ref + (size_t)(rf - 1 + n) * n_out,
                                           gw_wavenet_train_logits(t) + ((size_t)i * N + n) * n_out,
                                           n_out);
            if (!(d <= worst)) worst = d;
        }
    }
    print_message("max |train - reference| = %.3g\n", (double)worst);
    assert_true(worst < 1e-4f);
    free(ref), free(b.window), free(b.cond);
    gw_wavenet_train_free(t);
    gw_wavenet_free(m);
}

/* input noise on a band model: Gaussian noise on the input band values of
 * training passes only (validation never sees it), the same seed the same
 * pass, scaled per band, p = 0 the clean pass again (wavenet_backprop.h) */
static void test_band_input_noise(void **state) {
    (void)state;
    gw_wavenet *m = gw_test_wavenet_parse(BANDS4, 23, 1.0f);
    gw_wavenet_train *t = NULL;
    gw_error err = {0};
    assert_int_equal(gw_wavenet_train_create(&t, m, 2, 7, &err), GW_OK);
    batch b = make_batch(m, t, 2, 9);
    float clean, eval, a, a2, c;
    assert_int_equal(gw_wavenet_train_forward_bands(t, &clean, b.window, b.cond, NULL, 1, &err),
                     GW_OK);
    gw_wavenet_train_set_input_noise(t, 0.05f, 77);
    assert_int_equal(gw_wavenet_train_forward_bands(t, &eval, b.window, b.cond, NULL, 0, &err),
                     GW_OK);
    assert_true(eval == clean);
    assert_int_equal(gw_wavenet_train_forward_bands(t, &a, b.window, b.cond, NULL, 1, &err),
                     GW_OK);
    assert_int_equal(gw_wavenet_train_forward_bands(t, &a2, b.window, b.cond, NULL, 1, &err),
                     GW_OK);
    assert_true(a != clean);
    assert_true(a == a2);
    /* the noise is per band: scaled to nothing in every band, none */
    const float zero[GW_WAVENET_MAX_BANDS] = {0};
    gw_wavenet_train_set_band_noise_scale(t, zero);
    assert_int_equal(gw_wavenet_train_forward_bands(t, &c, b.window, b.cond, NULL, 1, &err),
                     GW_OK);
    assert_true(c == clean);
    gw_wavenet_train_set_band_noise_scale(t, NULL); /* 1 in every band: the pass above again */
    assert_int_equal(gw_wavenet_train_forward_bands(t, &c, b.window, b.cond, NULL, 1, &err),
                     GW_OK);
    assert_true(c == a);
    gw_wavenet_train_set_input_noise(t, 0.0f, 77);
    assert_int_equal(gw_wavenet_train_forward_bands(t, &c, b.window, b.cond, NULL, 1, &err),
                     GW_OK);
    assert_true(c == clean);
    free(b.window), free(b.cond);
    gw_wavenet_train_free(t);
    gw_wavenet_free(m);
}

/* ---- the stream ---- */

static void stream_case(const char *json, int B, int T, gw_wavenet_weight_type type) {
    gw_wavenet *m = gw_test_wavenet_parse(json, 31, 1.0f);
    const gw_wavenet_config *c = &m->cfg;
    const int NB = c->bands, n_out = c->n_out, M = c->mixtures;
    gw_error err = {0};
    gw_wavenet_stream *s = NULL;
    assert_int_equal(gw_wavenet_stream_create_typed(&s, m, B, type, &err), GW_OK);
    float *out = malloc((size_t)T * B * n_out * sizeof(float));
    float *in = calloc((size_t)B * T * NB, sizeof(float)); // (B, T, NB) what each step read
    float *audio = malloc((size_t)B * T * NB * sizeof(float));
    float *drawn = malloc((size_t)B * T * NB * sizeof(float)); // (B, T, NB) each step's draw
    float *ref = malloc((size_t)T * n_out * sizeof(float));
    float *cond = calloc((size_t)B * (c->cond_dim + 1), sizeof(float));
    float u[64], y[64];
    gw_rng rng;
    gw_rng_seed(&rng, 77);
    for (int v = 0; v < B; v++)
        if (c->cond_dim) {
            gw_wavenet_cond_features(c, cond + (size_t)v * c->cond_dim, 45.0f + 9.0f * v, 0.7f, 0);
            gw_wavenet_stream_set_cond(s, v, cond + (size_t)v * c->cond_dim);
        }
    for (int step = 0; step < T; step++) {
        /* half the steps teacher-forced, half fed the stream's own draws */
        for (int v = 0; v < B && step % 2 == 1; v++) {
            float *x = in + ((size_t)v * T + step) * NB;
            for (int k = 0; k < NB; k++)
                x[k] = 0.8f * (2.0f * gw_rng_uniform(&rng) - 1.0f);
            gw_wavenet_stream_set_input_bands(s, v, x);
        }
        for (int i = 0; i < B * NB; i++)
            u[i] = gw_rng_uniform(&rng);
        float *o = out + (size_t)step * B * n_out;
        gw_wavenet_stream_step(s, o, y, NULL, B, 1.0f, u);
        for (int v = 0; v < B; v++) {
            memcpy(audio + ((size_t)v * T + step) * NB, y + (size_t)v * NB, NB * sizeof(float));
            /* what the stream drew is what its next step reads unless forced */
            float *d = drawn + ((size_t)v * T + step) * NB;
            for (int k = 0; k < NB; k++)
                d[k] = gw_dmol_sample(o + (size_t)v * n_out + (size_t)k * 3 * M, M,
                                      c->log_scale_min, GW_WAVENET_LEVELS, 1.0f, u[v * NB + k]);
            if (step + 1 < T) memcpy(in + ((size_t)v * T + step + 1) * NB, d, NB * sizeof(float));
        }
    }
    gw_pqmf *pq = NULL;
    assert_int_equal(gw_pqmf_create(&pq, NB, &err), GW_OK);
    float *synth = malloc((size_t)T * NB * sizeof(float));
    float worst = 0, worst_audio = 0, spread = 0;
    for (int v = 0; v < B; v++) {
        assert_int_equal(gw_wavenet_forward_reference_bands(
                             m, ref, in + (size_t)v * T * NB,
                             c->cond_dim ? cond + (size_t)v * c->cond_dim : NULL, NULL, T, &err),
                         GW_OK);
        for (int step = 0; step < T; step++) {
            float d = gw_test_max_abs_diff(ref + (size_t)step * n_out,
                                           out + ((size_t)step * B + v) * n_out, n_out);
            if (!(d <= worst)) worst = d;
        }
        /* the audio is the PQMF synthesis of the values drawn */
        for (int i = 0; i < T * NB; i++) /* the model's values times each band's gain */
            drawn[(size_t)v * T * NB + i] *= c->band_gain[i % NB] > 0 ? c->band_gain[i % NB] : 1.0f;
        gw_pqmf_synthesis(pq, synth, drawn + (size_t)v * T * NB, (size_t)T);
        for (int i = 0; i < T * NB; i++) {
            float d = fabsf(synth[i] - audio[(size_t)v * T * NB + i]);
            if (d > worst_audio) worst_audio = d;
            spread = fmaxf(spread, fabsf(synth[i]));
        }
    }
    print_message("%s %s: %d voices x %d steps, max |stream - ref| = %.3g, max |audio - "
                  "synthesis| = %.3g (peak %.3g)\n",
                  c->name, gw_wavenet_weight_type_name(type), B, T, (double)worst,
                  (double)worst_audio, (double)spread);
    if (type == GW_WAVENET_WEIGHTS_F32)
        assert_true(worst < 1e-4f);
    else
        assert_true(worst < 0.05f); /* rounded weights: close, not equal */
    assert_true(worst_audio < 1e-5f);
    assert_true(spread > 1e-3f); /* the check means little on silence */
    gw_pqmf_free(pq);
    free(synth), free(out), free(in), free(audio), free(drawn), free(ref), free(cond);
    gw_wavenet_stream_free(s);
    gw_wavenet_free(m);
}

static void test_stream_bands4(void **state) {
    (void)state;
    stream_case(BANDS4, 3, 40, GW_WAVENET_WEIGHTS_F32);
    stream_case(BANDS4, 2, 30, GW_WAVENET_WEIGHTS_BF16);
}

static void test_stream_bands1(void **state) {
    (void)state;
    stream_case(BANDS1, 2, 40, GW_WAVENET_WEIGHTS_F32);
}

/* generate gives n audio samples, bands per step, and is deterministic */
static void test_generate(void **state) {
    (void)state;
    gw_wavenet *m = gw_test_wavenet_parse(BANDS4, 41, 1.0f);
    gw_error err = {0};
    gw_wavenet_stream *s = NULL;
    assert_int_equal(gw_wavenet_stream_create(&s, m, 2, &err), GW_OK);
    const size_t n = 203; /* not a multiple of the 4 bands */
    float *a = malloc(2 * n * sizeof(float)), *b = malloc(2 * n * sizeof(float));
    gw_rng rng;
    gw_rng_seed(&rng, 5);
    gw_wavenet_stream_generate(s, a, 2, n, 1.0f, &rng);
    gw_wavenet_stream_reset(s, 0), gw_wavenet_stream_reset(s, 1);
    gw_rng_seed(&rng, 5);
    gw_wavenet_stream_generate(s, b, 2, n, 1.0f, &rng);
    assert_memory_equal(a, b, 2 * n * sizeof(float));
    double e = 0;
    for (size_t i = 0; i < 2 * n; i++) {
        assert_true(isfinite(a[i]));
        e += (double)a[i] * a[i];
    }
    assert_true(e > 0);
    free(a), free(b);
    gw_wavenet_stream_free(s);
    gw_wavenet_free(m);
}

/* a .gwm file keeps the config and every tensor */
static void test_file_round_trip(void **state) {
    (void)state;
    gw_wavenet *m = gw_test_wavenet_parse(BANDS4, 51, 1.0f);
    gw_error err = {0};
    char path[512];
    const char *tmp = getenv("GW_TEST_TMP");
    snprintf(path, sizeof path, "%s/bands-%d.gwm", tmp ? tmp : "/tmp", (int)getpid());
    assert_int_equal(gw_wavenet_save(m, path, &err), GW_OK);
    gw_wavenet *back = NULL;
    assert_int_equal(gw_wavenet_load(&back, path, &err), GW_OK);
    unlink(path);
    assert_int_equal(back->cfg.bands, 4), assert_int_equal(back->cfg.mixtures, 3);
    assert_int_equal(back->cfg.distribution, GW_WAVENET_DIST_LOGISTIC);
    assert_int_equal(back->params->total, m->params->total);
    assert_memory_equal(back->params->data, m->params->data, m->params->total * sizeof(float));
    assert_non_null(gw_params_find(back->params, "wavenet.input.w"));
    assert_null(gw_params_find(back->params, "wavenet.embed"));
    gw_wavenet_free(back);
    gw_wavenet_free(m);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_config),
        cmocka_unit_test(test_gradcheck_bands4),
        cmocka_unit_test(test_gradcheck_bands1),
        cmocka_unit_test(test_train_forward_matches_reference),
        cmocka_unit_test(test_band_input_noise),
        cmocka_unit_test(test_stream_bands4),
        cmocka_unit_test(test_stream_bands1),
        cmocka_unit_test(test_generate),
        cmocka_unit_test(test_file_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
