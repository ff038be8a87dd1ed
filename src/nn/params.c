#include "nn/params.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

gw_params *gw_params_create(void) {
    return calloc(1, sizeof(gw_params));
}

void gw_params_free(gw_params *p) {
    if (!p) return;
    free(p->items);
    gw_free(p->data);
    gw_free(p->grad);
    free(p);
}

/* names end up in file records, CSV headers and error lines: keep them to
 * one printable token */
static int valid_name(const char *name) {
    size_t n = strlen(name);
    if (n == 0 || n >= GW_PARAM_NAME_MAX) return 0;
    for (size_t i = 0; i < n; i++)
        if (name[i] <= ' ' || name[i] > '~') return 0;
    return 1;
}

char *gw_params_shape_str(char *buf, size_t cap, int ndim, const int *shape) {
    size_t k = 0;
    if (cap == 0) return buf;
    buf[0] = 0;
    k += (size_t)snprintf(buf + k, cap - k, "(");
    for (int d = 0; d < ndim && k < cap; d++)
        k += (size_t)snprintf(buf + k, cap - k, d ? ", %d" : "%d", shape[d]);
    if (k < cap) snprintf(buf + k, cap - k, ")");
    return buf;
}

gw_status gw_params_add(gw_params *p, const char *name, int ndim, const int *shape, unsigned flags,
                        size_t *idx, gw_error *err) {
    if (!name) return gw_fail(err, GW_ERR_ARG, "params: tensor name is NULL");
    if (p->data) return gw_fail(err, GW_ERR_ARG, "%s: declared after gw_params_alloc", name);
    if (!valid_name(name))
        return gw_fail(err, GW_ERR_ARG,
                       "%s: invalid tensor name (1..%d printable characters, no spaces)", name,
                       GW_PARAM_NAME_MAX - 1);
    if (ndim < 1 || ndim > GW_PARAM_MAX_DIMS)
        return gw_fail(err, GW_ERR_ARG, "%s: ndim %d outside 1..%d", name, ndim, GW_PARAM_MAX_DIMS);
    if (flags & ~(unsigned)(GW_PARAM_STATE | GW_PARAM_NO_DECAY))
        return gw_fail(err, GW_ERR_ARG, "%s: unknown flags 0x%x", name, flags);
    size_t numel = 1;
    for (int d = 0; d < ndim; d++) {
        if (shape[d] < 1) return gw_fail(err, GW_ERR_ARG, "%s: dim %d is %d", name, d, shape[d]);
        if (numel > (SIZE_MAX / 8) / (size_t)shape[d])
            return gw_fail(err, GW_ERR_ARG, "%s: too many elements", name);
        numel *= (size_t)shape[d];
    }
    if (gw_params_find(p, name)) return gw_fail(err, GW_ERR_ARG, "%s: tensor declared twice", name);
    if (p->count == p->cap) {
        size_t cap = p->cap ? 2 * p->cap : 16;
        gw_param *items = realloc(p->items, cap * sizeof *items);
        if (!items) return gw_fail(err, GW_ERR_NOMEM, "%s: out of memory", name);
        p->items = items;
        p->cap = cap;
    }
    gw_param *t = &p->items[p->count];
    memset(t, 0, sizeof *t);
    memcpy(t->name, name, strlen(name) + 1);
    t->ndim = ndim;
    for (int d = 0; d < GW_PARAM_MAX_DIMS; d++)
        t->shape[d] = d < ndim ? shape[d] : 1;
    t->flags = flags;
    t->numel = numel;
    /* offsets in floats: a 64-byte boundary is every 16 floats */
    t->offset = p->total;
    p->total += gw_align64(numel * sizeof(float)) / sizeof(float);
    p->numel += numel;
    if (idx) *idx = p->count;
    p->count++;
    return GW_OK;
}

gw_status gw_params_alloc(gw_params *p, gw_error *err) {
    if (p->data) return gw_fail(err, GW_ERR_ARG, "params: already allocated");
    if (p->count == 0) return gw_fail(err, GW_ERR_ARG, "params: no tensors declared");
    p->data = gw_alloc(p->total * sizeof(float));
    p->grad = gw_alloc(p->total * sizeof(float));
    if (!p->data || !p->grad) {
        gw_free(p->data);
        gw_free(p->grad);
        p->data = p->grad = NULL;
        return gw_fail(err, GW_ERR_NOMEM, "params: cannot allocate %zu floats", 2 * p->total);
    }
    for (size_t i = 0; i < p->count; i++) {
        p->items[i].data = p->data + p->items[i].offset;
        p->items[i].grad = p->grad + p->items[i].offset;
    }
    return GW_OK;
}

gw_param *gw_params_at(gw_params *p, size_t idx) {
    return idx < p->count ? &p->items[idx] : NULL;
}

gw_param *gw_params_find(gw_params *p, const char *name) {
    return (gw_param *)gw_params_find_const(p, name);
}

const gw_param *gw_params_find_const(const gw_params *p, const char *name) {
    for (size_t i = 0; i < p->count; i++)
        if (!strcmp(p->items[i].name, name)) return &p->items[i];
    return NULL;
}

float *gw_params_get(gw_params *p, const char *name, int ndim, const int *shape, gw_error *err) {
    gw_param *t = gw_params_find(p, name);
    if (!t) {
        gw_fail(err, GW_ERR_ARG, "%s: no such parameter", name);
        return NULL;
    }
    int same = t->ndim == ndim;
    for (int d = 0; same && d < ndim; d++)
        same = t->shape[d] == shape[d];
    if (!same) {
        char a[96], b[96];
        gw_fail(err, GW_ERR_ARG, "%s: shape %s, expected %s", name,
                gw_params_shape_str(a, sizeof a, t->ndim, t->shape),
                gw_params_shape_str(b, sizeof b, ndim, shape));
        return NULL;
    }
    if (!t->data) {
        gw_fail(err, GW_ERR_ARG, "%s: parameters not allocated yet", name);
        return NULL;
    }
    return t->data;
}

void gw_params_zero_grad(gw_params *p) {
    if (p->grad) memset(p->grad, 0, p->total * sizeof(float));
}

size_t gw_params_count(const gw_params *p) {
    return p->count;
}

size_t gw_params_numel(const gw_params *p) {
    return p->numel;
}

size_t gw_params_numel_trainable(const gw_params *p) {
    size_t n = 0;
    for (size_t i = 0; i < p->count; i++)
        if (!(p->items[i].flags & GW_PARAM_STATE)) n += p->items[i].numel;
    return n;
}

void gw_params_init_uniform(float *w, size_t n, float lo, float hi, gw_rng *rng) {
    gw_rng_fill_uniform(rng, w, n, lo, hi);
}

void gw_params_init_normal(float *w, size_t n, float mean, float std, gw_rng *rng) {
    gw_rng_fill_normal(rng, w, n, mean, std);
}

void gw_params_init_he(float *w, size_t n, size_t fan_in, gw_rng *rng) {
    /* He et al. 2015, eq. 10: Var[w] = 2 / n_l keeps ReLU activations' variance
     * constant through depth */
    float std = sqrtf(2.0f / (float)(fan_in ? fan_in : 1));
    gw_rng_fill_normal(rng, w, n, 0.0f, std);
}

void gw_params_init_xavier(float *w, size_t n, size_t fan_in, size_t fan_out, gw_rng *rng) {
    /* Glorot & Bengio 2010, eq. 16 ("normalized initialization") */
    size_t fans = fan_in + fan_out;
    float a = sqrtf(6.0f / (float)(fans ? fans : 1));
    gw_rng_fill_uniform(rng, w, n, -a, a);
}

void gw_params_init_const(float *w, size_t n, float value) {
    for (size_t i = 0; i < n; i++)
        w[i] = value;
}
