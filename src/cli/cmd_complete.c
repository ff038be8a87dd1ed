/* genwave complete MODEL.gwm IN.wav --keep-frames N -o OUT.wav: keep the
 * first N frames of a real sound's log-mel image and let a PixelCNN
 * continue it. An autoregressive model can do this because it models
 * p(q_i | q_<i) in time order: the kept frames are given and the sampler
 * starts at the first pixel after them (models/pixelcnn.h, "sampling").
 * The GAN and the VAE have no such conditional. The whole completed image
 * becomes sound through the features' inverse and Griffin-Lim, as samples
 * do.
 *
 * --fill A-B draws frames A..B-1 anew and keeps the rest. The model samples
 * in time order, so it cannot condition on the frames after the gap
 * directly; sampling-importance-resampling does (Rubin 1988, "Using the SIR
 * algorithm to simulate posterior distributions"): K candidates for the gap
 * from p(gap | before), each weighted by the exact likelihood of the kept
 * frames after it, p(after | before, gap), and one drawn in proportion to
 * its weight. As K grows the pick follows p(gap | before, after); the
 * effective sample size (sum w)^2 / sum w^2 says how far from that K is. */
#include "cli/spec_cli.h"

#include "io/audio.h"
#include "train/spec_trainer.h"

#include <stdlib.h>
#include <string.h>

static void usage(FILE *f) {
    fprintf(f,
            "usage: genwave complete MODEL.gwm IN.wav --keep-frames N | --fill A-B -o OUT.wav\n"
            "                        [--class NAME] [--temperature T] [--seed S] [--gl-iters N]\n"
            "                        [--candidates K] [--png FILE]\n"
            "  --keep-frames N  frames of IN.wav's image kept (1 .. the model's frames; one\n"
            "                   frame is one hop of the model's features); the rest is new\n"
            "  --fill A-B       draw frames A..B-1 anew and keep the others (0 <= A < B <\n"
            "                   the model's frames): K candidates for the gap, one picked in\n"
            "                   proportion to the likelihood of the frames after it\n"
            "  --candidates K   gap candidates for --fill, 1..1024 (default 16)\n"
            "  --class NAME     the class to continue as (required by a class-conditioned model)\n"
            "  --temperature T  softmax temperature of each pixel (default 1)\n"
            "  --seed S         sampling seed (default 1)\n"
            "  --gl-iters N     Griffin-Lim iterations (default 64)\n"
            "  --png FILE       also draw IN.wav's image beside the completed one\n"
            "Needs a PixelCNN model (genwave train pixelcnn).\n");
}

/* the first clip of path at the model's rate as a feature image (M, T);
 * refuses a sound shorter than keep frames */
static int read_image(float *img, const gw_pixelcnn_model *m, const char *path, int keep,
                      const char *why) {
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
                "genwave: %s: %.3f s is %zu frames of hop %d at %d Hz; %s needs %d frames, "
                "%.3f s\n",
                path, (double)n / c->sample_rate, n / c->hop, c->hop, c->sample_rate, why, keep,
                (double)need / c->sample_rate);
        free(x), free(clip);
        return 1;
    }
    memcpy(clip, x, (n < (size_t)c->clip_samples ? n : (size_t)c->clip_samples) * sizeof(float));
    gw_specfeat_image(m->feat, img, clip);
    free(x), free(clip);
    return 0;
}

/* SIR over K candidates qs (K, H W) whose frames from `after` on are the
 * kept ones: the index of the pick, drawn from rng in proportion to
 * p(kept frames | all before them), with the pick's bits per kept pixel,
 * their range and the effective sample size */
static int pick_candidate(int *pick, double fig[4], gw_pixelcnn *net, const uint8_t *qs, int K,
                          int label, size_t after, gw_rng *rng) {
    gw_error err = {0};
    gw_pixelcnn_train *t = NULL;
    double *b = malloc((size_t)K * sizeof(double)), *w = malloc((size_t)K * sizeof(double)), bits;
    int32_t *labels = malloc((size_t)K * sizeof(int32_t));
    int rc = 1;
    if (!b || !w || !labels) {
        fprintf(stderr, "genwave: out of memory\n");
        goto done;
    }
    for (int k = 0; k < K; k++)
        labels[k] = label < 0 ? 0 : label;
    if (gw_pixelcnn_train_create(&t, net, K < 16 ? K : 16, &err) ||
        gw_pixelcnn_bits_per_dim_from(&bits, b, t, qs, label < 0 ? NULL : labels, (size_t)K, after,
                                      &err)) {
        rc = gw_cli_error(&err);
        goto done;
    }
    const double pixels = (double)(net->cfg.height * net->cfg.width) - (double)after;
    double lo = b[0], hi = b[0], sum = 0, sum2 = 0;
    for (int k = 1; k < K; k++)
        lo = b[k] < lo ? b[k] : lo, hi = b[k] > hi ? b[k] : hi;
    for (int k = 0; k < K; k++) { /* log w = -bits ln 2 per pixel, relative to the best */
        w[k] = exp(-(b[k] - lo) * pixels * M_LN2);
        sum += w[k], sum2 += w[k] * w[k];
    }
    double u = gw_rng_uniform(rng) * sum;
    *pick = K - 1;
    for (int k = 0; k < K; k++)
        if ((u -= w[k]) < 0) {
            *pick = k;
            break;
        }
    fig[0] = b[*pick], fig[1] = lo, fig[2] = hi, fig[3] = sum * sum / sum2;
    rc = 0;
done:
    gw_pixelcnn_train_free(t);
    free(b), free(w), free(labels);
    return rc;
}

static int complete(const gw_gwm *f, const char *in, const char *out, const char *png, int keep,
                    int fill_end, int K, const char *cls, double temperature, uint64_t seed,
                    int gl) {
    gw_pixelcnn_model m;
    if (gw_spec_pixelcnn_load(&m, f)) return 1;
    const gw_pixelcnn_config *c = &m.net->cfg;
    const size_t hw = (size_t)c->height * c->width;
    const char *path = gw_gwm_path(f);
    int rc = 1, label;
    gw_status st;
    char list[2048];
    const int fill = fill_end > 0;
    if (!fill) K = 1;
    float *img = malloc(2 * hw * sizeof(float)), *wav = NULL;
    uint8_t *q = malloc(hw), *qs = malloc((size_t)K * hw);
    gw_pixelcnn_sampler *s = NULL;
    gw_error err = {0};
    if (!img || !q || !qs) {
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
    if (keep > c->height || fill_end >= c->height) {
        if (fill)
            fprintf(stderr,
                    "genwave: --fill %d-%d: %s's images have %d frames; the gap must end before "
                    "the last (--keep-frames %d continues to the end)\n",
                    keep, fill_end, path, c->height, keep);
        else
            fprintf(stderr, "genwave: --keep-frames %d: %s's images have %d frames\n", keep, path,
                    c->height);
        goto done;
    }
    /* the sound must reach the kept frames: those before the gap, and for
     * --fill at least the first one after it */
    char why[64];
    if (fill)
        snprintf(why, sizeof why, "--fill %d-%d", keep, fill_end);
    else
        snprintf(why, sizeof why, "--keep-frames %d", keep);
    if (read_image(img, &m, in, fill ? fill_end + 1 : keep, why)) goto done;
    gw_pixelcnn_quantise(q, img, c->width, c->height);
    gw_rng rng;
    gw_rng_seed(&rng, seed);
    if ((st = gw_pixelcnn_sampler_create(&s, m.net, &err))) goto fail;
    const size_t after = fill ? (size_t)fill_end * c->width : hw;
    for (int k = 0; k < K; k++) {
        uint8_t *qk = qs + (size_t)k * hw;
        memcpy(qk, q, hw);
        if ((st = gw_pixelcnn_sampler_run(s, qk, keep * c->width, label < 0 ? 0 : label,
                                          (float)temperature, &rng, NULL, &err)))
            goto fail;
        memcpy(qk + after, q + after, hw - after); /* the kept frames after the gap */
    }
    int pick = 0;
    double fig[4] = {0};
    if (fill && pick_candidate(&pick, fig, m.net, qs, K, label, after, &rng)) goto done;
    gw_pixelcnn_dequantise(img + hw, qs + (size_t)pick * hw, c->width, c->height);
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
    if (fill)
        printf("%s: frames %d-%d of %d of %s drawn anew by %s (%s%s, temperature %g): candidate "
               "%d of %d, picked in proportion to the likelihood of the %d frames after the gap "
               "(%.3f bits per pixel there; the candidates %.3f..%.3f; effective sample size "
               "%.1f)\n",
               out, keep, fill_end - 1, c->height, in, path,
               label >= 0 ? "class " : "unconditioned", label >= 0 ? m.classes[label] : "",
               temperature, pick + 1, K, c->height - fill_end, fig[0], fig[1], fig[2], fig[3]);
    else
        printf("%s: the first %d of %d frames (%.3f s) of %s, continued by %s (%s%s, temperature "
               "%g)\n",
               out, keep, c->height, (double)keep * c->feat.hop / c->feat.sample_rate, in, path,
               label >= 0 ? "class " : "unconditioned", label >= 0 ? m.classes[label] : "",
               temperature);
    rc = 0;
    goto done;
fail:
    rc = gw_cli_error(&err);
done:
    gw_pixelcnn_sampler_free(s);
    free(img), free(q), free(qs), free(wav);
    gw_pixelcnn_model_free(&m);
    return rc;
}

/* --fill A-B (a gw_cli_opt take): fill[0] = A, fill[1] = B */
static int take_fill(void *out, char **v) {
    long *fill = out;
    char *dash = strchr(v[0], '-'), first[32];
    if (!dash || dash == v[0] || !gw_cli_int(dash + 1, 1, 1L << 20, &fill[1]))
        return gw_cli_bad_value("complete", "--fill", v[0]);
    snprintf(first, sizeof first, "%.*s", (int)(dash - v[0]), v[0]);
    if (!gw_cli_int(first, 0, 1L << 20, &fill[0]) || fill[0] >= fill[1])
        return gw_cli_bad_value("complete", "--fill", v[0]);
    return 0;
}

int gw_cmd_complete(int argc, char **argv) {
    const char *model = NULL, *in = NULL, *out = NULL, *cls = NULL, *png = NULL;
    long keep = -1, seed = 1, gl = 64, fill[2] = {-1, -1}, K = 16;
    double temperature = 1.0;
    const gw_cli_opt opts[] = {
        GW_CLI_OPT_STR("-o", &out),
        GW_CLI_OPT_STR("--png", &png),
        GW_CLI_OPT_STR("--class", &cls),
        GW_CLI_OPT_INT("--keep-frames", &keep, 1, 1L << 20),
        GW_CLI_OPT_CUSTOM("--fill", fill, take_fill, 1),
        GW_CLI_OPT_INT("--candidates", &K, 1, 1024),
        GW_CLI_OPT_DOUBLE("--temperature", &temperature, 0.0, 100.0, NULL),
        GW_CLI_OPT_INT("--seed", &seed, 0, 0x7fffffffL),
        GW_CLI_OPT_INT("--gl-iters", &gl, 1, 10000),
    };
    const char **pos[] = {&model, &in};
    const int code = GW_CLI_PARSE(argc, argv, "complete", usage, opts, pos);
    if (code >= 0) return code;
    const long fill_a = fill[0], fill_b = fill[1];
    if (!model || !in || !out || (keep < 0) == (fill_a < 0)) {
        if (keep >= 0 && fill_a >= 0)
            fprintf(stderr, "genwave complete: --keep-frames or --fill, not both\n");
        usage(stderr);
        return 2;
    }
    if (fill_a >= 0) keep = fill_a;
    gw_error err = {0};
    gw_gwm *f = NULL;
    if (gw_gwm_open(&f, model, &err)) return gw_cli_error(&err);
    int rc = complete(f, in, out, png, (int)keep, fill_a >= 0 ? (int)fill_b : -1, (int)K, cls,
                      temperature, (uint64_t)seed, (int)gl);
    gw_gwm_free(f);
    return rc;
}
