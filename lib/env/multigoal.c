/*
 * lib/env/multigoal.c - "multigoal", the 2-D multi-goal point environment of
 * Soft Q-learning (Haarnoja et al. 2017, figure 2), as defined by the
 * authors' MultiGoalEnv in haarnoja/softqlearning (see contrl/env.h and
 * docs/env.md for the definition and how it was checked).
 *
 * The position is kept in double, as the authors keep it in a float64
 * array; only the observation and the reward are rounded to float.
 */
#include <math.h>
#include <string.h>

#include "internal.h"
#include "tasks.h"

/* MultiGoalEnv's constants (its constructor's defaults). */
static const double VEL_BOUND = 1.0;     /* action space [-1, 1]^2 */
static const double POS_BOUND = 7.0;     /* xlim = ylim = (-7, 7) */
static const double INIT_SIGMA = 0.1;    /* start ~ N(0, 0.1^2 I) */
static const double ACTION_COST_COEFF = 30.0, DISTANCE_COST_COEFF = 1.0;
static const double GOAL_REWARD = 10.0, GOAL_THRESHOLD = 1.0;
static const double GOALS[4][2] = {{5.0, 0.0}, {-5.0, 0.0}, {0.0, 5.0}, {0.0, -5.0}};
enum { MAX_EPISODE_STEPS = 30 }; /* max_path_length of the authors' examples/multigoal_sql.py */

enum phase { NOT_STARTED, RUNNING, ENDED };

typedef struct multigoal {
    contrl_allocator allocator; /* frees this block */
    float action_low[2], action_high[2];
    double pos[2];
    uint32_t steps; /* steps taken in the current episode */
    enum phase phase;
    contrl_rng rng;
} multigoal;

static double clip(double x, double lo, double hi)
{
    return x < lo ? lo : x > hi ? hi : x;
}

static void write_obs(const multigoal *m, float *obs)
{
    obs[0] = (float)m->pos[0];
    obs[1] = (float)m->pos[1];
}

static contrl_status multigoal_reset(void *user, uint64_t seed, float *obs)
{
    multigoal *m = user;
    contrl_rng_seed(&m->rng, seed);
    /* x from the first contrl_rng_normal draw, y from the second. The clip to
     * the box is the authors'; it cannot bind (|normal| < 5.8). */
    for (int i = 0; i < 2; i++)
        m->pos[i] = clip(INIT_SIGMA * (double)contrl_rng_normal(&m->rng), -POS_BOUND,
                         POS_BOUND);
    m->steps = 0;
    m->phase = RUNNING;
    write_obs(m, obs);
    return CONTRL_OK;
}

static contrl_status multigoal_step(void *user, const float *action, float *next_obs,
                                    float *reward, bool *terminated, bool *truncated)
{
    multigoal *m = user;
    if (m->phase == NOT_STARTED)
        return contrl__fail(CONTRL_ERR_STATE, "multigoal: step before the first reset");
    if (m->phase == ENDED)
        return contrl__fail(CONTRL_ERR_STATE,
                            "multigoal: step after the episode ended; reset first");
    for (int i = 0; i < 2; i++)
        if (isnan(action[i]))
            return contrl__fail(CONTRL_ERR_INVALID_ARG, "multigoal: action[%d] is NaN", i);

    /* The authors clip the action first, and both the motion and the cost use
     * the clipped action; the cost is taken on the new, clipped position. */
    double a[2], action_cost = 0.0;
    for (int i = 0; i < 2; i++) {
        a[i] = clip((double)action[i], -VEL_BOUND, VEL_BOUND);
        action_cost += a[i] * a[i];
        m->pos[i] = clip(m->pos[i] + a[i], -POS_BOUND, POS_BOUND);
    }
    double min_d2 = INFINITY;
    for (int g = 0; g < 4; g++) {
        double dx = m->pos[0] - GOALS[g][0], dy = m->pos[1] - GOALS[g][1];
        double d2 = dx * dx + dy * dy;
        if (d2 < min_d2)
            min_d2 = d2;
    }
    double r = -(ACTION_COST_COEFF * action_cost + DISTANCE_COST_COEFF * min_d2);
    /* Strict, on the Euclidean distance: dist < 1. */
    bool goal = sqrt(min_d2) < GOAL_THRESHOLD;
    if (goal)
        r += GOAL_REWARD;

    m->steps++;
    write_obs(m, next_obs);
    *reward = (float)r;
    *terminated = goal;
    *truncated = m->steps >= MAX_EPISODE_STEPS;
    if (*terminated || *truncated)
        m->phase = ENDED;
    return CONTRL_OK;
}

static void multigoal_destroy(void *user)
{
    multigoal *m = user;
    contrl_allocator a = m->allocator;
    contrl__free(&a, m, sizeof *m);
}

contrl_status contrl__multigoal_make(const contrl_allocator *allocator, contrl_env *env)
{
    multigoal *m = contrl__alloc(allocator, sizeof *m);
    if (m == NULL)
        return contrl__fail(CONTRL_ERR_NOMEM, "contrl_env_make: could not allocate %zu bytes "
                            "for \"multigoal\"", sizeof *m);
    memset(m, 0, sizeof *m);
    m->allocator = *allocator;
    for (int i = 0; i < 2; i++) {
        m->action_low[i] = (float)-VEL_BOUND;
        m->action_high[i] = (float)VEL_BOUND;
    }
    m->phase = NOT_STARTED;

    memset(env, 0, sizeof *env);
    env->size = sizeof *env;
    env->name = "multigoal";
    env->obs_dim = 2;
    env->action_dim = 2;
    env->action_low = m->action_low;
    env->action_high = m->action_high;
    env->max_episode_steps = MAX_EPISODE_STEPS;
    env->user = m;
    env->reset = multigoal_reset;
    env->step = multigoal_step;
    env->destroy = multigoal_destroy;
    return CONTRL_OK;
}
