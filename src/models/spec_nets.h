/* spec_nets.h - the two convolutional stacks the spectrogram GAN and VAE are
 * made of (internal to src/models; the public faces are specgan.h and
 * specvae.h).
 *
 *   down net (GAN discriminator, VAE encoder):
 *     x (B, 1, H, W) -> [conv KxK stride 2 pad K/2 -> leaky ReLU] x L
 *     -> flatten F = C_L (H / 2^L) (W / 2^L) -> dense -> out (B, out_dim)
 *   up net (GAN generator, VAE decoder):
 *     z (B, Z) -> dense -> F = C_0 (H / 2^L) (W / 2^L) -> ReLU
 *     -> [convT KxK stride 2 pad K/2 out_pad 1 -> ReLU] x (L - 1)
 *     -> convT to 1 channel -> out activation (tanh or none)
 * with the padding conventions of shared/spec/reference-models.md (each conv
 * halves, each transposed conv doubles the image).
 *
 * A net declares its tensors into a caller's gw_params group (so a model can
 * keep one group per optimiser), then allocates one activation arena for up
 * to B_max examples: nothing is allocated per step. Forward keeps what
 * backward needs (each layer's post-activation output and a pointer to the
 * input, which the caller keeps alive until the backward). Backward
 * accumulates into the group's gradients; the input gradient may be NULL.
 *
 * Spectral normalisation (Miyato et al. 2018) may wrap every weight of a down
 * net: training forwards run one power iteration per weight, evaluation
 * forwards none; the u vectors are GW_PARAM_STATE tensors "<prefix>.<layer>.sn_u"
 * so they are saved and loaded with the weights.
 *
 * Minibatch standard deviation (Karras et al. 2018, "Progressive Growing of
 * GANs", section 3) may end a down net, against mode collapse: the batch is
 * cut into groups of `mbstd` consecutive examples; for each group the
 * standard deviation over its examples of every feature of the last conv
 * output, averaged over features, is one number sigma, appended as an extra
 * (H / 2^L) x (W / 2^L) map to each example's flattened features. D can then
 * see how varied a group is, and a generator that collapses gets caught. The
 * GAN feeds D real and fake halves whose sizes are multiples of the group,
 * so no group mixes them.
 */
#ifndef GW_MODELS_SPEC_NETS_H
#define GW_MODELS_SPEC_NETS_H

#include "base/gw_base.h"
#include "models/spec_features.h"
#include "nn/conv2d.h"
#include "nn/gwm.h"
#include "nn/params.h"

#include <cjson/cJSON.h>

enum { GW_SPECNET_MAX_LAYERS = 8 };

typedef enum gw_specnet_out {
    GW_SPECNET_OUT_LINEAR = 0,
    GW_SPECNET_OUT_TANH,
} gw_specnet_out;

/* ---- down net ---- */
typedef struct gw_downnet {
    char prefix[32];
    int H, W, L, K, out_dim, B_max;
    int ch[GW_SPECNET_MAX_LAYERS]; /* output channels of each conv */
    int flat;                      /* F */
    int fin;                       /* dense input: F, + (H/2^L)(W/2^L) with mbstd */
    float slope;                   /* leaky ReLU slope */
    int sn;                        /* spectral norm on every weight */
    int mbstd;                     /* minibatch-stddev group size, 0 = off */
    int bf16;                      /* the convolutions' products in bf16 (gw_conv2d_dims.bf16) */
    size_t w_idx[GW_SPECNET_MAX_LAYERS + 1], b_idx[GW_SPECNET_MAX_LAYERS + 1],
        u_idx[GW_SPECNET_MAX_LAYERS + 1];
    gw_params *params; /* not owned */
    gw_spectral_norm *snorm[GW_SPECNET_MAX_LAYERS + 1];
    /* arena */
    float *mem;
    float *act[GW_SPECNET_MAX_LAYERS];      /* (B_max, ch[i], H >> (i+1), W >> (i+1)) */
    float *w_sn[GW_SPECNET_MAX_LAYERS + 1]; /* normalised weights (sn only) */
    float *dw_sn;                           /* scratch gradient of one normalised weight */
    float *out;                             /* (B_max, out_dim) dense output */
    float *feat;                            /* (B_max, fin) dense input with the mbstd map */
    float *g0, *g1;                         /* gradient ping-pong, max activation size */
    float *work;                            /* conv workspace */
    size_t work_floats;
    const float *x; /* input of the last forward (B, 1, H, W) */
    int last_B;
} gw_downnet;

/* ---- up net ---- */
typedef struct gw_upnet {
    char prefix[32];
    int H, W, L, K, z_dim, B_max;
    int ch[GW_SPECNET_MAX_LAYERS]; /* input channels of each transposed conv */
    int flat;
    int bf16; /* the transposed convolutions' products in bf16 (gw_conv2d_dims.bf16) */
    gw_specnet_out out_act;
    size_t w_idx[GW_SPECNET_MAX_LAYERS + 1], b_idx[GW_SPECNET_MAX_LAYERS + 1];
    gw_params *params;
    float *mem;
    float *h0;                         /* (B_max, flat) post-ReLU dense output */
    float *act[GW_SPECNET_MAX_LAYERS]; /* (B_max, ...) output of convT i (post activation);
                                          act[L-1] (B_max, 1, H, W) is the net's output */
    float *g0, *g1;
    float *work;
    size_t work_floats;
    const float *z;
    int last_B;
} gw_upnet;

/* Geometry and layer widths shared by the configs of both models. */
typedef struct gw_specnet_shape {
    int H, W; /* image: mel bands x frames */
    int L;    /* conv layers */
    int K;    /* kernel size (odd) */
    int ch[GW_SPECNET_MAX_LAYERS];
} gw_specnet_shape;

/* checks that H and W are divisible by 2^L, widths positive, K odd */
gw_status gw_specnet_shape_check(const gw_specnet_shape *s, const char *what, gw_error *err);
/* reads an int array key of a preset into s->ch / s->L */
gw_status gw_specnet_read_channels(gw_specnet_shape *s, const cJSON *root, const char *key,
                                   const char *path, gw_error *err);

/* The net keys a GAN and a VAE share (beside gw_spec_common, spec_config.h):
 * "z_dim", "kernel", "lrelu_slope" and the widths of net a (G, encoder) at
 * keys[0] and of net b (D, decoder) at keys[1], of the same depth. Both
 * nets take the kernel and feat's image size. Absent keys keep the values
 * already there (the preset defaults). */
gw_status gw_specnet_pair_read(gw_specnet_shape *a, gw_specnet_shape *b, int *z_dim, float *slope,
                               const char *const keys[2], const gw_specfeat_config *feat,
                               const cJSON *root, const char *path, gw_error *err);
/* writes them into root: z_dim, the two widths, kernel, lrelu_slope */
void gw_specnet_pair_write(cJSON *root, const gw_specnet_shape *a, const gw_specnet_shape *b,
                           int z_dim, float slope, const char *const keys[2]);

/* declare tensors "<prefix>.conv<i>.w/.b", "<prefix>.fc.w/.b" into p */
gw_status gw_downnet_declare(gw_downnet *n, gw_params *p, const char *prefix,
                             const gw_specnet_shape *s, int out_dim, float slope, int sn, int mbstd,
                             gw_error *err);
/* after gw_params_alloc: random init from rng (when rng is not NULL), arena for B_max */
gw_status gw_downnet_setup(gw_downnet *n, int B_max, gw_rng *rng, gw_error *err);
void gw_downnet_release(gw_downnet *n);
/* train != 0: one spectral-norm power iteration per weight first. Returns
 * the net's own output buffer (B, out_dim), valid until the next forward. */
const float *gw_downnet_forward(gw_downnet *n,
                                const float *x, // (B, 1, H, W), kept until backward
                                int B, int train);
/* param_grads = 0 computes only dx (the GAN generator step, D frozen) */
void gw_downnet_backward(gw_downnet *n,
                         float *dx,         // (B, 1, H, W) or NULL, accumulated
                         const float *dout, // (B, out_dim)
                         int param_grads);

gw_status gw_upnet_declare(gw_upnet *n, gw_params *p, const char *prefix, const gw_specnet_shape *s,
                           int z_dim, gw_specnet_out out_act, gw_error *err);
gw_status gw_upnet_setup(gw_upnet *n, int B_max, gw_rng *rng, gw_error *err);
void gw_upnet_release(gw_upnet *n);
/* returns the net's own output buffer (B, 1, H, W), valid until the next
 * forward */
const float *gw_upnet_forward(gw_upnet *n,
                              const float *z, // (B, z_dim), kept until backward
                              int B);
void gw_upnet_backward(gw_upnet *n,
                       float *dz,         // (B, z_dim) or NULL, accumulated
                       const float *dout, // (B, 1, H, W)
                       int param_grads);

/* Model-file metadata shared by the GAN and the VAE: "model" = kind,
 * "<kind>.config" = the preset JSON, "sample_rate", "parameters". */
gw_status gw_specmodel_write_meta(gw_gwm_writer *w, const char *kind, char *config_json,
                                  int sample_rate, size_t parameters, gw_error *err);
/* checks the kind ("m.gwm: is a 'wavenet' model, not a spectrogram VAE")
 * and parses "<kind>.config"; *root freed with cJSON_Delete */
gw_status gw_specmodel_read_config(cJSON **root, const gw_gwm *f, const char *kind,
                                   const char *what, gw_error *err);

/* multiply-adds of one forward of one example */
double gw_downnet_macs(const gw_downnet *n);
double gw_upnet_macs(const gw_upnet *n);

#endif
