/* `genwave train gan`: the spectrogram GAN on the shared trainer loop (see
 * spec_trainer.h for the data and the outputs, docs/gan.md for the math). */
#include "models/spec_metrics.h"
#include "models/specgan.h"
#include "train/spec_trainer.h"
#include "train/trainer.h"

#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

enum { GRID_N = 16, GRID_WAVS = 2, EVAL_N = 256, DIV_N = 64 };

/* mean pairwise distance of generated images below this fraction of the real
 * data's: the generator has (nearly) collapsed onto a few modes */
#define GW_GAN_COLLAPSE_RATIO 0.3

typedef struct gan_run {
    gw_spec_run s; /* first: the checkpoint hooks take a gan_run as a gw_spec_run */
    gw_specgan *m;
    float *grid_z;             // (GRID_N, z)
    float *eval_z;             // (EVAL_N, z)
    float *gen;                // (EVAL_N, img)
    float *emb_real, *emb_gen; // (n, 2 M)
    double real_div;
    double fd_floor; /* real training clips vs held-out */
} gan_run;

static gw_status gan_step(void *ctx, uint64_t step, gw_rng *rng, double *fig, gw_error *err) {
    gan_run *r = ctx;
    gw_specgan_stats st = {0};
    gw_status s;
    for (int k = 0; k < r->m->cfg.d_steps; k++) {
        gw_spec_run_next(&r->s);
        /* this rank's share of the batch (dist.h) */
        if ((s = gw_specgan_d_step(r->m, &st, r->s.batch + (size_t)r->s.off * r->s.img, r->s.Bl,
                                   rng, err)))
            return s;
    }
    if ((s = gw_specgan_g_step(r->m, &st, err))) return s;
    fig[0] = st.d_loss, fig[1] = st.g_loss, fig[2] = st.d_real, fig[3] = st.d_fake;
    return GW_OK;
}

/* Frechet distance of n generated images to the held-out set */
static gw_status gan_fd(gan_run *r, double *fd, gw_error *err) {
    const gw_specfeat_config *c = &r->m->cfg.feat;
    gw_spec_embed(r->emb_gen, r->gen, EVAL_N, c->n_mels, c->frames);
    return gw_spec_frechet(fd, r->emb_real, r->s.data->n_val, r->emb_gen, EVAL_N, 2 * c->n_mels,
                           err);
}

static gw_status gan_validate(void *ctx, uint64_t step, double *fig, gw_error *err) {
    gan_run *r = ctx;
    gw_specgan *m = r->m;
    const gw_specfeat_config *c = &m->cfg.feat;
    char path[4400];
    gw_status st;
    mkdir(r->s.samples, 0777);
    gw_ema_swap(m->ema); /* sample from the averaged generator */
    m->G.bf16 = 0;       /* and in f32, as genwave sample and eval do */
    gw_specgan_generate(m, r->gen, r->grid_z, GRID_N);
    snprintf(path, sizeof path, "%s/step-%07llu.png", r->s.samples, (unsigned long long)step);
    st = gw_spec_write_grid(path, r->gen, GRID_N, c->n_mels, c->frames, 4, err);
    for (int k = 0; k < GRID_WAVS && !st; k++) {
        snprintf(path, sizeof path, "%s/step-%07llu-%d.wav", r->s.samples, (unsigned long long)step,
                 k);
        st = gw_spec_write_wav(path, m->feat, r->gen + (size_t)k * r->s.img, r->s.gl_iters,
                               (uint64_t)k, r->s.wav, err);
    }
    if (!st) {
        gw_specgan_generate(m, r->gen, r->eval_z, EVAL_N);
        st = gan_fd(r, &fig[0], err);
    }
    gw_ema_swap(m->ema);
    m->G.bf16 = !strcmp(r->s.precision, "bf16");
    if (st) return st;
    fig[1] = gw_spec_mean_pairwise(r->gen, DIV_N, r->s.img) / r->real_div;
    if (fig[1] < GW_GAN_COLLAPSE_RATIO && r->s.o->progress && step > 0)
        fprintf(r->s.o->progress,
                "\nwarning: step %llu: mode collapse? generated spectrograms are near-identical "
                "(mean pairwise distance %.2f of the real data's)\n",
                (unsigned long long)step, fig[1]);
    return GW_OK;
}

static gw_status gan_config(gw_specgan_config *c, const gw_spec_trainer_opts *o, gw_error *err) {
    char preset[4096];
    gw_status st = gw_train_find_preset(preset, sizeof preset, o->preset, err);
    if (st) return st;
    if ((st = gw_specgan_config_load(c, preset, err))) return st;
    gw_spec_trainer_apply(&c->common, o);
    if (o->lr > 0) c->lr_g = c->lr_d = o->lr;
    if (o->d_steps > 0) c->d_steps = o->d_steps;
    if (o->loss && (st = gw_gan_loss_parse(&c->loss, o->loss, err))) return st;
    if (o->spectral_norm >= 0)
        c->spectral_norm = o->spectral_norm;
    else if (o->loss && c->loss == GW_GAN_LOSS_HINGE)
        c->spectral_norm = 1;
    return GW_OK;
}

static void gan_free(gan_run *r) {
    gw_specgan_free(r->m);
    gw_spec_run_close(&r->s);
    free(r->grid_z), free(r->eval_z), free(r->gen), free(r->emb_real), free(r->emb_gen);
}

/* model.gwm and best.gwm: the EMA generator (and D) */
static gw_status gan_write(void *run, gw_gwm_writer *w, gw_error *err) {
    return gw_specgan_write(((gan_run *)run)->m, w, 1, err);
}

static void gan_result(const void *run, const gw_trainer_result *tr, gw_spec_trainer_result *res) {
    res->fd_first = tr->val_first[0];
    res->fd_last = tr->val_figures[0];
    res->diversity = tr->val_figures[1];
    res->fd_floor = ((const gan_run *)run)->fd_floor;
}

static const char *const figs[] = {"d_loss", "g_loss", "d_real", "d_fake"};
static const char *const vfigs[] = {"fd", "diversity"}; /* FD, lower is better */
static const gw_spec_kind gan_kind = {
    .what = "train gan",
    .figures = figs,
    .n_figures = 4,
    .val_figures = vfigs,
    .n_val_figures = 2,
    .write = gan_write,
    .metrics = {{"metric.fd_untrained", 4, GW_SPEC_METRIC_FIRST, 0},
                {"metric.fd", 4, GW_SPEC_METRIC_LAST, 0},
                {"metric.fd_floor", 4, GW_SPEC_METRIC_RUN, offsetof(gan_run, fd_floor)},
                {"metric.diversity", 4, GW_SPEC_METRIC_LAST, 1}},
    .n_metrics = 4,
    .result = gan_result,
};

gw_status gw_gan_trainer_run(const gw_spec_trainer_opts *o, gw_spec_trainer_result *res,
                             gw_error *err) {
    gan_run r = {.s.o = o, .fd_floor = NAN};
    gw_specgan_config c;
    gw_status st = gan_config(&c, o, err);
    if (st) return st;
    gw_rng init;
    gw_rng_seed(&init, o->seed ^ 0x6a09e667f3bcc908ull);
    if ((st = gw_specgan_create(&r.m, &c, c.batch, &init, err))) goto done;
    if ((st = gw_spec_run_open(&r.s, &gan_kind, o, r.m->feat, c.batch, err))) goto done;
    if ((st = gw_specgan_train_begin(r.m, err))) goto done;
    /* the products' precision (docs/gan.md, "Mixed precision") */
    r.m->G.bf16 = r.m->D.bf16 = gw_spec_run_precision(&r.s, o->bf16);
    if (gw_dist_size(o->dist) > 1) gw_specgan_set_share(r.m, r.s.off, r.s.B); /* dist.h */
    size_t Z = (size_t)c.z_dim, E = 2 * (size_t)c.feat.n_mels;
    r.grid_z = malloc(GRID_N * Z * sizeof(float));
    r.eval_z = malloc(EVAL_N * Z * sizeof(float));
    r.gen = malloc(EVAL_N * r.s.img * sizeof(float));
    r.emb_real = malloc(r.s.data->n_val * E * sizeof(float));
    r.emb_gen = malloc(EVAL_N * E * sizeof(float));
    if (!r.grid_z || !r.eval_z || !r.gen || !r.emb_real || !r.emb_gen) {
        st = gw_fail(err, GW_ERR_NOMEM, "train gan: out of memory");
        goto done;
    }
    /* fixed latents, independent of the training stream */
    gw_rng fixed;
    gw_rng_seed(&fixed, o->seed ^ 0xbb67ae8584caa73bull);
    gw_rng_fill_normal(&fixed, r.grid_z, GRID_N * Z, 0, 1);
    gw_rng_fill_normal(&fixed, r.eval_z, EVAL_N * Z, 0, 1);
    gw_spec_embed(r.emb_real, r.s.data->val, r.s.data->n_val, c.feat.n_mels, c.feat.frames);
    size_t nd = r.s.data->n_train < DIV_N ? r.s.data->n_train : DIV_N;
    r.real_div = gw_spec_mean_pairwise(r.s.data->train, nd, r.s.img);
    if (!(r.real_div > 0)) r.real_div = 1;
    if (r.s.data->n_val < 2) {
        st = gw_fail(err, GW_ERR_ARG, "%s: need at least 2 clips to measure the GAN", o->data_dir);
        goto done;
    }
    /* the floor: real training clips against the held-out ones */
    {
        size_t nt = r.s.data->n_train < EVAL_N ? r.s.data->n_train : EVAL_N;
        gw_spec_embed(r.emb_gen, r.s.data->train, nt, c.feat.n_mels, c.feat.frames);
        if (nt >= 2 && gw_spec_frechet(&r.fd_floor, r.emb_real, r.s.data->n_val, r.emb_gen, nt,
                                       (int)E, NULL) != GW_OK)
            r.fd_floor = NAN;
        if (o->progress)
            fprintf(o->progress,
                    "train gan: %zu training clips, %zu held out; Frechet distance floor "
                    "(real train vs held-out) %.3f\n",
                    r.s.data->n_train, r.s.data->n_val, r.fd_floor);
    }

    gw_trainer_config tc;
    gw_spec_trainer_config(&tc, &r.s, c.sample_every);
    tc.units_per_step = (double)r.s.B * c.d_steps;
    tc.groups[0] = (gw_trainer_group){"G.", r.m->gp, r.m->opt_g, r.m->ema};
    tc.groups[1] = (gw_trainer_group){"D.", r.m->dp, r.m->opt_d, NULL};
    tc.n_groups = 2;
    gw_trainer_hooks h = {.step = gan_step, .validate = gan_validate};
    st = gw_spec_run_train(&r.s, &tc, &h, res, err);
done:
    gan_free(&r);
    return st;
}
