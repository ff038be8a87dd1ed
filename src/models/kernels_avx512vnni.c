/* kernels_avx512vnni.c - the AVX-512 kernels again, with the int8 matrix-
 * vector products on AVX512_VNNI's vpdpbusd: one instruction multiplies four
 * unsigned input bytes by four signed weight bytes and adds the four products
 * into an int32 lane, so a step streams a quarter of f32's weight bytes and
 * needs half the instructions of vdpbf16ps (wavenet_kernels.h has the layout
 * and the rounding). Its f32, f16 and bf16 products are the "avx512" set's.
 * Compiled with -mavx512vnni and chosen at run time only when the CPU has it
 * (gw_wn_kernels_avx512vnni); the naive twin is the scalar set's matvec_i8. */
#include "models/wavenet_kernels.h"

#include <float.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

#include "models/kernels_avx512_isa.inc"
#define SIMD_NAME    "avx512vnni"
#define SIMD_FN(x)   avx512vnni_##x
#define SIMD_I8_VNNI 1

#include "models/kernels_simd.inc"
#endif
