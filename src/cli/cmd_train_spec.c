/* genwave train gan|vae|pixelcnn --data DIR --preset NAME|FILE --out RUNDIR
 * [...]: the spectrogram GAN, VAE and PixelCNN trainers
 * (train/spec_trainer.h) behind the `train` command. Progress goes to stderr; Ctrl-C checkpoints
 * and stops (resume with --resume). */
#include "cli/spec_cli.h"
#include "cli/train_args.h"

#include "train/spec_trainer.h"

#include <stdlib.h>
#include <string.h>

static void usage(FILE *f, const char *kind) {
    gw_cli_train_usage(f, kind);
    fprintf(f,
            "%s options:\n"
            "  --sample-every N sample grids, WAVs and validation every N steps%s\n"
            "  --gl-iters N     Griffin-Lim iterations of the sample WAVs (default 32)\n"
            "  --precision P    auto (default: bf16 where the CPU has AVX512_BF16, else f32),\n"
            "                   f32 or bf16: bf16 multiplies bfloat16 operands into f32 sums\n"
            "                   (docs/nn.md, \"bf16 products\")\n",
            !strcmp(kind, "gan")   ? "GAN"
            : !strcmp(kind, "vae") ? "VAE"
                                   : "PixelCNN",
            !strcmp(kind, "pixelcnn") ? " (default 500)" : "");
    if (!strcmp(kind, "pixelcnn"))
        fprintf(f, "A preset with \"classes\": N > 0 conditions the model on each file's class:\n"
                   "its first folder (kick/01.wav) or its name up to '_', ' ' or '.'\n"
                   "(kick_01.wav); sample with --class NAME.\n"
                   "Presets: pixelcnn-small (the reference), pixelcnn-tiny.\n");
    else if (!strcmp(kind, "gan"))
        fprintf(f, "  --loss L         minimax, nonsaturating or hinge\n"
                   "  --d-steps N      discriminator steps per generator step\n"
                   "  --spectral-norm on|off   spectral normalisation of the discriminator\n"
                   "Presets: specgan-small (the reference), specgan-small-hinge, specgan-tiny.\n");
    else
        fprintf(f, "  --beta B         weight of the KL term (beta-VAE)\n"
                   "  --kl-warmup S    steps over which beta ramps up from 0\n"
                   "  --free-bits NATS KL floor per latent dim (Kingma et al. 2016)\n"
                   "Presets: specvae-small (the reference), specvae-small-beta4, specvae-tiny.\n");
}

/* the options both spectrogram trainers have */
static int spec_option(gw_spec_trainer_opts *o, const char *a, const char *v) {
    long x;
    if (!strcmp(a, "--sample-every") && gw_cli_int(v, 1, 1L << 30, &x))
        o->sample_every = (int)x;
    else if (!strcmp(a, "--gl-iters") && gw_cli_int(v, 1, 10000, &x))
        o->gl_iters = (int)x;
    else if (!strcmp(a, "--precision") &&
             (!strcmp(v, "auto") || !strcmp(v, "f32") || !strcmp(v, "bf16")))
        o->bf16 = !strcmp(v, "auto") ? -1 : !strcmp(v, "bf16");
    else
        return 0;
    return 1;
}

static int gan_option(void *ctx, const char *a, const char *v) {
    gw_spec_trainer_opts *o = ctx;
    long x;
    if (spec_option(o, a, v)) return 1;
    if (!strcmp(a, "--loss"))
        o->loss = v;
    else if (!strcmp(a, "--d-steps") && gw_cli_int(v, 1, 100, &x))
        o->d_steps = (int)x;
    else if (!strcmp(a, "--spectral-norm") && (!strcmp(v, "on") || !strcmp(v, "off")))
        o->spectral_norm = !strcmp(v, "on");
    else
        return 0;
    return 1;
}

static int vae_option(void *ctx, const char *a, const char *v) {
    gw_spec_trainer_opts *o = ctx;
    long x;
    double d;
    if (spec_option(o, a, v)) return 1;
    if (!strcmp(a, "--beta") && gw_cli_double(v, 0, 1000, &d))
        o->beta = (float)d;
    else if (!strcmp(a, "--kl-warmup") && gw_cli_int(v, 0, 1L << 30, &x))
        o->kl_warmup = (int)x;
    else if (!strcmp(a, "--free-bits") && gw_cli_double(v, 0, 100, &d))
        o->free_bits = (float)d;
    else
        return 0;
    return 1;
}

static int pixelcnn_option(void *ctx, const char *a, const char *v) {
    return spec_option(ctx, a, v);
}

int gw_cli_train_spec(int argc, char **argv, gw_cli_dist *dist) {
    int vae = !strcmp(argv[0], "vae"), pcnn = !strcmp(argv[0], "pixelcnn");
    gw_spec_trainer_opts o;
    gw_spec_trainer_opts_default(&o);
    o.progress = stderr;
    gw_cli_train_run run = {.seed = o.seed, .dist = dist->dist};
    int rc = gw_cli_train_args(&run, argc, argv,
                               pcnn  ? pixelcnn_option
                               : vae ? vae_option
                                     : gan_option,
                               &o, usage);
    if (rc >= 0) return rc;
    GW_CLI_TRAIN_RUN_APPLY(&o, &run);
    /* the command line, recorded in the model file */
    char *cmdline = gw_cli_join("genwave train", argc, argv);
    if (!cmdline) return 1;
    o.command_line = cmdline;
    gw_spec_trainer_result r;
    gw_error err = {0};
    gw_status st = pcnn  ? gw_pixelcnn_trainer_run(&o, &r, &err)
                   : vae ? gw_vae_trainer_run(&o, &r, &err)
                         : gw_gan_trainer_run(&o, &r, &err);
    free(cmdline);
    dist->interrupted = st == GW_ERR_INTERRUPTED;
    if (st) return gw_cli_dist_error(dist, &err);
    if (gw_dist_rank(dist->dist)) return 0; /* rank 0 reports for the job */
    if (pcnn)
        printf("%s: %ld steps, %.1f examples/s; held-out %.4f -> %.4f bits/dim (%d classes)\n",
               r.model_path, r.steps, r.examples_per_s, r.bits_first, r.bits_last, r.classes);
    else if (vae)
        printf("%s: %ld steps, %.1f examples/s; held-out ELBO %.2f -> %.2f nats/clip, %d active "
               "latent dims\n",
               r.model_path, r.steps, r.examples_per_s, r.elbo_first, r.elbo_last, r.active);
    else
        printf("%s: %ld steps, %.1f examples/s; Frechet distance %.3f (untrained) -> %.3f "
               "(floor %.3f), diversity %.2f of the real data's\n",
               r.model_path, r.steps, r.examples_per_s, r.fd_first, r.fd_last, r.fd_floor,
               r.diversity);
    if (r.best_path[0])
        printf("%s: the best held-out model, %s %.3f at step %ld%s\n", r.best_path,
               pcnn  ? "bits/dim"
               : vae ? "ELBO"
                     : "Frechet distance",
               r.best, r.best_step, r.early_stopped ? " (early stop)" : "");
    if (r.warnings) printf("%d warning%s above\n", r.warnings, r.warnings == 1 ? "" : "s");
    return 0;
}
