/* tests/hardening/test_threads.c - handles used from several threads at
 * once (contrl/core.h: one handle per thread at a time, no global mutable
 * state but the per-thread last error):
 *  - four agents (TD3, SAC, DDPG, SAC v1) trained on Pendulum in four threads
 *    at once end with exactly the parameters, optimiser states, counters and
 *    actions they end with when trained one after another;
 *  - threads that trigger different errors at the same time, over and over,
 *    each read back their own message from contrl_last_error, never another
 *    thread's.
 * Run it under ThreadSanitizer too: docs/reliability.md. */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent_internal.h"
#include "contrl/contrl.h"

enum { N_AGENTS = 4, TRAIN_STEPS = 500 };

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 0x100000001b3u;
    return h;
}

static uint64_t hash_net(uint64_t h, const contrl_net *net, contrl_adam *opt)
{
    if (net == NULL)
        return h;
    size_t n = contrl_net_param_count(net);
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

static uint64_t agent_hash(const contrl_agent *a)
{
    uint64_t h = 0xcbf29ce484222325u;
    h = hash_net(h, a->actor, a->actor_opt);
    h = hash_net(h, a->actor_target, NULL);
    for (uint32_t k = 0; k < a->n_critics; k++) {
        h = hash_net(h, a->q[k], a->q_opt[k]);
        h = hash_net(h, a->q_target[k], NULL);
    }
    h = hash_net(h, a->v, a->v_opt);
    h = hash_net(h, a->v_target, NULL);
    h = fnv(h, &a->log_alpha, sizeof a->log_alpha);
    h = fnv(h, &a->steps, sizeof a->steps);
    h = fnv(h, &a->updates, sizeof a->updates);
    return fnv(h, a->rng.s, sizeof a->rng.s);
}

typedef struct job {
    int kind;
    uint64_t hash;
    float action;
    contrl_status st;
    char error[256];
} job;

static void *train(void *arg)
{
    job *j = arg;
    static const contrl_algo algos[N_AGENTS] = {CONTRL_ALGO_TD3, CONTRL_ALGO_SAC,
                                                CONTRL_ALGO_DDPG, CONTRL_ALGO_SAC};
    contrl_env env;
    j->st = contrl_env_make("pendulum", NULL, &env);
    if (j->st != CONTRL_OK)
        return NULL;
    contrl_agent_config c = contrl_agent_config_default(algos[j->kind]);
    c.obs_dim = env.obs_dim;
    c.action_dim = env.action_dim;
    c.action_low = env.action_low;
    c.action_high = env.action_high;
    c.hidden[0] = c.hidden[1] = 32;
    c.batch_size = 32;
    c.buffer_capacity = 1000;
    c.learning_starts = 100;
    c.seed = 100 + (uint64_t)j->kind;
    contrl_agent *a = NULL;
    contrl_sac_config s = contrl_sac_config_default();
    s.value_net = j->kind == 3;
    j->st = algos[j->kind] == CONTRL_ALGO_TD3    ? contrl_td3_create(&c, NULL, &a)
            : algos[j->kind] == CONTRL_ALGO_DDPG ? contrl_ddpg_create(&c, NULL, &a)
                                                 : contrl_sac_create(&c, &s, &a);
    if (j->st == CONTRL_OK)
        j->st = contrl_agent_learn(a, &env, TRAIN_STEPS, NULL, NULL);
    if (j->st == CONTRL_OK) {
        float obs[3] = {0.6f, 0.8f, -0.3f};
        j->st = contrl_agent_act(a, obs, &j->action, false);
        j->hash = agent_hash(a);
    }
    if (j->st != CONTRL_OK)
        snprintf(j->error, sizeof j->error, "%s", contrl_last_error());
    contrl_agent_destroy(a);
    contrl_env_close(&env);
    return NULL;
}

START_TEST(agents_trained_in_parallel_threads_equal_sequential_runs)
{
    job seq[N_AGENTS], par[N_AGENTS];
    for (int k = 0; k < N_AGENTS; k++) {
        memset(&seq[k], 0, sizeof seq[k]);
        seq[k].kind = k;
        train(&seq[k]);
        ck_assert_msg(seq[k].st == CONTRL_OK, "sequential %d: %s", k, seq[k].error);
    }
    pthread_t t[N_AGENTS];
    for (int k = 0; k < N_AGENTS; k++) {
        memset(&par[k], 0, sizeof par[k]);
        par[k].kind = k;
        ck_assert_int_eq(pthread_create(&t[k], NULL, train, &par[k]), 0);
    }
    for (int k = 0; k < N_AGENTS; k++)
        ck_assert_int_eq(pthread_join(t[k], NULL), 0);
    for (int k = 0; k < N_AGENTS; k++) {
        ck_assert_msg(par[k].st == CONTRL_OK, "thread %d: %s", k, par[k].error);
        ck_assert_msg(par[k].hash == seq[k].hash, "agent %d: state differs in a thread", k);
        ck_assert_msg(memcmp(&par[k].action, &seq[k].action, sizeof(float)) == 0,
                      "agent %d: action differs in a thread", k);
    }
    /* Different seeds and algorithms really are different runs. */
    for (int k = 1; k < N_AGENTS; k++)
        ck_assert_uint_ne(seq[k].hash, seq[0].hash);
}
END_TEST

/* ---- per-thread error messages ------------------------------------------ */

enum { N_ERR_THREADS = 4, ERR_ROUNDS = 2000 };

static pthread_barrier_t barrier;

typedef struct err_job {
    int id;
    int mixed;        /* rounds where the message was not this thread's */
    int wrong_status; /* rounds with an unexpected status */
} err_job;

/* Each thread fails in its own way and knows what its message must say. */
static contrl_status fail_own_way(int id, contrl_buffer *buf, const char **expect)
{
    float obs[2] = {0, 0}, act[1] = {0}, nan = __builtin_nanf("");
    switch (id) {
    case 0:
        *expect = "contrl_buffer_add: reward is NaN";
        return contrl_buffer_add(buf, obs, act, nan, obs, false, false);
    case 1: {
        contrl_net_config c = contrl_net_config_default();
        c.in = 0;
        c.out = 1;
        contrl_net *n;
        *expect = "contrl_net_create";
        return contrl_net_create(&c, &n);
    }
    case 2: {
        contrl_env env;
        *expect = "no-such-task";
        return contrl_env_make("no-such-task", NULL, &env);
    }
    default:
        *expect = "unknown status-like text";
        return contrl_set_error(CONTRL_ERR_STATE, "thread %d: unknown status-like text", id);
    }
}

static void *error_worker(void *arg)
{
    err_job *j = arg;
    contrl_buffer_config c = contrl_buffer_config_default();
    c.obs_dim = 2;
    c.action_dim = 1;
    c.capacity = 4;
    contrl_buffer *buf = NULL;
    if (contrl_buffer_create(&c, &buf) != CONTRL_OK)
        j->wrong_status = -1;
    pthread_barrier_wait(&barrier);
    for (int r = 0; r < ERR_ROUNDS; r++) {
        const char *expect;
        contrl_status st = fail_own_way(j->id, buf, &expect);
        if (st == CONTRL_OK)
            j->wrong_status++;
        /* Give the other threads time to write theirs in between. */
        if (r % 64 == 0)
            sched_yield();
        if (strstr(contrl_last_error(), expect) == NULL)
            j->mixed++;
    }
    contrl_buffer_destroy(buf);
    return NULL;
}

START_TEST(each_thread_reads_only_its_own_last_error)
{
    pthread_t t[N_ERR_THREADS];
    err_job jobs[N_ERR_THREADS];
    ck_assert_int_eq(pthread_barrier_init(&barrier, NULL, N_ERR_THREADS), 0);
    for (int i = 0; i < N_ERR_THREADS; i++) {
        jobs[i] = (err_job){i, 0, 0};
        ck_assert_int_eq(pthread_create(&t[i], NULL, error_worker, &jobs[i]), 0);
    }
    for (int i = 0; i < N_ERR_THREADS; i++)
        ck_assert_int_eq(pthread_join(t[i], NULL), 0);
    pthread_barrier_destroy(&barrier);
    for (int i = 0; i < N_ERR_THREADS; i++) {
        ck_assert_msg(jobs[i].wrong_status == 0, "thread %d: a call did not fail", i);
        ck_assert_msg(jobs[i].mixed == 0, "thread %d: %d messages were not its own", i,
                      jobs[i].mixed);
    }
    /* This thread did nothing wrong: its message is still empty. */
    contrl_clear_error();
    ck_assert_str_eq(contrl_last_error(), "");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("threads");
    TCase *tc = tcase_create("threads");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, agents_trained_in_parallel_threads_equal_sequential_runs);
    tcase_add_test(tc, each_thread_reads_only_its_own_last_error);
    suite_add_tcase(s, tc);
    SRunner *r = srunner_create(s);
    srunner_run_all(r, CK_NORMAL);
    int failed = srunner_ntests_failed(r);
    srunner_free(r);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
