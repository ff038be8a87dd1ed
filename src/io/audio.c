/* Audio files through libsndfile (see audio.h). */
#include "io/audio.h"

#include <errno.h>
#include <math.h>
#include <sndfile.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* largest file we agree to decode: 2^31 samples (8 GiB of floats) is far
 * beyond any training sound and keeps size arithmetic safe */
#define GW_AUDIO_MAX_SAMPLES ((size_t)1 << 31)

static void format_name(char *out, size_t cap, int format) {
    SF_FORMAT_INFO major = {.format = format & SF_FORMAT_TYPEMASK};
    SF_FORMAT_INFO sub = {.format = format & SF_FORMAT_SUBMASK};
    int okm = sf_command(NULL, SFC_GET_FORMAT_INFO, &major, sizeof major) == 0;
    int oks = sf_command(NULL, SFC_GET_FORMAT_INFO, &sub, sizeof sub) == 0;
    snprintf(out, cap, "%s, %s", okm && major.name ? major.name : "unknown container",
             oks && sub.name ? sub.name : "unknown encoding");
}

/* libsndfile's own reason, trimmed to one line */
static const char *sf_reason(SNDFILE *sf) {
    const char *r = sf_strerror(sf);
    return r && *r ? r : "unknown libsndfile error";
}

static gw_status open_read(SNDFILE **sf, SF_INFO *info, const char *path, gw_error *err) {
    memset(info, 0, sizeof *info);
    *sf = NULL;
    gw_status st = gw_check_regular(path, err); /* a FIFO would block sf_open */
    if (st) return st;
    *sf = sf_open(path, SFM_READ, info);
    if (!*sf) {
        /* libsndfile's message does not tell "absent" from "not audio" */
        FILE *f = fopen(path, "rb");
        if (!f) return gw_fail(err, GW_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
        fclose(f);
        return gw_fail(err, GW_ERR_FORMAT, "%s: not readable audio: %s", path, sf_reason(NULL));
    }
    if (info->channels < 1 || info->channels > 256 || info->samplerate < 1 ||
        info->samplerate > 1000000 || info->frames < 0) {
        int ch = info->channels, sr = info->samplerate;
        sf_close(*sf);
        *sf = NULL;
        return gw_fail(err, GW_ERR_FORMAT, "%s: implausible header (%d channels, %d Hz)", path, ch,
                       sr);
    }
    return GW_OK;
}

gw_status gw_audio_probe(gw_audio_info *info, const char *path, gw_error *err) {
    SNDFILE *sf;
    SF_INFO si;
    memset(info, 0, sizeof *info);
    gw_status st = open_read(&sf, &si, path, err);
    if (st) return st;
    info->frames = (size_t)si.frames;
    info->channels = si.channels;
    info->sample_rate = si.samplerate;
    info->seconds = (double)si.frames / si.samplerate;
    format_name(info->format, sizeof info->format, si.format);
    sf_close(sf);
    return GW_OK;
}

/* libsndfile quietly shortens a file whose header promises more data than
 * the file holds; only its log says so, in lines like "data : 40000 (should
 * be 19978)" (WAV, AIFF SSND, AU "Data Size", W64/RIFF sizes) or a ds64
 * frame-count mismatch (RF64). A cut-off file is damaged, so we refuse it
 * rather than train on a fragment. Streamed files that declare 0 or
 * 0xFFFFFFFF ("unknown") are not truncated, only unfinished headers; one
 * byte short is a missing pad byte, also harmless. */
static int log_says_truncated(SNDFILE *sf) {
    char log[16384];
    log[0] = 0;
    sf_command(sf, SFC_GET_LOG_INFO, log, sizeof log);
    for (char *line = log; line && *line;) {
        char *next = strchr(line, '\n');
        if (next) *next++ = 0;
        unsigned long long declared, actual;
        if (strstr(line, "does not match value from 'ds64'")) return 1;
        if (strstr(line, "(should be") &&
            sscanf(line, "%*[^:]: %llu (should be %llu)", &declared, &actual) == 2 &&
            declared > actual && declared != 0xFFFFFFFFull && declared != 0x7FFFFFFFull) {
            /* container sizes may be one over (the pad byte); data sizes not */
            int container = !strncmp(line, "RIFF", 4) || !strncmp(line, "riff", 4) ||
                            !strncmp(line, "FORM", 4) || strstr(line, "Riff size");
            if (!container || declared > actual + 1) return 1;
        }
        line = next;
    }
    return 0;
}

void gw_audio_free(gw_audio *a) {
    if (!a) return;
    free(a->data);
    free(a);
}

gw_status gw_audio_read(gw_audio **out, const char *path, int mono, gw_error *err) {
    *out = NULL;
    SNDFILE *sf = NULL;
    SF_INFO si;
    gw_audio *a = NULL;
    float *buf = NULL;
    gw_status st = open_read(&sf, &si, path, err);
    if (st) return st;
    if (log_says_truncated(sf)) {
        st = gw_fail(err, GW_ERR_FORMAT,
                     "%s: truncated: header promises more audio than the file holds", path);
        goto fail;
    }
    const size_t ch = (size_t)si.channels;
    /* read in chunks and grow: frames from the header is only a hint (a
     * damaged header can claim billions), so it sizes the first block only
     * up to 2^20 samples and doubling takes it from there */
    const size_t first = ((size_t)1 << 20) / ch;
    size_t cap = si.frames > 0 && (size_t)si.frames < first ? (size_t)si.frames + 1 : first;
    size_t n = 0;
    buf = malloc(cap * ch * sizeof *buf);
    if (!buf) {
        st = gw_fail(err, GW_ERR_NOMEM, "%s: out of memory for %zu frames", path, cap);
        goto fail;
    }
    for (;;) {
        if (n == cap) {
            if (cap * 2 * ch > GW_AUDIO_MAX_SAMPLES) {
                st = gw_fail(err, GW_ERR_FORMAT, "%s: longer than the 2^31-sample limit", path);
                goto fail;
            }
            float *nb = realloc(buf, cap * 2 * ch * sizeof *buf);
            if (!nb) {
                st = gw_fail(err, GW_ERR_NOMEM, "%s: out of memory for %zu frames", path, cap * 2);
                goto fail;
            }
            buf = nb;
            cap *= 2;
        }
        sf_count_t want = (sf_count_t)(cap - n);
        sf_count_t got = sf_readf_float(sf, buf + n * ch, want);
        if (got < 0) got = 0;
        n += (size_t)got;
        if (sf_error(sf) != SF_ERR_NO_ERROR) {
            st = gw_fail(err, GW_ERR_FORMAT, "%s: decode error after %zu frames: %s", path, n,
                         sf_reason(sf));
            goto fail;
        }
        if (got < want) break;
    }
    if (si.frames > 0 && n < (size_t)si.frames &&
        (si.format & SF_FORMAT_TYPEMASK) != SF_FORMAT_OGG &&
        (si.format & SF_FORMAT_TYPEMASK) != SF_FORMAT_MPEG) {
        st = gw_fail(err, GW_ERR_FORMAT, "%s: truncated: %zu of %lld frames decodable", path, n,
                     (long long)si.frames);
        goto fail;
    }
    for (size_t i = 0; i < n * ch; i++)
        if (!isfinite(buf[i])) {
            st = gw_fail(err, GW_ERR_FORMAT, "%s: non-finite sample (NaN/Inf) at frame %zu", path,
                         i / ch);
            goto fail;
        }
    if (mono && ch > 1) {
        /* in double: two finite channels near FLT_MAX must not sum to Inf */
        for (size_t i = 0; i < n; i++) {
            double s = 0;
            for (size_t c = 0; c < ch; c++)
                s += buf[i * ch + c];
            buf[i] = (float)(s / (double)ch);
        }
    }
    a = calloc(1, sizeof *a);
    if (!a) {
        st = gw_fail(err, GW_ERR_NOMEM, "%s: out of memory", path);
        goto fail;
    }
    a->channels = mono ? 1 : (int)ch;
    a->frames = n;
    a->sample_rate = si.samplerate;
    a->data = buf;
    if (n > 0) { /* shrink to fit; keep the old block if realloc declines */
        float *nb = realloc(buf, n * (size_t)a->channels * sizeof *buf);
        if (nb) a->data = nb;
    }
    sf_close(sf);
    *out = a;
    return GW_OK;
fail:
    free(buf);
    free(a);
    if (sf) sf_close(sf);
    return st;
}

static int sf_format_of(gw_audio_format f) {
    switch (f) {
    case GW_AUDIO_WAV16:
        return SF_FORMAT_WAV | SF_FORMAT_PCM_16;
    case GW_AUDIO_WAV24:
        return SF_FORMAT_WAV | SF_FORMAT_PCM_24;
    case GW_AUDIO_WAVF32:
        return SF_FORMAT_WAV | SF_FORMAT_FLOAT;
    case GW_AUDIO_FLAC16:
        return SF_FORMAT_FLAC | SF_FORMAT_PCM_16;
    case GW_AUDIO_FLAC24:
        return SF_FORMAT_FLAC | SF_FORMAT_PCM_24;
    }
    return 0;
}

gw_status gw_audio_write(const char *path, const float *data, size_t frames, int channels,
                         int sample_rate, gw_audio_format format, gw_error *err) {
    int sff = sf_format_of(format);
    if (!sff) return gw_fail(err, GW_ERR_ARG, "%s: unknown output format %d", path, (int)format);
    if (channels < 1 || channels > 256 || sample_rate < 1 || sample_rate > 1000000)
        return gw_fail(err, GW_ERR_ARG, "%s: bad channels %d / sample rate %d", path, channels,
                       sample_rate);
    SF_INFO si = {.samplerate = sample_rate, .channels = channels, .format = sff};
    if (!sf_format_check(&si))
        return gw_fail(err, GW_ERR_ARG, "%s: libsndfile cannot write this format at %d Hz, %d ch",
                       path, sample_rate, channels);
    gw_afile af;
    gw_status st = gw_afile_open(&af, path, err);
    if (st) return st;
    /* libsndfile writes through the temp file's descriptor; gw_afile then
     * fsyncs, closes and renames it into place */
    SNDFILE *sf = sf_open_fd(fileno(af.fp), SFM_WRITE, &si, 0);
    if (!sf) {
        st = gw_fail(err, GW_ERR_IO, "%s: cannot start writing: %s", path, sf_reason(NULL));
        gw_afile_abort(&af);
        return st;
    }
    /* clip instead of wrapping around when a float exceeds full scale */
    sf_command(sf, SFC_SET_CLIPPING, NULL, SF_TRUE);
    /* no PEAK chunk in float files: it carries the time of writing, so the
     * same samples would give different bytes on every run */
    sf_command(sf, SFC_SET_ADD_PEAK_CHUNK, NULL, SF_FALSE);
    const size_t chunk = 1 << 16;
    for (size_t i = 0; i < frames; i += chunk) {
        size_t k = frames - i < chunk ? frames - i : chunk;
        if (sf_writef_float(sf, data + i * (size_t)channels, (sf_count_t)k) != (sf_count_t)k) {
            st = gw_fail(err, GW_ERR_IO, "%s: write failed: %s", path, sf_reason(sf));
            sf_close(sf);
            gw_afile_abort(&af);
            return st;
        }
    }
    if (sf_close(sf) != 0) {
        gw_afile_abort(&af);
        return gw_fail(err, GW_ERR_IO, "%s: finishing the file failed", path);
    }
    return gw_afile_commit(&af, err);
}

gw_status gw_audio_format_parse(gw_audio_format *out, const char *name, gw_error *err) {
    static const struct {
        const char *name;
        gw_audio_format f;
    } names[] = {{"wav16", GW_AUDIO_WAV16},   {"wav", GW_AUDIO_WAV16},    {"wav24", GW_AUDIO_WAV24},
                 {"wavf32", GW_AUDIO_WAVF32}, {"float", GW_AUDIO_WAVF32}, {"flac", GW_AUDIO_FLAC24},
                 {"flac16", GW_AUDIO_FLAC16}, {"flac24", GW_AUDIO_FLAC24}};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (!strcasecmp(name, names[i].name)) {
            *out = names[i].f;
            return GW_OK;
        }
    return gw_fail(err, GW_ERR_ARG,
                   "unknown audio format '%s' (wav16, wav24, wavf32, flac16, flac24)", name);
}

static const char *ext_of(const char *path) {
    const char *slash = strrchr(path, '/');
    const char *dot = strrchr(path, '.');
    return dot && (!slash || dot > slash) ? dot + 1 : "";
}

gw_status gw_audio_format_for_path(gw_audio_format *out, const char *path, gw_error *err) {
    const char *e = ext_of(path);
    if (!strcasecmp(e, "flac")) {
        *out = GW_AUDIO_FLAC24;
    } else if (!strcasecmp(e, "wav") || !strcasecmp(e, "wave")) {
        *out = GW_AUDIO_WAV16;
    } else {
        return gw_fail(err, GW_ERR_ARG,
                       "%s: genwave writes .wav and .flac files, not '%s'; name it .wav or .flac",
                       path, *e ? e : "(no extension)");
    }
    return GW_OK;
}

int gw_audio_is_audio_ext(const char *path) {
    static const char *exts[] = {"wav", "wave", "flac", "ogg",  "oga", "opus",
                                 "aif", "aiff", "aifc", "au",   "snd", "caf",
                                 "w64", "mp3",  "mp2",  "rf64", "voc"};
    const char *e = ext_of(path);
    for (size_t i = 0; i < sizeof exts / sizeof exts[0]; i++)
        if (!strcasecmp(e, exts[i])) return 1;
    return 0;
}
