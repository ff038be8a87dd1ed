/* wavenet_models.h - random tiny WaveNets for the model tests
 * (header-only, test code). Include after cmocka.h. */
#ifndef GW_TEST_WAVENET_MODELS_H
#define GW_TEST_WAVENET_MODELS_H

#include "models/wavenet.h"

#include <stddef.h>
#include <stdint.h>

/* a WaveNet of cfg with weights drawn from seed, all scaled by scale:
 * larger than the default weights so that every path carries signal */
static inline gw_wavenet *gw_test_wavenet_create(const gw_wavenet_config *cfg, uint64_t seed,
                                                 float scale) {
    gw_wavenet *m = NULL;
    gw_error err = {0};
    if (gw_wavenet_create(&m, cfg, &err)) fail_msg("create: %s", err.msg);
    gw_rng rng;
    gw_rng_seed(&rng, seed);
    gw_wavenet_weights_init(&m->w, &m->cfg, &rng);
    for (size_t i = 0; i < m->params->total; i++)
        m->params->data[i] *= scale;
    return m;
}

/* the same from a preset's JSON text */
static inline gw_wavenet *gw_test_wavenet_parse(const char *json, uint64_t seed, float scale) {
    gw_wavenet_config cfg;
    gw_error err = {0};
    if (gw_wavenet_config_parse(&cfg, json, "test", &err)) fail_msg("config: %s", err.msg);
    return gw_test_wavenet_create(&cfg, seed, scale);
}

#endif
