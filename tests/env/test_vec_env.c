/* tests/env/test_vec_env.c - contrl_vec_env against contrl/vec_env.h: the
 * same results as stepping the same envs one by one by hand, automatic
 * resets and their seeds, time limits, identical results for any thread
 * count, argument and env checks, errors raised on a worker thread arriving
 * with their message, and no allocation in reset and step.
 *
 * Public API, shared library; the C library's allocation functions are
 * interposed (export_dynamic) to count calls made on the worker threads. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../support/counting_alloc.h"
#include "contrl/contrl.h"

static void assert_error_mentions(const char *a, const char *b)
{
    const char *msg = contrl_last_error();
    ck_assert_msg(strstr(msg, a) != NULL && strstr(msg, b) != NULL,
                  "last error \"%s\" should name \"%s\" and \"%s\"", msg, a, b);
}

static contrl_env make_env(const char *name)
{
    contrl_env env;
    ck_assert_int_eq(contrl_env_make(name, NULL, &env), CONTRL_OK);
    return env;
}

static contrl_vec_env *make_vec(contrl_env *envs, uint32_t n, uint32_t threads)
{
    contrl_vec_env_config cfg = contrl_vec_env_config_default();
    cfg.threads = threads;
    contrl_vec_env *v = NULL;
    contrl_status st = contrl_vec_env_create(envs, n, &cfg, &v);
    ck_assert_msg(st == CONTRL_OK, "create: %s", contrl_last_error());
    ck_assert_ptr_nonnull(v);
    return v;
}

static contrl_vec_env *make_pendulums(uint32_t n, uint32_t threads)
{
    contrl_env envs[16];
    ck_assert_uint_le(n, 16);
    for (uint32_t i = 0; i < n; i++)
        envs[i] = make_env("pendulum");
    return make_vec(envs, n, threads);
}

/* Actions for step t, drawn from a generator of their own, in [-2, 2]. */
static void actions_at(contrl_rng *rng, uint32_t n, float *actions)
{
    for (uint32_t i = 0; i < n; i++)
        actions[i] = 4.0f * contrl_rng_uniform(rng) - 2.0f;
}

/* ---- a probe env: counts, ends and fails when told ---------------------- */

static const float probe_low[2] = {-1.0f, -1.0f}, probe_high[2] = {1.0f, 1.0f};

typedef struct probe {
    float id;
    uint32_t end_at;        /* terminate (or truncate, with self_truncate) at this step; 0: never */
    bool self_truncate;
    uint32_t fail_step_at;  /* the step callback fails at this step of any episode; 0: never */
    contrl_status fail_status;
    bool nan_at_fail;       /* instead: return NaN in next_obs (the wrapper's message) */
    uint32_t fail_reset_at; /* the n-th reset fails; 0: never */
    uint32_t t, resets;
    uint64_t seed;
    int *destroyed;
} probe;

/* obs = [t, low 16 bits of the episode's seed, id]; reward = id + t / 8 +
 * a[0] + 2 a[1]. */
static void probe_obs(const probe *p, float *obs)
{
    obs[0] = (float)p->t;
    obs[1] = (float)(p->seed & 0xffffu);
    obs[2] = p->id;
}

static contrl_status probe_reset(void *user, uint64_t seed, float *obs)
{
    probe *p = user;
    p->resets++;
    if (p->fail_reset_at != 0 && p->resets == p->fail_reset_at)
        return CONTRL_ERR_IO;
    p->seed = seed;
    p->t = 0;
    probe_obs(p, obs);
    return CONTRL_OK;
}

static contrl_status probe_step(void *user, const float *action, float *next_obs, float *reward,
                                bool *terminated, bool *truncated)
{
    probe *p = user;
    p->t++;
    probe_obs(p, next_obs);
    *reward = p->id + (float)p->t / 8.0f + action[0] + 2.0f * action[1];
    bool end = p->end_at != 0 && p->t == p->end_at;
    *terminated = end && !p->self_truncate;
    *truncated = end && p->self_truncate;
    if (p->fail_step_at != 0 && p->t == p->fail_step_at) {
        if (p->nan_at_fail) {
            next_obs[1] = NAN;
            return CONTRL_OK;
        }
        return p->fail_status;
    }
    return CONTRL_OK;
}

static void probe_destroy(void *user)
{
    probe *p = user;
    if (p->destroyed != NULL)
        (*p->destroyed)++;
}

static contrl_env probe_env(probe *p, const char *name)
{
    contrl_env e;
    memset(&e, 0, sizeof e);
    e.size = sizeof e;
    e.name = name;
    e.obs_dim = 3;
    e.action_dim = 2;
    e.action_low = probe_low;
    e.action_high = probe_high;
    e.user = p;
    e.reset = probe_reset;
    e.step = probe_step;
    e.destroy = probe_destroy;
    return e;
}

/* ---- results --------------------------------------------------------------- */

START_TEST(vec_env_seed_follows_the_documented_formula)
{
    const uint64_t G = 0x9e3779b97f4a7c15u;
    const uint64_t seeds[] = {0, 1, 42, UINT64_MAX};
    for (size_t s = 0; s < 4; s++)
        for (uint32_t env = 0; env < 5; env++)
            for (uint64_t k = 0; k < 5; k++) {
                uint64_t z = seeds[s] + ((uint64_t)env + 1) * G, m[2];
                for (int r = 0; r < 2; r++) {
                    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
                    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
                    m[r] = z ^ (z >> 31);
                    z = m[r] + k * G;
                }
                ck_assert_uint_eq(contrl_vec_env_seed(seeds[s], env, k), m[1]);
            }
    /* Neighbouring envs and episodes get different seeds. */
    ck_assert_uint_ne(contrl_vec_env_seed(7, 0, 0), contrl_vec_env_seed(7, 1, 0));
    ck_assert_uint_ne(contrl_vec_env_seed(7, 0, 0), contrl_vec_env_seed(7, 0, 1));
    ck_assert_uint_ne(contrl_vec_env_seed(7, 0, 1), contrl_vec_env_seed(7, 1, 0));
}
END_TEST

/* 5 pendulums on 2 threads (an uneven split) against 5 stepped by hand, for
 * 450 steps: two time-limit truncations and automatic resets each. */
START_TEST(vec_env_equals_the_same_envs_stepped_one_by_one)
{
    enum { N = 5, O = 3, STEPS = 450 };
    const uint64_t SEED = 1234;
    contrl_vec_env *v = make_pendulums(N, 2);
    ck_assert_uint_eq(contrl_vec_env_num_envs(v), N);
    ck_assert_uint_eq(contrl_vec_env_obs_dim(v), O);
    ck_assert_uint_eq(contrl_vec_env_action_dim(v), 1);
    ck_assert_uint_eq(contrl_vec_env_threads(v), 2);
    ck_assert_str_eq(contrl_vec_env_name(v), "pendulum");
    ck_assert_float_eq(contrl_vec_env_action_low(v)[0], -2.0f);
    ck_assert_float_eq(contrl_vec_env_action_high(v)[0], 2.0f);

    contrl_env ref[N];
    float ref_obs[N * O];
    uint64_t episode[N] = {0};
    for (uint32_t i = 0; i < N; i++) {
        ref[i] = make_env("pendulum");
        ck_assert_int_eq(contrl_env_reset(&ref[i], contrl_vec_env_seed(SEED, i, 0),
                                          ref_obs + i * O), CONTRL_OK);
    }
    ck_assert_int_eq(contrl_vec_env_reset(v, SEED), CONTRL_OK);
    ck_assert_int_eq(memcmp(contrl_vec_env_obs(v), ref_obs, sizeof ref_obs), 0);

    contrl_rng rng;
    contrl_rng_seed(&rng, 5);
    int truncations = 0;
    for (int t = 1; t <= STEPS; t++) {
        float act[N], next[N * O], rew[N];
        bool term[N], trunc[N];
        actions_at(&rng, N, act);
        ck_assert_int_eq(contrl_vec_env_step(v, act, next, rew, term, trunc), CONTRL_OK);
        for (uint32_t i = 0; i < N; i++) {
            float r_next[O], r_rew;
            bool r_term, r_trunc;
            ck_assert_int_eq(contrl_env_step(&ref[i], act + i, r_next, &r_rew, &r_term, &r_trunc),
                             CONTRL_OK);
            ck_assert_msg(memcmp(next + i * O, r_next, sizeof r_next) == 0 &&
                          memcmp(&rew[i], &r_rew, sizeof r_rew) == 0,
                          "step %d env %u differs", t, i);
            ck_assert(term[i] == r_term && trunc[i] == r_trunc);
            if (r_term || r_trunc) {
                truncations++;
                episode[i]++;
                ck_assert_int_eq(contrl_env_reset(&ref[i], contrl_vec_env_seed(SEED, i, episode[i]),
                                                  ref_obs + i * O), CONTRL_OK);
            } else {
                memcpy(ref_obs + i * O, r_next, sizeof r_next);
            }
        }
        ck_assert_msg(memcmp(contrl_vec_env_obs(v), ref_obs, sizeof ref_obs) == 0,
                      "current observations differ after step %d", t);
    }
    ck_assert_int_eq(truncations, 2 * N); /* at steps 200 and 400 */
    for (uint32_t i = 0; i < N; i++)
        contrl_env_close(&ref[i]);
    contrl_vec_env_destroy(v);
}
END_TEST

/* An env that terminates: next_obs is the true last observation, the
 * current one the new episode's first, reset with the next seed; flags are
 * per env. */
START_TEST(vec_env_resets_ended_envs_automatically_with_the_next_seed)
{
    enum { N = 3, O = 3 };
    probe p[N];
    memset(p, 0, sizeof p);
    contrl_env envs[N];
    for (uint32_t i = 0; i < N; i++) {
        p[i].id = (float)i;
        p[i].end_at = 2 + i; /* env 0 ends every 2 steps, env 1 every 3, env 2 every 4 */
        p[i].self_truncate = i == 2;
        envs[i] = probe_env(&p[i], "probe");
    }
    contrl_vec_env *v = make_vec(envs, N, 2);
    const uint64_t SEED = 99;
    ck_assert_int_eq(contrl_vec_env_reset(v, SEED), CONTRL_OK);
    uint64_t episode[N] = {0};
    for (uint32_t t = 1; t <= 12; t++) {
        float act[N * 2] = {0}, next[N * O], rew[N];
        bool term[N], trunc[N];
        act[2 * 1 + 1] = 0.5f; /* env 1's second action */
        ck_assert_int_eq(contrl_vec_env_step(v, act, next, rew, term, trunc), CONTRL_OK);
        const float *obs = contrl_vec_env_obs(v);
        for (uint32_t i = 0; i < N; i++) {
            uint32_t len = 2 + i, in_ep = (t - 1) % len + 1;
            bool ends = in_ep == len;
            ck_assert_float_eq(next[i * O + 0], (float)in_ep);
            ck_assert_float_eq(next[i * O + 1],
                               (float)(contrl_vec_env_seed(SEED, i, episode[i]) & 0xffffu));
            ck_assert_float_eq(next[i * O + 2], (float)i);
            ck_assert_float_eq(rew[i], (float)i + (float)in_ep / 8.0f + (i == 1 ? 1.0f : 0.0f));
            ck_assert(term[i] == (ends && i != 2));
            ck_assert(trunc[i] == (ends && i == 2));
            if (ends)
                episode[i]++;
            ck_assert_float_eq(obs[i * O + 0], ends ? 0.0f : (float)in_ep);
            ck_assert_float_eq(obs[i * O + 1],
                               (float)(contrl_vec_env_seed(SEED, i, episode[i]) & 0xffffu));
        }
    }
    ck_assert_uint_eq(p[0].resets, 1 + 6);
    ck_assert_uint_eq(p[1].resets, 1 + 4);
    ck_assert_uint_eq(p[2].resets, 1 + 3);
    /* A new reset starts every env's episode count again. */
    ck_assert_int_eq(contrl_vec_env_reset(v, SEED), CONTRL_OK);
    for (uint32_t i = 0; i < N; i++)
        ck_assert_float_eq(contrl_vec_env_obs(v)[i * O + 1],
                           (float)(contrl_vec_env_seed(SEED, i, 0) & 0xffffu));
    contrl_vec_env_destroy(v);
}
END_TEST

START_TEST(vec_env_truncates_at_max_episode_steps_when_the_env_does_not)
{
    enum { N = 2, O = 3 };
    probe p[N];
    memset(p, 0, sizeof p);
    contrl_env envs[N];
    for (uint32_t i = 0; i < N; i++) {
        envs[i] = probe_env(&p[i], "probe");
        p[i].id = (float)i;
    }
    envs[0].max_episode_steps = 3; /* the probe itself never ends */
    envs[1].max_episode_steps = 0; /* none: runs on */
    contrl_vec_env *v = make_vec(envs, N, 1);
    ck_assert_int_eq(contrl_vec_env_reset(v, 1), CONTRL_OK);
    for (uint32_t t = 1; t <= 10; t++) {
        float act[N * 2] = {0}, next[N * O], rew[N];
        bool term[N], trunc[N];
        ck_assert_int_eq(contrl_vec_env_step(v, act, next, rew, term, trunc), CONTRL_OK);
        ck_assert(!term[0] && !term[1] && !trunc[1]);
        ck_assert(trunc[0] == (t % 3 == 0));
        ck_assert_float_eq(next[0], (float)((t - 1) % 3 + 1));
        ck_assert_float_eq(next[O], (float)t);
    }
    ck_assert_uint_eq(p[0].resets, 1 + 3);
    ck_assert_uint_eq(p[1].resets, 1);
    contrl_vec_env_destroy(v);
}
END_TEST

/* Everything a caller sees, for 1, 2, 3 and 8 threads over 8 pendulums. */
static void run_pendulums(uint32_t threads, float *obs_log, float *next_log, float *rew_log,
                          bool *flag_log, int steps)
{
    enum { N = 8, O = 3 };
    contrl_vec_env *v = make_pendulums(N, threads);
    ck_assert_uint_eq(contrl_vec_env_threads(v), threads);
    ck_assert_int_eq(contrl_vec_env_reset(v, 77), CONTRL_OK);
    contrl_rng rng;
    contrl_rng_seed(&rng, 3);
    for (int t = 0; t < steps; t++) {
        float act[N];
        actions_at(&rng, N, act);
        bool term[N];
        ck_assert_int_eq(contrl_vec_env_step(v, act, next_log + (size_t)t * N * O,
                                             rew_log + (size_t)t * N, term,
                                             flag_log + (size_t)t * N), CONTRL_OK);
        memcpy(obs_log + (size_t)t * N * O, contrl_vec_env_obs(v), N * O * sizeof(float));
    }
    contrl_vec_env_destroy(v);
}

START_TEST(vec_env_results_are_identical_for_1_2_3_and_8_threads)
{
    enum { N = 8, O = 3, STEPS = 500 };
    static float obs[4][STEPS * N * O], next[4][STEPS * N * O], rew[4][STEPS * N];
    static bool trunc[4][STEPS * N];
    const uint32_t threads[4] = {1, 2, 3, 8};
    for (int k = 0; k < 4; k++)
        run_pendulums(threads[k], obs[k], next[k], rew[k], trunc[k], STEPS);
    for (int k = 1; k < 4; k++) {
        ck_assert_msg(memcmp(obs[0], obs[k], sizeof obs[0]) == 0, "obs: %u threads", threads[k]);
        ck_assert_msg(memcmp(next[0], next[k], sizeof next[0]) == 0, "next_obs: %u threads",
                      threads[k]);
        ck_assert_msg(memcmp(rew[0], rew[k], sizeof rew[0]) == 0, "rewards: %u threads",
                      threads[k]);
        ck_assert_msg(memcmp(trunc[0], trunc[k], sizeof trunc[0]) == 0, "truncated: %u threads",
                      threads[k]);
    }
    /* More threads than envs: reduced to one per env. */
    contrl_vec_env *v = make_pendulums(3, 8);
    ck_assert_uint_eq(contrl_vec_env_threads(v), 3);
    contrl_vec_env_destroy(v);
}
END_TEST

/* ---- creation, ownership, arguments ---------------------------------------- */

START_TEST(vec_env_takes_ownership_on_success_and_closes_the_envs)
{
    enum { N = 4 };
    probe p[N];
    memset(p, 0, sizeof p);
    int destroyed = 0;
    contrl_env envs[N];
    for (uint32_t i = 0; i < N; i++) {
        p[i].destroyed = &destroyed;
        envs[i] = probe_env(&p[i], "probe");
    }
    contrl_vec_env *v = make_vec(envs, N, 2);
    const contrl_env zero = {0};
    for (uint32_t i = 0; i < N; i++)
        ck_assert_int_eq(memcmp(&envs[i], &zero, sizeof zero), 0);
    ck_assert_int_eq(destroyed, 0);
    contrl_vec_env_destroy(v);
    ck_assert_int_eq(destroyed, N);
    contrl_vec_env_destroy(NULL);
}
END_TEST

/* A refused create leaves every env with the caller, unchanged and open. */
static void assert_refused(contrl_env *envs, uint32_t n, const char *a, const char *b)
{
    contrl_env before[8];
    ck_assert_uint_le(n, 8);
    memcpy(before, envs, n * sizeof *envs);
    contrl_vec_env *v = (contrl_vec_env *)(uintptr_t)1;
    ck_assert_int_eq(contrl_vec_env_create(envs, n, NULL, &v), CONTRL_ERR_INVALID_ARG);
    ck_assert_ptr_null(v);
    assert_error_mentions(a, b);
    ck_assert_int_eq(memcmp(before, envs, n * sizeof *envs), 0);
}

START_TEST(vec_env_create_rejects_mismatched_envs_with_a_message)
{
    contrl_env envs[3];
    envs[0] = make_env("pendulum");
    envs[1] = make_env("pendulum");
    envs[2] = make_env("mountaincar");
    assert_refused(envs, 3, "envs[2]", "obs_dim");
    contrl_env_close(&envs[2]);

    /* Same dims, other bounds. */
    probe p0, p1;
    memset(&p0, 0, sizeof p0);
    memset(&p1, 0, sizeof p1);
    static const float wide[2] = {-1.0f, -2.0f};
    contrl_env q[2] = {probe_env(&p0, "a"), probe_env(&p1, "b")};
    q[1].action_low = wide;
    assert_refused(q, 2, "envs[1]", "bounds");

    /* One simulator twice. */
    envs[2] = envs[1];
    assert_refused(envs, 3, "envs[1] and envs[2]", "same");

    /* A broken env names its index and the field. */
    envs[2] = make_env("pendulum");
    contrl_status (*step)(void *, const float *, float *, float *, bool *, bool *) = envs[2].step;
    envs[2].step = NULL;
    assert_refused(envs, 3, "envs[2]", "step is NULL");
    envs[2].step = step;

    /* The caller still owns working envs. */
    float obs[3];
    for (int i = 0; i < 3; i++) {
        ck_assert_int_eq(contrl_env_reset(&envs[i], 1, obs), CONTRL_OK);
        contrl_env_close(&envs[i]);
    }
}
END_TEST

START_TEST(vec_env_rejects_null_and_zero_arguments)
{
    contrl_env envs[2] = {make_env("pendulum"), make_env("pendulum")};
    contrl_vec_env *v = NULL;
    ck_assert_int_eq(contrl_vec_env_create(envs, 2, NULL, NULL), CONTRL_ERR_INVALID_ARG);
    assert_error_mentions("contrl_vec_env_create", "out");
    ck_assert_int_eq(contrl_vec_env_create(NULL, 2, NULL, &v), CONTRL_ERR_INVALID_ARG);
    assert_error_mentions("contrl_vec_env_create", "envs is NULL");
    ck_assert_int_eq(contrl_vec_env_create(envs, 0, NULL, &v), CONTRL_ERR_INVALID_ARG);
    assert_error_mentions("contrl_vec_env_create", "n is 0");
    contrl_vec_env_config cfg = contrl_vec_env_config_default();
    ck_assert_uint_eq(cfg.threads, 1);
    cfg.threads = 0;
    ck_assert_int_eq(contrl_vec_env_create(envs, 2, &cfg, &v), CONTRL_ERR_INVALID_ARG);
    assert_error_mentions("contrl_vec_env_create", "threads is 0");
    cfg = contrl_vec_env_config_default();
    cfg.size = 4;
    ck_assert_int_eq(contrl_vec_env_create(envs, 2, &cfg, &v), CONTRL_ERR_INVALID_ARG);
    assert_error_mentions("contrl_vec_env_create", "size");
    cfg = contrl_vec_env_config_default();
    cfg.allocator.alloc = alloc_counter_alloc;
    ck_assert_int_eq(contrl_vec_env_create(envs, 2, &cfg, &v), CONTRL_ERR_INVALID_ARG);
    assert_error_mentions("contrl_vec_env_create", "allocator");
    ck_assert_ptr_null(v);
    ck_assert_int_eq(contrl_vec_env_config_init(NULL, sizeof cfg), CONTRL_ERR_INVALID_ARG);

    /* NULL handles */
    float a[2] = {0}, next[6], rew[2];
    bool term[2], trunc[2];
    ck_assert_int_eq(contrl_vec_env_reset(NULL, 1), CONTRL_ERR_INVALID_ARG);
    ck_assert_int_eq(contrl_vec_env_step(NULL, a, next, rew, term, trunc), CONTRL_ERR_INVALID_ARG);
    ck_assert_ptr_null(contrl_vec_env_obs(NULL));
    ck_assert_uint_eq(contrl_vec_env_num_envs(NULL), 0);
    ck_assert_uint_eq(contrl_vec_env_obs_dim(NULL), 0);
    ck_assert_uint_eq(contrl_vec_env_action_dim(NULL), 0);
    ck_assert_uint_eq(contrl_vec_env_threads(NULL), 0);
    ck_assert_ptr_null(contrl_vec_env_action_low(NULL));
    ck_assert_ptr_null(contrl_vec_env_action_high(NULL));
    ck_assert_ptr_null(contrl_vec_env_name(NULL));

    v = make_vec(envs, 2, 2);
    /* Before the first reset: STATE; observations are zeros. */
    ck_assert_int_eq(contrl_vec_env_step(v, a, next, rew, term, trunc), CONTRL_ERR_STATE);
    assert_error_mentions("contrl_vec_env_step", "reset");
    for (int i = 0; i < 6; i++)
        ck_assert_float_eq(contrl_vec_env_obs(v)[i], 0.0f);
    ck_assert_int_eq(contrl_vec_env_reset(v, 3), CONTRL_OK);
    ck_assert_int_eq(contrl_vec_env_step(v, NULL, next, rew, term, trunc), CONTRL_ERR_INVALID_ARG);
    assert_error_mentions("contrl_vec_env_step", "actions is NULL");
    ck_assert_int_eq(contrl_vec_env_step(v, a, NULL, rew, term, trunc), CONTRL_ERR_INVALID_ARG);
    assert_error_mentions("contrl_vec_env_step", "next_obs is NULL");
    ck_assert_int_eq(contrl_vec_env_step(v, a, next, NULL, term, trunc), CONTRL_ERR_INVALID_ARG);
    assert_error_mentions("contrl_vec_env_step", "rewards is NULL");
    ck_assert_int_eq(contrl_vec_env_step(v, a, next, rew, NULL, trunc), CONTRL_ERR_INVALID_ARG);
    assert_error_mentions("contrl_vec_env_step", "terminated is NULL");
    ck_assert_int_eq(contrl_vec_env_step(v, a, next, rew, term, NULL), CONTRL_ERR_INVALID_ARG);
    assert_error_mentions("contrl_vec_env_step", "truncated is NULL");

    /* An action outside the bounds (or NaN) is refused before anything is
     * stepped: the observations stay, and stepping goes on normally. */
    float obs_before[6];
    memcpy(obs_before, contrl_vec_env_obs(v), sizeof obs_before);
    a[1] = 2.5f;
    ck_assert_int_eq(contrl_vec_env_step(v, a, next, rew, term, trunc), CONTRL_ERR_INVALID_ARG);
    assert_error_mentions("env 1", "outside");
    a[1] = NAN;
    ck_assert_int_eq(contrl_vec_env_step(v, a, next, rew, term, trunc), CONTRL_ERR_INVALID_ARG);
    assert_error_mentions("env 1", "NaN");
    ck_assert_int_eq(memcmp(obs_before, contrl_vec_env_obs(v), sizeof obs_before), 0);
    a[1] = 0.0f;
    ck_assert_int_eq(contrl_vec_env_step(v, a, next, rew, term, trunc), CONTRL_OK);
    contrl_vec_env_destroy(v);
}
END_TEST

/* ---- errors ------------------------------------------------------------------ */

/* 6 probes on 2 threads: env 3 runs on the second thread, env 4 on the
 * calling one. */
static contrl_vec_env *make_probes(probe *p, uint32_t n, uint32_t threads)
{
    contrl_env envs[8];
    memset(p, 0, n * sizeof *p);
    for (uint32_t i = 0; i < n; i++) {
        p[i].id = (float)i;
        envs[i] = probe_env(&p[i], i == 3 ? "probe3" : "probe");
    }
    return make_vec(envs, n, threads);
}

static contrl_status step_zero(contrl_vec_env *v)
{
    float a[16] = {0}, next[24], rew[8];
    bool term[8], trunc[8];
    return contrl_vec_env_step(v, a, next, rew, term, trunc);
}

START_TEST(vec_env_error_on_a_worker_thread_arrives_with_its_message)
{
    enum { N = 6 };
    probe p[N];
    contrl_vec_env *v = make_probes(p, N, 2);
    ck_assert_int_eq(contrl_vec_env_reset(v, 1), CONTRL_OK);
    p[3].fail_step_at = 3;
    p[3].nan_at_fail = true; /* contrl_env_step's own message, written on the worker */
    contrl_clear_error();
    ck_assert_int_eq(step_zero(v), CONTRL_OK);
    ck_assert_int_eq(step_zero(v), CONTRL_OK);
    ck_assert_int_eq(step_zero(v), CONTRL_ERR_NONFINITE);
    assert_error_mentions("contrl_vec_env_step: env 3: ", "\"probe3\" returned next_obs[1]");

    /* Then the vec env needs a reset, and steps again after one. */
    ck_assert_int_eq(step_zero(v), CONTRL_ERR_STATE);
    p[3].fail_step_at = 0;
    ck_assert_int_eq(contrl_vec_env_reset(v, 2), CONTRL_OK);
    ck_assert_int_eq(step_zero(v), CONTRL_OK);

    /* A callback status without a message: named as such, not an old one. */
    p[3].fail_step_at = 2;
    p[3].nan_at_fail = false;
    p[3].fail_status = CONTRL_ERR_IO;
    ck_assert_int_eq(step_zero(v), CONTRL_ERR_IO);
    assert_error_mentions("contrl_vec_env_step: env 3: ", "without a message");
    ck_assert(strstr(contrl_last_error(), "next_obs") == NULL);

    /* Two envs fail at once (env 4 on the calling thread, env 3 on the
     * other): the lower-numbered one is reported, for any thread count. */
    p[3].fail_step_at = 0;
    ck_assert_int_eq(contrl_vec_env_reset(v, 3), CONTRL_OK);
    p[3].fail_step_at = 1;
    p[3].nan_at_fail = true;
    p[4].fail_step_at = 1;
    p[4].fail_status = CONTRL_ERR_STATE;
    ck_assert_int_eq(step_zero(v), CONTRL_ERR_NONFINITE);
    assert_error_mentions("env 3: ", "probe3");
    contrl_vec_env_destroy(v);
}
END_TEST

START_TEST(vec_env_reset_and_auto_reset_errors_name_the_env)
{
    enum { N = 4 };
    probe p[N];
    contrl_vec_env *v = make_probes(p, N, 2);
    p[1].fail_reset_at = 1;
    ck_assert_int_eq(contrl_vec_env_reset(v, 1), CONTRL_ERR_IO);
    assert_error_mentions("contrl_vec_env_reset: env 1: ", "reset callback");
    ck_assert_int_eq(step_zero(v), CONTRL_ERR_STATE);
    ck_assert_int_eq(contrl_vec_env_reset(v, 1), CONTRL_OK); /* second reset works */
    /* an automatic reset that fails */
    p[2].end_at = 2;
    p[2].fail_reset_at = p[2].resets + 1;
    ck_assert_int_eq(step_zero(v), CONTRL_OK);
    ck_assert_int_eq(step_zero(v), CONTRL_ERR_IO);
    assert_error_mentions("contrl_vec_env_step: env 2: ", "reset callback");
    contrl_vec_env_destroy(v);
}
END_TEST

/* ---- memory ----------------------------------------------------------------- */

START_TEST(vec_env_allocates_through_its_allocator_and_not_in_reset_or_step)
{
    enum { N = 8, STEPS = 450 };
    alloc_counter c;
    contrl_vec_env_config cfg = contrl_vec_env_config_default();
    cfg.allocator = alloc_counter_allocator(&c);
    cfg.threads = 2;
    contrl_env envs[N];
    for (int i = 0; i < N; i++)
        envs[i] = make_env("pendulum");
    contrl_vec_env *v = NULL;
    ck_assert_int_eq(contrl_vec_env_create(envs, N, &cfg, &v), CONTRL_OK);
    ck_assert_int_eq(c.allocs, 1);
    ck_assert(alloc_counter_holds(&c, contrl_vec_env_obs(v), N * 3 * sizeof(float)));

    float act[N] = {0}, next[N * 3], rew[N];
    bool term[N], trunc[N];
    contrl_status st[STEPS + 1];
    int bad_act = 0;
    libc_count_begin(); /* no Check assertion inside: they allocate */
    st[0] = contrl_vec_env_reset(v, 1);
    for (int t = 1; t <= STEPS; t++) /* 2 automatic resets per env */
        st[t] = contrl_vec_env_step(v, act, next, rew, term, trunc);
    act[3] = 9.0f; /* an error message on the way too */
    bad_act = contrl_vec_env_step(v, act, next, rew, term, trunc) == CONTRL_ERR_INVALID_ARG;
    libc_count_end();
    for (int t = 0; t <= STEPS; t++)
        ck_assert_int_eq(st[t], CONTRL_OK);
    ck_assert(bad_act);
    ck_assert_int_eq(libc_count_allocs(), 0);
    ck_assert_int_eq(libc_count_frees(), 0);
    ck_assert_int_eq(c.allocs, 1);

    contrl_vec_env_destroy(v);
    alloc_counter_assert_balanced(&c, "vec env");

    /* A failed allocation: NOMEM, and the caller keeps the envs. */
    for (int i = 0; i < N; i++)
        envs[i] = make_env("pendulum");
    cfg.allocator = alloc_counter_allocator(&c);
    c.fail = true;
    ck_assert_int_eq(contrl_vec_env_create(envs, N, &cfg, &v), CONTRL_ERR_NOMEM);
    ck_assert_ptr_null(v);
    float obs[3];
    for (int i = 0; i < N; i++) {
        ck_assert_int_eq(contrl_env_reset(&envs[i], 1, obs), CONTRL_OK);
        contrl_env_close(&envs[i]);
    }
}
END_TEST

static Suite *vec_env_suite(void)
{
    Suite *s = suite_create("vec_env");
    TCase *tc = tcase_create("vec_env");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, vec_env_seed_follows_the_documented_formula);
    tcase_add_test(tc, vec_env_equals_the_same_envs_stepped_one_by_one);
    tcase_add_test(tc, vec_env_resets_ended_envs_automatically_with_the_next_seed);
    tcase_add_test(tc, vec_env_truncates_at_max_episode_steps_when_the_env_does_not);
    tcase_add_test(tc, vec_env_results_are_identical_for_1_2_3_and_8_threads);
    tcase_add_test(tc, vec_env_takes_ownership_on_success_and_closes_the_envs);
    tcase_add_test(tc, vec_env_create_rejects_mismatched_envs_with_a_message);
    tcase_add_test(tc, vec_env_rejects_null_and_zero_arguments);
    tcase_add_test(tc, vec_env_error_on_a_worker_thread_arrives_with_its_message);
    tcase_add_test(tc, vec_env_reset_and_auto_reset_errors_name_the_env);
    tcase_add_test(tc, vec_env_allocates_through_its_allocator_and_not_in_reset_or_step);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(vec_env_suite());
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
