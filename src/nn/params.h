/* params.h - named parameter groups: one allocation for all of a model's
 * parameters, one for their gradients (llm.c's ParameterTensors, with names).
 *
 * Life of a group:
 *   gw_params *p = gw_params_create();
 *   gw_params_add(p, "wavenet.layer07.dil.w", 3, (int[]){64, 32, 2}, 0, &i, err);
 *   ... one add per tensor ...
 *   gw_params_alloc(p, err);          // declarations close; data and grad exist
 *   float *w = gw_params_at(p, i)->data;   // (64, 32, 2), zero until initialised
 *   gw_params_init_he(w, n, fan_in, rng);
 *   ... forward, backward (+= into ->grad) ..., optimiser step, gw_params_zero_grad(p)
 *   gw_params_free(p);
 *
 * Every tensor starts at a 64-byte aligned offset (a multiple of 16 floats)
 * into p->data and p->grad, so SIMD loads are aligned and tensors never share
 * a cache line. Optimisers (optim.h) allocate their moments with the same
 * layout (p->total floats, same offsets), so one flat loop updates them all.
 * Padding floats between tensors are zero in data and grad and stay zero.
 */
#ifndef GW_NN_PARAMS_H
#define GW_NN_PARAMS_H

#include "base/gw_base.h"

enum {
    GW_PARAM_NAME_MAX = 96, /* including the NUL */
    GW_PARAM_MAX_DIMS = 4,
};

/* per-tensor flags */
enum {
    /* not trained: no optimiser update, excluded from the gradient norm and
     * weight decay, but saved and loaded with the rest (running statistics,
     * spectral-norm power-iteration vectors) */
    GW_PARAM_STATE = 1u << 0,
    /* trained but exempt from (decoupled) weight decay: biases, gains;
     * Loshchilov & Hutter 2019 decay only the weight matrices */
    GW_PARAM_NO_DECAY = 1u << 1,
};

typedef struct gw_param {
    char name[GW_PARAM_NAME_MAX];
    int ndim;                     /* 1..GW_PARAM_MAX_DIMS */
    int shape[GW_PARAM_MAX_DIMS]; /* unused dims are 1 */
    unsigned flags;               /* GW_PARAM_* */
    size_t numel;                 /* product of shape */
    size_t offset;                /* in floats into data/grad/moments; multiple of 16 */
    float *data;                  /* (numel) NULL until gw_params_alloc */
    float *grad;                  /* (numel) NULL until gw_params_alloc */
} gw_param;

typedef struct gw_params {
    gw_param *items; /* (count) in declaration order */
    size_t count;
    size_t cap;
    size_t numel; /* sum of items' numel: the parameter count a paper reports */
    size_t total; /* floats in data/grad including alignment padding */
    float *data;  /* (total) one allocation, NULL until alloc */
    float *grad;  /* (total) one allocation, NULL until alloc */
} gw_params;

gw_params *gw_params_create(void);
void gw_params_free(gw_params *p); /* NULL is fine */

/* Declares a tensor. Names must be unique, non-empty, shorter than
 * GW_PARAM_NAME_MAX, printable ASCII without spaces; dims >= 1. idx (may be
 * NULL) receives the tensor's index for gw_params_at. Fails with GW_ERR_ARG
 * after gw_params_alloc. */
gw_status gw_params_add(gw_params *p, const char *name, int ndim, const int *shape, unsigned flags,
                        size_t *idx, gw_error *err);
/* Allocates data and grad (zeroed) and points each tensor into them. */
gw_status gw_params_alloc(gw_params *p, gw_error *err);

gw_param *gw_params_at(gw_params *p, size_t idx);
/* NULL when absent */
gw_param *gw_params_find(gw_params *p, const char *name);
const gw_param *gw_params_find_const(const gw_params *p, const char *name);
/* the tensor's data if present with exactly this shape, else NULL and err
 * names the tensor and both shapes */
float *gw_params_get(gw_params *p, const char *name, int ndim, const int *shape, gw_error *err);

void gw_params_zero_grad(gw_params *p);
size_t gw_params_count(const gw_params *p); /* tensors */
size_t gw_params_numel(const gw_params *p); /* scalars (without padding) */
/* numel of the trainable (non-GW_PARAM_STATE) tensors */
size_t gw_params_numel_trainable(const gw_params *p);

/* writes "(64, 32, 2)" into buf; returns buf (used in error messages) */
char *gw_params_shape_str(char *buf, size_t cap, int ndim, const int *shape);

/* ---- initialisers (w: (n) floats; all draw from the caller's rng) ---- */
void gw_params_init_uniform(float *w, size_t n, float lo, float hi, gw_rng *rng);
void gw_params_init_normal(float *w, size_t n, float mean, float std, gw_rng *rng);
/* He et al. 2015: N(0, 2 / fan_in), for layers followed by ReLU */
void gw_params_init_he(float *w, size_t n, size_t fan_in, gw_rng *rng);
/* Glorot & Bengio 2010: U(-a, a), a = sqrt(6 / (fan_in + fan_out)) */
void gw_params_init_xavier(float *w, size_t n, size_t fan_in, size_t fan_out, gw_rng *rng);
void gw_params_init_const(float *w, size_t n, float value);

#endif
