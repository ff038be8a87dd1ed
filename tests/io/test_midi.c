#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gw_test.h"
#include "io/midi.h"

/* ---- a tiny SMF writer for the tests ---- */
typedef struct buf {
    uint8_t d[1 << 16];
    size_t n;
} buf;

static void put(buf *b, const void *p, size_t n) {
    assert_true(b->n + n <= sizeof b->d);
    memcpy(b->d + b->n, p, n);
    b->n += n;
}
static void put8(buf *b, unsigned v) {
    uint8_t x = (uint8_t)v;
    put(b, &x, 1);
}
static void put16(buf *b, unsigned v) {
    put8(b, v >> 8), put8(b, v);
}
static void put32(buf *b, uint32_t v) {
    put16(b, v >> 16), put16(b, v & 0xFFFF);
}
static void putvlq(buf *b, uint32_t v) {
    uint8_t t[5];
    int n = 0;
    t[n++] = v & 0x7F;
    while (v >>= 7)
        t[n++] = 0x80 | (v & 0x7F);
    while (n)
        put8(b, t[--n]);
}
static void header(buf *b, int format, int tracks, unsigned division) {
    put(b, "MThd", 4), put32(b, 6), put16(b, (unsigned)format), put16(b, (unsigned)tracks),
        put16(b, division);
}
/* starts a track; returns where its length goes */
static size_t track_begin(buf *b) {
    put(b, "MTrk", 4);
    size_t at = b->n;
    put32(b, 0);
    return at;
}
static void track_end(buf *b, size_t at) {
    uint32_t len = (uint32_t)(b->n - at - 4);
    b->d[at] = len >> 24, b->d[at + 1] = len >> 16, b->d[at + 2] = len >> 8, b->d[at + 3] = len;
}

/* format 1, 480 ticks per quarter: a tempo track (120 bpm, 60 bpm from beat
 * 2) and a note track with running status, a SysEx, a text meta event, a
 * program change (2-byte message) and note-on velocity 0 as note-off */
static void song(buf *b) {
    b->n = 0;
    header(b, 1, 2, 480);
    size_t t0 = track_begin(b);
    putvlq(b, 0), put8(b, 0xFF), put8(b, 0x51), put8(b, 3), put8(b, 0x07), put8(b, 0xA1),
        put8(b, 0x20); /* 500000 us per quarter */
    putvlq(b, 960), put8(b, 0xFF), put8(b, 0x51), put8(b, 3), put8(b, 0x0F), put8(b, 0x42),
        put8(b, 0x40); /* 1000000 */
    putvlq(b, 0), put8(b, 0xFF), put8(b, 0x2F), put8(b, 0);
    track_end(b, t0);
    size_t t1 = track_begin(b);
    putvlq(b, 0), put8(b, 0xC0), put8(b, 71);               /* program change */
    putvlq(b, 0), put8(b, 0x90), put8(b, 60), put8(b, 100); /* t = 0 */
    putvlq(b, 480), put8(b, 64), put8(b, 90);               /* running status, 0.5 s */
    putvlq(b, 0), put8(b, 0xF0), putvlq(b, 3), put8(b, 1), put8(b, 2), put8(b, 0xF7);
    putvlq(b, 0), put8(b, 0xFF), put8(b, 0x01), putvlq(b, 4), put(b, "abcd", 4);
    putvlq(b, 480), put8(b, 0x80), put8(b, 60), put8(b, 0);   /* 1.0 s */
    putvlq(b, 480), put8(b, 0x90), put8(b, 64), put8(b, 0);   /* 2.0 s (60 bpm) */
    putvlq(b, 480), put8(b, 0xFF), put8(b, 0x2F), put8(b, 0); /* end: 3.0 s */
    put8(b, 0x90);                                            /* after End of Track: ignored */
    track_end(b, t1);
}

static void test_parses_times_running_status_and_tempo(void **state) {
    buf b;
    song(&b);
    gw_midi_file m;
    gw_error err = {0};
    assert_int_equal(gw_midi_parse(&m, b.d, b.n, "song.mid", &err), GW_OK);
    assert_int_equal(m.format, 1);
    assert_int_equal(m.n_tracks, 2);
    assert_int_equal(m.n, 5);
    const double want_s[] = {0, 0, 0.5, 1.0, 2.0};
    const uint8_t want[][3] = {
        {0xC0, 71, 0}, {0x90, 60, 100}, {0x90, 64, 90}, {0x80, 60, 0}, {0x90, 64, 0}};
    for (size_t i = 0; i < m.n; i++) {
        assert_true(fabs(m.events[i].seconds - want_s[i]) < 1e-9);
        assert_memory_equal(m.events[i].msg, want[i], 3);
        assert_int_equal(m.events[i].len, i == 0 ? 2 : 3);
        assert_int_equal(m.events[i].track, 1);
    }
    assert_true(fabs(m.seconds - 3.0) < 1e-9);
    gw_midi_free(&m);
}

static void expect_error(const uint8_t *d, size_t n, const char *want) {
    gw_midi_file m;
    gw_error err = {0};
    gw_status st = gw_midi_parse(&m, d, n, "x.mid", &err);
    if (st == GW_OK || !strstr(err.msg, want))
        fprintf(stderr, "status %d, message '%s', expected '%s'\n", st, err.msg, want);
    assert_int_not_equal(st, GW_OK);
    assert_non_null(strstr(err.msg, want));
    assert_true(!strncmp(err.msg, "x.mid: ", 7)); /* names the file first */
    assert_null(m.events);
    assert_int_equal(m.n, 0);
}

/* D1 of the hostile-input issue: libsmf read past the end of these */
static void test_d1_truncated_track_reproducers(void **state) {
    buf b = {.n = 0};
    /* the 31-byte file: a track declaring 100 bytes with 9 present */
    header(&b, 0, 1, 96);
    put(&b, "MTrk", 4), put32(&b, 100);
    const uint8_t body[] = {0x00, 0x90, 0x3C, 0x64, 0x60, 0x80, 0x3C, 0x00, 0x00};
    put(&b, body, sizeof body);
    assert_int_equal(b.n, 31);
    expect_error(b.d, b.n, "truncated: the chunk at byte 14 declares 100 bytes, 9 are left");
    /* a track length of 0xFFFFFFFF */
    b.d[18] = b.d[19] = b.d[20] = b.d[21] = 0xFF;
    expect_error(b.d, b.n, "declares 4294967295 bytes");
    /* fewer tracks than the header declares */
    b.n = 0;
    header(&b, 1, 3, 96);
    size_t t = track_begin(&b);
    put(&b, body, 4);
    track_end(&b, t);
    expect_error(b.d, b.n, "the header declares 3 tracks, 1 found");
}

static void test_malformed_events(void **state) {
    const struct {
        uint8_t ev[12];
        size_t n;
        const char *want;
    } cases[] = {
        {{0x80, 0x80, 0x80, 0x80, 0x00}, 5, "longer than 4 bytes"},
        {{0x00, 0x3C, 0x64}, 3, "a data byte where a status byte must be"},
        {{0x00, 0xF5, 0x00}, 3, "status 0xF5 has no place"},
        {{0x00, 0x90, 0x3C}, 3, "a channel message is cut off"},
        {{0x00, 0x90, 0x3C, 0x90}, 4, "data byte is above 127"},
        {{0x00, 0xF0, 0x10, 0x01}, 4, "SysEx message runs past"},
        {{0x00, 0xFF, 0x01, 0x7F, 0x41}, 5, "meta event runs past"},
        {{0x00, 0xFF, 0x51, 0x02, 0x01, 0x02}, 6, "Set Tempo event that is not 3 bytes"},
        {{0x00, 0xFF, 0x51, 0x03, 0x00, 0x00, 0x00}, 7, "a tempo of 0"},
        {{0x00, 0xFF}, 2, "meta event is cut off"},
        {{0x81}, 1, "runs past the track's end"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        buf b = {.n = 0};
        header(&b, 0, 1, 96);
        size_t t = track_begin(&b);
        put(&b, cases[i].ev, cases[i].n);
        track_end(&b, t);
        expect_error(b.d, b.n, cases[i].want);
    }
    buf b = {.n = 0};
    header(&b, 2, 1, 96);
    expect_error(b.d, b.n, "format 2");
    b.n = 0;
    header(&b, 0, 1, 0);
    expect_error(b.d, b.n, "a division of 0");
    expect_error((const uint8_t *)"RIFF....WAVEfmt ", 16, "no MThd header");
    expect_error(b.d, 10, "no MThd header");
}

/* SMPTE division: 25 fps x 40 ticks per frame = 1 ms per tick */
static void test_smpte_division(void **state) {
    buf b = {.n = 0};
    header(&b, 0, 1, (unsigned)((uint8_t)-25 << 8 | 40));
    size_t t = track_begin(&b);
    putvlq(&b, 250), put8(&b, 0x90), put8(&b, 60), put8(&b, 1);
    putvlq(&b, 0), put8(&b, 0xFF), put8(&b, 0x51), put8(&b, 3), put8(&b, 1), put8(&b, 2),
        put8(&b, 3); /* a tempo changes nothing under SMPTE */
    putvlq(&b, 750), put8(&b, 0x80), put8(&b, 60), put8(&b, 0);
    track_end(&b, t);
    gw_midi_file m;
    gw_error err = {0};
    assert_int_equal(gw_midi_parse(&m, b.d, b.n, "s.mid", &err), GW_OK);
    assert_int_equal(m.n, 2);
    assert_true(fabs(m.events[0].seconds - 0.25) < 1e-9);
    assert_true(fabs(m.events[1].seconds - 1.0) < 1e-9);
    gw_midi_free(&m);
}

/* every prefix of a valid file, and 20,000 seeded mutants of it (byte
 * flips, overwrites with 0x00/0x7F/0x80/0xFF, insertions and deletions):
 * each parses or gives a one-line error naming the file, never a crash (run
 * under ASan/UBSan in CI) */
static void test_every_truncation_and_mutants(void **state) {
    buf b;
    song(&b);
    static uint8_t m[sizeof b.d + 64];
    for (size_t cut = 0; cut < b.n; cut++) {
        memcpy(m, b.d, cut);
        gw_midi_file f;
        gw_error err = {0};
        gw_status st = gw_midi_parse(&f, m, cut, "cut.mid", &err);
        if (cut < b.n - 1) { /* only the final stray byte may go */
            assert_int_not_equal(st, GW_OK);
            assert_true(!strncmp(err.msg, "cut.mid: ", 9));
            assert_null(strchr(err.msg, '\n'));
        }
        gw_midi_free(&f);
    }
    gw_rng rng;
    gw_rng_seed(&rng, 2026);
    int ok = 0;
    for (int i = 0; i < 20000; i++) {
        size_t n = b.n;
        memcpy(m, b.d, n);
        const int edits = 1 + (int)gw_rng_below(&rng, 4);
        for (int k = 0; k < edits; k++) {
            const size_t at = (size_t)gw_rng_below(&rng, n);
            switch (gw_rng_below(&rng, 4)) {
            case 0:
                m[at] ^= (uint8_t)(1u << gw_rng_below(&rng, 8));
                break;
            case 1:
                m[at] = (const uint8_t[]){0x00, 0x7F, 0x80, 0xFF}[gw_rng_below(&rng, 4)];
                break;
            case 2:
                memmove(m + at + 1, m + at, n - at), m[at] = (uint8_t)gw_rng_u64(&rng), n++;
                break;
            default:
                memmove(m + at, m + at + 1, n - at - 1), n--;
                break;
            }
        }
        gw_midi_file f;
        gw_error err = {0};
        gw_status st = gw_midi_parse(&f, m, n, "mut.mid", &err);
        if (st == GW_OK) {
            ok++;
            for (size_t e = 1; e < f.n; e++)
                assert_true(f.events[e].seconds >= f.events[e - 1].seconds);
            for (size_t e = 0; e < f.n; e++)
                assert_true(isfinite(f.events[e].seconds));
        } else {
            assert_true(!strncmp(err.msg, "mut.mid: ", 9));
        }
        gw_midi_free(&f);
    }
    assert_true(ok > 0); /* some mutants stay valid files: the parser is not refusing everything */
}

/* D4's input: 100,000 notes parse in one pass (sorting, not pairwise work) */
static void test_many_notes(void **state) {
    enum { NOTES = 100000 };
    size_t cap = 14 + 8 + (size_t)NOTES * 8 + 4;
    uint8_t *d = malloc(cap);
    assert_non_null(d);
    size_t n = 0;
    memcpy(d, "MThd\0\0\0\6\0\0\0\1\1\xE0", 14), n = 14;
    memcpy(d + n, "MTrk\0\0\0\0", 8), n += 8;
    for (int i = 0; i < NOTES; i++) {
        const uint8_t ev[] = {0x00, 0x90, (uint8_t)(40 + i % 40), 100,
                              0x10, 0x80, (uint8_t)(40 + i % 40), 0};
        memcpy(d + n, ev, sizeof ev), n += sizeof ev;
    }
    const uint32_t len = (uint32_t)(n - 22);
    d[18] = len >> 24, d[19] = len >> 16, d[20] = len >> 8, d[21] = len;
    gw_midi_file m;
    gw_error err = {0};
    assert_int_equal(gw_midi_parse(&m, d, n, "many.mid", &err), GW_OK);
    assert_int_equal(m.n, 2 * NOTES);
    assert_true(fabs(m.seconds - NOTES * 16 * (0.5 / 480)) < 1e-6);
    gw_midi_free(&m);
    free(d);
}

/* gw_midi_read: a FIFO is refused at once (D5's hang), a missing file named */
static void test_read_refuses_fifo_and_missing(void **state) {
    char dir[4096], p[4200];
    gw_test_tmpdir(dir, sizeof dir, "midi");
    snprintf(p, sizeof p, "%s/fifo.mid", dir);
    assert_int_equal(mkfifo(p, 0600), 0);
    gw_midi_file m;
    gw_error err = {0};
    assert_int_equal(gw_midi_read(&m, p, &err), GW_ERR_IO);
    assert_non_null(strstr(err.msg, "not a regular file"));
    unlink(p);
    snprintf(p, sizeof p, "%s/none.mid", dir);
    assert_int_equal(gw_midi_read(&m, p, &err), GW_ERR_IO);
    assert_non_null(strstr(err.msg, "none.mid: cannot open"));
    rmdir(dir);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parses_times_running_status_and_tempo),
        cmocka_unit_test(test_d1_truncated_track_reproducers),
        cmocka_unit_test(test_malformed_events),
        cmocka_unit_test(test_smpte_division),
        cmocka_unit_test(test_every_truncation_and_mutants),
        cmocka_unit_test(test_many_notes),
        cmocka_unit_test(test_read_refuses_fifo_and_missing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
