/*
 * lib/env/mountaincar.c - "mountaincar", Gymnasium's MountainCarContinuous-v0
 * (see contrl/env.h and docs/env.md for how it was checked against
 * Gymnasium).
 *
 * Each step is computed in double from the stored state, and the new state
 * is then rounded to float32, because Gymnasium stores it in a float32 array
 * after every step; so the observation is exactly the state. The reset
 * state is kept in double until the first step, as in Gymnasium.
 */
#include <math.h>
#include <string.h>

#include "internal.h"
#include "tasks.h"

/* MountainCarContinuous-v0's constants. */
static const double MIN_ACTION = -1.0, MAX_ACTION = 1.0;
static const double MIN_POSITION = -1.2, MAX_POSITION = 0.6, MAX_SPEED = 0.07;
static const double GOAL_POSITION = 0.45, GOAL_VELOCITY = 0.0, POWER = 0.0015;
enum { MAX_EPISODE_STEPS = 999 }; /* TimeLimit of gymnasium.make("MountainCarContinuous-v0") */

enum phase { NOT_STARTED, RUNNING, ENDED };

typedef struct mountaincar {
    contrl_allocator allocator; /* frees this block */
    float action_low[1], action_high[1];
    double position, velocity;
    uint32_t steps; /* steps taken in the current episode */
    enum phase phase;
    contrl_rng rng;
} mountaincar;

static void write_obs(const mountaincar *c, float *obs)
{
    obs[0] = (float)c->position;
    obs[1] = (float)c->velocity;
}

static contrl_status mountaincar_reset(void *user, uint64_t seed, float *obs)
{
    mountaincar *c = user;
    contrl_rng_seed(&c->rng, seed);
    c->position = -0.6 + 0.2 * (double)contrl_rng_uniform(&c->rng); /* U(-0.6, -0.4) */
    c->velocity = 0.0;
    c->steps = 0;
    c->phase = RUNNING;
    write_obs(c, obs);
    return CONTRL_OK;
}

static contrl_status mountaincar_step(void *user, const float *action, float *next_obs,
                                      float *reward, bool *terminated, bool *truncated)
{
    mountaincar *c = user;
    if (c->phase == NOT_STARTED)
        return contrl__fail(CONTRL_ERR_STATE, "mountaincar: step before the first reset");
    if (c->phase == ENDED)
        return contrl__fail(CONTRL_ERR_STATE,
                            "mountaincar: step after the episode ended; reset first");
    if (isnan(action[0]))
        return contrl__fail(CONTRL_ERR_INVALID_ARG, "mountaincar: action[0] is NaN");

    double a = (double)action[0];
    double force = a < MIN_ACTION ? MIN_ACTION : a > MAX_ACTION ? MAX_ACTION : a;
    double position = c->position, velocity = c->velocity;

    velocity += force * POWER - 0.0025 * cos(3.0 * position);
    if (velocity > MAX_SPEED)
        velocity = MAX_SPEED;
    if (velocity < -MAX_SPEED)
        velocity = -MAX_SPEED;
    position += velocity;
    if (position > MAX_POSITION)
        position = MAX_POSITION;
    if (position < MIN_POSITION)
        position = MIN_POSITION;
    if (position == MIN_POSITION && velocity < 0.0)
        velocity = 0.0; /* inelastic collision with the left wall */

    bool goal = position >= GOAL_POSITION && velocity >= GOAL_VELOCITY;
    /* Gymnasium penalises the action as given, not the clipped force; the two
     * differ only when this callback is called directly with |action| > 1. */
    double r = (goal ? 100.0 : 0.0) - a * a * 0.1;

    c->position = (double)(float)position;
    c->velocity = (double)(float)velocity;
    c->steps++;
    write_obs(c, next_obs);
    *reward = (float)r;
    *terminated = goal;
    *truncated = c->steps >= MAX_EPISODE_STEPS;
    if (*terminated || *truncated)
        c->phase = ENDED;
    return CONTRL_OK;
}

static void mountaincar_destroy(void *user)
{
    mountaincar *c = user;
    contrl_allocator a = c->allocator;
    contrl__free(&a, c, sizeof *c);
}

contrl_status contrl__mountaincar_make(const contrl_allocator *allocator, contrl_env *env)
{
    mountaincar *c = contrl__alloc(allocator, sizeof *c);
    if (c == NULL)
        return contrl__fail(CONTRL_ERR_NOMEM, "contrl_env_make: could not allocate %zu bytes "
                            "for \"mountaincar\"", sizeof *c);
    memset(c, 0, sizeof *c);
    c->allocator = *allocator;
    c->action_low[0] = (float)MIN_ACTION;
    c->action_high[0] = (float)MAX_ACTION;
    c->phase = NOT_STARTED;

    memset(env, 0, sizeof *env);
    env->size = sizeof *env;
    env->name = "mountaincar";
    env->obs_dim = 2;
    env->action_dim = 1;
    env->action_low = c->action_low;
    env->action_high = c->action_high;
    env->max_episode_steps = MAX_EPISODE_STEPS;
    env->user = c;
    env->reset = mountaincar_reset;
    env->step = mountaincar_step;
    env->destroy = mountaincar_destroy;
    return CONTRL_OK;
}
