/* Pictures (see png.h): spectrograms, raw or as figures with axes and a
 * colour bar, and line plots of training curves, with a CSV front end for
 * trainer logs. Figures are drawn with cairo into an RGB24 image surface
 * whose pixels then go out through gw_png_write_rgb, so every writer stays
 * atomic (gw_afile) and encodes like any other PNG of genwave's. */
#include "io/png.h"

#include <cairo.h>
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- cairo figures: surfaces, text, ticks ---- */

/* a white w x h RGB24 canvas; cairo reports a failed allocation through the
 * context's status, never NULL */
static gw_status figure_open(cairo_surface_t **sf, cairo_t **cr, int w, int h, const char *path,
                             gw_error *err) {
    *sf = cairo_image_surface_create(CAIRO_FORMAT_RGB24, w, h);
    *cr = cairo_create(*sf);
    cairo_status_t cs = cairo_status(*cr);
    if (cs != CAIRO_STATUS_SUCCESS) {
        cairo_destroy(*cr);
        cairo_surface_destroy(*sf);
        *cr = NULL, *sf = NULL;
        return gw_fail(err, GW_ERR_NOMEM, "%s: cannot make a %d x %d canvas: %s", path, w, h,
                       cairo_status_to_string(cs));
    }
    cairo_set_source_rgb(*cr, 1, 1, 1);
    cairo_paint(*cr);
    return GW_OK;
}

static void figure_close(cairo_surface_t *sf, cairo_t *cr) {
    cairo_destroy(cr);
    cairo_surface_destroy(sf);
}

/* copy RGB8 pixels (w x h) into the canvas at (x0, y0), exactly: the data
 * pixels of a spectrogram keep their colour-map values */
static void figure_blit(cairo_surface_t *sf, const uint8_t *rgb, int w, int h, int x0, int y0) {
    cairo_surface_flush(sf);
    unsigned char *data = cairo_image_surface_get_data(sf);
    const int stride = cairo_image_surface_get_stride(sf);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            const uint8_t *c = rgb + 3 * ((size_t)y * w + x);
            uint32_t px = 0xff000000u | (uint32_t)c[0] << 16 | (uint32_t)c[1] << 8 | c[2];
            memcpy(data + (size_t)(y0 + y) * stride + 4 * (size_t)(x0 + x), &px, 4);
        }
    cairo_surface_mark_dirty(sf);
}

/* the canvas (native-endian xRGB words) as RGB8 through the atomic PNG
 * writer; a drawing error writes nothing */
static gw_status figure_write(const char *path, cairo_surface_t *sf, cairo_t *cr, gw_error *err) {
    cairo_status_t cs = cairo_status(cr);
    if (cs == CAIRO_STATUS_SUCCESS) cs = cairo_surface_status(sf);
    if (cs != CAIRO_STATUS_SUCCESS)
        return gw_fail(err, cs == CAIRO_STATUS_NO_MEMORY ? GW_ERR_NOMEM : GW_ERR_IO,
                       "%s: drawing failed: %s", path, cairo_status_to_string(cs));
    cairo_surface_flush(sf);
    const int w = cairo_image_surface_get_width(sf), h = cairo_image_surface_get_height(sf);
    const int stride = cairo_image_surface_get_stride(sf);
    const unsigned char *data = cairo_image_surface_get_data(sf);
    uint8_t *rgb = malloc((size_t)w * h * 3);
    if (!rgb) return gw_fail(err, GW_ERR_NOMEM, "%s: out of memory", path);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            uint32_t px;
            memcpy(&px, data + (size_t)y * stride + 4 * (size_t)x, 4);
            uint8_t *o = rgb + 3 * ((size_t)y * w + x);
            o[0] = (uint8_t)(px >> 16), o[1] = (uint8_t)(px >> 8), o[2] = (uint8_t)px;
        }
    gw_status st = gw_png_write_rgb(path, rgb, w, h, err);
    free(rgb);
    return st;
}

/* text through cairo's toy API: "sans-serif" as fontconfig resolves it */
typedef struct pen {
    cairo_t *cr;
    double size; /* font size, pixels */
    double cap;  /* height of a digit above the baseline, pixels */
} pen;

static void pen_font(pen *p, double size, int bold) {
    cairo_select_font_face(p->cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL,
                           bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
    cairo_set_font_size(p->cr, size);
    cairo_text_extents_t e;
    cairo_text_extents(p->cr, "0", &e);
    p->size = size;
    p->cap = -e.y_bearing > 0 ? -e.y_bearing : 0.72 * size;
}

/* s as valid UTF-8 into out (cap >= 4): each byte that does not start a
 * well-formed sequence becomes '?', so a Latin-1 column name or path draws
 * instead of putting cairo into its error state; cut at a character */
static const char *utf8_clean(char *out, size_t cap, const char *s) {
    const unsigned char *u = (const unsigned char *)s;
    size_t o = 0;
    while (*u) {
        int n = *u < 0x80             ? 1
                : (*u & 0xe0) == 0xc0 ? 2
                : (*u & 0xf0) == 0xe0 ? 3
                : (*u & 0xf8) == 0xf0 ? 4
                                      : 0;
        uint32_t c = n == 2 ? *u & 0x1fu : n == 3 ? *u & 0x0fu : *u & 0x07u;
        for (int i = 1; i < n; i++)
            if ((u[i] & 0xc0) == 0x80)
                c = c << 6 | (u[i] & 0x3fu);
            else
                n = 0; /* truncated sequence (the NUL stops here too) */
        static const uint32_t least[5] = {0, 0, 0x80, 0x800, 0x10000};
        if (n > 1 && (c < least[n] || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff)))
            n = 0; /* overlong, out of range or a surrogate */
        if (o + (n ? n : 1) >= cap) break;
        if (n)
            memcpy(out + o, u, (size_t)n), o += n, u += n;
        else
            out[o++] = '?', u++;
    }
    out[o] = 0;
    return out;
}

/* advance width of s followed by the superscript sup (may be NULL: "10" and
 * "-3" make 10^-3), drawn with its baseline at (x, y) when draw */
static double pen_run(pen *p, const char *s, const char *sup, double x, double y, int draw) {
    char buf[512];
    s = utf8_clean(buf, sizeof buf, s);
    cairo_text_extents_t e;
    cairo_text_extents(p->cr, s, &e);
    double w = e.x_advance;
    if (draw) {
        cairo_move_to(p->cr, x, y);
        cairo_show_text(p->cr, s);
    }
    if (sup && *sup) {
        w += 0.05 * p->size;
        cairo_set_font_size(p->cr, 0.7 * p->size);
        cairo_text_extents(p->cr, sup, &e);
        if (draw) {
            cairo_move_to(p->cr, x + w, y - 0.55 * p->cap);
            cairo_show_text(p->cr, sup);
        }
        w += e.x_advance;
        cairo_set_font_size(p->cr, p->size);
    }
    return w;
}

static double pen_width(pen *p, const char *s, const char *sup) {
    return pen_run(p, s, sup, 0, 0, 0);
}

/* s anchored at (x, y): ha 0, 0.5, 1 puts x at its left, centre, right; va
 * 0, 0.5, 1 puts y at the top, middle, foot of its digits */
static void pen_text(pen *p, double x, double y, const char *s, const char *sup, double ha,
                     double va) {
    double w = pen_width(p, s, sup);
    pen_run(p, s, sup, x - ha * w, y + (1 - va) * p->cap, 1);
}

/* the same turned a quarter counter-clockwise (reads bottom to top); ha runs
 * along the text, so va = 0 puts x at the left of its letters */
static void pen_text_up(pen *p, double x, double y, const char *s, double ha, double va) {
    cairo_save(p->cr);
    cairo_translate(p->cr, x, y);
    cairo_rotate(p->cr, -M_PI / 2);
    pen_text(p, 0, 0, s, NULL, ha, va);
    cairo_restore(p->cr);
}

/* size, or smaller so that s fits in `room` pixels (a long title on a small
 * plot) */
static void pen_font_fit(pen *p, double size, int bold, const char *s, double room) {
    pen_font(p, size, bold);
    double w = pen_width(p, s, NULL);
    if (w > room && room > 0) pen_font(p, fmax(6.0, size * room / w), bold);
}

/* where text may start so a string of width w centred on x stays inside
 * [lo, hi] */
static double clamp_centre(double x, double w, double lo, double hi) {
    if (x - w / 2 < lo) x = lo + w / 2;
    if (x + w / 2 > hi) x = hi - w / 2;
    return x;
}

static int clampi(int v, int lo, int hi) {
    return v < lo ? lo : v > hi ? hi : v;
}

enum { MAX_TICKS = 64 };

typedef struct tick {
    double at;             /* in axis units */
    char text[32], sup[8]; /* the label and its superscript (10^k) */
} tick;

typedef struct ticks {
    tick major[MAX_TICKS]; /* labelled */
    int n;
    double minor[MAX_TICKS]; /* unlabelled, on log axes */
    int n_minor;
} ticks;

/* a "nice" tick step (1, 2 or 5 times a power of ten) giving about `want`
 * intervals over span (Heckbert, "Nice numbers for graph labels", Graphics
 * Gems 1990) */
static double nice_step(double span, int want) {
    double raw = span / (want < 1 ? 1 : want);
    double p = pow(10.0, floor(log10(raw)));
    double f = raw / p;
    return (f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10) * p;
}

/* as many decimals as the step needs, no "-0" at the origin */
static void label_linear(tick *t, double v, double step) {
    t->sup[0] = 0;
    if (fabs(v) < step * 1e-6) v = 0;
    double a = fabs(v);
    if (a != 0 && (a >= 1e6 || step < 1e-4)) {
        snprintf(t->text, sizeof t->text, "%.3g", v);
    } else {
        int dec = step >= 1 ? 0 : (int)ceil(-log10(step) - 1e-9);
        snprintf(t->text, sizeof t->text, "%.*f", dec, v);
    }
}

/* nice ticks over [lo, hi], steps no finer than min_step (1 for counts) */
static void ticks_linear(ticks *t, double lo, double hi, int want, double min_step) {
    t->n = t->n_minor = 0;
    if (!(hi > lo) || !isfinite(hi - lo)) return;
    double step = fmax(nice_step(hi - lo, want), min_step);
    for (double k = ceil(lo / step - 1e-9); t->n < MAX_TICKS; k++) {
        double v = k * step;
        if (v > hi + 1e-9 * step) break;
        if (v == 0) v = 0; /* not -0 */
        t->major[t->n].at = v;
        label_linear(&t->major[t->n++], v, step);
    }
}

/* m x 10^k: plain numbers from 0.001 to 10000, else (or when forced) with a
 * power of ten */
static void label_pow10(tick *t, int m, int k, int force) {
    if (!force && k >= -3 && k <= 4) {
        snprintf(t->text, sizeof t->text, "%g", m * pow(10.0, k));
        t->sup[0] = 0;
    } else {
        if (m == 1)
            snprintf(t->text, sizeof t->text, "10");
        else
            snprintf(t->text, sizeof t->text,
                     "%d\xc3\x97"
                     "10",
                     m); /* U+00D7 times */
        snprintf(t->sup, sizeof t->sup, "%d", k);
    }
}

/* a log axis, in units of log10 of the value: labelled decades (every one,
 * or every few so about `want` show), unlabelled minor ticks at 2..9 x 10^k
 * while at most six decades show; under two decades 2 and 5 x 10^k are
 * labelled too, under one all of 1..9 x 10^k when they fit. Where that still
 * leaves fewer than two labels, nice linear values instead. */
static void ticks_log(ticks *t, double lo, double hi, int want) {
    t->n = t->n_minor = 0;
    const double span = hi - lo;
    if (!(span > 0) || !isfinite(span)) return;
    const int every = span > want ? (int)ceil(span / want) : 1;
    int n_all = 0; /* every m x 10^k in view */
    for (int k = (int)floor(lo); k <= (int)ceil(hi); k++)
        for (int m = 1; m <= 9; m++)
            n_all += k + log10(m) >= lo - 1e-9 && k + log10(m) <= hi + 1e-9;
    const int label_all = span < 1 && n_all <= 2 * want;
    for (int k = (int)floor(lo); k <= (int)ceil(hi); k++)
        for (int m = 1; m <= 9; m++) {
            double v = k + log10(m);
            if (v < lo - 1e-9 || v > hi + 1e-9) continue;
            if (m == 1 ? k % every == 0 : label_all || (span < 2 && (m == 2 || m == 5))) {
                if (t->n == MAX_TICKS) continue;
                t->major[t->n].at = v;
                label_pow10(&t->major[t->n++], m, k, 0);
            } else if (every == 1 && span <= 6 && t->n_minor < MAX_TICKS) {
                t->minor[t->n_minor++] = v;
            }
        }
    if (t->n >= 2) {
        int any_pow = 0; /* one style per axis: 10^k for all when any needs it */
        for (int i = 0; i < t->n; i++)
            any_pow |= t->major[i].sup[0] != 0;
        for (int i = 0; i < t->n && any_pow; i++) {
            int k = (int)floor(t->major[i].at + 1e-9);
            label_pow10(&t->major[i], (int)lround(pow(10.0, t->major[i].at - k)), k, 1);
        }
        return;
    }
    ticks lin;
    ticks_linear(&lin, pow(10.0, lo), pow(10.0, hi), want, 0);
    t->n = t->n_minor = 0;
    for (int i = 0; i < lin.n; i++)
        if (lin.major[i].at > 0) {
            t->major[t->n] = lin.major[i];
            t->major[t->n++].at = log10(lin.major[i].at);
        }
}

/* the stretches of an axis its labels already cover, so no two overlap */
typedef struct spans {
    double a[256], b[256];
    int n;
} spans;

/* take [a, b] if it touches none taken before (and there is room) */
static int spans_take(spans *s, double a, double b) {
    if (s->n == 256) return 0;
    for (int i = 0; i < s->n; i++)
        if (a < s->b[i] && b > s->a[i]) return 0;
    s->a[s->n] = a, s->b[s->n++] = b;
    return 1;
}

/* crisp 1-pixel lines sit on pixel centres */
static double crisp(double v) {
    return floor(v) + 0.5;
}

static void set_rgb8(cairo_t *cr, const uint8_t c[3]) {
    cairo_set_source_rgb(cr, c[0] / 255.0, c[1] / 255.0, c[2] / 255.0);
}

/* ---- spectrograms ---- */

void gw_spec_style_default(gw_spec_style *s) {
    memset(s, 0, sizeof *s);
    s->cmap = GW_CMAP_MAGMA;
    s->scale = 1;
}

static int spec_has_axes(const gw_spec_style *s) {
    return s->frame_seconds > 0 || s->band_hz || s->band_label || s->units || s->title;
}

/* the colour range: fixed, or the data's, floored dynamic_range below max */
static void value_range(float *lo, float *hi, const float *x, size_t n, const gw_spec_style *s) {
    if (s->vmin < s->vmax) {
        *lo = s->vmin;
        *hi = s->vmax;
        return;
    }
    float mn = INFINITY, mx = -INFINITY;
    for (size_t i = 0; i < n; i++)
        if (isfinite(x[i])) {
            if (x[i] < mn) mn = x[i];
            if (x[i] > mx) mx = x[i];
        }
    if (!(mn <= mx)) mn = 0, mx = 1; /* nothing finite */
    if (s->dynamic_range > 0 && mn < mx - s->dynamic_range) mn = mx - s->dynamic_range;
    if (mx - mn < 1e-12f) mn = mx - 1;
    *lo = mn;
    *hi = mx;
}

/* count tiles into an RGB8 canvas img_w wide: tile i at column i % cols and
 * row i / cols, gap pixels apart; time left to right, band 0 at the bottom,
 * as spectrograms are read; each value sx x sy pixels */
static void draw_tiles(uint8_t *img, int img_w, const float *specs, int count, int frames,
                       int bands, int cols, int sx, int sy, int gap, float lo, float hi,
                       gw_cmap cmap) { // specs (count, frames, bands)
    const float inv = 1.0f / (hi - lo);
    for (int i = 0; i < count; i++) {
        const float *spec = specs + (size_t)i * frames * bands;
        int x0 = (i % cols) * (frames * sx + gap), y0 = (i / cols) * (bands * sy + gap);
        for (int f = 0; f < frames; f++)
            for (int b = 0; b < bands; b++) {
                uint8_t c[3];
                gw_cmap_rgb(c, cmap, (spec[(size_t)f * bands + b] - lo) * inv);
                int py = y0 + (bands - 1 - b) * sy, px = x0 + f * sx;
                for (int dy = 0; dy < sy; dy++)
                    for (int dx = 0; dx < sx; dx++)
                        memcpy(img + 3 * ((size_t)(py + dy) * img_w + px + dx), c, 3);
            }
    }
}

static void label_hz(tick *t, double hz) {
    t->sup[0] = 0;
    if (hz >= 1000)
        snprintf(t->text, sizeof t->text, "%gk", hz / 1000);
    else
        snprintf(t->text, sizeof t->text, "%g", hz);
}

/* fractional band number of frequency v between the centres hz[0 .. bands-1] */
static double band_at(const float *hz, int bands, double v) {
    int b = 0;
    while (b < bands - 2 && hz[b + 1] < v)
        b++;
    return b + (v - hz[b]) / (hz[b + 1] - hz[b]);
}

/* Hz ticks on a band axis whose band b is centred on hz[b] (increasing):
 * tick positions are fractional band numbers, interpolated between centres.
 * Evenly spaced centres (STFT bins) get nice linear values; others (mel) the
 * round values 1 x 10^k first, then 5, 2 and 3 x 10^k where each stays
 * min_px clear of those already chosen */
static void ticks_hz(ticks *t, const float *hz, int bands, double px_per_band, double min_px) {
    t->n = t->n_minor = 0;
    const double lo = hz[0], hi = hz[bands - 1], span = hi - lo;
    int linear = 1;
    for (int b = 1; b < bands - 1 && linear; b++)
        linear = fabs(hz[b] - (lo + span * b / (bands - 1))) <= 0.01 * span;
    if (linear) {
        ticks_linear(t, lo, hi, clampi((int)(bands * px_per_band / 40), 2, 10), 0);
        for (int i = 0; i < t->n; i++) {
            double v = t->major[i].at;
            t->major[i].at = (v - lo) / span * (bands - 1);
            label_hz(&t->major[i], v);
        }
        return;
    }
    static const int mant[4] = {1, 5, 2, 3};
    spans used = {.n = 0};
    for (int m = 0; m < 4; m++)
        for (int k = (int)floor(log10(fmax(lo, 1))); k <= (int)ceil(log10(hi)); k++) {
            double v = mant[m] * pow(10.0, k), at = band_at(hz, bands, v);
            if (v < lo || v > hi || t->n == MAX_TICKS) continue;
            if (!spans_take(&used, at * px_per_band - min_px / 2, at * px_per_band + min_px / 2))
                continue;
            t->major[t->n].at = at;
            label_hz(&t->major[t->n++], v);
        }
}

/* band centres usable for a Hz axis: at least two, finite, increasing */
static int hz_usable(const float *hz, int bands) {
    if (!hz || bands < 2) return 0;
    for (int b = 0; b < bands; b++)
        if (!isfinite(hz[b]) || (b && !(hz[b] > hz[b - 1]))) return 0;
    return 1;
}

/* the figure: tiles (raw pixels, exact colour-map values) framed, a time
 * axis under the lowest tile of each column, a band or Hz axis beside the
 * first tile of each row, a colour bar with its value ticks and units on the
 * right, the title on top */
static gw_status write_spec_figure(const char *path, const float *specs, int count, int frames,
                                   int bands, int cols, const gw_spec_style *st, float lo, float hi,
                                   gw_error *err) {
    const int rows = (count + cols - 1) / cols, gap = count > 1 ? 4 : 0;
    const int scale = st->scale < 1 ? 1 : st->scale;
    /* at least 320 x 200 pixels of tiles, as long as that stays under 4096 */
    const long fw = (long)cols * frames, bh_ = (long)rows * bands;
    long sx = (320 + fw - 1) / fw, sy = (200 + bh_ - 1) / bh_;
    sx = sx < 4096 / fw ? sx : 4096 / fw, sy = sy < 4096 / bh_ ? sy : 4096 / bh_;
    if (sx < scale) sx = scale;
    if (sy < scale) sy = scale;
    const long tw = frames * sx, th = bands * sy;
    const long bw = cols * tw + (cols - 1) * gap, bh = rows * th + (rows - 1) * gap;
    const double pad = 8, tick_len = 5, fs_tick = 11, fs_label = 12, fs_title = 14, bar_w = 14;
    const char *tlabel = st->frame_seconds > 0 ? "time (s)" : "frame";
    const int use_hz = hz_usable(st->band_hz, bands);
    const char *blabel = st->band_label ? st->band_label : use_hz ? "frequency (Hz)" : "band";
    if (bw > 30000 || bh > 30000)
        return gw_fail(err, GW_ERR_ARG, "%s: image would be over %ld x %ld pixels, too large", path,
                       bw, bh);
    /* ticks: time over [0, frames] frames or seconds, tick at the left edge
     * of its frame; bands at their centres; colour values */
    ticks xt, yt, ct;
    const double tmax = st->frame_seconds > 0 ? frames * (double)st->frame_seconds : frames;
    ticks_linear(&xt, 0, tmax, clampi((int)(tw / 70), 2, 10), st->frame_seconds > 0 ? 0 : 1);
    if (use_hz)
        ticks_hz(&yt, st->band_hz, bands, (double)sy, 1.8 * fs_tick);
    else
        ticks_linear(&yt, 0, bands - 1, clampi((int)(th / 40), 2, 10), 1);
    ticks_linear(&ct, lo, hi, clampi((int)(bh / 45), 2, 8), 0);
    /* margins from the labels' sizes, measured on a scratch canvas */
    cairo_surface_t *sf;
    cairo_t *cr;
    gw_status s = figure_open(&sf, &cr, 1, 1, path, err);
    if (s) return s;
    pen p = {cr, 0, 0};
    pen_font(&p, fs_tick, 0);
    double yl_w = 0, cb_w = 0;
    for (int i = 0; i < yt.n; i++)
        yl_w = fmax(yl_w, pen_width(&p, yt.major[i].text, yt.major[i].sup));
    for (int i = 0; i < ct.n; i++)
        cb_w = fmax(cb_w, pen_width(&p, ct.major[i].text, ct.major[i].sup));
    const double cap = p.cap;
    figure_close(sf, cr);
    const int L = (int)ceil(pad + fs_label * 1.25 + yl_w + tick_len + 4);
    const int T = (int)ceil(st->title ? pad + fs_title * 1.3 + 6 : pad + cap);
    const int B = (int)ceil(tick_len + 3 + cap + 0.35 * fs_tick + fs_label * 1.25 + pad);
    const int bar_x = L + (int)bw + 14;
    const int R =
        (int)ceil(14 + bar_w + tick_len + 3 + cb_w + (st->units ? 6 + fs_label * 1.25 : 0) + pad);
    const int W = L + (int)bw + R, H = T + (int)bh + B;
    if ((s = figure_open(&sf, &cr, W, H, path, err))) return s;
    p.cr = cr;
    /* tiles and colour bar pixels */
    uint8_t *img = malloc((size_t)bw * bh * 3);
    uint8_t *bar = malloc((size_t)bar_w * bh * 3);
    if (!img || !bar) {
        free(img);
        free(bar);
        figure_close(sf, cr);
        return gw_fail(err, GW_ERR_NOMEM, "%s: out of memory", path);
    }
    memset(img, 255, (size_t)bw * bh * 3);
    draw_tiles(img, (int)bw, specs, count, frames, bands, cols, (int)sx, (int)sy, gap, lo, hi,
               st->cmap);
    figure_blit(sf, img, (int)bw, (int)bh, L, T);
    for (long r = 0; r < bh; r++) { /* top row the top of the range */
        uint8_t c[3];
        gw_cmap_rgb(c, st->cmap, bh > 1 ? (float)(bh - 1 - r) / (float)(bh - 1) : 1.0f);
        for (int x = 0; x < (int)bar_w; x++)
            memcpy(bar + 3 * ((size_t)r * (int)bar_w + x), c, 3);
    }
    figure_blit(sf, bar, (int)bar_w, (int)bh, bar_x, T);
    free(img);
    free(bar);
    /* frames, ticks and labels; the tiles from the last, so where a label
     * at the end of one tile's axis would touch the next tile's "0", the
     * end label gives way */
    cairo_set_source_rgb(cr, 0, 0, 0);
    cairo_set_line_width(cr, 1);
    pen_font(&p, fs_tick, 0);
    spans xs = {.n = 0}, ys = {.n = 0};
    for (int i = count - 1; i >= 0; i--) {
        int c = i % cols, r = i / cols;
        double x0 = L + c * (tw + gap), y0 = T + r * (th + gap);
        cairo_rectangle(cr, x0 - 0.5, y0 - 0.5, (double)tw + 1, (double)th + 1);
        cairo_stroke(cr);
        if (i + cols >= count) /* the lowest tile of its column: time axis */
            for (int k = 0; k < xt.n; k++) {
                double x = x0 + xt.major[k].at / tmax * tw;
                double lw = pen_width(&p, xt.major[k].text, xt.major[k].sup);
                if (!spans_take(&xs, x - lw / 2 - 3, x + lw / 2 + 3)) continue;
                double xc = crisp(fmin(x, x0 + tw - 1));
                cairo_move_to(cr, xc, y0 + th + 0.5);
                cairo_line_to(cr, xc, y0 + th + tick_len);
                cairo_stroke(cr);
                pen_text(&p, x, y0 + th + tick_len + 3, xt.major[k].text, xt.major[k].sup, 0.5, 0);
            }
        if (c == 0) /* the first tile of its row: band axis */
            for (int k = 0; k < yt.n; k++) {
                double y = y0 + th - (yt.major[k].at + 0.5) * sy;
                if (!spans_take(&ys, y - cap / 2 - 2, y + cap / 2 + 2)) continue;
                cairo_move_to(cr, x0 - tick_len, crisp(y));
                cairo_line_to(cr, x0 - 0.5, crisp(y));
                cairo_stroke(cr);
                pen_text(&p, x0 - tick_len - 3, y, yt.major[k].text, yt.major[k].sup, 1, 0.5);
            }
    }
    cairo_rectangle(cr, bar_x - 0.5, T - 0.5, bar_w + 1, (double)bh + 1);
    cairo_stroke(cr);
    for (int k = 0; k < ct.n; k++) {
        double y = T + (hi - ct.major[k].at) / (hi - lo) * (double)(bh - 1) + 0.5;
        cairo_move_to(cr, bar_x + bar_w + 0.5, crisp(y));
        cairo_line_to(cr, bar_x + bar_w + tick_len, crisp(y));
        cairo_stroke(cr);
        pen_text(&p, bar_x + bar_w + tick_len + 3, y, ct.major[k].text, ct.major[k].sup, 0, 0.5);
    }
    pen_font(&p, fs_label, 0);
    pen_text(&p, clamp_centre(L + bw / 2.0, pen_width(&p, tlabel, NULL), pad, W - pad),
             H - pad - 0.25 * fs_label, tlabel, NULL, 0.5, 1);
    pen_font_fit(&p, fs_label, 0, blabel, (double)H - 2 * pad);
    pen_text_up(&p, pad, T + bh / 2.0, blabel, 0.5, 0);
    if (st->units) {
        pen_font_fit(&p, fs_label, 0, st->units, (double)H - 2 * pad);
        pen_text_up(&p, bar_x + bar_w + tick_len + 3 + cb_w + 6, T + bh / 2.0, st->units, 0.5, 0);
    }
    if (st->title) {
        pen_font_fit(&p, fs_title, 1, st->title, W - 2 * pad);
        pen_text(&p, W / 2.0, pad, st->title, NULL, 0.5, 0);
    }
    s = figure_write(path, sf, cr, err);
    figure_close(sf, cr);
    return s;
}

gw_status gw_png_write_spectrogram_grid(const char *path, const float *specs, int count, int frames,
                                        int bands, int cols, const gw_spec_style *style,
                                        gw_error *err) {
    gw_spec_style def;
    if (!style) {
        gw_spec_style_default(&def);
        style = &def;
    }
    int scale = style->scale < 1 ? 1 : style->scale;
    if (count < 1 || frames < 1 || bands < 1)
        return gw_fail(err, GW_ERR_ARG, "%s: empty spectrogram (%d x %d x %d)", path, count, frames,
                       bands);
    if (cols < 1 || cols > count) cols = count;
    float lo, hi;
    value_range(&lo, &hi, specs, (size_t)count * frames * bands, style);
    if (spec_has_axes(style))
        return write_spec_figure(path, specs, count, frames, bands, cols, style, lo, hi, err);
    /* the raw image: tiles and 2-pixel dark gaps, nothing else */
    const int gap = count > 1 ? 2 : 0;
    int rows = (count + cols - 1) / cols;
    long w = (long)cols * frames * scale + (long)(cols - 1) * gap;
    long h = (long)rows * bands * scale + (long)(rows - 1) * gap;
    if (w > 65535 || h > 65535)
        return gw_fail(err, GW_ERR_ARG, "%s: image would be %ld x %ld pixels, too large", path, w,
                       h);
    uint8_t *img = malloc((size_t)w * h * 3);
    if (!img) return gw_fail(err, GW_ERR_NOMEM, "%s: out of memory", path);
    memset(img, 32, (size_t)w * h * 3); /* dark grey gaps */
    draw_tiles(img, (int)w, specs, count, frames, bands, cols, scale, scale, gap, lo, hi,
               style->cmap);
    gw_status st = gw_png_write_rgb(path, img, (int)w, (int)h, err);
    free(img);
    return st;
}

gw_status gw_png_write_spectrogram(const char *path, const float *spec, int frames, int bands,
                                   const gw_spec_style *style, gw_error *err) {
    return gw_png_write_spectrogram_grid(path, spec, 1, frames, bands, 1, style, err);
}

/* ---- line plots ---- */

static const uint8_t palette[8][3] = {
    {31, 119, 180},  {255, 127, 14}, {44, 160, 44},   {214, 39, 40},
    {148, 103, 189}, {140, 86, 75},  {227, 119, 194}, {127, 127, 127},
};

static int usable(float x, float y, int log_y) {
    return isfinite(x) && isfinite(y) && (!log_y || y > 0);
}

/* data to pixels: x0..x1 onto L..R, y0..y1 (log10 on a log axis) onto B..T */
typedef struct frame {
    double x0, x1, y0, y1;
    double L, R, T, B;
    int log_y;
} frame;

/* point i of s in pixels, if it is usable */
static int point_px(const frame *f, const gw_plot_series *s, size_t i, double *px, double *py) {
    float x = s->x ? s->x[i] : (float)i, y = s->y[i];
    if (!usable(x, y, f->log_y)) return 0;
    double yy = f->log_y ? log10(y) : y;
    *px = f->L + (x - f->x0) / (f->x1 - f->x0) * (f->R - f->L);
    *py = f->B - (yy - f->y0) / (f->y1 - f->y0) * (f->B - f->T);
    return 1;
}

/* sparse series (a validation figure every N steps) get markers */
static int sparse(const frame *f, const gw_plot_series *s) {
    size_t n_ok = 0;
    for (size_t i = 0; i < s->n; i++)
        n_ok += usable(s->x ? s->x[i] : (float)i, s->y[i], f->log_y);
    return n_ok * 8 < (size_t)(f->R - f->L);
}

/* how much of the curves falls in a box: the points, and three points along
 * each segment between them */
static size_t box_hits(const frame *f, const gw_plot_series *series, int n_series, double bx,
                       double by, double bw, double bh) {
    size_t hits = 0;
    for (int s = 0; s < n_series; s++) {
        int have = 0;
        double qx = 0, qy = 0;
        for (size_t i = 0; i < series[s].n; i++) {
            double px, py;
            if (!point_px(f, &series[s], i, &px, &py)) continue;
            for (int k = have ? 1 : 4; k <= 4; k++) {
                double x = qx + (px - qx) * k / 4, y = qy + (py - qy) * k / 4;
                hits += x >= bx && x <= bx + bw && y >= by && y <= by + bh;
            }
            have = 1, qx = px, qy = py;
        }
    }
    return hits;
}

static void marker(cairo_t *cr, double x, double y, double r) {
    cairo_new_sub_path(cr);
    cairo_arc(cr, x, y, r, 0, 2 * M_PI);
    cairo_fill(cr);
}

gw_status gw_png_write_plot(const char *path, const gw_plot_series *series, int n_series,
                            const gw_plot_style *style, gw_error *err) {
    gw_plot_style def = {0};
    if (!style) style = &def;
    const int W = style->width > 0 ? style->width : 800;
    const int H = style->height > 0 ? style->height : 480;
    if (W < 160 || H < 120 || W > 8000 || H > 8000)
        return gw_fail(err, GW_ERR_ARG, "%s: plot size %d x %d outside 160x120 .. 8000x8000", path,
                       W, H);
    if (n_series < 1) return gw_fail(err, GW_ERR_ARG, "%s: nothing to plot (no series)", path);
    frame f = {.log_y = style->log_y};
    /* data range over every usable point */
    double x0 = INFINITY, x1 = -INFINITY, y0 = INFINITY, y1 = -INFINITY;
    for (int s = 0; s < n_series; s++)
        for (size_t i = 0; i < series[s].n; i++) {
            float x = series[s].x ? series[s].x[i] : (float)i, y = series[s].y[i];
            if (!usable(x, y, f.log_y)) continue;
            double yy = f.log_y ? log10(y) : y;
            x0 = fmin(x0, x), x1 = fmax(x1, x), y0 = fmin(y0, yy), y1 = fmax(y1, yy);
        }
    if (!(x0 <= x1)) x0 = 0, x1 = 1, y0 = 0, y1 = 1; /* no finite point: empty axes */
    if (x1 - x0 < 1e-12) x0 -= 0.5, x1 += 0.5;
    if (y1 - y0 < 1e-12 * fmax(1.0, fabs(y0))) {
        double d = f.log_y ? 0.5 : fmax(0.5, fabs(y0) * 0.1);
        y0 -= d, y1 += d;
    } else {
        double pad = 0.05 * (y1 - y0);
        y0 -= pad, y1 += pad;
    }
    f.x0 = x0, f.x1 = x1, f.y0 = y0, f.y1 = y1;
    /* sizes follow the picture's, from 0.8 to 3 times those at 800 x 480 */
    const double k = fmin(fmax(fmin(W / 800.0, H / 480.0), 0.8), 3.0);
    const double pad = 8 * k, tick_len = 5 * k, fs_tick = 11 * k, fs_label = 12 * k;
    const double fs_title = 14 * k;
    ticks xt, yt;
    ticks_linear(&xt, x0, x1, clampi(W / 110, 3, 10), 0);
    if (f.log_y)
        ticks_log(&yt, y0, y1, clampi(H / 60, 3, 10));
    else
        ticks_linear(&yt, y0, y1, clampi(H / 80, 3, 8), 0);
    cairo_surface_t *sf;
    cairo_t *cr;
    gw_status st = figure_open(&sf, &cr, W, H, path, err);
    if (st) return st;
    pen p = {cr, 0, 0};
    /* margins: the widest y tick label, half the last x label, the texts */
    pen_font(&p, fs_tick, 0);
    double yl_w = 0;
    for (int i = 0; i < yt.n; i++)
        yl_w = fmax(yl_w, pen_width(&p, yt.major[i].text, yt.major[i].sup));
    const double xl_last = xt.n ? pen_width(&p, xt.major[xt.n - 1].text, NULL) : 0;
    const double cap = p.cap;
    f.L = ceil(pad + (style->ylabel ? fs_label * 1.25 : 0) + yl_w + tick_len + 4 * k);
    f.R = floor(W - fmax(2 * pad, xl_last / 2 + pad));
    f.T = ceil(style->title ? pad + fs_title * 1.3 + 4 * k : pad + cap);
    f.B = floor(H - pad - (style->xlabel ? fs_label * 1.25 : 0) - cap - 0.35 * fs_tick - tick_len -
                4 * k);
    /* grid */
    cairo_set_line_width(cr, 1);
    cairo_set_source_rgb(cr, 0.95, 0.95, 0.95);
    for (int i = 0; i < yt.n_minor; i++) {
        double y = crisp(f.B - (yt.minor[i] - y0) / (y1 - y0) * (f.B - f.T));
        cairo_move_to(cr, f.L, y);
        cairo_line_to(cr, f.R, y);
    }
    cairo_stroke(cr);
    cairo_set_source_rgb(cr, 0.87, 0.87, 0.87);
    for (int i = 0; i < xt.n; i++) {
        double x = crisp(f.L + (xt.major[i].at - x0) / (x1 - x0) * (f.R - f.L));
        cairo_move_to(cr, x, f.T);
        cairo_line_to(cr, x, f.B);
    }
    for (int i = 0; i < yt.n; i++) {
        double y = crisp(f.B - (yt.major[i].at - y0) / (y1 - y0) * (f.B - f.T));
        cairo_move_to(cr, f.L, y);
        cairo_line_to(cr, f.R, y);
    }
    cairo_stroke(cr);
    /* the curves, clipped to the axes; missing cells: the line joins the
     * neighbours */
    cairo_save(cr);
    cairo_rectangle(cr, f.L, f.T, f.R - f.L, f.B - f.T);
    cairo_clip(cr);
    cairo_set_line_width(cr, 2 * k);
    cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND);
    cairo_set_line_cap(cr, CAIRO_LINE_CAP_ROUND);
    for (int s = 0; s < n_series; s++) {
        set_rgb8(cr, palette[s % 8]);
        size_t have = 0;
        double px = 0, py = 0;
        for (size_t i = 0; i < series[s].n; i++) {
            if (!point_px(&f, &series[s], i, &px, &py)) continue;
            if (have++)
                cairo_line_to(cr, px, py);
            else
                cairo_move_to(cr, px, py);
        }
        cairo_stroke(cr);
        if (have == 1) marker(cr, px, py, 1.5 * k); /* a lone point still shows */
        if (sparse(&f, &series[s]))
            for (size_t i = 0; i < series[s].n; i++)
                if (point_px(&f, &series[s], i, &px, &py)) marker(cr, px, py, 3 * k);
    }
    cairo_restore(cr);
    /* frame, ticks outside it, tick labels */
    cairo_set_source_rgb(cr, 0, 0, 0);
    cairo_set_line_width(cr, 1);
    cairo_rectangle(cr, f.L - 0.5, f.T - 0.5, f.R - f.L + 1, f.B - f.T + 1);
    cairo_stroke(cr);
    for (int i = 0; i < xt.n; i++) {
        double x = f.L + (xt.major[i].at - x0) / (x1 - x0) * (f.R - f.L);
        cairo_move_to(cr, crisp(x), f.B + 0.5);
        cairo_line_to(cr, crisp(x), f.B + tick_len);
        cairo_stroke(cr);
        pen_text(&p, x, f.B + tick_len + 3 * k, xt.major[i].text, xt.major[i].sup, 0.5, 0);
    }
    for (int i = 0; i < yt.n_minor; i++) {
        double y = crisp(f.B - (yt.minor[i] - y0) / (y1 - y0) * (f.B - f.T));
        cairo_move_to(cr, f.L - 0.6 * tick_len, y);
        cairo_line_to(cr, f.L - 0.5, y);
    }
    cairo_stroke(cr);
    for (int i = 0; i < yt.n; i++) {
        double y = f.B - (yt.major[i].at - y0) / (y1 - y0) * (f.B - f.T);
        cairo_move_to(cr, f.L - tick_len, crisp(y));
        cairo_line_to(cr, f.L - 0.5, crisp(y));
        cairo_stroke(cr);
        pen_text(&p, f.L - tick_len - 3 * k, y, yt.major[i].text, yt.major[i].sup, 1, 0.5);
    }
    /* title, axis labels */
    if (style->title) {
        pen_font_fit(&p, fs_title, 1, style->title, W - 2 * pad);
        pen_text(&p, W / 2.0, pad, style->title, NULL, 0.5, 0);
    }
    if (style->xlabel) {
        pen_font_fit(&p, fs_label, 0, style->xlabel, W - 2 * pad);
        double w = pen_width(&p, style->xlabel, NULL);
        pen_text(&p, clamp_centre((f.L + f.R) / 2, w, pad, W - pad), H - pad - 0.25 * fs_label,
                 style->xlabel, NULL, 0.5, 1);
    }
    if (style->ylabel) {
        pen_font_fit(&p, fs_label, 0, style->ylabel, H - 2 * pad);
        double w = pen_width(&p, style->ylabel, NULL);
        pen_text_up(&p, pad, H - clamp_centre(H - (f.T + f.B) / 2, w, pad, H - pad), style->ylabel,
                    0.5, 0);
    }
    /* legend, in the corner of the axes the curves leave most free (top
     * right first), on a white patch */
    pen_font(&p, fs_tick, 0);
    int n_leg = 0;
    double name_w = 0;
    for (int s = 0; s < n_series; s++)
        if (series[s].name && *series[s].name) {
            n_leg++;
            name_w = fmax(name_w, pen_width(&p, series[s].name, NULL));
        }
    const double in = 6 * k, sw = 22 * k, row = 1.5 * fs_tick, m = 6 * k;
    const double bw = round(in + sw + 6 * k + name_w + in),
                 bh = round(2 * in + row * n_leg - 0.4 * fs_tick);
    /* no legend where it would hide most of the curves (a thumbnail) */
    if (n_leg && bw <= 0.6 * (f.R - f.L) && bh <= 0.6 * (f.B - f.T)) {
        const double cx[4] = {f.R - m - bw, f.L + m, f.R - m - bw, f.L + m};
        const double cy[4] = {f.T + m, f.T + m, f.B - m - bh, f.B - m - bh};
        int best = 0;
        size_t best_hits = (size_t)-1;
        for (int c = 0; c < 4; c++) {
            size_t h = box_hits(&f, series, n_series, cx[c], cy[c], bw, bh);
            if (h < best_hits) best = c, best_hits = h;
        }
        const double bx = round(cx[best]), by = round(cy[best]);
        cairo_rectangle(cr, bx + 0.5, by + 0.5, bw, bh);
        cairo_set_source_rgb(cr, 1, 1, 1);
        cairo_fill_preserve(cr);
        cairo_set_source_rgb(cr, 0.7, 0.7, 0.7);
        cairo_stroke(cr);
        int r = 0;
        for (int s = 0; s < n_series; s++) {
            if (!series[s].name || !*series[s].name) continue;
            double yc = by + in + row * r++ + 0.3 * fs_tick;
            set_rgb8(cr, palette[s % 8]);
            cairo_set_line_width(cr, 2 * k);
            cairo_move_to(cr, bx + in, yc);
            cairo_line_to(cr, bx + in + sw, yc);
            cairo_stroke(cr);
            if (sparse(&f, &series[s])) marker(cr, bx + in + sw / 2, yc, 3 * k);
            cairo_set_source_rgb(cr, 0, 0, 0);
            pen_text(&p, bx + in + sw + 6 * k, yc, series[s].name, NULL, 0, 0.5);
        }
    }
    st = figure_write(path, sf, cr, err);
    figure_close(sf, cr);
    return st;
}

/* ---- CSV logs ---- */
enum { CSV_MAX_COLS = 64 };

typedef struct csv_table {
    char *names[CSV_MAX_COLS];
    int cols;
    float *cells; // (rows, cols), NaN for empty cells
    size_t rows, cap;
} csv_table;

static void csv_free(csv_table *t) {
    for (int i = 0; i < t->cols; i++)
        free(t->names[i]);
    free(t->cells);
}

static char *trim(char *s) {
    while (*s == ' ' || *s == '\t' || *s == '"')
        s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n' ||
                 s[n - 1] == '"'))
        s[--n] = 0;
    return s;
}

static gw_status csv_read(csv_table *t, const char *path, gw_error *err) {
    memset(t, 0, sizeof *t);
    FILE *f = fopen(path, "rb");
    if (!f) return gw_fail(err, GW_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    char *line = NULL;
    size_t lcap = 0;
    gw_status st = GW_OK;
    long lineno = 0;
    while (getline(&line, &lcap, f) > 0) {
        lineno++;
        char *s = trim(line);
        if (!*s) continue;
        if (t->cols == 0) { /* header */
            for (char *tok = s;;) {
                char *comma = strchr(tok, ',');
                if (comma) *comma = 0;
                if (t->cols == CSV_MAX_COLS) {
                    st = gw_fail(err, GW_ERR_FORMAT, "%s:%ld: more than %d columns", path, lineno,
                                 CSV_MAX_COLS);
                    goto done;
                }
                t->names[t->cols] = strdup(trim(tok));
                if (!t->names[t->cols]) {
                    st = gw_fail(err, GW_ERR_NOMEM, "%s: out of memory", path);
                    goto done;
                }
                t->cols++;
                if (!comma) break;
                tok = comma + 1;
            }
            continue;
        }
        if (t->rows == t->cap) {
            size_t nc = t->cap ? 2 * t->cap : 256;
            float *nb = realloc(t->cells, nc * t->cols * sizeof *nb);
            if (!nb) {
                st = gw_fail(err, GW_ERR_NOMEM, "%s: out of memory", path);
                goto done;
            }
            t->cells = nb, t->cap = nc;
        }
        float *row = t->cells + t->rows * t->cols;
        int c = 0;
        for (char *tok = s;; c++) {
            char *comma = strchr(tok, ',');
            if (comma) *comma = 0;
            if (c >= t->cols) {
                st = gw_fail(err, GW_ERR_FORMAT, "%s:%ld: more cells than the %d header columns",
                             path, lineno, t->cols);
                goto done;
            }
            char *cell = trim(tok), *end;
            if (!*cell) {
                row[c] = NAN;
            } else {
                row[c] = strtof(cell, &end);
                if (*end) {
                    st = gw_fail(err, GW_ERR_FORMAT, "%s:%ld: column '%s': '%s' is not a number",
                                 path, lineno, t->names[c], cell);
                    goto done;
                }
            }
            if (!comma) break;
            tok = comma + 1;
        }
        for (c++; c < t->cols; c++)
            row[c] = NAN; /* short row: the rest are gaps */
        t->rows++;
    }
    if (t->cols == 0) st = gw_fail(err, GW_ERR_FORMAT, "%s: empty CSV (no header line)", path);
done:
    free(line);
    fclose(f);
    if (st) csv_free(t);
    return st;
}

static int csv_col(const csv_table *t, const char *name) {
    for (int i = 0; i < t->cols; i++)
        if (!strcmp(t->names[i], name)) return i;
    return -1;
}

gw_status gw_png_plot_csv(const char *png_path, const char *csv_path, const char *x_column,
                          const char *const *y_columns, int n_y, const gw_plot_style *style,
                          gw_error *err) {
    csv_table t;
    gw_status st = csv_read(&t, csv_path, err);
    if (st) return st;
    float *cols = NULL;
    gw_plot_series series[CSV_MAX_COLS];
    int xi = -1, ns = 0;
    if (x_column && (xi = csv_col(&t, x_column)) < 0) {
        st = gw_fail(err, GW_ERR_FORMAT, "%s: no column '%s'", csv_path, x_column);
        goto done;
    }
    /* column-major copy so each series is a plain array */
    cols = malloc((t.rows ? t.rows : 1) * t.cols * sizeof *cols);
    if (!cols) {
        st = gw_fail(err, GW_ERR_NOMEM, "%s: out of memory", csv_path);
        goto done;
    }
    for (size_t r = 0; r < t.rows; r++)
        for (int c = 0; c < t.cols; c++)
            cols[(size_t)c * t.rows + r] = t.cells[r * t.cols + c];
    const float *xs = xi >= 0 ? cols + (size_t)xi * t.rows : NULL;
    int want = y_columns ? n_y : t.cols;
    for (int k = 0; k < want && ns < CSV_MAX_COLS; k++) {
        int c = y_columns ? csv_col(&t, y_columns[k]) : k;
        if (y_columns && c < 0) {
            st = gw_fail(err, GW_ERR_FORMAT, "%s: no column '%s'", csv_path, y_columns[k]);
            goto done;
        }
        if (c == xi) continue;
        series[ns++] = (gw_plot_series){t.names[c], xs, cols + (size_t)c * t.rows, t.rows};
    }
    if (ns == 0) {
        st = gw_fail(err, GW_ERR_FORMAT, "%s: no column to plot besides '%s'", csv_path,
                     x_column ? x_column : "");
        goto done;
    }
    gw_plot_style sty = style ? *style : (gw_plot_style){0};
    if (!sty.xlabel && x_column) sty.xlabel = x_column;
    st = gw_png_write_plot(png_path, series, ns, &sty, err);
done:
    free(cols);
    csv_free(&t);
    return st;
}
