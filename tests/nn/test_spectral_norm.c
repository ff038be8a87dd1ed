#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/gw_base.h"
#include "gw_test.h"
#include "nn/conv2d.h"

/* Householder reflection H = I - 2 q q^T / q^T q: orthogonal, so its columns
 * give exact singular vectors for a matrix with known singular values */
static void householder(double *H, int n, gw_rng *r) {
    double q[64], qq = 0;
    for (int i = 0; i < n; i++) q[i] = gw_rng_normal(r), qq += q[i] * q[i];
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++) H[i * n + j] = (i == j) - 2 * q[i] * q[j] / qq;
}

/* W (R, C) = sum_k s_k a_k b_k^T, a_k and b_k orthonormal columns */
static void known_matrix(float *W, int R, int C, const double *s, int ns, gw_rng *r) {
    double A[64 * 64], Bm[64 * 64];
    householder(A, R, r);
    householder(Bm, C, r);
    for (int i = 0; i < R; i++)
        for (int j = 0; j < C; j++) {
            double acc = 0;
            for (int k = 0; k < ns; k++) acc += s[k] * A[i * R + k] * Bm[j * C + k];
            W[i * C + j] = (float)acc;
        }
}

static void test_sigma_converges_to_top_singular_value(void **state) {
    enum { R = 6, C = 10 };
    const double s[] = {3.0, 1.5, 1.0, 0.5, 0.25, 0.1};
    gw_rng r;
    gw_rng_seed(&r, 11);
    float W[R * C], Wsn[R * C];
    known_matrix(W, R, C, s, 6, &r);
    gw_spectral_norm *sn = NULL;
    assert_int_equal(gw_spectral_norm_create(&sn, R, C, &r, NULL), GW_OK);
    /* one iteration per call, as in training: the gap 3 / 1.5 halves the
     * error of u every step */
    for (int step = 0; step < 40; step++) gw_spectral_norm_forward(Wsn, sn, W, 1);
    assert_true(fabsf(sn->sigma - 3.0f) < 1e-4f);
    for (int i = 0; i < R * C; i++) assert_true(fabsf(Wsn[i] - W[i] / 3.0f) < 1e-5f);
    /* the normalised matrix's top singular value is 1: ||W_sn v|| = 1 */
    double nv = 0;
    for (int i = 0; i < R; i++) {
        double acc = 0;
        for (int j = 0; j < C; j++) acc += (double)Wsn[i * C + j] * sn->v[j];
        nv += acc * acc;
    }
    assert_true(fabs(sqrt(nv) - 1.0) < 1e-4);
    /* evaluation (0 iterations) keeps u, v and gives the same sigma */
    float u0 = sn->u[0];
    gw_spectral_norm_forward(Wsn, sn, W, 0);
    assert_true(sn->u[0] == u0);
    assert_true(fabsf(sn->sigma - 3.0f) < 1e-4f);
    gw_spectral_norm_free(sn);
}

typedef struct gc_ctx {
    gw_spectral_norm *sn;
    float *w, *w_sn, *g;
    int n;
} gc_ctx;

/* power_iters 0: u, v held fixed, which is what backward differentiates */
static double gc_loss(void *p) {
    gc_ctx *c = p;
    gw_spectral_norm_forward(c->w_sn, c->sn, c->w, 0);
    return gw_test_dot(c->w_sn, c->g, (size_t)c->n);
}

static void test_backward_matches_finite_differences(void **state) {
    /* a conv2d weight (C_out 4, C_in 3 x 3 x 3) viewed as 4 x 27 */
    enum { R = 4, C = 27, N = R * C };
    gw_rng r;
    gw_rng_seed(&r, 5);
    float w[N], w_sn[N], g[N], dw[N];
    gw_rng_fill_normal(&r, w, N, 0, 0.5f);
    gw_rng_fill_normal(&r, g, N, 0, 1);
    gw_spectral_norm *sn = NULL;
    assert_int_equal(gw_spectral_norm_create(&sn, R, C, &r, NULL), GW_OK);
    gw_spectral_norm_forward(w_sn, sn, w, 1);
    memset(dw, 0, sizeof dw);
    gw_spectral_norm_backward(dw, g, w_sn, sn);
    gc_ctx c = {sn, w, w_sn, g, N};
    float u_keep[R], v_keep[C];
    memcpy(u_keep, sn->u, sizeof u_keep);
    memcpy(v_keep, sn->v, sizeof v_keep);
    assert_true(gw_test_gradcheck("w", w, dw, N, gc_loss, &c, 1e-3f, 0) < 2e-3);
    /* the check itself must not have moved u, v */
    assert_memory_equal(u_keep, sn->u, sizeof u_keep);
    assert_memory_equal(v_keep, sn->v, sizeof v_keep);
    /* backward accumulates: a second call doubles dw */
    float once[N];
    memcpy(once, dw, sizeof once);
    gw_spectral_norm_forward(w_sn, sn, w, 0);
    gw_spectral_norm_backward(dw, g, w_sn, sn);
    for (int i = 0; i < N; i++) assert_true(fabsf(dw[i] - 2 * once[i]) < 1e-5f);
    gw_spectral_norm_free(sn);
}

static void test_eval_before_training_and_bad_args(void **state) {
    gw_rng r;
    gw_rng_seed(&r, 1);
    float w[6] = {2, 0, 0, 0, 1, 0}, w_sn[6];
    gw_spectral_norm *sn = NULL;
    gw_error e = {0};
    assert_int_equal(gw_spectral_norm_create(&sn, 0, 3, &r, &e), GW_ERR_ARG);
    assert_null(sn);
    assert_non_null(strstr(e.msg, "0 x 3"));
    assert_int_equal(gw_spectral_norm_create(&sn, 2, 3, &r, NULL), GW_OK);
    /* never trained: v is unknown, so one iteration is made, not 1/0 */
    gw_spectral_norm_forward(w_sn, sn, w, 0);
    assert_true(isfinite(sn->sigma) && sn->sigma > 0.5f && sn->sigma <= 2.0f + 1e-6f);
    for (int i = 0; i < 6; i++) assert_true(isfinite(w_sn[i]));
    gw_spectral_norm_free(sn);
    gw_spectral_norm_free(NULL);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sigma_converges_to_top_singular_value),
        cmocka_unit_test(test_backward_matches_finite_differences),
        cmocka_unit_test(test_eval_before_training_and_bad_args),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
