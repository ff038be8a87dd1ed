/* genwave sample MODEL.gwm -n 16 -o DIR: new sounds from a spectrogram GAN
 * (z ~ N(0, I) through the generator, the EMA weights the trainer saved) or
 * VAE (z from the prior through the decoder), as WAVs (mel inversion + fast
 * Griffin-Lim) and a spectrogram grid PNG. */
#include "cli/spec_cli.h"

#include <stdlib.h>
#include <string.h>

static void usage(FILE *f) {
    fprintf(f, "usage: genwave sample MODEL.gwm -o DIR [-n N] [--seed S] [--truncation T]\n"
               "                      [--gl-iters N]\n"
               "  -n N            sounds to write (default 16)\n"
               "  --seed S        latent seed (default 1)\n"
               "  --truncation T  resample latent values beyond +-T (the truncation trick;\n"
               "                  smaller = more typical, less varied; default off)\n"
               "  --gl-iters N    Griffin-Lim iterations (default 64)\n"
               "Writes DIR/sample-000.wav ... and DIR/sample-grid.png.\n");
}

int gw_cmd_sample(int argc, char **argv) {
    const char *model = NULL, *out = NULL;
    long n = 16, gl = 64, seed = 1;
    double trunc = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(a, "-o") && v) {
            out = v, i++;
        } else if (!strcmp(a, "-n") && v) {
            if (!gw_cli_int(v, 1, 4096, &n)) goto bad;
            i++;
        } else if (!strcmp(a, "--seed") && v) {
            if (!gw_cli_int(v, 0, 0x7fffffffL, &seed)) goto bad;
            i++;
        } else if (!strcmp(a, "--truncation") && v) {
            if (!gw_cli_double(v, 0.0, 100.0, &trunc)) goto bad;
            i++;
        } else if (!strcmp(a, "--gl-iters") && v) {
            if (!gw_cli_int(v, 1, 10000, &gl)) goto bad;
            i++;
        } else if (a[0] != '-' && !model) {
            model = a;
        } else {
            return gw_cli_unexpected("sample", a, usage);
        }
        continue;
    bad:
        return gw_cli_bad_value("sample", a, v);
    }
    if (!model || !out) {
        usage(stderr);
        return 2;
    }
    gw_spec_model m;
    if (gw_spec_model_open(&m, model, 64)) return 1;
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
    rc = gw_spec_write_set(out, "sample", &m, img, (int)n, (int)gl, (uint64_t)seed);
    if (!rc) printf("wrote %ld sounds and %s/sample-grid.png\n", n, out);
done:
    free(z);
    free(img);
    gw_spec_model_close(&m);
    return rc;
}
