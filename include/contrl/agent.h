/*
 * contrl/agent.h - off-policy actor-critic agents for continuous actions:
 * DDPG (Lillicrap et al. 2015), TD3 (Fujimoto et al. 2018) and SAC
 * (Haarnoja et al. 2018, with automatic entropy tuning, or the original
 * formulation with a state-value network), behind one handle.
 *
 * Two ways to use an agent:
 *  - embedded: your program owns the loop and the simulator; it calls
 *    contrl_agent_act, steps its simulator, contrl_agent_observe, and
 *    contrl_agent_update when it wants to learn;
 *  - contrl_agent_learn: hand the agent a contrl_env and a step budget.
 *
 * Actions: the agent's networks work in [-1, 1]^action_dim; act() returns
 * actions scaled to [action_low, action_high], observe() takes actions in
 * the same units, clips any that lie outside the bounds and stores the
 * clipped (taken) action.
 *
 * Every create/load allocates through the config's allocator; act, observe
 * and update allocate nothing. One thread at a time per agent. A failed call
 * leaves the agent as it was, except where stated.
 */
#ifndef CONTRL_AGENT_H
#define CONTRL_AGENT_H

#include <stdbool.h>

#include "contrl/buffer.h"
#include "contrl/core.h"
#include "contrl/env.h"
#include "contrl/net.h"
#include "contrl/vec_env.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct contrl_agent contrl_agent;

typedef enum contrl_algo {
    CONTRL_ALGO_DDPG = 1,
    CONTRL_ALGO_TD3 = 2,
    CONTRL_ALGO_SAC = 3,
    CONTRL_ALGO_SQL = 4  /* Soft Q-learning (Haarnoja, Tang, Abbeel, Levine 2017) */
} contrl_algo;

/* Settings every agent has. contrl_agent_config_default(algo) fills the
 * defaults of that algorithm's paper or reference code:
 *
 *   field            DDPG            TD3             SAC
 *   hidden           400, 300        256, 256        256, 256
 *   actor_lr         1e-4            3e-4            3e-4
 *   critic_lr        1e-3            3e-4            3e-4
 *   gamma            0.99            0.99            0.99
 *   tau              0.001           0.005           0.005
 *   batch_size       64              256             256
 *   buffer_capacity  1,000,000       1,000,000       1,000,000
 *   learning_starts  0               25,000          10,000
 *
 * SQL: hidden 128, 128, both lr 3e-4, batch 128, learning_starts 1000, and
 * otherwise as TD3 (the authors' softqlearning MuJoCo example; docs/sql.md).
 *
 * (DDPG paper section 7; TD3 authors' reference implementation; SAC paper
 * appendix D and its softlearning code). All use relu hidden layers,
 * train_freq 1, gradient_steps 1, no gradient clipping. */
typedef struct contrl_agent_config {
    size_t size;               /* sizeof(contrl_agent_config), set by _default() */
    uint32_t obs_dim;          /* >= 1, required */
    uint32_t action_dim;       /* >= 1, required */
    /* Action bounds, action_dim values each, copied at create; NULL means
     * [-1, 1]. Must be finite with low < high. */
    const float *action_low;
    const float *action_high;
    uint32_t n_hidden;         /* hidden layers of actor and critics */
    uint32_t hidden[CONTRL_NET_MAX_HIDDEN];
    contrl_activation hidden_act;
    float actor_lr;
    float critic_lr;           /* also the value network's (SAC v1) */
    float gamma;               /* discount, [0, 1] */
    float tau;                 /* target smoothing, (0, 1] */
    uint32_t batch_size;       /* minibatch per gradient step, >= 1 */
    uint64_t buffer_capacity;  /* replay buffer size in transitions */
    /* Used by contrl_agent_learn: uniform random actions for the first
     * learning_starts env steps, then an update round (gradient_steps
     * gradient steps) every train_freq env steps, once the buffer holds at
     * least batch_size transitions. */
    uint64_t learning_starts;
    uint32_t train_freq;       /* >= 1 */
    uint32_t gradient_steps;   /* >= 1 */
    float max_grad_norm;       /* 0 = off; else clip each net's gradient norm */
    uint64_t seed;             /* nets, noise, sampling, episodes */
    contrl_kernels kernels;    /* CONTRL_KERNELS_AUTO */
    contrl_allocator allocator;
} contrl_agent_config;

/* Defaults of `algo` (table above), obs_dim = action_dim = 0 to be set.
 * For an unknown algo returns the TD3 defaults. */
CONTRL_API contrl_status contrl_agent_config_init(contrl_agent_config *cfg, size_t size, contrl_algo algo);
static inline contrl_agent_config contrl_agent_config_default(contrl_algo algo)
{
    contrl_agent_config cfg;
    contrl_agent_config_init(&cfg, sizeof cfg, algo);
    return cfg;
}

/* ---- DDPG --------------------------------------------------------------- */
typedef enum contrl_noise {
    CONTRL_NOISE_OU = 0,       /* Ornstein-Uhlenbeck, as in the DDPG paper */
    CONTRL_NOISE_GAUSSIAN = 1, /* independent N(0, sigma^2) per step */
    CONTRL_NOISE_NONE = 2
} contrl_noise;

typedef struct contrl_ddpg_config {
    size_t size;               /* sizeof(contrl_ddpg_config) */
    contrl_noise noise;        /* default CONTRL_NOISE_OU */
    float sigma;               /* noise scale in [-1, 1] action units; 0.2 */
    float ou_theta;            /* OU mean reversion; 0.15 */
    float ou_dt;               /* OU time step; 1e-2 */
    float out_init_range;      /* final layers ~ U(-r, r); 3e-3 (paper) */
    float critic_weight_decay; /* L2 on critic weights; 1e-2 (paper) */
} contrl_ddpg_config;
CONTRL_API contrl_status contrl_ddpg_config_init(contrl_ddpg_config *cfg, size_t size);
static inline contrl_ddpg_config contrl_ddpg_config_default(void)
{
    contrl_ddpg_config cfg;
    contrl_ddpg_config_init(&cfg, sizeof cfg);
    return cfg;
}
/* Create a DDPG agent. ddpg may be NULL for its defaults. *out is NULL on
 * failure: INVALID_ARG (NULL cfg/out, sizes, ranges, NaN), UNSUPPORTED
 * (kernels), NOMEM. */
CONTRL_API contrl_status contrl_ddpg_create(const contrl_agent_config *cfg,
                                            const contrl_ddpg_config *ddpg, contrl_agent **out);

/* ---- TD3 ---------------------------------------------------------------- */
typedef struct contrl_td3_config {
    size_t size;               /* sizeof(contrl_td3_config) */
    uint32_t policy_delay;     /* d: actor and target updates every d critic
                                  updates; 2 */
    float target_noise;        /* target policy smoothing sigma; 0.2 */
    float target_noise_clip;   /* clip of that noise; 0.5 */
    float expl_noise;          /* Gaussian exploration sigma; 0.1 */
} contrl_td3_config;
CONTRL_API contrl_status contrl_td3_config_init(contrl_td3_config *cfg, size_t size);
static inline contrl_td3_config contrl_td3_config_default(void)
{
    contrl_td3_config cfg;
    contrl_td3_config_init(&cfg, sizeof cfg);
    return cfg;
}
CONTRL_API contrl_status contrl_td3_create(const contrl_agent_config *cfg,
                                           const contrl_td3_config *td3, contrl_agent **out);

/* ---- SAC ---------------------------------------------------------------- */
typedef struct contrl_sac_config {
    size_t size;               /* sizeof(contrl_sac_config) */
    bool auto_alpha;           /* tune alpha toward target_entropy; true */
    float init_alpha;          /* starting (or fixed) alpha; 1.0 if auto,
                                  else the fixed value (default 1.0; the v1
                                  paper's reward scale 5 is alpha 0.2) */
    float alpha_lr;            /* 3e-4 */
    float target_entropy;      /* NaN (default) means -action_dim */
    /* true: the original algorithm (SAC paper v1, algorithm 1) with a
     * state-value network V and its target V-bar; the Q targets use V-bar,
     * V regresses to min Q - alpha log pi. false (default): the later
     * formulation with target Q networks. */
    bool value_net;
    float log_std_min;         /* -20 */
    float log_std_max;         /* 2 */
} contrl_sac_config;
CONTRL_API contrl_status contrl_sac_config_init(contrl_sac_config *cfg, size_t size);
static inline contrl_sac_config contrl_sac_config_default(void)
{
    contrl_sac_config cfg;
    contrl_sac_config_init(&cfg, sizeof cfg);
    return cfg;
}
CONTRL_API contrl_status contrl_sac_create(const contrl_agent_config *cfg,
                                           const contrl_sac_config *sac, contrl_agent **out);

/* ---- Soft Q-learning ----------------------------------------------------
 * A soft Q network and its target, and an amortised sampling network
 * a = f(xi; s), xi ~ N(0, I), tanh output, trained by Stein variational
 * gradient descent toward pi(a|s) ~ exp(Q(s, a)) (the temperature is set
 * through reward_scale, as in the paper's code). The soft value of the next
 * state is estimated by importance sampling with value_particles uniform
 * actions: V(s') = logsumexp_j Q'(s', a_j) - log M + action_dim log 2
 * (eq. 10). The target network is copied from Q every
 * target_update_interval gradient steps (the agent config's tau is not used).
 * Acting samples xi ~ N(0, I) with explore, and uses xi = 0 without. */
typedef struct contrl_sql_config {
    size_t size;                    /* sizeof(contrl_sql_config) */
    uint32_t value_particles;       /* M, >= 1; 16 */
    uint32_t kernel_particles;      /* K, 2..64; 16 */
    float kernel_update_ratio;      /* share of K that is updated, (0, 1); 0.5 */
    float reward_scale;             /* > 0; 1 (inverse temperature) */
    uint32_t target_update_interval; /* >= 1; 1 (the authors' SQL class; their
                                        example scripts use 1000) */
} contrl_sql_config;
CONTRL_API contrl_status contrl_sql_config_init(contrl_sql_config *cfg, size_t size);
static inline contrl_sql_config contrl_sql_config_default(void)
{
    contrl_sql_config cfg;
    contrl_sql_config_init(&cfg, sizeof cfg);
    return cfg;
}
CONTRL_API contrl_status contrl_sql_create(const contrl_agent_config *cfg,
                                           const contrl_sql_config *sql, contrl_agent **out);

CONTRL_API void contrl_agent_destroy(contrl_agent *agent);

/* ---- Acting and learning in your own loop ------------------------------- */

/* Action for one observation (obs_dim floats) into action (action_dim
 * floats, env units). explore: add the algorithm's exploration (noise, or
 * SAC's sampling); else the deterministic policy (SAC: tanh of the mean).
 * INVALID_ARG for NULL, NONFINITE for NaN/Inf in obs. */
CONTRL_API contrl_status contrl_agent_act(contrl_agent *agent, const float *obs, float *action,
                                          bool explore);
/* The same for n observations (1..batch_size) at once, row-major. */
CONTRL_API contrl_status contrl_agent_act_batch(contrl_agent *agent, const float *obs, uint32_t n,
                                                float *actions, bool explore);
/* A uniform random action within the bounds, from the agent's RNG. */
CONTRL_API contrl_status contrl_agent_act_random(contrl_agent *agent, float *action);
/* Start-of-episode: reset the exploration noise state (OU). */
CONTRL_API contrl_status contrl_agent_reset_noise(contrl_agent *agent);

/* Store a transition. NaN/Inf anywhere is NONFINITE and nothing is stored;
 * an action outside the bounds is clipped and stored as clipped. See
 * contrl/buffer.h for terminated vs truncated. */
CONTRL_API contrl_status contrl_agent_observe(contrl_agent *agent, const float *obs,
                                              const float *action, float reward,
                                              const float *next_obs, bool terminated,
                                              bool truncated);

typedef struct contrl_update_stats {
    float critic_loss;   /* mean over the critics of their MSE, last step */
    float actor_loss;    /* last actor step's loss (NaN if none ran) */
    float mean_q;        /* mean Q(s, a) over the last minibatch */
    float alpha;         /* SAC's entropy coefficient (NaN otherwise) */
    float entropy;       /* SAC: -mean log pi over the last minibatch */
    float value_loss;    /* SAC v1: the value network's MSE (NaN otherwise) */
    uint64_t updates;    /* gradient steps done since creation */
} contrl_update_stats;

/* Run `gradient_steps` gradient steps on minibatches from the buffer.
 * STATE if the buffer holds fewer than batch_size transitions. If a loss or
 * gradient becomes non-finite the update stops with NUMERIC. A gradient
 * step has phases - the critics' regression, then the actor (and SAC's
 * alpha, SAC v1's value net) - and a phase that fails changes nothing: all
 * critics keep their parameters and optimiser states if any one of them
 * fails. Phases completed before the failure keep their result and are
 * counted in contrl_agent_updates (with SAC v1 the value network steps
 * after the actor and alpha: if it fails, those have stepped). The random
 * streams (minibatch sampling, target noise) have advanced either way.
 * stats may be NULL. */
CONTRL_API contrl_status contrl_agent_update(contrl_agent *agent, uint32_t gradient_steps,
                                             contrl_update_stats *stats);

/* Threads of the agent's gradient steps: 1 (the default, the calling
 * thread only) or 2 (one worker thread, started here and stopped by
 * contrl_agent_destroy or a later call with 1). With 2, TD3 and SAC run
 * the two critics' independent work - target predictions, regressions,
 * Adam steps, soft updates, SAC's passes through the critics - one on each
 * thread, and the actor's forward pass beside the critics' Adam steps;
 * DDPG and SQL have one critic and do not use the worker. Results are
 * bit-identical for 1 and 2. The worker spins for up to 1 ms waiting for
 * the next job, then sleeps. Not thread-safe with other calls on the same
 * agent. INVALID_ARG for other counts, STATE if no thread can be started
 * (the agent keeps its previous setting). */
CONTRL_API contrl_status contrl_agent_set_threads(contrl_agent *agent, uint32_t threads);
CONTRL_API uint32_t contrl_agent_threads(const contrl_agent *agent); /* 0 for NULL */

/* ---- Letting the agent run the loop ------------------------------------- */

typedef struct contrl_progress {
    uint64_t step;          /* env steps done in this learn call */
    uint64_t total_steps;   /* steps asked of this learn call */
    uint64_t agent_steps;   /* env steps the agent has seen in its life */
    uint64_t episodes;      /* episodes finished in this learn call */
    double last_return;     /* return of the last finished episode; NaN if none */
    double mean_return;     /* mean of the last 10 finished episodes; NaN if none */
    double eval_mean;       /* last evaluation's mean return; NaN if none yet */
    double eval_std;
    bool is_eval;           /* this call reports a fresh evaluation */
    double seconds;         /* wall time since the learn call started */
    double steps_per_s;
    contrl_update_stats stats;
} contrl_progress;

/* Return non-zero to stop learning early (learn then returns CONTRL_OK). */
typedef int (*contrl_progress_fn)(const contrl_progress *progress, void *user);

typedef struct contrl_learn_config {
    size_t size;                  /* sizeof(contrl_learn_config) */
    contrl_env *eval_env;         /* separate instance for evaluation; NULL: none */
    uint64_t eval_interval;       /* env steps between evaluations; 5000 */
    uint32_t eval_episodes;       /* deterministic episodes per evaluation; 10 */
    uint64_t progress_interval;   /* env steps between callbacks; 1000 */
    contrl_progress_fn callback;  /* may be NULL */
    void *user;
    /* Since 0.2 (callers built against 0.1 pass the smaller size, which
     * keeps the default). 1: each training step's update runs while the
     * env steps, on an agent with 2 threads (contrl_agent_set_threads) the
     * env on the agent's worker thread. The update then samples from the
     * transitions before this step's (one step of replay lag; the policy
     * that acts is the same), so the first update comes one step later.
     * The env's callbacks must not mind running on another thread. Same
     * results on 1 and 2 threads; different from 0. Default 0. */
    uint32_t overlap_env;
} contrl_learn_config;
/* The size of contrl_learn_config in 0.1, the smallest accepted. */
#define CONTRL_LEARN_CONFIG_SIZE_V1 (offsetof(contrl_learn_config, user) + sizeof(void *))
CONTRL_API contrl_status contrl_learn_config_init(contrl_learn_config *cfg, size_t size);
static inline contrl_learn_config contrl_learn_config_default(void)
{
    contrl_learn_config cfg;
    contrl_learn_config_init(&cfg, sizeof cfg);
    return cfg;
}

/* Run `steps` env steps of training on env (random warm-up, exploration,
 * updates as the agent config says), starting a fresh episode. Calling it
 * again continues training (counters, buffer and RNG carry over). The env's
 * dims must match the agent's. Env errors and update errors stop learning
 * and are returned. */
CONTRL_API contrl_status contrl_agent_learn(contrl_agent *agent, contrl_env *env, uint64_t steps,
                                            contrl_progress_fn callback, void *user);
CONTRL_API contrl_status contrl_agent_learn_ex(contrl_agent *agent, contrl_env *env,
                                               uint64_t steps, const contrl_learn_config *cfg);

/* The same on the n envs of a vec env (contrl/vec_env.h), stepped in
 * parallel: `steps` counts env steps over all envs. It starts fresh
 * episodes with contrl_vec_env_reset(venv, next 64 bits of the agent's
 * RNG), then each round acts on every env in env order (uniform random
 * actions for the transitions before learning_starts, as learn_ex; DDPG's
 * OU noise runs one process per env, reset with that env's episodes), steps
 * the vec env, observes the n transitions in env order, and then runs the
 * update rounds that those n single steps would have triggered under
 * learn_ex's rule. A last round keeps only the transitions still due, so
 * exactly `steps` are observed. Evaluations and progress callbacks come at
 * the first round that reaches each interval; progress.step counts env
 * steps. The result depends on the seeds only, not on the vec env's thread
 * count. The vec env's dims must match the agent's. Errors as learn_ex,
 * the vec env's included (naming the env that failed); what was learned
 * until then stays, and the next call resets the vec env. Allocates
 * nothing (its work arrays live in the vec env). */
CONTRL_API contrl_status contrl_agent_learn_vec(contrl_agent *agent, contrl_vec_env *venv,
                                                uint64_t steps, const contrl_learn_config *cfg);

/* Mean and standard deviation of the return of `episodes` deterministic
 * episodes on env, the i-th reset with seed + i. Does not change the agent
 * (its RNG and noise are untouched). mean/std may be NULL. An episode ends
 * when the env reports terminated or truncated, or after
 * env->max_episode_steps steps if that is set; an env with neither never
 * ends an evaluation. */
CONTRL_API contrl_status contrl_agent_evaluate(contrl_agent *agent, contrl_env *env,
                                               uint32_t episodes, uint64_t seed, double *mean,
                                               double *std);

/* ---- Checkpoints ----------------------------------------------------------
 * A checkpoint is a safetensors file holding every net, target net and
 * optimiser state, alpha, noise state, counters, RNG state and the config
 * (docs/checkpoint-format.md names every tensor; weights are stored as
 * [out, in] like PyTorch's nn.Linear). Saving is atomic: a crash mid-save
 * leaves the previous file intact. Loading validates everything and
 * rejects a corrupted file with FORMAT. */
#define CONTRL_SAVE_BUFFER 1u /* also save the replay buffer's contents */

CONTRL_API contrl_status contrl_agent_save(contrl_agent *agent, const char *path, unsigned flags);
/* Load a checkpoint into a new agent. allocator may be NULL. */
CONTRL_API contrl_status contrl_agent_load(const char *path, const contrl_allocator *allocator,
                                           contrl_agent **out);

/* ---- Queries ------------------------------------------------------------ */
CONTRL_API contrl_algo contrl_agent_algo(const contrl_agent *agent); /* 0 for NULL */
/* "ddpg", "td3", "sac", "sql"; NULL for an unknown value. */
CONTRL_API const char *contrl_algo_name(contrl_algo algo);
CONTRL_API uint32_t contrl_agent_obs_dim(const contrl_agent *agent);
CONTRL_API uint32_t contrl_agent_action_dim(const contrl_agent *agent);
CONTRL_API uint64_t contrl_agent_steps(const contrl_agent *agent);   /* transitions observed */
CONTRL_API uint64_t contrl_agent_updates(const contrl_agent *agent); /* gradient steps */
/* Name of the env the agent last learned on (contrl_env.name, as saved in
 * its checkpoint), "" if none. Valid while the agent lives. */
CONTRL_API const char *contrl_agent_env_name(const contrl_agent *agent);
/* The agent's replay buffer (owned by the agent), for inspection. */
CONTRL_API const contrl_buffer *contrl_agent_buffer(const contrl_agent *agent);

#ifdef __cplusplus
}
#endif

#endif /* CONTRL_AGENT_H */
