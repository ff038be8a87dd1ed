/* augment.h - data augmentation for training on small folders (issue "Your
 * own sounds"; the ablation is in docs/training-your-own-sounds.md).
 *
 * Pitch shift by resampling (the oldest trick for pitched samples, as
 * samplers do when one recording covers several keys): a clip resampled by
 * 2^(s/12) plays s semitones higher and 2^(-s/12) times as long, with its
 * formants moved along; its note label moves by s. A pitch-conditioned
 * WaveNet then sees the notes between and beside the recorded ones, which
 * is what it must play for the notes it was not given. */
#ifndef GW_TRAIN_AUGMENT_H
#define GW_TRAIN_AUGMENT_H

#include "base/gw_base.h"
#include "io/dataset.h"

/* Appends, for each training clip of ds and each shift in shifts[0..n)
 * (semitones, non-zero, |s| <= 12), a pitch-shifted copy to ds->clips and
 * ds->train; held-out clips stay as recorded. A labelled clip's note moves
 * with it (notes pushed outside 0..127 are skipped); an unlabelled one stays
 * unlabelled. *added (may be NULL) gets the number of clips added. */
gw_status gw_augment_pitch_shift(gw_dataset *ds, const int *shifts, int n, size_t *added,
                                 gw_error *err);

/* Gain augmentation: scales each of B windows of W samples by its own
 * 10^(g/20), g uniform in [-gain_db, gain_db], drawn from rng. */
void gw_augment_gain(float *x, int B, size_t W, float gain_db, gw_rng *rng);

#endif
