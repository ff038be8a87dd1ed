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
#include <stddef.h>
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

/* c ? a : b on the bits. Written as a mask so GCC if-converts it: a plain
 * ternary next to a division is kept as a branch under -ftrapping-math
 * (the division is sunk into one arm) and the loop stays scalar. */
static inline float gw_vselectf(int c, float a, float b) {
    uint32_t ua, ub, m = -(uint32_t)(c != 0);
    memcpy(&ua, &a, 4);
    memcpy(&ub, &b, 4);
    uint32_t r = (ua & m) | (ub & ~m);
    float f;
    memcpy(&f, &r, 4);
    return f;
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
    return gw_vselectf(ax < 0.625f, small, big);
}

/* Float sums do not vectorise without -ffast-math (reassociation), so the
 * reductions below keep 8 partial sums that GCC maps onto one AVX register;
 * the result differs from a sequential sum only in rounding order. */
enum { GW_VLANES = 8 };

/* sum_i e^(x[i] - shift), also stored in y[i] when y is not NULL */
static inline float gw_vexp_sum(float *y, const float *x, float shift, int n) {
    float acc[GW_VLANES] = {0};
    int i = 0;
    for (; i + GW_VLANES <= n; i += GW_VLANES)
        for (int j = 0; j < GW_VLANES; j++) {
            float e = gw_vexpf(x[i + j] - shift);
            if (y) y[i + j] = e;
            acc[j] += e;
        }
    float s = 0.0f;
    for (; i < n; i++) {
        float e = gw_vexpf(x[i] - shift);
        if (y) y[i] = e;
        s += e;
    }
    for (int j = 0; j < GW_VLANES; j++) s += acc[j];
    return s;
}

/* sum of x[0..n): 32 partial sums (four AVX registers, so the adds of one
 * do not wait on the last: a single running sum is bound by the add's
 * latency, ~1 element per 3 cycles, where a bias gradient over a batch of
 * planes then costs several percent of a training step) */
static inline float gw_vsum(const float *x, size_t n) {
    enum { K = 4 * GW_VLANES };
    float acc[K] = {0};
    size_t i = 0;
    for (; i + K <= n; i += K)
        for (int j = 0; j < K; j++)
            acc[j] += x[i + j];
    float s = 0.0f;
    for (; i < n; i++)
        s += x[i];
    for (int j = 0; j < K; j++)
        s += acc[j];
    return s;
}

/* max of x[0..n), n >= 1 (NaN-free input assumed: the losses check the
 * result for finiteness afterwards) */
static inline float gw_vmax(const float *x, int n) {
    float acc[GW_VLANES];
    for (int j = 0; j < GW_VLANES; j++) acc[j] = x[0];
    int i = 0;
    for (; i + GW_VLANES <= n; i += GW_VLANES)
        for (int j = 0; j < GW_VLANES; j++) acc[j] = x[i + j] > acc[j] ? x[i + j] : acc[j];
    float m = x[0];
    for (; i < n; i++) m = x[i] > m ? x[i] : m;
    for (int j = 0; j < GW_VLANES; j++) m = acc[j] > m ? acc[j] : m;
    return m;
}

static inline float gw_vdot(const float *a, const float *b, int n) {
    float acc[GW_VLANES] = {0};
    int i = 0;
    for (; i + GW_VLANES <= n; i += GW_VLANES)
        for (int j = 0; j < GW_VLANES; j++) acc[j] += a[i + j] * b[i + j];
    float s = 0.0f;
    for (; i < n; i++) s += a[i] * b[i];
    for (int j = 0; j < GW_VLANES; j++) s += acc[j];
    return s;
}

#endif
