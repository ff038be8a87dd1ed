/* kernels_scalar.c - naive reference versions of the fast-WaveNet kernels
 * (wavenet_kernels.h), the weight packer, and the run-time choice of ISA.
 * The SIMD kernels are tested against these. */
#include "base/gw_base.h"
#include "models/wavenet_kernels.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

uint16_t gw_wn_f32_to_f16(float f) {
    uint32_t x;
    memcpy(&x, &f, sizeof x);
    uint32_t sign = (x >> 16) & 0x8000u, ax = x & 0x7fffffffu;
    if (ax >= 0x7f800000u) return (uint16_t)(sign | 0x7c00u | (ax > 0x7f800000u ? 0x200u : 0)); /* inf, NaN */
    if (ax >= 0x477ff000u) return (uint16_t)(sign | 0x7c00u); /* >= 65520 rounds to inf */
    if (ax >= 0x38800000u) {                                   /* normal: rebias 127 -> 15, round 13 bits */
        uint32_t r = ax - 0x38000000u;
        return (uint16_t)(sign | ((r + 0xfffu + ((r >> 13) & 1u)) >> 13));
    }
    int shift = 126 - (int)(ax >> 23); /* subnormal: M * 2^(e - 150) = q * 2^-24 */
    if (shift > 24) return (uint16_t)sign;
    uint32_t M = (ax & 0x7fffffu) | 0x800000u, q = M >> shift, rem = M & ((1u << shift) - 1u);
    uint32_t half = 1u << (shift - 1);
    if (rem > half || (rem == half && (q & 1u))) q++;
    return (uint16_t)(sign | q);
}

float gw_wn_f16_to_f32(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16, e = (h >> 10) & 0x1fu, m = h & 0x3ffu, x;
    if (e == 0) {
        float v = (float)m * 5.9604644775390625e-8f; /* m * 2^-24, exact */
        return sign ? -v : v;
    }
    if (e == 31)
        x = sign | 0x7f800000u | (m << 13);
    else
        x = sign | ((e + 112u) << 23) | (m << 13);
    float f;
    memcpy(&f, &x, sizeof f);
    return f;
}

/* where W[r][k] of a packed matrix is */
static size_t packed_index(int N, int Mp, int r, int k) {
    int r0 = r / GW_WN_BLOCK * GW_WN_BLOCK;
    int bw = Mp - r0 < GW_WN_BLOCK ? Mp - r0 : GW_WN_BLOCK;
    return (size_t)r0 * N + (size_t)k * bw + (size_t)(r - r0);
}

/* the same in the bf16 pair layout */
static size_t packed_index_bf16(int N, int Mp, int r, int k) {
    int r0 = r / GW_WN_BLOCK * GW_WN_BLOCK;
    int bw = Mp - r0 < GW_WN_BLOCK ? Mp - r0 : GW_WN_BLOCK;
    return (size_t)r0 * (N + (N & 1)) + (size_t)(k / 2) * 2 * bw + 2 * (size_t)(r - r0) + (k & 1);
}

/* packs W (M, N) row-major: element (r, k) of the padded matrix, zero past
 * M rows and N columns, is put at index(N, Mp, r, k) for k < cols */
static void pack_with(void *dst, const float *W, int M, int N, int cols,
                      size_t (*index)(int N, int Mp, int r, int k),
                      void (*put)(void *dst, size_t i, float w)) {
    int Mp = gw_wn_pad16(M);
    for (int r = 0; r < Mp; r++)
        for (int k = 0; k < cols; k++)
            put(dst, index(N, Mp, r, k), r < M && k < N ? W[(size_t)r * N + k] : 0.0f);
}

static void put_f32(void *dst, size_t i, float w) {
    ((float *)dst)[i] = w;
}
static void put_f16(void *dst, size_t i, float w) {
    ((uint16_t *)dst)[i] = gw_wn_f32_to_f16(w);
}
static void put_bf16(void *dst, size_t i, float w) {
    ((uint16_t *)dst)[i] = gw_f32_to_bf16(w);
}

void gw_wn_pack(float *dst, const float *W, int M, int N) {
    pack_with(dst, W, M, N, N, packed_index, put_f32);
}

void gw_wn_pack_f16(uint16_t *dst, const float *W, int M, int N) {
    pack_with(dst, W, M, N, N, packed_index, put_f16);
}

void gw_wn_pack_bf16(uint16_t *dst, const float *W, int M, int N) {
    pack_with(dst, W, M, N, N + (N & 1), packed_index_bf16, put_bf16);
}

/* the int8 quad layout: block[k / 4][i][k % 4] over N4 = N rounded up to 4 */
static size_t packed_index_i8(int N, int Mp, int r, int k) {
    int r0 = r / GW_WN_BLOCK * GW_WN_BLOCK;
    int bw = Mp - r0 < GW_WN_BLOCK ? Mp - r0 : GW_WN_BLOCK;
    return (size_t)r0 * ((N + 3) & ~3) + (size_t)(k / 4) * 4 * bw + 4 * (size_t)(r - r0) + (k & 3);
}

void gw_wn_pack_i8(int8_t *dst, const float *W, int M, int N) {
    const int Mp = gw_wn_pad16(M), N4 = (N + 3) & ~3;
    float *scale = (float *)(void *)(dst + (size_t)Mp * N4);
    int32_t *comp = (int32_t *)(void *)(scale + Mp);
    for (int r = 0; r < Mp; r++) {
        /* a row is rounded as a product's input is (gw_wn_i8_range and
         * gw_wn_i8_byte), less the 128 offset: symmetric, in [-127, 127] */
        float inv = 0.0f;
        scale[r] = r < M ? gw_wn_i8_range(W + (size_t)r * N, N, &inv) : 0.0f;
        int32_t sum = 0;
        for (int k = 0; k < N4; k++) {
            const int q = r < M && k < N ? gw_wn_i8_byte(W[(size_t)r * N + k], inv) - 128 : 0;
            dst[packed_index_i8(N, Mp, r, k)] = (int8_t)q;
            sum += q;
        }
        comp[r] = 128 * sum;
    }
}

float gw_wn_i8_range(const float *x, int N, float *inv) {
    float m = 0.0f;
    int bad = 0;
    for (int k = 0; k < N; k++) {
        const float a = fabsf(x[k]);
        bad |= !(a < INFINITY);
        m = a > m ? a : m;
    }
    *inv = m > 0.0f && !bad ? 127.0f / m : 0.0f;
    if (!(*inv <= FLT_MAX)) *inv = 0.0f; /* denormal x: all 128, a zero product */
    return bad ? NAN : m / 127.0f;
}

/* the naive twin of the int8 products: the same bytes, an exact integer sum
 * over k, then the same float steps as the SIMD kernels */
void gw_wn_matvec_i8_ref(float *y, int y_stride, const int8_t *W, const float *x, int x_stride,
                         const float *bias, int bias_stride, const float *add, int add_stride,
                         int Mp, int N, int B, int relu) {
    const int N4 = (N + 3) & ~3;
    const float *scale = (const float *)(const void *)(W + (size_t)Mp * N4);
    const int32_t *comp = (const int32_t *)(const void *)(scale + Mp);
    for (int v = 0; v < B; v++) {
        const float *xv = x + (size_t)v * x_stride;
        float inv;
        const float sx = gw_wn_i8_range(xv, N, &inv);
        for (int r = 0; r < Mp; r++) {
            int32_t acc = 0;
            for (int k = 0; k < N4; k++)
                acc += (int32_t)W[packed_index_i8(N, Mp, r, k)] *
                       gw_wn_i8_byte(k < N ? xv[k] : 0.0f, inv);
            float s = (float)(acc - comp[r]) * (scale[r] * sx);
            if (bias) s += bias[(size_t)v * bias_stride + r];
            if (add) s += add[(size_t)v * add_stride + r];
            if (relu && s < 0.0f) s = 0.0f;
            y[(size_t)v * y_stride + r] = s;
        }
    }
}

/* y = W x + bias + add, relu; W[r][k] = weight(W, index(N, Mp, r, k)) */
#define MATVEC_SCALAR(weight, index)                                                           \
    for (int v = 0; v < B; v++)                                                                \
        for (int r = 0; r < Mp; r++) {                                                         \
            float s = 0.0f;                                                                    \
            for (int k = 0; k < N; k++)                                                        \
                s += weight(W, index(N, Mp, r, k)) * x[(size_t)v * x_stride + k];              \
            if (bias) s += bias[(size_t)v * bias_stride + r];                                  \
            if (add) s += add[(size_t)v * add_stride + r];                                     \
            if (relu && s < 0.0f) s = 0.0f;                                                    \
            y[(size_t)v * y_stride + r] = s;                                                   \
        }
#define W_F32(W, i) (W)[i]
#define W_F16(W, i) gw_wn_f16_to_f32((W)[i])
#define W_BF16(W, i) gw_bf16_to_f32((W)[i])

static void matvec_scalar(float *y, int y_stride, const float *W, const float *x, int x_stride,
                          const float *bias, int bias_stride, const float *add, int add_stride,
                          int Mp, int N, int B, int relu) {
    MATVEC_SCALAR(W_F32, packed_index)
}

static void matvec_f16_scalar(float *y, int y_stride, const uint16_t *W, const float *x,
                              int x_stride, const float *bias, int bias_stride, const float *add,
                              int add_stride, int Mp, int N, int B, int relu) {
    MATVEC_SCALAR(W_F16, packed_index)
}

static void matvec_bf16_scalar(float *y, int y_stride, const uint16_t *W, const float *x,
                               int x_stride, const float *bias, int bias_stride, const float *add,
                               int add_stride, int Mp, int N, int B, int relu) {
    MATVEC_SCALAR(W_BF16, packed_index_bf16)
}

void gw_wn_matvec_bf16dp_ref(float *y, int y_stride, const uint16_t *W, const float *x,
                             int x_stride, const float *bias, int bias_stride, const float *add,
                             int add_stride, int Mp, int N, int B, int relu) {
#define X_BF16(v, k) gw_bf16_to_f32(gw_f32_to_bf16(x[(size_t)(v)*x_stride + (k)]))
    for (int v = 0; v < B; v++)
        for (int r = 0; r < Mp; r++) {
            float s = 0.0f;
            for (int k = 0; k < N; k += 2) { /* vdpbf16ps: the odd product first */
                if (k + 1 < N)
                    s += W_BF16(W, packed_index_bf16(N, Mp, r, k + 1)) * X_BF16(v, k + 1);
                s += W_BF16(W, packed_index_bf16(N, Mp, r, k)) * X_BF16(v, k);
            }
            if (bias) s += bias[(size_t)v * bias_stride + r];
            if (add) s += add[(size_t)v * add_stride + r];
            if (relu && s < 0.0f) s = 0.0f;
            y[(size_t)v * y_stride + r] = s;
        }
#undef X_BF16
}

static void gate_scalar(float *z, int z_stride, const float *h, int h_stride, int Gp, int B) {
    for (int v = 0; v < B; v++)
        for (int i = 0; i < Gp; i++) {
            const float *hv = h + (size_t)v * h_stride;
            z[(size_t)v * z_stride + i] = tanhf(hv[i]) / (1.0f + expf(-hv[Gp + i]));
        }
}

static float softmax_exp_scalar(float *p, const float *logits, int n, float inv_t) {
    float m = logits[0];
    for (int i = 1; i < n; i++)
        if (logits[i] > m) m = logits[i];
    float sum = 0.0f;
    for (int i = 0; i < n; i++) sum += p[i] = expf((logits[i] - m) * inv_t);
    return sum;
}

const gw_wn_kernels gw_wn_kernels_scalar = {
    .name = "scalar",
    .matvec = matvec_scalar,
    .matvec_f16 = matvec_f16_scalar,
    .matvec_bf16 = matvec_bf16_scalar,
    .matvec_pf = matvec_scalar,
    .matvec_f16_pf = matvec_f16_scalar,
    .matvec_bf16_pf = matvec_bf16_scalar,
    .matvec_i8 = gw_wn_matvec_i8_ref,
    .matvec_i8_pf = gw_wn_matvec_i8_ref,
    .gate = gate_scalar,
    .softmax_exp = softmax_exp_scalar,
};

/* The selectors live here, in a file built for the baseline ISA: the
 * kernel files are built with their ISA's -m flags, and a selector
 * compiled with them could itself use an instruction the CPU lacks. */
#if defined(__x86_64__) && defined(__GNUC__)
#include <cpuid.h>

extern const gw_wn_kernels avx2_kernels, avx512_kernels, avx512bf16_kernels, avx512vnni_kernels;

/* CPUID leaf 1, ECX bit 29 (clang's __builtin_cpu_supports has no "f16c") */
static int has_f16c(void) {
    unsigned a, b, c, d;
    return __get_cpuid(1, &a, &b, &c, &d) && (c >> 29 & 1u);
}

const gw_wn_kernels *gw_wn_kernels_avx2(void) {
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && has_f16c())
        return &avx2_kernels;
    return NULL;
}

const gw_wn_kernels *gw_wn_kernels_avx512(void) {
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
        __builtin_cpu_supports("avx512vl"))
        return &avx512_kernels;
    return NULL;
}
const gw_wn_kernels *gw_wn_kernels_avx512bf16(void) {
    __builtin_cpu_init();
    if (gw_wn_kernels_avx512() && __builtin_cpu_supports("avx512bf16")) return &avx512bf16_kernels;
    return NULL;
}
const gw_wn_kernels *gw_wn_kernels_avx512vnni(void) {
    __builtin_cpu_init();
    if (gw_wn_kernels_avx512() && __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("avx512vnni"))
        return &avx512vnni_kernels;
    return NULL;
}
#else
const gw_wn_kernels *gw_wn_kernels_avx512vnni(void) {
    return NULL;
}

const gw_wn_kernels *gw_wn_kernels_avx2(void) {
    return NULL;
}

const gw_wn_kernels *gw_wn_kernels_avx512bf16(void) {
    return NULL;
}

const gw_wn_kernels *gw_wn_kernels_avx512(void) {
    return NULL;
}
#endif

const gw_wn_kernels *gw_wn_kernels_capped(const char *cap) {
    if (cap && !strcmp(cap, "scalar")) return &gw_wn_kernels_scalar;
    const gw_wn_kernels *k = NULL;
    if (!(cap && !strcmp(cap, "avx2"))) k = gw_wn_kernels_avx512();
    if (!k) k = gw_wn_kernels_avx2();
    return k ? k : &gw_wn_kernels_scalar;
}

const gw_wn_kernels *gw_wn_kernels_best(void) {
    return gw_wn_kernels_capped(NULL);
}

const gw_wn_kernels *gw_wn_kernels_named(const char *name) {
    if (!strcmp(name, "scalar")) return &gw_wn_kernels_scalar;
    if (!strcmp(name, "avx2")) return gw_wn_kernels_avx2();
    if (!strcmp(name, "avx512")) return gw_wn_kernels_avx512();
    if (!strcmp(name, "avx512bf16")) return gw_wn_kernels_avx512bf16();
    if (!strcmp(name, "avx512vnni")) return gw_wn_kernels_avx512vnni();
    return NULL;
}
