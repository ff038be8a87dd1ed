/* jack_capture.h - the recording half of the JACK test clients
 * (gw_jack_record, gw_jack_midi_send): a buffer reserved up front that the
 * process callback fills while armed, and the main thread's wait for it.
 * Header-only: each tool is one file plus this. */
#ifndef GW_TESTS_JACK_CAPTURE_H
#define GW_TESTS_JACK_CAPTURE_H

#include <stdatomic.h>
#include <stddef.h>
#include <string.h>
#include <time.h>

typedef struct gw_capture {
    float *buf; // (cap)
    size_t cap;
    atomic_size_t n; /* frames recorded (the process thread writes) */
    atomic_int armed, xruns;
} gw_capture;

/* audio thread: appends what fits of x (nframes) */
static inline void gw_capture_block(gw_capture *c, const float *x, size_t nframes) {
    size_t n = atomic_load_explicit(&c->n, memory_order_relaxed);
    size_t k = c->cap - n < nframes ? c->cap - n : nframes;
    memcpy(c->buf + n, x, k * sizeof(float));
    atomic_store_explicit(&c->n, n + k, memory_order_release);
}

static inline void gw_capture_sleep_ms(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* main thread: 1 once all cap frames are in, 0 if limit_s passed first */
static inline int gw_capture_wait(gw_capture *c, double limit_s) {
    for (double waited = 0; atomic_load_explicit(&c->n, memory_order_acquire) < c->cap;
         waited += 0.02) {
        if (waited > limit_s) return 0;
        gw_capture_sleep_ms(20);
    }
    return 1;
}

#endif
