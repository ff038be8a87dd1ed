#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sndfile.h>

#include "gw_test.h"
#include "io/audio.h"

static char dir[4096];

static int setup(void **state) {
    gw_test_tmpdir(dir, sizeof dir, "io_audio");
    return 0;
}

static int teardown(void **state) {
    DIR *d = opendir(dir);
    struct dirent *e;
    char p[8192];
    while (d && (e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        remove(p);
    }
    if (d) closedir(d);
    rmdir(dir);
    return 0;
}

/* stereo test signal: a sine on the left, seeded noise on the right, both
 * inside [-0.9, 0.9] */
static float *make_signal(size_t frames) {
    float *x = malloc(frames * 2 * sizeof *x);
    gw_rng r;
    gw_rng_seed(&r, 5);
    for (size_t i = 0; i < frames; i++) {
        x[2 * i] = 0.9f * sinf(2.0f * 3.14159265f * 440.0f * (float)i / 16000.0f);
        x[2 * i + 1] = 1.8f * gw_rng_uniform(&r) - 0.9f;
    }
    return x;
}

static void path_of(char *out, size_t cap, const char *name) {
    snprintf(out, cap, "%s/%s", dir, name);
}

/* each encoding reads back within its quantisation step: libsndfile scales
 * by 2^(bits-1) - 1 when writing and 2^(bits-1) when reading, so the bound is
 * rounding (half a step) plus that scale mismatch (one step) */
static void test_round_trips(void **state) {
    const struct {
        gw_audio_format f;
        const char *name;
        double bound;
    } cases[] = {
        {GW_AUDIO_WAV16, "a16.wav", 1.6 / 32768},
        {GW_AUDIO_WAV24, "a24.wav", 1.6 / 8388608},
        {GW_AUDIO_WAVF32, "af.wav", 0},
        {GW_AUDIO_FLAC16, "a16.flac", 1.6 / 32768},
        {GW_AUDIO_FLAC24, "a24.flac", 1.6 / 8388608},
    };
    const size_t frames = 12345;
    float *x = make_signal(frames);
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        char p[8192];
        path_of(p, sizeof p, cases[c].name);
        gw_error err = {0};
        assert_int_equal(gw_audio_write(p, x, frames, 2, 16000, cases[c].f, &err), GW_OK);
        gw_audio_info info;
        assert_int_equal(gw_audio_probe(&info, p, &err), GW_OK);
        assert_int_equal(info.frames, frames);
        assert_int_equal(info.channels, 2);
        assert_int_equal(info.sample_rate, 16000);
        gw_audio *a = NULL;
        assert_int_equal(gw_audio_read(&a, p, 0, &err), GW_OK);
        assert_int_equal(a->frames, frames);
        assert_int_equal(a->channels, 2);
        float d = gw_test_max_abs_diff(a->data, x, frames * 2);
        if (d > cases[c].bound)
            fprintf(stderr, "%s: max error %g > %g\n", cases[c].name, d, cases[c].bound);
        assert_true(d <= cases[c].bound);
        /* and not trivially: a 16-bit file really is quantised */
        if (cases[c].f == GW_AUDIO_WAV16) assert_true(d > 1e-6);
        gw_audio_free(a);
    }
    free(x);
}

/* lossy formats the installed libsndfile can encode (Ogg Vorbis, MP3 when
 * built with lame/mpg123) decode through the same reader: right rate and
 * channels, about the right length, and the same loudness */
static void test_lossy_formats(void **state) {
    const struct {
        int format;
        const char *name;
    } cases[] = {{SF_FORMAT_OGG | SF_FORMAT_VORBIS, "l.ogg"},
                 {SF_FORMAT_MPEG | SF_FORMAT_MPEG_LAYER_III, "l.mp3"}};
    const size_t frames = 22050;
    float *x = malloc(frames * sizeof *x);
    double rms_in = 0;
    for (size_t i = 0; i < frames; i++) {
        x[i] = 0.5f * sinf(2.0f * 3.14159265f * 440.0f * (float)i / 22050.0f);
        rms_in += (double)x[i] * x[i];
    }
    rms_in = sqrt(rms_in / frames);
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        SF_INFO si = {.samplerate = 22050, .channels = 1, .format = cases[c].format};
        if (!sf_format_check(&si)) continue; /* not in this libsndfile */
        char p[8192];
        path_of(p, sizeof p, cases[c].name);
        SNDFILE *sf = sf_open(p, SFM_WRITE, &si);
        if (!sf) continue;
        assert_int_equal(sf_writef_float(sf, x, (sf_count_t)frames), (sf_count_t)frames);
        sf_close(sf);
        gw_audio *a = NULL;
        gw_error err = {0};
        assert_int_equal(gw_audio_read(&a, p, 1, &err), GW_OK);
        assert_int_equal(a->sample_rate, 22050);
        assert_int_equal(a->channels, 1);
        assert_true(a->frames > frames * 9 / 10 && a->frames < frames * 11 / 10);
        double rms = 0;
        for (size_t i = 0; i < a->frames; i++)
            rms += (double)a->data[i] * a->data[i];
        rms = sqrt(rms / a->frames);
        assert_true(fabs(rms - rms_in) < 0.1 * rms_in);
        gw_audio_free(a);
    }
    free(x);
}

static void test_mono_downmix(void **state) {
    const size_t frames = 1000;
    float *x = make_signal(frames);
    char p[8192];
    path_of(p, sizeof p, "m.wav");
    gw_error err = {0};
    assert_int_equal(gw_audio_write(p, x, frames, 2, 22050, GW_AUDIO_WAVF32, &err), GW_OK);
    gw_audio *a = NULL;
    assert_int_equal(gw_audio_read(&a, p, 1, &err), GW_OK);
    assert_int_equal(a->channels, 1);
    assert_int_equal(a->sample_rate, 22050);
    for (size_t i = 0; i < frames; i++)
        assert_true(fabsf(a->data[i] - 0.5f * (x[2 * i] + x[2 * i + 1])) < 1e-6f);
    gw_audio_free(a);
    free(x);
}

/* out-of-range floats clip at full scale instead of wrapping to the other
 * sign (which would be a loud click) */
static void test_clipping(void **state) {
    float x[4] = {1.5f, -1.5f, 0.5f, -0.25f};
    char p[8192];
    path_of(p, sizeof p, "clip.wav");
    gw_error err = {0};
    assert_int_equal(gw_audio_write(p, x, 4, 1, 8000, GW_AUDIO_WAV16, &err), GW_OK);
    gw_audio *a = NULL;
    assert_int_equal(gw_audio_read(&a, p, 0, &err), GW_OK);
    assert_true(a->data[0] > 0.99f);
    assert_true(a->data[1] < -0.99f);
    assert_true(fabsf(a->data[2] - 0.5f) < 1e-4f);
    gw_audio_free(a);
}

static void write_bytes(const char *p, const void *b, size_t n) {
    FILE *f = fopen(p, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(b, 1, n, f), n);
    fclose(f);
}

static long file_size(const char *p) {
    FILE *f = fopen(p, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fclose(f);
    return n;
}

static void expect_rejected(const char *p, gw_status want) {
    gw_error err = {0};
    gw_audio *a = (gw_audio *)1;
    gw_status st = gw_audio_read(&a, p, 1, &err);
    if (st != want) fprintf(stderr, "%s: got %s (%s)\n", p, gw_status_name(st), err.msg);
    assert_int_equal(st, want);
    assert_null(a);
    /* one line that names the file */
    assert_non_null(strstr(err.msg, p));
    assert_null(strchr(err.msg, '\n'));
}

static void test_bad_files_rejected(void **state) {
    char p[8192];
    gw_error err = {0};
    path_of(p, sizeof p, "missing.wav");
    expect_rejected(p, GW_ERR_IO);

    path_of(p, sizeof p, "text.wav");
    const char *txt = "this is not audio, just words in a file with a .wav name\n";
    write_bytes(p, txt, strlen(txt));
    expect_rejected(p, GW_ERR_FORMAT);

    path_of(p, sizeof p, "empty.flac");
    write_bytes(p, "", 0);
    expect_rejected(p, GW_ERR_FORMAT);

    /* a RIFF/WAVE header followed by garbage */
    path_of(p, sizeof p, "riff.wav");
    unsigned char junk[200];
    memcpy(junk, "RIFF\x10\x00\x00\x00WAVEfmt ", 16);
    for (int i = 16; i < 200; i++)
        junk[i] = (unsigned char)(i * 37 + 11);
    write_bytes(p, junk, sizeof junk);
    expect_rejected(p, GW_ERR_FORMAT);

    /* truncated WAV and FLAC: a good file cut in half */
    const size_t frames = 20000;
    float *x = make_signal(frames);
    const char *names[] = {"cut.wav", "cut.flac", "cutf.wav"};
    gw_audio_format fmts[] = {GW_AUDIO_WAV16, GW_AUDIO_FLAC16, GW_AUDIO_WAVF32};
    for (int k = 0; k < 3; k++) {
        path_of(p, sizeof p, names[k]);
        assert_int_equal(gw_audio_write(p, x, frames, 2, 16000, fmts[k], &err), GW_OK);
        long n = file_size(p);
        assert_int_equal(truncate(p, n / 2), 0);
        expect_rejected(p, GW_ERR_FORMAT);
    }
    /* a float WAV holding a NaN would poison training */
    path_of(p, sizeof p, "nan.wav");
    x[7] = NAN;
    assert_int_equal(gw_audio_write(p, x, 100, 1, 16000, GW_AUDIO_WAVF32, &err), GW_OK);
    expect_rejected(p, GW_ERR_FORMAT);
    free(x);
}

/* a small file cut short is refused, never read as a shorter sound and
 * never a crash: every length through the headers, then every 5th (each
 * failed open costs libsndfile a few ms of format probing) */
static void test_truncated_at_every_offset(void **state) {
    const gw_audio_format fmts[] = {GW_AUDIO_WAV16, GW_AUDIO_WAV24, GW_AUDIO_WAVF32,
                                    GW_AUDIO_FLAC16};
    const char *names[] = {"t16.wav", "t24.wav", "tf.wav", "t16.flac"};
    float *x = make_signal(101);
    for (int k = 0; k < 4; k++) {
        char p[8192], q[8300];
        path_of(p, sizeof p, names[k]);
        snprintf(q, sizeof q, "%s.cut", p);
        gw_error err = {0};
        assert_int_equal(gw_audio_write(p, x, 101, 2, 16000, fmts[k], &err), GW_OK);
        FILE *f = fopen(p, "rb");
        unsigned char buf[4096];
        size_t n = fread(buf, 1, sizeof buf, f);
        fclose(f);
        assert_true(n > 0 && n < sizeof buf);
        for (size_t cut = 0; cut < n; cut += cut < 64 ? 1 : 5) {
            write_bytes(q, buf, cut);
            gw_audio *a = NULL;
            gw_status st = gw_audio_read(&a, q, 0, &err);
            if (st == GW_OK)
                fprintf(stderr, "%s cut to %zu of %zu bytes was accepted (%zu frames)\n", names[k],
                        cut, n, a->frames);
            assert_int_not_equal(st, GW_OK);
            assert_null(a);
        }
        remove(q);
    }
    free(x);
}

/* seeded random byte flips: each read either fails with a message or
 * yields a sane buffer; under ASan this is the no-crash check */
static void test_random_corruption(void **state) {
    const gw_audio_format fmts[] = {GW_AUDIO_WAV16, GW_AUDIO_FLAC16};
    float *x = make_signal(500);
    gw_rng r;
    gw_rng_seed(&r, 11);
    for (int k = 0; k < 2; k++) {
        char p[8192], q[8300];
        path_of(p, sizeof p, k ? "fz.flac" : "fz.wav");
        snprintf(q, sizeof q, "%s.bad", p);
        gw_error err = {0};
        assert_int_equal(gw_audio_write(p, x, 500, 2, 16000, fmts[k], &err), GW_OK);
        FILE *f = fopen(p, "rb");
        unsigned char buf[8192], bad[8192];
        size_t n = fread(buf, 1, sizeof buf, f);
        fclose(f);
        for (int it = 0; it < 150; it++) {
            memcpy(bad, buf, n);
            int flips = 1 + (int)gw_rng_below(&r, 8);
            for (int j = 0; j < flips; j++) {
                /* bias towards the header, where lengths live */
                size_t at =
                    gw_rng_below(&r, 2) ? gw_rng_below(&r, 64 < n ? 64 : n) : gw_rng_below(&r, n);
                bad[at] ^= (unsigned char)(1 + gw_rng_below(&r, 255));
            }
            write_bytes(q, bad, n);
            gw_audio *a = NULL;
            err.msg[0] = 0;
            if (gw_audio_read(&a, q, 0, &err) == GW_OK) {
                assert_true(a->channels >= 1 && a->frames <= 1u << 20);
                for (size_t i = 0; i < a->frames * (size_t)a->channels; i++)
                    assert_true(isfinite(a->data[i]));
                gw_audio_free(a);
            } else {
                assert_null(a);
                assert_non_null(strstr(err.msg, q));
            }
        }
        remove(q);
    }
    free(x);
}

static void test_write_is_atomic(void **state) {
    char p[8192];
    gw_error err = {0};
    float x[64] = {0};
    /* unwritable place: an error naming the path, nothing created */
    snprintf(p, sizeof p, "%s/no/such/dir/out.wav", dir);
    assert_int_equal(gw_audio_write(p, x, 64, 1, 16000, GW_AUDIO_WAV16, &err), GW_ERR_IO);
    assert_non_null(strstr(err.msg, p));
    /* overwrite an existing file: the result is complete, no temp left */
    path_of(p, sizeof p, "over.wav");
    assert_int_equal(gw_audio_write(p, x, 64, 1, 16000, GW_AUDIO_WAV16, &err), GW_OK);
    assert_int_equal(gw_audio_write(p, x, 32, 1, 16000, GW_AUDIO_WAV24, &err), GW_OK);
    gw_audio_info info;
    assert_int_equal(gw_audio_probe(&info, p, &err), GW_OK);
    assert_int_equal(info.frames, 32);
    DIR *d = opendir(dir);
    struct dirent *e;
    while ((e = readdir(d)))
        assert_null(strstr(e->d_name, ".tmp."));
    closedir(d);
    /* bad arguments */
    assert_int_equal(gw_audio_write(p, x, 64, 0, 16000, GW_AUDIO_WAV16, &err), GW_ERR_ARG);
    assert_int_equal(gw_audio_write(p, x, 64, 1, 0, GW_AUDIO_WAV16, &err), GW_ERR_ARG);
}

static void test_format_names(void **state) {
    gw_audio_format f;
    gw_error err = {0};
    assert_int_equal(gw_audio_format_parse(&f, "flac16", &err), GW_OK);
    assert_int_equal(f, GW_AUDIO_FLAC16);
    assert_int_equal(gw_audio_format_parse(&f, "WAV24", &err), GW_OK);
    assert_int_equal(f, GW_AUDIO_WAV24);
    assert_int_equal(gw_audio_format_parse(&f, "mp4", &err), GW_ERR_ARG);
    assert_non_null(strstr(err.msg, "mp4"));
    assert_int_equal(gw_audio_format_for_path(&f, "x/y.FLAC", &err), GW_OK);
    assert_int_equal(f, GW_AUDIO_FLAC24);
    assert_int_equal(gw_audio_format_for_path(&f, "x.flac/y.wav", &err), GW_OK);
    assert_int_equal(f, GW_AUDIO_WAV16);
    /* an extension genwave cannot write is refused, not written as WAV */
    assert_int_equal(gw_audio_format_for_path(&f, "out/x.mp3", &err), GW_ERR_ARG);
    assert_non_null(strstr(err.msg, "out/x.mp3: genwave writes .wav and .flac files, not 'mp3'"));
    assert_int_equal(gw_audio_format_for_path(&f, "x.flac/y", &err), GW_ERR_ARG);
    assert_non_null(strstr(err.msg, "(no extension)"));
    assert_true(gw_audio_is_audio_ext("a/b.wav"));
    assert_true(gw_audio_is_audio_ext("b.Ogg"));
    assert_false(gw_audio_is_audio_ext("notes.txt"));
    assert_false(gw_audio_is_audio_ext("wav"));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trips),        cmocka_unit_test(test_lossy_formats),
        cmocka_unit_test(test_mono_downmix),       cmocka_unit_test(test_clipping),
        cmocka_unit_test(test_bad_files_rejected), cmocka_unit_test(test_truncated_at_every_offset),
        cmocka_unit_test(test_random_corruption),  cmocka_unit_test(test_write_is_atomic),
        cmocka_unit_test(test_format_names),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
