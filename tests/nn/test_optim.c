#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <math.h>
#include <string.h>
#include <unistd.h>

#include "gw_test.h"
#include "nn/optim.h"

/* f(w) = 0.5 sum_i a_i (w_i - c_i)^2, an ill-conditioned convex quadratic */
static double quad_grad(gw_params *p, const float *a, const float *c) {
    gw_param *t = &p->items[0];
    double f = 0;
    for (size_t i = 0; i < t->numel; i++) {
        float d = t->data[i] - c[i];
        t->grad[i] += a[i] * d;
        f += 0.5 * a[i] * d * d;
    }
    return f;
}

static gw_params *make_group(int n, unsigned flags_b) {
    gw_error err = {0};
    gw_params *p = gw_params_create();
    assert_int_equal(gw_params_add(p, "w", 1, (int[]){n}, 0, NULL, &err), GW_OK);
    assert_int_equal(gw_params_add(p, "b", 1, (int[]){3}, flags_b, NULL, &err), GW_OK);
    assert_int_equal(gw_params_alloc(p, &err), GW_OK);
    return p;
}

static void test_adam_converges_on_quadratic(void **state) {
    enum { N = 20 };
    float a[N], c[N];
    gw_rng rng;
    gw_rng_seed(&rng, 1);
    for (int i = 0; i < N; i++)
        a[i] = powf(10.0f, -2.0f + 4.0f * i / (N - 1)), c[i] = gw_rng_normal(&rng);
    for (int decoupled = 0; decoupled < 2; decoupled++) {
        gw_error err = {0};
        gw_params *p = make_group(N, 0);
        gw_params_init_normal(p->items[0].data, N, 0, 3, &rng);
        gw_adam_config cfg = gw_adam_defaults();
        cfg.decoupled = decoupled;
        gw_adam *opt;
        assert_int_equal(gw_adam_create(&opt, p, &cfg, &err), GW_OK);
        double f0 = 0, f = 0;
        for (int step = 0; step < 4000; step++) {
            gw_params_zero_grad(p);
            f = quad_grad(p, a, c);
            if (step == 0) f0 = f;
            /* a decaying schedule, as trainers use, lets Adam settle */
            float lr = 0.05f / (1.0f + step / 200.0f);
            assert_int_equal(gw_adam_step(opt, lr, &err), GW_OK);
        }
        assert_int_equal(opt->step, 4000);
        assert_true(f < 1e-6 * f0);
        for (int i = 0; i < N; i++)
            assert_true(fabsf(p->items[0].data[i] - c[i]) < 1e-2f);
        gw_adam_free(opt);
        gw_params_free(p);
    }
}

/* the first Adam step moves every weight by exactly lr against the sign of
 * its gradient (m_hat / sqrt(v_hat) = g / |g|), whatever the gradient's scale:
 * this pins the bias correction */
static void test_adam_first_step_and_reference(void **state) {
    float w[4] = {1, 1, 1, 1}, m[4] = {0}, v[4] = {0};
    const float g[4] = {1e-3f, -5.0f, 200.0f, -0.25f};
    gw_adam_update(w, m, v, g, 4, 0.01f, 0.9f, 0.999f, 1e-12f, 0.0f, 1, 1);
    for (int i = 0; i < 4; i++)
        assert_true(fabsf(w[i] - (1.0f - 0.01f * (g[i] > 0 ? 1.0f : -1.0f))) < 1e-6f);
    /* several steps against a double-precision transcription of Algorithm 1
     * with decoupled decay (Loshchilov & Hutter, Algorithm 2) */
    double wd_[4] = {1, -2, 0.5, 3}, md[4] = {0}, vd[4] = {0};
    float wf[4] = {1, -2, 0.5f, 3}, mf[4] = {0}, vf[4] = {0};
    for (int t = 1; t <= 50; t++) {
        float gf[4];
        for (int i = 0; i < 4; i++)
            gf[i] = (float)(sin(t * (i + 1)) * (i + 1));
        gw_adam_update(wf, mf, vf, gf, 4, 1e-2f, 0.8f, 0.99f, 1e-8f, 0.1f, 1, (uint64_t)t);
        for (int i = 0; i < 4; i++) {
            double gi = gf[i];
            wd_[i] *= 1.0 - 1e-2 * 0.1;
            md[i] = 0.8 * md[i] + 0.2 * gi;
            vd[i] = 0.99 * vd[i] + 0.01 * gi * gi;
            double mh = md[i] / (1 - pow(0.8, t)), vh = vd[i] / (1 - pow(0.99, t));
            wd_[i] -= 1e-2 * mh / (sqrt(vh) + 1e-8);
        }
    }
    for (int i = 0; i < 4; i++)
        assert_true(fabs(wf[i] - wd_[i]) < 1e-5);
}

static void test_decay_flags_and_state(void **state) {
    gw_error err = {0};
    gw_params *p = gw_params_create();
    assert_int_equal(gw_params_add(p, "w", 1, (int[]){4}, 0, NULL, &err), GW_OK);
    assert_int_equal(gw_params_add(p, "b", 1, (int[]){4}, GW_PARAM_NO_DECAY, NULL, &err), GW_OK);
    assert_int_equal(gw_params_add(p, "s", 1, (int[]){4}, GW_PARAM_STATE, NULL, &err), GW_OK);
    assert_int_equal(gw_params_alloc(p, &err), GW_OK);
    for (int k = 0; k < 3; k++)
        gw_params_init_const(p->items[k].data, 4, 1.0f);
    /* zero gradients everywhere except a huge one on the state tensor: only
     * decoupled decay moves anything, and only "w" */
    gw_params_init_const(p->items[2].grad, 4, 1e6f);
    gw_adam_config cfg = gw_adam_defaults();
    cfg.weight_decay = 0.5f;
    gw_adam *opt;
    assert_int_equal(gw_adam_create(&opt, p, &cfg, &err), GW_OK);
    assert_int_equal(gw_adam_step(opt, 0.1f, &err), GW_OK);
    assert_true(fabsf(p->items[0].data[0] - 0.95f) < 1e-6f);
    assert_true(p->items[1].data[0] == 1.0f);
    assert_true(p->items[2].data[0] == 1.0f);
    assert_true(gw_optim_grad_norm(p) == 0.0f); /* state grads do not count */
    gw_adam_free(opt);
    gw_params_free(p);
}

static void test_clipping(void **state) {
    gw_params *p = make_group(10, 0);
    for (size_t i = 0; i < 10; i++)
        p->items[0].grad[i] = (float)i - 4.0f;
    gw_params_init_const(p->items[1].grad, 3, 2.0f);
    double want = 0;
    for (int i = 0; i < 10; i++)
        want += (i - 4.0) * (i - 4.0);
    want = sqrt(want + 12.0);
    float g0[10];
    memcpy(g0, p->items[0].grad, sizeof g0);
    /* below the threshold nothing changes */
    float n = gw_optim_clip_grad_norm(p, 100.0f);
    assert_true(fabs(n - want) < 1e-4);
    assert_memory_equal(g0, p->items[0].grad, sizeof g0);
    n = gw_optim_clip_grad_norm(p, 1.5f);
    assert_true(fabs(n - want) < 1e-4);
    assert_true(fabsf(gw_optim_grad_norm(p) - 1.5f) < 1e-5f);
    /* direction kept */
    for (int i = 0; i < 10; i++)
        assert_true(fabsf(p->items[0].grad[i] - g0[i] * (float)(1.5 / want)) < 1e-6f);
    gw_params_free(p);
}

static void test_nonfinite_gradient_changes_nothing(void **state) {
    gw_error err = {0};
    gw_params *p = make_group(5, 0);
    gw_params_init_const(p->items[0].data, 5, 1.0f);
    gw_adam_config cfg = gw_adam_defaults();
    cfg.clip_norm = 1.0f;
    gw_adam *opt;
    assert_int_equal(gw_adam_create(&opt, p, &cfg, &err), GW_OK);
    gw_params_init_const(p->items[0].grad, 5, 0.5f);
    assert_int_equal(gw_adam_step(opt, 1e-3f, &err), GW_OK);
    float w[5], m[5];
    memcpy(w, p->items[0].data, sizeof w);
    memcpy(m, opt->m, sizeof m);
    p->items[1].grad[2] = NAN;
    assert_int_equal(gw_adam_step(opt, 1e-3f, &err), GW_ERR_NUMERIC);
    assert_non_null(strstr(err.msg, "non-finite gradient in b at step 2"));
    assert_memory_equal(w, p->items[0].data, sizeof w);
    assert_memory_equal(m, opt->m, sizeof m);
    assert_int_equal(opt->step, 1);
    assert_true(isnan(opt->last_grad_norm));
    gw_adam_free(opt);
    gw_adam_config bad = gw_adam_defaults();
    bad.beta2 = 1.0f;
    assert_int_equal(gw_adam_create(&opt, p, &bad, &err), GW_ERR_ARG);
    assert_null(opt);
    gw_params_free(p);
}

static void test_ema_tracks_mean(void **state) {
    gw_error err = {0};
    gw_params *p = make_group(8, GW_PARAM_STATE);
    gw_ema *e;
    assert_int_equal(gw_ema_create(&e, p, 0.99f, 1, &err), GW_OK);
    /* warm-up: d_0 = 1/10, then rising to the cap */
    assert_true(fabsf(gw_ema_current_decay(e) - 0.1f) < 1e-7f);
    gw_rng rng;
    gw_rng_seed(&rng, 4);
    /* a stationary parameter: mean 3, noise std 1 */
    for (int t = 0; t < 3000; t++) {
        gw_params_init_normal(p->items[0].data, 8, 3.0f, 1.0f, &rng);
        gw_params_init_const(p->items[1].data, 3, (float)t);
        gw_ema_update(e);
    }
    assert_true(gw_ema_current_decay(e) == 0.99f);
    /* noise of the average: std / sqrt((1 + d) / (1 - d)) ~ 0.07 */
    for (int i = 0; i < 8; i++)
        assert_true(fabsf(e->shadow[p->items[0].offset + i] - 3.0f) < 0.35f);
    /* state tensors are copied, not averaged */
    assert_true(e->shadow[p->items[1].offset] == 2999.0f);
    float live = p->items[0].data[0], avg = e->shadow[0];
    gw_ema_swap(e);
    assert_true(p->items[0].data[0] == avg && e->shadow[0] == live);
    gw_ema_swap(e);
    assert_true(p->items[0].data[0] == live);
    gw_ema_free(e);
    /* without warm-up the decay is constant from the start */
    assert_int_equal(gw_ema_create(&e, p, 0.5f, 0, &err), GW_OK);
    assert_true(gw_ema_current_decay(e) == 0.5f);
    gw_ema_free(e);
    assert_int_equal(gw_ema_create(&e, p, 1.0f, 0, &err), GW_ERR_ARG);
    gw_params_free(p);
}

/* optimiser and EMA state survive a file round trip exactly: a resumed run
 * continues with the same moments, step count and shadow */
static void test_save_load_state(void **state) {
    gw_error err = {0};
    char dir[4096], path[4200];
    gw_test_tmpdir(dir, sizeof dir, "optim");
    snprintf(path, sizeof path, "%s/ck.gwm", dir);
    gw_params *p = make_group(6, 0), *q = make_group(6, 0);
    gw_adam *a, *b;
    gw_ema *ea, *eb;
    assert_int_equal(gw_adam_create(&a, p, NULL, &err), GW_OK);
    assert_int_equal(gw_adam_create(&b, q, NULL, &err), GW_OK);
    assert_int_equal(gw_ema_create(&ea, p, 0.9f, 1, &err), GW_OK);
    assert_int_equal(gw_ema_create(&eb, q, 0.9f, 1, &err), GW_OK);
    gw_rng rng;
    gw_rng_seed(&rng, 8);
    for (int t = 0; t < 5; t++) {
        gw_params_zero_grad(p);
        for (size_t k = 0; k < 2; k++)
            gw_params_init_normal(p->items[k].grad, p->items[k].numel, 0, 1, &rng);
        assert_int_equal(gw_adam_step(a, 1e-2f, &err), GW_OK);
        gw_ema_update(ea);
    }
    gw_gwm_writer *w;
    assert_int_equal(gw_gwm_writer_create(&w, &err), GW_OK);
    assert_int_equal(gw_gwm_writer_add_params(w, p, "", &err), GW_OK);
    assert_int_equal(gw_adam_save(a, w, "g.", &err), GW_OK);
    assert_int_equal(gw_ema_save(ea, w, "g.", &err), GW_OK);
    assert_int_equal(gw_gwm_writer_commit(w, path, &err), GW_OK);
    gw_gwm_writer_free(w);
    gw_gwm *f;
    assert_int_equal(gw_gwm_open(&f, path, &err), GW_OK);
    assert_int_equal(gw_adam_load(b, f, "d.", &err), GW_ERR_FORMAT);
    assert_non_null(strstr(err.msg, "d.adam.step missing"));
    assert_int_equal(gw_gwm_load_params(f, q, "", &err), GW_OK);
    assert_int_equal(gw_adam_load(b, f, "g.", &err), GW_OK);
    assert_int_equal(gw_ema_load(eb, f, "g.", &err), GW_OK);
    gw_gwm_free(f);
    assert_int_equal(b->step, 5);
    assert_int_equal(eb->updates, 5);
    assert_memory_equal(a->m, b->m, p->total * sizeof(float));
    assert_memory_equal(a->v, b->v, p->total * sizeof(float));
    assert_memory_equal(ea->shadow, eb->shadow, p->total * sizeof(float));
    /* one more identical step on both gives identical weights */
    for (size_t k = 0; k < 2; k++) {
        gw_params_init_const(p->items[k].grad, p->items[k].numel, 0.3f);
        gw_params_init_const(q->items[k].grad, q->items[k].numel, 0.3f);
    }
    assert_int_equal(gw_adam_step(a, 1e-2f, &err), GW_OK);
    assert_int_equal(gw_adam_step(b, 1e-2f, &err), GW_OK);
    assert_memory_equal(p->data, q->data, p->total * sizeof(float));
    gw_adam_free(a);
    gw_adam_free(b);
    gw_ema_free(ea);
    gw_ema_free(eb);
    gw_params_free(p);
    gw_params_free(q);
    unlink(path);
    rmdir(dir);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_adam_converges_on_quadratic),
        cmocka_unit_test(test_adam_first_step_and_reference),
        cmocka_unit_test(test_decay_flags_and_state),
        cmocka_unit_test(test_clipping),
        cmocka_unit_test(test_nonfinite_gradient_changes_nothing),
        cmocka_unit_test(test_ema_tracks_mean),
        cmocka_unit_test(test_save_load_state),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
