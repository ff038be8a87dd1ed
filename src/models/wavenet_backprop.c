/* wavenet_backprop.c - teacher-forced WaveNet forward and backward over (B, T)
 * windows with "valid" dilated convolutions (see wavenet_backprop.h; the math is
 * in docs/wavenet.md, "Training").
 *
 * Layout: channels-last, one item after another. Layer l reads x_l
 * (B, T_l, R) and writes its gate pre-activations h_l (B, T_l+1, 2G), where
 * T_l+1 = T_l - (K-1) d_l. Output position t of layer l corresponds to input
 * position t + (K-1) d_l of the same layer (the newest tap), i.e. to absolute
 * input time t + (T_in - T_l+1); that is where its mel row and its residual
 * input come from. The last layer leaves T_L = N positions, the skip and head
 * run on those.
 */
#include "models/wavenet_backprop.h"

#include "nn/gemm.h"
#include "nn/layers.h"
#include "nn/vmath.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

struct gw_wavenet_train {
    gw_wavenet *m;
    int B, N, T_in, L, K, R, G, S, H, Cg, M;
    int NB, n_out, logistic;           /* bands, outputs per position, logistic output */
    int T[GW_WAVENET_MAX_LAYERS + 1];  /* T[l]: input length of layer l; T[L] = N */
    float *x[GW_WAVENET_MAX_LAYERS];   // (B, T[l], R) input of layer l
    float *act[GW_WAVENET_MAX_LAYERS]; // (B, T[l+1], 2G) [tanh | sigmoid], dh in backward
    float *col;       // (B, T[1], K*R) the K taps of each output side by side (im2col)
    float *dcol;      // (B, T[1], K*R)
    float *z;         // (B, T[1], G) gated outputs of the current layer
    float *dz;        // (B, T[1], G)
    float *dxa;       // (B, T_in, R) ping
    float *dxb;       // (B, T_in, R) pong
    float *zall;      // (B*N, L*G) every layer's gated outputs at the N output positions
    float *dzall;     // (B*N, L*G)
    float *wskip;     // (S, L*G) every layer's skip 1x1 side by side
    float *dwskip;    // (S, L*G)
    float *skip;      // (B*N, S) relu(sum of skips)
    float *h1;        // (B*N, H) relu(head1)
    float *logits;    // (B*N, n_out)
    float *dlogits;   // (B*N, n_out)
    float *dh1;       // (B*N, H)
    float *dskip;     // (B*N, S)
    float *gbias;     // (L, B, 2G) dil bias + Vg c of each item
    float *dsum;      // (B, 2G) column sums of dh per item
    float *dbskip;    // (S) column sums of dskip
    float *cond;      // (B, C_g) copy of the conditioning
    int32_t *in_idx;  // (B, T_in)
    int32_t *tgt;     // (B, N)
    float *in_vals;   // (B, T_in, bands) logistic inputs
    float *tgt_vals;  // (B, N, bands) logistic targets
    const float *mel; // (B, T_in, M) caller's, or NULL
    void *arena;
    size_t arena_bytes;
    int have_grad;
    /* data-parallel mode (gw_wavenet_train_set_threads): the B items are
     * split into n_shards arenas run by as many threads; shard i > 0
     * accumulates into its own gradient group, summed into the model's after
     * the backward */
    int n_shards;
    /* input jitter (gw_wavenet_train_set_input_noise): training passes only */
    float jitter_p;
    uint64_t jitter_seed;
    float jitter_scale[GW_WAVENET_MAX_BANDS]; /* a band model's noise per band: p times this */
    const gw_gemm_kernels *gemm; /* nn/gemm.h strided kernel for the products, or NULL: OpenBLAS */
    float *pack;      // (max K*N) a transposed weight for the strided kernel, or the packed one's scratch
    float grad_scale; /* a shard's share of the batch mean (1 unsharded) */
    gw_wavenet_train *shard[GW_WAVENET_TRAIN_MAX_THREADS];
    gw_params *shard_grad[GW_WAVENET_TRAIN_MAX_THREADS];
    gw_wavenet_weights shard_gview[GW_WAVENET_TRAIN_MAX_THREADS];
};

/* ---- fused elementwise kernels ---------------------------------------- */

/* tanh x = 2 sigmoid(2x) - 1: absolute error ~1e-7 (relative accuracy near 0
 * is not needed here), and unlike gw_vtanhf's two-branch form GCC
 * vectorises it, which matters: ~30 M gate values per wavenet-small step */
static inline float tanh_gate(float x) {
    return 2.0f * gw_vsigmoidf(2.0f * x) - 1.0f;
}

/* Gate of one item (van den Oord et al. 2016, eq. 2) with the per-item bias
 * folded in: h += bias; act = [tanh(h[:G]), sigmoid(h[G:])] in place;
 * z = tanh * sigmoid. */
static void gate_forward(float *act,        // (T, 2G) in: h without bias; out: [tanh | sigmoid]
                         float *z,          // (T, G)
                         const float *bias, // (2G)
                         int T, int G) {
    for (int t = 0; t < T; t++) {
        float *a = act + (size_t)t * 2 * G;
        float *zt = z + (size_t)t * G;
        for (int g = 0; g < G; g++) {
            float th = tanh_gate(a[g] + bias[g]);
            float sg = gw_vsigmoidf(a[G + g] + bias[G + g]);
            a[g] = th;
            a[G + g] = sg;
            zt[g] = th * sg;
        }
    }
}

/* Backward of gate_forward in place: act [tanh | sigmoid] becomes dh, using
 * tanh' = 1 - tanh^2 and sigmoid' = s (1 - s); dsum (2G) += column sums of
 * dh (the gradient of the per-item bias). z = tanh * sigmoid is written on
 * the way (cheaper to recompute here than to keep every layer's z), for the
 * residual 1x1's weight gradient that follows. */
static void gate_backward(float *act,      // (T, 2G) in: [tanh | sigmoid]; out: dh
                          float *z,        // (T, G) out
                          float *dsum,     // (2G)
                          const float *dz, // (T, G)
                          int T, int G) {
    for (int t = 0; t < T; t++) {
        float *a = act + (size_t)t * 2 * G;
        float *zt = z + (size_t)t * G;
        const float *d = dz + (size_t)t * G;
        for (int g = 0; g < G; g++) {
            float th = a[g], sg = a[G + g];
            float da = d[g] * sg * (1.0f - th * th);
            float ds = d[g] * th * sg * (1.0f - sg);
            zt[g] = th * sg;
            a[g] = da;
            a[G + g] = ds;
            dsum[g] += da;
            dsum[G + g] += ds;
        }
    }
}

/* x_next[t] = x[t + shift] + b: the residual path plus the 1x1's bias (the
 * product itself is added with beta = 1) */
static void residual_forward(float *xn,      // (To, R)
                             const float *x, // (To + shift, R)
                             const float *b, // (R)
                             int To, int shift, int R) {
    const float *xs = x + (size_t)shift * R;
    for (int t = 0; t < To; t++)
        for (int r = 0; r < R; r++)
            xn[(size_t)t * R + r] = xs[(size_t)t * R + r] + b[r];
}

static void colsum_add(float *sum, const float *a, size_t rows, int C) { // a (rows, C)
    for (size_t i = 0; i < rows; i++)
        for (int c = 0; c < C; c++)
            sum[c] += a[i * C + c];
}

static void relu_inplace(float *a, size_t n) {
    for (size_t i = 0; i < n; i++)
        a[i] = a[i] > 0.0f ? a[i] : 0.0f;
}

/* dout *= (out > 0): ReLU backward in place, from the ReLU's output */
static void relu_mask(float *d, const float *out, size_t n) {
    for (size_t i = 0; i < n; i++)
        d[i] = out[i] > 0.0f ? d[i] : 0.0f;
}

/* ---- products ---------------------------------------------------------------
 * Every product of the pass is C (M, N) = beta C + sum_k a(m, k) b(k, n) with
 * beta 0 or 1. On CPUs with AVX-512 they run in nn/gemm.h's strided kernel
 * (a 6 x 64 register tile, unpacked: these shapes are tall and thin), chosen
 * at create; elsewhere (or with GW_WAVENET_GEMM_BLAS) in OpenBLAS. */

/* C (M, N) = op(A) op(B) + beta C, row-major, beta 0 or 1 */
static void gemm(gw_wavenet_train *t, int ta, int tb, int M, int N, int K, const float *A, int lda,
                 const float *Bm, int ldb, float beta, float *C, int ldc) {
    if (t->gemm) {
        /* wide, deep products go to the packed kernel, which reads the
         * tall A once where the strided tile reads it once per 64 columns
         * (bench_gemm on one AMD core, GFLOP/s packed vs strided: the head
         * 20476 x 256 x 128, 145 vs 73; wavenet-medium's dilated conv
         * 20476 x 128 x 128, 122 vs 77, and skip 20476 x 256 x 640, 166 vs
         * 116); narrower ones stay strided (wavenet-small's dilated conv
         * 20476 x 64 x 64: 168 vs 85; the 48 kHz wide skip, N = 96: 135 vs
         * 127) */
        if (!ta && N >= 128 && K >= 128) {
            t->gemm->packed(0, tb, M, N, K, A, lda, Bm, ldb, beta, C, ldc, t->pack);
            return;
        }
        if (tb) {               /* B given as (N, K): the kernel reads it as (K, N), packed once */
            float *p = t->pack; /* sized at create for the largest such operand */
            for (int n = 0; n < N; n++)
                for (int k = 0; k < K; k++)
                    p[(size_t)k * N + n] = Bm[(size_t)n * ldb + k];
            Bm = p, ldb = N;
        }
        size_t sam = ta ? 1 : (size_t)lda, sak = ta ? (size_t)lda : 1;
        t->gemm->strided(C, ldc, A, sam, sak, Bm, ldb, M, N, K, beta != 0.0f);
        return;
    }
    cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, M, N,
                K, 1.0f, A, lda, Bm, ldb, beta, C, ldc);
}

/* the head's 1x1 convs (nn/layers.h's dense, out = inp w^T + b) through the
 * same products as the layers */
static void dense_forward(gw_wavenet_train *t, float *out, // (N, Out)
                          const float *inp,                // (N, In)
                          const float *w,                  // (Out, In)
                          const float *b,                  // (Out)
                          int N, int In, int Out) {
    for (int n = 0; n < N; n++)
        memcpy(out + (size_t)n * Out, b, (size_t)Out * sizeof(float));
    gemm(t, 0, 1, N, Out, In, inp, In, w, In, 1.0f, out, Out);
}

/* dinp = dout w (overwritten); dw += dout^T inp; db += colsum(dout) */
static void dense_backward(gw_wavenet_train *t, float *dinp, // (N, In)
                           float *dw,                        // (Out, In)
                           float *db,                        // (Out)
                           const float *dout,                // (N, Out)
                           const float *inp,                 // (N, In)
                           const float *w,                   // (Out, In)
                           int N, int In, int Out) {
    gemm(t, 0, 0, N, In, Out, dout, Out, w, In, 0.0f, dinp, In);
    gemm(t, 1, 0, Out, In, N, dout, Out, inp, In, 1.0f, dw, In);
    colsum_add(db, dout, (size_t)N, Out);
}

/* The K taps of every output side by side, so that a layer's dilated conv
 * is ONE product over all B*To rows with inner size K*R (the weight's
 * natural (2G, K, R) layout) instead of B*K thin ones:
 *   col[b, t, k*R + r] = x[b, t + k d, r]                                  */
static void im2col_taps(float *col,     // (B, To, K*R)
                        const float *x, // (B, Ti, R)
                        int B, int Ti, int To, int R, int K, int d) {
    for (int b = 0; b < B; b++)
        for (int t = 0; t < To; t++) {
            float *dst = col + ((size_t)b * To + t) * K * R;
            for (int k = 0; k < K; k++) { /* a loop, not memcpy: R is small (32, 64) */
                const float *src = x + ((size_t)b * Ti + t + (size_t)k * d) * R;
                float *o = dst + (size_t)k * R;
                for (int r = 0; r < R; r++)
                    o[r] = src[r];
            }
        }
}

/* Backward of im2col_taps plus the residual path (x_l+1[t] = x_l[t + shift]
 * + ...): dx = col2im(dcol) + shift(dxn); dx is overwritten. dxn NULL = 0. */
static void col2im_taps(float *dx,         // (B, Ti, R)
                        const float *dcol, // (B, To, K*R)
                        const float *dxn,  // (B, To, R) or NULL
                        int B, int Ti, int To, int R, int K, int d) {
    const int shift = (K - 1) * d;
    for (int b = 0; b < B; b++) {
        float *dxb = dx + (size_t)b * Ti * R;
        if (dxn)
            memcpy(dxb + (size_t)shift * R, dxn + (size_t)b * To * R,
                   (size_t)To * R * sizeof(float));
        else
            memset(dxb + (size_t)shift * R, 0, (size_t)To * R * sizeof(float));
        memset(dxb, 0, (size_t)shift * R * sizeof(float));
        for (int t = 0; t < To; t++) {
            const float *src = dcol + ((size_t)b * To + t) * K * R;
            for (int k = 0; k < K; k++) {
                float *o = dxb + ((size_t)t + (size_t)k * d) * R;
                const float *s = src + (size_t)k * R;
                for (int r = 0; r < R; r++)
                    o[r] += s[r];
            }
        }
    }
}

/* ---- arena --------------------------------------------------------------- */

gw_status gw_wavenet_train_create(gw_wavenet_train **out, gw_wavenet *model, int batch,
                                  int n_targets, gw_error *err) {
    *out = NULL;
    const gw_wavenet_config *c = &model->cfg;
    if (batch < 1 || n_targets < 1)
        return gw_fail(err, GW_ERR_ARG, "wavenet training: batch %d and targets %d must be >= 1",
                       batch, n_targets);
    int rf = gw_wavenet_receptive_field(c);
    if ((double)n_targets + rf > 1e8 || (double)batch * (n_targets + rf) > 1e9)
        return gw_fail(err, GW_ERR_ARG, "wavenet training: window of %d x %d samples is too large",
                       batch, n_targets + rf);
    gw_wavenet_train *t = calloc(1, sizeof *t);
    if (!t) return gw_fail(err, GW_ERR_NOMEM, "wavenet training: out of memory");
    t->m = model;
    t->grad_scale = 1.0f;
    t->gemm = gw_gemm_kernels_cpu()->simd ? gw_gemm_kernels_cpu() : NULL;
    t->B = batch, t->N = n_targets, t->T_in = n_targets + rf - 1;
    t->L = c->n_layers, t->K = c->kernel, t->R = c->residual, t->G = c->gate, t->S = c->skip;
    t->H = c->head, t->Cg = c->cond_dim, t->M = c->n_mels;
    t->NB = c->bands, t->n_out = c->n_out;
    for (int k = 0; k < GW_WAVENET_MAX_BANDS; k++) t->jitter_scale[k] = 1.0f;
    t->logistic = c->distribution == GW_WAVENET_DIST_LOGISTIC;
    t->T[0] = t->T_in;
    for (int l = 0; l < t->L; l++)
        t->T[l + 1] = t->T[l] - (t->K - 1) * c->dilations[l];

    /* one allocation, every tensor at a 64-byte boundary */
    size_t B = (size_t)batch, BN = B * (size_t)n_targets, G2 = 2 * (size_t)t->G;
    size_t sizes[32 + 2 * GW_WAVENET_MAX_LAYERS], n = 0;
    for (int l = 0; l < t->L; l++) {
        sizes[n++] = B * t->T[l] * t->R * sizeof(float);
        sizes[n++] = B * t->T[l + 1] * G2 * sizeof(float);
    }
    size_t first = n;
    size_t KR = (size_t)t->K * t->R, LG = (size_t)t->L * t->G;
    sizes[n++] = B * t->T[1] * KR * sizeof(float);                        // col
    sizes[n++] = B * t->T[1] * KR * sizeof(float);                        // dcol
    sizes[n++] = B * t->T[1] * t->G * sizeof(float);                      // z
    sizes[n++] = B * t->T[1] * t->G * sizeof(float);                      // dz
    sizes[n++] = B * t->T_in * t->R * sizeof(float);                      // dxa
    sizes[n++] = B * t->T_in * t->R * sizeof(float);                      // dxb
    sizes[n++] = BN * LG * sizeof(float);                                 // zall
    sizes[n++] = BN * LG * sizeof(float);                                 // dzall
    sizes[n++] = (size_t)t->S * LG * sizeof(float);                       // wskip
    sizes[n++] = (size_t)t->S * LG * sizeof(float);                       // dwskip
    sizes[n++] = BN * t->S * sizeof(float);                               // skip
    sizes[n++] = BN * t->H * sizeof(float);                               // h1
    sizes[n++] = BN * t->n_out * sizeof(float);                           // logits
    sizes[n++] = BN * t->n_out * sizeof(float);                           // dlogits
    sizes[n++] = BN * t->H * sizeof(float);                               // dh1
    sizes[n++] = BN * t->S * sizeof(float);                               // dskip
    sizes[n++] = (size_t)t->L * B * G2 * sizeof(float);                   // gbias
    sizes[n++] = B * G2 * sizeof(float);                                  // dsum
    sizes[n++] = (size_t)t->S * sizeof(float);                            // dbskip
    sizes[n++] = B * (size_t)(t->Cg > 0 ? t->Cg : 1) * sizeof(float);     // cond
    sizes[n++] = B * t->T_in * sizeof(int32_t);                           // in_idx
    sizes[n++] = BN * sizeof(int32_t);                                    // tgt
    sizes[n++] = B * t->T_in * (t->logistic ? t->NB : 0) * sizeof(float); // in_vals
    sizes[n++] = BN * (t->logistic ? t->NB : 0) * sizeof(float);          // tgt_vals
    size_t pack = KR * G2; // pack: the largest (K, N)
    if ((size_t)t->M * G2 > pack) pack = (size_t)t->M * G2;
    if (LG * t->S > pack) pack = LG * t->S;
    if ((size_t)t->G * t->R > pack) pack = (size_t)t->G * t->R;
    if ((size_t)t->H * t->S > pack) pack = (size_t)t->H * t->S; /* head1 */
    if ((size_t)t->n_out * t->H > pack) pack = (size_t)t->n_out * t->H;
    if (gw_gemm_pack_size() > pack) pack = gw_gemm_pack_size(); /* also the packed kernel's */
    sizes[n++] = pack * sizeof(float);
    size_t total = 0;
    for (size_t i = 0; i < n; i++)
        total += gw_align64(sizes[i]);
    char *p = gw_alloc(total);
    if (!p) {
        free(t);
        return gw_fail(err, GW_ERR_NOMEM,
                       "wavenet training: cannot allocate %.1f MB of activations", total / 1e6);
    }
    t->arena = p;
    t->arena_bytes = total;
    void **slot[] = {
        (void **)&t->col,    (void **)&t->dcol,    (void **)&t->z,       (void **)&t->dz,
        (void **)&t->dxa,    (void **)&t->dxb,     (void **)&t->zall,    (void **)&t->dzall,
        (void **)&t->wskip,  (void **)&t->dwskip,  (void **)&t->skip,    (void **)&t->h1,
        (void **)&t->logits, (void **)&t->dlogits, (void **)&t->dh1,     (void **)&t->dskip,
        (void **)&t->gbias,  (void **)&t->dsum,    (void **)&t->dbskip,  (void **)&t->cond,
        (void **)&t->in_idx, (void **)&t->tgt,     (void **)&t->in_vals, (void **)&t->tgt_vals,
        (void **)&t->pack};
    size_t k = 0;
    for (int l = 0; l < t->L; l++) {
        t->x[l] = (float *)p, p += gw_align64(sizes[k++]);
        t->act[l] = (float *)p, p += gw_align64(sizes[k++]);
    }
    for (size_t i = 0; i < sizeof slot / sizeof *slot; i++) {
        *slot[i] = p;
        p += gw_align64(sizes[first + i]);
    }
    *out = t;
    return GW_OK;
}

void gw_wavenet_train_free(gw_wavenet_train *t) {
    if (!t) return;
    for (int i = 0; i < t->n_shards; i++) {
        gw_wavenet_train_free(t->shard[i]);
        gw_params_free(t->shard_grad[i]);
    }
    gw_free(t->arena);
    free(t);
}

int gw_wavenet_train_window_len(const gw_wavenet_train *t) {
    return t->T_in + 1;
}

int gw_wavenet_train_input_len(const gw_wavenet_train *t) {
    return t->T_in;
}

const float *gw_wavenet_train_logits(const gw_wavenet_train *t) {
    return t->n_shards > 1 ? NULL : t->logits;
}

double gw_wavenet_train_forward_macs(const gw_wavenet_config *c, int batch, int n_targets) {
    double R = c->residual, G = c->gate, S = c->skip, H = c->head, N = n_targets;
    double len = n_targets + gw_wavenet_receptive_field(c) - 1, macs = 0;
    for (int l = 0; l < c->n_layers; l++) {
        len -= (double)(c->kernel - 1) * c->dilations[l];
        macs += len * 2 * G * (c->kernel * R + c->n_mels) + N * S * G;
        if (l < c->n_layers - 1) macs += len * R * G;
    }
    macs += N * (S * H + H * (c->n_out > 0 ? c->n_out : GW_WAVENET_CLASSES));
    if (c->distribution == GW_WAVENET_DIST_LOGISTIC)
        macs += (N + gw_wavenet_receptive_field(c) - 1) * c->bands * R;
    return batch * macs;
}

/* ---- forward ------------------------------------------------------------- */

/* Moves a share p of the input classes (never the targets) one or two
 * mu-law steps up or down: the model then learns to predict the true next
 * sample from a past that holds small errors, as its own samples will when
 * it generates (exposure bias; LPCNet, Valin & Skoglund 2019, sec. 3.4,
 * injects noise into its inputs for the same reason). */
static void jitter_inputs(gw_wavenet_train *t) {
    gw_rng rng;
    gw_rng_seed(&rng, t->jitter_seed);
    const uint64_t threshold = (uint64_t)((double)t->jitter_p * 16777216.0);
    const size_t n = (size_t)t->B * t->T_in;
    for (size_t i = 0; i < n; i++) {
        if (gw_rng_below(&rng, 16777216) >= threshold) continue;
        int shift = 1 + (int)gw_rng_below(&rng, 2);
        int v = t->in_idx[i] + (gw_rng_below(&rng, 2) ? shift : -shift);
        t->in_idx[i] = v < 0 ? 0 : v > GW_WAVENET_CLASSES - 1 ? GW_WAVENET_CLASSES - 1 : v;
    }
}

/* The same for a logistic (band) model: every input band value gets
 * Gaussian noise of standard deviation p (band units, values in [-1, 1]),
 * clamped to [-1, 1]; targets never move. A band model's noise floor under
 * teacher forcing is its one-step sampling noise, and far below its
 * free-running floor on the high notes (docs/fidelity.md, "Where the floor
 * comes from"): there the model drifts off the recordings' path, which
 * training on noisy pasts counters. */
static void jitter_band_inputs(gw_wavenet_train *t) {
    gw_rng rng;
    gw_rng_seed(&rng, t->jitter_seed);
    const size_t n = (size_t)t->B * t->T_in * t->NB;
    for (size_t i = 0; i < n; i += 2) {
        float z[2];
        gw_rng_fill_normal(&rng, z, 2, 0.0f, t->jitter_p);
        for (size_t k = 0; k < 2 && i + k < n; k++) {
            const float v = t->in_vals[i + k] + z[k] * t->jitter_scale[(i + k) % (size_t)t->NB];
            t->in_vals[i + k] = v > 1.0f ? 1.0f : v < -1.0f ? -1.0f : v;
        }
    }
}

/* the first layer's input of a logistic model: x_0 = v Win + bin over the
 * B*T_in positions (bands is small: a plain loop) */
static void input_map_forward(float *x0, const float *v, const float *scale, const float *in_w,
                              const float *in_b, size_t n, int NB, int R) {
    for (size_t i = 0; i < n; i++) {
        float *o = x0 + i * R;
        const float *vi = v + i * NB;
        memcpy(o, in_b, (size_t)R * sizeof(float));
        for (int b = 0; b < NB; b++)
            for (int r = 0; r < R; r++)
                o[r] += vi[b] * scale[b] * in_w[(size_t)b * R + r];
    }
}

static void input_map_backward(float *d_in_w, float *d_in_b, const float *dx0, const float *v,
                               const float *scale, size_t n, int NB, int R) {
    for (size_t i = 0; i < n; i++) {
        const float *d = dx0 + i * R;
        const float *vi = v + i * NB;
        for (int r = 0; r < R; r++)
            d_in_b[r] += d[r];
        for (int b = 0; b < NB; b++)
            for (int r = 0; r < R; r++)
                d_in_w[(size_t)b * R + r] += vi[b] * scale[b] * d[r];
    }
}

/* window: (B, W) classes, or (B, W, bands) values for a logistic model */
static gw_status shard_forward(gw_wavenet_train *t, float *loss, const void *window_,
                               const float *cond, const float *mel, int want_grad, gw_error *err) {
    const uint8_t *window = window_;
    const float *vwin = window_;
    const gw_wavenet_weights *w = &t->m->w;
    const gw_wavenet_config *c = &t->m->cfg;
    const int B = t->B, N = t->N, T_in = t->T_in, L = t->L, K = t->K, R = t->R, G = t->G;
    const int S = t->S, H = t->H, Cg = t->Cg, M = t->M, G2 = 2 * G, W = T_in + 1;
    const int rf = W - N, KR = K * R, LG = L * G;
    const size_t BN = (size_t)B * N;
    t->have_grad = 0;
    t->mel = M > 0 ? mel : NULL;
    const int NB = t->NB, n_out = t->n_out;
    if (t->logistic) {
        for (int b = 0; b < B; b++) {
            const float *wb = vwin + (size_t)b * W * NB;
            memcpy(t->in_vals + (size_t)b * T_in * NB, wb, (size_t)T_in * NB * sizeof(float));
            memcpy(t->tgt_vals + (size_t)b * N * NB, wb + (size_t)rf * NB,
                   (size_t)N * NB * sizeof(float));
        }
        if (want_grad && t->jitter_p > 0) jitter_band_inputs(t);
    } else {
        for (int b = 0; b < B; b++) {
            for (int i = 0; i < T_in; i++)
                t->in_idx[(size_t)b * T_in + i] = window[(size_t)b * W + i];
            for (int i = 0; i < N; i++)
                t->tgt[(size_t)b * N + i] = window[(size_t)b * W + rf + i];
        }
        if (want_grad && t->jitter_p > 0) jitter_inputs(t);
    }
    if (Cg > 0) {
        if (cond)
            memcpy(t->cond, cond, (size_t)B * Cg * sizeof(float));
        else
            memset(t->cond, 0, (size_t)B * Cg * sizeof(float));
    }
    gw_status st = GW_OK;
    if (t->logistic)
        input_map_forward(t->x[0], t->in_vals, c->in_scale, w->in_w, w->in_b, (size_t)B * T_in, NB,
                          R);
    else if ((st = gw_embedding_forward(t->x[0], w->embed, t->in_idx, B * T_in, GW_WAVENET_CLASSES,
                                        R, err)))
        return st;

    for (int l = 0; l < L; l++) {
        const gw_wavenet_layer *ly = &w->layer[l];
        const int d = c->dilations[l], Ti = t->T[l], To = t->T[l + 1], off = T_in - To;
        float *gb = t->gbias + (size_t)l * B * G2; // (B, 2G)
        for (int b = 0; b < B; b++) {
            float *gbb = gb + (size_t)b * G2;
            memcpy(gbb, ly->dil_b, (size_t)G2 * sizeof(float));
            if (Cg > 0) /* global conditioning: Vg c, once per item instead of per sample */
                cblas_sgemv(CblasRowMajor, CblasNoTrans, G2, Cg, 1.0f, ly->cond_w, Cg,
                            t->cond + (size_t)b * Cg, 1, 1.0f, gbb, 1);
        }
        /* the dilated conv of the whole batch as one product */
        im2col_taps(t->col, t->x[l], B, Ti, To, R, K, d);
        gemm(t, 0, 1, B * To, G2, KR, t->col, KR, ly->dil_w, KR, 0.0f, t->act[l], G2);
        for (int b = 0; b < B; b++) {
            float *hb = t->act[l] + (size_t)b * To * G2; // (To, 2G)
            float *zb = t->z + (size_t)b * To * G;       // (To, G)
            if (t->mel) /* local conditioning: mel row of the output's absolute time */
                gemm(t, 0, 1, To, G2, M, t->mel + ((size_t)b * T_in + off) * M, M, ly->lc_w, M,
                     1.0f, hb, G2);
            gate_forward(hb, zb, gb + (size_t)b * G2, To, G);
            /* the N output positions feed the skip products, all layers at once below */
            for (int n = 0; n < N; n++) {
                float *o = t->zall + ((size_t)b * N + n) * LG + (size_t)l * G;
                const float *src = zb + (size_t)(To - N + n) * G;
                for (int g = 0; g < G; g++)
                    o[g] = src[g];
            }
            if (l < L - 1)
                residual_forward(t->x[l + 1] + (size_t)b * To * R, t->x[l] + (size_t)b * Ti * R,
                                 ly->res_b, To, (K - 1) * d, R);
        }
        if (l < L - 1) /* the rows of z and x_l+1 line up: one product for the batch */
            gemm(t, 0, 1, B * To, R, G, t->z, G, ly->res_w, G, 1.0f, t->x[l + 1], R);
    }

    /* skip = sum_l Wskip_l z_l + bskip_l as one product: [Wskip_0 .. Wskip_L-1] zall */
    float *skip = t->skip; // (B*N, S)
    memset(t->dbskip, 0, (size_t)S * sizeof(float));
    for (int l = 0; l < L; l++) {
        const float *ws = w->layer[l].skip_w; // (S, G)
        for (int s = 0; s < S; s++) {
            memcpy(t->wskip + (size_t)s * LG + (size_t)l * G, ws + (size_t)s * G,
                   (size_t)G * sizeof(float));
            t->dbskip[s] += w->layer[l].skip_b[s];
        }
    }
    for (size_t i = 0; i < BN; i++)
        memcpy(skip + i * S, t->dbskip, (size_t)S * sizeof(float));
    gemm(t, 0, 1, (int)BN, S, LG, t->zall, LG, t->wskip, LG, 1.0f, skip, S);

    /* head: relu -> 1x1 S->H -> relu -> 1x1 H->256 */
    relu_inplace(skip, BN * S);
    dense_forward(t, t->h1, skip, w->head1_w, w->head1_b, (int)BN, S, H);
    relu_inplace(t->h1, BN * H);
    dense_forward(t, t->logits, t->h1, w->out_w, w->out_b, (int)BN, H, n_out);
    float *dl = NULL;
    if (want_grad) {
        memset(t->dlogits, 0, BN * n_out * sizeof(float));
        dl = t->dlogits;
    }
    if (t->logistic) /* rows of 3M per band value: the mean over all B N bands values */
        st = gw_loss_dmol(loss, dl, t->logits, t->tgt_vals, (int)(BN * NB), c->mixtures,
                          GW_WAVENET_LEVELS, c->log_scale_min, "wavenet mixture", err);
    else
        st = gw_loss_softmax_xent(loss, dl, t->logits, t->tgt, (int)BN, GW_WAVENET_CLASSES,
                                  "wavenet logits", err);
    if (st) return st;
    if (dl && t->grad_scale != 1.0f)
        for (size_t i = 0; i < BN * n_out; i++)
            dl[i] *= t->grad_scale;
    t->have_grad = want_grad;
    return GW_OK;
}

/* ---- backward ------------------------------------------------------------ */

static void shard_backward(gw_wavenet_train *t, const gw_wavenet_weights *gw) {
    if (!t->have_grad) return;
    const gw_wavenet_weights *w = &t->m->w;
    const gw_wavenet_config *c = &t->m->cfg;
    const int B = t->B, N = t->N, T_in = t->T_in, L = t->L, K = t->K, R = t->R, G = t->G;
    const int S = t->S, H = t->H, Cg = t->Cg, M = t->M, G2 = 2 * G, KR = K * R, LG = L * G;
    const size_t BN = (size_t)B * N;

    /* head */
    dense_backward(t, t->dh1, gw->out_w, gw->out_b, t->dlogits, t->h1, w->out_w, (int)BN, H,
                   t->n_out);
    relu_mask(t->dh1, t->h1, BN * H);
    dense_backward(t, t->dskip, gw->head1_w, gw->head1_b, t->dh1, t->skip, w->head1_w, (int)BN, S,
                   H);
    relu_mask(t->dskip, t->skip, BN * S);
    /* the skip products of all layers at once; every skip bias gets colsum(dskip) */
    gemm(t, 0, 0, (int)BN, LG, S, t->dskip, S, t->wskip, LG, 0.0f, t->dzall, LG);
    gemm(t, 1, 0, S, LG, (int)BN, t->dskip, S, t->zall, LG, 0.0f, t->dwskip, LG);
    memset(t->dbskip, 0, (size_t)S * sizeof(float));
    colsum_add(t->dbskip, t->dskip, BN, S);
    for (int l = 0; l < L; l++) {
        float *gs = gw->layer[l].skip_w; // (S, G)
        for (int s = 0; s < S; s++) {
            const float *src = t->dwskip + (size_t)s * LG + (size_t)l * G;
            for (int g = 0; g < G; g++)
                gs[(size_t)s * G + g] += src[g];
            gw->layer[l].skip_b[s] += t->dbskip[s];
        }
    }

    float *dxn = NULL;   // (B, T[l+1], R) gradient of layer l's output x_l+1
    float *dxc = t->dxa; // (B, T[l], R) gradient of its input x_l
    for (int l = L - 1; l >= 0; l--) {
        const gw_wavenet_layer *ly = &w->layer[l];
        const gw_wavenet_layer *gl = &gw->layer[l];
        const int d = c->dilations[l], Ti = t->T[l], To = t->T[l + 1], off = T_in - To;
        /* dz = dx_l+1 Wres (residual 1x1) + the skip gradient on the N outputs */
        if (dxn) {
            gemm(t, 0, 0, B * To, G, R, dxn, R, ly->res_w, G, 0.0f, t->dz, G);
            colsum_add(gl->res_b, dxn, (size_t)B * To, R);
        } else {
            memset(t->dz, 0, (size_t)B * To * G * sizeof(float));
        }
        for (int b = 0; b < B; b++)
            for (int n = 0; n < N; n++) {
                float *o = t->dz + ((size_t)b * To + To - N + n) * G;
                const float *s = t->dzall + ((size_t)b * N + n) * LG + (size_t)l * G;
                for (int g = 0; g < G; g++)
                    o[g] += s[g];
            }

        /* gate: act[l] becomes dh in place */
        memset(t->dsum, 0, (size_t)B * G2 * sizeof(float));
        for (int b = 0; b < B; b++)
            gate_backward(t->act[l] + (size_t)b * To * G2, t->z + (size_t)b * To * G,
                          t->dsum + (size_t)b * G2, t->dz + (size_t)b * To * G, To, G);
        if (dxn) /* the residual 1x1's weight gradient, with z from the gate pass */
            gemm(t, 1, 0, R, G, B * To, dxn, R, t->z, G, 1.0f, gl->res_w, G);
        for (int b = 0; b < B; b++) {
            const float *ds = t->dsum + (size_t)b * G2;
            for (int j = 0; j < G2; j++)
                gl->dil_b[j] += ds[j];
            if (Cg > 0) /* dVg += dsum_b c_b^T */
                cblas_sger(CblasRowMajor, G2, Cg, 1.0f, ds, 1, t->cond + (size_t)b * Cg, 1,
                           gl->cond_w, Cg);
        }
        const float *dh = t->act[l]; // (B*To, 2G)
        if (t->mel)
            for (int b = 0; b < B; b++)
                gemm(t, 1, 0, G2, M, To, dh + (size_t)b * To * G2, G2,
                     t->mel + ((size_t)b * T_in + off) * M, M, 1.0f, gl->lc_w, M);

        /* the dilated conv's weight and input gradients, each one product */
        im2col_taps(t->col, t->x[l], B, Ti, To, R, K, d);
        gemm(t, 1, 0, G2, KR, B * To, dh, G2, t->col, KR, 1.0f, gl->dil_w, KR);
        gemm(t, 0, 0, B * To, KR, G2, dh, G2, ly->dil_w, KR, 0.0f, t->dcol, KR);
        col2im_taps(dxc, t->dcol, dxn, B, Ti, To, R, K, d);
        dxn = dxc;
        dxc = dxc == t->dxa ? t->dxb : t->dxa;
    }
    /* dxn now holds dx_0 (B, T_in, R): scatter into the embedding rows */
    if (t->logistic)
        input_map_backward(gw->in_w, gw->in_b, dxn, t->in_vals, c->in_scale, (size_t)B * T_in,
                           t->NB, R);
    else
        gw_embedding_backward(gw->embed, dxn, t->in_idx, B * T_in, GW_WAVENET_CLASSES, R, NULL);
    t->have_grad = 0;
}

/* ---- data-parallel threads ------------------------------------------------ */

gw_status gw_wavenet_train_set_threads(gw_wavenet_train *t, int threads, gw_error *err) {
    for (int i = 0; i < t->n_shards; i++) {
        gw_wavenet_train_free(t->shard[i]);
        gw_params_free(t->shard_grad[i]);
        t->shard[i] = NULL, t->shard_grad[i] = NULL;
    }
    t->n_shards = 0;
    if (threads > GW_WAVENET_TRAIN_MAX_THREADS) threads = GW_WAVENET_TRAIN_MAX_THREADS;
    if (threads > t->B) threads = t->B;
    while (threads > 1 && t->B % threads)
        threads--; /* equal shards keep the mean exact */
    if (threads <= 1) return GW_OK;
    gw_status st = GW_OK;
    for (int i = 0; i < threads && !st; i++) {
        st = gw_wavenet_train_create(&t->shard[i], t->m, t->B / threads, t->N, err);
        if (!st) t->shard[i]->grad_scale = 1.0f / (float)threads;
        if (!st) t->shard[i]->gemm = t->gemm;
        if (!st) memcpy(t->shard[i]->jitter_scale, t->jitter_scale, sizeof t->jitter_scale);
        if (!st && i > 0) {
            t->shard_grad[i] = gw_params_create();
            if (!t->shard_grad[i])
                st = gw_fail(err, GW_ERR_NOMEM, "wavenet training: out of memory");
            if (!st) st = gw_wavenet_params_declare(t->shard_grad[i], &t->m->cfg, err);
            if (!st) st = gw_params_alloc(t->shard_grad[i], err);
            if (!st)
                st = gw_wavenet_weights_bind(&t->shard_gview[i], t->shard_grad[i], &t->m->cfg, 1,
                                             err);
        }
        t->n_shards = i + 1;
    }
    if (!st && t->shard_grad[1]->total != t->m->params->total)
        st = gw_fail(err, GW_ERR_ARG, "wavenet training: gradient layouts differ");
    if (st) gw_wavenet_train_set_threads(t, 1, NULL);
    return st;
}

void gw_wavenet_train_set_gemm(gw_wavenet_train *t, gw_wavenet_gemm which) {
    const gw_gemm_kernels *cpu = gw_gemm_kernels_cpu();
    t->gemm = which == GW_WAVENET_GEMM_OWN    ? cpu
              : which == GW_WAVENET_GEMM_BLAS ? NULL
              : cpu->simd                     ? cpu
                                              : NULL;
    for (int i = 0; i < t->n_shards; i++)
        t->shard[i]->gemm = t->gemm;
}

int gw_wavenet_train_threads(const gw_wavenet_train *t) {
    return t->n_shards > 1 ? t->n_shards : 1;
}

typedef struct shard_job {
    gw_wavenet_train *t;
    const gw_wavenet_weights *gview;
    const void *window;
    const float *cond, *mel;
    int want_grad, backward;
    float loss;
    gw_status st;
    gw_error err;
} shard_job;

static void *shard_run(void *p) {
    shard_job *j = p;
    gw_denormals_flush(); /* a shard thread computes like the trainer's own (base/fpenv.c) */
    if (j->backward)
        shard_backward(j->t, j->gview);
    else
        j->st = shard_forward(j->t, &j->loss, j->window, j->cond, j->mel, j->want_grad, &j->err);
    return NULL;
}


void gw_wavenet_train_set_input_noise(gw_wavenet_train *t, float p, uint64_t seed) {
    t->jitter_p = p < 0 ? 0 : p > 1 ? 1 : p;
    t->jitter_seed = seed;
    for (int i = 0; i < t->n_shards; i++)
        if (t->shard[i])
            gw_wavenet_train_set_input_noise(t->shard[i], p,
                                             seed + 0x9E3779B97F4A7C15ull * (i + 1));
}

void gw_wavenet_train_set_band_noise_scale(gw_wavenet_train *t, const float *scale) {
    for (int k = 0; k < GW_WAVENET_MAX_BANDS; k++)
        t->jitter_scale[k] = scale && k < t->NB ? scale[k] : 1.0f;
    for (int i = 0; i < t->n_shards; i++)
        if (t->shard[i]) gw_wavenet_train_set_band_noise_scale(t->shard[i], scale);
}

static gw_status forward_any(gw_wavenet_train *t, float *loss, const void *window,
                             const float *cond, const float *mel, int want_grad, gw_error *err) {
    if (t->n_shards <= 1) return shard_forward(t, loss, window, cond, mel, want_grad, err);
    const int n = t->n_shards, b = t->B / n, W = t->T_in + 1;
    const size_t item = t->logistic ? (size_t)W * t->NB * sizeof(float) : (size_t)W;
    shard_job jobs[GW_WAVENET_TRAIN_MAX_THREADS];
    for (int i = 0; i < n; i++)
        jobs[i] = (shard_job){.t = t->shard[i],
                              .window = (const char *)window + (size_t)i * b * item,
                              .cond = cond && t->Cg ? cond + (size_t)i * b * t->Cg : NULL,
                              .mel = mel && t->M ? mel + (size_t)i * b * t->T_in * t->M : NULL,
                              .want_grad = want_grad};
    gw_run_jobs(shard_run, jobs, sizeof jobs[0], n);
    double sum = 0;
    for (int i = 0; i < n; i++) {
        if (jobs[i].st) {
            if (err) *err = jobs[i].err;
            return jobs[i].st;
        }
        sum += jobs[i].loss;
    }
    *loss = (float)(sum / n);
    t->have_grad = want_grad;
    return GW_OK;
}

gw_status gw_wavenet_train_forward(gw_wavenet_train *t, float *loss, const uint8_t *window,
                                   const float *cond, const float *mel, int want_grad,
                                   gw_error *err) {
    if (t->logistic)
        return gw_fail(err, GW_ERR_ARG, "%s: a logistic-output model trains on band values",
                       t->m->cfg.name);
    return forward_any(t, loss, window, cond, mel, want_grad, err);
}

gw_status gw_wavenet_train_forward_bands(gw_wavenet_train *t, float *loss, const float *window,
                                         const float *cond, const float *mel, int want_grad,
                                         gw_error *err) {
    if (!t->logistic)
        return gw_fail(err, GW_ERR_ARG, "%s: a mu-law model trains on classes", t->m->cfg.name);
    return forward_any(t, loss, window, cond, mel, want_grad, err);
}

void gw_wavenet_train_backward(gw_wavenet_train *t) {
    if (t->n_shards <= 1) {
        shard_backward(t, &t->m->g);
        return;
    }
    if (!t->have_grad) return;
    const int n = t->n_shards;
    shard_job jobs[GW_WAVENET_TRAIN_MAX_THREADS];
    for (int i = 0; i < n; i++) {
        if (i > 0) gw_params_zero_grad(t->shard_grad[i]);
        jobs[i] = (shard_job){
            .t = t->shard[i], .gview = i ? &t->shard_gview[i] : &t->m->g, .backward = 1};
    }
    gw_run_jobs(shard_run, jobs, sizeof jobs[0], n);
    /* each shard's gradient already counts 1/n (grad_scale); shard 0 added
     * into the model's gradients, the others' are added now */
    float *g = t->m->params->grad;
    for (int i = 1; i < n; i++) {
        const float *gi = t->shard_grad[i]->grad;
        for (size_t k = 0; k < t->m->params->total; k++)
            g[k] += gi[k];
    }
    t->have_grad = 0;
}
