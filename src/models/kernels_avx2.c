/* kernels_avx2.c - fast-WaveNet kernels for AVX2 + FMA (8 lanes; a 16-row
 * panel is two registers), chosen at run time when AVX-512 is missing. */
#include "models/wavenet_kernels.h"

#include <stddef.h>
#include <stdint.h>

#if defined(__x86_64__) && defined(__GNUC__)
/* compiled with -mavx2 -mfma -mf16c (CMakeLists.txt: per-file flags both gcc and clang
 * accept; a #pragma GCC target would stop clang) */
#include <immintrin.h>

typedef __m256 V;
#define VW 8
#define VLOAD(p) _mm256_loadu_ps(p)
#define VLOADH(p) _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(const void *)(p)))
#define VLOADBF2(p, lo, hi)                                                                   \
    do {                                                                                       \
        __m256i q_ = _mm256_loadu_si256((const __m256i *)(const void *)(p));                   \
        (lo) = _mm256_castsi256_ps(_mm256_slli_epi32(q_, 16));                                 \
        (hi) = _mm256_castsi256_ps(_mm256_and_si256(q_, _mm256_set1_epi32((int)0xffff0000u))); \
    } while (0)
#define VSTORE(p, a) _mm256_storeu_ps((p), (a))
#define VSET1(f) _mm256_set1_ps(f)
#define VZERO() _mm256_setzero_ps()
#define VFMA(a, b, c) _mm256_fmadd_ps((a), (b), (c))
#define VADD(a, b) _mm256_add_ps((a), (b))
#define VSUB(a, b) _mm256_sub_ps((a), (b))
#define VMUL(a, b) _mm256_mul_ps((a), (b))
#define VDIV(a, b) _mm256_div_ps((a), (b))
#define VMAX(a, b) _mm256_max_ps((a), (b))
#define VMIN(a, b) _mm256_min_ps((a), (b))
#define VROUND(a) _mm256_round_ps((a), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)
#define VPOW2I(n) \
    _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23))

static inline float avx2_hmax(__m256 a) {
    __m128 m = _mm_max_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
    m = _mm_max_ps(m, _mm_movehl_ps(m, m));
    m = _mm_max_ss(m, _mm_shuffle_ps(m, m, 1));
    return _mm_cvtss_f32(m);
}
static inline float avx2_hsum(__m256 a) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_shuffle_ps(s, s, 1));
    return _mm_cvtss_f32(s);
}
#define VHMAX(a) avx2_hmax(a)
#define VHSUM(a) avx2_hsum(a)
/* 16 registers: 4 voices x 2 vectors or 1 voice x 8 vectors (weights then
 * come straight from memory as FMA operands); bf16 weights are widened in
 * registers first, so 1 voice x 4 vectors */
#define MK_VB_BATCH 4
#define MK_NV_BATCH 2
#define MK_NV_ONE 8
#define MK_NV_ONE_BF16 4
#define SIMD_NAME "avx2"
#define SIMD_FN(x) avx2_##x

#include "models/kernels_simd.inc"
#endif
