/*
 * lib/env/pendulum.c - "pendulum", Gymnasium's Pendulum-v1 (see contrl/env.h
 * and docs/env.md for how it was checked against Gymnasium).
 *
 * The state (th, thdot) is kept in double, as Gymnasium keeps it in a
 * float64 array; only the observation is rounded to float. th is not
 * wrapped: like Gymnasium, only the reward normalises it.
 */
#include <math.h>
#include <string.h>

#include "internal.h"
#include "tasks.h"

/* Pendulum-v1's constants. */
static const double PI = 3.14159265358979323846;
static const double G = 10.0, M = 1.0, L = 1.0, DT = 0.05;
static const double MAX_SPEED = 8.0, MAX_TORQUE = 2.0;
enum { MAX_EPISODE_STEPS = 200 }; /* TimeLimit of gymnasium.make("Pendulum-v1") */

enum phase { NOT_STARTED, RUNNING, ENDED };

typedef struct pendulum {
    contrl_allocator allocator; /* frees this block */
    float action_low[1], action_high[1];
    double th, thdot;
    uint32_t steps; /* steps taken in the current episode */
    enum phase phase;
    contrl_rng rng;
} pendulum;

static double clip(double x, double lo, double hi)
{
    return x < lo ? lo : x > hi ? hi : x;
}

/* ((x + pi) mod 2pi) - pi with a floored modulo (Python's %), in [-pi, pi). */
static double angle_normalize(double x)
{
    double r = fmod(x + PI, 2.0 * PI);
    if (r < 0.0)
        r += 2.0 * PI;
    return r - PI;
}

static void write_obs(const pendulum *p, float *obs)
{
    obs[0] = (float)cos(p->th);
    obs[1] = (float)sin(p->th);
    obs[2] = (float)p->thdot;
}

static contrl_status pendulum_reset(void *user, uint64_t seed, float *obs)
{
    pendulum *p = user;
    contrl_rng_seed(&p->rng, seed);
    /* One draw for th, then one for thdot: Gymnasium's uniform([-pi, -1], [pi, 1]). */
    p->th = PI * (2.0 * (double)contrl_rng_uniform(&p->rng) - 1.0);
    p->thdot = 2.0 * (double)contrl_rng_uniform(&p->rng) - 1.0;
    p->steps = 0;
    p->phase = RUNNING;
    write_obs(p, obs);
    return CONTRL_OK;
}

static contrl_status pendulum_step(void *user, const float *action, float *next_obs,
                                   float *reward, bool *terminated, bool *truncated)
{
    pendulum *p = user;
    if (p->phase == NOT_STARTED)
        return contrl__fail(CONTRL_ERR_STATE, "pendulum: step before the first reset");
    if (p->phase == ENDED)
        return contrl__fail(CONTRL_ERR_STATE,
                            "pendulum: step after the episode was truncated at %d steps; "
                            "reset first", MAX_EPISODE_STEPS);
    if (isnan(action[0]))
        return contrl__fail(CONTRL_ERR_INVALID_ARG, "pendulum: action[0] is NaN");

    double th = p->th, thdot = p->thdot;
    double u = clip((double)action[0], -MAX_TORQUE, MAX_TORQUE);
    /* The cost is taken on the state before the update. */
    double thn = angle_normalize(th);
    double cost = thn * thn + 0.1 * thdot * thdot + 0.001 * (u * u);

    double newthdot = thdot + (3.0 * G / (2.0 * L) * sin(th) + 3.0 / (M * L * L) * u) * DT;
    newthdot = clip(newthdot, -MAX_SPEED, MAX_SPEED);
    double newth = th + newthdot * DT;

    p->th = newth;
    p->thdot = newthdot;
    p->steps++;
    write_obs(p, next_obs);
    *reward = (float)-cost;
    *terminated = false;
    *truncated = p->steps >= MAX_EPISODE_STEPS;
    if (*truncated)
        p->phase = ENDED;
    return CONTRL_OK;
}

static void pendulum_destroy(void *user)
{
    pendulum *p = user;
    contrl_allocator a = p->allocator;
    contrl__free(&a, p, sizeof *p);
}

contrl_status contrl__pendulum_make(const contrl_allocator *allocator, contrl_env *env)
{
    pendulum *p = contrl__alloc(allocator, sizeof *p);
    if (p == NULL)
        return contrl__fail(CONTRL_ERR_NOMEM, "contrl_env_make: could not allocate %zu bytes "
                            "for \"pendulum\"", sizeof *p);
    memset(p, 0, sizeof *p);
    p->allocator = *allocator;
    p->action_low[0] = (float)-MAX_TORQUE;
    p->action_high[0] = (float)MAX_TORQUE;
    p->phase = NOT_STARTED;

    memset(env, 0, sizeof *env);
    env->size = sizeof *env;
    env->name = "pendulum";
    env->obs_dim = 3;
    env->action_dim = 1;
    env->action_low = p->action_low;
    env->action_high = p->action_high;
    env->max_episode_steps = MAX_EPISODE_STEPS;
    env->user = p;
    env->reset = pendulum_reset;
    env->step = pendulum_step;
    env->destroy = pendulum_destroy;
    return CONTRL_OK;
}
