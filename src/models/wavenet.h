/* wavenet.h - the WaveNet model (van den Oord et al. 2016, "WaveNet: A
 * Generative Model for Raw Audio"): configuration, named weight tensors, a
 * plain reference forward pass, and fast incremental generation ("Fast
 * Wavenet Generation Algorithm", Paine et al. 2016). The math is written out
 * once in docs/wavenet.md; shapes of the reference presets are in
 * shared/spec/reference-models.md.
 *
 * Model, for input classes x_t in 0..255 (8-bit mu-law, mu = 255):
 *
 *   a_0(t)  = embed[x_t]                                     // (R)
 *   layer l (dilation d_l, kernel K):
 *     h     = sum_k Wdil_l[:, k, :] a_l(t - (K-1-k) d_l)     // (2G); x_t = silence for t < 0
 *             + bdil_l + Vg_l c + Vlc_l mel(t)
 *     z_l   = tanh(h[0:G]) * sigmoid(h[G:2G])                // (G)
 *     a_l+1 = a_l(t) + Wres_l z_l + bres_l                   // (R)
 *   skip    = sum_l (Wskip_l z_l + bskip_l)                  // (S)
 *   logits  = Wout relu(Whead1 relu(skip) + bhead1) + bout   // (256)
 *
 * logits at t predict x_{t+1}. Tap k = K-1 sees the current input, tap 0 the
 * oldest: the (C_out, K, C_in) layout of conv1d with causal left padding.
 *
 * Global conditioning c (C_g values) is fixed per voice: pitch features,
 * velocity and an optional instrument one-hot (gw_wavenet_cond_features).
 * Local conditioning (vocoder mode, n_mels > 0): one mel frame per `hop`
 * samples, upsampled by repetition, enters every gate through Vlc (1x1 conv).
 *
 * Named tensors, declared in this order into an nn/params.h group
 * (gw_wavenet_params_declare):
 *   wavenet.embed                (256, R)    row c = embedding of class c
 *   wavenet.layerNN.dil.w        (2G, K, R)  NN = 00, 01, ... ; rows 0..G-1 filter, G..2G-1 gate
 *   wavenet.layerNN.dil.b        (2G)
 *   wavenet.layerNN.res.w        (R, G)      the last layer's is never used (feeds nothing)
 *   wavenet.layerNN.res.b        (R)
 *   wavenet.layerNN.skip.w       (S, G)
 *   wavenet.layerNN.skip.b       (S)
 *   wavenet.layerNN.cond.w       (2G, C_g)   only when C_g > 0
 *   wavenet.layerNN.lc.w         (2G, n_mels) only when n_mels > 0
 *   wavenet.head1.w              (H, S)
 *   wavenet.head1.b              (H)
 *   wavenet.out.w                (256, H)
 *   wavenet.out.b                (256)
 *
 * Multi-band models with a mixture-of-logistics output (output.distribution
 * "logistic", docs/wavenet.md "48 kHz"): the audio at sample_rate is split by
 * a PQMF bank (dsp/gw_dsp.h) into `bands` sub-bands at sample_rate / bands,
 * and one step predicts the next sample of every band at once (multi-band
 * WaveRNN in DurIAN, Yu et al. 2019; multi-band MelGAN, Yang et al. 2021),
 * so a 48 kHz model steps at 48/bands kHz. A step's input is the bands'
 * present values (continuous, in [-1, 1]) through a linear map instead of
 * the class embedding,
 *   a_0(t)  = (y_t * in_scale) Win + bin                     // (R)
 * and each band's next value follows a discretised mixture of M logistics
 * over 65536 levels (PixelCNN++, Salimans et al. 2017; nn/layers.h
 * gw_loss_dmol), whose 3M parameters per band the output layer gives:
 *   params  = Wout relu(...) + bout                          // (bands, 3M)
 *   row of a band = [mixture logits (M) | means (M) | log scales (M)].
 * There are no 256 classes and no 8-bit floor. Tensors that differ:
 *   wavenet.input.w              (bands, R)  instead of wavenet.embed
 *   wavenet.input.b              (R)
 *   wavenet.out.w                (bands 3M, H)
 *   wavenet.out.b                (bands 3M)
 */
#ifndef GW_MODELS_WAVENET_H
#define GW_MODELS_WAVENET_H

#include "base/gw_base.h"
#include "nn/params.h"

#include <stddef.h>
#include <stdint.h>

enum {
    GW_WAVENET_CLASSES = 256,     /* 8-bit mu-law */
    GW_WAVENET_SILENCE = 128,     /* mu-law class of 0.0: the input before the first step */
    GW_WAVENET_MAX_LAYERS = 64,
    GW_WAVENET_MAX_KERNEL = 16,
    GW_WAVENET_MAX_CHANNELS = 4096,
    GW_WAVENET_MAX_DILATION = 1 << 16,
    GW_WAVENET_NAME_MAX = 64,
    GW_WAVENET_MAX_BANDS = 16,
    GW_WAVENET_MAX_MIXTURES = 16,
    GW_WAVENET_LEVELS = 65536, /* the logistic output's resolution: 16 bits */
};

/* the logistic output's default smallest ln scale: exp(-9) ~ 1.2e-4 (8 of
 * the 16-bit levels); PixelCNN++ clamps at -7 for 8-bit pixels. A floor
 * keeps a confident model's likelihood and gradients finite */
#define GW_WAVENET_LOG_SCALE_MIN (-9.0f)
/* the smallest band gain the trainer sets (a band quieter than this is
 * digital silence) */
#define GW_WAVENET_GAIN_MIN 1e-6f

/* the output distribution */
enum { GW_WAVENET_DIST_MULAW = 0, GW_WAVENET_DIST_LOGISTIC = 1 };

/* ---- configuration ---------------------------------------------------- */

/* how a MIDI note becomes the pitch features (gw_wavenet_cond_features) */
enum { GW_WAVENET_PITCH_OCTAVE = 0, GW_WAVENET_PITCH_HARMONIC = 1 };

typedef struct gw_wavenet_config {
    char name[GW_WAVENET_NAME_MAX]; /* e.g. "wavenet-small" */
    int sample_rate;                /* Hz */
    int classes;                    /* 256 */
    int residual;                   /* R */
    int gate;                       /* G: the dilated conv outputs 2G */
    int skip;                       /* S */
    int head;                       /* H: hidden width of the output head */
    int stacks;
    int layers_per_stack;
    int kernel;                     /* K >= 1 */
    int n_layers;                   /* stacks * layers_per_stack */
    int dilations[GW_WAVENET_MAX_LAYERS];
    /* global conditioning: C_g = pitch_features + velocity + instruments */
    int pitch_features;             /* 0 = no pitch input; else >= 1 (see gw_wavenet_cond_features) */
    int pitch_encoding;             /* GW_WAVENET_PITCH_OCTAVE or GW_WAVENET_PITCH_HARMONIC */
    int velocity;                   /* 0 or 1 */
    int instruments;                /* 0 = no instrument id; else one-hot over this many */
    int cond_dim;                   /* C_g, derived */
    /* local conditioning */
    int n_mels;                     /* 0 = off */
    int hop;                        /* samples per mel frame (repetition upsampling) */
    /* output: the model learns the pre-emphasised signal x[n] - a x[n-1]
     * (a = preemphasis, 0 = off) and generation de-emphasises what it
     * samples, y[n] = s[n] + a y[n-1]: 8-bit mu-law's white quantisation
     * noise comes out shaped like 1 / (1 - a z^-1), low under the strong low
     * partials of an instrument and higher only where the signal was
     * (LPCNet, Valin and Skoglund 2019, sec. 3.1) */
    float preemphasis;              /* 0 .. 0.99 */
    int distribution;               /* GW_WAVENET_DIST_MULAW or GW_WAVENET_DIST_LOGISTIC */
    int bands;                      /* audio samples per step (PQMF sub-bands); 1 = none */
    int mixtures;                   /* M: logistics per band (logistic output) */
    int n_out;                      /* outputs per step, derived: 256 or bands * 3M */
    /* band k's values are modelled as x_k / band_gain[k] (the loudest value
     * of the band in the training data, so every band spans [-1, 1]: see
     * docs/wavenet.md "Band gains" for why each band needs its own); 0 = not
     * yet set: the trainer measures them, generation reads 0 as 1 */
    float band_gain[GW_WAVENET_MAX_BANDS];
    /* derived: the input map reads band k as y_k in_scale[k], in_scale[k] =
     * band_gain[k] / the largest gain, i.e. at its real level relative to
     * the loudest band. The targets are scaled per band (every band's
     * mixture works in [-1, 1]), the inputs are not: a band that holds
     * only the recording's noise, raised to full scale, would otherwise fill
     * the network's input with noise no gradient can turn off (its weights'
     * gradients average zero) */
    float in_scale[GW_WAVENET_MAX_BANDS];
    float log_scale_min;            /* the logistics' smallest ln scale (output.log_scale_min,
                                       default GW_WAVENET_LOG_SCALE_MIN) */
} gw_wavenet_config;

/* Preset JSON (presets/wavenet-small.json is an example; "output" is
 * optional and written only when set, so models without it keep their
 * bytes):
 *   {"model": "wavenet", "name": "...", "sample_rate": 16000, "classes": 256,
 *    "residual_channels": 32, "gate_channels": 32, "skip_channels": 128,
 *    "head_channels": 128, "stacks": 2, "layers_per_stack": 10,
 *    "kernel_size": 2,
 *    "dilations": [1, 2, ...]            optional, one stack's worth or all
 *                                        layers; default 1, 2, 4, ... per stack
 *    "conditioning": {"pitch_features": 0, "velocity": false, "instruments": 0,
 *                     "pitch_encoding": "octave"},   optional: "octave" | "harmonic"
 *    "local_conditioning": {"n_mels": 0, "hop": 256},
 *    "output": {"preemphasis": 0.85},     optional: 0 (off) .. 0.99
 *    "output": {"distribution": "logistic", "bands": 4, "mixtures": 4,
 *               "band_gain": [0.5, ...]},   band_gain optional: `bands` numbers
 *                                        in [1e-6, 16], else the trainer's
 *                                        optional: "mulaw" (the default, 1 band)
 *                                        or "logistic" (1..16 bands dividing
 *                                        sample_rate, 1..16 mixtures)
 *    "train": {...}}                     read by the trainer, ignored here
 * Unknown keys are errors (a typo must not silently change a model). */
gw_status gw_wavenet_config_parse(gw_wavenet_config *cfg, const char *json, const char *source,
                                  gw_error *err);
gw_status gw_wavenet_config_load(gw_wavenet_config *cfg, const char *path, gw_error *err);
/* checks ranges and derives n_layers and cond_dim; parse/load call it */
gw_status gw_wavenet_config_validate(gw_wavenet_config *cfg, const char *source, gw_error *err);
/* the config as preset JSON (malloc'ed string, caller frees); NULL on no memory */
char *gw_wavenet_config_to_json(const gw_wavenet_config *cfg);

/* steps per second: sample_rate / bands */
int gw_wavenet_step_rate(const gw_wavenet_config *cfg);
/* (K - 1) * sum(dilations) + 1, in steps */
int gw_wavenet_receptive_field(const gw_wavenet_config *cfg);
/* multiply-adds per step (one sample, or one of each band), spec count:
 * the input map of a logistic model, every layer's dilated,
 * residual and skip products plus the head (conditioning excluded: it is
 * computed once per note / mel frame, not per sample) */
size_t gw_wavenet_macs_per_sample(const gw_wavenet_config *cfg);

/* Global conditioning vector c (cond_dim values) for a note:
 *   pitch (when pitch_features = P > 0), continuous in the MIDI note m so that
 *   in-between notes interpolate:
 *     c[1 + 2j]   = sin(2 pi m / p_j),  c[2 + 2j] = cos(2 pi m / p_j),
 *     for 1 + 2j (+1) < P, and
 *     "octave" encoding:   c[0] = (m - 60) / 48,
 *                          p_j = 12 * 2^j semitones (one octave, two, ...)
 *     "harmonic" encoding: c[0] = (m - 60) / 12,
 *                          p_j = 12, 6, 4, 3, 2.4, 2, 24, 48, 96, 192, ...
 *   The gate sees c only through a linear map, so with "octave" notes a
 *   semitone apart differ by a 30 degree turn of one pair and notes an octave
 *   apart only through the slow features: models confuse neighbours and
 *   octaves. "harmonic" spans every function of the pitch class (the
 *   Fourier basis of period 12: 12 / k, k = 1..6) plus a one-unit-per-octave
 *   ramp and slow octave pairs, so each note gets its own gate biases while
 *   a note between two trained ones still gets an in-between vector.
 *   velocity (when velocity = 1): velocity in [0, 1]
 *   instrument (when instruments = N > 0): one-hot of instrument in 0..N-1
 *   (an out-of-range id gives all zeros). */
void gw_wavenet_cond_features(const gw_wavenet_config *cfg, float *c, // (C_g)
                              float midi_note, float velocity, int instrument);

/* ---- weights ----------------------------------------------------------
 * The tensors live in one nn/params.h group (data and grad, one allocation
 * each). gw_wavenet_weights is a view: pointers into either the group's data
 * or its grad, so training code reads w.layer[l].dil_w and accumulates into
 * g.layer[l].dil_w (llm.c's ParameterTensors). */

typedef struct gw_wavenet_layer {
    float *dil_w;  // (2G, K, R)
    float *dil_b;  // (2G)
    float *res_w;  // (R, G)
    float *res_b;  // (R)
    float *skip_w; // (S, G)
    float *skip_b; // (S)
    float *cond_w; // (2G, C_g) or NULL
    float *lc_w;   // (2G, n_mels) or NULL
} gw_wavenet_layer;

typedef struct gw_wavenet_weights {
    float *embed;   // (256, R); NULL for a logistic output
    float *in_w;    // (bands, R): logistic output only, else NULL
    float *in_b;    // (R)
    gw_wavenet_layer layer[GW_WAVENET_MAX_LAYERS];
    float *head1_w; // (H, S)
    float *head1_b; // (H)
    float *out_w;   // (n_out, H)
    float *out_b;   // (n_out)
} gw_wavenet_weights;

/* declares every tensor of cfg (names and shapes as listed at the top of
 * this file; biases flagged GW_PARAM_NO_DECAY) in a group not yet allocated */
gw_status gw_wavenet_params_declare(gw_params *p, const gw_wavenet_config *cfg, gw_error *err);
/* points w at the allocated group's data (grad = 0) or gradients (grad = 1);
 * every tensor must be present with exactly cfg's shape, else an error names
 * it (so a group read from a model file is checked here) */
gw_status gw_wavenet_weights_bind(gw_wavenet_weights *w, gw_params *p,
                                  const gw_wavenet_config *cfg, int grad, gw_error *err);
/* PyTorch-default initialisation: conv weights and biases
 * U(-1/sqrt(fan_in), 1/sqrt(fan_in)), embedding N(0, 1) */
void gw_wavenet_weights_init(gw_wavenet_weights *w, const gw_wavenet_config *cfg, gw_rng *rng);

/* Data-dependent start for a logistic-output model (as weight
 * normalisation's initialisation, Salimans and Kingma 2016, fits the first
 * activations to the data): with band_rms[k] the RMS of band k's (scaled)
 * values in the training data (floored at 1e-4), the mean rows of band k's
 * output are scaled by rms, its log-scale biases start at
 * ln(rms sqrt(3) / pi) (a logistic of the band's spread) and its means
 * spread over +-rms. Without it every band starts at scale 1 and a quiet
 * band needs thousands of Adam steps of lr size to reach its spread. Call
 * after gw_wavenet_weights_init; no-op for mu-law. */
void gw_wavenet_init_band_scales(gw_wavenet_weights *w, const gw_wavenet_config *cfg,
                                 const float *band_rms); // (bands)

/* ---- the model: config + weights -------------------------------------- */

typedef struct gw_wavenet {
    gw_wavenet_config cfg;
    gw_params *params;    /* owned */
    gw_wavenet_weights w; /* into params->data */
    gw_wavenet_weights g; /* into params->grad */
} gw_wavenet;

/* validates a copy of cfg, declares and allocates zeroed tensors */
gw_status gw_wavenet_create(gw_wavenet **out, const gw_wavenet_config *cfg, gw_error *err);
/* takes ownership of an allocated group (e.g. read from a .gwm file),
 * freeing it on failure; shapes are checked against cfg */
gw_status gw_wavenet_create_from(gw_wavenet **out, const gw_wavenet_config *cfg,
                                 gw_params *params, gw_error *err);
void gw_wavenet_free(gw_wavenet *m);

/* ---- reference forward (naive loops; for checking, not speed) ----------
 * logits for one sequence whose history before t = 0 is silence (class 128)
 * under the conditioning of t = 0 (what training windows drawn before a
 * clip's start see, and what the stream computes after reset):
 * logits[t] predicts input[t+1].
 * cond: (C_g) or NULL (= zeros); mel: (T, n_mels) already upsampled to one
 * row per sample, or NULL (= zeros). */
gw_status gw_wavenet_forward_reference(const gw_wavenet *m, float *logits, // (T, 256)
                                       const uint8_t *input,               // (T)
                                       const float *cond,                  // (C_g) or NULL
                                       const float *mel,                   // (T, n_mels) or NULL
                                       int T, gw_error *err);
/* the same for a logistic-output model: input (T, bands) band values in
 * [-1, 1] (history before t = 0: zeros), out (T, n_out) the mixture
 * parameters; out[t] predicts input[t+1] */
gw_status gw_wavenet_forward_reference_bands(const gw_wavenet *m, float *out, // (T, n_out)
                                             const float *input,             // (T, bands)
                                             const float *cond, const float *mel, int T,
                                             gw_error *err);

/* ---- sampling ----------------------------------------------------------
 * Softmax of logits / temperature, inverse CDF at u in [0, 1): the first
 * class whose cumulative probability exceeds u. temperature <= 0 is greedy
 * (argmax, lowest index on ties). */
int gw_wavenet_sample(const float *logits, // (256)
                      float temperature, float u);

/* ---- fast incremental generation --------------------------------------
 * One ring per layer holds that layer's last (K-1) d inputs, so a step costs
 * O(layers) products instead of a receptive field's worth. All voices step
 * together and are batched: each product is one small GEMM over the active
 * voices, with weights pre-packed for SIMD kernels (AVX-512 / AVX2+FMA /
 * scalar, chosen at run time). Everything is allocated in create; reset,
 * set_* and step never allocate. A stream is used by one thread at a time.
 *
 * The stream copies (packs) the weights: the model may be changed or freed
 * afterwards without affecting it. */
typedef struct gw_wavenet_stream gw_wavenet_stream;

/* how the stream stores the per-sample weights (products and sums are
 * always float) */
typedef enum gw_wavenet_weight_type {
    GW_WAVENET_WEIGHTS_F32 = 0,  /* exact: logits equal the reference to ~1e-6 */
    GW_WAVENET_WEIGHTS_F16 = 1,  /* IEEE half: half the bytes streamed per step, so
                                    about 2x faster once the weights outgrow the L2
                                    cache; logits are those of the model with
                                    weights rounded to half (relative change ~1e-3) */
    GW_WAVENET_WEIGHTS_BF16 = 2, /* bfloat16 (float's exponent, 8-bit significand): the
                                    bytes of f16 but widened with integer shifts, not
                                    vcvtph2ps, so faster still; logits are those of the
                                    model with weights rounded to bf16 */
    GW_WAVENET_WEIGHTS_I8 = 3,   /* int8 with a scale per row, and each product's inputs
                                    rounded to bytes too (wavenet_kernels.h): a quarter of
                                    f32's bytes, on AVX512_VNNI; logits within ~1% for
                                    trained weights; offered by the planner to 8-bit
                                    mu-law models only (docs/performance.md) */
} gw_wavenet_weight_type;

enum { GW_WAVENET_BF16_FROM_MACS = 64 * 1024 };
/* What generation uses unless told otherwise (genwave render, the LV2
 * plugin): bf16 from GW_WAVENET_BF16_FROM_MACS multiply-adds per sample
 * (256 KB of f32 weights) on - the fastest measured here at every batch
 * (docs/performance.md), logits within ~1% of f32's for trained weights
 * (docs/wavenet.md) - and f32 below, where bytes cost little and a model
 * whose logits hinge on exact weights (a hand-set one: tests/engine/
 * string_model.h scales its output layer by 555) keeps them. */
gw_wavenet_weight_type gw_wavenet_default_weights(const gw_wavenet_config *cfg);

/* "f32", "f16", "bf16" or "i8" ("?" for another value) */
const char *gw_wavenet_weight_type_name(gw_wavenet_weight_type type);
/* the type of one of those names; an error names the value and the choices */
gw_status gw_wavenet_weight_type_parse(gw_wavenet_weight_type *out, const char *name,
                                       gw_error *err);

/* How a stream runs on this CPU: what the planner (gw_wavenet_plan_choose)
 * measures and picks, or a caller forces. `type` changes the samples (the
 * weights' rounding), and so does the ISA "avx512bf16" with bf16 weights
 * (it rounds the products' inputs to bf16 too); the other ISAs change the
 * order of float sums (last-bit differences that sampling can amplify);
 * `prefetch` changes nothing but the speed. */
typedef struct gw_wavenet_plan {
    gw_wavenet_weight_type type;
    char isa[16]; /* "avx512bf16", "avx512vnni", "avx512", "avx2", "scalar"; "" = the best
                     this CPU runs (never avx512bf16, which rounds the inputs too:
                     wavenet_kernels.h; for i8 weights, avx512vnni where the CPU has
                     it: the other sets' i8 products are the naive loops) */
    int prefetch; /* 1: prefetch the weight stream (non-temporal, 4 KB ahead), 0: not,
                     -1: the type's default (bf16 on; f32, f16 and i8 off) */
} gw_wavenet_plan;

/* ---- the planner (wavenet_plan.c) ----
 * Times the candidate plans on the model's own shapes - each weight format
 * the model allows (f32 only below GW_WAVENET_BF16_FROM_MACS, as
 * gw_wavenet_default_weights; or the forced one), each ISA this CPU runs,
 * prefetch off and on - at one voice and at `batch` voices (at most 16),
 * round after round within budget_ms, and keeps the one with the least
 * time for a sample at one voice plus a sample at `batch` voices. Call it
 * off the audio thread (it allocates and runs for budget_ms). With a
 * wisdom path, a plan measured before for this CPU model, model shape,
 * batch, format choice and offered kernel sets is read from that file
 * instead, and a new one is
 * added to it (atomically); a corrupt or foreign file is ignored and
 * rewritten, with a one-line notice in the report. */
enum { GW_WAVENET_PLAN_MAX = 20 };

typedef struct gw_wavenet_plan_timing {
    gw_wavenet_plan plan;
    double ns_one, ns_batch; /* ns per step at one voice and at `batch` voices (the fastest
                                burst of the rounds) */
} gw_wavenet_plan_timing;

typedef struct gw_wavenet_plan_report {
    gw_wavenet_plan_timing cand[GW_WAVENET_PLAN_MAX];
    int n, chosen;    /* candidates, and the index of the one chosen */
    int from_wisdom;  /* the plan came from the wisdom file (cand[0], as measured then) */
    int rounds;       /* timing rounds run */
    double ms;        /* time spent planning */
    char cpu[96];     /* gw_cpu_model */
    char key[96];     /* the model's shape, as the wisdom file keys it */
    char notice[512]; /* a problem with the wisdom file ("" if none) */
} gw_wavenet_plan_report;

/* tests: a fake timing of a plan at `voices` voices, in ns per step */
typedef double (*gw_wavenet_plan_timer)(void *ctx, const gw_wavenet_plan *plan, int voices);

typedef struct gw_wavenet_plan_options {
    int batch;          /* voices the caller will run (1..; timed at most 16) */
    double budget_ms;   /* measuring time (default 50) */
    int force_type;     /* a gw_wavenet_weight_type (--precision), or -1: the planner's choice */
    const char *wisdom; /* the wisdom file; NULL: none */
    gw_wavenet_plan_timer timer; /* NULL: measure */
    void *timer_ctx;
} gw_wavenet_plan_options;

/* batch 1, budget 50 ms, any format, no wisdom, real timings */
void gw_wavenet_plan_options_default(gw_wavenet_plan_options *o);
gw_status gw_wavenet_plan_choose(gw_wavenet_plan *out, const gw_wavenet *model,
                                 const gw_wavenet_plan_options *o,
                                 gw_wavenet_plan_report *report, // may be NULL
                                 gw_error *err);
/* "bf16/avx512/prefetch" (ISA "best" when unset, prefetch "default" when -1) */
void gw_wavenet_plan_name(const gw_wavenet_plan *p, char *buf, size_t cap);
gw_status gw_wavenet_plan_parse(gw_wavenet_plan *out, const char *s, gw_error *err);

/* f32 weights */
gw_status gw_wavenet_stream_create(gw_wavenet_stream **out, const gw_wavenet *model,
                                   int max_voices, gw_error *err);
/* the plan's weights, kernels and prefetch; an ISA this CPU lacks is
 * GW_ERR_UNSUPPORTED */
gw_status gw_wavenet_stream_create_plan(gw_wavenet_stream **out, const gw_wavenet *model,
                                        int max_voices, const gw_wavenet_plan *plan,
                                        gw_error *err);
gw_status gw_wavenet_stream_create_typed(gw_wavenet_stream **out, const gw_wavenet *model,
                                         int max_voices, gw_wavenet_weight_type type,
                                         gw_error *err);
void gw_wavenet_stream_free(gw_wavenet_stream *s);
gw_wavenet_weight_type gw_wavenet_stream_weight_type(const gw_wavenet_stream *s);
/* which SIMD kernels the stream runs: "avx512", "avx2" or "scalar" */
const char *gw_wavenet_stream_isa(const gw_wavenet_stream *s);
/* the plan it runs (isa and prefetch resolved) */
gw_wavenet_plan gw_wavenet_stream_plan(const gw_wavenet_stream *s);

/* Restart a voice: zero its conditioning and mel frame, set its next input
 * to GW_WAVENET_SILENCE, and give it a history of silence: the next step
 * first fills its rings with what silence makes each layer's input under
 * the conditioning set by then (one pass down the layers), as training
 * windows that start before their clip see it. */
void gw_wavenet_stream_reset(gw_wavenet_stream *s, int voice);
/* global conditioning of a voice: c (C_g) as from gw_wavenet_cond_features;
 * NULL = zeros. Ignored by a model with C_g = 0. */
void gw_wavenet_stream_set_cond(gw_wavenet_stream *s, int voice, const float *c);
/* local conditioning: the mel frame (n_mels) in force from the next step on
 * until the next call (the caller repeats each frame for `hop` steps);
 * NULL = zeros. Ignored by a model with n_mels = 0. */
void gw_wavenet_stream_set_mel(gw_wavenet_stream *s, int voice, const float *mel);
/* override the class fed to the voice's next step (teacher forcing, priming
 * with recorded audio); step sets it to the class it samples. Mu-law models. */
void gw_wavenet_stream_set_input(gw_wavenet_stream *s, int voice, int cls);
/* the same for a logistic-output model: the bands' values (bands) */
void gw_wavenet_stream_set_input_bands(gw_wavenet_stream *s, int voice, const float *x);
/* exchange the whole state of two voices (to keep active voices packed at
 * 0..n-1; costs a copy of both voices' rings) */
void gw_wavenet_stream_swap_voices(gw_wavenet_stream *s, int a, int b);

/* One step of voices 0..n_voices-1 (n_voices <= max_voices): feeds each
 * voice's current input, writes logits (n_voices, n_out) if not NULL, samples
 * a class per voice at temperature with uniforms[v] in [0, 1), writes
 * it to classes (n_voices, may be NULL) and its mu-law decoded value in
 * [-1, 1] to samples (n_voices, may be NULL), and makes it the voice's next
 * input. A logistic-output model draws every band's value (uniforms
 * (n_voices, bands)), makes them the next input, leaves classes alone and
 * writes the `bands` audio samples the PQMF synthesis makes of them to
 * samples (n_voices, bands): a step is `bands` samples at sample_rate. */
void gw_wavenet_stream_step(gw_wavenet_stream *s, float *logits, // (n_voices, n_out) or NULL
                            float *samples,                      // (n_voices, bands) or NULL
                            uint8_t *classes,                    // (n_voices) or NULL
                            int n_voices, float temperature,
                            const float *uniforms); // (n_voices, bands)

/* n audio samples (at sample_rate) of voices 0..n_voices-1, with uniforms
 * from rng (n_voices x bands per step, voice order): audio (n_voices, n),
 * voice-major. Allocates nothing. */
void gw_wavenet_stream_generate(gw_wavenet_stream *s, float *audio, // (n_voices, n)
                                int n_voices, size_t n, float temperature, gw_rng *rng);

/* ---- local conditioning (vocoder mode, n_mels > 0; wavenet_mel.c) ----
 * The mel input of a model with n_mels bands and hop h: log(mel + 1e-5) of
 * a centred STFT with a periodic Hann window of n_fft = 4 h, hop h, and
 * Slaney mel bands from 0 Hz to the Nyquist frequency (dsp/gw_dsp.h), frame
 * f held for samples f h .. f h + h - 1 (repetition upsampling). Training
 * computes it on each window, `genwave render --vocode` on the whole file. */
typedef struct gw_wavenet_mel gw_wavenet_mel;
gw_status gw_wavenet_mel_create(gw_wavenet_mel **out, const gw_wavenet_config *cfg,
                                size_t max_samples, gw_error *err);
void gw_wavenet_mel_free(gw_wavenet_mel *m);
/* one mel row per sample of x: rows (n, n_mels); n <= max_samples */
void gw_wavenet_mel_rows(gw_wavenet_mel *m, float *rows, const float *x, size_t n);

#endif
