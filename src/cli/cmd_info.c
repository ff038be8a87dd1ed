/* genwave info MODEL.gwm: what a model file holds. A WaveNet gets its
 * architecture, parameter count, receptive field, cost per sample, sample
 * rate, provenance and recorded metrics; any other .gwm gets its metadata
 * and tensor table. */
#include "base/gw_base.h"
#include "models/wavenet.h"
#include "models/wavenet_file.h"
#include "nn/gwm.h"

#include <stdio.h>
#include <string.h>

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
    printf("receptive field:  %d samples (%.1f ms)\n", rf, 1e3 * rf / c->sample_rate);
    printf("cost:             %zu MAC per generated sample (%.2f GMAC per second of audio)\n",
           gw_wavenet_macs_per_sample(c),
           (double)gw_wavenet_macs_per_sample(c) * c->sample_rate / 1e9);
    print_meta_group(f, "provenance", "train.");
    print_meta_group(f, "metrics", "metric.");
}

int gw_cmd_info(int argc, char **argv) {
    if (argc != 2 || argv[1][0] == '-') {
        int help = argc == 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"));
        fprintf(help ? stdout : stderr, "usage: genwave info MODEL.gwm\n");
        return help ? 0 : 2;
    }
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
        }
        gw_wavenet_free(m);
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
