/* The WaveNet's training math, twice. The trainer runs the fused pass of
 * models/wavenet_backprop.c (one im2col product per layer, the gate, bias,
 * conditioning and residual folded into single passes, its own AVX-512
 * products); this test writes the same teacher-forced step once more from
 * the core layers of nn/layers.h only - embedding, conv1d, dense, gate,
 * relu, softmax cross-entropy - in the order the math reads, and checks a
 * whole training step end to end, as llm.c's test_gpt2.c does for GPT-2:
 *
 *   1. the loss of gw_wavenet_train_forward equals the twin's (1e-5 relative)
 *      and so do the logits;
 *   2. every parameter's gradient from gw_wavenet_train_backward equals the
 *      twin's: max|a - b| <= 1e-4 max|b| + 1e-6 per tensor;
 *   3. a negative control: moving one weight of the first layer moves the
 *      loss and the gradients well past those tolerances (so the comparison
 *      cannot pass vacuously), and the twin follows the fused pass there too.
 *
 * The twin is documentation of the math (docs/wavenet.md, "Training"), not a
 * second implementation to keep fast: it keeps every activation, and reads
 * every weight by its name in the model's parameter group (wavenet.h lists
 * names and shapes), writing its gradients into a second group with the same
 * names. Both product paths of the fused pass are checked (OpenBLAS and the
 * pass's own kernel), on the shape of presets/wavenet-tiny-pitch.json (global
 * conditioning) and on a kernel-3 vocoder with mel and instrument inputs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "gw_test.h"
#include "dsp/gw_dsp.h"
#include "models/wavenet.h"
#include "models/wavenet_backprop.h"
#include "wavenet_models.h"
#include "nn/layers.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { V = GW_WAVENET_CLASSES }; /* 256 mu-law classes */

/* ---- tensors by name ---------------------------------------------------- */

/* the tensor `name` (a printf format taking the layer) of group p, checked
 * to have numel floats: its data, or its gradient when grad = 1 */
static float *tensor(gw_params *p, int grad, size_t numel, const char *fmt, int layer) {
    char name[GW_PARAM_NAME_MAX];
    snprintf(name, sizeof name, fmt, layer);
    gw_param *t = gw_params_find(p, name);
    if (!t) fail_msg("no tensor %s", name);
    if (t->numel != numel) fail_msg("%s has %zu values, expected %zu", name, t->numel, numel);
    return grad ? t->grad : t->data;
}

static float *zeros(size_t n) {
    float *p = calloc(n ? n : 1, sizeof(float));
    assert_non_null(p);
    return p;
}

/* ---- the twin --------------------------------------------------------------
 * Shapes as in wavenet_backprop.h: a window of RF + N mu-law classes per item;
 * inputs window[0, T_in), T_in = N + RF - 1; targets window[RF, RF + N).
 * Every dilated convolution is "valid" (pad_left = 0), so layer l maps
 * T[l] steps to T[l+1] = T[l] - (K-1) d_l and the last one leaves the N
 * target positions. Activations are channels-last (B, T, C), item after
 * item, as the core layers take them. */
typedef struct twin {
    gw_params *w; /* weights (->data), the model's own group */
    gw_params *g; /* gradients (->grad), a group declared like the model's */
    int B, N, T_in, L, K, R, G, S, H, Cg, M;
    int d[GW_WAVENET_MAX_LAYERS];     /* dilations */
    int T[GW_WAVENET_MAX_LAYERS + 1]; /* T[l]: input length of layer l; T[L] = N */
    int32_t *in, *tgt;                /* (B, T_in), (B, N) */
    const float *cond;                /* (B, C_g) or NULL */
    const float *mel;                 /* (B, T_in, M) or NULL */
    /* forward, kept for the backward */
    float *x[GW_WAVENET_MAX_LAYERS];    // (B, T[l], R) residual stream into layer l
    float *h[GW_WAVENET_MAX_LAYERS];    // (B, T[l+1], 2G) gate pre-activations
    float *act[GW_WAVENET_MAX_LAYERS];  // (B, T[l+1], 2G) [tanh | sigmoid]
    float *z[GW_WAVENET_MAX_LAYERS];    // (B, T[l+1], G) gated outputs
    float *zN[GW_WAVENET_MAX_LAYERS];   // (B*N, G) z at the N target positions
    float *melr[GW_WAVENET_MAX_LAYERS]; // (B, T[l+1], M) the mel row of each output
    float *skip;                        // (B*N, S) sum of the skip 1x1s
    float *skip_r;                      // (B*N, S) relu(skip)
    float *a1, *a1_r;                   // (B*N, H) head1, relu(head1)
    float *logits, *dlogits;            // (B*N, 256)
    float loss;
} twin;

static twin twin_create(gw_wavenet *m, gw_params *g, int B, int N, const uint8_t *window,
                        const float *cond, const float *mel) {
    const gw_wavenet_config *c = &m->cfg;
    twin tw = {.w = m->params,
               .g = g,
               .B = B,
               .N = N,
               .L = c->n_layers,
               .K = c->kernel,
               .R = c->residual,
               .G = c->gate,
               .S = c->skip,
               .H = c->head,
               .Cg = c->cond_dim,
               .M = c->n_mels};
    const int RF = gw_wavenet_receptive_field(c), W = N + RF;
    tw.T_in = W - 1;
    tw.cond = tw.Cg > 0 ? cond : NULL;
    tw.mel = tw.M > 0 ? mel : NULL;
    tw.in = malloc(sizeof(int32_t) * (size_t)B * tw.T_in);
    tw.tgt = malloc(sizeof(int32_t) * (size_t)B * N);
    assert_true(tw.in && tw.tgt);
    for (int b = 0; b < B; b++) {
        for (int t = 0; t < tw.T_in; t++)
            tw.in[b * tw.T_in + t] = window[b * W + t];
        for (int n = 0; n < N; n++)
            tw.tgt[b * N + n] = window[b * W + RF + n];
    }
    tw.T[0] = tw.T_in;
    for (int l = 0; l < tw.L; l++) {
        tw.d[l] = c->dilations[l];
        tw.T[l + 1] = tw.T[l] - (tw.K - 1) * tw.d[l];
        size_t rows = (size_t)B * tw.T[l + 1];
        tw.x[l] = zeros((size_t)B * tw.T[l] * tw.R);
        tw.h[l] = zeros(rows * 2 * tw.G);
        tw.act[l] = zeros(rows * 2 * tw.G);
        tw.z[l] = zeros(rows * tw.G);
        tw.zN[l] = zeros((size_t)B * N * tw.G);
        tw.melr[l] = zeros(rows * tw.M);
    }
    assert_int_equal(tw.T[tw.L], N);
    size_t BN = (size_t)B * N;
    tw.skip = zeros(BN * tw.S), tw.skip_r = zeros(BN * tw.S);
    tw.a1 = zeros(BN * tw.H), tw.a1_r = zeros(BN * tw.H);
    tw.logits = zeros(BN * V), tw.dlogits = zeros(BN * V);
    return tw;
}

static void twin_free(twin *tw) {
    free(tw->in), free(tw->tgt);
    for (int l = 0; l < tw->L; l++) {
        free(tw->x[l]), free(tw->h[l]), free(tw->act[l]);
        free(tw->z[l]), free(tw->zN[l]), free(tw->melr[l]);
    }
    free(tw->skip), free(tw->skip_r), free(tw->a1), free(tw->a1_r);
    free(tw->logits), free(tw->dlogits);
}

/* weight / gradient of a layer's tensor, e.g. W(tw, n, "wavenet.layer%02d.dil.w", l) */
static const float *W(const twin *tw, size_t n, const char *fmt, int l) {
    return tensor(tw->w, 0, n, fmt, l);
}
static float *D(const twin *tw, size_t n, const char *fmt, int l) {
    return tensor(tw->g, 1, n, fmt, l);
}

/* dst (B*N, C) = the last N of the T rows of every item of src (B, T, C) */
static void take_last(float *dst, const float *src, int B, int T, int N, int C) {
    for (int b = 0; b < B; b++)
        memcpy(dst + (size_t)b * N * C, src + ((size_t)b * T + T - N) * C,
               (size_t)N * C * sizeof(float));
}

/* its adjoint: dst (B, T, C) += src (B*N, C) on the last N rows of each item */
static void add_last(float *dst, const float *src, int B, int T, int N, int C) {
    for (int b = 0; b < B; b++)
        for (size_t i = 0; i < (size_t)N * C; i++)
            dst[((size_t)b * T + T - N) * C + i] += src[(size_t)b * N * C + i];
}

static void twin_forward(twin *tw) {
    const int B = tw->B, N = tw->N, L = tw->L, K = tw->K, R = tw->R, G = tw->G, S = tw->S;
    const int H = tw->H, Cg = tw->Cg, M = tw->M, G2 = 2 * G;
    const size_t BN = (size_t)B * N;
    gw_error err = {0};

    /* input: the 8-bit mu-law class of each sample (sec. 2.2); a 1x1 conv
     * of its one-hot vector is a row of the embedding */
    if (gw_embedding_forward(tw->x[0], W(tw, (size_t)V * R, "wavenet.embed", 0), tw->in,
                             B * tw->T_in, V, R, &err))
        fail_msg("%s", err.msg);

    memset(tw->skip, 0, BN * S * sizeof(float));
    float *tmp_h = zeros((size_t)B * tw->T[1] * G2), *cg = zeros((size_t)B * G2);
    float *tmp_s = zeros(BN * S);
    for (int l = 0; l < L; l++) {
        const int d = tw->d[l], Ti = tw->T[l], To = tw->T[l + 1], shift = (K - 1) * d;
        const size_t rows = (size_t)B * To;

        /* dilated causal convolution (van den Oord et al. 2016, sec. 2.1),
         * valid: output t reads x_l[t], x_l[t + d], .. x_l[t + (K-1) d], the
         * last tap being the newest sample, so output t belongs to the time
         * of x_l[t + shift] */
        gw_conv1d_forward(tw->h[l], tw->x[l],
                          W(tw, (size_t)G2 * K * R, "wavenet.layer%02d.dil.w", l),
                          W(tw, G2, "wavenet.layer%02d.dil.b", l), B, Ti, R, G2, K, d, 0);

        /* global conditioning (sec. 2.5): V^T h with h the note's features c,
         * one vector per item added at every step, filter and gate halves */
        if (Cg > 0) {
            gw_dense_forward(cg, tw->cond, W(tw, (size_t)G2 * Cg, "wavenet.layer%02d.cond.w", l),
                             NULL, B, Cg, G2);
            for (int b = 0; b < B; b++)
                for (int t = 0; t < To; t++)
                    for (int j = 0; j < G2; j++)
                        tw->h[l][((size_t)b * To + t) * G2 + j] += cg[(size_t)b * G2 + j];
        }
        /* local conditioning (sec. 2.5): V * y as a 1x1 conv of the mel rows
         * y, upsampled by repetition; output t takes the row of its own
         * time, input step T_in - To + t */
        if (M > 0) {
            for (int b = 0; b < B; b++)
                memcpy(tw->melr[l] + (size_t)b * To * M,
                       tw->mel + ((size_t)b * tw->T_in + tw->T_in - To) * M,
                       (size_t)To * M * sizeof(float));
            gw_dense_forward(tmp_h, tw->melr[l], W(tw, (size_t)G2 * M, "wavenet.layer%02d.lc.w", l),
                             NULL, (int)rows, M, G2);
            for (size_t i = 0; i < rows * G2; i++)
                tw->h[l][i] += tmp_h[i];
        }

        /* gated activation unit (sec. 2.3, eq. 2):
         * z = tanh(W_f * x) . sigmoid(W_g * x), filter rows [0, G), gate [G, 2G) */
        gw_gate_forward(tw->z[l], tw->act[l], tw->h[l], (int)rows, G);

        /* residual connection (sec. 2.4, fig. 4): x_l+1[t] = x_l[t + shift]
         * + W_res z[t] + b_res. The last layer's output feeds nothing: its
         * residual 1x1 is never evaluated (and gets no gradient) */
        if (l < L - 1) {
            gw_dense_forward(tw->x[l + 1], tw->z[l],
                             W(tw, (size_t)R * G, "wavenet.layer%02d.res.w", l),
                             W(tw, R, "wavenet.layer%02d.res.b", l), (int)rows, G, R);
            for (int b = 0; b < B; b++)
                for (int t = 0; t < To; t++)
                    for (int r = 0; r < R; r++)
                        tw->x[l + 1][((size_t)b * To + t) * R + r] +=
                            tw->x[l][((size_t)b * Ti + t + shift) * R + r];
        }

        /* skip connection (sec. 2.4, fig. 4): every layer's W_skip z + b_skip
         * is summed, at the N positions that have a target */
        take_last(tw->zN[l], tw->z[l], B, To, N, G);
        gw_dense_forward(tmp_s, tw->zN[l], W(tw, (size_t)S * G, "wavenet.layer%02d.skip.w", l),
                         W(tw, S, "wavenet.layer%02d.skip.b", l), (int)BN, G, S);
        for (size_t i = 0; i < BN * S; i++)
            tw->skip[i] += tmp_s[i];
    }
    free(tmp_h), free(cg), free(tmp_s);

    /* output head (fig. 4): relu -> 1x1 -> relu -> 1x1 -> softmax */
    gw_relu_forward(tw->skip_r, tw->skip, BN * S);
    gw_dense_forward(tw->a1, tw->skip_r, W(tw, (size_t)H * S, "wavenet.head1.w", 0),
                     W(tw, H, "wavenet.head1.b", 0), (int)BN, S, H);
    gw_relu_forward(tw->a1_r, tw->a1, BN * H);
    gw_dense_forward(tw->logits, tw->a1_r, W(tw, (size_t)V * H, "wavenet.out.w", 0),
                     W(tw, V, "wavenet.out.b", 0), (int)BN, H, V);

    /* teacher forcing (eq. 1): mean cross-entropy of the 256-way softmax
     * (sec. 2.2) against the true next class, over all B N targets; the loss adds its
     * gradient (softmax - onehot) / (B N) into dlogits */
    memset(tw->dlogits, 0, BN * V * sizeof(float));
    if (gw_loss_softmax_xent(&tw->loss, tw->dlogits, tw->logits, tw->tgt, (int)BN, V, "twin", &err))
        fail_msg("%s", err.msg);
}

/* the backward of twin_forward, layer by layer in reverse; every core
 * backward ADDS into its gradients, so each activation gradient starts at
 * zero and each parameter gradient collects every use of the parameter */
static void twin_backward(twin *tw) {
    const int B = tw->B, N = tw->N, L = tw->L, K = tw->K, R = tw->R, G = tw->G, S = tw->S;
    const int H = tw->H, Cg = tw->Cg, M = tw->M, G2 = 2 * G;
    const size_t BN = (size_t)B * N;
    gw_error err = {0};

    /* head */
    float *da1_r = zeros(BN * H), *da1 = zeros(BN * H);
    float *dskip_r = zeros(BN * S), *dskip = zeros(BN * S);
    gw_dense_backward(da1_r, D(tw, (size_t)V * H, "wavenet.out.w", 0), D(tw, V, "wavenet.out.b", 0),
                      tw->dlogits, tw->a1_r, W(tw, (size_t)V * H, "wavenet.out.w", 0), (int)BN, H,
                      V);
    gw_relu_backward(da1, da1_r, tw->a1_r, BN * H);
    gw_dense_backward(dskip_r, D(tw, (size_t)H * S, "wavenet.head1.w", 0),
                      D(tw, H, "wavenet.head1.b", 0), da1, tw->skip_r,
                      W(tw, (size_t)H * S, "wavenet.head1.w", 0), (int)BN, S, H);
    gw_relu_backward(dskip, dskip_r, tw->skip_r, BN * S);

    /* layers: dx_next is the gradient of layer l's output x_l+1 */
    float *dx_next = NULL;
    for (int l = L - 1; l >= 0; l--) {
        const int d = tw->d[l], Ti = tw->T[l], To = tw->T[l + 1], shift = (K - 1) * d;
        const size_t rows = (size_t)B * To;
        float *dz = zeros(rows * G), *dzN = zeros(BN * G), *dh = zeros(rows * G2);
        float *dx = zeros((size_t)B * Ti * R);

        /* skip: the sum hands every layer the same dskip */
        gw_dense_backward(dzN, D(tw, (size_t)S * G, "wavenet.layer%02d.skip.w", l),
                          D(tw, S, "wavenet.layer%02d.skip.b", l), dskip, tw->zN[l],
                          W(tw, (size_t)S * G, "wavenet.layer%02d.skip.w", l), (int)BN, G, S);
        add_last(dz, dzN, B, To, N, G);

        /* residual: the 1x1 and the identity path to x_l[t + shift] */
        if (dx_next) {
            gw_dense_backward(dz, D(tw, (size_t)R * G, "wavenet.layer%02d.res.w", l),
                              D(tw, R, "wavenet.layer%02d.res.b", l), dx_next, tw->z[l],
                              W(tw, (size_t)R * G, "wavenet.layer%02d.res.w", l), (int)rows, G, R);
            for (int b = 0; b < B; b++)
                for (int t = 0; t < To; t++)
                    for (int r = 0; r < R; r++)
                        dx[((size_t)b * Ti + t + shift) * R + r] +=
                            dx_next[((size_t)b * To + t) * R + r];
        }

        /* gate */
        gw_gate_backward(dh, dz, tw->act[l], (int)rows, G);

        /* conditioning: V_g c was added at every step of an item, so its
         * gradient is the item's sum of dh over time times c^T */
        if (Cg > 0) {
            float *dcg = zeros((size_t)B * G2);
            for (int b = 0; b < B; b++)
                for (int t = 0; t < To; t++)
                    for (int j = 0; j < G2; j++)
                        dcg[(size_t)b * G2 + j] += dh[((size_t)b * To + t) * G2 + j];
            gw_dense_backward(NULL, D(tw, (size_t)G2 * Cg, "wavenet.layer%02d.cond.w", l), NULL,
                              dcg, tw->cond, W(tw, (size_t)G2 * Cg, "wavenet.layer%02d.cond.w", l),
                              B, Cg, G2);
            free(dcg);
        }
        if (M > 0)
            gw_dense_backward(NULL, D(tw, (size_t)G2 * M, "wavenet.layer%02d.lc.w", l), NULL, dh,
                              tw->melr[l], W(tw, (size_t)G2 * M, "wavenet.layer%02d.lc.w", l),
                              (int)rows, M, G2);

        /* dilated convolution */
        gw_conv1d_backward(dx, D(tw, (size_t)G2 * K * R, "wavenet.layer%02d.dil.w", l),
                           D(tw, G2, "wavenet.layer%02d.dil.b", l), dh, tw->x[l],
                           W(tw, (size_t)G2 * K * R, "wavenet.layer%02d.dil.w", l), B, Ti, R, G2, K,
                           d, 0);
        free(dz), free(dzN), free(dh), free(dx_next);
        dx_next = dx;
    }

    /* input: scatter-add dx_0 into the embedding rows of the input classes */
    if (gw_embedding_backward(D(tw, (size_t)V * R, "wavenet.embed", 0), dx_next, tw->in,
                              B * tw->T_in, V, R, &err))
        fail_msg("%s", err.msg);
    free(dx_next), free(da1_r), free(da1), free(dskip_r), free(dskip);
}

/* ---- the comparison ------------------------------------------------------ */

/* Compares every tensor's gradient in `fused` with the same-named one in
 * `ref`: a tensor passes when max|a - b| <= 1e-4 max|b| + 1e-6. Returns the
 * number of tensors that fail; *worst gets the largest max|a - b| / max|b|
 * (max|a - b| where max|b| = 0) and worst_name its tensor. */
static int compare_grads(gw_params *fused, gw_params *ref, double *worst, char *worst_name,
                         size_t cap) {
    int bad = 0;
    *worst = 0;
    for (size_t i = 0; i < fused->count; i++) {
        const gw_param *a = gw_params_at(fused, i);
        const gw_param *b = gw_params_find(ref, a->name);
        assert_non_null(b);
        assert_int_equal(a->numel, b->numel);
        double diff = 0, scale = 0;
        for (size_t k = 0; k < a->numel; k++) {
            double e = fabs((double)a->grad[k] - b->grad[k]);
            if (!(e <= diff)) diff = e; /* NaN propagates to a failure */
            scale = fmax(scale, fabs((double)b->grad[k]));
        }
        if (!(diff <= 1e-4 * scale + 1e-6)) bad++;
        double rel = scale > 0 ? diff / scale : diff;
        if (!(rel <= *worst)) {
            *worst = rel;
            snprintf(worst_name, cap, "%s", a->name);
        }
    }
    return bad;
}

static float max_abs(const float *a, size_t n) {
    float m = 0;
    for (size_t i = 0; i < n; i++)
        m = fmaxf(m, fabsf(a[i]));
    return m;
}

/* ---- data ---------------------------------------------------------------- */

/* B windows of W mu-law classes: a random sine plus noise per item, so the
 * classes spread over the curve as audio's do */
static uint8_t *make_windows(int B, int W, gw_rng *rng) {
    uint8_t *w = malloc((size_t)B * W);
    assert_non_null(w);
    for (int b = 0; b < B; b++) {
        float f = 0.01f + 0.2f * gw_rng_uniform(rng), amp = 0.1f + 0.8f * gw_rng_uniform(rng);
        float ph = 6.2831853f * gw_rng_uniform(rng);
        for (int t = 0; t < W; t++)
            w[(size_t)b * W + t] =
                gw_mulaw_encode(amp * sinf(ph + 6.2831853f * f * t) + 0.1f * gw_rng_normal(rng));
    }
    return w;
}

/* ---- the test ------------------------------------------------------------------ */

static void check_twin(const gw_wavenet_config *cfg, int B, int N) {
    gw_error err = {0};
    gw_wavenet *m = gw_test_wavenet_create(cfg, 2016, 1.5f);
    const int Cg = m->cfg.cond_dim, M = m->cfg.n_mels;
    gw_wavenet_train *t = NULL;
    assert_int_equal(gw_wavenet_train_create(&t, m, B, N, &err), GW_OK);
    const int W = gw_wavenet_train_window_len(t), T_in = gw_wavenet_train_input_len(t);

    gw_rng rng;
    gw_rng_seed(&rng, 7);
    uint8_t *window = make_windows(B, W, &rng);
    float *cond = NULL, *mel = NULL;
    if (Cg > 0) {
        cond = zeros((size_t)B * Cg);
        for (int b = 0; b < B; b++)
            gw_wavenet_cond_features(&m->cfg, cond + (size_t)b * Cg,
                                     36.0f + 48.0f * gw_rng_uniform(&rng),
                                     0.2f + 0.8f * gw_rng_uniform(&rng), b % 3);
    }
    if (M > 0) {
        mel = zeros((size_t)B * T_in * M);
        gw_rng_fill_normal(&rng, mel, (size_t)B * T_in * M, 0.0f, 1.0f);
    }

    /* the twin's gradients live in a group declared exactly as the model's */
    gw_params *tg = gw_params_create();
    assert_non_null(tg);
    assert_int_equal(gw_wavenet_params_declare(tg, &m->cfg, &err), GW_OK);
    assert_int_equal(gw_params_alloc(tg, &err), GW_OK);
    twin tw = twin_create(m, tg, B, N, window, cond, mel);
    twin_forward(&tw);
    twin_backward(&tw);
    const size_t BN = (size_t)B * N;

    /* no vacuous gradients: every tensor but the last layer's residual 1x1
     * (which feeds nothing) gets some */
    char last_res[GW_PARAM_NAME_MAX];
    snprintf(last_res, sizeof last_res, "wavenet.layer%02d.res.", m->cfg.n_layers - 1);
    for (size_t i = 0; i < tg->count; i++) {
        const gw_param *p = gw_params_at(tg, i);
        int dead = strncmp(p->name, last_res, strlen(last_res)) == 0;
        if (dead != (max_abs(p->grad, p->numel) == 0))
            fail_msg("twin gradient of %s is %szero", p->name, dead ? "not " : "");
    }

    static const gw_wavenet_gemm paths[] = {GW_WAVENET_GEMM_BLAS, GW_WAVENET_GEMM_OWN};
    static const char *path_name[] = {"OpenBLAS", "own kernel"};
    for (int pi = 0; pi < 2; pi++) {
        gw_wavenet_train_set_gemm(t, paths[pi]);
        float loss;
        gw_params_zero_grad(m->params);
        assert_int_equal(gw_wavenet_train_forward(t, &loss, window, cond, mel, 1, &err), GW_OK);
        gw_wavenet_train_backward(t);

        /* 1. loss and logits */
        double loss_err = fabs((double)loss - tw.loss) / tw.loss;
        const float *logits = gw_wavenet_train_logits(t);
        assert_non_null(logits);
        double logit_err =
            gw_test_max_abs_diff(logits, tw.logits, BN * V) / (double)max_abs(tw.logits, BN * V);
        /* 2. every gradient */
        double worst;
        char worst_name[GW_PARAM_NAME_MAX] = "";
        int bad = compare_grads(m->params, tg, &worst, worst_name, sizeof worst_name);
        print_message("%s, %s: loss %.6f vs twin %.6f (rel %.1e), logits rel %.1e, "
                      "worst gradient rel %.1e (%s)\n",
                      m->cfg.name, path_name[pi], loss, tw.loss, loss_err, logit_err, worst,
                      worst_name);
        assert_true(loss_err <= 1e-5);
        assert_true(logit_err <= 1e-5);
        assert_int_equal(bad, 0);
    }

    /* 3. negative control: move the first layer's dilated-conv weight with
     * the largest gradient by 1 against it. The fused loss must move by more
     * than 10 times the 1e-5 tolerance, its gradients must fail the comparison
     * with the twin's of the old weights, and the twin rerun on the new
     * weights must agree with the fused pass again. */
    gw_param *p0 = gw_params_find(m->params, "wavenet.layer00.dil.w");
    assert_non_null(p0);
    size_t k0 = 0;
    for (size_t k = 1; k < p0->numel; k++)
        if (fabsf(p0->grad[k]) > fabsf(p0->grad[k0])) k0 = k;
    const float keep = p0->data[k0], old_loss = tw.loss;
    p0->data[k0] -= p0->grad[k0] > 0 ? 1.0f : -1.0f;
    float moved;
    gw_params_zero_grad(m->params);
    assert_int_equal(gw_wavenet_train_forward(t, &moved, window, cond, mel, 1, &err), GW_OK);
    gw_wavenet_train_backward(t);
    double worst;
    char worst_name[GW_PARAM_NAME_MAX] = "";
    int bad = compare_grads(m->params, tg, &worst, worst_name, sizeof worst_name);
    print_message("%s, control: one weight moved: loss %.6f -> %.6f (rel %.1e), "
                  "%d of %zu gradients now differ (worst rel %.1e, %s)\n",
                  m->cfg.name, old_loss, moved, fabs((double)moved - old_loss) / old_loss, bad,
                  m->params->count, worst, worst_name);
    assert_true(fabs((double)moved - old_loss) > 1e-4 * old_loss);
    assert_true(bad > 0);
    gw_params_zero_grad(tg);
    twin_forward(&tw);
    twin_backward(&tw);
    assert_true(fabs((double)moved - tw.loss) <= 1e-5 * tw.loss);
    assert_int_equal(compare_grads(m->params, tg, &worst, worst_name, sizeof worst_name), 0);
    p0->data[k0] = keep;

    twin_free(&tw);
    gw_params_free(tg);
    free(window), free(cond), free(mel);
    gw_wavenet_train_free(t);
    gw_wavenet_free(m);
}

/* the shape of presets/wavenet-tiny-pitch.json: kernel 2, two stacks of
 * dilations 1..16, pitch and velocity conditioning */
static void test_twin_tiny_pitch(void **state) {
    char path[4096];
    gw_test_preset_path(path, sizeof path, "wavenet-tiny-pitch");
    gw_wavenet_config cfg;
    gw_error err = {0};
    if (gw_wavenet_config_load(&cfg, path, &err)) fail_msg("%s", err.msg);
    assert_true(cfg.cond_dim > 0);
    check_twin(&cfg, 3, 16);
}

/* kernel 3, uneven dilations, velocity + instrument one-hot and 4 mel bands
 * of local conditioning: every input the fused pass takes */
static void test_twin_k3_vocoder(void **state) {
    static const char *json =
        "{\"model\": \"wavenet\", \"name\": \"twin-k3-mel\", \"sample_rate\": 8000,"
        " \"classes\": 256, \"residual_channels\": 6, \"gate_channels\": 5,"
        " \"skip_channels\": 7, \"head_channels\": 9, \"stacks\": 1, \"layers_per_stack\": 4,"
        " \"kernel_size\": 3, \"dilations\": [1, 3, 2, 5],"
        " \"conditioning\": {\"pitch_features\": 0, \"velocity\": true, \"instruments\": 3},"
        " \"local_conditioning\": {\"n_mels\": 4, \"hop\": 4}}";
    gw_wavenet_config cfg;
    gw_error err = {0};
    if (gw_wavenet_config_parse(&cfg, json, "test", &err)) fail_msg("%s", err.msg);
    check_twin(&cfg, 2, 9);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_twin_tiny_pitch),
        cmocka_unit_test(test_twin_k3_vocoder),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
