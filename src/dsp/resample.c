/* resample.c - sample-rate conversion with libsoxr at its "HQ" setting
 * (20-bit precision, passband to 91.3% of the lower Nyquist, linear phase);
 * see docs/dsp.md for why libsoxr.
 *
 * Whole buffers go through soxr_oneshot, which compensates the filter's
 * group delay, so output sample j sits at input time j * in_rate / out_rate.
 *
 * The streaming resampler wraps one soxr_t. libsoxr builds its filters in
 * soxr_create but grows its FIFOs (realloc) during the first soxr_process
 * calls, and soxr_clear frees and rebuilds everything. So create grows
 * every FIFO beyond its working size with silence (overprovision), and both
 * that warm-up and gw_resampler_reset are undone without soxr_clear by the
 * alignment trick in align(). Blocks handed to process are capped at
 * max_block input samples, so from then on soxr_process and reset work in
 * memory they already have; test_resample checks this by counting malloc
 * calls.
 */
#include "dsp/gw_dsp.h"

#include <math.h>
#include <soxr.h>
#include <stdlib.h>
#include <string.h>

struct gw_resampler {
    soxr_t sx;
    double in_rate, out_rate;
    size_t max_block;
    uint64_t period;              /* input_period(), 0 if none */
    uint64_t in_total, out_total; /* samples into / out of sx since create */
    uint64_t skip_until;          /* outputs with index below this are dropped */
    float *zin;                   // (max_block,) silence for priming and reset
    float *zout;                  // (zcap,) sink for outputs that are dropped
    size_t zcap;
};

static gw_status check_rates(double in_rate, double out_rate, gw_error *err) {
    if (!(in_rate > 0) || !(out_rate > 0) || !isfinite(in_rate) || !isfinite(out_rate) ||
        in_rate / out_rate > 256 || out_rate / in_rate > 256)
        return gw_fail(err, GW_ERR_ARG, "resample: bad rates %g -> %g Hz (ratio at most 256)",
                       in_rate, out_rate);
    return GW_OK;
}

static soxr_t make_soxr(double in_rate, double out_rate, soxr_error_t *e) {
    soxr_io_spec_t io = soxr_io_spec(SOXR_FLOAT32_I, SOXR_FLOAT32_I);
    soxr_quality_spec_t q = soxr_quality_spec(SOXR_HQ, 0);
    soxr_runtime_spec_t rt = soxr_runtime_spec(1);
    return soxr_create(in_rate, out_rate, 1, e, &io, &q, &rt);
}

gw_status gw_resample(float **out, size_t *out_n, const float *in, size_t in_n, double in_rate,
                      double out_rate, gw_error *err) {
    *out = NULL;
    *out_n = 0;
    gw_status st = check_rates(in_rate, out_rate, err);
    if (st) return st;
    size_t olen = (size_t)floor((double)in_n * out_rate / in_rate + 0.5);
    float *buf = malloc(sizeof(float) * (olen ? olen : 1));
    if (!buf) return gw_fail(err, GW_ERR_NOMEM, "resample: out of memory for %zu samples", olen);
    if (olen == 0) {
        *out = buf;
        return GW_OK;
    }
    soxr_io_spec_t io = soxr_io_spec(SOXR_FLOAT32_I, SOXR_FLOAT32_I);
    soxr_quality_spec_t q = soxr_quality_spec(SOXR_HQ, 0);
    soxr_runtime_spec_t rt = soxr_runtime_spec(1);
    size_t idone = 0, odone = 0;
    soxr_error_t e =
        soxr_oneshot(in_rate, out_rate, 1, in, in_n, &idone, buf, olen, &odone, &io, &q, &rt);
    if (e) {
        free(buf);
        return gw_fail(err, GW_ERR_UNSUPPORTED, "resample: libsoxr %g -> %g Hz: %s", in_rate,
                       out_rate, e);
    }
    *out = buf;
    *out_n = odone;
    return GW_OK;
}

/* smallest P >= 1 with P * out / in an integer (within 1e-9), so that after P
 * input samples the output clock is back on a whole sample; 0 if the ratio
 * has no small rational form */
static uint64_t input_period(double in_rate, double out_rate) {
    for (uint64_t p = 1; p <= 1000000; p++) {
        double k = (double)p * out_rate / in_rate;
        if (fabs(k - floor(k + 0.5)) < 1e-9) return p;
    }
    return 0;
}

/* Feed silence until at least min_zeros more input samples have gone in and
 * the input count is a whole number of input periods, pulling (and dropping)
 * every output produced, then arrange for process to drop all outputs that
 * belong to times before that point. Afterwards the stream behaves like a
 * fresh resampler whose first input sample is the next one given to process:
 * the filter only sees silence from the old signal, and the output clock is
 * aligned because the skipped input is a whole number of periods. Uses only
 * the buffers allocated in create (soxr's FIFOs are at working size after the
 * first call from create). */
static soxr_error_t align(gw_resampler *r, uint64_t min_zeros) {
    uint64_t target = r->in_total + min_zeros;
    if (r->period > 1) target = (target + r->period - 1) / r->period * r->period;
    int stalled = 0;
    while (r->in_total < target) {
        uint64_t left = target - r->in_total;
        size_t n = left < r->max_block ? (size_t)left : r->max_block;
        size_t idone = 0, odone = 0;
        soxr_error_t e = soxr_process(r->sx, r->zin, n, &idone, r->zout, r->zcap, &odone);
        if (e) return e;
        if (!idone && !odone && ++stalled > 16) return "resampler stalled while priming";
        r->in_total += idone;
        r->out_total += odone;
        while (odone == r->zcap) { /* drain what is ready */
            e = soxr_process(r->sx, r->zin, 0, &idone, r->zout, r->zcap, &odone);
            if (e) return e;
            r->out_total += odone;
        }
    }
    r->skip_until = (uint64_t)floor((double)target * r->out_rate / r->in_rate + 0.5);
    return NULL;
}

/* libsoxr's FIFOs (fifo.h) grow by exactly what is missing whenever a write
 * does not fit and less than 16 KiB has been consumed at the front, so the
 * size they settle at depends on the history of block sizes, and a rare
 * alignment of read position and block size can still grow them late.
 * Pushing one block of silence far larger than anything process will pass
 * (with soxr free to take it all: idone NULL) and then draining it grows
 * every stage's FIFO well past its steady-state need up front. */
static soxr_error_t overprovision(gw_resampler *r) {
    size_t big = 16 * r->max_block + 65536;
    size_t cap = (size_t)ceil((double)big * r->out_rate / r->in_rate) + 64;
    float *zin = calloc(big, sizeof(float)), *zout = malloc(sizeof(float) * cap);
    soxr_error_t e = NULL;
    if (!zin || !zout) {
        e = "out of memory";
        goto done;
    }
    size_t odone = 0, idone = 0;
    e = soxr_process(r->sx, zin, big, NULL, zout, cap, &odone);
    r->in_total += big;
    r->out_total += odone;
    while (!e && odone == cap) {
        e = soxr_process(r->sx, zin, 0, &idone, zout, cap, &odone);
        r->out_total += odone;
    }
    /* and once more with nothing to read out, so output FIFOs fill too */
    if (!e) e = soxr_process(r->sx, zin, big, NULL, zout, 0, &odone);
    r->in_total += big;
    while (!e) {
        e = soxr_process(r->sx, zin, 0, &idone, zout, cap, &odone);
        r->out_total += odone;
        if (odone < cap) break;
    }
done:
    free(zin);
    free(zout);
    return e;
}

/* silence that a reset must push through: comfortably more than soxr's HQ
 * filter support (a few hundred samples at the higher rate) */
static uint64_t reset_zeros(const gw_resampler *r) {
    double ratio = r->in_rate > r->out_rate ? r->in_rate / r->out_rate : 1.0;
    return (uint64_t)(4096.0 * ratio) + r->max_block;
}

gw_status gw_resampler_create(gw_resampler **out, double in_rate, double out_rate, size_t max_block,
                              gw_error *err) {
    *out = NULL;
    gw_status st = check_rates(in_rate, out_rate, err);
    if (st) return st;
    if (max_block < 1 || max_block > (1u << 20))
        return gw_fail(err, GW_ERR_ARG, "resampler: max_block %zu out of range [1, 1048576]",
                       max_block);
    gw_resampler *r = calloc(1, sizeof(*r));
    if (!r) return gw_fail(err, GW_ERR_NOMEM, "resampler: out of memory");
    soxr_error_t e = NULL;
    r->in_rate = in_rate;
    r->out_rate = out_rate;
    r->max_block = max_block;
    r->period = input_period(in_rate, out_rate);
    r->zcap = (size_t)ceil((double)max_block * out_rate / in_rate) + 64;
    r->zin = calloc(max_block, sizeof(float));
    r->zout = calloc(r->zcap, sizeof(float));
    if (!r->zin || !r->zout) {
        st = gw_fail(err, GW_ERR_NOMEM, "resampler: out of memory for max_block %zu", max_block);
        goto fail;
    }
    r->sx = make_soxr(in_rate, out_rate, &e);
    if (!e) e = overprovision(r);
    /* then settle into the block pattern process will see */
    if (!e) e = align(r, 4 * (uint64_t)max_block + reset_zeros(r));
    if (e) {
        st = gw_fail(err, GW_ERR_UNSUPPORTED, "resampler: libsoxr %g -> %g Hz: %s", in_rate,
                     out_rate, e);
        goto fail;
    }
    *out = r;
    return GW_OK;
fail:
    gw_resampler_free(r);
    return st;
}

void gw_resampler_free(gw_resampler *r) {
    if (!r) return;
    soxr_delete(r->sx);
    free(r->zin);
    free(r->zout);
    free(r);
}

size_t gw_resampler_process(gw_resampler *r, float *out, size_t out_cap, const float *in,
                            size_t in_n, size_t *consumed) {
    // out (out_cap,), in (in_n,)
    size_t idone = 0, odone = 0;
    if (in_n > r->max_block) in_n = r->max_block;
    if (!in) in_n = 0, in = r->zin; /* a NULL input would tell soxr to flush */
    soxr_process(r->sx, in, in_n, &idone, out, out_cap, &odone);
    r->in_total += idone;
    if (consumed) *consumed = idone;
    size_t drop = 0;
    if (r->out_total < r->skip_until) {
        uint64_t left = r->skip_until - r->out_total;
        drop = left < odone ? (size_t)left : odone;
        memmove(out, out + drop, sizeof(float) * (odone - drop));
    }
    r->out_total += odone;
    return odone - drop;
}

void gw_resampler_reset(gw_resampler *r) {
    align(r, reset_zeros(r));
}

double gw_resampler_latency(const gw_resampler *r) {
    return soxr_delay(r->sx);
}
