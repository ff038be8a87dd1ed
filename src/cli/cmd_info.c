/* genwave info MODEL.gwm: what a model file holds. A WaveNet gets its
 * architecture, parameter count, receptive field, cost per sample, sample
 * rate, provenance and recorded metrics; a PixelCNN its image, layers,
 * classes, receptive field and cost per image, provenance and metrics; any
 * other .gwm gets its metadata and tensor table. */
#include "base/gw_base.h"
#include "cli/args.h"
#include "models/pixelcnn_file.h"
#include "models/wavenet.h"
#include "models/wavenet_file.h"
#include "nn/gwm.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int has_prefix(const char *s, const char *p) {
    return strncmp(s, p, strlen(p)) == 0;
}

static void print_meta_group(const gw_gwm *f, const char *title, const char *prefix) {
    int shown = 0;
    for (size_t i = 0; i < gw_gwm_meta_count(f); i++) {
        const char *k, *v;
        gw_gwm_meta_at(f, i, &k, &v);
        if (!has_prefix(k, prefix)) continue;
        if (!shown++) printf("%s:\n", title);
        printf("  %-24s %s\n", k + strlen(prefix), v);
    }
}

static void print_wavenet(const gw_wavenet *m, const gw_gwm *f) {
    const gw_wavenet_config *c = &m->cfg;
    int rf = gw_wavenet_receptive_field(c);
    printf("model:            WaveNet '%s'\n", c->name);
    const int sr = gw_wavenet_step_rate(c);
    if (c->distribution == GW_WAVENET_DIST_LOGISTIC)
        printf("sample rate:      %d Hz, %d PQMF band%s x %d logistics (16-bit), %d steps/s\n",
               c->sample_rate, c->bands, c->bands > 1 ? "s" : "", c->mixtures, sr);
    else
        printf("sample rate:      %d Hz, %d mu-law classes\n", c->sample_rate, c->classes);
    printf("layers:           %d stacks x %d, kernel %d, dilations", c->stacks, c->layers_per_stack,
           c->kernel);
    for (int l = 0; l < c->n_layers && l < c->layers_per_stack; l++) printf(" %d", c->dilations[l]);
    printf("%s\n", c->n_layers > c->layers_per_stack ? " (per stack)" : "");
    printf("channels:         residual %d, gate %d (x2), skip %d, head %d\n", c->residual, c->gate,
           c->skip, c->head);
    if (c->cond_dim > 0)
        printf("conditioning:     %d values (pitch features %d%s, velocity %s, instruments %d)\n",
               c->cond_dim, c->pitch_features,
               !c->pitch_features                              ? ""
               : c->pitch_encoding == GW_WAVENET_PITCH_HARMONIC ? " harmonic"
                                                               : " octave",
               c->velocity ? "yes" : "no", c->instruments);
    else
        printf("conditioning:     none\n");
    if (c->n_mels > 0) printf("local cond.:      %d mel bands, hop %d\n", c->n_mels, c->hop);
    printf("parameters:       %zu\n", gw_params_numel(m->params));
    const char *unit = c->bands > 1 ? "steps" : "samples";
    printf("receptive field:  %d %s (%.1f ms)\n", rf, unit, 1e3 * rf / sr);
    printf("cost:             %zu MAC per %s (%.2f GMAC per second of audio)\n",
           gw_wavenet_macs_per_sample(c), c->bands > 1 ? "step" : "generated sample",
           (double)gw_wavenet_macs_per_sample(c) * sr / 1e9);
    print_meta_group(f, "provenance", "train.");
    print_meta_group(f, "metrics", "metric.");
}

static void print_pixelcnn(const gw_pixelcnn_model *m, const gw_gwm *f) {
    const gw_pixelcnn_config *c = &m->net->cfg;
    const gw_specfeat_config *s = &c->feat;
    const int L = c->layers;
    char list[2048];
    printf("model:            Gated PixelCNN '%s'\n", c->name);
    printf("image:            %d frames x %d mel bands of 256 levels, generated frame by frame,\n"
           "                  low band to high band\n",
           c->height, c->width);
    printf("features:         %d Hz, clips of %d samples (%.3f s), n_fft %d, hop %d, %g-%g Hz\n",
           s->sample_rate, s->clip_samples, (double)s->clip_samples / s->sample_rate, s->n_fft,
           s->hop, (double)s->fmin, (double)s->fmax);
    printf("layers:           1 type A (vertical 4x7, horizontal 1x4) + %d type B (2x3, 1x2),\n"
           "                  %d channels, gated tanh*sigmoid; head %d -> 256 logits\n",
           L, c->channels, c->head);
    if (c->classes)
        printf("conditioning:     %d classes: %s\n", c->classes,
               gw_pixelcnn_model_class_list(m, list, sizeof list));
    else
        printf("conditioning:     none\n");
    printf("parameters:       %zu\n", gw_params_numel(m->net->params));
    printf("receptive field:  the %d frames before (bands +-%d) and %d bands below in the frame\n",
           4 + L, 3 + L, 4 + L);
    const size_t macs = gw_pixelcnn_macs_per_pixel(c);
    printf("cost:             %zu MAC per pixel, %.3f GMAC per image (a training forward)\n", macs,
           (double)macs * c->height * c->width / 1e9);
    print_meta_group(f, "provenance", "train.");
    print_meta_group(f, "metrics", "metric.");
}

/* --plan: what the planner measures for this model on this CPU */
static int print_plan(const gw_wavenet *m, int voices, int measure, int precision) {
    gw_wavenet_plan_options o;
    gw_wavenet_plan_options_default(&o);
    o.batch = voices;
    o.force_type = precision;
    char wisdom[4096];
    o.wisdom = gw_wisdom_path(wisdom, sizeof wisdom);
    if (measure && o.wisdom) unlink(o.wisdom), o.wisdom = gw_wisdom_path(wisdom, sizeof wisdom);
    gw_wavenet_plan p;
    gw_wavenet_plan_report r;
    gw_error err = {0};
    if (gw_wavenet_plan_choose(&p, m, &o, &r, &err)) return gw_cli_error(&err);
    if (r.notice[0]) fprintf(stderr, "genwave info: %s\n", r.notice);
    printf("plan for %d voice%s on %s%s:\n", o.batch, o.batch == 1 ? "" : "s", r.cpu,
           r.from_wisdom ? " (from the wisdom file; --measure times it again)" : "");
    printf("  %-28s %14s %14s %12s\n", "candidate", "1 voice ns", "batch ns", "score ns");
    for (int i = 0; i < r.n; i++) {
        char name[64];
        gw_wavenet_plan_name(&r.cand[i].plan, name, sizeof name);
        printf("  %-28s %14.0f %14.0f %12.0f%s\n", name, r.cand[i].ns_one, r.cand[i].ns_batch,
               r.cand[i].ns_one + r.cand[i].ns_batch, i == r.chosen ? "  <- chosen" : "");
    }
    if (!r.from_wisdom)
        printf("  %d rounds in %.0f ms%s%s\n", r.rounds, r.ms, o.wisdom ? "; remembered in " : "",
               o.wisdom ? o.wisdom : "");
    return 0;
}

int gw_cmd_info(int argc, char **argv) {
    const char *path = NULL;
    int plan = 0, measure = 0, voices = 8, precision = -1;
    for (int i = 1; i < argc; i++) {
        long x;
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            printf("usage: genwave info MODEL.gwm [--plan [--voices N] [--precision P] [--measure]]\n"
                   "  --plan        time the generation candidates on this CPU and show the\n"
                   "                choice play and the plugin make (read from the wisdom file\n"
                   "                when it was measured before; --measure times it again)\n");
            return 0;
        } else if (!strcmp(argv[i], "--plan")) {
            plan = 1;
        } else if (!strcmp(argv[i], "--measure")) {
            plan = measure = 1;
        } else if (!strcmp(argv[i], "--voices") && gw_cli_int(i + 1 < argc ? argv[i + 1] : NULL, 1, 256, &x)) {
            voices = (int)x, i++;
        } else if (!strcmp(argv[i], "--precision") && i + 1 < argc) {
            if (!gw_cli_precision(&precision, "info", argv[++i])) return 2;
        } else if (argv[i][0] != '-' && !path) {
            path = argv[i];
        } else {
            fprintf(stderr, "genwave info: unknown argument '%s'\n"
                            "usage: genwave info MODEL.gwm [--plan [--voices N] [--precision P] [--measure]]\n",
                    argv[i]);
            return 2;
        }
    }
    if (!path) {
        fprintf(stderr, "usage: genwave info MODEL.gwm [--plan [--voices N] [--precision P] [--measure]]\n");
        return 2;
    }
    argv[1] = (char *)path;
    gw_error err = {0};
    gw_gwm *f = NULL;
    if (gw_gwm_open(&f, argv[1], &err)) {
        fprintf(stderr, "genwave: %s\n", err.msg);
        return 1;
    }
    const char *kind = gw_gwm_meta(f, "model");
    int rc = 0;
    printf("file:             %s\n", argv[1]);
    if (kind && !strcmp(kind, GW_WAVENET_KIND)) {
        gw_wavenet *m = NULL;
        if (gw_wavenet_from_gwm(&m, f, &err)) {
            fprintf(stderr, "genwave: %s\n", err.msg);
            rc = 1;
        } else {
            print_wavenet(m, f);
            if (plan) rc = print_plan(m, voices, measure, precision);
        }
        gw_wavenet_free(m);
    } else if (kind && !strcmp(kind, GW_PIXELCNN_KIND) && !plan) {
        gw_pixelcnn_model m;
        if (gw_pixelcnn_model_from_gwm(&m, f, &err)) {
            fprintf(stderr, "genwave: %s\n", err.msg);
            rc = 1;
        } else {
            print_pixelcnn(&m, f);
        }
        gw_pixelcnn_model_free(&m);
    } else if (plan) {
        fprintf(stderr, "genwave: %s: --plan is for WaveNet models (this is '%s')\n", path,
                kind ? kind : "?");
        rc = 1;
    } else { /* another kind: show what the file says about itself */
        printf("model:            %s\n", kind ? kind : "(no 'model' metadata)");
        for (size_t i = 0; i < gw_gwm_meta_count(f); i++) {
            const char *k, *v;
            gw_gwm_meta_at(f, i, &k, &v);
            printf("  %-24s %.200s%s\n", k, v, strlen(v) > 200 ? " ..." : "");
        }
        size_t total = 0;
        for (size_t i = 0; i < gw_gwm_count(f); i++) total += gw_gwm_at(f, i)->numel;
        printf("tensors:          %zu (%zu values)\n", gw_gwm_count(f), total);
    }
    gw_gwm_free(f);
    return rc;
}
