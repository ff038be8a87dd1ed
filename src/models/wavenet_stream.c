/* wavenet_stream.c - fast incremental WaveNet generation (Paine et al. 2016,
 * "Fast Wavenet Generation Algorithm"); the algorithm is written out in
 * docs/wavenet.md.
 *
 * Layer l with dilation d and kernel K needs its inputs from d, 2d, ...,
 * (K-1) d steps ago: a ring of (K-1) d slots per layer holds them, shared
 * position for all voices, one R-vector per voice per slot. A voice starts
 * from a history of silence (settle), as training windows do.
 *
 * All weights are packed once (wavenet_kernels.h) into one buffer in the
 * order a step reads them, so a step streams through them front to back:
 *   per layer: dilated conv (2G16, K R), residual 1x1 (R16, G16);
 *   all skip 1x1s as one product (S16, L G16) over the concatenated gated
 *   outputs Z (the last layer's residual is never needed);
 *   head 1x1 (H16, S); output 1x1 (n_out, H): 256 logits, or a logistic
 *   model's mixture parameters for every band.
 * Gate rows are padded per half (filter rows at 0.., gate rows at G16..) so
 * the gate kernel works on whole registers; padded rows have zero weights and
 * bias, give z = tanh(0) sigmoid(0) = 0, and meet zero columns downstream.
 * Biases are folded into the products; the dilated conv's bias is per voice:
 * dil.b + cond.w c + lc.w mel, recomputed only when c or the mel frame
 * changes (once per note / per hop samples, not per sample).
 *
 * A logistic-output model (wavenet.h) feeds each voice's band values
 * through the input map instead of the embedding, draws the next value of
 * every band from its mixture (gw_dmol_sample, one uniform each) and turns
 * the bands into `bands` audio samples with a PQMF synthesis whose state is
 * kept per voice, so a step yields `bands` samples at sample_rate. */
#include "models/wavenet.h"
#include "models/wavenet_kernels.h"

#include "dsp/gw_dsp.h"
#include "nn/layers.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

struct gw_wavenet_stream {
    gw_wavenet_config cfg;
    const gw_wn_kernels *k;
    gw_wavenet_weight_type type;
    int prefetch; /* the kernels' _pf variants */
    int max_voices;
    int L, R, K, G16, R16, S16, H16, LG2; /* LG2 = L * 2 G16 */
    int NB, O16;                          /* bands; outputs rounded up to 16 */
    int logistic;                         /* cfg.distribution == LOGISTIC */
    gw_pqmf *pqmf;                        /* the bands' synthesis (logistic models) */
    size_t pq_len;                        /* floats of synthesis state per voice */
    float gain[GW_WAVENET_MAX_BANDS];     /* band_gain (1 where unset) */
    float *wmem;                          /* weights, packed, one allocation */
    float *smem;                          /* state and scratch, one allocation */
    /* packed weights, float or half (type) */
    const void *dil_w[GW_WAVENET_MAX_LAYERS]; /* (2G16, K R) */
    const void *res_w[GW_WAVENET_MAX_LAYERS]; /* (R16, G16) */
    const void *skip_w;                       /* (S16, L G16) */
    const void *head1_w;                      /* (H16, S) */
    const void *out_w;                        /* (n_out, H) */
    const float *cond_w;                       /* (L 2G16, C_g) or NULL */
    const float *lc_w;                         /* (L 2G16, n_mels) or NULL */
    const float *embed;                        /* (256, R), mu-law */
    const float *in_w;                         /* (bands, R) times in_scale, logistic */
    const float *in_b;                         /* (R), logistic */
    const float *dil_b;                        /* (L, 2G16) */
    const float *res_b;                        /* (L, R16) */
    const float *skip_b;                       /* (S16): sum over layers */
    const float *head1_b;                      /* (H16) */
    const float *out_b;                        /* (O16) */
    float mulaw[GW_WAVENET_CLASSES];
    /* per-voice state */
    float *ring[GW_WAVENET_MAX_LAYERS]; /* (slots, V, R) */
    int slots[GW_WAVENET_MAX_LAYERS];   /* (K - 1) d */
    int pos[GW_WAVENET_MAX_LAYERS];     /* slot the present input goes to */
    float *cond_part;                   /* (V, L 2G16) cond.w c */
    float *lc_part;                     /* (V, L 2G16) lc.w mel */
    float *gbias;                       /* (V, L 2G16) dil.b + both parts */
    float *vals;                        /* (V, bands) next input values (logistic) */
    float *pq;                          /* (V, pq_len) synthesis state (logistic) */
    int input[1024];                    /* (V) next input class; max_voices <= 1024 */
    float deemph[1024];                 /* (V) last de-emphasised output (cfg.preemphasis) */
    unsigned char fresh[1024];          /* (V) reset since its last step: rings to settle */
    /* scratch */
    float *x, *x2;   /* (V, R16) */
    float *xin;      /* (V, K R) the dilated conv's taps, oldest first */
    float *h;        /* (V, 2G16) */
    float *Z;        /* (V, L G16) gated outputs of all layers */
    float *skip;     /* (V, S16) */
    float *h1;       /* (V, H16) */
    float *logits;   /* (V, O16) */
    float *p;        /* (256) */
    float *uniforms; /* (V, bands) */
    float *frame;    /* (V, bands) audio of one step (generate) */
};

enum { MAX_VOICES = 1024 };

/* offsets in floats, each 64-byte aligned: one allocation, a size table */
static size_t take(size_t *off, size_t n) {
    size_t at = *off;
    *off += (n + 15) & ~(size_t)15;
    return at;
}

/* row o of a (2G, N) gate-conv matrix goes to row o (filter) or G16 + o - G
 * (gate) of a (2G16, N) one */
static int gate_row(int o, int G, int G16) {
    return o < G ? o : G16 + o - G;
}

/* floats a packed (M, N) matrix of the stream's type takes */
static size_t packed_floats(const gw_wavenet_stream *s, int M, int N) {
    if (s->type == GW_WAVENET_WEIGHTS_BF16) return (gw_wn_packed_size_bf16(M, N) + 1) / 2;
    if (s->type == GW_WAVENET_WEIGHTS_I8) return (gw_wn_packed_bytes_i8(M, N) + 3) / 4;
    size_t n = gw_wn_packed_size(M, N);
    return s->type == GW_WAVENET_WEIGHTS_F16 ? (n + 1) / 2 : n;
}

/* packs dense (M, N) at base + take(off) in the stream's type */
static const void *pack_at(const gw_wavenet_stream *s, float *base, size_t *off,
                           const float *dense, int M, int N) {
    float *dst = base + take(off, packed_floats(s, M, N));
    if (s->type == GW_WAVENET_WEIGHTS_F16)
        gw_wn_pack_f16((uint16_t *)(void *)dst, dense, M, N);
    else if (s->type == GW_WAVENET_WEIGHTS_BF16)
        gw_wn_pack_bf16((uint16_t *)(void *)dst, dense, M, N);
    else if (s->type == GW_WAVENET_WEIGHTS_I8)
        gw_wn_pack_i8((int8_t *)(void *)dst, dense, M, N);
    else
        gw_wn_pack(dst, dense, M, N);
    return dst;
}

/* half precision holds magnitudes up to 65504; a larger (or non-finite)
 * weight would become inf and every logit NaN. int8 rows are scaled by
 * their largest weight, which must be finite. */
static gw_status check_weight_range(const gw_wavenet_stream *s, const float *w, size_t n,
                                    const char *what, int layer, gw_error *err) {
    const float limit = s->type == GW_WAVENET_WEIGHTS_I8 ? FLT_MAX : 65504.0f;
    for (size_t i = 0; i < n; i++)
        if (!(fabsf(w[i]) <= limit))
            return gw_fail(err, GW_ERR_UNSUPPORTED,
                           "%s: %s weight %g (layer %d, index %zu) does not fit %s; "
                           "use f32 stream weights",
                           s->cfg.name, what, (double)w[i], layer, i,
                           s->type == GW_WAVENET_WEIGHTS_I8 ? "int8 (not finite)"
                                                            : "half precision");
    return GW_OK;
}

static gw_status pack_weights(gw_wavenet_stream *s, const gw_wavenet *m, float *dense,
                              gw_error *err) {
    const gw_wavenet_config *c = &s->cfg;
    const gw_wavenet_weights *w = &m->w;
    const int L = s->L, R = s->R, K = s->K, G = c->gate, G16 = s->G16, S = c->skip, H = c->head;
    const int Q = c->n_out, Cg = c->cond_dim, M = c->n_mels;
    float *base = s->wmem;
    size_t off = 0;
    gw_status st;
    if (s->type == GW_WAVENET_WEIGHTS_F16 || s->type == GW_WAVENET_WEIGHTS_I8) {
        for (int l = 0; l < L; l++)
            if ((st = check_weight_range(s, w->layer[l].dil_w, (size_t)2 * G * K * R, "dil", l,
                                         err)) ||
                (st = check_weight_range(s, w->layer[l].res_w, (size_t)R * G, "res", l, err)) ||
                (st = check_weight_range(s, w->layer[l].skip_w, (size_t)S * G, "skip", l, err)))
                return st;
        if ((st = check_weight_range(s, w->head1_w, (size_t)H * S, "head1", -1, err)) ||
            (st = check_weight_range(s, w->out_w, (size_t)Q * H, "out", -1, err)))
            return st;
    }
    /* layout: exactly the order of stream_create's size table */
    for (int l = 0; l < L; l++) {
        const gw_wavenet_layer *ly = &w->layer[l];
        memset(dense, 0, sizeof(float) * 2 * G16 * K * R);
        for (int o = 0; o < 2 * G; o++)
            memcpy(dense + (size_t)gate_row(o, G, G16) * K * R, ly->dil_w + (size_t)o * K * R,
                   sizeof(float) * K * R);
        s->dil_w[l] = pack_at(s, base, &off, dense, 2 * G16, K * R);
        memset(dense, 0, sizeof(float) * R * G16);
        for (int o = 0; o < R; o++)
            memcpy(dense + (size_t)o * G16, ly->res_w + (size_t)o * G, sizeof(float) * G);
        s->res_w[l] = pack_at(s, base, &off, dense, R, G16);
    }
    memset(dense, 0, sizeof(float) * S * L * G16);
    for (int l = 0; l < L; l++)
        for (int o = 0; o < S; o++)
            memcpy(dense + (size_t)o * L * G16 + (size_t)l * G16, w->layer[l].skip_w + (size_t)o * G,
                   sizeof(float) * G);
    s->skip_w = pack_at(s, base, &off, dense, S, L * G16);
    s->head1_w = pack_at(s, base, &off, w->head1_w, H, S);
    s->out_w = pack_at(s, base, &off, w->out_w, Q, H);
    /* per-note / per-frame products: (L 2G16, C) with the gate-row mapping */
    for (int pass = 0; pass < 2; pass++) {
        int N = pass ? M : Cg;
        if (N == 0) continue;
        float *pw = base + take(&off, gw_wn_packed_size(s->LG2, N));
        memset(dense, 0, sizeof(float) * s->LG2 * N);
        for (int l = 0; l < L; l++) {
            const float *src = pass ? w->layer[l].lc_w : w->layer[l].cond_w;
            for (int o = 0; o < 2 * G; o++)
                memcpy(dense + ((size_t)l * 2 * G16 + gate_row(o, G, G16)) * N, src + (size_t)o * N,
                       sizeof(float) * N);
        }
        gw_wn_pack(pw, dense, s->LG2, N);
        if (pass)
            s->lc_w = pw;
        else
            s->cond_w = pw;
    }
    if (s->logistic) {
        float *iw = base + take(&off, (size_t)s->NB * R), *ib = base + take(&off, (size_t)R);
        /* the input scales folded in once, not per step */
        for (int b = 0; b < s->NB; b++)
            for (int r = 0; r < R; r++)
                iw[(size_t)b * R + r] = w->in_w[(size_t)b * R + r] * c->in_scale[b];
        memcpy(ib, w->in_b, sizeof(float) * R);
        s->in_w = iw, s->in_b = ib;
    } else {
        float *emb = base + take(&off, (size_t)GW_WAVENET_CLASSES * R);
        memcpy(emb, w->embed, sizeof(float) * GW_WAVENET_CLASSES * R);
        s->embed = emb;
    }
    float *db = base + take(&off, (size_t)s->LG2);
    float *rb = base + take(&off, (size_t)L * s->R16);
    float *sb = base + take(&off, (size_t)s->S16);
    for (int l = 0; l < L; l++) {
        for (int o = 0; o < 2 * G; o++) db[(size_t)l * 2 * G16 + gate_row(o, G, G16)] = w->layer[l].dil_b[o];
        memcpy(rb + (size_t)l * s->R16, w->layer[l].res_b, sizeof(float) * R);
        for (int o = 0; o < S; o++) sb[o] += w->layer[l].skip_b[o];
    }
    s->dil_b = db, s->res_b = rb, s->skip_b = sb;
    float *hb = base + take(&off, (size_t)s->H16);
    memcpy(hb, w->head1_b, sizeof(float) * H);
    s->head1_b = hb;
    float *ob = base + take(&off, (size_t)s->O16);
    memcpy(ob, w->out_b, sizeof(float) * Q);
    s->out_b = ob;
    return GW_OK;
}

static size_t weights_size(const gw_wavenet_stream *s) {
    const gw_wavenet_config *c = &s->cfg;
    size_t off = 0;
    for (int l = 0; l < s->L; l++) {
        take(&off, packed_floats(s, 2 * s->G16, s->K * s->R));
        take(&off, packed_floats(s, s->R, s->G16));
    }
    take(&off, packed_floats(s, c->skip, s->L * s->G16));
    take(&off, packed_floats(s, c->head, c->skip));
    take(&off, packed_floats(s, c->n_out, c->head));
    if (c->cond_dim) take(&off, gw_wn_packed_size(s->LG2, c->cond_dim));
    if (c->n_mels) take(&off, gw_wn_packed_size(s->LG2, c->n_mels));
    if (s->logistic) {
        take(&off, (size_t)s->NB * s->R);
        take(&off, (size_t)s->R);
    } else {
        take(&off, (size_t)GW_WAVENET_CLASSES * s->R);
    }
    take(&off, (size_t)s->LG2);
    take(&off, (size_t)s->L * s->R16);
    take(&off, (size_t)s->S16);
    take(&off, (size_t)s->H16);
    take(&off, (size_t)s->O16);
    return off;
}

/* state and scratch: computes the layout, and points s's arrays into mem
 * when mem is not NULL */
static size_t state_layout(gw_wavenet_stream *s, float *mem) {
    const size_t V = (size_t)s->max_voices;
    size_t off = 0, at;
#define PLACE(field, n)          \
    at = take(&off, (n));        \
    if (mem) s->field = mem + at;
    for (int l = 0; l < s->L; l++) {
        PLACE(ring[l], (size_t)s->slots[l] * V * s->R);
    }
    PLACE(cond_part, V * s->LG2);
    PLACE(lc_part, V * s->LG2);
    PLACE(gbias, V * s->LG2);
    PLACE(vals, V * s->NB);
    PLACE(pq, V * (s->pq_len ? s->pq_len : 1));
    PLACE(x, V * s->R16);
    PLACE(x2, V * s->R16);
    PLACE(xin, V * s->K * s->R);
    PLACE(h, V * 2 * s->G16);
    PLACE(Z, V * s->L * s->G16);
    PLACE(skip, V * s->S16);
    PLACE(h1, V * s->H16);
    PLACE(logits, V * s->O16);
    PLACE(p, GW_WAVENET_CLASSES);
    PLACE(uniforms, V * s->NB);
    PLACE(frame, V * s->NB);
#undef PLACE
    return off;
}

static const char *const weight_names[] = {"f32", "f16", "bf16", "i8"};
enum { N_WEIGHT_TYPES = sizeof weight_names / sizeof weight_names[0] };

const char *gw_wavenet_weight_type_name(gw_wavenet_weight_type type) {
    return (unsigned)type < N_WEIGHT_TYPES ? weight_names[type] : "?";
}

gw_status gw_wavenet_weight_type_parse(gw_wavenet_weight_type *out, const char *name,
                                       gw_error *err) {
    for (int t = 0; t < N_WEIGHT_TYPES; t++)
        if (!strcmp(name, weight_names[t])) {
            *out = (gw_wavenet_weight_type)t;
            return GW_OK;
        }
    return gw_fail(err, GW_ERR_ARG, "weight precision '%s' is not one of f32, f16, bf16, i8", name);
}

gw_wavenet_weight_type gw_wavenet_default_weights(const gw_wavenet_config *cfg) {
    return gw_wavenet_macs_per_sample(cfg) >= GW_WAVENET_BF16_FROM_MACS ? GW_WAVENET_WEIGHTS_BF16
                                                                         : GW_WAVENET_WEIGHTS_F32;
}

gw_status gw_wavenet_stream_create(gw_wavenet_stream **out, const gw_wavenet *model,
                                   int max_voices, gw_error *err) {
    return gw_wavenet_stream_create_typed(out, model, max_voices, GW_WAVENET_WEIGHTS_F32, err);
}

gw_status gw_wavenet_stream_create_typed(gw_wavenet_stream **out, const gw_wavenet *model,
                                         int max_voices, gw_wavenet_weight_type type,
                                         gw_error *err) {
    const gw_wavenet_plan plan = {.type = type, .isa = "", .prefetch = -1};
    return gw_wavenet_stream_create_plan(out, model, max_voices, &plan, err);
}

gw_status gw_wavenet_stream_create_plan(gw_wavenet_stream **out, const gw_wavenet *model,
                                        int max_voices, const gw_wavenet_plan *plan,
                                        gw_error *err) {
    *out = NULL;
    const gw_wavenet_weight_type type = plan->type;
    const gw_wavenet_config *c = &model->cfg;
    if (max_voices < 1 || max_voices > MAX_VOICES)
        return gw_fail(err, GW_ERR_ARG, "%s: max_voices = %d is outside [1, %d]", c->name,
                       max_voices, MAX_VOICES);
    if ((unsigned)type > GW_WAVENET_WEIGHTS_I8)
        return gw_fail(err, GW_ERR_ARG, "%s: unknown stream weight type %d", c->name, (int)type);
    gw_wavenet_stream *s = gw_alloc(sizeof *s);
    float *dense = NULL;
    gw_status st = GW_OK;
    if (!s) return gw_fail(err, GW_ERR_NOMEM, "%s: out of memory creating a stream", c->name);
    s->cfg = *c;
    s->k = plan->isa[0] ? gw_wn_kernels_named(plan->isa) : gw_wn_kernels_best();
    if (!plan->isa[0] && type == GW_WAVENET_WEIGHTS_I8) { /* the best set with byte products */
        s->k = gw_wn_kernels_avx512vnni();
        if (!s->k) s->k = gw_wn_kernels_best(); /* its i8 products are the naive twin */
    }
    if (type == GW_WAVENET_WEIGHTS_I8 && (c->n_layers * gw_wn_pad16(c->gate) > GW_WN_I8_MAX_N ||
                                          c->kernel * c->residual > GW_WN_I8_MAX_N)) {
        gw_free(s);
        return gw_fail(err, GW_ERR_UNSUPPORTED,
                       "%s: a product of %d inputs is beyond int8's %d (its sums would overflow); "
                       "use bf16",
                       c->name, c->n_layers * gw_wn_pad16(c->gate), GW_WN_I8_MAX_N);
    }
    if (!s->k) {
        gw_free(s);
        return gw_fail(err, GW_ERR_UNSUPPORTED, "%s: this CPU (or build) cannot run '%s' kernels",
                       c->name, plan->isa);
    }
    s->type = type;
    s->prefetch = plan->prefetch >= 0 ? plan->prefetch != 0 : type == GW_WAVENET_WEIGHTS_BF16;
    s->max_voices = max_voices;
    s->L = c->n_layers, s->R = c->residual, s->K = c->kernel;
    s->G16 = gw_wn_pad16(c->gate), s->R16 = gw_wn_pad16(c->residual);
    s->S16 = gw_wn_pad16(c->skip), s->H16 = gw_wn_pad16(c->head);
    s->LG2 = s->L * 2 * s->G16;
    s->NB = c->bands, s->O16 = gw_wn_pad16(c->n_out);
    s->logistic = c->distribution == GW_WAVENET_DIST_LOGISTIC;
    if (s->logistic) {
        if ((st = gw_pqmf_create(&s->pqmf, s->NB, err))) goto fail;
        s->pq_len = gw_pqmf_state_len(s->pqmf);
        for (int b = 0; b < s->NB; b++) s->gain[b] = c->band_gain[b] > 0 ? c->band_gain[b] : 1.0f;
    }
    for (int l = 0; l < s->L; l++) s->slots[l] = (s->K - 1) * c->dilations[l];
    /* the largest dense matrix packed: dilated conv, residual, all skips,
     * head, output, conditioning */
    size_t dn = (size_t)2 * s->G16 * s->K * s->R, n;
    if ((n = (size_t)s->R * s->G16) > dn) dn = n;
    if ((n = (size_t)c->skip * s->L * s->G16) > dn) dn = n;
    if ((n = (size_t)s->LG2 * (c->cond_dim > c->n_mels ? c->cond_dim : c->n_mels)) > dn) dn = n;
    s->wmem = gw_alloc(weights_size(s) * sizeof(float));
    s->smem = gw_alloc(state_layout(s, NULL) * sizeof(float));
    dense = gw_alloc(dn * sizeof(float));
    if (!s->wmem || !s->smem || !dense) {
        st = gw_fail(err, GW_ERR_NOMEM,
                     "%s: out of memory for a %d-voice stream (%.1f MB of state)", c->name,
                     max_voices, (double)state_layout(s, NULL) * 4 / 1e6);
        goto fail;
    }
    state_layout(s, s->smem);
    if ((st = pack_weights(s, model, dense, err))) goto fail;
    for (int q = 0; q < GW_WAVENET_CLASSES; q++) s->mulaw[q] = gw_mulaw_decode((uint8_t)q);
    for (int v = 0; v < max_voices; v++) gw_wavenet_stream_reset(s, v);
    gw_free(dense);
    *out = s;
    return GW_OK;
fail:
    gw_free(dense);
    gw_wavenet_stream_free(s);
    return st;
}

void gw_wavenet_stream_free(gw_wavenet_stream *s) {
    if (!s) return;
    gw_free(s->wmem);
    gw_free(s->smem);
    gw_pqmf_free(s->pqmf);
    gw_free(s);
}

gw_wavenet_weight_type gw_wavenet_stream_weight_type(const gw_wavenet_stream *s) {
    return s->type;
}

const char *gw_wavenet_stream_isa(const gw_wavenet_stream *s) {
    return s->k->name;
}

gw_wavenet_plan gw_wavenet_stream_plan(const gw_wavenet_stream *s) {
    gw_wavenet_plan p = {.type = s->type, .prefetch = s->prefetch};
    snprintf(p.isa, sizeof p.isa, "%s", s->k->name);
    return p;
}

static int voice_ok(const gw_wavenet_stream *s, int v) {
    return v >= 0 && v < s->max_voices;
}

static void update_gbias(gw_wavenet_stream *s, int v) {
    size_t o = (size_t)v * s->LG2;
    for (int i = 0; i < s->LG2; i++) s->gbias[o + i] = s->dil_b[i] + s->cond_part[o + i] + s->lc_part[o + i];
}

void gw_wavenet_stream_reset(gw_wavenet_stream *s, int voice) {
    if (!voice_ok(s, voice)) return;
    for (int l = 0; l < s->L; l++)
        for (int j = 0; j < s->slots[l]; j++)
            memset(s->ring[l] + ((size_t)j * s->max_voices + voice) * s->R, 0, sizeof(float) * s->R);
    memset(s->cond_part + (size_t)voice * s->LG2, 0, sizeof(float) * s->LG2);
    memset(s->lc_part + (size_t)voice * s->LG2, 0, sizeof(float) * s->LG2);
    update_gbias(s, voice);
    s->input[voice] = GW_WAVENET_SILENCE;
    s->deemph[voice] = 0.0f;
    memset(s->vals + (size_t)voice * s->NB, 0, sizeof(float) * s->NB);
    if (s->pqmf) gw_pqmf_synth_reset(s->pqmf, s->pq + (size_t)voice * s->pq_len);
    s->fresh[voice] = 1;
}

/* part[v] = W c over all layers at once (a B = 1 product), or zeros */
static void set_part(gw_wavenet_stream *s, float *part, const float *W, const float *c, int N) {
    if (c && W)
        s->k->matvec(part, s->LG2, W, c, N, NULL, 0, NULL, 0, s->LG2, N, 1, 0);
    else
        memset(part, 0, sizeof(float) * s->LG2);
}

void gw_wavenet_stream_set_cond(gw_wavenet_stream *s, int voice, const float *c) {
    if (!voice_ok(s, voice) || s->cfg.cond_dim == 0) return;
    set_part(s, s->cond_part + (size_t)voice * s->LG2, s->cond_w, c, s->cfg.cond_dim);
    update_gbias(s, voice);
}

void gw_wavenet_stream_set_mel(gw_wavenet_stream *s, int voice, const float *mel) {
    if (!voice_ok(s, voice) || s->cfg.n_mels == 0) return;
    set_part(s, s->lc_part + (size_t)voice * s->LG2, s->lc_w, mel, s->cfg.n_mels);
    update_gbias(s, voice);
}

void gw_wavenet_stream_set_input(gw_wavenet_stream *s, int voice, int cls) {
    if (!voice_ok(s, voice)) return;
    s->input[voice] = cls < 0 ? 0 : cls >= GW_WAVENET_CLASSES ? GW_WAVENET_CLASSES - 1 : cls;
}

void gw_wavenet_stream_set_input_bands(gw_wavenet_stream *s, int voice, const float *x) {
    if (!voice_ok(s, voice) || !s->logistic) return;
    for (int b = 0; b < s->NB; b++)
        s->vals[(size_t)voice * s->NB + b] = !(x[b] >= -1.0f) ? -1.0f : x[b] > 1.0f ? 1.0f : x[b];
}

static void swap_floats(float *a, float *b, size_t n) {
    for (size_t i = 0; i < n; i++) {
        float t = a[i];
        a[i] = b[i], b[i] = t;
    }
}

void gw_wavenet_stream_swap_voices(gw_wavenet_stream *s, int a, int b) {
    if (!voice_ok(s, a) || !voice_ok(s, b) || a == b) return;
    size_t V = (size_t)s->max_voices, R = (size_t)s->R;
    for (int l = 0; l < s->L; l++)
        for (int j = 0; j < s->slots[l]; j++)
            swap_floats(s->ring[l] + (j * V + a) * R, s->ring[l] + (j * V + b) * R, R);
    size_t n = (size_t)s->LG2;
    swap_floats(s->cond_part + a * n, s->cond_part + b * n, n);
    swap_floats(s->lc_part + a * n, s->lc_part + b * n, n);
    swap_floats(s->gbias + a * n, s->gbias + b * n, n);
    int t = s->input[a];
    s->input[a] = s->input[b], s->input[b] = t;
    float d = s->deemph[a];
    s->deemph[a] = s->deemph[b], s->deemph[b] = d;
    swap_floats(s->vals + (size_t)a * s->NB, s->vals + (size_t)b * s->NB, (size_t)s->NB);
    swap_floats(s->pq + a * s->pq_len, s->pq + b * s->pq_len, s->pq_len);
    unsigned char f = s->fresh[a];
    s->fresh[a] = s->fresh[b], s->fresh[b] = f;
}

/* inverse CDF over unnormalised probabilities p (n) with sum total: the first
 * class whose cumulative mass exceeds u * total; rounding past the end gives
 * the last class with mass */
static int inverse_cdf(const float *p, int n, float total, float u) {
    float thr = u * total, cum = 0.0f;
    int last = 0;
    for (int i = 0; i < n; i++) {
        if (p[i] > 0.0f) last = i;
        cum += p[i];
        if (cum > thr) return i;
    }
    return last;
}

static int argmax(const float *x, int n) {
    int best = 0;
    for (int i = 1; i < n; i++)
        if (x[i] > x[best]) best = i;
    return best;
}

static int sample_with(const gw_wn_kernels *k, float *p, const float *logits, float temperature,
                       float u) {
    if (!(temperature > 0.0f)) return argmax(logits, GW_WAVENET_CLASSES);
    float total = k->softmax_exp(p, logits, GW_WAVENET_CLASSES, 1.0f / temperature);
    return inverse_cdf(p, GW_WAVENET_CLASSES, total, u);
}

int gw_wavenet_sample(const float *logits, float temperature, float u) {
    float p[GW_WAVENET_CLASSES];
    return sample_with(&gw_wn_kernels_scalar, p, logits, temperature, u);
}

/* a short copy, inlined (a memcpy call per voice and layer costs more than
 * the copy) */
static inline void copy_floats(float *restrict dst, const float *restrict src, int n) {
    int i = 0;
    for (; i + 16 <= n; i += 16)
        for (int j = 0; j < 16; j++) dst[i + j] = src[i + j];
    for (; i < n; i++) dst[i] = src[i];
}

/* y = W x + bias + add over B voices with the stream's weight type */
static inline void product(const gw_wavenet_stream *s, float *y, int ys, const void *W,
                           const float *x, int xs, const float *bias, int bs, const float *add,
                           int as, int Mp, int N, int B, int relu) {
    const gw_wn_kernels *k = s->k;
    if (s->type == GW_WAVENET_WEIGHTS_F16)
        (s->prefetch ? k->matvec_f16_pf : k->matvec_f16)(y, ys, W, x, xs, bias, bs, add, as, Mp,
                                                          N, B, relu);
    else if (s->type == GW_WAVENET_WEIGHTS_BF16)
        (s->prefetch ? k->matvec_bf16_pf : k->matvec_bf16)(y, ys, W, x, xs, bias, bs, add, as,
                                                            Mp, N, B, relu);
    else if (s->type == GW_WAVENET_WEIGHTS_I8)
        (s->prefetch ? k->matvec_i8_pf : k->matvec_i8)(y, ys, W, x, xs, bias, bs, add, as, Mp, N, B,
                                                       relu);
    else
        (s->prefetch ? k->matvec_pf : k->matvec)(y, ys, W, x, xs, bias, bs, add, as, Mp, N, B,
                                                 relu);
}

/* Fills voice v's rings with the history the model was trained to start
 * from: silence forever, under the voice's present conditioning. A constant
 * input gives every layer a constant input, so one pass down the layers (a
 * step's work) finds each layer's value; zeroed rings would instead be a
 * history the model never saw, and a note started from them can lock into a
 * wrong pitch. Uses the scratch rows of voice 0, which the step overwrites. */
static void settle(gw_wavenet_stream *s, int v) {
    const int L = s->L, R = s->R, K = s->K, KR = K * R, G16 = s->G16, R16 = s->R16;
    const size_t V = (size_t)s->max_voices;
    float *x = s->x, *x2 = s->x2;
    memset(x, 0, sizeof(float) * R16);
    copy_floats(x, s->logistic ? s->in_b : s->embed + (size_t)GW_WAVENET_SILENCE * R, R);
    for (int l = 0; l < L; l++) {
        for (int j = 0; j < s->slots[l]; j++) copy_floats(s->ring[l] + ((size_t)j * V + v) * R, x, R);
        for (int t = 0; t < K; t++) copy_floats(s->xin + (size_t)t * R, x, R);
        if (l + 1 == L) break; /* the last layer's output feeds no ring */
        product(s, s->h, 2 * G16, s->dil_w[l], s->xin, KR, s->gbias + (size_t)v * s->LG2 + (size_t)l * 2 * G16,
                0, NULL, 0, 2 * G16, KR, 1, 0);
        s->k->gate(s->Z, L * G16, s->h, 2 * G16, G16, 1);
        product(s, x2, R16, s->res_w[l], s->Z, L * G16, s->res_b + (size_t)l * R16, 0, x, R16, R16, G16,
                1, 0);
        float *t = x;
        x = x2, x2 = t;
    }
    s->fresh[v] = 0;
}

void gw_wavenet_stream_step(gw_wavenet_stream *s, float *logits, float *samples, uint8_t *classes,
                            int n_voices, float temperature, const float *uniforms) {
    const gw_wn_kernels *k = s->k;
    const int B = n_voices < 0 ? 0 : n_voices > s->max_voices ? s->max_voices : n_voices;
    const int L = s->L, R = s->R, K = s->K, KR = K * R, G16 = s->G16, R16 = s->R16;
    const int LG16 = L * G16, O16 = s->O16, NB = s->NB;
    const size_t V = (size_t)s->max_voices;
    if (B == 0) return;
    for (int v = 0; v < B; v++)
        if (s->fresh[v]) settle(s, v);
    float *x = s->x, *x2 = s->x2;
    if (s->logistic) /* a_0 = x Win + bin */
        for (int v = 0; v < B; v++) {
            float *xv = x + (size_t)v * R16;
            const float *val = s->vals + (size_t)v * NB;
            copy_floats(xv, s->in_b, R);
            for (int b = 0; b < NB; b++)
                for (int r = 0; r < R; r++)
                    xv[r] += val[b] * s->in_w[(size_t)b * R + r];
        }
    else
        for (int v = 0; v < B; v++)
            copy_floats(x + (size_t)v * R16, s->embed + (size_t)s->input[v] * R, R);
    for (int l = 0; l < L; l++) {
        /* taps oldest first (tap k sees t - (K-1-k) d), then the present;
         * the oldest slot is then overwritten with the present input */
        int n = s->slots[l], d = s->cfg.dilations[l], pos = s->pos[l];
        for (int v = 0; v < B; v++) {
            float *xi = s->xin + (size_t)v * KR;
            for (int t = 0; t < K - 1; t++) {
                int slot = pos - (K - 1 - t) * d;
                slot += slot < 0 ? n : 0;
                copy_floats(xi + (size_t)t * R, s->ring[l] + ((size_t)slot * V + v) * R, R);
            }
            copy_floats(xi + (size_t)(K - 1) * R, x + (size_t)v * R16, R);
            if (n) {
                float *cur = s->ring[l] + ((size_t)pos * V + v) * R;
                copy_floats(cur, x + (size_t)v * R16, R);
                /* the next step's oldest tap was written n steps ago and has
                 * likely left the cache: fetch it while this step computes */
                const float *next = pos + 1 == n ? s->ring[l] + (size_t)v * R : cur + V * R;
                for (int i = 0; i < R; i += 16) __builtin_prefetch(next + i);
            }
        }
        if (n) s->pos[l] = pos + 1 == n ? 0 : pos + 1;
        product(s, s->h, 2 * G16, s->dil_w[l], s->xin, KR, s->gbias + (size_t)l * 2 * G16, s->LG2,
                  NULL, 0, 2 * G16, KR, B, 0);
        float *z = s->Z + (size_t)l * G16;
        k->gate(z, LG16, s->h, 2 * G16, G16, B);
        if (l + 1 < L) { /* the last layer's residual output feeds nothing */
            product(s, x2, R16, s->res_w[l], z, LG16, s->res_b + (size_t)l * R16, 0, x, R16, R16,
                      G16, B, 0);
            float *t = x;
            x = x2, x2 = t;
        }
    }
    const int S = s->cfg.skip, H = s->cfg.head;
    product(s, s->skip, s->S16, s->skip_w, s->Z, LG16, s->skip_b, 0, NULL, 0, s->S16, LG16, B, 1);
    product(s, s->h1, s->H16, s->head1_w, s->skip, s->S16, s->head1_b, 0, NULL, 0, s->H16, S, B, 1);
    product(s, s->logits, O16, s->out_w, s->h1, s->H16, s->out_b, 0, NULL, 0, O16, H, B, 0);
    const int n_out = s->cfg.n_out;
    if (logits)
        for (int v = 0; v < B; v++)
            memcpy(logits + (size_t)v * n_out, s->logits + (size_t)v * O16, sizeof(float) * n_out);
    if (s->logistic) {
        const int M = s->cfg.mixtures;
        for (int v = 0; v < B; v++) {
            float *val = s->vals + (size_t)v * NB;
            for (int b = 0; b < NB; b++)
                val[b] = gw_dmol_sample(s->logits + (size_t)v * O16 + (size_t)b * 3 * M, M,
                                        s->cfg.log_scale_min, GW_WAVENET_LEVELS, temperature,
                                        uniforms[(size_t)v * NB + b]);
            float out[GW_WAVENET_MAX_BANDS], band[GW_WAVENET_MAX_BANDS];
            for (int b = 0; b < NB; b++) band[b] = val[b] * s->gain[b];
            gw_pqmf_synth_step(s->pqmf, s->pq + (size_t)v * s->pq_len, out, band);
            if (samples) memcpy(samples + (size_t)v * NB, out, sizeof(float) * NB);
        }
        return;
    }
    for (int v = 0; v < B; v++) {
        int c = sample_with(k, s->p, s->logits + (size_t)v * O16, temperature, uniforms[v]);
        s->input[v] = c;
        if (classes) classes[v] = (uint8_t)c;
        /* a model of the pre-emphasised signal: de-emphasise y = s + a y[-1]
         * (always run, so the state is right whether or not samples are read) */
        s->deemph[v] = s->mulaw[c] + s->cfg.preemphasis * s->deemph[v];
        if (samples) samples[v] = s->deemph[v];
    }
}

void gw_wavenet_stream_generate(gw_wavenet_stream *s, float *audio, int n_voices, size_t n,
                                float temperature, gw_rng *rng) {
    const int B = n_voices < 0 ? 0 : n_voices > s->max_voices ? s->max_voices : n_voices;
    const int NB = s->NB;
    for (size_t t = 0; t < n; t += (size_t)NB) {
        for (int i = 0; i < B * NB; i++) s->uniforms[i] = gw_rng_uniform(rng);
        gw_wavenet_stream_step(s, NULL, s->frame, NULL, B, temperature, s->uniforms);
        for (int v = 0; v < B; v++)
            for (int j = 0; j < NB && t + (size_t)j < n; j++)
                audio[(size_t)v * n + t + (size_t)j] = s->frame[(size_t)v * NB + j];
    }
}
