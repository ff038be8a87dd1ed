/* The spectrogram GAN: see specgan.h and docs/gan.md. */
#include "models/specgan.h"

#include "io/json.h"

#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* the keys of G's and D's widths (spec_nets.h) */
static const char *const net_keys[2] = {"g_channels", "d_channels"};

/* "train", in the order it is written (spec_config.h) */
static const gw_spec_key train_keys[] = {
    {.key = "batch"},
    {"lr_g", GW_SPEC_KEY_FLOAT, 1e-8, 1, offsetof(gw_specgan_config, lr_g)},
    {"lr_d", GW_SPEC_KEY_FLOAT, 1e-8, 1, offsetof(gw_specgan_config, lr_d)},
    {.key = "beta1"},
    {.key = "beta2"},
    {"d_steps", GW_SPEC_KEY_INT, 1, 100, offsetof(gw_specgan_config, d_steps)},
    {"ema_decay", GW_SPEC_KEY_FLOAT, 0, 0.999999, offsetof(gw_specgan_config, ema_decay)},
    {"diffaugment", GW_SPEC_KEY_INT, 0, 1, offsetof(gw_specgan_config, diffaugment)},
    {.key = "sample_every"},
};
enum { N_TRAIN_KEYS = sizeof train_keys / sizeof *train_keys };

const char *gw_gan_loss_name(gw_gan_loss l) {
    switch (l) {
    case GW_GAN_LOSS_MINIMAX:
        return "minimax";
    case GW_GAN_LOSS_NONSATURATING:
        return "nonsaturating";
    case GW_GAN_LOSS_HINGE:
        return "hinge";
    }
    return "unknown";
}

gw_status gw_gan_loss_parse(gw_gan_loss *out, const char *name, gw_error *err) {
    for (int l = GW_GAN_LOSS_MINIMAX; l <= GW_GAN_LOSS_HINGE; l++)
        if (!strcmp(name, gw_gan_loss_name((gw_gan_loss)l))) {
            *out = (gw_gan_loss)l;
            return GW_OK;
        }
    return gw_fail(err, GW_ERR_ARG, "unknown GAN loss '%s' (minimax, nonsaturating, hinge)", name);
}

void gw_specgan_config_default(gw_specgan_config *c) {
    memset(c, 0, sizeof *c);
    snprintf(c->name, sizeof c->name, "specgan-small");
    gw_specfeat_config_default(&c->feat);
    c->z_dim = 100;
    static const int gch[4] = {256, 128, 64, 32}, dch[4] = {32, 64, 128, 256};
    c->g.L = c->d.L = 4;
    c->g.K = c->d.K = 5;
    memcpy(c->g.ch, gch, sizeof gch);
    memcpy(c->d.ch, dch, sizeof dch);
    c->g.H = c->d.H = c->feat.n_mels;
    c->g.W = c->d.W = c->feat.frames;
    c->slope = 0.2f;
    c->loss = GW_GAN_LOSS_NONSATURATING;
    c->spectral_norm = 0;
    c->batch = 64;
    c->d_steps = 1;
    c->sample_every = 500;
    c->lr_g = c->lr_d = 2e-4f;
    c->beta1 = 0.5f;
    c->beta2 = 0.999f;
    c->ema_decay = 0.999f;
}

gw_status gw_specgan_config_from_json(gw_specgan_config *c, const cJSON *root, const char *path,
                                      gw_error *err) {
    gw_specgan_config_default(c);
    static const char *const keys[] = {"model",      "name",          "features", "z_dim",
                                       "g_channels", "d_channels",    "kernel",   "lrelu_slope",
                                       "loss",       "spectral_norm", "train",    "minibatch_std"};
    gw_status st;
    const char *s;
    if ((st = gw_json_check_keys(root, NULL, keys, 12, path, err)) ||
        (st = gw_spec_common_read(&c->common, GW_SPECGAN_KIND, root, path, err)) ||
        (st = gw_specnet_pair_read(&c->g, &c->d, &c->z_dim, &c->slope, net_keys, &c->feat, root,
                                   path, err)))
        return st;
    if ((st = gw_json_str(&s, root, "loss", 1, "nonsaturating", path, err))) return st;
    if (gw_gan_loss_parse(&c->loss, s, NULL))
        return gw_fail(err, GW_ERR_ARG, "%s: key 'loss' is '%s' (minimax, nonsaturating or hinge)",
                       path, s);
    if ((st = gw_json_bool(&c->spectral_norm, root, "spectral_norm", 1,
                           c->loss == GW_GAN_LOSS_HINGE, path, err)))
        return st;
    if ((st = gw_json_int(&c->mbstd, root, "minibatch_std", 0, 4096, 1, 0, path, err)) ||
        (st = gw_spec_train_read(c, train_keys, N_TRAIN_KEYS, root, path, err)) ||
        (st = gw_specnet_shape_check(&c->g, path, err)))
        return st;
    return gw_specnet_shape_check(&c->d, path, err);
}

gw_status gw_specgan_config_load(gw_specgan_config *c, const char *path, gw_error *err) {
    cJSON *root = NULL;
    gw_status st = gw_json_load(&root, path, err);
    if (st) return st;
    st = gw_specgan_config_from_json(c, root, path, err);
    cJSON_Delete(root);
    return st;
}

char *gw_specgan_config_to_json(const gw_specgan_config *c) {
    cJSON *r = cJSON_CreateObject();
    char *out = NULL;
    if (!r || gw_spec_common_write(&c->common, GW_SPECGAN_KIND, r)) goto done;
    gw_specnet_pair_write(r, &c->g, &c->d, c->z_dim, c->slope, net_keys);
    cJSON_AddStringToObject(r, "loss", gw_gan_loss_name(c->loss));
    cJSON_AddBoolToObject(r, "spectral_norm", c->spectral_norm);
    cJSON_AddNumberToObject(r, "minibatch_std", c->mbstd);
    if (gw_spec_train_write(c, train_keys, N_TRAIN_KEYS, r)) goto done;
    out = cJSON_PrintUnformatted(r);
done:
    cJSON_Delete(r);
    return out;
}

gw_status gw_specgan_create(gw_specgan **out, const gw_specgan_config *c, int B_max, gw_rng *rng,
                            gw_error *err) {
    *out = NULL;
    if (B_max < 1) return gw_fail(err, GW_ERR_ARG, "specgan: batch %d must be >= 1", B_max);
    gw_specgan *m = calloc(1, sizeof *m);
    if (!m) return gw_fail(err, GW_ERR_NOMEM, "specgan: out of memory");
    m->cfg = *c;
    m->B_max = B_max;
    gw_status st;
    m->gp = gw_params_create();
    m->dp = gw_params_create();
    if (!m->gp || !m->dp) {
        st = gw_fail(err, GW_ERR_NOMEM, "specgan: out of memory");
        goto fail;
    }
    if ((st = gw_upnet_declare(&m->G, m->gp, "gen", &c->g, c->z_dim, GW_SPECNET_OUT_TANH, err)) ||
        (st = gw_downnet_declare(&m->D, m->dp, "disc", &c->d, 1, c->slope, c->spectral_norm,
                                 c->mbstd, err)) ||
        (st = gw_params_alloc(m->gp, err)) || (st = gw_params_alloc(m->dp, err)) ||
        (st = gw_upnet_setup(&m->G, B_max, rng, err)) ||
        /* D sees real and fake halves as one batch */
        (st = gw_downnet_setup(&m->D, 2 * B_max, rng, err)) ||
        (st = gw_specfeat_create(&m->feat, &c->feat, err)))
        goto fail;
    *out = m;
    return GW_OK;
fail:
    gw_specgan_free(m);
    return st;
}

void gw_specgan_free(gw_specgan *m) {
    if (!m) return;
    gw_upnet_release(&m->G);
    gw_downnet_release(&m->D);
    gw_adam_free(m->opt_g);
    gw_adam_free(m->opt_d);
    gw_ema_free(m->ema);
    gw_params_free(m->gp);
    gw_params_free(m->dp);
    gw_specfeat_free(m->feat);
    gw_free(m->z);
    gw_free(m->dbatch);
    gw_free(m->dlogits);
    gw_free(m->dimg);
    free(m->aug);
    gw_free(m->abatch);
    free(m);
}

size_t gw_specgan_image_size(const gw_specgan *m) {
    return (size_t)m->cfg.g.H * m->cfg.g.W;
}

gw_status gw_specgan_train_begin(gw_specgan *m, gw_error *err) {
    gw_adam_config ag = gw_adam_defaults(), ad;
    ag.lr = m->cfg.lr_g;
    ag.beta1 = m->cfg.beta1;
    ag.beta2 = m->cfg.beta2;
    ad = ag;
    ad.lr = m->cfg.lr_d;
    size_t img = gw_specgan_image_size(m), B = (size_t)m->B_max;
    gw_status st;
    if ((st = gw_adam_create(&m->opt_g, m->gp, &ag, err)) ||
        (st = gw_adam_create(&m->opt_d, m->dp, &ad, err)) ||
        (st = gw_ema_create(&m->ema, m->gp, m->cfg.ema_decay, 1, err)))
        return st;
    m->z = gw_alloc(B * m->cfg.z_dim * 4);
    m->dbatch = gw_alloc(2 * B * img * 4);
    m->dlogits = gw_alloc(2 * B * 4);
    m->dimg = gw_alloc(B * img * 4);
    if (!m->z || !m->dbatch || !m->dlogits || !m->dimg)
        return gw_fail(err, GW_ERR_NOMEM, "specgan: cannot allocate training buffers");
    if (m->cfg.diffaugment) {
        m->aug = calloc(3 * B, sizeof *m->aug);
        m->abatch = gw_alloc(2 * B * img * 4);
        if (!m->aug || !m->abatch)
            return gw_fail(err, GW_ERR_NOMEM, "specgan: cannot allocate augmentation buffers");
    }
    return GW_OK;
}

/* log(1 + exp(x)) without overflow */
static float softplus(float x) {
    return fmaxf(x, 0.0f) + log1pf(expf(-fabsf(x)));
}
static float sigmoid(float x) {
    return x >= 0 ? 1.0f / (1.0f + expf(-x)) : expf(x) / (1.0f + expf(x));
}

/* BCE with target 1 is softplus(-x), with target 0 softplus(x) (docs/gan.md) */
float gw_gan_d_loss(float *dreal, float *dfake, const float *lreal, const float *lfake, int B,
                    gw_gan_loss loss) {
    double l = 0;
    float inv = 1.0f / (float)B;
    for (int i = 0; i < B; i++) {
        if (loss == GW_GAN_LOSS_HINGE) {
            l += fmaxf(0.0f, 1.0f - lreal[i]) + fmaxf(0.0f, 1.0f + lfake[i]);
            if (dreal && lreal[i] < 1.0f) dreal[i] -= inv;
            if (dfake && lfake[i] > -1.0f) dfake[i] += inv;
        } else {
            l += softplus(-lreal[i]) + softplus(lfake[i]);
            if (dreal) dreal[i] += (sigmoid(lreal[i]) - 1.0f) * inv;
            if (dfake) dfake[i] += sigmoid(lfake[i]) * inv;
        }
    }
    return (float)(l / B);
}

float gw_gan_g_loss(float *dfake, const float *lfake, int B, gw_gan_loss loss) {
    double l = 0;
    float inv = 1.0f / (float)B;
    for (int i = 0; i < B; i++) {
        switch (loss) {
        case GW_GAN_LOSS_MINIMAX: /* log(1 - sigmoid(x)) = -softplus(x) */
            l -= softplus(lfake[i]);
            if (dfake) dfake[i] -= sigmoid(lfake[i]) * inv;
            break;
        case GW_GAN_LOSS_NONSATURATING: /* -log sigmoid(x) = softplus(-x) */
            l += softplus(-lfake[i]);
            if (dfake) dfake[i] += (sigmoid(lfake[i]) - 1.0f) * inv;
            break;
        case GW_GAN_LOSS_HINGE:
            l -= lfake[i];
            if (dfake) dfake[i] -= inv;
            break;
        }
    }
    return (float)(l / B);
}

static float mean_sigmoid(const float *x, int n) {
    double s = 0;
    for (int i = 0; i < n; i++)
        s += sigmoid(x[i]);
    return (float)(s / n);
}

void gw_specgan_sample_z(float *z, size_t n, float truncation, gw_rng *rng) {
    for (size_t i = 0; i < n; i++) {
        float v = gw_rng_normal(rng);
        if (truncation > 0)
            while (fabsf(v) > truncation)
                v = gw_rng_normal(rng);
        z[i] = v;
    }
}

/* B images' DiffAugment parameters: this process's share of a batch's
 * draws when training data-parallel (gw_specgan_set_share) */
static void draw_aug(gw_specgan *m, gw_diffaug *p, int B, gw_rng *rng) {
    const int H = m->cfg.d.H, W = m->cfg.d.W;
    if (m->share_total > 0) gw_rng_skip(rng, 4 * (uint64_t)m->share_off);
    gw_diffaug_draw(p, B, H, W, rng);
    if (m->share_total > 0) gw_rng_skip(rng, 4 * (uint64_t)(m->share_total - m->share_off - B));
}

void gw_specgan_set_share(gw_specgan *m, int off, int total) {
    m->share_off = off, m->share_total = total;
}

gw_status gw_specgan_d_step(gw_specgan *m, gw_specgan_stats *st, const float *real, int B,
                            gw_rng *rng, gw_error *err) {
    if (B < 1 || B > m->B_max)
        return gw_fail(err, GW_ERR_ARG, "specgan: batch %d outside 1..%d", B, m->B_max);
    if (m->cfg.mbstd && B % m->cfg.mbstd)
        return gw_fail(err, GW_ERR_ARG,
                       "specgan: batch %d is not a multiple of minibatch_std %d (a group would "
                       "mix real and generated images)",
                       B, m->cfg.mbstd);
    size_t img = gw_specgan_image_size(m);
    const size_t Z = (size_t)m->cfg.z_dim;
    if (m->share_total > 0) /* this process's share of the batch's latents */
        gw_rng_fill_normal_share(rng, m->z, (size_t)B * Z, (size_t)m->share_off * Z,
                                 (size_t)(m->share_total - m->share_off - B) * Z);
    else
        gw_rng_fill_normal(rng, m->z, (size_t)B * Z, 0.0f, 1.0f);
    const float *fake = gw_upnet_forward(&m->G, m->z, B);
    m->fake_B = B;
    /* one D pass over [real; fake] keeps the matrix products twice as wide */
    memcpy(m->dbatch, real, (size_t)B * img * 4);
    memcpy(m->dbatch + (size_t)B * img, fake, (size_t)B * img * 4);
    const float *din = m->dbatch;
    if (m->cfg.diffaugment) { /* reals, fakes, and the next G step's fakes */
        for (int k = 0; k < 3; k++)
            draw_aug(m, m->aug + (size_t)k * m->B_max, B, rng);
        gw_diffaug_forward(m->abatch, m->dbatch, m->aug, B, m->cfg.d.H, m->cfg.d.W);
        gw_diffaug_forward(m->abatch + (size_t)B * img, m->dbatch + (size_t)B * img,
                           m->aug + m->B_max, B, m->cfg.d.H, m->cfg.d.W);
        din = m->abatch;
    }
    const float *logits = gw_downnet_forward(&m->D, din, 2 * B, 1);
    memset(m->dlogits, 0, (size_t)2 * B * 4);
    float l = gw_gan_d_loss(m->dlogits, m->dlogits + B, logits, logits + B, B, m->cfg.loss);
    if (!isfinite(l)) return gw_fail(err, GW_ERR_NUMERIC, "specgan: discriminator loss is %g", l);
    st->d_loss = l;
    st->d_real = mean_sigmoid(logits, B);
    st->d_fake = mean_sigmoid(logits + B, B);
    gw_params_zero_grad(m->dp);
    gw_downnet_backward(&m->D, NULL, m->dlogits, 1);
    return gw_adam_step(m->opt_d, m->cfg.lr_d, err);
}

gw_status gw_specgan_g_step(gw_specgan *m, gw_specgan_stats *st, gw_error *err) {
    int B = m->fake_B;
    if (!B) return gw_fail(err, GW_ERR_ARG, "specgan: G step before any D step");
    const float *fake = m->G.act[m->G.L - 1];
    const int aug = m->cfg.diffaugment, H = m->cfg.d.H, W = m->cfg.d.W;
    const size_t img = gw_specgan_image_size(m);
    if (aug) gw_diffaug_forward(m->abatch, fake, m->aug + 2 * (size_t)m->B_max, B, H, W);
    const float *logits = gw_downnet_forward(&m->D, aug ? m->abatch : fake, B, 1);
    memset(m->dlogits, 0, (size_t)B * 4);
    float l = gw_gan_g_loss(m->dlogits, logits, B, m->cfg.loss);
    if (!isfinite(l)) return gw_fail(err, GW_ERR_NUMERIC, "specgan: generator loss is %g", l);
    st->g_loss = l;
    /* D's input gradient; through the augmentation's transpose to the fakes */
    float *dd = aug ? m->abatch + (size_t)B * img : m->dimg;
    memset(dd, 0, (size_t)B * img * 4);
    gw_downnet_backward(&m->D, dd, m->dlogits, 0);
    if (aug) gw_diffaug_backward(m->dimg, dd, m->aug + 2 * (size_t)m->B_max, B, H, W);
    gw_params_zero_grad(m->gp);
    gw_upnet_backward(&m->G, NULL, m->dimg, 1);
    gw_status s = gw_adam_step(m->opt_g, m->cfg.lr_g, err);
    if (s) return s;
    gw_ema_update(m->ema);
    return GW_OK;
}

void gw_specgan_generate(gw_specgan *m, float *img, const float *z, int n) {
    size_t isz = gw_specgan_image_size(m);
    for (int i = 0; i < n; i += m->B_max) {
        int b = n - i < m->B_max ? n - i : m->B_max;
        const float *o = gw_upnet_forward(&m->G, z + (size_t)i * m->cfg.z_dim, b);
        memcpy(img + (size_t)i * isz, o, (size_t)b * isz * 4);
    }
    m->fake_B = 0; /* the G activations no longer belong to a D step */
}

void gw_specgan_discriminate(gw_specgan *m, float *logits, const float *img, int n) {
    size_t isz = gw_specgan_image_size(m);
    int bm = m->D.B_max;
    for (int i = 0; i < n; i += bm) {
        int b = n - i < bm ? n - i : bm;
        const float *o = gw_downnet_forward(&m->D, img + (size_t)i * isz, b, 0);
        memcpy(logits + i, o, (size_t)b * 4);
    }
}

gw_status gw_specgan_write(gw_specgan *m, gw_gwm_writer *w, int use_ema, gw_error *err) {
    gw_status st = gw_specmodel_write_meta(w, GW_SPECGAN_KIND, gw_specgan_config_to_json(&m->cfg),
                                           m->cfg.feat.sample_rate,
                                           gw_params_numel(m->gp) + gw_params_numel(m->dp), err);
    if (st) return st;
    int swap = use_ema && m->ema;
    if (swap) gw_ema_swap(m->ema);
    st = gw_gwm_writer_add_params(w, m->gp, "", err);
    if (swap) gw_ema_swap(m->ema);
    if (!st) st = gw_gwm_writer_add_params(w, m->dp, "", err);
    if (!st) st = gw_specfeat_save(m->feat, w, err);
    return st;
}

gw_status gw_specgan_from_gwm(gw_specgan **out, const gw_gwm *f, int B_max, gw_error *err) {
    *out = NULL;
    const char *path = gw_gwm_path(f);
    cJSON *root = NULL;
    gw_status st = gw_specmodel_read_config(&root, f, GW_SPECGAN_KIND, "spectrogram GAN", err);
    if (st) return st;
    gw_specgan_config c;
    st = gw_specgan_config_from_json(&c, root, path, err);
    cJSON_Delete(root);
    if (st) return st;
    gw_specgan *m = NULL;
    if ((st = gw_specgan_create(&m, &c, B_max, NULL, err))) return st;
    if ((st = gw_gwm_load_params(f, m->gp, "", err)) ||
        (st = gw_gwm_load_params(f, m->dp, "", err)) || (st = gw_specfeat_load(m->feat, f, err))) {
        gw_specgan_free(m);
        return st;
    }
    *out = m;
    return GW_OK;
}
