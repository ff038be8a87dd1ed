/* pixelcnn_sample.c - the PixelCNN's samplers (pixelcnn.h): the naive one,
 * a whole forward per pixel, and the cached one of Ramachandran et al. 2017
 * ("Fast Generation for Convolutional Autoregressive Models", sec. 3: each
 * layer caches the activations later positions read, so a pixel costs one
 * pass through the layers at one position). */
#include "models/pixelcnn.h"

#include "models/wavenet.h"
#include "nn/vmath.h"

#include <stdlib.h>
#include <string.h>

static gw_status check_run(const gw_pixelcnn_config *c, int keep, int label, gw_error *err) {
    const int n = c->height * c->width;
    if (keep < 0 || keep > n)
        return gw_fail(err, GW_ERR_ARG, "%s: keep = %d pixels is outside [0, %d]", c->name, keep,
                       n);
    if (c->classes > 0 && (label < 0 || label >= c->classes))
        return gw_fail(err, GW_ERR_ARG, "%s: label %d is outside [0, %d)", c->name, label,
                       c->classes);
    return GW_OK;
}

_Static_assert((int)GW_PIXELCNN_LEVELS == (int)GW_WAVENET_CLASSES,
               "one sampling rule for both models");

/* one draw per sampled pixel, so both samplers consume rng alike */
static uint8_t draw(const float *logits, float temperature, gw_rng *rng) {
    return (uint8_t)gw_wavenet_sample(logits, temperature, gw_rng_uniform(rng));
}

gw_status gw_pixelcnn_sample_naive(const gw_pixelcnn *m, uint8_t *q, int keep, int label,
                                   float temperature, gw_rng *rng, float *logits, gw_error *err) {
    gw_status st = check_run(&m->cfg, keep, label, err);
    if (st) return st;
    gw_pixelcnn_train *t = NULL;
    /* a forward only reads the model; the arena keeps it non-const for the backward */
    if ((st = gw_pixelcnn_train_create(&t, (gw_pixelcnn *)m, 1, err))) return st;
    const int32_t lab = label;
    for (int p = keep; p < m->cfg.height * m->cfg.width; p++) {
        if ((st = gw_pixelcnn_train_forward(t, NULL, q, m->cfg.classes ? &lab : NULL, 0, err)))
            break;
        const float *lg = gw_pixelcnn_train_logits(t) + (size_t)p * GW_PIXELCNN_LEVELS;
        if (logits)
            memcpy(logits + (size_t)p * GW_PIXELCNN_LEVELS, lg, sizeof(float) * GW_PIXELCNN_LEVELS);
        q[p] = draw(lg, temperature, rng);
    }
    gw_pixelcnn_train_free(t);
    return st;
}

/* ---- the cached sampler --------------------------------------------------
 * Channels-last vectors; weights transposed to (in, out) so every product
 * is y (out) += x (in) W in the axpy form GCC vectorises over the outputs
 * (a dot-product form would be a float reduction it may not reorder). */

typedef struct slayer {
    int cin, vkh, vkw, hkw;
    float *vw;            // (vkh vkw cin, 2C): row (kh vkw + kw) cin + i
    float *vb;            // (2C)
    float *hw;            // (hkw cin, 2C): row kw cin + i
    float *hb;            // (2C)
    float *dw, *db;       // v2h (2C, 2C), (2C)
    float *rw, *rb;       // residual (C, C), (C); layers >= 1
    float *vemb, *hemb;   // (classes, 2C) or NULL
    const float *ev, *eh; // this run's label rows (2C) or NULL
    float *vring;         // (2, W, C) the vertical output of rows r-1 and r (row & 1), l < L
    float *vh;            // (W, 2C) v2h term of the row being sampled: bv2h + Wv2h P(r-1)
    float *hcol;          // (2, C) the horizontal output of columns c-1 and c (column & 1)
} slayer;

struct gw_pixelcnn_sampler {
    gw_pixelcnn_config cfg;
    int C, L, H, W, HEAD;
    slayer layer[GW_PIXELCNN_MAX_LAYERS + 1];
    float *w1, *b1; // (C, HEAD), (HEAD)
    float *w2, *b2; // (HEAD, 256), (256)
    float *x;       // (H, W) the image as the network reads it
    float *patch;   // gathered inputs of one position
    float *pre;     // (2C)
    float *gate;    // (C)
    float *z;       // (HEAD)
    float *lg;      // (256)
    float *mem;
};

/* y (n_out) += x (n_in) W (n_in, n_out), four inputs per pass over y */
static void vec_mat(float *restrict y, const float *restrict x, const float *restrict W, int n_in,
                    int n_out) {
    int i = 0;
    for (; i + 4 <= n_in; i += 4) {
        const float *w0 = W + (size_t)i * n_out, *w1 = w0 + n_out, *w2 = w1 + n_out,
                    *w3 = w2 + n_out;
        const float x0 = x[i], x1 = x[i + 1], x2 = x[i + 2], x3 = x[i + 3];
        for (int o = 0; o < n_out; o++)
            y[o] += w0[o] * x0 + w1[o] * x1 + w2[o] * x2 + w3[o] * x3;
    }
    for (; i < n_in; i++) {
        const float *w0 = W + (size_t)i * n_out, x0 = x[i];
        for (int o = 0; o < n_out; o++)
            y[o] += w0[o] * x0;
    }
}

/* out (C) = tanh(pre[:C] + e[:C]) * sigmoid(pre[C:] + e[C:]) */
static void gate(float *out, const float *pre, const float *e, int C) {
    for (int c = 0; c < C; c++) {
        const float ea = e ? e[c] : 0.0f, eg = e ? e[C + c] : 0.0f;
        out[c] = gw_vtanhf(pre[c] + ea) * gw_vsigmoidf(pre[C + c] + eg);
    }
}

/* carves the sampler's arrays from base (NULL: only counts); returns floats */
static size_t sampler_layout(gw_pixelcnn_sampler *s, float *base) {
    const size_t C = (size_t)s->C, C2 = 2 * C, W = (size_t)s->W, K = (size_t)s->cfg.classes;
    size_t off = 0, patch = 0;
#define TAKE(ptr, n)                                                                               \
    ((ptr) = base ? base + off : NULL, off += gw_align64((n) * sizeof(float)) / sizeof(float))
    for (int l = 0; l <= s->L; l++) {
        slayer *y = &s->layer[l];
        const size_t vin = (size_t)y->vkh * y->vkw * y->cin, hin = (size_t)y->hkw * y->cin;
        patch = vin > patch ? vin : patch;
        patch = hin > patch ? hin : patch;
        TAKE(y->vw, vin * C2);
        TAKE(y->vb, C2);
        TAKE(y->hw, hin * C2);
        TAKE(y->hb, C2);
        TAKE(y->dw, C2 * C2);
        TAKE(y->db, C2);
        if (l > 0) TAKE(y->rw, C * C), TAKE(y->rb, C);
        if (K && l < s->L) TAKE(y->vemb, K * C2);
        if (K) TAKE(y->hemb, K * C2);
        if (l < s->L) TAKE(y->vring, 2 * W * C);
        TAKE(y->vh, W * C2);
        TAKE(y->hcol, 2 * C);
    }
    TAKE(s->w1, C * s->HEAD);
    TAKE(s->b1, (size_t)s->HEAD);
    TAKE(s->w2, (size_t)s->HEAD * GW_PIXELCNN_LEVELS);
    TAKE(s->b2, (size_t)GW_PIXELCNN_LEVELS);
    TAKE(s->x, (size_t)s->H * W);
    TAKE(s->patch, patch);
    TAKE(s->pre, C2);
    TAKE(s->gate, C);
    TAKE(s->z, (size_t)s->HEAD);
    TAKE(s->lg, (size_t)GW_PIXELCNN_LEVELS);
#undef TAKE
    return off;
}

/* dst (n_in, n_out) = src (n_out, n_in) transposed */
static void transpose(float *dst, const float *src, int n_out, int n_in) {
    for (int o = 0; o < n_out; o++)
        for (int i = 0; i < n_in; i++)
            dst[(size_t)i * n_out + o] = src[(size_t)o * n_in + i];
}

/* dst (KH KW C_in, C_out) from a conv weight (C_out, C_in, KH, KW): the
 * order in which a position's patch is gathered */
static void pack_conv(float *dst, const float *w, int C_out, int C_in, int KH, int KW) {
    for (int o = 0; o < C_out; o++)
        for (int i = 0; i < C_in; i++)
            for (int k = 0; k < KH * KW; k++)
                dst[((size_t)k * C_in + i) * C_out + o] = w[((size_t)o * C_in + i) * KH * KW + k];
}

gw_status gw_pixelcnn_sampler_create(gw_pixelcnn_sampler **out, const gw_pixelcnn *m,
                                     gw_error *err) {
    *out = NULL;
    gw_pixelcnn_sampler *s = calloc(1, sizeof *s);
    if (!s) return gw_fail(err, GW_ERR_NOMEM, "%s: out of memory", m->cfg.name);
    const gw_pixelcnn_config *c = &m->cfg;
    s->cfg = *c;
    s->C = c->channels, s->L = c->layers, s->H = c->height, s->W = c->width, s->HEAD = c->head;
    for (int l = 0; l <= s->L; l++) {
        gw_pixelcnn_conv v, h;
        gw_pixelcnn_layer_convs(c, l, 1, &v, &h);
        s->layer[l] = (slayer){.cin = v.C_in, .vkh = v.KH, .vkw = v.KW, .hkw = h.KW};
    }
    const size_t floats = sampler_layout(s, NULL);
    if (!(s->mem = gw_alloc(floats * sizeof(float)))) {
        free(s);
        return gw_fail(err, GW_ERR_NOMEM, "%s: cannot allocate the sampler", c->name);
    }
    sampler_layout(s, s->mem);
    const int C = s->C, C2 = 2 * C, K = c->classes;
    for (int l = 0; l <= s->L; l++) {
        slayer *y = &s->layer[l];
        const gw_pixelcnn_layer *w = &m->w.layer[l];
        pack_conv(y->vw, w->v_w, C2, y->cin, y->vkh, y->vkw);
        pack_conv(y->hw, w->h_w, C2, y->cin, 1, y->hkw);
        transpose(y->dw, w->v2h_w, C2, C2);
        memcpy(y->vb, w->v_b, sizeof(float) * C2);
        memcpy(y->hb, w->h_b, sizeof(float) * C2);
        memcpy(y->db, w->v2h_b, sizeof(float) * C2);
        if (y->rw) transpose(y->rw, w->res_w, C, C), memcpy(y->rb, w->res_b, sizeof(float) * C);
        if (y->vemb) memcpy(y->vemb, w->v_emb, sizeof(float) * K * C2);
        if (y->hemb) memcpy(y->hemb, w->h_emb, sizeof(float) * K * C2);
    }
    transpose(s->w1, m->w.head1_w, s->HEAD, C);
    memcpy(s->b1, m->w.head1_b, sizeof(float) * s->HEAD);
    transpose(s->w2, m->w.out_w, GW_PIXELCNN_LEVELS, s->HEAD);
    memcpy(s->b2, m->w.out_b, sizeof(float) * GW_PIXELCNN_LEVELS);
    *out = s;
    return GW_OK;
}

void gw_pixelcnn_sampler_free(gw_pixelcnn_sampler *s) {
    if (!s) return;
    gw_free(s->mem);
    free(s);
}

/* Row r is complete: run every layer's vertical stack along it. Layer l's
 * input rows are the image's (layer 0) or layer l-1's ring, which this
 * pass has just filled for row r. Leaves layer l's v2h term for row r+1
 * in vh and its gate output for row r in its ring. */
static void vertical_row(gw_pixelcnn_sampler *s, int r) {
    const int C = s->C, C2 = 2 * C, W = s->W;
    for (int l = 0; l <= s->L; l++) {
        slayer *y = &s->layer[l];
        const int KH = y->vkh, KW = y->vkw, cin = y->cin, n_in = KH * KW * cin;
        for (int c = 0; c < W; c++) {
            for (int kh = 0; kh < KH; kh++)
                for (int kw = 0; kw < KW; kw++) {
                    const int rr = r - KH + 1 + kh, cc = c - KW / 2 + kw;
                    float *dst = s->patch + (kh * KW + kw) * cin;
                    if (rr < 0 || cc < 0 || cc >= W)
                        memset(dst, 0, sizeof(float) * cin);
                    else if (l == 0)
                        dst[0] = s->x[(size_t)rr * W + cc];
                    else
                        memcpy(dst, s->layer[l - 1].vring + ((size_t)(rr & 1) * W + cc) * C,
                               sizeof(float) * C);
                }
            memcpy(s->pre, y->vb, sizeof(float) * C2);
            vec_mat(s->pre, s->patch, y->vw, n_in, C2);
            float *vh = y->vh + (size_t)c * C2;
            memcpy(vh, y->db, sizeof(float) * C2);
            vec_mat(vh, s->pre, y->dw, C2, C2);
            if (l < s->L) gate(y->vring + ((size_t)(r & 1) * W + c) * C, s->pre, y->ev, C);
        }
    }
}

/* the horizontal stacks at pixel (r, c); leaves each layer's output in its
 * hcol slot c & 1 */
static void horizontal_pixel(gw_pixelcnn_sampler *s, int r, int c) {
    const int C = s->C, C2 = 2 * C, W = s->W;
    for (int l = 0; l <= s->L; l++) {
        slayer *y = &s->layer[l];
        float *pre = s->pre, *out = y->hcol + (size_t)(c & 1) * C;
        if (l == 0) {
            /* columns c-4..c-1 of the image; column 0 has the shift's padding
             * only: zero, bias included, as in training */
            memset(pre, 0, sizeof(float) * C2);
            if (c > 0) {
                for (int kw = 0; kw < y->hkw; kw++) {
                    const int cc = c - y->hkw + kw;
                    s->patch[kw] = cc < 0 ? 0.0f : s->x[(size_t)r * W + cc];
                }
                memcpy(pre, y->hb, sizeof(float) * C2);
                vec_mat(pre, s->patch, y->hw, y->hkw, C2);
            }
        } else {
            /* layer l-1's outputs at columns c-1 and c */
            const float *prev = s->layer[l - 1].hcol;
            if (c > 0)
                memcpy(s->patch, prev + (size_t)((c - 1) & 1) * C, sizeof(float) * C);
            else
                memset(s->patch, 0, sizeof(float) * C);
            memcpy(s->patch + C, prev + (size_t)(c & 1) * C, sizeof(float) * C);
            memcpy(pre, y->hb, sizeof(float) * C2);
            vec_mat(pre, s->patch, y->hw, 2 * C, C2);
        }
        const float *vh = y->vh + (size_t)c * C2;
        for (int k = 0; k < C2; k++)
            pre[k] += vh[k];
        if (l == 0) {
            gate(out, pre, y->eh, C);
            continue;
        }
        gate(s->gate, pre, y->eh, C);
        const float *hin = s->layer[l - 1].hcol + (size_t)(c & 1) * C;
        for (int k = 0; k < C; k++)
            out[k] = hin[k] + y->rb[k];
        vec_mat(out, s->gate, y->rw, C, C);
    }
}

/* logits (256) of pixel (r, c) from the last layer's output */
static void head(gw_pixelcnn_sampler *s, int c) {
    const float *h = s->layer[s->L].hcol + (size_t)(c & 1) * s->C;
    for (int k = 0; k < s->C; k++)
        s->gate[k] = h[k] > 0 ? h[k] : 0.0f;
    memcpy(s->z, s->b1, sizeof(float) * s->HEAD);
    vec_mat(s->z, s->gate, s->w1, s->C, s->HEAD);
    for (int k = 0; k < s->HEAD; k++)
        s->z[k] = s->z[k] > 0 ? s->z[k] : 0.0f;
    memcpy(s->lg, s->b2, sizeof(float) * GW_PIXELCNN_LEVELS);
    vec_mat(s->lg, s->z, s->w2, s->HEAD, GW_PIXELCNN_LEVELS);
}

gw_status gw_pixelcnn_sampler_run(gw_pixelcnn_sampler *s, uint8_t *q, int keep, int label,
                                  float temperature, gw_rng *rng, float *logits, gw_error *err) {
    gw_status st = check_run(&s->cfg, keep, label, err);
    if (st) return st;
    const int C2 = 2 * s->C, H = s->H, W = s->W;
    /* the state before row 0: rows above the image are zero, so every
     * ring starts zeroed and every v2h term is its bias alone */
    for (int l = 0; l <= s->L; l++) {
        slayer *y = &s->layer[l];
        y->ev = y->vemb ? y->vemb + (size_t)label * C2 : NULL;
        y->eh = y->hemb ? y->hemb + (size_t)label * C2 : NULL;
        if (y->vring) memset(y->vring, 0, sizeof(float) * 2 * W * s->C);
        for (int c = 0; c < W; c++)
            memcpy(y->vh + (size_t)c * C2, y->db, sizeof(float) * C2);
    }
    for (int p = 0; p < keep; p++)
        s->x[p] = q[p] / 127.5f - 1.0f;
    for (int r = 0; r < H; r++) {
        /* a row kept whole reaches later rows through its vertical stacks
         * only; in a row kept in part the kept pixels fill the caches */
        const int whole = (r + 1) * W <= keep;
        for (int c = 0; c < W && !whole; c++) {
            const int p = r * W + c;
            horizontal_pixel(s, r, c);
            if (p < keep) continue;
            head(s, c);
            if (logits)
                memcpy(logits + (size_t)p * GW_PIXELCNN_LEVELS, s->lg,
                       sizeof(float) * GW_PIXELCNN_LEVELS);
            q[p] = draw(s->lg, temperature, rng);
            s->x[p] = q[p] / 127.5f - 1.0f;
        }
        if (r + 1 < H) vertical_row(s, r);
    }
    return GW_OK;
}
