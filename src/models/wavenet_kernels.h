/* wavenet_kernels.h - the small dense kernels of fast WaveNet generation
 * (private to src/models; the stream and the tests use them).
 *
 * Generation at one voice is a chain of matrix-vector products whose weights
 * (~0.9 MB for wavenet-small) are re-read every sample, so speed is set by
 * how fast the weights stream through the cache, not by arithmetic. Weights
 * are therefore packed once, in exactly the order a step reads them:
 *
 *   packed W (M, N):  rows padded to Mp = multiple of 16; row blocks of up to
 *   GW_WN_BLOCK rows; inside a block, k-major: block[k][0 .. bw), so one
 *   input value x[k] multiplies bw contiguous weights (bw / 16 AVX-512 loads)
 *   and the block's outputs stay in registers for the whole k loop.
 *   Block b starts at float offset b * GW_WN_BLOCK * N.
 *
 *   packed bf16 W (M, N): the same blocks over k pairs: block[k / 2][i][k % 2]
 *   (N2 = N rounded up to even, a zero column pads an odd N), so one 32-bit
 *   lane holds row i's W[i][k] (low half) and W[i][k + 1] (high half). A
 *   bfloat16 is the top half of a float, so a shift left by 16 and a mask
 *   widen the pair to two exact floats with integer instructions, which run
 *   beside the FMAs (vcvtph2ps, the f16 widening, competes with them: at
 *   466 KB of weights it streams 51 GMAC/s here against 74 for bf16).
 *   Block b starts at uint16 offset b * GW_WN_BLOCK * N2.
 *
 *   packed int8 W (M, N): the same blocks over k quads: block[k / 4][i][k % 4]
 *   (N4 = N rounded up to a multiple of 4, zero columns pad), one signed
 *   byte q[i][k] per weight with W[i][k] ~ scale[i] q[i][k], q in
 *   [-127, 127], scale[i] = max_k |W[i][k]| / 127 (symmetric, one scale a
 *   row). After the Mp * N4 bytes come Mp floats scale[i] and Mp int32s
 *   comp[i] = 128 sum_k q[i][k]. A product rounds each voice's x to bytes
 *   as well, xq[k] = 128 + round(x[k] 127 / max|x|) in [1, 255], and
 *   AVX512_VNNI's vpdpbusd adds four byte products into an int32 lane, so
 *   the sum over k is exact: y[i] = (sum_k q[i][k] xq[k] - comp[i]) scale[i]
 *   max|x| / 127 (Jacob et al. 2018, "Quantization and training of neural
 *   networks for efficient integer-arithmetic-only inference"; LPCNet's
 *   8-bit products, Valin and Skoglund 2019). A quarter of f32's bytes and
 *   64 multiply-adds per instruction, for logits within about 1% (the
 *   planner offers it only to 8-bit mu-law models: wavenet_plan.c).
 *   Block b starts at byte offset b * GW_WN_BLOCK * N4.
 *
 * Every kernel has a scalar reference (kernels_scalar.c) that the SIMD ones
 * (kernels_avx2.c, kernels_avx512.c) are tested against.
 */
#ifndef GW_MODELS_WAVENET_KERNELS_H
#define GW_MODELS_WAVENET_KERNELS_H

#include <stddef.h>
#include <stdint.h>

enum {
    GW_WN_PANEL = 16,  /* rows per panel: one AVX-512 register */
    GW_WN_BLOCK = 128, /* rows per block: 8 panels of accumulators */
    /* inputs of an int8 product: its int32 sums of N products of at most
     * 127 x 255 (and the rows' offsets, 128 x 127 N) stay exact below 2^31 */
    GW_WN_I8_MAX_N = 65536,
};

static inline int gw_wn_pad16(int n) {
    return (n + 15) & ~15;
}

typedef struct gw_wn_kernels {
    const char *name; /* "scalar", "avx2", "avx512" */
    /* For each voice v < B:
     *   y[v] = W x[v] + (bias ? bias[v * bias_stride] : 0) + (add ? add[v * add_stride] : 0)
     * then max(0, .) if relu. W packed (Mp, N) as above; y rows Mp (pad rows
     * get whatever the zero pad weights give: bias and add pads must be 0).
     * bias_stride 0 shares one bias among voices. */
    void (*matvec)(float *y, int y_stride,                 // (B, Mp)
                   const float *W,                         // packed (Mp, N)
                   const float *x, int x_stride,           // (B, N)
                   const float *bias, int bias_stride,     // (B, Mp) or (Mp) or NULL
                   const float *add, int add_stride,       // (B, Mp) or NULL
                   int Mp, int N, int B, int relu);
    /* the same with IEEE half-precision weights (packed by gw_wn_pack_f16),
     * widened to float on load: half the bytes to stream per step; products
     * and sums stay in float */
    void (*matvec_f16)(float *y, int y_stride, const uint16_t *W, const float *x, int x_stride,
                       const float *bias, int bias_stride, const float *add, int add_stride,
                       int Mp, int N, int B, int relu);
    /* the same with bfloat16 weights (packed by gw_wn_pack_bf16), widened
     * exactly to float on load; x, products and sums stay float */
    void (*matvec_bf16)(float *y, int y_stride, const uint16_t *W, const float *x, int x_stride,
                        const float *bias, int bias_stride, const float *add, int add_stride,
                        int Mp, int N, int B, int relu);
    /* the three again, each with a software prefetch of the weights (a
     * non-temporal hint 4 KB ahead of the loads): the same results, bit for
     * bit; faster or slower by CPU (kernels_simd.inc), which is why the
     * planner measures both. The scalar twins have no prefetch. */
    void (*matvec_pf)(float *y, int y_stride, const float *W, const float *x, int x_stride,
                      const float *bias, int bias_stride, const float *add, int add_stride,
                      int Mp, int N, int B, int relu);
    void (*matvec_f16_pf)(float *y, int y_stride, const uint16_t *W, const float *x,
                          int x_stride, const float *bias, int bias_stride, const float *add,
                          int add_stride, int Mp, int N, int B, int relu);
    void (*matvec_bf16_pf)(float *y, int y_stride, const uint16_t *W, const float *x,
                           int x_stride, const float *bias, int bias_stride, const float *add,
                           int add_stride, int Mp, int N, int B, int relu);
    /* the same with int8 weights (packed by gw_wn_pack_i8) and x rounded to
     * bytes per voice (the layout note above); N <= GW_WN_I8_MAX_N. Only
     * "avx512vnni" has byte instructions: the other sets run the naive
     * twin, gw_wn_matvec_i8_ref */
    void (*matvec_i8)(float *y, int y_stride, const int8_t *W, const float *x, int x_stride,
                      const float *bias, int bias_stride, const float *add, int add_stride, int Mp,
                      int N, int B, int relu);
    void (*matvec_i8_pf)(float *y, int y_stride, const int8_t *W, const float *x, int x_stride,
                         const float *bias, int bias_stride, const float *add, int add_stride,
                         int Mp, int N, int B, int relu);
    /* 1: matvec_bf16 rounds x to bf16 as well (the "avx512bf16" set's
     * vdpbf16ps; its twin is gw_wn_matvec_bf16dp_ref), 0: x stays float */
    int bf16_inputs;
    /* gated activation unit (van den Oord et al. 2016, eq. 2):
     * z[v][i] = tanh(h[v][i]) * sigmoid(h[v][Gp + i]), i < Gp (Gp % 16 == 0) */
    void (*gate)(float *z, int z_stride,                   // (B, Gp)
                 const float *h, int h_stride,             // (B, 2 Gp)
                 int Gp, int B);
    /* p[i] = exp((logits[i] - max(logits)) * inv_t); returns sum(p).
     * n % 16 == 0 */
    float (*softmax_exp)(float *p, const float *logits, int n, float inv_t);
} gw_wn_kernels;

extern const gw_wn_kernels gw_wn_kernels_scalar;
/* NULL when the CPU (or the build) lacks the instructions */
const gw_wn_kernels *gw_wn_kernels_avx2(void);
const gw_wn_kernels *gw_wn_kernels_avx512(void);
/* the AVX-512 set with bf16 products on vdpbf16ps (AVX512_BF16: AMD Zen 4
 * and later, Intel Cooper Lake and Sapphire Rapids and later), which rounds
 * the inputs to bf16 too: a planner candidate, never "best" */
const gw_wn_kernels *gw_wn_kernels_avx512bf16(void);
/* the AVX-512 set with the int8 products on AVX512_VNNI's vpdpbusd (Intel
 * Ice Lake and later, AMD Zen 4 and later); its other products are the
 * "avx512" set's */
const gw_wn_kernels *gw_wn_kernels_avx512vnni(void);
/* the fastest this CPU runs */
const gw_wn_kernels *gw_wn_kernels_best(void);
/* the fastest this CPU runs at or below cap ("scalar" < "avx2" < "avx512";
 * NULL, "" or another name: no cap, the best), for benchmarks and
 * debugging: the programs read it from $GW_WAVENET_ISA and put the set's
 * name in a plan (cli/args.h gw_cli_isa_cap); the library reads no
 * environment */
const gw_wn_kernels *gw_wn_kernels_capped(const char *cap);
/* the kernels of that name ("avx512bf16", "avx512vnni", "avx512", "avx2",
 * "scalar") if
 * this CPU runs them, else NULL */
const gw_wn_kernels *gw_wn_kernels_named(const char *name);

/* the naive twin of a bf16_inputs set's matvec_bf16: y = W x (+ bias, add,
 * relu) with W packed bf16 and each x rounded to bf16, every product exact
 * in float and summed in float, pair by pair. A reference within rounding,
 * not bit for bit: vdpbf16ps flushes denormals, and the kernel sums in
 * several partial accumulators and chunks of 1024 */
void gw_wn_matvec_bf16dp_ref(float *y, int y_stride, const uint16_t *W, const float *x,
                             int x_stride, const float *bias, int bias_stride, const float *add,
                             int add_stride, int Mp, int N, int B, int relu);

/* how the int8 products round a voice's x (N) to bytes: m = max |x[k]|,
 * *inv = 127 / m (0 when m is 0, so small that 127 / m overflows, or x
 * holds a NaN or an infinity), and the
 * result m / 127 (NaN for such an x, so the product is NaN as in float);
 * byte k is gw_wn_i8_byte(x[k], *inv). The SIMD kernels compute the same. */
float gw_wn_i8_range(const float *x, int N, float *inv);
static inline uint8_t gw_wn_i8_byte(float x, float inv) {
    const float t = x * inv; /* |t| <= 127 up to rounding; NaN only when inv is 0 */
    if (!(t >= -127.0f)) return t < 0.0f ? 1 : 128; /* never converts a NaN to int */
    if (t > 127.0f) return 255;
    return (uint8_t)(128 + (int)__builtin_rintf(t));
}
/* the int8 layout (gw_wn_packed_bytes_i8(M, N) bytes: weights, scales,
 * offsets); N <= GW_WN_I8_MAX_N */
void gw_wn_pack_i8(int8_t *dst, const float *W, int M, int N);
/* the naive twin of the int8 products (the scalar set's matvec_i8), also
 * the int8 product of the sets without byte instructions ("avx512",
 * "avx2", "avx512bf16"), so that any set runs an i8 plan */
void gw_wn_matvec_i8_ref(float *y, int y_stride, const int8_t *W, const float *x, int x_stride,
                         const float *bias, int bias_stride, const float *add, int add_stride,
                         int Mp, int N, int B, int relu);
/* packs W (M, N) row-major into dst (Mp * N floats, zero padded rows) */
void gw_wn_pack(float *dst, const float *W, int M, int N);
/* the same layout in IEEE binary16, rounded to nearest even */
void gw_wn_pack_f16(uint16_t *dst, const float *W, int M, int N);
/* the bf16 pair layout (Mp * N2 uint16, zero padded rows and column) */
void gw_wn_pack_bf16(uint16_t *dst, const float *W, int M, int N);
/* IEEE binary16 <-> float in software (exact; round to nearest even) */
uint16_t gw_wn_f32_to_f16(float f);
float gw_wn_f16_to_f32(uint16_t h);
static inline size_t gw_wn_packed_size(int M, int N) {
    return (size_t)gw_wn_pad16(M) * (size_t)N;
}
/* uint16 values of a bf16-packed (M, N) matrix */
static inline size_t gw_wn_packed_size_bf16(int M, int N) {
    return (size_t)gw_wn_pad16(M) * (size_t)(N + (N & 1));
}

/* bytes of an int8-packed (M, N) matrix: Mp * N4 weights, then Mp floats
 * and Mp int32s */
static inline size_t gw_wn_packed_bytes_i8(int M, int N) {
    return (size_t)gw_wn_pad16(M) * (size_t)((N + 3) & ~3) + (size_t)gw_wn_pad16(M) * 8;
}

#endif
