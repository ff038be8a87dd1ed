/* Fast incremental WaveNet generation (src/models/wavenet_stream.c) against
 * the plain full forward pass, and its SIMD kernels against the scalar ones.
 *
 * The main check follows the PyTorch peer's: generate free-running (sampling)
 * for more steps than the receptive field, so every ring wraps, recording
 * every step's logits; the reference forward over the very sequence that was
 * generated must give the same logits. A ring read one slot off, a dropped
 * bias or a mis-padded gate row all show up as differences of 1e-2 or more. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <immintrin.h>

#include "base/gw_base.h"
#include "dsp/gw_dsp.h"
#include "gw_test.h"
#include "models/wavenet.h"
#include "models/wavenet_kernels.h"

/* ---- counting allocations (not under ASan, which owns malloc) ---- */
/* ASan and TSan bring their own allocators (TSan crashes at start-up
 * under a second malloc): the interposer is for plain builds */
#if !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
#define COUNT_ALLOCS 1
extern void *__libc_malloc(size_t n);
extern void *__libc_calloc(size_t n, size_t m);
extern void *__libc_realloc(void *p, size_t n);
extern void *__libc_memalign(size_t a, size_t n);
extern void __libc_free(void *p);
static long n_allocs;
void *malloc(size_t n) {
    n_allocs++;
    return __libc_malloc(n);
}
void *calloc(size_t n, size_t m) {
    n_allocs++;
    return __libc_calloc(n, m);
}
void *realloc(void *p, size_t n) {
    n_allocs++;
    return __libc_realloc(p, n);
}
void *aligned_alloc(size_t a, size_t n) {
    n_allocs++;
    return __libc_memalign(a, n);
}
void *memalign(size_t a, size_t n) {
    n_allocs++;
    return __libc_memalign(a, n);
}
int posix_memalign(void **out, size_t a, size_t n) {
    n_allocs++;
    *out = __libc_memalign(a, n);
    return *out ? 0 : 12; /* ENOMEM */
}
void free(void *p) {
    __libc_free(p);
}
#endif

typedef struct test_cfg {
    const char *what;
    int R, G, S, H, stacks, layers, K;
    int dil[8]; /* one stack's dilations; {0} = default 1, 2, 4, ... */
    int pitch, velocity, instruments, n_mels, hop;
    int voices;
    int extra_steps; /* beyond the receptive field */
} test_cfg;

static gw_wavenet *make_model(const test_cfg *t, uint64_t seed) {
    gw_wavenet_config c;
    memset(&c, 0, sizeof c);
    snprintf(c.name, sizeof c.name, "%s", t->what);
    c.sample_rate = 16000, c.classes = 256;
    c.residual = t->R, c.gate = t->G, c.skip = t->S, c.head = t->H;
    c.stacks = t->stacks, c.layers_per_stack = t->layers, c.kernel = t->K;
    for (int l = 0; l < t->stacks * t->layers; l++)
        c.dilations[l] = t->dil[0] ? t->dil[l % t->layers] : 1 << (l % t->layers);
    c.pitch_features = t->pitch, c.velocity = t->velocity, c.instruments = t->instruments;
    c.n_mels = t->n_mels, c.hop = t->hop ? t->hop : 1;
    gw_error err = {0};
    gw_wavenet *m = NULL;
    gw_status st = gw_wavenet_create(&m, &c, &err);
    if (st) fprintf(stderr, "%s\n", err.msg);
    assert_int_equal(st, GW_OK);
    gw_rng rng;
    gw_rng_seed(&rng, seed);
    gw_wavenet_weights_init(&m->w, &m->cfg, &rng);
    return m;
}

/* mel frame f of voice v: smooth, distinct per voice */
static void mel_frame(float *mel, int n_mels, int v, int f) {
    for (int i = 0; i < n_mels; i++) mel[i] = sinf(0.7f * (float)f + 1.3f * (float)i + (float)v);
}

/* Runs the stream for RF + extra steps on `voices` voices, each with its own
 * conditioning and mel frames, sampling (or teacher-forced from random
 * classes when teacher != 0), and compares every step's logits with the
 * reference forward over the same inputs. Returns the worst difference. */
/* rounds the per-sample weights as a GW_WAVENET_WEIGHTS_F16 or _BF16 stream
 * stores them, so that the reference computes that stream's model */
static float round_as(gw_wavenet_weight_type type, float w) {
    return type == GW_WAVENET_WEIGHTS_BF16 ? gw_bf16_to_f32(gw_f32_to_bf16(w))
                                           : gw_wn_f16_to_f32(gw_wn_f32_to_f16(w));
}

static void round_weights(gw_wavenet *m, gw_wavenet_weight_type type) {
    const gw_wavenet_config *c = &m->cfg;
    size_t R = (size_t)c->residual, G = (size_t)c->gate, S = (size_t)c->skip, H = (size_t)c->head;
    struct {
        float *w;
        size_t n;
    } t[3 * GW_WAVENET_MAX_LAYERS + 2];
    int n = 0;
    for (int l = 0; l < c->n_layers; l++) {
        t[n].w = m->w.layer[l].dil_w, t[n++].n = 2 * G * (size_t)c->kernel * R;
        t[n].w = m->w.layer[l].res_w, t[n++].n = R * G;
        t[n].w = m->w.layer[l].skip_w, t[n++].n = S * G;
    }
    t[n].w = m->w.head1_w, t[n++].n = H * S;
    t[n].w = m->w.out_w, t[n++].n = GW_WAVENET_CLASSES * H;
    for (int i = 0; i < n; i++)
        for (size_t j = 0; j < t[i].n; j++) t[i].w[j] = round_as(type, t[i].w[j]);
}

static const char *type_name(gw_wavenet_weight_type type) {
    return gw_wavenet_weight_type_name(type);
}

static float stream_vs_reference_plan(const test_cfg *t, int teacher, uint64_t seed,
                                      const gw_wavenet_plan *plan) {
    const gw_wavenet_weight_type type = plan->type;
    gw_wavenet *m = make_model(t, seed);
    /* int8 rounds the inputs of each product too, which the reference cannot
     * replay: it is compared with the exact model, relative to its logits */
    const int i8 = type == GW_WAVENET_WEIGHTS_I8;
    gw_wavenet *exact = type != GW_WAVENET_WEIGHTS_F32 && !i8 ? make_model(t, seed) : NULL;
    if (exact) round_weights(m, type);
    const gw_wavenet_config *c = &m->cfg;
    const int Q = GW_WAVENET_CLASSES, B = t->voices;
    const int T = gw_wavenet_receptive_field(c) + t->extra_steps;
    gw_error err = {0};
    gw_wavenet_stream *s = NULL;
    /* the f16/bf16 stream is made from the unrounded model: it must round alike */
    assert_int_equal(gw_wavenet_stream_create_plan(&s, exact ? exact : m, B + 1, plan, &err),
                     GW_OK);
    float *logits = malloc(sizeof(float) * (size_t)T * B * Q);
    float *ref = malloc(sizeof(float) * (size_t)T * Q);
    uint8_t *inputs = malloc((size_t)B * T);
    float *cond = calloc((size_t)B * (c->cond_dim + 1), sizeof(float));
    float *mel = calloc((size_t)B * T * (c->n_mels + 1), sizeof(float));
    float u[16];
    uint8_t cls[16];
    assert_non_null(logits), assert_non_null(ref), assert_non_null(inputs);
    gw_rng rng;
    gw_rng_seed(&rng, seed + 1);
    for (int v = 0; v < B; v++) {
        if (c->cond_dim) {
            gw_wavenet_cond_features(c, cond + (size_t)v * c->cond_dim, 40.5f + 7.3f * v,
                                     0.3f + 0.2f * v, v % (t->instruments ? t->instruments : 1));
            gw_wavenet_stream_set_cond(s, v, cond + (size_t)v * c->cond_dim);
        }
        inputs[(size_t)v * T] = GW_WAVENET_SILENCE;
    }
    for (int step = 0; step < T; step++) {
        for (int v = 0; v < B; v++) {
            if (c->n_mels) {
                float *row = mel + ((size_t)v * T + step) * c->n_mels;
                mel_frame(row, c->n_mels, v, step / c->hop);
                if (step % c->hop == 0) gw_wavenet_stream_set_mel(s, v, row);
            }
            if (teacher && step > 0) {
                inputs[(size_t)v * T + step] = (uint8_t)gw_rng_below(&rng, Q);
                gw_wavenet_stream_set_input(s, v, inputs[(size_t)v * T + step]);
            }
            u[v] = gw_rng_uniform(&rng);
        }
        gw_wavenet_stream_step(s, logits + (size_t)step * B * Q, NULL, cls, B, 1.0f, u);
        for (int v = 0; v < B && step + 1 < T; v++)
            if (!teacher) inputs[(size_t)v * T + step + 1] = cls[v];
    }
    float worst = 0, ref_mag = 0;
    int distinct = 0, seen[256] = {0};
    for (int v = 0; v < B; v++) {
        assert_int_equal(gw_wavenet_forward_reference(m, ref, inputs + (size_t)v * T,
                                                      c->cond_dim ? cond + (size_t)v * c->cond_dim : NULL,
                                                      c->n_mels ? mel + (size_t)v * T * c->n_mels : NULL,
                                                      T, &err),
                         GW_OK);
        for (int step = 0; step < T; step++) {
            float d = gw_test_max_abs_diff(ref + (size_t)step * Q, logits + ((size_t)step * B + v) * Q, Q);
            if (!(d <= worst)) worst = d;
            for (int i = 0; i < Q; i++)
                ref_mag = fmaxf(ref_mag, fabsf(ref[(size_t)step * Q + i]));
            if (!seen[inputs[(size_t)v * T + step]]++) distinct++;
        }
    }
    if (i8) worst /= ref_mag;
    fprintf(stderr,
            "  %-34s %s %s voices %d steps %d (rf %d) distinct %3d: max |stream - ref| = %.3g%s\n",
            t->what, type_name(type), teacher ? "teacher" : "sampled", B, T,
            gw_wavenet_receptive_field(c), distinct, (double)worst,
            i8 ? " of the largest logit" : "");
    assert_true(distinct > 8); /* the check means little on a constant sequence */
    if (exact) { /* and the stream really computes with rounded weights */
        assert_int_equal(gw_wavenet_forward_reference(exact, ref, inputs + (size_t)(B - 1) * T,
                                                      c->cond_dim ? cond + (size_t)(B - 1) * c->cond_dim : NULL,
                                                      c->n_mels ? mel + (size_t)(B - 1) * T * c->n_mels : NULL,
                                                      T, &err),
                         GW_OK);
        float q = 0, mag = 0;
        for (int step = 0; step < T; step++) {
            float d = gw_test_max_abs_diff(ref + (size_t)step * Q, logits + ((size_t)step * B + B - 1) * Q, Q);
            if (d > q) q = d;
            for (int i = 0; i < Q; i++) mag = fmaxf(mag, fabsf(ref[(size_t)step * Q + i]));
        }
        fprintf(stderr, "  %-34s %s vs exact weights: max |logit diff| = %.3g (max |logit| %.3g)\n",
                t->what, type_name(type), (double)q, (double)mag);
        /* rounding to f16 (11-bit significand) / bf16 (8 bits) moves the
         * logits, but by no more than these fractions of their range */
        assert_true(q > 1e-6f && q < 1e-2f * mag);
    }
    free(logits), free(ref), free(inputs), free(cond), free(mel);
    gw_wavenet_stream_free(s);
    gw_wavenet_free(m);
    gw_wavenet_free(exact);
    return worst;
}

static float stream_vs_reference_typed(const test_cfg *t, int teacher, uint64_t seed,
                                       gw_wavenet_weight_type type) {
    const gw_wavenet_plan plan = {.type = type, .isa = "", .prefetch = -1};
    return stream_vs_reference_plan(t, teacher, seed, &plan);
}

static float stream_vs_reference(const test_cfg *t, int teacher, uint64_t seed) {
    return stream_vs_reference_typed(t, teacher, seed, GW_WAVENET_WEIGHTS_F32);
}

static const test_cfg configs[] = {
    {"plain k2, 2 stacks", 16, 16, 32, 32, 2, 4, 2, {0}, 0, 0, 0, 0, 0, 1, 40},
    {"odd sizes k3 dil 1,3,2,5 + cond", 12, 10, 20, 24, 1, 4, 3, {1, 3, 2, 5}, 5, 1, 3, 0, 0, 3, 30},
    {"local mel + cond, 2 voices", 16, 16, 48, 40, 2, 3, 2, {0}, 2, 1, 0, 6, 7, 2, 30},
    {"k1 (no rings), 4 voices", 8, 8, 16, 16, 1, 3, 1, {0}, 0, 0, 0, 0, 0, 4, 60},
    {"k4, 9 voices, large rows", 20, 72, 144, 136, 1, 3, 4, {1, 2, 3}, 3, 0, 0, 0, 0, 9, 10},
};

static void test_stream_equals_reference(void **state) {
    for (size_t i = 0; i < sizeof configs / sizeof configs[0]; i++) {
        assert_true(stream_vs_reference(&configs[i], 0, 100 + i) < 1e-4f);
        assert_true(stream_vs_reference(&configs[i], 1, 200 + i) < 1e-4f);
        assert_true(stream_vs_reference_typed(&configs[i], 0, 400 + i, GW_WAVENET_WEIGHTS_F16) < 1e-4f);
        assert_true(stream_vs_reference_typed(&configs[i], 1, 500 + i, GW_WAVENET_WEIGHTS_BF16) < 1e-4f);
    }
}

/* the real wavenet-small shape, one voice, every ring wrapping */
static void test_small_preset_shape(void **state) {
    test_cfg t = {"wavenet-small shape", 32, 32, 128, 128, 2, 10, 2, {0}, 0, 0, 0, 0, 0, 1, 30};
    assert_true(stream_vs_reference(&t, 0, 7) < 1e-4f);
    assert_true(stream_vs_reference_typed(&t, 0, 8, GW_WAVENET_WEIGHTS_F16) < 1e-4f);
    assert_true(stream_vs_reference_typed(&t, 0, 9, GW_WAVENET_WEIGHTS_BF16) < 1e-4f);
}

/* int8 weights and inputs (on vpdpbusd where the CPU has it, else the
 * scalar twin): every shape of the stream tests, teacher-forced and
 * sampled, the logits within 2% of the largest logit of the exact model's
 * (8-bit rounding of weights and inputs: 1/254 of each row's and each
 * input's range per factor); and the twin's stream gives the SIMD one's
 * logits where both run */
static void test_stream_i8(void **state) {
    const gw_wavenet_plan best = {.type = GW_WAVENET_WEIGHTS_I8, .isa = "", .prefetch = -1};
    const gw_wavenet_plan twin = {.type = GW_WAVENET_WEIGHTS_I8, .isa = "scalar", .prefetch = -1};
    test_cfg small = {"wavenet-small shape", 32, 32, 128, 128, 2, 10, 2, {0}, 0, 0, 0, 0, 0, 1, 30};
    for (size_t i = 0; i <= sizeof configs / sizeof configs[0]; i++) {
        const test_cfg *t = i < sizeof configs / sizeof configs[0] ? &configs[i] : &small;
        assert_true(stream_vs_reference_plan(t, 1, 600 + i, &best) < 2e-2f);
        assert_true(stream_vs_reference_plan(t, 0, 700 + i, &best) < 2e-2f);
        assert_true(stream_vs_reference_plan(t, 1, 600 + i, &twin) < 2e-2f);
    }
    /* the byte-product stream and the twin's, teacher-forced on the same
     * inputs: the same bytes and integer sums, so the same logits up to the
     * finish's float rounding (the twin runs inside the "avx512" set, whose
     * gates are the vnni set's: only the products differ) */
    gw_wavenet_plan carrier = twin;
    if (gw_wn_kernels_avx512()) snprintf(carrier.isa, sizeof carrier.isa, "avx512");
    const test_cfg *k4 = &configs[4]; /* 9 voices: two register blocks */
    gw_wavenet *m = make_model(k4, 3);
    gw_wavenet_stream *a = NULL, *b = NULL;
    gw_error err = {0};
    assert_int_equal(gw_wavenet_stream_create_plan(&a, m, k4->voices, &best, &err), GW_OK);
    assert_int_equal(gw_wavenet_stream_create_plan(&b, m, k4->voices, &carrier, &err), GW_OK);
    const int Q = GW_WAVENET_CLASSES, B = k4->voices;
    float *la = malloc(sizeof(float) * B * Q), *lb = malloc(sizeof(float) * B * Q), u[16] = {0};
    gw_rng rng;
    gw_rng_seed(&rng, 17);
    float worst = 0, mag = 0;
    for (int step = 0; step < 200; step++) {
        for (int v = 0; v < B; v++) {
            const int c = (int)gw_rng_below(&rng, Q);
            gw_wavenet_stream_set_input(a, v, c);
            gw_wavenet_stream_set_input(b, v, c);
        }
        gw_wavenet_stream_step(a, la, NULL, NULL, B, 1.0f, u);
        gw_wavenet_stream_step(b, lb, NULL, NULL, B, 1.0f, u);
        const float d = gw_test_max_abs_diff(la, lb, (size_t)B * Q);
        worst = d > worst ? d : worst;
        for (int i = 0; i < B * Q; i++)
            mag = fmaxf(mag, fabsf(la[i]));
    }
    fprintf(stderr, "  i8 %s vs the twin in %s: max |logit diff| %.3g (largest logit %.3g)\n",
            gw_wavenet_stream_isa(a), gw_wavenet_stream_isa(b), (double)worst, (double)mag);
    assert_true(mag > 0 && worst <= 1e-4f * mag);
    free(la), free(lb);
    gw_wavenet_stream_free(a), gw_wavenet_stream_free(b);
    gw_wavenet_free(m);
}

/* reading a ring one slot off must be caught: compare against a model whose
 * dilations differ by one in a single layer */
static void test_check_is_sensitive(void **state) {
    test_cfg t = configs[0];
    gw_wavenet *a = make_model(&t, 5);
    gw_wavenet *b = make_model(&t, 5);
    b->cfg.dilations[3] += 1;
    const int T = 64, Q = GW_WAVENET_CLASSES;
    uint8_t in[64];
    for (int i = 0; i < T; i++) in[i] = (uint8_t)(i * 37 % 256);
    float *la = malloc(sizeof(float) * T * Q), *lb = malloc(sizeof(float) * T * Q);
    assert_int_equal(gw_wavenet_forward_reference(a, la, in, NULL, NULL, T, NULL), GW_OK);
    assert_int_equal(gw_wavenet_forward_reference(b, lb, in, NULL, NULL, T, NULL), GW_OK);
    assert_true(gw_test_max_abs_diff(la, lb, (size_t)T * Q) > 1e-2f);
    free(la), free(lb);
    gw_wavenet_free(a), gw_wavenet_free(b);
}

/* reset must give the logits of a fresh stream (whatever the ring position);
 * swapping voices must carry their whole state */
static void test_reset_and_swap(void **state) {
    test_cfg t = configs[1];
    gw_wavenet *m = make_model(&t, 11);
    gw_wavenet_stream *s = NULL, *f = NULL, *g = NULL;
    assert_int_equal(gw_wavenet_stream_create(&s, m, 2, NULL), GW_OK);
    assert_int_equal(gw_wavenet_stream_create(&f, m, 2, NULL), GW_OK);
    assert_int_equal(gw_wavenet_stream_create(&g, m, 1, NULL), GW_OK);
    const int Q = GW_WAVENET_CLASSES;
    float la[2 * 256], lb[2 * 256], lg[256], u[2] = {0.3f, 0.6f}, c[16];
    gw_wavenet_cond_features(&m->cfg, c, 61.0f, 0.8f, 1);
    gw_wavenet_stream_set_cond(s, 0, c);
    gw_wavenet_stream_set_cond(f, 0, c);
    gw_wavenet_stream_set_cond(s, 1, c);
    gw_wavenet_stream_set_cond(f, 1, c);
    for (int i = 0; i < 50; i++) {
        gw_wavenet_stream_step(s, NULL, NULL, NULL, 2, 1.0f, u);
        gw_wavenet_stream_step(f, NULL, NULL, NULL, 2, 1.0f, u);
    }
    gw_wavenet_stream_reset(s, 0);
    gw_wavenet_stream_reset(f, 0);
    for (int i = 0; i < 30; i++) {
        gw_wavenet_stream_step(s, la, NULL, NULL, 2, 1.0f, u);
        gw_wavenet_stream_step(f, lb, NULL, NULL, 2, 1.0f, u);
        gw_wavenet_stream_step(g, lg, NULL, NULL, 1, 1.0f, u);
        assert_true(gw_test_max_abs_diff(la, lg, Q) < 1e-5f); /* voice 0 fresh, cond cleared */
        assert_true(gw_test_max_abs_diff(la + Q, lg, Q) > 1e-3f); /* voice 1 is not */
    }
    gw_wavenet_stream_swap_voices(s, 0, 1);
    for (int i = 0; i < 30; i++) {
        gw_wavenet_stream_step(s, la, NULL, NULL, 2, 1.0f, (float[]){0.6f, 0.3f});
        gw_wavenet_stream_step(f, lb, NULL, NULL, 2, 1.0f, u);
        assert_true(gw_test_max_abs_diff(la, lb + Q, Q) == 0.0f);
        assert_true(gw_test_max_abs_diff(la + Q, lb, Q) == 0.0f);
    }
    gw_wavenet_stream_free(s), gw_wavenet_stream_free(f), gw_wavenet_stream_free(g);
    gw_wavenet_free(m);
}

/* a weight beyond half range is refused for f16 streams with a message
 * naming it, and accepted for f32 ones */
static void test_f16_range_refused(void **state) {
    gw_wavenet *m = make_model(&configs[0], 9);
    m->w.layer[2].res_w[5] = 1e6f;
    gw_wavenet_stream *s = NULL;
    gw_error err = {0};
    assert_int_equal(gw_wavenet_stream_create_typed(&s, m, 1, GW_WAVENET_WEIGHTS_F16, &err),
                     GW_ERR_UNSUPPORTED);
    assert_null(s);
    assert_non_null(strstr(err.msg, "res weight"));
    assert_non_null(strstr(err.msg, "layer 2"));
    assert_int_equal(gw_wavenet_stream_create_typed(&s, m, 1, GW_WAVENET_WEIGHTS_F32, &err), GW_OK);
    assert_int_equal(gw_wavenet_stream_weight_type(s), GW_WAVENET_WEIGHTS_F32);
    gw_wavenet_stream_free(s);
    assert_int_equal(gw_wavenet_stream_create(&s, m, 0, &err), GW_ERR_ARG);
    assert_non_null(strstr(err.msg, "max_voices"));
    gw_wavenet_free(m);
}

static void test_step_allocates_nothing(void **state) {
#ifdef COUNT_ALLOCS
    test_cfg t = configs[2];
    gw_wavenet *m = make_model(&t, 3);
    gw_wavenet_stream *s = NULL;
    assert_int_equal(gw_wavenet_stream_create(&s, m, 4, NULL), GW_OK);
    float audio[4 * 100], mel[6] = {0.1f, 0.2f, 0.3f, 0.4f, 0.5f, 0.6f}, c[3] = {0.2f, 0.5f, 0.1f};
    gw_rng rng;
    gw_rng_seed(&rng, 1);
    long before = n_allocs;
    gw_wavenet_stream_set_cond(s, 0, c);
    gw_wavenet_stream_set_mel(s, 1, mel);
    gw_wavenet_stream_generate(s, audio, 4, 100, 0.9f, &rng);
    gw_wavenet_stream_reset(s, 2);
    gw_wavenet_stream_swap_voices(s, 0, 3);
    assert_int_equal(n_allocs - before, 0);
    for (int i = 0; i < 400; i++) assert_true(audio[i] >= -1.0f && audio[i] <= 1.0f);
    gw_wavenet_stream_free(s);
    gw_wavenet_free(m);
#else
    skip();
#endif
}

/* ---- kernels: SIMD vs scalar ---- */

static void fill(float *x, size_t n, gw_rng *r, float scale) {
    for (size_t i = 0; i < n; i++) x[i] = scale * (2.0f * gw_rng_uniform(r) - 1.0f);
}

static void check_matvec(const gw_wn_kernels *k, gw_rng *r) {
    const int Ms[] = {16, 48, 128, 144, 272}, Ns[] = {1, 7, 64, 130}, Bs[] = {1, 2, 3, 5, 8, 9};
    for (size_t mi = 0; mi < 5; mi++)
        for (size_t ni = 0; ni < 4; ni++)
            for (size_t bi = 0; bi < 6; bi++) {
                int M = Ms[mi], N = Ns[ni], B = Bs[bi], Mp = gw_wn_pad16(M);
                int xs = N + 3, ys = Mp + 16, bs = (bi & 1) ? 0 : Mp;
                float *W = malloc(sizeof(float) * M * N), *P = malloc(sizeof(float) * Mp * N);
                float *x = malloc(sizeof(float) * B * xs), *bias = malloc(sizeof(float) * B * Mp);
                float *add = malloc(sizeof(float) * B * Mp);
                float *y0 = calloc((size_t)B * ys, sizeof(float)), *y1 = calloc((size_t)B * ys, sizeof(float));
                float *y2 = calloc((size_t)B * ys, sizeof(float));
                fill(W, (size_t)M * N, r, 1.0f), fill(x, (size_t)B * xs, r, 1.0f);
                fill(bias, (size_t)B * Mp, r, 1.0f), fill(add, (size_t)B * Mp, r, 1.0f);
                gw_wn_pack(P, W, M, N);
                int relu = (int)(mi + ni) & 1;
                const float *ad = bi % 3 ? add : NULL;
                gw_wn_kernels_scalar.matvec(y0, ys, P, x, xs, bias, bs, ad, Mp, Mp, N, B, relu);
                k->matvec(y1, ys, P, x, xs, bias, bs, ad, Mp, Mp, N, B, relu);
                /* the prefetching twin (a planner candidate) computes the same bits */
                k->matvec_pf(y2, ys, P, x, xs, bias, bs, ad, Mp, Mp, N, B, relu);
                assert_memory_equal(y1, y2, sizeof(float) * (size_t)B * ys);
                float d = gw_test_max_abs_diff(y0, y1, (size_t)B * ys);
                uint16_t *H = malloc(sizeof(uint16_t) * Mp * N);
                gw_wn_pack_f16(H, W, M, N);
                gw_wn_kernels_scalar.matvec_f16(y0 + 0, ys, H, x, xs, bias, bs, ad, Mp, Mp, N, B, relu);
                k->matvec_f16(y1, ys, H, x, xs, bias, bs, ad, Mp, Mp, N, B, relu);
                k->matvec_f16_pf(y2, ys, H, x, xs, bias, bs, ad, Mp, Mp, N, B, relu);
                assert_memory_equal(y1, y2, sizeof(float) * (size_t)B * ys);
                float dh = gw_test_max_abs_diff(y0, y1, (size_t)B * ys);
                if (dh > d) d = dh;
                free(H);
                uint16_t *Hb = malloc(sizeof(uint16_t) * gw_wn_packed_size_bf16(M, N));
                gw_wn_pack_bf16(Hb, W, M, N);
                /* a set that rounds x to bf16 too (vdpbf16ps) has a twin that does */
                if (k->bf16_inputs)
                    gw_wn_matvec_bf16dp_ref(y0, ys, Hb, x, xs, bias, bs, ad, Mp, Mp, N, B, relu);
                else
                    gw_wn_kernels_scalar.matvec_bf16(y0, ys, Hb, x, xs, bias, bs, ad, Mp, Mp, N, B,
                                                     relu);
                k->matvec_bf16(y1, ys, Hb, x, xs, bias, bs, ad, Mp, Mp, N, B, relu);
                k->matvec_bf16_pf(y2, ys, Hb, x, xs, bias, bs, ad, Mp, Mp, N, B, relu);
                assert_memory_equal(y1, y2, sizeof(float) * (size_t)B * ys);
                dh = gw_test_max_abs_diff(y0, y1, (size_t)B * ys);
                if (dh > d) d = dh;
                /* the bf16 scalar kernel (or twin) against the rounded, unpacked matrix
                 * (and rounded inputs) */
                if (k->bf16_inputs)
                    gw_wn_matvec_bf16dp_ref(y0, ys, Hb, x, xs, bias, bs, ad, Mp, Mp, N, B, relu);
                else
                    gw_wn_kernels_scalar.matvec_bf16(y0, ys, Hb, x, xs, bias, bs, ad, Mp, Mp, N, B,
                                                     relu);
                for (int v = 0; v < B; v++)
                    for (int o = 0; o < M; o++) {
                        double s = bias[(size_t)v * bs + o] + (ad ? ad[(size_t)v * Mp + o] : 0.0);
                        for (int i = 0; i < N; i++)
                            s += (double)round_as(GW_WAVENET_WEIGHTS_BF16, W[(size_t)o * N + i]) *
                                 (k->bf16_inputs
                                      ? round_as(GW_WAVENET_WEIGHTS_BF16, x[(size_t)v * xs + i])
                                      : x[(size_t)v * xs + i]);
                        if (relu && s < 0) s = 0;
                        assert_true(fabs(s - y0[(size_t)v * ys + o]) < 1e-4);
                    }
                free(Hb);
                gw_wn_kernels_scalar.matvec(y0, ys, P, x, xs, bias, bs, ad, Mp, Mp, N, B, relu);
                if (d > 1e-5f * sqrtf((float)N) + 1e-6f)
                    fprintf(stderr, "%s matvec M %d N %d B %d: diff %g\n", k->name, M, N, B, (double)d);
                assert_true(d <= 1e-5f * sqrtf((float)N) + 1e-6f);
                /* the scalar kernel itself against the unpacked matrix */
                for (int v = 0; v < B; v++)
                    for (int o = 0; o < M; o++) {
                        double s = bias[(size_t)v * bs + o] + (ad ? ad[(size_t)v * Mp + o] : 0.0);
                        for (int i = 0; i < N; i++) s += (double)W[(size_t)o * N + i] * x[(size_t)v * xs + i];
                        if (relu && s < 0) s = 0;
                        assert_true(fabs(s - y0[(size_t)v * ys + o]) < 1e-4);
                    }
                free(W), free(P), free(x), free(bias), free(add), free(y0), free(y1), free(y2);
            }
}

static void check_gate_and_softmax(const gw_wn_kernels *k, gw_rng *r) {
    enum { G = 48, B = 3 };
    float h[B * 2 * G], z0[B * G], z1[B * G];
    double worst_libm = 0;
    for (int rep = 0; rep < 200; rep++) {
        fill(h, B * 2 * G, r, rep < 100 ? 4.0f : 30.0f);
        if (rep == 0) h[0] = 0.0f, h[1] = 1e-6f, h[2] = -100.0f, h[3] = 100.0f, h[G] = -100.0f, h[G + 1] = 100.0f;
        gw_wn_kernels_scalar.gate(z0, G, h, 2 * G, G, B);
        k->gate(z1, G, h, 2 * G, G, B);
        for (int v = 0; v < B; v++)
            for (int i = 0; i < G; i++) {
                double a = h[v * 2 * G + i], b = h[v * 2 * G + G + i];
                double exact = tanh(a) / (1.0 + exp(-b));
                double e = fabs(z1[v * G + i] - exact);
                if (e > worst_libm) worst_libm = e;
                assert_true(fabs(z0[v * G + i] - exact) < 1e-6);
            }
    }
    fprintf(stderr, "  %s gate: max |z - exact| = %.3g\n", k->name, worst_libm);
    assert_true(worst_libm < 1e-6);
    float logits[256], p0[256], p1[256];
    double worst_p = 0;
    for (int rep = 0; rep < 50; rep++) {
        fill(logits, 256, r, rep < 25 ? 5.0f : 60.0f);
        float it = rep % 2 ? 1.0f : 1.0f / 0.7f;
        float s0 = gw_wn_kernels_scalar.softmax_exp(p0, logits, 256, it);
        float s1 = k->softmax_exp(p1, logits, 256, it);
        assert_true(fabsf(s0 - s1) <= 2e-6f * s0);
        for (int i = 0; i < 256; i++) {
            double e = fabs((double)p0[i] - p1[i]) / s0;
            if (e > worst_p) worst_p = e;
        }
    }
    fprintf(stderr, "  %s softmax: max |p - p_scalar| / sum = %.3g\n", k->name, worst_p);
    assert_true(worst_p < 1e-6);
}

__attribute__((target("f16c"))) static float hw_f16_to_f32(uint16_t h) {
    return _cvtsh_ss(h);
}
__attribute__((target("f16c"))) static uint16_t hw_f32_to_f16(float f) {
    return (uint16_t)_cvtss_sh(f, 0); /* round to nearest even */
}

/* software half conversions against the CPU's: every one of the 65,536
 * halves, and floats around every half boundary (ties included) */
static void test_half_conversions(void **state) {
    __builtin_cpu_init();
    if (!__builtin_cpu_supports("f16c")) skip();
    for (uint32_t h = 0; h < 65536; h++) {
        float a = gw_wn_f16_to_f32((uint16_t)h), b = hw_f16_to_f32((uint16_t)h);
        uint32_t ua, ub;
        memcpy(&ua, &a, 4), memcpy(&ub, &b, 4);
        if (isnan(a)) assert_true(isnan(b));
        else assert_int_equal(ua, ub);
        if (isnan(a)) continue;
        /* the float itself, its neighbours, and midpoints to the next half */
        float next = gw_wn_f16_to_f32((uint16_t)(h + 1));
        float probes[5] = {a, nextafterf(a, INFINITY), nextafterf(a, -INFINITY), 0, 0};
        int np = 3;
        if (!isnan(next) && (h & 0x7fff) < 0x7bff) {
            float mid = 0.5f * (a + next);
            probes[np++] = mid, probes[np++] = nextafterf(mid, INFINITY);
        }
        for (int i = 0; i < np; i++)
            if (gw_wn_f32_to_f16(probes[i]) != hw_f32_to_f16(probes[i])) {
                fprintf(stderr, "f32 %a -> f16: software %04x, hardware %04x\n", (double)probes[i],
                        gw_wn_f32_to_f16(probes[i]), hw_f32_to_f16(probes[i]));
                fail();
            }
    }
    const float special[] = {65504.0f, 65519.99f, 65520.0f, 1e10f, -1e10f, 1e-10f, 2.9802322e-8f, 2.98e-8f, INFINITY};
    for (size_t i = 0; i < sizeof special / sizeof special[0]; i++)
        assert_int_equal(gw_wn_f32_to_f16(special[i]), hw_f32_to_f16(special[i]));
}

/* bfloat16: widening every one of the 65,536 values is exact (the top half
 * of a float), and narrowing rounds to the nearest bf16, ties to even, for
 * each bf16's neighbourhood and midpoints (checked in double), NaN stays NaN */
static void test_bf16_conversions(void **state) {
    for (uint32_t h = 0; h < 65536; h++) {
        float a = gw_bf16_to_f32((uint16_t)h);
        uint32_t ua;
        memcpy(&ua, &a, 4);
        assert_int_equal(ua, h << 16);
        if (isnan(a)) {
            assert_true(isnan(gw_bf16_to_f32(gw_f32_to_bf16(a))));
            continue;
        }
        assert_int_equal(gw_f32_to_bf16(a), h);
        if ((h & 0x7fff) >= 0x7f80) continue; /* inf: no next value */
        float next = gw_bf16_to_f32((uint16_t)(h + 1)); /* next in magnitude */
        if (isinf(next)) continue;
        double mid = 0.5 * ((double)a + next);
        float probes[4] = {nextafterf(a, next), (float)mid, nextafterf((float)mid, a),
                           nextafterf((float)mid, next)};
        for (int i = 0; i < 4; i++) {
            double da = fabs((double)probes[i] - a), dn = fabs((double)probes[i] - next);
            uint16_t want = da < dn ? (uint16_t)h : dn < da ? (uint16_t)(h + 1)
                                                         : (uint16_t)((h & 1) ? h + 1 : h);
            if (gw_f32_to_bf16(probes[i]) != want) {
                fprintf(stderr, "f32 %a -> bf16: %04x, want %04x\n", (double)probes[i],
                        gw_f32_to_bf16(probes[i]), want);
                fail();
            }
        }
    }
    assert_int_equal(gw_f32_to_bf16(3.4e38f), 0x7f80); /* past the largest bf16: inf */
    assert_int_equal(gw_f32_to_bf16(-INFINITY), 0xff80);
}

/* the int8 products (wavenet_kernels.h): the packer's bytes, scales and
 * offsets; the kernel against its naive twin (the same bytes and integer
 * sums: equal up to the float steps of the finish, ~1 ulp), the prefetching
 * variant bit for bit, long rows over several chunks of 2048; the twin
 * against the exact float product within the rounding's bound; NaN and
 * zero inputs */
static void check_i8(const gw_wn_kernels *k, gw_rng *r) {
    const int Ms[] = {16, 48, 144, 272}, Ns[] = {1, 7, 64, 130, 2047, 2049, 4100};
    const int Bs[] = {1, 3, 8, 9};
    for (size_t mi = 0; mi < 4; mi++)
        for (size_t ni = 0; ni < 7; ni++)
            for (size_t bi = 0; bi < 4; bi++) {
                const int M = Ms[mi], N = Ns[ni], B = Bs[bi], Mp = gw_wn_pad16(M),
                          N4 = (N + 3) & ~3;
                if (N > 200 && (mi > 1 || bi == 2)) continue; /* long rows: a few shapes */
                const int xs = N + 5, ys = Mp + 16, bs = (bi & 1) ? 0 : Mp,
                          relu = (int)(mi + ni) & 1;
                float *W = malloc(sizeof(float) * M * N), *x = malloc(sizeof(float) * B * xs);
                float *bias = malloc(sizeof(float) * B * Mp), *add = malloc(sizeof(float) * B * Mp);
                float *y0 = calloc((size_t)B * ys, sizeof(float)),
                      *y1 = calloc((size_t)B * ys, sizeof(float));
                float *y2 = calloc((size_t)B * ys, sizeof(float));
                int8_t *P = malloc(gw_wn_packed_bytes_i8(M, N));
                fill(W, (size_t)M * N, r, 1.0f), fill(x, (size_t)B * xs, r, bi == 3 ? 30.0f : 1.0f);
                fill(bias, (size_t)B * Mp, r, 1.0f), fill(add, (size_t)B * Mp, r, 1.0f);
                for (int o = 0; o < M; o++)
                    W[(size_t)o * N + (o % N)] *= 3.0f; /* uneven rows */
                gw_wn_pack_i8(P, W, M, N);
                const float *scale = (const float *)(const void *)(P + (size_t)Mp * N4);
                const int32_t *comp = (const int32_t *)(const void *)(scale + Mp);
                const float *ad = bi % 3 ? add : NULL, *bv = mi == 2 ? NULL : bias;
                k->matvec_i8(y1, ys, P, x, xs, bv, bs, ad, Mp, Mp, N, B, relu);
                k->matvec_i8_pf(y2, ys, P, x, xs, bv, bs, ad, Mp, Mp, N, B, relu);
                assert_memory_equal(y1, y2, sizeof(float) * (size_t)B * ys);
                gw_wn_kernels_scalar.matvec_i8(y0, ys, P, x, xs, bv, bs, ad, Mp, Mp, N, B, relu);
                for (int v = 0; v < B; v++) {
                    const float *xv = x + (size_t)v * xs;
                    float inv;
                    const float sx = gw_wn_i8_range(xv, N, &inv);
                    double xabs = 0;
                    for (int i = 0; i < N; i++)
                        xabs += fabs(xv[i]);
                    for (int o = 0; o < Mp; o++) {
                        const float a = y0[(size_t)v * ys + o], b = y1[(size_t)v * ys + o];
                        assert_true(fabsf(a - b) <= 1e-6f * (fabsf(a) + 1.0f));
                        if (o >= M) continue;
                        /* the packed row: bytes in [-127, 127], the largest at +-127, the
                         * offset; and the exact product of the bytes, x rounded here as
                         * the layout says */
                        long sum = 0;
                        int big = 0;
                        const double e0 = (bv ? bv[(size_t)v * bs + o] : 0.0) +
                                          (ad ? ad[(size_t)v * Mp + o] : 0.0);
                        double wabs = 0, s = e0, e = 0;
                        const int i0 = o / GW_WN_BLOCK * GW_WN_BLOCK;
                        const int bw = Mp - i0 < GW_WN_BLOCK ? Mp - i0 : GW_WN_BLOCK;
                        for (int i = 0; i < N; i++) {
                            const int q = P[(size_t)i0 * N4 + (size_t)(i / 4) * 4 * bw +
                                            4 * (size_t)(o - i0) + (i & 3)];
                            assert_true(q >= -127 && q <= 127);
                            big |= q == 127 || q == -127;
                            sum += q;
                            assert_true(fabsf(q * scale[o] - W[(size_t)o * N + i]) <=
                                        0.5001f * scale[o]);
                            wabs += fabs(W[(size_t)o * N + i]);
                            s += (double)W[(size_t)o * N + i] * xv[i];
                            const long xq = lrintf(xv[i] * inv);
                            e += (double)scale[o] * q * ((double)sx * (double)xq);
                        }
                        assert_true(big);
                        assert_int_equal(comp[o], 128 * sum);
                        /* the finish's float steps: a few ulps of its largest term */
                        const double tol =
                            2e-6 * (fabs(e) + (bv ? fabs(bv[(size_t)v * bs + o]) : 0.0) +
                                    (ad ? fabs(ad[(size_t)v * Mp + o]) : 0.0)) +
                            1e-30;
                        e += e0;
                        if (relu && e < 0) e = 0;
                        if (!(fabs(e - a) <= tol))
                            fprintf(stderr, "%s i8 exact M %d N %d B %d row %d: %g vs %g\n",
                                    k->name, M, N, B, o, a, e);
                        assert_true(fabs(e - a) <= tol);
                        if (relu && s < 0) s = 0;
                        /* |w x - w~ x~| <= |w| |dx| + |x| |dw| + |dw| |dx|, each d at most half a
                         * step */
                        const double bound = 0.5 * sx * wabs + 0.5 * scale[o] * xabs +
                                             0.25 * (double)N * scale[o] * sx +
                                             1e-5 * (fabs(s) + 1);
                        if (!(fabs(s - a) <= bound))
                            fprintf(stderr, "%s i8 M %d N %d B %d row %d: %g vs %g (bound %g)\n",
                                    k->name, M, N, B, o, a, s, bound);
                        assert_true(fabs(s - a) <= bound);
                    }
                }
                /* a NaN input makes its voice NaN, as in float; a zero input gives
                 * bias, and so does a denormal one (127 / max overflows: no bytes) */
                x[2 % N] = NAN;
                for (int i = 0; i < N; i++) {
                    x[(size_t)(B - 1) * xs + i] = B > 1 ? 0.0f : x[i];
                    if (B > 2) x[(size_t)(B - 2) * xs + i] = (i & 1 ? -1e-39f : 2e-39f);
                }
                k->matvec_i8(y1, ys, P, x, xs, bias, bs, NULL, Mp, Mp, N, B, 0);
                for (int o = 0; o < M; o++) {
                    assert_true(isnan(y1[o]));
                    if (B > 1)
                        assert_true(y1[(size_t)(B - 1) * ys + o] == bias[(size_t)(B - 1) * bs + o]);
                    if (B > 2)
                        assert_true(y1[(size_t)(B - 2) * ys + o] == bias[(size_t)(B - 2) * bs + o]);
                }
                free(W), free(x), free(bias), free(add), free(y0), free(y1), free(y2), free(P);
            }
}

/* the vdpbf16ps set's long products: x goes to bf16 in chunks of 1024, each
 * chunk's products adding onto the last's (kernels_matvec.inc, MV_DP) */
static void check_bf16dp_chunks(const gw_wn_kernels *k, gw_rng *r) {
    const int M = 48, Mp = gw_wn_pad16(M), Ns[] = {1023, 1024, 1025, 2100}, Bs[] = {1, 3, 9};
    for (size_t ni = 0; ni < 4; ni++)
        for (size_t bi = 0; bi < 3; bi++) {
            const int N = Ns[ni], B = Bs[bi], xs = N + 1, ys = Mp, relu = (int)bi & 1;
            float *W = malloc(sizeof(float) * M * N), *x = malloc(sizeof(float) * B * xs);
            float *bias = malloc(sizeof(float) * Mp), *add = malloc(sizeof(float) * B * Mp);
            float *y0 = malloc(sizeof(float) * B * ys), *y1 = malloc(sizeof(float) * B * ys);
            uint16_t *Hb = malloc(sizeof(uint16_t) * gw_wn_packed_size_bf16(M, N));
            fill(W, (size_t)M * N, r, 1.0f), fill(x, (size_t)B * xs, r, 1.0f);
            fill(bias, (size_t)Mp, r, 1.0f), fill(add, (size_t)B * Mp, r, 1.0f);
            for (int i = M; i < Mp; i++)
                bias[i] = 0.0f;
            gw_wn_pack_bf16(Hb, W, M, N);
            /* with and without bias and add: chunks after the first add onto y */
            const float *bi_ = bi == 1 ? NULL : bias, *ad_ = bi == 2 ? NULL : add;
            gw_wn_matvec_bf16dp_ref(y0, ys, Hb, x, xs, bi_, 0, ad_, Mp, Mp, N, B, relu);
            k->matvec_bf16(y1, ys, Hb, x, xs, bi_, 0, ad_, Mp, Mp, N, B, relu);
            const float d = gw_test_max_abs_diff(y0, y1, (size_t)B * ys);
            if (!(d <= 1e-5f * sqrtf((float)N) + 1e-6f))
                fprintf(stderr, "%s bf16 N %d B %d: diff %g\n", k->name, N, B, (double)d);
            assert_true(d <= 1e-5f * sqrtf((float)N) + 1e-6f);
            free(W), free(x), free(bias), free(add), free(y0), free(y1), free(Hb);
        }
}

static void test_simd_kernels_equal_scalar(void **state) {
    const gw_wn_kernels *ks[] = {gw_wn_kernels_avx2(), gw_wn_kernels_avx512(),
                                 gw_wn_kernels_avx512bf16(), gw_wn_kernels_avx512vnni()};
    gw_rng r;
    gw_rng_seed(&r, 99);
    int ran = 0;
    for (int i = 0; i < 4; i++) {
        if (!ks[i]) continue;
        ran++;
        check_matvec(ks[i], &r);
        check_gate_and_softmax(ks[i], &r);
        if (ks[i]->bf16_inputs) check_bf16dp_chunks(ks[i], &r);
        if (ks[i]->matvec_i8) check_i8(ks[i], &r);
    }
    check_gate_and_softmax(&gw_wn_kernels_scalar, &r);
    check_i8(&gw_wn_kernels_scalar, &r); /* the twin against the float product */
    fprintf(stderr, "  best kernels here: %s (%d SIMD sets tested)\n", gw_wn_kernels_best()->name, ran);
}

/* the best set at or below a cap; no cap (NULL, "", an unknown name): the
 * best. Nothing comes from the environment. */
static void test_kernels_capped(void **state) {
    const gw_wn_kernels *best = gw_wn_kernels_best();
    assert_ptr_equal(gw_wn_kernels_capped(NULL), best);
    assert_ptr_equal(gw_wn_kernels_capped(""), best);
    assert_ptr_equal(gw_wn_kernels_capped("avx512"), best);
    assert_ptr_equal(gw_wn_kernels_capped("scalar"), &gw_wn_kernels_scalar);
    assert_string_not_equal(gw_wn_kernels_capped("avx2")->name, "avx512");
    setenv("GW_WAVENET_ISA", "scalar", 1);
    assert_ptr_equal(gw_wn_kernels_best(), best);
    unsetenv("GW_WAVENET_ISA");
}

/* all three kernel sets drive the stream to the same logits: each given
 * through the plan, capped to what this CPU runs (as the programs do with
 * $GW_WAVENET_ISA) */
static void test_stream_isa_override(void **state) {
    const char *isas[] = {"scalar", "avx2", "avx512"};
    for (int i = 0; i < 3; i++) {
        gw_wavenet_plan plan = {.type = GW_WAVENET_WEIGHTS_F32, .prefetch = -1};
        snprintf(plan.isa, sizeof plan.isa, "%s", gw_wn_kernels_capped(isas[i])->name);
        assert_true(stream_vs_reference_plan(&configs[1], 0, 300, &plan) < 1e-4f);
    }
    /* bf16 products on vdpbf16ps round the inputs too: the same model within
     * that rounding (2^-9 relative per input) */
    if (gw_wn_kernels_avx512bf16()) {
        gw_wavenet_plan plan = {.type = GW_WAVENET_WEIGHTS_BF16, .isa = "avx512bf16"};
        const float d = stream_vs_reference_plan(&configs[1], 0, 300, &plan);
        fprintf(stderr, "  bf16 on vdpbf16ps: logits within %g of the reference\n", (double)d);
        assert_true(d < 1e-2f);
    }
}

/* a model of the pre-emphasised signal: the stream's samples are its
 * classes' mu-law values run through y[n] = s[n] + a y[n-1], per voice,
 * from zero at a reset; swapping voices swaps that state too */
static void test_stream_deemphasis(void **state) {
    test_cfg t = configs[0];
    gw_wavenet *m = make_model(&t, 21);
    m->cfg.preemphasis = 0.7f;
    gw_wavenet_stream *s = NULL;
    gw_error err = {0};
    assert_int_equal(gw_wavenet_stream_create(&s, m, 2, &err), GW_OK);
    float y[2], prev[2] = {0, 0}, u[2];
    uint8_t cls[2];
    gw_rng rng;
    gw_rng_seed(&rng, 4);
    for (int step = 0; step < 200; step++) {
        if (step == 120) { /* swap: each voice's filter goes with it */
            gw_wavenet_stream_swap_voices(s, 0, 1);
            float t0 = prev[0];
            prev[0] = prev[1], prev[1] = t0;
        }
        if (step == 150) gw_wavenet_stream_reset(s, 1), prev[1] = 0;
        u[0] = gw_rng_uniform(&rng), u[1] = gw_rng_uniform(&rng);
        gw_wavenet_stream_step(s, NULL, y, cls, 2, 1.0f, u);
        for (int v = 0; v < 2; v++) {
            prev[v] = gw_mulaw_decode(cls[v]) + 0.7f * prev[v];
            assert_true(fabsf(y[v] - prev[v]) < 1e-6f);
        }
    }
    gw_wavenet_stream_free(s);
    /* and a vocoder cannot have it */
    m->cfg.n_mels = 8, m->cfg.hop = 4;
    assert_int_equal(gw_wavenet_config_validate(&m->cfg, "v", &err), GW_ERR_UNSUPPORTED);
    assert_non_null(strstr(err.msg, "preemphasis does not go with a mel input"));
    gw_wavenet_free(m);
}

static void test_sampling(void **state) {
    float logits[256];
    for (int i = 0; i < 256; i++) logits[i] = -1e3f;
    logits[17] = 0.0f, logits[200] = 0.0f; /* two equally likely classes */
    assert_int_equal(gw_wavenet_sample(logits, 0.0f, 0.9f), 17); /* greedy: lowest on ties */
    assert_int_equal(gw_wavenet_sample(logits, 1.0f, 0.25f), 17);
    assert_int_equal(gw_wavenet_sample(logits, 1.0f, 0.75f), 200);
    assert_int_equal(gw_wavenet_sample(logits, 1.0f, 0.999999f), 200);
    /* frequencies follow softmax(l / T) */
    for (int i = 0; i < 256; i++) logits[i] = (i % 4) ? -50.0f : 0.1f * (float)(i / 4 % 3);
    gw_rng r;
    gw_rng_seed(&r, 4);
    const int n = 60000;
    int count[256] = {0};
    for (int i = 0; i < n; i++) count[gw_wavenet_sample(logits, 0.5f, gw_rng_uniform(&r))]++;
    double z = 0;
    for (int i = 0; i < 256; i++) z += exp(logits[i] / 0.5);
    for (int i = 0; i < 12; i += 4) {
        double p = exp(logits[i] / 0.5) / z;
        assert_true(fabs(count[i] / (double)n - p) < 5 * sqrt(p / n));
    }
}

static void test_helpers(void **state) {
    test_cfg t = {"helpers", 32, 32, 128, 128, 2, 10, 2, {0}, 0, 0, 0, 0, 0, 1, 0};
    gw_wavenet *m = make_model(&t, 1);
    assert_int_equal(gw_wavenet_receptive_field(&m->cfg), 2047);
    assert_int_equal(gw_wavenet_macs_per_sample(&m->cfg), 233472); /* the spec's count */
    /* tensors: embed + 6 per layer + 4 head */
    assert_int_equal(gw_params_count(m->params), 1 + 6 * 20 + 4);
    const gw_param *p = gw_params_find_const(m->params, "wavenet.layer07.dil.w");
    assert_non_null(p);
    assert_int_equal(p->shape[0], 64), assert_int_equal(p->shape[1], 2), assert_int_equal(p->shape[2], 32);
    assert_ptr_equal(m->w.layer[7].dil_w, p->data);
    assert_ptr_equal(m->g.layer[7].dil_w, p->grad);
    gw_wavenet_free(m);
    /* pitch features: continuous, in-between notes in between */
    gw_wavenet_config c = {0};
    c.pitch_features = 7, c.velocity = 1, c.instruments = 2;
    float a[10], b[10], mid[10];
    gw_wavenet_cond_features(&c, a, 60.0f, 0.5f, 1);
    gw_wavenet_cond_features(&c, b, 61.0f, 0.5f, 1);
    gw_wavenet_cond_features(&c, mid, 60.5f, 0.5f, 1);
    assert_true(fabsf(a[0]) < 1e-7f);
    assert_true(fabsf(a[7] - 0.5f) < 1e-7f && a[8] == 0.0f && a[9] == 1.0f);
    /* chord error of a sinusoid of period 12 semitones over one semitone:
     * 1 - cos(pi / 12) = 0.034 */
    for (int i = 0; i < 7; i++) assert_true(fabsf(mid[i] - 0.5f * (a[i] + b[i])) < 0.035f);
}

/* ---- presets and config errors ---- */

static void expect_error(const char *json, const char *needle) {
    gw_wavenet_config c;
    gw_error err = {0};
    assert_int_not_equal(gw_wavenet_config_parse(&c, json, "p.json", &err), GW_OK);
    if (!strstr(err.msg, needle)) fprintf(stderr, "message '%s' lacks '%s'\n", err.msg, needle);
    assert_non_null(strstr(err.msg, needle));
    assert_non_null(strstr(err.msg, "p.json"));
}

static void test_presets_and_config_errors(void **state) {
    const char *src = getenv("GW_SOURCE_DIR");
    char path[4096];
    gw_wavenet_config c, back;
    gw_error err = {0};
    snprintf(path, sizeof path, "%s/presets/wavenet-small.json", src ? src : ".");
    assert_int_equal(gw_wavenet_config_load(&c, path, &err), GW_OK);
    assert_int_equal(c.n_layers, 20), assert_int_equal(c.dilations[19], 512);
    assert_int_equal(gw_wavenet_receptive_field(&c), 2047);
    assert_int_equal(gw_wavenet_macs_per_sample(&c), 233472);
    char *json = gw_wavenet_config_to_json(&c);
    assert_non_null(json);
    assert_int_equal(gw_wavenet_config_parse(&back, json, "round trip", &err), GW_OK);
    assert_memory_equal(&c, &back, sizeof c);
    free(json);
    snprintf(path, sizeof path, "%s/presets/wavenet-medium.json", src ? src : ".");
    assert_int_equal(gw_wavenet_config_load(&c, path, &err), GW_OK);
    assert_int_equal(gw_wavenet_receptive_field(&c), 3070);
    assert_int_equal(gw_wavenet_macs_per_sample(&c), 1236992);
    /* the pre-emphasis option: read, written back, refused out of range or
     * with a mel input; a model without it has no "output" key */
    snprintf(path, sizeof path, "%s/presets/wavenet-default-preemph.json", src ? src : ".");
    assert_int_equal(gw_wavenet_config_load(&c, path, &err), GW_OK);
    assert_true(fabsf(c.preemphasis - 0.85f) < 1e-7f);
    json = gw_wavenet_config_to_json(&c);
    assert_int_equal(gw_wavenet_config_parse(&back, json, "round trip", &err), GW_OK);
    assert_memory_equal(&c, &back, sizeof c);
    free(json);
    c.preemphasis = 0;
    json = gw_wavenet_config_to_json(&c);
    assert_null(strstr(json, "output"));
    free(json);
    assert_int_not_equal(gw_wavenet_config_load(&c, "/nonexistent/w.json", &err), GW_OK);
    assert_non_null(strstr(err.msg, "/nonexistent/w.json"));
    /* D3 of the hostile-input issue: 32 layers a stack and no dilations
     * shifted 1 by 31 (undefined); now a one-line error */
    const char *d3 = "{\"sample_rate\": 16000, \"residual_channels\": 8, \"gate_channels\": 8, "
                     "\"skip_channels\": 8, \"head_channels\": 8, \"stacks\": 1, "
                     "\"layers_per_stack\": 32}";
    assert_int_equal(gw_wavenet_config_parse(&c, d3, "d3.json", &err), GW_ERR_FORMAT);
    assert_non_null(strstr(err.msg, "d3.json: layers_per_stack = 32 without 'dilations'"));

    const char *base = "\"sample_rate\": 16000, \"residual_channels\": 8, \"gate_channels\": 8, "
                       "\"skip_channels\": 8, \"head_channels\": 8, \"stacks\": 2, \"layers_per_stack\": 3";
    char buf[1024];
    snprintf(buf, sizeof buf, "{%s}", base);
    assert_int_equal(gw_wavenet_config_parse(&c, buf, "p.json", &err), GW_OK);
    assert_int_equal(c.dilations[3], 1), assert_int_equal(c.dilations[5], 4);
    snprintf(buf, sizeof buf, "{%s, \"dilations\": [1, 3, 9], \"conditioning\": {\"pitch_features\": 5, "
             "\"velocity\": true, \"instruments\": 4}, \"local_conditioning\": {\"n_mels\": 80}}", base);
    assert_int_equal(gw_wavenet_config_parse(&c, buf, "p.json", &err), GW_OK);
    assert_int_equal(c.dilations[4], 3), assert_int_equal(c.cond_dim, 10), assert_int_equal(c.hop, 256);
    static const char *const bad[][2] = {
        /* extra keys, the word the message must contain */
        {"\"resdual_channels\": 3", "resdual_channels"},
        {"\"dilations\": [1, 2]", "dilations"},
        {"\"dilations\": [1, 0, 2]", "dilations[1]"},
        {"\"model\": \"specgan\"", "model"},
        {"\"classes\": 65536", "classes"},
        {"\"conditioning\": {\"pitch\": 3}", "conditioning.pitch"},
        {"\"local_conditioning\": {\"n_mels\": -1}", "n_mels"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(buf, sizeof buf, "{%s, %s}", base, bad[i][0]);
        expect_error(buf, bad[i][1]);
    }
    expect_error("{\"sample_rate\": 16000,", "p.json");
    expect_error("{\"sample_rate\": 16000}", "residual_channels");
    /* a hand-made config with a bad value is refused by create too */
    c.gate = 0;
    gw_wavenet *m = NULL;
    assert_int_equal(gw_wavenet_create(&m, &c, &err), GW_ERR_ARG);
    assert_non_null(strstr(err.msg, "gate_channels"));
    assert_null(m);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_helpers),
        cmocka_unit_test(test_presets_and_config_errors),
        cmocka_unit_test(test_sampling),
        cmocka_unit_test(test_stream_deemphasis),
        cmocka_unit_test(test_half_conversions),
        cmocka_unit_test(test_bf16_conversions),
        cmocka_unit_test(test_simd_kernels_equal_scalar),
        cmocka_unit_test(test_check_is_sensitive),
        cmocka_unit_test(test_stream_equals_reference),
        cmocka_unit_test(test_kernels_capped),
        cmocka_unit_test(test_stream_isa_override),
        cmocka_unit_test(test_reset_and_swap),
        cmocka_unit_test(test_step_allocates_nothing),
        cmocka_unit_test(test_f16_range_refused),
        cmocka_unit_test(test_small_preset_shape),
        cmocka_unit_test(test_stream_i8),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
