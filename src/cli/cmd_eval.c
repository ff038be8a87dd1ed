/* genwave eval MODEL.gwm --data DIR: measure a spectrogram model on a folder
 * of sounds, without pretrained networks (docs/gan.md, docs/vae.md,
 * docs/pixelcnn.md).
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
 *        log-spectral distance in dB, active latent dims; the ELBO as a
 *        bound in bits per dimension on the PixelCNN's 256-level pixels
 *        (gw_specvae_discrete_bits, with the decoder's variance and with
 *        one fitted on the training clips); the GAN's figures for clips
 *        decoded from the prior; all also for an untrained model.
 *   PixelCNN: held-out bits per dimension (the exact likelihood of the
 *        quantised images), and the GAN's figures for its samples, each
 *        generated clip taking the class of a held-out clip in turn; both
 *        also for an untrained model of the same shape.
 *   WaveNet: held-out bits per sample (per band value for a band model),
 *        teacher-forced, on the trainer's own validation windows (so the
 *        figure the training log ends with), or with --all on every clip of
 *        a folder the model never saw (new velocities, another soundfont). */
#include "cli/spec_cli.h"

#include "models/spec_metrics.h"
#include "models/wavenet_file.h"
#include "train/spec_trainer.h"
#include "train/wavenet_trainer.h"

#include <stdlib.h>
#include <string.h>

#include <time.h>

static void usage(FILE *f) {
    fprintf(f,
            "usage: genwave eval MODEL.gwm --data DIR [-n N] [--seed S] [--split-seed S] [--all]\n"
            "  -n N            generated clips for the Frechet and nearest-neighbour\n"
            "                  figures (default 256 GAN and VAE, 64 PixelCNN); WaveNet:\n"
            "                  batches of held-out windows (default 4, as training)\n"
            "  --seed S        seed of the latents / posterior samples (default 1);\n"
            "                  WaveNet: of the windows (default: the split seed)\n"
            "  --split-seed S  train/held-out split (default: the model's train.seed)\n"
            "  --all           WaveNet: every clip of DIR, not its held-out side (a\n"
            "                  folder the model never saw)\n");
}

/* The figures of n generated images gen (n, M, T) against d: Frechet
 * distance to the held-out clips beside the floor (training clips) and the
 * ceiling (untrained (n), an untrained model's images), nearest-neighbour
 * distances. Prints them, or the error. */
static int report_generated(const gw_spec_data *d, const float *gen, const float *untrained, int n,
                            int M, int T, const char *what) {
    const int E = 2 * M;
    const size_t img = (size_t)M * T, nt = d->n_train < (size_t)n ? d->n_train : (size_t)n;
    float *eg = malloc((size_t)n * E * sizeof(float)), *ev = malloc(d->n_val * E * sizeof(float));
    float *et = malloc(nt * E * sizeof(float));
    gw_error err = {0};
    int rc = 1;
    if (!eg || !ev || !et) {
        fprintf(stderr, "genwave: out of memory\n");
        goto done;
    }
    double fd, fd_floor, fd_ceil;
    gw_spec_embed(ev, d->val, d->n_val, M, T);
    /* the floor from as many training clips as generated ones, spread over
     * the set (it is sorted by file name: the first ones are of one kind) */
    for (size_t i = 0; i < nt; i++)
        gw_spec_embed(et + i * E, d->train + i * d->n_train / nt * img, 1, M, T);
    gw_spec_embed(eg, untrained, (size_t)n, M, T);
    if (gw_spec_frechet(&fd_floor, et, nt, ev, d->n_val, E, &err) ||
        gw_spec_frechet(&fd_ceil, eg, (size_t)n, ev, d->n_val, E, &err)) {
        rc = gw_cli_error(&err);
        goto done;
    }
    gw_spec_embed(eg, gen, (size_t)n, M, T);
    if (gw_spec_frechet(&fd, eg, (size_t)n, ev, d->n_val, E, &err)) {
        rc = gw_cli_error(&err);
        goto done;
    }
    double nn_train = gw_spec_mean_nn(gen, (size_t)n, d->train, d->n_train, img);
    double nn_gen = gw_spec_mean_nn(gen, (size_t)n, gen, (size_t)n, img);
    double nn_real = gw_spec_mean_nn(d->val, d->n_val, d->train, d->n_train, img);
    printf("Frechet distance (embedding: per-band mean and std of the normalised log-mel, %d "
           "values)\n",
           E);
    printf("  generated vs held-out          %10.4f\n", fd);
    printf("  floor: training vs held-out    %10.4f\n", fd_floor);
    printf("  ceiling: untrained %-11s %10.4f\n", what, fd_ceil);
    printf("nearest-neighbour distance (RMS per pixel of the normalised log-mel)\n");
    printf("  generated -> training          %10.4f  (near 0: memorised)\n", nn_train);
    printf("  generated -> generated         %10.4f  (near 0: collapsed)\n", nn_gen);
    printf("  held-out -> training (real)    %10.4f\n", nn_real);
    rc = 0;
done:
    free(eg), free(ev), free(et);
    return rc;
}

static void print_clips(const gw_spec_data *d, int n) {
    printf("clips: %zu training, %zu held out%s; %d generated\n", d->n_train,
           d->val_is_train ? d->n_train : d->n_val,
           d->val_is_train ? " (under 2 held out: using training clips)" : "", n);
}

static double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int eval_gan(gw_spec_model *m, const gw_spec_data *d, int n, uint64_t seed) {
    int rc = 1, Z = m->z_dim;
    float *z = malloc((size_t)n * Z * sizeof(float)),
          *gen = malloc((size_t)n * m->img * sizeof(float)),
          *ceil = malloc((size_t)n * m->img * sizeof(float));
    gw_specgan *untrained = NULL;
    gw_error err = {0};
    if (!z || !gen || !ceil) {
        fprintf(stderr, "genwave: out of memory\n");
        goto done;
    }
    gw_rng rng;
    gw_rng_seed(&rng, seed);
    gw_specgan_sample_z(z, (size_t)n * Z, 0, &rng);
    /* the ceiling: the same architecture, freshly initialised */
    gw_rng init;
    gw_rng_seed(&init, seed);
    if (gw_specgan_create(&untrained, &m->gan->cfg, 64, &init, &err)) {
        rc = gw_cli_error(&err);
        goto done;
    }
    gw_specgan_generate(untrained, ceil, z, n);
    const double t0 = now_seconds();
    gw_specgan_generate(m->gan, gen, z, n);
    const double per = (now_seconds() - t0) / n;
    print_clips(d, n);
    printf("sampling (generator at z from the prior): %.5f s per clip\n", per);
    rc = report_generated(d, gen, ceil, n, m->M, m->T, "generator");
done:
    gw_specgan_free(untrained);
    free(z), free(gen), free(ceil);
    return rc;
}

/* bits/dim of the held-out images q (nv, H, W) under net (arena batch 16) */
static gw_status pixelcnn_bits(double *bits, gw_pixelcnn *net, const uint8_t *q,
                               const int32_t *labels, size_t nv, gw_error *err) {
    gw_pixelcnn_train *t = NULL;
    gw_status st = gw_pixelcnn_train_create(&t, net, nv < 16 ? (int)nv : 16, err);
    if (!st) st = gw_pixelcnn_bits_per_dim(bits, NULL, t, q, labels, nv, err);
    gw_pixelcnn_train_free(t);
    return st;
}

static int eval_pixelcnn(gw_pixelcnn_model *m, const gw_spec_data *d, int n, uint64_t seed,
                         const char *path) {
    const gw_pixelcnn_config *c = &m->net->cfg;
    const int M = c->width, T = c->height;
    const size_t img = (size_t)M * T, nv = d->n_val;
    uint8_t *q = malloc(nv * img);
    int32_t *lv = calloc(nv, sizeof(int32_t)), *lg = calloc((size_t)n, sizeof(int32_t));
    float *gen = malloc((size_t)n * img * sizeof(float)),
          *ceil = malloc((size_t)n * img * sizeof(float));
    gw_pixelcnn *untrained = NULL;
    gw_error err = {0};
    int rc = 1;
    if (!q || !lv || !lg || !gen || !ceil) {
        fprintf(stderr, "genwave: out of memory\n");
        goto done;
    }
    for (size_t i = 0; i < nv; i++) {
        gw_pixelcnn_quantise(q + i * img, d->val + i * img, M, T);
        if (!c->classes) continue;
        char name[256], list[2048];
        const char *file = gw_spec_data_file(d, 1, i)->rel;
        gw_spec_class_of(name, sizeof name, gw_spec_data_file(d, 1, i));
        if ((lv[i] = gw_pixelcnn_model_class(m, name)) < 0) {
            fprintf(stderr, "genwave: %s/%s: class '%s' is not one %s knows (%s)\n",
                    d->ds->report->root, file, name, path,
                    gw_pixelcnn_model_class_list(m, list, sizeof list));
            goto done;
        }
    }
    /* each generated clip takes a held-out clip's class in turn */
    for (int k = 0; k < n; k++)
        lg[k] = lv[(size_t)k % nv];
    const int32_t *labels = c->classes ? lv : NULL, *glabels = c->classes ? lg : NULL;
    double bits, bits_u;
    gw_rng init, rng;
    gw_rng_seed(&init, seed);
    if (gw_pixelcnn_create(&untrained, c, &err)) goto fail;
    gw_pixelcnn_weights_init(&untrained->w, &untrained->cfg, &init);
    if (pixelcnn_bits(&bits, m->net, q, labels, nv, &err) ||
        pixelcnn_bits(&bits_u, untrained, q, labels, nv, &err))
        goto fail;
    gw_rng_seed(&rng, seed);
    const double t0 = now_seconds();
    if (gw_pixelcnn_generate(gen, m->net, n, glabels, 1.0f, &rng, &err)) goto fail;
    const double per = (now_seconds() - t0) / n;
    gw_rng_seed(&rng, seed);
    if (gw_pixelcnn_generate(ceil, untrained, n, glabels, 1.0f, &rng, &err)) goto fail;
    print_clips(d, n);
    printf("held-out bits per dimension (exact, %d x %d pixels of 256 levels; uniform = 8)\n", T,
           M);
    printf("  model                          %10.4f\n", bits);
    printf("  untrained model                %10.4f\n", bits_u);
    printf("sampling (cached, temperature 1): %.3f s per image\n", per);
    rc = report_generated(d, gen, ceil, n, M, T, "model");
    goto done;
fail:
    rc = gw_cli_error(&err);
done:
    gw_pixelcnn_free(untrained);
    free(q), free(lv), free(lg), free(gen), free(ceil);
    return rc;
}

static void print_vae(const char *what, const gw_specvae_eval *e, int D, int Z) {
    printf("%-10s ELBO %10.2f nats/clip %8.4f nats/dim (D = %d)  LSD %6.2f dB  active dims "
           "%d/%d\n",
           what, e->elbo, e->elbo_per_dim, D, e->lsd_db, e->active, Z);
}

/* bits/dim of the held-out clips as the VAE's discretised bound, with the
 * decoder's own variance and with the one fitted on the training clips */
static gw_status vae_bits(gw_specvae *v, const gw_spec_data *d, uint64_t seed, double bits[2],
                          double *var_fit, gw_error *err) {
    gw_status st =
        gw_specvae_discrete_bits(v, &bits[1], var_fit, 0, d->train, d->n_train, seed, err);
    if (!st) st = gw_specvae_discrete_bits(v, &bits[0], NULL, 0, d->val, d->n_val, seed, err);
    if (!st)
        st = gw_specvae_discrete_bits(v, &bits[1], NULL, *var_fit, d->val, d->n_val, seed, err);
    return st;
}

static int eval_vae(gw_spec_model *m, const gw_spec_data *d, int n, uint64_t seed) {
    gw_error err = {0};
    gw_specvae_eval e, u;
    gw_specvae *untrained = NULL;
    const int Z = m->z_dim;
    float *z = malloc((size_t)n * Z * sizeof(float)),
          *gen = malloc((size_t)n * m->img * sizeof(float)),
          *ceil = malloc((size_t)n * m->img * sizeof(float));
    double bits[2], bits_u[2], var, var_u;
    int rc = 1;
    gw_rng init, rng;
    gw_rng_seed(&init, seed);
    if (!z || !gen || !ceil) {
        fprintf(stderr, "genwave: out of memory\n");
        goto done;
    }
    if (gw_specvae_evaluate(m->vae, &e, NULL, d->val, d->n_val, seed, &err) ||
        vae_bits(m->vae, d, seed, bits, &var, &err) ||
        gw_specvae_create(&untrained, &m->vae->cfg, 64, &init, &err))
        goto fail;
    /* the untrained model shares the trained one's feature statistics */
    memcpy(gw_specfeat_mean(untrained->feat), gw_specfeat_mean(m->feat),
           (size_t)m->M * sizeof(float));
    memcpy(gw_specfeat_std(untrained->feat), gw_specfeat_std(m->feat),
           (size_t)m->M * sizeof(float));
    if (gw_specvae_evaluate(untrained, &u, NULL, d->val, d->n_val, seed, &err) ||
        vae_bits(untrained, d, seed, bits_u, &var_u, &err))
        goto fail;
    /* new clips: the decoder at z drawn from the prior N(0, I) */
    gw_rng_seed(&rng, seed);
    for (size_t i = 0; i < (size_t)n * Z; i++)
        z[i] = gw_rng_normal(&rng);
    const double t0 = now_seconds();
    gw_specvae_decode(m->vae, gen, z, n);
    const double per = (now_seconds() - t0) / n;
    gw_specvae_decode(untrained, ceil, z, n);
    print_clips(d, n);
    print_vae("model", &e, (int)m->img, m->z_dim);
    print_vae("untrained", &u, (int)m->img, m->z_dim);
    printf("held-out bits per dimension (the ELBO as a bound on the same %d-level pixels as a "
           "PixelCNN's; uniform = 8)\n",
           GW_SPEC_LEVELS);
    printf("  model, decoder variance %.3f   %10.4f\n", (double)m->vae->cfg.dec_var, bits[0]);
    printf("  model, variance fitted %.5f  %10.4f\n", var, bits[1]);
    printf("  untrained model (fitted %.4f) %10.4f\n", var_u, bits_u[1]);
    printf("  (fitted: the training clips' mean squared error, the decoder variance that makes "
           "them likeliest)\n");
    printf("sampling (decoder at z from the prior): %.5f s per clip\n", per);
    rc = report_generated(d, gen, ceil, n, m->M, m->T, "decoder");
    goto done;
fail:
    rc = gw_cli_error(&err);
done:
    gw_specvae_free(untrained);
    free(z), free(gen), free(ceil);
    return rc;
}

/* "8 x 1024 targets" (train.batch): the trainer's windows */
static void wavenet_batch(const gw_gwm *f, int *batch, int *targets) {
    const char *s = gw_gwm_meta(f, "train.batch");
    int b, t;
    if (s && sscanf(s, "%d x %d", &b, &t) == 2 && b > 0 && b <= 4096 && t > 0 && t <= 1 << 20)
        *batch = b, *targets = t;
}

static int eval_wavenet(const gw_gwm *f, const char *data, long batches, long seed, long split,
                        int all) {
    gw_error err = {0};
    gw_wavenet *m = NULL;
    if (gw_wavenet_from_gwm(&m, f, &err)) return gw_cli_error(&err);
    if (m->cfg.n_mels > 0) {
        fprintf(stderr,
                "genwave: %s: a vocoder (mel input); its held-out figure is the training run's "
                "validation\n",
                gw_gwm_path(f));
        gw_wavenet_free(m);
        return 1;
    }
    char cache[4200];
    gw_wavenet_eval_opts o = {.data_dir = data,
                              .cache_dir = gw_cache_path(cache, sizeof cache, data),
                              .held_out = !all,
                              .split_seed = (uint64_t)split,
                              .seed = (uint64_t)(seed >= 0 ? seed : split),
                              .batches = batches > 0 ? (int)batches : 4};
    wavenet_batch(f, &o.batch, &o.targets);
    gw_wavenet_eval_result r;
    if (gw_wavenet_eval(m, &o, &r, &err)) {
        gw_wavenet_free(m);
        return gw_cli_error(&err);
    }
    const int bands = m->cfg.distribution == GW_WAVENET_DIST_LOGISTIC;
    printf("%s: %d windows of %d targets from %zu %sclips of %s (notes %d-%d)\n", gw_gwm_path(f),
           r.windows, r.window_targets, r.clips, all ? "" : "held-out ", data, r.note_min,
           r.note_max);
    printf("  %s     %.4f\n", bands ? "bits per band value" : "bits per sample", r.bits);
    const char *rec = gw_gwm_meta(f, "metric.val_bits_per_sample");
    const char *vd = gw_gwm_meta(f, "metric.val_data_bits");
    if (rec) printf("  the training run's held-out figure: %s\n", rec);
    const char *vdir = gw_gwm_meta(f, "train.val_data");
    if (vd) printf("  the training run's --val-data figure (%s): %s\n", vdir ? vdir : "?", vd);
    gw_wavenet_free(m);
    return 0;
}

int gw_cmd_eval(int argc, char **argv) {
    const char *model = NULL, *data = NULL;
    long n = -1, seed = -1, split = -1;
    int all = 0;
    const gw_cli_opt opts[] = {
        GW_CLI_OPT_FLAG("--all", &all),
        GW_CLI_OPT_STR("--data", &data),
        GW_CLI_OPT_INT("-n", &n, 2, 100000),
        GW_CLI_OPT_INT("--seed", &seed, 0, 0x7fffffffL),
        GW_CLI_OPT_INT("--split-seed", &split, 0, 0x7fffffffL),
    };
    const char **pos[] = {&model};
    const int code = GW_CLI_PARSE(argc, argv, "eval", usage, opts, pos);
    if (code >= 0) return code;
    if (!model || !data) {
        usage(stderr);
        return 2;
    }
    gw_error err = {0};
    gw_gwm *f = NULL;
    if (gw_gwm_open(&f, model, &err)) return gw_cli_error(&err);
    if (split < 0) {
        const char *s = gw_gwm_meta(f, "train.seed");
        split = 1;
        if (s && !gw_cli_int(s, 0, 0x7fffffffL, &split)) split = 1;
    }
    const char *kind = gw_gwm_meta(f, "model");
    if (kind && !strcmp(kind, GW_WAVENET_KIND)) {
        const int rc = eval_wavenet(f, data, n, seed, split, all);
        gw_gwm_free(f);
        return rc;
    }
    if (all) {
        fprintf(stderr, "genwave: %s: --all is for WaveNet models, this is a '%s'\n", model,
                kind ? kind : "?");
        gw_gwm_free(f);
        return 2;
    }
    if (seed < 0) seed = 1;
    gw_pixelcnn_model pm = {0};
    gw_spec_model m = {0};
    gw_specfeat *feat;
    int rc = 1;
    if (kind && !strcmp(kind, GW_PIXELCNN_KIND)) {
        if (gw_spec_pixelcnn_load(&pm, f)) goto done;
        feat = pm.feat;
    } else {
        const int owned = gw_spec_model_from(&m, f, 64); /* m owns f from here */
        f = NULL;
        if (owned) goto done;
        feat = m.feat;
    }
    gw_spec_data *d = NULL;
    char cache[4200];
    if (gw_spec_data_load(&d, data, gw_cache_path(cache, sizeof cache, data), feat, 0,
                          (uint64_t)split, &err)) {
        rc = gw_cli_error(&err);
    } else if (!m.vae && d->n_val < 2) {
        fprintf(stderr, "genwave: %s: need at least 2 held-out clips\n", data);
    } else if (pm.net) {
        rc = eval_pixelcnn(&pm, d, n > 0 ? (int)n : 64, (uint64_t)seed, model);
    } else {
        rc = m.gan ? eval_gan(&m, d, n > 0 ? (int)n : 256, (uint64_t)seed)
                   : eval_vae(&m, d, n > 0 ? (int)n : 256, (uint64_t)seed);
    }
    gw_spec_data_free(d);
done:
    gw_pixelcnn_model_free(&pm);
    gw_spec_model_close(&m);
    gw_gwm_free(f);
    return rc;
}
