/* vmath.h - branch-free exp, tanh and sigmoid that GCC vectorises (private
 * to src/nn; static inline so loops over them become AVX2 code).
 *
 * glibc's expf/tanhf are scalar calls (its vector variants need
 * -ffast-math); the WaveNet gate alone evaluates ~30 M tanh and ~30 M
 * sigmoid per training step of wavenet-small, which at scalar libm speed
 * costs about as much as the convolutions. These use the classic Cephes
 * scheme: round x / ln2 to n with the 1.5*2^23 "magic number" (no
 * float-to-int conversion, so no UB for any input), reduce
 * r = x - n ln2 in two parts (Cody-Waite), a degree-6 polynomial for e^r on
 * |r| <= ln2/2, and scale by 2^n through the exponent bits. Max relative
 * error of exp is ~2 ulp over [-87, 88]; inputs are clamped to that range
 * (NaN passes through: the comparisons are false for NaN). tests/nn
 * compare all three with libm over a dense sweep of float32.
 */
#ifndef GW_NN_VMATH_H
#define GW_NN_VMATH_H

#include <math.h>
#include <stdint.h>
#include <string.h>

static inline float gw_vexpf(float x) {
    x = x > 88.0f ? 88.0f : x;
    x = x < -87.0f ? -87.0f : x;
    const float magic = 12582912.0f; /* 1.5 * 2^23: adding it rounds to an integer */
    float t = fmaf(x, 1.44269504088896341f, magic);
    float n = t - magic;
    float r = fmaf(n, -0.693359375f, x); /* ln2 = 0.693359375 - 2.12194440e-4 */
    r = fmaf(n, 2.12194440e-4f, r);
    float p = 1.9875691500e-4f;
    p = fmaf(p, r, 1.3981999507e-3f);
    p = fmaf(p, r, 8.3334519073e-3f);
    p = fmaf(p, r, 4.1665795894e-2f);
    p = fmaf(p, r, 1.6666665459e-1f);
    p = fmaf(p, r, 5.0000001201e-1f);
    p = fmaf(p, r * r, r + 1.0f);
    uint32_t tb;
    memcpy(&tb, &t, 4);
    /* the low mantissa bits of t hold n + 2^22 (two's complement within the
     * 22-bit field); n + 127 shifted into the exponent field is 2^n */
    uint32_t eb = (tb + 127u - 0x400000u) << 23;
    float s;
    memcpy(&s, &eb, 4);
    return p * s;
}

/* 1 / (1 + e^-x): e^-x is clamped, so no overflow for any finite x */
static inline float gw_vsigmoidf(float x) {
    return 1.0f / (1.0f + gw_vexpf(-x));
}

/* tanh: odd polynomial near 0 (keeps relative accuracy for tiny x, where
 * (1 - e)/(1 + e) would cancel), (1 - e^-2|x|)/(1 + e^-2|x|) elsewhere */
static inline float gw_vtanhf(float x) {
    float ax = fabsf(x);
    float e = gw_vexpf(-2.0f * ax);
    float big = (1.0f - e) / (1.0f + e);
    big = copysignf(big, x);
    float z = x * x;
    float p = -5.70498872745e-3f;
    p = fmaf(p, z, 2.06390887954e-2f);
    p = fmaf(p, z, -5.37397155531e-2f);
    p = fmaf(p, z, 1.33314422036e-1f);
    p = fmaf(p, z, -3.33332819422e-1f);
    float small = fmaf(p * z, x, x);
    return ax < 0.625f ? small : big;
}

#endif
