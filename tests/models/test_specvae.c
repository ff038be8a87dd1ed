/* The spectrogram VAE: gradient checks of the whole objective (encoder,
 * reparameterised sample, decoder, squared error, KL with beta and free
 * bits) wrt every parameter on a small config, the reference preset's
 * shapes, the ELBO's constants, KL warm-up, and a model-file round trip. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gw_test.h"
#include "models/specvae.h"

static void small_config(gw_specvae_config *c) {
    gw_specvae_config_default(c);
    c->feat.n_mels = 8;
    c->feat.frames = 8;
    c->feat.clip_samples = 2048;
    c->feat.n_fft = 256;
    c->feat.hop = 256;
    c->z_dim = 3;
    c->enc.L = c->dec.L = 2;
    c->enc.ch[0] = 3, c->enc.ch[1] = 4;
    c->dec.ch[0] = 4, c->dec.ch[1] = 3;
    c->enc.H = c->dec.H = 8;
    c->enc.W = c->dec.W = 8;
}

typedef struct {
    gw_specvae *m;
    const float *x;
    int B;
    float beta, free_bits;
} ctx_t;

/* the objective with the same eps every time (rng reseeded) */
static double objective(void *vp) {
    ctx_t *c = vp;
    gw_rng rng;
    gw_rng_seed(&rng, 77);
    gw_specvae_stats st;
    gw_error err;
    assert_int_equal(
        gw_specvae_forward_backward(c->m, &st, c->x, c->B, c->beta, c->free_bits, &rng, 0, &err),
        GW_OK);
    return st.loss;
}

static void gradcheck_all(float beta, float free_bits, float dec_var) {
    gw_specvae_config cfg;
    small_config(&cfg);
    cfg.dec_var = dec_var;
    gw_rng rng;
    gw_rng_seed(&rng, 5);
    gw_specvae *m = NULL;
    gw_error err = {0};
    assert_int_equal(gw_specvae_create(&m, &cfg, 3, &rng, &err), GW_OK);
    for (size_t i = 0; i < m->p->count; i++) {
        gw_param *t = gw_params_at(m->p, i);
        if (t->ndim == 1) gw_rng_fill_normal(&rng, t->data, t->numel, 0.0f, 0.1f);
    }
    int B = 3;
    size_t isz = gw_specvae_image_size(m);
    float *x = malloc(B * isz * 4);
    gw_rng_fill_uniform(&rng, x, B * isz, -1, 1);
    ctx_t c = {m, x, B, beta, free_bits};
    gw_rng r2;
    gw_rng_seed(&r2, 77);
    gw_specvae_stats st;
    assert_int_equal(gw_specvae_forward_backward(m, &st, x, B, beta, free_bits, &r2, 1, &err),
                     GW_OK);
    for (size_t i = 0; i < m->p->count; i++) {
        gw_param *t = gw_params_at(m->p, i);
        float *a = malloc(t->numel * 4);
        memcpy(a, t->grad, t->numel * 4);
        double e = gw_test_gradcheck(t->name, t->data, a, t->numel, objective, &c, 1e-3f, 40);
        assert_true(e < 2e-2);
        free(a);
    }
    free(x);
    gw_specvae_free(m);
}

static void test_gradients_elbo(void **state) {
    gradcheck_all(1.0f, 0.0f, 0.5f);
}
static void test_gradients_beta_free_bits(void **state) {
    /* free bits 0.05 nats: some dims sit below the floor (zero gradient),
     * others above; beta and a learned-scale decoder variance change weights */
    gradcheck_all(2.5f, 0.05f, 0.3f);
}

static void test_reference_shapes_and_constants(void **state) {
    gw_specvae_config cfg, ff;
    gw_specvae_config_default(&cfg);
    char path[4096];
    gw_test_preset_path(path, sizeof path, "specvae-small");
    gw_error err = {0};
    assert_int_equal(gw_specvae_config_load(&ff, path, &err), GW_OK);
    assert_memory_equal(&cfg.enc, &ff.enc, sizeof cfg.enc);
    assert_memory_equal(&cfg.dec, &ff.dec, sizeof cfg.dec);
    assert_int_equal(ff.z_dim, 32);
    assert_float_equal(ff.dec_var, 0.5f, 0);
    gw_specvae *m = NULL;
    gw_rng rng;
    gw_rng_seed(&rng, 2);
    assert_int_equal(gw_specvae_create(&m, &ff, 2, &rng, &err), GW_OK);
    assert_int_equal(gw_params_numel(m->p), (832 + 51264 + 204928 + 819456 + 4096 * 64 + 64) +
                                                (32 * 4096 + 4096 + 819328 + 204864 + 51232 + 801));
    assert_true(fabs(gw_downnet_macs(&m->enc) - 40.40e6) < 0.01e6);
    assert_true(fabs(gw_upnet_macs(&m->dec) - 40.27e6) < 0.01e6);
    /* reference loss = sum sq + KL; the ELBO adds the Gaussian constant */
    float *x = calloc(2 * 4096, 4);
    gw_specvae_stats st;
    assert_int_equal(gw_specvae_forward_backward(m, &st, x, 2, 1.0f, 0.0f, &rng, 0, &err), GW_OK);
    assert_float_equal(st.loss, st.recon + st.kl, 1e-3 * fabs(st.loss));
    float c = 0.5f * 4096 * logf(6.2831853f * 0.5f);
    assert_float_equal(st.elbo, -(st.loss + c), 1e-3 * fabs(st.elbo));
    float mu[64], lv[64];
    gw_specvae_encode(m, mu, lv, x, 2);
    for (int i = 0; i < 64; i++)
        assert_true(isfinite(mu[i]) && isfinite(lv[i]));
    free(x);
    gw_specvae_free(m);
    /* warm-up: linear from 0 to beta */
    cfg.beta = 2.0f;
    cfg.kl_warmup = 100;
    assert_float_equal(gw_specvae_beta_at(&cfg, 0), 0.0f, 0);
    assert_float_equal(gw_specvae_beta_at(&cfg, 50), 1.0f, 1e-6);
    assert_float_equal(gw_specvae_beta_at(&cfg, 500), 2.0f, 0);
}

/* a small model ready to train on a fixed batch x (4 images of 64 values)
 * of stripes, drawing from rng */
static gw_specvae *striped_batch(float x[4 * 64], gw_specvae_config *cfg, gw_rng *rng) {
    small_config(cfg);
    gw_rng_seed(rng, 6);
    gw_specvae *m = NULL;
    gw_error err = {0};
    assert_int_equal(gw_specvae_create(&m, cfg, 4, rng, &err), GW_OK);
    assert_int_equal(gw_specvae_train_begin(m, &err), GW_OK);
    for (int i = 0; i < 4 * 64; i++)
        x[i] = ((i / 8) % 2) ? 0.7f : -0.5f;
    return m;
}

/* training lowers the objective on a fixed batch */
static void test_train_steps(void **state) {
    gw_specvae_config cfg;
    gw_rng rng;
    gw_error err = {0};
    float x[4 * 64];
    gw_specvae *m = striped_batch(x, &cfg, &rng);
    gw_specvae_stats st, first;
    for (int s = 0; s < 60; s++) {
        assert_int_equal(gw_specvae_train_step(m, &st, x, 4, 1.0f, &rng, &err), GW_OK);
        if (!s) first = st;
    }
    assert_true(st.loss < 0.5f * first.loss);
    assert_true(st.elbo > first.elbo);
    gw_specvae_free(m);
}

/* The discretised bound: every level's mass sums to 1 whatever mu and sigma
 * (far tails included), a wide Gaussian gives density x bin width, and on a
 * trained model the bound is finite, positive, below the uniform 8 bits with
 * the fitted variance, and its mse is evaluate()'s reconstruction term. */
static void test_discrete_bits(void **state) {
    const double cases[][2] = {{0, 0.7},  {0.95, 0.01}, {-3, 0.05},
                               {5, 1e-3}, {0.3, 1e-4},  {-0.2, 30}};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        double sum = 0;
        for (int k = 0; k < GW_SPEC_LEVELS; k++) {
            double lm = gw_specvae_level_log_mass(k, cases[c][0], cases[c][1]);
            assert_true(isfinite(lm) && lm <= 1e-12);
            sum += exp(lm);
        }
        if (fabs(sum - 1.0) > 1e-9) fail_msg("case %zu: masses sum to %.12f", c, sum);
    }
    for (int k = 1; k < GW_SPEC_LEVELS - 1; k += 37) {
        const double x = k / 127.5 - 1.0, sigma = 0.5, z = (x - 0.1) / sigma;
        const double approx = -0.5 * z * z - log(sigma * sqrt(2 * M_PI)) + log(2.0 / 255.0);
        assert_float_equal(gw_specvae_level_log_mass(k, 0.1, sigma), approx, 1e-4);
    }
    assert_int_equal(gw_spec_level(-2.0f), 0);
    assert_int_equal(gw_spec_level(1.0f), 255);
    assert_int_equal(gw_spec_level(NAN) >= 0 && gw_spec_level(NAN) <= 255, 1);

    gw_specvae_config cfg;
    gw_rng rng;
    gw_error err = {0};
    float x[4 * 64];
    gw_specvae *m = striped_batch(x, &cfg, &rng);
    gw_specvae_stats st;
    for (int s = 0; s < 200; s++)
        assert_int_equal(gw_specvae_train_step(m, &st, x, 4, 1.0f, &rng, &err), GW_OK);
    double bits_own, bits_fit, mse, mse2;
    assert_int_equal(gw_specvae_discrete_bits(m, &bits_own, &mse, 0, x, 4, 3, &err), GW_OK);
    assert_int_equal(gw_specvae_discrete_bits(m, &bits_fit, &mse2, mse, x, 4, 3, &err), GW_OK);
    gw_specvae_eval ev;
    assert_int_equal(gw_specvae_evaluate(m, &ev, NULL, x, 4, 3, &err), GW_OK);
    print_message("bits/dim: %.4f (sigma^2 %.2f), %.4f (fitted %.5f)\n", bits_own,
                  (double)cfg.dec_var, bits_fit, mse);
    assert_true(isfinite(bits_own) && bits_own > 0 && isfinite(bits_fit) && bits_fit > 0);
    assert_true(mse == mse2); /* the same posterior samples */
    assert_float_equal(mse, ev.recon * 2.0 * cfg.dec_var / 64.0, 1e-4 * mse);
    assert_true(bits_fit < bits_own);
    assert_true(bits_fit < 8.0);
    gw_specvae_free(m);
}

static void test_file_round_trip(void **state) {
    gw_specvae_config cfg;
    small_config(&cfg);
    gw_rng rng;
    gw_rng_seed(&rng, 8);
    gw_specvae *m = NULL, *m2 = NULL;
    gw_error err = {0};
    assert_int_equal(gw_specvae_create(&m, &cfg, 2, &rng, &err), GW_OK);
    char dir[4096], path[4200];
    gw_test_tmpdir(dir, sizeof dir, "specvae");
    snprintf(path, sizeof path, "%s/m.gwm", dir);
    gw_gwm_writer *w = NULL;
    assert_int_equal(gw_gwm_writer_create(&w, &err), GW_OK);
    assert_int_equal(gw_specvae_write(m, w, &err), GW_OK);
    assert_int_equal(gw_gwm_writer_commit(w, path, &err), GW_OK);
    gw_gwm_writer_free(w);
    gw_gwm *f = NULL;
    assert_int_equal(gw_gwm_open(&f, path, &err), GW_OK);
    assert_int_equal(gw_specvae_from_gwm(&m2, f, 2, &err), GW_OK);
    float img[128], mu1[6], lv1[6], mu2[6], lv2[6];
    gw_rng_fill_uniform(&rng, img, 128, -1, 1);
    gw_specvae_encode(m, mu1, lv1, img, 2);
    gw_specvae_encode(m2, mu2, lv2, img, 2);
    assert_memory_equal(mu1, mu2, sizeof mu1);
    assert_memory_equal(lv1, lv2, sizeof lv1);
    gw_specvae_free(m2);
    gw_gwm_free(f);
    unlink(path);
    rmdir(dir);
    gw_specvae_free(m);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gradients_elbo),
        cmocka_unit_test(test_gradients_beta_free_bits),
        cmocka_unit_test(test_reference_shapes_and_constants),
        cmocka_unit_test(test_train_steps),
        cmocka_unit_test(test_discrete_bits),
        cmocka_unit_test(test_file_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
