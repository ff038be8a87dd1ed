/* A PixelCNN as genwave keeps it (models/pixelcnn_file.h) and the image
 * and held-out figure of models/pixelcnn.h: quantising every level both
 * ways, the model file's round trip (weights, band statistics, class
 * names), its hostile cases (truncation at every offset, another kind,
 * missing or bad class names, a config that claims more than the file
 * holds), and held-out bits per dimension against the training loss. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "gw_test.h"
#include "models/pixelcnn_file.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* a tiny model: 6 frames x 5 bands, conditioned on `classes`, random
 * weights and band statistics */
static void make_model(gw_pixelcnn_model *m, int classes, uint64_t seed) {
    char json[1024];
    snprintf(json, sizeof json,
             "{\"model\": \"pixelcnn\", \"name\": \"filetest\", \"features\": {\"sample_rate\": "
             "16000, \"clip_samples\": 4096, \"n_fft\": 256, \"hop\": 256, \"n_mels\": 5,"
             " \"frames\": 6}, \"channels\": 3, \"layers\": 2, \"head_channels\": 4,"
             " \"classes\": %d}",
             classes);
    gw_pixelcnn_config cfg;
    gw_error err = {0};
    memset(m, 0, sizeof *m);
    if (gw_pixelcnn_config_parse(&cfg, json, "test", &err)) fail_msg("config: %s", err.msg);
    if (gw_pixelcnn_create(&m->net, &cfg, &err) ||
        gw_specfeat_create(&m->feat, &m->net->cfg.feat, &err))
        fail_msg("create: %s", err.msg);
    gw_rng rng;
    gw_rng_seed(&rng, seed);
    gw_pixelcnn_weights_init(&m->net->w, &m->net->cfg, &rng);
    for (int b = 0; b < 5; b++) {
        gw_specfeat_mean(m->feat)[b] = gw_rng_uniform(&rng) - 5.0f;
        gw_specfeat_std(m->feat)[b] = gw_rng_uniform(&rng) + 0.5f;
    }
    static const char *names[] = {"hat", "kick", "snare", "tom"};
    if (classes && gw_pixelcnn_model_set_classes(m, names, classes, "test", &err))
        fail_msg("classes: %s", err.msg);
}

static void write_model(const gw_pixelcnn_model *m, const char *path, const char *classes_json) {
    gw_gwm_writer *w = NULL;
    gw_error err = {0};
    assert_int_equal(gw_gwm_writer_create(&w, &err), GW_OK);
    assert_int_equal(gw_pixelcnn_model_write(m, w, &err), GW_OK);
    if (classes_json)
        assert_int_equal(gw_gwm_writer_meta(w, "pixelcnn.classes", classes_json, &err), GW_OK);
    assert_int_equal(gw_gwm_writer_commit(w, path, &err), GW_OK);
    gw_gwm_writer_free(w);
}

/* load path as a PixelCNN: the status, and the message in err */
static gw_status load(gw_pixelcnn_model *m, const char *path, gw_error *err) {
    gw_gwm *f = NULL;
    gw_status st = gw_gwm_open(&f, path, err);
    if (!st) st = gw_pixelcnn_model_from_gwm(m, f, err);
    gw_gwm_free(f);
    return st;
}

/* every level survives dequantise -> quantise, transposed both ways; values
 * beyond [-1, 1] and NaN land on a level */
static void test_quantise(void **state) {
    (void)state;
    enum { M = 16, T = 16 }; /* 256 pixels: every level once */
    uint8_t q[M * T], back[M * T];
    float img[M * T];
    for (int i = 0; i < M * T; i++)
        q[i] = (uint8_t)(i * 37 % 256); /* a permutation of 0..255 */
    gw_pixelcnn_dequantise(img, q, M, T);
    gw_pixelcnn_quantise(back, img, M, T);
    assert_memory_equal(q, back, sizeof q);
    /* rows = frames: q (frame f, band b) is img (band b, frame f) */
    const float x[3 * 2] = {-1.0f, 1.0f, 0.0f, 2.0f, -3.0f, NAN}; // (3 bands, 2 frames)
    uint8_t t[2 * 3];
    gw_pixelcnn_quantise(t, x, 3, 2);
    const uint8_t want[2 * 3] = {0, 128, 0, 255, 255, 255};
    for (int i = 0; i < 6; i++)
        if (i != 5) assert_int_equal(t[i], want[i]);
    assert_true(t[5] == 0 || t[5] == 255); /* NaN: a bound, never garbage */
}

static void test_round_trip(void **state) {
    (void)state;
    char dir[4096], path[4200];
    gw_test_tmpdir(dir, sizeof dir, "pcnnfile");
    snprintf(path, sizeof path, "%s/m.gwm", dir);
    gw_pixelcnn_model m, r;
    gw_error err = {0};
    make_model(&m, 3, 7);
    write_model(&m, path, NULL);
    assert_int_equal(load(&r, path, &err), GW_OK);
    assert_int_equal(r.net->cfg.classes, 3);
    assert_memory_equal(r.net->params->data, m.net->params->data,
                        m.net->params->total * sizeof(float));
    assert_memory_equal(gw_specfeat_mean(r.feat), gw_specfeat_mean(m.feat), 5 * sizeof(float));
    assert_memory_equal(gw_specfeat_std(r.feat), gw_specfeat_std(m.feat), 5 * sizeof(float));
    assert_int_equal(gw_pixelcnn_model_class(&r, "kick"), 1);
    assert_int_equal(gw_pixelcnn_model_class(&r, "tom"), -1);
    char list[64];
    assert_string_equal(gw_pixelcnn_model_class_list(&r, list, sizeof list), "hat, kick, snare");
    gw_pixelcnn_model_free(&r);
    gw_pixelcnn_model_free(&m);
    /* unconditioned: no class names, none needed */
    make_model(&m, 0, 8);
    write_model(&m, path, NULL);
    assert_int_equal(load(&r, path, &err), GW_OK);
    assert_null(r.classes);
    assert_int_equal(gw_pixelcnn_model_class(&r, "kick"), -1);
    gw_pixelcnn_model_free(&r);
    gw_pixelcnn_model_free(&m);
    remove(path);
    rmdir(dir);
}

static void expect_refused(const char *path, const char *needle) {
    gw_pixelcnn_model r = {0};
    gw_error err = {0};
    assert_int_not_equal(load(&r, path, &err), GW_OK);
    assert_null(r.net);
    if (!strstr(err.msg, needle)) fail_msg("'%s' lacks '%s'", err.msg, needle);
    if (!strstr(err.msg, path)) fail_msg("'%s' does not name the file", err.msg);
}

static void test_hostile(void **state) {
    (void)state;
    char dir[4096], path[4200], cut[4200];
    gw_test_tmpdir(dir, sizeof dir, "pcnnhostile");
    snprintf(path, sizeof path, "%s/m.gwm", dir);
    snprintf(cut, sizeof cut, "%s/cut.gwm", dir);
    gw_pixelcnn_model m;
    make_model(&m, 2, 9);
    /* class names: missing, too few, not strings, repeated */
    write_model(&m, path, "[\"hat\"]");
    expect_refused(path, "not an array of 2 names");
    write_model(&m, path, "{\"a\": 1}");
    expect_refused(path, "not an array");
    write_model(&m, path, "[\"hat\", 3]");
    expect_refused(path, "class name 1");
    write_model(&m, path, "[\"hat\", \"hat\"]");
    expect_refused(path, "repeats");
    write_model(&m, path, "[\"hat\", \"\"]");
    expect_refused(path, "empty");
    {
        gw_gwm_writer *w = NULL;
        gw_error err = {0};
        char *json = gw_pixelcnn_config_to_json(&m.net->cfg);
        assert_int_equal(gw_gwm_writer_create(&w, &err), GW_OK);
        assert_int_equal(gw_gwm_writer_meta(w, "model", "pixelcnn", &err), GW_OK);
        assert_int_equal(gw_gwm_writer_meta(w, "pixelcnn.config", json, &err), GW_OK);
        assert_int_equal(gw_gwm_writer_add_params(w, m.net->params, "", &err), GW_OK);
        assert_int_equal(gw_specfeat_save(m.feat, w, &err), GW_OK);
        assert_int_equal(gw_gwm_writer_commit(w, path, &err), GW_OK);
        gw_gwm_writer_free(w);
        free(json);
        expect_refused(path, "'pixelcnn.classes' is missing");
        /* another kind, and a config claiming 1024 channels the file lacks */
        const char *huge = "{\"model\": \"pixelcnn\", \"channels\": 1024, \"layers\": 64}";
        assert_int_equal(gw_gwm_writer_create(&w, &err), GW_OK);
        assert_int_equal(gw_gwm_writer_meta(w, "model", "pixelcnn", &err), GW_OK);
        assert_int_equal(gw_gwm_writer_meta(w, "pixelcnn.config", huge, &err), GW_OK);
        assert_int_equal(gw_gwm_writer_add_params(w, m.net->params, "", &err), GW_OK);
        assert_int_equal(gw_gwm_writer_commit(w, path, &err), GW_OK);
        assert_int_equal(gw_gwm_writer_meta(w, "model", "specgan", &err), GW_OK);
        assert_int_equal(gw_gwm_writer_commit(w, cut, &err), GW_OK);
        gw_gwm_writer_free(w);
        expect_refused(path, "pixelcnn.layer00.v.w");
        expect_refused(cut, "is a 'specgan' model, not a PixelCNN");
    }
    /* truncated at every offset: refused, naming the file */
    write_model(&m, path, NULL);
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    fseek(fp, 0, SEEK_END);
    long n = ftell(fp);
    rewind(fp);
    unsigned char *b = malloc((size_t)n);
    assert_int_equal(fread(b, 1, (size_t)n, fp), (size_t)n);
    fclose(fp);
    for (long k = 0; k < n; k += (k < 256 ? 1 : 61)) {
        fp = fopen(cut, "wb");
        fwrite(b, 1, (size_t)k, fp);
        fclose(fp);
        expect_refused(cut, "");
    }
    free(b);
    gw_pixelcnn_model_free(&m);
    remove(path), remove(cut);
    rmdir(dir);
}

/* held-out bits per dimension: the training loss / ln 2 on a full batch;
 * batches of any size (a short last one padded) give the same figure and
 * the same per-image figures */
static void test_bits_per_dim(void **state) {
    (void)state;
    gw_pixelcnn_model m;
    make_model(&m, 3, 10);
    const size_t hw = 30, n = 5;
    uint8_t q[5 * 30];
    int32_t labels[5] = {0, 2, 1, 1, 0};
    gw_rng rng;
    gw_rng_seed(&rng, 11);
    for (size_t i = 0; i < n * hw; i++)
        q[i] = (uint8_t)gw_rng_below(&rng, 256);
    gw_pixelcnn_train *t5 = NULL, *t2 = NULL;
    gw_error err = {0};
    float loss;
    double b5, b2, per5[5], per2[5];
    assert_int_equal(gw_pixelcnn_train_create(&t5, m.net, 5, &err), GW_OK);
    assert_int_equal(gw_pixelcnn_train_create(&t2, m.net, 2, &err), GW_OK);
    assert_int_equal(gw_pixelcnn_train_forward(t5, &loss, q, labels, 0, &err), GW_OK);
    assert_int_equal(gw_pixelcnn_bits_per_dim(&b5, per5, t5, q, labels, n, &err), GW_OK);
    assert_int_equal(gw_pixelcnn_bits_per_dim(&b2, per2, t2, q, labels, n, &err), GW_OK);
    fprintf(stderr, "bits/dim %.6f (loss / ln 2 %.6f)\n", b5, loss / M_LN2);
    assert_true(fabs(b5 - loss / M_LN2) < 1e-4);
    assert_true(fabs(b5 - b2) < 1e-5); /* other batch sizes may round differently */
    double mean = 0;
    for (size_t i = 0; i < n; i++) {
        assert_true(fabs(per5[i] - per2[i]) < 1e-5);
        mean += per5[i] / n;
    }
    assert_true(fabs(mean - b5) < 1e-9);
    /* a bad label is refused */
    labels[3] = 3;
    assert_int_equal(gw_pixelcnn_bits_per_dim(&b2, NULL, t2, q, labels, n, &err), GW_ERR_ARG);
    gw_pixelcnn_train_free(t5);
    gw_pixelcnn_train_free(t2);
    gw_pixelcnn_model_free(&m);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_quantise),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_hostile),
        cmocka_unit_test(test_bits_per_dim),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
