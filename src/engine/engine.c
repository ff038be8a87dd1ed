/* engine.c - voices, envelopes, smoothed parameters, resampling and the two
 * generation modes of gw_engine.h. The design is written out in
 * docs/engine.md.
 *
 * Voice i plays in slot i of one batched gw_wavenet_stream, and the sounding
 * voices are kept packed at 0..n_active-1 so one stream step generates them
 * all (a retiring voice trades places with the last one). Generation runs at
 * the model's rate into `mix`, then through a streaming resampler (engine/
 * sinc.h by default, libsoxr's gw_resampler on request) into a host-rate
 * FIFO from which each block is served; only what a block needs is
 * generated, so no latency accumulates beyond the resampler's own.
 *
 * Envelope stages per voice (linear ramps, per model sample):
 *   ATTACK   level rises by 1 / attack samples until 1
 *   HOLD     level 1 until note-off
 *   RELEASE  level falls by 1 / release samples until 0, then the voice retires
 *   STEAL    level falls by 1 / steal samples; at 0 the voice restarts with the
 *            note it was stolen for (or retires), so stealing never clicks
 * A note-off during the attack releases from the level reached, so the
 * largest sample-to-sample change an envelope adds is max|y| / ramp samples.
 *
 * Key-tracked high-pass (GW_ENGINE_PARAM_HIGHPASS): each voice's samples go
 * through its own 8th-order Butterworth high-pass (dsp's gw_biquad, at the
 * model rate) before the envelope, cutoff = value x the voice's fundamental.
 * A WaveNet can sample noise below a note's fundamental, where the real
 * instrument has none; a low cut that follows the note removes it and
 * leaves the partials. A voice is filtered from the moment the smoothed
 * value is above 0 until it ends: a voice started while it is 0 takes the
 * same arithmetic as without the filter, bit for bit, and switching off
 * never stops a filter under a sounding voice (whose DC would step back in:
 * a click). The cutoffs move with the pitch-bend updates of the
 * conditioning (every COND_EVERY samples), never per sample, and the
 * filter's direct form lets them move under a running voice without a
 * click.
 *
 * Event timing: every frame the FIFO ever received has a position (out_pos
 * counts them), and the current model's sample m lands at position m_origin
 * + m * ratio (a resampler's output j sits at its input time j / ratio,
 * engine/sinc.h). Engine frame F leaves the FIFO at position frame_base + F
 * (frame_base: the warm-up's frames) and is heard gw_engine_latency_frames
 * later, so an event stamped F is applied just before the first model sample
 * at or past position frame_base + F + latency: the same sample whatever the
 * block sizes, as LV2 hosts expect of a synth (eg-sampler renders up to each
 * event's time). The events wait in order in the ring; the first one not yet
 * due is held, and render compares one counter per model sample with it.
 */
#include "engine/gw_engine.h"

#include "dsp/gw_dsp.h"
#include "engine/sinc.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#if defined(__SSE__)
#endif

enum {
    ST_ATTACK = 0,
    ST_HOLD = 1,
    ST_RELEASE = 2,
    ST_STEAL = 3,
    MAX_VOICES = 256,
    MAX_BLOCK = 8192,
    COND_EVERY = 32, /* model samples between pitch-bend updates of the conditioning */
    HP_ORDER = 8,    /* the key-tracked high-pass: 48 dB per octave */
    HP_SECTIONS = HP_ORDER / 2,
    METER_RING = 64,
};

struct gw_engine_model {
    gw_wavenet_config cfg;
    gw_wavenet_stream *stream;
    gw_wavenet_plan_report plan_report; /* n == 0: not planned */
    gw_resampler *rs; /* GW_ENGINE_RESAMPLE_SOXR, else NULL */
    gw_sinc *sinc;    /* GW_ENGINE_RESAMPLE_SINC, else NULL; both NULL at the host rate */
    int max_voices, host_rate, max_block;
    int max_chunk; /* model samples generated at most per resampler call */
    double ratio;  /* host rate / model rate */
};

typedef struct voice {
    float note, velocity; /* MIDI key, 0..1 */
    float level;          /* envelope */
    int stage;
    uint64_t order;       /* note-on count when it started: lower = older */
    float bend_sent;      /* pitch bend in the conditioning now */
    int pending;          /* ST_STEAL: a note waits for this voice */
    float pending_note, pending_velocity;
    gw_biquad hp[HP_SECTIONS]; /* key-tracked high-pass: coefficients and history */
    float hp_value, hp_bend;   /* the highpass value and pitch bend it was designed for */
    int hp_on;                 /* its samples go through hp: set when the low cut is on, and
                                  kept until the voice ends (a high-pass switched off under a
                                  sounding voice would step by the voice's DC) */
} voice;

struct gw_engine {
    gw_engine_config cfg;
    gw_engine_model *model;                /* audio side */
    gw_wavenet_plan first_plan;            /* control side: the first model's plan */
    gw_wavenet_plan_report first_report;
    gw_engine_model *incoming;             /* audio side: taken, waiting for voices to fade */
    _Atomic(gw_engine_model *) pending;    /* control -> audio */
    _Atomic(gw_engine_model *) retired;    /* audio -> control */
    gw_ring events, meter_ring, audio;
    gw_engine_event *event_mem;
    gw_engine_meters *meter_mem;
    float *audio_mem;                      /* GW_ENGINE_THREAD: (ahead max_block rounded up) */
    voice voices[MAX_VOICES];
    int n_active;
    uint64_t order;
    float target[GW_ENGINE_PARAM_COUNT], value[GW_ENGINE_PARAM_COUNT];
    float coef; /* one-pole smoothing per model sample */
    unsigned cond_tick;
    gw_rng rng;
    float *uniforms, *y;                   /* (max_voices, GW_WAVENET_MAX_BANDS) */
    int phase;                             /* sample of the present step a multi-band
                                              model's voices are at (0: step next) */
    float *cond;                           /* (C_g max over models: 256 + velocity + instruments) */
    int cond_cap;
    float *mix;                            /* (mix_cap) model rate */
    int mix_cap;
    float *fifo;                           /* (fifo_cap) host rate */
    size_t fifo_cap, fifo_r, fifo_n;
    float *block;                          /* (max_block) generator's block */
    /* event timing (audio side, see the top of this file) */
    gw_engine_event held;                  /* the first event not yet due */
    int has_held;
    int64_t held_at;                       /* model sample (m_done clock) it applies before */
    int64_t m_done;                        /* model samples the current model rendered */
    double m_origin;                       /* FIFO position of its sample 0 */
    uint64_t out_pos;                      /* frames ever written into the FIFO */
    uint64_t frame_base;                   /* frames handed out that process did not output */
    /* meters */
    atomic_uint_fast64_t frames, xruns, host_xruns, underruns, dropped;
    atomic_uint load_bits, peak_bits, latency_bits;
    uint64_t meter_next;                   /* audio side: frame count of the next meter push */
    atomic_int n_voices;
    /* generator thread */
    pthread_t thread;
    int thread_started, sem_ok;
    atomic_int running;
    sem_t wake;
};

/* ---- small helpers ---- */

static double now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static void store_float(atomic_uint *a, float v) {
    unsigned u;
    memcpy(&u, &v, sizeof u);
    atomic_store_explicit(a, u, memory_order_relaxed);
}

static float load_float(const atomic_uint *a) {
    unsigned u = atomic_load_explicit((atomic_uint *)a, memory_order_relaxed);
    float v;
    memcpy(&v, &u, sizeof v);
    return v;
}

static size_t pow2_at_least(size_t n) {
    size_t p = 1;
    while (p < n) p <<= 1;
    return p;
}

static float clampf(float x, float lo, float hi) {
    return x < lo ? lo : x > hi ? hi : x;
}

static float param_clamp(int p, float v) {
    static const float lo[GW_ENGINE_PARAM_COUNT] = {0.0f, 0.0f, 0.5f, 0.5f, -24.0f, 0.0f, 0.0f};
    static const float hi[GW_ENGINE_PARAM_COUNT] = {4.0f,  4.0f, 10000.0f, 10000.0f,
                                                    24.0f, 1.0f, 1.0f};
    if (!(v == v)) v = lo[p]; /* NaN */
    /* a low cut under a thousandth of the fundamental is off (exactly 0:
     * render() then snaps the smoothed value to it, see there) */
    if (p == GW_ENGINE_PARAM_HIGHPASS && v < 1e-3f) v = 0.0f;
    return clampf(v, lo[p], hi[p]);
}

/* ---- prepared models ---- */

void gw_engine_config_default(gw_engine_config *c) {
    *c = (gw_engine_config){.max_voices = 8,
                            .host_rate = 48000,
                            .max_block = 256,
                            .mode = GW_ENGINE_CALLBACK,
                            .ahead = 4,
                            .gain = 1.0f,
                            .temperature = 1.0f,
                            .attack_ms = 5.0f,
                            .release_ms = 80.0f,
                            .smooth_ms = 20.0f,
                            .steal_ms = 3.0f,
                            .seed = 1,
                            .weights = GW_WAVENET_WEIGHTS_F32,
                            .plan_prefetch = -1,
                            .events = 1024};
}

static gw_status check_config(const gw_engine_config *c, gw_error *err) {
    if (c->max_voices < 1 || c->max_voices > MAX_VOICES)
        return gw_fail(err, GW_ERR_ARG, "engine: max_voices %d is outside [1, %d]", c->max_voices,
                       MAX_VOICES);
    if (c->host_rate < 1000 || c->host_rate > 384000)
        return gw_fail(err, GW_ERR_ARG, "engine: host rate %d Hz is outside [1000, 384000]",
                       c->host_rate);
    if (c->max_block < 1 || c->max_block > MAX_BLOCK)
        return gw_fail(err, GW_ERR_ARG, "engine: block of %d frames is outside [1, %d]",
                       c->max_block, MAX_BLOCK);
    if (c->mode != GW_ENGINE_CALLBACK && c->mode != GW_ENGINE_THREAD)
        return gw_fail(err, GW_ERR_ARG, "engine: unknown mode %d", (int)c->mode);
    if (c->resampler != GW_ENGINE_RESAMPLE_SINC && c->resampler != GW_ENGINE_RESAMPLE_SOXR)
        return gw_fail(err, GW_ERR_ARG, "engine: unknown resampler %d", (int)c->resampler);
    if (c->mode == GW_ENGINE_THREAD && (c->ahead < 1 || c->ahead > 64))
        return gw_fail(err, GW_ERR_ARG, "engine: ahead = %d blocks is outside [1, 64]", c->ahead);
    if (!(c->smooth_ms >= 0.0f && c->smooth_ms <= 10000.0f) ||
        !(c->steal_ms >= 0.1f && c->steal_ms <= 1000.0f))
        return gw_fail(err, GW_ERR_ARG, "engine: smoothing %g ms or steal fade %g ms out of range",
                       (double)c->smooth_ms, (double)c->steal_ms);
    if (c->thread_priority < 0 || c->thread_priority > 99)
        return gw_fail(err, GW_ERR_ARG, "engine: thread priority %d is outside [0, 99]",
                       c->thread_priority);
    if (c->events < 1 || c->events > (1 << 20))
        return gw_fail(err, GW_ERR_ARG, "engine: event ring of %d is outside [1, 1048576]",
                       c->events);
    return GW_OK;
}

gw_status gw_engine_model_create(gw_engine_model **out, const gw_wavenet *model,
                                 const gw_engine_config *cfg, gw_error *err) {
    *out = NULL;
    gw_status st = check_config(cfg, err);
    if (st) return st;
    const char *name = model->cfg.name[0] ? model->cfg.name : "model";
    if (model->cfg.n_mels > 0)
        return gw_fail(err, GW_ERR_UNSUPPORTED,
                       "%s: is a vocoder (n_mels = %d); the engine plays notes, it has no mel input",
                       name, model->cfg.n_mels);
    gw_engine_model *m = calloc(1, sizeof *m);
    if (!m) return gw_fail(err, GW_ERR_NOMEM, "engine: out of memory");
    m->cfg = model->cfg;
    m->max_voices = cfg->max_voices;
    m->host_rate = cfg->host_rate;
    m->max_block = cfg->max_block;
    m->ratio = (double)cfg->host_rate / model->cfg.sample_rate;
    m->max_chunk = (int)ceil(cfg->max_block / m->ratio) + 16;
    gw_wavenet_plan plan = {.type = cfg->weights, .prefetch = cfg->plan_prefetch};
    snprintf(plan.isa, sizeof plan.isa, "%s", cfg->plan_isa);
    if (cfg->plan_measure) {
        gw_wavenet_plan_options po;
        gw_wavenet_plan_options_default(&po);
        po.batch = cfg->max_voices;
        po.force_type = cfg->plan_force_weights ? (int)cfg->weights : -1;
        po.wisdom = cfg->wisdom;
        st = gw_wavenet_plan_choose(&plan, model, &po, &m->plan_report, err);
        if (st) goto fail;
    }
    st = gw_wavenet_stream_create_plan(&m->stream, model, cfg->max_voices, &plan, err);
    if (st) goto fail;
    if (model->cfg.sample_rate != cfg->host_rate) {
        if (m->ratio > 8.0 || m->ratio < 0.125) {
            st = gw_fail(err, GW_ERR_UNSUPPORTED,
                         "%s: a %d Hz model cannot play at %d Hz (the engine converts rates by "
                         "at most 8x up or down)",
                         name, model->cfg.sample_rate, cfg->host_rate);
            goto fail;
        }
        if (cfg->resampler == GW_ENGINE_RESAMPLE_SOXR)
            st = gw_resampler_create(&m->rs, model->cfg.sample_rate, cfg->host_rate,
                                     (size_t)m->max_chunk, err);
        else
            st = gw_sinc_create(&m->sinc, model->cfg.sample_rate, cfg->host_rate,
                                (size_t)m->max_chunk, err);
        if (st) goto fail;
    }
    *out = m;
    return GW_OK;
fail:
    gw_engine_model_free(m);
    return st;
}

void gw_engine_model_free(gw_engine_model *m) {
    if (!m) return;
    gw_wavenet_stream_free(m->stream);
    gw_resampler_free(m->rs);
    gw_sinc_free(m->sinc);
    free(m);
}

const gw_wavenet_config *gw_engine_model_config(const gw_engine_model *m) {
    return &m->cfg;
}

void gw_engine_model_plan(const gw_engine_model *m, gw_wavenet_plan *plan,
                          gw_wavenet_plan_report *report) {
    if (plan) *plan = gw_wavenet_stream_plan(m->stream);
    if (report) *report = m->plan_report;
}

/* ---- create / free ---- */

static double model_latency(const gw_engine *e, const gw_engine_model *m) {
    double f = m->rs ? gw_resampler_latency(m->rs) : m->sinc ? gw_sinc_latency(m->sinc) : 0.0;
    if (e->cfg.mode == GW_ENGINE_THREAD) f += (double)e->cfg.ahead * e->cfg.max_block;
    return f;
}

gw_status gw_engine_create(gw_engine **out, const gw_wavenet *model, const gw_engine_config *cfg,
                           gw_error *err) {
    *out = NULL;
    gw_status st = check_config(cfg, err);
    if (st) return st;
    gw_engine *e = calloc(1, sizeof *e);
    if (!e) return gw_fail(err, GW_ERR_NOMEM, "engine: out of memory");
    e->cfg = *cfg;
    e->cfg.events = (int)pow2_at_least((size_t)cfg->events);
    st = gw_engine_model_create(&e->model, model, cfg, err);
    if (st) goto fail;
    gw_engine_model_plan(e->model, &e->first_plan, &e->first_report);
    atomic_init(&e->pending, NULL);
    atomic_init(&e->retired, NULL);
    const int V = cfg->max_voices;
    /* conditioning of any model the engine may be swapped to: the config's
     * ranges bound C_g = pitch (<= 64) + velocity (<= 1) + instruments (<= 1024) */
    e->cond_cap = 64 + 1 + 1024;
    /* the FIFO holds a block's remainder plus one chunk's output with slack
     * for what soxr had buffered */
    e->fifo_cap = (size_t)cfg->max_block * 4 + 1024;
    e->event_mem = calloc((size_t)e->cfg.events, sizeof *e->event_mem);
    e->meter_mem = calloc(METER_RING, sizeof *e->meter_mem);
    e->uniforms = calloc((size_t)V * GW_WAVENET_MAX_BANDS, sizeof(float));
    e->y = calloc((size_t)V * GW_WAVENET_MAX_BANDS, sizeof(float));
    e->cond = calloc((size_t)e->cond_cap, sizeof(float));
    e->fifo = calloc(e->fifo_cap, sizeof(float));
    e->block = calloc((size_t)cfg->max_block, sizeof(float));
    if (!e->event_mem || !e->meter_mem || !e->uniforms || !e->y || !e->cond || !e->fifo ||
        !e->block) {
        st = gw_fail(err, GW_ERR_NOMEM, "engine: out of memory for %d voices", V);
        goto fail;
    }
    /* room for models up to twice this one's rate, so a swap to another
     * model rarely needs a new engine (gw_engine_swap_model checks) */
    e->mix_cap = 2 * e->model->max_chunk;
    e->mix = calloc((size_t)e->mix_cap, sizeof(float));
    if (!e->mix) {
        st = gw_fail(err, GW_ERR_NOMEM, "engine: out of memory for the mix buffer");
        goto fail;
    }
    st = gw_ring_init(&e->events, e->event_mem, sizeof(gw_engine_event), (size_t)e->cfg.events,
                      err);
    if (!st) st = gw_ring_init(&e->meter_ring, e->meter_mem, sizeof(gw_engine_meters), METER_RING,
                               err);
    if (st) goto fail;
    if (cfg->mode == GW_ENGINE_THREAD) {
        size_t cap = pow2_at_least((size_t)cfg->ahead * (size_t)cfg->max_block);
        e->audio_mem = calloc(cap, sizeof(float));
        if (!e->audio_mem) {
            st = gw_fail(err, GW_ERR_NOMEM, "engine: out of memory for %d blocks ahead",
                         cfg->ahead);
            goto fail;
        }
        st = gw_ring_init(&e->audio, e->audio_mem, sizeof(float), cap, err);
        if (st) goto fail;
        if (sem_init(&e->wake, 0, 0)) {
            st = gw_fail(err, GW_ERR_IO, "engine: sem_init: %s", strerror(errno));
            goto fail;
        }
        e->sem_ok = 1;
    }
    e->target[GW_ENGINE_PARAM_GAIN] = param_clamp(GW_ENGINE_PARAM_GAIN, cfg->gain);
    e->target[GW_ENGINE_PARAM_TEMPERATURE] =
        param_clamp(GW_ENGINE_PARAM_TEMPERATURE, cfg->temperature);
    e->target[GW_ENGINE_PARAM_ATTACK_MS] = param_clamp(GW_ENGINE_PARAM_ATTACK_MS, cfg->attack_ms);
    e->target[GW_ENGINE_PARAM_RELEASE_MS] =
        param_clamp(GW_ENGINE_PARAM_RELEASE_MS, cfg->release_ms);
    e->target[GW_ENGINE_PARAM_PITCH_BEND] = 0.0f;
    e->target[GW_ENGINE_PARAM_VOLUME] = 1.0f;
    e->target[GW_ENGINE_PARAM_HIGHPASS] = param_clamp(GW_ENGINE_PARAM_HIGHPASS, cfg->highpass);
    memcpy(e->value, e->target, sizeof e->value);
    gw_rng_seed(&e->rng, cfg->seed);
    atomic_init(&e->frames, 0);
    atomic_init(&e->xruns, 0);
    atomic_init(&e->host_xruns, 0);
    atomic_init(&e->underruns, 0);
    atomic_init(&e->dropped, 0);
    atomic_init(&e->load_bits, 0);
    atomic_init(&e->peak_bits, 0);
    atomic_init(&e->latency_bits, 0);
    store_float(&e->latency_bits, (float)model_latency(e, e->model));
    atomic_init(&e->n_voices, 0);
    atomic_init(&e->running, 0);
    *out = e;
    return GW_OK;
fail:
    gw_engine_free(e);
    return st;
}

void gw_engine_free(gw_engine *e) {
    if (!e) return;
    gw_engine_stop(e);
    gw_engine_model_free(e->model);
    gw_engine_model_free(e->incoming);
    gw_engine_model_free(atomic_load(&e->pending));
    gw_engine_model_free(atomic_load(&e->retired));
    if (e->sem_ok) sem_destroy(&e->wake);
    free(e->event_mem);
    free(e->meter_mem);
    free(e->audio_mem);
    free(e->uniforms);
    free(e->y);
    free(e->cond);
    free(e->mix);
    free(e->fifo);
    free(e->block);
    free(e);
}

const gw_engine_config *gw_engine_get_config(const gw_engine *e) {
    return &e->cfg;
}

void gw_engine_plan(const gw_engine *e, gw_wavenet_plan *plan, gw_wavenet_plan_report *report) {
    if (plan) *plan = e->first_plan;
    if (report) *report = e->first_report;
}

/* ---- voices (audio side) ---- */

static void send_cond(gw_engine *e, int i) {
    voice *v = &e->voices[i];
    const gw_wavenet_config *c = &e->model->cfg;
    v->bend_sent = e->value[GW_ENGINE_PARAM_PITCH_BEND];
    if (c->cond_dim == 0 || c->cond_dim > e->cond_cap) return;
    gw_wavenet_cond_features(c, e->cond, v->note + v->bend_sent, v->velocity, 0);
    gw_wavenet_stream_set_cond(e->model->stream, i, e->cond);
}

/* the voice's high-pass for the smoothed highpass value and bend now:
 * cutoff = value x its fundamental, kept between 1 Hz (below, the value is
 * on its way to 0 and the design would put the poles on z = 1) and 0.45 x
 * the model rate; the history is kept, so a moving cutoff does not click */
static void set_highpass(gw_engine *e, int i) {
    voice *v = &e->voices[i];
    const double sr = e->model->cfg.sample_rate;
    v->hp_value = e->value[GW_ENGINE_PARAM_HIGHPASS];
    v->hp_bend = e->value[GW_ENGINE_PARAM_PITCH_BEND];
    const double fc = (double)v->hp_value * gw_midi_to_hz(v->note + v->hp_bend);
    gw_biquad_highpass(v->hp, HP_ORDER, fmin(fmax(fc, 1.0), 0.45 * sr), sr);
}

static void start_voice(gw_engine *e, int i, float note, float velocity) {
    voice *v = &e->voices[i];
    *v = (voice){.note = note, .velocity = velocity, .level = 0.0f, .stage = ST_ATTACK,
                 .order = ++e->order};
    gw_wavenet_stream_reset(e->model->stream, i);
    /* started within a multi-band step: silent until the next step */
    memset(e->y + (size_t)i * e->model->cfg.bands, 0, sizeof(float) * e->model->cfg.bands);
    send_cond(e, i);
    v->hp_on = e->value[GW_ENGINE_PARAM_HIGHPASS] > 0.0f;
    set_highpass(e, i); /* its history is zero, from the line above */
}

static void retire_voice(gw_engine *e, int i) {
    int last = --e->n_active;
    if (i != last) {
        gw_wavenet_stream_swap_voices(e->model->stream, i, last);
        e->voices[i] = e->voices[last];
        const int nb = e->model->cfg.bands;
        memcpy(e->y + (size_t)i * nb, e->y + (size_t)last * nb, sizeof(float) * nb);
    }
}

/* the voice a new note takes when all are busy: the quietest released one,
 * else the oldest; a voice already fading for another note only if every
 * voice is */
static int steal_victim(const gw_engine *e) {
    int best = -1;
    for (int i = 0; i < e->n_active; i++) {
        const voice *v = &e->voices[i], *b = best >= 0 ? &e->voices[best] : NULL;
        if (v->stage == ST_STEAL) continue;
        if (!b) {
            best = i;
        } else if (v->stage == ST_RELEASE || b->stage == ST_RELEASE) {
            int vr = v->stage == ST_RELEASE, br = b->stage == ST_RELEASE;
            if (vr > br || (vr == br && v->level < b->level)) best = i;
        } else if (v->order < b->order) {
            best = i;
        }
    }
    if (best >= 0) return best;
    for (int i = 0; i < e->n_active; i++)
        if (best < 0 || e->voices[i].order < e->voices[best].order) best = i;
    return best;
}

static void note_on(gw_engine *e, float note, float velocity) {
    velocity = clampf(velocity, 0.0f, 1.0f);
    if (!(note == note)) return;
    note = clampf(note, 0.0f, 127.0f);
    if (e->incoming || e->n_active == e->cfg.max_voices) {
        /* during a model swap every voice is fading out: queue the note on
         * a fading voice like a steal, restarted after the swap */
        int i = e->n_active < e->cfg.max_voices ? -1 : steal_victim(e);
        if (i < 0) { /* a free slot, but the stream is about to change: start silent */
            i = e->n_active++;
            e->voices[i] = (voice){.note = note, .velocity = velocity, .stage = ST_STEAL,
                                   .order = ++e->order};
        }
        voice *v = &e->voices[i];
        if (v->stage == ST_STEAL && v->pending) atomic_fetch_add(&e->dropped, 1);
        v->stage = ST_STEAL;
        v->pending = 1;
        v->pending_note = note;
        v->pending_velocity = velocity;
        v->order = ++e->order;
        return;
    }
    start_voice(e, e->n_active++, note, velocity);
}

static void note_off(gw_engine *e, float note) {
    for (int i = 0; i < e->n_active; i++) {
        voice *v = &e->voices[i];
        if ((v->stage == ST_ATTACK || v->stage == ST_HOLD) && v->note == note)
            v->stage = ST_RELEASE;
        else if (v->stage == ST_STEAL && v->pending && v->pending_note == note)
            v->pending = 0; /* released before it could start */
    }
}

static void apply_event(gw_engine *e, const gw_engine_event *ev) {
    switch (ev->type) {
    case GW_ENGINE_EV_NOTE_ON:
        if (ev->value > 0.0f) note_on(e, ev->note, ev->value);
        else note_off(e, ev->note); /* MIDI: note-on with velocity 0 */
        break;
    case GW_ENGINE_EV_NOTE_OFF:
        note_off(e, ev->note);
        break;
    case GW_ENGINE_EV_PARAM:
        if (ev->param >= 0 && ev->param < GW_ENGINE_PARAM_COUNT)
            e->target[ev->param] = param_clamp(ev->param, ev->value);
        break;
    case GW_ENGINE_EV_ALL_OFF:
        for (int i = 0; i < e->n_active; i++) {
            if (e->voices[i].stage != ST_STEAL) e->voices[i].stage = ST_RELEASE;
            e->voices[i].pending = 0;
        }
        break;
    default:
        break;
    }
}

/* the model sample an event is applied before (see the top of this file) */
static int64_t event_due(const gw_engine *e, const gw_engine_event *ev) {
    if (ev->frame == 0) return 0;
    const gw_engine_model *m = e->model;
    double pos = (double)(e->frame_base + ev->frame) + model_latency(e, m) - e->m_origin;
    return pos <= 0.0 ? 0 : (int64_t)ceil(pos / m->ratio);
}

/* applies, in order, the events due before model sample m_done; the first
 * one not yet due stays held */
static void apply_due(gw_engine *e) {
    for (;;) {
        if (!e->has_held) {
            if (gw_ring_read(&e->events, &e->held, 1) != 1) return;
            e->has_held = 1;
            e->held_at = event_due(e, &e->held);
        }
        if (e->m_done < e->held_at) return;
        apply_event(e, &e->held);
        e->has_held = 0;
    }
}

/* a model waiting to come in: fade every voice, then exchange the streams
 * and restart the voices that were holding notes */
static void take_model(gw_engine *e) {
    if (!e->incoming) {
        if (atomic_load_explicit(&e->retired, memory_order_acquire)) return;
        gw_engine_model *m = atomic_exchange_explicit(&e->pending, NULL, memory_order_acq_rel);
        if (!m) return;
        e->incoming = m;
        for (int i = 0; i < e->n_active; i++) {
            voice *v = &e->voices[i];
            if (v->stage == ST_STEAL) continue;
            v->pending = v->stage != ST_RELEASE;
            v->pending_note = v->note;
            v->pending_velocity = v->velocity;
            v->stage = ST_STEAL;
        }
    }
    for (int i = 0; i < e->n_active; i++)
        if (e->voices[i].level > 0.0f) return;
    gw_engine_model *old = e->model;
    e->model = e->incoming;
    e->incoming = NULL;
    e->coef = 0.0f; /* recomputed for the new rate */
    e->phase = 0;   /* every voice restarts on the new model */
    for (int i = e->n_active - 1; i >= 0; i--)
        if (!e->voices[i].pending) retire_voice(e, i);
    for (int i = 0; i < e->n_active; i++)
        start_voice(e, i, e->voices[i].pending_note, e->voices[i].pending_velocity);
    /* the new model's resampler starts at the FIFO's end */
    e->m_origin = (double)e->out_pos;
    e->m_done = 0;
    if (e->has_held) e->held_at = event_due(e, &e->held);
    store_float(&e->latency_bits, (float)model_latency(e, e->model));
    atomic_store_explicit(&e->retired, old, memory_order_release);
}

/* n samples of the voice mix at the model rate */
static void render(gw_engine *e, float *out, int n) { // out (n)
    gw_engine_model *m = e->model;
    const float sr = (float)m->cfg.sample_rate;
    if (e->coef == 0.0f)
        e->coef = e->cfg.smooth_ms > 0.0f ? 1.0f - expf(-1.0f / (e->cfg.smooth_ms * 1e-3f * sr))
                                          : 1.0f;
    const float steal_step = 1.0f / fmaxf(1.0f, e->cfg.steal_ms * 1e-3f * sr);
    const int vel_in_model = m->cfg.velocity, NB = m->cfg.bands;
    for (int t = 0; t < n; t++) {
        if (e->has_held && e->m_done >= e->held_at) apply_due(e);
        e->m_done++;
        for (int p = 0; p < GW_ENGINE_PARAM_COUNT; p++)
            e->value[p] += e->coef * (e->target[p] - e->value[p]);
        /* a low cut on its way off is off at a thousandth of the
         * fundamental: the one-pole alone would never reach 0 (it stops at
         * a denormal), and new voices start unfiltered, bit for bit as
         * without the filter; voices already filtered stay so (voice.hp_on) */
        if (e->target[GW_ENGINE_PARAM_HIGHPASS] == 0.0f &&
            e->value[GW_ENGINE_PARAM_HIGHPASS] < 1e-3f)
            e->value[GW_ENGINE_PARAM_HIGHPASS] = 0.0f;
        const float highpass = e->value[GW_ENGINE_PARAM_HIGHPASS];
        const float attack_step =
            1.0f / fmaxf(1.0f, e->value[GW_ENGINE_PARAM_ATTACK_MS] * 1e-3f * sr);
        const float release_step =
            1.0f / fmaxf(1.0f, e->value[GW_ENGINE_PARAM_RELEASE_MS] * 1e-3f * sr);
        if (++e->cond_tick >= COND_EVERY) {
            e->cond_tick = 0;
            const float bend = e->value[GW_ENGINE_PARAM_PITCH_BEND];
            for (int i = 0; i < e->n_active; i++) {
                const voice *v = &e->voices[i];
                if (v->stage != ST_STEAL && fabsf(v->bend_sent - bend) > 1e-4f) send_cond(e, i);
                if (highpass > 0.0f &&
                    (fabsf(v->hp_bend - bend) > 1e-4f || fabsf(v->hp_value - highpass) > 1e-4f))
                    set_highpass(e, i);
            }
        }
        /* switched on under sounding voices: each starts from an empty
         * history (a high-pass passes a step's onset, so no click) */
        if (highpass > 0.0f)
            for (int i = 0; i < e->n_active; i++)
                if (!e->voices[i].hp_on) {
                    e->voices[i].hp_on = 1;
                    gw_biquad_reset(e->voices[i].hp, HP_SECTIONS);
                    set_highpass(e, i);
                }
        const int nv = e->n_active;
        if (nv == 0) {
            out[t] = 0.0f;
            e->phase = 0;
            continue;
        }
        /* a step gives NB samples per voice (a multi-band model, wavenet.h):
         * step at the first, then play them out one per sample */
        if (e->phase == 0) {
            for (int i = 0; i < nv * NB; i++) e->uniforms[i] = gw_rng_uniform(&e->rng);
            gw_wavenet_stream_step(m->stream, NULL, e->y, NULL, nv,
                                   e->value[GW_ENGINE_PARAM_TEMPERATURE], e->uniforms);
        }
        const int ph = e->phase;
        e->phase = ph + 1 == NB ? 0 : ph + 1;
        float acc = 0.0f;
        for (int i = 0; i < nv; i++) {
            voice *v = &e->voices[i];
            switch (v->stage) {
            case ST_ATTACK:
                v->level += attack_step;
                if (v->level >= 1.0f) v->level = 1.0f, v->stage = ST_HOLD;
                break;
            case ST_RELEASE:
                v->level = fmaxf(0.0f, v->level - release_step);
                break;
            case ST_STEAL:
                v->level = fmaxf(0.0f, v->level - steal_step);
                break;
            default:
                break;
            }
            float y = e->y[(size_t)i * NB + ph];
            if (v->hp_on) y = gw_biquad_process(v->hp, HP_SECTIONS, y);
            /* a model without a velocity input plays velocity as loudness */
            acc += y * v->level * (vel_in_model ? 1.0f : v->velocity);
        }
        out[t] = acc * (e->value[GW_ENGINE_PARAM_GAIN] * e->value[GW_ENGINE_PARAM_VOLUME]);
        for (int i = e->n_active - 1; i >= 0; i--) {
            voice *v = &e->voices[i];
            if (v->level > 0.0f || (v->stage != ST_RELEASE && v->stage != ST_STEAL)) continue;
            if (v->stage == ST_STEAL && e->incoming) continue; /* restarted by take_model */
            if (v->stage == ST_STEAL && v->pending) start_voice(e, i, v->pending_note,
                                                                v->pending_velocity);
            else retire_voice(e, i);
        }
    }
    atomic_store_explicit(&e->n_voices, e->n_active, memory_order_relaxed);
}

/* exactly n host-rate frames into out, generating and resampling as much
 * model-rate audio as that needs */
static void produce(gw_engine *e, float *out, int n) { // out (n)
    take_model(e);
    if (e->fifo_r > 0) { /* keep the FIFO's contents at its front */
        memmove(e->fifo, e->fifo + e->fifo_r, e->fifo_n * sizeof(float));
        e->fifo_r = 0;
    }
    gw_engine_model *m = e->model;
    /* soxr holds back its filter delay: the first calls may need several
     * chunks before it outputs; the bound only guards against a stuck
     * resampler */
    for (int guard = 0; e->fifo_n < (size_t)n && guard < 4096; guard++) {
        size_t need = (size_t)n - e->fifo_n;
        int chunk = (int)ceil((double)need / m->ratio);
        if (chunk < 1) chunk = 1;
        if (chunk > m->max_chunk) chunk = m->max_chunk;
        if (!m->rs && !m->sinc) {
            render(e, e->fifo + e->fifo_n, (int)need);
            e->fifo_n += need;
            e->out_pos += need;
            break;
        }
        render(e, e->mix, chunk);
        size_t off = 0;
        while (off < (size_t)chunk) {
            size_t used = 0;
            size_t space = e->fifo_cap - e->fifo_n;
            size_t got =
                m->rs ? gw_resampler_process(m->rs, e->fifo + e->fifo_n, space, e->mix + off,
                                             (size_t)chunk - off, &used)
                      : gw_sinc_process(m->sinc, e->fifo + e->fifo_n, space, e->mix + off,
                                        (size_t)chunk - off, &used);
            e->fifo_n += got;
            e->out_pos += got;
            off += used;
            if (used == 0 && got == 0) break;
        }
    }
    size_t give = e->fifo_n < (size_t)n ? e->fifo_n : (size_t)n;
    memcpy(out, e->fifo, give * sizeof(float));
    memset(out + give, 0, ((size_t)n - give) * sizeof(float));
    e->fifo_r = give;
    e->fifo_n -= give;
}

static void publish(gw_engine *e, double t0, int n_frames, int count_late) {
    double period_ns = 1e9 * n_frames / e->cfg.host_rate;
    float load = (float)((now_ns() - t0) / period_ns);
    store_float(&e->load_bits, load);
    if (load > load_float(&e->peak_bits)) store_float(&e->peak_bits, load);
    if (count_late && load > 1.0f) atomic_fetch_add(&e->xruns, 1);
}

/* ---- generator thread (GW_ENGINE_THREAD) ---- */

static void *generator(void *arg) {
    gw_engine *e = arg;
    unsigned csr = gw_denormals_flush();
    const size_t B = (size_t)e->cfg.max_block, limit = (size_t)e->cfg.ahead * B;
    while (atomic_load_explicit(&e->running, memory_order_acquire)) {
        if (gw_ring_readable(&e->audio) + B <= limit) {
            double t0 = now_ns();
            apply_due(e);
            produce(e, e->block, (int)B);
            gw_ring_write(&e->audio, e->block, B);
            publish(e, t0, (int)B, 0);
            continue;
        }
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 2000000; /* wake at least every 2 ms to notice stop */
        if (ts.tv_nsec >= 1000000000) ts.tv_sec++, ts.tv_nsec -= 1000000000;
        sem_timedwait(&e->wake, &ts);
    }
    gw_denormals_restore(csr);
    return NULL;
}

/* Before the first real deadline: step every voice slot once (pages in the
 * stream's state and code) and run a few silent blocks through the
 * resampler, whose first calls buffer its filter delay, so the first
 * callback costs what every other one does. */
static void warm_up(gw_engine *e) {
    unsigned csr = gw_denormals_flush();
    gw_engine_model *m = e->model;
    if (e->n_active == 0) {
        for (int i = 0; i < e->cfg.max_voices * m->cfg.bands; i++) e->uniforms[i] = 0.5f;
        gw_wavenet_stream_step(m->stream, NULL, e->y, NULL, e->cfg.max_voices, 1.0f,
                               e->uniforms);
        for (int i = 0; i < e->cfg.max_voices; i++) gw_wavenet_stream_reset(m->stream, i);
        const uint64_t handed = e->out_pos - e->fifo_n;
        for (int k = 0; k < 4; k++) produce(e, e->block, e->cfg.max_block);
        /* nor do they count for the pitch-bend updates' phase: the
         * warm-up's length depends on max_block, the output must not */
        e->cond_tick = 0;
        if (!m->rs && handed == 0) {
            /* the sinc resampler (or none) starts again from its first
             * output instant, as if the warm-up had not been: the phase of
             * the output grid against the model's samples is then the same
             * whatever max_block is (soxr keeps its state: its start-up is
             * what the warm-up is for) */
            if (m->sinc) gw_sinc_reset(m->sinc);
            e->fifo_r = e->fifo_n = 0;
            e->out_pos = 0;
            e->m_done = 0;
            e->m_origin = 0.0;
        } else {
            /* these frames never reach the host: the event clock skips them */
            e->frame_base += e->out_pos - e->fifo_n - handed;
        }
    }
    gw_denormals_restore(csr);
}

gw_status gw_engine_start(gw_engine *e, gw_error *err) {
    if (e->thread_started) return GW_OK;
    warm_up(e);
    if (e->cfg.mode != GW_ENGINE_THREAD) return GW_OK;
    atomic_store(&e->running, 1);
    int rc = pthread_create(&e->thread, NULL, generator, e);
    if (rc) {
        atomic_store(&e->running, 0);
        return gw_fail(err, GW_ERR_IO, "engine: cannot start the generator thread: %s",
                       strerror(rc));
    }
    e->thread_started = 1;
    if (e->cfg.thread_priority > 0) { /* best effort: without the right it stays normal */
        struct sched_param sp = {.sched_priority = e->cfg.thread_priority};
        pthread_setschedparam(e->thread, SCHED_FIFO, &sp);
    }
    const size_t want = (size_t)e->cfg.ahead * (size_t)e->cfg.max_block;
    double deadline = now_ns() + 10e9;
    while (gw_ring_readable(&e->audio) < want) {
        if (now_ns() > deadline) {
            gw_engine_stop(e);
            return gw_fail(err, GW_ERR_IO,
                           "engine: the generator thread did not fill %d blocks in 10 s",
                           e->cfg.ahead);
        }
        struct timespec ts = {0, 200000};
        nanosleep(&ts, NULL);
    }
    return GW_OK;
}

void gw_engine_stop(gw_engine *e) {
    if (!e || !e->thread_started) return;
    atomic_store(&e->running, 0);
    sem_post(&e->wake);
    pthread_join(e->thread, NULL);
    e->thread_started = 0;
}

/* ---- audio thread ---- */

void gw_engine_process(gw_engine *e, float *out, int n_frames) {
    if (n_frames <= 0) return;
    if (n_frames > e->cfg.max_block) { /* a host that broke its promise gets silence past it */
        memset(out + e->cfg.max_block, 0, sizeof(float) * (size_t)(n_frames - e->cfg.max_block));
        n_frames = e->cfg.max_block;
    }
    unsigned csr = gw_denormals_flush();
    double t0 = now_ns();
    if (e->cfg.mode == GW_ENGINE_THREAD) {
        size_t got = gw_ring_read(&e->audio, out, (size_t)n_frames);
        if (got < (size_t)n_frames) {
            memset(out + got, 0, sizeof(float) * ((size_t)n_frames - got));
            atomic_fetch_add(&e->underruns, 1);
        }
        sem_post(&e->wake); /* async-signal-safe, never blocks */
    } else {
        apply_due(e);
        produce(e, out, n_frames);
        publish(e, t0, n_frames, 1);
    }
    uint64_t frames =
        atomic_fetch_add_explicit(&e->frames, (uint64_t)n_frames, memory_order_relaxed) +
        (uint64_t)n_frames;
    if (frames >= e->meter_next) { /* about every 10 ms: the ring then spans 0.6 s of polls */
        gw_engine_meters snap;
        gw_engine_read_meters(e, &snap);
        gw_ring_write(&e->meter_ring, &snap, 1); /* dropped if nobody polls */
        e->meter_next = frames + (uint64_t)e->cfg.host_rate / 100;
    }
    gw_denormals_restore(csr);
}

void gw_engine_count_xrun(gw_engine *e) {
    atomic_fetch_add(&e->xruns, 1);
    atomic_fetch_add(&e->host_xruns, 1);
}

/* ---- control thread ---- */

int gw_engine_send(gw_engine *e, const gw_engine_event *ev) {
    if (gw_ring_write(&e->events, ev, 1) == 1) return 1;
    atomic_fetch_add(&e->dropped, 1);
    return 0;
}

int gw_engine_note_on(gw_engine *e, float note, float velocity) {
    return gw_engine_send(e, &(gw_engine_event){.type = GW_ENGINE_EV_NOTE_ON, .note = note,
                                                .value = velocity});
}

int gw_engine_note_off(gw_engine *e, float note) {
    return gw_engine_send(e, &(gw_engine_event){.type = GW_ENGINE_EV_NOTE_OFF, .note = note});
}

int gw_engine_set_param(gw_engine *e, gw_engine_param p, float value) {
    return gw_engine_send(e, &(gw_engine_event){.type = GW_ENGINE_EV_PARAM, .param = (int)p,
                                                .value = value});
}

size_t gw_engine_free_events(const gw_engine *e) {
    return gw_ring_writable(&e->events);
}

int gw_engine_poll(gw_engine *e, gw_engine_meters *m) {
    int got = 0;
    while (gw_ring_read(&e->meter_ring, m, 1) == 1) got = 1;
    return got;
}

gw_status gw_engine_swap_model(gw_engine *e, gw_engine_model *m, gw_error *err) {
    if (!m) return gw_fail(err, GW_ERR_ARG, "engine: no model to swap in");
    if (m->max_voices != e->cfg.max_voices || m->host_rate != e->cfg.host_rate ||
        m->max_block != e->cfg.max_block || m->max_chunk > e->mix_cap)
        return gw_fail(err, GW_ERR_ARG,
                       "engine: model prepared for %d voices, %d Hz, blocks of %d (or a model "
                       "rate over twice the first's); the engine has %d, %d, %d",
                       m->max_voices, m->host_rate, m->max_block, e->cfg.max_voices,
                       e->cfg.host_rate, e->cfg.max_block);
    if (atomic_load(&e->retired))
        return gw_fail(err, GW_ERR_UNSUPPORTED, "engine: collect the last swapped-out model first");
    gw_engine_model *expected = NULL;
    if (!atomic_compare_exchange_strong(&e->pending, &expected, m))
        return gw_fail(err, GW_ERR_UNSUPPORTED, "engine: a model swap is already in flight");
    return GW_OK;
}

gw_engine_model *gw_engine_collect(gw_engine *e) {
    return atomic_exchange_explicit(&e->retired, NULL, memory_order_acq_rel);
}

/* ---- any thread ---- */

void gw_engine_read_meters(const gw_engine *e, gw_engine_meters *m) {
    gw_engine *w = (gw_engine *)e; /* atomics are read, never written */
    m->frames = atomic_load_explicit(&w->frames, memory_order_relaxed);
    m->load = load_float(&w->load_bits);
    m->load_peak = load_float(&w->peak_bits);
    m->voices = atomic_load_explicit(&w->n_voices, memory_order_relaxed);
    m->xruns = atomic_load_explicit(&w->xruns, memory_order_relaxed);
    m->host_xruns = atomic_load_explicit(&w->host_xruns, memory_order_relaxed);
    m->underruns = atomic_load_explicit(&w->underruns, memory_order_relaxed);
    m->dropped = atomic_load_explicit(&w->dropped, memory_order_relaxed);
    m->ready = e->cfg.mode == GW_ENGINE_THREAD ? gw_ring_readable(&w->audio) : 0;
}

int gw_engine_voices(const gw_engine *e, gw_engine_voice_info *out, int cap) {
    for (int i = 0; i < e->n_active && i < cap; i++) {
        const voice *v = &e->voices[i];
        out[i] = (gw_engine_voice_info){.note = v->note, .velocity = v->velocity,
                                        .level = v->level, .stage = v->stage,
                                        .pending = v->pending, .pending_note = v->pending_note};
    }
    return e->n_active;
}

double gw_engine_latency_frames(const gw_engine *e) {
    return load_float(&e->latency_bits);
}
