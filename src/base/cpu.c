/* Which CPU this is (gw_base.h): the name plans and benchmarks are recorded
 * under, since this project's machines change between vendors. */
#include "base/gw_base.h"

#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

const char *gw_cpu_model(char *buf, size_t cap) {
    if (!cap) return buf;
    buf[0] = 0;
#if defined(__x86_64__) || defined(__i386__)
    unsigned r[12] = {0}, a, b, c, d;
    char brand[49] = "";
    if (__get_cpuid(0x80000000u, &a, &b, &c, &d) && a >= 0x80000004u) {
        for (unsigned i = 0; i < 3; i++)
            __get_cpuid(0x80000002u + i, &r[4 * i], &r[4 * i + 1], &r[4 * i + 2], &r[4 * i + 3]);
        memcpy(brand, r, 48);
        brand[48] = 0;
    }
    /* trim the padding some vendors put around the name */
    char *s = brand, *e = brand + strlen(brand);
    while (*s == ' ')
        s++;
    while (e > s && e[-1] == ' ')
        *--e = 0;
    unsigned family = 0, model = 0;
    if (__get_cpuid(1, &a, &b, &c, &d)) {
        family = (a >> 8) & 0xF, model = (a >> 4) & 0xF;
        if (family == 0xF) family += (a >> 20) & 0xFF;
        if (family >= 6) model |= ((a >> 16) & 0xF) << 4;
    }
    snprintf(buf, cap, "%s (family %u model %u)", *s ? s : "unknown x86", family, model);
#else
    snprintf(buf, cap, "unknown CPU");
#endif
    return buf;
}
