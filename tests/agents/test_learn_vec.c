/* tests/agents/test_learn_vec.c - contrl_agent_learn_vec: TD3 learns the
 * pendulum on 4 envs; the trained agent is the same bit for bit for any
 * thread count of the vec env; exact step counts, the transitions stored in
 * env order, progress reports and evaluations where asked, argument checks,
 * and no allocation while learning.
 *
 * Public API, shared library, with the C library's allocation functions
 * interposed (export_dynamic) to count calls inside libcontrl.so and on the
 * vec env's worker threads. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../support/counting_alloc.h"
#include "contrl/contrl.h"

static contrl_vec_env *pendulums(uint32_t n, uint32_t threads)
{
    contrl_env envs[8];
    ck_assert_uint_le(n, 8);
    for (uint32_t i = 0; i < n; i++)
        ck_assert_int_eq(contrl_env_make("pendulum", NULL, &envs[i]), CONTRL_OK);
    contrl_vec_env_config cfg = contrl_vec_env_config_default();
    cfg.threads = threads;
    contrl_vec_env *v = NULL;
    ck_assert_msg(contrl_vec_env_create(envs, n, &cfg, &v) == CONTRL_OK, "vec env: %s",
                  contrl_last_error());
    return v;
}

/* test_learning.c's settings for the pendulum, or small nets for quick runs. */
static contrl_agent *make_agent(contrl_algo algo, const contrl_vec_env *v, bool small,
                                const contrl_allocator *alloc)
{
    contrl_agent_config cfg = contrl_agent_config_default(algo);
    cfg.obs_dim = contrl_vec_env_obs_dim(v);
    cfg.action_dim = contrl_vec_env_action_dim(v);
    cfg.action_low = contrl_vec_env_action_low(v);
    cfg.action_high = contrl_vec_env_action_high(v);
    cfg.n_hidden = 2;
    cfg.hidden[0] = cfg.hidden[1] = small ? 32 : 64;
    cfg.batch_size = small ? 32 : 256;
    cfg.actor_lr = cfg.critic_lr = 1e-3f;
    cfg.tau = 0.005f;
    cfg.learning_starts = small ? 300 : 1000;
    cfg.buffer_capacity = 20000;
    cfg.train_freq = small ? 2 : 1;
    cfg.gradient_steps = small ? 3 : 1;
    cfg.seed = 1;
    if (alloc != NULL)
        cfg.allocator = *alloc;
    contrl_agent *a = NULL;
    contrl_status st;
    if (algo == CONTRL_ALGO_TD3) {
        st = contrl_td3_create(&cfg, NULL, &a);
    } else if (algo == CONTRL_ALGO_SAC) {
        st = contrl_sac_create(&cfg, NULL, &a);
    } else {
        contrl_ddpg_config d = contrl_ddpg_config_default(); /* OU noise */
        st = contrl_ddpg_create(&cfg, &d, &a);
    }
    ck_assert_msg(st == CONTRL_OK, "create: %s", contrl_last_error());
    return a;
}

/* ---- learning ------------------------------------------------------------ */

enum { BUDGET = 20000, EVAL_INTERVAL = 2000, EVAL_EPISODES = 10 };
static const double TARGET = -200.0;

typedef struct record {
    int n_evals, n_reports;
    uint64_t eval_steps[64];
    double eval_means[64];
    uint64_t reached_at;
    uint64_t last_step;
    double last_seconds, last_rate;
    bool stop_at_target;
} record;

static int on_progress(const contrl_progress *p, void *user)
{
    record *r = user;
    r->n_reports++;
    r->last_step = p->step;
    r->last_seconds = p->seconds;
    r->last_rate = p->steps_per_s;
    if (!p->is_eval)
        return 0;
    if (r->n_evals < 64) {
        r->eval_steps[r->n_evals] = p->step;
        r->eval_means[r->n_evals] = p->eval_mean;
        r->n_evals++;
    }
    if (p->eval_mean >= TARGET && r->reached_at == 0) {
        r->reached_at = p->step;
        return r->stop_at_target;
    }
    return 0;
}

/* TD3 with test_learning.c's settings, on 4 pendulums stepped by 2
 * threads: an evaluation reaches -200 within 20000 env steps, and the final
 * agent holds it on 10 new episodes. */
START_TEST(td3_on_4_envs_reaches_minus_200_on_pendulum_within_20000_steps)
{
    contrl_vec_env *v = pendulums(4, 2);
    contrl_env eval_env;
    ck_assert_int_eq(contrl_env_make("pendulum", NULL, &eval_env), CONTRL_OK);
    contrl_agent *a = make_agent(CONTRL_ALGO_TD3, v, false, NULL);
    record rec;
    memset(&rec, 0, sizeof rec);
    rec.stop_at_target = true;
    contrl_learn_config lc = contrl_learn_config_default();
    lc.eval_env = &eval_env;
    lc.eval_interval = EVAL_INTERVAL;
    lc.eval_episodes = EVAL_EPISODES;
    lc.progress_interval = 0;
    lc.callback = on_progress;
    lc.user = &rec;
    ck_assert_msg(contrl_agent_learn_vec(a, v, BUDGET, &lc) == CONTRL_OK, "learn: %s",
                  contrl_last_error());
    double mean = NAN, std = NAN;
    ck_assert_int_eq(contrl_agent_evaluate(a, &eval_env, EVAL_EPISODES, 777, &mean, &std),
                     CONTRL_OK);
    char curve[512] = "";
    size_t used = 0;
    for (int i = 0; i < rec.n_evals && used < sizeof curve; i++)
        used += (size_t)snprintf(curve + used, sizeof curve - used, " %llu:%.1f",
                                 (unsigned long long)rec.eval_steps[i], rec.eval_means[i]);
    printf("td3, 4 envs, 2 threads: reached %.0f at step %llu; evaluations%s; final %.1f +- "
           "%.1f; %llu updates, %.1f s (%.0f steps/s)\n", TARGET,
           (unsigned long long)rec.reached_at, curve, mean, std,
           (unsigned long long)contrl_agent_updates(a), rec.last_seconds, rec.last_rate);
    fflush(stdout);
    for (int i = 0; i < rec.n_evals; i++) /* 2000 is a multiple of 4: exact */
        ck_assert_uint_eq(rec.eval_steps[i], (uint64_t)(i + 1) * EVAL_INTERVAL);
    ck_assert_msg(rec.reached_at != 0, "no evaluation reached %.0f within %d steps:%s", TARGET,
                  BUDGET, curve);
    ck_assert_uint_eq(contrl_agent_steps(a), rec.reached_at);
    /* One gradient step per env step after the warm-up, as with learn_ex. */
    ck_assert_uint_eq(contrl_agent_updates(a), rec.reached_at - 1000 + 1);
    ck_assert_msg(mean >= TARGET, "final agent %.1f +- %.1f:%s", mean, std, curve);
    ck_assert_str_eq(contrl_agent_env_name(a), "pendulum");
    contrl_agent_destroy(a);
    contrl_vec_env_destroy(v);
    contrl_env_close(&eval_env);
}
END_TEST

/* ---- determinism ------------------------------------------------------------ */

static unsigned char *read_all(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
    long n = ftell(f);
    ck_assert_int_gt(n, 0);
    rewind(f);
    unsigned char *buf = malloc((size_t)n);
    ck_assert_ptr_nonnull(buf);
    ck_assert_uint_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *size = (size_t)n;
    return buf;
}

/* The checkpoint (every net, optimiser, the buffer, RNG, noise, counters)
 * of an agent trained by learn_vec on 5 pendulums with `threads` threads. */
static unsigned char *train_and_save(contrl_algo algo, uint32_t threads, const char *dir,
                                     size_t *size)
{
    contrl_vec_env *v = pendulums(5, threads);
    contrl_agent *a = make_agent(algo, v, true, NULL);
    contrl_learn_config lc = contrl_learn_config_default();
    /* 1203 is not a multiple of 5: the last round keeps 3 transitions. */
    ck_assert_msg(contrl_agent_learn_vec(a, v, 1203, &lc) == CONTRL_OK, "learn: %s",
                  contrl_last_error());
    ck_assert_uint_eq(contrl_agent_steps(a), 1203);
    /* A second call continues (fresh episodes, same buffer and counters). */
    ck_assert_int_eq(contrl_agent_learn_vec(a, v, 400, &lc), CONTRL_OK);
    ck_assert_uint_eq(contrl_agent_steps(a), 1603);
    char path[300];
    snprintf(path, sizeof path, "%s/%s-%u.safetensors", dir, contrl_algo_name(algo), threads);
    ck_assert_msg(contrl_agent_save(a, path, CONTRL_SAVE_BUFFER) == CONTRL_OK, "save: %s",
                  contrl_last_error());
    contrl_agent_destroy(a);
    contrl_vec_env_destroy(v);
    unsigned char *bytes = read_all(path, size);
    unlink(path);
    return bytes;
}

static const contrl_algo det_algos[] = {CONTRL_ALGO_TD3, CONTRL_ALGO_SAC, CONTRL_ALGO_DDPG};

START_TEST(learn_vec_gives_identical_agents_for_1_2_and_3_threads)
{
    const contrl_algo algo = det_algos[_i];
    char dir[] = "/tmp/contrl-learn-vec-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    size_t n1, n2, n3;
    unsigned char *c1 = train_and_save(algo, 1, dir, &n1);
    unsigned char *c2 = train_and_save(algo, 2, dir, &n2);
    unsigned char *c3 = train_and_save(algo, 3, dir, &n3);
    ck_assert_uint_eq(n1, n2);
    ck_assert_uint_eq(n1, n3);
    ck_assert_msg(memcmp(c1, c2, n1) == 0, "%s: 1 and 2 threads differ", contrl_algo_name(algo));
    ck_assert_msg(memcmp(c1, c3, n1) == 0, "%s: 1 and 3 threads differ", contrl_algo_name(algo));
    free(c1);
    free(c2);
    free(c3);
    rmdir(dir);
}
END_TEST

/* ---- the loop's contract ------------------------------------------------------ */

/* The buffer holds the transitions in env order, round by round: env i's
 * transition of round r at index r n + i, and its next_obs is the obs of
 * its transition in round r + 1 unless the episode ended; an episode ends
 * every 200 steps (Pendulum's limit), in every env at once. */
START_TEST(learn_vec_stores_each_round_in_env_order)
{
    enum { N = 3, ROUNDS = 250 };
    contrl_vec_env *v = pendulums(N, 2);
    contrl_agent *a = make_agent(CONTRL_ALGO_TD3, v, true, NULL);
    record rec;
    memset(&rec, 0, sizeof rec);
    contrl_learn_config lc = contrl_learn_config_default();
    lc.progress_interval = 100;
    lc.callback = on_progress;
    lc.user = &rec;
    ck_assert_int_eq(contrl_agent_learn_vec(a, v, N * ROUNDS, &lc), CONTRL_OK);
    const contrl_buffer *b = contrl_agent_buffer(a);
    ck_assert_uint_eq(contrl_buffer_size(b), N * ROUNDS);
    int ended = 0;
    for (uint32_t r = 0; r + 1 < ROUNDS; r++)
        for (uint32_t i = 0; i < N; i++) {
            float o0[3], a0[1], rw0, n0[3], o1[3], a1[1], rw1, n1[3];
            bool t0, tr0, t1, tr1;
            ck_assert_int_eq(contrl_buffer_get(b, r * N + i, o0, a0, &rw0, n0, &t0, &tr0),
                             CONTRL_OK);
            ck_assert_int_eq(contrl_buffer_get(b, (r + 1) * N + i, o1, a1, &rw1, n1, &t1, &tr1),
                             CONTRL_OK);
            ck_assert(!t0);
            ck_assert(tr0 == (r + 1 == 200));
            if (tr0)
                ended++;
            else
                ck_assert_msg(memcmp(n0, o1, sizeof o1) == 0, "round %u env %u", r, i);
        }
    ck_assert_int_eq(ended, N);
    /* Reports at every 100 env steps crossed (one per round of 3 at most),
     * the last one at the end, with a real clock. */
    ck_assert_int_eq(rec.n_reports, (N * ROUNDS) / 100 + 1);
    ck_assert_uint_eq(rec.last_step, N * ROUNDS);
    ck_assert(rec.last_seconds > 0.0);
    ck_assert_double_eq_tol(rec.last_rate, (double)(N * ROUNDS) / rec.last_seconds, 1e-6 * rec.last_rate);
    contrl_agent_destroy(a);
    contrl_vec_env_destroy(v);
}
END_TEST

START_TEST(learn_vec_rejects_bad_arguments)
{
    contrl_vec_env *v = pendulums(2, 1);
    contrl_agent *a = make_agent(CONTRL_ALGO_TD3, v, true, NULL);
    contrl_learn_config lc = contrl_learn_config_default();
    ck_assert_int_eq(contrl_agent_learn_vec(NULL, v, 10, &lc), CONTRL_ERR_INVALID_ARG);
    ck_assert_int_eq(contrl_agent_learn_vec(a, NULL, 10, &lc), CONTRL_ERR_INVALID_ARG);
    ck_assert(strstr(contrl_last_error(), "venv is NULL") != NULL);
    ck_assert_int_eq(contrl_agent_learn_vec(a, v, 10, NULL), CONTRL_ERR_INVALID_ARG);

    /* dims */
    contrl_env mc[2];
    for (int i = 0; i < 2; i++)
        ck_assert_int_eq(contrl_env_make("mountaincar", NULL, &mc[i]), CONTRL_OK);
    contrl_vec_env *w = NULL;
    ck_assert_int_eq(contrl_vec_env_create(mc, 2, NULL, &w), CONTRL_OK);
    ck_assert_int_eq(contrl_agent_learn_vec(a, w, 10, &lc), CONTRL_ERR_INVALID_ARG);
    ck_assert(strstr(contrl_last_error(), "obs_dim 2") != NULL);
    /* eval env */
    contrl_env e;
    ck_assert_int_eq(contrl_env_make("mountaincar", NULL, &e), CONTRL_OK);
    lc.eval_env = &e;
    ck_assert_int_eq(contrl_agent_learn_vec(a, v, 10, &lc), CONTRL_ERR_INVALID_ARG);
    ck_assert(strstr(contrl_last_error(), "eval_env") != NULL);
    contrl_env_close(&e);
    ck_assert_int_eq(contrl_env_make("pendulum", NULL, &e), CONTRL_OK);
    lc.eval_interval = 0;
    ck_assert_int_eq(contrl_agent_learn_vec(a, v, 10, &lc), CONTRL_ERR_INVALID_ARG);
    lc = contrl_learn_config_default();
    lc.size = 3;
    ck_assert_int_eq(contrl_agent_learn_vec(a, v, 10, &lc), CONTRL_ERR_INVALID_ARG);
    ck_assert_uint_eq(contrl_agent_steps(a), 0);
    /* zero steps: nothing happens */
    lc = contrl_learn_config_default();
    ck_assert_int_eq(contrl_agent_learn_vec(a, v, 0, &lc), CONTRL_OK);
    ck_assert_uint_eq(contrl_agent_steps(a), 0);
    contrl_env_close(&e);
    contrl_vec_env_destroy(w);
    contrl_agent_destroy(a);
    contrl_vec_env_destroy(v);
}
END_TEST

/* After one warm-up call (BLIS grows its pools on the first products),
 * learning with updates, evaluations and reports allocates nothing, on any
 * thread. */
START_TEST(learn_vec_allocates_nothing_after_warm_up)
{
    alloc_counter c;
    contrl_allocator alloc = alloc_counter_allocator(&c);
    contrl_vec_env *v = pendulums(4, 2);
    contrl_agent *a = make_agent(CONTRL_ALGO_TD3, v, true, &alloc);
    contrl_env eval_env;
    ck_assert_int_eq(contrl_env_make("pendulum", NULL, &eval_env), CONTRL_OK);
    record rec;
    memset(&rec, 0, sizeof rec);
    contrl_learn_config lc = contrl_learn_config_default();
    lc.eval_env = &eval_env;
    lc.eval_interval = 400;
    lc.eval_episodes = 1;
    lc.progress_interval = 100;
    lc.callback = on_progress;
    lc.user = &rec;
    ck_assert_int_eq(contrl_agent_learn_vec(a, v, 800, &lc), CONTRL_OK);
    long before = c.allocs;
    libc_count_begin();
    contrl_status st = contrl_agent_learn_vec(a, v, 800, &lc);
    libc_count_end();
    ck_assert_int_eq(st, CONTRL_OK);
    ck_assert_int_eq(libc_count_allocs(), 0);
    ck_assert_int_eq(libc_count_frees(), 0);
    ck_assert_int_eq(c.allocs, before);
    ck_assert_int_gt(rec.n_evals, 0);
    contrl_agent_destroy(a);
    alloc_counter_assert_balanced(&c, "agent");
    contrl_vec_env_destroy(v);
    contrl_env_close(&eval_env);
}
END_TEST

static Suite *learn_vec_suite(void)
{
    Suite *s = suite_create("learn_vec");
    TCase *quick = tcase_create("contract");
    tcase_set_timeout(quick, 300);
    tcase_add_loop_test(quick, learn_vec_gives_identical_agents_for_1_2_and_3_threads, 0,
                        (int)(sizeof det_algos / sizeof det_algos[0]));
    tcase_add_test(quick, learn_vec_stores_each_round_in_env_order);
    tcase_add_test(quick, learn_vec_rejects_bad_arguments);
    tcase_add_test(quick, learn_vec_allocates_nothing_after_warm_up);
    suite_add_tcase(s, quick);
    TCase *learning = tcase_create("learning");
    tcase_set_timeout(learning, 400);
    tcase_add_test(learning, td3_on_4_envs_reaches_minus_200_on_pendulum_within_20000_steps);
    suite_add_tcase(s, learning);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(learn_vec_suite());
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
