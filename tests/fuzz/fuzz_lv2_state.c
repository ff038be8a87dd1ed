/* libFuzzer target: the LV2 plugin's state restore (plugin/genwave.c,
 * restore() of LV2_State_Interface), compiled in here so the fuzzer sees its
 * coverage. A host hands restore() whatever a saved session holds: a value
 * of any type and size for the model property, and a path to any file. Each
 * input is one session:
 *   byte 0, flags: 1 the state has a model value; 2 it is typed atom:Path
 *                  (else atom:String); 4 the host maps paths (mapPath);
 *                  8 the value names a model file made of the remaining
 *                  bytes (else the remaining bytes are the value itself);
 *                  16 that file is "repaired" first (gw_gwm_fix_checksums,
 *                  as in fuzz_gwm, so mutations pass the CRCs);
 *                  bits 5-6 the host rate: 48000, 44100, 8000, 96000 Hz
 *   byte 1..       the value, or the model file's bytes
 * The plugin is instantiated, restored, activated and run for 256 frames
 * with a note held, then cleaned up. It must never crash or leak, log only
 * whole lines, and play finite samples. */
#include "../../plugin/genwave.c"

#include "nn/gwm.h"

#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

enum { FZ_URIS = 64, FZ_LOG = 4096 };

typedef struct fz_host {
    char uris[FZ_URIS][128];
    int n_uris;
    char log[FZ_LOG];
    size_t log_n;
    const char *value;
    size_t value_size;
    uint32_t value_type;
} fz_host;

static LV2_URID fz_map(LV2_URID_Map_Handle h, const char *uri) {
    fz_host *H = h;
    for (int i = 0; i < H->n_uris; i++)
        if (!strcmp(H->uris[i], uri)) return (LV2_URID)i + 1;
    if (H->n_uris == FZ_URIS || strlen(uri) >= sizeof H->uris[0]) abort();
    snprintf(H->uris[H->n_uris], sizeof H->uris[0], "%s", uri);
    return (LV2_URID)++H->n_uris;
}

static int fz_vprintf(LV2_Log_Handle h, LV2_URID type, const char *fmt, va_list ap) {
    (void)type;
    fz_host *H = h;
    char line[2048];
    int n = vsnprintf(line, sizeof line, fmt, ap);
    /* one message, one line, ending in a newline */
    size_t len = n < 0 ? 0 : (size_t)n < sizeof line ? (size_t)n : sizeof line - 1;
    const char *nl = strchr(line, '\n');
    if (len == 0 || (len == (size_t)n && nl != line + len - 1) || (nl && nl != line + len - 1))
        fprintf(stderr, "log message is not one line: '%s'\n", line), abort();
    size_t room = sizeof H->log - H->log_n;
    if (room > 1) H->log_n += (size_t)snprintf(H->log + H->log_n, room, "%s", line) % room;
    return n;
}

static int fz_printf(LV2_Log_Handle h, LV2_URID type, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = fz_vprintf(h, type, fmt, ap);
    va_end(ap);
    return n;
}

static const void *fz_retrieve(LV2_State_Handle h, uint32_t key, size_t *size, uint32_t *type,
                               uint32_t *flags) {
    const fz_host *H = h;
    (void)key;
    *flags = LV2_STATE_IS_POD | LV2_STATE_IS_PORTABLE;
    if (!H->value) return NULL;
    *size = H->value_size;
    *type = H->value_type;
    return H->value;
}

/* mapPath: abstract paths are the absolute ones with "fz:" in front */
static char *fz_abstract(LV2_State_Map_Path_Handle h, const char *path) {
    (void)h;
    char *s = malloc(strlen(path) + 4);
    if (s) sprintf(s, "fz:%s", path);
    return s;
}

static char *fz_absolute(LV2_State_Map_Path_Handle h, const char *path) {
    (void)h;
    return strdup(strncmp(path, "fz:", 3) ? path : path + 3);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static char dir[64], bundle[80];
    if (!dir[0]) { /* an empty bundle (no default model) beside the model files */
        snprintf(dir, sizeof dir, "/tmp/gw-fuzz-lv2-XXXXXX");
        if (!mkdtemp(dir)) abort();
        snprintf(bundle, sizeof bundle, "%s/genwave.lv2", dir);
        char wisdom[96];
        snprintf(wisdom, sizeof wisdom, "%s/wisdom", dir); /* not the user's */
        if (mkdir(bundle, 0700) || setenv("GW_WISDOM", wisdom, 1)) abort();
    }
    if (size < 1) return 0;
    const unsigned flags = data[0];
    static const double rates[4] = {48000, 44100, 8000, 96000};
    fz_host *H = calloc(1, sizeof *H);
    if (!H) return 0;
    LV2_URID_Map map = {H, fz_map};
    LV2_Log_Log log = {H, fz_printf, fz_vprintf};
    LV2_State_Map_Path mp = {NULL, fz_abstract, fz_absolute};
    const LV2_Feature f_map = {LV2_URID__map, &map}, f_log = {LV2_LOG__log, &log},
                      f_path = {LV2_STATE__mapPath, &mp};
    const LV2_Feature *inst_features[] = {&f_map, &f_log, NULL};
    const LV2_Feature *state_features[] = {(flags & 4) ? &f_path : NULL, NULL};

    char model[96], value[128];
    uint8_t *bytes = NULL;
    if (flags & 1) {
        if (flags & 8) { /* the value names a file of the remaining bytes */
            size_t n = size - 1;
            bytes = malloc(n ? n : 1);
            if (!bytes) goto done;
            if (n) memcpy(bytes, data + 1, n);
            if (flags & 16) gw_gwm_fix_checksums(bytes, n);
            snprintf(model, sizeof model, "%s/model.gwm", dir);
            FILE *f = fopen(model, "wb");
            if (!f || (n && fwrite(bytes, 1, n, f) != n) || fclose(f)) abort();
            int len = snprintf(value, sizeof value, "%s%s", (flags & 4) ? "fz:" : "", model);
            H->value = value, H->value_size = (size_t)len + 1;
        } else { /* the value is the bytes themselves, NUL or not */
            H->value = (const char *)data + 1, H->value_size = size - 1;
        }
    }
    H->value_type = fz_map(H, (flags & 2) ? LV2_ATOM__Path : LV2_ATOM__String);

    const LV2_Descriptor *d = lv2_descriptor(0);
    LV2_Handle p = d->instantiate(d, rates[(flags >> 5) & 3], bundle, inst_features);
    if (!p) fprintf(stderr, "instantiate failed: %s\n", H->log), abort();
    const LV2_State_Interface *state = d->extension_data(LV2_STATE__interface);
    state->restore(p, fz_retrieve, H, 0, state_features);

    /* a note held for a block: whatever loaded must play */
    float out[256], ctl[GWP_PORT_COUNT];
    for (int i = 0; i < GWP_PORT_COUNT; i++)
        ctl[i] = NAN; /* unset: each control's default */
    struct {
        LV2_Atom_Sequence seq;
        LV2_Atom_Event ev;
        uint8_t msg[8];
    } in = {0};
    in.seq.atom.type = fz_map(H, LV2_ATOM__Sequence);
    in.seq.atom.size = sizeof in.seq.body + sizeof in.ev + 8;
    in.ev.time.frames = 0;
    in.ev.body.type = fz_map(H, LV2_MIDI__MidiEvent);
    in.ev.body.size = 3;
    in.msg[0] = 0x90, in.msg[1] = 60, in.msg[2] = 100;
    d->connect_port(p, GWP_PORT_CONTROL, &in);
    d->connect_port(p, GWP_PORT_NOTIFY, NULL);
    d->connect_port(p, GWP_PORT_OUT, out);
    for (uint32_t i = GWP_PORT_GAIN; i < GWP_PORT_COUNT; i++)
        d->connect_port(p, i, &ctl[i]);
    d->activate(p);
    d->run(p, 256);
    for (int i = 0; i < 256; i++)
        if (!isfinite(out[i])) fprintf(stderr, "non-finite output at %d\n", i), abort();
    if (getenv("GW_FUZZ_VERBOSE")) { /* what a reproducer did, for a person */
        float peak = 0;
        for (int i = 0; i < 256; i++)
            peak = fmaxf(peak, fabsf(out[i]));
        fprintf(stderr, "flags 0x%02x: peak %g; log:\n%s", flags, (double)peak, H->log);
    }
    d->deactivate(p);
    d->cleanup(p);
done:
    free(bytes);
    free(H);
    return 0;
}
