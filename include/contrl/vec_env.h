/*
 * contrl/vec_env.h - a vectorised environment: n contrl_env instances of
 * one task stepped together, in parallel on worker threads, with automatic
 * resets (Gymnasium's VectorEnv, Stable-Baselines3's VecEnv).
 *
 * Env i is always stepped by worker i % threads, and nothing an env
 * computes depends on another env or on timing, so every result (the
 * observations, rewards, flags and the seeds of automatic resets) is the
 * same bit for bit for any thread count. The workers are threads - 1
 * persistent threads created with the vec env, plus the thread that calls
 * reset or step, which takes worker 0's share. Between calls the workers
 * spin briefly, then sleep on a condition variable.
 *
 * Seeds: contrl_vec_env_reset(v, seed) starts episode 0 of every env, and
 * the k-th automatic reset of env i starts its episode k; episode k of env
 * i is reset with contrl_vec_env_seed(seed, i, k).
 *
 * A vec env is used by one thread at a time (its envs' callbacks run on its
 * worker threads, each env always on the same one, never two at once). It
 * allocates only at create, through the config's allocator; creating the
 * worker threads also makes the C library map their stacks. Reset and step
 * allocate nothing. docs/vec-env.md describes it.
 */
#ifndef CONTRL_VEC_ENV_H
#define CONTRL_VEC_ENV_H

#include <stdbool.h>

#include "contrl/core.h"
#include "contrl/env.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct contrl_vec_env contrl_vec_env;

typedef struct contrl_vec_env_config {
    size_t size;                /* sizeof(contrl_vec_env_config), set by _default() */
    uint32_t threads;           /* worker threads, the caller's included; >= 1; 1.
                                   More than n envs is reduced to n. */
    contrl_allocator allocator; /* zeroed: the C library's */
} contrl_vec_env_config;

CONTRL_API contrl_status contrl_vec_env_config_init(contrl_vec_env_config *cfg, size_t size);
static inline contrl_vec_env_config contrl_vec_env_config_default(void)
{
    contrl_vec_env_config cfg;
    contrl_vec_env_config_init(&cfg, sizeof cfg);
    return cfg;
}

/* Make a vec env of the n envs in envs[0..n-1] (structs of this header's
 * contrl_env layout), with cfg (NULL for the defaults). On success the vec
 * env owns the envs: it copies the structs and zeroes the caller's, and
 * contrl_vec_env_destroy closes them. On failure *out is NULL and the
 * caller keeps the envs unchanged.
 *
 * Every env must pass contrl_env_check and have the same obs_dim,
 * action_dim and action bounds as envs[0] (their names and
 * max_episode_steps may differ); two envs with the same non-NULL `user`
 * would be one simulator stepped from two threads and are refused.
 * INVALID_ARG (NULL envs/out, n = 0, threads = 0, a bad or mismatched env,
 * with a message naming it, a bad config), NOMEM (the allocation, or the
 * system refused a thread). The vec env starts unreset. */
CONTRL_API contrl_status contrl_vec_env_create(contrl_env *envs, uint32_t n,
                                               const contrl_vec_env_config *cfg,
                                               contrl_vec_env **out);

/* Join the worker threads and close every env. NULL is fine. */
CONTRL_API void contrl_vec_env_destroy(contrl_vec_env *v);

/* The seed of episode `episode` of env `env` after contrl_vec_env_reset(v,
 * seed): splitmix64's output function applied twice,
 *     mix(mix(seed + (env + 1) * G) + episode * G),  G = 0x9e3779b97f4a7c15,
 *     mix(z) = z ^ (z >> 31) after z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9,
 *              z = (z ^ (z >> 27)) * 0x94d049bb133111eb,
 * all modulo 2^64. Distinct (env, episode) pairs of one seed get unrelated
 * seeds. */
CONTRL_API uint64_t contrl_vec_env_seed(uint64_t seed, uint32_t env, uint64_t episode);

/* Reset every env, env i with contrl_vec_env_seed(seed, i, 0), in
 * parallel; the first observations are then contrl_vec_env_obs(v). Sets
 * each env's episode counter and step count to 0. On error: the status and
 * message of the lowest-numbered env that failed (the message prefixed with
 * "contrl_vec_env_reset: env i: "), INVALID_ARG for NULL; the vec env then
 * needs a successful reset before it steps again. */
CONTRL_API contrl_status contrl_vec_env_reset(contrl_vec_env *v, uint64_t seed);

/* The current observations, n rows of obs_dim floats (env i's at
 * i * obs_dim): the first observations after reset, and after step the
 * next observation of every env that goes on, or the first observation of
 * the new episode of an env that was reset automatically. Zeros before the
 * first reset. Valid, and updated in place, while v lives; NULL for NULL. */
CONTRL_API const float *contrl_vec_env_obs(const contrl_vec_env *v);

/* Step every env once, in parallel: env i takes actions[i * action_dim ..]
 * and writes next_obs[i * obs_dim ..], rewards[i], terminated[i] and
 * truncated[i]. next_obs is the true next observation (for storing the
 * transition) even when the episode ended. An env whose episode ended
 * (terminated, truncated, or its max_episode_steps-th step when that is
 * set: reported as truncated) is reset at once with the next seed of its
 * sequence (see contrl_vec_env_seed), and its first observation goes into
 * contrl_vec_env_obs.
 *
 * Errors: INVALID_ARG for NULL arguments, or an action that is NaN or
 * outside the bounds (checked before anything is stepped: nothing changes);
 * STATE before the first reset or after a failed call; otherwise the status
 * and message of the lowest-numbered env whose step or automatic reset
 * failed, the message prefixed with "contrl_vec_env_step: env i: ". After
 * such an error the envs are in mixed states and the outputs partly
 * written: reset the vec env before stepping again. */
CONTRL_API contrl_status contrl_vec_env_step(contrl_vec_env *v, const float *actions,
                                             float *next_obs, float *rewards, bool *terminated,
                                             bool *truncated);

/* Sizes; 0 for NULL. threads is the number of workers in use (the config's,
 * reduced to n). */
CONTRL_API uint32_t contrl_vec_env_num_envs(const contrl_vec_env *v);
CONTRL_API uint32_t contrl_vec_env_obs_dim(const contrl_vec_env *v);
CONTRL_API uint32_t contrl_vec_env_action_dim(const contrl_vec_env *v);
CONTRL_API uint32_t contrl_vec_env_threads(const contrl_vec_env *v);
/* The action bounds every env shares (action_dim values; the first env's
 * arrays, valid while v lives), for an agent's config; NULL for NULL. */
CONTRL_API const float *contrl_vec_env_action_low(const contrl_vec_env *v);
CONTRL_API const float *contrl_vec_env_action_high(const contrl_vec_env *v);
/* The first env's name (NULL if it has none, or for NULL). */
CONTRL_API const char *contrl_vec_env_name(const contrl_vec_env *v);

#ifdef __cplusplus
}
#endif

#endif /* CONTRL_VEC_ENV_H */
