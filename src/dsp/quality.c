/* quality.c - how close a pitched note sounds to an instrument: pitch,
 * noise floor, harmonicity, bandwidth and long-term spectrum (gw_dsp.h;
 * the figures are defined in docs/wavenet.md, "Measuring sound quality").
 *
 * Everything but the pitch is read off one long-term spectrum: the mean
 * power of the Hann-windowed STFT frames inside the analysis window (the
 * Welch estimate; Welch 1967). Frames are taken only where they lie wholly
 * inside the window, because gw_stft centres its first and last frames on
 * the buffer's ends and mirrors the signal there: the mirror's kink spreads
 * a partial's energy over the whole spectrum and would read as noise.
 *
 * Power is scaled so that a sinusoid of amplitude A centred on a bin reads
 * A^2 / 2 there. Off-centre it reads up to 1.4 dB less (the Hann window's
 * scalloping loss), so a partial's power is the sum over its main lobe
 * divided by the window's equivalent noise bandwidth (1.5 bins; Harris
 * 1978, table 1), which is exact wherever the partial falls. A bin of
 * noise reads its power density times that same 1.5 bins, so the noise
 * floor is "noise in 9 Hz re the strongest partial" at every sample rate
 * (the bins are 6 Hz at every rate). */
#include "dsp/gw_dsp.h"

#include <math.h>
#include <stdlib.h>

static const double top_hz = 16000.0;    /* partials, HNR and LTAS stop here */
static const double hnr_lo_hz = 50.0;    /* the HNR's and the LTAS's lower edge */
static const double bw_lo_hz = 20.0;     /* below: DC offset and rumble, not bandwidth */
static const double bw_fraction = 0.99;  /* the bandwidth's share of the energy */
static const double ltas_floor_db = -90; /* bands this far below the strongest count as empty */
static const double hann_enbw = 1.5;     /* equivalent noise bandwidth, bins */
static const double digital_silence_db = -200; /* a ratio with a zero on one side */
enum { HANN_LOBE = 2 };                        /* main lobe half-width, bins */

static int cmp_float(const void *a, const void *b) {
    const float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

float gw_quality_median(float *x, size_t n) {
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (!isnan(x[i])) x[m++] = x[i];
    if (m == 0) return NAN;
    qsort(x, m, sizeof *x, cmp_float);
    return m % 2 ? x[m / 2] : 0.5f * (x[m / 2 - 1] + x[m / 2]);
}

static double band_lo_hz(int b) {
    return hnr_lo_hz * exp2(b / 6.0);
}

static double band_hi_hz(int b) {
    return fmin(hnr_lo_hz * exp2((b + 1) / 6.0), top_hz);
}

float gw_quality_band_hz(int band) {
    return (float)sqrt(band_lo_hz(band) * band_hi_hz(band));
}

float gw_quality_ltas_distance(const gw_quality *a, const gw_quality *b) {
    return gw_quality_ltas_distance_in(a, b, 0.0f, 1e9f);
}

float gw_quality_ltas_distance_in(const gw_quality *a, const gw_quality *b, float lo_hz,
                                  float hi_hz) {
    double s = 0;
    int n = 0;
    for (int i = 0; i < GW_QUALITY_BANDS; i++) {
        const float hz = gw_quality_band_hz(i);
        if (hz < lo_hz || hz >= hi_hz) continue;
        const double d = (double)a->ltas_db[i] - b->ltas_db[i];
        s += d * d;
        n++;
    }
    return n ? (float)sqrt(s / n) : NAN;
}

/* P (bins): mean power of the frames of x (m >= n_fft samples) that lie
 * wholly inside it, scaled as the file comment says */
static gw_status long_term_spectrum(double *P, const float *x, size_t m, int n_fft, gw_error *err) {
    gw_stft *s = NULL;
    gw_status st = gw_stft_create(&s, n_fft, n_fft / 4, err);
    if (st) return st;
    const int frames = gw_stft_frames(s, m), bins = gw_stft_bins(s), hop = n_fft / 4;
    float *mag = malloc(sizeof(float) * (size_t)frames * (size_t)bins); // (frames, bins)
    if (!mag) {
        gw_stft_free(s);
        return gw_fail(err, GW_ERR_NOMEM, "quality: out of memory for %d frames", frames);
    }
    gw_stft_magnitude(s, mag, x, m);
    /* frame t covers [t hop - n_fft/2, t hop + n_fft/2); n_fft is a multiple
     * of 4, so the first whole frame is t = 2 and m >= n_fft gives one */
    const double scale = 8.0 / ((double)n_fft * n_fft); /* 2 / (sum of the window)^2 */
    int used = 0;
    for (int k = 0; k < bins; k++)
        P[k] = 0;
    for (int t = 2; (size_t)t * hop + (size_t)n_fft / 2 <= m; t++, used++)
        for (int k = 0; k < bins; k++) {
            const double v = mag[(size_t)t * bins + k];
            P[k] += v * v;
        }
    for (int k = 0; k < bins; k++)
        P[k] *= scale / (used > 0 ? used : 1);
    free(mag);
    gw_stft_free(s);
    return GW_OK;
}

static double ratio_db(double num, double den) {
    if (!(num >= 0 && den >= 0) || (num == 0 && den == 0)) return NAN;
    if (num == 0) return digital_silence_db;
    if (den == 0) return -digital_silence_db;
    return 10.0 * log10(num / den);
}

/* the power of the strongest partial k f (k >= 1, k f < top): the peak bin
 * within f/4 of each partial, its main lobe summed and divided by the
 * window's noise bandwidth */
static double strongest_partial(const double *P, int bins, double df, double f, double top) {
    double best = 0;
    for (int k = 1; k * f < top; k++) {
        int j0 = (int)lround((k * f - 0.25 * f) / df), j1 = (int)lround((k * f + 0.25 * f) / df);
        j0 = j0 < 1 ? 1 : j0;
        j1 = j1 > bins - 1 ? bins - 1 : j1;
        int p = j0;
        for (int j = j0; j <= j1; j++)
            if (P[j] > P[p]) p = j;
        double lobe = 0;
        for (int j = p - HANN_LOBE; j <= p + HANN_LOBE; j++)
            if (j >= 0 && j < bins) lobe += P[j];
        best = fmax(best, lobe / hann_enbw);
    }
    return best;
}

/* median of P linearly interpolated at (k + 0.5) f between the partials
 * below top; NAN when no two partials are */
static double midpoint_median(const double *P, int bins, double df, double f, double top,
                              float *scratch, int cap) {
    int count = 0;
    for (int k = 1; (k + 1) * f < top && count < cap; k++) {
        const double u = (k + 0.5) * f / df;
        const int j = (int)floor(u);
        if (j + 1 >= bins) break;
        scratch[count++] = (float)((1 - (u - j)) * P[j] + (u - j) * P[j + 1]);
    }
    return count ? gw_quality_median(scratch, (size_t)count) : NAN;
}

static void harmonicity(gw_quality *q, const double *P, int bins, double df, double f, double top) {
    double eh = 0, en = 0;
    for (int j = (int)ceil(hnr_lo_hz / df); j < bins && j * df <= top; j++) {
        const double fj = j * df;
        const long k = lround(fj / f);
        if (k >= 1 && fabs(fj - k * f) <= 0.25 * f)
            eh += P[j];
        else
            en += P[j];
    }
    q->hnr_db = (float)ratio_db(eh, en);
}

static void bandwidth(gw_quality *q, const double *P, int bins, double df) {
    const int j0 = (int)ceil(bw_lo_hz / df);
    double total = 0, cum = 0;
    for (int j = j0; j < bins; j++)
        total += P[j];
    q->bandwidth_hz = NAN;
    if (!(total > 0)) return;
    const double want = bw_fraction * total;
    for (int j = j0; j < bins; j++) {
        if (cum + P[j] >= want) { /* the crossing, linearly within bin j's width */
            q->bandwidth_hz = (float)((j - 0.5 + (want - cum) / P[j]) * df);
            return;
        }
        cum += P[j];
    }
    q->bandwidth_hz = (float)((bins - 0.5) * df);
}

/* band powers integrate P over each band, a bin covering [j - 1/2, j + 1/2)
 * df, shared by overlap: the lowest bands are narrower than a bin or two */
static void ltas(gw_quality *q, const double *P, int bins, double df) {
    double pw[GW_QUALITY_BANDS], best = 0;
    for (int b = 0; b < GW_QUALITY_BANDS; b++) {
        const double lo = band_lo_hz(b), hi = band_hi_hz(b);
        pw[b] = 0;
        for (int j = (int)floor(lo / df); j <= (int)ceil(hi / df) && j < bins; j++) {
            const double overlap = fmin(hi, (j + 0.5) * df) - fmax(lo, (j - 0.5) * df);
            if (overlap > 0) pw[b] += P[j] * overlap / df;
        }
        best = fmax(best, pw[b]);
    }
    for (int b = 0; b < GW_QUALITY_BANDS; b++) {
        const double db = best > 0 && pw[b] > 0 ? 10.0 * log10(pw[b] / best) : ltas_floor_db;
        q->ltas_db[b] = (float)fmax(db, ltas_floor_db);
    }
}

gw_status gw_quality_measure(gw_quality *q, const float *x, size_t n, int sample_rate, float note,
                             gw_error *err) {
    if (sample_rate < 1000 || sample_rate > 384000)
        return gw_fail(err, GW_ERR_ARG, "quality: rate %d Hz is outside [1000, 384000]",
                       sample_rate);
    if (!(note >= 0 && note <= 127))
        return gw_fail(err, GW_ERR_ARG, "quality: note %g is outside [0, 127]", (double)note);
    const double sr = sample_rate;
    /* bins of GW_QUALITY_BIN_HZ; a multiple of 4 so frames fall on the hop grid */
    const int n_fft = 4 * (int)lround(sr / (4 * GW_QUALITY_BIN_HZ));
    size_t a = (size_t)llround(GW_QUALITY_START_S * sr), b = (size_t)llround(GW_QUALITY_END_S * sr);
    a = a < n ? a : n;
    b = b < n ? b : n;
    if (b - a < (size_t)n_fft)
        return gw_fail(err, GW_ERR_ARG,
                       "quality: %.3g s of sound is too short: the analysis needs %.3g s (a "
                       "%.3g s frame after the first %.3g s)",
                       (double)n / sr, GW_QUALITY_START_S + n_fft / sr, n_fft / sr,
                       GW_QUALITY_START_S);
    const float *w = x + a; // (m,) the analysis window
    const size_t m = b - a;
    const int bins = n_fft / 2 + 1;
    const double df = sr / n_fft, top = fmin(top_hz, 0.5 * sr);
    const double target = gw_midi_to_hz(note);
    /* half to twice the note: an octave error reads as one, not as a miss */
    const double f_lo = 0.5 * target, f_hi = fmin(2.0 * target, 0.45 * sr);
    q->f0_hz = f_hi > f_lo ? gw_yin_f0(w, m, sample_rate, (float)f_lo, (float)f_hi) : 0.0f;
    q->cents = q->f0_hz > 0 ? gw_cents(q->f0_hz, (float)target) : NAN;
    const double f = q->f0_hz > 0 ? q->f0_hz : target;
    const int cap = (int)(top / f) + 1;
    double *P = malloc(sizeof(double) * (size_t)bins);    // (bins,)
    float *scratch = malloc(sizeof(float) * (size_t)cap); // (cap,)
    if (!P || !scratch) {
        free(P), free(scratch);
        return gw_fail(err, GW_ERR_NOMEM, "quality: out of memory for %d bins", bins);
    }
    gw_status st = long_term_spectrum(P, w, m, n_fft, err);
    if (!st) {
        bandwidth(q, P, bins, df);
        harmonicity(q, P, bins, df, f, top);
        ltas(q, P, bins, df);
        /* the noise floor only where the sound reaches: above its bandwidth
         * (a model rendered at 8 kHz and resampled, a low-passed sample)
         * there is no noise to measure, and those empty midpoints would
         * outnumber the rest and decide the median */
        const double noise_top = q->bandwidth_hz > 0 ? fmin(top, q->bandwidth_hz) : top;
        const double strongest = strongest_partial(P, bins, df, f, top);
        const double mid = midpoint_median(P, bins, df, f, noise_top, scratch, cap);
        q->noise_db = isnan(mid) ? NAN : (float)ratio_db(mid, strongest);
    }
    free(P);
    free(scratch);
    return st;
}
