/* bench_wavenet_generate - fast incremental WaveNet generation speed, the
 * same measurement as the PyTorch peer's `wavenet_peer.py generate`
 * (shared/peers/README.md): 1 s of audio per voice from silence, random
 * weights, sampling at temperature 1, batch 1 and 8 voices, one thread.
 *
 *   bench_wavenet_generate [--presets DIR] [--models small,medium]
 *                          [--batches 1,8] [--weights f32,f16,bf16,i8] [--seconds 1]
 *                          [--runs 5] [--plans TYPE/ISA/PREFETCH,...|measure]
 *
 * --plans times the given plans (models/wavenet.h) instead of --weights'
 * defaults, e.g. bf16/avx512/prefetch,bf16/avx512/noprefetch for the
 * prefetch A/B, or "measure" for what the planner picks per batch; the
 * jobs are interleaved run by run. The first line names the CPU.
 *
 * Prints, per model and batch, the median [min..max] of --runs runs (after
 * two warm-up runs) of samples/s per voice, x real time, and GFLOP/s
 * counting 2 FLOP per multiply-add of the spec's count
 * (gw_wavenet_macs_per_sample), and one "RESULT {json}" line each.
 * GW_WAVENET_ISA=avx2|scalar caps the kernels of the plans that leave the
 * ISA to the library (default: the best here): read once here, the capped
 * set's name goes into those plans (the library reads no environment). */
#include "models/wavenet.h"
#include "models/wavenet_kernels.h"
#include "bench_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { MAX_RUNS = 51 };

/* whether the comma-separated list holds name as a whole item ("f16" is not
 * in "bf16") */
static int in_list(const char *list, const char *name) {
    size_t n = strlen(name);
    for (const char *p = list; p; p = strchr(p, ',') ? strchr(p, ',') + 1 : NULL)
        if (!strncmp(p, name, n) && (p[n] == ',' || p[n] == '\0')) return 1;
    return 0;
}

enum { MAX_JOBS = 64 };

/* the kernel set $GW_WAVENET_ISA caps to ("" = none), set once in main */
static char isa_cap[8];

/* every (plan, batch) job is timed once per round, rounds interleaved, so a
 * slow spell of the shared machine hits all of them alike (A/B) */
static int bench_model(const char *presets, const char *model, const int *batches, int n_batches,
                       const char *weights, const char *plans, double seconds, int runs) {
    char path[8192 + 64];
    snprintf(path, sizeof path, "%.8192s/wavenet-%.32s.json", presets, model);
    gw_error err = {0};
    gw_wavenet_config cfg;
    gw_wavenet *m = NULL;
    if (gw_wavenet_config_load(&cfg, path, &err) || gw_wavenet_create(&m, &cfg, &err)) {
        fprintf(stderr, "bench_wavenet_generate: %s\n", err.msg);
        return 1;
    }
    gw_rng rng;
    gw_rng_seed(&rng, 1234);
    gw_wavenet_weights_init(&m->w, &m->cfg, &rng);
    const size_t n = (size_t)(seconds * cfg.sample_rate + 0.5);
    const double macs = (double)gw_wavenet_macs_per_sample(&cfg);
    /* the plans: --plans TYPE/ISA/PREFETCH,... or "measure" (the planner's
     * choice for each batch), else each of --weights with its defaults */
    gw_wavenet_plan plan[MAX_JOBS];
    int measured[MAX_JOBS] = {0}, np = 0;
    if (plans) {
        char buf[1024];
        snprintf(buf, sizeof buf, "%s", plans);
        for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok && np < MAX_JOBS;
             tok = strtok_r(NULL, ",", &save)) {
            if (!strcmp(tok, "measure")) {
                measured[np] = 1, plan[np++] = (gw_wavenet_plan){.prefetch = -1};
            } else if (gw_wavenet_plan_parse(&plan[np++], tok, &err)) {
                fprintf(stderr, "bench_wavenet_generate: %s\n", err.msg);
                gw_wavenet_free(m);
                return 2;
            }
        }
    } else {
        static const char *const tn[] = {"f32", "f16", "bf16", "i8"};
        for (int t = 0; t < 4; t++)
            if (in_list(weights, tn[t]))
                plan[np++] = (gw_wavenet_plan){.type = (gw_wavenet_weight_type)t, .prefetch = -1};
    }
    struct job {
        gw_wavenet_stream *s;
        float *audio;
        int B;
        double t[MAX_RUNS], cpu[MAX_RUNS];
    } *jobs = calloc(MAX_JOBS, sizeof *jobs);
    int nj = 0, rc = 0;
    for (int p = 0; p < np && !rc; p++)
        for (int bi = 0; bi < n_batches && nj < MAX_JOBS && !rc; bi++) {
            struct job *j = &jobs[nj++];
            j->B = batches[bi];
            gw_wavenet_plan use = plan[p];
            if (measured[p]) {
                gw_wavenet_plan_options o;
                gw_wavenet_plan_options_default(&o);
                o.batch = j->B;
                rc = gw_wavenet_plan_choose(&use, m, &o, NULL, &err) != GW_OK;
            } else if (!use.isa[0]) {
                snprintf(use.isa, sizeof use.isa, "%s", isa_cap);
            }
            j->audio = malloc(sizeof(float) * n * (size_t)j->B);
            if (rc || !j->audio || gw_wavenet_stream_create_plan(&j->s, m, j->B, &use, &err)) {
                fprintf(stderr, "bench_wavenet_generate: %s\n", j->audio ? err.msg : "out of memory");
                rc = 1;
            }
        }
    /* wall time is the figure; the thread's CPU time beside it shows how
     * much of a slow run was the machine being busy with other work */
    for (int r = -2; r < runs && !rc; r++)
        for (int k = 0; k < nj; k++) {
            struct job *j = &jobs[k];
            for (int v = 0; v < j->B; v++) gw_wavenet_stream_reset(j->s, v);
            double t0 = bench_clock(CLOCK_MONOTONIC), c0 = bench_clock(CLOCK_THREAD_CPUTIME_ID);
            gw_wavenet_stream_generate(j->s, j->audio, j->B, n, 1.0f, &rng);
            if (r >= 0) {
                j->t[r] = bench_clock(CLOCK_MONOTONIC) - t0;
                j->cpu[r] = bench_clock(CLOCK_THREAD_CPUTIME_ID) - c0;
            }
        }
    for (int k = 0; k < nj && !rc; k++) {
        struct job *j = &jobs[k];
        const int B = j->B;
        bench_sort(j->t, runs);
        bench_sort(j->cpu, runs);
        double per_voice_cpu = n / j->cpu[runs / 2];
        double med = j->t[runs / 2], per_voice = n / med;
        double lo = n / j->t[runs - 1], hi = n / j->t[0];
        double gflops = 2.0 * macs * per_voice * B / 1e9;
        const gw_wavenet_plan used = gw_wavenet_stream_plan(j->s);
        char name[64];
        gw_wavenet_plan_name(&used, name, sizeof name);
        const char *tname = gw_wavenet_weight_type_name(used.type);
        printf("wavenet-%s generate (%s), batch %d, 1 thread: %.0f samples/s per voice "
               "[%.0f..%.0f] (by CPU time %.0f), %.2fx real time, %.1f GFLOP/s, %.2f us per step\n",
               model, name, B, per_voice, lo, hi, per_voice_cpu, per_voice / cfg.sample_rate,
               gflops, 1e6 * med / n);
        printf("RESULT {\"model\": \"wavenet-%s\", \"mode\": \"generate\", \"impl\": \"genwave-%s-%s%s\", "
               "\"plan\": \"%s\", \"threads\": 1, \"batch\": %d, \"samples\": %zu, \"runs\": %d, "
               "\"samples_per_s_per_voice\": %.1f, \"min\": %.1f, \"max\": %.1f, \"by_cpu_time\": %.1f, "
               "\"x_realtime\": %.4f, \"gflops\": %.2f, \"spec_mac_per_sample\": %.0f}\n",
               model, used.isa, tname, plans ? (used.prefetch ? "-pf" : "-nopf") : "", name, B, n,
               runs, per_voice, lo, hi, per_voice_cpu, per_voice / cfg.sample_rate, gflops, macs);
        fflush(stdout);
    }
    for (int k = 0; k < nj; k++) {
        gw_wavenet_stream_free(jobs[k].s);
        free(jobs[k].audio);
    }
    free(jobs);
    gw_wavenet_free(m);
    return rc;
}

int main(int argc, char **argv) {
    const char *presets = NULL, *models = "small,medium", *batch_list = "1,8", *weights = "f32,f16,bf16";
    const char *plans = NULL;
    double seconds = 1.0;
    int runs = 5;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v) goto usage;
        if (!strcmp(a, "--presets")) presets = v;
        else if (!strcmp(a, "--models")) models = v;
        else if (!strcmp(a, "--batches")) batch_list = v;
        else if (!strcmp(a, "--weights")) weights = v;
        else if (!strcmp(a, "--plans")) plans = v;
        else if (!strcmp(a, "--seconds")) seconds = atof(v);
        else if (!strcmp(a, "--runs")) runs = atoi(v);
        else goto usage;
        i++;
    }
    if (runs < 1 || runs > MAX_RUNS || !(seconds > 0 && seconds < 600)) goto usage;
    const char *cap = getenv("GW_WAVENET_ISA");
    if (cap && *cap) snprintf(isa_cap, sizeof isa_cap, "%s", gw_wn_kernels_capped(cap)->name);
    char dir[4096];
    if (!presets) { /* from a build directory inside the source tree, or GW_SOURCE_DIR */
        const char *src = getenv("GW_SOURCE_DIR");
        snprintf(dir, sizeof dir, "%s/presets", src ? src : "..");
        presets = dir;
    }
    int batches[16], nb = 0;
    for (const char *p = batch_list; *p && nb < 16;) {
        batches[nb] = atoi(p);
        if (batches[nb] < 1 || batches[nb] > 1024) goto usage;
        nb++;
        p = strchr(p, ',');
        if (!p) break;
        p++;
    }
    char buf[256], cpu[96];
    printf("cpu: %s\n", gw_cpu_model(cpu, sizeof cpu));
    snprintf(buf, sizeof buf, "%s", models);
    int rc = 0;
    for (char *tok = strtok(buf, ","); tok; tok = strtok(NULL, ","))
        rc |= bench_model(presets, tok, batches, nb, weights, plans, seconds, runs);
    return rc;
usage:
    fprintf(stderr, "usage: bench_wavenet_generate [--presets DIR] [--models small,medium] "
                    "[--batches 1,8] [--weights f32,f16,bf16 | --plans P,P,...] [--seconds S] "
                    "[--runs N (1..%d)]\n", MAX_RUNS);
    return 2;
}
