/* tests/test_tasks_locomotion.c - the built-in Hopper, Walker2d, Ant and
 * Humanoid tasks against Gymnasium's v4 definitions (docs/mujoco.md).
 *
 * Every reward, termination and observation is recomputed here, in double,
 * from the mjData the env exposes and the formulas of Gymnasium's
 * <task>_v4.py (written out again in this file, not shared with the
 * library), and compared with what the env returned. The model figures
 * (degrees of freedom, body count, total mass) were measured by loading
 * Gymnasium's own assets/<task>.xml with MuJoCo 2.2.2 (sum of
 * mjModel.body_mass, the sizes nq, nv, nu, nbody) and are hard-coded here. */
#include <check.h>
#include <math.h>
#include <mujoco/mujoco.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "contrl/contrl.h"
#include "contrl/mujoco.h"

enum { MAX_OBS = 400, MAX_ACT = 32 };

/* |got - want| <= tol * max(1, |want|). The env returns float rewards and
 * observations computed in double: their rounding is 6e-8 relative. */
static void assert_close(double got, double want, double tol, const char *what, int step)
{
    double scale = fabs(want) > 1.0 ? fabs(want) : 1.0;
    ck_assert_msg(fabs(got - want) <= tol * scale, "step %d: %s = %.9g, want %.9g", step, what,
                  got, want);
}

static contrl_env make(const char *name)
{
    contrl_env env;
    contrl_status st = contrl_mj_make(name, NULL, &env);
    ck_assert_msg(st == CONTRL_OK, "contrl_mj_make(%s): %s", name, contrl_last_error());
    return env;
}

static double total_mass(const mjModel *m)
{
    double s = 0.0;
    for (int i = 0; i < m->nbody; i++)
        s += m->body_mass[i];
    return s;
}

static int qpos_of(const mjModel *m, const char *joint)
{
    int j = mj_name2id(m, mjOBJ_JOINT, joint);
    ck_assert_msg(j >= 0, "no joint %s", joint);
    return m->jnt_qposadr[j];
}

/* A reproducible action in the env's bounds (a small LCG, not contrl_rng:
 * the test does not depend on the library's generator). */
static void random_action(const contrl_env *env, uint64_t *state, float *action)
{
    for (uint32_t i = 0; i < env->action_dim; i++) {
        *state = *state * 6364136223846793005ULL + 1442695040888963407ULL;
        double u = (double)(*state >> 11) * 0x1.0p-53;
        double lo = env->action_low[i], hi = env->action_high[i];
        action[i] = (float)(lo + (hi - lo) * u);
    }
}

static double sum_sq(const float *a, uint32_t n)
{
    double s = 0.0;
    for (uint32_t i = 0; i < n; i++)
        s += (double)a[i] * (double)a[i];
    return s;
}

static double clip(double v, double lim)
{
    return v < -lim ? -lim : v > lim ? lim : v;
}

/* Set the full state and recompute the derived quantities, as a test does
 * through the public accessors. */
static void set_state(contrl_env *env, const double *qpos, const double *qvel)
{
    const mjModel *m = contrl_mj_env_model(env);
    mjData *d = contrl_mj_env_data(env);
    memcpy(d->qpos, qpos, (size_t)m->nq * sizeof(double));
    memcpy(d->qvel, qvel, (size_t)m->nv * sizeof(double));
    mj_forward(m, d);
}

/* Two resets with one seed give the same qpos/qvel and observation; another
 * seed gives a different state. Each entry stays within the noise bound of
 * qpos0 (and of zero for qvel). */
static void check_seeded_reset(const char *name, double qpos_bound, double qvel_bound)
{
    contrl_env env = make(name);
    const mjModel *m = contrl_mj_env_model(&env);
    mjData *d = contrl_mj_env_data(&env);
    float obs1[MAX_OBS], obs2[MAX_OBS];
    double q1[64], v1[64];
    ck_assert_int_eq(contrl_env_reset(&env, 1234, obs1), CONTRL_OK);
    memcpy(q1, d->qpos, (size_t)m->nq * sizeof(double));
    memcpy(v1, d->qvel, (size_t)m->nv * sizeof(double));
    for (int i = 0; i < m->nq; i++)
        ck_assert_msg(fabs(q1[i] - m->qpos0[i]) <= qpos_bound, "%s qpos[%d] = %g is too far from %g",
                      name, i, q1[i], m->qpos0[i]);
    for (int i = 0; i < m->nv; i++)
        ck_assert_msg(fabs(v1[i]) <= qvel_bound, "%s qvel[%d] = %g", name, i, v1[i]);

    /* a step in between: the second reset must not depend on it */
    float a[MAX_ACT] = {0}, next[MAX_OBS], r;
    bool term, trunc;
    ck_assert_int_eq(contrl_env_step(&env, a, next, &r, &term, &trunc), CONTRL_OK);
    ck_assert_int_eq(contrl_env_reset(&env, 1234, obs2), CONTRL_OK);
    ck_assert_mem_eq(q1, d->qpos, (size_t)m->nq * sizeof(double));
    ck_assert_mem_eq(v1, d->qvel, (size_t)m->nv * sizeof(double));
    ck_assert_mem_eq(obs1, obs2, env.obs_dim * sizeof(float));

    ck_assert_int_eq(contrl_env_reset(&env, 1235, obs2), CONTRL_OK);
    int same = 0;
    for (int i = 0; i < m->nq; i++)
        same += d->qpos[i] == q1[i];
    for (int i = 0; i < m->nv; i++)
        same += d->qvel[i] == v1[i];
    ck_assert_msg(same == 0, "%s: seeds 1234 and 1235 share %d state entries", name, same);
    contrl_env_close(&env);
}

/* Hold the env in the state it had after reset before every step (written
 * through the accessors), so no episode ends early: it must truncate at
 * exactly `limit` steps and not before. */
static void check_truncates_at(const char *name, uint32_t limit)
{
    contrl_env env = make(name);
    const mjModel *m = contrl_mj_env_model(&env);
    mjData *d = contrl_mj_env_data(&env);
    ck_assert_uint_eq(env.max_episode_steps, limit);
    float obs[MAX_OBS], a[MAX_ACT] = {0}, r;
    bool term = false, trunc = false;
    ck_assert_int_eq(contrl_env_reset(&env, 5, obs), CONTRL_OK);
    double q0[64], v0[64];
    memcpy(q0, d->qpos, (size_t)m->nq * sizeof(double));
    memcpy(v0, d->qvel, (size_t)m->nv * sizeof(double));
    for (uint32_t t = 1; t <= limit; t++) {
        set_state(&env, q0, v0);
        ck_assert_int_eq(contrl_env_step(&env, a, obs, &r, &term, &trunc), CONTRL_OK);
        ck_assert_msg(!term, "%s terminated at step %u", name, t);
        ck_assert_msg(trunc == (t == limit), "%s: truncated = %d at step %u", name, trunc, t);
    }
    /* the episode is over: stepping again is a state error */
    ck_assert_int_eq(contrl_env_step(&env, a, obs, &r, &term, &trunc), CONTRL_ERR_STATE);
    contrl_env_close(&env);
}

/* ---- Hopper-v4 ----------------------------------------------------------- */

/* Gymnasium's Hopper-v4 is_healthy: z > 0.7, |pitch| < 0.2 and every entry
 * of state_vector()[2:] = [qpos, qvel][2:] strictly inside (-100, 100). */
static bool hopper_healthy(const mjModel *m, const mjData *d)
{
    bool ok = d->qpos[1] > 0.7 && d->qpos[2] > -0.2 && d->qpos[2] < 0.2;
    for (int i = 2; i < m->nq; i++)
        ok = ok && d->qpos[i] > -100.0 && d->qpos[i] < 100.0;
    for (int i = 0; i < m->nv; i++)
        ok = ok && d->qvel[i] > -100.0 && d->qvel[i] < 100.0;
    return ok;
}

/* One Hopper-v4 step checked by hand: reward = dx/dt - 1e-3 |a|^2 + 1 (the
 * 1 paid also when the step terminates); obs = qpos[1:], clip(qvel, 10). */
static bool hopper_step_checked(contrl_env *env, const float *a, int step)
{
    const mjModel *m = contrl_mj_env_model(env);
    const mjData *d = contrl_mj_env_data(env);
    const double x_before = d->qpos[0], t_before = d->time;
    float obs[MAX_OBS], r;
    bool term, trunc;
    ck_assert_int_eq(contrl_env_step(env, a, obs, &r, &term, &trunc), CONTRL_OK);
    assert_close(d->time - t_before, 0.008, 1e-12, "hopper dt", step);
    const double want = (d->qpos[0] - x_before) / 0.008 - 1e-3 * sum_sq(a, 3) + 1.0;
    assert_close(r, want, 1e-6, "hopper reward", step);
    ck_assert_msg(term == !hopper_healthy(m, d), "step %d: hopper terminated = %d", step, term);
    for (int i = 0; i < 5; i++)
        assert_close(obs[i], d->qpos[1 + i], 1e-6, "hopper obs qpos", step);
    for (int i = 0; i < 6; i++)
        assert_close(obs[5 + i], clip(d->qvel[i], 10.0), 1e-6, "hopper obs qvel", step);
    return term;
}

START_TEST(hopper_has_11_observations_and_3_actions_in_minus1_1)
{
    contrl_env env = make("Hopper-v4");
    ck_assert_uint_eq(env.obs_dim, 11);
    ck_assert_uint_eq(env.action_dim, 3);
    for (int i = 0; i < 3; i++) {
        ck_assert_float_eq(env.action_low[i], -1.0f);
        ck_assert_float_eq(env.action_high[i], 1.0f);
    }
    ck_assert_uint_eq(env.max_episode_steps, 1000);
    contrl_env_close(&env);
}
END_TEST

START_TEST(hopper_model_has_gymnasium_dofs_and_mass)
{
    contrl_env env = make("hopper");
    const mjModel *m = contrl_mj_env_model(&env);
    /* Gymnasium assets/hopper.xml in MuJoCo 2.2.2: nq 6, nv 6, nu 3,
     * nbody 5 (world + 4), total mass 15.820013405927003. */
    ck_assert_int_eq(m->nq, 6);
    ck_assert_int_eq(m->nv, 6);
    ck_assert_int_eq(m->nu, 3);
    ck_assert_int_eq(m->nbody, 5);
    ck_assert_double_eq_tol(total_mass(m), 15.820013405927003, 1e-12);
    ck_assert_double_eq(m->opt.timestep, 0.002);
    ck_assert_int_eq(m->opt.integrator, mjINT_RK4);
    for (int i = 0; i < 3; i++)
        ck_assert_double_eq(m->actuator_gear[6 * i], 200.0);
    contrl_env_close(&env);
}
END_TEST

START_TEST(hopper_reset_is_seeded_uniform_noise_of_5e3)
{
    check_seeded_reset("hopper", 5e-3, 5e-3);
}
END_TEST

START_TEST(hopper_reward_and_termination_match_hand_computation_over_an_episode)
{
    contrl_env env = make("hopper");
    float obs[MAX_OBS], a[MAX_ACT];
    ck_assert_int_eq(contrl_env_reset(&env, 42, obs), CONTRL_OK);
    uint64_t lcg = 99;
    bool term = false;
    int t = 0;
    /* random actions topple the hopper well within 1000 steps */
    for (; t < 1000 && !term; t++) {
        random_action(&env, &lcg, a);
        term = hopper_step_checked(&env, a, t);
    }
    ck_assert_msg(term, "random actions kept the hopper up for 1000 steps");
    contrl_env_close(&env);
}
END_TEST

START_TEST(hopper_clips_observed_velocity_at_10_but_rewards_the_true_one)
{
    contrl_env env = make("hopper");
    const mjModel *m = contrl_mj_env_model(&env);
    const mjData *d = contrl_mj_env_data(&env);
    float obs[MAX_OBS];
    ck_assert_int_eq(contrl_env_reset(&env, 1, obs), CONTRL_OK);
    double q[6], v[6] = {30.0, 0, 0, 0, 0, 0};
    memcpy(q, m->qpos0, sizeof q); /* feet 4 cm above the floor: free flight */
    set_state(&env, q, v);
    float a[3] = {0.5f, -0.25f, 1.0f};
    ck_assert(!hopper_step_checked(&env, a, 0));
    ck_assert_double_gt(d->qvel[0], 29.0);
    contrl_env_close(&env);
}
END_TEST

START_TEST(hopper_terminates_on_pitch_and_pays_healthy_reward)
{
    contrl_env env = make("hopper");
    const mjModel *m = contrl_mj_env_model(&env);
    const mjData *d = contrl_mj_env_data(&env);
    float obs[MAX_OBS];
    ck_assert_int_eq(contrl_env_reset(&env, 1, obs), CONTRL_OK);
    double q[6], v[6] = {0};
    memcpy(q, m->qpos0, sizeof q);
    q[2] = 0.3; /* pitch beyond 0.2 */
    set_state(&env, q, v);
    float a[3] = {0.1f, 0.2f, 0.3f};
    ck_assert(hopper_step_checked(&env, a, 0));
    ck_assert_double_gt(d->qpos[2], 0.2); /* the pitch alone is out of range */
    ck_assert_double_gt(d->qpos[1], 0.7);
    contrl_env_close(&env);
}
END_TEST

START_TEST(hopper_terminates_on_speed_beyond_100_and_pays_healthy_reward)
{
    /* state_vector()[2:] includes qvel[0], the forward speed */
    contrl_env env = make("hopper");
    const mjModel *m = contrl_mj_env_model(&env);
    const mjData *d = contrl_mj_env_data(&env);
    float obs[MAX_OBS];
    ck_assert_int_eq(contrl_env_reset(&env, 1, obs), CONTRL_OK);
    double q[6], v[6] = {150.0, 0, 0, 0, 0, 0};
    memcpy(q, m->qpos0, sizeof q);
    set_state(&env, q, v);
    float a[3] = {0};
    ck_assert(hopper_step_checked(&env, a, 0));
    ck_assert_double_gt(d->qpos[1], 0.7); /* the speed alone is out of range */
    ck_assert_double_lt(fabs(d->qpos[2]), 0.2);
    ck_assert_double_gt(d->qvel[0], 100.0);
    contrl_env_close(&env);
}
END_TEST

START_TEST(hopper_terminates_below_z_0_7_and_pays_healthy_reward)
{
    /* The torso at z = 0.65 with the thigh folded up (-150 deg) and the leg
     * folded back (-150 deg): the foot clears the floor. */
    contrl_env env = make("hopper");
    const mjModel *m = contrl_mj_env_model(&env);
    const mjData *d = contrl_mj_env_data(&env);
    float obs[MAX_OBS];
    ck_assert_int_eq(contrl_env_reset(&env, 1, obs), CONTRL_OK);
    double q[6], v[6] = {0};
    memcpy(q, m->qpos0, sizeof q);
    q[1] = 0.65;
    q[qpos_of(m, "thigh_joint")] = -2.6;
    set_state(&env, q, v);
    float a[3] = {0};
    ck_assert_int_eq(d->ncon, 0);
    ck_assert(hopper_step_checked(&env, a, 0));
    ck_assert_double_lt(d->qpos[1], 0.7); /* the height alone is out of range */
    ck_assert_double_lt(fabs(d->qpos[2]), 0.2);
    contrl_env_close(&env);
}
END_TEST

START_TEST(hopper_truncates_at_1000_steps)
{
    check_truncates_at("hopper", 1000);
}
END_TEST

static Suite *locomotion_suite(void)
{
    Suite *s = suite_create("mujoco-tasks-locomotion");
    TCase *tc = tcase_create("hopper");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, hopper_has_11_observations_and_3_actions_in_minus1_1);
    tcase_add_test(tc, hopper_model_has_gymnasium_dofs_and_mass);
    tcase_add_test(tc, hopper_reset_is_seeded_uniform_noise_of_5e3);
    tcase_add_test(tc, hopper_reward_and_termination_match_hand_computation_over_an_episode);
    tcase_add_test(tc, hopper_clips_observed_velocity_at_10_but_rewards_the_true_one);
    tcase_add_test(tc, hopper_terminates_on_pitch_and_pays_healthy_reward);
    tcase_add_test(tc, hopper_terminates_on_speed_beyond_100_and_pays_healthy_reward);
    tcase_add_test(tc, hopper_terminates_below_z_0_7_and_pays_healthy_reward);
    tcase_add_test(tc, hopper_truncates_at_1000_steps);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(locomotion_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
