/* losses.c - training objectives. Each returns the batch loss through *loss
 * and adds its gradient into the caller's buffer; sums run in double so the
 * reported value does not drift with batch size. Targets come from data and
 * are checked before anything is written. */
#include "nn/layers.h"
#include "nn/vmath.h"

#include <math.h>

static gw_status finish(float *loss, double sum, double count, const char *what,
                        gw_error *err) {
    *loss = (float)(sum / count);
    if (!isfinite(*loss))
        return gw_fail(err, GW_ERR_NUMERIC, "%s: loss is not finite (%g)", what, (double)*loss);
    return GW_OK;
}

static gw_status check_batch(long n, const char *what, gw_error *err) {
    if (n <= 0) return gw_fail(err, GW_ERR_ARG, "%s: empty batch", what);
    return GW_OK;
}

/* log-sum-exp with the row max subtracted, so exp never overflows
 * (Bishop 2006, 4.3.4 for the softmax/cross-entropy gradient p - y) */
gw_status gw_loss_softmax_xent(float *loss,
                               float *dlogits,         // (N, V) or NULL
                               const float *logits,    // (N, V)
                               const int32_t *targets, // (N)
                               int N, int V, const char *what, gw_error *err) {
    *loss = 0.0f;
    gw_status st = check_batch(N, what, err);
    if (st) return st;
    if (V <= 0) return gw_fail(err, GW_ERR_ARG, "%s: no classes (V = %d)", what, V);
    for (int n = 0; n < N; n++)
        if (targets[n] < 0 || targets[n] >= V)
            return gw_fail(err, GW_ERR_ARG, "%s: target %ld at position %d is outside [0, %d)",
                           what, (long)targets[n], n, V);
    double sum = 0.0;
    float invN = 1.0f / (float)N;
    for (int n = 0; n < N; n++) {
        const float *x = logits + (size_t)n * V;
        float mx = gw_vmax(x, V);
        float se = gw_vexp_sum(NULL, x, mx, V);
        /* (max - x_t) first: adding log(se) to a large max would round it away */
        sum += (double)(mx - x[targets[n]]) + log((double)se);
        if (dlogits) {
            float *d = dlogits + (size_t)n * V;
            float scale = invN / se;
            for (int v = 0; v < V; v++) d[v] += gw_vexpf(x[v] - mx) * scale;
            d[targets[n]] -= invN;
        }
    }
    return finish(loss, sum, N, what, err);
}

gw_status gw_loss_bce_logits(float *loss,
                             float *dlogits,       // (n) or NULL
                             const float *logits,  // (n)
                             const float *targets, // (n)
                             size_t n, const char *what, gw_error *err) {
    *loss = 0.0f;
    gw_status st = check_batch(n > 0, what, err);
    if (st) return st;
    for (size_t i = 0; i < n; i++)
        if (!(targets[i] >= 0.0f && targets[i] <= 1.0f))
            return gw_fail(err, GW_ERR_ARG, "%s: target %g at position %zu is outside [0, 1]",
                           what, (double)targets[i], i);
    double sum = 0.0;
    float invn = 1.0f / (float)n;
    for (size_t i = 0; i < n; i++) {
        float x = logits[i], t = targets[i];
        float e = expf(-fabsf(x)); /* in (0, 1]: never overflows */
        sum += (double)(x > 0.0f ? x : 0.0f) - (double)x * t + log1p((double)e);
        if (dlogits) {
            float sig = x >= 0.0f ? 1.0f / (1.0f + e) : e / (1.0f + e);
            dlogits[i] += (sig - t) * invn;
        }
    }
    return finish(loss, sum, (double)n, what, err);
}

gw_status gw_loss_sq_error(float *loss,
                           float *dpred,        // (N, D) or NULL
                           const float *pred,   // (N, D)
                           const float *target, // (N, D)
                           int N, int D, const char *what, gw_error *err) {
    *loss = 0.0f;
    gw_status st = check_batch(N, what, err);
    if (st) return st;
    double sum = 0.0;
    float g = 2.0f / (float)N;
    size_t total = (size_t)N * (D > 0 ? D : 0);
    for (size_t i = 0; i < total; i++) {
        float r = pred[i] - target[i];
        sum += (double)r * r;
        if (dpred) dpred[i] += g * r;
    }
    return finish(loss, sum, N, what, err);
}

gw_status gw_loss_gauss_kl(float *loss,
                           float *dmu,          // (N, D) or NULL
                           float *dlogvar,      // (N, D) or NULL
                           const float *mu,     // (N, D)
                           const float *logvar, // (N, D)
                           int N, int D, const char *what, gw_error *err) {
    *loss = 0.0f;
    gw_status st = check_batch(N, what, err);
    if (st) return st;
    double sum = 0.0;
    float invN = 1.0f / (float)N;
    size_t total = (size_t)N * (D > 0 ? D : 0);
    for (size_t i = 0; i < total; i++) {
        float var = expf(logvar[i]);
        sum += -0.5 * (1.0 + logvar[i] - (double)mu[i] * mu[i] - var);
        if (dmu) dmu[i] += mu[i] * invN;
        if (dlogvar) dlogvar[i] += 0.5f * (var - 1.0f) * invN;
    }
    return finish(loss, sum, N, what, err);
}

void gw_reparam_forward(float *z,            // (n)
                        const float *mu,     // (n)
                        const float *logvar, // (n)
                        const float *eps,    // (n)
                        size_t n) {
    for (size_t i = 0; i < n; i++) z[i] = mu[i] + gw_vexpf(0.5f * logvar[i]) * eps[i];
}

void gw_reparam_backward(float *dmu,          // (n) or NULL
                         float *dlogvar,      // (n) or NULL
                         const float *dz,     // (n)
                         const float *logvar, // (n)
                         const float *eps,    // (n)
                         size_t n) {
    for (size_t i = 0; i < n; i++) {
        if (dmu) dmu[i] += dz[i];
        if (dlogvar) dlogvar[i] += dz[i] * 0.5f * gw_vexpf(0.5f * logvar[i]) * eps[i];
    }
}
