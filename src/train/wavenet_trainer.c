/* wavenet_trainer.c - `genwave train wavenet`: data windows, validation in
 * bits per sample, the final model with provenance (see wavenet_trainer.h). */
#include "train/wavenet_trainer.h"

#include "dsp/gw_dsp.h"
#include "io/audio.h"
#include "io/json.h"
#include "models/wavenet_file.h"
#include "nn/optim.h"
#include "train/augment.h"
#include "train/trainer.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- data windows ------------------------------------------------------------ */

/* a clip's conditioning: unlabelled clips play note 60 at velocity 100 */
static void clip_cond(float *cond, const gw_wavenet_config *cfg, const gw_clip *c) {
    float note = c->note >= 0 ? (float)c->note : 60.0f;
    float vel = c->velocity > 0 ? (float)c->velocity : 100.0f;
    gw_wavenet_cond_features(cfg, cond, note, vel / 127.0f, 0);
}

void gw_wavenet_draw_windows(uint8_t *window, float *cond, const gw_dataset *ds, const size_t *pool,
                             size_t n_pool, const gw_wavenet_config *cfg, int B, int W,
                             const gw_wavenet_draw_opts *opts, gw_rng *rng, float *scratch) {
    size_t clip[64];
    const int rf = gw_wavenet_receptive_field(cfg);
    const gw_wavenet_draw_opts none = {0};
    if (!opts) opts = &none;
    for (int b0 = 0; b0 < B; b0 += 64) {
        int nb = B - b0 < 64 ? B - b0 : 64;
        gw_dataset_random_windows(scratch + (size_t)b0 * W, clip, ds, pool, n_pool, (size_t)nb,
                                  (size_t)W, (size_t)rf, opts->onset_share, (size_t)(W - rf) / 4,
                                  rng);
        for (int b = 0; cond && cfg->cond_dim > 0 && b < nb; b++)
            clip_cond(cond + (size_t)(b0 + b) * cfg->cond_dim, cfg, &ds->clips[clip[b]]);
    }
    if (opts->gain_db > 0) gw_augment_gain(scratch, B, (size_t)W, opts->gain_db, rng);
    for (size_t i = 0; i < (size_t)B * W; i++)
        window[i] = gw_mulaw_encode(scratch[i]);
}

void gw_wavenet_draw_windows_bands(float *window, float *cond, const gw_dataset *const *bands,
                                   const size_t *pool, size_t n_pool, const gw_wavenet_config *cfg,
                                   int B, int W, const gw_wavenet_draw_opts *opts, gw_rng *rng,
                                   float *scratch) {
    const int NB = cfg->bands, rf = gw_wavenet_receptive_field(cfg);
    const gw_wavenet_draw_opts none = {0};
    if (!opts) opts = &none;
    size_t clip[64];
    gw_rng start = *rng, r = start;
    for (int k = 0; k < NB; k++) {
        r = start; /* every band draws the same positions */
        for (int b0 = 0; b0 < B; b0 += 64) {
            int nb = B - b0 < 64 ? B - b0 : 64;
            gw_dataset_random_windows(scratch + (size_t)b0 * W, clip, bands[k], pool, n_pool,
                                      (size_t)nb, (size_t)W, (size_t)rf, opts->onset_share,
                                      (size_t)(W - rf) / 4, &r);
            for (int b = 0; k == 0 && cond && cfg->cond_dim > 0 && b < nb; b++)
                clip_cond(cond + (size_t)(b0 + b) * cfg->cond_dim, cfg, &bands[0]->clips[clip[b]]);
        }
        for (size_t i = 0; i < (size_t)B * W; i++)
            window[i * NB + k] = scratch[i];
    }
    *rng = r;
    if (opts->gain_db > 0) gw_augment_gain(window, B, (size_t)W * NB, opts->gain_db, rng);
}

gw_status gw_wavenet_band_data_create(gw_wavenet_band_data **out, const gw_dataset *ds, int bands,
                                      gw_error *err) {
    *out = NULL;
    gw_wavenet_band_data *bd = calloc(1, sizeof *bd);
    gw_pqmf *pq = NULL;
    gw_status st = GW_OK;
    if (!bd) return gw_fail(err, GW_ERR_NOMEM, "band data: out of memory");
    if ((st = gw_pqmf_create(&pq, bands, err))) goto fail;
    size_t frames = 0, longest = 0;
    for (size_t i = 0; i < ds->n_clips; i++) {
        size_t f = (ds->clips[i].n + (size_t)bands - 1) / (size_t)bands;
        frames += f;
        if (ds->clips[i].n > longest) longest = ds->clips[i].n;
    }
    bd->clips = malloc((ds->n_clips ? ds->n_clips : 1) * sizeof *bd->clips);
    bd->planes = malloc((frames ? frames : 1) * (size_t)bands * sizeof(float));
    float *tmp =
        malloc(((longest + (size_t)bands - 1) / (size_t)bands + 1) * (size_t)bands * sizeof(float));
    if (!bd->clips || !bd->planes || !tmp) {
        free(tmp);
        st = gw_fail(err, GW_ERR_NOMEM, "band data: out of memory for %zu frames", frames);
        goto fail;
    }
    size_t at = 0;
    for (size_t i = 0; i < ds->n_clips; i++) {
        gw_clip c = ds->clips[i];
        size_t f = (c.n + (size_t)bands - 1) / (size_t)bands;
        /* each clip from its own start (before it: silence, as the windows see it) */
        gw_pqmf_analysis(pq, tmp, ds->audio + c.offset, c.n);
        for (int k = 0; k < bands; k++)
            for (size_t j = 0; j < f; j++) {
                float v = tmp[j * (size_t)bands + (size_t)k];
                bd->planes[(size_t)k * frames + at + j] = v == v ? v : 0.0f;
            }
        c.offset = at;
        c.n = f;
        c.valid = (c.valid + (size_t)bands - 1) / (size_t)bands;
        bd->clips[i] = c;
        at += f;
    }
    free(tmp);
    for (int k = 0; k < bands; k++) {
        bd->view[k] = *ds;
        bd->view[k].sample_rate = ds->sample_rate / bands;
        bd->view[k].audio = bd->planes + (size_t)k * frames;
        bd->view[k].audio_n = frames;
        bd->view[k].clips = bd->clips;
        bd->ptr[k] = &bd->view[k];
    }
    gw_pqmf_free(pq);
    *out = bd;
    return GW_OK;
fail:
    gw_pqmf_free(pq);
    gw_wavenet_band_data_free(bd);
    return st;
}

void gw_wavenet_band_peak(float *peak, const gw_wavenet_band_data *bd, const size_t *pool,
                          size_t n_pool) {
    for (int k = 0; k < GW_WAVENET_MAX_BANDS && bd->ptr[k]; k++) {
        float p = 0;
        for (size_t i = 0; i < n_pool; i++) {
            const gw_clip *c = &bd->clips[pool[i]];
            const float *x = bd->view[k].audio + c->offset;
            for (size_t j = 0; j < c->n; j++)
                p = fmaxf(p, fabsf(x[j]));
        }
        peak[k] = p;
    }
}

void gw_wavenet_band_data_scale(gw_wavenet_band_data *bd, const float *gain) {
    for (int k = 0; k < GW_WAVENET_MAX_BANDS && bd->ptr[k]; k++) {
        float *x = bd->planes + (size_t)k * bd->view[k].audio_n;
        const float inv = gain[k] > 0 ? 1.0f / gain[k] : 1.0f;
        for (size_t j = 0; j < bd->view[k].audio_n; j++) {
            float v = x[j] * inv;
            if (v > 1.0f || v < -1.0f) v = v > 0 ? 1.0f : -1.0f;
            x[j] = v;
        }
    }
}

void gw_wavenet_band_rms(float *rms, const gw_wavenet_band_data *bd, const size_t *pool,
                         size_t n_pool) {
    for (int k = 0; k < GW_WAVENET_MAX_BANDS && bd->ptr[k]; k++) {
        double sum = 0, n = 0;
        for (size_t i = 0; i < n_pool; i++) {
            const gw_clip *c = &bd->clips[pool[i]];
            const float *x = bd->view[k].audio + c->offset;
            for (size_t j = 0; j < c->n; j++)
                sum += (double)x[j] * x[j];
            n += (double)c->n;
        }
        rms[k] = n > 0 ? (float)sqrt(sum / n) : 0.0f;
    }
}

void gw_wavenet_band_data_free(gw_wavenet_band_data *bd) {
    if (!bd) return;
    free(bd->clips);
    free(bd->planes);
    free(bd);
}

/* ---- the run ------------------------------------------------------------------ */

/* training settings from the preset's "train" object; CLI values win */
enum { MAX_LR_DECAYS = 16, MAX_SHIFTS = 8 };

typedef struct train_settings {
    long steps;
    int batch, targets, val_every, checkpoint_every;
    double lr, clip_norm, input_noise;
    int lr_decay_steps[MAX_LR_DECAYS], n_lr_decays; /* ascending */
    /* small folders (augment.h, docs/training-your-own-sounds.md) */
    int pitch_shift[MAX_SHIFTS], n_pitch_shifts; /* semitones */
    double gain_db, weight_decay, onset_share;
    double lr_decay_factor;
    double ema_decay; /* 0: off; else the weights' exponential moving average */
    /* input_noise per band of a band model, as multiples of input_noise
     * (0: that band clean); none given: 1 for every band */
    double input_noise_bands[GW_WAVENET_MAX_BANDS];
    int n_input_noise_bands;
} train_settings;

static gw_status read_train_settings(train_settings *s, const char *path, gw_error *err) {
    cJSON *root = NULL;
    gw_status st = gw_json_load(&root, path, err);
    if (st) return st;
    static const char *const keys[] = {"steps",          "batch",
                                       "targets",        "lr",
                                       "val_every",      "checkpoint_every",
                                       "clip_norm",      "input_noise",
                                       "lr_decay_steps", "lr_decay_factor",
                                       "pitch_shift",    "gain_db",
                                       "weight_decay",   "onset_share",
                                       "ema_decay",      "input_noise_bands"};
    int steps = 2000;
    const cJSON *tr = gw_json_find(root, "train");
    if (tr && !cJSON_IsObject(tr))
        st = gw_fail(err, GW_ERR_FORMAT, "%s: key 'train' must be an object", path);
    if (!st && tr)
        st = gw_json_check_keys(root, "train", keys, (int)(sizeof keys / sizeof *keys), path, err);
    if (!st) st = gw_json_int(&steps, root, "train.steps", 1, 1000000000, 1, 2000, path, err);
    if (!st) st = gw_json_int(&s->batch, root, "train.batch", 1, 4096, 1, 4, path, err);
    if (!st) st = gw_json_int(&s->targets, root, "train.targets", 1, 1 << 20, 1, 4096, path, err);
    if (!st) st = gw_json_num(&s->lr, root, "train.lr", 1e-7, 1.0, 1, 1e-3, path, err);
    if (!st)
        st = gw_json_int(&s->val_every, root, "train.val_every", 1, 1 << 30, 1, 200, path, err);
    if (!st)
        st = gw_json_int(&s->checkpoint_every, root, "train.checkpoint_every", 1, 1 << 30, 1, 500,
                         path, err);
    if (!st) st = gw_json_num(&s->clip_norm, root, "train.clip_norm", 0, 1e6, 1, 1.0, path, err);
    if (!st) st = gw_json_num(&s->input_noise, root, "train.input_noise", 0, 1, 1, 0.0, path, err);
    s->n_lr_decays = 0;
    if (!st && gw_json_find(root, "train.lr_decay_steps"))
        st = gw_json_int_array(s->lr_decay_steps, &s->n_lr_decays, MAX_LR_DECAYS, root,
                               "train.lr_decay_steps", 1, 1000000000, path, err);
    for (int i = 1; !st && i < s->n_lr_decays; i++)
        if (s->lr_decay_steps[i] <= s->lr_decay_steps[i - 1])
            st = gw_fail(err, GW_ERR_FORMAT, "%s: train.lr_decay_steps must ascend (%d after %d)",
                         path, s->lr_decay_steps[i], s->lr_decay_steps[i - 1]);
    if (!st)
        st = gw_json_num(&s->lr_decay_factor, root, "train.lr_decay_factor", 1e-6, 1.0, 1, 0.25,
                         path, err);
    s->n_pitch_shifts = 0;
    if (!st && gw_json_find(root, "train.pitch_shift"))
        st = gw_json_int_array(s->pitch_shift, &s->n_pitch_shifts, MAX_SHIFTS, root,
                               "train.pitch_shift", -12, 12, path, err);
    for (int i = 0; !st && i < s->n_pitch_shifts; i++)
        if (!s->pitch_shift[i])
            st = gw_fail(err, GW_ERR_FORMAT, "%s: train.pitch_shift lists 0 (no shift)", path);
    if (!st) st = gw_json_num(&s->gain_db, root, "train.gain_db", 0, 24, 1, 0.0, path, err);
    if (!st)
        st = gw_json_num(&s->weight_decay, root, "train.weight_decay", 0, 1, 1, 0.0, path, err);
    if (!st) st = gw_json_num(&s->onset_share, root, "train.onset_share", 0, 1, 1, 0.0, path, err);
    if (!st)
        st = gw_json_num(&s->ema_decay, root, "train.ema_decay", 0, 0.999999, 1, 0.0, path, err);
    s->n_input_noise_bands = 0;
    if (!st && gw_json_find(root, "train.input_noise_bands"))
        st = gw_json_num_array(s->input_noise_bands, &s->n_input_noise_bands, GW_WAVENET_MAX_BANDS,
                               root, "train.input_noise_bands", 0, 4, path, err);
    s->steps = steps;
    cJSON_Delete(root);
    return st;
}

/* ---- held-out windows ------------------------------------------------------
 * A fixed set of windows drawn once, from a seed of their own: the trainer's
 * validation (the held-out side), --val-data (every clip of another folder)
 * and genwave eval, which draws either set again and so gives the figure the
 * model file records. */
typedef struct wn_val_set {
    int batches, B, W;
    uint8_t *window; // (batches, B, W): classes; NULL for a band model
    float *bwindow;  // (batches, B, W, bands): band values, or NULL
    float *cond;     // (batches, B, C_g), or NULL without conditioning
    float *mel;      // (batches, B, W - 1, n_mels): a vocoder's, or NULL
} wn_val_set;

static void val_set_free(wn_val_set *s) {
    free(s->window), free(s->bwindow), free(s->cond), free(s->mel);
    memset(s, 0, sizeof *s);
}

/* s: batches x B windows of W from the n_pool clips of pool, of the bands
 * where the model has them (bands not NULL), else of ds, drawn with rng;
 * melfx (a vocoder's, or NULL) gives each window its mel rows; scratch
 * (B, W) */
static gw_status val_set_draw(wn_val_set *s, const gw_wavenet_config *c, const gw_dataset *ds,
                              const gw_wavenet_band_data *bands, gw_wavenet_mel *melfx,
                              const size_t *pool, size_t n_pool, int batches, int B, int W,
                              gw_rng *rng, float *scratch, const char *who, gw_error *err) {
    memset(s, 0, sizeof *s);
    s->batches = batches, s->B = B, s->W = W;
    const size_t bw = (size_t)B * W, cg = c->cond_dim > 0 ? (size_t)c->cond_dim : 0;
    const size_t T_in = (size_t)W - 1, M = melfx ? (size_t)c->n_mels : 0;
    if (bands)
        s->bwindow = malloc(bw * batches * c->bands * sizeof(float));
    else
        s->window = malloc(bw * batches);
    if (cg) s->cond = malloc((size_t)batches * B * cg * sizeof(float));
    if (M) s->mel = malloc((size_t)batches * B * T_in * M * sizeof(float));
    if ((!s->bwindow && !s->window) || (cg && !s->cond) || (M && !s->mel)) {
        val_set_free(s);
        return gw_fail(err, GW_ERR_NOMEM, "%s: out of memory for %d held-out windows of %d", who,
                       batches * B, W);
    }
    for (int v = 0; v < batches; v++) {
        float *vc = cg ? s->cond + (size_t)v * B * cg : NULL;
        if (bands) {
            gw_wavenet_draw_windows_bands(s->bwindow + (size_t)v * bw * c->bands, vc, bands->ptr,
                                          pool, n_pool, c, B, W, NULL, rng, scratch);
            continue;
        }
        gw_wavenet_draw_windows(s->window + (size_t)v * bw, vc, ds, pool, n_pool, c, B, W, NULL,
                                rng, scratch);
        for (int b = 0; M && b < B; b++)
            gw_wavenet_mel_rows(melfx, s->mel + ((size_t)v * B + b) * T_in * M,
                                scratch + (size_t)b * W, T_in);
    }
    return GW_OK;
}

/* bits per sample (per band value) of s, through arena in pieces of Bl
 * windows (a rank's share of the batch: rank 0 validates alone) */
static gw_status val_set_bits(gw_wavenet_train *arena, const gw_wavenet_config *c,
                              const wn_val_set *s, int Bl, double *bits, gw_error *err) {
    const size_t cg = (size_t)c->cond_dim, W = (size_t)s->W;
    const int pieces = s->batches * (s->B / Bl);
    double sum = 0;
    for (int v = 0; v < pieces; v++) {
        const size_t b = (size_t)v * Bl; /* first window of this piece */
        const float *vc = cg ? s->cond + b * cg : NULL;
        float loss;
        gw_status st =
            s->bwindow ? gw_wavenet_train_forward_bands(arena, &loss, s->bwindow + b * W * c->bands,
                                                        vc, NULL, 0, err)
                       : gw_wavenet_train_forward(arena, &loss, s->window + b * W, vc,
                                                  s->mel ? s->mel + b * (W - 1) * c->n_mels : NULL,
                                                  0, err);
        if (st) return st;
        sum += loss;
    }
    *bits = sum / pieces / M_LN2;
    return GW_OK;
}

static gw_status check_labels(const gw_dataset *ds, const gw_wavenet_config *c, const char *dir,
                              int *note_min, int *note_max, gw_error *err);

/* A folder measured by a trained model (--val-data, eval): its clips at the
 * model's rate, labelled as the model needs, pre-emphasised and, for a band
 * model, split into its bands at its gains, as its training data were.
 * d: the dataset options but the rate. */
static gw_status load_folder(gw_dataset **ds, gw_wavenet_band_data **bands,
                             const gw_wavenet_config *c, const char *dir, gw_dataset_opts d,
                             int *note_min, int *note_max, gw_error *err) {
    d.sample_rate = c->sample_rate;
    gw_status st = gw_dataset_load(ds, dir, &d, err);
    if (!st) st = check_labels(*ds, c, dir, note_min, note_max, err);
    if (st) return st;
    if (c->preemphasis > 0)
        for (size_t i = 0; i < (*ds)->n_clips; i++)
            gw_preemphasis((*ds)->audio + (*ds)->clips[i].offset, (*ds)->clips[i].n,
                           c->preemphasis);
    if (c->distribution != GW_WAVENET_DIST_LOGISTIC) return GW_OK;
    if ((st = gw_wavenet_band_data_create(bands, *ds, c->bands, err))) return st;
    gw_wavenet_band_data_scale(*bands, c->band_gain);
    return GW_OK;
}

/* the seeds of the held-out and the --val-data windows, from the run's */
static uint64_t val_seed(uint64_t seed) {
    return seed ^ 0x76616c6964617465ULL;
}
static uint64_t val_data_seed(uint64_t seed) {
    return seed ^ 0x76616c2d64617461ULL;
}

typedef struct wn_run {
    gw_wavenet *m;
    gw_wavenet_train *arena;
    gw_adam *adam;
    gw_ema *ema; /* NULL, or the weights' average: what validates and is saved */
    gw_dataset *ds;
    const size_t *train_pool, *val_pool;
    size_t n_train, n_val;
    int B, W;
    int Bl, off; /* this rank's share of the global batch B: windows off..off+Bl (dist.h) */
    gw_wavenet_draw_opts draw; /* training windows' gain and onset share */
    const train_settings *ts;  /* lr (before any decay), its schedule, input_noise */
    uint8_t *window;           // (B, W)
    float *cond;               // (B, C_g)
    float *scratch;            // (B, W)
    int n_val_batches;
    wn_val_set val;                   /* the held-out side's fixed windows */
    gw_wavenet_band_data *bands;      /* a logistic-output model's data */
    float *bwindow;                   // (B, W, bands)
    gw_wavenet_mel *melfx;            /* vocoder mode only */
    float *mel;                       // (B, T_in, n_mels)
    /* --val-data: a second held-out set, every clip of another folder */
    gw_dataset *ds2;
    gw_wavenet_band_data *bands2;
    wn_val_set val2;
    const gw_wavenet_trainer_opts *o; /* for best.gwm's provenance */
    int note_min, note_max;
    uint64_t checkpoint_every, last_preview; /* previews: at most one per checkpoint interval */
    int previewed;
} wn_run;

/* the mel rows of windows b0..b0+nb (their first T_in samples, what the net reads) */
static void windows_mel(wn_run *r, float *mel, const float *audio, int b0, int nb) { // audio (B, W)
    const int T_in = r->W - 1, M = r->m->cfg.n_mels;
    for (int b = b0; b < b0 + nb; b++)
        gw_wavenet_mel_rows(r->melfx, mel + (size_t)b * T_in * M, audio + (size_t)b * r->W,
                            (size_t)T_in);
}

static gw_status wn_step(void *ctx, uint64_t step, gw_rng *rng, double *fig, gw_error *err) {
    wn_run *r = ctx;
    const gw_wavenet_config *c = &r->m->cfg;
    if (r->bands)
        gw_wavenet_draw_windows_bands(r->bwindow, c->cond_dim ? r->cond : NULL, r->bands->ptr,
                                      r->train_pool, r->n_train, c, r->B, r->W, &r->draw, rng,
                                      r->scratch);
    else
        gw_wavenet_draw_windows(r->window, c->cond_dim ? r->cond : NULL, r->ds, r->train_pool,
                                r->n_train, c, r->B, r->W, &r->draw, rng, r->scratch);
    if (r->melfx) windows_mel(r, r->mel, r->scratch, r->off, r->Bl); /* this rank's share */
    /* drawn only when on, so runs without it keep their random stream */
    if (r->ts->input_noise > 0)
        gw_wavenet_train_set_input_noise(r->arena, (float)r->ts->input_noise,
                                         gw_rng_below(rng, UINT64_MAX));
    gw_params_zero_grad(r->m->params);
    /* every rank drew the whole batch (the same data order for any number
     * of ranks) and trains on its share; Adam averages the gradients */
    const size_t o = (size_t)r->off, W = (size_t)r->W;
    const float *cond = c->cond_dim ? r->cond + o * (size_t)c->cond_dim : NULL;
    float loss;
    gw_status st =
        r->bands
            ? gw_wavenet_train_forward_bands(r->arena, &loss, r->bwindow + o * W * c->bands, cond,
                                             NULL, 1, err)
            : gw_wavenet_train_forward(r->arena, &loss, r->window + o * W, cond,
                                       r->mel ? r->mel + o * (W - 1) * c->n_mels : NULL, 1, err);
    if (st) return st;
    gw_wavenet_train_backward(r->arena);
    st = gw_adam_step(r->adam,
                      gw_train_lr_at((float)r->ts->lr, r->ts->lr_decay_steps, r->ts->n_lr_decays,
                                     r->ts->lr_decay_factor, step),
                      err);
    if (st) return st;
    if (r->ema) gw_ema_update(r->ema);
    fig[0] = loss;
    fig[1] = loss / M_LN2;
    fig[2] = r->adam->last_grad_norm;
    return GW_OK;
}

/* mean NLL of the fixed held-out windows, in bits per sample */
/* A sound to listen to in RUNDIR/report.html: RUNDIR/samples/step-N.wav,
 * 0.6 s of the middle note of the data at velocity 100 (an unconditioned
 * model plays its own sound), from silence at temperature 1 and a fixed
 * seed, as `render` would play it. At most one per checkpoint interval: a
 * 48 kHz model takes about a second of one core for it. Vocoders (a mel
 * input) get none. */
static gw_status wn_preview(wn_run *r, uint64_t step, gw_error *err) {
    const gw_wavenet_config *c = &r->m->cfg;
    if (c->n_mels > 0 || (r->previewed && step < r->last_preview + r->checkpoint_every))
        return GW_OK;
    r->previewed = 1, r->last_preview = step;
    const size_t n = (size_t)(0.6 * c->sample_rate) / (size_t)c->bands * (size_t)c->bands;
    float *audio = malloc(n * sizeof *audio), *cond = calloc((size_t)c->cond_dim + 1, sizeof *cond);
    gw_wavenet_stream *s = NULL;
    gw_status st = GW_OK;
    if (!audio || !cond) {
        st = gw_fail(err, GW_ERR_NOMEM, "preview: out of memory");
        goto done;
    }
    if ((st = gw_wavenet_stream_create(&s, r->m, 1, err))) goto done;
    gw_wavenet_stream_reset(s, 0);
    if (c->cond_dim > 0) {
        gw_wavenet_cond_features(c, cond, 0.5f * (float)(r->note_min + r->note_max), 100.0f, 0);
        gw_wavenet_stream_set_cond(s, 0, cond);
    }
    gw_rng rng;
    gw_rng_seed(&rng, 1);
    gw_wavenet_stream_generate(s, audio, 1, n, 1.0f, &rng); /* de-emphasised by the stream */
    char dir[4200], path[4300];
    snprintf(dir, sizeof dir, "%s/samples", r->o->out_dir);
    snprintf(path, sizeof path, "%s/step-%07llu.wav", dir, (unsigned long long)step);
    if (!(st = gw_mkdirs(dir, "samples folder", err)))
        st = gw_audio_write(path, audio, n, 1, c->sample_rate, GW_AUDIO_WAV16, err);
done:
    gw_wavenet_stream_free(s);
    free(audio), free(cond);
    return st;
}

static gw_status wn_validate_now(wn_run *r, uint64_t step, double *fig, gw_error *err);

/* with train.ema_decay the averaged weights are the model: they are what
 * validates, picks best.gwm, plays the preview and is saved (Polyak and
 * Juditsky 1992; the averaged weights of Parallel WaveNet, van den Oord et
 * al. 2018); the live weights train on, and the checkpoint keeps both */
static gw_status wn_validate(void *ctx, uint64_t step, double *fig, gw_error *err) {
    wn_run *r = ctx;
    if (r->ema) gw_ema_swap(r->ema);
    gw_status st = wn_validate_now(r, step, fig, err);
    if (r->ema) gw_ema_swap(r->ema);
    return st;
}

static gw_status wn_validate_now(wn_run *r, uint64_t step, double *fig, gw_error *err) {
    gw_status st = wn_preview(r, step, err);
    if (!st) st = val_set_bits(r->arena, &r->m->cfg, &r->val, r->Bl, &fig[0], err);
    if (!st && r->ds2) st = val_set_bits(r->arena, &r->m->cfg, &r->val2, r->Bl, &fig[1], err);
    return st;
}

static gw_status check_labels(const gw_dataset *ds, const gw_wavenet_config *c, const char *dir,
                              int *note_min, int *note_max, gw_error *err) {
    size_t unlabelled = 0;
    *note_min = 127, *note_max = 0;
    for (size_t i = 0; i < ds->n_clips; i++) {
        int n = ds->clips[i].note;
        if (n < 0) {
            unlabelled++;
            continue;
        }
        if (n < *note_min) *note_min = n;
        if (n > *note_max) *note_max = n;
    }
    if (c->pitch_features > 0 && unlabelled)
        return gw_fail(err, GW_ERR_ARG,
                       "%s: the preset conditions on pitch but %zu of %zu files have no note "
                       "(label them in manifest.csv or as name_n60_v100.wav)",
                       dir, unlabelled, ds->n_clips);
    if (*note_min > *note_max) *note_min = 0, *note_max = 127;
    return GW_OK;
}

static gw_status save_model(const wn_run *r, const gw_wavenet_trainer_opts *o,
                            const gw_trainer_result *tr, int note_min, int note_max,
                            const char *path, gw_error *err) {
    gw_gwm_writer *w = NULL;
    char commit[64];
    gw_train_git_commit(commit, sizeof commit);
    gw_status st = gw_gwm_writer_create(&w, err);
    if (r->ema) gw_ema_swap(r->ema); /* the averaged weights are the model */
    if (!st) st = gw_wavenet_write(r->m, w, err);
    if (r->ema) gw_ema_swap(r->ema);
    if (!st && r->ema) st = gw_gwm_writer_metaf(w, err, "train.ema_decay", "%g", r->ts->ema_decay);
    if (!st)
        st = gw_gwm_writer_meta(w, "train.command", o->command_line ? o->command_line : "", err);
    if (!st) st = gw_gwm_writer_meta(w, "train.data", o->data_dir, err);
    if (!st) st = gw_gwm_writer_metaf(w, err, "train.seed", "%llu", (unsigned long long)o->seed);
    if (!st) st = gw_gwm_writer_metaf(w, err, "train.steps", "%llu", (unsigned long long)tr->steps);
    if (!st) st = gw_gwm_writer_meta(w, "train.commit", commit, err);
    if (!st)
        st = gw_gwm_writer_metaf(w, err, "train.batch", "%d x %d targets", r->B,
                                 r->W - gw_wavenet_receptive_field(&r->m->cfg));
    if (!st) {
        char sched[256] = "";
        size_t used = 0;
        for (int i = 0; i < r->ts->n_lr_decays && used < sizeof sched; i++)
            used += (size_t)snprintf(sched + used, sizeof sched - used, "%s%d", i ? ", " : "",
                                     r->ts->lr_decay_steps[i]);
        if (r->ts->n_lr_decays)
            st = gw_gwm_writer_metaf(w, err, "train.lr", "%g (x %g from steps %s)",
                                     (float)r->ts->lr, r->ts->lr_decay_factor, sched);
        else
            st = gw_gwm_writer_metaf(w, err, "train.lr", "%g", (float)r->ts->lr);
    }
    if (!st && (r->ts->n_pitch_shifts || r->ts->gain_db > 0 || r->ts->weight_decay > 0 ||
                r->ts->onset_share > 0)) {
        char aug[160] = "pitch shift";
        size_t used = strlen(aug);
        for (int i = 0; i < r->ts->n_pitch_shifts && used < sizeof aug; i++)
            used += (size_t)snprintf(aug + used, sizeof aug - used, " %+d", r->ts->pitch_shift[i]);
        if (!r->ts->n_pitch_shifts)
            used += (size_t)snprintf(aug + used, sizeof aug - used, " none");
        if (used < sizeof aug)
            snprintf(aug + used, sizeof aug - used, "; gain +-%g dB; weight decay %g; onsets %g",
                     r->ts->gain_db, r->ts->weight_decay, r->ts->onset_share);
        st = gw_gwm_writer_meta(w, "train.augment", aug, err);
    }
    if (!st)
        st = gw_gwm_writer_metaf(w, err, "train.files", "%zu training, %zu validation",
                                 r->ds->report->n_train_files, r->ds->report->n_val_files);
    if (!st) st = gw_gwm_writer_metaf(w, err, "train.note_min", "%d", note_min);
    if (!st) st = gw_gwm_writer_metaf(w, err, "train.note_max", "%d", note_max);
    if (!st) st = gw_gwm_writer_metaf(w, err, "metric.train_loss_nats", "%.5f", tr->figures[0]);
    if (!st && !isnan(tr->val_figures[0]))
        st = gw_gwm_writer_metaf(w, err, "metric.val_bits_per_sample", "%.4f", tr->val_figures[0]);
    if (!st && !isnan(tr->val_first[0]))
        st = gw_gwm_writer_metaf(w, err, "metric.val_bits_first", "%.4f", tr->val_first[0]);
    if (!st && r->ds2) st = gw_gwm_writer_meta(w, "train.val_data", o->val_data_dir, err);
    if (!st && r->ds2 && !isnan(tr->val_figures[1]))
        st = gw_gwm_writer_metaf(w, err, "metric.val_data_bits", "%.4f", tr->val_figures[1]);
    if (!st)
        st = gw_gwm_writer_metaf(w, err, "metric.samples_per_second", "%.0f", tr->units_per_second);
    if (!st) st = gw_gwm_writer_metaf(w, err, "metric.seconds", "%.1f", tr->seconds);
    if (!st) st = gw_gwm_writer_commit(w, path, err);
    gw_gwm_writer_free(w);
    return st;
}

/* The preset a checkpoint was trained with travels in it, and a resume
 * with another one is refused, naming what differs (D10 of the hostile-
 * input issue: a changed preset silently changed the architecture). */
static gw_status wn_save(void *ctx, gw_gwm_writer *w, gw_error *err) {
    const wn_run *r = ctx;
    char *json = gw_wavenet_config_to_json(&r->m->cfg);
    if (!json) return gw_fail(err, GW_ERR_NOMEM, "train wavenet: out of memory");
    gw_status st = gw_gwm_writer_meta(w, "wavenet.config", json, err);
    free(json);
    return st;
}

static gw_status wn_load(void *ctx, const gw_gwm *f, gw_error *err) {
    const wn_run *r = ctx;
    const char *was = gw_gwm_meta(f, "wavenet.config");
    if (!was) return GW_OK; /* a checkpoint from before this check: the tensors were checked */
    char *now = gw_wavenet_config_to_json(&r->m->cfg);
    cJSON *a = cJSON_Parse(was), *b = now ? cJSON_Parse(now) : NULL;
    char diff[400] = "";
    int n = a && b ? gw_json_diff(a, b, diff, sizeof diff) : -1;
    cJSON_Delete(a), cJSON_Delete(b), free(now);
    if (n < 0) return gw_fail(err, GW_ERR_NOMEM, "train wavenet: out of memory");
    if (n > 0)
        return gw_fail(err, GW_ERR_ARG,
                       "%s/checkpoint.gwm was trained with another preset (%s); resume with the "
                       "same preset, or start a new run in another folder",
                       r->o->out_dir, diff);
    return GW_OK;
}

/* RUNDIR/best.gwm: the model at its best validation, with model.gwm's
 * provenance and figures */
static gw_status wn_save_best(void *ctx, const char *path, const gw_trainer_result *so_far,
                              gw_error *err) {
    const wn_run *r = ctx;
    return save_model(r, r->o, so_far, r->note_min, r->note_max, path, err);
}

/* --val-data: every clip of another folder, drawn once into fixed windows
 * like the held-out side's (from a seed of their own) */
static gw_status load_val_data(wn_run *r, const gw_wavenet_config *cfg,
                               const gw_wavenet_trainer_opts *o, gw_error *err) {
    if (cfg->n_mels > 0)
        return gw_fail(err, GW_ERR_ARG,
                       "train wavenet: --val-data: '%s' is a vocoder (mel input); it validates "
                       "on its folder's held-out side",
                       cfg->name);
    gw_dataset_opts d;
    gw_dataset_opts_default(&d);
    d.cache_dir = o->val_cache_dir;
    int lo, hi;
    gw_status st = load_folder(&r->ds2, &r->bands2, cfg, o->val_data_dir, d, &lo, &hi, err);
    if (st) return st;
    const size_t n = r->ds2->n_clips;
    if (n == 0)
        return gw_fail(err, GW_ERR_ARG, "%s: no clips to validate on (--val-data)",
                       o->val_data_dir);
    size_t *all = malloc(n * sizeof *all);
    if (!all)
        return gw_fail(err, GW_ERR_NOMEM, "train wavenet: out of memory for the --val-data clips");
    for (size_t i = 0; i < n; i++)
        all[i] = i;
    gw_rng rng;
    gw_rng_seed(&rng, val_data_seed(o->seed));
    st = val_set_draw(&r->val2, cfg, r->ds2, r->bands2, NULL, all, n, r->n_val_batches, r->B, r->W,
                      &rng, r->scratch, "train wavenet: --val-data", err);
    free(all);
    return st;
}

gw_status gw_wavenet_trainer_run(const gw_wavenet_trainer_opts *o, gw_wavenet_trainer_result *res,
                                 gw_error *err) {
    char *intro = NULL; /* the data's summary, printed when the run starts */
    size_t intro_n = 0;
    char preset[4096];
    gw_wavenet_config cfg;
    train_settings ts;
    wn_run r = {0};
    gw_status st;
    if (res) memset(res, 0, sizeof *res);
    if (!o->data_dir || !o->out_dir)
        return gw_fail(err, GW_ERR_ARG, "train wavenet: --data and --out are required");
    if ((st = gw_train_find_preset(preset, sizeof preset, o->preset, err))) return st;
    if ((st = gw_wavenet_config_load(&cfg, preset, err))) return st;
    if ((st = read_train_settings(&ts, preset, err))) return st;
    if (o->steps > 0) ts.steps = o->steps;
    if (o->batch > 0) ts.batch = o->batch;
    if (o->targets > 0) ts.targets = o->targets;
    if (o->lr > 0) ts.lr = o->lr;
    if (o->val_every > 0) ts.val_every = o->val_every;
    if (o->checkpoint_every > 0) ts.checkpoint_every = o->checkpoint_every;
    if (o->clip_norm != 0) ts.clip_norm = o->clip_norm < 0 ? 0 : o->clip_norm;
    if (ts.n_input_noise_bands &&
        (cfg.distribution != GW_WAVENET_DIST_LOGISTIC || ts.n_input_noise_bands != cfg.bands))
        return gw_fail(err, GW_ERR_FORMAT,
                       "%s: train.input_noise_bands has %d values; it needs one per band of a "
                       "band model (%d here)",
                       preset, ts.n_input_noise_bands,
                       cfg.distribution == GW_WAVENET_DIST_LOGISTIC ? cfg.bands : 0);

    gw_dataset_opts dopts;
    gw_dataset_opts_default(&dopts);
    dopts.sample_rate = cfg.sample_rate;
    dopts.split_seed = o->seed;
    dopts.cache_dir = o->cache_dir;
    int note_min, note_max;
    if ((st = gw_dataset_load(&r.ds, o->data_dir, &dopts, err))) goto done;
    if ((st = check_labels(r.ds, &cfg, o->data_dir, &note_min, &note_max, err))) goto done;
    size_t shifted = 0;
    if (ts.n_pitch_shifts &&
        (st = gw_augment_pitch_shift(r.ds, ts.pitch_shift, ts.n_pitch_shifts, &shifted, err)))
        goto done;
    FILE *im = open_memstream(&intro, &intro_n);
    if (im) {
        gw_dataset_report_brief(r.ds->report, im, "train wavenet");
        if (shifted) {
            fprintf(im, "augmented: %zu pitch-shifted copies of the training clips (", shifted);
            for (int k = 0; k < ts.n_pitch_shifts; k++)
                fprintf(im, "%s%+d", k ? " " : "", ts.pitch_shift[k]);
            fprintf(im, " semitones)\n");
        }
        if (ts.gain_db > 0)
            fprintf(im, "augmented: random gain of +-%g dB per window\n", ts.gain_db);
        if (ts.ema_decay > 0)
            fprintf(im, "weights averaged (EMA %g): the average validates and is saved\n",
                    ts.ema_decay);
        if (ts.input_noise > 0 && ts.n_input_noise_bands) {
            fprintf(im, "input noise %g of each band's level, times", ts.input_noise);
            for (int k = 0; k < ts.n_input_noise_bands; k++)
                fprintf(im, " %g", ts.input_noise_bands[k]);
            fprintf(im, " for bands 0..%d\n", ts.n_input_noise_bands - 1);
        }
        if (ts.onset_share > 0)
            fprintf(im, "onset windows: %g of the training windows start at a clip's start\n",
                    ts.onset_share);
        fclose(im);
    }
    /* a model of the pre-emphasised signal (wavenet.h, preemphasis): each
     * clip filtered once, from its own start (what comes before is silence) */
    if (cfg.preemphasis > 0)
        for (size_t i = 0; i < r.ds->n_clips; i++)
            gw_preemphasis(r.ds->audio + r.ds->clips[i].offset, r.ds->clips[i].n, cfg.preemphasis);
    r.train_pool = r.ds->train, r.n_train = r.ds->n_train;
    r.val_pool = r.ds->val, r.n_val = r.ds->n_val;
    if (r.n_train == 0) { /* everything held out: train on it all the same */
        r.train_pool = r.ds->val, r.n_train = r.ds->n_val;
    }
    if (r.n_val == 0) /* one file: validate on training windows (still a fixed set) */
        r.val_pool = r.train_pool, r.n_val = r.n_train;

    if (cfg.distribution == GW_WAVENET_DIST_LOGISTIC) { /* PQMF sub-bands of every clip */
        if ((st = gw_wavenet_band_data_create(&r.bands, r.ds, cfg.bands, err))) goto done;
        if (!(cfg.band_gain[0] > 0)) { /* each band's loudest value becomes 1 (wavenet.h) */
            gw_wavenet_band_peak(cfg.band_gain, r.bands, r.train_pool, r.n_train);
            for (int k = 0; k < cfg.bands; k++)
                cfg.band_gain[k] = fminf(16.0f, fmaxf(GW_WAVENET_GAIN_MIN, cfg.band_gain[k]));
        }
        gw_wavenet_band_data_scale(r.bands, cfg.band_gain);
    }
    if ((st = gw_wavenet_create(&r.m, &cfg, err))) goto done;
    gw_rng init;
    gw_rng_seed(&init, o->seed ^ 0x9e3779b97f4a7c15ULL);
    gw_wavenet_weights_init(&r.m->w, &r.m->cfg, &init);
    const int ranks = gw_dist_size(o->dist);
    if (ts.batch % ranks) {
        st = gw_fail(err, GW_ERR_ARG,
                     "train wavenet: a batch of %d does not split over %d ranks; give a batch "
                     "that is a multiple of %d (--batch)",
                     ts.batch, ranks, ranks);
        goto done;
    }
    r.Bl = ts.batch / ranks, r.off = gw_dist_rank(o->dist) * r.Bl;
    if ((st = gw_wavenet_train_create(&r.arena, r.m, r.Bl, ts.targets, err))) goto done;
    gw_adam_config ac = gw_adam_defaults();
    ac.lr = (float)ts.lr;
    ac.clip_norm = (float)ts.clip_norm;
    if (ts.weight_decay > 0) /* AdamW: decoupled, weights only (nn/optim.h) */
        ac.weight_decay = (float)ts.weight_decay, ac.decoupled = 1;
    if ((st = gw_adam_create(&r.adam, r.m->params, &ac, err))) goto done;
    r.B = ts.batch, r.W = gw_wavenet_train_window_len(r.arena);
    r.draw = (gw_wavenet_draw_opts){(float)ts.gain_db, (float)ts.onset_share};
    r.ts = &ts;
    r.n_val_batches = o->val_batches > 0 ? o->val_batches : 4;
    size_t cg = cfg.cond_dim > 0 ? (size_t)cfg.cond_dim : 1, bw = (size_t)r.B * r.W;
    r.window = malloc(bw);
    r.cond = malloc((size_t)r.B * cg * sizeof(float));
    r.scratch = malloc(bw * sizeof(float));
    if (r.bands) {
        /* the bands' spread sets the model's start (gw_wavenet_init_band_scales);
         * a resumed run loads its weights over it */
        float rms[GW_WAVENET_MAX_BANDS];
        gw_wavenet_band_rms(rms, r.bands, r.train_pool, r.n_train);
        gw_wavenet_init_band_scales(&r.m->w, &r.m->cfg, rms);
        /* input noise as a fraction of each band's own level, times the
         * preset's share for each band (train.input_noise_bands) */
        for (int k = 0; k < ts.n_input_noise_bands; k++)
            rms[k] *= (float)ts.input_noise_bands[k];
        gw_wavenet_train_set_band_noise_scale(r.arena, rms);
        r.bwindow = malloc(bw * cfg.bands * sizeof(float));
        if (!r.bwindow) {
            st = gw_fail(err, GW_ERR_NOMEM, "train wavenet: out of memory for band windows");
            goto done;
        }
    }
    if (!r.window || !r.cond || !r.scratch) {
        st = gw_fail(err, GW_ERR_NOMEM, "train wavenet: out of memory for %d windows of %d", r.B,
                     r.W);
        goto done;
    }
    if (cfg.n_mels > 0) { /* vocoder mode: mel rows of every window */
        size_t rows = (size_t)r.B * (r.W - 1) * cfg.n_mels;
        if ((st = gw_wavenet_mel_create(&r.melfx, &cfg, (size_t)r.W, err))) goto done;
        r.mel = malloc(rows * sizeof(float));
        if (!r.mel) {
            st = gw_fail(err, GW_ERR_NOMEM, "train wavenet: out of memory for mel windows");
            goto done;
        }
    }
    /* the held-out windows are drawn once, from their own seed */
    gw_rng vrng;
    gw_rng_seed(&vrng, val_seed(o->seed));
    if ((st = val_set_draw(&r.val, &cfg, r.ds, r.bands, r.melfx, r.val_pool, r.n_val,
                           r.n_val_batches, r.B, r.W, &vrng, r.scratch, "train wavenet", err)))
        goto done;
    if (o->val_data_dir && (st = load_val_data(&r, &cfg, o, err))) goto done;

    static const char *figs[] = {"loss", "bits", "grad_norm"};
    static const char *vfigs[] = {"val_bits", "val_data_bits"};
    gw_trainer_config tc = gw_trainer_defaults();
    tc.run_dir = o->out_dir;
    tc.max_steps = (uint64_t)ts.steps;
    tc.max_minutes = o->minutes;
    tc.seed = o->seed;
    /* threads: data-parallel shards with single-threaded OpenBLAS when the
     * batch divides (it scales the elementwise work too), else OpenBLAS's */
    int threads = o->threads > 0 ? o->threads : 1;
    if ((st = gw_wavenet_train_set_threads(r.arena, threads, err))) goto done;
    tc.threads = gw_wavenet_train_threads(r.arena) > 1 ? 1 : threads;
    tc.resume = o->resume;
    tc.overwrite = o->overwrite;
    tc.val_every = (uint64_t)ts.val_every;
    tc.val_at_start = 1;
    tc.checkpoint_every = (uint64_t)ts.checkpoint_every;
    tc.progress = o->progress;
    tc.intro = intro;
    tc.units = "samples";
    tc.units_per_step = (double)ts.batch * ts.targets;
    tc.figure_names = figs;
    tc.n_figures = 3;
    tc.val_figure_names = vfigs;
    tc.n_val_figures = r.ds2 ? 2 : 1;
    /* the average starts from the weights as training starts (after the
     * band scales' data-dependent start; a resume loads its own) */
    if (ts.ema_decay > 0 && (st = gw_ema_create(&r.ema, r.m->params, (float)ts.ema_decay, 1, err)))
        goto done;
    tc.groups[0] = (gw_trainer_group){"", r.m->params, r.adam, r.ema};
    tc.n_groups = 1;
    /* keep the best by held-out bits; warn past 0.1 bit worse for 3
     * validations; a figure at least every 2 minutes */
    tc.best_figure = r.ds2 ? 1 : 0; /* --val-data: the instrument being learnt */
    tc.worse_margin = 0.1;
    tc.early_stop = o->early_stop;
    tc.grad_figure = 2;
    tc.val_minutes = 2.0;
    r.o = o, r.note_min = note_min, r.note_max = note_max;
    r.checkpoint_every = tc.checkpoint_every ? tc.checkpoint_every : tc.val_every;
    tc.dist = o->dist;
    /* every rank must train the same model on the same data (dist.h) */
    char settings[256];
    snprintf(settings, sizeof settings,
             "%ld %d %d %.17g %.17g %.17g %d %.17g %d %.17g %.17g %.17g %.17g", ts.steps, ts.batch,
             ts.targets, ts.lr, ts.clip_norm, ts.input_noise, ts.n_lr_decays, ts.lr_decay_factor,
             ts.n_pitch_shifts, ts.gain_db, ts.weight_decay, ts.onset_share, ts.ema_decay);
    char *cfg_json = gw_wavenet_config_to_json(&cfg);
    tc.agree[0] = gw_hash64(gw_hash64(GW_HASH_INIT, settings, strlen(settings)), cfg_json,
                            cfg_json ? strlen(cfg_json) : 0);
    tc.agree[0] = gw_hash64(tc.agree[0], ts.input_noise_bands,
                            (size_t)ts.n_input_noise_bands * sizeof *ts.input_noise_bands);
    free(cfg_json);
    tc.agree_what[0] = "preset or training options";
    tc.agree[1] = gw_dataset_content_hash(r.ds);
    tc.agree_what[1] = "training data";
    tc.n_agree = 2;
    gw_trainer_hooks h = {.ctx = &r,
                          .step = wn_step,
                          .validate = wn_validate,
                          .save = wn_save,
                          .load = wn_load,
                          .save_best = wn_save_best};
    gw_trainer_result tr;
    st = gw_trainer_run(&tc, &h, &tr, err);
    if (st && st != GW_ERR_INTERRUPTED) goto done;
    gw_status run_st = st;
    char path[4200];
    snprintf(path, sizeof path, "%s/model.gwm", o->out_dir);
    gw_error serr = {0};
    if (gw_dist_rank(o->dist) == 0 &&
        (st = save_model(&r, o, &tr, note_min, note_max, path, &serr))) {
        if (err) *err = serr;
        goto done;
    }
    if (res) {
        res->steps = (long)tr.steps;
        res->train_loss = (float)tr.figures[0];
        res->val_bits = (float)tr.val_figures[0];
        res->val_bits_initial = (float)tr.val_first[0];
        res->val_data_bits = r.ds2 ? (float)tr.val_figures[1] : NAN;
        res->samples_per_s = tr.units_per_second;
        snprintf(res->model_path, sizeof res->model_path, "%s", path);
        res->best_bits = (float)tr.best_value;
        res->best_step = (long)tr.best_step;
        snprintf(res->best_path, sizeof res->best_path, "%s", tr.best_path);
        res->warnings = tr.warnings;
        res->early_stopped = tr.stop == GW_TRAINER_STOP_EARLY;
    }
    st = run_st; /* GW_ERR_INTERRUPTED still reports the interruption, model saved */
done:
    free(intro);
    free(r.window), free(r.cond), free(r.scratch), free(r.mel), free(r.bwindow);
    val_set_free(&r.val), val_set_free(&r.val2);
    gw_wavenet_band_data_free(r.bands2);
    gw_dataset_free(r.ds2);
    gw_wavenet_band_data_free(r.bands);
    gw_wavenet_mel_free(r.melfx);
    gw_adam_free(r.adam);
    gw_ema_free(r.ema);
    gw_wavenet_train_free(r.arena);
    gw_wavenet_free(r.m);
    gw_dataset_free(r.ds);
    return st;
}

/* The held-out figure again, on any folder: the trainer's validation
 * (wn_validate_now) drawn the same way from the clips asked for. With the
 * training folder, held_out, the training seed and its batch, targets and
 * validation batches, these are the trainer's own held-out windows, so the
 * figure is the one the model file records (a test checks it); with the
 * --val-data folder and every clip, the --val-data windows (load_val_data). */
gw_status gw_wavenet_eval(gw_wavenet *m, const gw_wavenet_eval_opts *o, gw_wavenet_eval_result *res,
                          gw_error *err) {
    const gw_wavenet_config *c = &m->cfg;
    gw_dataset *ds = NULL;
    gw_wavenet_band_data *bands = NULL;
    gw_wavenet_train *arena = NULL;
    wn_val_set set = {0};
    size_t *all = NULL;
    float *scratch = NULL;
    gw_status st;
    memset(res, 0, sizeof *res);
    if (c->n_mels > 0)
        return gw_fail(err, GW_ERR_UNSUPPORTED,
                       "eval: '%s' is a vocoder (mel input); its held-out figure is the "
                       "training run's validation",
                       c->name);
    const int B = o->batch > 0 ? o->batch : 8, N = o->targets > 0 ? o->targets : 1024;
    const int batches = o->batches > 0 ? o->batches : 4;
    gw_dataset_opts dopts;
    gw_dataset_opts_default(&dopts);
    dopts.split_seed = o->split_seed;
    dopts.cache_dir = o->cache_dir;
    int note_min, note_max;
    if ((st = load_folder(&ds, &bands, c, o->data_dir, dopts, &note_min, &note_max, err)))
        goto done;
    /* the trainer's validation pool, or every clip of the folder */
    const size_t *pool = ds->val;
    size_t n_pool = ds->n_val;
    if (!o->held_out || n_pool == 0) {
        if (o->held_out) { /* as the trainer: one file validates on its training clips */
            pool = ds->train, n_pool = ds->n_train;
        } else {
            all = malloc((ds->n_clips ? ds->n_clips : 1) * sizeof *all);
            if (!all) {
                st = gw_fail(err, GW_ERR_NOMEM, "eval: out of memory");
                goto done;
            }
            for (size_t i = 0; i < ds->n_clips; i++)
                all[i] = i;
            pool = all, n_pool = ds->n_clips;
        }
    }
    if (n_pool == 0) {
        st = gw_fail(err, GW_ERR_ARG, "%s: no clips to measure", o->data_dir);
        goto done;
    }
    if ((st = gw_wavenet_train_create(&arena, m, B, N, err))) goto done;
    const int W = gw_wavenet_train_window_len(arena);
    if (!(scratch = malloc((size_t)B * W * sizeof(float)))) {
        st = gw_fail(err, GW_ERR_NOMEM, "eval: out of memory for %d windows of %d", B, W);
        goto done;
    }
    /* the trainer's held-out or --val-data windows: the same seeds and
     * draws, one batch at a time (memory for one, whatever -n asks) */
    gw_rng rng;
    gw_rng_seed(&rng, o->held_out ? val_seed(o->seed) : val_data_seed(o->seed));
    double sum = 0;
    for (int v = 0; v < batches; v++) {
        double bits;
        if ((st = val_set_draw(&set, c, ds, bands, NULL, pool, n_pool, 1, B, W, &rng, scratch,
                               "eval", err)) ||
            (st = val_set_bits(arena, c, &set, B, &bits, err)))
            goto done;
        val_set_free(&set);
        sum += bits;
    }
    res->bits = sum / batches;
    res->clips = n_pool;
    res->windows = B * batches;
    res->window_targets = N;
    res->note_min = note_min, res->note_max = note_max;
done:
    free(all), free(scratch);
    val_set_free(&set);
    gw_wavenet_train_free(arena);
    gw_wavenet_band_data_free(bands);
    gw_dataset_free(ds);
    return st;
}
