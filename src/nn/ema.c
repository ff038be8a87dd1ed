#include "nn/optim.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

gw_status gw_ema_create(gw_ema **out, gw_params *p, float decay, int warmup, gw_error *err) {
    *out = NULL;
    if (!(decay >= 0.0f && decay < 1.0f))
        return gw_fail(err, GW_ERR_ARG, "ema: decay %g must be in [0, 1)", (double)decay);
    if (!p || !p->data) return gw_fail(err, GW_ERR_ARG, "ema: parameter group not allocated");
    gw_ema *e = calloc(1, sizeof *e);
    float *shadow = gw_alloc(p->total * sizeof(float));
    if (!e || !shadow) {
        free(e);
        gw_free(shadow);
        return gw_fail(err, GW_ERR_NOMEM, "ema: cannot allocate %zu floats", p->total);
    }
    memcpy(shadow, p->data, p->total * sizeof(float));
    e->params = p;
    e->shadow = shadow;
    e->decay = decay;
    e->warmup = warmup;
    *out = e;
    return GW_OK;
}

void gw_ema_free(gw_ema *e) {
    if (!e) return;
    gw_free(e->shadow);
    free(e);
}

float gw_ema_current_decay(const gw_ema *e) {
    if (!e->warmup) return e->decay;
    /* tf.train.ExponentialMovingAverage(num_updates=t) */
    double t = (double)e->updates;
    float w = (float)((1.0 + t) / (10.0 + t));
    return w < e->decay ? w : e->decay;
}

void gw_ema_update(gw_ema *e) {
    gw_params *p = e->params;
    float d = gw_ema_current_decay(e);
    for (size_t i = 0; i < p->count; i++) {
        const gw_param *t = &p->items[i];
        float *s = e->shadow + t->offset;
        if (t->flags & GW_PARAM_STATE) {
            memcpy(s, t->data, t->numel * sizeof(float));
            continue;
        }
        /* s += (1 - d)(w - s): same fixed point as d s + (1 - d) w, one
         * rounding fewer when s is already close to w */
        for (size_t k = 0; k < t->numel; k++)
            s[k] += (1.0f - d) * (t->data[k] - s[k]);
    }
    e->updates++;
}

void gw_ema_swap(gw_ema *e) {
    float *a = e->params->data, *b = e->shadow;
    for (size_t i = 0; i < e->params->total; i++) {
        float x = a[i];
        a[i] = b[i];
        b[i] = x;
    }
}

gw_status gw_ema_save(const gw_ema *e, gw_gwm_writer *w, const char *prefix, gw_error *err) {
    char name[GW_GWM_NAME_MAX + 1];
    gw_status st;
    if ((st = gw_gwm_writer_add_layout(w, e->params, e->shadow, prefix, "ema.", 0, err)) ||
        (st = gw_gwm_name(name, prefix, "ema.updates", "", err)))
        return st;
    return gw_gwm_writer_add(w, name, GW_GWM_U64, 1, (int[]){1}, &e->updates, err);
}

gw_status gw_ema_load(gw_ema *e, const gw_gwm *f, const char *prefix, gw_error *err) {
    char name[GW_GWM_NAME_MAX + 1];
    gw_status st;
    uint64_t updates;
    if ((st = gw_gwm_name(name, prefix, "ema.updates", "", err)) ||
        (st = gw_gwm_read(f, name, GW_GWM_U64, 1, (int[]){1}, &updates, err)) ||
        (st = gw_gwm_load_layout(f, e->params, e->shadow, prefix, "ema.", 0, err)))
        return st;
    e->updates = updates;
    return GW_OK;
}
