/* PNG files (libpng's simplified API), colour maps and spectrogram images
 * (see png.h). */
#include "io/png.h"

#include <math.h>
#include <png.h>
#include <stdlib.h>
#include <string.h>

/* Degree-6 polynomial fits of matplotlib's magma and viridis, per channel,
 * lowest power first (the fits are Matt Zucconi's public shader
 * approximations; within about 5 of 255 levels of the 256-entry tables, small
 * enough that the maps stay perceptually uniform: lightness rises
 * monotonically, which tests/io/test_png.c checks). */
static const double magma_c[7][3] = {
    {-0.002136485053939582, -0.000749655052795221, -0.005386127855323933},
    {0.2516605407371642, 0.6775232436837668, 2.494026599312351},
    {8.353717279216625, -3.577719514958484, 0.3144679030132573},
    {-27.66873308576866, 14.26473078096533, -13.64921318813922},
    {52.17613981234068, -27.94360607168351, 12.94416944238394},
    {-50.76852536473588, 29.04658282127291, 4.23415299384598},
    {18.65570506591883, -11.48977351997711, -5.601961508734096},
};
static const double viridis_c[7][3] = {
    {0.2777273272234177, 0.005407344544966578, 0.3340998053353061},
    {0.1050930431085774, 1.404613529898575, 1.384590162594685},
    {-0.3308618287255563, 0.214847559468213, 0.09509516302823659},
    {-4.634230498983486, -5.799100973351585, -19.33244095627987},
    {6.228269936347081, 14.17993336680509, 56.69055260068105},
    {4.776384997670288, -13.74514537774601, -65.35303263337234},
    {-5.435455855934631, 4.645852612178535, 26.3124352495832},
};

static uint8_t to_byte(double v) {
    v = v < 0 ? 0 : v > 1 ? 1 : v;
    return (uint8_t)lrint(v * 255.0);
}

void gw_cmap_rgb(uint8_t rgb[3], gw_cmap cmap, float t) {
    double x = t > 0 ? (t < 1 ? t : 1) : 0; /* NaN -> 0 */
    if (cmap == GW_CMAP_GRAY) {
        rgb[0] = rgb[1] = rgb[2] = to_byte(x);
        return;
    }
    const double(*c)[3] = cmap == GW_CMAP_VIRIDIS ? viridis_c : magma_c;
    for (int ch = 0; ch < 3; ch++) {
        double v = c[6][ch]; /* Horner */
        for (int k = 5; k >= 0; k--)
            v = v * x + c[k][ch];
        rgb[ch] = to_byte(v);
    }
}

gw_status gw_png_write_rgb(const char *path, const uint8_t *rgb, int width, int height,
                           gw_error *err) {
    if (width < 1 || height < 1 || width > 65535 || height > 65535)
        return gw_fail(err, GW_ERR_ARG, "%s: bad image size %d x %d", path, width, height);
    gw_afile af;
    gw_status st = gw_afile_open(&af, path, err);
    if (st) return st;
    png_image img;
    memset(&img, 0, sizeof img);
    img.version = PNG_IMAGE_VERSION;
    img.width = (png_uint_32)width;
    img.height = (png_uint_32)height;
    img.format = PNG_FORMAT_RGB;
    if (!png_image_write_to_stdio(&img, af.fp, 0, rgb, 3 * width, NULL)) {
        st = gw_fail(err, GW_ERR_IO, "%s: PNG encoding failed: %s", path, img.message);
        png_image_free(&img);
        gw_afile_abort(&af);
        return st;
    }
    png_image_free(&img);
    return gw_afile_commit(&af, err);
}

gw_status gw_png_read_rgb(uint8_t **rgb, int *width, int *height, const char *path, gw_error *err) {
    *rgb = NULL;
    *width = *height = 0;
    FILE *f = fopen(path, "rb");
    if (!f) return gw_fail(err, GW_ERR_IO, "%s: cannot open", path);
    png_image img;
    memset(&img, 0, sizeof img);
    img.version = PNG_IMAGE_VERSION;
    uint8_t *buf = NULL;
    gw_status st = GW_OK;
    if (!png_image_begin_read_from_stdio(&img, f)) {
        st = gw_fail(err, GW_ERR_FORMAT, "%s: not a readable PNG: %s", path, img.message);
        goto done;
    }
    if (img.width > 65535 || img.height > 65535) {
        st = gw_fail(err, GW_ERR_FORMAT, "%s: image too large (%u x %u)", path, img.width,
                     img.height);
        goto done;
    }
    img.format = PNG_FORMAT_RGB;
    buf = malloc(PNG_IMAGE_SIZE(img));
    if (!buf) {
        st = gw_fail(err, GW_ERR_NOMEM, "%s: out of memory", path);
        goto done;
    }
    png_color black = {0, 0, 0};
    if (!png_image_finish_read(&img, &black, buf, 0, NULL)) {
        st = gw_fail(err, GW_ERR_FORMAT, "%s: PNG decoding failed: %s", path, img.message);
        goto done;
    }
    *rgb = buf;
    buf = NULL;
    *width = (int)img.width;
    *height = (int)img.height;
done:
    png_image_free(&img);
    free(buf);
    fclose(f);
    return st;
}

void gw_spec_style_default(gw_spec_style *s) {
    memset(s, 0, sizeof *s);
    s->cmap = GW_CMAP_MAGMA;
    s->scale = 1;
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

/* one tile into the canvas at (x0, y0): time left to right, band 0 at the
 * bottom, as spectrograms are read */
static void draw_spec(uint8_t *img, int img_w, int x0, int y0, const float *spec, int frames,
                      int bands, int scale, float lo, float hi, gw_cmap cmap) {
    const float inv = 1.0f / (hi - lo);
    for (int f = 0; f < frames; f++)
        for (int b = 0; b < bands; b++) {
            uint8_t c[3];
            gw_cmap_rgb(c, cmap, (spec[(size_t)f * bands + b] - lo) * inv);
            int py = y0 + (bands - 1 - b) * scale, px = x0 + f * scale;
            for (int dy = 0; dy < scale; dy++)
                for (int dx = 0; dx < scale; dx++)
                    memcpy(img + 3 * ((size_t)(py + dy) * img_w + px + dx), c, 3);
        }
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
    float lo, hi;
    value_range(&lo, &hi, specs, (size_t)count * frames * bands, style);
    for (int i = 0; i < count; i++) {
        int x0 = (i % cols) * (frames * scale + gap), y0 = (i / cols) * (bands * scale + gap);
        draw_spec(img, (int)w, x0, y0, specs + (size_t)i * frames * bands, frames, bands, scale, lo,
                  hi, style->cmap);
    }
    gw_status st = gw_png_write_rgb(path, img, (int)w, (int)h, err);
    free(img);
    return st;
}

gw_status gw_png_write_spectrogram(const char *path, const float *spec, int frames, int bands,
                                   const gw_spec_style *style, gw_error *err) {
    return gw_png_write_spectrogram_grid(path, spec, 1, frames, bands, 1, style, err);
}
