/* lv2_host.h - a small LV2 host on liblilv, shared by tests/plugin/
 * test_lv2_host.c and bench/lv2_plugin.c (header-only).
 *
 * It offers urid:map/unmap, log:log (messages kept in log_text),
 * work:schedule (requests queued during run() and done right after it, as a
 * host's worker thread finishing between two periods), options
 * (bufsz:maxBlockLength); connects every port of genwave.lv2; and plays
 * timelines of MIDI and patch events in blocks of any size, each event at
 * its frame inside the block that holds it.
 *
 * The bundle is found through LV2_PATH: GW_LV2_BUILD_DIR/lv2 (a link to the
 * build tree's genwave.lv2), then the system's bundles (the LV2 specs).
 */
#ifndef GW_TEST_LV2_HOST_H
#define GW_TEST_LV2_HOST_H

#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lilv/lilv.h>
#include <lv2/atom/atom.h>
#include <lv2/atom/forge.h>
#include <lv2/atom/util.h>
#include <lv2/buf-size/buf-size.h>
#include <lv2/log/log.h>
#include <lv2/midi/midi.h>
#include <lv2/options/options.h>
#include <lv2/patch/patch.h>
#include <lv2/state/state.h>
#include <lv2/urid/urid.h>
#include <lv2/worker/worker.h>

/* a host failure is a broken test or bench: say where and stop */
#define LH_CHECK(c)                                                                                \
    do {                                                                                           \
        if (!(c)) {                                                                                \
            fprintf(stderr, "%s:%d: lv2 host: %s failed\n", __FILE__, __LINE__, #c);               \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

#define PLUGIN_URI "urn:genwave:synth"
#define MODEL_URI  PLUGIN_URI "#model"

enum {
    P_CONTROL,
    P_NOTIFY,
    P_OUT,
    P_GAIN,
    P_TEMP,
    P_ATTACK,
    P_RELEASE,
    P_VOICES,
    P_BEND,
    P_LATENCY,
    P_LOAD,
    P_HIGHPASS, /* appended after the first release's ports */
    P_COUNT
};

/* Nonzero while this thread is inside the plugin's audio-class calls
 * (run, work_response), so an allocation interposer in the test can count
 * what happens there. */
static _Thread_local int lh_in_audio;

/* ---- urid map ---------------------------------------------------------- */
typedef struct urid_table {
    char *uris[512];
    int n;
} urid_table;

static inline LV2_URID map_uri(LV2_URID_Map_Handle h, const char *uri) {
    urid_table *t = h;
    for (int i = 0; i < t->n; i++)
        if (strcmp(t->uris[i], uri) == 0) return (LV2_URID)(i + 1);
    LH_CHECK(t->n < 512);
    t->uris[t->n] = strdup(uri);
    return (LV2_URID)++t->n;
}

static inline const char *unmap_urid(LV2_URID_Unmap_Handle h, LV2_URID id) {
    urid_table *t = h;
    return id >= 1 && (int)id <= t->n ? t->uris[id - 1] : NULL;
}

/* ---- worker: requests queued in run(), done after it -------------------- */
enum { WQ_MAX = 64, WQ_BYTES = 8192 };
typedef struct work_queue {
    uint32_t size[WQ_MAX];
    uint8_t data[WQ_MAX][WQ_BYTES];
    int n;
} work_queue;

static inline void wq_push(work_queue *q, uint32_t size, const void *data) {
    LH_CHECK(q->n < WQ_MAX && size <= WQ_BYTES);
    q->size[q->n] = size;
    memcpy(q->data[q->n], data, size);
    q->n++;
}

/* ---- the host ---------------------------------------------------------- */
typedef struct host {
    LilvWorld *world;
    const LilvPlugin *plugin;
    LilvInstance *inst;
    urid_table *urids;
    LV2_URID_Map map;
    LV2_URID_Unmap unmap;
    LV2_Log_Log log;
    LV2_Worker_Schedule schedule;
    const LV2_Worker_Interface *worker;
    LV2_Options_Option options[2];
    int32_t max_block;
    LV2_Feature f_map, f_unmap, f_log, f_sched, f_opts;
    const LV2_Feature *features[6];
    work_queue requests, responses;
    char log_text[16384];
    double rate;
    /* ports */
    uint8_t control_buf[16384];
    uint8_t notify_buf[16384];
    float *out;
    float ctl[P_COUNT];
    LV2_Atom_Forge forge;
    LV2_URID u_midi, u_path, u_urid, u_object, u_set, u_get, u_property, u_value, u_model, u_seq,
        u_chunk, u_int, u_maxblock;
    char notified_path[4096]; /* last patch:Set of the model seen on notify */
} host;

static inline int log_vprintf(LV2_Log_Handle h, LV2_URID type, const char *fmt, va_list ap) {
    host *H = h;
    size_t len = strlen(H->log_text);
    if (len + 1 < sizeof H->log_text)
        vsnprintf(H->log_text + len, sizeof H->log_text - len, fmt, ap);
    return 0;
}

static inline int log_printf(LV2_Log_Handle h, LV2_URID type, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int r = log_vprintf(h, type, fmt, ap);
    va_end(ap);
    return r;
}

static inline LV2_Worker_Status schedule_work(LV2_Worker_Schedule_Handle h, uint32_t size,
                                              const void *data) {
    host *H = h;
    wq_push(&H->requests, size, data);
    return LV2_WORKER_SUCCESS;
}

static inline LV2_Worker_Status respond(LV2_Worker_Respond_Handle h, uint32_t size,
                                        const void *data) {
    host *H = h;
    wq_push(&H->responses, size, data);
    return LV2_WORKER_SUCCESS;
}

/* what a worker thread does between two periods: every request, then each
 * response delivered to the audio side (as after run()) */
static inline void host_work(host *H) {
    /* work() only responds (it never schedules), so the queue is stable */
    for (int i = 0; i < H->requests.n; i++)
        H->worker->work(lilv_instance_get_handle(H->inst), respond, H, H->requests.size[i],
                        H->requests.data[i]);
    H->requests.n = 0;
    for (int i = 0; i < H->responses.n; i++) {
        lh_in_audio = 1;
        H->worker->work_response(lilv_instance_get_handle(H->inst), H->responses.size[i],
                                 H->responses.data[i]);
        lh_in_audio = 0;
    }
    H->responses.n = 0;
}

static inline void set_env_lv2_path(void) {
#ifdef GW_LV2_BUILD_DIR
    const char *build = GW_LV2_BUILD_DIR;
#else
    const char *build = ".";
#endif
    char p[4096];
    /* the build tree first, then the system bundles (the LV2 specs
     * themselves: lv2:InstrumentPlugin is defined in core.lv2) */
    /* not /usr/local/lib/lv2, where `cmake --install` puts an older copy */
    snprintf(p, sizeof p, "%s/lv2:/usr/lib/lv2", build);
    setenv("LV2_PATH", p, 1);
}

static inline void host_world(host *H) {
    set_env_lv2_path();
    H->world = lilv_world_new();
    lilv_world_load_all(H->world);
    LilvNode *uri = lilv_new_uri(H->world, PLUGIN_URI);
    H->plugin = lilv_plugins_get_by_uri(lilv_world_get_all_plugins(H->world), uri);
    lilv_node_free(uri);
    LH_CHECK(H->plugin); /* the bundle was found through LV2_PATH */
    /* and it is the build tree's, not an installed one */
    const char *bundle = lilv_node_as_uri(lilv_plugin_get_bundle_uri(H->plugin));
#ifdef GW_LV2_BUILD_DIR
    const char *want = "file://" GW_LV2_BUILD_DIR "/lv2/genwave.lv2/";
#else
    const char *want = "file://";
#endif
    if (strncmp(bundle, want, strlen(want)) != 0) {
        fprintf(stderr, "lv2 host: the plugin comes from %s, not the build tree\n", bundle);
        abort();
    }
}

/* a host at rate with blocks of up to max_block frames; with_worker = 0
 * offers no work:schedule (like lv2bench) */
static inline host *host_new(double rate, int max_block, int with_worker) {
    host *H = calloc(1, sizeof *H);
    LH_CHECK(H);
    H->urids = calloc(1, sizeof *H->urids);
    H->rate = rate;
    host_world(H);
    H->map = (LV2_URID_Map){H->urids, map_uri};
    H->unmap = (LV2_URID_Unmap){H->urids, unmap_urid};
    H->log = (LV2_Log_Log){H, log_printf, log_vprintf};
    H->schedule = (LV2_Worker_Schedule){H, schedule_work};
    H->max_block = max_block;
    H->u_int = map_uri(H->urids, LV2_ATOM__Int);
    H->u_maxblock = map_uri(H->urids, LV2_BUF_SIZE__maxBlockLength);
    H->options[0] = (LV2_Options_Option){LV2_OPTIONS_INSTANCE, 0,        H->u_maxblock,
                                         sizeof(int32_t),      H->u_int, &H->max_block};
    H->options[1] = (LV2_Options_Option){LV2_OPTIONS_INSTANCE, 0, 0, 0, 0, NULL};
    H->f_map = (LV2_Feature){LV2_URID__map, &H->map};
    H->f_unmap = (LV2_Feature){LV2_URID__unmap, &H->unmap};
    H->f_log = (LV2_Feature){LV2_LOG__log, &H->log};
    H->f_sched = (LV2_Feature){LV2_WORKER__schedule, &H->schedule};
    H->f_opts = (LV2_Feature){LV2_OPTIONS__options, H->options};
    int k = 0;
    H->features[k++] = &H->f_map;
    H->features[k++] = &H->f_unmap;
    H->features[k++] = &H->f_log;
    H->features[k++] = &H->f_opts;
    if (with_worker) H->features[k++] = &H->f_sched;
    H->features[k] = NULL;
    H->u_midi = map_uri(H->urids, LV2_MIDI__MidiEvent);
    H->u_path = map_uri(H->urids, LV2_ATOM__Path);
    H->u_urid = map_uri(H->urids, LV2_ATOM__URID);
    H->u_object = map_uri(H->urids, LV2_ATOM__Object);
    H->u_seq = map_uri(H->urids, LV2_ATOM__Sequence);
    H->u_chunk = map_uri(H->urids, LV2_ATOM__Chunk);
    H->u_set = map_uri(H->urids, LV2_PATCH__Set);
    H->u_get = map_uri(H->urids, LV2_PATCH__Get);
    H->u_property = map_uri(H->urids, LV2_PATCH__property);
    H->u_value = map_uri(H->urids, LV2_PATCH__value);
    H->u_model = map_uri(H->urids, MODEL_URI);
    lv2_atom_forge_init(&H->forge, &H->map);

    H->inst = lilv_plugin_instantiate(H->plugin, rate, H->features);
    LH_CHECK(H->inst);
    H->worker = lilv_instance_get_extension_data(H->inst, LV2_WORKER__interface);
    LH_CHECK(H->worker);
    H->out = calloc((size_t)max_block, sizeof(float));
    /* every control port at its default */
    uint32_t np = lilv_plugin_get_num_ports(H->plugin);
    LH_CHECK(np == P_COUNT);
    float defs[P_COUNT];
    lilv_plugin_get_port_ranges_float(H->plugin, NULL, NULL, defs);
    for (uint32_t i = 0; i < np; i++)
        H->ctl[i] = isnan(defs[i]) ? 0.0f : defs[i];
    H->ctl[P_ATTACK] = 0.5f; /* a sharp onset makes the first frame measurable */
    H->ctl[P_RELEASE] = 10.0f;
    lilv_instance_connect_port(H->inst, P_CONTROL, H->control_buf);
    lilv_instance_connect_port(H->inst, P_NOTIFY, H->notify_buf);
    lilv_instance_connect_port(H->inst, P_OUT, H->out);
    for (int i = P_GAIN; i < P_COUNT; i++)
        lilv_instance_connect_port(H->inst, (uint32_t)i, &H->ctl[i]);
    lilv_instance_activate(H->inst);
    return H;
}

static inline void host_free(host *H) {
    if (!H) return;
    lilv_instance_deactivate(H->inst);
    lilv_instance_free(H->inst);
    lilv_world_free(H->world);
    for (int i = 0; i < H->urids->n; i++)
        free(H->urids->uris[i]);
    free(H->urids);
    free(H->out);
    free(H);
}

/* ---- events ----------------------------------------------------------- */
typedef struct event {
    long frame; /* absolute frame of the timeline */
    int kind;   /* 0 MIDI, 1 patch:Set model, 2 patch:Get */
    uint8_t midi[3];
    const char *path;
} event;

static inline event note_on(long frame, int note, int vel) {
    return (event){frame, 0, {0x90, (uint8_t)note, (uint8_t)vel}, NULL};
}
static inline event note_off(long frame, int note) {
    return (event){frame, 0, {0x80, (uint8_t)note, 0}, NULL};
}
static inline event control_change(long frame, int cc, int value) {
    return (event){frame, 0, {0xB0, (uint8_t)cc, (uint8_t)value}, NULL};
}
static inline event set_model(long frame, const char *path) {
    return (event){frame, 1, {0}, path};
}
static inline event get_model(long frame) {
    return (event){frame, 2, {0}, NULL};
}

static inline void forge_event(host *H, const event *e, uint32_t t) {
    LV2_Atom_Forge *f = &H->forge;
    lv2_atom_forge_frame_time(f, t);
    if (e->kind == 0) {
        lv2_atom_forge_atom(f, 3, H->u_midi);
        lv2_atom_forge_write(f, e->midi, 3);
        return;
    }
    LV2_Atom_Forge_Frame fr;
    lv2_atom_forge_object(f, &fr, 0, e->kind == 1 ? H->u_set : H->u_get);
    if (e->kind == 1) {
        lv2_atom_forge_key(f, H->u_property);
        lv2_atom_forge_urid(f, H->u_model);
        lv2_atom_forge_key(f, H->u_value);
        lv2_atom_forge_path(f, e->path, (uint32_t)strlen(e->path));
    }
    lv2_atom_forge_pop(f, &fr);
}

static inline void read_notify(host *H) {
    const LV2_Atom_Sequence *seq = (const LV2_Atom_Sequence *)H->notify_buf;
    if (seq->atom.type != H->u_seq) return;
    LV2_ATOM_SEQUENCE_FOREACH(seq, ev) {
        if (ev->body.type != H->u_object) continue;
        const LV2_Atom_Object *obj = (const LV2_Atom_Object *)&ev->body;
        if (obj->body.otype != H->u_set) continue;
        const LV2_Atom *prop = NULL, *val = NULL;
        lv2_atom_object_get(obj, H->u_property, &prop, H->u_value, &val, 0);
        if (prop && prop->type == H->u_urid && ((const LV2_Atom_URID *)prop)->body == H->u_model &&
            val && val->type == H->u_path)
            snprintf(H->notified_path, sizeof H->notified_path, "%s",
                     (const char *)LV2_ATOM_BODY_CONST(val));
    }
}

/* Renders frames [0, n) of a timeline into audio (may be NULL) in blocks of
 * `block` frames, each event sent in the block holding its frame at the
 * offset inside it; the worker runs after every block. */
static inline void host_play(host *H, float *audio, long n, int block, const event *evs, int n_ev) {
    for (long start = 0; start < n; start += block) {
        uint32_t len = (uint32_t)(n - start < block ? n - start : block);
        lv2_atom_forge_set_buffer(&H->forge, H->control_buf, sizeof H->control_buf);
        LV2_Atom_Forge_Frame seq;
        lv2_atom_forge_sequence_head(&H->forge, &seq, 0);
        for (int i = 0; i < n_ev; i++)
            if (evs[i].frame >= start && evs[i].frame < start + len)
                forge_event(H, &evs[i], (uint32_t)(evs[i].frame - start));
        lv2_atom_forge_pop(&H->forge, &seq);
        LV2_Atom *notify = (LV2_Atom *)H->notify_buf;
        notify->type = H->u_chunk;
        notify->size = sizeof H->notify_buf - sizeof(LV2_Atom);
        lh_in_audio = 1;
        lilv_instance_run(H->inst, len);
        lh_in_audio = 0;
        read_notify(H);
        if (audio) memcpy(audio + start, H->out, len * sizeof(float));
        host_work(H);
    }
}

#endif
