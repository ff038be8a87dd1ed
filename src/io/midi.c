/* Standard MIDI Files (midi.h), after the MIDI Manufacturers Association's
 * "Standard MIDI Files 1.0" (1996): a header chunk "MThd" (format, track
 * count, division), then chunks of "MTrk" events, each a variable-length
 * delta time in ticks followed by a channel message (running status
 * allowed), a SysEx (F0/F7, length-prefixed) or a meta event (FF type length
 * data). Every read below goes through a cursor that knows where its chunk
 * ends; nothing the file declares is trusted before it is checked against
 * that end. */
#include "io/midi.h"

#include <stdlib.h>
#include <string.h>

/* a chunk's bytes [pos, end) with its name for messages */
typedef struct cursor {
    const uint8_t *d;
    size_t pos, end;
    const char *name;
    int track; /* -1: the header */
} cursor;

static gw_status bad(const cursor *c, gw_error *err, const char *what) {
    if (c->track < 0)
        return gw_fail(err, GW_ERR_FORMAT, "%s: not a Standard MIDI File: %s", c->name, what);
    return gw_fail(err, GW_ERR_FORMAT, "%s: track %d, byte %zu: %s", c->name, c->track + 1, c->pos,
                   what);
}

static uint32_t be32(const uint8_t *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* a variable-length quantity: at most 4 bytes of 7 bits (0..0x0FFFFFFF) */
static gw_status vlq(cursor *c, uint32_t *v, gw_error *err) {
    uint32_t x = 0;
    for (int i = 0; i < 4; i++) {
        if (c->pos >= c->end)
            return bad(c, err, "a length or delta time runs past the track's end");
        const uint8_t b = c->d[c->pos++];
        x = x << 7 | (b & 0x7Fu);
        if (!(b & 0x80)) {
            *v = x;
            return GW_OK;
        }
    }
    return bad(c, err, "a length or delta time longer than 4 bytes");
}

/* events while parsing: the file's order kept in `seq` for a stable sort */
typedef struct raw_event {
    gw_midi_event e;
    uint32_t seq;
} raw_event;

typedef struct tempo {
    uint64_t tick;
    uint32_t us_per_quarter;
    uint32_t seq;
} tempo;

typedef struct parse {
    raw_event *ev;
    size_t n, cap;
    tempo *tm;
    size_t n_tm, cap_tm;
    uint32_t seq;
    uint64_t end_tick;
} parse;

static int grow(void **p, size_t *cap, size_t need, size_t item) {
    if (need <= *cap) return 1;
    size_t c = *cap ? *cap * 2 : 256;
    while (c < need)
        c *= 2;
    void *q = realloc(*p, c * item);
    if (!q) return 0;
    *p = q;
    *cap = c;
    return 1;
}

static gw_status track(parse *p, cursor *c, gw_error *err) {
    uint64_t tick = 0;
    uint8_t running = 0; /* the last channel status, for running status */
    while (c->pos < c->end) {
        uint32_t delta = 0;
        gw_status st = vlq(c, &delta, err);
        if (st) return st;
        tick += delta; /* at most 2^28 per event and 2^26 events: no overflow */
        if (tick > p->end_tick) p->end_tick = tick;
        if (c->pos >= c->end) return bad(c, err, "an event is cut off by the track's end");
        uint8_t status = c->d[c->pos];
        if (status & 0x80) {
            c->pos++;
        } else {
            if (!running) return bad(c, err, "a data byte where a status byte must be");
            status = running; /* running status: this byte is the first data byte */
        }
        if (status < 0xF0) {
            const int len = (status & 0xE0) == 0xC0 ? 2 : 3; /* Cx, Dx: one data byte */
            if (c->end - c->pos < (size_t)len - 1)
                return bad(c, err, "a channel message is cut off");
            raw_event r = {.e = {.tick = tick, .len = (uint8_t)len, .track = (uint16_t)c->track},
                           .seq = p->seq++};
            r.e.msg[0] = status;
            for (int i = 1; i < len; i++) {
                const uint8_t b = c->d[c->pos++];
                if (b & 0x80) {
                    c->pos--;
                    return bad(c, err, "a channel message's data byte is above 127");
                }
                r.e.msg[i] = b;
            }
            if (!grow((void **)&p->ev, &p->cap, p->n + 1, sizeof *p->ev))
                return gw_fail(err, GW_ERR_NOMEM, "%s: out of memory", c->name);
            p->ev[p->n++] = r;
            running = status;
        } else if (status == 0xF0 || status == 0xF7) { /* SysEx: length, bytes */
            uint32_t len = 0;
            if ((st = vlq(c, &len, err))) return st;
            if (len > c->end - c->pos)
                return bad(c, err, "a SysEx message runs past the track's end");
            c->pos += len;
        } else if (status == 0xFF) { /* meta: type, length, bytes */
            if (c->pos >= c->end) return bad(c, err, "a meta event is cut off");
            const uint8_t type = c->d[c->pos++];
            uint32_t len = 0;
            if ((st = vlq(c, &len, err))) return st;
            if (len > c->end - c->pos) return bad(c, err, "a meta event runs past the track's end");
            const uint8_t *data = c->d + c->pos;
            c->pos += len;
            if (type == 0x2F) return GW_OK; /* End of Track: what follows is not played */
            if (type == 0x51) {             /* Set Tempo: microseconds per quarter note */
                if (len != 3) return bad(c, err, "a Set Tempo event that is not 3 bytes long");
                uint32_t us = (uint32_t)data[0] << 16 | (uint32_t)data[1] << 8 | data[2];
                if (us == 0) return bad(c, err, "a tempo of 0 microseconds per quarter note");
                if (!grow((void **)&p->tm, &p->cap_tm, p->n_tm + 1, sizeof *p->tm))
                    return gw_fail(err, GW_ERR_NOMEM, "%s: out of memory", c->name);
                p->tm[p->n_tm++] = (tempo){tick, us, p->seq++};
            }
        } else {
            c->pos--;
            char what[80];
            snprintf(what, sizeof what, "status 0x%02X has no place in a MIDI file", status);
            return bad(c, err, what);
        }
    }
    return GW_OK;
}

static int event_cmp(const void *a, const void *b) {
    const raw_event *x = a, *y = b;
    if (x->e.tick != y->e.tick) return x->e.tick < y->e.tick ? -1 : 1;
    if (x->e.track != y->e.track) return x->e.track < y->e.track ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static int tempo_cmp(const void *a, const void *b) {
    const tempo *x = a, *y = b;
    if (x->tick != y->tick) return x->tick < y->tick ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

gw_status gw_midi_parse(gw_midi_file *out, const uint8_t *d, size_t n, const char *name,
                        gw_error *err) {
    memset(out, 0, sizeof *out);
    cursor h = {.d = d, .pos = 0, .end = n, .name = name, .track = -1};
    if (n < 14 || memcmp(d, "MThd", 4) != 0) return bad(&h, err, "no MThd header");
    const uint32_t hlen = be32(d + 4);
    if (hlen < 6 || hlen > n - 8) return bad(&h, err, "the header's length is wrong");
    const int format = d[8] << 8 | d[9], n_tracks = d[10] << 8 | d[11];
    const uint16_t division = (uint16_t)(d[12] << 8 | d[13]);
    if (format > 2) return bad(&h, err, "an unknown format (not 0, 1 or 2)");
    if (format == 2)
        return gw_fail(err, GW_ERR_UNSUPPORTED,
                       "%s: format 2 (independent sequences) is not supported; save it as format 1",
                       name);
    if (n_tracks == 0) return bad(&h, err, "no tracks");
    /* seconds per tick: tempo-scaled (ticks per quarter) or SMPTE */
    double smpte_tick = 0;
    if (division & 0x8000) {
        const int fps = -(int8_t)(division >> 8), tpf = division & 0xFF;
        if ((fps != 24 && fps != 25 && fps != 29 && fps != 30) || tpf == 0)
            return bad(&h, err, "an SMPTE division with a frame rate other than 24/25/29.97/30");
        smpte_tick = 1.0 / ((fps == 29 ? 29.97 : fps) * tpf);
    } else if (division == 0) {
        return bad(&h, err, "a division of 0 ticks per quarter note");
    }

    parse p = {0};
    gw_status st = GW_OK;
    size_t pos = 8 + hlen;
    int found = 0;
    while (!st && found < n_tracks && pos < n) {
        if (n - pos < 8) {
            st = gw_fail(err, GW_ERR_FORMAT, "%s: truncated: a chunk header is cut off at byte %zu",
                         name, pos);
            break;
        }
        const uint32_t len = be32(d + pos + 4);
        if (len > n - pos - 8) {
            st = gw_fail(err, GW_ERR_FORMAT,
                         "%s: truncated: the chunk at byte %zu declares %u bytes, %zu are left",
                         name, pos, len, n - pos - 8);
            break;
        }
        if (memcmp(d + pos, "MTrk", 4) == 0) {
            cursor c = {.d = d, .pos = pos + 8, .end = pos + 8 + len, .name = name, .track = found};
            st = track(&p, &c, err);
            found++;
        } /* other chunk types are skipped, as the standard asks */
        pos += 8 + (size_t)len;
    }
    if (!st && found < n_tracks)
        st = gw_fail(err, GW_ERR_FORMAT, "%s: truncated: the header declares %d tracks, %d found",
                     name, n_tracks, found);
    if (!st && p.n > 0 && !(out->events = malloc(p.n * sizeof *out->events)))
        st = gw_fail(err, GW_ERR_NOMEM, "%s: out of memory", name);
    if (st) {
        free(p.ev);
        free(p.tm);
        return st;
    }

    /* merge the tracks; then walk events and tempo changes together */
    if (p.n) qsort(p.ev, p.n, sizeof *p.ev, event_cmp);
    if (p.n_tm) qsort(p.tm, p.n_tm, sizeof *p.tm, tempo_cmp);
    size_t k = 0;
    uint64_t at_tick = 0;
    double at_s = 0, s_per_tick = smpte_tick ? smpte_tick : 500000e-6 / division;
    for (size_t i = 0; i <= p.n; i++) {
        const uint64_t t = i < p.n ? p.ev[i].e.tick : p.end_tick;
        for (; !smpte_tick && k < p.n_tm && p.tm[k].tick <= t; k++) {
            at_s += (double)(p.tm[k].tick - at_tick) * s_per_tick;
            at_tick = p.tm[k].tick;
            s_per_tick = p.tm[k].us_per_quarter * 1e-6 / division;
        }
        const double s = at_s + (double)(t - at_tick) * s_per_tick;
        if (i < p.n) {
            out->events[i] = p.ev[i].e;
            out->events[i].seconds = s;
        } else {
            out->seconds = s;
        }
    }
    out->n = p.n;
    out->format = format;
    out->n_tracks = found;
    free(p.ev);
    free(p.tm);
    return GW_OK;
}

gw_status gw_midi_read(gw_midi_file *out, const char *path, gw_error *err) {
    memset(out, 0, sizeof *out);
    unsigned char *d = NULL;
    size_t n = 0;
    gw_status st = gw_read_file(path, GW_MIDI_MAX_BYTES, "MIDI file", &d, &n, err);
    if (!st) st = gw_midi_parse(out, d, n, path, err);
    free(d);
    return st;
}

void gw_midi_free(gw_midi_file *m) {
    if (!m) return;
    free(m->events);
    memset(m, 0, sizeof *m);
}
