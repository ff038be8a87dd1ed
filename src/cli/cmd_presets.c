/* genwave presets [--dir DIR] [FILE.json ...]: one line per preset (name,
 * kind, summary), after checking each with the parser that will use it:
 * architecture presets go through the model's own config parser (so a typo
 * that would stop `genwave train` is reported here first), synth presets
 * (presets/synth/NAME.json, docs/presets.md) through the checks below, whose
 * ranges are the engine's parameter ranges (engine/gw_engine.h).
 *
 * A malformed preset is reported on stderr as "genwave: FILE:LINE:COL:
 * problem" (io/json.h) or "genwave: FILE: key 'K' ..." and makes the exit
 * code 1; the others are still listed. */
#include "base/gw_base.h"
#include "cli/args.h"
#include "io/json.h"
#include "models/specgan.h"
#include "models/pixelcnn.h"
#include "models/specvae.h"
#include "models/wavenet.h"
#include "train/wavenet_trainer.h"

#include <dirent.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

enum { SUMMARY_MAX = 256 };

static void usage(FILE *f) {
    fprintf(f,
            "usage: genwave presets [--dir DIR] [FILE.json ...]\n"
            "Lists every preset (DIR/*.json and DIR/synth/*.json) with its name, kind and a\n"
            "one-line summary, checking each; FILE arguments check just those files.\n"
            "DIR defaults to the first of $GW_PRESETS_DIR, ./presets, the presets/ folder\n"
            "beside or above the executable, $GW_SOURCE_DIR/presets.\n"
            "Exit code 1 when any preset is malformed (each is named on stderr).\n");
}

static int is_dir(const char *p) {
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

/* The folder `--preset NAME` searches (gw_cli_find_preset's order), found
 * through a reference preset every install ships, so the two never differ. */
static int find_presets_dir(char *out, size_t cap) {
    gw_error err = {0};
    if (gw_cli_find_preset(out, cap, "wavenet-small", &err)) return 0;
    char *slash = strrchr(out, '/');
    if (slash) *slash = 0;
    else snprintf(out, cap, ".");
    return 1;
}

static int ends_with(const char *s, const char *suffix) {
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && !strcmp(s + a - b, suffix);
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* DIR/<name>.json for every regular .json file, sorted; appended to *list */
static gw_status list_json(char ***list, size_t *n, size_t *cap, const char *dir, gw_error *err) {
    DIR *d = opendir(dir);
    if (!d) return GW_OK; /* presets/synth may be absent */
    gw_status st = GW_OK;
    size_t first = *n;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.' || !ends_with(e->d_name, ".json")) continue;
        size_t len = strlen(dir) + strlen(e->d_name) + 2;
        char *p = malloc(len);
        if (!p) {
            st = gw_fail(err, GW_ERR_NOMEM, "%s: out of memory listing presets", dir);
            break;
        }
        snprintf(p, len, "%s/%s", dir, e->d_name);
        struct stat sb;
        if (stat(p, &sb) || !S_ISREG(sb.st_mode)) {
            free(p);
            continue;
        }
        if (*n == *cap) {
            size_t nc = *cap ? 2 * *cap : 32;
            char **grown = realloc(*list, nc * sizeof *grown);
            if (!grown) {
                free(p);
                st = gw_fail(err, GW_ERR_NOMEM, "%s: out of memory listing presets", dir);
                break;
            }
            *list = grown, *cap = nc;
        }
        (*list)[(*n)++] = p;
    }
    closedir(d);
    if (*n - first > 1) qsort(*list + first, *n - first, sizeof **list, cmp_str);
    return st;
}

/* name shown and passed to --preset: the file name without .json */
static void stem_of(char *out, size_t cap, const char *path) {
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    snprintf(out, cap, "%s", base);
    size_t len = strlen(out);
    if (len > 5 && !strcmp(out + len - 5, ".json")) out[len - 5] = 0;
}

static void summarize_wavenet(char *s, size_t cap, const gw_wavenet_config *c) {
    int rf = gw_wavenet_receptive_field(c);
    char cond[96];
    if (c->n_mels > 0)
        snprintf(cond, sizeof cond, "vocoder on %d mel bands (hop %d)", c->n_mels, c->hop);
    else if (c->cond_dim > 0)
        snprintf(cond, sizeof cond, "conditioned on %s%s%s", c->pitch_features ? "pitch" : "",
                 c->velocity ? (c->pitch_features ? "+velocity" : "velocity") : "",
                 c->instruments ? "+instrument" : "");
    else
        snprintf(cond, sizeof cond, "unconditioned");
    const int sr = gw_wavenet_step_rate(c);
    char out[64] = "";
    if (c->distribution == GW_WAVENET_DIST_LOGISTIC)
        snprintf(out, sizeof out, " in %d band%s (16-bit logistics)", c->bands,
                 c->bands > 1 ? "s" : "");
    snprintf(s, cap, "%g kHz%s, %d x %d layers, %d residual channels, receptive field %d (%.0f ms), %s, %.2f GMAC per s of audio",
             c->sample_rate / 1000.0, out, c->stacks, c->layers_per_stack, c->residual, rf,
             1e3 * rf / sr, cond, (double)gw_wavenet_macs_per_sample(c) * sr / 1e9);
}

static int widths(char *s, size_t cap, const gw_specnet_shape *sh) {
    int w = 0;
    for (int i = 0; i < sh->L && w < (int)cap; i++)
        w += snprintf(s + w, cap - (size_t)w, "%s%d", i ? "-" : "", sh->ch[i]);
    return w;
}

static void summarize_feat(char *s, size_t cap, const gw_specfeat_config *f) {
    snprintf(s, cap, "%g kHz clips of %d samples as %d mels x %d frames", f->sample_rate / 1000.0,
             f->clip_samples, f->n_mels, f->frames);
}

/* Synth presets: the keys plugin/CMakeLists.txt turns into LV2 presets;
 * envelope times may also sit in a nested "envelope" object. */
typedef struct synth_preset {
    const char *name, *description, *model;
    double gain_db, temperature, attack_ms, release_ms, bend_range;
    double highpass; /* key-tracked low cut, x the fundamental; 0 (off) when absent */
    int voices;
} synth_preset;

static gw_status parse_synth(synth_preset *p, const cJSON *root, const char *path, gw_error *err) {
    static const char *const keys[] = {"kind",    "name",        "description", "model",
                                       "gain_db", "temperature", "attack_ms",   "release_ms",
                                       "voices",  "bend_range",  "envelope",    "highpass"};
    static const char *const env_keys[] = {"attack_ms", "release_ms"};
    gw_status st;
    if ((st = gw_json_check_keys(root, NULL, keys, 12, path, err))) return st;
    const cJSON *env = gw_json_find(root, "envelope");
    if (env && !cJSON_IsObject(env))
        return gw_fail(err, GW_ERR_FORMAT, "%s: key 'envelope' must be an object", path);
    if (env && (st = gw_json_check_keys(root, "envelope", env_keys, 2, path, err))) return st;
    if ((st = gw_json_str(&p->name, root, "name", 1, NULL, path, err))) return st;
    if ((st = gw_json_str(&p->description, root, "description", 1, "", path, err))) return st;
    if ((st = gw_json_str(&p->model, root, "model", 0, NULL, path, err))) return st;
    if (!*p->model) return gw_fail(err, GW_ERR_FORMAT, "%s: key 'model' is empty", path);
    /* ranges: GW_ENGINE_PARAM_* (gain 0..4 linear is at most +12 dB) */
    if ((st = gw_json_num(&p->gain_db, root, "gain_db", -60, 12, 1, 0, path, err))) return st;
    if ((st = gw_json_num(&p->temperature, root, "temperature", 0, 4, 1, 1, path, err))) return st;
    const char *ak = gw_json_find(root, "envelope.attack_ms") ? "envelope.attack_ms" : "attack_ms";
    const char *rk =
        gw_json_find(root, "envelope.release_ms") ? "envelope.release_ms" : "release_ms";
    if ((st = gw_json_num(&p->attack_ms, root, ak, 0.5, 10000, 1, 5, path, err))) return st;
    if ((st = gw_json_num(&p->release_ms, root, rk, 0.5, 10000, 1, 60, path, err))) return st;
    /* 32: the plugin's most (plugin/genwave.c GWP_MAX_VOICES, genwave.ttl) */
    if ((st = gw_json_int(&p->voices, root, "voices", 1, 32, 1, 16, path, err))) return st;
    if ((st = gw_json_num(&p->bend_range, root, "bend_range", 0, 24, 1, 2, path, err))) return st;
    if ((st = gw_json_num(&p->highpass, root, "highpass", 0, 1, 1, 0, path, err))) return st;
    return GW_OK;
}

/* checks one preset and describes it; *kind points to a static string */
static gw_status describe(const char *path, const char **kind, char *summary, size_t cap,
                          gw_error *err) {
    cJSON *root = NULL;
    gw_status st = gw_json_load(&root, path, err);
    if (st) return st;
    if (!cJSON_IsObject(root)) {
        st = gw_fail(err, GW_ERR_FORMAT, "%s: a preset must be a JSON object", path);
        goto done;
    }
    const char *k = NULL, *model = NULL;
    if ((st = gw_json_str(&k, root, "kind", 1, NULL, path, err))) goto done;
    if (!k && (st = gw_json_str(&model, root, "model", 1, NULL, path, err))) goto done;
    if (k && !strcmp(k, "synth")) {
        synth_preset p;
        if ((st = parse_synth(&p, root, path, err))) goto done;
        *kind = "synth";
        char low_cut[48] = ""; /* shown only when on, so the others read as before */
        if (p.highpass > 0) snprintf(low_cut, sizeof low_cut, ", highpass %g x f0", p.highpass);
        snprintf(
            summary, cap,
            "model %s, gain %+g dB, temperature %g, attack %g ms, release %g ms, %d voices%s%s%s",
            p.model, p.gain_db, p.temperature, p.attack_ms, p.release_ms, p.voices, low_cut,
            *p.description ? ": " : "", p.description);
    } else if (k) {
        st = gw_fail(err, GW_ERR_FORMAT, "%s: unknown kind '%s' (synth presets say \"kind\": \"synth\")",
                     path, k);
    } else if (!model) {
        st = gw_fail(err, GW_ERR_FORMAT,
                     "%s: neither \"model\" (wavenet, specgan, specvae, pixelcnn) nor \"kind\": \"synth\"",
                     path);
    } else if (!strcmp(model, "wavenet")) {
        gw_wavenet_config c;
        char *text = cJSON_PrintUnformatted(root);
        if (!text) {
            st = gw_fail(err, GW_ERR_NOMEM, "%s: out of memory", path);
            goto done;
        }
        st = gw_wavenet_config_parse(&c, text, path, err);
        cJSON_free(text);
        if (st) goto done;
        *kind = "wavenet";
        summarize_wavenet(summary, cap, &c);
    } else if (!strcmp(model, "specgan")) {
        gw_specgan_config c;
        if ((st = gw_specgan_config_from_json(&c, root, path, err))) goto done;
        *kind = "specgan";
        char feat[128], g[64];
        summarize_feat(feat, sizeof feat, &c.feat);
        widths(g, sizeof g, &c.g);
        snprintf(summary, cap, "%s, z %d, generator %s, %s loss%s", feat, c.z_dim, g,
                 gw_gan_loss_name(c.loss), c.spectral_norm ? ", spectral norm" : "");
    } else if (!strcmp(model, "specvae")) {
        gw_specvae_config c;
        if ((st = gw_specvae_config_from_json(&c, root, path, err))) goto done;
        *kind = "specvae";
        char feat[128], e[64];
        summarize_feat(feat, sizeof feat, &c.feat);
        widths(e, sizeof e, &c.enc);
        snprintf(summary, cap, "%s, z %d, encoder %s, beta %g", feat, c.z_dim, e, c.beta);
    } else if (!strcmp(model, GW_PIXELCNN_KIND)) {
        gw_pixelcnn_config c;
        if ((st = gw_pixelcnn_config_from_json(&c, root, path, err))) goto done;
        *kind = "pixelcnn";
        char feat[128];
        summarize_feat(feat, sizeof feat, &c.feat);
        snprintf(summary, cap, "%s, gated, %d layers of %d channels%s, %.2f MMAC per image", feat,
                 c.layers + 1, c.channels, c.classes ? ", class-conditioned" : "",
                 (double)gw_pixelcnn_macs_per_pixel(&c) * c.height * c.width / 1e6);
    } else {
        st = gw_fail(err, GW_ERR_FORMAT,
                     "%s: unknown model '%s' (expected wavenet, specgan, specvae or pixelcnn)",
                     path, model);
    }
done:
    cJSON_Delete(root);
    return st;
}

int gw_cmd_presets(int argc, char **argv) {
    const char *dir = NULL;
    char **files = NULL;
    size_t n = 0, cap = 0;
    int explicit = 0, rc = 0;
    gw_error err = {0};
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(argv[i], "--dir") && i + 1 < argc) {
            dir = argv[++i];
        } else if (argv[i][0] == '-') {
            fprintf(stderr, "genwave presets: unknown option '%s'\n", argv[i]);
            usage(stderr);
            return 2;
        } else {
            explicit = 1;
        }
    }
    char found[PATH_MAX + 64], synth[PATH_MAX + 80];
    if (explicit) {
        files = malloc((size_t)argc * sizeof *files);
        if (!files) return 1;
        for (int i = 1; i < argc; i++) {
            if (!strcmp(argv[i], "--dir")) {
                i++;
                continue;
            }
            if (!(files[n] = strdup(argv[i]))) {
                rc = 1;
                goto done;
            }
            n++;
        }
    } else {
        if (!dir) {
            if (!find_presets_dir(found, sizeof found)) {
                fprintf(stderr, "genwave: no presets folder found (looked in $GW_PRESETS_DIR, "
                                "./presets, beside and above the executable and in "
                                "$GW_SOURCE_DIR/presets); use --dir DIR\n");
                return 1;
            }
            dir = found;
        } else if (!is_dir(dir)) {
            fprintf(stderr, "genwave: %s: not a folder\n", dir);
            return 1;
        }
        snprintf(synth, sizeof synth, "%s/synth", dir);
        if (list_json(&files, &n, &cap, dir, &err) || list_json(&files, &n, &cap, synth, &err)) {
            rc = gw_cli_error(&err);
            goto done;
        }
        if (!n) {
            fprintf(stderr, "genwave: %s: no presets (*.json) in this folder\n", dir);
            rc = 1;
            goto done;
        }
    }
    for (size_t i = 0; i < n; i++) {
        const char *kind = "?";
        char summary[SUMMARY_MAX + 256], name[256];
        stem_of(name, sizeof name, files[i]);
        err = (gw_error){0};
        if (describe(files[i], &kind, summary, sizeof summary, &err)) {
            fflush(stdout);
            gw_cli_error(&err);
            rc = 1;
            continue;
        }
        printf("%-22s %-8s %s\n", name, kind, summary);
    }
done:
    for (size_t i = 0; i < n; i++) free(files[i]);
    free(files);
    return rc;
}
