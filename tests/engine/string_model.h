/* string_model.h - a WaveNet whose weights are set by hand so that it plays
 * a Karplus-Strong string (Karplus and Strong 1983) at the pitch of its
 * conditioning: a model whose pitch a test can check without training.
 *
 * R = G = S = H = 1, kernel 2, two layers per note of lo..hi. For note m with
 * period P_m = sr / f(m) = p + a (p integer, 0 <= a < 1):
 *   embed[c]     = mulaw_decode(c)                       the input's amplitude y
 *   layer A (dilation p - 1), B (dilation p): tap 0 reads y(t - p + 1), y(t - p)
 *     filter     eps g (1 - a) y(t-p+1)  and  eps g a y(t-p)
 *     gate       beta (phi(m) . phi(note) - (J - 0.09)), phi = the sin/cos
 *                pitch features: +45 at the layer's own note, <= -45 one
 *                semitone or more away, so sigmoid opens one pair of layers
 *   res          0 (every layer reads the embedding)
 *   skip         1 / eps (tanh is linear to 1e-4 at these sizes), bias 2
 *   head         identity: h = 2 + g ((1 - a) y(t-p+1) + a y(t-p))
 *   out          logit_c = s (2 u_c h - u_c^2), u_c = 2 + decode(c): the
 *                argmax is the class nearest h, and at temperature 1 the
 *                softmax draws around it with std about 1 / sqrt(2 s)
 *                (plus log of the class's width, so the draw is even in
 *                amplitude rather than in crowded mu-law classes)
 * So y(t+1) = g (lowpassed y one period ago) + noise: the noise excites a
 * string of period p + a (the two-tap average delays by a at low
 * frequencies), g sets how long it rings. */
#ifndef GW_TEST_STRING_MODEL_H
#define GW_TEST_STRING_MODEL_H

#include "dsp/gw_dsp.h"
#include "models/wavenet.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static inline gw_status gw_test_string_model(gw_wavenet **out, int sample_rate, int lo, int hi,
                                             gw_error *err) {
    const float eps = 0.01f, g = 0.99f, beta = 500.0f, s = 555.0f;
    const int n_notes = hi - lo + 1;
    if (n_notes < 1 || 2 * n_notes > GW_WAVENET_MAX_LAYERS)
        return gw_fail(err, GW_ERR_ARG, "string model: notes %d..%d: at most %d", lo, hi,
                       GW_WAVENET_MAX_LAYERS / 2);
    gw_wavenet_config cfg = {0};
    snprintf(cfg.name, sizeof cfg.name, "ks-string-%d-%d", lo, hi);
    cfg.sample_rate = sample_rate;
    cfg.classes = GW_WAVENET_CLASSES;
    cfg.residual = cfg.gate = cfg.skip = cfg.head = 1;
    cfg.stacks = 1;
    cfg.layers_per_stack = 2 * n_notes;
    cfg.kernel = 2;
    cfg.pitch_features = 11;
    cfg.hop = 256; /* unused without mels, but a saved config must parse back */
    int period[GW_WAVENET_MAX_LAYERS / 2];
    float frac[GW_WAVENET_MAX_LAYERS / 2];
    for (int k = 0; k < n_notes; k++) {
        double P = sample_rate / (440.0 * pow(2.0, (lo + k - 69) / 12.0));
        period[k] = (int)floor(P);
        frac[k] = (float)(P - period[k]);
        if (period[k] < 2)
            return gw_fail(err, GW_ERR_ARG, "string model: note %d is too high for %d Hz", lo + k,
                           sample_rate);
        cfg.dilations[2 * k] = period[k] - 1;
        cfg.dilations[2 * k + 1] = period[k];
    }
    gw_status st = gw_wavenet_create(out, &cfg, err);
    if (st) return st;
    gw_wavenet *m = *out;
    const int C = m->cfg.cond_dim; /* 11 */
    for (int c = 0; c < GW_WAVENET_CLASSES; c++) m->w.embed[c] = gw_mulaw_decode((uint8_t)c);
    float phi[64];
    for (int k = 0; k < n_notes; k++) {
        gw_wavenet_cond_features(&m->cfg, phi, (float)(lo + k), 0.0f, 0);
        int J = (C - 1) / 2;
        for (int half = 0; half < 2; half++) {
            gw_wavenet_layer *L = &m->w.layer[2 * k + half];
            /* dil_w (2G=2, K=2, R=1): [row][tap]; tap 0 = oldest */
            L->dil_w[0] = eps * g * (half == 0 ? 1.0f - frac[k] : frac[k]);
            L->dil_w[1] = 0.0f;
            L->dil_w[2] = L->dil_w[3] = 0.0f;
            L->dil_b[0] = 0.0f;
            L->dil_b[1] = -beta * ((float)J - 0.09f);
            for (int j = 0; j < C; j++) {
                L->cond_w[j] = 0.0f;                        /* filter row */
                L->cond_w[C + j] = j == 0 ? 0.0f : beta * phi[j]; /* gate row */
            }
            L->res_w[0] = 0.0f;
            L->res_b[0] = 0.0f;
            L->skip_w[0] = 1.0f / eps;
            L->skip_b[0] = (k == 0 && half == 0) ? 2.0f : 0.0f;
        }
    }
    m->w.head1_w[0] = 1.0f;
    m->w.head1_b[0] = 0.0f;
    for (int c = 0; c < GW_WAVENET_CLASSES; c++) {
        float u = 2.0f + gw_mulaw_decode((uint8_t)c);
        /* + log(class width): mu-law classes crowd near 0, and without it
         * the draw would favour them, pulling the string towards silence */
        float lo_c = gw_mulaw_decode((uint8_t)(c > 0 ? c - 1 : c));
        float hi_c = gw_mulaw_decode((uint8_t)(c < 255 ? c + 1 : c));
        m->w.out_w[c] = 2.0f * s * u;
        m->w.out_b[c] = -s * u * u + logf((hi_c - lo_c) / (c > 0 && c < 255 ? 2.0f : 1.0f));
    }
    return GW_OK;
}

#endif
