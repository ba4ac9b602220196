/* lib/her/her_internal.h - goal-drawing rules of HER, exposed for tests. */
#ifndef CONTRL_HER_INTERNAL_H
#define CONTRL_HER_INTERNAL_H

#include "contrl/her.h"

/* Index (0..T) of the state of the same episode whose achieved goal
 * replaces the desired goal of transition t (state t -> t + 1) of an
 * episode of T steps, for the strategies FUTURE (t+1..T), FINAL (T) and
 * EPISODE (0..T). RANDOM picks another episode too and is handled by the
 * caller; for it this returns an index into the episode it is given. */
uint32_t contrl__her_goal_index(contrl_her_strategy strategy, uint32_t t, uint32_t T,
                                contrl_rng *rng);

/* contrl_her_load of an already loaded and validated file (path: its name
 * in messages; allocator already checked). *out NULL on error. */
#include "../io/safetensors.h"
contrl_status contrl__her_load_st(const contrl__st_file *f, const char *path,
                                  const contrl_goal_env *env, const contrl_allocator *allocator,
                                  contrl_her **out);

#endif /* CONTRL_HER_INTERNAL_H */
