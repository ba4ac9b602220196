/* tests/support/float_bits.h - a float's bit pattern and back, for tests
 * and benchmarks that compare results bit for bit (header-only). */
#ifndef CONTRL_TEST_FLOAT_BITS_H
#define CONTRL_TEST_FLOAT_BITS_H

#include <stdint.h>
#include <string.h>

static inline uint32_t float_bits(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

static inline float bits_float(uint32_t u)
{
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

#endif /* CONTRL_TEST_FLOAT_BITS_H */
