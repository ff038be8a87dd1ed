/* gw_engine.h - the real-time engine: polyphonic WaveNet voices rendered
 * block by block for an audio host (docs/engine.md).
 *
 * The engine knows no audio API. A host (genwave play's PortAudio callback,
 * the LV2 plugin's run(), a test's plain loop) calls gw_engine_process for
 * each block; other threads talk to it only through lock-free single-
 * producer/single-consumer rings (gw_ring, C11 atomics) and atomic counters.
 *
 * Threads ("audio" = whoever calls gw_engine_process):
 *   control  create/free, start/stop, gw_engine_send and the note/param
 *            helpers (the ONE producer of the event ring), gw_engine_poll
 *            (the ONE consumer of the meter ring), model swap, collect
 *   audio    gw_engine_process, gw_engine_count_xrun
  *   any      gw_engine_read_meters, gw_engine_latency_frames
 *
 * Real-time safety: everything, for the maximum voice count, is allocated
 * in create. After start, process (and the generator thread in
 * GW_ENGINE_THREAD mode) never allocate, lock, log or touch files; denormals
 * are flushed to zero (MXCSR FTZ+DAZ) for the duration of each call.
 *
 * Modes:
 *   GW_ENGINE_CALLBACK  the voices are generated inside process: the lowest
 *                       latency, but a block must be generated within its
 *                       own period.
 *   GW_ENGINE_THREAD    a generator thread keeps up to `ahead` blocks ready
 *                       in an audio ring; process only copies them out and
 *                       wakes the generator (sem_post). More headroom for
 *                       uneven generation cost, `ahead` blocks more latency.
 */
#ifndef GW_ENGINE_H
#define GW_ENGINE_H

#include "base/gw_base.h"
#include "io/midi.h"
#include "models/wavenet.h"

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

/* ---- lock-free single-producer / single-consumer ring -----------------
 * Fixed-size items in caller-owned memory of capacity * item_size bytes;
 * capacity is a power of two. One thread writes, one thread reads; the
 * release store of an index publishes the items before it (PortAudio's
 * pa_ringbuffer, with C11 atomics instead of memory barriers). */
typedef struct gw_ring {
    _Alignas(64) atomic_size_t write; /* items ever written (producer owns) */
    _Alignas(64) atomic_size_t read;  /* items ever read (consumer owns) */
    _Alignas(64) size_t capacity;     /* power of two */
    size_t item_size;
    unsigned char *data;
} gw_ring;

gw_status gw_ring_init(gw_ring *r, void *memory, size_t item_size, size_t capacity,
                       gw_error *err);
/* producer: copies up to n items in, returns how many fit */
size_t gw_ring_write(gw_ring *r, const void *items, size_t n);
/* consumer: copies up to n items out, returns how many there were */
size_t gw_ring_read(gw_ring *r, void *items, size_t n);
size_t gw_ring_readable(const gw_ring *r); /* consumer's view */
size_t gw_ring_writable(const gw_ring *r); /* producer's view */

/* ---- the engine -------------------------------------------------------- */

typedef enum gw_engine_mode {
    GW_ENGINE_CALLBACK = 0,
    GW_ENGINE_THREAD = 1,
} gw_engine_mode;

/* parameters that may change while playing; each is smoothed by a one-pole
 * filter (time constant gw_engine_config.smooth_ms) so a jump never clicks */
typedef enum gw_engine_param {
    GW_ENGINE_PARAM_GAIN = 0,        /* linear output gain, 0..4 */
    GW_ENGINE_PARAM_TEMPERATURE = 1, /* sampling temperature, 0..4 (0 = greedy) */
    GW_ENGINE_PARAM_ATTACK_MS = 2,   /* note-on ramp, 0.5..10000 ms */
    GW_ENGINE_PARAM_RELEASE_MS = 3,  /* note-off ramp, 0.5..10000 ms */
    GW_ENGINE_PARAM_PITCH_BEND = 4,  /* semitones added to every voice's pitch conditioning, -24..24 */
    GW_ENGINE_PARAM_VOLUME = 5,      /* MIDI channel volume (CC7), 0..1, times the gain */
    /* key-tracked high-pass: cutoff = value x the voice's fundamental (its
     * note plus pitch bend), 8th-order Butterworth, 0..1, 0 = off (and
     * then the output is bit-identical to an engine without the filter) */
    GW_ENGINE_PARAM_HIGHPASS = 6,
    GW_ENGINE_PARAM_COUNT = 7,
} gw_engine_param;

typedef enum gw_engine_event_type {
    GW_ENGINE_EV_NOTE_ON = 0,  /* note, value = velocity 0..1 */
    GW_ENGINE_EV_NOTE_OFF = 1, /* note: releases every held voice playing it */
    GW_ENGINE_EV_PARAM = 2,    /* param, value */
    GW_ENGINE_EV_ALL_OFF = 3,  /* release every voice */
} gw_engine_event_type;

/* Events are applied in the order sent. `frame` places one sample-
 * accurately: it is the engine frame (the gw_engine_meters.frames clock:
 * frames process has output since start) the event belongs to, and its
 * effect is heard from frame + gw_engine_latency_frames on, whatever the
 * host's block size. It is honoured when the event is sent before the
 * process call that outputs that frame; 0, or a frame already rendered, means
 * "as soon as possible" (the next model sample rendered). A frame far in the
 * future holds back the events sent after it. */
typedef struct gw_engine_event {
    int type;  /* gw_engine_event_type */
    int param; /* gw_engine_param for GW_ENGINE_EV_PARAM */
    float note;
    float value;
    uint64_t frame; /* engine frame it takes effect at (0 = at once) */
} gw_engine_event;

/* model rate -> host rate */
typedef enum gw_engine_resampler {
    GW_ENGINE_RESAMPLE_SINC = 0, /* engine/sinc.h: constant cost per block, 24-tap latency */
    GW_ENGINE_RESAMPLE_SOXR = 1, /* gw_resampler (libsoxr HQ): bursty cost, ~20 ms latency */
} gw_engine_resampler;

typedef struct gw_engine_config {
    int max_voices;  /* 1..256: the stream and all voice state are sized for it */
    int host_rate;   /* Hz of the output */
    int max_block;   /* most frames one process call asks for (1..8192) */
    gw_engine_mode mode;
    int ahead;       /* GW_ENGINE_THREAD: blocks of max_block generated ahead (1..64) */
    int thread_priority; /* GW_ENGINE_THREAD: SCHED_FIFO priority of the generator (1..99, best
                            effort: kept at normal priority where not permitted); 0 = normal */
    float gain, temperature, attack_ms, release_ms, highpass; /* initial parameter values */
    float smooth_ms; /* parameter smoothing time constant (default 20) */
    float steal_ms;  /* fade of a stolen voice before its new note starts (default 3) */
    uint64_t seed;   /* sampling noise */
    gw_wavenet_weight_type weights;
    /* how the voices' stream runs (models/wavenet.h, the planner): with
     * plan_measure 0, `weights` with the kernels and prefetch below (the
     * default: the best ISA, the format's default prefetch: exactly
     * reproducible on one machine); with plan_measure 1 the planner times
     * the candidates for max_voices voices when a model is prepared (off
     * the audio thread, ~50 ms, or read from the wisdom file) and keeps the
     * fastest, of the format `weights` when plan_force_weights is set */
    char plan_isa[16];    /* "" = the best this CPU runs */
    int plan_prefetch;    /* -1 = the format's default, 0 off, 1 on */
    int plan_measure;
    int plan_force_weights;
    const char *wisdom;   /* the planner's wisdom file (NULL: none); the caller owns the string */
    gw_engine_resampler resampler;
    int events;      /* event ring capacity, rounded up to a power of two (default 1024) */
} gw_engine_config;

/* max_voices 8, host_rate 48000, max_block 256, callback mode, ahead 4,
 * gain 1, temperature 1, attack 5 ms, release 80 ms, highpass 0 (off), smoothing 20 ms,
 * steal 3 ms, seed 1, f32 weights (best ISA, default prefetch, no
 * planner), sinc resampler, 1024 events */
void gw_engine_config_default(gw_engine_config *c);

/* what the audio side publishes (gw_engine_read_meters, gw_engine_poll) */
typedef struct gw_engine_meters {
    uint64_t frames;    /* host frames produced since start */
    float load;         /* last block: generation time / block period (1 = the whole budget) */
    float load_peak;    /* highest load since start */
    int voices;         /* voices sounding (attack, held, release or fading) */
    uint64_t xruns;     /* blocks generated late (load > 1) + those the host reported */
    uint64_t host_xruns; /* of which the host reported (gw_engine_count_xrun) */
    uint64_t underruns; /* GW_ENGINE_THREAD: blocks the generator had not finished in time */
    uint64_t dropped;   /* events dropped because no voice could take them, or a full ring */
    uint64_t ready;     /* GW_ENGINE_THREAD: frames generated ahead, waiting for process */
} gw_engine_meters;

typedef struct gw_engine gw_engine;

/* a model prepared for the engine off the audio thread: its batched stream
 * for max_voices and its resampler to host_rate */
typedef struct gw_engine_model gw_engine_model;

gw_status gw_engine_model_create(gw_engine_model **out, const gw_wavenet *model,
                                 const gw_engine_config *cfg, gw_error *err);
void gw_engine_model_free(gw_engine_model *m);
const gw_wavenet_config *gw_engine_model_config(const gw_engine_model *m);
/* the plan its stream runs, and what the planner measured (report->n == 0
 * when it did not plan); either may be NULL */
void gw_engine_model_plan(const gw_engine_model *m, gw_wavenet_plan *plan,
                          gw_wavenet_plan_report *report);

/* Reserves everything for cfg->max_voices voices and blocks of up to
 * cfg->max_block frames and prepares `model` (copied: the caller may free
 * it afterwards). */
gw_status gw_engine_create(gw_engine **out, const gw_wavenet *model, const gw_engine_config *cfg,
                           gw_error *err);
void gw_engine_free(gw_engine *e); /* stops first; NULL is fine */

/* Call once before the first process, off the audio thread: steps every
 * voice slot once and runs a few silent blocks through the resampler so the
 * first callback costs no more than the others (page faults, the
 * resampler's start-up). GW_ENGINE_THREAD: then starts the generator thread
 * and waits until it has the first `ahead` blocks ready. */
gw_status gw_engine_start(gw_engine *e, gw_error *err);
void gw_engine_stop(gw_engine *e);

/* ---- audio thread ---- */
/* writes n_frames (<= max_block) of mono audio at host_rate */
void gw_engine_process(gw_engine *e, float *out, // (n_frames)
                       int n_frames);
/* the host saw an xrun (e.g. PortAudio's output-underflow flag) */
void gw_engine_count_xrun(gw_engine *e);

/* ---- control thread ---- */
/* 1 if queued, 0 if the event ring is full (the event is then dropped and
 * counted) */
int gw_engine_send(gw_engine *e, const gw_engine_event *ev);
int gw_engine_note_on(gw_engine *e, float note, float velocity);
int gw_engine_note_off(gw_engine *e, float note);
int gw_engine_set_param(gw_engine *e, gw_engine_param p, float value);
/* room in the event ring: how many events a send can still queue */
size_t gw_engine_free_events(const gw_engine *e);
/* the newest meter record the audio side pushed since the last poll (1), or
 * 0 if none was pushed */
int gw_engine_poll(gw_engine *e, gw_engine_meters *m);
/* Hands a prepared model to the audio side; the voices sounding fade out in
 * steal_ms and restart on the new model. The engine owns m from here on.
 * GW_ERR_ARG if m does not match the engine (max_voices, rates, block) and
 * GW_ERR_UNSUPPORTED while an earlier swap is still in flight: call
 * gw_engine_collect until it returns the old model first. */
gw_status gw_engine_swap_model(gw_engine *e, gw_engine_model *m, gw_error *err);
/* the model a completed swap replaced (for the caller to free off the audio
 * thread), or NULL */
gw_engine_model *gw_engine_collect(gw_engine *e);

/* ---- audio-side state, for tests and single-threaded hosts: call only
 * while no process call (and no generator thread) runs ---- */
typedef struct gw_engine_voice_info {
    float note, velocity, level;
    int stage; /* 0 attack, 1 hold, 2 release, 3 fading for a stolen note */
    int pending; float pending_note; /* stage 3: the note it will restart with */
} gw_engine_voice_info;
/* the sounding voices, oldest slot first (up to cap); returns their count */
int gw_engine_voices(const gw_engine *e, gw_engine_voice_info *out, int cap);

/* ---- any thread ---- */
void gw_engine_read_meters(const gw_engine *e, gw_engine_meters *m);
/* frames between a note-on and the first resampled output it can affect,
 * not counting the host's own buffering: the resampler's delay, plus
 * ahead * max_block in GW_ENGINE_THREAD mode. An event stamped with
 * gw_engine_event.frame F is heard from F + this on. */
double gw_engine_latency_frames(const gw_engine *e);
const gw_engine_config *gw_engine_get_config(const gw_engine *e);
/* the plan of the model the engine was created with, and its report (as
 * gw_engine_model_plan); control thread */
void gw_engine_plan(const gw_engine *e, gw_wavenet_plan *plan, gw_wavenet_plan_report *report);

/* ---- MIDI: the one meaning of a MIDI message (midi_map.c) ---------------
 * What play (files, ALSA and JACK input), render and the LV2 plugin all do
 * with MIDI (docs/engine.md, "MIDI"), turned into engine events on the
 * control side (the engine's one event producer owns the map):
 *   note on 1..127     a voice at that key, velocity / 127; the same key
 *                      sounding (held or sustained) is released first; over
 *                      voice_limit held notes, the oldest is released
 *   note off, note on 0  release, or keep sounding while the pedal is down
 *   CC64 sustain       >= 64 down; up releases what it kept
 *   CC7 volume         GW_ENGINE_PARAM_VOLUME = value / 127
 *   CC120, CC123       all sound / all notes off (forgets held and sustained)
 *   pitch bend         GW_ENGINE_PARAM_PITCH_BEND = bend x bend_range
 *   channel 10         ignored (General MIDI percussion: a pitched model
 *                      cannot play it)
 *   anything else (program change, aftertouch, other controllers): ignored
 *                      until there are instruments to change. */
typedef struct gw_midi_map {
    uint32_t held_since[128]; /* note-on clock of a held key, 0 when up */
    uint8_t sustained[128];   /* released while the pedal was down */
    uint8_t velocity[128];    /* of the last note-on per key */
    int volume;               /* the last CC7 value, -1 before any */
    uint32_t clock;
    int pedal;
    float bend;        /* -1..1, the last pitch-bend message */
    float bend_range;  /* semitones at full bend */
    int voice_limit;   /* most held + sustained notes (0: no limit) */
    float transpose;   /* semitones added to every note's pitch (fractions allowed) */
} gw_midi_map;

void gw_midi_map_init(gw_midi_map *m, float bend_range, int voice_limit);
/* one message (len bytes, status first) at engine frame `frame` (as
 * gw_engine_event.frame); returns 1 if it meant something to genwave.
 * Events the engine's ring cannot take are dropped and counted there. */
int gw_midi_map_send(gw_midi_map *m, gw_engine *e, const uint8_t *msg, size_t len,
                     uint64_t frame);
/* Another engine takes over (the plugin's model change): every held or
 * sustained key starts there, after the volume and bend in effect. */
void gw_midi_map_replay(const gw_midi_map *m, gw_engine *e, uint64_t frame);
/* a new bend range re-sends the bend in effect */
void gw_midi_map_bend_range(gw_midi_map *m, gw_engine *e, float semitones, uint64_t frame);

/* ---- offline: a song through the engine (render.c) ----------------------
 * What `genwave render` plays, and what a host would hear from the same
 * events: an engine (callback mode, cfg as given; its event ring is made
 * large enough) fed the song's messages through a gw_midi_map, each stamped
 * to engine frame gw_engine_song_frame(seconds, host_rate), in blocks of
 * cfg->max_block. At the song's end every note still sounding is released
 * (all notes off), and the output runs until the release is over:
 * gw_engine_song_frames frames in all. The
 * resampler's latency, gw_engine_song_offset frames, is cut from the front,
 * so a note at t seconds starts at frame t x host_rate of *out. Since the
 * engine is block-independent, any host feeding the same stamped events
 * in any block sizes gets the same samples (tests/engine/render_blocks.c
 * checks it against the CLI). */
typedef struct gw_engine_song {
    const gw_midi_event *ev; /* (n) channel messages with their times, in time order */
    size_t n;
    double end_seconds;      /* the song's end */
    float bend_range;        /* semitones at full pitch bend */
    float transpose;         /* semitones added to every note (gw_midi_map.transpose) */
    gw_wavenet_plan *plan_used; /* if not NULL, set to the plan the voices ran (to print,
                                   so the render can be replayed with --plan) */
} gw_engine_song;

uint64_t gw_engine_song_frame(double seconds, int host_rate);
/* song time t is engine frame 1 + llround(t x host_rate) (0 would mean
 * "at once"); the frames cut from the front are that 1 and the engine's
 * latency, rounded */
size_t gw_engine_song_offset(const gw_engine *e);
/* length of the output: to the song's end plus the release */
size_t gw_engine_song_frames(const gw_engine_config *cfg, double end_seconds);
/* *out (n_out frames at cfg->host_rate) is the caller's to free */
gw_status gw_engine_render_song(float **out, size_t *n_out, const gw_wavenet *model,
                                const gw_engine_config *cfg, const gw_engine_song *song,
                                gw_error *err);

#endif
