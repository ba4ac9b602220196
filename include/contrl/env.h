/*
 * contrl/env.h - environments: the interface between an agent and a
 * simulator, and the built-in tasks (no MuJoCo needed).
 *
 * A contrl_env is a plain struct of callbacks that you fill for your own
 * simulator; the library's tasks fill the same struct. Observations and
 * actions are float32 arrays of obs_dim and action_dim values; actions are
 * in the env's own units, within [action_low, action_high].
 *
 * Episodes end in one of two ways (Gymnasium's vocabulary):
 *  - terminated: a true terminal state (nothing follows; no bootstrap);
 *  - truncated: cut short from outside, usually by a time limit (the state
 *    was not terminal; learners bootstrap from next_obs).
 * The built-in tasks carry their own time limits and report them as
 * truncation, and return CONTRL_ERR_STATE for a step before reset or after
 * their episode ended. An env is used by one thread at a time.
 */
#ifndef CONTRL_ENV_H
#define CONTRL_ENV_H

#include <stdbool.h>

#include "contrl/core.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct contrl_env {
    size_t size;            /* sizeof(contrl_env) */
    const char *name;       /* for messages and checkpoints, e.g. "pendulum";
                               may be NULL */
    uint32_t obs_dim;       /* >= 1 */
    uint32_t action_dim;    /* >= 1 */
    const float *action_low;  /* action_dim values, finite, low < high */
    const float *action_high;
    uint32_t max_episode_steps; /* the env's own time limit; 0 = none/unknown */
    void *user;             /* passed to every callback */
    /* Start an episode whose random initial state is drawn from `seed`
     * (the same seed gives the same episode); write the first observation.
     * Return CONTRL_OK or an error status. */
    contrl_status (*reset)(void *user, uint64_t seed, float *obs);
    /* Apply `action` (within bounds) for one step; write next_obs, reward,
     * terminated and truncated. */
    contrl_status (*step)(void *user, const float *action, float *next_obs, float *reward,
                          bool *terminated, bool *truncated);
    /* Release `user`'s resources; may be NULL. Called by contrl_env_close. */
    void (*destroy)(void *user);
} contrl_env;

/* Checks an env struct (NULL, size, dims, bounds, callbacks) before use.
 * INVALID_ARG with a message naming the bad field. */
CONTRL_API contrl_status contrl_env_check(const contrl_env *env);

/* Call env->reset / env->step with checked arguments and checked results:
 * NULL pointers are INVALID_ARG; an action that is NaN or outside
 * [action_low, action_high] is INVALID_ARG (agents clip before stepping);
 * a NaN/Inf in what the env returns gives CONTRL_ERR_NONFINITE; an error
 * status from the callback is passed on. After NONFINITE or a callback
 * error the env has already advanced and the outputs hold what it wrote:
 * reset it before stepping again. Allocation-free. */
CONTRL_API contrl_status contrl_env_reset(contrl_env *env, uint64_t seed, float *obs);
CONTRL_API contrl_status contrl_env_step(contrl_env *env, const float *action, float *next_obs,
                                         float *reward, bool *terminated, bool *truncated);

/* Release the env (calls destroy if set) and zero the struct. NULL is fine. */
CONTRL_API void contrl_env_close(contrl_env *env);

/* ---- Built-in tasks -----------------------------------------------------
 * "pendulum": Gymnasium's Pendulum-v1 swing-up. obs [cos th, sin th, thdot],
 *   action torque in [-2, 2], reward -(th^2 + 0.1 thdot^2 + 0.001 u^2) with
 *   th normalised to [-pi, pi); g = 10, m = 1, l = 1, dt = 0.05, speed
 *   clipped to [-8, 8]; start th ~ U(-pi, pi), thdot ~ U(-1, 1); truncated
 *   after 200 steps, never terminated.
 * "mountaincar": Gymnasium's MountainCarContinuous-v0. obs [position,
 *   velocity], force in [-1, 1], reward -0.1 u^2 per step and +100 on
 *   reaching position >= 0.45 (terminated); truncated after 999 steps.
 * "multigoal": the 2-D multi-goal point of Soft Q-learning (Haarnoja et al.
 *   2017, fig. 2; the authors' MultiGoalEnv). obs [x, y], action velocity
 *   a in [-1, 1]^2; s' = clip(s + a, -7, 7) per coordinate; reward
 *   -(30 |a|^2 + min_g |s' - g|^2), plus 10 and terminated when
 *   min_g |s' - g| < 1, for goals g = (5, 0), (-5, 0), (0, 5), (0, -5);
 *   start s ~ N(0, 0.1^2 I); truncated after 30 steps.
 *
 * Fill *env with a new instance of the named task (allocated through
 * `allocator`, NULL for the C library's). INVALID_ARG for an unknown name
 * (the message lists the known ones), NOMEM; *env is zeroed on failure, so
 * contrl_env_close is always safe. */
CONTRL_API contrl_status contrl_env_make(const char *name, const contrl_allocator *allocator,
                                         contrl_env *env);

/* Names of the built-in tasks, NULL-terminated. */
CONTRL_API const char *const *contrl_env_names(void);

#ifdef __cplusplus
}
#endif

#endif /* CONTRL_ENV_H */
