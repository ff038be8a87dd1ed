/* bench_wavenet_train - WaveNet training throughput on the reference step of
 * shared/spec/reference-models.md: batch 4, each item one receptive field of
 * context + 4096 targets, valid convolutions, cross-entropy on all targets,
 * Adam lr 1e-3. Prints ms/step (median of the timed steps after warm-up),
 * target samples/s, the forward/backward/Adam split, ~GFLOP/s (3 x forward
 * x 2 FLOP, the peers' count) and the ratio to PyTorch's figures measured on
 * this machine (shared/peers/README.md, "Results").
 *
 *   bench_wavenet_train [--models small,medium] [--threads 1,2] [--steps 10]
 *                       [--warmup 3] [--targets 4096] [--batch 4] [--mode kernel|blas|both]
 *
 * Two ways are timed: "kernel" = the training pass's own AVX-512 product
 * kernel with T data-parallel shards (what `genwave train wavenet --threads
 * T` runs), "blas" = every product in OpenBLAS with T threads on one arena. bench/run.sh runs
 * this and, when python3-torch is installed, the PyTorch peer back to back.
 */
#include "base/gw_base.h"
#include "dsp/gw_dsp.h"
#include "models/wavenet.h"
#include "models/wavenet_backprop.h"
#include "nn/optim.h"
#include "train/trainer.h"
#include "train/wavenet_trainer.h"
#include "nn/blas.h"
#include "bench_util.h"

#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* PyTorch 1.13 target samples/s, median of 3 runs (shared/peers/README.md) */
static double peer_samples_per_s(const char *model, int threads) {
    if (!strcmp(model, "wavenet-small")) return threads == 1 ? 31408 : threads == 2 ? 50650 : 0;
    if (!strcmp(model, "wavenet-medium")) return threads == 1 ? 7116 : threads == 2 ? 14742 : 0;
    return 0;
}

static double median(double *v, int n) {
    bench_sort(v, n);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* plausible audio like the peer's: a few random partials plus a little noise */
static void synth_window(uint8_t *out, int n, int sr, gw_rng *rng) {
    float f[4], a[4];
    for (int k = 0; k < 4; k++)
        f[k] = 80 + 1500 * gw_rng_uniform(rng), a[k] = 0.2f * gw_rng_uniform(rng);
    for (int i = 0; i < n; i++) {
        float x = 0.01f * gw_rng_normal(rng);
        for (int k = 0; k < 4; k++)
            x += a[k] * sinf(2 * (float)M_PI * f[k] * i / sr);
        out[i] = gw_mulaw_encode(x);
    }
}

/* shards = 0: every product in OpenBLAS with T threads ("blas");
 * 1: the module's own AVX-512 product kernel (OpenBLAS where the CPU lacks
 * AVX-512), T data-parallel shards, OpenBLAS at 1 thread ("kernel") */
static int bench_one(const char *model, int threads, int shards, int B, int N, int warmup,
                     int steps) {
    char path[4096];
    gw_error err = {0};
    gw_wavenet_config cfg;
    gw_wavenet *m = NULL;
    gw_wavenet_train *t = NULL;
    gw_adam *opt = NULL;
    uint8_t *win = NULL;
    double *tf = NULL, *tb = NULL, *ta = NULL, *tt = NULL, *tc = NULL;
    int rc = 1;
    /* the reference presets: the source tree's (bench/run.sh sets
     * GW_SOURCE_DIR), else ./presets or ../presets (a build folder inside it) */
    char src_presets[4096];
    const char *src = getenv("GW_SOURCE_DIR");
    snprintf(src_presets, sizeof src_presets, "%s/presets", src ? src : "");
    const char *dirs[] = {src ? src_presets : NULL, "presets", "../presets"};
    if (gw_train_find_preset_in(path, sizeof path, model, dirs, 3, &err) ||
        gw_wavenet_config_load(&cfg, path, &err) || gw_wavenet_create(&m, &cfg, &err))
        goto done;
    gw_rng rng;
    gw_rng_seed(&rng, 1234);
    gw_wavenet_weights_init(&m->w, &m->cfg, &rng);
    if (gw_wavenet_train_create(&t, m, B, N, &err)) goto done;
    gw_adam_config ac = gw_adam_defaults();
    ac.lr = 1e-3f;
    if (gw_adam_create(&opt, m->params, &ac, &err)) goto done;
    int W = gw_wavenet_train_window_len(t);
    win = malloc((size_t)B * W);
    tf = malloc(sizeof(double) * steps), tb = malloc(sizeof(double) * steps);
    ta = malloc(sizeof(double) * steps), tt = malloc(sizeof(double) * steps);
    tc = malloc(sizeof(double) * steps);
    if (!win || !tf || !tb || !ta || !tt || !tc) goto done;
    for (int b = 0; b < B; b++)
        synth_window(win + (size_t)b * W, W, cfg.sample_rate, &rng);
    gw_blas_setup(shards ? 1 : threads); /* denormals off in every thread, as training runs */
    gw_wavenet_train_set_gemm(t, shards ? GW_WAVENET_GEMM_AUTO : GW_WAVENET_GEMM_BLAS);
    if (shards && gw_wavenet_train_set_threads(t, threads, &err)) goto done;
    float loss = 0;
    for (int s = -warmup; s < steps; s++) {
        double t0 = bench_now(), c0 = bench_cpu_now();
        gw_params_zero_grad(m->params);
        if (gw_wavenet_train_forward(t, &loss, win, NULL, NULL, 1, &err)) goto done;
        double t1 = bench_now();
        gw_wavenet_train_backward(t);
        double t2 = bench_now();
        if (gw_adam_step(opt, ac.lr, &err)) goto done;
        double t3 = bench_now();
        if (s >= 0)
            tf[s] = t1 - t0, tb[s] = t2 - t1, ta[s] = t3 - t2, tt[s] = t3 - t0,
            tc[s] = bench_cpu_now() - c0;
    }
    double ms = 1e3 * median(tt, steps);
    double sps = (double)B * N / (ms * 1e-3);
    double macs = gw_wavenet_train_forward_macs(&cfg, B, N);
    double peer = (B == 4 && N == 4096) ? peer_samples_per_s(cfg.name, threads) : 0;
    double cpu_ms = 1e3 * median(tc, steps);
    printf("%-15s %s %d  %7.1f ms/step (fwd %.1f, bwd %.1f, adam %.1f; cpu %.1f ms)"
           "  %8.0f target samples/s  ~%5.1f GFLOP/s",
           cfg.name, shards ? "kernel" : "blas  ", threads, ms, 1e3 * median(tf, steps),
           1e3 * median(tb, steps), 1e3 * median(ta, steps), cpu_ms, sps,
           3 * 2 * macs / (ms * 1e-3) / 1e9);
    if (peer > 0) printf("  x%.2f PyTorch (%.0f)", sps / peer, peer);
    printf("  loss %.3f\n", loss);
    printf("RESULT {\"bench\": \"wavenet_train\", \"model\": \"%s\", \"threads\": %d, "
           "\"mode\": \"%s\", \"ms_per_step\": %.2f, \"cpu_ms_per_step\": %.2f, "
           "\"target_samples_per_s\": %.0f, \"ratio_to_pytorch\": %.3f}\n",
           cfg.name, threads, shards ? "kernel" : "blas", ms, cpu_ms, sps,
           peer > 0 ? sps / peer : 0.0);
    fflush(stdout);
    rc = 0;
done:
    if (rc) fprintf(stderr, "bench_wavenet_train: %s: %s\n", model, err.msg);
    free(win), free(tf), free(tb), free(ta), free(tt), free(tc);
    gw_adam_free(opt);
    gw_wavenet_train_free(t);
    gw_wavenet_free(m);
    return rc;
}

int main(int argc, char **argv) {
    const char *models = "small,medium", *threads = "1,2", *mode = "both";
    int steps = 10, warmup = 3, N = 4096, B = 4;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--models"))
            models = argv[i + 1];
        else if (!strcmp(argv[i], "--threads"))
            threads = argv[i + 1];
        else if (!strcmp(argv[i], "--steps"))
            steps = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--warmup"))
            warmup = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--targets"))
            N = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--batch"))
            B = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--mode"))
            mode = argv[i + 1];
        else {
            fprintf(stderr, "bench_wavenet_train: unknown option %s\n", argv[i]);
            return 2;
        }
    }
    if (steps < 1 || warmup < 0 || N < 1 || B < 1) return 2;
    int rc = 0;
    char mbuf[256];
    snprintf(mbuf, sizeof mbuf, "%s", models);
    for (char *save = NULL, *mname = strtok_r(mbuf, ",", &save); mname;
         mname = strtok_r(NULL, ",", &save)) {
        char full[64];
        snprintf(full, sizeof full, "%s%s", strncmp(mname, "wavenet-", 8) ? "wavenet-" : "", mname);
        char tbuf[64];
        snprintf(tbuf, sizeof tbuf, "%s", threads);
        for (char *s2 = NULL, *th = strtok_r(tbuf, ",", &s2); th; th = strtok_r(NULL, ",", &s2)) {
            int T = atoi(th);
            if (T < 1) T = 1;
            if (strcmp(mode, "blas")) rc |= bench_one(full, T, 1, B, N, warmup, steps);
            if (strcmp(mode, "kernel")) rc |= bench_one(full, T, 0, B, N, warmup, steps);
        }
    }
    return rc;
}
