/*
 * lib/env/bitflip.c - "bitflip-N": the bit-flipping task of the HER paper
 * (Andrychowicz et al. 2017, section 3.1), with a continuous action so that
 * DDPG, TD3 and SAC can play it (see contrl/goal_env.h and docs/goal-env.md).
 *
 * The N bits of state and goal are kept as the low bits of a uint64_t
 * (bit i is s[i]); observations and goals are those bits as 0/1 floats.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"
#include "tasks.h"

enum { MAX_N = CONTRL__BITFLIP_MAX_N };

enum phase { NOT_STARTED, RUNNING, ENDED };

typedef struct bitflip {
    contrl_allocator allocator; /* frees this block */
    char name[sizeof "bitflip-4294967295"]; /* room for any uint32_t, for -Wformat-truncation */
    uint32_t n;
    float action_low[1], action_high[1];
    uint64_t state, goal, mask; /* bit i of state is s[i]; mask has the low n bits set */
    uint32_t steps;             /* steps taken in the current episode */
    enum phase phase;
    contrl_rng rng;
} bitflip;

static void write_bits(uint64_t bits, uint32_t n, float *out)
{
    for (uint32_t i = 0; i < n; i++)
        out[i] = (float)((bits >> i) & 1u);
}

/* -1 unless every element matches; "matches" is |x - y| <= 0.5, so goals
 * that went through float arithmetic still compare, and NaN never matches. */
static void bitflip_compute_reward(void *user, const float *achieved, const float *desired,
                                   uint32_t rows, float *reward)
{
    const bitflip *b = user;
    const uint32_t n = b->n;
    for (uint32_t r = 0; r < rows; r++) {
        const float *x = achieved + (size_t)r * n, *y = desired + (size_t)r * n;
        bool same = true;
        for (uint32_t i = 0; i < n; i++)
            same = same && fabsf(x[i] - y[i]) <= 0.5f;
        reward[r] = same ? 0.0f : -1.0f;
    }
}

static contrl_status bitflip_reset(void *user, uint64_t seed, float *obs, float *achieved_goal,
                                   float *desired_goal)
{
    bitflip *b = user;
    contrl_rng_seed(&b->rng, seed);
    /* One 64-bit draw each: its low n bits are uniform on {0, 1}^n. A goal
     * equal to the start is drawn again (half the time for n = 1). */
    b->state = contrl_rng_next(&b->rng) & b->mask;
    do
        b->goal = contrl_rng_next(&b->rng) & b->mask;
    while (b->goal == b->state);
    b->steps = 0;
    b->phase = RUNNING;
    write_bits(b->state, b->n, obs);
    write_bits(b->state, b->n, achieved_goal);
    write_bits(b->goal, b->n, desired_goal);
    return CONTRL_OK;
}

static contrl_status bitflip_step(void *user, const float *action, float *next_obs,
                                  float *achieved_goal, float *reward, bool *terminated,
                                  bool *truncated)
{
    bitflip *b = user;
    if (b->phase == NOT_STARTED)
        return contrl__fail(CONTRL_ERR_STATE, "%s: step before the first reset", b->name);
    if (b->phase == ENDED)
        return contrl__fail(CONTRL_ERR_STATE,
                            "%s: step after the episode ended (goal reached or %lu steps); "
                            "reset first",
                            b->name, (unsigned long)b->n);
    if (isnan(action[0]))
        return contrl__fail(CONTRL_ERR_INVALID_ARG, "%s: action[0] is NaN", b->name);

    /* [-1, 1] is cut into n equal bins [-1 + 2i/n, -1 + 2(i+1)/n), bin i
     * flipping bit i; a = 1 belongs to the last bin. The bin is
     * floor((n a + n) / 2) in exact arithmetic: n a is exact in double (6
     * bits times 24), and n a + n can only round up onto an edge (for a
     * just below one, e.g. the negative float nearest 0), which the exact
     * comparison undoes. */
    double a = (double)action[0];
    a = a < -1.0 ? -1.0 : a > 1.0 ? 1.0 : a;
    const double n = (double)b->n, t = n * a;
    double bin = floor((t + n) / 2.0);
    if (t < 2.0 * bin - n)
        bin -= 1.0;
    uint32_t i = bin >= n ? b->n - 1 : (uint32_t)bin;
    b->state ^= (uint64_t)1 << i;
    b->steps++;
    write_bits(b->state, b->n, next_obs);
    write_bits(b->state, b->n, achieved_goal);
    *reward = b->state == b->goal ? 0.0f : -1.0f;
    /* Reaching the goal ends the episode: with exactly one flip per step an
     * episode that had to run all n steps could only end on the goal when
     * the distance had the parity of the steps left. */
    *terminated = b->state == b->goal;
    *truncated = !*terminated && b->steps >= b->n;
    if (*terminated || *truncated)
        b->phase = ENDED;
    return CONTRL_OK;
}

static void bitflip_destroy(void *user)
{
    bitflip *b = user;
    contrl_allocator a = b->allocator;
    contrl__free(&a, b, sizeof *b);
}

contrl_status contrl__bitflip_make(uint32_t n, const contrl_allocator *allocator,
                                   contrl_goal_env *env)
{
    bitflip *b = contrl__alloc(allocator, sizeof *b);
    if (b == NULL)
        return contrl__fail(CONTRL_ERR_NOMEM, "contrl_goal_env_make: could not allocate %zu "
                            "bytes for \"bitflip-%lu\"", sizeof *b, (unsigned long)n);
    memset(b, 0, sizeof *b);
    b->allocator = *allocator;
    snprintf(b->name, sizeof b->name, "bitflip-%lu", (unsigned long)n);
    b->n = n;
    b->mask = n == 64 ? ~(uint64_t)0 : ((uint64_t)1 << n) - 1;
    b->action_low[0] = -1.0f;
    b->action_high[0] = 1.0f;
    b->phase = NOT_STARTED;

    memset(env, 0, sizeof *env);
    env->size = sizeof *env;
    env->name = b->name;
    env->obs_dim = n;
    env->goal_dim = n;
    env->action_dim = 1;
    env->action_low = b->action_low;
    env->action_high = b->action_high;
    env->max_episode_steps = n;
    env->user = b;
    env->reset = bitflip_reset;
    env->step = bitflip_step;
    env->compute_reward = bitflip_compute_reward;
    env->destroy = bitflip_destroy;
    return CONTRL_OK;
}
