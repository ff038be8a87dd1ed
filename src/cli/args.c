/* Option parsing shared by the subcommands: see args.h. */
#include "cli/args.h"
#include "nn/gwm.h"

#include "models/wavenet.h"
#include "models/wavenet_kernels.h"
#include "train/trainer.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int gw_cli_error(const gw_error *err) {
    fprintf(stderr, "genwave: %s\n", err->msg);
    return 1;
}

int gw_cli_int(const char *s, long lo, long hi, long *out) {
    if (!s) return 0;
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi) return 0;
    *out = v;
    return 1;
}

int gw_cli_double(const char *s, double lo, double hi, double *out) {
    if (!s) return 0;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !isfinite(v) || v < lo || v > hi) return 0;
    *out = v;
    return 1;
}

int gw_cli_number(const char *s, double *out) {
    return gw_cli_double(s, -HUGE_VAL, HUGE_VAL, out);
}

int gw_cli_int_opt(int *out, const char *opt, const char *s, long lo, long hi) {
    long v;
    if (!gw_cli_int(s, lo, hi, &v)) {
        fprintf(stderr, "genwave: %s: '%s' is not an integer in [%ld, %ld]\n", opt, s ? s : "", lo,
                hi);
        return 0;
    }
    *out = (int)v;
    return 1;
}

int gw_cli_double_opt(double *out, const char *opt, const char *s, double lo, double hi) {
    if (!gw_cli_double(s, lo, hi, out)) {
        fprintf(stderr, "genwave: %s: '%s' is not a number in [%g, %g]\n", opt, s ? s : "", lo, hi);
        return 0;
    }
    return 1;
}

int gw_cli_bad_value(const char *cmd, const char *opt, const char *v) {
    fprintf(stderr, "genwave %s: bad value '%s' for %s\n", cmd, v ? v : "", opt);
    return 2;
}

int gw_cli_unexpected(const char *cmd, const char *arg, void (*usage)(FILE *out)) {
    fprintf(stderr, "genwave %s: unexpected argument '%s'\n", cmd, arg);
    usage(stderr);
    return 2;
}

/* 1 when a is option o with its values at argv[i + 1 ...] (*i moved past
 * them), -1 for a bad value, 0 when a is not o or o's values are missing */
static int take_opt(const gw_cli_opt *o, int argc, char **argv, int *i, int *code) {
    const int nargs = o->type == GW_CLI_FLAG ? 0 : o->nargs > 0 ? o->nargs : 1;
    if (strcmp(argv[*i], o->name) || *i + nargs >= argc) return 0;
    const char *v = argv[*i + 1];
    long x;
    switch (o->type) {
    case GW_CLI_STR:
        *(const char **)o->out = v;
        break;
    case GW_CLI_INT:
        if (!gw_cli_int(v, (long)o->lo, (long)o->hi, &x)) return -1;
        *(long *)o->out = x;
        break;
    case GW_CLI_DOUBLE:
        if (!gw_cli_double(v, o->lo, o->hi, (double *)o->out)) return -1;
        break;
    case GW_CLI_FLAG:
        *(int *)o->out = 1;
        break;
    case GW_CLI_CUSTOM:
        if ((*code = o->take(o->out, argv + *i + 1))) return -2;
        break;
    }
    if (o->given) *o->given = 1;
    *i += nargs;
    return 1;
}

int gw_cli_parse(int argc, char **argv, const char *cmd, void (*usage)(FILE *out),
                 const gw_cli_opt *opts, int n_opts, const char **pos[], int n_pos) {
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return 0;
        }
        int taken = 0, code = 0;
        for (int k = 0; k < n_opts && !taken; k++)
            taken = take_opt(&opts[k], argc, argv, &i, &code);
        if (taken == -1) return gw_cli_bad_value(cmd, a, argv[i + 1]);
        if (taken == -2) return code;
        if (taken) continue;
        int p = 0;
        while (p < n_pos && *pos[p])
            p++;
        if (a[0] == '-' || p == n_pos) return gw_cli_unexpected(cmd, a, usage);
        *pos[p] = a;
    }
    return -1;
}

char *gw_cli_join(const char *prefix, int argc, char **argv) {
    size_t len = strlen(prefix) + 1;
    for (int i = 0; i < argc; i++)
        len += strlen(argv[i]) + 1;
    char *s = malloc(len);
    if (!s) return NULL;
    strcpy(s, prefix);
    for (int i = 0; i < argc; i++)
        strcat(s, " "), strcat(s, argv[i]);
    return s;
}

int gw_cli_mkdirs(const char *dir) {
    gw_error err = {0};
    return gw_mkdirs(dir, "output directory", &err) ? gw_cli_error(&err) : 0;
}

int gw_cli_precision(int *out, const char *cmd, const char *v) {
    gw_error err = {0};
    gw_wavenet_weight_type t;
    if (gw_wavenet_weight_type_parse(&t, v, &err)) {
        fprintf(stderr, "genwave %s: --precision: %s\n", cmd, err.msg);
        return 0;
    }
    *out = (int)t;
    return 1;
}

int gw_cli_plan(gw_wavenet_plan *plan, int *measure, const char *cmd, const char *v) {
    if (!strcmp(v, "measure")) {
        *measure = 1;
        return 1;
    }
    gw_error err = {0};
    if (gw_wavenet_plan_parse(plan, v, &err)) {
        fprintf(stderr, "genwave %s: --plan: %s (or 'measure')\n", cmd, err.msg);
        return 0;
    }
    *measure = 0;
    return 1;
}

gw_status gw_cli_find_preset(char *path, size_t cap, const char *name_or_file, gw_error *err) {
    enum { N_DIRS = 6, DIR_MAX = PATH_MAX + 32 };
    char exe[PATH_MAX] = "", buf[N_DIRS][DIR_MAX];
    const char *dirs[N_DIRS];
    int nd = 0;
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = 0;
        char *slash = strrchr(exe, '/');
        if (slash) *slash = 0;
    }
    const char *env = getenv("GW_PRESETS_DIR"), *src = getenv("GW_SOURCE_DIR");
    if (env && *env) snprintf(buf[nd++], DIR_MAX, "%s", env);
    snprintf(buf[nd++], DIR_MAX, "presets");
    if (*exe) {
        snprintf(buf[nd++], DIR_MAX, "%s/presets", exe);
        snprintf(buf[nd++], DIR_MAX, "%s/../presets", exe);
        snprintf(buf[nd++], DIR_MAX, "%s/../share/genwave/presets", exe);
    }
    if (src && *src) snprintf(buf[nd++], DIR_MAX, "%s/presets", src);
    for (int i = 0; i < nd; i++)
        dirs[i] = buf[i];
    return gw_train_find_preset_in(path, cap, name_or_file, dirs, nd, err);
}

void gw_cli_isa_cap(char *isa, size_t cap) {
    const char *want = getenv("GW_WAVENET_ISA");
    if (!cap || isa[0] || !want || !*want) return;
    snprintf(isa, cap, "%s", gw_wn_kernels_capped(want)->name);
}

int gw_cli_edit_distance(const char *a, const char *b) {
    enum { MAX = 64 };
    size_t n = strlen(a), m = strlen(b);
    if (n >= MAX || m >= MAX) return MAX;
    int row[MAX + 1];
    for (size_t j = 0; j <= m; j++) row[j] = (int)j;
    for (size_t i = 1; i <= n; i++) {
        int diag = row[0];
        row[0] = (int)i;
        for (size_t j = 1; j <= m; j++) {
            const int up = row[j];
            const int sub = diag + (a[i - 1] != b[j - 1]);
            row[j] = sub < up + 1 ? (sub < row[j - 1] + 1 ? sub : row[j - 1] + 1)
                                  : (up + 1 < row[j - 1] + 1 ? up + 1 : row[j - 1] + 1);
            diag = up;
        }
    }
    return row[m];
}

int gw_cli_note_range(const char *s, int *lo, int *hi) {
    char *end;
    long a = strtol(s, &end, 10), b = a;
    if (end == s) return 0;
    if (*end == '-') {
        const char *t = end + 1;
        b = strtol(t, &end, 10);
        if (end == t) return 0;
    }
    if (*end || a < 0 || b > 127 || a > b) return 0;
    *lo = (int)a, *hi = (int)b;
    return 1;
}

int gw_cli_model_notes(const gw_gwm *f, int *lo, int *hi) {
    const char *a = gw_gwm_meta(f, "train.note_min"), *b = gw_gwm_meta(f, "train.note_max");
    long x, y;
    *lo = 0, *hi = 127;
    if (!a || !b || !gw_cli_int(a, 0, 127, &x) || !gw_cli_int(b, 0, 127, &y) || x > y) return 0;
    *lo = (int)x, *hi = (int)y;
    return 1;
}
