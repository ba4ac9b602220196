/*
 * contrl/her.h - Hindsight Experience Replay (Andrychowicz et al. 2017):
 * goal-conditioned environments, a running observation normaliser, and a
 * wrapper that turns a DDPG, TD3 or SAC agent into a goal-conditioned
 * learner for sparse rewards.
 *
 * The wrapped agent's networks see [obs, desired_goal] (normalised). Whole
 * episodes are stored; each real transition is replayed with k extra goals
 * drawn by a strategy from achieved goals, and the reward is recomputed for
 * the new goal by the env's compute_reward.
 */
#ifndef CONTRL_HER_H
#define CONTRL_HER_H

#include <stdbool.h>

#include "contrl/agent.h"
#include "contrl/core.h"
#include "contrl/goal_env.h"
#include "contrl/normalizer.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- HER ---------------------------------------------------------------- */
typedef enum contrl_her_strategy {
    CONTRL_HER_FUTURE = 0,  /* achieved goal of a state later in the same episode */
    CONTRL_HER_FINAL = 1,   /* achieved goal of the episode's last state */
    CONTRL_HER_EPISODE = 2, /* achieved goal of any state of the same episode */
    CONTRL_HER_RANDOM = 3   /* achieved goal of any stored state of any episode */
} contrl_her_strategy;

typedef enum contrl_her_relabel {
    CONTRL_HER_RELABEL_ON_STORE = 0, /* the paper's algorithm 1: k relabelled
                                        copies of each transition enter the
                                        replay buffer when its episode ends */
    CONTRL_HER_RELABEL_ON_SAMPLE = 1 /* goals are drawn afresh each time a
                                        transition is sampled, with
                                        probability k / (k + 1) */
} contrl_her_relabel;

typedef struct contrl_her_config {
    size_t size;                  /* sizeof, set by _init/_default */
    contrl_her_strategy strategy; /* default FUTURE */
    uint32_t k;                   /* relabelled goals per real transition; 4 */
    contrl_her_relabel relabel;   /* default ON_STORE */
    bool normalize;               /* normalise [obs, goal]; default true */
    float norm_clip;              /* 5 */
    float norm_eps;               /* 0.01 */
} contrl_her_config;

CONTRL_API contrl_status contrl_her_config_init(contrl_her_config *cfg, size_t size);
static inline contrl_her_config contrl_her_config_default(void)
{
    contrl_her_config cfg;
    contrl_her_config_init(&cfg, sizeof cfg);
    return cfg;
}

typedef struct contrl_her contrl_her;

/* Create a HER learner for `env`'s sizes around a new agent of `algo`.
 * agent_cfg: the agent's settings; its obs_dim must be env->obs_dim (the
 * networks get obs_dim + goal_dim inputs), its action dims and bounds are
 * taken from it. buffer_capacity counts transitions (real + relabelled);
 * episodes are kept for relabelling up to buffer_capacity / (k + 1)
 * transitions. algo_cfg is the contrl_ddpg/td3/sac_config or NULL. The env
 * is used only for its sizes and compute_reward, and must outlive the
 * learner. */
CONTRL_API contrl_status contrl_her_create(contrl_algo algo, const contrl_agent_config *agent_cfg,
                                           const void *algo_cfg, const contrl_her_config *her_cfg,
                                           const contrl_goal_env *env, contrl_her **out);
CONTRL_API void contrl_her_destroy(contrl_her *her);

/* The wrapped agent (owned by the learner): for queries and updates. */
CONTRL_API contrl_agent *contrl_her_agent(contrl_her *her);

/* Action for one observation and desired goal, in env units. */
CONTRL_API contrl_status contrl_her_act(contrl_her *her, const float *obs, const float *desired_goal,
                                        float *action, bool explore);

/* Store one whole episode of T steps (1..max_episode_steps): obs and
 * achieved_goal have T + 1 rows (states 0..T), actions T rows (env units,
 * clipped like contrl_agent_observe), desired_goal one row; terminated says
 * whether the last step was a true terminal state. Rewards are recomputed
 * with compute_reward. NONFINITE/INVALID_ARG with nothing stored on bad
 * input. */
CONTRL_API contrl_status contrl_her_store_episode(contrl_her *her, const float *obs,
                                                  const float *achieved_goal,
                                                  const float *desired_goal, const float *actions,
                                                  uint32_t T, bool terminated);

/* Gradient steps, as contrl_agent_update. */
CONTRL_API contrl_status contrl_her_update(contrl_her *her, uint32_t gradient_steps,
                                           contrl_update_stats *stats);

/* Run `steps` env steps of training (whole episodes; the last one may run
 * past `steps`). Warm-up, update frequency and gradient steps come from the
 * agent config. The progress callback's returns are episode returns; its
 * eval_mean holds the success rate of the last evaluation (0..1). */
CONTRL_API contrl_status contrl_her_learn(contrl_her *her, contrl_goal_env *env, uint64_t steps,
                                          contrl_goal_env *eval_env, uint64_t eval_interval,
                                          contrl_progress_fn callback, void *user);

/* Deterministic episodes: success rate (share of episodes whose final
 * achieved goal gets reward 0) and mean return. Either output may be NULL. */
CONTRL_API contrl_status contrl_her_evaluate(contrl_her *her, contrl_goal_env *env,
                                             uint32_t episodes, uint64_t seed, double *success_rate,
                                             double *mean_return);

/* ---- Checkpoints --------------------------------------------------------
 * A HER checkpoint is the wrapped agent's checkpoint (contrl_agent_load can
 * read it as a plain agent over [obs, goal]) plus the normaliser, the
 * learner's RNG and config, and with CONTRL_SAVE_BUFFER the stored episodes
 * (and the agent's replay buffer), so that training resumes bit for bit.
 * Saving is atomic. load needs the same goal env (sizes are checked; the env
 * must outlive the learner); FORMAT for any inconsistency. */
CONTRL_API contrl_status contrl_her_save(contrl_her *her, const char *path, unsigned flags);
CONTRL_API contrl_status contrl_her_load(const char *path, const contrl_goal_env *env,
                                         const contrl_allocator *allocator, contrl_her **out);

#ifdef __cplusplus
}
#endif

#endif /* CONTRL_HER_H */
