/* test_gemm.c - nn/gemm.h: both kernels of this CPU's table and of the
 * portable table against the one reference (gw_gemm_ref, double loops). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/gw_base.h"
#include "gw_test.h"
#include "nn/gemm.h"
#include "nn/im2col.h"

/* |a - b| within tol relative to the product's size, padding columns of C
 * (past N) included: a kernel must not write them */
static void expect_close(const float *c1, const float *c2, int M, int ldc, int K, const char *what,
                         int m_, int n_, int ta, int tb, float beta) {
    const float tol = 1e-5f * sqrtf((float)K + 1) * 4;
    for (int m = 0; m < M; m++)
        for (int n = 0; n < ldc; n++) {
            float a = c1[(size_t)m * ldc + n], b = c2[(size_t)m * ldc + n];
            if (!(fabsf(a - b) <= tol * (1.0f + fabsf(b))))
                fail_msg("%s %dx%dx%d ta %d tb %d beta %g: [%d,%d] %g vs %g", what, m_, n_, K, ta,
                         tb, (double)beta, m, n, a, b);
        }
}

typedef void (*packed_fn)(int trans_a, int trans_b, int M, int N, int K, const float *A, int lda,
                          const float *B, int ldb, float beta, float *C, int ldc, float *pack);

/* packed: every transpose case, edges in M, N and K (K crosses the
 * 256-deep blocking, N the 2048-wide B block, M ends in 8- and 4-row
 * tiles, odd K leaves a bf16 pair half empty), beta 0, 1, 0.5, leading
 * dimensions wider than the matrices. bf16: the reference multiplies the
 * operands rounded to bfloat16. */
static void check_packed_fn(packed_fn packed, const char *name, int bf16) {
    const int shapes[][3] = {{1, 1, 1},     {13, 37, 300}, {24, 64, 256}, {97, 33, 517},
                             {12, 2100, 9}, {20, 64, 40},  {64, 96, 270}};
    const float betas[] = {0.0f, 1.0f, 0.5f};
    float *pack = malloc(sizeof(float) * (gw_gemm_pack_size() + 1));
    gw_rng r;
    gw_rng_seed(&r, 9);
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++)
        for (int ta = 0; ta < 2; ta++)
            for (int tb = 0; tb < 2; tb++) {
                const int M = shapes[s][0], N = shapes[s][1], K = shapes[s][2];
                const int lda = (ta ? M : K) + 3, ldb = (tb ? K : N) + 5, ldc = N + 2;
                const size_t na = (size_t)(ta ? K : M) * lda, nb = (size_t)(tb ? N : K) * ldb;
                const size_t nc = (size_t)M * ldc;
                float *A = malloc(sizeof(float) * na), *B = malloc(sizeof(float) * nb);
                float *C1 = malloc(sizeof(float) * nc), *C2 = malloc(sizeof(float) * nc);
                gw_rng_fill_normal(&r, A, na, 0, 1);
                gw_rng_fill_normal(&r, B, nb, 0, 1);
                float *Ar = malloc(sizeof(float) * na), *Br = malloc(sizeof(float) * nb);
                memcpy(Ar, A, sizeof(float) * na), memcpy(Br, B, sizeof(float) * nb);
                if (bf16) gw_test_round_bf16(Ar, na), gw_test_round_bf16(Br, nb);
                for (int bi = 0; bi < 3; bi++) {
                    gw_rng_fill_normal(&r, C1, nc, 0, 1);
                    memcpy(C2, C1, sizeof(float) * nc);
                    packed(ta, tb, M, N, K, A, lda, B, ldb, betas[bi], C1, ldc, pack);
                    gw_gemm_ref(C2, ldc, Ar, ta ? 1 : (size_t)lda, ta ? (size_t)lda : 1, Br,
                                tb ? 1 : (size_t)ldb, tb ? (size_t)ldb : 1, M, N, K, betas[bi]);
                    expect_close(C1, C2, M, ldc, K, name, M, N, ta, tb, betas[bi]);
                }
                free(A), free(B), free(C1), free(C2), free(Ar), free(Br);
            }
    free(pack);
}

static void check_packed(const gw_gemm_kernels *k) {
    check_packed_fn(k->packed, k->name, 0);
}

/* strided: both layouts of A, accumulate or not, full and ragged 6 x 64
 * tiles (M % 6, N % 16, N > 64), K across its 256 chunk, and K = 0 */
static void check_strided(const gw_gemm_kernels *k) {
    static const int shapes[][3] = {{6, 64, 64},   {25, 32, 7}, {13, 100, 300}, {7, 17, 1},
                                    {64, 64, 600}, {1, 1, 1},   {40, 130, 33},  {5, 20, 0}};
    gw_rng rng;
    gw_rng_seed(&rng, 31);
    for (size_t s = 0; s < sizeof shapes / sizeof *shapes; s++) {
        int M = shapes[s][0], N = shapes[s][1], K = shapes[s][2], ldb = N + 3, ldc = N + 5;
        float *A = malloc(((size_t)M * K + 1) * sizeof(float)),
              *B = malloc(((size_t)K * ldb + 1) * sizeof(float));
        float *C1 = malloc((size_t)M * ldc * sizeof(float)),
              *C2 = malloc((size_t)M * ldc * sizeof(float));
        gw_rng_fill_normal(&rng, A, (size_t)M * K, 0, 1);
        gw_rng_fill_normal(&rng, B, (size_t)K * ldb, 0, 1);
        for (int ta = 0; ta < 2; ta++)
            for (int acc = 0; acc < 2; acc++) {
                gw_rng_fill_normal(&rng, C1, (size_t)M * ldc, 0, 1);
                memcpy(C2, C1, (size_t)M * ldc * sizeof(float));
                size_t sam = ta ? 1 : (size_t)K, sak = ta ? (size_t)M : 1;
                k->strided(C1, ldc, A, sam, sak, B, ldb, M, N, K, acc);
                /* the columns past N are not the product's: the reference
                 * gets N columns, the padding must stay as it was */
                gw_gemm_ref(C2, ldc, A, sam, sak, B, (size_t)ldb, 1, M, N, K, acc ? 1.0f : 0.0f);
                expect_close(C1, C2, M, ldc, K, k->name, M, N, ta, 0, (float)acc);
            }
        free(A), free(B), free(C1), free(C2);
    }
}

static void test_cpu_kernels_match_reference(void **state) {
    (void)state;
    const gw_gemm_kernels *k = gw_gemm_kernels_cpu();
    if (!k->simd) print_message("no AVX-512 on this CPU: its table is the portable one\n");
    check_packed(k);
    check_strided(k);
}

static void test_portable_kernels_match_reference(void **state) {
    (void)state;
    const gw_gemm_kernels *k = gw_gemm_kernels_portable();
    assert_int_equal(k->simd, 0);
    check_packed(k);
    check_strided(k);
}

/* the bf16 products of the packed kernel (gw_conv_sgemm_bf16) where the CPU
 * has them: the reference on rounded operands, and not the f32 product */
static void test_bf16_packed_matches_reference(void **state) {
    (void)state;
    if (!gw_conv_bf16_ok()) {
        print_message("no AVX512_BF16 on this CPU: bf16 products not tested\n");
        return;
    }
    check_packed_fn(gw_conv_sgemm_bf16, "bf16", 1);
    /* a product whose operands bf16 cannot hold exactly comes out rounded */
    float a[2] = {1.0f + 1.0f / 256, 1.0f}, b[2] = {1.0f, 1.0f + 5.0f / 512}, c[1] = {0};
    float *pack = malloc(sizeof(float) * (gw_gemm_pack_size() + 1));
    gw_conv_sgemm_bf16(0, 0, 1, 1, 2, a, 2, b, 1, 0.0f, c, 1, pack);
    /* bf16 steps by 1/128 above 1: 1 + 1/256, half way, rounds to even (1)
     * and 1 + 5/512 to 1 + 1/128, so 2 + 1/128 (f32 would give 2 + 7/512) */
    assert_float_equal(c[0], 2.0f + 1.0f / 128, 0);
    free(pack);
}

/* the reference itself, on a product worked by hand: [1 2; 3 4] [5 6; 7 8]
 * = [19 22; 43 50], then + 0.5 C, then with B read transposed */
static void test_reference_known_values(void **state) {
    (void)state;
    const float A[4] = {1, 2, 3, 4}, B[4] = {5, 6, 7, 8};
    float C[4] = {0};
    gw_gemm_ref(C, 2, A, 2, 1, B, 2, 1, 2, 2, 2, 0.0f);
    assert_float_equal(C[0], 19, 0), assert_float_equal(C[1], 22, 0);
    assert_float_equal(C[2], 43, 0), assert_float_equal(C[3], 50, 0);
    gw_gemm_ref(C, 2, A, 2, 1, B, 2, 1, 2, 2, 2, 0.5f);
    assert_float_equal(C[0], 28.5f, 0), assert_float_equal(C[3], 75, 0);
    gw_gemm_ref(C, 2, A, 2, 1, B, 1, 2, 2, 2, 2, 0.0f); /* A B^T: [17 23; 39 53] */
    assert_float_equal(C[0], 17, 0), assert_float_equal(C[1], 23, 0);
    assert_float_equal(C[2], 39, 0), assert_float_equal(C[3], 53, 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reference_known_values),
        cmocka_unit_test(test_cpu_kernels_match_reference),
        cmocka_unit_test(test_portable_kernels_match_reference),
        cmocka_unit_test(test_bf16_packed_matches_reference),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
