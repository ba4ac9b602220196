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
    static const char *const names[] = {"reach", "push"};
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

START_TEST(goal_tasks_truncate_at_exactly_50_steps_and_refuse_steps_outside_an_episode)
{
    static const char *const names[] = {"reach", "push"};
    for (int k = 0; k < 2; k++) {
        contrl_goal_env env = make(names[k]);
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
                ck_assert_msg(trunc == (t == 50), "%s step %d: truncated = %d", names[k], t,
                              trunc);
            }
            ck_assert_int_eq(env.step(env.user, a, obs, ag, &r, &term, &trunc),
                             CONTRL_ERR_STATE);
        }
        const float nan_action[3] = {0.0f, NAN, 0.0f};
        ck_assert_int_eq(env.reset(env.user, 1, obs, ag, dg), CONTRL_OK);
        ck_assert_int_eq(env.step(env.user, nan_action, obs, ag, &r, &term, &trunc),
                         CONTRL_ERR_INVALID_ARG);
        contrl_goal_env_close(&env);
    }
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
 * episode as truncated and hands back the last good observation, with the
 * reward of its achieved goal. */
START_TEST(goal_tasks_truncate_unstable_simulation_on_the_last_good_observation)
{
    static const char *const names[] = {"reach", "push"};
    for (int k = 0; k < 2; k++) {
        contrl_goal_env env = make(names[k]);
        const size_t obs_bytes = env.obs_dim * sizeof(float);
        float obs[MAX_OBS], good[MAX_OBS], ag[3], good_ag[3], dg[3], r;
        bool term, trunc;
        ck_assert_int_eq(env.reset(env.user, 4, obs, ag, dg), CONTRL_OK);
        step_ok(&env, (const float[3]){1, 0, 0}, good, good_ag, &r, &term, &trunc);
        mjData *d = contrl_mj_goal_env_data(&env);
        d->qvel[1] = 1e12;
        step_ok(&env, (const float[3]){1, 0, 0}, obs, ag, &r, &term, &trunc);
        ck_assert(trunc);
        ck_assert(!term);
        ck_assert_mem_eq(obs, good, obs_bytes);
        ck_assert_mem_eq(ag, good_ag, sizeof ag);
        ck_assert_float_eq(r, sparse_reward(good_ag, dg));
        ck_assert_int_eq(env.step(env.user, (const float[3]){0, 0, 0}, obs, ag, &r, &term, &trunc),
                         CONTRL_ERR_STATE);
        /* a reset recovers */
        ck_assert_int_eq(env.reset(env.user, 4, obs, ag, dg), CONTRL_OK);
        step_ok(&env, (const float[3]){1, 0, 0}, obs, ag, &r, &term, &trunc);
        ck_assert_mem_eq(obs, good, obs_bytes);
        contrl_goal_env_close(&env);
    }
}
END_TEST

/* ---- push ------------------------------------------------------------------- */

static const double PUSH_START[3] = {0.45, 0.0, 0.425}; /* fingertip; the box's centre height */

/* Fetch's mat2euler read back: its angles e satisfy R = Rx(e0) Ry(e1) Rz(e2)
 * (the inverse of its euler2mat); compare with the box's orientation. */
static void matmul3(const double *a, const double *b, double *out)
{
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++)
            out[3 * i + j] = a[3 * i] * b[j] + a[3 * i + 1] * b[3 + j] + a[3 * i + 2] * b[6 + j];
}

static void assert_euler_matches(const float *e, const mjtNum *xmat)
{
    const double a = e[0], b = e[1], c = e[2];
    const double rx[9] = {1, 0, 0, 0, cos(a), -sin(a), 0, sin(a), cos(a)};
    const double ry[9] = {cos(b), 0, sin(b), 0, 1, 0, -sin(b), 0, cos(b)};
    const double rz[9] = {cos(c), -sin(c), 0, sin(c), cos(c), 0, 0, 0, 1};
    double rxy[9], r[9];
    matmul3(rx, ry, rxy);
    matmul3(rxy, rz, r);
    for (int i = 0; i < 9; i++)
        ck_assert_msg(fabs(r[i] - xmat[i]) < 1e-5, "euler %g %g %g: entry %d %g vs %g",
                      (double)e[0], (double)e[1], (double)e[2], i, r[i], xmat[i]);
}

START_TEST(push_has_27_obs_3_goal_3_unit_actions_and_50_step_episodes)
{
    contrl_goal_env env = make("push");
    ck_assert_uint_eq(env.obs_dim, 27);
    ck_assert_uint_eq(env.goal_dim, 3);
    ck_assert_uint_eq(env.action_dim, 3);
    ck_assert_uint_eq(env.max_episode_steps, 50);
    for (int i = 0; i < 3; i++) {
        ck_assert_float_eq(env.action_low[i], -1.0f);
        ck_assert_float_eq(env.action_high[i], 1.0f);
    }
    /* the reach arm (3 hinges) and a free box of 0.1 kg and friction 1 */
    const mjModel *m = contrl_mj_goal_env_model(&env);
    ck_assert_int_eq(m->nq, 3 + 7);
    ck_assert_int_eq(m->nv, 3 + 6);
    ck_assert_int_eq(m->nu, 0);
    ck_assert_int_eq(m->nmocap, 1);
    const int box = mj_name2id(m, mjOBJ_BODY, "object");
    const int box_geom = mj_name2id(m, mjOBJ_GEOM, "object");
    ck_assert_int_ge(box, 0);
    ck_assert_int_ge(box_geom, 0);
    ck_assert_double_eq_tol(m->body_mass[box], 0.1, 1e-12);
    ck_assert_double_eq_tol(m->geom_friction[3 * box_geom], 1.0, 1e-12);
    for (int i = 0; i < 3; i++)
        ck_assert_double_eq_tol(m->geom_size[3 * box_geom + i], 0.025, 1e-12);
    contrl_goal_env_close(&env);
}
END_TEST

/* The observation layout, entry by entry, against mjData after some steps
 * that move both the arm and the box. */
START_TEST(push_observation_is_fetchpush_layout_plus_joints_read_from_the_state)
{
    contrl_goal_env env = make("push");
    const mjModel *m = contrl_mj_goal_env_model(&env);
    mjData *d = contrl_mj_goal_env_data(&env);
    const int ee = mj_name2id(m, mjOBJ_SITE, "ee"), box = mj_name2id(m, mjOBJ_SITE, "object");
    float obs[MAX_OBS], ag[3], dg[3], r;
    bool term, trunc;
    ck_assert_int_eq(env.reset(env.user, 11, obs, ag, dg), CONTRL_OK);
    const double box0[2] = {obs[3], obs[4]};
    for (int i = 0; i < 3; i++) {
        ck_assert_double_eq_tol(obs[i], PUSH_START[i], 1e-6);
        ck_assert_float_eq(obs[9 + i], 0.0f); /* upright */
    }
    for (int i = 12; i < 27; i++)
        if (i < 21 || i >= 24)
            ck_assert_float_eq(obs[i], 0.0f); /* at rest */
    /* drive the fingertip into the box: aim at it for a while */
    const double dt = 0.04;
    for (int t = 0; t < 12; t++) {
        float a[3];
        for (int i = 0; i < 3; i++)
            a[i] = clampf((obs[3 + i] - obs[i]) / 0.05f, -1.0f, 1.0f);
        step_ok(&env, a, obs, ag, &r, &term, &trunc);
    }
    mjtNum ev[6], bv[6];
    mj_objectVelocity(m, d, mjOBJ_SITE, ee, ev, 0);
    mj_objectVelocity(m, d, mjOBJ_SITE, box, bv, 0);
    const mjtNum *e = d->site_xpos + 3 * ee, *b = d->site_xpos + 3 * box;
    for (int i = 0; i < 3; i++) {
        ck_assert_float_eq(obs[i], (float)e[i]);
        ck_assert_float_eq(obs[3 + i], (float)b[i]);
        ck_assert_float_eq(ag[i], obs[3 + i]);
        ck_assert_double_eq_tol(obs[6 + i], b[i] - e[i], 1e-6);
        ck_assert_double_eq_tol(obs[12 + i], (bv[3 + i] - ev[3 + i]) * dt, 1e-6);
        ck_assert_double_eq_tol(obs[15 + i], bv[i] * dt, 1e-6);
        ck_assert_double_eq_tol(obs[18 + i], ev[3 + i] * dt, 1e-6);
        ck_assert_float_eq(obs[21 + i], (float)d->qpos[i]);
        ck_assert_double_eq_tol(obs[24 + i], d->qvel[i] * dt, 1e-6);
    }
    assert_euler_matches(obs + 9, d->site_xmat + 9 * box);
    /* the box was struck: it moved off its start, so the entries above were
     * checked on a moving box */
    ck_assert_double_gt(hypot((double)obs[3] - box0[0], (double)obs[4] - box0[1]), 0.01);
    contrl_goal_env_close(&env);
}
END_TEST

START_TEST(push_reset_with_a_seed_is_reproducible_and_seeds_differ)
{
    contrl_goal_env env = make("push");
    float o1[MAX_OBS], a1[3], g1[3], o2[MAX_OBS], a2[3], g2[3], r;
    bool term, trunc;
    const float act[3] = {-0.5f, 0.3f, 0.0f};
    ck_assert_int_eq(env.reset(env.user, 42, o1, a1, g1), CONTRL_OK);
    for (int t = 0; t < 20; t++)
        step_ok(&env, act, o2, a2, &r, &term, &trunc);
    float t1[MAX_OBS];
    memcpy(t1, o2, sizeof t1);
    ck_assert_int_eq(env.reset(env.user, 42, o2, a2, g2), CONTRL_OK);
    ck_assert_mem_eq(o1, o2, 27 * sizeof(float));
    ck_assert_mem_eq(g1, g2, sizeof g1);
    for (int t = 0; t < 20; t++)
        step_ok(&env, act, o2, a2, &r, &term, &trunc);
    ck_assert_mem_eq(t1, o2, 27 * sizeof(float));
    ck_assert_int_eq(env.reset(env.user, 43, o2, a2, g2), CONTRL_OK);
    ck_assert_msg(memcmp(g1, g2, sizeof g1) != 0, "seeds 42 and 43 drew the same goal");
    ck_assert_msg(memcmp(a1, a2, sizeof a1) != 0, "seeds 42 and 43 put the box at the same place");
    contrl_goal_env_close(&env);
}
END_TEST

/* FetchPush's sampling: box and goal xy uniform within +-0.15 of the
 * fingertip, the box at least 0.1 from it; the goal on the table at the
 * height of the box's centre. */
START_TEST(push_box_and_goal_are_sampled_as_fetchpush_around_the_fingertip)
{
    contrl_goal_env env = make("push");
    float obs[MAX_OBS], ag[3], dg[3];
    double blo[2] = {1, 1}, bhi[2] = {-1, -1}, glo[2] = {1, 1}, ghi[2] = {-1, -1}, bmin = 1;
    for (int k = 0; k < 1000; k++) {
        ck_assert_int_eq(env.reset(env.user, (uint64_t)k, obs, ag, dg), CONTRL_OK);
        for (int i = 0; i < 2; i++) {
            double bo = (double)ag[i] - PUSH_START[i], go = (double)dg[i] - PUSH_START[i];
            ck_assert_msg(fabs(bo) <= 0.15 + 1e-6 && fabs(go) <= 0.15 + 1e-6,
                          "seed %d: box %g goal %g off on axis %d", k, bo, go, i);
            blo[i] = fmin(blo[i], bo);
            bhi[i] = fmax(bhi[i], bo);
            glo[i] = fmin(glo[i], go);
            ghi[i] = fmax(ghi[i], go);
        }
        double bd = hypot((double)ag[0] - PUSH_START[0], (double)ag[1] - PUSH_START[1]);
        ck_assert_msg(bd >= 0.1 - 1e-6, "seed %d: box %g from the fingertip", k, bd);
        bmin = fmin(bmin, bd);
        ck_assert_double_eq_tol(ag[2], 0.425, 1e-6);
        ck_assert_float_eq(dg[2], 0.425f);
    }
    /* 1000 draws cover the square: extremes within 0.005 of its ends */
    for (int i = 0; i < 2; i++) {
        ck_assert_double_lt(blo[i], -0.145);
        ck_assert_double_gt(bhi[i], 0.145);
        ck_assert_double_lt(glo[i], -0.145);
        ck_assert_double_gt(ghi[i], 0.145);
    }
    ck_assert_double_lt(bmin, 0.105);
    contrl_goal_env_close(&env);
}
END_TEST

START_TEST(push_box_rests_on_the_table_when_untouched)
{
    contrl_goal_env env = make("push");
    float obs[MAX_OBS], start[3], ag[3], dg[3], r;
    for (uint64_t seed = 0; seed < 3; seed++) {
        bool term, trunc = false;
        ck_assert_int_eq(env.reset(env.user, seed, obs, start, dg), CONTRL_OK);
        while (!trunc)
            step_ok(&env, (const float[3]){0, 0, 0}, obs, ag, &r, &term, &trunc);
        /* it sinks 0.22 mm into the table (the soft contact's equilibrium
         * penetration; it starts touching) and does not slide */
        ck_assert_double_lt(fabs((double)ag[0] - (double)start[0]), 1e-5);
        ck_assert_double_lt(fabs((double)ag[1] - (double)start[1]), 1e-5);
        ck_assert_double_lt(fabs((double)ag[2] - (double)start[2]), 5e-4);
        for (int i = 9; i < 18; i++)
            ck_assert_double_lt(fabs(obs[i]), 1e-4); /* upright, still */
    }
    contrl_goal_env_close(&env);
}
END_TEST

/* The scripted pusher: lift to 0.5, fly to a point 7 cm behind the box on
 * the line from the goal through the box, descend to the box's centre
 * height, push along the line at a speed falling with the distance left
 * (at most 0.02 m a step), and start over whenever the fingertip is off the
 * line. Writes a. */
static void scripted_push(const float *obs, const float *goal, float *a)
{
    const float *e = obs, *b = obs + 3;
    float dx = goal[0] - b[0], dy = goal[1] - b[1];
    float n = hypotf(dx, dy);
    a[0] = a[1] = a[2] = 0.0f;
    if (n < 0.015f)
        return;
    dx /= n;
    dy /= n;
    const float rx = e[0] - b[0], ry = e[1] - b[1];
    const float along = rx * dx + ry * dy, across = -rx * dy + ry * dx;
    const float behind[2] = {b[0] - 0.07f * dx, b[1] - 0.07f * dy};
    if (along < -0.03f && fabsf(across) < 0.015f && e[2] < 0.44f) { /* push */
        float s = fminf(0.7f * n, 0.02f);
        a[0] = clampf((b[0] - (0.045f - s) * dx - e[0]) / 0.05f, -1, 1);
        a[1] = clampf((b[1] - (0.045f - s) * dy - e[1]) / 0.05f, -1, 1);
        a[2] = clampf((0.425f - e[2]) / 0.05f, -1, 1);
    } else if (hypotf(behind[0] - e[0], behind[1] - e[1]) < 0.012f) { /* descend */
        a[0] = clampf((behind[0] - e[0]) / 0.05f, -1, 1);
        a[1] = clampf((behind[1] - e[1]) / 0.05f, -1, 1);
        a[2] = clampf((0.425f - e[2]) / 0.05f, -1, 1);
    } else if (e[2] < 0.49f) { /* lift */
        a[2] = clampf((0.5f - e[2]) / 0.05f, -1, 1);
    } else { /* fly over */
        a[0] = clampf((behind[0] - e[0]) / 0.05f, -1, 1);
        a[1] = clampf((behind[1] - e[1]) / 0.05f, -1, 1);
        a[2] = clampf((0.5f - e[2]) / 0.05f, -1, 1);
    }
}

/* Pushing moves the box: the scripted pusher brings it to the goal. The
 * same script succeeded in 40 of 40 episodes when it was written (seeds
 * 0..39); here at least 9 of 10, and every box ends nearer its goal. The
 * step rewards are the documented sparse reward of the box's position, and
 * compute_reward over the episode agrees with them. */
START_TEST(push_scripted_pusher_brings_the_box_to_the_goal_and_rewards_agree)
{
    contrl_goal_env env = make("push");
    enum { T = 50 };
    int success = 0;
    for (uint64_t seed = 0; seed < 10; seed++) {
        float obs[MAX_OBS], ag[T + 1][3], dg[3], dgs[T][3], rewards[T], again[T];
        ck_assert_int_eq(env.reset(env.user, 200 + seed, obs, ag[0], dg), CONTRL_OK);
        const double d0 = dist3(ag[0], dg);
        bool term, trunc = false;
        int t = 0;
        while (!trunc) {
            float a[3];
            scripted_push(obs, dg, a);
            step_ok(&env, a, obs, ag[t + 1], &rewards[t], &term, &trunc);
            ck_assert_float_eq(rewards[t], sparse_reward(ag[t + 1], dg));
            memcpy(dgs[t], dg, sizeof dg);
            t++;
        }
        ck_assert_int_eq(t, T);
        env.compute_reward(env.user, &ag[1][0], &dgs[0][0], T, again);
        ck_assert_mem_eq(again, rewards, sizeof rewards);
        const double d1 = dist3(ag[T], dg);
        ck_assert_msg(d1 < d0 || d1 <= 0.05, "seed %d: box %g from the goal, was %g",
                      (int)seed, d1, d0);
        ck_assert_double_gt(ag[T][2], 0.42); /* still on the table */
        success += rewards[T - 1] == 0.0f;
    }
    ck_assert_int_ge(success, 9);
    contrl_goal_env_close(&env);
}
END_TEST

/* Struck from behind along +x, the box goes +x (and not sideways), about as
 * far as the fingertip travels beyond the contact. */
START_TEST(push_pushing_along_x_moves_the_box_along_x)
{
    contrl_goal_env env = make("push");
    mjData *d = contrl_mj_goal_env_data(&env);
    const mjModel *m = contrl_mj_goal_env_model(&env);
    const int box_joint = mj_name2id(m, mjOBJ_JOINT, "object");
    float obs[MAX_OBS], ag[3], dg[3], r;
    bool term, trunc;
    ck_assert_int_eq(env.reset(env.user, 1, obs, ag, dg), CONTRL_OK);
    /* put the box 8 cm ahead of the fingertip (centre to centre) */
    mjtNum *q = d->qpos + m->jnt_qposadr[box_joint];
    q[0] = PUSH_START[0] + 0.08;
    q[1] = PUSH_START[1];
    mj_forward(m, d);
    const double x0 = q[0];
    for (int t = 0; t < 6; t++)
        step_ok(&env, (const float[3]){0.5f, 0, 0}, obs, ag, &r, &term, &trunc);
    for (int t = 0; t < 10; t++) /* let it come to rest */
        step_ok(&env, (const float[3]){0, 0, 0}, obs, ag, &r, &term, &trunc);
    /* 6 half steps take the fingertip ~0.135 m; contact after 0.035 of it */
    const double moved = (double)ag[0] - x0;
    ck_assert_msg(moved > 0.07 && moved < 0.16, "box moved %g along x", moved);
    ck_assert_double_lt(fabs((double)ag[1] - PUSH_START[1]), 0.01);
    ck_assert_double_lt(fabs((double)ag[2] - 0.425), 0.001);
    contrl_goal_env_close(&env);
}
END_TEST

static Suite *goal_suite(void)
{
    Suite *s = suite_create("mujoco-goal");
    TCase *tc = tcase_create("both");
    tcase_add_test(tc, goal_names_list_reach_and_push_and_unknown_names_are_refused);
    tcase_add_test(tc, goal_envs_allocate_through_the_given_allocator_and_free_everything);
    tcase_add_test(tc, goal_tasks_truncate_at_exactly_50_steps_and_refuse_steps_outside_an_episode);
    tcase_add_test(tc, goal_tasks_truncate_unstable_simulation_on_the_last_good_observation);
    tcase_set_timeout(tc, 60);
    suite_add_tcase(s, tc);
    tc = tcase_create("reach");
    tcase_add_test(tc, reach_has_12_obs_3_goal_3_unit_actions_and_50_step_episodes);
    tcase_add_test(tc, reach_starts_still_at_its_documented_fingertip_position);
    tcase_add_test(tc, reach_reset_with_a_seed_is_reproducible_and_seeds_differ);
    tcase_add_test(tc, reach_goals_are_uniform_within_015_of_the_start);
    tcase_add_test(tc, reach_reward_is_minus_one_beyond_005_and_compute_reward_agrees_with_steps);
    tcase_add_test(tc, reach_unit_action_moves_the_fingertip_about_005_per_step_along_each_axis);
    tcase_add_test(tc, reach_zero_action_holds_the_fingertip_within_half_a_mm_for_an_episode);
    tcase_add_test(tc, reach_every_sampled_goal_is_reached_by_a_proportional_policy);
    tcase_set_timeout(tc, 60);
    suite_add_tcase(s, tc);
    tc = tcase_create("push");
    tcase_add_test(tc, push_has_27_obs_3_goal_3_unit_actions_and_50_step_episodes);
    tcase_add_test(tc, push_observation_is_fetchpush_layout_plus_joints_read_from_the_state);
    tcase_add_test(tc, push_reset_with_a_seed_is_reproducible_and_seeds_differ);
    tcase_add_test(tc, push_box_and_goal_are_sampled_as_fetchpush_around_the_fingertip);
    tcase_add_test(tc, push_box_rests_on_the_table_when_untouched);
    tcase_add_test(tc, push_scripted_pusher_brings_the_box_to_the_goal_and_rewards_agree);
    tcase_add_test(tc, push_pushing_along_x_moves_the_box_along_x);
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
