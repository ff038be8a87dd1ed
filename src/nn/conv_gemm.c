/* conv_gemm.c - the matrix product under conv2d / conv_transpose2d.
 *
 * Why not always cblas_sgemm: the shapes here are short and wide (M = 32..256
 * channels, N = a few thousand pixels), and on this project's machines
 * OpenBLAS is pinned to its AVX2 (Haswell) kernels by OPENBLAS_CORETYPE,
 * which caps one core at ~100 GFLOP/s while the core can do twice that with
 * AVX-512. So on one BLAS thread, when the CPU has AVX-512, the product runs
 * through a packed AVX-512 kernel organised as in BLIS (Van Zee and van de
 * Geijn 2015, "BLIS: a framework for rapidly instantiating BLAS
 * functionality"): B is packed in KC x NR panels that stay in L1, A in
 * MC x KC blocks that stay in L2, and a 12 x 32 register-blocked micro-kernel
 * does all the arithmetic. With several BLAS threads OpenBLAS's own threading
 * wins, so cblas_sgemm is used. */
#include "nn/im2col.h"

#include <cblas.h>
#include <string.h>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define HAVE_AVX512_PATH 1
#endif

void gw_conv_sgemm_ref(int trans_a, int trans_b, int M, int N, int K, const float *A, int lda,
                       const float *B, int ldb, float beta, float *C, int ldc) {
    for (int i = 0; i < M; i++)
        for (int j = 0; j < N; j++) {
            double acc = 0.0;
            for (int p = 0; p < K; p++)
                acc += (double)(trans_a ? A[(size_t)p * lda + i] : A[(size_t)i * lda + p]) *
                       (trans_b ? B[(size_t)j * ldb + p] : B[(size_t)p * ldb + j]);
            float *c = C + (size_t)i * ldc + j;
            *c = (float)acc + (beta != 0.0f ? beta * *c : 0.0f);
        }
}

static void sgemm_blas(int trans_a, int trans_b, int M, int N, int K, const float *A, int lda,
                       const float *B, int ldb, float beta, float *C, int ldc) {
    cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans,
                trans_b ? CblasTrans : CblasNoTrans, M, N, K, 1.0f, A, lda, B, ldb, beta, C, ldc);
}

#ifdef HAVE_AVX512_PATH

/* 12 x 32 tile: 24 accumulators + 2 B vectors + 1 broadcast of 32 zmm
 * registers (8 x 48 measured no better on the conv shapes; an 8-row variant
 * takes the last tile of power-of-two channel counts).
 * KC x NR of B (32 KB) stays in L1, MC x KC of A (96 KB) in L2. MC and NC
 * are multiples of MR and NR, so packed panels never overrun. */
enum { MR = 12, NV = 2, NR = 16 * NV, KC = 256, MC = 8 * MR, NC = 64 * NR };

/* Ap (ceil(mc / MR) panels, kc, MR): rows past mc are zero */
static void pack_a(float *Ap, int trans_a, const float *A, int lda, int i0, int mc, int p0,
                   int kc) {
    for (int ir = 0; ir < mc; ir += MR) {
        int mr = mc - ir < MR ? mc - ir : MR;
        float *dst = Ap + (size_t)ir * kc;
        for (int p = 0; p < kc; p++) {
            float *d = dst + (size_t)p * MR;
            if (trans_a) {
                const float *s = A + (size_t)(p0 + p) * lda + i0 + ir;
                for (int i = 0; i < mr; i++) d[i] = s[i];
            } else {
                const float *s = A + (size_t)(i0 + ir) * lda + p0 + p;
                for (int i = 0; i < mr; i++) d[i] = s[(size_t)i * lda];
            }
            for (int i = mr; i < MR; i++) d[i] = 0.0f;
        }
    }
}

/* Bp (ceil(nc / NR) panels, kc, NR): columns past nc are zero */
static void pack_b(float *Bp, int trans_b, const float *B, int ldb, int p0, int kc, int j0,
                   int nc) {
    for (int jr = 0; jr < nc; jr += NR) {
        int nr = nc - jr < NR ? nc - jr : NR;
        float *dst = Bp + (size_t)jr * kc;
        if (trans_b) {
            for (int p = 0; p < kc; p++)
                for (int j = nr; j < NR; j++) dst[(size_t)p * NR + j] = 0.0f;
            for (int j = 0; j < nr; j++) {
                const float *s = B + (size_t)(j0 + jr + j) * ldb + p0;
                for (int p = 0; p < kc; p++) dst[(size_t)p * NR + j] = s[p];
            }
        } else {
            for (int p = 0; p < kc; p++) {
                const float *s = B + (size_t)(p0 + p) * ldb + j0 + jr;
                float *d = dst + (size_t)p * NR;
                memcpy(d, s, sizeof(float) * nr);
                for (int j = nr; j < NR; j++) d[j] = 0.0f;
            }
        }
    }
}

/* c (rows, NR, row stride ldc) = (accumulate ? c : 0) + the first rows of
 * a (kc, MR)^T b (kc, NR): rows x NV accumulators live in zmm registers for
 * the whole panel. rows is a constant once inlined. */
__attribute__((always_inline, target("avx512f"))) static inline void
micro_tile(int rows, int kc, const float *a, const float *b, float *c, int ldc, int accumulate) {
    __m512 acc[MR][NV];
#pragma GCC unroll 16
    for (int i = 0; i < rows; i++)
#pragma GCC unroll 4
        for (int v = 0; v < NV; v++) acc[i][v] = _mm512_setzero_ps();
    for (int p = 0; p < kc; p++) {
        __m512 bv[NV];
#pragma GCC unroll 4
        for (int v = 0; v < NV; v++) bv[v] = _mm512_loadu_ps(b + 16 * v);
#pragma GCC unroll 16
        for (int i = 0; i < rows; i++) {
            __m512 ai = _mm512_set1_ps(a[i]);
#pragma GCC unroll 4
            for (int v = 0; v < NV; v++) acc[i][v] = _mm512_fmadd_ps(ai, bv[v], acc[i][v]);
        }
        a += MR;
        b += NR;
    }
#pragma GCC unroll 16
    for (int i = 0; i < rows; i++) {
        float *ci = c + (size_t)i * ldc;
#pragma GCC unroll 4
        for (int v = 0; v < NV; v++) {
            __m512 x = acc[i][v];
            if (accumulate) x = _mm512_add_ps(x, _mm512_loadu_ps(ci + 16 * v));
            _mm512_storeu_ps(ci + 16 * v, x);
        }
    }
}

__attribute__((target("avx512f"))) static void micro_kernel(int kc, const float *a,
                                                             const float *b, float *c, int ldc,
                                                             int accumulate) {
    micro_tile(MR, kc, a, b, c, ldc, accumulate);
}

/* 8 rows: the last tile of 32, 64, 128 or 256 channels (12 does not divide
 * them) costs 8 rows of arithmetic, not 12 */
__attribute__((target("avx512f"))) static void micro_kernel8(int kc, const float *a,
                                                              const float *b, float *c, int ldc,
                                                              int accumulate) {
    micro_tile(8, kc, a, b, c, ldc, accumulate);
}

void gw_conv_sgemm_avx512(int trans_a, int trans_b, int M, int N, int K, const float *A, int lda,
                          const float *B, int ldb, float beta, float *C, int ldc, float *pack) {
    float tile[MR * NR] __attribute__((aligned(64)));
    float *pack_a_buf = pack, *pack_b_buf = pack + MC * KC; /* MC KC stays 64-byte aligned */
    if (beta != 0.0f && beta != 1.0f)
        for (int i = 0; i < M; i++)
            for (int j = 0; j < N; j++) C[(size_t)i * ldc + j] *= beta;
    for (int j0 = 0; j0 < N; j0 += NC) {
        const int nc = N - j0 < NC ? N - j0 : NC;
        for (int p0 = 0; p0 < K; p0 += KC) {
            const int kc = K - p0 < KC ? K - p0 : KC;
            const int accumulate = p0 > 0 || beta != 0.0f;
            pack_b(pack_b_buf, trans_b, B, ldb, p0, kc, j0, nc);
            for (int i0 = 0; i0 < M; i0 += MC) {
                const int mc = M - i0 < MC ? M - i0 : MC;
                pack_a(pack_a_buf, trans_a, A, lda, i0, mc, p0, kc);
                for (int jr = 0; jr < nc; jr += NR) {
                    const int nr = nc - jr < NR ? nc - jr : NR;
                    const float *bp = pack_b_buf + (size_t)jr * kc;
                    for (int ir = 0; ir < mc; ir += MR) {
                        const int mr = mc - ir < MR ? mc - ir : MR;
                        const float *ap = pack_a_buf + (size_t)ir * kc;
                        float *c = C + (size_t)(i0 + ir) * ldc + j0 + jr;
                        if (nr == NR && (mr == MR || mr == 8)) {
                            if (mr == MR) micro_kernel(kc, ap, bp, c, ldc, accumulate);
                            else micro_kernel8(kc, ap, bp, c, ldc, accumulate);
                            continue;
                        }
                        /* edge tile: compute whole rows, store the valid part */
                        if (mr <= 8) micro_kernel8(kc, ap, bp, tile, NR, 0);
                        else micro_kernel(kc, ap, bp, tile, NR, 0);
                        for (int i = 0; i < mr; i++)
                            for (int j = 0; j < nr; j++)
                                c[(size_t)i * ldc + j] =
                                    tile[i * NR + j] + (accumulate ? c[(size_t)i * ldc + j] : 0.0f);
                    }
                }
            }
        }
    }
}

size_t gw_conv_sgemm_pack_size(void) {
    return (size_t)MC * KC + (size_t)NC * KC;
}

int gw_conv_sgemm_avx512_ok(void) {
    return __builtin_cpu_supports("avx512f");
}
#else
size_t gw_conv_sgemm_pack_size(void) {
    return 0;
}

int gw_conv_sgemm_avx512_ok(void) {
    return 0;
}

void gw_conv_sgemm_avx512(int trans_a, int trans_b, int M, int N, int K, const float *A, int lda,
                          const float *B, int ldb, float beta, float *C, int ldc, float *pack) {
    sgemm_blas(trans_a, trans_b, M, N, K, A, lda, B, ldb, beta, C, ldc);
}
#endif

void gw_conv_sgemm(int trans_a, int trans_b, int M, int N, int K, const float *A, int lda,
                   const float *B, int ldb, float beta, float *C, int ldc, float *pack) {
#ifdef HAVE_AVX512_PATH
    if (pack && gw_conv_sgemm_avx512_ok() && openblas_get_num_threads() == 1) {
        gw_conv_sgemm_avx512(trans_a, trans_b, M, N, K, A, lda, B, ldb, beta, C, ldc, pack);
        return;
    }
#endif
    sgemm_blas(trans_a, trans_b, M, N, K, A, lda, B, ldb, beta, C, ldc);
}
