/* report.h - RUNDIR/report.html: one self-contained page about a training
 * run, rewritten by the trainer loop at every checkpoint (so a run can be
 * watched in a browser while it trains, and the last one describes the
 * finished run). Everything is inside the one file:
 *
 *   - a summary: steps against the stop, elapsed time, throughput, the
 *     held-out figure untrained / best (and its step) / last, warnings;
 *   - what the trainer said about its data (the intro);
 *   - every figure of log.csv on its own axes (units in its name: bits,
 *     nats, ...), the gradient norm on a log axis, a validation figure's
 *     best step named under it; each a PNG embedded as a data: URI;
 *   - the sample images the validations wrote (the PNGs of RUNDIR/samples), up to
 *     six spread over the run, oldest first, so progress shows;
 *   - <audio> players for the newest validation's WAVs and the first one's,
 *     embedded too (at most 8 MB of sound in all);
 *   - links to the run's files (model.gwm, best.gwm, log.csv ...).
 *
 * A small script marks an image the browser cannot decode, or a sound whose
 * WAV header is damaged,
 * ("could not be shown") and counts them in <body data-broken="N">, which
 * the page's test reads under headless Chromium (tests/cli/report_html.sh).
 * Writing is atomic (gw_afile); a failure is an error the trainer reports
 * without stopping the run. */
#ifndef GW_TRAIN_REPORT_H
#define GW_TRAIN_REPORT_H

#include "train/trainer.h"

/* RUNDIR/report.html (and the plots in RUNDIR/report/) for the run cfg
 * describes, whose figures so far are in res and RUNDIR/log.csv; step is
 * the steps done */
gw_status gw_train_report_write(const gw_trainer_config *cfg, const gw_trainer_result *res,
                                uint64_t step, double elapsed_s, gw_error *err);

/* standard base64 (RFC 4648) of n bytes into out (4 ceil(n / 3) chars + NUL) */
void gw_base64(char *out, const unsigned char *in, size_t n);

#endif
