#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gw_test.h"
#include "nn/gwm.h"

static char dir[4096];

static void path_in_dir(char *out, size_t cap, const char *name) {
    snprintf(out, cap, "%s/%s", dir, name);
}

static unsigned char *read_all(const char *path, size_t *n) {
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    fseek(fp, 0, SEEK_END);
    *n = (size_t)ftell(fp);
    fseek(fp, 0, SEEK_SET);
    unsigned char *b = malloc(*n ? *n : 1);
    assert_int_equal(fread(b, 1, *n, fp), *n);
    fclose(fp);
    return b;
}

static void write_all(const char *path, const void *b, size_t n) {
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(b, 1, n, fp), n);
    fclose(fp);
}

/* a small file with every dtype, metadata with non-ASCII text and tensors of
 * sizes that are and are not multiples of 64 bytes */
static gw_gwm_writer *sample_writer(float *w, size_t nw) {
    gw_error err = {0};
    gw_gwm_writer *wr;
    assert_int_equal(gw_gwm_writer_create(&wr, &err), GW_OK);
    assert_int_equal(
        gw_gwm_writer_meta(wr, "architecture", "{\"type\":\"wavenet\",\"R\":32}", &err), GW_OK);
    assert_int_equal(gw_gwm_writer_meta(wr, "sample_rate", "16000", &err), GW_OK);
    assert_int_equal(gw_gwm_writer_meta(wr, "note", "Größe – 音", &err), GW_OK);
    assert_int_equal(gw_gwm_writer_meta(wr, "empty", "", &err), GW_OK);
    assert_int_equal(gw_gwm_writer_metaf(wr, &err, "steps", "%d", 1234), GW_OK);
    gw_rng rng;
    gw_rng_seed(&rng, 3);
    gw_rng_fill_normal(&rng, w, nw, 0, 1);
    assert_int_equal(gw_gwm_writer_add(wr, "w", GW_GWM_F32, 3, (int[]){5, 3, 2}, w, &err), GW_OK);
    uint8_t u8[7] = {0, 1, 2, 250, 251, 254, 255};
    assert_int_equal(gw_gwm_writer_add(wr, "bytes", GW_GWM_U8, 1, (int[]){7}, u8, &err), GW_OK);
    int32_t i32[4] = {-1, 0, 2147483647, -2147483647 - 1};
    assert_int_equal(gw_gwm_writer_add(wr, "ints", GW_GWM_I32, 2, (int[]){2, 2}, i32, &err), GW_OK);
    uint64_t u64[4] = {UINT64_MAX, 0, 1, 0x0123456789abcdefull};
    assert_int_equal(gw_gwm_writer_add(wr, "rng.state", GW_GWM_U64, 1, (int[]){4}, u64, &err),
                     GW_OK);
    assert_int_equal(gw_gwm_writer_add(wr, "b", GW_GWM_F32, 4, (int[]){1, 1, 1, 16}, w, &err),
                     GW_OK);
    return wr;
}

static unsigned char *sample_file(size_t *n) {
    float w[30];
    gw_error err = {0};
    gw_gwm_writer *wr = sample_writer(w, 30);
    char path[4200];
    path_in_dir(path, sizeof path, "sample.gwm");
    assert_int_equal(gw_gwm_writer_commit(wr, path, &err), GW_OK);
    gw_gwm_writer_free(wr);
    return read_all(path, n);
}

static void test_crc32c(void **state) {
    /* the check value of CRC-32C (RFC 3720 B.4, "123456789") */
    assert_int_equal(gw_gwm_crc32c(0, "123456789", 9), 0xE3069283u);
    assert_int_equal(gw_gwm_crc32c_ref(0, "123456789", 9), 0xE3069283u);
    assert_int_equal(gw_gwm_crc32c_portable(0, "123456789", 9), 0xE3069283u);
    unsigned char buf[1100];
    gw_rng rng;
    gw_rng_seed(&rng, 1);
    for (size_t i = 0; i < sizeof buf; i++)
        buf[i] = (unsigned char)gw_rng_u64(&rng);
    /* every alignment and length class; chaining equals one pass */
    for (size_t off = 0; off < 9; off++)
        for (size_t n = 0; n + off <= sizeof buf; n += 37) {
            uint32_t r = gw_gwm_crc32c_ref(0, buf + off, n);
            assert_int_equal(gw_gwm_crc32c(0, buf + off, n), r);
            assert_int_equal(gw_gwm_crc32c_portable(0, buf + off, n), r);
            size_t h = n / 3;
            assert_int_equal(gw_gwm_crc32c(gw_gwm_crc32c(0, buf + off, h), buf + off + h, n - h),
                             r);
        }
}

static void test_round_trip_bit_exact(void **state) {
    gw_error err = {0};
    float w[30];
    gw_gwm_writer *wr = sample_writer(w, 30);
    char path[4200], path2[4200];
    path_in_dir(path, sizeof path, "rt.gwm");
    path_in_dir(path2, sizeof path2, "rt2.gwm");
    assert_int_equal(gw_gwm_writer_commit(wr, path, &err), GW_OK);
    gw_gwm_writer_free(wr);

    gw_gwm *f;
    assert_int_equal(gw_gwm_open(&f, path, &err), GW_OK);
    assert_string_equal(gw_gwm_meta(f, "sample_rate"), "16000");
    assert_string_equal(gw_gwm_meta(f, "note"), "Größe – 音");
    assert_string_equal(gw_gwm_meta(f, "empty"), "");
    assert_null(gw_gwm_meta(f, "missing"));
    int64_t steps;
    assert_int_equal(gw_gwm_meta_i64(f, "steps", &steps, &err), GW_OK);
    assert_int_equal(steps, 1234);
    double sr;
    assert_int_equal(gw_gwm_meta_f64(f, "sample_rate", &sr, &err), GW_OK);
    assert_true(sr == 16000.0);
    assert_int_equal(gw_gwm_meta_i64(f, "note", &steps, &err), GW_ERR_FORMAT);
    assert_non_null(strstr(err.msg, "note"));
    assert_int_equal(gw_gwm_meta_i64(f, "missing", &steps, &err), GW_ERR_FORMAT);
    assert_int_equal(gw_gwm_meta_count(f), 5);
    assert_int_equal(gw_gwm_count(f), 5);

    const gw_gwm_tensor *t;
    assert_int_equal(gw_gwm_get(f, "w", GW_GWM_F32, 3, (int[]){5, 3, 2}, &t, &err), GW_OK);
    assert_memory_equal(t->data, w, sizeof w);
    assert_int_equal((uintptr_t)t->data % 64, 0);
    uint8_t u8[7];
    assert_int_equal(gw_gwm_read(f, "bytes", GW_GWM_U8, 1, (int[]){7}, u8, &err), GW_OK);
    assert_int_equal(u8[3], 250);
    int32_t i32[4];
    assert_int_equal(gw_gwm_read(f, "ints", GW_GWM_I32, 2, (int[]){2, 2}, i32, &err), GW_OK);
    assert_int_equal(i32[3], -2147483647 - 1);
    uint64_t u64[4];
    assert_int_equal(gw_gwm_read(f, "rng.state", GW_GWM_U64, 1, (int[]){4}, u64, &err), GW_OK);
    assert_true(u64[0] == UINT64_MAX && u64[3] == 0x0123456789abcdefull);
    for (size_t i = 0; i < gw_gwm_count(f); i++)
        assert_int_equal((uintptr_t)gw_gwm_at(f, i)->data % 64, 0);

    /* re-writing what was read gives the identical file */
    gw_gwm_writer *w2;
    assert_int_equal(gw_gwm_writer_create(&w2, &err), GW_OK);
    for (size_t i = 0; i < gw_gwm_meta_count(f); i++) {
        const char *k, *v;
        gw_gwm_meta_at(f, i, &k, &v);
        assert_int_equal(gw_gwm_writer_meta(w2, k, v, &err), GW_OK);
    }
    for (size_t i = 0; i < gw_gwm_count(f); i++) {
        const gw_gwm_tensor *x = gw_gwm_at(f, i);
        assert_int_equal(gw_gwm_writer_add(w2, x->name, x->dtype, x->ndim, x->shape, x->data, &err),
                         GW_OK);
    }
    assert_int_equal(gw_gwm_writer_commit(w2, path2, &err), GW_OK);
    gw_gwm_writer_free(w2);
    gw_gwm_free(f);
    size_t n1, n2;
    unsigned char *b1 = read_all(path, &n1), *b2 = read_all(path2, &n2);
    assert_int_equal(n1, n2);
    assert_memory_equal(b1, b2, n1);
    free(b1);
    free(b2);
    unlink(path);
    unlink(path2);
}

static void test_params_round_trip_and_shape_mismatch(void **state) {
    gw_error err = {0};
    gw_params *p = gw_params_create(), *q = gw_params_create(), *r = gw_params_create();
    assert_int_equal(gw_params_add(p, "l.w", 2, (int[]){8, 4}, 0, NULL, &err), GW_OK);
    assert_int_equal(gw_params_add(p, "l.b", 1, (int[]){8}, 0, NULL, &err), GW_OK);
    assert_int_equal(gw_params_alloc(p, &err), GW_OK);
    gw_rng rng;
    gw_rng_seed(&rng, 11);
    for (size_t i = 0; i < p->count; i++)
        gw_params_init_normal(p->items[i].data, p->items[i].numel, 0, 1, &rng);
    gw_gwm_writer *wr;
    assert_int_equal(gw_gwm_writer_create(&wr, &err), GW_OK);
    assert_int_equal(gw_gwm_writer_add_params(wr, p, "gen.", &err), GW_OK);
    char path[4200];
    path_in_dir(path, sizeof path, "params.gwm");
    assert_int_equal(gw_gwm_writer_commit(wr, path, &err), GW_OK);
    gw_gwm_writer_free(wr);
    gw_gwm *f;
    assert_int_equal(gw_gwm_open(&f, path, &err), GW_OK);
    assert_int_equal(gw_gwm_load_params(f, p, "disc.", &err), GW_ERR_FORMAT);
    assert_non_null(strstr(err.msg, "disc.l.w missing"));

    assert_int_equal(gw_params_add(q, "l.w", 2, (int[]){8, 4}, 0, NULL, &err), GW_OK);
    assert_int_equal(gw_params_add(q, "l.b", 1, (int[]){8}, 0, NULL, &err), GW_OK);
    assert_int_equal(gw_params_alloc(q, &err), GW_OK);
    assert_int_equal(gw_gwm_load_params(f, q, "gen.", &err), GW_OK);
    assert_memory_equal(q->data, p->data, p->total * sizeof(float));

    /* a model whose shapes differ: the error names the tensor and both shapes,
     * and nothing is half-loaded */
    assert_int_equal(gw_params_add(r, "l.w", 2, (int[]){8, 4}, 0, NULL, &err), GW_OK);
    assert_int_equal(gw_params_add(r, "l.b", 1, (int[]){9}, 0, NULL, &err), GW_OK);
    assert_int_equal(gw_params_alloc(r, &err), GW_OK);
    assert_int_equal(gw_gwm_load_params(f, r, "gen.", &err), GW_ERR_FORMAT);
    assert_non_null(strstr(err.msg, "gen.l.b"));
    assert_non_null(strstr(err.msg, "(8)"));
    assert_non_null(strstr(err.msg, "(9)"));
    assert_true(r->data[0] == 0.0f);
    const gw_gwm_tensor *t;
    assert_int_equal(gw_gwm_get(f, "gen.l.w", GW_GWM_I32, 2, (int[]){8, 4}, &t, &err),
                     GW_ERR_FORMAT);
    assert_non_null(strstr(err.msg, "is f32, expected i32"));
    gw_gwm_free(f);
    gw_params_free(p);
    gw_params_free(q);
    gw_params_free(r);
    unlink(path);
}

static gw_status open_buf(const unsigned char *b, size_t n, gw_error *err) {
    gw_gwm *f = NULL;
    gw_status st = gw_gwm_open_memory(&f, b, n, "mem.gwm", err);
    gw_gwm_free(f);
    return st;
}

static void expect_reject(const unsigned char *b, size_t n, const char *needle) {
    gw_error err = {0};
    assert_int_equal(open_buf(b, n, &err), GW_ERR_FORMAT);
    assert_true(strncmp(err.msg, "mem.gwm: ", 9) == 0);
    if (needle && !strstr(err.msg, needle)) {
        fprintf(stderr, "expected \"%s\" in \"%s\"\n", needle, err.msg);
        fail();
    }
}

static void test_truncated_at_every_offset(void **state) {
    size_t n;
    unsigned char *b = sample_file(&n);
    gw_error err = {0};
    assert_int_equal(open_buf(b, n, &err), GW_OK);
    for (size_t k = 0; k < n; k++)
        expect_reject(b, k, "truncated");
    /* and one extra byte is trailing garbage */
    unsigned char *c = malloc(n + 1);
    memcpy(c, b, n);
    c[n] = 0;
    expect_reject(c, n + 1, "trailing");
    free(c);
    free(b);
}

static uint32_t rd32(const unsigned char *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void wr32(unsigned char *p, uint32_t v) {
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> 8 * i);
}

static void wr64(unsigned char *p, uint64_t v) {
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> 8 * i);
}

/* after editing a header or table field, recompute the checksums so the
 * loader's deeper checks are the ones reached */
static void reseal_n(unsigned char *b, size_t n) {
    uint64_t tsize = rd32(b + 40) | (uint64_t)rd32(b + 44) << 32;
    if (tsize > n - 64) tsize = n - 64; /* a lie the loader must catch first */
    wr32(b + 56, gw_gwm_crc32c(0, b + 64, (size_t)tsize));
    wr32(b + 60, gw_gwm_crc32c(0, b, 60));
}
#define reseal(b) reseal_n(b, n)

/* table offset of the first tensor record (after the metadata entries) */
static size_t first_record(const unsigned char *b) {
    size_t p = 64;
    uint32_t nmeta = rd32(b + 24);
    for (uint32_t i = 0; i < 2 * nmeta; i++)
        p += 4 + rd32(b + p);
    return p;
}

static void test_corrupt_headers_and_records(void **state) {
    size_t n;
    unsigned char *b = sample_file(&n), *c = malloc(n);
#define FRESH() memcpy(c, b, n)
    FRESH();
    c[0] = 'X';
    expect_reject(c, n, "wrong magic");
    FRESH();
    wr32(c + 8, 2);
    reseal(c);
    expect_reject(c, n, "unsupported format version 2");
    FRESH();
    c[61] ^= 1;
    expect_reject(c, n, "bad header checksum");
    FRESH();
    wr32(c + 12, 1);
    reseal(c);
    expect_reject(c, n, "flags");
    FRESH();
    wr64(c + 16, UINT64_MAX);
    reseal(c);
    expect_reject(c, n, "truncated");
    FRESH();
    wr32(c + 24, UINT32_MAX);
    reseal(c);
    expect_reject(c, n, "do not fit");
    FRESH();
    wr32(c + 28, UINT32_MAX);
    reseal(c);
    expect_reject(c, n, "do not fit");
    FRESH();
    wr64(c + 40, UINT64_MAX - 8);
    reseal(c);
    expect_reject(c, n, "table size");
    FRESH();
    wr64(c + 32, 128);
    reseal(c);
    expect_reject(c, n, "table offset");
    FRESH();
    wr64(c + 48, UINT64_MAX & ~63ull);
    reseal(c);
    expect_reject(c, n, "data offset");
    FRESH();
    c[70] ^= 0x10;
    expect_reject(c, n, "bad table checksum");
    /* the first tensor is "w" (5, 3, 2): name len, name, dtype, ndim, dims */
    size_t r = first_record(b);
    assert_int_equal(rd32(b + r), 1);
    assert_int_equal(b[r + 4], 'w');
    size_t dtype = r + 5, ndim = r + 9, dims = r + 13, off = dims + 12, len = off + 8;
    FRESH();
    wr32(c + dims, 0x7fffffff);
    wr32(c + dims + 4, 0x7fffffff);
    reseal(c);
    expect_reject(c, n, "more elements than the file holds");
    FRESH();
    wr32(c + dims, 0);
    reseal(c);
    expect_reject(c, n, "dim 0 is 0");
    FRESH();
    wr32(c + dtype, 99);
    reseal(c);
    expect_reject(c, n, "unknown dtype 99");
    FRESH();
    wr32(c + ndim, 9);
    reseal(c);
    expect_reject(c, n, "ndim 9");
    FRESH();
    wr64(c + off, UINT64_MAX - 63);
    reseal(c);
    expect_reject(c, n, "data offset");
    FRESH();
    wr64(c + len, UINT64_MAX);
    reseal(c);
    expect_reject(c, n, "byte length");
    FRESH();
    wr32(c + r, UINT32_MAX);
    reseal(c);
    expect_reject(c, n, "tensor name 0 declares 4294967295 bytes");
    FRESH();
    c[r + 4] = 0xff; /* not UTF-8 */
    reseal(c);
    expect_reject(c, n, "not valid UTF-8");
    FRESH();
    c[r + 4] = 'b'; /* now two tensors are called "b" */
    reseal(c);
    expect_reject(c, n, "tensor b repeated");
    FRESH();
    c[n - 1] ^= 0x40; /* last tensor's data */
    expect_reject(c, n, "bad checksum in tensor b");
    uint64_t doff = rd32(b + 48);
    FRESH();
    c[doff] ^= 1;
    expect_reject(c, n, "bad checksum in tensor w");
    FRESH();
    c[doff + 5 * 3 * 2 * 4 + 1] = 7; /* padding after "w" */
    expect_reject(c, n, "nonzero padding after tensor w");
#undef FRESH
    free(c);
    free(b);
}

/* every single-byte change anywhere is caught (no byte is unchecked) and
 * none crashes; run under ASan this also proves no read goes out of bounds */
static void test_random_byte_flips(void **state) {
    size_t n;
    unsigned char *b = sample_file(&n), *c = malloc(n);
    gw_rng rng;
    gw_rng_seed(&rng, 2024);
    for (int it = 0; it < 4000; it++) {
        memcpy(c, b, n);
        int flips = 1 + (int)gw_rng_below(&rng, it % 4 == 0 ? 8 : 1);
        for (int k = 0; k < flips; k++) {
            size_t at = (size_t)gw_rng_below(&rng, n);
            unsigned char v = (unsigned char)(1 + gw_rng_below(&rng, 255));
            c[at] ^= v;
        }
        gw_error err = {0};
        gw_gwm *f = NULL;
        gw_status st = gw_gwm_open_memory(&f, c, n, "mem.gwm", &err);
        if (st == GW_OK) { /* several flips may cancel out; then it must be identical */
            assert_memory_equal(c, b, n);
            gw_gwm_free(f);
            continue;
        }
        assert_int_equal(st, GW_ERR_FORMAT);
        assert_true(strlen(err.msg) > 9);
    }
    /* also: flips in the table with the checksums fixed, so the parser itself
     * must survive garbage lengths */
    uint64_t tsize = rd32(b + 40);
    for (int it = 0; it < 3000; it++) {
        memcpy(c, b, n);
        size_t at = 64 + (size_t)gw_rng_below(&rng, tsize);
        c[at] ^= (unsigned char)(1 + gw_rng_below(&rng, 255));
        reseal(c);
        gw_error err = {0};
        gw_gwm *f = NULL;
        gw_status st = gw_gwm_open_memory(&f, c, n, "mem.gwm", &err);
        /* a flip inside a metadata value may leave a valid file; otherwise
         * the error is a format error with a message */
        if (st == GW_OK)
            gw_gwm_free(f);
        else
            assert_int_equal(st, GW_ERR_FORMAT);
    }
    free(c);
    free(b);
}

static void test_writer_errors_and_atomicity(void **state) {
    gw_error err = {0};
    gw_gwm_writer *wr;
    assert_int_equal(gw_gwm_writer_create(&wr, &err), GW_OK);
    float x[4] = {1, 2, 3, 4};
    assert_int_equal(gw_gwm_writer_add(wr, "x", GW_GWM_F32, 1, (int[]){4}, x, &err), GW_OK);
    assert_int_equal(gw_gwm_writer_add(wr, "x", GW_GWM_F32, 1, (int[]){4}, x, &err), GW_ERR_ARG);
    assert_int_equal(gw_gwm_writer_add(wr, "", GW_GWM_F32, 1, (int[]){4}, x, &err), GW_ERR_ARG);
    assert_int_equal(gw_gwm_writer_add(wr, "y", (gw_gwm_dtype)9, 1, (int[]){4}, x, &err),
                     GW_ERR_ARG);
    assert_int_equal(gw_gwm_writer_add(wr, "y", GW_GWM_F32, 0, (int[]){4}, x, &err), GW_ERR_ARG);
    assert_int_equal(gw_gwm_writer_add(wr, "y", GW_GWM_F32, 1, (int[]){0}, x, &err), GW_ERR_ARG);
    assert_int_equal(gw_gwm_writer_meta(wr, "k", "\xc3\x28", &err), GW_ERR_ARG);
    assert_int_equal(gw_gwm_writer_meta(wr, "", "v", &err), GW_ERR_ARG);
    /* replacing a key keeps one entry */
    assert_int_equal(gw_gwm_writer_meta(wr, "k", "1", &err), GW_OK);
    assert_int_equal(gw_gwm_writer_meta(wr, "k", "2", &err), GW_OK);
    char path[4200];
    path_in_dir(path, sizeof path, "atomic.gwm");
    assert_int_equal(gw_gwm_writer_commit(wr, path, &err), GW_OK);
    x[0] = 99; /* the writer copied the data */
    /* a failing commit (directory missing) leaves the good file alone */
    char bad[4300];
    snprintf(bad, sizeof bad, "%s/no/such/dir/m.gwm", dir);
    assert_int_equal(gw_gwm_writer_commit(wr, bad, &err), GW_ERR_IO);
    assert_non_null(strstr(err.msg, bad));
    gw_gwm_writer_free(wr);
    gw_gwm *f;
    assert_int_equal(gw_gwm_open(&f, path, &err), GW_OK);
    assert_string_equal(gw_gwm_meta(f, "k"), "2");
    assert_int_equal(gw_gwm_meta_count(f), 1);
    assert_true(((const float *)gw_gwm_find(f, "x")->data)[0] == 1.0f);
    gw_gwm_free(f);
    /* missing file and a directory */
    char missing[4300];
    snprintf(missing, sizeof missing, "%s/missing.gwm", dir);
    assert_int_equal(gw_gwm_open(&f, missing, &err), GW_ERR_IO);
    assert_non_null(strstr(err.msg, "missing.gwm: cannot open"));
    assert_int_equal(gw_gwm_open(&f, dir, &err), GW_ERR_IO);
    /* an empty model (no tensors, no metadata) is still a valid file */
    assert_int_equal(gw_gwm_writer_create(&wr, &err), GW_OK);
    assert_int_equal(gw_gwm_writer_commit(wr, path, &err), GW_OK);
    gw_gwm_writer_free(wr);
    assert_int_equal(gw_gwm_open(&f, path, &err), GW_OK);
    assert_int_equal(gw_gwm_count(f), 0);
    assert_null(gw_gwm_find(f, "x"));
    gw_gwm_free(f);
    /* a file of random text is rejected by the loader, not trusted */
    write_all(path, "hello, world: not a model file at all, just some text....................",
              72);
    assert_int_equal(gw_gwm_open(&f, path, &err), GW_ERR_FORMAT);
    assert_non_null(strstr(err.msg, "wrong magic"));
    unlink(path);
}

static int setup(void **state) {
    gw_test_tmpdir(dir, sizeof dir, "gwm");
    return 0;
}

static int teardown(void **state) {
    char p[4200];
    path_in_dir(p, sizeof p, "sample.gwm");
    unlink(p);
    rmdir(dir);
    return 0;
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crc32c),
        cmocka_unit_test(test_round_trip_bit_exact),
        cmocka_unit_test(test_params_round_trip_and_shape_mismatch),
        cmocka_unit_test(test_truncated_at_every_offset),
        cmocka_unit_test(test_corrupt_headers_and_records),
        cmocka_unit_test(test_random_byte_flips),
        cmocka_unit_test(test_writer_errors_and_atomicity),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
