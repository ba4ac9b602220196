/* lib/env/tasks.h - the built-in tasks, as seen by env.c; never installed.
 *
 * Each task fills a contrl_env with a fresh instance whose state (bounds
 * arrays, step counter, RNG) lives in one block from `allocator`, freed by
 * the env's destroy callback. The allocator has been checked by the caller.
 * On error *env is left untouched and the error message is recorded. */
#ifndef CONTRL_ENV_TASKS_H
#define CONTRL_ENV_TASKS_H

#include "contrl/env.h"

/* Shared start of contrl_env_make and contrl_goal_env_make: zero the
 * caller's struct (env_size bytes; a failed make leaves something close()
 * accepts), check name and allocator, and point *allocator at the C
 * library's when it is NULL. */
contrl_status contrl__env_make_begin(const char *func, void *env, size_t env_size,
                                     const char *name, const contrl_allocator **allocator);

contrl_status contrl__pendulum_make(const contrl_allocator *allocator, contrl_env *env);
contrl_status contrl__mountaincar_make(const contrl_allocator *allocator, contrl_env *env);
contrl_status contrl__multigoal_make(const contrl_allocator *allocator, contrl_env *env);

#endif /* CONTRL_ENV_TASKS_H */

/* ---- Goal-conditioned tasks (goal_env.c) ---------------------------------
 * Same contract as above for a contrl_goal_env; n is the task's size, already
 * checked by contrl_goal_env_make against the task's range. */
#ifndef CONTRL_ENV_GOAL_TASKS_H
#define CONTRL_ENV_GOAL_TASKS_H

#include "contrl/goal_env.h"

enum { CONTRL__POINTREACH_MAX_N = 10, CONTRL__BITFLIP_MAX_N = 64 };

contrl_status contrl__pointreach_make(uint32_t n, const contrl_allocator *allocator,
                                      contrl_goal_env *env);
contrl_status contrl__bitflip_make(uint32_t n, const contrl_allocator *allocator,
                                   contrl_goal_env *env);

#endif /* CONTRL_ENV_GOAL_TASKS_H */
