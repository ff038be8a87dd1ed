/* Tests of src/nn losses and the VAE reparameterisation: hand-computed
 * values, numerical stability at extreme inputs, error reporting, and
 * central-difference gradient checks of every gradient they produce. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/gw_base.h"
#include "gw_test.h"
#include "nn/layers.h"

static float *rnd(gw_rng *r, size_t n, float lo, float hi) {
    float *p = gw_alloc(n * sizeof(float));
    assert_non_null(p);
    gw_rng_fill_uniform(r, p, n, lo, hi);
    return p;
}

/* the loss itself is the scalar being differentiated */
typedef struct lc {
    int kind;
    float *a, *b; /* logits/pred/mu, and float targets/logvar */
    const int32_t *cls;
    int N, D;
} lc;

enum { K_XENT, K_BCE, K_SQ, K_KL };

static double lc_loss(void *ctx) {
    lc *c = ctx;
    float l = 0;
    gw_status st = GW_OK;
    switch (c->kind) {
    case K_XENT: st = gw_loss_softmax_xent(&l, NULL, c->a, c->cls, c->N, c->D, "t", NULL); break;
    case K_BCE: st = gw_loss_bce_logits(&l, NULL, c->a, c->b, (size_t)c->N, "t", NULL); break;
    case K_SQ: st = gw_loss_sq_error(&l, NULL, c->a, c->b, c->N, c->D, "t", NULL); break;
    case K_KL: st = gw_loss_gauss_kl(&l, NULL, NULL, c->a, c->b, c->N, c->D, "t", NULL); break;
    }
    assert_int_equal(st, GW_OK);
    return l;
}

#define TOL 1e-2

static void test_xent_known_values(void **state) {
    /* row 0: logits (1, 2, 3), target 2: lse = 3 + log(1 + e^-1 + e^-2) = 3.4076059644
     *        loss 0.4076059644
     * row 1: logits (0, 0), target 0: log 2 = 0.6931471806
     * mean = 0.5503765725 */
    const float logits[5] = {1, 2, 3, 0, 0};
    const int32_t t[2] = {2, 0};
    float l = 0;
    gw_error err = {0};
    /* rows of different widths are not one call: do them separately then as a batch of equal V */
    assert_int_equal(gw_loss_softmax_xent(&l, NULL, logits, t, 1, 3, "x", &err), GW_OK);
    assert_float_equal(l, 0.4076059644, 1e-6);
    const int32_t t0[1] = {0};
    assert_int_equal(gw_loss_softmax_xent(&l, NULL, logits + 3, t0, 1, 2, "x", &err), GW_OK);
    assert_float_equal(l, 0.6931471806, 1e-6);
    /* batch of two rows, V = 3: (1,2,3)->2 and (3,2,1)->2: second row loss = 2.4076059644 */
    const float lg2[6] = {1, 2, 3, 3, 2, 1};
    const int32_t t2[2] = {2, 2};
    float d[6] = {0};
    assert_int_equal(gw_loss_softmax_xent(&l, d, lg2, t2, 2, 3, "x", &err), GW_OK);
    assert_float_equal(l, (0.4076059644 + 2.4076059644) / 2, 1e-6);
    /* gradient (softmax - onehot) / N: softmax(1,2,3) = (0.0900306, 0.2447285, 0.6652410) */
    assert_float_equal(d[0], 0.0900306 / 2, 1e-6);
    assert_float_equal(d[2], (0.6652410 - 1) / 2, 1e-6);
    assert_float_equal(d[5], (0.0900306 - 1) / 2, 1e-6);
    /* accumulates */
    assert_int_equal(gw_loss_softmax_xent(&l, d, lg2, t2, 2, 3, "x", &err), GW_OK);
    assert_float_equal(d[0], 0.0900306, 1e-6);
    /* huge logits stay finite: lse is taken after subtracting the max */
    const float huge[3] = {1e4f, -1e4f, 1e4f - 5.0f};
    const int32_t th[1] = {2};
    assert_int_equal(gw_loss_softmax_xent(&l, NULL, huge, th, 1, 3, "x", &err), GW_OK);
    assert_float_equal(l, 5.0 + log1p(exp(-5.0)), 1e-4);
}

static void test_xent_errors(void **state) {
    const float logits[4] = {0, 1, 2, 3};
    float d[4] = {0}, l;
    gw_error err = {0};
    const int32_t bad[2] = {1, 2};
    assert_int_equal(gw_loss_softmax_xent(&l, d, logits, bad, 2, 2, "wavenet logits", &err),
                     GW_ERR_ARG);
    assert_non_null(strstr(err.msg, "wavenet logits"));
    assert_non_null(strstr(err.msg, "target 2 at position 1"));
    for (int i = 0; i < 4; i++) assert_true(d[i] == 0.0f); /* nothing written */
    const int32_t ok[1] = {0};
    const float nanl[2] = {NAN, 0};
    assert_int_equal(gw_loss_softmax_xent(&l, NULL, nanl, ok, 1, 2, "x", &err), GW_ERR_NUMERIC);
    assert_non_null(strstr(err.msg, "not finite"));
    assert_int_equal(gw_loss_softmax_xent(&l, NULL, logits, ok, 0, 2, "x", &err), GW_ERR_ARG);
}

static void test_xent_gradcheck(void **state) {
    gw_rng r;
    gw_rng_seed(&r, 71);
    const int N = 5, V = 7;
    float *x = rnd(&r, N * V, -3, 3), *d = gw_alloc(N * V * sizeof(float));
    int32_t t[5];
    for (int n = 0; n < N; n++) t[n] = (int32_t)gw_rng_below(&r, V);
    float l;
    assert_int_equal(gw_loss_softmax_xent(&l, d, x, t, N, V, "x", NULL), GW_OK);
    lc c = {.kind = K_XENT, .a = x, .cls = t, .N = N, .D = V};
    assert_true(gw_test_gradcheck("xent", x, d, N * V, lc_loss, &c, 1e-2f, 0) < TOL);
    gw_free(x), gw_free(d);
}

static void test_bce(void **state) {
    /* x = 2, t = 1: log(1 + e^-2) = 0.1269280110; x = -1, t = 0: log(1 + e^-1) = 0.3132616875
     * x = 0.5, t = 0.25: max(x,0) - x t + log1p(e^-0.5) = 0.5 - 0.125 + 0.4740769842 = 0.8490769842 */
    const float x[3] = {2, -1, 0.5f}, t[3] = {1, 0, 0.25f};
    float l, d[3] = {0};
    gw_error err = {0};
    assert_int_equal(gw_loss_bce_logits(&l, d, x, t, 3, "D", &err), GW_OK);
    assert_float_equal(l, (0.1269280110 + 0.3132616875 + 0.8490769842) / 3, 1e-6);
    assert_float_equal(d[0], (1 / (1 + exp(-2.0)) - 1) / 3, 1e-6);
    assert_float_equal(d[1], (1 / (1 + exp(1.0))) / 3, 1e-6);
    /* extreme logits: the stable form gives finite loss and exact gradients */
    const float xe[2] = {-200.0f, 200.0f}, te[2] = {1, 1};
    float de[2] = {0};
    assert_int_equal(gw_loss_bce_logits(&l, de, xe, te, 2, "D", &err), GW_OK);
    assert_float_equal(l, 100.0, 1e-3);
    assert_float_equal(de[0], -0.5, 1e-7);
    assert_float_equal(de[1], 0.0, 1e-7);
    const float tb[1] = {1.5f};
    assert_int_equal(gw_loss_bce_logits(&l, NULL, x, tb, 1, "D real", &err), GW_ERR_ARG);
    assert_non_null(strstr(err.msg, "D real: target 1.5 at position 0"));
    gw_rng r;
    gw_rng_seed(&r, 72);
    const int n = 9;
    float *xr = rnd(&r, n, -4, 4), *tr = rnd(&r, n, 0, 1), *dr = gw_alloc(n * sizeof(float));
    assert_int_equal(gw_loss_bce_logits(&l, dr, xr, tr, n, "D", &err), GW_OK);
    lc c = {.kind = K_BCE, .a = xr, .b = tr, .N = n};
    assert_true(gw_test_gradcheck("bce", xr, dr, n, lc_loss, &c, 1e-2f, 0) < TOL);
    gw_free(xr), gw_free(tr), gw_free(dr);
}

static void test_sq_error(void **state) {
    /* example 0: (1-0)^2 + (2-4)^2 = 5; example 1: (0.5-0)^2 + (-1-1)^2 = 4.25; mean 4.625 */
    const float p[4] = {1, 2, 0.5f, -1}, t[4] = {0, 4, 0, 1};
    float l, d[4] = {0};
    gw_error err = {0};
    assert_int_equal(gw_loss_sq_error(&l, d, p, t, 2, 2, "recon", &err), GW_OK);
    assert_float_equal(l, 4.625, 1e-6);
    assert_float_equal(d[1], 2 * (2 - 4) / 2.0, 1e-6);
    const float inf[1] = {INFINITY};
    assert_int_equal(gw_loss_sq_error(&l, NULL, inf, t, 1, 1, "recon", &err), GW_ERR_NUMERIC);
    assert_non_null(strstr(err.msg, "recon"));
    gw_rng r;
    gw_rng_seed(&r, 73);
    const int N = 3, D = 4;
    float *pr = rnd(&r, N * D, -2, 2), *tr = rnd(&r, N * D, -2, 2);
    float *dr = gw_alloc(N * D * sizeof(float));
    assert_int_equal(gw_loss_sq_error(&l, dr, pr, tr, N, D, "recon", &err), GW_OK);
    lc c = {.kind = K_SQ, .a = pr, .b = tr, .N = N, .D = D};
    assert_true(gw_test_gradcheck("sq", pr, dr, N * D, lc_loss, &c, 1e-2f, 0) < TOL);
    gw_free(pr), gw_free(tr), gw_free(dr);
}

static void test_gauss_kl(void **state) {
    /* KL(N(mu, s^2) || N(0, 1)) per dim = 0.5 (mu^2 + s^2 - 1 - log s^2)
     * dim (mu 1, logvar 0): 0.5; dim (mu 0, logvar log 2): 0.5 (2 - 1 - log 2) = 0.1534264097
     * one example with both dims: 0.6534264097; a standard normal gives 0 */
    const float mu[4] = {1, 0, 0, 0}, lv[4] = {0, 0.6931471806f, 0, 0};
    float l, dmu[4] = {0}, dlv[4] = {0};
    gw_error err = {0};
    assert_int_equal(gw_loss_gauss_kl(&l, dmu, dlv, mu, lv, 2, 2, "kl", &err), GW_OK);
    assert_float_equal(l, 0.6534264097 / 2, 1e-6);
    assert_float_equal(dmu[0], 0.5, 1e-7);
    assert_float_equal(dlv[1], 0.5 * (2 - 1) / 2, 1e-6);
    assert_float_equal(dlv[2], 0.0, 1e-7);
    const float big[1] = {200.0f}, z1[1] = {0};
    assert_int_equal(gw_loss_gauss_kl(&l, NULL, NULL, z1, big, 1, 1, "kl", &err), GW_ERR_NUMERIC);
    gw_rng r;
    gw_rng_seed(&r, 74);
    const int N = 3, D = 5;
    float *m = rnd(&r, N * D, -2, 2), *v = rnd(&r, N * D, -2, 2);
    float *dm = gw_alloc(N * D * sizeof(float)), *dv = gw_alloc(N * D * sizeof(float));
    assert_int_equal(gw_loss_gauss_kl(&l, dm, dv, m, v, N, D, "kl", &err), GW_OK);
    lc c = {.kind = K_KL, .a = m, .b = v, .N = N, .D = D};
    assert_true(gw_test_gradcheck("kl dmu", m, dm, N * D, lc_loss, &c, 1e-2f, 0) < TOL);
    assert_true(gw_test_gradcheck("kl dlogvar", v, dv, N * D, lc_loss, &c, 1e-2f, 0) < TOL);
    gw_free(m), gw_free(v), gw_free(dm), gw_free(dv);
}

typedef struct rc {
    float *mu, *lv, *eps, *z;
    const float *g;
    size_t n;
} rc;

static double rc_loss(void *ctx) {
    rc *c = ctx;
    gw_reparam_forward(c->z, c->mu, c->lv, c->eps, c->n);
    return gw_test_dot(c->z, c->g, c->n);
}

static void test_reparam(void **state) {
    gw_rng r;
    gw_rng_seed(&r, 75);
    const size_t n = 12;
    rc c = {.n = n};
    c.mu = rnd(&r, n, -2, 2), c.lv = rnd(&r, n, -3, 2), c.eps = gw_alloc(n * sizeof(float));
    gw_rng_fill_normal(&r, c.eps, n, 0, 1);
    c.z = gw_alloc(n * sizeof(float));
    float *g = rnd(&r, n, -1, 1);
    c.g = g;
    gw_reparam_forward(c.z, c.mu, c.lv, c.eps, n);
    for (size_t i = 0; i < n; i++)
        assert_float_equal(c.z[i], c.mu[i] + exp(0.5 * c.lv[i]) * c.eps[i], 1e-5);
    float *dmu = gw_alloc(n * sizeof(float)), *dlv = gw_alloc(n * sizeof(float));
    gw_reparam_backward(dmu, dlv, g, c.lv, c.eps, n);
    assert_true(gw_test_gradcheck("reparam dmu", c.mu, dmu, n, rc_loss, &c, 1e-2f, 0) < TOL);
    assert_true(gw_test_gradcheck("reparam dlogvar", c.lv, dlv, n, rc_loss, &c, 1e-2f, 0) < TOL);
    /* z over many draws has mean mu and variance exp(logvar) */
    const size_t m = 100000;
    float *mu = gw_alloc(m * sizeof(float)), *lv = gw_alloc(m * sizeof(float));
    float *eps = gw_alloc(m * sizeof(float)), *z = gw_alloc(m * sizeof(float));
    for (size_t i = 0; i < m; i++) mu[i] = 1.5f, lv[i] = logf(0.25f);
    gw_rng_fill_normal(&r, eps, m, 0, 1);
    gw_reparam_forward(z, mu, lv, eps, m);
    double s = 0, s2 = 0;
    for (size_t i = 0; i < m; i++) s += z[i], s2 += (double)z[i] * z[i];
    double mean = s / m, var = s2 / m - mean * mean;
    assert_float_equal(mean, 1.5, 0.01);
    assert_float_equal(var, 0.25, 0.01);
    gw_free(c.mu), gw_free(c.lv), gw_free(c.eps), gw_free(c.z), gw_free(g);
    gw_free(dmu), gw_free(dlv), gw_free(mu), gw_free(lv), gw_free(eps), gw_free(z);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_xent_known_values), cmocka_unit_test(test_xent_errors),
        cmocka_unit_test(test_xent_gradcheck),    cmocka_unit_test(test_bce),
        cmocka_unit_test(test_sq_error),          cmocka_unit_test(test_gauss_kl),
        cmocka_unit_test(test_reparam),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
