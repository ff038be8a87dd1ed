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

#include "models/kernels_avx512_isa.inc"
#define SIMD_NAME "avx512"
#define SIMD_FN(x) avx512_##x

#include "models/kernels_simd.inc"
#endif
