#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gw_test.h"
#include "io/png.h"

static char dir[4096];

static int setup(void **state) {
    gw_test_tmpdir(dir, sizeof dir, "io_png");
    return 0;
}
static int teardown(void **state) {
    char cmd[8300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd);
}

static double luma(const uint8_t c[3]) {
    return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
}

/* endpoints match matplotlib's maps within a few levels, and
 * brightness rises monotonically: the property that makes them perceptual */
static void test_colormaps(void **state) {
    uint8_t c[3];
    const struct {
        gw_cmap m;
        float t;
        int rgb[3];
    } ref[] = {
        {GW_CMAP_MAGMA, 0, {0, 0, 4}},           {GW_CMAP_MAGMA, 1, {252, 253, 191}},
        {GW_CMAP_MAGMA, 0.5f, {183, 55, 121}},   {GW_CMAP_MAGMA, 0.25f, {81, 18, 124}},
        {GW_CMAP_MAGMA, 0.75f, {252, 137, 97}},  {GW_CMAP_VIRIDIS, 0, {68, 1, 84}},
        {GW_CMAP_VIRIDIS, 0.25f, {59, 82, 139}}, {GW_CMAP_VIRIDIS, 0.75f, {94, 201, 98}},
        {GW_CMAP_VIRIDIS, 1, {253, 231, 37}},    {GW_CMAP_VIRIDIS, 0.5f, {33, 145, 140}},
    };
    for (size_t i = 0; i < sizeof ref / sizeof ref[0]; i++) {
        gw_cmap_rgb(c, ref[i].m, ref[i].t);
        for (int k = 0; k < 3; k++) {
            if (abs(c[k] - ref[i].rgb[k]) > 6)
                fprintf(stderr, "cmap %d at %g: %d %d %d\n", ref[i].m, ref[i].t, c[0], c[1], c[2]);
            assert_true(abs(c[k] - ref[i].rgb[k]) <= 6);
        }
    }
    for (int m = 0; m < 3; m++) {
        double prev = -1;
        for (int i = 0; i <= 255; i++) {
            gw_cmap_rgb(c, (gw_cmap)m, i / 255.0f);
            double l = luma(c);
            assert_true(l >= prev - 0.5);
            prev = l;
        }
    }
    /* out of range and NaN clamp instead of wrapping */
    uint8_t a[3], b[3];
    gw_cmap_rgb(a, GW_CMAP_MAGMA, 7.0f);
    gw_cmap_rgb(b, GW_CMAP_MAGMA, 1.0f);
    assert_memory_equal(a, b, 3);
    gw_cmap_rgb(a, GW_CMAP_MAGMA, NAN);
    gw_cmap_rgb(b, GW_CMAP_MAGMA, 0.0f);
    assert_memory_equal(a, b, 3);
}

static void pixel(uint8_t out[3], const uint8_t *img, int w, int x, int y) {
    memcpy(out, img + 3 * ((size_t)y * w + x), 3);
}

static void test_spectrogram_orientation_and_size(void **state) {
    enum { F = 5, NB = 3 };
    float spec[F * NB]; // (frames, bands): band 0 loud, band 2 quiet, band 1 rising in time
    for (int f = 0; f < F; f++) {
        spec[f * NB + 0] = 0;
        spec[f * NB + 1] = -10.0f * (F - 1 - f);
        spec[f * NB + 2] = -80;
    }
    char p[8192];
    snprintf(p, sizeof p, "%s/s.png", dir);
    gw_spec_style st;
    gw_spec_style_default(&st);
    st.scale = 2;
    gw_error err = {0};
    assert_int_equal(gw_png_write_spectrogram(p, spec, F, NB, &st, &err), GW_OK);
    uint8_t *img = NULL;
    int w, h;
    assert_int_equal(gw_png_read_rgb(&img, &w, &h, p, &err), GW_OK);
    assert_int_equal(w, F * 2);
    assert_int_equal(h, NB * 2);
    uint8_t hi[3], lo[3], got[3];
    gw_cmap_rgb(hi, GW_CMAP_MAGMA, 1);
    gw_cmap_rgb(lo, GW_CMAP_MAGMA, 0);
    for (int x = 0; x < w; x++) {
        pixel(got, img, w, x, h - 1); /* bottom row: band 0 */
        assert_memory_equal(got, hi, 3);
        pixel(got, img, w, x, 0); /* top row: band 2 */
        assert_memory_equal(got, lo, 3);
    }
    /* band 1 brightens left to right */
    uint8_t left[3], right[3];
    pixel(left, img, w, 0, 2);
    pixel(right, img, w, w - 1, 2);
    assert_true(luma(right) > luma(left) + 50);
    free(img);

    /* a fixed range clamps; a dynamic range floor lifts the quiet band */
    st.scale = 1;
    st.dynamic_range = 40;
    assert_int_equal(gw_png_write_spectrogram(p, spec, F, NB, &st, &err), GW_OK);
    assert_int_equal(gw_png_read_rgb(&img, &w, &h, p, &err), GW_OK);
    pixel(got, img, w, 0, 0);
    assert_memory_equal(got, lo, 3); /* -80 sits below max - 40: floor colour */
    pixel(got, img, w, 3, 1);        /* -10 of a 40 dB range: 3/4 up */
    uint8_t want[3];
    gw_cmap_rgb(want, GW_CMAP_MAGMA, 0.75f);
    assert_memory_equal(got, want, 3);
    free(img);
}

static void test_grid(void **state) {
    enum { F = 4, NB = 3, N = 3 };
    float specs[N * F * NB];
    for (int i = 0; i < N * F * NB; i++)
        specs[i] = (float)(i / (F * NB)); /* tile i is all i */
    char p[8192];
    snprintf(p, sizeof p, "%s/g.png", dir);
    gw_error err = {0};
    assert_int_equal(gw_png_write_spectrogram_grid(p, specs, N, F, NB, 2, NULL, &err), GW_OK);
    uint8_t *img = NULL;
    int w, h;
    assert_int_equal(gw_png_read_rgb(&img, &w, &h, p, &err), GW_OK);
    assert_int_equal(w, 2 * F + 2);
    assert_int_equal(h, 2 * NB + 2);
    uint8_t c0[3], c1[3], c2[3], gap[3], want[3];
    pixel(c0, img, w, 0, 0);
    pixel(c1, img, w, F + 2, 0);
    pixel(c2, img, w, 0, NB + 2);
    pixel(gap, img, w, F, 0);
    gw_cmap_rgb(want, GW_CMAP_MAGMA, 0);
    assert_memory_equal(c0, want, 3);
    gw_cmap_rgb(want, GW_CMAP_MAGMA, 0.5f); /* one shared range 0..2 */
    assert_memory_equal(c1, want, 3);
    gw_cmap_rgb(want, GW_CMAP_MAGMA, 1);
    assert_memory_equal(c2, want, 3);
    assert_int_equal(gap[0], 32);
    free(img);
    /* bad input */
    assert_int_equal(gw_png_write_spectrogram_grid(p, specs, 0, F, NB, 2, NULL, &err), GW_ERR_ARG);
    snprintf(p, sizeof p, "%s/nodir/g.png", dir);
    assert_int_equal(gw_png_write_spectrogram(p, specs, F, NB, NULL, &err), GW_ERR_IO);
    assert_non_null(strstr(err.msg, p));
}

/* mean row of pixels of colour c in the left 60% of the image (away from the
 * legend) */
static double mean_row_of(const uint8_t *img, int w, int h, const uint8_t c[3], size_t *count) {
    double s = 0;
    size_t n = 0;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w * 6 / 10; x++)
            if (!memcmp(img + 3 * ((size_t)y * w + x), c, 3)) s += y, n++;
    *count = n;
    return n ? s / n : -1;
}

static void test_line_plot(void **state) {
    enum { N = 50 };
    float x[N], lo[N], hi[N];
    for (int i = 0; i < N; i++) {
        x[i] = (float)(i * 10);
        lo[i] = 1.0f + 0.01f * i;
        hi[i] = 3.0f - 0.01f * i;
    }
    hi[20] = NAN; /* a gap */
    gw_plot_series s[2] = {{"train loss", x, lo, N}, {"val", x, hi, N}};
    gw_plot_style st = {
        .width = 400, .height = 300, .title = "Loss", .xlabel = "step", .ylabel = "nats"};
    char p[8192];
    snprintf(p, sizeof p, "%s/plot.png", dir);
    gw_error err = {0};
    assert_int_equal(gw_png_write_plot(p, s, 2, &st, &err), GW_OK);
    uint8_t *img = NULL;
    int w, h;
    assert_int_equal(gw_png_read_rgb(&img, &w, &h, p, &err), GW_OK);
    assert_int_equal(w, 400);
    assert_int_equal(h, 300);
    const uint8_t blue[3] = {31, 119, 180}, orange[3] = {255, 127, 14};
    size_t nb, no;
    double rb = mean_row_of(img, w, h, blue, &nb), ro = mean_row_of(img, w, h, orange, &no);
    assert_true(nb > 100 && no > 100); /* both curves drawn */
    assert_true(rb > ro + 50);         /* the low series lies lower in the picture */
    /* title text drawn in black near the top centre */
    size_t black = 0;
    for (int y = 5; y < 20; y++)
        for (int xx = 180; xx < 220; xx++)
            if (!img[3 * ((size_t)y * w + xx)] && !img[3 * ((size_t)y * w + xx) + 1]) black++;
    assert_true(black > 10);
    free(img);

    /* log axis, and a series with nothing finite still gives a picture */
    float bad[3] = {NAN, INFINITY, NAN};
    gw_plot_series s2[2] = {{"a", NULL, lo, N}, {"none", NULL, bad, 3}};
    st.log_y = 1;
    assert_int_equal(gw_png_write_plot(p, s2, 2, &st, &err), GW_OK);
    assert_int_equal(gw_png_write_plot(p, s2, 0, &st, &err), GW_ERR_ARG);
    st.width = 10;
    assert_int_equal(gw_png_write_plot(p, s2, 1, &st, &err), GW_ERR_ARG);
}

static void test_csv_plot(void **state) {
    char csv[8192], p[8192];
    snprintf(csv, sizeof csv, "%s/log.csv", dir);
    snprintf(p, sizeof p, "%s/log.png", dir);
    FILE *f = fopen(csv, "w");
    fprintf(f, "step,loss,val_bits\n");
    for (int i = 0; i < 100; i++) {
        if (i % 10 == 0)
            fprintf(f, "%d,%g,%g\n", i, 5.0 / (1 + i), 8.0 - i * 0.01);
        else
            fprintf(f, "%d,%g,\n", i, 5.0 / (1 + i));
    }
    fclose(f);
    gw_error err = {0};
    assert_int_equal(gw_png_plot_csv(p, csv, "step", NULL, 0, NULL, &err), GW_OK);
    uint8_t *img = NULL;
    int w, h;
    assert_int_equal(gw_png_read_rgb(&img, &w, &h, p, &err), GW_OK);
    assert_int_equal(w, 800);
    free(img);
    const char *cols[] = {"loss"};
    assert_int_equal(gw_png_plot_csv(p, csv, "step", cols, 1, NULL, &err), GW_OK);
    const char *nope[] = {"lr"};
    assert_int_equal(gw_png_plot_csv(p, csv, "step", nope, 1, NULL, &err), GW_ERR_FORMAT);
    assert_non_null(strstr(err.msg, "no column 'lr'"));
    assert_int_equal(gw_png_plot_csv(p, csv, "epoch", NULL, 0, NULL, &err), GW_ERR_FORMAT);
    f = fopen(csv, "a");
    fprintf(f, "100,abc,1\n");
    fclose(f);
    assert_int_equal(gw_png_plot_csv(p, csv, "step", NULL, 0, NULL, &err), GW_ERR_FORMAT);
    assert_non_null(strstr(err.msg, ":102: column 'loss': 'abc' is not a number"));
}

static void test_read_rejects_non_png(void **state) {
    char p[8192];
    snprintf(p, sizeof p, "%s/x.png", dir);
    FILE *f = fopen(p, "w");
    fputs("not a png", f);
    fclose(f);
    uint8_t *img = (uint8_t *)1;
    int w, h;
    gw_error err = {0};
    assert_int_equal(gw_png_read_rgb(&img, &w, &h, p, &err), GW_ERR_FORMAT);
    assert_null(img);
    assert_non_null(strstr(err.msg, p));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_colormaps), cmocka_unit_test(test_spectrogram_orientation_and_size),
        cmocka_unit_test(test_grid),      cmocka_unit_test(test_line_plot),
        cmocka_unit_test(test_csv_plot),  cmocka_unit_test(test_read_rejects_non_png),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
