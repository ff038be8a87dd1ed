/* The CI-sized proof of the 48 kHz recipe (issue "Studio-grade sound"): a
 * small set of bright harmonic tones made here at 48 kHz (every partial up
 * to 15 kHz, a noise floor 80 dB below the tone), and two WaveNets of the
 * same size trained on it for the same number of steps (3000 of 16 x 256
 * targets: a step budget, so the run is the same however fast the machine,
 * about 80 and 55 s on two threads here) through `genwave train wavenet`'s
 * library entry point:
 *   - presets/wavenet-tiny-48k.json: 6 PQMF bands at 8 kHz steps, a mixture
 *     of logistics per band (wavenet.h, "logistic");
 *   - presets/wavenet-tiny-pitch.json: the same network on 8-bit mu-law at
 *     8 kHz (the recipe before), its notes resampled to 48 kHz as the engine
 *     does.
 * Each renders every note from silence with two seeds, measured by
 * gw_quality_measure against the tones themselves. Asserts that the 48 kHz
 * model learns (held-out figure) and that its long-term spectrum above
 * 4.5 kHz, where the tones keep partials 20-40 dB down, is closer to the
 * tones' than the mu-law model's (which has nothing above 4 kHz) by more
 * than 10 dB. The noise floors between partials and the pitch are printed,
 * not asserted: at this budget the mixture's floor is not yet reliably
 * below 8-bit mu-law's (docs/fidelity.md, "The CI-sized recipe", has it
 * seed by seed; $GW_TEST_SEED trains with another seed than 7). */
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

static const int NOTES[3] = {57, 62, 67}; /* 220 .. 392 Hz */
enum { SR = 48000, N_NOTES = 3, FILES_PER_NOTE = 5, STEPS = 3000 };

/* a bright sustained tone: every partial below 15 kHz (40-68 of them),
 * falling 1/k in a fixed phase relation, a slow swell and a little breath
 * noise 80 dB down: content in every band, as a real instrument has */
static void tone(float *x, size_t n, int note, double amp, gw_rng *rng) {
    double hz = gw_midi_to_hz((float)note);
    int partials = (int)(15000.0 / hz);
    for (size_t i = 0; i < n; i++) {
        double t = (double)i / SR, env = fmin(1.0, t / 0.02) * (0.9 + 0.1 * sin(2 * M_PI * t));
        double v = 0;
        for (int k = 1; k <= partials; k++)
            v += sin(2 * M_PI * hz * k * t + 0.7 * k) / k;
        x[i] = (float)(amp * env * v / 4.0 + 1e-4 * amp * gw_rng_normal(rng));
    }
}

/* a file of the data set: the tone a little louder file by file */
static void data_tone(float *x, size_t n, int note, int file, gw_rng *rng) {
    tone(x, n, note, 0.5 + 0.1 * file / FILES_PER_NOTE, rng);
}

typedef struct result {
    float val_first, val_last;
    float noise_db, ltas_db, high_db; /* medians over notes and seeds: noise floor, LTAS
                                         distance, and that distance above 4.5 kHz */
    int in_tune;                      /* notes within 50 cents */
} result;

/* trains `preset` on data for STEPS steps, renders every note from silence
 * (1.25 s, seeds 1 and 2), resamples to 48 kHz and measures it against the
 * note's reference tone */
static result train_and_measure(const char *preset, const char *data, const char *run,
                                const gw_quality *ref) {
    gw_wavenet_trainer_result r;
    gw_test_wavenet_train_for(&r, preset, data, run, "slow_wavenet_48k", STEPS, 0, 200);
    gw_error err = {0};
    result out = {.val_first = r.val_bits_initial, .val_last = r.val_bits};
    gw_wavenet *m = NULL;
    if (gw_wavenet_load(&m, r.model_path, &err)) fail_msg("load: %s", err.msg);
    const int rate = m->cfg.sample_rate, V = 2 * N_NOTES;
    gw_wavenet_stream *s = NULL;
    assert_int_equal(gw_wavenet_stream_create(&s, m, V, &err), GW_OK);
    size_t n = (size_t)(1.25 * rate);
    float *audio = malloc((size_t)V * n * sizeof(float));
    float cond[64], noise[2 * N_NOTES], ltas[2 * N_NOTES], high[2 * N_NOTES];
    assert_true(m->cfg.cond_dim <= 64);
    for (int v = 0; v < V; v++) {
        gw_wavenet_cond_features(&m->cfg, cond, (float)NOTES[v % N_NOTES], 100 / 127.0f, 0);
        gw_wavenet_stream_set_cond(s, v, cond);
    }
    gw_rng rng;
    gw_rng_seed(&rng, 1);
    gw_wavenet_stream_generate(s, audio, V, n, 1.0f, &rng); /* seeds: voices 0-2 and 3-5 */
    for (int v = 0; v < V; v++) {
        float *x = audio + (size_t)v * n, *y = x;
        size_t ny = n;
        if (rate != SR && gw_resample(&y, &ny, x, n, rate, SR, &err)) fail_msg("%s", err.msg);
        gw_quality q;
        if (gw_quality_measure(&q, y, ny, SR, (float)NOTES[v % N_NOTES], &err))
            fail_msg("quality: %s", err.msg);
        noise[v] = q.noise_db;
        ltas[v] = gw_quality_ltas_distance(&q, &ref[v % N_NOTES]);
        high[v] = gw_quality_ltas_distance_in(&q, &ref[v % N_NOTES], 4500.0f, 16000.0f);
        out.in_tune += isfinite(q.cents) && fabsf(q.cents) < 50.0f;
        print_message("  %s note %d: %+.1f cents, noise %.1f dB, bandwidth %.0f Hz, LTAS %.1f dB "
                      "(above 4.5 kHz %.1f dB)\n",
                      preset, NOTES[v % N_NOTES], (double)q.cents, (double)q.noise_db,
                      (double)q.bandwidth_hz, (double)ltas[v], (double)high[v]);
        if (y != x) free(y);
    }
    out.noise_db = gw_quality_median(noise, (size_t)V);
    out.ltas_db = gw_quality_median(ltas, (size_t)V);
    out.high_db = gw_quality_median(high, (size_t)V);
    free(audio);
    gw_wavenet_stream_free(s);
    gw_wavenet_free(m);
    return out;
}

static void test_48k_keeps_the_spectrum_above_4k(void **state) {
    (void)state;
    char dir[4096], data[4200], run_a[4200], run_b[4200];
    gw_test_tmpdir(dir, sizeof dir, "wavenet_48k");
    snprintf(data, sizeof data, "%s/data", dir);
    snprintf(run_a, sizeof run_a, "%s/run-48k", dir);
    snprintf(run_b, sizeof run_b, "%s/run-mulaw", dir);
    assert_int_equal(mkdir(data, 0755), 0);
    gw_rng rng;
    gw_rng_seed(&rng, 2026);
    gw_test_write_tones(data, NOTES, N_NOTES, FILES_PER_NOTE, (size_t)(0.8 * SR), SR,
                        GW_AUDIO_WAV24, data_tone, &rng);
    /* the reference: each note's tone as the data has it */
    gw_quality ref[N_NOTES];
    size_t n = (size_t)(1.25 * SR);
    float *x = malloc(n * sizeof(float));
    gw_error err = {0};
    for (int k = 0; k < N_NOTES; k++) {
        tone(x, n, NOTES[k], 0.55, &rng);
        if (gw_quality_measure(&ref[k], x, n, SR, (float)NOTES[k], &err)) fail_msg("%s", err.msg);
        print_message("reference note %d: noise %.1f dB, bandwidth %.0f Hz\n", NOTES[k],
                      (double)ref[k].noise_db, (double)ref[k].bandwidth_hz);
    }
    free(x);

    result a = train_and_measure("wavenet-tiny-48k", data, run_a, ref);
    result b = train_and_measure("wavenet-tiny-pitch", data, run_b, ref);
    const result *r[2] = {&a, &b};
    const char *name[2] = {"48 kHz bands", "8-bit mu-law"};
    for (int i = 0; i < 2; i++)
        print_message("%s: held-out %.2f -> %.2f bits, %d of %d in tune, noise %.1f dB, LTAS "
                      "%.1f dB, above 4.5 kHz %.1f dB\n",
                      name[i], (double)r[i]->val_first, (double)r[i]->val_last, r[i]->in_tune,
                      2 * N_NOTES, (double)r[i]->noise_db, (double)r[i]->ltas_db,
                      (double)r[i]->high_db);
    assert_true(a.val_last < a.val_first - 1.5f); /* it learns */
    assert_true(a.high_db < b.high_db - 10.0f);   /* the spectrum above 4.5 kHz */
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_48k_keeps_the_spectrum_above_4k),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
