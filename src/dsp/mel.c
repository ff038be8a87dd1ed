/* mel.c - Slaney-style mel filterbank (librosa.filters.mel with htk=False,
 * norm='slaney'), log-mel and a non-negative inverse.
 *
 * Mel scale (Slaney 1998, Auditory Toolbox): linear below 1 kHz with
 * 3 bands per 200 Hz, m = f / (200/3), logarithmic above,
 * m = 15 + ln(f / 1000) / (ln 6.4 / 27). n_mels + 2 points are spaced evenly
 * in mel between fmin and fmax; band i is the triangle rising from point i to
 * point i + 1 and falling to point i + 2, evaluated at the FFT bin centres
 * k sr / n_fft and scaled by 2 / (f[i+2] - f[i]) so that the continuous
 * triangle has unit area in Hz ("slaney" normalisation: constant energy per
 * band for white noise).
 *
 * Inverse (mel -> linear magnitude): the filterbank W (n_mels, bins) has
 * fewer rows than columns, so we want some m >= 0 with W m close to y. We
 * start from the minimum-norm least-squares solution m0 = W^T (W W^T)^-1 y
 * (Cholesky of the small n_mels x n_mels Gram matrix, factored once in
 * create, with a tiny ridge in case two bands share their only bin), clamp
 * it to m >= 0, then run a fixed number of projected-gradient steps
 * m <- max(0, m - W^T (W m - y) / L) with L >= lambda_max(W W^T) (a
 * Gershgorin bound), which never increase ||W m - y||. This is a cheap
 * approximation of the NNLS librosa.feature.inverse.mel_to_stft solves with
 * L-BFGS-B: good enough as a Griffin-Lim starting magnitude, not exact.
 */
#include "dsp/gw_dsp.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { MEL_MAX_BANDS = 1024, MEL_PG_ITERS = 100 };

struct gw_mel {
    int sample_rate, n_fft, n_mels, bins;
    float fmin, fmax;
    float *weights; // (n_mels, bins)
    int *lo, *hi;   // (n_mels,) non-zero bins of band i are [lo[i], hi[i])
    double *chol;   // (n_mels, n_mels) lower Cholesky factor of W W^T + ridge
    float inv_lipschitz;
};

/* in double, so float rounding of the band edges does not move bins in or
 * out of a triangle */
static double hz_to_mel_d(double hz) {
    const double f_sp = 200.0 / 3.0, min_log_hz = 1000.0;
    if (hz < min_log_hz) return hz / f_sp;
    return min_log_hz / f_sp + log(hz / min_log_hz) / (log(6.4) / 27.0);
}

static double mel_to_hz_d(double mel) {
    const double f_sp = 200.0 / 3.0, min_log_hz = 1000.0, min_log_mel = 1000.0 / f_sp;
    if (mel < min_log_mel) return f_sp * mel;
    return min_log_hz * exp(log(6.4) / 27.0 * (mel - min_log_mel));
}

float gw_hz_to_mel(float hz) {
    return (float)hz_to_mel_d(hz);
}

float gw_mel_to_hz(float mel) {
    return (float)mel_to_hz_d(mel);
}

/* in-place Cholesky a = L L^T of an n x n SPD matrix (lower triangle) */
static int cholesky(double *a, int n) {
    for (int j = 0; j < n; j++) {
        double d = a[j * n + j];
        for (int k = 0; k < j; k++)
            d -= a[j * n + k] * a[j * n + k];
        if (!(d > 0)) return -1;
        d = sqrt(d);
        a[j * n + j] = d;
        for (int i = j + 1; i < n; i++) {
            double v = a[i * n + j];
            for (int k = 0; k < j; k++)
                v -= a[i * n + k] * a[j * n + k];
            a[i * n + j] = v / d;
        }
        for (int i = 0; i < j; i++)
            a[i * n + j] = 0.0;
    }
    return 0;
}

gw_status gw_mel_create(gw_mel **out, int sample_rate, int n_fft, int n_mels, float fmin,
                        float fmax, gw_error *err) {
    *out = NULL;
    if (sample_rate <= 0) return gw_fail(err, GW_ERR_ARG, "mel: sample rate %d", sample_rate);
    if (n_fft < 4) return gw_fail(err, GW_ERR_ARG, "mel: n_fft %d < 4", n_fft);
    if (n_mels < 1 || n_mels > MEL_MAX_BANDS)
        return gw_fail(err, GW_ERR_ARG, "mel: n_mels %d out of range [1, %d]", n_mels,
                       MEL_MAX_BANDS);
    double nyq = sample_rate / 2.0;
    if (fmax <= 0) fmax = (float)nyq;
    if (!isfinite(fmin) || !isfinite(fmax) || fmin < 0 || fmin >= fmax || fmax > nyq * 1.0001)
        return gw_fail(err, GW_ERR_ARG, "mel: need 0 <= fmin < fmax <= %g Hz, got %g..%g", nyq,
                       (double)fmin, (double)fmax);
    gw_mel *m = calloc(1, sizeof(*m));
    double *hz = NULL;
    gw_status st = GW_ERR_NOMEM;
    if (!m) return gw_fail(err, GW_ERR_NOMEM, "mel: out of memory");
    m->sample_rate = sample_rate;
    m->n_fft = n_fft;
    m->n_mels = n_mels;
    m->bins = n_fft / 2 + 1;
    m->fmin = fmin;
    m->fmax = fmax;
    const int bins = m->bins;
    m->weights = calloc((size_t)n_mels * bins, sizeof(float));
    m->lo = calloc((size_t)n_mels, sizeof(int));
    m->hi = calloc((size_t)n_mels, sizeof(int));
    m->chol = calloc((size_t)n_mels * n_mels, sizeof(double));
    hz = malloc(sizeof(double) * (size_t)(n_mels + 2));
    if (!m->weights || !m->lo || !m->hi || !m->chol || !hz) {
        gw_fail(err, GW_ERR_NOMEM, "mel: out of memory for %d bands x %d bins", n_mels, bins);
        goto fail;
    }
    double mlo = hz_to_mel_d(fmin), mhi = hz_to_mel_d(fmax);
    for (int i = 0; i < n_mels + 2; i++)
        hz[i] = mel_to_hz_d(mlo + (mhi - mlo) * i / (n_mels + 1));
    for (int i = 0; i < n_mels; i++) {
        double enorm = 2.0 / (hz[i + 2] - hz[i]);
        float *w = m->weights + (size_t)i * bins;
        m->lo[i] = bins;
        m->hi[i] = 0;
        for (int k = 0; k < bins; k++) {
            double f = (double)k * sample_rate / n_fft;
            double lower = (f - hz[i]) / (hz[i + 1] - hz[i]);
            double upper = (hz[i + 2] - f) / (hz[i + 2] - hz[i + 1]);
            double v = lower < upper ? lower : upper;
            if (v > 0) {
                w[k] = (float)(v * enorm);
                if (k < m->lo[i]) m->lo[i] = k;
                m->hi[i] = k + 1;
            }
        }
        if (m->hi[i] == 0) {
            st = gw_fail(err, GW_ERR_ARG,
                         "mel: band %d (%.1f..%.1f Hz) contains no FFT bin at n_fft %d, %d Hz; "
                         "use fewer bands or a larger n_fft",
                         i, hz[i], hz[i + 2], n_fft, sample_rate);
            goto fail;
        }
    }
    /* Gram matrix G = W W^T (banded: only neighbouring triangles overlap) */
    double trace = 0, lip = 0;
    for (int i = 0; i < n_mels; i++) {
        for (int j = 0; j < n_mels; j++) {
            int a = m->lo[i] > m->lo[j] ? m->lo[i] : m->lo[j];
            int b = m->hi[i] < m->hi[j] ? m->hi[i] : m->hi[j];
            double g = 0;
            for (int k = a; k < b; k++)
                g += (double)m->weights[(size_t)i * bins + k] * m->weights[(size_t)j * bins + k];
            m->chol[(size_t)i * n_mels + j] = g;
        }
        trace += m->chol[(size_t)i * n_mels + i];
    }
    for (int i = 0; i < n_mels; i++) {
        double row = 0;
        for (int j = 0; j < n_mels; j++)
            row += fabs(m->chol[(size_t)i * n_mels + j]);
        if (row > lip) lip = row;
    }
    m->inv_lipschitz = (float)(1.0 / lip);
    for (int i = 0; i < n_mels; i++)
        m->chol[(size_t)i * n_mels + i] += 1e-9 * trace / n_mels;
    if (cholesky(m->chol, n_mels)) {
        st = gw_fail(err, GW_ERR_NUMERIC, "mel: filterbank Gram matrix not positive definite");
        goto fail;
    }
    free(hz);
    *out = m;
    return GW_OK;
fail:
    free(hz);
    gw_mel_free(m);
    return st;
}

void gw_mel_free(gw_mel *m) {
    if (!m) return;
    free(m->weights);
    free(m->lo);
    free(m->hi);
    free(m->chol);
    free(m);
}

int gw_mel_bands(const gw_mel *m) {
    return m->n_mels;
}

const float *gw_mel_weights(const gw_mel *m) {
    return m->weights;
}

void gw_mel_apply(const gw_mel *m, float *mel, const float *mag, int frames) {
    // mel (frames, n_mels), mag (frames, bins)
    for (int t = 0; t < frames; t++) {
        const float *x = mag + (size_t)t * m->bins;
        float *y = mel + (size_t)t * m->n_mels;
        for (int i = 0; i < m->n_mels; i++) {
            const float *w = m->weights + (size_t)i * m->bins;
            float s = 0;
            for (int k = m->lo[i]; k < m->hi[i]; k++)
                s += w[k] * x[k];
            y[i] = s;
        }
    }
}

void gw_mel_invert(const gw_mel *m, float *mag, const float *mel, int frames) {
    // mag (frames, bins), mel (frames, n_mels)
    const int nm = m->n_mels, bins = m->bins;
    double z[MEL_MAX_BANDS];
    float r[MEL_MAX_BANDS];
    for (int t = 0; t < frames; t++) {
        const float *y = mel + (size_t)t * nm;
        float *x = mag + (size_t)t * bins;
        /* z = (W W^T)^-1 y by forward and back substitution */
        for (int i = 0; i < nm; i++) {
            double v = y[i];
            for (int k = 0; k < i; k++)
                v -= m->chol[(size_t)i * nm + k] * z[k];
            z[i] = v / m->chol[(size_t)i * nm + i];
        }
        for (int i = nm - 1; i >= 0; i--) {
            double v = z[i];
            for (int k = i + 1; k < nm; k++)
                v -= m->chol[(size_t)k * nm + i] * z[k];
            z[i] = v / m->chol[(size_t)i * nm + i];
        }
        /* x = max(0, W^T z) */
        memset(x, 0, sizeof(float) * (size_t)bins);
        for (int i = 0; i < nm; i++) {
            const float *w = m->weights + (size_t)i * bins;
            for (int k = m->lo[i]; k < m->hi[i]; k++)
                x[k] += w[k] * (float)z[i];
        }
        for (int k = 0; k < bins; k++)
            if (!(x[k] > 0)) x[k] = 0;
        /* projected gradient on 0.5 ||W x - y||^2 */
        for (int it = 0; it < MEL_PG_ITERS; it++) {
            for (int i = 0; i < nm; i++) {
                const float *w = m->weights + (size_t)i * bins;
                float s = 0;
                for (int k = m->lo[i]; k < m->hi[i]; k++)
                    s += w[k] * x[k];
                r[i] = (s - y[i]) * m->inv_lipschitz;
            }
            for (int i = 0; i < nm; i++) {
                const float *w = m->weights + (size_t)i * bins;
                for (int k = m->lo[i]; k < m->hi[i]; k++)
                    x[k] -= w[k] * r[i];
            }
            for (int k = 0; k < bins; k++)
                if (!(x[k] > 0)) x[k] = 0;
        }
    }
}

void gw_log_mel(float *out, const float *mel, size_t n) {
    for (size_t i = 0; i < n; i++)
        out[i] = logf(mel[i] + 1e-5f);
}
