/* Line plots of training curves into PNG (see png.h): axes with "nice"
 * ticks (1, 2, 5 x 10^k), a light grid, tick labels, title and legend drawn
 * with a built-in 5x7 bitmap font, and a CSV front end for trainer logs. */
#include "io/png.h"

#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- 5x7 font: each glyph is seven rows of five pixels, '#' set ---- */
typedef struct glyph {
    char c;
    const char *rows[7];
} glyph;

static const glyph font[] = {
    {' ', {".....", ".....", ".....", ".....", ".....", ".....", "....."}},
    {'0', {".###.", "#...#", "#..##", "#.#.#", "##..#", "#...#", ".###."}},
    {'1', {"..#..", ".##..", "..#..", "..#..", "..#..", "..#..", ".###."}},
    {'2', {".###.", "#...#", "....#", "...#.", "..#..", ".#...", "#####"}},
    {'3', {"#####", "...#.", "..#..", "...#.", "....#", "#...#", ".###."}},
    {'4', {"...#.", "..##.", ".#.#.", "#..#.", "#####", "...#.", "...#."}},
    {'5', {"#####", "#....", "####.", "....#", "....#", "#...#", ".###."}},
    {'6', {"..##.", ".#...", "#....", "####.", "#...#", "#...#", ".###."}},
    {'7', {"#####", "....#", "...#.", "..#..", ".#...", ".#...", ".#..."}},
    {'8', {".###.", "#...#", "#...#", ".###.", "#...#", "#...#", ".###."}},
    {'9', {".###.", "#...#", "#...#", ".####", "....#", "...#.", ".##.."}},
    {'A', {".###.", "#...#", "#...#", "#####", "#...#", "#...#", "#...#"}},
    {'B', {"####.", "#...#", "#...#", "####.", "#...#", "#...#", "####."}},
    {'C', {".###.", "#...#", "#....", "#....", "#....", "#...#", ".###."}},
    {'D', {"###..", "#..#.", "#...#", "#...#", "#...#", "#..#.", "###.."}},
    {'E', {"#####", "#....", "#....", "####.", "#....", "#....", "#####"}},
    {'F', {"#####", "#....", "#....", "####.", "#....", "#....", "#...."}},
    {'G', {".###.", "#...#", "#....", "#.###", "#...#", "#...#", ".####"}},
    {'H', {"#...#", "#...#", "#...#", "#####", "#...#", "#...#", "#...#"}},
    {'I', {".###.", "..#..", "..#..", "..#..", "..#..", "..#..", ".###."}},
    {'J', {"..###", "...#.", "...#.", "...#.", "...#.", "#..#.", ".##.."}},
    {'K', {"#...#", "#..#.", "#.#..", "##...", "#.#..", "#..#.", "#...#"}},
    {'L', {"#....", "#....", "#....", "#....", "#....", "#....", "#####"}},
    {'M', {"#...#", "##.##", "#.#.#", "#.#.#", "#...#", "#...#", "#...#"}},
    {'N', {"#...#", "#...#", "##..#", "#.#.#", "#..##", "#...#", "#...#"}},
    {'O', {".###.", "#...#", "#...#", "#...#", "#...#", "#...#", ".###."}},
    {'P', {"####.", "#...#", "#...#", "####.", "#....", "#....", "#...."}},
    {'Q', {".###.", "#...#", "#...#", "#...#", "#.#.#", "#..#.", ".##.#"}},
    {'R', {"####.", "#...#", "#...#", "####.", "#.#..", "#..#.", "#...#"}},
    {'S', {".####", "#....", "#....", ".###.", "....#", "....#", "####."}},
    {'T', {"#####", "..#..", "..#..", "..#..", "..#..", "..#..", "..#.."}},
    {'U', {"#...#", "#...#", "#...#", "#...#", "#...#", "#...#", ".###."}},
    {'V', {"#...#", "#...#", "#...#", "#...#", "#...#", ".#.#.", "..#.."}},
    {'W', {"#...#", "#...#", "#...#", "#.#.#", "#.#.#", "#.#.#", ".#.#."}},
    {'X', {"#...#", "#...#", ".#.#.", "..#..", ".#.#.", "#...#", "#...#"}},
    {'Y', {"#...#", "#...#", ".#.#.", "..#..", "..#..", "..#..", "..#.."}},
    {'Z', {"#####", "....#", "...#.", "..#..", ".#...", "#....", "#####"}},
    {'a', {".....", ".....", ".###.", "....#", ".####", "#...#", ".####"}},
    {'b', {"#....", "#....", "#.##.", "##..#", "#...#", "#...#", "####."}},
    {'c', {".....", ".....", ".###.", "#....", "#....", "#...#", ".###."}},
    {'d', {"....#", "....#", ".##.#", "#..##", "#...#", "#...#", ".####"}},
    {'e', {".....", ".....", ".###.", "#...#", "#####", "#....", ".###."}},
    {'f', {"..##.", ".#..#", ".#...", "###..", ".#...", ".#...", ".#..."}},
    {'g', {".....", ".####", "#...#", "#...#", ".####", "....#", ".###."}},
    {'h', {"#....", "#....", "#.##.", "##..#", "#...#", "#...#", "#...#"}},
    {'i', {"..#..", ".....", ".##..", "..#..", "..#..", "..#..", ".###."}},
    {'j', {"...#.", ".....", "..##.", "...#.", "...#.", "#..#.", ".##.."}},
    {'k', {"#....", "#....", "#..#.", "#.#..", "##...", "#.#..", "#..#."}},
    {'l', {".##..", "..#..", "..#..", "..#..", "..#..", "..#..", ".###."}},
    {'m', {".....", ".....", "##.#.", "#.#.#", "#.#.#", "#...#", "#...#"}},
    {'n', {".....", ".....", "#.##.", "##..#", "#...#", "#...#", "#...#"}},
    {'o', {".....", ".....", ".###.", "#...#", "#...#", "#...#", ".###."}},
    {'p', {".....", ".....", "####.", "#...#", "####.", "#....", "#...."}},
    {'q', {".....", ".....", ".##.#", "#..##", ".####", "....#", "....#"}},
    {'r', {".....", ".....", "#.##.", "##..#", "#....", "#....", "#...."}},
    {'s', {".....", ".....", ".###.", "#....", ".###.", "....#", "####."}},
    {'t', {".#...", ".#...", "###..", ".#...", ".#...", ".#..#", "..##."}},
    {'u', {".....", ".....", "#...#", "#...#", "#...#", "#..##", ".##.#"}},
    {'v', {".....", ".....", "#...#", "#...#", "#...#", ".#.#.", "..#.."}},
    {'w', {".....", ".....", "#...#", "#...#", "#.#.#", "#.#.#", ".#.#."}},
    {'x', {".....", ".....", "#...#", ".#.#.", "..#..", ".#.#.", "#...#"}},
    {'y', {".....", ".....", "#...#", "#...#", ".####", "....#", ".###."}},
    {'z', {".....", ".....", "#####", "...#.", "..#..", ".#...", "#####"}},
    {'.', {".....", ".....", ".....", ".....", ".....", ".##..", ".##.."}},
    {',', {".....", ".....", ".....", ".....", ".##..", "..#..", ".#..."}},
    {'-', {".....", ".....", ".....", "#####", ".....", ".....", "....."}},
    {'+', {".....", "..#..", "..#..", "#####", "..#..", "..#..", "....."}},
    {':', {".....", ".##..", ".##..", ".....", ".##..", ".##..", "....."}},
    {';', {".....", ".##..", ".##..", ".....", ".##..", "..#..", ".#..."}},
    {'/', {".....", "....#", "...#.", "..#..", ".#...", "#....", "....."}},
    {'(', {"...#.", "..#..", ".#...", ".#...", ".#...", "..#..", "...#."}},
    {')', {".#...", "..#..", "...#.", "...#.", "...#.", "..#..", ".#..."}},
    {'[', {".###.", ".#...", ".#...", ".#...", ".#...", ".#...", ".###."}},
    {']', {".###.", "...#.", "...#.", "...#.", "...#.", "...#.", ".###."}},
    {'_', {".....", ".....", ".....", ".....", ".....", ".....", "#####"}},
    {'%', {"##...", "##..#", "...#.", "..#..", ".#...", "#..##", "...##"}},
    {'=', {".....", ".....", "#####", ".....", "#####", ".....", "....."}},
    {'\'', {"..#..", "..#..", ".#...", ".....", ".....", ".....", "....."}},
    {'"', {".#.#.", ".#.#.", ".#.#.", ".....", ".....", ".....", "....."}},
    {'*', {".....", "..#..", "#.#.#", ".###.", "#.#.#", "..#..", "....."}},
    {'<', {"...#.", "..#..", ".#...", "#....", ".#...", "..#..", "...#."}},
    {'>', {".#...", "..#..", "...#.", "....#", "...#.", "..#..", ".#..."}},
    {'?', {".###.", "#...#", "....#", "...#.", "..#..", ".....", "..#.."}},
    {'!', {"..#..", "..#..", "..#..", "..#..", "..#..", ".....", "..#.."}},
    {'#', {".#.#.", ".#.#.", "#####", ".#.#.", "#####", ".#.#.", ".#.#."}},
    {'|', {"..#..", "..#..", "..#..", "..#..", "..#..", "..#..", "..#.."}},
    {'^', {"..#..", ".#.#.", "#...#", ".....", ".....", ".....", "....."}},
    {'~', {".....", ".....", ".#...", "#.#.#", "...#.", ".....", "....."}},
};
/* anything else is drawn as a hollow box, so a missing glyph is visible */
static const glyph box = {'?', {"#####", "#...#", "#...#", "#...#", "#...#", "#...#", "#####"}};

static const glyph *find_glyph(char c) {
    for (size_t i = 0; i < sizeof font / sizeof font[0]; i++)
        if (font[i].c == c) return &font[i];
    return &box;
}

enum { GLYPH_ADVANCE = 6, GLYPH_H = 7 };

typedef struct canvas {
    uint8_t *px; // (h, w, 3)
    int w, h;
} canvas;

static void put(canvas *cv, int x, int y, const uint8_t c[3]) {
    if (x < 0 || y < 0 || x >= cv->w || y >= cv->h) return;
    memcpy(cv->px + 3 * ((size_t)y * cv->w + x), c, 3);
}

static int text_width(const char *s) {
    return (int)strlen(s) * GLYPH_ADVANCE - 1;
}

/* text with its top-left corner at (x, y); vertical text reads bottom to top
 * (rotated 90 degrees counter-clockwise), (x, y) its bottom-left */
static void draw_text(canvas *cv, int x, int y, const char *s, const uint8_t c[3], int vertical) {
    for (int i = 0; s[i]; i++) {
        const glyph *g = find_glyph(s[i]);
        for (int r = 0; r < GLYPH_H; r++)
            for (int k = 0; k < 5; k++) {
                if (g->rows[r][k] != '#') continue;
                if (vertical)
                    put(cv, x + r, y - i * GLYPH_ADVANCE - k, c);
                else
                    put(cv, x + i * GLYPH_ADVANCE + k, y + r, c);
            }
    }
}

/* Bresenham, two pixels thick so curves read at a glance */
static void draw_line(canvas *cv, int x0, int y0, int x1, int y1, const uint8_t c[3]) {
    int dx = abs(x1 - x0), sx = x0 < x1 ? 1 : -1;
    int dy = -abs(y1 - y0), sy = y0 < y1 ? 1 : -1;
    int e = dx + dy;
    for (;;) {
        put(cv, x0, y0, c);
        put(cv, x0 + 1, y0, c);
        put(cv, x0, y0 + 1, c);
        if (x0 == x1 && y0 == y1) break;
        int e2 = 2 * e;
        if (e2 >= dy) e += dy, x0 += sx;
        if (e2 <= dx) e += dx, y0 += sy;
    }
}

static void hline(canvas *cv, int x0, int x1, int y, const uint8_t c[3]) {
    for (int x = x0; x <= x1; x++)
        put(cv, x, y, c);
}
static void vline(canvas *cv, int x, int y0, int y1, const uint8_t c[3]) {
    for (int y = y0; y <= y1; y++)
        put(cv, x, y, c);
}

/* a "nice" tick step (1, 2 or 5 times a power of ten) giving about `want`
 * intervals over span (Heckbert, "Nice numbers for graph labels", Graphics
 * Gems 1990) */
static double nice_step(double span, int want) {
    double raw = span / want;
    double p = pow(10.0, floor(log10(raw)));
    double f = raw / p;
    return (f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10) * p;
}

static void tick_label(char *out, size_t cap, double v, double step, int log_axis) {
    if (log_axis) { /* v is log10 of the value */
        double val = pow(10.0, v);
        if (val >= 1e-3 && val < 1e5)
            snprintf(out, cap, "%g", val);
        else
            snprintf(out, cap, "%.0e", val);
        return;
    }
    if (fabs(v) < step * 1e-6) v = 0; /* no "-0" or 1e-17 at the origin */
    double a = fabs(v);
    if (a != 0 && (a >= 1e6 || step < 1e-4)) {
        snprintf(out, cap, "%.2g", v);
    } else {
        int dec = step >= 1 ? 0 : (int)ceil(-log10(step) - 1e-9);
        snprintf(out, cap, "%.*f", dec, v);
    }
}

enum { MAX_TICKS = 64 };

/* tick positions in axis units over [lo, hi]: nice linear steps, or on a log
 * axis (units = log10) the decades, plus 2x and 5x when under two decades
 * show */
static int make_ticks(double *t, double lo, double hi, int want, int log_axis) {
    int n = 0;
    if (!log_axis) {
        double step = nice_step(hi - lo, want);
        for (double v = ceil(lo / step) * step; v <= hi + 1e-9 * step && n < MAX_TICKS; v += step)
            t[n++] = v;
        return n;
    }
    static const double mult[3] = {1, 2, 5};
    int sub = hi - lo < 2 ? 3 : 1;
    int every = hi - lo > 8 ? (int)ceil((hi - lo) / 8) : 1;
    for (double k = floor(lo); k <= ceil(hi) && n < MAX_TICKS; k += every)
        for (int m = 0; m < sub && n < MAX_TICKS; m++) {
            double v = k + log10(mult[m]);
            if (v >= lo - 1e-9 && v <= hi + 1e-9) t[n++] = v;
        }
    return n;
}

static const uint8_t palette[8][3] = {
    {31, 119, 180},  {255, 127, 14}, {44, 160, 44},   {214, 39, 40},
    {148, 103, 189}, {140, 86, 75},  {227, 119, 194}, {127, 127, 127},
};

static int usable(float x, float y, int log_y) {
    return isfinite(x) && isfinite(y) && (!log_y || y > 0);
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
    const int log_y = style->log_y;
    /* data range over every usable point */
    double x0 = INFINITY, x1 = -INFINITY, y0 = INFINITY, y1 = -INFINITY;
    for (int s = 0; s < n_series; s++)
        for (size_t i = 0; i < series[s].n; i++) {
            float x = series[s].x ? series[s].x[i] : (float)i, y = series[s].y[i];
            if (!usable(x, y, log_y)) continue;
            double yy = log_y ? log10(y) : y;
            x0 = fmin(x0, x), x1 = fmax(x1, x), y0 = fmin(y0, yy), y1 = fmax(y1, yy);
        }
    if (!(x0 <= x1)) x0 = 0, x1 = 1, y0 = 0, y1 = 1; /* no finite point: empty axes */
    if (x1 - x0 < 1e-12) x0 -= 0.5, x1 += 0.5;
    if (y1 - y0 < 1e-12 * fmax(1.0, fabs(y0))) {
        double d = fmax(0.5, fabs(y0) * 0.1);
        y0 -= d, y1 += d;
    } else {
        double pad = 0.05 * (y1 - y0);
        y0 -= pad, y1 += pad;
    }
    double xt[MAX_TICKS], yt[MAX_TICKS];
    int nxt = make_ticks(xt, x0, x1, 6, 0), nyt = make_ticks(yt, y0, y1, 5, log_y);
    double xstep = nxt > 1 ? xt[1] - xt[0] : x1 - x0;
    double ystep = nyt > 1 ? yt[1] - yt[0] : y1 - y0;
    /* left margin fits the widest y tick label */
    int ylab_w = 0;
    char lab[48];
    for (int i = 0; i < nyt; i++) {
        tick_label(lab, sizeof lab, yt[i], ystep, log_y);
        int tw = text_width(lab);
        if (tw > ylab_w) ylab_w = tw;
    }
    const int L = 16 + ylab_w + (style->ylabel ? 14 : 0), R = W - 16;
    const int T = style->title ? 28 : 14, B = H - (style->xlabel ? 44 : 30);
    uint8_t *px = malloc((size_t)W * H * 3);
    if (!px) return gw_fail(err, GW_ERR_NOMEM, "%s: out of memory", path);
    memset(px, 255, (size_t)W * H * 3);
    canvas cv = {px, W, H};
    const uint8_t black[3] = {0, 0, 0}, grid[3] = {225, 225, 225};
#define MAPX(v) (L + (int)lround(((v)-x0) / (x1 - x0) * (R - L)))
#define MAPY(v) (B - (int)lround(((v)-y0) / (y1 - y0) * (B - T)))
    for (int i = 0; i < nxt; i++) {
        int x = MAPX(xt[i]);
        vline(&cv, x, T, B, grid);
        vline(&cv, x, B, B + 4, black);
        tick_label(lab, sizeof lab, xt[i], xstep, 0);
        draw_text(&cv, x - text_width(lab) / 2, B + 8, lab, black, 0);
    }
    for (int i = 0; i < nyt; i++) {
        int y = MAPY(yt[i]);
        hline(&cv, L, R, y, grid);
        hline(&cv, L - 4, L, y, black);
        tick_label(lab, sizeof lab, yt[i], ystep, log_y);
        draw_text(&cv, L - 7 - text_width(lab), y - GLYPH_H / 2, lab, black, 0);
    }
    for (int s = 0; s < n_series; s++) {
        const uint8_t *c = palette[s % 8];
        size_t n_ok = 0;
        for (size_t i = 0; i < series[s].n; i++)
            n_ok += usable(series[s].x ? series[s].x[i] : (float)i, series[s].y[i], log_y);
        /* sparse series (a validation figure every N steps) get markers */
        int marks = n_ok * 8 < (size_t)(R - L);
        int have = 0, px0 = 0, py0 = 0;
        for (size_t i = 0; i < series[s].n; i++) {
            float x = series[s].x ? series[s].x[i] : (float)i, y = series[s].y[i];
            if (!usable(x, y, log_y)) continue; /* missing cells: join the neighbours */
            int qx = MAPX(x), qy = MAPY(log_y ? log10(y) : y);
            if (have)
                draw_line(&cv, px0, py0, qx, qy, c);
            else
                put(&cv, qx, qy, c);
            if (marks)
                for (int d = -2; d <= 2; d++)
                    hline(&cv, qx - 2, qx + 2, qy + d, c);
            have = 1, px0 = qx, py0 = qy;
        }
    }
#undef MAPX
#undef MAPY
    hline(&cv, L, R, T, black);
    hline(&cv, L, R, B, black);
    vline(&cv, L, T, B, black);
    vline(&cv, R, T, B, black);
    if (style->title) draw_text(&cv, (W - text_width(style->title)) / 2, 9, style->title, black, 0);
    if (style->xlabel)
        draw_text(&cv, (L + R - text_width(style->xlabel)) / 2, H - 16, style->xlabel, black, 0);
    if (style->ylabel)
        draw_text(&cv, 4, (T + B + text_width(style->ylabel)) / 2, style->ylabel, black, 1);
    /* legend, top right inside the axes, on a white patch */
    int lw = 0;
    for (int s = 0; s < n_series; s++) {
        int tw = text_width(series[s].name ? series[s].name : "");
        if (tw > lw) lw = tw;
    }
    const uint8_t white[3] = {255, 255, 255};
    int lx = R - lw - 34, ly = T + 6;
    for (int y = ly - 3; y < ly + 11 * n_series; y++)
        hline(&cv, lx - 4, R - 4, y, white);
    for (int s = 0; s < n_series; s++) {
        const uint8_t *c = palette[s % 8];
        draw_line(&cv, lx, ly + 11 * s + 3, lx + 18, ly + 11 * s + 3, c);
        draw_text(&cv, lx + 24, ly + 11 * s, series[s].name ? series[s].name : "", black, 0);
    }
    gw_status st = gw_png_write_rgb(path, px, W, H, err);
    free(px);
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
