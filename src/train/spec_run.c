/* One training run of a spectrogram model, whatever its kind: the data and
 * its batch order, the shared loop's config, the loop, model.gwm and
 * best.gwm, the result (see spec_trainer.h). Each kind's trainer
 * (gan_trainer.c, vae_trainer.c, pixelcnn_trainer.c) adds its networks,
 * its step and validation and its figures. */
#include "train/spec_trainer.h"

#include "train/trainer.h"
#include "nn/im2col.h"

#include <stdlib.h>
#include <string.h>

void gw_spec_trainer_opts_default(gw_spec_trainer_opts *o) {
    memset(o, 0, sizeof *o);
    o->seed = 1;
    o->d_steps = -1;
    o->spectral_norm = -1;
    o->beta = -1;
    o->kl_warmup = -1;
    o->free_bits = -1;
    o->bf16 = -1;
}

void gw_spec_trainer_apply(gw_spec_common *c, const gw_spec_trainer_opts *o) {
    if (o->batch > 0) c->batch = o->batch;
    if (o->lr > 0) c->lr = o->lr;
    if (o->sample_every > 0) c->sample_every = o->sample_every;
}

gw_status gw_spec_run_open(gw_spec_run *r, const gw_spec_kind *kind, const gw_spec_trainer_opts *o,
                           gw_specfeat *feat, int B, gw_error *err) {
    memset(r, 0, sizeof *r);
    r->kind = kind;
    r->o = o;
    gw_status st;
    if ((st = gw_spec_data_load(&r->data, o->data_dir, o->cache_dir, feat, 1, o->seed, err)) ||
        (st = gw_spec_batcher_create(&r->batcher, r->data, o->seed, err)))
        return st;
    FILE *im = open_memstream(&r->intro, &r->intro_n);
    if (im) gw_dataset_report_brief(r->data->ds->report, im, kind->what), fclose(im);
    r->B = B;
    const int ranks = gw_dist_size(o->dist);
    if (B % ranks)
        return gw_fail(err, GW_ERR_ARG,
                       "%s: a batch of %d does not split over %d ranks; give a batch that is a "
                       "multiple of %d (--batch)",
                       kind->what, B, ranks, ranks);
    r->Bl = B / ranks, r->off = gw_dist_rank(o->dist) * r->Bl;
    r->img = r->data->img;
    r->gl_iters = o->gl_iters > 0 ? o->gl_iters : 32;
    snprintf(r->samples, sizeof r->samples, "%s/samples", o->out_dir);
    r->batch = malloc((size_t)B * r->img * sizeof(float));
    r->idx = malloc((size_t)B * sizeof(size_t));
    r->wav = malloc((size_t)gw_specfeat_cfg(feat)->clip_samples * sizeof(float));
    if (!r->batch || !r->idx || !r->wav)
        return gw_fail(err, GW_ERR_NOMEM, "%s: out of memory", kind->what);
    return GW_OK;
}

int gw_spec_run_precision(gw_spec_run *r, int asked) {
    const int bf16 = asked != 0 && gw_conv_bf16_ok();
    r->precision = bf16 ? "bf16" : "f32";
    char *s = NULL, cpu[96];
    size_t n = 0;
    FILE *fp = open_memstream(&s, &n);
    if (!fp) return bf16;
    fputs(r->intro ? r->intro : "", fp);
    gw_cpu_model(cpu, sizeof cpu);
    if (bf16)
        fprintf(fp, "precision: bf16 products, f32 sums (%s has AVX512_BF16%s)\n", cpu,
                asked < 0 ? "; --precision f32 for f32" : "");
    else if (asked > 0)
        fprintf(fp, "precision: f32: %s has no AVX512_BF16 for --precision bf16\n", cpu);
    else
        fprintf(fp, "precision: f32\n");
    fclose(fp);
    free(r->intro);
    r->intro = s, r->intro_n = n;
    return bf16;
}

void gw_spec_run_close(gw_spec_run *r) {
    gw_spec_data_free(r->data);
    gw_batcher_free(r->batcher);
    free(r->batch), free(r->idx), free(r->wav), free(r->intro);
    memset(r, 0, sizeof *r);
}

void gw_spec_run_next(gw_spec_run *r) {
    gw_batcher_next(r->batcher, r->idx, (size_t)r->B);
    for (int i = 0; i < r->B; i++)
        memcpy(r->batch + (size_t)i * r->img, r->data->train + r->idx[i] * r->img,
               r->img * sizeof(float));
}

gw_status gw_spec_run_save(void *ctx, gw_gwm_writer *w, gw_error *err) {
    return gw_spec_batcher_save(((gw_spec_run *)ctx)->batcher, w, err);
}

gw_status gw_spec_run_load(void *ctx, const gw_gwm *f, gw_error *err) {
    return gw_spec_batcher_load(((gw_spec_run *)ctx)->batcher, f, err);
}

void gw_spec_trainer_config(gw_trainer_config *tc, const gw_spec_run *r, int sample_every) {
    const gw_spec_trainer_opts *o = r->o;
    const gw_spec_kind *k = r->kind;
    *tc = gw_trainer_defaults();
    tc->run_dir = o->out_dir;
    /* --minutes alone is the stop the user asked for: no hidden step cap
     * (2000 steps of a -tiny preset take half a minute) */
    tc->max_steps = o->steps > 0 ? (uint64_t)o->steps : o->minutes > 0 ? (uint64_t)1 << 40 : 2000;
    tc->max_minutes = o->minutes;
    tc->seed = o->seed;
    tc->threads = o->threads > 0 ? o->threads : 1;
    tc->resume = o->resume;
    tc->overwrite = o->overwrite;
    tc->val_every = (uint64_t)sample_every;
    tc->val_at_start = 1;
    tc->checkpoint_every = (uint64_t)(o->checkpoint_every > 0 ? o->checkpoint_every : 500);
    tc->early_stop = o->early_stop;
    tc->val_minutes = 2.0; /* a figure at least every 2 minutes */
    tc->progress = o->progress;
    tc->intro = r->intro;
    tc->units = "examples";
    tc->units_per_step = (double)r->B;
    tc->figure_names = k->figures;
    tc->n_figures = k->n_figures;
    tc->val_figure_names = k->val_figures;
    tc->n_val_figures = k->n_val_figures;
    tc->best_figure = 0;
    tc->best_higher = k->best_higher;
    /* every rank must train the same model on the same images (dist.h) */
    tc->dist = o->dist;
    const char *cmd = o->command_line ? o->command_line : "";
    tc->agree[0] = gw_hash64(gw_train_hash_file(o->preset), cmd, strlen(cmd));
    tc->agree_what[0] = "preset file or command line";
    const gw_spec_data *d = r->data;
    uint64_t h = gw_hash64(GW_HASH_INIT, d->train, d->n_train * d->img * sizeof *d->train);
    tc->agree[1] = gw_hash64(h, d->val, d->n_val * d->img * sizeof *d->val);
    tc->agree_what[1] = "training data";
    tc->n_agree = 2;
}

gw_status gw_spec_write_provenance(gw_gwm_writer *w, const gw_spec_trainer_opts *o, uint64_t steps,
                                   gw_error *err) {
    char commit[128];
    gw_train_git_commit(commit, sizeof commit);
    gw_status st;
    if ((st =
             gw_gwm_writer_meta(w, "train.command", o->command_line ? o->command_line : "", err)) ||
        (st = gw_gwm_writer_meta(w, "train.data", o->data_dir, err)) ||
        (st = gw_gwm_writer_metaf(w, err, "train.seed", "%llu", (unsigned long long)o->seed)) ||
        (st = gw_gwm_writer_metaf(w, err, "train.steps", "%llu", (unsigned long long)steps)))
        return st;
    return gw_gwm_writer_meta(w, "train.commit", commit, err);
}

static double metric_value(const gw_spec_run *r, const gw_spec_metric *m,
                           const gw_trainer_result *tr) {
    switch (m->from) {
    case GW_SPEC_METRIC_FIRST:
        return tr->val_first[m->at];
    case GW_SPEC_METRIC_RUN:
        return *(const double *)((const char *)r + m->at);
    case GW_SPEC_METRIC_LAST:
        break;
    }
    return tr->val_figures[m->at];
}

/* the model as it is now, the provenance and the metrics of tr into path */
static gw_status write_model(gw_spec_run *r, const gw_trainer_result *tr, const char *path,
                             gw_error *err) {
    const gw_spec_kind *k = r->kind;
    gw_gwm_writer *w = NULL;
    gw_status st = gw_gwm_writer_create(&w, err);
    if (st) return st;
    if (!(st = k->write(r, w, err))) st = gw_spec_write_provenance(w, r->o, tr->steps, err);
    if (!st && r->precision) st = gw_gwm_writer_meta(w, "train.precision", r->precision, err);
    for (int i = 0; i < k->n_metrics && !st; i++)
        st = gw_gwm_writer_metaf(w, err, k->metrics[i].key, "%.*f", k->metrics[i].decimals,
                                 metric_value(r, &k->metrics[i], tr));
    if (!st) st = gw_gwm_writer_commit(w, path, err);
    gw_gwm_writer_free(w);
    return st;
}

/* RUNDIR/best.gwm: the model at its best held-out figure */
static gw_status save_best(void *ctx, const char *path, const gw_trainer_result *so_far,
                           gw_error *err) {
    return write_model(ctx, so_far, path, err);
}

gw_status gw_spec_run_train(gw_spec_run *r, const gw_trainer_config *tc,
                            const gw_trainer_hooks *hooks, gw_spec_trainer_result *res,
                            gw_error *err) {
    gw_trainer_hooks h = *hooks;
    h.ctx = r;
    if (!h.save) h.save = gw_spec_run_save;
    if (!h.load) h.load = gw_spec_run_load;
    h.save_best = save_best;
    gw_trainer_result tr;
    gw_status st = gw_trainer_run(tc, &h, &tr, err);
    if (st && st != GW_ERR_INTERRUPTED) return st;
    gw_error e2;
    char mpath[4200];
    snprintf(mpath, sizeof mpath, "%s/model.gwm", r->o->out_dir);
    gw_status s2 = gw_dist_rank(r->o->dist) ? GW_OK : write_model(r, &tr, mpath, st ? &e2 : err);
    if (!st) st = s2;
    if (res) {
        memset(res, 0, sizeof *res);
        res->steps = (long)tr.steps;
        res->examples_per_s = tr.units_per_second;
        snprintf(res->model_path, sizeof res->model_path, "%s", mpath);
        res->best = tr.best_value, res->best_step = (long)tr.best_step;
        snprintf(res->best_path, sizeof res->best_path, "%s", tr.best_path);
        res->warnings = tr.warnings, res->early_stopped = tr.stop == GW_TRAINER_STOP_EARLY;
        r->kind->result(r, &tr, res);
    }
    return st;
}
