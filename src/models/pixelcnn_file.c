/* pixelcnn_file.c - a PixelCNN with its feature and class names, in and out
 * of .gwm files, and whole images sampled from it (see pixelcnn_file.h). */
#include "models/pixelcnn_file.h"

#include "io/json.h"
#include "models/spec_nets.h"

#include <stdlib.h>
#include <string.h>

#define CLASSES_KEY GW_PIXELCNN_KIND ".classes"

void gw_pixelcnn_model_free(gw_pixelcnn_model *m) {
    if (!m) return;
    gw_pixelcnn_free(m->net);
    gw_specfeat_free(m->feat);
    free(m->classes);
    memset(m, 0, sizeof *m);
}

gw_status gw_pixelcnn_model_set_classes(gw_pixelcnn_model *m, const char *const *names, int n,
                                        const char *source, gw_error *err) {
    const int want = m->net ? m->net->cfg.classes : 0;
    if (n != want)
        return gw_fail(err, GW_ERR_FORMAT, "%s: %d class names for a model of %d classes", source,
                       n, want);
    char(*c)[GW_PIXELCNN_CLASS_NAME_MAX] = n ? calloc((size_t)n, sizeof *c) : NULL;
    if (n && !c) return gw_fail(err, GW_ERR_NOMEM, "%s: out of memory", source);
    for (int k = 0; k < n; k++) {
        const char *s = names[k];
        size_t len = s ? strlen(s) : 0;
        int ok = len > 0 && len < GW_PIXELCNN_CLASS_NAME_MAX;
        for (size_t i = 0; ok && i < len; i++)
            ok = (unsigned char)s[i] >= 0x20 && s[i] != 0x7f;
        for (int j = 0; ok && j < k; j++)
            ok = strcmp(c[j], s) != 0;
        if (!ok) {
            free(c);
            return gw_fail(err, GW_ERR_FORMAT,
                           "%s: class name %d '%.80s' is empty, longer than %d bytes, has control "
                           "characters or repeats another",
                           source, k, s ? s : "", GW_PIXELCNN_CLASS_NAME_MAX - 1);
        }
        memcpy(c[k], s, len + 1);
    }
    free(m->classes);
    m->classes = c;
    return GW_OK;
}

int gw_pixelcnn_model_class(const gw_pixelcnn_model *m, const char *name) {
    const int n = m->net && m->classes ? m->net->cfg.classes : 0;
    for (int k = 0; k < n; k++)
        if (!strcmp(m->classes[k], name)) return k;
    return -1;
}

char *gw_pixelcnn_model_class_list(const gw_pixelcnn_model *m, char *buf, size_t cap) {
    const int n = m->net && m->classes ? m->net->cfg.classes : 0;
    size_t k = 0;
    buf[0] = '\0';
    for (int i = 0; i < n && k < cap; i++)
        k += (size_t)snprintf(buf + k, cap - k, "%s%s", i ? ", " : "", m->classes[i]);
    return buf;
}

gw_status gw_pixelcnn_model_write(const gw_pixelcnn_model *m, gw_gwm_writer *w, gw_error *err) {
    const gw_pixelcnn_config *c = &m->net->cfg;
    gw_status st =
        gw_specmodel_write_meta(w, GW_PIXELCNN_KIND, gw_pixelcnn_config_to_json(c),
                                c->feat.sample_rate, gw_params_numel(m->net->params), err);
    if (!st && c->classes > 0) {
        cJSON *a = cJSON_CreateArray();
        for (int k = 0; a && k < c->classes; k++)
            if (!cJSON_AddItemToArray(a, cJSON_CreateString(m->classes[k])))
                cJSON_Delete(a), a = NULL;
        char *json = a ? cJSON_PrintUnformatted(a) : NULL;
        cJSON_Delete(a);
        st = json ? gw_gwm_writer_meta(w, CLASSES_KEY, json, err)
                  : gw_fail(err, GW_ERR_NOMEM, "pixelcnn: out of memory writing the class names");
        free(json);
    }
    if (!st) st = gw_gwm_writer_add_params(w, m->net->params, "", err);
    if (!st) st = gw_specfeat_save(m->feat, w, err);
    return st;
}

/* "pixelcnn.classes" into m (whose net is loaded) */
static gw_status read_classes(gw_pixelcnn_model *m, const gw_gwm *f, gw_error *err) {
    const char *path = gw_gwm_path(f), *json = gw_gwm_meta(f, CLASSES_KEY);
    const int n = m->net->cfg.classes;
    if (n == 0) return GW_OK;
    if (!json)
        return gw_fail(err, GW_ERR_FORMAT,
                       "%s: metadata '%s' is missing (the model has %d classes)", path, CLASSES_KEY,
                       n);
    cJSON *root = NULL;
    gw_status st = gw_json_parse(&root, json, path, err);
    if (st) return st;
    const char **names = calloc((size_t)n, sizeof *names);
    if (!names) {
        cJSON_Delete(root);
        return gw_fail(err, GW_ERR_NOMEM, "%s: out of memory", path);
    }
    int k = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, root) {
        if (k < n) names[k] = cJSON_GetStringValue(it);
        k++;
    }
    if (!cJSON_IsArray(root) || k != n)
        st = gw_fail(err, GW_ERR_FORMAT, "%s: metadata '%s' is not an array of %d names", path,
                     CLASSES_KEY, n);
    else
        st = gw_pixelcnn_model_set_classes(m, names, n, path, err);
    free(names);
    cJSON_Delete(root);
    return st;
}

gw_status gw_pixelcnn_model_from_gwm(gw_pixelcnn_model *m, const gw_gwm *f, gw_error *err) {
    memset(m, 0, sizeof *m);
    const char *path = gw_gwm_path(f);
    cJSON *root = NULL;
    gw_status st = gw_specmodel_read_config(&root, f, GW_PIXELCNN_KIND, "PixelCNN", err);
    if (st) return st;
    gw_pixelcnn_config c;
    st = gw_pixelcnn_config_from_json(&c, root, path, err);
    cJSON_Delete(root);
    if (st) return st;
    gw_params *p = gw_params_create();
    if (!p) return gw_fail(err, GW_ERR_NOMEM, "%s: out of memory", path);
    /* every tensor present with its shape before the model is allocated */
    if ((st = gw_pixelcnn_params_declare(p, &c, err)) ||
        (st = gw_gwm_load_layout(f, p, NULL, "", "", 0, err)) || (st = gw_params_alloc(p, err)) ||
        (st = gw_gwm_load_params(f, p, "", err))) {
        gw_params_free(p);
        return st;
    }
    if ((st = gw_pixelcnn_create_from(&m->net, &c, p, err)) || /* owns p from here */
        (st = gw_specfeat_create(&m->feat, &c.feat, err)) ||
        (st = gw_specfeat_load(m->feat, f, err)) || (st = read_classes(m, f, err)))
        gw_pixelcnn_model_free(m);
    return st;
}

gw_status gw_pixelcnn_generate(float *img, const gw_pixelcnn *net, int n, const int32_t *labels,
                               float temperature, gw_rng *rng, gw_error *err) {
    const gw_pixelcnn_config *c = &net->cfg;
    const size_t hw = (size_t)c->height * c->width;
    gw_pixelcnn_sampler *s = NULL;
    uint8_t *q = malloc(hw);
    if (!q) return gw_fail(err, GW_ERR_NOMEM, "%s: out of memory", c->name);
    gw_status st = gw_pixelcnn_sampler_create(&s, net, err);
    for (int i = 0; i < n && !st; i++) {
        st = gw_pixelcnn_sampler_run(s, q, 0, labels ? labels[i] : 0, temperature, rng, NULL, err);
        if (!st) gw_pixelcnn_dequantise(img + (size_t)i * hw, q, c->width, c->height);
    }
    gw_pixelcnn_sampler_free(s);
    free(q);
    return st;
}
