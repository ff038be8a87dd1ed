/* genwave encode VAE.gwm in.wav: the latent posterior q(z|x) = N(mu, var)
 * of each clip of a sound file (clips of the model's length, back to back,
 * the last one zero padded), as CSV (default) or JSON, to stdout or -o FILE. */
#include "cli/spec_cli.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *f) {
    fprintf(f, "usage: genwave encode VAE.gwm IN.wav [--format csv|json] [-o FILE]\n"
               "CSV columns: clip, start_s, mu_0 .. mu_{Z-1}, var_0 .. var_{Z-1}\n");
}

static void write_csv(FILE *f, const float *mu, const float *lv, size_t n, int Z, double hop_s) {
    fprintf(f, "clip,start_s");
    for (int j = 0; j < Z; j++)
        fprintf(f, ",mu_%d", j);
    for (int j = 0; j < Z; j++)
        fprintf(f, ",var_%d", j);
    fprintf(f, "\n");
    for (size_t i = 0; i < n; i++) {
        fprintf(f, "%zu,%.4f", i, (double)i * hop_s);
        for (int j = 0; j < Z; j++)
            fprintf(f, ",%.6g", mu[i * Z + j]);
        for (int j = 0; j < Z; j++)
            fprintf(f, ",%.6g", expf(lv[i * Z + j]));
        fprintf(f, "\n");
    }
}

static void write_json(FILE *f, const float *mu, const float *lv, size_t n, int Z, double hop_s,
                       const char *in) {
    fprintf(f, "{\"file\": \"");
    for (const char *p = in; *p; p++) /* JSON string escaping of the path */
        if (*p == '"' || *p == '\\')
            fprintf(f, "\\%c", *p);
        else if ((unsigned char)*p < 0x20)
            fprintf(f, "\\u%04x", *p);
        else
            fputc(*p, f);
    fprintf(f, "\", \"z_dim\": %d, \"clips\": [\n", Z);
    for (size_t i = 0; i < n; i++) {
        fprintf(f, "  {\"start_s\": %.4f, \"mu\": [", (double)i * hop_s);
        for (int j = 0; j < Z; j++)
            fprintf(f, "%s%.6g", j ? ", " : "", mu[i * Z + j]);
        fprintf(f, "], \"var\": [");
        for (int j = 0; j < Z; j++)
            fprintf(f, "%s%.6g", j ? ", " : "", expf(lv[i * Z + j]));
        fprintf(f, "]}%s\n", i + 1 < n ? "," : "");
    }
    fprintf(f, "]}\n");
}

/* --format csv|json (a gw_cli_opt take) */
static int take_format(void *out, char **v) {
    *(const char **)out = v[0];
    if (strcmp(v[0], "csv") && strcmp(v[0], "json")) {
        fprintf(stderr, "genwave encode: --format must be csv or json\n");
        return 2;
    }
    return 0;
}

int gw_cmd_encode(int argc, char **argv) {
    const char *model = NULL, *in = NULL, *out = NULL, *format = "csv";
    const gw_cli_opt opts[] = {
        GW_CLI_OPT_STR("-o", &out),
        GW_CLI_OPT_CUSTOM("--format", &format, take_format, 1),
    };
    const char **pos[] = {&model, &in};
    const int code = GW_CLI_PARSE(argc, argv, "encode", usage, opts, pos);
    if (code >= 0) return code;
    if (!model || !in) {
        usage(stderr);
        return 2;
    }
    gw_spec_model m;
    if (gw_spec_vae_open(&m, model, 64, "encode")) return 1;
    int rc = 1;
    gw_spec_clips c = {0};
    float *img = NULL, *mu = NULL, *lv = NULL;
    if (gw_spec_clips_read(&c, in, &m, (size_t)m.clip_samples, 0)) goto done;
    img = malloc(c.count * m.img * sizeof(float));
    mu = malloc(c.count * m.z_dim * sizeof(float));
    lv = malloc(c.count * m.z_dim * sizeof(float));
    if (!img || !mu || !lv) {
        fprintf(stderr, "genwave: out of memory\n");
        goto done;
    }
    for (size_t i = 0; i < c.count; i++)
        gw_specfeat_image(m.feat, img + i * m.img, c.audio + i * c.hop);
    gw_specvae_encode(m.vae, mu, lv, img, (int)c.count);
    double hop_s = (double)c.hop / m.sample_rate;
    gw_afile af;
    gw_error err = {0};
    FILE *f = stdout;
    if (out) {
        if (gw_afile_open(&af, out, &err)) {
            rc = gw_cli_error(&err);
            goto done;
        }
        f = af.fp;
    }
    if (!strcmp(format, "csv"))
        write_csv(f, mu, lv, c.count, m.z_dim, hop_s);
    else
        write_json(f, mu, lv, c.count, m.z_dim, hop_s, in);
    if (out && gw_afile_commit(&af, &err)) {
        rc = gw_cli_error(&err);
        goto done;
    }
    rc = 0;
done:
    free(img), free(mu), free(lv);
    gw_spec_clips_free(&c);
    gw_spec_model_close(&m);
    return rc;
}
