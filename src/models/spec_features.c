/* Clip <-> normalised log-mel image of the spectrogram models: see
 * spec_features.h. */
#include "models/spec_features.h"

#include "dsp/gw_dsp.h"
#include "io/json.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct gw_specfeat {
    gw_specfeat_config cfg;
    gw_stft *stft;
    gw_mel *mel;
    int stft_frames, bins;
    float *mean, *std; /* (n_mels) */
    float *mag;        /* (stft_frames, bins) */
    float *melbuf;     /* (stft_frames, n_mels) */
};

void gw_specfeat_config_default(gw_specfeat_config *c) {
    c->sample_rate = 16000;
    c->clip_samples = 16384;
    c->n_fft = 1024;
    c->hop = 256;
    c->n_mels = 64;
    c->frames = 64;
    c->fmin = 0.0f;
    c->fmax = 8000.0f;
    c->clip_std = 3.0f;
}

gw_status gw_specfeat_config_check(const gw_specfeat_config *c, const char *what, gw_error *err) {
    if (c->sample_rate < 1000 || c->sample_rate > 384000)
        return gw_fail(err, GW_ERR_ARG, "%s: sample rate %d Hz out of range", what, c->sample_rate);
    if (c->n_fft < 16 || (c->n_fft & (c->n_fft - 1)))
        return gw_fail(err, GW_ERR_ARG, "%s: n_fft %d must be a power of two >= 16", what,
                       c->n_fft);
    if (c->hop < 1 || c->hop > c->n_fft)
        return gw_fail(err, GW_ERR_ARG, "%s: hop %d must be in 1..n_fft", what, c->hop);
    if (c->n_mels < 4 || c->n_mels > c->n_fft / 2)
        return gw_fail(err, GW_ERR_ARG, "%s: n_mels %d out of range", what, c->n_mels);
    if (c->frames < 4 || c->clip_samples < 1 || 1 + c->clip_samples / c->hop < c->frames)
        return gw_fail(err, GW_ERR_ARG, "%s: %d samples at hop %d give fewer than %d frames", what,
                       c->clip_samples, c->hop, c->frames);
    if (!(c->fmin >= 0 && c->fmax > c->fmin && c->fmax <= c->sample_rate / 2.0f))
        return gw_fail(err, GW_ERR_ARG, "%s: mel range %g..%g Hz invalid at %d Hz", what,
                       (double)c->fmin, (double)c->fmax, c->sample_rate);
    if (!(c->clip_std > 0 && c->clip_std < 100))
        return gw_fail(err, GW_ERR_ARG, "%s: clip_std %g must be in (0, 100)", what,
                       (double)c->clip_std);
    return GW_OK;
}

gw_status gw_specfeat_config_read(gw_specfeat_config *c, const cJSON *root, const char *path,
                                  gw_error *err) {
    gw_specfeat_config_default(c);
    static const char *const keys[] = {"sample_rate", "clip_samples", "n_fft", "hop",     "n_mels",
                                       "frames",      "fmin",         "fmax",  "clip_std"};
    gw_status st;
    if (!gw_json_find(root, "features")) return gw_specfeat_config_check(c, path, err);
    if ((st = gw_json_check_keys(root, "features", keys, 9, path, err))) return st;
    double fmin, fmax, cs;
    if ((st = gw_json_int(&c->sample_rate, root, "features.sample_rate", 1000, 384000, 1,
                          c->sample_rate, path, err)) ||
        (st = gw_json_int(&c->clip_samples, root, "features.clip_samples", 1, 1 << 24, 1,
                          c->clip_samples, path, err)) ||
        (st =
             gw_json_int(&c->n_fft, root, "features.n_fft", 16, 1 << 16, 1, c->n_fft, path, err)) ||
        (st = gw_json_int(&c->hop, root, "features.hop", 1, 1 << 16, 1, c->hop, path, err)) ||
        (st = gw_json_int(&c->n_mels, root, "features.n_mels", 4, 1024, 1, c->n_mels, path, err)) ||
        (st = gw_json_int(&c->frames, root, "features.frames", 4, 4096, 1, c->frames, path, err)) ||
        (st = gw_json_num(&fmin, root, "features.fmin", 0, 1e6, 1, c->fmin, path, err)) ||
        (st = gw_json_num(&fmax, root, "features.fmax", 1, 1e6, 1, c->fmax, path, err)) ||
        (st = gw_json_num(&cs, root, "features.clip_std", 1e-3, 100, 1, c->clip_std, path, err)))
        return st;
    c->fmin = (float)fmin, c->fmax = (float)fmax, c->clip_std = (float)cs;
    return gw_specfeat_config_check(c, path, err);
}

gw_status gw_specfeat_config_write(const gw_specfeat_config *c, cJSON *root, gw_error *err) {
    cJSON *o = cJSON_CreateObject();
    if (!o || !cJSON_AddNumberToObject(o, "sample_rate", c->sample_rate) ||
        !cJSON_AddNumberToObject(o, "clip_samples", c->clip_samples) ||
        !cJSON_AddNumberToObject(o, "n_fft", c->n_fft) ||
        !cJSON_AddNumberToObject(o, "hop", c->hop) ||
        !cJSON_AddNumberToObject(o, "n_mels", c->n_mels) ||
        !cJSON_AddNumberToObject(o, "frames", c->frames) ||
        !cJSON_AddNumberToObject(o, "fmin", c->fmin) ||
        !cJSON_AddNumberToObject(o, "fmax", c->fmax) ||
        !cJSON_AddNumberToObject(o, "clip_std", c->clip_std)) {
        cJSON_Delete(o);
        return gw_fail(err, GW_ERR_NOMEM, "features: cannot build JSON");
    }
    cJSON_DeleteItemFromObject(root, "features");
    cJSON_AddItemToObject(root, "features", o);
    return GW_OK;
}

gw_status gw_specfeat_create(gw_specfeat **out, const gw_specfeat_config *c, gw_error *err) {
    *out = NULL;
    gw_status st = gw_specfeat_config_check(c, "features", err);
    if (st) return st;
    gw_specfeat *f = calloc(1, sizeof *f);
    if (!f) return gw_fail(err, GW_ERR_NOMEM, "features: out of memory");
    f->cfg = *c;
    if ((st = gw_stft_create(&f->stft, c->n_fft, c->hop, err))) goto fail;
    if ((st = gw_mel_create(&f->mel, c->sample_rate, c->n_fft, c->n_mels, c->fmin, c->fmax, err)))
        goto fail;
    f->stft_frames = gw_stft_frames(f->stft, (size_t)c->clip_samples);
    f->bins = gw_stft_bins(f->stft);
    f->mean = gw_alloc((size_t)c->n_mels * 4);
    f->std = gw_alloc((size_t)c->n_mels * 4);
    f->mag = gw_alloc((size_t)f->stft_frames * f->bins * 4);
    f->melbuf = gw_alloc((size_t)f->stft_frames * c->n_mels * 4);
    if (!f->mean || !f->std || !f->mag || !f->melbuf) {
        st = gw_fail(err, GW_ERR_NOMEM, "features: out of memory");
        goto fail;
    }
    for (int b = 0; b < c->n_mels; b++)
        f->std[b] = 1.0f;
    *out = f;
    return GW_OK;
fail:
    gw_specfeat_free(f);
    return st;
}

void gw_specfeat_free(gw_specfeat *f) {
    if (!f) return;
    gw_stft_free(f->stft);
    gw_mel_free(f->mel);
    gw_free(f->mean);
    gw_free(f->std);
    gw_free(f->mag);
    gw_free(f->melbuf);
    free(f);
}

const gw_specfeat_config *gw_specfeat_cfg(const gw_specfeat *f) {
    return &f->cfg;
}
float *gw_specfeat_mean(gw_specfeat *f) {
    return f->mean;
}
float *gw_specfeat_std(gw_specfeat *f) {
    return f->std;
}
size_t gw_specfeat_image_size(const gw_specfeat *f) {
    return (size_t)f->cfg.n_mels * f->cfg.frames;
}

void gw_specfeat_logmel(gw_specfeat *f, float *logmel, const float *clip) {
    int M = f->cfg.n_mels, T = f->cfg.frames;
    gw_stft_magnitude(f->stft, f->mag, clip, (size_t)f->cfg.clip_samples);
    gw_mel_apply(f->mel, f->melbuf, f->mag, f->stft_frames);
    gw_log_mel(f->melbuf, f->melbuf, (size_t)f->stft_frames * M);
    for (int t = 0; t < T; t++)
        for (int b = 0; b < M; b++)
            logmel[(size_t)b * T + t] = f->melbuf[(size_t)t * M + b];
}

void gw_specfeat_fit(gw_specfeat *f, const float *logmels, size_t n) {
    int M = f->cfg.n_mels, T = f->cfg.frames;
    for (int b = 0; b < M; b++) {
        double s = 0, s2 = 0;
        for (size_t i = 0; i < n; i++) {
            const float *row = logmels + (i * M + b) * T;
            for (int t = 0; t < T; t++)
                s += row[t], s2 += (double)row[t] * row[t];
        }
        double cnt = (double)n * T;
        double mean = cnt > 0 ? s / cnt : 0;
        double var = cnt > 0 ? s2 / cnt - mean * mean : 1;
        f->mean[b] = (float)mean;
        f->std[b] = (float)fmax(sqrt(fmax(var, 0)), 1e-3);
    }
}

void gw_specfeat_normalise(const gw_specfeat *f, float *img, const float *logmel) {
    int M = f->cfg.n_mels, T = f->cfg.frames;
    float c = f->cfg.clip_std;
    for (int b = 0; b < M; b++) {
        float m = f->mean[b], inv = 1.0f / f->std[b];
        for (int t = 0; t < T; t++) {
            float v = (logmel[b * T + t] - m) * inv;
            v = v < -c ? -c : v > c ? c : v;
            img[b * T + t] = v / c;
        }
    }
}

void gw_specfeat_denormalise(const gw_specfeat *f, float *logmel, const float *img) {
    int M = f->cfg.n_mels, T = f->cfg.frames;
    float c = f->cfg.clip_std;
    for (int b = 0; b < M; b++)
        for (int t = 0; t < T; t++)
            logmel[b * T + t] = img[b * T + t] * c * f->std[b] + f->mean[b];
}

void gw_specfeat_image(gw_specfeat *f, float *img, const float *clip) {
    gw_specfeat_logmel(f, img, clip);
    gw_specfeat_normalise(f, img, img);
}

gw_status gw_specfeat_to_audio(gw_specfeat *f, float *audio, const float *img, int gl_iters,
                               uint64_t seed, gw_error *err) {
    int M = f->cfg.n_mels, T = f->cfg.frames;
    float c = f->cfg.clip_std;
    memset(f->melbuf, 0, (size_t)f->stft_frames * M * 4);
    for (int b = 0; b < M; b++)
        for (int t = 0; t < T; t++) {
            float lm = img[b * T + t] * c * f->std[b] + f->mean[b];
            float v = expf(lm) - 1e-5f;
            f->melbuf[(size_t)t * M + b] = v > 0 ? v : 0;
        }
    gw_mel_invert(f->mel, f->mag, f->melbuf, f->stft_frames);
    size_t n = (size_t)f->cfg.clip_samples;
    gw_status st =
        gw_griffin_lim(f->stft, audio, f->mag, f->stft_frames, n, gl_iters, 0.99f, seed, NULL, err);
    if (st) return st;
    for (size_t i = 0; i < n; i++)
        if (!isfinite(audio[i]))
            return gw_fail(err, GW_ERR_NUMERIC, "features: Griffin-Lim gave a non-finite sample");
    gw_fit_peak(audio, n, 0.99f);
    return GW_OK;
}

gw_status gw_specfeat_save(const gw_specfeat *f, gw_gwm_writer *w, gw_error *err) {
    gw_status st =
        gw_gwm_writer_add(w, "features.mean", GW_GWM_F32, 1, &f->cfg.n_mels, f->mean, err);
    if (st) return st;
    return gw_gwm_writer_add(w, "features.std", GW_GWM_F32, 1, &f->cfg.n_mels, f->std, err);
}

gw_status gw_specfeat_load(gw_specfeat *f, const gw_gwm *g, gw_error *err) {
    gw_status st = gw_gwm_read(g, "features.mean", GW_GWM_F32, 1, &f->cfg.n_mels, f->mean, err);
    if (st) return st;
    if ((st = gw_gwm_read(g, "features.std", GW_GWM_F32, 1, &f->cfg.n_mels, f->std, err)))
        return st;
    for (int b = 0; b < f->cfg.n_mels; b++)
        if (!isfinite(f->mean[b]) || !(f->std[b] > 0) || !isfinite(f->std[b]))
            return gw_fail(err, GW_ERR_FORMAT, "%s: features.std/mean band %d is not usable",
                           gw_gwm_path(g), b);
    return GW_OK;
}
