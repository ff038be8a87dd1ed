/* pqmf.c - pseudo-QMF bank: K cosine-modulated bands of one lowpass
 * prototype, near-perfect reconstruction (Nguyen 1994; the form used by
 * Multi-band MelGAN, Yang et al. 2021).
 *
 * Prototype: h[n] = w[n] sin(wc (n - N/2)) / (pi (n - N/2)), n = 0..N,
 * N = taps - 1, w a Kaiser window, then refined to a sum of such terms at
 * 11 cutoffs (refine, below). Bands (as in Yang et al.):
 *   h_k[n] = 2 h[n] cos((2k+1) pi/(2K) (n - N/2) + (-1)^k pi/4)   analysis
 *   g_k[n] = 2 h[n] cos((2k+1) pi/(2K) (n - N/2) - (-1)^k pi/4)   synthesis
 * The +-pi/4 phases make each band's aliasing cancel against its
 * neighbours'; what is left is aliasing through the stopband (the Kaiser
 * window's attenuation) and the amplitude distortion
 * |T| - 1 = |H(u)|^2 + |H(pi/K - u)|^2 - 1, u the distance from a band's
 * centre (Nguyen 1994). With the window fixed, that distortion depends on
 * wc alone, so create searches wc to minimise its peak over 0..pi/K (the
 * Kaiser window approach of Lin and Vaidyanathan 1998, who match only the
 * -3 dB point u = pi/2K); that leaves +-1.03e-3, which refine (below) then
 * takes to +-2.3e-5 by reshaping the transition band.
 *
 * Analysis u_k[f] = sum_n h_k[n] x[fK - n]; synthesis
 * y[m] = K sum_k sum_f u_k[f] g_k[m - fK] (the K undoes the 1/K that zero
 * insertion costs), so y[m] = x[m - N] up to the distortion above. The
 * streaming synthesis is the polyphase form of the same sum: output j of
 * frame f is sum_i sum_k K g_k[j + iK] u_k[f - i], a (K, M K) matrix times
 * the last M = ceil(taps / K) frames.
 */
#include "dsp/gw_dsp.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

enum {
    MAX_BANDS = 16,
    GRID = 48, /* crossover points per half of 0..pi/K */
    CUTS = 11, /* windowed sincs refine combines */
    STOP = 64, /* stopband points refine weighs, over pi/K .. 2 pi/K */
};

struct gw_pqmf {
    int K, L, M; /* bands, taps (N + 1), synthesis history in frames: ceil(L / K) */
    float *ana;  // (K, L) h_k
    float *syn;  // (K, L) K g_k
    float *poly; // (K, M K): poly[j][i K + k] = K g_k[j + i K], 0 past N
};

/* Prototype length: the transition band narrows as 1/taps and must end
 * before pi/K, so that only neighbouring bands overlap; 16 K taps make it
 * about 0.7 pi/K wide.
 * Kaiser's beta fixes the transition's shape and so the floor of the
 * distortion the cutoff search can reach: 1.03e-3 at beta 8.8 (the best
 * over 8..10 for 16 taps per band at K = 2, 4, 16; 1.19e-3 at Multi-band
 * MelGAN's 9), with a stopband near -88 dB (Kaiser 1974: beta =
 * 0.1102 (A - 8.7)) that keeps the non-adjacent aliasing out of sight. */
static int taps_for(int K) {
    return K == 1 ? 1 : 16 * K;
}
static const double BETA = 8.8;

static double bessel_i0(double x) { /* power series: fine for x < 30 */
    double sum = 1, term = 1;
    for (int k = 1; k < 200 && term > 1e-17 * sum; k++) {
        term *= (x / (2 * k)) * (x / (2 * k));
        sum += term;
    }
    return sum;
}

typedef struct design {
    int K, L;
    double *win, *h; // (L) Kaiser window, prototype
    double *cosw;    // (2 GRID + 1, L): cos(w_i (n - N/2)), w_i = i pi / (2 GRID K)
    double *basis;   // (CUTS, L) refine's windowed sincs
    double *amp;     // (2 GRID + 1 + STOP, CUTS) their amplitudes on refine's grid
} design;

static void prototype(const design *d, double wc) {
    for (int n = 0; n < d->L; n++) {
        double t = n - (d->L - 1) / 2.0;
        d->h[n] = d->win[n] * (t == 0 ? wc / M_PI : sin(wc * t) / (M_PI * t));
    }
}

/* max over 0..pi/K of | |H(w)|^2 + |H(pi/K - w)|^2 - 1 |; symmetric about
 * pi/2K, so half the grid does. H(w) = e^{-jwN/2} A(w), A real (h even about N/2). */
static double deviation(const design *d, double wc) {
    prototype(d, wc);
    double amp[2 * GRID + 1], worst = 0;
    for (int i = 0; i <= 2 * GRID; i++) {
        const double *c = d->cosw + (size_t)i * d->L;
        double a = 0;
        for (int n = 0; n < d->L; n++)
            a += d->h[n] * c[n];
        amp[i] = a;
    }
    for (int i = 0; i <= GRID; i++)
        worst = fmax(worst, fabs(amp[i] * amp[i] + amp[2 * GRID - i] * amp[2 * GRID - i] - 1));
    return worst;
}

/* the cutoff: a coarse scan (the deviation need not be unimodal far from
 * the optimum) then golden-section search inside the best cell */
static double best_cutoff(const design *d) {
    const double w0 = M_PI / (2 * d->K), step = w0 / 32;
    double best = w0, fbest = INFINITY;
    for (double wc = w0; wc <= 2 * w0; wc += step) {
        double f = deviation(d, wc);
        if (f < fbest) fbest = f, best = wc;
    }
    const double r = (sqrt(5.0) - 1) / 2;
    double a = best - step, b = best + step;
    double c = b - r * (b - a), e = a + r * (b - a), fc = deviation(d, c), fe = deviation(d, e);
    for (int it = 0; it < 40; it++) {
        if (fc < fe) {
            b = e, e = c, fe = fc;
            c = b - r * (b - a), fc = deviation(d, c);
        } else {
            a = c, c = e, fc = fe;
            e = a + r * (b - a), fe = deviation(d, e);
        }
    }
    return (a + b) / 2;
}

static double dot(const double *a, const double *b, int n) {
    double s = 0;
    for (int i = 0; i < n; i++)
        s += a[i] * b[i];
    return s;
}

/* solve M x = b for M (n, n) symmetric positive definite: Cholesky in M's
 * lower triangle, then the two triangular solves in b */
static void cholesky_solve(double *M, double *b, int n) {
    for (int j = 0; j < n; j++) {
        double *r = M + j * n;
        for (int k = 0; k < j; k++)
            r[j] -= r[k] * r[k];
        r[j] = sqrt(r[j]);
        for (int i = j + 1; i < n; i++) {
            double *q = M + i * n;
            for (int k = 0; k < j; k++)
                q[j] -= q[k] * r[k];
            q[j] /= r[j];
        }
    }
    for (int i = 0; i < n; i++) {
        for (int k = 0; k < i; k++)
            b[i] -= M[i * n + k] * b[k];
        b[i] /= M[i * n + i];
    }
    for (int i = n - 1; i >= 0; i--) {
        for (int k = i + 1; k < n; k++)
            b[i] -= M[k * n + i] * b[k];
        b[i] /= M[i * n + i];
    }
}

/* Refinement. The window fixes the shape of the transition band, and that
 * shape is not power complementary: the cutoff alone leaves 1.03e-3. So
 * the prototype becomes a combination of windowed sincs
 *   h[n] = sum_j c_j w[n] sin(w_j t) / (pi t),  w_j = wc + (j - 5) 0.09 pi/K,
 * which is the window method applied to a staircase ideal response with
 * free steps c_j at w_j; c = e_5 is the cutoff search's design, the start.
 * The amplitude is linear in c, and Gauss-Newton fits c (11 values) by
 * least squares to the residuals
 *   E(w) = A(w)^2 + A(pi/K - w)^2 - 1 at the 2 GRID + 1 points of cosw
 *     (the objective of Creusere and Mitra 1995, who minimise its peak by
 *     moving one band edge of an equiripple design), and
 *   sqrt(STOP_WEIGHT) A(w) at STOP points over pi/K .. 2 pi/K,
 * which converges in 3 steps (6 are run) to |E| <= 2.3e-5 for every K,
 * with a stopband peak of -92 dB at 1.02 pi/K (beyond 2 pi/K the sincs'
 * stopbands are the window's). Without the stopband term E ends a little
 * lower but the stopband rises to about -50 dB near 1.1 pi/K. Fitting all
 * taps / 2 coefficients instead, with a stopband energy penalty, also met
 * the targets but let the stopband rise to -68 .. -70 dB just past pi/K,
 * and needs a taps/2-square solve per step; 11 windowed sincs keep the
 * window's far stopband by construction. */
static void refine(design *d, double wc) {
    enum { J = CUTS, ROWS = 2 * GRID + 1 + STOP };
    static const double STEP = 0.09, STOP_WEIGHT = 10, DAMP = 1e-8;
    const int L = d->L;
    const double N = L - 1, wk = M_PI / d->K;
    for (int j = 0; j < J; j++) {
        prototype(d, wc + (j - J / 2) * STEP * wk);
        memcpy(d->basis + j * L, d->h, sizeof(double) * L);
    }
    for (int i = 0; i < ROWS; i++) {
        const double w = wk * (1 + (i - (2 * GRID + 1)) / (double)STOP);
        double *a = d->amp + i * J;
        for (int j = 0; j < J; j++)
            a[j] = 0;
        for (int n = 0; n < L; n++) {
            const double cs = i <= 2 * GRID ? d->cosw[(size_t)i * L + n] : cos(w * (n - N / 2));
            for (int j = 0; j < J; j++)
                a[j] += cs * d->basis[j * L + n];
        }
    }
    double c[J] = {[J / 2] = 1}, M[J * J], g[J], row[J];
    for (int it = 0; it < 6; it++) {
        memset(M, 0, sizeof(M)), memset(g, 0, sizeof(g));
        for (int j = 0; j < J; j++)
            M[j * J + j] = DAMP; /* keeps M definite should the rows miss a direction of c */
        for (int i = 0; i < GRID + 1 + STOP; i++) { /* a residual r and its gradient row */
            double r;
            if (i <= GRID) { /* the crossover pair w, pi/K - w */
                const double *p0 = d->amp + i * J, *p1 = d->amp + (2 * GRID - i) * J;
                const double a0 = dot(p0, c, J), a1 = dot(p1, c, J);
                r = a0 * a0 + a1 * a1 - 1;
                for (int j = 0; j < J; j++)
                    row[j] = 2 * (a0 * p0[j] + a1 * p1[j]);
            } else { /* a stopband point */
                const double *p = d->amp + (i + GRID) * J;
                r = sqrt(STOP_WEIGHT) * dot(p, c, J);
                for (int j = 0; j < J; j++)
                    row[j] = sqrt(STOP_WEIGHT) * p[j];
            }
            for (int j = 0; j < J; j++) {
                g[j] += r * row[j];
                for (int k = 0; k <= j; k++)
                    M[j * J + k] += row[j] * row[k];
            }
        }
        cholesky_solve(M, g, J); /* the step: (sum row row') dc = sum r row */
        for (int j = 0; j < J; j++)
            c[j] -= g[j];
    }
    for (int n = 0; n < L; n++) {
        d->h[n] = 0;
        for (int j = 0; j < J; j++)
            d->h[n] += c[j] * d->basis[j * L + n];
    }
}

gw_status gw_pqmf_create(gw_pqmf **out, int bands, gw_error *err) {
    *out = NULL;
    if (bands < 1 || bands > MAX_BANDS)
        return gw_fail(err, GW_ERR_ARG, "pqmf: bands %d out of range [1, %d]", bands, MAX_BANDS);
    const int K = bands, L = taps_for(K), M = (L + K - 1) / K;
    gw_pqmf *p = calloc(1, sizeof(*p));
    design d = {.K = K, .L = L};
    if (!p) goto nomem;
    p->K = K, p->L = L, p->M = M;
    p->ana = malloc(sizeof(float) * (size_t)K * L);
    p->syn = malloc(sizeof(float) * (size_t)K * L);
    p->poly = calloc((size_t)K * M * K, sizeof(float));
    d.win = malloc(sizeof(double) * L);
    d.h = malloc(sizeof(double) * L);
    d.cosw = malloc(sizeof(double) * (2 * GRID + 1) * L);
    d.basis = malloc(sizeof(double) * CUTS * L);
    d.amp = malloc(sizeof(double) * (2 * GRID + 1 + STOP) * CUTS);
    if (!p->ana || !p->syn || !p->poly || !d.win || !d.h || !d.cosw || !d.basis || !d.amp)
        goto nomem;
    if (K == 1) { /* the identity (the modulation below would scale it by 2) */
        p->ana[0] = p->syn[0] = 1;
    } else {
        const double N = L - 1;
        for (int n = 0; n < L; n++) {
            double u = 2 * n / N - 1;
            d.win[n] = bessel_i0(BETA * sqrt(fmax(0, 1 - u * u))) / bessel_i0(BETA);
            for (int i = 0; i <= 2 * GRID; i++)
                d.cosw[(size_t)i * L + n] = cos(i * M_PI / (2 * GRID * K) * (n - N / 2));
        }
        refine(&d, best_cutoff(&d));
        for (int k = 0; k < K; k++)
            for (int n = 0; n < L; n++) {
                double ph = (2 * k + 1) * M_PI / (2 * K) * (n - N / 2);
                double s = k & 1 ? -M_PI / 4 : M_PI / 4;
                p->ana[(size_t)k * L + n] = (float)(2 * d.h[n] * cos(ph + s));
                p->syn[(size_t)k * L + n] = (float)(K * 2 * d.h[n] * cos(ph - s));
            }
    }
    for (int j = 0; j < K; j++)
        for (int i = 0; i < M && j + i * K < L; i++)
            for (int k = 0; k < K; k++)
                p->poly[((size_t)j * M + i) * K + k] = p->syn[(size_t)k * L + j + i * K];
    free(d.win), free(d.h), free(d.cosw), free(d.basis), free(d.amp);
    *out = p;
    return GW_OK;
nomem:
    free(d.win), free(d.h), free(d.cosw), free(d.basis), free(d.amp);
    gw_pqmf_free(p);
    return gw_fail(err, GW_ERR_NOMEM, "pqmf: out of memory for %d bands", bands);
}

void gw_pqmf_free(gw_pqmf *p) {
    if (!p) return;
    free(p->ana), free(p->syn), free(p->poly);
    free(p);
}

int gw_pqmf_bands(const gw_pqmf *p) {
    return p->K;
}

int gw_pqmf_taps(const gw_pqmf *p) {
    return p->L;
}

int gw_pqmf_delay(const gw_pqmf *p) {
    return p->L - 1; /* N/2 per linear-phase stage */
}

void gw_pqmf_analysis(const gw_pqmf *p, float *bands, const float *x, size_t n) {
    const size_t K = (size_t)p->K, L = (size_t)p->L, frames = (n + K - 1) / K;
    for (size_t f = 0; f < frames; f++) {
        const size_t m = f * K, top = m + 1 < L ? m + 1 : L; /* m < n: no padding read */
        for (size_t k = 0; k < K; k++) {
            const float *h = p->ana + k * L;
            double acc = 0;
            for (size_t i = 0; i < top; i++)
                acc += (double)h[i] * x[m - i];
            bands[f * K + k] = (float)acc;
        }
    }
}

size_t gw_pqmf_state_len(const gw_pqmf *p) {
    return (size_t)p->M * p->K;
}

void gw_pqmf_synth_reset(const gw_pqmf *p, float *state) {
    memset(state, 0, sizeof(float) * gw_pqmf_state_len(p));
}

void gw_pqmf_synth_step(const gw_pqmf *p, float *state, float *out, const float *bands) {
    const size_t K = (size_t)p->K, W = gw_pqmf_state_len(p);
    memmove(state + K, state, sizeof(float) * (W - K)); /* state[i K + k] = u_k[f - i] */
    memcpy(state, bands, sizeof(float) * K);
    for (size_t j = 0; j < K; j++) {
        const float *c = p->poly + j * W;
        double acc = 0;
        for (size_t i = 0; i < W; i++)
            acc += (double)c[i] * state[i];
        out[j] = (float)acc;
    }
}

/* the direct form, y[m] = sum_k sum_f u_k[f] K g_k[m - fK]: the same sum as
 * synth_step in another arrangement, which lets the tests check one by the other */
void gw_pqmf_synthesis(const gw_pqmf *p, float *x, const float *bands, size_t frames) {
    const size_t K = (size_t)p->K, L = (size_t)p->L;
    for (size_t m = 0; m < frames * K; m++) {
        double acc = 0;
        for (size_t f = m / K + 1; f-- > 0 && m - f * K < L;)
            for (size_t k = 0; k < K; k++)
                acc += (double)bands[f * K + k] * p->syn[k * L + m - f * K];
        x[m] = (float)acc;
    }
}
