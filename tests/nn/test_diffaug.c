/* DiffAugment "translation,cutout" (nn/layers.h): what the forward does to
 * single pixels, the backward as the exact transpose of the forward
 * (<A x, y> == <x, A^T y>), the draw's ranges and its fixed use of the rng
 * (4 words per image, so data-parallel ranks can skip the others'). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/gw_base.h"
#include "nn/layers.h"

enum { H = 16, W = 24 };

static void test_forward_moves_and_cuts(void **state) {
    (void)state;
    static float x[H * W], y[H * W];
    x[5 * W + 7] = 1.0f;
    /* translation by (+2, -3), the cutout far away in the corner */
    gw_diffaug p = {.dy = 2, .dx = -3, .cy = H - 1, .cx = W - 1};
    gw_diffaug_forward(y, x, &p, 1, H, W);
    float sum = 0;
    for (int i = 0; i < H * W; i++)
        sum += y[i];
    assert_true(y[7 * W + 4] == 1.0f && sum == 1.0f);
    /* the cutout over the moved pixel zeroes it: rows 7 +- H/4, columns 4 +- W/4 */
    p.cy = 7, p.cx = 4;
    gw_diffaug_forward(y, x, &p, 1, H, W);
    assert_true(y[7 * W + 4] == 0.0f);
    /* what moves out of the image is gone, what comes in is zero */
    for (int i = 0; i < H * W; i++)
        x[i] = 1.0f;
    p = (gw_diffaug){.dy = 0, .dx = 3, .cy = -100, .cx = -100};
    gw_diffaug_forward(y, x, &p, 1, H, W);
    for (int i = 0; i < H; i++)
        for (int j = 0; j < W; j++)
            assert_true(y[i * W + j] == (j < 3 ? 0.0f : 1.0f));
}

static void test_backward_is_the_transpose(void **state) {
    (void)state;
    enum { B = 5, N = B * H * W };
    float *x = malloc(N * sizeof *x), *y = malloc(N * sizeof *y), *ax = malloc(N * sizeof *ax),
          *aty = malloc(N * sizeof *aty);
    gw_diffaug p[B];
    gw_rng r;
    gw_rng_seed(&r, 7);
    for (int t = 0; t < 20; t++) {
        gw_rng_fill_normal(&r, x, N, 0, 1);
        gw_rng_fill_normal(&r, y, N, 0, 1);
        gw_diffaug_draw(p, B, H, W, &r);
        gw_diffaug_forward(ax, x, p, B, H, W);
        gw_diffaug_backward(aty, y, p, B, H, W);
        double l = 0, rr = 0;
        for (int i = 0; i < N; i++)
            l += (double)ax[i] * y[i], rr += (double)x[i] * aty[i];
        assert_true(fabs(l - rr) <= 1e-4 * (fabs(l) + 1));
    }
    free(x), free(y), free(ax), free(aty);
}

static void test_draw_ranges_and_rng_use(void **state) {
    (void)state;
    enum { n = 4000 };
    static gw_diffaug p[n];
    gw_rng a, b;
    gw_rng_seed(&a, 3);
    b = a;
    gw_diffaug_draw(p, n, H, W, &a);
    int seen_dy[2 * (H / 8) + 1] = {0};
    for (int i = 0; i < n; i++) {
        assert_true(abs(p[i].dy) <= H / 8 && abs(p[i].dx) <= W / 8);
        assert_true(p[i].cy >= 0 && p[i].cy < H && p[i].cx >= 0 && p[i].cx < W);
        seen_dy[p[i].dy + H / 8]++;
    }
    for (int k = 0; k <= 2 * (H / 8); k++)
        assert_true(seen_dy[k] > n / 10);
    /* exactly 4 words per image: a rank that skips the first 10 images' draws
     * gets the next ones' parameters */
    gw_rng_skip(&b, 4 * 10);
    gw_diffaug q[3];
    gw_diffaug_draw(q, 3, H, W, &b);
    assert_memory_equal(q, p + 10, sizeof q);
    gw_rng_skip(&b, 4 * (uint64_t)(n - 13));
    assert_memory_equal(a.s, b.s, sizeof a.s);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_forward_moves_and_cuts),
        cmocka_unit_test(test_backward_is_the_transpose),
        cmocka_unit_test(test_draw_ranges_and_rng_use),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
