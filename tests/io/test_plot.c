/* Figures drawn with cairo (io/plot.c): line plots with axes, text, log
 * axes and legends, spectrograms with time and frequency axes and a colour
 * bar, and their atomic writes. The pictures are read back as pixels: the
 * curves and the spectrogram tiles keep their exact colours, text is dark on
 * white. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gw_test.h"
#include "io/png.h"

static char dir[4096];

static int setup(void **state) {
    gw_test_tmpdir(dir, sizeof dir, "io_plot");
    return 0;
}
static int teardown(void **state) {
    char cmd[8300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd);
}

static const uint8_t blue[3] = {31, 119, 180}, orange[3] = {255, 127, 14};

typedef struct image {
    uint8_t *px; // (h, w, 3)
    int w, h;
} image;

static image load(const char *path) {
    image im = {0};
    gw_error err = {0};
    assert_int_equal(gw_png_read_rgb(&im.px, &im.w, &im.h, path, &err), GW_OK);
    return im;
}

static const uint8_t *at(const image *im, int x, int y) {
    return im->px + 3 * ((size_t)y * im->w + x);
}

static int same(const uint8_t *a, const uint8_t b[3]) {
    return !memcmp(a, b, 3);
}

static double luma(const uint8_t *c) {
    return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
}

/* pixels in [x0, x1) x [y0, y1) of exactly colour c, or (c NULL) dark ones:
 * text and frames */
static size_t count(const image *im, int x0, int y0, int x1, int y1, const uint8_t *c) {
    size_t n = 0;
    for (int y = y0; y < y1; y++)
        for (int x = x0; x < x1; x++)
            n += c ? same(at(im, x, y), c) : luma(at(im, x, y)) < 100;
    return n;
}

/* mean row of colour c in the 8 columns from x, or -1 if none */
static double mean_row(const image *im, int x, const uint8_t c[3]) {
    double s = 0;
    int n = 0;
    for (int y = 0; y < im->h; y++)
        for (int xx = x; xx < x + 8; xx++)
            if (same(at(im, xx, y), c)) s += y, n++;
    return n ? s / n : -1;
}

/* the left edge of the axes: the first column dark over half its height */
static int frame_left(const image *im) {
    for (int x = 0; x < im->w; x++) {
        int n = 0;
        for (int y = 0; y < im->h; y++)
            n += luma(at(im, x, y)) < 100;
        if (n > im->h / 2) return x;
    }
    return -1;
}

static void path_of(char *p, size_t cap, const char *name) {
    snprintf(p, cap, "%s/%s", dir, name);
}

/* no NAME.tmp.PID left in the test folder */
static void assert_no_temp_files(void) {
    DIR *d = opendir(dir);
    assert_non_null(d);
    struct dirent *e;
    while ((e = readdir(d)))
        assert_null(strstr(e->d_name, ".tmp."));
    closedir(d);
}

static void test_plot_axes_text_and_curves(void **state) {
    enum { N = 120 };
    float x[N], a[N], b[N];
    for (int i = 0; i < N; i++) {
        x[i] = 1000.0f * i;
        a[i] = 2.0f + sinf(i * 0.1f);
        b[i] = 5.0f - 0.02f * i;
    }
    gw_plot_series s[2] = {{"train", x, a, N}, {"validation", x, b, N}};
    gw_plot_style st = {.width = 640,
                        .height = 400,
                        .title = "Loss over training",
                        .xlabel = "step",
                        .ylabel = "loss (nats)"};
    char p[8192];
    path_of(p, sizeof p, "axes.png");
    gw_error err = {0};
    assert_int_equal(gw_png_write_plot(p, s, 2, &st, &err), GW_OK);
    image im = load(p);
    assert_int_equal(im.w, 640);
    assert_int_equal(im.h, 400);
    /* white around, curves in the middle, in their palette colours */
    assert_true(same(at(&im, 0, 0), (uint8_t[3]){255, 255, 255}));
    assert_true(count(&im, im.w / 4, im.h / 8, 3 * im.w / 4, 7 * im.h / 8, blue) > 100);
    assert_true(count(&im, im.w / 4, im.h / 8, 3 * im.w / 4, 7 * im.h / 8, orange) > 100);
    /* the low series lies lower in the picture */
    assert_true(mean_row(&im, im.w / 3, blue) > mean_row(&im, im.w / 3, orange) + 40);
    /* text: the y label and tick labels in the left strip, x tick labels and
     * the x label in the bottom strip, the title in the top strip */
    const int fl = frame_left(&im);
    assert_true(fl > 20);
    assert_true(count(&im, 0, im.h / 4, fl - 6, 3 * im.h / 4, NULL) > 60);
    assert_true(count(&im, im.w / 8, im.h - 30, 7 * im.w / 8, im.h, NULL) > 60);
    assert_true(count(&im, im.w / 4, 0, 3 * im.w / 4, 20, NULL) > 60);
    /* the y label is drawn turned: its ink is taller than it is wide */
    int top = im.h, bottom = -1, left = im.w, right = -1;
    for (int y = 0; y < im.h; y++)
        for (int xx = 0; xx < 18; xx++)
            if (luma(at(&im, xx, y)) < 100) {
                if (y < top) top = y;
                if (y > bottom) bottom = y;
                if (xx < left) left = xx;
                if (xx > right) right = xx;
            }
    assert_true(bottom - top > 3 * (right - left));
    free(im.px);

    /* the same without labels: the axes take more of the picture */
    gw_plot_style bare = {.width = 640, .height = 400};
    assert_int_equal(gw_png_write_plot(p, s, 2, &bare, &err), GW_OK);
    im = load(p);
    assert_int_equal(count(&im, 0, 0, 6, im.h, NULL), 0); /* no y label */
    free(im.px);
}

/* any bytes draw: UTF-8 as text, anything else as '?' (a Latin-1 column
 * name, a truncated sequence, an overlong or surrogate encoding) */
static void test_plot_text_any_bytes(void **state) {
    float y[4] = {1, 2, 3, 4};
    gw_plot_series s[2] = {{"caf\xe9", NULL, y, 4}, {"\xc3", NULL, y, 4}};
    gw_plot_style st = {.width = 400,
                        .height = 300,
                        .title = "\xff\xfe \xc0\xaf \xed\xa0\x80 bad",
                        .xlabel = "Zeit (s) \xe2\x80\x93 \xc3\xbc",
                        .ylabel = "\xf0\x9f\x8e\xb5 level"};
    char p[8192];
    path_of(p, sizeof p, "bytes.png");
    gw_error err = {0};
    assert_int_equal(gw_png_write_plot(p, s, 2, &st, &err), GW_OK);
    image im = load(p);
    assert_true(count(&im, im.w / 4, 0, 3 * im.w / 4, 20, NULL) > 30); /* the title */
    free(im.px);
}

/* a geometric sequence is a straight line on a log axis and far from one
 * on a linear axis */
static void test_plot_log_y_decades(void **state) {
    enum { N = 200 };
    float y[N];
    for (int i = 0; i < N; i++)
        y[i] = 1000.0f * powf(10.0f, -7.0f * i / (N - 1)); /* 1e3 .. 1e-4 */
    gw_plot_series s = {NULL, NULL, y, N};                 /* no name: no legend */
    gw_plot_style st = {.width = 500, .height = 400, .ylabel = "loss", .log_y = 1};
    char p[8192];
    path_of(p, sizeof p, "log.png");
    gw_error err = {0};
    for (int log_y = 1; log_y >= 0; log_y--) {
        st.log_y = log_y;
        assert_int_equal(gw_png_write_plot(p, &s, 1, &st, &err), GW_OK);
        image im = load(p);
        double r1 = mean_row(&im, im.w * 3 / 10, blue), r2 = mean_row(&im, im.w / 2, blue),
               r3 = mean_row(&im, im.w * 7 / 10, blue);
        assert_true(r1 >= 0 && r2 >= 0 && r3 >= 0);
        if (log_y) {
            assert_true(r2 - r1 > 40);                    /* falls steadily */
            assert_true(fabs((r2 - r1) - (r3 - r2)) < 3); /* straight */
        } else {
            assert_true(fabs(r3 - r2) < 3); /* already flat along the bottom */
        }
        /* tick labels (10 with a superscript on the log axis) left of the
         * axes */
        const int fl = frame_left(&im);
        assert_true(fl > 40);
        assert_true(count(&im, fl - 40, im.h / 8, fl - 6, 7 * im.h / 8, NULL) > 40);
        free(im.px);
    }
    /* values inside one decade and a constant series still get an axis */
    float narrow[4] = {2, 3, 4, 4.5f}, flat[4] = {7, 7, 7, 7};
    gw_plot_series s2[2] = {{"narrow", NULL, narrow, 4}, {"flat", NULL, flat, 4}};
    st.log_y = 1;
    assert_int_equal(gw_png_write_plot(p, s2, 2, &st, &err), GW_OK);
    assert_int_equal(gw_png_write_plot(p, &s2[1], 1, &st, &err), GW_OK);
}

static void test_plot_non_finite_and_sparse(void **state) {
    enum { N = 101 };
    float x[N], y[N], val[N], bad[N];
    for (int i = 0; i < N; i++) {
        x[i] = (float)i;
        y[i] = i % 13 == 5 ? NAN : 1.0f + 0.01f * i;
        val[i] = i % 25 ? NAN : 3.0f; /* a figure every 25 steps */
        bad[i] = i % 3 == 0 ? NAN : i % 3 == 1 ? INFINITY : -INFINITY;
    }
    x[50] = NAN; /* a point without an x is skipped too */
    y[7] = -INFINITY;
    /* no names: no legend in the way of the curves */
    gw_plot_series s[4] = {{NULL, x, y, N}, {NULL, x, val, N}, {NULL, x, bad, N}, {NULL, x, y, 0}};
    gw_plot_style st = {.width = 400, .height = 300, .title = "gaps"};
    char p[8192];
    path_of(p, sizeof p, "gaps.png");
    gw_error err = {0};
    assert_int_equal(gw_png_write_plot(p, s, 4, &st, &err), GW_OK);
    image im = load(p);
    /* the sparse series is joined across its gaps (a line in every column
     * between its points) and has a marker per point: some columns hold a
     * tall run of its colour (orange, or orange blended with white), the
     * line between them a thin one */
    int tall = 0, thin = 0;
    for (int xx = 0; xx < im.w; xx++) {
        int n = 0;
        for (int yy = 0; yy < im.h; yy++)
            n += at(&im, xx, yy)[0] - at(&im, xx, yy)[2] > 100;
        tall += n >= 4;
        thin += n >= 1 && n <= 2;
    }
    assert_true(tall >= 3 && thin > 200);
    free(im.px);
    /* log axis with zeros, negatives and no usable point at all */
    float neg[5] = {0, -1, NAN, -INFINITY, 0};
    gw_plot_series s2 = {"neg", NULL, neg, 5};
    st.log_y = 1;
    assert_int_equal(gw_png_write_plot(p, &s2, 1, &st, &err), GW_OK);
    assert_int_equal(gw_png_write_plot(p, s, 4, &st, &err), GW_OK);
    im = load(p);
    assert_int_equal(im.w, 400);
    free(im.px);
}

/* the corner the legend takes is the one the curves leave free */
static void test_plot_legend_corner(void **state) {
    enum { N = 50 };
    float rise[N];
    for (int i = 0; i < N; i++)
        rise[i] = (float)i; /* bottom left to top right */
    gw_plot_series s = {"rising series", NULL, rise, N};
    gw_plot_style st = {.width = 400, .height = 300};
    char p[8192];
    path_of(p, sizeof p, "legend.png");
    gw_error err = {0};
    assert_int_equal(gw_png_write_plot(p, &s, 1, &st, &err), GW_OK);
    image im = load(p);
    /* legend text dark in the top left of the axes, none in the top right */
    assert_true(count(&im, im.w / 5, 16, im.w / 2, im.h / 3, NULL) > 30);
    assert_int_equal(count(&im, im.w / 2, 16, im.w - 20, im.h / 3, NULL), 0);
    free(im.px);
}

/* a spectrogram with band 0 loud, the top band quiet, the middle rising */
enum { F = 5, NB = 3 };
static void fill_spec(float *spec) {
    for (int f = 0; f < F; f++) {
        spec[f * NB + 0] = 0;
        spec[f * NB + 1] = -10.0f * (F - 1 - f);
        spec[f * NB + 2] = -80;
    }
}

/* columns holding the colour bar: the top of the colour map above its
 * bottom (the tiles hold them the other way up), brightness rising steadily
 * from bottom to top through many distinct colours (magma's bottom is
 * black, like text and frames) */
static int colour_bar_columns(const image *im, gw_cmap cmap, int *first) {
    uint8_t hi[3], lo[3];
    gw_cmap_rgb(hi, cmap, 1);
    gw_cmap_rgb(lo, cmap, 0);
    int n = 0;
    *first = -1;
    for (int x = 0; x < im->w; x++) {
        int yh = -1, yl = -1;
        for (int y = 0; y < im->h; y++) {
            if (yh < 0 && same(at(im, x, y), hi)) yh = y;
            if (same(at(im, x, y), lo)) yl = y;
        }
        if (yh < 0 || yl < 0 || yl - yh < 50) continue;
        int monotone = 1, distinct = 1;
        for (int y = yh + 1; y <= yl; y++) {
            monotone &= luma(at(im, x, y)) <= luma(at(im, x, y - 1)) + 0.5;
            distinct += memcmp(at(im, x, y), at(im, x, y - 1), 3) != 0;
        }
        if (!monotone || distinct < 30) continue;
        if (*first < 0) *first = x;
        n++;
    }
    return n;
}

static void test_spectrogram_axes(void **state) {
    float spec[F * NB], hz[NB] = {100, 1000, 8000}; /* uneven, as mel bands are */
    fill_spec(spec);
    char raw[8192], p[8192];
    path_of(raw, sizeof raw, "raw.png");
    path_of(p, sizeof p, "axes.png");
    gw_spec_style st;
    gw_spec_style_default(&st);
    st.cmap = GW_CMAP_VIRIDIS; /* its bottom is not black like the text */
    gw_error err = {0};
    assert_int_equal(gw_png_write_spectrogram(raw, spec, F, NB, &st, &err), GW_OK);
    image r = load(raw);
    assert_int_equal(r.w, F);
    assert_int_equal(r.h, NB);
    free(r.px);
    st.frame_seconds = 0.016f;
    st.band_hz = hz;
    st.units = "dB";
    st.title = "test tone";
    assert_int_equal(gw_png_write_spectrogram(p, spec, F, NB, &st, &err), GW_OK);
    image im = load(p);
    assert_true(im.w > 320 && im.h > 200); /* enlarged to a legible size */
    /* the tiles keep their exact colours, band 0 at the bottom: find the
     * loud band's pixels and check the quiet band sits above them */
    uint8_t hi[3], lo[3];
    gw_cmap_rgb(hi, GW_CMAP_VIRIDIS, 1);
    gw_cmap_rgb(lo, GW_CMAP_VIRIDIS, 0);
    int cb_first;
    int cb = colour_bar_columns(&im, GW_CMAP_VIRIDIS, &cb_first);
    assert_true(cb >= 10);                          /* the colour bar, about 14 pixels wide */
    int tx0 = im.w, tx1 = -1, ty0 = im.h, ty1 = -1; /* the tile: hi or lo pixels left of the bar */
    for (int y = 0; y < im.h; y++)
        for (int x = 0; x < cb_first; x++)
            if (same(at(&im, x, y), hi) || same(at(&im, x, y), lo)) {
                if (x < tx0) tx0 = x;
                if (x > tx1) tx1 = x;
                if (y < ty0) ty0 = y;
                if (y > ty1) ty1 = y;
            }
    assert_true(tx1 - tx0 + 1 >= 320 && ty1 - ty0 + 1 >= 200);
    assert_true(same(at(&im, (tx0 + tx1) / 2, ty1), hi)); /* band 0 at the bottom */
    assert_true(same(at(&im, (tx0 + tx1) / 2, ty0), lo));
    assert_true(cb_first > tx1); /* the bar on the right */
    /* text: time labels under the tile, Hz labels left of it, value labels
     * right of the bar, the title above */
    assert_true(count(&im, tx0, ty1 + 3, tx1, im.h, NULL) > 60);
    assert_true(count(&im, 0, ty0, tx0 - 2, ty1, NULL) > 60);
    assert_true(count(&im, cb_first + 16, ty0, im.w, ty1, NULL) > 40);
    assert_true(count(&im, tx0, 0, tx1, ty0 - 2, NULL) > 40);
    free(im.px);

    /* a fixed range and the magma map, band numbers (bad centres fall back
     * to them), frame numbers on the time axis */
    float bad_hz[NB] = {100, 50, NAN};
    gw_spec_style_default(&st);
    st.vmin = -100, st.vmax = 10;
    st.band_hz = bad_hz;
    st.scale = 100; /* more than the legible minimum: kept */
    assert_int_equal(gw_png_write_spectrogram(p, spec, F, NB, &st, &err), GW_OK);
    im = load(p);
    assert_true(im.w > F * 100 && im.h > NB * 100);
    assert_true(colour_bar_columns(&im, GW_CMAP_MAGMA, &cb_first) >= 10);
    free(im.px);
}

static void test_spectrogram_grid_axes(void **state) {
    enum { N = 5 };
    float specs[N * F * NB];
    for (int i = 0; i < N; i++)
        fill_spec(specs + i * F * NB);
    char p[8192];
    path_of(p, sizeof p, "grid.png");
    gw_spec_style st;
    gw_spec_style_default(&st);
    st.scale = 4;
    gw_error err = {0};
    assert_int_equal(gw_png_write_spectrogram_grid(p, specs, N, F, NB, 3, &st, &err), GW_OK);
    image im = load(p);
    const int raw_w = im.w, raw_h = im.h;
    assert_int_equal(raw_w, 3 * F * 4 + 2 * 2);
    free(im.px);
    st.units = "dB";
    assert_int_equal(gw_png_write_spectrogram_grid(p, specs, N, F, NB, 3, &st, &err), GW_OK);
    im = load(p);
    assert_true(im.w > raw_w && im.h > raw_h);
    int cb_first;
    assert_true(colour_bar_columns(&im, GW_CMAP_MAGMA, &cb_first) >= 10);
    /* five tiles' worth of the loud band's colour */
    uint8_t hi[3];
    gw_cmap_rgb(hi, GW_CMAP_MAGMA, 1);
    assert_true(count(&im, 0, 0, cb_first, im.h, hi) >= (size_t)N * F * 4 * 4);
    free(im.px);
}

/* every writer is atomic: a bad path names itself, nothing half-written
 * is left; a good write leaves only the file */
static void test_atomic_writes(void **state) {
    float y[3] = {1, 2, 3}, spec[F * NB];
    fill_spec(spec);
    gw_plot_series s = {"y", NULL, y, 3};
    gw_spec_style st;
    gw_spec_style_default(&st);
    st.units = "dB";
    char p[8192];
    gw_error err = {0};
    path_of(p, sizeof p, "no/such/dir/plot.png");
    assert_int_equal(gw_png_write_plot(p, &s, 1, NULL, &err), GW_ERR_IO);
    assert_non_null(strstr(err.msg, p));
    path_of(p, sizeof p, "no/such/dir/spec.png");
    assert_int_equal(gw_png_write_spectrogram(p, spec, F, NB, &st, &err), GW_ERR_IO);
    assert_non_null(strstr(err.msg, p));
    path_of(p, sizeof p, "ok.png");
    assert_int_equal(gw_png_write_plot(p, &s, 1, NULL, &err), GW_OK);
    assert_int_equal(gw_png_write_spectrogram(p, spec, F, NB, &st, &err), GW_OK);
    assert_no_temp_files();
    /* bad sizes are refused before anything is drawn */
    assert_int_equal(gw_png_write_spectrogram(p, spec, 0, NB, &st, &err), GW_ERR_ARG);
    st.scale = 40000;
    assert_int_equal(gw_png_write_spectrogram(p, spec, F, NB, &st, &err), GW_ERR_ARG);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plot_axes_text_and_curves),
        cmocka_unit_test(test_plot_text_any_bytes),
        cmocka_unit_test(test_plot_log_y_decades),
        cmocka_unit_test(test_plot_non_finite_and_sparse),
        cmocka_unit_test(test_plot_legend_corner),
        cmocka_unit_test(test_spectrogram_axes),
        cmocka_unit_test(test_spectrogram_grid_axes),
        cmocka_unit_test(test_atomic_writes),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
