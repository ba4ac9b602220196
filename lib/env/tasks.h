/* lib/env/tasks.h - the built-in tasks, as seen by env.c; never installed.
 *
 * Each task fills a contrl_env with a fresh instance whose state (bounds
 * arrays, step counter, RNG) lives in one block from `allocator`, freed by
 * the env's destroy callback. The allocator has been checked by the caller.
 * On error *env is left untouched and the error message is recorded. */
#ifndef CONTRL_ENV_TASKS_H
#define CONTRL_ENV_TASKS_H

#include "contrl/env.h"

contrl_status contrl__pendulum_make(const contrl_allocator *allocator, contrl_env *env);
contrl_status contrl__mountaincar_make(const contrl_allocator *allocator, contrl_env *env);

#endif /* CONTRL_ENV_TASKS_H */
