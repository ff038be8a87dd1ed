/* genwave.c - genwave as an LV2 instrument (lv2:InstrumentPlugin): MIDI in,
 * polyphonic WaveNet out, on the real-time engine (src/engine/gw_engine.h).
 * docs/plugin.md tells how to use it; genwave.ttl describes the ports.
 *
 * Threads (LV2 threading classes, written above every callback):
 *   instantiation  instantiate, activate, deactivate, cleanup, restore
 *   audio          run, work_response
 *   worker         work: loads .gwm files into banks (an engine each),
 *                  frees the banks run() no longer plays
 *   save           save: may run beside run(), so it reads the current
 *                  model path through a sequence-checked double buffer
 *
 * The model is the patch:writable parameter genwave:model (an atom:Path).
 * A patch:Set of it in run() only schedules a request; the worker loads the
 * file (gw_wavenet_load) and builds a "bank" around it: an engine of its own
 * (gw_engine_create, everything for GWP_MAX_VOICES voices allocated there)
 * at the host's rate: the engine's own sinc resampler (engine/sinc.h) takes
 * the model's samples there, as it does for `play` and `render`. The MIDI
 * meaning is the engine's too (gw_midi_map). work_response makes the new
 * bank the playing one: the held notes restart on it (gw_midi_map_replay)
 * while the old bank fades out over GWP_FADE_MS, and the old bank goes back
 * to the worker to be freed. A whole engine per model (not
 * gw_engine_swap_model) so that models of any rate can follow each other.
 * Nothing in run() allocates, locks, logs or touches a file; denormals are
 * flushed (MXCSR FTZ/DAZ) for the whole of run() (the engine does the same
 * inside gw_engine_process).
 *
 * instantiate (the bundled default) and restore (a saved session or preset)
 * load in place: the LV2 threading rules keep them apart from run(). So a
 * host without work:schedule (lv2bench, minimal hosts) still plays the
 * default model and restores sessions; only patch:Set needs the worker.
 *
 * Events are sample-accurate: run() renders up to each event's frame and
 * sends the event stamped with that frame (gw_engine_event.frame), which the
 * engine applies at the model sample that frame maps to, whatever its
 * resampler has buffered: the delay from an event to its sound is the
 * resampler's, constant at any block size (the latency port reports it).
 */
#include "engine/gw_engine.h"
#include "models/wavenet_file.h"

#include <dirent.h>
#include <dlfcn.h>
#if defined(__SSE__)
#endif
#include <math.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <lv2/atom/atom.h>
#include <lv2/atom/forge.h>
#include <lv2/atom/util.h>
#include <lv2/buf-size/buf-size.h>
#include <lv2/core/lv2.h>
#include <lv2/core/lv2_util.h>
#include <lv2/log/log.h>
#include <lv2/log/logger.h>
#include <lv2/midi/midi.h>
#include <lv2/options/options.h>
#include <lv2/patch/patch.h>
#include <lv2/state/state.h>
#include <lv2/urid/urid.h>
#include <lv2/worker/worker.h>

#define GWP_URI           "urn:genwave:synth"
#define GWP_MODEL_URI     GWP_URI "#model"
#define GWP_DEFAULT_MODEL "default.gwm"

enum {
    GWP_MAX_VOICES = 32,  /* the engine is sized for this; the voices port limits held notes */
    GWP_MAX_BLOCK = 1024, /* engine block; longer host blocks are rendered in pieces */
    GWP_PATH_MAX = 4096,
    GWP_GRAVEYARD = 8,
    GWP_FADE_MS = 10, /* crossfade when a model replaces another */
};

/* ports, in genwave.ttl's order */
typedef enum gwp_port {
    GWP_PORT_CONTROL = 0, /* atom:Sequence in: MIDI and patch messages */
    GWP_PORT_NOTIFY = 1,  /* atom:Sequence out: patch:Set of the model path */
    GWP_PORT_OUT = 2,     /* audio out, mono */
    GWP_PORT_GAIN = 3,    /* dB */
    GWP_PORT_TEMPERATURE = 4,
    GWP_PORT_ATTACK = 5,     /* ms */
    GWP_PORT_RELEASE = 6,    /* ms */
    GWP_PORT_VOICES = 7,     /* most notes held at once */
    GWP_PORT_BEND_RANGE = 8, /* semitones at full pitch-bend */
    GWP_PORT_LATENCY = 9,    /* out: frames */
    GWP_PORT_LOAD = 10,      /* out: % of the block period spent generating */
    GWP_PORT_HIGHPASS = 11,  /* key-tracked low cut, x the fundamental (0 = off); appended
                                after the first release's ports so their indices stay */
    GWP_PORT_COUNT = 12,
} gwp_port;

/* the controls the engine smooths: gain, temperature, attack, release,
 * highpass (gwp_send_params) */
enum { GWP_N_PARAMS = 5 };

typedef struct gwp_uris {
    LV2_URID atom_path, atom_urid, atom_sequence, atom_blank, atom_object, atom_event_transfer;
    LV2_URID midi_event;
    LV2_URID patch_get, patch_set, patch_property, patch_value;
    LV2_URID model;
    LV2_URID bufsz_max_block, atom_int;
} gwp_uris;

/* One model playing: its engine at the host's rate (the engine's sinc
 * resampler takes the model's samples there) and the host frames it has
 * output, the clock its events are stamped on. Made in the worker (or
 * instantiate/restore), rendered in run(), freed in the worker. */
typedef struct gwp_bank {
    gw_engine *engine;
    int64_t h;        /* host frames output */
    int max_block;
    bool is_default;
    char path[]; /* absolute path of the .gwm */
} gwp_bank;

typedef enum gwp_msg_type {
    GWP_MSG_LOAD = 1,   /* run -> worker: path follows */
    GWP_MSG_FREE = 2,   /* run -> worker: free a bank */
    GWP_MSG_LOADED = 3, /* worker -> run: a bank ready to install */
} gwp_msg_type;

typedef struct gwp_msg {
    uint32_t type;
    uint32_t is_default; /* GWP_MSG_LOAD */
    gwp_bank *bank;      /* GWP_MSG_LOADED, GWP_MSG_FREE */
} gwp_msg;

typedef struct gwp_plugin {
    /* features */
    LV2_URID_Map *map;
    LV2_Worker_Schedule *schedule; /* NULL: no worker */
    LV2_Log_Logger logger;
    gwp_uris uris;
    LV2_Atom_Forge forge;
    char *bundle_path;

    /* ports */
    const LV2_Atom_Sequence *control;
    LV2_Atom_Sequence *notify;
    float *out;
    const float *ctl[GWP_PORT_COUNT];

    /* models (audio thread, or instantiation-class callbacks) */
    gw_engine_config cfg; /* host_rate is set per model: the model's rate */
    int host_rate;
    gwp_bank *bank;   /* playing */
    gwp_bank *fading; /* the bank it replaced, fading out over GWP_FADE_MS */
    int fade_left, fade_len;
    gwp_bank *pending;                  /* ready, waiting for a fade to finish */
    gwp_bank *graveyard[GWP_GRAVEYARD]; /* replaced without a worker: freed outside run() */
    float *scratch;                     // (GWP_MAX_BLOCK) the fading bank's output
    bool notify_path;                   /* send a patch:Set of the model path on the next run */
    float sent[GWP_N_PARAMS];           /* last control values given to the engine (NaN = never) */

    /* MIDI: the engine's one meaning (held keys, pedal, bend, volume); it
     * outlives the banks, so a new model takes over the held notes */
    gw_midi_map midi;

    /* the current model's path for save(), written by the audio thread:
     * two buffers, the index of the published one, and a sequence number
     * bumped around every write so a save that overlapped a write retries */
    char path_buf[2][GWP_PATH_MAX];
    atomic_int path_index;
    atomic_uint path_seq;
    atomic_bool path_is_default;
} gwp_plugin;

static void gwp_map_uris(gwp_uris *u, LV2_URID_Map *map) {
    u->atom_path = map->map(map->handle, LV2_ATOM__Path);
    u->atom_urid = map->map(map->handle, LV2_ATOM__URID);
    u->atom_sequence = map->map(map->handle, LV2_ATOM__Sequence);
    u->atom_blank = map->map(map->handle, LV2_ATOM__Blank);
    u->atom_object = map->map(map->handle, LV2_ATOM__Object);
    u->atom_event_transfer = map->map(map->handle, LV2_ATOM__eventTransfer);
    u->atom_int = map->map(map->handle, LV2_ATOM__Int);
    u->midi_event = map->map(map->handle, LV2_MIDI__MidiEvent);
    u->patch_get = map->map(map->handle, LV2_PATCH__Get);
    u->patch_set = map->map(map->handle, LV2_PATCH__Set);
    u->patch_property = map->map(map->handle, LV2_PATCH__property);
    u->patch_value = map->map(map->handle, LV2_PATCH__value);
    u->model = map->map(map->handle, GWP_MODEL_URI);
    u->bufsz_max_block = map->map(map->handle, LV2_BUF_SIZE__maxBlockLength);
}

/* ---- banks: loading (worker or instantiation class) ------------------- */
/* the bundled default: default.gwm in the bundle, else the first .gwm there
 * in name order (docs/plugin.md); 0 and an empty out if there is none */
static int gwp_default_model_path(const char *bundle, char *out, size_t cap) {
    out[0] = 0;
    snprintf(out, cap, "%s%s", bundle, GWP_DEFAULT_MODEL);
    FILE *f = fopen(out, "rb");
    if (f) {
        fclose(f);
        return 1;
    }
    out[0] = 0;
    struct dirent **names = NULL;
    int n = scandir(bundle, &names, NULL, alphasort);
    for (int i = 0; i < n; i++) {
        const char *nm = names[i]->d_name;
        size_t len = strlen(nm);
        if (!out[0] && len > 4 && strcmp(nm + len - 4, ".gwm") == 0)
            snprintf(out, cap, "%s%s", bundle, nm);
        free(names[i]);
    }
    free(names);
    return out[0] != 0;
}

static void gwp_bank_free(gwp_bank *b) {
    if (!b) return;
    gw_engine_free(b->engine);
    free(b);
}

/* Loads path into a bank with its own engine at the host's rate. Logs and
 * returns NULL on failure, naming the file. */
static gwp_bank *gwp_load(gwp_plugin *self, const char *path, bool is_default) {
    gw_error err = {0};
    gw_wavenet *wn = NULL;
    size_t len = strlen(path);
    gwp_bank *b = calloc(1, sizeof *b + len + 1);
    if (!b) {
        lv2_log_error(&self->logger, "genwave: %s: out of memory\n", path);
        return NULL;
    }
    memcpy(b->path, path, len + 1);
    b->is_default = is_default;
    if (gw_wavenet_load(&wn, path, &err) != GW_OK) goto fail;
    gw_engine_config cfg = self->cfg;
    cfg.host_rate = self->host_rate; /* the engine resamples (engine/sinc.h) */
    /* One voice streams every weight once per sample, so speed is set by
     * their bytes: generation's default, bf16 past a small size, halves them
     * against f32 (models/wavenet.h: ~2x faster, logits within ~1% of f32's) */
    cfg.weights = gw_wavenet_default_weights(&wn->cfg);
    /* the fastest format, kernels and prefetch on this CPU (the planner:
     * ~50 ms here in the worker the first time, then the wisdom file): the
     * prefetch that helps one vendor halves another's speed */
    char wisdom[4096];
    cfg.plan_measure = 1;
    cfg.wisdom = gw_wisdom_path(wisdom, sizeof wisdom);
    b->max_block = cfg.max_block;
    /* started once here (callback mode: nothing runs on its own) and stopped
     * by gw_engine_free in the worker */
    if (gw_engine_create(&b->engine, wn, &cfg, &err) != GW_OK ||
        gw_engine_start(b->engine, &err) != GW_OK) {
        gw_error named = err; /* the engine names the model; the log names the file */
        gw_fail(&err, named.status, "%s: %s", path, named.msg);
        goto fail;
    }
    const int model_rate = wn->cfg.sample_rate;
    gw_wavenet_free(wn);
    gw_wavenet_plan plan;
    gw_wavenet_plan_report rep;
    gw_engine_plan(b->engine, &plan, &rep);
    char plan_name[64];
    gw_wavenet_plan_name(&plan, plan_name, sizeof plan_name);
    if (rep.notice[0]) lv2_log_warning(&self->logger, "genwave: %s\n", rep.notice);
    lv2_log_note(&self->logger, "genwave: loaded model %s (%d Hz), plan %s%s\n", path, model_rate,
                 plan_name, rep.from_wisdom ? " (from wisdom)" : " (measured)");
    return b;
fail:
    /* the error names the file; the previous model keeps playing */
    lv2_log_error(&self->logger, "genwave: cannot load model: %s (keeping the previous model)\n",
                  err.msg[0] ? err.msg : path);
    gw_wavenet_free(wn);
    gwp_bank_free(b);
    return NULL;
}

/* ---- banks: rendering (audio class) ----------------------------------- */

/* n host frames into out, in engine blocks */
static void gwp_bank_render(gwp_bank *b, float *out, uint32_t n) {
    for (uint32_t done = 0; done < n;) {
        int k = n - done < (uint32_t)b->max_block ? (int)(n - done) : b->max_block;
        gw_engine_process(b->engine, out + done, k);
        done += (uint32_t)k;
    }
    b->h += n;
}

/* host frames from an event to the first output it can change: the
 * engine's resampler */
static float gwp_bank_latency(const gwp_bank *b) {
    return (float)gw_engine_latency_frames(b->engine);
}

/* ---- installing a bank (audio class, or instantiation class when no
 *      run() can be concurrent) ----------------------------------------- */

static void gwp_publish_path(gwp_plugin *self, const char *path, bool is_default) {
    int next = 1 - atomic_load_explicit(&self->path_index, memory_order_relaxed);
    atomic_fetch_add_explicit(&self->path_seq, 1, memory_order_acq_rel);
    size_t len = strlen(path);
    if (len >= GWP_PATH_MAX) len = GWP_PATH_MAX - 1;
    memcpy(self->path_buf[next], path, len);
    self->path_buf[next][len] = 0;
    atomic_store_explicit(&self->path_is_default, is_default, memory_order_relaxed);
    atomic_store_explicit(&self->path_index, next, memory_order_release);
    atomic_fetch_add_explicit(&self->path_seq, 1, memory_order_acq_rel);
}

/* copies the published path into out; false if no model is loaded */
static bool gwp_read_path(gwp_plugin *self, char *out, size_t cap, bool *is_default) {
    for (;;) {
        unsigned s0 = atomic_load_explicit(&self->path_seq, memory_order_acquire);
        if (s0 & 1u) continue; /* a write is in progress (it is a memcpy: short) */
        int i = atomic_load_explicit(&self->path_index, memory_order_acquire);
        snprintf(out, cap, "%s", self->path_buf[i]);
        *is_default = atomic_load_explicit(&self->path_is_default, memory_order_relaxed);
        atomic_thread_fence(memory_order_acquire);
        if (atomic_load_explicit(&self->path_seq, memory_order_acquire) == s0) return out[0] != 0;
    }
}

static void gwp_reset_sent(gwp_plugin *self) {
    for (int i = 0; i < GWP_N_PARAMS; i++)
        self->sent[i] = NAN;
}

/* a bank no longer played: to the worker, or (no worker) to the graveyard
 * that restore/deactivate/cleanup empty; false if neither can take it now */
static bool gwp_retire(gwp_plugin *self, gwp_bank *b, bool in_audio_thread) {
    if (!b) return true;
    if (!in_audio_thread) {
        gwp_bank_free(b);
        return true;
    }
    if (self->schedule) {
        gwp_msg msg = {.type = GWP_MSG_FREE, .bank = b};
        return self->schedule->schedule_work(self->schedule->handle, sizeof msg, &msg) ==
               LV2_WORKER_SUCCESS;
    }
    for (int i = 0; i < GWP_GRAVEYARD; i++)
        if (!self->graveyard[i]) {
            self->graveyard[i] = b;
            return true;
        }
    return false;
}

static void gwp_empty_graveyard(gwp_plugin *self) {
    for (int i = 0; i < GWP_GRAVEYARD; i++) {
        gwp_bank_free(self->graveyard[i]);
        self->graveyard[i] = NULL;
    }
}

static void gwp_send_params(gwp_plugin *self);

/* Makes self->pending the playing bank once no fade is in progress: the
 * playing one fades out over GWP_FADE_MS while the held notes restart on
 * the new one. */
static void gwp_install_pending(gwp_plugin *self) {
    gwp_bank *b = self->pending;
    if (!b || self->fading) return;
    self->pending = NULL;
    self->fading = self->bank;
    self->fade_left = self->fade_len = self->fading ? self->host_rate * GWP_FADE_MS / 1000 : 0;
    self->bank = b;
    gwp_reset_sent(self);
    gwp_send_params(self); /* the controls before the restarted notes */
    gw_midi_map_replay(&self->midi, b->engine, 0);
    gwp_publish_path(self, b->path, b->is_default);
    self->notify_path = true;
}

/* a bank from the worker or a synchronous load; one still pending from
 * before is superseded */
static void gwp_set_pending(gwp_plugin *self, gwp_bank *b, bool in_audio_thread) {
    if (self->pending && gwp_retire(self, self->pending, in_audio_thread)) self->pending = NULL;
    if (self->pending) { /* nowhere to put the old one: keep it, drop the new */
        gwp_retire(self, b, false);
        return;
    }
    self->pending = b;
    gwp_install_pending(self);
}

/* synchronous load (instantiation class: instantiate, restore without a
 * worker); no run() is concurrent, so the fade is skipped */
static bool gwp_load_now(gwp_plugin *self, const char *path, bool is_default) {
    gwp_bank *b = gwp_load(self, path, is_default);
    if (!b) return false;
    gwp_set_pending(self, b, false);
    gwp_bank_free(self->fading);
    self->fading = NULL;
    return true;
}

/* ---- LV2 callbacks ------------------------------------------------------ */

/* instantiation class */
static LV2_Handle gwp_instantiate(const LV2_Descriptor *desc, double rate, const char *bundle_path,
                                  const LV2_Feature *const *features) {
    /* Pin the GNU OpenMP runtime (libsoxr, which the engine links, pulls it
     * in): a host that unloads genwave.lv2 would otherwise unload libgomp
     * with it, an OpenMP runtime that may have threads parked, and whose
     * static allocations then read as leaked (the 8 bytes LeakSanitizer
     * reported per load and unload, tests/lsan.supp). RTLD_NOLOAD: only if
     * it is loaded; the handle is kept on purpose. */
    (void)dlopen("libgomp.so.1", RTLD_NOW | RTLD_NOLOAD | RTLD_NODELETE);
    gwp_plugin *self = calloc(1, sizeof *self);
    if (!self) return NULL;
    /* a restore before activate installs a model and replays the map */
    gw_midi_map_init(&self->midi, 2.0f, 16);
    LV2_Log_Log *log = NULL;
    const LV2_Options_Option *options = NULL;
    const char *missing = lv2_features_query(
        features, LV2_LOG__log, &log, false, LV2_URID__map, &self->map, true, LV2_WORKER__schedule,
        &self->schedule, false, LV2_OPTIONS__options, &options, false, NULL);
    lv2_log_logger_init(&self->logger, self->map, log);
    if (missing) {
        lv2_log_error(&self->logger, "genwave: host lacks required feature <%s>\n", missing);
        free(self);
        return NULL;
    }
    gwp_map_uris(&self->uris, self->map);
    lv2_atom_forge_init(&self->forge, self->map);
    size_t blen = strlen(bundle_path);
    self->bundle_path = malloc(blen + 2);
    self->scratch = calloc(GWP_MAX_BLOCK, sizeof *self->scratch);
    if (!self->bundle_path || !self->scratch || rate < 1000.0 || rate > 768000.0) {
        lv2_log_error(&self->logger, "genwave: cannot instantiate at %g Hz\n", rate);
        free(self->bundle_path);
        free(self->scratch);
        free(self);
        return NULL;
    }
    memcpy(self->bundle_path, bundle_path, blen + 1);
    if (blen == 0 || bundle_path[blen - 1] != '/') strcat(self->bundle_path, "/");

    self->host_rate = (int)lround(rate);
    gw_engine_config_default(&self->cfg);
    self->cfg.max_voices = GWP_MAX_VOICES;
    self->cfg.max_block = GWP_MAX_BLOCK;
    /* the host's longest block, when told, bounds the engine's (model
     * samples per call stay under GWP_MAX_BLOCK either way) */
    for (const LV2_Options_Option *o = options; o && o->key; o++)
        if (o->key == self->uris.bufsz_max_block && o->type == self->uris.atom_int) {
            int mb = *(const int32_t *)o->value;
            if (mb >= 64 && mb < GWP_MAX_BLOCK) self->cfg.max_block = mb;
        }
    self->cfg.mode = GW_ENGINE_CALLBACK; /* the host's audio thread is the deadline */
    gwp_reset_sent(self);
    atomic_init(&self->path_index, 0);
    atomic_init(&self->path_seq, 0);
    atomic_init(&self->path_is_default, false);

    char path[GWP_PATH_MAX];
    if (gwp_default_model_path(self->bundle_path, path, sizeof path))
        gwp_load_now(self, path, true);
    else
        lv2_log_warning(&self->logger,
                        "genwave: no .gwm model in %s: silent until a model is chosen\n",
                        self->bundle_path);
    return (LV2_Handle)self;
}

/* instantiation class */
static void gwp_connect_port(LV2_Handle h, uint32_t port, void *data) {
    gwp_plugin *self = h;
    switch ((gwp_port)port) {
    case GWP_PORT_CONTROL:
        self->control = data;
        break;
    case GWP_PORT_NOTIFY:
        self->notify = data;
        break;
    case GWP_PORT_OUT:
        self->out = data;
        break;
    default:
        if (port < GWP_PORT_COUNT) self->ctl[port] = data;
        break;
    }
}

/* instantiation class */
/* audio class: a port value with its range (genwave.ttl) enforced */
static float gwp_ctl(const gwp_plugin *self, gwp_port p, float lo, float hi, float dflt) {
    const float *v = self->ctl[p];
    if (!v || !(*v == *v)) return dflt;
    return *v < lo ? lo : *v > hi ? hi : *v;
}

static void gwp_activate(LV2_Handle h) {
    gwp_plugin *self = h;
    gw_midi_map_init(&self->midi, gwp_ctl(self, GWP_PORT_BEND_RANGE, 0.0f, 24.0f, 2.0f),
                     (int)gwp_ctl(self, GWP_PORT_VOICES, 1.0f, GWP_MAX_VOICES, 16.0f));
    gwp_reset_sent(self);
    self->notify_path = true;
    if (self->bank) {
        gw_engine_event ev = {.type = GW_ENGINE_EV_ALL_OFF};
        gw_engine_send(self->bank->engine, &ev);
    }
}

/* audio class: controls -> engine parameters, only when they changed */
static void gwp_send_params(gwp_plugin *self) {
    gw_engine *e = self->bank->engine;
    float db = gwp_ctl(self, GWP_PORT_GAIN, -60.0f, 12.0f, 0.0f);
    float v[GWP_N_PARAMS] = {
        db <= -60.0f ? 0.0f : powf(10.0f, db / 20.0f),
        gwp_ctl(self, GWP_PORT_TEMPERATURE, 0.0f, 4.0f, 1.0f),
        gwp_ctl(self, GWP_PORT_ATTACK, 0.5f, 10000.0f, 5.0f),
        gwp_ctl(self, GWP_PORT_RELEASE, 0.5f, 10000.0f, 60.0f),
        gwp_ctl(self, GWP_PORT_HIGHPASS, 0.0f, 1.0f, 0.0f),
    };
    static const gw_engine_param which[GWP_N_PARAMS] = {
        GW_ENGINE_PARAM_GAIN, GW_ENGINE_PARAM_TEMPERATURE, GW_ENGINE_PARAM_ATTACK_MS,
        GW_ENGINE_PARAM_RELEASE_MS, GW_ENGINE_PARAM_HIGHPASS};
    for (int i = 0; i < GWP_N_PARAMS; i++)
        if (v[i] != self->sent[i] && gw_engine_set_param(e, which[i], v[i])) self->sent[i] = v[i];
    gw_midi_map_bend_range(&self->midi, e, gwp_ctl(self, GWP_PORT_BEND_RANGE, 0.0f, 24.0f, 2.0f),
                           0);
}

/* audio class: one MIDI message, at the frame the bank has rendered up to;
 * the voices port bounds held notes (the oldest yields) */
static void gwp_midi(gwp_plugin *self, const uint8_t *msg, uint32_t size) {
    self->midi.voice_limit = (int)gwp_ctl(self, GWP_PORT_VOICES, 1.0f, GWP_MAX_VOICES, 16.0f);
    /* stamped with the frame the bank has rendered up to: the engine applies
     * it at that frame's model sample, whatever its resampler holds */
    gw_midi_map_send(&self->midi, self->bank->engine, msg, size, (uint64_t)self->bank->h);
}

/* audio class: a LOAD request for the worker (the host copies it) */
static void gwp_request_load(LV2_Worker_Schedule *schedule, const char *path, uint32_t len,
                             bool is_default) {
    uint8_t buf[sizeof(gwp_msg) + GWP_PATH_MAX];
    if (len + 1 > GWP_PATH_MAX) return;
    gwp_msg msg = {.type = GWP_MSG_LOAD, .is_default = is_default};
    memcpy(buf, &msg, sizeof msg);
    memcpy(buf + sizeof msg, path, len);
    buf[sizeof msg + len] = 0;
    schedule->schedule_work(schedule->handle, (uint32_t)(sizeof msg + len + 1), buf);
}

/* audio class: patch:Set of the model schedules a load; patch:Get asks for
 * the current path on the notify port */
static void gwp_patch(gwp_plugin *self, const LV2_Atom_Object *obj) {
    const gwp_uris *u = &self->uris;
    if (obj->body.otype == u->patch_get) {
        self->notify_path = true;
        return;
    }
    if (obj->body.otype != u->patch_set) return;
    const LV2_Atom *property = NULL, *value = NULL;
    lv2_atom_object_get(obj, u->patch_property, &property, u->patch_value, &value, 0);
    if (!property || property->type != u->atom_urid ||
        ((const LV2_Atom_URID *)property)->body != u->model)
        return;
    if (!value || value->type != u->atom_path || value->size < 2 || !self->schedule) return;
    const char *path = LV2_ATOM_BODY_CONST(value);
    gwp_request_load(self->schedule, path, (uint32_t)strnlen(path, value->size), false);
}

/* audio class */
static void gwp_write_path(gwp_plugin *self) {
    char path[GWP_PATH_MAX];
    bool dflt;
    if (!gwp_read_path(self, path, sizeof path, &dflt)) return;
    const gwp_uris *u = &self->uris;
    LV2_Atom_Forge_Frame frame;
    if (!lv2_atom_forge_frame_time(&self->forge, 0)) return;
    lv2_atom_forge_object(&self->forge, &frame, 0, u->patch_set);
    lv2_atom_forge_key(&self->forge, u->patch_property);
    lv2_atom_forge_urid(&self->forge, u->model);
    lv2_atom_forge_key(&self->forge, u->patch_value);
    lv2_atom_forge_path(&self->forge, path, (uint32_t)strlen(path));
    lv2_atom_forge_pop(&self->forge, &frame);
    self->notify_path = false;
}

/* audio class: n frames into out, in pieces of GWP_MAX_BLOCK, with the
 * replaced bank fading out under the new one */
static void gwp_render(gwp_plugin *self, float *out, uint32_t n) {
    while (n > 0) {
        uint32_t k = n < GWP_MAX_BLOCK ? n : GWP_MAX_BLOCK;
        if (self->bank)
            gwp_bank_render(self->bank, out, k);
        else
            memset(out, 0, k * sizeof *out);
        if (self->fading) {
            gwp_bank_render(self->fading, self->scratch, k);
            for (uint32_t i = 0; i < k && self->fade_left > 0; i++, self->fade_left--)
                out[i] += self->scratch[i] * (float)self->fade_left / (float)self->fade_len;
            if (self->fade_left == 0 && gwp_retire(self, self->fading, true)) {
                self->fading = NULL;
                gwp_install_pending(self);
            }
        }
        out += k;
        n -= k;
    }
}

/* audio class */
static void gwp_run(LV2_Handle h, uint32_t n_frames) {
    gwp_plugin *self = h;
    const gwp_uris *u = &self->uris;
    /* a decaying tail must not fall into the slow denormal path */
    const unsigned csr = gw_denormals_flush();
    if (self->bank) gwp_send_params(self);
    uint32_t done = 0;
    if (self->control) {
        LV2_ATOM_SEQUENCE_FOREACH(self->control, ev) {
            int64_t t = ev->time.frames;
            uint32_t at = t < 0 ? 0 : t > (int64_t)n_frames ? n_frames : (uint32_t)t;
            if (at > done) {
                gwp_render(self, self->out + done, at - done);
                done = at;
            }
            if (ev->body.type == u->midi_event) {
                if (self->bank) {
                    gwp_midi(self, (const uint8_t *)(ev + 1), ev->body.size);
                }
            } else if (ev->body.type == u->atom_object || ev->body.type == u->atom_blank) {
                gwp_patch(self, (const LV2_Atom_Object *)&ev->body);
            }
        }
    }
    if (done < n_frames) gwp_render(self, self->out + done, n_frames - done);

    /* the model path after a patch:Get or a model change */
    if (self->notify) {
        uint32_t cap = self->notify->atom.size;
        lv2_atom_forge_set_buffer(&self->forge, (uint8_t *)self->notify, cap);
        LV2_Atom_Forge_Frame seq;
        lv2_atom_forge_sequence_head(&self->forge, &seq, 0);
        if (self->notify_path) gwp_write_path(self);
        lv2_atom_forge_pop(&self->forge, &seq);
    }
    if (self->ctl[GWP_PORT_LATENCY])
        *(float *)self->ctl[GWP_PORT_LATENCY] =
            self->bank ? roundf(gwp_bank_latency(self->bank)) : 0.0f;
    if (self->ctl[GWP_PORT_LOAD]) {
        gw_engine_meters m = {0};
        if (self->bank) gw_engine_read_meters(self->bank->engine, &m);
        *(float *)self->ctl[GWP_PORT_LOAD] = 100.0f * m.load;
    }
    gw_denormals_restore(csr);
}

/* worker class */
static LV2_Worker_Status gwp_work(LV2_Handle h, LV2_Worker_Respond_Function respond,
                                  LV2_Worker_Respond_Handle handle, uint32_t size,
                                  const void *data) {
    gwp_plugin *self = h;
    gwp_msg msg;
    if (size < sizeof msg) return LV2_WORKER_ERR_UNKNOWN;
    memcpy(&msg, data, sizeof msg);
    if (msg.type == GWP_MSG_FREE) {
        gwp_bank_free(msg.bank);
        return LV2_WORKER_SUCCESS;
    }
    if (msg.type != GWP_MSG_LOAD || size <= sizeof msg) return LV2_WORKER_ERR_UNKNOWN;
    const char *path = (const char *)data + sizeof msg;
    if (path[size - sizeof msg - 1] != 0) return LV2_WORKER_ERR_UNKNOWN;
    gwp_bank *b = gwp_load(self, path, msg.is_default != 0);
    if (!b) return LV2_WORKER_ERR_UNKNOWN; /* logged; the previous model plays on */
    gwp_msg reply = {.type = GWP_MSG_LOADED, .bank = b};
    if (respond(handle, sizeof reply, &reply) != LV2_WORKER_SUCCESS) {
        gwp_bank_free(b);
        return LV2_WORKER_ERR_NO_SPACE;
    }
    return LV2_WORKER_SUCCESS;
}

/* audio class (called by the host after run) */
static LV2_Worker_Status gwp_work_response(LV2_Handle h, uint32_t size, const void *data) {
    gwp_plugin *self = h;
    gwp_msg msg;
    if (size < sizeof msg) return LV2_WORKER_ERR_UNKNOWN;
    memcpy(&msg, data, sizeof msg);
    if (msg.type != GWP_MSG_LOADED || !msg.bank) return LV2_WORKER_ERR_UNKNOWN;
    gwp_set_pending(self, msg.bank, true);
    return LV2_WORKER_SUCCESS;
}

/* save class (may run beside run()) */
static LV2_State_Status gwp_save(LV2_Handle h, LV2_State_Store_Function store,
                                 LV2_State_Handle handle, uint32_t flags,
                                 const LV2_Feature *const *features) {
    gwp_plugin *self = h;
    char path[GWP_PATH_MAX];
    bool dflt = false;
    /* the bundled default is not stored: a session then follows the
     * installed bundle's default model */
    if (!gwp_read_path(self, path, sizeof path, &dflt) || dflt) return LV2_STATE_SUCCESS;
    LV2_State_Map_Path *map_path = NULL;
    LV2_State_Free_Path *free_path = NULL;
    lv2_features_query(features, LV2_STATE__mapPath, &map_path, false, LV2_STATE__freePath,
                       &free_path, false, NULL);
    char *apath = map_path ? map_path->abstract_path(map_path->handle, path) : NULL;
    const char *stored = apath ? apath : path;
    LV2_State_Status st = store(handle, self->uris.model, stored, strlen(stored) + 1,
                                self->uris.atom_path, LV2_STATE_IS_POD | LV2_STATE_IS_PORTABLE);
    if (apath) {
        if (free_path)
            free_path->free_path(free_path->handle, apath);
        else
            free(apath);
    }
    return st;
}

/* instantiation class */
static LV2_State_Status gwp_restore(LV2_Handle h, LV2_State_Retrieve_Function retrieve,
                                    LV2_State_Handle handle, uint32_t flags,
                                    const LV2_Feature *const *features) {
    gwp_plugin *self = h;
    gwp_empty_graveyard(self);
    LV2_State_Map_Path *map_path = NULL;
    LV2_State_Free_Path *free_path = NULL;
    lv2_features_query(features, LV2_STATE__mapPath, &map_path, false, LV2_STATE__freePath,
                       &free_path, false, NULL);
    size_t size = 0;
    uint32_t type = 0, vflags = 0;
    const char *value = retrieve(handle, self->uris.model, &size, &type, &vflags);
    char path[GWP_PATH_MAX];
    bool is_default = false;
    if (value) {
        if (type != self->uris.atom_path || size < 2 || value[size - 1] != 0) {
            lv2_log_error(&self->logger, "genwave: state: the model is not a path\n");
            return LV2_STATE_ERR_BAD_TYPE;
        }
        char *abs = map_path ? map_path->absolute_path(map_path->handle, value) : NULL;
        snprintf(path, sizeof path, "%s", abs ? abs : value);
        if (abs) {
            if (free_path)
                free_path->free_path(free_path->handle, abs);
            else
                free(abs);
        }
    } else {
        /* no model in the state: the bundled default (unless it already plays) */
        bool cur_default = false;
        char cur[GWP_PATH_MAX];
        if (gwp_read_path(self, cur, sizeof cur, &cur_default) && cur_default)
            return LV2_STATE_SUCCESS;
        if (!gwp_default_model_path(self->bundle_path, path, sizeof path)) return LV2_STATE_SUCCESS;
        is_default = true;
    }
    /* Loaded here even when the host passes work:schedule to restore:
     * restore is never concurrent with run(), and jalv 1.6.6 (Debian 12)
     * crashes when a plugin schedules work from restore while loading a
     * session (-l). Errors are logged by the loader; the previous model
     * stays. */
    return gwp_load_now(self, path, is_default) ? LV2_STATE_SUCCESS : LV2_STATE_ERR_UNKNOWN;
}

/* instantiation class */
static void gwp_deactivate(LV2_Handle h) {
    gwp_empty_graveyard(h);
}

/* instantiation class */
static void gwp_cleanup(LV2_Handle h) {
    gwp_plugin *self = h;
    if (!self) return;
    gwp_empty_graveyard(self);
    gwp_bank_free(self->bank);
    gwp_bank_free(self->fading);
    gwp_bank_free(self->pending);
    free(self->scratch);
    free(self->bundle_path);
    free(self);
}

/* discovery class */
static const void *gwp_extension_data(const char *uri) {
    static const LV2_Worker_Interface worker = {gwp_work, gwp_work_response, NULL};
    static const LV2_State_Interface state = {gwp_save, gwp_restore};
    if (strcmp(uri, LV2_WORKER__interface) == 0) return &worker;
    if (strcmp(uri, LV2_STATE__interface) == 0) return &state;
    return NULL;
}

static const LV2_Descriptor gwp_descriptor = {
    GWP_URI, gwp_instantiate, gwp_connect_port, gwp_activate,
    gwp_run, gwp_deactivate,  gwp_cleanup,      gwp_extension_data,
};

/* discovery class */
LV2_SYMBOL_EXPORT const LV2_Descriptor *lv2_descriptor(uint32_t index) {
    return index == 0 ? &gwp_descriptor : NULL;
}
