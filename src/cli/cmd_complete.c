/* genwave complete MODEL.gwm IN.wav --keep-frames N -o OUT.wav: keep the
 * first N frames of a real sound's log-mel image and let a PixelCNN
 * continue it. An autoregressive model can do this because it models
 * p(q_i | q_<i) in time order: the kept frames are given and the sampler
 * starts at the first pixel after them (models/pixelcnn.h, "sampling").
 * The GAN and the VAE have no such conditional. The whole completed image
 * becomes sound through the features' inverse and Griffin-Lim, as samples
 * do. */
#include "cli/spec_cli.h"

#include "io/audio.h"
#include "train/spec_trainer.h"

#include <stdlib.h>
#include <string.h>

static void usage(FILE *f) {
    fprintf(f,
            "usage: genwave complete MODEL.gwm IN.wav --keep-frames N -o OUT.wav [--class NAME]\n"
            "                        [--temperature T] [--seed S] [--gl-iters N] [--png FILE]\n"
            "  --keep-frames N  frames of IN.wav's image kept (1 .. the model's frames; one\n"
            "                   frame is one hop of the model's features)\n"
            "  --class NAME     the class to continue as (required by a class-conditioned model)\n"
            "  --temperature T  softmax temperature of each pixel (default 1)\n"
            "  --seed S         sampling seed (default 1)\n"
            "  --gl-iters N     Griffin-Lim iterations (default 64)\n"
            "  --png FILE       also draw IN.wav's image beside the completed one\n"
            "Needs a PixelCNN model (genwave train pixelcnn).\n");
}

/* the first clip of path at the model's rate as a feature image (M, T);
 * refuses a sound shorter than keep frames */
static int read_image(float *img, const gw_pixelcnn_model *m, const char *path, int keep) {
    const gw_specfeat_config *c = &m->net->cfg.feat;
    gw_error err = {0};
    float *x = NULL, *clip = calloc((size_t)c->clip_samples, sizeof(float));
    size_t n = 0;
    if (!clip) {
        fprintf(stderr, "genwave: out of memory\n");
        return 1;
    }
    if (gw_audio_read_mono(&x, &n, NULL, path, c->sample_rate, &err)) {
        free(clip);
        return gw_cli_error(&err);
    }
    /* frame f is centred on sample f hop: N whole frames need N hops */
    const size_t need = (size_t)keep * c->hop;
    if (n < need) {
        fprintf(stderr,
                "genwave: %s: %.3f s is %zu frames of hop %d at %d Hz; --keep-frames %d needs "
                "%.3f s\n",
                path, (double)n / c->sample_rate, n / c->hop, c->hop, c->sample_rate, keep,
                (double)need / c->sample_rate);
        free(x), free(clip);
        return 1;
    }
    memcpy(clip, x, (n < (size_t)c->clip_samples ? n : (size_t)c->clip_samples) * sizeof(float));
    gw_specfeat_image(m->feat, img, clip);
    free(x), free(clip);
    return 0;
}

static int complete(const gw_gwm *f, const char *in, const char *out, const char *png, int keep,
                    const char *cls, double temperature, uint64_t seed, int gl) {
    gw_pixelcnn_model m;
    if (gw_spec_pixelcnn_load(&m, f)) return 1;
    const gw_pixelcnn_config *c = &m.net->cfg;
    const size_t hw = (size_t)c->height * c->width;
    const char *path = gw_gwm_path(f);
    int rc = 1, label;
    char list[2048];
    float *img = malloc(2 * hw * sizeof(float)), *wav = NULL;
    uint8_t *q = malloc(hw);
    gw_pixelcnn_sampler *s = NULL;
    gw_error err = {0};
    if (!img || !q) {
        fprintf(stderr, "genwave: out of memory\n");
        goto done;
    }
    if (gw_spec_pixelcnn_label(&label, &m, cls, path)) goto done;
    if (c->classes && label < 0) {
        fprintf(stderr,
                "genwave: %s: the model is conditioned on classes; choose one with --class (%s)\n",
                path, gw_pixelcnn_model_class_list(&m, list, sizeof list));
        goto done;
    }
    if (keep > c->height) {
        fprintf(stderr, "genwave: --keep-frames %d: %s's images have %d frames\n", keep, path,
                c->height);
        goto done;
    }
    if (read_image(img, &m, in, keep)) goto done;
    gw_pixelcnn_quantise(q, img, c->width, c->height);
    gw_rng rng;
    gw_rng_seed(&rng, seed);
    if (gw_pixelcnn_sampler_create(&s, m.net, &err) ||
        gw_pixelcnn_sampler_run(s, q, keep * c->width, label < 0 ? 0 : label, (float)temperature,
                                &rng, NULL, &err)) {
        rc = gw_cli_error(&err);
        goto done;
    }
    gw_pixelcnn_dequantise(img + hw, q, c->width, c->height);
    /* the input image as the model sees it (quantised), beside the completion */
    gw_pixelcnn_quantise(q, img, c->width, c->height);
    gw_pixelcnn_dequantise(img, q, c->width, c->height);
    if (!(wav = malloc((size_t)c->feat.clip_samples * sizeof(float)))) {
        fprintf(stderr, "genwave: out of memory\n");
        goto done;
    }
    if ((png && gw_spec_write_grid(png, img, 2, c->width, c->height, 2, &err)) ||
        gw_spec_write_wav(out, m.feat, img + hw, gl, seed, wav, &err)) {
        rc = gw_cli_error(&err);
        goto done;
    }
    printf("%s: the first %d of %d frames (%.3f s) of %s, continued by %s (%s%s, temperature "
           "%g)\n",
           out, keep, c->height, (double)keep * c->feat.hop / c->feat.sample_rate, in, path,
           label >= 0 ? "class " : "unconditioned", label >= 0 ? m.classes[label] : "",
           temperature);
    rc = 0;
done:
    gw_pixelcnn_sampler_free(s);
    free(img), free(q), free(wav);
    gw_pixelcnn_model_free(&m);
    return rc;
}

int gw_cmd_complete(int argc, char **argv) {
    const char *model = NULL, *in = NULL, *out = NULL, *cls = NULL, *png = NULL;
    long keep = -1, seed = 1, gl = 64;
    double temperature = 1.0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(a, "-o") && v) {
            out = v, i++;
        } else if (!strcmp(a, "--png") && v) {
            png = v, i++;
        } else if (!strcmp(a, "--class") && v) {
            cls = v, i++;
        } else if (!strcmp(a, "--keep-frames") && v) {
            if (!gw_cli_int(v, 1, 1L << 20, &keep)) goto bad;
            i++;
        } else if (!strcmp(a, "--temperature") && v) {
            if (!gw_cli_double(v, 0.0, 100.0, &temperature)) goto bad;
            i++;
        } else if (!strcmp(a, "--seed") && v) {
            if (!gw_cli_int(v, 0, 0x7fffffffL, &seed)) goto bad;
            i++;
        } else if (!strcmp(a, "--gl-iters") && v) {
            if (!gw_cli_int(v, 1, 10000, &gl)) goto bad;
            i++;
        } else if (a[0] != '-' && !model) {
            model = a;
        } else if (a[0] != '-' && !in) {
            in = a;
        } else {
            return gw_cli_unexpected("complete", a, usage);
        }
        continue;
    bad:
        return gw_cli_bad_value("complete", a, v);
    }
    if (!model || !in || !out || keep < 0) {
        usage(stderr);
        return 2;
    }
    gw_error err = {0};
    gw_gwm *f = NULL;
    if (gw_gwm_open(&f, model, &err)) return gw_cli_error(&err);
    int rc = complete(f, in, out, png, (int)keep, cls, temperature, (uint64_t)seed, (int)gl);
    gw_gwm_free(f);
    return rc;
}
