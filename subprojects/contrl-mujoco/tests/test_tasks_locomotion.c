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

/* ---- Hopper-v4 and Walker2d-v4 (planar) ----------------------------------- */

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

/* Gymnasium's Walker2d-v4 is_healthy: 0.8 < z < 2 and -1 < pitch < 1. */
static bool walker2d_healthy(const mjModel *m, const mjData *d)
{
    (void)m;
    return d->qpos[1] > 0.8 && d->qpos[1] < 2.0 && d->qpos[2] > -1.0 && d->qpos[2] < 1.0;
}

/* One Hopper-v4 or Walker2d-v4 step checked by hand (both have
 * frame_skip 4 x 0.002 s): reward = dx/dt - 1e-3 |a|^2 + 1 with x = qpos[0]
 * and the 1 paid also when the step terminates; obs = qpos[1:], then
 * clip(qvel, -10, 10). */
static bool planar_step_checked(contrl_env *env, bool (*is_healthy)(const mjModel *, const mjData *),
                                const float *a, int step)
{
    const mjModel *m = contrl_mj_env_model(env);
    const mjData *d = contrl_mj_env_data(env);
    const double x_before = d->qpos[0], t_before = d->time;
    float obs[MAX_OBS], r;
    bool term, trunc;
    ck_assert_int_eq(contrl_env_step(env, a, obs, &r, &term, &trunc), CONTRL_OK);
    assert_close(d->time - t_before, 0.008, 1e-12, "dt", step);
    const double want = (d->qpos[0] - x_before) / 0.008 - 1e-3 * sum_sq(a, env->action_dim) + 1.0;
    assert_close(r, want, 1e-6, "reward", step);
    ck_assert_msg(term == !is_healthy(m, d), "step %d: terminated = %d", step, term);
    ck_assert_uint_eq(env->obs_dim, (uint32_t)(m->nq - 1 + m->nv));
    for (int i = 0; i < m->nq - 1; i++)
        assert_close(obs[i], d->qpos[1 + i], 1e-6, "obs qpos", step);
    for (int i = 0; i < m->nv; i++)
        assert_close(obs[m->nq - 1 + i], clip(d->qvel[i], 10.0), 1e-6, "obs qvel", step);
    return term;
}

static bool hopper_step_checked(contrl_env *env, const float *a, int step)
{
    return planar_step_checked(env, hopper_healthy, a, step);
}

static bool walker2d_step_checked(contrl_env *env, const float *a, int step)
{
    return planar_step_checked(env, walker2d_healthy, a, step);
}

/* Reset `env`, then put it at qpos0 with the given changes (pairs of qpos
 * index and value) and the given qvel[0]. */
static void set_planar_state(contrl_env *env, double qvel0, int n, const int *idx,
                             const double *val)
{
    const mjModel *m = contrl_mj_env_model(env);
    float obs[MAX_OBS];
    ck_assert_int_eq(contrl_env_reset(env, 1, obs), CONTRL_OK);
    double q[16], v[16] = {0};
    memcpy(q, m->qpos0, (size_t)m->nq * sizeof(double));
    for (int i = 0; i < n; i++)
        q[idx[i]] = val[i];
    v[0] = qvel0;
    set_state(env, q, v);
}

/* Drive `name` with reproducible random actions from a seeded reset, each
 * step checked by `step_checked`, until it terminates (random actions topple
 * every one of these bodies well within the time limit). The check must
 * have covered at least 10 steps. Returns the episode length. */
static int check_random_episode(const char *name, uint64_t seed,
                                bool (*step_checked)(contrl_env *, const float *, int))
{
    contrl_env env = make(name);
    float obs[MAX_OBS], a[MAX_ACT];
    ck_assert_int_eq(contrl_env_reset(&env, seed, obs), CONTRL_OK);
    uint64_t lcg = seed;
    bool term = false;
    int t = 0;
    for (; t < 1000 && !term; t++) {
        random_action(&env, &lcg, a);
        term = step_checked(&env, a, t);
    }
    ck_assert_msg(term, "%s: random actions kept it healthy for 1000 steps", name);
    ck_assert_msg(t >= 10, "%s: the episode ended after %d steps", name, t);
    contrl_env_close(&env);
    return t;
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
    check_random_episode("hopper", 42, hopper_step_checked);
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

START_TEST(walker2d_has_17_observations_and_6_actions_in_minus1_1)
{
    contrl_env env = make("Walker2d-v4");
    ck_assert_uint_eq(env.obs_dim, 17);
    ck_assert_uint_eq(env.action_dim, 6);
    for (int i = 0; i < 6; i++) {
        ck_assert_float_eq(env.action_low[i], -1.0f);
        ck_assert_float_eq(env.action_high[i], 1.0f);
    }
    ck_assert_uint_eq(env.max_episode_steps, 1000);
    contrl_env_close(&env);
}
END_TEST

START_TEST(walker2d_model_has_gymnasium_dofs_and_mass)
{
    contrl_env env = make("walker2d");
    const mjModel *m = contrl_mj_env_model(&env);
    /* Gymnasium assets/walker2d.xml in MuJoCo 2.2.2: nq 9, nv 9, nu 6,
     * nbody 8 (world + torso + 2 x 3), total mass 23.677136632555076. */
    ck_assert_int_eq(m->nq, 9);
    ck_assert_int_eq(m->nv, 9);
    ck_assert_int_eq(m->nu, 6);
    ck_assert_int_eq(m->nbody, 8);
    ck_assert_double_eq_tol(total_mass(m), 23.677136632555076, 1e-12);
    ck_assert_double_eq(m->opt.timestep, 0.002);
    ck_assert_int_eq(m->opt.integrator, mjINT_RK4);
    for (int i = 0; i < 6; i++)
        ck_assert_double_eq(m->actuator_gear[6 * i], 100.0);
    /* the feet differ: 0.9 on the right, 1.9 on the left */
    ck_assert_double_eq(m->geom_friction[3 * mj_name2id(m, mjOBJ_GEOM, "foot_geom")], 0.9);
    ck_assert_double_eq(m->geom_friction[3 * mj_name2id(m, mjOBJ_GEOM, "foot_left_geom")], 1.9);
    contrl_env_close(&env);
}
END_TEST

START_TEST(walker2d_reset_is_seeded_uniform_noise_of_5e3)
{
    check_seeded_reset("walker2d", 5e-3, 5e-3);
}
END_TEST

START_TEST(walker2d_reward_and_termination_match_hand_computation_over_an_episode)
{
    check_random_episode("walker2d", 43, walker2d_step_checked);
}
END_TEST

START_TEST(walker2d_has_no_speed_limit_and_clips_observed_velocity_at_10)
{
    /* 150 m/s forward in the air: would end a hopper episode, not this one */
    contrl_env env = make("walker2d");
    const mjData *d = contrl_mj_env_data(&env);
    set_planar_state(&env, 150.0, 0, NULL, NULL);
    float a[6] = {0.5f, -0.5f, 0.25f, -0.25f, 1.0f, -1.0f};
    ck_assert(!walker2d_step_checked(&env, a, 0));
    ck_assert_double_gt(d->qvel[0], 100.0);
    contrl_env_close(&env);
}
END_TEST

START_TEST(walker2d_terminates_on_pitch_beyond_1_and_pays_healthy_reward)
{
    contrl_env env = make("walker2d");
    const mjData *d = contrl_mj_env_data(&env);
    const int idx[] = {2};
    const double val[] = {-1.05};
    set_planar_state(&env, 0.0, 1, idx, val);
    float a[6] = {0.1f, 0.2f, 0.3f, 0.4f, 0.5f, 0.6f};
    ck_assert(walker2d_step_checked(&env, a, 0));
    ck_assert_double_lt(d->qpos[2], -1.0); /* the pitch alone is out of range */
    ck_assert_double_gt(d->qpos[1], 0.8);
    contrl_env_close(&env);
}
END_TEST

START_TEST(walker2d_terminates_above_z_2_and_pays_healthy_reward)
{
    contrl_env env = make("walker2d");
    const mjData *d = contrl_mj_env_data(&env);
    const int idx[] = {1};
    const double val[] = {2.1};
    set_planar_state(&env, 0.0, 1, idx, val);
    float a[6] = {0};
    ck_assert(walker2d_step_checked(&env, a, 0));
    ck_assert_double_gt(d->qpos[1], 2.0);
    contrl_env_close(&env);
}
END_TEST

START_TEST(walker2d_terminates_below_z_0_8_and_pays_healthy_reward)
{
    /* Torso at z = 0.75 with both thighs folded up: the feet clear the floor. */
    contrl_env env = make("walker2d");
    const mjModel *m = contrl_mj_env_model(&env);
    const mjData *d = contrl_mj_env_data(&env);
    const int idx[] = {1, qpos_of(m, "thigh_joint"), qpos_of(m, "thigh_left_joint")};
    const double val[] = {0.75, -2.6, -2.6};
    set_planar_state(&env, 0.0, 3, idx, val);
    ck_assert_int_eq(d->ncon, 0);
    float a[6] = {0};
    ck_assert(walker2d_step_checked(&env, a, 0));
    ck_assert_double_lt(d->qpos[1], 0.8); /* the height alone is out of range */
    ck_assert_double_lt(fabs(d->qpos[2]), 1.0);
    contrl_env_close(&env);
}
END_TEST

START_TEST(walker2d_truncates_at_1000_steps)
{
    check_truncates_at("walker2d", 1000);
}
END_TEST

/* ---- Ant-v4 ------------------------------------------------------------------ */

/* Gymnasium's Ant-v4 is_healthy: a finite state and 0.2 <= z <= 1.0. */
static bool ant_healthy(const mjModel *m, const mjData *d)
{
    for (int i = 0; i < m->nq; i++)
        if (!isfinite(d->qpos[i]))
            return false;
    for (int i = 0; i < m->nv; i++)
        if (!isfinite(d->qvel[i]))
            return false;
    return d->qpos[2] >= 0.2 && d->qpos[2] <= 1.0;
}

/* One Ant-v4 step checked by hand: reward = vx + 1 - 0.5 |a|^2 with vx from
 * the torso's xpos as mjData holds it before and after the step (dt 0.05),
 * no contact cost; obs = qpos[2:], qvel. Returns terminated; *contact_cost
 * gets what v4 would charge with use_contact_forces = True (5e-4 times the
 * squared cfrc_ext clipped to [-1, 1]), to show it is not charged. */
static bool ant_step_checked(contrl_env *env, const float *a, int step, double *contact_cost)
{
    const mjModel *m = contrl_mj_env_model(env);
    mjData *d = contrl_mj_env_data(env);
    const int torso = mj_name2id(m, mjOBJ_BODY, "torso");
    const double x_before = d->xpos[3 * torso], t_before = d->time;
    float obs[MAX_OBS], r;
    bool term, trunc;
    ck_assert_int_eq(contrl_env_step(env, a, obs, &r, &term, &trunc), CONTRL_OK);
    assert_close(d->time - t_before, 0.05, 1e-12, "ant dt", step);
    const double want = (d->xpos[3 * torso] - x_before) / 0.05 + 1.0 - 0.5 * sum_sq(a, 8);
    assert_close(r, want, 1e-6, "ant reward", step);
    ck_assert_msg(term == !ant_healthy(m, d), "step %d: ant terminated = %d", step, term);
    for (int i = 0; i < 13; i++)
        assert_close(obs[i], d->qpos[2 + i], 1e-6, "ant obs qpos", step);
    for (int i = 0; i < 14; i++)
        assert_close(obs[13 + i], d->qvel[i], 1e-6, "ant obs qvel", step);
    if (contact_cost != NULL) {
        mj_rnePostConstraint(m, d); /* cfrc_ext only; the next step recomputes all */
        double c = 0.0;
        for (int i = 0; i < 6 * m->nbody; i++)
            c += clip(d->cfrc_ext[i], 1.0) * clip(d->cfrc_ext[i], 1.0);
        *contact_cost = 5e-4 * c;
    }
    return term;
}

START_TEST(ant_has_27_observations_and_8_actions_in_minus1_1)
{
    contrl_env env = make("Ant-v4");
    ck_assert_uint_eq(env.obs_dim, 27);
    ck_assert_uint_eq(env.action_dim, 8);
    for (int i = 0; i < 8; i++) {
        ck_assert_float_eq(env.action_low[i], -1.0f);
        ck_assert_float_eq(env.action_high[i], 1.0f);
    }
    ck_assert_uint_eq(env.max_episode_steps, 1000);
    contrl_env_close(&env);
}
END_TEST

START_TEST(ant_model_has_gymnasium_dofs_and_mass)
{
    contrl_env env = make("ant");
    const mjModel *m = contrl_mj_env_model(&env);
    /* Gymnasium assets/ant.xml in MuJoCo 2.2.2: nq 15, nv 14, nu 8,
     * nbody 14 (world + torso + 4 x 3), total mass 0.91088008270739151. */
    ck_assert_int_eq(m->nq, 15);
    ck_assert_int_eq(m->nv, 14);
    ck_assert_int_eq(m->nu, 8);
    ck_assert_int_eq(m->nbody, 14);
    ck_assert_double_eq_tol(total_mass(m), 0.91088008270739151, 1e-12);
    ck_assert_double_eq(m->opt.timestep, 0.01);
    ck_assert_int_eq(m->opt.integrator, mjINT_RK4);
    for (int i = 0; i < 8; i++)
        ck_assert_double_eq(m->actuator_gear[6 * i], 150.0);
    /* action 0 drives hip_4, as in the standard model */
    ck_assert_int_eq(m->actuator_trnid[0], mj_name2id(m, mjOBJ_JOINT, "hip_4"));
    contrl_env_close(&env);
}
END_TEST

START_TEST(ant_reset_is_seeded)
{
    /* qvel ~ 0.1 N(0, 1): |qvel| < 1 holds with overwhelming odds (and the
     * seed is fixed). mj_forward normalises the noisy quaternion in qpos,
     * which can move an entry up to 0.1 / 0.9 from qpos0: bound 0.12. */
    check_seeded_reset("ant", 0.12, 1.0);
}
END_TEST

START_TEST(ant_reset_noise_is_uniform_on_qpos_and_normal_on_qvel)
{
    /* 300 resets: qpos - qpos0 ~ U(-0.1, 0.1) (sd 0.0577, never beyond 0.1)
     * outside the quaternion qpos[3:7], which mj_forward leaves normalised;
     * qvel ~ 0.1 N(0, 1) (sd 0.1, beyond 0.1 with probability 0.317). */
    contrl_env env = make("ant");
    const mjModel *m = contrl_mj_env_model(&env);
    const mjData *d = contrl_mj_env_data(&env);
    float obs[MAX_OBS];
    double sq_q = 0.0, sq_v = 0.0, max_q = 0.0;
    int n_q = 0, n_v = 0, beyond = 0;
    for (uint64_t seed = 0; seed < 300; seed++) {
        ck_assert_int_eq(contrl_env_reset(&env, seed, obs), CONTRL_OK);
        double norm = 0.0;
        for (int i = 3; i < 7; i++)
            norm += d->qpos[i] * d->qpos[i];
        ck_assert_double_eq_tol(norm, 1.0, 1e-12);
        for (int i = 0; i < m->nq; i++) {
            if (i >= 3 && i < 7)
                continue;
            n_q++;
            double e = d->qpos[i] - m->qpos0[i];
            sq_q += e * e;
            max_q = fmax(max_q, fabs(e));
        }
        for (int i = 0; i < m->nv; i++, n_v++) {
            sq_v += d->qvel[i] * d->qvel[i];
            beyond += fabs(d->qvel[i]) > 0.1;
        }
    }
    /* 3300 and 4200 samples: the sample sd is within 4% at 3 sigma */
    ck_assert_double_le(max_q, 0.1);
    ck_assert_double_eq_tol(sqrt(sq_q / n_q), 0.1 / sqrt(3.0), 0.003);
    ck_assert_double_eq_tol(sqrt(sq_v / n_v), 0.1, 0.004);
    ck_assert_double_eq_tol((double)beyond / n_v, 0.3173, 0.025);
    contrl_env_close(&env);
}
END_TEST

START_TEST(ant_reward_and_termination_match_hand_computation_over_300_steps)
{
    contrl_env env = make("ant");
    float obs[MAX_OBS], a[MAX_ACT];
    ck_assert_int_eq(contrl_env_reset(&env, 44, obs), CONTRL_OK);
    uint64_t lcg = 44;
    bool term = false;
    double max_contact_cost = 0.0;
    for (int t = 0; t < 300 && !term; t++) {
        random_action(&env, &lcg, a);
        double c;
        term = ant_step_checked(&env, a, t, &c);
        max_contact_cost = fmax(max_contact_cost, c);
    }
    /* the legs touched the floor hard enough that a contact cost would have
     * shown in the comparisons above (tolerance 1e-6 x |reward|) */
    ck_assert_double_gt(max_contact_cost, 1e-3);
    contrl_env_close(&env);
}
END_TEST

START_TEST(ant_forward_velocity_reads_torso_xpos_as_left_by_mj_step)
{
    /* After mj_step (RK4) xpos holds the last Runge-Kutta stage, not the
     * final qpos: Gymnasium's velocity differs measurably from the one of
     * qpos[0]. The env must return Gymnasium's. */
    contrl_env env = make("ant");
    const mjModel *m = contrl_mj_env_model(&env);
    const mjData *d = contrl_mj_env_data(&env);
    float obs[MAX_OBS];
    ck_assert_int_eq(contrl_env_reset(&env, 3, obs), CONTRL_OK);
    double q[15], v[14] = {0};
    memcpy(q, m->qpos0, sizeof q);
    v[0] = 2.0; /* forward */
    v[5] = 3.0; /* spinning about z */
    set_state(&env, q, v);
    const double qx_before = d->qpos[0];
    const double xpos_before = d->xpos[3 * mj_name2id(m, mjOBJ_BODY, "torso")];
    ck_assert_double_eq(qx_before, xpos_before); /* after mj_forward they agree */
    float a[8] = {0.3f, -0.3f, 0.6f, -0.6f, 0.9f, -0.9f, 0.2f, -0.2f};
    ck_assert(!ant_step_checked(&env, a, 0, NULL));
    /* the reward from final qpos would be off by more than the tolerance */
    const double from_qpos = (d->qpos[0] - qx_before) / 0.05 + 1.0 - 0.5 * sum_sq(a, 8);
    const double from_xpos =
        (d->xpos[3 * mj_name2id(m, mjOBJ_BODY, "torso")] - xpos_before) / 0.05 + 1.0 -
        0.5 * sum_sq(a, 8);
    ck_assert_double_gt(fabs(from_qpos - from_xpos), 1e-4);
    contrl_env_close(&env);
}
END_TEST

START_TEST(ant_terminates_above_z_1_and_pays_healthy_reward)
{
    contrl_env env = make("ant");
    const mjModel *m = contrl_mj_env_model(&env);
    const mjData *d = contrl_mj_env_data(&env);
    float obs[MAX_OBS];
    ck_assert_int_eq(contrl_env_reset(&env, 3, obs), CONTRL_OK);
    double q[15], v[14] = {0};
    memcpy(q, m->qpos0, sizeof q);
    q[2] = 1.2;
    set_state(&env, q, v);
    float a[8] = {0};
    ck_assert(ant_step_checked(&env, a, 0, NULL));
    ck_assert_double_gt(d->qpos[2], 1.0);
    contrl_env_close(&env);
}
END_TEST

START_TEST(ant_terminates_below_z_0_2_and_pays_healthy_reward)
{
    /* The floor holds the torso sphere (radius 0.25) above 0.2 unless it is
     * rammed in: here at 80 m/s from z = 0.2. */
    contrl_env env = make("ant");
    const mjModel *m = contrl_mj_env_model(&env);
    const mjData *d = contrl_mj_env_data(&env);
    float obs[MAX_OBS];
    ck_assert_int_eq(contrl_env_reset(&env, 3, obs), CONTRL_OK);
    double q[15], v[14] = {0};
    memcpy(q, m->qpos0, sizeof q);
    q[2] = 0.2;
    v[2] = -80.0;
    set_state(&env, q, v);
    float a[8] = {0};
    ck_assert(ant_step_checked(&env, a, 0, NULL));
    ck_assert_double_lt(d->qpos[2], 0.2);
    contrl_env_close(&env);
}
END_TEST

START_TEST(ant_truncates_at_1000_steps)
{
    check_truncates_at("ant", 1000);
}
END_TEST

/* ---- Humanoid-v4 ------------------------------------------------------------- */

/* Gymnasium's mass_center(): x of sum(body_mass * xipos) / sum(body_mass). */
static double humanoid_mass_centre_x(const mjModel *m, const mjData *d)
{
    double mx = 0.0, mass = 0.0;
    for (int i = 0; i < m->nbody; i++) {
        mx += m->body_mass[i] * d->xipos[3 * i];
        mass += m->body_mass[i];
    }
    return mx / mass;
}

/* One Humanoid-v4 step checked by hand: reward = 1.25 vx - 0.1 |a|^2 + 5
 * with vx of the mass centre from xipos as mjData holds it (dt 0.015), the 5
 * paid also when the step terminates; healthy 1 < qpos[2] < 2; obs =
 * qpos[2:], qvel, cinert, cvel, qfrc_actuator, cfrc_ext, the per-body
 * arrays whole (world body included). Returns terminated. */
static bool humanoid_step_checked(contrl_env *env, const float *a, int step)
{
    const mjModel *m = contrl_mj_env_model(env);
    const mjData *d = contrl_mj_env_data(env);
    const double x_before = humanoid_mass_centre_x(m, d), t_before = d->time;
    float obs[MAX_OBS], r;
    bool term, trunc;
    ck_assert_int_eq(contrl_env_step(env, a, obs, &r, &term, &trunc), CONTRL_OK);
    assert_close(d->time - t_before, 0.015, 1e-12, "humanoid dt", step);
    const double vx = (humanoid_mass_centre_x(m, d) - x_before) / 0.015;
    assert_close(r, 1.25 * vx - 0.1 * sum_sq(a, 17) + 5.0, 1e-6, "humanoid reward", step);
    ck_assert_msg(term == !(d->qpos[2] > 1.0 && d->qpos[2] < 2.0),
                  "step %d: humanoid terminated = %d at z = %g", step, term, d->qpos[2]);
    struct {
        const mjtNum *src;
        int n;
        const char *what;
    } parts[] = {
        {d->qpos + 2, 22, "qpos[2:]"},      {d->qvel, 23, "qvel"},
        {d->cinert, 140, "cinert"},         {d->cvel, 84, "cvel"},
        {d->qfrc_actuator, 23, "qfrc_actuator"}, {d->cfrc_ext, 84, "cfrc_ext"},
    };
    int k = 0;
    for (size_t p = 0; p < sizeof parts / sizeof parts[0]; p++)
        for (int i = 0; i < parts[p].n; i++, k++)
            assert_close(obs[k], parts[p].src[i], 1e-6, parts[p].what, step);
    ck_assert_int_eq(k, 376);
    return term;
}

static bool humanoid_step_checked_fn(contrl_env *env, const float *a, int step)
{
    return humanoid_step_checked(env, a, step);
}

START_TEST(humanoid_has_376_observations_and_17_actions_in_minus0_4_0_4)
{
    contrl_env env = make("Humanoid-v4");
    ck_assert_uint_eq(env.obs_dim, 376);
    ck_assert_uint_eq(env.action_dim, 17);
    for (int i = 0; i < 17; i++) {
        ck_assert_float_eq(env.action_low[i], -0.4f);
        ck_assert_float_eq(env.action_high[i], 0.4f);
    }
    ck_assert_uint_eq(env.max_episode_steps, 1000);
    contrl_env_close(&env);
}
END_TEST

START_TEST(humanoid_model_has_gymnasium_dofs_and_mass)
{
    contrl_env env = make("humanoid");
    const mjModel *m = contrl_mj_env_model(&env);
    /* Gymnasium assets/humanoid.xml in MuJoCo 2.2.2: nq 24, nv 23, nu 17,
     * nbody 14 (world + 13), total mass 42.116030492129887. */
    ck_assert_int_eq(m->nq, 24);
    ck_assert_int_eq(m->nv, 23);
    ck_assert_int_eq(m->nu, 17);
    ck_assert_int_eq(m->nbody, 14);
    ck_assert_double_eq_tol(total_mass(m), 42.116030492129887, 1e-12);
    ck_assert_double_eq(m->opt.timestep, 0.003);
    ck_assert_int_eq(m->opt.integrator, mjINT_RK4);
    ck_assert_int_eq(m->opt.solver, mjSOL_PGS);
    ck_assert_int_eq(m->opt.iterations, 50);
    /* gears in action order: abdomen y z x, right hip x z y, knee, left
     * hip x z y, knee, then the arms */
    const double gear[17] = {100, 100, 100, 100, 100, 300, 200, 100, 100,
                             300, 200, 25,  25,  25,  25,  25,  25};
    for (int i = 0; i < 17; i++)
        ck_assert_double_eq(m->actuator_gear[6 * i], gear[i]);
    contrl_env_close(&env);
}
END_TEST

START_TEST(humanoid_reset_is_seeded_uniform_noise_of_1e2)
{
    /* mj_forward normalises the noisy quaternion in qpos (an entry may move
     * up to 0.01 / 0.99 from qpos0): bound 0.011 */
    check_seeded_reset("humanoid", 0.011, 0.01);
}
END_TEST

START_TEST(humanoid_reward_observation_and_termination_match_hand_computation_over_an_episode)
{
    int n = check_random_episode("humanoid", 45, humanoid_step_checked_fn);
    ck_assert_int_gt(n, 10);
}
END_TEST

START_TEST(humanoid_observes_contact_forces_once_the_feet_land)
{
    /* cfrc_ext is computed only by mj_rnePostConstraint: once the feet
     * touch the floor its rows in the observation are non-zero. The world
     * body's rows of cinert/cvel/cfrc_ext are in the observation, zero. */
    contrl_env env = make("humanoid");
    float obs[MAX_OBS], a[MAX_ACT] = {0}, r;
    bool term = false, trunc = false;
    ck_assert_int_eq(contrl_env_reset(&env, 9, obs), CONTRL_OK);
    double max_ext = 0.0;
    for (int t = 0; t < 30 && !term; t++) {
        ck_assert_int_eq(contrl_env_step(&env, a, obs, &r, &term, &trunc), CONTRL_OK);
        for (int i = 0; i < 10; i++)
            ck_assert_float_eq(obs[45 + i], 0.0f); /* world cinert */
        for (int i = 0; i < 6; i++) {
            ck_assert_float_eq(obs[185 + i], 0.0f); /* world cvel */
            ck_assert_float_eq(obs[292 + i], 0.0f); /* world cfrc_ext */
        }
        for (int i = 298; i < 376; i++)
            max_ext = fmax(max_ext, fabs(obs[i]));
    }
    ck_assert_double_gt(max_ext, 1.0);
    contrl_env_close(&env);
}
END_TEST

START_TEST(humanoid_forward_velocity_is_the_mass_centre_s_not_the_torso_s)
{
    /* Legs swinging forward under a torso at rest: the mass centre moves,
     * the torso hardly does; the reward follows the mass centre. */
    contrl_env env = make("humanoid");
    const mjModel *m = contrl_mj_env_model(&env);
    const mjData *d = contrl_mj_env_data(&env);
    float obs[MAX_OBS];
    ck_assert_int_eq(contrl_env_reset(&env, 2, obs), CONTRL_OK);
    double q[24], v[23] = {0};
    memcpy(q, m->qpos0, sizeof q);
    v[m->jnt_dofadr[mj_name2id(m, mjOBJ_JOINT, "right_hip_y")]] = -8.0;
    v[m->jnt_dofadr[mj_name2id(m, mjOBJ_JOINT, "left_hip_y")]] = -8.0;
    set_state(&env, q, v);
    const int torso = mj_name2id(m, mjOBJ_BODY, "torso");
    const double torso_before = d->xipos[3 * torso];
    const double com_before = humanoid_mass_centre_x(m, d);
    float a[17] = {0};
    ck_assert(!humanoid_step_checked(&env, a, 0)); /* the reward from the mass centre */
    const double torso_vx = (d->xipos[3 * torso] - torso_before) / 0.015;
    const double com_vx = (humanoid_mass_centre_x(m, d) - com_before) / 0.015;
    /* a reward from the torso would differ by far more than the tolerance */
    ck_assert_double_gt(1.25 * fabs(com_vx - torso_vx), 0.1);
    contrl_env_close(&env);
}
END_TEST

START_TEST(humanoid_terminates_above_z_2_and_pays_healthy_reward)
{
    contrl_env env = make("humanoid");
    const mjModel *m = contrl_mj_env_model(&env);
    const mjData *d = contrl_mj_env_data(&env);
    float obs[MAX_OBS];
    ck_assert_int_eq(contrl_env_reset(&env, 2, obs), CONTRL_OK);
    double q[24], v[23] = {0};
    memcpy(q, m->qpos0, sizeof q);
    q[2] = 2.2;
    set_state(&env, q, v);
    float a[17] = {0};
    ck_assert(humanoid_step_checked(&env, a, 0));
    ck_assert_double_gt(d->qpos[2], 2.0);
    contrl_env_close(&env);
}
END_TEST

START_TEST(humanoid_truncates_at_1000_steps)
{
    check_truncates_at("humanoid", 1000);
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

    tc = tcase_create("walker2d");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, walker2d_has_17_observations_and_6_actions_in_minus1_1);
    tcase_add_test(tc, walker2d_model_has_gymnasium_dofs_and_mass);
    tcase_add_test(tc, walker2d_reset_is_seeded_uniform_noise_of_5e3);
    tcase_add_test(tc, walker2d_reward_and_termination_match_hand_computation_over_an_episode);
    tcase_add_test(tc, walker2d_has_no_speed_limit_and_clips_observed_velocity_at_10);
    tcase_add_test(tc, walker2d_terminates_on_pitch_beyond_1_and_pays_healthy_reward);
    tcase_add_test(tc, walker2d_terminates_above_z_2_and_pays_healthy_reward);
    tcase_add_test(tc, walker2d_terminates_below_z_0_8_and_pays_healthy_reward);
    tcase_add_test(tc, walker2d_truncates_at_1000_steps);
    suite_add_tcase(s, tc);

    tc = tcase_create("ant");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, ant_has_27_observations_and_8_actions_in_minus1_1);
    tcase_add_test(tc, ant_model_has_gymnasium_dofs_and_mass);
    tcase_add_test(tc, ant_reset_is_seeded);
    tcase_add_test(tc, ant_reset_noise_is_uniform_on_qpos_and_normal_on_qvel);
    tcase_add_test(tc, ant_reward_and_termination_match_hand_computation_over_300_steps);
    tcase_add_test(tc, ant_forward_velocity_reads_torso_xpos_as_left_by_mj_step);
    tcase_add_test(tc, ant_terminates_above_z_1_and_pays_healthy_reward);
    tcase_add_test(tc, ant_terminates_below_z_0_2_and_pays_healthy_reward);
    tcase_add_test(tc, ant_truncates_at_1000_steps);
    suite_add_tcase(s, tc);

    tc = tcase_create("humanoid");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, humanoid_has_376_observations_and_17_actions_in_minus0_4_0_4);
    tcase_add_test(tc, humanoid_model_has_gymnasium_dofs_and_mass);
    tcase_add_test(tc, humanoid_reset_is_seeded_uniform_noise_of_1e2);
    tcase_add_test(tc,
                   humanoid_reward_observation_and_termination_match_hand_computation_over_an_episode);
    tcase_add_test(tc, humanoid_observes_contact_forces_once_the_feet_land);
    tcase_add_test(tc, humanoid_forward_velocity_is_the_mass_centre_s_not_the_torso_s);
    tcase_add_test(tc, humanoid_terminates_above_z_2_and_pays_healthy_reward);
    tcase_add_test(tc, humanoid_truncates_at_1000_steps);
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
