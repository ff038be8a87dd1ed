#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/gw_base.h"
#include "gw_test.h"
#include "nn/conv2d.h"
#include "nn/im2col.h"

#include <cblas.h>

/* one layer's tensors, filled with seeded normals */
typedef struct layer {
    gw_conv2d_dims d;
    size_t n_in, n_out, n_w;
    float *inp, *out, *w, *bias, *dout;
    float *ws;
} layer;

static size_t weight_count(const gw_conv2d_dims *d) {
    return (size_t)d->C_in * d->C_out * d->KH * d->KW;
}

static void layer_make(layer *L, const gw_conv2d_dims *d, uint64_t seed) {
    gw_rng r;
    gw_rng_seed(&r, seed);
    L->d = *d;
    L->n_in = (size_t)d->B * d->C_in * d->H_in * d->W_in;
    L->n_out = (size_t)d->B * d->C_out * d->H_out * d->W_out;
    L->n_w = weight_count(d);
    L->inp = malloc(sizeof(float) * L->n_in);
    L->out = malloc(sizeof(float) * L->n_out);
    L->dout = malloc(sizeof(float) * L->n_out);
    L->w = malloc(sizeof(float) * L->n_w);
    L->bias = malloc(sizeof(float) * d->C_out);
    /* exactly the advertised size: ASan catches any overrun */
    L->ws = malloc(sizeof(float) * gw_conv2d_workspace_size(d));
    assert_non_null(L->ws);
    gw_rng_fill_normal(&r, L->inp, L->n_in, 0, 1);
    gw_rng_fill_normal(&r, L->dout, L->n_out, 0, 1);
    gw_rng_fill_normal(&r, L->w, L->n_w, 0, 0.3f);
    gw_rng_fill_normal(&r, L->bias, d->C_out, 0, 1);
}

static void layer_free(layer *L) {
    free(L->inp), free(L->out), free(L->dout), free(L->w), free(L->bias), free(L->ws);
}

/* L's multiplied operands (input, weights, output gradient) as a bf16
 * product sees them: the reference of d.bf16 */
static void layer_round_bf16(layer *L) {
    gw_test_round_bf16(L->inp, L->n_in), gw_test_round_bf16(L->w, L->n_w),
        gw_test_round_bf16(L->dout, L->n_out);
}

static void fwd(layer *L, float *out, int fast) {
    const gw_conv2d_dims *d = &L->d;
    if (d->transposed) {
        if (fast) gw_conv_transpose2d_forward(out, L->inp, L->w, L->bias, d, L->ws);
        else gw_conv_transpose2d_forward_ref(out, L->inp, L->w, L->bias, d);
    } else {
        if (fast) gw_conv2d_forward(out, L->inp, L->w, L->bias, d, L->ws);
        else gw_conv2d_forward_ref(out, L->inp, L->w, L->bias, d);
    }
}

static void bwd(layer *L, float *dinp, float *dw, float *db, int fast) {
    const gw_conv2d_dims *d = &L->d;
    if (d->transposed) {
        if (fast) gw_conv_transpose2d_backward(dinp, dw, db, L->dout, L->inp, L->w, d, L->ws);
        else gw_conv_transpose2d_backward_ref(dinp, dw, db, L->dout, L->inp, L->w, d);
    } else {
        if (fast) gw_conv2d_backward(dinp, dw, db, L->dout, L->inp, L->w, d, L->ws);
        else gw_conv2d_backward_ref(dinp, dw, db, L->dout, L->inp, L->w, d);
    }
}

static float rel_diff(const float *a, const float *b, size_t n) {
    float m = 0;
    for (size_t i = 0; i < n; i++) m = fmaxf(m, fabsf(b[i]));
    return gw_test_max_abs_diff(a, b, n) / fmaxf(1.0f, m);
}

/* the sgemm kernels against the direct loops: forward, and backward added
 * onto nonzero gradients (so accumulation is checked too), for every chunk
 * size including one that leaves a partial last chunk and two out of range.
 * With d.bf16 (and the CPU's bf16 products) the loops take the operands
 * rounded to bf16, the fast kernels the same values unrounded: they must
 * round them themselves. */
static void check_fast_vs_ref_once(const gw_conv2d_dims *d0) {
    /* 0 and B + 1 are out of range: the kernels clamp them to 1 and B */
    for (int chunk = 0; chunk <= d0->B + 1; chunk++) {
        gw_conv2d_dims d = *d0;
        d.chunk = chunk;
        layer L, R; /* R: the reference's operands */
        layer_make(&L, &d, 100 + chunk);
        layer_make(&R, &d, 100 + chunk);
        if (d.bf16) layer_round_bf16(&R); /* set only where gw_conv_bf16_ok() */
        float *o1 = malloc(sizeof(float) * L.n_out), *o2 = malloc(sizeof(float) * L.n_out);
        fwd(&L, o1, 1);
        fwd(&R, o2, 0);
        assert_true(rel_diff(o1, o2, L.n_out) < 1e-5f);

        float *g[2][3];
        size_t n[3] = {L.n_in, L.n_w, (size_t)d.C_out};
        for (int k = 0; k < 2; k++)
            for (int j = 0; j < 3; j++) {
                g[k][j] = malloc(sizeof(float) * n[j]);
                for (size_t i = 0; i < n[j]; i++) g[k][j][i] = 0.5f + (float)(i % 7);
            }
        bwd(&L, g[0][0], g[0][1], g[0][2], 1);
        bwd(&R, g[1][0], g[1][1], NULL, 0);
        bwd(&L, NULL, NULL, g[1][2], 0); /* the bias gradient is a sum, not a product */
        for (int j = 0; j < 3; j++) assert_true(rel_diff(g[0][j], g[1][j], n[j]) < 1e-5f);
        /* NULL skips: each gradient alone must equal its part of the full call */
        for (int j = 0; j < 3; j++) {
            float *one = calloc(n[j], sizeof(float));
            float *p[3] = {NULL, NULL, NULL};
            p[j] = one;
            bwd(&L, p[0], p[1], p[2], 1);
            for (size_t i = 0; i < n[j]; i++) one[i] += 0.5f + (float)(i % 7);
            assert_true(rel_diff(one, g[1][j], n[j]) < 1e-5f);
            free(one);
        }
        for (int k = 0; k < 2; k++)
            for (int j = 0; j < 3; j++) free(g[k][j]);
        free(o1), free(o2);
        layer_free(&L), layer_free(&R);
    }
}

/* Both paths (conv2d.h): fused (where the CPU has AVX-512; one thread,
 * where col2im still goes through a column matrix, and two, where the fused
 * product splits the images) and lowered (the packed AVX-512 product on one
 * BLAS thread, cblas_sgemm on two): all must agree with the direct loops */
static void check_fast_vs_ref(const gw_conv2d_dims *d0) {
    for (int bf16 = 0; bf16 <= gw_conv_bf16_ok(); bf16++)
        for (int lowered = 0; lowered <= 1; lowered++)
            for (int threads = 1; threads <= 2; threads++) {
                gw_conv2d_dims d = *d0;
                d.lowered = lowered, d.bf16 = bf16;
                openblas_set_num_threads(threads);
                check_fast_vs_ref_once(&d);
            }
    openblas_set_num_threads(1);
}

static void test_conv2d_fast_matches_reference(void **state) {
    gw_conv2d_dims d;
    /* the specgan/specvae layer: 5x5 stride 2 pad 2, odd sizes, batch 3 */
    assert_int_equal(gw_conv2d_dims_init(&d, 3, 2, 9, 7, 3, 5, 5, 2, 2, NULL), GW_OK);
    assert_int_equal(d.H_out, 5);
    assert_int_equal(d.W_out, 4);
    check_fast_vs_ref(&d);
    assert_int_equal(gw_conv2d_dims_init(&d, 2, 3, 8, 8, 4, 3, 3, 1, 1, NULL), GW_OK);
    check_fast_vs_ref(&d);
    /* non-square kernel, stride 3, no padding, taps that drop the last row */
    assert_int_equal(gw_conv2d_dims_init(&d, 2, 1, 10, 7, 2, 3, 2, 3, 0, NULL), GW_OK);
    assert_int_equal(d.H_out, 3);
    assert_int_equal(d.W_out, 2);
    check_fast_vs_ref(&d);
    /* padding wider than the kernel overlap */
    assert_int_equal(gw_conv2d_dims_init(&d, 2, 2, 3, 4, 2, 2, 3, 2, 3, NULL), GW_OK);
    check_fast_vs_ref(&d);
}

static void test_conv_transpose2d_fast_matches_reference(void **state) {
    gw_conv2d_dims d;
    /* specgan G: 5x5 stride 2 pad 2 output padding 1 doubles the size */
    assert_int_equal(gw_conv_transpose2d_dims_init(&d, 3, 3, 5, 4, 2, 5, 5, 2, 2, 1, NULL), GW_OK);
    assert_int_equal(d.H_out, 10);
    assert_int_equal(d.W_out, 8);
    check_fast_vs_ref(&d);
    assert_int_equal(gw_conv_transpose2d_dims_init(&d, 2, 2, 4, 3, 3, 3, 3, 1, 1, 0, NULL), GW_OK);
    assert_int_equal(d.H_out, 4);
    check_fast_vs_ref(&d);
    /* stride 3 output padding 2, non-square kernel, odd sizes */
    assert_int_equal(gw_conv_transpose2d_dims_init(&d, 2, 2, 3, 5, 3, 4, 2, 3, 1, 2, NULL), GW_OK);
    assert_int_equal(d.H_out, (3 - 1) * 3 - 2 + 4 + 2);
    assert_int_equal(d.W_out, (5 - 1) * 3 - 2 + 2 + 2);
    check_fast_vs_ref(&d);
}

/* the reference models' middle layers, on smaller images (K = 800 crosses
 * the product's 256-deep blocking, 64 and 32 channels leave 4- and 8-row
 * last tiles) */
static void test_reference_model_layers(void **state) {
    gw_conv2d_dims d;
    assert_int_equal(gw_conv2d_dims_init(&d, 1, 32, 16, 16, 64, 5, 5, 2, 2, NULL), GW_OK);
    check_fast_vs_ref(&d);
    assert_int_equal(gw_conv_transpose2d_dims_init(&d, 1, 64, 8, 8, 32, 5, 5, 2, 2, 1, NULL),
                     GW_OK);
    assert_int_equal(d.H_out, 16);
    check_fast_vs_ref(&d);
}

/* ---- gradient checks of the fast kernels against central differences ---- */

typedef struct gc_ctx {
    layer *L;
    float *out;
} gc_ctx;

static double gc_loss(void *p) {
    gc_ctx *c = p;
    fwd(c->L, c->out, 1);
    return gw_test_dot(c->out, c->L->dout, c->L->n_out);
}

static void gradcheck_layer(const gw_conv2d_dims *d) {
    layer L;
    layer_make(&L, d, 7);
    float *dinp = calloc(L.n_in, sizeof(float)), *dw = calloc(L.n_w, sizeof(float));
    float *db = calloc(d->C_out, sizeof(float));
    bwd(&L, dinp, dw, db, 1);
    gc_ctx c = {&L, malloc(sizeof(float) * L.n_out)};
    assert_true(gw_test_gradcheck("inp", L.inp, dinp, L.n_in, gc_loss, &c, 1e-2f, 300) < 2e-3);
    assert_true(gw_test_gradcheck("weight", L.w, dw, L.n_w, gc_loss, &c, 1e-2f, 300) < 2e-3);
    assert_true(gw_test_gradcheck("bias", L.bias, db, d->C_out, gc_loss, &c, 1e-2f, 0) < 2e-3);
    free(c.out), free(dinp), free(dw), free(db);
    layer_free(&L);
}

static void test_conv2d_gradcheck(void **state) {
    gw_conv2d_dims d;
    assert_int_equal(gw_conv2d_dims_init(&d, 2, 3, 9, 7, 4, 5, 5, 2, 2, NULL), GW_OK);
    gradcheck_layer(&d);
    assert_int_equal(gw_conv2d_dims_init(&d, 2, 2, 5, 6, 3, 3, 3, 1, 1, NULL), GW_OK);
    gradcheck_layer(&d);
}

static void test_conv_transpose2d_gradcheck(void **state) {
    gw_conv2d_dims d;
    assert_int_equal(gw_conv_transpose2d_dims_init(&d, 2, 4, 4, 5, 3, 5, 5, 2, 2, 1, NULL), GW_OK);
    gradcheck_layer(&d);
    assert_int_equal(gw_conv_transpose2d_dims_init(&d, 2, 2, 3, 3, 2, 4, 2, 3, 1, 2, NULL), GW_OK);
    gradcheck_layer(&d);
}

/* PyTorch's ConvTranspose2d with weight W is the adjoint of Conv2d with the
 * same W (same tensor, read (C_out_conv, C_in_conv) = (C_in_T, C_out_T)):
 * <conv(x), y> = <x, convT(y)> whenever convT maps back to x's size. With
 * the size formulas this pins the layout and padding conventions. */
static void test_transpose_is_adjoint_of_conv(void **state) {
    gw_conv2d_dims dc, dt;
    /* 64 -> 32 by conv 5x5 s2 p2; 32 -> 64 by convT with output padding 1 */
    assert_int_equal(gw_conv2d_dims_init(&dc, 2, 3, 16, 12, 4, 5, 5, 2, 2, NULL), GW_OK);
    assert_int_equal(gw_conv_transpose2d_dims_init(&dt, 2, 4, 8, 6, 3, 5, 5, 2, 2, 1, NULL),
                     GW_OK);
    assert_int_equal(dt.H_out, 16);
    assert_int_equal(dt.W_out, 12);
    size_t nx = 2 * 3 * 16 * 12, ny = 2 * 4 * 8 * 6, nw = 4 * 3 * 25;
    float *x = malloc(sizeof(float) * nx), *y = malloc(sizeof(float) * ny);
    float *w = malloc(sizeof(float) * nw), *cx = malloc(sizeof(float) * ny);
    float *ty = malloc(sizeof(float) * nx);
    float *ws = malloc(sizeof(float) * (gw_conv2d_workspace_size(&dc) +
                                        gw_conv2d_workspace_size(&dt)));
    gw_rng r;
    gw_rng_seed(&r, 3);
    gw_rng_fill_normal(&r, x, nx, 0, 1);
    gw_rng_fill_normal(&r, y, ny, 0, 1);
    gw_rng_fill_normal(&r, w, nw, 0, 1);
    gw_conv2d_forward(cx, x, w, NULL, &dc, ws);
    gw_conv_transpose2d_forward(ty, y, w, NULL, &dt, ws);
    double a = gw_test_dot(cx, y, ny), b = gw_test_dot(x, ty, nx);
    assert_true(fabs(a - b) < 1e-4 * (fabs(a) + fabs(b) + 1));
    free(x), free(y), free(w), free(cx), free(ty), free(ws);
}

/* a hand-computed case: 1 channel 3x3 input, 3x3 kernel of ones, stride 2,
 * padding 1, output padding 1: PyTorch gives a 6x6 output in which pixel
 * (oh, ow) sums the inputs (ih, iw) with |2 ih - oh| <= 1 per axis */
static void test_conv_transpose2d_known_values(void **state) {
    gw_conv2d_dims d;
    assert_int_equal(gw_conv_transpose2d_dims_init(&d, 1, 1, 3, 3, 1, 3, 3, 2, 1, 1, NULL), GW_OK);
    assert_int_equal(d.H_out, 6);
    float x[9], w[9], out[36], bias = 0.5f;
    for (int i = 0; i < 9; i++) x[i] = (float)(1 << i), w[i] = 1.0f;
    float *ws = malloc(sizeof(float) * gw_conv2d_workspace_size(&d));
    gw_conv_transpose2d_forward(out, x, w, &bias, &d, ws);
    for (int oh = 0; oh < 6; oh++)
        for (int ow = 0; ow < 6; ow++) {
            float want = bias;
            for (int ih = 0; ih < 3; ih++)
                for (int iw = 0; iw < 3; iw++)
                    if (abs(2 * ih - oh) <= 1 && abs(2 * iw - ow) <= 1) want += x[ih * 3 + iw];
            assert_true(out[oh * 6 + ow] == want);
        }
    /* the last row and column exist only through output padding: only the
     * last input row / column reaches them (oh = 5 <- ih = 2, kh = 2) */
    assert_true(out[5 * 6 + 5] == bias + x[8]);
    free(ws);
}

static void test_bad_geometry_is_rejected(void **state) {
    gw_conv2d_dims d;
    gw_error e = {0};
    assert_int_equal(gw_conv_transpose2d_dims_init(&d, 1, 1, 4, 4, 1, 5, 5, 2, 2, 2, &e),
                     GW_ERR_ARG);
    assert_non_null(strstr(e.msg, "output padding 2"));
    assert_int_equal(gw_conv2d_dims_init(&d, 1, 1, 3, 3, 1, 5, 5, 1, 0, &e), GW_ERR_ARG);
    assert_non_null(strstr(e.msg, "kernel 5x5"));
    assert_int_equal(gw_conv2d_dims_init(&d, 0, 1, 3, 3, 1, 1, 1, 1, 0, &e), GW_ERR_ARG);
    assert_non_null(strstr(e.msg, "batch = 0"));
    assert_int_equal(gw_conv2d_dims_init(&d, 1, 1, 3, 3, 1, 1, 1, 0, 0, &e), GW_ERR_ARG);
    assert_non_null(strstr(e.msg, "stride"));
    assert_int_equal(gw_conv2d_dims_init(&d, 1, 1, 3, 3, 1, 1, 1, 1, -1, &e), GW_ERR_ARG);
    assert_int_equal(gw_conv_transpose2d_dims_init(&d, 1, 1, 1, 1, 1, 2, 2, 1, 3, 0, &e),
                     GW_ERR_ARG);
    assert_non_null(strstr(e.msg, "empty output"));
}

/* The fused product against its definition (gw_conv_gemm_ref) for every
 * kind of A, B and C on 1, 2 and 3 threads: the spec nets' 5x5 stride 2 on
 * grids of 16 and more columns (row path) and under 16 (gather path),
 * stride 3 (scalar rows) and stride 1 (copies between zero edges),
 * products deeper than one 256-deep block, images that end mid-panel,
 * COL2IM and NCHW accumulation onto nonzero data and an NCHW overwrite
 * with bias. */
static void check_gemm_kinds(const gw_im2col_geom *g, int nb, int chans, gw_rng *r) {
    const int taps = g->C * g->KH * g->KW, npix = nb * g->Ho * g->Wo, hw = g->Ho * g->Wo;
    const size_t n_img = (size_t)nb * g->C * g->H * g->W, n_grid = (size_t)nb * chans * hw;
    float *img = malloc(sizeof(float) * n_img), *grid = malloc(sizeof(float) * n_grid);
    float *w = malloc(sizeof(float) * (size_t)chans * taps), *bias = malloc(sizeof(float) * chans);
    size_t n_big = n_img > n_grid ? n_img : n_grid;
    if ((size_t)chans * taps > n_big) n_big = (size_t)chans * taps;
    float *c1 = malloc(sizeof(float) * n_big), *c2 = malloc(sizeof(float) * n_big);
    float *pack = malloc(sizeof(float) * 3 * gw_conv_sgemm_pack_size());
    gw_rng_fill_normal(r, img, n_img, 0, 1);
    gw_rng_fill_normal(r, grid, n_grid, 0, 1);
    gw_rng_fill_normal(r, w, (size_t)chans * taps, 0, 1);
    gw_rng_fill_normal(r, bias, chans, 0, 1);
    /* the products of conv2d and conv_transpose2d: M, N, K, A, B, C */
    const gw_conv_a w_rows = {.kind = GW_CONV_A_DENSE, .p = w, .ld = taps};
    const gw_conv_a w_cols = {.kind = GW_CONV_A_DENSE, .p = w, .ld = taps, .trans = 1};
    const gw_conv_a grid_a = {.kind = GW_CONV_A_NCHW, .p = grid, .hw = hw};
    const gw_conv_b im2col = {.kind = GW_CONV_B_IM2COL, .p = img, .g = g};
    const gw_conv_b im2col_t = {.kind = GW_CONV_B_IM2COL_T, .p = img, .g = g};
    const gw_conv_b grid_b = {.kind = GW_CONV_B_NCHW, .p = grid, .hw = hw};
    const gw_conv_b w_b = {.kind = GW_CONV_B_DENSE, .p = w, .ld = taps};
    assert_true(chans <= taps); /* the dense case reads w (chans, chans) as A */
    const struct gemm_case {
        int M, N, K;
        const gw_conv_a *a;
        const gw_conv_b *b;
        gw_conv_c c;
        size_t n_c;
    } cases[] = {
        {chans,
         npix,
         taps,
         &w_rows,
         &im2col,
         {.kind = GW_CONV_C_NCHW, .bias = bias, .hw = hw},
         n_grid},
        {chans,
         npix,
         taps,
         &w_rows,
         &im2col,
         {.kind = GW_CONV_C_NCHW, .hw = hw, .accumulate = 1},
         n_grid},
        {chans,
         taps,
         npix,
         &grid_a,
         &im2col_t,
         {.kind = GW_CONV_C_DENSE, .ldc = taps, .beta = 1},
         (size_t)chans * taps},
        {taps, npix, chans, &w_cols, &grid_b, {.kind = GW_CONV_C_COL2IM, .g = g}, n_img},
        /* a dense B and beta 0.5 through the same driver */
        {chans,
         taps,
         chans,
         &w_rows,
         &w_b,
         {.kind = GW_CONV_C_DENSE, .ldc = taps, .beta = 0.5f},
         (size_t)chans * taps},
    };
    /* and each again in bf16 (operands rounded, f32 sums) where the CPU has
     * it: the reference rounds the same way, and a kernel that did not
     * round would miss it by ~1e-3 of each product */
    const size_t n_cases = sizeof cases / sizeof cases[0];
    for (size_t k = 0; k < n_cases * (gw_conv_bf16_ok() ? 2 : 1); k++) {
        const struct gemm_case *cs = &cases[k % n_cases];
        for (int threads = 1; threads <= 3; threads++) {
            gw_rng_fill_normal(r, c1, cs->n_c, 0, 1);
            memcpy(c2, c1, sizeof(float) * cs->n_c);
            gw_conv_c cc = cs->c;
            cc.bf16 = k >= n_cases;
            cc.p = c1;
            gw_conv_gemm(cs->M, cs->N, cs->K, cs->a, cs->b, &cc, threads, pack);
            cc.p = c2;
            gw_conv_gemm_ref(cs->M, cs->N, cs->K, cs->a, cs->b, &cc);
            float tol = 1e-5f * sqrtf((float)cs->K) * 8;
            float e = gw_test_max_abs_diff(c1, c2, cs->n_c);
            if (!(e < tol))
                fprintf(stderr, "case %zu%s, %d threads, grid %dx%d: max diff %g\n", k % n_cases,
                        cc.bf16 ? " (bf16)" : "", threads, g->Ho, g->Wo, e);
            assert_true(e < tol);
        }
    }
    free(img), free(grid), free(w), free(bias), free(c1), free(c2), free(pack);
}

/* Padding on each side of its own (gw_conv2d_dims_init_pads, the PixelCNN's
 * masked convolutions): the direct loops equal conv2d without padding on a
 * zero-padded copy of the input (forward, and the input gradient cropped
 * back out), and every fast path equals the direct loops. Grids of 64
 * columns take the product's whole-panel stride-1 path. */
static void test_conv2d_pads(void **state) {
    (void)state;
    /* B, C_in, H, W, C_out, KH, KW, top, bottom, left, right */
    const int cfg[][11] = {
        {2, 3, 6, 64, 5, 2, 3, 1, 0, 1, 1}, /* the vertical stack's 2x3 */
        {2, 3, 5, 64, 4, 1, 2, 0, 0, 1, 0}, /* the horizontal stack's 1x2 */
        {1, 1, 7, 64, 6, 4, 7, 3, 0, 3, 3}, /* layer 0's 4x7 */
        {2, 2, 5, 11, 3, 3, 3, 0, 2, 2, 0}, /* the other sides, odd widths */
    };
    for (size_t k = 0; k < sizeof cfg / sizeof cfg[0]; k++) {
        const int *c = cfg[k];
        gw_conv2d_dims d, dp;
        assert_int_equal(gw_conv2d_dims_init_pads(&d, c[0], c[1], c[2], c[3], c[4], c[5], c[6],
                                                  c[7], c[8], c[9], c[10], NULL),
                         GW_OK);
        const int Hp = c[2] + c[7] + c[8], Wp = c[3] + c[9] + c[10];
        assert_int_equal(gw_conv2d_dims_init(&dp, c[0], c[1], Hp, Wp, c[4], c[5], c[6], 1, 0, NULL),
                         GW_OK);
        assert_int_equal(d.H_out, dp.H_out);
        assert_int_equal(d.W_out, dp.W_out);
        check_fast_vs_ref(&d);
        layer L;
        layer_make(&L, &d, 7 + k);
        const size_t n_pad = (size_t)c[0] * c[1] * Hp * Wp;
        float *pad = calloc(n_pad, sizeof(float)), *dpad = calloc(n_pad, sizeof(float));
        for (size_t bi = 0; bi < (size_t)c[0] * c[1]; bi++)
            for (int r = 0; r < c[2]; r++)
                memcpy(pad + (bi * Hp + r + c[7]) * Wp + c[9], L.inp + (bi * c[2] + r) * c[3],
                       sizeof(float) * c[3]);
        float *o1 = malloc(sizeof(float) * L.n_out), *o2 = malloc(sizeof(float) * L.n_out);
        gw_conv2d_forward_ref(o1, L.inp, L.w, L.bias, &d);
        gw_conv2d_forward_ref(o2, pad, L.w, L.bias, &dp);
        assert_true(rel_diff(o1, o2, L.n_out) < 1e-6f);
        float *di = calloc(L.n_in, sizeof(float)), *dw1 = calloc(L.n_w, sizeof(float));
        float *dw2 = calloc(L.n_w, sizeof(float));
        gw_conv2d_backward_ref(di, dw1, NULL, L.dout, L.inp, L.w, &d);
        gw_conv2d_backward_ref(dpad, dw2, NULL, L.dout, pad, L.w, &dp);
        assert_true(rel_diff(dw1, dw2, L.n_w) < 1e-6f);
        for (size_t bi = 0; bi < (size_t)c[0] * c[1]; bi++)
            for (int r = 0; r < c[2]; r++)
                assert_true(rel_diff(di + (bi * c[2] + r) * c[3],
                                     dpad + (bi * Hp + r + c[7]) * Wp + c[9], c[3]) < 1e-6f);
        free(pad), free(dpad), free(o1), free(o2), free(di), free(dw1), free(dw2);
        layer_free(&L);
    }
    gw_conv2d_dims d;
    assert_int_equal(gw_conv2d_dims_init_pads(&d, 1, 1, 2, 2, 1, 4, 1, 1, 0, 0, 0, NULL),
                     GW_ERR_ARG);
    assert_int_equal(gw_conv2d_dims_init_pads(&d, 1, 1, 2, 2, 1, 1, 1, -1, 0, 0, 0, NULL),
                     GW_ERR_ARG);
}

static void test_fused_gemm_matches_reference(void **state) {
    gw_rng r;
    gw_rng_seed(&r, 11);
    /* C, H, W, Ho, Wo, KH, KW, stride, pad; images; channels of the other side */
    const int geo[][11] = {
        {3, 40, 36, 20, 18, 5, 5, 2, 2, 3, 13}, /* rows of 18: the row path */
        {12, 9, 8, 5, 4, 5, 5, 2, 2, 5, 20},    /* 4 columns: the gather path, K > 256 */
        {2, 64, 64, 32, 32, 5, 5, 2, 2, 1, 3},  /* the spec nets' first layer */
        {2, 10, 7, 3, 2, 3, 2, 3, 0, 3, 5},     /* stride 3, no padding */
        {3, 17, 16, 17, 16, 3, 3, 1, 1, 2, 4},  /* stride 1 */
        {3, 12, 37, 13, 37, 2, 3, 1, 1, 2, 5},  /* stride 1, odd rows across panels and tails */
        /* stride 1, grid rows of whole 32-pixel panels (the PixelCNN's 64 bands): one
         * run per panel, edge taps masked at both ends, with and without padding */
        {3, 5, 64, 6, 64, 2, 3, 1, 1, 2, 5},
        {5, 4, 32, 5, 32, 2, 3, 1, 1, 3, 7},
        {2, 6, 66, 5, 64, 2, 3, 1, 0, 2, 4},
        /* 28 channels: register tiles of 12, 8 and 8 rows */
        {5, 5, 64, 6, 64, 2, 3, 1, 1, 1, 28},
        /* the transposed layer's view: the 16x16 input grid of a 32x32 output */
        {4, 32, 32, 16, 16, 5, 5, 2, 2, 2, 6},
    };
    for (size_t i = 0; i < sizeof geo / sizeof geo[0]; i++) {
        const int *v = geo[i];
        gw_im2col_geom g = {.C = v[0],
                            .H = v[1],
                            .W = v[2],
                            .Ho = v[3],
                            .Wo = v[4],
                            .KH = v[5],
                            .KW = v[6],
                            .stride = v[7],
                            .pad = v[8],
                            .pad_w = v[8]};
        check_gemm_kinds(&g, v[9], v[10], &r);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fused_gemm_matches_reference),
        cmocka_unit_test(test_conv2d_pads),
        cmocka_unit_test(test_conv2d_fast_matches_reference),
        cmocka_unit_test(test_conv_transpose2d_fast_matches_reference),
        cmocka_unit_test(test_reference_model_layers),
        cmocka_unit_test(test_conv2d_gradcheck),
        cmocka_unit_test(test_conv_transpose2d_gradcheck),
        cmocka_unit_test(test_transpose_is_adjoint_of_conv),
        cmocka_unit_test(test_conv_transpose2d_known_values),
        cmocka_unit_test(test_bad_geometry_is_rejected),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
