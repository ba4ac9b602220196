/*
 * lib/env/env.c - checked calls into a contrl_env, and the table of built-in
 * tasks (see contrl/env.h and docs/env.md).
 *
 * The wrappers trust nothing in the struct, since users fill it by hand:
 * every call re-checks the cheap parts (size, dims, pointers, callbacks);
 * the bounds themselves are checked once by contrl_env_check, and per step
 * only through the action range test, which a NaN bound also fails.
 */
#include <stdio.h>
#include <string.h>

#include "contrl/env.h"
#include "internal.h"
#include "tasks.h"

/* Smallest size a caller's struct may declare: every field up to destroy. */
#define ENV_MIN_SIZE (offsetof(contrl_env, destroy) + sizeof(((contrl_env *)0)->destroy))

static const char *env_name(const contrl_env *env)
{
    return env->name != NULL ? env->name : "(unnamed)";
}

/* Everything contrl_env_check checks except the bound values: O(1). */
static contrl_status check_struct(const contrl_env *env, const char *func)
{
    if (env == NULL)
        return contrl__fail(CONTRL_ERR_INVALID_ARG, "%s: env is NULL", func);
    if (env->size < ENV_MIN_SIZE)
        return contrl__fail(CONTRL_ERR_INVALID_ARG,
                            "%s: env->size %zu is too small (at least %zu); set it to "
                            "sizeof(contrl_env)", func, env->size, (size_t)ENV_MIN_SIZE);
    if (env->obs_dim == 0)
        return contrl__fail(CONTRL_ERR_INVALID_ARG, "%s: env \"%s\": obs_dim is 0", func,
                            env_name(env));
    if (env->action_dim == 0)
        return contrl__fail(CONTRL_ERR_INVALID_ARG, "%s: env \"%s\": action_dim is 0", func,
                            env_name(env));
    if (env->action_low == NULL)
        return contrl__fail(CONTRL_ERR_INVALID_ARG, "%s: env \"%s\": action_low is NULL", func,
                            env_name(env));
    if (env->action_high == NULL)
        return contrl__fail(CONTRL_ERR_INVALID_ARG, "%s: env \"%s\": action_high is NULL",
                            func, env_name(env));
    if (env->reset == NULL)
        return contrl__fail(CONTRL_ERR_INVALID_ARG, "%s: env \"%s\": reset is NULL", func,
                            env_name(env));
    if (env->step == NULL)
        return contrl__fail(CONTRL_ERR_INVALID_ARG, "%s: env \"%s\": step is NULL", func,
                            env_name(env));
    return CONTRL_OK;
}

contrl_status contrl_env_check(const contrl_env *env)
{
    static const char func[] = "contrl_env_check";
    contrl_status st = check_struct(env, func);
    if (st != CONTRL_OK)
        return st;
    for (uint32_t i = 0; i < env->action_dim; i++) {
        float lo = env->action_low[i], hi = env->action_high[i];
        if (!isfinite(lo))
            return contrl__fail(CONTRL_ERR_INVALID_ARG,
                                "%s: env \"%s\": action_low[%lu] is %g, not finite", func,
                                env_name(env), (unsigned long)i, (double)lo);
        if (!isfinite(hi))
            return contrl__fail(CONTRL_ERR_INVALID_ARG,
                                "%s: env \"%s\": action_high[%lu] is %g, not finite", func,
                                env_name(env), (unsigned long)i, (double)hi);
        if (!(lo < hi))
            return contrl__fail(CONTRL_ERR_INVALID_ARG,
                                "%s: env \"%s\": action_low[%lu] = %g is not below "
                                "action_high[%lu] = %g", func, env_name(env),
                                (unsigned long)i, (double)lo, (unsigned long)i, (double)hi);
    }
    return CONTRL_OK;
}

/* Index of the first non-finite value among n, or -1 if all are finite. */
static long first_nonfinite(const float *x, uint32_t n)
{
    if (contrl__all_finite(x, n))
        return -1;
    for (uint32_t i = 0; i < n; i++)
        if (!isfinite(x[i]))
            return (long)i;
    return -1; /* unreachable: all_finite said otherwise */
}

contrl_status contrl_env_reset(contrl_env *env, uint64_t seed, float *obs)
{
    static const char func[] = "contrl_env_reset";
    contrl_status st = check_struct(env, func);
    if (st != CONTRL_OK)
        return st;
    if (obs == NULL)
        return contrl__fail(CONTRL_ERR_INVALID_ARG, "%s: obs is NULL", func);

    st = env->reset(env->user, seed, obs);
    if (st != CONTRL_OK)
        return st; /* the callback's own message stands */
    long bad = first_nonfinite(obs, env->obs_dim);
    if (bad >= 0)
        return contrl__fail(CONTRL_ERR_NONFINITE, "%s: env \"%s\" returned obs[%ld] = %g",
                            func, env_name(env), bad, (double)obs[bad]);
    return CONTRL_OK;
}

contrl_status contrl_env_step(contrl_env *env, const float *action, float *next_obs,
                              float *reward, bool *terminated, bool *truncated)
{
    static const char func[] = "contrl_env_step";
    contrl_status st = check_struct(env, func);
    if (st != CONTRL_OK)
        return st;
    if (action == NULL)
        return contrl__fail(CONTRL_ERR_INVALID_ARG, "%s: action is NULL", func);
    if (next_obs == NULL)
        return contrl__fail(CONTRL_ERR_INVALID_ARG, "%s: next_obs is NULL", func);
    if (reward == NULL)
        return contrl__fail(CONTRL_ERR_INVALID_ARG, "%s: reward is NULL", func);
    if (terminated == NULL)
        return contrl__fail(CONTRL_ERR_INVALID_ARG, "%s: terminated is NULL", func);
    if (truncated == NULL)
        return contrl__fail(CONTRL_ERR_INVALID_ARG, "%s: truncated is NULL", func);
    for (uint32_t i = 0; i < env->action_dim; i++) {
        float a = action[i], lo = env->action_low[i], hi = env->action_high[i];
        /* Written so that a NaN action (or a NaN bound) fails too. */
        if (!(a >= lo && a <= hi))
            return contrl__fail(CONTRL_ERR_INVALID_ARG,
                                "%s: action[%lu] = %g is %s [%g, %g] of env \"%s\"", func,
                                (unsigned long)i, (double)a,
                                isnan(a) ? "NaN, not in" : "outside", (double)lo,
                                (double)hi, env_name(env));
    }

    st = env->step(env->user, action, next_obs, reward, terminated, truncated);
    if (st != CONTRL_OK)
        return st;
    long bad = first_nonfinite(next_obs, env->obs_dim);
    if (bad >= 0)
        return contrl__fail(CONTRL_ERR_NONFINITE, "%s: env \"%s\" returned next_obs[%ld] = %g",
                            func, env_name(env), bad, (double)next_obs[bad]);
    if (!isfinite(*reward))
        return contrl__fail(CONTRL_ERR_NONFINITE, "%s: env \"%s\" returned reward = %g", func,
                            env_name(env), (double)*reward);
    return CONTRL_OK;
}

void contrl_env_close(contrl_env *env)
{
    if (env == NULL)
        return;
    if (env->destroy != NULL)
        env->destroy(env->user);
    memset(env, 0, sizeof *env);
}

/* ---- Built-in tasks ------------------------------------------------------ */

/* One list gives both the name table and the make functions. */
#define CONTRL_ENV_TASKS(X)                                                    \
    X("pendulum", contrl__pendulum_make)                                       \
    X("mountaincar", contrl__mountaincar_make)                                 \
    X("multigoal", contrl__multigoal_make)

typedef contrl_status (*make_fn)(const contrl_allocator *allocator, contrl_env *env);

#define TASK_NAME_(name, make) name,
#define TASK_MAKE_(name, make) make,
static const char *const task_names[] = {CONTRL_ENV_TASKS(TASK_NAME_) NULL};
static const make_fn task_makes[] = {CONTRL_ENV_TASKS(TASK_MAKE_)};
#undef TASK_NAME_
#undef TASK_MAKE_
enum { N_TASKS = sizeof task_makes / sizeof task_makes[0] };

contrl_status contrl__env_make_begin(const char *func, void *env, size_t env_size,
                                     const char *name, const contrl_allocator **allocator)
{
    static const contrl_allocator c_library = {NULL, NULL, NULL};
    if (env == NULL)
        return contrl__fail(CONTRL_ERR_INVALID_ARG, "%s: env is NULL", func);
    memset(env, 0, env_size);
    if (name == NULL)
        return contrl__fail(CONTRL_ERR_INVALID_ARG, "%s: name is NULL", func);
    if (*allocator == NULL)
        *allocator = &c_library;
    return contrl__check_allocator(*allocator, func);
}

const char *const *contrl_env_names(void)
{
    return task_names;
}

contrl_status contrl_env_make(const char *name, const contrl_allocator *allocator,
                              contrl_env *env)
{
    static const char func[] = "contrl_env_make";
    contrl_status st = contrl__env_make_begin(func, env, sizeof *env, name, &allocator);
    if (st != CONTRL_OK)
        return st;

    for (size_t i = 0; i < N_TASKS; i++)
        if (strcmp(name, task_names[i]) == 0)
            return task_makes[i](allocator, env);

    char known[128];
    size_t len = 0;
    known[0] = '\0';
    for (size_t i = 0; i < N_TASKS && len < sizeof known; i++) {
        int n = snprintf(known + len, sizeof known - len, "%s\"%s\"", i > 0 ? ", " : "",
                         task_names[i]);
        if (n < 0)
            break;
        len += (size_t)n;
    }
    return contrl__fail(CONTRL_ERR_INVALID_ARG, "%s: unknown env \"%s\"; known: %s", func,
                        name, known);
}
