/* lib/core/rng.c - xoshiro256** (Blackman & Vigna) seeded by splitmix64. */
#include "internal.h"

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

contrl_status contrl_rng_seed(contrl_rng *rng, uint64_t seed)
{
    if (rng == NULL)
        return contrl__fail(CONTRL_ERR_INVALID_ARG, "contrl_rng_seed: rng is NULL");
    uint64_t x = seed;
    for (int i = 0; i < 4; i++)
        rng->s[i] = splitmix64(&x);
    rng->spare = 0.0f;
    rng->has_spare = 0;
    return CONTRL_OK;
}

uint64_t contrl_rng_next(contrl_rng *rng)
{
    if (rng == NULL) {
        contrl__fail(CONTRL_ERR_INVALID_ARG, "contrl_rng_next: rng is NULL");
        return 0;
    }
    return contrl__rng_next(rng);
}

float contrl_rng_uniform(contrl_rng *rng)
{
    if (rng == NULL) {
        contrl__fail(CONTRL_ERR_INVALID_ARG, "contrl_rng_uniform: rng is NULL");
        return NAN;
    }
    return (float)(contrl__rng_next(rng) >> 40) * 0x1.0p-24f;
}

uint64_t contrl_rng_below(contrl_rng *rng, uint64_t n)
{
    if (rng == NULL || n == 0) {
        contrl__fail(CONTRL_ERR_INVALID_ARG, "contrl_rng_below: %s",
                     rng == NULL ? "rng is NULL" : "n is 0");
        return 0;
    }
    return contrl__rng_below(rng, n);
}

/* One Box-Muller pair: *c is returned first, *s is the spare. u1 in (0, 1]
 * so the log is finite. */
static void normal_pair(contrl_rng *rng, float *c, float *s)
{
    float u1 = (float)((contrl__rng_next(rng) >> 40) + 1) * 0x1.0p-24f;
    float u2 = (float)(contrl__rng_next(rng) >> 40) * 0x1.0p-24f;
    float r = sqrtf(-2.0f * logf(u1));
    float a = 6.28318530717958647692f * u2;
    *s = r * sinf(a);
    *c = r * cosf(a);
}

float contrl_rng_normal(contrl_rng *rng)
{
    if (rng == NULL) {
        contrl__fail(CONTRL_ERR_INVALID_ARG, "contrl_rng_normal: rng is NULL");
        return NAN;
    }
    float x;
    contrl__rng_normals(rng, &x, 1);
    return x;
}

void contrl__rng_normals(contrl_rng *rng, float *out, size_t n)
{
    size_t i = 0;
    if (n > 0 && rng->has_spare) {
        rng->has_spare = 0;
        out[i++] = rng->spare;
    }
    for (; i + 2 <= n; i += 2)
        normal_pair(rng, &out[i], &out[i + 1]);
    if (i < n) {
        normal_pair(rng, &out[i], &rng->spare);
        rng->has_spare = 1;
    }
}
