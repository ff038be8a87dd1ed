/* WaveNet training pass: the full backward against central differences on
 * tiny configs (kernel 2 and 3, global and local conditioning), the valid
 * training forward against the causal reference forward and the incremental
 * stream (1e-4), the .gwm round trip, and the MAC count of the spec. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "gw_test.h"
#include "models/wavenet.h"
#include "models/wavenet_file.h"
#include "models/wavenet_backprop.h"
#include "wavenet_models.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* kernel 2, two stacks, pitch + velocity conditioning, 3 mel bands */
static const char *TINY_K2 =
    "{\"model\": \"wavenet\", \"name\": \"tiny-k2\", \"sample_rate\": 8000, \"classes\": 256,"
    " \"residual_channels\": 4, \"gate_channels\": 3, \"skip_channels\": 5,"
    " \"head_channels\": 6, \"stacks\": 2, \"layers_per_stack\": 3, \"kernel_size\": 2,"
    " \"conditioning\": {\"pitch_features\": 3, \"velocity\": true, \"instruments\": 0},"
    " \"local_conditioning\": {\"n_mels\": 3, \"hop\": 4}}";
/* kernel 3, explicit dilations, no conditioning */
static const char *TINY_K3 =
    "{\"model\": \"wavenet\", \"name\": \"tiny-k3\", \"sample_rate\": 8000, \"classes\": 256,"
    " \"residual_channels\": 5, \"gate_channels\": 4, \"skip_channels\": 6,"
    " \"head_channels\": 7, \"stacks\": 1, \"layers_per_stack\": 3, \"kernel_size\": 3,"
    " \"dilations\": [1, 3, 2]}";

typedef struct batch {
    int B, W, T_in;
    uint8_t *window; // (B, W)
    float *cond;     // (B, C_g) or NULL
    float *mel;      // (B, T_in, M) or NULL
} batch;

static batch make_batch(const gw_wavenet *m, gw_wavenet_train *t, int B, uint64_t seed) {
    batch b = {.B = B, .W = gw_wavenet_train_window_len(t), .T_in = gw_wavenet_train_input_len(t)};
    gw_rng rng;
    gw_rng_seed(&rng, seed);
    b.window = malloc((size_t)B * b.W);
    for (int i = 0; i < B * b.W; i++)
        b.window[i] = (uint8_t)gw_rng_below(&rng, 256);
    if (m->cfg.cond_dim > 0) {
        b.cond = malloc((size_t)B * m->cfg.cond_dim * sizeof(float));
        for (int i = 0; i < B; i++)
            gw_wavenet_cond_features(&m->cfg, b.cond + (size_t)i * m->cfg.cond_dim,
                                     48.0f + 7.5f * i, 0.3f + 0.2f * i, 0);
    }
    if (m->cfg.n_mels > 0) {
        size_t n = (size_t)B * b.T_in * m->cfg.n_mels;
        b.mel = malloc(n * sizeof(float));
        gw_rng_fill_normal(&rng, b.mel, n, 0.0f, 1.0f);
    }
    return b;
}

static void free_batch(batch *b) {
    free(b->window);
    free(b->cond);
    free(b->mel);
}

typedef struct loss_ctx {
    gw_wavenet_train *t;
    batch *b;
    int rf;
} loss_ctx;

/* mean NLL in double from the logits: finer than the float loss, so the
 * central differences resolve small gradients */
static double mean_nll(const float *logits, const batch *b, int N, int rf) {
    double nll = 0;
    for (int i = 0; i < b->B; i++)
        for (int n = 0; n < N; n++) {
            const float *a = logits + ((size_t)i * N + n) * 256;
            double mx = a[0], sum = 0;
            for (int c = 1; c < 256; c++)
                mx = fmax(mx, a[c]);
            for (int c = 0; c < 256; c++)
                sum += exp(a[c] - mx);
            nll += mx + log(sum) - a[b->window[i * b->W + rf + n]];
        }
    return nll / ((double)b->B * N);
}

static double train_loss(void *p) {
    loss_ctx *c = p;
    float loss;
    gw_error err = {0};
    if (gw_wavenet_train_forward(c->t, &loss, c->b->window, c->b->cond, c->b->mel, 0, &err))
        fail_msg("forward: %s", err.msg);
    int N = c->b->W - c->rf;
    return mean_nll(gw_wavenet_train_logits(c->t), c->b, N, c->rf);
}

static void gradcheck_config(const char *json, int B, int N) {
    gw_wavenet *m = gw_test_wavenet_parse(json, 11, 2.0f);
    gw_wavenet_train *t = NULL;
    gw_error err = {0};
    assert_int_equal(gw_wavenet_train_create(&t, m, B, N, &err), GW_OK);
    batch b = make_batch(m, t, B, 5);
    float loss;
    gw_params_zero_grad(m->params);
    assert_int_equal(gw_wavenet_train_forward(t, &loss, b.window, b.cond, b.mel, 1, &err), GW_OK);
    assert_true(isfinite(loss) && loss > 0);
    gw_wavenet_train_backward(t);
    loss_ctx ctx = {t, &b, gw_wavenet_receptive_field(&m->cfg)};
    double worst = 0;
    for (size_t i = 0; i < m->params->count; i++) {
        gw_param *p = gw_params_at(m->params, i);
        /* the last layer's residual 1x1 feeds nothing: its gradient is 0 */
        double e =
            gw_test_gradcheck(p->name, p->data, p->grad, p->numel, train_loss, &ctx, 1e-3f, 60);
        if (e > worst) worst = e;
        if (e > 1e-3) fail_msg("%s: gradient error %.3g", p->name, e);
    }
    /* the embedding rows of classes that were not input get no gradient */
    gw_param *emb = gw_params_find(m->params, "wavenet.embed");
    assert_non_null(emb);
    int seen[256] = {0};
    for (int i = 0; i < B; i++)
        for (int k = 0; k < b.T_in; k++)
            seen[b.window[i * b.W + k]] = 1;
    for (int c = 0; c < 256; c++)
        if (!seen[c])
            for (int r = 0; r < m->cfg.residual; r++)
                assert_true(emb->grad[c * m->cfg.residual + r] == 0);
    print_message("%s: worst gradient error %.2e\n", m->cfg.name, worst);
    free_batch(&b);
    gw_wavenet_train_free(t);
    gw_wavenet_free(m);
}

static void test_gradcheck_k2_conditioned(void **state) {
    gradcheck_config(TINY_K2, 2, 3);
}

static void test_gradcheck_k3(void **state) {
    gradcheck_config(TINY_K3, 2, 4);
}

/* backward accumulates: two backwards of the same forward give twice one */
static void test_backward_accumulates(void **state) {
    gw_wavenet *m = gw_test_wavenet_parse(TINY_K2, 3, 1.0f);
    gw_wavenet_train *t = NULL;
    gw_error err = {0};
    assert_int_equal(gw_wavenet_train_create(&t, m, 2, 5, &err), GW_OK);
    batch b = make_batch(m, t, 2, 9);
    float loss;
    size_t n = m->params->total;
    float *once = malloc(n * sizeof(float));
    gw_params_zero_grad(m->params);
    assert_int_equal(gw_wavenet_train_forward(t, &loss, b.window, b.cond, b.mel, 1, &err), GW_OK);
    gw_wavenet_train_backward(t);
    memcpy(once, m->params->grad, n * sizeof(float));
    assert_int_equal(gw_wavenet_train_forward(t, &loss, b.window, b.cond, b.mel, 1, &err), GW_OK);
    gw_wavenet_train_backward(t);
    for (size_t i = 0; i < n; i++)
        assert_true(fabsf(m->params->grad[i] - 2 * once[i]) <= 1e-5f + 1e-5f * fabsf(once[i]));
    free(once);
    free_batch(&b);
    gw_wavenet_train_free(t);
    gw_wavenet_free(m);
}

/* the pass gives the same loss and gradients with OpenBLAS and the kernel */
static void test_blas_and_kernel_agree(void **state) {
    gw_wavenet *m = gw_test_wavenet_parse(TINY_K3, 6, 1.5f);
    gw_wavenet_train *t = NULL;
    gw_error err = {0};
    assert_int_equal(gw_wavenet_train_create(&t, m, 3, 50, &err), GW_OK);
    batch b = make_batch(m, t, 3, 2);
    size_t n = m->params->total;
    float *g0 = malloc(n * sizeof(float)), l0, l1;
    gw_wavenet_train_set_gemm(t, GW_WAVENET_GEMM_BLAS);
    gw_params_zero_grad(m->params);
    assert_int_equal(gw_wavenet_train_forward(t, &l0, b.window, b.cond, b.mel, 1, &err), GW_OK);
    gw_wavenet_train_backward(t);
    memcpy(g0, m->params->grad, n * sizeof(float));
    gw_wavenet_train_set_gemm(t, GW_WAVENET_GEMM_OWN);
    gw_params_zero_grad(m->params);
    assert_int_equal(gw_wavenet_train_forward(t, &l1, b.window, b.cond, b.mel, 1, &err), GW_OK);
    gw_wavenet_train_backward(t);
    assert_true(fabsf(l0 - l1) < 1e-5f * fabsf(l0));
    for (size_t i = 0; i < n; i++)
        assert_true(fabsf(g0[i] - m->params->grad[i]) <= 1e-4f * (1e-2f + fabsf(g0[i])));
    free(g0);
    free_batch(&b);
    gw_wavenet_train_free(t);
    gw_wavenet_free(m);
}

/* data-parallel shards give the single-arena loss and gradients (up to the
 * order of float sums) and still accumulate */
static void test_threads_match_single(void **state) {
    gw_wavenet *m = gw_test_wavenet_parse(TINY_K2, 8, 1.5f);
    gw_wavenet_train *t = NULL;
    gw_error err = {0};
    const int B = 4;
    assert_int_equal(gw_wavenet_train_create(&t, m, B, 7, &err), GW_OK);
    batch b = make_batch(m, t, B, 17);
    size_t n = m->params->total;
    float *one = malloc(n * sizeof(float)), loss1, loss2;
    gw_params_zero_grad(m->params);
    assert_int_equal(gw_wavenet_train_forward(t, &loss1, b.window, b.cond, b.mel, 1, &err), GW_OK);
    gw_wavenet_train_backward(t);
    memcpy(one, m->params->grad, n * sizeof(float));
    for (int threads = 2; threads <= 4; threads += 2) {
        assert_int_equal(gw_wavenet_train_set_threads(t, threads, &err), GW_OK);
        assert_int_equal(gw_wavenet_train_threads(t), threads);
        gw_params_zero_grad(m->params);
        for (int rep = 0; rep < 2; rep++) { /* twice: the second adds the same again */
            assert_int_equal(gw_wavenet_train_forward(t, &loss2, b.window, b.cond, b.mel, 1, &err),
                             GW_OK);
            gw_wavenet_train_backward(t);
        }
        assert_true(fabsf(loss1 - loss2) < 1e-5f * fabsf(loss1));
        float worst = 0;
        for (size_t i = 0; i < n; i++) {
            float e = fabsf(m->params->grad[i] - 2 * one[i]) / (1e-3f + fabsf(2 * one[i]));
            if (e > worst) worst = e;
        }
        print_message("%d threads: loss %.6f vs %.6f, worst relative gradient difference %.2e\n",
                      threads, loss2, loss1, worst);
        assert_true(worst < 1e-3f);
    }
    assert_int_equal(gw_wavenet_train_set_threads(t, 3, &err), GW_OK); /* 4 items: 2 shards */
    assert_int_equal(gw_wavenet_train_threads(t), 2);
    free(one);
    free_batch(&b);
    gw_wavenet_train_free(t);
    gw_wavenet_free(m);
}

/* valid training forward == causal reference forward == incremental stream,
 * at every position that sees a full receptive field */
static void check_against_stream(const char *json) {
    gw_wavenet *m = gw_test_wavenet_parse(json, 21, 1.5f);
    const int B = 3, N = 40;
    gw_wavenet_train *t = NULL;
    gw_error err = {0};
    assert_int_equal(gw_wavenet_train_create(&t, m, B, N, &err), GW_OK);
    batch b = make_batch(m, t, B, 13);
    float loss;
    assert_int_equal(gw_wavenet_train_forward(t, &loss, b.window, b.cond, b.mel, 0, &err), GW_OK);
    const float *logits = gw_wavenet_train_logits(t); // (B, N, 256)
    const int rf = gw_wavenet_receptive_field(&m->cfg), T = b.T_in, Cg = m->cfg.cond_dim;
    const int M = m->cfg.n_mels;
    assert_int_equal(T, N + rf - 1);

    float *ref = malloc((size_t)T * 256 * sizeof(float));
    float *step = malloc((size_t)B * 256 * sizeof(float));
    gw_wavenet_stream *s = NULL;
    assert_int_equal(gw_wavenet_stream_create(&s, m, B, &err), GW_OK);
    float worst_ref = 0, worst_stream = 0;
    for (int i = 0; i < B; i++) {
        gw_wavenet_stream_reset(s, i);
        if (Cg) gw_wavenet_stream_set_cond(s, i, b.cond + (size_t)i * Cg);
    }
    float *stream_logits = malloc((size_t)B * T * 256 * sizeof(float));
    for (int k = 0; k < T; k++) {
        float u[8] = {0};
        for (int i = 0; i < B; i++) {
            gw_wavenet_stream_set_input(s, i, b.window[i * b.W + k]);
            if (M) gw_wavenet_stream_set_mel(s, i, b.mel + ((size_t)i * T + k) * M);
        }
        gw_wavenet_stream_step(s, step, NULL, NULL, B, 1.0f, u);
        for (int i = 0; i < B; i++)
            memcpy(stream_logits + ((size_t)i * T + k) * 256, step + (size_t)i * 256,
                   256 * sizeof(float));
    }
    for (int i = 0; i < B; i++) {
        assert_int_equal(gw_wavenet_forward_reference(m, ref, b.window + (size_t)i * b.W,
                                                      Cg ? b.cond + (size_t)i * Cg : NULL,
                                                      M ? b.mel + (size_t)i * T * M : NULL, T,
                                                      &err),
                         GW_OK);
        for (int n = 0; n < N; n++) {
            const float *a = logits + ((size_t)i * N + n) * 256;
            const float *r = ref + (size_t)(n + rf - 1) * 256;
            const float *st = stream_logits + ((size_t)i * T + n + rf - 1) * 256;
            float e1 = gw_test_max_abs_diff(a, r, 256), e2 = gw_test_max_abs_diff(a, st, 256);
            if (!(e1 <= worst_ref)) worst_ref = e1;
            if (!(e2 <= worst_stream)) worst_stream = e2;
        }
    }
    print_message("%s: max |train - reference| %.2e, |train - stream| %.2e\n", m->cfg.name,
                  worst_ref, worst_stream);
    assert_true(worst_ref < 1e-4f);
    assert_true(worst_stream < 1e-4f);
    /* the loss is the mean NLL of the targets under these logits */
    assert_true(fabs(mean_nll(logits, &b, N, rf) - loss) < 1e-4 * fabs(loss) + 1e-5);
    gw_wavenet_stream_free(s);
    free(stream_logits);
    free(step);
    free(ref);
    free_batch(&b);
    gw_wavenet_train_free(t);
    gw_wavenet_free(m);
}

/* A voice started from reset continues exactly what training teaches at a
 * window drawn up to a receptive field before its clip (inputs silent, then
 * the clip): the stream's first step sees a history of silence, not zeros.
 * Every position is compared, the first included; zeroed rings fail this
 * by O(1) logits. */
static void check_note_start(const char *json) {
    gw_wavenet *m = gw_test_wavenet_parse(json, 23, 1.5f);
    const int B = 2, N = 48;
    gw_wavenet_train *t = NULL;
    gw_error err = {0};
    assert_int_equal(gw_wavenet_train_create(&t, m, B, N, &err), GW_OK);
    batch b = make_batch(m, t, B, 29);
    const int rf = gw_wavenet_receptive_field(&m->cfg), Cg = m->cfg.cond_dim, M = m->cfg.n_mels;
    for (int i = 0; i < B; i++) {
        memset(b.window + (size_t)i * b.W, GW_WAVENET_SILENCE, (size_t)rf);
        /* the mel frame in force before the clip is the clip's first */
        for (int k = 0; M && k < rf - 1; k++)
            memcpy(b.mel + ((size_t)i * b.T_in + k) * M, b.mel + ((size_t)i * b.T_in + rf - 1) * M,
                   (size_t)M * sizeof(float));
    }
    float loss;
    assert_int_equal(gw_wavenet_train_forward(t, &loss, b.window, b.cond, b.mel, 0, &err), GW_OK);
    const float *logits = gw_wavenet_train_logits(t); // (B, N, 256)
    gw_wavenet_stream *s = NULL;
    assert_int_equal(gw_wavenet_stream_create(&s, m, B, &err), GW_OK);
    /* voices used before, so reset must really clear them */
    float u[8] = {0}, step[8 * 256];
    gw_wavenet_stream_step(s, NULL, NULL, NULL, B, 1.0f, u);
    for (int i = 0; i < B; i++) {
        gw_wavenet_stream_reset(s, i);
        if (Cg) gw_wavenet_stream_set_cond(s, i, b.cond + (size_t)i * Cg);
    }
    float worst = 0, first = 0;
    for (int n = 0; n < N; n++) {
        for (int i = 0; i < B; i++) {
            /* input rf - 1 + n is the last one target n is predicted from */
            gw_wavenet_stream_set_input(s, i, b.window[(size_t)i * b.W + rf - 1 + n]);
            if (M) gw_wavenet_stream_set_mel(s, i, b.mel + ((size_t)i * b.T_in + rf - 1 + n) * M);
        }
        gw_wavenet_stream_step(s, step, NULL, NULL, B, 1.0f, u);
        for (int i = 0; i < B; i++) {
            float d = gw_test_max_abs_diff(step + (size_t)i * 256,
                                           logits + ((size_t)i * N + n) * 256, 256);
            if (!(d <= worst)) worst = d;
            if (n == 0 && !(d <= first)) first = d;
        }
    }
    print_message("%s: note start, max |stream - train| %.2e (first step %.2e)\n", m->cfg.name,
                  worst, first);
    assert_true(worst < 1e-4f);
    gw_wavenet_stream_free(s);
    free_batch(&b);
    gw_wavenet_train_free(t);
    gw_wavenet_free(m);
}

static void test_note_start_k2_conditioned(void **state) {
    check_note_start(TINY_K2);
}

static void test_note_start_k3(void **state) {
    check_note_start(TINY_K3);
}

static void test_matches_stream_k2_conditioned(void **state) {
    check_against_stream(TINY_K2);
}

static void test_matches_stream_k3(void **state) {
    check_against_stream(TINY_K3);
}

static void test_matches_stream_dilated(void **state) {
    check_against_stream(
        "{\"model\": \"wavenet\", \"name\": \"dil\", \"sample_rate\": 16000, \"classes\": 256,"
        " \"residual_channels\": 8, \"gate_channels\": 8, \"skip_channels\": 16,"
        " \"head_channels\": 16, \"stacks\": 2, \"layers_per_stack\": 5, \"kernel_size\": 2,"
        " \"conditioning\": {\"pitch_features\": 5, \"velocity\": true, \"instruments\": 2}}");
}

/* save -> load gives the same tensors; a GAN-kind file is refused */
static void test_file_round_trip(void **state) {
    gw_wavenet *m = gw_test_wavenet_parse(TINY_K2, 4, 1.0f);
    char dir[4096], path[4200];
    gw_test_tmpdir(dir, sizeof dir, "wavenet_file");
    snprintf(path, sizeof path, "%s/m.gwm", dir);
    gw_error err = {0};
    assert_int_equal(gw_wavenet_save(m, path, &err), GW_OK);
    gw_wavenet *r = NULL;
    assert_int_equal(gw_wavenet_load(&r, path, &err), GW_OK);
    assert_int_equal(r->cfg.n_layers, m->cfg.n_layers);
    assert_int_equal(r->cfg.cond_dim, m->cfg.cond_dim);
    assert_int_equal(r->params->count, m->params->count);
    for (size_t i = 0; i < m->params->count; i++) {
        gw_param *a = gw_params_at(m->params, i), *b = gw_params_find(r->params, a->name);
        assert_non_null(b);
        assert_memory_equal(a->data, b->data, a->numel * sizeof(float));
    }
    gw_wavenet_free(r);
    /* another kind of model */
    gw_gwm_writer *w = NULL;
    assert_int_equal(gw_gwm_writer_create(&w, &err), GW_OK);
    assert_int_equal(gw_gwm_writer_meta(w, "model", "specgan", &err), GW_OK);
    assert_int_equal(gw_gwm_writer_commit(w, path, &err), GW_OK);
    gw_gwm_writer_free(w);
    assert_int_not_equal(gw_wavenet_load(&r, path, &err), GW_OK);
    assert_null(r);
    assert_non_null(strstr(err.msg, "not a WaveNet"));
    unlink(path);
    rmdir(dir);
    gw_wavenet_free(m);
}

/* input jitter: off by default and in evaluation passes; on, it changes the
 * training loss, the same seed gives the same pass and another seed another,
 * on one thread or several */
static void test_input_noise(void **state) {
    (void)state;
    gw_wavenet *m = gw_test_wavenet_parse(TINY_K2, 9, 1.5f);
    gw_wavenet_train *t = NULL;
    gw_error err = {0};
    assert_int_equal(gw_wavenet_train_create(&t, m, 4, 7, &err), GW_OK);
    batch b = make_batch(m, t, 4, 21);
    float clean, eval, a, a2, c;
    assert_int_equal(gw_wavenet_train_forward(t, &clean, b.window, b.cond, b.mel, 1, &err), GW_OK);
    gw_wavenet_train_set_input_noise(t, 0.5f, 77);
    assert_int_equal(gw_wavenet_train_forward(t, &eval, b.window, b.cond, b.mel, 0, &err), GW_OK);
    assert_true(eval == clean); /* validation never sees the jitter */
    assert_int_equal(gw_wavenet_train_forward(t, &a, b.window, b.cond, b.mel, 1, &err), GW_OK);
    assert_int_equal(gw_wavenet_train_forward(t, &a2, b.window, b.cond, b.mel, 1, &err), GW_OK);
    assert_true(a != clean);
    assert_true(a == a2);
    gw_wavenet_train_set_input_noise(t, 0.5f, 78);
    assert_int_equal(gw_wavenet_train_forward(t, &c, b.window, b.cond, b.mel, 1, &err), GW_OK);
    assert_true(c != a);
    assert_int_equal(gw_wavenet_train_set_threads(t, 2, &err), GW_OK);
    gw_wavenet_train_set_input_noise(t, 0.5f, 77);
    assert_int_equal(gw_wavenet_train_forward(t, &c, b.window, b.cond, b.mel, 1, &err), GW_OK);
    assert_true(c != clean);
    gw_wavenet_train_set_input_noise(t, 0.0f, 77);
    assert_int_equal(gw_wavenet_train_forward(t, &c, b.window, b.cond, b.mel, 1, &err), GW_OK);
    assert_true(fabsf(c - clean) < 1e-5f * fabsf(clean));
    free_batch(&b);
    gw_wavenet_train_free(t);
    gw_wavenet_free(m);
}

/* the peers' count for the reference training step (4.35 G for small) */
static void test_forward_macs_of_spec(void **state) {
    char path[4096];
    gw_test_preset_path(path, sizeof path, "wavenet-small");
    gw_wavenet_config cfg;
    gw_error err = {0};
    if (gw_wavenet_config_load(&cfg, path, &err)) fail_msg("%s", err.msg);
    double macs = gw_wavenet_train_forward_macs(&cfg, 4, 4096);
    assert_true(fabs(macs / 1e9 - 4.35) < 0.01);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gradcheck_k2_conditioned),
        cmocka_unit_test(test_gradcheck_k3),
        cmocka_unit_test(test_backward_accumulates),
        cmocka_unit_test(test_threads_match_single),
        cmocka_unit_test(test_blas_and_kernel_agree),
        cmocka_unit_test(test_matches_stream_k2_conditioned),
        cmocka_unit_test(test_matches_stream_k3),
        cmocka_unit_test(test_matches_stream_dilated),
        cmocka_unit_test(test_note_start_k2_conditioned),
        cmocka_unit_test(test_note_start_k3),
        cmocka_unit_test(test_file_round_trip),
        cmocka_unit_test(test_input_noise),
        cmocka_unit_test(test_forward_macs_of_spec),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
