/* png.h - PNG images: spectrograms, grids of spectrograms and line plots of
 * training curves. Pixels are encoded by libpng; figures with axes, text, a
 * legend or a colour bar are drawn with cairo (antialiased lines, real
 * fonts through fontconfig, "sans-serif") into an image surface whose
 * pixels then go through the same encoder. Every writer is atomic (temp +
 * fsync + rename, gw_afile) and returns GW_ERR_IO naming the path on
 * failure.
 *
 * Colour maps are computed, not tabulated: a smooth polynomial fit of the
 * perceptually uniform matplotlib maps (magma, viridis; van der Walt and
 * Smith 2015), so equal steps in value look like equal steps in brightness.
 */
#ifndef GW_IO_PNG_H
#define GW_IO_PNG_H

#include "base/gw_base.h"

#include <stddef.h>
#include <stdint.h>

typedef enum gw_cmap {
    GW_CMAP_MAGMA = 0,
    GW_CMAP_VIRIDIS,
    GW_CMAP_GRAY,
} gw_cmap;

/* t in [0, 1] (clamped) -> 8-bit RGB */
void gw_cmap_rgb(uint8_t rgb[3], gw_cmap cmap, float t);

/* raw RGB8 images, rows top to bottom */
gw_status gw_png_write_rgb(const char *path, const uint8_t *rgb, int width, int height,
                           gw_error *err); // rgb (height, width, 3)
/* decode any PNG into RGB8 (alpha dropped, grey expanded); *rgb malloc'ed */
gw_status gw_png_read_rgb(uint8_t **rgb, int *width, int *height, const char *path, gw_error *err);

/* spectrogram drawing: time runs left to right, band 0 (low frequencies) at
 * the BOTTOM row. Values are mapped linearly from [vmin, vmax] to the colour
 * map; when vmin >= vmax the range is taken from the data (max, and
 * max - 80 dB-ish floor: vmin = max(min, max - dynamic_range) when
 * dynamic_range > 0). */
typedef struct gw_spec_style {
    gw_cmap cmap;
    float vmin, vmax;
    float dynamic_range; /* used only with automatic range; 0 = full data range */
    int scale;           /* each value drawn as scale x scale pixels (>= 1) */
    /* Axes. All zero / NULL (as gw_spec_style_default leaves them): none,
     * the raw image of exactly frames*scale x bands*scale pixels per tile.
     * Any of them set: a figure on white with a time axis under the tiles,
     * a frequency (or band) axis beside them, a colour bar with its value
     * scale on the right, and the title above. Each value then covers at
     * least scale pixels each way, more along either axis until the tiles
     * fill at least 320 x 200 pixels, so small spectrograms stay legible.
     * A grid gets the time axis under its bottom row, the band axis beside
     * its left column and one colour bar for the shared range. */
    float frame_seconds;    /* seconds per frame (hop / rate): time axis in s; 0 = frame numbers */
    const float *band_hz;   /* (bands) centre frequency of each band, increasing (mel or
                               linear), for ticks in Hz; NULL = band numbers */
    const char *band_label; /* NULL: "frequency (Hz)" with band_hz, else "band" */
    const char *units;      /* colour bar label, e.g. "dB"; NULL = none */
    const char *title;      /* NULL = none */
} gw_spec_style;
void gw_spec_style_default(gw_spec_style *s); /* magma, auto range, no floor, scale 1, no axes */

gw_status gw_png_write_spectrogram(const char *path, const float *spec, int frames, int bands,
                                   const gw_spec_style *style,
                                   gw_error *err); // spec (frames, bands)

/* count spectrograms of one shape laid out in rows of `cols`, separated by a
 * 2-pixel dark gap (a 4-pixel white one with axes); one shared colour range
 * (so tiles compare), computed over all tiles when automatic */
gw_status gw_png_write_spectrogram_grid(const char *path, const float *specs, int count, int frames,
                                        int bands, int cols, const gw_spec_style *style,
                                        gw_error *err); // specs (count, frames, bands)

/* line plots: several series on shared axes drawn with cairo: antialiased
 * lines, "nice" ticks (1, 2, 5 x 10^k) with a light grid, tick labels, the
 * axis labels (put the units in them: "time (s)"), a title and a legend in
 * the corner the curves leave most free (left out where it would cover most
 * of a thumbnail). Text is UTF-8. On a log y axis the ticks are decades
 * (written 10^k on an axis reaching outside 0.001 .. 10000) with unlabelled
 * minor ticks at 2..9 x 10^k. Non-finite points (empty CSV cells, a figure
 * logged only every N steps) are skipped and the line joins their finite
 * neighbours; a sparse series also gets a marker per point. Fonts and lines
 * follow the picture's size (0.8 to 3 times those at 800 x 480). */
typedef struct gw_plot_series {
    const char *name;
    const float *x; /* (n) or NULL for 0, 1, 2, ... */
    const float *y; /* (n) */
    size_t n;
} gw_plot_series;

typedef struct gw_plot_style {
    int width, height; /* pixels; 0 -> 800 x 480 */
    const char *title; /* may be NULL */
    const char *xlabel, *ylabel;
    int log_y; /* logarithmic y axis (non-positive values skipped) */
} gw_plot_style;

gw_status gw_png_write_plot(const char *path, const gw_plot_series *series, int n_series,
                            const gw_plot_style *style, gw_error *err);

/* plot columns of a CSV training log (header line of column names, then
 * numbers; empty cells are gaps). x_column names the x axis column (e.g.
 * "step"); y_columns lists the series to draw, or NULL to draw every column
 * but x. */
gw_status gw_png_plot_csv(const char *png_path, const char *csv_path, const char *x_column,
                          const char *const *y_columns, int n_y, const gw_plot_style *style,
                          gw_error *err);

#endif
