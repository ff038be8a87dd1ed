/* wavenet_file.c - WaveNet <-> .gwm (see wavenet_file.h) */
#include "models/wavenet_file.h"

#include <stdlib.h>
#include <string.h>

gw_status gw_wavenet_write(const gw_wavenet *m, gw_gwm_writer *w, gw_error *err) {
    char *json = gw_wavenet_config_to_json(&m->cfg);
    if (!json) return gw_fail(err, GW_ERR_NOMEM, "wavenet: out of memory writing the config");
    gw_status st = gw_gwm_writer_meta(w, "model", GW_WAVENET_KIND, err);
    if (!st) st = gw_gwm_writer_meta(w, "wavenet.config", json, err);
    free(json);
    if (!st) st = gw_gwm_writer_metaf(w, err, "sample_rate", "%d", m->cfg.sample_rate);
    if (!st)
        st = gw_gwm_writer_metaf(w, err, "receptive_field", "%d",
                                 gw_wavenet_receptive_field(&m->cfg));
    if (!st) st = gw_gwm_writer_metaf(w, err, "parameters", "%zu", gw_params_numel(m->params));
    if (!st) st = gw_gwm_writer_add_params(w, m->params, "", err);
    return st;
}

gw_status gw_wavenet_save(const gw_wavenet *m, const char *path, gw_error *err) {
    gw_gwm_writer *w = NULL;
    gw_status st = gw_gwm_writer_create(&w, err);
    if (!st) st = gw_wavenet_write(m, w, err);
    if (!st) st = gw_gwm_writer_commit(w, path, err);
    gw_gwm_writer_free(w);
    return st;
}

gw_status gw_wavenet_from_gwm(gw_wavenet **out, const gw_gwm *f, gw_error *err) {
    *out = NULL;
    const char *path = gw_gwm_path(f);
    const char *kind = gw_gwm_meta(f, "model");
    if (!kind)
        return gw_fail(err, GW_ERR_FORMAT, "%s: not a genwave model (no 'model' metadata)", path);
    if (strcmp(kind, GW_WAVENET_KIND))
        return gw_fail(err, GW_ERR_UNSUPPORTED, "%s: is a '%.40s' model, not a WaveNet", path,
                       kind);
    const char *json = gw_gwm_meta(f, "wavenet.config");
    if (!json) return gw_fail(err, GW_ERR_FORMAT, "%s: no 'wavenet.config' metadata", path);
    gw_wavenet_config cfg;
    gw_status st = gw_wavenet_config_parse(&cfg, json, path, err);
    if (st) return st;
    gw_params *p = gw_params_create();
    if (!p) return gw_fail(err, GW_ERR_NOMEM, "%s: out of memory", path);
    st = gw_wavenet_params_declare(p, &cfg, err);
    /* every tensor the config implies is in the file with its shape, before
     * anything the size of the model is allocated: an 8 KB file whose config
     * claims 512 channels x 64 layers is refused, not 850 MB later (D6) */
    if (!st) st = gw_gwm_load_layout(f, p, NULL, "", "", 0, err);
    if (!st) st = gw_params_alloc(p, err);
    if (!st) st = gw_gwm_load_params(f, p, "", err);
    if (st) {
        gw_params_free(p);
        return st;
    }
    return gw_wavenet_create_from(out, &cfg, p, err); /* owns p from here, even on failure */
}

gw_status gw_wavenet_load(gw_wavenet **out, const char *path, gw_error *err) {
    *out = NULL;
    gw_gwm *f = NULL;
    gw_status st = gw_gwm_open(&f, path, err);
    if (!st) st = gw_wavenet_from_gwm(out, f, err);
    gw_gwm_free(f);
    return st;
}
