/* The Gated PixelCNN (models/pixelcnn.h): the whole training pass against
 * central differences (with and without class conditioning); each masked
 * operator against its direct loops and its backward against central
 * differences; the masks (no pixel sees itself or a later one, every earlier
 * pixel within reach is seen: exactly the receptive field the header
 * states); the cached sampler against the naive one (same images, logits
 * within 1e-4, kept prefixes); configs and refusals. Prints the cached
 * sampler's time for one 64 x 64 image of pixelcnn-small. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "gw_test.h"
#include "models/pixelcnn.h"
#include "nn/blas.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static gw_pixelcnn *make_model(int H, int W, int C, int L, int head, int classes, uint64_t seed,
                               float scale) {
    char json[1024];
    snprintf(json, sizeof json,
             "{\"model\": \"pixelcnn\", \"name\": \"tiny\", \"features\": {\"sample_rate\": 16000,"
             " \"clip_samples\": 4096, \"n_fft\": 256, \"hop\": 256, \"n_mels\": %d,"
             " \"frames\": %d}, \"channels\": %d, \"layers\": %d, \"head_channels\": %d,"
             " \"classes\": %d}",
             W, H, C, L, head, classes);
    gw_pixelcnn_config cfg;
    gw_error err = {0};
    if (gw_pixelcnn_config_parse(&cfg, json, "test", &err)) fail_msg("config: %s", err.msg);
    assert_int_equal(cfg.height, H);
    assert_int_equal(cfg.width, W);
    gw_pixelcnn *m = NULL;
    if (gw_pixelcnn_create(&m, &cfg, &err)) fail_msg("create: %s", err.msg);
    gw_rng rng;
    gw_rng_seed(&rng, seed);
    gw_pixelcnn_weights_init(&m->w, &m->cfg, &rng);
    for (size_t i = 0; i < m->params->total; i++)
        m->params->data[i] *= scale;
    return m;
}

static uint8_t *random_image(size_t n, uint64_t seed) {
    uint8_t *q = malloc(n);
    gw_rng rng;
    gw_rng_seed(&rng, seed);
    for (size_t i = 0; i < n; i++)
        q[i] = (uint8_t)gw_rng_below(&rng, 256);
    return q;
}

static float *random_floats(size_t n, gw_rng *rng) {
    float *x = malloc((n ? n : 1) * sizeof(float));
    gw_rng_fill_normal(rng, x, n, 0.0f, 1.0f);
    return x;
}

/* ---- 1. the training pass against central differences ------------------ */

typedef struct loss_ctx {
    gw_pixelcnn_train *t;
    const uint8_t *q;
    const int32_t *labels;
    size_t N;
} loss_ctx;

/* mean NLL in double from the logits: finer than the float loss */
static double train_loss(void *p) {
    loss_ctx *c = p;
    gw_error err = {0};
    if (gw_pixelcnn_train_forward(c->t, NULL, c->q, c->labels, 0, &err))
        fail_msg("forward: %s", err.msg);
    const float *lg = gw_pixelcnn_train_logits(c->t);
    double nll = 0;
    for (size_t n = 0; n < c->N; n++) {
        const float *a = lg + n * 256;
        double mx = a[0], sum = 0;
        for (int k = 1; k < 256; k++)
            mx = fmax(mx, a[k]);
        for (int k = 0; k < 256; k++)
            sum += exp(a[k] - mx);
        nll += mx + log(sum) - a[c->q[n]];
    }
    return nll / (double)c->N;
}

/* Seed 16: no ReLU input of the head lies within the difference step of
 * its kink. Where one does (at a third of the seeds 11..22 here) the central
 * difference straddles the kink and that one element is off by up to 4e-3,
 * an error that shrinks with the step while every other element stays
 * below 1e-5; so the tolerance can be 1e-4. */
static void gradcheck_config(int classes) {
    const int B = 2, H = 8, W = 6;
    gw_pixelcnn *m = make_model(H, W, 4, 2, 8, classes, 16, 1.5f);
    gw_pixelcnn_train *t = NULL;
    gw_error err = {0};
    assert_int_equal(gw_pixelcnn_train_create(&t, m, B, &err), GW_OK);
    uint8_t *q = random_image((size_t)B * H * W, 5);
    int32_t labels[2] = {classes > 1 ? 1 : 0, classes > 0 ? classes - 1 : 0};
    float loss;
    gw_params_zero_grad(m->params);
    assert_int_equal(gw_pixelcnn_train_forward(t, &loss, q, classes ? labels : NULL, 1, &err),
                     GW_OK);
    assert_true(isfinite(loss) && loss > 0);
    gw_pixelcnn_train_backward(t);
    loss_ctx ctx = {t, q, classes ? labels : NULL, (size_t)B * H * W};
    assert_true(fabs(train_loss(&ctx) - loss) < 1e-5 * loss);
    double worst = 0;
    for (size_t i = 0; i < m->params->count; i++) {
        gw_param *p = gw_params_at(m->params, i);
        double e =
            gw_test_gradcheck(p->name, p->data, p->grad, p->numel, train_loss, &ctx, 1e-3f, 48);
        if (e > worst) worst = e;
        if (e > 1e-4) fail_msg("%s: gradient error %.3g", p->name, e);
    }
    /* the backward accumulates: a second one doubles every gradient */
    size_t n = m->params->total;
    float *once = malloc(n * sizeof(float));
    memcpy(once, m->params->grad, n * sizeof(float));
    assert_int_equal(gw_pixelcnn_train_forward(t, &loss, q, classes ? labels : NULL, 1, &err),
                     GW_OK);
    gw_pixelcnn_train_backward(t);
    for (size_t i = 0; i < n; i++)
        assert_true(fabsf(m->params->grad[i] - 2 * once[i]) <= 1e-6f + 1e-5f * fabsf(once[i]));
    print_message("training pass, %d classes: %zu tensors, worst gradient error %.2e\n", classes,
                  m->params->count, worst);
    free(once);
    free(q);
    gw_pixelcnn_train_free(t);
    gw_pixelcnn_free(m);
}

static void test_gradcheck_unconditioned(void **state) {
    gradcheck_config(0);
}

static void test_gradcheck_conditioned(void **state) {
    gradcheck_config(3);
}

/* ---- 2. each masked operator: fast == naive, backward == differences --- */

typedef struct op_ctx {
    const gw_pixelcnn_conv *g; /* NULL: the down op */
    int B, Ci, Co, H, W;
    const float *in, *w, *b, *dout;
    float *out, *work;
} op_ctx;

static void op_forward(op_ctx *c) {
    if (c->g) {
        gw_pixelcnn_conv_forward(c->out, c->in, c->w, c->b, c->g, c->work);
    } else {
        memset(c->out, 0, sizeof(float) * c->B * c->Co * c->H * c->W);
        gw_pixelcnn_down_forward(c->out, c->in, c->w, c->b, c->B, c->Ci, c->Co, c->H, c->W, 0,
                                 c->work);
    }
}

static double op_loss(void *p) {
    op_ctx *c = p;
    op_forward(c);
    return gw_test_dot(c->out, c->dout, (size_t)c->B * c->Co * c->H * c->W);
}

static void check_op(const gw_pixelcnn_conv *g, int B, int Ci, int Co, int H, int W, int KH, int KW,
                     const char *what) {
    gw_rng rng;
    gw_rng_seed(&rng, 77);
    const size_t ni = (size_t)B * Ci * H * W, no = (size_t)B * Co * H * W;
    const size_t nw = (size_t)Co * Ci * KH * KW;
    float *in = random_floats(ni, &rng), *w = random_floats(nw, &rng), *b = random_floats(Co, &rng);
    float *dout = random_floats(no, &rng);
    float *o1 = random_floats(no, &rng), *o2 = malloc(no * sizeof(float));
    float *di1 = random_floats(ni, &rng), *di2 = malloc(ni * sizeof(float));
    float *dw1 = random_floats(nw, &rng), *dw2 = malloc(nw * sizeof(float));
    float *db1 = random_floats(Co, &rng), *db2 = malloc(Co * sizeof(float));
    memcpy(o2, o1, no * sizeof(float)); /* the down op adds into out */
    memcpy(di2, di1, ni * sizeof(float));
    memcpy(dw2, dw1, nw * sizeof(float));
    memcpy(db2, db1, Co * sizeof(float));
    size_t ws = g ? gw_pixelcnn_conv_workspace(g) : gw_pixelcnn_down_workspace(B, Ci, Co, H, W);
    float *work = gw_alloc(ws * sizeof(float));
    if (g) {
        gw_pixelcnn_conv_forward(o1, in, w, b, g, work);
        gw_pixelcnn_conv_forward_ref(o2, in, w, b, g);
        gw_pixelcnn_conv_backward(di1, dw1, db1, dout, in, w, g, work);
        gw_pixelcnn_conv_backward_ref(di2, dw2, db2, dout, in, w, g);
    } else {
        gw_pixelcnn_down_forward(o1, in, w, b, B, Ci, Co, H, W, 0, work);
        gw_pixelcnn_down_forward_ref(o2, in, w, b, B, Ci, Co, H, W);
        gw_pixelcnn_down_backward(di1, dw1, db1, dout, in, w, B, Ci, Co, H, W, 0, work);
        gw_pixelcnn_down_backward_ref(di2, dw2, db2, dout, in, w, B, Ci, Co, H, W);
    }
    float e[4] = {gw_test_max_abs_diff(o1, o2, no), gw_test_max_abs_diff(di1, di2, ni),
                  gw_test_max_abs_diff(dw1, dw2, nw), gw_test_max_abs_diff(db1, db2, Co)};
    print_message("%-22s fast vs naive: out %.1e, dinp %.1e, dw %.1e, db %.1e\n", what, e[0], e[1],
                  e[2], e[3]);
    for (int i = 0; i < 4; i++)
        assert_true(e[i] < 1e-4f);
    /* the fast backward (into zeroed gradients) against central differences */
    memset(di1, 0, ni * sizeof(float)), memset(dw1, 0, nw * sizeof(float));
    memset(db1, 0, Co * sizeof(float));
    if (g)
        gw_pixelcnn_conv_backward(di1, dw1, db1, dout, in, w, g, work);
    else
        gw_pixelcnn_down_backward(di1, dw1, db1, dout, in, w, B, Ci, Co, H, W, 0, work);
    op_ctx c = {g, B, Ci, Co, H, W, in, w, b, dout, o2, work};
    double worst = fmax(gw_test_gradcheck("in", in, di1, ni, op_loss, &c, 1e-2f, 0),
                        gw_test_gradcheck("w", w, dw1, nw, op_loss, &c, 1e-2f, 0));
    worst = fmax(worst, gw_test_gradcheck("b", b, db1, (size_t)Co, op_loss, &c, 1e-2f, 0));
    if (worst > 1e-3) fail_msg("%s: gradient error %.3g", what, worst);
    gw_free(work);
    free(in), free(w), free(b), free(dout), free(o1), free(o2), free(di1), free(di2);
    free(dw1), free(dw2), free(db1), free(db2);
}

static void test_ops_match_naive(void **state) {
    gw_pixelcnn_config c;
    gw_pixelcnn_config_default(&c);
    c.height = 7, c.width = 9, c.channels = 3;
    const char *names[2][2] = {{"layer 0 vertical 4x7", "layer 0 horizontal 1x4"},
                               {"layer 1 vertical 2x3", "layer 1 horizontal 1x2"}};
    for (int l = 0; l < 2; l++) {
        gw_pixelcnn_conv v, h;
        gw_pixelcnn_layer_convs(&c, l, 2, &v, &h);
        assert_int_equal(h.shift, l == 0);
        check_op(&v, v.B, v.C_in, v.C_out, v.H, v.W, v.KH, v.KW, names[l][0]);
        check_op(&h, h.B, h.C_in, h.C_out, h.H, h.W, h.KH, h.KW, names[l][1]);
    }
    check_op(NULL, 2, 5, 6, 7, 9, 1, 1, "v2h 1x1 shifted down");
}

/* ---- 3. masks: no look-ahead, no blind spot ------------------------------ */

/* pixel (r, c)'s receptive field, as pixelcnn.h states it */
static int in_field(int L, int r, int c, int rr, int cc) {
    if (rr == r) return cc < c && cc >= c - 4 - L;
    return rr < r && rr >= r - 4 - L && abs(cc - c) <= 3 + L;
}

static void test_masks(void **state) {
    const int B = 2, H = 12, W = 14, L = 2;
    gw_pixelcnn *m = make_model(H, W, 4, L, 8, 0, 3, 1.0f);
    gw_pixelcnn_train *t = NULL;
    gw_error err = {0};
    assert_int_equal(gw_pixelcnn_train_create(&t, m, B, &err), GW_OK);
    uint8_t *q = random_image((size_t)B * H * W, 9), *q2 = malloc((size_t)B * H * W);
    gw_rng rng;
    gw_rng_seed(&rng, 4);
    /* first pixel, first row and column, right and left edges, the last
     * row and pixel, and the interior */
    static const int px[][2] = {{0, 0}, {0, 1}, {0, 13}, {1, 0},   {3, 13},
                                {6, 7}, {9, 4}, {11, 0}, {11, 13}, {7, 1}};
    const size_t hw = (size_t)H * W;
    int seen = 0;
    float smallest = INFINITY;
    for (size_t k = 0; k < sizeof px / sizeof px[0]; k++) {
        const int r = px[k][0], c = px[k][1], i = r * W + c;
        float loss;
        assert_int_equal(gw_pixelcnn_train_forward(t, &loss, q, NULL, 1, &err), GW_OK);
        /* d(random projection of pixel i's logits in image 0) / d input */
        float *dl = gw_pixelcnn_train_dlogits(t);
        memset(dl, 0, (size_t)B * hw * 256 * sizeof(float));
        gw_rng_fill_normal(&rng, dl + (size_t)i * 256, 256, 0.0f, 1.0f);
        gw_pixelcnn_train_backward(t);
        const float *g = gw_pixelcnn_train_dinput(t);
        for (int j = 0; j < (int)hw; j++) {
            const int rr = j / W, cc = j % W;
            const float v = fabsf(g[j]);
            if (j < i && in_field(L, r, c, rr, cc)) {
                if (!(v > 0)) fail_msg("pixel (%d,%d): blind to earlier (%d,%d)", r, c, rr, cc);
                seen++;
                if (v < smallest) smallest = v;
            } else if (v != 0) {
                fail_msg("pixel (%d,%d) sees (%d,%d) (%s): gradient %g", r, c, rr, cc,
                         j >= i ? "at or after it" : "outside its receptive field", g[j]);
            }
        }
        for (size_t j = hw; j < 2 * hw; j++) /* nothing leaks between images */
            if (g[j] != 0) fail_msg("pixel (%d,%d) of image 0 sees image 1", r, c);
        /* the forward side of no look-ahead: new values at and after the
         * pixel, and in image 1, leave its logits unchanged to the bit */
        float before[256];
        assert_int_equal(gw_pixelcnn_train_forward(t, NULL, q, NULL, 0, &err), GW_OK);
        memcpy(before, gw_pixelcnn_train_logits(t) + (size_t)i * 256, sizeof before);
        memcpy(q2, q, (size_t)B * hw);
        for (size_t j = (size_t)i; j < (size_t)B * hw; j++)
            q2[j] = (uint8_t)(q[j] + 1 + gw_rng_below(&rng, 255));
        assert_int_equal(gw_pixelcnn_train_forward(t, NULL, q2, NULL, 0, &err), GW_OK);
        if (memcmp(before, gw_pixelcnn_train_logits(t) + (size_t)i * 256, sizeof before))
            fail_msg("pixel (%d,%d): its logits change with the pixels at and after it", r, c);
    }
    print_message("masks: %d earlier pixels seen, none later; smallest |gradient| %.2e\n", seen,
                  smallest);
    free(q), free(q2);
    gw_pixelcnn_train_free(t);
    gw_pixelcnn_free(m);
}

/* ---- 4. the cached sampler against the naive one ------------------------- */

static float check_sampler(int H, int W, int C, int L, int classes, int label, int keep,
                           float temperature, uint64_t seed) {
    gw_pixelcnn *m = make_model(H, W, C, L, 12, classes, seed, 1.5f);
    const size_t n = (size_t)H * W;
    gw_error err = {0};
    /* the same kept prefix, different junk after it (never read) */
    uint8_t *q1 = random_image(n, seed + 1), *q2 = random_image(n, seed + 2);
    memcpy(q2, q1, (size_t)keep);
    uint8_t *given = malloc(n);
    memcpy(given, q1, n);
    float *lg1 = calloc(n * 256, sizeof(float)), *lg2 = calloc(n * 256, sizeof(float));
    gw_rng r1, r2;
    gw_rng_seed(&r1, seed * 7);
    gw_rng_seed(&r2, seed * 7);
    assert_int_equal(gw_pixelcnn_sample_naive(m, q1, keep, label, temperature, &r1, lg1, &err),
                     GW_OK);
    gw_pixelcnn_sampler *s = NULL;
    assert_int_equal(gw_pixelcnn_sampler_create(&s, m, &err), GW_OK);
    gw_pixelcnn_free(m); /* the sampler keeps its own copy of the weights */
    /* run twice: the second run must start from a clean state */
    for (int rep = 0; rep < 2; rep++) {
        gw_rng_seed(&r2, seed * 7);
        assert_int_equal(gw_pixelcnn_sampler_run(s, q2, keep, label, temperature, &r2, lg2, &err),
                         GW_OK);
    }
    assert_memory_equal(q1, given, (size_t)keep);
    float worst = 0;
    int distinct = 0, hist[256] = {0};
    for (size_t p = 0; p < n; p++) {
        if (q1[p] != q2[p])
            fail_msg("%dx%d L=%d: pixel %zu: naive %d, cached %d", H, W, L, p, q1[p], q2[p]);
        if (p < (size_t)keep) continue;
        float d = gw_test_max_abs_diff(lg1 + p * 256, lg2 + p * 256, 256);
        if (!(d <= worst)) worst = d;
        distinct += !hist[q1[p]]++;
    }
    print_message("%2dx%-2d C=%d L=%d classes %d keep %2d T=%.1f: identical images (%d distinct "
                  "values), max |logit diff| %.1e\n",
                  H, W, C, L, classes, keep, temperature, distinct, worst);
    assert_true(worst < 1e-4f);
    assert_true(gw_rng_u64(&r1) == gw_rng_u64(&r2)); /* one draw per sampled pixel each */
    gw_pixelcnn_sampler_free(s);
    free(q1), free(q2), free(given), free(lg1), free(lg2);
    return worst;
}

/* bits per dimension over pixels from .. HW - 1 (complete --fill's weights):
 * from 0 is the whole-image figure; each image's figure from any pixel is
 * the mean of -log2 softmax(logits)[q] over those pixels, summed here from
 * the logits in double */
static void test_bits_from(void **state) {
    const int B = 3, H = 6, W = 5;
    gw_pixelcnn *m = make_model(H, W, 4, 2, 8, 0, 3, 1.0f);
    gw_pixelcnn_train *t = NULL;
    gw_error err = {0};
    assert_int_equal(gw_pixelcnn_train_create(&t, m, 2, &err), GW_OK);
    const size_t hw = (size_t)H * W;
    uint8_t *q = random_image((size_t)B * hw, 5);
    double whole, whole0, per[3], per0[3];
    assert_int_equal(gw_pixelcnn_bits_per_dim(&whole, per, t, q, NULL, B, &err), GW_OK);
    assert_int_equal(gw_pixelcnn_bits_per_dim_from(&whole0, per0, t, q, NULL, B, 0, &err), GW_OK);
    assert_true(whole == whole0 && !memcmp(per, per0, sizeof per));
    const size_t froms[] = {1, 7, hw - 1};
    for (size_t f = 0; f < 3; f++) {
        double b, pb[3];
        assert_int_equal(gw_pixelcnn_bits_per_dim_from(&b, pb, t, q, NULL, B, froms[f], &err),
                         GW_OK);
        for (int i = 0; i < B; i++) { /* batch 2: image 2 is in the second, padded batch */
            uint8_t pair[2 * 30];
            memcpy(pair, q + (size_t)i * hw, hw);
            memcpy(pair + hw, q + (size_t)i * hw, hw);
            assert_int_equal(gw_pixelcnn_train_forward(t, NULL, pair, NULL, 0, &err), GW_OK);
            const float *lg = gw_pixelcnn_train_logits(t);
            double nll = 0;
            for (size_t p = froms[f]; p < hw; p++) {
                double mx = -INFINITY, z = 0;
                for (int k = 0; k < 256; k++)
                    mx = fmax(mx, lg[p * 256 + k]);
                for (int k = 0; k < 256; k++)
                    z += exp(lg[p * 256 + k] - mx);
                nll += log(z) + mx - lg[p * 256 + q[(size_t)i * hw + p]];
            }
            assert_float_equal(pb[i], nll / ((double)(hw - froms[f]) * M_LN2), 1e-5);
        }
    }
    double b;
    assert_int_equal(gw_pixelcnn_bits_per_dim_from(&b, NULL, t, q, NULL, B, hw, &err), GW_ERR_ARG);
    free(q);
    gw_pixelcnn_train_free(t);
    gw_pixelcnn_free(m);
}

static void test_cached_equals_naive(void **state) {
    check_sampler(7, 9, 4, 1, 0, 0, 0, 1.0f, 21);         /* one type-B layer, from nothing */
    check_sampler(8, 6, 5, 3, 3, 2, 2 * 6 + 3, 0.9f, 22); /* conditioned, part of a row kept */
    check_sampler(6, 10, 3, 2, 0, 0, 2 * 10, 0.0f, 23);   /* greedy after two kept rows */
    check_sampler(5, 5, 2, 0, 2, 1, 0, 1.5f, 24);         /* the type-A layer alone */
}

/* ---- 5. configs and refusals --------------------------------------------- */

static void expect_refused(const char *json, const char *needle) {
    gw_pixelcnn_config c;
    gw_error err = {0};
    gw_status st = gw_pixelcnn_config_parse(&c, json, "bad.json", &err);
    if (st == GW_OK) fail_msg("accepted: %s", json);
    if (!strstr(err.msg, "bad.json") || !strstr(err.msg, needle))
        fail_msg("'%s' does not name '%s'", err.msg, needle);
}

static void test_config(void **state) {
    const char *tiny =
        "{\"model\": \"pixelcnn\", \"name\": \"pc-tiny\", \"features\": {\"n_mels\": 16,"
        " \"frames\": 24}, \"channels\": 8, \"layers\": 3, \"head_channels\": 20, \"classes\": 5,"
        " \"train\": {\"batch\": 4, \"lr\": 0.002, \"beta1\": 0.5, \"beta2\": 0.99}}";
    gw_pixelcnn_config a, b;
    gw_error err = {0};
    assert_int_equal(gw_pixelcnn_config_parse(&a, tiny, "tiny", &err), GW_OK);
    assert_string_equal(a.name, "pc-tiny");
    assert_int_equal(a.height, 24);
    assert_int_equal(a.width, 16);
    assert_int_equal(a.channels, 8);
    assert_int_equal(a.layers, 3);
    assert_int_equal(a.head, 20);
    assert_int_equal(a.classes, 5);
    assert_int_equal(a.batch, 4);
    char *json = gw_pixelcnn_config_to_json(&a);
    assert_non_null(json);
    assert_int_equal(gw_pixelcnn_config_parse(&b, json, "round trip", &err), GW_OK);
    free(json);
    assert_string_equal(a.name, b.name);
    assert_memory_equal(&a.feat, &b.feat, sizeof a.feat);
    assert_true(a.height == b.height && a.width == b.width && a.channels == b.channels &&
                a.layers == b.layers && a.head == b.head && a.classes == b.classes &&
                a.batch == b.batch && a.lr == b.lr && a.beta1 == b.beta1 && a.beta2 == b.beta2);

    expect_refused("{\"model\": \"pixelcnn\", \"channels\": 0}", "channels");
    expect_refused("{\"model\": \"pixelcnn\", \"layers\": 65}", "layers");
    expect_refused("{\"model\": \"pixelcnn\", \"head_channels\": 1.5}", "head_channels");
    expect_refused("{\"model\": \"pixelcnn\", \"classes\": -1}", "classes");
    expect_refused("{\"model\": \"pixelcnn\", \"chanels\": 8}", "chanels");
    expect_refused("{\"model\": \"pixelcnn\", \"train\": {\"lr\": 0}}", "train.lr");
    expect_refused("{\"model\": \"pixelcnn\", \"train\": {\"bacth\": 4}}", "bacth");
    expect_refused("{\"model\": \"pixelcnn\", \"features\": {\"n_mel\": 4}}", "n_mel");
    expect_refused("{\"model\": \"pixelcnn\", \"features\": {\"n_mels\": 2}}", "n_mels");
    expect_refused("{\"model\": \"wavenet\"}", "model");
    expect_refused("{\"channels\": 8}", "model");
    expect_refused("[1]", "object");
    /* a config built by hand is checked too */
    gw_pixelcnn_config_default(&a);
    a.head = 0;
    assert_int_equal(gw_pixelcnn_config_validate(&a, "hand", &err), GW_ERR_ARG);
    assert_non_null(strstr(err.msg, "head_channels"));

    /* the shipped preset is the spec's pixelcnn-small */
    char path[4096];
    gw_test_preset_path(path, sizeof path, "pixelcnn-small");
    if (gw_pixelcnn_config_load(&a, path, &err)) fail_msg("%s", err.msg);
    gw_pixelcnn_config_default(&b);
    assert_string_equal(a.name, "pixelcnn-small");
    assert_memory_equal(&a.feat, &b.feat, sizeof a.feat);
    assert_true(a.height == 64 && a.width == 64 && a.channels == 32 && a.layers == 10 &&
                a.head == 128 && a.classes == 0 && a.batch == 16 && a.lr == 1e-3f);
    assert_int_equal(gw_pixelcnn_macs_per_pixel(&a), 258048); /* the spec's count */
}

/* bad labels, keeps and batches name the value */
static void test_refusals(void **state) {
    gw_pixelcnn *m = make_model(5, 6, 2, 1, 4, 3, 1, 1.0f);
    gw_error err = {0};
    gw_pixelcnn_train *t = NULL;
    assert_int_equal(gw_pixelcnn_train_create(&t, m, 0, &err), GW_ERR_ARG);
    assert_non_null(strstr(err.msg, "batch 0"));
    assert_int_equal(gw_pixelcnn_train_create(&t, m, 2, &err), GW_OK);
    uint8_t q[2 * 30] = {0};
    int32_t labels[2] = {0, 3};
    float loss;
    assert_int_equal(gw_pixelcnn_train_forward(t, &loss, q, labels, 1, &err), GW_ERR_ARG);
    assert_non_null(strstr(err.msg, "label 3 of image 1"));
    assert_int_equal(gw_pixelcnn_train_forward(t, &loss, q, NULL, 1, &err), GW_ERR_ARG);
    assert_non_null(strstr(err.msg, "labels"));
    gw_pixelcnn_sampler *s = NULL;
    assert_int_equal(gw_pixelcnn_sampler_create(&s, m, &err), GW_OK);
    gw_rng rng;
    gw_rng_seed(&rng, 1);
    assert_int_equal(gw_pixelcnn_sampler_run(s, q, 31, 0, 1.0f, &rng, NULL, &err), GW_ERR_ARG);
    assert_non_null(strstr(err.msg, "keep = 31"));
    assert_int_equal(gw_pixelcnn_sample_naive(m, q, 0, -1, 1.0f, &rng, NULL, &err), GW_ERR_ARG);
    assert_non_null(strstr(err.msg, "label -1"));
    /* a model file's group of the wrong shape is refused by name */
    gw_pixelcnn_config c = m->cfg;
    c.channels = 3;
    gw_params *p = gw_params_create();
    for (size_t i = 0; i < m->params->count; i++) {
        gw_param *x = gw_params_at(m->params, i);
        assert_int_equal(gw_params_add(p, x->name, x->ndim, x->shape, x->flags, NULL, &err), GW_OK);
    }
    assert_int_equal(gw_params_alloc(p, &err), GW_OK);
    gw_pixelcnn *m2 = NULL;
    assert_int_not_equal(gw_pixelcnn_create_from(&m2, &c, p, &err), GW_OK);
    assert_non_null(strstr(err.msg, "pixelcnn.layer00.v.w"));
    gw_pixelcnn_sampler_free(s);
    gw_pixelcnn_train_free(t);
    gw_pixelcnn_free(m);
}

/* ---- timing (printed, not asserted) ------------------------------------- */

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void test_speed_small(void **state) {
    gw_pixelcnn_config c;
    gw_pixelcnn_config_default(&c);
    gw_pixelcnn *m = NULL;
    gw_error err = {0};
    assert_int_equal(gw_pixelcnn_create(&m, &c, &err), GW_OK);
    gw_rng rng;
    gw_rng_seed(&rng, 2026);
    gw_pixelcnn_weights_init(&m->w, &m->cfg, &rng);
    gw_pixelcnn_sampler *s = NULL;
    assert_int_equal(gw_pixelcnn_sampler_create(&s, m, &err), GW_OK);
    uint8_t *q = calloc(64 * 64, 1);
    double best = INFINITY;
    for (int rep = 0; rep < 3; rep++) {
        double t0 = now_s();
        assert_int_equal(gw_pixelcnn_sampler_run(s, q, 0, 0, 1.0f, &rng, NULL, &err), GW_OK);
        best = fmin(best, now_s() - t0);
    }
    const double mac = (double)gw_pixelcnn_macs_per_pixel(&c) * 4096;
    print_message("pixelcnn-small cached sampler, one thread: one 64x64 image in %.1f ms "
                  "(%.1f us/pixel, %.1f GMAC/s; best of 3)\n",
                  best * 1e3, best * 1e6 / 4096, mac / best / 1e9);
    /* the training pass at batch 2, for scale */
    gw_pixelcnn_train *t = NULL;
    assert_int_equal(gw_pixelcnn_train_create(&t, m, 2, &err), GW_OK);
    uint8_t *qb = random_image(2 * 4096, 3);
    float loss;
    double t0 = now_s();
    assert_int_equal(gw_pixelcnn_train_forward(t, &loss, qb, NULL, 1, &err), GW_OK);
    double t1 = now_s();
    gw_pixelcnn_train_backward(t);
    double t2 = now_s();
    print_message("pixelcnn-small training pass, batch 2: forward %.0f ms, backward %.0f ms "
                  "(%.2f examples/s; loss %.3f nats)\n",
                  (t1 - t0) * 1e3, (t2 - t1) * 1e3, 2 / (t2 - t0), loss);
    free(qb);
    free(q);
    gw_pixelcnn_train_free(t);
    gw_pixelcnn_sampler_free(s);
    gw_pixelcnn_free(m);
}

/* ---- data-parallel shards ---------------------------------------------
 * The batch split across threads (gw_pixelcnn_train_set_threads) gives the
 * one-arena pass's loss and gradients up to float summation order, with
 * class labels sliced with their images; the held-out figure (measured
 * through the first shard, a short last batch padded) is the same; a count
 * that does not divide the batch falls to one that does; and one thread
 * again gives the arena back. */
static void test_shards_equal_one_arena(void **state) {
    (void)state;
    const int B = 4, H = 8, W = 6, classes = 3;
    gw_pixelcnn *m = make_model(H, W, 4, 2, 8, classes, 21, 1.5f);
    gw_pixelcnn_train *t = NULL;
    gw_error err = {0};
    assert_int_equal(gw_pixelcnn_train_create(&t, m, B, &err), GW_OK);
    uint8_t *q = random_image((size_t)5 * H * W, 9);
    const int32_t labels[5] = {2, 0, 1, 2, 1};
    const size_t n = m->params->total;
    float *g1 = malloc(n * sizeof(float)), loss1, loss2;
    double bits1, bits2, per1[5], per2[5];
    gw_params_zero_grad(m->params);
    assert_int_equal(gw_pixelcnn_train_forward(t, &loss1, q, labels, 1, &err), GW_OK);
    gw_pixelcnn_train_backward(t);
    memcpy(g1, m->params->grad, n * sizeof(float));
    assert_int_equal(gw_pixelcnn_bits_per_dim(&bits1, per1, t, q, labels, 5, &err), GW_OK);

    assert_int_equal(gw_pixelcnn_train_set_threads(t, 3, &err), GW_OK); /* 4 % 3: two */
    assert_int_equal(gw_pixelcnn_train_threads(t), 2);
    gw_params_zero_grad(m->params);
    assert_int_equal(gw_pixelcnn_train_forward(t, &loss2, q, labels, 1, &err), GW_OK);
    gw_pixelcnn_train_backward(t);
    assert_null(gw_pixelcnn_train_logits(t));
    assert_true(fabsf(loss1 - loss2) <= 1e-6f * loss1);
    double worst = 0;
    for (size_t i = 0; i < n; i++) {
        double e = fabs((double)m->params->grad[i] - g1[i]) / (1e-3 + fabs((double)g1[i]));
        if (e > worst) worst = e;
    }
    if (!(worst < 1e-4)) fail_msg("sharded gradients differ: worst relative error %.3g", worst);
    assert_int_equal(gw_pixelcnn_bits_per_dim(&bits2, per2, t, q, labels, 5, &err), GW_OK);
    assert_true(fabs(bits1 - bits2) < 1e-6 * bits1);
    for (int i = 0; i < 5; i++) assert_true(fabs(per1[i] - per2[i]) < 1e-5 * per1[i]);
    /* a label out of range is refused from inside a shard, with its message */
    const int32_t bad[4] = {0, 1, 2, 7};
    assert_int_equal(gw_pixelcnn_train_forward(t, &loss2, q, bad, 1, &err), GW_ERR_ARG);
    assert_non_null(strstr(err.msg, "label 7"));

    assert_int_equal(gw_pixelcnn_train_set_threads(t, 1, &err), GW_OK);
    assert_int_equal(gw_pixelcnn_train_threads(t), 1);
    assert_int_equal(gw_pixelcnn_train_forward(t, &loss2, q, labels, 0, &err), GW_OK);
    assert_non_null(gw_pixelcnn_train_logits(t));
    assert_true(loss2 == loss1);
    print_message("shards: loss %.6f vs %.6f, worst relative gradient difference %.2e\n",
                  (double)loss1, (double)loss2, worst);
    free(g1), free(q);
    gw_pixelcnn_train_free(t);
    gw_pixelcnn_free(m);
}

/* ---- mixed precision -------------------------------------------------
 * gw_pixelcnn_train_set_bf16 (where the CPU has AVX512_BF16): the same
 * training pass with the convolutions' operands rounded to bf16. Its loss
 * and gradients stay within bf16's rounding of the f32 pass's (a relative
 * step of 2^-9 per operand), are not the f32 ones (the products really
 * are bf16), shards follow the setting, and turning it off gives the f32
 * pass back exactly. */
static double rel_l2(const float *a, const float *b, size_t n) {
    double d = 0, r = 0;
    for (size_t i = 0; i < n; i++)
        d += ((double)a[i] - b[i]) * ((double)a[i] - b[i]), r += (double)b[i] * b[i];
    return sqrt(d / (r > 0 ? r : 1));
}

static void test_bf16_training_pass(void **state) {
    (void)state;
    const int B = 4, H = 8, W = 32;
    gw_pixelcnn *m = make_model(H, W, 8, 2, 16, 0, 23, 1.5f);
    gw_pixelcnn_train *t = NULL;
    gw_error err = {0};
    assert_int_equal(gw_pixelcnn_train_create(&t, m, B, &err), GW_OK);
    if (!gw_pixelcnn_train_set_bf16(t, 1)) {
        print_message("no AVX512_BF16 on this CPU: bf16 training not tested\n");
        gw_pixelcnn_train_free(t);
        gw_pixelcnn_free(m);
        return;
    }
    uint8_t *q = random_image((size_t)B * H * W, 13);
    const size_t n = m->params->total;
    float *g[3], loss[3];
    for (int k = 0; k < 3; k++) { /* f32, bf16, bf16 on 2 shards */
        gw_pixelcnn_train_set_bf16(t, k > 0);
        assert_int_equal(gw_pixelcnn_train_set_threads(t, k == 2 ? 2 : 1, &err), GW_OK);
        g[k] = malloc(n * sizeof(float));
        gw_params_zero_grad(m->params);
        assert_int_equal(gw_pixelcnn_train_forward(t, &loss[k], q, NULL, 1, &err), GW_OK);
        gw_pixelcnn_train_backward(t);
        memcpy(g[k], m->params->grad, n * sizeof(float));
    }
    const double e_bf16 = rel_l2(g[1], g[0], n), e_shards = rel_l2(g[2], g[1], n);
    print_message("bf16: loss %.6f (f32 %.6f), gradient relative L2 difference %.2e, "
                  "2 shards vs 1 %.2e\n",
                  (double)loss[1], (double)loss[0], e_bf16, e_shards);
    assert_true(fabsf(loss[1] - loss[0]) < 1e-3f * loss[0]);
    assert_true(e_bf16 < 2e-2);   /* within bf16's rounding */
    assert_true(e_bf16 > 1e-5);   /* and not the f32 pass */
    assert_true(e_shards < 1e-4); /* the shards are bf16 too */
    gw_pixelcnn_train_set_bf16(t, 0);
    assert_int_equal(gw_pixelcnn_train_set_threads(t, 1, &err), GW_OK);
    float again;
    assert_int_equal(gw_pixelcnn_train_forward(t, &again, q, NULL, 0, &err), GW_OK);
    assert_true(again == loss[0]);
    for (int k = 0; k < 3; k++)
        free(g[k]);
    free(q);
    gw_pixelcnn_train_free(t);
    gw_pixelcnn_free(m);
}

int main(void) {
    gw_blas_setup(1); /* one thread: the numbers above are per core */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gradcheck_unconditioned),
        cmocka_unit_test(test_gradcheck_conditioned),
        cmocka_unit_test(test_shards_equal_one_arena),
        cmocka_unit_test(test_bf16_training_pass),
        cmocka_unit_test(test_ops_match_naive),
        cmocka_unit_test(test_masks),
        cmocka_unit_test(test_bits_from),
        cmocka_unit_test(test_cached_equals_naive),
        cmocka_unit_test(test_config),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_speed_small),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
