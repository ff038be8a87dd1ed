/* wavenet_config.c - WaveNet configuration: preset JSON in and out,
 * validation, and the numbers derived from a config (receptive field, cost,
 * conditioning features). Format: see wavenet.h. */
#include "models/wavenet.h"

#include "io/json.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int default_dilation(int i, int layers_per_stack) {
    return 1 << (i % layers_per_stack); /* 1, 2, 4, ... per stack (WaveNet sec. 2.1) */
}

gw_status gw_wavenet_config_validate(gw_wavenet_config *cfg, const char *source, gw_error *err) {
    const char *src = source ? source : "wavenet config";
    if (cfg->bands == 0) cfg->bands = 1; /* a config built by hand before bands existed */
    struct {
        const char *key;
        int value, lo, hi;
    } ranges[] = {
        {"sample_rate", cfg->sample_rate, 1000, 384000},
        {"classes", cfg->classes, GW_WAVENET_CLASSES, GW_WAVENET_CLASSES},
        {"residual_channels", cfg->residual, 1, GW_WAVENET_MAX_CHANNELS},
        {"gate_channels", cfg->gate, 1, GW_WAVENET_MAX_CHANNELS},
        {"skip_channels", cfg->skip, 1, GW_WAVENET_MAX_CHANNELS},
        {"head_channels", cfg->head, 1, GW_WAVENET_MAX_CHANNELS},
        {"stacks", cfg->stacks, 1, GW_WAVENET_MAX_LAYERS},
        {"layers_per_stack", cfg->layers_per_stack, 1, GW_WAVENET_MAX_LAYERS},
        {"kernel_size", cfg->kernel, 1, GW_WAVENET_MAX_KERNEL},
        {"conditioning.pitch_features", cfg->pitch_features, 0, 64},
        {"conditioning.velocity", cfg->velocity, 0, 1},
        {"conditioning.instruments", cfg->instruments, 0, 1024},
        {"conditioning.pitch_encoding", cfg->pitch_encoding, 0, 1},
        {"local_conditioning.n_mels", cfg->n_mels, 0, 512},
    };
    for (size_t i = 0; i < sizeof ranges / sizeof ranges[0]; i++)
        if (ranges[i].value < ranges[i].lo || ranges[i].value > ranges[i].hi)
            return gw_fail(err, GW_ERR_ARG, "%s: %s = %d is outside [%d, %d]", src, ranges[i].key,
                           ranges[i].value, ranges[i].lo, ranges[i].hi);
    if (cfg->stacks * cfg->layers_per_stack > GW_WAVENET_MAX_LAYERS)
        return gw_fail(err, GW_ERR_ARG, "%s: stacks x layers_per_stack = %d x %d exceeds %d layers",
                       src, cfg->stacks, cfg->layers_per_stack, GW_WAVENET_MAX_LAYERS);
    if (!(cfg->preemphasis >= 0.0f && cfg->preemphasis <= 0.99f))
        return gw_fail(err, GW_ERR_ARG, "%s: output.preemphasis = %g is outside [0, 0.99]", src,
                       (double)cfg->preemphasis);
    if (cfg->preemphasis > 0 && cfg->n_mels > 0)
        return gw_fail(err, GW_ERR_UNSUPPORTED,
                       "%s: output.preemphasis does not go with a mel input (a vocoder)", src);
    if (cfg->distribution == GW_WAVENET_DIST_MULAW) {
        if (cfg->bands != 1)
            return gw_fail(err, GW_ERR_UNSUPPORTED,
                           "%s: output.bands = %d needs output.distribution \"logistic\" (a "
                           "mu-law output has one band)",
                           src, cfg->bands);
        cfg->mixtures = 0;
        cfg->n_out = GW_WAVENET_CLASSES;
        cfg->log_scale_min = GW_WAVENET_LOG_SCALE_MIN;
        for (int k = 0; k < GW_WAVENET_MAX_BANDS; k++) cfg->band_gain[k] = 0, cfg->in_scale[k] = 1;
    } else if (cfg->distribution == GW_WAVENET_DIST_LOGISTIC) {
        if (cfg->bands < 1 || cfg->bands > GW_WAVENET_MAX_BANDS ||
            cfg->sample_rate % cfg->bands != 0)
            return gw_fail(err, GW_ERR_ARG,
                           "%s: output.bands = %d must be in [1, %d] and divide sample_rate %d",
                           src, cfg->bands, GW_WAVENET_MAX_BANDS, cfg->sample_rate);
        if (cfg->mixtures < 1 || cfg->mixtures > GW_WAVENET_MAX_MIXTURES)
            return gw_fail(err, GW_ERR_ARG, "%s: output.mixtures = %d is outside [1, %d]", src,
                           cfg->mixtures, GW_WAVENET_MAX_MIXTURES);
        if (cfg->preemphasis > 0)
            return gw_fail(err, GW_ERR_UNSUPPORTED,
                           "%s: output.preemphasis shapes mu-law noise; a logistic output has "
                           "none to shape",
                           src);
        if (cfg->n_mels > 0)
            return gw_fail(err, GW_ERR_UNSUPPORTED,
                           "%s: a logistic output does not go with a mel input (a vocoder) yet",
                           src);
        int set = 0;
        for (int k = 0; k < cfg->bands; k++) set += cfg->band_gain[k] > 0;
        if (set != 0 && set != cfg->bands)
            return gw_fail(err, GW_ERR_ARG, "%s: output.band_gain is set for %d of %d bands", src,
                           set, cfg->bands);
        for (int k = 0; k < cfg->bands; k++)
            if (!(cfg->band_gain[k] >= 0 && cfg->band_gain[k] <= 16))
                return gw_fail(err, GW_ERR_ARG, "%s: output.band_gain[%d] = %g is outside (0, 16]",
                               src, k, (double)cfg->band_gain[k]);
        if (cfg->log_scale_min == 0) cfg->log_scale_min = GW_WAVENET_LOG_SCALE_MIN; /* by hand */
        if (!(cfg->log_scale_min >= -16 && cfg->log_scale_min < 0))
            return gw_fail(err, GW_ERR_ARG, "%s: output.log_scale_min = %g is outside [-16, 0)",
                           src, (double)cfg->log_scale_min);
        float top = 0;
        for (int k = 0; k < cfg->bands; k++) top = fmaxf(top, cfg->band_gain[k]);
        for (int k = 0; k < GW_WAVENET_MAX_BANDS; k++)
            cfg->in_scale[k] = k < cfg->bands && top > 0 ? cfg->band_gain[k] / top : 1.0f;
        cfg->n_out = cfg->bands * 3 * cfg->mixtures;
    } else {
        return gw_fail(err, GW_ERR_ARG, "%s: unknown output distribution %d", src,
                       cfg->distribution);
    }
    if (cfg->n_mels > 0 && (cfg->hop < 1 || cfg->hop > 65536))
        return gw_fail(err, GW_ERR_ARG, "%s: local_conditioning.hop = %d is outside [1, 65536]",
                       src, cfg->hop);
    cfg->n_layers = cfg->stacks * cfg->layers_per_stack;
    for (int l = 0; l < cfg->n_layers; l++)
        if (cfg->dilations[l] < 1 || cfg->dilations[l] > GW_WAVENET_MAX_DILATION)
            return gw_fail(err, GW_ERR_ARG, "%s: dilation of layer %d = %d is outside [1, %d]", src,
                           l, cfg->dilations[l], GW_WAVENET_MAX_DILATION);
    cfg->cond_dim = cfg->pitch_features + cfg->velocity + cfg->instruments;
    cfg->name[GW_WAVENET_NAME_MAX - 1] = '\0';
    return GW_OK;
}

gw_status gw_wavenet_config_parse(gw_wavenet_config *cfg, const char *json, const char *source,
                                  gw_error *err) {
    static const char *const root_keys[] = {
        "model",          "name",     "sample_rate",      "classes",
        "residual_channels", "gate_channels", "skip_channels", "head_channels",
        "stacks",         "layers_per_stack", "kernel_size", "dilations",
        "conditioning",   "local_conditioning", "train",  "output",
    };
    static const char *const out_keys[] = {"preemphasis", "distribution", "bands", "mixtures",
                                           "band_gain", "log_scale_min"};
    static const char *const cond_keys[] = {"pitch_features", "velocity", "instruments",
                                            "pitch_encoding"};
    static const char *const lc_keys[] = {"n_mels", "hop"};
    const char *src = source ? source : "wavenet config";
    cJSON *root = NULL;
    gw_status st = gw_json_parse(&root, json, src, err);
    if (st) return st;
    gw_wavenet_config c;
    memset(&c, 0, sizeof c);
    const char *model = NULL, *name = NULL;
    int dil[GW_WAVENET_MAX_LAYERS], n_dil = 0;
    if (!cJSON_IsObject(root)) {
        st = gw_fail(err, GW_ERR_FORMAT, "%s: a WaveNet preset must be a JSON object", src);
        goto done;
    }
    if ((st = gw_json_check_keys(root, NULL, root_keys, sizeof root_keys / sizeof root_keys[0],
                                 src, err)) ||
        (st = gw_json_check_keys(root, "conditioning", cond_keys, 4, src, err)) ||
        (st = gw_json_check_keys(root, "local_conditioning", lc_keys, 2, src, err)) ||
        (st = gw_json_check_keys(root, "output", out_keys, 6, src, err)) ||
        (st = gw_json_str(&model, root, "model", 1, "wavenet", src, err)) ||
        (st = gw_json_str(&name, root, "name", 1, "wavenet", src, err)) ||
        (st = gw_json_int(&c.sample_rate, root, "sample_rate", 1000, 384000, 0, 0, src, err)) ||
        (st = gw_json_int(&c.classes, root, "classes", GW_WAVENET_CLASSES, GW_WAVENET_CLASSES, 1,
                          GW_WAVENET_CLASSES, src, err)) ||
        (st = gw_json_int(&c.residual, root, "residual_channels", 1, GW_WAVENET_MAX_CHANNELS, 0, 0,
                          src, err)) ||
        (st = gw_json_int(&c.gate, root, "gate_channels", 1, GW_WAVENET_MAX_CHANNELS, 0, 0, src,
                          err)) ||
        (st = gw_json_int(&c.skip, root, "skip_channels", 1, GW_WAVENET_MAX_CHANNELS, 0, 0, src,
                          err)) ||
        (st = gw_json_int(&c.head, root, "head_channels", 1, GW_WAVENET_MAX_CHANNELS, 0, 0, src,
                          err)) ||
        (st = gw_json_int(&c.stacks, root, "stacks", 1, GW_WAVENET_MAX_LAYERS, 0, 0, src, err)) ||
        (st = gw_json_int(&c.layers_per_stack, root, "layers_per_stack", 1, GW_WAVENET_MAX_LAYERS,
                          0, 0, src, err)) ||
        (st = gw_json_int(&c.kernel, root, "kernel_size", 1, GW_WAVENET_MAX_KERNEL, 1, 2, src,
                          err)) ||
        (st = gw_json_int(&c.pitch_features, root, "conditioning.pitch_features", 0, 64, 1, 0, src,
                          err)) ||
        (st = gw_json_bool(&c.velocity, root, "conditioning.velocity", 1, 0, src, err)) ||
        (st = gw_json_int(&c.instruments, root, "conditioning.instruments", 0, 1024, 1, 0, src,
                          err)) ||
        (st = gw_json_int(&c.n_mels, root, "local_conditioning.n_mels", 0, 512, 1, 0, src, err)) ||
        (st = gw_json_int(&c.hop, root, "local_conditioning.hop", 1, 65536, 1, 256, src, err)))
        goto done;
    double pre = 0;
    if ((st = gw_json_num(&pre, root, "output.preemphasis", 0.0, 0.99, 1, 0.0, src, err))) goto done;
    c.preemphasis = (float)pre;
    const char *dist = NULL;
    if ((st = gw_json_str(&dist, root, "output.distribution", 1, "mulaw", src, err)) ||
        (st = gw_json_int(&c.bands, root, "output.bands", 1, GW_WAVENET_MAX_BANDS, 1, 1, src,
                          err)) ||
        (st = gw_json_int(&c.mixtures, root, "output.mixtures", 1, GW_WAVENET_MAX_MIXTURES, 1, 4,
                          src, err)))
        goto done;
    double lsm = GW_WAVENET_LOG_SCALE_MIN;
    if ((st = gw_json_num(&lsm, root, "output.log_scale_min", -16.0, 0.0, 1,
                          GW_WAVENET_LOG_SCALE_MIN, src, err)))
        goto done;
    c.log_scale_min = (float)lsm;
    if (gw_json_find(root, "output.band_gain")) {
        double g[GW_WAVENET_MAX_BANDS];
        int n_g = 0;
        if ((st = gw_json_num_array(g, &n_g, GW_WAVENET_MAX_BANDS, root, "output.band_gain", 1e-6,
                                    16.0, src, err)))
            goto done;
        if (n_g != c.bands) {
            st = gw_fail(err, GW_ERR_FORMAT,
                         "%s: key 'output.band_gain' has %d entries; expected output.bands (%d)",
                         src, n_g, c.bands);
            goto done;
        }
        for (int k = 0; k < n_g; k++) c.band_gain[k] = (float)g[k];
    }
    if (!strcmp(dist, "logistic"))
        c.distribution = GW_WAVENET_DIST_LOGISTIC;
    else if (strcmp(dist, "mulaw") != 0) {
        st = gw_fail(err, GW_ERR_FORMAT,
                     "%s: output.distribution is '%s', expected 'mulaw' or 'logistic'", src, dist);
        goto done;
    } else {
        static const char *const logistic_only[] = {"output.mixtures", "output.band_gain",
                                                    "output.log_scale_min"};
        for (int i = 0; i < 3; i++)
            if (gw_json_find(root, logistic_only[i])) {
                st = gw_fail(err, GW_ERR_FORMAT,
                             "%s: %s applies to output.distribution \"logistic\" only", src,
                             logistic_only[i]);
                goto done;
            }
    }
    const char *enc = NULL;
    if ((st = gw_json_str(&enc, root, "conditioning.pitch_encoding", 1, "octave", src, err)))
        goto done;
    if (!strcmp(enc, "harmonic"))
        c.pitch_encoding = GW_WAVENET_PITCH_HARMONIC;
    else if (strcmp(enc, "octave") != 0) {
        st = gw_fail(err, GW_ERR_FORMAT,
                     "%s: conditioning.pitch_encoding is '%s', expected 'octave' or 'harmonic'", src,
                     enc);
        goto done;
    }
    if (strcmp(model, "wavenet") != 0) {
        st = gw_fail(err, GW_ERR_FORMAT, "%s: key 'model' is '%s', expected 'wavenet'", src, model);
        goto done;
    }
    snprintf(c.name, sizeof c.name, "%s", name);
    int n_layers = c.stacks * c.layers_per_stack;
    if (n_layers > GW_WAVENET_MAX_LAYERS) {
        st = gw_fail(err, GW_ERR_FORMAT, "%s: stacks x layers_per_stack = %d x %d exceeds %d layers",
                     src, c.stacks, c.layers_per_stack, GW_WAVENET_MAX_LAYERS);
        goto done;
    }
    if (gw_json_find(root, "dilations")) {
        st = gw_json_int_array(dil, &n_dil, GW_WAVENET_MAX_LAYERS, root, "dilations", 1,
                               GW_WAVENET_MAX_DILATION, src, err);
        if (st) goto done;
        if (n_dil != c.layers_per_stack && n_dil != n_layers) {
            st = gw_fail(err, GW_ERR_FORMAT,
                         "%s: key 'dilations' has %d entries; expected layers_per_stack (%d) or "
                         "stacks x layers_per_stack (%d)",
                         src, n_dil, c.layers_per_stack, n_layers);
            goto done;
        }
    }
    /* the default 1, 2, 4, ... doubles per layer: past 17 layers a stack it
     * would pass GW_WAVENET_MAX_DILATION (and 2^31 overflows an int) */
    if (!n_dil && c.layers_per_stack > 17) {
        st = gw_fail(err, GW_ERR_FORMAT,
                     "%s: layers_per_stack = %d without 'dilations' doubles the dilation up to "
                     "2^%d, past the most a layer may have (%d); give 'dilations'",
                     src, c.layers_per_stack, c.layers_per_stack - 1, GW_WAVENET_MAX_DILATION);
        goto done;
    }
    for (int l = 0; l < n_layers; l++)
        c.dilations[l] = n_dil ? dil[l % n_dil] : default_dilation(l, c.layers_per_stack);
    st = gw_wavenet_config_validate(&c, src, err);
    if (!st) *cfg = c;
done:
    cJSON_Delete(root);
    return st;
}

gw_status gw_wavenet_config_load(gw_wavenet_config *cfg, const char *path, gw_error *err) {
    FILE *f = fopen(path, "rb");
    if (!f) return gw_fail(err, GW_ERR_IO, "%s: cannot open preset", path);
    char *text = NULL;
    gw_status st = GW_OK;
    if (fseek(f, 0, SEEK_END) != 0) goto io_error;
    long n = ftell(f);
    if (n < 0 || n > (16L << 20) || fseek(f, 0, SEEK_SET) != 0) goto io_error;
    text = malloc((size_t)n + 1);
    if (!text) {
        st = gw_fail(err, GW_ERR_NOMEM, "%s: out of memory reading preset", path);
        goto done;
    }
    if (fread(text, 1, (size_t)n, f) != (size_t)n) goto io_error;
    text[n] = '\0';
    st = gw_wavenet_config_parse(cfg, text, path, err);
    goto done;
io_error:
    st = gw_fail(err, GW_ERR_IO, "%s: cannot read preset (missing, unreadable or over 16 MiB)", path);
done:
    free(text);
    fclose(f);
    return st;
}

char *gw_wavenet_config_to_json(const gw_wavenet_config *cfg) {
    cJSON *root = cJSON_CreateObject(), *cond = NULL, *lc = NULL, *dil = NULL;
    char *out = NULL;
    if (!root) return NULL;
    if (!cJSON_AddStringToObject(root, "model", "wavenet") ||
        !cJSON_AddStringToObject(root, "name", cfg->name) ||
        !cJSON_AddNumberToObject(root, "sample_rate", cfg->sample_rate) ||
        !cJSON_AddNumberToObject(root, "classes", cfg->classes) ||
        !cJSON_AddNumberToObject(root, "residual_channels", cfg->residual) ||
        !cJSON_AddNumberToObject(root, "gate_channels", cfg->gate) ||
        !cJSON_AddNumberToObject(root, "skip_channels", cfg->skip) ||
        !cJSON_AddNumberToObject(root, "head_channels", cfg->head) ||
        !cJSON_AddNumberToObject(root, "stacks", cfg->stacks) ||
        !cJSON_AddNumberToObject(root, "layers_per_stack", cfg->layers_per_stack) ||
        !cJSON_AddNumberToObject(root, "kernel_size", cfg->kernel) ||
        !(dil = cJSON_CreateIntArray(cfg->dilations, cfg->stacks * cfg->layers_per_stack)))
        goto done;
    cJSON_AddItemToObject(root, "dilations", dil);
    if (!(cond = cJSON_AddObjectToObject(root, "conditioning")) ||
        !cJSON_AddNumberToObject(cond, "pitch_features", cfg->pitch_features) ||
        !cJSON_AddBoolToObject(cond, "velocity", cfg->velocity) ||
        !cJSON_AddNumberToObject(cond, "instruments", cfg->instruments) ||
        !cJSON_AddStringToObject(cond, "pitch_encoding",
                                 cfg->pitch_encoding == GW_WAVENET_PITCH_HARMONIC ? "harmonic"
                                                                                   : "octave") ||
        !(lc = cJSON_AddObjectToObject(root, "local_conditioning")) ||
        !cJSON_AddNumberToObject(lc, "n_mels", cfg->n_mels) ||
        !cJSON_AddNumberToObject(lc, "hop", cfg->hop))
        goto done;
    cJSON *o = NULL;
    if (cfg->preemphasis > 0 && (!(o = cJSON_AddObjectToObject(root, "output")) ||
                                 !cJSON_AddNumberToObject(o, "preemphasis", cfg->preemphasis)))
        goto done;
    if (cfg->distribution == GW_WAVENET_DIST_LOGISTIC &&
        (!(o = cJSON_AddObjectToObject(root, "output")) ||
         !cJSON_AddStringToObject(o, "distribution", "logistic") ||
         !cJSON_AddNumberToObject(o, "bands", cfg->bands) ||
         !cJSON_AddNumberToObject(o, "mixtures", cfg->mixtures) ||
         !cJSON_AddNumberToObject(o, "log_scale_min", cfg->log_scale_min)))
        goto done;
    if (cfg->distribution == GW_WAVENET_DIST_LOGISTIC && cfg->band_gain[0] > 0) {
        double g[GW_WAVENET_MAX_BANDS];
        for (int k = 0; k < cfg->bands; k++) g[k] = cfg->band_gain[k];
        cJSON *arr = cJSON_CreateDoubleArray(g, cfg->bands);
        if (!arr) goto done;
        cJSON_AddItemToObject(o, "band_gain", arr);
    }
    out = cJSON_Print(root);
done:
    cJSON_Delete(root);
    return out;
}

int gw_wavenet_receptive_field(const gw_wavenet_config *cfg) {
    int sum = 0;
    for (int l = 0; l < cfg->n_layers; l++) sum += cfg->dilations[l];
    return (cfg->kernel - 1) * sum + 1;
}

size_t gw_wavenet_macs_per_sample(const gw_wavenet_config *cfg) {
    size_t R = (size_t)cfg->residual, G = (size_t)cfg->gate, S = (size_t)cfg->skip;
    size_t H = (size_t)cfg->head, K = (size_t)cfg->kernel;
    size_t layer = 2 * G * K * R + R * G + S * G;
    size_t out = cfg->n_out > 0 ? (size_t)cfg->n_out : GW_WAVENET_CLASSES;
    size_t in = cfg->distribution == GW_WAVENET_DIST_LOGISTIC ? (size_t)cfg->bands * R : 0;
    return in + (size_t)cfg->n_layers * layer + S * H + H * out;
}

int gw_wavenet_step_rate(const gw_wavenet_config *cfg) {
    return cfg->sample_rate / (cfg->bands > 0 ? cfg->bands : 1);
}

void gw_wavenet_cond_features(const gw_wavenet_config *cfg, float *c, float midi_note,
                              float velocity, int instrument) {
    const double two_pi = 6.283185307179586;
    int P = cfg->pitch_features, i = 0;
    static const double harmonic[] = {12.0, 6.0, 4.0, 3.0, 2.4, 2.0};
    const int n_harmonic = (int)(sizeof harmonic / sizeof harmonic[0]);
    const int harm = cfg->pitch_encoding == GW_WAVENET_PITCH_HARMONIC;
    if (P > 0) c[i++] = (midi_note - 60.0f) / (harm ? 12.0f : 48.0f);
    for (int j = 0; i < P; j++) {
        /* octave: 12 * 2^j; harmonic: 12 / k, then 24 * 2^(j - 6) */
        double period = !harm ? 12.0 * ldexp(1.0, j)
                        : j < n_harmonic ? harmonic[j]
                                         : 24.0 * ldexp(1.0, j - n_harmonic);
        double phase = two_pi * midi_note / period;
        c[i++] = (float)sin(phase);
        if (i < P) c[i++] = (float)cos(phase);
    }
    if (cfg->velocity) c[i++] = velocity;
    for (int k = 0; k < cfg->instruments; k++) c[i++] = k == instrument ? 1.0f : 0.0f;
}
