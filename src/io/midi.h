/* midi.h - Standard MIDI Files (SMF, formats 0 and 1), read by genwave's own
 * parser: every length, variable-length quantity and running status is
 * checked against the bytes actually there before it is used, so a
 * truncated, oversized or fuzzed file gives a one-line error naming the file,
 * the track and the byte offset, never a crash (tests/io/test_midi.c feeds it
 * every truncation and seeded byte mutations of real files; tests/fuzz/ has
 * its libFuzzer target). It replaces libsmf, which trusted a track's
 * declared length and read past the end of a 31-byte file.
 *
 * What comes out is what a synth needs: the channel messages (note on/off,
 * controllers, pitch bend, program change, aftertouch) of all tracks merged in
 * time order, each with its time in seconds through the file's tempo map
 * (Set Tempo meta events of any track, as format 1 requires) or SMPTE
 * division. Meta events other than tempo and end-of-track, and SysEx, are
 * skipped. The meaning of the messages is the engine's (engine/gw_engine.h,
 * gw_engine_midi), not this reader's.
 */
#ifndef GW_IO_MIDI_H
#define GW_IO_MIDI_H

#include "base/gw_base.h"

#include <stddef.h>
#include <stdint.h>

enum {
    GW_MIDI_MAX_BYTES = 16 << 20, /* a larger file is refused before it is read */
};

typedef struct gw_midi_event {
    double seconds; /* from the start of the song */
    uint64_t tick;  /* in the file's division */
    uint8_t msg[3]; /* status (0x80..0xEF, with its channel), data bytes (msg[2] = 0 if absent) */
    uint8_t len;    /* 2 or 3 */
    uint16_t track; /* 0-based, the order of the MTrk chunks */
} gw_midi_event;

typedef struct gw_midi_file {
    gw_midi_event *events; /* time order; equal ticks keep track, then file order */
    size_t n;
    double seconds; /* the song's end: the latest End of Track (or last event) */
    int format;     /* 0 or 1 */
    int n_tracks;
} gw_midi_file;

/* Parses an SMF held in memory; `name` stands for the file in messages. On
 * error *out is left empty (nothing to free). */
gw_status gw_midi_parse(gw_midi_file *out, const uint8_t *data, size_t n, const char *name,
                        gw_error *err);
/* reads and parses a file (a regular file of at most GW_MIDI_MAX_BYTES) */
gw_status gw_midi_read(gw_midi_file *out, const char *path, gw_error *err);
void gw_midi_free(gw_midi_file *m);

#endif
