/* tests/test_goal.c - the goal tasks "reach" and "push" of
 * contrl_mj_goal_make (docs/mujoco-goal-tasks.md), through the public API:
 * contrl/mujoco.h, contrl/contrl.h and MuJoCo's own header for reading the
 * state behind an env.
 *
 * The figures asserted are the documented definition: obs/goal/action
 * sizes, the start (fingertip at (0.45, 0, 0.6) for reach), goals uniform
 * within +-0.15 of the start, the sparse reward -[|achieved - desired| >
 * 0.05], 50-step episodes. Tolerances are stated where used. */
#include <check.h>
#include <math.h>
#include <mujoco/mujoco.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "contrl/contrl.h"
#include "contrl/mujoco.h"

enum { MAX_OBS = 64 };

static void assert_error_mentions(const char *a)
{
    const char *msg = contrl_last_error();
    ck_assert_msg(strstr(msg, a) != NULL, "last error \"%s\" should mention \"%s\"", msg, a);
}

static contrl_goal_env make(const char *name)
{
    contrl_goal_env env;
    contrl_status st = contrl_mj_goal_make(name, NULL, &env);
    ck_assert_msg(st == CONTRL_OK, "contrl_mj_goal_make(%s): %s", name, contrl_last_error());
    ck_assert_int_eq(contrl_goal_env_check(&env), CONTRL_OK);
    return env;
}

static double dist3(const float *a, const float *b)
{
    double s = 0.0;
    for (int i = 0; i < 3; i++) {
        double d = (double)a[i] - (double)b[i];
        s += d * d;
    }
    return sqrt(s);
}

/* The documented sparse reward, written out here: -1 beyond 0.05, else 0. */
static float sparse_reward(const float *achieved, const float *desired)
{
    return dist3(achieved, desired) > 0.05 ? -1.0f : 0.0f;
}

static float clampf(float x, float lo, float hi)
{
    return x < lo ? lo : x > hi ? hi : x;
}

/* One step that must succeed. */
static void step_ok(contrl_goal_env *env, const float *action, float *obs, float *ag, float *r,
                    bool *term, bool *trunc)
{
    contrl_status st = env->step(env->user, action, obs, ag, r, term, trunc);
    ck_assert_msg(st == CONTRL_OK, "step: %s", contrl_last_error());
}

/* A counting allocator: every byte handed out must come back. */
typedef struct counter {
    long allocs, frees;
    size_t bytes, freed;
} counter;

static void *count_alloc(void *user, size_t size, size_t align)
{
    counter *c = user;
    void *p = NULL;
    if (align < sizeof(void *))
        align = sizeof(void *);
    if (posix_memalign(&p, align, size) != 0)
        return NULL;
    c->allocs++;
    c->bytes += size;
    return p;
}

static void count_free(void *user, void *ptr, size_t size)
{
    counter *c = user;
    c->frees++;
    c->freed += size;
    free(ptr);
}

/* ---- both tasks ----------------------------------------------------------- */

START_TEST(goal_names_list_reach_and_push_and_unknown_names_are_refused)
{
    const char *const *names = contrl_mj_goal_names();
    ck_assert_str_eq(names[0], "reach");
    ck_assert_str_eq(names[1], "push");
    ck_assert_ptr_null(names[2]);
    contrl_goal_env env;
    memset(&env, 0xab, sizeof env);
    ck_assert_int_eq(contrl_mj_goal_make("pick", NULL, &env), CONTRL_ERR_INVALID_ARG);
    assert_error_mentions("pick");
    ck_assert_ptr_null(env.user);
    env = make("REACH"); /* case-insensitive, as contrl_mj_make */
    ck_assert_str_eq(env.name, "reach");
    contrl_goal_env_close(&env);
}
END_TEST

START_TEST(goal_envs_allocate_through_the_given_allocator_and_free_everything)
{
    static const char *const names[] = {"reach"};
    for (size_t k = 0; k < sizeof names / sizeof names[0]; k++) {
        counter c = {0};
        contrl_allocator al = {.alloc = count_alloc, .free = count_free, .user = &c};
        contrl_goal_env env;
        ck_assert_int_eq(contrl_mj_goal_make(names[k], &al, &env), CONTRL_OK);
        ck_assert_int_eq(c.allocs, 1);
        ck_assert_ptr_nonnull(contrl_mj_goal_env_model(&env));
        ck_assert_ptr_nonnull(contrl_mj_goal_env_data(&env));
        contrl_goal_env_close(&env);
        ck_assert_int_eq(c.frees, 1);
        ck_assert_uint_eq(c.freed, c.bytes);
    }
    /* not ours: the accessors say so */
    contrl_goal_env other;
    ck_assert_int_eq(contrl_goal_env_make("pointreach-3", NULL, &other), CONTRL_OK);
    ck_assert_ptr_null(contrl_mj_goal_env_model(&other));
    ck_assert_ptr_null(contrl_mj_goal_env_data(&other));
    contrl_goal_env_close(&other);
}
END_TEST

/* ---- reach ------------------------------------------------------------------ */

static const double REACH_START[3] = {0.45, 0.0, 0.6};

START_TEST(reach_has_12_obs_3_goal_3_unit_actions_and_50_step_episodes)
{
    contrl_goal_env env = make("reach");
    ck_assert_uint_eq(env.obs_dim, 12);
    ck_assert_uint_eq(env.goal_dim, 3);
    ck_assert_uint_eq(env.action_dim, 3);
    ck_assert_uint_eq(env.max_episode_steps, 50);
    for (int i = 0; i < 3; i++) {
        ck_assert_float_eq(env.action_low[i], -1.0f);
        ck_assert_float_eq(env.action_high[i], 1.0f);
    }
    /* yaw, shoulder and elbow hinges; a mocap body and no actuators */
    const mjModel *m = contrl_mj_goal_env_model(&env);
    ck_assert_int_eq(m->nq, 3);
    ck_assert_int_eq(m->nv, 3);
    ck_assert_int_eq(m->nu, 0);
    ck_assert_int_eq(m->nmocap, 1);
    ck_assert_double_eq_tol(m->opt.timestep, 0.002, 1e-15);
    for (int j = 0; j < m->njnt; j++) {
        ck_assert_int_eq(m->jnt_type[j], mjJNT_HINGE);
        ck_assert_int_eq(m->jnt_limited[j], 1);
    }
    contrl_goal_env_close(&env);
}
END_TEST

START_TEST(reach_starts_still_at_its_documented_fingertip_position)
{
    contrl_goal_env env = make("reach");
    float obs[MAX_OBS], ag[3], dg[3];
    ck_assert_int_eq(env.reset(env.user, 7, obs, ag, dg), CONTRL_OK);
    for (int i = 0; i < 3; i++) {
        ck_assert_double_eq_tol(ag[i], REACH_START[i], 1e-6);
        ck_assert_float_eq(obs[i], ag[i]);
        ck_assert_float_eq(obs[3 + i], 0.0f); /* fingertip velocity */
        ck_assert_float_eq(obs[9 + i], 0.0f); /* joint velocities */
    }
    /* the observed joint angles are the model's */
    mjData *d = contrl_mj_goal_env_data(&env);
    for (int j = 0; j < 3; j++)
        ck_assert_float_eq(obs[6 + j], (float)d->qpos[j]);
    contrl_goal_env_close(&env);
}
END_TEST

START_TEST(reach_reset_with_a_seed_is_reproducible_and_seeds_differ)
{
    contrl_goal_env env = make("reach");
    float o1[MAX_OBS], a1[3], g1[3], o2[MAX_OBS], a2[3], g2[3];
    ck_assert_int_eq(env.reset(env.user, 42, o1, a1, g1), CONTRL_OK);
    /* wander off, then reset with the same seed: the same start and goal */
    float act[3] = {0.7f, -0.4f, 0.9f}, r;
    bool term, trunc;
    for (int t = 0; t < 5; t++)
        step_ok(&env, act, o2, a2, &r, &term, &trunc);
    ck_assert_int_eq(env.reset(env.user, 42, o2, a2, g2), CONTRL_OK);
    ck_assert_mem_eq(o1, o2, 12 * sizeof(float));
    ck_assert_mem_eq(a1, a2, sizeof a1);
    ck_assert_mem_eq(g1, g2, sizeof g1);
    /* and the same trajectory */
    float t1[MAX_OBS], t2[MAX_OBS];
    step_ok(&env, act, t1, a1, &r, &term, &trunc);
    ck_assert_int_eq(env.reset(env.user, 42, o2, a2, g2), CONTRL_OK);
    step_ok(&env, act, t2, a2, &r, &term, &trunc);
    ck_assert_mem_eq(t1, t2, 12 * sizeof(float));
    ck_assert_int_eq(env.reset(env.user, 43, o2, a2, g2), CONTRL_OK);
    ck_assert_msg(memcmp(g1, g2, sizeof g1) != 0, "seeds 42 and 43 drew the same goal");
    contrl_goal_env_close(&env);
}
END_TEST

START_TEST(reach_goals_are_uniform_within_015_of_the_start)
{
    contrl_goal_env env = make("reach");
    float obs[MAX_OBS], ag[3], dg[3];
    double lo[3] = {1e9, 1e9, 1e9}, hi[3] = {-1e9, -1e9, -1e9}, mean[3] = {0};
    const int n = 2000;
    for (int k = 0; k < n; k++) {
        ck_assert_int_eq(env.reset(env.user, (uint64_t)k, obs, ag, dg), CONTRL_OK);
        for (int i = 0; i < 3; i++) {
            double off = (double)dg[i] - REACH_START[i];
            ck_assert_msg(fabs(off) <= 0.15 + 1e-6, "seed %d: goal[%d] off by %g", k, i, off);
            lo[i] = fmin(lo[i], off);
            hi[i] = fmax(hi[i], off);
            mean[i] += off / n;
        }
    }
    /* 2000 uniform draws: the extremes come within 0.003 of the ends (a miss
     * has probability 0.99^2000 ~ 2e-9) and the mean within 4 sigma
     * (sigma = 0.3 / sqrt(12 * 2000) ~ 0.002). */
    for (int i = 0; i < 3; i++) {
        ck_assert_double_lt(lo[i], -0.147);
        ck_assert_double_gt(hi[i], 0.147);
        ck_assert_double_lt(fabs(mean[i]), 0.008);
    }
    contrl_goal_env_close(&env);
}
END_TEST

START_TEST(reach_reward_is_minus_one_beyond_005_and_compute_reward_agrees_with_steps)
{
    contrl_goal_env env = make("reach");
    enum { T = 50 };
    float obs[MAX_OBS], ag[T + 1][3], dg[3], rewards[T], again[T], dgs[T][3];
    ck_assert_int_eq(env.reset(env.user, 3, obs, ag[0], dg), CONTRL_OK);
    mjData *d = contrl_mj_goal_env_data(&env);
    const mjModel *m = contrl_mj_goal_env_model(&env);
    const int ee = mj_name2id(m, mjOBJ_SITE, "ee");
    ck_assert_int_ge(ee, 0);
    int hits = 0;
    contrl_rng rng;
    contrl_rng_seed(&rng, 9);
    for (int t = 0; t < T; t++) {
        /* away from the goal for 10 steps, then back to it, with noise, so
         * that both rewards occur */
        float a[3];
        for (int i = 0; i < 3; i++)
            a[i] = (t < 10 ? -1.0f : 1.0f) * clampf((dg[i] - ag[t][i]) / 0.05f, -1.0f, 1.0f) +
                   0.3f * (2.0f * contrl_rng_uniform(&rng) - 1.0f);
        bool term, trunc;
        step_ok(&env, a, obs, ag[t + 1], &rewards[t], &term, &trunc);
        ck_assert(!term);
        /* achieved goal = fingertip now = obs[0..3] */
        for (int i = 0; i < 3; i++) {
            ck_assert_float_eq(ag[t + 1][i], obs[i]);
            ck_assert_float_eq(ag[t + 1][i], (float)d->site_xpos[3 * ee + i]);
        }
        ck_assert_float_eq(rewards[t], sparse_reward(ag[t + 1], dg));
        hits += rewards[t] == 0.0f;
        memcpy(dgs[t], dg, sizeof dg);
    }
    ck_assert_int_gt(hits, 5);
    ck_assert_int_lt(hits, T);
    env.compute_reward(env.user, &ag[1][0], &dgs[0][0], T, again);
    ck_assert_mem_eq(again, rewards, sizeof rewards);

    /* at the threshold, by hand: 0.049 in, 0.051 out, along each axis */
    for (int i = 0; i < 3; i++) {
        float a[2][3] = {{0.5f, 0.1f, 0.6f}, {0.5f, 0.1f, 0.6f}};
        float g[2][3] = {{0.5f, 0.1f, 0.6f}, {0.5f, 0.1f, 0.6f}};
        g[0][i] += 0.049f;
        g[1][i] -= 0.051f;
        float r[2];
        env.compute_reward(env.user, &a[0][0], &g[0][0], 2, r);
        ck_assert_float_eq(r[0], 0.0f);
        ck_assert_float_eq(r[1], -1.0f);
    }
    contrl_goal_env_close(&env);
}
END_TEST

START_TEST(reach_truncates_at_exactly_50_steps_and_refuses_steps_outside_an_episode)
{
    contrl_goal_env env = make("reach");
    float obs[MAX_OBS], ag[3], dg[3], r;
    bool term, trunc;
    const float a[3] = {0.0f, 0.0f, 0.0f};
    ck_assert_int_eq(env.step(env.user, a, obs, ag, &r, &term, &trunc), CONTRL_ERR_STATE);
    assert_error_mentions("reset");
    for (int ep = 0; ep < 2; ep++) {
        ck_assert_int_eq(env.reset(env.user, 5 + (uint64_t)ep, obs, ag, dg), CONTRL_OK);
        for (int t = 1; t <= 50; t++) {
            step_ok(&env, a, obs, ag, &r, &term, &trunc);
            ck_assert(!term);
            ck_assert_msg(trunc == (t == 50), "step %d: truncated = %d", t, trunc);
        }
        ck_assert_int_eq(env.step(env.user, a, obs, ag, &r, &term, &trunc), CONTRL_ERR_STATE);
    }
    const float nan_action[3] = {0.0f, NAN, 0.0f};
    ck_assert_int_eq(env.reset(env.user, 1, obs, ag, dg), CONTRL_OK);
    ck_assert_int_eq(env.step(env.user, nan_action, obs, ag, &r, &term, &trunc),
                     CONTRL_ERR_INVALID_ARG);
    contrl_goal_env_close(&env);
}
END_TEST

/* The controller: a unit action along an axis moves the fingertip about
 * 0.05 m per step along it (measured 0.045: the constraint closes ~91% of
 * the gap in one 0.04 s step); three steps each way from the start stay
 * inside the joint limits and the arm's reach. */
START_TEST(reach_unit_action_moves_the_fingertip_about_005_per_step_along_each_axis)
{
    contrl_goal_env env = make("reach");
    float obs[MAX_OBS], ag[3], dg[3], start[3], r;
    bool term, trunc;
    for (int axis = 0; axis < 3; axis++)
        for (int sign = -1; sign <= 1; sign += 2) {
            ck_assert_int_eq(env.reset(env.user, 1, obs, start, dg), CONTRL_OK);
            float a[3] = {0.0f, 0.0f, 0.0f};
            a[axis] = (float)sign;
            for (int t = 0; t < 3; t++)
                step_ok(&env, a, obs, ag, &r, &term, &trunc);
            for (int i = 0; i < 3; i++) {
                double moved = (double)ag[i] - (double)start[i];
                if (i == axis)
                    ck_assert_msg(sign * moved > 0.8 * 0.15 && sign * moved < 1.05 * 0.15,
                                  "axis %d sign %d: moved %g, commanded %g", axis, sign, moved,
                                  sign * 0.15);
                else
                    ck_assert_msg(fabs(moved) < 0.005, "axis %d sign %d: drift %g on axis %d",
                                  axis, sign, moved, i);
            }
            /* a half action moves about half as far */
            a[axis] = 0.5f * (float)sign;
            float before[3];
            memcpy(before, ag, sizeof ag);
            step_ok(&env, (const float[3]){0, 0, 0}, obs, ag, &r, &term, &trunc); /* settle */
            memcpy(before, ag, sizeof ag);
            step_ok(&env, a, obs, ag, &r, &term, &trunc);
            double half = sign * ((double)ag[axis] - (double)before[axis]);
            ck_assert_msg(half > 0.8 * 0.025 && half < 1.05 * 0.025, "half action moved %g", half);
        }
    /* actions beyond the bounds are clipped to them */
    float o1[MAX_OBS], o2[MAX_OBS];
    ck_assert_int_eq(env.reset(env.user, 1, obs, ag, dg), CONTRL_OK);
    step_ok(&env, (const float[3]){1.0f, -1.0f, 1.0f}, o1, ag, &r, &term, &trunc);
    ck_assert_int_eq(env.reset(env.user, 1, obs, ag, dg), CONTRL_OK);
    step_ok(&env, (const float[3]){7.0f, -3.0f, 2.0f}, o2, ag, &r, &term, &trunc);
    ck_assert_mem_eq(o1, o2, 12 * sizeof(float));
    contrl_goal_env_close(&env);
}
END_TEST

/* Gravity is compensated on the arm: a zero action holds the fingertip
 * (measured drift: 0 to the printed digits; 3 mm without compensation). */
START_TEST(reach_zero_action_holds_the_fingertip_within_half_a_mm_for_an_episode)
{
    contrl_goal_env env = make("reach");
    float obs[MAX_OBS], ag[3], dg[3], start[3], r;
    bool term, trunc = false;
    ck_assert_int_eq(env.reset(env.user, 2, obs, start, dg), CONTRL_OK);
    while (!trunc)
        step_ok(&env, (const float[3]){0, 0, 0}, obs, ag, &r, &term, &trunc);
    ck_assert_double_lt(dist3(ag, start), 0.0005);
    contrl_goal_env_close(&env);
}
END_TEST

/* A proportional policy, a = clip((goal - fingertip) / 0.05), reaches every
 * goal of the box: the box lies inside the arm's workspace. */
START_TEST(reach_every_sampled_goal_is_reached_by_a_proportional_policy)
{
    contrl_goal_env env = make("reach");
    float obs[MAX_OBS], ag[3], dg[3], r = -1.0f;
    int success = 0;
    const int episodes = 40;
    for (int ep = 0; ep < episodes; ep++) {
        ck_assert_int_eq(env.reset(env.user, 100 + (uint64_t)ep, obs, ag, dg), CONTRL_OK);
        bool term = false, trunc = false;
        while (!trunc) {
            float a[3];
            for (int i = 0; i < 3; i++)
                a[i] = clampf((dg[i] - ag[i]) / 0.05f, -1.0f, 1.0f);
            step_ok(&env, a, obs, ag, &r, &term, &trunc);
        }
        success += r == 0.0f && dist3(ag, dg) < 0.01;
    }
    ck_assert_int_eq(success, episodes);
    contrl_goal_env_close(&env);
}
END_TEST

/* MuJoCo flags a velocity beyond 1e10 and resets its data: the step ends the
 * episode as truncated and hands back the last good observation. */
START_TEST(reach_unstable_simulation_truncates_on_the_last_good_observation)
{
    contrl_goal_env env = make("reach");
    float obs[MAX_OBS], good[MAX_OBS], ag[3], good_ag[3], dg[3], r;
    bool term, trunc;
    ck_assert_int_eq(env.reset(env.user, 4, obs, ag, dg), CONTRL_OK);
    step_ok(&env, (const float[3]){1, 0, 0}, good, good_ag, &r, &term, &trunc);
    mjData *d = contrl_mj_goal_env_data(&env);
    d->qvel[1] = 1e12;
    step_ok(&env, (const float[3]){1, 0, 0}, obs, ag, &r, &term, &trunc);
    ck_assert(trunc);
    ck_assert(!term);
    ck_assert_mem_eq(obs, good, 12 * sizeof(float));
    ck_assert_mem_eq(ag, good_ag, sizeof ag);
    ck_assert_float_eq(r, sparse_reward(good_ag, dg));
    ck_assert_int_eq(env.step(env.user, (const float[3]){0, 0, 0}, obs, ag, &r, &term, &trunc),
                     CONTRL_ERR_STATE);
    /* a reset recovers */
    ck_assert_int_eq(env.reset(env.user, 4, obs, ag, dg), CONTRL_OK);
    step_ok(&env, (const float[3]){1, 0, 0}, obs, ag, &r, &term, &trunc);
    ck_assert_mem_eq(obs, good, 12 * sizeof(float));
    contrl_goal_env_close(&env);
}
END_TEST

static Suite *goal_suite(void)
{
    Suite *s = suite_create("mujoco-goal");
    TCase *tc = tcase_create("both");
    tcase_add_test(tc, goal_names_list_reach_and_push_and_unknown_names_are_refused);
    tcase_add_test(tc, goal_envs_allocate_through_the_given_allocator_and_free_everything);
    suite_add_tcase(s, tc);
    tc = tcase_create("reach");
    tcase_add_test(tc, reach_has_12_obs_3_goal_3_unit_actions_and_50_step_episodes);
    tcase_add_test(tc, reach_starts_still_at_its_documented_fingertip_position);
    tcase_add_test(tc, reach_reset_with_a_seed_is_reproducible_and_seeds_differ);
    tcase_add_test(tc, reach_goals_are_uniform_within_015_of_the_start);
    tcase_add_test(tc, reach_reward_is_minus_one_beyond_005_and_compute_reward_agrees_with_steps);
    tcase_add_test(tc, reach_truncates_at_exactly_50_steps_and_refuses_steps_outside_an_episode);
    tcase_add_test(tc, reach_unit_action_moves_the_fingertip_about_005_per_step_along_each_axis);
    tcase_add_test(tc, reach_zero_action_holds_the_fingertip_within_half_a_mm_for_an_episode);
    tcase_add_test(tc, reach_every_sampled_goal_is_reached_by_a_proportional_policy);
    tcase_add_test(tc, reach_unstable_simulation_truncates_on_the_last_good_observation);
    tcase_set_timeout(tc, 60);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(goal_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
