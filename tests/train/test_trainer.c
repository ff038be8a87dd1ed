#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "gw_test.h"
#include "train/trainer.h"

#include <cblas.h>
#include <pthread.h>

/* A toy trainer: linear regression y = W x + b (W: (4, 3)) on a fixed set of
 * 64 examples, visited in minibatches of 8 in an order reshuffled every epoch
 * with the trainer's rng. The permutation and cursor are "data-order state"
 * saved through the hooks; training noise (input jitter) also comes from the
 * trainer's rng. Optional faults: a NaN loss, a NaN gradient, SIGINT. */
enum { NX = 3, NY = 4, NDATA = 64, BATCH = 8 };

typedef struct toy {
    gw_params *p;
    gw_adam *adam;
    gw_ema *ema;
    float x[NDATA][NX], y[NDATA][NY];
    int32_t perm[NDATA];
    int32_t cursor;
    uint64_t nan_loss_at, nan_grad_at, signal_at; /* 1-based step, 0 = never */
    float *snapshot;                              /* params before step snapshot_at */
    uint64_t snapshot_at;
    int sleep_us;
    const double *val_script;         /* validation figures to report in turn (NULL: real) */
    int val_k;
    uint64_t best_saved_at[16];       /* steps save_best was called at */
    int n_best_saved;
    int probe_fp;                     /* record the step thread's and the BLAS pool's FP mode */
    int fp_step, fp_spawned, fp_blas; /* what the first probed step saw (1 = flushed) */
} toy;

static void toy_init(toy *t) {
    memset(t, 0, sizeof *t);
    gw_error err = {0};
    t->p = gw_params_create();
    assert_int_equal(gw_params_add(t->p, "toy.w", 2, (int[]){NY, NX}, 0, NULL, &err), GW_OK);
    assert_int_equal(gw_params_add(t->p, "toy.b", 1, (int[]){NY}, GW_PARAM_NO_DECAY, NULL, &err),
                     GW_OK);
    assert_int_equal(gw_params_alloc(t->p, &err), GW_OK);
    gw_rng init;
    gw_rng_seed(&init, 99);
    gw_params_init_xavier(t->p->items[0].data, NY * NX, NX, NY, &init);
    gw_adam_config cfg = gw_adam_defaults();
    cfg.lr = 0.05f;
    cfg.weight_decay = 1e-3f;
    cfg.clip_norm = 5.0f;
    assert_int_equal(gw_adam_create(&t->adam, t->p, &cfg, &err), GW_OK);
    assert_int_equal(gw_ema_create(&t->ema, t->p, 0.9f, 1, &err), GW_OK);
    for (int n = 0; n < NDATA; n++) {
        for (int i = 0; i < NX; i++)
            t->x[n][i] = gw_rng_normal(&init);
        for (int o = 0; o < NY; o++) {
            float s = 0.5f * o - 1.0f;
            for (int i = 0; i < NX; i++)
                s += (float)(o + 1) * (i - 1) * 0.3f * t->x[n][i];
            t->y[n][o] = s + 0.01f * gw_rng_normal(&init);
        }
        t->perm[n] = n;
    }
    t->cursor = NDATA; /* reshuffle on the first step */
}

static void toy_free(toy *t) {
    gw_adam_free(t->adam);
    gw_ema_free(t->ema);
    gw_params_free(t->p);
    free(t->snapshot);
}

/* mean squared error over a batch; grads added into p->grad when train */
static double toy_loss(toy *t, const int *idx, int n, gw_rng *jitter, int train) {
    const float *w = t->p->items[0].data, *b = t->p->items[1].data;
    float *dw = t->p->items[0].grad, *db = t->p->items[1].grad;
    double loss = 0;
    for (int k = 0; k < n; k++) {
        float x[NX];
        for (int i = 0; i < NX; i++)
            x[i] = t->x[idx[k]][i] + (jitter ? 0.01f * gw_rng_normal(jitter) : 0.0f);
        for (int o = 0; o < NY; o++) {
            float out = b[o];
            for (int i = 0; i < NX; i++)
                out += w[o * NX + i] * x[i];
            float d = out - t->y[idx[k]][o];
            loss += (double)d * d / (n * NY);
            if (!train) continue;
            float g = 2.0f * d / (float)(n * NY);
            db[o] += g;
            for (int i = 0; i < NX; i++)
                dw[o * NX + i] += g * x[i];
        }
    }
    return loss;
}

static void *fp_probe_thread(void *arg) {
    *(int *)arg = gw_denormals_flushed();
    return NULL;
}

/* What a training step's threads do with a subnormal: the step's own thread,
 * a thread it starts (the WaveNet shards, the conv product's workers), and
 * OpenBLAS's pool: a 256^3 product of subnormals must come out all zeros
 * (DAZ), half of it was not when only the caller flushed. */
static void probe_fp(toy *t) {
    enum { D = 256 };
    t->fp_step = gw_denormals_flushed();
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, fp_probe_thread, &t->fp_spawned), 0);
    pthread_join(th, NULL);
    float *a = malloc(3 * D * D * sizeof(float)), *b = a + D * D, *c = b + D * D;
    assert_non_null(a);
    for (int i = 0; i < D * D; i++)
        a[i] = 1e-39f, b[i] = 1.0f, c[i] = 0.0f;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, D, D, D, 1.0f, a, D, b, D, 0.0f, c, D);
    int nonzero = 0;
    for (int i = 0; i < D * D; i++)
        nonzero += c[i] != 0.0f;
    t->fp_blas = nonzero == 0;
    free(a);
}

static gw_status toy_step(void *ctx, uint64_t step, gw_rng *rng, double *figs, gw_error *err) {
    toy *t = ctx;
    if (t->probe_fp && step == 0) probe_fp(t);
    if (t->snapshot && step == t->snapshot_at)
        memcpy(t->snapshot, t->p->data, t->p->total * sizeof(float));
    if (t->sleep_us) usleep((useconds_t)t->sleep_us);
    if (t->cursor + BATCH > NDATA) { /* Fisher-Yates with the trainer's rng */
        for (int i = NDATA - 1; i > 0; i--) {
            int j = (int)gw_rng_below(rng, (uint64_t)i + 1);
            int32_t s = t->perm[i];
            t->perm[i] = t->perm[j];
            t->perm[j] = s;
        }
        t->cursor = 0;
    }
    int idx[BATCH];
    for (int k = 0; k < BATCH; k++)
        idx[k] = t->perm[t->cursor + k];
    t->cursor += BATCH;
    gw_params_zero_grad(t->p);
    double loss = toy_loss(t, idx, BATCH, rng, 1);
    if (step + 1 == t->nan_loss_at) loss = NAN;
    if (step + 1 == t->nan_grad_at) t->p->items[0].grad[1] = INFINITY;
    gw_status st = gw_adam_step(t->adam, 0.05f, err);
    if (st) return st;
    gw_ema_update(t->ema);
    if (step + 1 == t->signal_at) raise(SIGINT);
    figs[0] = loss;
    figs[1] = t->adam->last_grad_norm;
    return GW_OK;
}

static gw_status toy_validate(void *ctx, uint64_t step, double *figs, gw_error *err) {
    toy *t = ctx;
    if (t->val_script) {
        figs[0] = t->val_script[t->val_k++];
        return GW_OK;
    }
    int idx[NDATA];
    for (int i = 0; i < NDATA; i++)
        idx[i] = i;
    figs[0] = toy_loss(t, idx, NDATA, NULL, 0);
    return GW_OK;
}

static gw_status toy_save(void *ctx, gw_gwm_writer *w, gw_error *err) {
    toy *t = ctx;
    gw_status st = gw_gwm_writer_add(w, "data.perm", GW_GWM_I32, 1, (int[]){NDATA}, t->perm, err);
    if (st) return st;
    return gw_gwm_writer_add(w, "data.cursor", GW_GWM_I32, 1, (int[]){1}, &t->cursor, err);
}

static gw_status toy_load(void *ctx, const gw_gwm *f, gw_error *err) {
    toy *t = ctx;
    gw_status st = gw_gwm_read(f, "data.perm", GW_GWM_I32, 1, (int[]){NDATA}, t->perm, err);
    if (st) return st;
    return gw_gwm_read(f, "data.cursor", GW_GWM_I32, 1, (int[]){1}, &t->cursor, err);
}

/* best.gwm: a file whose only content is the step, to check which was kept */
static gw_status toy_save_best(void *ctx, const char *path, const gw_trainer_result *so_far,
                               gw_error *err) {
    toy *t = ctx;
    if (t->n_best_saved < 16) t->best_saved_at[t->n_best_saved++] = so_far->steps;
    FILE *fp = fopen(path, "wb");
    if (!fp) return gw_fail(err, GW_ERR_IO, "%s: cannot write", path);
    fprintf(fp, "%llu", (unsigned long long)so_far->steps);
    fclose(fp);
    return GW_OK;
}

static const char *figs[] = {"loss", "grad_norm"};
static const char *vfigs[] = {"val_loss"};

static gw_trainer_config toy_config(const char *dir, uint64_t steps, toy *t) {
    gw_trainer_config c = gw_trainer_defaults();
    c.run_dir = dir;
    c.max_steps = steps;
    c.seed = 7;
    c.threads = 1;
    c.val_every = 10;
    c.val_at_start = 1;
    c.checkpoint_every = 5;
    c.figure_names = figs;
    c.n_figures = 2;
    c.val_figure_names = vfigs;
    c.n_val_figures = 1;
    c.units_per_step = BATCH;
    c.write_png = 0;
    c.groups[0] = (gw_trainer_group){"", t->p, t->adam, t->ema};
    c.n_groups = 1;
    return c;
}

static gw_trainer_hooks toy_hooks(toy *t) {
    return (gw_trainer_hooks){
        .ctx = t, .step = toy_step, .validate = toy_validate, .save = toy_save, .load = toy_load};
}

static void rm_run(const char *dir) {
    const char *files[] = {"checkpoint.gwm", "log.csv", "loss.png"};
    char p[4300];
    for (int i = 0; i < 3; i++) {
        snprintf(p, sizeof p, "%s/%s", dir, files[i]);
        unlink(p);
    }
    rmdir(dir);
}

static char *slurp(const char *path) {
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    fseek(fp, 0, SEEK_END);
    long n = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    char *b = calloc(1, (size_t)n + 1);
    assert_int_equal(fread(b, 1, (size_t)n, fp), (size_t)n);
    fclose(fp);
    return b;
}

/* the CSV's step column must read 0 (start validation), 1, 2, ..., n */
static void check_log_steps(const char *path, uint64_t n) {
    char *b = slurp(path), *save = NULL;
    char *line = strtok_r(b, "\n", &save);
    assert_string_equal(line, "step,elapsed_s,loss,grad_norm,val_loss");
    uint64_t want = 0;
    while ((line = strtok_r(NULL, "\n", &save))) {
        assert_int_equal(strtoull(line, NULL, 10), want);
        want++;
    }
    assert_int_equal(want, n + 1);
    free(b);
}

static void run_dir(char *out, size_t cap, const char *name) {
    char base[4096];
    gw_test_tmpdir(base, sizeof base, name);
    rmdir(base); /* the trainer creates it (and parents) itself */
    snprintf(out, cap, "%s", base);
}

/* N steps straight == k steps, stop, resume, N - k steps: identical weights,
 * moments, EMA and data order, bit for bit; the log reads as one run */
static void test_resume_is_bit_exact(void **state) {
    enum { N = 37, K = 12 };
    gw_error err = {0};
    char a[4096], b[4096];
    run_dir(a, sizeof a, "trainer_a");
    run_dir(b, sizeof b, "trainer_b");
    toy t1, t2, t3;
    toy_init(&t1);
    gw_trainer_config c = toy_config(a, N, &t1);
    gw_trainer_hooks h = toy_hooks(&t1);
    gw_trainer_result r1;
    assert_int_equal(gw_trainer_run(&c, &h, &r1, &err), GW_OK);
    assert_int_equal(r1.steps, N);
    assert_int_equal(r1.stop, GW_TRAINER_STOP_STEPS);
    /* it learned something */
    assert_true(r1.val_figures[0] < 0.1 * r1.val_first[0]);

    toy_init(&t2);
    c = toy_config(b, K, &t2);
    h = toy_hooks(&t2);
    gw_trainer_result r2;
    assert_int_equal(gw_trainer_run(&c, &h, &r2, &err), GW_OK);
    assert_int_equal(r2.steps, K);
    toy_free(&t2);
    /* a fresh process: new model objects, initialised differently */
    toy_init(&t3);
    gw_params_init_const(t3.p->items[0].data, NY * NX, 0.5f);
    c = toy_config(b, N, &t3);
    c.resume = 1;
    h = toy_hooks(&t3);
    gw_trainer_result r3;
    assert_int_equal(gw_trainer_run(&c, &h, &r3, &err), GW_OK);
    assert_int_equal(r3.resumed_from, K);
    assert_int_equal(r3.steps, N);
    assert_memory_equal(t1.p->data, t3.p->data, t1.p->total * sizeof(float));
    assert_memory_equal(t1.adam->m, t3.adam->m, t1.p->total * sizeof(float));
    assert_memory_equal(t1.adam->v, t3.adam->v, t1.p->total * sizeof(float));
    assert_memory_equal(t1.ema->shadow, t3.ema->shadow, t1.p->total * sizeof(float));
    assert_int_equal(t1.adam->step, t3.adam->step);
    assert_memory_equal(t1.perm, t3.perm, sizeof t1.perm);
    assert_true(r1.figures[0] == r3.figures[0]);
    check_log_steps(r1.log_path, N);
    check_log_steps(r3.log_path, N);
    /* the two checkpoints agree except for wall-clock metadata */
    gw_gwm *f1, *f3;
    assert_int_equal(gw_gwm_open(&f1, r1.checkpoint_path, &err), GW_OK);
    assert_int_equal(gw_gwm_open(&f3, r3.checkpoint_path, &err), GW_OK);
    assert_int_equal(gw_gwm_count(f1), gw_gwm_count(f3));
    for (size_t i = 0; i < gw_gwm_count(f1); i++) {
        const gw_gwm_tensor *x = gw_gwm_at(f1, i), *y = gw_gwm_find(f3, x->name);
        assert_non_null(y);
        assert_int_equal(x->nbytes, y->nbytes);
        assert_memory_equal(x->data, y->data, x->nbytes);
    }
    assert_string_equal(gw_gwm_meta(f1, "train.step"), "37");
    gw_gwm_free(f1);
    gw_gwm_free(f3);

    /* starting over a run without --resume is refused; resuming a finished
     * run is a no-op that succeeds */
    c = toy_config(b, N, &t3);
    assert_int_equal(gw_trainer_run(&c, &h, &r3, &err), GW_ERR_ARG);
    assert_non_null(strstr(err.msg, "already holds a checkpoint"));
    c.resume = 1;
    assert_int_equal(gw_trainer_run(&c, &h, &r3, &err), GW_OK);
    assert_int_equal(r3.steps, N);
    toy_free(&t1);
    toy_free(&t3);
    rm_run(a);
    rm_run(b);
}

/* SIGINT mid-run: the step finishes, a checkpoint is written, the run
 * returns GW_ERR_INTERRUPTED; resuming gives the uninterrupted result */
static void test_sigint_checkpoints_and_resumes(void **state) {
    enum { N = 23, AT = 9 };
    gw_error err = {0};
    char a[4096], b[4096];
    run_dir(a, sizeof a, "trainer_c");
    run_dir(b, sizeof b, "trainer_d");
    toy t1, t2, t3;
    toy_init(&t1);
    gw_trainer_config c = toy_config(a, N, &t1);
    gw_trainer_hooks h = toy_hooks(&t1);
    assert_int_equal(gw_trainer_run(&c, &h, NULL, &err), GW_OK);

    toy_init(&t2);
    t2.signal_at = AT;
    c = toy_config(b, N, &t2);
    h = toy_hooks(&t2);
    gw_trainer_result r;
    assert_int_equal(gw_trainer_run(&c, &h, &r, &err), GW_ERR_INTERRUPTED);
    assert_int_equal(r.stop, GW_TRAINER_STOP_SIGNAL);
    assert_int_equal(r.steps, AT);
    assert_non_null(strstr(err.msg, "interrupted after step 9"));
    assert_non_null(strstr(err.msg, "checkpoint.gwm"));
    /* the handler was removed again: SIGINT is back to its old disposition */
    struct sigaction cur;
    sigaction(SIGINT, NULL, &cur);
    assert_true(cur.sa_handler == SIG_DFL);
    toy_free(&t2);

    toy_init(&t3);
    c = toy_config(b, N, &t3);
    c.resume = 1;
    h = toy_hooks(&t3);
    assert_int_equal(gw_trainer_run(&c, &h, &r, &err), GW_OK);
    assert_int_equal(r.resumed_from, AT);
    assert_memory_equal(t1.p->data, t3.p->data, t1.p->total * sizeof(float));
    check_log_steps(r.log_path, N);
    toy_free(&t1);
    toy_free(&t3);
    rm_run(a);
    rm_run(b);
}

/* a NaN loss (and separately an Inf gradient) stops the run with a clear
 * message and leaves the last good checkpoint as it was */
static void test_nan_stops_and_keeps_last_checkpoint(void **state) {
    for (int kind = 0; kind < 2; kind++) {
        gw_error err = {0};
        char a[4096];
        run_dir(a, sizeof a, "trainer_nan");
        toy t;
        toy_init(&t);
        if (kind == 0)
            t.nan_loss_at = 13;
        else
            t.nan_grad_at = 13;
        t.snapshot = malloc(t.p->total * sizeof(float));
        t.snapshot_at = 10; /* params after 10 steps = the checkpoint's */
        gw_trainer_config c = toy_config(a, 30, &t);
        gw_trainer_hooks h = toy_hooks(&t);
        gw_trainer_result r;
        assert_int_equal(gw_trainer_run(&c, &h, &r, &err), GW_ERR_NUMERIC);
        assert_int_equal(r.stop, GW_TRAINER_STOP_NUMERIC);
        assert_int_equal(r.steps, 12);
        assert_non_null(strstr(err.msg, "step 13"));
        assert_non_null(
            strstr(err.msg, kind == 0 ? "loss is nan" : "non-finite gradient in toy.w"));
        assert_non_null(strstr(err.msg, "left untouched"));
        gw_gwm *f;
        assert_int_equal(gw_gwm_open(&f, r.checkpoint_path, &err), GW_OK);
        assert_string_equal(gw_gwm_meta(f, "train.step"), "10");
        assert_memory_equal(gw_gwm_find(f, "toy.w")->data, t.snapshot + t.p->items[0].offset,
                            NY * NX * sizeof(float));
        gw_gwm_free(f);
        toy_free(&t);
        rm_run(a);
    }
}

/* Denormals are flushed in every thread a run computes in, OpenBLAS's
 * workers included, and the caller's mode is given back afterwards. Intel
 * cores pay ~100 cycles per subnormal operation (AMD's hardly any), so this
 * is checked by what the threads compute, not by how long they take. */
static void test_denormals_flushed_in_every_thread(void **state) {
    gw_error err = {0};
    char a[4096];
    run_dir(a, sizeof a, "trainer_fp");
    toy t;
    toy_init(&t);
    t.probe_fp = 1;
    gw_trainer_config c = toy_config(a, 3, &t);
    c.threads = 2; /* OpenBLAS's pool splits the probe's product */
    gw_trainer_hooks h = toy_hooks(&t);
    const unsigned before = gw_denormals_flush();
    gw_denormals_restore(before & ~0x8040u); /* the default mode: both off */
    assert_false(gw_denormals_flushed());
    assert_int_equal(gw_trainer_run(&c, &h, NULL, &err), GW_OK);
    assert_true(t.fp_step);
    assert_true(t.fp_spawned);
    assert_true(t.fp_blas);
    assert_false(gw_denormals_flushed()); /* the caller's mode is back */
    gw_denormals_restore(before);
    toy_free(&t);
    rm_run(a);
}

/* The held-out figure improves, then worsens (a small folder overfitting):
 * best.gwm is the model of the best validation, a warning says so once the
 * figure stays worse for 3 validations and once it is worse than the
 * untrained model's, --early-stop stops the run, and a resumed run keeps
 * the untrained figure and the best. */
static void test_best_model_warnings_and_early_stop(void **state) {
    /* validations at steps 0, 10, 20, ...: 8.0 untrained, best 6.0 at 20 */
    static const double script[] = {8.0, 7.0, 6.0, 6.5, 7.5, 8.5, 9.0, 9.5, 9.9, 10.0, 10.1};
    gw_error err = {0};
    char a[4096], best[4200];
    run_dir(a, sizeof a, "trainer_best");
    snprintf(best, sizeof best, "%s/best.gwm", a);
    toy t;
    toy_init(&t);
    t.val_script = script;
    gw_trainer_config c = toy_config(a, 100, &t);
    c.best_figure = 0;
    c.worse_patience = 3;
    c.early_stop = 6;
    gw_trainer_hooks h = toy_hooks(&t);
    h.save_best = toy_save_best;
    char *log = NULL;
    size_t log_n = 0;
    c.progress = open_memstream(&log, &log_n);
    gw_trainer_result r;
    assert_int_equal(gw_trainer_run(&c, &h, &r, &err), GW_OK);
    fclose(c.progress);
    /* new bests at steps 0, 10, 20; then 6 validations without one: stop at 80 */
    assert_int_equal(t.n_best_saved, 3);
    assert_int_equal(t.best_saved_at[2], 20);
    assert_int_equal(r.stop, GW_TRAINER_STOP_EARLY);
    assert_int_equal(r.steps, 80);
    assert_true(r.best_value == 6.0 && r.best_step == 20);
    assert_string_equal(r.best_path, best);
    char *kept = slurp(best);
    assert_string_equal(kept, "20");
    free(kept);
    assert_true(r.val_first[0] == 8.0);
    assert_non_null(strstr(log, "warning: overfitting: held-out val_loss 8.5 vs best 6 at step 20, "
                                "worse for 3 validations; best.gwm keeps that model"));
    assert_non_null(strstr(log, "warning: held-out val_loss 8.5 is worse than the untrained "
                                "model's 8; best.gwm is from step 20"));
    assert_non_null(strstr(log, "early stop: no better held-out val_loss for 6 validations"));
    assert_int_equal(r.warnings, 2);
    free(log);
    /* resume the same run to 100 steps without early stop: the untrained
     * figure and the best come from the checkpoint, not this session */
    t.val_k = 0;
    static const double later[] = {9.0, 9.1, 9.2};
    t.val_script = later;
    c.early_stop = 0;
    c.resume = 1;
    log = NULL;
    c.progress = open_memstream(&log, &log_n);
    assert_int_equal(gw_trainer_run(&c, &h, &r, &err), GW_OK);
    fclose(c.progress);
    assert_true(r.val_first[0] == 8.0);
    assert_true(r.best_value == 6.0 && r.best_step == 20);
    assert_int_equal(t.n_best_saved, 3);
    assert_non_null(strstr(log, "resumed from step 80 of 100"));
    free(log);
    unlink(best);
    toy_free(&t);
    rm_run(a);
}

static void test_time_limit_progress_and_plot(void **state) {
    gw_error err = {0};
    char a[4096], nested[4200];
    run_dir(a, sizeof a, "trainer_time");
    snprintf(nested, sizeof nested, "%s/sub/run", a);
    toy t;
    toy_init(&t);
    t.sleep_us = 3000;
    gw_trainer_config c = toy_config(nested, 100000, &t);
    c.max_minutes = 0.1 / 60; /* 0.1 s */
    c.write_png = 1;
    FILE *prog = tmpfile();
    c.progress = prog;
    c.progress_seconds = 0.02;
    gw_trainer_hooks h = toy_hooks(&t);
    gw_trainer_result r;
    assert_int_equal(gw_trainer_run(&c, &h, &r, &err), GW_OK);
    assert_int_equal(r.stop, GW_TRAINER_STOP_TIME);
    assert_true(r.steps > 3 && r.steps < 100);
    assert_true(r.seconds >= 0.1 && r.seconds < 5);
    assert_true(r.units_per_second > 0);
    /* the time-limited run still validated at its end and checkpointed */
    assert_true(isfinite(r.val_figures[0]));
    gw_gwm *f;
    assert_int_equal(gw_gwm_open(&f, r.checkpoint_path, &err), GW_OK);
    int64_t s;
    assert_int_equal(gw_gwm_meta_i64(f, "train.step", &s, &err), GW_OK);
    assert_int_equal((uint64_t)s, r.steps);
    gw_gwm_free(f);
    /* non-TTY progress: whole lines with figures, throughput and ETA */
    rewind(prog);
    char line[2048];
    int lines = 0, has_rate = 0;
    while (fgets(line, sizeof line, prog)) {
        lines++;
        assert_null(strchr(line, '\r'));
        if (strstr(line, "examples/s") && strstr(line, "ETA") && strstr(line, "loss")) has_rate = 1;
    }
    assert_true(lines >= 2);
    assert_true(has_rate);
    fclose(prog);
    char png[4300];
    snprintf(png, sizeof png, "%s/loss.png", nested);
    FILE *fp = fopen(png, "rb");
    assert_non_null(fp);
    unsigned char sig[8];
    assert_int_equal(fread(sig, 1, 8, fp), 8);
    assert_memory_equal(sig, "\x89PNG\r\n\x1a\n", 8);
    fclose(fp);
    toy_free(&t);
    rm_run(nested);
    snprintf(png, sizeof png, "%s/sub", a);
    rmdir(png);
    rmdir(a);
}

static void test_bad_configs(void **state) {
    gw_error err = {0};
    char a[4096];
    run_dir(a, sizeof a, "trainer_bad");
    toy t;
    toy_init(&t);
    gw_trainer_hooks h = toy_hooks(&t);
    gw_trainer_config c = toy_config(a, 10, &t);
    c.resume = 1;
    assert_int_equal(gw_trainer_run(&c, &h, NULL, &err), GW_ERR_ARG);
    assert_non_null(strstr(err.msg, "no checkpoint to resume from"));
    c = toy_config(a, 0, &t);
    assert_int_equal(gw_trainer_run(&c, &h, NULL, &err), GW_ERR_ARG);
    c = toy_config(a, 10, &t);
    c.n_figures = 0;
    assert_int_equal(gw_trainer_run(&c, &h, NULL, &err), GW_ERR_ARG);
    c = toy_config(a, 10, &t);
    gw_trainer_hooks nov = h;
    nov.validate = NULL;
    assert_int_equal(gw_trainer_run(&c, &nov, NULL, &err), GW_ERR_ARG);
    assert_non_null(strstr(err.msg, "validate"));
    c = toy_config(a, 10, &t);
    c.run_dir = "/proc/genwave-cannot-exist/run";
    assert_int_equal(gw_trainer_run(&c, &h, NULL, &err), GW_ERR_IO);
    assert_non_null(strstr(err.msg, "/proc/genwave-cannot-exist"));
    /* a corrupt checkpoint is reported by the loader, not trusted */
    c = toy_config(a, 10, &t);
    assert_int_equal(gw_trainer_run(&c, &h, NULL, &err), GW_OK);
    char ck[4300];
    snprintf(ck, sizeof ck, "%s/checkpoint.gwm", a);
    FILE *fp = fopen(ck, "r+b");
    fseek(fp, 200, SEEK_SET);
    fputc(0x5a, fp);
    fclose(fp);
    c.resume = 1;
    c.max_steps = 20;
    assert_int_equal(gw_trainer_run(&c, &h, NULL, &err), GW_ERR_FORMAT);
    assert_non_null(strstr(err.msg, "checkpoint.gwm"));
    /* overwrite starts fresh */
    c.resume = 0;
    c.overwrite = 1;
    assert_int_equal(gw_trainer_run(&c, &h, NULL, &err), GW_OK);
    char buf[32];
    assert_string_equal(gw_trainer_format_duration(buf, sizeof buf, 3725), "1h02m");
    assert_string_equal(gw_trainer_format_duration(buf, sizeof buf, 65), "1m05s");
    assert_string_equal(gw_trainer_format_duration(buf, sizeof buf, 9.4), "9s");
    toy_free(&t);
    rm_run(a);
}

/* presets are searched in the folders given, in order, and nowhere else:
 * the library reads no environment (the CLI builds genwave's order) */
static void test_find_preset_in_given_folders(void **state) {
    char a[4096], b[4200], f[4300], path[4400];
    gw_error err = {0};
    gw_test_tmpdir(a, sizeof a, "find_preset");
    snprintf(b, sizeof b, "%s/b", a);
    assert_int_equal(mkdir(b, 0755), 0);
    snprintf(f, sizeof f, "%s/only-in-b.json", b);
    FILE *fp = fopen(f, "w");
    assert_non_null(fp);
    fputs("{}\n", fp);
    fclose(fp);
    const char *dirs[] = {a, NULL, "", b};
    assert_int_equal(gw_train_find_preset_in(path, sizeof path, "only-in-b", dirs, 4, &err), GW_OK);
    assert_string_equal(path, f);
    /* a file is taken as is, folders or not */
    assert_int_equal(gw_train_find_preset_in(path, sizeof path, f, NULL, 0, &err), GW_OK);
    assert_string_equal(path, f);
    assert_int_equal(gw_train_find_preset(path, sizeof path, f, &err), GW_OK);
    assert_string_equal(path, f);
    /* a NAME no folder holds names the folders searched */
    assert_int_equal(gw_train_find_preset_in(path, sizeof path, "nowhere", dirs, 4, &err),
                     GW_ERR_ARG);
    assert_non_null(strstr(err.msg, "--preset nowhere: no such preset"));
    assert_non_null(strstr(err.msg, b));
    /* a NAME with no folders is not looked for anywhere (not beside the
     * executable, not in $GW_PRESETS_DIR) */
    setenv("GW_PRESETS_DIR", b, 1);
    assert_int_equal(gw_train_find_preset(path, sizeof path, "only-in-b", &err), GW_ERR_ARG);
    unsetenv("GW_PRESETS_DIR");
    assert_int_equal(gw_train_find_preset(path, sizeof path, "/nonexistent/x.json", &err),
                     GW_ERR_IO);
    assert_int_equal(gw_train_find_preset(path, sizeof path, "", &err), GW_ERR_ARG);
    unlink(f);
    rmdir(b);
    rmdir(a);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_resume_is_bit_exact),
        cmocka_unit_test(test_sigint_checkpoints_and_resumes),
        cmocka_unit_test(test_nan_stops_and_keeps_last_checkpoint),
        cmocka_unit_test(test_denormals_flushed_in_every_thread),
        cmocka_unit_test(test_best_model_warnings_and_early_stop),
        cmocka_unit_test(test_time_limit_progress_and_plot),
        cmocka_unit_test(test_bad_configs),
        cmocka_unit_test(test_find_preset_in_given_folders),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
