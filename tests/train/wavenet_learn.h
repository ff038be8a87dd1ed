/* wavenet_learn.h - what the WaveNet learning tests (slow_wavenet_learns,
 * slow_wavenet_48k) share (header-only, test code): a labelled folder of
 * synthetic tones and the preset file the trainer takes. Include after
 * cmocka.h. */
#ifndef GW_TEST_WAVENET_LEARN_H
#define GW_TEST_WAVENET_LEARN_H

#include "base/gw_base.h"
#include "io/audio.h"
#include "train/trainer.h"
#include "train/wavenet_trainer.h"

#include <stdio.h>
#include <stdlib.h>

/* fills x (n samples) with file number `file` of MIDI note `note` */
typedef void (*gw_test_tone_fn)(float *x, size_t n, int note, int file, gw_rng *rng);

/* writes files_per_note files of n samples at rate sr for each of the
 * n_notes notes into dir as tone_NOTE_FILE.wav (format fmt), drawn by tone
 * from rng note by note, and dir/manifest.csv naming each file's note
 * (velocity 100) */
static inline void gw_test_write_tones(const char *dir, const int *notes, int n_notes,
                                       int files_per_note, size_t n, int sr, gw_audio_format fmt,
                                       gw_test_tone_fn tone, gw_rng *rng) {
    char path[4300];
    snprintf(path, sizeof path, "%s/manifest.csv", dir);
    FILE *man = fopen(path, "w");
    assert_non_null(man);
    fprintf(man, "file,note,velocity\n");
    float *x = malloc(n * sizeof(float));
    for (int k = 0; k < n_notes; k++)
        for (int f = 0; f < files_per_note; f++) {
            tone(x, n, notes[k], f, rng);
            char name[64];
            snprintf(name, sizeof name, "tone_%d_%d.wav", notes[k], f);
            snprintf(path, sizeof path, "%s/%s", dir, name);
            gw_error err = {0};
            if (gw_audio_write(path, x, n, 1, sr, fmt, &err)) fail_msg("%s", err.msg);
            fprintf(man, "%s,%d,100\n", name, notes[k]);
        }
    fclose(man);
    free(x);
}

/* the trainer takes a file: preset NAME is found in the source tree (ctest
 * sets GW_SOURCE_DIR), as the CLI would find it */
static inline void gw_test_find_preset(char *file, size_t cap, const char *name) {
    char presets[4096];
    const char *src = getenv("GW_SOURCE_DIR");
    snprintf(presets, sizeof presets, "%s/presets", src ? src : ".");
    const char *dirs[] = {presets};
    gw_error err = {0};
    if (gw_train_find_preset_in(file, cap, name, dirs, 1, &err)) fail_msg("%s", err.msg);
}

/* the training seed: def, or $GW_TEST_SEED to see whether a learning test
 * holds beyond the one seed it runs with */
static inline uint64_t gw_test_seed(uint64_t def) {
    const char *s = getenv("GW_TEST_SEED");
    return s && *s ? strtoull(s, NULL, 10) : def;
}

/* trains preset NAME on data into run (recording command_line) for
 * `steps` steps or `minutes` (0: no limit), whichever ends first, on two
 * threads from seed 7, the held-out figure every val_every steps */
static inline void gw_test_wavenet_train_for(gw_wavenet_trainer_result *r, const char *preset,
                                             const char *data, const char *run,
                                             const char *command_line, int steps, double minutes,
                                             int val_every) {
    char file[4200];
    gw_test_find_preset(file, sizeof file, preset);
    gw_wavenet_trainer_opts o = {.data_dir = data,
                                 .preset = file,
                                 .out_dir = run,
                                 .command_line = command_line,
                                 .steps = steps,
                                 .minutes = minutes,
                                 .threads = 2,
                                 .seed = gw_test_seed(7),
                                 .val_every = val_every,
                                 .progress = stderr};
    gw_error err = {0};
    if (gw_wavenet_trainer_run(&o, r, &err)) fail_msg("train %s: %s", preset, err.msg);
}

#endif
