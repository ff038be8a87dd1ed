/* gw_test.h - helpers shared by genwave's cmocka tests (header-only).
 *
 * Gradient checks: for a kernel with forward f, pick a fixed random upstream
 * gradient g of f's output and define the scalar L(x) = sum(f(x) .* g). The
 * backward called with dout = g must give dL/dx, which gw_test_gradcheck
 * compares with central differences (L(x+eps) - L(x-eps)) / 2 eps, element by
 * element, in double precision on the loss side.
 */
#ifndef GW_TEST_H
#define GW_TEST_H

#include "base/gw_base.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* the loss L(x) = sum(forward(x) .* g), recomputed from scratch each call */
typedef double (*gw_test_loss_fn)(void *ctx);

/* Checks analytic[i] against central differences of loss() wrt x[i] for
 * every i < n (or a strided sample of at most max_checks elements when n is
 * large). Returns the worst error, measured as
 * |a - fd| / max(1, |a| + |fd|) ... scaled so tolerances read like relative
 * errors for large gradients and absolute ones for small. Prints the worst
 * element so a failure names the place. */
static inline double gw_test_gradcheck(const char *what, float *x, const float *analytic, size_t n,
                                       gw_test_loss_fn loss, void *ctx, float eps,
                                       size_t max_checks) {
    double worst = 0;
    size_t worst_i = 0;
    double worst_a = 0, worst_fd = 0;
    size_t step = (max_checks && n > max_checks) ? n / max_checks : 1;
    for (size_t i = 0; i < n; i += step) {
        float keep = x[i];
        x[i] = keep + eps;
        double lp = loss(ctx);
        x[i] = keep - eps;
        double lm = loss(ctx);
        x[i] = keep;
        double fd = (lp - lm) / (2.0 * (double)eps);
        double a = analytic[i];
        double e = fabs(a - fd) / fmax(1.0, fabs(a) + fabs(fd));
        if (e > worst) worst = e, worst_i = i, worst_a = a, worst_fd = fd;
    }
    if (worst > 1e-3)
        fprintf(stderr, "gradcheck %s: worst at [%zu]: analytic %.6g vs numeric %.6g (err %.3g)\n",
                what, worst_i, worst_a, worst_fd, worst);
    return worst;
}

/* sum(a .* b) in double */
static inline double gw_test_dot(const float *a, const float *b, size_t n) {
    double s = 0;
    for (size_t i = 0; i < n; i++) s += (double)a[i] * b[i];
    return s;
}

/* x rounded in place as the bf16 products round their operands: the
 * reference side of their tests (base/bf16.c) */
static inline void gw_test_round_bf16(float *x, size_t n) {
    for (size_t i = 0; i < n; i++)
        x[i] = gw_bf16_to_f32(gw_f32_to_bf16(x[i]));
}

static inline float gw_test_max_abs_diff(const float *a, const float *b, size_t n) {
    float m = 0;
    for (size_t i = 0; i < n; i++) {
        float d = fabsf(a[i] - b[i]);
        if (!(d <= m)) m = d; /* NaN propagates as a failure */
    }
    return m;
}

/* a scratch directory for files a test writes: $GW_TEST_TMP/<name>.XXXXXX,
 * created fresh; the caller removes what it made */
static inline void gw_test_tmpdir(char *out, size_t cap, const char *name) {
    const char *base = getenv("GW_TEST_TMP");
    if (!base || !*base) base = "/tmp";
    snprintf(out, cap, "%s/%s.XXXXXX", base, name);
    if (!mkdtemp(out)) {
        fprintf(stderr, "cannot create temp dir %s\n", out);
        abort();
    }
}

/* the path of presets/NAME.json in the source tree ($GW_SOURCE_DIR, set by
 * ctest; "." when run by hand from the repository) */
static inline void gw_test_preset_path(char *out, size_t cap, const char *name) {
    const char *src = getenv("GW_SOURCE_DIR");
    snprintf(out, cap, "%s/presets/%s.json", src && *src ? src : ".", name);
}

#endif
