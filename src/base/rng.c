/* xoshiro256** (Blackman and Vigna 2018), seeded with splitmix64 as its
 * authors recommend so that nearby seeds give unrelated streams. */
#include "base/gw_base.h"

#include <math.h>

uint64_t gw_mix64(uint64_t z) {
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static uint64_t splitmix64(uint64_t *x) {
    return gw_mix64(*x += 0x9e3779b97f4a7c15ull);
}

static inline uint64_t rotl(uint64_t x, int k) {
    return (x << k) | (x >> (64 - k));
}

void gw_rng_seed(gw_rng *rng, uint64_t seed) {
    uint64_t x = seed;
    for (int i = 0; i < 4; i++)
        rng->s[i] = splitmix64(&x);
}

uint64_t gw_rng_u64(gw_rng *rng) {
    uint64_t *s = rng->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

float gw_rng_uniform(gw_rng *rng) {
    return (float)(gw_rng_u64(rng) >> 40) * (1.0f / 16777216.0f);
}

uint64_t gw_rng_below(gw_rng *rng, uint64_t n) {
    /* rejection keeps the draw unbiased when n does not divide 2^64 */
    uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    uint64_t x;
    do
        x = gw_rng_u64(rng);
    while (x >= limit);
    return x % n;
}

float gw_rng_normal(gw_rng *rng) {
    /* 53-bit uniforms in (0, 1] keep log() finite */
    double u1 = ((double)(gw_rng_u64(rng) >> 11) + 1.0) * (1.0 / 9007199254740992.0);
    double u2 = (double)(gw_rng_u64(rng) >> 11) * (1.0 / 9007199254740992.0);
    return (float)(sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2));
}

void gw_rng_fill_normal(gw_rng *rng, float *out, size_t n, float mean, float std) {
    for (size_t i = 0; i < n; i++)
        out[i] = mean + std * gw_rng_normal(rng);
}

void gw_rng_skip(gw_rng *rng, uint64_t n) {
    for (uint64_t i = 0; i < n; i++)
        (void)gw_rng_u64(rng);
}

void gw_rng_fill_normal_share(gw_rng *rng, float *out, size_t n, size_t before, size_t after) {
    /* gw_rng_normal takes exactly two words per value (no cached pair) */
    gw_rng_skip(rng, 2 * (uint64_t)before);
    gw_rng_fill_normal(rng, out, n, 0.0f, 1.0f);
    gw_rng_skip(rng, 2 * (uint64_t)after);
}

void gw_rng_fill_uniform(gw_rng *rng, float *out, size_t n, float lo, float hi) {
    for (size_t i = 0; i < n; i++)
        out[i] = lo + (hi - lo) * gw_rng_uniform(rng);
}
