/* The run controls of `genwave train KIND`: see train_args.h. */
#include "cli/train_args.h"

#include "cli/args.h"
#include "io/dataset.h"
#include "train/trainer.h"

#include <stdlib.h>
#include <string.h>

int gw_cli_train_option(gw_cli_train_run *r, const char *a, const char *v) {
    long x;
    double d;
    int ok = 1; /* cleared by a run control whose value does not parse */
    if (!strcmp(a, "--resume")) return r->resume = 1;
    if (!strcmp(a, "--overwrite")) return r->overwrite = 1;
    if (!strcmp(a, "--data"))
        r->data_dir = v;
    else if (!strcmp(a, "--preset"))
        r->preset = v;
    else if (!strcmp(a, "--out"))
        r->out_dir = v;
    else if (!strcmp(a, "--steps") && (ok = gw_cli_int(v, 1, 1L << 40, &x)))
        r->steps = x;
    else if (!strcmp(a, "--minutes") && (ok = gw_cli_double(v, 0, 1e7, &d)))
        r->minutes = d;
    else if (!strcmp(a, "--threads") && (ok = gw_cli_int(v, 1, 256, &x)))
        r->threads = (int)x;
    else if (!strcmp(a, "--seed") && (ok = gw_cli_int(v, 0, 0x7fffffffL, &x)))
        r->seed = (uint64_t)x;
    else if (!strcmp(a, "--batch") && (ok = gw_cli_int(v, 1, 4096, &x)))
        r->batch = (int)x;
    else if (!strcmp(a, "--lr") && (ok = gw_cli_double(v, 1e-9, 1, &d)))
        r->lr = (float)d;
    else if (!strcmp(a, "--checkpoint-every") && (ok = gw_cli_int(v, 1, 1L << 30, &x)))
        r->checkpoint_every = (int)x;
    else if (!strcmp(a, "--early-stop") && (ok = gw_cli_int(v, 1, 1L << 20, &x)))
        r->early_stop = (int)x;
    else if (!strcmp(a, "--cache") && (ok = v && *v))
        r->cache_dir = v;
    else if (!strcmp(a, "--mpi-timeout") && (ok = gw_cli_double(v, 0, 1e6, &d)))
        r->mpi_timeout = d;
    else
        return ok ? 0 : -1;
    return v ? 2 : -1;
}

void gw_cli_train_usage(FILE *f, const char *kind) {
    fprintf(f,
            "usage: genwave train %s --data DIR --preset NAME|FILE --out RUNDIR\n"
            "         [--steps N] [--minutes M] [--threads T] [--seed S] [--resume | --overwrite]\n"
            "         [--batch B] [--lr LR] [--checkpoint-every N] ...\n"
            "Run controls (every kind):\n"
            "  --steps N        stop after N steps in all (steps before a --resume count)\n"
            "  --minutes M      stop after M minutes of this session, with a checkpoint\n"
            "  --threads T      threads (default 1): WaveNet and PixelCNN split each batch\n"
            "                   across them, GAN and VAE each matrix product\n"
            "  --seed S         data order and initial weights (default 1)\n"
            "  --resume         continue RUNDIR's checkpoint, bit for bit as if never stopped\n"
            "  --overwrite      start afresh in a RUNDIR that holds a checkpoint\n"
            "  --batch B, --lr LR, --checkpoint-every N   override the preset's\n"
            "  --cache DIR      where the processed audio is cached (default:\n"
            "                   ~/.cache/genwave/datasets/..., never inside --data)\n"
            "  --early-stop N   stop after N validations without a better held-out figure\n"
            "                   (RUNDIR/best.gwm always holds the best model; model.gwm the last)\n"
            "  --preset auto    choose by the folder's size (docs/training-your-own-sounds.md)\n"
            "  --mpi-timeout S  under mpirun: stop the job when a rank waits S seconds for the\n"
            "                   others (default 600; 0 = never). mpirun -np N genwave train ...\n"
            "                   trains on N processes (docs/distributed-training.md)\n",
            kind);
}

int gw_cli_train_args(gw_cli_train_run *r, int argc, char **argv, gw_cli_train_option_fn option,
                      void *ctx, void (*usage)(FILE *f, const char *kind)) {
    const char *kind = argv[0];
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout, kind);
            return 0;
        }
        int n = gw_cli_train_option(r, a, v);
        if (n == 0 && v && option(ctx, a, v)) n = 2;
        if (n <= 0) {
            fprintf(stderr, "genwave train %s: bad or unknown option '%s'%s%s\n", kind, a,
                    v ? " with value " : "", v ? v : "");
            usage(stderr, kind);
            return 2;
        }
        i += n - 1;
    }
    if (!r->data_dir || !r->preset || !r->out_dir) {
        fprintf(stderr, "genwave train %s: --data, --preset and --out are required\n", kind);
        usage(stderr, kind);
        return 2;
    }
    gw_error err = {0};
    if (!strcmp(r->preset, "auto")) { /* chosen by the folder's size (trainer.h) */
        gw_dataset_opts o;
        gw_dataset_opts_default(&o);
        gw_dataset_report *rep = NULL;
        char why[512];
        if (gw_dataset_scan(&rep, r->data_dir, &o, &err) ||
            gw_train_auto_preset(r->auto_name, sizeof r->auto_name, why, sizeof why, kind, rep,
                                 &err)) {
            gw_dataset_report_free(rep);
            return gw_cli_error(&err);
        }
        gw_dataset_report_free(rep);
        if (!gw_dist_rank(r->dist)) fprintf(stderr, "%s\n", why);
        r->preset = r->auto_name;
    }
    if (gw_cli_find_preset(r->preset_buf, sizeof r->preset_buf, r->preset, &err))
        return gw_cli_error(&err);
    r->preset = r->preset_buf;
    return -1;
}

gw_status gw_cli_train_dist_start(gw_cli_dist *d, int argc, char **argv, gw_error *err) {
    d->dist = NULL, d->interrupted = d->shared_error = 0;
    /* what Open MPI's and MPICH's launchers set in every process they start */
    if (!getenv("OMPI_COMM_WORLD_SIZE") && !getenv("PMIX_RANK") && !getenv("PMI_RANK"))
        return GW_OK;
    if (!gw_dist_compiled())
        return gw_fail(err, GW_ERR_ARG,
                       "started by mpirun, but this genwave was built without MPI (install "
                       "libopenmpi-dev and rebuild; genwave --version says)");
    double timeout = 600;
    for (int i = 0; i + 1 < argc; i++)
        if (!strcmp(argv[i], "--mpi-timeout")) gw_cli_double(argv[i + 1], 0, 1e6, &timeout);
    return gw_dist_init(&d->dist, &argc, &argv, timeout, err);
}

int gw_cli_train_dist_end(gw_cli_dist *d, int rc) {
    if (rc != 0 && !d->interrupted && !d->shared_error && gw_dist_size(d->dist) > 1) {
        fflush(stdout), fflush(stderr);
        gw_dist_abort(d->dist, rc);
    }
    gw_dist_finalize(d->dist);
    d->dist = NULL;
    return rc;
}

int gw_cli_dist_error(gw_cli_dist *d, const gw_error *err) {
    const int rank = gw_dist_rank(d->dist);
    /* the agreement check fails on every rank at once, with one message */
    d->shared_error = strstr(err->msg, "ranks disagree on the") != NULL;
    if (!rank) return gw_cli_error(err);
    if (!d->shared_error) fprintf(stderr, "genwave: rank %d: %s\n", rank, err->msg);
    return 1;
}
