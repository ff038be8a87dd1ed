/* The training data order (see batcher.h). */
#include "train/batcher.h"

#include <stdlib.h>
#include <string.h>

gw_status gw_batcher_create(gw_batcher **out, const size_t *pool, size_t n, uint64_t seed,
                            gw_error *err) {
    *out = NULL;
    gw_batcher *b = calloc(1, sizeof *b);
    if (!b) return gw_fail(err, GW_ERR_NOMEM, "batcher: out of memory");
    b->pool = malloc((n ? n : 1) * sizeof *b->pool);
    b->order = malloc((n ? n : 1) * sizeof *b->order);
    if (!b->pool || !b->order) {
        gw_batcher_free(b);
        return gw_fail(err, GW_ERR_NOMEM, "batcher: out of memory for %zu items", n);
    }
    if (n) memcpy(b->pool, pool, n * sizeof *pool);
    b->n = n;
    b->seed = seed;
    gw_batcher_seek(b, 0, 0);
    *out = b;
    return GW_OK;
}

void gw_batcher_free(gw_batcher *b) {
    if (!b) return;
    free(b->pool);
    free(b->order);
    free(b);
}

void gw_batcher_seek(gw_batcher *b, uint64_t epoch, size_t pos) {
    b->epoch = epoch;
    /* pos == n is an epoch read to its end, not yet wrapped: the next batch
     * starts epoch + 1. (It once became pos 0 of the same epoch, so a
     * checkpoint taken at the end of an epoch replayed that epoch.) */
    b->pos = pos < b->n ? pos : b->n;
    memcpy(b->order, b->pool, b->n * sizeof *b->order);
    gw_rng r;
    gw_rng_seed(&r, gw_mix64(b->seed ^ gw_mix64(epoch + 0x9e3779b97f4a7c15ULL)));
    for (size_t i = b->n; i > 1; i--) { /* Fisher-Yates */
        size_t j = (size_t)gw_rng_below(&r, i);
        size_t t = b->order[i - 1];
        b->order[i - 1] = b->order[j];
        b->order[j] = t;
    }
}

void gw_batcher_next(gw_batcher *b, size_t *idx, size_t batch) {
    if (b->n == 0) return;
    for (size_t k = 0; k < batch; k++) {
        if (b->pos == b->n) gw_batcher_seek(b, b->epoch + 1, 0);
        idx[k] = b->order[b->pos++];
    }
}
