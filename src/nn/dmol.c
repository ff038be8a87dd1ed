/* dmol.c - the discretised mixture of logistics, PixelCNN++'s output
 * distribution (Salimans et al. 2017, sec. 2.1) as Parallel WaveNet uses it
 * for 16-bit audio (van den Oord et al. 2018, sec. 2.1): M logistics on the
 * real line, each integrated over the quantisation bin of the value, the two
 * edge bins taking the tails so the bins of a component sum to one.
 *
 * Everything inside runs in double: a 16-bit bin holds ~1e-5 of a logistic's
 * mass, about what float resolves in a CDF near 1. Single-threaded and
 * allocation-free (M <= GW_DMOL_MAX_M keeps the per-component scratch on the
 * stack), so the real-time engine can call the sampler. The math is in
 * nn/layers.h above the declarations. */
#include "nn/layers.h"

#include <math.h>

/* PixelCNN++'s threshold: below this bin mass the CDF difference is replaced
 * by the midpoint rule, density at the bin centre times the bin width. In the
 * far tail the difference underflows to 0 and ln 0 would give no gradient at
 * all; the midpoint value stays finite and still pulls the mean toward the
 * target. Its relative error is O((bin width / s)^2), negligible at 16 bits. */
#define DMOL_MIN_DELTA 1e-5

static double softplus(double x) {
    return (x > 0 ? x : 0) + log1p(exp(-fabs(x)));
}

/* exp only of non-positive arguments, so neither branch overflows */
static double sigmoid(double x) {
    if (x >= 0) return 1 / (1 + exp(-x));
    double e = exp(x);
    return e / (1 + e);
}

/* the bin of x (rounded to the nearest centre c_i = -1 + 2 i / (levels - 1);
 * values beyond [-1, 1] fall in the edge bins, which extend to infinity) */
static int bin_of(double x, int levels) {
    double q = floor((x + 1) * 0.5 * (levels - 1) + 0.5);
    if (!(q > 0)) return 0; /* also NaN: callers check x first */
    if (q > levels - 1) return levels - 1;
    return (int)q;
}

static double centre_of(int i, int levels) {
    return -1 + 2.0 * i / (levels - 1);
}

/* ln P(bin) of one logistic with log scale ls, c = centre - mu, h the bin's
 * half-width; *gmu, *gls get d ln P / d mu and d ln P / d ls of the branch
 * taken. The standardised edges plus = (c + h) / s, minus = (c - h) / s and
 * mid = c / s all have d/dmu = -1/s and d/dls = -(themselves). */
static double comp_log_prob(double c, double ls, double h, int first, int last, double *gmu,
                            double *gls) {
    double inv_s = exp(-ls);
    double plus = inv_s * (c + h), minus = inv_s * (c - h);
    if (first) { /* ln sigmoid(plus) = plus - softplus(plus), written without the subtraction */
        double g = sigmoid(-plus);
        *gmu = -inv_s * g;
        *gls = -plus * g;
        return -softplus(-plus);
    }
    if (last) { /* ln(1 - sigmoid(minus)) */
        double g = sigmoid(minus);
        *gmu = inv_s * g;
        *gls = minus * g;
        return -softplus(minus);
    }
    /* right of the mean both CDFs are near 1: subtract their complements,
     * which keep their digits, instead */
    double delta = minus > 0 ? sigmoid(-minus) - sigmoid(-plus) : sigmoid(plus) - sigmoid(minus);
    if (delta > DMOL_MIN_DELTA) {
        double dp = sigmoid(plus) * sigmoid(-plus), dm = sigmoid(minus) * sigmoid(-minus);
        *gmu = -inv_s * (dp - dm) / delta;
        *gls = -(plus * dp - minus * dm) / delta;
        return log(delta);
    }
    /* ln of the logistic density at the centre, mid - ls - 2 softplus(mid),
     * plus ln(2h); d/dmid of mid - 2 softplus(mid) is 1 - 2 sigmoid(mid) */
    double mid = inv_s * c, t = -tanh(0.5 * mid);
    *gmu = -inv_s * t;
    *gls = -mid * t - 1;
    return mid - ls - 2 * softplus(mid) + log(2 * h);
}

/* ln P(bin idx) of one parameter row; when d is given, adds -scale times its
 * gradient (the gradient of scale * -ln P) into d. Mixing is
 * ln P = logsumexp_k(logit_k + ln P_k) - logsumexp_k(logit_k), so
 *   d/dlogit_k = r_k - pi_k,  d/d(mu_k, ls_k) = r_k d ln P_k / d(mu_k, ls_k)
 * with pi the softmax of the logits and r_k = pi_k P_k / P the posterior
 * responsibility of component k for the value. */
static double row_log_prob(const float *p, int M, int levels, float log_scale_min, int idx,
                           float *d, double scale) {
    const float *logit = p, *mu = p + M, *log_s = p + 2 * M;
    double a[GW_DMOL_MAX_M], gmu[GW_DMOL_MAX_M], gls[GW_DMOL_MAX_M];
    double h = 1.0 / (levels - 1), x = centre_of(idx, levels);
    double amax = -INFINITY, lmax = -INFINITY;
    for (int k = 0; k < M; k++) {
        /* the clamp keeps a confident model's likelihood finite; where it
         * binds the scale is a constant and log_s gets no gradient (a NaN
         * log_s fails the comparison and passes through to the loss) */
        int clamped = log_s[k] < log_scale_min;
        double ls = clamped ? log_scale_min : log_s[k];
        a[k] = logit[k] +
               comp_log_prob(x - mu[k], ls, h, idx == 0, idx == levels - 1, &gmu[k], &gls[k]);
        if (clamped) gls[k] = 0;
        if (a[k] > amax) amax = a[k];
        if (logit[k] > lmax) lmax = logit[k];
    }
    double sa = 0, sl = 0;
    for (int k = 0; k < M; k++) {
        sa += exp(a[k] - amax);
        sl += exp(logit[k] - lmax);
    }
    double lse_a = amax + log(sa), lse_l = lmax + log(sl);
    if (d)
        for (int k = 0; k < M; k++) {
            double r = exp(a[k] - lse_a), pi = exp(logit[k] - lse_l);
            d[k] += (float)(scale * (pi - r));
            d[M + k] -= (float)(scale * r * gmu[k]);
            d[2 * M + k] -= (float)(scale * r * gls[k]);
        }
    return lse_a - lse_l;
}

gw_status gw_loss_dmol(float *loss, float *dparams, const float *params, const float *targets,
                       int N, int M, int levels, float log_scale_min, const char *what,
                       gw_error *err) {
    *loss = 0.0f;
    if (N <= 0) return gw_fail(err, GW_ERR_ARG, "%s: empty batch", what);
    if (M < 1 || M > GW_DMOL_MAX_M)
        return gw_fail(err, GW_ERR_ARG, "%s: %d mixture components (need 1..%d)", what, M,
                       GW_DMOL_MAX_M);
    if (levels < 2) return gw_fail(err, GW_ERR_ARG, "%s: %d levels (need >= 2)", what, levels);
    for (int n = 0; n < N; n++)
        if (!(targets[n] >= -1.0f && targets[n] <= 1.0f))
            return gw_fail(err, GW_ERR_ARG, "%s: target %g at position %d is outside [-1, 1]", what,
                           (double)targets[n], n);
    double sum = 0.0, scale = 1.0 / N;
    size_t row = (size_t)3 * M;
    for (int n = 0; n < N; n++)
        sum -= row_log_prob(params + n * row, M, levels, log_scale_min, bin_of(targets[n], levels),
                            dparams ? dparams + n * row : NULL, scale);
    *loss = (float)(sum / N);
    if (!isfinite(*loss))
        return gw_fail(err, GW_ERR_NUMERIC, "%s: loss is not finite (%g)", what, (double)*loss);
    return GW_OK;
}

double gw_dmol_log_prob(const float *params, int M, int levels, float log_scale_min, float x) {
    if (M < 1 || M > GW_DMOL_MAX_M || levels < 2 || isnan(x)) return NAN;
    return row_log_prob(params, M, levels, log_scale_min, bin_of(x, levels), NULL, 0);
}

/* Inverse-CDF sampling with one uniform: u * sum(w) falls in component k's
 * stretch [C_{k-1}, C_k) of the cumulative weights with probability pi_k,
 * and given k its position v there is again uniform on [0, 1), so it serves
 * as the logistic's own uniform: x = mu + s ln(v / (1 - v)). Rounding the
 * continuous draw to its bin gives bin i exactly the mass the loss assigns
 * (edge bins included: bin_of clamps to them). The engine draws one value
 * per band per step, so saving the second uniform matters there; the price
 * is that v has fewer bits for a rare component (24 - log2(1/pi_k) of u's
 * 24). */
float gw_dmol_sample(const float *params, int M, float log_scale_min, int levels, float temperature,
                     float u) {
    const float *logit = params, *mu = params + M, *log_s = params + 2 * M;
    double x;
    if (!(temperature > 0)) {
        int k = 0;
        for (int j = 1; j < M; j++)
            if (logit[j] > logit[k]) k = j;
        x = mu[k];
    } else {
        double lmax = logit[0], tot = 0;
        for (int j = 1; j < M; j++)
            if (logit[j] > lmax) lmax = logit[j];
        for (int j = 0; j < M; j++)
            tot += exp(logit[j] - lmax);
        double uu = u >= 0 ? u : 0;
        if (uu >= 1) uu = 0x1.fffffep-1; /* the largest float below 1 */
        /* target < tot, and cum below retraces tot's sums exactly, so some
         * k with w > 0 is found unless a parameter is NaN */
        double target = uu * tot, cum = 0, w = 0;
        int k = 0;
        for (; k < M; k++) {
            w = exp(logit[k] - lmax);
            if (target < cum + w) break;
            cum += w;
        }
        if (k == M) {
            x = NAN;
        } else {
            double v = (target - cum) / w;
            double ls = log_s[k] < log_scale_min ? log_scale_min : log_s[k];
            x = mu[k] + exp(ls) * temperature * (log(v) - log1p(-v));
        }
    }
    /* a NaN parameter (or infinite logits) gives the bin nearest 0: silence,
     * not a full-scale click */
    if (isnan(x)) x = 0;
    return (float)centre_of(bin_of(x, levels), levels);
}
