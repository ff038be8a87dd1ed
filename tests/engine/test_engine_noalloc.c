/* The audio path allocates nothing: every malloc/calloc/realloc/free (and
 * aligned_alloc/posix_memalign, which gw_alloc uses) the
 * engine (and the model stream, resampler glue and everything else linked
 * statically) makes is routed through __wrap_* by -Wl,--wrap (see
 * tests/engine/tools.cmake), and once `armed` any call fails the test.
 * Outside ASan the executable also defines malloc & co. themselves, which
 * interposes the C library's for the shared libraries too (libsoxr inside
 * the resampler, OpenBLAS), so those are counted as well. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/gw_engine.h"
#include "models/wavenet_kernels.h"
#include "engine_models.h"
#include "string_model.h"

static atomic_int armed;
static atomic_long wrapped_calls, process_calls;

void *__real_malloc(size_t n);
void *__real_calloc(size_t a, size_t b);
void *__real_realloc(void *p, size_t n);
void __real_free(void *p);
void *__real_aligned_alloc(size_t al, size_t n);
int __real_posix_memalign(void **p, size_t al, size_t n);

void *__wrap_malloc(size_t n) {
    if (atomic_load(&armed)) atomic_fetch_add(&wrapped_calls, 1);
    return __real_malloc(n);
}
void *__wrap_calloc(size_t a, size_t b) {
    if (atomic_load(&armed)) atomic_fetch_add(&wrapped_calls, 1);
    return __real_calloc(a, b);
}
void *__wrap_realloc(void *p, size_t n) {
    if (atomic_load(&armed)) atomic_fetch_add(&wrapped_calls, 1);
    return __real_realloc(p, n);
}
void __wrap_free(void *p) {
    if (atomic_load(&armed) && p) atomic_fetch_add(&wrapped_calls, 1);
    __real_free(p);
}
void *__wrap_aligned_alloc(size_t al, size_t n) {
    if (atomic_load(&armed)) atomic_fetch_add(&wrapped_calls, 1);
    return __real_aligned_alloc(al, n);
}
int __wrap_posix_memalign(void **p, size_t al, size_t n) {
    if (atomic_load(&armed)) atomic_fetch_add(&wrapped_calls, 1);
    return __real_posix_memalign(p, al, n);
}

/* ASan and TSan bring their own allocators (TSan crashes at start-up
 * under a second malloc): the interposer is for plain builds */
#if !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void __libc_free(void *);
void *malloc(size_t n) {
    if (atomic_load(&armed)) atomic_fetch_add(&process_calls, 1);
    return __libc_malloc(n);
}
void *calloc(size_t a, size_t b) {
    if (atomic_load(&armed)) atomic_fetch_add(&process_calls, 1);
    return __libc_calloc(a, b);
}
void *realloc(void *p, size_t n) {
    if (atomic_load(&armed)) atomic_fetch_add(&process_calls, 1);
    return __libc_realloc(p, n);
}
void free(void *p) {
    if (atomic_load(&armed) && p) atomic_fetch_add(&process_calls, 1);
    __libc_free(p);
}
#endif

/* the interposer itself works: a call while armed is seen */
static void test_interposer_counts(void **state) {
    atomic_store(&wrapped_calls, 0);
    atomic_store(&armed, 1);
    gw_free(gw_alloc(64)); /* aligned_alloc + free, in another library */
    atomic_store(&armed, 0);
    assert_true(atomic_load(&wrapped_calls) >= 2);
    atomic_store(&wrapped_calls, 0);
    atomic_store(&process_calls, 0);
}

static void sleep_us(long us) {
    struct timespec ts = {0, us * 1000};
    nanosleep(&ts, NULL);
}

/* start, then through note-ons, note-offs, voice stealing, every parameter,
 * all-notes-off and a model swap: not one allocation or free */
static void run_session_plan(gw_engine_mode mode, gw_engine_resampler resampler,
                             const gw_engine_config *plan);

static void run_session(gw_engine_mode mode, gw_engine_resampler resampler) {
    run_session_plan(mode, resampler, NULL);
}

/* plan: where not NULL, its weights and plan_* settings (the planner, or a
 * forced format, ISA and prefetch) */
/* the session's first model: the string model, or (use_bands) a 48 kHz
 * model of 6 bands, so voices start, steal and end within a step's frame */
static int use_bands;

static void run_session_plan(gw_engine_mode mode, gw_engine_resampler resampler,
                             const gw_engine_config *plan) {
    gw_wavenet *s, *c;
    gw_error err = {0};
    if (use_bands ? gw_test_band_model(&s, 48000, 6, 3, &err)
                  : gw_test_string_model(&s, 8000, 55, 67, &err))
        fail_msg("%s", err.msg);
    assert_int_equal(gw_test_const_model(&c, 8000, 240, 11, NULL), GW_OK);
    gw_engine_config cfg;
    gw_engine_config_default(&cfg);
    cfg.max_voices = 3;
    cfg.host_rate = 44100; /* resampled */
    cfg.max_block = 128;
    cfg.mode = mode;
    cfg.resampler = resampler;
    if (plan) {
        cfg.weights = plan->weights;
        memcpy(cfg.plan_isa, plan->plan_isa, sizeof cfg.plan_isa);
        cfg.plan_prefetch = plan->plan_prefetch;
        cfg.plan_measure = plan->plan_measure;
        cfg.plan_force_weights = plan->plan_force_weights;
    }
    gw_engine *e = NULL;
    gw_engine_model *next = NULL;
    if (gw_engine_create(&e, s, &cfg, &err)) fail_msg("%s", err.msg);
    if (gw_engine_model_create(&next, c, &cfg, &err)) fail_msg("%s", err.msg);
    if (gw_engine_start(e, &err)) fail_msg("%s", err.msg);
    static float out[128];
    gw_engine_meters mt;
    atomic_store(&wrapped_calls, 0);
    atomic_store(&process_calls, 0);
    atomic_store(&armed, 1);
    for (int k = 0; k < 600; k++) {
        switch (k % 50) {
        case 0: gw_engine_note_on(e, 50.0f + (float)(k % 13), 0.9f); break;
        case 7: gw_engine_note_on(e, 60, 0.5f); break;
        case 9: gw_engine_note_on(e, 64, 0.7f); break;
        case 11: gw_engine_note_on(e, 67, 0.7f); break; /* a fourth voice: steals */
        case 15: gw_engine_note_off(e, 60); break;
        case 17: gw_engine_set_param(e, GW_ENGINE_PARAM_GAIN, 0.5f + (float)(k % 3)); break;
        case 19: gw_engine_set_param(e, GW_ENGINE_PARAM_TEMPERATURE, 0.7f); break;
        case 21: gw_engine_set_param(e, GW_ENGINE_PARAM_ATTACK_MS, 20.0f); break;
        case 23: gw_engine_set_param(e, GW_ENGINE_PARAM_RELEASE_MS, 30.0f); break;
        case 25: gw_engine_set_param(e, GW_ENGINE_PARAM_PITCH_BEND, (float)(k % 5) - 2.0f); break;
        case 27: /* the key-tracked high-pass, on and off in turn */
            gw_engine_set_param(e, GW_ENGINE_PARAM_HIGHPASS, (k / 50) % 2 ? 0.0f : 0.7f);
            break;
        case 30: /* stamped: held in the engine until its frame, played mid-block */
            gw_engine_send(e, &(gw_engine_event){.type = GW_ENGINE_EV_NOTE_ON, .note = 62,
                                                 .value = 0.6f, .frame = (uint64_t)k * 128 + 200});
            break;
        case 31:
            gw_engine_send(e, &(gw_engine_event){.type = GW_ENGINE_EV_NOTE_OFF, .note = 62,
                                                 .frame = (uint64_t)k * 128 + 1000});
            break;
        case 40: gw_engine_send(e, &(gw_engine_event){.type = GW_ENGINE_EV_ALL_OFF}); break;
        default: break;
        }
        if (k == 300) assert_int_equal(gw_engine_swap_model(e, next, &err), GW_OK);
        if (mode == GW_ENGINE_THREAD)
            for (int w = 0; w < 20000; w++) { /* pace like a sound card */
                gw_engine_read_meters(e, &mt);
                if (mt.ready >= 128) break;
                sleep_us(100);
            }
        gw_engine_process(e, out, 128);
        gw_engine_poll(e, &mt);
    }
    atomic_store(&armed, 0);
    long wrapped = atomic_load(&wrapped_calls), all = atomic_load(&process_calls);
    gw_engine_model *old = gw_engine_collect(e);
    assert_non_null(old); /* the swap happened while armed */
    gw_engine_model_free(old);
    gw_engine_read_meters(e, &mt);
    gw_engine_free(e);
    gw_wavenet_free(s);
    gw_wavenet_free(c);
    if (wrapped || all)
        fail_msg("%s mode: %ld allocator calls in the engine, %ld in the process after start",
                 mode == GW_ENGINE_THREAD ? "thread" : "callback", wrapped, all);
    assert_true(mt.frames == 600 * 128);
}

static void test_callback_mode_allocates_nothing(void **state) {
    run_session(GW_ENGINE_CALLBACK, GW_ENGINE_RESAMPLE_SINC);
}

/* libsoxr allocates in its first calls; gw_resampler_create grows its
 * buffers first, and the process-wide interposer checks that it did */
static void test_callback_mode_soxr_allocates_nothing(void **state) {
    run_session(GW_ENGINE_CALLBACK, GW_ENGINE_RESAMPLE_SOXR);
}

static void test_thread_mode_allocates_nothing(void **state) {
    run_session(GW_ENGINE_THREAD, GW_ENGINE_RESAMPLE_SINC);
}

/* every plan the planner may pick runs allocation-free once started: each
 * format, AVX2 kernels with and without prefetch, bf16 on vdpbf16ps where
 * the CPU has it, int8, and the planner's own choice (it measures in create,
 * before start) */
static void test_every_plan_allocates_nothing(void **state) {
    gw_engine_config p;
    gw_engine_config_default(&p);
    for (int t = 0; t < 3; t++)
        for (int pf = 0; pf < 2; pf++) {
            p.weights = (gw_wavenet_weight_type)t;
            snprintf(p.plan_isa, sizeof p.plan_isa, "%s", "avx2");
            p.plan_prefetch = pf;
            run_session_plan(GW_ENGINE_CALLBACK, GW_ENGINE_RESAMPLE_SINC, &p);
        }
    /* bf16 on vdpbf16ps: x goes to bf16 pairs in a stack buffer, not the heap */
    for (int pf = 0; pf < 2 && gw_wn_kernels_avx512bf16(); pf++) {
        p.weights = GW_WAVENET_WEIGHTS_BF16;
        snprintf(p.plan_isa, sizeof p.plan_isa, "%s", "avx512bf16");
        p.plan_prefetch = pf;
        run_session_plan(GW_ENGINE_CALLBACK, GW_ENGINE_RESAMPLE_SINC, &p);
    }
    /* int8: x goes to bytes in a stack buffer; on vpdpbusd where the CPU has
     * it, and on the scalar twin everywhere */
    for (int pf = 0; pf < 2; pf++) {
        p.weights = GW_WAVENET_WEIGHTS_I8;
        snprintf(p.plan_isa, sizeof p.plan_isa, "%s",
                 gw_wn_kernels_avx512vnni() && pf ? "avx512vnni" : "scalar");
        p.plan_prefetch = pf;
        run_session_plan(GW_ENGINE_CALLBACK, GW_ENGINE_RESAMPLE_SINC, &p);
    }
    gw_engine_config_default(&p);
    p.plan_measure = 1;
    run_session_plan(GW_ENGINE_CALLBACK, GW_ENGINE_RESAMPLE_SINC, &p);
}

/* a multi-band model (6 samples per step) and the swap from it to a one-band
 * model, in both modes */
static void test_band_model_allocates_nothing(void **state) {
    use_bands = 1;
    run_session(GW_ENGINE_CALLBACK, GW_ENGINE_RESAMPLE_SINC);
    run_session(GW_ENGINE_THREAD, GW_ENGINE_RESAMPLE_SOXR);
    use_bands = 0;
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_interposer_counts),
        cmocka_unit_test(test_callback_mode_allocates_nothing),
        cmocka_unit_test(test_callback_mode_soxr_allocates_nothing),
        cmocka_unit_test(test_thread_mode_allocates_nothing),
        cmocka_unit_test(test_every_plan_allocates_nothing),
        cmocka_unit_test(test_band_model_allocates_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
