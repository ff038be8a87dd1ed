/* The spectrogram GAN: gradient checks of the whole generator and
 * discriminator (with and without spectral norm) and of the three losses on
 * small configs, the reference preset's shapes and multiply-adds, a training
 * step that moves D's outputs the right way, and a model-file round trip. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gw_test.h"
#include "io/json.h"
#include "models/specgan.h"

static void small_config(gw_specgan_config *c, int sn, gw_gan_loss loss) {
    gw_specgan_config_default(c);
    c->feat.n_mels = 8;
    c->feat.frames = 8;
    c->feat.clip_samples = 2048;
    c->feat.n_fft = 256;
    c->feat.hop = 256;
    c->z_dim = 3;
    c->g.L = c->d.L = 2;
    c->g.K = c->d.K = 5;
    c->g.ch[0] = 4, c->g.ch[1] = 3;
    c->d.ch[0] = 3, c->d.ch[1] = 4;
    c->g.H = c->d.H = 8;
    c->g.W = c->d.W = 8;
    c->spectral_norm = sn;
    c->loss = loss;
}

typedef struct {
    gw_specgan *m;
    const float *in; /* z for G, images for D */
    const float *g;  /* upstream gradient */
    int B;
    int which; /* 0 = G, 1 = D */
} ctx_t;

static double loss_fn(void *vp) {
    ctx_t *c = vp;
    if (c->which == 0) {
        const float *o = gw_upnet_forward(&c->m->G, c->in, c->B);
        return gw_test_dot(o, c->g, (size_t)c->B * gw_specgan_image_size(c->m));
    }
    const float *o = gw_downnet_forward(&c->m->D, c->in, c->B, 0);
    return gw_test_dot(o, c->g, (size_t)c->B);
}

static void check_params(gw_params *p, ctx_t *c, const char *tag, float eps) {
    for (size_t i = 0; i < p->count; i++) {
        gw_param *t = gw_params_at(p, i);
        if (t->flags & GW_PARAM_STATE) continue;
        float *a = malloc(t->numel * 4);
        memcpy(a, t->grad, t->numel * 4);
        char what[160];
        snprintf(what, sizeof what, "%s %s", tag, t->name);
        double e = gw_test_gradcheck(what, t->data, a, t->numel, loss_fn, c, eps, 60);
        assert_true(e < 2e-2);
        free(a);
    }
}

static void test_generator_gradients(void **state) {
    gw_specgan_config cfg;
    small_config(&cfg, 0, GW_GAN_LOSS_NONSATURATING);
    gw_rng rng;
    gw_rng_seed(&rng, 3);
    gw_specgan *m = NULL;
    gw_error err = {0};
    assert_int_equal(gw_specgan_create(&m, &cfg, 2, &rng, &err), GW_OK);
    int B = 2;
    size_t isz = gw_specgan_image_size(m);
    float z[6], dz[6] = {0}, *g = malloc(B * isz * 4);
    gw_rng_fill_normal(&rng, z, 6, 0, 1);
    gw_rng_fill_normal(&rng, g, B * isz, 0, 1);
    /* random biases too, so ReLUs are not all at the same kink */
    for (size_t i = 0; i < m->gp->count; i++) {
        gw_param *t = gw_params_at(m->gp, i);
        if (t->ndim == 1) gw_rng_fill_normal(&rng, t->data, t->numel, 0.0f, 0.1f);
    }
    gw_params_zero_grad(m->gp);
    gw_upnet_forward(&m->G, z, B);
    gw_upnet_backward(&m->G, dz, g, 1);
    ctx_t c = {m, z, g, B, 0};
    assert_true(gw_test_gradcheck("G dz", z, dz, 6, loss_fn, &c, 1e-3f, 0) < 2e-2);
    check_params(m->gp, &c, "G", 1e-3f);
    free(g);
    gw_specgan_free(m);
}

static void discriminator_gradients(int sn, int mbstd) {
    gw_specgan_config cfg;
    small_config(&cfg, sn, GW_GAN_LOSS_HINGE);
    cfg.mbstd = mbstd;
    gw_rng rng;
    gw_rng_seed(&rng, 4 + sn);
    gw_specgan *m = NULL;
    gw_error err = {0};
    assert_int_equal(gw_specgan_create(&m, &cfg, 2, &rng, &err), GW_OK);
    int B = mbstd ? 4 : 3; /* D holds 2 B_max; with mbstd groups of 3 and 1 */
    size_t isz = gw_specgan_image_size(m);
    float *x = malloc(B * isz * 4), *dx = calloc(B * isz, 4), g[4];
    gw_rng_fill_uniform(&rng, x, B * isz, -1, 1);
    gw_rng_fill_normal(&rng, g, 4, 0, 1);
    /* one training forward runs a power iteration, then u, v stay fixed:
     * the backward treats them as constants (Miyato et al. 2018) */
    gw_downnet_forward(&m->D, x, B, 1);
    gw_params_zero_grad(m->dp);
    gw_downnet_forward(&m->D, x, B, 0);
    gw_downnet_backward(&m->D, dx, g, 1);
    ctx_t c = {m, x, g, B, 1};
    assert_true(
        gw_test_gradcheck(sn ? "D(sn) dx" : "D dx", x, dx, B * isz, loss_fn, &c, 1e-2f, 80) < 2e-2);
    check_params(m->dp, &c, sn ? "D(sn)" : "D", mbstd ? 1e-3f : 1e-2f);
    /* input gradient only (the G step): same dx, parameter grads untouched */
    float *dx2 = calloc(B * isz, 4);
    gw_params_zero_grad(m->dp);
    gw_downnet_forward(&m->D, x, B, 0);
    gw_downnet_backward(&m->D, dx2, g, 0);
    assert_true(gw_test_max_abs_diff(dx, dx2, B * isz) < 1e-5f);
    for (size_t i = 0; i < m->dp->total; i++)
        assert_true(m->dp->grad[i] == 0.0f);
    free(x), free(dx), free(dx2);
    gw_specgan_free(m);
}

static void test_discriminator_gradients(void **state) {
    discriminator_gradients(0, 0);
}
static void test_discriminator_sn_gradients(void **state) {
    discriminator_gradients(1, 0);
}
/* minibatch stddev: the group statistic's gradient reaches every example */
static void test_discriminator_mbstd_gradients(void **state) {
    discriminator_gradients(0, 3);
}

typedef struct {
    float *lr, *lf;
    int B, d;
    gw_gan_loss loss;
} lctx_t;

static double gan_loss_fn(void *vp) {
    lctx_t *c = vp;
    return c->d ? gw_gan_d_loss(NULL, NULL, c->lr, c->lf, c->B, c->loss)
                : gw_gan_g_loss(NULL, c->lf, c->B, c->loss);
}

static void test_losses(void **state) {
    float lr[5] = {-2.0f, 0.3f, 1.7f, -0.4f, 3.0f}, lf[5] = {0.5f, -1.3f, 2.2f, -0.2f, 0.1f};
    for (int l = GW_GAN_LOSS_MINIMAX; l <= GW_GAN_LOSS_HINGE; l++) {
        float dr[5] = {0}, df[5] = {0};
        lctx_t c = {lr, lf, 5, 1, (gw_gan_loss)l};
        gw_gan_d_loss(dr, df, lr, lf, 5, (gw_gan_loss)l);
        assert_true(gw_test_gradcheck("d_loss real", lr, dr, 5, gan_loss_fn, &c, 1e-3f, 0) < 1e-2);
        assert_true(gw_test_gradcheck("d_loss fake", lf, df, 5, gan_loss_fn, &c, 1e-3f, 0) < 1e-2);
        float dg[5] = {0};
        c.d = 0;
        gw_gan_g_loss(dg, lf, 5, (gw_gan_loss)l);
        assert_true(gw_test_gradcheck("g_loss", lf, dg, 5, gan_loss_fn, &c, 1e-3f, 0) < 1e-2);
    }
    /* known values: BCE at logit 0 is log 2 for each half */
    float z = 0;
    assert_float_equal(gw_gan_d_loss(NULL, NULL, &z, &z, 1, GW_GAN_LOSS_NONSATURATING),
                       2 * 0.693147f, 1e-5);
    assert_float_equal(gw_gan_g_loss(NULL, &z, 1, GW_GAN_LOSS_MINIMAX), -0.693147f, 1e-5);
    assert_float_equal(gw_gan_d_loss(NULL, NULL, &z, &z, 1, GW_GAN_LOSS_HINGE), 2.0f, 1e-6);
}

/* D2 of the hostile-input issue: a preset with the most conv layers (8)
 * read the discriminator's channel list one past its end (UBSan abort):
 * now it builds (checked under ASan/UBSan in CI) */
static void test_eight_conv_layers(void **state) {
    const char *text =
        "{\"model\": \"specgan\", \"name\": \"d2\", \"features\": {\"sample_rate\": 16000, "
        "\"clip_samples\": 65536, \"n_fft\": 4096, \"hop\": 256, \"n_mels\": 256, "
        "\"frames\": 256, \"fmin\": 0, \"fmax\": 8000, \"clip_std\": 3}, \"z_dim\": 8, "
        "\"g_channels\": [8, 8, 8, 8, 8, 8, 8, 8], \"d_channels\": [4, 4, 4, 4, 4, 4, 4, 4]}";
    cJSON *root = cJSON_Parse(text);
    assert_non_null(root);
    gw_specgan_config cfg;
    gw_error err = {0};
    gw_specgan_config_default(&cfg);
    gw_status st = gw_specgan_config_from_json(&cfg, root, "d2.json", &err);
    cJSON_Delete(root);
    if (st) fprintf(stderr, "%s\n", err.msg);
    assert_int_equal(st, GW_OK);
    gw_specgan *m = NULL;
    gw_rng rng;
    gw_rng_seed(&rng, 1);
    st = gw_specgan_create(&m, &cfg, 1, &rng, &err);
    if (st) fprintf(stderr, "%s\n", err.msg);
    assert_int_equal(st, GW_OK);
    gw_specgan_free(m);
}

static void test_reference_shapes(void **state) {
    gw_specgan_config cfg, fromfile;
    gw_specgan_config_default(&cfg);
    char path[4096];
    gw_test_preset_path(path, sizeof path, "specgan-small");
    gw_error err = {0};
    assert_int_equal(gw_specgan_config_load(&fromfile, path, &err), GW_OK);
    assert_memory_equal(&cfg.g, &fromfile.g, sizeof cfg.g);
    assert_memory_equal(&cfg.d, &fromfile.d, sizeof cfg.d);
    assert_memory_equal(&cfg.feat, &fromfile.feat, sizeof cfg.feat);
    assert_int_equal(fromfile.z_dim, 100);
    assert_int_equal(fromfile.loss, GW_GAN_LOSS_NONSATURATING);
    gw_specgan *m = NULL;
    gw_rng rng;
    gw_rng_seed(&rng, 1);
    assert_int_equal(gw_specgan_create(&m, &fromfile, 1, &rng, &err), GW_OK);
    /* parameter counts of the spec's layers */
    assert_int_equal(gw_params_numel(m->gp), 413696 + 819328 + 204864 + 51232 + 801);
    assert_int_equal(gw_params_numel(m->dp), 832 + 51264 + 204928 + 819456 + 4097);
    /* forward multiply-adds per example as the peer counts them */
    assert_true(fabs(gw_upnet_macs(&m->G) - 40.55e6) < 0.01e6);
    assert_true(fabs(gw_downnet_macs(&m->D) - 40.14e6) < 0.01e6);
    float z[100], *img = malloc(64 * 64 * 4), logit;
    gw_rng_fill_normal(&rng, z, 100, 0, 1);
    gw_specgan_generate(m, img, z, 1);
    for (int i = 0; i < 64 * 64; i++)
        assert_true(img[i] >= -1.0f && img[i] <= 1.0f);
    gw_specgan_discriminate(m, &logit, img, 1);
    assert_true(isfinite(logit));
    free(img);
    gw_specgan_free(m);
    /* bad presets: one line naming the file and the key */
    cJSON *root = NULL;
    assert_int_equal(gw_json_parse(&root,
                                   "{\"model\":\"specgan\",\"g_channels\":[8,8],"
                                   "\"d_channels\":[8]}",
                                   "bad.json", &err),
                     GW_OK);
    assert_int_equal(gw_specgan_config_from_json(&cfg, root, "bad.json", &err), GW_ERR_ARG);
    assert_non_null(strstr(err.msg, "bad.json"));
    cJSON_Delete(root);
    assert_int_equal(
        gw_json_parse(&root, "{\"model\":\"specgan\",\"loss\":\"wgan\"}", "l.json", &err), GW_OK);
    assert_int_equal(gw_specgan_config_from_json(&cfg, root, "l.json", &err), GW_ERR_ARG);
    assert_non_null(strstr(err.msg, "loss"));
    cJSON_Delete(root);
}

/* A few D steps on a fixed real batch against G's fakes must raise D(x) over
 * D(G(z)), and the whole step (D then G) must run for each loss. */
static void test_train_steps(void **state) {
    for (int l = GW_GAN_LOSS_MINIMAX; l <= GW_GAN_LOSS_HINGE; l++) {
        gw_specgan_config cfg;
        small_config(&cfg, l == GW_GAN_LOSS_HINGE, (gw_gan_loss)l);
        cfg.lr_d = cfg.lr_g = 1e-3f;
        gw_rng rng;
        gw_rng_seed(&rng, 10 + l);
        gw_specgan *m = NULL;
        gw_error err = {0};
        assert_int_equal(gw_specgan_create(&m, &cfg, 4, &rng, &err), GW_OK);
        assert_int_equal(gw_specgan_train_begin(m, &err), GW_OK);
        size_t isz = gw_specgan_image_size(m);
        float *real = malloc(4 * isz * 4);
        for (size_t i = 0; i < 4 * isz; i++)
            real[i] = (i % 8) < 4 ? 0.8f : -0.8f;
        gw_specgan_stats st = {0}, first = {0};
        for (int s = 0; s < 30; s++) {
            assert_int_equal(gw_specgan_d_step(m, &st, real, 4, &rng, &err), GW_OK);
            if (s == 0) first = st;
            assert_int_equal(gw_specgan_g_step(m, &st, &err), GW_OK);
        }
        assert_true(isfinite(st.g_loss) && isfinite(st.d_loss));
        assert_true(st.d_real - st.d_fake > first.d_real - first.d_fake);
        assert_true(st.d_loss < first.d_loss);
        free(real);
        gw_specgan_free(m);
    }
}

static void test_file_round_trip(void **state) {
    gw_specgan_config cfg;
    small_config(&cfg, 1, GW_GAN_LOSS_HINGE);
    gw_rng rng;
    gw_rng_seed(&rng, 9);
    gw_specgan *m = NULL, *m2 = NULL;
    gw_error err = {0};
    assert_int_equal(gw_specgan_create(&m, &cfg, 2, &rng, &err), GW_OK);
    gw_specfeat_mean(m->feat)[3] = -4.5f;
    char dir[4096], path[4200];
    gw_test_tmpdir(dir, sizeof dir, "specgan");
    snprintf(path, sizeof path, "%s/m.gwm", dir);
    gw_gwm_writer *w = NULL;
    assert_int_equal(gw_gwm_writer_create(&w, &err), GW_OK);
    assert_int_equal(gw_specgan_write(m, w, 0, &err), GW_OK);
    assert_int_equal(gw_gwm_writer_commit(w, path, &err), GW_OK);
    gw_gwm_writer_free(w);
    gw_gwm *f = NULL;
    assert_int_equal(gw_gwm_open(&f, path, &err), GW_OK);
    assert_int_equal(gw_specgan_from_gwm(&m2, f, 3, &err), GW_OK);
    assert_float_equal(gw_specfeat_mean(m2->feat)[3], -4.5f, 0);
    float z[6], a[128], b[128];
    gw_rng_fill_normal(&rng, z, 6, 0, 1);
    gw_specgan_generate(m, a, z, 2);
    gw_specgan_generate(m2, b, z, 2);
    assert_memory_equal(a, b, sizeof a);
    gw_specgan_free(m2);
    gw_gwm_free(f);
    unlink(path);
    rmdir(dir);
    gw_specgan_free(m);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_generator_gradients),
        cmocka_unit_test(test_discriminator_gradients),
        cmocka_unit_test(test_discriminator_sn_gradients),
        cmocka_unit_test(test_discriminator_mbstd_gradients),
        cmocka_unit_test(test_losses),
        cmocka_unit_test(test_reference_shapes),
        cmocka_unit_test(test_eight_conv_layers),
        cmocka_unit_test(test_train_steps),
        cmocka_unit_test(test_file_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
