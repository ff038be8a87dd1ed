/* genwave reconstruct VAE.gwm in.wav -o out.wav: a sound through the VAE's
 * bottleneck (encode -> posterior mean -> decode -> mel inversion +
 * Griffin-Lim). Files longer than one clip are cut into clips at half-clip
 * hops, each reconstructed, weighted by a periodic Hann window and
 * overlap-added; at hop N/2 those windows sum to exactly 1, so the gain is
 * flat. Prints the mean log-spectral distance between input and
 * reconstruction, in dB (the figure `genwave eval` reports). */
#include "cli/spec_cli.h"

#include "dsp/gw_dsp.h"
#include "io/audio.h"
#include "models/spec_metrics.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *f) {
    fprintf(f, "usage: genwave reconstruct VAE.gwm IN.wav -o OUT.wav [--gl-iters N]\n"
               "  --gl-iters N  Griffin-Lim iterations per clip (default 64)\n");
}

int gw_cmd_reconstruct(int argc, char **argv) {
    const char *model = NULL, *in = NULL, *out = NULL;
    long gl = 64;
    const gw_cli_opt opts[] = {
        GW_CLI_OPT_STR("-o", &out),
        GW_CLI_OPT_INT("--gl-iters", &gl, 1, 10000),
    };
    const char **pos[] = {&model, &in};
    const int code = GW_CLI_PARSE(argc, argv, "reconstruct", usage, opts, pos);
    if (code >= 0) return code;
    if (!model || !in || !out) {
        usage(stderr);
        return 2;
    }
    gw_spec_model m;
    if (gw_spec_vae_open(&m, model, 1, "reconstruct")) return 1;
    int rc = 1;
    gw_spec_clips c = {0};
    float *img = NULL, *rec = NULL, *mu = NULL, *lv = NULL, *clip = NULL, *y = NULL, *a = NULL,
          *b = NULL;
    size_t L = (size_t)m.clip_samples, hop = L / 2;
    if (gw_spec_clips_read(&c, in, &m, hop, hop)) goto done;
    img = malloc(m.img * sizeof(float)), rec = malloc(m.img * sizeof(float));
    a = malloc(m.img * sizeof(float)), b = malloc(m.img * sizeof(float));
    mu = malloc((size_t)m.z_dim * sizeof(float)), lv = malloc((size_t)m.z_dim * sizeof(float));
    clip = malloc(L * sizeof(float)), y = calloc(c.padded_n, sizeof(float));
    if (!img || !rec || !a || !b || !mu || !lv || !clip || !y) {
        fprintf(stderr, "genwave: out of memory\n");
        goto done;
    }
    gw_error err = {0};
    double lsd = 0;
    for (size_t k = 0; k < c.count; k++) {
        gw_specfeat_image(m.feat, img, c.audio + k * hop);
        gw_specvae_encode(m.vae, mu, lv, img, 1);
        gw_specvae_decode(m.vae, rec, mu, 1);
        gw_specfeat_denormalise(m.feat, a, img);
        gw_specfeat_denormalise(m.feat, b, rec);
        lsd += gw_spec_lsd_db(a, b, m.M, m.T);
        if (gw_specfeat_to_audio(m.feat, clip, rec, (int)gl, k, &err)) {
            rc = gw_cli_error(&err);
            goto done;
        }
        for (size_t i = 0; i < L; i++)
            y[k * hop + i] += clip[i] * (0.5f - 0.5f * cosf(6.2831853f * (float)i / (float)L));
    }
    gw_fit_peak(y + hop, c.n, 0.99f);
    gw_audio_format fmt;
    if (gw_audio_format_for_path(&fmt, out, &err) ||
        gw_audio_write(out, y + hop, c.n, 1, m.sample_rate, fmt, &err)) {
        rc = gw_cli_error(&err);
        goto done;
    }
    printf("%s: %zu clips, log-spectral distance %.2f dB\n", out, c.count, lsd / (double)c.count);
    rc = 0;
done:
    free(img), free(rec), free(a), free(b), free(mu), free(lv), free(clip), free(y);
    gw_spec_clips_free(&c);
    gw_spec_model_close(&m);
    return rc;
}
