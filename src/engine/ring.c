/* ring.c - the single-producer/single-consumer ring of gw_engine.h.
 *
 * write and read count items ever moved, so fill = write - read needs no
 * wrap flag and the full capacity is usable. Each side loads its own index
 * relaxed (only it stores it) and the other side's with acquire, then
 * publishes its index with release: the items copied before a release store
 * are visible to the thread whose acquire load sees that store. */
#include "engine/gw_engine.h"

#include <string.h>

gw_status gw_ring_init(gw_ring *r, void *memory, size_t item_size, size_t capacity,
                       gw_error *err) {
    if (!memory || item_size == 0 || capacity == 0 || (capacity & (capacity - 1)))
        return gw_fail(err, GW_ERR_ARG,
                       "ring: capacity %zu must be a power of two with memory and item size > 0",
                       capacity);
    atomic_init(&r->write, 0);
    atomic_init(&r->read, 0);
    r->capacity = capacity;
    r->item_size = item_size;
    r->data = memory;
    return GW_OK;
}

size_t gw_ring_readable(const gw_ring *r) {
    size_t w = atomic_load_explicit(&r->write, memory_order_acquire);
    size_t rd = atomic_load_explicit(&r->read, memory_order_relaxed);
    return w - rd;
}

size_t gw_ring_writable(const gw_ring *r) {
    size_t rd = atomic_load_explicit(&r->read, memory_order_acquire);
    size_t w = atomic_load_explicit(&r->write, memory_order_relaxed);
    return r->capacity - (w - rd);
}

/* copies n items between the ring's slots from index `at` and flat memory,
 * in at most two pieces around the end of the buffer */
static void copy_wrapped(gw_ring *r, size_t at, void *flat, size_t n, int into_ring) {
    size_t i = at & (r->capacity - 1);
    size_t first = r->capacity - i < n ? r->capacity - i : n;
    unsigned char *slot = r->data + i * r->item_size, *mem = flat;
    if (into_ring) {
        memcpy(slot, mem, first * r->item_size);
        memcpy(r->data, mem + first * r->item_size, (n - first) * r->item_size);
    } else {
        memcpy(mem, slot, first * r->item_size);
        memcpy(mem + first * r->item_size, r->data, (n - first) * r->item_size);
    }
}

size_t gw_ring_write(gw_ring *r, const void *items, size_t n) {
    size_t free_items = gw_ring_writable(r);
    if (n > free_items) n = free_items;
    if (n == 0) return 0;
    size_t w = atomic_load_explicit(&r->write, memory_order_relaxed);
    copy_wrapped(r, w, (void *)items, n, 1);
    atomic_store_explicit(&r->write, w + n, memory_order_release);
    return n;
}

size_t gw_ring_read(gw_ring *r, void *items, size_t n) {
    size_t avail = gw_ring_readable(r);
    if (n > avail) n = avail;
    if (n == 0) return 0;
    size_t rd = atomic_load_explicit(&r->read, memory_order_relaxed);
    copy_wrapped(r, rd, items, n, 0);
    atomic_store_explicit(&r->read, rd + n, memory_order_release);
    return n;
}
