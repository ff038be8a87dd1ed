#include "base/gw_base.h"

#include <stdlib.h>
#include <string.h>

void *gw_alloc(size_t n) {
    /* aligned_alloc needs a size that is a multiple of the alignment; 64 bytes
     * keeps every tensor on its own cache line and AVX-512 loads aligned */
    size_t sz = gw_align64(n ? n : 1);
    void *p = aligned_alloc(64, sz);
    if (p) memset(p, 0, sz);
    return p;
}

void gw_free(void *p) {
    free(p);
}
