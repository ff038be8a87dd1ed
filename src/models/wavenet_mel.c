/* The mel input of a vocoder WaveNet (wavenet.h, "local conditioning"):
 * computed on training windows and on a whole file for `render --vocode`. */
#include "models/wavenet.h"

#include "dsp/gw_dsp.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct gw_wavenet_mel {
    gw_stft *stft;
    gw_mel *mel;
    int n_mels, hop, bins;
    size_t max_frames;
    float *mag;  // (max_frames, bins)
    float *melf; // (max_frames, n_mels)
};

gw_status gw_wavenet_mel_create(gw_wavenet_mel **out, const gw_wavenet_config *cfg,
                                size_t max_samples, gw_error *err) {
    *out = NULL;
    if (cfg->n_mels < 1) return gw_fail(err, GW_ERR_ARG, "%s: model has no mel input", cfg->name);
    gw_wavenet_mel *m = calloc(1, sizeof *m);
    if (!m) return gw_fail(err, GW_ERR_NOMEM, "mel features: out of memory");
    m->n_mels = cfg->n_mels, m->hop = cfg->hop;
    int n_fft = 4 * cfg->hop;
    gw_status st = gw_stft_create(&m->stft, n_fft, cfg->hop, err);
    if (!st)
        st = gw_mel_create(&m->mel, cfg->sample_rate, n_fft, cfg->n_mels, 0.0f,
                           0.5f * cfg->sample_rate, err);
    if (!st) {
        m->bins = gw_stft_bins(m->stft);
        m->max_frames = (size_t)gw_stft_frames(m->stft, max_samples);
        m->mag = malloc(m->max_frames * m->bins * sizeof(float));
        m->melf = malloc(m->max_frames * m->n_mels * sizeof(float));
        if (!m->mag || !m->melf) st = gw_fail(err, GW_ERR_NOMEM, "mel features: out of memory");
    }
    if (st) {
        gw_wavenet_mel_free(m);
        return st;
    }
    *out = m;
    return GW_OK;
}

void gw_wavenet_mel_free(gw_wavenet_mel *m) {
    if (!m) return;
    gw_stft_free(m->stft);
    gw_mel_free(m->mel);
    free(m->mag);
    free(m->melf);
    free(m);
}

void gw_wavenet_mel_rows(gw_wavenet_mel *m, float *rows, const float *x, size_t n) {
    int frames = gw_stft_frames(m->stft, n);
    gw_stft_magnitude(m->stft, m->mag, x, n);
    gw_mel_apply(m->mel, m->melf, m->mag, frames);
    gw_log_mel(m->melf, m->melf, (size_t)frames * m->n_mels);
    for (size_t i = 0; i < n; i++) {
        size_t f = i / (size_t)m->hop;
        if (f >= (size_t)frames) f = (size_t)frames - 1;
        memcpy(rows + i * m->n_mels, m->melf + f * m->n_mels, (size_t)m->n_mels * sizeof(float));
    }
}
