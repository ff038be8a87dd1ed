/* genwave train gan|vae --data DIR --preset NAME|FILE --out RUNDIR [...]:
 * the spectrogram GAN and VAE trainers (train/spec_trainer.h) behind the
 * `train` command. Progress goes to stderr; Ctrl-C checkpoints and stops
 * (resume with --resume). */
#include "cli/spec_cli.h"

#include "train/spec_trainer.h"

#include <stdlib.h>
#include <string.h>

static void usage(FILE *f, const char *kind) {
    fprintf(f,
            "usage: genwave train %s --data DIR --preset NAME|FILE --out RUNDIR\n"
            "         [--steps N] [--minutes M] [--threads T] [--seed S] [--resume | --overwrite]\n"
            "         [--batch B] [--lr LR] [--sample-every N] [--checkpoint-every N]\n"
            "         [--gl-iters N]\n",
            kind);
    if (!strcmp(kind, "gan"))
        fprintf(f, "         [--loss minimax|nonsaturating|hinge] [--d-steps N]\n"
                   "         [--spectral-norm on|off]\n"
                   "Presets: specgan-small (the reference), specgan-small-hinge, specgan-tiny.\n");
    else
        fprintf(f, "         [--beta B] [--kl-warmup STEPS] [--free-bits NATS]\n"
                   "Presets: specvae-small (the reference), specvae-small-beta4, specvae-tiny.\n");
}

int gw_cli_train_spec(int argc, char **argv) {
    const char *kind = argv[0];
    int vae = !strcmp(kind, "vae");
    gw_spec_trainer_opts o;
    gw_spec_trainer_opts_default(&o);
    o.progress = stderr;
    /* the command line, recorded in the model file */
    char *cmdline = gw_cli_join("genwave train", argc, argv);
    if (!cmdline) return 1;
    o.command_line = cmdline;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        long x;
        double d;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout, kind);
            free(cmdline);
            return 0;
        } else if (!strcmp(a, "--resume")) {
            o.resume = 1;
            continue;
        } else if (!strcmp(a, "--overwrite")) {
            o.overwrite = 1;
            continue;
        }
        if (!v) goto bad;
        i++;
        if (!strcmp(a, "--data"))
            o.data_dir = v;
        else if (!strcmp(a, "--preset"))
            o.preset = v;
        else if (!strcmp(a, "--out"))
            o.out_dir = v;
        else if (!strcmp(a, "--steps") && gw_cli_int(v, 1, 1L << 40, &x))
            o.steps = x;
        else if (!strcmp(a, "--minutes") && gw_cli_double(v, 0, 1e7, &d))
            o.minutes = d;
        else if (!strcmp(a, "--threads") && gw_cli_int(v, 1, 256, &x))
            o.threads = (int)x;
        else if (!strcmp(a, "--seed") && gw_cli_int(v, 0, 0x7fffffffL, &x))
            o.seed = (uint64_t)x;
        else if (!strcmp(a, "--batch") && gw_cli_int(v, 1, 4096, &x))
            o.batch = (int)x;
        else if (!strcmp(a, "--lr") && gw_cli_double(v, 1e-9, 1, &d))
            o.lr = (float)d;
        else if (!strcmp(a, "--sample-every") && gw_cli_int(v, 1, 1L << 30, &x))
            o.sample_every = (int)x;
        else if (!strcmp(a, "--checkpoint-every") && gw_cli_int(v, 1, 1L << 30, &x))
            o.checkpoint_every = (int)x;
        else if (!strcmp(a, "--gl-iters") && gw_cli_int(v, 1, 10000, &x))
            o.gl_iters = (int)x;
        else if (!vae && !strcmp(a, "--loss"))
            o.loss = v;
        else if (!vae && !strcmp(a, "--d-steps") && gw_cli_int(v, 1, 100, &x))
            o.d_steps = (int)x;
        else if (!vae && !strcmp(a, "--spectral-norm") && (!strcmp(v, "on") || !strcmp(v, "off")))
            o.spectral_norm = !strcmp(v, "on");
        else if (vae && !strcmp(a, "--beta") && gw_cli_double(v, 0, 1000, &d))
            o.beta = (float)d;
        else if (vae && !strcmp(a, "--kl-warmup") && gw_cli_int(v, 0, 1L << 30, &x))
            o.kl_warmup = (int)x;
        else if (vae && !strcmp(a, "--free-bits") && gw_cli_double(v, 0, 100, &d))
            o.free_bits = (float)d;
        else
            goto bad;
        continue;
    bad:
        fprintf(stderr, "genwave train %s: bad or unknown option '%s'%s%s\n", kind, a,
                v ? " with value " : "", v ? v : "");
        usage(stderr, kind);
        free(cmdline);
        return 2;
    }
    if (!o.data_dir || !o.preset || !o.out_dir) {
        fprintf(stderr, "genwave train %s: --data, --preset and --out are required\n", kind);
        usage(stderr, kind);
        free(cmdline);
        return 2;
    }
    gw_spec_trainer_result r;
    gw_error err = {0};
    gw_status st = vae ? gw_vae_trainer_run(&o, &r, &err) : gw_gan_trainer_run(&o, &r, &err);
    free(cmdline);
    if (st) return gw_cli_error(&err);
    if (vae)
        printf("%s: %ld steps, %.1f examples/s; held-out ELBO %.2f -> %.2f nats/clip, %d active "
               "latent dims\n",
               r.model_path, r.steps, r.examples_per_s, r.elbo_first, r.elbo_last, r.active);
    else
        printf("%s: %ld steps, %.1f examples/s; Frechet distance %.3f (untrained) -> %.3f "
               "(floor %.3f), diversity %.2f of the real data's\n",
               r.model_path, r.steps, r.examples_per_s, r.fd_first, r.fd_last, r.fd_floor,
               r.diversity);
    return 0;
}
