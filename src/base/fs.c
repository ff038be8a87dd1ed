/* Folders: see gw_base.h. */
#include "base/gw_base.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

gw_status gw_mkdirs(const char *path, const char *what, gw_error *err) {
    char buf[4096];
    size_t n = strlen(path);
    if (n == 0 || n >= sizeof buf) return gw_fail(err, GW_ERR_ARG, "%s: bad %s", path, what);
    memcpy(buf, path, n + 1);
    /* each prefix ending at a '/' in turn, then the whole path, like mkdir -p */
    for (size_t i = 1; i <= n; i++) {
        if (buf[i] != '/' && buf[i] != 0) continue;
        char keep = buf[i];
        buf[i] = 0;
        if (mkdir(buf, 0777) != 0 && errno != EEXIST)
            return gw_fail(err, GW_ERR_IO, "%s: cannot create directory: %s", buf, strerror(errno));
        buf[i] = keep;
    }
    /* EEXIST also covers a plain file in the way */
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode))
        return gw_fail(err, GW_ERR_IO, "%s: not a directory", path);
    return GW_OK;
}

gw_status gw_read_file(const char *path, size_t max, const char *what, unsigned char **out,
                       size_t *n_out, gw_error *err) {
    *out = NULL;
    *n_out = 0;
    /* O_NONBLOCK: opening a FIFO for reading would otherwise wait for a
     * writer forever, before the regular-file check could refuse it */
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) return gw_fail(err, GW_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    struct stat sb;
    gw_status st = GW_OK;
    unsigned char *buf = NULL;
    size_t n = 0;
    if (fstat(fd, &sb) != 0) {
        st = gw_fail(err, GW_ERR_IO, "%s: cannot stat: %s", path, strerror(errno));
    } else if (!S_ISREG(sb.st_mode)) {
        st = gw_fail(err, GW_ERR_IO, "%s: not a regular file", path);
    } else if ((uint64_t)sb.st_size > max) {
        st = gw_fail(err, GW_ERR_FORMAT, "%s: %lld bytes, larger than any %s (%zu MiB at most)",
                     path, (long long)sb.st_size, what, max >> 20);
    } else if (!(buf = malloc((size_t)sb.st_size + 1))) {
        st = gw_fail(err, GW_ERR_NOMEM, "%s: out of memory", path);
    } else {
        int fl = fcntl(fd, F_GETFL);
        if (fl >= 0) fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
        /* read what is there (a file may shrink or grow while it is read) */
        while (n < (size_t)sb.st_size) {
            ssize_t got = read(fd, buf + n, (size_t)sb.st_size - n);
            if (got < 0 && errno == EINTR) continue;
            if (got < 0) {
                st = gw_fail(err, GW_ERR_IO, "%s: read error: %s", path, strerror(errno));
                break;
            }
            if (got == 0) break;
            n += (size_t)got;
        }
    }
    close(fd);
    if (st) {
        free(buf);
        return st;
    }
    buf[n] = 0;
    *out = buf;
    *n_out = n;
    return GW_OK;
}

const char *gw_wisdom_path(char *buf, size_t cap) {
    const char *w = getenv("GW_WISDOM"), *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    if (w) return *w ? (snprintf(buf, cap, "%s", w), buf) : NULL;
    if (xdg && *xdg == '/') return snprintf(buf, cap, "%s/genwave/wisdom", xdg), buf;
    if (home && *home) return snprintf(buf, cap, "%s/.cache/genwave/wisdom", home), buf;
    return NULL;
}

const char *gw_cache_path(char *buf, size_t cap, const char *data_dir) {
    const char *g = getenv("GW_CACHE"), *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    char root[4096];
    if (g && *g)
        snprintf(root, sizeof root, "%s", g);
    else if (xdg && *xdg == '/')
        snprintf(root, sizeof root, "%s/genwave", xdg);
    else if (home && *home)
        snprintf(root, sizeof root, "%s/.cache/genwave", home);
    else
        return NULL;
    /* one folder per dataset folder (its real path, hashed: FNV-1a 64), so
     * two datasets never evict each other's entries */
    char real[4096];
    const char *key = realpath(data_dir, real) ? real : data_dir;
    uint64_t h = 14695981039346656037ull;
    for (const char *p = key; *p; p++) h = (h ^ (unsigned char)*p) * 1099511628211ull;
    snprintf(buf, cap, "%s/datasets/%016llx", root, (unsigned long long)h);
    return buf;
}

gw_status gw_check_regular(const char *path, gw_error *err) {
    struct stat sb;
    if (stat(path, &sb) != 0) return gw_fail(err, GW_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    if (!S_ISREG(sb.st_mode)) return gw_fail(err, GW_ERR_IO, "%s: not a regular file", path);
    return GW_OK;
}
