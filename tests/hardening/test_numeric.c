/* tests/hardening/test_numeric.c - numerical faults: NaN and Inf injected
 * in a reward, an observation, an action, an env's output, a gradient; a
 * learning rate so large the critic diverges; extreme optimiser moments.
 * Each gives a clear error (status and a message naming the problem) and
 * leaves the last good parameters, checked bit for bit through hashes of
 * every net, optimiser state and the replay buffer. */
#include <check.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent_internal.h"
#include "contrl/contrl.h"

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 0x100000001b3u;
    return h;
}

static bool all_finite(const float *x, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(x[i]))
            return false;
    return true;
}

static uint64_t hash_net(uint64_t h, const contrl_net *net, contrl_adam *opt)
{
    if (net == NULL)
        return h;
    size_t n = contrl_net_param_count(net);
    ck_assert_msg(all_finite(contrl_net_params(net), n), "a parameter is NaN or Inf");
    h = fnv(h, contrl_net_params(net), n * sizeof(float));
    if (opt != NULL) {
        float *m = malloc(2 * n * sizeof(float));
        uint64_t t;
        contrl_adam_get_state(opt, m, m + n, n, &t);
        h = fnv(h, m, 2 * n * sizeof(float));
        h = fnv(h, &t, sizeof t);
        free(m);
    }
    return h;
}

static uint64_t critics_hash(const contrl_agent *a)
{
    uint64_t h = 0xcbf29ce484222325u;
    for (uint32_t k = 0; k < a->n_critics; k++) {
        h = hash_net(h, a->q[k], a->q_opt[k]);
        h = hash_net(h, a->q_target[k], NULL);
    }
    return hash_net(h, a->v, a->v_opt);
}

static uint64_t actor_hash(const contrl_agent *a)
{
    uint64_t h = 0xcbf29ce484222325u;
    h = hash_net(h, a->actor, a->actor_opt);
    h = hash_net(h, a->actor_target, NULL);
    return fnv(h, &a->log_alpha, sizeof a->log_alpha);
}

static uint64_t buffer_hash(const contrl_agent *a)
{
    const contrl_buffer *b = a->buffer;
    uint64_t h = 0xcbf29ce484222325u, n = contrl_buffer_size(b);
    float obs[8], act[4], next[8], r;
    bool te, tr;
    for (uint64_t i = 0; i < n; i++) {
        contrl_buffer_get(b, i, obs, act, &r, next, &te, &tr);
        h = fnv(h, obs, a->obs_dim * sizeof(float));
        h = fnv(h, act, a->act_dim * sizeof(float));
        h = fnv(h, &r, sizeof r);
        h = fnv(h, next, a->obs_dim * sizeof(float));
        h = fnv(h, &te, 1);
        h = fnv(h, &tr, 1);
    }
    h = fnv(h, &n, sizeof n);
    return fnv(h, &a->steps, sizeof a->steps);
}

static uint64_t state_hash(const contrl_agent *a)
{
    return critics_hash(a) ^ 3 * actor_hash(a) ^ 7 * buffer_hash(a);
}

static contrl_agent *make_agent(contrl_algo algo, float critic_lr, uint64_t seed)
{
    contrl_agent_config c = contrl_agent_config_default(algo);
    c.obs_dim = 3;
    c.action_dim = 1;
    static const float lo[1] = {-2}, hi[1] = {2};
    c.action_low = lo;
    c.action_high = hi;
    c.hidden[0] = c.hidden[1] = 16;
    c.batch_size = 16;
    c.buffer_capacity = 500;
    c.learning_starts = 32;
    c.seed = seed;
    c.critic_lr = critic_lr;
    contrl_agent *a = NULL;
    contrl_status st = algo == CONTRL_ALGO_TD3 ? contrl_td3_create(&c, NULL, &a)
                                               : contrl_sac_create(&c, NULL, &a);
    ck_assert_msg(st == CONTRL_OK, "%s", contrl_last_error());
    return a;
}

/* ---- outside data ------------------------------------------------------- */

START_TEST(nonfinite_transition_is_refused_and_nothing_is_stored)
{
    contrl_agent *a = make_agent(CONTRL_ALGO_TD3, 3e-4f, 1);
    contrl_env env;
    ck_assert_int_eq(contrl_env_make("pendulum", NULL, &env), CONTRL_OK);
    ck_assert_int_eq(contrl_agent_learn(a, &env, 64, NULL, NULL), CONTRL_OK);
    const float nan = NAN, inf = INFINITY;
    static const struct {
        int field; /* 0 reward, 1 obs, 2 action, 3 next_obs */
        int index;
        int value; /* 0 NaN, 1 +Inf, 2 -Inf */
        const char *says;
    } cases[] = {{0, 0, 0, "reward is NaN"},  {0, 0, 1, "reward is Inf"},
                 {1, 1, 0, "obs[1] is NaN"},  {1, 2, 2, "obs[2] is -Inf"},
                 {2, 0, 0, "action contains NaN"}, {3, 0, 1, "next_obs[0] is Inf"},
                 {0, 0, 2, "reward is -Inf"},
                 {3, 2, 0, "next_obs[2] is NaN"}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        float obs[3] = {0.1f, 0.2f, 0.3f}, next[3] = {0.2f, 0.3f, 0.4f}, act[1] = {0.5f};
        float reward = -1.0f;
        float v = cases[i].value == 0 ? nan : cases[i].value == 1 ? inf : -inf;
        float *where[] = {&reward, obs, act, next};
        where[cases[i].field][cases[i].index] = v;
        uint64_t before = state_hash(a);
        contrl_clear_error();
        contrl_status st = contrl_agent_observe(a, obs, act, reward, next, false, false);
        ck_assert_int_eq(st, CONTRL_ERR_NONFINITE);
        ck_assert_msg(strstr(contrl_last_error(), cases[i].says) != NULL,
                      "case %zu: message '%s' does not say '%s'", i, contrl_last_error(),
                      cases[i].says);
        ck_assert_uint_eq(state_hash(a), before);
        /* and the agent refuses to act on a NaN observation */
        if (cases[i].field == 1) {
            float out[1] = {42.0f};
            ck_assert_int_eq(contrl_agent_act(a, obs, out, true), CONTRL_ERR_NONFINITE);
            ck_assert_float_eq(out[0], 42.0f);
        }
    }
    contrl_env_close(&env);
    contrl_agent_destroy(a);
}
END_TEST

/* Pendulum, but the step numbered `bad_step` (1-based, counted over the
 * env's life) returns a NaN observation or reward. */
typedef struct faulty {
    contrl_env inner;
    uint64_t steps, bad_step;
    int what; /* 0 obs, 1 reward */
} faulty;

static contrl_status faulty_reset(void *user, uint64_t seed, float *obs)
{
    faulty *f = user;
    return f->inner.reset(f->inner.user, seed, obs);
}

static contrl_status faulty_step(void *user, const float *action, float *next_obs, float *reward,
                                 bool *terminated, bool *truncated)
{
    faulty *f = user;
    contrl_status st = f->inner.step(f->inner.user, action, next_obs, reward, terminated, truncated);
    if (++f->steps == f->bad_step) {
        if (f->what == 0)
            next_obs[1] = NAN;
        else
            *reward = NAN;
    }
    return st;
}

START_TEST(env_returning_nan_stops_learning_with_the_last_good_state)
{
    enum { BAD = 150 };
    for (int what = 0; what < 2; what++) {
        faulty f;
        memset(&f, 0, sizeof f);
        ck_assert_int_eq(contrl_env_make("pendulum", NULL, &f.inner), CONTRL_OK);
        f.bad_step = BAD;
        f.what = what;
        contrl_env env = f.inner;
        env.name = "faulty-pendulum";
        env.user = &f;
        env.reset = faulty_reset;
        env.step = faulty_step;
        env.destroy = NULL;
        contrl_agent *a = make_agent(CONTRL_ALGO_SAC, 3e-4f, 2);
        contrl_status st = contrl_agent_learn(a, &env, 400, NULL, NULL);
        ck_assert_int_eq(st, CONTRL_ERR_NONFINITE);
        ck_assert_msg(strstr(contrl_last_error(), what == 0 ? "next_obs[1] = nan" : "reward") !=
                          NULL,
                      "message: %s", contrl_last_error());
        /* The twin learns the BAD - 1 good steps on a clean env: the same
         * parameters, optimiser states and buffer. */
        contrl_env clean;
        ck_assert_int_eq(contrl_env_make("pendulum", NULL, &clean), CONTRL_OK);
        contrl_agent *twin = make_agent(CONTRL_ALGO_SAC, 3e-4f, 2);
        ck_assert_int_eq(contrl_agent_learn(twin, &clean, BAD - 1, NULL, NULL), CONTRL_OK);
        ck_assert_uint_eq(contrl_agent_steps(a), BAD - 1);
        ck_assert_uint_eq(critics_hash(a), critics_hash(twin));
        ck_assert_uint_eq(actor_hash(a), actor_hash(twin));
        ck_assert_uint_eq(buffer_hash(a), buffer_hash(twin));
        contrl_agent_destroy(twin);
        contrl_agent_destroy(a);
        contrl_env_close(&clean);
        contrl_env_close(&f.inner);
    }
}
END_TEST

/* ---- inside the computation ---------------------------------------------- */

static contrl_net *small_net(void)
{
    contrl_net_config c = contrl_net_config_default();
    c.in = 3;
    c.out = 2;
    c.hidden[0] = c.hidden[1] = 8;
    c.max_batch = 4;
    c.seed = 3;
    contrl_net *n;
    ck_assert_int_eq(contrl_net_create(&c, &n), CONTRL_OK);
    return n;
}

static void backward_with(contrl_net *net, float dy_value)
{
    float x[4 * 3], dy[4 * 2];
    for (int i = 0; i < 12; i++)
        x[i] = 0.1f * (float)i - 0.5f;
    for (int i = 0; i < 8; i++)
        dy[i] = i == 5 ? dy_value : 0.25f;
    ck_assert_int_eq(contrl_net_forward(net, x, 4, NULL), CONTRL_OK);
    ck_assert_int_eq(contrl_net_zero_grad(net), CONTRL_OK);
    ck_assert_int_eq(contrl_net_backward(net, dy, NULL), CONTRL_OK);
}

START_TEST(nan_gradient_and_overflowing_steps_are_refused_by_adam)
{
    contrl_net *net = small_net();
    size_t n = contrl_net_param_count(net);
    contrl_adam_config ac = contrl_adam_config_default();
    contrl_adam *adam;
    ck_assert_int_eq(contrl_adam_create(&ac, n, &adam), CONTRL_OK);
    backward_with(net, 1.0f);
    ck_assert_int_eq(contrl_adam_step(adam, net), CONTRL_OK);
    uint64_t good = hash_net(0, net, adam);

    /* a NaN reaching the gradient */
    backward_with(net, NAN);
    ck_assert_int_eq(contrl_adam_step(adam, net), CONTRL_ERR_NUMERIC);
    ck_assert_ptr_nonnull(strstr(contrl_last_error(), "NaN"));
    ck_assert_uint_eq(hash_net(0, net, adam), good);

    /* a finite gradient with a learning rate that overflows the step */
    backward_with(net, 1.0f);
    ck_assert_int_eq(contrl_adam_set_lr(adam, FLT_MAX), CONTRL_OK);
    ck_assert_int_eq(contrl_adam_step(adam, net), CONTRL_ERR_NUMERIC);
    ck_assert_ptr_nonnull(strstr(contrl_last_error(), "too large"));
    ck_assert_uint_eq(hash_net(0, net, adam), good);

    /* moments that are finite but make the ratio m / (sqrt(v) + eps) overflow */
    ck_assert_int_eq(contrl_adam_set_lr(adam, 1e-3f), CONTRL_OK);
    float *m = calloc(2 * n, sizeof(float));
    for (size_t i = 0; i < n; i++)
        m[i] = 1e38f; /* v (m + n) stays 0 */
    ck_assert_int_eq(contrl_adam_set_state(adam, m, m + n, n, 1), CONTRL_OK);
    uint64_t extreme = hash_net(0, net, adam);
    ck_assert_int_eq(contrl_adam_step(adam, net), CONTRL_ERR_NUMERIC);
    ck_assert_uint_eq(hash_net(0, net, adam), extreme);
    free(m);
    contrl_adam_destroy(adam);
    contrl_net_destroy(net);
}
END_TEST

/* A reward near FLT_MAX is finite, so it is stored; the critic's loss then
 * overflows and the update is refused with every net as it was. */
START_TEST(overflowing_loss_is_refused_and_keeps_every_net)
{
    contrl_agent *a = make_agent(CONTRL_ALGO_TD3, 3e-4f, 4);
    contrl_env env;
    ck_assert_int_eq(contrl_env_make("pendulum", NULL, &env), CONTRL_OK);
    ck_assert_int_eq(contrl_agent_learn(a, &env, 64, NULL, NULL), CONTRL_OK);
    contrl_buffer_clear((contrl_buffer *)a->buffer);
    float obs[3] = {1, 0, 0}, act[1] = {0};
    for (int i = 0; i < 20; i++)
        ck_assert_int_eq(contrl_agent_observe(a, obs, act, 3e38f, obs, false, false), CONTRL_OK);
    uint64_t critics = critics_hash(a), actor = actor_hash(a);
    ck_assert_int_eq(contrl_agent_update(a, 1, NULL), CONTRL_ERR_NUMERIC);
    ck_assert_ptr_nonnull(strstr(contrl_last_error(), "not finite"));
    ck_assert_uint_eq(critics_hash(a), critics);
    ck_assert_uint_eq(actor_hash(a), actor);
    contrl_env_close(&env);
    contrl_agent_destroy(a);
}
END_TEST

/* critic_lr 1e30: the critics blow up within a few updates. Every failing
 * update is NUMERIC with a message, leaves no NaN/Inf in any net, and
 * changes nothing of the phase that failed (the critics when the critic
 * regression fails; the actor when its step fails). */
START_TEST(diverging_critic_stops_with_numeric_and_the_last_good_parameters)
{
    for (int algo = 0; algo < 2; algo++) {
        contrl_agent *a = make_agent(algo == 0 ? CONTRL_ALGO_TD3 : CONTRL_ALGO_SAC, 1e30f, 5);
        contrl_rng rng;
        contrl_rng_seed(&rng, 9);
        for (int i = 0; i < 40; i++) {
            float obs[3], next[3], act[1] = {4.0f * contrl_rng_uniform(&rng) - 2.0f};
            for (int k = 0; k < 3; k++) {
                obs[k] = contrl_rng_uniform(&rng);
                next[k] = contrl_rng_uniform(&rng);
            }
            ck_assert_int_eq(contrl_agent_observe(a, obs, act, -contrl_rng_uniform(&rng), next,
                                                  false, false),
                             CONTRL_OK);
        }
        int failures = 0;
        for (int u = 0; u < 200 && failures < 5; u++) {
            uint64_t critics = critics_hash(a), actor = actor_hash(a);
            contrl_status st = contrl_agent_update(a, 1, NULL);
            (void)critics_hash(a); /* asserts every parameter finite */
            (void)actor_hash(a);
            if (st == CONTRL_OK)
                continue;
            failures++;
            ck_assert_int_eq(st, CONTRL_ERR_NUMERIC);
            const char *msg = contrl_last_error();
            ck_assert_ptr_nonnull(strstr(msg, "contrl_agent_update"));
            if (strstr(msg, "actor") != NULL)
                ck_assert_uint_eq(actor_hash(a), actor);
            else {
                ck_assert_uint_eq(critics_hash(a), critics);
                ck_assert_uint_eq(actor_hash(a), actor);
            }
        }
        ck_assert_msg(failures > 0, "algo %d: critic_lr 1e30 never diverged", algo);
        contrl_agent_destroy(a);
    }
}
END_TEST

START_TEST(her_episode_with_nan_is_refused_and_nothing_is_stored)
{
    contrl_goal_env env;
    ck_assert_int_eq(contrl_goal_env_make("bitflip-3", NULL, &env), CONTRL_OK);
    contrl_agent_config c = contrl_agent_config_default(CONTRL_ALGO_TD3);
    c.obs_dim = env.obs_dim;
    c.action_dim = env.action_dim;
    c.hidden[0] = c.hidden[1] = 8;
    c.batch_size = 4;
    c.buffer_capacity = 100;
    contrl_her *h;
    ck_assert_int_eq(contrl_her_create(CONTRL_ALGO_TD3, &c, NULL, NULL, &env, &h), CONTRL_OK);
    float obs[4 * 3] = {0}, ag[4 * 3] = {0}, g[3] = {1, 1, 1}, act[3] = {0, 0.5f, -0.5f};
    contrl_agent *a = contrl_her_agent(h);
    uint64_t before = buffer_hash(a);
    ag[7] = NAN;
    ck_assert_int_eq(contrl_her_store_episode(h, obs, ag, g, act, 3, false), CONTRL_ERR_NONFINITE);
    ck_assert_ptr_nonnull(strstr(contrl_last_error(), "NaN"));
    ck_assert_uint_eq(buffer_hash(a), before);
    contrl_her_destroy(h);
    contrl_goal_env_close(&env);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("numeric");
    TCase *tc = tcase_create("numeric");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, nonfinite_transition_is_refused_and_nothing_is_stored);
    tcase_add_test(tc, env_returning_nan_stops_learning_with_the_last_good_state);
    tcase_add_test(tc, nan_gradient_and_overflowing_steps_are_refused_by_adam);
    tcase_add_test(tc, overflowing_loss_is_refused_and_keeps_every_net);
    tcase_add_test(tc, diverging_critic_stops_with_numeric_and_the_last_good_parameters);
    tcase_add_test(tc, her_episode_with_nan_is_refused_and_nothing_is_stored);
    suite_add_tcase(s, tc);
    SRunner *r = srunner_create(s);
    srunner_run_all(r, CK_NORMAL);
    int failed = srunner_ntests_failed(r);
    srunner_free(r);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
