/* bench_lv2_plugin [--highpass R] [SECONDS [DIR]] - CPU per voice inside genwave.lv2, measured
 * through liblilv as a DAW runs it (tests/plugin/lv2_host.h): 48 kHz host,
 * blocks of 64 and 256 frames, wavenet-small (16 kHz), wavenet-medium
 * (24 kHz), wavenet-48k-bands (48 kHz in 6 bands: no resampling) and
 * wavenet-48k-bands-wide (the architecture of models/clarinet-48k.gwm) with
 * random weights (the cost does not depend on the values), 0, 1, 4, 8 and
 * 16 notes held.
 *
 * For each case it reports the real-time load, CPU time / audio time, of
 * SECONDS (default 3) of audio after a 0.2 s warm-up, and the CPU per voice:
 * (load(v) - load(0)) / v. load(0) is the plugin with nothing sounding (the
 * interpolator and event handling: lv2bench measures only this, since it
 * sends no notes). --models and --voices take comma lists of presets and of
 * note counts (0 first) to time only those. One thread; the machine's other load shows in the
 * figures, so run it on a quiet machine. With DIR the models are written
 * there and kept (e.g. to put one in a bundle copy as default.gwm for
 * lv2bench). --highpass R sets the plugin's key-tracked low cut (port
 * "highpass", default 0: off), to measure what its filters cost. */
#include "plugin/lv2_host.h"

#include "models/wavenet.h"
#include "models/wavenet_file.h"
#include "bench_util.h"

#include <time.h>
#include <unistd.h>

/* a random-weights model of the preset, saved to path */
static int write_model(const char *preset, const char *path) {
    char file[4096];
    snprintf(file, sizeof file, "%s/presets/%s.json", GW_SOURCE_DIR, preset);
    gw_wavenet_config cfg;
    gw_error err = {0};
    gw_wavenet *m = NULL;
    gw_rng rng;
    if (gw_wavenet_config_load(&cfg, file, &err) || gw_wavenet_create(&m, &cfg, &err)) {
        fprintf(stderr, "bench_lv2_plugin: %s\n", err.msg);
        return 1;
    }
    gw_rng_seed(&rng, 1);
    gw_wavenet_weights_init(&m->w, &cfg, &rng);
    int rc = gw_wavenet_save(m, path, &err) != GW_OK;
    if (rc) fprintf(stderr, "bench_lv2_plugin: %s\n", err.msg);
    gw_wavenet_free(m);
    return rc;
}

/* load of `voices` held notes: CPU seconds per second of audio */
static double measure(const char *model, int block, int voices, double seconds, float highpass) {
    host *H = host_new(48000, block, 1);
    H->ctl[P_HIGHPASS] = highpass;
    event e[2 + 16];
    e[0] = set_model(0, model);
    host_play(H, NULL, 1, 1, e, 1);
    /* notes a minor third apart from C3 */
    for (int v = 0; v < voices; v++)
        e[v] = note_on(v, 48 + 3 * v, 100);
    long warm = (long)(0.2 * 48000);
    host_play(H, NULL, warm, block, e, voices);
    long n = (long)(seconds * 48000);
    double t0 = bench_clock(CLOCK_THREAD_CPUTIME_ID);
    host_play(H, NULL, n, block, NULL, 0);
    double load = (bench_clock(CLOCK_THREAD_CPUTIME_ID) - t0) / seconds;
    LH_CHECK(strcmp(H->notified_path, model) == 0);
    host_free(H);
    return load;
}

/* splits a comma list into at most max items of list (modified in place) */
static int split_list(char *list, const char **item, int max) {
    int n = 0;
    for (char *t = strtok(list, ","); t && n < max; t = strtok(NULL, ",")) item[n++] = t;
    return n;
}

static int usage(void) {
    fprintf(stderr, "usage: bench_lv2_plugin [--highpass R] [--models P,P..] [--voices V,V..] "
                    "[SECONDS [DIR]]\n");
    return 2;
}

int main(int argc, char **argv) {
    float highpass = 0.0f;
    const char *presets[8] = {"wavenet-small", "wavenet-medium", "wavenet-48k-bands",
                              "wavenet-48k-bands-wide"};
    int n_presets = 4, voices[8] = {0, 1, 4, 8, 16}, n_voices = 5;
    while (argc > 2 && !strncmp(argv[1], "--", 2)) {
        if (!strcmp(argv[1], "--highpass")) {
            highpass = (float)atof(argv[2]);
        } else if (!strcmp(argv[1], "--models")) {
            n_presets = split_list(argv[2], presets, 8);
        } else if (!strcmp(argv[1], "--voices")) {
            const char *v[8];
            n_voices = split_list(argv[2], v, 8);
            for (int i = 0; i < n_voices; i++) {
                voices[i] = atoi(v[i]);
                if (voices[i] < 0 || voices[i] > 16) return usage();
            }
            /* the per-voice figure needs the idle load first */
            if (n_voices < 1 || voices[0] != 0) return usage();
        } else {
            return usage();
        }
        argc -= 2, argv += 2;
    }
    double seconds = argc > 1 ? atof(argv[1]) : 3.0;
    if (!(seconds > 0) || !(highpass >= 0.0f && highpass <= 1.0f) || n_presets < 1)
        return usage();
    char tmp[] = "/tmp/bench_lv2.XXXXXX";
    const char *dir = argc > 2 ? argv[2] : mkdtemp(tmp);
    if (!dir) return 1;
    const int blocks[2] = {64, 256};
    printf("genwave.lv2 at 48 kHz, %.1f s per case, one thread, highpass %g\n", seconds,
           (double)highpass);
    printf("%-15s %6s %7s %10s %14s\n", "model", "block", "voices", "load %", "CPU/voice %");
    int rc = 0;
    for (int p = 0; p < n_presets && !rc; p++) {
        char path[4200];
        snprintf(path, sizeof path, "%s/%s.gwm", dir, presets[p]);
        if ((rc = write_model(presets[p], path))) break;
        for (int b = 0; b < 2; b++) {
            double idle = 0;
            for (int k = 0; k < n_voices; k++) {
                double load = measure(path, blocks[b], voices[k], seconds, highpass);
                if (voices[k] == 0) idle = load;
                if (voices[k] == 0)
                    printf("%-15s %6d %7d %10.2f %14s\n", presets[p], blocks[b], 0, 100 * load,
                           "-");
                else
                    printf("%-15s %6d %7d %10.2f %14.2f\n", presets[p], blocks[b], voices[k],
                           100 * load, 100 * (load - idle) / voices[k]);
                fflush(stdout);
            }
        }
        if (argc <= 2) unlink(path);
    }
    if (argc <= 2) rmdir(dir);
    return rc;
}
