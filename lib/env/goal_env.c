/*
 * lib/env/goal_env.c - checking and closing a contrl_goal_env, and the
 * built-in goal tasks "pointreach-N" and "bitflip-N" (see contrl/goal_env.h and
 * docs/goal-env.md).
 */
#include <stdio.h>
#include <string.h>

#include "internal.h"
#include "tasks.h"

/* Smallest size a caller's struct may declare: every field up to destroy. */
#define GOAL_ENV_MIN_SIZE                                                      \
    (offsetof(contrl_goal_env, destroy) + sizeof(((contrl_goal_env *)0)->destroy))

static const char *env_name(const contrl_goal_env *env)
{
    return env->name != NULL ? env->name : "(unnamed)";
}

contrl_status contrl_goal_env_check(const contrl_goal_env *env)
{
    static const char func[] = "contrl_goal_env_check";
    if (env == NULL)
        return contrl__fail(CONTRL_ERR_INVALID_ARG, "%s: env is NULL", func);
    if (env->size < GOAL_ENV_MIN_SIZE)
        return contrl__fail(CONTRL_ERR_INVALID_ARG,
                            "%s: env->size %zu is too small (at least %zu); set it to "
                            "sizeof(contrl_goal_env)", func, env->size,
                            (size_t)GOAL_ENV_MIN_SIZE);
    const char *name = env_name(env);
    /* Zero-valued fields, in declaration order; the first one found is named. */
    const struct {
        bool bad;
        const char *what;
    } fields[] = {
        {env->obs_dim == 0, "obs_dim is 0"},
        {env->goal_dim == 0, "goal_dim is 0"},
        {env->action_dim == 0, "action_dim is 0"},
        {env->action_low == NULL, "action_low is NULL"},
        {env->action_high == NULL, "action_high is NULL"},
        {env->max_episode_steps == 0, "max_episode_steps is 0 (episodes are stored whole, so "
                                      "a goal env needs a time limit)"},
        {env->reset == NULL, "reset is NULL"},
        {env->step == NULL, "step is NULL"},
        {env->compute_reward == NULL, "compute_reward is NULL"},
    };
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
        if (fields[i].bad)
            return contrl__fail(CONTRL_ERR_INVALID_ARG, "%s: env \"%s\": %s", func, name,
                                fields[i].what);
    for (uint32_t i = 0; i < env->action_dim; i++) {
        float lo = env->action_low[i], hi = env->action_high[i];
        if (!isfinite(lo))
            return contrl__fail(CONTRL_ERR_INVALID_ARG,
                                "%s: env \"%s\": action_low[%lu] is %g, not finite", func, name,
                                (unsigned long)i, (double)lo);
        if (!isfinite(hi))
            return contrl__fail(CONTRL_ERR_INVALID_ARG,
                                "%s: env \"%s\": action_high[%lu] is %g, not finite", func, name,
                                (unsigned long)i, (double)hi);
        if (!(lo < hi))
            return contrl__fail(CONTRL_ERR_INVALID_ARG,
                                "%s: env \"%s\": action_low[%lu] = %g is not below "
                                "action_high[%lu] = %g", func, name, (unsigned long)i,
                                (double)lo, (unsigned long)i, (double)hi);
    }
    return CONTRL_OK;
}

void contrl_goal_env_close(contrl_goal_env *env)
{
    if (env == NULL)
        return;
    if (env->destroy != NULL)
        env->destroy(env->user);
    memset(env, 0, sizeof *env);
}

/* ---- Built-in tasks ------------------------------------------------------ */

typedef contrl_status (*goal_make_fn)(uint32_t n, const contrl_allocator *allocator,
                                      contrl_goal_env *env);

static const struct {
    const char *prefix; /* the name is prefix + N in decimal */
    uint32_t max_n;     /* N = 1..max_n */
    goal_make_fn make;
} goal_tasks[] = {
    {"pointreach-", CONTRL__POINTREACH_MAX_N, contrl__pointreach_make},
    {"bitflip-", CONTRL__BITFLIP_MAX_N, contrl__bitflip_make},
};
enum { N_GOAL_TASKS = sizeof goal_tasks / sizeof goal_tasks[0] };

/* N of "<prefix>N": plain decimal digits, no sign, no leading zero (so each
 * task has one name), no trailing characters. false if s is not that. */
static bool parse_n(const char *s, uint32_t *n)
{
    if (s[0] < '0' || s[0] > '9' || (s[0] == '0' && s[1] != '\0'))
        return false;
    uint32_t v = 0;
    for (size_t i = 0; s[i] != '\0'; i++) {
        if (s[i] < '0' || s[i] > '9' || i >= 9) /* 9 digits fit in a uint32_t */
            return false;
        v = v * 10 + (uint32_t)(s[i] - '0');
    }
    *n = v;
    return true;
}

contrl_status contrl_goal_env_make(const char *name, const contrl_allocator *allocator,
                                   contrl_goal_env *env)
{
    static const char func[] = "contrl_goal_env_make";
    contrl_status st = contrl__env_make_begin(func, env, sizeof *env, name, &allocator);
    if (st != CONTRL_OK)
        return st;

    for (size_t i = 0; i < N_GOAL_TASKS; i++) {
        size_t len = strlen(goal_tasks[i].prefix);
        uint32_t n;
        if (strncmp(name, goal_tasks[i].prefix, len) != 0 || !parse_n(name + len, &n))
            continue;
        if (n < 1 || n > goal_tasks[i].max_n)
            return contrl__fail(CONTRL_ERR_INVALID_ARG,
                                "%s: \"%s\": N = %lu is outside %sN's range 1..%lu", func, name,
                                (unsigned long)n, goal_tasks[i].prefix,
                                (unsigned long)goal_tasks[i].max_n);
        return goal_tasks[i].make(n, allocator, env);
    }
    return contrl__fail(CONTRL_ERR_INVALID_ARG,
                        "%s: unknown goal env \"%s\"; known: \"pointreach-N\" (N = 1..%d), "
                        "\"bitflip-N\" (N = 1..%d)", func, name, CONTRL__POINTREACH_MAX_N,
                        CONTRL__BITFLIP_MAX_N);
}
