/* gw_jack_record OUT.wav SECONDS SOURCE_PATTERN [WAIT_SECONDS]
 *
 * A minimal JACK recorder for tests/engine/jack_realtime.sh: registers one
 * input port, waits (up to WAIT_SECONDS, default 20) for an output port whose
 * name matches the regular expression SOURCE_PATTERN, connects it, records
 * SECONDS of it into memory reserved up front, and writes OUT.wav (32-bit
 * float) at the server's rate. From start to exit it counts the xruns the
 * server reports to its clients (jack_set_xrun_callback) and prints one line
 *   recorded FRAMES frames at RATE Hz from PORT, xruns N, rms R, f0 F Hz, starts S...
 * where rms and the YIN f0 (60..2000 Hz) are of the recording past its
 * first second (the note's attack), and starts lists (up to 8) the frames
 * where sound begins after at least 0.1 s of exact silence (or at the
 * start), "-" if none.
 * Exit status 0 on success, 1 on any failure (message on stderr). */
#include "dsp/gw_dsp.h"
#include "io/audio.h"

#include <math.h>
#include <jack/jack.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jack_capture.h"

typedef struct rec {
    jack_port_t *in;
    gw_capture c;
} rec;

/* audio thread: copy while armed, nothing else */
static int on_process(jack_nframes_t nframes, void *arg) {
    rec *r = arg;
    if (!atomic_load_explicit(&r->c.armed, memory_order_acquire)) return 0;
    gw_capture_block(&r->c, jack_port_get_buffer(r->in, nframes), nframes);
    return 0;
}

static int on_xrun(void *arg) {
    rec *r = arg;
    atomic_fetch_add(&r->c.xruns, 1);
    return 0;
}

int main(int argc, char **argv) {
    if (argc < 4 || argc > 5) {
        fprintf(stderr, "usage: gw_jack_record OUT.wav SECONDS SOURCE_PATTERN [WAIT_SECONDS]\n");
        return 1;
    }
    const char *out = argv[1], *pattern = argv[3];
    double seconds = atof(argv[2]), wait_s = argc > 4 ? atof(argv[4]) : 20.0;
    if (!(seconds > 0 && seconds < 3600)) {
        fprintf(stderr, "gw_jack_record: SECONDS '%s' must be in (0, 3600)\n", argv[2]);
        return 1;
    }
    jack_status_t status;
    jack_client_t *c = jack_client_open("gw_record", JackNoStartServer, &status);
    if (!c) {
        fprintf(stderr, "gw_jack_record: no JACK server (status 0x%x)\n", (unsigned)status);
        return 1;
    }
    rec r = {0};
    const int rate = (int)jack_get_sample_rate(c);
    r.c.cap = (size_t)(seconds * rate);
    r.c.buf = calloc(r.c.cap, sizeof(float));
    r.in = jack_port_register(c, "in", JACK_DEFAULT_AUDIO_TYPE, JackPortIsInput, 0);
    int rc = 1;
    char source[512] = "";
    if (!r.c.buf || !r.in) {
        fprintf(stderr, "gw_jack_record: cannot reserve %zu frames or register a port\n",
                r.c.cap);
        goto done;
    }
    jack_set_process_callback(c, on_process, &r);
    jack_set_xrun_callback(c, on_xrun, &r);
    if (jack_activate(c)) {
        fprintf(stderr, "gw_jack_record: cannot activate the client\n");
        goto done;
    }
    for (double waited = 0; !source[0]; waited += 0.05) {
        const char **ports = jack_get_ports(c, pattern, JACK_DEFAULT_AUDIO_TYPE, JackPortIsOutput);
        if (ports && ports[0]) snprintf(source, sizeof source, "%s", ports[0]);
        jack_free(ports);
        if (source[0]) break;
        if (waited > wait_s) {
            fprintf(stderr, "gw_jack_record: no output port matching '%s' after %.0f s\n",
                    pattern, wait_s);
            goto done;
        }
        gw_capture_sleep_ms(50);
    }
    if (jack_connect(c, source, jack_port_name(r.in))) {
        fprintf(stderr, "gw_jack_record: cannot connect %s\n", source);
        goto done;
    }
    atomic_store_explicit(&r.c.armed, 1, memory_order_release);
    if (!gw_capture_wait(&r.c, seconds + 10.0)) {
        fprintf(stderr, "gw_jack_record: the server stopped delivering (%zu of %zu frames)\n",
                atomic_load(&r.c.n), r.c.cap);
        goto done;
    }
    jack_deactivate(c);
    gw_error err = {0};
    if (gw_audio_write(out, r.c.buf, r.c.cap, 1, rate, GW_AUDIO_WAVF32, &err)) {
        fprintf(stderr, "gw_jack_record: %s\n", err.msg);
        goto done;
    }
    size_t skip = r.c.cap > (size_t)rate * 2 ? (size_t)rate : 0;
    double ss = 0;
    for (size_t i = skip; i < r.c.cap; i++) ss += (double)r.c.buf[i] * r.c.buf[i];
    float f0 = gw_yin_f0(r.c.buf + skip, r.c.cap - skip, rate, 60.0f, 2000.0f);
    printf("recorded %zu frames at %d Hz from %s, xruns %d, rms %.4f, f0 %.2f Hz, starts", r.c.cap,
           rate, source, atomic_load(&r.c.xruns), sqrt(ss / (double)(r.c.cap - skip)), (double)f0);
    int starts = 0;
    for (size_t i = 0, quiet = (size_t)rate; i < r.c.cap && starts < 8; i++) {
        if (r.c.buf[i] != 0.0f && quiet >= (size_t)rate / 10) printf(" %zu", i), starts++;
        quiet = r.c.buf[i] == 0.0f ? quiet + 1 : 0;
    }
    printf("%s\n", starts ? "" : " -");
    rc = 0;
done:
    jack_client_close(c);
    free(r.c.buf);
    return rc;
}
