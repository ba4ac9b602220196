/* lib/agents/agent.c - creating agents, acting, observing, queries. */
#include <stdio.h>
#include <string.h>

#include "agent_internal.h"
#include "duo.h"
#include "nn.h"

/* ---- configs ------------------------------------------------------------ */

static contrl_agent_config agent_defaults(contrl_algo algo)
{
    contrl_agent_config c;
    memset(&c, 0, sizeof c);
    c.size = sizeof c;
    c.n_hidden = 2;
    c.hidden[0] = 256;
    c.hidden[1] = 256;
    c.hidden_act = CONTRL_ACT_RELU;
    c.actor_lr = 3e-4f;
    c.critic_lr = 3e-4f;
    c.gamma = 0.99f;
    c.tau = 0.005f;
    c.batch_size = 256;
    c.buffer_capacity = 1000000;
    c.learning_starts = algo == CONTRL_ALGO_SAC ? 10000 : 25000;
    c.train_freq = 1;
    c.gradient_steps = 1;
    c.kernels = CONTRL_KERNELS_AUTO;
    if (algo == CONTRL_ALGO_SQL) { /* softqlearning's MuJoCo examples */
        c.hidden[0] = 128;
        c.hidden[1] = 128;
        c.batch_size = 128;
        c.learning_starts = 1000;
    }
    if (algo == CONTRL_ALGO_DDPG) { /* Lillicrap et al. 2015, section 7 */
        c.hidden[0] = 400;
        c.hidden[1] = 300;
        c.actor_lr = 1e-4f;
        c.critic_lr = 1e-3f;
        c.tau = 0.001f;
        c.batch_size = 64;
        c.learning_starts = 0;
    }
    return c;
}

static contrl_ddpg_config ddpg_defaults(void)
{
    contrl_ddpg_config c = {.size = sizeof c,
                            .noise = CONTRL_NOISE_OU,
                            .sigma = 0.2f,
                            .ou_theta = 0.15f,
                            .ou_dt = 1e-2f,
                            .out_init_range = 3e-3f,
                            .critic_weight_decay = 1e-2f};
    return c;
}

static contrl_td3_config td3_defaults(void)
{
    contrl_td3_config c = {.size = sizeof c,
                           .policy_delay = 2,
                           .target_noise = 0.2f,
                           .target_noise_clip = 0.5f,
                           .expl_noise = 0.1f};
    return c;
}

static contrl_sac_config sac_defaults(void)
{
    contrl_sac_config c;
    memset(&c, 0, sizeof c);
    c.size = sizeof c;
    c.auto_alpha = true;
    c.init_alpha = 1.0f;
    c.alpha_lr = 3e-4f;
    c.target_entropy = NAN;
    c.value_net = false;
    c.log_std_min = -20.0f;
    c.log_std_max = 2.0f;
    return c;
}

static contrl_sql_config sql_defaults(void)
{
    contrl_sql_config c;
    memset(&c, 0, sizeof c);
    c.size = sizeof c;
    c.value_particles = 16;     /* softqlearning: value_n_particles */
    c.kernel_particles = 16;    /* kernel_n_particles */
    c.kernel_update_ratio = 0.5f;
    c.reward_scale = 1.0f;
    c.target_update_interval = 1; /* td_target_update_interval */
    return c;
}

const char *contrl_algo_name(contrl_algo algo)
{
    switch (algo) {
    case CONTRL_ALGO_DDPG: return "ddpg";
    case CONTRL_ALGO_TD3: return "td3";
    case CONTRL_ALGO_SAC: return "sac";
    case CONTRL_ALGO_SQL: return "sql";
    }
    return NULL;
}

static bool finite_in(float x, float lo, float hi)
{
    return isfinite(x) && x >= lo && x <= hi;
}

static contrl_status check_common(const contrl_agent_config *c, const char *fn)
{
#define BAD(...) return contrl__fail(CONTRL_ERR_INVALID_ARG, __VA_ARGS__)
    if (c->obs_dim == 0 || c->action_dim == 0)
        BAD("%s: obs_dim (%u) and action_dim (%u) must be >= 1", fn, c->obs_dim, c->action_dim);
    if (c->obs_dim > 65536 || c->action_dim > 4096)
        BAD("%s: obs_dim or action_dim too large", fn);
    if ((c->action_low == NULL) != (c->action_high == NULL))
        BAD("%s: give both action_low and action_high, or neither", fn);
    if (c->action_low != NULL)
        for (uint32_t i = 0; i < c->action_dim; i++)
            if (!isfinite(c->action_low[i]) || !isfinite(c->action_high[i]) ||
                !(c->action_low[i] < c->action_high[i]))
                BAD("%s: action bounds [%g, %g] at %u must be finite with low < high", fn,
                    (double)c->action_low[i], (double)c->action_high[i], i);
    if (c->n_hidden == 0 || c->n_hidden > CONTRL_NET_MAX_HIDDEN)
        BAD("%s: n_hidden %u out of [1, %d]", fn, c->n_hidden, CONTRL_NET_MAX_HIDDEN);
    if (!(c->actor_lr > 0.0f) || !isfinite(c->actor_lr) || !(c->critic_lr > 0.0f) ||
        !isfinite(c->critic_lr))
        BAD("%s: actor_lr and critic_lr must be finite and > 0", fn);
    if (!finite_in(c->gamma, 0.0f, 1.0f))
        BAD("%s: gamma %g not in [0, 1]", fn, (double)c->gamma);
    if (!finite_in(c->tau, 0.0f, 1.0f) || c->tau == 0.0f)
        BAD("%s: tau %g not in (0, 1]", fn, (double)c->tau);
    if (c->batch_size == 0 || c->batch_size > 65536)
        BAD("%s: batch_size %u not in [1, 65536]", fn, c->batch_size);
    if (c->buffer_capacity < c->batch_size)
        BAD("%s: buffer_capacity %llu is below batch_size %u", fn,
            (unsigned long long)c->buffer_capacity, c->batch_size);
    if (c->train_freq == 0 || c->gradient_steps == 0)
        BAD("%s: train_freq and gradient_steps must be >= 1", fn);
    if (!(c->max_grad_norm >= 0.0f) || !isfinite(c->max_grad_norm))
        BAD("%s: max_grad_norm must be finite and >= 0", fn);
#undef BAD
    return contrl__check_allocator(&c->allocator, fn);
}

static contrl_status check_algo(contrl_agent *a, const char *fn)
{
#define BAD(...) return contrl__fail(CONTRL_ERR_INVALID_ARG, __VA_ARGS__)
    switch (a->algo) {
    case CONTRL_ALGO_DDPG:
        if (a->ddpg.noise != CONTRL_NOISE_OU && a->ddpg.noise != CONTRL_NOISE_GAUSSIAN &&
            a->ddpg.noise != CONTRL_NOISE_NONE)
            BAD("%s: unknown noise type %d", fn, (int)a->ddpg.noise);
        if (!finite_in(a->ddpg.sigma, 0.0f, 10.0f) || !finite_in(a->ddpg.ou_theta, 0.0f, 1e3f) ||
            !finite_in(a->ddpg.ou_dt, 0.0f, 1e3f) || a->ddpg.ou_dt == 0.0f)
            BAD("%s: sigma, ou_theta must be finite >= 0 and ou_dt > 0", fn);
        if (!finite_in(a->ddpg.out_init_range, 0.0f, 1e3f) ||
            !finite_in(a->ddpg.critic_weight_decay, 0.0f, 1e3f))
            BAD("%s: out_init_range and critic_weight_decay must be finite >= 0", fn);
        break;
    case CONTRL_ALGO_TD3:
        if (a->td3.policy_delay == 0)
            BAD("%s: policy_delay must be >= 1", fn);
        if (!finite_in(a->td3.target_noise, 0.0f, 10.0f) ||
            !finite_in(a->td3.target_noise_clip, 0.0f, 10.0f) ||
            !finite_in(a->td3.expl_noise, 0.0f, 10.0f))
            BAD("%s: target_noise, target_noise_clip, expl_noise must be finite >= 0", fn);
        break;
    case CONTRL_ALGO_SAC:
        if (!(a->sac.init_alpha > 0.0f) || !isfinite(a->sac.init_alpha))
            BAD("%s: init_alpha must be finite and > 0", fn);
        if (!(a->sac.alpha_lr > 0.0f) || !isfinite(a->sac.alpha_lr))
            BAD("%s: alpha_lr must be finite and > 0", fn);
        if (isinf(a->sac.target_entropy))
            BAD("%s: target_entropy must be finite (or NaN for -action_dim)", fn);
        if (!isfinite(a->sac.log_std_min) || !isfinite(a->sac.log_std_max) ||
            !(a->sac.log_std_min < a->sac.log_std_max))
            BAD("%s: need finite log_std_min < log_std_max", fn);
        break;
    case CONTRL_ALGO_SQL:
        if (a->sql.value_particles == 0 || a->sql.value_particles > 1024)
            BAD("%s: value_particles %u not in [1, 1024]", fn, a->sql.value_particles);
        if (a->sql.kernel_particles < 2 || a->sql.kernel_particles > 64)
            BAD("%s: kernel_particles %u not in [2, 64]", fn, a->sql.kernel_particles);
        if (!(a->sql.kernel_update_ratio > 0.0f && a->sql.kernel_update_ratio < 1.0f))
            BAD("%s: kernel_update_ratio must be in (0, 1)", fn);
        if (!(a->sql.reward_scale > 0.0f) || !isfinite(a->sql.reward_scale))
            BAD("%s: reward_scale must be finite and > 0", fn);
        if (a->sql.target_update_interval == 0)
            BAD("%s: target_update_interval must be >= 1", fn);
        if ((uint64_t)a->cfg.batch_size * a->sql.kernel_particles > (1u << 24) ||
            (uint64_t)a->cfg.batch_size * a->sql.value_particles > (1u << 24))
            BAD("%s: batch_size times particles exceeds 2^24", fn);
        break;
    }
#undef BAD
    return CONTRL_OK;
}

/* ---- creation ----------------------------------------------------------- */

static contrl_status make_net_b(contrl_agent *a, uint32_t in, uint32_t out,
                                contrl_activation out_act, float out_init, uint32_t max_batch,
                                contrl_net **net)
{
    contrl_net_config nc = contrl_net_config_default();
    nc.in = in;
    nc.out = out;
    nc.n_hidden = a->cfg.n_hidden;
    memcpy(nc.hidden, a->cfg.hidden, sizeof nc.hidden);
    nc.hidden_act = a->cfg.hidden_act;
    nc.out_act = out_act;
    nc.out_init_range = out_init;
    nc.max_batch = max_batch;
    nc.seed = contrl_rng_next(&a->rng);
    nc.kernels = a->cfg.kernels;
    nc.allocator = a->alloc;
    return contrl_net_create(&nc, net);
}

static contrl_status make_net(contrl_agent *a, uint32_t in, uint32_t out, contrl_activation out_act,
                              float out_init, contrl_net **net)
{
    return make_net_b(a, in, out, out_act, out_init, a->batch, net);
}

static contrl_status make_adam(contrl_agent *a, const contrl_net *net, float lr, contrl_adam **opt)
{
    contrl_adam_config ac = contrl_adam_config_default();
    ac.lr = lr;
    ac.max_grad_norm = a->cfg.max_grad_norm;
    ac.allocator = a->alloc;
    return contrl_adam_create(&ac, contrl_net_param_count(net), opt);
}

void contrl_agent_destroy(contrl_agent *a)
{
    if (a == NULL)
        return;
    contrl_net_destroy(a->actor);
    contrl_net_destroy(a->actor_target);
    for (int i = 0; i < 2; i++) {
        contrl_net_destroy(a->q[i]);
        contrl_net_destroy(a->q_target[i]);
        contrl_adam_destroy(a->q_opt[i]);
    }
    contrl_net_destroy(a->v);
    contrl_net_destroy(a->v_target);
    contrl_adam_destroy(a->actor_opt);
    contrl_adam_destroy(a->v_opt);
    contrl_buffer_destroy(a->buffer);
    contrl__duo_destroy(a->duo, &a->alloc);
    contrl_allocator al = a->alloc;
    contrl__free(&al, a, a->block_size);
}

/* One block: the handle, then every array (64-byte aligned). */
static size_t layout(contrl_agent *a, unsigned char *base)
{
    size_t off = contrl__round_up(sizeof(contrl_agent), 64);
    const size_t A = a->act_dim, O = a->obs_dim, B = a->batch, SA = a->sa_dim;
    const size_t P = a->algo == CONTRL_ALGO_SAC ? 2 * A : A;
#define TAKE(ptr, count)                                                       \
    do {                                                                       \
        if (base != NULL)                                                      \
            (ptr) = (float *)(void *)(base + off);                             \
        off += contrl__round_up((count) * sizeof(float), 64);                  \
    } while (0)
    TAKE(a->low, A);
    TAKE(a->high, A);
    TAKE(a->mid, A);
    TAKE(a->half, A);
    TAKE(a->ou, A);
    TAKE(a->act_tmp, A);
    TAKE(a->obs_tmp, O);
    TAKE(a->in_tmp, B * O);
    TAKE(a->loop_obs, O);
    TAKE(a->loop_next, O);
    TAKE(a->loop_act, A);
    TAKE(a->b_obs, B * O);
    TAKE(a->b_act, B * A);
    TAKE(a->b_rew, B);
    TAKE(a->b_next, B * O);
    TAKE(a->b_term, B);
    TAKE(a->sa, B * SA);
    TAKE(a->pi_out, B * P);
    TAKE(a->pi_act, B * A);
    TAKE(a->pi_eps, B * A);
    TAKE(a->pi_ls, B * A);
    TAKE(a->pi_std, B * A);
    TAKE(a->pi_u, B * A);
    TAKE(a->pi_lj, B * A);
    TAKE(a->logp, B);
    TAKE(a->q_a, B);
    TAKE(a->q_b, B);
    TAKE(a->y, B);
    TAKE(a->dq, B);
    TAKE(a->dq2, B);
    TAKE(a->dsa, B * SA);
    TAKE(a->dsa2, B * SA);
    TAKE(a->d_pi, B * P);
    if (a->algo == CONTRL_ALGO_SQL) {
        const size_t K = a->sql.kernel_particles, M = a->sql.value_particles;
        const size_t MK = M > K ? M : K;
        TAKE(a->sql_in, B * K * (O + A));
        TAKE(a->sql_act, B * K * A);
        TAKE(a->sql_dout, B * K * A);
        TAKE(a->sql_sa, B * MK * SA);
        TAKE(a->sql_dsa, B * K * SA);
        TAKE(a->sql_q, B * MK);
        TAKE(a->sql_ones, B * K);
        TAKE(a->sql_glp, B * K * A);
    }
#undef TAKE
    return off;
}

static contrl_status create(contrl_algo algo, const contrl_agent_config *cfg_in, const void *algo_cfg,
                            contrl_agent **out, const char *fn)
{
    if (out == NULL)
        return contrl__fail(CONTRL_ERR_INVALID_ARG, "%s: out is NULL", fn);
    *out = NULL;
    if (cfg_in == NULL)
        return contrl__fail(CONTRL_ERR_INVALID_ARG, "%s: cfg is NULL", fn);
    contrl_agent shape;
    memset(&shape, 0, sizeof shape);
    shape.algo = algo;
    shape.cfg = contrl_agent_config_default(algo);
    contrl_status st = contrl__config_copy(&shape.cfg, cfg_in, offsetof(contrl_agent_config, kernels),
                                           sizeof shape.cfg, fn);
    if (st != CONTRL_OK)
        return st;
    shape.ddpg = contrl_ddpg_config_default();
    shape.td3 = contrl_td3_config_default();
    shape.sac = contrl_sac_config_default();
    shape.sql = sql_defaults();
    if (algo_cfg != NULL) {
        if (algo == CONTRL_ALGO_DDPG)
            st = contrl__config_copy(&shape.ddpg, algo_cfg, sizeof shape.ddpg, sizeof shape.ddpg, fn);
        else if (algo == CONTRL_ALGO_TD3)
            st = contrl__config_copy(&shape.td3, algo_cfg, sizeof shape.td3, sizeof shape.td3, fn);
        else if (algo == CONTRL_ALGO_SQL)
            st = contrl__config_copy(&shape.sql, algo_cfg, sizeof shape.sql, sizeof shape.sql, fn);
        else
            st = contrl__config_copy(&shape.sac, algo_cfg, sizeof shape.sac, sizeof shape.sac, fn);
        if (st != CONTRL_OK)
            return st;
    }
    if ((st = check_common(&shape.cfg, fn)) != CONTRL_OK || (st = check_algo(&shape, fn)) != CONTRL_OK)
        return st;

    shape.alloc = shape.cfg.allocator;
    shape.obs_dim = shape.cfg.obs_dim;
    shape.act_dim = shape.cfg.action_dim;
    shape.sa_dim = shape.obs_dim + shape.act_dim;
    shape.batch = shape.cfg.batch_size;
    shape.n_critics = algo == CONTRL_ALGO_DDPG || algo == CONTRL_ALGO_SQL ? 1 : 2;
    shape.sql_updated = (uint32_t)((float)shape.sql.kernel_particles * shape.sql.kernel_update_ratio);
    if (shape.sql_updated == 0)
        shape.sql_updated = 1;
    if (shape.sql_updated >= shape.sql.kernel_particles)
        shape.sql_updated = shape.sql.kernel_particles - 1;
    shape.sql_fixed = shape.sql.kernel_particles - shape.sql_updated;
    size_t total = layout(&shape, NULL);
    unsigned char *block = contrl__alloc(&shape.alloc, total);
    if (block == NULL)
        return contrl__fail(CONTRL_ERR_NOMEM, "%s: cannot allocate %zu bytes", fn, total);
    memset(block, 0, total);
    contrl_agent *a = (contrl_agent *)(void *)block;
    *a = shape;
    a->block_size = total;
    layout(a, block);
    for (uint32_t i = 0; i < a->act_dim; i++) {
        a->low[i] = a->cfg.action_low ? a->cfg.action_low[i] : -1.0f;
        a->high[i] = a->cfg.action_high ? a->cfg.action_high[i] : 1.0f;
        a->mid[i] = 0.5f * (a->low[i] + a->high[i]);
        a->half[i] = 0.5f * (a->high[i] - a->low[i]);
    }
    for (size_t i = 0; a->sql_ones != NULL && i < (size_t)a->batch * a->sql.kernel_particles; i++)
        a->sql_ones[i] = 1.0f; /* dQ/dQ for SQL's grad log p, filled once */
    a->cfg.action_low = a->low;
    a->cfg.action_high = a->high;
    contrl_rng_seed(&a->rng, a->cfg.seed);
    a->target_entropy = isnan(a->sac.target_entropy) ? -(float)a->act_dim : a->sac.target_entropy;
    a->log_alpha = logf(a->sac.init_alpha);

    const bool sac = algo == CONTRL_ALGO_SAC, v1 = sac && a->sac.value_net;
    const bool sql = algo == CONTRL_ALGO_SQL;
    const float init = algo == CONTRL_ALGO_DDPG ? a->ddpg.out_init_range : 0.0f;
    const uint32_t K = a->sql.kernel_particles, M = a->sql.value_particles;
    if (sql) /* the sampling network f(xi; s): [obs, xi] -> action */
        st = make_net_b(a, a->obs_dim + a->act_dim, a->act_dim, CONTRL_ACT_TANH, 0.0f,
                        a->batch * K, &a->actor);
    else
        st = make_net(a, a->obs_dim, sac ? 2 * a->act_dim : a->act_dim,
                      sac ? CONTRL_ACT_IDENTITY : CONTRL_ACT_TANH, init, &a->actor);
    if (st == CONTRL_OK)
        st = make_adam(a, a->actor, a->cfg.actor_lr, &a->actor_opt);
    if (st == CONTRL_OK && !sac && !sql) {
        st = make_net(a, a->obs_dim, a->act_dim, CONTRL_ACT_TANH, init, &a->actor_target);
        if (st == CONTRL_OK)
            st = contrl_net_copy_params(a->actor_target, a->actor);
    }
    for (uint32_t i = 0; st == CONTRL_OK && i < a->n_critics; i++) {
        const uint32_t qb = sql ? a->batch * (M > K ? M : K) : a->batch;
        st = make_net_b(a, a->sa_dim, 1, CONTRL_ACT_IDENTITY, init, qb, &a->q[i]);
        if (st == CONTRL_OK)
            st = make_adam(a, a->q[i], a->cfg.critic_lr, &a->q_opt[i]);
        if (st == CONTRL_OK && !v1) {
            st = make_net_b(a, a->sa_dim, 1, CONTRL_ACT_IDENTITY, init, qb, &a->q_target[i]);
            if (st == CONTRL_OK)
                st = contrl_net_copy_params(a->q_target[i], a->q[i]);
        }
    }
    if (st == CONTRL_OK && v1) {
        st = make_net(a, a->obs_dim, 1, CONTRL_ACT_IDENTITY, 0.0f, &a->v);
        if (st == CONTRL_OK)
            st = make_adam(a, a->v, a->cfg.critic_lr, &a->v_opt);
        if (st == CONTRL_OK)
            st = make_net(a, a->obs_dim, 1, CONTRL_ACT_IDENTITY, 0.0f, &a->v_target);
        if (st == CONTRL_OK)
            st = contrl_net_copy_params(a->v_target, a->v);
    }
    if (st == CONTRL_OK) {
        contrl_buffer_config bc = contrl_buffer_config_default();
        bc.obs_dim = a->obs_dim;
        bc.action_dim = a->act_dim;
        bc.capacity = a->cfg.buffer_capacity;
        bc.seed = contrl_rng_next(&a->rng);
        bc.allocator = a->alloc;
        st = contrl_buffer_create(&bc, &a->buffer);
    }
    if (st != CONTRL_OK) {
        char msg[512];
        snprintf(msg, sizeof msg, "%s", contrl_last_error());
        contrl_agent_destroy(a);
        return contrl__fail(st, "%s: %s", fn, msg);
    }
    a->stats.actor_loss = NAN;
    a->stats.alpha = sac ? expf(a->log_alpha) : NAN;
    a->stats.entropy = NAN;
    a->stats.value_loss = NAN;
    a->stats.critic_loss = NAN;
    a->stats.mean_q = NAN;
    *out = a;
    return CONTRL_OK;
}

contrl_status contrl_ddpg_create(const contrl_agent_config *cfg, const contrl_ddpg_config *ddpg,
                                 contrl_agent **out)
{
    return create(CONTRL_ALGO_DDPG, cfg, ddpg, out, "contrl_ddpg_create");
}

contrl_status contrl_td3_create(const contrl_agent_config *cfg, const contrl_td3_config *td3,
                                contrl_agent **out)
{
    return create(CONTRL_ALGO_TD3, cfg, td3, out, "contrl_td3_create");
}

contrl_status contrl_sac_create(const contrl_agent_config *cfg, const contrl_sac_config *sac,
                                contrl_agent **out)
{
    return create(CONTRL_ALGO_SAC, cfg, sac, out, "contrl_sac_create");
}

contrl_status contrl_sql_create(const contrl_agent_config *cfg, const contrl_sql_config *sql,
                                contrl_agent **out)
{
    return create(CONTRL_ALGO_SQL, cfg, sql, out, "contrl_sql_create");
}

/* ---- acting ------------------------------------------------------------- */

void contrl__agent_to_env_units(const contrl_agent *a, const float *in, float *out)
{
    /* mid and half are rounded, so mid + half * (+-1) can land a float past
     * a bound: clamp to the exact bounds. */
    for (uint32_t i = 0; i < a->act_dim; i++) {
        float x = a->mid[i] + a->half[i] * in[i];
        out[i] = x < a->low[i] ? a->low[i] : x > a->high[i] ? a->high[i] : x;
    }
}

contrl_status contrl_agent_act_batch(contrl_agent *a, const float *obs, uint32_t n,
                                     float *actions, bool explore)
{
    static const char fn[] = "contrl_agent_act_batch";
    if (a == NULL || obs == NULL || actions == NULL)
        return contrl__fail(CONTRL_ERR_INVALID_ARG, "%s: %s is NULL", fn,
                            a == NULL ? "agent" : obs == NULL ? "obs" : "actions");
    if (n == 0 || n > a->batch)
        return contrl__fail(CONTRL_ERR_INVALID_ARG, "%s: n %u not in [1, batch_size %u]", fn, n,
                            a->batch);
    if (!contrl__all_finite(obs, (size_t)n * a->obs_dim))
        return contrl__fail(CONTRL_ERR_NONFINITE, "%s: obs contains NaN or Inf", fn);
    contrl__agent_policy(a, obs, n, a->pi_act, explore);
    for (uint32_t r = 0; r < n; r++)
        contrl__agent_to_env_units(a, a->pi_act + (size_t)r * a->act_dim,
                                   actions + (size_t)r * a->act_dim);
    return CONTRL_OK;
}

contrl_status contrl_agent_act(contrl_agent *a, const float *obs, float *action, bool explore)
{
    if (a == NULL || obs == NULL || action == NULL)
        return contrl__fail(CONTRL_ERR_INVALID_ARG, "contrl_agent_act: %s is NULL",
                            a == NULL ? "agent" : obs == NULL ? "obs" : "action");
    if (!contrl__all_finite(obs, a->obs_dim))
        return contrl__fail(CONTRL_ERR_NONFINITE, "contrl_agent_act: obs contains NaN or Inf");
    contrl__agent_policy(a, obs, 1, a->act_tmp, explore);
    contrl__agent_to_env_units(a, a->act_tmp, action);
    return CONTRL_OK;
}

contrl_status contrl_agent_act_random(contrl_agent *a, float *action)
{
    if (a == NULL || action == NULL)
        return contrl__fail(CONTRL_ERR_INVALID_ARG, "contrl_agent_act_random: %s is NULL",
                            a == NULL ? "agent" : "action");
    for (uint32_t i = 0; i < a->act_dim; i++)
        a->act_tmp[i] = 2.0f * contrl_rng_uniform(&a->rng) - 1.0f;
    contrl__agent_to_env_units(a, a->act_tmp, action);
    return CONTRL_OK;
}

contrl_status contrl_agent_reset_noise(contrl_agent *a)
{
    if (a == NULL)
        return contrl__fail(CONTRL_ERR_INVALID_ARG, "contrl_agent_reset_noise: agent is NULL");
    memset(a->ou, 0, a->act_dim * sizeof(float));
    return CONTRL_OK;
}

contrl_status contrl_agent_observe(contrl_agent *a, const float *obs, const float *action,
                                   float reward, const float *next_obs, bool terminated,
                                   bool truncated)
{
    static const char fn[] = "contrl_agent_observe";
    if (a == NULL || obs == NULL || action == NULL || next_obs == NULL)
        return contrl__fail(CONTRL_ERR_INVALID_ARG, "%s: %s is NULL", fn,
                            a == NULL     ? "agent"
                            : obs == NULL ? "obs"
                            : action == NULL ? "action"
                                             : "next_obs");
    if (!contrl__all_finite(action, a->act_dim))
        return contrl__fail(CONTRL_ERR_NONFINITE, "%s: action contains NaN or Inf", fn);
    for (uint32_t i = 0; i < a->act_dim; i++) {
        float x = (action[i] - a->mid[i]) / a->half[i];
        a->act_tmp[i] = x < -1.0f ? -1.0f : x > 1.0f ? 1.0f : x;
    }
    contrl_status st = contrl_buffer_add(a->buffer, obs, a->act_tmp, reward, next_obs, terminated,
                                         truncated);
    if (st != CONTRL_OK) {
        char msg[512];
        snprintf(msg, sizeof msg, "%s", contrl_last_error());
        return contrl__fail(st, "%s: %s", fn, msg);
    }
    a->steps++;
    return CONTRL_OK;
}

contrl_status contrl_agent_update(contrl_agent *a, uint32_t gradient_steps,
                                  contrl_update_stats *stats)
{
    static const char fn[] = "contrl_agent_update";
    if (a == NULL)
        return contrl__fail(CONTRL_ERR_INVALID_ARG, "%s: agent is NULL", fn);
    if (a->sample_fn == NULL && contrl_buffer_size(a->buffer) < a->batch)
        return contrl__fail(CONTRL_ERR_STATE, "%s: the buffer holds %llu transitions, fewer than "
                            "batch_size %u", fn,
                            (unsigned long long)contrl_buffer_size(a->buffer), a->batch);
    for (uint32_t i = 0; i < gradient_steps; i++) {
        contrl_status st = contrl__agent_update_step(a);
        if (st != CONTRL_OK)
            return st;
    }
    a->stats.updates = a->updates;
    if (stats != NULL)
        *stats = a->stats;
    return CONTRL_OK;
}

/* ---- queries ------------------------------------------------------------ */

contrl_algo contrl_agent_algo(const contrl_agent *a) { return a ? a->algo : (contrl_algo)0; }
uint32_t contrl_agent_obs_dim(const contrl_agent *a) { return a ? a->obs_dim : 0; }
uint32_t contrl_agent_action_dim(const contrl_agent *a) { return a ? a->act_dim : 0; }
uint64_t contrl_agent_steps(const contrl_agent *a) { return a ? a->steps : 0; }
uint32_t contrl_agent_threads(const contrl_agent *a) { return a == NULL ? 0 : a->duo ? 2 : 1; }

/* Every net of the agent may split its large products over the worker. */
static void lend_duo(contrl_agent *a, struct contrl__duo *duo)
{
    contrl_net *nets[] = {a->actor, a->actor_target, a->q[0], a->q[1], a->q_target[0],
                          a->q_target[1], a->v, a->v_target};
    for (size_t i = 0; i < sizeof nets / sizeof nets[0]; i++)
        contrl__net_set_duo(nets[i], duo);
}

contrl_status contrl_agent_set_threads(contrl_agent *a, uint32_t threads)
{
    static const char fn[] = "contrl_agent_set_threads";
    if (a == NULL)
        return contrl__fail(CONTRL_ERR_INVALID_ARG, "%s: agent is NULL", fn);
    if (threads != 1 && threads != 2)
        return contrl__fail(CONTRL_ERR_INVALID_ARG, "%s: threads %u (must be 1 or 2)", fn,
                            threads);
    if (threads == 1) {
        lend_duo(a, NULL);
        contrl__duo_destroy(a->duo, &a->alloc);
        a->duo = NULL;
    } else if (a->duo == NULL) {
        contrl_status st = contrl__duo_create(&a->alloc, &a->duo, fn);
        if (st != CONTRL_OK)
            return st;
        lend_duo(a, a->duo);
    }
    return CONTRL_OK;
}
uint64_t contrl_agent_updates(const contrl_agent *a) { return a ? a->updates : 0; }
const char *contrl_agent_env_name(const contrl_agent *a) { return a ? a->env_name : ""; }
const contrl_buffer *contrl_agent_buffer(const contrl_agent *a) { return a ? a->buffer : NULL; }

contrl_status contrl_agent_config_init(contrl_agent_config *cfg, size_t size, contrl_algo algo)
{
    contrl_agent_config d = agent_defaults(algo);
    return contrl__config_init(cfg, size, &d, offsetof(contrl_agent_config, kernels), sizeof d, "contrl_agent_config_init");
}

contrl_status contrl_ddpg_config_init(contrl_ddpg_config *cfg, size_t size)
{
    contrl_ddpg_config d = ddpg_defaults();
    return contrl__config_init(cfg, size, &d, sizeof d, sizeof d, "contrl_ddpg_config_init");
}

contrl_status contrl_td3_config_init(contrl_td3_config *cfg, size_t size)
{
    contrl_td3_config d = td3_defaults();
    return contrl__config_init(cfg, size, &d, sizeof d, sizeof d, "contrl_td3_config_init");
}

contrl_status contrl_sac_config_init(contrl_sac_config *cfg, size_t size)
{
    contrl_sac_config d = sac_defaults();
    return contrl__config_init(cfg, size, &d, sizeof d, sizeof d, "contrl_sac_config_init");
}

contrl_status contrl_sql_config_init(contrl_sql_config *cfg, size_t size)
{
    contrl_sql_config d = sql_defaults();
    return contrl__config_init(cfg, size, &d, sizeof d, sizeof d, "contrl_sql_config_init");
}
