/* The generation planner (wavenet.h, "planner"), in the spirit of FFTW's
 * FFTW_MEASURE: which weight format, SIMD kernels and prefetch run a model
 * fastest is a property of the CPU as much as of the code (the bf16
 * prefetch that gained 10-19% on an AMD EPYC halved the speed on an Intel
 * Xeon), so instead of a rule tuned on one machine the candidates are timed
 * on the model's own shapes, at one voice and at the caller's voice count,
 * within a budget, and the fastest is kept; the choice is remembered per CPU
 * model and model shape in a small "wisdom" text file so the next load does
 * not measure again. */
#include "models/wavenet.h"

#include "models/wavenet_kernels.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define WISDOM_HEADER "genwave wisdom 1"
enum { WISDOM_MAX_BYTES = 1 << 20, TIMED_BATCH_MAX = 16 };

void gw_wavenet_plan_options_default(gw_wavenet_plan_options *o) {
    *o = (gw_wavenet_plan_options){.batch = 1, .budget_ms = 50.0, .force_type = -1};
}

void gw_wavenet_plan_name(const gw_wavenet_plan *p, char *buf, size_t cap) {
    snprintf(buf, cap, "%s/%s/%s", gw_wavenet_weight_type_name(p->type),
             p->isa[0] ? p->isa : "best",
             p->prefetch > 0    ? "prefetch"
             : p->prefetch == 0 ? "noprefetch"
                                : "default");
}

gw_status gw_wavenet_plan_parse(gw_wavenet_plan *out, const char *s, gw_error *err) {
    char t[8], isa[16], pf[16];
    if (sscanf(s, "%7[^/]/%15[^/]/%15s", t, isa, pf) != 3)
        return gw_fail(err, GW_ERR_ARG,
                       "plan '%s' is not TYPE/ISA/PREFETCH (e.g. bf16/avx512/prefetch)", s);
    gw_wavenet_plan p = {.prefetch = -1};
    gw_status st = gw_wavenet_weight_type_parse(&p.type, t, err);
    if (st) return st;
    if (strcmp(isa, "avx512bf16") && strcmp(isa, "avx512vnni") && strcmp(isa, "avx512") &&
        strcmp(isa, "avx2") && strcmp(isa, "scalar") && strcmp(isa, "best"))
        return gw_fail(err, GW_ERR_ARG,
                       "plan '%s': ISA '%s' is not one of avx512bf16, avx512vnni, avx512, avx2, "
                       "scalar, best",
                       s, isa);
    snprintf(p.isa, sizeof p.isa, "%s", strcmp(isa, "best") ? isa : "");
    if (!strcmp(pf, "prefetch"))
        p.prefetch = 1;
    else if (!strcmp(pf, "noprefetch"))
        p.prefetch = 0;
    else if (strcmp(pf, "default"))
        return gw_fail(err, GW_ERR_ARG, "plan '%s': '%s' is not prefetch, noprefetch or default", s,
                       pf);
    *out = p;
    return GW_OK;
}

/* what fixes a plan's speed: the product shapes, not the weights' values */
static void shape_key(const gw_wavenet_config *c, char *buf, size_t cap) {
    uint32_t h = 2166136261u; /* FNV-1a over the dilations: ring sizes */
    for (int l = 0; l < c->n_layers; l++)
        h = (h ^ (uint32_t)c->dilations[l]) * 16777619u;
    int n = snprintf(buf, cap, "r%d.g%d.s%d.h%d.l%d.k%d.c%d.m%d.d%08x", c->residual, c->gate,
                     c->skip, c->head, c->n_layers, c->kernel, c->cond_dim, c->n_mels, h);
    if (c->n_out != GW_WAVENET_CLASSES && n > 0 && (size_t)n < cap) /* a logistic output */
        snprintf(buf + n, cap - (size_t)n, ".o%d.b%d", c->n_out, c->bands);
}

static double now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* ---- wisdom: one line per (CPU, shape, batch, allowed types) ---- */

typedef struct wisdom {
    char *text; /* the file, lines split in place */
    char **line;
    int n;
} wisdom;

static void wisdom_free(wisdom *w) {
    free(w->text);
    free(w->line);
    memset(w, 0, sizeof *w);
}

/* the file's lines after the header; a missing file is empty, a corrupt
 * or foreign one empty with a notice */
static void wisdom_read(wisdom *w, const char *path, char *notice, size_t cap) {
    memset(w, 0, sizeof *w);
    unsigned char *d = NULL;
    size_t n = 0;
    gw_error e = {0};
    if (access(path, F_OK) != 0) return; /* none yet */
    if (gw_read_file(path, WISDOM_MAX_BYTES, "wisdom file", &d, &n, &e)) {
        snprintf(notice, cap, "%.400s; measuring again", e.msg);
        return;
    }
    char *t = (char *)d;
    if (strlen(t) != n || strncmp(t, WISDOM_HEADER "\n", strlen(WISDOM_HEADER) + 1) != 0) {
        snprintf(notice, cap, "%s: not a genwave wisdom file (or another version): ignored", path);
        free(d);
        return;
    }
    int cap_lines = 16;
    w->line = malloc((size_t)cap_lines * sizeof *w->line);
    w->text = t;
    if (!w->line) {
        wisdom_free(w);
        return;
    }
    char *save = NULL;
    strtok_r(t, "\n", &save); /* the header */
    for (char *l; (l = strtok_r(NULL, "\n", &save));) {
        int tabs = 0;
        for (const char *q = l; *q; q++)
            tabs += *q == '\t';
        if (tabs != 6) {
            snprintf(notice, cap, "%s: a malformed line: ignored (measuring again)", path);
            wisdom_free(w);
            return;
        }
        if (w->n == cap_lines) {
            char **more = realloc(w->line, (size_t)(cap_lines *= 2) * sizeof *w->line);
            if (!more) {
                wisdom_free(w);
                return;
            }
            w->line = more;
        }
        w->line[w->n++] = l;
    }
}

/* "cpu\tkey\tbatch\ttypes@isas\t" of this question: isas, the kernel sets
 * this build offers on this CPU, so a build with a new set (avx512bf16)
 * measures again instead of keeping a choice made without it */
static void wisdom_prefix(char *buf, size_t cap, const char *cpu, const char *key, int batch,
                          int force_type, const char *isas) {
    snprintf(buf, cap, "%s\t%s\t%d\t%s@%s\t", cpu, key, batch,
             force_type >= 0 ? gw_wavenet_weight_type_name((gw_wavenet_weight_type)force_type)
                             : "any",
             isas);
}

/* the kernel sets the planner can choose from here, best first ("scalar"
 * where none runs) */
static int plan_isas(const char *isas[5]) {
    int n = 0;
    if (gw_wn_kernels_named("avx512bf16")) isas[n++] = "avx512bf16";
    if (gw_wn_kernels_named("avx512vnni")) isas[n++] = "avx512vnni";
    if (gw_wn_kernels_named("avx512")) isas[n++] = "avx512";
    if (gw_wn_kernels_named("avx2")) isas[n++] = "avx2";
    if (!n) isas[n++] = "scalar";
    return n;
}

static int wisdom_find(const wisdom *w, const char *prefix, gw_wavenet_plan_timing *out) {
    const size_t pn = strlen(prefix);
    for (int i = w->n - 1; i >= 0; i--) {
        if (strncmp(w->line[i], prefix, pn) != 0) continue;
        char plan[64];
        double a, b;
        if (sscanf(w->line[i] + pn, "%63[^\t]\t%lf\t%lf", plan, &a, &b) != 3) return 0;
        gw_error e;
        if (gw_wavenet_plan_parse(&out->plan, plan, &e)) return 0;
        if (out->plan.isa[0] && !gw_wn_kernels_named(out->plan.isa)) return 0;
        out->ns_one = a, out->ns_batch = b;
        return 1;
    }
    return 0;
}

static void wisdom_write(const wisdom *w, const char *path, const char *prefix,
                         const gw_wavenet_plan_timing *t, char *notice, size_t cap) {
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    gw_error e = {0};
    if (slash && slash != dir) {
        *slash = 0;
        if (gw_mkdirs(dir, "wisdom folder", &e)) {
            snprintf(notice, cap, "%.400s (the plan is not remembered)", e.msg);
            return;
        }
    }
    gw_afile af;
    if (gw_afile_open(&af, path, &e)) {
        snprintf(notice, cap, "%.400s (the plan is not remembered)", e.msg);
        return;
    }
    fprintf(af.fp, "%s\n", WISDOM_HEADER);
    const size_t pn = strlen(prefix);
    for (int i = 0; i < w->n; i++)
        if (strncmp(w->line[i], prefix, pn) != 0) fprintf(af.fp, "%s\n", w->line[i]);
    char name[64];
    gw_wavenet_plan_name(&t->plan, name, sizeof name);
    fprintf(af.fp, "%s%s\t%.1f\t%.1f\n", prefix, name, t->ns_one, t->ns_batch);
    if (gw_afile_commit(&af, &e))
        snprintf(notice, cap, "%.400s (the plan is not remembered)", e.msg);
}

/* ---- measuring ---- */

typedef struct bench {
    gw_wavenet_stream *s;
    float *u, *y;
} bench;

/* ns per step of `voices` voices: best of one burst of `steps` */
static double burst(bench *b, int voices, int steps) {
    const double t0 = now_ns();
    for (int i = 0; i < steps; i++)
        gw_wavenet_stream_step(b->s, NULL, b->y, NULL, voices, 1.0f, b->u);
    return (now_ns() - t0) / steps;
}

static gw_status measure(gw_wavenet_plan_timing *cand, int n, const gw_wavenet *m, int batch,
                         double budget_ms, gw_wavenet_plan_report *rep, gw_error *err) {
    bench b[GW_WAVENET_PLAN_MAX] = {{0}};
    gw_status st = GW_OK;
    for (int i = 0; i < n && !st; i++) {
        st = gw_wavenet_stream_create_plan(&b[i].s, m, batch, &cand[i].plan, err);
        if (!st) {
            b[i].u = calloc((size_t)batch * m->cfg.bands, sizeof(float));
            b[i].y = calloc((size_t)batch * m->cfg.bands, sizeof(float));
            if (!b[i].u || !b[i].y) st = gw_fail(err, GW_ERR_NOMEM, "planner: out of memory");
        }
        for (int v = 0; !st && v < batch * m->cfg.bands; v++)
            b[i].u[v] = 0.5f;
    }
    if (!st) {
        /* warm every candidate once (page faults, caches), then size a burst
         * to ~1/40 of the budget over all candidates and both batches */
        double one = 0;
        for (int i = 0; i < n; i++) {
            burst(&b[i], batch, 2);
            one += burst(&b[i], 1, 2) + burst(&b[i], batch, 2);
        }
        const double burst_ns = budget_ms * 1e6 / 40.0 / (n > 0 ? n : 1) / 2.0;
        const int steps_one = (int)fmax(1.0, burst_ns / fmax(1.0, one / n / 2.0));
        for (int i = 0; i < n; i++)
            cand[i].ns_one = cand[i].ns_batch = INFINITY;
        /* rounds over all candidates in turn, each keeping its fastest burst:
         * a neighbour's time slice or a frequency change hits one burst, not
         * one candidate */
        const double t0 = now_ns();
        int rounds = 0;
        do {
            for (int i = 0; i < n; i++) {
                cand[i].ns_one = fmin(cand[i].ns_one, burst(&b[i], 1, steps_one));
                cand[i].ns_batch =
                    fmin(cand[i].ns_batch, burst(&b[i], batch, (steps_one + batch - 1) / batch));
            }
            rounds++;
        } while (rounds < 3 || (now_ns() - t0) < budget_ms * 1e6);
        rep->rounds = rounds;
    }
    for (int i = 0; i < n; i++) {
        gw_wavenet_stream_free(b[i].s);
        free(b[i].u);
        free(b[i].y);
    }
    return st;
}

gw_status gw_wavenet_plan_choose(gw_wavenet_plan *out, const gw_wavenet *m,
                                 const gw_wavenet_plan_options *o, gw_wavenet_plan_report *rep,
                                 gw_error *err) {
    gw_wavenet_plan_report local;
    if (!rep) rep = &local;
    memset(rep, 0, sizeof *rep);
    const double t_start = now_ns();
    const int batch = o->batch < 1 ? 1 : o->batch > TIMED_BATCH_MAX ? TIMED_BATCH_MAX : o->batch;
    gw_cpu_model(rep->cpu, sizeof rep->cpu);
    shape_key(&m->cfg, rep->key, sizeof rep->key);
    if (o->force_type > GW_WAVENET_WEIGHTS_I8)
        return gw_fail(err, GW_ERR_ARG, "planner: unknown weight type %d", o->force_type);

    const char *isas[5];
    const int ni = plan_isas(isas);
    char prefix[320], isa_list[64] = "";
    for (int i = 0; i < ni; i++)
        snprintf(isa_list + strlen(isa_list), sizeof isa_list - strlen(isa_list), "%s%s",
                 i ? "," : "", isas[i]);
    wisdom w = {0};
    wisdom_prefix(prefix, sizeof prefix, rep->cpu, rep->key, batch, o->force_type, isa_list);
    if (o->wisdom) {
        wisdom_read(&w, o->wisdom, rep->notice, sizeof rep->notice);
        if (wisdom_find(&w, prefix, &rep->cand[0])) {
            rep->n = 1, rep->chosen = 0, rep->from_wisdom = 1;
            *out = rep->cand[0].plan;
            wisdom_free(&w);
            rep->ms = (now_ns() - t_start) / 1e6;
            return GW_OK;
        }
    }

    /* the candidates: formats the model allows (f32 alone below
     * GW_WAVENET_BF16_FROM_MACS, where exact weights matter more than
     * bytes: gw_wavenet_default_weights; int8 only for 8-bit mu-law
     * outputs, whose 256 classes already bound the precision, and only
     * where a set has byte products: a 16-bit logistic model's noise floor
     * is what int8 inputs would raise, docs/performance.md), each ISA this
     * CPU runs (scalar only where none does), prefetch off and on */
    const int have_i8 = gw_wn_kernels_avx512vnni() != NULL;
    int types[4], nt = 0;
    if (o->force_type >= 0)
        types[nt++] = o->force_type;
    else if (gw_wavenet_default_weights(&m->cfg) == GW_WAVENET_WEIGHTS_F32)
        types[nt++] = GW_WAVENET_WEIGHTS_F32;
    else {
        types[nt++] = GW_WAVENET_WEIGHTS_F32, types[nt++] = GW_WAVENET_WEIGHTS_F16,
        types[nt++] = GW_WAVENET_WEIGHTS_BF16;
        if (have_i8 && m->cfg.distribution != GW_WAVENET_DIST_LOGISTIC)
            types[nt++] = GW_WAVENET_WEIGHTS_I8;
    }
    for (int t = 0; t < nt; t++) {
        const int i8 = types[t] == GW_WAVENET_WEIGHTS_I8;
        const char *scalar_only[1] = {"scalar"};
        /* int8 without a byte-product set runs on the scalar twin (forced) */
        const char **ts = i8 && !have_i8 ? scalar_only : isas;
        const int tn = i8 && !have_i8 ? 1 : ni;
        for (int i = 0; i < tn; i++)
            for (int pf = 0; pf <= (strcmp(ts[i], "scalar") ? 1 : 0); pf++) {
                /* vdpbf16ps differs from "avx512" only in the bf16 products,
                 * vpdpbusd only in the int8 ones */
                if (!strcmp(ts[i], "avx512bf16") && types[t] != GW_WAVENET_WEIGHTS_BF16) continue;
                if ((!strcmp(ts[i], "avx512vnni")) != i8 && strcmp(ts[i], "scalar")) continue;
                if (rep->n == GW_WAVENET_PLAN_MAX) break;
                gw_wavenet_plan_timing *c = &rep->cand[rep->n++];
                c->plan =
                    (gw_wavenet_plan){.type = (gw_wavenet_weight_type)types[t], .prefetch = pf};
                snprintf(c->plan.isa, sizeof c->plan.isa, "%s", ts[i]);
            }
    }

    gw_status st = GW_OK;
    if (o->timer) {
        for (int i = 0; i < rep->n; i++) {
            rep->cand[i].ns_one = o->timer(o->timer_ctx, &rep->cand[i].plan, 1);
            rep->cand[i].ns_batch = o->timer(o->timer_ctx, &rep->cand[i].plan, batch);
        }
    } else {
        st = measure(rep->cand, rep->n, m, batch, o->budget_ms > 0 ? o->budget_ms : 50.0, rep, err);
    }
    if (st) {
        wisdom_free(&w);
        return st;
    }
    /* the score: a sample at one voice plus a sample at `batch` voices, the
     * usual case and the worst one a real-time host must survive */
    int best = 0;
    for (int i = 1; i < rep->n; i++)
        if (rep->cand[i].ns_one + rep->cand[i].ns_batch <
            rep->cand[best].ns_one + rep->cand[best].ns_batch)
            best = i;
    rep->chosen = best;
    *out = rep->cand[best].plan;
    if (o->wisdom)
        wisdom_write(&w, o->wisdom, prefix, &rep->cand[best], rep->notice, sizeof rep->notice);
    wisdom_free(&w);
    rep->ms = (now_ns() - t_start) / 1e6;
    return GW_OK;
}
