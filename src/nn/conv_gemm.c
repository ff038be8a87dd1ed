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
#include "base/gw_base.h"
#include "nn/blas.h"
#include "nn/conv2d.h"
#include "nn/gemm.h"
#include "nn/im2col.h"

#include <cblas.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define HAVE_AVX512_PATH 1
#endif

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

static inline void transpose16_regs(__m512 r[16]);

/* rows of the register tile at row ir of an mc-row block: MR, but the last
 * 16 rows of a block of 12 k + 4 rows are two 8-row tiles (the 64 channels
 * of the PixelCNN's gated convolutions: 5 x 12 + 4 as 8 costs 68 rows of
 * arithmetic, 4 x 12 + 2 x 8 costs 64). Packed panels keep MR floats a row
 * of K whatever their tile's rows, and sit MR kc floats apart. */
static inline int tile_rows(int mc, int ir) {
    const int rem = mc - ir;
    return rem == 16 ? 8 : rem < MR ? rem : MR;
}

/* the packed panels of an mc-row block */
static inline int n_panels(int mc) {
    int n = 0;
    for (int ir = 0; ir < mc; ir += tile_rows(mc, ir))
        n++;
    return n;
}

/* 16 columns of mr <= 16 rows of A (row stride ld, from s) into a panel at
 * d (MR floats a column): a 16 x 16 register transpose with the rows past mr
 * zero, then whole stores in increasing order, each one's spill overwritten
 * by the next, the last one masked so nothing past the 16 columns is
 * touched. ahead: prefetch each row's line that many floats on (0: none),
 * for more row streams than the hardware prefetcher follows. */
__attribute__((always_inline, target("avx512f"))) static inline void
panel16(float *d, const float *s, size_t ld, int mr, int ahead) {
    __m512 r[16];
    for (int i = 0; i < mr; i++) {
        if (ahead) {
            /* the address as an integer: it may lie past the array */
            const uintptr_t a = (uintptr_t)(s + (size_t)i * ld) + (size_t)ahead * sizeof(float);
            _mm_prefetch((const char *)a, _MM_HINT_T0);
        }
        r[i] = _mm512_loadu_ps(s + (size_t)i * ld);
    }
    for (int i = mr; i < 16; i++)
        r[i] = _mm512_setzero_ps();
    transpose16_regs(r);
    for (int t = 0; t < 15; t++)
        _mm512_storeu_ps(d + t * MR, r[t]);
    _mm512_mask_storeu_ps(d + 15 * MR, (__mmask16)((1u << MR) - 1), r[15]);
}

/* Ap (ceil(mc / MR) panels, kc, MR): rows past mc are zero. A row-major A
 * (the dense layers' pixels x features, M = pixels) is packed 16 columns at
 * a time through a register transpose: element by element, its strided
 * reads were 3-4% of a PixelCNN training step. */
__attribute__((target("avx512f"))) static void pack_a(float *Ap, int trans_a, const float *A,
                                                      int lda, int i0, int mc, int p0, int kc) {
    for (int ir = 0, mr, panel = 0; ir < mc; ir += mr, panel++) {
        mr = tile_rows(mc, ir);
        float *dst = Ap + (size_t)panel * MR * kc;
        int p = 0;
        if (!trans_a && mr >= 8)
            for (; p + 16 <= kc; p += 16)
                panel16(dst + (size_t)p * MR, A + (size_t)(i0 + ir) * lda + p0 + p, (size_t)lda, mr,
                        0);
        if (trans_a && mr >= 8 && kc > 0) { /* a column of A^T is mr contiguous floats */
            const __mmask16 k = (__mmask16)((1u << mr) - 1), all = (__mmask16)((1u << MR) - 1);
            for (; p < kc - 1; p++) /* whole stores, each spill overwritten by the next */
                _mm512_storeu_ps(dst + (size_t)p * MR,
                                 _mm512_maskz_loadu_ps(k, A + (size_t)(p0 + p) * lda + i0 + ir));
            _mm512_mask_storeu_ps(dst + (size_t)p * MR, all,
                                  _mm512_maskz_loadu_ps(k, A + (size_t)(p0 + p) * lda + i0 + ir));
            continue;
        }
        for (; p < kc; p++) {
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

/* c (rows, NR, row stride ldc) = (accumulate ? c : 0) + acc */
__attribute__((always_inline, target("avx512f"))) static inline void
tile_store(int rows, __m512 acc[MR][NV], float *c, int ldc, int accumulate) {
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
    tile_store(rows, acc, c, ldc, accumulate);
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

/* ---- bfloat16 products (gw_conv_c.bf16) ----
 * Mixed precision as in Kalamkar et al. 2019, "A Study of BFLOAT16 for Deep
 * Learning Training": both operands rounded to bfloat16 (8 bits of
 * significand, round to nearest even), each pair of products summed into
 * f32 accumulators by vdpbf16ps, which does two multiply-adds per lane where
 * vfmadd231ps does one. The panels are packed as for f32 and then converted
 * in place: rows 2p and 2p + 1 of a (kc, w) panel become row p of a
 * (ceil(kc / 2), w) panel of 32-bit pairs, row 2p's value in the low half
 * (a zero pairs with the last row of an odd kc). */
#define GW_BF16_TARGET "avx512f,avx512bw,avx512bf16"

__attribute__((target(GW_BF16_TARGET))) static void panel_to_bf16(float *panel, int kc, int w) {
    uint32_t *d = (uint32_t *)panel;
    uint16_t order[32]; /* word 2j <- row 2p's j, word 2j + 1 <- row 2p + 1's j */
    for (int j = 0; j < 16; j++)
        order[2 * j] = (uint16_t)j, order[2 * j + 1] = (uint16_t)(16 + j);
    const __m512i idx = _mm512_loadu_si512(order);
    for (int k = 0; k < kc; k += 2) {
        const float *r0 = panel + (size_t)k * w, *r1 = r0 + w;
        for (int j = 0; j < w; j += 16) {
            const int n = w - j < 16 ? w - j : 16;
            const __mmask16 m = (__mmask16)((1u << n) - 1);
            const __m512 lo = _mm512_maskz_loadu_ps(m, r0 + j);
            const __m512 hi = k + 1 < kc ? _mm512_maskz_loadu_ps(m, r1 + j) : _mm512_setzero_ps();
            /* words 0..15 from lo, 16..31 from hi, then interleaved; row
             * k / 2 is written only after rows k and k + 1 are read */
            const __m512i h = (__m512i)_mm512_cvtne2ps_pbh(hi, lo);
            _mm512_mask_storeu_epi32(d + (size_t)(k / 2) * w + j, m,
                                     _mm512_permutexvar_epi16(idx, h));
        }
    }
}

/* micro_tile over kc2 rows of bf16 pairs */
__attribute__((always_inline, target(GW_BF16_TARGET))) static inline void
micro_tile_bf16(int rows, int kc2, const uint32_t *a, const uint32_t *b, float *c, int ldc,
                int accumulate) {
    __m512 acc[MR][NV];
#pragma GCC unroll 16
    for (int i = 0; i < rows; i++)
#pragma GCC unroll 4
        for (int v = 0; v < NV; v++)
            acc[i][v] = _mm512_setzero_ps();
    for (int p = 0; p < kc2; p++) {
        __m512bh bv[NV];
#pragma GCC unroll 4
        for (int v = 0; v < NV; v++)
            bv[v] = (__m512bh)_mm512_loadu_si512(b + 16 * v);
#pragma GCC unroll 16
        for (int i = 0; i < rows; i++) {
            const __m512bh ai = (__m512bh)_mm512_set1_epi32((int)a[i]);
#pragma GCC unroll 4
            for (int v = 0; v < NV; v++)
                acc[i][v] = _mm512_dpbf16_ps(acc[i][v], ai, bv[v]);
        }
        a += MR;
        b += NR;
    }
    tile_store(rows, acc, c, ldc, accumulate);
}

__attribute__((target(GW_BF16_TARGET))) static void
micro_kernel_bf16(int kc, const float *a, const float *b, float *c, int ldc, int accumulate) {
    micro_tile_bf16(MR, (kc + 1) / 2, (const uint32_t *)a, (const uint32_t *)b, c, ldc, accumulate);
}

__attribute__((target(GW_BF16_TARGET))) static void
micro_kernel8_bf16(int kc, const float *a, const float *b, float *c, int ldc, int accumulate) {
    micro_tile_bf16(8, (kc + 1) / 2, (const uint32_t *)a, (const uint32_t *)b, c, ldc, accumulate);
}

/* the register tile of mr <= MR rows (8 rows where mr <= 8) on packed
 * panels of kc rows, in f32 or in bf16 pairs */
typedef void (*tile_fn)(int kc, const float *a, const float *b, float *c, int ldc, int accumulate);
static tile_fn tile_kernel(int mr, int bf16) {
    if (bf16) return mr <= 8 ? micro_kernel8_bf16 : micro_kernel_bf16;
    return mr <= 8 ? micro_kernel8 : micro_kernel;
}

/* the panels of a packed block in bf16 pairs: n panels of (kc, w) floats,
 * stride floats apart */
static void panels_to_bf16(float *p, int n, size_t stride, int kc, int w) {
    for (int i = 0; i < n; i++)
        panel_to_bf16(p + (size_t)i * stride, kc, w);
}

static void sgemm_packed(int bf16, int trans_a, int trans_b, int M, int N, int K, const float *A,
                         int lda, const float *B, int ldb, float beta, float *C, int ldc,
                         float *pack) {
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
            if (bf16) panels_to_bf16(pack_b_buf, (nc + NR - 1) / NR, (size_t)NR * kc, kc, NR);
            for (int i0 = 0; i0 < M; i0 += MC) {
                const int mc = M - i0 < MC ? M - i0 : MC;
                pack_a(pack_a_buf, trans_a, A, lda, i0, mc, p0, kc);
                if (bf16) panels_to_bf16(pack_a_buf, n_panels(mc), (size_t)MR * kc, kc, MR);
                for (int jr = 0; jr < nc; jr += NR) {
                    const int nr = nc - jr < NR ? nc - jr : NR;
                    const float *bp = pack_b_buf + (size_t)jr * kc;
                    for (int ir = 0, mr, panel = 0; ir < mc; ir += mr, panel++) {
                        mr = tile_rows(mc, ir);
                        const float *ap = pack_a_buf + (size_t)panel * MR * kc;
                        float *c = C + (size_t)(i0 + ir) * ldc + j0 + jr;
                        if (nr == NR && (mr == MR || mr == 8)) {
                            tile_kernel(mr, bf16)(kc, ap, bp, c, ldc, accumulate);
                            continue;
                        }
                        /* edge tile: compute whole rows, store the valid part */
                        tile_kernel(mr, bf16)(kc, ap, bp, tile, NR, 0);
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

void gw_conv_sgemm_avx512(int trans_a, int trans_b, int M, int N, int K, const float *A, int lda,
                          const float *B, int ldb, float beta, float *C, int ldc, float *pack) {
    sgemm_packed(0, trans_a, trans_b, M, N, K, A, lda, B, ldb, beta, C, ldc, pack);
}

static void sgemm_packed_bf16(int trans_a, int trans_b, int M, int N, int K, const float *A,
                              int lda, const float *B, int ldb, float beta, float *C, int ldc,
                              float *pack) {
    sgemm_packed(1, trans_a, trans_b, M, N, K, A, lda, B, ldb, beta, C, ldc, pack);
}

size_t gw_conv_sgemm_pack_size(void) {
    /* A block, B block, and the tap-major scratch of an IM2COL_T panel */
    return (size_t)MC * KC + (size_t)NC * KC + (size_t)NR * KC;
}

int gw_conv_sgemm_avx512_ok(void) {
    return __builtin_cpu_supports("avx512f");
}

int gw_conv_bf16_ok(void) {
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512bf16");
}
/* ---- the fused product ---- */

/* A stretch of consecutive pixels that stays within one grid row: image n,
 * grid row oh, grid columns [ow, ow + len), pixel q = oh Wo + ow within the
 * image, at column col of the block being packed or stored. */
typedef struct px_run {
    int n, oh, ow, q, len, col;
} px_run;

/* splits pixels [j, j + len) of a (Ho, Wo) grid into runs (at most len of
 * them); an NCHW plane is the grid (1, hw) */
static int pixel_runs(px_run *r, int Ho, int Wo, int j, int len) {
    const int hwo = Ho * Wo;
    int n = j / hwo, q = j % hwo, oh = q / Wo, ow = q % Wo, k = 0, col = 0;
    while (len > 0) {
        const int run = len < Wo - ow ? len : Wo - ow;
        r[k++] = (px_run){.n = n, .oh = oh, .ow = ow, .q = oh * Wo + ow, .len = run, .col = col};
        col += run, len -= run, ow = 0;
        if (++oh == Ho) oh = 0, n++;
    }
    return k;
}

/* tap p of the lowering (channel c, kernel row kh, column kw) with the grid
 * columns [lo, hi) whose tap lands inside the image row */
typedef struct px_tap {
    int c, kh, lo, hi, off; /* off = kw - pad_w: iw = ow stride + off */
} px_tap;

static void taps_of(px_tap *t, const gw_im2col_geom *g, int p0, int n) {
    const int khw = g->KH * g->KW, s = g->stride;
    for (int i = 0; i < n; i++) {
        const int p = p0 + i, r = p % khw, kw = r % g->KW, o = g->pad_w - kw;
        int l = o > 0 ? (o + s - 1) / s : 0;
        int h = (g->W - 1 + o) >= 0 ? (g->W - 1 + o) / s + 1 : 0;
        l = l > g->Wo ? g->Wo : l;
        h = h > g->Wo ? g->Wo : h;
        t[i] = (px_tap){.c = p / khw, .kh = r / g->KW, .lo = l, .hi = h < l ? l : h, .off = -o};
    }
}

/* the lanes 2t, t in [a, b) of 32, as a mask (0 <= a <= b <= 16) */
static inline uint32_t even_lanes(int a, int b) {
    const uint64_t hi = (1ull << (2 * b)) - 1, lo = (1ull << (2 * a)) - 1;
    return (uint32_t)((hi & ~lo) & 0x55555555u);
}

/* dst[t] = srow[(ow + t) s + off] where ow + t lies in [lo, hi), else 0, for
 * t < run: one grid row's stretch of an im2col row. Stride 2 (the spec nets)
 * takes 16 outputs per two masked loads and one permute; masked-off lanes
 * are never read, so the zero padding costs nothing. */
__attribute__((always_inline, target("avx512f"))) static inline void
row_gather(float *dst, const float *srow, int ow, int run, int lo, int hi, int s, int off) {
    if (s == 1) { /* a copy between zero edges (the PixelCNN's padded convolutions):
                     masked-off lanes are neither read nor kept */
        for (int t = 0; t < run; t += 16) {
            const int m = run - t < 16 ? run - t : 16, o0 = ow + t;
            const int a = (lo > o0 ? lo : o0) - o0, b = (hi < o0 + m ? hi : o0 + m) - o0;
            const __mmask16 k = b > a ? (__mmask16)(((1u << b) - 1) & ~((1u << a) - 1)) : 0;
            /* plain loads and stores where whole: AMD's masked stores are slow */
            const __m512 x = k == 0xFFFF ? _mm512_loadu_ps(srow + o0 + off)
                                         : _mm512_maskz_loadu_ps(k, srow + o0 + off);
            if (m == 16) _mm512_storeu_ps(dst + t, x);
            else _mm512_mask_storeu_ps(dst + t, (__mmask16)((1u << m) - 1), x);
        }
        return;
    }
    if (s != 2) {
        for (int t = 0; t < run; t++) {
            int o = ow + t;
            dst[t] = o >= lo && o < hi ? srow[o * s + off] : 0.0f;
        }
        return;
    }
    const __m512i even = _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2,
                                          0);
    for (int t = 0; t < run; t += 16) {
        const int m = run - t < 16 ? run - t : 16, o0 = ow + t;
        const int a = (lo > o0 ? lo : o0) - o0, b = (hi < o0 + m ? hi : o0 + m) - o0;
        __m512 x = _mm512_setzero_ps();
        if (b > a) {
            const uint32_t m32 = even_lanes(a, b);
            const float *base = srow + 2 * o0 + off;
            __m512 v0 = _mm512_maskz_loadu_ps((__mmask16)m32, base);
            __m512 v1 = _mm512_maskz_loadu_ps((__mmask16)(m32 >> 16), base + 16);
            x = _mm512_permutex2var_ps(v0, even, v1);
        }
        if (m == 16) _mm512_storeu_ps(dst + t, x);
        else _mm512_mask_storeu_ps(dst + t, (__mmask16)((1u << m) - 1), x);
    }
}

/* drow[(ow + t) s + off] += src[t] for ow + t in [lo, hi), t < run: the
 * adjoint of row_gather */
__attribute__((always_inline, target("avx512f"))) static inline void
row_scatter_add(float *drow, const float *src, int ow, int run, int lo, int hi, int s, int off) {
    const int a = lo > ow ? lo : ow, b = hi < ow + run ? hi : ow + run;
    if (s == 1) { /* 16 at a time, masked only at the stretch's end */
        float *d = drow + off;
        int o = a;
        for (; o + 16 <= b; o += 16)
            _mm512_storeu_ps(d + o,
                             _mm512_add_ps(_mm512_loadu_ps(d + o), _mm512_loadu_ps(src + o - ow)));
        if (o < b) {
            const __mmask16 k = (__mmask16)((1u << (b - o)) - 1);
            _mm512_mask_storeu_ps(d + o, k,
                                  _mm512_add_ps(_mm512_maskz_loadu_ps(k, d + o),
                                                _mm512_maskz_loadu_ps(k, src + o - ow)));
        }
        return;
    }
    if (s != 2) {
        for (int o = a; o < b; o++) drow[o * s + off] += src[o - ow];
        return;
    }
    const __m512i lo8 = _mm512_set_epi32(7, 7, 6, 6, 5, 5, 4, 4, 3, 3, 2, 2, 1, 1, 0, 0);
    const __m512i hi8 =
        _mm512_set_epi32(15, 15, 14, 14, 13, 13, 12, 12, 11, 11, 10, 10, 9, 9, 8, 8);
    for (int t = 0; t < run; t += 16) {
        const int m = run - t < 16 ? run - t : 16, o0 = ow + t;
        const int la = (a > o0 ? a : o0) - o0, lb = (b < o0 + m ? b : o0 + m) - o0;
        if (lb <= la) continue;
        const uint32_t m32 = even_lanes(la, lb);
        const __m512 x = _mm512_maskz_loadu_ps((__mmask16)((1u << m) - 1), src + t);
        float *base = drow + 2 * o0 + off;
        const __mmask16 m0 = (__mmask16)m32, m1 = (__mmask16)(m32 >> 16);
        if (m0) {
            __m512 d = _mm512_maskz_loadu_ps(m0, base);
            d = _mm512_add_ps(d, _mm512_maskz_permutexvar_ps(0x5555, lo8, x));
            _mm512_mask_storeu_ps(base, m0, d);
        }
        if (m1) {
            __m512 d = _mm512_maskz_loadu_ps(m1, base + 16);
            d = _mm512_add_ps(d, _mm512_maskz_permutexvar_ps(0x5555, hi8, x));
            _mm512_mask_storeu_ps(base + 16, m1, d);
        }
    }
}

/* Stride 2: the tile rows of one (channel, kernel row) are taps kw = k..
 * that add into the same image row at positions 2 ow + kw - pad. Their
 * shifted, interleaved contributions to 16 grid columns are summed in three
 * registers (48 image columns, enough for KW <= 17) and the image row is
 * read and written once, not once per tap: successive masked read-modify-
 * writes of overlapping stretches would each wait for the previous store. */
__attribute__((always_inline, target("avx512f"))) static inline void
group_scatter_add(float *drow, const float *tile, int rows, const px_tap *taps, int col, int ow,
                  int run, int W) {
    const __m512i iota = _mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0);
    const int off0 = taps[0].off;
    for (int t = 0; t < run; t += 16) {
        const int m = run - t < 16 ? run - t : 16, p0 = 2 * (ow + t) + off0;
        __m512 acc[3] = {_mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps()};
        for (int r = 0; r < rows; r++) {
            const int sh = taps[r].off - off0;
            const __m512 x =
                _mm512_maskz_loadu_ps((__mmask16)((1u << m) - 1), tile + r * NR + col + t);
            for (int a = 0; a < 3; a++) {
                /* lane l of acc[a] is image column p0 + 16 a + l = 2 u + sh + p0 for
                 * the tap's grid column u = (l + 16 a - sh) / 2 when that is whole */
                const int lo = sh - 16 * a > 0 ? sh - 16 * a : 0, hi = 31 + sh - 16 * a;
                if (lo > 15 || hi < 0) continue;
                uint32_t mk = (sh & 1 ? 0xAAAAu : 0x5555u) & (0xFFFFu << lo);
                if (hi < 15) mk &= (1u << (hi + 1)) - 1;
                const __m512i idx =
                    _mm512_srai_epi32(_mm512_add_epi32(iota, _mm512_set1_epi32(16 * a - sh)), 1);
                acc[a] = _mm512_add_ps(acc[a], _mm512_maskz_permutexvar_ps((__mmask16)mk, idx, x));
            }
        }
        for (int a = 0; a < 3; a++) {
            /* image columns [0, W) of this register */
            const int c0 = p0 + 16 * a, lo = c0 < 0 ? -c0 : 0, hi = W - c0;
            if (lo > 15 || hi <= 0) continue;
            uint32_t mk = 0xFFFFu << lo;
            if (hi < 16) mk &= (1u << hi) - 1;
            __m512 d = _mm512_maskz_loadu_ps((__mmask16)mk, drow + c0);
            _mm512_mask_storeu_ps(drow + c0, (__mmask16)mk, _mm512_add_ps(d, acc[a]));
        }
    }
}

/* grid rows between a panel and the one about 256 pixels on */
static inline int pf_rows(const gw_im2col_geom *g) {
    return g->Wo >= 256 ? 1 : (256 + g->Wo - 1) / g->Wo;
}

/* dst[0..) = im2col row of tap t over the pixel runs r */
__attribute__((target("avx512f"))) static void
im2col_runs(float *dst, const gw_im2col_geom *g, const float *img, const px_tap *t,
            const px_run *r, int nr) {
    for (int k = 0; k < nr; k++) {
        const int ih = r[k].oh * g->stride - g->pad + t->kh;
        if (ih < 0 || ih >= g->H) {
            for (int i = 0; i < r[k].len; i++) dst[r[k].col + i] = 0.0f;
            continue;
        }
        const float *srow = img + (((size_t)r[k].n * g->C + t->c) * g->H + ih) * g->W;
        /* A block's taps read C KH rows at once, one stretch of each per
         * panel: too many streams for the hardware prefetcher, so the rows
         * the panels about 256 pixels on will read are asked for now (a
         * prefetch never faults, in or past the image). */
        const uintptr_t ahead =
            (uintptr_t)srow +
            sizeof(float) * ((size_t)pf_rows(g) * g->stride * g->W + r[k].ow * g->stride + t->off);
        for (int b = 0; b < r[k].len * g->stride * 4; b += 64)
            _mm_prefetch((const char *)(ahead + (uintptr_t)b), _MM_HINT_T0);
        row_gather(dst + r[k].col, srow, r[k].ow, r[k].len, t->lo, t->hi, g->stride, t->off);
    }
}

/* dst[0..NR) = im2col rows p of taps[0..kc) over one stride-1 run of NR
 * pixels (grid row oh of image n from column ow): the panel of a PixelCNN
 * conv whose grid rows are whole panels. One row pointer and one 32-lane
 * mask per tap, two loads and two stores; the general path above spends
 * its bounds, masks and prefetch loop per tap and per 16 lanes, which made
 * it 12% of a training step. */
__attribute__((target("avx512f"))) static void im2col_panel_s1(float *dst, const gw_im2col_geom *g,
                                                               const float *img, const px_tap *taps,
                                                               int kc, const px_run *r) {
    _Static_assert(NR == 32, "two 16-lane vectors per panel row");
    const float *plane0 = img + (size_t)r->n * g->C * g->H * g->W;
    const int ih0 = r->oh - g->pad, ow = r->ow, pf = g->W;
    for (int p = 0; p < kc; p++, dst += NR) {
        const px_tap *t = &taps[p];
        const int ih = ih0 + t->kh;
        if (ih < 0 || ih >= g->H) {
            _mm512_storeu_ps(dst, _mm512_setzero_ps());
            _mm512_storeu_ps(dst + 16, _mm512_setzero_ps());
            continue;
        }
        const float *s = plane0 + ((size_t)t->c * g->H + ih) * g->W + ow + t->off;
        /* lanes whose column ow + l lies in [lo, hi) */
        const int a = t->lo > ow ? t->lo - ow : 0, b = t->hi - ow < NR ? t->hi - ow : NR;
        const uint32_t m =
            b > a ? (uint32_t)((b >= 32 ? ~0ull : (1ull << b) - 1) & ~((1ull << a) - 1)) : 0;
        /* the same tap one grid row on (a prefetch never faults; 4 rows on, as
         * the general path asks, measured 1% slower here) */
        _mm_prefetch((const char *)((uintptr_t)s + sizeof(float) * (size_t)pf), _MM_HINT_T0);
        _mm_prefetch((const char *)((uintptr_t)s + sizeof(float) * ((size_t)pf + 16)), _MM_HINT_T0);
        const __m512 x0 =
            (m & 0xFFFFu) == 0xFFFFu ? _mm512_loadu_ps(s) : _mm512_maskz_loadu_ps((__mmask16)m, s);
        const __m512 x1 = (m >> 16) == 0xFFFFu
                              ? _mm512_loadu_ps(s + 16)
                              : _mm512_maskz_loadu_ps((__mmask16)(m >> 16), s + 16);
        _mm512_storeu_ps(dst, x0);
        _mm512_storeu_ps(dst + 16, x1);
    }
}

/* 16 consecutive pixels for the gather path: each one's image offset of
 * (n, oh s, ow s) in img, oh s and ow s for the bounds, and which exist */
typedef struct px_vec {
    __m512i base, ohs, ows;
    __mmask16 live;
} px_vec;

__attribute__((target("avx512f"))) static int pixel_vecs(px_vec *v, const gw_im2col_geom *g, int j,
                                                          int len) {
    const int hwo = g->Ho * g->Wo, k = (len + 15) / 16;
    for (int i = 0; i < k; i++) {
        int b[16], oh[16], ow[16];
        unsigned live = 0;
        for (int l = 0; l < 16; l++) {
            const int px = j + 16 * i + l, n = px / hwo, q = px % hwo;
            oh[l] = q / g->Wo * g->stride, ow[l] = q % g->Wo * g->stride;
            b[l] = (n * g->C * g->H + oh[l]) * g->W + ow[l];
            if (16 * i + l < len) live |= 1u << l;
            else b[l] = 0;
        }
        v[i].base = _mm512_loadu_si512(b);
        v[i].ohs = _mm512_loadu_si512(oh);
        v[i].ows = _mm512_loadu_si512(ow);
        v[i].live = (__mmask16)live;
    }
    return k;
}

/* dst[0..16 k) = im2col row of tap t at the pixels of v: one masked gather
 * per 16 pixels, whatever the grid width (the row path above spends a
 * permute and its masks per grid row, which at 4 or 8 columns is most of
 * the work) */
__attribute__((target("avx512f"))) static void im2col_gather(float *dst, const gw_im2col_geom *g,
                                                              const float *img, const px_tap *t,
                                                              const px_vec *v, int k) {
    const int dh = t->kh - g->pad;
    const __m512i delta = _mm512_set1_epi32((t->c * g->H + dh) * g->W + t->off);
    const __m512i vdh = _mm512_set1_epi32(dh), voff = _mm512_set1_epi32(t->off);
    const __m512i H = _mm512_set1_epi32(g->H), W = _mm512_set1_epi32(g->W);
    for (int i = 0; i < k; i++) {
        __mmask16 m = _mm512_mask_cmplt_epu32_mask(v[i].live, _mm512_add_epi32(v[i].ohs, vdh), H);
        m = _mm512_mask_cmplt_epu32_mask(m, _mm512_add_epi32(v[i].ows, voff), W);
        const __m512 x = _mm512_mask_i32gather_ps(_mm512_setzero_ps(), m,
                                                  _mm512_add_epi32(v[i].base, delta), img, 4);
        _mm512_storeu_ps(dst + 16 * i, x);
    }
}

/* r[0..16) = its 16 x 16 transpose, in registers (three rounds of
 * shuffles: 2x2 float blocks, 4x4, then 128-bit lanes) */
__attribute__((always_inline, target("avx512f"))) static inline void
transpose16_regs(__m512 r[16]) {
    __m512 t[16];
    for (int i = 0; i < 16; i += 2) {
        t[i] = _mm512_unpacklo_ps(r[i], r[i + 1]);
        t[i + 1] = _mm512_unpackhi_ps(r[i], r[i + 1]);
    }
    for (int i = 0; i < 16; i += 4) {
        r[i] = _mm512_castpd_ps(
            _mm512_unpacklo_pd(_mm512_castps_pd(t[i]), _mm512_castps_pd(t[i + 2])));
        r[i + 1] = _mm512_castpd_ps(
            _mm512_unpackhi_pd(_mm512_castps_pd(t[i]), _mm512_castps_pd(t[i + 2])));
        r[i + 2] = _mm512_castpd_ps(
            _mm512_unpacklo_pd(_mm512_castps_pd(t[i + 1]), _mm512_castps_pd(t[i + 3])));
        r[i + 3] = _mm512_castpd_ps(
            _mm512_unpackhi_pd(_mm512_castps_pd(t[i + 1]), _mm512_castps_pd(t[i + 3])));
    }
    /* r[4b + k] holds, in its 128-bit lane l, elements 4l + k of rows 4b..4b+3 */
    for (int k = 0; k < 4; k++) {
        const __m512 a0 = _mm512_shuffle_f32x4(r[k], r[4 + k], 0x88);
        const __m512 a1 = _mm512_shuffle_f32x4(r[k], r[4 + k], 0xdd);
        const __m512 b0 = _mm512_shuffle_f32x4(r[8 + k], r[12 + k], 0x88);
        const __m512 b1 = _mm512_shuffle_f32x4(r[8 + k], r[12 + k], 0xdd);
        t[k] = _mm512_shuffle_f32x4(a0, b0, 0x88);
        t[k + 4] = _mm512_shuffle_f32x4(a1, b1, 0x88);
        t[k + 8] = _mm512_shuffle_f32x4(a0, b0, 0xdd);
        t[k + 12] = _mm512_shuffle_f32x4(a1, b1, 0xdd);
    }
    for (int i = 0; i < 16; i++)
        r[i] = t[i];
}

/* dst (16 rows, ld_dst) = src (16 rows, ld_src)^T */
__attribute__((always_inline, target("avx512f"))) static inline void
transpose16(float *dst, int ld_dst, const float *src, int ld_src) {
    __m512 r[16];
    for (int i = 0; i < 16; i++)
        r[i] = _mm512_loadu_ps(src + (size_t)i * ld_src);
    transpose16_regs(r);
    for (int i = 0; i < 16; i++)
        _mm512_storeu_ps(dst + (size_t)i * ld_dst, r[i]);
}

/* Ap (ceil(mc / MR) panels, kc, MR) from A (M, nb hw) stored as (nb, M, hw):
 * a transpose of each panel's MR channel rows. Where 16 pixels of a whole
 * panel lie in one image it is done 16 x 16 in registers (the dW product's
 * A, the output gradient; elementwise it was the product driver's largest
 * cost), the rest element by element. */
__attribute__((target("avx512f"))) static void pack_a_nchw(float *Ap, const gw_conv_a *a, int M,
                                                           int i0, int mc, int p0, int kc) {
    _Static_assert(MR <= 16, "a panel's rows fit one 16 x 16 transpose");
    for (int ir = 0, mr, panel = 0; ir < mc; ir += mr, panel++) {
        mr = tile_rows(mc, ir);
        float *dst = Ap + (size_t)panel * MR * kc;
        int n = p0 / a->hw, q = p0 % a->hw;
        for (int p = 0; p < kc;) {
            const float *s = a->p + ((size_t)n * M + i0 + ir) * a->hw + q;
            float *d = dst + (size_t)p * MR;
            if (mr >= 8 && p + 16 <= kc && q + 16 <= a->hw) {
                /* mr row streams at once: each row's line 1 KB on is
                 * asked for now */
                panel16(d, s, (size_t)a->hw, mr, 256);
                p += 16, q += 16;
            } else {
                for (int i = 0; i < mr; i++)
                    d[i] = s[(size_t)i * a->hw];
                for (int i = mr; i < MR; i++)
                    d[i] = 0.0f;
                p++, q++;
            }
            if (q == a->hw) q = 0, n++;
        }
    }
}

static void pack_a_any(float *Ap, const gw_conv_a *a, int M, int i0, int mc, int p0, int kc) {
    if (a->kind == GW_CONV_A_NCHW) pack_a_nchw(Ap, a, M, i0, mc, p0, kc);
    else pack_a(Ap, a->trans, a->p, a->ld, i0, mc, p0, kc);
}

/* grids under 16 columns take the gather path (measured: 20-25% faster
 * products at 8 and 4 columns, no gain at 16, a loss at 32), where npix
 * pixels' image offsets fit its 32-bit indices */
static int use_gather(const gw_im2col_geom *g, int npix) {
    const double images = (double)npix / ((double)g->Ho * g->Wo) + 1;
    return g->Wo < 16 && images * g->C * g->H * g->W < 2147483647.0;
}

/* Bp (ceil(nc / NR) panels, kc, NR) for every kind of B (K, npix);
 * tmp: NR x KC */
__attribute__((target("avx512f"))) static void pack_b_any(float *Bp, float *tmp,
                                                           const gw_conv_b *b, int K, int npix,
                                                           int p0, int kc, int j0, int nc) {
    px_run runs[KC > NR ? KC : NR];
    px_tap taps[KC > NR ? KC : NR];
    px_vec vecs[KC / 16];
    const gw_im2col_geom *g = b->g;
    if (b->kind == GW_CONV_B_DENSE) {
        pack_b(Bp, 0, b->p, b->ld, p0, kc, j0, nc);
        return;
    }
    if (b->kind == GW_CONV_B_IM2COL_T) {
        /* rows p0.. are pixels, columns taps: each tap's pixels are gathered
         * as a contiguous row of tmp, then NR x kc is transposed into the
         * panel 16 x 16 at a time */
        const int gather = use_gather(g, K);
        const int n_runs = gather ? pixel_vecs(vecs, g, p0, kc) : pixel_runs(runs, g->Ho, g->Wo, p0, kc);
        for (int jr = 0; jr < nc; jr += NR) {
            const int nr = nc - jr < NR ? nc - jr : NR;
            float *dst = Bp + (size_t)jr * kc;
            taps_of(taps, g, j0 + jr, nr);
            for (int t = 0; t < nr; t++) {
                if (gather) im2col_gather(tmp + (size_t)t * kc, g, b->p, &taps[t], vecs, n_runs);
                else im2col_runs(tmp + (size_t)t * kc, g, b->p, &taps[t], runs, n_runs);
            }
            for (int t = nr; t < NR; t++) memset(tmp + (size_t)t * kc, 0, sizeof(float) * kc);
            int p = 0;
            for (; p + 16 <= kc; p += 16)
                for (int t = 0; t < NR; t += 16)
                    transpose16(dst + (size_t)p * NR + t, NR, tmp + (size_t)t * kc + p, kc);
            for (; p < kc; p++)
                for (int t = 0; t < NR; t++) dst[(size_t)p * NR + t] = tmp[(size_t)t * kc + p];
        }
        return;
    }
    const int gather = b->kind == GW_CONV_B_IM2COL && use_gather(g, npix);
    if (b->kind == GW_CONV_B_IM2COL) taps_of(taps, g, p0, kc);
    for (int jr = 0; jr < nc; jr += NR) {
        const int nr = nc - jr < NR ? nc - jr : NR;
        float *dst = Bp + (size_t)jr * kc;
        const int n_runs = gather ? pixel_vecs(vecs, g, j0 + jr, nr)
                           : b->kind == GW_CONV_B_IM2COL ? pixel_runs(runs, g->Ho, g->Wo, j0 + jr, nr)
                                                         : pixel_runs(runs, 1, b->hw, j0 + jr, nr);
        if (b->kind == GW_CONV_B_IM2COL && !gather && g->stride == 1 && n_runs == 1 &&
            runs[0].len == NR) {
            im2col_panel_s1(dst, g, b->p, taps, kc, &runs[0]);
            continue;
        }
        for (int p = 0; p < kc; p++) {
            float *d = dst + (size_t)p * NR;
            if (gather) {
                im2col_gather(d, g, b->p, &taps[p], vecs, n_runs);
            } else if (b->kind == GW_CONV_B_IM2COL) {
                im2col_runs(d, g, b->p, &taps[p], runs, n_runs);
            } else { /* NCHW: each run is contiguous in its image's plane */
                for (int k = 0; k < n_runs; k++)
                    memcpy(d + runs[k].col, b->p + ((size_t)runs[k].n * K + p0 + p) * b->hw + runs[k].q,
                           sizeof(float) * runs[k].len);
            }
            for (int t = nr; t < NR; t++) d[t] = 0.0f;
        }
    }
}

/* the (mr, nr) tile (row stride NR) of C at rows i, pixel runs r, put where
 * C lives: taps[] are the tile rows' taps (COL2IM); first: the first K
 * block of an NCHW overwrite */
__attribute__((target("avx512f"))) static void store_tile(const gw_conv_c *c, const float *tile,
                                                           int M, int i, const px_tap *taps,
                                                           const px_run *r, int n_runs, int mr,
                                                           int first) {
    if (c->kind == GW_CONV_C_COL2IM && c->g->stride == 2 && c->g->KW <= 17) {
        const gw_im2col_geom *g = c->g;
        for (int row = 0; row < mr;) {
            const px_tap *t = &taps[row];
            int end = row + 1;
            while (end < mr && taps[end].c == t->c && taps[end].kh == t->kh) end++;
            for (int k = 0; k < n_runs; k++) {
                const int ih = r[k].oh * 2 - g->pad + t->kh;
                if (ih < 0 || ih >= g->H) continue;
                float *drow = c->p + (((size_t)r[k].n * g->C + t->c) * g->H + ih) * g->W;
                group_scatter_add(drow, tile + row * NR, end - row, t, r[k].col, r[k].ow,
                                  r[k].len, g->W);
            }
            row = end;
        }
        return;
    }
    if (c->kind == GW_CONV_C_COL2IM) {
        const gw_im2col_geom *g = c->g;
        for (int row = 0; row < mr; row++) {
            const px_tap *t = &taps[row];
            for (int k = 0; k < n_runs; k++) {
                const int ih = r[k].oh * g->stride - g->pad + t->kh;
                if (ih < 0 || ih >= g->H) continue;
                float *drow = c->p + (((size_t)r[k].n * g->C + t->c) * g->H + ih) * g->W;
                row_scatter_add(drow, tile + row * NR + r[k].col, r[k].ow, r[k].len, t->lo, t->hi,
                                g->stride, t->off);
            }
        }
        return;
    }
    for (int row = 0; row < mr; row++) { /* NCHW: row = channel */
        const float *src = tile + row * NR;
        const int overwrite = first && !c->accumulate;
        const float b0 = overwrite && c->bias ? c->bias[i + row] : 0.0f;
        for (int k = 0; k < n_runs; k++) {
            float *d = c->p + ((size_t)r[k].n * M + i + row) * c->hw + r[k].q;
            const float *s = src + r[k].col;
            if (overwrite)
                for (int t = 0; t < r[k].len; t++) d[t] = s[t] + b0;
            else
                for (int t = 0; t < r[k].len; t++) d[t] += s[t];
        }
    }
}

typedef struct gemm_job {
    int M, N, K, jb, je;
    const gw_conv_a *a;
    const gw_conv_b *b;
    const gw_conv_c *c;
    float *pack;
} gemm_job;

/* the product restricted to columns [jb, je), on the calling thread */
__attribute__((target("avx512f"))) static void gemm_range(const gemm_job *job) {
    const int M = job->M, K = job->K;
    const gw_conv_c *c = job->c;
    const int dense = c->kind == GW_CONV_C_DENSE, bf16 = c->bf16;
    float tile[MR * NR] __attribute__((aligned(64)));
    px_tap taps[MC];
    px_run runs[NR];
    float *Ap = job->pack, *Bp = Ap + MC * KC, *tmp = Bp + (size_t)NC * KC;
    if (dense && c->beta != 0.0f && c->beta != 1.0f)
        for (int i = 0; i < M; i++)
            for (int j = job->jb; j < job->je; j++) c->p[(size_t)i * c->ldc + j] *= c->beta;
    for (int j0 = job->jb; j0 < job->je; j0 += NC) {
        const int nc = job->je - j0 < NC ? job->je - j0 : NC;
        for (int p0 = 0; p0 < K; p0 += KC) {
            const int kc = K - p0 < KC ? K - p0 : KC;
            const int accumulate = p0 > 0 || (dense && c->beta != 0.0f);
            pack_b_any(Bp, tmp, job->b, K, job->N, p0, kc, j0, nc);
            if (bf16) panels_to_bf16(Bp, (nc + NR - 1) / NR, (size_t)NR * kc, kc, NR);
            for (int i0 = 0; i0 < M; i0 += MC) {
                const int mc = M - i0 < MC ? M - i0 : MC;
                pack_a_any(Ap, job->a, M, i0, mc, p0, kc);
                if (bf16) panels_to_bf16(Ap, n_panels(mc), (size_t)MR * kc, kc, MR);
                if (c->kind == GW_CONV_C_COL2IM) taps_of(taps, c->g, i0, mc);
                for (int jr = 0; jr < nc; jr += NR) {
                    const int nr = nc - jr < NR ? nc - jr : NR;
                    const float *bp = Bp + (size_t)jr * kc;
                    int n_runs = 0;
                    if (c->kind == GW_CONV_C_COL2IM)
                        n_runs = pixel_runs(runs, c->g->Ho, c->g->Wo, j0 + jr, nr);
                    else if (c->kind == GW_CONV_C_NCHW)
                        n_runs = pixel_runs(runs, 1, c->hw, j0 + jr, nr);
                    for (int ir = 0, mr, panel = 0; ir < mc; ir += mr, panel++) {
                        mr = tile_rows(mc, ir);
                        const float *ap = Ap + (size_t)panel * MR * kc;
                        const int full = nr == NR && (mr == MR || mr == 8);
                        if (dense && full) {
                            float *cp = c->p + (size_t)(i0 + ir) * c->ldc + j0 + jr;
                            tile_kernel(mr, bf16)(kc, ap, bp, cp, c->ldc, accumulate);
                            continue;
                        }
                        tile_kernel(mr, bf16)(kc, ap, bp, tile, NR, 0);
                        if (!dense) {
                            store_tile(c, tile, M, i0 + ir, taps + ir, runs, n_runs, mr, p0 == 0);
                            continue;
                        }
                        float *cp = c->p + (size_t)(i0 + ir) * c->ldc + j0 + jr;
                        for (int i = 0; i < mr; i++)
                            for (int j = 0; j < nr; j++)
                                cp[(size_t)i * c->ldc + j] =
                                    tile[i * NR + j] +
                                    (accumulate ? cp[(size_t)i * c->ldc + j] : 0.0f);
                    }
                }
            }
        }
    }
}

/* Several threads take blocks of columns from a shared counter until none
 * are left, so a thread the machine's other tenants slow down does fewer
 * (a fixed split would wait for its whole share). */
typedef struct gemm_share {
    gemm_job job; /* the product; jb, je and pack are per block and thread */
    int block, n_blocks;
    atomic_int next;
} gemm_share;

typedef struct gemm_worker {
    gemm_share *share;
    float *pack;
} gemm_worker;

static void *gemm_blocks(void *arg) {
    const gemm_worker *w = arg;
    gemm_share *s = w->share;
    gw_denormals_flush(); /* every computing thread (base/fpenv.c) */
    for (;;) {
        const int k = atomic_fetch_add(&s->next, 1);
        if (k >= s->n_blocks) return NULL;
        gemm_job j = s->job;
        j.pack = w->pack;
        j.jb = k * s->block;
        j.je = j.jb + s->block < j.N ? j.jb + s->block : j.N;
        gemm_range(&j);
    }
}

void gw_conv_gemm(int M, int N, int K, const gw_conv_a *a, const gw_conv_b *b, const gw_conv_c *c0,
                  int threads, float *pack) {
    if (M < 1 || N < 1) return;
    /* bf16 only where the CPU has it (elsewhere vdpbf16ps would not run) */
    gw_conv_c cb = *c0;
    cb.bf16 = cb.bf16 && gw_conv_bf16_ok();
    const gw_conv_c *c = &cb;
    if (!gw_conv_sgemm_avx512_ok()) {
        gw_conv_gemm_ref(M, N, K, a, b, c);
        return;
    }
    gemm_share s = {.job = {.M = M, .N = N, .K = K, .jb = 0, .je = N, .a = a, .b = b, .c = c,
                            .pack = pack}};
    int T = threads < 1 ? 1 : threads > GW_CONV_THREADS_MAX ? GW_CONV_THREADS_MAX : threads;
    if (T == 1) {
        gemm_range(&s.job);
        return;
    }
    /* blocks of whole units no two threads share (whole images where col2im
     * adds into overlapping pixels, register panels otherwise), about four
     * per thread and at most one B block wide */
    const int unit = c->kind == GW_CONV_C_COL2IM ? c->g->Ho * c->g->Wo : NR;
    int units = (N / (4 * T) + unit - 1) / unit;
    if (units * unit > NC) units = NC / unit;
    s.block = (units < 1 ? 1 : units) * unit;
    s.n_blocks = (N + s.block - 1) / s.block;
    atomic_init(&s.next, 0);
    if (T > s.n_blocks) T = s.n_blocks;
    gemm_worker w[GW_CONV_THREADS_MAX];
    for (int t = 0; t < T; t++) w[t] = (gemm_worker){&s, pack + (size_t)t * gw_conv_sgemm_pack_size()};
    /* a worker whose thread cannot be started finds its blocks taken */
    gw_run_jobs(gemm_blocks, w, sizeof w[0], T);
}
#else
size_t gw_conv_sgemm_pack_size(void) {
    return 0;
}

int gw_conv_sgemm_avx512_ok(void) {
    return 0;
}

int gw_conv_bf16_ok(void) {
    return 0;
}

void gw_conv_sgemm_avx512(int trans_a, int trans_b, int M, int N, int K, const float *A, int lda,
                          const float *B, int ldb, float beta, float *C, int ldc, float *pack) {
    sgemm_blas(trans_a, trans_b, M, N, K, A, lda, B, ldb, beta, C, ldc);
}

void gw_conv_gemm(int M, int N, int K, const gw_conv_a *a, const gw_conv_b *b, const gw_conv_c *c,
                  int threads, float *pack) {
    gw_conv_c f32 = *c; /* no bf16 products without AVX-512 */
    f32.bf16 = 0;
    gw_conv_gemm_ref(M, N, K, a, b, &f32);
}
#endif

int gw_conv_threads(void) {
    int t = gw_blas_threads(); /* the program's one thread setting (blas.h) */
    return t < 1 ? 1 : t > GW_CONV_THREADS_MAX ? GW_CONV_THREADS_MAX : t;
}

int gw_conv_fused_ok(const gw_conv2d_dims *d) {
    return !d->lowered && gw_conv_sgemm_avx512_ok();
}

int gw_conv_bf16(const gw_conv2d_dims *d) {
    return d->bf16 && gw_conv_bf16_ok();
}

void gw_conv_sgemm_p(int bf16, int trans_a, int trans_b, int M, int N, int K, const float *A,
                     int lda, const float *B, int ldb, float beta, float *C, int ldc, float *pack) {
    if (bf16)
        gw_conv_sgemm_bf16(trans_a, trans_b, M, N, K, A, lda, B, ldb, beta, C, ldc, pack);
    else
        gw_conv_sgemm(trans_a, trans_b, M, N, K, A, lda, B, ldb, beta, C, ldc, pack);
}

void gw_conv_sgemm_bf16(int trans_a, int trans_b, int M, int N, int K, const float *A, int lda,
                        const float *B, int ldb, float beta, float *C, int ldc, float *pack) {
#ifdef HAVE_AVX512_PATH
    if (pack && gw_conv_bf16_ok()) {
        sgemm_packed_bf16(trans_a, trans_b, M, N, K, A, lda, B, ldb, beta, C, ldc, pack);
        return;
    }
#endif
    gw_conv_sgemm(trans_a, trans_b, M, N, K, A, lda, B, ldb, beta, C, ldc, pack);
}

void gw_conv_sgemm(int trans_a, int trans_b, int M, int N, int K, const float *A, int lda,
                   const float *B, int ldb, float beta, float *C, int ldc, float *pack) {
    const gw_gemm_kernels *k = gw_gemm_kernels_cpu();
    if (pack && k->simd && gw_blas_threads() == 1) {
        k->packed(trans_a, trans_b, M, N, K, A, lda, B, ldb, beta, C, ldc, pack);
        return;
    }
    sgemm_blas(trans_a, trans_b, M, N, K, A, lda, B, ldb, beta, C, ldc);
}

/* ---- the fused product by its definitions ---- */

static double a_at(const gw_conv_a *a, int M, int i, int k) {
    if (a->kind == GW_CONV_A_NCHW)
        return a->p[((size_t)(k / a->hw) * M + i) * a->hw + k % a->hw];
    return a->trans ? a->p[(size_t)k * a->ld + i] : a->p[(size_t)i * a->ld + k];
}

/* element (r, col) of im2col(img): tap r, pixel col */
static double im2col_at(const gw_im2col_geom *g, const float *img, int r, int col) {
    const int khw = g->KH * g->KW, c = r / khw, kh = r % khw / g->KW, kw = r % g->KW;
    const int hwo = g->Ho * g->Wo, n = col / hwo, oh = col % hwo / g->Wo, ow = col % g->Wo;
    const int ih = oh * g->stride - g->pad + kh, iw = ow * g->stride - g->pad_w + kw;
    if (ih < 0 || ih >= g->H || iw < 0 || iw >= g->W) return 0.0;
    return img[(((size_t)n * g->C + c) * g->H + ih) * g->W + iw];
}

static double b_at(const gw_conv_b *b, int K, int k, int j) {
    switch (b->kind) {
    case GW_CONV_B_DENSE:
        return b->p[(size_t)k * b->ld + j];
    case GW_CONV_B_NCHW:
        return b->p[((size_t)(j / b->hw) * K + k) * b->hw + j % b->hw];
    case GW_CONV_B_IM2COL:
        return im2col_at(b->g, b->p, k, j);
    case GW_CONV_B_IM2COL_T:
        return im2col_at(b->g, b->p, j, k);
    }
    return 0.0;
}

/* x as the bf16 products see it (vdpbf16ps also reads a denormal as 0,
 * this does not; training flushes denormals anyway, base/fpenv.c) */
static double bf16_round(double x) {
    return gw_bf16_to_f32(gw_f32_to_bf16((float)x));
}

void gw_conv_gemm_ref(int M, int N, int K, const gw_conv_a *a, const gw_conv_b *b,
                      const gw_conv_c *c) {
    for (int i = 0; i < M; i++)
        for (int j = 0; j < N; j++) {
            double acc = 0.0;
            for (int k = 0; k < K; k++)
                acc += c->bf16 ? bf16_round(a_at(a, M, i, k)) * bf16_round(b_at(b, K, k, j))
                               : a_at(a, M, i, k) * b_at(b, K, k, j);
            if (c->kind == GW_CONV_C_DENSE) {
                float *d = c->p + (size_t)i * c->ldc + j;
                *d = (float)acc + (c->beta != 0.0f ? c->beta * *d : 0.0f);
            } else if (c->kind == GW_CONV_C_NCHW) {
                float *d = c->p + ((size_t)(j / c->hw) * M + i) * c->hw + j % c->hw;
                *d = c->accumulate ? *d + (float)acc : (float)acc + (c->bias ? c->bias[i] : 0.0f);
            } else {
                const gw_im2col_geom *g = c->g;
                const int khw = g->KH * g->KW, ch = i / khw, kh = i % khw / g->KW, kw = i % g->KW;
                const int hwo = g->Ho * g->Wo, n = j / hwo, oh = j % hwo / g->Wo, ow = j % g->Wo;
                const int ih = oh * g->stride - g->pad + kh, iw = ow * g->stride - g->pad_w + kw;
                if (ih >= 0 && ih < g->H && iw >= 0 && iw < g->W)
                    c->p[(((size_t)n * g->C + ch) * g->H + ih) * g->W + iw] += (float)acc;
            }
        }
}
