/* pixelcnn.c - the Gated PixelCNN's configuration, tensors, masked operators
 * and training pass. The model and why it is causal: see pixelcnn.h; the
 * samplers are in pixelcnn_sample.c. */
#include "models/pixelcnn.h"

#include "io/json.h"
#include "nn/conv2d.h"
#include "nn/im2col.h"
#include "nn/layers.h"
#include "nn/vmath.h"

#include <assert.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* floats rounded up to whole 64-byte lines, so carved arrays stay aligned */
static size_t fl64(size_t n) {
    return gw_align64(n * sizeof(float)) / sizeof(float);
}

/* ---- configuration ---------------------------------------------------- */

/* "train", in the order it is written (spec_config.h) */
static const gw_spec_key train_keys[] = {
    {.key = "batch"},
    {.key = "lr"},
    {.key = "beta1"},
    {.key = "beta2"},
};
enum { N_TRAIN_KEYS = sizeof train_keys / sizeof *train_keys };

void gw_pixelcnn_config_default(gw_pixelcnn_config *c) {
    memset(c, 0, sizeof *c);
    snprintf(c->name, sizeof c->name, "pixelcnn-small");
    gw_specfeat_config_default(&c->feat);
    c->channels = 32;
    c->layers = 10;
    c->head = 128;
    c->classes = 0;
    c->batch = 16;
    c->lr = 1e-3f;
    c->beta1 = 0.9f;
    c->beta2 = 0.999f;
    c->sample_every = 500;
    c->height = c->feat.frames;
    c->width = c->feat.n_mels;
}

gw_status gw_pixelcnn_config_validate(gw_pixelcnn_config *c, const char *source, gw_error *err) {
    const char *src = source ? source : "pixelcnn config";
    gw_status st = gw_specfeat_config_check(&c->feat, src, err);
    if (st) return st;
    const struct {
        const char *key;
        int value, lo, hi;
    } ranges[] = {
        {"channels", c->channels, 1, GW_PIXELCNN_MAX_CHANNELS},
        {"layers", c->layers, 0, GW_PIXELCNN_MAX_LAYERS},
        {"head_channels", c->head, 1, 4096},
        {"classes", c->classes, 0, GW_PIXELCNN_MAX_CLASSES},
        {"train.batch", c->batch, 1, 4096},
    };
    for (size_t i = 0; i < sizeof ranges / sizeof ranges[0]; i++)
        if (ranges[i].value < ranges[i].lo || ranges[i].value > ranges[i].hi)
            return gw_fail(err, GW_ERR_ARG, "%s: %s = %d is outside [%d, %d]", src, ranges[i].key,
                           ranges[i].value, ranges[i].lo, ranges[i].hi);
    if (!(c->lr > 0 && c->lr <= 1))
        return gw_fail(err, GW_ERR_ARG, "%s: train.lr = %g is outside (0, 1]", src, (double)c->lr);
    if (!(c->beta1 >= 0 && c->beta1 < 1) || !(c->beta2 >= 0 && c->beta2 < 1))
        return gw_fail(err, GW_ERR_ARG, "%s: train.beta1 = %g, train.beta2 = %g: each in [0, 1)",
                       src, (double)c->beta1, (double)c->beta2);
    c->height = c->feat.frames;
    c->width = c->feat.n_mels;
    c->name[GW_PIXELCNN_NAME_MAX - 1] = '\0';
    return GW_OK;
}

gw_status gw_pixelcnn_config_from_json(gw_pixelcnn_config *c, const cJSON *root, const char *source,
                                       gw_error *err) {
    static const char *const keys[] = {"model",  "name",          "features", "channels",
                                       "layers", "head_channels", "classes",  "train"};
    const char *src = source ? source : "pixelcnn config";
    if (!cJSON_IsObject(root))
        return gw_fail(err, GW_ERR_FORMAT, "%s: a PixelCNN preset must be a JSON object", src);
    gw_pixelcnn_config d;
    gw_pixelcnn_config_default(&d);
    const char *model;
    gw_status st;
    /* the kind first: another model's preset is named as such, not by its
     * first key a PixelCNN lacks */
    if ((st = gw_json_str(&model, root, "model", 0, NULL, src, err))) return st;
    if (strcmp(model, GW_PIXELCNN_KIND))
        return gw_fail(err, GW_ERR_FORMAT, "%s: key 'model' is '%s', not '%s'", src, model,
                       GW_PIXELCNN_KIND);
    if ((st = gw_json_check_keys(root, NULL, keys, 8, src, err)) ||
        (st = gw_spec_train_check(train_keys, N_TRAIN_KEYS, root, src, err)) ||
        (st = gw_spec_common_read(&d.common, GW_PIXELCNN_KIND, root, src, err)) ||
        (st = gw_json_int(&d.channels, root, "channels", 1, GW_PIXELCNN_MAX_CHANNELS, 1, d.channels,
                          src, err)) ||
        (st = gw_json_int(&d.layers, root, "layers", 0, GW_PIXELCNN_MAX_LAYERS, 1, d.layers, src,
                          err)) ||
        (st = gw_json_int(&d.head, root, "head_channels", 1, 4096, 1, d.head, src, err)) ||
        (st = gw_json_int(&d.classes, root, "classes", 0, GW_PIXELCNN_MAX_CLASSES, 1, 0, src,
                          err)) ||
        (st = gw_spec_train_read(&d, train_keys, N_TRAIN_KEYS, root, src, err)) ||
        (st = gw_pixelcnn_config_validate(&d, src, err)))
        return st;
    *c = d;
    return GW_OK;
}

gw_status gw_pixelcnn_config_parse(gw_pixelcnn_config *c, const char *json, const char *source,
                                   gw_error *err) {
    cJSON *root = NULL;
    gw_status st = gw_json_parse(&root, json, source ? source : "pixelcnn config", err);
    if (st) return st;
    st = gw_pixelcnn_config_from_json(c, root, source, err);
    cJSON_Delete(root);
    return st;
}

gw_status gw_pixelcnn_config_load(gw_pixelcnn_config *c, const char *path, gw_error *err) {
    cJSON *root = NULL;
    gw_status st = gw_json_load(&root, path, err);
    if (st) return st;
    st = gw_pixelcnn_config_from_json(c, root, path, err);
    cJSON_Delete(root);
    return st;
}

char *gw_pixelcnn_config_to_json(const gw_pixelcnn_config *c) {
    cJSON *r = cJSON_CreateObject();
    char *out = NULL;
    if (!r || gw_spec_common_write(&c->common, GW_PIXELCNN_KIND, r) ||
        !cJSON_AddNumberToObject(r, "channels", c->channels) ||
        !cJSON_AddNumberToObject(r, "layers", c->layers) ||
        !cJSON_AddNumberToObject(r, "head_channels", c->head) ||
        !cJSON_AddNumberToObject(r, "classes", c->classes) ||
        gw_spec_train_write(c, train_keys, N_TRAIN_KEYS, r))
        goto done;
    out = cJSON_Print(r);
done:
    cJSON_Delete(r);
    return out;
}

/* the spec's kernels: type A (layer 0) vertical 4 x 7 and horizontal 1 x 4,
 * type B 2 x 3 and 1 x 2 (van den Oord et al. 2016, fig. 2: a k x k mask
 * as a (k/2 + 1) x k vertical and a 1 x (k/2 + 1) horizontal convolution) */
void gw_pixelcnn_layer_convs(const gw_pixelcnn_config *c, int l, int B, gw_pixelcnn_conv *v,
                             gw_pixelcnn_conv *h) {
    const int cin = l ? c->channels : 1, vkh = l ? 2 : 4, vkw = l ? 3 : 7, hkw = l ? 2 : 4;
    const gw_pixelcnn_conv g = {
        .B = B, .C_in = cin, .C_out = 2 * c->channels, .H = c->height, .W = c->width};
    *v = g, v->KH = vkh, v->KW = vkw, v->top = vkh - 1, v->left = vkw / 2;
    *h = g, h->KH = 1, h->KW = hkw, h->left = hkw - 1, h->shift = l == 0;
}

size_t gw_pixelcnn_macs_per_pixel(const gw_pixelcnn_config *c) {
    const size_t C = (size_t)c->channels;
    size_t n = C * (size_t)c->head + (size_t)c->head * GW_PIXELCNN_LEVELS;
    for (int l = 0; l <= c->layers; l++) {
        gw_pixelcnn_conv v, h;
        gw_pixelcnn_layer_convs(c, l, 1, &v, &h);
        n += 2 * C * (size_t)v.C_in * (size_t)(v.KH * v.KW + h.KW) + 4 * C * C + (l ? C * C : 0);
    }
    return n;
}

/* ---- tensors: one table drives declaring and binding ------------------- */

enum { MAX_TENSORS = 10 * (GW_PIXELCNN_MAX_LAYERS + 1) + 4 };

typedef struct tensor_spec {
    char name[48];
    int ndim;
    int shape[4];
    unsigned flags;
    size_t field; /* byte offset of the float * in gw_pixelcnn_weights */
} tensor_spec;

#define FIELD(member) offsetof(gw_pixelcnn_weights, member)
#define LFIELD(l, member)                                                                          \
    (offsetof(gw_pixelcnn_weights, layer) + (size_t)(l) * sizeof(gw_pixelcnn_layer) +              \
     offsetof(gw_pixelcnn_layer, member))

static int add_spec(tensor_spec *t, int n, size_t field, unsigned flags, int ndim, const int *shape,
                    const char *fmt, int l) {
    tensor_spec *s = &t[n];
    snprintf(s->name, sizeof s->name, fmt, l);
    s->ndim = ndim;
    memcpy(s->shape, shape, (size_t)ndim * sizeof(int));
    s->flags = flags;
    s->field = field;
    return n + 1;
}

static int tensor_specs(const gw_pixelcnn_config *c, tensor_spec *t) {
    const int C = c->channels, C2 = 2 * C, K = c->classes, nb = GW_PARAM_NO_DECAY;
    int n = 0;
    for (int l = 0; l <= c->layers; l++) {
        gw_pixelcnn_conv v, h;
        gw_pixelcnn_layer_convs(c, l, 1, &v, &h);
        n = add_spec(t, n, LFIELD(l, v_w), 0, 4, (int[]){C2, v.C_in, v.KH, v.KW},
                     "pixelcnn.layer%02d.v.w", l);
        n = add_spec(t, n, LFIELD(l, v_b), nb, 1, &C2, "pixelcnn.layer%02d.v.b", l);
        n = add_spec(t, n, LFIELD(l, h_w), 0, 4, (int[]){C2, h.C_in, 1, h.KW},
                     "pixelcnn.layer%02d.h.w", l);
        n = add_spec(t, n, LFIELD(l, h_b), nb, 1, &C2, "pixelcnn.layer%02d.h.b", l);
        n = add_spec(t, n, LFIELD(l, v2h_w), 0, 2, (int[]){C2, C2}, "pixelcnn.layer%02d.v2h.w", l);
        n = add_spec(t, n, LFIELD(l, v2h_b), nb, 1, &C2, "pixelcnn.layer%02d.v2h.b", l);
        if (l > 0) {
            n = add_spec(t, n, LFIELD(l, res_w), 0, 2, (int[]){C, C}, "pixelcnn.layer%02d.res.w",
                         l);
            n = add_spec(t, n, LFIELD(l, res_b), nb, 1, &C, "pixelcnn.layer%02d.res.b", l);
        }
        if (K > 0 && l < c->layers)
            n = add_spec(t, n, LFIELD(l, v_emb), 0, 2, (int[]){K, C2}, "pixelcnn.layer%02d.v.emb",
                         l);
        if (K > 0)
            n = add_spec(t, n, LFIELD(l, h_emb), 0, 2, (int[]){K, C2}, "pixelcnn.layer%02d.h.emb",
                         l);
    }
    n = add_spec(t, n, FIELD(head1_w), 0, 2, (int[]){c->head, C}, "pixelcnn.head1.w", 0);
    n = add_spec(t, n, FIELD(head1_b), nb, 1, &c->head, "pixelcnn.head1.b", 0);
    n = add_spec(t, n, FIELD(out_w), 0, 2, (int[]){GW_PIXELCNN_LEVELS, c->head}, "pixelcnn.out.w",
                 0);
    n = add_spec(t, n, FIELD(out_b), nb, 1, (int[]){GW_PIXELCNN_LEVELS}, "pixelcnn.out.b", 0);
    return n;
}

static gw_status bind(gw_pixelcnn_weights *w, gw_params *p, int grad, const tensor_spec *t, int n,
                      gw_error *err) {
    memset(w, 0, sizeof *w);
    for (int i = 0; i < n; i++) {
        if (!gw_params_get(p, t[i].name, t[i].ndim, t[i].shape, err))
            return err && err->status ? err->status : GW_ERR_FORMAT;
        gw_param *prm = gw_params_find(p, t[i].name);
        float *ptr = grad ? prm->grad : prm->data;
        memcpy((char *)w + t[i].field, &ptr, sizeof ptr);
    }
    return GW_OK;
}

gw_status gw_pixelcnn_create_from(gw_pixelcnn **out, const gw_pixelcnn_config *cfg,
                                  gw_params *params, gw_error *err) {
    *out = NULL;
    gw_pixelcnn *m = calloc(1, sizeof *m);
    tensor_spec *t = malloc(sizeof(tensor_spec) * MAX_TENSORS);
    gw_status st;
    if (!m || !t) {
        st = gw_fail(err, GW_ERR_NOMEM, "%s: out of memory creating the model", cfg->name);
        goto fail;
    }
    m->cfg = *cfg;
    if ((st = gw_pixelcnn_config_validate(&m->cfg, cfg->name, err))) goto fail;
    if (!params || !params->data) {
        st = gw_fail(err, GW_ERR_ARG, "%s: parameter group is not allocated", cfg->name);
        goto fail;
    }
    int n = tensor_specs(&m->cfg, t);
    if ((size_t)n != params->count) {
        st = gw_fail(err, GW_ERR_FORMAT, "%s: %zu tensors where the config declares %d", cfg->name,
                     params->count, n);
        goto fail;
    }
    if ((st = bind(&m->w, params, 0, t, n, err)) || (st = bind(&m->g, params, 1, t, n, err)))
        goto fail;
    m->params = params;
    free(t);
    *out = m;
    return GW_OK;
fail:
    free(t);
    free(m);
    gw_params_free(params);
    return st;
}

gw_status gw_pixelcnn_params_declare(gw_params *p, const gw_pixelcnn_config *cfg, gw_error *err) {
    gw_pixelcnn_config c = *cfg;
    gw_status st = gw_pixelcnn_config_validate(&c, cfg->name, err);
    if (st) return st;
    tensor_spec *t = malloc(sizeof(tensor_spec) * MAX_TENSORS);
    if (!t) return gw_fail(err, GW_ERR_NOMEM, "%s: out of memory declaring the model", c.name);
    int n = tensor_specs(&c, t);
    for (int i = 0; i < n && !st; i++)
        st = gw_params_add(p, t[i].name, t[i].ndim, t[i].shape, t[i].flags, NULL, err);
    free(t);
    return st;
}

gw_status gw_pixelcnn_create(gw_pixelcnn **out, const gw_pixelcnn_config *cfg, gw_error *err) {
    *out = NULL;
    gw_params *p = gw_params_create();
    if (!p) return gw_fail(err, GW_ERR_NOMEM, "%s: out of memory creating the model", cfg->name);
    gw_status st = gw_pixelcnn_params_declare(p, cfg, err);
    if (st || (st = gw_params_alloc(p, err))) {
        gw_params_free(p);
        return st;
    }
    return gw_pixelcnn_create_from(out, cfg, p, err);
}

void gw_pixelcnn_free(gw_pixelcnn *m) {
    if (!m) return;
    gw_params_free(m->params);
    free(m);
}

static void init_uniform(float *w, size_t n, size_t fan_in, gw_rng *rng) {
    float a = 1.0f / sqrtf((float)fan_in);
    gw_params_init_uniform(w, n, -a, a, rng);
}

void gw_pixelcnn_weights_init(gw_pixelcnn_weights *w, const gw_pixelcnn_config *c, gw_rng *rng) {
    const size_t C = (size_t)c->channels, C2 = 2 * C, H = (size_t)c->head;
    const size_t K = (size_t)c->classes;
    for (int l = 0; l <= c->layers; l++) {
        gw_pixelcnn_layer *y = &w->layer[l];
        gw_pixelcnn_conv v, h;
        gw_pixelcnn_layer_convs(c, l, 1, &v, &h);
        const size_t vfan = (size_t)v.C_in * v.KH * v.KW, hfan = (size_t)h.C_in * h.KW;
        init_uniform(y->v_w, C2 * vfan, vfan, rng);
        init_uniform(y->v_b, C2, vfan, rng);
        init_uniform(y->h_w, C2 * hfan, hfan, rng);
        init_uniform(y->h_b, C2, hfan, rng);
        init_uniform(y->v2h_w, C2 * C2, C2, rng);
        init_uniform(y->v2h_b, C2, C2, rng);
        if (y->res_w) init_uniform(y->res_w, C * C, C, rng);
        if (y->res_b) init_uniform(y->res_b, C, C, rng);
        if (y->v_emb) gw_params_init_normal(y->v_emb, K * C2, 0.0f, 1.0f, rng);
        if (y->h_emb) gw_params_init_normal(y->h_emb, K * C2, 0.0f, 1.0f, rng);
    }
    init_uniform(w->head1_w, H * C, C, rng);
    init_uniform(w->head1_b, H, C, rng);
    init_uniform(w->out_w, GW_PIXELCNN_LEVELS * H, H, rng);
    init_uniform(w->out_b, GW_PIXELCNN_LEVELS, H, rng);
}

/* ---- masked convolution ------------------------------------------------
 * Fast path: a stride-1 conv2d with its own zero padding on each side
 * (gw_conv2d_dims_init_pads: `top` rows above, KH-1-top below, `left`
 * columns left, KW-1-left right) is exactly the same-size masked output,
 * read from the input in place; a shift moves the output right in place.
 * Workspace: [the unshifted output gradient (shift only) | conv2d's]. (It
 * used to copy every input into a padded scratch image and crop the
 * gradient back out: 4-5% of a training step in copies.) */

static size_t out_numel(const gw_pixelcnn_conv *g) {
    return (size_t)g->B * g->C_out * (size_t)g->H * (size_t)g->W;
}

static void conv_dims(gw_conv2d_dims *d, const gw_pixelcnn_conv *g) {
    gw_status st =
        gw_conv2d_dims_init_pads(d, g->B, g->C_in, g->H, g->W, g->C_out, g->KH, g->KW, g->top,
                                 g->KH - 1 - g->top, g->left, g->KW - 1 - g->left, NULL);
    assert(st == GW_OK);
    (void)st;
    d->bf16 = g->bf16;
}

/* floats of the workspace before conv2d's own part */
static size_t scratch_floats(const gw_pixelcnn_conv *g) {
    return g->shift ? fl64(out_numel(g)) : 0;
}

size_t gw_pixelcnn_conv_workspace(const gw_pixelcnn_conv *g) {
    gw_conv2d_dims d;
    conv_dims(&d, g);
    return scratch_floats(g) + gw_conv2d_workspace_size(&d);
}

void gw_pixelcnn_conv_forward(float *out, const float *in, const float *w, const float *b,
                              const gw_pixelcnn_conv *g, float *work) {
    gw_conv2d_dims d;
    conv_dims(&d, g);
    gw_conv2d_forward(out, in, w, b, &d, work + scratch_floats(g));
    if (!g->shift) return;
    const int s = g->shift, W = g->W;
    for (size_t row = 0; row < (size_t)g->B * g->C_out * g->H; row++) {
        float *o = out + row * W;
        memmove(o + s, o, (size_t)(W - s) * sizeof(float));
        memset(o, 0, (size_t)s * sizeof(float));
    }
}

void gw_pixelcnn_conv_backward(float *dinp, float *dw, float *db, const float *dout,
                               const float *in, const float *w, const gw_pixelcnn_conv *g,
                               float *work) {
    gw_conv2d_dims d;
    conv_dims(&d, g);
    float *dy = work, *cw = work + scratch_floats(g);
    if (g->shift) { /* dy (B, C_out, H, W): dout moved back left, zeros at the right */
        const int s = g->shift, W = g->W;
        for (size_t row = 0; row < (size_t)g->B * g->C_out * g->H; row++) {
            memcpy(dy + row * W, dout + row * W + s, (size_t)(W - s) * sizeof(float));
            memset(dy + row * W + W - s, 0, (size_t)s * sizeof(float));
        }
        dout = dy;
    }
    gw_conv2d_backward(dinp, dw, db, dout, in, w, &d, cw);
}

/* the input element a tap reads, or -1 outside the image */
static ptrdiff_t tap(const gw_pixelcnn_conv *g, int b, int i, int r, int c, int kh, int kw) {
    const int rr = r - g->top + kh, cc = c - g->shift - g->left + kw;
    if (rr < 0 || rr >= g->H || cc < 0 || cc >= g->W) return -1;
    return (((ptrdiff_t)b * g->C_in + i) * g->H + rr) * g->W + cc;
}

void gw_pixelcnn_conv_forward_ref(float *out, const float *in, const float *w, const float *b,
                                  const gw_pixelcnn_conv *g) {
    for (int n = 0; n < g->B; n++)
        for (int o = 0; o < g->C_out; o++)
            for (int r = 0; r < g->H; r++)
                for (int c = 0; c < g->W; c++) {
                    float s = 0;
                    if (c >= g->shift) {
                        s = b ? b[o] : 0.0f;
                        for (int i = 0; i < g->C_in; i++)
                            for (int kh = 0; kh < g->KH; kh++)
                                for (int kw = 0; kw < g->KW; kw++) {
                                    ptrdiff_t k = tap(g, n, i, r, c, kh, kw);
                                    if (k >= 0)
                                        s += w[((o * g->C_in + i) * g->KH + kh) * g->KW + kw] *
                                             in[k];
                                }
                    }
                    out[(((size_t)n * g->C_out + o) * g->H + r) * g->W + c] = s;
                }
}

void gw_pixelcnn_conv_backward_ref(float *dinp, float *dw, float *db, const float *dout,
                                   const float *in, const float *w, const gw_pixelcnn_conv *g) {
    for (int n = 0; n < g->B; n++)
        for (int o = 0; o < g->C_out; o++)
            for (int r = 0; r < g->H; r++)
                for (int c = g->shift; c < g->W; c++) {
                    const float d = dout[(((size_t)n * g->C_out + o) * g->H + r) * g->W + c];
                    if (db) db[o] += d;
                    for (int i = 0; i < g->C_in; i++)
                        for (int kh = 0; kh < g->KH; kh++)
                            for (int kw = 0; kw < g->KW; kw++) {
                                ptrdiff_t k = tap(g, n, i, r, c, kh, kw);
                                size_t wi = ((size_t)(o * g->C_in + i) * g->KH + kh) * g->KW + kw;
                                if (k < 0) continue;
                                if (dw) dw[wi] += d * in[k];
                                if (dinp) dinp[k] += d * w[wi];
                            }
                }
}

/* ---- the vertical-to-horizontal link ---------------------------------- */

static void down_dims(gw_conv2d_dims *d, int B, int C_in, int C_out, int H, int W, int bf16) {
    gw_status st = gw_conv2d_dims_init(d, B, C_in, H, W, C_out, 1, 1, 1, 0, NULL);
    assert(st == GW_OK);
    (void)st;
    d->bf16 = bf16;
}

size_t gw_pixelcnn_down_workspace(int B, int C_in, int C_out, int H, int W) {
    gw_conv2d_dims d;
    down_dims(&d, B, C_in, C_out, H, W, 0);
    return fl64((size_t)B * C_out * H * W) + gw_conv2d_workspace_size(&d);
}

void gw_pixelcnn_down_forward(float *out, const float *in, const float *w, const float *b, int B,
                              int C_in, int C_out, int H, int W, int bf16, float *work) {
    gw_conv2d_dims d;
    down_dims(&d, B, C_in, C_out, H, W, bf16);
    const size_t hw = (size_t)H * W;
    float *t = work; // (B, C_out, H, W): the 1x1 of the unshifted input
    gw_conv2d_forward(t, in, w, NULL, &d, work + fl64((size_t)B * C_out * hw));
    for (size_t bo = 0; bo < (size_t)B * C_out; bo++) {
        float *o = out + bo * hw;
        const float *s = t + bo * hw, bias = b[bo % (size_t)C_out];
        for (size_t p = 0; p < (size_t)W; p++)
            o[p] += bias;
        for (size_t p = (size_t)W; p < hw; p++)
            o[p] += s[p - W] + bias;
    }
}

void gw_pixelcnn_down_backward(float *dinp, float *dw, float *db, const float *dout,
                               const float *in, const float *w, int B, int C_in, int C_out, int H,
                               int W, int bf16, float *work) {
    gw_conv2d_dims d;
    down_dims(&d, B, C_in, C_out, H, W, bf16);
    const size_t hw = (size_t)H * W;
    float *t = work; // (B, C_out, H, W): dout moved one row up, zeros in the last row
    for (size_t bo = 0; bo < (size_t)B * C_out; bo++) {
        const float *s = dout + bo * hw;
        if (db) db[bo % (size_t)C_out] += gw_vsum(s, hw);
        memcpy(t + bo * hw, s + W, (hw - (size_t)W) * sizeof(float));
        memset(t + bo * hw + hw - W, 0, (size_t)W * sizeof(float));
    }
    gw_conv2d_backward(dinp, dw, NULL, t, in, w, &d, work + fl64((size_t)B * C_out * hw));
}

void gw_pixelcnn_down_forward_ref(float *out, const float *in, const float *w, const float *b,
                                  int B, int C_in, int C_out, int H, int W) {
    for (int n = 0; n < B; n++)
        for (int o = 0; o < C_out; o++)
            for (int r = 0; r < H; r++)
                for (int c = 0; c < W; c++) {
                    float s = b[o];
                    for (int i = 0; r > 0 && i < C_in; i++)
                        s += w[o * C_in + i] * in[(((size_t)n * C_in + i) * H + r - 1) * W + c];
                    out[(((size_t)n * C_out + o) * H + r) * W + c] += s;
                }
}

void gw_pixelcnn_down_backward_ref(float *dinp, float *dw, float *db, const float *dout,
                                   const float *in, const float *w, int B, int C_in, int C_out,
                                   int H, int W) {
    for (int n = 0; n < B; n++)
        for (int o = 0; o < C_out; o++)
            for (int r = 0; r < H; r++)
                for (int c = 0; c < W; c++) {
                    const float d = dout[(((size_t)n * C_out + o) * H + r) * W + c];
                    if (db) db[o] += d;
                    for (int i = 0; r > 0 && i < C_in; i++) {
                        size_t k = (((size_t)n * C_in + i) * H + r - 1) * W + c;
                        if (dw) dw[o * C_in + i] += d * in[k];
                        if (dinp) dinp[k] += d * w[o * C_in + i];
                    }
                }
}

/* ---- gates ---------------------------------------------------------------
 * out[b,c] = tanh(pre[b,c] + e[b,c]) * sigmoid(pre[b,C+c] + e[b,C+c]) over
 * each (H W) plane, e (B, 2C) the label's embedding rows or NULL. Backward
 * recomputes tanh and sigmoid from pre (cheaper in memory than keeping
 * them), OVERWRITES dpre and, if de is not NULL, writes de (B, 2C) = the
 * plane sums of dpre. */
/* Both are a tenth of a training step, bound by the exp's arithmetic as
 * much as by memory: built twice (GCC's function multiversioning), the
 * AVX-512 clone picked at load time where the CPU has it. Not under the
 * sanitizers: the clone's resolver runs before their runtimes start (a
 * ThreadSanitizer build crashed at load). */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) &&                             \
    !defined(__SANITIZE_THREAD__) && !defined(__SANITIZE_ADDRESS__)
#define GW_GATE_CLONES __attribute__((target_clones("avx512f", "default")))
#else
#define GW_GATE_CLONES
#endif
GW_GATE_CLONES
static void gate_forward(float *out, const float *pre, const float *e, int B, int C, size_t hw) {
    for (int b = 0; b < B; b++)
        for (int c = 0; c < C; c++) {
            const float *a = pre + ((size_t)b * 2 * C + c) * hw, *g = a + (size_t)C * hw;
            const float ea = e ? e[(size_t)b * 2 * C + c] : 0.0f;
            const float eg = e ? e[(size_t)b * 2 * C + C + c] : 0.0f;
            float *o = out + ((size_t)b * C + c) * hw;
            for (size_t p = 0; p < hw; p++)
                o[p] = gw_vtanhf(a[p] + ea) * gw_vsigmoidf(g[p] + eg);
        }
}

GW_GATE_CLONES
static void gate_backward(float *dpre, float *de, const float *dout, const float *pre,
                          const float *e, int B, int C, size_t hw) {
    for (int b = 0; b < B; b++)
        for (int c = 0; c < C; c++) {
            const size_t ia = (size_t)b * 2 * C + c, ig = ia + C;
            const float *a = pre + ia * hw, *g = pre + ig * hw,
                        *d = dout + ((size_t)b * C + c) * hw;
            const float ea = e ? e[ia] : 0.0f, eg = e ? e[ig] : 0.0f;
            float *da = dpre + ia * hw, *dg = dpre + ig * hw;
            for (size_t p = 0; p < hw; p++) {
                const float t = gw_vtanhf(a[p] + ea), s = gw_vsigmoidf(g[p] + eg);
                da[p] = d[p] * (1.0f - t * t) * s;
                dg[p] = d[p] * t * s * (1.0f - s);
            }
            if (!de) continue;
            de[ia] = gw_vsum(da, hw), de[ig] = gw_vsum(dg, hw);
        }
}

/* ---- the training pass ---------------------------------------------------- */

struct gw_pixelcnn_train {
    gw_pixelcnn *m;
    int B, C, L, HEAD;
    size_t hw, N; /* pixels per image, in the batch */
    gw_pixelcnn_conv vg[GW_PIXELCNN_MAX_LAYERS + 1], hg[GW_PIXELCNN_MAX_LAYERS + 1];
    gw_conv2d_dims res; /* the residual 1x1 */
    float *mem;
    float *x;                                                               // (B, 1, H, W)
    float *P[GW_PIXELCNN_MAX_LAYERS + 1], *Q[GW_PIXELCNN_MAX_LAYERS + 1];   // (B, 2C, H, W)
    float *vo[GW_PIXELCNN_MAX_LAYERS + 1], *ho[GW_PIXELCNN_MAX_LAYERS + 1]; // (B, C, H, W)
    float *ev[GW_PIXELCNN_MAX_LAYERS + 1], *eh[GW_PIXELCNN_MAX_LAYERS + 1]; // (B, 2C) or NULL
    float *a1, *da1;         // (N, C): relu(h_L), channels last
    float *a2, *da2;         // (N, HEAD)
    float *logits, *dlogits; // (N, 256)
    float *dh, *dv;          // (B, C, H, W) gradients wrt a layer's outputs
    float *dP, *dQ;          // (B, 2C, H, W)
    /* G[l], l >= 1: layer l's horizontal gate (B, C, H, W), the residual 1x1's
     * input, kept from the forward for its weight gradient (recomputing it
     * in the backward cost a tenth of the gates' time); dg its gradient */
    float *G[GW_PIXELCNN_MAX_LAYERS + 1], *dg;
    float *de;               // (B, 2C)
    float *dx;               // (B, H, W)
    float *work;
    int32_t *targets; // (N)
    int32_t *labels;  // (B)
    int have_grad;
    size_t work_floats; /* the workspace's size, for a later arena_alloc */
    float grad_scale;   /* 1, or 1 / n in a shard: its gradient is its share of the mean */
    /* data-parallel threads (gw_pixelcnn_train_set_threads): n_shards > 1
     * arenas of B / n_shards images each, run by as many threads, and this
     * arena's own activations freed. Shard i > 0 trains shard_model[i], a
     * copy of the model's struct whose weights are the model's and whose
     * gradients are its own, added into the model's after the backward. */
    int n_shards;
    gw_pixelcnn_train *shard[GW_PIXELCNN_TRAIN_MAX_THREADS];
    gw_pixelcnn *shard_model[GW_PIXELCNN_TRAIN_MAX_THREADS];
};

/* carves the arena's arrays from base (NULL: only counts); returns floats */
static size_t train_layout(gw_pixelcnn_train *t, float *base, size_t work) {
    const size_t B = (size_t)t->B, C = (size_t)t->C, hw = t->hw, N = t->N, H1 = (size_t)t->HEAD;
    const int cond = t->m->cfg.classes > 0;
    size_t off = 0;
#define TAKE(ptr, n) ((ptr) = base ? base + off : NULL, off += fl64(n))
    TAKE(t->x, N);
    for (int l = 0; l <= t->L; l++) {
        TAKE(t->P[l], B * 2 * C * hw);
        TAKE(t->Q[l], B * 2 * C * hw);
        TAKE(t->ho[l], B * C * hw);
        if (l < t->L) TAKE(t->vo[l], B * C * hw);
        if (cond && l < t->L) TAKE(t->ev[l], B * 2 * C);
        if (cond) TAKE(t->eh[l], B * 2 * C);
    }
    TAKE(t->a1, N * C);
    TAKE(t->da1, N * C);
    TAKE(t->a2, N * H1);
    TAKE(t->da2, N * H1);
    TAKE(t->logits, N * GW_PIXELCNN_LEVELS);
    TAKE(t->dlogits, N * GW_PIXELCNN_LEVELS);
    TAKE(t->dh, B * C * hw);
    TAKE(t->dv, B * C * hw);
    TAKE(t->dP, B * 2 * C * hw);
    TAKE(t->dQ, B * 2 * C * hw);
    for (int l = 1; l <= t->L; l++)
        TAKE(t->G[l], B * C * hw);
    TAKE(t->dg, B * C * hw);
    TAKE(t->de, B * 2 * C);
    TAKE(t->dx, N);
    TAKE(t->work, work);
#undef TAKE
    return off;
}

static void arena_free(gw_pixelcnn_train *t) {
    gw_free(t->mem);
    free(t->targets);
    free(t->labels);
    t->mem = NULL, t->targets = NULL, t->labels = NULL;
    train_layout(t, NULL, t->work_floats); /* every array pointer NULL */
}

/* the activations, targets and labels of t's batch */
static gw_status arena_alloc(gw_pixelcnn_train *t, gw_error *err) {
    const size_t floats = train_layout(t, NULL, t->work_floats);
    t->mem = gw_alloc(floats * sizeof(float));
    t->targets = calloc(t->N, sizeof(int32_t));
    t->labels = calloc((size_t)t->B, sizeof(int32_t));
    if (!t->mem || !t->targets || !t->labels) {
        arena_free(t); /* all or nothing: a sharded arena's own arrays stay NULL */
        return gw_fail(err, GW_ERR_NOMEM, "%s: cannot allocate %.0f MB of activations for batch %d",
                       t->m->cfg.name, (double)floats * sizeof(float) / 1e6, t->B);
    }
    train_layout(t, t->mem, t->work_floats);
    return GW_OK;
}


gw_status gw_pixelcnn_train_create(gw_pixelcnn_train **out, gw_pixelcnn *model, int batch,
                                   gw_error *err) {
    *out = NULL;
    const gw_pixelcnn_config *c = &model->cfg;
    if (batch < 1 || batch > 4096)
        return gw_fail(err, GW_ERR_ARG, "%s: batch %d is outside [1, 4096]", c->name, batch);
    gw_pixelcnn_train *t = calloc(1, sizeof *t);
    if (!t) return gw_fail(err, GW_ERR_NOMEM, "%s: out of memory", c->name);
    t->m = model;
    t->B = batch, t->C = c->channels, t->L = c->layers, t->HEAD = c->head;
    t->hw = (size_t)c->height * c->width;
    t->N = (size_t)batch * t->hw;
    gw_status st =
        gw_conv2d_dims_init(&t->res, batch, t->C, c->height, c->width, t->C, 1, 1, 1, 0, err);
    if (st) goto fail;
    size_t work = gw_conv2d_workspace_size(&t->res);
    size_t down = gw_pixelcnn_down_workspace(batch, 2 * t->C, 2 * t->C, c->height, c->width);
    if (down > work) work = down;
    if (gw_conv_sgemm_pack_size() > work) work = gw_conv_sgemm_pack_size(); /* the head's */
    for (int l = 0; l <= t->L; l++) {
        gw_pixelcnn_layer_convs(c, l, batch, &t->vg[l], &t->hg[l]);
        size_t wv = gw_pixelcnn_conv_workspace(&t->vg[l]),
               wh = gw_pixelcnn_conv_workspace(&t->hg[l]);
        if (wv > work) work = wv;
        if (wh > work) work = wh;
    }
    t->work_floats = work;
    t->grad_scale = 1.0f;
    if ((st = arena_alloc(t, err))) goto fail;
    *out = t;
    return GW_OK;
fail:
    gw_pixelcnn_train_free(t);
    return st;
}

static void shards_free(gw_pixelcnn_train *t) {
    for (int i = 0; i < t->n_shards; i++) {
        gw_pixelcnn_train_free(t->shard[i]);
        if (i > 0) gw_pixelcnn_free(t->shard_model[i]);
        t->shard[i] = NULL, t->shard_model[i] = NULL;
    }
    t->n_shards = 0;
}

void gw_pixelcnn_train_free(gw_pixelcnn_train *t) {
    if (!t) return;
    shards_free(t);
    arena_free(t);
    free(t);
}

/* the arrays below are this arena's: NULL while shards hold the batch */
const float *gw_pixelcnn_train_logits(const gw_pixelcnn_train *t) {
    return t->logits;
}

float *gw_pixelcnn_train_dlogits(gw_pixelcnn_train *t) {
    return t->dlogits;
}

const float *gw_pixelcnn_train_dinput(const gw_pixelcnn_train *t) {
    return t->dx;
}

/* e (B, 2C) = the rows of table for the batch's labels */
static void gather_rows(float *e, const float *table, const int32_t *labels, int B, int C2) {
    for (int b = 0; b < B; b++)
        memcpy(e + (size_t)b * C2, table + (size_t)labels[b] * C2, (size_t)C2 * sizeof(float));
}

static void scatter_rows(float *dtable, const float *de, const int32_t *labels, int B, int C2) {
    for (int b = 0; b < B; b++)
        for (int k = 0; k < C2; k++)
            dtable[(size_t)labels[b] * C2 + k] += de[(size_t)b * C2 + k];
}

static gw_status shard_forward(gw_pixelcnn_train *t, float *loss, const uint8_t *q,
                               const int32_t *labels, int want_grad, gw_error *err) {
    const gw_pixelcnn_config *cfg = &t->m->cfg;
    const gw_pixelcnn_weights *w = &t->m->w;
    const int B = t->B, C = t->C, L = t->L, H = cfg->height, W = cfg->width;
    const size_t hw = t->hw, N = t->N;
    t->have_grad = 0;
    if (cfg->classes > 0) {
        if (!labels)
            return gw_fail(err, GW_ERR_ARG, "%s: a model conditioned on %d classes needs labels",
                           cfg->name, cfg->classes);
        for (int b = 0; b < B; b++)
            if (labels[b] < 0 || labels[b] >= cfg->classes)
                return gw_fail(err, GW_ERR_ARG, "%s: label %d of image %d is outside [0, %d)",
                               cfg->name, (int)labels[b], b, cfg->classes);
        memcpy(t->labels, labels, (size_t)B * sizeof(int32_t));
        for (int l = 0; l <= L; l++) {
            if (l < L) gather_rows(t->ev[l], w->layer[l].v_emb, t->labels, B, 2 * C);
            gather_rows(t->eh[l], w->layer[l].h_emb, t->labels, B, 2 * C);
        }
    }
    for (size_t i = 0; i < N; i++) {
        t->x[i] = q[i] / 127.5f - 1.0f;
        t->targets[i] = q[i];
    }
    for (int l = 0; l <= L; l++) {
        const gw_pixelcnn_layer *y = &w->layer[l];
        const float *vin = l ? t->vo[l - 1] : t->x, *hin = l ? t->ho[l - 1] : t->x;
        gw_pixelcnn_conv_forward(t->P[l], vin, y->v_w, y->v_b, &t->vg[l], t->work);
        gw_pixelcnn_conv_forward(t->Q[l], hin, y->h_w, y->h_b, &t->hg[l], t->work);
        gw_pixelcnn_down_forward(t->Q[l], t->P[l], y->v2h_w, y->v2h_b, B, 2 * C, 2 * C, H, W,
                                 t->res.bf16, t->work);
        if (l < L) gate_forward(t->vo[l], t->P[l], t->ev[l], B, C, hw);
        if (l == 0) {
            gate_forward(t->ho[0], t->Q[0], t->eh[0], B, C, hw);
            continue;
        }
        gate_forward(t->G[l], t->Q[l], t->eh[l], B, C, hw);
        gw_conv2d_forward(t->ho[l], t->G[l], y->res_w, y->res_b, &t->res, t->work);
        for (size_t i = 0; i < (size_t)B * C * hw; i++)
            t->ho[l][i] += hin[i];
    }
    /* head, per pixel: channels last, so each pixel's 256 logits are a row */
    const float *h = t->ho[L];
    for (int b = 0; b < B; b++)
        for (int c = 0; c < C; c++)
            for (size_t p = 0; p < hw; p++)
                t->a1[((size_t)b * hw + p) * C + c] = fmaxf(h[((size_t)b * C + c) * hw + p], 0.0f);
    gw_dense_forward_packed(t->a2, t->a1, w->head1_w, w->head1_b, (int)N, C, t->HEAD, t->res.bf16,
                            t->work);
    gw_relu_forward(t->a2, t->a2, N * t->HEAD);
    gw_dense_forward_packed(t->logits, t->a2, w->out_w, w->out_b, (int)N, t->HEAD,
                            GW_PIXELCNN_LEVELS, t->res.bf16, t->work);
    if (!loss && !want_grad) return GW_OK;
    float nats;
    if (want_grad) memset(t->dlogits, 0, N * GW_PIXELCNN_LEVELS * sizeof(float));
    gw_status st = gw_loss_softmax_xent(&nats, want_grad ? t->dlogits : NULL, t->logits, t->targets,
                                        (int)N, GW_PIXELCNN_LEVELS, "pixelcnn logits", err);
    if (st) return st;
    if (want_grad && t->grad_scale != 1.0f)
        for (size_t i = 0; i < N * GW_PIXELCNN_LEVELS; i++)
            t->dlogits[i] *= t->grad_scale;
    if (loss) *loss = nats;
    t->have_grad = want_grad;
    return GW_OK;
}

static void shard_backward(gw_pixelcnn_train *t) {
    assert(t->have_grad && "gw_pixelcnn_train_backward needs a forward with want_grad");
    const gw_pixelcnn_config *cfg = &t->m->cfg;
    const gw_pixelcnn_weights *w = &t->m->w, *g = &t->m->g;
    const int B = t->B, C = t->C, L = t->L, H = cfg->height, W = cfg->width, HEAD = t->HEAD;
    const size_t hw = t->hw, N = t->N, plane = (size_t)B * C * hw;
    const int cond = cfg->classes > 0;

    /* head: dlogits -> dh (B, C, H, W), the gradient wrt h_L */
    memset(t->da2, 0, N * HEAD * sizeof(float));
    gw_dense_backward_packed(t->da2, g->out_w, g->out_b, t->dlogits, t->a2, w->out_w, (int)N, HEAD,
                             GW_PIXELCNN_LEVELS, t->res.bf16, t->work);
    for (size_t i = 0; i < N * HEAD; i++)
        t->da2[i] = t->a2[i] > 0 ? t->da2[i] : 0.0f;
    memset(t->da1, 0, N * C * sizeof(float));
    gw_dense_backward_packed(t->da1, g->head1_w, g->head1_b, t->da2, t->a1, w->head1_w, (int)N, C,
                             HEAD, t->res.bf16, t->work);
    for (int b = 0; b < B; b++)
        for (int c = 0; c < C; c++)
            for (size_t p = 0; p < hw; p++) {
                const size_t k = ((size_t)b * hw + p) * C + c;
                t->dh[((size_t)b * C + c) * hw + p] = t->a1[k] > 0 ? t->da1[k] : 0.0f;
            }

    /* layers, last first. dh holds the gradient wrt h_out of layer l, dv
     * wrt v_out (none for the last layer, whose vertical gate feeds
     * nothing). Both become the gradients wrt the layer's inputs in place:
     * dh keeps the residual's identity part and gains Hconv's; layer 0's
     * inputs are both x, so its convolutions add into dx. */
    memset(t->dx, 0, N * sizeof(float));
    for (int l = L; l >= 0; l--) {
        const gw_pixelcnn_layer *y = &w->layer[l], *gy = &g->layer[l];
        const float *vin = l ? t->vo[l - 1] : t->x, *hin = l ? t->ho[l - 1] : t->x;
        if (l > 0) {
            memset(t->dg, 0, plane * sizeof(float));
            gw_conv2d_backward(t->dg, gy->res_w, gy->res_b, t->dh, t->G[l], y->res_w, &t->res,
                               t->work);
        }
        gate_backward(t->dQ, cond ? t->de : NULL, l ? t->dg : t->dh, t->Q[l], t->eh[l], B, C, hw);
        if (cond) scatter_rows(gy->h_emb, t->de, t->labels, B, 2 * C);
        if (l < L) {
            gate_backward(t->dP, cond ? t->de : NULL, t->dv, t->P[l], t->ev[l], B, C, hw);
            if (cond) scatter_rows(gy->v_emb, t->de, t->labels, B, 2 * C);
        } else {
            memset(t->dP, 0, 2 * plane * sizeof(float));
        }
        gw_pixelcnn_down_backward(t->dP, gy->v2h_w, gy->v2h_b, t->dQ, t->P[l], y->v2h_w, B, 2 * C,
                                  2 * C, H, W, t->res.bf16, t->work);
        if (l > 0) memset(t->dv, 0, plane * sizeof(float));
        gw_pixelcnn_conv_backward(l ? t->dh : t->dx, gy->h_w, gy->h_b, t->dQ, hin, y->h_w,
                                  &t->hg[l], t->work);
        gw_pixelcnn_conv_backward(l ? t->dv : t->dx, gy->v_w, gy->v_b, t->dP, vin, y->v_w,
                                  &t->vg[l], t->work);
    }
}

/* ---- data-parallel threads ------------------------------------------------ */

gw_status gw_pixelcnn_train_set_threads(gw_pixelcnn_train *t, int threads, gw_error *err) {
    shards_free(t);
    if (threads > GW_PIXELCNN_TRAIN_MAX_THREADS) threads = GW_PIXELCNN_TRAIN_MAX_THREADS;
    if (threads > t->B) threads = t->B;
    while (threads > 1 && t->B % threads)
        threads--; /* equal shards keep the mean exact */
    gw_status st = GW_OK;
    if (threads <= 1) return t->mem ? GW_OK : arena_alloc(t, err);
    arena_free(t);
    for (int i = 0; i < threads && !st; i++) {
        gw_pixelcnn *m = t->m;
        if (i > 0) { /* the model's weights, gradients of its own */
            st = gw_pixelcnn_create(&t->shard_model[i], &t->m->cfg, err);
            if (st) break;
            m = t->shard_model[i];
            m->w = t->m->w;
        }
        st = gw_pixelcnn_train_create(&t->shard[i], m, t->B / threads, err);
        if (!st) t->shard[i]->grad_scale = 1.0f / (float)threads;
        if (!st) gw_pixelcnn_train_set_bf16(t->shard[i], t->res.bf16);
        t->n_shards = i + 1;
    }
    if (st) {
        gw_error keep = err ? *err : (gw_error){0};
        gw_pixelcnn_train_set_threads(t, 1, NULL);
        if (err) *err = keep;
    }
    return st;
}

int gw_pixelcnn_train_threads(const gw_pixelcnn_train *t) {
    return t->n_shards > 1 ? t->n_shards : 1;
}

int gw_pixelcnn_train_set_bf16(gw_pixelcnn_train *t, int on) {
    on = on && gw_conv_bf16_ok();
    for (int l = 0; l <= t->L; l++)
        t->vg[l].bf16 = t->hg[l].bf16 = on;
    t->res.bf16 = on;
    for (int i = 0; i < t->n_shards; i++)
        gw_pixelcnn_train_set_bf16(t->shard[i], on);
    return on;
}

typedef struct shard_job {
    gw_pixelcnn_train *t;
    const uint8_t *q;
    const int32_t *labels;
    int want_grad, want_loss, backward;
    float loss;
    gw_status st;
    gw_error err;
} shard_job;

static void *shard_run(void *p) {
    shard_job *j = p;
    gw_denormals_flush(); /* a shard thread computes like the trainer's own (base/fpenv.c) */
    if (j->backward)
        shard_backward(j->t);
    else
        j->st = shard_forward(j->t, j->want_loss ? &j->loss : NULL, j->q, j->labels,
                              j->want_grad, &j->err);
    return NULL;
}


gw_status gw_pixelcnn_train_forward(gw_pixelcnn_train *t, float *loss, const uint8_t *q,
                                    const int32_t *labels, int want_grad, gw_error *err) {
    if (t->n_shards <= 1) return shard_forward(t, loss, q, labels, want_grad, err);
    const int n = t->n_shards, b = t->B / n;
    shard_job jobs[GW_PIXELCNN_TRAIN_MAX_THREADS];
    t->have_grad = 0;
    for (int i = 0; i < n; i++)
        jobs[i] = (shard_job){.t = t->shard[i],
                              .q = q + (size_t)i * b * t->hw,
                              .labels = labels ? labels + (size_t)i * b : NULL,
                              .want_grad = want_grad,
                              .want_loss = loss != NULL};
    gw_run_jobs(shard_run, jobs, sizeof jobs[0], n);
    double sum = 0;
    for (int i = 0; i < n; i++) {
        if (jobs[i].st) {
            if (err) *err = jobs[i].err;
            return jobs[i].st;
        }
        sum += jobs[i].loss;
    }
    if (loss) *loss = (float)(sum / n);
    t->have_grad = want_grad;
    return GW_OK;
}

void gw_pixelcnn_train_backward(gw_pixelcnn_train *t) {
    if (t->n_shards <= 1) {
        shard_backward(t);
        return;
    }
    if (!t->have_grad) return; /* the last forward failed or wanted no gradient */
    const int n = t->n_shards;
    shard_job jobs[GW_PIXELCNN_TRAIN_MAX_THREADS];
    for (int i = 0; i < n; i++) {
        if (i > 0) gw_params_zero_grad(t->shard_model[i]->params);
        jobs[i] = (shard_job){.t = t->shard[i], .backward = 1};
    }
    gw_run_jobs(shard_run, jobs, sizeof jobs[0], n);
    /* each shard's gradient already counts 1/n (grad_scale); shard 0 added
     * into the model's gradients, the others' are added now */
    float *g = t->m->params->grad;
    for (int i = 1; i < n; i++) {
        const float *gi = t->shard_model[i]->params->grad;
        for (size_t k = 0; k < t->m->params->total; k++)
            g[k] += gi[k];
    }
    t->have_grad = 0;
}

/* ---- the image and the held-out figure ---------------------------------- */

void gw_pixelcnn_quantise(uint8_t *q, const float *img, int n_mels, int frames) {
    for (int b = 0; b < n_mels; b++)
        for (int f = 0; f < frames; f++) {
            q[(size_t)f * n_mels + b] = (uint8_t)gw_spec_level(img[(size_t)b * frames + f]);
        }
}

void gw_pixelcnn_dequantise(float *img, const uint8_t *q, int n_mels, int frames) {
    for (int b = 0; b < n_mels; b++)
        for (int f = 0; f < frames; f++)
            img[(size_t)b * frames + f] = q[(size_t)f * n_mels + b] / 127.5f - 1.0f;
}

/* image j's logits (hw, 256) of the last forward: in its shard's arena
 * when the batch is split across threads */
static const float *image_logits(const gw_pixelcnn_train *t, size_t j) {
    if (t->n_shards > 1) {
        const size_t b = (size_t)(t->B / t->n_shards);
        return image_logits(t->shard[j / b], j % b);
    }
    return t->logits + j * t->hw * GW_PIXELCNN_LEVELS;
}

/* sum over the hw pixels of one image of -log softmax(logits)[q], in nats */
static double image_nll(const float *logits, const uint8_t *q, size_t hw) {
    double nll = 0;
    for (size_t p = 0; p < hw; p++) {
        const float *l = logits + p * GW_PIXELCNN_LEVELS;
        float mx = l[0];
        for (int k = 1; k < GW_PIXELCNN_LEVELS; k++)
            mx = fmaxf(mx, l[k]);
        double s = 0;
        for (int k = 0; k < GW_PIXELCNN_LEVELS; k++)
            s += expf(l[k] - mx);
        nll += (double)mx + log(s) - (double)l[q[p]];
    }
    return nll;
}

gw_status gw_pixelcnn_bits_per_dim(double *bits, double *per_image, gw_pixelcnn_train *t,
                                   const uint8_t *q, const int32_t *labels, size_t n,
                                   gw_error *err) {
    return gw_pixelcnn_bits_per_dim_from(bits, per_image, t, q, labels, n, 0, err);
}

gw_status gw_pixelcnn_bits_per_dim_from(double *bits, double *per_image, gw_pixelcnn_train *t,
                                        const uint8_t *q, const int32_t *labels, size_t n,
                                        size_t from, gw_error *err) {
    const gw_pixelcnn_config *c = &t->m->cfg;
    const size_t B = (size_t)t->B, hw = t->hw, m = hw - from;
    *bits = NAN;
    if (n == 0) return gw_fail(err, GW_ERR_ARG, "%s: no images to measure", c->name);
    if (from >= hw)
        return gw_fail(err, GW_ERR_ARG, "%s: pixel %zu is past the image's %zu", c->name, from, hw);
    /* the last batch is padded with copies of its last image */
    uint8_t *qb = malloc(B * hw);
    int32_t *lb = malloc(B * sizeof(int32_t));
    if (!qb || !lb) {
        free(qb), free(lb);
        return gw_fail(err, GW_ERR_NOMEM, "%s: out of memory", c->name);
    }
    double total = 0;
    gw_status st = GW_OK;
    for (size_t i0 = 0; i0 < n && !st; i0 += B) {
        const size_t k = n - i0 < B ? n - i0 : B;
        for (size_t j = 0; j < B; j++) {
            const size_t src = i0 + (j < k ? j : k - 1);
            memcpy(qb + j * hw, q + src * hw, hw);
            lb[j] = labels ? labels[src] : 0;
        }
        st = gw_pixelcnn_train_forward(t, NULL, qb, labels ? lb : NULL, 0, err);
        for (size_t j = 0; j < k && !st; j++) {
            const double nll = image_nll(image_logits(t, j) + from * GW_PIXELCNN_LEVELS,
                                         qb + j * hw + from, m);
            if (!isfinite(nll))
                st = gw_fail(err, GW_ERR_NUMERIC, "%s: the log-likelihood of image %zu is %g",
                             c->name, i0 + j, nll);
            total += nll;
            if (per_image) per_image[i0 + j] = nll / (m * M_LN2);
        }
    }
    free(qb), free(lb);
    if (!st) *bits = total / ((double)n * m * M_LN2);
    return st;
}
