/* gw_audio_read_mono: decode + downmix + resample, the one path by which
 * training data and reference sounds reach a model's sample rate. Kept apart
 * from audio.c so programs that only read and write files do not pull in the
 * resampler. */
#include "dsp/gw_dsp.h"
#include "io/audio.h"

#include <math.h>
#include <stdlib.h>

gw_status gw_audio_read_mono(float **out, size_t *n, int *file_rate, const char *path, int rate,
                             gw_error *err) {
    *out = NULL;
    *n = 0;
    gw_audio *a = NULL;
    gw_status st = gw_audio_read(&a, path, 1, err);
    if (st) return st;
    if (file_rate) *file_rate = a->sample_rate;
    if (rate <= 0 || rate == a->sample_rate || a->frames == 0) {
        *out = a->data;
        *n = a->frames;
        a->data = NULL;
        gw_audio_free(a);
        return GW_OK;
    }
    gw_error re = {0};
    st = gw_resample(out, n, a->data, a->frames, a->sample_rate, rate, &re);
    if (st) st = gw_fail(err, st, "%s: %s", path, re.msg); /* name the file (a 1 Hz WAV) */
    /* audio.h promises finite samples: a float file whose samples sit near
     * FLT_MAX decodes, but the resampler's weighted sums overflow */
    for (size_t i = 0; !st && i < *n; i++)
        if (!isfinite((*out)[i])) {
            float peak = 0;
            for (size_t j = 0; j < a->frames; j++)
                peak = fmaxf(peak, fabsf(a->data[j]));
            st = gw_fail(err, GW_ERR_FORMAT,
                         "%s: samples up to %g overflow resampling to %d Hz: not audio in [-1, 1]",
                         path, (double)peak, rate);
            free(*out);
            *out = NULL;
            *n = 0;
        }
    gw_audio_free(a);
    return st;
}
