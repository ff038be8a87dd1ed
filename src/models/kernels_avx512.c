/* kernels_avx512.c - fast-WaveNet kernels for AVX-512 (16 lanes), compiled
 * for that ISA whatever the build's -march and chosen at run time only when
 * the CPU has it (gw_wn_kernels_best). */
#include "models/wavenet_kernels.h"

#include <stddef.h>
#include <stdint.h>

#if defined(__x86_64__) && defined(__GNUC__)
/* compiled with -mavx2 -mfma -mf16c -mavx512f -mavx512dq -mavx512vl (CMakeLists.txt: per-file flags both gcc and clang
 * accept; a #pragma GCC target would stop clang) */
#include <immintrin.h>

typedef __m512 V;
#define VW 16
#define VLOAD(p) _mm512_loadu_ps(p)
#define VLOADH(p) _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(const void *)(p)))
/* bf16 -> float is a shift into the top half: integer ALU work, off the FMA pipes */
#define VLOADBF2(p, lo, hi)                                                                   \
    do {                                                                                       \
        __m512i q_ = _mm512_loadu_si512((const void *)(p));                                    \
        (lo) = _mm512_castsi512_ps(_mm512_slli_epi32(q_, 16));                                 \
        (hi) = _mm512_castsi512_ps(_mm512_and_si512(q_, _mm512_set1_epi32((int)0xffff0000u))); \
    } while (0)
#define VSTORE(p, a) _mm512_storeu_ps((p), (a))
#define VSET1(f) _mm512_set1_ps(f)
#define VZERO() _mm512_setzero_ps()
#define VFMA(a, b, c) _mm512_fmadd_ps((a), (b), (c))
#define VADD(a, b) _mm512_add_ps((a), (b))
#define VSUB(a, b) _mm512_sub_ps((a), (b))
#define VMUL(a, b) _mm512_mul_ps((a), (b))
#define VDIV(a, b) _mm512_div_ps((a), (b))
#define VMAX(a, b) _mm512_max_ps((a), (b))
#define VMIN(a, b) _mm512_min_ps((a), (b))
#define VROUND(a) _mm512_roundscale_ps((a), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)
#define VPOW2I(n) \
    _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_add_epi32(_mm512_cvtps_epi32(n), _mm512_set1_epi32(127)), 23))
#define VHMAX(a) _mm512_reduce_max_ps(a)
#define VHSUM(a) _mm512_reduce_add_ps(a)
/* 8 voices x 2 vectors = 16 of the 32 registers as accumulators: each
 * weight register serves all 8 voices of a batch, so the weights stream
 * once per step (measured 5-10% faster than 4 voices x 4 vectors) */
#define MK_VB_BATCH 8
#define MK_NV_BATCH 2
#define MK_NV_ONE 8
#define MK_NV_ONE_BF16 8
#define SIMD_NAME "avx512"
#define SIMD_FN(x) avx512_##x

#include "models/kernels_simd.inc"
#endif
