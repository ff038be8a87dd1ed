/* sinc.h - a streaming windowed-sinc resampler with a constant cost per
 * output sample, for the engine's audio thread.
 *
 * Why not only gw_resampler (libsoxr, dsp/gw_dsp.h): soxr filters in large
 * DFT blocks, so most calls return at once and every few blocks one call
 * does the whole batch; measured at 16 kHz -> 48 kHz with 256-frame blocks,
 * about one block in twenty took longer than its period, which is an xrun in
 * a callback, and its buffering adds ~20 ms of note-on latency. This one
 * computes each output sample as it is asked for: out(t) = sum_k x[k] h(k -
 * t), h a Kaiser-windowed sinc (beta 9, 24 zero crossings each side of the
 * lower rate's Nyquist, cutoff at 0.88 of it), tabulated at 512 phases with
 * linear interpolation between them and each phase normalised to unity DC
 * gain. Output sample j sits at input time j * in_rate / out_rate (as
 * gw_resample's), available once input up to that time + 24 samples of the
 * lower rate has arrived: that is its whole latency.
 *
 * Everything is allocated in create; process never allocates. */
#ifndef GW_ENGINE_SINC_H
#define GW_ENGINE_SINC_H

#include "base/gw_base.h"

#include <stddef.h>

typedef struct gw_sinc gw_sinc;

/* rates in Hz with 1/8 <= out/in <= 8; max_in = most input samples per
 * process call */
gw_status gw_sinc_create(gw_sinc **out, double in_rate, double out_rate, size_t max_in,
                         gw_error *err);
void gw_sinc_free(gw_sinc *s);
/* consumes up to min(in_n, max_in) samples (all of them when the caller
 * keeps out_cap large enough to drain what is ready), writes at most out_cap
 * outputs; returns outputs written, *consumed = inputs taken */
size_t gw_sinc_process(gw_sinc *s, float *out, size_t out_cap, const float *in, size_t in_n,
                       size_t *consumed);
/* back to the state create left: no input, output instant 0 (no
 * allocation; the engine calls it after its warm-up) */
void gw_sinc_reset(gw_sinc *s);
/* delay from an input sample to the output that is centred on it, in output
 * samples (the filter's half length) */
double gw_sinc_latency(const gw_sinc *s);
/* the filter evaluated directly (no table): the reference the tabulated
 * kernel is tested against; x in input samples from the output instant */
double gw_sinc_kernel(const gw_sinc *s, double x);
/* one output computed by direct evaluation of the kernel over x (n input
 * samples, x[0] at input time 0) at input time t: the naive twin of
 * process, for tests */
double gw_sinc_reference(const gw_sinc *s, const float *x, size_t n, double t);

#endif
