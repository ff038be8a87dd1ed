/* wavenet_reference.c - the WaveNet forward pass over a whole sequence in
 * plain loops (double accumulators), exactly as written at the top of
 * wavenet.h. Before t = 0 the input is silence under the conditioning of
 * t = 0, as in training (a window may start up to a receptive field before
 * its clip): the sequence is run behind RF - 1 such samples, enough that no
 * output from t = 0 on reaches the zero padding beyond them. It is the
 * yardstick the fast incremental stream is tested against; nothing fast
 * depends on it. */
#include "models/wavenet.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* classes (T_) for a mu-law model, or band values (T_, bands) for a
 * logistic one: the first layer's input either way */
static gw_status forward(const gw_wavenet *m, float *logits, const uint8_t *classes,
                         const float *values, const float *cond, const float *mel_, int T_,
                         gw_error *err) {
    const gw_wavenet_config *c = &m->cfg;
    const gw_wavenet_weights *w = &m->w;
    const int R = c->residual, G = c->gate, S = c->skip, H = c->head, K = c->kernel;
    const int Q = c->n_out, Cg = c->cond_dim, M = c->n_mels, NB = c->bands;
    if (T_ < 1) return gw_fail(err, GW_ERR_ARG, "%s: reference forward of %d samples", c->name, T_);
    if ((values != NULL) != (c->distribution == GW_WAVENET_DIST_LOGISTIC))
        return gw_fail(err, GW_ERR_ARG, "%s: reference forward with the wrong kind of input",
                       c->name);
    const int P = gw_wavenet_receptive_field(c) - 1, T = P + T_;
    size_t t_ = (size_t)T;
    float *mel = mel_ ? malloc(t_ * (size_t)M * sizeof *mel) : NULL;
    if (mel_ && !mel)
        return gw_fail(err, GW_ERR_NOMEM, "%s: out of memory in reference forward (T = %d)", c->name, T_);
    for (int t = 0; mel && t < T; t++)
        memcpy(mel + (size_t)t * M, mel_ + (size_t)(t < P ? 0 : t - P) * M, (size_t)M * sizeof *mel);
    float *a = malloc(t_ * R * sizeof *a), *a_next = malloc(t_ * R * sizeof *a);
    float *z = malloc(t_ * G * sizeof *z);
    double *skip = calloc(t_ * S, sizeof *skip), *h = malloc(2 * (size_t)G * sizeof *h);
    double *h1 = malloc((size_t)H * sizeof *h1);
    gw_status st = GW_OK;
    if (!a || !a_next || !z || !skip || !h || !h1) {
        st = gw_fail(err, GW_ERR_NOMEM, "%s: out of memory in reference forward (T = %d)", c->name, T);
        goto done;
    }
    for (int t = 0; t < T; t++) { /* before t = 0: silence (class 128, or zeros) */
        float *at = a + (size_t)t * R;
        if (classes) {
            memcpy(at, w->embed + (size_t)(t < P ? GW_WAVENET_SILENCE : classes[t - P]) * R,
                   R * sizeof *a);
            continue;
        }
        for (int o = 0; o < R; o++) {
            double s = w->in_b[o];
            for (int b = 0; t >= P && b < NB; b++)
                s += (double)values[(size_t)(t - P) * NB + b] * c->in_scale[b] *
                     w->in_w[(size_t)b * R + o];
            at[o] = (float)s;
        }
    }
    for (int l = 0; l < c->n_layers; l++) {
        const gw_wavenet_layer *L = &w->layer[l];
        int d = c->dilations[l];
        for (int t = 0; t < T; t++) {
            for (int o = 0; o < 2 * G; o++) {
                double s = L->dil_b[o];
                for (int k = 0; k < K; k++) {
                    int src = t - (K - 1 - k) * d; /* tap K-1 is the present */
                    if (src < 0) continue;         /* zero padding: reaches only t < P */
                    const float *wk = L->dil_w + ((size_t)o * K + k) * R;
                    const float *ak = a + (size_t)src * R;
                    for (int i = 0; i < R; i++) s += (double)wk[i] * ak[i];
                }
                for (int i = 0; cond && i < Cg; i++) s += (double)L->cond_w[(size_t)o * Cg + i] * cond[i];
                for (int i = 0; mel && i < M; i++)
                    s += (double)L->lc_w[(size_t)o * M + i] * mel[(size_t)t * M + i];
                h[o] = s;
            }
            float *zt = z + (size_t)t * G;
            for (int i = 0; i < G; i++) zt[i] = (float)(tanh(h[i]) / (1.0 + exp(-h[G + i])));
            double *st_ = skip + (size_t)t * S;
            for (int o = 0; o < S; o++) {
                double s = L->skip_b[o];
                for (int i = 0; i < G; i++) s += (double)L->skip_w[(size_t)o * G + i] * zt[i];
                st_[o] += s;
            }
            for (int o = 0; o < R; o++) {
                double s = (double)a[(size_t)t * R + o] + L->res_b[o];
                for (int i = 0; i < G; i++) s += (double)L->res_w[(size_t)o * G + i] * zt[i];
                a_next[(size_t)t * R + o] = (float)s;
            }
        }
        float *tmp = a;
        a = a_next, a_next = tmp;
    }
    for (int t = P; t < T; t++) {
        const double *st_ = skip + (size_t)t * S;
        for (int o = 0; o < H; o++) {
            double s = w->head1_b[o];
            for (int i = 0; i < S; i++) s += (double)w->head1_w[(size_t)o * S + i] * fmax(st_[i], 0.0);
            h1[o] = fmax(s, 0.0);
        }
        for (int o = 0; o < Q; o++) {
            double s = w->out_b[o];
            for (int i = 0; i < H; i++) s += (double)w->out_w[(size_t)o * H + i] * h1[i];
            logits[(size_t)(t - P) * Q + o] = (float)s;
        }
    }
done:
    free(a), free(a_next), free(z), free(skip), free(h), free(h1);
    free(mel);
    return st;
}

gw_status gw_wavenet_forward_reference(const gw_wavenet *m, float *logits, const uint8_t *input,
                                       const float *cond, const float *mel, int T, gw_error *err) {
    return forward(m, logits, input, NULL, cond, mel, T, err);
}

gw_status gw_wavenet_forward_reference_bands(const gw_wavenet *m, float *out, const float *input,
                                             const float *cond, const float *mel, int T,
                                             gw_error *err) {
    return forward(m, out, NULL, input, cond, mel, T, err);
}
