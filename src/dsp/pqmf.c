/* pqmf.c - pseudo-QMF bank: K cosine-modulated bands of one lowpass
 * prototype, near-perfect reconstruction (Nguyen 1994; the form used by
 * Multi-band MelGAN, Yang et al. 2021).
 *
 * Prototype: h[n] = w[n] sin(wc (n - N/2)) / (pi (n - N/2)), n = 0..N,
 * N = taps - 1, w a Kaiser window. Bands (as in Yang et al.):
 *   h_k[n] = 2 h[n] cos((2k+1) pi/(2K) (n - N/2) + (-1)^k pi/4)   analysis
 *   g_k[n] = 2 h[n] cos((2k+1) pi/(2K) (n - N/2) - (-1)^k pi/4)   synthesis
 * The +-pi/4 phases make each band's aliasing cancel against its
 * neighbours'; what is left is aliasing through the stopband (the Kaiser
 * window's attenuation) and the amplitude distortion
 * |T| - 1 = |H(u)|^2 + |H(pi/K - u)|^2 - 1, u the distance from a band's
 * centre (Nguyen 1994). With the window fixed, that distortion depends on
 * wc alone, so create searches wc to minimise its peak over 0..pi/K (the
 * Kaiser window approach of Lin and Vaidyanathan 1998, who match only the
 * -3 dB point u = pi/2K).
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

enum { MAX_BANDS = 16, GRID = 48 /* crossover points per half of 0..pi/K */ };

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

#ifndef REF_TUNE
enum { REF_J = 9 };
static const double REF_SPAN = 0.3, REF_MU = 1e-8, REF_LAM = 1e4, REF_SB = 1.0;
static const int REF_ITERS = 6;
#endif

/* solve M x = b in place (b becomes x), M (n, n) symmetric positive definite */
static void cholesky_solve(double *M, double *b, int n) {
    for (int j = 0; j < n; j++) {
        double *r = M + (size_t)j * n;
        for (int k = 0; k < j; k++)
            r[j] -= r[k] * r[k];
        r[j] = sqrt(r[j]);
        for (int i = j + 1; i < n; i++) {
            double *q = M + (size_t)i * n, s = q[j];
            for (int k = 0; k < j; k++)
                s -= q[k] * r[k];
            q[j] = s / r[j];
        }
    }
    for (int i = 0; i < n; i++) {
        for (int k = 0; k < i; k++)
            b[i] -= M[(size_t)i * n + k] * b[k];
        b[i] /= M[(size_t)i * n + i];
    }
    for (int i = n - 1; i >= 0; i--) {
        for (int k = i + 1; k < n; k++)
            b[i] -= M[(size_t)k * n + i] * b[k];
        b[i] /= M[(size_t)i * n + i];
    }
}

static int refine(design *d, double wc) {
    enum { J = REF_J, G = 64, GS = 64 };
    const int L = d->L, P = L / 2;
    const double N = L - 1, wk = M_PI / d->K;
    double *B = malloc(sizeof(double) * ((size_t)J * P + (size_t)(2 * (G + 1) + GS) * J));
    if (!B) return -1;
    double *amp = B + (size_t)J * P, c[J] = {0}, M[J * J], g[J], jr[J];
    for (int j = 0; j < J; j++) {
        double wj = wc + REF_SPAN * wk * (j - (J - 1) / 2.0) / (J - 1);
        for (int m = 0; m < P; m++) {
            double t = m - N / 2;
            B[j * P + m] = d->win[m] * sin(wj * t) / (M_PI * t);
        }
    }
    for (int i = 0; i < 2 * (G + 1) + GS; i++) {
        double w = i >= 2 * (G + 1) ? wk * (REF_SB + (i - 2 * (G + 1)) / (double)GS)
                   : i & 1 ? wk - (i / 2) * wk / (2 * G) : (i / 2) * wk / (2 * G);
        double *a = amp + (size_t)i * J;
        for (int j = 0; j < J; j++) a[j] = 0;
        for (int m = 0; m < P; m++) {
            double cm = 2 * cos(w * (m - N / 2));
            for (int j = 0; j < J; j++) a[j] += cm * B[j * P + m];
        }
    }
    c[J / 2] = 1;
    for (int it = 0; it < REF_ITERS; it++) {
        memset(M, 0, sizeof(M)), memset(g, 0, sizeof(g));
        double emax = 0;
        for (int j = 0; j < J; j++) M[j * J + j] = REF_MU;
        for (int i = 0; i <= G; i++) {
            const double *p0 = amp + (size_t)2 * i * J, *p1 = p0 + J;
            double a0 = 0, a1 = 0;
            for (int j = 0; j < J; j++) a0 += p0[j] * c[j], a1 += p1[j] * c[j];
            double e = a0 * a0 + a1 * a1 - 1;
            emax = fmax(emax, fabs(e));
            for (int j = 0; j < J; j++) jr[j] = 2 * (a0 * p0[j] + a1 * p1[j]), g[j] += e * jr[j];
            for (int j = 0; j < J; j++)
                for (int k = 0; k < J; k++) M[j * J + k] += jr[j] * jr[k];
        }
        for (int i = 2 * (G + 1); i < 2 * (G + 1) + GS; i++) {
            const double *p0 = amp + (size_t)i * J;
            double a0 = 0;
            for (int j = 0; j < J; j++) a0 += p0[j] * c[j];
            for (int j = 0; j < J; j++) {
                g[j] += REF_LAM * a0 * p0[j];
                for (int k = 0; k < J; k++) M[j * J + k] += REF_LAM * p0[j] * p0[k];
            }
        }
#ifdef REF_TUNE
        fprintf(stderr, "  it %d max|E| %.3g\n", it, emax);
#endif
        cholesky_solve(M, g, J);
        for (int j = 0; j < J; j++) c[j] -= g[j];
    }
#ifdef REF_TUNE
    fprintf(stderr, "wc %.4f:", wc / wk);
    for (int j = 0; j < J; j++) fprintf(stderr, " %.3g", c[j]);
    fprintf(stderr, "\n");
#endif
    for (int m = 0; m < P; m++) {
        double h = 0;
        for (int j = 0; j < J; j++) h += c[j] * B[j * P + m];
        d->h[m] = d->h[L - 1 - m] = h;
    }
    free(B);
    return 0;
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
    if (!p->ana || !p->syn || !p->poly || !d.win || !d.h || !d.cosw) goto nomem;
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
        double wc = best_cutoff(&d);
        prototype(&d, wc);
        if (refine(&d, wc)) goto nomem;
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
    free(d.win), free(d.h), free(d.cosw);
    *out = p;
    return GW_OK;
nomem:
    free(d.win), free(d.h), free(d.cosw);
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
