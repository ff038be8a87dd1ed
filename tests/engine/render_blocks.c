/* gw_render_blocks MODEL.gwm SONG.mid OUT.wav SEED RATE [PRECISION] - a host's view of
 * `genwave render --midi`: the song's messages go through the engine's MIDI
 * map, stamped to their frames (gw_engine_song_frame), all sent before the
 * first block, and the engine is driven in odd, changing block sizes (1, 37,
 * 509, 256, 3, 100 frames, ...) as a host with a varying period would. The
 * output, cut and scaled as render does, is written as 32-bit float WAV;
 * tests/engine/render_engine.sh compares it with render's, byte for byte.
 * The settings are render's defaults: 64 voices, attack 5 ms, release 60 ms,
 * temperature 1, bend range 2, the model's default precision (or PRECISION,
 * as render --precision: f32, f16, bf16, i8). */
#include "dsp/gw_dsp.h"
#include "engine/gw_engine.h"
#include "io/audio.h"
#include "io/midi.h"
#include "models/wavenet_file.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv) {
    if (argc != 6 && argc != 7) {
        fprintf(stderr,
                "usage: gw_render_blocks MODEL.gwm SONG.mid OUT.wav SEED RATE [PRECISION]\n");
        return 2;
    }
    gw_error err = {0};
    gw_wavenet *m = NULL;
    gw_midi_file song = {0};
    gw_engine *e = NULL;
    float *out = NULL;
    int rc = 1;
    if (gw_wavenet_load(&m, argv[1], &err) || gw_midi_read(&song, argv[2], &err)) goto done;
    gw_engine_config cfg;
    gw_engine_config_default(&cfg);
    cfg.max_voices = 64;
    cfg.host_rate = atoi(argv[5]) > 0 ? atoi(argv[5]) : m->cfg.sample_rate;
    cfg.max_block = 509;
    cfg.attack_ms = 5.0f;
    cfg.release_ms = 60.0f;
    cfg.seed = strtoull(argv[4], NULL, 10);
    cfg.weights = gw_wavenet_default_weights(&m->cfg);
    if (argc == 7 && gw_wavenet_weight_type_parse(&cfg.weights, argv[6], &err)) goto done;
    cfg.events = 1 << 16;
    if (gw_engine_create(&e, m, &cfg, &err) || gw_engine_start(e, &err)) goto done;
    gw_midi_map map;
    gw_midi_map_init(&map, 2.0f, 0);
    for (size_t i = 0; i < song.n; i++)
        gw_midi_map_send(&map, e, song.events[i].msg, song.events[i].len,
                         gw_engine_song_frame(song.events[i].seconds, cfg.host_rate));
    const uint8_t all_off[3] = {0xB0, 123, 0};
    gw_midi_map_send(&map, e, all_off, 3, gw_engine_song_frame(song.seconds, cfg.host_rate));
    const size_t offset = gw_engine_song_offset(e), n = gw_engine_song_frames(&cfg, song.seconds);
    out = malloc((n + offset) * sizeof(float));
    if (!out) goto done;
    static const int blocks[] = {1, 37, 509, 256, 3, 100, 7, 480, 64, 333};
    for (size_t done = 0, k = 0; done < n + offset; k++) {
        size_t b = (size_t)blocks[k % (sizeof blocks / sizeof *blocks)];
        if (b > n + offset - done) b = n + offset - done;
        gw_engine_process(e, out + done, (int)b);
        done += b;
    }
    memmove(out, out + offset, n * sizeof(float));
    gw_fit_peak(out, n, 0.99f);
    if (gw_audio_write(argv[3], out, n, 1, cfg.host_rate, GW_AUDIO_WAVF32, &err)) goto done;
    gw_engine_meters mt;
    gw_engine_read_meters(e, &mt);
    printf("%zu frames, %llu events dropped\n", n, (unsigned long long)mt.dropped);
    rc = 0;
done:
    if (rc) fprintf(stderr, "gw_render_blocks: %s\n", err.msg[0] ? err.msg : "out of memory");
    free(out);
    gw_engine_free(e);
    gw_midi_free(&song);
    gw_wavenet_free(m);
    return rc;
}
