/* audio.h - audio files through libsndfile.
 *
 * Reading accepts anything the installed libsndfile decodes (WAV, FLAC, OGG,
 * AIFF, MP3 when built with mpg123/lame, ...) and always yields float32 in
 * [-1, 1], interleaved (frames, channels), optionally downmixed to mono by
 * averaging channels. A truncated or corrupt file is GW_ERR_FORMAT with
 * libsndfile's reason, never a crash.
 *
 * Writing is atomic: the file is written under PATH.tmp.PID, closed (the
 * sf_close result is checked), fsynced and renamed over PATH, so a failure
 * never leaves a half-written file where a good one was (the gw_afile rule).
 * Samples are clipped to [-1, 1] before integer encodings.
 */
#ifndef GW_IO_AUDIO_H
#define GW_IO_AUDIO_H

#include "base/gw_base.h"

#include <stddef.h>

typedef enum gw_audio_format {
    GW_AUDIO_WAV16 = 0, /* WAV, 16-bit PCM (the default) */
    GW_AUDIO_WAV24,     /* WAV, 24-bit PCM */
    GW_AUDIO_WAVF32,    /* WAV, 32-bit IEEE float (lossless for our floats) */
    GW_AUDIO_FLAC16,    /* FLAC, 16-bit */
    GW_AUDIO_FLAC24,    /* FLAC, 24-bit */
} gw_audio_format;

typedef struct gw_audio {
    float *data; // (frames, channels) interleaved, malloc'ed
    size_t frames;
    int channels;
    int sample_rate;
} gw_audio;

/* header facts without decoding the samples */
typedef struct gw_audio_info {
    size_t frames;
    int channels;
    int sample_rate;
    double seconds;
    char format[64]; /* e.g. "WAV (Microsoft), Signed 16 bit PCM" */
} gw_audio_info;

gw_status gw_audio_probe(gw_audio_info *info, const char *path, gw_error *err);

/* decode a whole file; mono != 0 averages the channels into one */
gw_status gw_audio_read(gw_audio **out, const char *path, int mono, gw_error *err);
void gw_audio_free(gw_audio *a);

/* decode, downmix to mono and resample (gw_resample) to rate; rate <= 0 keeps
 * the file's rate. *out is malloc'ed (n samples); *file_rate (may be NULL)
 * receives the file's own rate. */
gw_status gw_audio_read_mono(float **out, size_t *n, int *file_rate, const char *path, int rate,
                             gw_error *err);

/* write frames x channels interleaved samples, atomically */
gw_status gw_audio_write(const char *path, const float *data, size_t frames, int channels,
                         int sample_rate, gw_audio_format format, gw_error *err);

/* "wav16", "wav24", "wavf32"/"float", "flac"/"flac16", "flac24";
 * returns GW_ERR_ARG for an unknown name */
gw_status gw_audio_format_parse(gw_audio_format *out, const char *name, gw_error *err);
/* format implied by a path's extension: .wav/.wave -> WAV16, .flac ->
 * FLAC24; any other is GW_ERR_ARG naming it (writing WAV bytes under an .mp3
 * name would only fool the next program) */
gw_status gw_audio_format_for_path(gw_audio_format *out, const char *path, gw_error *err);
/* 1 when libsndfile can probably decode a file with this extension (used by
 * the dataset scanner to pick candidate files; the decoder has the last word) */
int gw_audio_is_audio_ext(const char *path);

#endif
