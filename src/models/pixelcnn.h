/* pixelcnn.h - Gated PixelCNN (van den Oord et al. 2016, "Conditional Image
 * Generation with PixelCNN Decoders") over quantised log-mel images:
 * configuration, named weights, the training pass, a naive sampler and the
 * cached sampler of Ramachandran et al. 2017 ("Fast Generation for
 * Convolutional Autoregressive Models"). Shapes of the shipped preset:
 * shared/spec/reference-models.md, "pixelcnn-small".
 *
 * Image: the log-mel feature of spec_features.h laid out with rows = frames
 * (time) and columns = mel bands (low to high), so H = features.frames and
 * W = features.n_mels; each normalised value in [-1, 1] is quantised to
 * q = round((x + 1) / 2 * 255), and the network reads x = q / 127.5 - 1.
 * p(q) = prod_i p(q_i | q_<i) in raster order (frame by frame, low band to
 * high band), each factor a 256-way softmax.
 *
 * Network, NCHW, C channels, L gated layers of type B after one of type A.
 * Layer l reads (v, h) (both x for l = 0) and, with e_v, e_h the label's
 * embedding rows (2C; zero without conditioning):
 *   P   = Vconv(v) + bv                   (2C)  rows r-KH+1..r, cols c-KW/2..c+KW/2
 *   Q   = Hconv(h) + bh                   (2C)  type B: cols c-1..c
 *                                               type A: cols c-4..c-1, and 0 (no
 *                                               bias) in column 0
 *         + Wv2h down(P) + bv2h                 down(P)[r] = P[r-1], 0 in row 0
 *   v'  = tanh(P[:C] + e_v[:C]) * sigmoid(P[C:] + e_v[C:])
 *   g   = tanh(Q[:C] + e_h[:C]) * sigmoid(Q[C:] + e_h[C:])
 *   h'  = g (type A);  h + Wres g + bres (type B)
 * with Vconv 4 x 7 (type A, 1 -> 2C) or 2 x 3 (type B, C -> 2C) and Hconv
 * 1 x 4 or 1 x 2; then per pixel
 *   logits = Wout relu(W1 relu(h_L) + b1) + bout   (256)
 * This follows the peer (shared/peers/pixelcnn_peer.py) to the bias: a
 * shifted output is zero where the shift brings in padding, bias included.
 * v2h reads the pre-activations without the embedding; a label enters every
 * gate of both stacks (the paper's eq. 4 with a one-hot h).
 *
 * Why it is causal without a blind spot (the paper, sec. 2.2): the vertical
 * stack at row r sees rows <= r (the whole current row, so it may not reach
 * the horizontal stack unshifted); down() hands the horizontal stack only
 * rows <= r-1, but all their columns within reach. The horizontal stack
 * sees the current row left of the pixel: layer 0 shifts it right by one so
 * the pixel itself is excluded, later layers may include column c, which by
 * then holds only information from before the pixel. Pixel (r, c)'s logits
 * depend on exactly the inputs at rows r-4-L..r-1, columns c-3-L..c+3+L, and
 * at row r, columns c-4-L..c-1 (tests/models/test_pixelcnn.c checks this
 * set both ways).
 *
 * Named tensors (nn/params.h), in this order, NN = 00 .. L:
 *   pixelcnn.layerNN.v.w     (2C, C_in, KH, KW)  C_in = 1 for layer 0, else C
 *   pixelcnn.layerNN.v.b     (2C)
 *   pixelcnn.layerNN.h.w     (2C, C_in, 1, KW)
 *   pixelcnn.layerNN.h.b     (2C)
 *   pixelcnn.layerNN.v2h.w   (2C, 2C)
 *   pixelcnn.layerNN.v2h.b   (2C)
 *   pixelcnn.layerNN.res.w   (C, C)              layers 1..L
 *   pixelcnn.layerNN.res.b   (C)                 layers 1..L
 *   pixelcnn.layerNN.v.emb   (classes, 2C)       conditioned, layers 0..L-1 (the
 *                                                last vertical gate feeds nothing)
 *   pixelcnn.layerNN.h.emb   (classes, 2C)       conditioned
 *   pixelcnn.head1.w (HEAD, C), pixelcnn.head1.b (HEAD)
 *   pixelcnn.out.w (256, HEAD), pixelcnn.out.b (256)
 *
 * Preset JSON (presets/pixelcnn-small.json; absent keys keep the
 * pixelcnn-small values, unknown keys are errors):
 *   {"model": "pixelcnn", "name": "...", "features": {...spec_features...},
 *    "channels": 32, "layers": 10, "head_channels": 128, "classes": 0,
 *    "train": {"batch": 16, "lr": 1e-3, "beta1": 0.9, "beta2": 0.999}}
 */
#ifndef GW_MODELS_PIXELCNN_H
#define GW_MODELS_PIXELCNN_H

#include "base/gw_base.h"
#include "models/spec_config.h"
#include "models/spec_features.h"
#include "nn/params.h"

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>

#define GW_PIXELCNN_KIND "pixelcnn"

enum {
    GW_PIXELCNN_LEVELS = GW_SPEC_LEVELS, /* classes per pixel (spec_features.h) */
    GW_PIXELCNN_MAX_LAYERS = 64,
    GW_PIXELCNN_MAX_CHANNELS = 1024,
    GW_PIXELCNN_MAX_CLASSES = 65536,
    GW_PIXELCNN_NAME_MAX = GW_SPEC_NAME_MAX,
};

/* ---- configuration ---------------------------------------------------- */

typedef struct gw_pixelcnn_config {
    GW_SPEC_COMMON;    /* first: name, feat, batch, lr, beta1, beta2 (spec_config.h);
                          sample_every 500, not a preset key */
    int height, width; /* derived: feat.frames rows, feat.n_mels columns */
    int channels;      /* C */
    int layers;        /* L: type-B layers after the type-A layer */
    int head;          /* hidden width of the output head */
    int classes;       /* labels for conditioning; 0 = unconditioned */
} gw_pixelcnn_config;

void gw_pixelcnn_config_default(gw_pixelcnn_config *c); /* pixelcnn-small */
/* checks every value (naming its key) and derives height and width */
gw_status gw_pixelcnn_config_validate(gw_pixelcnn_config *c, const char *source, gw_error *err);
gw_status gw_pixelcnn_config_from_json(gw_pixelcnn_config *c, const cJSON *root, const char *source,
                                       gw_error *err);
gw_status gw_pixelcnn_config_parse(gw_pixelcnn_config *c, const char *json, const char *source,
                                   gw_error *err);
gw_status gw_pixelcnn_config_load(gw_pixelcnn_config *c, const char *path, gw_error *err);
/* the config as preset JSON (malloc'ed, caller frees); NULL on no memory */
char *gw_pixelcnn_config_to_json(const gw_pixelcnn_config *c);

/* multiply-adds of one pixel's forward (the spec's count: every conv, the
 * 1x1s and the head; the label's embedding is free) */
size_t gw_pixelcnn_macs_per_pixel(const gw_pixelcnn_config *c);

/* ---- weights (views into the parameter group, as gw_wavenet_weights) -- */

typedef struct gw_pixelcnn_layer {
    float *v_w;   // (2C, C_in, KH, KW)
    float *v_b;   // (2C)
    float *h_w;   // (2C, C_in, 1, KW)
    float *h_b;   // (2C)
    float *v2h_w; // (2C, 2C)
    float *v2h_b; // (2C)
    float *res_w; // (C, C), NULL in layer 0
    float *res_b; // (C), NULL in layer 0
    float *v_emb; // (classes, 2C), NULL unconditioned and in layer L
    float *h_emb; // (classes, 2C), NULL unconditioned
} gw_pixelcnn_layer;

typedef struct gw_pixelcnn_weights {
    gw_pixelcnn_layer layer[GW_PIXELCNN_MAX_LAYERS + 1];
    float *head1_w; // (HEAD, C)
    float *head1_b; // (HEAD)
    float *out_w;   // (256, HEAD)
    float *out_b;   // (256)
} gw_pixelcnn_weights;

typedef struct gw_pixelcnn {
    gw_pixelcnn_config cfg;
    gw_params *params;     /* owned */
    gw_pixelcnn_weights w; /* into params->data */
    gw_pixelcnn_weights g; /* into params->grad */
} gw_pixelcnn;

/* validates a copy of cfg, declares and allocates zeroed tensors */
gw_status gw_pixelcnn_create(gw_pixelcnn **out, const gw_pixelcnn_config *cfg, gw_error *err);
/* declares cfg's tensors (the names and shapes above) in p without
 * allocating them: what a loader checks a file against before it allocates
 * anything the size of the model (pixelcnn_file.h) */
gw_status gw_pixelcnn_params_declare(gw_params *p, const gw_pixelcnn_config *cfg, gw_error *err);
/* takes ownership of an allocated group (a model file's), freeing it on
 * failure; every tensor is checked against cfg's shapes */
gw_status gw_pixelcnn_create_from(gw_pixelcnn **out, const gw_pixelcnn_config *cfg,
                                  gw_params *params, gw_error *err);
void gw_pixelcnn_free(gw_pixelcnn *m); /* NULL is fine */
/* PyTorch's defaults: conv and 1x1 weights and biases U(+-1/sqrt(fan_in)),
 * embeddings N(0, 1) */
void gw_pixelcnn_weights_init(gw_pixelcnn_weights *w, const gw_pixelcnn_config *cfg, gw_rng *rng);

/* ---- the masked operators (public for their tests) --------------------
 * A masked convolution is a "same" convolution whose zero padding sits on
 * chosen sides, so an output sees only what the raster order allows:
 *   out[b,o,r,c] = c < shift ? 0
 *                : bias[o] + sum_{i,kh,kw} w[o,i,kh,kw] in[b,i, r-top+kh, c-shift-left+kw]
 * (inputs outside the image are 0). Vertical: top = KH-1, left = KW/2;
 * horizontal: KH = 1, top = 0, left = KW-1, shift 1 for type A. The fast
 * kernels pad into the workspace and run nn/conv2d.h's valid convolution
 * (its padding is symmetric); the *_ref twins are the direct loops above.
 * Forward OVERWRITES out; backward ACCUMULATES into dinp, dw, db (any may
 * be NULL). */
typedef struct gw_pixelcnn_conv {
    int B, C_in, C_out, H, W; /* in (B, C_in, H, W), out (B, C_out, H, W) */
    int KH, KW;
    int top, left; /* zero rows above, columns left; KH-1-top below, KW-1-left right */
    int shift;     /* 0 or 1: output columns moved right, the first ones 0 */
    int bf16;      /* products in bf16 (gw_conv2d_dims.bf16) */
} gw_pixelcnn_conv;

/* the vertical (v) and horizontal (h) convolutions of layer l at batch B */
void gw_pixelcnn_layer_convs(const gw_pixelcnn_config *c, int l, int B, gw_pixelcnn_conv *v,
                             gw_pixelcnn_conv *h);
/* floats of workspace the fast kernels of g need */
size_t gw_pixelcnn_conv_workspace(const gw_pixelcnn_conv *g);

void gw_pixelcnn_conv_forward(float *out,      // (B, C_out, H, W)
                              const float *in, // (B, C_in, H, W)
                              const float *w,  // (C_out, C_in, KH, KW)
                              const float *b,  // (C_out) or NULL
                              const gw_pixelcnn_conv *g, float *work);
void gw_pixelcnn_conv_backward(float *dinp,       // (B, C_in, H, W) or NULL
                               float *dw,         // (C_out, C_in, KH, KW) or NULL
                               float *db,         // (C_out) or NULL
                               const float *dout, // (B, C_out, H, W)
                               const float *in,   // (B, C_in, H, W)
                               const float *w,    // (C_out, C_in, KH, KW)
                               const gw_pixelcnn_conv *g, float *work);
void gw_pixelcnn_conv_forward_ref(float *out, const float *in, const float *w, const float *b,
                                  const gw_pixelcnn_conv *g);
void gw_pixelcnn_conv_backward_ref(float *dinp, float *dw, float *db, const float *dout,
                                   const float *in, const float *w, const gw_pixelcnn_conv *g);

/* The vertical-to-horizontal link: a 1x1 convolution of the input shifted
 * down one row, ADDED into out (it is one term of Q):
 *   out[b,o,r,c] += bias[o] + (r > 0 ? sum_i w[o,i] in[b,i,r-1,c] : 0)
 * The fast kernel runs conv2d's 1x1 on the unshifted input (the shift
 * commutes with a 1x1) and adds its rows one down. Backward ACCUMULATES.
 * bf16: the products in bf16 (gw_conv2d_dims.bf16). */
size_t gw_pixelcnn_down_workspace(int B, int C_in, int C_out, int H, int W);
void gw_pixelcnn_down_forward(float *out,      // (B, C_out, H, W), added to
                              const float *in, // (B, C_in, H, W)
                              const float *w,  // (C_out, C_in)
                              const float *b,  // (C_out)
                              int B, int C_in, int C_out, int H, int W, int bf16, float *work);
void gw_pixelcnn_down_backward(float *dinp, float *dw, float *db, // or NULL each
                               const float *dout,                 // (B, C_out, H, W)
                               const float *in, const float *w, int B, int C_in, int C_out, int H,
                               int W, int bf16, float *work);
void gw_pixelcnn_down_forward_ref(float *out, const float *in, const float *w, const float *b,
                                  int B, int C_in, int C_out, int H, int W);
void gw_pixelcnn_down_backward_ref(float *dinp, float *dw, float *db, const float *dout,
                                   const float *in, const float *w, int B, int C_in, int C_out,
                                   int H, int W);

/* ---- the training pass -------------------------------------------------
 * An arena for `batch` images (all activations in one allocation, nothing
 * allocated per step). Forward keeps what backward needs (each layer's P,
 * Q and outputs; the gates are recomputed from P and Q) and backward
 * ACCUMULATES into model->g, so call gw_params_zero_grad once per step.
 * The model must outlive the arena; its weights may change between steps. */
typedef struct gw_pixelcnn_train gw_pixelcnn_train;

gw_status gw_pixelcnn_train_create(gw_pixelcnn_train **out, gw_pixelcnn *model, int batch,
                                   gw_error *err);
void gw_pixelcnn_train_free(gw_pixelcnn_train *t); /* NULL is fine */

/* Data-parallel threads, as the WaveNet trainer's (wavenet_backprop.h): the
 * batch is split into `threads` equal shards (fewer if B does not divide),
 * each with its own activations, run on as many threads; shards 1.. add
 * private gradients into the model's after the backward. The result equals
 * the one-arena pass up to float summation order. Each shard's products run
 * on its own thread, so use it with OpenBLAS at 1 thread (gw_blas_setup(1)):
 * it also spreads the gates, the head's softmax and the im2col, which
 * threading each product does not. threads <= 1 returns to one arena. While
 * sharded, this arena's own activations are freed: gw_pixelcnn_train_logits,
 * _dlogits and _dinput give NULL, and the held-out figure is measured
 * through the shards, in parallel too. */
enum { GW_PIXELCNN_TRAIN_MAX_THREADS = 16 };
gw_status gw_pixelcnn_train_set_threads(gw_pixelcnn_train *t, int threads, gw_error *err);
int gw_pixelcnn_train_threads(const gw_pixelcnn_train *t);
/* Mixed precision: every product (the convolutions and the head's dense
 * layers) with its operands rounded to bfloat16 and summed in f32
 * (nn/conv2d.h, gw_conv2d_dims.bf16; the gates, the softmax and Adam stay
 * f32), where the CPU has AVX512_BF16. Off
 * at create; returns whether it is on (0 on a CPU without it). Shards
 * made before or after follow. */
int gw_pixelcnn_train_set_bf16(gw_pixelcnn_train *t, int on);

/* Forward over the batch. *loss (may be NULL when want_grad = 0) = mean
 * cross-entropy over the B H W pixels in nats (/ ln 2 for bits per dim).
 * labels (B) in [0, classes) for a conditioned model, ignored (may be NULL)
 * for an unconditioned one. want_grad = 1 also writes the loss's gradient
 * wrt the logits for the backward. GW_ERR_ARG for a bad label,
 * GW_ERR_NUMERIC when the loss is not finite. */
gw_status gw_pixelcnn_train_forward(gw_pixelcnn_train *t, float *loss,
                                    const uint8_t *q,      // (B, H, W)
                                    const int32_t *labels, // (B) or NULL
                                    int want_grad, gw_error *err);
/* Backward of the last forward (want_grad = 1) from the gradient in
 * gw_pixelcnn_train_dlogits: ACCUMULATES into model->g and overwrites
 * gw_pixelcnn_train_dinput. */
void gw_pixelcnn_train_backward(gw_pixelcnn_train *t);

/* the last forward's logits, (B, H, W, 256): row (b, r, c) predicts q[b, r, c] */
const float *gw_pixelcnn_train_logits(const gw_pixelcnn_train *t);
/* the gradient the backward starts from, (B, H, W, 256): the loss's after a
 * forward with want_grad; a caller may overwrite it to backpropagate
 * another objective (the mask test seeds one pixel's logits) */
float *gw_pixelcnn_train_dlogits(gw_pixelcnn_train *t);
/* the last backward's gradient wrt the network input x = q / 127.5 - 1,
 * (B, H, W) */
const float *gw_pixelcnn_train_dinput(const gw_pixelcnn_train *t);

/* Held-out figure: the mean negative log-likelihood of n images q
 * (n, H, W) with labels (n; NULL unconditioned) in bits per pixel
 * (nats / ln 2; 8 is a uniform guess over the 256 levels), through the
 * arena t, its batch at a time (a last short batch is padded with copies
 * that do not count). per_image (n), if not NULL, gets each image's. The
 * arena's activations are overwritten: a forward with want_grad must come
 * before the next backward. */
gw_status gw_pixelcnn_bits_per_dim(double *bits, double *per_image, gw_pixelcnn_train *t,
                                   const uint8_t *q, const int32_t *labels, size_t n,
                                   gw_error *err);
/* the same over pixels from .. H W - 1 only: each image's
 * -log p(q_from, ... | q_<from), the likelihood of its end given its start
 * (per pixel measured), as `complete --fill` weighs its candidates */
gw_status gw_pixelcnn_bits_per_dim_from(double *bits, double *per_image, gw_pixelcnn_train *t,
                                        const uint8_t *q, const int32_t *labels, size_t n,
                                        size_t from, gw_error *err);

/* ---- the image ----------------------------------------------------------
 * A feature image img (n_mels, frames) of spec_features.h (row = band) to
 * the PixelCNN's q (frames, n_mels) (row = frame): transposed, clamped to
 * [-1, 1] and quantised to q = round((x + 1) / 2 * 255); and back, with
 * x = q / 127.5 - 1, the value the network reads. */
void gw_pixelcnn_quantise(uint8_t *q, const float *img, int n_mels, int frames);
void gw_pixelcnn_dequantise(float *img, const uint8_t *q, int n_mels, int frames);

/* ---- sampling ----------------------------------------------------------
 * Both samplers fill q (H, W) in raster order from pixel `keep` on; pixels
 * 0 .. keep-1 are given (keep = N W completes a sound from its first N
 * frames) and what q holds after them is never read. Each sampled pixel
 * draws one uniform u from rng and takes the first class whose cumulative
 * probability under softmax(logits / temperature) exceeds u
 * (gw_wavenet_sample; temperature <= 0 is greedy and still draws u), so
 * the same seed gives the same image from either sampler. logits, if not
 * NULL, receives each sampled pixel's logits at its index: (H W, 256).
 * label: in [0, classes) for a conditioned model, ignored otherwise. */

/* The reference: a whole training forward (batch 1) per pixel, O(H W) times
 * the work of one image; practical on small images only. Allocates its
 * arena. */
gw_status gw_pixelcnn_sample_naive(const gw_pixelcnn *m, uint8_t *q, int keep, int label,
                                   float temperature, gw_rng *rng, float *logits, gw_error *err);

/* The cached sampler (Ramachandran et al. 2017): every layer keeps what it
 * has computed, so a pixel costs one pass through the layers at one
 * position. When row r is complete its vertical stacks run once along the
 * row (the last two rows of each layer's vertical output and the input
 * image are kept) and leave each layer's v2h term for row r+1; a pixel then
 * runs the horizontal stacks from the cached previous column of each layer
 * and that term, and the head. Fully kept rows cost only the vertical pass.
 * The sampler copies the weights at create (transposed for its kernels), so
 * the model may change or go afterwards; run allocates nothing. One thread
 * at a time. */
typedef struct gw_pixelcnn_sampler gw_pixelcnn_sampler;

gw_status gw_pixelcnn_sampler_create(gw_pixelcnn_sampler **out, const gw_pixelcnn *m,
                                     gw_error *err);
void gw_pixelcnn_sampler_free(gw_pixelcnn_sampler *s);                /* NULL is fine */
gw_status gw_pixelcnn_sampler_run(gw_pixelcnn_sampler *s, uint8_t *q, // (H, W)
                                  int keep, int label, float temperature, gw_rng *rng,
                                  float *logits, // (H W, 256) or NULL
                                  gw_error *err);

#endif
