/* engine_models.h - small hand-set WaveNets for the engine's tests. */
#ifndef GW_TEST_ENGINE_MODELS_H
#define GW_TEST_ENGINE_MODELS_H

#include "dsp/gw_dsp.h"
#include "models/wavenet.h"

#include <stdio.h>

/* the shape both models share: 8 residual and gate channels, 16 skip and
 * head, one stack of `layers` kernel-2 layers at dilations 1, 4, 16, ...,
 * hop 256 */
static inline void gw_test_small_config(gw_wavenet_config *cfg, int sample_rate, int layers,
                                        int pitch_features) {
    *cfg = (gw_wavenet_config){0};
    cfg->sample_rate = sample_rate;
    cfg->classes = GW_WAVENET_CLASSES;
    cfg->residual = 8;
    cfg->gate = 8;
    cfg->skip = 16;
    cfg->head = 16;
    cfg->stacks = 1;
    cfg->layers_per_stack = layers;
    cfg->kernel = 2;
    cfg->pitch_features = pitch_features;
    cfg->hop = 256;
    for (int l = 0; l < layers; l++)
        cfg->dilations[l] = 1 << (2 * l);
}

/* A WaveNet that always outputs class cls (amplitude gw_mulaw_decode(cls)):
 * zero weights, out.b = 0 at cls and -1000 elsewhere, so every class but cls
 * has probability exactly 0 in float at any temperature <= 4 and the output
 * is a constant a test can measure envelopes and gains on. A few layers with
 * long dilations give the stream rings of realistic size. */
static inline gw_status gw_test_const_model(gw_wavenet **out, int sample_rate, int cls,
                                            int pitch_features, gw_error *err) {
    gw_wavenet_config cfg;
    gw_test_small_config(&cfg, sample_rate, 6, pitch_features);
    snprintf(cfg.name, sizeof cfg.name, "const-%d", cls);
    gw_status st = gw_wavenet_create(out, &cfg, err);
    if (st) return st;
    for (int c = 0; c < GW_WAVENET_CLASSES; c++)
        (*out)->w.out_b[c] = c == cls ? 0.0f : -1000.0f;
    return GW_OK;
}

/* A 48 kHz-style multi-band WaveNet (wavenet.h, "logistic") with seeded
 * random weights: its sound means nothing, but it steps `bands` samples at
 * a time, draws one uniform per band and synthesises through the PQMF bank,
 * which is what the engine's tests need of it. Band gains 0.5, 0.25, ... */
static inline gw_status gw_test_band_model(gw_wavenet **out, int sample_rate, int bands,
                                           uint64_t seed, gw_error *err) {
    gw_wavenet_config cfg;
    gw_test_small_config(&cfg, sample_rate, 5, 5);
    snprintf(cfg.name, sizeof cfg.name, "bands-%d", bands);
    cfg.velocity = 1;
    cfg.distribution = GW_WAVENET_DIST_LOGISTIC;
    cfg.bands = bands;
    cfg.mixtures = 3;
    for (int k = 0; k < bands; k++)
        cfg.band_gain[k] = 0.5f / (float)(1 << k);
    gw_status st = gw_wavenet_create(out, &cfg, err);
    if (st) return st;
    gw_rng rng;
    gw_rng_seed(&rng, seed);
    gw_wavenet_weights_init(&(*out)->w, &(*out)->cfg, &rng);
    return GW_OK;
}

#endif
