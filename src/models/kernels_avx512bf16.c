/* kernels_avx512bf16.c - the AVX-512 kernels again, with the bf16 matrix-
 * vector products on AVX512_BF16's vdpbf16ps: one instruction multiplies a
 * pair of bf16 weights by a pair of bf16 inputs and adds both products into
 * a float lane, so a step needs half the arithmetic instructions and none of
 * the integer widening of the "avx512" set (wavenet_kernels.h). The inputs
 * are rounded to bf16 as well (round to nearest even), so this set is a
 * different rounding of the same model: the planner offers it as a
 * candidate beside the exact-widening sets, never as the default, and its
 * naive twin is gw_wn_matvec_bf16dp_ref. Compiled with -mavx512bf16 and
 * chosen at run time only when the CPU has it (gw_wn_kernels_avx512bf16). */
#include "models/wavenet_kernels.h"

#include <stddef.h>
#include <stdint.h>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

#include "models/kernels_avx512_isa.inc"
#define SIMD_NAME    "avx512bf16"
#define SIMD_FN(x)   avx512bf16_##x
#define SIMD_DP_BF16 1

#include "models/kernels_simd.inc"
#endif
