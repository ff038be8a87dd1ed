/* genwave play MODEL.gwm: the real-time engine (engine/gw_engine.h) driven
 * from a PortAudio output stream, with notes from the command line, a MIDI
 * file played in real time, or live MIDI from the ALSA sequencer
 * (docs/engine.md).
 *
 * Threads: PortAudio's callback thread runs gw_engine_process (audio); the
 * main thread sends --note / --midi events, polls the meters and prints the
 * status line (control); with --midi-in an ALSA sequencer thread is the
 * control thread's only event producer instead (the event ring has exactly
 * one producer). Ctrl-C (SIGINT/SIGTERM) sets a flag the main loop checks
 * every few milliseconds, then the stream is stopped and closed.
 *
 * Live MIDI uses the ALSA sequencer rather than PortMidi: it is what Linux
 * synthesizers expose their ports through (aconnect, a2jmidid), it ships in
 * Debian as libasound2, and PortAudio already depends on it.
 */
#include "base/gw_base.h"
#include "cli/args.h"
#include "engine/gw_engine.h"
#include "models/wavenet_file.h"

#include <alsa/asoundlib.h>
#include <dlfcn.h>
#include <errno.h>
#include <glib.h>
#include <math.h>
#include <pa_jack.h>
#include <poll.h>
#include <portaudio.h>
#include <pthread.h>
#include <signal.h>
#include <smf.h>
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
    gw_engine_mode mode;
    float notes[MAX_NOTES];
    double seconds, gain, temperature, attack_ms, release_ms, bend_range;
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
            "  --seconds S           hold --note for S seconds (default: until Ctrl-C)\n"
            "  --midi FILE           play a Standard MIDI File in real time\n"
            "  --midi-in PORT        live MIDI from an ALSA sequencer port ('client:port' or a\n"
            "                        client name, see 'aconnect -o'); 'new' only creates a port\n"
            "  --gain G  --temperature T  --attack MS  --release MS   (1, 1, 5, 80)\n"
            "  --bend-range SEMITONES  MIDI pitch bend range (default 2)\n"
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

typedef struct cb_ctx {
    gw_engine *engine;
    int channels;
    float *mono; // (max_block)
    int max_block;
} cb_ctx;

/* audio thread */
static int pa_callback(const void *in, void *out, unsigned long frames,
                       const PaStreamCallbackTimeInfo *time, PaStreamCallbackFlags flags,
                       void *arg) {
    (void)in, (void)time;
    cb_ctx *c = arg;
    if (flags & (paOutputUnderflow | paOutputOverflow)) gw_engine_count_xrun(c->engine);
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

/* ---- MIDI file: raw channel events with times, played by the clock of the
 * audio frames produced ---- */

typedef struct midi_ev {
    double t;
    unsigned char b[3];
} midi_ev;

static void quiet_glib(const gchar *domain, GLogLevelFlags level, const gchar *msg, gpointer p) {
    (void)domain, (void)level, (void)msg, (void)p;
}

static gw_status load_midi(midi_ev **out, size_t *n_out, const char *path, gw_error *err) {
    *out = NULL;
    *n_out = 0;
    if (access(path, R_OK))
        return gw_fail(err, GW_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    g_log_set_default_handler(quiet_glib, NULL);
    smf_t *smf = smf_load(path);
    if (!smf) return gw_fail(err, GW_ERR_FORMAT, "%s: not a readable Standard MIDI File", path);
    size_t n = 0, cap = (size_t)smf->number_of_tracks * 64 + 64;
    midi_ev *ev = malloc(cap * sizeof *ev);
    smf_event_t *e;
    while (ev && (e = smf_get_next_event(smf)) != NULL) {
        if (smf_event_is_metadata(e) || e->midi_buffer_length < 2) continue;
        int st = e->midi_buffer[0] & 0xF0, ch = e->midi_buffer[0] & 0x0F;
        if (ch == 9 || (st != 0x80 && st != 0x90 && st != 0xB0 && st != 0xE0)) continue;
        if (e->midi_buffer_length < 3) continue;
        if (n == cap) {
            midi_ev *bigger = realloc(ev, 2 * cap * sizeof *ev);
            if (!bigger) break;
            ev = bigger, cap *= 2;
        }
        ev[n++] = (midi_ev){e->time_seconds, {e->midi_buffer[0], e->midi_buffer[1],
                                               e->midi_buffer[2]}};
    }
    smf_delete(smf);
    if (!ev || n == cap) {
        free(ev);
        return gw_fail(err, GW_ERR_NOMEM, "%s: out of memory", path);
    }
    if (n == 0) {
        free(ev);
        return gw_fail(err, GW_ERR_FORMAT, "%s: no notes outside the percussion channel", path);
    }
    *out = ev;
    *n_out = n;
    return GW_OK;
}

/* a MIDI channel message as engine events (control thread) */
static void send_midi(gw_engine *e, const unsigned char *b, double bend_range) {
    int st = b[0] & 0xF0;
    if (st == 0x90) gw_engine_note_on(e, b[1], b[2] / 127.0f);
    else if (st == 0x80) gw_engine_note_off(e, b[1]);
    else if (st == 0xE0) {
        int v = ((b[2] & 0x7F) << 7 | (b[1] & 0x7F)) - 8192;
        gw_engine_set_param(e, GW_ENGINE_PARAM_PITCH_BEND, (float)(v / 8192.0 * bend_range));
    } else if (st == 0xB0 && b[1] == 7) {
        gw_engine_set_param(e, GW_ENGINE_PARAM_GAIN, b[2] / 127.0f);
    } else if (st == 0xB0 && (b[1] == 120 || b[1] == 123)) {
        gw_engine_send(e, &(gw_engine_event){.type = GW_ENGINE_EV_ALL_OFF});
    }
}

/* ---- live MIDI from the ALSA sequencer ---- */

typedef struct seq_ctx {
    snd_seq_t *seq;
    gw_engine *engine;
    double bend_range;
    atomic_long events;
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
    while (!atomic_load(&stop_flag)) {
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
            send_midi(s->engine, b, s->bend_range);
            atomic_fetch_add(&s->events, 1);
        }
    }
    return NULL;
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
                   .mode = GW_ENGINE_CALLBACK};
    int rc = parse_args(argc, argv, &o);
    if (rc) return rc;
    rc = 1;
    gw_error err = {0};
    gw_wavenet *model = NULL;
    gw_engine *engine = NULL;
    midi_ev *song = NULL;
    size_t n_song = 0;
    PaStream *stream = NULL;
    int pa_up = 0, seq_up = 0, seq_running = 0;
    seq_ctx seq = {0};
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
        if (o.midi && load_midi(&song, &n_song, o.midi, &err)) goto done;
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
    ec.seed = (uint64_t)time(NULL);
    if (gw_engine_create(&engine, model, &ec, &err)) goto done;
    gw_wavenet_free(model); /* the engine packed its own copy */
    model = NULL;
    cb = (cb_ctx){.engine = engine, .channels = out.channelCount, .max_block = o.buffer};
    cb.mono = calloc((size_t)o.buffer, sizeof(float));
    if (!cb.mono) {
        gw_fail(&err, GW_ERR_NOMEM, "out of memory");
        goto done;
    }
    if (o.midi_in) {
        seq.engine = engine;
        seq.bend_range = o.bend_range;
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
        fprintf(stderr, "playing %s on '%s' (%s), %d Hz, %d frames, %d voices, %s mode\n",
                o.model, di->name, hi->name, rate, o.buffer, o.voices,
                o.mode == GW_ENGINE_THREAD ? "thread" : "callback");
    /* the clock is the audio itself: frames the engine has produced */
    double end_s = o.seconds > 0 ? o.seconds : INFINITY, release_s = o.release_ms * 1e-3 + 0.1;
    if (song) end_s = song[n_song - 1].t;
    size_t next = 0;
    int released = 0;
    double last_status = 0;
    for (;;) {
        if (atomic_load(&stop_flag)) break;
        gw_engine_read_meters(engine, &m);
        double now = (double)m.frames / rate;
        while (song && next < n_song && song[next].t <= now) send_midi(engine, song[next++].b, o.bend_range);
        if (!released && now >= end_s && !o.midi_in) {
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
        atomic_store(&stop_flag, 1);
        pthread_join(seq_th, NULL);
    }
    if (stream) {
        Pa_StopStream(stream);
        Pa_CloseStream(stream);
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
    free(song);
    gw_wavenet_free(model);
    if (rc == 1) fprintf(stderr, "genwave: %s\n", err.msg[0] ? err.msg : "play failed");
    return rc;
}
