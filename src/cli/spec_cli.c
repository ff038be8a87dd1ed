/* Shared pieces of the spectrogram-model commands: see spec_cli.h. */
#include "cli/spec_cli.h"

#include "io/audio.h"
#include "train/spec_trainer.h"

#include <stdlib.h>
#include <string.h>

int gw_spec_model_open(gw_spec_model *m, const char *path, int B_max) {
    memset(m, 0, sizeof *m);
    gw_error err = {0};
    gw_gwm *f = NULL;
    if (gw_gwm_open(&f, path, &err)) return gw_cli_error(&err);
    return gw_spec_model_from(m, f, B_max);
}

int gw_spec_model_from(gw_spec_model *m, gw_gwm *f, int B_max) {
    memset(m, 0, sizeof *m);
    m->file = f;
    gw_error err = {0};
    const char *path = gw_gwm_path(f);
    const char *kind = gw_gwm_meta(m->file, "model");
    gw_status st;
    if (kind && !strcmp(kind, GW_SPECGAN_KIND)) {
        st = gw_specgan_from_gwm(&m->gan, m->file, B_max, &err);
        if (!st) m->feat = m->gan->feat, m->z_dim = m->gan->cfg.z_dim;
    } else if (kind && !strcmp(kind, GW_SPECVAE_KIND)) {
        st = gw_specvae_from_gwm(&m->vae, m->file, B_max, &err);
        if (!st) m->feat = m->vae->feat, m->z_dim = m->vae->cfg.z_dim;
    } else {
        st = gw_fail(&err, GW_ERR_FORMAT,
                     "%s: is a '%s' model; this command needs a spectrogram GAN or VAE%s", path,
                     kind ? kind : "unknown",
                     kind && !strcmp(kind, GW_PIXELCNN_KIND)
                         ? " (a PixelCNN works with sample, eval, complete and info)"
                         : "");
    }
    if (st) {
        gw_spec_model_close(m);
        return gw_cli_error(&err);
    }
    const gw_specfeat_config *c = gw_specfeat_cfg(m->feat);
    m->M = c->n_mels, m->T = c->frames, m->sample_rate = c->sample_rate;
    m->clip_samples = c->clip_samples;
    m->img = gw_specfeat_image_size(m->feat);
    return 0;
}

int gw_spec_vae_open(gw_spec_model *m, const char *path, int B_max, const char *cmd) {
    if (gw_spec_model_open(m, path, B_max)) return 1;
    if (m->vae) return 0;
    fprintf(stderr, "genwave: %s: is a spectrogram GAN; %s needs a VAE\n", path, cmd);
    gw_spec_model_close(m);
    return 1;
}

void gw_spec_model_close(gw_spec_model *m) {
    gw_specgan_free(m->gan);
    gw_specvae_free(m->vae);
    gw_gwm_free(m->file);
    memset(m, 0, sizeof *m);
}

void gw_spec_model_decode(gw_spec_model *m, float *img, const float *z, int n) {
    if (m->gan)
        gw_specgan_generate(m->gan, img, z, n);
    else
        gw_specvae_decode(m->vae, img, z, n);
}

int gw_spec_clips_read(gw_spec_clips *c, const char *path, const gw_spec_model *m, size_t hop,
                       size_t pad) {
    memset(c, 0, sizeof *c);
    gw_error err = {0};
    float *x = NULL;
    size_t n = 0;
    if (gw_audio_read_mono(&x, &n, NULL, path, m->sample_rate, &err)) return gw_cli_error(&err);
    if (n == 0) {
        free(x);
        fprintf(stderr, "genwave: %s: no samples\n", path);
        return 1;
    }
    size_t L = (size_t)m->clip_samples, total = n + 2 * pad;
    size_t count = total <= L ? 1 : 1 + (total - L + hop - 1) / hop;
    c->padded_n = (count - 1) * hop + L;
    c->audio = calloc(c->padded_n, sizeof(float));
    if (!c->audio) {
        free(x);
        fprintf(stderr, "genwave: %s: out of memory\n", path);
        return 1;
    }
    memcpy(c->audio + pad, x, n * sizeof(float));
    free(x);
    c->n = n, c->pad = pad, c->hop = hop, c->count = count;
    return 0;
}

void gw_spec_clips_free(gw_spec_clips *c) {
    free(c->audio);
    memset(c, 0, sizeof *c);
}

int gw_spec_write_set(const char *dir, const char *name, gw_specfeat *feat, const float *img, int n,
                      int gl_iters, uint64_t seed) {
    gw_error err = {0};
    char path[4400];
    const gw_specfeat_config *c = gw_specfeat_cfg(feat);
    const size_t isz = gw_specfeat_image_size(feat);
    float *wav = malloc((size_t)c->clip_samples * sizeof(float));
    if (!wav) {
        fprintf(stderr, "genwave: out of memory\n");
        return 1;
    }
    for (int i = 0; i < n; i++) {
        snprintf(path, sizeof path, "%s/%s-%03d.wav", dir, name, i);
        if (gw_spec_write_wav(path, feat, img + (size_t)i * isz, gl_iters, seed + (uint64_t)i, wav,
                              &err)) {
            free(wav);
            return gw_cli_error(&err);
        }
    }
    free(wav);
    snprintf(path, sizeof path, "%s/%s-grid.png", dir, name);
    int cols = n < 4 ? n : n <= 16 ? 4 : 8;
    if (gw_spec_write_grid(path, img, n, c->n_mels, c->frames, cols, &err))
        return gw_cli_error(&err);
    return 0;
}

int gw_spec_pixelcnn_load(gw_pixelcnn_model *m, const gw_gwm *f) {
    gw_error err = {0};
    if (gw_pixelcnn_model_from_gwm(m, f, &err)) return gw_cli_error(&err);
    return 0;
}

int gw_spec_pixelcnn_label(int *label, const gw_pixelcnn_model *m, const char *name,
                           const char *path) {
    *label = -1;
    if (!name) return 0;
    char list[2048];
    if (!m->classes) {
        fprintf(stderr, "genwave: %s: --class %s: the model is not conditioned on classes\n", path,
                name);
        return 1;
    }
    if ((*label = gw_pixelcnn_model_class(m, name)) >= 0) return 0;
    fprintf(stderr, "genwave: %s: no class '%s'; the model knows %s\n", path, name,
            gw_pixelcnn_model_class_list(m, list, sizeof list));
    return 1;
}
