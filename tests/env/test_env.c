/* tests/env/test_env.c - the env wrappers and built-in tasks against
 * contrl/env.h.
 *
 * The dynamics tests recompute every step in double in this file, from the
 * formulas of Gymnasium's Pendulum-v1 and MountainCarContinuous-v0 (written
 * out again here, not shared with the library), and compare. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../support/counting_alloc.h"
#include "contrl/env.h"

static const double PI = 3.14159265358979323846;

static void assert_error_mentions(const char *a, const char *b)
{
    const char *msg = contrl_last_error();
    ck_assert_msg(strstr(msg, a) != NULL && strstr(msg, b) != NULL,
                  "last error \"%s\" should name \"%s\" and \"%s\"", msg, a, b);
}

/* |got - want| <= tol * max(1, |want|): absolute near zero, relative for
 * large values, so a float output's own rounding (half an ulp, 6e-8
 * relative) always fits inside 1e-6. */
static void assert_close(double got, double want, double tol, const char *what, int step)
{
    double scale = fabs(want) > 1.0 ? fabs(want) : 1.0;
    ck_assert_msg(fabs(got - want) <= tol * scale, "step %d: %s = %.9g, want %.9g", step, what,
                  got, want);
}

static contrl_env make_env(const char *name)
{
    contrl_env env;
    ck_assert_int_eq(contrl_env_make(name, NULL, &env), CONTRL_OK);
    return env;
}

/* ---- Pendulum reference (Gymnasium's Pendulum-v1) ---------------------- */

typedef struct pend_state {
    double th, thdot;
} pend_state;

/* The start drawn from `seed`: the documented mapping of two
 * contrl_rng_uniform draws, th first. */
static pend_state pendulum_start(uint64_t seed)
{
    contrl_rng rng;
    contrl_rng_seed(&rng, seed);
    pend_state s;
    s.th = PI * (2.0 * (double)contrl_rng_uniform(&rng) - 1.0);
    s.thdot = 2.0 * (double)contrl_rng_uniform(&rng) - 1.0;
    return s;
}

/* One step of the reference; returns the reward, sets *speed_clipped when
 * the new speed was clipped to +-8. */
static double pendulum_reference_step(pend_state *s, double action, bool *speed_clipped)
{
    const double g = 10.0, m = 1.0, l = 1.0, dt = 0.05;
    double u = fmin(fmax(action, -2.0), 2.0);
    double th_n = s->th - 2.0 * PI * floor((s->th + PI) / (2.0 * PI)); /* in [-pi, pi) */
    double cost = th_n * th_n + 0.1 * s->thdot * s->thdot + 0.001 * u * u;
    double thdot = s->thdot + (3.0 * g / (2.0 * l) * sin(s->th) + 3.0 / (m * l * l) * u) * dt;
    *speed_clipped = fabs(thdot) > 8.0;
    thdot = fmin(fmax(thdot, -8.0), 8.0);
    s->th += thdot * dt;
    s->thdot = thdot;
    return -cost;
}

static void assert_pendulum_obs(const float *obs, const pend_state *s, int step)
{
    assert_close(obs[0], cos(s->th), 1e-6, "cos th", step);
    assert_close(obs[1], sin(s->th), 1e-6, "sin th", step);
    assert_close(obs[2], s->thdot, 1e-6, "thdot", step);
}

START_TEST(builtin_envs_report_their_shape_and_bounds)
{
    const char *const *names = contrl_env_names();
    ck_assert_ptr_nonnull(names);
    ck_assert_str_eq(names[0], "pendulum");
    ck_assert_str_eq(names[1], "mountaincar");
    ck_assert_str_eq(names[2], "multigoal");
    ck_assert_ptr_null(names[3]);

    contrl_env env = make_env("pendulum");
    ck_assert_int_eq(contrl_env_check(&env), CONTRL_OK);
    ck_assert_uint_eq(env.size, sizeof env);
    ck_assert_str_eq(env.name, "pendulum");
    ck_assert_uint_eq(env.obs_dim, 3);
    ck_assert_uint_eq(env.action_dim, 1);
    ck_assert(env.action_low[0] == -2.0f && env.action_high[0] == 2.0f);
    ck_assert_uint_eq(env.max_episode_steps, 200);
    ck_assert(env.reset != NULL && env.step != NULL && env.destroy != NULL);
    contrl_env_close(&env);

    env = make_env("mountaincar");
    ck_assert_int_eq(contrl_env_check(&env), CONTRL_OK);
    ck_assert_uint_eq(env.size, sizeof env);
    ck_assert_str_eq(env.name, "mountaincar");
    ck_assert_uint_eq(env.obs_dim, 2);
    ck_assert_uint_eq(env.action_dim, 1);
    ck_assert(env.action_low[0] == -1.0f && env.action_high[0] == 1.0f);
    ck_assert_uint_eq(env.max_episode_steps, 999);
    contrl_env_close(&env);
}
END_TEST

START_TEST(pendulum_step_matches_hand_computed_dynamics)
{
    contrl_env env = make_env("pendulum");
    const uint64_t seed = 2024;
    float obs[3], reward;
    bool terminated, truncated, clipped;
    ck_assert_int_eq(contrl_env_reset(&env, seed, obs), CONTRL_OK);
    pend_state s = pendulum_start(seed);
    assert_pendulum_obs(obs, &s, 0);

    int step = 0;
    /* In-range torques through the checked wrapper. */
    const float actions[] = {0.0f, 1.5f, -2.0f, 2.0f, -0.7f, 1.0f, 0.25f};
    for (size_t i = 0; i < sizeof actions / sizeof actions[0]; i++) {
        step++;
        ck_assert_int_eq(contrl_env_step(&env, &actions[i], obs, &reward, &terminated,
                                         &truncated), CONTRL_OK);
        double want = pendulum_reference_step(&s, actions[i], &clipped);
        assert_pendulum_obs(obs, &s, step);
        assert_close(reward, want, 1e-6, "reward", step);
        ck_assert(!terminated && !truncated);
    }

    /* Out-of-range torques through the callback itself (the wrapper refuses
     * them): the task clips to +-2 as Gymnasium does, so the reward's torque
     * term is 0.001 * 4, not 0.001 * 25. */
    const float wild[] = {5.0f, -7.5f};
    for (size_t i = 0; i < 2; i++) {
        step++;
        pend_state before = s;
        ck_assert_int_eq(env.step(env.user, &wild[i], obs, &reward, &terminated, &truncated),
                         CONTRL_OK);
        double want = pendulum_reference_step(&s, wild[i], &clipped);
        pend_state clipped_state = before;
        double want_clipped = pendulum_reference_step(&clipped_state, wild[i] > 0 ? 2.0 : -2.0,
                                                      &clipped);
        ck_assert(want == want_clipped && s.thdot == clipped_state.thdot);
        assert_pendulum_obs(obs, &s, step);
        assert_close(reward, want, 1e-6, "reward", step);
    }

    /* Pump with full torque along the velocity until the speed limit of 8
     * has clipped several steps; th winds past +-pi, so the angle
     * normalisation of the cost is exercised too. */
    int clips = 0;
    bool wound = false;
    while (step < 199) {
        step++;
        float u = s.thdot >= 0.0 ? 2.0f : -2.0f;
        ck_assert_int_eq(contrl_env_step(&env, &u, obs, &reward, &terminated, &truncated),
                         CONTRL_OK);
        double want = pendulum_reference_step(&s, u, &clipped);
        clips += clipped;
        wound = wound || fabs(s.th) > 3.0 * PI;
        assert_pendulum_obs(obs, &s, step);
        assert_close(reward, want, 1e-6, "reward", step);
        ck_assert(!terminated && !truncated);
    }
    ck_assert_int_ge(clips, 3);
    ck_assert(wound);
    contrl_env_close(&env);
}
END_TEST

START_TEST(pendulum_truncates_at_200_and_never_terminates)
{
    contrl_env env = make_env("pendulum");
    float obs[3], reward;
    bool terminated, truncated;
    contrl_rng rng;
    contrl_rng_seed(&rng, 5);
    for (int episode = 0; episode < 2; episode++) {
        ck_assert_int_eq(contrl_env_reset(&env, (uint64_t)episode, obs), CONTRL_OK);
        for (int t = 1; t <= 200; t++) {
            float u = 4.0f * contrl_rng_uniform(&rng) - 2.0f;
            ck_assert_int_eq(contrl_env_step(&env, &u, obs, &reward, &terminated, &truncated),
                             CONTRL_OK);
            ck_assert(!terminated);
            ck_assert_msg(truncated == (t == 200), "step %d: truncated = %d", t, truncated);
        }
        /* The episode is over: one more step is a state error, not a crash. */
        float u = 0.0f;
        ck_assert_int_eq(contrl_env_step(&env, &u, obs, &reward, &terminated, &truncated),
                         CONTRL_ERR_STATE);
        assert_error_mentions("pendulum", "reset");
    }
    contrl_env_close(&env);
}
END_TEST

START_TEST(builtin_envs_step_before_reset_or_after_episode_end_is_a_state_error)
{
    for (const char *const *name = contrl_env_names(); *name != NULL; name++) {
        contrl_env env = make_env(*name);
        float obs[3], reward = 123.0f, u[2] = {0.0f, 0.0f}; /* action_dim <= 2 */
        bool terminated, truncated;
        ck_assert_int_eq(contrl_env_step(&env, u, obs, &reward, &terminated, &truncated),
                         CONTRL_ERR_STATE);
        assert_error_mentions(*name, "reset");
        ck_assert(reward == 123.0f); /* nothing written */
        ck_assert_int_eq(env.step(env.user, u, obs, &reward, &terminated, &truncated),
                         CONTRL_ERR_STATE);
        /* Run the episode out with zero force (mountaincar cannot climb
         * without pumping, and multigoal stays 5 from every goal, so they
         * end by truncation too). */
        ck_assert_int_eq(contrl_env_reset(&env, 3, obs), CONTRL_OK);
        uint32_t t = 0;
        do {
            ck_assert_int_eq(contrl_env_step(&env, u, obs, &reward, &terminated, &truncated),
                             CONTRL_OK);
            t++;
        } while (!terminated && !truncated);
        ck_assert_uint_eq(t, env.max_episode_steps);
        ck_assert_int_eq(contrl_env_step(&env, u, obs, &reward, &terminated, &truncated),
                         CONTRL_ERR_STATE);
        /* A reset starts a new episode. */
        ck_assert_int_eq(contrl_env_reset(&env, 4, obs), CONTRL_OK);
        ck_assert_int_eq(contrl_env_step(&env, u, obs, &reward, &terminated, &truncated),
                         CONTRL_OK);
        contrl_env_close(&env);
    }
}
END_TEST

/* The observations of a 50-step episode from `seed` under fixed actions. */
static void pendulum_trajectory(contrl_env *env, uint64_t seed, float out[51][3])
{
    float reward;
    bool terminated, truncated;
    ck_assert_int_eq(contrl_env_reset(env, seed, out[0]), CONTRL_OK);
    for (int t = 1; t <= 50; t++) {
        float u = (float)sin(0.3 * t) * 2.0f;
        ck_assert_int_eq(contrl_env_step(env, &u, out[t], &reward, &terminated, &truncated),
                         CONTRL_OK);
    }
}

START_TEST(pendulum_reset_same_seed_same_start)
{
    /* Two instances, and one instance reset twice with other episodes in
     * between: the same seed gives the same episode, bit for bit. */
    contrl_env a = make_env("pendulum"), b = make_env("pendulum");
    static float ta[51][3], tb[51][3], tc[51][3], other[51][3];
    pendulum_trajectory(&a, 77, ta);
    pendulum_trajectory(&b, 78, other);
    pendulum_trajectory(&b, 77, tb);
    pendulum_trajectory(&a, 77, tc);
    ck_assert(memcmp(ta, tb, sizeof ta) == 0);
    ck_assert(memcmp(ta, tc, sizeof ta) == 0);
    contrl_env_close(&a);
    contrl_env_close(&b);
}
END_TEST

START_TEST(pendulum_reset_different_seeds_differ)
{
    enum { N = 200 };
    contrl_env env = make_env("pendulum");
    static float start[N][3];
    for (int i = 0; i < N; i++)
        ck_assert_int_eq(contrl_env_reset(&env, (uint64_t)i, start[i]), CONTRL_OK);
    /* Every start differs from every other in both th and thdot (two equal
     * 24-bit draws among 200 seeds has probability ~1e-3 per coordinate;
     * these seeds have none). */
    for (int i = 0; i < N; i++)
        for (int j = i + 1; j < N; j++) {
            ck_assert_msg(start[i][0] != start[j][0] || start[i][1] != start[j][1],
                          "seeds %d and %d start at the same angle", i, j);
            ck_assert_msg(start[i][2] != start[j][2], "seeds %d and %d start at the same speed",
                          i, j);
        }
    contrl_env_close(&env);
}
END_TEST

START_TEST(pendulum_reset_start_distribution_covers_th_and_thdot_ranges)
{
    enum { N = 20000, BINS = 10 };
    contrl_env env = make_env("pendulum");
    int th_bins[BINS] = {0}, thdot_bins[BINS] = {0};
    double th_min = 10, th_max = -10, thdot_min = 10, thdot_max = -10;
    for (int i = 0; i < N; i++) {
        float obs[3];
        ck_assert_int_eq(contrl_env_reset(&env, 1000 + (uint64_t)i, obs), CONTRL_OK);
        /* cos^2 + sin^2 = 1 up to float rounding: obs[0..1] is a point on the circle. */
        ck_assert(fabs((double)obs[0] * obs[0] + (double)obs[1] * obs[1] - 1.0) < 1e-6);
        double th = atan2(obs[1], obs[0]), thdot = obs[2];
        ck_assert(th >= -PI && th <= PI);
        ck_assert(thdot >= -1.0 && thdot <= 1.0);
        th_min = fmin(th_min, th);
        th_max = fmax(th_max, th);
        thdot_min = fmin(thdot_min, thdot);
        thdot_max = fmax(thdot_max, thdot);
        int bt = (int)floor((th + PI) / (2 * PI) * BINS), bv = (int)floor((thdot + 1) / 2 * BINS);
        th_bins[bt < BINS ? bt : BINS - 1]++;
        thdot_bins[bv < BINS ? bv : BINS - 1]++;
    }
    /* The extremes of N uniform draws lie within ~range/N of the ends; 1e-3
     * of the range leaves a factor of 20 (a miss has probability e^-20). */
    ck_assert(th_min < -PI + 2 * PI * 1e-3 && th_max > PI - 2 * PI * 1e-3);
    ck_assert(thdot_min < -1 + 2e-3 && thdot_max > 1 - 2e-3);
    /* Each bin holds N/BINS = 2000 +- sqrt(2000 * 0.9) = 42 (one sd); 5 sd
     * bounds make a false failure over 20 bins about 1e-5 likely. */
    for (int b = 0; b < BINS; b++) {
        ck_assert_msg(abs(th_bins[b] - N / BINS) < 212, "th bin %d has %d", b, th_bins[b]);
        ck_assert_msg(abs(thdot_bins[b] - N / BINS) < 212, "thdot bin %d has %d", b,
                      thdot_bins[b]);
    }
    contrl_env_close(&env);
}
END_TEST

/* Energy-shaping swing-up for Pendulum-v1. With th = 0 upright the dynamics
 * are thddot = 15 sin th + 3 u, so H = thdot^2 / 2 + 15 cos th is conserved
 * without torque and dH/dt = 3 u thdot; upright at rest is H = 15. Far from
 * the top, push along thdot while H < 15 and against it while H > 15; near
 * the top, a PD law holds the pendulum (linearised: thddot = (15 - 3 kp) th
 * - 3 kd thdot, stable for kp > 5). */
static float swing_up(const float *obs)
{
    double th = atan2(obs[1], obs[0]), thdot = obs[2];
    double u;
    if (fabs(th) < 0.6 && fabs(thdot) < 4.0) {
        u = -10.0 * th - 2.0 * thdot;
    } else {
        double energy = 0.5 * thdot * thdot + 15.0 * cos(th);
        double dir = thdot >= 0.0 ? 1.0 : -1.0;
        u = (energy < 15.0 ? 2.0 : -2.0) * dir;
    }
    return (float)fmin(fmax(u, -2.0), 2.0);
}

typedef float (*policy)(const float *obs, contrl_rng *rng);

static float random_torque(const float *obs, contrl_rng *rng)
{
    (void)obs;
    return 4.0f * contrl_rng_uniform(rng) - 2.0f;
}

static float swing_up_policy(const float *obs, contrl_rng *rng)
{
    (void)rng;
    return swing_up(obs);
}

/* Average undiscounted return over `episodes` episodes from seeds
 * first_seed, first_seed + 1, ... */
static double pendulum_average_return(contrl_env *env, policy pi, uint64_t first_seed,
                                      int episodes)
{
    contrl_rng rng;
    contrl_rng_seed(&rng, first_seed ^ 0x9e3779b97f4a7c15u);
    double total = 0.0;
    for (int e = 0; e < episodes; e++) {
        float obs[3], reward;
        bool terminated = false, truncated = false;
        ck_assert_int_eq(contrl_env_reset(env, first_seed + (uint64_t)e, obs), CONTRL_OK);
        while (!terminated && !truncated) {
            float u = pi(obs, &rng);
            ck_assert_int_eq(contrl_env_step(env, &u, obs, &reward, &terminated, &truncated),
                             CONTRL_OK);
            total += reward;
        }
    }
    return total / episodes;
}

START_TEST(pendulum_random_policy_return_is_in_known_range)
{
    contrl_env env = make_env("pendulum");
    double random_return = pendulum_average_return(&env, random_torque, 0, 20);
    double controller_return = pendulum_average_return(&env, swing_up_policy, 0, 20);
    fprintf(stderr, "pendulum: average return over 20 episodes: random torques %.1f, "
                    "swing-up controller %.1f\n", random_return, controller_return);
    /* See docs/env.md. Over 2000 independent sets of 20 episodes, uniform
     * random torques averaged -1231 with a standard deviation of 65 between
     * sets (289 between single episodes), so -1000 is 3.5 sd above the mean
     * and -1600 5.7 sd below. Gross errors leave the range: gravity's sign
     * flipped gives about -640, a cost on the raw, unnormalised angle about
     * -9100. Exact constants are checked by the hand-computed test. */
    ck_assert_msg(random_return > -1600.0 && random_return < -1000.0,
                  "random-policy return %.1f is outside [-1600, -1000]", random_return);
    /* The swing-up controller only works on the right dynamics: over 500
     * sets of 20 episodes it averaged -152 (worst set -221, worst single
     * episode -374). */
    ck_assert_msg(controller_return > -400.0, "swing-up controller return %.1f <= -400",
                  controller_return);
    contrl_env_close(&env);
}
END_TEST

/* ---- Mountain car reference (Gymnasium's MountainCarContinuous-v0) ------ */

typedef struct car_state {
    double position, velocity;
} car_state;

static car_state mountaincar_start(uint64_t seed)
{
    contrl_rng rng;
    contrl_rng_seed(&rng, seed);
    car_state s = {-0.6 + 0.2 * (double)contrl_rng_uniform(&rng), 0.0};
    return s;
}

/* One step; returns the reward and sets *goal and *wall (hit the left wall
 * moving left). The state is rounded to float32 after the step, as
 * Gymnasium stores it. */
static double mountaincar_reference_step(car_state *s, double action, bool *goal, bool *wall)
{
    double force = fmin(fmax(action, -1.0), 1.0);
    double v = s->velocity + force * 0.0015 - 0.0025 * cos(3.0 * s->position);
    v = fmin(fmax(v, -0.07), 0.07);
    double p = s->position + v;
    p = fmin(fmax(p, -1.2), 0.6);
    *wall = p == -1.2 && v < 0.0;
    if (*wall)
        v = 0.0;
    *goal = p >= 0.45 && v >= 0.0;
    double reward = (*goal ? 100.0 : 0.0) - 0.1 * action * action;
    s->position = (float)p;
    s->velocity = (float)v;
    return reward;
}

static void assert_car_obs(const float *obs, const car_state *s, int step)
{
    assert_close(obs[0], s->position, 1e-6, "position", step);
    /* velocity is at most 0.07: an absolute 1e-8 is still 4x its float rounding. */
    assert_close(obs[1], s->velocity, 1e-8, "velocity", step);
}

START_TEST(mountaincar_step_matches_hand_computed_dynamics)
{
    contrl_env env = make_env("mountaincar");
    const uint64_t seed = 99;
    float obs[2], reward;
    bool terminated, truncated, goal, wall;
    ck_assert_int_eq(contrl_env_reset(&env, seed, obs), CONTRL_OK);
    car_state s = mountaincar_start(seed);
    ck_assert(s.position >= -0.6 && s.position < -0.4);
    ck_assert(obs[0] == (float)s.position && obs[1] == 0.0f);

    int step = 0;
    const float actions[] = {1.0f, -1.0f, 0.5f, 0.0f, -0.3f, 1.0f, 1.0f, -0.9f};
    for (size_t i = 0; i < sizeof actions / sizeof actions[0]; i++) {
        step++;
        ck_assert_int_eq(contrl_env_step(&env, &actions[i], obs, &reward, &terminated,
                                         &truncated), CONTRL_OK);
        double want = mountaincar_reference_step(&s, actions[i], &goal, &wall);
        assert_car_obs(obs, &s, step);
        assert_close(reward, want, 1e-6, "reward", step);
        ck_assert(!terminated && !truncated && !goal && !wall);
    }

    /* Through the callback with |action| > 1: the force is clipped to +-1,
     * but the penalty is on the action as given, as in Gymnasium
     * (reward -= action^2 * 0.1): -0.9 for 3, -0.4 for -2. */
    const float wild[] = {3.0f, -2.0f};
    const float wild_reward[] = {-0.9f, -0.4f};
    for (size_t i = 0; i < 2; i++) {
        step++;
        car_state clipped = s;
        ck_assert_int_eq(env.step(env.user, &wild[i], obs, &reward, &terminated, &truncated),
                         CONTRL_OK);
        mountaincar_reference_step(&s, wild[i], &goal, &wall);
        mountaincar_reference_step(&clipped, wild[i] > 0 ? 1.0 : -1.0, &goal, &wall);
        ck_assert(s.position == clipped.position && s.velocity == clipped.velocity);
        assert_car_obs(obs, &s, step);
        assert_close(reward, wild_reward[i], 1e-6, "reward", step);
    }
    contrl_env_close(&env);
}
END_TEST

/* Push in the direction of travel (right when at rest). */
static float push_with_velocity(const float *obs)
{
    return obs[1] >= 0.0f ? 1.0f : -1.0f;
}

START_TEST(mountaincar_reaching_goal_terminates_with_100_reward)
{
    contrl_env env = make_env("mountaincar");
    float obs[2], reward;
    bool terminated = false, truncated = false, goal, wall;
    ck_assert_int_eq(contrl_env_reset(&env, 11, obs), CONTRL_OK);
    car_state s = mountaincar_start(11);
    int step = 0;
    while (!terminated) {
        step++;
        float a = push_with_velocity(obs);
        ck_assert_int_eq(contrl_env_step(&env, &a, obs, &reward, &terminated, &truncated),
                         CONTRL_OK);
        double want = mountaincar_reference_step(&s, a, &goal, &wall);
        assert_car_obs(obs, &s, step);
        assert_close(reward, want, 1e-6, "reward", step);
        ck_assert(terminated == goal);
        ck_assert(!truncated);
        if (!terminated)
            ck_assert(reward == -0.1f);
    }
    ck_assert(obs[0] >= 0.45f && obs[1] >= 0.0f);
    assert_close(reward, 100.0 - 0.1, 1e-6, "goal reward", step);
    float a = 0.0f;
    ck_assert_int_eq(contrl_env_step(&env, &a, obs, &reward, &terminated, &truncated),
                     CONTRL_ERR_STATE);
    contrl_env_close(&env);
}
END_TEST

START_TEST(mountaincar_left_wall_stops_the_car)
{
    /* Push left while moving left and coast while moving right: energy
     * only grows on the leftward swings, so the car climbs the left hill
     * higher each time until it hits the wall at -1.2; the wall (height
     * sin(3 * -1.2)) is lower than the goal (sin(3 * 0.45)), so coasting
     * right from rest at the wall never reaches the goal. */
    contrl_env env = make_env("mountaincar");
    float obs[2], reward;
    bool terminated = false, truncated = false, goal, wall;
    ck_assert_int_eq(contrl_env_reset(&env, 5, obs), CONTRL_OK);
    car_state s = mountaincar_start(5);
    int walls = 0, step = 0;
    bool after_wall = false;
    while (step < 400) {
        step++;
        float a = obs[1] < 0.0f ? -1.0f : 0.0f;
        ck_assert_int_eq(contrl_env_step(&env, &a, obs, &reward, &terminated, &truncated),
                         CONTRL_OK);
        mountaincar_reference_step(&s, a, &goal, &wall);
        assert_car_obs(obs, &s, step);
        ck_assert(!terminated && !truncated);
        if (after_wall) {
            /* From rest at the wall the slope sends the car back right:
             * -0.0025 cos(3 * -1.2) = +0.00224 per step. */
            ck_assert_msg(obs[1] > 0.0f, "velocity after the wall is %g", obs[1]);
            after_wall = false;
        }
        if (wall) {
            walls++;
            ck_assert(obs[0] == -1.2f && obs[1] == 0.0f);
            after_wall = true;
        }
    }
    ck_assert_int_ge(walls, 1);
    contrl_env_close(&env);
}
END_TEST

START_TEST(mountaincar_truncates_at_999)
{
    contrl_env env = make_env("mountaincar");
    float obs[2], reward;
    bool terminated, truncated;
    ck_assert_int_eq(contrl_env_reset(&env, 8, obs), CONTRL_OK);
    float a = 0.0f, min_pos = 1, max_pos = -2;
    for (int t = 1; t <= 999; t++) {
        ck_assert_int_eq(contrl_env_step(&env, &a, obs, &reward, &terminated, &truncated),
                         CONTRL_OK);
        ck_assert(!terminated);
        ck_assert_msg(truncated == (t == 999), "step %d: truncated = %d", t, truncated);
        ck_assert(reward == 0.0f);
        min_pos = fminf(min_pos, obs[0]);
        max_pos = fmaxf(max_pos, obs[0]);
    }
    /* Unpowered, the car swings about the valley floor at -pi/6 and never
     * climbs far up either side. */
    ck_assert(min_pos < -PI / 6 && max_pos > -PI / 6 && min_pos > -0.8f && max_pos < -0.2f);
    ck_assert_int_eq(contrl_env_step(&env, &a, obs, &reward, &terminated, &truncated),
                     CONTRL_ERR_STATE);
    contrl_env_close(&env);
}
END_TEST

START_TEST(mountaincar_velocity_push_controller_reaches_goal_before_999_steps)
{
    contrl_env env = make_env("mountaincar");
    int longest = 0;
    double total = 0.0;
    for (uint64_t seed = 0; seed < 20; seed++) {
        float obs[2], reward;
        bool terminated = false, truncated = false;
        double ret = 0.0;
        int steps = 0;
        ck_assert_int_eq(contrl_env_reset(&env, seed, obs), CONTRL_OK);
        while (!terminated && !truncated) {
            float a = push_with_velocity(obs);
            ck_assert_int_eq(contrl_env_step(&env, &a, obs, &reward, &terminated, &truncated),
                             CONTRL_OK);
            ret += reward;
            steps++;
        }
        ck_assert_msg(terminated && !truncated, "seed %d: no goal in %d steps", (int)seed,
                      steps);
        ck_assert_int_lt(steps, 999);
        /* Full force every step: -0.1 per step, +100 at the goal. */
        ck_assert(fabs(ret - (100.0 - 0.1 * steps)) < 1e-4);
        longest = steps > longest ? steps : longest;
        total += ret;
    }
    fprintf(stderr, "mountaincar: push-with-velocity controller: longest episode %d steps, "
                    "average return %.2f over 20 seeds\n", longest, total / 20);
    contrl_env_close(&env);
}
END_TEST

/* ---- The wrappers, with a user env ------------------------------------- */

typedef struct toy {
    int resets, steps, destroys;
    contrl_status fail;   /* returned by both callbacks when not OK */
    int nonfinite;        /* 1: NaN in next_obs[1], 2: Inf reward, 3: Inf in reset obs[1] */
    float last_action[2];
} toy;

static const float toy_low[2] = {-1.0f, 0.0f}, toy_high[2] = {1.0f, 3.0f};

static contrl_status toy_reset(void *user, uint64_t seed, float *obs)
{
    toy *t = user;
    t->resets++;
    if (t->fail != CONTRL_OK)
        return t->fail;
    obs[0] = (float)seed;
    obs[1] = t->nonfinite == 3 ? INFINITY : 0.0f;
    return CONTRL_OK;
}

static contrl_status toy_step(void *user, const float *action, float *next_obs, float *reward,
                              bool *terminated, bool *truncated)
{
    toy *t = user;
    t->steps++;
    if (t->fail != CONTRL_OK)
        return t->fail;
    memcpy(t->last_action, action, sizeof t->last_action);
    next_obs[0] = action[0];
    next_obs[1] = t->nonfinite == 1 ? NAN : action[1];
    *reward = t->nonfinite == 2 ? INFINITY : 1.0f;
    *terminated = false;
    *truncated = false;
    return CONTRL_OK;
}

static void toy_destroy(void *user)
{
    toy *t = user;
    t->destroys++;
}

static contrl_env toy_env(toy *t)
{
    memset(t, 0, sizeof *t);
    contrl_env env;
    memset(&env, 0, sizeof env);
    env.size = sizeof env;
    env.name = "toy";
    env.obs_dim = 2;
    env.action_dim = 2;
    env.action_low = toy_low;
    env.action_high = toy_high;
    env.user = t;
    env.reset = toy_reset;
    env.step = toy_step;
    env.destroy = toy_destroy;
    return env;
}

START_TEST(env_wrappers_reject_bad_arguments)
{
    toy t;
    contrl_env env = toy_env(&t);
    float obs[2], reward;
    bool terminated, truncated;
    const float good[2] = {0.5f, 2.0f};
    ck_assert_int_eq(contrl_env_check(&env), CONTRL_OK);
    ck_assert_int_eq(contrl_env_reset(&env, 1, obs), CONTRL_OK);
    ck_assert_int_eq(contrl_env_step(&env, good, obs, &reward, &terminated, &truncated),
                     CONTRL_OK);
    ck_assert(obs[0] == 0.5f && obs[1] == 2.0f && reward == 1.0f);
    /* The bounds are inclusive. */
    ck_assert_int_eq(contrl_env_step(&env, toy_low, obs, &reward, &terminated, &truncated),
                     CONTRL_OK);
    ck_assert_int_eq(contrl_env_step(&env, toy_high, obs, &reward, &terminated, &truncated),
                     CONTRL_OK);
    ck_assert_int_eq(t.resets, 1);
    ck_assert_int_eq(t.steps, 3);

    /* NULL env and NULL arrays: INVALID_ARG and the callback is not called. */
    ck_assert_int_eq(contrl_env_check(NULL), CONTRL_ERR_INVALID_ARG);
    assert_error_mentions("contrl_env_check", "env");
    ck_assert_int_eq(contrl_env_reset(NULL, 1, obs), CONTRL_ERR_INVALID_ARG);
    assert_error_mentions("contrl_env_reset", "env is NULL");
    ck_assert_int_eq(contrl_env_step(NULL, good, obs, &reward, &terminated, &truncated),
                     CONTRL_ERR_INVALID_ARG);
    assert_error_mentions("contrl_env_step", "env is NULL");
    ck_assert_int_eq(contrl_env_reset(&env, 1, NULL), CONTRL_ERR_INVALID_ARG);
    assert_error_mentions("contrl_env_reset", "obs");
    ck_assert_int_eq(contrl_env_step(&env, NULL, obs, &reward, &terminated, &truncated),
                     CONTRL_ERR_INVALID_ARG);
    assert_error_mentions("contrl_env_step", "action");
    ck_assert_int_eq(contrl_env_step(&env, good, NULL, &reward, &terminated, &truncated),
                     CONTRL_ERR_INVALID_ARG);
    assert_error_mentions("contrl_env_step", "next_obs");
    ck_assert_int_eq(contrl_env_step(&env, good, obs, NULL, &terminated, &truncated),
                     CONTRL_ERR_INVALID_ARG);
    assert_error_mentions("contrl_env_step", "reward");
    ck_assert_int_eq(contrl_env_step(&env, good, obs, &reward, NULL, &truncated),
                     CONTRL_ERR_INVALID_ARG);
    assert_error_mentions("contrl_env_step", "terminated");
    ck_assert_int_eq(contrl_env_step(&env, good, obs, &reward, &terminated, NULL),
                     CONTRL_ERR_INVALID_ARG);
    assert_error_mentions("contrl_env_step", "truncated");

    /* NaN and out-of-bound actions: the message names the index and value. */
    const float nan_action[2] = {0.0f, NAN};
    ck_assert_int_eq(contrl_env_step(&env, nan_action, obs, &reward, &terminated, &truncated),
                     CONTRL_ERR_INVALID_ARG);
    assert_error_mentions("action[1]", "nan");
    const float above[2] = {1.5f, 1.0f};
    ck_assert_int_eq(contrl_env_step(&env, above, obs, &reward, &terminated, &truncated),
                     CONTRL_ERR_INVALID_ARG);
    assert_error_mentions("action[0] = 1.5", "outside [-1, 1]");
    const float below[2] = {0.0f, -0.25f};
    ck_assert_int_eq(contrl_env_step(&env, below, obs, &reward, &terminated, &truncated),
                     CONTRL_ERR_INVALID_ARG);
    assert_error_mentions("action[1] = -0.25", "outside [0, 3]");
    const float inf_action[2] = {-INFINITY, 1.0f};
    ck_assert_int_eq(contrl_env_step(&env, inf_action, obs, &reward, &terminated, &truncated),
                     CONTRL_ERR_INVALID_ARG);
    assert_error_mentions("action[0]", "inf");
    ck_assert_int_eq(t.resets, 1);
    ck_assert_int_eq(t.steps, 3);

    /* What the env returns is checked: NaN/Inf -> NONFINITE. */
    t.nonfinite = 1;
    ck_assert_int_eq(contrl_env_step(&env, good, obs, &reward, &terminated, &truncated),
                     CONTRL_ERR_NONFINITE);
    assert_error_mentions("toy", "next_obs[1]");
    t.nonfinite = 2;
    ck_assert_int_eq(contrl_env_step(&env, good, obs, &reward, &terminated, &truncated),
                     CONTRL_ERR_NONFINITE);
    assert_error_mentions("toy", "reward");
    t.nonfinite = 3;
    ck_assert_int_eq(contrl_env_reset(&env, 2, obs), CONTRL_ERR_NONFINITE);
    assert_error_mentions("contrl_env_reset", "obs[1]");
    t.nonfinite = 0;

    /* An error status from a callback is passed on, message untouched. */
    t.fail = CONTRL_ERR_IO;
    contrl_clear_error();
    ck_assert_int_eq(contrl_env_reset(&env, 1, obs), CONTRL_ERR_IO);
    ck_assert_int_eq(contrl_env_step(&env, good, obs, &reward, &terminated, &truncated),
                     CONTRL_ERR_IO);
    ck_assert_str_eq(contrl_last_error(), "");
    t.fail = CONTRL_ERR_STATE;
    ck_assert_int_eq(contrl_env_step(&env, good, obs, &reward, &terminated, &truncated),
                     CONTRL_ERR_STATE);
    t.fail = CONTRL_OK;

    /* contrl_env_make: unknown names, NULL arguments, half an allocator. */
    contrl_env made;
    memset(&made, 0xab, sizeof made);
    ck_assert_int_eq(contrl_env_make("nope", NULL, &made), CONTRL_ERR_INVALID_ARG);
    assert_error_mentions("\"nope\"", "\"pendulum\", \"mountaincar\", \"multigoal\"");
    contrl_env zero;
    memset(&zero, 0, sizeof zero);
    ck_assert(memcmp(&made, &zero, sizeof made) == 0); /* safe to close */
    ck_assert_int_eq(contrl_env_make(NULL, NULL, &made), CONTRL_ERR_INVALID_ARG);
    assert_error_mentions("contrl_env_make", "name");
    ck_assert_int_eq(contrl_env_make("pendulum", NULL, NULL), CONTRL_ERR_INVALID_ARG);
    assert_error_mentions("contrl_env_make", "env");
    alloc_counter c = {0};
    contrl_allocator half = {alloc_counter_alloc_checked, NULL, &c};
    ck_assert_int_eq(contrl_env_make("pendulum", &half, &made), CONTRL_ERR_INVALID_ARG);
    assert_error_mentions("contrl_env_make", "allocator");
    ck_assert_int_eq(c.allocs, 0);

    contrl_env_close(&env);
    ck_assert_int_eq(t.destroys, 1);
}
END_TEST

START_TEST(env_check_names_each_broken_field)
{
    toy t;
    const contrl_env good = toy_env(&t);
    const float nan_low[2] = {NAN, 0.0f}, inf_high[2] = {1.0f, INFINITY};
    const float equal_high[2] = {1.0f, 0.0f}; /* high[1] == low[1] */
    const float inverted_high[2] = {-2.0f, 3.0f};
    float obs[2], reward;
    bool terminated, truncated;
    const float action[2] = {0.0f, 1.0f};

    /* Fields the wrappers also check on every call (cheap). */
    struct {
        contrl_env env;
        const char *field;
    } cheap[8];
    for (int i = 0; i < 8; i++)
        cheap[i].env = good;
    cheap[0].env.size = offsetof(contrl_env, destroy); /* ends before destroy */
    cheap[0].field = "size";
    cheap[1].env.size = 0;
    cheap[1].field = "size";
    cheap[2].env.obs_dim = 0;
    cheap[2].field = "obs_dim";
    cheap[3].env.action_dim = 0;
    cheap[3].field = "action_dim";
    cheap[4].env.action_low = NULL;
    cheap[4].field = "action_low";
    cheap[5].env.action_high = NULL;
    cheap[5].field = "action_high";
    cheap[6].env.reset = NULL;
    cheap[6].field = "reset";
    cheap[7].env.step = NULL;
    cheap[7].field = "step";
    for (int i = 0; i < 8; i++) {
        ck_assert_int_eq(contrl_env_check(&cheap[i].env), CONTRL_ERR_INVALID_ARG);
        assert_error_mentions("contrl_env_check", cheap[i].field);
        ck_assert_int_eq(contrl_env_reset(&cheap[i].env, 1, obs), CONTRL_ERR_INVALID_ARG);
        assert_error_mentions("contrl_env_reset", cheap[i].field);
        ck_assert_int_eq(contrl_env_step(&cheap[i].env, action, obs, &reward, &terminated,
                                         &truncated), CONTRL_ERR_INVALID_ARG);
        assert_error_mentions("contrl_env_step", cheap[i].field);
    }
    ck_assert_int_eq(t.resets + t.steps, 0);

    /* A struct exactly as large as the first layout is fine. */
    contrl_env minimal = good;
    minimal.size = offsetof(contrl_env, destroy) + sizeof minimal.destroy;
    ck_assert_int_eq(contrl_env_check(&minimal), CONTRL_OK);
    /* name and destroy are optional. */
    minimal.name = NULL;
    minimal.destroy = NULL;
    ck_assert_int_eq(contrl_env_check(&minimal), CONTRL_OK);

    /* Bound values: checked by contrl_env_check, which names index and value. */
    struct {
        const float *low, *high;
        const char *a, *b;
    } bounds[4] = {
        {nan_low, toy_high, "action_low[0]", "nan"},
        {toy_low, inf_high, "action_high[1]", "inf"},
        {toy_low, equal_high, "action_low[1] = 0", "action_high[1] = 0"},
        {toy_low, inverted_high, "action_low[0] = -1", "action_high[0] = -2"},
    };
    for (int i = 0; i < 4; i++) {
        contrl_env bad = good;
        bad.action_low = bounds[i].low;
        bad.action_high = bounds[i].high;
        ck_assert_int_eq(contrl_env_check(&bad), CONTRL_ERR_INVALID_ARG);
        assert_error_mentions(bounds[i].a, bounds[i].b);
    }
    /* A NaN bound the caller never checked still stops every action. */
    contrl_env nan_bound = good;
    nan_bound.action_low = nan_low;
    ck_assert_int_eq(contrl_env_step(&nan_bound, action, obs, &reward, &terminated, &truncated),
                     CONTRL_ERR_INVALID_ARG);
    ck_assert_int_eq(t.steps, 0);
}
END_TEST

START_TEST(env_close_calls_destroy_once_and_zeroes_the_struct)
{
    contrl_env_close(NULL); /* fine */

    toy t;
    contrl_env env = toy_env(&t);
    contrl_env zero;
    memset(&zero, 0, sizeof zero);
    contrl_env_close(&env);
    ck_assert_int_eq(t.destroys, 1);
    ck_assert(memcmp(&env, &zero, sizeof env) == 0);
    contrl_env_close(&env); /* closing a zeroed struct calls nothing */
    ck_assert_int_eq(t.destroys, 1);

    /* A user env without destroy is only zeroed. */
    env = toy_env(&t);
    env.destroy = NULL;
    contrl_env_close(&env);
    ck_assert_int_eq(t.destroys, 0);
    ck_assert(memcmp(&env, &zero, sizeof env) == 0);

    for (const char *const *name = contrl_env_names(); *name != NULL; name++) {
        env = make_env(*name);
        contrl_env_close(&env);
        ck_assert(memcmp(&env, &zero, sizeof env) == 0);
    }
}
END_TEST

START_TEST(env_make_uses_the_allocator)
{
    for (const char *const *name = contrl_env_names(); *name != NULL; name++) {
        alloc_counter c = {0};
        contrl_allocator a = {alloc_counter_alloc_checked, alloc_counter_free_checked, &c};
        contrl_env env;
        ck_assert_int_eq(contrl_env_make(*name, &a, &env), CONTRL_OK);
        ck_assert_int_eq(c.allocs, 1);
        ck_assert_uint_gt(c.bytes, 0);
        /* The bounds live in the env's own block. */
        const char *lo = (const char *)env.action_low, *user = env.user;
        ck_assert(lo > user && lo < user + c.bytes);

        /* Reset and step, whole episodes: no allocation, no free. */
        float obs[3], reward, u[2] = {0.5f, 0.5f}; /* action_dim <= 2 */
        bool terminated, truncated;
        for (uint64_t e = 0; e < 3; e++) {
            ck_assert_int_eq(contrl_env_reset(&env, e, obs), CONTRL_OK);
            do
                ck_assert_int_eq(contrl_env_step(&env, u, obs, &reward, &terminated,
                                                 &truncated), CONTRL_OK);
            while (!terminated && !truncated);
        }
        ck_assert_int_eq(c.allocs, 1);
        ck_assert_int_eq(c.frees, 0);

        contrl_env_close(&env);
        ck_assert_int_eq(c.frees, 1);
        ck_assert_uint_eq(c.freed_bytes, c.bytes);

        /* An allocator that fails: NOMEM, nothing leaked, struct zeroed. */
        c.fail = 1;
        memset(&env, 0xcd, sizeof env);
        ck_assert_int_eq(contrl_env_make(*name, &a, &env), CONTRL_ERR_NOMEM);
        assert_error_mentions("contrl_env_make", *name);
        ck_assert_ptr_null(env.user);
        ck_assert_ptr_null(env.step);
        contrl_env_close(&env);
        ck_assert_int_eq(c.frees, 1);
    }
}
END_TEST

static Suite *env_suite(void)
{
    Suite *s = suite_create("env");
    TCase *tc = tcase_create("env");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, builtin_envs_report_their_shape_and_bounds);
    tcase_add_test(tc, pendulum_step_matches_hand_computed_dynamics);
    tcase_add_test(tc, pendulum_truncates_at_200_and_never_terminates);
    tcase_add_test(tc, builtin_envs_step_before_reset_or_after_episode_end_is_a_state_error);
    tcase_add_test(tc, pendulum_reset_same_seed_same_start);
    tcase_add_test(tc, pendulum_reset_different_seeds_differ);
    tcase_add_test(tc, pendulum_reset_start_distribution_covers_th_and_thdot_ranges);
    tcase_add_test(tc, pendulum_random_policy_return_is_in_known_range);
    tcase_add_test(tc, mountaincar_step_matches_hand_computed_dynamics);
    tcase_add_test(tc, mountaincar_reaching_goal_terminates_with_100_reward);
    tcase_add_test(tc, mountaincar_left_wall_stops_the_car);
    tcase_add_test(tc, mountaincar_truncates_at_999);
    tcase_add_test(tc, mountaincar_velocity_push_controller_reaches_goal_before_999_steps);
    tcase_add_test(tc, env_wrappers_reject_bad_arguments);
    tcase_add_test(tc, env_check_names_each_broken_field);
    tcase_add_test(tc, env_close_calls_destroy_once_and_zeroes_the_struct);
    tcase_add_test(tc, env_make_uses_the_allocator);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(env_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
