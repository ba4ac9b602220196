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
#include <stdio.h>
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
    contrl_her shape;
    memset(&shape, 0, sizeof shape);
    contrl_her_config_init(&shape.cfg, sizeof shape.cfg);
    if (her_cfg != NULL &&
        (st = contrl__config_copy(&shape.cfg, her_cfg, sizeof shape.cfg, sizeof shape.cfg, fn)) !=
            CONTRL_OK)
        return st;
    contrl_agent_config ac = contrl_agent_config_default(algo);
    if ((st = contrl__config_copy(&ac, agent_cfg, offsetof(contrl_agent_config, kernels),
                                  sizeof ac, fn)) != CONTRL_OK)
        return st;
    const contrl_her_config *c = &shape.cfg;
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
    if (ac.obs_dim != env->obs_dim || ac.action_dim != env->action_dim)
        return contrl__fail(CONTRL_ERR_INVALID_ARG,
                            "%s: agent_cfg has obs_dim %u, action_dim %u; the env %u, %u", fn,
                            ac.obs_dim, ac.action_dim, env->obs_dim, env->action_dim);
    shape.O = env->obs_dim;
    shape.G = env->goal_dim;
    shape.A = env->action_dim;
    shape.T_max = env->max_episode_steps;
    shape.in_dim = shape.O + shape.G;
    shape.batch = ac.batch_size;
    shape.env = env;
    const uint64_t per_episode = (uint64_t)shape.T_max * ((uint64_t)c->k + 1);
    shape.n_slots = ac.buffer_capacity / per_episode;
    if (shape.n_slots == 0)
        shape.n_slots = 1;
    if (shape.n_slots > ((uint64_t)1 << 40) / ((uint64_t)(shape.T_max + 1) * shape.in_dim))
        return contrl__fail(CONTRL_ERR_INVALID_ARG, "%s: buffer_capacity too large", fn);

    size_t total = layout(&shape, NULL);
    unsigned char *block = contrl__alloc(&ac.allocator, total);
    if (block == NULL)
        return contrl__fail(CONTRL_ERR_NOMEM, "%s: cannot allocate %zu bytes", fn, total);
    memset(block, 0, total);
    contrl_her *h = (contrl_her *)(void *)block;
    *h = shape;
    h->alloc = ac.allocator;
    h->block_size = total;
    layout(h, block);
    contrl_rng_seed(&h->rng, ac.seed ^ 0x4e52u);

    /* The agent sees [obs, goal]; with ON_SAMPLE its own buffer is unused. */
    ac.obs_dim = h->in_dim;
    if (c->relabel == CONTRL_HER_RELABEL_ON_SAMPLE)
        ac.buffer_capacity = ac.batch_size;
    if (algo == CONTRL_ALGO_DDPG)
        st = contrl_ddpg_create(&ac, algo_cfg, &h->agent);
    else if (algo == CONTRL_ALGO_TD3)
        st = contrl_td3_create(&ac, algo_cfg, &h->agent);
    else if (algo == CONTRL_ALGO_SAC)
        st = contrl_sac_create(&ac, algo_cfg, &h->agent);
    else
        st = contrl__fail(CONTRL_ERR_INVALID_ARG, "%s: unknown algorithm %d", fn, (int)algo);
    if (st == CONTRL_OK) {
        contrl_normalizer_config nc = contrl_normalizer_config_default();
        nc.dim = h->in_dim;
        nc.clip = c->norm_clip;
        nc.eps = c->norm_eps;
        nc.allocator = h->alloc;
        st = contrl_normalizer_create(&nc, &h->norm);
    }
    if (st != CONTRL_OK) {
        char msg[400];
        snprintf(msg, sizeof msg, "%s", contrl_last_error());
        contrl_her_destroy(h);
        return contrl__fail(st, "%s: %s", fn, msg);
    }
    contrl_agent *a = h->agent;
    a->hook_ctx = h;
    if (c->normalize)
        a->input_fn = normalize_rows;
    if (c->relabel == CONTRL_HER_RELABEL_ON_SAMPLE)
        a->sample_fn = sample_batch;
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
