/* The generation planner (models/wavenet.h, wavenet_plan.c): with fake
 * timings it picks the fastest candidate and keeps a forced format; the
 * wisdom file remembers a choice and a corrupt or foreign one is ignored
 * with a notice; real measuring returns a plan that runs. No timing
 * thresholds: how fast a plan is belongs to bench/. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "gw_test.h"
#include "models/wavenet.h"
#include "models/wavenet_kernels.h"

/* a model with pitch conditioning; big (64 channels, 12 layers: over
 * GW_WAVENET_BF16_FROM_MACS, so every format is a candidate) or small */
static gw_wavenet *model(int big) {
    gw_wavenet_config c;
    memset(&c, 0, sizeof c);
    snprintf(c.name, sizeof c.name, "plan-%s", big ? "big" : "small");
    c.sample_rate = 16000, c.classes = 256;
    c.residual = c.gate = big ? 64 : 16;
    c.skip = c.head = big ? 128 : 32;
    c.stacks = big ? 2 : 1, c.layers_per_stack = 6, c.kernel = 2;
    for (int l = 0; l < c.stacks * c.layers_per_stack; l++)
        c.dilations[l] = 1 << (l % 6);
    c.pitch_features = 8, c.hop = 1;
    gw_wavenet *m = NULL;
    gw_error err = {0};
    if (gw_wavenet_create(&m, &c, &err)) fail_msg("%s", err.msg);
    gw_rng rng;
    gw_rng_seed(&rng, 3);
    gw_wavenet_weights_init(&m->w, &m->cfg, &rng);
    assert_true((gw_wavenet_macs_per_sample(&m->cfg) >= GW_WAVENET_BF16_FROM_MACS) == big);
    return m;
}

typedef struct fake {
    gw_wavenet_plan fastest;
    int calls;
} fake;

/* 1000 ns per step, 10 per voice more at a batch; `fastest` takes half */
static double fake_timer(void *ctx, const gw_wavenet_plan *p, int voices) {
    fake *f = ctx;
    f->calls++;
    const int is = p->type == f->fastest.type && !strcmp(p->isa, f->fastest.isa) &&
                   p->prefetch == f->fastest.prefetch;
    return (1000.0 + 10.0 * voices) * (is ? 0.5 : 1.0);
}

static void test_fake_timings_pick_the_fastest(void **state) {
    gw_wavenet *big = model(1), *small = model(0);
    gw_wavenet_plan_options o;
    gw_wavenet_plan_options_default(&o);
    o.batch = 8;
    fake f = {.fastest = {.type = GW_WAVENET_WEIGHTS_F16, .isa = "avx2", .prefetch = 1}};
    o.timer = fake_timer, o.timer_ctx = &f;
    gw_wavenet_plan p;
    gw_wavenet_plan_report r;
    gw_error err = {0};
    assert_int_equal(gw_wavenet_plan_choose(&p, big, &o, &r, &err), GW_OK);
    /* 3 formats x the ISAs this CPU runs x prefetch off/on */
    int isas = 0, formats[4] = {0};
    for (int i = 0; i < r.n; i++) {
        formats[r.cand[i].plan.type]++;
        isas += r.cand[i].plan.type == GW_WAVENET_WEIGHTS_F32 && r.cand[i].plan.prefetch == 0;
    }
    assert_true(isas >= 1);
    /* and bf16 on vdpbf16ps where the CPU has it (bf16 weights only) */
    const int dp = gw_wn_kernels_avx512bf16() != NULL;
    assert_true(formats[0] == formats[1] && formats[0] == 2 * isas &&
                formats[2] == formats[0] + 2 * dp);
    for (int i = 0; i < r.n; i++)
        if (!strcmp(r.cand[i].plan.isa, "avx512bf16"))
            assert_int_equal(r.cand[i].plan.type, GW_WAVENET_WEIGHTS_BF16);
    /* and int8 on vpdpbusd where the CPU has it, for this 8-bit mu-law
     * model: the byte products on their own set, which offers nothing else */
    const int vnni = gw_wn_kernels_avx512vnni() != NULL;
    assert_int_equal(formats[3], 2 * vnni);
    for (int i = 0; i < r.n; i++)
        assert_true(!strcmp(r.cand[i].plan.isa, "avx512vnni") ==
                    (r.cand[i].plan.type == GW_WAVENET_WEIGHTS_I8));
    char name[64];
    gw_wavenet_plan_name(&p, name, sizeof name);
    int has_avx2 = 0;
    for (int i = 0; i < r.n; i++)
        has_avx2 |= !strcmp(r.cand[i].plan.isa, "avx2");
    if (has_avx2) assert_string_equal(name, "f16/avx2/prefetch");
    assert_int_equal(f.calls, 2 * r.n); /* one voice and the batch, each candidate */
    assert_false(r.from_wisdom);
    assert_true(strlen(r.cpu) > 0 && strlen(r.key) > 0);
    /* a forced format: only its candidates */
    o.force_type = GW_WAVENET_WEIGHTS_BF16;
    assert_int_equal(gw_wavenet_plan_choose(&p, big, &o, &r, &err), GW_OK);
    for (int i = 0; i < r.n; i++)
        assert_int_equal(r.cand[i].plan.type, GW_WAVENET_WEIGHTS_BF16);
    assert_int_equal(p.type, GW_WAVENET_WEIGHTS_BF16);
    /* below GW_WAVENET_BF16_FROM_MACS exact weights are kept: f32 only */
    o.force_type = -1;
    assert_int_equal(gw_wavenet_plan_choose(&p, small, &o, &r, &err), GW_OK);
    for (int i = 0; i < r.n; i++)
        assert_int_equal(r.cand[i].plan.type, GW_WAVENET_WEIGHTS_F32);
    /* a logistic (16-bit, multi-band) model is never offered int8, whose
     * rounded inputs would raise the noise floor it is built to lower */
    big->cfg.distribution = GW_WAVENET_DIST_LOGISTIC;
    assert_int_equal(gw_wavenet_plan_choose(&p, big, &o, &r, &err), GW_OK);
    for (int i = 0; i < r.n; i++)
        assert_int_not_equal(r.cand[i].plan.type, GW_WAVENET_WEIGHTS_I8);
    big->cfg.distribution = GW_WAVENET_DIST_MULAW;
    /* forced int8: the byte-product set, or the scalar twin without one */
    o.force_type = GW_WAVENET_WEIGHTS_I8;
    assert_int_equal(gw_wavenet_plan_choose(&p, big, &o, &r, &err), GW_OK);
    assert_true(r.n >= 1);
    for (int i = 0; i < r.n; i++) {
        assert_int_equal(r.cand[i].plan.type, GW_WAVENET_WEIGHTS_I8);
        assert_string_equal(r.cand[i].plan.isa, vnni ? "avx512vnni" : "scalar");
    }
    if (vnni) {
        f.fastest =
            (gw_wavenet_plan){.type = GW_WAVENET_WEIGHTS_I8, .isa = "avx512vnni", .prefetch = 1};
        assert_int_equal(gw_wavenet_plan_choose(&p, big, &o, &r, &err), GW_OK);
        gw_wavenet_plan_name(&p, name, sizeof name);
        assert_string_equal(name, "i8/avx512vnni/prefetch");
    }
    o.force_type = -1;
    /* the vdpbf16ps candidate wins when it is the fastest */
    if (dp) {
        f.fastest = (gw_wavenet_plan){.type = GW_WAVENET_WEIGHTS_BF16, .isa = "avx512bf16"};
        assert_int_equal(gw_wavenet_plan_choose(&p, big, &o, &r, &err), GW_OK);
        gw_wavenet_plan_name(&p, name, sizeof name);
        assert_string_equal(name, "bf16/avx512bf16/noprefetch");
    }
    o.force_type = 7;
    assert_int_equal(gw_wavenet_plan_choose(&p, big, &o, &r, &err), GW_ERR_ARG);
    gw_wavenet_free(big);
    gw_wavenet_free(small);
}

static char *slurp(const char *path) {
    FILE *fp = fopen(path, "rb");
    if (!fp) return NULL;
    static char buf[4096];
    size_t n = fread(buf, 1, sizeof buf - 1, fp);
    buf[n] = 0;
    fclose(fp);
    return buf;
}

static void test_wisdom_remembers_and_survives_corruption(void **state) {
    char dir[4096], path[4200];
    gw_test_tmpdir(dir, sizeof dir, "wisdom");
    snprintf(path, sizeof path, "%s/sub/wisdom", dir); /* its folder is made */
    gw_wavenet *m = model(1);
    gw_wavenet_plan_options o;
    gw_wavenet_plan_options_default(&o);
    o.batch = 4, o.wisdom = path;
    fake f = {.fastest = {.type = GW_WAVENET_WEIGHTS_BF16, .isa = "avx2", .prefetch = 0}};
    o.timer = fake_timer, o.timer_ctx = &f;
    gw_wavenet_plan p1, p2;
    gw_wavenet_plan_report r;
    gw_error err = {0};
    assert_int_equal(gw_wavenet_plan_choose(&p1, m, &o, &r, &err), GW_OK);
    assert_string_equal(r.notice, "");
    const char *text = slurp(path);
    assert_non_null(text);
    assert_true(!strncmp(text, "genwave wisdom 1\n", 17));
    assert_non_null(strstr(text, r.key));
    /* the second load reads it: nothing is timed */
    const int calls = f.calls;
    assert_int_equal(gw_wavenet_plan_choose(&p2, m, &o, &r, &err), GW_OK);
    assert_true(r.from_wisdom);
    assert_int_equal(f.calls, calls);
    assert_memory_equal(&p1, &p2, sizeof p1);
    /* another batch is another question */
    o.batch = 8;
    assert_int_equal(gw_wavenet_plan_choose(&p2, m, &o, &r, &err), GW_OK);
    assert_false(r.from_wisdom);
    /* a choice an older build made among fewer kernel sets (its line names
     * none, "any" alone) is not taken: measured again */
    {
        char line[512];
        snprintf(line, sizeof line,
                 "genwave wisdom 1\n%s\t%s\t4\tany\tf32/scalar/noprefetch\t1.0\t2.0\n", r.cpu,
                 r.key);
        FILE *fp = fopen(path, "wb");
        fputs(line, fp);
        fclose(fp);
        o.batch = 4;
        const int before = f.calls;
        assert_int_equal(gw_wavenet_plan_choose(&p2, m, &o, &r, &err), GW_OK);
        assert_false(r.from_wisdom);
        assert_true(f.calls > before);
        assert_memory_equal(&p1, &p2, sizeof p1);
        assert_string_equal(r.notice, "");
        o.batch = 8;
    }
    /* a foreign file, and one with a malformed line: ignored with a notice,
     * measured again, rewritten whole */
    const char *bad[] = {"PK\3\4 not wisdom at all\n",
                         "genwave wisdom 1\ncpu\tonly three\tfields\n"};
    const char *want[] = {"not a genwave wisdom file", "a malformed line"};
    for (int k = 0; k < 2; k++) {
        FILE *fp = fopen(path, "wb");
        fputs(bad[k], fp);
        fclose(fp);
        const int before = f.calls;
        assert_int_equal(gw_wavenet_plan_choose(&p2, m, &o, &r, &err), GW_OK);
        assert_non_null(strstr(r.notice, want[k]));
        assert_non_null(strstr(r.notice, path));
        assert_null(strchr(r.notice, '\n'));
        assert_true(f.calls > before);
        assert_true(!strncmp(slurp(path), "genwave wisdom 1\n", 17));
        assert_memory_equal(&p1, &p2, sizeof p1);
    }
    unlink(path);
    snprintf(path, sizeof path, "%s/sub", dir);
    rmdir(path);
    rmdir(dir);
    gw_wavenet_free(m);
}

/* really measured (a short budget): every candidate timed, and the plan
 * chosen builds a stream that runs */
static void test_measured_plan_runs(void **state) {
    gw_wavenet *m = model(1);
    gw_wavenet_plan_options o;
    gw_wavenet_plan_options_default(&o);
    o.batch = 3, o.budget_ms = 5;
    gw_wavenet_plan p;
    gw_wavenet_plan_report r;
    gw_error err = {0};
    assert_int_equal(gw_wavenet_plan_choose(&p, m, &o, &r, &err), GW_OK);
    assert_true(r.rounds >= 3);
    for (int i = 0; i < r.n; i++)
        assert_true(isfinite(r.cand[i].ns_one) && r.cand[i].ns_one > 0 &&
                    isfinite(r.cand[i].ns_batch) && r.cand[i].ns_batch > 0);
    gw_wavenet_stream *s = NULL;
    assert_int_equal(gw_wavenet_stream_create_plan(&s, m, 3, &p, &err), GW_OK);
    const gw_wavenet_plan q = gw_wavenet_stream_plan(s);
    assert_int_equal(q.type, p.type);
    assert_string_equal(q.isa, p.isa);
    assert_int_equal(q.prefetch, p.prefetch);
    float u[3] = {0.5f, 0.5f, 0.5f}, y[3];
    gw_wavenet_stream_step(s, NULL, y, NULL, 3, 1.0f, u);
    for (int v = 0; v < 3; v++)
        assert_true(y[v] >= -1.0f && y[v] <= 1.0f);
    gw_wavenet_stream_free(s);
    /* names round-trip; bad ones are refused with the choices */
    char name[64];
    gw_wavenet_plan_name(&p, name, sizeof name);
    gw_wavenet_plan back;
    assert_int_equal(gw_wavenet_plan_parse(&back, name, &err), GW_OK);
    assert_memory_equal(&back, &p, sizeof p);
    assert_int_equal(gw_wavenet_plan_parse(&back, "bf16/neon/prefetch", &err), GW_ERR_ARG);
    assert_non_null(strstr(err.msg, "avx512, avx2, scalar"));
    assert_int_equal(gw_wavenet_plan_parse(&back, "bf16", &err), GW_ERR_ARG);
    gw_wavenet_free(m);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fake_timings_pick_the_fastest),
        cmocka_unit_test(test_wisdom_remembers_and_survives_corruption),
        cmocka_unit_test(test_measured_plan_runs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
