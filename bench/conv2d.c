/* bench_conv2d - forward + backward time of the specgan-small conv stacks
 * (reference-models.md) at batch 64: D = conv 5x5 s2 p2 1->32->64->128->256
 * on 64x64, G = the mirror with convT 5x5 s2 p2 op1 256->128->64->32->1.
 *
 *   OPENBLAS_NUM_THREADS=1 bench_conv2d [reps=5] [batch=64] [chunk=auto] [fused|lowered]
 *
 * Prints per layer and per stack the median time of forward and of backward
 * (dinp, dweight, dbias all computed), GFLOP/s counting 2 FLOP per multiply-
 * add (backward = 2 forwards), and the conv part of one GAN training step as
 * spec_peer.py runs it: G forward + backward once; D forward three times
 * (real, fake, the G update), D backward twice for D's update (weights, no
 * gradient into the images) and once for G's (input gradient only, D's
 * weights frozen). batch / that time bounds examples/s from above; PyTorch
 * does the whole step at 114 examples/s on 1 thread
 * (shared/peers/README.md). The step is printed from medians and from each
 * part's best run (the machine is shared; busy spells halve any figure).
 * Times are the process's CPU time divided by the thread count (other
 * tenants' time slices do not count); "lowered" times the im2col / col2im
 * path instead of the fused product (conv2d.h). */
#include "nn/conv2d.h"
#include "bench_util.h"

#include <cblas.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { NL = 4, MAX_REPS = 101 };

/* process CPU time per thread of the convolutions */
static double cpu_now(void) {
    return bench_cpu_now() / openblas_get_num_threads();
}

typedef struct stack {
    const char *name;
    gw_conv2d_dims d[NL];
    float *act[NL + 1], *dact[NL + 1], *w[NL], *b[NL], *dw[NL], *db[NL];
    double fwd[NL][MAX_REPS], bwd[NL][MAX_REPS];
    double bwd_w[MAX_REPS], bwd_x[MAX_REPS]; /* whole-stack backward, D modes */
} stack;

/* backward variants of the GAN step */
enum { BWD_ALL, BWD_WEIGHTS, BWD_INPUT };

static size_t act_size(const gw_conv2d_dims *d, int out) {
    return (size_t)d->B * (out ? (size_t)d->C_out * d->H_out * d->W_out
                               : (size_t)d->C_in * d->H_in * d->W_in);
}

static float *alloc_floats(size_t n) {
    float *p = gw_alloc(n * sizeof(float));
    if (!p) {
        fprintf(stderr, "bench_conv2d: out of memory (%zu floats)\n", n);
        exit(1);
    }
    return p;
}

static void stack_alloc(stack *s, gw_rng *r) {
    for (int l = 0; l < NL; l++) {
        const gw_conv2d_dims *d = &s->d[l];
        size_t nw = (size_t)d->C_in * d->C_out * d->KH * d->KW;
        if (l == 0) {
            s->act[0] = alloc_floats(act_size(d, 0));
            s->dact[0] = alloc_floats(act_size(d, 0));
            gw_rng_fill_normal(r, s->act[0], act_size(d, 0), 0, 1);
        }
        s->act[l + 1] = alloc_floats(act_size(d, 1));
        s->dact[l + 1] = alloc_floats(act_size(d, 1));
        gw_rng_fill_normal(r, s->dact[l + 1], act_size(d, 1), 0, 1);
        s->w[l] = alloc_floats(nw);
        s->dw[l] = alloc_floats(nw);
        s->b[l] = alloc_floats(d->C_out);
        s->db[l] = alloc_floats(d->C_out);
        gw_rng_fill_normal(r, s->w[l], nw, 0, 0.05f);
    }
}

static void stack_backward(stack *s, int mode, double *per_layer, float *ws) {
    for (int l = NL - 1; l >= 0; l--) {
        const gw_conv2d_dims *d = &s->d[l];
        float *dx = (mode == BWD_WEIGHTS && l == 0) ? NULL : s->dact[l];
        float *dw = mode == BWD_INPUT ? NULL : s->dw[l], *db = mode == BWD_INPUT ? NULL : s->db[l];
        double t0 = cpu_now();
        if (d->transposed)
            gw_conv_transpose2d_backward(dx, dw, db, s->dact[l + 1], s->act[l], s->w[l], d, ws);
        else
            gw_conv2d_backward(dx, dw, db, s->dact[l + 1], s->act[l], s->w[l], d, ws);
        if (per_layer) per_layer[l * MAX_REPS] = cpu_now() - t0;
    }
}

static void stack_run(stack *s, int rep, float *ws) {
    for (int l = 0; l < NL; l++) {
        const gw_conv2d_dims *d = &s->d[l];
        double t0 = cpu_now();
        if (d->transposed)
            gw_conv_transpose2d_forward(s->act[l + 1], s->act[l], s->w[l], s->b[l], d, ws);
        else
            gw_conv2d_forward(s->act[l + 1], s->act[l], s->w[l], s->b[l], d, ws);
        s->fwd[l][rep] = cpu_now() - t0;
    }
    stack_backward(s, BWD_ALL, &s->bwd[0][rep], ws);
    if (s->d[0].transposed) return;
    double t0 = cpu_now();
    stack_backward(s, BWD_WEIGHTS, NULL, ws);
    s->bwd_w[rep] = cpu_now() - t0;
    t0 = cpu_now();
    stack_backward(s, BWD_INPUT, NULL, ws);
    s->bwd_x[rep] = cpu_now() - t0;
}

static double best(double *x, int n) {
    double m = x[0];
    for (int i = 1; i < n; i++) m = x[i] < m ? x[i] : m;
    return m;
}

static double median(double *x, int n) {
    double t[MAX_REPS];
    memcpy(t, x, sizeof(double) * n);
    bench_sort(t, n);
    return t[n / 2];
}

/* prints the table of medians */
static void stack_report(stack *s, int reps) {
    double tf = 0, tb = 0, macs = 0;
    printf("%s\n  %-28s %9s %9s %9s %9s  chunk\n", s->name, "layer", "fwd ms", "GFLOP/s",
           "bwd ms", "GFLOP/s");
    for (int l = 0; l < NL; l++) {
        const gw_conv2d_dims *d = &s->d[l];
        double f = median(s->fwd[l], reps), b = median(s->bwd[l], reps), m = gw_conv2d_macs(d);
        char nm[64];
        snprintf(nm, sizeof nm, "%s %d->%d %dx%d->%dx%d", d->transposed ? "convT" : "conv",
                 d->C_in, d->C_out, d->H_in, d->W_in, d->H_out, d->W_out);
        printf("  %-28s %9.2f %9.1f %9.2f %9.1f  %d\n", nm, f * 1e3, 2 * m / f * 1e-9, b * 1e3,
               4 * m / b * 1e-9, d->chunk);
        tf += f, tb += b, macs += m;
    }
    printf("  %-28s %9.2f %9.1f %9.2f %9.1f\n", "total", tf * 1e3, 2 * macs / tf * 1e-9, tb * 1e3,
           4 * macs / tb * 1e-9);
}

int main(int argc, char **argv) {
    int reps = argc > 1 ? atoi(argv[1]) : 5;
    int B = argc > 2 ? atoi(argv[2]) : 64;
    int chunk = argc > 3 ? atoi(argv[3]) : 0;
    int lowered = argc > 4 && !strcmp(argv[4], "lowered");
    if (argc > 4 && !lowered && strcmp(argv[4], "fused")) {
        fprintf(stderr, "bench_conv2d: path '%s' is not fused or lowered\n", argv[4]);
        return 2;
    }
    if (reps < 1 || reps > MAX_REPS || B < 1) {
        fprintf(stderr, "usage: bench_conv2d [reps 1..%d] [batch] [chunk]\n", MAX_REPS);
        return 2;
    }
    static stack D = {.name = "D (conv 5x5 s2 p2)"}, G = {.name = "G (convT 5x5 s2 p2 op1)"};
    const int ch[NL + 1] = {1, 32, 64, 128, 256};
    gw_error err;
    size_t ws_n = 0;
    for (int l = 0; l < NL; l++) {
        int hd = 64 >> l, hg = 4 << l;
        if (gw_conv2d_dims_init(&D.d[l], B, ch[l], hd, hd, ch[l + 1], 5, 5, 2, 2, &err) ||
            gw_conv_transpose2d_dims_init(&G.d[l], B, ch[NL - l], hg, hg, ch[NL - l - 1], 5, 5, 2,
                                          2, 1, &err)) {
            fprintf(stderr, "bench_conv2d: %s\n", err.msg);
            return 1;
        }
        D.d[l].lowered = G.d[l].lowered = lowered;
        if (chunk > 0) {
            D.d[l].chunk = chunk < B ? chunk : B;
            G.d[l].chunk = chunk < B ? chunk : B;
        }
        size_t a = gw_conv2d_workspace_size(&D.d[l]), b = gw_conv2d_workspace_size(&G.d[l]);
        ws_n = a > ws_n ? a : ws_n;
        ws_n = b > ws_n ? b : ws_n;
    }
    gw_rng r;
    gw_rng_seed(&r, 1);
    stack_alloc(&D, &r);
    stack_alloc(&G, &r);
    float *ws = alloc_floats(ws_n);
    const char *thr = getenv("OPENBLAS_NUM_THREADS");
    printf("bench_conv2d: batch %d, %d reps (median), OPENBLAS_NUM_THREADS=%s, workspace %.1f MB, "
           "%s path, CPU time per thread\n",
           B, reps, thr ? thr : "(unset)", ws_n * 4.0 / 1e6, lowered ? "lowered" : "fused");
    stack_run(&D, 0, ws); /* warm-up: page in buffers, spin up BLAS threads */
    stack_run(&G, 0, ws);
    for (int i = 0; i < reps; i++) {
        stack_run(&D, i, ws);
        stack_run(&G, i, ws);
    }
    stack_report(&D, reps);
    stack_report(&G, reps);
    /* the step from medians, and from each part's best run: on a shared
     * machine the best is what the code does when it has the core */
    for (int k = 0; k < 2; k++) {
        double (*pick)(double *, int) = k ? best : median;
        double df = 0, gf = 0, gb = 0;
        for (int l = 0; l < NL; l++)
            df += pick(D.fwd[l], reps), gf += pick(G.fwd[l], reps), gb += pick(G.bwd[l], reps);
        double dbw = pick(D.bwd_w, reps), dbx = pick(D.bwd_x, reps);
        double step = gf + gb + 3 * df + 2 * dbw + dbx;
        printf("%s: D backward for D's update %.2f ms, for G's update %.2f ms\n",
               k ? "best" : "median", dbw * 1e3, dbx * 1e3);
        printf("%s: GAN step, convolutions only: %.1f ms -> at most %.1f examples/s "
               "(PyTorch whole step, 1 thread: 114)\n",
               k ? "best" : "median", step * 1e3, B / step);
    }
    return 0;
}
