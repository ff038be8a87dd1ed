/* The spectrogram VAE: see specvae.h and docs/vae.md. */
#include "models/specvae.h"

#include "io/json.h"
#include "models/spec_metrics.h"
#include "nn/layers.h"

#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* the keys of the encoder's and the decoder's widths (spec_nets.h) */
static const char *const net_keys[2] = {"enc_channels", "dec_channels"};

/* "train", in the order it is written (spec_config.h) */
static const gw_spec_key train_keys[] = {
    {.key = "batch"},
    {.key = "lr"},
    {.key = "beta1"},
    {.key = "beta2"},
    {"beta", GW_SPEC_KEY_FLOAT, 0, 1000, offsetof(gw_specvae_config, beta)},
    {"kl_warmup", GW_SPEC_KEY_INT, 0, 1 << 30, offsetof(gw_specvae_config, kl_warmup)},
    {"free_bits", GW_SPEC_KEY_FLOAT, 0, 100, offsetof(gw_specvae_config, free_bits)},
    {.key = "sample_every"},
};
enum { N_TRAIN_KEYS = sizeof train_keys / sizeof *train_keys };

void gw_specvae_config_default(gw_specvae_config *c) {
    memset(c, 0, sizeof *c);
    snprintf(c->name, sizeof c->name, "specvae-small");
    gw_specfeat_config_default(&c->feat);
    c->z_dim = 32;
    static const int ech[4] = {32, 64, 128, 256}, dch[4] = {256, 128, 64, 32};
    c->enc.L = c->dec.L = 4;
    c->enc.K = c->dec.K = 5;
    memcpy(c->enc.ch, ech, sizeof ech);
    memcpy(c->dec.ch, dch, sizeof dch);
    c->enc.H = c->dec.H = c->feat.n_mels;
    c->enc.W = c->dec.W = c->feat.frames;
    c->slope = 0.2f;
    c->dec_var = 0.5f;
    c->batch = 64;
    c->kl_warmup = 0;
    c->sample_every = 500;
    c->lr = 1e-3f;
    c->beta1 = 0.9f;
    c->beta2 = 0.999f;
    c->beta = 1.0f;
    c->free_bits = 0.0f;
}

gw_status gw_specvae_config_from_json(gw_specvae_config *c, const cJSON *root, const char *path,
                                      gw_error *err) {
    gw_specvae_config_default(c);
    static const char *const keys[] = {
        "model",  "name",        "features",         "z_dim", "enc_channels", "dec_channels",
        "kernel", "lrelu_slope", "decoder_variance", "train"};
    gw_status st;
    double v;
    if ((st = gw_json_check_keys(root, NULL, keys, 10, path, err)) ||
        (st = gw_spec_common_read(&c->common, GW_SPECVAE_KIND, root, path, err)) ||
        (st = gw_specnet_pair_read(&c->enc, &c->dec, &c->z_dim, &c->slope, net_keys, &c->feat, root,
                                   path, err)))
        return st;
    if ((st = gw_json_num(&v, root, "decoder_variance", 1e-6, 1e6, 1, 0.5, path, err))) return st;
    c->dec_var = (float)v;
    if ((st = gw_spec_train_read(c, train_keys, N_TRAIN_KEYS, root, path, err)) ||
        (st = gw_specnet_shape_check(&c->enc, path, err)))
        return st;
    return gw_specnet_shape_check(&c->dec, path, err);
}

gw_status gw_specvae_config_load(gw_specvae_config *c, const char *path, gw_error *err) {
    cJSON *root = NULL;
    gw_status st = gw_json_load(&root, path, err);
    if (st) return st;
    st = gw_specvae_config_from_json(c, root, path, err);
    cJSON_Delete(root);
    return st;
}

char *gw_specvae_config_to_json(const gw_specvae_config *c) {
    cJSON *r = cJSON_CreateObject();
    char *out = NULL;
    if (!r || gw_spec_common_write(&c->common, GW_SPECVAE_KIND, r)) goto done;
    gw_specnet_pair_write(r, &c->enc, &c->dec, c->z_dim, c->slope, net_keys);
    cJSON_AddNumberToObject(r, "decoder_variance", c->dec_var);
    if (gw_spec_train_write(c, train_keys, N_TRAIN_KEYS, r)) goto done;
    out = cJSON_PrintUnformatted(r);
done:
    cJSON_Delete(r);
    return out;
}

gw_status gw_specvae_create(gw_specvae **out, const gw_specvae_config *c, int B_max, gw_rng *rng,
                            gw_error *err) {
    *out = NULL;
    if (B_max < 1) return gw_fail(err, GW_ERR_ARG, "specvae: batch %d must be >= 1", B_max);
    gw_specvae *m = calloc(1, sizeof *m);
    if (!m) return gw_fail(err, GW_ERR_NOMEM, "specvae: out of memory");
    m->cfg = *c;
    m->B_max = B_max;
    gw_status st;
    if (!(m->p = gw_params_create())) {
        st = gw_fail(err, GW_ERR_NOMEM, "specvae: out of memory");
        goto fail;
    }
    if ((st = gw_downnet_declare(&m->enc, m->p, "enc", &c->enc, 2 * c->z_dim, c->slope, 0, 0,
                                 err)) ||
        (st = gw_upnet_declare(&m->dec, m->p, "dec", &c->dec, c->z_dim, GW_SPECNET_OUT_LINEAR,
                               err)) ||
        (st = gw_params_alloc(m->p, err)) || (st = gw_downnet_setup(&m->enc, B_max, rng, err)) ||
        (st = gw_upnet_setup(&m->dec, B_max, rng, err)) ||
        (st = gw_specfeat_create(&m->feat, &c->feat, err)))
        goto fail;
    size_t bz = (size_t)B_max * c->z_dim * 4;
    float **bufs[] = {&m->mu,  &m->logvar,  &m->eps, &m->z,      &m->dz,
                      &m->dmu, &m->dlogvar, &m->tmu, &m->tlogvar};
    for (size_t i = 0; i < sizeof bufs / sizeof *bufs; i++)
        if (!(*bufs[i] = gw_alloc(bz))) goto nomem;
    if (!(m->dstats = gw_alloc(2 * bz)) ||
        !(m->drecon = gw_alloc((size_t)B_max * gw_specvae_image_size(m) * 4)) ||
        !(m->kl_dim = gw_alloc((size_t)c->z_dim * 4)))
        goto nomem;
    *out = m;
    return GW_OK;
nomem:
    st = gw_fail(err, GW_ERR_NOMEM, "specvae: cannot allocate buffers for batch %d", B_max);
fail:
    gw_specvae_free(m);
    return st;
}

void gw_specvae_free(gw_specvae *m) {
    if (!m) return;
    gw_downnet_release(&m->enc);
    gw_upnet_release(&m->dec);
    gw_adam_free(m->opt);
    gw_params_free(m->p);
    gw_specfeat_free(m->feat);
    float *bufs[] = {m->mu,      m->logvar, m->eps,     m->z,      m->dz,     m->dmu,
                     m->dlogvar, m->tmu,    m->tlogvar, m->dstats, m->drecon, m->kl_dim};
    for (size_t i = 0; i < sizeof bufs / sizeof *bufs; i++)
        gw_free(bufs[i]);
    free(m);
}

size_t gw_specvae_image_size(const gw_specvae *m) {
    return (size_t)m->cfg.enc.H * m->cfg.enc.W;
}

gw_status gw_specvae_train_begin(gw_specvae *m, gw_error *err) {
    gw_adam_config a = gw_adam_defaults();
    a.lr = m->cfg.lr;
    a.beta1 = m->cfg.beta1;
    a.beta2 = m->cfg.beta2;
    return gw_adam_create(&m->opt, m->p, &a, err);
}

float gw_specvae_beta_at(const gw_specvae_config *c, long step) {
    if (c->kl_warmup <= 0 || step >= c->kl_warmup) return c->beta;
    return c->beta * (float)step / (float)c->kl_warmup;
}

/* the encoder's dense output row is [mu (Z), logvar (Z)] */
static void split_stats(float *mu, float *logvar, const float *stats, int B, int Z) {
    for (int n = 0; n < B; n++) {
        memcpy(mu + (size_t)n * Z, stats + (size_t)n * 2 * Z, (size_t)Z * 4);
        memcpy(logvar + (size_t)n * Z, stats + (size_t)n * 2 * Z + Z, (size_t)Z * 4);
    }
}

gw_status gw_specvae_forward_backward(gw_specvae *m, gw_specvae_stats *st, const float *x, int B,
                                      float beta, float free_bits, gw_rng *rng, int grads,
                                      gw_error *err) {
    if (B < 1 || B > m->B_max)
        return gw_fail(err, GW_ERR_ARG, "specvae: batch %d outside 1..%d", B, m->B_max);
    int Z = m->cfg.z_dim;
    int D = (int)gw_specvae_image_size(m);
    size_t nz = (size_t)B * Z;
    split_stats(m->mu, m->logvar, gw_downnet_forward(&m->enc, x, B, 0), B, Z);
    if (grads && m->share_total > 0) /* this process's share of the batch's noise */
        gw_rng_fill_normal_share(rng, m->eps, nz, (size_t)m->share_off * Z,
                                 (size_t)(m->share_total - m->share_off - B) * Z);
    else
        gw_rng_fill_normal(rng, m->eps, nz, 0.0f, 1.0f);
    gw_reparam_forward(m->z, m->mu, m->logvar, m->eps, nz);
    const float *xhat = gw_upnet_forward(&m->dec, m->z, B);

    float sq = 0, kl = 0;
    float rscale = 1.0f / (2.0f * m->cfg.dec_var);
    if (grads) memset(m->drecon, 0, (size_t)B * D * 4);
    gw_status s =
        gw_loss_sq_error(&sq, grads ? m->drecon : NULL, xhat, x, B, D, "specvae recon", err);
    if (s) return s;
    if (grads)
        for (size_t i = 0; i < (size_t)B * D; i++)
            m->drecon[i] *= rscale;
    if (grads) memset(m->tmu, 0, nz * 4), memset(m->tlogvar, 0, nz * 4);
    if ((s = gw_loss_gauss_kl(&kl, grads ? m->tmu : NULL, grads ? m->tlogvar : NULL, m->mu,
                              m->logvar, B, Z, "specvae KL", err)))
        return s;
    /* batch-mean KL per latent dim: what free bits (Kingma et al. 2016) clamp
     * and what shows posterior collapse */
    double kl_fb = 0;
    int active = 0;
    for (int j = 0; j < Z; j++) {
        double a = 0;
        for (int n = 0; n < B; n++) {
            float mu = m->mu[(size_t)n * Z + j], lv = m->logvar[(size_t)n * Z + j];
            a += -0.5 * (1.0 + lv - (double)mu * mu - exp(lv));
        }
        m->kl_dim[j] = (float)(a / B);
    }
    /* data-parallel: the whole batch's mean decides the free-bits gate */
    if (grads && m->share_total > 0 && free_bits > 0 && m->opt && m->opt->reduce) {
        gw_status rs = m->opt->reduce(m->opt->reduce_ctx, m->kl_dim, (size_t)Z, err);
        if (rs) return rs;
    }
    for (int j = 0; j < Z; j++) {
        kl_fb += fmax(m->kl_dim[j], free_bits);
        if (m->kl_dim[j] > 0.01f) active++;
    }
    st->recon = sq * rscale;
    st->kl = kl;
    st->beta = beta;
    st->loss = st->recon + beta * (float)kl_fb;
    st->elbo = -(st->recon + 0.5f * D * logf(6.283185307f * m->cfg.dec_var) + kl);
    st->active = active;
    if (!isfinite(st->loss))
        return gw_fail(err, GW_ERR_NUMERIC, "specvae: loss is %g", (double)st->loss);
    if (!grads) return GW_OK;

    gw_params_zero_grad(m->p);
    memset(m->dz, 0, nz * 4);
    gw_upnet_backward(&m->dec, m->dz, m->drecon, 1);
    memset(m->dmu, 0, nz * 4);
    memset(m->dlogvar, 0, nz * 4);
    gw_reparam_backward(m->dmu, m->dlogvar, m->dz, m->logvar, m->eps, nz);
    for (int n = 0; n < B; n++)
        for (int j = 0; j < Z; j++) {
            /* a dim below its free-bits floor contributes a constant: no gradient */
            if (free_bits > 0 && m->kl_dim[j] < free_bits) continue;
            size_t i = (size_t)n * Z + j;
            m->dmu[i] += beta * m->tmu[i];
            m->dlogvar[i] += beta * m->tlogvar[i];
        }
    for (int n = 0; n < B; n++) {
        memcpy(m->dstats + (size_t)n * 2 * Z, m->dmu + (size_t)n * Z, (size_t)Z * 4);
        memcpy(m->dstats + (size_t)n * 2 * Z + Z, m->dlogvar + (size_t)n * Z, (size_t)Z * 4);
    }
    gw_downnet_backward(&m->enc, NULL, m->dstats, 1);
    return GW_OK;
}

void gw_specvae_set_share(gw_specvae *m, int off, int total) {
    m->share_off = off, m->share_total = total;
}

gw_status gw_specvae_train_step(gw_specvae *m, gw_specvae_stats *st, const float *x, int B,
                                float beta, gw_rng *rng, gw_error *err) {
    gw_status s = gw_specvae_forward_backward(m, st, x, B, beta, m->cfg.free_bits, rng, 1, err);
    if (s) return s;
    return gw_adam_step(m->opt, m->cfg.lr, err);
}

void gw_specvae_encode(gw_specvae *m, float *mu, float *logvar, const float *img, int n) {
    int Z = m->cfg.z_dim;
    size_t isz = gw_specvae_image_size(m);
    for (int i = 0; i < n; i += m->B_max) {
        int b = n - i < m->B_max ? n - i : m->B_max;
        const float *o = gw_downnet_forward(&m->enc, img + (size_t)i * isz, b, 0);
        split_stats(mu + (size_t)i * Z, logvar + (size_t)i * Z, o, b, Z);
    }
}

void gw_specvae_decode(gw_specvae *m, float *img, const float *z, int n) {
    size_t isz = gw_specvae_image_size(m);
    for (int i = 0; i < n; i += m->B_max) {
        int b = n - i < m->B_max ? n - i : m->B_max;
        const float *o = gw_upnet_forward(&m->dec, z + (size_t)i * m->cfg.z_dim, b);
        memcpy(img + (size_t)i * isz, o, (size_t)b * isz * 4);
    }
}

gw_status gw_specvae_evaluate(gw_specvae *m, gw_specvae_eval *ev, float *kl_dim, const float *img,
                              size_t n, uint64_t seed, gw_error *err) {
    memset(ev, 0, sizeof *ev);
    if (n == 0) return gw_fail(err, GW_ERR_ARG, "specvae: no clips to evaluate");
    int Z = m->cfg.z_dim, M = m->cfg.feat.n_mels, T = m->cfg.feat.frames;
    size_t isz = gw_specvae_image_size(m);
    double *s1 = calloc((size_t)Z, sizeof(double)), *s2 = calloc((size_t)Z, sizeof(double));
    double *kd = calloc((size_t)Z, sizeof(double));
    float *rec = malloc(isz * (size_t)m->B_max * sizeof(float)), *a = malloc(isz * sizeof(float)),
          *b = malloc(isz * sizeof(float));
    gw_status st = GW_OK;
    if (!s1 || !s2 || !kd || !rec || !a || !b) {
        st = gw_fail(err, GW_ERR_NOMEM, "specvae: out of memory");
        goto done;
    }
    gw_rng rng;
    gw_rng_seed(&rng, seed);
    for (size_t i = 0; i < n; i += (size_t)m->B_max) {
        int B = n - i < (size_t)m->B_max ? (int)(n - i) : m->B_max;
        const float *x = img + i * isz;
        gw_specvae_stats s;
        if ((st = gw_specvae_forward_backward(m, &s, x, B, 1.0f, 0.0f, &rng, 0, err))) goto done;
        ev->elbo += (double)s.elbo * B;
        ev->recon += (double)s.recon * B;
        ev->kl += (double)s.kl * B;
        for (int j = 0; j < Z; j++)
            kd[j] += (double)m->kl_dim[j] * B;
        /* m->mu holds this batch's posterior means */
        for (int k = 0; k < B; k++)
            for (int j = 0; j < Z; j++) {
                double mu = m->mu[(size_t)k * Z + j];
                s1[j] += mu, s2[j] += mu * mu;
            }
        gw_specvae_decode(m, rec, m->mu, B);
        for (int k = 0; k < B; k++) {
            gw_specfeat_denormalise(m->feat, a, x + (size_t)k * isz);
            gw_specfeat_denormalise(m->feat, b, rec + (size_t)k * isz);
            ev->lsd_db += gw_spec_lsd_db(a, b, M, T);
        }
    }
    ev->elbo /= (double)n, ev->recon /= (double)n, ev->kl /= (double)n, ev->lsd_db /= (double)n;
    ev->elbo_per_dim = ev->elbo / (double)isz;
    for (int j = 0; j < Z; j++) {
        double mean = s1[j] / (double)n, var = s2[j] / (double)n - mean * mean;
        if (var > 0.01) ev->active++;
        if (kl_dim) kl_dim[j] = (float)(kd[j] / (double)n);
    }
done:
    free(s1), free(s2), free(kd), free(rec), free(a), free(b);
    return st;
}

/* the differences of erfc are taken in the tail each bin lies in, so a bin
 * far from mu keeps its precision instead of cancelling to 0 */
double gw_specvae_level_log_mass(int k, double mu, double sigma) {
    const double half = 1.0 / 255.0, c = k / 127.5 - 1.0, s2 = sigma * M_SQRT2;
    const double a = k == 0 ? -INFINITY : (c - half - mu) / s2;
    const double b = k == GW_SPEC_LEVELS - 1 ? INFINITY : (c + half - mu) / s2;
    double p = a >= 0   ? 0.5 * (erfc(a) - erfc(b))
               : b <= 0 ? 0.5 * (erfc(-b) - erfc(-a))
                        : 1.0 - 0.5 * (erfc(-a) + erfc(b));
    if (p > 1e-300) return log(p);
    /* underflow far in a tail: the density at the bin's centre times its width */
    const double z = (c - mu) / sigma;
    return -0.5 * z * z - log(sigma * sqrt(2.0 * M_PI)) + log(2.0 * half);
}

gw_status gw_specvae_discrete_bits(gw_specvae *m, double *bits, double *mse, double var,
                                   const float *img, size_t n, uint64_t seed, gw_error *err) {
    *bits = NAN;
    if (mse) *mse = NAN;
    if (n == 0) return gw_fail(err, GW_ERR_ARG, "specvae: no clips to evaluate");
    if (!(var > 0)) var = m->cfg.dec_var;
    const size_t isz = gw_specvae_image_size(m);
    float *rec = malloc(isz * (size_t)m->B_max * sizeof(float));
    if (!rec) return gw_fail(err, GW_ERR_NOMEM, "specvae: out of memory");
    const double sigma = sqrt(var);
    double logp = 0, kl = 0, sq = 0;
    gw_rng rng;
    gw_rng_seed(&rng, seed);
    gw_status st = GW_OK;
    for (size_t i = 0; i < n && !st; i += (size_t)m->B_max) {
        int B = n - i < (size_t)m->B_max ? (int)(n - i) : m->B_max;
        const float *x = img + i * isz;
        gw_specvae_stats s;
        if ((st = gw_specvae_forward_backward(m, &s, x, B, 1.0f, 0.0f, &rng, 0, err))) break;
        kl += (double)s.kl * B;
        gw_specvae_decode(m, rec, m->z, B); /* xhat at the posterior sample */
        for (size_t j = 0; j < (size_t)B * isz; j++) {
            const double mu = rec[j], d = (double)x[j] - mu;
            sq += d * d;
            logp += gw_specvae_level_log_mass(gw_spec_level(x[j]), mu, sigma);
        }
    }
    free(rec);
    if (st) return st;
    *bits = -(logp - kl) / ((double)n * (double)isz * M_LN2);
    if (mse) *mse = sq / ((double)n * (double)isz);
    return GW_OK;
}

gw_status gw_specvae_write(gw_specvae *m, gw_gwm_writer *w, gw_error *err) {
    gw_status st = gw_specmodel_write_meta(w, GW_SPECVAE_KIND, gw_specvae_config_to_json(&m->cfg),
                                           m->cfg.feat.sample_rate, gw_params_numel(m->p), err);
    if (st) return st;
    if (!st) st = gw_gwm_writer_add_params(w, m->p, "", err);
    if (!st) st = gw_specfeat_save(m->feat, w, err);
    return st;
}

gw_status gw_specvae_from_gwm(gw_specvae **out, const gw_gwm *f, int B_max, gw_error *err) {
    *out = NULL;
    const char *path = gw_gwm_path(f);
    cJSON *root = NULL;
    gw_status st = gw_specmodel_read_config(&root, f, GW_SPECVAE_KIND, "spectrogram VAE", err);
    if (st) return st;
    gw_specvae_config c;
    st = gw_specvae_config_from_json(&c, root, path, err);
    cJSON_Delete(root);
    if (st) return st;
    gw_specvae *m = NULL;
    if ((st = gw_specvae_create(&m, &c, B_max, NULL, err))) return st;
    if ((st = gw_gwm_load_params(f, m->p, "", err)) || (st = gw_specfeat_load(m->feat, f, err))) {
        gw_specvae_free(m);
        return st;
    }
    *out = m;
    return GW_OK;
}
