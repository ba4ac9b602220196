/* tests/agents/test_multigoal.c - maximum-entropy agents keep several modes,
 * a deterministic agent keeps one: Soft Q-learning (SQL) and SAC at the
 * same temperature learn policies that, sampled from the start state of the
 * "multigoal" task, reach three or four of its four equally good goals;
 * TD3's deterministic policy does not.
 *
 * The task (contrl/env.h, docs/env.md) is the 2-D point of the SQL paper's
 * figure 2 (Haarnoja et al. 2017): four goals at (+-5, 0) and (0, +-5),
 * start s ~ N(0, 0.1^2 I), 30-step episodes, terminated with +10 within
 * distance 1 of a goal.
 *
 * After training, each agent runs 100 episodes from the start state (reset
 * seeds EVAL_SEED + i): SQL and SAC with their stochastic policies
 * (contrl_agent_act with explore = true, after contrl_agent_reset_noise),
 * TD3 with its deterministic policy (explore = false). An episode reaches
 * goal g if it terminates and its final observation lies within distance 1
 * of g. Counts per goal are printed; docs/sql.md collects them.
 *
 * Claims, and why they are stated so:
 *  - SQL and SAC: at least 3 goals, each reached in at least 5 of the 100
 *    episodes - a mode, not a stray episode.
 *  - TD3: at most 2 goals. Its policy is a deterministic function of the
 *    start state, so only the start noise (0.1) can split the episodes, and
 *    it does when a boundary between two goals' basins crosses the start
 *    cloud: over seeds 1-12 TD3 sent every episode to one goal in 7 seeds
 *    (seed 1, the one used here, included) and split 95/5, 89/11, 86/14,
 *    69/31, 91/9 between two neighbouring goals in the other 5; never 3.
 *    "Exactly 1" would be a claim about the seed, not about TD3.
 *
 * Settings (all agents: 2 hidden layers of 64 relu units, gamma 0.99, seed
 * 1, trained by contrl_agent_learn; the 12-seed figures here come from
 * scratch runs with these settings and other evaluation seeds, the 5-seed
 * ones from benchmarks/bench_multigoal.c):
 *  - SQL, from the authors' examples/multigoal_sql.py (haarnoja/softqlearning):
 *    reward_scale 0.1, value_particles 16, kernel_update_ratio 0.5,
 *    target_update_interval 1000, lr 3e-4 for both nets, batch 64, one
 *    gradient step per env step, learning from 100 stored transitions
 *    (their min_pool_size; here: 100 uniform random warm-up steps, as
 *    contrl_agent_learn does). Changed for speed: hidden 64-64 (theirs
 *    128-128), kernel_particles 16 (theirs 32), 6000 env steps (theirs
 *    1000 epochs of 100 = 100,000). Over seeds 1-12 these reached all four
 *    goals, each in 13 to 35 of 100 episodes.
 *  - SAC: fixed alpha 10, the temperature 1 / reward_scale of the SQL run,
 *    so both agents maximise the same entropy-regularised return. (With
 *    automatic alpha, target entropy -2, SAC reached one or two goals in
 *    seeds 1-5: the target entropy, not the reward, then sets the
 *    temperature; benchmarks/bench_multigoal.c.) Batch 256, lr 1e-3, 1000
 *    random warm-up steps, tau 0.005, 10000 env steps: the repository's
 *    Pendulum settings (tests/agents/test_learning.c). At batch 64 it
 *    reached only two goals in 2 of 12 seeds; at 256 all four in all 12.
 *  - TD3: its defaults (policy delay 2, target noise 0.2 clipped at 0.5,
 *    exploration noise 0.1), lr, warm-up, tau and steps as SAC, batch 64
 *    (the authors' multigoal batch): at batch 256, 2 of 12 seeds still
 *    missed every goal in over half the episodes after 10000 steps; at 64
 *    every episode of every seed reached a goal.
 *
 * Public API, shared library. One test case per algorithm, each with its
 * own timeout. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "contrl/contrl.h"

enum { EPISODES = 100, N_GOALS = 4, MIN_MODE_EPISODES = 5 };
static const double GOALS[N_GOALS][2] = {{5.0, 0.0}, {-5.0, 0.0}, {0.0, 5.0}, {0.0, -5.0}};
static const uint64_t SEED = 1;
static const uint64_t EVAL_SEED = 1000000; /* reset seeds of the 100 evaluation episodes */

typedef enum variant { SQL, SAC, TD3 } variant;
static const char *const variant_names[] = {"sql", "sac", "td3"};

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* A new agent with the settings of the file comment; *steps_out: its
 * training budget in env steps. */
static contrl_agent *make_agent(variant v, const contrl_env *env, uint64_t *steps_out)
{
    const contrl_algo algo = v == SQL ? CONTRL_ALGO_SQL : v == SAC ? CONTRL_ALGO_SAC
                                                                   : CONTRL_ALGO_TD3;
    contrl_agent_config cfg = contrl_agent_config_default(algo);
    cfg.obs_dim = env->obs_dim;
    cfg.action_dim = env->action_dim;
    cfg.action_low = env->action_low;
    cfg.action_high = env->action_high;
    cfg.n_hidden = 2;
    cfg.hidden[0] = 64;
    cfg.hidden[1] = 64;
    cfg.gamma = 0.99f;
    cfg.buffer_capacity = 100000;
    cfg.seed = SEED;

    contrl_agent *agent = NULL;
    contrl_status st;
    if (v == SQL) {
        cfg.actor_lr = 3e-4f;
        cfg.critic_lr = 3e-4f;
        cfg.batch_size = 64;
        cfg.learning_starts = 100;
        contrl_sql_config q = contrl_sql_config_default();
        q.reward_scale = 0.1f;
        q.value_particles = 16;
        q.kernel_particles = 16;
        q.kernel_update_ratio = 0.5f;
        q.target_update_interval = 1000;
        st = contrl_sql_create(&cfg, &q, &agent);
        *steps_out = 6000;
    } else {
        cfg.actor_lr = 1e-3f;
        cfg.critic_lr = 1e-3f;
        cfg.batch_size = v == SAC ? 256 : 64;
        cfg.learning_starts = 1000;
        cfg.tau = 0.005f;
        if (v == SAC) {
            contrl_sac_config s = contrl_sac_config_default();
            s.auto_alpha = false;
            s.init_alpha = 10.0f;
            st = contrl_sac_create(&cfg, &s, &agent);
        } else {
            st = contrl_td3_create(&cfg, NULL, &agent);
        }
        *steps_out = 10000;
    }
    ck_assert_msg(st == CONTRL_OK, "create %s: %s", variant_names[v], contrl_last_error());
    return agent;
}

/* Runs EPISODES episodes; counts[g] for goal g, counts[N_GOALS] for
 * episodes that reached none. *mean_return: their mean return. */
static void count_goals(contrl_agent *agent, contrl_env *env, bool explore,
                        int counts[N_GOALS + 1], double *mean_return)
{
    memset(counts, 0, (N_GOALS + 1) * sizeof counts[0]);
    double total = 0.0;
    for (int e = 0; e < EPISODES; e++) {
        float obs[2], next_obs[2], action[2], reward;
        bool terminated = false, truncated = false;
        ck_assert_int_eq(contrl_env_reset(env, EVAL_SEED + (uint64_t)e, obs), CONTRL_OK);
        ck_assert_int_eq(contrl_agent_reset_noise(agent), CONTRL_OK);
        while (!terminated && !truncated) {
            ck_assert_int_eq(contrl_agent_act(agent, obs, action, explore), CONTRL_OK);
            ck_assert_int_eq(contrl_env_step(env, action, next_obs, &reward, &terminated,
                                             &truncated),
                             CONTRL_OK);
            total += reward;
            memcpy(obs, next_obs, sizeof obs);
        }
        int reached = N_GOALS;
        if (terminated) {
            /* The env decides on its double position; the observation is
             * that position rounded to float (error < 1e-6 here). */
            for (int g = 0; g < N_GOALS; g++)
                if (hypot(obs[0] - GOALS[g][0], obs[1] - GOALS[g][1]) < 1.0 + 1e-6)
                    reached = g;
            ck_assert_msg(reached < N_GOALS, "episode %d terminated at (%g, %g), not within 1 "
                          "of a goal", e, (double)obs[0], (double)obs[1]);
        }
        counts[reached]++;
    }
    *mean_return = total / EPISODES;
}

/* Goals reached in at least `min` episodes. */
static int goals_with(const int counts[N_GOALS + 1], int min)
{
    int n = 0;
    for (int g = 0; g < N_GOALS; g++)
        n += counts[g] >= min;
    return n;
}

static void run(variant v, int counts[N_GOALS + 1])
{
    contrl_env env;
    ck_assert_int_eq(contrl_env_make("multigoal", NULL, &env), CONTRL_OK);
    uint64_t steps = 0;
    contrl_agent *agent = make_agent(v, &env, &steps);
    const double t0 = now_s();
    contrl_status st = contrl_agent_learn(agent, &env, steps, NULL, NULL);
    const double seconds = now_s() - t0;
    ck_assert_msg(st == CONTRL_OK, "learn %s: %s", variant_names[v], contrl_last_error());

    const bool explore = v != TD3;
    double mean_return = NAN;
    count_goals(agent, &env, explore, counts, &mean_return);
    printf("%s (%s policy, %llu env steps, %.1f s): of %d episodes from the start state, "
           "(5,0) %d  (-5,0) %d  (0,5) %d  (0,-5) %d  none %d; mean return %.1f\n",
           variant_names[v], explore ? "stochastic" : "deterministic", (unsigned long long)steps,
           seconds, EPISODES, counts[0], counts[1], counts[2], counts[3], counts[N_GOALS],
           mean_return);
    fflush(stdout);
    contrl_agent_destroy(agent);
    contrl_env_close(&env);
}

START_TEST(sql_reaches_at_least_3_goals_from_the_start_state)
{
    int counts[N_GOALS + 1];
    run(SQL, counts);
    ck_assert_msg(goals_with(counts, MIN_MODE_EPISODES) >= 3,
                  "sql: only %d goals reached in >= %d of %d episodes (counts %d %d %d %d, "
                  "none %d)", goals_with(counts, MIN_MODE_EPISODES), MIN_MODE_EPISODES,
                  EPISODES, counts[0], counts[1], counts[2], counts[3], counts[N_GOALS]);
}
END_TEST

START_TEST(sac_at_the_sql_temperature_reaches_at_least_3_goals_from_the_start_state)
{
    int counts[N_GOALS + 1];
    run(SAC, counts);
    ck_assert_msg(goals_with(counts, MIN_MODE_EPISODES) >= 3,
                  "sac: only %d goals reached in >= %d of %d episodes (counts %d %d %d %d, "
                  "none %d)", goals_with(counts, MIN_MODE_EPISODES), MIN_MODE_EPISODES,
                  EPISODES, counts[0], counts[1], counts[2], counts[3], counts[N_GOALS]);
}
END_TEST

START_TEST(td3_reaches_at_most_2_goals_from_the_start_state)
{
    int counts[N_GOALS + 1];
    run(TD3, counts);
    /* It learned to reach a goal at all (not a vacuous "at most 2")... */
    ck_assert_msg(counts[N_GOALS] <= EPISODES / 10, "td3: %d of %d episodes reached no goal",
                  counts[N_GOALS], EPISODES);
    /* ...and no third one, counting even single episodes. */
    ck_assert_msg(goals_with(counts, 1) <= 2, "td3: %d goals reached (counts %d %d %d %d)",
                  goals_with(counts, 1), counts[0], counts[1], counts[2], counts[3]);
}
END_TEST

static Suite *multigoal_suite(void)
{
    Suite *s = suite_create("agents-multigoal");
    const struct {
        const char *name;
        const TTest *test;
    } cases[] = {
        {"sql", sql_reaches_at_least_3_goals_from_the_start_state},
        {"sac", sac_at_the_sql_temperature_reaches_at_least_3_goals_from_the_start_state},
        {"td3", td3_reaches_at_most_2_goals_from_the_start_state},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        TCase *tc = tcase_create(cases[i].name);
        /* Normal build, 2 shared cores: SQL 6-11 s, SAC 6-12 s, TD3 1-3 s;
         * ASan+UBSan build: 27, 28 and 6 s. */
        tcase_set_timeout(tc, 600);
        tcase_add_test(tc, cases[i].test);
        suite_add_tcase(s, tc);
    }
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(multigoal_suite());
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
