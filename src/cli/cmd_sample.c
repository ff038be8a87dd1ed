/* genwave sample MODEL.gwm -n 16 -o DIR: new sounds from a spectrogram GAN
 * (z ~ N(0, I) through the generator, the EMA weights the trainer saved),
 * VAE (z from the prior through the decoder) or PixelCNN (ancestral
 * sampling in raster order with the cached sampler, optionally of one
 * class), as WAVs (mel inversion + fast Griffin-Lim) and a spectrogram grid
 * PNG. */
#include "cli/spec_cli.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

static void usage(FILE *f) {
    fprintf(f, "usage: genwave sample MODEL.gwm -o DIR [-n N] [--seed S] [--gl-iters N]\n"
               "                      [--truncation T]               (GAN, VAE)\n"
               "                      [--class NAME] [--temperature T] (PixelCNN)\n"
               "  -n N            sounds to write (default 16)\n"
               "  --seed S        latent / sampling seed (default 1)\n"
               "  --truncation T  resample latent values beyond +-T (the truncation trick;\n"
               "                  smaller = more typical, less varied; default off)\n"
               "  --class NAME    a class-conditioned PixelCNN's class (default: each class\n"
               "                  in turn)\n"
               "  --temperature T softmax temperature of each pixel (default 1; lower = more\n"
               "                  typical, 0 = the most likely level)\n"
               "  --gl-iters N    Griffin-Lim iterations (default 64)\n"
               "Writes DIR/sample-000.wav ... and DIR/sample-grid.png.\n");
}

static double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int sample_pixelcnn(const gw_gwm *f, const char *out, int n, uint64_t seed, const char *cls,
                           double temperature, int gl) {
    gw_pixelcnn_model m;
    if (gw_spec_pixelcnn_load(&m, f)) return 1;
    const gw_pixelcnn_config *c = &m.net->cfg;
    int rc = 1, label;
    float *img = NULL;
    int32_t *labels = NULL;
    /* everything that can be refused is, before DIR is made */
    if (gw_spec_pixelcnn_label(&label, &m, cls, gw_gwm_path(f))) goto done;
    img = malloc((size_t)n * c->height * c->width * sizeof(float));
    labels = malloc((size_t)n * sizeof(int32_t));
    if (!img || !labels) {
        fprintf(stderr, "genwave: out of memory\n");
        goto done;
    }
    for (int k = 0; k < n; k++)
        labels[k] = label >= 0 ? label : c->classes ? k % c->classes : 0;
    gw_rng rng;
    gw_rng_seed(&rng, seed);
    gw_error err = {0};
    const double t0 = now_seconds();
    if (gw_pixelcnn_generate(img, m.net, n, c->classes ? labels : NULL, (float)temperature, &rng,
                             &err)) {
        rc = gw_cli_error(&err);
        goto done;
    }
    const double per = (now_seconds() - t0) / n;
    if (gw_cli_mkdirs(out)) goto done;
    rc = gw_spec_write_set(out, "sample", m.feat, img, n, gl, seed);
    if (!rc)
        printf("wrote %d sounds and %s/sample-grid.png (%s%s, temperature %g; %.3f s per image)\n",
               n, out,
               !c->classes  ? "unconditioned"
               : label >= 0 ? "class "
                            : "classes in turn",
               label >= 0 ? m.classes[label] : "", temperature, per);
done:
    free(img);
    free(labels);
    gw_pixelcnn_model_free(&m);
    return rc;
}

int gw_cmd_sample(int argc, char **argv) {
    const char *model = NULL, *out = NULL, *cls = NULL;
    long n = 16, gl = 64, seed = 1;
    double trunc = 0, temperature = 1.0;
    int trunc_set = 0, temp_set = 0;
    const gw_cli_opt opts[] = {
        GW_CLI_OPT_STR("-o", &out),
        GW_CLI_OPT_INT("-n", &n, 1, 4096),
        GW_CLI_OPT_INT("--seed", &seed, 0, 0x7fffffffL),
        GW_CLI_OPT_DOUBLE("--truncation", &trunc, 0.0, 100.0, &trunc_set),
        GW_CLI_OPT_STR("--class", &cls),
        GW_CLI_OPT_DOUBLE("--temperature", &temperature, 0.0, 100.0, &temp_set),
        GW_CLI_OPT_INT("--gl-iters", &gl, 1, 10000),
    };
    const char **pos[] = {&model};
    const int code = GW_CLI_PARSE(argc, argv, "sample", usage, opts, pos);
    if (code >= 0) return code;
    if (!model || !out) {
        usage(stderr);
        return 2;
    }
    gw_error err = {0};
    gw_gwm *f = NULL;
    if (gw_gwm_open(&f, model, &err)) return gw_cli_error(&err);
    const char *kind = gw_gwm_meta(f, "model");
    const int pcnn = kind && !strcmp(kind, GW_PIXELCNN_KIND);
    if (pcnn ? trunc_set : cls || temp_set) {
        fprintf(stderr, "genwave sample: %s is for %s models; %s is a '%s' model\n",
                pcnn  ? "--truncation"
                : cls ? "--class"
                      : "--temperature",
                pcnn ? "GAN and VAE" : "PixelCNN", model, kind ? kind : "unknown");
        gw_gwm_free(f);
        return 2;
    }
    if (pcnn) {
        int rc = sample_pixelcnn(f, out, (int)n, (uint64_t)seed, cls, temperature, (int)gl);
        gw_gwm_free(f);
        return rc;
    }
    gw_spec_model m;
    if (gw_spec_model_from(&m, f, 64)) return 1;
    int rc = 1;
    float *z = malloc((size_t)n * m.z_dim * sizeof(float));
    float *img = malloc((size_t)n * m.img * sizeof(float));
    if (!z || !img) {
        fprintf(stderr, "genwave: out of memory\n");
        goto done;
    }
    gw_rng rng;
    gw_rng_seed(&rng, (uint64_t)seed);
    gw_specgan_sample_z(z, (size_t)n * m.z_dim, (float)trunc, &rng);
    gw_spec_model_decode(&m, img, z, (int)n);
    if (gw_cli_mkdirs(out)) goto done;
    rc = gw_spec_write_set(out, "sample", m.feat, img, (int)n, (int)gl, (uint64_t)seed);
    if (!rc) printf("wrote %ld sounds and %s/sample-grid.png\n", n, out);
done:
    free(z);
    free(img);
    gw_spec_model_close(&m);
    return rc;
}
