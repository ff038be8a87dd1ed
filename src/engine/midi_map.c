/* MIDI messages -> engine events: the one table every host shares
 * (gw_engine.h, "MIDI"; docs/engine.md). Control side only: it keeps which
 * keys are held and which the sustain pedal keeps, and sends plain note and
 * parameter events, each stamped with the caller's frame. */
#include "engine/gw_engine.h"

#include <string.h>

enum { CC_VOLUME = 7, CC_SUSTAIN = 64, CC_ALL_SOUND_OFF = 120, CC_ALL_NOTES_OFF = 123 };

void gw_midi_map_init(gw_midi_map *m, float bend_range, int voice_limit) {
    memset(m, 0, sizeof *m);
    m->bend_range = bend_range;
    m->voice_limit = voice_limit;
    m->volume = -1;
}

static int send(gw_engine *e, int type, int param, float note, float value, uint64_t frame) {
    const gw_engine_event ev = {
        .type = type, .param = param, .note = note, .value = value, .frame = frame};
    return gw_engine_send(e, &ev);
}

static void release(gw_midi_map *m, gw_engine *e, int key, uint64_t frame) {
    if (!m->held_since[key] && !m->sustained[key]) return;
    m->held_since[key] = 0;
    m->sustained[key] = 0;
    send(e, GW_ENGINE_EV_NOTE_OFF, 0, (float)key + m->transpose, 0.0f, frame);
}

static void note_on(gw_midi_map *m, gw_engine *e, int key, int vel, uint64_t frame) {
    release(m, e, key, frame); /* a retriggered key starts again */
    if (m->voice_limit > 0) {  /* the oldest held note yields */
        int sounding = 0, oldest = -1;
        for (int k = 0; k < 128; k++)
            if (m->held_since[k] || m->sustained[k]) {
                sounding++;
                /* sustained keys (held_since 0) count as the oldest */
                if (oldest < 0 || m->held_since[k] < m->held_since[oldest]) oldest = k;
            }
        if (sounding >= m->voice_limit && oldest >= 0) release(m, e, oldest, frame);
    }
    m->held_since[key] = ++m->clock;
    m->velocity[key] = (uint8_t)vel;
    send(e, GW_ENGINE_EV_NOTE_ON, 0, (float)key + m->transpose, (float)vel / 127.0f, frame);
}

static void note_off(gw_midi_map *m, gw_engine *e, int key, uint64_t frame) {
    if (!m->held_since[key]) return;
    if (m->pedal) {
        m->held_since[key] = 0;
        m->sustained[key] = 1;
    } else {
        release(m, e, key, frame);
    }
}

int gw_midi_map_send(gw_midi_map *m, gw_engine *e, const uint8_t *msg, size_t len, uint64_t frame) {
    if (len < 1 || msg[0] < 0x80 || msg[0] >= 0xF0) return 0;
    const int status = msg[0] & 0xF0, channel = msg[0] & 0x0F;
    if (channel == 9) return 0;                        /* General MIDI percussion */
    if (len < 3 || (msg[1] | msg[2]) & 0x80) return 0; /* every message used has 2 data bytes */
    const int a = msg[1], b = msg[2];
    switch (status) {
    case 0x90: /* velocity 0 is a note off */
        if (b > 0)
            note_on(m, e, a, b, frame);
        else
            note_off(m, e, a, frame);
        return 1;
    case 0x80:
        note_off(m, e, a, frame);
        return 1;
    case 0xB0:
        if (a == CC_SUSTAIN) {
            m->pedal = b >= 64;
            if (!m->pedal)
                for (int k = 0; k < 128; k++)
                    if (m->sustained[k]) release(m, e, k, frame);
        } else if (a == CC_VOLUME) {
            m->volume = b;
            send(e, GW_ENGINE_EV_PARAM, GW_ENGINE_PARAM_VOLUME, 0.0f, (float)b / 127.0f, frame);
        } else if (a == CC_ALL_SOUND_OFF || a == CC_ALL_NOTES_OFF) {
            memset(m->held_since, 0, sizeof m->held_since);
            memset(m->sustained, 0, sizeof m->sustained);
            send(e, GW_ENGINE_EV_ALL_OFF, 0, 0.0f, 0.0f, frame);
        } else {
            return 0;
        }
        return 1;
    case 0xE0:
        m->bend = (float)((b << 7 | a) - 8192) / 8192.0f;
        send(e, GW_ENGINE_EV_PARAM, GW_ENGINE_PARAM_PITCH_BEND, 0.0f, m->bend * m->bend_range,
             frame);
        return 1;
    default:
        return 0;
    }
}

void gw_midi_map_bend_range(gw_midi_map *m, gw_engine *e, float semitones, uint64_t frame) {
    if (semitones == m->bend_range) return;
    m->bend_range = semitones;
    send(e, GW_ENGINE_EV_PARAM, GW_ENGINE_PARAM_PITCH_BEND, 0.0f, m->bend * m->bend_range, frame);
}

void gw_midi_map_replay(const gw_midi_map *m, gw_engine *e, uint64_t frame) {
    if (m->volume >= 0)
        send(e, GW_ENGINE_EV_PARAM, GW_ENGINE_PARAM_VOLUME, 0.0f, (float)m->volume / 127.0f, frame);
    send(e, GW_ENGINE_EV_PARAM, GW_ENGINE_PARAM_PITCH_BEND, 0.0f, m->bend * m->bend_range, frame);
    for (int k = 0; k < 128; k++)
        if (m->held_since[k] || m->sustained[k])
            send(e, GW_ENGINE_EV_NOTE_ON, 0, (float)k + m->transpose,
                 (float)m->velocity[k] / 127.0f, frame);
}
