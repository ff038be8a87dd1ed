/* sinc.c - the streaming windowed-sinc resampler of sinc.h (Smith, "Digital
 * Audio Resampling", bandlimited interpolation with a tabulated kernel). */
#include "engine/sinc.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

enum { ZEROS = 24, PHASES = 512 };

struct gw_sinc {
    double step;   /* input samples per output sample */
    double fc;     /* cutoff, cycles per input sample x 2 (1 = input Nyquist) */
    double beta;
    int half;      /* taps each side of the output instant, in input samples */
    int taps;      /* 2 half */
    float *table;  // (PHASES + 1, taps): table[p][k] = h(k - half + 1 - p / PHASES)
    float *buf;    // (cap) input history then new input
    size_t cap, have, max_in;
    /* The next output instant is input index half - 1 + n_out step of the
     * whole stream, buf[0] being index `base`. Computed afresh from the two
     * counts rather than accumulated, so its rounding, and with it every
     * output bit, is the same however the input arrives in blocks. */
    uint64_t n_out, base;
};

static double bessel_i0(double x) {
    double sum = 1, term = 1;
    for (int k = 1; k < 64; k++) {
        term *= (x / (2 * k)) * (x / (2 * k));
        sum += term;
        if (term < 1e-17 * sum) break;
    }
    return sum;
}

double gw_sinc_kernel(const gw_sinc *s, double x) {
    double t = x / s->half;
    if (t <= -1 || t >= 1) return 0;
    double a = M_PI * s->fc * x;
    double sinc = fabs(a) < 1e-12 ? 1.0 : sin(a) / a;
    return s->fc * sinc * bessel_i0(s->beta * sqrt(1 - t * t)) / bessel_i0(s->beta);
}

gw_status gw_sinc_create(gw_sinc **out, double in_rate, double out_rate, size_t max_in,
                         gw_error *err) {
    *out = NULL;
    double ratio = out_rate / in_rate;
    if (!(ratio >= 0.125 && ratio <= 8) || max_in < 1 || max_in > (1u << 20))
        return gw_fail(err, GW_ERR_ARG, "sinc resampler: %g -> %g Hz (ratio 1/8..8), block %zu",
                       in_rate, out_rate, max_in);
    gw_sinc *s = calloc(1, sizeof *s);
    if (!s) return gw_fail(err, GW_ERR_NOMEM, "sinc resampler: out of memory");
    const double scale = ratio < 1 ? ratio : 1; /* downsampling: cut at the output's Nyquist */
    s->step = in_rate / out_rate;
    s->fc = 0.88 * scale;
    s->beta = 9.0;
    s->half = (int)ceil(ZEROS / scale);
    s->taps = 2 * s->half;
    s->max_in = max_in;
    s->cap = (size_t)s->taps + 2 * max_in + 8;
    s->table = calloc((size_t)(PHASES + 1) * (size_t)s->taps, sizeof(float));
    s->buf = calloc(s->cap, sizeof(float));
    if (!s->table || !s->buf) {
        gw_sinc_free(s);
        return gw_fail(err, GW_ERR_NOMEM, "sinc resampler: out of memory for %d taps", s->taps);
    }
    for (int p = 0; p <= PHASES; p++) {
        float *row = s->table + (size_t)p * s->taps;
        double sum = 0;
        for (int k = 0; k < s->taps; k++) {
            double v = gw_sinc_kernel(s, k - s->half + 1 - (double)p / PHASES);
            row[k] = (float)v;
            sum += v;
        }
        for (int k = 0; k < s->taps; k++) row[k] = (float)(row[k] / sum); /* unity DC gain */
    }
    /* half - 1 zeros of history: the first output sits at input time 0 */
    s->have = (size_t)s->half - 1;
    *out = s;
    return GW_OK;
}

void gw_sinc_free(gw_sinc *s) {
    if (!s) return;
    free(s->table);
    free(s->buf);
    free(s);
}

void gw_sinc_reset(gw_sinc *s) {
    memset(s->buf, 0, s->cap * sizeof(float));
    s->have = (size_t)s->half - 1;
    s->n_out = s->base = 0;
}

double gw_sinc_latency(const gw_sinc *s) {
    return s->half / s->step;
}

/* input index (whole stream) of output n_out's instant */
static double instant(const gw_sinc *s) {
    return (double)(s->half - 1) + (double)s->n_out * s->step;
}

/* buf index of the first tap of an output at whole-stream instant floor fl */
static size_t first_tap(const gw_sinc *s, double fl) {
    return (size_t)((uint64_t)fl - s->base) - (size_t)(s->half - 1);
}

size_t gw_sinc_process(gw_sinc *s, float *out, size_t out_cap, const float *in, size_t in_n,
                       size_t *consumed) {
    // out (out_cap), in (in_n)
    if (in_n > s->max_in) in_n = s->max_in;
    if (in_n > s->cap - s->have) in_n = s->cap - s->have;
    if (in_n) memcpy(s->buf + s->have, in, in_n * sizeof(float));
    s->have += in_n;
    if (consumed) *consumed = in_n;
    size_t n = 0;
    const int T = s->taps;
    while (n < out_cap) {
        double pos = instant(s), fl = floor(pos);
        size_t i0 = first_tap(s, fl);
        if (i0 + (size_t)T > s->have) break; /* needs input not yet here */
        double fp = (pos - fl) * PHASES;
        int p = (int)fp;
        float a = (float)(fp - p);
        const float *h0 = s->table + (size_t)p * T, *h1 = h0 + T, *x = s->buf + i0;
        float acc0 = 0, acc1 = 0;
        for (int k = 0; k < T; k++) {
            acc0 += x[k] * h0[k];
            acc1 += x[k] * h1[k];
        }
        out[n++] = acc0 + a * (acc1 - acc0);
        s->n_out++;
    }
    /* keep the history the next output needs at the front */
    size_t keep_from = first_tap(s, floor(instant(s)));
    if (keep_from > s->have) keep_from = s->have;
    if (keep_from > 0) {
        memmove(s->buf, s->buf + keep_from, (s->have - keep_from) * sizeof(float));
        s->have -= keep_from;
        s->base += keep_from;
    }
    return n;
}

double gw_sinc_reference(const gw_sinc *s, const float *x, size_t n, double t) {
    double acc = 0, norm = 0;
    long lo = (long)floor(t) - s->half + 1, hi = (long)floor(t) + s->half;
    for (long k = lo; k <= hi; k++) {
        double h = gw_sinc_kernel(s, (double)k - t);
        norm += h;
        if (k >= 0 && (size_t)k < n) acc += x[k] * h;
    }
    return acc / norm;
}
