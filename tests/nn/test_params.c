#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <math.h>
#include <string.h>

#include "nn/params.h"

static void test_layout_aligned_and_lookup(void **state) {
    gw_error err = {0};
    gw_params *p = gw_params_create();
    size_t i0, i1, i2;
    assert_int_equal(gw_params_add(p, "net.l0.w", 3, (int[]){64, 32, 2}, 0, &i0, &err), GW_OK);
    assert_int_equal(gw_params_add(p, "net.l0.b", 1, (int[]){3}, GW_PARAM_NO_DECAY, &i1, &err),
                     GW_OK);
    assert_int_equal(gw_params_add(p, "net.bn.mean", 1, (int[]){5}, GW_PARAM_STATE, &i2, &err),
                     GW_OK);
    assert_int_equal(gw_params_alloc(p, &err), GW_OK);
    assert_int_equal(gw_params_count(p), 3);
    assert_int_equal(gw_params_numel(p), 64 * 32 * 2 + 3 + 5);
    assert_int_equal(gw_params_numel_trainable(p), 64 * 32 * 2 + 3);
    for (size_t i = 0; i < 3; i++) {
        gw_param *t = gw_params_at(p, i);
        assert_int_equal((uintptr_t)t->data % 64, 0);
        assert_int_equal((uintptr_t)t->grad % 64, 0);
        assert_int_equal(t->offset % 16, 0);
        /* tensors do not overlap */
        if (i) assert_true(t->offset >= p->items[i - 1].offset + p->items[i - 1].numel);
        assert_true(t->offset + t->numel <= p->total);
    }
    assert_ptr_equal(gw_params_find(p, "net.l0.b"), gw_params_at(p, i1));
    assert_null(gw_params_find(p, "net.l0.c"));
    assert_int_equal(gw_params_at(p, i1)->flags, GW_PARAM_NO_DECAY);
    assert_int_equal(gw_params_at(p, i0)->shape[3], 1);

    float *w = gw_params_get(p, "net.l0.w", 3, (int[]){64, 32, 2}, &err);
    assert_ptr_equal(w, gw_params_at(p, i0)->data);
    assert_null(gw_params_get(p, "net.l0.w", 3, (int[]){64, 2, 32}, &err));
    assert_non_null(strstr(err.msg, "net.l0.w"));
    assert_non_null(strstr(err.msg, "(64, 32, 2)"));
    assert_non_null(strstr(err.msg, "(64, 2, 32)"));

    /* zero_grad clears every gradient */
    for (size_t k = 0; k < p->total; k++)
        p->grad[k] = 1.0f;
    gw_params_zero_grad(p);
    for (size_t k = 0; k < p->total; k++)
        assert_true(p->grad[k] == 0.0f);
    gw_params_free(p);
    gw_params_free(NULL);
}

static void test_bad_declarations(void **state) {
    gw_error err = {0};
    gw_params *p = gw_params_create();
    assert_int_equal(gw_params_add(p, "a", 1, (int[]){4}, 0, NULL, &err), GW_OK);
    assert_int_equal(gw_params_add(p, "a", 1, (int[]){4}, 0, NULL, &err), GW_ERR_ARG);
    assert_non_null(strstr(err.msg, "twice"));
    assert_int_equal(gw_params_add(p, "", 1, (int[]){4}, 0, NULL, &err), GW_ERR_ARG);
    assert_int_equal(gw_params_add(p, "has space", 1, (int[]){4}, 0, NULL, &err), GW_ERR_ARG);
    assert_int_equal(gw_params_add(p, "b", 0, (int[]){4}, 0, NULL, &err), GW_ERR_ARG);
    assert_int_equal(gw_params_add(p, "b", 5, (int[]){1, 1, 1, 1, 1}, 0, NULL, &err), GW_ERR_ARG);
    assert_int_equal(gw_params_add(p, "b", 2, (int[]){4, 0}, 0, NULL, &err), GW_ERR_ARG);
    assert_non_null(strstr(err.msg, "b: dim 1 is 0"));
    assert_int_equal(gw_params_add(p, "b", 2, (int[]){4, -3}, 0, NULL, &err), GW_ERR_ARG);
    assert_int_equal(gw_params_add(p, "b", 1, (int[]){4}, 0x80, NULL, &err), GW_ERR_ARG);
    char longname[GW_PARAM_NAME_MAX + 1];
    memset(longname, 'x', sizeof longname - 1);
    longname[GW_PARAM_NAME_MAX] = 0;
    assert_int_equal(gw_params_add(p, longname, 1, (int[]){4}, 0, NULL, &err), GW_ERR_ARG);
    assert_int_equal(gw_params_alloc(p, &err), GW_OK);
    assert_int_equal(gw_params_add(p, "c", 1, (int[]){4}, 0, NULL, &err), GW_ERR_ARG);
    assert_non_null(strstr(err.msg, "after gw_params_alloc"));
    assert_int_equal(gw_params_alloc(p, &err), GW_ERR_ARG);
    gw_params_free(p);
    gw_params *empty = gw_params_create();
    assert_int_equal(gw_params_alloc(empty, &err), GW_ERR_ARG);
    gw_params_free(empty);
}

/* many tensors force the table to grow; pointers after alloc stay valid */
static void test_many_tensors(void **state) {
    gw_error err = {0};
    gw_params *p = gw_params_create();
    char name[32];
    for (int i = 0; i < 300; i++) {
        snprintf(name, sizeof name, "t%03d", i);
        assert_int_equal(gw_params_add(p, name, 2, (int[]){i % 7 + 1, i % 5 + 1}, 0, NULL, &err),
                         GW_OK);
    }
    assert_int_equal(gw_params_alloc(p, &err), GW_OK);
    for (int i = 0; i < 300; i++) {
        snprintf(name, sizeof name, "t%03d", i);
        gw_param *t = gw_params_find(p, name);
        assert_non_null(t);
        assert_int_equal(t->numel, (size_t)((i % 7 + 1) * (i % 5 + 1)));
        gw_params_init_const(t->data, t->numel, (float)i);
    }
    for (int i = 0; i < 300; i++)
        assert_true(p->items[i].data[p->items[i].numel - 1] == (float)i);
    gw_params_free(p);
}

static void moments(const float *w, size_t n, double *mean, double *var, float *lo, float *hi) {
    double s = 0, s2 = 0;
    *lo = w[0], *hi = w[0];
    for (size_t i = 0; i < n; i++) {
        s += w[i];
        s2 += (double)w[i] * w[i];
        if (w[i] < *lo) *lo = w[i];
        if (w[i] > *hi) *hi = w[i];
    }
    *mean = s / n;
    *var = s2 / n - *mean * *mean;
}

static void test_initialisers(void **state) {
    enum { N = 100000 };
    static float w[N];
    gw_rng rng;
    gw_rng_seed(&rng, 5);
    double mean, var;
    float lo, hi;
    gw_params_init_he(w, N, 50, &rng);
    moments(w, N, &mean, &var, &lo, &hi);
    assert_true(fabs(mean) < 0.01);
    assert_true(fabs(var - 2.0 / 50) < 0.002);
    gw_params_init_xavier(w, N, 30, 70, &rng);
    moments(w, N, &mean, &var, &lo, &hi);
    double a = sqrt(6.0 / 100);
    assert_true(lo >= -a && hi <= a);
    assert_true(fabs(var - a * a / 3) < 0.001); /* variance of U(-a, a) */
    gw_params_init_uniform(w, N, 2.0f, 3.0f, &rng);
    moments(w, N, &mean, &var, &lo, &hi);
    assert_true(lo >= 2.0f && hi < 3.0f && fabs(mean - 2.5) < 0.01);
    gw_params_init_normal(w, N, -1.0f, 0.5f, &rng);
    moments(w, N, &mean, &var, &lo, &hi);
    assert_true(fabs(mean + 1.0) < 0.01 && fabs(var - 0.25) < 0.01);
    /* same seed, same weights */
    static float w2[N];
    gw_rng_seed(&rng, 9);
    gw_params_init_he(w, N, 10, &rng);
    gw_rng_seed(&rng, 9);
    gw_params_init_he(w2, N, 10, &rng);
    assert_memory_equal(w, w2, sizeof w);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_layout_aligned_and_lookup),
        cmocka_unit_test(test_bad_declarations),
        cmocka_unit_test(test_many_tensors),
        cmocka_unit_test(test_initialisers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
