/* JSON files through cJSON with messages that name the place (see json.h). */
#include "io/json.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* presets are small; anything this big is not one of ours */
#define GW_JSON_MAX_BYTES (64u << 20)

/* what went wrong at the place cJSON stopped, in words */
static void describe_error(char *out, size_t cap, const char *text, const char *at, int trailing) {
    if (trailing) {
        snprintf(out, cap, "unexpected text after the end of the JSON value");
        return;
    }
    if (!at || !*at) {
        snprintf(out, cap, "unexpected end of file (unclosed object, array or string?)");
        return;
    }
    /* cJSON stops at the first character it could not use; show it and what
     * follows, up to the end of the line */
    char snip[24];
    size_t k = 0;
    while (at[k] && at[k] != '\n' && at[k] != '\r' && k + 1 < sizeof snip) {
        snip[k] = at[k];
        k++;
    }
    snip[k] = 0;
    const char *hint = "";
    /* look back past blanks: a missing comma or a trailing one is the usual
     * hand-edit mistake */
    const char *p = at;
    while (p > text && (p[-1] == ' ' || p[-1] == '\t' || p[-1] == '\n' || p[-1] == '\r'))
        p--;
    if ((*at == '}' || *at == ']') && p > text && p[-1] == ',')
        hint = " (trailing comma?)";
    else if (*at == '"' && p > text && p[-1] != ',' && p[-1] != '{' && p[-1] != '[' && p[-1] != ':')
        hint = " (missing comma?)";
    else if (*at == '\'')
        hint = " (JSON strings need double quotes)";
    snprintf(out, cap, "syntax error at '%s'%s", snip, hint);
}

gw_status gw_json_parse(cJSON **out, const char *text, const char *name, gw_error *err) {
    *out = NULL;
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithOpts(text, &end, 0);
    int trailing = 0;
    if (root) {
        const char *p = end;
        while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
            p++;
        if (*p) {
            trailing = 1;
            end = p;
            cJSON_Delete(root);
            root = NULL;
        }
    }
    if (!root) {
        const char *at = end ? end : text + strlen(text);
        /* where cJSON wanted a key string it reports one past the offending
         * character ("{'a'", "1,}"): step back onto it */
        if (!trailing && at > text && at[-1] && strchr("}]'", at[-1])) {
            const char *q = at - 1;
            while (q > text && strchr(" \t\r\n", q[-1]))
                q--;
            if (q > text && strchr(",{[", q[-1])) at--;
        }
        int line = 1, col = 1;
        for (const char *p = text; p < at; p++) {
            if (*p == '\n')
                line++, col = 1;
            else
                col++;
        }
        char why[160];
        describe_error(why, sizeof why, text, at, trailing);
        return gw_fail(err, GW_ERR_FORMAT, "%s:%d:%d: %s", name, line, col, why);
    }
    *out = root;
    return GW_OK;
}

gw_status gw_json_load(cJSON **out, const char *path, gw_error *err) {
    *out = NULL;
    unsigned char *text = NULL;
    size_t n = 0;
    gw_status st = gw_read_file(path, GW_JSON_MAX_BYTES, "preset", &text, &n, err);
    if (st) return st;
    if (strlen((const char *)text) != n)
        st = gw_fail(err, GW_ERR_FORMAT, "%s: contains a NUL byte, not a JSON text file", path);
    else
        st = gw_json_parse(out, (const char *)text, path, err);
    free(text);
    return st;
}

gw_status gw_json_save(const char *path, const cJSON *root, gw_error *err) {
    char *text = cJSON_Print(root);
    if (!text) return gw_fail(err, GW_ERR_NOMEM, "%s: cannot format JSON", path);
    gw_afile af;
    gw_status st = gw_afile_open(&af, path, err);
    if (!st) {
        fputs(text, af.fp);
        fputc('\n', af.fp);
        st = gw_afile_commit(&af, err);
    }
    free(text);
    return st;
}

const cJSON *gw_json_find(const cJSON *root, const char *key) {
    if (!key || !*key) return root;
    const cJSON *node = root;
    const char *p = key;
    char part[256];
    while (node && *p) {
        const char *dot = strchr(p, '.');
        size_t len = dot ? (size_t)(dot - p) : strlen(p);
        if (len >= sizeof part) return NULL;
        memcpy(part, p, len);
        part[len] = 0;
        if (!cJSON_IsObject(node)) return NULL;
        node = cJSON_GetObjectItemCaseSensitive(node, part);
        p += len;
        if (*p == '.') p++;
    }
    return node;
}

/* a short rendering of the offending value for the message */
static void show_value(char *out, size_t cap, const cJSON *item) {
    char *s = cJSON_PrintUnformatted(item);
    if (!s) {
        snprintf(out, cap, "?");
        return;
    }
    if (strlen(s) + 1 > cap && cap > 4) {
        memcpy(out, s, cap - 4);
        strcpy(out + cap - 4, "...");
    } else {
        snprintf(out, cap, "%s", s);
    }
    free(s);
}

/* NULL (absent) is fine when optional; otherwise a "missing" error */
static gw_status lookup(const cJSON **item, const cJSON *root, const char *key, int optional,
                        const char *path, gw_error *err) {
    *item = gw_json_find(root, key);
    if (!*item && !optional)
        return gw_fail(err, GW_ERR_FORMAT, "%s: key '%s' is missing", path, key);
    return GW_OK;
}

static void int_range_words(char *out, size_t cap, long long lo, long long hi) {
    if (lo == 1 && hi == INT_MAX)
        snprintf(out, cap, "a positive integer");
    else if (lo == 0 && hi == INT_MAX)
        snprintf(out, cap, "a non-negative integer");
    else
        snprintf(out, cap, "an integer in [%lld, %lld]", lo, hi);
}

static gw_status check_int(int *out, const cJSON *item, const char *key, int lo, int hi,
                           const char *path, gw_error *err) {
    double v = cJSON_IsNumber(item) ? item->valuedouble : NAN;
    if (!(v >= lo && v <= hi && v == floor(v))) {
        char words[64], got[48];
        int_range_words(words, sizeof words, lo, hi);
        show_value(got, sizeof got, item);
        return gw_fail(err, GW_ERR_FORMAT, "%s: key '%s' must be %s (got %s)", path, key, words,
                       got);
    }
    *out = (int)v;
    return GW_OK;
}

gw_status gw_json_int(int *out, const cJSON *root, const char *key, int lo, int hi, int optional,
                      int def, const char *path, gw_error *err) {
    const cJSON *item;
    gw_status st = lookup(&item, root, key, optional, path, err);
    if (st) return st;
    if (!item) {
        *out = def;
        return GW_OK;
    }
    return check_int(out, item, key, lo, hi, path, err);
}

gw_status gw_json_num(double *out, const cJSON *root, const char *key, double lo, double hi,
                      int optional, double def, const char *path, gw_error *err) {
    const cJSON *item;
    gw_status st = lookup(&item, root, key, optional, path, err);
    if (st) return st;
    if (!item) {
        *out = def;
        return GW_OK;
    }
    double v = cJSON_IsNumber(item) ? item->valuedouble : NAN;
    if (!(v >= lo && v <= hi)) {
        char got[48];
        show_value(got, sizeof got, item);
        return gw_fail(err, GW_ERR_FORMAT, "%s: key '%s' must be a number in [%g, %g] (got %s)",
                       path, key, lo, hi, got);
    }
    *out = v;
    return GW_OK;
}

gw_status gw_json_bool(int *out, const cJSON *root, const char *key, int optional, int def,
                       const char *path, gw_error *err) {
    const cJSON *item;
    gw_status st = lookup(&item, root, key, optional, path, err);
    if (st) return st;
    if (!item) {
        *out = def;
        return GW_OK;
    }
    if (!cJSON_IsBool(item)) {
        char got[48];
        show_value(got, sizeof got, item);
        return gw_fail(err, GW_ERR_FORMAT, "%s: key '%s' must be true or false (got %s)", path, key,
                       got);
    }
    *out = cJSON_IsTrue(item);
    return GW_OK;
}

gw_status gw_json_str(const char **out, const cJSON *root, const char *key, int optional,
                      const char *def, const char *path, gw_error *err) {
    const cJSON *item;
    gw_status st = lookup(&item, root, key, optional, path, err);
    if (st) return st;
    if (!item) {
        *out = def;
        return GW_OK;
    }
    if (!cJSON_IsString(item)) {
        char got[48];
        show_value(got, sizeof got, item);
        return gw_fail(err, GW_ERR_FORMAT, "%s: key '%s' must be a string (got %s)", path, key,
                       got);
    }
    *out = item->valuestring;
    return GW_OK;
}

/* the array at key, of at most cap entries (what = "integers", "numbers") */
static gw_status array_at(const cJSON **item, int *count, int cap, const cJSON *root,
                          const char *key, const char *what, const char *path, gw_error *err) {
    gw_status st = lookup(item, root, key, 0, path, err);
    if (st) return st;
    if (!cJSON_IsArray(*item))
        return gw_fail(err, GW_ERR_FORMAT, "%s: key '%s' must be an array of %s", path, key, what);
    *count = cJSON_GetArraySize(*item);
    if (*count > cap)
        return gw_fail(err, GW_ERR_FORMAT, "%s: key '%s' has %d entries, at most %d allowed", path,
                       key, *count, cap);
    return GW_OK;
}

gw_status gw_json_int_array(int *out, int *n, int cap, const cJSON *root, const char *key, int lo,
                            int hi, const char *path, gw_error *err) {
    const cJSON *item;
    int count;
    *n = 0;
    gw_status st = array_at(&item, &count, cap, root, key, "integers", path, err);
    if (st) return st;
    int i = 0;
    const cJSON *el;
    cJSON_ArrayForEach(el, item) {
        char where[300];
        snprintf(where, sizeof where, "%s[%d]", key, i);
        st = check_int(&out[i], el, where, lo, hi, path, err);
        if (st) return st;
        i++;
    }
    *n = count;
    return GW_OK;
}

gw_status gw_json_num_array(double *out, int *n, int cap, const cJSON *root, const char *key,
                            double lo, double hi, const char *path, gw_error *err) {
    const cJSON *item;
    int count;
    *n = 0;
    gw_status st = array_at(&item, &count, cap, root, key, "numbers", path, err);
    if (st) return st;
    int i = 0;
    const cJSON *el;
    cJSON_ArrayForEach(el, item) {
        double v = cJSON_IsNumber(el) ? el->valuedouble : NAN;
        if (!(v >= lo && v <= hi)) {
            char got[48];
            show_value(got, sizeof got, el);
            return gw_fail(err, GW_ERR_FORMAT,
                           "%s: key '%s[%d]' must be a number in [%g, %g] (got %s)", path, key, i,
                           lo, hi, got);
        }
        out[i++] = v;
    }
    *n = count;
    return GW_OK;
}

gw_status gw_json_check_keys(const cJSON *root, const char *key, const char *const *allowed,
                             int n_allowed, const char *path, gw_error *err) {
    const cJSON *obj = gw_json_find(root, key);
    if (!obj) return GW_OK; /* an absent section has no unknown keys */
    if (!cJSON_IsObject(obj))
        return gw_fail(err, GW_ERR_FORMAT, "%s: key '%s' must be an object", path,
                       key && *key ? key : "(root)");
    const cJSON *el;
    cJSON_ArrayForEach(el, obj) {
        int ok = 0;
        for (int i = 0; i < n_allowed && !ok; i++)
            ok = el->string && !strcmp(el->string, allowed[i]);
        if (!ok) {
            if (key && *key)
                return gw_fail(err, GW_ERR_FORMAT, "%s: unknown key '%s.%s'", path, key,
                               el->string ? el->string : "?");
            return gw_fail(err, GW_ERR_FORMAT, "%s: unknown key '%s'", path,
                           el->string ? el->string : "?");
        }
    }
    return GW_OK;
}

static void diff_into(const cJSON *a, const cJSON *b, const char *prefix, char *buf, size_t cap,
                      size_t *used, int *n) {
    /* every key of a, then the keys only b has */
    for (int pass = 0; pass < 2; pass++) {
        const cJSON *x = pass ? b : a, *y = pass ? a : b;
        for (const cJSON *it = x ? x->child : NULL; it; it = it->next) {
            const cJSON *other = cJSON_GetObjectItemCaseSensitive(y, it->string);
            if (pass && other) continue; /* seen in the first pass */
            char key[256];
            snprintf(key, sizeof key, "%s%s%s", prefix, *prefix ? "." : "", it->string);
            if (other && cJSON_IsObject(it) && cJSON_IsObject(other)) {
                diff_into(it, other, key, buf, cap, used, n);
                continue;
            }
            if (other && cJSON_Compare(it, other, 1)) continue;
            char *va = cJSON_PrintUnformatted(pass ? other : it);
            char *vb = cJSON_PrintUnformatted(pass ? it : other);
            if (*used < cap)
                *used += (size_t)snprintf(buf + *used, cap - *used, "%s%s %s vs %s",
                                          *n ? ", " : "", key, va ? va : "(none)",
                                          vb ? vb : "(none)");
            free(va), free(vb);
            (*n)++;
        }
    }
}

int gw_json_diff(const cJSON *a, const cJSON *b, char *buf, size_t cap) {
    size_t used = 0;
    int n = 0;
    if (cap) buf[0] = 0;
    diff_into(a, b, "", buf, cap, &used, &n);
    return n;
}
