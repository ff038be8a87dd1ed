/* libFuzzer target: a training folder's own files besides the audio, the
 * dataset cache (io/cache.c, io/dataset.c) and manifest.csv. A folder of
 * two short labelled notes is made once; each input then replaces
 *   'R' + payload   the cache file, with a correct header, key and checksum
 *                   around the payload (so mutations reach the payload's
 *                   parser behind the checksum),
 *   'M' + text      manifest.csv (removed again afterwards),
 *   anything else   the cache file, byte for byte,
 * and the folder is loaded. A bad cache is never fatal (it is rebuilt with a
 * warning), so the load must succeed; a bad manifest may fail, with a
 * one-line error naming it. Whatever loads must hold clips inside its audio,
 * finite samples, and every clip on one side of the split. */
#include "io/audio.h"
#include "io/dataset.h"

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct fixture {
    char dir[64], cache[96], cache_file[512], manifest[128];
    uint64_t key;
} fixture;

static gw_dataset_opts options(const fixture *fx) {
    gw_dataset_opts o;
    gw_dataset_opts_default(&o);
    o.sample_rate = 8000;
    o.cache_dir = fx->cache;
    return o;
}

static void write_file(const char *path, const void *data, size_t n) {
    FILE *f = fopen(path, "wb");
    if (!f || (n && fwrite(data, 1, n, f) != n) || fclose(f)) abort();
}

/* two notes, a first load to write the cache, and that cache's name and key */
static void setup(fixture *fx) {
    snprintf(fx->dir, sizeof fx->dir, "/tmp/gw-fuzz-dataset-XXXXXX");
    if (!mkdtemp(fx->dir)) abort();
    snprintf(fx->cache, sizeof fx->cache, "%s/cache", fx->dir);
    snprintf(fx->manifest, sizeof fx->manifest, "%s/manifest.csv", fx->dir);
    static const int notes[2] = {60, 67};
    float x[800];
    for (int k = 0; k < 2; k++) {
        double f0 = 440.0 * pow(2.0, (notes[k] - 69) / 12.0);
        for (int i = 0; i < 800; i++)
            x[i] = (float)(0.5 * sin(2 * M_PI * f0 * i / 8000.0));
        char p[160];
        snprintf(p, sizeof p, "%s/note_n%d_v100.wav", fx->dir, notes[k]);
        gw_error err = {0};
        if (gw_audio_write(p, x, 800, 1, 8000, GW_AUDIO_WAV16, &err)) abort();
    }
    gw_dataset_opts o = options(fx);
    gw_dataset *ds = NULL;
    gw_error err = {0};
    if (gw_dataset_load(&ds, fx->dir, &o, &err)) fprintf(stderr, "%s\n", err.msg), abort();
    fx->key = ds->key;
    gw_dataset_free(ds);
    DIR *d = opendir(fx->cache);
    struct dirent *e;
    while (d && (e = readdir(d)))
        if (!strncmp(e->d_name, "dataset-", 8))
            snprintf(fx->cache_file, sizeof fx->cache_file, "%s/%s", fx->cache, e->d_name);
    if (d) closedir(d);
    if (!fx->cache_file[0]) fprintf(stderr, "no dataset cache written\n"), abort();
}

static void check(const gw_dataset *ds) {
    size_t sides = ds->n_train + ds->n_val;
    if (sides != ds->n_clips)
        fprintf(stderr, "split holds %zu of %zu clips\n", sides, ds->n_clips), abort();
    for (size_t i = 0; i < ds->n_clips; i++) {
        const gw_clip *c = &ds->clips[i];
        if (c->offset > ds->audio_n || c->n > ds->audio_n - c->offset || c->valid > c->n ||
            c->file < 0 || (size_t)c->file >= ds->report->n_files)
            fprintf(stderr, "clip %zu outside its audio\n", i), abort();
    }
    for (size_t i = 0; i < ds->audio_n; i++)
        if (!isfinite(ds->audio[i]) && !ds->from_cache) /* a repaired cache may hold any float */
            fprintf(stderr, "non-finite decoded sample %zu\n", i), abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static fixture fx;
    if (!fx.dir[0]) setup(&fx);
    int manifest = size > 0 && data[0] == 'M';
    if (manifest) {
        write_file(fx.manifest, data + 1, size - 1);
    } else if (size > 0 && data[0] == 'R') {
        size_t p = size - 1;
        unsigned char *b = malloc(24 + p + 8);
        if (!b) return 0;
        uint64_t hdr[2] = {fx.key, (uint64_t)p};
        memcpy(b, "GWCACHE1", 8);
        memcpy(b + 8, hdr, sizeof hdr);
        if (p) memcpy(b + 24, data + 1, p);
        uint64_t sum = gw_hash64(GW_HASH_INIT, b + 8, 16 + p);
        memcpy(b + 24 + p, &sum, sizeof sum);
        write_file(fx.cache_file, b, 24 + p + 8);
        free(b);
    } else {
        write_file(fx.cache_file, data, size);
    }
    gw_dataset_opts o = options(&fx);
    gw_dataset *ds = NULL;
    gw_error err = {0};
    if (gw_dataset_load(&ds, fx.dir, &o, &err) == GW_OK) {
        check(ds);
        gw_dataset_free(ds);
    } else if (!manifest) {
        fprintf(stderr, "a bad cache stopped the load: %s\n", err.msg), abort();
    } else if (!strstr(err.msg, "manifest.csv") || strchr(err.msg, '\n')) {
        fprintf(stderr, "not a one-line error naming manifest.csv: '%s'\n", err.msg), abort();
    }
    if (manifest) remove(fx.manifest);
    return 0;
}
