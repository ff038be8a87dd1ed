/* genwave train <model> ...: dispatches by model kind. `wavenet` is here;
 * `gan`, `vae` and `pixelcnn` live in cmd_train_spec.c. Another kind is one more branch
 * in gw_cmd_train. Progress goes to stderr; Ctrl-C checkpoints and stops
 * (continue with --resume). */
#include "cli/spec_cli.h"
#include "cli/train_args.h"

#include "train/wavenet_trainer.h"

#include <stdlib.h>
#include <string.h>

static void usage_wavenet(FILE *f, const char *kind) {
    gw_cli_train_usage(f, kind);
    fprintf(
        f,
        "WaveNet options:\n"
        "  --window N       target samples per training window (each window also\n"
        "                   carries one receptive field of context)\n"
        "  --val-every N    validation every N steps\n"
        "  --clip-norm X    gradient norm clip (0 = off)\n"
        "  --val-data DIR   also validate on every clip of DIR (new takes or velocities\n"
        "                   of the instrument being learnt): val_data_bits, and best.gwm\n"
        "                   and the over-fitting warnings follow it\n"
        "Presets: wavenet-small, wavenet-medium (the references, unconditioned),\n"
        "         wavenet-small-pitch (pitch + velocity), wavenet-tiny-pitch (tests, quick runs),\n"
        "         wavenet-tiny-vocoder (mel input: render --vocode).\n"
        "Writes RUNDIR/model.gwm, checkpoint.gwm, log.csv and loss.png.\n");
}

/* the options only the WaveNet trainer has (gw_cli_train_option_fn) */
static int wavenet_option(void *ctx, const char *a, const char *v) {
    gw_wavenet_trainer_opts *o = ctx;
    long x;
    double d;
    if (!strcmp(a, "--window") && gw_cli_int(v, 1, 1L << 20, &x))
        o->targets = (int)x;
    else if (!strcmp(a, "--val-every") && gw_cli_int(v, 1, 1L << 30, &x))
        o->val_every = (int)x;
    else if (!strcmp(a, "--clip-norm") && gw_cli_double(v, 0, 1e6, &d))
        o->clip_norm = d > 0 ? (float)d : -1.0f;
    else if (!strcmp(a, "--val-data") && v && v[0])
        o->val_data_dir = v;
    else
        return 0;
    return 1;
}

static int train_wavenet(int argc, char **argv, gw_cli_dist *dist) {
    gw_wavenet_trainer_opts o = {.progress = stderr, .seed = 1};
    gw_cli_train_run run = {.seed = o.seed, .dist = dist->dist};
    int rc = gw_cli_train_args(&run, argc, argv, wavenet_option, &o, usage_wavenet);
    if (rc >= 0) return rc;
    GW_CLI_TRAIN_RUN_APPLY(&o, &run);
    char vcache[4200];
    if (o.val_data_dir) o.val_cache_dir = gw_cache_path(vcache, sizeof vcache, o.val_data_dir);
    char *cmdline = gw_cli_join("genwave train", argc, argv);
    if (!cmdline) return 1;
    o.command_line = cmdline;
    gw_wavenet_trainer_result r;
    gw_error err = {0};
    gw_status st = gw_wavenet_trainer_run(&o, &r, &err);
    free(cmdline);
    if (st && st != GW_ERR_INTERRUPTED) return gw_cli_dist_error(dist, &err);
    dist->interrupted = st == GW_ERR_INTERRUPTED;
    if (gw_dist_rank(dist->dist)) return st ? 1 : 0; /* rank 0 reports for the job */
    printf("%s: %ld steps, %.0f samples/s; validation %.3f -> %.3f bits/sample%s%s\n", r.model_path,
           r.steps, r.samples_per_s, r.val_bits_initial, r.val_bits,
           r.early_stopped ? " (early stop)" : "", st ? " (interrupted; --resume continues)" : "");
    if (o.val_data_dir)
        printf("%s: on --val-data %s: %.3f bits/sample\n", r.model_path, o.val_data_dir,
               r.val_data_bits);
    /* best.gwm follows --val-data when it is given: compare like with like */
    const float last = o.val_data_dir ? r.val_data_bits : r.val_bits;
    if (r.best_path[0])
        printf("%s: the best held-out model%s, %.3f bits/sample at step %ld%s\n", r.best_path,
               o.val_data_dir ? " on --val-data" : "", r.best_bits, r.best_step,
               last > r.best_bits + 0.3f
                   ? " (the last is 0.3+ bits worse on those files; compare both with "
                     "genwave pitch and by ear)"
                   : "");
    if (r.warnings) printf("%d warning%s above\n", r.warnings, r.warnings == 1 ? "" : "s");
    return st ? 1 : 0;
}

int gw_cmd_train(int argc, char **argv) {
    const char *kind = argc > 1 ? argv[1] : "";
    int wn = !strcmp(kind, "wavenet");
    if (wn || !strcmp(kind, "gan") || !strcmp(kind, "vae") || !strcmp(kind, "pixelcnn")) {
        gw_cli_dist d;
        gw_error err = {0};
        if (gw_cli_train_dist_start(&d, argc, argv, &err)) return gw_cli_error(&err);
        int rc =
            wn ? train_wavenet(argc - 1, argv + 1, &d) : gw_cli_train_spec(argc - 1, argv + 1, &d);
        return gw_cli_train_dist_end(&d, rc);
    }
    int help = !strcmp(kind, "-h") || !strcmp(kind, "--help");
    /* a typo gets the nearest kind: at most 2 edits (Levenshtein) away */
    static const char *kinds[] = {"wavenet", "gan", "vae", "pixelcnn"};
    for (int k = 0; !help && *kind && *kind != '-' && k < 4; k++)
        if (gw_cli_edit_distance(kind, kinds[k]) <= 2) {
            fprintf(stderr, "genwave train: unknown kind '%s'; did you mean %s?\n", kind, kinds[k]);
            return 2;
        }
    if (!help && *kind && *kind != '-') {
        fprintf(stderr, "genwave train: unknown kind '%s' (wavenet, gan, vae or pixelcnn)\n", kind);
        return 2;
    }
    fprintf(help ? stdout : stderr,
            "usage: genwave train wavenet|gan|vae|pixelcnn --data DIR --preset NAME|FILE\n"
            "                     --out RUNDIR ...\n"
            "       genwave train <kind> --help   for a kind's options\n");
    return help ? 0 : 2;
}
