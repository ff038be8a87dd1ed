/* bench_engine - the real-time engine's numbers (docs/performance.md,
 * "Real-time engine"): random-weight wavenet-small and wavenet-medium played
 * at 48 kHz through gw_engine in a simulated callback-deadline loop.
 *
 *   bench_engine [--presets DIR] [--models small,medium] [--seconds S]
 *                [--weights f32|f16] [--no-thread]
 *
 * 1. Callback load (generation time / block period) at 1, 4 and 8 held
 *    voices, 256-frame blocks: mean and the worst block.
 * 2. Maximum voices with zero xruns for 256- and 64-frame blocks: voices
 *    1, 2, 3, 4, 6, 8, 12, 16, 24, 32, ... each run for S seconds of audio
 *    (default 2) in callback mode; a block is an xrun when generating it
 *    took longer than its period (the audio thread's deadline).
 *    With threads: the same search in GW_ENGINE_THREAD mode (4 blocks
 *    ahead), paced in real time by clock_nanosleep; an xrun is an underrun.
 * 3. Note-on-to-sound latency per mode: frames from the block in which a
 *    note-on is sent to the first output sample it changes, host buffering
 *    excluded.
 * Prints a markdown table per part and one "RESULT {json}" line per figure.
 * GW_WAVENET_ISA=avx2|scalar caps the voices' kernels (default: the best
 * here; read once here and handed to the engine as its plan's ISA). */
#include "engine/gw_engine.h"
#include "models/wavenet_kernels.h"
#include "bench_util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { HOST = 48000 };

static void sleep_until(double t) {
    struct timespec ts = {(time_t)t, (long)((t - floor(t)) * 1e9)};
    clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
}

typedef struct run_result {
    double load_mean, load_max;
    long xruns;
} run_result;

static gw_engine_resampler resampler = GW_ENGINE_RESAMPLE_SINC;
static char isa_cap[8]; /* $GW_WAVENET_ISA's kernel set ("" = the best), set in main */

static gw_engine *make(const gw_wavenet *m, int voices, int block, gw_engine_mode mode,
                       gw_wavenet_weight_type wt) {
    gw_engine_config c;
    gw_engine_config_default(&c);
    c.max_voices = voices;
    c.host_rate = HOST;
    c.max_block = block;
    c.mode = mode;
    c.weights = wt;
    snprintf(c.plan_isa, sizeof c.plan_isa, "%s", isa_cap);
    c.resampler = resampler;
    c.thread_priority = 1; /* best effort, as genwave play does */
    gw_engine *e = NULL;
    gw_error err = {0};
    if (gw_engine_create(&e, m, &c, &err) || gw_engine_start(e, &err)) {
        fprintf(stderr, "bench_engine: %s\n", err.msg);
        gw_engine_free(e);
        return NULL;
    }
    return e;
}

/* `voices` held notes for `seconds` of audio */
static run_result play(const gw_wavenet *m, int voices, int block, gw_engine_mode mode,
                       gw_wavenet_weight_type wt, double seconds) {
    run_result r = {0, 0, -1};
    gw_engine *e = make(m, voices, block, mode, wt);
    if (!e) return r;
    for (int v = 0; v < voices; v++) gw_engine_note_on(e, 48.0f + (float)(v * 5 % 24), 0.8f);
    float *out = calloc((size_t)block, sizeof(float));
    const double period = (double)block / HOST;
    const long blocks = (long)(seconds / period);
    double sum = 0, t = bench_now();
    long late = 0;
    for (long k = 0; k < blocks; k++) {
        if (mode == GW_ENGINE_THREAD) { /* a sound card asks every period */
            t += period;
            sleep_until(t);
        }
        double t0 = bench_now();
        gw_engine_process(e, out, block);
        double used = (bench_now() - t0) / period;
        if (mode == GW_ENGINE_CALLBACK) {
            sum += used;
            if (used > r.load_max) r.load_max = used;
            if (used > 1.0) late++;
        }
    }
    gw_engine_meters mt;
    gw_engine_read_meters(e, &mt);
    if (mode == GW_ENGINE_THREAD) {
        late = (long)mt.underruns;
        r.load_max = mt.load_peak;
        r.load_mean = mt.load;
    } else {
        r.load_mean = sum / (double)blocks;
    }
    r.xruns = late;
    free(out);
    gw_engine_free(e);
    return r;
}

static int max_voices(const gw_wavenet *m, int block, gw_engine_mode mode,
                      gw_wavenet_weight_type wt, double seconds) {
    static const int ladder[] = {1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64, 96, 128};
    int best = 0;
    for (size_t i = 0; i < sizeof ladder / sizeof ladder[0]; i++) {
        run_result r = play(m, ladder[i], block, mode, wt, seconds);
        if (r.xruns != 0) break;
        best = ladder[i];
    }
    return best;
}

/* frames from the note-on's block start to the first sample it changes;
 * *delay = the engine's own figure (resampler group delay + blocks ahead) */
static long latency(const gw_wavenet *m, int block, gw_engine_mode mode,
                    gw_wavenet_weight_type wt, double *delay) {
    gw_engine *e = make(m, 2, block, mode, wt);
    if (!e) return -1;
    *delay = gw_engine_latency_frames(e);
    float *out = calloc((size_t)block, sizeof(float));
    const double period = (double)block / HOST;
    double t = bench_now();
    long found = -1;
    for (long k = 0, since = -1; k < 2000 && found < 0; k++) {
        if (k == 20) { /* settle first, then play */
            gw_engine_note_on(e, 60, 1.0f);
            since = 0;
        }
        if (mode == GW_ENGINE_THREAD) {
            t += period;
            sleep_until(t);
        }
        gw_engine_process(e, out, block);
        if (since < 0) continue;
        for (int i = 0; i < block; i++)
            if (fabsf(out[i]) > 1e-7f) {
                found = since + i;
                break;
            }
        since += block;
    }
    free(out);
    gw_engine_free(e);
    return found;
}

int main(int argc, char **argv) {
    const char *presets = NULL, *models = "small,medium", *weights = "f32";
    double seconds = 2.0;
    int threads = 1;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--presets") && i + 1 < argc) presets = argv[++i];
        else if (!strcmp(argv[i], "--models") && i + 1 < argc) models = argv[++i];
        else if (!strcmp(argv[i], "--weights") && i + 1 < argc) weights = argv[++i];
        else if (!strcmp(argv[i], "--seconds") && i + 1 < argc) seconds = atof(argv[++i]);
        else if (!strcmp(argv[i], "--no-thread")) threads = 0;
        else if (!strcmp(argv[i], "--soxr")) resampler = GW_ENGINE_RESAMPLE_SOXR;
        else {
            fprintf(stderr, "usage: bench_engine [--presets DIR] [--models small,medium] "
                            "[--seconds S] [--weights f32|f16] [--no-thread] [--soxr]\n");
            return 2;
        }
    }
    const char *cap = getenv("GW_WAVENET_ISA");
    if (cap && *cap) snprintf(isa_cap, sizeof isa_cap, "%s", gw_wn_kernels_capped(cap)->name);
    char dir[4096];
    if (!presets) {
        const char *src = getenv("GW_SOURCE_DIR");
        snprintf(dir, sizeof dir, "%s/presets", src ? src : ".");
        presets = dir;
    }
    gw_wavenet_weight_type wt = strcmp(weights, "f16") ? GW_WAVENET_WEIGHTS_F32
                                                       : GW_WAVENET_WEIGHTS_F16;
    char list[256];
    snprintf(list, sizeof list, "%s", models);
    printf("engine at %d Hz, %s weights, %s resampler, %.1f s per run\n\n", HOST, weights,
           resampler == GW_ENGINE_RESAMPLE_SOXR ? "soxr" : "sinc", seconds);
    for (char *name = strtok(list, ","); name; name = strtok(NULL, ",")) {
        char path[8192];
        snprintf(path, sizeof path, "%.4000s/wavenet-%.64s.json", presets, name);
        gw_error err = {0};
        gw_wavenet_config cfg;
        gw_wavenet *m = NULL;
        if (gw_wavenet_config_load(&cfg, path, &err) || gw_wavenet_create(&m, &cfg, &err)) {
            fprintf(stderr, "bench_engine: %s\n", err.msg);
            return 1;
        }
        gw_rng rng;
        gw_rng_seed(&rng, 7);
        gw_wavenet_weights_init(&m->w, &m->cfg, &rng);
        printf("## wavenet-%s (%d Hz model)\n\n| voices | load mean | load worst block |\n"
               "| --- | --- | --- |\n", name, cfg.sample_rate);
        const int nv[3] = {1, 4, 8};
        for (int k = 0; k < 3; k++) {
            run_result r = play(m, nv[k], 256, GW_ENGINE_CALLBACK, wt, seconds);
            printf("| %d | %.1f%% | %.1f%% |\n", nv[k], 100 * r.load_mean, 100 * r.load_max);
            printf("RESULT {\"model\": \"wavenet-%s\", \"block\": 256, \"voices\": %d, "
                   "\"load_mean\": %.4f, \"load_max\": %.4f}\n",
                   name, nv[k], r.load_mean, r.load_max);
        }
        printf("\n| mode | block | max voices, 0 xruns | note-on to first sample changed | "
               "engine delay (resampler + ahead) |\n| --- | --- | --- | --- | --- |\n");
        const int blocks[2] = {256, 64};
        for (int mode = 0; mode <= threads; mode++)
            for (int b = 0; b < 2; b++) {
                gw_engine_mode md = mode ? GW_ENGINE_THREAD : GW_ENGINE_CALLBACK;
                int mv = max_voices(m, blocks[b], md, wt, seconds);
                double delay = 0;
                long lat = latency(m, blocks[b], md, wt, &delay);
                printf("| %s | %d | %d | %ld frames, %.2f ms | %.0f frames, %.2f ms |\n",
                       mode ? "thread" : "callback", blocks[b], mv, lat, 1e3 * (double)lat / HOST,
                       delay, 1e3 * delay / HOST);
                printf("RESULT {\"model\": \"wavenet-%s\", \"mode\": \"%s\", \"block\": %d, "
                       "\"max_voices\": %d, \"latency_frames\": %ld, \"delay_frames\": %.0f}\n",
                       name, mode ? "thread" : "callback", blocks[b], mv, lat, delay);
                fflush(stdout);
            }
        printf("\n");
        gw_wavenet_free(m);
    }
    return 0;
}
