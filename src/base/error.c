#include "base/gw_base.h"

#include <stdarg.h>
#include <stdio.h>

/* s into buf (cap > 0) with control bytes as \xNN, and backslashes as \\
 * when asked: the one escaping of messages and printed names */
static void escape(char *buf, size_t cap, const char *s, int backslash) {
    size_t k = 0;
    if (!cap) return;
    for (; *s && k + 5 < cap; s++) {
        const unsigned char c = (unsigned char)*s;
        if (c < 0x20 || c == 0x7f)
            k += (size_t)snprintf(buf + k, cap - k, "\\x%02x", c);
        else if (c == '\\' && backslash)
            k += (size_t)snprintf(buf + k, cap - k, "\\\\");
        else
            buf[k++] = (char)c;
    }
    buf[k] = 0;
}

gw_status gw_fail(gw_error *err, gw_status status, const char *fmt, ...) {
    if (err) {
        /* formatted aside first (an argument may be err->msg itself), then
         * copied with control bytes escaped: a message quotes file names
         * and file contents, and must stay one line that runs no terminal
         * escape (the fuzzers found presets and models whose strings held
         * newlines) */
        char raw[GW_ERROR_MSG_MAX];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(raw, sizeof raw, fmt, ap);
        va_end(ap);
        escape(err->msg, sizeof err->msg, raw, 0);
        err->status = status;
    }
    return status;
}

const char *gw_status_name(gw_status s) {
    switch (s) {
    case GW_OK: return "ok";
    case GW_ERR_NOMEM: return "out of memory";
    case GW_ERR_IO: return "i/o error";
    case GW_ERR_FORMAT: return "malformed data";
    case GW_ERR_ARG: return "invalid argument";
    case GW_ERR_NUMERIC: return "non-finite number";
    case GW_ERR_UNSUPPORTED: return "unsupported";
    case GW_ERR_INTERRUPTED: return "interrupted";
    }
    return "unknown error";
}

const char *gw_printable(char *buf, size_t cap, const char *s) {
    escape(buf, cap, s, 1);
    return buf;
}
