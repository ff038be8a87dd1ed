/* The CI-sized proof that WaveNet training learns (issue 4): a tiny pitched
 * dataset made here (harmonic tones at 4 pitches, 3 files each, labelled in
 * manifest.csv), a small pitch-conditioned WaveNet (presets/
 * wavenet-tiny-pitch.json) trained for 3,000 steps on two threads through
 * `genwave train wavenet`'s library entry point (a fixed count, not a time:
 * the run is then the same on a slow and a fast machine; a minute gave
 * 1,850 steps on an AMD family 25 model 17, where one of the four notes
 * came out unpitched, and about 3,000 on family 26 model 2). Asserts:
 *   - validation bits/sample (held-out files) fall by more than 1.5 bits
 *     below the untrained figure;
 *   - the saved model.gwm loads, and every trained pitch rendered from
 *     silence measures (gw_yin_f0) within 50 cents of its note. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "dsp/gw_dsp.h"
#include "gw_test.h"
#include "io/audio.h"
#include "models/wavenet.h"
#include "models/wavenet_file.h"
#include "train/trainer.h"
#include "train/wavenet_trainer.h"
#include "wavenet_learn.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const int NOTES[4] = {57, 62, 67, 72}; /* 220 .. 523 Hz */
enum { SR = 8000, FILES_PER_NOTE = 6 };

/* a plucked-string-like tone: 3 harmonics in a fixed phase relation (one
 * timbre: a dozen files cannot teach every phase relation of 3 partials, and
 * a model fitted to a few overfits them), random level and decay, 10 ms
 * attack, a little noise */
static void tone(float *x, size_t n, int note, int file, gw_rng *rng) {
    (void)file;
    double hz = gw_midi_to_hz((float)note);
    const double ph[3] = {0.0, 1.0, 2.0};
    double amp = 0.4 + 0.2 * gw_rng_uniform(rng), decay = 0.2 + 0.4 * gw_rng_uniform(rng);
    for (size_t i = 0; i < n; i++) {
        double t = (double)i / SR, env = fmin(1.0, t / 0.01) * exp(-decay * t);
        double v = sin(2 * M_PI * hz * t + ph[0]) + 0.5 * sin(4 * M_PI * hz * t + ph[1]) +
                   0.25 * sin(6 * M_PI * hz * t + ph[2]);
        x[i] = (float)(amp * env * v / 1.75 + 0.002 * gw_rng_normal(rng));
    }
}

static void test_wavenet_learns_pitches(void **state) {
    char dir[4096], data[4200], run[4200];
    gw_test_tmpdir(dir, sizeof dir, "wavenet_learns");
    snprintf(data, sizeof data, "%s/data", dir);
    snprintf(run, sizeof run, "%s/run", dir);
    assert_int_equal(mkdir(data, 0755), 0);
    gw_rng rng;
    gw_rng_seed(&rng, 2024);
    gw_test_write_tones(data, NOTES, 4, FILES_PER_NOTE, (size_t)(0.6 * SR), SR, GW_AUDIO_WAV16,
                        tone, &rng);

    gw_wavenet_trainer_result r;
    gw_test_wavenet_train_for(&r, "wavenet-tiny-pitch", data, run, "slow_wavenet_learns", 3000, 0,
                              100);
    gw_error err = {0};
    print_message("%ld steps, %.0f samples/s, validation %.3f -> %.3f bits/sample\n", r.steps,
                  r.samples_per_s, r.val_bits_initial, r.val_bits);
    assert_true(r.val_bits_initial > 6.0f); /* untrained: close to 8 bits */
    assert_true(r.val_bits < r.val_bits_initial - 1.5f);

    gw_wavenet *m = NULL;
    if (gw_wavenet_load(&m, r.model_path, &err)) fail_msg("load: %s", err.msg);
    gw_wavenet_stream *s = NULL;
    assert_int_equal(gw_wavenet_stream_create(&s, m, 4, &err), GW_OK);
    size_t n = (size_t)(1.25 * SR), skip = SR / 4;
    float *audio = malloc(4 * n * sizeof(float));
    float cond[64];
    assert_true(m->cfg.cond_dim <= 64);
    for (int k = 0; k < 4; k++) {
        gw_wavenet_stream_reset(s, k);
        gw_wavenet_cond_features(&m->cfg, cond, (float)NOTES[k], 100 / 127.0f, 0);
        gw_wavenet_stream_set_cond(s, k, cond);
    }
    gw_rng_seed(&rng, 99);
    gw_wavenet_stream_generate(s, audio, 4, n, 1.0f, &rng); /* all pitches in one batch */
    int in_tune = 0;
    for (int k = 0; k < 4; k++) {
        const float *x = audio + (size_t)k * n + skip;
        float f0 = gw_yin_f0(x, n - skip, SR, 60.0f, 1500.0f);
        float want = gw_midi_to_hz((float)NOTES[k]);
        float cents = f0 > 0 ? gw_cents(f0, want) : 1e9f;
        double rms = 0;
        for (size_t i = 0; i < n - skip; i++) rms += (double)x[i] * x[i];
        print_message("note %d: f0 %.1f Hz (want %.1f), %+.1f cents, rms %.3f\n", NOTES[k], f0,
                      want, cents, sqrt(rms / (n - skip)));
        in_tune += fabsf(cents) < 50.0f;
    }
    assert_int_equal(in_tune, 4);
    free(audio);
    gw_wavenet_stream_free(s);
    gw_wavenet_free(m);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wavenet_learns_pitches),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
