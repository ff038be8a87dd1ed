/* bench_pixelcnn - Gated PixelCNN speed, the same measurements as the
 * PyTorch peer (shared/peers/pixelcnn_peer.py train / sample), for
 * pixelcnn-small (shared/spec/reference-models.md) with random weights:
 *   train   one training step at batch 16 on uniform random pixels: the
 *           forward and backward of gw_pixelcnn_train_* (softmax
 *           cross-entropy over the 256 classes of every pixel) and one Adam
 *           step (lr 1e-3), as train pixelcnn runs it; examples/s.
 *           "threads T" is what `train pixelcnn --threads T` runs: T
 *           data-parallel shards of the batch on as many threads
 *           (gw_pixelcnn_train_set_threads), OpenBLAS at 1 thread.
 *   sample  the cached sampler (gw_pixelcnn_sampler_run) drawing one whole
 *           64 x 64 image at temperature 1, unconditioned, one thread;
 *           seconds per image (the peer's naive sampler extrapolates its
 *           figure from its first rows).
 *
 *   bench_pixelcnn [--mode train|sample|both] [--threads 1,2] [--steps 4]
 *                  [--warmup 1] [--images 5] [--preset FILE] [--precision f32|bf16]
 *
 * --precision bf16 trains with the convolutions' products in bf16
 * (gw_pixelcnn_train_set_bf16, `train pixelcnn --precision bf16`); on a CPU
 * without AVX512_BF16 it says so and runs f32.
 *
 * Prints the CPU first, then per measurement the median [min..max] over
 * the timed steps / images, with the CPU time beside the wall time (on a
 * shared machine the wall clock also counts other tenants' slices): for
 * training the process's CPU time per step divided by the thread count
 * (spinning OpenBLAS workers count too), for sampling the thread's. One
 * "RESULT {json}" line per measurement; bench/pixelcnn.sh runs this and
 * the peer alternately and prints the ratios. */
#include "models/pixelcnn.h"
#include "nn/blas.h"
#include "nn/im2col.h"
#include "nn/optim.h"
#include "bench_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { MAX_RUNS = 64, MAX_THREADS = 8 };

static int bench_train(const gw_pixelcnn_config *cfg, const int *threads, int nt, int steps,
                       int warmup, int bf16) {
    gw_error err = {0};
    gw_pixelcnn *m = NULL;
    gw_pixelcnn_train *t = NULL;
    gw_adam *opt = NULL;
    uint8_t *q = NULL;
    int rc = 1;
    const int B = cfg->batch;
    if (gw_pixelcnn_create(&m, cfg, &err)) goto fail;
    gw_rng rng;
    gw_rng_seed(&rng, 1234);
    gw_pixelcnn_weights_init(&m->w, &m->cfg, &rng);
    gw_adam_config ac = gw_adam_defaults();
    ac.lr = cfg->lr, ac.beta1 = cfg->beta1, ac.beta2 = cfg->beta2;
    if (gw_pixelcnn_train_create(&t, m, B, &err) || gw_adam_create(&opt, m->params, &ac, &err))
        goto fail;
    const size_t n = (size_t)B * m->cfg.height * m->cfg.width;
    if (!(q = malloc(n))) goto fail;
    for (size_t i = 0; i < n; i++)
        q[i] = (uint8_t)(gw_rng_u64(&rng) >> 56);
    const double macs = (double)gw_pixelcnn_macs_per_pixel(&m->cfg) * m->cfg.height * m->cfg.width;
    for (int k = 0; k < nt; k++) {
        /* what `genwave train pixelcnn --threads T` runs: T data-parallel
         * shards, each product on its shard's thread (OpenBLAS at 1) */
        gw_blas_setup(1);
        if (gw_pixelcnn_train_set_threads(t, threads[k], &err)) goto fail;
        const char *prec = gw_pixelcnn_train_set_bf16(t, bf16) ? "bf16" : "f32";
        double wt[MAX_RUNS], ct[MAX_RUNS];
        float loss = 0;
        for (int s = -warmup; s < steps; s++) {
            double t0 = bench_now(), c0 = bench_cpu_now();
            gw_params_zero_grad(m->params);
            if (gw_pixelcnn_train_forward(t, &loss, q, NULL, 1, &err)) goto fail;
            gw_pixelcnn_train_backward(t);
            if (gw_adam_step(opt, opt->cfg.lr, &err)) goto fail;
            if (s >= 0) wt[s] = bench_now() - t0, ct[s] = (bench_cpu_now() - c0) / threads[k];
        }
        bench_sort(wt, steps);
        bench_sort(ct, steps);
        const double med = wt[steps / 2], cmed = ct[steps / 2];
        /* 3 x the forward's MACs for forward + backward, 2 FLOP each */
        const double gflops = 6.0 * macs * B / med / 1e9;
        printf("pixelcnn-small train (%s), batch %d, threads %d: %.0f ms/step [%.0f..%.0f], "
               "%.2f examples/s [%.2f..%.2f]; by CPU time per thread %.0f ms/step = %.2f "
               "examples/s; ~%.1f GFLOP/s (%d steps after %d warm-up; loss %.3f bits/dim)\n",
               prec, B, threads[k], 1e3 * med, 1e3 * wt[0], 1e3 * wt[steps - 1], B / med,
               B / wt[steps - 1], B / wt[0], 1e3 * cmed, B / cmed, gflops, steps, warmup,
               loss / 0.6931471805599453);
        printf(
            "RESULT {\"bench\": \"pixelcnn\", \"impl\": \"genwave\", \"model\": "
            "\"pixelcnn-small\", "
            "\"mode\": \"train\", \"precision\": \"%s\", \"threads\": %d, \"batch\": %d, "
            "\"steps\": %d, "
            "\"ms_per_step\": %.2f, \"ms_min\": %.2f, \"ms_max\": %.2f, \"examples_per_s\": %.4f, "
            "\"cpu_ms_per_step_per_thread\": %.2f, \"examples_per_s_by_cpu\": %.4f, "
            "\"gflops\": %.2f}\n",
            prec, threads[k], B, steps, 1e3 * med, 1e3 * wt[0], 1e3 * wt[steps - 1], B / med,
            1e3 * cmed, B / cmed, gflops);
        fflush(stdout);
    }
    rc = 0;
    goto done;
fail:
    fprintf(stderr, "bench_pixelcnn: %s\n", err.msg[0] ? err.msg : "out of memory");
done:
    free(q);
    gw_adam_free(opt);
    gw_pixelcnn_train_free(t);
    gw_pixelcnn_free(m);
    return rc;
}

static int bench_sample(const gw_pixelcnn_config *cfg, int images, int warmup) {
    gw_error err = {0};
    gw_pixelcnn *m = NULL;
    gw_pixelcnn_sampler *s = NULL;
    uint8_t *q = NULL;
    int rc = 1;
    gw_blas_setup(1); /* one thread: the sampler's own kernels, and BLAS if any */
    if (gw_pixelcnn_create(&m, cfg, &err)) goto fail;
    gw_rng rng;
    gw_rng_seed(&rng, 1234);
    gw_pixelcnn_weights_init(&m->w, &m->cfg, &rng);
    if (gw_pixelcnn_sampler_create(&s, m, &err)) goto fail;
    const int H = m->cfg.height, W = m->cfg.width;
    if (!(q = calloc((size_t)H * W, 1))) goto fail;
    double wt[MAX_RUNS], ct[MAX_RUNS];
    for (int i = -warmup; i < images; i++) {
        double t0 = bench_now(), c0 = bench_clock(CLOCK_THREAD_CPUTIME_ID);
        if (gw_pixelcnn_sampler_run(s, q, 0, 0, 1.0f, &rng, NULL, &err)) goto fail;
        if (i >= 0) wt[i] = bench_now() - t0, ct[i] = bench_clock(CLOCK_THREAD_CPUTIME_ID) - c0;
    }
    bench_sort(wt, images);
    bench_sort(ct, images);
    const double med = wt[images / 2], cmed = ct[images / 2];
    const double macs = (double)gw_pixelcnn_macs_per_pixel(&m->cfg) * H * W;
    printf("pixelcnn-small cached sampling, 1 thread: %.1f ms per %dx%d image [%.1f..%.1f], "
           "%.2f us per pixel; by CPU time %.1f ms; %.1f GMAC/s (%d images after %d warm-up)\n",
           1e3 * med, H, W, 1e3 * wt[0], 1e3 * wt[images - 1], 1e6 * med / (H * W), 1e3 * cmed,
           macs / med / 1e9, images, warmup);
    printf("RESULT {\"bench\": \"pixelcnn\", \"impl\": \"genwave\", \"model\": \"pixelcnn-small\", "
           "\"mode\": \"sample\", \"threads\": 1, \"images\": %d, \"s_per_image\": %.6f, "
           "\"s_min\": %.6f, \"s_max\": %.6f, \"cpu_s_per_image\": %.6f, \"us_per_pixel\": %.3f, "
           "\"gmacs\": %.2f}\n",
           images, med, wt[0], wt[images - 1], cmed, 1e6 * med / (H * W), macs / med / 1e9);
    fflush(stdout);
    rc = 0;
    goto done;
fail:
    fprintf(stderr, "bench_pixelcnn: %s\n", err.msg[0] ? err.msg : "out of memory");
done:
    free(q);
    gw_pixelcnn_sampler_free(s);
    gw_pixelcnn_free(m);
    return rc;
}

static int int_arg(const char *s, int lo, int hi, int *out) {
    char *e;
    long v = strtol(s, &e, 10);
    if (e == s || *e || v < lo || v > hi) return 0;
    *out = (int)v;
    return 1;
}

int main(int argc, char **argv) {
    const char *mode = "both", *preset = NULL;
    int threads[MAX_THREADS] = {1, 2}, nt = 2, steps = 4, warmup = 1, images = 5, bf16 = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v) goto usage;
        if (!strcmp(a, "--mode"))
            mode = v;
        else if (!strcmp(a, "--preset"))
            preset = v;
        else if (!strcmp(a, "--precision")) {
            if (strcmp(v, "f32") && strcmp(v, "bf16")) goto usage;
            bf16 = !strcmp(v, "bf16");
            if (bf16 && !gw_conv_bf16_ok())
                printf("no AVX512_BF16 on this CPU: --precision bf16 runs f32\n");
        } else if (!strcmp(a, "--steps")) {
            if (!int_arg(v, 1, MAX_RUNS, &steps)) goto usage;
        } else if (!strcmp(a, "--warmup")) {
            if (!int_arg(v, 0, 100, &warmup)) goto usage;
        } else if (!strcmp(a, "--images")) {
            if (!int_arg(v, 1, MAX_RUNS, &images)) goto usage;
        } else if (!strcmp(a, "--threads")) {
            char buf[128], *save = NULL;
            snprintf(buf, sizeof buf, "%s", v);
            nt = 0;
            for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
                if (nt == MAX_THREADS || !int_arg(tok, 1, 256, &threads[nt++])) goto usage;
            if (!nt) goto usage;
        } else
            goto usage;
        i++;
    }
    int train = !strcmp(mode, "train") || !strcmp(mode, "both");
    int sample = !strcmp(mode, "sample") || !strcmp(mode, "both");
    if (!train && !sample) goto usage;

    gw_error err = {0};
    gw_pixelcnn_config cfg;
    gw_pixelcnn_config_default(&cfg); /* pixelcnn-small */
    if (preset ? gw_pixelcnn_config_load(&cfg, preset, &err)
               : gw_pixelcnn_config_validate(&cfg, "pixelcnn-small", &err)) {
        fprintf(stderr, "bench_pixelcnn: %s\n", err.msg);
        return 1;
    }
    char cpu[96];
    printf("cpu: %s\n", gw_cpu_model(cpu, sizeof cpu));
    printf("model %s: %dx%d, %d channels, %d layers, head %d, %zu MAC per pixel\n", cfg.name,
           cfg.height, cfg.width, cfg.channels, cfg.layers, cfg.head,
           gw_pixelcnn_macs_per_pixel(&cfg));
    fflush(stdout);
    if (train && bench_train(&cfg, threads, nt, steps, warmup, bf16)) return 1;
    if (sample && bench_sample(&cfg, images, 1)) return 1;
    return 0;
usage:
    fprintf(stderr,
            "usage: bench_pixelcnn [--mode train|sample|both] [--threads 1,2] "
            "[--steps N (1..%d)] [--warmup N] [--images N (1..%d)] [--preset FILE] "
            "[--precision f32|bf16]\n",
            MAX_RUNS, MAX_RUNS);
    return 2;
}
