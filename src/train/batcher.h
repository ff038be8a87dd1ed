/* batcher.h - the training data order. Which clips a step sees, and in what
 * order, is a training concept (io/dataset.h loads the clips; this picks
 * them), and its state travels in the trainer's checkpoints.
 *
 * Seeded shuffled mini-batches over a pool of clip indices. The order of
 * epoch e is a Fisher-Yates shuffle seeded by (seed, e), so (epoch, pos) is
 * the whole data-order state a checkpoint needs. */
#ifndef GW_TRAIN_BATCHER_H
#define GW_TRAIN_BATCHER_H

#include "base/gw_base.h"

#include <stddef.h>
#include <stdint.h>

typedef struct gw_batcher {
    size_t *pool;  /* (n) copy of the caller's indices */
    size_t *order; /* (n) this epoch's order */
    size_t n;
    uint64_t seed, epoch;
    size_t pos;
} gw_batcher;

gw_status gw_batcher_create(gw_batcher **out, const size_t *pool, size_t n, uint64_t seed,
                            gw_error *err);
void gw_batcher_free(gw_batcher *b);
/* next batch clip indices, wrapping into the next (reshuffled) epoch */
void gw_batcher_next(gw_batcher *b, size_t *idx, size_t batch); // idx (batch)
void gw_batcher_seek(gw_batcher *b, uint64_t epoch, size_t pos);

#endif
