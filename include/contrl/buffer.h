/*
 * contrl/buffer.h - fixed-capacity ring replay buffer of transitions
 * (obs, action, reward, next_obs, terminated, truncated), float32.
 *
 * terminated vs truncated (Gymnasium's vocabulary):
 *  - terminated: the episode reached a true terminal state (the pole fell,
 *    the goal was reached). Nothing follows it, so a learner must not
 *    bootstrap: target = reward.
 *  - truncated: the episode was cut short from outside, usually by a time
 *    limit. The state was not terminal, so the learner still bootstraps
 *    from next_obs: target = reward + gamma * V(next_obs). Record the real
 *    next observation the environment returned, not the reset observation.
 * A transition may be both (terminated wins when computing targets).
 *
 * Once full, each add overwrites the oldest transition. Sampling is uniform
 * with replacement over the stored transitions, driven by the buffer's own
 * RNG. Nothing is allocated after creation. One thread at a time.
 */
#ifndef CONTRL_BUFFER_H
#define CONTRL_BUFFER_H

#include <stdbool.h>

#include "contrl/core.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct contrl_buffer contrl_buffer;

typedef struct contrl_buffer_config {
    size_t size;          /* sizeof(contrl_buffer_config), set by _default() */
    uint32_t obs_dim;     /* >= 1, no default */
    uint32_t action_dim;  /* >= 1, no default */
    uint64_t capacity;    /* transitions, >= 1; default 1,000,000 */
    uint64_t seed;        /* sampling RNG seed; default 0 */
    contrl_allocator allocator; /* default: the C library's */
} contrl_buffer_config;

CONTRL_API contrl_status contrl_buffer_config_init(contrl_buffer_config *cfg, size_t size);
static inline contrl_buffer_config contrl_buffer_config_default(void)
{
    contrl_buffer_config cfg;
    contrl_buffer_config_init(&cfg, sizeof cfg);
    return cfg;
}

/* Create a buffer; all memory is allocated here. *out is NULL on failure:
 * INVALID_ARG (NULL, bad config size, zero dims or capacity, a size that
 * overflows), NOMEM. */
CONTRL_API contrl_status contrl_buffer_create(const contrl_buffer_config *cfg,
                                              contrl_buffer **out);
CONTRL_API void contrl_buffer_destroy(contrl_buffer *buf);

/* Store one transition (arrays of obs_dim, action_dim, obs_dim floats).
 * INVALID_ARG for a NULL array, NONFINITE if any value is NaN/Inf; on error
 * nothing is stored and the contents are unchanged. */
CONTRL_API contrl_status contrl_buffer_add(contrl_buffer *buf, const float *obs,
                                           const float *action, float reward,
                                           const float *next_obs, bool terminated,
                                           bool truncated);

/* Draw `batch` transitions uniformly with replacement into caller arrays:
 * obs and next_obs [batch, obs_dim], action [batch, action_dim], reward,
 * terminated and truncated [batch] (flags as 1.0f / 0.0f). truncated may be
 * NULL; the arrays must not overlap. Row r is transition
 * contrl_buffer_get(contrl_rng_below(rng, size)) with the buffer's RNG, so a
 * seed reproduces the batches. Arguments are checked first (INVALID_ARG for
 * batch 0 or a NULL array), then STATE if the buffer is empty. Advances the
 * buffer's RNG only on success. */
CONTRL_API contrl_status contrl_buffer_sample(contrl_buffer *buf, uint32_t batch,
                                              float *obs, float *action, float *reward,
                                              float *next_obs, float *terminated,
                                              float *truncated);

/* Read stored transition i, 0 = oldest still stored, size-1 = newest. Any
 * output pointer may be NULL. INVALID_ARG if i >= size. */
CONTRL_API contrl_status contrl_buffer_get(const contrl_buffer *buf, uint64_t i,
                                           float *obs, float *action, float *reward,
                                           float *next_obs, bool *terminated,
                                           bool *truncated);

CONTRL_API uint64_t contrl_buffer_size(const contrl_buffer *buf);     /* stored now */
CONTRL_API uint64_t contrl_buffer_capacity(const contrl_buffer *buf);
CONTRL_API uint32_t contrl_buffer_obs_dim(const contrl_buffer *buf);
CONTRL_API uint32_t contrl_buffer_action_dim(const contrl_buffer *buf);
/* Bytes held by the buffer, handle included: exactly what was allocated.
 * The float32 payload of a transition is (2 obs_dim + action_dim + 3) * 4
 * bytes (the two flags counted as floats); the buffer stores the flags as
 * bits of one byte, so memory_bytes is at most 5% above capacity times that
 * payload, plus a fixed part under 256 bytes (handle and alignment). */
CONTRL_API size_t contrl_buffer_memory_bytes(const contrl_buffer *buf);

/* Drop every transition (capacity and RNG unchanged). */
CONTRL_API contrl_status contrl_buffer_clear(contrl_buffer *buf);

/* The sampling RNG's state, to save and restore (see contrl_rng). set_rng
 * rejects an all-zero state (a fixed point of the generator): INVALID_ARG. */
CONTRL_API contrl_status contrl_buffer_get_rng(const contrl_buffer *buf, contrl_rng *rng);
CONTRL_API contrl_status contrl_buffer_set_rng(contrl_buffer *buf, const contrl_rng *rng);

#ifdef __cplusplus
}
#endif

#endif /* CONTRL_BUFFER_H */
