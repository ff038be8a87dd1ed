/* The .gwm reader and writer; the byte layout is documented in gwm.h and
 * docs/model-format.md. The reader copies the whole file into one 64-byte
 * aligned buffer and validates it completely before handing out any pointer:
 * the only trusted number is the real file size. */
#include "nn/gwm.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "gwm.c stores tensor data in host order and assumes a little-endian host"
#endif

static const unsigned char gwm_magic[8] = {0x89, 'G', 'W', 'M', 0x0D, 0x0A, 0x1A, 0x0A};

enum {
    HEADER_SIZE = 64,
    HEADER_CRC_SPAN = 60,
    /* smallest possible records: lengths and fields with 1-byte strings */
    MIN_META_BYTES = 4 + 1 + 4,
    MIN_TENSOR_BYTES = 4 + 1 + 4 + 4 + 4 + 8 + 8 + 4,
};

size_t gw_gwm_dtype_size(gw_gwm_dtype t) {
    switch (t) {
    case GW_GWM_F32:
        return 4;
    case GW_GWM_U8:
        return 1;
    case GW_GWM_I32:
        return 4;
    case GW_GWM_U64:
        return 8;
    }
    return 0;
}

const char *gw_gwm_dtype_name(gw_gwm_dtype t) {
    switch (t) {
    case GW_GWM_F32:
        return "f32";
    case GW_GWM_U8:
        return "u8";
    case GW_GWM_I32:
        return "i32";
    case GW_GWM_U64:
        return "u64";
    }
    return "unknown";
}

gw_status gw_gwm_name(char *buf, const char *prefix, const char *a, const char *b, gw_error *err) {
    int n = snprintf(buf, GW_GWM_NAME_MAX + 1, "%s%s%s", prefix, a, b);
    if (n < 0 || n > GW_GWM_NAME_MAX)
        return gw_fail(err, GW_ERR_ARG, "%s%s%s: tensor name longer than %d bytes", prefix, a, b,
                       GW_GWM_NAME_MAX);
    return GW_OK;
}

/* RFC 3629 UTF-8: no overlongs, no surrogates, nothing above U+10FFFF; NUL
 * is rejected too so every string is also a C string */
static int valid_utf8(const unsigned char *s, size_t n) {
    size_t i = 0;
    while (i < n) {
        unsigned c = s[i];
        size_t len;
        unsigned min;
        if (c == 0) return 0;
        if (c < 0x80) {
            i++;
            continue;
        } else if ((c & 0xE0) == 0xC0) {
            len = 2, min = 0x80, c &= 0x1F;
        } else if ((c & 0xF0) == 0xE0) {
            len = 3, min = 0x800, c &= 0x0F;
        } else if ((c & 0xF8) == 0xF0) {
            len = 4, min = 0x10000, c &= 0x07;
        } else {
            return 0;
        }
        if (n - i < len) return 0;
        for (size_t k = 1; k < len; k++) {
            if ((s[i + k] & 0xC0) != 0x80) return 0;
            c = (c << 6) | (s[i + k] & 0x3Fu);
        }
        if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) return 0;
        i += len;
    }
    return 1;
}

static void put_u32(unsigned char *p, uint32_t v) {
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static void put_u64(unsigned char *p, uint64_t v) {
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static uint32_t get_u32(const unsigned char *p) {
    uint32_t v = 0;
    for (int i = 3; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

static uint64_t get_u64(const unsigned char *p) {
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

/* ======================================================================
 * reading
 * ==================================================================== */

struct gw_gwm {
    char path[1024];
    unsigned char *buf; /* (size) the whole file, 64-byte aligned */
    size_t size;
    size_t nmeta;
    const char **keys;   /* (nmeta) into strings */
    const char **values; /* (nmeta) */
    size_t *meta_order;  /* (nmeta) indexes sorted by key */
    size_t ntensors;
    gw_gwm_tensor *tensors; /* (ntensors) in file order */
    size_t *order;          /* (ntensors) indexes sorted by name */
    char *strings;          /* NUL-terminated copies of every string */
};

/* a bounds-checked reader over the table */
typedef struct cursor {
    const unsigned char *p;
    size_t left;
} cursor;

static int take(cursor *c, size_t n, const unsigned char **out) {
    if (c->left < n) return 0;
    *out = c->p;
    c->p += n;
    c->left -= n;
    return 1;
}

static int take_u32(cursor *c, uint32_t *v) {
    const unsigned char *q;
    if (!take(c, 4, &q)) return 0;
    *v = get_u32(q);
    return 1;
}

static int take_u64(cursor *c, uint64_t *v) {
    const unsigned char *q;
    if (!take(c, 8, &q)) return 0;
    *v = get_u64(q);
    return 1;
}

/* a length-prefixed string, copied NUL-terminated into *arena */
static gw_status take_string(gw_gwm *f, cursor *c, uint32_t max, const char *what, size_t idx,
                             char **arena, const char **out, gw_error *err) {
    uint32_t n;
    const unsigned char *q;
    if (!take_u32(c, &n))
        return gw_fail(err, GW_ERR_FORMAT, "%s: table ends inside %s %zu", f->path, what, idx);
    if (n == 0 && max <= GW_GWM_NAME_MAX)
        return gw_fail(err, GW_ERR_FORMAT, "%s: %s %zu is empty", f->path, what, idx);
    if (n > max)
        return gw_fail(err, GW_ERR_FORMAT, "%s: %s %zu declares %u bytes (limit %u)", f->path, what,
                       idx, n, max);
    if (!take(c, n, &q))
        return gw_fail(err, GW_ERR_FORMAT, "%s: %s %zu declares %u bytes, past the table end",
                       f->path, what, idx, n);
    if (!valid_utf8(q, n))
        return gw_fail(err, GW_ERR_FORMAT, "%s: %s %zu is not valid UTF-8", f->path, what, idx);
    memcpy(*arena, q, n);
    (*arena)[n] = 0;
    *out = *arena;
    *arena += n + 1;
    return GW_OK;
}

/* qsort has no context argument in C11, so sort (index, name) pairs */
typedef struct name_ix {
    const char *name;
    size_t ix;
} name_ix;

static int cmp_name_ix(const void *a, const void *b) {
    return strcmp(((const name_ix *)a)->name, ((const name_ix *)b)->name);
}

/* sorts indexes by name into order; returns the first duplicate or NULL */
static const char *sort_unique(size_t n, const char *(*name_of)(const gw_gwm *, size_t),
                               const gw_gwm *f, size_t *order, gw_status *nomem) {
    *nomem = GW_OK;
    if (n == 0) return NULL;
    name_ix *v = malloc(n * sizeof *v);
    if (!v) {
        *nomem = GW_ERR_NOMEM;
        return NULL;
    }
    for (size_t i = 0; i < n; i++)
        v[i].name = name_of(f, i), v[i].ix = i;
    qsort(v, n, sizeof *v, cmp_name_ix);
    const char *dup = NULL;
    for (size_t i = 0; i < n; i++) {
        order[i] = v[i].ix;
        if (i && !dup && !strcmp(v[i].name, v[i - 1].name)) dup = v[i].name;
    }
    free(v);
    return dup;
}

static const char *key_of(const gw_gwm *f, size_t i) {
    return f->keys[i];
}

static const char *tname_of(const gw_gwm *f, size_t i) {
    return f->tensors[i].name;
}

static int all_zero(const unsigned char *p, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (p[i]) return 0;
    return 1;
}

static gw_status parse_tensor(gw_gwm *f, cursor *c, size_t i, uint64_t expect_off, char **arena,
                              gw_error *err) {
    gw_gwm_tensor *t = &f->tensors[i];
    gw_status st = take_string(f, c, GW_GWM_NAME_MAX, "tensor name", i, arena, &t->name, err);
    if (st) return st;
    uint32_t dtype, ndim;
    if (!take_u32(c, &dtype) || !take_u32(c, &ndim))
        return gw_fail(err, GW_ERR_FORMAT, "%s: table ends inside tensor %s", f->path, t->name);
    size_t esize = gw_gwm_dtype_size((gw_gwm_dtype)dtype);
    if (!esize)
        return gw_fail(err, GW_ERR_FORMAT, "%s: tensor %s has unknown dtype %u", f->path, t->name,
                       dtype);
    if (ndim < 1 || ndim > GW_GWM_MAX_DIMS)
        return gw_fail(err, GW_ERR_FORMAT, "%s: tensor %s has ndim %u (allowed 1..%d)", f->path,
                       t->name, ndim, GW_GWM_MAX_DIMS);
    t->dtype = (gw_gwm_dtype)dtype;
    t->ndim = (int)ndim;
    /* the product is bounded by the file size at every step, so it cannot
     * overflow however large the declared dims are */
    uint64_t numel = 1;
    for (int d = 0; d < GW_GWM_MAX_DIMS; d++)
        t->shape[d] = 1;
    for (uint32_t d = 0; d < ndim; d++) {
        uint32_t dim;
        if (!take_u32(c, &dim))
            return gw_fail(err, GW_ERR_FORMAT, "%s: table ends inside tensor %s", f->path, t->name);
        if (dim < 1 || dim > INT_MAX)
            return gw_fail(err, GW_ERR_FORMAT, "%s: tensor %s dim %u is %u", f->path, t->name, d,
                           dim);
        t->shape[d] = (int)dim;
        numel *= dim;
        if (numel > f->size / esize)
            return gw_fail(err, GW_ERR_FORMAT,
                           "%s: tensor %s declares more elements than the file holds", f->path,
                           t->name);
    }
    uint64_t off, nbytes;
    uint32_t crc;
    if (!take_u64(c, &off) || !take_u64(c, &nbytes) || !take_u32(c, &crc))
        return gw_fail(err, GW_ERR_FORMAT, "%s: table ends inside tensor %s", f->path, t->name);
    if (nbytes != numel * esize)
        return gw_fail(err, GW_ERR_FORMAT,
                       "%s: tensor %s byte length %llu does not match its shape (%llu bytes)",
                       f->path, t->name, (unsigned long long)nbytes,
                       (unsigned long long)(numel * esize));
    /* the layout is canonical: tensors packed in record order at 64-byte
     * boundaries, so the offset is known and padding can be checked */
    if (off != expect_off)
        return gw_fail(err, GW_ERR_FORMAT, "%s: tensor %s data offset %llu, expected %llu", f->path,
                       t->name, (unsigned long long)off, (unsigned long long)expect_off);
    if (off > f->size || nbytes > f->size - off)
        return gw_fail(err, GW_ERR_FORMAT,
                       "%s: tensor %s data (%llu bytes at %llu) is past the end", f->path, t->name,
                       (unsigned long long)nbytes, (unsigned long long)off);
    t->numel = (size_t)numel;
    t->nbytes = (size_t)nbytes;
    t->data = f->buf + off;
    if (gw_gwm_crc32c(0, t->data, t->nbytes) != crc)
        return gw_fail(err, GW_ERR_FORMAT, "%s: bad checksum in tensor %s", f->path, t->name);
    return GW_OK;
}

/* validates f->buf (f->size bytes) and builds the index */
static gw_status parse(gw_gwm *f, gw_error *err) {
    const unsigned char *b = f->buf;
    size_t size = f->size;
    if (size < HEADER_SIZE)
        return gw_fail(err, GW_ERR_FORMAT, "%s: truncated: %zu bytes, the header alone needs %d",
                       f->path, size, HEADER_SIZE);
    if (memcmp(b, gwm_magic, sizeof gwm_magic) != 0)
        return gw_fail(err, GW_ERR_FORMAT, "%s: not a genwave model file (wrong magic)", f->path);
    uint32_t version = get_u32(b + 8);
    if (version != GW_GWM_VERSION)
        return gw_fail(err, GW_ERR_FORMAT,
                       "%s: unsupported format version %u (this build reads %d)", f->path, version,
                       GW_GWM_VERSION);
    if (gw_gwm_crc32c(0, b, HEADER_CRC_SPAN) != get_u32(b + 60))
        return gw_fail(err, GW_ERR_FORMAT, "%s: bad header checksum", f->path);
    uint32_t flags = get_u32(b + 12);
    uint64_t fsize = get_u64(b + 16);
    uint32_t nmeta = get_u32(b + 24), ntensors = get_u32(b + 28);
    uint64_t toff = get_u64(b + 32), tsize = get_u64(b + 40), doff = get_u64(b + 48);
    if (flags != 0)
        return gw_fail(err, GW_ERR_FORMAT, "%s: unknown header flags 0x%x", f->path, flags);
    if (fsize > size)
        return gw_fail(err, GW_ERR_FORMAT, "%s: truncated: %zu bytes, header declares %llu",
                       f->path, size, (unsigned long long)fsize);
    if (fsize < size)
        return gw_fail(err, GW_ERR_FORMAT,
                       "%s: %zu bytes of trailing garbage after the declared end", f->path,
                       size - (size_t)fsize);
    if (toff != HEADER_SIZE)
        return gw_fail(err, GW_ERR_FORMAT, "%s: table offset %llu, expected %d", f->path,
                       (unsigned long long)toff, HEADER_SIZE);
    if (tsize > size - HEADER_SIZE)
        return gw_fail(err, GW_ERR_FORMAT, "%s: declared table size %llu exceeds the file", f->path,
                       (unsigned long long)tsize);
    if ((uint64_t)nmeta * MIN_META_BYTES + (uint64_t)ntensors * MIN_TENSOR_BYTES > tsize)
        return gw_fail(
            err, GW_ERR_FORMAT,
            "%s: declared counts (%u metadata, %u tensors) do not fit the %llu-byte table", f->path,
            nmeta, ntensors, (unsigned long long)tsize);
    if (doff != gw_align64(HEADER_SIZE + (size_t)tsize) || doff > size)
        return gw_fail(err, GW_ERR_FORMAT, "%s: data offset %llu, expected %zu", f->path,
                       (unsigned long long)doff, gw_align64(HEADER_SIZE + (size_t)tsize));
    if (gw_gwm_crc32c(0, b + HEADER_SIZE, (size_t)tsize) != get_u32(b + 56))
        return gw_fail(err, GW_ERR_FORMAT, "%s: bad table checksum", f->path);
    if (!all_zero(b + HEADER_SIZE + tsize, (size_t)(doff - HEADER_SIZE - tsize)))
        return gw_fail(err, GW_ERR_FORMAT, "%s: nonzero padding after the table", f->path);

    /* every string is at most the table's size, plus one NUL each */
    f->nmeta = nmeta;
    f->ntensors = ntensors;
    f->keys = calloc(nmeta + 1, sizeof *f->keys);
    f->values = calloc(nmeta + 1, sizeof *f->values);
    f->meta_order = calloc(nmeta + 1, sizeof *f->meta_order);
    f->tensors = calloc(ntensors + 1, sizeof *f->tensors);
    f->order = calloc(ntensors + 1, sizeof *f->order);
    f->strings = malloc((size_t)tsize + 2 * (size_t)nmeta + ntensors + 1);
    if (!f->keys || !f->values || !f->meta_order || !f->tensors || !f->order || !f->strings)
        return gw_fail(err, GW_ERR_NOMEM, "%s: out of memory indexing the file", f->path);

    cursor c = {b + HEADER_SIZE, (size_t)tsize};
    char *arena = f->strings;
    gw_status st;
    for (size_t i = 0; i < nmeta; i++) {
        if ((st = take_string(f, &c, GW_GWM_NAME_MAX, "metadata key", i, &arena, &f->keys[i],
                              err)) ||
            (st = take_string(f, &c, GW_GWM_VALUE_MAX, "metadata value", i, &arena, &f->values[i],
                              err)))
            return st;
    }
    uint64_t expect = doff;
    for (size_t i = 0; i < ntensors; i++) {
        if ((st = parse_tensor(f, &c, i, expect, &arena, err))) return st;
        uint64_t end = expect + f->tensors[i].nbytes; /* <= size, checked */
        expect = i + 1 < ntensors ? gw_align64((size_t)end) : end;
        /* a next offset past the end is reported by the next record */
        if (!all_zero(b + end, (size_t)((expect <= size ? expect : size) - end)))
            return gw_fail(err, GW_ERR_FORMAT, "%s: nonzero padding after tensor %s", f->path,
                           f->tensors[i].name);
    }
    if (c.left != 0)
        return gw_fail(err, GW_ERR_FORMAT, "%s: %zu unparsed bytes at the end of the table",
                       f->path, c.left);
    if (expect != size)
        return gw_fail(err, GW_ERR_FORMAT, "%s: data ends at %llu but the file has %zu bytes",
                       f->path, (unsigned long long)expect, size);
    const char *dup = sort_unique(nmeta, key_of, f, f->meta_order, &st);
    if (!st && dup)
        return gw_fail(err, GW_ERR_FORMAT, "%s: metadata key %s repeated", f->path, dup);
    if (!st) dup = sort_unique(ntensors, tname_of, f, f->order, &st);
    if (st) return gw_fail(err, GW_ERR_NOMEM, "%s: out of memory indexing the file", f->path);
    if (dup) return gw_fail(err, GW_ERR_FORMAT, "%s: tensor %s repeated", f->path, dup);
    return GW_OK;
}

/* 64-byte aligned like gw_alloc (and freed with gw_free) but not zeroed:
 * the buffer is overwritten at once (by the file or the tensor copied), and
 * zeroing a large model first would double the page-touching work */
static unsigned char *alloc_uninit(size_t n) {
    return aligned_alloc(64, gw_align64(n ? n : 1));
}

static gw_gwm *new_gwm(const char *name) {
    gw_gwm *f = calloc(1, sizeof *f);
    if (f) snprintf(f->path, sizeof f->path, "%s", name);
    return f;
}

gw_status gw_gwm_open_memory(gw_gwm **out, const void *buf, size_t n, const char *name,
                             gw_error *err) {
    *out = NULL;
    gw_gwm *f = new_gwm(name);
    if (!f || !(f->buf = alloc_uninit(n))) {
        gw_gwm_free(f);
        return gw_fail(err, GW_ERR_NOMEM, "%s: cannot allocate %zu bytes", name, n);
    }
    memcpy(f->buf, buf, n);
    f->size = n;
    gw_status st = parse(f, err);
    if (st) {
        gw_gwm_free(f);
        return st;
    }
    *out = f;
    return GW_OK;
}

gw_status gw_gwm_open(gw_gwm **out, const char *path, gw_error *err) {
    *out = NULL;
    gw_status st;
    gw_gwm *f = new_gwm(path);
    FILE *fp = NULL;
    struct stat sb;
    if (!f) return gw_fail(err, GW_ERR_NOMEM, "%s: out of memory", path);
    if ((st = gw_check_regular(path, err))) goto fail; /* a FIFO would block fopen */
    fp = fopen(path, "rb");
    if (!fp) {
        st = gw_fail(err, GW_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
        goto fail;
    }
    if (fstat(fileno(fp), &sb) != 0 || !S_ISREG(sb.st_mode)) {
        st = gw_fail(err, GW_ERR_IO, "%s: not a regular file", path);
        goto fail;
    }
    f->size = (size_t)sb.st_size;
    if (!(f->buf = alloc_uninit(f->size))) {
        st = gw_fail(err, GW_ERR_NOMEM, "%s: cannot allocate %zu bytes", path, f->size);
        goto fail;
    }
    if (fread(f->buf, 1, f->size, fp) != f->size) {
        st = gw_fail(err, GW_ERR_IO, "%s: read failed (file changed or I/O error)", path);
        goto fail;
    }
    fclose(fp);
    fp = NULL;
    if ((st = parse(f, err))) goto fail;
    *out = f;
    return GW_OK;
fail:
    if (fp) fclose(fp);
    gw_gwm_free(f);
    return st;
}

void gw_gwm_free(gw_gwm *f) {
    if (!f) return;
    gw_free(f->buf);
    free(f->keys);
    free(f->values);
    free(f->meta_order);
    free(f->tensors);
    free(f->order);
    free(f->strings);
    free(f);
}

const char *gw_gwm_path(const gw_gwm *f) {
    return f->path;
}

/* binary search over indexes sorted by name */
static size_t lookup(const char *const *names, size_t stride, const size_t *order, size_t n,
                     const char *key) {
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const char *s = *(const char *const *)((const char *)names + order[mid] * stride);
        int c = strcmp(s, key);
        if (c == 0) return order[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return SIZE_MAX;
}

const char *gw_gwm_meta(const gw_gwm *f, const char *key) {
    size_t i = lookup(f->keys, sizeof *f->keys, f->meta_order, f->nmeta, key);
    return i == SIZE_MAX ? NULL : f->values[i];
}

size_t gw_gwm_meta_count(const gw_gwm *f) {
    return f->nmeta;
}

void gw_gwm_meta_at(const gw_gwm *f, size_t i, const char **key, const char **value) {
    *key = i < f->nmeta ? f->keys[i] : NULL;
    *value = i < f->nmeta ? f->values[i] : NULL;
}

static gw_status meta_required(const gw_gwm *f, const char *key, const char **v, gw_error *err) {
    *v = gw_gwm_meta(f, key);
    if (!*v) return gw_fail(err, GW_ERR_FORMAT, "%s: metadata key %s missing", f->path, key);
    return GW_OK;
}

gw_status gw_gwm_meta_i64(const gw_gwm *f, const char *key, int64_t *out, gw_error *err) {
    const char *v;
    gw_status st = meta_required(f, key, &v, err);
    if (st) return st;
    char *end;
    errno = 0;
    long long x = strtoll(v, &end, 10);
    if (errno || end == v || *end)
        return gw_fail(err, GW_ERR_FORMAT, "%s: metadata %s = \"%s\" is not an integer", f->path,
                       key, v);
    *out = x;
    return GW_OK;
}

gw_status gw_gwm_meta_f64(const gw_gwm *f, const char *key, double *out, gw_error *err) {
    const char *v;
    gw_status st = meta_required(f, key, &v, err);
    if (st) return st;
    char *end;
    errno = 0;
    double x = strtod(v, &end);
    if (errno || end == v || *end)
        return gw_fail(err, GW_ERR_FORMAT, "%s: metadata %s = \"%s\" is not a number", f->path, key,
                       v);
    *out = x;
    return GW_OK;
}

size_t gw_gwm_count(const gw_gwm *f) {
    return f->ntensors;
}

const gw_gwm_tensor *gw_gwm_at(const gw_gwm *f, size_t i) {
    return i < f->ntensors ? &f->tensors[i] : NULL;
}

const gw_gwm_tensor *gw_gwm_find(const gw_gwm *f, const char *name) {
    size_t i = lookup(&f->tensors[0].name, sizeof *f->tensors, f->order, f->ntensors, name);
    return i == SIZE_MAX ? NULL : &f->tensors[i];
}

gw_status gw_gwm_get(const gw_gwm *f, const char *name, gw_gwm_dtype dtype, int ndim,
                     const int *shape, const gw_gwm_tensor **out, gw_error *err) {
    *out = NULL;
    const gw_gwm_tensor *t = gw_gwm_find(f, name);
    if (!t) return gw_fail(err, GW_ERR_FORMAT, "%s: tensor %s missing", f->path, name);
    if (t->dtype != dtype)
        return gw_fail(err, GW_ERR_FORMAT, "%s: tensor %s is %s, expected %s", f->path, name,
                       gw_gwm_dtype_name(t->dtype), gw_gwm_dtype_name(dtype));
    int same = t->ndim == ndim;
    for (int d = 0; same && d < ndim; d++)
        same = t->shape[d] == shape[d];
    if (!same) {
        char a[96], b[96];
        return gw_fail(err, GW_ERR_FORMAT, "%s: tensor %s has shape %s, expected %s", f->path, name,
                       gw_params_shape_str(a, sizeof a, t->ndim, t->shape),
                       gw_params_shape_str(b, sizeof b, ndim, shape));
    }
    *out = t;
    return GW_OK;
}

gw_status gw_gwm_read(const gw_gwm *f, const char *name, gw_gwm_dtype dtype, int ndim,
                      const int *shape, void *dst, gw_error *err) {
    const gw_gwm_tensor *t;
    gw_status st = gw_gwm_get(f, name, dtype, ndim, shape, &t, err);
    if (st) return st;
    memcpy(dst, t->data, t->nbytes);
    return GW_OK;
}

gw_status gw_gwm_load_layout(const gw_gwm *f, const gw_params *p, float *dst, const char *prefix,
                             const char *what, int skip_state, gw_error *err) {
    char name[GW_GWM_NAME_MAX + 1];
    const gw_gwm_tensor *t;
    gw_status st;
    /* check all before copying any, so a failed load changes nothing */
    for (int pass = 0; pass < (dst ? 2 : 1); pass++) {
        for (size_t i = 0; i < p->count; i++) {
            const gw_param *q = &p->items[i];
            if (skip_state && (q->flags & GW_PARAM_STATE)) continue;
            if ((st = gw_gwm_name(name, prefix, what, q->name, err)) ||
                (st = gw_gwm_get(f, name, GW_GWM_F32, q->ndim, q->shape, &t, err)))
                return st;
            if (pass) memcpy(dst + q->offset, t->data, t->nbytes);
        }
    }
    return GW_OK;
}

gw_status gw_gwm_load_params(const gw_gwm *f, gw_params *p, const char *prefix, gw_error *err) {
    if (!p->data) return gw_fail(err, GW_ERR_ARG, "%s: parameter group not allocated", f->path);
    return gw_gwm_load_layout(f, p, p->data, prefix, "", 0, err);
}

/* ======================================================================
 * writing
 * ==================================================================== */

typedef struct wmeta {
    char *key;
    char *value;
} wmeta;

typedef struct wtensor {
    char *name;
    gw_gwm_dtype dtype;
    int ndim;
    int shape[GW_GWM_MAX_DIMS];
    size_t nbytes;
    uint32_t crc;
    void *data; /* (nbytes) owned copy */
} wtensor;

struct gw_gwm_writer {
    wmeta *meta;
    size_t nmeta, cap_meta;
    wtensor *tensors;
    size_t ntensors, cap_tensors;
};

gw_status gw_gwm_writer_create(gw_gwm_writer **out, gw_error *err) {
    *out = calloc(1, sizeof **out);
    if (!*out) return gw_fail(err, GW_ERR_NOMEM, "gwm writer: out of memory");
    return GW_OK;
}

void gw_gwm_writer_free(gw_gwm_writer *w) {
    if (!w) return;
    for (size_t i = 0; i < w->nmeta; i++)
        free(w->meta[i].key), free(w->meta[i].value);
    for (size_t i = 0; i < w->ntensors; i++)
        free(w->tensors[i].name), gw_free(w->tensors[i].data);
    free(w->meta);
    free(w->tensors);
    free(w);
}

static int grow(void **items, size_t *cap, size_t n, size_t elem) {
    if (n < *cap) return 1;
    size_t nc = *cap ? 2 * *cap : 16;
    void *p = realloc(*items, nc * elem);
    if (!p) return 0;
    *items = p;
    *cap = nc;
    return 1;
}

static gw_status check_string(const char *s, size_t max, const char *what, gw_error *err) {
    size_t n = strlen(s);
    if (n > max || (n == 0 && max <= GW_GWM_NAME_MAX))
        return gw_fail(err, GW_ERR_ARG, "%.300s: %s must be 1..%zu bytes", s, what, max);
    if (!valid_utf8((const unsigned char *)s, n))
        return gw_fail(err, GW_ERR_ARG, "%.300s: %s is not valid UTF-8", s, what);
    return GW_OK;
}

gw_status gw_gwm_writer_meta(gw_gwm_writer *w, const char *key, const char *value, gw_error *err) {
    gw_status st;
    if ((st = check_string(key, GW_GWM_NAME_MAX, "metadata key", err)) ||
        (st = check_string(value, GW_GWM_VALUE_MAX, "metadata value", err)))
        return st;
    char *v = strdup(value);
    if (!v) return gw_fail(err, GW_ERR_NOMEM, "%s: out of memory", key);
    for (size_t i = 0; i < w->nmeta; i++) {
        if (!strcmp(w->meta[i].key, key)) {
            free(w->meta[i].value);
            w->meta[i].value = v;
            return GW_OK;
        }
    }
    char *k = strdup(key);
    if (!k || !grow((void **)&w->meta, &w->cap_meta, w->nmeta, sizeof *w->meta)) {
        free(k);
        free(v);
        return gw_fail(err, GW_ERR_NOMEM, "%s: out of memory", key);
    }
    w->meta[w->nmeta++] = (wmeta){k, v};
    return GW_OK;
}

gw_status gw_gwm_writer_metaf(gw_gwm_writer *w, gw_error *err, const char *key, const char *fmt,
                              ...) {
    va_list ap;
    va_start(ap, fmt);
    char *s = NULL;
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || !(s = malloc((size_t)n + 1)))
        return gw_fail(err, GW_ERR_NOMEM, "%s: cannot format metadata", key);
    va_start(ap, fmt);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    va_end(ap);
    gw_status st = gw_gwm_writer_meta(w, key, s, err);
    free(s);
    return st;
}

gw_status gw_gwm_writer_add(gw_gwm_writer *w, const char *name, gw_gwm_dtype dtype, int ndim,
                            const int *shape, const void *data, gw_error *err) {
    gw_status st = check_string(name, GW_GWM_NAME_MAX, "tensor name", err);
    if (st) return st;
    size_t esize = gw_gwm_dtype_size(dtype);
    if (!esize) return gw_fail(err, GW_ERR_ARG, "%s: unknown dtype %d", name, (int)dtype);
    if (ndim < 1 || ndim > GW_GWM_MAX_DIMS)
        return gw_fail(err, GW_ERR_ARG, "%s: ndim %d outside 1..%d", name, ndim, GW_GWM_MAX_DIMS);
    size_t nbytes = esize;
    for (int d = 0; d < ndim; d++) {
        if (shape[d] < 1) return gw_fail(err, GW_ERR_ARG, "%s: dim %d is %d", name, d, shape[d]);
        if (nbytes > (SIZE_MAX / 2) / (size_t)shape[d])
            return gw_fail(err, GW_ERR_ARG, "%s: too large", name);
        nbytes *= (size_t)shape[d];
    }
    for (size_t i = 0; i < w->ntensors; i++)
        if (!strcmp(w->tensors[i].name, name))
            return gw_fail(err, GW_ERR_ARG, "%s: tensor added twice", name);
    wtensor t = {.dtype = dtype, .ndim = ndim, .nbytes = nbytes};
    for (int d = 0; d < GW_GWM_MAX_DIMS; d++)
        t.shape[d] = d < ndim ? shape[d] : 1;
    t.name = strdup(name);
    t.data = alloc_uninit(nbytes);
    if (!t.name || !t.data ||
        !grow((void **)&w->tensors, &w->cap_tensors, w->ntensors, sizeof *w->tensors)) {
        free(t.name);
        gw_free(t.data);
        return gw_fail(err, GW_ERR_NOMEM, "%s: out of memory (%zu bytes)", name, nbytes);
    }
    memcpy(t.data, data, nbytes);
    t.crc = gw_gwm_crc32c(0, t.data, nbytes);
    w->tensors[w->ntensors++] = t;
    return GW_OK;
}

gw_status gw_gwm_writer_add_layout(gw_gwm_writer *w, const gw_params *p, const float *src,
                                   const char *prefix, const char *what, int skip_state,
                                   gw_error *err) {
    char name[GW_GWM_NAME_MAX + 1];
    gw_status st;
    for (size_t i = 0; i < p->count; i++) {
        const gw_param *q = &p->items[i];
        if (skip_state && (q->flags & GW_PARAM_STATE)) continue;
        if ((st = gw_gwm_name(name, prefix, what, q->name, err)) ||
            (st = gw_gwm_writer_add(w, name, GW_GWM_F32, q->ndim, q->shape, src + q->offset, err)))
            return st;
    }
    return GW_OK;
}

gw_status gw_gwm_writer_add_params(gw_gwm_writer *w, const gw_params *p, const char *prefix,
                                   gw_error *err) {
    if (!p->data) return gw_fail(err, GW_ERR_ARG, "gwm writer: parameter group not allocated");
    return gw_gwm_writer_add_layout(w, p, p->data, prefix, "", 0, err);
}

/* serialises the table; returns its size or 0 on allocation failure */
static unsigned char *build_table(const gw_gwm_writer *w, uint64_t data_off, size_t *size) {
    size_t n = 0;
    for (size_t i = 0; i < w->nmeta; i++)
        n += 8 + strlen(w->meta[i].key) + strlen(w->meta[i].value);
    for (size_t i = 0; i < w->ntensors; i++)
        n += 4 + strlen(w->tensors[i].name) + 8 + 4 * (size_t)w->tensors[i].ndim + 20;
    unsigned char *t = malloc(n ? n : 1), *p = t;
    if (!t) return NULL;
    for (size_t i = 0; i < w->nmeta; i++) {
        const char *s[2] = {w->meta[i].key, w->meta[i].value};
        for (int k = 0; k < 2; k++) {
            size_t len = strlen(s[k]);
            put_u32(p, (uint32_t)len);
            memcpy(p + 4, s[k], len);
            p += 4 + len;
        }
    }
    uint64_t off = data_off;
    for (size_t i = 0; i < w->ntensors; i++) {
        const wtensor *x = &w->tensors[i];
        size_t len = strlen(x->name);
        put_u32(p, (uint32_t)len);
        memcpy(p + 4, x->name, len);
        p += 4 + len;
        put_u32(p, (uint32_t)x->dtype);
        put_u32(p + 4, (uint32_t)x->ndim);
        p += 8;
        for (int d = 0; d < x->ndim; d++, p += 4)
            put_u32(p, (uint32_t)x->shape[d]);
        put_u64(p, off);
        put_u64(p + 8, x->nbytes);
        put_u32(p + 16, x->crc);
        p += 20;
        off = gw_align64((size_t)(off + x->nbytes));
    }
    *size = n;
    return t;
}

gw_status gw_gwm_writer_commit(gw_gwm_writer *w, const char *path, gw_error *err) {
    static const unsigned char zeros[64] = {0};
    if (w->nmeta > UINT32_MAX || w->ntensors > UINT32_MAX)
        return gw_fail(err, GW_ERR_ARG, "%s: too many records", path);
    /* the table's size does not depend on the offsets it records */
    size_t tsize = 0;
    unsigned char *probe = build_table(w, 0, &tsize);
    if (!probe) return gw_fail(err, GW_ERR_NOMEM, "%s: out of memory", path);
    free(probe);
    uint64_t doff = gw_align64(HEADER_SIZE + tsize);
    unsigned char *table = build_table(w, doff, &tsize);
    if (!table) return gw_fail(err, GW_ERR_NOMEM, "%s: out of memory", path);
    uint64_t end = doff;
    for (size_t i = 0; i < w->ntensors; i++)
        end = (i ? gw_align64((size_t)end) : end) + w->tensors[i].nbytes;

    unsigned char h[HEADER_SIZE] = {0};
    memcpy(h, gwm_magic, 8);
    put_u32(h + 8, GW_GWM_VERSION);
    put_u32(h + 12, 0);
    put_u64(h + 16, end);
    put_u32(h + 24, (uint32_t)w->nmeta);
    put_u32(h + 28, (uint32_t)w->ntensors);
    put_u64(h + 32, HEADER_SIZE);
    put_u64(h + 40, tsize);
    put_u64(h + 48, doff);
    put_u32(h + 56, gw_gwm_crc32c(0, table, tsize));
    put_u32(h + 60, gw_gwm_crc32c(0, h, HEADER_CRC_SPAN));

    gw_afile af;
    gw_status st = gw_afile_open(&af, path, err);
    if (st) {
        free(table);
        return st;
    }
    fwrite(h, 1, sizeof h, af.fp);
    fwrite(table, 1, tsize, af.fp);
    fwrite(zeros, 1, (size_t)(doff - HEADER_SIZE - tsize), af.fp);
    uint64_t pos = doff;
    for (size_t i = 0; i < w->ntensors; i++) {
        if (i) {
            fwrite(zeros, 1, gw_align64((size_t)pos) - (size_t)pos, af.fp);
            pos = gw_align64((size_t)pos);
        }
        fwrite(w->tensors[i].data, 1, w->tensors[i].nbytes, af.fp);
        pos += w->tensors[i].nbytes;
    }
    free(table);
    /* fwrite errors stick in the stream; commit checks ferror */
    return gw_afile_commit(&af, err);
}

/* ---- fuzzing support ---------------------------------------------------- */

void gw_gwm_fix_checksums(unsigned char *b, size_t n) {
    if (n < HEADER_SIZE || memcmp(b, gwm_magic, sizeof gwm_magic) != 0) return;
    put_u64(b + 16, n); /* the declared size is the real one */
    const uint64_t tsize = get_u64(b + 40);
    if (tsize > n - HEADER_SIZE) return;
    const unsigned char *end = b + HEADER_SIZE + tsize;
    unsigned char *p = b + HEADER_SIZE;
    const uint32_t nmeta = get_u32(b + 24), ntensors = get_u32(b + 28);
    /* skip the metadata, then fix each tensor record's data CRC, every read
     * bounds-checked against the table: the input is arbitrary */
    for (uint32_t i = 0; i < nmeta; i++) {
        for (int kv = 0; kv < 2; kv++) {
            if ((size_t)(end - p) < 4) goto table;
            uint32_t len = get_u32(p);
            p += 4;
            if ((size_t)(end - p) < len) goto table;
            p += len;
        }
    }
    for (uint32_t i = 0; i < ntensors; i++) {
        if ((size_t)(end - p) < 4) break;
        uint32_t len = get_u32(p);
        p += 4;
        if ((size_t)(end - p) < (size_t)len + 8) break;
        p += len;
        uint32_t ndim = get_u32(p + 4);
        p += 8;
        if (ndim > 4 || (size_t)(end - p) < 4u * ndim + 20) break;
        p += 4u * ndim;
        uint64_t off = get_u64(p), nbytes = get_u64(p + 8);
        if (off <= n && nbytes <= n - off) put_u32(p + 16, gw_gwm_crc32c(0, b + off, (size_t)nbytes));
        p += 20;
    }
table:
    put_u32(b + 56, gw_gwm_crc32c(0, b + HEADER_SIZE, (size_t)tsize));
    put_u32(b + 60, gw_gwm_crc32c(0, b, HEADER_CRC_SPAN));
}
