/* bfloat16 <-> float (gw_base.h): the weights of the WaveNet's bf16 format
 * and the operands of the bf16 matrix products (nn/conv_gemm.c) round the
 * same way. */
#include "base/gw_base.h"

#include <string.h>

uint16_t gw_f32_to_bf16(float f) {
    uint32_t x;
    memcpy(&x, &f, sizeof x);
    if ((x & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((x >> 16) | 0x40u); /* quiet NaN */
    /* round to nearest even on the dropped 16 bits; a carry into the
     * exponent is the right result (up to inf past the largest bf16) */
    return (uint16_t)((x + 0x7fffu + ((x >> 16) & 1u)) >> 16);
}

float gw_bf16_to_f32(uint16_t h) {
    uint32_t x = (uint32_t)h << 16;
    float f;
    memcpy(&f, &x, sizeof f);
    return f;
}
