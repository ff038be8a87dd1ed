/* gw_jack_midi_send OUT.wav AUDIO_SOURCE SECONDS NOTE ON_FRAME OFF_FRAME [WAIT_SECONDS]
 *
 * The JACK MIDI sender of tests/engine/jack_midi.sh: one JACK client
 * ("gw_midi_send") with a MIDI output port `out` and an audio input port
 * `in`. It waits (up to WAIT_SECONDS, default 20) until something has
 * connected to `out` (genwave play --midi-in jack:gw_midi_send:out) and an
 * output port named AUDIO_SOURCE exists, connects that to `in`, lets the
 * graph settle for half a second, then records SECONDS of it. On the
 * recording's own frame clock it sends note-on NOTE (velocity 100) at frame
 * ON_FRAME and its note-off at OFF_FRAME, each at its exact offset inside
 * the JACK period, so sent events and recorded sound share one timeline.
 * From arming to the end it counts the xruns the server reports.
 *
 * Writes OUT.wav (32-bit float) and prints one line of facts:
 *   period P rate R on A off B xruns X first_nonzero F audible G pre_peak Z
 *   note_rms N f0 H tail_rms T
 * first_nonzero / audible: the first frame with |x| > 0 / > 1e-3 (-1 if
 * none); pre_peak: max |x| before ON_FRAME; note_rms and f0 (YIN, 60..2000
 * Hz): over ON_FRAME + 0.2 s .. OFF_FRAME; tail_rms: from OFF_FRAME + 0.5 s
 * to the end. Exit status 0, or 1 with a message on stderr. */
#include "dsp/gw_dsp.h"
#include "io/audio.h"

#include <jack/jack.h>
#include <jack/midiport.h>
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jack_capture.h"

typedef struct sender {
    jack_port_t *out, *in;
    gw_capture c;
    size_t on, off; /* recording frames of the note-on and note-off */
    int note;
} sender;

/* audio thread: silence on the MIDI port until armed, then the two events
 * at their frames and a copy of the input */
static int on_process(jack_nframes_t nframes, void *arg) {
    sender *s = arg;
    void *mb = jack_port_get_buffer(s->out, nframes);
    jack_midi_clear_buffer(mb);
    if (!atomic_load_explicit(&s->c.armed, memory_order_acquire)) return 0;
    size_t n = atomic_load_explicit(&s->c.n, memory_order_relaxed);
    if (n >= s->c.cap) return 0;
    for (int k = 0; k < 2; k++) {
        size_t at = k == 0 ? s->on : s->off;
        if (at >= n && at < n + nframes) {
            unsigned char ev[3] = {k == 0 ? 0x90 : 0x80, (unsigned char)s->note, k == 0 ? 100 : 0};
            jack_midi_event_write(mb, (jack_nframes_t)(at - n), ev, 3);
        }
    }
    gw_capture_block(&s->c, jack_port_get_buffer(s->in, nframes), nframes);
    return 0;
}

static int on_xrun(void *arg) {
    sender *s = arg;
    if (atomic_load(&s->c.armed)) atomic_fetch_add(&s->c.xruns, 1);
    return 0;
}

static double rms(const float *x, size_t a, size_t b) {
    double ss = 0;
    for (size_t i = a; i < b; i++)
        ss += (double)x[i] * x[i];
    return b > a ? sqrt(ss / (double)(b - a)) : 0.0;
}

static long first_above(const float *x, size_t n, float thr) {
    for (size_t i = 0; i < n; i++)
        if (fabsf(x[i]) > thr) return (long)i;
    return -1;
}

int main(int argc, char **argv) {
    if (argc < 7 || argc > 8) {
        fprintf(stderr, "usage: gw_jack_midi_send OUT.wav AUDIO_SOURCE SECONDS NOTE ON_FRAME "
                        "OFF_FRAME [WAIT_SECONDS]\n");
        return 1;
    }
    const char *out = argv[1], *source = argv[2];
    double seconds = atof(argv[3]), wait_s = argc > 7 ? atof(argv[7]) : 20.0;
    sender s = {.note = atoi(argv[4]),
                .on = strtoull(argv[5], NULL, 10),
                .off = strtoull(argv[6], NULL, 10)};
    if (!(seconds > 1 && seconds < 600) || s.note < 0 || s.note > 127 || s.off <= s.on) {
        fprintf(stderr, "gw_jack_midi_send: need 1 < SECONDS < 600, NOTE 0..127, ON < OFF\n");
        return 1;
    }
    jack_status_t status;
    jack_client_t *c = jack_client_open("gw_midi_send", JackNoStartServer, &status);
    if (!c) {
        fprintf(stderr, "gw_jack_midi_send: no JACK server (status 0x%x)\n", (unsigned)status);
        return 1;
    }
    const int rate = (int)jack_get_sample_rate(c);
    s.c.cap = (size_t)(seconds * rate);
    s.c.buf = calloc(s.c.cap, sizeof(float));
    s.out = jack_port_register(c, "out", JACK_DEFAULT_MIDI_TYPE, JackPortIsOutput, 0);
    s.in = jack_port_register(c, "in", JACK_DEFAULT_AUDIO_TYPE, JackPortIsInput, 0);
    int rc = 1;
    if (!s.c.buf || !s.out || !s.in || s.off >= s.c.cap) {
        fprintf(stderr,
                "gw_jack_midi_send: cannot reserve %zu frames or register ports "
                "(or OFF_FRAME past the recording)\n",
                s.c.cap);
        goto done;
    }
    jack_set_process_callback(c, on_process, &s);
    jack_set_xrun_callback(c, on_xrun, &s);
    if (jack_activate(c)) {
        fprintf(stderr, "gw_jack_midi_send: cannot activate the client\n");
        goto done;
    }
    for (double waited = 0;; waited += 0.05) {
        jack_port_t *src = jack_port_by_name(c, source);
        if (src && jack_port_connected(s.out) > 0) break;
        if (waited > wait_s) {
            fprintf(stderr, "gw_jack_midi_send: after %.0f s: %s%s\n", wait_s,
                    src ? "" : "no port named ",
                    src ? "nothing connected to our MIDI out" : source);
            goto done;
        }
        gw_capture_sleep_ms(50);
    }
    if (jack_connect(c, source, jack_port_name(s.in))) {
        fprintf(stderr, "gw_jack_midi_send: cannot connect %s\n", source);
        goto done;
    }
    gw_capture_sleep_ms(500); /* a new connection reorders JACK's graph once */
    atomic_store_explicit(&s.c.armed, 1, memory_order_release);
    if (!gw_capture_wait(&s.c, seconds + 10.0)) {
        fprintf(stderr, "gw_jack_midi_send: the server stopped delivering (%zu of %zu)\n",
                atomic_load(&s.c.n), s.c.cap);
        goto done;
    }
    jack_deactivate(c);
    gw_error err = {0};
    if (gw_audio_write(out, s.c.buf, s.c.cap, 1, rate, GW_AUDIO_WAVF32, &err)) {
        fprintf(stderr, "gw_jack_midi_send: %s\n", err.msg);
        goto done;
    }
    float pre = 0;
    for (size_t i = 0; i < s.on; i++)
        pre = fmaxf(pre, fabsf(s.c.buf[i]));
    size_t a = s.on + (size_t)(0.2 * rate), tail = s.off + (size_t)(0.5 * rate);
    if (a >= s.off) a = s.on;
    if (tail > s.c.cap) tail = s.c.cap;
    float f0 = gw_yin_f0(s.c.buf + a, s.off - a, rate, 60.0f, 2000.0f);
    printf("period %u rate %d on %zu off %zu xruns %d first_nonzero %ld audible %ld pre_peak %g "
           "note_rms %.4f f0 %.2f tail_rms %g\n",
           (unsigned)jack_get_buffer_size(c), rate, s.on, s.off, atomic_load(&s.c.xruns),
           first_above(s.c.buf, s.c.cap, 0.0f), first_above(s.c.buf, s.c.cap, 1e-3f), (double)pre,
           rms(s.c.buf, a, s.off), (double)f0, rms(s.c.buf, tail, s.c.cap));
    rc = 0;
done:
    jack_client_close(c);
    free(s.c.buf);
    return rc;
}
