/* On-disk caches of derived data (see dataset.h): one file per (slot name,
 * key), checked by a checksum, written atomically.
 *
 * File layout (native byte order; a cache never leaves its machine):
 *   offset 0   8 bytes  magic "GWCACHE1"
 *          8   u64      key
 *         16   u64      payload bytes P
 *         24   P bytes  payload
 *     24 + P   u64      FNV-1a 64 of bytes 8 .. 24 + P
 */
#include "io/dataset.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const char cache_magic[8] = {'G', 'W', 'C', 'A', 'C', 'H', 'E', '1'};
enum { CACHE_HEADER = 24, CACHE_TRAILER = 8 };

uint64_t gw_hash64(uint64_t h, const void *data, size_t n) {
    const unsigned char *p = data;
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

static void cache_path(char *out, size_t cap, const char *dir, const char *name, uint64_t key) {
    snprintf(out, cap, "%s/%s-%016" PRIx64 ".bin", dir, name, key);
}

/* other versions of the same slot are stale once a new one is written */
static void remove_stale(const char *dir, const char *name, uint64_t key) {
    DIR *d = opendir(dir);
    if (!d) return;
    char keep[64];
    snprintf(keep, sizeof keep, "-%016" PRIx64 ".bin", key);
    size_t nl = strlen(name);
    struct dirent *e;
    while ((e = readdir(d))) {
        const char *f = e->d_name;
        size_t fl = strlen(f);
        if (fl != nl + 1 + 16 + 4 || strncmp(f, name, nl) || f[nl] != '-' ||
            strcmp(f + fl - 4, ".bin") || !strcmp(f + nl, keep))
            continue;
        if (strspn(f + nl + 1, "0123456789abcdef") != 16) continue;
        char p[8192];
        snprintf(p, sizeof p, "%s/%s", dir, f);
        remove(p);
    }
    closedir(d);
}

gw_status gw_cache_save_blob(const char *dir, const char *name, uint64_t key, const void *data,
                             size_t n, gw_error *err) {
    if (!dir || !*dir) return GW_OK; /* caching is off */
    gw_status st = gw_mkdirs(dir, "cache folder", err);
    if (st) return st;
    gw_afile_clean_stale(dir);
    char path[8192];
    cache_path(path, sizeof path, dir, name, key);
    gw_afile af;
    st = gw_afile_open(&af, path, err);
    if (st) return st;
    uint64_t hdr[2] = {key, (uint64_t)n};
    uint64_t h = gw_hash64(GW_HASH_INIT, hdr, sizeof hdr);
    h = gw_hash64(h, data, n);
    fwrite(cache_magic, 1, 8, af.fp);
    fwrite(hdr, sizeof hdr, 1, af.fp);
    if (n) fwrite(data, 1, n, af.fp);
    fwrite(&h, sizeof h, 1, af.fp);
    st = gw_afile_commit(&af, err);
    if (!st) remove_stale(dir, name, key);
    return st;
}

gw_status gw_cache_load_blob(void **data, size_t *n, int *hit, char *warning, size_t cap,
                             const char *dir, const char *name, uint64_t key, gw_error *err) {
    *data = NULL;
    *n = 0;
    *hit = 0;
    if (warning && cap) warning[0] = 0;
    if (!dir || !*dir) return GW_OK; /* caching is off: always a miss */
    char path[8192];
    cache_path(path, sizeof path, dir, name, key);
    FILE *f = fopen(path, "rb");
    if (!f) return GW_OK; /* absent (or stale: another key) */
    const char *why = NULL;
    unsigned char *buf = NULL;
    struct stat sb;
    if (fstat(fileno(f), &sb) != 0 || sb.st_size < CACHE_HEADER + CACHE_TRAILER) {
        why = "shorter than its header";
        goto bad;
    }
    size_t size = (size_t)sb.st_size;
    buf = malloc(size);
    if (!buf) {
        fclose(f);
        return gw_fail(err, GW_ERR_NOMEM, "%s: out of memory for %zu bytes", path, size);
    }
    if (fread(buf, 1, size, f) != size) {
        why = "read failed";
        goto bad;
    }
    uint64_t hdr[2], sum;
    memcpy(hdr, buf + 8, sizeof hdr);
    if (memcmp(buf, cache_magic, 8)) {
        why = "wrong magic";
        goto bad;
    }
    if (hdr[0] != key) {
        why = "key does not match its name";
        goto bad;
    }
    if (hdr[1] != size - CACHE_HEADER - CACHE_TRAILER) {
        why = "truncated or padded (size does not match the header)";
        goto bad;
    }
    memcpy(&sum, buf + size - CACHE_TRAILER, sizeof sum);
    if (gw_hash64(GW_HASH_INIT, buf + 8, size - 8 - CACHE_TRAILER) != sum) {
        why = "checksum mismatch";
        goto bad;
    }
    fclose(f);
    /* hand back the payload alone */
    memmove(buf, buf + CACHE_HEADER, (size_t)hdr[1]);
    *data = buf;
    *n = (size_t)hdr[1];
    *hit = 1;
    return GW_OK;
bad:
    fclose(f);
    free(buf);
    remove(path);
    if (warning && cap) snprintf(warning, cap, "%s: corrupt cache (%s), rebuilt", path, why);
    return GW_OK;
}

gw_status gw_cache_load(float **data, size_t *n, int *hit, char *warning, size_t cap,
                        const char *dir, const char *name, uint64_t key, gw_error *err) {
    void *blob;
    size_t bytes;
    *data = NULL;
    *n = 0;
    gw_status st = gw_cache_load_blob(&blob, &bytes, hit, warning, cap, dir, name, key, err);
    if (st || !*hit) return st;
    if (bytes % sizeof(float)) { /* checksummed, so only a bug writes this */
        free(blob);
        *hit = 0;
        if (warning && cap)
            snprintf(warning, cap, "%s/%s: cache holds a partial float, rebuilt", dir, name);
        return GW_OK;
    }
    *data = blob;
    *n = bytes / sizeof(float);
    return GW_OK;
}

gw_status gw_cache_save(const char *dir, const char *name, uint64_t key, const float *data,
                        size_t n, gw_error *err) {
    return gw_cache_save_blob(dir, name, key, data, n * sizeof *data, err);
}
