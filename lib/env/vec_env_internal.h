/* lib/env/vec_env_internal.h - what lib/agents/learn_vec.c needs from a
 * vec env beyond contrl/vec_env.h. Internal. */
#ifndef CONTRL_VEC_ENV_INTERNAL_H
#define CONTRL_VEC_ENV_INTERNAL_H

#include "contrl/vec_env.h"
#include "internal.h"

/* Work arrays for contrl_agent_learn_vec, allocated with the vec env (in
 * its one block) so that learning allocates nothing; no other user. Each
 * holds one row per env, env i's at i * (row length). */
typedef struct contrl__vec_scratch {
    float *obs;          /* [n, obs_dim] observations the actions were taken in */
    float *actions;      /* [n, action_dim] */
    float *next_obs;     /* [n, obs_dim] */
    float *rewards;      /* [n] */
    bool *terminated;    /* [n] */
    bool *truncated;     /* [n] */
    double *returns;     /* [n] return of each env's current episode */
    float *noise;        /* [n, action_dim] per-env exploration noise state (OU) */
} contrl__vec_scratch;

contrl__vec_scratch *contrl__vec_env_scratch(contrl_vec_env *v);

#endif /* CONTRL_VEC_ENV_INTERNAL_H */
