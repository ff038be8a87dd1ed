/* genwave train <model> ...: dispatches by model kind. `wavenet` is here;
 * `gan` and `vae` live in cmd_train_spec.c. Another kind is one more branch
 * in gw_cmd_train. Progress goes to stderr; Ctrl-C checkpoints and stops
 * (continue with --resume). */
#include "cli/spec_cli.h"

#include "train/wavenet_trainer.h"

#include <stdlib.h>
#include <string.h>

static void usage_wavenet(FILE *f) {
    fprintf(f,
            "usage: genwave train wavenet --data DIR --preset NAME|FILE --out RUNDIR\n"
            "         [--steps N] [--minutes M] [--threads T] [--seed S] [--resume] [--overwrite]\n"
            "         [--batch B] [--window N] [--lr LR] [--val-every N] [--checkpoint-every N]\n"
            "         [--clip-norm X (0 = off)]\n"
            "  --window N   target samples per training window (each window also carries one\n"
            "               receptive field of context)\n"
            "Presets: wavenet-small, wavenet-medium (the references, unconditioned),\n"
            "         wavenet-small-pitch (pitch + velocity), wavenet-tiny-pitch (tests, quick runs),\n"
            "         wavenet-tiny-vocoder (mel input: render --vocode).\n"
            "Writes RUNDIR/model.gwm, checkpoint.gwm, log.csv and loss.png.\n");
}

static int train_wavenet(int argc, char **argv) {
    gw_wavenet_trainer_opts o = {.progress = stderr, .seed = 1};
    char *cmdline = gw_cli_join("genwave train", argc, argv);
    if (!cmdline) return 1;
    o.command_line = cmdline;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        long x;
        double d;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage_wavenet(stdout);
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
        if (!strcmp(a, "--data")) o.data_dir = v;
        else if (!strcmp(a, "--preset")) o.preset = v;
        else if (!strcmp(a, "--out")) o.out_dir = v;
        else if (!strcmp(a, "--steps") && gw_cli_int(v, 1, 1L << 40, &x)) o.steps = x;
        else if (!strcmp(a, "--minutes") && gw_cli_double(v, 0, 1e7, &d)) o.minutes = d;
        else if (!strcmp(a, "--threads") && gw_cli_int(v, 1, 256, &x)) o.threads = (int)x;
        else if (!strcmp(a, "--seed") && gw_cli_int(v, 0, 0x7fffffffL, &x)) o.seed = (uint64_t)x;
        else if (!strcmp(a, "--batch") && gw_cli_int(v, 1, 4096, &x)) o.batch = (int)x;
        else if (!strcmp(a, "--window") && gw_cli_int(v, 1, 1L << 20, &x)) o.targets = (int)x;
        else if (!strcmp(a, "--lr") && gw_cli_double(v, 1e-9, 1, &d)) o.lr = (float)d;
        else if (!strcmp(a, "--val-every") && gw_cli_int(v, 1, 1L << 30, &x)) o.val_every = (int)x;
        else if (!strcmp(a, "--checkpoint-every") && gw_cli_int(v, 1, 1L << 30, &x))
            o.checkpoint_every = (int)x;
        else if (!strcmp(a, "--clip-norm") && gw_cli_double(v, 0, 1e6, &d))
            o.clip_norm = d > 0 ? (float)d : -1.0f;
        else goto bad;
        continue;
    bad:
        fprintf(stderr, "genwave train wavenet: bad or unknown option '%s'%s%s\n", a,
                v ? " with value " : "", v ? v : "");
        usage_wavenet(stderr);
        free(cmdline);
        return 2;
    }
    if (!o.data_dir || !o.preset || !o.out_dir) {
        fprintf(stderr, "genwave train wavenet: --data, --preset and --out are required\n");
        usage_wavenet(stderr);
        free(cmdline);
        return 2;
    }
    gw_wavenet_trainer_result r;
    gw_error err = {0};
    gw_status st = gw_wavenet_trainer_run(&o, &r, &err);
    free(cmdline);
    if (st && st != GW_ERR_INTERRUPTED) return gw_cli_error(&err);
    printf("%s: %ld steps, %.0f samples/s; validation %.3f -> %.3f bits/sample%s\n",
           r.model_path, r.steps, r.samples_per_s, r.val_bits_initial, r.val_bits,
           st ? " (interrupted; --resume continues)" : "");
    return st ? 1 : 0;
}

int gw_cmd_train(int argc, char **argv) {
    const char *kind = argc > 1 ? argv[1] : "";
    if (!strcmp(kind, "wavenet")) return train_wavenet(argc - 1, argv + 1);
    if (!strcmp(kind, "gan") || !strcmp(kind, "vae")) return gw_cli_train_spec(argc - 1, argv + 1);
    int help = !strcmp(kind, "-h") || !strcmp(kind, "--help");
    fprintf(help ? stdout : stderr,
            "usage: genwave train wavenet|gan|vae --data DIR --preset NAME|FILE --out RUNDIR ...\n"
            "       genwave train <kind> --help   for a kind's options\n");
    return help ? 0 : 2;
}
