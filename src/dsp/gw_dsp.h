/* gw_dsp.h - signal processing shared by every model: mu-law, STFT, mel,
 * Griffin-Lim, pitch (YIN), resampling and biquad filters. Pure computation
 * on float arrays; no file access. Lives above base only.
 *
 * Ownership: *_create allocates and the matching *_free releases (free(NULL)
 * is fine). Plans are made once in *_create and reused; a plan object is used
 * by one thread at a time (FFTW execute calls on distinct plan objects are
 * thread-safe, plan creation is serialised inside this module).
 */
#ifndef GW_DSP_H
#define GW_DSP_H

#include "base/gw_base.h"

#include <stddef.h>
#include <stdint.h>

/* ---- 8-bit mu-law (mu = 255): WaveNet's continuous mu-law curve quantised
 * to 256 uniform levels (as the PyTorch peer does; not G.711's segments);
 * 0.0 encodes to 128 ---- */
/* scales x down so its peak is `ceiling` if it was above (a mix that would
 * clip), else leaves it; returns the gain applied (1 when none) */
float gw_fit_peak(float *x, size_t n, float ceiling);

/* pre-emphasis in place: x[n] -= a x[n-1] (x[-1] = 0), for a model of
 * mu-law classes whose noise is to be shaped (wavenet.h, preemphasis);
 * generation undoes it with y[n] = s[n] + a y[n-1] */
void gw_preemphasis(float *x, size_t n, float a);

uint8_t gw_mulaw_encode(float x); /* x clipped to [-1, 1] (NaN -> 0) -> 0..255 */
float gw_mulaw_decode(uint8_t q); /* 0..255 -> [-1, 1] */

/* ---- STFT with a periodic Hann window, frames centred (reflect padding) ----
 * frames = 1 + n / hop for a signal of n samples (librosa center=True). */
typedef struct gw_stft gw_stft;
gw_status gw_stft_create(gw_stft **out, int n_fft, int hop, gw_error *err);
void gw_stft_free(gw_stft *s);
int gw_stft_frames(const gw_stft *s, size_t n_samples);
int gw_stft_bins(const gw_stft *s); /* n_fft / 2 + 1 */
/* spec: (frames, bins) complex as interleaved re,im floats */
void gw_stft_forward(gw_stft *s, float *spec, const float *x, size_t n_samples);
/* weighted overlap-add inverse; writes n_samples samples */
void gw_stft_inverse(gw_stft *s, float *x, const float *spec, int frames, size_t n_samples);
/* magnitude only: mag (frames, bins) */
void gw_stft_magnitude(gw_stft *s, float *mag, const float *x, size_t n_samples);

/* ---- mel filterbank (Slaney-style: mel scale linear below 1 kHz, log
 * above; triangles normalised to unit area; librosa htk=False,
 * norm='slaney'). fmax <= 0 means sample_rate / 2. Fails (GW_ERR_ARG) if a
 * band would contain no FFT bin. ---- */
typedef struct gw_mel gw_mel;
gw_status gw_mel_create(gw_mel **out, int sample_rate, int n_fft, int n_mels, float fmin,
                        float fmax, gw_error *err);
void gw_mel_free(gw_mel *m);
int gw_mel_bands(const gw_mel *m);
const float *gw_mel_weights(const gw_mel *m); /* (n_mels, bins) */
float gw_hz_to_mel(float hz);                 /* Slaney mel scale */
float gw_mel_to_hz(float mel);
/* mel (frames, n_mels) = mag (frames, bins) @ W^T */
void gw_mel_apply(const gw_mel *m, float *mel, const float *mag, int frames);
/* non-negative least-squares-ish inverse: mag (frames, bins) from mel
 * (clamped minimum-norm solution refined by projected gradient; see mel.c) */
void gw_mel_invert(const gw_mel *m, float *mag, const float *mel, int frames);
/* log-mel used by the spectrogram models: log(mel + 1e-5) */
void gw_log_mel(float *out, const float *mel, size_t n);

/* ---- Griffin-Lim with momentum ("fast Griffin-Lim", Perraudin et al. 2013) ----
 * Reconstructs n_samples of audio from mag (frames, bins). alpha = 0.99 is the
 * paper's momentum; 0 gives classic Griffin-Lim. spectral_convergence, if not
 * NULL, receives iters values ||S - |STFT(x)||_F / ||S||_F. */
gw_status gw_griffin_lim(gw_stft *s, float *x, const float *mag, int frames, size_t n_samples,
                         int iters, float alpha, uint64_t seed, float *spectral_convergence,
                         gw_error *err);

/* ---- f0 estimation (YIN, de Cheveigne and Kawahara 2002) ----
 * Returns f0 in Hz of the whole buffer (median over frames of voiced frames),
 * or 0 when no frame is voiced. Also 0 for invalid arguments (fmin <= 0,
 * fmax <= fmin) or a buffer shorter than about 2 sample_rate / fmin. At most
 * 32 frames spread over the buffer are analysed. */
float gw_yin_f0(const float *x, size_t n, int sample_rate, float fmin, float fmax);
/* helpers for pitch checks */
float gw_midi_to_hz(float note);
float gw_hz_to_midi(float hz);
float gw_cents(float hz, float ref_hz);

/* ---- resampling (libsoxr) ---- */
/* whole buffer, high quality; *out is malloc'ed, *out_n its length */
gw_status gw_resample(float **out, size_t *out_n, const float *in, size_t in_n, double in_rate,
                      double out_rate, gw_error *err);
/* streaming, for the real-time engine: created off the audio thread, then
 * gw_resampler_process never allocates */
typedef struct gw_resampler gw_resampler;
gw_status gw_resampler_create(gw_resampler **out, double in_rate, double out_rate, size_t max_block,
                              gw_error *err);
void gw_resampler_free(gw_resampler *r);
/* consumes up to min(in_n, max_block) samples, writes at most out_cap;
 * returns samples written and sets *consumed. Output is aligned like
 * gw_resample's (the filter delay is compensated): the stream's first outputs
 * come once soxr has buffered enough input (see gw_resampler_latency). */
size_t gw_resampler_process(gw_resampler *r, float *out, size_t out_cap, const float *in,
                            size_t in_n, size_t *consumed);
/* forget the signal so far, as if freshly created; like process it does not
 * allocate (it pushes silence through, costing about 4096 input samples) */
void gw_resampler_reset(gw_resampler *r);
/* libsoxr's current delay in output samples (soxr_delay) */
double gw_resampler_latency(const gw_resampler *r);

/* ---- biquad sections (biquad.c): second-order IIR filters, cascaded for
 * higher orders. Coefficients and history are double: a cutoff near 0.001
 * of the rate puts the poles within ~0.006 of z = 1, where float's 24 bits
 * lose the response. Direct form I: the history is the past inputs and
 * outputs themselves, valid whatever the coefficients, so a cutoff can move
 * under a running filter without a click (tests/dsp/test_biquad.c). ---- */
typedef struct gw_biquad {
    double b0, b1, b2, a1, a2; /* a0 normalised to 1 */
    double x1, x2, y1, y2;     /* the last two inputs and outputs */
} gw_biquad;

enum { GW_BIQUAD_MAX_ORDER = 8 }; /* sections: order / 2 */

/* Butterworth high-pass of even order 2..GW_BIQUAD_MAX_ORDER at fc Hz into
 * s[0 .. order/2 - 1] (RBJ cookbook high-pass per section, with section k's
 * Q = 1 / (2 cos(pi (2k+1) / (2 order))): -3.01 dB at fc, order x 6 dB per
 * octave below). Sets the coefficients only and keeps the history, so
 * calling it again moves the cutoff of a running filter. GW_ERR_ARG (and s
 * untouched) unless 0 < fc < rate / 2 and the order is even and in range.
 * Costs 2 + order/2 trigonometric calls: meant for control-rate updates,
 * not for every sample. */
gw_status gw_biquad_highpass(gw_biquad *s, int order, double fc, double rate);
/* clears the history of n sections (coefficients kept) */
void gw_biquad_reset(gw_biquad *s, int n);

/* one sample through n cascaded sections */
static inline float gw_biquad_process(gw_biquad *s, int n, float in) {
    double x = in;
    for (int k = 0; k < n; k++) {
        gw_biquad *q = &s[k];
        const double y = q->b0 * x + q->b1 * q->x1 + q->b2 * q->x2 - q->a1 * q->y1 - q->a2 * q->y2;
        q->x2 = q->x1, q->x1 = x;
        q->y2 = q->y1, q->y1 = y;
        x = y;
    }
    return (float)x;
}

/* ---- sound quality of a pitched note (quality.c; docs/wavenet.md,
 * "Measuring sound quality") ----
 * One function measures a model's note and a recording of the real
 * instrument alike. The analysis window is GW_QUALITY_START_S ..
 * GW_QUALITY_END_S after the onset (sample 0), clamped to the buffer. The
 * long-term spectrum is the mean power of the Hann-windowed STFT frames
 * (gw_stft) lying wholly inside the window, with n_fft = sample_rate / 6
 * rounded to even: bins of GW_QUALITY_BIN_HZ at every rate, so the figures
 * mean the same at 8, 44.1 and 48 kHz. The partials are k f0, f0 the
 * measured pitch (the note's when unvoiced), below min(16 kHz, Nyquist).
 * LTAS bands: b = 0 .. GW_QUALITY_BANDS - 1 spans 50 * 2^(b/6) ..
 * 50 * 2^((b+1)/6) Hz, the last one cut at 16 kHz. */
#define GW_QUALITY_START_S 0.25
#define GW_QUALITY_END_S   1.0
#define GW_QUALITY_BIN_HZ  6.0
enum { GW_QUALITY_BANDS = 50 };

typedef struct gw_quality {
    float f0_hz; /* YIN over the window, searched from 1/2 to 2x the note; 0 = unvoiced */
    float cents; /* f0 against 440 * 2^((note - 69) / 12); NAN when unvoiced */
    /* median level halfway between partials, (k + 0.5) f0, re the strongest
     * partial's power: noise reads as its power in the Hann window's
     * equivalent noise bandwidth, 1.5 bins = 9 Hz. Only partials below the
     * sound's bandwidth_hz too count (where there is sound, there is noise
     * to measure); NAN with fewer than two such partials. */
    float noise_db;
    float hnr_db;       /* energy within +-f0/4 of the partials / elsewhere, 50 Hz .. top */
    float bandwidth_hz; /* 99% of the energy above 20 Hz lies below it; NAN when silent */
    float ltas_db[GW_QUALITY_BANDS]; /* band level re the strongest band, floored at -90 */
} gw_quality;

/* fails (GW_ERR_ARG) when the window holds less than one FFT frame (the
 * sound is shorter than about GW_QUALITY_START_S + 1/6 s), or for a rate
 * outside 1000..384000 Hz or a note outside 0..127 */
gw_status gw_quality_measure(gw_quality *out, const float *x, size_t n, int sample_rate, float note,
                             gw_error *err); // x (n,)
/* the LTAS distance: RMS over the bands of a->ltas_db - b->ltas_db, dB */
float gw_quality_ltas_distance(const gw_quality *a, const gw_quality *b);
/* the same over the bands whose centre lies in [lo_hz, hi_hz) (NAN if none) */
float gw_quality_ltas_distance_in(const gw_quality *a, const gw_quality *b, float lo_hz,
                                  float hi_hz);
/* geometric centre of LTAS band b, Hz */
float gw_quality_band_hz(int band);
/* median of the finite values of x (NaNs skipped; NAN when none); reorders x */
float gw_quality_median(float *x, size_t n);

/* ---- PQMF filter bank (pqmf.c): K pseudo-QMF bands of a signal for
 * multi-band generation (Nguyen 1994; the bank of Multi-band MelGAN, Yang
 * et al. 2021): a model predicts the K band samples of a frame at rate / K
 * and the synthesis turns them into K samples at the full rate. The bands
 * are cosine-modulated copies of one lowpass prototype of 16 K taps, a
 * Kaiser-windowed sinc (beta 8.8) whose cutoff create chooses for power
 * complementarity (Lin and Vaidyanathan 1998), then refines into a
 * weighted sum of 11 such sincs (Gauss-Newton least squares on the power
 * complementarity and the near stopband). Band k covers k pi/K ..
 * (k+1) pi/K; decimation leaves the odd bands spectrally inverted.
 * Analysis then synthesis gives x delayed by gw_pqmf_delay, with an
 * amplitude ripple of +-2.3e-5 (0.0002 dB) left by the prototype, and
 * aliasing through a stopband that peaks at -92 dB: over K = 2..16 the
 * error is -94.2 .. -97.0 dB (K = 2) of the energy of white noise, and
 * -89.6 .. -92.9 dB for a lone sine at the worst frequencies. A sine at a band's
 * centre puts at least 91.9 dB more energy in its band than in any other.
 * Scale: a pass band has gain 1, so a full-scale sine at a band's centre
 * reads 1.000 in its band (one at a crossover 0.71 in both), and noise
 * uniform in [-1, 1] (rms 1/sqrt(3)) has rms 1/sqrt(3K) per band and, over
 * one second at 48 kHz, peaks at 1.37 (K = 2), 1.21 (3), 1.00 (4), 0.90
 * (6), 0.75 (8), 0.60 (16): a model of values in [-1, 1] clips rare noise
 * peaks at K <= 4. ---- */
typedef struct gw_pqmf gw_pqmf;
/* bands 1..16 (1 is the identity: no filtering, delay 0); the prototype is
 * designed at create (about 2 ms CPU for 16 bands); other counts fail with GW_ERR_ARG */
gw_status gw_pqmf_create(gw_pqmf **out, int bands, gw_error *err);
void gw_pqmf_free(gw_pqmf *p); /* NULL is fine */
int gw_pqmf_bands(const gw_pqmf *p);
int gw_pqmf_taps(const gw_pqmf *p);  /* prototype length */
int gw_pqmf_delay(const gw_pqmf *p); /* analysis + synthesis delay, full-rate samples: taps - 1 */
/* analysis of a whole signal with zero history: x (n) -> bands (frames, K)
 * interleaved (row f holds band 0..K-1 of frame f), frames = n / K rounded
 * up (x zero-padded at the end); frame f is filtered at sample f K;
 * costs taps multiply-adds per sample of x */
void gw_pqmf_analysis(const gw_pqmf *p, float *bands, const float *x, size_t n);
/* streaming synthesis; the state is caller-owned memory (so a caller with
 * many voices keeps one array per voice and can swap voices with memcpy) */
size_t gw_pqmf_state_len(const gw_pqmf *p);               /* floats per state */
void gw_pqmf_synth_reset(const gw_pqmf *p, float *state); /* zero history */
/* one frame: K band samples in, K full-rate samples out; never allocates
 * (real-time safe); costs K * K * ceil(taps / K) multiply-adds (16 K^2) */
void gw_pqmf_synth_step(const gw_pqmf *p, float *state, float *out /* (K) */,
                        const float *bands /* (K) */);
/* whole signal: bands (frames, K) -> x (frames * K), from a zero state */
void gw_pqmf_synthesis(const gw_pqmf *p, float *x, const float *bands, size_t frames);

#endif
