/* json.h - JSON files (presets, settings) through cJSON, with errors a user
 * can act on:
 *   "presets/x.json:12:7: expected ',' or '}'"             (malformed file)
 *   "presets/x.json: key 'residual_channels' must be a positive integer"
 *
 * Keys may be dotted paths into nested objects ("train.lr"); the message
 * names the whole dotted key. `path` arguments are only used in messages.
 */
#ifndef GW_IO_JSON_H
#define GW_IO_JSON_H

#include "base/gw_base.h"

#include <cjson/cJSON.h>

/* parse a file; *out freed with cJSON_Delete */
gw_status gw_json_load(cJSON **out, const char *path, gw_error *err);
/* parse text; `name` stands for the file in messages ("NAME:LINE:COL: ...") */
gw_status gw_json_parse(cJSON **out, const char *text, const char *name, gw_error *err);
/* write pretty-printed, atomically */
gw_status gw_json_save(const char *path, const cJSON *root, gw_error *err);

/* The dotted keys whose values differ between two JSON objects (nested
 * objects compared key by key, anything else by value), as "key A vs B"
 * items joined by ", " into buf (truncated to fit); returns how many. */
int gw_json_diff(const cJSON *a, const cJSON *b, char *buf, size_t cap);

/* the item at a dotted key, or NULL */
const cJSON *gw_json_find(const cJSON *root, const char *key);

/* Typed getters. A key that is absent gives *out = def and GW_OK when
 * optional is non-zero, else "PATH: key 'K' is missing". A present key of the
 * wrong type or outside [lo, hi] is always an error naming the key. */
gw_status gw_json_int(int *out, const cJSON *root, const char *key, int lo, int hi, int optional,
                      int def, const char *path, gw_error *err);
gw_status gw_json_num(double *out, const cJSON *root, const char *key, double lo, double hi,
                      int optional, double def, const char *path, gw_error *err);
gw_status gw_json_bool(int *out, const cJSON *root, const char *key, int optional, int def,
                       const char *path, gw_error *err);
/* *out points into the cJSON tree (valid while root lives) */
gw_status gw_json_str(const char **out, const cJSON *root, const char *key, int optional,
                      const char *def, const char *path, gw_error *err);
/* array of integers in [lo, hi]: *n set to its length, which must be
 * <= cap (else an error) */
gw_status gw_json_int_array(int *out, int *n, int cap, const cJSON *root, const char *key, int lo,
                            int hi, const char *path, gw_error *err);
/* array of numbers in [lo, hi], as gw_json_int_array */
gw_status gw_json_num_array(double *out, int *n, int cap, const cJSON *root, const char *key,
                            double lo, double hi, const char *path, gw_error *err);
/* every member of the object at `key` (NULL/"" = root) must be in
 * allowed[0..n_allowed); a typo gives "PATH: unknown key 'resdual_channels'" */
gw_status gw_json_check_keys(const cJSON *root, const char *key, const char *const *allowed,
                             int n_allowed, const char *path, gw_error *err);

#endif
