/* lib/core/internal.h - helpers shared by libcontrl's parts; never installed. */
#ifndef CONTRL_INTERNAL_H
#define CONTRL_INTERNAL_H

#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "contrl/core.h"

#if defined(__GNUC__)
#define CONTRL__PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define CONTRL__PRINTF(f, a)
#endif

/* Record a detailed message for the calling thread and return `status`:
 *     return contrl__fail(CONTRL_ERR_INVALID_ARG, "%s: x is NULL", __func__); */
contrl_status contrl__fail(contrl_status status, const char *fmt, ...) CONTRL__PRINTF(2, 3);

/* Allocation through a user allocator (zeroed = C library). Blocks are
 * aligned to 64 bytes. contrl__alloc returns NULL on failure or size 0. */
void *contrl__alloc(const contrl_allocator *a, size_t size);
void contrl__free(const contrl_allocator *a, void *ptr, size_t size);
/* INVALID_ARG unless alloc and free are both set or both NULL. */
contrl_status contrl__check_allocator(const contrl_allocator *a, const char *func);

/* Copy a caller's config of caller-declared size into *dst, which holds the
 * library's defaults: fields beyond the caller's size keep their defaults.
 * INVALID_ARG if the size is below min_size, or above full_size with
 * non-zero bytes past full_size (a newer caller asking for something this
 * library does not know). */
contrl_status contrl__config_copy(void *dst, const void *src, size_t min_size,
                                  size_t full_size, const char *func);

/* Back end of the public contrl_*_config_init(cfg, size) functions: copy
 * the library's defaults (full_size bytes) into the caller's struct of
 * `size` bytes - only the bytes the caller declared, zeroing any beyond
 * what this library knows - and set its size field to `size`. INVALID_ARG
 * for NULL or a size below min_size. */
contrl_status contrl__config_init(void *cfg, size_t size, const void *defaults, size_t min_size,
                                  size_t full_size, const char *func);

/* true if all n values are finite. */
bool contrl__all_finite(const float *x, size_t n);

/* Overflow-checked size arithmetic: false on overflow. */
static inline bool contrl__mul_size(size_t a, size_t b, size_t *out)
{
    if (b != 0 && a > SIZE_MAX / b)
        return false;
    *out = a * b;
    return true;
}

static inline size_t contrl__round_up(size_t n, size_t align)
{
    return (n + align - 1) / align * align;
}

/* xoshiro256** (Blackman & Vigna): the next 64 bits of rng (not NULL).
 * Inline for the hot loops that draw many (minibatch sampling). */
static inline uint64_t contrl__rng_next(contrl_rng *r)
{
    uint64_t *s = r->s;
    const uint64_t x = s[1] * 5;
    uint64_t result = ((x << 7) | (x >> 57)) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = (s[3] << 45) | (s[3] >> 19);
    return result;
}

/* n draws of contrl_rng_normal(rng) into out, the same values in the same
 * order (a pending spare first; an odd n leaves one), without the per-call
 * checks: the agents' noise and SAC's sampling draw a minibatch's worth at
 * a time. rng not NULL. */
void contrl__rng_normals(contrl_rng *rng, float *out, size_t n);

/* Uniform in [0, n), n >= 1: Lemire's multiply-and-reject ("Fast random
 * integer generation in an interval", ACM TOMACS 2019): the high half of
 * a 64x64-bit product, a division only in the rare rejection check (a
 * modulo per draw was 4% of a small TD3 run). Without 128-bit integers,
 * rejection below the largest multiple of n and a modulo. */
static inline uint64_t contrl__rng_below(contrl_rng *r, uint64_t n)
{
#if defined(__SIZEOF_INT128__)
    __extension__ typedef unsigned __int128 u128;
    u128 m = (u128)contrl__rng_next(r) * n;
    uint64_t low = (uint64_t)m;
    if (low < n) {
        const uint64_t t = (0 - n) % n;
        while (low < t) {
            m = (u128)contrl__rng_next(r) * n;
            low = (uint64_t)m;
        }
    }
    return (uint64_t)(m >> 64);
#else
    const uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    uint64_t x;
    do
        x = contrl__rng_next(r);
    while (x >= limit);
    return x % n;
#endif
}

#endif /* CONTRL_INTERNAL_H */
