/* gemm.c - the dispatch table of nn/gemm.h, the strided 6 x 64 kernel, the
 * portable kernels and the one reference. The packed 12 x 32 kernel lives in
 * conv_gemm.c beside the fused convolution driver that inlines its
 * micro-kernel; the table points at its public entry.
 *
 * Why a strided kernel of our own: the WaveNet trainer's shapes are tall and
 * thin (24,000 rows, 32..256 columns, inner sizes 32..640 or the reverse),
 * where OpenBLAS spends much of its time packing and, on this project's
 * machines, runs its AVX2 kernels (OPENBLAS_CORETYPE=Haswell); here the
 * small operand stays in L1/L2, a 6 x 64 tile of C stays in 24 zmm
 * registers, and the long operand is read once per 64 columns. */
#include "nn/gemm.h"
#include "nn/im2col.h"

#include <cblas.h>
#include <string.h>

/* a(m, k) = A[m * sam + k * sak]; B (K, N) row-major with ldb; C (M, N) ldc */
static void strided_naive(float *C, int ldc, const float *A, size_t sam, size_t sak, const float *B,
                       int ldb, int M, int N, int K, int accumulate) {
    for (int m = 0; m < M; m++)
        for (int n = 0; n < N; n++) {
            float s = accumulate ? C[(size_t)m * ldc + n] : 0.0f;
            for (int k = 0; k < K; k++)
                s += A[m * sam + k * sak] * B[(size_t)k * ldb + n];
            C[(size_t)m * ldc + n] = s;
        }
}

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define GW_HAVE_STRIDED_AVX512 1
enum { TILE_M = 6, TILE_V = 4, K_CHUNK = 256 };

/* one full tile: rows m0 .. m0+5, NV vectors of 16 columns from n0 (the
 * last one masked), inner range k0 .. k0+kw-1. Every loop has constant
 * bounds once NV is known, so the 6 x NV accumulators live in registers. */
__attribute__((target("avx512f"), always_inline)) static inline void
tile_avx512(float *C, int ldc, const float *A, size_t sam, size_t sak, const float *B, int ldb,
            int m0, int n0, const int NV, const int FULL, __mmask16 last, int k0, int kw,
            int load_c) {
    __m512 acc[TILE_M][TILE_V];
    for (int r = 0; r < TILE_M; r++)
        for (int j = 0; j < NV; j++)
            acc[r][j] = load_c ? _mm512_maskz_loadu_ps(j == NV - 1 ? last : 0xFFFF,
                                                       C + (size_t)(m0 + r) * ldc + n0 + 16 * j)
                               : _mm512_setzero_ps();
    const float *ak = A + (size_t)m0 * sam + (size_t)k0 * sak;
    const float *bk = B + (size_t)k0 * ldb + n0;
    for (int k = 0; k < kw; k++, ak += sak, bk += ldb) {
        __m512 b[TILE_V];
        for (int j = 0; j < NV; j++) /* masked only where a ragged edge needs it */
            b[j] = j < NV - 1 || FULL ? _mm512_loadu_ps(bk + 16 * j)
                                      : _mm512_maskz_loadu_ps(last, bk + 16 * j);
        for (int r = 0; r < TILE_M; r++) {
            __m512 av = _mm512_set1_ps(ak[r * sam]);
            for (int j = 0; j < NV; j++)
                acc[r][j] = _mm512_fmadd_ps(av, b[j], acc[r][j]);
        }
    }
    for (int r = 0; r < TILE_M; r++)
        for (int j = 0; j < NV; j++)
            _mm512_mask_storeu_ps(C + (size_t)(m0 + r) * ldc + n0 + 16 * j,
                                  j == NV - 1 ? last : 0xFFFF, acc[r][j]);
}

/* the last rows (fewer than 6): one row at a time */
__attribute__((target("avx512f"))) static void
rows_avx512(float *C, int ldc, const float *A, size_t sam, size_t sak, const float *B, int ldb,
            int m0, int mr, int n0, int NV, __mmask16 last, int k0, int kw, int load_c) {
    for (int r = 0; r < mr; r++) {
        __m512 acc[TILE_V];
        float *c = C + (size_t)(m0 + r) * ldc + n0;
        for (int j = 0; j < NV; j++)
            acc[j] = load_c ? _mm512_maskz_loadu_ps(j == NV - 1 ? last : 0xFFFF, c + 16 * j)
                            : _mm512_setzero_ps();
        const float *a = A + (size_t)(m0 + r) * sam + (size_t)k0 * sak;
        for (int k = 0; k < kw; k++) {
            __m512 av = _mm512_set1_ps(a[k * sak]);
            const float *bk = B + (size_t)(k0 + k) * ldb + n0;
            for (int j = 0; j < NV; j++)
                acc[j] = _mm512_fmadd_ps(
                    av, _mm512_maskz_loadu_ps(j == NV - 1 ? last : 0xFFFF, bk + 16 * j), acc[j]);
        }
        for (int j = 0; j < NV; j++)
            _mm512_mask_storeu_ps(c + 16 * j, j == NV - 1 ? last : 0xFFFF, acc[j]);
    }
}

__attribute__((target("avx512f"))) static void
panel_avx512(float *C, int ldc, const float *A, size_t sam, size_t sak, const float *B, int ldb,
             int M, int n0, int NV, __mmask16 last, int k0, int kw, int load_c) {
    int m0 = 0;
    for (; m0 + TILE_M <= M; m0 += TILE_M) {
#define GW_TILE(nv, full)                                                                          \
    tile_avx512(C, ldc, A, sam, sak, B, ldb, m0, n0, nv, full, last, k0, kw, load_c)
        /* constant NV and edge: the tile's loops unroll into registers */
        if (last == 0xFFFF) {
            switch (NV) {
            case 1:
                GW_TILE(1, 1);
                break;
            case 2:
                GW_TILE(2, 1);
                break;
            case 3:
                GW_TILE(3, 1);
                break;
            default:
                GW_TILE(4, 1);
                break;
            }
        } else {
            switch (NV) {
            case 1:
                GW_TILE(1, 0);
                break;
            case 2:
                GW_TILE(2, 0);
                break;
            case 3:
                GW_TILE(3, 0);
                break;
            default:
                GW_TILE(4, 0);
                break;
            }
        }
#undef GW_TILE
    }
    if (m0 < M) rows_avx512(C, ldc, A, sam, sak, B, ldb, m0, M - m0, n0, NV, last, k0, kw, load_c);
}

__attribute__((target("avx512f"))) static void strided_avx512(float *C, int ldc, const float *A,
                                                           size_t sam, size_t sak, const float *B,
                                                           int ldb, int M, int N, int K,
                                                           int accumulate) {
    if (K == 0) {
        if (!accumulate)
            for (int m = 0; m < M; m++)
                memset(C + (size_t)m * ldc, 0, (size_t)N * sizeof(float));
        return;
    }
    for (int n0 = 0; n0 < N; n0 += 16 * TILE_V) {
        int nw = N - n0 < 16 * TILE_V ? N - n0 : 16 * TILE_V;
        int NV = (nw + 15) / 16;
        int rem = nw - 16 * (NV - 1);
        __mmask16 last = (__mmask16)(rem == 16 ? 0xFFFF : (1u << rem) - 1);
        /* chunks of the inner size keep B's rows of the chunk in L2 while
         * every row tile passes over them */
        for (int k0 = 0; k0 < K; k0 += K_CHUNK) {
            int kw = K - k0 < K_CHUNK ? K - k0 : K_CHUNK;
            panel_avx512(C, ldc, A, sam, sak, B, ldb, M, n0, NV, last, k0, kw,
                         accumulate || k0 > 0);
        }
    }
}
#endif


static void packed_blas(int trans_a, int trans_b, int M, int N, int K, const float *A, int lda,
                        const float *B, int ldb, float beta, float *C, int ldc, float *pack) {
    (void)pack;
    cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans,
                trans_b ? CblasTrans : CblasNoTrans, M, N, K, 1.0f, A, lda, B, ldb, beta, C, ldc);
}

static const gw_gemm_kernels portable = {
    .name = "portable", .simd = 0, .packed = packed_blas, .strided = strided_naive};

#ifdef GW_HAVE_STRIDED_AVX512
static const gw_gemm_kernels avx512 = {
    .name = "avx512", .simd = 1, .packed = gw_conv_sgemm_avx512, .strided = strided_avx512};
#endif

const gw_gemm_kernels *gw_gemm_kernels_cpu(void) {
#ifdef GW_HAVE_STRIDED_AVX512
    if (gw_conv_sgemm_avx512_ok()) return &avx512;
#endif
    return &portable;
}

const gw_gemm_kernels *gw_gemm_kernels_portable(void) {
    return &portable;
}

size_t gw_gemm_pack_size(void) {
    return gw_conv_sgemm_pack_size();
}

void gw_gemm_ref(float *C, int ldc, const float *A, size_t sam, size_t sak, const float *B,
                 size_t sbk, size_t sbn, int M, int N, int K, float beta) {
    for (int m = 0; m < M; m++)
        for (int n = 0; n < N; n++) {
            double s = beta != 0.0f ? (double)beta * C[(size_t)m * ldc + n] : 0.0;
            for (int k = 0; k < K; k++)
                s += (double)A[m * sam + k * sak] * B[k * sbk + n * sbn];
            C[(size_t)m * ldc + n] = (float)s;
        }
}
