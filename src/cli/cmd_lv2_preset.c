/* genwave lv2-preset MODEL.gwm [--name NAME] [--dir DIR]: an LV2 user
 * preset of the genwave.lv2 instrument whose state names the model, so any
 * LV2 host can choose a trained model: every host lists presets, while only
 * some show a plugin's file parameters (issue "Your own sounds": in Carla
 * or a console host the model parameter showed as a number). The bundle
 * goes where hosts look for the user's presets, ~/.lv2 (or --dir), as
 * genwave-NAME.preset.lv2/{manifest.ttl, NAME.ttl}; the state is the one
 * the plugin's own save() writes (plugin/genwave.c, the model path as a
 * file URI). */
#include "base/gw_base.h"
#include "cli/args.h"
#include "models/wavenet_file.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GW_LV2_URI "urn:genwave:synth"

static void usage(FILE *f) {
    fprintf(f, "usage: genwave lv2-preset MODEL.gwm [--name NAME] [--dir DIR]\n"
               "Writes an LV2 preset of the genwave instrument that loads MODEL.gwm, so any LV2\n"
               "host (Ardour, Carla, jalv, ...) lists it among the plugin's presets.\n"
               "  --name NAME   the preset's name in hosts (default: the model file's name)\n"
               "  --dir DIR     the LV2 folder to write the bundle into (default ~/.lv2)\n");
}

/* a file: URI of an absolute path, bytes outside the unreserved set %-escaped */
static void file_uri(char *out, size_t cap, const char *path) {
    size_t k = (size_t)snprintf(out, cap, "file://");
    for (const unsigned char *p = (const unsigned char *)path; *p && k + 4 < cap; p++) {
        if (isalnum(*p) || strchr("/-._~", *p))
            out[k++] = (char)*p;
        else
            k += (size_t)snprintf(out + k, cap - k, "%%%02X", *p);
    }
    out[k] = 0;
}

/* a Turtle string literal's contents: quotes, backslashes and control bytes escaped */
static void ttl_string(char *out, size_t cap, const char *s) {
    size_t k = 0;
    for (; *s && k + 8 < cap; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            out[k++] = '\\', out[k++] = (char)c;
        else if (c < 0x20)
            k += (size_t)snprintf(out + k, cap - k, "\\u%04X", c);
        else
            out[k++] = (char)c;
    }
    out[k] = 0;
}

static gw_status write_text(const char *path, const char *text, gw_error *err) {
    gw_afile af;
    gw_status st = gw_afile_open(&af, path, err);
    if (st) return st;
    fputs(text, af.fp);
    return gw_afile_commit(&af, err);
}

int gw_cmd_lv2_preset(int argc, char **argv) {
    const char *model = NULL, *name = NULL, *dir = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(argv[i], "--name") && i + 1 < argc && *argv[i + 1]) {
            name = argv[++i];
        } else if (!strcmp(argv[i], "--dir") && i + 1 < argc && *argv[i + 1]) {
            dir = argv[++i];
        } else if (argv[i][0] != '-' && !model) {
            model = argv[i];
        } else {
            return gw_cli_unexpected("lv2-preset", argv[i], usage);
        }
    }
    if (!model) {
        usage(stderr);
        return 2;
    }
    gw_error err = {0};
    char real[PATH_MAX];
    if (!realpath(model, real)) {
        fprintf(stderr, "genwave: %s: cannot open: %s\n", model, strerror(errno));
        return 1;
    }
    gw_wavenet *m = NULL; /* the plugin must be able to play it */
    if (gw_wavenet_load(&m, real, &err)) return gw_cli_error(&err);
    const int vocoder = m->cfg.n_mels > 0;
    gw_wavenet_free(m);
    if (vocoder) {
        fprintf(stderr,
                "genwave: %s: is a vocoder WaveNet (mel input); the instrument plays notes\n",
                model);
        return 1;
    }
    char def_name[256], slug[256], lv2dir[4096], bundle[4400], path[4600];
    if (!name) { /* the file's name without .gwm */
        const char *base = strrchr(real, '/') ? strrchr(real, '/') + 1 : real;
        snprintf(def_name, sizeof def_name, "%.200s", base);
        char *dot = strrchr(def_name, '.');
        if (dot && !strcmp(dot, ".gwm")) *dot = 0;
        name = def_name;
    }
    size_t k = 0; /* a file-name-safe form of the name */
    for (const char *p = name; *p && k + 1 < sizeof slug; p++)
        slug[k++] = isalnum((unsigned char)*p) || *p == '-' || *p == '_' ? *p : '-';
    slug[k] = 0;
    if (!dir) {
        const char *home = getenv("HOME");
        if (!home || !*home) {
            fprintf(stderr, "genwave: no HOME to find ~/.lv2 in; give --dir DIR\n");
            return 1;
        }
        snprintf(lv2dir, sizeof lv2dir, "%s/.lv2", home);
        dir = lv2dir;
    }
    snprintf(bundle, sizeof bundle, "%s/genwave-%s.preset.lv2", dir, slug);
    if (gw_mkdirs(bundle, "preset bundle", &err)) return gw_cli_error(&err);
    char uri[8192], label[1024], text[16384];
    file_uri(uri, sizeof uri, real);
    ttl_string(label, sizeof label, name);
    static const char *prefixes = "@prefix lv2: <http://lv2plug.in/ns/lv2core#> .\n"
                                  "@prefix pset: <http://lv2plug.in/ns/ext/presets#> .\n"
                                  "@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .\n";
    snprintf(text, sizeof text,
             "%s\n<%s.ttl>\n\ta pset:Preset ;\n\tlv2:appliesTo <%s> ;\n\trdfs:seeAlso <%s.ttl> .\n",
             prefixes, slug, GW_LV2_URI, slug);
    snprintf(path, sizeof path, "%s/manifest.ttl", bundle);
    if (write_text(path, text, &err)) return gw_cli_error(&err);
    snprintf(text, sizeof text,
             "%s@prefix state: <http://lv2plug.in/ns/ext/state#> .\n\n<>\n\ta pset:Preset ;\n"
             "\tlv2:appliesTo <%s> ;\n\trdfs:label \"%s\" ;\n"
             "\tstate:state [\n\t\t<%s#model> <%s>\n\t] .\n",
             prefixes, GW_LV2_URI, label, GW_LV2_URI, uri);
    snprintf(path, sizeof path, "%.4300s/%.200s.ttl", bundle, slug);
    if (write_text(path, text, &err)) return gw_cli_error(&err);
    printf("%s: LV2 preset '%s' of %s, playing %s\n", bundle, name, GW_LV2_URI, real);
    return 0;
}
