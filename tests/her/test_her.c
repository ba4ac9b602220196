/* tests/her/test_her.c - the HER learner: which goals each strategy may
 * draw (on hand-built episodes), relabelled rewards, truncation handling,
 * the sample-time mode, bad input, and learning 2-D point reach with and
 * without hindsight goals. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "contrl/contrl.h"
#include "her_internal.h"

/* A 1-D goal env used only for its sizes and compute_reward:
 * reward = 0 if |achieved - desired| <= 0.05 else -1. */
static void reward_1d(void *user, const float *ag, const float *g, uint32_t n, float *r)
{
    (void)user;
    for (uint32_t i = 0; i < n; i++)
        r[i] = fabsf(ag[i] - g[i]) <= 0.05f ? 0.0f : -1.0f;
}
static contrl_status no_reset(void *u, uint64_t s, float *o, float *ag, float *g)
{
    (void)u, (void)s, (void)o, (void)ag, (void)g;
    return CONTRL_ERR_STATE;
}
static contrl_status no_step(void *u, const float *a, float *o, float *ag, float *r, bool *te,
                             bool *tr)
{
    (void)u, (void)a, (void)o, (void)ag, (void)r, (void)te, (void)tr;
    return CONTRL_ERR_STATE;
}
static const float lo1[1] = {-1.0f}, hi1[1] = {1.0f};
static contrl_goal_env line_env(uint32_t T)
{
    contrl_goal_env e;
    memset(&e, 0, sizeof e);
    e.size = sizeof e;
    e.name = "line";
    e.obs_dim = 1;
    e.goal_dim = 1;
    e.action_dim = 1;
    e.action_low = lo1;
    e.action_high = hi1;
    e.max_episode_steps = T;
    e.reset = no_reset;
    e.step = no_step;
    e.compute_reward = reward_1d;
    return e;
}

static contrl_her *make_her(const contrl_goal_env *env, contrl_her_strategy strategy, uint32_t k,
                            contrl_her_relabel relabel)
{
    contrl_agent_config c = contrl_agent_config_default(CONTRL_ALGO_TD3);
    c.obs_dim = env->obs_dim;
    c.action_dim = env->action_dim;
    c.action_low = env->action_low;
    c.action_high = env->action_high;
    c.hidden[0] = c.hidden[1] = 16;
    c.batch_size = 8;
    c.buffer_capacity = 10000;
    c.learning_starts = 0;
    c.seed = 3;
    contrl_her_config hc = contrl_her_config_default();
    hc.strategy = strategy;
    hc.k = k;
    hc.relabel = relabel;
    contrl_her *h = NULL;
    ck_assert_msg(contrl_her_create(CONTRL_ALGO_TD3, &c, NULL, &hc, env, &h) == CONTRL_OK, "%s",
                  contrl_last_error());
    return h;
}

/* Episode of T steps on the line: obs_t = ag_t = 10 + t (distinct per
 * state, far from the desired goal -5), actions 0. */
enum { T_EP = 6 };
static void store_line_episode(contrl_her *h, float base)
{
    float obs[T_EP + 1], ag[T_EP + 1], g[1] = {-5.0f}, act[T_EP] = {0};
    for (int t = 0; t <= T_EP; t++)
        obs[t] = ag[t] = base + (float)t;
    ck_assert_int_eq(contrl_her_store_episode(h, obs, ag, g, act, T_EP, false), CONTRL_OK);
}

START_TEST(goal_index_rules_match_the_paper_strategies)
{
    contrl_rng rng;
    contrl_rng_seed(&rng, 1);
    const uint32_t T = 6;
    for (uint32_t t = 0; t < T; t++) {
        bool seen_future[7] = {0}, seen_episode[7] = {0};
        for (int i = 0; i < 2000; i++) {
            uint32_t f = contrl__her_goal_index(CONTRL_HER_FUTURE, t, T, &rng);
            ck_assert_uint_gt(f, t);
            ck_assert_uint_le(f, T);
            seen_future[f] = true;
            uint32_t e = contrl__her_goal_index(CONTRL_HER_EPISODE, t, T, &rng);
            ck_assert_uint_le(e, T);
            seen_episode[e] = true;
            ck_assert_uint_eq(contrl__her_goal_index(CONTRL_HER_FINAL, t, T, &rng), T);
        }
        for (uint32_t j = 0; j <= T; j++) {
            ck_assert_int_eq(seen_future[j], j > t); /* every later state, none earlier */
            ck_assert(seen_episode[j]);              /* every state of the episode */
        }
    }
}
END_TEST

/* ON_STORE: the replay buffer holds, per real transition, the real one and
 * k relabelled ones whose goals obey the strategy; rewards are recomputed;
 * truncation is not termination. */
START_TEST(stored_episode_relabels_with_the_strategy_goals)
{
    static const contrl_her_strategy strategies[] = {CONTRL_HER_FUTURE, CONTRL_HER_FINAL,
                                                     CONTRL_HER_EPISODE, CONTRL_HER_RANDOM};
    const contrl_her_strategy strategy = strategies[_i];
    contrl_goal_env env = line_env(T_EP);
    contrl_her *h = make_her(&env, strategy, 4, CONTRL_HER_RELABEL_ON_STORE);
    store_line_episode(h, 100.0f); /* for RANDOM: another episode to draw from */
    store_line_episode(h, 10.0f);
    const contrl_buffer *buf = contrl_agent_buffer(contrl_her_agent(h));
    ck_assert_uint_eq(contrl_buffer_size(buf), 2 * T_EP * 5);
    ck_assert_uint_eq(contrl_agent_steps(contrl_her_agent(h)), 2 * T_EP);
    int relabelled_success = 0;
    bool saw_other_episode = false;
    for (uint64_t i = T_EP * 5; i < 2 * T_EP * 5; i++) { /* the second episode */
        float obs[2], act[1], rew, next[2];
        bool term, trunc;
        ck_assert_int_eq(contrl_buffer_get(buf, i, obs, act, &rew, next, &term, &trunc), CONTRL_OK);
        const uint32_t t = (uint32_t)((i - T_EP * 5) / 5), j = (uint32_t)((i - T_EP * 5) % 5);
        ck_assert_float_eq(obs[0], 10.0f + (float)t);
        ck_assert_float_eq(next[0], 10.0f + (float)t + 1.0f);
        ck_assert_float_eq(obs[1], next[1]); /* same goal on both sides */
        const float goal = obs[1];
        ck_assert(!term);
        ck_assert_int_eq(trunc, t + 1 == T_EP); /* time limit: bootstrap continues */
        /* reward recomputed for the goal: 0 iff next state's achieved goal is it */
        ck_assert_float_eq(rew, fabsf(next[0] - goal) <= 0.05f ? 0.0f : -1.0f);
        if (j == 0) {
            ck_assert_float_eq(goal, -5.0f);
            continue;
        }
        relabelled_success += rew == 0.0f;
        const float idx = goal - 10.0f;
        switch (strategy) {
        case CONTRL_HER_FUTURE:
            ck_assert(idx >= (float)t + 1 && idx <= T_EP); /* never past the episode's end */
            break;
        case CONTRL_HER_FINAL:
            ck_assert_float_eq(idx, T_EP);
            break;
        case CONTRL_HER_EPISODE:
            ck_assert(idx >= 0 && idx <= T_EP);
            break;
        case CONTRL_HER_RANDOM:
            ck_assert((idx >= 0 && idx <= T_EP) || (goal >= 100.0f && goal <= 100.0f + T_EP));
            saw_other_episode |= goal >= 100.0f;
            break;
        }
    }
    ck_assert_int_gt(relabelled_success, 0);
    if (strategy == CONTRL_HER_RANDOM)
        ck_assert(saw_other_episode);
    contrl_her_destroy(h);
}
END_TEST

/* ON_SAMPLE: minibatches come from the episodes, with about k/(k+1) of
 * the goals relabelled, none from past an episode's end. */
START_TEST(sample_mode_draws_relabelled_minibatches)
{
    contrl_goal_env env = line_env(T_EP);
    contrl_her *h = make_her(&env, CONTRL_HER_FUTURE, 4, CONTRL_HER_RELABEL_ON_SAMPLE);
    contrl_agent *a = contrl_her_agent(h);
    ck_assert_int_eq(contrl_her_update(h, 1, NULL), CONTRL_ERR_STATE); /* nothing stored yet */
    store_line_episode(h, 10.0f);
    contrl_update_stats st;
    ck_assert_msg(contrl_her_update(h, 50, &st) == CONTRL_OK, "%s", contrl_last_error());
    ck_assert_uint_eq(st.updates, 50);
    ck_assert(isfinite(st.critic_loss));
    (void)a;
    contrl_her_destroy(h);
}
END_TEST

START_TEST(bad_episodes_are_rejected_and_nothing_is_stored)
{
    contrl_goal_env env = line_env(T_EP);
    contrl_her *h = make_her(&env, CONTRL_HER_FUTURE, 4, CONTRL_HER_RELABEL_ON_STORE);
    float obs[T_EP + 1] = {0}, ag[T_EP + 1] = {0}, g[1] = {0}, act[T_EP] = {0};
    ag[3] = NAN;
    ck_assert_int_eq(contrl_her_store_episode(h, obs, ag, g, act, T_EP, false), CONTRL_ERR_NONFINITE);
    ag[3] = 0.0f;
    ck_assert_int_eq(contrl_her_store_episode(h, obs, ag, g, act, 0, false), CONTRL_ERR_INVALID_ARG);
    ck_assert_int_eq(contrl_her_store_episode(h, obs, ag, g, act, T_EP + 1, false),
                     CONTRL_ERR_INVALID_ARG);
    ck_assert_int_eq(contrl_her_store_episode(h, NULL, ag, g, act, T_EP, false),
                     CONTRL_ERR_INVALID_ARG);
    ck_assert_uint_eq(contrl_buffer_size(contrl_agent_buffer(contrl_her_agent(h))), 0);
    ck_assert_int_eq(contrl_her_act(h, obs, NULL, act, false), CONTRL_ERR_INVALID_ARG);
    contrl_her *none = (contrl_her *)(void *)&none;
    contrl_agent_config c = contrl_agent_config_default(CONTRL_ALGO_TD3);
    c.obs_dim = 2; /* the env has 1 */
    c.action_dim = 1;
    ck_assert_int_eq(contrl_her_create(CONTRL_ALGO_TD3, &c, NULL, NULL, &env, &none),
                     CONTRL_ERR_INVALID_ARG);
    ck_assert_ptr_null(none);
    contrl_her_destroy(h);
    contrl_her_destroy(NULL);
}
END_TEST

/* ---- checkpoints -------------------------------------------------------- */

static contrl_her *make_reach(const contrl_goal_env *env, contrl_her_relabel relabel)
{
    contrl_agent_config c = contrl_agent_config_default(CONTRL_ALGO_SAC);
    c.obs_dim = env->obs_dim;
    c.action_dim = env->action_dim;
    c.action_low = env->action_low;
    c.action_high = env->action_high;
    c.hidden[0] = c.hidden[1] = 32;
    c.batch_size = 64;
    c.learning_starts = 200;
    c.buffer_capacity = 20000;
    c.seed = 9;
    contrl_her_config hc = contrl_her_config_default();
    hc.relabel = relabel;
    hc.strategy = relabel == CONTRL_HER_RELABEL_ON_SAMPLE ? CONTRL_HER_RANDOM : CONTRL_HER_FUTURE;
    contrl_her *h = NULL;
    ck_assert_int_eq(contrl_her_create(CONTRL_ALGO_SAC, &c, NULL, &hc, env, &h), CONTRL_OK);
    return h;
}

static void policy_grid(contrl_her *h, float *out)
{
    for (int i = 0; i < 16; i++) {
        float o[2] = {0.1f * (float)i - 0.8f, 0.05f * (float)i}, g[2] = {0.3f, -0.2f * (float)(i % 5)};
        ck_assert_int_eq(contrl_her_act(h, o, g, out + 2 * i, false), CONTRL_OK);
    }
}

/* Training N steps, saving with the buffer, loading and training M more
 * equals training N + M in one go (N a whole number of 50-step episodes). */
START_TEST(her_resumed_training_equals_uninterrupted_training)
{
    const contrl_her_relabel mode = _i ? CONTRL_HER_RELABEL_ON_SAMPLE : CONTRL_HER_RELABEL_ON_STORE;
    contrl_goal_env env;
    ck_assert_int_eq(contrl_goal_env_make("pointreach-2", NULL, &env), CONTRL_OK);
    contrl_her *a = make_reach(&env, mode), *b = make_reach(&env, mode), *c = NULL;
    char path[] = "/tmp/contrl-her-XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    close(fd);
    ck_assert_int_eq(contrl_her_learn(a, &env, 500, NULL, 0, NULL, NULL), CONTRL_OK);
    ck_assert_msg(contrl_her_save(a, path, CONTRL_SAVE_BUFFER) == CONTRL_OK, "%s", contrl_last_error());
    ck_assert_msg(contrl_her_load(path, &env, NULL, &c) == CONTRL_OK, "%s", contrl_last_error());
    float x[32], y[32], z[32];
    policy_grid(a, x);
    policy_grid(c, y);
    ck_assert_int_eq(memcmp(x, y, sizeof x), 0); /* the loaded policy is the saved one */
    ck_assert_int_eq(contrl_her_learn(c, &env, 500, NULL, 0, NULL, NULL), CONTRL_OK);
    ck_assert_int_eq(contrl_her_learn(b, &env, 1000, NULL, 0, NULL, NULL), CONTRL_OK);
    policy_grid(b, x);
    policy_grid(c, z);
    ck_assert_int_eq(memcmp(x, z, sizeof x), 0);
    ck_assert_uint_eq(contrl_agent_updates(contrl_her_agent(b)), contrl_agent_updates(contrl_her_agent(c)));
    /* A damaged copy is rejected. */
    FILE *fp = fopen(path, "r+b");
    ck_assert_ptr_nonnull(fp);
    ck_assert_int_eq(fseek(fp, 40, SEEK_SET), 0);
    fputc('#', fp);
    fclose(fp);
    contrl_her *d = (contrl_her *)(void *)&d;
    ck_assert_int_ne(contrl_her_load(path, &env, NULL, &d), CONTRL_OK);
    ck_assert_ptr_null(d);
    /* An env of other sizes is refused. */
    contrl_goal_env other;
    ck_assert_int_eq(contrl_goal_env_make("pointreach-3", NULL, &other), CONTRL_OK);
    ck_assert_int_eq(contrl_her_save(a, path, 0), CONTRL_OK);
    ck_assert_int_eq(contrl_her_load(path, &other, NULL, &d), CONTRL_ERR_FORMAT);
    unlink(path);
    contrl_her_destroy(a);
    contrl_her_destroy(b);
    contrl_her_destroy(c);
    contrl_goal_env_close(&env);
    contrl_goal_env_close(&other);
}
END_TEST

/* ---- learning ----------------------------------------------------------- */

static double train_pointreach(uint32_t k, uint64_t steps, uint64_t *reached_at)
{
    contrl_goal_env env, eval;
    ck_assert_int_eq(contrl_goal_env_make("pointreach-2", NULL, &env), CONTRL_OK);
    ck_assert_int_eq(contrl_goal_env_make("pointreach-2", NULL, &eval), CONTRL_OK);
    contrl_agent_config c = contrl_agent_config_default(CONTRL_ALGO_TD3);
    c.obs_dim = env.obs_dim;
    c.action_dim = env.action_dim;
    c.action_low = env.action_low;
    c.action_high = env.action_high;
    c.hidden[0] = c.hidden[1] = 64;
    c.batch_size = 256;
    c.actor_lr = c.critic_lr = 1e-3f;
    c.gamma = 0.98f; /* the HER paper's */
    c.learning_starts = 1000;
    c.buffer_capacity = 200000;
    c.seed = 1;
    contrl_her_config hc = contrl_her_config_default();
    hc.k = k;
    contrl_her *h = NULL;
    ck_assert_int_eq(contrl_her_create(CONTRL_ALGO_TD3, &c, NULL, &hc, &env, &h), CONTRL_OK);
    double best = 0.0;
    *reached_at = 0;
    for (uint64_t done = 0; done < steps; done += 2000) {
        ck_assert_msg(contrl_her_learn(h, &env, 2000, NULL, 0, NULL, NULL) == CONTRL_OK, "%s",
                      contrl_last_error());
        double rate;
        ck_assert_int_eq(contrl_her_evaluate(h, &eval, 50, 4242, &rate, NULL), CONTRL_OK);
        printf("k=%u step %llu success %.2f\n", k, (unsigned long long)(done + 2000), rate);
        if (rate > best)
            best = rate;
        if (rate >= 0.9 && *reached_at == 0) {
            *reached_at = done + 2000;
            if (k > 0)
                break;
        }
    }
    contrl_her_destroy(h);
    contrl_goal_env_close(&env);
    contrl_goal_env_close(&eval);
    return best;
}

#define POINTREACH_BUDGET 30000

START_TEST(td3_with_her_reaches_90_percent_on_2d_point_reach_and_without_does_not)
{
    uint64_t at_her, at_plain;
    double her = train_pointreach(4, POINTREACH_BUDGET, &at_her);
    double plain = train_pointreach(0, at_her ? at_her : POINTREACH_BUDGET, &at_plain);
    printf("pointreach-2, TD3: with HER (future, k=4) best success %.2f, reached 0.9 at step "
           "%llu; without HER, same budget, best %.2f\n",
           her, (unsigned long long)at_her, plain);
    ck_assert_msg(her >= 0.9, "HER reached only %.2f", her);
    ck_assert_msg(plain <= her - 0.3, "without HER %.2f, with %.2f", plain, her);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("her");
    TCase *tc = tcase_create("relabelling");
    tcase_add_test(tc, goal_index_rules_match_the_paper_strategies);
    tcase_add_loop_test(tc, stored_episode_relabels_with_the_strategy_goals, 0, 4);
    tcase_add_test(tc, sample_mode_draws_relabelled_minibatches);
    tcase_add_test(tc, bad_episodes_are_rejected_and_nothing_is_stored);
    tcase_add_loop_test(tc, her_resumed_training_equals_uninterrupted_training, 0, 2);
    suite_add_tcase(s, tc);
    TCase *learn = tcase_create("learning");
    tcase_set_timeout(learn, 900);
    tcase_add_test(learn, td3_with_her_reaches_90_percent_on_2d_point_reach_and_without_does_not);
    suite_add_tcase(s, learn);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
