/* The convolutional stacks of the spectrogram GAN and VAE: see spec_nets.h. */
#include "models/spec_nets.h"

#include "io/json.h"
#include "nn/layers.h"

#include <assert.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

gw_status gw_specnet_shape_check(const gw_specnet_shape *s, const char *what, gw_error *err) {
    if (s->L < 1 || s->L > GW_SPECNET_MAX_LAYERS)
        return gw_fail(err, GW_ERR_ARG, "%s: %d conv layers (need 1..%d)", what, s->L,
                       GW_SPECNET_MAX_LAYERS);
    if (s->K < 3 || s->K % 2 == 0 || s->K > 15)
        return gw_fail(err, GW_ERR_ARG, "%s: kernel %d must be odd, 3..15", what, s->K);
    int f = 1 << s->L;
    if (s->H < f || s->W < f || s->H % f || s->W % f)
        return gw_fail(err, GW_ERR_ARG,
                       "%s: image %d x %d is not divisible by 2^%d (one halving per layer)", what,
                       s->H, s->W, s->L);
    for (int i = 0; i < s->L; i++)
        if (s->ch[i] < 1 || s->ch[i] > 4096)
            return gw_fail(err, GW_ERR_ARG, "%s: layer %d width %d (need 1..4096)", what, i,
                           s->ch[i]);
    return GW_OK;
}

gw_status gw_specnet_read_channels(gw_specnet_shape *s, const cJSON *root, const char *key,
                                   const char *path, gw_error *err) {
    return gw_json_int_array(s->ch, &s->L, GW_SPECNET_MAX_LAYERS, root, key, 1, 4096, path, err);
}

gw_status gw_specnet_pair_read(gw_specnet_shape *a, gw_specnet_shape *b, int *z_dim, float *slope,
                               const char *const keys[2], const gw_specfeat_config *feat,
                               const cJSON *root, const char *path, gw_error *err) {
    gw_status st;
    double s;
    int k;
    if ((st = gw_json_int(z_dim, root, "z_dim", 1, 4096, 1, *z_dim, path, err)) ||
        (st = gw_json_int(&k, root, "kernel", 3, 15, 1, 5, path, err)) ||
        (st = gw_json_num(&s, root, "lrelu_slope", 0, 1, 1, 0.2, path, err)))
        return st;
    *slope = (float)s;
    if (gw_json_find(root, keys[0]) && (st = gw_specnet_read_channels(a, root, keys[0], path, err)))
        return st;
    if (gw_json_find(root, keys[1]) && (st = gw_specnet_read_channels(b, root, keys[1], path, err)))
        return st;
    if (a->L != b->L)
        return gw_fail(err, GW_ERR_ARG, "%s: %s has %d layers but %s %d", path, keys[0], a->L,
                       keys[1], b->L);
    a->K = b->K = k;
    a->H = b->H = feat->n_mels;
    a->W = b->W = feat->frames;
    return GW_OK;
}

void gw_specnet_pair_write(cJSON *root, const gw_specnet_shape *a, const gw_specnet_shape *b,
                           int z_dim, float slope, const char *const keys[2]) {
    cJSON_AddNumberToObject(root, "z_dim", z_dim);
    cJSON_AddItemToObject(root, keys[0], cJSON_CreateIntArray(a->ch, a->L));
    cJSON_AddItemToObject(root, keys[1], cJSON_CreateIntArray(b->ch, b->L));
    cJSON_AddNumberToObject(root, "kernel", a->K);
    cJSON_AddNumberToObject(root, "lrelu_slope", slope);
}

static gw_status declare(gw_params *p, size_t *idx, const char *prefix, const char *name, int ndim,
                         const int *shape, unsigned flags, gw_error *err) {
    char full[GW_PARAM_NAME_MAX];
    snprintf(full, sizeof full, "%s.%s", prefix, name);
    return gw_params_add(p, full, ndim, shape, flags, idx, err);
}

static float *pdata(gw_params *p, size_t i) {
    return gw_params_at(p, i)->data;
}
static float *pgrad(gw_params *p, size_t i) {
    return gw_params_at(p, i)->grad;
}

/* ---- down net ---- */

static void down_dims(const gw_downnet *n, int i, int B, gw_conv2d_dims *d) {
    int cin = i ? n->ch[i - 1] : 1;
    gw_status st = gw_conv2d_dims_init(d, B, cin, n->H >> i, n->W >> i, n->ch[i], n->K, n->K, 2,
                                       n->K / 2, NULL);
    assert(st == GW_OK);
    (void)st;
    d->bf16 = n->bf16;
    while (d->chunk > 1 && gw_conv2d_workspace_size(d) > n->work_floats)
        d->chunk--;
}

static size_t down_act_numel(const gw_downnet *n, int i) {
    return (size_t)n->ch[i] * (size_t)(n->H >> (i + 1)) * (size_t)(n->W >> (i + 1));
}

gw_status gw_downnet_declare(gw_downnet *n, gw_params *p, const char *prefix,
                             const gw_specnet_shape *s, int out_dim, float slope, int sn, int mbstd,
                             gw_error *err) {
    memset(n, 0, sizeof *n);
    gw_status st = gw_specnet_shape_check(s, prefix, err);
    if (st) return st;
    snprintf(n->prefix, sizeof n->prefix, "%s", prefix);
    n->H = s->H, n->W = s->W, n->L = s->L, n->K = s->K;
    memcpy(n->ch, s->ch, sizeof n->ch);
    n->out_dim = out_dim;
    n->slope = slope;
    n->sn = sn;
    n->params = p;
    n->flat = n->ch[n->L - 1] * (n->H >> n->L) * (n->W >> n->L);
    n->mbstd = mbstd > 0 ? mbstd : 0;
    n->fin = n->flat + (n->mbstd ? (n->H >> n->L) * (n->W >> n->L) : 0);
    char name[32];
    for (int i = 0; i <= n->L; i++) {
        int last = i == n->L;
        int cin = i ? n->ch[i - 1] : 1;
        int rows = last ? out_dim : n->ch[i];
        if (last)
            snprintf(name, sizeof name, "fc");
        else
            snprintf(name, sizeof name, "conv%d", i);
        char t[40];
        snprintf(t, sizeof t, "%s.w", name);
        int wshape[4] = {last ? 0 : n->ch[i], cin, n->K, n->K}; /* ch[L] is past the array */
        int fshape[2] = {out_dim, n->fin};
        if ((st =
                 declare(p, &n->w_idx[i], prefix, t, last ? 2 : 4, last ? fshape : wshape, 0, err)))
            return st;
        snprintf(t, sizeof t, "%s.b", name);
        if ((st = declare(p, &n->b_idx[i], prefix, t, 1, &rows, GW_PARAM_NO_DECAY, err))) return st;
        if (sn) {
            snprintf(t, sizeof t, "%s.sn_u", name);
            if ((st = declare(p, &n->u_idx[i], prefix, t, 1, &rows, GW_PARAM_STATE, err)))
                return st;
        }
    }
    return GW_OK;
}

gw_status gw_downnet_setup(gw_downnet *n, int B_max, gw_rng *rng, gw_error *err) {
    n->B_max = B_max;
    gw_params *p = n->params;
    size_t maxact = (size_t)n->fin, work = 0;
    for (int i = 0; i < n->L; i++) {
        gw_conv2d_dims d;
        int cin = i ? n->ch[i - 1] : 1;
        gw_status st = gw_conv2d_dims_init(&d, B_max, cin, n->H >> i, n->W >> i, n->ch[i], n->K,
                                           n->K, 2, n->K / 2, err);
        if (st) return st;
        size_t ws = gw_conv2d_workspace_size(&d);
        if (ws > work) work = ws;
        if (down_act_numel(n, i) > maxact) maxact = down_act_numel(n, i);
    }
    n->work_floats = work;
    size_t total = 0;
    size_t sizes[GW_SPECNET_MAX_LAYERS + 8];
    int k = 0;
    for (int i = 0; i < n->L; i++)
        sizes[k++] = gw_align64((size_t)B_max * down_act_numel(n, i) * 4);
    sizes[k++] = gw_align64((size_t)B_max * n->out_dim * 4);
    sizes[k++] = gw_align64((size_t)B_max * maxact * 4);
    sizes[k++] = gw_align64((size_t)B_max * maxact * 4);
    sizes[k++] = gw_align64(work * 4);
    sizes[k++] = gw_align64((size_t)B_max * n->fin * 4);
    size_t wsn = 0, wmax = 0;
    for (int i = 0; i <= n->L; i++) {
        size_t ne = gw_params_at(p, n->w_idx[i])->numel;
        wsn += gw_align64(ne * 4);
        if (ne > wmax) wmax = ne;
    }
    if (n->sn) sizes[k++] = wsn, sizes[k++] = gw_align64(wmax * 4);
    for (int i = 0; i < k; i++)
        total += sizes[i];
    n->mem = gw_alloc(total);
    if (!n->mem)
        return gw_fail(err, GW_ERR_NOMEM, "%s: cannot allocate %zu bytes of activations", n->prefix,
                       total);
    char *m = (char *)n->mem;
    k = 0;
    for (int i = 0; i < n->L; i++)
        n->act[i] = (float *)m, m += sizes[k++];
    n->out = (float *)m, m += sizes[k++];
    n->g0 = (float *)m, m += sizes[k++];
    n->g1 = (float *)m, m += sizes[k++];
    n->work = (float *)m, m += sizes[k++];
    n->feat = (float *)m, m += sizes[k++];
    if (n->sn) {
        for (int i = 0; i <= n->L; i++) {
            n->w_sn[i] = (float *)m;
            m += gw_align64(gw_params_at(p, n->w_idx[i])->numel * 4);
        }
        n->dw_sn = (float *)m;
    }
    gw_rng local;
    gw_rng_seed(&local, 0x5eed);
    for (int i = 0; i <= n->L; i++) {
        gw_param *w = gw_params_at(p, n->w_idx[i]);
        size_t fan_in = w->numel / (size_t)w->shape[0];
        if (rng) {
            if (i < n->L)
                gw_params_init_he(w->data, w->numel, fan_in, rng);
            else
                gw_params_init_xavier(w->data, w->numel, fan_in, (size_t)w->shape[0], rng);
            gw_params_init_const(pdata(p, n->b_idx[i]), (size_t)w->shape[0], 0.0f);
        }
        if (n->sn) {
            gw_status st = gw_spectral_norm_create(&n->snorm[i], w->shape[0], (int)fan_in,
                                                   rng ? rng : &local, err);
            if (st) return st;
            /* the persistent u lives in the param group (saved with the model) */
            if (rng) memcpy(pdata(p, n->u_idx[i]), n->snorm[i]->u, (size_t)w->shape[0] * 4);
        }
    }
    return GW_OK;
}

void gw_downnet_release(gw_downnet *n) {
    if (!n) return;
    for (int i = 0; i <= GW_SPECNET_MAX_LAYERS; i++)
        gw_spectral_norm_free(n->snorm[i]), n->snorm[i] = NULL;
    gw_free(n->mem);
    n->mem = NULL;
}

/* the weight the layer computes with: w, or w / sigma(w) under spectral norm */
static const float *down_weight(gw_downnet *n, int i, int train) {
    float *w = pdata(n->params, n->w_idx[i]);
    if (!n->sn) return w;
    gw_spectral_norm *s = n->snorm[i];
    float *u = pdata(n->params, n->u_idx[i]);
    memcpy(s->u, u, (size_t)s->rows * 4);
    gw_spectral_norm_forward(n->w_sn[i], s, w, train ? 1 : 0);
    memcpy(u, s->u, (size_t)s->rows * 4);
    return n->w_sn[i];
}

/* per-feature mean and std over the g examples of a group starting at a */
static void group_stats(double *mean, double *sd, const float *a, int g, int F, int j) {
    double s = 0, s2 = 0;
    for (int b = 0; b < g; b++)
        s += a[(size_t)b * F + j];
    *mean = s / g;
    for (int b = 0; b < g; b++) {
        double e = a[(size_t)b * F + j] - *mean;
        s2 += e * e;
    }
    *sd = sqrt(s2 / g + 1e-8);
}

/* feat (B, fin) = [a (B, F), sigma of the example's group repeated] */
static const float *mbstd_forward(gw_downnet *n, const float *a, int B) {
    int F = n->flat, extra = n->fin - F;
    for (int g0 = 0; g0 < B; g0 += n->mbstd) {
        int g = B - g0 < n->mbstd ? B - g0 : n->mbstd;
        const float *ag = a + (size_t)g0 * F;
        double sigma = 0, mean, sd;
        for (int j = 0; j < F; j++)
            group_stats(&mean, &sd, ag, g, F, j), sigma += sd;
        sigma /= F;
        for (int b = g0; b < g0 + g; b++) {
            float *row = n->feat + (size_t)b * n->fin;
            memcpy(row, a + (size_t)b * F, (size_t)F * 4);
            for (int k = 0; k < extra; k++)
                row[F + k] = (float)sigma;
        }
    }
    return n->feat;
}

/* da (B, F) = the feature part of dfeat plus sigma's gradient:
 * dsigma/da_bj = (a_bj - mean_j) / (g sd_j F) */
static void mbstd_backward(gw_downnet *n, float *da, const float *dfeat, const float *a, int B) {
    int F = n->flat, extra = n->fin - F;
    for (int b = 0; b < B; b++)
        memcpy(da + (size_t)b * F, dfeat + (size_t)b * n->fin, (size_t)F * 4);
    for (int g0 = 0; g0 < B; g0 += n->mbstd) {
        int g = B - g0 < n->mbstd ? B - g0 : n->mbstd;
        double dsig = 0, mean, sd;
        for (int b = g0; b < g0 + g; b++)
            for (int k = 0; k < extra; k++)
                dsig += dfeat[(size_t)b * n->fin + F + k];
        const float *ag = a + (size_t)g0 * F;
        for (int j = 0; j < F; j++) {
            group_stats(&mean, &sd, ag, g, F, j);
            double c = dsig / ((double)g * sd * F);
            for (int b = 0; b < g; b++)
                da[(size_t)(g0 + b) * F + j] += (float)(c * (ag[(size_t)b * F + j] - mean));
        }
    }
}

const float *gw_downnet_forward(gw_downnet *n, const float *x, int B, int train) {
    assert(B >= 1 && B <= n->B_max);
    n->x = x;
    n->last_B = B;
    const float *in = x;
    for (int i = 0; i < n->L; i++) {
        gw_conv2d_dims d;
        down_dims(n, i, B, &d);
        gw_conv2d_forward(n->act[i], in, down_weight(n, i, train), pdata(n->params, n->b_idx[i]),
                          &d, n->work);
        gw_leaky_relu_forward(n->act[i], n->act[i], n->slope, (size_t)B * down_act_numel(n, i));
        in = n->act[i];
    }
    if (n->mbstd) in = mbstd_forward(n, in, B);
    gw_dense_forward(n->out, in, down_weight(n, n->L, train), pdata(n->params, n->b_idx[n->L]), B,
                     n->fin, n->out_dim);
    return n->out;
}

/* dW of layer i from the gradient of its (possibly normalised) weight */
static float *down_dw_target(gw_downnet *n, int i) {
    if (!n->sn) return pgrad(n->params, n->w_idx[i]);
    memset(n->dw_sn, 0, gw_params_at(n->params, n->w_idx[i])->numel * 4);
    return n->dw_sn;
}

static void down_dw_finish(gw_downnet *n, int i) {
    if (!n->sn) return;
    gw_spectral_norm_backward(pgrad(n->params, n->w_idx[i]), n->dw_sn, n->w_sn[i], n->snorm[i]);
}

void gw_downnet_backward(gw_downnet *n, float *dx, const float *dout, int param_grads) {
    int B = n->last_B, L = n->L;
    gw_params *p = n->params;
    const float *wfc = n->sn ? n->w_sn[L] : pdata(p, n->w_idx[L]);
    float *cur = n->g0, *oth = n->g1;
    /* with mbstd the dense layer's input gradient lands in oth first */
    float *dfc = n->mbstd ? oth : cur;
    memset(dfc, 0, (size_t)B * n->fin * 4);
    gw_dense_backward(dfc, param_grads ? down_dw_target(n, L) : NULL,
                      param_grads ? pgrad(p, n->b_idx[L]) : NULL, dout,
                      n->mbstd ? n->feat : n->act[L - 1], wfc, B, n->fin, n->out_dim);
    if (param_grads) down_dw_finish(n, L);
    if (n->mbstd) mbstd_backward(n, cur, dfc, n->act[L - 1], B);
    for (int i = L - 1; i >= 0; i--) {
        size_t na = (size_t)B * down_act_numel(n, i);
        memset(oth, 0, na * 4); /* oth: gradient wrt layer i's pre-activation */
        gw_leaky_relu_backward(oth, cur, n->act[i], n->slope, na);
        float *dinp = NULL;
        if (i > 0) {
            dinp = cur;
            memset(dinp, 0, (size_t)B * down_act_numel(n, i - 1) * 4);
        } else {
            dinp = dx;
        }
        if (!dinp && !param_grads) break;
        gw_conv2d_dims d;
        down_dims(n, i, B, &d);
        const float *w = n->sn ? n->w_sn[i] : pdata(p, n->w_idx[i]);
        gw_conv2d_backward(dinp, param_grads ? down_dw_target(n, i) : NULL,
                           param_grads ? pgrad(p, n->b_idx[i]) : NULL, oth,
                           i ? n->act[i - 1] : n->x, w, &d, n->work);
        if (param_grads) down_dw_finish(n, i);
        /* cur now holds the gradient wrt act[i-1]; oth is free again */
    }
}

double gw_downnet_macs(const gw_downnet *n) {
    double m = (double)n->fin * n->out_dim;
    for (int i = 0; i < n->L; i++) {
        gw_conv2d_dims d;
        if (gw_conv2d_dims_init(&d, 1, i ? n->ch[i - 1] : 1, n->H >> i, n->W >> i, n->ch[i], n->K,
                                n->K, 2, n->K / 2, NULL) == GW_OK)
            m += gw_conv2d_macs(&d);
    }
    return m;
}

/* ---- up net ---- */

static int up_cout(const gw_upnet *n, int i) {
    return i < n->L - 1 ? n->ch[i + 1] : 1;
}

static size_t up_act_numel(const gw_upnet *n, int i) {
    int s = n->L - 1 - i; /* output of convT i is (H >> s, W >> s) */
    return (size_t)up_cout(n, i) * (size_t)(n->H >> s) * (size_t)(n->W >> s);
}

static gw_status up_dims_init(const gw_upnet *n, int i, int B, gw_conv2d_dims *d, gw_error *err) {
    int s = n->L - i;
    return gw_conv_transpose2d_dims_init(d, B, n->ch[i], n->H >> s, n->W >> s, up_cout(n, i), n->K,
                                         n->K, 2, n->K / 2, 1, err);
}

static void up_dims(const gw_upnet *n, int i, int B, gw_conv2d_dims *d) {
    gw_status st = up_dims_init(n, i, B, d, NULL);
    assert(st == GW_OK);
    (void)st;
    d->bf16 = n->bf16;
    while (d->chunk > 1 && gw_conv2d_workspace_size(d) > n->work_floats)
        d->chunk--;
}

gw_status gw_upnet_declare(gw_upnet *n, gw_params *p, const char *prefix, const gw_specnet_shape *s,
                           int z_dim, gw_specnet_out out_act, gw_error *err) {
    memset(n, 0, sizeof *n);
    gw_status st = gw_specnet_shape_check(s, prefix, err);
    if (st) return st;
    snprintf(n->prefix, sizeof n->prefix, "%s", prefix);
    n->H = s->H, n->W = s->W, n->L = s->L, n->K = s->K;
    memcpy(n->ch, s->ch, sizeof n->ch);
    n->z_dim = z_dim;
    n->out_act = out_act;
    n->params = p;
    n->flat = n->ch[0] * (n->H >> n->L) * (n->W >> n->L);
    int fshape[2] = {n->flat, z_dim};
    if ((st = declare(p, &n->w_idx[n->L], prefix, "fc.w", 2, fshape, 0, err))) return st;
    if ((st = declare(p, &n->b_idx[n->L], prefix, "fc.b", 1, &n->flat, GW_PARAM_NO_DECAY, err)))
        return st;
    for (int i = 0; i < n->L; i++) {
        char t[40];
        int cout = up_cout(n, i);
        int wshape[4] = {n->ch[i], cout, n->K, n->K};
        snprintf(t, sizeof t, "up%d.w", i);
        if ((st = declare(p, &n->w_idx[i], prefix, t, 4, wshape, 0, err))) return st;
        snprintf(t, sizeof t, "up%d.b", i);
        if ((st = declare(p, &n->b_idx[i], prefix, t, 1, &cout, GW_PARAM_NO_DECAY, err))) return st;
    }
    return GW_OK;
}

gw_status gw_upnet_setup(gw_upnet *n, int B_max, gw_rng *rng, gw_error *err) {
    n->B_max = B_max;
    gw_params *p = n->params;
    size_t maxact = (size_t)n->flat, work = 0;
    for (int i = 0; i < n->L; i++) {
        gw_conv2d_dims d;
        gw_status st = up_dims_init(n, i, B_max, &d, err);
        if (st) return st;
        size_t ws = gw_conv2d_workspace_size(&d);
        if (ws > work) work = ws;
        if (up_act_numel(n, i) > maxact) maxact = up_act_numel(n, i);
    }
    n->work_floats = work;
    size_t sizes[GW_SPECNET_MAX_LAYERS + 8], total = 0;
    int k = 0;
    sizes[k++] = gw_align64((size_t)B_max * n->flat * 4);
    for (int i = 0; i < n->L; i++)
        sizes[k++] = gw_align64((size_t)B_max * up_act_numel(n, i) * 4);
    sizes[k++] = gw_align64((size_t)B_max * maxact * 4);
    sizes[k++] = gw_align64((size_t)B_max * maxact * 4);
    sizes[k++] = gw_align64(work * 4);
    for (int i = 0; i < k; i++)
        total += sizes[i];
    n->mem = gw_alloc(total);
    if (!n->mem)
        return gw_fail(err, GW_ERR_NOMEM, "%s: cannot allocate %zu bytes of activations", n->prefix,
                       total);
    char *m = (char *)n->mem;
    k = 0;
    n->h0 = (float *)m, m += sizes[k++];
    for (int i = 0; i < n->L; i++)
        n->act[i] = (float *)m, m += sizes[k++];
    n->g0 = (float *)m, m += sizes[k++];
    n->g1 = (float *)m, m += sizes[k++];
    n->work = (float *)m;
    if (rng) {
        gw_param *fc = gw_params_at(p, n->w_idx[n->L]);
        gw_params_init_he(fc->data, fc->numel, (size_t)n->z_dim, rng);
        gw_params_init_const(pdata(p, n->b_idx[n->L]), (size_t)n->flat, 0.0f);
        for (int i = 0; i < n->L; i++) {
            gw_param *w = gw_params_at(p, n->w_idx[i]);
            /* a stride-2 transposed conv sums about C_in K K / 4 taps per output */
            size_t fan_in = (size_t)n->ch[i] * n->K * n->K / 4;
            if (i < n->L - 1)
                gw_params_init_he(w->data, w->numel, fan_in, rng);
            else
                gw_params_init_xavier(w->data, w->numel, fan_in, (size_t)n->K * n->K / 4, rng);
            gw_params_init_const(pdata(p, n->b_idx[i]), (size_t)up_cout(n, i), 0.0f);
        }
    }
    return GW_OK;
}

void gw_upnet_release(gw_upnet *n) {
    if (!n) return;
    gw_free(n->mem);
    n->mem = NULL;
}

const float *gw_upnet_forward(gw_upnet *n, const float *z, int B) {
    assert(B >= 1 && B <= n->B_max);
    gw_params *p = n->params;
    n->z = z;
    n->last_B = B;
    gw_dense_forward(n->h0, z, pdata(p, n->w_idx[n->L]), pdata(p, n->b_idx[n->L]), B, n->z_dim,
                     n->flat);
    gw_relu_forward(n->h0, n->h0, (size_t)B * n->flat);
    const float *in = n->h0;
    for (int i = 0; i < n->L; i++) {
        gw_conv2d_dims d;
        up_dims(n, i, B, &d);
        gw_conv_transpose2d_forward(n->act[i], in, pdata(p, n->w_idx[i]), pdata(p, n->b_idx[i]), &d,
                                    n->work);
        size_t na = (size_t)B * up_act_numel(n, i);
        if (i < n->L - 1)
            gw_relu_forward(n->act[i], n->act[i], na);
        else if (n->out_act == GW_SPECNET_OUT_TANH)
            gw_tanh_forward(n->act[i], n->act[i], na);
        in = n->act[i];
    }
    return n->act[n->L - 1];
}

void gw_upnet_backward(gw_upnet *n, float *dz, const float *dout, int param_grads) {
    if (!dz && !param_grads) return;
    int B = n->last_B, L = n->L;
    gw_params *p = n->params;
    float *cur = n->g0, *oth = n->g1;
    size_t nout = (size_t)B * up_act_numel(n, L - 1);
    if (n->out_act == GW_SPECNET_OUT_TANH) {
        memset(cur, 0, nout * 4);
        gw_tanh_backward(cur, dout, n->act[L - 1], nout);
    } else {
        memcpy(cur, dout, nout * 4);
    }
    for (int i = L - 1; i >= 0; i--) {
        /* cur: gradient wrt the pre-activation output of convT i */
        size_t nin = (size_t)B * (i ? up_act_numel(n, i - 1) : (size_t)n->flat);
        memset(oth, 0, nin * 4);
        gw_conv2d_dims d;
        up_dims(n, i, B, &d);
        gw_conv_transpose2d_backward(oth, param_grads ? pgrad(p, n->w_idx[i]) : NULL,
                                     param_grads ? pgrad(p, n->b_idx[i]) : NULL, cur,
                                     i ? n->act[i - 1] : n->h0, pdata(p, n->w_idx[i]), &d, n->work);
        memset(cur, 0, nin * 4);
        gw_relu_backward(cur, oth, i ? n->act[i - 1] : n->h0, nin);
    }
    gw_dense_backward(dz, param_grads ? pgrad(p, n->w_idx[L]) : NULL,
                      param_grads ? pgrad(p, n->b_idx[L]) : NULL, cur, n->z, pdata(p, n->w_idx[L]),
                      B, n->z_dim, n->flat);
}

double gw_upnet_macs(const gw_upnet *n) {
    double m = (double)n->flat * n->z_dim;
    for (int i = 0; i < n->L; i++) {
        gw_conv2d_dims d;
        if (up_dims_init(n, i, 1, &d, NULL) == GW_OK) m += gw_conv2d_macs(&d);
    }
    return m;
}

/* ---- model files ---- */

gw_status gw_specmodel_write_meta(gw_gwm_writer *w, const char *kind, char *config_json,
                                  int sample_rate, size_t parameters, gw_error *err) {
    if (!config_json) return gw_fail(err, GW_ERR_NOMEM, "%s: cannot serialise the config", kind);
    char key[64];
    snprintf(key, sizeof key, "%s.config", kind);
    gw_status st = gw_gwm_writer_meta(w, "model", kind, err);
    if (!st) st = gw_gwm_writer_meta(w, key, config_json, err);
    free(config_json);
    if (!st) st = gw_gwm_writer_metaf(w, err, "sample_rate", "%d", sample_rate);
    if (!st) st = gw_gwm_writer_metaf(w, err, "parameters", "%zu", parameters);
    return st;
}

gw_status gw_specmodel_read_config(cJSON **root, const gw_gwm *f, const char *kind,
                                   const char *what, gw_error *err) {
    *root = NULL;
    const char *path = gw_gwm_path(f);
    const char *k = gw_gwm_meta(f, "model");
    if (!k || strcmp(k, kind))
        return gw_fail(err, GW_ERR_FORMAT, "%s: is a '%s' model, not a %s", path, k ? k : "unknown",
                       what);
    char key[64];
    snprintf(key, sizeof key, "%s.config", kind);
    const char *json = gw_gwm_meta(f, key);
    if (!json) return gw_fail(err, GW_ERR_FORMAT, "%s: metadata '%s' is missing", path, key);
    return gw_json_parse(root, json, path, err);
}
