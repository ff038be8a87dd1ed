/* `genwave train vae`: the spectrogram VAE on the shared trainer loop (see
 * spec_trainer.h for the data and the outputs, docs/vae.md for the math). */
#include "models/specvae.h"
#include "train/spec_trainer.h"
#include "train/trainer.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

enum { RECON_N = 8, VAL_MAX = 512 };

typedef struct vae_run {
    gw_spec_run s; /* first: the checkpoint hooks take a vae_run as a gw_spec_run */
    gw_specvae *m;
    size_t n_val;
    float *grid;    // (2 RECON_N, img) inputs then reconstructions, interleaved by rows
    float *mu, *lv; // (RECON_N, z)
    float *kl_dim;  // (z)
} vae_run;

static gw_status vae_step(void *ctx, uint64_t step, gw_rng *rng, double *fig, gw_error *err) {
    vae_run *r = ctx;
    gw_spec_run_next(&r->s);
    gw_specvae_stats st;
    float beta = gw_specvae_beta_at(&r->m->cfg, (long)step);
    /* this rank's share of the batch (dist.h) */
    gw_status s = gw_specvae_train_step(r->m, &st, r->s.batch + (size_t)r->s.off * r->s.img,
                                        r->s.Bl, beta, rng, err);
    if (s) return s;
    fig[0] = st.loss, fig[1] = st.recon, fig[2] = st.kl, fig[3] = st.beta, fig[4] = st.active;
    return GW_OK;
}

/* input (rows 0, 2) above reconstruction from the posterior mean (rows 1, 3) */
static gw_status vae_recon_grid(vae_run *r, const char *png, const char *wav, gw_error *err) {
    gw_specvae *m = r->m;
    const gw_specfeat_config *c = &m->cfg.feat;
    int n = r->n_val < RECON_N ? (int)r->n_val : RECON_N, cols = 4;
    float *rec = r->grid + (size_t)RECON_N * r->s.img; /* second half as scratch */
    gw_specvae_encode(m, r->mu, r->lv, r->s.data->val, n);
    gw_specvae_decode(m, rec, r->mu, n);
    float *tiles = malloc((size_t)2 * RECON_N * r->s.img * sizeof(float));
    if (!tiles) return gw_fail(err, GW_ERR_NOMEM, "%s: out of memory", png);
    int t = 0;
    for (int row = 0; row < (n + cols - 1) / cols; row++) {
        for (int k = row * cols; k < (row + 1) * cols; k++)
            memcpy(tiles + (size_t)t++ * r->s.img,
                   r->s.data->val + (size_t)(k < n ? k : n - 1) * r->s.img,
                   r->s.img * sizeof(float));
        for (int k = row * cols; k < (row + 1) * cols; k++)
            memcpy(tiles + (size_t)t++ * r->s.img, rec + (size_t)(k < n ? k : n - 1) * r->s.img,
                   r->s.img * sizeof(float));
    }
    gw_status st = gw_spec_write_grid(png, tiles, t, c->n_mels, c->frames, cols, err);
    free(tiles);
    if (!st && wav) st = gw_spec_write_wav(wav, m->feat, rec, r->s.gl_iters, 0, r->s.wav, err);
    return st;
}

/* the figures of ev, the reconstruction grid and the KL per dim */
static gw_status vae_validate_rest(vae_run *r, uint64_t step, double *fig,
                                   const gw_specvae_eval *ev, gw_error *err) {
    gw_status st;
    fig[0] = ev->elbo, fig[1] = ev->elbo_per_dim, fig[2] = ev->kl, fig[3] = ev->active,
    fig[4] = ev->lsd_db;
    mkdir(r->s.samples, 0777);
    char png[4400], wav[4400], csv[4400];
    snprintf(png, sizeof png, "%s/recon-%07llu.png", r->s.samples, (unsigned long long)step);
    snprintf(wav, sizeof wav, "%s/recon-%07llu.wav", r->s.samples, (unsigned long long)step);
    if ((st = vae_recon_grid(r, png, wav, err))) return st;
    /* KL of every latent dim, so posterior collapse is visible per dim */
    snprintf(csv, sizeof csv, "%s/kl_per_dim.csv", r->s.samples);
    FILE *fp = fopen(csv, step == 0 ? "w" : "a");
    if (!fp) return gw_fail(err, GW_ERR_IO, "%s: cannot write", csv);
    if (step == 0) {
        fprintf(fp, "step");
        for (int j = 0; j < r->m->cfg.z_dim; j++)
            fprintf(fp, ",kl_%d", j);
        fprintf(fp, "\n");
    }
    fprintf(fp, "%llu", (unsigned long long)step);
    for (int j = 0; j < r->m->cfg.z_dim; j++)
        fprintf(fp, ",%.5f", r->kl_dim[j]);
    fprintf(fp, "\n");
    if (fclose(fp) != 0) return gw_fail(err, GW_ERR_IO, "%s: write failed", csv);
    if (r->s.o->progress && step > 0) {
        fprintf(r->s.o->progress, "\nKL per latent dim (nats):");
        for (int j = 0; j < r->m->cfg.z_dim; j++)
            fprintf(r->s.o->progress, " %.2f", r->kl_dim[j]);
        fprintf(r->s.o->progress, "\n");
    }
    return GW_OK;
}

static gw_status vae_validate(void *ctx, uint64_t step, double *fig, gw_error *err) {
    vae_run *r = ctx;
    gw_specvae_eval ev;
    /* in f32, as genwave eval measures the model */
    r->m->enc.bf16 = r->m->dec.bf16 = 0;
    gw_status st = gw_specvae_evaluate(r->m, &ev, r->kl_dim, r->s.data->val, r->n_val, 12345, err);
    if (!st) st = vae_validate_rest(r, step, fig, &ev, err);
    r->m->enc.bf16 = r->m->dec.bf16 = !strcmp(r->s.precision, "bf16");
    return st;
}

static gw_status vae_config(gw_specvae_config *c, const gw_spec_trainer_opts *o, gw_error *err) {
    char preset[4096];
    gw_status st = gw_train_find_preset(preset, sizeof preset, o->preset, err);
    if (st) return st;
    if ((st = gw_specvae_config_load(c, preset, err))) return st;
    gw_spec_trainer_apply(&c->common, o);
    if (o->beta >= 0) c->beta = o->beta;
    if (o->kl_warmup >= 0) c->kl_warmup = o->kl_warmup;
    if (o->free_bits >= 0) c->free_bits = o->free_bits;
    return GW_OK;
}

/* model.gwm and best.gwm */
static gw_status vae_write(void *run, gw_gwm_writer *w, gw_error *err) {
    return gw_specvae_write(((vae_run *)run)->m, w, err);
}

static void vae_result(const void *run, const gw_trainer_result *tr, gw_spec_trainer_result *res) {
    res->elbo_first = tr->val_first[0];
    res->elbo_last = tr->val_figures[0];
    res->active = (int)tr->val_figures[3];
}

static const char *const figs[] = {"loss", "recon", "kl", "beta", "active"};
static const char *const vfigs[] = {"val_elbo", "val_elbo_dim", "val_kl", "val_active",
                                    "val_lsd_db"};
static const gw_spec_kind vae_kind = {
    .what = "train vae",
    .figures = figs,
    .n_figures = 5,
    .val_figures = vfigs,
    .n_val_figures = 5,
    .best_higher = 1, /* ELBO */
    .write = vae_write,
    .metrics = {{"metric.elbo_untrained", 3, GW_SPEC_METRIC_FIRST, 0},
                {"metric.elbo", 3, GW_SPEC_METRIC_LAST, 0},
                {"metric.active_dims", 0, GW_SPEC_METRIC_LAST, 3},
                {"metric.lsd_db", 3, GW_SPEC_METRIC_LAST, 4}},
    .n_metrics = 4,
    .result = vae_result,
};

gw_status gw_vae_trainer_run(const gw_spec_trainer_opts *o, gw_spec_trainer_result *res,
                             gw_error *err) {
    vae_run r = {.s.o = o};
    gw_specvae_config c;
    gw_status st = vae_config(&c, o, err);
    if (st) return st;
    gw_rng init;
    gw_rng_seed(&init, o->seed ^ 0x6a09e667f3bcc908ull);
    if ((st = gw_specvae_create(&r.m, &c, c.batch, &init, err))) goto done;
    if ((st = gw_spec_run_open(&r.s, &vae_kind, o, r.m->feat, c.batch, err))) goto done;
    if ((st = gw_specvae_train_begin(r.m, err))) goto done;
    /* the products' precision (docs/vae.md, "Mixed precision") */
    r.m->enc.bf16 = r.m->dec.bf16 = gw_spec_run_precision(&r.s, o->bf16);
    if (gw_dist_size(o->dist) > 1) gw_specvae_set_share(r.m, r.s.off, r.s.B); /* dist.h */
    /* a fixed held-out subset keeps validation time bounded */
    r.n_val = r.s.data->n_val < VAL_MAX ? r.s.data->n_val : VAL_MAX;
    r.grid = malloc((size_t)2 * RECON_N * r.s.img * sizeof(float));
    r.mu = malloc((size_t)RECON_N * c.z_dim * sizeof(float));
    r.lv = malloc((size_t)RECON_N * c.z_dim * sizeof(float));
    r.kl_dim = malloc((size_t)c.z_dim * sizeof(float));
    if (!r.grid || !r.mu || !r.lv || !r.kl_dim) {
        st = gw_fail(err, GW_ERR_NOMEM, "train vae: out of memory");
        goto done;
    }
    gw_trainer_config tc;
    gw_spec_trainer_config(&tc, &r.s, c.sample_every);
    tc.groups[0] = (gw_trainer_group){"", r.m->p, r.m->opt, NULL};
    tc.n_groups = 1;
    gw_trainer_hooks h = {.step = vae_step, .validate = vae_validate};
    st = gw_spec_run_train(&r.s, &tc, &h, res, err);
done:
    gw_specvae_free(r.m);
    gw_spec_run_close(&r.s);
    free(r.grid), free(r.mu), free(r.lv), free(r.kl_dim);
    return st;
}
