/* spec_synth.h - a small synthetic one-shot dataset for the spectrogram
 * learning tests (header-only, test code): three kinds of drum-like hits
 * with random variations, written as 16 kHz WAVs into a temp folder.
 *   kick:  a sine sweeping down from ~150 to ~50 Hz, decay ~120 ms
 *   snare: a ~200 Hz tone plus white noise, decay ~80 ms
 *   hat:   white noise through a first-order high-pass, decay ~30 ms
 * Each kind has a distinct spectral envelope and time course, so a model
 * that learns the data reproduces three visibly different spectrograms. */
#ifndef GW_TEST_SPEC_SYNTH_H
#define GW_TEST_SPEC_SYNTH_H

#include "base/gw_base.h"
#include "io/audio.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

static inline void gw_synth_hit(float *x, size_t n, int kind, gw_rng *r) {
    float amp = 0.4f + 0.4f * gw_rng_uniform(r);
    float decay = (kind == 0 ? 0.12f : kind == 1 ? 0.08f : 0.03f) * (0.8f + 0.4f * gw_rng_uniform(r));
    float f0 = 150.0f * (0.85f + 0.3f * gw_rng_uniform(r)), phase = 0, hp = 0, prev = 0;
    for (size_t i = 0; i < n; i++) {
        float t = (float)i / 16000.0f, env = amp * expf(-t / decay), v;
        if (kind == 0) {
            float f = 50.0f + (f0 - 50.0f) * expf(-t / 0.04f);
            phase += 6.2831853f * f / 16000.0f;
            v = sinf(phase);
        } else if (kind == 1) {
            v = 0.5f * sinf(6.2831853f * (f0 + 50.0f) * t) + 0.6f * (2 * gw_rng_uniform(r) - 1);
        } else {
            float w = 2 * gw_rng_uniform(r) - 1;
            hp = 0.9f * (hp + w - prev); /* y[n] = a (y[n-1] + x[n] - x[n-1]) */
            prev = w;
            v = hp;
        }
        x[i] = env * v;
    }
}

/* n_per_kind files of each kind, length `seconds`, into dir; returns 0 on success */
static inline int gw_synth_drums(const char *dir, int n_per_kind, double seconds, uint64_t seed) {
    gw_rng r;
    gw_rng_seed(&r, seed);
    size_t n = (size_t)(seconds * 16000);
    float *x = malloc(n * sizeof(float));
    if (!x) return -1;
    static const char *names[3] = {"kick", "snare", "hat"};
    for (int k = 0; k < 3; k++)
        for (int i = 0; i < n_per_kind; i++) {
            char path[4300];
            snprintf(path, sizeof path, "%s/%s_%03d.wav", dir, names[k], i);
            gw_synth_hit(x, n, k, &r);
            gw_error err;
            if (gw_audio_write(path, x, n, 1, 16000, GW_AUDIO_WAV16, &err)) {
                fprintf(stderr, "%s\n", err.msg);
                free(x);
                return -1;
            }
        }
    free(x);
    return 0;
}

#endif
