/* bench_nn_layers - time of src/nn's 1-D kernels at the WaveNet training
 * shapes of reference-models.md (batch 4, one receptive field of context +
 * 4096 targets per item, "valid" dilated convs, kernel 2).
 *
 * These layers do not train the WaveNet: the fused pass of
 * models/wavenet_backprop.c does (bench_wavenet_train times it). They are
 * its readable twin - tests/models/test_wavenet_twin.c composes a whole
 * training step from them and checks the fused pass's loss and gradients
 * against it - and this bench shows what the same arithmetic costs layer by
 * layer, unfused.
 *
 *   OPENBLAS_NUM_THREADS=1 bench_nn_layers [small|medium] [reps=5]
 *
 * Per kernel group, summed over all layers of one step, the median over
 * reps of forward and of backward (every gradient computed), and GFLOP/s
 * counting 2 FLOP per multiply-add (backward = 2 forwards). The groups
 * together are the arithmetic of one training step without the optimiser
 * and the residual adds, so their sum bounds the time of a step made of
 * these layers from below; PyTorch runs the whole step in 522 ms (small) /
 * 2302 ms (medium) on one thread (shared/peers/README.md). */
#include "nn/layers.h"
#include "bench_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { MAX_REPS = 51, NG = 6 };

static float *buf(gw_rng *r, size_t n) {
    float *p = gw_alloc(n * sizeof(float));
    if (!p) {
        fprintf(stderr, "out of memory\n");
        exit(1);
    }
    gw_rng_fill_uniform(r, p, n, -0.5f, 0.5f);
    return p;
}

static const char *group_name[NG] = {"dilated conv", "gate", "residual 1x1", "skip 1x1",
                                     "head dense+relu", "softmax xent"};

int main(int argc, char **argv) {
    int medium = argc > 1 && strcmp(argv[1], "medium") == 0;
    int reps = argc > 2 ? atoi(argv[2]) : 5;
    if (reps < 1 || reps > MAX_REPS) reps = 5;
    const int B = 4, NT = 4096, stacks = medium ? 3 : 2, L = 10;
    const int R = medium ? 64 : 32, G = R, S = medium ? 256 : 128, Q = 256;
    const int ctx = stacks * 1023 + 1 - 1; /* receptive field - 1 */
    const int T0 = ctx + NT;
    gw_rng r;
    gw_rng_seed(&r, 1);
    size_t big = (size_t)B * T0 * 2 * G;
    float *x = buf(&r, (size_t)B * T0 * R), *d = buf(&r, big), *act = buf(&r, big);
    float *z = buf(&r, (size_t)B * T0 * G), *res = buf(&r, (size_t)B * T0 * R);
    float *dd = buf(&r, big), *dz = buf(&r, (size_t)B * T0 * G), *dx = buf(&r, (size_t)B * T0 * R);
    float *wd = buf(&r, 2 * G * 2 * R), *bd = buf(&r, 2 * G), *dwd = buf(&r, 2 * G * 2 * R);
    float *dbd = buf(&r, 2 * G), *wr = buf(&r, R * G), *br = buf(&r, R), *dwr = buf(&r, R * G);
    float *dbr = buf(&r, R), *ws = buf(&r, S * G), *bs = buf(&r, S), *dws = buf(&r, S * G);
    float *dbs = buf(&r, S), *skip = buf(&r, (size_t)B * NT * S), *h = buf(&r, (size_t)B * NT * S);
    float *dh = buf(&r, (size_t)B * NT * S), *dskip = buf(&r, (size_t)B * NT * S);
    float *w1 = buf(&r, S * S), *b1 = buf(&r, S), *w2 = buf(&r, Q * S), *b2 = buf(&r, Q);
    float *dw1 = buf(&r, S * S), *db1 = buf(&r, S), *dw2 = buf(&r, Q * S), *db2 = buf(&r, Q);
    float *logits = buf(&r, (size_t)B * NT * Q), *dlogits = buf(&r, (size_t)B * NT * Q);
    int32_t *tg = malloc(sizeof(int32_t) * B * NT);
    for (int i = 0; i < B * NT; i++) tg[i] = (int32_t)gw_rng_below(&r, Q);
    static double tf[NG][MAX_REPS], tb[NG][MAX_REPS];
    double mac[NG] = {0};
    for (int rep = 0; rep < reps; rep++) {
        double f[NG] = {0}, bk[NG] = {0}, t;
        int T = T0;
        for (int l = 0; l < stacks * L; l++) {
            int dil = 1 << (l % L), To = T - dil;
            size_t rows = (size_t)B * To;
            t = bench_now();
            gw_conv1d_forward(d, x, wd, bd, B, T, R, 2 * G, 2, dil, 0);
            f[0] += bench_now() - t, t = bench_now();
            gw_gate_forward(z, act, d, (int)rows, G);
            f[1] += bench_now() - t, t = bench_now();
            gw_dense_forward(res, z, wr, br, (int)rows, G, R);
            f[2] += bench_now() - t, t = bench_now();
            for (int b = 0; b < B; b++) /* skip 1x1 only where targets are */
                gw_dense_forward(skip + (size_t)b * NT * S, z + ((size_t)b * To + To - NT) * G, ws,
                                 bs, NT, G, S);
            f[3] += bench_now() - t, t = bench_now();
            for (int b = 0; b < B; b++)
                gw_dense_backward(dz + ((size_t)b * To + To - NT) * G, dws, dbs,
                                  dskip + (size_t)b * NT * S, z + ((size_t)b * To + To - NT) * G,
                                  ws, NT, G, S);
            bk[3] += bench_now() - t, t = bench_now();
            gw_dense_backward(dz, dwr, dbr, res, z, wr, (int)rows, G, R);
            bk[2] += bench_now() - t, t = bench_now();
            gw_gate_backward(dd, dz, act, (int)rows, G);
            bk[1] += bench_now() - t, t = bench_now();
            gw_conv1d_backward(dx, dwd, dbd, dd, x, wd, B, T, R, 2 * G, 2, dil, 0);
            bk[0] += bench_now() - t;
            if (rep == 0) {
                mac[0] += (double)rows * 2 * G * 2 * R;
                mac[2] += (double)rows * G * R;
                mac[3] += (double)B * NT * G * S;
            }
            T = To;
        }
        size_t n = (size_t)B * NT;
        t = bench_now();
        gw_relu_forward(h, skip, n * S);
        gw_dense_forward(dh, h, w1, b1, (int)n, S, S);
        gw_relu_forward(dh, dh, n * S);
        gw_dense_forward(logits, dh, w2, b2, (int)n, S, Q);
        f[4] += bench_now() - t, t = bench_now();
        float loss;
        gw_loss_softmax_xent(&loss, dlogits, logits, tg, (int)n, Q, "bench", NULL);
        f[5] += bench_now() - t, t = bench_now();
        gw_dense_backward(h, dw2, db2, dlogits, dh, w2, (int)n, S, Q);
        gw_relu_backward(dskip, h, dh, n * S);
        gw_dense_backward(dh, dw1, db1, dskip, h, w1, (int)n, S, S);
        gw_relu_backward(dskip, dh, skip, n * S);
        bk[4] += bench_now() - t;
        if (rep == 0) mac[4] = (double)n * S * (S + Q);
        for (int g = 0; g < NG; g++) tf[g][rep] = f[g], tb[g][rep] = bk[g];
    }
    printf("wavenet-%s kernels, batch %d x %d targets, %d layers, median of %d\n",
           medium ? "medium" : "small", B, NT, stacks * L, reps);
    printf("%-16s %10s %10s %10s %10s\n", "group", "fwd ms", "bwd ms", "fwd GF/s", "bwd GF/s");
    double sf = 0, sb = 0, smac = 0;
    for (int g = 0; g < NG; g++) {
        bench_sort(tf[g], reps);
        bench_sort(tb[g], reps);
        double a = tf[g][reps / 2], b = tb[g][reps / 2];
        sf += a, sb += b, smac += mac[g];
        if (mac[g] > 0)
            printf("%-16s %10.1f %10.1f %10.1f %10.1f\n", group_name[g], a * 1e3, b * 1e3,
                   2 * mac[g] / a * 1e-9, b > 0 ? 4 * mac[g] / b * 1e-9 : 0.0);
        else
            printf("%-16s %10.1f %10.1f\n", group_name[g], a * 1e3, b * 1e3);
    }
    printf("%-16s %10.1f %10.1f   total %.1f ms/step (%.2f G MAC fwd, %.1f GF/s overall)\n",
           "sum", sf * 1e3, sb * 1e3, (sf + sb) * 1e3, smac * 1e-9, 6 * smac / (sf + sb) * 1e-9);
    printf("PyTorch whole step, 1 thread: %s\n", medium ? "2302 ms" : "522 ms");
    /* everything above allocated once; release */
    float *all[] = {x, d, act, z, res, dd, dz, dx, wd, bd, dwd, dbd, wr, br, dwr, dbr, ws, bs, dws,
                    dbs, skip, h, dh, dskip, w1, b1, w2, b2, dw1, db1, dw2, db2, logits, dlogits};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) gw_free(all[i]);
    free(tg);
    return 0;
}
