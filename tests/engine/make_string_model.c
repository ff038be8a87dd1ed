/* gw_string_model OUT.gwm [RATE [LO HI]] - writes the hand-set
 * Karplus-Strong WaveNet of string_model.h (default 16000 Hz, notes 48..72),
 * for tests that need a model whose pitch is known without training.
 * gw_string_model --bands OUT.gwm - writes engine_models.h's random 48 kHz
 * model of 6 bands instead (for tests of the engine's multi-band path). */
#include "engine_models.h"
#include "models/wavenet_file.h"
#include "string_model.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv) {
    if (argc == 3 && !strcmp(argv[1], "--bands")) {
        gw_error err = {0};
        gw_wavenet *m = NULL;
        int rc = gw_test_band_model(&m, 48000, 6, 7, &err) || gw_wavenet_save(m, argv[2], &err);
        if (rc) fprintf(stderr, "gw_string_model: %s\n", err.msg);
        gw_wavenet_free(m);
        return rc;
    }
    if (argc != 2 && argc != 3 && argc != 5) {
        fprintf(stderr, "usage: gw_string_model OUT.gwm [RATE [LO HI]]\n");
        return 2;
    }
    int rate = argc > 2 ? atoi(argv[2]) : 16000;
    int lo = argc > 4 ? atoi(argv[3]) : 48, hi = argc > 4 ? atoi(argv[4]) : 72;
    gw_error err = {0};
    gw_wavenet *m = NULL;
    if (gw_test_string_model(&m, rate, lo, hi, &err) || gw_wavenet_save(m, argv[1], &err)) {
        fprintf(stderr, "gw_string_model: %s\n", err.msg);
        gw_wavenet_free(m);
        return 1;
    }
    gw_wavenet_free(m);
    return 0;
}
