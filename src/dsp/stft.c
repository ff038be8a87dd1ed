/* stft.c - short-time Fourier transform on FFTW (single precision).
 *
 * Conventions follow librosa (center=True, pad_mode='reflect'): frame t covers
 * samples [t*hop - n_fft/2, t*hop + n_fft/2) of the signal mirrored at both
 * ends without repeating the edge sample, windowed by a periodic Hann window
 * w[n] = 0.5 - 0.5 cos(2 pi n / n_fft) (periodic, so that shifted copies sum to
 * a constant: COLA for hop = n_fft/4, n_fft/2). The inverse is the
 * least-squares weighted overlap-add of Griffin and Lim (1984, eq. 6):
 *     x[i] = sum_t w[i - t hop] y_t[i - t hop] / sum_t w^2[i - t hop],
 * which inverts the forward transform exactly wherever the denominator is
 * non-zero, whatever the hop.
 *
 * Plans are made once per object with FFTW_ESTIMATE (no timing runs, so
 * creation is fast and deterministic) on the object's own fftwf_malloc'ed
 * buffers and executed with the new-array interface on those same buffers.
 */
#include "dsp/gw_dsp.h"

#include <fftw3.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <threads.h>

struct gw_stft {
    int n_fft, hop, bins;
    float *window;      // (n_fft,)
    float *frame;       // (n_fft,) real time-domain buffer, FFTW aligned
    fftwf_complex *bin; // (bins,) complex buffer, FFTW aligned
    fftwf_plan r2c, c2r;
};

/* The one piece of process-wide mutable state in genwave: FFTW's planner is
 * not thread-safe (only fftwf_execute* is), and it keeps its own global
 * tables, so every call that touches the planner (plan creation and
 * destruction) must be serialised. A mutex initialised once through
 * call_once does that without requiring callers to initialise anything and
 * without linking fftw3f_threads. Nothing else here is global. */
static once_flag planner_once = ONCE_FLAG_INIT;
static mtx_t planner_mtx;

static void planner_init(void) {
    mtx_init(&planner_mtx, mtx_plain);
}

static void planner_lock(void) {
    call_once(&planner_once, planner_init);
    mtx_lock(&planner_mtx);
}

static void planner_unlock(void) {
    mtx_unlock(&planner_mtx);
}

gw_status gw_stft_create(gw_stft **out, int n_fft, int hop, gw_error *err) {
    *out = NULL;
    if (n_fft < 4 || n_fft > (1 << 22))
        return gw_fail(err, GW_ERR_ARG, "stft: n_fft %d out of range [4, 4194304]", n_fft);
    if (hop < 1 || hop > n_fft)
        return gw_fail(err, GW_ERR_ARG, "stft: hop %d out of range [1, n_fft=%d]", hop, n_fft);
    gw_stft *s = calloc(1, sizeof(*s));
    if (!s) return gw_fail(err, GW_ERR_NOMEM, "stft: out of memory");
    s->n_fft = n_fft;
    s->hop = hop;
    s->bins = n_fft / 2 + 1;
    s->window = fftwf_malloc(sizeof(float) * (size_t)n_fft);
    s->frame = fftwf_malloc(sizeof(float) * (size_t)n_fft);
    s->bin = fftwf_malloc(sizeof(fftwf_complex) * (size_t)s->bins);
    if (!s->window || !s->frame || !s->bin) goto nomem;
    for (int n = 0; n < n_fft; n++)
        s->window[n] = (float)(0.5 - 0.5 * cos(2.0 * M_PI * n / n_fft));
    planner_lock();
    s->r2c = fftwf_plan_dft_r2c_1d(n_fft, s->frame, s->bin, FFTW_ESTIMATE);
    s->c2r = fftwf_plan_dft_c2r_1d(n_fft, s->bin, s->frame, FFTW_ESTIMATE);
    planner_unlock();
    if (!s->r2c || !s->c2r) goto nomem;
    *out = s;
    return GW_OK;
nomem:
    gw_stft_free(s);
    return gw_fail(err, GW_ERR_NOMEM, "stft: out of memory for n_fft %d", n_fft);
}

void gw_stft_free(gw_stft *s) {
    if (!s) return;
    if (s->r2c || s->c2r) {
        planner_lock();
        if (s->r2c) fftwf_destroy_plan(s->r2c);
        if (s->c2r) fftwf_destroy_plan(s->c2r);
        planner_unlock();
    }
    fftwf_free(s->window);
    fftwf_free(s->frame);
    fftwf_free(s->bin);
    free(s);
}

int gw_stft_frames(const gw_stft *s, size_t n_samples) {
    return 1 + (int)(n_samples / (size_t)s->hop);
}

int gw_stft_bins(const gw_stft *s) {
    return s->bins;
}

/* sample at (possibly out-of-range) index i of x mirrored about its first
 * and last samples, repeating with period 2 (n - 1) for very short signals */
static float reflect_at(const float *x, long n, long i) {
    if (n <= 0) return 0.0f;
    if (n == 1) return x[0];
    long period = 2 * (n - 1);
    i %= period;
    if (i < 0) i += period;
    if (i >= n) i = period - i;
    return x[i];
}

/* windowed frame t of x into s->frame, then r2c into s->bin */
static void analyse_frame(gw_stft *s, const float *x, size_t n_samples, int t) {
    long start = (long)t * s->hop - s->n_fft / 2;
    long n = (long)n_samples;
    if (start >= 0 && start + s->n_fft <= n) {
        for (int k = 0; k < s->n_fft; k++)
            s->frame[k] = s->window[k] * x[start + k];
    } else {
        for (int k = 0; k < s->n_fft; k++)
            s->frame[k] = s->window[k] * reflect_at(x, n, start + k);
    }
    fftwf_execute_dft_r2c(s->r2c, s->frame, s->bin);
}

void gw_stft_forward(gw_stft *s, float *spec, const float *x, size_t n_samples) {
    // spec (frames, bins, 2), x (n_samples,)
    int frames = gw_stft_frames(s, n_samples);
    for (int t = 0; t < frames; t++) {
        analyse_frame(s, x, n_samples, t);
        memcpy(spec + (size_t)t * s->bins * 2, s->bin, sizeof(float) * 2 * (size_t)s->bins);
    }
}

void gw_stft_magnitude(gw_stft *s, float *mag, const float *x, size_t n_samples) {
    // mag (frames, bins), x (n_samples,)
    int frames = gw_stft_frames(s, n_samples);
    for (int t = 0; t < frames; t++) {
        analyse_frame(s, x, n_samples, t);
        float *m = mag + (size_t)t * s->bins;
        for (int k = 0; k < s->bins; k++)
            m[k] = hypotf(s->bin[k][0], s->bin[k][1]);
    }
}

void gw_stft_inverse(gw_stft *s, float *x, const float *spec, int frames, size_t n_samples) {
    // x (n_samples,), spec (frames, bins, 2)
    const int n_fft = s->n_fft, hop = s->hop, half = n_fft / 2;
    const float scale = 1.0f / (float)n_fft; /* FFTW's c2r is unnormalised */
    memset(x, 0, sizeof(float) * n_samples);
    for (int t = 0; t < frames; t++) {
        memcpy(s->bin, spec + (size_t)t * s->bins * 2, sizeof(float) * 2 * (size_t)s->bins);
        fftwf_execute_dft_c2r(s->c2r, s->bin, s->frame);
        long start = (long)t * hop - half;
        int k0 = start < 0 ? (int)-start : 0;
        long k1 = (long)n_samples - start;
        if (k1 > n_fft) k1 = n_fft;
        for (long k = k0; k < k1; k++)
            x[start + k] += s->window[k] * s->frame[k] * scale;
    }
    /* divide by the window-square sum of the frames covering each sample;
     * computed per sample so the inverse needs no scratch memory */
    for (size_t i = 0; i < n_samples; i++) {
        long p = (long)i + half; /* index in the padded signal */
        long t_hi = p / hop;
        long t_lo = p - n_fft + 1 <= 0 ? 0 : (p - n_fft + hop) / hop;
        if (t_hi > frames - 1) t_hi = frames - 1;
        float wsum = 0.0f;
        for (long t = t_lo; t <= t_hi; t++) {
            float w = s->window[p - t * hop];
            wsum += w * w;
        }
        x[i] = wsum > 1e-10f ? x[i] / wsum : 0.0f;
    }
}
