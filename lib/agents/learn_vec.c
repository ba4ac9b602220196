/* lib/agents/learn_vec.c - the library's training loop on a vec env
 * (contrl_agent_learn_vec): learn.c's loop with n transitions per round.
 *
 * Everything the agent does happens on the calling thread, in env order;
 * only the envs run on the vec env's workers, and their results do not
 * depend on the thread count, so neither does the agent. The work arrays
 * live in the vec env (contrl__vec_scratch): learning allocates nothing. */
#include <stdio.h>
#include <string.h>

#include "../env/vec_env_internal.h"
#include "agent_internal.h"

enum { RECENT = CONTRL__LEARN_RECENT };
#define EVAL_SEED CONTRL__LEARN_EVAL_SEED

/* An update round is due every `k`-th env step: did (prev, t] cross one? */
static bool crossed(uint64_t prev, uint64_t t, uint64_t k)
{
    return k > 0 && t / k != prev / k;
}

/* Exploring actions, in env units, for rows [from, n) of obs. */
static void act_rows(contrl_agent *a, contrl__vec_scratch *s, uint32_t from, uint32_t n)
{
    const uint32_t O = a->obs_dim, A = a->act_dim;
    if (a->algo == CONTRL_ALGO_DDPG && a->ddpg.noise == CONTRL_NOISE_OU) {
        /* One OU process per env: swap each env's state into the agent. */
        for (uint32_t i = from; i < n; i++) {
            float *noise = s->noise + (size_t)i * A;
            memcpy(a->ou, noise, A * sizeof(float));
            contrl__agent_policy(a, s->obs + (size_t)i * O, 1, a->pi_act, true);
            memcpy(noise, a->ou, A * sizeof(float));
            contrl__agent_to_env_units(a, a->pi_act, s->actions + (size_t)i * A);
        }
        return;
    }
    /* Other noise is independent per draw: whole blocks of rows at once
     * (the policy's work arrays hold batch_size rows). */
    for (uint32_t i = from; i < n;) {
        uint32_t m = n - i < a->batch ? n - i : a->batch;
        contrl__agent_policy(a, s->obs + (size_t)i * O, m, a->pi_act, true);
        for (uint32_t r = 0; r < m; r++)
            contrl__agent_to_env_units(a, a->pi_act + (size_t)r * A,
                                       s->actions + (size_t)(i + r) * A);
        i += m;
    }
}

static contrl_status check_eval_env(const contrl_agent *a, const contrl_env *env, const char *fn)
{
    contrl_status st = contrl_env_check(env);
    if (st != CONTRL_OK) {
        char msg[400];
        snprintf(msg, sizeof msg, "%s", contrl_last_error());
        return contrl__fail(st, "%s: eval_env: %s", fn, msg);
    }
    if (env->obs_dim != a->obs_dim || env->action_dim != a->act_dim)
        return contrl__fail(CONTRL_ERR_INVALID_ARG,
                            "%s: eval_env has obs_dim %u, action_dim %u; the agent has %u, %u",
                            fn, env->obs_dim, env->action_dim, a->obs_dim, a->act_dim);
    return CONTRL_OK;
}

contrl_status contrl_agent_learn_vec(contrl_agent *a, contrl_vec_env *venv, uint64_t steps,
                                     const contrl_learn_config *cfg_in)
{
    static const char fn[] = "contrl_agent_learn_vec";
    if (a == NULL || venv == NULL || cfg_in == NULL)
        return contrl__fail(CONTRL_ERR_INVALID_ARG, "%s: %s is NULL", fn,
                            a == NULL ? "agent" : venv == NULL ? "venv" : "cfg");
    contrl_learn_config cfg = contrl_learn_config_default();
    contrl_status st =
        contrl__config_copy(&cfg, cfg_in, CONTRL_LEARN_CONFIG_SIZE_V1, sizeof cfg, fn);
    if (st != CONTRL_OK)
        return st;
    if (cfg.overlap_env != 0)
        return contrl__fail(CONTRL_ERR_UNSUPPORTED,
                            "%s: overlap_env is for contrl_agent_learn_ex (a vec env steps its "
                            "envs on threads of its own)", fn);
    const uint32_t n = contrl_vec_env_num_envs(venv), O = a->obs_dim, A = a->act_dim;
    if (contrl_vec_env_obs_dim(venv) != O || contrl_vec_env_action_dim(venv) != A)
        return contrl__fail(CONTRL_ERR_INVALID_ARG,
                            "%s: venv has obs_dim %u, action_dim %u; the agent has %u, %u", fn,
                            contrl_vec_env_obs_dim(venv), contrl_vec_env_action_dim(venv), O, A);
    if (cfg.eval_env != NULL) {
        if ((st = check_eval_env(a, cfg.eval_env, fn)) != CONTRL_OK)
            return st;
        if (cfg.eval_interval == 0 || cfg.eval_episodes == 0)
            return contrl__fail(CONTRL_ERR_INVALID_ARG,
                                "%s: eval_interval and eval_episodes must be >= 1", fn);
    }

    const char *name = contrl_vec_env_name(venv);
    if (name != NULL)
        snprintf(a->env_name, sizeof a->env_name, "%s", name);
    if (steps == 0)
        return CONTRL_OK;

    contrl__vec_scratch *s = contrl__vec_env_scratch(venv);
    if ((st = contrl_vec_env_reset(venv, contrl_rng_next(&a->rng))) != CONTRL_OK)
        return st;
    contrl_agent_reset_noise(a);
    memset(s->noise, 0, (size_t)n * A * sizeof(float));
    for (uint32_t i = 0; i < n; i++)
        s->returns[i] = 0.0;

    double recent[RECENT];
    uint64_t episodes = 0;
    contrl_progress p;
    memset(&p, 0, sizeof p);
    p.total_steps = steps;
    p.last_return = p.mean_return = p.eval_mean = p.eval_std = NAN;
    const double t0 = contrl__learn_now();

    for (uint64_t t = 0; t < steps;) {
        memcpy(s->obs, contrl_vec_env_obs(venv), (size_t)n * O * sizeof(float));
        /* Transition a->steps + i of the agent's life is env i's. */
        uint32_t n_random = 0;
        if (a->steps < a->cfg.learning_starts) {
            uint64_t left = a->cfg.learning_starts - a->steps;
            n_random = left < n ? (uint32_t)left : n;
        }
        for (uint32_t i = 0; i < n_random; i++)
            contrl_agent_act_random(a, s->actions + (size_t)i * A);
        act_rows(a, s, n_random, n);

        if ((st = contrl_vec_env_step(venv, s->actions, s->next_obs, s->rewards, s->terminated,
                                      s->truncated)) != CONTRL_OK)
            return st;

        const uint32_t keep = steps - t < n ? (uint32_t)(steps - t) : n;
        uint64_t rounds = 0;
        for (uint32_t i = 0; i < keep; i++) {
            const bool term = s->terminated[i], trunc = s->truncated[i];
            const float reward = s->rewards[i];
            if ((st = contrl_agent_observe(a, s->obs + (size_t)i * O, s->actions + (size_t)i * A,
                                           reward, s->next_obs + (size_t)i * O, term, trunc)) !=
                CONTRL_OK)
                return st;
            s->returns[i] += reward;
            if (term || trunc) {
                recent[episodes % RECENT] = s->returns[i];
                episodes++;
                s->returns[i] = 0.0;
                memset(s->noise + (size_t)i * A, 0, A * sizeof(float));
            }
            /* learn_ex's rule, as if this transition were a single step */
            if (contrl__agent_update_due(a, a->steps))
                rounds++;
        }
        for (uint64_t r = 0; r < rounds; r++)
            if ((st = contrl_agent_update(a, a->cfg.gradient_steps, NULL)) != CONTRL_OK)
                return st;

        const uint64_t prev = t;
        t += keep;
        bool eval_now = cfg.eval_env != NULL && crossed(prev, t, cfg.eval_interval);
        bool report = cfg.callback != NULL &&
                      (eval_now || t == steps || crossed(prev, t, cfg.progress_interval));
        if (eval_now &&
            (st = contrl_agent_evaluate(a, cfg.eval_env, cfg.eval_episodes, EVAL_SEED,
                                        &p.eval_mean, &p.eval_std)) != CONTRL_OK)
            return st;
        if (report && contrl__learn_report(a, &cfg, &p, t, episodes, recent, eval_now, t0) != 0)
            break;
    }
    return CONTRL_OK;
}
