/* spec_learn.h - the set-up the spectrogram learning tests (slow_gan_learns,
 * slow_vae_learns, slow_pixelcnn_learns) share (header-only, test code):
 * a scratch folder with spec_synth.h's drums in it, one-thread trainer
 * options, a checked training run, the resume check and the clean-up. Each
 * test keeps its own figures and assertions on what it trained.
 * Include after cmocka.h. */
#ifndef GW_TEST_SPEC_LEARN_H
#define GW_TEST_SPEC_LEARN_H

#include "gw_test.h"
#include "spec_synth.h"
#include "train/spec_trainer.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

typedef struct gw_spec_learn {
    char dir[4096], data[4200], run[4200], preset[4200];
    gw_spec_trainer_opts o;
} gw_spec_learn;

typedef gw_status (*gw_spec_learn_fn)(const gw_spec_trainer_opts *o, gw_spec_trainer_result *res,
                                      gw_error *err);

/* DIR = a fresh temp folder NAME.XXXXXX, DIR/data = 40 drums of 0.5 s of
 * each kind from data_seed; options: presets/PRESET.json (preset NULL: the
 * test writes its own and sets L->preset), DIR/run, steps, training seed,
 * one thread (the same trajectory on every run), a sample grid every 200
 * steps, progress on stderr */
static inline void gw_spec_learn_setup(gw_spec_learn *L, const char *name, uint64_t data_seed,
                                       const char *preset, long steps, uint64_t seed) {
    gw_test_tmpdir(L->dir, sizeof L->dir, name);
    snprintf(L->data, sizeof L->data, "%s/data", L->dir);
    snprintf(L->run, sizeof L->run, "%s/run", L->dir);
    L->preset[0] = 0;
    if (preset) gw_test_preset_path(L->preset, sizeof L->preset, preset);
    mkdir(L->data, 0777);
    assert_int_equal(gw_synth_drums(L->data, 40, 0.5, data_seed), 0);
    gw_spec_trainer_opts_default(&L->o);
    L->o.data_dir = L->data;
    L->o.preset = L->preset;
    L->o.out_dir = L->run;
    L->o.steps = steps;
    L->o.threads = 1;
    L->o.seed = seed;
    L->o.sample_every = 200;
    L->o.progress = stderr;
}

/* trains with L->o; a failure prints the trainer's message */
static inline void gw_spec_learn_train(gw_spec_learn *L, gw_spec_learn_fn train,
                                       gw_spec_trainer_result *res) {
    gw_error err = {0};
    gw_status st = train(&L->o, res, &err);
    if (st) fprintf(stderr, "%s\n", err.msg);
    assert_int_equal(st, GW_OK);
}

/* resume: the run continues from its checkpoint to `steps` */
static inline void gw_spec_learn_resume(gw_spec_learn *L, gw_spec_learn_fn train, long steps) {
    gw_spec_trainer_result res;
    gw_error err = {0};
    L->o.resume = 1;
    L->o.steps = steps;
    assert_int_equal(train(&L->o, &res, &err), GW_OK);
    assert_int_equal(res.steps, steps);
}

/* removes DIR and all in it */
static inline void gw_spec_learn_cleanup(gw_spec_learn *L) {
    char cmd[8500];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", L->dir);
    assert_int_equal(system(cmd), 0);
}

#endif
