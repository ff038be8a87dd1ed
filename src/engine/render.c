/* Offline rendering through the real-time engine (gw_engine.h, "offline"):
 * `genwave render` is the engine's own path, not a second voice loop, so a
 * MIDI file rendered to WAV is what play and the plugin play from the same
 * events and seed. */
#include "engine/gw_engine.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Song time 0 is engine frame 1: frame 0 means "at once" to the engine,
 * which is wherever the warm-up left the resampler's FIFO, and that
 * depends on max_block. */
uint64_t gw_engine_song_frame(double seconds, int host_rate) {
    const double f = seconds * host_rate;
    return 1 + (f <= 0.0 ? 0 : (uint64_t)llround(f));
}

size_t gw_engine_song_offset(const gw_engine *e) {
    return 1 + (size_t)llround(gw_engine_latency_frames(e));
}

size_t gw_engine_song_frames(const gw_engine_config *cfg, double end_seconds) {
    /* every voice is released at the end at the latest, and a release from
     * full level lasts release_ms (a voice fading for a stolen note fades
     * faster, in steal_ms <= the release) */
    const double release = fmax(1.0, (double)cfg->release_ms * 1e-3 * cfg->host_rate);
    return (size_t)(gw_engine_song_frame(end_seconds, cfg->host_rate) - 1) + (size_t)release;
}

gw_status gw_engine_render_song(float **out, size_t *n_out, const gw_wavenet *model,
                                const gw_engine_config *cfg, const gw_engine_song *song,
                                gw_error *err) {
    *out = NULL;
    *n_out = 0;
    gw_engine_config c = *cfg;
    c.mode = GW_ENGINE_CALLBACK;
    if (c.events < 1 << 16) c.events = 1 << 16;
    gw_engine *e = NULL;
    gw_status st = gw_engine_create(&e, model, &c, err);
    if (!st) st = gw_engine_start(e, err);
    if (st) {
        gw_engine_free(e);
        return st;
    }
    if (song->plan_used) gw_engine_plan(e, song->plan_used, NULL);
    const size_t offset = gw_engine_song_offset(e);
    const size_t total = gw_engine_song_frames(&c, song->end_seconds);
    const uint64_t end_frame = gw_engine_song_frame(song->end_seconds, c.host_rate);
    float *buf = malloc((total + offset + (size_t)c.max_block) * sizeof(float));
    if (!buf) {
        gw_engine_free(e);
        return gw_fail(err, GW_ERR_NOMEM, "render: cannot allocate %zu frames", total);
    }
    gw_midi_map map;
    gw_midi_map_init(&map, song->bend_range, 0);
    map.transpose = song->transpose;
    const size_t want = total + offset;
    size_t done = 0, next = 0;
    int ended = 0;
    while (done < want) {
        const size_t block = want - done < (size_t)c.max_block ? want - done : (size_t)c.max_block;
        /* the events due before this block's end; a ring that fills (tens
         * of thousands of events in one block) is drained by rendering */
        const uint64_t block_end = done + block;
        size_t k = block;
        while (next < song->n) {
            const gw_midi_event *ev = &song->ev[next];
            const uint64_t f = gw_engine_song_frame(ev->seconds, c.host_rate);
            if (f >= block_end) break;
            if (gw_engine_free_events(e) < 256 /* a pedal release sends up to 128 */) {
                k = f > done ? (size_t)(f - done) : 1; /* render up to it, then send */
                break;
            }
            gw_midi_map_send(&map, e, ev->msg, ev->len, f);
            next++;
        }
        if (!ended && next == song->n && end_frame < block_end) {
            const uint8_t all_off[3] = {0xB0, 123, 0};
            gw_midi_map_send(&map, e, all_off, 3, end_frame);
            ended = 1;
        }
        gw_engine_process(e, buf + done, (int)k);
        done += k;
    }
    gw_engine_free(e);
    memmove(buf, buf + offset, total * sizeof(float));
    *out = buf;
    *n_out = total;
    return GW_OK;
}
