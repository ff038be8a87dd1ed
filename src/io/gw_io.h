/* gw_io.h - the io layer: audio files, PNG images, JSON presets, datasets.
 * Above dsp (resampling, STFT), below models. Each concept has its own
 * header; this one includes them all. */
#ifndef GW_IO_H
#define GW_IO_H

#include "io/audio.h"
#include "io/dataset.h"
#include "io/json.h"
#include "io/midi.h"
#include "io/png.h"

#endif
