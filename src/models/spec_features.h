/* spec_features.h - the image the spectrogram GAN and VAE see, and the way
 * back to audio (shared/spec/reference-models.md, "specgan-small"):
 *
 *   clip (clip_samples at sample_rate) -> |STFT| (n_fft, Hann, hop, centred)
 *   -> mel (n_mels Slaney triangles, fmin..fmax) -> log(mel + 1e-5)
 *   -> first `frames` frames -> per band: (x - mean_b) / std_b, clipped to
 *   +-clip_std, divided by clip_std, so every value lies in [-1, 1].
 *
 * The image is (1, n_mels, frames): row = mel band (0 = lowest), column =
 * frame. mean_b and std_b are fitted on the training set (every frame of
 * every training clip) and stored in the model file as tensors
 * "features.mean" and "features.std" (n_mels), so sampling needs nothing but
 * the .gwm.
 *
 * Inverse: image -> log-mel (x clip_std std_b + mean_b) -> mel (exp - 1e-5,
 * floored at 0) -> linear magnitude (gw_mel_invert) -> fast Griffin-Lim
 * (Perraudin et al. 2013, momentum 0.99). Frames past `frames` that the STFT
 * of a whole clip has (65 for 16384 samples at hop 256) are silent.
 */
#ifndef GW_MODELS_SPEC_FEATURES_H
#define GW_MODELS_SPEC_FEATURES_H

#include "base/gw_base.h"
#include "nn/gwm.h"

#include <cjson/cJSON.h>
#include <math.h>

typedef struct gw_specfeat_config {
    int sample_rate;  /* Hz */
    int clip_samples; /* samples per clip */
    int n_fft, hop;
    int n_mels; /* image height */
    int frames; /* image width */
    float fmin, fmax;
    float clip_std; /* normalised values are clipped to +-clip_std, then / clip_std */
} gw_specfeat_config;

/* the spec's values: 16 kHz, 16384 samples, n_fft 1024, hop 256, 64 mels
 * 0..8000 Hz, 64 frames, clip at 3 std */
void gw_specfeat_config_default(gw_specfeat_config *c);
gw_status gw_specfeat_config_check(const gw_specfeat_config *c, const char *what, gw_error *err);
/* reads the optional object "features" of a preset (absent keys keep defaults) */
gw_status gw_specfeat_config_read(gw_specfeat_config *c, const cJSON *root, const char *path,
                                  gw_error *err);
/* adds the "features" object to a preset/architecture JSON */
gw_status gw_specfeat_config_write(const gw_specfeat_config *c, cJSON *root, gw_error *err);

typedef struct gw_specfeat gw_specfeat;

gw_status gw_specfeat_create(gw_specfeat **out, const gw_specfeat_config *c, gw_error *err);
void gw_specfeat_free(gw_specfeat *f);
const gw_specfeat_config *gw_specfeat_cfg(const gw_specfeat *f);
/* per-band statistics (n_mels), writable (mean 0, std 1 until fitted) */
float *gw_specfeat_mean(gw_specfeat *f);
float *gw_specfeat_std(gw_specfeat *f);
/* values per image: n_mels * frames */
size_t gw_specfeat_image_size(const gw_specfeat *f);

/* log-mel of one clip: logmel (n_mels, frames) from clip (clip_samples) */
void gw_specfeat_logmel(gw_specfeat *f, float *logmel, const float *clip);
/* fits mean and std per band over every frame of n log-mels
 * (n, n_mels, frames); std is floored at 1e-3 so a constant band is harmless */
void gw_specfeat_fit(gw_specfeat *f, const float *logmels, size_t n);
/* image (n_mels, frames) <-> log-mel (n_mels, frames); in place is fine */
void gw_specfeat_normalise(const gw_specfeat *f, float *img, const float *logmel);
void gw_specfeat_denormalise(const gw_specfeat *f, float *logmel, const float *img);
/* The 256 levels of a normalised value, shared by the PixelCNN's pixels and
 * the VAE's discretised bound (so their bits/dim compare): x clamped to
 * [-1, 1] (a NaN to a bound), level round((x + 1) 127.5); level k stands
 * for the bin k / 127.5 - 1 +- 1 / 255. */
enum { GW_SPEC_LEVELS = 256 };
static inline int gw_spec_level(float x) {
    x = fminf(fmaxf(x, -1.0f), 1.0f);
    return (int)lrintf((x + 1.0f) * 127.5f);
}

/* clip -> image */
void gw_specfeat_image(gw_specfeat *f, float *img, const float *clip);
/* image -> clip_samples of audio by mel inversion and gl_iters iterations of
 * fast Griffin-Lim from a seeded random phase; the result is scaled to peak
 * at most 0.99 */
gw_status gw_specfeat_to_audio(gw_specfeat *f, float *audio, const float *img, int gl_iters,
                               uint64_t seed, gw_error *err);

/* the model-file tensors "features.mean" and "features.std" */
gw_status gw_specfeat_save(const gw_specfeat *f, gw_gwm_writer *w, gw_error *err);
gw_status gw_specfeat_load(gw_specfeat *f, const gw_gwm *g, gw_error *err);

#endif
