#include "cli/cli.h"

#include <string.h>

int gw_cmd_dataset(int argc, char **argv);
int gw_cmd_spectrogram(int argc, char **argv);
int gw_cmd_train(int argc, char **argv);
int gw_cmd_render(int argc, char **argv);
int gw_cmd_info(int argc, char **argv);
int gw_cmd_sample(int argc, char **argv);
int gw_cmd_interpolate(int argc, char **argv);
int gw_cmd_encode(int argc, char **argv);
int gw_cmd_reconstruct(int argc, char **argv);
int gw_cmd_eval(int argc, char **argv);
int gw_cmd_complete(int argc, char **argv);
int gw_cmd_presets(int argc, char **argv);
int gw_cmd_pitch(int argc, char **argv);
int gw_cmd_quality(int argc, char **argv);
int gw_cmd_play(int argc, char **argv);
int gw_cmd_lv2_preset(int argc, char **argv);

/* one line per subcommand; keep in the order `genwave help` shows them */
static const gw_cli_command table[] = {
    {"dataset", "scan a folder of sounds and report what training would use", gw_cmd_dataset},
    {"spectrogram", "draw a log-mel (or linear) spectrogram of a sound as PNG", gw_cmd_spectrogram},
    {"train", "train a model (wavenet, gan, vae, pixelcnn) on a folder of sounds", gw_cmd_train},
    {"render", "render a note or a MIDI file with a WaveNet model to a sound file", gw_cmd_render},
    {"play", "play a WaveNet live: notes, a MIDI file or MIDI input, through PortAudio", gw_cmd_play},
    {"lv2-preset", "an LV2 preset that loads a model, so any plugin host can choose it", gw_cmd_lv2_preset},
    {"info", "describe a model file: architecture, size, provenance, metrics", gw_cmd_info},
    {"sample", "new sounds from a spectrogram GAN, VAE or PixelCNN: WAVs and a spectrogram grid", gw_cmd_sample},
    {"complete", "keep the first frames of a sound and let a PixelCNN continue it", gw_cmd_complete},
    {"interpolate", "walk a GAN's or VAE's latent space between two seeds or sounds", gw_cmd_interpolate},
    {"encode", "latent mean and variance of each clip of a sound (VAE)", gw_cmd_encode},
    {"reconstruct", "a sound through a VAE's bottleneck, clip by clip", gw_cmd_reconstruct},
    {"eval", "measure a model on a folder of sounds (held-out bits, Frechet distance, ELBO ...)", gw_cmd_eval},
    {"presets", "list the presets (architectures, training recipes, synth sounds), checking each", gw_cmd_presets},
    {"pitch", "measure how in tune a pitched WaveNet plays its notes (YIN, cents)", gw_cmd_pitch},
    {"quality", "measure a pitched WaveNet's notes against recordings: pitch, noise floor, bandwidth, spectrum", gw_cmd_quality},
    {NULL, NULL, NULL},
};

const gw_cli_command *gw_cli_find(const char *name) {
    for (const gw_cli_command *c = table; c->name; c++)
        if (!strcmp(c->name, name)) return c;
    return NULL;
}

void gw_cli_list_commands(FILE *out) {
    for (const gw_cli_command *c = table; c->name; c++)
        fprintf(out, "  %-14s %s\n", c->name, c->summary);
}
