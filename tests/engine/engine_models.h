/* engine_models.h - small hand-set WaveNets for the engine's tests. */
#ifndef GW_TEST_ENGINE_MODELS_H
#define GW_TEST_ENGINE_MODELS_H

#include "dsp/gw_dsp.h"
#include "models/wavenet.h"

#include <stdio.h>

/* A WaveNet that always outputs class cls (amplitude gw_mulaw_decode(cls)):
 * zero weights, out.b = 0 at cls and -1000 elsewhere, so every class but cls
 * has probability exactly 0 in float at any temperature <= 4 and the output
 * is a constant a test can measure envelopes and gains on. A few layers with
 * long dilations give the stream rings of realistic size. */
static inline gw_status gw_test_const_model(gw_wavenet **out, int sample_rate, int cls,
                                            int pitch_features, gw_error *err) {
    gw_wavenet_config cfg = {0};
    snprintf(cfg.name, sizeof cfg.name, "const-%d", cls);
    cfg.sample_rate = sample_rate;
    cfg.classes = GW_WAVENET_CLASSES;
    cfg.residual = 8;
    cfg.gate = 8;
    cfg.skip = 16;
    cfg.head = 16;
    cfg.stacks = 1;
    cfg.layers_per_stack = 6;
    cfg.kernel = 2;
    cfg.pitch_features = pitch_features;
    cfg.hop = 256;
    for (int l = 0; l < 6; l++) cfg.dilations[l] = 1 << (2 * l);
    gw_status st = gw_wavenet_create(out, &cfg, err);
    if (st) return st;
    for (int c = 0; c < GW_WAVENET_CLASSES; c++) (*out)->w.out_b[c] = c == cls ? 0.0f : -1000.0f;
    return GW_OK;
}

#endif
