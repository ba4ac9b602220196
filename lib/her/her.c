/* lib/her/her.c - Hindsight Experience Replay around any of the agents.
 *
 * Whole episodes are kept in a ring of episode slots (states 0..T, achieved
 * goals 0..T, actions in [-1, 1], the desired goal). Relabelling either
 * happens when an episode is stored (the paper's algorithm 1: k extra
 * copies of every transition go into the agent's replay buffer) or when a
 * minibatch is drawn (the agent's sampler hook draws transitions from the
 * episode ring and relabels each with probability k / (k + 1)). The agent
 * sees [obs, goal] rows, normalised by a running normaliser through its
 * input hook. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent_internal.h"
#include "her_internal.h"

struct contrl_her {
    contrl_allocator alloc;
    size_t block_size;
    contrl_her_config cfg;
    uint32_t O, G, A, T_max, in_dim, batch;
    const contrl_goal_env *env;
    contrl_agent *agent;
    contrl_normalizer *norm;
    contrl_rng rng;
    /* episode ring */
    uint64_t n_slots, n_stored, head;
    float *ep_obs, *ep_ag, *ep_g, *ep_act; /* [slots][T+1][O], [slots][T+1][G], [slots][G], [slots][T][A] */
    uint32_t *ep_len;
    uint8_t *ep_term;
    /* scratch */
    float *row, *row_next;          /* [in_dim] */
    float *rl_ag, *rl_g, *rl_rew;   /* [max(T_max (k+1), B)][G], same, [..] */
    float *rl_in;                   /* [T_max (k+1)][in_dim] for normaliser updates */
    float *act_tmp;                 /* [A] */
    /* learn loop: one episode */
    float *lp_obs, *lp_ag, *lp_g, *lp_act; /* [T+1][O], [T+1][G], [G], [T][A] */
};

static size_t max_size(size_t a, size_t b)
{
    return a > b ? a : b;
}

contrl_status contrl_her_config_init(contrl_her_config *cfg, size_t size)
{
    contrl_her_config d;
    memset(&d, 0, sizeof d);
    d.size = sizeof d;
    d.strategy = CONTRL_HER_FUTURE;
    d.k = 4;
    d.relabel = CONTRL_HER_RELABEL_ON_STORE;
    d.normalize = true;
    d.norm_clip = 5.0f;
    d.norm_eps = 0.01f;
    return contrl__config_init(cfg, size, &d, sizeof d, sizeof d, "contrl_her_config_init");
}

uint32_t contrl__her_goal_index(contrl_her_strategy strategy, uint32_t t, uint32_t T,
                                contrl_rng *rng)
{
    switch (strategy) {
    case CONTRL_HER_FUTURE:
        return t + 1 + (uint32_t)contrl_rng_below(rng, T - t);
    case CONTRL_HER_FINAL:
        return T;
    case CONTRL_HER_EPISODE:
    case CONTRL_HER_RANDOM:
        return (uint32_t)contrl_rng_below(rng, (uint64_t)T + 1);
    }
    return T;
}

/* ---- hooks -------------------------------------------------------------- */

static void normalize_rows(void *ctx, float *x, uint32_t n)
{
    contrl_her *h = ctx;
    contrl_normalizer_apply(h->norm, x, n, x);
}

static const float *slot_obs(const contrl_her *h, uint64_t s, uint32_t i)
{
    return h->ep_obs + (s * (h->T_max + 1) + i) * h->O;
}
static const float *slot_ag(const contrl_her *h, uint64_t s, uint32_t i)
{
    return h->ep_ag + (s * (h->T_max + 1) + i) * h->G;
}

/* The goal for relabelling transition t of slot s: an achieved goal. */
static const float *draw_goal(contrl_her *h, uint64_t s, uint32_t t)
{
    if (h->cfg.strategy == CONTRL_HER_RANDOM) {
        uint64_t other = contrl_rng_below(&h->rng, h->n_stored);
        uint64_t slot = (h->head + h->n_slots - h->n_stored + other) % h->n_slots;
        uint32_t i = contrl__her_goal_index(CONTRL_HER_RANDOM, 0, h->ep_len[slot], &h->rng);
        return slot_ag(h, slot, i);
    }
    return slot_ag(h, s, contrl__her_goal_index(h->cfg.strategy, t, h->ep_len[s], &h->rng));
}

/* Minibatch drawn from the episode ring with relabelling (ON_SAMPLE). */
static contrl_status sample_batch(void *ctx, uint32_t n, float *obs, float *act, float *rew,
                                  float *next_obs, float *term)
{
    contrl_her *h = ctx;
    if (h->n_stored == 0)
        return contrl__fail(CONTRL_ERR_STATE, "contrl_agent_update: no episode stored yet");
    const uint32_t O = h->O, G = h->G, A = h->A, D = h->in_dim;
    const uint64_t relabel_num = h->cfg.k, relabel_den = (uint64_t)h->cfg.k + 1;
    for (uint32_t r = 0; r < n; r++) {
        uint64_t s = (h->head + h->n_slots - h->n_stored + contrl_rng_below(&h->rng, h->n_stored)) %
                     h->n_slots;
        uint32_t T = h->ep_len[s];
        uint32_t t = (uint32_t)contrl_rng_below(&h->rng, T);
        const float *g = h->ep_g + s * G;
        if (contrl_rng_below(&h->rng, relabel_den) < relabel_num)
            g = draw_goal(h, s, t);
        memcpy(obs + (size_t)r * D, slot_obs(h, s, t), O * sizeof(float));
        memcpy(obs + (size_t)r * D + O, g, G * sizeof(float));
        memcpy(next_obs + (size_t)r * D, slot_obs(h, s, t + 1), O * sizeof(float));
        memcpy(next_obs + (size_t)r * D + O, g, G * sizeof(float));
        memcpy(act + (size_t)r * A, h->ep_act + (s * h->T_max + t) * A, A * sizeof(float));
        memcpy(h->rl_ag + (size_t)r * G, slot_ag(h, s, t + 1), G * sizeof(float));
        memcpy(h->rl_g + (size_t)r * G, g, G * sizeof(float));
        term[r] = (t + 1 == T && h->ep_term[s]) ? 1.0f : 0.0f;
    }
    h->env->compute_reward(h->env->user, h->rl_ag, h->rl_g, n, rew);
    if (!contrl__all_finite(rew, n))
        return contrl__fail(CONTRL_ERR_NONFINITE, "contrl_agent_update: compute_reward "
                            "returned NaN or Inf");
    return CONTRL_OK;
}

/* ---- creation ----------------------------------------------------------- */

void contrl_her_destroy(contrl_her *h)
{
    if (h == NULL)
        return;
    contrl_agent_destroy(h->agent);
    contrl_normalizer_destroy(h->norm);
    contrl_allocator al = h->alloc;
    contrl__free(&al, h, h->block_size);
}

static size_t layout(contrl_her *h, unsigned char *base)
{
    size_t off = contrl__round_up(sizeof(contrl_her), 64);
    const size_t S = h->n_slots, T = h->T_max, O = h->O, G = h->G, A = h->A, D = h->in_dim;
    const size_t R = max_size(T * ((size_t)h->cfg.k + 1), h->batch);
#define TAKE(ptr, count, type)                                                 \
    do {                                                                       \
        if (base != NULL)                                                      \
            (ptr) = (type *)(void *)(base + off);                              \
        off += contrl__round_up((count) * sizeof(type), 64);                   \
    } while (0)
    TAKE(h->ep_obs, S * (T + 1) * O, float);
    TAKE(h->ep_ag, S * (T + 1) * G, float);
    TAKE(h->ep_g, S * G, float);
    TAKE(h->ep_act, S * T * A, float);
    TAKE(h->ep_len, S, uint32_t);
    TAKE(h->ep_term, S, uint8_t);
    TAKE(h->row, D, float);
    TAKE(h->row_next, D, float);
    TAKE(h->rl_ag, R * G, float);
    TAKE(h->rl_g, R * G, float);
    TAKE(h->rl_rew, R, float);
    TAKE(h->rl_in, T * ((size_t)h->cfg.k + 1) * D, float);
    TAKE(h->act_tmp, A, float);
    TAKE(h->lp_obs, (T + 1) * O, float);
    TAKE(h->lp_ag, (T + 1) * G, float);
    TAKE(h->lp_g, G, float);
    TAKE(h->lp_act, T * A, float);
#undef TAKE
    return off;
}

static contrl_status check_her_config(const contrl_her_config *c, const char *fn)
{
    if ((int)c->strategy < 0 || c->strategy > CONTRL_HER_RANDOM)
        return contrl__fail(CONTRL_ERR_INVALID_ARG, "%s: unknown strategy %d", fn, (int)c->strategy);
    if ((int)c->relabel < 0 || c->relabel > CONTRL_HER_RELABEL_ON_SAMPLE)
        return contrl__fail(CONTRL_ERR_INVALID_ARG, "%s: unknown relabel mode %d", fn,
                            (int)c->relabel);
    if (c->k > 64)
        return contrl__fail(CONTRL_ERR_INVALID_ARG, "%s: k %u exceeds 64", fn, c->k);
    if (!(c->norm_clip > 0.0f) || !isfinite(c->norm_clip) || !(c->norm_eps > 0.0f) ||
        !isfinite(c->norm_eps))
        return contrl__fail(CONTRL_ERR_INVALID_ARG, "%s: norm_clip and norm_eps must be finite "
                            "and > 0", fn);
    return CONTRL_OK;
}

/* Everything but the agent: the block with the episode ring and scratch,
 * the normaliser, the RNG. */
static contrl_status her_shell(const contrl_her_config *c, const contrl_goal_env *env,
                               uint64_t n_slots, uint32_t batch, uint64_t seed,
                               const contrl_allocator *alloc, contrl_her **out, const char *fn)
{
    contrl_her shape;
    memset(&shape, 0, sizeof shape);
    shape.cfg = *c;
    shape.O = env->obs_dim;
    shape.G = env->goal_dim;
    shape.A = env->action_dim;
    shape.T_max = env->max_episode_steps;
    shape.in_dim = shape.O + shape.G;
    shape.batch = batch;
    shape.env = env;
    shape.n_slots = n_slots == 0 ? 1 : n_slots;
    if (shape.n_slots > ((uint64_t)1 << 40) / ((uint64_t)(shape.T_max + 1) * shape.in_dim))
        return contrl__fail(CONTRL_ERR_INVALID_ARG, "%s: buffer_capacity too large", fn);
    size_t total = layout(&shape, NULL);
    unsigned char *block = contrl__alloc(alloc, total);
    if (block == NULL)
        return contrl__fail(CONTRL_ERR_NOMEM, "%s: cannot allocate %zu bytes", fn, total);
    memset(block, 0, total);
    contrl_her *h = (contrl_her *)(void *)block;
    *h = shape;
    h->alloc = *alloc;
    h->block_size = total;
    layout(h, block);
    contrl_rng_seed(&h->rng, seed ^ 0x4e52u);
    contrl_normalizer_config nc = contrl_normalizer_config_default();
    nc.dim = h->in_dim;
    nc.clip = c->norm_clip;
    nc.eps = c->norm_eps;
    nc.allocator = h->alloc;
    contrl_status st = contrl_normalizer_create(&nc, &h->norm);
    if (st != CONTRL_OK) {
        contrl_her_destroy(h);
        return st;
    }
    *out = h;
    return CONTRL_OK;
}

static void attach(contrl_her *h)
{
    contrl_agent *a = h->agent;
    a->hook_ctx = h;
    a->input_fn = h->cfg.normalize ? normalize_rows : NULL;
    a->sample_fn = h->cfg.relabel == CONTRL_HER_RELABEL_ON_SAMPLE ? sample_batch : NULL;
}

contrl_status contrl_her_create(contrl_algo algo, const contrl_agent_config *agent_cfg,
                                const void *algo_cfg, const contrl_her_config *her_cfg,
                                const contrl_goal_env *env, contrl_her **out)
{
    static const char fn[] = "contrl_her_create";
    if (out == NULL)
        return contrl__fail(CONTRL_ERR_INVALID_ARG, "%s: out is NULL", fn);
    *out = NULL;
    if (agent_cfg == NULL || env == NULL)
        return contrl__fail(CONTRL_ERR_INVALID_ARG, "%s: %s is NULL", fn,
                            agent_cfg == NULL ? "agent_cfg" : "env");
    contrl_status st = contrl_goal_env_check(env);
    if (st != CONTRL_OK)
        return st;
    contrl_her_config hc;
    contrl_her_config_init(&hc, sizeof hc);
    if (her_cfg != NULL &&
        (st = contrl__config_copy(&hc, her_cfg, sizeof hc, sizeof hc, fn)) != CONTRL_OK)
        return st;
    if ((st = check_her_config(&hc, fn)) != CONTRL_OK)
        return st;
    contrl_agent_config ac = contrl_agent_config_default(algo);
    if ((st = contrl__config_copy(&ac, agent_cfg, offsetof(contrl_agent_config, kernels),
                                  sizeof ac, fn)) != CONTRL_OK)
        return st;
    if (ac.obs_dim != env->obs_dim || ac.action_dim != env->action_dim)
        return contrl__fail(CONTRL_ERR_INVALID_ARG,
                            "%s: agent_cfg has obs_dim %u, action_dim %u; the env %u, %u", fn,
                            ac.obs_dim, ac.action_dim, env->obs_dim, env->action_dim);
    if ((st = contrl__check_allocator(&ac.allocator, fn)) != CONTRL_OK)
        return st;
    const uint64_t per_episode = (uint64_t)env->max_episode_steps * ((uint64_t)hc.k + 1);
    contrl_her *h = NULL;
    st = her_shell(&hc, env, ac.buffer_capacity / per_episode, ac.batch_size, ac.seed,
                   &ac.allocator, &h, fn);
    if (st != CONTRL_OK)
        return st;
    /* The agent sees [obs, goal]; with ON_SAMPLE its own buffer is unused. */
    ac.obs_dim = h->in_dim;
    if (hc.relabel == CONTRL_HER_RELABEL_ON_SAMPLE)
        ac.buffer_capacity = ac.batch_size;
    if (algo == CONTRL_ALGO_DDPG)
        st = contrl_ddpg_create(&ac, algo_cfg, &h->agent);
    else if (algo == CONTRL_ALGO_TD3)
        st = contrl_td3_create(&ac, algo_cfg, &h->agent);
    else if (algo == CONTRL_ALGO_SAC)
        st = contrl_sac_create(&ac, algo_cfg, &h->agent);
    else
        st = contrl__fail(CONTRL_ERR_INVALID_ARG, "%s: unknown algorithm %d", fn, (int)algo);
    if (st != CONTRL_OK) {
        char msg[400];
        snprintf(msg, sizeof msg, "%s", contrl_last_error());
        contrl_her_destroy(h);
        return contrl__fail(st, "%s: %s", fn, msg);
    }
    attach(h);
    *out = h;
    return CONTRL_OK;
}

contrl_agent *contrl_her_agent(contrl_her *h)
{
    return h ? h->agent : NULL;
}

/* ---- acting and storing ------------------------------------------------- */

contrl_status contrl_her_act(contrl_her *h, const float *obs, const float *desired_goal,
                             float *action, bool explore)
{
    if (h == NULL || obs == NULL || desired_goal == NULL || action == NULL)
        return contrl__fail(CONTRL_ERR_INVALID_ARG, "contrl_her_act: %s is NULL",
                            h == NULL ? "her" : obs == NULL ? "obs"
                                            : desired_goal == NULL ? "desired_goal" : "action");
    memcpy(h->row, obs, h->O * sizeof(float));
    memcpy(h->row + h->O, desired_goal, h->G * sizeof(float));
    return contrl_agent_act(h->agent, h->row, action, explore);
}

contrl_status contrl_her_store_episode(contrl_her *h, const float *obs, const float *ag,
                                       const float *g, const float *actions, uint32_t T,
                                       bool terminated)
{
    static const char fn[] = "contrl_her_store_episode";
    if (h == NULL || obs == NULL || ag == NULL || g == NULL || actions == NULL)
        return contrl__fail(CONTRL_ERR_INVALID_ARG, "%s: an argument is NULL", fn);
    if (T == 0 || T > h->T_max)
        return contrl__fail(CONTRL_ERR_INVALID_ARG, "%s: T %u not in [1, %u]", fn, T, h->T_max);
    const uint32_t O = h->O, G = h->G, A = h->A, D = h->in_dim;
    if (!contrl__all_finite(obs, (size_t)(T + 1) * O) || !contrl__all_finite(ag, (size_t)(T + 1) * G) ||
        !contrl__all_finite(g, G) || !contrl__all_finite(actions, (size_t)T * A))
        return contrl__fail(CONTRL_ERR_NONFINITE, "%s: the episode contains NaN or Inf", fn);
    contrl_agent *a = h->agent;

    /* Into the episode ring (oldest slot overwritten when full). */
    const uint64_t s = h->head;
    memcpy(h->ep_obs + s * (h->T_max + 1) * O, obs, (size_t)(T + 1) * O * sizeof(float));
    memcpy(h->ep_ag + s * (h->T_max + 1) * G, ag, (size_t)(T + 1) * G * sizeof(float));
    memcpy(h->ep_g + s * G, g, G * sizeof(float));
    float *act = h->ep_act + s * h->T_max * A;
    for (size_t i = 0; i < (size_t)T * A; i++) {
        uint32_t j = (uint32_t)(i % A);
        float x = (actions[i] - a->mid[j]) / a->half[j];
        act[i] = x < -1.0f ? -1.0f : x > 1.0f ? 1.0f : x;
    }
    h->ep_len[s] = T;
    h->ep_term[s] = terminated;
    h->head = (h->head + 1) % h->n_slots;
    if (h->n_stored < h->n_slots)
        h->n_stored++;

    /* The transitions this episode contributes: real ones and k relabelled
     * copies each. They feed the normaliser in both modes and the replay
     * buffer in ON_STORE mode. */
    const uint32_t K = h->cfg.k + 1;
    const size_t rows = (size_t)T * K;
    for (uint32_t t = 0; t < T; t++)
        for (uint32_t j = 0; j < K; j++) {
            size_t r = (size_t)t * K + j;
            const float *goal = j == 0 ? g : draw_goal(h, s, t);
            memcpy(h->rl_ag + r * G, slot_ag(h, s, t + 1), G * sizeof(float));
            memcpy(h->rl_g + r * G, goal, G * sizeof(float));
            memcpy(h->rl_in + r * D, slot_obs(h, s, t), O * sizeof(float));
            memcpy(h->rl_in + r * D + O, goal, G * sizeof(float));
        }
    contrl_status st = contrl_normalizer_update(h->norm, h->rl_in, rows);
    if (st != CONTRL_OK)
        return st;
    a->steps += T;
    if (h->cfg.relabel != CONTRL_HER_RELABEL_ON_STORE)
        return CONTRL_OK;
    h->env->compute_reward(h->env->user, h->rl_ag, h->rl_g, (uint32_t)rows, h->rl_rew);
    for (size_t r = 0; r < rows; r++) {
        uint32_t t = (uint32_t)(r / K);
        memcpy(h->row, h->rl_in + r * D, D * sizeof(float));
        memcpy(h->row_next, slot_obs(h, s, t + 1), O * sizeof(float));
        memcpy(h->row_next + O, h->rl_in + r * D + O, G * sizeof(float));
        bool term = terminated && t + 1 == T;
        st = contrl_buffer_add(a->buffer, h->row, act + (size_t)t * A, h->rl_rew[r], h->row_next,
                               term, !term && t + 1 == T);
        if (st != CONTRL_OK)
            return st;
    }
    return CONTRL_OK;
}

contrl_status contrl_her_update(contrl_her *h, uint32_t gradient_steps, contrl_update_stats *stats)
{
    if (h == NULL)
        return contrl__fail(CONTRL_ERR_INVALID_ARG, "contrl_her_update: her is NULL");
    return contrl_agent_update(h->agent, gradient_steps, stats);
}

/* ---- the loop ----------------------------------------------------------- */

/* One episode on env into the lp_* arrays; *T_out steps, *term_out. */
static contrl_status run_episode(contrl_her *h, contrl_goal_env *env, uint64_t seed, bool explore,
                                 bool random, uint32_t *T_out, bool *term_out, double *ret)
{
    const uint32_t O = h->O, G = h->G, A = h->A;
    contrl_status st = env->reset(env->user, seed, h->lp_obs, h->lp_ag, h->lp_g);
    if (st != CONTRL_OK)
        return st;
    if (!contrl__all_finite(h->lp_obs, O) || !contrl__all_finite(h->lp_ag, G) ||
        !contrl__all_finite(h->lp_g, G))
        return contrl__fail(CONTRL_ERR_NONFINITE, "contrl_her: the env's reset returned NaN or Inf");
    contrl_agent_reset_noise(h->agent);
    *ret = 0.0;
    *term_out = false;
    uint32_t t = 0;
    while (t < h->T_max) {
        float *action = h->lp_act + (size_t)t * A;
        st = random ? contrl_agent_act_random(h->agent, action)
                    : contrl_her_act(h, h->lp_obs + (size_t)t * O, h->lp_g, action, explore);
        if (st != CONTRL_OK)
            return st;
        float reward;
        bool term = false, trunc = false;
        st = env->step(env->user, action, h->lp_obs + (size_t)(t + 1) * O,
                       h->lp_ag + (size_t)(t + 1) * G, &reward, &term, &trunc);
        if (st != CONTRL_OK)
            return st;
        if (!isfinite(reward) || !contrl__all_finite(h->lp_obs + (size_t)(t + 1) * O, O) ||
            !contrl__all_finite(h->lp_ag + (size_t)(t + 1) * G, G))
            return contrl__fail(CONTRL_ERR_NONFINITE, "contrl_her_learn: the env returned NaN "
                                "or Inf");
        *ret += reward;
        t++;
        if (term || trunc) {
            *term_out = term;
            break;
        }
    }
    *T_out = t;
    return CONTRL_OK;
}

static float final_reward(contrl_her *h, contrl_goal_env *env, uint32_t T)
{
    float r;
    env->compute_reward(env->user, h->lp_ag + (size_t)T * h->G, h->lp_g, 1, &r);
    return r;
}

contrl_status contrl_her_evaluate(contrl_her *h, contrl_goal_env *env, uint32_t episodes,
                                  uint64_t seed, double *success_rate, double *mean_return)
{
    static const char fn[] = "contrl_her_evaluate";
    if (h == NULL || episodes == 0)
        return contrl__fail(CONTRL_ERR_INVALID_ARG, "%s: %s", fn,
                            h == NULL ? "her is NULL" : "episodes is 0");
    contrl_status st = contrl_goal_env_check(env);
    if (st != CONTRL_OK)
        return st;
    if (env->obs_dim != h->O || env->goal_dim != h->G || env->action_dim != h->A ||
        env->max_episode_steps > h->T_max)
        return contrl__fail(CONTRL_ERR_INVALID_ARG, "%s: env sizes differ from the learner's", fn);
    double succ = 0.0, total = 0.0;
    for (uint32_t e = 0; e < episodes; e++) {
        uint32_t T;
        bool term;
        double ret;
        if ((st = run_episode(h, env, seed + e, false, false, &T, &term, &ret)) != CONTRL_OK)
            return st;
        succ += final_reward(h, env, T) >= 0.0f;
        total += ret;
    }
    if (success_rate != NULL)
        *success_rate = succ / episodes;
    if (mean_return != NULL)
        *mean_return = total / episodes;
    return CONTRL_OK;
}

#define HER_EVAL_SEED 0x5eed0000e7a1ffffull

contrl_status contrl_her_learn(contrl_her *h, contrl_goal_env *env, uint64_t steps,
                               contrl_goal_env *eval_env, uint64_t eval_interval,
                               contrl_progress_fn callback, void *user)
{
    static const char fn[] = "contrl_her_learn";
    if (h == NULL)
        return contrl__fail(CONTRL_ERR_INVALID_ARG, "%s: her is NULL", fn);
    contrl_status st = contrl_goal_env_check(env);
    if (st != CONTRL_OK)
        return st;
    if (env->obs_dim != h->O || env->goal_dim != h->G || env->action_dim != h->A ||
        env->max_episode_steps > h->T_max)
        return contrl__fail(CONTRL_ERR_INVALID_ARG, "%s: env sizes differ from the learner's", fn);
    if (eval_env != NULL && (eval_env == env || eval_interval == 0))
        return contrl__fail(CONTRL_ERR_INVALID_ARG, "%s: eval_env must be a separate instance "
                            "and eval_interval >= 1", fn);
    contrl_agent *a = h->agent;
    contrl_progress p;
    memset(&p, 0, sizeof p);
    p.total_steps = steps;
    p.last_return = p.mean_return = p.eval_mean = p.eval_std = NAN;
    double recent[10];
    uint64_t done = 0, next_eval = eval_interval, episodes = 0;
    while (done < steps) {
        uint32_t T;
        bool term;
        double ret;
        bool random = a->steps < a->cfg.learning_starts;
        st = run_episode(h, env, contrl_rng_next(&h->rng), true, random, &T, &term, &ret);
        if (st != CONTRL_OK)
            return st;
        if ((st = contrl_her_store_episode(h, h->lp_obs, h->lp_ag, h->lp_g, h->lp_act, T, term)) !=
            CONTRL_OK)
            return st;
        done += T;
        recent[episodes % 10] = ret;
        episodes++;
        bool ready = a->cfg.learning_starts <= a->steps &&
                     (h->cfg.relabel == CONTRL_HER_RELABEL_ON_SAMPLE ||
                      contrl_buffer_size(a->buffer) >= a->batch);
        if (ready) {
            uint32_t n = (uint32_t)((T + a->cfg.train_freq - 1) / a->cfg.train_freq) *
                         a->cfg.gradient_steps;
            if ((st = contrl_agent_update(a, n, NULL)) != CONTRL_OK)
                return st;
        }
        bool eval_now = eval_env != NULL && done >= next_eval;
        if (eval_now) {
            while (next_eval <= done)
                next_eval += eval_interval;
            if ((st = contrl_her_evaluate(h, eval_env, 10, HER_EVAL_SEED, &p.eval_mean,
                                          NULL)) != CONTRL_OK)
                return st;
        }
        if (callback != NULL) {
            p.step = done;
            p.agent_steps = a->steps;
            p.episodes = episodes;
            p.last_return = ret;
            uint64_t n = episodes < 10 ? episodes : 10;
            double sum = 0.0;
            for (uint64_t i = 0; i < n; i++)
                sum += recent[i];
            p.mean_return = sum / (double)n;
            p.is_eval = eval_now;
            p.stats = a->stats;
            p.stats.updates = a->updates;
            if (callback(&p, user) != 0)
                break;
        }
    }
    return CONTRL_OK;
}

/* ---- checkpoints ---------------------------------------------------------
 * A HER checkpoint is the wrapped agent's checkpoint (contrl_agent_load
 * reads it as a plain agent over [obs, goal]) plus "her.*" tensors and
 * metadata: the normaliser, the learner's RNG, and with CONTRL_SAVE_BUFFER
 * the episode ring, oldest episode first. */

static void u64_meta(contrl__ckpt *b, const char *key, uint64_t v)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%llu", (unsigned long long)v);
    contrl__ckpt_meta(b, key, buf);
}

typedef struct save_ctx {
    contrl_her *h;
    bool episodes;
} save_ctx;

static void put_her(contrl__ckpt *b, void *vctx)
{
    const save_ctx *ctx = vctx;
    contrl_her *h = ctx->h;
    const uint32_t O = h->O, G = h->G, A = h->A, D = h->in_dim, T = h->T_max;
    contrl__ckpt_meta(b, "her.format", "1");
    u64_meta(b, "her.strategy", (uint64_t)h->cfg.strategy);
    u64_meta(b, "her.k", h->cfg.k);
    u64_meta(b, "her.relabel", (uint64_t)h->cfg.relabel);
    u64_meta(b, "her.normalize", h->cfg.normalize);
    char f[32];
    snprintf(f, sizeof f, "%.9g", (double)h->cfg.norm_clip);
    contrl__ckpt_meta(b, "her.norm_clip", f);
    snprintf(f, sizeof f, "%.9g", (double)h->cfg.norm_eps);
    contrl__ckpt_meta(b, "her.norm_eps", f);
    u64_meta(b, "her.obs_dim", O);
    u64_meta(b, "her.goal_dim", G);
    u64_meta(b, "her.max_episode_steps", T);
    u64_meta(b, "her.episode_slots", h->n_slots);
    u64_meta(b, "her.episodes_saved", ctx->episodes ? h->n_stored : 0);

    uint64_t *count = contrl__ckpt_scratch(b, sizeof(uint64_t));
    double *sum = contrl__ckpt_scratch(b, D * sizeof(double));
    double *sq = contrl__ckpt_scratch(b, D * sizeof(double));
    uint64_t *rng = contrl__ckpt_scratch(b, 4 * sizeof(uint64_t));
    float *spare = contrl__ckpt_scratch(b, 2 * sizeof(float));
    if (count == NULL || sum == NULL || sq == NULL || rng == NULL || spare == NULL)
        return;
    contrl_normalizer_get_state(h->norm, count, sum, sq);
    memcpy(rng, h->rng.s, sizeof h->rng.s);
    spare[0] = h->rng.spare;
    spare[1] = h->rng.has_spare ? 1.0f : 0.0f;
    const uint64_t d[1] = {D}, four[1] = {4}, two[1] = {2};
    contrl__ckpt_put(b, CONTRL__DT_U64, count, 0, NULL, "her.normalizer.count");
    contrl__ckpt_put(b, CONTRL__DT_F64, sum, 1, d, "her.normalizer.sum");
    contrl__ckpt_put(b, CONTRL__DT_F64, sq, 1, d, "her.normalizer.sum_sq");
    contrl__ckpt_put(b, CONTRL__DT_U64, rng, 1, four, "her.rng.state");
    contrl__ckpt_put(b, CONTRL__DT_F32, spare, 1, two, "her.rng.spare");
    if (!ctx->episodes)
        return;
    const uint64_t n = h->n_stored;
    float *obs = contrl__ckpt_scratch(b, n * (T + 1) * O * sizeof(float));
    float *ag = contrl__ckpt_scratch(b, n * (T + 1) * G * sizeof(float));
    float *g = contrl__ckpt_scratch(b, n * G * sizeof(float));
    float *act = contrl__ckpt_scratch(b, n * T * A * sizeof(float));
    uint64_t *len = contrl__ckpt_scratch(b, n * sizeof(uint64_t));
    uint8_t *term = contrl__ckpt_scratch(b, n);
    if (obs == NULL || ag == NULL || g == NULL || act == NULL || len == NULL || term == NULL)
        return;
    for (uint64_t i = 0; i < n; i++) {
        uint64_t slot = (h->head + h->n_slots - n + i) % h->n_slots;
        memcpy(obs + i * (T + 1) * O, h->ep_obs + slot * (T + 1) * O, (T + 1) * O * sizeof(float));
        memcpy(ag + i * (T + 1) * G, h->ep_ag + slot * (T + 1) * G, (T + 1) * G * sizeof(float));
        memcpy(g + i * G, h->ep_g + slot * G, G * sizeof(float));
        memcpy(act + i * T * A, h->ep_act + slot * T * A, (size_t)T * A * sizeof(float));
        len[i] = h->ep_len[slot];
        term[i] = h->ep_term[slot];
    }
    const uint64_t s_obs[3] = {n, T + 1, O}, s_ag[3] = {n, T + 1, G}, s_g[2] = {n, G},
                   s_act[3] = {n, T, A}, s_n[1] = {n};
    contrl__ckpt_put(b, CONTRL__DT_F32, obs, 3, s_obs, "her.episodes.obs");
    contrl__ckpt_put(b, CONTRL__DT_F32, ag, 3, s_ag, "her.episodes.achieved_goal");
    contrl__ckpt_put(b, CONTRL__DT_F32, g, 2, s_g, "her.episodes.desired_goal");
    contrl__ckpt_put(b, CONTRL__DT_F32, act, 3, s_act, "her.episodes.action");
    contrl__ckpt_put(b, CONTRL__DT_U64, len, 1, s_n, "her.episodes.length");
    contrl__ckpt_put(b, CONTRL__DT_U8, term, 1, s_n, "her.episodes.terminated");
}

contrl_status contrl_her_save(contrl_her *h, const char *path, unsigned flags)
{
    if (h == NULL || path == NULL)
        return contrl__fail(CONTRL_ERR_INVALID_ARG, "contrl_her_save: %s is NULL",
                            h == NULL ? "her" : "path");
    save_ctx ctx = {h, (flags & CONTRL_SAVE_BUFFER) != 0};
    return contrl__agent_save_ex(h->agent, path, flags, put_her, &ctx, "contrl_her_save");
}

static bool meta_u64(const contrl__st_file *f, const char *key, uint64_t max, uint64_t *out)
{
    const char *v = contrl__st_meta(f, key);
    if (v == NULL || v[0] < '0' || v[0] > '9')
        return false;
    char *end;
    errno = 0;
    unsigned long long x = strtoull(v, &end, 10);
    if (*end != '\0' || errno == ERANGE || x > max) /* ERANGE: above 2^64 - 1 */
        return false;
    *out = x;
    return true;
}

static bool meta_float(const contrl__st_file *f, const char *key, float *out)
{
    const char *v = contrl__st_meta(f, key);
    if (v == NULL)
        return false;
    char *end;
    errno = 0;
    float x = strtof(v, &end);
    if (end == v || *end != '\0' || errno == ERANGE || !isfinite(x))
        return false;
    *out = x;
    return true;
}

contrl_status contrl_her_load(const char *path, const contrl_goal_env *env,
                              const contrl_allocator *allocator, contrl_her **out)
{
    static const char fn[] = "contrl_her_load";
    if (out == NULL)
        return contrl__fail(CONTRL_ERR_INVALID_ARG, "%s: out is NULL", fn);
    *out = NULL;
    if (path == NULL)
        return contrl__fail(CONTRL_ERR_INVALID_ARG, "%s: path is NULL", fn);
    contrl_status st = contrl_goal_env_check(env);
    if (st != CONTRL_OK)
        return st;
    contrl_allocator alloc = {NULL, NULL, NULL};
    if (allocator != NULL) {
        if ((st = contrl__check_allocator(allocator, fn)) != CONTRL_OK)
            return st;
        alloc = *allocator;
    }
    contrl__st_file *f;
    if ((st = contrl__st_load(path, &alloc, &f)) != CONTRL_OK) {
        char msg[400];
        snprintf(msg, sizeof msg, "%s", contrl_last_error());
        return contrl__fail(st, "%s: %s", fn, msg);
    }
    st = contrl__her_load_st(f, path, env, allocator, out);
    contrl__st_close(f);
    return st;
}

contrl_status contrl__her_load_st(const contrl__st_file *f, const char *path,
                                  const contrl_goal_env *env, const contrl_allocator *allocator,
                                  contrl_her **out)
{
    static const char fn[] = "contrl_her_load";
    *out = NULL;
    contrl_status st = contrl_goal_env_check(env);
    if (st != CONTRL_OK)
        return st;
    contrl_allocator alloc = {NULL, NULL, NULL};
    if (allocator != NULL)
        alloc = *allocator;
    /* FORMAT unless the failure is an allocation (NOMEM). */
    contrl_status code = CONTRL_ERR_FORMAT;
    const char *why = NULL;
    contrl_her_config hc;
    contrl_her_config_init(&hc, sizeof hc);
    uint64_t strategy = 0, k = 0, relabel = 0, normalize = 0, O = 0, G = 0, T = 0, slots = 0,
             n_eps = 0;
    if (!meta_u64(f, "her.strategy", 3, &strategy) || !meta_u64(f, "her.k", 64, &k) ||
        !meta_u64(f, "her.relabel", 1, &relabel) || !meta_u64(f, "her.normalize", 1, &normalize) ||
        !meta_float(f, "her.norm_clip", &hc.norm_clip) || !meta_float(f, "her.norm_eps", &hc.norm_eps) ||
        !meta_u64(f, "her.obs_dim", 65536, &O) || !meta_u64(f, "her.goal_dim", 65536, &G) ||
        !meta_u64(f, "her.max_episode_steps", UINT32_MAX, &T) ||
        !meta_u64(f, "her.episode_slots", UINT64_MAX, &slots) ||
        !meta_u64(f, "her.episodes_saved", UINT64_MAX, &n_eps))
        why = "the her.* metadata is missing or malformed (not a HER checkpoint?)";
    else if (O != env->obs_dim || G != env->goal_dim || T != env->max_episode_steps)
        why = "the env's obs_dim, goal_dim or max_episode_steps differ from the checkpoint's";
    else if (n_eps > slots)
        why = "more saved episodes than episode slots";
    hc.strategy = (contrl_her_strategy)strategy;
    hc.k = (uint32_t)k;
    hc.relabel = (contrl_her_relabel)relabel;
    hc.normalize = normalize != 0;
    contrl_her *h = NULL;
    if (why == NULL && check_her_config(&hc, fn) != CONTRL_OK)
        why = "the stored HER config is invalid";
    contrl_agent *agent = NULL;
    if (why == NULL && (st = contrl__agent_load_st(f, path, allocator, &agent,
                                                     "contrl_agent_load")) != CONTRL_OK) {
        code = st;
        why = contrl_last_error();
    }
    if (why == NULL && (agent->obs_dim != O + G || agent->act_dim != env->action_dim))
        why = "the agent's sizes do not match the env's";
    if (why == NULL &&
        (st = her_shell(&hc, env, slots, agent->batch, 0, &alloc, &h, fn)) != CONTRL_OK) {
        code = st == CONTRL_ERR_NOMEM ? st : CONTRL_ERR_FORMAT;
        why = contrl_last_error();
    }
    if (why == NULL) {
        h->agent = agent;
        agent = NULL;
        attach(h);
        const uint32_t D = h->in_dim, A = h->A;
        uint64_t count = 0, rng[4] = {0};
        float spare[2] = {0};
        const uint64_t d[1] = {D}, four[1] = {4}, two[1] = {2};
        double *sum = contrl__alloc(&alloc, 2 * D * sizeof(double));
        if (sum == NULL) {
            why = "out of memory";
            code = CONTRL_ERR_NOMEM;
        }
        else if (contrl__st_get(f, "her.normalizer.count", CONTRL__DT_U64, 0, NULL, &count) ||
                 contrl__st_get(f, "her.normalizer.sum", CONTRL__DT_F64, 1, d, sum) ||
                 contrl__st_get(f, "her.normalizer.sum_sq", CONTRL__DT_F64, 1, d, sum + D) ||
                 contrl__st_get(f, "her.rng.state", CONTRL__DT_U64, 1, four, rng) ||
                 contrl__st_get(f, "her.rng.spare", CONTRL__DT_F32, 1, two, spare))
            why = contrl_last_error();
        else if (contrl_normalizer_set_state(h->norm, count, sum, sum + D) != CONTRL_OK)
            why = contrl_last_error();
        else if ((rng[0] | rng[1] | rng[2] | rng[3]) == 0 || (spare[1] != 0.0f && spare[1] != 1.0f))
            why = "her.rng is invalid";
        contrl__free(&alloc, sum, 2 * D * sizeof(double));
        if (why == NULL) {
            memcpy(h->rng.s, rng, sizeof rng);
            h->rng.spare = spare[0];
            h->rng.has_spare = spare[1] != 0.0f;
        }
        /* Episodes go straight into slots 0..n-1 (oldest first). */
        const uint64_t s_obs[3] = {n_eps, T + 1, O}, s_ag[3] = {n_eps, T + 1, G},
                       s_g[2] = {n_eps, G}, s_act[3] = {n_eps, T, A}, s_n[1] = {n_eps};
        uint64_t *len = NULL;
        if (why == NULL && n_eps > 0) {
            len = contrl__alloc(&alloc, n_eps * (sizeof(uint64_t) + 1));
            if (len == NULL) {
                why = "out of memory";
                code = CONTRL_ERR_NOMEM;
            }
            else if (contrl__st_get(f, "her.episodes.obs", CONTRL__DT_F32, 3, s_obs, h->ep_obs) ||
                     contrl__st_get(f, "her.episodes.achieved_goal", CONTRL__DT_F32, 3, s_ag,
                                    h->ep_ag) ||
                     contrl__st_get(f, "her.episodes.desired_goal", CONTRL__DT_F32, 2, s_g, h->ep_g) ||
                     contrl__st_get(f, "her.episodes.action", CONTRL__DT_F32, 3, s_act, h->ep_act) ||
                     contrl__st_get(f, "her.episodes.length", CONTRL__DT_U64, 1, s_n, len) ||
                     contrl__st_get(f, "her.episodes.terminated", CONTRL__DT_U8, 1, s_n,
                                    (uint8_t *)(len + n_eps)))
                why = contrl_last_error();
            for (uint64_t i = 0; why == NULL && i < n_eps; i++) {
                uint8_t term = ((uint8_t *)(len + n_eps))[i];
                if (len[i] == 0 || len[i] > T || term > 1)
                    why = "a saved episode has a bad length or flag";
                h->ep_len[i] = (uint32_t)len[i];
                h->ep_term[i] = term;
            }
            for (uint64_t i = 0; why == NULL && i < n_eps * T * A; i++)
                if (h->ep_act[i] < -1.0f || h->ep_act[i] > 1.0f)
                    why = "a saved episode action lies outside [-1, 1]";
            contrl__free(&alloc, len, n_eps * (sizeof(uint64_t) + 1));
            h->n_stored = n_eps;
            h->head = n_eps % h->n_slots;
        }
    }
    char msg[400];
    if (why != NULL)
        snprintf(msg, sizeof msg, "%s", why);
    contrl_agent_destroy(agent);
    if (why != NULL) {
        contrl_her_destroy(h);
        return contrl__fail(code, "%s: %s: %s", fn, path, msg);
    }
    *out = h;
    return CONTRL_OK;
}
