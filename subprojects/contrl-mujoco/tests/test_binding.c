/* tests/test_binding.c - the generic binding: models from files and text,
 * declarative tasks, callbacks, errors, instability, threads. */
#include <check.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <mujoco/mujoco.h>

#include "contrl/contrl.h"
#include "contrl/mujoco.h"

/* A cart on a rail (slider x) carrying a hinged pole; one motor on the cart
 * with gear 10 and ctrlrange [-2, 3]; a vertical slider z for the health
 * rule. nq = nv = 3 (x, z, hinge). */
static const char cart_xml[] =
    "<mujoco model=\"cart\">"
    "  <option timestep=\"0.01\" integrator=\"Euler\" gravity=\"0 0 -9.81\"/>"
    "  <worldbody>"
    "    <body name=\"cart\" pos=\"0 0 1\">"
    "      <joint name=\"x\" type=\"slide\" axis=\"1 0 0\"/>"
    "      <joint name=\"z\" type=\"slide\" axis=\"0 0 1\" stiffness=\"100\"/>"
    "      <geom type=\"box\" size=\"0.2 0.1 0.05\" mass=\"2\"/>"
    "      <body name=\"pole\">"
    "        <joint name=\"hinge\" type=\"hinge\" axis=\"0 1 0\" damping=\"0.1\"/>"
    "        <geom type=\"capsule\" fromto=\"0 0 0 0 0 0.6\" size=\"0.03\" mass=\"0.5\"/>"
    "      </body>"
    "    </body>"
    "  </worldbody>"
    "  <actuator>"
    "    <motor joint=\"x\" gear=\"10\" ctrllimited=\"true\" ctrlrange=\"-2 3\"/>"
    "  </actuator>"
    "</mujoco>";

static contrl_mj_task cart_task(void)
{
    contrl_mj_task t = contrl_mj_task_default();
    t.name = "cart";
    t.frame_skip = 2;
    t.max_episode_steps = 7;
    t.obs_qpos[0] = CONTRL_MJ_FROM(1); /* z, hinge */
    t.n_obs_qpos = 1;
    t.obs_qvel[0] = -1; /* all three */
    t.n_obs_qvel = 1;
    t.forward_weight = 1.5;
    t.forward_qpos = 0;
    t.ctrl_cost_weight = 0.1;
    t.healthy_reward = 1.0;
    t.terminate_when_unhealthy = true;
    t.healthy_angle_qpos = 2;
    t.healthy_angle_min = -0.5;
    t.healthy_angle_max = 0.5;
    t.reset_noise_scale = 0.05;
    return t;
}

static void make_cart(contrl_env *env)
{
    contrl_mj_task t = cart_task();
    ck_assert_int_eq(contrl_mj_env_from_xml(cart_xml, &t, NULL, env), CONTRL_OK);
}

START_TEST(xml_model_gives_env_with_model_dims_and_ctrlrange_bounds)
{
    contrl_env env;
    make_cart(&env);
    ck_assert_int_eq(contrl_env_check(&env), CONTRL_OK);
    ck_assert_uint_eq(env.obs_dim, 5);
    ck_assert_uint_eq(env.action_dim, 1);
    ck_assert(env.action_low[0] == -2.0f && env.action_high[0] == 3.0f);
    ck_assert_uint_eq(env.max_episode_steps, 7);
    ck_assert_str_eq(env.name, "cart");
    const mjModel *m = contrl_mj_env_model(&env);
    ck_assert_ptr_nonnull(m);
    ck_assert_int_eq(m->nq, 3);
    ck_assert_ptr_nonnull(contrl_mj_env_data(&env));
    contrl_env_close(&env);
    ck_assert_ptr_null(env.user);
}
END_TEST

START_TEST(file_model_loads_and_missing_file_is_io_error_naming_path)
{
    char path[] = "/tmp/contrl_mj_testXXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq((int)write(fd, cart_xml, strlen(cart_xml)), (int)strlen(cart_xml));
    close(fd);
    contrl_mj_task t = cart_task();
    contrl_env env;
    ck_assert_int_eq(contrl_mj_env_from_file(path, &t, NULL, &env), CONTRL_OK);
    ck_assert_uint_eq(env.obs_dim, 5);
    contrl_env_close(&env);
    unlink(path);

    ck_assert_int_eq(contrl_mj_env_from_file(path, &t, NULL, &env), CONTRL_ERR_IO);
    ck_assert_ptr_nonnull(strstr(contrl_last_error(), path));
    ck_assert_ptr_null(env.user);
    contrl_env_close(&env); /* safe on a failed make */
}
END_TEST

START_TEST(malformed_model_is_format_error_with_mujocos_message)
{
    contrl_mj_task t = cart_task();
    contrl_env env;
    ck_assert_int_eq(contrl_mj_env_from_xml("<mujoco><worldbody><body>", &t, NULL, &env),
                     CONTRL_ERR_FORMAT);
    ck_assert_ptr_nonnull(strstr(contrl_last_error(), "MuJoCo could not load"));
    /* an unknown joint in an actuator: MuJoCo's compiler message names it */
    ck_assert_int_eq(contrl_mj_env_from_xml("<mujoco><worldbody><body><joint name=\"a\"/>"
                                            "<geom size=\"1\"/></body></worldbody><actuator>"
                                            "<motor joint=\"nosuch\"/></actuator></mujoco>",
                                            &t, NULL, &env),
                     CONTRL_ERR_FORMAT);
    ck_assert_ptr_nonnull(strstr(contrl_last_error(), "nosuch"));
    ck_assert_int_eq(contrl_mj_env_from_xml("", &t, NULL, &env), CONTRL_ERR_FORMAT);
}
END_TEST

START_TEST(bad_tasks_and_arguments_are_invalid_arg_with_message)
{
    contrl_env env;
    contrl_mj_task t = cart_task();
    ck_assert_int_eq(contrl_mj_env_from_xml(NULL, &t, NULL, &env), CONTRL_ERR_INVALID_ARG);
    ck_assert_int_eq(contrl_mj_env_from_xml(cart_xml, NULL, NULL, &env), CONTRL_ERR_INVALID_ARG);
    ck_assert_int_eq(contrl_mj_env_from_xml(cart_xml, &t, NULL, NULL), CONTRL_ERR_INVALID_ARG);

    t.obs_qpos[0] = 3; /* nq = 3 */
    ck_assert_int_eq(contrl_mj_env_from_xml(cart_xml, &t, NULL, &env), CONTRL_ERR_INVALID_ARG);
    ck_assert_ptr_nonnull(strstr(contrl_last_error(), "obs_qpos[0] = 3"));

    t = cart_task();
    t.obs_qvel[0] = CONTRL_MJ_FROM(4);
    ck_assert_int_eq(contrl_mj_env_from_xml(cart_xml, &t, NULL, &env), CONTRL_ERR_INVALID_ARG);

    t = cart_task();
    t.frame_skip = 0;
    ck_assert_int_eq(contrl_mj_env_from_xml(cart_xml, &t, NULL, &env), CONTRL_ERR_INVALID_ARG);
    ck_assert_ptr_nonnull(strstr(contrl_last_error(), "frame_skip"));

    t = cart_task();
    t.n_obs_qpos = t.n_obs_qvel = 0;
    ck_assert_int_eq(contrl_mj_env_from_xml(cart_xml, &t, NULL, &env), CONTRL_ERR_INVALID_ARG);
    ck_assert_ptr_nonnull(strstr(contrl_last_error(), "observes nothing"));

    t = cart_task();
    t.forward_weight = NAN;
    ck_assert_int_eq(contrl_mj_env_from_xml(cart_xml, &t, NULL, &env), CONTRL_ERR_INVALID_ARG);

    t = cart_task();
    t.healthy_angle_max = NAN; /* a NaN bound would make every state unhealthy */
    ck_assert_int_eq(contrl_mj_env_from_xml(cart_xml, &t, NULL, &env), CONTRL_ERR_INVALID_ARG);
    ck_assert_ptr_nonnull(strstr(contrl_last_error(), "health bound"));

    t = cart_task();
    t.healthy_angle_qpos = 9;
    ck_assert_int_eq(contrl_mj_env_from_xml(cart_xml, &t, NULL, &env), CONTRL_ERR_INVALID_ARG);

    t = cart_task();
    t.size = sizeof t - 8; /* a caller built against another header */
    ck_assert_int_eq(contrl_mj_env_from_xml(cart_xml, &t, NULL, &env), CONTRL_ERR_INVALID_ARG);
    ck_assert_int_eq(contrl_mj_task_init(&t, sizeof t + 8), CONTRL_ERR_INVALID_ARG);
    ck_assert_int_eq(contrl_mj_task_init(NULL, sizeof t), CONTRL_ERR_INVALID_ARG);

    /* a model without actuators */
    t = cart_task();
    ck_assert_int_eq(contrl_mj_env_from_xml("<mujoco><worldbody><body><joint/><geom size=\"1\"/>"
                                            "</body></worldbody></mujoco>",
                                            &t, NULL, &env),
                     CONTRL_ERR_INVALID_ARG);
    ck_assert_ptr_nonnull(strstr(contrl_last_error(), "no actuators"));
    ck_assert_ptr_null(env.user);
}
END_TEST

START_TEST(reset_is_deterministic_in_seed_and_noise_is_bounded)
{
    contrl_env env;
    make_cart(&env);
    float a[5], b[5], c[5];
    ck_assert_int_eq(contrl_env_reset(&env, 42, a), CONTRL_OK);
    ck_assert_int_eq(contrl_env_reset(&env, 43, c), CONTRL_OK);
    ck_assert_int_eq(contrl_env_reset(&env, 42, b), CONTRL_OK);
    ck_assert_mem_eq(a, b, sizeof a);
    ck_assert(memcmp(a, c, sizeof a) != 0);
    const mjModel *m = contrl_mj_env_model(&env);
    const mjData *d = contrl_mj_env_data(&env);
    for (int i = 0; i < m->nq; i++)
        ck_assert(fabs(d->qpos[i] - m->qpos0[i]) <= 0.05);
    for (int i = 0; i < m->nv; i++)
        ck_assert(fabs(d->qvel[i]) <= 0.05);
    contrl_env_close(&env);
}
END_TEST

/* The declarative reward recomputed from mjData by hand. */
START_TEST(declarative_reward_matches_hand_computation)
{
    contrl_env env;
    make_cart(&env);
    mjData *d = contrl_mj_env_data(&env);
    const mjModel *m = contrl_mj_env_model(&env);
    float obs[5], next[5], r;
    bool term, trunc;
    ck_assert_int_eq(contrl_env_reset(&env, 1, obs), CONTRL_OK);
    /* observation: qpos[1..2], qvel[0..2] */
    ck_assert(obs[0] == (float)d->qpos[1] && obs[1] == (float)d->qpos[2]);
    ck_assert(obs[2] == (float)d->qvel[0] && obs[4] == (float)d->qvel[2]);
    double x0 = d->qpos[0];
    const float action[1] = {2.5f};
    ck_assert_int_eq(contrl_env_step(&env, action, next, &r, &term, &trunc), CONTRL_OK);
    double dt = m->opt.timestep * 2;
    double expect = 1.5 * (d->qpos[0] - x0) / dt - 0.1 * 2.5 * 2.5 + 1.0;
    ck_assert(fabs(r - expect) <= 1e-5 * fabs(expect));
    ck_assert(d->qpos[0] - x0 > 0.0); /* pushed forward */
    ck_assert(!term && !trunc);
    ck_assert(d->ctrl[0] == 2.5);
    contrl_env_close(&env);
}
END_TEST

START_TEST(unhealthy_state_terminates_and_still_pays_healthy_reward)
{
    contrl_env env;
    make_cart(&env);
    mjData *d = contrl_mj_env_data(&env);
    const mjModel *m = contrl_mj_env_model(&env);
    float obs[5], next[5], r;
    bool term, trunc;
    ck_assert_int_eq(contrl_env_reset(&env, 1, obs), CONTRL_OK);
    d->qpos[2] = 1.0; /* pole angle beyond 0.5 */
    d->qvel[0] = 0.0;
    mj_forward(m, d);
    double x0 = d->qpos[0];
    const float action[1] = {0.0f};
    ck_assert_int_eq(contrl_env_step(&env, action, next, &r, &term, &trunc), CONTRL_OK);
    ck_assert(term);
    ck_assert(!trunc);
    double expect = 1.5 * (d->qpos[0] - x0) / (m->opt.timestep * 2) + 1.0;
    ck_assert(fabs(r - expect) <= 1e-5);
    /* the episode is over */
    ck_assert_int_eq(contrl_env_step(&env, action, next, &r, &term, &trunc), CONTRL_ERR_STATE);
    contrl_env_close(&env);

    /* Without termination the healthy reward is only paid while healthy. */
    contrl_mj_task t = cart_task();
    t.terminate_when_unhealthy = false;
    t.forward_qpos = -1;
    t.ctrl_cost_weight = 0;
    ck_assert_int_eq(contrl_mj_env_from_xml(cart_xml, &t, NULL, &env), CONTRL_OK);
    d = contrl_mj_env_data(&env);
    ck_assert_int_eq(contrl_env_reset(&env, 1, obs), CONTRL_OK);
    d->qpos[2] = 1.0;
    mj_forward(contrl_mj_env_model(&env), d);
    ck_assert_int_eq(contrl_env_step(&env, action, next, &r, &term, &trunc), CONTRL_OK);
    ck_assert(!term);
    ck_assert(r == 0.0f);
    contrl_env_close(&env);
}
END_TEST

START_TEST(episode_truncates_exactly_at_its_limit)
{
    contrl_env env;
    contrl_mj_task t = cart_task();
    t.terminate_when_unhealthy = false;
    ck_assert_int_eq(contrl_mj_env_from_xml(cart_xml, &t, NULL, &env), CONTRL_OK);
    float obs[5], r;
    bool term, trunc;
    const float action[1] = {0.0f};
    ck_assert_int_eq(contrl_env_step(&env, action, obs, &r, &term, &trunc), CONTRL_ERR_STATE);
    ck_assert_int_eq(contrl_env_reset(&env, 3, obs), CONTRL_OK);
    for (int i = 1; i <= 7; i++) {
        ck_assert_int_eq(contrl_env_step(&env, action, obs, &r, &term, &trunc), CONTRL_OK);
        ck_assert(trunc == (i == 7));
    }
    contrl_env_close(&env);
}
END_TEST

/* ---- callbacks ---------------------------------------------------------- */

typedef struct counters {
    int observe, before, reward, reset, destroy;
    double x_before;
} counters;

static void cb_observe(void *user, const mjModel *m, const mjData *d, float *obs)
{
    (void)m;
    counters *c = user;
    c->observe++;
    obs[0] = (float)d->qpos[0];
    obs[1] = (float)sin(d->qpos[2]);
}

static void cb_before(void *user, const mjModel *m, const mjData *d)
{
    (void)m;
    counters *c = user;
    c->before++;
    c->x_before = d->qpos[0];
}

static void cb_reward(void *user, const mjModel *m, const mjData *d, const float *action,
                      float *reward, bool *terminated)
{
    (void)m;
    counters *c = user;
    c->reward++;
    *reward = (float)(d->qpos[0] - c->x_before) + action[0];
    *terminated = d->qpos[0] > 100.0;
}

static contrl_status cb_reset(void *user, const mjModel *m, mjData *d, contrl_rng *rng)
{
    (void)m;
    counters *c = user;
    c->reset++;
    d->qpos[0] = 0.25 + 0.01 * contrl_rng_uniform(rng);
    return CONTRL_OK;
}

static void cb_destroy(void *user)
{
    ((counters *)user)->destroy++;
}

START_TEST(callbacks_define_observation_reward_and_reset)
{
    counters c = {0};
    contrl_mj_task t = contrl_mj_task_default();
    t.user = &c;
    t.obs_dim = 2;
    t.observe = cb_observe;
    t.before_step = cb_before;
    t.reward = cb_reward;
    t.reset = cb_reset;
    t.destroy = cb_destroy;
    t.frame_skip = 3;
    contrl_env env;
    ck_assert_int_eq(contrl_mj_env_from_xml(cart_xml, &t, NULL, &env), CONTRL_OK);
    ck_assert_uint_eq(env.obs_dim, 2);
    ck_assert_str_eq(env.name, "mujoco");
    float obs[2], r;
    bool term, trunc;
    ck_assert_int_eq(contrl_env_reset(&env, 9, obs), CONTRL_OK);
    ck_assert(obs[0] >= 0.25f && obs[0] < 0.26f);
    const float action[1] = {1.0f};
    const mjData *d = contrl_mj_env_data(&env);
    ck_assert_int_eq(contrl_env_step(&env, action, obs, &r, &term, &trunc), CONTRL_OK);
    ck_assert(fabsf(r - (float)(d->qpos[0] - c.x_before + 1.0)) < 1e-6f);
    ck_assert(!trunc); /* no time limit */
    ck_assert_int_eq(c.reset, 1);
    ck_assert_int_eq(c.before, 1);
    ck_assert_int_eq(c.reward, 1);
    ck_assert_int_eq(c.observe, 2);
    ck_assert(fabs(d->time - 3 * 0.01) < 1e-12); /* frame_skip substeps */
    contrl_env_close(&env);
    ck_assert_int_eq(c.destroy, 1);

    /* a failed make does not call destroy */
    c.destroy = 0;
    t.obs_dim = 0;
    ck_assert_int_eq(contrl_mj_env_from_xml(cart_xml, &t, NULL, &env), CONTRL_ERR_INVALID_ARG);
    ck_assert_int_eq(c.destroy, 0);
}
END_TEST

/* ---- instability ----------------------------------------------------------
 * A gear of 1e12 on a 2.5 kg cart gives qacc far beyond MuJoCo's limit:
 * MuJoCo flags a bad qacc and resets its data. */
static const char wild_xml[] =
    "<mujoco><worldbody><body><joint name=\"x\" type=\"slide\" axis=\"1 0 0\"/>"
    "<geom size=\"0.1\" mass=\"1\"/></body></worldbody>"
    "<actuator><motor joint=\"x\" gear=\"1e12\" ctrllimited=\"true\" ctrlrange=\"-1 1\"/>"
    "</actuator></mujoco>";

START_TEST(unstable_simulation_truncates_on_last_good_observation)
{
    contrl_mj_task t = contrl_mj_task_default();
    t.obs_qpos[0] = -1;
    t.n_obs_qpos = 1;
    t.obs_qvel[0] = -1;
    t.n_obs_qvel = 1;
    t.healthy_reward = 1.0;
    contrl_env env;
    ck_assert_int_eq(contrl_mj_env_from_xml(wild_xml, &t, NULL, &env), CONTRL_OK);
    float obs[2], next[2], r;
    bool term, trunc;
    ck_assert_int_eq(contrl_env_reset(&env, 0, obs), CONTRL_OK);
    const float calm[1] = {0.0f}, wild[1] = {1.0f};
    ck_assert_int_eq(contrl_env_step(&env, calm, obs, &r, &term, &trunc), CONTRL_OK);
    ck_assert(r == 1.0f);
    ck_assert_int_eq(contrl_env_step(&env, wild, next, &r, &term, &trunc), CONTRL_OK);
    ck_assert(trunc && !term);
    ck_assert(r == 0.0f);
    ck_assert_mem_eq(next, obs, sizeof obs);
    ck_assert_uint_eq(contrl_mj_env_unstable_count(&env), 1);
    ck_assert_int_eq(contrl_env_step(&env, calm, next, &r, &term, &trunc), CONTRL_ERR_STATE);
    contrl_env_close(&env);

    t.unstable_is_error = true;
    ck_assert_int_eq(contrl_mj_env_from_xml(wild_xml, &t, NULL, &env), CONTRL_OK);
    ck_assert_int_eq(contrl_env_reset(&env, 0, obs), CONTRL_OK);
    ck_assert_int_eq(contrl_env_step(&env, wild, next, &r, &term, &trunc), CONTRL_ERR_NUMERIC);
    ck_assert_ptr_nonnull(strstr(contrl_last_error(), "unstable"));
    contrl_env_close(&env);
}
END_TEST

/* ---- accessors, names ------------------------------------------------------ */

START_TEST(accessors_refuse_envs_not_made_by_the_addon)
{
    contrl_env env;
    ck_assert_int_eq(contrl_env_make("pendulum", NULL, &env), CONTRL_OK);
    ck_assert_ptr_null(contrl_mj_env_model(&env));
    ck_assert_ptr_null(contrl_mj_env_data(&env));
    ck_assert_uint_eq(contrl_mj_env_unstable_count(&env), 0);
    contrl_env_close(&env);
    ck_assert_ptr_null(contrl_mj_env_model(NULL));
    contrl_goal_env genv;
    ck_assert_int_eq(contrl_goal_env_make("pointreach-2", NULL, &genv), CONTRL_OK);
    ck_assert_ptr_null(contrl_mj_goal_env_model(&genv));
    contrl_goal_env_close(&genv);
}
END_TEST

START_TEST(unknown_task_name_lists_the_known_ones)
{
    contrl_env env;
    ck_assert_int_eq(contrl_mj_make("cheetah", NULL, &env), CONTRL_ERR_INVALID_ARG);
    ck_assert_ptr_nonnull(strstr(contrl_last_error(), "halfcheetah"));
    ck_assert_int_eq(contrl_mj_make(NULL, NULL, &env), CONTRL_ERR_INVALID_ARG);
    ck_assert_int_eq(contrl_mj_make("hopper", NULL, NULL), CONTRL_ERR_INVALID_ARG);
    contrl_goal_env genv;
    ck_assert_int_eq(contrl_mj_goal_make("fetch", NULL, &genv), CONTRL_ERR_INVALID_ARG);
    ck_assert_ptr_nonnull(strstr(contrl_last_error(), "reach"));
    int n = 0;
    for (const char *const *p = contrl_mj_names(); *p != NULL; p++)
        n++;
    ck_assert_int_eq(n, 9);
    ck_assert_ptr_nonnull(contrl_mj_mujoco_version());
}
END_TEST

/* ---- threads ------------------------------------------------------------------
 * Two envs stepped in two threads give what they give when stepped one
 * after the other. */
typedef struct run {
    contrl_env env;
    float sum;
    contrl_status st;
} run;

static void *run_episode(void *arg)
{
    run *r = arg;
    float obs[5], rew;
    bool term, trunc;
    r->sum = 0.0f;
    r->st = contrl_env_reset(&r->env, 5, obs);
    for (int i = 0; i < 2000 && r->st == CONTRL_OK; i++) {
        float a[1] = {(float)sin(0.01 * i)};
        r->st = contrl_env_step(&r->env, a, obs, &rew, &term, &trunc);
        r->sum += rew;
        if (term || trunc)
            r->st = contrl_env_reset(&r->env, 6 + (uint64_t)i, obs);
    }
    return NULL;
}

START_TEST(envs_in_separate_threads_match_sequential_runs)
{
    run seq[2], par[2];
    for (int i = 0; i < 2; i++) {
        make_cart(&seq[i].env);
        make_cart(&par[i].env);
        run_episode(&seq[i]);
        ck_assert_int_eq(seq[i].st, CONTRL_OK);
    }
    pthread_t th[2];
    for (int i = 0; i < 2; i++)
        ck_assert_int_eq(pthread_create(&th[i], NULL, run_episode, &par[i]), 0);
    for (int i = 0; i < 2; i++) {
        pthread_join(th[i], NULL);
        ck_assert_int_eq(par[i].st, CONTRL_OK);
        ck_assert(par[i].sum == seq[i].sum);
        contrl_env_close(&seq[i].env);
        contrl_env_close(&par[i].env);
    }
}
END_TEST

/* Models are compiled in parallel safely (the parser is serialised). */
static void *make_many(void *arg)
{
    contrl_status *st = arg;
    for (int i = 0; i < 20 && *st == CONTRL_OK; i++) {
        contrl_env env;
        contrl_mj_task t = cart_task();
        *st = contrl_mj_env_from_xml(cart_xml, &t, NULL, &env);
        contrl_env_close(&env);
    }
    return NULL;
}

START_TEST(models_compile_concurrently)
{
    pthread_t th[2];
    contrl_status st[2] = {CONTRL_OK, CONTRL_OK};
    for (int i = 0; i < 2; i++)
        ck_assert_int_eq(pthread_create(&th[i], NULL, make_many, &st[i]), 0);
    for (int i = 0; i < 2; i++) {
        pthread_join(th[i], NULL);
        ck_assert_int_eq(st[i], CONTRL_OK);
    }
}
END_TEST

/* ---- vectorised stepping ---------------------------------------------------------
 * MuJoCo envs in a contrl_vec_env: the same trajectories on 1 and 2
 * threads, automatic resets included (Hopper's episodes end early under
 * random actions). */
static void run_vec(uint32_t threads, float *trace, size_t trace_len)
{
    enum { N = 4 };
    contrl_env envs[N];
    for (int i = 0; i < N; i++)
        ck_assert_int_eq(contrl_mj_make("hopper", NULL, &envs[i]), CONTRL_OK);
    const uint32_t O = envs[0].obs_dim, A = envs[0].action_dim;
    contrl_vec_env_config cfg = contrl_vec_env_config_default();
    cfg.threads = threads;
    contrl_vec_env *v = NULL;
    ck_assert_int_eq(contrl_vec_env_create(envs, N, &cfg, &v), CONTRL_OK);
    ck_assert_int_eq(contrl_vec_env_reset(v, 11), CONTRL_OK);
    float actions[N * 3], next[N * 11], rew[N];
    bool term[N], trunc[N];
    ck_assert_uint_eq(A, 3);
    ck_assert_uint_eq(O, 11);
    contrl_rng rng;
    contrl_rng_seed(&rng, 5);
    size_t k = 0;
    int ends = 0;
    for (int t = 0; t < 150; t++) {
        for (int i = 0; i < N * 3; i++)
            actions[i] = 2.0f * contrl_rng_uniform(&rng) - 1.0f;
        ck_assert_int_eq(contrl_vec_env_step(v, actions, next, rew, term, trunc), CONTRL_OK);
        for (int i = 0; i < N; i++) {
            ends += term[i] || trunc[i];
            if (k < trace_len)
                trace[k++] = rew[i];
        }
        const float *obs = contrl_vec_env_obs(v);
        for (uint32_t i = 0; i < N * O && k < trace_len; i++)
            trace[k++] = obs[i];
    }
    ck_assert_int_gt(ends, 0);
    contrl_vec_env_destroy(v);
}

START_TEST(vec_env_of_mujoco_envs_is_identical_on_1_and_2_threads)
{
    enum { LEN = 150 * (4 + 4 * 11) };
    static float a[LEN], b[LEN];
    run_vec(1, a, LEN);
    run_vec(2, b, LEN);
    ck_assert_mem_eq(a, b, sizeof a);
}
END_TEST

/* ---- allocator -------------------------------------------------------------- */

typedef struct counting {
    int allocs, frees, fail_at;
} counting;

static void *c_alloc(void *user, size_t size, size_t align)
{
    counting *c = user;
    if (c->fail_at >= 0 && c->allocs == c->fail_at)
        return NULL;
    c->allocs++;
    void *p = NULL;
    return posix_memalign(&p, align < sizeof(void *) ? sizeof(void *) : align, size) == 0 ? p
                                                                                         : NULL;
}

static void c_free(void *user, void *p, size_t size)
{
    (void)size;
    ((counting *)user)->frees++;
    free(p);
}

START_TEST(env_memory_comes_from_the_given_allocator_and_failure_is_clean)
{
    counting c = {0, 0, -1};
    contrl_allocator a = {c_alloc, c_free, &c};
    contrl_env env;
    contrl_mj_task t = cart_task();
    ck_assert_int_eq(contrl_mj_env_from_xml(cart_xml, &t, &a, &env), CONTRL_OK);
    ck_assert_int_ge(c.allocs, 1);
    float obs[5], r;
    bool term, trunc;
    const float action[1] = {0.5f};
    int before = c.allocs;
    ck_assert_int_eq(contrl_env_reset(&env, 1, obs), CONTRL_OK);
    for (int i = 0; i < 5; i++)
        ck_assert_int_eq(contrl_env_step(&env, action, obs, &r, &term, &trunc), CONTRL_OK);
    ck_assert_int_eq(c.allocs, before); /* none while stepping */
    contrl_env_close(&env);
    ck_assert_int_eq(c.frees, c.allocs);

    c = (counting){0, 0, 0};
    ck_assert_int_eq(contrl_mj_env_from_xml(cart_xml, &t, &a, &env), CONTRL_ERR_NOMEM);
    ck_assert_int_eq(c.frees, c.allocs);
    contrl_allocator half = {c_alloc, NULL, &c};
    ck_assert_int_eq(contrl_mj_env_from_xml(cart_xml, &t, &half, &env), CONTRL_ERR_INVALID_ARG);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("mujoco-binding");
    TCase *tc = tcase_create("binding");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, xml_model_gives_env_with_model_dims_and_ctrlrange_bounds);
    tcase_add_test(tc, file_model_loads_and_missing_file_is_io_error_naming_path);
    tcase_add_test(tc, malformed_model_is_format_error_with_mujocos_message);
    tcase_add_test(tc, bad_tasks_and_arguments_are_invalid_arg_with_message);
    tcase_add_test(tc, reset_is_deterministic_in_seed_and_noise_is_bounded);
    tcase_add_test(tc, declarative_reward_matches_hand_computation);
    tcase_add_test(tc, unhealthy_state_terminates_and_still_pays_healthy_reward);
    tcase_add_test(tc, episode_truncates_exactly_at_its_limit);
    tcase_add_test(tc, callbacks_define_observation_reward_and_reset);
    tcase_add_test(tc, unstable_simulation_truncates_on_last_good_observation);
    tcase_add_test(tc, accessors_refuse_envs_not_made_by_the_addon);
    tcase_add_test(tc, unknown_task_name_lists_the_known_ones);
    tcase_add_test(tc, envs_in_separate_threads_match_sequential_runs);
    tcase_add_test(tc, models_compile_concurrently);
    tcase_add_test(tc, vec_env_of_mujoco_envs_is_identical_on_1_and_2_threads);
    tcase_add_test(tc, env_memory_comes_from_the_given_allocator_and_failure_is_clean);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
