/* wavenet_params.c - the WaveNet's named tensors in an nn/params.h group,
 * views of them (weights and gradients), initialisation and the model
 * object. Names and shapes: see wavenet.h. */
#include "models/wavenet.h"

#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One table drives declaring and binding, so the two cannot disagree. */
enum { MAX_TENSORS = 5 + 8 * GW_WAVENET_MAX_LAYERS + 4 };

typedef struct tensor_spec {
    char name[48];
    int ndim;
    int shape[3];
    unsigned flags;
    size_t field;   /* byte offset of the float * field in gw_wavenet_weights */
} tensor_spec;

static int add_spec(tensor_spec *t, int n, size_t field, unsigned flags, int ndim, int d0, int d1,
                    int d2, const char *fmt, int layer) {
    tensor_spec *s = &t[n];
    snprintf(s->name, sizeof s->name, fmt, layer);
    s->ndim = ndim;
    s->shape[0] = d0, s->shape[1] = d1, s->shape[2] = d2;
    s->flags = flags;
    s->field = field;
    return n + 1;
}

#define FIELD(member) offsetof(gw_wavenet_weights, member)
#define LFIELD(l, member) (offsetof(gw_wavenet_weights, layer) + (size_t)(l) * sizeof(gw_wavenet_layer) + offsetof(gw_wavenet_layer, member))

static int tensor_specs(const gw_wavenet_config *c, tensor_spec *t) {
    int n = 0, R = c->residual, G2 = 2 * c->gate, G = c->gate, S = c->skip, H = c->head;
    if (c->distribution == GW_WAVENET_DIST_LOGISTIC) {
        n = add_spec(t, n, FIELD(in_w), 0, 2, c->bands, R, 1, "wavenet.input.w", 0);
        n = add_spec(t, n, FIELD(in_b), GW_PARAM_NO_DECAY, 1, R, 1, 1, "wavenet.input.b", 0);
    } else {
        n = add_spec(t, n, FIELD(embed), 0, 2, GW_WAVENET_CLASSES, R, 1, "wavenet.embed", 0);
    }
    for (int l = 0; l < c->n_layers; l++) {
        n = add_spec(t, n, LFIELD(l, dil_w), 0, 3, G2, c->kernel, R, "wavenet.layer%02d.dil.w", l);
        n = add_spec(t, n, LFIELD(l, dil_b), GW_PARAM_NO_DECAY, 1, G2, 1, 1, "wavenet.layer%02d.dil.b", l);
        n = add_spec(t, n, LFIELD(l, res_w), 0, 2, R, G, 1, "wavenet.layer%02d.res.w", l);
        n = add_spec(t, n, LFIELD(l, res_b), GW_PARAM_NO_DECAY, 1, R, 1, 1, "wavenet.layer%02d.res.b", l);
        n = add_spec(t, n, LFIELD(l, skip_w), 0, 2, S, G, 1, "wavenet.layer%02d.skip.w", l);
        n = add_spec(t, n, LFIELD(l, skip_b), GW_PARAM_NO_DECAY, 1, S, 1, 1, "wavenet.layer%02d.skip.b", l);
        if (c->cond_dim > 0)
            n = add_spec(t, n, LFIELD(l, cond_w), 0, 2, G2, c->cond_dim, 1, "wavenet.layer%02d.cond.w", l);
        if (c->n_mels > 0)
            n = add_spec(t, n, LFIELD(l, lc_w), 0, 2, G2, c->n_mels, 1, "wavenet.layer%02d.lc.w", l);
    }
    n = add_spec(t, n, FIELD(head1_w), 0, 2, H, S, 1, "wavenet.head1.w", 0);
    n = add_spec(t, n, FIELD(head1_b), GW_PARAM_NO_DECAY, 1, H, 1, 1, "wavenet.head1.b", 0);
    n = add_spec(t, n, FIELD(out_w), 0, 2, c->n_out, H, 1, "wavenet.out.w", 0);
    n = add_spec(t, n, FIELD(out_b), GW_PARAM_NO_DECAY, 1, c->n_out, 1, 1, "wavenet.out.b", 0);
    return n;
}

gw_status gw_wavenet_params_declare(gw_params *p, const gw_wavenet_config *cfg, gw_error *err) {
    tensor_spec *t = malloc(sizeof(tensor_spec) * MAX_TENSORS);
    if (!t) return gw_fail(err, GW_ERR_NOMEM, "%s: out of memory declaring tensors", cfg->name);
    int n = tensor_specs(cfg, t);
    gw_status st = GW_OK;
    for (int i = 0; i < n && !st; i++)
        st = gw_params_add(p, t[i].name, t[i].ndim, t[i].shape, t[i].flags, NULL, err);
    free(t);
    return st;
}

gw_status gw_wavenet_weights_bind(gw_wavenet_weights *w, gw_params *p,
                                  const gw_wavenet_config *cfg, int grad, gw_error *err) {
    tensor_spec *t = malloc(sizeof(tensor_spec) * MAX_TENSORS);
    if (!t) return gw_fail(err, GW_ERR_NOMEM, "%s: out of memory binding tensors", cfg->name);
    memset(w, 0, sizeof *w);
    int n = tensor_specs(cfg, t);
    gw_status st = GW_OK;
    for (int i = 0; i < n; i++) {
        float *data = gw_params_get(p, t[i].name, t[i].ndim, t[i].shape, err);
        if (!data) {
            st = err && err->status ? err->status : GW_ERR_FORMAT;
            break;
        }
        gw_param *prm = gw_params_find(p, t[i].name);
        float *ptr = grad ? prm->grad : prm->data;
        memcpy((char *)w + t[i].field, &ptr, sizeof ptr);
    }
    free(t);
    return st;
}

static void init_uniform(float *w, size_t n, size_t fan_in, gw_rng *rng) {
    float a = 1.0f / sqrtf((float)fan_in);
    gw_params_init_uniform(w, n, -a, a, rng);
}

void gw_wavenet_weights_init(gw_wavenet_weights *w, const gw_wavenet_config *c, gw_rng *rng) {
    size_t R = (size_t)c->residual, G = (size_t)c->gate, S = (size_t)c->skip, H = (size_t)c->head;
    size_t K = (size_t)c->kernel, Q = (size_t)c->n_out;
    if (w->embed) gw_params_init_normal(w->embed, GW_WAVENET_CLASSES * R, 0.0f, 1.0f, rng);
    if (w->in_w) { /* a 1x1 conv from the bands: PyTorch's default, as the others */
        init_uniform(w->in_w, (size_t)c->bands * R, (size_t)c->bands, rng);
        init_uniform(w->in_b, R, (size_t)c->bands, rng);
    }
    for (int l = 0; l < c->n_layers; l++) {
        gw_wavenet_layer *L = &w->layer[l];
        init_uniform(L->dil_w, 2 * G * K * R, K * R, rng);
        init_uniform(L->dil_b, 2 * G, K * R, rng);
        init_uniform(L->res_w, R * G, G, rng);
        init_uniform(L->res_b, R, G, rng);
        init_uniform(L->skip_w, S * G, G, rng);
        init_uniform(L->skip_b, S, G, rng);
        if (L->cond_w) init_uniform(L->cond_w, 2 * G * (size_t)c->cond_dim, (size_t)c->cond_dim, rng);
        if (L->lc_w) init_uniform(L->lc_w, 2 * G * (size_t)c->n_mels, (size_t)c->n_mels, rng);
    }
    init_uniform(w->head1_w, H * S, S, rng);
    init_uniform(w->head1_b, H, S, rng);
    init_uniform(w->out_w, Q * H, H, rng);
    init_uniform(w->out_b, Q, H, rng);
}

void gw_wavenet_init_band_scales(gw_wavenet_weights *w, const gw_wavenet_config *c,
                                 const float *band_rms) {
    if (c->distribution != GW_WAVENET_DIST_LOGISTIC) return;
    const int H = c->head, M = c->mixtures;
    for (int k = 0; k < c->bands; k++) {
        const float rms = fmaxf(band_rms[k], 1e-4f);
        float *row = w->out_w + (size_t)k * 3 * M * H, *bias = w->out_b + (size_t)k * 3 * M;
        for (int j = 0; j < M; j++) {
            bias[j] = 0.0f; /* equal mixture weights */
            for (int i = 0; i < H; i++) row[(size_t)(M + j) * H + i] *= rms;
            bias[M + j] = M > 1 ? rms * (2.0f * j / (M - 1) - 1.0f) : 0.0f;
            bias[2 * M + j] = logf(rms * 0.5513289f); /* sqrt(3) / pi */
        }
    }
}

gw_status gw_wavenet_create_from(gw_wavenet **out, const gw_wavenet_config *cfg,
                                 gw_params *params, gw_error *err) {
    *out = NULL;
    gw_wavenet *m = calloc(1, sizeof *m);
    gw_status st;
    if (!m) {
        st = gw_fail(err, GW_ERR_NOMEM, "%s: out of memory creating the model", cfg->name);
        goto fail;
    }
    m->cfg = *cfg;
    m->params = params;
    if ((st = gw_wavenet_config_validate(&m->cfg, cfg->name, err))) goto fail;
    if (!params || !params->data) {
        st = gw_fail(err, GW_ERR_ARG, "%s: parameter group is not allocated", cfg->name);
        goto fail;
    }
    if ((st = gw_wavenet_weights_bind(&m->w, params, &m->cfg, 0, err)) ||
        (st = gw_wavenet_weights_bind(&m->g, params, &m->cfg, 1, err)))
        goto fail;
    *out = m;
    return GW_OK;
fail:
    if (m) m->params = NULL;
    free(m);
    gw_params_free(params);
    return st;
}

gw_status gw_wavenet_create(gw_wavenet **out, const gw_wavenet_config *cfg, gw_error *err) {
    *out = NULL;
    gw_wavenet_config c = *cfg;
    gw_status st = gw_wavenet_config_validate(&c, cfg->name, err);
    if (st) return st;
    gw_params *p = gw_params_create();
    if (!p) return gw_fail(err, GW_ERR_NOMEM, "%s: out of memory creating the model", c.name);
    if ((st = gw_wavenet_params_declare(p, &c, err)) || (st = gw_params_alloc(p, err))) {
        gw_params_free(p);
        return st;
    }
    return gw_wavenet_create_from(out, &c, p, err);
}

void gw_wavenet_free(gw_wavenet *m) {
    if (!m) return;
    gw_params_free(m->params);
    free(m);
}
