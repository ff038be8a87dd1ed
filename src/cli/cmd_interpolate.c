/* genwave interpolate: walk a spectrogram model's latent space.
 *   GAN: MODEL.gwm --seeds A B   the latents of `genwave sample --seed A -n 1`
 *                                and of seed B
 *   VAE: MODEL.gwm a.wav b.wav   the posterior means of the first clip of
 *                                each file (a morph between two sounds)
 * Interpolation is spherical by default (slerp, Shoemake 1985):
 *   z(t) = sin((1 - t) w) / sin(w) z0 + sin(t w) / sin(w) z1,
 *   w = angle between z0 and z1,
 * which keeps |z| at the typical radius of a Gaussian latent, where linear
 * interpolation would pass through the improbable low-norm middle (White
 * 2016, "Sampling Generative Networks"); --linear gives z0 + t (z1 - z0). */
#include "cli/spec_cli.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *f) {
    fprintf(f, "usage: genwave interpolate GAN.gwm --seeds A B -o DIR [--steps N] [--linear]\n"
               "       genwave interpolate VAE.gwm a.wav b.wav -o DIR [--steps N] [--linear]\n"
               "  --steps N     points from one end to the other, both included (default 8)\n"
               "  --linear      linear instead of spherical interpolation\n"
               "  --gl-iters N  Griffin-Lim iterations (default 64)\n"
               "Writes DIR/interp-000.wav ... and DIR/interp-grid.png.\n");
}

static void slerp(float *z, const float *a, const float *b, int d, float t, int linear) {
    double ab = 0, aa = 0, bb = 0;
    for (int i = 0; i < d; i++)
        ab += (double)a[i] * b[i], aa += (double)a[i] * a[i], bb += (double)b[i] * b[i];
    double c = ab / sqrt(fmax(aa * bb, 1e-30)), w = acos(fmax(-1.0, fmin(1.0, c)));
    if (linear || sin(w) < 1e-6) {
        for (int i = 0; i < d; i++)
            z[i] = a[i] + t * (b[i] - a[i]);
        return;
    }
    double ka = sin((1 - t) * w) / sin(w), kb = sin(t * w) / sin(w);
    for (int i = 0; i < d; i++)
        z[i] = (float)(ka * a[i] + kb * b[i]);
}

/* posterior mean of the first clip of a file */
static int encode_first(float *mu, gw_spec_model *m, const char *path) {
    gw_spec_clips c;
    if (gw_spec_clips_read(&c, path, m, (size_t)m->clip_samples, 0)) return 1;
    float *img = malloc(m->img * sizeof(float)), *lv = malloc((size_t)m->z_dim * sizeof(float));
    if (!img || !lv) {
        free(img), free(lv), gw_spec_clips_free(&c);
        fprintf(stderr, "genwave: out of memory\n");
        return 1;
    }
    gw_specfeat_image(m->feat, img, c.audio);
    gw_specvae_encode(m->vae, mu, lv, img, 1);
    free(img), free(lv);
    gw_spec_clips_free(&c);
    return 0;
}

/* --seeds A B (a gw_cli_opt take): seeds[0], seeds[1] */
static int take_seeds(void *out, char **v) {
    long *seeds = out;
    if (!gw_cli_int(v[0], 0, 0x7fffffffL, &seeds[0]) ||
        !gw_cli_int(v[1], 0, 0x7fffffffL, &seeds[1])) {
        fprintf(stderr, "genwave interpolate: --seeds needs two integers\n");
        return 2;
    }
    return 0;
}

int gw_cmd_interpolate(int argc, char **argv) {
    const char *model = NULL, *out = NULL, *files[2] = {NULL, NULL};
    long seeds[2] = {-1, -1}, steps = 8, gl = 64;
    int linear = 0;
    const gw_cli_opt opts[] = {
        GW_CLI_OPT_STR("-o", &out),
        GW_CLI_OPT_CUSTOM("--seeds", seeds, take_seeds, 2),
        GW_CLI_OPT_INT("--steps", &steps, 2, 1024),
        GW_CLI_OPT_INT("--gl-iters", &gl, 1, 10000),
        GW_CLI_OPT_FLAG("--linear", &linear),
    };
    const char **pos[] = {&model, &files[0], &files[1]};
    const int code = GW_CLI_PARSE(argc, argv, "interpolate", usage, opts, pos);
    if (code >= 0) return code;
    const int nfiles = (files[0] != NULL) + (files[1] != NULL);
    if (!model || !out) {
        usage(stderr);
        return 2;
    }
    gw_spec_model m;
    if (gw_spec_model_open(&m, model, 64)) return 1;
    int rc = 1, Z = m.z_dim;
    float *ends = malloc(2 * (size_t)Z * sizeof(float));
    float *z = malloc((size_t)steps * Z * sizeof(float));
    float *img = malloc((size_t)steps * m.img * sizeof(float));
    if (!ends || !z || !img) {
        fprintf(stderr, "genwave: out of memory\n");
        goto done;
    }
    if (m.gan) {
        if (seeds[0] < 0 || nfiles) {
            fprintf(stderr, "genwave interpolate: %s is a GAN: give --seeds A B\n", model);
            rc = 2;
            goto done;
        }
        for (int k = 0; k < 2; k++) {
            gw_rng r;
            gw_rng_seed(&r, (uint64_t)seeds[k]);
            gw_specgan_sample_z(ends + (size_t)k * Z, (size_t)Z, 0, &r);
        }
    } else {
        if (nfiles != 2 || seeds[0] >= 0) {
            fprintf(stderr, "genwave interpolate: %s is a VAE: give two sound files\n", model);
            rc = 2;
            goto done;
        }
        if (encode_first(ends, &m, files[0]) || encode_first(ends + Z, &m, files[1])) goto done;
    }
    for (long k = 0; k < steps; k++)
        slerp(z + k * Z, ends, ends + Z, Z, (float)k / (float)(steps - 1), linear);
    gw_spec_model_decode(&m, img, z, (int)steps);
    if (gw_cli_mkdirs(out)) goto done;
    rc = gw_spec_write_set(out, "interp", m.feat, img, (int)steps, (int)gl, 1);
    if (!rc)
        printf("wrote %ld steps (%s) and %s/interp-grid.png\n", steps,
               linear ? "linear" : "spherical", out);
done:
    free(ends), free(z), free(img);
    gw_spec_model_close(&m);
    return rc;
}
