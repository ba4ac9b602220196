/* lib/agents/agent_internal.h - the agent handle, shared by agent.c (life
 * cycle, acting, observing), update.c (the actor-critic machinery), learn.c
 * (the training loop) and checkpoint.c. Internal. */
#ifndef CONTRL_AGENT_INTERNAL_H
#define CONTRL_AGENT_INTERNAL_H

#include "contrl/adam.h"
#include "contrl/agent.h"
#include "contrl/buffer.h"
#include "internal.h"

/* Scalar Adam state for SAC's log alpha (contrl_adam's defaults and
 * expressions; no gradient clipping). */
typedef struct contrl__scalar_adam {
    float m, v;
    uint64_t t;
} contrl__scalar_adam;

struct contrl_agent {
    contrl_allocator alloc;
    size_t block_size;
    contrl_algo algo;
    contrl_agent_config cfg;       /* action_low/high point into low/high */
    contrl_ddpg_config ddpg;
    contrl_td3_config td3;
    contrl_sac_config sac;
    contrl_sql_config sql;
    uint32_t sql_fixed, sql_updated;   /* SVGD particle split (K = fixed + updated) */
    uint32_t obs_dim, act_dim, sa_dim, batch;

    contrl_net *actor, *actor_target; /* actor_target: DDPG and TD3 */
    uint32_t n_critics;               /* 1 (DDPG) or 2 */
    contrl_net *q[2], *q_target[2];   /* q_target: not with SAC v1 */
    contrl_net *v, *v_target;         /* SAC v1 only */
    contrl_adam *actor_opt, *q_opt[2], *v_opt;
    float log_alpha;
    float target_entropy;
    contrl__scalar_adam alpha_opt;
    contrl_buffer *buffer;
    contrl_rng rng;
    struct contrl__duo *duo;          /* worker thread (set_threads 2), else NULL */

    char env_name[64];       /* env of the last learn() / checkpoint */
    uint64_t steps;          /* transitions observed */
    uint64_t updates;        /* gradient steps */
    contrl_update_stats stats;

    /* Hooks for wrappers (HER): transform observation rows in place before
     * the networks see them (normalisation), and draw minibatches instead
     * of the replay buffer. NULL when unused. */
    void (*input_fn)(void *ctx, float *obs, uint32_t n);
    contrl_status (*sample_fn)(void *ctx, uint32_t n, float *obs, float *act, float *rew,
                               float *next_obs, float *term);
    void *hook_ctx;

    /* Arrays, all inside the agent's block. */
    float *low, *high, *mid, *half;    /* [A] bounds, centre, half-width */
    float *ou;                         /* [A] OU noise state */
    float *act_tmp;                    /* [A] scratch for observe/act */
    float *obs_tmp;                    /* [obs] scratch (evaluation) */
    float *in_tmp;                     /* [B, obs] transformed inputs of act */
    float *loop_obs, *loop_next, *loop_act; /* learn()'s current transition */
    float *b_obs, *b_act, *b_rew, *b_next, *b_term; /* minibatch */
    float *sa;                         /* [B, obs+A] critic input */
    float *pi_out;                     /* [B, A or 2A] actor output */
    float *pi_act;                     /* [B, A] actions of the policy */
    float *pi_eps;                     /* [B, A] SAC noise; TD3's target noise */
    float *pi_ls, *pi_std, *pi_u, *pi_lj; /* [B, A] SAC sample: clamped log std, std, u,
                                             log(1 - tanh(u)^2) */
    float *logp;                       /* [B] */
    float *q_a, *q_b;                  /* [B] critic outputs */
    float *y;                          /* [B] targets */
    float *dq, *dq2;                   /* [B] dL/dQ of critics 0 and 1 */
    float *dsa, *dsa2;                 /* [B, obs+A] dL/d(critic input) */
    float *d_pi;                       /* [B, A or 2A] dL/d(actor output) */
    /* SQL only (NULL otherwise) */
    float *sql_in;                     /* [B K, obs + A] sampler inputs [s, xi] */
    float *sql_act;                    /* [B K, A] particles */
    float *sql_dout;                   /* [B K, A] dL/d particles */
    float *sql_sa;                     /* [B max(M, K), obs + A] critic inputs */
    float *sql_dsa;                    /* [B K, obs + A] */
    float *sql_q;                      /* [B max(M, K)] */
    float *sql_ones;                   /* [B K] */
    float *sql_glp;                    /* [B K, A] grad log p of fixed particles */
};

/* update.c */
contrl_status contrl__agent_update_step(contrl_agent *a);

/* The learn loops' rule: after `steps` observed transitions, a round of
 * gradient steps is due (past learning_starts, on every train_freq-th
 * step, with a batch's worth stored). */
static inline bool contrl__agent_update_due(const contrl_agent *a, uint64_t steps)
{
    return steps >= a->cfg.learning_starts && steps % a->cfg.train_freq == 0 &&
           contrl_buffer_size(a->buffer) >= a->batch;
}
/* Policy outputs for n rows of obs into actions [n, A] in [-1, 1]. With
 * explore: TD3/DDPG noise or SAC sampling (advances the RNG and OU state).
 * Uses predict (no cache change). */
void contrl__agent_policy(contrl_agent *a, const float *obs, uint32_t n, float *actions,
                          bool explore);

/* checkpoint.c: an agent's checkpoint with extra tensors and metadata
 * added by `extra` (which may call the contrl__ckpt_* functions; data must
 * stay valid until the save returns: use contrl__ckpt_scratch). */
#include "../io/safetensors.h"
typedef struct contrl__ckpt contrl__ckpt;
contrl_status contrl__agent_save_ex(contrl_agent *a, const char *path, unsigned flags,
                                    void (*extra)(contrl__ckpt *, void *), void *ctx,
                                    const char *fn);
void contrl__ckpt_put(contrl__ckpt *b, contrl__dtype dt, const void *data, uint32_t ndim,
                      const uint64_t *shape, const char *name);
void contrl__ckpt_meta(contrl__ckpt *b, const char *key, const char *value);
void *contrl__ckpt_scratch(contrl__ckpt *b, size_t bytes);
/* contrl_agent_load of an already loaded and validated file (path: its name
 * in messages, fn: the public function reporting). *out NULL on error. */
contrl_status contrl__agent_load_st(const contrl__st_file *f, const char *path,
                                    const contrl_allocator *allocator, contrl_agent **out,
                                    const char *fn);

/* agent.c */
void contrl__agent_to_env_units(const contrl_agent *a, const float *in, float *out);

/* ---- shared by the training loops (learn.c, learn_vec.c) ---------------- */

/* Episodes averaged in progress reports, and the seed of the first
 * evaluation episode (far from the training ones; both loops evaluate on
 * the same episodes). */
enum { CONTRL__LEARN_RECENT = 10 };
#define CONTRL__LEARN_EVAL_SEED 0x5eed0000e7a10000ull

/* Monotonic seconds. */
double contrl__learn_now(void);

/* Fill *p for a report at env step t (episodes finished so far, the last
 * CONTRL__LEARN_RECENT returns in the ring `recent`, the learn call's start
 * time t0) and call cfg->callback; returns its result (non-zero: stop). */
int contrl__learn_report(const contrl_agent *a, const contrl_learn_config *cfg, contrl_progress *p,
                         uint64_t t, uint64_t episodes, const double *recent, bool is_eval,
                         double t0);

#endif /* CONTRL_AGENT_INTERNAL_H */
