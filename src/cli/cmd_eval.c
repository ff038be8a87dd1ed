/* genwave eval MODEL.gwm --data DIR: measure a spectrogram model on a folder
 * of sounds, without pretrained networks (docs/gan.md, docs/vae.md).
 * The folder is split exactly as training split it (the seed recorded in the
 * model, train.seed), so "held-out" means clips the model never saw.
 *   GAN: Frechet distance between Gaussian fits of clip embeddings (per-band
 *        mean and std of the normalised log-mel) of generated vs held-out
 *        clips, beside the floor (real training vs held-out clips) and the
 *        ceiling (an untrained generator); nearest-neighbour distances
 *        generated -> training (memorisation when near 0) and generated ->
 *        generated (diversity), with held-out -> training as the real
 *        reference.
 *   VAE: held-out ELBO in nats per clip and per dimension, reconstruction
 *        log-spectral distance in dB, active latent dims; the same for an
 *        untrained model of the same shape. */
#include "cli/spec_cli.h"

#include "models/spec_metrics.h"
#include "train/spec_trainer.h"

#include <stdlib.h>
#include <string.h>

static void usage(FILE *f) {
    fprintf(f, "usage: genwave eval MODEL.gwm --data DIR [-n N] [--seed S] [--split-seed S]\n"
               "  -n N            generated clips for the GAN figures (default 256)\n"
               "  --seed S        seed of the latents / posterior samples (default 1)\n"
               "  --split-seed S  train/held-out split (default: the model's train.seed)\n");
}

static int eval_gan(gw_spec_model *m, const gw_spec_data *d, int n, uint64_t seed) {
    int rc = 1, Z = m->z_dim, E = 2 * m->M;
    size_t nt = d->n_train < (size_t)n ? d->n_train : (size_t)n;
    float *z = malloc((size_t)n * Z * sizeof(float)),
          *gen = malloc((size_t)n * m->img * sizeof(float));
    float *eg = malloc((size_t)n * E * sizeof(float)), *ev = malloc(d->n_val * E * sizeof(float));
    float *et = malloc(nt * E * sizeof(float));
    gw_specgan *untrained = NULL;
    gw_error err = {0};
    if (!z || !gen || !eg || !ev || !et) {
        fprintf(stderr, "genwave: out of memory\n");
        goto done;
    }
    double fd, fd_floor, fd_ceil;
    gw_rng rng;
    gw_rng_seed(&rng, seed);
    gw_specgan_sample_z(z, (size_t)n * Z, 0, &rng);
    gw_spec_embed(ev, d->val, d->n_val, m->M, m->T);
    gw_spec_embed(et, d->train, nt, m->M, m->T);
    if (gw_spec_frechet(&fd_floor, et, nt, ev, d->n_val, E, &err)) goto fail;
    /* the ceiling: the same architecture, freshly initialised */
    gw_rng init;
    gw_rng_seed(&init, seed);
    if (gw_specgan_create(&untrained, &m->gan->cfg, 64, &init, &err)) goto fail;
    gw_specgan_generate(untrained, gen, z, n);
    gw_spec_embed(eg, gen, (size_t)n, m->M, m->T);
    if (gw_spec_frechet(&fd_ceil, eg, (size_t)n, ev, d->n_val, E, &err)) goto fail;
    gw_specgan_generate(m->gan, gen, z, n);
    gw_spec_embed(eg, gen, (size_t)n, m->M, m->T);
    if (gw_spec_frechet(&fd, eg, (size_t)n, ev, d->n_val, E, &err)) goto fail;
    double nn_train = gw_spec_mean_nn(gen, (size_t)n, d->train, d->n_train, m->img);
    double nn_gen = gw_spec_mean_nn(gen, (size_t)n, gen, (size_t)n, m->img);
    double nn_real = gw_spec_mean_nn(d->val, d->n_val, d->train, d->n_train, m->img);
    printf("clips: %zu training, %zu held out%s; %d generated\n", d->n_train,
           d->val_is_train ? d->n_train : d->n_val,
           d->val_is_train ? " (under 2 held out: using training clips)" : "", n);
    printf("Frechet distance (embedding: per-band mean and std of the normalised log-mel, %d "
           "values)\n",
           E);
    printf("  generated vs held-out          %10.4f\n", fd);
    printf("  floor: training vs held-out    %10.4f\n", fd_floor);
    printf("  ceiling: untrained generator   %10.4f\n", fd_ceil);
    printf("nearest-neighbour distance (RMS per pixel of the normalised log-mel)\n");
    printf("  generated -> training          %10.4f  (near 0: memorised)\n", nn_train);
    printf("  generated -> generated         %10.4f  (near 0: collapsed)\n", nn_gen);
    printf("  held-out -> training (real)    %10.4f\n", nn_real);
    rc = 0;
    goto done;
fail:
    rc = gw_cli_error(&err);
done:
    gw_specgan_free(untrained);
    free(z), free(gen), free(eg), free(ev), free(et);
    return rc;
}

static void print_vae(const char *what, const gw_specvae_eval *e, int D, int Z) {
    printf("%-10s ELBO %10.2f nats/clip %8.4f nats/dim (D = %d)  LSD %6.2f dB  active dims "
           "%d/%d\n",
           what, e->elbo, e->elbo_per_dim, D, e->lsd_db, e->active, Z);
}

static int eval_vae(gw_spec_model *m, const gw_spec_data *d, uint64_t seed) {
    gw_error err = {0};
    gw_specvae_eval e, u;
    gw_specvae *untrained = NULL;
    gw_rng init;
    gw_rng_seed(&init, seed);
    if (gw_specvae_evaluate(m->vae, &e, NULL, d->val, d->n_val, seed, &err) ||
        gw_specvae_create(&untrained, &m->vae->cfg, 64, &init, &err)) {
        gw_specvae_free(untrained);
        return gw_cli_error(&err);
    }
    /* the untrained model shares the trained one's feature statistics */
    memcpy(gw_specfeat_mean(untrained->feat), gw_specfeat_mean(m->feat),
           (size_t)m->M * sizeof(float));
    memcpy(gw_specfeat_std(untrained->feat), gw_specfeat_std(m->feat),
           (size_t)m->M * sizeof(float));
    gw_status st = gw_specvae_evaluate(untrained, &u, NULL, d->val, d->n_val, seed, &err);
    gw_specvae_free(untrained);
    if (st) return gw_cli_error(&err);
    printf("clips: %zu held out%s\n", d->val_is_train ? d->n_train : d->n_val,
           d->val_is_train ? " (under 2 held out: using training clips)" : "");
    print_vae("model", &e, (int)m->img, m->z_dim);
    print_vae("untrained", &u, (int)m->img, m->z_dim);
    return 0;
}

int gw_cmd_eval(int argc, char **argv) {
    const char *model = NULL, *data = NULL;
    long n = 256, seed = 1, split = -1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(a, "--data") && v) {
            data = v, i++;
        } else if (!strcmp(a, "-n") && v) {
            if (!gw_cli_int(v, 2, 100000, &n)) goto bad;
            i++;
        } else if (!strcmp(a, "--seed") && v) {
            if (!gw_cli_int(v, 0, 0x7fffffffL, &seed)) goto bad;
            i++;
        } else if (!strcmp(a, "--split-seed") && v) {
            if (!gw_cli_int(v, 0, 0x7fffffffL, &split)) goto bad;
            i++;
        } else if (a[0] != '-' && !model) {
            model = a;
        } else {
            return gw_cli_unexpected("eval", a, usage);
        }
        continue;
    bad:
        return gw_cli_bad_value("eval", a, v);
    }
    if (!model || !data) {
        usage(stderr);
        return 2;
    }
    gw_spec_model m;
    if (gw_spec_model_open(&m, model, 64)) return 1;
    if (split < 0) {
        const char *s = gw_gwm_meta(m.file, "train.seed");
        split = 1;
        if (s && !gw_cli_int(s, 0, 0x7fffffffL, &split)) split = 1;
    }
    gw_spec_data *d = NULL;
    char cache[4200];
    gw_error err = {0};
    int rc;
    if (gw_spec_data_load(&d, data, gw_cache_path(cache, sizeof cache, data), m.feat, 0,
                          (uint64_t)split, &err)) {
        rc = gw_cli_error(&err);
    } else if (m.gan && d->n_val < 2) {
        fprintf(stderr, "genwave: %s: need at least 2 held-out clips\n", data);
        rc = 1;
    } else {
        rc = m.gan ? eval_gan(&m, d, (int)n, (uint64_t)seed) : eval_vae(&m, d, (uint64_t)seed);
    }
    gw_spec_data_free(d);
    gw_spec_model_close(&m);
    return rc;
}
