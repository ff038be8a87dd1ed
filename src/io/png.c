/* PNG files (libpng's simplified API) and colour maps (see png.h); the
 * pictures drawn into them, spectrograms and plots, are in plot.c. */
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
