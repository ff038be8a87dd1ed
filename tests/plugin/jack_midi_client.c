/* gw_jack_midi_client MIDI_TARGET AUDIO_SOURCE SECONDS - the small JACK
 * client of tests/plugin/jalv_live.sh: plays chords into MIDI_TARGET (the
 * plugin's MIDI port in jalv), records AUDIO_SOURCE (its output) and counts
 * the xruns the JACK server reports, for SECONDS after a one-second settle
 * (connecting ports reorders JACK's graph, which may itself cost a cycle).
 * Prints one line
 *   xruns=N frames=F rms=R sounding_rms=S
 * (sounding_rms over the periods while a chord is held) and exits 0, or
 * names what failed and exits 1. */
#include <jack/jack.h>
#include <jack/midiport.h>

#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct client {
    jack_client_t *jack;
    jack_port_t *midi_out, *audio_in;
    jack_nframes_t rate;
    uint64_t frame;       /* frames processed (process thread only) */
    double sum2, sum2_on; /* process thread only; read after deactivate */
    uint64_t n_on;
    atomic_int xruns;
} client;

/* a chord (A3, C4, E4) held 0.6 s of every second, in notes 48..72 */
static const unsigned char chord[3] = {57, 60, 64};

static int on_process(jack_nframes_t n, void *arg) {
    client *c = arg;
    void *mb = jack_port_get_buffer(c->midi_out, n);
    jack_midi_clear_buffer(mb);
    const float *in = jack_port_get_buffer(c->audio_in, n);
    if (c->frame == 0) { /* all notes off: a previous take may have left a chord held */
        const unsigned char off[3] = {0xB0, 123, 0};
        jack_midi_event_write(mb, 0, off, 3);
    }
    uint64_t period = c->rate, hold = (uint64_t)(0.6 * c->rate);
    for (jack_nframes_t i = 0; i < n; i++) {
        uint64_t t = c->frame + i, ph = t % period;
        if (ph == 0 || ph == hold) {
            for (int k = 0; k < 3; k++) {
                unsigned char ev[3] = {ph == 0 ? 0x90 : 0x80, chord[k], ph == 0 ? 100 : 0};
                jack_midi_event_write(mb, i, ev, 3);
            }
        }
        double x = in[i];
        c->sum2 += x * x;
        /* sounding: well inside a held chord (past attack and latency) */
        if (ph > c->rate / 10 && ph < hold) {
            c->sum2_on += x * x;
            c->n_on++;
        }
    }
    c->frame += n;
    return 0;
}

static int on_xrun(void *arg) {
    client *c = arg;
    atomic_fetch_add(&c->xruns, 1);
    return 0;
}

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: gw_jack_midi_client MIDI_TARGET AUDIO_SOURCE SECONDS\n");
        return 2;
    }
    double seconds = atof(argv[3]);
    client c = {0};
    atomic_init(&c.xruns, 0);
    jack_status_t st;
    c.jack = jack_client_open("gw-midi-client", JackNoStartServer, &st);
    if (!c.jack) {
        fprintf(stderr, "gw_jack_midi_client: cannot connect to the JACK server (status 0x%x)\n",
                st);
        return 1;
    }
    c.rate = jack_get_sample_rate(c.jack);
    c.midi_out =
        jack_port_register(c.jack, "midi_out", JACK_DEFAULT_MIDI_TYPE, JackPortIsOutput, 0);
    c.audio_in = jack_port_register(c.jack, "in", JACK_DEFAULT_AUDIO_TYPE, JackPortIsInput, 0);
    if (!c.midi_out || !c.audio_in || jack_set_process_callback(c.jack, on_process, &c) ||
        jack_set_xrun_callback(c.jack, on_xrun, &c) || jack_activate(c.jack)) {
        fprintf(stderr, "gw_jack_midi_client: cannot set up the JACK client\n");
        jack_client_close(c.jack);
        return 1;
    }
    int rc = 0;
    if (jack_connect(c.jack, jack_port_name(c.midi_out), argv[1])) {
        fprintf(stderr, "gw_jack_midi_client: cannot connect to %s\n", argv[1]);
        rc = 1;
    } else if (jack_connect(c.jack, argv[2], jack_port_name(c.audio_in))) {
        fprintf(stderr, "gw_jack_midi_client: cannot connect from %s\n", argv[2]);
        rc = 1;
    } else {
        struct timespec settle = {1, 0};
        nanosleep(&settle, NULL);
        atomic_store(&c.xruns, 0);
        struct timespec ts = {(time_t)seconds, (long)((seconds - (time_t)seconds) * 1e9)};
        nanosleep(&ts, NULL);
    }
    jack_deactivate(c.jack);
    if (rc == 0)
        printf("xruns=%d frames=%llu rms=%.6f sounding_rms=%.6f\n", atomic_load(&c.xruns),
               (unsigned long long)c.frame, c.frame ? sqrt(c.sum2 / (double)c.frame) : 0.0,
               c.n_on ? sqrt(c.sum2_on / (double)c.n_on) : 0.0);
    jack_client_close(c.jack);
    return rc;
}
