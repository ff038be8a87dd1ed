/* bench_wavenet_onestep - where a 48 kHz band model's noise floor comes
 * from: the same note sampled free-running (the model's own samples fed
 * back, as `render` plays it) and one step at a time under teacher forcing
 * (each step's band values drawn from the model's distribution given the
 * real recording's history, then the real values fed back instead). The
 * teacher-forced output is the recording plus one step's sampling noise,
 * so its noise floor is the floor of the model's predictive width alone;
 * the free-running floor adds what drift off the recordings' path costs
 * (exposure bias). Issue "Studio-grade sound": the two figures say whether
 * sharper predictions (capacity, training) or training on the model's own
 * outputs (input noise, scheduled sampling) would lower the floor.
 *
 *   bench_wavenet_onestep MODEL.gwm REFERENCE.wav NOTE VELOCITY SEED OUT_PREFIX
 *
 * Writes OUT_PREFIX-teacher.wav and OUT_PREFIX-free.wav at the model's
 * rate, as long as the recording; measure each with `genwave quality
 * --audio FILE --note NOTE`. Temperature 1. */
#include "dsp/gw_dsp.h"
#include "io/audio.h"
#include "models/wavenet.h"
#include "models/wavenet_file.h"
#include "train/wavenet_trainer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int die(const char *what, const gw_error *e) {
    fprintf(stderr, "bench_wavenet_onestep: %s: %s\n", what, e ? e->msg : "out of memory");
    return 1;
}

int main(int argc, char **argv) {
    if (argc != 7) {
        fprintf(stderr, "usage: bench_wavenet_onestep MODEL.gwm REFERENCE.wav NOTE VELOCITY SEED "
                        "OUT_PREFIX\n");
        return 2;
    }
    gw_error err = {0};
    gw_wavenet *m = NULL;
    if (gw_wavenet_load(&m, argv[1], &err)) return die(argv[1], &err);
    const gw_wavenet_config *c = &m->cfg;
    const int K = c->bands;
    if (c->distribution != GW_WAVENET_DIST_LOGISTIC || K < 1) {
        fprintf(stderr, "bench_wavenet_onestep: %s is not a band model\n", argv[1]);
        return 1;
    }
    float *x = NULL;
    size_t n = 0;
    int file_rate = 0;
    if (gw_audio_read_mono(&x, &n, &file_rate, argv[2], c->sample_rate, &err))
        return die(argv[2], &err);
    const float note = (float)atof(argv[3]), vel = (float)atof(argv[4]);
    gw_pqmf *pq = NULL;
    if (gw_pqmf_create(&pq, K, &err)) return die("pqmf", &err);
    const size_t frames = (n + (size_t)K - 1) / (size_t)K;
    float *bands = malloc(sizeof(float) * frames * (size_t)K);
    float *out_t = calloc(frames * (size_t)K, sizeof(float));
    float *out_f = calloc(frames * (size_t)K, sizeof(float));
    float *cond = calloc((size_t)(c->cond_dim > 0 ? c->cond_dim : 1), sizeof(float));
    float u[GW_WAVENET_MAX_BANDS], v[GW_WAVENET_MAX_BANDS];
    if (!bands || !out_t || !out_f || !cond) return die("buffers", NULL);
    /* the training data's values: analysis from the clip's start, each band
     * divided by its gain and clamped (wavenet_trainer.h) */
    gw_pqmf_analysis(pq, bands, x, n);
    for (size_t f = 0; f < frames; f++)
        for (int k = 0; k < K; k++) {
            float g = c->band_gain[k] > 0 ? c->band_gain[k] : 1.0f, b = bands[f * K + k] / g;
            bands[f * K + k] = b > 1 ? 1 : b < -1 ? -1 : b;
        }
    gw_wavenet_cond_features(c, cond, note, vel / 127.0f, 0);
    gw_wavenet_stream *s = NULL;
    if (gw_wavenet_stream_create(&s, m, 1, &err)) return die("stream", &err);
    for (int pass = 0; pass < 2; pass++) {
        const int teacher = pass == 0;
        gw_rng rng;
        gw_rng_seed(&rng, (uint64_t)atoll(argv[5]));
        gw_wavenet_stream_reset(s, 0);
        gw_wavenet_stream_set_cond(s, 0, cond);
        float *out = teacher ? out_t : out_f;
        for (size_t f = 0; f < frames; f++) {
            for (int k = 0; k < K; k++) u[k] = gw_rng_uniform(&rng);
            gw_wavenet_stream_step(s, NULL, out + f * K, NULL, 1, 1.0f, u);
            if (teacher) { /* the recording's values of this frame go in next */
                memcpy(v, bands + f * K, sizeof(float) * (size_t)K);
                gw_wavenet_stream_set_input_bands(s, 0, v);
            }
        }
    }
    char path[4096];
    int rc = 0;
    snprintf(path, sizeof path, "%s-teacher.wav", argv[6]);
    if (gw_audio_write(path, out_t, n, 1, c->sample_rate, GW_AUDIO_WAVF32, &err))
        rc = die(path, &err);
    snprintf(path, sizeof path, "%s-free.wav", argv[6]);
    if (!rc && gw_audio_write(path, out_f, n, 1, c->sample_rate, GW_AUDIO_WAVF32, &err))
        rc = die(path, &err);
    gw_wavenet_stream_free(s);
    gw_pqmf_free(pq);
    gw_wavenet_free(m);
    free(x), free(bands), free(out_t), free(out_f), free(cond);
    return rc;
}
