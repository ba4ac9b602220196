/* tests/agents/test_agents.c - agent behaviour that needs the handle's
 * insides (lib/agents/agent_internal.h, the static internal library): a
 * gradient step that turns non-finite is refused and every net and
 * optimiser keeps its last good state.
 *
 * How a finite input makes a non-finite step: rewards of 3e38 (finite,
 * below FLT_MAX = 3.4e38) give TD targets y of about 3e38, so the critic's
 * error Q - y is about -3e38 and dL/dQ = 2 (Q - y) / B overflows to -Inf in
 * float; the critic's gradient is then non-finite. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent_internal.h"
#include "blas.h"
#include "nn.h"
#include "contrl/contrl.h"

typedef enum variant { DDPG, TD3, SAC, SAC_V1, N_VARIANTS } variant;
static const char *const variant_names[] = {"ddpg", "td3", "sac", "sac_v1"};

enum { OBS = 3, ACT = 1, BATCH = 64, N_PROBE = 16, MAX_NETS = 8, MAX_OPTS = 4 };
static const float LOW[1] = {-2.0f}, HIGH[1] = {2.0f};

/* Capacity = batch: a new batch of transitions replaces the whole buffer,
 * so every sampled minibatch is made of them. */
static contrl_agent *make_agent(variant v)
{
    contrl_agent_config cfg =
        contrl_agent_config_default(v == DDPG ? CONTRL_ALGO_DDPG
                                    : v == TD3 ? CONTRL_ALGO_TD3
                                               : CONTRL_ALGO_SAC);
    cfg.obs_dim = OBS;
    cfg.action_dim = ACT;
    cfg.action_low = LOW;
    cfg.action_high = HIGH;
    cfg.hidden[0] = 32;
    cfg.hidden[1] = 32;
    cfg.batch_size = BATCH;
    cfg.buffer_capacity = BATCH;
    cfg.seed = 17;
    contrl_agent *a = NULL;
    contrl_status st;
    if (v == DDPG) {
        st = contrl_ddpg_create(&cfg, NULL, &a);
    } else if (v == TD3) {
        st = contrl_td3_create(&cfg, NULL, &a);
    } else {
        contrl_sac_config s = contrl_sac_config_default();
        s.value_net = v == SAC_V1;
        st = contrl_sac_create(&cfg, &s, &a);
    }
    ck_assert_msg(st == CONTRL_OK, "%s: %s", variant_names[v], contrl_last_error());
    return a;
}

static void fill(contrl_agent *a, float reward)
{
    for (int i = 0; i < BATCH; i++) {
        float obs[OBS], next[OBS], act[ACT] = {1.8f * sinf(0.9f * (float)i)};
        for (int k = 0; k < OBS; k++) {
            obs[k] = cosf(0.3f * (float)i + (float)k);
            next[k] = cosf(0.3f * (float)(i + 1) + (float)k);
        }
        float r = isnan(reward) ? -fabsf(obs[0]) : reward;
        ck_assert_int_eq(contrl_agent_observe(a, obs, act, r, next, false, false), CONTRL_OK);
    }
}

/* Everything an update may change, copied out. */
typedef struct snapshot {
    int n_opts;
    float *params[MAX_NETS]; /* NULL for a net the agent does not have */
    size_t n_params[MAX_NETS];
    float *m[MAX_OPTS], *v[MAX_OPTS];
    uint64_t opt_steps[MAX_OPTS];
    float log_alpha;
    contrl__scalar_adam alpha_opt;
    uint64_t updates;
    float probe[N_PROBE];
} snapshot;

static const char *const net_names[MAX_NETS] = {"actor", "actor_target", "q[0]", "q[1]",
                                                "q_target[0]", "q_target[1]", "v", "v_target"};

/* The agent's nets in the order of net_names, NULL where it has none. */
static void nets_of(contrl_agent *a, contrl_net **nets)
{
    contrl_net *all[MAX_NETS] = {a->actor, a->actor_target, a->q[0], a->q[1],
                                 a->q_target[0], a->q_target[1], a->v, a->v_target};
    memcpy(nets, all, sizeof all);
}

static int opts_of(contrl_agent *a, contrl_adam **opts)
{
    contrl_adam *all[] = {a->actor_opt, a->q_opt[0], a->q_opt[1], a->v_opt};
    int n = 0;
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        if (all[i] != NULL)
            opts[n++] = all[i];
    return n;
}

static void take(contrl_agent *a, snapshot *s)
{
    memset(s, 0, sizeof *s);
    contrl_net *nets[MAX_NETS];
    contrl_adam *opts[MAX_OPTS];
    nets_of(a, nets);
    for (int i = 0; i < MAX_NETS; i++) {
        if (nets[i] == NULL)
            continue;
        s->n_params[i] = contrl_net_param_count(nets[i]);
        s->params[i] = malloc(s->n_params[i] * sizeof(float));
        ck_assert_ptr_nonnull(s->params[i]);
        ck_assert_int_eq(contrl_net_get_params(nets[i], s->params[i], s->n_params[i]),
                         CONTRL_OK);
    }
    s->n_opts = opts_of(a, opts);
    for (int i = 0; i < s->n_opts; i++) {
        size_t n = contrl_adam_param_count(opts[i]);
        s->m[i] = malloc(n * sizeof(float));
        s->v[i] = malloc(n * sizeof(float));
        ck_assert(s->m[i] != NULL && s->v[i] != NULL);
        ck_assert_int_eq(contrl_adam_get_state(opts[i], s->m[i], s->v[i], n, &s->opt_steps[i]),
                         CONTRL_OK);
    }
    s->log_alpha = a->log_alpha;
    s->alpha_opt = a->alpha_opt;
    s->updates = contrl_agent_updates(a);
    for (int i = 0; i < N_PROBE; i++) {
        float obs[OBS] = {cosf((float)i), sinf((float)i), 0.5f * (float)i - 4.0f};
        ck_assert_int_eq(contrl_agent_act(a, obs, &s->probe[i], false), CONTRL_OK);
    }
}

static void drop(snapshot *s)
{
    for (int i = 0; i < MAX_NETS; i++)
        free(s->params[i]);
    for (int i = 0; i < s->n_opts; i++) {
        free(s->m[i]);
        free(s->v[i]);
    }
}

/* Number of differences between two snapshots (optimisers apart: see
 * opt_differences), described in `what`. */
static int differences(const snapshot *x, const snapshot *y, char *what, size_t size)
{
    int d = 0;
    size_t used = 0;
#define NOTE(...)                                                                  \
    do {                                                                           \
        d++;                                                                       \
        if (used < size)                                                           \
            used += (size_t)snprintf(what + used, size - used, __VA_ARGS__);       \
    } while (0)
    for (int i = 0; i < MAX_NETS; i++)
        if (x->params[i] != NULL &&
            memcmp(x->params[i], y->params[i], x->n_params[i] * sizeof(float)) != 0)
            NOTE(" %s;", net_names[i]);
    if (x->log_alpha != y->log_alpha || memcmp(&x->alpha_opt, &y->alpha_opt, sizeof x->alpha_opt))
        NOTE(" alpha;");
    if (x->updates != y->updates)
        NOTE(" updates %llu -> %llu;", (unsigned long long)x->updates,
             (unsigned long long)y->updates);
    if (memcmp(x->probe, y->probe, sizeof x->probe) != 0)
        NOTE(" deterministic actions;");
#undef NOTE
    return d;
}

static int opt_differences(contrl_agent *a, const snapshot *x, const snapshot *y)
{
    contrl_adam *opts[MAX_OPTS];
    int n_opts = opts_of(a, opts), d = 0;
    for (int i = 0; i < n_opts; i++) {
        size_t n = contrl_adam_param_count(opts[i]);
        d += memcmp(x->m[i], y->m[i], n * sizeof(float)) != 0;
        d += memcmp(x->v[i], y->v[i], n * sizeof(float)) != 0;
        d += x->opt_steps[i] != y->opt_steps[i];
    }
    return d;
}

/* Loop over variants. */
/* Loops run every case on 1 and then 2 threads (contrl_agent_set_threads):
 * with 2, critic 1's work runs on the worker, whose failures must come back
 * with their message and leave everything as on 1 thread. */
static contrl_agent *make_agent_threads(variant v, int loop_i, int per_round)
{
    contrl_agent *a = make_agent(v);
    const uint32_t threads = 1 + (uint32_t)(loop_i / per_round);
    ck_assert_int_eq(contrl_agent_set_threads(a, threads), CONTRL_OK);
    ck_assert_uint_eq(contrl_agent_threads(a), threads);
    return a;
}

START_TEST(update_with_a_nonfinite_gradient_returns_numeric_and_keeps_every_net)
{
    const variant v = (variant)(_i % N_VARIANTS);
    contrl_agent *a = make_agent_threads(v, _i, N_VARIANTS);
    fill(a, NAN); /* ordinary rewards */
    /* Two good steps (TD3's actor and targets move on the second). */
    ck_assert_int_eq(contrl_agent_update(a, 2, NULL), CONTRL_OK);
    ck_assert_uint_eq(contrl_agent_updates(a), 2);

    fill(a, 3e38f); /* replaces every transition */
    snapshot before, after;
    take(a, &before);
    int n_nets = 0;
    for (int i = 0; i < MAX_NETS; i++)
        n_nets += before.params[i] != NULL;
    ck_assert_int_eq(n_nets, v == DDPG ? 4 : v == TD3 ? 6 : 5);
    char what[512] = "";
    for (uint32_t steps = 1; steps <= 3; steps += 2) {
        contrl_status st = contrl_agent_update(a, steps, NULL);
        ck_assert_msg(st == CONTRL_ERR_NUMERIC, "%s: update(%u) on rewards of 3e38: status %d",
                      variant_names[v], steps, (int)st);
        take(a, &after);
        int d = differences(&before, &after, what, sizeof what);
        ck_assert_msg(d == 0, "%s: a refused update(%u) changed:%s", variant_names[v], steps,
                      what);
        ck_assert_msg(opt_differences(a, &before, &after) == 0,
                      "%s: a refused update(%u) changed an optimiser's state", variant_names[v],
                      steps);
        drop(&after);
    }

    /* Control: ordinary data again, and the same comparison sees a change. */
    fill(a, NAN);
    ck_assert_int_eq(contrl_agent_update(a, 2, NULL), CONTRL_OK);
    take(a, &after);
    ck_assert_int_gt(differences(&before, &after, what, sizeof what), 0);
    ck_assert_int_gt(opt_differences(a, &before, &after), 0);
    ck_assert_uint_eq(contrl_agent_updates(a), 4);
    drop(&after);
    drop(&before);
    contrl_agent_destroy(a);
}
END_TEST

/* Loop over TD3, SAC and SAC v1 (two critics). The second critic's output
 * is pushed to 3e38 (its last bias), so its own regression step overflows
 * while the first critic's, which runs before it, is finite. The refused
 * call must still leave every net as it was before the call: not the first
 * critic stepped and the rest not. */
START_TEST(update_refused_at_the_second_critic_leaves_the_first_unchanged_too)
{
    const variant v = (variant)(_i % (N_VARIANTS - TD3) + TD3);
    contrl_agent *a = make_agent_threads(v, _i, N_VARIANTS - TD3);
    fill(a, NAN);
    ck_assert_int_eq(contrl_agent_update(a, 2, NULL), CONTRL_OK);
    contrl_net *q1 = a->q[1];
    ck_assert_ptr_nonnull(q1);
    contrl_net_layer_info last;
    ck_assert_int_eq(contrl_net_layer(q1, contrl_net_layer_count(q1) - 1, &last), CONTRL_OK);
    const size_t n = contrl_net_param_count(q1);
    float *p = malloc(n * sizeof *p);
    ck_assert_ptr_nonnull(p);
    ck_assert_int_eq(contrl_net_get_params(q1, p, n), CONTRL_OK);
    p[last.bias_offset] = 3e38f;
    ck_assert_int_eq(contrl_net_set_params(q1, p, n), CONTRL_OK);
    free(p);

    snapshot before, after;
    take(a, &before);
    contrl_clear_error();
    ck_assert_int_eq(contrl_agent_update(a, 1, NULL), CONTRL_ERR_NUMERIC);
    ck_assert_msg(strstr(contrl_last_error(), "contrl_agent_update") != NULL &&
                      strstr(contrl_last_error(), "not finite") != NULL,
                  "%s on %u threads: message \"%s\"", variant_names[v], contrl_agent_threads(a),
                  contrl_last_error());
    take(a, &after);
    char what[512] = "";
    int d = differences(&before, &after, what, sizeof what);
    int od = opt_differences(a, &before, &after);
    ck_assert_msg(d == 0 && od == 0, "%s: an update refused at q[1] changed:%s%s",
                  variant_names[v], what, od ? " optimiser state;" : "");
    drop(&after);
    drop(&before);
    contrl_agent_destroy(a);
}
END_TEST

/* The message of a refused update names the function the caller called,
 * as every other agent error does (contrl/core.h: "contrl_buffer_add:
 * reward is NaN"). */
START_TEST(update_numeric_error_names_contrl_agent_update)
{
    const variant v = (variant)(_i % N_VARIANTS);
    contrl_agent *a = make_agent_threads(v, _i, N_VARIANTS);
    fill(a, 3e38f);
    contrl_clear_error();
    ck_assert_int_eq(contrl_agent_update(a, 1, NULL), CONTRL_ERR_NUMERIC);
    const char *msg = contrl_last_error();
    ck_assert_msg(strstr(msg, "contrl_agent_update") != NULL,
                  "%s: last error \"%s\" should name contrl_agent_update", variant_names[v], msg);
    contrl_agent_destroy(a);
}
END_TEST


/* Loop over TD3 and SAC with 128-128 nets at batch 128: their products of
 * 4 MFLOP and more split by rows over the worker outside the critics'
 * parallel phases (lib/blas/blas.c). 200 gradient steps on 2 threads give
 * the bits of 1 thread, and splits did happen (when libxsmm or libcontrl's
 * own products are in use; the forward's fused bias and ReLU split with
 * them). */
START_TEST(large_products_split_over_two_threads_give_the_same_bits)
{
    const variant v = _i == 0 ? TD3 : SAC;
    contrl_agent *ag[2];
    contrl_env env[2];
    for (int t = 0; t < 2; t++) {
        contrl_agent_config cfg =
            contrl_agent_config_default(v == TD3 ? CONTRL_ALGO_TD3 : CONTRL_ALGO_SAC);
        ck_assert_int_eq(contrl_env_make("pendulum", NULL, &env[t]), CONTRL_OK);
        cfg.obs_dim = env[t].obs_dim;
        cfg.action_dim = env[t].action_dim;
        cfg.action_low = env[t].action_low;
        cfg.action_high = env[t].action_high;
        cfg.hidden[0] = cfg.hidden[1] = 128;
        cfg.batch_size = 128;
        cfg.buffer_capacity = 1000;
        cfg.learning_starts = 200;
        cfg.seed = 3;
        ck_assert_int_eq(v == TD3 ? contrl_td3_create(&cfg, NULL, &ag[t])
                                  : contrl_sac_create(&cfg, NULL, &ag[t]),
                         CONTRL_OK);
        ck_assert_int_eq(contrl_agent_set_threads(ag[t], (uint32_t)t + 1), CONTRL_OK);
        ck_assert_int_eq(contrl_agent_learn(ag[t], &env[t], 400, NULL, NULL), CONTRL_OK);
    }
    ck_assert_uint_eq(contrl_agent_updates(ag[0]), 201);
    ck_assert_uint_eq(contrl_agent_updates(ag[1]), 201);
    contrl_net *nets[2][3] = {{ag[0]->actor, ag[0]->q[0], ag[0]->q[1]},
                              {ag[1]->actor, ag[1]->q[0], ag[1]->q[1]}};
    for (int i = 0; i < 3; i++)
        ck_assert_msg(memcmp(contrl_net_params(nets[0][i]), contrl_net_params(nets[1][i]),
                             contrl_net_param_count(nets[0][i]) * sizeof(float)) == 0,
                      "%s: net %d differs between 1 and 2 threads", variant_names[v], i);
    contrl__blas *actor_blas = contrl__net_blas(ag[1]->actor);
    ck_assert_uint_eq(contrl__blas_splits(contrl__net_blas(ag[0]->actor)), 0);
    if (contrl__blas_uses_xsmm(actor_blas) || contrl__blas_uses_own(actor_blas))
        ck_assert_uint_gt(contrl__blas_splits(actor_blas), 0);
    else
        fprintf(stderr, "neither libxsmm nor libcontrl's own products in use: no products "
                        "split\n");
    for (int t = 0; t < 2; t++) {
        contrl_agent_destroy(ag[t]);
        contrl_env_close(&env[t]);
    }
}
END_TEST

static Suite *internal_suite(void)
{
    Suite *s = suite_create("agents-internal");
    TCase *tc = tcase_create("internal");
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, update_with_a_nonfinite_gradient_returns_numeric_and_keeps_every_net,
                        0, 2 * N_VARIANTS);
    tcase_add_loop_test(tc, update_refused_at_the_second_critic_leaves_the_first_unchanged_too,
                        0, 2 * (N_VARIANTS - TD3));
    tcase_add_loop_test(tc, update_numeric_error_names_contrl_agent_update, 0, 2 * N_VARIANTS);
    tcase_add_loop_test(tc, large_products_split_over_two_threads_give_the_same_bits, 0, 2);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(internal_suite());
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
