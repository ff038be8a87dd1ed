/* genwave dataset DIR: scan a folder of sounds and report what training
 * would see (files, durations, rates, channels, labels, split, and every
 * file that would be skipped and why). */
#include "base/gw_base.h"
#include "cli/args.h"
#include "io/dataset.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *out) {
    fprintf(
        out,
        "usage: genwave dataset DIR [options]\n"
        "  --rate HZ          model sample rate (to report clips that need padding)\n"
        "  --min-seconds S    skip sounds shorter than S after trimming (default 0.05)\n"
        "  --silence-db DB    silence threshold in dBFS for trimming/skipping (default -60)\n"
        "  --clip-samples N   report files shorter than one clip of N samples (needs --rate)\n"
        "  --val-fraction F   share of files held out for validation (default 0.1)\n"
        "  --seed N           split seed (default 1)\n"
        "  --no-trim          keep leading/trailing silence\n"
        "  --list             one line per file: status, length, rate, channels, label, side\n");
}

int gw_cmd_dataset(int argc, char **argv) {
    gw_dataset_opts o;
    gw_dataset_opts_default(&o);
    const char *dir = NULL;
    int list = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        double v;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(a, "--rate")) {
            if (!gw_cli_double_opt(&v, a, i + 1 < argc ? argv[++i] : NULL, 1000, 768000)) return 2;
            o.sample_rate = (int)v;
        } else if (!strcmp(a, "--min-seconds")) {
            if (!gw_cli_double_opt(&v, a, i + 1 < argc ? argv[++i] : NULL, 0, 3600)) return 2;
            o.min_seconds = v;
        } else if (!strcmp(a, "--silence-db")) {
            if (!gw_cli_double_opt(&v, a, i + 1 < argc ? argv[++i] : NULL, -200, 0)) return 2;
            o.silence_db = (float)v;
        } else if (!strcmp(a, "--clip-samples")) {
            if (!gw_cli_double_opt(&v, a, i + 1 < argc ? argv[++i] : NULL, 1, 1 << 30)) return 2;
            o.clip_samples = (size_t)v;
        } else if (!strcmp(a, "--val-fraction")) {
            if (!gw_cli_double_opt(&v, a, i + 1 < argc ? argv[++i] : NULL, 0, 1)) return 2;
            o.val_fraction = v;
        } else if (!strcmp(a, "--seed")) {
            if (!gw_cli_double_opt(&v, a, i + 1 < argc ? argv[++i] : NULL, 0, 9007199254740992.0))
                return 2;
            o.split_seed = (uint64_t)v;
        } else if (!strcmp(a, "--no-trim")) {
            o.trim = 0;
        } else if (!strcmp(a, "--list")) {
            list = 1;
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "genwave: dataset: unknown option '%s'\n", a);
            usage(stderr);
            return 2;
        } else if (!dir) {
            dir = a;
        } else {
            fprintf(stderr, "genwave: dataset: one folder only ('%s' and '%s')\n", dir, a);
            return 2;
        }
    }
    if (!dir) {
        usage(stderr);
        return 2;
    }
    gw_dataset_report *r = NULL;
    gw_error err = {0};
    if (gw_dataset_scan(&r, dir, &o, &err)) {
        fprintf(stderr, "genwave: %s\n", err.msg);
        return 1;
    }
    gw_dataset_report_write(r, stdout);
    if (list) {
        static const char *status[] = {"ok", "unreadable", "silent", "too-short"};
        printf("files:\n  %-10s %8s %8s %6s %4s %4s %-5s %s\n", "status", "seconds", "trimmed",
               "rate", "ch", "note", "side", "file");
        for (size_t i = 0; i < r->n_files; i++) {
            const gw_dataset_file *f = &r->files[i];
            char note[16] = "-", name[1024];
            if (f->note >= 0) snprintf(note, sizeof note, "%d", f->note);
            printf("  %-10s %8.3f %8.3f %6d %4d %4s %-5s %s\n", status[f->status], f->seconds,
                   f->trimmed_seconds, f->sample_rate, f->channels, note,
                   f->status != GW_FILE_OK ? "-"
                   : f->is_val             ? "val"
                                           : "train",
                   gw_printable(name, sizeof name, f->rel));
        }
    }
    int rc = 0;
    if (r->n_ok == 0) {
        fprintf(stderr,
                "genwave: %s: no usable audio (%zu silent, %zu too short, %zu unreadable)\n", dir,
                r->n_silent, r->n_short, r->n_unreadable);
        rc = 1;
    }
    gw_dataset_report_free(r);
    return rc;
}
