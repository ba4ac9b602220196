/* lib/agents/learn.c - the training loop run by the library, and
 * deterministic evaluation. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "agent_internal.h"
#include "duo.h"

enum { RECENT = CONTRL__LEARN_RECENT };

double contrl__learn_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

int contrl__learn_report(const contrl_agent *a, const contrl_learn_config *cfg, contrl_progress *p,
                         uint64_t t, uint64_t episodes, const double *recent, bool is_eval,
                         double t0)
{
    p->step = t;
    p->agent_steps = a->steps;
    p->episodes = episodes;
    if (episodes > 0) {
        p->last_return = recent[(episodes - 1) % RECENT];
        uint64_t n = episodes < RECENT ? episodes : RECENT;
        double s = 0.0;
        for (uint64_t i = 0; i < n; i++)
            s += recent[i];
        p->mean_return = s / (double)n;
    }
    p->is_eval = is_eval;
    p->seconds = contrl__learn_now() - t0;
    p->steps_per_s = p->seconds > 0.0 ? (double)t / p->seconds : 0.0;
    p->stats = a->stats;
    p->stats.updates = a->updates;
    return cfg->callback(p, cfg->user);
}

static contrl_learn_config learn_defaults(void)
{
    contrl_learn_config c;
    memset(&c, 0, sizeof c);
    c.size = sizeof c;
    c.eval_interval = 5000;
    c.eval_episodes = 10;
    c.progress_interval = 1000;
    return c;
}

static contrl_status check_env_matches(const contrl_agent *a, contrl_env *env, const char *what,
                                       const char *fn)
{
    contrl_status st = contrl_env_check(env);
    if (st != CONTRL_OK) {
        char msg[400];
        snprintf(msg, sizeof msg, "%s", contrl_last_error());
        return contrl__fail(st, "%s: %s: %s", fn, what, msg);
    }
    if (env->obs_dim != a->obs_dim || env->action_dim != a->act_dim)
        return contrl__fail(CONTRL_ERR_INVALID_ARG,
                            "%s: %s has obs_dim %u, action_dim %u; the agent has %u, %u", fn, what,
                            env->obs_dim, env->action_dim, a->obs_dim, a->act_dim);
    return CONTRL_OK;
}

/* Evaluation episodes run to the env's own end (terminated or truncated);
 * an env without a time limit must provide one. */
static contrl_status evaluate(contrl_agent *a, contrl_env *env, uint32_t episodes, uint64_t seed,
                              double *mean, double *std)
{
    double sum = 0.0, sum_sq = 0.0;
    for (uint32_t e = 0; e < episodes; e++) {
        contrl_status st = contrl_env_reset(env, seed + e, a->obs_tmp);
        if (st != CONTRL_OK)
            return st;
        double ret = 0.0;
        for (uint64_t t = 1;; t++) {
            contrl__agent_policy(a, a->obs_tmp, 1, a->act_tmp, false);
            contrl__agent_to_env_units(a, a->act_tmp, a->act_tmp);
            float reward;
            bool term, trunc;
            /* obs_tmp is read by the policy above before step overwrites it */
            st = contrl_env_step(env, a->act_tmp, a->obs_tmp, &reward, &term, &trunc);
            if (st != CONTRL_OK)
                return st;
            ret += reward;
            if (term || trunc || (env->max_episode_steps > 0 && t >= env->max_episode_steps))
                break;
        }
        sum += ret;
        sum_sq += ret * ret;
    }
    double m = sum / episodes;
    double var = sum_sq / episodes - m * m;
    if (mean != NULL)
        *mean = m;
    if (std != NULL)
        *std = var > 0.0 ? sqrt(var) : 0.0;
    return CONTRL_OK;
}

contrl_status contrl_agent_evaluate(contrl_agent *a, contrl_env *env, uint32_t episodes,
                                    uint64_t seed, double *mean, double *std)
{
    static const char fn[] = "contrl_agent_evaluate";
    if (a == NULL)
        return contrl__fail(CONTRL_ERR_INVALID_ARG, "%s: agent is NULL", fn);
    if (episodes == 0)
        return contrl__fail(CONTRL_ERR_INVALID_ARG, "%s: episodes is 0", fn);
    contrl_status st = check_env_matches(a, env, "env", fn);
    if (st != CONTRL_OK)
        return st;
    return evaluate(a, env, episodes, seed, mean, std);
}

contrl_status contrl_agent_learn(contrl_agent *a, contrl_env *env, uint64_t steps,
                                 contrl_progress_fn callback, void *user)
{
    /* Errors below name contrl_agent_learn_ex, which does the work. */
    contrl_learn_config c = contrl_learn_config_default();
    c.callback = callback;
    c.user = user;
    return contrl_agent_learn_ex(a, env, steps, &c);
}

#define EVAL_SEED CONTRL__LEARN_EVAL_SEED

/* One env step as a job for the agent's worker (overlap_env); a failure
 * keeps its message, which is the worker thread's own. */
typedef struct env_job {
    contrl_env *env;
    const float *action;
    float *next_obs, *reward;
    bool *term, *trunc;
    contrl_status st;
    char msg[400];
} env_job;

static void run_env_step(void *p)
{
    env_job *j = p;
    j->st = contrl_env_step(j->env, j->action, j->next_obs, j->reward, j->term, j->trunc);
    if (j->st != CONTRL_OK)
        snprintf(j->msg, sizeof j->msg, "%s", contrl_last_error());
}

contrl_status contrl_agent_learn_ex(contrl_agent *a, contrl_env *env, uint64_t steps,
                                    const contrl_learn_config *cfg_in)
{
    static const char fn[] = "contrl_agent_learn_ex";
    if (a == NULL || cfg_in == NULL)
        return contrl__fail(CONTRL_ERR_INVALID_ARG, "%s: %s is NULL", fn,
                            a == NULL ? "agent" : "cfg");
    contrl_learn_config cfg = contrl_learn_config_default();
    contrl_status st =
        contrl__config_copy(&cfg, cfg_in, CONTRL_LEARN_CONFIG_SIZE_V1, sizeof cfg, fn);
    if (st != CONTRL_OK)
        return st;
    if (cfg.overlap_env > 1)
        return contrl__fail(CONTRL_ERR_INVALID_ARG, "%s: overlap_env is %u (must be 0 or 1)", fn,
                            cfg.overlap_env);
    if ((st = check_env_matches(a, env, "env", fn)) != CONTRL_OK)
        return st;
    if (cfg.eval_env != NULL) {
        if ((st = check_env_matches(a, cfg.eval_env, "eval_env", fn)) != CONTRL_OK)
            return st;
        if (cfg.eval_env == env)
            return contrl__fail(CONTRL_ERR_INVALID_ARG,
                                "%s: eval_env must be a separate instance from env", fn);
        if (cfg.eval_interval == 0 || cfg.eval_episodes == 0)
            return contrl__fail(CONTRL_ERR_INVALID_ARG,
                                "%s: eval_interval and eval_episodes must be >= 1", fn);
    }

    if (env->name != NULL)
        snprintf(a->env_name, sizeof a->env_name, "%s", env->name);
    const uint32_t O = a->obs_dim;
    float *obs = a->loop_obs, *next_obs = a->loop_next, *action = a->loop_act;
    bool in_episode = false;
    double ep_return = 0.0, recent[RECENT];
    uint64_t episodes = 0;
    contrl_progress p;
    memset(&p, 0, sizeof p);
    p.total_steps = steps;
    p.last_return = p.mean_return = p.eval_mean = p.eval_std = NAN;
    const double t0 = contrl__learn_now();

    for (uint64_t t = 1; t <= steps; t++) {
        if (!in_episode) {
            if ((st = contrl_env_reset(env, contrl_rng_next(&a->rng), obs)) != CONTRL_OK)
                return st;
            contrl_agent_reset_noise(a);
            ep_return = 0.0;
            in_episode = true;
        }
        if (a->steps < a->cfg.learning_starts)
            st = contrl_agent_act_random(a, action);
        else
            st = contrl_agent_act(a, obs, action, true);
        if (st != CONTRL_OK)
            return st;
        float reward;
        bool term, trunc;
        /* overlap_env: this step's update (learn_ex's rule, counted as if
         * this transition were stored) runs while the env steps, on the
         * transitions stored before it */
        const bool overlapped = cfg.overlap_env && contrl__agent_update_due(a, a->steps + 1);
        if (overlapped) {
            env_job job = {env, action, next_obs, &reward, &term, &trunc, CONTRL_OK, ""};
            contrl__duo_post(a->duo, run_env_step, &job);
            st = contrl_agent_update(a, a->cfg.gradient_steps, NULL);
            contrl__duo_wait(a->duo);
            if (job.st != CONTRL_OK)
                return contrl__fail(job.st, "%s", job.msg);
            if (st != CONTRL_OK)
                return st;
        } else if ((st = contrl_env_step(env, action, next_obs, &reward, &term, &trunc)) !=
                   CONTRL_OK) {
            return st;
        }
        if ((st = contrl_agent_observe(a, obs, action, reward, next_obs, term, trunc)) != CONTRL_OK)
            return st;
        ep_return += reward;
        if (term || trunc) {
            recent[episodes % RECENT] = ep_return;
            episodes++;
            in_episode = false;
        } else {
            memcpy(obs, next_obs, O * sizeof(float));
        }
        if (!cfg.overlap_env && contrl__agent_update_due(a, a->steps)) {
            if ((st = contrl_agent_update(a, a->cfg.gradient_steps, NULL)) != CONTRL_OK)
                return st;
        }

        bool eval_now = cfg.eval_env != NULL && t % cfg.eval_interval == 0;
        bool report = cfg.callback != NULL &&
                      (eval_now || t == steps ||
                       (cfg.progress_interval > 0 && t % cfg.progress_interval == 0));
        if (eval_now) {
            if ((st = evaluate(a, cfg.eval_env, cfg.eval_episodes, EVAL_SEED, &p.eval_mean,
                               &p.eval_std)) != CONTRL_OK)
                return st;
        }
        if (report && contrl__learn_report(a, &cfg, &p, t, episodes, recent, eval_now, t0) != 0)
            break;
    }
    return CONTRL_OK;
}

contrl_status contrl_learn_config_init(contrl_learn_config *cfg, size_t size)
{
    contrl_learn_config d = learn_defaults();
    return contrl__config_init(cfg, size, &d, CONTRL_LEARN_CONFIG_SIZE_V1, sizeof d,
                              "contrl_learn_config_init");
}
