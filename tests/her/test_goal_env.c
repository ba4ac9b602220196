/* tests/her/test_goal_env.c - contrl_goal_env_check/close/make and the
 * built-in goal tasks "pointreach-N" and "bitflip-N" against contrl/her.h.
 *
 * The dynamics are recomputed here from the header's description (written
 * out again, not shared with the library); the greedy-policy tests show
 * that the reward a step reports, compute_reward of what it hands out, and
 * reaching the goal all agree. Public API only: the callbacks are called
 * directly, as the HER learner calls them. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../support/counting_alloc.h"
#include "contrl/her.h"

enum { MAX_DIM = 64 };

static void assert_error_mentions(const char *a, const char *b)
{
    const char *msg = contrl_last_error();
    ck_assert_msg(strstr(msg, a) != NULL && strstr(msg, b) != NULL,
                  "last error \"%s\" should name \"%s\" and \"%s\"", msg, a, b);
}

static contrl_goal_env make_env(const char *name)
{
    contrl_goal_env env;
    contrl_status st = contrl_goal_env_make(name, NULL, &env);
    ck_assert_msg(st == CONTRL_OK, "%s: %s", name, contrl_last_error());
    return env;
}

/* One episode's buffers, big enough for every built-in task. */
typedef struct episode {
    float obs[MAX_DIM], ag[MAX_DIM], g[MAX_DIM];
    float reward;
    bool terminated, truncated;
} episode;

static void reset(contrl_goal_env *env, uint64_t seed, episode *e)
{
    ck_assert_int_eq(env->reset(env->user, seed, e->obs, e->ag, e->g), CONTRL_OK);
}

static contrl_status step(contrl_goal_env *env, const float *action, episode *e)
{
    return env->step(env->user, action, e->obs, e->ag, &e->reward, &e->terminated,
                     &e->truncated);
}

static float reward_of(contrl_goal_env *env, const float *achieved, const float *desired)
{
    float r = 12345.0f;
    env->compute_reward(env->user, achieved, desired, 1, &r);
    return r;
}

static double distance(const float *a, const float *b, uint32_t n)
{
    double d2 = 0.0;
    for (uint32_t i = 0; i < n; i++)
        d2 += ((double)a[i] - b[i]) * ((double)a[i] - b[i]);
    return sqrt(d2);
}

static double clampd(double x, double lo, double hi)
{
    return x < lo ? lo : x > hi ? hi : x;
}

/* Same obs, achieved goal and desired goal, bit for bit, in the first n values. */
static void assert_same_start(const episode *a, const episode *b, uint32_t n)
{
    ck_assert_mem_eq(a->obs, b->obs, n * sizeof(float));
    ck_assert_mem_eq(a->ag, b->ag, n * sizeof(float));
    ck_assert_mem_eq(a->g, b->g, n * sizeof(float));
}

/* ---- Shapes ---------------------------------------------------------------- */

START_TEST(builtin_goal_envs_report_their_shape_and_bounds)
{
    static const struct {
        const char *name;
        uint32_t obs, goal, action, steps;
    } cases[] = {
        {"pointreach-1", 1, 1, 1, 50},  {"pointreach-3", 3, 3, 3, 50},
        {"pointreach-10", 10, 10, 10, 50}, {"bitflip-1", 1, 1, 1, 1},
        {"bitflip-8", 8, 8, 1, 8},      {"bitflip-64", 64, 64, 1, 64},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        contrl_goal_env env = make_env(cases[c].name);
        ck_assert_int_eq(contrl_goal_env_check(&env), CONTRL_OK);
        ck_assert_uint_eq(env.size, sizeof env);
        ck_assert_str_eq(env.name, cases[c].name);
        ck_assert_uint_eq(env.obs_dim, cases[c].obs);
        ck_assert_uint_eq(env.goal_dim, cases[c].goal);
        ck_assert_uint_eq(env.action_dim, cases[c].action);
        ck_assert_uint_eq(env.max_episode_steps, cases[c].steps);
        for (uint32_t i = 0; i < env.action_dim; i++)
            ck_assert(env.action_low[i] == -1.0f && env.action_high[i] == 1.0f);
        ck_assert(env.reset != NULL && env.step != NULL && env.compute_reward != NULL &&
                  env.destroy != NULL);
        contrl_goal_env_close(&env);
    }
}
END_TEST

/* ---- pointreach ------------------------------------------------------------ */

START_TEST(pointreach_reset_draws_position_then_goal_uniform_from_the_seed)
{
    /* The documented mapping: 2u - 1 per coordinate, position first. Seed 3
     * with N = 2 does not start within 0.05 (asserted), so no redraw. */
    contrl_goal_env env = make_env("pointreach-2");
    episode e;
    reset(&env, 3, &e);
    contrl_rng rng;
    contrl_rng_seed(&rng, 3);
    float p[2], g[2];
    for (int i = 0; i < 2; i++)
        p[i] = 2.0f * contrl_rng_uniform(&rng) - 1.0f;
    for (int i = 0; i < 2; i++)
        g[i] = 2.0f * contrl_rng_uniform(&rng) - 1.0f;
    ck_assert_double_gt(distance(p, g, 2), 0.05);
    for (int i = 0; i < 2; i++) {
        ck_assert_float_eq(e.obs[i], p[i]);
        ck_assert_float_eq(e.ag[i], p[i]);
        ck_assert_float_eq(e.g[i], g[i]);
    }
    contrl_goal_env_close(&env);
}
END_TEST

START_TEST(pointreach_step_moves_by_a_tenth_of_the_clipped_action_and_stops_at_the_walls)
{
    contrl_goal_env env = make_env("pointreach-2");
    episode e;
    reset(&env, 11, &e);
    double p[2] = {e.obs[0], e.obs[1]};
    const float g[2] = {e.g[0], e.g[1]};
    /* In-range, out-of-range (clipped to +-1) and infinite actions, then a
     * long push into the corner (1, -1): the point must stop at the wall. */
    float actions[40][2] = {
        {0.5f, -0.3f}, {2.0f, -5.0f}, {-1.0f, 1.0f}, {INFINITY, -INFINITY}, {0.0f, 0.25f},
    };
    for (int t = 5; t < 40; t++) {
        actions[t][0] = 1.0f;
        actions[t][1] = -1.0f;
    }
    for (int t = 0; t < 40; t++) {
        ck_assert_int_eq(step(&env, actions[t], &e), CONTRL_OK);
        for (int i = 0; i < 2; i++) {
            double a = clampd((double)actions[t][i], -1.0, 1.0);
            p[i] = clampd(p[i] + 0.1 * a, -1.0, 1.0);
            ck_assert_msg(fabs(e.obs[i] - p[i]) <= 1e-6, "step %d: p[%d] = %.9g, want %.9g", t,
                          i, (double)e.obs[i], p[i]);
            ck_assert_float_eq(e.ag[i], e.obs[i]);
            p[i] = e.obs[i]; /* follow the env's float state, as it does */
        }
        double d = distance(e.obs, g, 2);
        ck_assert_float_eq(e.reward, d > 0.05 ? -1.0f : 0.0f);
        ck_assert(!e.terminated && !e.truncated);
    }
    /* 35 steps of (1, -1) from inside the square end exactly in the corner. */
    ck_assert_float_eq(e.obs[0], 1.0f);
    ck_assert_float_eq(e.obs[1], -1.0f);
    /* A NaN action is refused and changes nothing. */
    const float nan_action[2] = {0.0f, NAN};
    ck_assert_int_eq(step(&env, nan_action, &e), CONTRL_ERR_INVALID_ARG);
    assert_error_mentions("pointreach-2", "action[1] is NaN");
    const float back[2] = {-1.0f, 1.0f};
    ck_assert_int_eq(step(&env, back, &e), CONTRL_OK);
    ck_assert_float_eq_tol(e.obs[0], 0.9f, 1e-6f);
    ck_assert_float_eq_tol(e.obs[1], -0.9f, 1e-6f);
    contrl_goal_env_close(&env);
}
END_TEST

START_TEST(pointreach_reward_is_zero_within_0_05_and_minus_one_beyond)
{
    contrl_goal_env env = make_env("pointreach-3");
    /* Rows: 0.049 and 0.051 along one axis; 0.028 on each axis (norm
     * 0.0485: success) and 0.03 on each axis (norm 0.052: each coordinate
     * is within 0.05 but the Euclidean distance is not); far away; equal. */
    const float achieved[6][3] = {
        {0.049f, 0.0f, 0.0f}, {0.051f, 0.0f, 0.0f}, {0.528f, -0.472f, 0.028f},
        {0.53f, -0.47f, 0.03f}, {1.0f, 1.0f, 1.0f}, {-0.3f, 0.2f, 0.9f},
    };
    const float desired[6][3] = {
        {0.0f, 0.0f, 0.0f}, {0.0f, 0.0f, 0.0f}, {0.5f, -0.5f, 0.0f},
        {0.5f, -0.5f, 0.0f}, {-1.0f, -1.0f, -1.0f}, {-0.3f, 0.2f, 0.9f},
    };
    const float want[6] = {0.0f, -1.0f, 0.0f, -1.0f, -1.0f, 0.0f};
    float got[6];
    env.compute_reward(env.user, &achieved[0][0], &desired[0][0], 6, got);
    for (int r = 0; r < 6; r++)
        ck_assert_msg(got[r] == want[r], "row %d: reward %g, want %g", r, (double)got[r],
                      (double)want[r]);
    /* n = 0 writes nothing. */
    got[0] = 7.0f;
    env.compute_reward(env.user, &achieved[0][0], &desired[0][0], 0, got);
    ck_assert_float_eq(got[0], 7.0f);
    contrl_goal_env_close(&env);

    env = make_env("pointreach-1");
    const float a1[2] = {0.449f, -0.651f}, d1[2] = {0.4f, -0.6f};
    env.compute_reward(env.user, a1, d1, 2, got);
    ck_assert(got[0] == 0.0f && got[1] == -1.0f);
    contrl_goal_env_close(&env);
}
END_TEST

START_TEST(pointreach_truncates_at_50_and_never_terminates)
{
    contrl_goal_env env = make_env("pointreach-4");
    episode e;
    const float a[4] = {0.3f, -0.2f, 0.1f, 0.0f};
    ck_assert_int_eq(step(&env, a, &e), CONTRL_ERR_STATE); /* before the first reset */
    assert_error_mentions("pointreach-4", "reset");
    for (int episode_no = 0; episode_no < 2; episode_no++) {
        reset(&env, 5 + (uint64_t)episode_no, &e);
        for (int t = 1; t <= 50; t++) {
            ck_assert_int_eq(step(&env, a, &e), CONTRL_OK);
            ck_assert(!e.terminated);
            ck_assert_msg(e.truncated == (t == 50), "step %d: truncated = %d", t, e.truncated);
        }
        ck_assert_int_eq(step(&env, a, &e), CONTRL_ERR_STATE);
        assert_error_mentions("pointreach-4", "50");
    }
    contrl_goal_env_close(&env);
}
END_TEST

START_TEST(pointreach_reset_same_seed_same_episode_different_seeds_differ)
{
    contrl_goal_env env = make_env("pointreach-3"), other = make_env("pointreach-3");
    episode a, b;
    const float act[3] = {0.7f, -0.4f, 1.0f};
    reset(&env, 42, &a);
    reset(&other, 42, &b);
    assert_same_start(&a, &b, 3);
    for (int t = 0; t < 10; t++) {
        ck_assert_int_eq(step(&env, act, &a), CONTRL_OK);
        ck_assert_int_eq(step(&other, act, &b), CONTRL_OK);
        ck_assert_mem_eq(a.obs, b.obs, 3 * sizeof(float));
        ck_assert_float_eq(a.reward, b.reward);
    }
    /* Resetting the same instance again with the seed gives the same start. */
    episode c;
    reset(&env, 42, &c);
    reset(&other, 42, &b);
    assert_same_start(&c, &b, 3);
    reset(&other, 43, &b);
    ck_assert(memcmp(c.obs, b.obs, 3 * sizeof(float)) != 0);
    ck_assert(memcmp(c.g, b.g, 3 * sizeof(float)) != 0);
    contrl_goal_env_close(&env);
    contrl_goal_env_close(&other);
}
END_TEST

START_TEST(pointreach_reset_never_starts_solved)
{
    /* N = 1 has the largest chance of a first goal within 0.05 (about 5%),
     * so the redraw is exercised: count the seeds where the first candidate
     * goal (the draw after the position) would have started solved. */
    contrl_goal_env env = make_env("pointreach-1");
    int redrawn = 0;
    for (uint64_t seed = 0; seed < 4000; seed++) {
        episode e;
        reset(&env, seed, &e);
        ck_assert_msg(distance(e.obs, e.g, 1) > 0.05, "seed %llu starts solved",
                      (unsigned long long)seed);
        ck_assert_float_eq(reward_of(&env, e.ag, e.g), -1.0f);
        contrl_rng rng;
        contrl_rng_seed(&rng, seed);
        float p = 2.0f * contrl_rng_uniform(&rng) - 1.0f;
        float g0 = 2.0f * contrl_rng_uniform(&rng) - 1.0f;
        if (fabs((double)p - g0) <= 0.05) {
            redrawn++;
            ck_assert(e.g[0] != g0);
        }
    }
    /* Expected about 4000 * 0.05 = 200; far from 0 so the redraw ran. */
    ck_assert_int_gt(redrawn, 100);
    contrl_goal_env_close(&env);
}
END_TEST

START_TEST(pointreach_start_and_goal_cover_the_cube_uniformly)
{
    enum { N = 3, RESETS = 4000 };
    contrl_goal_env env = make_env("pointreach-3");
    double lo[2][N], hi[2][N], mean[2][N] = {{0}};
    int octant[2][8] = {{0}};
    for (int w = 0; w < 2; w++)
        for (int i = 0; i < N; i++) {
            lo[w][i] = 1.0;
            hi[w][i] = -1.0;
        }
    for (uint64_t seed = 0; seed < RESETS; seed++) {
        episode e;
        reset(&env, 1000 + seed, &e);
        const float *x[2] = {e.obs, e.g};
        for (int w = 0; w < 2; w++) {
            int oct = 0;
            for (int i = 0; i < N; i++) {
                double v = x[w][i];
                ck_assert(v >= -1.0 && v <= 1.0);
                lo[w][i] = fmin(lo[w][i], v);
                hi[w][i] = fmax(hi[w][i], v);
                mean[w][i] += v / RESETS;
                oct |= (v >= 0.0) << i;
            }
            octant[w][oct]++;
        }
    }
    /* U(-1, 1): the extremes of 4000 draws lie within 0.01 of the ends with
     * probability 1 - 0.995^4000 ~ 1 - 2e-9; the mean's standard deviation
     * is 0.577 / sqrt(4000) = 0.009, so 0.05 is over 5 sigma; each octant's
     * share has standard deviation 0.0052 around 0.125, so +-0.03 is over
     * 5 sigma. */
    for (int w = 0; w < 2; w++) {
        for (int i = 0; i < N; i++) {
            ck_assert_double_lt(lo[w][i], -0.99);
            ck_assert_double_gt(hi[w][i], 0.99);
            ck_assert_double_lt(fabs(mean[w][i]), 0.05);
        }
        for (int o = 0; o < 8; o++) {
            double share = (double)octant[w][o] / RESETS;
            ck_assert_msg(fabs(share - 0.125) < 0.03, "%s octant %d: share %.3f",
                          w ? "goal" : "start", o, share);
        }
    }
    contrl_goal_env_close(&env);
}
END_TEST

START_TEST(pointreach_greedy_policy_reaches_every_goal_within_50_steps)
{
    /* Move toward g: a = clip((g - p) / 0.1, -1, 1). Each coordinate is at
     * most 2 away, so 20 full steps and one last step suffice. The reward the
     * step reports must equal compute_reward of what it handed out, and
     * success must mean distance <= 0.05. */
    static const char *const names[] = {"pointreach-1", "pointreach-2", "pointreach-5",
                                        "pointreach-10"};
    for (size_t k = 0; k < 4; k++) {
        contrl_goal_env env = make_env(names[k]);
        const uint32_t n = env.goal_dim;
        for (uint64_t seed = 0; seed < 25; seed++) {
            episode e;
            reset(&env, seed, &e);
            int solved_at = 0;
            for (int t = 1; t <= 50 && solved_at == 0; t++) {
                float a[10];
                for (uint32_t i = 0; i < n; i++)
                    a[i] = (float)clampd(((double)e.g[i] - e.obs[i]) / 0.1, -1.0, 1.0);
                ck_assert_int_eq(step(&env, a, &e), CONTRL_OK);
                ck_assert_float_eq(e.reward, reward_of(&env, e.ag, e.g));
                ck_assert_float_eq(e.reward, distance(e.ag, e.g, n) <= 0.05 ? 0.0f : -1.0f);
                if (e.reward == 0.0f)
                    solved_at = t;
            }
            ck_assert_msg(solved_at >= 1 && solved_at <= 21, "%s seed %llu: solved at %d",
                          names[k], (unsigned long long)seed, solved_at);
        }
        contrl_goal_env_close(&env);
    }
}
END_TEST

/* ---- bitflip --------------------------------------------------------------- */

/* Index of the single bit that differs between two 0/1 rows; -1 if not one. */
static int flipped_bit(const float *before, const float *after, uint32_t n)
{
    int found = -1;
    for (uint32_t i = 0; i < n; i++)
        if (before[i] != after[i]) {
            if (found >= 0)
                return -1;
            found = (int)i;
        }
    return found;
}

/* The bit that action a flips, from a fresh episode. */
static int bit_flipped_by(contrl_goal_env *env, float a)
{
    episode e;
    reset(env, 9, &e);
    float before[MAX_DIM];
    memcpy(before, e.obs, env->obs_dim * sizeof(float));
    ck_assert_int_eq(step(env, &a, &e), CONTRL_OK);
    return flipped_bit(before, e.obs, env->obs_dim);
}

START_TEST(bitflip_action_selects_bit_floor_of_a_plus_1_over_2_times_n)
{
    contrl_goal_env env = make_env("bitflip-4");
    /* The ends and the middle. */
    ck_assert_int_eq(bit_flipped_by(&env, -1.0f), 0);
    ck_assert_int_eq(bit_flipped_by(&env, 1.0f), 3);
    ck_assert_int_eq(bit_flipped_by(&env, 0.0f), 2);
    /* Each bin edge -1 + 2i/4 starts bin i; the float just below is bin i-1. */
    const float edges[3] = {-0.5f, 0.0f, 0.5f};
    for (int i = 1; i <= 3; i++) {
        ck_assert_int_eq(bit_flipped_by(&env, edges[i - 1]), i);
        ck_assert_int_eq(bit_flipped_by(&env, nextafterf(edges[i - 1], -2.0f)), i - 1);
    }
    ck_assert_int_eq(bit_flipped_by(&env, nextafterf(1.0f, 0.0f)), 3);
    ck_assert_int_eq(bit_flipped_by(&env, nextafterf(-1.0f, 0.0f)), 0);
    /* Out-of-range actions are clipped first. */
    ck_assert_int_eq(bit_flipped_by(&env, -7.0f), 0);
    ck_assert_int_eq(bit_flipped_by(&env, 7.0f), 3);
    ck_assert_int_eq(bit_flipped_by(&env, INFINITY), 3);
    ck_assert_int_eq(bit_flipped_by(&env, -INFINITY), 0);
    contrl_goal_env_close(&env);

    env = make_env("bitflip-1");
    ck_assert_int_eq(bit_flipped_by(&env, -1.0f), 0);
    ck_assert_int_eq(bit_flipped_by(&env, 1.0f), 0);
    contrl_goal_env_close(&env);

    env = make_env("bitflip-64");
    ck_assert_int_eq(bit_flipped_by(&env, -1.0f), 0);
    ck_assert_int_eq(bit_flipped_by(&env, 1.0f), 63);
    ck_assert_int_eq(bit_flipped_by(&env, 0.0f), 32);
    ck_assert_int_eq(bit_flipped_by(&env, nextafterf(0.0f, -1.0f)), 31);
    contrl_goal_env_close(&env);

    /* Edges a float cannot hold (n = 3, 5, 7): the floats on either side of
     * each edge -1 + 2k/n land in the bin the real-number formula gives,
     * i.e. the number of edges at or below a: n a >= 2k - n, exact in
     * double since n a is. */
    static const char *const odd[] = {"bitflip-3", "bitflip-5", "bitflip-7"};
    for (int m = 0; m < 3; m++) {
        env = make_env(odd[m]);
        const int n = (int)env.goal_dim;
        for (int k = 1; k < n; k++) {
            float a = (float)(-1.0 + 2.0 * k / n);
            for (int s = 0; s < 3; s++)
                a = nextafterf(a, -2.0f);
            for (int s = 0; s < 7; s++, a = nextafterf(a, 2.0f)) {
                int want = 0;
                for (int e = 1; e < n; e++)
                    want += (double)n * a >= 2.0 * e - n;
                ck_assert_msg(bit_flipped_by(&env, a) == want, "%s: a = %.9g flips %d, want %d",
                              odd[m], (double)a, bit_flipped_by(&env, a), want);
            }
        }
        contrl_goal_env_close(&env);
    }
}
END_TEST

START_TEST(bitflip_flips_one_bit_per_step_and_reports_success_only_on_the_goal)
{
    contrl_goal_env env = make_env("bitflip-8");
    episode e;
    reset(&env, 21, &e);
    for (uint32_t i = 0; i < 8; i++) {
        ck_assert(e.obs[i] == 0.0f || e.obs[i] == 1.0f);
        ck_assert(e.g[i] == 0.0f || e.g[i] == 1.0f);
        ck_assert_float_eq(e.ag[i], e.obs[i]);
    }
    ck_assert_float_eq(reward_of(&env, e.ag, e.g), -1.0f);
    /* Flip one bit that already matches: still -1; flip it back, then fix
     * the differing bits one by one: -1 until the last, then 0. */
    int same = -1, differing[8], n_diff = 0;
    for (int i = 0; i < 8; i++) {
        if (e.obs[i] == e.g[i])
            same = i;
        else
            differing[n_diff++] = i;
    }
    ck_assert_int_gt(n_diff, 0);
    int plan[10], steps = 0;
    if (same >= 0 && n_diff <= 6) {
        plan[steps++] = same;
        plan[steps++] = same;
    }
    for (int k = 0; k < n_diff; k++)
        plan[steps++] = differing[k];
    for (int s = 0; s < steps; s++) {
        float before[8];
        memcpy(before, e.obs, sizeof before);
        float a = -1.0f + (2.0f * (float)plan[s] + 1.0f) / 8.0f; /* centre of bin plan[s] */
        ck_assert_int_eq(step(&env, &a, &e), CONTRL_OK);
        ck_assert_int_eq(flipped_bit(before, e.obs, 8), plan[s]);
        ck_assert_mem_eq(e.ag, e.obs, sizeof before);
        ck_assert_float_eq(e.reward, s == steps - 1 ? 0.0f : -1.0f);
        ck_assert_float_eq(e.reward, reward_of(&env, e.ag, e.g));
        ck_assert_int_eq(e.terminated, s == steps - 1); /* the goal ends the episode */
    }
    contrl_goal_env_close(&env);
}
END_TEST

START_TEST(bitflip_compute_reward_compares_elementwise_with_tolerance_one_half)
{
    contrl_goal_env env = make_env("bitflip-3");
    const float achieved[6][3] = {
        {1, 0, 1}, {1, 0, 0}, {0.6f, 0.4f, 1}, {1, 0.6f, 1}, {1, 0, NAN}, {0, 1, 0},
    };
    const float desired[6][3] = {
        {1, 0, 1}, {1, 0, 1}, {1, 0, 1}, {1, 0, 1}, {1, 0, 1}, {1, 0, 1},
    };
    const float want[6] = {0, -1, 0, -1, -1, -1};
    float got[6];
    env.compute_reward(env.user, &achieved[0][0], &desired[0][0], 6, got);
    for (int r = 0; r < 6; r++)
        ck_assert_msg(got[r] == want[r], "row %d: reward %g, want %g", r, (double)got[r],
                      (double)want[r]);
    contrl_goal_env_close(&env);
}
END_TEST

START_TEST(bitflip_terminates_on_the_goal_and_truncates_at_n_steps)
{
    contrl_goal_env env = make_env("bitflip-5");
    episode e;
    const float a = -1.0f;
    ck_assert_int_eq(step(&env, &a, &e), CONTRL_ERR_STATE);
    assert_error_mentions("bitflip-5", "reset");
    for (int episode_no = 0; episode_no < 2; episode_no++) {
        reset(&env, 77 + (uint64_t)episode_no, &e);
        for (int t = 1; t <= 5; t++) {
            ck_assert_int_eq(step(&env, &a, &e), CONTRL_OK);
            /* terminated exactly when the goal is reached; else truncated at 5 */
            ck_assert_int_eq(e.terminated, e.reward == 0.0f);
            ck_assert_msg(e.truncated == (t == 5 && !e.terminated), "step %d: truncated = %d", t,
                          e.truncated);
            if (e.terminated)
                break;
        }
        ck_assert_int_eq(step(&env, &a, &e), CONTRL_ERR_STATE);
    }
    const float nan_action = NAN;
    reset(&env, 1, &e);
    float before[5];
    memcpy(before, e.obs, sizeof before);
    ck_assert_int_eq(step(&env, &nan_action, &e), CONTRL_ERR_INVALID_ARG);
    assert_error_mentions("bitflip-5", "NaN");
    /* The refused step did not count: five more steps fit. */
    for (int t = 1; t <= 5; t++) {
        ck_assert_int_eq(step(&env, &a, &e), CONTRL_OK);
        ck_assert(e.truncated == (t == 5));
    }
    ck_assert_float_eq(e.obs[0], 1.0f - before[0]); /* bit 0 flipped 5 times */
    contrl_goal_env_close(&env);
}
END_TEST

START_TEST(bitflip_reset_is_deterministic_uniform_and_never_starts_solved)
{
    contrl_goal_env env = make_env("bitflip-8"), other = make_env("bitflip-8");
    episode a, b;
    reset(&env, 5, &a);
    reset(&other, 5, &b);
    assert_same_start(&a, &b, 8);
    reset(&other, 6, &b);
    ck_assert(memcmp(a.obs, b.obs, 8 * sizeof(float)) != 0 ||
              memcmp(a.g, b.g, 8 * sizeof(float)) != 0);

    /* Each bit of start and goal is 1 half the time: over 4000 resets the
     * share has standard deviation 0.008, so +-0.04 is 5 sigma. */
    double ones[2][8] = {{0}};
    for (uint64_t seed = 0; seed < 4000; seed++) {
        reset(&env, seed, &a);
        ck_assert(memcmp(a.obs, a.g, 8 * sizeof(float)) != 0);
        for (int i = 0; i < 8; i++) {
            ones[0][i] += a.obs[i] / 4000.0;
            ones[1][i] += a.g[i] / 4000.0;
        }
    }
    for (int w = 0; w < 2; w++)
        for (int i = 0; i < 8; i++)
            ck_assert_msg(fabs(ones[w][i] - 0.5) < 0.04, "%s bit %d: share %.3f",
                          w ? "goal" : "start", i, ones[w][i]);
    contrl_goal_env_close(&env);
    contrl_goal_env_close(&other);

    /* N = 1: the goal is always the other bit. */
    env = make_env("bitflip-1");
    int start_ones = 0;
    for (uint64_t seed = 0; seed < 200; seed++) {
        reset(&env, seed, &a);
        ck_assert_float_eq(a.g[0], 1.0f - a.obs[0]);
        start_ones += a.obs[0] == 1.0f;
    }
    ck_assert(start_ones > 50 && start_ones < 150);
    contrl_goal_env_close(&env);
}
END_TEST

START_TEST(bitflip_greedy_policy_solves_every_episode_within_n_steps)
{
    /* Flip the lowest differing bit each step: at most N steps, success
     * exactly when no bit differs, and the reported reward always equals
     * compute_reward of what the step handed out. */
    static const char *const names[] = {"bitflip-1", "bitflip-2", "bitflip-7", "bitflip-16",
                                        "bitflip-64"};
    for (size_t k = 0; k < 5; k++) {
        contrl_goal_env env = make_env(names[k]);
        const uint32_t n = env.goal_dim;
        for (uint64_t seed = 0; seed < 40; seed++) {
            episode e;
            reset(&env, seed, &e);
            uint32_t solved_at = 0, differing = 0;
            for (uint32_t i = 0; i < n; i++)
                differing += e.obs[i] != e.g[i];
            for (uint32_t t = 1; t <= n && solved_at == 0; t++) {
                uint32_t bit = 0;
                while (e.obs[bit] == e.g[bit])
                    bit++;
                float a = -1.0f + (2.0f * (float)bit + 1.0f) / (float)n;
                ck_assert_int_eq(step(&env, &a, &e), CONTRL_OK);
                ck_assert_float_eq(e.reward, reward_of(&env, e.ag, e.g));
                if (e.reward == 0.0f)
                    solved_at = t;
            }
            ck_assert_msg(solved_at == differing, "%s seed %llu: solved at %u, %u bits differed",
                          names[k], (unsigned long long)seed, solved_at, differing);
            ck_assert_mem_eq(e.obs, e.g, n * sizeof(float));
        }
        contrl_goal_env_close(&env);
    }
}
END_TEST

/* ---- make / check / close ------------------------------------------------- */

START_TEST(goal_env_make_rejects_unknown_names_and_sizes_out_of_range)
{
    static const struct {
        const char *name, *mention;
    } bad[] = {
        {"pointreach-0", "1..10"},  {"pointreach-11", "1..10"}, {"bitflip-0", "1..64"},
        {"bitflip-65", "1..64"},    {"pointreach-2x", "pointreach-N"},
        {"nope", "bitflip-N"},      {"pointreach-", "pointreach-N"},
        {"pointreach-02", "pointreach-N"}, {"pointreach-+2", "pointreach-N"},
        {"pointreach--2", "pointreach-N"}, {"bitflip-99999999999", "bitflip-N"},
        {"pointreach", "pointreach-N"},    {"Bitflip-3", "bitflip-N"},
        {"bitflip-3 ", "bitflip-N"},       {"", "pointreach-N"},
    };
    contrl_goal_env zero;
    memset(&zero, 0, sizeof zero);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        contrl_goal_env env;
        memset(&env, 0xcd, sizeof env);
        ck_assert_msg(contrl_goal_env_make(bad[i].name, NULL, &env) == CONTRL_ERR_INVALID_ARG,
                      "\"%s\" was accepted", bad[i].name);
        assert_error_mentions("contrl_goal_env_make", bad[i].mention);
        ck_assert(memcmp(&env, &zero, sizeof env) == 0);
        contrl_goal_env_close(&env);
    }
    contrl_goal_env env;
    ck_assert_int_eq(contrl_goal_env_make(NULL, NULL, &env), CONTRL_ERR_INVALID_ARG);
    assert_error_mentions("contrl_goal_env_make", "name");
    ck_assert_int_eq(contrl_goal_env_make("bitflip-3", NULL, NULL), CONTRL_ERR_INVALID_ARG);
    assert_error_mentions("contrl_goal_env_make", "env is NULL");
    alloc_counter c = {0};
    contrl_allocator half = {alloc_counter_alloc_checked, NULL, &c};
    ck_assert_int_eq(contrl_goal_env_make("bitflip-3", &half, &env), CONTRL_ERR_INVALID_ARG);
    assert_error_mentions("contrl_goal_env_make", "allocator");
    ck_assert_int_eq(c.allocs, 0);
    /* Both ends of both ranges are accepted. */
    static const char *const good[] = {"pointreach-1", "pointreach-10", "bitflip-1",
                                       "bitflip-64"};
    for (int i = 0; i < 4; i++) {
        env = make_env(good[i]);
        contrl_goal_env_close(&env);
    }
}
END_TEST

/* A user-made goal env whose callbacks count their calls. */
typedef struct toy {
    int destroys;
} toy;

static contrl_status toy_reset(void *user, uint64_t seed, float *obs, float *ag, float *g)
{
    (void)user;
    (void)seed;
    obs[0] = ag[0] = g[0] = 0.0f;
    return CONTRL_OK;
}

static contrl_status toy_step(void *user, const float *action, float *next_obs, float *ag,
                              float *reward, bool *terminated, bool *truncated)
{
    (void)user;
    next_obs[0] = ag[0] = action[0];
    *reward = 0.0f;
    *terminated = *truncated = false;
    return CONTRL_OK;
}

static void toy_reward(void *user, const float *achieved, const float *desired, uint32_t n,
                       float *reward)
{
    (void)user;
    for (uint32_t i = 0; i < n; i++)
        reward[i] = achieved[i] == desired[i] ? 0.0f : -1.0f;
}

static void toy_destroy(void *user)
{
    ((toy *)user)->destroys++;
}

static const float toy_low[2] = {-1.0f, 0.0f}, toy_high[2] = {1.0f, 3.0f};

static contrl_goal_env toy_env(toy *t)
{
    memset(t, 0, sizeof *t);
    contrl_goal_env env;
    memset(&env, 0, sizeof env);
    env.size = sizeof env;
    env.name = "toy";
    env.obs_dim = 1;
    env.goal_dim = 1;
    env.action_dim = 2;
    env.action_low = toy_low;
    env.action_high = toy_high;
    env.max_episode_steps = 10;
    env.user = t;
    env.reset = toy_reset;
    env.step = toy_step;
    env.compute_reward = toy_reward;
    env.destroy = toy_destroy;
    return env;
}

START_TEST(goal_env_check_names_each_broken_field)
{
    toy t;
    const contrl_goal_env good = toy_env(&t);
    ck_assert_int_eq(contrl_goal_env_check(&good), CONTRL_OK);
    ck_assert_int_eq(contrl_goal_env_check(NULL), CONTRL_ERR_INVALID_ARG);
    assert_error_mentions("contrl_goal_env_check", "env is NULL");

    enum { N_CASES = 11 };
    struct {
        contrl_goal_env env;
        const char *field;
    } cases[N_CASES];
    for (int i = 0; i < N_CASES; i++)
        cases[i].env = good;
    cases[0].env.size = offsetof(contrl_goal_env, destroy); /* ends before destroy */
    cases[0].field = "size";
    cases[1].env.size = 0;
    cases[1].field = "size";
    cases[2].env.obs_dim = 0;
    cases[2].field = "obs_dim";
    cases[3].env.goal_dim = 0;
    cases[3].field = "goal_dim";
    cases[4].env.action_dim = 0;
    cases[4].field = "action_dim";
    cases[5].env.action_low = NULL;
    cases[5].field = "action_low";
    cases[6].env.action_high = NULL;
    cases[6].field = "action_high";
    cases[7].env.max_episode_steps = 0;
    cases[7].field = "max_episode_steps";
    cases[8].env.reset = NULL;
    cases[8].field = "reset";
    cases[9].env.step = NULL;
    cases[9].field = "step";
    cases[10].env.compute_reward = NULL;
    cases[10].field = "compute_reward";
    for (int i = 0; i < N_CASES; i++) {
        ck_assert_msg(contrl_goal_env_check(&cases[i].env) == CONTRL_ERR_INVALID_ARG,
                      "broken %s accepted", cases[i].field);
        assert_error_mentions("contrl_goal_env_check", cases[i].field);
    }

    /* Bound values: the message names index and value. */
    const float nan_low[2] = {NAN, 0.0f}, inf_high[2] = {1.0f, INFINITY};
    const float equal_high[2] = {1.0f, 0.0f}, inverted_high[2] = {-2.0f, 3.0f};
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
        contrl_goal_env bad = good;
        bad.action_low = bounds[i].low;
        bad.action_high = bounds[i].high;
        ck_assert_int_eq(contrl_goal_env_check(&bad), CONTRL_ERR_INVALID_ARG);
        assert_error_mentions(bounds[i].a, bounds[i].b);
    }

    /* The first layout's size is enough; name and destroy are optional; a
     * larger size (a newer header) is accepted. */
    contrl_goal_env minimal = good;
    minimal.size = offsetof(contrl_goal_env, destroy) + sizeof minimal.destroy;
    minimal.name = NULL;
    minimal.destroy = NULL;
    ck_assert_int_eq(contrl_goal_env_check(&minimal), CONTRL_OK);
    minimal.size = sizeof minimal + 64;
    ck_assert_int_eq(contrl_goal_env_check(&minimal), CONTRL_OK);
    /* Unnamed envs are called so in messages. */
    minimal.goal_dim = 0;
    ck_assert_int_eq(contrl_goal_env_check(&minimal), CONTRL_ERR_INVALID_ARG);
    assert_error_mentions("(unnamed)", "goal_dim");
    ck_assert_int_eq(t.destroys, 0);
}
END_TEST

START_TEST(goal_env_close_calls_destroy_once_and_zeroes_the_struct)
{
    contrl_goal_env_close(NULL); /* fine */
    toy t;
    contrl_goal_env env = toy_env(&t), zero;
    memset(&zero, 0, sizeof zero);
    contrl_goal_env_close(&env);
    ck_assert_int_eq(t.destroys, 1);
    ck_assert(memcmp(&env, &zero, sizeof env) == 0);
    contrl_goal_env_close(&env); /* a zeroed struct: nothing called */
    ck_assert_int_eq(t.destroys, 1);

    env = toy_env(&t);
    env.destroy = NULL;
    contrl_goal_env_close(&env);
    ck_assert_int_eq(t.destroys, 0);
    ck_assert(memcmp(&env, &zero, sizeof env) == 0);

    static const char *const names[] = {"pointreach-2", "bitflip-9"};
    for (int i = 0; i < 2; i++) {
        env = make_env(names[i]);
        contrl_goal_env_close(&env);
        ck_assert(memcmp(&env, &zero, sizeof env) == 0);
    }
}
END_TEST

START_TEST(goal_env_make_allocates_one_block_through_the_allocator_and_frees_it)
{
    static const char *const names[] = {"pointreach-1", "pointreach-10", "bitflip-1",
                                        "bitflip-64"};
    for (int k = 0; k < 4; k++) {
        alloc_counter c = {0};
        contrl_allocator a = {alloc_counter_alloc_checked, alloc_counter_free_checked, &c};
        contrl_goal_env env;
        ck_assert_int_eq(contrl_goal_env_make(names[k], &a, &env), CONTRL_OK);
        ck_assert_int_eq(c.allocs, 1);
        ck_assert_uint_gt(c.bytes, 0);
        /* Bounds and name live in the env's own block. */
        const char *user = env.user;
        const char *lo = (const char *)env.action_low, *hi = (const char *)env.action_high;
        ck_assert(lo > user && lo + env.action_dim * sizeof(float) <= user + c.bytes);
        ck_assert(hi > user && hi + env.action_dim * sizeof(float) <= user + c.bytes);
        ck_assert(env.name > user && env.name < user + c.bytes);

        /* Whole episodes: no allocation, no free. */
        episode e;
        float act[10] = {0.5f, -0.5f, 0.5f, -0.5f, 0.5f, -0.5f, 0.5f, -0.5f, 0.5f, -0.5f};
        float rewards[4];
        for (uint64_t s = 0; s < 3; s++) {
            reset(&env, s, &e);
            do
                ck_assert_int_eq(step(&env, act, &e), CONTRL_OK);
            while (!e.terminated && !e.truncated);
            float many_a[4 * MAX_DIM] = {0}, many_d[4 * MAX_DIM] = {0};
            env.compute_reward(env.user, many_a, many_d, 4, rewards);
        }
        ck_assert_int_eq(c.allocs, 1);
        ck_assert_int_eq(c.frees, 0);

        contrl_goal_env_close(&env);
        ck_assert_int_eq(c.frees, 1);
        ck_assert_uint_eq(c.freed_bytes, c.bytes);

        /* An allocator that fails: NOMEM, struct zeroed, nothing to free. */
        c.fail = 1;
        memset(&env, 0xcd, sizeof env);
        ck_assert_int_eq(contrl_goal_env_make(names[k], &a, &env), CONTRL_ERR_NOMEM);
        assert_error_mentions("contrl_goal_env_make", names[k]);
        ck_assert_ptr_null(env.user);
        ck_assert(env.step == NULL);
        contrl_goal_env_close(&env);
        ck_assert_int_eq(c.frees, 1);
    }
}
END_TEST

START_TEST(goal_envs_are_independent_instances)
{
    /* Two instances of the same task do not share state: stepping one
     * leaves the other's episode where it was. */
    contrl_goal_env a = make_env("bitflip-6"), b = make_env("bitflip-6");
    episode ea, eb, eb2;
    reset(&a, 1, &ea);
    reset(&b, 1, &eb);
    const float act = 0.9f;
    for (int t = 0; t < 6; t++)
        ck_assert_int_eq(step(&a, &act, &ea), CONTRL_OK);
    ck_assert_int_eq(step(&a, &act, &ea), CONTRL_ERR_STATE);
    ck_assert_int_eq(step(&b, &act, &eb2), CONTRL_OK); /* b is at step 1 of 6 */
    ck_assert(!eb2.truncated);
    contrl_goal_env_close(&a);
    contrl_goal_env_close(&b);
}
END_TEST

static Suite *goal_env_suite(void)
{
    Suite *s = suite_create("goal-env");
    TCase *tc = tcase_create("goal-env");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, builtin_goal_envs_report_their_shape_and_bounds);
    tcase_add_test(tc, pointreach_reset_draws_position_then_goal_uniform_from_the_seed);
    tcase_add_test(tc,
                   pointreach_step_moves_by_a_tenth_of_the_clipped_action_and_stops_at_the_walls);
    tcase_add_test(tc, pointreach_reward_is_zero_within_0_05_and_minus_one_beyond);
    tcase_add_test(tc, pointreach_truncates_at_50_and_never_terminates);
    tcase_add_test(tc, pointreach_reset_same_seed_same_episode_different_seeds_differ);
    tcase_add_test(tc, pointreach_reset_never_starts_solved);
    tcase_add_test(tc, pointreach_start_and_goal_cover_the_cube_uniformly);
    tcase_add_test(tc, pointreach_greedy_policy_reaches_every_goal_within_50_steps);
    tcase_add_test(tc, bitflip_action_selects_bit_floor_of_a_plus_1_over_2_times_n);
    tcase_add_test(tc, bitflip_flips_one_bit_per_step_and_reports_success_only_on_the_goal);
    tcase_add_test(tc, bitflip_compute_reward_compares_elementwise_with_tolerance_one_half);
    tcase_add_test(tc, bitflip_terminates_on_the_goal_and_truncates_at_n_steps);
    tcase_add_test(tc, bitflip_reset_is_deterministic_uniform_and_never_starts_solved);
    tcase_add_test(tc, bitflip_greedy_policy_solves_every_episode_within_n_steps);
    tcase_add_test(tc, goal_env_make_rejects_unknown_names_and_sizes_out_of_range);
    tcase_add_test(tc, goal_env_check_names_each_broken_field);
    tcase_add_test(tc, goal_env_close_calls_destroy_once_and_zeroes_the_struct);
    tcase_add_test(tc, goal_env_make_allocates_one_block_through_the_allocator_and_frees_it);
    tcase_add_test(tc, goal_envs_are_independent_instances);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(goal_env_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
