/* libFuzzer target: JSON presets (io/json.h) through the WaveNet, GAN, VAE
 * and PixelCNN preset parsers. Any text must parse or give a one-line error naming
 * the file, never crash, hang or leak. */
#include "io/json.h"
#include "models/pixelcnn.h"
#include "models/specgan.h"
#include "models/specvae.h"
#include "models/wavenet.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *text = malloc(size + 1);
    if (!text) return 0;
    memcpy(text, data, size);
    text[size] = 0;
    gw_error err = {0};
    gw_wavenet_config wc;
    if (gw_wavenet_config_parse(&wc, text, "fuzz.json", &err) != GW_OK &&
        (strncmp(err.msg, "fuzz.json", 9) != 0 || strchr(err.msg, '\n')))
        fprintf(stderr, "not a one-line error naming the file: '%s'\n", err.msg), abort();
    else if (err.status == GW_OK) { /* what parses, writes back as itself */
        char *json = gw_wavenet_config_to_json(&wc);
        gw_wavenet_config back;
        if (json && gw_wavenet_config_parse(&back, json, "round trip", &err) != GW_OK)
            fprintf(stderr, "written preset does not parse: %s\n%s\n", err.msg, json), abort();
        if (json && memcmp(&back, &wc, sizeof wc) != 0)
            fprintf(stderr, "preset changed in a round trip:\n%s\n", json), abort();
        free(json);
    }
    cJSON *root = NULL;
    if (gw_json_parse(&root, text, "fuzz.json", &err) == GW_OK) {
        gw_specgan_config g;
        gw_specvae_config v;
        gw_specgan_config_default(&g);
        gw_specvae_config_default(&v);
        gw_pixelcnn_config p;
        gw_pixelcnn_config_default(&p);
        gw_error e[3] = {{0}, {0}, {0}};
        gw_specgan_config_from_json(&g, root, "fuzz.json", &e[0]);
        gw_specvae_config_from_json(&v, root, "fuzz.json", &e[1]);
        gw_pixelcnn_config_from_json(&p, root, "fuzz.json", &e[2]);
        for (int i = 0; i < 3; i++)
            if (e[i].status != GW_OK &&
                (strncmp(e[i].msg, "fuzz.json", 9) != 0 || strchr(e[i].msg, '\n')))
                fprintf(stderr, "not a one-line error naming the file: '%s'\n", e[i].msg), abort();
        cJSON_Delete(root);
    }
    free(text);
    return 0;
}
