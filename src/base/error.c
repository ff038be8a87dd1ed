#include "base/gw_base.h"

#include <stdarg.h>
#include <stdio.h>

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
        size_t k = 0;
        for (const char *p = raw; *p && k + 5 < sizeof err->msg; p++) {
            const unsigned char c = (unsigned char)*p;
            if (c < 0x20 || c == 0x7f)
                k += (size_t)snprintf(err->msg + k, sizeof err->msg - k, "\\x%02x", c);
            else
                err->msg[k++] = (char)c;
        }
        err->msg[k] = 0;
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
    size_t k = 0;
    if (!cap) return buf;
    for (; *s && k + 5 < cap; s++) {
        const unsigned char c = (unsigned char)*s;
        if (c < 0x20 || c == 0x7f || c == '\\')
            k += (size_t)snprintf(buf + k, cap - k, c == '\\' ? "\\\\" : "\\x%02x", c);
        else
            buf[k++] = (char)c;
    }
    buf[k] = 0;
    return buf;
}
