/* genwave play MODEL.gwm: the real-time engine (engine/gw_engine.h) driven
 * from a PortAudio output stream, with notes from the command line, a MIDI
 * file played in real time, or live MIDI from the ALSA sequencer or a JACK
 * MIDI port (docs/engine.md).
 *
 * Threads: PortAudio's callback thread runs gw_engine_process (audio); the
 * main thread sends --note / --midi events, polls the meters and prints the
 * status line (control); with --midi-in an ALSA sequencer thread, or the
 * JACK MIDI client's process thread, is the engine's only event producer
 * instead (the event ring has exactly one producer at a time: the main
 * thread sends its final all-notes-off only after that producer stopped).
 * Ctrl-C (SIGINT/SIGTERM) sets a flag the main loop checks every few
 * milliseconds, then the stream is stopped and closed.
 *
 * Live MIDI uses the ALSA sequencer rather than PortMidi: it is what Linux
 * synthesizers expose their ports through (aconnect, a2jmidid), it ships in
 * Debian as libasound2, and PortAudio already depends on it. Under JACK,
 * --midi-in jack[:PORT] reads a JACK MIDI port instead, and its events are
 * stamped to the frame: see "live MIDI from JACK" below.
 */
#include "base/gw_base.h"
#include "cli/args.h"
#include "engine/gw_engine.h"
#include "io/midi.h"
#include "models/wavenet_file.h"

#include <alsa/asoundlib.h>
#include <dlfcn.h>
#include <errno.h>
#include <jack/jack.h>
#include <jack/midiport.h>
#include <math.h>
#include <pa_jack.h>
#include <poll.h>
#include <portaudio.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

enum { MAX_NOTES = 32 };

typedef struct play_opts {
    const char *model, *device, *host_api, *midi, *midi_in;
    int list, rate, buffer, voices, ahead, velocity, n_notes, quiet;
    int weights; /* gw_wavenet_weight_type, or -1: the planner's choice */
    gw_wavenet_plan plan; /* --plan TYPE/ISA/PREFETCH */
    int measure;          /* 1 (default): the planner chooses */
    gw_engine_mode mode;
    float notes[MAX_NOTES];
    double seconds, gain, temperature, attack_ms, release_ms, bend_range;
    double highpass; /* key-tracked low cut, x the fundamental (0 = off) */
} play_opts;

static atomic_int stop_flag;

static void on_signal(int sig) {
    (void)sig;
    atomic_store(&stop_flag, 1);
}

static void usage(FILE *f) {
    fprintf(f,
            "usage: genwave play MODEL.gwm [options]\n"
            "       genwave play --list-devices\n"
            "  --device NAME|INDEX   output device (a part of its name, or its index)\n"
            "  --host-api NAME       pick the default output of a host API (e.g. JACK, ALSA)\n"
            "  --rate HZ             device sample rate (default: the device's)\n"
            "  --buffer FRAMES       frames per callback (default 256)\n"
            "  --voices N            polyphony, voices are stolen beyond it (default 8)\n"
            "  --mode callback|thread  generate in the callback (default) or in a thread\n"
            "  --ahead N             thread mode: blocks generated ahead (default 4)\n"
            "  --note N[,N...]       hold these MIDI notes (fractional allowed)\n"
            "  --velocity V          1..127 (default 100)\n"
            "  --seconds S           hold --note, or listen to --midi-in, for S seconds\n"
            "                        (default: until Ctrl-C)\n"
            "  --midi FILE           play a Standard MIDI File in real time\n"
            "  --midi-in PORT        live MIDI from an ALSA sequencer port ('client:port' or a\n"
            "                        client name, see 'aconnect -o'); 'new' only creates a port\n"
            "  --midi-in jack[:PORT] live MIDI from JACK: creates genwave-midi:in and connects\n"
            "                        PORT to it (see 'jack_lsp -t'); stamped to the frame when\n"
            "                        the output is JACK too\n"
            "  --gain G  --temperature T  --attack MS  --release MS   (1, 1, 5, 80)\n"
            "  --bend-range SEMITONES  MIDI pitch bend range (default 2)\n"
            "  --highpass R          key-tracked low cut: an 8th-order high-pass at R x each\n"
            "                        note's fundamental, 0..1 (default 0: off)\n"
            "  --precision P         weights the voices stream: bf16, f16, f32 (exact), or\n"
            "                        i8 (bytes; 8-bit mu-law models on AVX512_VNNI);\n"
            "                        default: the planner's choice (f32 below 65536 MAC)\n"
            "  --plan P              'measure' (default: the fastest format, kernels and\n"
            "                        prefetch on this CPU, timed once and remembered in\n"
            "                        ~/.cache/genwave/wisdom), or TYPE/ISA/PREFETCH to replay\n"
            "                        one, e.g. bf16/avx512/noprefetch\n"
            "  --quiet               no status line\n"
            "Prints a status line while playing and a summary (xruns, load) at the end.\n");
}

static int parse_notes(const char *s, play_opts *o) {
    char buf[512];
    snprintf(buf, sizeof buf, "%s", s);
    for (char *tok = strtok(buf, ","); tok; tok = strtok(NULL, ",")) {
        double v;
        if (!gw_cli_number(tok, &v) || v < 0 || v > 127 || o->n_notes == MAX_NOTES) return 0;
        o->notes[o->n_notes++] = (float)v;
    }
    return o->n_notes > 0;
}

/* 0 ok, 2 usage error (message printed) */
static int parse_args(int argc, char **argv, play_opts *o) {
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        double x = 0;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            exit(0);
        } else if (!strcmp(a, "--list-devices")) {
            o->list = 1;
            continue;
        } else if (!strcmp(a, "--quiet")) {
            o->quiet = 1;
            continue;
        } else if (a[0] != '-' && !o->model) {
            o->model = a;
            continue;
        } else if (!v) {
            fprintf(stderr, "genwave play: %s needs a value (or unknown argument)\n", a);
            return 2;
        }
        i++;
        if (!strcmp(a, "--device")) o->device = v;
        else if (!strcmp(a, "--host-api")) o->host_api = v;
        else if (!strcmp(a, "--midi")) o->midi = v;
        else if (!strcmp(a, "--midi-in")) o->midi_in = v;
        else if (!strcmp(a, "--note")) {
            if (!parse_notes(v, o)) {
                fprintf(stderr, "genwave play: --note %s: notes 0..127, at most %d\n", v,
                        MAX_NOTES);
                return 2;
            }
        } else if (!strcmp(a, "--mode")) {
            if (!strcmp(v, "callback")) o->mode = GW_ENGINE_CALLBACK;
            else if (!strcmp(v, "thread")) o->mode = GW_ENGINE_THREAD;
            else {
                fprintf(stderr, "genwave play: --mode %s: expected callback or thread\n", v);
                return 2;
            }
        } else if (!strcmp(a, "--precision")) {
            if (!gw_cli_precision(&o->weights, "play", v)) return 2;
        } else if (!strcmp(a, "--plan")) {
            if (!gw_cli_plan(&o->plan, &o->measure, "play", v)) return 2;
        } else if (!gw_cli_number(v, &x)) {
            fprintf(stderr, "genwave play: %s: '%s' is not a number\n", a, v);
            return 2;
        } else if (!strcmp(a, "--rate") && x >= 1000 && x <= 384000) o->rate = (int)x;
        else if (!strcmp(a, "--buffer") && x >= 16 && x <= 8192) o->buffer = (int)x;
        else if (!strcmp(a, "--voices") && x >= 1 && x <= 256) o->voices = (int)x;
        else if (!strcmp(a, "--ahead") && x >= 1 && x <= 64) o->ahead = (int)x;
        else if (!strcmp(a, "--velocity") && x >= 1 && x <= 127) o->velocity = (int)x;
        else if (!strcmp(a, "--seconds") && x > 0 && x <= 86400) o->seconds = x;
        else if (!strcmp(a, "--gain") && x >= 0 && x <= 4) o->gain = x;
        else if (!strcmp(a, "--temperature") && x >= 0 && x <= 4) o->temperature = x;
        else if (!strcmp(a, "--attack") && x >= 0.5 && x <= 10000) o->attack_ms = x;
        else if (!strcmp(a, "--release") && x >= 0.5 && x <= 10000) o->release_ms = x;
        else if (!strcmp(a, "--highpass") && x >= 0 && x <= 1) o->highpass = x;
        else if (!strcmp(a, "--bend-range") && x >= 0 && x <= 24) o->bend_range = x;
        else {
            fprintf(stderr, "genwave play: %s %s: unknown option or value out of range\n", a, v);
            return 2;
        }
    }
    if (!o->list && !o->model) {
        usage(stderr);
        return 2;
    }
    if ((o->midi != NULL) + (o->midi_in != NULL) + (o->n_notes > 0) > 1) {
        fprintf(stderr, "genwave play: use one of --note, --midi and --midi-in\n");
        return 2;
    }
    return 0;
}

/* ---- PortAudio ---- */

static void silent_alsa(const char *file, int line, const char *fn, int err, const char *fmt,
                        ...) {
    (void)file, (void)line, (void)fn, (void)err, (void)fmt; /* ALSA's probing chatter */
}

/* case-insensitive "does hay contain needle" (device and host API names) */
static int contains(const char *hay, const char *needle) {
    size_t n = strlen(needle);
    for (; *hay; hay++)
        if (!strncasecmp(hay, needle, n)) return 1;
    return n == 0;
}

static void list_devices(FILE *f) {
    int n = Pa_GetDeviceCount();
    fprintf(f, "%d audio device%s (* = default output):\n", n < 0 ? 0 : n, n == 1 ? "" : "s");
    for (int i = 0; i < n; i++) {
        const PaDeviceInfo *d = Pa_GetDeviceInfo(i);
        const PaHostApiInfo *h = Pa_GetHostApiInfo(d->hostApi);
        fprintf(f, " %c%3d  %-40s %-6s out %2d  %6.0f Hz  latency %.1f ms\n",
                i == Pa_GetDefaultOutputDevice() ? '*' : ' ', i, d->name, h ? h->name : "?",
                d->maxOutputChannels, d->defaultSampleRate, d->defaultLowOutputLatency * 1e3);
    }
    fprintf(f, "host APIs:");
    for (int i = 0; i < Pa_GetHostApiCount(); i++) fprintf(f, " %s", Pa_GetHostApiInfo(i)->name);
    fprintf(f, "\n");
}

/* libjack (loaded with PortAudio) prints to stderr when no server runs, on
 * every PortAudio start; look its hook up at run time (genwave does not
 * link libjack itself) and keep it quiet while PortAudio probes */
static void quiet_jack(const char *msg) {
    (void)msg;
}

static void print_jack(const char *msg) {
    fprintf(stderr, "jack: %s\n", msg);
}

static void jack_messages(int quiet) {
    void (*set_error)(void (*)(const char *));
    void *sym = dlsym(RTLD_DEFAULT, "jack_set_error_function");
    if (!sym) return;
    memcpy(&set_error, &sym, sizeof set_error);
    set_error(quiet ? quiet_jack : print_jack);
}

/* the output device for --device / --host-api, or the default; -1 with a
 * message in err */
static int pick_device(const play_opts *o, gw_error *err) {
    int n = Pa_GetDeviceCount();
    if (n <= 0) {
        gw_fail(err, GW_ERR_IO, "no audio device (PortAudio found none; try 'genwave play "
                                "--list-devices', or start a JACK server)");
        return -1;
    }
    if (o->host_api) {
        for (int i = 0; i < Pa_GetHostApiCount(); i++) {
            const PaHostApiInfo *h = Pa_GetHostApiInfo(i);
            if (contains(h->name, o->host_api) && !o->device) {
                if (h->defaultOutputDevice < 0) break;
                return h->defaultOutputDevice;
            }
        }
        if (!o->device) {
            gw_fail(err, GW_ERR_IO, "host API '%s' has no output device (is its server running?)",
                    o->host_api);
            return -1;
        }
    }
    if (o->device) {
        char *end;
        long idx = strtol(o->device, &end, 10);
        if (*o->device && !*end) {
            if (idx < 0 || idx >= n || Pa_GetDeviceInfo((int)idx)->maxOutputChannels < 1) {
                gw_fail(err, GW_ERR_ARG, "--device %s: no output device with that index", o->device);
                return -1;
            }
            return (int)idx;
        }
        for (int i = 0; i < n; i++) {
            const PaDeviceInfo *d = Pa_GetDeviceInfo(i);
            const PaHostApiInfo *h = Pa_GetHostApiInfo(d->hostApi);
            if (d->maxOutputChannels > 0 && contains(d->name, o->device) &&
                (!o->host_api || contains(h->name, o->host_api)))
                return i;
        }
        gw_fail(err, GW_ERR_ARG, "--device %s: no output device of that name (see --list-devices)",
                o->device);
        return -1;
    }
    int d = Pa_GetDefaultOutputDevice();
    if (d == paNoDevice) {
        gw_fail(err, GW_ERR_IO, "no default audio output device (see --list-devices)");
        return -1;
    }
    return d;
}

typedef struct jmidi_ctx jmidi_ctx;
static void jmidi_clock(jmidi_ctx *j, uint64_t engine_frame);

typedef struct cb_ctx {
    gw_engine *engine;
    int channels;
    float *mono; // (max_block)
    int max_block;
    uint64_t frames;  /* engine frames output so far (the event clock) */
    jmidi_ctx *clock; /* JACK MIDI to stamp, when the output is JACK too; else NULL */
} cb_ctx;

/* audio thread */
static int pa_callback(const void *in, void *out, unsigned long frames,
                       const PaStreamCallbackTimeInfo *time, PaStreamCallbackFlags flags,
                       void *arg) {
    (void)in, (void)time;
    cb_ctx *c = arg;
    if (flags & (paOutputUnderflow | paOutputOverflow)) gw_engine_count_xrun(c->engine);
    if (c->clock) jmidi_clock(c->clock, c->frames);
    c->frames += frames;
    float *o = out;
    for (unsigned long done = 0; done < frames;) {
        int k = frames - done < (unsigned long)c->max_block ? (int)(frames - done) : c->max_block;
        gw_engine_process(c->engine, c->mono, k);
        for (int t = 0; t < k; t++)
            for (int ch = 0; ch < c->channels; ch++) o[(done + (size_t)t) * c->channels + ch] = c->mono[t];
        done += (unsigned long)k;
    }
    return paContinue;
}

/* ---- live MIDI from the ALSA sequencer ---- */

typedef struct seq_ctx {
    snd_seq_t *seq;
    gw_engine *engine;
    gw_midi_map map; /* this producer's: the engine's one MIDI meaning */
    atomic_long events;
    atomic_int quit; /* control -> sequencer thread: stop producing */
} seq_ctx;

static gw_status seq_open(seq_ctx *s, const char *port, gw_error *err) {
    snd_lib_error_set_handler(silent_alsa);
    if (snd_seq_open(&s->seq, "default", SND_SEQ_OPEN_INPUT, SND_SEQ_NONBLOCK) < 0)
        return gw_fail(err, GW_ERR_IO, "--midi-in %s: cannot open the ALSA sequencer "
                                       "(/dev/snd/seq missing? modprobe snd-seq)", port);
    snd_seq_set_client_name(s->seq, "genwave");
    int me = snd_seq_create_simple_port(s->seq, "genwave in",
                                        SND_SEQ_PORT_CAP_WRITE | SND_SEQ_PORT_CAP_SUBS_WRITE,
                                        SND_SEQ_PORT_TYPE_MIDI_GENERIC |
                                            SND_SEQ_PORT_TYPE_APPLICATION);
    if (me < 0) {
        snd_seq_close(s->seq);
        return gw_fail(err, GW_ERR_IO, "--midi-in %s: cannot create a sequencer port", port);
    }
    if (strcmp(port, "new") != 0) {
        snd_seq_addr_t a;
        if (snd_seq_parse_address(s->seq, &a, port) < 0 ||
            snd_seq_connect_from(s->seq, me, a.client, a.port) < 0) {
            snd_seq_close(s->seq);
            return gw_fail(err, GW_ERR_ARG,
                           "--midi-in %s: MIDI port not found (see 'aconnect -o')", port);
        }
    }
    return GW_OK;
}

/* control thread for live MIDI: the only producer of engine events */
static void *seq_thread(void *arg) {
    seq_ctx *s = arg;
    int nfd = snd_seq_poll_descriptors_count(s->seq, POLLIN);
    struct pollfd fds[8];
    if (nfd > 8) nfd = 8;
    snd_seq_poll_descriptors(s->seq, fds, (unsigned)nfd, POLLIN);
    while (!atomic_load(&stop_flag) && !atomic_load(&s->quit)) {
        if (poll(fds, (nfds_t)nfd, 50) <= 0) continue;
        snd_seq_event_t *ev;
        while (snd_seq_event_input(s->seq, &ev) >= 0 && ev) {
            unsigned char b[3] = {0};
            switch (ev->type) {
            case SND_SEQ_EVENT_NOTEON:
                b[0] = 0x90, b[1] = ev->data.note.note, b[2] = ev->data.note.velocity;
                break;
            case SND_SEQ_EVENT_NOTEOFF:
                b[0] = 0x80, b[1] = ev->data.note.note;
                break;
            case SND_SEQ_EVENT_PITCHBEND: {
                int v = ev->data.control.value + 8192;
                b[0] = 0xE0, b[1] = v & 0x7F, b[2] = (v >> 7) & 0x7F;
                break;
            }
            case SND_SEQ_EVENT_CONTROLLER:
                b[0] = 0xB0, b[1] = (unsigned char)ev->data.control.param,
                b[2] = (unsigned char)ev->data.control.value;
                break;
            default:
                continue;
            }
            if (gw_midi_map_send(&s->map, s->engine, b, 3, 0)) atomic_fetch_add(&s->events, 1);
        }
    }
    return NULL;
}

/* ---- live MIDI from JACK ----
 *
 * A JACK client of its own, "genwave-midi", with one MIDI input port: the
 * PortAudio stream is a JACK client too, but PortAudio does not hand out its
 * jack_client_t. libjack is looked up at run time (PortAudio has loaded it
 * when it was built with JACK, else dlopen): genwave's own link line stays
 * PortAudio's and ALSA's, and without libjack only --midi-in jack fails.
 *
 * Timing: both clients run in the same JACK cycles. The PortAudio callback
 * publishes, once per cycle, engine frame - JACK frame of the cycle's start
 * (jmidi_clock). The MIDI client's process callback stamps an event at
 * offset o of the cycle starting at JACK frame J with engine frame J + o +
 * that difference + one period: JACK runs two unconnected clients in either
 * order (or in parallel on two cores), so an event is played one period
 * later, the block after the one it arrived in, at the same offset. That
 * keeps every event's delay constant, to the frame: one period plus
 * gw_engine_latency_frames. */

typedef struct jack_api {
    void *lib; /* dlopen handle, or NULL when PortAudio had loaded libjack */
    __typeof__(jack_client_open) *client_open;
    __typeof__(jack_client_close) *client_close;
    __typeof__(jack_port_register) *port_register;
    __typeof__(jack_set_process_callback) *set_process_callback;
    __typeof__(jack_activate) *activate;
    __typeof__(jack_deactivate) *deactivate;
    __typeof__(jack_port_get_buffer) *port_get_buffer;
    __typeof__(jack_midi_get_event_count) *midi_get_event_count;
    __typeof__(jack_midi_event_get) *midi_event_get;
    __typeof__(jack_last_frame_time) *last_frame_time;
    __typeof__(jack_get_ports) *get_ports;
    __typeof__(jack_free) *free;
    __typeof__(jack_port_name) *port_name;
    __typeof__(jack_connect) *connect;
} jack_api;

struct jmidi_ctx {
    jack_api api;
    jack_client_t *client;
    jack_port_t *in;
    gw_engine *engine;
    gw_midi_map map; /* this producer's: the engine's one MIDI meaning */
    char source[256];       /* the port connected to ours, or "" */
    atomic_uint offset;     /* engine frame - JACK frame, mod 2^32 (audio -> MIDI thread) */
    atomic_int synced;      /* offset published at least once */
    uint32_t cycle;         /* audio thread: JACK frame of the last cycle published */
    atomic_long events;     /* events sent to the engine */
};

static gw_status jack_api_load(jack_api *j, const char *opt, gw_error *err) {
    *j = (jack_api){0};
    void *from = RTLD_DEFAULT;
    if (!dlsym(RTLD_DEFAULT, "jack_client_open")) {
        j->lib = dlopen("libjack.so.0", RTLD_NOW | RTLD_LOCAL);
        if (!j->lib)
            return gw_fail(err, GW_ERR_UNSUPPORTED,
                           "--midi-in %s: cannot load libjack.so.0 (install libjack-jackd2-0)", opt);
        from = j->lib;
    }
    static const struct {
        const char *name;
        size_t offset;
    } syms[] = {
        {"jack_client_open", offsetof(jack_api, client_open)},
        {"jack_client_close", offsetof(jack_api, client_close)},
        {"jack_port_register", offsetof(jack_api, port_register)},
        {"jack_set_process_callback", offsetof(jack_api, set_process_callback)},
        {"jack_activate", offsetof(jack_api, activate)},
        {"jack_deactivate", offsetof(jack_api, deactivate)},
        {"jack_port_get_buffer", offsetof(jack_api, port_get_buffer)},
        {"jack_midi_get_event_count", offsetof(jack_api, midi_get_event_count)},
        {"jack_midi_event_get", offsetof(jack_api, midi_event_get)},
        {"jack_last_frame_time", offsetof(jack_api, last_frame_time)},
        {"jack_get_ports", offsetof(jack_api, get_ports)},
        {"jack_free", offsetof(jack_api, free)},
        {"jack_port_name", offsetof(jack_api, port_name)},
        {"jack_connect", offsetof(jack_api, connect)},
    };
    for (size_t i = 0; i < sizeof syms / sizeof syms[0]; i++) {
        void *f = dlsym(from, syms[i].name);
        if (!f) {
            if (j->lib) dlclose(j->lib);
            j->lib = NULL;
            return gw_fail(err, GW_ERR_UNSUPPORTED, "--midi-in %s: libjack has no %s", opt,
                           syms[i].name);
        }
        /* all members are function pointers of one size */
        memcpy((char *)j + syms[i].offset, &f, sizeof f);
    }
    return GW_OK;
}

/* audio thread (PortAudio's JACK callback): engine_frame is the first frame
 * this callback outputs; only the cycle's first callback publishes */
static void jmidi_clock(jmidi_ctx *j, uint64_t engine_frame) {
    uint32_t start = j->api.last_frame_time(j->client);
    if (atomic_load_explicit(&j->synced, memory_order_relaxed) && start == j->cycle) return;
    j->cycle = start;
    atomic_store_explicit(&j->offset, (uint32_t)engine_frame - start, memory_order_relaxed);
    atomic_store_explicit(&j->synced, 1, memory_order_release);
}

/* JACK's process thread of genwave-midi: the engine's only event producer */
static int jmidi_process(jack_nframes_t n, void *arg) {
    jmidi_ctx *j = arg;
    void *buf = j->api.port_get_buffer(j->in, n);
    uint32_t count = j->api.midi_get_event_count(buf);
    if (count == 0) return 0;
    const int synced = atomic_load_explicit(&j->synced, memory_order_acquire);
    const uint32_t start = j->api.last_frame_time(j->client);
    const uint32_t offset = atomic_load_explicit(&j->offset, memory_order_relaxed);
    gw_engine_meters m;
    gw_engine_read_meters(j->engine, &m);
    for (uint32_t i = 0; i < count; i++) {
        jack_midi_event_t ev;
        if (j->api.midi_event_get(&ev, buf, i) || ev.size < 2 || ev.size > 3) continue;
        uint64_t frame = 0;
        if (synced) {
            /* the engine frame mod 2^32, unwrapped next to the engine's clock
             * (JACK's frame counter wraps every 2^32 frames, 25 h at 48 kHz) */
            uint32_t low = start + ev.time + n + offset;
            int64_t f = (int64_t)m.frames + (int32_t)(low - (uint32_t)m.frames);
            frame = f > 0 ? (uint64_t)f : 0;
        }
        if (gw_midi_map_send(&j->map, j->engine, ev.buffer, ev.size, frame))
            atomic_fetch_add(&j->events, 1);
    }
    return 0;
}

/* opt: "jack" (no connection) or "jack:NAME" (NAME, or else the first MIDI
 * output whose name matches NAME as a regular expression, is the source):
 * the client and its port, checked before any audio is set up */
static gw_status jmidi_open(jmidi_ctx *j, const char *opt, gw_error *err) {
    gw_status st = jack_api_load(&j->api, opt, err);
    if (st) return st;
    jack_status_t js = 0;
    jack_messages(1); /* libjack's own complaints when no server runs */
    j->client = j->api.client_open("genwave-midi", JackNoStartServer, &js);
    jack_messages(0);
    if (!j->client)
        return gw_fail(err, GW_ERR_IO, "--midi-in %s: no JACK server running (start jackd, or "
                                       "pick an ALSA sequencer port)", opt);
    j->in = j->api.port_register(j->client, "in", JACK_DEFAULT_MIDI_TYPE, JackPortIsInput, 0);
    if (!j->in) {
        st = gw_fail(err, GW_ERR_IO, "--midi-in %s: cannot register a JACK MIDI port", opt);
        goto fail;
    }
    const char *want = opt[4] == ':' ? opt + 5 : NULL;
    if (want) {
        const char **ports = j->api.get_ports(j->client, NULL, JACK_DEFAULT_MIDI_TYPE,
                                              JackPortIsOutput);
        for (size_t i = 0; ports && ports[i] && !j->source[0]; i++)
            if (!strcmp(ports[i], want)) snprintf(j->source, sizeof j->source, "%s", ports[i]);
        if (ports) j->api.free(ports);
        if (!j->source[0] && *want) {
            ports = j->api.get_ports(j->client, want, JACK_DEFAULT_MIDI_TYPE, JackPortIsOutput);
            if (ports && ports[0]) snprintf(j->source, sizeof j->source, "%s", ports[0]);
            if (ports) j->api.free(ports);
        }
        if (!j->source[0]) {
            st = gw_fail(err, GW_ERR_ARG, "--midi-in %s: MIDI port not found (see 'jack_lsp -t')",
                         opt);
            goto fail;
        }
    }
    return GW_OK;
fail:
    j->api.client_close(j->client);
    j->client = NULL;
    return st;
}

/* events from here on go to the engine */
static gw_status jmidi_start(jmidi_ctx *j, gw_engine *engine, double bend_range, const char *opt,
                             gw_error *err) {
    j->engine = engine;
    gw_midi_map_init(&j->map, (float)bend_range, 0);
    if (j->api.set_process_callback(j->client, jmidi_process, j) || j->api.activate(j->client))
        return gw_fail(err, GW_ERR_IO, "--midi-in %s: cannot activate the JACK client", opt);
    if (j->source[0] && j->api.connect(j->client, j->source, j->api.port_name(j->in)))
        return gw_fail(err, GW_ERR_IO, "--midi-in %s: cannot connect %s to %s", opt, j->source,
                       j->api.port_name(j->in));
    return GW_OK;
}

/* stops the producer (no process call runs once deactivate returns) */
static void jmidi_stop(jmidi_ctx *j) {
    if (j->client) j->api.deactivate(j->client);
}

static void jmidi_close(jmidi_ctx *j) {
    if (j->client) j->api.client_close(j->client);
    j->client = NULL;
    if (j->api.lib) dlclose(j->api.lib);
    j->api.lib = NULL;
}

/* ---- main ---- */

static void print_status(const gw_engine_meters *m, double latency_ms, int tty) {
    fprintf(stderr, "%svoices %2d  load %5.1f%% (peak %5.1f%%)  xruns %llu  underruns %llu  "
                    "latency %.1f ms%s",
            tty ? "\r" : "", m->voices, m->load * 100.0, m->load_peak * 100.0,
            (unsigned long long)m->xruns, (unsigned long long)m->underruns, latency_ms,
            tty ? "   " : "\n");
    fflush(stderr);
}

static void sleep_ms(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

int gw_cmd_play(int argc, char **argv) {
    play_opts o = {.buffer = 256, .voices = 8, .ahead = 4, .velocity = 100, .gain = 1,
                   .temperature = 1, .attack_ms = 5, .release_ms = 80, .bend_range = 2,
                   .mode = GW_ENGINE_CALLBACK, .weights = -1, .measure = 1};
    int rc = parse_args(argc, argv, &o);
    if (rc) return rc;
    rc = 1;
    gw_error err = {0};
    gw_wavenet *model = NULL;
    gw_engine *engine = NULL;
    gw_midi_file song_file = {0};
    const gw_midi_file *song = NULL;
    gw_midi_map song_map;
    gw_midi_map_init(&song_map, (float)o.bend_range, 0);
    PaStream *stream = NULL;
    int pa_up = 0, seq_up = 0, seq_running = 0, jm_up = 0;
    seq_ctx seq = {0};
    jmidi_ctx jm = {0};
    const int jack_midi = o.midi_in && !strncmp(o.midi_in, "jack", 4) &&
                          (o.midi_in[4] == 0 || o.midi_in[4] == ':');
    pthread_t seq_th;
    cb_ctx cb = {0};
    gw_engine_config ec;
    gw_engine_config_default(&ec);
    gw_engine_meters m = {0};
    atomic_store(&stop_flag, 0);

    if (!o.list) {
        if (gw_wavenet_load(&model, o.model, &err)) goto done;
        if (model->cfg.n_mels > 0) {
            gw_fail(&err, GW_ERR_UNSUPPORTED,
                    "%s: is a vocoder WaveNet (mel input); play needs a note model", o.model);
            goto done;
        }
        if ((o.n_notes || o.midi || o.midi_in) && model->cfg.pitch_features == 0)
            fprintf(stderr, "genwave play: %s has no pitch input: every note sounds alike\n",
                    o.model);
        if (o.midi) {
            if (gw_midi_read(&song_file, o.midi, &err)) goto done;
            if (song_file.n == 0) {
                gw_fail(&err, GW_ERR_FORMAT, "%s: no notes, nothing to play", o.midi);
                goto done;
            }
            song = &song_file;
        }
        /* the MIDI source first: its errors do not depend on the audio device */
        if (jack_midi) {
            if (jmidi_open(&jm, o.midi_in, &err)) goto done;
            jm_up = 1;
        }
    }
    snd_lib_error_set_handler(silent_alsa); /* PortAudio's ALSA probe of absent cards */
    PaJack_SetClientName("genwave");
    jack_messages(1);
    PaError pe = Pa_Initialize();
    jack_messages(0);
    if (pe != paNoError) {
        gw_fail(&err, GW_ERR_IO, "cannot start PortAudio: %s", Pa_GetErrorText(pe));
        goto done;
    }
    pa_up = 1;
    if (o.list) {
        list_devices(stdout);
        rc = 0;
        goto done;
    }
    int dev = pick_device(&o, &err);
    if (dev < 0) goto done;
    const PaDeviceInfo *di = Pa_GetDeviceInfo(dev);
    const PaHostApiInfo *hi = Pa_GetHostApiInfo(di->hostApi);
    int rate = o.rate ? o.rate : (int)di->defaultSampleRate;
    PaStreamParameters out = {.device = dev,
                              .channelCount = di->maxOutputChannels >= 2 ? 2 : 1,
                              .sampleFormat = paFloat32,
                              .suggestedLatency = di->defaultLowOutputLatency};
    if (Pa_IsFormatSupported(NULL, &out, rate) != paFormatIsSupported) {
        gw_fail(&err, GW_ERR_UNSUPPORTED, "device '%s' (%s) does not support %d Hz float output",
                di->name, hi->name, rate);
        goto done;
    }

    ec.max_voices = o.voices;
    char wisdom[4096];
    if (o.measure) { /* the planner: off the audio thread, before the stream opens */
        ec.plan_measure = 1;
        ec.plan_force_weights = o.weights >= 0;
        ec.weights = o.weights >= 0 ? (gw_wavenet_weight_type)o.weights : GW_WAVENET_WEIGHTS_F32;
        ec.wisdom = gw_wisdom_path(wisdom, sizeof wisdom);
    } else {
        ec.weights = o.plan.type;
        snprintf(ec.plan_isa, sizeof ec.plan_isa, "%s", o.plan.isa);
        gw_cli_isa_cap(ec.plan_isa, sizeof ec.plan_isa);
        ec.plan_prefetch = o.plan.prefetch;
    }
    ec.host_rate = rate;
    ec.max_block = o.buffer;
    ec.mode = o.mode;
    ec.ahead = o.ahead;
    /* below the audio callback's (JACK gives its clients 5 under the server's) */
    ec.thread_priority = 50;
    ec.gain = (float)o.gain;
    ec.temperature = (float)o.temperature;
    ec.attack_ms = (float)o.attack_ms;
    ec.release_ms = (float)o.release_ms;
    ec.highpass = (float)o.highpass;
    ec.seed = (uint64_t)time(NULL);
    if (gw_engine_create(&engine, model, &ec, &err)) goto done;
    gw_wavenet_plan plan;
    gw_wavenet_plan_report prep;
    gw_engine_plan(engine, &plan, &prep);
    char plan_name[64];
    gw_wavenet_plan_name(&plan, plan_name, sizeof plan_name);
    if (prep.notice[0]) fprintf(stderr, "genwave play: %s\n", prep.notice);
    gw_wavenet_free(model); /* the engine packed its own copy */
    model = NULL;
    cb = (cb_ctx){.engine = engine, .channels = out.channelCount, .max_block = o.buffer};
    cb.mono = calloc((size_t)o.buffer, sizeof(float));
    if (!cb.mono) {
        gw_fail(&err, GW_ERR_NOMEM, "out of memory");
        goto done;
    }
    if (jm_up) {
        /* same JACK cycles as the output: stamp events to the frame */
        if (hi->type == paJACK) cb.clock = &jm;
        if (jmidi_start(&jm, engine, o.bend_range, o.midi_in, &err)) goto done;
    } else if (o.midi_in) {
        seq.engine = engine;
        gw_midi_map_init(&seq.map, (float)o.bend_range, 0);
        if (seq_open(&seq, o.midi_in, &err)) goto done;
        seq_up = 1;
    }
    pe = Pa_OpenStream(&stream, NULL, &out, rate, (unsigned long)o.buffer, paClipOff, pa_callback,
                       &cb);
    if (pe != paNoError) {
        gw_fail(&err, GW_ERR_IO, "device '%s' (%s): cannot open at %d Hz, %d frames: %s%s",
                di->name, hi->name, rate, o.buffer, Pa_GetErrorText(pe),
                pe == paDeviceUnavailable ? " (busy?)" : "");
        stream = NULL;
        goto done;
    }
    /* Lock every page now and later: a page fault or a page swapped out in
     * the audio callback costs milliseconds, far past a 5 ms period. Without
     * the privilege (RLIMIT_MEMLOCK) playing goes on unlocked. */
    if (mlockall(MCL_CURRENT | MCL_FUTURE) != 0 && !o.quiet)
        fprintf(stderr, "genwave: note: cannot lock memory (%s); page faults may cause xruns\n",
                strerror(errno));
    if (gw_engine_start(engine, &err)) goto done;
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    if (o.n_notes) /* queued before the stream starts: the first callback plays them */
        for (int k = 0; k < o.n_notes; k++)
            gw_engine_note_on(engine, o.notes[k], o.velocity / 127.0f);
    if (!o.n_notes && !o.midi && !o.midi_in) gw_engine_note_on(engine, 60, o.velocity / 127.0f);
    pe = Pa_StartStream(stream);
    if (pe != paNoError) {
        gw_fail(&err, GW_ERR_IO, "device '%s': cannot start: %s", di->name, Pa_GetErrorText(pe));
        goto done;
    }
    if (seq_up) {
        if (pthread_create(&seq_th, NULL, seq_thread, &seq)) {
            gw_fail(&err, GW_ERR_IO, "cannot start the MIDI thread");
            goto done;
        }
        seq_running = 1;
    }
    const PaStreamInfo *si = Pa_GetStreamInfo(stream);
    double latency_ms = (si ? si->outputLatency : 0) * 1e3 +
                        gw_engine_latency_frames(engine) * 1e3 / rate;
    const int tty = isatty(2) && !o.quiet;
    if (!o.quiet)
        fprintf(stderr, "playing %s on '%s' (%s), %d Hz, %d frames, %d voices, %s mode, plan %s%s\n",
                o.model, di->name, hi->name, rate, o.buffer, o.voices,
                o.mode == GW_ENGINE_THREAD ? "thread" : "callback", plan_name,
                !prep.n ? "" : prep.from_wisdom ? " (from wisdom)" : " (measured)");
    /* the clock is the audio itself: frames the engine has produced */
    double end_s = o.seconds > 0 ? o.seconds : INFINITY, release_s = o.release_ms * 1e-3 + 0.1;
    /* --midi: each event is sent up to song_ahead s before its time and
     * stamped with its frame (the song starts song_lead s in), so the main
     * thread's wake-ups (every 2 ms, later on a busy machine) move no note */
    const double song_lead = 0.1, song_ahead = 0.08;
    if (song) end_s = song->events[song->n - 1].seconds + song_lead;
    size_t next = 0;
    int released = 0;
    double last_status = 0;
    for (;;) {
        if (atomic_load(&stop_flag)) break;
        gw_engine_read_meters(engine, &m);
        double now = (double)m.frames / rate;
        for (; song && next < song->n && song->events[next].seconds <= now + song_ahead; next++)
            gw_midi_map_send(&song_map, engine, song->events[next].msg, song->events[next].len,
                             (uint64_t)llround((song->events[next].seconds + song_lead) * rate));
        if (!released && now >= end_s) {
            /* the live producer stops first: the ring has one producer */
            if (jm_up) jmidi_stop(&jm);
            if (seq_running) {
                atomic_store(&seq.quit, 1);
                pthread_join(seq_th, NULL);
                seq_running = 0;
            }
            gw_engine_send(engine, &(gw_engine_event){.type = GW_ENGINE_EV_ALL_OFF});
            released = 1;
        }
        if (released && now >= end_s + release_s) break;
        if (!o.quiet && now - last_status >= (tty ? 0.25 : 5.0)) {
            gw_engine_poll(engine, &m);
            print_status(&m, latency_ms, tty);
            last_status = now;
        }
        if (!Pa_IsStreamActive(stream)) {
            gw_fail(&err, GW_ERR_IO, "device '%s': the stream stopped by itself", di->name);
            goto done;
        }
        sleep_ms(2);
    }
    if (tty) fprintf(stderr, "\n");
    rc = 0;
done:
    if (seq_running) {
        atomic_store(&seq.quit, 1);
        pthread_join(seq_th, NULL);
    }
    if (jm_up) jmidi_stop(&jm);
    if (stream) { /* before jmidi_close: the callback reads the JACK clock */
        Pa_StopStream(stream);
        Pa_CloseStream(stream);
    }
    if (jm_up) {
        if (rc == 0 && cb.clock)
            printf("midi in: %ld events from %s, stamped to the frame: heard one JACK period + %.0f "
                   "frames after their time\n",
                   atomic_load(&jm.events), jm.source[0] ? jm.source : "genwave-midi:in",
                   gw_engine_latency_frames(engine));
        else if (rc == 0)
            printf("midi in: %ld events from %s, at block starts (the output is not JACK)\n",
                   atomic_load(&jm.events), jm.source[0] ? jm.source : "genwave-midi:in");
        jmidi_close(&jm);
    }
    if (engine && rc == 0) {
        gw_engine_read_meters(engine, &m);
        printf("played %.2f s: %d voices max, load %.1f%% (peak %.1f%%), xruns %llu, underruns "
               "%llu, dropped events %llu (host-reported xruns %llu)\n",
               (double)m.frames / ec.host_rate, o.voices, m.load * 100.0, m.load_peak * 100.0,
               (unsigned long long)m.xruns, (unsigned long long)m.underruns,
               (unsigned long long)m.dropped, (unsigned long long)m.host_xruns);
    }
    gw_engine_free(engine);
    if (seq_up) snd_seq_close(seq.seq);
    if (pa_up) Pa_Terminate();
    free(cb.mono);
    gw_midi_free(&song_file);
    gw_wavenet_free(model);
    if (rc == 1) fprintf(stderr, "genwave: %s\n", err.msg[0] ? err.msg : "play failed");
    return rc;
}
