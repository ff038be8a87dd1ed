#define _POSIX_C_SOURCE 200809L
#include "base/gw_base.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
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

int gw_afile_clean_stale(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return 0;
    int removed = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        /* NAME.tmp.PID, as gw_afile_open names it */
        const char *t = strstr(e->d_name, ".tmp.");
        if (!t || t == e->d_name) continue;
        const char *digits = t + 5;
        char *end;
        errno = 0;
        long pid = strtol(digits, &end, 10);
        if (end == digits || *end || pid <= 0 || errno) continue;
        /* a live process may be writing it (even this one): leave it; only a
         * pid nobody has (ESRCH) marks a writer killed mid-write */
        if (kill((pid_t)pid, 0) == 0 || errno != ESRCH) continue;
        char p[8192];
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        removed += unlink(p) == 0;
    }
    closedir(d);
    return removed;
}
