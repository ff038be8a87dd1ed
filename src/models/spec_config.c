/* The shared part of the spectrogram models' configs: see spec_config.h. */
#include "models/spec_config.h"

#include "io/json.h"

#include <stdio.h>
#include <string.h>

/* The train keys more than one kind has. Offsets into gw_spec_common are
 * offsets into every config, which begins with it. */
static const gw_spec_key shared_keys[] = {
    {"batch", GW_SPEC_KEY_INT, 1, 4096, offsetof(gw_spec_common, batch)},
    {"lr", GW_SPEC_KEY_FLOAT, 1e-8, 1, offsetof(gw_spec_common, lr)},
    {"beta1", GW_SPEC_KEY_FLOAT, 0, 0.9999, offsetof(gw_spec_common, beta1)},
    {"beta2", GW_SPEC_KEY_FLOAT, 0, 0.99999, offsetof(gw_spec_common, beta2)},
    {"sample_every", GW_SPEC_KEY_INT, 1, 1 << 30, offsetof(gw_spec_common, sample_every)},
};

/* a kind's row, or the shared row it names; NULL for a name that is not one */
static const gw_spec_key *row_of(const gw_spec_key *k) {
    if (k->type != GW_SPEC_KEY_SHARED) return k;
    for (size_t i = 0; i < sizeof shared_keys / sizeof *shared_keys; i++)
        if (!strcmp(shared_keys[i].key, k->key)) return &shared_keys[i];
    return NULL;
}

gw_status gw_spec_common_read(gw_spec_common *c, const char *kind, const cJSON *root,
                              const char *path, gw_error *err) {
    gw_status st;
    const char *s;
    if ((st = gw_json_str(&s, root, "model", 0, NULL, path, err))) return st;
    if (strcmp(s, kind))
        return gw_fail(err, GW_ERR_ARG, "%s: key 'model' is '%s', not '%s'", path, s, kind);
    if ((st = gw_json_str(&s, root, "name", 1, kind, path, err))) return st;
    snprintf(c->name, sizeof c->name, "%s", s);
    return gw_specfeat_config_read(&c->feat, root, path, err);
}

int gw_spec_common_write(const gw_spec_common *c, const char *kind, cJSON *root) {
    return !cJSON_AddStringToObject(root, "model", kind) ||
           !cJSON_AddStringToObject(root, "name", c->name) ||
           gw_specfeat_config_write(&c->feat, root, NULL);
}

gw_status gw_spec_train_check(const gw_spec_key *keys, int n, const cJSON *root, const char *path,
                              gw_error *err) {
    const char *names[GW_SPEC_TRAIN_KEYS_MAX] = {0};
    if (n < 0 || n > GW_SPEC_TRAIN_KEYS_MAX)
        return gw_fail(err, GW_ERR_ARG, "%s: %d train keys (at most %d)", path, n,
                       GW_SPEC_TRAIN_KEYS_MAX);
    for (int i = 0; i < n; i++)
        names[i] = keys[i].key;
    return gw_json_check_keys(root, "train", names, n, path, err);
}

gw_status gw_spec_train_read(void *cfg, const gw_spec_key *keys, int n, const cJSON *root,
                             const char *path, gw_error *err) {
    gw_status st = gw_spec_train_check(keys, n, root, path, err);
    /* the integers first, then the numbers: the order the kinds always
     * checked them in, so a preset with two bad values names the same one */
    for (int pass = 0; pass < 2 && !st; pass++)
        for (int i = 0; i < n && !st; i++) {
            const gw_spec_key *k = row_of(&keys[i]);
            if (!k)
                return gw_fail(err, GW_ERR_ARG, "%s: no row for train key '%s'", path, keys[i].key);
            if ((k->type == GW_SPEC_KEY_INT) != (pass == 0)) continue;
            char key[64];
            snprintf(key, sizeof key, "train.%s", k->key);
            void *at = (char *)cfg + k->offset;
            if (k->type == GW_SPEC_KEY_INT) {
                int *v = at;
                st = gw_json_int(v, root, key, (int)k->lo, (int)k->hi, 1, *v, path, err);
            } else {
                float *v = at;
                double d;
                if (!(st = gw_json_num(&d, root, key, k->lo, k->hi, 1, *v, path, err)))
                    *v = (float)d;
            }
        }
    return st;
}

int gw_spec_train_write(const void *cfg, const gw_spec_key *keys, int n, cJSON *root) {
    cJSON *t = cJSON_AddObjectToObject(root, "train");
    if (!t) return 1;
    for (int i = 0; i < n; i++) {
        const gw_spec_key *k = row_of(&keys[i]);
        if (!k) return 1;
        const void *at = (const char *)cfg + k->offset;
        double v = k->type == GW_SPEC_KEY_INT ? *(const int *)at : *(const float *)at;
        if (!cJSON_AddNumberToObject(t, k->key, v)) return 1;
    }
    return 0;
}
