/* libFuzzer target: audio files (io/audio.h, libsndfile underneath) and the
 * dataset scanner's analysis of them (io/dataset.h: level, trim, resample).
 * The input is written as the one file of a training folder, then probed,
 * decoded, decoded to mono at 8 kHz, and loaded as a dataset without a
 * cache. Each must succeed or give a one-line error naming the file (or the
 * folder, for the dataset), never crash, hang or leak; what decodes must be
 * finite samples, as audio.h promises (D9: 1e30 and NaN samples). */
#include "io/audio.h"
#include "io/dataset.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void need_one_line(const gw_error *e, const char *name) {
    if (e->status == GW_OK) return;
    if (!strstr(e->msg, name) || strchr(e->msg, '\n'))
        fprintf(stderr, "not a one-line error naming '%s': '%s'\n", name, e->msg), abort();
}

static void need_finite(const float *x, size_t n, const char *what) {
    for (size_t i = 0; i < n; i++)
        if (!isfinite(x[i])) fprintf(stderr, "%s: non-finite sample %zu\n", what, i), abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static char dir[64], path[128];
    if (!dir[0]) {
        snprintf(dir, sizeof dir, "/tmp/gw-fuzz-audio-XXXXXX");
        if (!mkdtemp(dir)) abort();
        snprintf(path, sizeof path, "%s/input.wav", dir);
    }
    FILE *f = fopen(path, "wb");
    if (!f) abort();
    if (size && fwrite(data, 1, size, f) != size) abort();
    fclose(f);

    gw_error err = {0};
    gw_audio_info info;
    gw_audio_probe(&info, path, &err);
    need_one_line(&err, path);

    gw_audio *a = NULL;
    err = (gw_error){0};
    if (gw_audio_read(&a, path, 0, &err) == GW_OK) {
        need_finite(a->data, a->frames * (size_t)a->channels, "gw_audio_read");
        gw_audio_free(a);
    }
    need_one_line(&err, path);

    float *x = NULL;
    size_t n = 0;
    int rate = 0;
    err = (gw_error){0};
    if (gw_audio_read_mono(&x, &n, &rate, path, 8000, &err) == GW_OK) need_finite(x, n, "mono");
    free(x);
    need_one_line(&err, path);

    gw_dataset_opts o;
    gw_dataset_opts_default(&o);
    o.sample_rate = 8000;
    o.no_cache = 1;
    gw_dataset *ds = NULL;
    err = (gw_error){0};
    if (gw_dataset_load(&ds, dir, &o, &err) == GW_OK) {
        need_finite(ds->audio, ds->audio_n, "dataset");
        gw_dataset_free(ds);
    }
    need_one_line(&err, dir);
    return 0;
}
