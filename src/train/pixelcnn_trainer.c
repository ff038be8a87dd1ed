/* `genwave train pixelcnn`: the Gated PixelCNN on the shared trainer loop
 * (see spec_trainer.h for the data and the outputs, docs/pixelcnn.md for
 * the model). The feature images are quantised once (models/pixelcnn.h,
 * "The image"); a step is a batch of them through the training pass and one
 * Adam update; validation measures held-out bits per dimension and samples
 * a grid with the cached sampler. */
#include "models/pixelcnn.h"
#include "models/pixelcnn_file.h"
#include "nn/optim.h"
#include "train/spec_trainer.h"
#include "train/trainer.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

enum {
    GRID_N = 8,     /* images in a validation grid */
    GRID_WAVS = 2,  /* of them as WAVs */
    VAL_MAX = 256,  /* held-out images measured: bounds validation time */
    NAME_BUF = 256, /* a class token before its length is checked */
};

typedef struct pcnn_run {
    gw_spec_run s; /* first: the checkpoint hooks take a pcnn_run as a gw_spec_run */
    gw_pixelcnn_model m;
    gw_pixelcnn_train *t; /* batch B, also used by validation */
    gw_adam *opt;
    size_t hw;              /* pixels per image */
    uint8_t *qtrain, *qval; // (n_train, H, W), (n_val, H, W)
    int32_t *ltrain, *lval; // (n_train), (n_val); NULL unconditioned
    size_t n_val;           /* held-out images measured */
    uint8_t *qb;            // (B, H, W) the batch
    int32_t *lb;            // (B)
    float *grid;            // (GRID_N, n_mels, frames)
    int32_t grid_labels[GRID_N];
    char *classes_json; /* the class names as checkpoints record them; NULL unconditioned */
} pcnn_run;

static gw_status pcnn_step(void *ctx, uint64_t step, gw_rng *rng, double *fig, gw_error *err) {
    pcnn_run *r = ctx;
    const int B = r->s.B;
    (void)step, (void)rng; /* the batch order is the only randomness */
    gw_batcher_next(r->s.batcher, r->s.idx, (size_t)B);
    for (int i = 0; i < B; i++) {
        memcpy(r->qb + (size_t)i * r->hw, r->qtrain + r->s.idx[i] * r->hw, r->hw);
        if (r->ltrain) r->lb[i] = r->ltrain[r->s.idx[i]];
    }
    float nats;
    gw_params_zero_grad(r->m.net->params);
    /* this rank's share of the batch (dist.h); Adam averages the gradients */
    const size_t o = (size_t)r->s.off;
    gw_status st = gw_pixelcnn_train_forward(r->t, &nats, r->qb + o * r->hw,
                                             r->ltrain ? r->lb + o : NULL, 1, err);
    if (st) return st;
    gw_pixelcnn_train_backward(r->t);
    if ((st = gw_adam_step(r->opt, r->opt->cfg.lr, err))) return st;
    fig[0] = nats / M_LN2, fig[1] = r->opt->last_grad_norm;
    return GW_OK;
}

static gw_status pcnn_validate(void *ctx, uint64_t step, double *fig, gw_error *err) {
    pcnn_run *r = ctx;
    const gw_specfeat_config *c = &r->m.net->cfg.feat;
    /* in f32 whatever the training's precision: the figure genwave eval and
     * a reload give (the model file records it) */
    gw_pixelcnn_train_set_bf16(r->t, 0);
    gw_status st = gw_pixelcnn_bits_per_dim(&fig[0], NULL, r->t, r->qval, r->lval, r->n_val, err);
    gw_pixelcnn_train_set_bf16(r->t, !strcmp(r->s.precision, "bf16"));
    if (st) return st;
    /* the same seed at every validation: grids that differ only by training */
    gw_rng g;
    gw_rng_seed(&g, 1);
    if ((st = gw_pixelcnn_generate(r->grid, r->m.net, GRID_N, r->ltrain ? r->grid_labels : NULL,
                                   1.0f, &g, err)))
        return st;
    mkdir(r->s.samples, 0777);
    char path[4400];
    snprintf(path, sizeof path, "%s/step-%07llu.png", r->s.samples, (unsigned long long)step);
    st = gw_spec_write_grid(path, r->grid, GRID_N, c->n_mels, c->frames, 4, err);
    for (int k = 0; k < GRID_WAVS && !st; k++) {
        snprintf(path, sizeof path, "%s/step-%07llu-%d.wav", r->s.samples, (unsigned long long)step,
                 k);
        st = gw_spec_write_wav(path, r->m.feat, r->grid + (size_t)k * r->s.img, r->s.gl_iters,
                               (uint64_t)k, r->s.wav, err);
    }
    return st;
}

/* the checkpoint: the data order, and the classes it was trained on, so a
 * resume on a folder whose classes changed says so (not a tensor shape) */
static gw_status pcnn_save(void *ctx, gw_gwm_writer *w, gw_error *err) {
    pcnn_run *r = ctx;
    gw_status st = gw_spec_run_save(ctx, w, err);
    if (!st && r->classes_json)
        st = gw_gwm_writer_meta(w, "pixelcnn.classes", r->classes_json, err);
    return st;
}

static gw_status pcnn_load(void *ctx, const gw_gwm *f, gw_error *err) {
    pcnn_run *r = ctx;
    const char *had = gw_gwm_meta(f, "pixelcnn.classes"), *now = r->classes_json;
    if (strcmp(had ? had : "none", now ? now : "none"))
        return gw_fail(err, GW_ERR_ARG,
                       "%s: trained on classes %s, the data now has %s; resume on the same "
                       "folder or start another run",
                       gw_gwm_path(f), had ? had : "none", now ? now : "none");
    return gw_spec_run_load(ctx, f, err);
}

static int by_name(const void *a, const void *b) {
    return strcmp(a, b);
}

/* The distinct classes of the usable files (gw_spec_class_of), sorted so
 * labels do not depend on the order files were found: *out (*n_out of
 * them, malloc'ed), at most max. */
static gw_status find_classes(char (**out)[GW_PIXELCNN_CLASS_NAME_MAX], int *n_out,
                              const gw_dataset_report *rep, int max, gw_error *err) {
    char(*names)[GW_PIXELCNN_CLASS_NAME_MAX] = calloc(rep->n_files + 1, sizeof *names);
    if (!names) return gw_fail(err, GW_ERR_NOMEM, "train pixelcnn: out of memory");
    size_t n = 0, u = 0;
    for (size_t i = 0; i < rep->n_files; i++) {
        if (rep->files[i].status != GW_FILE_OK) continue;
        char name[NAME_BUF];
        gw_spec_class_of(name, sizeof name, &rep->files[i]);
        if (strlen(name) >= GW_PIXELCNN_CLASS_NAME_MAX) {
            free(names);
            return gw_fail(err, GW_ERR_ARG, "%s/%s: class '%.40s...' is longer than %d bytes",
                           rep->root, rep->files[i].rel, name, GW_PIXELCNN_CLASS_NAME_MAX - 1);
        }
        memcpy(names[n++], name, strlen(name) + 1);
    }
    qsort(names, n, sizeof *names, by_name);
    for (size_t i = 0; i < n; i++)
        if (!u || strcmp(names[u - 1], names[i])) memmove(names[u++], names[i], sizeof *names);
    if (u > (size_t)max) {
        gw_status st =
            gw_fail(err, GW_ERR_ARG,
                    "%s: %zu classes (%s, %s%s) where the preset allows %d; a file's class is "
                    "manifest.csv's class column, else its first folder or the start of its name "
                    "(docs/pixelcnn.md)",
                    rep->root, u, names[0], names[1], u > 2 ? ", ..." : "", max);
        free(names);
        return st;
    }
    *out = names, *n_out = (int)u;
    return GW_OK;
}

/* the names into the model (as many as its net's classes) and into
 * r->classes_json */
static gw_status adopt_classes(pcnn_run *r, char (*names)[GW_PIXELCNN_CLASS_NAME_MAX], int n,
                               gw_error *err) {
    const char **list = calloc((size_t)n, sizeof *list);
    cJSON *a = cJSON_CreateArray();
    gw_status st = list && a ? GW_OK : gw_fail(err, GW_ERR_NOMEM, "train pixelcnn: out of memory");
    for (int i = 0; i < n && !st; i++) {
        list[i] = names[i];
        if (!cJSON_AddItemToArray(a, cJSON_CreateString(names[i])))
            st = gw_fail(err, GW_ERR_NOMEM, "train pixelcnn: out of memory");
    }
    if (!st && !(r->classes_json = cJSON_PrintUnformatted(a)))
        st = gw_fail(err, GW_ERR_NOMEM, "train pixelcnn: out of memory");
    if (!st) st = gw_pixelcnn_model_set_classes(&r->m, list, n, r->s.data->ds->report->root, err);
    cJSON_Delete(a);
    free(list);
    return st;
}

/* labels (n) of a set's images: each one's file's class among the model's */
static gw_status set_labels(int32_t *labels, const pcnn_run *r, int val, size_t n, gw_error *err) {
    for (size_t i = 0; i < n; i++) {
        char name[NAME_BUF];
        gw_spec_class_of(name, sizeof name, gw_spec_data_file(r->s.data, val, i));
        labels[i] = gw_pixelcnn_model_class(&r->m, name);
        if (labels[i] < 0) /* every usable file's class was collected */
            return gw_fail(err, GW_ERR_ARG, "train pixelcnn: %s: no class", name);
    }
    return GW_OK;
}

static gw_status pcnn_config(gw_pixelcnn_config *c, const gw_spec_trainer_opts *o, gw_error *err) {
    char preset[4096];
    gw_status st = gw_train_find_preset(preset, sizeof preset, o->preset, err);
    if (st) return st;
    if ((st = gw_pixelcnn_config_load(c, preset, err))) return st;
    gw_spec_trainer_apply(&c->common, o);
    return gw_pixelcnn_config_validate(c, preset, err);
}

/* the data's summary, the products' precision and the classes, printed
 * when training starts */
static char *intro_with_classes(const pcnn_run *r) {
    char *s = NULL, list[1024];
    size_t n = 0;
    FILE *fp = open_memstream(&s, &n);
    if (!fp) return NULL;
    fputs(r->s.intro ? r->s.intro : "", fp);
    if (r->m.classes)
        fprintf(fp, "conditioned on %d classes: %s\n", r->m.net->cfg.classes,
                gw_pixelcnn_model_class_list(&r->m, list, sizeof list));
    fclose(fp);
    return s;
}

static void pcnn_free(pcnn_run *r) {
    gw_pixelcnn_train_free(r->t);
    gw_adam_free(r->opt);
    gw_pixelcnn_model_free(&r->m);
    gw_spec_run_close(&r->s);
    free(r->qtrain), free(r->qval), free(r->ltrain), free(r->lval), free(r->qb), free(r->lb);
    free(r->grid), free(r->classes_json);
}

/* model.gwm and best.gwm: the net, the features and the class names */
static gw_status pcnn_write(void *run, gw_gwm_writer *w, gw_error *err) {
    return gw_pixelcnn_model_write(&((pcnn_run *)run)->m, w, err);
}

static void pcnn_result(const void *run, const gw_trainer_result *tr, gw_spec_trainer_result *res) {
    res->bits_first = tr->val_first[0];
    res->bits_last = tr->val_figures[0];
    res->classes = ((const pcnn_run *)run)->m.net->cfg.classes;
}

static const char *const figs[] = {"bits_per_dim", "grad_norm"};
static const char *const vfigs[] = {"val_bits_per_dim"}; /* lower is better */
static const gw_spec_kind pcnn_kind = {
    .what = "train pixelcnn",
    .figures = figs,
    .n_figures = 2,
    .val_figures = vfigs,
    .n_val_figures = 1,
    .write = pcnn_write,
    .metrics = {{"metric.bits_per_dim_untrained", 4, GW_SPEC_METRIC_FIRST, 0},
                {"metric.bits_per_dim", 4, GW_SPEC_METRIC_LAST, 0}},
    .n_metrics = 2,
    .result = pcnn_result,
};

gw_status gw_pixelcnn_trainer_run(const gw_spec_trainer_opts *o, gw_spec_trainer_result *res,
                                  gw_error *err) {
    pcnn_run r = {.s.o = o};
    char(*names)[GW_PIXELCNN_CLASS_NAME_MAX] = NULL;
    char *intro = NULL;
    gw_pixelcnn_config c;
    gw_status st = pcnn_config(&c, o, err);
    if (st) return st;
    if ((st = gw_specfeat_create(&r.m.feat, &c.feat, err)) ||
        (st = gw_spec_run_open(&r.s, &pcnn_kind, o, r.m.feat, c.batch, err)))
        goto done;
    /* a conditioned model gets exactly the classes the data has */
    if (c.classes > 0 &&
        (st = find_classes(&names, &c.classes, r.s.data->ds->report, c.classes, err)))
        goto done;
    if ((st = gw_pixelcnn_create(&r.m.net, &c, err))) goto done;
    c = r.m.net->cfg;
    if (names && (st = adopt_classes(&r, names, c.classes, err))) goto done;
    gw_rng init;
    gw_rng_seed(&init, o->seed ^ 0x510e527fade682d1ull);
    gw_pixelcnn_weights_init(&r.m.net->w, &c, &init);

    /* the quantised images and their labels, once */
    const gw_spec_data *d = r.s.data;
    r.hw = (size_t)c.height * c.width;
    r.n_val = d->n_val < VAL_MAX ? d->n_val : VAL_MAX;
    r.qtrain = malloc(d->n_train * r.hw);
    r.qval = malloc(r.n_val * r.hw);
    r.qb = malloc((size_t)c.batch * r.hw);
    r.lb = calloc((size_t)c.batch, sizeof(int32_t));
    r.grid = malloc((size_t)GRID_N * r.s.img * sizeof(float));
    if (c.classes) {
        r.ltrain = malloc(d->n_train * sizeof(int32_t));
        r.lval = malloc(r.n_val * sizeof(int32_t));
    }
    if (!r.qtrain || !r.qval || !r.qb || !r.lb || !r.grid ||
        (c.classes && (!r.ltrain || !r.lval))) {
        st = gw_fail(err, GW_ERR_NOMEM, "train pixelcnn: out of memory for the images");
        goto done;
    }
    for (size_t i = 0; i < d->n_train; i++)
        gw_pixelcnn_quantise(r.qtrain + i * r.hw, d->train + i * r.s.img, c.width, c.height);
    for (size_t i = 0; i < r.n_val; i++)
        gw_pixelcnn_quantise(r.qval + i * r.hw, d->val + i * r.s.img, c.width, c.height);
    if (c.classes && ((st = set_labels(r.ltrain, &r, 0, d->n_train, err)) ||
                      (st = set_labels(r.lval, &r, 1, r.n_val, err))))
        goto done;
    for (int k = 0; k < GRID_N; k++)
        r.grid_labels[k] = c.classes ? k % c.classes : 0;

    gw_adam_config ac = gw_adam_defaults();
    ac.lr = c.lr, ac.beta1 = c.beta1, ac.beta2 = c.beta2;
    if ((st = gw_pixelcnn_train_create(&r.t, r.m.net, r.s.Bl, err)) ||
        (st = gw_adam_create(&r.opt, r.m.net->params, &ac, err)))
        goto done;
    /* the products' precision: bf16 where the CPU has it unless f32 is
     * asked for (docs/pixelcnn.md, "Mixed precision") */
    gw_pixelcnn_train_set_bf16(r.t, gw_spec_run_precision(&r.s, o->bf16));
    if (!(intro = intro_with_classes(&r))) {
        st = gw_fail(err, GW_ERR_NOMEM, "train pixelcnn: out of memory");
        goto done;
    }

    gw_trainer_config tc;
    gw_spec_trainer_config(&tc, &r.s, c.sample_every);
    /* threads: data-parallel shards of the batch, each product on its
     * shard's thread (OpenBLAS at 1), as the WaveNet trainer does; a batch
     * share of one image trains on one thread with OpenBLAS's */
    if ((st = gw_pixelcnn_train_set_threads(r.t, tc.threads, err))) goto done;
    if (gw_pixelcnn_train_threads(r.t) > 1) tc.threads = 1;
    tc.intro = intro;
    tc.groups[0] = (gw_trainer_group){"", r.m.net->params, r.opt, NULL};
    tc.n_groups = 1;
    tc.grad_figure = 1;
    gw_trainer_hooks h = {
        .step = pcnn_step, .validate = pcnn_validate, .save = pcnn_save, .load = pcnn_load};
    st = gw_spec_run_train(&r.s, &tc, &h, res, err);
done:
    free(names);
    free(intro);
    pcnn_free(&r);
    return st;
}
