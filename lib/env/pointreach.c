/*
 * lib/env/pointreach.c - "pointreach-N": move a point in [-1, 1]^N to a goal
 * (see contrl/goal_env.h and docs/goal-env.md).
 *
 * Position and goal are kept in float, so the observation, the achieved
 * goal and the state are the same numbers and the step's reward is exactly
 * compute_reward of what the caller is handed - the consistency HER's
 * relabelling relies on.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"
#include "tasks.h"

enum { MAX_N = CONTRL__POINTREACH_MAX_N, MAX_EPISODE_STEPS = 50 };
static const double STEP_SCALE = 0.1; /* a in [-1, 1]^N moves the point by 0.1 a */
static const double THRESHOLD = 0.05; /* success: |position - goal|_2 <= 0.05 */

enum phase { NOT_STARTED, RUNNING, ENDED };

typedef struct pointreach {
    contrl_allocator allocator; /* frees this block */
    char name[sizeof "pointreach-4294967295"]; /* room for any uint32_t, for -Wformat-truncation */
    uint32_t n;
    float action_low[MAX_N], action_high[MAX_N];
    float pos[MAX_N], goal[MAX_N];
    uint32_t steps; /* steps taken in the current episode */
    enum phase phase;
    contrl_rng rng;
} pointreach;

static double clip(double x, double lo, double hi)
{
    return x < lo ? lo : x > hi ? hi : x;
}

/* Euclidean distance within the threshold, in double. Written so that a NaN
 * distance counts as not reached. */
static bool reached(const float *achieved, const float *desired, uint32_t n)
{
    double d2 = 0.0;
    for (uint32_t i = 0; i < n; i++) {
        double d = (double)achieved[i] - (double)desired[i];
        d2 += d * d;
    }
    return sqrt(d2) <= THRESHOLD;
}

static void pointreach_compute_reward(void *user, const float *achieved, const float *desired,
                                      uint32_t rows, float *reward)
{
    const pointreach *p = user;
    const uint32_t n = p->n;
    for (uint32_t r = 0; r < rows; r++)
        reward[r] = reached(achieved + (size_t)r * n, desired + (size_t)r * n, n) ? 0.0f : -1.0f;
}

static void draw_point(contrl_rng *rng, float *x, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++)
        x[i] = (float)(2.0 * (double)contrl_rng_uniform(rng) - 1.0); /* U[-1, 1), exact */
}

static contrl_status pointreach_reset(void *user, uint64_t seed, float *obs,
                                      float *achieved_goal, float *desired_goal)
{
    pointreach *p = user;
    const uint32_t n = p->n;
    contrl_rng_seed(&p->rng, seed);
    draw_point(&p->rng, p->pos, n);
    /* An episode that starts solved teaches nothing: draw the goal again.
     * The chance of a redraw is at most the ball's share of the cube
     * (about 0.05 for N = 1), so this ends after a few draws. */
    do
        draw_point(&p->rng, p->goal, n);
    while (reached(p->pos, p->goal, n));
    p->steps = 0;
    p->phase = RUNNING;
    memcpy(obs, p->pos, n * sizeof(float));
    memcpy(achieved_goal, p->pos, n * sizeof(float));
    memcpy(desired_goal, p->goal, n * sizeof(float));
    return CONTRL_OK;
}

static contrl_status pointreach_step(void *user, const float *action, float *next_obs,
                                     float *achieved_goal, float *reward, bool *terminated,
                                     bool *truncated)
{
    pointreach *p = user;
    const uint32_t n = p->n;
    if (p->phase == NOT_STARTED)
        return contrl__fail(CONTRL_ERR_STATE, "%s: step before the first reset", p->name);
    if (p->phase == ENDED)
        return contrl__fail(CONTRL_ERR_STATE,
                            "%s: step after the episode was truncated at %d steps; reset first",
                            p->name, MAX_EPISODE_STEPS);
    for (uint32_t i = 0; i < n; i++)
        if (isnan(action[i]))
            return contrl__fail(CONTRL_ERR_INVALID_ARG, "%s: action[%lu] is NaN", p->name,
                                (unsigned long)i);

    /* Actions are clipped to [-1, 1] as Gymnasium's ClipAction would. */
    for (uint32_t i = 0; i < n; i++) {
        double a = clip((double)action[i], -1.0, 1.0);
        p->pos[i] = (float)clip((double)p->pos[i] + STEP_SCALE * a, -1.0, 1.0);
    }
    p->steps++;
    memcpy(next_obs, p->pos, n * sizeof(float));
    memcpy(achieved_goal, p->pos, n * sizeof(float));
    pointreach_compute_reward(p, p->pos, p->goal, 1, reward);
    *terminated = false;
    *truncated = p->steps >= MAX_EPISODE_STEPS;
    if (*truncated)
        p->phase = ENDED;
    return CONTRL_OK;
}

static void pointreach_destroy(void *user)
{
    pointreach *p = user;
    contrl_allocator a = p->allocator;
    contrl__free(&a, p, sizeof *p);
}

contrl_status contrl__pointreach_make(uint32_t n, const contrl_allocator *allocator,
                                      contrl_goal_env *env)
{
    pointreach *p = contrl__alloc(allocator, sizeof *p);
    if (p == NULL)
        return contrl__fail(CONTRL_ERR_NOMEM, "contrl_goal_env_make: could not allocate %zu "
                            "bytes for \"pointreach-%lu\"", sizeof *p, (unsigned long)n);
    memset(p, 0, sizeof *p);
    p->allocator = *allocator;
    snprintf(p->name, sizeof p->name, "pointreach-%lu", (unsigned long)n);
    p->n = n;
    for (uint32_t i = 0; i < n; i++) {
        p->action_low[i] = -1.0f;
        p->action_high[i] = 1.0f;
    }
    p->phase = NOT_STARTED;

    memset(env, 0, sizeof *env);
    env->size = sizeof *env;
    env->name = p->name;
    env->obs_dim = n;
    env->goal_dim = n;
    env->action_dim = n;
    env->action_low = p->action_low;
    env->action_high = p->action_high;
    env->max_episode_steps = MAX_EPISODE_STEPS;
    env->user = p;
    env->reset = pointreach_reset;
    env->step = pointreach_step;
    env->compute_reward = pointreach_compute_reward;
    env->destroy = pointreach_destroy;
    return CONTRL_OK;
}
