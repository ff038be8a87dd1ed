/* bench_gemm - nn/gemm.h's two AVX-512 kernels and OpenBLAS (cblas_sgemm,
 * the portable table's packed entry) on each other's shapes, one thread,
 * interleaved, CPU time. Issue "One path" asked whether one kernel could
 * serve both families: this is the measurement that says which wins where.
 *
 *   OPENBLAS_NUM_THREADS=1 bench_gemm [reps=7]
 *
 * Shapes (C (M, N) += A (M, K) B (K, N)):
 *   WaveNet trainer (reference-models.md wavenet-small, batch 4 x 4096
 *   targets + context = ~20,500 rows): the dilated conv (K = 2 x 32 in, N =
 *   64 gate), the skip 1x1 (K 32, N 128), the head (K 128, N 256) with its
 *   input and weight gradients, and a layer's weight gradient (M 64, N 64,
 *   K 20,500: A read transposed);
 *   PixelCNN-small (batch 16 of 64 x 64): a 2 x 3 masked conv as the fused
 *   driver sees it (M 64, N 65,536 pixels, K 192 taps), and the head's
 *   dense layer (M 65,536 rows, N 256, K 128).
 * Per shape and kernel: the median GFLOP/s by CPU time over reps. */
#include "base/gw_base.h"
#include "bench_util.h"
#include "nn/blas.h"
#include "nn/gemm.h"

#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { MAX_REPS = 31, NK = 3 };

typedef struct shape {
    const char *name;
    int M, N, K, ta; /* ta: A stored (K, M) */
} shape;

static double run(int kernel, const gw_gemm_kernels *simd, const shape *s, const float *A,
                  const float *B, float *C, float *pack) {
    const int lda = s->ta ? s->M : s->K;
    const double t0 = bench_cpu_now();
    if (kernel == 0)
        simd->strided(C, s->N, A, s->ta ? 1 : (size_t)lda, s->ta ? (size_t)lda : 1, B, s->N, s->M,
                      s->N, s->K, 1);
    else if (kernel == 1)
        simd->packed(s->ta, 0, s->M, s->N, s->K, A, lda, B, s->N, 1.0f, C, s->N, pack);
    else
        cblas_sgemm(CblasRowMajor, s->ta ? CblasTrans : CblasNoTrans, CblasNoTrans, s->M, s->N,
                    s->K, 1.0f, A, lda, B, s->N, 1.0f, C, s->N);
    return bench_cpu_now() - t0;
}

int main(int argc, char **argv) {
    int reps = argc > 1 ? atoi(argv[1]) : 7;
    if (reps < 1 || reps > MAX_REPS) reps = 7;
    gw_blas_setup(0); /* denormals flushed on this thread, as in training */
    const gw_gemm_kernels *k = gw_gemm_kernels_cpu();
    char cpu[256];
    printf("CPU: %s; OpenBLAS %d thread(s); table %s\n", gw_cpu_model(cpu, sizeof cpu),
           openblas_get_num_threads(), k->name);
    if (!k->simd) {
        printf("no AVX-512 on this CPU: both kernels are the portable ones, nothing to compare\n");
        return 0;
    }
    const shape shapes[] = {
        {"wavenet dilated conv", 20476, 64, 64, 0}, {"wavenet skip 1x1", 20476, 128, 32, 0},
        {"wavenet head", 20476, 256, 128, 0},       {"wavenet head dinp", 20476, 128, 256, 0},
        {"medium dilated conv", 20476, 128, 128, 0}, {"medium skip", 20476, 256, 640, 0},
        {"48k-wide skip", 20476, 96, 480, 0},
        {"wavenet head dW", 256, 128, 20476, 1},    {"wavenet weight grad", 64, 64, 20476, 1},
        {"pixelcnn masked conv", 64, 65536, 192, 0}, {"pixelcnn head", 65536, 256, 128, 0},
    };
    const char *kname[NK] = {"strided 6x64", "packed 12x32", "OpenBLAS"};
    float *pack = gw_alloc(sizeof(float) * gw_gemm_pack_size());
    gw_rng r;
    gw_rng_seed(&r, 1);
    printf("%-22s %14s %14s %14s   GFLOP/s by CPU time, median of %d\n", "shape (M x N x K)",
           kname[0], kname[1], kname[2], reps);
    for (size_t i = 0; i < sizeof shapes / sizeof *shapes; i++) {
        const shape *s = &shapes[i];
        const size_t na = (size_t)s->M * s->K, nb = (size_t)s->K * s->N, nc = (size_t)s->M * s->N;
        float *A = gw_alloc(na * sizeof(float)), *B = gw_alloc(nb * sizeof(float));
        float *C = gw_alloc(nc * sizeof(float));
        if (!A || !B || !C || !pack) {
            fprintf(stderr, "bench_gemm: out of memory\n");
            return 1;
        }
        gw_rng_fill_uniform(&r, A, na, -1, 1);
        gw_rng_fill_uniform(&r, B, nb, -1, 1);
        memset(C, 0, nc * sizeof(float)); /* every rep adds into it */
        double t[NK][MAX_REPS];
        for (int kk = 0; kk < NK; kk++) run(kk, k, s, A, B, C, pack); /* warm-up */
        for (int rep = 0; rep < reps; rep++)
            for (int kk = 0; kk < NK; kk++) /* interleaved: the machine's noise hits all three */
                t[(kk + rep) % NK][rep] = run((kk + rep) % NK, k, s, A, B, C, pack);
        const double flop = 2.0 * s->M * s->N * s->K;
        printf("%-22s", s->name);
        for (int kk = 0; kk < NK; kk++) {
            bench_sort(t[kk], reps);
            printf(" %14.1f", flop / t[kk][reps / 2] * 1e-9);
        }
        printf("   (%d x %d x %d)\n", s->M, s->N, s->K);
        gw_free(A), gw_free(B), gw_free(C);
    }
    gw_free(pack);
    return 0;
}
