/* Data augmentation (augment.h). */
#include "train/augment.h"

#include "dsp/gw_dsp.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

gw_status gw_augment_pitch_shift(gw_dataset *ds, const int *shifts, int n, size_t *added,
                                 gw_error *err) {
    if (added) *added = 0;
    for (int k = 0; k < n; k++)
        if (shifts[k] == 0 || shifts[k] < -12 || shifts[k] > 12)
            return gw_fail(err, GW_ERR_ARG, "pitch shift %d: give -12..12 semitones, not 0",
                           shifts[k]);
    const size_t n_train = ds->n_train;
    size_t new_clips = 0, new_samples = 0;
    for (size_t i = 0; i < n_train; i++) /* an upper bound of what is added */
        for (int k = 0; k < n; k++) {
            new_clips++;
            new_samples +=
                (size_t)ceil(ds->clips[ds->train[i]].n * pow(2.0, -shifts[k] / 12.0)) + 64;
        }
    if (!new_clips) return GW_OK;
    float *audio = realloc(ds->audio, (ds->audio_n + new_samples) * sizeof *audio);
    if (!audio) return gw_fail(err, GW_ERR_NOMEM, "pitch shift: out of memory");
    ds->audio = audio;
    gw_clip *clips = realloc(ds->clips, (ds->n_clips + new_clips) * sizeof *clips);
    if (!clips) return gw_fail(err, GW_ERR_NOMEM, "pitch shift: out of memory");
    ds->clips = clips;
    size_t *train = realloc(ds->train, (n_train + new_clips) * sizeof *train);
    if (!train) return gw_fail(err, GW_ERR_NOMEM, "pitch shift: out of memory");
    ds->train = train;
    const double rate = ds->sample_rate;
    for (size_t i = 0; i < n_train; i++)
        for (int k = 0; k < n; k++) {
            const gw_clip c = ds->clips[ds->train[i]];
            const int s = shifts[k];
            if (c.note >= 0 && (c.note + s < 0 || c.note + s > 127)) continue;
            /* read as if recorded at rate 2^(s/12) x the real one: played at
             * the real rate it is s semitones higher */
            float *y = NULL;
            size_t ny = 0;
            gw_status st = gw_resample(&y, &ny, ds->audio + c.offset, c.n,
                                       rate * pow(2.0, s / 12.0), rate, err);
            if (st) return st;
            const size_t room = (size_t)ceil(c.n * pow(2.0, -s / 12.0)) + 64;
            if (ny > room) ny = room;
            gw_clip d = c;
            d.offset = ds->audio_n;
            d.n = ny;
            d.valid = (size_t)((double)c.valid * pow(2.0, -s / 12.0));
            if (d.valid > ny) d.valid = ny;
            if (c.note >= 0) d.note = c.note + s;
            memcpy(ds->audio + ds->audio_n, y, ny * sizeof *y);
            free(y);
            ds->audio_n += ny;
            ds->train[ds->n_train++] = ds->n_clips;
            ds->clips[ds->n_clips++] = d;
            if (added) (*added)++;
        }
    return GW_OK;
}

void gw_augment_gain(float *x, int B, size_t W, float gain_db, gw_rng *rng) {
    for (int b = 0; b < B; b++) {
        const float g = powf(10.0f, gain_db * (2.0f * (float)gw_rng_uniform(rng) - 1.0f) / 20.0f);
        for (size_t i = 0; i < W; i++)
            x[(size_t)b * W + i] *= g;
    }
}
