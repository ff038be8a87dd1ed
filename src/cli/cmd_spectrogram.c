/* genwave spectrogram IN -o OUT.png: a picture of a sound. Log-mel by
 * default (Slaney mel bands, power in dB, an 80 dB window below the loudest
 * cell), or the linear-frequency STFT magnitude with --linear. Low
 * frequencies at the bottom, time left to right. */
#include "base/gw_base.h"
#include "cli/args.h"
#include "dsp/gw_dsp.h"
#include "io/audio.h"
#include "io/png.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *out) {
    fprintf(out, "usage: genwave spectrogram IN.wav -o OUT.png [options]\n"
                 "  --n-fft N       FFT size (default 1024)\n"
                 "  --hop H         hop between frames in samples (default n_fft / 4)\n"
                 "  --mels M        mel bands (default 128)\n"
                 "  --linear        linear-frequency STFT bins instead of mel bands\n"
                 "  --rate HZ       resample first (default: the file's rate)\n"
                 "  --range DB      dynamic range shown below the loudest cell (default 80)\n"
                 "  --scale K       draw each cell K x K pixels (default 1)\n"
                 "  --cmap NAME     magma (default), viridis or gray\n"
                 "  --axes          a figure: time (s) and frequency (Hz) axes, a colour bar\n"
                 "                  in dB and the file name as title (default: the bare\n"
                 "                  image, one pixel per cell and scale)\n");
}

int gw_cmd_spectrogram(int argc, char **argv) {
    const char *in = NULL, *out = NULL;
    int n_fft = 1024, hop = 0, mels = 128, linear = 0, rate = 0, range = 80, scale = 1, axes = 0;
    gw_cmap cmap = GW_CMAP_MAGMA;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        int ok = 1;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(a, "-o") || !strcmp(a, "--out")) {
            if (!v) ok = 0, fprintf(stderr, "genwave: %s needs a file name\n", a);
            out = v, i++;
        } else if (!strcmp(a, "--n-fft")) {
            ok = gw_cli_int_opt(&n_fft, a, v, 16, 65536), i++;
        } else if (!strcmp(a, "--hop")) {
            ok = gw_cli_int_opt(&hop, a, v, 1, 65536), i++;
        } else if (!strcmp(a, "--mels")) {
            ok = gw_cli_int_opt(&mels, a, v, 1, 1024), i++;
        } else if (!strcmp(a, "--rate")) {
            ok = gw_cli_int_opt(&rate, a, v, 1000, 768000), i++;
        } else if (!strcmp(a, "--range")) {
            ok = gw_cli_int_opt(&range, a, v, 1, 400), i++;
        } else if (!strcmp(a, "--scale")) {
            ok = gw_cli_int_opt(&scale, a, v, 1, 16), i++;
        } else if (!strcmp(a, "--axes")) {
            axes = 1;
        } else if (!strcmp(a, "--linear")) {
            linear = 1;
        } else if (!strcmp(a, "--cmap")) {
            i++;
            if (v && !strcmp(v, "magma"))
                cmap = GW_CMAP_MAGMA;
            else if (v && !strcmp(v, "viridis"))
                cmap = GW_CMAP_VIRIDIS;
            else if (v && !strcmp(v, "gray"))
                cmap = GW_CMAP_GRAY;
            else
                ok = 0, fprintf(stderr, "genwave: --cmap: '%s' is not magma, viridis or gray\n",
                                v ? v : "");
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "genwave: spectrogram: unknown option '%s'\n", a);
            ok = 0;
        } else if (!in) {
            in = a;
        } else {
            fprintf(stderr, "genwave: spectrogram: one input only ('%s' and '%s')\n", in, a);
            ok = 0;
        }
        if (!ok) return 2;
    }
    if (!in || !out) {
        usage(stderr);
        return 2;
    }
    if (!hop) hop = n_fft / 4;
    if (hop > n_fft) {
        fprintf(stderr, "genwave: --hop %d is larger than --n-fft %d\n", hop, n_fft);
        return 2;
    }
    gw_error err = {0};
    float *x = NULL, *mag = NULL, *img = NULL, *hz = NULL;
    gw_stft *stft = NULL;
    gw_mel *mel = NULL;
    size_t n = 0;
    int file_rate = 0, rc = 1;
    if (gw_audio_read_mono(&x, &n, &file_rate, in, rate, &err)) goto fail;
    if (!rate) rate = file_rate;
    if (n == 0) {
        gw_fail(&err, GW_ERR_FORMAT, "%s: no samples", in);
        goto fail;
    }
    if (gw_stft_create(&stft, n_fft, hop, &err)) goto fail;
    int frames = gw_stft_frames(stft, n), bins = gw_stft_bins(stft);
    if ((long)frames * scale > 65535) {
        gw_fail(&err, GW_ERR_ARG, "%s: %d frames make too wide a picture; use a larger --hop", in,
                frames);
        goto fail;
    }
    int bands = linear ? bins : mels;
    mag = malloc((size_t)frames * bins * sizeof *mag);
    img = malloc((size_t)frames * bands * sizeof *img);
    if (!mag || !img) {
        gw_fail(&err, GW_ERR_NOMEM, "%s: out of memory for %d frames", in, frames);
        goto fail;
    }
    gw_stft_magnitude(stft, mag, x, n);
    if (linear) {
        memcpy(img, mag, (size_t)frames * bins * sizeof *img);
    } else {
        if (gw_mel_create(&mel, rate, n_fft, mels, 0, 0, &err)) goto fail;
        gw_mel_apply(mel, img, mag, frames);
    }
    /* power in dB; the floor keeps log10 finite for digital silence */
    for (size_t i = 0; i < (size_t)frames * bands; i++)
        img[i] = 20.0f * log10f(fmaxf(img[i], 1e-10f));
    gw_spec_style style;
    gw_spec_style_default(&style);
    style.cmap = cmap;
    style.dynamic_range = (float)range;
    style.scale = scale;
    if (axes) { /* band centres: bin k at k rate / n_fft; mel band m at the
                   centre of its triangle, evenly spaced in mel between the
                   edges 0 Hz and rate / 2 */
        if (!(hz = malloc((size_t)bands * sizeof *hz))) {
            gw_fail(&err, GW_ERR_NOMEM, "%s: out of memory", in);
            goto fail;
        }
        const float m0 = gw_hz_to_mel(0.0f), m1 = gw_hz_to_mel(0.5f * (float)rate);
        for (int k = 0; k < bands; k++)
            hz[k] = linear ? (float)k * (float)rate / (float)n_fft
                           : gw_mel_to_hz(m0 + (m1 - m0) * (float)(k + 1) / (float)(bands + 1));
        style.frame_seconds = (float)hop / (float)rate;
        style.band_hz = hz;
        style.units = "dB";
        style.title = in;
    }
    if (gw_png_write_spectrogram(out, img, frames, bands, &style, &err)) goto fail;
    printf("%s: %d frames x %d %s (%s, n_fft %d, hop %d, %d Hz)\n", out, frames, bands,
           linear ? "bins" : "mel bands", linear ? "linear" : "log-mel", n_fft, hop, rate);
    rc = 0;
fail:
    if (rc) fprintf(stderr, "genwave: %s\n", err.msg);
    free(x);
    free(mag);
    free(img);
    free(hz);
    gw_stft_free(stft);
    gw_mel_free(mel);
    return rc;
}
