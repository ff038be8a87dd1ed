/* Tests of src/nn layers: BLAS kernels against their naive twins, known
 * values, and central-difference gradient checks of every backward with
 * respect to every input and parameter (tests/gw_test.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/gw_base.h"
#include "gw_test.h"
#include "nn/blas.h"
#include "nn/im2col.h"
#include "nn/layers.h"
#include "nn/vmath.h"

static float *rnd(gw_rng *r, size_t n, float lo, float hi) {
    float *p = gw_alloc((n ? n : 1) * sizeof(float));
    assert_non_null(p);
    gw_rng_fill_uniform(r, p, n, lo, hi);
    return p;
}

static float *zeros(size_t n) {
    float *p = gw_alloc((n ? n : 1) * sizeof(float));
    assert_non_null(p);
    return p;
}

/* ---- one context for every gradient check: L = sum(forward(...) .* g) ---- */
typedef struct gc {
    void (*fwd)(struct gc *c);
    float *out;     /* forward output, nout values */
    const float *g; /* fixed random upstream gradient */
    size_t nout;
    float *inp, *w, *b;
    int N, I, O;                                     /* dense */
    int B, T_in, C_in, C_out, K, dil, pad;           /* conv1d */
    float slope;                                     /* leaky relu */
    void (*ew)(float *, const float *, size_t);      /* elementwise forward */
} gc;

static double gc_loss(void *ctx) {
    gc *c = ctx;
    c->fwd(c);
    return gw_test_dot(c->out, c->g, c->nout);
}

#define TOL 1e-2
#define CHECK(what, x, dx, n, c, eps)                                                        \
    assert_true(gw_test_gradcheck(what, x, dx, n, gc_loss, c, eps, 400) < TOL)

/* ---- dense ---- */
static void dense_fwd(gc *c) { gw_dense_forward(c->out, c->inp, c->w, c->b, c->N, c->I, c->O); }

/* gw_dense_* (OpenBLAS) and gw_dense_*_packed (the packed AVX-512 kernel
 * on one BLAS thread where the CPU has it; and its bf16 products, where
 * the CPU has them, against the loops on operands rounded to bf16) against
 * the naive loops, on shapes that end mid-tile and, for the packed kernel,
 * span several 12-row and 32-column tiles and a product deeper than its
 * 256-deep block */

static void test_dense_blas_matches_naive(void **state) {
    gw_rng r;
    gw_rng_seed(&r, 11);
    const int shapes[][3] = {{5, 7, 3}, {1, 13, 6}, {33, 17, 40}, {4, 1, 2}, {300, 37, 70}};
    float *pack = gw_alloc(sizeof(float) * gw_conv_sgemm_pack_size());
    const int threads = gw_blas_threads();
    gw_denormals_restore(gw_blas_setup(1));
    /* packed 2: the bf16 products, against the loops on rounded operands */
    for (int packed = 0; packed < (gw_conv_bf16_ok() ? 3 : 2); packed++)
        for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
            int N = shapes[s][0], I = shapes[s][1], O = shapes[s][2];
            float *pk = packed ? pack : NULL;
            const int bf16 = packed == 2;
            for (int with_bias = 0; with_bias < 2; with_bias++) {
                float *x = rnd(&r, (size_t)N * I, -1, 1), *w = rnd(&r, (size_t)O * I, -1, 1);
                float *b = with_bias ? rnd(&r, O, -1, 1) : NULL;
                float *g = rnd(&r, (size_t)N * O, -1, 1);
                float *xr = zeros((size_t)N * I), *wr = zeros((size_t)O * I);
                float *gr = zeros((size_t)N * O);
                memcpy(xr, x, sizeof(float) * N * I), memcpy(wr, w, sizeof(float) * O * I);
                memcpy(gr, g, sizeof(float) * N * O);
                if (bf16)
                    gw_test_round_bf16(xr, (size_t)N * I), gw_test_round_bf16(wr, (size_t)O * I);
                if (bf16) gw_test_round_bf16(gr, (size_t)N * O);
                float *y1 = zeros((size_t)N * O), *y2 = zeros((size_t)N * O);
                if (packed)
                    gw_dense_forward_packed(y1, x, w, b, N, I, O, bf16, pk);
                else gw_dense_forward(y1, x, w, b, N, I, O);
                gw_dense_forward_naive(y2, xr, wr, b, N, I, O);
                assert_true(gw_test_max_abs_diff(y1, y2, (size_t)N * O) < 1e-5f);
                /* backward accumulates: start both from the same nonzero values */
                float *dx1 = rnd(&r, (size_t)N * I, -1, 1), *dw1 = rnd(&r, (size_t)O * I, -1, 1);
                float *db1 = rnd(&r, O, -1, 1);
                float *dx2 = zeros((size_t)N * I), *dw2 = zeros((size_t)O * I), *db2 = zeros(O);
                memcpy(dx2, dx1, sizeof(float) * N * I);
                memcpy(dw2, dw1, sizeof(float) * O * I);
                memcpy(db2, db1, sizeof(float) * O);
                gw_dense_backward_packed(dx1, dw1, db1, g, x, w, N, I, O, bf16, pk);
                gw_dense_backward_naive(dx2, dw2, NULL, gr, xr, wr, N, I, O);
                gw_dense_backward_naive(NULL, NULL, db2, g, x, w, N, I, O); /* a sum */
                assert_true(gw_test_max_abs_diff(dx1, dx2, (size_t)N * I) < 1e-4f);
                assert_true(gw_test_max_abs_diff(dw1, dw2, (size_t)O * I) < 1e-4f);
                assert_true(gw_test_max_abs_diff(db1, db2, O) < 1e-4f);
                /* NULL gradients are skipped, the others still computed */
                float *dw3 = zeros((size_t)O * I), *dw4 = zeros((size_t)O * I);
                if (packed)
                    gw_dense_backward_packed(NULL, dw3, NULL, g, x, w, N, I, O, bf16, pk);
                else gw_dense_backward(NULL, dw3, NULL, g, x, w, N, I, O);
                gw_dense_backward_naive(NULL, dw4, NULL, gr, xr, wr, N, I, O);
                assert_true(gw_test_max_abs_diff(dw3, dw4, (size_t)O * I) < 1e-4f);
                gw_free(dw3), gw_free(dw4);
                gw_free(x), gw_free(w), gw_free(b), gw_free(g), gw_free(y1), gw_free(y2);
                gw_free(xr), gw_free(wr), gw_free(gr);
                gw_free(dx1), gw_free(dw1), gw_free(db1), gw_free(dx2), gw_free(dw2),
                    gw_free(db2);
            }
        }
    gw_denormals_restore(gw_blas_setup(threads));
    gw_free(pack);
}

static void test_dense_known_values(void **state) {
    /* out = x W^T + b with x = [1 2], W = [[1 0], [2 -1], [0.5 3]], b = [0.1 0.2 0.3] */
    const float x[2] = {1, 2}, w[6] = {1, 0, 2, -1, 0.5f, 3}, b[3] = {0.1f, 0.2f, 0.3f};
    float y[3];
    gw_dense_forward(y, x, w, b, 1, 2, 3);
    assert_float_equal(y[0], 1.1f, 1e-6);
    assert_float_equal(y[1], 0.2f, 1e-6);
    assert_float_equal(y[2], 6.8f, 1e-6);
}

static void test_dense_gradcheck(void **state) {
    gw_rng r;
    gw_rng_seed(&r, 12);
    const int shapes[][3] = {{1, 5, 4}, {6, 7, 3}};
    for (int s = 0; s < 2; s++) {
        gc c = {.fwd = dense_fwd, .N = shapes[s][0], .I = shapes[s][1], .O = shapes[s][2]};
        size_t ni = (size_t)c.N * c.I, nw = (size_t)c.O * c.I;
        c.nout = (size_t)c.N * c.O;
        c.inp = rnd(&r, ni, -1, 1), c.w = rnd(&r, nw, -1, 1), c.b = rnd(&r, c.O, -1, 1);
        float *g = rnd(&r, c.nout, -1, 1);
        c.g = g, c.out = zeros(c.nout);
        float *dx = zeros(ni), *dw = zeros(nw), *db = zeros(c.O);
        gw_dense_backward(dx, dw, db, g, c.inp, c.w, c.N, c.I, c.O);
        CHECK("dense dinp", c.inp, dx, ni, &c, 1e-2f);
        CHECK("dense dw", c.w, dw, nw, &c, 1e-2f);
        CHECK("dense db", c.b, db, c.O, &c, 1e-2f);
        gw_free(c.inp), gw_free(c.w), gw_free(c.b), gw_free(g), gw_free(c.out);
        gw_free(dx), gw_free(dw), gw_free(db);
    }
}

/* ---- conv1d ---- */
static void conv_fwd(gc *c) {
    gw_conv1d_forward(c->out, c->inp, c->w, c->b, c->B, c->T_in, c->C_in, c->C_out, c->K, c->dil,
                      c->pad);
}

static void test_conv1d_known_values(void **state) {
    /* causal K=2: out[t] = 0.5 + 2 x[t-1] + 3 x[t], x[-1] = 0 */
    const float x[3] = {1, 2, 4}, w[2] = {2, 3}, b[1] = {0.5f};
    float y[3];
    assert_int_equal(gw_conv1d_out_len(3, 2, 1, 1), 3);
    gw_conv1d_forward(y, x, w, b, 1, 3, 1, 1, 2, 1, 1);
    assert_float_equal(y[0], 3.5f, 1e-6);
    assert_float_equal(y[1], 8.5f, 1e-6);
    assert_float_equal(y[2], 16.5f, 1e-6);
    /* valid, dilation 2, K=2 over 5 steps: out[t] = 2 x[t] + 3 x[t+2], 3 outputs */
    const float x5[5] = {1, -1, 2, 0, 3};
    float y5[3];
    assert_int_equal(gw_conv1d_out_len(5, 2, 2, 0), 3);
    gw_conv1d_forward(y5, x5, w, NULL, 1, 5, 1, 1, 2, 2, 0);
    assert_float_equal(y5[0], 8.0f, 1e-6);
    assert_float_equal(y5[1], -2.0f, 1e-6);
    assert_float_equal(y5[2], 13.0f, 1e-6);
    /* two input channels, two output channels, K=3 dilation 1 valid on 3 steps:
     * one output, out[co] = sum_k sum_ci w[co,k,ci] x[k,ci] */
    const float x2[6] = {1, 2, 3, 4, 5, 6};
    const float w2[12] = {1, 0, 0, 1, 1, 1, /* co 0 */ -1, -1, 0, 0, 2, 0 /* co 1 */};
    float y2[2];
    gw_conv1d_forward(y2, x2, w2, NULL, 1, 3, 2, 2, 3, 1, 0);
    assert_float_equal(y2[0], 1 + 4 + 5 + 6, 1e-6);
    assert_float_equal(y2[1], -1 - 2 + 10, 1e-6);
}

typedef struct conv_case {
    int B, T_in, C_in, C_out, K, dil, pad;
} conv_case;

/* K = 1, 2, 3; dilation 1..5; no pad, causal pad, partial pad, pad beyond
 * the receptive field; taps that see no input at all (pad > T_in) */
static const conv_case conv_cases[] = {
    {2, 9, 3, 4, 2, 1, 0}, {2, 9, 3, 4, 2, 1, 1},  {3, 11, 2, 5, 2, 4, 4}, {2, 13, 3, 2, 3, 2, 0},
    {2, 13, 3, 2, 3, 2, 4}, {1, 10, 4, 3, 3, 3, 2}, {2, 7, 5, 6, 1, 1, 0}, {2, 6, 2, 3, 2, 5, 5},
    {1, 4, 2, 2, 3, 2, 7}, {4, 40, 8, 16, 2, 8, 8},
};

static void test_conv1d_blas_matches_naive(void **state) {
    gw_rng r;
    gw_rng_seed(&r, 21);
    for (size_t i = 0; i < sizeof conv_cases / sizeof conv_cases[0]; i++) {
        conv_case k = conv_cases[i];
        int T_out;
        assert_int_equal(gw_conv1d_check(&T_out, k.T_in, k.K, k.dil, k.pad, "test", NULL), GW_OK);
        size_t ni = (size_t)k.B * k.T_in * k.C_in, nw = (size_t)k.C_out * k.K * k.C_in;
        size_t no = (size_t)k.B * T_out * k.C_out;
        float *x = rnd(&r, ni, -1, 1), *w = rnd(&r, nw, -1, 1), *b = rnd(&r, k.C_out, -1, 1);
        float *g = rnd(&r, no, -1, 1);
        float *y1 = zeros(no), *y2 = zeros(no);
        gw_conv1d_forward(y1, x, w, b, k.B, k.T_in, k.C_in, k.C_out, k.K, k.dil, k.pad);
        gw_conv1d_forward_naive(y2, x, w, b, k.B, k.T_in, k.C_in, k.C_out, k.K, k.dil, k.pad);
        assert_true(gw_test_max_abs_diff(y1, y2, no) < 1e-5f);
        float *dx1 = rnd(&r, ni, -1, 1), *dw1 = rnd(&r, nw, -1, 1), *db1 = rnd(&r, k.C_out, -1, 1);
        float *dx2 = zeros(ni), *dw2 = zeros(nw), *db2 = zeros(k.C_out);
        memcpy(dx2, dx1, ni * sizeof(float));
        memcpy(dw2, dw1, nw * sizeof(float));
        memcpy(db2, db1, k.C_out * sizeof(float));
        gw_conv1d_backward(dx1, dw1, db1, g, x, w, k.B, k.T_in, k.C_in, k.C_out, k.K, k.dil, k.pad);
        gw_conv1d_backward_naive(dx2, dw2, db2, g, x, w, k.B, k.T_in, k.C_in, k.C_out, k.K, k.dil,
                                 k.pad);
        assert_true(gw_test_max_abs_diff(dx1, dx2, ni) < 1e-4f);
        assert_true(gw_test_max_abs_diff(dw1, dw2, nw) < 1e-4f);
        assert_true(gw_test_max_abs_diff(db1, db2, k.C_out) < 1e-4f);
        /* without bias the output is the biased one minus b */
        gw_conv1d_forward(y2, x, w, NULL, k.B, k.T_in, k.C_in, k.C_out, k.K, k.dil, k.pad);
        for (size_t j = 0; j < no; j++) assert_float_equal(y2[j] + b[j % k.C_out], y1[j], 1e-5);
        gw_free(x), gw_free(w), gw_free(b), gw_free(g), gw_free(y1), gw_free(y2);
        gw_free(dx1), gw_free(dw1), gw_free(db1), gw_free(dx2), gw_free(dw2), gw_free(db2);
    }
}

/* the causal convolution must not look ahead: changing x[t] leaves outputs
 * before t untouched */
static void test_conv1d_causal(void **state) {
    gw_rng r;
    gw_rng_seed(&r, 22);
    const int B = 1, T = 12, C = 3, K = 2, d = 4, pad = (K - 1) * d;
    float *x = rnd(&r, T * C, -1, 1), *w = rnd(&r, C * K * C, -1, 1);
    float *y1 = zeros(T * C), *y2 = zeros(T * C);
    gw_conv1d_forward(y1, x, w, NULL, B, T, C, C, K, d, pad);
    x[7 * C + 1] += 1.0f;
    gw_conv1d_forward(y2, x, w, NULL, B, T, C, C, K, d, pad);
    for (int t = 0; t < T; t++) {
        float diff = gw_test_max_abs_diff(y1 + t * C, y2 + t * C, C);
        if (t < 7 || (t != 7 && t != 7 + d))
            assert_true(diff == 0.0f);
        else
            assert_true(diff > 0.0f);
    }
    gw_free(x), gw_free(w), gw_free(y1), gw_free(y2);
}

static void test_conv1d_check_errors(void **state) {
    gw_error err = {0};
    int T_out = 5;
    assert_int_equal(gw_conv1d_check(&T_out, 100, 2, 512, 0, "layer 9", &err), GW_ERR_ARG);
    assert_int_equal(T_out, 0);
    assert_non_null(strstr(err.msg, "layer 9"));
    assert_non_null(strstr(err.msg, "receptive field 513"));
    assert_int_equal(gw_conv1d_check(&T_out, 100, 0, 1, 0, "x", &err), GW_ERR_ARG);
    assert_int_equal(gw_conv1d_check(&T_out, 100, 2, 0, 0, "x", &err), GW_ERR_ARG);
    assert_int_equal(gw_conv1d_check(&T_out, 100, 2, 1, -1, "x", &err), GW_ERR_ARG);
    assert_int_equal(gw_conv1d_check(&T_out, 100, 2, 512, 512, "x", &err), GW_OK);
    assert_int_equal(T_out, 100);
}

static void test_conv1d_gradcheck(void **state) {
    gw_rng r;
    gw_rng_seed(&r, 23);
    const conv_case cases[] = {
        {2, 9, 3, 4, 2, 2, 0}, /* K=2 dilated valid */
        {2, 9, 3, 4, 2, 3, 3}, /* K=2 dilated causal */
        {2, 11, 2, 3, 3, 2, 0}, /* K=3 dilated valid */
        {1, 11, 2, 3, 3, 2, 4}, /* K=3 dilated causal */
        {2, 8, 2, 2, 3, 1, 1}, /* partial pad */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        conv_case k = cases[i];
        gc c = {.fwd = conv_fwd, .B = k.B, .T_in = k.T_in, .C_in = k.C_in, .C_out = k.C_out,
                .K = k.K, .dil = k.dil, .pad = k.pad};
        int T_out = gw_conv1d_out_len(k.T_in, k.K, k.dil, k.pad);
        size_t ni = (size_t)k.B * k.T_in * k.C_in, nw = (size_t)k.C_out * k.K * k.C_in;
        c.nout = (size_t)k.B * T_out * k.C_out;
        c.inp = rnd(&r, ni, -1, 1), c.w = rnd(&r, nw, -1, 1), c.b = rnd(&r, k.C_out, -1, 1);
        float *g = rnd(&r, c.nout, -1, 1);
        c.g = g, c.out = zeros(c.nout);
        float *dx = zeros(ni), *dw = zeros(nw), *db = zeros(k.C_out);
        gw_conv1d_backward(dx, dw, db, g, c.inp, c.w, k.B, k.T_in, k.C_in, k.C_out, k.K, k.dil,
                           k.pad);
        CHECK("conv1d dinp", c.inp, dx, ni, &c, 1e-2f);
        CHECK("conv1d dw", c.w, dw, nw, &c, 1e-2f);
        CHECK("conv1d db", c.b, db, k.C_out, &c, 1e-2f);
        gw_free(c.inp), gw_free(c.w), gw_free(c.b), gw_free(g), gw_free(c.out);
        gw_free(dx), gw_free(dw), gw_free(db);
    }
}

/* ---- embedding ---- */
static const int32_t emb_idx[6] = {4, 0, 4, 2, 4, 0};

static void emb_fwd(gc *c) {
    assert_int_equal(gw_embedding_forward(c->out, c->w, emb_idx, c->N, c->O, c->C_in, NULL), GW_OK);
}

static void test_embedding_gradcheck(void **state) {
    gw_rng r;
    gw_rng_seed(&r, 32);
    gc c = {.fwd = emb_fwd, .N = 6, .O = 5, .C_in = 3, .nout = 6 * 3};
    c.w = rnd(&r, 5 * 3, -1, 1), c.out = zeros(c.nout);
    float *g = rnd(&r, c.nout, -1, 1), *dt = zeros(5 * 3);
    c.g = g;
    assert_int_equal(gw_embedding_backward(dt, g, emb_idx, 6, 5, 3, NULL), GW_OK);
    CHECK("embedding dtable", c.w, dt, 5 * 3, &c, 1e-2f);
    gw_free(c.w), gw_free(c.out), gw_free(g), gw_free(dt);
}

static void test_embedding(void **state) {
    gw_rng r;
    gw_rng_seed(&r, 31);
    const int V = 5, C = 3, N = 6;
    float *table = rnd(&r, V * C, -1, 1), *out = zeros(N * C), *g = rnd(&r, N * C, -1, 1);
    const int32_t idx[6] = {4, 0, 4, 2, 4, 0};
    gw_error err = {0};
    assert_int_equal(gw_embedding_forward(out, table, idx, N, V, C, &err), GW_OK);
    for (int n = 0; n < N; n++)
        for (int c = 0; c < C; c++) assert_true(out[n * C + c] == table[idx[n] * C + c]);
    /* backward is the transpose: L = <out, g> so dL/dtable[v] = sum of g rows with idx == v */
    float *dt = zeros(V * C);
    assert_int_equal(gw_embedding_backward(dt, g, idx, N, V, C, &err), GW_OK);
    for (int v = 0; v < V; v++)
        for (int c = 0; c < C; c++) {
            float want = 0;
            for (int n = 0; n < N; n++)
                if (idx[n] == v) want += g[n * C + c];
            assert_float_equal(dt[v * C + c], want, 1e-6);
        }
    /* a bad index is reported with its position and value, and nothing
     * beyond it is touched */
    const int32_t bad[3] = {1, 5, 2};
    memset(out, 0, sizeof(float) * N * C);
    assert_int_equal(gw_embedding_forward(out, table, bad, 3, V, C, &err), GW_ERR_ARG);
    assert_non_null(strstr(err.msg, "index 5 at position 1"));
    assert_true(out[2 * C] == 0.0f);
    const int32_t neg[1] = {-1};
    assert_int_equal(gw_embedding_backward(dt, g, neg, 1, V, C, &err), GW_ERR_ARG);
    assert_non_null(strstr(err.msg, "index -1"));
    gw_free(table), gw_free(out), gw_free(g), gw_free(dt);
}

/* ---- activations ---- */
static void test_activations_match_libm(void **state) {
    /* sweep float32 bit patterns (every 97th) over the whole finite range */
    double worst_t = 0, worst_s = 0;
    enum { CH = 4096 };
    float x[CH], yt[CH], ys[CH];
    int m = 0;
    for (uint64_t u = 0; u < 0x100000000ull; u += 9973) {
        uint32_t bits = (uint32_t)u;
        float v;
        memcpy(&v, &bits, 4);
        if (!isfinite(v)) continue;
        x[m++] = v;
        if (m < CH && u + 9973 < 0x100000000ull) continue;
        gw_tanh_forward(yt, x, m);
        gw_sigmoid_forward(ys, x, m);
        for (int i = 0; i < m; i++) {
            double t = tanh((double)x[i]), s = 1.0 / (1.0 + exp(-(double)x[i]));
            double et = fabs(yt[i] - t) / fmax(fabs(t), 1e-30);
            /* below 1e-30 sigmoid underflows to denormals: absolute error only */
            double es = s > 1e-30 ? fabs(ys[i] - s) / s : fabs(ys[i] - s);
            if (et > worst_t) worst_t = et;
            if (es > worst_s) worst_s = es;
            assert_true(ys[i] >= 0.0f && ys[i] <= 1.0f);
            assert_true(yt[i] >= -1.0f && yt[i] <= 1.0f);
        }
        m = 0;
    }
    assert_true(worst_t < 5e-7);
    assert_true(worst_s < 5e-7);
    /* NaN propagates (a diverged model must be visible), extremes saturate */
    float in[4] = {NAN, -1e30f, 1e30f, 0.0f}, o[4];
    gw_sigmoid_forward(o, in, 4);
    assert_true(isnan(o[0]) && o[1] == 0.0f + o[1] && o[1] < 1e-37f && o[2] == 1.0f && o[3] == 0.5f);
    gw_tanh_forward(o, in, 4);
    assert_true(isnan(o[0]) && o[1] == -1.0f && o[2] == 1.0f && o[3] == 0.0f);
    float lr[3] = {-2, 0, 3}, lo[3];
    gw_leaky_relu_forward(lo, lr, 0.2f, 3);
    assert_float_equal(lo[0], -0.4f, 1e-7);
    assert_float_equal(lo[2], 3.0f, 0);
    gw_relu_forward(lo, lr, 3);
    assert_true(lo[0] == 0 && lo[1] == 0 && lo[2] == 3);
}

/* the exp under tanh, sigmoid, softmax and the losses: relative error
 * against double over a sweep of float32 in its unclamped range, and the
 * clamped tails stay finite and ordered */
/* gw_vsum: 32 partial sums, then the tail: every length around the block
 * size, against a double sum */
static void test_vsum(void **state) {
    (void)state;
    float x[200];
    gw_rng r;
    gw_rng_seed(&r, 5);
    gw_rng_fill_normal(&r, x, 200, 0, 1);
    assert_true(gw_vsum(x, 0) == 0.0f);
    for (size_t n = 1; n <= 200; n += n < 70 ? 1 : 13) {
        double s = 0;
        for (size_t i = 0; i < n; i++)
            s += x[i];
        assert_float_equal(gw_vsum(x, n), s, 1e-5 * n);
    }
}

static void test_vexp_matches_libm(void **state) {
    double worst = 0;
    for (uint64_t u = 0; u < 0x100000000ull; u += 7919) {
        uint32_t bits = (uint32_t)u;
        float x;
        memcpy(&x, &bits, 4);
        if (!(x >= -87.0f && x <= 88.0f)) continue;
        double ref = exp((double)x), e = fabs(gw_vexpf(x) - ref) / ref;
        if (e > worst) worst = e;
    }
    assert_true(worst < 3e-7);
    assert_true(gw_vexpf(0.0f) == 1.0f);
    assert_true(isfinite(gw_vexpf(1e30f)) && gw_vexpf(1e30f) > 1e38f);
    assert_true(gw_vexpf(-1e30f) >= 0.0f && gw_vexpf(-1e30f) < 1e-37f);
    assert_true(isnan(gw_vexpf(NAN)));
    /* the vectorised reductions agree with plain sums, odd lengths included */
    float x[37], y[37];
    for (int i = 0; i < 37; i++) x[i] = (float)(i % 11) * 0.37f - 1.5f;
    for (int n = 1; n <= 37; n += 4) {
        double s = 0, d = 0, m = x[0];
        for (int i = 0; i < n; i++) s += exp((double)x[i] - 0.5), d += (double)x[i] * x[n - 1 - i];
        for (int i = 0; i < n; i++) m = x[i] > m ? x[i] : m;
        assert_float_equal(gw_vexp_sum(y, x, 0.5f, n), s, 1e-5 * s);
        assert_float_equal(y[n - 1], exp((double)x[n - 1] - 0.5), 1e-6);
        float xr[37];
        for (int i = 0; i < n; i++) xr[i] = x[n - 1 - i];
        assert_float_equal(gw_vdot(x, xr, n), d, 1e-5 * (1 + fabs(d)));
        assert_true(gw_vmax(x, n) == (float)m);
    }
}

static void ew_fwd(gc *c) { c->ew(c->out, c->inp, c->nout); }
static void leaky_fwd(gc *c) { gw_leaky_relu_forward(c->out, c->inp, c->slope, c->nout); }

static void test_activations_gradcheck(void **state) {
    gw_rng r;
    gw_rng_seed(&r, 41);
    const size_t n = 50;
    float *x = rnd(&r, n, -3, 3), *g = rnd(&r, n, -1, 1), *y = zeros(n), *dx = zeros(n);
    for (size_t i = 0; i < n; i++) /* keep clear of the relu kink */
        if (fabsf(x[i]) < 0.1f) x[i] = x[i] < 0 ? -0.1f - x[i] : 0.1f + x[i];
    gc c = {.inp = x, .g = g, .out = y, .nout = n, .fwd = ew_fwd};
    struct {
        const char *name;
        void (*f)(float *, const float *, size_t);
        void (*b)(float *, const float *, const float *, size_t);
    } ew[] = {{"relu", gw_relu_forward, gw_relu_backward},
              {"tanh", gw_tanh_forward, gw_tanh_backward},
              {"sigmoid", gw_sigmoid_forward, gw_sigmoid_backward}};
    for (size_t k = 0; k < 3; k++) {
        c.ew = ew[k].f;
        ew[k].f(y, x, n);
        memset(dx, 0, n * sizeof(float));
        ew[k].b(dx, g, y, n);
        CHECK(ew[k].name, x, dx, n, &c, 1e-3f);
    }
    c.fwd = leaky_fwd;
    const float slopes[2] = {0.2f, 0.0f};
    for (int s = 0; s < 2; s++) {
        c.slope = slopes[s];
        gw_leaky_relu_forward(y, x, c.slope, n);
        memset(dx, 0, n * sizeof(float));
        gw_leaky_relu_backward(dx, g, y, c.slope, n);
        CHECK("leaky relu", x, dx, n, &c, 1e-3f);
    }
    /* in place forward works */
    float *x2 = zeros(n);
    memcpy(x2, x, n * sizeof(float));
    gw_tanh_forward(x2, x2, n);
    gw_tanh_forward(y, x, n);
    assert_true(gw_test_max_abs_diff(x2, y, n) == 0.0f);
    gw_free(x), gw_free(g), gw_free(y), gw_free(dx), gw_free(x2);
}

static void gate_fwd(gc *c) { gw_gate_forward(c->out, NULL, c->inp, c->N, c->O); }

static void test_gate(void **state) {
    gw_rng r;
    gw_rng_seed(&r, 51);
    const int N = 7, G = 5;
    gc c = {.fwd = gate_fwd, .N = N, .O = G, .nout = (size_t)N * G};
    c.inp = rnd(&r, (size_t)N * 2 * G, -3, 3);
    float *g = rnd(&r, c.nout, -1, 1);
    c.g = g, c.out = zeros(c.nout);
    float *act = zeros((size_t)N * 2 * G), *dx = zeros((size_t)N * 2 * G), *y = zeros(c.nout);
    gw_gate_forward(y, act, c.inp, N, G);
    for (int n = 0; n < N; n++)
        for (int j = 0; j < G; j++) {
            double a = c.inp[n * 2 * G + j], b = c.inp[n * 2 * G + G + j];
            assert_float_equal(y[n * G + j], tanh(a) / (1 + exp(-b)), 1e-6);
            assert_float_equal(act[n * 2 * G + j], tanh(a), 1e-6);
            assert_float_equal(act[n * 2 * G + G + j], 1 / (1 + exp(-b)), 1e-6);
        }
    gw_gate_backward(dx, g, act, N, G);
    CHECK("gate", c.inp, dx, (size_t)N * 2 * G, &c, 1e-3f);
    gw_free(c.inp), gw_free(g), gw_free(c.out), gw_free(act), gw_free(dx), gw_free(y);
}

static void softmax_fwd(gc *c) { gw_softmax_forward(c->out, c->inp, c->N, c->O); }

static void test_softmax(void **state) {
    gw_rng r;
    gw_rng_seed(&r, 61);
    const int N = 4, V = 9;
    gc c = {.fwd = softmax_fwd, .N = N, .O = V, .nout = (size_t)N * V};
    c.inp = rnd(&r, c.nout, -4, 4);
    float *g = rnd(&r, c.nout, -1, 1);
    c.g = g, c.out = zeros(c.nout);
    float *y = zeros(c.nout), *dx = zeros(c.nout);
    gw_softmax_forward(y, c.inp, N, V);
    for (int n = 0; n < N; n++) {
        double z = 0, s = 0;
        for (int v = 0; v < V; v++) z += exp((double)c.inp[n * V + v]);
        for (int v = 0; v < V; v++) {
            assert_float_equal(y[n * V + v], exp((double)c.inp[n * V + v]) / z, 1e-6);
            s += y[n * V + v];
        }
        assert_float_equal(s, 1.0, 1e-5);
    }
    gw_softmax_backward(dx, g, y, N, V);
    CHECK("softmax", c.inp, dx, c.nout, &c, 1e-3f);
    /* huge logits: no overflow, shift invariance */
    float big[3] = {1000.0f, 1001.0f, 999.0f}, small[3] = {0.0f, 1.0f, -1.0f}, yb[3], ys[3];
    gw_softmax_forward(yb, big, 1, 3);
    gw_softmax_forward(ys, small, 1, 3);
    assert_true(gw_test_max_abs_diff(yb, ys, 3) < 1e-6f);
    gw_free(c.inp), gw_free(g), gw_free(c.out), gw_free(y), gw_free(dx);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dense_blas_matches_naive),
        cmocka_unit_test(test_dense_known_values),
        cmocka_unit_test(test_dense_gradcheck),
        cmocka_unit_test(test_conv1d_known_values),
        cmocka_unit_test(test_conv1d_blas_matches_naive),
        cmocka_unit_test(test_conv1d_causal),
        cmocka_unit_test(test_conv1d_check_errors),
        cmocka_unit_test(test_conv1d_gradcheck),
        cmocka_unit_test(test_embedding),
        cmocka_unit_test(test_embedding_gradcheck),
        cmocka_unit_test(test_vexp_matches_libm),
        cmocka_unit_test(test_vsum),
        cmocka_unit_test(test_activations_match_libm),
        cmocka_unit_test(test_activations_gradcheck),
        cmocka_unit_test(test_gate),
        cmocka_unit_test(test_softmax),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
