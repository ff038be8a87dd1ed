/* DiffAugment "translation,cutout" (layers.h; Zhao et al. 2020, "Differentiable
 * Augmentation for Data-Efficient GAN Training", its translation with zero
 * padding and cutout of half the image size). */
#include "nn/layers.h"

#include <string.h>

void gw_diffaug_draw(gw_diffaug *p, int n, int H, int W, gw_rng *rng) {
    const int ty = H / 8, tx = W / 8;
    /* one word per value (a modulo; the bias is below 2^-50 for these sizes) */
    for (int i = 0; i < n; i++) {
        p[i].dy = (int)(gw_rng_u64(rng) % (uint64_t)(2 * ty + 1)) - ty;
        p[i].dx = (int)(gw_rng_u64(rng) % (uint64_t)(2 * tx + 1)) - tx;
        p[i].cy = (int)(gw_rng_u64(rng) % (uint64_t)H);
        p[i].cx = (int)(gw_rng_u64(rng) % (uint64_t)W);
    }
}

/* inside the cutout rectangle of p: rows [cy - H/4, cy + H/4), columns alike */
static int cut(const gw_diffaug *p, int i, int j, int H, int W) {
    return i >= p->cy - H / 4 && i < p->cy + H / 4 && j >= p->cx - W / 4 && j < p->cx + W / 4;
}

void gw_diffaug_forward(float *out, const float *inp, const gw_diffaug *p, int B, int H, int W) {
    for (int b = 0; b < B; b++) {
        const float *x = inp + (size_t)b * H * W;
        float *y = out + (size_t)b * H * W;
        for (int i = 0; i < H; i++)
            for (int j = 0; j < W; j++) {
                const int si = i - p[b].dy, sj = j - p[b].dx;
                const int in = si >= 0 && si < H && sj >= 0 && sj < W;
                y[(size_t)i * W + j] =
                    in && !cut(&p[b], i, j, H, W) ? x[(size_t)si * W + sj] : 0.0f;
            }
    }
}

void gw_diffaug_backward(float *dinp, const float *dout, const gw_diffaug *p, int B, int H, int W) {
    memset(dinp, 0, (size_t)B * H * W * sizeof *dinp);
    for (int b = 0; b < B; b++) {
        const float *dy = dout + (size_t)b * H * W;
        float *dx = dinp + (size_t)b * H * W;
        for (int i = 0; i < H; i++)
            for (int j = 0; j < W; j++) {
                const int si = i - p[b].dy, sj = j - p[b].dx;
                if (si >= 0 && si < H && sj >= 0 && sj < W && !cut(&p[b], i, j, H, W))
                    dx[(size_t)si * W + sj] += dy[(size_t)i * W + j];
            }
    }
}
