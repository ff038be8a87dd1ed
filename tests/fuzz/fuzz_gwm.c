/* libFuzzer target: .gwm model files (nn/gwm.h) and the four model openers
 * on top (WaveNet, spectrogram GAN and VAE, PixelCNN). Any input must open or give a
 * one-line error naming the file, never crash, hang or leak.
 *
 * Every section of a .gwm carries a CRC, so random bytes mostly stop at the
 * first checksum; a "repair" mode reaches the parsers behind it: when the
 * input starts with the byte 'R', the rest is read as a file whose CRCs the
 * target recomputes (gw_gwm_fix_checksums) before opening it. */
#include "models/pixelcnn_file.h"
#include "models/specgan.h"
#include "models/specvae.h"
#include "models/wavenet_file.h"
#include "nn/gwm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    uint8_t *copy = NULL;
    if (size > 0 && data[0] == 'R') {
        copy = malloc(size);
        if (!copy) return 0;
        memcpy(copy, data + 1, size - 1);
        gw_gwm_fix_checksums(copy, size - 1);
        data = copy, size -= 1;
    }
    gw_gwm *f = NULL;
    gw_error err = {0};
    if (gw_gwm_open_memory(&f, data, size, "fuzz.gwm", &err) == GW_OK) {
        gw_wavenet *w = NULL;
        gw_specgan *g = NULL;
        gw_specvae *v = NULL;
        if (gw_wavenet_from_gwm(&w, f, &err) == GW_OK) gw_wavenet_free(w);
        if (gw_specgan_from_gwm(&g, f, 1, &err) == GW_OK) gw_specgan_free(g);
        if (gw_specvae_from_gwm(&v, f, 1, &err) == GW_OK) gw_specvae_free(v);
        gw_pixelcnn_model p = {0};
        if (gw_pixelcnn_model_from_gwm(&p, f, &err) == GW_OK) gw_pixelcnn_model_free(&p);
        gw_gwm_free(f);
    } else if (strncmp(err.msg, "fuzz.gwm", 8) != 0 || strchr(err.msg, '\n')) {
        fprintf(stderr, "not a one-line error naming the file: '%s'\n", err.msg), abort();
    }
    free(copy);
    return 0;
}
