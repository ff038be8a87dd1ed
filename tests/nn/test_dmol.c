/* Tests of the discretised mixture of logistics (src/nn/dmol.c): values
 * against the closed form, normalisation over all bins, central-difference
 * gradient checks in every branch (edge bins, CDF difference, midpoint rule,
 * the log-scale clamp), a chi-square test of the single-uniform sampler, and
 * error reporting. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/gw_base.h"
#include "gw_test.h"
#include "nn/layers.h"

#define LS_MIN (-7.0f)

static double sigmoid(double x) {
    return 1 / (1 + exp(-x));
}

/* cmocka's assert_float_equal compares in float; these comparisons need double */
static int near(double a, double b, double tol) {
    if (fabs(a - b) <= tol) return 1;
    fprintf(stderr, "%.17g vs %.17g: |diff| %.3g > %.3g\n", a, b, fabs(a - b), tol);
    return 0;
}

static double centre(int i, int levels) {
    return -1 + 2.0 * i / (levels - 1);
}

/* random rows: logits in [-2, 2], means in [mu_lo, mu_hi], log scales in [ls_lo, ls_hi] */
static float *rand_params(gw_rng *r, int N, int M, float mu_lo, float mu_hi, float ls_lo,
                          float ls_hi) {
    float *p = gw_alloc((size_t)N * 3 * M * sizeof(float));
    assert_non_null(p);
    for (int n = 0; n < N; n++) {
        float *row = p + (size_t)n * 3 * M;
        gw_rng_fill_uniform(r, row, M, -2, 2);
        gw_rng_fill_uniform(r, row + M, M, mu_lo, mu_hi);
        gw_rng_fill_uniform(r, row + 2 * M, M, ls_lo, ls_hi);
    }
    return p;
}

/* the loss recomputed in double from gw_dmol_log_prob */
static double mean_nll(const float *p, const float *t, int N, int M, int levels) {
    double s = 0;
    for (int n = 0; n < N; n++)
        s -= gw_dmol_log_prob(p + (size_t)n * 3 * M, M, levels, LS_MIN, t[n]);
    return s / N;
}

static void test_known_values(void **state) {
    const int L = 16;
    const double h = 1.0 / 15;
    /* one logistic, mu 0, s 1: interior bin 8 (centre 1/15), first and last bins */
    const float p1[3] = {0, 0, 0};
    assert_true(near(gw_dmol_log_prob(p1, 1, L, LS_MIN, (float)centre(8, L)),
                     log(sigmoid(2 * h) - sigmoid(0)), 1e-12));
    assert_true(near(gw_dmol_log_prob(p1, 1, L, LS_MIN, -1.0f), log(sigmoid(-1 + h)), 1e-12));
    assert_true(near(gw_dmol_log_prob(p1, 1, L, LS_MIN, 1.0f), log(1 - sigmoid(1 - h)), 1e-12));
    /* a value is scored by its bin: anything within the half-width of a centre counts alike */
    assert_true(near(gw_dmol_log_prob(p1, 1, L, LS_MIN, (float)(centre(8, L) + 0.9 * h)),
                     gw_dmol_log_prob(p1, 1, L, LS_MIN, (float)centre(8, L)), 0));
    /* two components, weights 1/4 and 3/4 (logits 0 and ln 3), means -0.2 and 0.3, s e^-1, e^-2 */
    const float p2[6] = {0, (float)log(3.0), -0.2f, 0.3f, -1, -2};
    double x = centre(9, L), P = 0;
    for (int k = 0; k < 2; k++) {
        double s = exp(p2[4 + k]), c = x - p2[2 + k];
        P += (k ? 0.75 : 0.25) * (sigmoid((c + h) / s) - sigmoid((c - h) / s));
    }
    assert_true(near(gw_dmol_log_prob(p2, 2, L, LS_MIN, (float)x), log(P), 1e-6));
    /* the clamp: a log scale below log_scale_min scores as log_scale_min */
    const float lo[3] = {0, 0.1f, -20}, at[3] = {0, 0.1f, LS_MIN};
    assert_true(near(gw_dmol_log_prob(lo, 1, L, LS_MIN, 0.1f),
                     gw_dmol_log_prob(at, 1, L, LS_MIN, 0.1f), 0));
    /* 16 bits, 10 scales from the mean: the bin holds ~3e-8, so the midpoint
     * rule is used; it matches the exact mass (complements, both CDFs ~1) */
    const int L16 = 65536;
    const double h16 = 1.0 / (L16 - 1);
    const float p3[3] = {0, 0, -3};
    int i = 49151; /* centre ~0.5 */
    double s = exp(-3.0), c = centre(i, L16);
    double exact = log(sigmoid(-(c - h16) / s) - sigmoid(-(c + h16) / s));
    assert_true(exp(exact) < 1e-5);
    assert_true(near(gw_dmol_log_prob(p3, 1, L16, LS_MIN, (float)c), exact, 1e-6));
}

/* every bin's probability, summed: 1 (the edge bins carry the tails) */
static void test_normalised(void **state) {
    gw_rng r;
    gw_rng_seed(&r, 81);
    double worst = 0, worst16 = 0;
    for (int M = 1; M <= 4; M += 3) {
        /* means beyond the edges and scales from the floor (e^-7 < a 256-level bin) up to 1 */
        float *p = rand_params(&r, 8, M, -1.3f, 1.3f, -7.5f, 0.0f);
        for (int n = 0; n < 8; n++) {
            double s = 0;
            for (int i = 0; i < 256; i++)
                s += exp(
                    gw_dmol_log_prob(p + (size_t)n * 3 * M, M, 256, LS_MIN, (float)centre(i, 256)));
            worst = fmax(worst, fabs(s - 1));
        }
        /* 16 bits, where most bins take the midpoint rule; a couple of rows (256 K bins) */
        for (int n = 0; n < 2; n++) {
            double s = 0;
            for (int i = 0; i < 65536; i++)
                s += exp(gw_dmol_log_prob(p + (size_t)n * 3 * M, M, 65536, LS_MIN,
                                          (float)centre(i, 65536)));
            worst16 = fmax(worst16, fabs(s - 1));
        }
        gw_free(p);
    }
    printf("dmol normalisation: max |sum - 1| = %.3g (256 levels), %.3g (65536 levels)\n", worst,
           worst16);
    assert_true(worst < 1e-4);
    assert_true(worst16 < 1e-4);
}

static void test_loss_is_mean_nll(void **state) {
    gw_rng r;
    gw_rng_seed(&r, 82);
    const int N = 7, M = 4, L = 65536;
    float *p = rand_params(&r, N, M, -1, 1, -8, 0);
    float t[7] = {-1, 1, 0, 0.25f, -0.999f, 0.5f, 0.99999f};
    float l = 0;
    gw_error err = {0};
    assert_int_equal(gw_loss_dmol(&l, NULL, p, t, N, M, L, LS_MIN, "x", &err), GW_OK);
    double want = mean_nll(p, t, N, M, L);
    assert_true(near(l, want, 1e-6 * fabs(want)));
    /* the gradient accumulates, and asking for it does not change the value */
    float *d = gw_alloc((size_t)N * 3 * M * sizeof(float));
    float l2 = 0;
    assert_int_equal(gw_loss_dmol(&l2, d, p, t, N, M, L, LS_MIN, "x", &err), GW_OK);
    assert_true(l2 == l);
    float d0 = d[5];
    assert_int_equal(gw_loss_dmol(&l2, d, p, t, N, M, L, LS_MIN, "x", &err), GW_OK);
    assert_true(near(d[5], 2 * d0, 1e-6 * fabs(d0)));
    gw_free(p), gw_free(d);
}

/* central differences of the double-precision mean NLL against the analytic
 * gradient; passes an element if |a - fd| <= 1e-4 or <= 1e-2 max(|a|, |fd|) */
static double gradcheck(gw_rng *r, int M, int levels, double *worst_abs) {
    enum { N = 12 };
    /* scales e^-4 .. 1: eps = 1e-3 stays well below s, so the FD truncation error is small */
    float *p = rand_params(r, N, M, -0.9f, 0.9f, -4, 0);
    float t[N];
    for (int n = 0; n < N; n++)
        t[n] = n % 3 == 0 ? -1.0f : n % 3 == 1 ? 1.0f : gw_rng_uniform(r) * 1.8f - 0.9f;
    /* the clamp binds here (passes no gradient), and a far-tail target
     * takes the midpoint rule at any resolution */
    p[2 * M] = LS_MIN - 1.0f;
    p[3 * M + M] = 0.0f, p[3 * M + 2 * M] = -3.5f, t[1] = 1.0f;
    t[2] = 0.9f, p[2 * 3 * M + M] = -0.5f, p[2 * 3 * M + 2 * M] = -4.0f;
    size_t n = (size_t)N * 3 * M;
    float *d = gw_alloc(n * sizeof(float));
    float l;
    assert_int_equal(gw_loss_dmol(&l, d, p, t, N, M, levels, LS_MIN, "x", NULL), GW_OK);
    assert_true(d[2 * M] == 0.0f); /* clamped log scale */
    double worst = 0;
    *worst_abs = 0;
    for (size_t i = 0; i < n; i++) {
        float keep = p[i];
        p[i] = keep + 1e-3f;
        double xp = p[i], lp = mean_nll(p, t, N, M, levels);
        p[i] = keep - 1e-3f;
        double xm = p[i], lm = mean_nll(p, t, N, M, levels);
        p[i] = keep;
        double fd = (lp - lm) / (xp - xm), a = d[i], e = fabs(a - fd);
        double rel = e / fmax(fabs(a), fabs(fd));
        if (e > 1e-4 && rel > 1e-2)
            fprintf(stderr, "dmol M=%d L=%d [%zu]: analytic %.8g fd %.8g\n", M, levels, i, a, fd);
        assert_true(e <= 1e-4 || rel <= 1e-2);
        if (fmax(fabs(a), fabs(fd)) > 1e-3) worst = fmax(worst, rel);
        *worst_abs = fmax(*worst_abs, e);
    }
    gw_free(p), gw_free(d);
    return worst;
}

static void test_gradcheck(void **state) {
    gw_rng r;
    gw_rng_seed(&r, 83);
    const int Ms[2] = {1, 4}, Ls[2] = {65536, 16};
    for (int a = 0; a < 2; a++)
        for (int b = 0; b < 2; b++) {
            double wabs, w = gradcheck(&r, Ms[a], Ls[b], &wabs);
            printf("dmol gradcheck M=%d levels=%d: max rel err %.3g (where |grad| > 1e-3), max "
                   "|err| %.3g\n",
                   Ms[a], Ls[b], w, wabs);
        }
}

/* chi-square at p = 0.001 by the Wilson-Hilferty cube approximation
 * (Wilson and Hilferty 1931), within ~1% of the exact quantile for df >= 10 */
static double chi2_critical(int df) {
    double k = 2.0 / (9.0 * df), y = 1 - k + 3.0902 * sqrt(k);
    return df * y * y * y;
}

/* 100,000 draws at 64 levels against the probabilities of `expect` (the
 * same distribution as params at temperature T, its log scales shifted by ln T) */
static void chi2_run(const char *name, const float *params, const float *expect, int M, float T,
                     uint64_t seed) {
    enum { L = 64, DRAWS = 100000 };
    long count[L] = {0};
    gw_rng r;
    gw_rng_seed(&r, seed);
    for (int i = 0; i < DRAWS; i++) {
        float x = gw_dmol_sample(params, M, LS_MIN, L, T, gw_rng_uniform(&r));
        double q = (x + 1.0) * 0.5 * (L - 1);
        int b = (int)lrint(q);
        assert_true(b >= 0 && b < L);
        assert_true(near(q, b, 1e-4)); /* a bin centre */
        count[b]++;
    }
    /* adjacent bins merged until each group expects >= 5 (the remainder joins the last group) */
    double chi2 = 0, e_acc = 0, o_acc = 0, e_last = 0, o_last = 0, psum = 0;
    int groups = 0;
    for (int b = 0; b < L; b++) {
        double pb = exp(gw_dmol_log_prob(expect, M, L, LS_MIN, (float)centre(b, L)));
        psum += pb;
        e_acc += DRAWS * pb, o_acc += count[b];
        if (e_acc >= 5) {
            if (groups) chi2 += (o_last - e_last) * (o_last - e_last) / e_last;
            e_last = e_acc, o_last = o_acc, e_acc = o_acc = 0, groups++;
        }
    }
    e_last += e_acc, o_last += o_acc;
    chi2 += (o_last - e_last) * (o_last - e_last) / e_last;
    int df = groups - 1;
    double crit = chi2_critical(df);
    printf("dmol sampler %s: chi2 = %.1f, df = %d, critical (p = 0.001) = %.1f, sum p = %.6f\n",
           name, chi2, df, crit, psum);
    assert_true(df >= 20);
    assert_true(chi2 < crit);
}

static void test_sampler_chi2(void **state) {
    /* one logistic; its tails past +-1 put ~100 draws in each edge bin */
    const float p1[3] = {0, 0.1f, -2};
    chi2_run("M=1", p1, p1, 1, 1.0f, 91);
    /* three separated components with unequal weights */
    const float p3[9] = {0.3f, -0.4f, 0.8f, -0.6f, 0.05f, 0.55f, -2.5f, -1.8f, -3.0f};
    chi2_run("M=3", p3, p3, 3, 1.0f, 92);
    /* temperature 0.6 draws the distribution whose scales are 0.6 times the model's */
    float pt[9];
    memcpy(pt, p3, sizeof pt);
    for (int k = 0; k < 3; k++)
        pt[6 + k] += logf(0.6f);
    chi2_run("M=3 T=0.6", p3, pt, 3, 0.6f, 93);
    /* a draw the uniform cannot make finite (u = 0) lands in the first bin, not NaN */
    assert_true(gw_dmol_sample(p3, 3, LS_MIN, 64, 1.0f, 0.0f) == -1.0f);
    /* 16-bit draws are 16-bit bin centres */
    gw_rng r;
    gw_rng_seed(&r, 94);
    for (int i = 0; i < 1000; i++) {
        float x = gw_dmol_sample(p3, 3, LS_MIN, 65536, 1.0f, gw_rng_uniform(&r));
        double q = (x + 1.0) * 0.5 * 65535;
        assert_true(near(q, rint(q), 1e-2));
    }
}

static void test_sampler_greedy(void **state) {
    /* most probable component is the second (logit 1.5): its mean, rounded to the bin */
    const float p[9] = {0.1f, 1.5f, -0.3f, -0.5f, 0.3337f, 0.8f, -2, -2, -2};
    const int Ls[2] = {16, 65536};
    for (int j = 0; j < 2; j++) {
        int L = Ls[j];
        double want = centre((int)lrint((0.3337 + 1) * 0.5 * (L - 1)), L);
        assert_true(near(gw_dmol_sample(p, 3, LS_MIN, L, 0.0f, 0.7f), (float)want, 0));
        assert_true(near(gw_dmol_sample(p, 3, LS_MIN, L, -1.0f, 0.1f), (float)want, 0));
    }
    /* a mean past the edge gives the edge */
    const float q[6] = {2, 0, 1.7f, -0.2f, -3, -3};
    assert_true(gw_dmol_sample(q, 2, LS_MIN, 65536, 0.0f, 0.5f) == 1.0f);
    /* NaN parameters give the bin nearest 0, not a click */
    const float bad[3] = {0, NAN, -3};
    assert_true(fabsf(gw_dmol_sample(bad, 1, LS_MIN, 65536, 1.0f, 0.5f)) < 2e-5f);
}

static void test_errors(void **state) {
    const float p[6] = {0, 0.5f, 0.1f, -0.2f, -2, -2};
    float d[6] = {0}, l = 0;
    gw_error err = {0};
    const float nan_t[2] = {0.5f, NAN}, big_t[2] = {0.5f, 1.5f};
    assert_int_equal(gw_loss_dmol(&l, d, p, nan_t, 2, 1, 65536, LS_MIN, "band 3 dmol", &err),
                     GW_ERR_ARG);
    assert_non_null(strstr(err.msg, "band 3 dmol"));
    assert_non_null(strstr(err.msg, "at position 1"));
    assert_int_equal(gw_loss_dmol(&l, d, p, big_t, 2, 1, 65536, LS_MIN, "band 3 dmol", &err),
                     GW_ERR_ARG);
    assert_non_null(strstr(err.msg, "band 3 dmol: target 1.5 at position 1"));
    for (int i = 0; i < 6; i++)
        assert_true(d[i] == 0.0f); /* nothing written */
    const float ok[2] = {0.5f, -1};
    assert_int_equal(gw_loss_dmol(&l, d, p, ok, 0, 1, 65536, LS_MIN, "wn out", &err), GW_ERR_ARG);
    assert_non_null(strstr(err.msg, "wn out"));
    assert_int_equal(gw_loss_dmol(&l, d, p, ok, 1, 0, 65536, LS_MIN, "wn out", &err), GW_ERR_ARG);
    assert_int_equal(gw_loss_dmol(&l, d, p, ok, 1, 65, 65536, LS_MIN, "wn out", &err), GW_ERR_ARG);
    assert_int_equal(gw_loss_dmol(&l, d, p, ok, 1, 2, 1, LS_MIN, "wn out", &err), GW_ERR_ARG);
    assert_non_null(strstr(err.msg, "wn out"));
    for (int i = 0; i < 6; i++)
        assert_true(d[i] == 0.0f);
    /* a NaN in any of the three parameter groups is a diverged model */
    for (int g = 0; g < 3; g++) {
        float q[6];
        memcpy(q, p, sizeof q);
        q[2 * g + 1] = NAN;
        assert_int_equal(gw_loss_dmol(&l, NULL, q, ok, 1, 2, 65536, LS_MIN, "wn out", &err),
                         GW_ERR_NUMERIC);
        assert_non_null(strstr(err.msg, "wn out: loss is not finite"));
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_known_values),     cmocka_unit_test(test_normalised),
        cmocka_unit_test(test_loss_is_mean_nll), cmocka_unit_test(test_gradcheck),
        cmocka_unit_test(test_sampler_chi2),     cmocka_unit_test(test_sampler_greedy),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
