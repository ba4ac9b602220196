/*
 * contrl/normalizer.h - running mean/std normalisation of inputs, as used
 * with HER (contrl/her.h) and usable on its own.
 */
#ifndef CONTRL_NORMALIZER_H
#define CONTRL_NORMALIZER_H

#include "contrl/core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Running normaliser -------------------------------------------------
 * Keeps running mean and variance of each of dim inputs (in double) and
 * maps x to clip((x - mean) / max(std, eps), -clip, clip), as the HER
 * reference code does. */
typedef struct contrl_normalizer contrl_normalizer;

typedef struct contrl_normalizer_config {
    size_t size;          /* sizeof, set by _init/_default */
    uint32_t dim;         /* >= 1, required */
    float clip;           /* > 0; default 5 */
    float eps;            /* > 0; smallest std used; default 0.01 */
    contrl_allocator allocator;
} contrl_normalizer_config;

CONTRL_API contrl_status contrl_normalizer_config_init(contrl_normalizer_config *cfg, size_t size);
static inline contrl_normalizer_config contrl_normalizer_config_default(void)
{
    contrl_normalizer_config cfg;
    contrl_normalizer_config_init(&cfg, sizeof cfg);
    return cfg;
}
CONTRL_API contrl_status contrl_normalizer_create(const contrl_normalizer_config *cfg,
                                                  contrl_normalizer **out);
CONTRL_API void contrl_normalizer_destroy(contrl_normalizer *norm);
/* Add n rows of dim values to the statistics. NONFINITE (nothing added) if
 * any value is NaN/Inf. */
CONTRL_API contrl_status contrl_normalizer_update(contrl_normalizer *norm, const float *x,
                                                  uint64_t n);
/* out = normalised x, n rows; out may equal x. With no data yet, mean 0
 * and std 1 are used. */
CONTRL_API contrl_status contrl_normalizer_apply(const contrl_normalizer *norm, const float *x,
                                                 uint64_t n, float *out);
CONTRL_API uint32_t contrl_normalizer_dim(const contrl_normalizer *norm);
/* State for checkpoints: count, and per dimension the sum and the sum of
 * squares (dim doubles each). set_state rejects NaN/Inf or negative sums of
 * squares. */
CONTRL_API contrl_status contrl_normalizer_get_state(const contrl_normalizer *norm,
                                                     uint64_t *count, double *sum, double *sum_sq);
CONTRL_API contrl_status contrl_normalizer_set_state(contrl_normalizer *norm, uint64_t count,
                                                     const double *sum, const double *sum_sq);
/* Current mean and std (dim floats each); either may be NULL. */
CONTRL_API contrl_status contrl_normalizer_stats(const contrl_normalizer *norm, float *mean,
                                                 float *std);

#ifdef __cplusplus
}
#endif

#endif /* CONTRL_NORMALIZER_H */
