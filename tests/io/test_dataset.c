#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gw_test.h"
#include "io/audio.h"
#include "io/dataset.h"

static void rm_rf(const char *d) {
    char cmd[8300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", d);
    assert_int_equal(system(cmd), 0);
}

static void put_file(const char *dir, const char *rel, const void *bytes, size_t n) {
    char p[8192];
    snprintf(p, sizeof p, "%s/%s", dir, rel);
    FILE *f = fopen(p, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(bytes, 1, n, f), n);
    fclose(f);
}

/* silence_s of silence, tone_s of a 330 Hz tone at amp, silence again */
static void put_tone(const char *dir, const char *rel, int rate, int ch, double silence_s,
                     double tone_s, float amp, gw_audio_format fmt) {
    size_t ns = (size_t)(silence_s * rate), nt = (size_t)(tone_s * rate), n = 2 * ns + nt;
    float *x = calloc(n * ch, sizeof *x);
    for (size_t i = 0; i < nt; i++)
        for (int c = 0; c < ch; c++)
            x[(ns + i) * ch + c] = amp * sinf(2.0f * 3.14159265f * 330.0f * (float)i / rate);
    char p[8192];
    snprintf(p, sizeof p, "%s/%s", dir, rel);
    gw_error err = {0};
    assert_int_equal(gw_audio_write(p, x, n, ch, rate, fmt, &err), GW_OK);
    free(x);
}

static const gw_dataset_file *file_named(const gw_dataset_report *r, const char *rel) {
    for (size_t i = 0; i < r->n_files; i++)
        if (!strcmp(r->files[i].rel, rel)) return &r->files[i];
    fail_msg("no file %s in the report", rel);
    return NULL;
}

static int has_warning(const gw_dataset_report *r, const char *a, const char *b) {
    for (size_t i = 0; i < r->n_warnings; i++)
        if (strstr(r->warnings[i], a) && (!b || strstr(r->warnings[i], b))) return 1;
    return 0;
}

/* the mixed folder of the brief: good, silent, short, corrupt, truncated and
 * non-audio files */
static void make_mixed(char *dir, size_t cap) {
    gw_test_tmpdir(dir, cap, "io_dataset");
    char p[8192];
    snprintf(p, sizeof p, "%s/sub", dir);
    mkdir(p, 0777);
    put_tone(dir, "good.wav", 16000, 1, 0.25, 1.0, 0.5f, GW_AUDIO_WAV16);
    put_tone(dir, "sub/piano_n60_v100.flac", 44100, 2, 0.0, 0.5, 0.5f, GW_AUDIO_FLAC16);
    put_tone(dir, "silent.wav", 16000, 1, 0.5, 0.0, 0.0f, GW_AUDIO_WAV16);
    put_tone(dir, "short.wav", 16000, 1, 0.1, 0.01, 0.5f, GW_AUDIO_WAV16);
    put_file(dir, "corrupt.wav", "RIFF....WAVEjunkjunkjunk", 24);
    put_tone(dir, "cut.flac", 16000, 1, 0.0, 1.0, 0.5f, GW_AUDIO_FLAC16);
    snprintf(p, sizeof p, "%s/cut.flac", dir);
    struct stat sb;
    stat(p, &sb);
    assert_int_equal(truncate(p, sb.st_size / 2), 0);
    put_file(dir, "notes.txt", "not audio\n", 10);
    put_file(dir, ".hidden.wav", "x", 1);
    /* a link back up must not make the walk loop or count files twice */
    snprintf(p, sizeof p, "%s/sub/loop", dir);
    assert_int_equal(symlink("..", p), 0);
}

static void test_scan_report(void **state) {
    char dir[4096];
    make_mixed(dir, sizeof dir);
    gw_dataset_opts o;
    gw_dataset_opts_default(&o);
    o.min_seconds = 0.1;
    gw_dataset_report *r = NULL;
    gw_error err = {0};
    assert_int_equal(gw_dataset_scan(&r, dir, &o, &err), GW_OK);
    assert_int_equal(r->n_files, 6);
    assert_int_equal(r->n_ignored, 1);
    assert_int_equal(r->n_ok, 2);
    assert_int_equal(r->n_unreadable, 2);
    assert_int_equal(r->n_silent, 1);
    assert_int_equal(r->n_short, 1);
    assert_int_equal(r->n_labelled, 1);
    assert_int_equal(r->channel_files[1], 3); /* good, silent, short (unreadable not counted) */
    assert_int_equal(r->channel_files[2], 1);
    assert_int_equal(r->n_rates, 2);
    const gw_dataset_file *g = file_named(r, "good.wav");
    assert_int_equal(g->status, GW_FILE_OK);
    assert_true(fabs(g->seconds - 1.5) < 1e-3);
    assert_true(fabs(g->trimmed_seconds - 1.0) < 0.01); /* silence trimmed both ends */
    assert_true(fabs(g->peak_db - 20 * log10(0.5)) < 0.1);
    const gw_dataset_file *pn = file_named(r, "sub/piano_n60_v100.flac");
    assert_int_equal(pn->note, 60);
    assert_int_equal(pn->velocity, 100);
    assert_int_equal(pn->sample_rate, 44100);
    assert_int_equal(file_named(r, "silent.wav")->status, GW_FILE_SILENT);
    assert_int_equal(file_named(r, "short.wav")->status, GW_FILE_TOO_SHORT);
    assert_int_equal(file_named(r, "corrupt.wav")->status, GW_FILE_UNREADABLE);
    assert_int_equal(file_named(r, "cut.flac")->status, GW_FILE_UNREADABLE);
    assert_true(has_warning(r, "corrupt.wav: unreadable", NULL));
    assert_true(has_warning(r, "cut.flac: unreadable", NULL));
    assert_true(has_warning(r, "silent.wav: skipped: silent", NULL));
    assert_true(has_warning(r, "short.wav: skipped: too short", NULL));
    assert_true(has_warning(r, "sub/loop: link back to a parent folder", NULL));
    assert_int_equal(r->n_train_files + r->n_val_files, 2);
    assert_int_equal(r->n_val_files, 1); /* at least one on each side */
    /* the printed report carries the figures */
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    gw_dataset_report_write(r, m);
    fclose(m);
    assert_non_null(strstr(buf, "44100 Hz x 1"));
    assert_non_null(strstr(buf, "2 unreadable, 1 silent, 1 too short"));
    free(buf);
    gw_dataset_report_free(r);
    rm_rf(dir);
}

static void test_bad_folders(void **state) {
    char dir[4096], p[8192];
    gw_error err = {0};
    gw_dataset_report *r = (gw_dataset_report *)1;
    gw_test_tmpdir(dir, sizeof dir, "io_dataset_bad");
    snprintf(p, sizeof p, "%s/missing", dir);
    assert_int_equal(gw_dataset_scan(&r, p, NULL, &err), GW_ERR_IO);
    assert_null(r);
    assert_non_null(strstr(err.msg, p));
    /* empty */
    assert_int_equal(gw_dataset_scan(&r, dir, NULL, &err), GW_ERR_ARG);
    assert_non_null(strstr(err.msg, "no audio files"));
    /* a file, not a folder */
    put_file(dir, "x.txt", "x", 1);
    snprintf(p, sizeof p, "%s/x.txt", dir);
    assert_int_equal(gw_dataset_scan(&r, p, NULL, &err), GW_ERR_ARG);
    /* only unreadable */
    put_file(dir, "a.wav", "nope", 4);
    put_file(dir, "b.flac", "nope", 4);
    assert_int_equal(gw_dataset_scan(&r, dir, NULL, &err), GW_ERR_FORMAT);
    assert_non_null(strstr(err.msg, "none of the 2 audio files could be read"));
    /* only silent: scans fine, but cannot load */
    put_tone(dir, "a.wav", 8000, 1, 0.5, 0, 0, GW_AUDIO_WAV16);
    gw_dataset_opts o;
    gw_dataset_opts_default(&o);
    o.sample_rate = 8000;
    o.no_cache = 1;
    gw_dataset *ds = (gw_dataset *)1;
    assert_int_equal(gw_dataset_load(&ds, dir, &o, &err), GW_ERR_ARG);
    assert_null(ds);
    assert_non_null(strstr(err.msg, "no usable audio: 1 silent"));
    /* load needs a rate */
    o.sample_rate = 0;
    assert_int_equal(gw_dataset_load(&ds, dir, &o, &err), GW_ERR_ARG);
    rm_rf(dir);
}

static void test_labels(void **state) {
    int n, v;
    assert_int_equal(gw_dataset_label_from_name("a/piano_n60_v100.wav", &n, &v), 1);
    assert_int_equal(n, 60);
    assert_int_equal(v, 100);
    assert_int_equal(gw_dataset_label_from_name("N127-x.flac", &n, &v), 1);
    assert_int_equal(n, 127);
    assert_int_equal(v, -1);
    assert_int_equal(gw_dataset_label_from_name("kick_v90.wav", &n, &v), 0);
    assert_int_equal(v, -1);
    assert_int_equal(gw_dataset_label_from_name("snare_n128.wav", &n, &v), 0); /* out of range */
    assert_int_equal(gw_dataset_label_from_name("n60x_v1.wav", &n, &v), 0);
    assert_int_equal(gw_dataset_label_from_name("n60/plain.wav", &n, &v), 0); /* folder ignored */

    char dir[4096];
    gw_test_tmpdir(dir, sizeof dir, "io_dataset_lab");
    put_tone(dir, "a_n40.wav", 8000, 1, 0, 0.3, 0.5f, GW_AUDIO_WAV16);
    put_tone(dir, "b.wav", 8000, 1, 0, 0.3, 0.5f, GW_AUDIO_WAV16);
    put_tone(dir, "c_n50_v20.wav", 8000, 1, 0, 0.3, 0.5f, GW_AUDIO_WAV16);
    const char *man = "file,note,velocity\na_n40.wav,72,64\nb.wav,61,\n./missing.wav,1,1\n";
    put_file(dir, "manifest.csv", man, strlen(man));
    gw_dataset_report *r = NULL;
    gw_error err = {0};
    assert_int_equal(gw_dataset_scan(&r, dir, NULL, &err), GW_OK);
    assert_int_equal(r->n_files, 3); /* manifest.csv is not counted as ignored */
    assert_int_equal(r->n_ignored, 0);
    assert_int_equal(file_named(r, "a_n40.wav")->note, 72); /* manifest wins */
    assert_int_equal(file_named(r, "a_n40.wav")->velocity, 64);
    assert_int_equal(file_named(r, "b.wav")->note, 61);
    assert_int_equal(file_named(r, "b.wav")->velocity, -1);
    assert_int_equal(file_named(r, "c_n50_v20.wav")->note, 50); /* name as fallback */
    assert_true(has_warning(r, "manifest.csv:4", "missing.wav"));
    gw_dataset_report_free(r);
    /* a 4th column puts files on a side of the split; it stands as given */
    const char *split = "file,note,velocity,split\na_n40.wav,72,64,val\nb.wav,61,,train\n"
                        "c_n50_v20.wav,50,20,train\n";
    put_file(dir, "manifest.csv", split, strlen(split));
    assert_int_equal(gw_dataset_scan(&r, dir, NULL, &err), GW_OK);
    assert_int_equal(file_named(r, "a_n40.wav")->is_val, 1);
    assert_int_equal(file_named(r, "b.wav")->is_val, 0);
    assert_int_equal(file_named(r, "c_n50_v20.wav")->is_val, 0);
    assert_int_equal(r->n_val_files, 1);
    gw_dataset_report_free(r);
    const char *badsplit = "file,note,velocity,split\nb.wav,61,1,test\n";
    put_file(dir, "manifest.csv", badsplit, strlen(badsplit));
    assert_int_equal(gw_dataset_scan(&r, dir, NULL, &err), GW_ERR_FORMAT);
    assert_non_null(strstr(err.msg, "manifest.csv:2: split 'test' is not 'train' or 'val'"));
    const char *bad = "file,note,velocity\nb.wav,200,1\n";
    put_file(dir, "manifest.csv", bad, strlen(bad));
    assert_int_equal(gw_dataset_scan(&r, dir, NULL, &err), GW_ERR_FORMAT);
    assert_non_null(strstr(err.msg, "manifest.csv:2: note '200' is not a MIDI note"));
    /* a named header: columns in any order, a class column, no note column
     * (names then keep labelling notes) */
    const char *named = "# one-shots\nclass,file\nkick,a_n40.wav\n\"hat\",b.wav\n";
    put_file(dir, "manifest.csv", named, strlen(named));
    assert_int_equal(gw_dataset_scan(&r, dir, NULL, &err), GW_OK);
    assert_string_equal(file_named(r, "b.wav")->class_name, "hat");
    gw_dataset_report_free(r);
    named = "# one-shots\nfile,class\na_n40.wav,kick\n\"b.wav\",\"hat\"\nc_n50_v20.wav\n";
    put_file(dir, "manifest.csv", named, strlen(named));
    assert_int_equal(gw_dataset_scan(&r, dir, NULL, &err), GW_OK);
    assert_string_equal(file_named(r, "a_n40.wav")->class_name, "kick");
    assert_string_equal(file_named(r, "b.wav")->class_name, "hat");
    assert_string_equal(file_named(r, "c_n50_v20.wav")->class_name, "");
    assert_int_equal(file_named(r, "a_n40.wav")->note, 40); /* from the name */
    assert_int_equal(file_named(r, "c_n50_v20.wav")->velocity, 20);
    gw_dataset_report_free(r);
    const char *reordered = "file,split,velocity,note,class\nb.wav,val,90,61,snare\n";
    put_file(dir, "manifest.csv", reordered, strlen(reordered));
    assert_int_equal(gw_dataset_scan(&r, dir, NULL, &err), GW_OK);
    assert_int_equal(file_named(r, "b.wav")->note, 61);
    assert_int_equal(file_named(r, "b.wav")->velocity, 90);
    assert_int_equal(file_named(r, "b.wav")->is_val, 1);
    assert_string_equal(file_named(r, "b.wav")->class_name, "snare");
    gw_dataset_report_free(r);
    const char *refused[][2] = {
        {"file,note,pitch\nb.wav,60,1\n", "manifest.csv:1: unknown column 'pitch'"},
        {"file,class,class\nb.wav,a,b\n", "manifest.csv:1: column 'class' named twice"},
        {"file,class\nb.wav,kick,extra\n", "manifest.csv:2: 3 columns where the header names 2"},
        {"file,class\nb.wav,kick\x01\n", "holds a control character"},
        {"file,class\n,kick\n", "manifest.csv:2: no file name"},
    };
    for (size_t k = 0; k < sizeof refused / sizeof refused[0]; k++) {
        put_file(dir, "manifest.csv", refused[k][0], strlen(refused[k][0]));
        assert_int_equal(gw_dataset_scan(&r, dir, NULL, &err), GW_ERR_FORMAT);
        if (!strstr(err.msg, refused[k][1])) fail_msg("%s: '%s'", refused[k][1], err.msg);
        assert_null(strchr(err.msg, '\n'));
    }
    rm_rf(dir);
}

static void test_split_determinism(void **state) {
    char name[64];
    int val = 0, same = 0;
    for (int i = 0; i < 2000; i++) {
        snprintf(name, sizeof name, "take_%04d.wav", i);
        int a = gw_dataset_split_is_val(name, 7, 0.25);
        assert_int_equal(a, gw_dataset_split_is_val(name, 7, 0.25));
        val += a;
        same += a == gw_dataset_split_is_val(name, 8, 0.25);
        /* growing the fraction only moves files into validation */
        if (a) assert_true(gw_dataset_split_is_val(name, 7, 0.5));
    }
    assert_true(val > 440 && val < 560);
    assert_true(same < 1900); /* another seed is another split */
    assert_int_equal(gw_dataset_split_is_val("x", 1, 0), 0);
    assert_int_equal(gw_dataset_split_is_val("x", 1, 1.0), 1);
}

static void test_load_clips_and_whole_files(void **state) {
    char dir[4096];
    gw_test_tmpdir(dir, sizeof dir, "io_dataset_load");
    put_tone(dir, "long_n60.wav", 16000, 1, 0.1, 1.0, 0.5f, GW_AUDIO_WAVF32);
    put_tone(dir, "tiny_n62.wav", 16000, 2, 0.0, 0.2, 0.5f, GW_AUDIO_WAVF32);
    gw_dataset_opts o;
    gw_dataset_opts_default(&o);
    o.sample_rate = 8000;
    o.no_cache = 1;
    gw_dataset *ds = NULL;
    gw_error err = {0};
    assert_int_equal(gw_dataset_load(&ds, dir, &o, &err), GW_OK);
    assert_int_equal(ds->n_clips, 2);
    assert_int_equal(ds->n_train + ds->n_val, 2);
    assert_int_equal(ds->n_val, 1);
    /* whole files, trimmed and resampled to 8 kHz */
    const gw_clip *c0 = &ds->clips[0]; /* files sorted: long before tiny */
    assert_true(labs((long)c0->n - 8000) <= 40);
    assert_int_equal(c0->note, 60);
    assert_int_equal(ds->clips[1].note, 62);
    float peak = 0;
    for (size_t i = 0; i < c0->n; i++)
        peak = fmaxf(peak, fabsf(gw_dataset_clip_data(ds, 0)[i]));
    assert_true(fabsf(peak - 0.5f) < 0.02f);
    gw_dataset_free(ds);

    /* fixed clips of 0.5 s: two from the long file, one padded from the tiny */
    o.clip_samples = 4000;
    assert_int_equal(gw_dataset_load(&ds, dir, &o, &err), GW_OK);
    assert_int_equal(ds->n_clips, 3);
    assert_int_equal(ds->report->n_padded, 1);
    const gw_clip *t = &ds->clips[2];
    assert_int_equal(t->n, 4000);
    assert_true(t->valid < 4000 && t->valid > 1500);
    for (size_t i = t->valid; i < t->n; i++)
        assert_true(gw_dataset_clip_data(ds, 2)[i] == 0.0f);
    assert_true(has_warning(ds->report, "tiny_n62.wav: shorter than one clip", NULL));
    float batch[3 * 100];
    int notes[3];
    size_t idx[3] = {2, 0, 1};
    gw_dataset_batch(batch, notes, NULL, ds, idx, 3, 100);
    assert_int_equal(notes[0], 62);
    assert_int_equal(notes[1], 60);
    assert_memory_equal(batch + 100, gw_dataset_clip_data(ds, 0), 100 * sizeof(float));
    gw_dataset_free(ds);
    /* one clip per file (one-shots) */
    o.max_clips_per_file = 1;
    assert_int_equal(gw_dataset_load(&ds, dir, &o, &err), GW_OK);
    assert_int_equal(ds->n_clips, 2);
    gw_dataset_free(ds);
    rm_rf(dir);
}

static size_t count_cache_files(const char *cache) {
    DIR *d = opendir(cache);
    if (!d) return 0;
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (strstr(e->d_name, ".bin")) n++;
    closedir(d);
    return n;
}

static void first_cache_file(char *out, size_t cap, const char *cache) {
    DIR *d = opendir(cache);
    assert_non_null(d);
    struct dirent *e;
    out[0] = 0;
    while ((e = readdir(d)))
        if (strstr(e->d_name, ".bin")) snprintf(out, cap, "%s/%s", cache, e->d_name);
    closedir(d);
    assert_true(out[0] != 0);
}

static void test_cache(void **state) {
    char dir[4096], cache[8192], cf[8192 + 300];
    gw_test_tmpdir(dir, sizeof dir, "io_dataset_cache");
    put_tone(dir, "a.wav", 16000, 1, 0, 0.5, 0.5f, GW_AUDIO_WAV16);
    put_tone(dir, "b.wav", 16000, 1, 0, 0.4, 0.3f, GW_AUDIO_WAV16);
    snprintf(cache, sizeof cache, "%s/.genwave-cache", dir);
    gw_dataset_opts o;
    gw_dataset_opts_default(&o);
    o.sample_rate = 8000;
    gw_dataset *d1 = NULL, *d2 = NULL;
    gw_error err = {0};
    assert_int_equal(gw_dataset_load(&d1, dir, &o, &err), GW_OK);
    assert_int_equal(d1->from_cache, 0);
    assert_int_equal(count_cache_files(cache), 1);
    assert_int_equal(gw_dataset_load(&d2, dir, &o, &err), GW_OK);
    assert_int_equal(d2->from_cache, 1);
    assert_int_equal(d2->audio_n, d1->audio_n);
    assert_memory_equal(d2->audio, d1->audio, d1->audio_n * sizeof(float));
    assert_int_equal(d2->report->n_ok, 2);
    assert_int_equal(d2->report->rates[0], 16000);
    assert_true(fabs(d2->report->usable_seconds - d1->report->usable_seconds) < 1e-9);
    gw_dataset_free(d2);

    /* a changed file: the key changes, the cache is rebuilt, the stale one goes */
    put_tone(dir, "b.wav", 16000, 1, 0, 0.6, 0.3f, GW_AUDIO_WAV16);
    assert_int_equal(gw_dataset_load(&d2, dir, &o, &err), GW_OK);
    assert_int_equal(d2->from_cache, 0);
    assert_true(d2->audio_n > d1->audio_n);
    assert_true(d2->key != d1->key);
    assert_int_equal(count_cache_files(cache), 1);
    gw_dataset_free(d2);

    /* a flipped byte in the cache: detected, reported, rebuilt */
    first_cache_file(cf, sizeof cf, cache);
    FILE *f = fopen(cf, "r+b");
    fseek(f, 200, SEEK_SET);
    int c = fgetc(f);
    fseek(f, 200, SEEK_SET);
    fputc(c ^ 0x40, f);
    fclose(f);
    assert_int_equal(gw_dataset_load(&d2, dir, &o, &err), GW_OK);
    assert_int_equal(d2->from_cache, 0);
    assert_true(has_warning(d2->report, "corrupt cache", "checksum"));
    gw_dataset_free(d2);
    assert_int_equal(gw_dataset_load(&d2, dir, &o, &err), GW_OK);
    assert_int_equal(d2->from_cache, 1); /* the rebuilt cache is good */
    gw_dataset_free(d2);

    /* a truncated cache */
    first_cache_file(cf, sizeof cf, cache);
    struct stat sb;
    stat(cf, &sb);
    assert_int_equal(truncate(cf, sb.st_size - 100), 0);
    assert_int_equal(gw_dataset_load(&d2, dir, &o, &err), GW_OK);
    assert_int_equal(d2->from_cache, 0);
    assert_true(has_warning(d2->report, "corrupt cache", NULL));
    gw_dataset_free(d2);

    /* other settings use another slot; no_cache neither reads nor writes */
    o.clip_samples = 1000;
    assert_int_equal(gw_dataset_load(&d2, dir, &o, &err), GW_OK);
    assert_int_equal(d2->from_cache, 0);
    assert_int_equal(count_cache_files(cache), 2);
    gw_dataset_free(d2);
    o.no_cache = 1;
    assert_int_equal(gw_dataset_load(&d2, dir, &o, &err), GW_OK);
    assert_int_equal(d2->from_cache, 0);
    assert_string_equal(d2->cache_dir, "");
    gw_dataset_free(d2);
    gw_dataset_free(d1);

    /* the generic float cache */
    float x[5] = {1, 2, 3, 4, 5}, *y = NULL;
    size_t n = 0;
    int hit = 0;
    char warn[512];
    assert_int_equal(gw_cache_save(cache, "feat", 42, x, 5, &err), GW_OK);
    assert_int_equal(gw_cache_load(&y, &n, &hit, warn, sizeof warn, cache, "feat", 42, &err),
                     GW_OK);
    assert_int_equal(hit, 1);
    assert_int_equal(n, 5);
    assert_memory_equal(x, y, sizeof x);
    free(y);
    assert_int_equal(gw_cache_load(&y, &n, &hit, warn, sizeof warn, cache, "feat", 43, &err),
                     GW_OK);
    assert_int_equal(hit, 0);
    assert_null(y);
    /* caching off: save does nothing, load misses */
    assert_int_equal(gw_cache_save("", "feat", 42, x, 5, &err), GW_OK);
    assert_int_equal(gw_cache_load(&y, &n, &hit, warn, sizeof warn, "", "feat", 42, &err), GW_OK);
    assert_int_equal(hit, 0);
    rm_rf(dir);
}

static void test_random_windows(void **state) {
    /* a hand-built dataset: clip 0 = 1..100, clip 1 = 1001..1010 */
    gw_dataset ds;
    memset(&ds, 0, sizeof ds);
    float audio[110];
    for (int i = 0; i < 100; i++)
        audio[i] = (float)(i + 1);
    for (int i = 0; i < 10; i++)
        audio[100 + i] = (float)(1001 + i);
    gw_clip clips[2] = {{.offset = 0, .n = 100, .valid = 100},
                        {.offset = 100, .n = 10, .valid = 10}};
    ds.audio = audio, ds.audio_n = 110, ds.clips = clips, ds.n_clips = 2;
    size_t pool[2] = {0, 1};
    gw_rng r1, r2;
    gw_rng_seed(&r1, 3);
    gw_rng_seed(&r2, 3);
    enum { B = 400, L = 20 };
    float w1[B * L], w2[B * L];
    size_t c1[B], c2[B];
    gw_dataset_random_windows(w1, c1, &ds, pool, 2, B, L, 5, 0.0, 0, &r1);
    gw_dataset_random_windows(w2, c2, &ds, pool, 2, B, L, 5, 0.0, 0, &r2);
    assert_memory_equal(w1, w2, sizeof w1);
    int n1 = 0, lead = 0;
    for (int b = 0; b < B; b++) {
        const float *w = w1 + b * L;
        n1 += c1[b] == 1;
        /* zeros only before the start (context) or after the end (padding),
         * and consecutive samples inside */
        int t = 0;
        while (t < L && w[t] == 0)
            t++;
        lead += t > 0;
        assert_true(t <= 5);
        float base = c1[b] == 0 ? 1 : 1001, last = c1[b] == 0 ? 100 : 1010;
        if (t > 0) assert_true(w[t] == base);
        for (int k = t + 1; k < L; k++)
            assert_true(w[k] == w[k - 1] + 1 || (w[k] == 0 && w[k - 1] == last) ||
                        (w[k] == 0 && w[k - 1] == 0));
    }
    /* chosen in proportion to length (10 of 110 samples) */
    assert_true(n1 > 10 && n1 < 70);
    assert_true(lead > 20);
    /* onset windows: all of them start within 2 samples of -5, so each holds
     * 3..5 zeros of context and then the clip's first samples */
    gw_dataset_random_windows(w1, c1, &ds, pool, 1, B, L, 5, 1.0, 2, &r1);
    for (int b = 0; b < B; b++) {
        int t = 0;
        while (t < L && w1[b * L + t] == 0)
            t++;
        assert_true(t >= 3 && t <= 5 && w1[b * L + t] == 1);
    }
    /* a share of them: about that share of windows start at the onset */
    int at_onset = 0;
    gw_dataset_random_windows(w1, c1, &ds, pool, 1, B, L, 5, 0.25, 0, &r1);
    for (int b = 0; b < B; b++)
        at_onset += w1[b * L + 4] == 0 && w1[b * L + 5] == 1;
    assert_true(at_onset > B / 8 && at_onset < B / 2);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scan_report),
        cmocka_unit_test(test_bad_folders),
        cmocka_unit_test(test_labels),
        cmocka_unit_test(test_split_determinism),
        cmocka_unit_test(test_load_clips_and_whole_files),
        cmocka_unit_test(test_cache),
        cmocka_unit_test(test_random_windows),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
