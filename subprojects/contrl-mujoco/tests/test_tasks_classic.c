/* tests/test_tasks_classic.c - the built-in tasks InvertedPendulum,
 * InvertedDoublePendulum, Reacher, Swimmer and HalfCheetah against
 * Gymnasium's v4 definitions (docs/mujoco.md).
 *
 * Public API only. Every expected figure is written out again here, from
 * Gymnasium's task code and from measurements of Gymnasium's own model
 * files (described where they are used): nothing is shared with the
 * library. Steps are checked against a bare MuJoCo copy of the env's state
 * stepped by this file, and rewards and observations recomputed in double
 * from the mjData values. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mujoco/mujoco.h>

#include "contrl/contrl.h"
#include "contrl/mujoco.h"

/* ---- helpers ------------------------------------------------------------ */

static contrl_env make_env(const char *name)
{
    contrl_env env;
    contrl_status st = contrl_mj_make(name, NULL, &env);
    ck_assert_msg(st == CONTRL_OK, "contrl_mj_make(%s): %s", name, contrl_last_error());
    return env;
}

/* |got - want| <= tol * max(1, |want|): observations and rewards are
 * float32, so 1e-6 covers their rounding (6e-8 relative) with room. */
static void assert_close(double got, double want, double tol, const char *what)
{
    double scale = fabs(want) > 1.0 ? fabs(want) : 1.0;
    ck_assert_msg(fabs(got - want) <= tol * scale, "%s = %.9g, want %.9g", what, got, want);
}

static void assert_obs(const float *obs, const double *want, uint32_t n)
{
    char what[32];
    for (uint32_t i = 0; i < n; i++) {
        snprintf(what, sizeof what, "obs[%u]", i);
        assert_close(obs[i], want[i], 1e-6, what);
    }
}

static double total_mass(const mjModel *m)
{
    double s = 0.0;
    for (int i = 0; i < m->nbody; i++)
        s += m->body_mass[i];
    return s;
}

/* The figures of Gymnasium's model file, measured by loading it with
 * MuJoCo 2.2.2 (mj_loadXML) and summing body_mass. */
static void assert_model_figures(const contrl_env *env, int nq, int nv, int nu, int nbody,
                                 double mass, double timestep, int integrator)
{
    const mjModel *m = contrl_mj_env_model(env);
    ck_assert_ptr_nonnull(m);
    ck_assert_int_eq(m->nq, nq);
    ck_assert_int_eq(m->nv, nv);
    ck_assert_int_eq(m->nu, nu);
    ck_assert_int_eq(m->nbody, nbody);
    ck_assert_msg(fabs(total_mass(m) - mass) <= 1e-9 * mass, "total mass %.12g, want %.12g",
                  total_mass(m), mass);
    ck_assert(m->opt.timestep == timestep);
    ck_assert_int_eq(m->opt.integrator, integrator);
}

static void assert_shape(const contrl_env *env, const char *name, uint32_t obs_dim,
                         uint32_t action_dim, float low, float high, uint32_t max_steps)
{
    ck_assert_int_eq(contrl_env_check(env), CONTRL_OK);
    ck_assert_str_eq(env->name, name);
    ck_assert_uint_eq(env->obs_dim, obs_dim);
    ck_assert_uint_eq(env->action_dim, action_dim);
    for (uint32_t i = 0; i < action_dim; i++)
        ck_assert(env->action_low[i] == low && env->action_high[i] == high);
    ck_assert_uint_eq(env->max_episode_steps, max_steps);
}

/* A bare copy of the env's current state, to be stepped by hand. */
typedef struct bare {
    const mjModel *m;
    mjData *d;
} bare;

static bare bare_copy(contrl_env *env)
{
    bare b = {contrl_mj_env_model(env), NULL};
    b.d = mj_makeData(b.m);
    ck_assert_ptr_nonnull(b.d);
    mj_copyData(b.d, b.m, contrl_mj_env_data(env));
    return b;
}

/* What the env should do with `action`: ctrl = action, mj_step frame_skip
 * times, nothing else that touches the state. */
static void bare_step(bare *b, const float *action, int frame_skip)
{
    for (int i = 0; i < b->m->nu; i++)
        b->d->ctrl[i] = action[i];
    for (int k = 0; k < frame_skip; k++)
        mj_step(b->m, b->d);
}

/* The env's state equals the bare copy's, bit for bit. */
static void assert_same_state(contrl_env *env, const bare *b)
{
    const mjData *d = contrl_mj_env_data(env);
    ck_assert(d->time == b->d->time);
    for (int i = 0; i < b->m->nq; i++)
        ck_assert_msg(d->qpos[i] == b->d->qpos[i], "qpos[%d] %.17g vs bare %.17g", i, d->qpos[i],
                      b->d->qpos[i]);
    for (int i = 0; i < b->m->nv; i++)
        ck_assert_msg(d->qvel[i] == b->d->qvel[i], "qvel[%d] %.17g vs bare %.17g", i, d->qvel[i],
                      b->d->qvel[i]);
}

static void bare_free(bare *b)
{
    mj_deleteData(b->d);
    b->d = NULL;
}

/* Set the env's state (qpos, qvel; NULL leaves it) and recompute the
 * derived quantities, as a test may. */
static void set_state(contrl_env *env, const double *qpos, const double *qvel)
{
    const mjModel *m = contrl_mj_env_model(env);
    mjData *d = contrl_mj_env_data(env);
    if (qpos != NULL)
        memcpy(d->qpos, qpos, (size_t)m->nq * sizeof(double));
    if (qvel != NULL)
        memcpy(d->qvel, qvel, (size_t)m->nv * sizeof(double));
    mj_forward(m, d);
}

static void assert_reset_is_seeded(const char *name)
{
    contrl_env env = make_env(name);
    const mjModel *m = contrl_mj_env_model(&env);
    mjData *d = contrl_mj_env_data(&env);
    const int n = m->nq + m->nv;
    double *s1 = malloc((size_t)n * sizeof(double)), *s2 = malloc((size_t)n * sizeof(double));
    float *o1 = malloc(env.obs_dim * sizeof(float)), *o2 = malloc(env.obs_dim * sizeof(float));
    ck_assert(s1 && s2 && o1 && o2);

    ck_assert_int_eq(contrl_env_reset(&env, 7, o1), CONTRL_OK);
    memcpy(s1, d->qpos, (size_t)m->nq * sizeof(double));
    memcpy(s1 + m->nq, d->qvel, (size_t)m->nv * sizeof(double));
    float a[8] = {0};
    float r;
    bool term, trunc;
    ck_assert_int_eq(contrl_env_step(&env, a, o2, &r, &term, &trunc), CONTRL_OK);
    ck_assert_int_eq(contrl_env_reset(&env, 7, o2), CONTRL_OK);
    memcpy(s2, d->qpos, (size_t)m->nq * sizeof(double));
    memcpy(s2 + m->nq, d->qvel, (size_t)m->nv * sizeof(double));
    ck_assert_mem_eq(s1, s2, (size_t)n * sizeof(double));
    ck_assert_mem_eq(o1, o2, env.obs_dim * sizeof(float));
    ck_assert(d->time == 0.0);

    ck_assert_int_eq(contrl_env_reset(&env, 8, o2), CONTRL_OK);
    memcpy(s2, d->qpos, (size_t)m->nq * sizeof(double));
    memcpy(s2 + m->nq, d->qvel, (size_t)m->nv * sizeof(double));
    ck_assert(memcmp(s1, s2, (size_t)n * sizeof(double)) != 0);
    ck_assert(memcmp(o1, o2, env.obs_dim * sizeof(float)) != 0);
    free(s1);
    free(s2);
    free(o1);
    free(o2);
    contrl_env_close(&env);
}

/* Moments of the reset noise over many seeds: the largest |noise| and the
 * standard deviation of qpos - qpos0 (entries from `qpos_from`) and of
 * qvel (entries from `qvel_from`, up to qvel_to). */
typedef struct noise_stats {
    double qpos_max, qpos_sd, qvel_max, qvel_sd;
} noise_stats;

static noise_stats reset_noise(const char *name, int qpos_from, int qpos_to, int qvel_from,
                               int qvel_to, int resets)
{
    contrl_env env = make_env(name);
    const mjModel *m = contrl_mj_env_model(&env);
    const mjData *d = contrl_mj_env_data(&env);
    float obs[64];
    ck_assert_uint_le(env.obs_dim, 64);
    noise_stats s = {0, 0, 0, 0};
    double sp = 0.0, sv = 0.0;
    long np = 0, nv = 0;
    for (int k = 0; k < resets; k++) {
        ck_assert_int_eq(contrl_env_reset(&env, 1000 + (uint64_t)k, obs), CONTRL_OK);
        for (int i = qpos_from; i < qpos_to; i++) {
            double x = d->qpos[i] - m->qpos0[i];
            s.qpos_max = fmax(s.qpos_max, fabs(x));
            sp += x * x;
            np++;
        }
        for (int i = qvel_from; i < qvel_to; i++) {
            s.qvel_max = fmax(s.qvel_max, fabs(d->qvel[i]));
            sv += d->qvel[i] * d->qvel[i];
            nv++;
        }
    }
    s.qpos_sd = np > 0 ? sqrt(sp / (double)np) : 0.0;
    s.qvel_sd = nv > 0 ? sqrt(sv / (double)nv) : 0.0;
    contrl_env_close(&env);
    return s;
}

/* Uniform(-a, a) has standard deviation a / sqrt(3); with >= 1000 samples
 * the estimate is within 5% (its relative s.e. is about 2.2% at 1000). */
static void assert_uniform(double max, double sd, double a, const char *what)
{
    ck_assert_msg(max <= a && max > 0.9 * a, "%s: largest |noise| %g, want <= %g", what, max, a);
    ck_assert_msg(fabs(sd / (a / sqrt(3.0)) - 1.0) < 0.05, "%s: sd %g, want %g", what, sd,
                  a / sqrt(3.0));
}

/* scale * N(0, 1): sd within 5%, and values beyond the uniform range. */
static void assert_normal(double max, double sd, double scale, const char *what)
{
    ck_assert_msg(max > 2.0 * scale, "%s: largest |noise| %g, want > 2 sd", what, max);
    ck_assert_msg(fabs(sd / scale - 1.0) < 0.05, "%s: sd %g, want %g", what, sd, scale);
}

/* Step with `action` until the episode ends or `limit` steps; returns the
 * number of steps taken; *truncated / *terminated as at the last step.
 * `hold` (when not NULL) puts the env back in that state (qpos then qvel)
 * before every step, so that a falling system lives as long as needed. */
static uint32_t run(contrl_env *env, const float *action, uint32_t limit, const double *hold,
                    bool *terminated, bool *truncated)
{
    const mjModel *m = contrl_mj_env_model(env);
    float obs[64], r;
    ck_assert_uint_le(env->obs_dim, 64);
    uint32_t t = 0;
    *terminated = *truncated = false;
    while (t < limit && !*terminated && !*truncated) {
        if (hold != NULL)
            set_state(env, hold, hold + m->nq);
        ck_assert_int_eq(contrl_env_step(env, action, obs, &r, terminated, truncated), CONTRL_OK);
        t++;
    }
    return t;
}

/* Random actions within the bounds, from a seeded generator. */
static void random_action(const contrl_env *env, contrl_rng *rng, float *a)
{
    for (uint32_t i = 0; i < env->action_dim; i++)
        a[i] = env->action_low[i] +
               (env->action_high[i] - env->action_low[i]) * contrl_rng_uniform(rng);
}

/* The locomotion rule of HalfCheetah and Swimmer, checked over `steps`
 * random steps: the state advances as frame_skip bare mj_steps, obs =
 * [qpos[obs_from:], qvel], reward = (qpos[0] after - before) / dt -
 * ctrl_weight |a|^2, never terminated. */
static void assert_locomotion_steps(const char *name, int frame_skip, double dt,
                                    double ctrl_weight, int obs_from, int steps)
{
    contrl_env env = make_env(name);
    const mjModel *m = contrl_mj_env_model(&env);
    const mjData *d = contrl_mj_env_data(&env);
    ck_assert(fabs(m->opt.timestep * frame_skip - dt) < 1e-15);
    float obs[64], a[8], r;
    double want[64];
    bool term, trunc;
    contrl_rng rng;
    contrl_rng_seed(&rng, 99);
    ck_assert_int_eq(contrl_env_reset(&env, 11, obs), CONTRL_OK);
    for (int t = 0; t < steps; t++) {
        random_action(&env, &rng, a);
        bare b = bare_copy(&env);
        const double x_before = d->qpos[0];
        bare_step(&b, a, frame_skip);
        ck_assert_int_eq(contrl_env_step(&env, a, obs, &r, &term, &trunc), CONTRL_OK);
        assert_same_state(&env, &b);
        int k = 0;
        for (int i = obs_from; i < m->nq; i++)
            want[k++] = b.d->qpos[i];
        for (int i = 0; i < m->nv; i++)
            want[k++] = b.d->qvel[i];
        ck_assert_int_eq(k, (int)env.obs_dim);
        assert_obs(obs, want, env.obs_dim);
        double cost = 0.0;
        for (int i = 0; i < m->nu; i++)
            cost += (double)a[i] * a[i];
        assert_close(r, (b.d->qpos[0] - x_before) / dt - ctrl_weight * cost, 1e-6, "reward");
        ck_assert(!term && !trunc);
        bare_free(&b);
    }
    contrl_env_close(&env);
}

/* Random actions to the time limit: never terminated, truncated exactly at
 * max_steps. */
static void assert_truncates_at(const char *name, uint32_t max_steps)
{
    contrl_env env = make_env(name);
    float obs[64], a[8], r;
    bool term = false, trunc = false;
    contrl_rng rng;
    contrl_rng_seed(&rng, 5);
    ck_assert_int_eq(contrl_env_reset(&env, 4, obs), CONTRL_OK);
    uint32_t t = 0;
    while (!term && !trunc && t < 2 * max_steps) {
        random_action(&env, &rng, a);
        ck_assert_int_eq(contrl_env_step(&env, a, obs, &r, &term, &trunc), CONTRL_OK);
        t++;
    }
    ck_assert_uint_eq(t, max_steps);
    ck_assert(trunc && !term);
    ck_assert_int_eq(contrl_env_step(&env, a, obs, &r, &term, &trunc), CONTRL_ERR_STATE);
    ck_assert_uint_eq(contrl_mj_env_unstable_count(&env), 0);
    contrl_env_close(&env);
}

/* ---- InvertedPendulum-v4 ------------------------------------------------ */

START_TEST(invertedpendulum_has_4_obs_and_a_cart_force_in_plus_minus_3)
{
    contrl_env env = make_env("InvertedPendulum-v4");
    assert_shape(&env, "invertedpendulum", 4, 1, -3.0f, 3.0f, 1000);
    const mjModel *m = contrl_mj_env_model(&env);
    ck_assert(m->actuator_gear[0] == 100.0);
    contrl_env_close(&env);
}
END_TEST

START_TEST(invertedpendulum_model_has_gymnasium_mass_and_dofs)
{
    /* inverted_pendulum.xml: cart 10.471975512, pole 5.01859164136. */
    contrl_env env = make_env("invertedpendulum");
    assert_model_figures(&env, 2, 2, 1, 3, 15.490567153329286, 0.02, mjINT_RK4);
    contrl_env_close(&env);
}
END_TEST

START_TEST(invertedpendulum_reset_is_seeded_with_uniform_0_01_noise)
{
    assert_reset_is_seeded("invertedpendulum");
    noise_stats s = reset_noise("invertedpendulum", 0, 2, 0, 2, 500);
    assert_uniform(s.qpos_max, s.qpos_sd, 0.01, "qpos");
    assert_uniform(s.qvel_max, s.qvel_sd, 0.01, "qvel");
}
END_TEST

START_TEST(invertedpendulum_step_is_two_substeps_observing_qpos_and_qvel_with_reward_1)
{
    contrl_env env = make_env("invertedpendulum");
    const mjData *d = contrl_mj_env_data(&env);
    float obs[4], r;
    bool term, trunc;
    ck_assert_int_eq(contrl_env_reset(&env, 3, obs), CONTRL_OK);
    double want[4] = {d->qpos[0], d->qpos[1], d->qvel[0], d->qvel[1]};
    assert_obs(obs, want, 4);
    const float actions[3][1] = {{2.5f}, {-3.0f}, {0.7f}};
    for (int t = 0; t < 3; t++) {
        bare b = bare_copy(&env);
        bare_step(&b, actions[t], 2);
        ck_assert_int_eq(contrl_env_step(&env, actions[t], obs, &r, &term, &trunc), CONTRL_OK);
        assert_same_state(&env, &b);
        ck_assert(fabs(d->time - 0.04 * (t + 1)) < 1e-12);
        double w[4] = {b.d->qpos[0], b.d->qpos[1], b.d->qvel[0], b.d->qvel[1]};
        assert_obs(obs, w, 4);
        ck_assert(r == 1.0f);
        ck_assert(!term && !trunc);
        bare_free(&b);
    }
    contrl_env_close(&env);
}
END_TEST

START_TEST(invertedpendulum_terminates_beyond_0_2_rad_and_still_pays_1)
{
    contrl_env env = make_env("invertedpendulum");
    const mjData *d = contrl_mj_env_data(&env);
    float obs[4], r, a[1] = {0.0f};
    bool term, trunc;
    /* Leaning 0.19 rad at rest: after 0.04 s still inside. */
    ck_assert_int_eq(contrl_env_reset(&env, 1, obs), CONTRL_OK);
    const double inside[2] = {0.0, 0.19}, rest[2] = {0.0, 0.0};
    set_state(&env, inside, rest);
    ck_assert_int_eq(contrl_env_step(&env, a, obs, &r, &term, &trunc), CONTRL_OK);
    ck_assert(fabs(d->qpos[1]) <= 0.2);
    ck_assert(!term && !trunc && r == 1.0f);
    /* Falling from there with a push the wrong way: the first step past
     * 0.2 rad (either side) terminates and is paid 1. */
    a[0] = -3.0f;
    uint32_t t = 1;
    do {
        ck_assert_int_eq(contrl_env_step(&env, a, obs, &r, &term, &trunc), CONTRL_OK);
        ck_assert(r == 1.0f);
        ck_assert_msg(term == (fabs(d->qpos[1]) > 0.2), "step %u: angle %g, terminated %d", t,
                      d->qpos[1], term);
        t++;
    } while (!term && t < 50);
    ck_assert(term && !trunc);
    /* An unhealthy start on the other side ends at the first step. */
    ck_assert_int_eq(contrl_env_reset(&env, 1, obs), CONTRL_OK);
    const double outside[2] = {0.0, -0.25};
    set_state(&env, outside, rest);
    a[0] = 0.0f;
    ck_assert_int_eq(contrl_env_step(&env, a, obs, &r, &term, &trunc), CONTRL_OK);
    ck_assert(term && !trunc && r == 1.0f);
    contrl_env_close(&env);
}
END_TEST

START_TEST(invertedpendulum_truncates_at_1000_steps)
{
    contrl_env env = make_env("invertedpendulum");
    float obs[4], a[1] = {0.0f};
    bool term, trunc;
    ck_assert_int_eq(contrl_env_reset(&env, 5, obs), CONTRL_OK);
    const double upright[4] = {0.0, 0.0, 0.0, 0.0};
    ck_assert_uint_eq(run(&env, a, 2000, upright, &term, &trunc), 1000);
    ck_assert(trunc && !term);
    contrl_env_close(&env);
}
END_TEST

/* ---- InvertedDoublePendulum-v4 ------------------------------------------ */

static double clip10(double v)
{
    return fmin(fmax(v, -10.0), 10.0);
}

/* Gymnasium's observation, from the data of a bare copy. */
static void idp_obs(const mjData *d, double *want)
{
    want[0] = d->qpos[0];
    want[1] = sin(d->qpos[1]);
    want[2] = sin(d->qpos[2]);
    want[3] = cos(d->qpos[1]);
    want[4] = cos(d->qpos[2]);
    for (int i = 0; i < 3; i++) {
        want[5 + i] = clip10(d->qvel[i]);
        want[8 + i] = clip10(d->qfrc_constraint[i]);
    }
}

/* Gymnasium's reward from a tip position (x, _, y) and the pole speeds. */
static double idp_reward(const double *tip, const double *qvel)
{
    double x = tip[0], y = tip[2];
    return 10.0 - (0.01 * x * x + (y - 2.0) * (y - 2.0)) -
           (1e-3 * qvel[1] * qvel[1] + 5e-3 * qvel[2] * qvel[2]);
}

START_TEST(inverteddoublependulum_has_11_obs_and_a_cart_force_in_plus_minus_1)
{
    contrl_env env = make_env("InvertedDoublePendulum-v4");
    assert_shape(&env, "inverteddoublependulum", 11, 1, -1.0f, 1.0f, 1000);
    const mjModel *m = contrl_mj_env_model(&env);
    ck_assert(m->actuator_gear[0] == 500.0);
    ck_assert(m->opt.gravity[0] == 1e-5 && m->opt.gravity[2] == -9.81);
    contrl_env_close(&env);
}
END_TEST

START_TEST(inverteddoublependulum_model_has_gymnasium_mass_and_dofs)
{
    /* inverted_double_pendulum.xml: cart 10.471975512, each pole
     * 4.19873858152. */
    contrl_env env = make_env("inverteddoublependulum");
    assert_model_figures(&env, 3, 3, 1, 4, 18.869452675011495, 0.01, mjINT_RK4);
    contrl_env_close(&env);
}
END_TEST

START_TEST(inverteddoublependulum_reset_is_seeded_with_uniform_qpos_and_normal_qvel_noise)
{
    assert_reset_is_seeded("inverteddoublependulum");
    noise_stats s = reset_noise("inverteddoublependulum", 0, 3, 0, 3, 400);
    assert_uniform(s.qpos_max, s.qpos_sd, 0.1, "qpos");
    assert_normal(s.qvel_max, s.qvel_sd, 0.1, "qvel");
}
END_TEST

START_TEST(inverteddoublependulum_observes_clipped_speeds_and_constraint_forces)
{
    contrl_env env = make_env("inverteddoublependulum");
    float obs[11], r, a[1] = {1.0f};
    double want[11];
    bool term, trunc;
    ck_assert_int_eq(contrl_env_reset(&env, 2, obs), CONTRL_OK);
    /* The cart running into its +1 m limit, the upper pole spinning fast:
     * both clips act. */
    const double qpos[3] = {0.99, 0.05, -0.1}, qvel[3] = {3.0, 0.5, -14.0};
    set_state(&env, qpos, qvel);
    bare b = bare_copy(&env);
    bare_step(&b, a, 5);
    ck_assert_int_eq(contrl_env_step(&env, a, obs, &r, &term, &trunc), CONTRL_OK);
    assert_same_state(&env, &b);
    idp_obs(b.d, want);
    assert_obs(obs, want, 11);
    ck_assert(fabs(b.d->qfrc_constraint[0]) > 10.0 && fabs(obs[8]) == 10.0f);
    ck_assert(fabs(b.d->qvel[2]) > 10.0 && fabs(obs[7]) == 10.0f);
    bare_free(&b);
    contrl_env_close(&env);
}
END_TEST

/* With RK4, mj_step leaves site_xpos at its last Runge-Kutta stage, not
 * at the new state; Gymnasium reads it so. The difference is small (O(dt^2)
 * in position), so this state is a fast one and the reward is compared to
 * 1.5e-6 (the float rounding of a reward near 8 is 4.8e-7). */
START_TEST(inverteddoublependulum_reward_reads_the_tip_as_mj_step_leaves_it)
{
    contrl_env env = make_env("inverteddoublependulum");
    const mjModel *m = contrl_mj_env_model(&env);
    const int tip = mj_name2id(m, mjOBJ_SITE, "tip");
    ck_assert_int_ge(tip, 0);
    float obs[11], r, a[1] = {1.0f};
    bool term, trunc;
    ck_assert_int_eq(contrl_env_reset(&env, 9, obs), CONTRL_OK);
    const double qpos[3] = {0.0, 0.6, 0.4}, qvel[3] = {0.0, 8.0, -9.0};
    set_state(&env, qpos, qvel);
    bare b = bare_copy(&env);
    bare_step(&b, a, 5);
    ck_assert_int_eq(contrl_env_step(&env, a, obs, &r, &term, &trunc), CONTRL_OK);
    assert_same_state(&env, &b);
    const double stale = idp_reward(b.d->site_xpos + 3 * tip, b.d->qvel);
    ck_assert_msg(fabs(r - stale) <= 1.5e-6, "reward %.9g, want %.9g", r, stale);
    ck_assert(term == (b.d->site_xpos[3 * tip + 2] <= 1.0));
    /* The tip recomputed at the new state pays differently by more than
     * that tolerance: the test tells the two apart. */
    mj_kinematics(b.m, b.d);
    const double fresh = idp_reward(b.d->site_xpos + 3 * tip, b.d->qvel);
    ck_assert_msg(fabs(fresh - stale) > 1e-5, "stale %.9g fresh %.9g", stale, fresh);
    bare_free(&b);
    contrl_env_close(&env);
}
END_TEST

START_TEST(inverteddoublependulum_terminates_with_the_tip_at_or_below_1_and_pays_the_step)
{
    contrl_env env = make_env("inverteddoublependulum");
    const mjModel *m = contrl_mj_env_model(&env);
    const int tip = mj_name2id(m, mjOBJ_SITE, "tip");
    float obs[11], r, a[1] = {0.0f};
    bool term, trunc;
    ck_assert_int_eq(contrl_env_reset(&env, 1, obs), CONTRL_OK);
    /* Lower pole at 1.2 rad: the tip is near z = 1.2 cos 1.2 = 0.43. */
    const double fallen[3] = {0.0, 1.2, 0.0}, rest[3] = {0.0, 0.0, 0.0};
    set_state(&env, fallen, rest);
    bare b = bare_copy(&env);
    bare_step(&b, a, 5);
    ck_assert_int_eq(contrl_env_step(&env, a, obs, &r, &term, &trunc), CONTRL_OK);
    ck_assert(b.d->site_xpos[3 * tip + 2] <= 1.0);
    ck_assert(term && !trunc);
    assert_close(r, idp_reward(b.d->site_xpos + 3 * tip, b.d->qvel), 1e-6, "reward");
    ck_assert(r > 5.0f); /* the alive bonus is paid on the terminating step */
    bare_free(&b);

    /* Tilted so that the tip is just above 1 after the step (1.2 cos 0.45
     * = 1.08 at the start): not yet. */
    ck_assert_int_eq(contrl_env_reset(&env, 1, obs), CONTRL_OK);
    const double tilted[3] = {0.0, 0.45, 0.0};
    set_state(&env, tilted, rest);
    b = bare_copy(&env);
    bare_step(&b, a, 5);
    ck_assert_int_eq(contrl_env_step(&env, a, obs, &r, &term, &trunc), CONTRL_OK);
    ck_assert(b.d->site_xpos[3 * tip + 2] > 1.0);
    ck_assert(!term && !trunc);
    bare_free(&b);
    contrl_env_close(&env);
}
END_TEST

START_TEST(inverteddoublependulum_truncates_at_1000_steps)
{
    contrl_env env = make_env("inverteddoublependulum");
    float obs[11], a[1] = {0.0f};
    bool term, trunc;
    ck_assert_int_eq(contrl_env_reset(&env, 5, obs), CONTRL_OK);
    const double upright[6] = {0.0, 0.0, 0.0, 0.0, 0.0, 0.0};
    ck_assert_uint_eq(run(&env, a, 2000, upright, &term, &trunc), 1000);
    ck_assert(trunc && !term);
    contrl_env_close(&env);
}
END_TEST

/* ---- HalfCheetah-v4 ----------------------------------------------------- */

START_TEST(halfcheetah_has_17_obs_and_6_torques_in_plus_minus_1)
{
    contrl_env env = make_env("HalfCheetah-v4");
    assert_shape(&env, "halfcheetah", 17, 6, -1.0f, 1.0f, 1000);
    const mjModel *m = contrl_mj_env_model(&env);
    const double gear[6] = {120, 90, 60, 120, 60, 30};
    for (int i = 0; i < 6; i++)
        ck_assert(m->actuator_gear[6 * i] == gear[i]);
    contrl_env_close(&env);
}
END_TEST

START_TEST(halfcheetah_model_has_gymnasium_mass_and_dofs)
{
    /* half_cheetah.xml (settotalmass 14): torso 6.25020920502, bthigh
     * 1.54351464435, bshin 1.58744769874, bfoot 1.09539748954, fthigh
     * 1.43807531381, fshin 1.20083682008, ffoot 0.884518828452. */
    contrl_env env = make_env("halfcheetah");
    assert_model_figures(&env, 9, 9, 6, 8, 14.0, 0.01, mjINT_EULER);
    const mjModel *m = contrl_mj_env_model(&env);
    assert_close(m->body_mass[mj_name2id(m, mjOBJ_BODY, "torso")], 6.25020920502, 1e-10,
                 "torso mass");
    contrl_env_close(&env);
}
END_TEST

START_TEST(halfcheetah_reset_is_seeded_with_uniform_qpos_and_normal_qvel_noise)
{
    assert_reset_is_seeded("halfcheetah");
    noise_stats s = reset_noise("halfcheetah", 0, 9, 0, 9, 200);
    assert_uniform(s.qpos_max, s.qpos_sd, 0.1, "qpos");
    assert_normal(s.qvel_max, s.qvel_sd, 0.1, "qvel");
}
END_TEST

START_TEST(halfcheetah_reward_is_rootx_velocity_minus_0_1_ctrl_cost)
{
    assert_locomotion_steps("halfcheetah", 5, 0.05, 0.1, 1, 40);
}
END_TEST

START_TEST(halfcheetah_never_terminates_and_truncates_at_1000)
{
    assert_truncates_at("halfcheetah", 1000);
}
END_TEST

/* ---- Reacher-v4 --------------------------------------------------------- */

static void reacher_vec(const mjModel *m, const mjData *d, double *v)
{
    const int tip = mj_name2id(m, mjOBJ_BODY, "fingertip");
    const int target = mj_name2id(m, mjOBJ_BODY, "target");
    ck_assert(tip >= 0 && target >= 0);
    for (int i = 0; i < 3; i++)
        v[i] = d->xpos[3 * tip + i] - d->xpos[3 * target + i];
}

/* Gymnasium's observation, from the data of a bare copy. */
static void reacher_obs(const mjModel *m, const mjData *d, double *want)
{
    want[0] = cos(d->qpos[0]);
    want[1] = cos(d->qpos[1]);
    want[2] = sin(d->qpos[0]);
    want[3] = sin(d->qpos[1]);
    want[4] = d->qpos[2];
    want[5] = d->qpos[3];
    want[6] = d->qvel[0];
    want[7] = d->qvel[1];
    reacher_vec(m, d, want + 8);
}

START_TEST(reacher_has_11_obs_and_2_torques_in_plus_minus_1_for_50_steps)
{
    contrl_env env = make_env("Reacher-v4");
    assert_shape(&env, "reacher", 11, 2, -1.0f, 1.0f, 50);
    const mjModel *m = contrl_mj_env_model(&env);
    ck_assert(m->actuator_gear[0] == 200.0 && m->actuator_gear[6] == 200.0);
    contrl_env_close(&env);
}
END_TEST

START_TEST(reacher_model_has_gymnasium_mass_and_dofs)
{
    /* reacher.xml: links 0.0356047167407 each, fingertip 0.00418879020479,
     * target 0.00305362805929. */
    contrl_env env = make_env("reacher");
    assert_model_figures(&env, 4, 4, 2, 5, 0.07845185174544432, 0.01, mjINT_RK4);
    contrl_env_close(&env);
}
END_TEST

START_TEST(reacher_reset_puts_the_target_uniformly_in_a_0_2_disc_at_rest)
{
    assert_reset_is_seeded("reacher");
    contrl_env env = make_env("reacher");
    const mjModel *m = contrl_mj_env_model(&env);
    const mjData *d = contrl_mj_env_data(&env);
    float obs[11];
    double want[11];
    double r2_sum = 0.0, r_max = 0.0, arm_q = 0.0, arm_v = 0.0, arm_q_max = 0.0, arm_v_max = 0.0;
    int quadrant[4] = {0, 0, 0, 0};
    const int n = 600;
    for (int k = 0; k < n; k++) {
        ck_assert_int_eq(contrl_env_reset(&env, 500 + (uint64_t)k, obs), CONTRL_OK);
        const double gx = d->qpos[2], gy = d->qpos[3], r2 = gx * gx + gy * gy;
        r2_sum += r2;
        r_max = fmax(r_max, sqrt(r2));
        quadrant[(gx > 0) + 2 * (gy > 0)]++;
        ck_assert(d->qvel[2] == 0.0 && d->qvel[3] == 0.0);
        for (int i = 0; i < 2; i++) {
            double q = d->qpos[i] - m->qpos0[i];
            arm_q += q * q;
            arm_v += d->qvel[i] * d->qvel[i];
            arm_q_max = fmax(arm_q_max, fabs(q));
            arm_v_max = fmax(arm_v_max, fabs(d->qvel[i]));
        }
        /* The target body is where qpos says, on the arm's plane. */
        const int target = mj_name2id(m, mjOBJ_BODY, "target");
        assert_close(d->xpos[3 * target], gx, 1e-12, "target x");
        assert_close(d->xpos[3 * target + 1], gy, 1e-12, "target y");
        reacher_obs(m, d, want);
        assert_obs(obs, want, 11);
    }
    /* Uniform in the disc: |g| < 0.2 and E|g|^2 = 0.2^2 / 2 = 0.02 (the
     * sample mean of 600 has a 2.4% standard error; 10% allowed). */
    ck_assert_msg(r_max < 0.2 && r_max > 0.19, "largest |target| %g", r_max);
    ck_assert_msg(fabs(r2_sum / n / 0.02 - 1.0) < 0.1, "mean |target|^2 %g, want 0.02",
                  r2_sum / n);
    for (int q = 0; q < 4; q++)
        ck_assert_int_gt(quadrant[q], n / 8);
    assert_uniform(arm_q_max, sqrt(arm_q / (2 * n)), 0.1, "arm qpos");
    assert_uniform(arm_v_max, sqrt(arm_v / (2 * n)), 0.005, "arm qvel");
    contrl_env_close(&env);
}
END_TEST

START_TEST(reacher_reward_is_the_distance_before_the_step_plus_ctrl_cost)
{
    contrl_env env = make_env("reacher");
    const mjModel *m = contrl_mj_env_model(&env);
    const mjData *d = contrl_mj_env_data(&env);
    float obs[11], a[2], r;
    double want[11], before[3], after_alt[3];
    bool term, trunc;
    contrl_rng rng;
    contrl_rng_seed(&rng, 17);
    ck_assert_int_eq(contrl_env_reset(&env, 23, obs), CONTRL_OK);
    double largest_gap = 0.0;
    for (int t = 0; t < 10; t++) {
        random_action(&env, &rng, a);
        reacher_vec(m, d, before); /* xpos as the last mj_step left it */
        bare b = bare_copy(&env);
        bare_step(&b, a, 2);
        ck_assert_int_eq(contrl_env_step(&env, a, obs, &r, &term, &trunc), CONTRL_OK);
        assert_same_state(&env, &b);
        reacher_obs(b.m, b.d, want);
        assert_obs(obs, want, 11);
        const double ctrl = (double)a[0] * a[0] + (double)a[1] * a[1];
        const double dist = sqrt(before[0] * before[0] + before[1] * before[1] +
                                 before[2] * before[2]);
        assert_close(r, -dist - ctrl, 1e-6, "reward");
        ck_assert(!term && !trunc);
        /* The distance after the step would pay differently. */
        reacher_vec(b.m, b.d, after_alt);
        double dist_after = sqrt(after_alt[0] * after_alt[0] + after_alt[1] * after_alt[1] +
                                 after_alt[2] * after_alt[2]);
        largest_gap = fmax(largest_gap, fabs(dist_after - dist));
        bare_free(&b);
    }
    ck_assert_msg(largest_gap > 1e-3, "the arm hardly moved (%g): the test proves nothing",
                  largest_gap);
    contrl_env_close(&env);
}
END_TEST

START_TEST(reacher_target_stays_put_and_episode_truncates_at_50)
{
    contrl_env env = make_env("reacher");
    const mjData *d = contrl_mj_env_data(&env);
    float obs[11], a[2], r;
    bool term = false, trunc = false;
    contrl_rng rng;
    contrl_rng_seed(&rng, 3);
    ck_assert_int_eq(contrl_env_reset(&env, 31, obs), CONTRL_OK);
    const double gx = d->qpos[2], gy = d->qpos[3];
    uint32_t t = 0;
    while (!term && !trunc && t < 100) {
        random_action(&env, &rng, a);
        ck_assert_int_eq(contrl_env_step(&env, a, obs, &r, &term, &trunc), CONTRL_OK);
        ck_assert(d->qpos[2] == gx && d->qpos[3] == gy);
        ck_assert(obs[4] == (float)gx && obs[5] == (float)gy);
        t++;
    }
    ck_assert_uint_eq(t, 50);
    ck_assert(trunc && !term);
    contrl_env_close(&env);
}
END_TEST

/* ---- Swimmer-v4 --------------------------------------------------------- */

START_TEST(swimmer_has_8_obs_and_2_torques_in_plus_minus_1)
{
    contrl_env env = make_env("Swimmer-v4");
    assert_shape(&env, "swimmer", 8, 2, -1.0f, 1.0f, 1000);
    const mjModel *m = contrl_mj_env_model(&env);
    ck_assert(m->actuator_gear[0] == 150.0 && m->actuator_gear[6] == 150.0);
    ck_assert(m->opt.density == 4000.0 && m->opt.viscosity == 0.1);
    contrl_env_close(&env);
}
END_TEST

START_TEST(swimmer_model_has_gymnasium_mass_and_dofs)
{
    /* swimmer.xml: three equal links of 35.6047167407 each. */
    contrl_env env = make_env("swimmer");
    assert_model_figures(&env, 5, 5, 2, 4, 106.81415022205297, 0.01, mjINT_RK4);
    contrl_env_close(&env);
}
END_TEST

START_TEST(swimmer_reset_is_seeded_with_uniform_0_1_noise)
{
    assert_reset_is_seeded("swimmer");
    noise_stats s = reset_noise("swimmer", 0, 5, 0, 5, 300);
    assert_uniform(s.qpos_max, s.qpos_sd, 0.1, "qpos");
    assert_uniform(s.qvel_max, s.qvel_sd, 0.1, "qvel");
}
END_TEST

START_TEST(swimmer_reward_is_x_velocity_minus_1e_4_ctrl_cost)
{
    assert_locomotion_steps("swimmer", 4, 0.04, 1e-4, 2, 40);
}
END_TEST

START_TEST(swimmer_never_terminates_and_truncates_at_1000)
{
    assert_truncates_at("swimmer", 1000);
}
END_TEST

static Suite *classic_suite(void)
{
    Suite *s = suite_create("mujoco-tasks-classic");
    TCase *tc = tcase_create("invertedpendulum");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, invertedpendulum_has_4_obs_and_a_cart_force_in_plus_minus_3);
    tcase_add_test(tc, invertedpendulum_model_has_gymnasium_mass_and_dofs);
    tcase_add_test(tc, invertedpendulum_reset_is_seeded_with_uniform_0_01_noise);
    tcase_add_test(tc, invertedpendulum_step_is_two_substeps_observing_qpos_and_qvel_with_reward_1);
    tcase_add_test(tc, invertedpendulum_terminates_beyond_0_2_rad_and_still_pays_1);
    tcase_add_test(tc, invertedpendulum_truncates_at_1000_steps);
    suite_add_tcase(s, tc);

    tc = tcase_create("inverteddoublependulum");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, inverteddoublependulum_has_11_obs_and_a_cart_force_in_plus_minus_1);
    tcase_add_test(tc, inverteddoublependulum_model_has_gymnasium_mass_and_dofs);
    tcase_add_test(tc, inverteddoublependulum_reset_is_seeded_with_uniform_qpos_and_normal_qvel_noise);
    tcase_add_test(tc, inverteddoublependulum_observes_clipped_speeds_and_constraint_forces);
    tcase_add_test(tc, inverteddoublependulum_reward_reads_the_tip_as_mj_step_leaves_it);
    tcase_add_test(tc, inverteddoublependulum_terminates_with_the_tip_at_or_below_1_and_pays_the_step);
    tcase_add_test(tc, inverteddoublependulum_truncates_at_1000_steps);
    suite_add_tcase(s, tc);

    tc = tcase_create("halfcheetah");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, halfcheetah_has_17_obs_and_6_torques_in_plus_minus_1);
    tcase_add_test(tc, halfcheetah_model_has_gymnasium_mass_and_dofs);
    tcase_add_test(tc, halfcheetah_reset_is_seeded_with_uniform_qpos_and_normal_qvel_noise);
    tcase_add_test(tc, halfcheetah_reward_is_rootx_velocity_minus_0_1_ctrl_cost);
    tcase_add_test(tc, halfcheetah_never_terminates_and_truncates_at_1000);
    suite_add_tcase(s, tc);

    tc = tcase_create("reacher");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, reacher_has_11_obs_and_2_torques_in_plus_minus_1_for_50_steps);
    tcase_add_test(tc, reacher_model_has_gymnasium_mass_and_dofs);
    tcase_add_test(tc, reacher_reset_puts_the_target_uniformly_in_a_0_2_disc_at_rest);
    tcase_add_test(tc, reacher_reward_is_the_distance_before_the_step_plus_ctrl_cost);
    tcase_add_test(tc, reacher_target_stays_put_and_episode_truncates_at_50);
    suite_add_tcase(s, tc);

    tc = tcase_create("swimmer");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, swimmer_has_8_obs_and_2_torques_in_plus_minus_1);
    tcase_add_test(tc, swimmer_model_has_gymnasium_mass_and_dofs);
    tcase_add_test(tc, swimmer_reset_is_seeded_with_uniform_0_1_noise);
    tcase_add_test(tc, swimmer_reward_is_x_velocity_minus_1e_4_ctrl_cost);
    tcase_add_test(tc, swimmer_never_terminates_and_truncates_at_1000);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(classic_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
