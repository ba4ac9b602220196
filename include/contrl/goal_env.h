/*
 * contrl/goal_env.h - goal-conditioned environments for Hindsight
 * Experience Replay (contrl/her.h), and the built-in goal tasks.
 */
#ifndef CONTRL_GOAL_ENV_H
#define CONTRL_GOAL_ENV_H

#include <stdbool.h>

#include "contrl/core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Goal-conditioned environments --------------------------------------
 * Like contrl_env, plus an achieved goal with every observation and a
 * desired goal per episode. Rewards must be a function of (achieved goal,
 * desired goal) only, given by compute_reward, with 0 meaning success and a
 * negative value failure (the sparse default is -[distance > threshold]). */
typedef struct contrl_goal_env {
    size_t size;              /* sizeof(contrl_goal_env) */
    const char *name;         /* may be NULL */
    uint32_t obs_dim;         /* >= 1 */
    uint32_t goal_dim;        /* >= 1 */
    uint32_t action_dim;      /* >= 1 */
    const float *action_low;  /* action_dim values, finite, low < high */
    const float *action_high;
    uint32_t max_episode_steps; /* >= 1: episodes are stored whole */
    void *user;
    /* Start an episode from `seed`: write obs, achieved_goal, desired_goal. */
    contrl_status (*reset)(void *user, uint64_t seed, float *obs, float *achieved_goal,
                           float *desired_goal);
    /* One step: write next_obs, achieved_goal (of next_obs), reward,
     * terminated, truncated. */
    contrl_status (*step)(void *user, const float *action, float *next_obs, float *achieved_goal,
                          float *reward, bool *terminated, bool *truncated);
    /* reward[i] for achieved[i], desired[i] (n rows of goal_dim). Must not
     * fail; must be deterministic. */
    void (*compute_reward)(void *user, const float *achieved, const float *desired, uint32_t n,
                           float *reward);
    void (*destroy)(void *user); /* may be NULL */
} contrl_goal_env;

/* Checks every field (NULL, size, dims, bounds, callbacks): INVALID_ARG. */
CONTRL_API contrl_status contrl_goal_env_check(const contrl_goal_env *env);
/* Release (destroy if set) and zero the struct. NULL is fine. */
CONTRL_API void contrl_goal_env_close(contrl_goal_env *env);

/* Built-in goal tasks:
 *  "pointreach-N", N = 1..10: a point in [-1, 1]^N moved by actions in
 *    [-1, 1]^N scaled by 0.1 per step; goal uniform in [-1, 1]^N; obs =
 *    achieved goal = position; reward -[|position - goal| > 0.05];
 *    50-step episodes (truncated).
 *  "bitflip-N", N = 1..64: the HER paper's bit-flipping task with a
 *    continuous action: a in [-1, 1] flips bit floor((a + 1) / 2 * N)
 *    (N - 1 for a = 1); state and goal uniform in {0, 1}^N; obs = achieved
 *    goal = bits as 0/1 floats; reward -[state != goal]; the episode ends
 *    (terminated) on reaching the goal, else is truncated after N steps.
 * INVALID_ARG for an unknown name (message lists the patterns), NOMEM.
 * *env is zeroed on failure. */
CONTRL_API contrl_status contrl_goal_env_make(const char *name, const contrl_allocator *allocator,
                                              contrl_goal_env *env);

#ifdef __cplusplus
}
#endif

#endif /* CONTRL_GOAL_ENV_H */
