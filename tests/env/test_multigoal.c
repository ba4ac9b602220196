/* tests/env/test_multigoal.c - the built-in "multigoal" task against
 * contrl/env.h and the authors' MultiGoalEnv (haarnoja/softqlearning,
 * softqlearning/environments/multigoal.py).
 *
 * The reference below restates the authors' step in double, written out
 * again here (fmin/fmax clipping, goals visited in another order), not
 * shared with the library. Several expected values are literal numbers
 * worked out by hand from positions the box clip makes exact: driving
 * diagonally for 8 steps from a start within 0.6 of the origin always ends
 * on a corner (+-7, +-7), and from there whole-unit moves stay exact. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../support/counting_alloc.h"
#include "contrl/env.h"

/* Goals in another order than the library's table. */
static const double GOALS[4][2] = {{0.0, -5.0}, {0.0, 5.0}, {-5.0, 0.0}, {5.0, 0.0}};

static void assert_error_mentions(const char *a, const char *b)
{
    const char *msg = contrl_last_error();
    ck_assert_msg(strstr(msg, a) != NULL && strstr(msg, b) != NULL,
                  "last error \"%s\" should name \"%s\" and \"%s\"", msg, a, b);
}

/* |got - want| <= tol * max(1, |want|): a float reward's own rounding
 * (half an ulp, 6e-8 relative) always fits inside 1e-6. */
static void assert_close(double got, double want, double tol, const char *what, int step)
{
    double scale = fabs(want) > 1.0 ? fabs(want) : 1.0;
    ck_assert_msg(fabs(got - want) <= tol * scale, "step %d: %s = %.9g, want %.9g", step, what,
                  got, want);
}

static contrl_env make_multigoal(void)
{
    contrl_env env;
    ck_assert_int_eq(contrl_env_make("multigoal", NULL, &env), CONTRL_OK);
    return env;
}

/* ---- Reference ----------------------------------------------------------- */

typedef struct ref_state {
    double x, y;
} ref_state;

typedef struct ref_step {
    ref_state next;
    double reward;
    bool done;
} ref_step;

/* The start drawn from `seed`: the documented mapping, x = 0.1 n1 and
 * y = 0.1 n2 with n1, n2 the first two contrl_rng_normal draws. */
static ref_state ref_start(uint64_t seed)
{
    contrl_rng rng;
    contrl_rng_seed(&rng, seed);
    double n1 = (double)contrl_rng_normal(&rng);
    double n2 = (double)contrl_rng_normal(&rng);
    return (ref_state){0.1 * n1, 0.1 * n2};
}

static double clipd(double v, double lo, double hi)
{
    return fmax(lo, fmin(hi, v));
}

/* MultiGoalEnv.step: clip the action to [-1, 1], move, clip the position to
 * [-7, 7]; cost 30 |clipped a|^2 + 1 * min squared distance of the NEW
 * position; +10 and done if the nearest goal is closer than 1. */
static ref_step ref_step_of(ref_state s, const float *action)
{
    double ax = clipd((double)action[0], -1.0, 1.0), ay = clipd((double)action[1], -1.0, 1.0);
    ref_step r;
    r.next.x = clipd(s.x + ax, -7.0, 7.0);
    r.next.y = clipd(s.y + ay, -7.0, 7.0);
    double best = HUGE_VAL;
    for (int g = 0; g < 4; g++)
        best = fmin(best, hypot(r.next.x - GOALS[g][0], r.next.y - GOALS[g][1]));
    r.reward = -(30.0 * (ax * ax + ay * ay) + 1.0 * best * best);
    r.done = best < 1.0;
    if (r.done)
        r.reward += 10.0;
    return r;
}

/* Step through the checked wrapper and compare with the reference; returns
 * the new reference state. */
static ref_state step_and_compare(contrl_env *env, ref_state s, float ax, float ay, int t,
                                  bool raw, bool *terminated, bool *truncated)
{
    float a[2] = {ax, ay}, obs[2], reward;
    contrl_status st = raw ? env->step(env->user, a, obs, &reward, terminated, truncated)
                           : contrl_env_step(env, a, obs, &reward, terminated, truncated);
    ck_assert_msg(st == CONTRL_OK, "step %d: %s", t, contrl_last_error());
    ref_step r = ref_step_of(s, a);
    /* The same double operations as the library: the observation is the
     * reference position rounded to float, bit for bit. */
    ck_assert_msg(obs[0] == (float)r.next.x && obs[1] == (float)r.next.y,
                  "step %d: obs (%.9g, %.9g), want (%.9g, %.9g)", t, (double)obs[0],
                  (double)obs[1], r.next.x, r.next.y);
    assert_close(reward, r.reward, 1e-6, "reward", t);
    ck_assert_msg(*terminated == r.done, "step %d: terminated %d, want %d", t, *terminated,
                  r.done);
    return r.next;
}

static ref_state reset_and_compare(contrl_env *env, uint64_t seed)
{
    float obs[2];
    ck_assert_int_eq(contrl_env_reset(env, seed, obs), CONTRL_OK);
    ref_state s = ref_start(seed);
    ck_assert_msg(obs[0] == (float)s.x && obs[1] == (float)s.y,
                  "seed %lu: start (%.9g, %.9g), want (%.9g, %.9g)", (unsigned long)seed,
                  (double)obs[0], (double)obs[1], s.x, s.y);
    return s;
}

/* Step with `a` and require exactly the literal outcome. */
static void step_exact(contrl_env *env, float ax, float ay, float want_x, float want_y,
                       float want_reward, bool want_terminated, bool want_truncated,
                       const char *what)
{
    float a[2] = {ax, ay}, obs[2], reward;
    bool terminated, truncated;
    ck_assert_int_eq(contrl_env_step(env, a, obs, &reward, &terminated, &truncated),
                     CONTRL_OK);
    ck_assert_msg(obs[0] == want_x && obs[1] == want_y && reward == want_reward &&
                      terminated == want_terminated && truncated == want_truncated,
                  "%s: obs (%g, %g) reward %g terminated %d truncated %d; want (%g, %g) %g "
                  "%d %d", what, (double)obs[0], (double)obs[1], (double)reward, terminated,
                  truncated, (double)want_x, (double)want_y, (double)want_reward,
                  want_terminated, want_truncated);
}

/* From any start within 0.6 of the origin, 8 steps of (dx, dy) in {-1, 1}^2
 * end exactly on the corner (7 dx, 7 dy). Checks that the walk never ended
 * the episode and that it landed there; returns the steps taken (8). */
static int drive_to_corner(contrl_env *env, float dx, float dy)
{
    float a[2] = {dx, dy}, obs[2], reward;
    bool terminated, truncated;
    for (int t = 1; t <= 8; t++) {
        ck_assert_int_eq(contrl_env_step(env, a, obs, &reward, &terminated, &truncated),
                         CONTRL_OK);
        ck_assert(!terminated && !truncated);
    }
    ck_assert(obs[0] == 7.0f * dx && obs[1] == 7.0f * dy);
    return 8;
}

/* ---- Tests ---------------------------------------------------------------- */

START_TEST(multigoal_step_matches_hand_computed_dynamics_and_reward)
{
    contrl_env env = make_multigoal();
    bool terminated, truncated;

    /* Literal values. From (7, -7) the nearest goals, (5, 0) and (0, -5),
     * are both sqrt(53) away. */
    reset_and_compare(&env, 11);
    drive_to_corner(&env, 1.0f, -1.0f);
    /* Pushing further out is clipped at the wall; cost 30 * 2 + 53. */
    step_exact(&env, 1.0f, -1.0f, 7.0f, -7.0f, -113.0f, false, false, "at the corner");
    /* An out-of-range action through the raw callback is clipped, and the
     * cost is that of the clipped action (1, -1): still -113, not
     * -(30 * (2.5^2 + 3^2) + 53) = -510.5. */
    {
        float a[2] = {2.5f, -3.0f}, obs[2], reward;
        ck_assert_int_eq(env.step(env.user, a, obs, &reward, &terminated, &truncated),
                         CONTRL_OK);
        ck_assert(obs[0] == 7.0f && obs[1] == -7.0f && reward == -113.0f && !terminated);
        /* Far outside the other way: clipped to (-1, 1), moves to (6, -6);
         * nearest goal (5, 0) or (0, -5): 1 + 36 = 37; cost 60. */
        float b[2] = {-1e30f, INFINITY};
        ck_assert_int_eq(env.step(env.user, b, obs, &reward, &terminated, &truncated),
                         CONTRL_OK);
        ck_assert_msg(obs[0] == 6.0f && obs[1] == -6.0f && reward == -97.0f && !terminated,
                      "obs (%g, %g) reward %g", (double)obs[0], (double)obs[1],
                      (double)reward);
    }
    /* Half steps: (6.5, -6.5) -> nearest 1.5^2 + 6.5^2 = 44.5, cost 30 * 0.5 = 15. */
    step_exact(&env, 0.5f, -0.5f, 6.5f, -6.5f, -59.5f, false, false, "half step");
    /* Moving along the wall: x clipped, y free: (7, -5.5) -> (5, 0): 4 + 30.25
     * and (0, -5): 49 + 0.25, so 34.25; cost 30 * (1 + 1) = 60. */
    step_exact(&env, 1.0f, 1.0f, 7.0f, -5.5f, -94.25f, false, false, "along the wall");
    contrl_env_close(&env);

    /* The reference over many episodes: smooth in-range actions through the
     * wrapper, out-of-range ones through the raw callback, and long pushes
     * into each wall. */
    env = make_multigoal();
    int checked = 0, clipped_pos = 0, clipped_action = 0;
    for (uint64_t seed = 0; seed < 40; seed++) {
        ref_state s = reset_and_compare(&env, seed);
        int t = 0;
        do {
            t++;
            float ax, ay;
            bool raw = false;
            switch (seed % 4) {
            case 0: /* smooth, in range */
                ax = (float)sin(0.37 * t + (double)seed);
                ay = (float)cos(0.23 * t * (double)seed);
                break;
            case 1: /* out of range, raw */
                ax = (float)(3.0 * sin(0.5 * t + (double)seed));
                ay = (float)(-2.5 * cos(0.7 * t));
                raw = true;
                break;
            case 2: /* into the walls: up and right for 12 steps, then down the
                     * right wall (x pushed on it), past (7, 0), into (7, -7) */
                ax = t <= 12 ? 1.0f : 0.1f;
                ay = t <= 12 ? 0.6f : -1.0f;
                break;
            default: /* into the walls, overshooting actions, raw */
                ax = -1.7f;
                ay = t % 3 == 0 ? 0.3f : 1.2f;
                raw = true;
                break;
            }
            if (fabsf(ax) > 1.0f || fabsf(ay) > 1.0f)
                clipped_action++;
            ref_state prev = s;
            s = step_and_compare(&env, s, ax, ay, t, raw, &terminated, &truncated);
            if (fabs(s.x) == 7.0 || fabs(s.y) == 7.0)
                clipped_pos += fabs(prev.x + clipd(ax, -1, 1)) > 7.0 ||
                               fabs(prev.y + clipd(ay, -1, 1)) > 7.0;
            checked++;
        } while (!terminated && !truncated);
    }
    /* The cases above do what they claim. */
    ck_assert_int_gt(checked, 500);
    ck_assert_int_gt(clipped_pos, 50);
    ck_assert_int_gt(clipped_action, 200);
    contrl_env_close(&env);

    /* The other corner, literal: (-7, 7); step 9 pushes on the wall. */
    env = make_multigoal();
    reset_and_compare(&env, 12);
    drive_to_corner(&env, -1.0f, 1.0f);
    step_exact(&env, -0.25f, 0.0f, -7.0f, 7.0f, -54.875f, false, false, "(-7, 7)");
    contrl_env_close(&env);
}
END_TEST

START_TEST(multigoal_terminates_with_goal_reward_within_threshold_of_each_goal)
{
    /* For goal g = 5 u (u a unit axis vector) and v perpendicular to u:
     * 8 steps of u + v reach the corner 7 u + 7 v, 7 steps of -v reach 7 u
     * exactly (distance 2), one step of -u reaches 6 u: distance exactly 1,
     * which is NOT within the threshold (strict <): reward -(30 + 1) = -31.
     * Then -u/2 reaches 5.5 u: distance 0.5, terminated, reward
     * -(30 * 0.25 + 0.25) + 10 = 2.25. */
    static const float axes[4][2] = {{1, 0}, {-1, 0}, {0, 1}, {0, -1}};
    for (int g = 0; g < 4; g++) {
        float ux = axes[g][0], uy = axes[g][1];
        float vx = uy, vy = -ux;
        contrl_env env = make_multigoal();
        float obs[2];
        ck_assert_int_eq(contrl_env_reset(&env, 100 + (uint64_t)g, obs), CONTRL_OK);
        drive_to_corner(&env, ux + vx, uy + vy);
        for (int t = 1; t <= 7; t++) {
            float want_x = 7.0f * ux + (7.0f - (float)t) * vx;
            float want_y = 7.0f * uy + (7.0f - (float)t) * vy;
            double d2 = (want_x - 5.0 * ux) * (want_x - 5.0 * ux) +
                        (want_y - 5.0 * uy) * (want_y - 5.0 * uy);
            step_exact(&env, -vx, -vy, want_x, want_y, (float)-(30.0 + d2), false, false,
                       "along the edge");
        }
        step_exact(&env, -ux, -uy, 6.0f * ux, 6.0f * uy, -31.0f, false, false,
                   "distance exactly 1");
        step_exact(&env, -0.5f * ux, -0.5f * uy, 5.5f * ux, 5.5f * uy, 2.25f, true, false,
                   "distance 0.5");
        /* The episode is over. */
        float a[2] = {0, 0}, reward;
        bool terminated, truncated;
        ck_assert_int_eq(contrl_env_step(&env, a, obs, &reward, &terminated, &truncated),
                         CONTRL_ERR_STATE);
        contrl_env_close(&env);
    }

    /* Off the axis, within the threshold: from (7, 0) a step of (-1, 0.6)
     * gives (6, 0.6), distance sqrt(1.36) > 1; then (-0.5, 0) gives
     * (5.5, 0.6), distance sqrt(0.61) < 1: terminated with
     * -(30 * 0.25 + 0.61) + 10. 0.6 is not exact in float, so compare with
     * the reference values to 1e-6. */
    contrl_env env = make_multigoal();
    float obs[2];
    ck_assert_int_eq(contrl_env_reset(&env, 7, obs), CONTRL_OK);
    drive_to_corner(&env, 1.0f, -1.0f);
    for (int t = 1; t <= 7; t++)
        step_exact(&env, 0.0f, 1.0f, 7.0f, -7.0f + (float)t,
                   (float)-(30.0 + 4.0 + (7.0 - t) * (7.0 - t)), false, false, "up the wall");
    ref_state s = {7.0, 0.0};
    bool terminated, truncated;
    s = step_and_compare(&env, s, -1.0f, 0.6f, 1, false, &terminated, &truncated);
    ck_assert(!terminated);
    s = step_and_compare(&env, s, -0.5f, 0.0f, 2, false, &terminated, &truncated);
    ck_assert(terminated && !truncated);
    ck_assert(s.x == 5.5 && s.y == (double)0.6f);
    contrl_env_close(&env);
}
END_TEST

START_TEST(multigoal_truncates_at_30_steps)
{
    contrl_env env = make_multigoal();
    ck_assert_uint_eq(env.max_episode_steps, 30);
    float obs[2], reward, a[2] = {0.0f, 0.0f};
    bool terminated, truncated;
    /* Standing still near the origin, 5 from every goal: truncated on the
     * 30th step exactly, never terminated; then the episode is over. */
    for (uint64_t seed = 0; seed < 5; seed++) {
        ck_assert_int_eq(contrl_env_reset(&env, seed, obs), CONTRL_OK);
        for (int t = 1; t <= 30; t++) {
            ck_assert_int_eq(contrl_env_step(&env, a, obs, &reward, &terminated, &truncated),
                             CONTRL_OK);
            ck_assert(!terminated);
            ck_assert_msg(truncated == (t == 30), "step %d: truncated %d", t, truncated);
        }
        ck_assert_int_eq(contrl_env_step(&env, a, obs, &reward, &terminated, &truncated),
                         CONTRL_ERR_STATE);
        assert_error_mentions("multigoal", "reset");
    }

    /* Reaching a goal on the 30th step: both flags. 8 steps to (7, -7), 7 up
     * the wall to (7, 0), 13 still, (-1, 0) to (6, 0) (distance exactly 1,
     * step 29), then (-0.5, 0) to (5.5, 0) on step 30. */
    ck_assert_int_eq(contrl_env_reset(&env, 9, obs), CONTRL_OK);
    int t = drive_to_corner(&env, 1.0f, -1.0f);
    for (int i = 0; i < 7; i++, t++)
        step_exact(&env, 0.0f, 1.0f, 7.0f, -6.0f + (float)i,
                   (float)-(30.0 + 4.0 + (6 - i) * (6 - i)), false, false, "up the wall");
    for (; t < 28; t++)
        step_exact(&env, 0.0f, 0.0f, 7.0f, 0.0f, -4.0f, false, false, "waiting");
    step_exact(&env, -1.0f, 0.0f, 6.0f, 0.0f, -31.0f, false, false, "step 29");
    step_exact(&env, -0.5f, 0.0f, 5.5f, 0.0f, 2.25f, true, true, "step 30");
    ck_assert_int_eq(contrl_env_step(&env, a, obs, &reward, &terminated, &truncated),
                     CONTRL_ERR_STATE);
    contrl_env_close(&env);
}
END_TEST

START_TEST(multigoal_reset_is_seeded_near_the_origin)
{
    contrl_env e1 = make_multigoal(), e2 = make_multigoal();
    float o1[2], o2[2], o3[2], reward, a[2] = {0.3f, -0.4f};
    bool terminated, truncated;

    /* Same seed, same start: two instances, and one instance again after
     * another episode. */
    ck_assert_int_eq(contrl_env_reset(&e1, 77, o1), CONTRL_OK);
    ck_assert_int_eq(contrl_env_reset(&e2, 78, o2), CONTRL_OK);
    for (int t = 0; t < 5; t++)
        ck_assert_int_eq(contrl_env_step(&e2, a, o2, &reward, &terminated, &truncated),
                         CONTRL_OK);
    ck_assert_int_eq(contrl_env_reset(&e2, 77, o2), CONTRL_OK);
    ck_assert_int_eq(contrl_env_reset(&e1, 77, o3), CONTRL_OK);
    ck_assert(memcmp(o1, o2, sizeof o1) == 0 && memcmp(o1, o3, sizeof o1) == 0);
    /* Different seeds, different starts. */
    ck_assert_int_eq(contrl_env_reset(&e2, 78, o2), CONTRL_OK);
    ck_assert(o1[0] != o2[0] && o1[1] != o2[1]);
    contrl_env_close(&e2);

    /* Over n seeds, x and y are N(0, 0.1^2), independent. The standard
     * error of a sample std is 0.1 / sqrt(2n) = 0.0007 for n = 10000, so 10%
     * (0.01) is 14 standard errors; of a mean 0.001 (0.005 is 5); of the
     * correlation 0.01 (0.05 is 5). */
    enum { N = 10000 };
    double sum[2] = {0, 0}, sq[2] = {0, 0}, xy = 0, max_abs = 0;
    for (uint64_t seed = 0; seed < N; seed++) {
        ck_assert_int_eq(contrl_env_reset(&e1, seed, o1), CONTRL_OK);
        for (int i = 0; i < 2; i++) {
            sum[i] += o1[i];
            sq[i] += (double)o1[i] * o1[i];
            max_abs = fmax(max_abs, fabs(o1[i]));
        }
        xy += (double)o1[0] * o1[1];
    }
    double mean[2], sd[2];
    for (int i = 0; i < 2; i++) {
        mean[i] = sum[i] / N;
        sd[i] = sqrt((sq[i] - N * mean[i] * mean[i]) / (N - 1));
        ck_assert_msg(fabs(mean[i]) < 0.005, "mean[%d] = %g", i, mean[i]);
        ck_assert_msg(fabs(sd[i] - 0.1) < 0.01, "sd[%d] = %g, want 0.1 within 10%%", i, sd[i]);
    }
    double corr = (xy / N - mean[0] * mean[1]) / (sd[0] * sd[1]);
    ck_assert_msg(fabs(corr) < 0.05, "corr(x, y) = %g", corr);
    /* Box-Muller from 24-bit uniforms never exceeds 5.8 sigma. */
    ck_assert_msg(max_abs < 0.58, "max |start| = %g", max_abs);
    contrl_env_close(&e1);
}
END_TEST

START_TEST(multigoal_greedy_controllers_reach_each_goal)
{
    /* a = clip(g - obs, -1, 1) per coordinate: about 4 steps of speed 1
     * towards the goal, arriving within the threshold; the last reward must
     * be the cost of that step plus exactly the goal reward 10. */
    static const double goals[4][2] = {{5, 0}, {-5, 0}, {0, 5}, {0, -5}};
    contrl_env env = make_multigoal();
    for (int g = 0; g < 4; g++) {
        for (uint64_t seed = 0; seed < 20; seed++) {
            float obs[2], reward, a[2];
            bool terminated = false, truncated = false;
            ck_assert_int_eq(contrl_env_reset(&env, seed, obs), CONTRL_OK);
            int t = 0;
            while (!terminated && !truncated) {
                for (int i = 0; i < 2; i++)
                    a[i] = (float)clipd(goals[g][i] - obs[i], -1.0, 1.0);
                ck_assert_int_eq(contrl_env_step(&env, a, obs, &reward, &terminated,
                                                 &truncated), CONTRL_OK);
                t++;
            }
            double dx = obs[0] - goals[g][0], dy = obs[1] - goals[g][1];
            double d2 = dx * dx + dy * dy;
            ck_assert_msg(terminated && !truncated && t <= 6,
                          "goal %d seed %lu: terminated %d after %d steps", g,
                          (unsigned long)seed, terminated, t);
            ck_assert_msg(d2 < 1.0, "goal %d seed %lu: ended %g from its goal", g,
                          (unsigned long)seed, sqrt(d2));
            double cost = 30.0 * ((double)a[0] * a[0] + (double)a[1] * a[1]) + d2;
            ck_assert_msg(fabs((double)reward + cost - 10.0) < 1e-5,
                          "goal %d seed %lu: reward %g, cost %g: bonus %g, want 10", g,
                          (unsigned long)seed, (double)reward, cost, reward + cost);
        }
    }
    contrl_env_close(&env);
}
END_TEST

START_TEST(multigoal_listed_in_contrl_env_names)
{
    int found = 0;
    for (const char *const *name = contrl_env_names(); *name != NULL; name++)
        found += strcmp(*name, "multigoal") == 0;
    ck_assert_int_eq(found, 1);

    contrl_env env = make_multigoal();
    ck_assert_int_eq(contrl_env_check(&env), CONTRL_OK);
    ck_assert_uint_eq(env.size, sizeof env);
    ck_assert_str_eq(env.name, "multigoal");
    ck_assert_uint_eq(env.obs_dim, 2);
    ck_assert_uint_eq(env.action_dim, 2);
    for (int i = 0; i < 2; i++)
        ck_assert(env.action_low[i] == -1.0f && env.action_high[i] == 1.0f);
    ck_assert_uint_eq(env.max_episode_steps, 30);
    ck_assert(env.reset != NULL && env.step != NULL && env.destroy != NULL);
    contrl_env_close(&env);

    /* The unknown-name message lists it. */
    ck_assert_int_eq(contrl_env_make("multigoals", NULL, &env), CONTRL_ERR_INVALID_ARG);
    assert_error_mentions("\"multigoals\"", "\"multigoal\"");
}
END_TEST

START_TEST(multigoal_step_out_of_episode_is_a_state_error_and_nan_is_rejected)
{
    contrl_env env = make_multigoal();
    float obs[2], reward = 123.0f, a[2] = {0.0f, 0.0f};
    bool terminated, truncated;
    ck_assert_int_eq(contrl_env_step(&env, a, obs, &reward, &terminated, &truncated),
                     CONTRL_ERR_STATE);
    assert_error_mentions("multigoal", "reset");
    ck_assert_int_eq(env.step(env.user, a, obs, &reward, &terminated, &truncated),
                     CONTRL_ERR_STATE);
    ck_assert(reward == 123.0f);

    /* A NaN action through the raw callback: INVALID_ARG, state unchanged. */
    ref_state s = reset_and_compare(&env, 5);
    float nan_a[2] = {0.5f, NAN};
    ck_assert_int_eq(env.step(env.user, nan_a, obs, &reward, &terminated, &truncated),
                     CONTRL_ERR_INVALID_ARG);
    assert_error_mentions("multigoal", "action[1]");
    s = step_and_compare(&env, s, 0.5f, 0.5f, 1, false, &terminated, &truncated);
    (void)s;
    contrl_env_close(&env);
}
END_TEST

START_TEST(multigoal_make_takes_one_block_and_steps_without_allocating)
{
    alloc_counter c = {0};
    contrl_allocator al = {alloc_counter_alloc, alloc_counter_free, &c};
    contrl_env env;
    ck_assert_int_eq(contrl_env_make("multigoal", &al, &env), CONTRL_OK);
    ck_assert_int_eq(c.allocs, 1);
    const char *lo = (const char *)env.action_low, *hi = (const char *)env.action_high;
    const char *user = env.user;
    ck_assert(lo > user && lo < user + c.bytes && hi > user && hi < user + c.bytes);
    float obs[2], reward, a[2] = {0.5f, 0.5f};
    bool terminated, truncated;
    for (uint64_t e = 0; e < 3; e++) {
        ck_assert_int_eq(contrl_env_reset(&env, e, obs), CONTRL_OK);
        do
            ck_assert_int_eq(contrl_env_step(&env, a, obs, &reward, &terminated, &truncated),
                             CONTRL_OK);
        while (!terminated && !truncated);
    }
    ck_assert_int_eq(c.allocs, 1);
    ck_assert_int_eq(c.frees, 0);
    contrl_env_close(&env);
    ck_assert_int_eq(c.frees, 1);
    ck_assert_uint_eq(c.freed_bytes, c.bytes);

    c.fail = 1;
    memset(&env, 0xcd, sizeof env);
    ck_assert_int_eq(contrl_env_make("multigoal", &al, &env), CONTRL_ERR_NOMEM);
    assert_error_mentions("contrl_env_make", "multigoal");
    ck_assert_ptr_null(env.user);
    contrl_env_close(&env);
    ck_assert_int_eq(c.frees, 1);
}
END_TEST

static Suite *multigoal_suite(void)
{
    Suite *s = suite_create("multigoal");
    TCase *tc = tcase_create("multigoal");
    tcase_add_test(tc, multigoal_step_matches_hand_computed_dynamics_and_reward);
    tcase_add_test(tc, multigoal_terminates_with_goal_reward_within_threshold_of_each_goal);
    tcase_add_test(tc, multigoal_truncates_at_30_steps);
    tcase_add_test(tc, multigoal_reset_is_seeded_near_the_origin);
    tcase_add_test(tc, multigoal_greedy_controllers_reach_each_goal);
    tcase_add_test(tc, multigoal_listed_in_contrl_env_names);
    tcase_add_test(tc, multigoal_step_out_of_episode_is_a_state_error_and_nan_is_rejected);
    tcase_add_test(tc, multigoal_make_takes_one_block_and_steps_without_allocating);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(multigoal_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
