/* Folders: see gw_base.h. */
#include "base/gw_base.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

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
