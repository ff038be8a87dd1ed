#define _POSIX_C_SOURCE 200809L
#include "base/gw_base.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

gw_status gw_afile_open(gw_afile *af, const char *path, gw_error *err) {
    memset(af, 0, sizeof *af);
    size_t n = strlen(path);
    if (n == 0 || n + 32 >= sizeof af->path)
        return gw_fail(err, GW_ERR_ARG, "%s: output path is empty or too long", path);
    memcpy(af->path, path, n + 1);
    snprintf(af->tmp_path, sizeof af->tmp_path, "%s.tmp.%ld", path, (long)getpid());
    af->fp = fopen(af->tmp_path, "wb");
    if (!af->fp)
        return gw_fail(err, GW_ERR_IO, "%s: cannot create: %s", path, strerror(errno));
    return GW_OK;
}

/* fsync the directory too, or the rename itself may not survive a crash */
static void sync_parent_dir(const char *path) {
    char buf[4096];
    snprintf(buf, sizeof buf, "%s", path);
    int fd = open(dirname(buf), O_RDONLY | O_DIRECTORY);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
}

gw_status gw_afile_commit(gw_afile *af, gw_error *err) {
    if (!af->fp) return gw_fail(err, GW_ERR_ARG, "%s: file is not open", af->path);
    int bad = ferror(af->fp);
    if (fflush(af->fp) != 0) bad = 1;
    int e = errno;
    if (!bad && fsync(fileno(af->fp)) != 0) bad = 1, e = errno;
    if (fclose(af->fp) != 0 && !bad) bad = 1, e = errno;
    af->fp = NULL;
    if (bad) {
        remove(af->tmp_path);
        return gw_fail(err, GW_ERR_IO, "%s: write failed: %s", af->path,
                       e ? strerror(e) : "stream error");
    }
    if (rename(af->tmp_path, af->path) != 0) {
        e = errno;
        remove(af->tmp_path);
        return gw_fail(err, GW_ERR_IO, "%s: cannot rename into place: %s", af->path, strerror(e));
    }
    sync_parent_dir(af->path);
    return GW_OK;
}

void gw_afile_abort(gw_afile *af) {
    if (af->fp) {
        fclose(af->fp);
        af->fp = NULL;
    }
    if (af->tmp_path[0]) remove(af->tmp_path);
}
