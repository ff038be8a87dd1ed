/* The shared training loop (contract and behaviour: trainer.h, docs/training.md). */
#include "train/trainer.h"

#include "io/dataset.h"
#include "io/png.h"
#include "nn/blas.h"
#include "train/report.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* The one piece of process-wide state: a signal handler can reach nothing
 * else. Lock-free atomic, so setting it is async-signal-safe (C11 7.14.1.1). */
static atomic_int stop_requested;

static void on_signal(int sig) {
    /* a second Ctrl-C while the checkpoint is written means "now" */
    if (atomic_exchange(&stop_requested, 1)) {
        signal(sig, SIG_DFL);
        raise(sig);
    }
}

gw_trainer_config gw_trainer_defaults(void) {
    return (gw_trainer_config){
        .max_steps = 1000,
        .seed = 1,
        .progress_seconds = 10.0,
        .units = "examples",
        .units_per_step = 1.0,
        .handle_signals = 1,
        .write_png = 1,
        .best_figure = -1,
        .worse_patience = 3,
        .grad_figure = -1,
    };
}

double gw_train_lr_at(double lr, const int *decay_steps, int n, double factor, uint64_t step) {
    for (int i = 0; i < n && (uint64_t)decay_steps[i] <= step; i++)
        lr *= factor;
    return lr;
}

char *gw_trainer_format_duration(char *buf, size_t cap, double s) {
    if (!isfinite(s) || s < 0) {
        snprintf(buf, cap, "?");
        return buf;
    }
    long t = (long)(s + 0.5);
    if (t >= 3600)
        snprintf(buf, cap, "%ldh%02ldm", t / 3600, t / 60 % 60);
    else if (t >= 60)
        snprintf(buf, cap, "%ldm%02lds", t / 60, t % 60);
    else
        snprintf(buf, cap, "%lds", t);
    return buf;
}

static double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static gw_status check_config(const gw_trainer_config *c, const gw_trainer_hooks *h,
                              gw_error *err) {
    if (!c->run_dir || !*c->run_dir) return gw_fail(err, GW_ERR_ARG, "trainer: no run directory");
    if (strlen(c->run_dir) > 4000)
        return gw_fail(err, GW_ERR_ARG, "%.100s...: run directory path too long", c->run_dir);
    if (!h || !h->step) return gw_fail(err, GW_ERR_ARG, "trainer: no step callback");
    if (c->max_steps == 0) return gw_fail(err, GW_ERR_ARG, "trainer: max steps must be > 0");
    if (!(c->max_minutes >= 0) || !isfinite(c->max_minutes))
        return gw_fail(err, GW_ERR_ARG, "trainer: max minutes %g must be >= 0", c->max_minutes);
    if (c->threads < 0) return gw_fail(err, GW_ERR_ARG, "trainer: threads %d < 0", c->threads);
    if (c->n_figures < 1 || c->n_figures > GW_TRAINER_MAX_FIGURES || !c->figure_names)
        return gw_fail(err, GW_ERR_ARG,
                       "trainer: 1..%d step figures needed (the first is the loss)",
                       GW_TRAINER_MAX_FIGURES);
    if (c->n_val_figures < 0 || c->n_val_figures > GW_TRAINER_MAX_FIGURES ||
        (c->n_val_figures && !c->val_figure_names))
        return gw_fail(err, GW_ERR_ARG, "trainer: 0..%d validation figures",
                       GW_TRAINER_MAX_FIGURES);
    if ((c->val_every || c->val_at_start) && (!h->validate || c->n_val_figures == 0))
        return gw_fail(err, GW_ERR_ARG,
                       "trainer: validation requested without a validate callback and figures");
    for (int i = 0; i < c->n_figures + c->n_val_figures; i++) {
        const char *s =
            i < c->n_figures ? c->figure_names[i] : c->val_figure_names[i - c->n_figures];
        if (!s || !*s || strpbrk(s, ",\"\n\r"))
            return gw_fail(err, GW_ERR_ARG,
                           "trainer: figure name %d is empty or has , \" or newline", i);
    }
    if (c->best_figure >= c->n_val_figures || (c->best_figure >= 0 && !h->save_best))
        return gw_fail(err, GW_ERR_ARG,
                       "trainer: best figure %d needs a validation figure and a "
                       "save_best hook",
                       c->best_figure);
    if (c->grad_figure >= c->n_figures)
        return gw_fail(err, GW_ERR_ARG, "trainer: grad figure %d is not a step figure",
                       c->grad_figure);
    if (c->early_stop < 0 || c->worse_patience < 1 || !(c->worse_margin >= 0) ||
        !(c->val_minutes >= 0))
        return gw_fail(err, GW_ERR_ARG,
                       "trainer: early stop, patience, margin or validation "
                       "minutes out of range");
    if (c->n_groups < 0 || c->n_groups > GW_TRAINER_MAX_GROUPS)
        return gw_fail(err, GW_ERR_ARG, "trainer: 0..%d parameter groups", GW_TRAINER_MAX_GROUPS);
    for (int g = 0; g < c->n_groups; g++) {
        const gw_trainer_group *gr = &c->groups[g];
        if (!gr->params || !gr->params->data)
            return gw_fail(err, GW_ERR_ARG, "trainer: group %d has no allocated parameters", g);
        if ((gr->adam && gr->adam->params != gr->params) ||
            (gr->ema && gr->ema->params != gr->params))
            return gw_fail(err, GW_ERR_ARG, "trainer: group %d optimiser/EMA is for other params",
                           g);
    }
    return GW_OK;
}

/* ---- state of one run ---- */
typedef struct run {
    const gw_trainer_config *cfg;
    const gw_trainer_hooks *hooks;
    gw_trainer_result *res;
    gw_rng rng;
    uint64_t step;
    double elapsed_before; /* seconds of earlier sessions (from the checkpoint) */
    double t0;             /* session start */
    uint64_t step0;        /* step at session start */
    char png_path[4200];
    FILE *csv;
    int tty;
    double last_line; /* time of the last non-TTY progress line */
    double last_val;  /* time of the last validation */
    /* keeping the best and the warnings (trainer.h) */
    int since_best;   /* validations without a new best */
    int worse_streak; /* validations in a row worse than best by the margin */
    int warned_overfit, warned_untrained, warned_grad;
    double grad_base, grad_ema; /* steps 50-150 of the session; running mean after */
    int grad_n;
    int rank;                             /* dist.h: only rank 0 validates and writes */
    uint64_t params_checked, params_hash; /* the ranks' last agreement on the weights */
} run;

static double elapsed_total(const run *r) {
    return r->elapsed_before + (now_seconds() - r->t0);
}

static void csv_header(const run *r, FILE *fp) {
    const gw_trainer_config *c = r->cfg;
    fprintf(fp, "step,elapsed_s");
    for (int i = 0; i < c->n_figures; i++)
        fprintf(fp, ",%s", c->figure_names[i]);
    for (int i = 0; i < c->n_val_figures; i++)
        fprintf(fp, ",%s", c->val_figure_names[i]);
    fprintf(fp, "\n");
}

/* figs or vals NULL leave those cells empty */
static void csv_row(run *r, const double *figs, const double *vals) {
    const gw_trainer_config *c = r->cfg;
    if (!r->csv) return; /* a rank other than 0 */
    fprintf(r->csv, "%llu,%.3f", (unsigned long long)r->step, elapsed_total(r));
    for (int i = 0; i < c->n_figures; i++) {
        if (figs)
            fprintf(r->csv, ",%.9g", figs[i]);
        else
            fputc(',', r->csv);
    }
    for (int i = 0; i < c->n_val_figures; i++) {
        if (vals)
            fprintf(r->csv, ",%.9g", vals[i]);
        else
            fputc(',', r->csv);
    }
    fprintf(r->csv, "\n");
}

/* On resume the log keeps its header and the rows up to the checkpoint's
 * step: the steps after it are run again and logged again. */
static gw_status open_log(run *r, int resume, gw_error *err) {
    const char *path = r->res->log_path;
    char *expect = NULL, *data = NULL;
    size_t expect_n = 0, n = 0;
    FILE *mem = open_memstream(&expect, &expect_n);
    if (!mem) return gw_fail(err, GW_ERR_NOMEM, "%s: out of memory", path);
    csv_header(r, mem);
    fclose(mem);
    gw_status st = GW_OK;
    gw_afile af = {0};
    if (resume) {
        FILE *in = fopen(path, "rb");
        if (in) {
            FILE *buf = open_memstream(&data, &n);
            char line[8192];
            int first = 1;
            while (buf && fgets(line, sizeof line, in)) {
                if (first) {
                    if (strcmp(line, expect) != 0) {
                        st = gw_fail(err, GW_ERR_FORMAT,
                                     "%s: columns differ from this run's figures; move it away to "
                                     "resume",
                                     path);
                        break;
                    }
                    first = 0;
                    continue;
                }
                char *end;
                unsigned long long s = strtoull(line, &end, 10);
                if (end != line && *end == ',' && s <= r->step) fputs(line, buf);
            }
            fclose(in);
            if (buf) fclose(buf);
            if (!buf) st = gw_fail(err, GW_ERR_NOMEM, "%s: out of memory", path);
            if (st) goto done;
            if ((st = gw_afile_open(&af, path, err))) goto done;
            fputs(expect, af.fp);
            fwrite(data, 1, n, af.fp);
            if ((st = gw_afile_commit(&af, err))) goto done;
            r->csv = fopen(path, "ab");
            goto opened;
        }
    }
    r->csv = fopen(path, "wb");
    if (r->csv) fputs(expect, r->csv);
opened:
    if (!r->csv) st = gw_fail(err, GW_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
done:
    free(expect);
    free(data);
    return st;
}

static void plot(run *r) {
    const gw_trainer_config *c = r->cfg;
    if (!c->write_png) return;
    const char *cols[2] = {c->figure_names[0], c->n_val_figures ? c->val_figure_names[0] : NULL};
    gw_plot_style style = {.title = "training", .xlabel = "step", .ylabel = cols[0]};
    gw_error e = {0};
    fflush(r->csv);
    /* a plot is a convenience: a failure is reported, never fatal */
    if (gw_png_plot_csv(r->png_path, r->res->log_path, "step", cols, cols[1] ? 2 : 1, &style, &e) &&
        c->progress)
        fprintf(c->progress, "%s%s\n", r->tty ? "\r\033[K" : "", e.msg);
    /* RUNDIR/report.html, a page to watch the run in (train/report.h) */
    e = (gw_error){0};
    if (gw_train_report_write(c, r->res, r->step, elapsed_total(r), &e) && c->progress)
        fprintf(c->progress, "%s%s\n", r->tty ? "\r\033[K" : "", e.msg);
}

static void progress(run *r, const double *figs, const double *vals, int force) {
    const gw_trainer_config *c = r->cfg;
    if (!c->progress) return;
    double t = now_seconds();
    /* a TTY line is redrawn at most 10 times a second */
    double every = r->tty ? 0.1 : c->progress_seconds;
    if (!force && t - r->last_line < every) return;
    r->last_line = t;
    char line[2048], a[32], b[32];
    size_t k = 0;
#define PUT(...)                                                                                   \
    do {                                                                                           \
        if (k < sizeof line) k += (size_t)snprintf(line + k, sizeof line - k, __VA_ARGS__);        \
    } while (0)
    /* out of how many: the step limit, or where the time limit will stop
     * the run at this rate when that comes first */
    uint64_t of = c->max_steps;
    int approx = 0;
    if (c->max_minutes > 0 && r->step > r->step0 && t - r->t0 > 0) {
        double rate = (double)(r->step - r->step0) / (t - r->t0);
        double at_limit = (double)r->step0 + rate * c->max_minutes * 60;
        if (at_limit < (double)c->max_steps) of = (uint64_t)at_limit, approx = 1;
    }
    PUT("step %llu/%s%llu", (unsigned long long)r->step, approx ? "~" : "", (unsigned long long)of);
    for (int i = 0; figs && i < c->n_figures; i++)
        PUT("  %s %.4g", c->figure_names[i], figs[i]);
    for (int i = 0; vals && i < c->n_val_figures; i++)
        PUT("  %s %.4g", c->val_figure_names[i], vals[i]);
    double dt = t - r->t0;
    uint64_t done = r->step - r->step0;
    if (done > 0 && dt > 0) {
        double rate = (double)done / dt;
        double eta = (double)(c->max_steps - r->step) / rate;
        if (c->max_minutes > 0 && c->max_minutes * 60 - dt < eta) eta = c->max_minutes * 60 - dt;
        PUT("  %.4g %s/s  elapsed %s  ETA %s", rate * c->units_per_step, c->units,
            gw_trainer_format_duration(a, sizeof a, elapsed_total(r)),
            gw_trainer_format_duration(b, sizeof b, eta));
    }
#undef PUT
    if (r->tty)
        fprintf(c->progress, "\r\033[K%s", line);
    else
        fprintf(c->progress, "%s\n", line);
    fflush(c->progress);
}

static gw_status write_checkpoint(run *r, gw_error *err) {
    const gw_trainer_config *c = r->cfg;
    gw_gwm_writer *w = NULL;
    gw_status st;
    /* all ranks must hold the same weights and moments (dist.h): checked
     * wherever a checkpoint is taken, so a divergence never goes unseen */
    if (gw_dist_size(c->dist) > 1) {
        uint64_t h = GW_HASH_INIT;
        for (int g = 0; g < c->n_groups; g++) {
            const gw_trainer_group *gr = &c->groups[g];
            const size_t n = gr->params->total * sizeof(float);
            h = gw_hash64(h, gr->params->data, n);
            if (gr->adam) h = gw_hash64(gw_hash64(h, gr->adam->m, n), gr->adam->v, n);
            if (gr->ema) h = gw_hash64(h, gr->ema->shadow, n);
        }
        h = gw_hash64(h, r->rng.s, sizeof r->rng.s);
        static const char *what = "parameters after training (the ranks diverged)";
        if ((st = gw_dist_agree(c->dist, &h, &what, 1, err))) return st;
        r->params_checked = r->step, r->params_hash = h;
    }
    if (r->rank) return GW_OK; /* rank 0 writes the job's checkpoint */
    fflush(r->csv);
    if ((st = gw_gwm_writer_create(&w, err))) return st;
    if ((st = gw_gwm_writer_meta(w, "kind", "checkpoint", err)) ||
        (st = gw_gwm_writer_metaf(w, err, "train.step", "%llu", (unsigned long long)r->step)) ||
        (st = gw_gwm_writer_metaf(w, err, "train.seed", "%llu", (unsigned long long)c->seed)) ||
        (st = gw_gwm_writer_metaf(w, err, "train.elapsed_s", "%.3f", elapsed_total(r))) ||
        (st = gw_gwm_writer_add(w, "train.step", GW_GWM_U64, 1, (int[]){1}, &r->step, err)) ||
        (st = gw_gwm_writer_add(w, "train.rng", GW_GWM_U64, 1, (int[]){4}, r->rng.s, err)))
        goto done;
    /* what outlives a session: the untrained model's figures, the best */
    char first[GW_TRAINER_MAX_FIGURES * 26 + 1] = "";
    for (int i = 0, k = 0; i < c->n_val_figures; i++)
        k += snprintf(first + k, sizeof first - (size_t)k, "%s%.17g", i ? "," : "",
                      r->res->val_first[i]);
    if (c->n_val_figures && (st = gw_gwm_writer_meta(w, "train.val_first", first, err))) goto done;
    if (c->best_figure >= 0 && !isnan(r->res->best_value) &&
        (st = gw_gwm_writer_metaf(w, err, "train.best", "%.17g %llu %d", r->res->best_value,
                                  (unsigned long long)r->res->best_step, r->since_best)))
        goto done;
    for (int g = 0; g < c->n_groups; g++) {
        const gw_trainer_group *gr = &c->groups[g];
        const char *px = gr->prefix ? gr->prefix : "";
        if ((st = gw_gwm_writer_add_params(w, gr->params, px, err)) ||
            (gr->adam && (st = gw_adam_save(gr->adam, w, px, err))) ||
            (gr->ema && (st = gw_ema_save(gr->ema, w, px, err))))
            goto done;
    }
    if (r->hooks->save && (st = r->hooks->save(r->hooks->ctx, w, err))) goto done;
    st = gw_gwm_writer_commit(w, r->res->checkpoint_path, err);
done:
    gw_gwm_writer_free(w);
    if (!st) plot(r);
    return st;
}

static gw_status load_checkpoint(run *r, gw_error *err) {
    const gw_trainer_config *c = r->cfg;
    gw_gwm *f = NULL;
    gw_status st;
    uint64_t step, s[4];
    if ((st = gw_gwm_open(&f, r->res->checkpoint_path, err))) return st;
    if ((st = gw_gwm_read(f, "train.step", GW_GWM_U64, 1, (int[]){1}, &step, err)) ||
        (st = gw_gwm_read(f, "train.rng", GW_GWM_U64, 1, (int[]){4}, s, err)))
        goto done;
    /* the trainer's own state first: it can say what differs (another
     * preset) before a tensor's shape does */
    if (r->hooks->load && (st = r->hooks->load(r->hooks->ctx, f, err))) goto done;
    for (int g = 0; g < c->n_groups; g++) {
        const gw_trainer_group *gr = &c->groups[g];
        const char *px = gr->prefix ? gr->prefix : "";
        if ((st = gw_gwm_load_params(f, gr->params, px, err)) ||
            (gr->adam && (st = gw_adam_load(gr->adam, f, px, err))) ||
            (gr->ema && (st = gw_ema_load(gr->ema, f, px, err))))
            goto done;
    }
    double el = 0;
    if (gw_gwm_meta_f64(f, "train.elapsed_s", &el, NULL) == GW_OK && el >= 0)
        r->elapsed_before = el;
    const char *first = gw_gwm_meta(f, "train.val_first"), *best = gw_gwm_meta(f, "train.best");
    for (int i = 0; first && i < c->n_val_figures; i++) {
        char *end;
        r->res->val_first[i] = strtod(first, &end);
        first = *end == ',' ? end + 1 : NULL;
    }
    unsigned long long bs;
    if (best && sscanf(best, "%lf %llu %d", &r->res->best_value, &bs, &r->since_best) == 3) {
        r->res->best_step = bs;
        snprintf(r->res->best_path, sizeof r->res->best_path, "%s/best.gwm", c->run_dir);
    }
    r->step = step;
    memcpy(r->rng.s, s, sizeof s);
done:
    gw_gwm_free(f);
    return st;
}

/* a warning line on the progress stream (and in the result) */
static void warn(run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void warn(run *r, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->res->warning, sizeof r->res->warning, fmt, ap);
    va_end(ap);
    r->res->warnings++;
    if (r->cfg->progress) {
        fprintf(r->cfg->progress, "%swarning: %s\n", r->tty ? "\r\033[K" : "", r->res->warning);
        fflush(r->cfg->progress);
    }
}

/* keeping the best and watching for overfitting (trainer.h) */
static gw_status judge(run *r, const double *vals, gw_error *err) {
    const gw_trainer_config *c = r->cfg;
    gw_trainer_result *res = r->res;
    const int b = c->best_figure;
    if (b < 0 || !isfinite(vals[b])) return GW_OK;
    const char *name = c->val_figure_names[b];
    const double v = vals[b], sign = c->best_higher ? -1.0 : 1.0; /* sign * (v - best) > 0: worse */
    if (isnan(res->best_value) || sign * (v - res->best_value) < 0) {
        res->best_value = v, res->best_step = r->step;
        r->since_best = r->worse_streak = r->warned_overfit = 0;
        char path[4200];
        snprintf(path, sizeof path, "%s/best.gwm", c->run_dir);
        res->steps = r->step;
        gw_status st = r->hooks->save_best(r->hooks->ctx, path, res, err);
        if (st) return st;
        snprintf(res->best_path, sizeof res->best_path, "%s", path);
        return GW_OK;
    }
    r->since_best++;
    r->worse_streak = sign * (v - res->best_value) > c->worse_margin ? r->worse_streak + 1 : 0;
    if (r->worse_streak >= c->worse_patience && !r->warned_overfit) {
        warn(r,
             "overfitting: held-out %s %.4g vs best %.4g at step %llu, worse for %d "
             "validations; best.gwm keeps that model (more data, a smaller preset or "
             "--early-stop helps)",
             name, v, res->best_value, (unsigned long long)res->best_step, r->worse_streak);
        r->warned_overfit = 1;
    }
    const double first = res->val_first[b];
    if (r->step > 0 && isfinite(first) && sign * (v - first) > 0 && !r->warned_untrained) {
        warn(r,
             "held-out %s %.4g is worse than the untrained model's %.4g; best.gwm is from "
             "step %llu",
             name, v, first, (unsigned long long)res->best_step);
        r->warned_untrained = 1;
    }
    return GW_OK;
}

static gw_status validate(run *r, double *vals, gw_error *err) {
    const gw_trainer_config *c = r->cfg;
    if (r->rank) { /* rank 0 validates for the job */
        for (int i = 0; i < c->n_val_figures; i++)
            vals[i] = NAN;
        return GW_OK;
    }
    gw_status st = r->hooks->validate(r->hooks->ctx, r->step, vals, err);
    if (st) return st;
    r->last_val = now_seconds();
    for (int i = 0; i < c->n_val_figures; i++) {
        r->res->val_figures[i] = vals[i];
        if (isnan(r->res->val_first[i])) r->res->val_first[i] = vals[i];
    }
    return judge(r, vals, err);
}

/* the gradient norm's running mean against that of steps 50-150 */
static void watch_gradient(run *r, const double *figs) {
    const gw_trainer_config *c = r->cfg;
    if (c->grad_figure < 0 || !isfinite(figs[c->grad_figure])) return;
    const double g = figs[c->grad_figure];
    const uint64_t k = r->step - r->step0;
    if (k >= 50 && k < 150) {
        r->grad_base += g, r->grad_n++;
        if (k == 149) r->grad_base /= r->grad_n, r->grad_ema = r->grad_base;
        return;
    }
    if (k < 150 || !(r->grad_base > 0)) return;
    r->grad_ema = 0.99 * r->grad_ema + 0.01 * g;
    if (r->grad_ema > 10.0 * r->grad_base && !r->warned_grad) {
        warn(r,
             "the gradient norm is running away: %.3g on average now, %.3g at steps 50-150 of "
             "this session; a lower learning rate (train.lr) helps",
             r->grad_ema, r->grad_base);
        r->warned_grad = 1;
    }
}

static int all_finite_loss(const double *figs) {
    return isfinite(figs[0]);
}

/* the loop proper; signals are installed around it by gw_trainer_run */
static gw_status loop(run *r, gw_error *err) {
    const gw_trainer_config *c = r->cfg;
    gw_trainer_result *res = r->res;
    double figs[GW_TRAINER_MAX_FIGURES], vals[GW_TRAINER_MAX_FIGURES];
    gw_status st;
    if (c->val_at_start && r->step == 0) {
        if ((st = validate(r, vals, err))) return st;
        csv_row(r, NULL, vals);
        progress(r, NULL, vals, 1);
    }
    while (r->step < c->max_steps) {
        st = r->hooks->step(r->hooks->ctx, r->step, &r->rng, figs, err);
        /* the job's figures: every rank's share of the batch, averaged */
        if (!st && c->dist) st = gw_dist_mean_f64(c->dist, figs, (size_t)c->n_figures, err);
        if (st == GW_ERR_NUMERIC || (!st && !all_finite_loss(figs))) {
            res->stop = GW_TRAINER_STOP_NUMERIC;
            if (!st) {
                r->step++;
                csv_row(r, figs, NULL);
                r->step--;
            }
            if (r->csv) fflush(r->csv);
            char why[GW_ERROR_MSG_MAX];
            if (st)
                snprintf(why, sizeof why, "%s", err ? err->msg : "non-finite value");
            else
                snprintf(why, sizeof why, "%s is %g", c->figure_names[0], figs[0]);
            return gw_fail(err, GW_ERR_NUMERIC,
                           "step %llu: %s; stopped, last good checkpoint %s left untouched",
                           (unsigned long long)r->step + 1, why, res->checkpoint_path);
        }
        if (st) return st;
        r->step++;
        memcpy(res->figures, figs, sizeof(double) * (size_t)c->n_figures);
        watch_gradient(r, figs);
        const double now = now_seconds();
        int is_last = r->step == c->max_steps;
        int time_up = c->max_minutes > 0 && now - r->t0 >= c->max_minutes * 60;
        int stop = atomic_load(&stop_requested);
        int val_due = c->val_minutes > 0 && now - r->last_val >= c->val_minutes * 60;
        int do_val =
            (c->val_every || c->val_minutes > 0) && r->hooks->validate && c->n_val_figures &&
            ((c->val_every && r->step % c->val_every == 0) || val_due || is_last || time_up);
        if (do_val) {
            if ((st = validate(r, vals, err))) return st;
        }
        int early = do_val && c->early_stop && r->since_best >= c->early_stop;
        if (c->dist) { /* rank 0's clock, signal and judgement decide for the job */
            uint64_t flags = (uint64_t)time_up | (uint64_t)stop << 1 | (uint64_t)do_val << 2 |
                             (uint64_t)early << 3;
            if ((st = gw_dist_bcast_u64(c->dist, &flags, 1, err))) return st;
            time_up = flags & 1, stop = flags >> 1 & 1, do_val = flags >> 2 & 1;
            early = flags >> 3 & 1;
        }
        csv_row(r, figs, do_val ? vals : NULL);
        progress(r, figs, do_val ? vals : NULL, do_val || is_last);
        if (time_up && !is_last) {
            res->stop = GW_TRAINER_STOP_TIME;
            break;
        }
        if (stop && !is_last) {
            res->stop = GW_TRAINER_STOP_SIGNAL;
            break;
        }
        if (early && !is_last) {
            res->stop = GW_TRAINER_STOP_EARLY;
            if (c->progress)
                fprintf(c->progress,
                        "%searly stop: no better held-out %s for %d validations "
                        "(best %.4g at step %llu)\n",
                        r->tty ? "\r\033[K" : "", c->val_figure_names[c->best_figure],
                        r->since_best, res->best_value, (unsigned long long)res->best_step);
            break;
        }
        if (c->checkpoint_every && r->step % c->checkpoint_every == 0 && !is_last &&
            (st = write_checkpoint(r, err)))
            return st;
    }
    if ((st = write_checkpoint(r, err))) return st;
    if (res->stop == GW_TRAINER_STOP_SIGNAL)
        return gw_fail(err, GW_ERR_INTERRUPTED,
                       "interrupted after step %llu; checkpoint %s written (resume with --resume)",
                       (unsigned long long)r->step, res->checkpoint_path);
    return GW_OK;
}

/* every rank must run the same job (dist.h): the caller's hashes (preset,
 * data) and what the loop itself knows */
static gw_status agree(const gw_trainer_config *c, gw_error *err) {
    if (gw_dist_size(c->dist) == 1) return GW_OK;
    uint64_t h[4 + 4];
    const char *what[4 + 4];
    int n = 0;
    h[n] = c->seed, what[n++] = "seed";
    h[n] = c->max_steps ^ (uint64_t)c->resume << 63, what[n++] = "steps or --resume";
    uint64_t shapes = 0;
    for (int g = 0; g < c->n_groups; g++)
        shapes = gw_mix64(shapes ^ c->groups[g].params->numel);
    h[n] = shapes, what[n++] = "model's parameter count";
    for (int i = 0; i < c->n_agree && i < 4; i++)
        h[n] = c->agree[i], what[n++] = c->agree_what[i] ? c->agree_what[i] : "configuration";
    return gw_dist_agree(c->dist, h, what, n, err);
}

static gw_status train(const gw_trainer_config *cfg, const gw_trainer_hooks *hooks,
                       gw_trainer_result *res, gw_error *err) {
    gw_trainer_result local;
    if (!res) res = &local;
    memset(res, 0, sizeof *res);
    res->stop = GW_TRAINER_STOP_ERROR;
    for (int i = 0; i < GW_TRAINER_MAX_FIGURES; i++)
        res->figures[i] = res->val_figures[i] = res->val_first[i] = NAN;
    res->best_value = NAN;
    gw_status st = check_config(cfg, hooks, err);
    if (st) return st;
    if ((st = agree(cfg, err))) return st;
    /* ranks other than 0 print and plot nothing (dist.h) */
    gw_trainer_config local_cfg = *cfg;
    const int rank = gw_dist_rank(cfg->dist);
    if (rank) local_cfg.progress = NULL, local_cfg.write_png = 0, local_cfg.intro = NULL;
    cfg = &local_cfg;
    run r = {.cfg = cfg, .hooks = hooks, .res = res, .rank = rank};
    snprintf(res->checkpoint_path, sizeof res->checkpoint_path, "%s/checkpoint.gwm", cfg->run_dir);
    snprintf(res->log_path, sizeof res->log_path, "%s/log.csv", cfg->run_dir);
    snprintf(r.png_path, sizeof r.png_path, "%s/loss.png", cfg->run_dir);
    r.tty = cfg->progress && isatty(fileno(cfg->progress));
    gw_rng_seed(&r.rng, cfg->seed);

    int have_ck = access(res->checkpoint_path, F_OK) == 0;
    if (cfg->resume) {
        if (!have_ck)
            return gw_fail(err, GW_ERR_ARG, "%s: no checkpoint to resume from",
                           res->checkpoint_path);
        if ((st = load_checkpoint(&r, err))) return st;
        res->resumed_from = r.step;
        if (cfg->progress)
            fprintf(cfg->progress, "resumed from step %llu of %llu (%s)\n",
                    (unsigned long long)r.step, (unsigned long long)cfg->max_steps,
                    res->checkpoint_path);
    } else if (have_ck && !cfg->overwrite) {
        return gw_fail(err, GW_ERR_ARG,
                       "%s: the run directory already holds a checkpoint; resume it with --resume "
                       "or choose another output directory",
                       res->checkpoint_path);
    }
    if (cfg->progress && cfg->intro) fputs(cfg->intro, cfg->progress);
    if (cfg->progress && cfg->n_groups) {
        size_t n = 0;
        for (int g = 0; g < cfg->n_groups; g++)
            n += cfg->groups[g].params->numel;
        fprintf(cfg->progress, "training %zu parameters in %d group%s\n", n, cfg->n_groups,
                cfg->n_groups == 1 ? "" : "s");
    }
    if (cfg->progress && gw_dist_size(cfg->dist) > 1)
        fprintf(cfg->progress,
                "data-parallel on %d ranks (MPI): each computes 1/%d of every batch; rank 0 "
                "validates and writes %s\n",
                gw_dist_size(cfg->dist), gw_dist_size(cfg->dist), cfg->run_dir);
    if (!rank) {
        gw_afile_clean_stale(cfg->run_dir); /* checkpoints a killed run left half-written */
        /* only now: a refused --resume must not leave an empty run directory behind */
        if ((st = gw_mkdirs(cfg->run_dir, "run directory", err))) return st;
        if ((st = open_log(&r, cfg->resume, err))) return st;
    }
    /* every rank's optimisers average the job's gradients (dist.h) */
    for (int g = 0; g < cfg->n_groups && gw_dist_size(cfg->dist) > 1; g++)
        if (cfg->groups[g].adam) {
            cfg->groups[g].adam->reduce = gw_dist_reduce_grads;
            cfg->groups[g].adam->reduce_ctx = cfg->dist;
        }

    struct sigaction sa = {0}, old_int, old_term;
    if (cfg->handle_signals) {
        sa.sa_handler = on_signal;
        sigemptyset(&sa.sa_mask);
        sa.sa_flags = SA_RESTART;
        sigaction(SIGINT, &sa, &old_int);
        sigaction(SIGTERM, &sa, &old_term);
    }
    atomic_store(&stop_requested, 0);
    r.t0 = r.last_line = r.last_val = now_seconds();
    r.step0 = r.step;

    st = loop(&r, err);

    if (cfg->handle_signals) {
        sigaction(SIGINT, &old_int, NULL);
        sigaction(SIGTERM, &old_term, NULL);
    }
    atomic_store(&stop_requested, 0);
    for (int g = 0; g < cfg->n_groups; g++)
        if (cfg->groups[g].adam) cfg->groups[g].adam->reduce = NULL;
    if (r.csv && fclose(r.csv) != 0 && !st)
        st = gw_fail(err, GW_ERR_IO, "%s: write failed: %s", res->log_path, strerror(errno));
    if (cfg->progress && r.tty) fprintf(cfg->progress, "\n");
    if (cfg->progress && r.params_checked)
        fprintf(cfg->progress,
                "%d ranks held bit-identical weights, moments and rng at step %llu (hash "
                "%016llx)\n",
                gw_dist_size(cfg->dist), (unsigned long long)r.params_checked,
                (unsigned long long)r.params_hash);
    res->steps = r.step;
    res->seconds = now_seconds() - r.t0;
    if (res->seconds > 0)
        res->units_per_second = (double)(r.step - r.step0) * cfg->units_per_step / res->seconds;
    if (!st && res->stop == GW_TRAINER_STOP_ERROR) res->stop = GW_TRAINER_STOP_STEPS;
    if (st && res->stop != GW_TRAINER_STOP_SIGNAL && res->stop != GW_TRAINER_STOP_NUMERIC)
        res->stop = GW_TRAINER_STOP_ERROR;
    return st;
}

gw_status gw_trainer_run(const gw_trainer_config *cfg, const gw_trainer_hooks *hooks,
                         gw_trainer_result *res, gw_error *err) {
    /* Denormals off on this thread and in OpenBLAS's workers for the whole
     * run (threads the hooks start inherit the mode): Adam's second moments
     * decay into them, and on Intel a trained model's steps ran 3.5x slower
     * than a fresh one's until they were flushed. */
    const unsigned fp_mode = gw_blas_setup(cfg ? cfg->threads : 0);
    gw_status st = train(cfg, hooks, res, err);
    gw_denormals_restore(fp_mode);
    return st;
}

/* ---- presets ---------------------------------------------------------------- */

static int is_file(const char *p) {
    struct stat st;
    return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

gw_status gw_train_find_preset_in(char *path, size_t cap, const char *name, const char *const *dirs,
                                  int n_dirs, gw_error *err) {
    if (!name || !*name) return gw_fail(err, GW_ERR_ARG, "--preset: empty name");
    size_t len = strlen(name);
    int looks_like_file = strchr(name, '/') || (len > 5 && !strcmp(name + len - 5, ".json"));
    if (is_file(name) || looks_like_file) {
        if (!is_file(name)) return gw_fail(err, GW_ERR_IO, "%s: preset file not found", name);
        snprintf(path, cap, "%s", name);
        return GW_OK;
    }
    /* the folders searched, for the message: "A, B, C" (cut short at the
     * message's length) */
    char where[GW_ERROR_MSG_MAX] = "";
    size_t used = 0;
    for (int i = 0; i < n_dirs; i++) {
        if (!dirs[i] || !*dirs[i]) continue;
        snprintf(path, cap, "%s/%s.json", dirs[i], name);
        if (is_file(path)) return GW_OK;
        if (used < sizeof where) {
            int w = snprintf(where + used, sizeof where - used, "%s%s", used ? ", " : "", dirs[i]);
            used += w > 0 ? (size_t)w : 0;
        }
    }
    if (cap) *path = 0;
    if (!used)
        return gw_fail(err, GW_ERR_ARG,
                       "--preset %s: no such preset file (a bare NAME needs presets folders to "
                       "search; give a path to a .json file)",
                       name);
    return gw_fail(err, GW_ERR_ARG, "--preset %s: no such preset (looked for %s.json in %s)", name,
                   name, where);
}

gw_status gw_train_find_preset(char *path, size_t cap, const char *file, gw_error *err) {
    return gw_train_find_preset_in(path, cap, file, NULL, 0, err);
}

void gw_train_git_commit(char *out, size_t cap) {
    snprintf(out, cap, "unknown");
    FILE *p = popen("git rev-parse HEAD 2>/dev/null", "r");
    if (!p) return;
    char line[128] = "";
    if (fgets(line, sizeof line, p)) {
        line[strcspn(line, "\r\n")] = 0;
        size_t n = strlen(line);
        int hex = n == 40;
        for (size_t i = 0; i < n && hex; i++)
            hex = strchr("0123456789abcdef", line[i]) != NULL;
        if (hex) snprintf(out, cap, "%s", line);
    }
    pclose(p);
}

uint64_t gw_train_hash_file(const char *path) {
    FILE *f = path ? fopen(path, "rb") : NULL;
    if (!f) return 0;
    uint64_t h = GW_HASH_INIT;
    char buf[8192];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        h = gw_hash64(h, buf, n);
    fclose(f);
    return h;
}

gw_status gw_train_auto_preset(char *name, size_t cap, char *why, size_t why_cap, const char *kind,
                               const gw_dataset_report *r, gw_error *err) {
    const double minutes = r->usable_seconds / 60.0;
    const char *pick, *because;
    if (!strcmp(kind, "wavenet")) {
        if (2 * r->n_labelled < r->n_ok)
            pick = "wavenet-small", because = "mostly without note labels: an unconditioned model";
        else if (minutes < 30)
            pick = "wavenet-small-data", because = "under 30 minutes: a small folder";
        else
            pick = "wavenet-default-harmonic", because = "30 minutes or more";
    } else if (!strcmp(kind, "gan")) {
        if (r->n_ok < 500)
            pick = "specgan-small-data", because = "under 500 files: a small folder";
        else
            pick = "specgan-small", because = "500 files or more";
    } else if (!strcmp(kind, "vae")) {
        pick = "specvae-small", because = "any size";
    } else if (!strcmp(kind, "pixelcnn")) {
        pick = "pixelcnn-small", because = "any size";
    } else {
        return gw_fail(err, GW_ERR_ARG, "--preset auto: unknown model kind '%s'", kind);
    }
    snprintf(name, cap, "%s", pick);
    if (why)
        snprintf(why, why_cap, "--preset auto: %s (%zu usable files, %zu with notes, %.1f min; %s)",
                 pick, r->n_ok, r->n_labelled, minutes, because);
    return GW_OK;
}
