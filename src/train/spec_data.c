/* Folder of sounds -> normalised log-mel images, and the picture/sound
 * writers the spectrogram trainers and commands share: see spec_trainer.h. */
#include "train/spec_trainer.h"

#include "io/audio.h"
#include "io/png.h"

#include <stdlib.h>
#include <string.h>

void gw_spec_data_free(gw_spec_data *d) {
    if (!d) return;
    gw_dataset_free(d->ds);
    free(d->train);
    if (!d->val_is_train) free(d->val);
    free(d);
}

/* log-mels of every clip, from the cache when the dataset and the feature
 * settings are unchanged */
static gw_status all_logmels(float **out, gw_specfeat *feat, const gw_dataset *ds, gw_error *err) {
    const gw_specfeat_config *c = gw_specfeat_cfg(feat);
    size_t img = gw_specfeat_image_size(feat), want = ds->n_clips * img, n = 0;
    uint64_t key = gw_hash64(ds->key, c, sizeof *c);
    int hit = 0;
    float *lm = NULL;
    gw_status st;
    if (ds->cache_dir[0]) {
        char warn[512] = "";
        st = gw_cache_load(&lm, &n, &hit, warn, sizeof warn, ds->cache_dir, "logmel", key, err);
        if (st) return st;
        if (hit && n == want) {
            *out = lm;
            return GW_OK;
        }
        free(lm);
    }
    lm = malloc(want * sizeof(float));
    if (!lm) return gw_fail(err, GW_ERR_NOMEM, "cannot allocate %zu log-mel images", ds->n_clips);
    for (size_t i = 0; i < ds->n_clips; i++) {
        /* clip mode: every clip is exactly clip_samples long (padded) */
        gw_specfeat_logmel(feat, lm + i * img, gw_dataset_clip_data(ds, i));
    }
    if (ds->cache_dir[0])
        gw_cache_save(ds->cache_dir, "logmel", key, lm, want, NULL); /* best effort */
    *out = lm;
    return GW_OK;
}

static float *gather(const float *lm, const size_t *idx, size_t n, size_t img) {
    float *o = malloc((n ? n : 1) * img * sizeof(float));
    if (!o) return NULL;
    for (size_t i = 0; i < n; i++)
        memcpy(o + i * img, lm + idx[i] * img, img * sizeof(float));
    return o;
}

gw_status gw_spec_data_load(gw_spec_data **out, const char *dir, const char *cache_dir,
                            gw_specfeat *feat, int fit, uint64_t split_seed, gw_error *err) {
    *out = NULL;
    const gw_specfeat_config *c = gw_specfeat_cfg(feat);
    gw_spec_data *d = calloc(1, sizeof *d);
    if (!d) return gw_fail(err, GW_ERR_NOMEM, "%s: out of memory", dir);
    gw_dataset_opts o;
    gw_dataset_opts_default(&o);
    o.sample_rate = c->sample_rate;
    o.clip_samples = (size_t)c->clip_samples;
    o.split_seed = split_seed;
    o.cache_dir = cache_dir;
    float *lm = NULL;
    gw_status st = gw_dataset_load(&d->ds, dir, &o, err);
    if (st) goto fail;
    if ((st = all_logmels(&lm, feat, d->ds, err))) goto fail;
    d->img = gw_specfeat_image_size(feat);
    d->n_train = d->ds->n_train;
    d->train = gather(lm, d->ds->train, d->n_train, d->img);
    if (d->ds->n_val >= 2) { /* a Gaussian fit needs two clips */
        d->n_val = d->ds->n_val;
        d->val = gather(lm, d->ds->val, d->n_val, d->img);
    } else {
        d->val_is_train = 1;
        d->n_val = d->n_train;
        d->val = d->train;
    }
    if (!d->train || !d->val) {
        st = gw_fail(err, GW_ERR_NOMEM, "%s: out of memory for the images", dir);
        goto fail;
    }
    if (d->n_train == 0) {
        st = gw_fail(err, GW_ERR_ARG, "%s: no training clips (every file is held out)", dir);
        goto fail;
    }
    if (fit) gw_specfeat_fit(feat, d->train, d->n_train);
    for (size_t i = 0; i < d->n_train; i++)
        gw_specfeat_normalise(feat, d->train + i * d->img, d->train + i * d->img);
    if (!d->val_is_train)
        for (size_t i = 0; i < d->n_val; i++)
            gw_specfeat_normalise(feat, d->val + i * d->img, d->val + i * d->img);
    free(lm);
    *out = d;
    return GW_OK;
fail:
    free(lm);
    gw_spec_data_free(d);
    return st;
}

gw_status gw_spec_write_grid(const char *path, const float *img, int n, int M, int T, int cols,
                             gw_error *err) {
    /* the PNG writer takes (frames, bands) */
    float *t = malloc((size_t)n * M * T * sizeof(float));
    if (!t) return gw_fail(err, GW_ERR_NOMEM, "%s: out of memory", path);
    for (int i = 0; i < n; i++)
        for (int b = 0; b < M; b++)
            for (int f = 0; f < T; f++)
                t[((size_t)i * T + f) * M + b] = img[((size_t)i * M + b) * T + f];
    gw_spec_style s;
    gw_spec_style_default(&s);
    s.vmin = -1.0f, s.vmax = 1.0f;
    s.scale = M <= 64 ? 2 : 1;
    gw_status st = gw_png_write_spectrogram_grid(path, t, n, T, M, cols, &s, err);
    free(t);
    return st;
}

gw_status gw_spec_write_wav(const char *path, gw_specfeat *feat, const float *img, int gl_iters,
                            uint64_t seed, float *scratch, gw_error *err) {
    const gw_specfeat_config *c = gw_specfeat_cfg(feat);
    gw_status st = gw_specfeat_to_audio(feat, scratch, img, gl_iters, seed, err);
    if (st) return st;
    return gw_audio_write(path, scratch, (size_t)c->clip_samples, 1, c->sample_rate, GW_AUDIO_WAV16,
                          err);
}

gw_status gw_spec_batcher_save(const gw_batcher *b, gw_gwm_writer *w, gw_error *err) {
    uint64_t v[2] = {b->epoch, b->pos};
    int two = 2;
    return gw_gwm_writer_add(w, "data.order", GW_GWM_U64, 1, &two, v, err);
}

gw_status gw_spec_batcher_load(gw_batcher *b, const gw_gwm *f, gw_error *err) {
    uint64_t v[2];
    int two = 2;
    gw_status st = gw_gwm_read(f, "data.order", GW_GWM_U64, 1, &two, v, err);
    if (st) return st;
    if (v[1] > b->n)
        return gw_fail(err, GW_ERR_FORMAT, "%s: data.order position %llu beyond %zu clips",
                       gw_gwm_path(f), (unsigned long long)v[1], b->n);
    gw_batcher_seek(b, v[0], (size_t)v[1]);
    return GW_OK;
}

gw_status gw_spec_batcher_create(gw_batcher **out, const gw_spec_data *d, uint64_t seed,
                                 gw_error *err) {
    size_t *pool = malloc((d->n_train ? d->n_train : 1) * sizeof(size_t));
    if (!pool) return gw_fail(err, GW_ERR_NOMEM, "out of memory for the batch order");
    for (size_t i = 0; i < d->n_train; i++)
        pool[i] = i;
    gw_status st = gw_batcher_create(out, pool, d->n_train, seed, err);
    free(pool);
    return st;
}

void gw_spec_class_of(char *name, size_t cap, const gw_dataset_file *f) {
    if (f->class_name[0]) { /* manifest.csv's class column */
        snprintf(name, cap, "%s", f->class_name);
        return;
    }
    const char *rel = f->rel, *slash = strchr(rel, '/');
    size_t n = slash ? (size_t)(slash - rel) : strcspn(rel, "_ .");
    if (n == 0) n = strlen(rel); /* "_x.wav", ".x.wav": the whole name rather than nothing */
    snprintf(name, cap, "%.*s", (int)n, rel);
}

const gw_dataset_file *gw_spec_data_file(const gw_spec_data *d, int val, size_t i) {
    const gw_dataset *ds = d->ds;
    const size_t clip = val && !d->val_is_train ? ds->val[i] : ds->train[i];
    return &ds->report->files[ds->clips[clip].file];
}
