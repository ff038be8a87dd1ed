/* yin.c - fundamental frequency by YIN (de Cheveigne and Kawahara 2002,
 * "YIN, a fundamental frequency estimator for speech and music", JASA 111).
 *
 * Per frame (steps of section II of the paper):
 *  2. difference function d(tau) = sum_{j<W} (x_j - x_{j+tau})^2  (eq. 6)
 *  3. cumulative mean normalised difference
 *     d'(0) = 1, d'(tau) = d(tau) / ((1/tau) sum_{j=1..tau} d(j))  (eq. 8)
 *  4. absolute threshold: the first dip of d' whose bottom is below 0.1;
 *     no such dip = unvoiced frame
 *  5. parabolic interpolation around that bottom, on the raw d rather than
 *     d' to avoid the bias d's normalisation introduces (paper, II.E).
 * The integration window W is the longest period searched (sr / fmin).
 *
 * Parabolic interpolation alone is biased when d is far from a parabola over
 * three lags: for a harmonic tone at 2 kHz sampled at 16 kHz (period 8
 * samples, partials up to 6 kHz) the error reaches ~13 cents. So the
 * parabola's vertex only seeds a refinement: we minimise a band-limited
 * interpolation of d around the dip (golden-section search). The cross term
 * -2 sum x_j x_{j+tau} of d is band-limited in tau like x itself and the
 * energy terms vary slowly, so a normalised Blackman-windowed sinc over
 * +-YIN_SINC lags reconstructs d between integer lags (this is the "best
 * local estimate" idea of section II.F applied to sub-sample lag).
 *
 * The threshold is applied to the bottom of each dip at its sub-sample lag,
 * not to d' at the integer lag nearest it: when the period is not a whole
 * number of samples, d'(round(P)) is raised by the fractional misalignment
 * of every partial (a strong 3rd partial at 8 kHz, period 20.4 samples: d'
 * is 0.23 at lag 20 and 0.07 at lag 41), and the first integer lag below
 * 0.1 is then a multiple of the period that happens to fall nearer a whole
 * number of samples: an octave error. So every integer local minimum of d'
 * below yin_gate is refined first (the same interpolation as the final
 * estimate) and its bottom compared with the threshold.
 *
 * The buffer's f0 is the median of the voiced frames' estimates.
 */
#include "dsp/gw_dsp.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { YIN_MAX_FRAMES = 32, YIN_SINC = 48 };
static const double yin_threshold = 0.1;
/* integer-lag local minima of d' above this are not refined: half a sample
 * of misalignment cannot take a dip from here below the threshold unless
 * the partials above sr/4 carry most of the energy */
static const double yin_gate = 0.5;

float gw_midi_to_hz(float note) {
    return 440.0f * exp2f((note - 69.0f) / 12.0f);
}

float gw_hz_to_midi(float hz) {
    return 69.0f + 12.0f * log2f(hz / 440.0f);
}

float gw_cents(float hz, float ref_hz) {
    return 1200.0f * log2f(hz / ref_hz);
}

/* d at fractional lag tau (integer samples d[0..n_d)) by normalised
 * Blackman-windowed sinc interpolation; d is even in tau for a stationary
 * signal, so lags below 0 mirror. The long kernel matters: the dip sits on a
 * large smooth d, and a +-16-lag Hann kernel's ripple moved sine estimates by
 * up to 1.4 cents, +-48 Blackman keeps every test case under 0.06 cents. */
static double d_interp(const double *d, int n_d, double tau) {
    int c = (int)floor(tau);
    double num = 0, den = 0;
    for (int j = c - YIN_SINC + 1; j <= c + YIN_SINC; j++) {
        if (j >= n_d) continue;
        double u = tau - j;
        double sinc = fabs(u) < 1e-12 ? 1.0 : sin(M_PI * u) / (M_PI * u);
        double a = M_PI * u / (YIN_SINC + 1);
        double win = 0.42 + 0.5 * cos(a) + 0.08 * cos(2 * a);
        num += sinc * win * d[j < 0 ? -j : j];
        den += sinc * win;
    }
    return num / den;
}

/* the bottom of the dip of d near integer lag tau: its sub-sample lag, and
 * d there in *d_min. The parabola's vertex seeds a golden-section search of
 * the band-limited interpolation of d on [p - 0.5, p + 0.5]. */
static double refine_dip(const double *d, int n_d, int tau, double *d_min) {
    double a = d[tau - 1], b = d[tau], c = d[tau + 1];
    double den = a - 2 * b + c;
    double p = tau + (den > 0 ? 0.5 * (a - c) / den : 0.0);
    if (p < tau - 1 || p > tau + 1) p = tau;
    const double g = 0.5 * (sqrt(5.0) - 1.0);
    double lo = p - 0.5, hi = p + 0.5;
    double x1 = hi - g * (hi - lo), x2 = lo + g * (hi - lo);
    double f1 = d_interp(d, n_d, x1), f2 = d_interp(d, n_d, x2);
    for (int it = 0; it < 40 && hi - lo > 1e-6; it++) {
        if (f1 < f2) {
            hi = x2, x2 = x1, f2 = f1;
            x1 = hi - g * (hi - lo);
            f1 = d_interp(d, n_d, x1);
        } else {
            lo = x1, x1 = x2, f1 = f2;
            x2 = lo + g * (hi - lo);
            f2 = d_interp(d, n_d, x2);
        }
    }
    *d_min = f1 < f2 ? f1 : f2;
    return 0.5 * (lo + hi);
}

/* period in samples of the frame starting at x, or 0 if unvoiced;
 * d has room for tau_hi + 1 values */
static double frame_period(const float *x, int w, int tau_min, int tau_max, int tau_hi, double *d) {
    d[0] = 0;
    for (int tau = 1; tau <= tau_hi; tau++) {
        double s = 0;
        for (int j = 0; j < w; j++) {
            double e = (double)x[j] - x[j + tau];
            s += e * e;
        }
        d[tau] = s;
    }
    /* d'(tau) for tau = 0 .. tau_max + 1 (one past, to see a dip at tau_max) */
    double run = 0, dp_prev = 1.0, dp = 1.0;
    for (int tau = 1; tau <= tau_max + 1; tau++) {
        run += d[tau];
        double dp_next = run > 0 ? d[tau] * tau / run : 1.0;
        int t = tau - 1; /* is t the bottom of a dip? (needs d'(t + 1)) */
        if (t >= tau_min && dp < yin_gate && dp <= dp_prev && dp < dp_next) {
            double mean = (run - d[tau]) / t; /* (1/t) sum_{j<=t} d(j) */
            double d_min, p = refine_dip(d, tau_hi + 1, t, &d_min);
            if (mean > 0 && d_min / mean < yin_threshold) return p;
        }
        dp_prev = dp, dp = dp_next;
    }
    return 0;
}

static int cmp_float(const void *a, const void *b) {
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

float gw_yin_f0(const float *x, size_t n, int sample_rate, float fmin, float fmax) {
    if (!x || sample_rate <= 0 || !(fmin > 0) || !(fmax > fmin)) return 0.0f;
    int tau_min = (int)floor(sample_rate / (double)fmax);
    int tau_max = (int)ceil(sample_rate / (double)fmin);
    if (tau_min < 2) tau_min = 2;
    int w = tau_max;
    int tau_hi = tau_max + YIN_SINC + 1;
    size_t need = (size_t)w + (size_t)tau_hi + 1;
    if (tau_max <= tau_min || n < need) return 0.0f;
    double *d = malloc(sizeof(double) * (size_t)(tau_hi + 1));
    if (!d) return 0.0f;
    size_t span = n - need;
    size_t hop = (size_t)w / 2 + 1;
    if (span / hop + 1 > YIN_MAX_FRAMES) hop = span / (YIN_MAX_FRAMES - 1) + 1;
    float f0s[YIN_MAX_FRAMES];
    int voiced = 0;
    for (size_t start = 0; start <= span && voiced < YIN_MAX_FRAMES; start += hop) {
        double p = frame_period(x + start, w, tau_min, tau_max, tau_hi, d);
        if (p > 0) f0s[voiced++] = (float)(sample_rate / p);
    }
    free(d);
    if (!voiced) return 0.0f;
    qsort(f0s, (size_t)voiced, sizeof(float), cmp_float);
    return voiced % 2 ? f0s[voiced / 2] : 0.5f * (f0s[voiced / 2 - 1] + f0s[voiced / 2]);
}
