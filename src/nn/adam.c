#include "nn/optim.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

gw_adam_config gw_adam_defaults(void) {
    return (gw_adam_config){
        .lr = 1e-3f,
        .beta1 = 0.9f,
        .beta2 = 0.999f,
        .eps = 1e-8f,
        .weight_decay = 0.0f,
        .decoupled = 1,
        .clip_norm = 0.0f,
    };
}

static gw_status check_config(const gw_adam_config *c, gw_error *err) {
    if (!(c->beta1 >= 0.0f && c->beta1 < 1.0f) || !(c->beta2 >= 0.0f && c->beta2 < 1.0f))
        return gw_fail(err, GW_ERR_ARG, "adam: betas (%g, %g) must be in [0, 1)", (double)c->beta1,
                       (double)c->beta2);
    if (!(c->eps > 0.0f) || !isfinite(c->eps))
        return gw_fail(err, GW_ERR_ARG, "adam: eps %g must be positive", (double)c->eps);
    if (!(c->weight_decay >= 0.0f) || !isfinite(c->weight_decay))
        return gw_fail(err, GW_ERR_ARG, "adam: weight decay %g must be >= 0",
                       (double)c->weight_decay);
    if (!(c->clip_norm >= 0.0f) || !isfinite(c->clip_norm))
        return gw_fail(err, GW_ERR_ARG, "adam: clip norm %g must be >= 0", (double)c->clip_norm);
    if (!isfinite(c->lr) || c->lr < 0.0f)
        return gw_fail(err, GW_ERR_ARG, "adam: learning rate %g must be >= 0", (double)c->lr);
    return GW_OK;
}

gw_status gw_adam_create(gw_adam **out, gw_params *p, const gw_adam_config *cfg, gw_error *err) {
    *out = NULL;
    gw_adam_config c = cfg ? *cfg : gw_adam_defaults();
    gw_status st = check_config(&c, err);
    if (st) return st;
    if (!p || !p->data) return gw_fail(err, GW_ERR_ARG, "adam: parameter group not allocated");
    gw_adam *opt = calloc(1, sizeof *opt);
    if (!opt) goto nomem;
    opt->cfg = c;
    opt->params = p;
    opt->m = gw_alloc(p->total * sizeof(float));
    opt->v = gw_alloc(p->total * sizeof(float));
    if (!opt->m || !opt->v) goto nomem;
    *out = opt;
    return GW_OK;
nomem:
    gw_adam_free(opt);
    return gw_fail(err, GW_ERR_NOMEM, "adam: cannot allocate moments for %zu floats", p->total);
}

void gw_adam_free(gw_adam *opt) {
    if (!opt) return;
    gw_free(opt->m);
    gw_free(opt->v);
    free(opt);
}

void gw_adam_update(float *w, float *m, float *v, const float *g, size_t n, float lr, float beta1,
                    float beta2, float eps, float wd, int decoupled, uint64_t t) {
    /* bias corrections of Kingma & Ba, Algorithm 1, in double: for beta2 =
     * 0.999 the correction matters for thousands of steps */
    double bc1 = 1.0 - pow((double)beta1, (double)t);
    double bc2 = 1.0 - pow((double)beta2, (double)t);
    float step = (float)((double)lr / bc1);
    float rbc2 = (float)(1.0 / sqrt(bc2));
    /* AdamW (Loshchilov & Hutter 2019, Algorithm 2, line 12) shrinks the
     * weights directly; Adam+L2 adds wd * w to the gradient */
    float shrink = decoupled ? 1.0f - lr * wd : 1.0f;
    float l2 = decoupled ? 0.0f : wd;
    for (size_t i = 0; i < n; i++) {
        float gi = g[i] + l2 * w[i];
        float mi = beta1 * m[i] + (1.0f - beta1) * gi;
        float vi = beta2 * v[i] + (1.0f - beta2) * gi * gi;
        m[i] = mi;
        v[i] = vi;
        w[i] = shrink * w[i] - step * mi / (sqrtf(vi) * rbc2 + eps);
    }
}

float gw_optim_grad_norm(const gw_params *p) {
    double s = 0.0;
    for (size_t i = 0; i < p->count; i++) {
        const gw_param *t = &p->items[i];
        if (t->flags & GW_PARAM_STATE) continue;
        for (size_t k = 0; k < t->numel; k++)
            s += (double)t->grad[k] * t->grad[k];
    }
    return (float)sqrt(s);
}

float gw_optim_clip_grad_norm(gw_params *p, float max_norm) {
    float norm = gw_optim_grad_norm(p);
    if (!isfinite(norm) || !(norm > max_norm)) return norm;
    float scale = (float)((double)max_norm / (double)norm);
    for (size_t i = 0; i < p->count; i++) {
        gw_param *t = &p->items[i];
        if (t->flags & GW_PARAM_STATE) continue;
        for (size_t k = 0; k < t->numel; k++)
            t->grad[k] *= scale;
    }
    return norm;
}

/* the first tensor holding a NaN/Inf gradient, so the message says where */
static const char *first_bad_grad(const gw_params *p) {
    for (size_t i = 0; i < p->count; i++) {
        const gw_param *t = &p->items[i];
        if (t->flags & GW_PARAM_STATE) continue;
        for (size_t k = 0; k < t->numel; k++)
            if (!isfinite(t->grad[k])) return t->name;
    }
    return "?";
}

gw_status gw_adam_step(gw_adam *opt, float lr, gw_error *err) {
    gw_params *p = opt->params;
    if (opt->reduce) {
        gw_status st = opt->reduce(opt->reduce_ctx, p->grad, p->total, err);
        if (st) return st;
    }
    float norm = gw_optim_grad_norm(p);
    opt->last_grad_norm = norm;
    if (!isfinite(norm))
        return gw_fail(err, GW_ERR_NUMERIC, "adam: non-finite gradient in %s at step %llu",
                       first_bad_grad(p), (unsigned long long)opt->step + 1);
    if (!isfinite(lr) || lr < 0.0f)
        return gw_fail(err, GW_ERR_ARG, "adam: learning rate %g must be >= 0", (double)lr);
    if (opt->cfg.clip_norm > 0.0f) gw_optim_clip_grad_norm(p, opt->cfg.clip_norm);
    uint64_t t = opt->step + 1;
    const gw_adam_config *c = &opt->cfg;
    for (size_t i = 0; i < p->count; i++) {
        gw_param *pt = &p->items[i];
        if (pt->flags & GW_PARAM_STATE) continue;
        float wd = (pt->flags & GW_PARAM_NO_DECAY) ? 0.0f : c->weight_decay;
        gw_adam_update(pt->data, opt->m + pt->offset, opt->v + pt->offset, pt->grad, pt->numel, lr,
                       c->beta1, c->beta2, c->eps, wd, c->decoupled, t);
    }
    opt->step = t;
    return GW_OK;
}

gw_status gw_adam_save(const gw_adam *opt, gw_gwm_writer *w, const char *prefix, gw_error *err) {
    char name[GW_GWM_NAME_MAX + 1];
    gw_status st;
    if ((st = gw_gwm_writer_add_layout(w, opt->params, opt->m, prefix, "adam.m.", 1, err)) ||
        (st = gw_gwm_writer_add_layout(w, opt->params, opt->v, prefix, "adam.v.", 1, err)) ||
        (st = gw_gwm_name(name, prefix, "adam.step", "", err)))
        return st;
    return gw_gwm_writer_add(w, name, GW_GWM_U64, 1, (int[]){1}, &opt->step, err);
}

gw_status gw_adam_load(gw_adam *opt, const gw_gwm *f, const char *prefix, gw_error *err) {
    char name[GW_GWM_NAME_MAX + 1];
    gw_status st;
    uint64_t step;
    /* check everything before loading any of it: a failed load leaves the
     * optimiser as it was */
    if ((st = gw_gwm_name(name, prefix, "adam.step", "", err)) ||
        (st = gw_gwm_read(f, name, GW_GWM_U64, 1, (int[]){1}, &step, err)) ||
        (st = gw_gwm_load_layout(f, opt->params, NULL, prefix, "adam.m.", 1, err)) ||
        (st = gw_gwm_load_layout(f, opt->params, NULL, prefix, "adam.v.", 1, err)))
        return st;
    gw_gwm_load_layout(f, opt->params, opt->m, prefix, "adam.m.", 1, NULL);
    gw_gwm_load_layout(f, opt->params, opt->v, prefix, "adam.v.", 1, NULL);
    opt->step = step;
    return GW_OK;
}
