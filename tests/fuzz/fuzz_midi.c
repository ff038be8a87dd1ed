/* libFuzzer target: Standard MIDI Files (io/midi.h). Any input must parse or
 * give a one-line error naming the file, never crash, hang or leak; a file
 * that parses has its events in time order with finite times. */
#include "io/midi.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    gw_midi_file m;
    gw_error err = {0};
    if (gw_midi_parse(&m, data, size, "fuzz.mid", &err) == GW_OK) {
        for (size_t i = 0; i < m.n; i++) {
            if (!isfinite(m.events[i].seconds)) abort();
            if (i && m.events[i].seconds < m.events[i - 1].seconds) abort();
            if (m.events[i].len < 2 || m.events[i].len > 3 || m.events[i].msg[0] < 0x80) abort();
        }
        gw_midi_free(&m);
    } else if (strncmp(err.msg, "fuzz.mid: ", 10) != 0 || strchr(err.msg, '\n')) {
        abort();
    }
    return 0;
}
