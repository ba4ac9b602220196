/* tests/agents/test_agent_api.c - the agents' public API against
 * contrl/agent.h: acting, observing and updating in your own loop, action
 * scaling, argument checking, determinism, learn's loop contract, and
 * memory (creation through the config's allocator, nothing on the hot
 * paths).
 *
 * Links the shared library and defines the C library's allocation functions
 * in this executable (tests/support/counting_alloc.c, exported dynamically),
 * as tests/alloc does, so that the hot-path checks also see mallocs made
 * inside libcontrl.so, its BLIS and libgomp. Under AddressSanitizer, which
 * owns malloc, only the user-allocator half of those checks runs.
 *
 * Many tests loop over the four variants: DDPG, TD3, SAC, SAC v1. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../support/counting_alloc.h"
#include "contrl/contrl.h"

/* ---- agents under test ---------------------------------------------------- */

typedef enum variant { DDPG, TD3, SAC, SAC_V1, N_VARIANTS } variant;
static const char *const variant_names[] = {"ddpg", "td3", "sac", "sac_v1"};
static const char *const creator_names[] = {"contrl_ddpg_create", "contrl_td3_create",
                                            "contrl_sac_create", "contrl_sac_create"};

static contrl_algo algo_of(variant v)
{
    return v == DDPG ? CONTRL_ALGO_DDPG : v == TD3 ? CONTRL_ALGO_TD3 : CONTRL_ALGO_SAC;
}

static const float PEND_LOW[1] = {-2.0f}, PEND_HIGH[1] = {2.0f};
enum { OBS = 3, ACT = 1, BATCH = 64 };

/* Small nets so that thousands of gradient steps take well under a second. */
static contrl_agent_config small_config(variant v, uint64_t seed)
{
    contrl_agent_config cfg = contrl_agent_config_default(algo_of(v));
    cfg.obs_dim = OBS;
    cfg.action_dim = ACT;
    cfg.action_low = PEND_LOW;
    cfg.action_high = PEND_HIGH;
    cfg.n_hidden = 2;
    cfg.hidden[0] = 32;
    cfg.hidden[1] = 32;
    cfg.batch_size = BATCH;
    cfg.buffer_capacity = 5000;
    cfg.learning_starts = 500;
    cfg.actor_lr = 1e-3f;
    cfg.critic_lr = 1e-3f;
    cfg.tau = 0.005f;
    cfg.seed = seed;
    return cfg;
}

static contrl_status create_variant(variant v, const contrl_agent_config *cfg,
                                    contrl_agent **out)
{
    switch (v) {
    case DDPG: return contrl_ddpg_create(cfg, NULL, out);
    case TD3: return contrl_td3_create(cfg, NULL, out);
    case SAC: return contrl_sac_create(cfg, NULL, out);
    case SAC_V1: {
        contrl_sac_config s = contrl_sac_config_default();
        s.value_net = true;
        return contrl_sac_create(cfg, &s, out);
    }
    case N_VARIANTS: break;
    }
    return CONTRL_ERR_INVALID_ARG;
}

static contrl_agent *make_agent(variant v, uint64_t seed)
{
    contrl_agent_config cfg = small_config(v, seed);
    contrl_agent *a = NULL;
    contrl_status st = create_variant(v, &cfg, &a);
    ck_assert_msg(st == CONTRL_OK && a != NULL, "create %s: %s", variant_names[v],
                  contrl_last_error());
    return a;
}

static contrl_env make_pendulum(void)
{
    contrl_env env;
    ck_assert_int_eq(contrl_env_make("pendulum", NULL, &env), CONTRL_OK);
    return env;
}

/* n pendulum-like observations [cos th, sin th, thdot] from a fixed seed. */
static void fixed_obs(float *obs, int n, uint64_t seed)
{
    contrl_rng rng;
    contrl_rng_seed(&rng, seed);
    for (int i = 0; i < n; i++) {
        float th = 6.2831853f * contrl_rng_uniform(&rng) - 3.1415927f;
        obs[3 * i + 0] = cosf(th);
        obs[3 * i + 1] = sinf(th);
        obs[3 * i + 2] = 16.0f * contrl_rng_uniform(&rng) - 8.0f;
    }
}

/* A transition with some variety in it. */
static void transition(int i, float *obs, float *action, float *reward, float *next_obs)
{
    for (int k = 0; k < OBS; k++) {
        obs[k] = sinf(0.37f * (float)(i + 1) + (float)k);
        next_obs[k] = sinf(0.37f * (float)(i + 2) + (float)k);
    }
    action[0] = 1.9f * sinf(1.3f * (float)i);
    *reward = -fabsf(obs[2]);
}

static void observe_n(contrl_agent *a, int n, int offset)
{
    for (int i = 0; i < n; i++) {
        float o[OBS], act[ACT], r, o2[OBS];
        transition(i + offset, o, act, &r, o2);
        ck_assert_int_eq(contrl_agent_observe(a, o, act, r, o2, false, (i + 1) % 200 == 0),
                         CONTRL_OK);
    }
}

static void assert_error_names(const char *fn)
{
    const char *msg = contrl_last_error();
    ck_assert_msg(strstr(msg, fn) != NULL, "last error \"%s\" should name %s", msg, fn);
}

/* ---- a user env: configurable dims and bounds ------------------------------ */

typedef struct user_env {
    uint32_t obs_dim, action_dim;
    float low[2], high[2];
    long steps, resets;
    long out_of_bounds; /* actions the env received outside its bounds */
    float seen_min[2], seen_max[2];
    float obs_scale;
    float state;
    int t;
} user_env;

static contrl_status user_reset(void *user, uint64_t seed, float *obs)
{
    user_env *u = user;
    u->resets++;
    u->t = 0;
    u->state = (float)(seed % 1000) / 1000.0f;
    for (uint32_t i = 0; i < u->obs_dim; i++)
        obs[i] = u->obs_scale * (u->state + 0.1f * (float)i);
    return CONTRL_OK;
}

/* Reward: the first action dimension's position in its range, so that a
 * learner is pushed toward the upper bound. 50-step episodes. */
static contrl_status user_step(void *user, const float *action, float *next_obs, float *reward,
                               bool *terminated, bool *truncated)
{
    user_env *u = user;
    u->steps++;
    for (uint32_t i = 0; i < u->action_dim; i++) {
        if (!(action[i] >= u->low[i] && action[i] <= u->high[i]))
            u->out_of_bounds++;
        if (action[i] < u->seen_min[i])
            u->seen_min[i] = action[i];
        if (action[i] > u->seen_max[i])
            u->seen_max[i] = action[i];
    }
    u->t++;
    u->state = 0.9f * u->state + 0.1f * (action[0] - u->low[0]) / (u->high[0] - u->low[0]);
    for (uint32_t i = 0; i < u->obs_dim; i++)
        next_obs[i] = u->obs_scale * (u->state + 0.1f * (float)i);
    *reward = (action[0] - u->low[0]) / (u->high[0] - u->low[0]);
    *terminated = false;
    *truncated = u->t >= 50;
    return CONTRL_OK;
}

static contrl_env user_env_make(user_env *u, uint32_t obs_dim, uint32_t action_dim,
                                const float *low, const float *high)
{
    memset(u, 0, sizeof *u);
    u->obs_dim = obs_dim;
    u->action_dim = action_dim;
    u->obs_scale = 1.0f;
    for (uint32_t i = 0; i < action_dim; i++) {
        u->low[i] = low[i];
        u->high[i] = high[i];
        u->seen_min[i] = INFINITY;
        u->seen_max[i] = -INFINITY;
    }
    contrl_env env;
    memset(&env, 0, sizeof env);
    env.size = sizeof env;
    env.name = "user";
    env.obs_dim = obs_dim;
    env.action_dim = action_dim;
    env.action_low = u->low;
    env.action_high = u->high;
    env.max_episode_steps = 50;
    env.user = u;
    env.reset = user_reset;
    env.step = user_step;
    return env;
}

/* ==== names, queries, defaults ============================================== */

START_TEST(algo_names_and_agent_queries_report_what_was_created)
{
    ck_assert_str_eq(contrl_algo_name(CONTRL_ALGO_DDPG), "ddpg");
    ck_assert_str_eq(contrl_algo_name(CONTRL_ALGO_TD3), "td3");
    ck_assert_str_eq(contrl_algo_name(CONTRL_ALGO_SAC), "sac");
    ck_assert_str_eq(contrl_algo_name(CONTRL_ALGO_SQL), "sql");
    ck_assert_ptr_null(contrl_algo_name((contrl_algo)0));
    ck_assert_ptr_null(contrl_algo_name((contrl_algo)5));
    for (int v = 0; v < N_VARIANTS; v++) {
        contrl_agent_config cfg = small_config((variant)v, 1);
        cfg.obs_dim = 5;
        cfg.action_dim = 2;
        cfg.action_low = NULL;
        cfg.action_high = NULL;
        contrl_agent *a = NULL;
        ck_assert_int_eq(create_variant((variant)v, &cfg, &a), CONTRL_OK);
        ck_assert_int_eq(contrl_agent_algo(a), algo_of((variant)v));
        ck_assert_uint_eq(contrl_agent_obs_dim(a), 5);
        ck_assert_uint_eq(contrl_agent_action_dim(a), 2);
        ck_assert_uint_eq(contrl_agent_steps(a), 0);
        ck_assert_uint_eq(contrl_agent_updates(a), 0);
        const contrl_buffer *b = contrl_agent_buffer(a);
        ck_assert_ptr_nonnull(b);
        ck_assert_uint_eq(contrl_buffer_capacity(b), cfg.buffer_capacity);
        ck_assert_uint_eq(contrl_buffer_obs_dim(b), 5);
        ck_assert_uint_eq(contrl_buffer_action_dim(b), 2);
        ck_assert_uint_eq(contrl_buffer_size(b), 0);
        contrl_agent_destroy(a);
    }
    /* NULL handles. */
    ck_assert_int_eq(contrl_agent_algo(NULL), 0);
    ck_assert_uint_eq(contrl_agent_obs_dim(NULL), 0);
    ck_assert_uint_eq(contrl_agent_action_dim(NULL), 0);
    ck_assert_uint_eq(contrl_agent_steps(NULL), 0);
    ck_assert_uint_eq(contrl_agent_updates(NULL), 0);
    ck_assert_ptr_null(contrl_agent_buffer(NULL));
    contrl_agent_destroy(NULL);
}
END_TEST

/* The table in contrl/agent.h, field by field. Loop over DDPG, TD3, SAC and
 * one unknown value (documented to give the TD3 defaults). */
START_TEST(config_defaults_match_the_header_table)
{
    static const struct {
        contrl_algo algo;
        uint32_t h0, h1;
        float actor_lr, critic_lr, tau;
        uint32_t batch;
        uint64_t learning_starts;
    } want[] = {
        {CONTRL_ALGO_DDPG, 400, 300, 1e-4f, 1e-3f, 0.001f, 64, 0},
        {CONTRL_ALGO_TD3, 256, 256, 3e-4f, 3e-4f, 0.005f, 256, 25000},
        {CONTRL_ALGO_SAC, 256, 256, 3e-4f, 3e-4f, 0.005f, 256, 10000},
        {(contrl_algo)42, 256, 256, 3e-4f, 3e-4f, 0.005f, 256, 25000},
    };
    const int i = _i;
    contrl_agent_config c = contrl_agent_config_default(want[i].algo);
    ck_assert_uint_eq(c.size, sizeof c);
    ck_assert_uint_eq(c.obs_dim, 0);
    ck_assert_uint_eq(c.action_dim, 0);
    ck_assert_ptr_null(c.action_low);
    ck_assert_ptr_null(c.action_high);
    ck_assert_uint_eq(c.n_hidden, 2);
    ck_assert_uint_eq(c.hidden[0], want[i].h0);
    ck_assert_uint_eq(c.hidden[1], want[i].h1);
    ck_assert_int_eq(c.hidden_act, CONTRL_ACT_RELU);
    ck_assert_float_eq(c.actor_lr, want[i].actor_lr);
    ck_assert_float_eq(c.critic_lr, want[i].critic_lr);
    ck_assert_float_eq(c.gamma, 0.99f);
    ck_assert_float_eq(c.tau, want[i].tau);
    ck_assert_uint_eq(c.batch_size, want[i].batch);
    ck_assert_uint_eq(c.buffer_capacity, 1000000);
    ck_assert_uint_eq(c.learning_starts, want[i].learning_starts);
    ck_assert_uint_eq(c.train_freq, 1);
    ck_assert_uint_eq(c.gradient_steps, 1);
    ck_assert_float_eq(c.max_grad_norm, 0.0f);
    ck_assert_int_eq(c.kernels, CONTRL_KERNELS_AUTO);
    ck_assert_ptr_null(c.allocator.alloc);
    ck_assert_ptr_null(c.allocator.free);
}
END_TEST

START_TEST(algorithm_config_defaults_match_the_header)
{
    contrl_ddpg_config d = contrl_ddpg_config_default();
    ck_assert_uint_eq(d.size, sizeof d);
    ck_assert_int_eq(d.noise, CONTRL_NOISE_OU);
    ck_assert_float_eq(d.sigma, 0.2f);
    ck_assert_float_eq(d.ou_theta, 0.15f);
    ck_assert_float_eq(d.ou_dt, 1e-2f);
    ck_assert_float_eq(d.out_init_range, 3e-3f);
    ck_assert_float_eq(d.critic_weight_decay, 1e-2f);
    contrl_td3_config t = contrl_td3_config_default();
    ck_assert_uint_eq(t.size, sizeof t);
    ck_assert_uint_eq(t.policy_delay, 2);
    ck_assert_float_eq(t.target_noise, 0.2f);
    ck_assert_float_eq(t.target_noise_clip, 0.5f);
    ck_assert_float_eq(t.expl_noise, 0.1f);
    contrl_sac_config s = contrl_sac_config_default();
    ck_assert_uint_eq(s.size, sizeof s);
    ck_assert(s.auto_alpha);
    ck_assert_float_eq(s.init_alpha, 1.0f);
    ck_assert_float_eq(s.alpha_lr, 3e-4f);
    ck_assert(isnan(s.target_entropy));
    ck_assert(!s.value_net);
    ck_assert_float_eq(s.log_std_min, -20.0f);
    ck_assert_float_eq(s.log_std_max, 2.0f);
    contrl_learn_config l = contrl_learn_config_default();
    ck_assert_uint_eq(l.size, sizeof l);
    ck_assert_ptr_null(l.eval_env);
    ck_assert_uint_eq(l.eval_interval, 5000);
    ck_assert_uint_eq(l.eval_episodes, 10);
    ck_assert_uint_eq(l.progress_interval, 1000);
    ck_assert_ptr_null(l.callback);
}
END_TEST

/* ==== the embedded loop ==================================================== */

/* Loop over variants. Untrained agents, 2000 observations well beyond the
 * pendulum's range too (so the tanh output saturates), explore on and off. */
START_TEST(act_returns_actions_within_the_env_bounds_with_and_without_exploration)
{
    const variant v = (variant)_i;
    contrl_agent *a = make_agent(v, 3);
    contrl_rng rng;
    contrl_rng_seed(&rng, 99);
    float lo = INFINITY, hi = -INFINITY;
    for (int i = 0; i < 2000; i++) {
        float obs[OBS], act[ACT];
        const float scale = i < 1000 ? 1.0f : 1000.0f;
        for (int k = 0; k < OBS; k++)
            obs[k] = scale * (20.0f * contrl_rng_uniform(&rng) - 10.0f);
        for (int explore = 0; explore <= 1; explore++) {
            ck_assert_int_eq(contrl_agent_act(a, obs, act, explore), CONTRL_OK);
            ck_assert_msg(act[0] >= -2.0f && act[0] <= 2.0f,
                          "%s act(explore=%d) gave %.9g outside [-2, 2]", variant_names[v],
                          explore, (double)act[0]);
            lo = fminf(lo, act[0]);
            hi = fmaxf(hi, act[0]);
        }
    }
    /* Not one constant action. */
    ck_assert_float_gt(hi - lo, 0.1f);
    contrl_agent_destroy(a);
}
END_TEST

/* Loop over variants. Twins A and B (same seed): A acts deterministically
 * many times and in a batch, B does nothing; their next random actions are
 * still equal. The same comparison after an exploring act differs, so the
 * check can tell. */
START_TEST(act_without_exploration_is_deterministic_and_leaves_the_rng_alone)
{
    const variant v = (variant)_i;
    contrl_agent *a = make_agent(v, 5), *b = make_agent(v, 5);
    float obs[BATCH * OBS], first[ACT], again[ACT], batch_out[BATCH * ACT];
    fixed_obs(obs, BATCH, 11);
    ck_assert_int_eq(contrl_agent_act(a, obs, first, false), CONTRL_OK);
    for (int i = 0; i < 100; i++) {
        ck_assert_int_eq(contrl_agent_act(a, obs + (i % BATCH) * OBS, again, false), CONTRL_OK);
        ck_assert_int_eq(contrl_agent_act(a, obs, again, false), CONTRL_OK);
        ck_assert_int_eq(memcmp(first, again, sizeof first), 0);
    }
    ck_assert_int_eq(contrl_agent_act_batch(a, obs, BATCH, batch_out, false), CONTRL_OK);
    /* B's act gives the same action as A's. */
    ck_assert_int_eq(contrl_agent_act(b, obs, again, false), CONTRL_OK);
    ck_assert_int_eq(memcmp(first, again, sizeof first), 0);

    float ra[ACT], rb[ACT];
    ck_assert_int_eq(contrl_agent_act_random(a, ra), CONTRL_OK);
    ck_assert_int_eq(contrl_agent_act_random(b, rb), CONTRL_OK);
    ck_assert_msg(memcmp(ra, rb, sizeof ra) == 0,
                  "%s: deterministic acts moved the RNG: %.9g vs twin %.9g", variant_names[v],
                  (double)ra[0], (double)rb[0]);

    /* Control: an exploring act does draw from the RNG. */
    ck_assert_int_eq(contrl_agent_act(a, obs, again, true), CONTRL_OK);
    ck_assert_int_eq(contrl_agent_act_random(a, ra), CONTRL_OK);
    ck_assert_int_eq(contrl_agent_act_random(b, rb), CONTRL_OK);
    ck_assert(memcmp(ra, rb, sizeof ra) != 0);
    contrl_agent_destroy(a);
    contrl_agent_destroy(b);
}
END_TEST

/* Loop over variants. The batch path may use other kernels than the
 * one-row path: 1e-6 is a few float roundings of actions of size <= 2. A
 * trained agent (200 gradient steps) so the nets are not at their init. */
START_TEST(act_batch_of_n_rows_equals_n_single_acts_without_exploration)
{
    const variant v = (variant)_i;
    contrl_agent *a = make_agent(v, 7);
    observe_n(a, 300, 0);
    ck_assert_int_eq(contrl_agent_update(a, 200, NULL), CONTRL_OK);
    float obs[BATCH * OBS], batch_out[BATCH * ACT], one[ACT];
    fixed_obs(obs, BATCH, 13);
    const uint32_t sizes[] = {1, 2, 5, 17, BATCH};
    double worst = 0.0;
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        const uint32_t n = sizes[s];
        ck_assert_int_eq(contrl_agent_act_batch(a, obs, n, batch_out, false), CONTRL_OK);
        for (uint32_t r = 0; r < n; r++) {
            ck_assert_int_eq(contrl_agent_act(a, obs + r * OBS, one, false), CONTRL_OK);
            double d = fabs((double)batch_out[r] - (double)one[0]);
            worst = d > worst ? d : worst;
            ck_assert_msg(d <= 1e-6, "%s: n %u row %u: batch %.9g, single %.9g",
                          variant_names[v], n, r, (double)batch_out[r], (double)one[0]);
        }
    }
    contrl_agent_destroy(a);
}
END_TEST

/* Loop over variants. 20000 draws on [-2, 2]: each of 8 bins of width 0.5
 * expects 2500 (sd 47); the extremes come within 0.01 of the bounds (the
 * chance that none of 20000 uniform draws lands in a 0.01 edge strip is
 * e^-50). */
START_TEST(act_random_stays_in_bounds_and_covers_them_uniformly)
{
    const variant v = (variant)_i;
    contrl_agent *a = make_agent(v, 9);
    int bins[8] = {0};
    float lo = INFINITY, hi = -INFINITY;
    double sum = 0.0;
    const int n = 20000;
    for (int i = 0; i < n; i++) {
        float x[ACT];
        ck_assert_int_eq(contrl_agent_act_random(a, x), CONTRL_OK);
        ck_assert_msg(x[0] >= -2.0f && x[0] <= 2.0f, "act_random gave %.9g", (double)x[0]);
        lo = fminf(lo, x[0]);
        hi = fmaxf(hi, x[0]);
        sum += x[0];
        int b = (int)((x[0] + 2.0f) / 0.5f);
        bins[b > 7 ? 7 : b]++;
    }
    ck_assert_float_lt(lo, -1.99f);
    ck_assert_float_gt(hi, 1.99f);
    ck_assert_double_lt(fabs(sum / n), 0.05); /* sd of the mean 0.008 */
    for (int b = 0; b < 8; b++)
        ck_assert_msg(abs(bins[b] - n / 8) < 300, "bin %d holds %d of %d", b, bins[b], n);
    contrl_agent_destroy(a);
}
END_TEST

/* Loop over variants. Pendulum torque in [-2, 2] is stored in [-1, 1]:
 * 5 -> +1 (clipped), -7 -> -1 (clipped), 1 -> 0.5, -2 -> -1, 0 -> 0. The
 * rest of the transition is stored as given. */
START_TEST(observe_stores_the_clipped_action_in_normalised_units)
{
    const variant v = (variant)_i;
    contrl_agent *a = make_agent(v, 1);
    const float given[] = {5.0f, -7.0f, 1.0f, -2.0f, 0.0f, 1e30f};
    const float stored[] = {1.0f, -1.0f, 0.5f, -1.0f, 0.0f, 1.0f};
    const int n = (int)(sizeof given / sizeof given[0]);
    for (int i = 0; i < n; i++) {
        float obs[OBS] = {0.5f, -0.25f, (float)i}, next[OBS] = {-0.5f, 0.75f, (float)-i};
        ck_assert_int_eq(contrl_agent_observe(a, obs, &given[i], -1.5f * (float)i, next, i == 2,
                                              i == 3),
                         CONTRL_OK);
        ck_assert_uint_eq(contrl_agent_steps(a), (uint64_t)i + 1);
    }
    const contrl_buffer *b = contrl_agent_buffer(a);
    ck_assert_uint_eq(contrl_buffer_size(b), (uint64_t)n);
    for (int i = 0; i < n; i++) {
        float obs[OBS], act[ACT], r, next[OBS];
        bool term, trunc;
        ck_assert_int_eq(contrl_buffer_get(b, (uint64_t)i, obs, act, &r, next, &term, &trunc),
                         CONTRL_OK);
        ck_assert_msg(act[0] == stored[i], "%s: action %g stored as %.9g, want %g",
                      variant_names[v], (double)given[i], (double)act[0], (double)stored[i]);
        ck_assert_float_eq(obs[0], 0.5f);
        ck_assert_float_eq(obs[1], -0.25f);
        ck_assert_float_eq(obs[2], (float)i);
        ck_assert_float_eq(next[0], -0.5f);
        ck_assert_float_eq(next[1], 0.75f);
        ck_assert_float_eq(next[2], (float)-i);
        ck_assert_float_eq(r, -1.5f * (float)i);
        ck_assert(term == (i == 2));
        ck_assert(trunc == (i == 3));
    }
    contrl_agent_destroy(a);
}
END_TEST

/* Loop over variants. batch_size 64: STATE with 0 and 63 transitions (no
 * step counted), OK from 64 on, counting gradient steps. */
START_TEST(update_before_the_buffer_holds_batch_size_transitions_is_a_state_error)
{
    const variant v = (variant)_i;
    contrl_agent *a = make_agent(v, 2);
    contrl_update_stats stats;
    contrl_clear_error();
    ck_assert_int_eq(contrl_agent_update(a, 1, &stats), CONTRL_ERR_STATE);
    assert_error_names("contrl_agent_update");
    observe_n(a, BATCH - 1, 0);
    ck_assert_int_eq(contrl_agent_update(a, 1, NULL), CONTRL_ERR_STATE);
    ck_assert_uint_eq(contrl_agent_updates(a), 0);
    observe_n(a, 1, BATCH - 1);
    memset(&stats, 0, sizeof stats);
    ck_assert_int_eq(contrl_agent_update(a, 3, &stats), CONTRL_OK);
    ck_assert_uint_eq(contrl_agent_updates(a), 3);
    ck_assert_uint_eq(stats.updates, 3);
    ck_assert(isfinite(stats.critic_loss) && stats.critic_loss >= 0.0f);
    ck_assert(isfinite(stats.mean_q));
    if (v == SAC || v == SAC_V1) {
        ck_assert(isfinite(stats.alpha) && stats.alpha > 0.0f);
        ck_assert(isfinite(stats.entropy));
        ck_assert(isfinite(stats.actor_loss));
    } else {
        ck_assert(isnan(stats.alpha));
    }
    if (v == SAC_V1)
        ck_assert(isfinite(stats.value_loss) && stats.value_loss >= 0.0f);
    else
        ck_assert(isnan(stats.value_loss));
    if (v == DDPG || v == TD3) /* TD3's policy_delay 2: its actor stepped at update 2 */
        ck_assert(isfinite(stats.actor_loss));
    ck_assert_int_eq(contrl_agent_update(a, 2, NULL), CONTRL_OK);
    ck_assert_uint_eq(contrl_agent_updates(a), 5);
    ck_assert_uint_eq(contrl_agent_steps(a), BATCH);
    contrl_agent_destroy(a);
}
END_TEST

/* DDPG's OU noise with theta = 0 is a random walk: x_k = mu + s (n_1 + ...
 * + n_k). After reset_noise the walk restarts from 0, so on twin agents the
 * reset one's next noise equals the other's last increment. */
START_TEST(ddpg_reset_noise_restarts_the_ou_process)
{
    contrl_agent_config cfg = small_config(DDPG, 4);
    contrl_ddpg_config d = contrl_ddpg_config_default();
    d.ou_theta = 0.0f;
    d.sigma = 0.2f;
    d.ou_dt = 1e-2f;
    contrl_agent *a = NULL, *b = NULL;
    ck_assert_int_eq(contrl_ddpg_create(&cfg, &d, &a), CONTRL_OK);
    ck_assert_int_eq(contrl_ddpg_create(&cfg, &d, &b), CONTRL_OK);
    float obs[OBS] = {1.0f, 0.0f, 0.0f}, mu[ACT], xa[ACT], xb_prev[ACT], xb[ACT];
    ck_assert_int_eq(contrl_agent_act(a, obs, mu, false), CONTRL_OK);
    for (int k = 0; k < 20; k++) {
        ck_assert_int_eq(contrl_agent_act(a, obs, xa, true), CONTRL_OK);
        ck_assert_int_eq(contrl_agent_act(b, obs, xb_prev, true), CONTRL_OK);
        ck_assert_int_eq(memcmp(xa, xb_prev, sizeof xa), 0);
    }
    /* 20 steps of s = 0.2 * 0.1 = 0.02 in [-1, 1] units: the walk has
     * drifted (sd 0.09) well inside the bounds; in env units x2. */
    const double drift = (double)xb_prev[0] - (double)mu[0];
    ck_assert_double_gt(fabs(drift), 1e-3);
    ck_assert_double_lt(fabs((double)mu[0]) + fabs(drift), 1.9);
    ck_assert_int_eq(contrl_agent_reset_noise(a), CONTRL_OK);
    ck_assert_int_eq(contrl_agent_act(a, obs, xa, true), CONTRL_OK);
    ck_assert_int_eq(contrl_agent_act(b, obs, xb, true), CONTRL_OK);
    const double noise_a = (double)xa[0] - mu[0], step_b = (double)xb[0] - xb_prev[0];
    ck_assert_msg(fabs(noise_a - step_b) < 1e-5,
                  "after reset the noise is %.7g, the twin's increment %.7g (drift %.7g)",
                  noise_a, step_b, drift);
    ck_assert_double_gt(fabs((double)xa[0] - xb[0]), 1e-3); /* the twin kept its drift */
    ck_assert_int_eq(contrl_agent_reset_noise(NULL), CONTRL_ERR_INVALID_ARG);
    contrl_agent_destroy(a);
    contrl_agent_destroy(b);
}
END_TEST

/* Loop over variants. evaluate runs deterministic episodes and leaves the
 * agent as it was: RNG, noise state, counters, buffer. */
START_TEST(evaluate_leaves_the_agent_unchanged)
{
    const variant v = (variant)_i;
    contrl_agent *a = make_agent(v, 6), *b = make_agent(v, 6);
    float obs[OBS] = {0.0f, 1.0f, 0.5f}, xa[ACT], xb[ACT];
    /* Put some state into the noise process first. */
    ck_assert_int_eq(contrl_agent_act(a, obs, xa, true), CONTRL_OK);
    ck_assert_int_eq(contrl_agent_act(b, obs, xb, true), CONTRL_OK);
    contrl_env env = make_pendulum();
    double m1 = NAN, s1 = NAN, m2 = NAN, s2 = NAN;
    ck_assert_int_eq(contrl_agent_evaluate(a, &env, 3, 100, &m1, &s1), CONTRL_OK);
    ck_assert_int_eq(contrl_agent_evaluate(a, &env, 3, 100, &m2, &s2), CONTRL_OK);
    ck_assert_int_eq(contrl_agent_evaluate(a, &env, 1, 100, NULL, NULL), CONTRL_OK);
    /* Same seeds, deterministic policy: the same returns, in Pendulum's range. */
    ck_assert(m1 == m2 && s1 == s2);
    ck_assert(m1 <= 0.0 && m1 >= -200.0 * 16.3);
    ck_assert(s1 >= 0.0);
    ck_assert_uint_eq(contrl_agent_steps(a), 0);
    ck_assert_uint_eq(contrl_buffer_size(contrl_agent_buffer(a)), 0);
    for (int i = 0; i < 5; i++) {
        ck_assert_int_eq(contrl_agent_act(a, obs, xa, true), CONTRL_OK);
        ck_assert_int_eq(contrl_agent_act(b, obs, xb, true), CONTRL_OK);
        ck_assert_int_eq(memcmp(xa, xb, sizeof xa), 0);
    }
    contrl_env_close(&env);
    contrl_agent_destroy(a);
    contrl_agent_destroy(b);
}
END_TEST

/* ==== action scaling ======================================================== */

/* Loop over variants. Bounds [0, 10] and [-1, 3]. */
START_TEST(actions_are_scaled_to_a_user_envs_bounds)
{
    const variant v = (variant)_i;
    const float low[2] = {0.0f, -1.0f}, high[2] = {10.0f, 3.0f};
    user_env u;
    contrl_env env = user_env_make(&u, 4, 2, low, high);
    contrl_agent_config cfg = small_config(v, 21);
    cfg.obs_dim = env.obs_dim;
    cfg.action_dim = env.action_dim;
    cfg.action_low = env.action_low;
    cfg.action_high = env.action_high;
    contrl_agent *a = NULL;
    ck_assert_int_eq(create_variant(v, &cfg, &a), CONTRL_OK);

    /* Deterministic actions of an untrained agent: strictly inside. */
    contrl_rng rng;
    contrl_rng_seed(&rng, 4);
    for (int i = 0; i < 500; i++) {
        float obs[4], x[2];
        for (int k = 0; k < 4; k++)
            obs[k] = 4.0f * contrl_rng_uniform(&rng) - 2.0f;
        ck_assert_int_eq(contrl_agent_act(a, obs, x, false), CONTRL_OK);
        for (int k = 0; k < 2; k++)
            ck_assert_msg(x[k] > low[k] && x[k] < high[k], "%s: dim %d: %.9g not in (%g, %g)",
                          variant_names[v], k, (double)x[k], (double)low[k], (double)high[k]);
        ck_assert_int_eq(contrl_agent_act(a, obs, x, true), CONTRL_OK);
        for (int k = 0; k < 2; k++)
            ck_assert(x[k] >= low[k] && x[k] <= high[k]);
    }
    /* Random actions: uniform on each range, mean at the centre. 20000 draws:
     * sd of the mean 10/sqrt(12 * 20000) = 0.02 and 0.008. */
    double sum[2] = {0.0, 0.0};
    float lo[2] = {INFINITY, INFINITY}, hi[2] = {-INFINITY, -INFINITY};
    const int n = 20000;
    for (int i = 0; i < n; i++) {
        float x[2];
        ck_assert_int_eq(contrl_agent_act_random(a, x), CONTRL_OK);
        for (int k = 0; k < 2; k++) {
            ck_assert(x[k] >= low[k] && x[k] <= high[k]);
            sum[k] += x[k];
            lo[k] = fminf(lo[k], x[k]);
            hi[k] = fmaxf(hi[k], x[k]);
        }
    }
    ck_assert_double_lt(fabs(sum[0] / n - 5.0), 0.1);
    ck_assert_double_lt(fabs(sum[1] / n - 1.0), 0.04);
    ck_assert_float_lt(lo[0], 0.05f);
    ck_assert_float_gt(hi[0], 9.95f);
    ck_assert_float_lt(lo[1], -0.98f);
    ck_assert_float_gt(hi[1], 2.98f);

    /* observe maps each dim by its own range: 10 -> 1, 0 -> -1, 5 -> 0;
     * 3 -> 1, -1 -> -1, 2 -> 0.5. */
    float obs[4] = {0}, next[4] = {0}, act[2] = {10.0f, 2.0f}, got[2];
    ck_assert_int_eq(contrl_agent_observe(a, obs, act, 0.0f, next, false, false), CONTRL_OK);
    ck_assert_int_eq(contrl_buffer_get(contrl_agent_buffer(a), 0, NULL, got, NULL, NULL, NULL,
                                       NULL),
                     CONTRL_OK);
    ck_assert_float_eq(got[0], 1.0f);
    ck_assert_float_eq(got[1], 0.5f);
    act[0] = 5.0f;
    act[1] = -1.0f;
    ck_assert_int_eq(contrl_agent_observe(a, obs, act, 0.0f, next, false, false), CONTRL_OK);
    ck_assert_int_eq(contrl_buffer_get(contrl_agent_buffer(a), 1, NULL, got, NULL, NULL, NULL,
                                       NULL),
                     CONTRL_OK);
    ck_assert_float_eq(got[0], 0.0f);
    ck_assert_float_eq(got[1], -1.0f);

    /* learn hands the env actions in its units: random ones (the first 500
     * steps) cover the ranges, none outside. */
    ck_assert_int_eq(contrl_agent_learn(a, &env, 700, NULL, NULL), CONTRL_OK);
    ck_assert_int_eq(u.steps, 700);
    ck_assert_int_eq(u.out_of_bounds, 0);
    ck_assert_float_lt(u.seen_min[0], 1.0f);
    ck_assert_float_gt(u.seen_max[0], 9.0f);
    ck_assert_float_lt(u.seen_min[1], -0.6f);
    ck_assert_float_gt(u.seen_max[1], 2.6f);
    contrl_agent_destroy(a);
}
END_TEST

/* Bounds whose centre and half-width are not exact in float: [-1.1, 0.3]
 * gives mid = -0.4f, half = 0.7f, and mid + half = 0.30000004 > 0.3f. A
 * saturated policy (tanh = +-1, reached here with large observations) must
 * still give actions within the bounds, or contrl_env_step rejects them.
 * Loop over variants. */
START_TEST(act_stays_within_bounds_whose_centre_and_half_width_are_inexact)
{
    const variant v = (variant)_i;
    const float low[1] = {-1.1f}, high[1] = {0.3f};
    contrl_agent_config cfg = small_config(v, 8);
    cfg.obs_dim = 2;
    cfg.action_low = low;
    cfg.action_high = high;
    contrl_agent *a = NULL;
    ck_assert_int_eq(create_variant(v, &cfg, &a), CONTRL_OK);
    contrl_rng rng;
    contrl_rng_seed(&rng, 8);
    int saturated_high = 0, saturated_low = 0;
    for (int i = 0; i < 400; i++) {
        float obs[2] = {1e4f * (2.0f * contrl_rng_uniform(&rng) - 1.0f),
                        1e4f * (2.0f * contrl_rng_uniform(&rng) - 1.0f)};
        float x[1];
        for (int explore = 0; explore <= 1; explore++) {
            ck_assert_int_eq(contrl_agent_act(a, obs, x, explore), CONTRL_OK);
            saturated_high += x[0] >= high[0];
            saturated_low += x[0] <= low[0];
            ck_assert_msg(x[0] >= low[0] && x[0] <= high[0],
                          "%s act(explore=%d): %.9g outside [%.9g, %.9g]", variant_names[v],
                          explore, (double)x[0], (double)low[0], (double)high[0]);
        }
    }
    /* The observations did drive the policy to its limits. */
    ck_assert_int_gt(saturated_high + saturated_low, 0);
    contrl_agent_destroy(a);
}
END_TEST

/* The end-to-end effect of inexact bounds (see the act test above): TD3's
 * exploration clamps to the top of [-1, 1], and on an env with bounds
 * [-1.1, 0.3] whose reward pushes toward the top that action must still
 * be one contrl_env_step accepts, or learn stops with INVALID_ARG. */
START_TEST(learn_on_an_env_with_inexact_bounds_hands_it_only_actions_within_them)
{
    const float low[1] = {-1.1f}, high[1] = {0.3f};
    user_env u;
    contrl_env env = user_env_make(&u, 2, 1, low, high);
    contrl_agent_config cfg = small_config(TD3, 1);
    cfg.obs_dim = 2;
    cfg.action_low = env.action_low;
    cfg.action_high = env.action_high;
    cfg.learning_starts = 200;
    contrl_agent *a = NULL;
    ck_assert_int_eq(contrl_td3_create(&cfg, NULL, &a), CONTRL_OK);
    contrl_status st = contrl_agent_learn(a, &env, 2000, NULL, NULL);
    ck_assert_msg(st == CONTRL_OK, "learn stopped after %llu steps: %s",
                  (unsigned long long)contrl_agent_steps(a), contrl_last_error());
    ck_assert_int_eq(u.steps, 2000);
    ck_assert_int_eq(u.out_of_bounds, 0);
    ck_assert_float_gt(u.seen_max[0], 0.25f); /* it did push toward the top */
    contrl_agent_destroy(a);
}
END_TEST

/* ==== bad data and bad arguments ============================================ */

/* Loop over variants. NaN, +Inf, -Inf in each place of a transition. */
START_TEST(observe_rejects_nonfinite_values_and_stores_nothing)
{
    const variant v = (variant)_i;
    contrl_agent *a = make_agent(v, 1);
    observe_n(a, 3, 0);
    const contrl_buffer *b = contrl_agent_buffer(a);
    const float bad[] = {NAN, INFINITY, -INFINITY};
    for (int which = 0; which < 4; which++)
        for (int k = 0; k < 3; k++)
            for (int pos = 0; pos < (which == 0 || which == 2 ? OBS : 1); pos++) {
                float obs[OBS] = {0.1f, 0.2f, 0.3f}, next[OBS] = {0.4f, 0.5f, 0.6f};
                float act[ACT] = {0.5f}, r = -1.0f;
                const char *what = "obs";
                if (which == 0)
                    obs[pos] = bad[k];
                else if (which == 1)
                    act[0] = bad[k], what = "action";
                else if (which == 2)
                    next[pos] = bad[k], what = "next_obs";
                else
                    r = bad[k], what = "reward";
                contrl_clear_error();
                contrl_status st = contrl_agent_observe(a, obs, act, r, next, false, false);
                ck_assert_msg(st == CONTRL_ERR_NONFINITE, "%s: %g in %s[%d]: status %d",
                              variant_names[v], (double)bad[k], what, pos, (int)st);
                assert_error_names("contrl_agent_observe");
                ck_assert_uint_eq(contrl_buffer_size(b), 3);
                ck_assert_uint_eq(contrl_agent_steps(a), 3);
            }
    /* The stored transitions are the good ones. */
    for (uint64_t i = 0; i < 3; i++) {
        float obs[OBS], want_obs[OBS], act[ACT], want_act[ACT], r, want_r, n2[OBS];
        ck_assert_int_eq(contrl_buffer_get(b, i, obs, act, &r, NULL, NULL, NULL), CONTRL_OK);
        transition((int)i, want_obs, want_act, &want_r, n2);
        ck_assert_int_eq(memcmp(obs, want_obs, sizeof obs), 0);
        ck_assert_float_eq(r, want_r);
    }
    contrl_agent_destroy(a);
}
END_TEST

/* Loop over variants. A refused act leaves the agent untouched (its twin
 * then draws the same random action). */
START_TEST(act_rejects_nonfinite_observations)
{
    const variant v = (variant)_i;
    contrl_agent *a = make_agent(v, 12), *b = make_agent(v, 12);
    float obs[4 * OBS];
    fixed_obs(obs, 4, 1);
    const float bad[] = {NAN, INFINITY, -INFINITY};
    for (int k = 0; k < 3; k++)
        for (int pos = 0; pos < OBS; pos++) {
            float o[OBS] = {0.1f, 0.2f, 0.3f}, x[ACT] = {42.0f};
            o[pos] = bad[k];
            for (int explore = 0; explore <= 1; explore++) {
                contrl_clear_error();
                ck_assert_int_eq(contrl_agent_act(a, o, x, explore), CONTRL_ERR_NONFINITE);
                assert_error_names("contrl_agent_act");
            }
            float batch[4 * OBS], out[4];
            memcpy(batch, obs, sizeof batch);
            batch[3 * OBS + pos] = bad[k]; /* only the last row is bad */
            contrl_clear_error();
            ck_assert_int_eq(contrl_agent_act_batch(a, batch, 4, out, true),
                             CONTRL_ERR_NONFINITE);
            assert_error_names("contrl_agent_act_batch");
        }
    float ra[ACT], rb[ACT];
    ck_assert_int_eq(contrl_agent_act_random(a, ra), CONTRL_OK);
    ck_assert_int_eq(contrl_agent_act_random(b, rb), CONTRL_OK);
    ck_assert_int_eq(memcmp(ra, rb, sizeof ra), 0);
    contrl_agent_destroy(a);
    contrl_agent_destroy(b);
}
END_TEST

START_TEST(act_batch_rejects_zero_rows_and_more_than_batch_size)
{
    const variant v = (variant)_i;
    contrl_agent *a = make_agent(v, 1);
    float obs[(BATCH + 1) * OBS], out[BATCH + 1];
    fixed_obs(obs, BATCH + 1, 3);
    for (int explore = 0; explore <= 1; explore++) {
        contrl_clear_error();
        ck_assert_int_eq(contrl_agent_act_batch(a, obs, 0, out, explore),
                         CONTRL_ERR_INVALID_ARG);
        assert_error_names("contrl_agent_act_batch");
        contrl_clear_error();
        ck_assert_int_eq(contrl_agent_act_batch(a, obs, BATCH + 1, out, explore),
                         CONTRL_ERR_INVALID_ARG);
        assert_error_names("contrl_agent_act_batch");
        ck_assert_int_eq(contrl_agent_act_batch(a, obs, BATCH, out, explore), CONTRL_OK);
        ck_assert_int_eq(contrl_agent_act_batch(a, obs, 1, out, explore), CONTRL_OK);
    }
    contrl_agent_destroy(a);
}
END_TEST

/* One NULL argument per call, each a loop iteration: the call fails with
 * INVALID_ARG and the message names the function that was called. */
enum { N_NULL_CALLS = 32 };
static contrl_status null_call(int i, contrl_agent *a, contrl_env *env, const char **fn)
{
    contrl_agent_config cfg = small_config(TD3, 1);
    contrl_agent *out = (contrl_agent *)&cfg; /* not NULL: checked to be cleared */
    float obs[OBS] = {0}, act[ACT] = {0}, next[OBS] = {0};
    contrl_learn_config lc = contrl_learn_config_default();
    contrl_status st;
    switch (i) {
    case 0: *fn = "contrl_ddpg_create"; st = contrl_ddpg_create(NULL, NULL, &out); break;
    case 1: *fn = "contrl_ddpg_create"; return contrl_ddpg_create(&cfg, NULL, NULL);
    case 2: *fn = "contrl_td3_create"; st = contrl_td3_create(NULL, NULL, &out); break;
    case 3: *fn = "contrl_td3_create"; return contrl_td3_create(&cfg, NULL, NULL);
    case 4: *fn = "contrl_sac_create"; st = contrl_sac_create(NULL, NULL, &out); break;
    case 5: *fn = "contrl_sac_create"; return contrl_sac_create(&cfg, NULL, NULL);
    case 6: *fn = "contrl_agent_act"; return contrl_agent_act(NULL, obs, act, false);
    case 7: *fn = "contrl_agent_act"; return contrl_agent_act(a, NULL, act, false);
    case 8: *fn = "contrl_agent_act"; return contrl_agent_act(a, obs, NULL, true);
    case 9: *fn = "contrl_agent_act_batch"; return contrl_agent_act_batch(NULL, obs, 1, act, false);
    case 10: *fn = "contrl_agent_act_batch"; return contrl_agent_act_batch(a, NULL, 1, act, false);
    case 11: *fn = "contrl_agent_act_batch"; return contrl_agent_act_batch(a, obs, 1, NULL, true);
    case 12: *fn = "contrl_agent_act_random"; return contrl_agent_act_random(NULL, act);
    case 13: *fn = "contrl_agent_act_random"; return contrl_agent_act_random(a, NULL);
    case 14: *fn = "contrl_agent_reset_noise"; return contrl_agent_reset_noise(NULL);
    case 15: *fn = "contrl_agent_observe";
        return contrl_agent_observe(NULL, obs, act, 0.0f, next, false, false);
    case 16: *fn = "contrl_agent_observe";
        return contrl_agent_observe(a, NULL, act, 0.0f, next, false, false);
    case 17: *fn = "contrl_agent_observe";
        return contrl_agent_observe(a, obs, NULL, 0.0f, next, false, false);
    case 18: *fn = "contrl_agent_observe";
        return contrl_agent_observe(a, obs, act, 0.0f, NULL, false, false);
    case 19: *fn = "contrl_agent_update"; return contrl_agent_update(NULL, 1, NULL);
    case 20: *fn = "contrl_agent_learn"; return contrl_agent_learn(NULL, env, 10, NULL, NULL);
    case 21: *fn = "contrl_agent_learn"; return contrl_agent_learn(a, NULL, 10, NULL, NULL);
    case 22: *fn = "contrl_agent_learn_ex"; return contrl_agent_learn_ex(NULL, env, 10, &lc);
    case 23: *fn = "contrl_agent_learn_ex"; return contrl_agent_learn_ex(a, NULL, 10, &lc);
    case 24: *fn = "contrl_agent_learn_ex"; return contrl_agent_learn_ex(a, env, 10, NULL);
    case 25: *fn = "contrl_agent_evaluate";
        return contrl_agent_evaluate(NULL, env, 1, 0, NULL, NULL);
    case 26: *fn = "contrl_agent_evaluate";
        return contrl_agent_evaluate(a, NULL, 1, 0, NULL, NULL);
    case 27: *fn = "contrl_agent_evaluate"; /* not a NULL, but the same family: 0 episodes */
        return contrl_agent_evaluate(a, env, 0, 0, NULL, NULL);
    case 28: *fn = "contrl_agent_learn_ex"; /* eval_env with eval_interval 0 */
        lc.eval_env = env + 1;
        lc.eval_interval = 0;
        return contrl_agent_learn_ex(a, env, 10, &lc);
    case 29: *fn = "contrl_agent_learn_ex"; /* eval_episodes 0 */
        lc.eval_env = env + 1;
        lc.eval_episodes = 0;
        return contrl_agent_learn_ex(a, env, 10, &lc);
    case 30: *fn = "contrl_agent_learn_ex"; /* config size too small */
        lc.size = 4;
        return contrl_agent_learn_ex(a, env, 10, &lc);
    case 31: *fn = "contrl_agent_learn"; /* the control: good arguments */
        return contrl_agent_learn(a, env, 10, NULL, NULL);
    default: *fn = "?"; return CONTRL_OK;
    }
    /* creators with a NULL cfg: *out must be cleared */
    if (out != NULL)
        return CONTRL_ERR_STATE;
    return st;
}

START_TEST(null_and_out_of_range_arguments_are_invalid_and_name_the_function)
{
    contrl_agent *a = make_agent(TD3, 1);
    contrl_env envs[2] = {make_pendulum(), make_pendulum()};
    const char *fn = "?";
    contrl_clear_error();
    contrl_status st = null_call(_i, a, &envs[0], &fn);
    if (_i == 31) {
        /* The control: the same learn call with good arguments works. */
        ck_assert_msg(st == CONTRL_OK, "%s", contrl_last_error());
        ck_assert_uint_eq(contrl_agent_steps(a), 10);
    } else {
        ck_assert_msg(st == CONTRL_ERR_INVALID_ARG, "call %d to %s: status %d (%s)", _i, fn,
                      (int)st, contrl_last_error());
        assert_error_names(fn);
        /* Nothing happened to the agent. */
        ck_assert_uint_eq(contrl_agent_steps(a), 0);
        ck_assert_uint_eq(contrl_buffer_size(contrl_agent_buffer(a)), 0);
    }
    contrl_env_close(&envs[0]);
    contrl_env_close(&envs[1]);
    contrl_agent_destroy(a);
}
END_TEST

/* Bad configurations, each a loop iteration, tried on the creators it
 * applies to. Every one must give INVALID_ARG, *out NULL, a message naming
 * the creator, and leave nothing allocated. */
typedef struct bad_cfg {
    const char *what;
    int only;                  /* -1: all creators; else the variant it applies to */
    contrl_agent_config cfg;
    contrl_ddpg_config ddpg;
    contrl_td3_config td3;
    contrl_sac_config sac;
} bad_cfg;

enum { N_BAD_CONFIGS = 44 };
static const float LOW2[2] = {-1.0f, -1.0f}, HIGH2[2] = {1.0f, 1.0f};
static const float EQUAL_HIGH[2] = {1.0f, -1.0f}, ABOVE_HIGH[2] = {1.0f, -2.0f};
static const float NAN_LOW[2] = {-1.0f, NAN}, INF_HIGH[2] = {INFINITY, 1.0f};

static bad_cfg make_bad(int i)
{
    bad_cfg b;
    memset(&b, 0, sizeof b);
    b.only = -1;
    b.cfg = small_config(TD3, 1);
    b.cfg.action_dim = 2;
    b.cfg.action_low = LOW2;
    b.cfg.action_high = HIGH2;
    b.cfg.allocator.alloc = alloc_counter_alloc; /* user set by the test */
    b.cfg.allocator.free = alloc_counter_free;
    b.ddpg = contrl_ddpg_config_default();
    b.td3 = contrl_td3_config_default();
    b.sac = contrl_sac_config_default();
    contrl_agent_config *c = &b.cfg;
    switch (i) {
    case 0: b.what = "obs_dim 0"; c->obs_dim = 0; break;
    case 1: b.what = "action_dim 0"; c->action_dim = 0; break;
    case 2: b.what = "gamma 1.5"; c->gamma = 1.5f; break;
    case 3: b.what = "gamma -0.1"; c->gamma = -0.1f; break;
    case 4: b.what = "gamma NaN"; c->gamma = NAN; break;
    case 5: b.what = "tau 0"; c->tau = 0.0f; break;
    case 6: b.what = "tau NaN"; c->tau = NAN; break;
    case 7: b.what = "tau 1.5"; c->tau = 1.5f; break;
    case 8: b.what = "batch_size 0"; c->batch_size = 0; break;
    case 9: b.what = "buffer_capacity < batch_size"; c->buffer_capacity = c->batch_size - 1; break;
    case 10: b.what = "n_hidden 0"; c->n_hidden = 0; break;
    case 11: b.what = "n_hidden > max"; c->n_hidden = CONTRL_NET_MAX_HIDDEN + 1; break;
    case 12: b.what = "actor_lr 0"; c->actor_lr = 0.0f; break;
    case 13: b.what = "critic_lr -1e-3"; c->critic_lr = -1e-3f; break;
    case 14: b.what = "actor_lr NaN"; c->actor_lr = NAN; break;
    case 15: b.what = "critic_lr Inf"; c->critic_lr = INFINITY; break;
    case 16: b.what = "action_low == action_high"; c->action_high = EQUAL_HIGH; break;
    case 17: b.what = "action_low > action_high"; c->action_high = ABOVE_HIGH; break;
    case 18: b.what = "NaN action_low"; c->action_low = NAN_LOW; break;
    case 19: b.what = "Inf action_high"; c->action_high = INF_HIGH; break;
    case 20: b.what = "only action_low"; c->action_high = NULL; break;
    case 21: b.what = "only action_high"; c->action_low = NULL; break;
    case 22: b.what = "train_freq 0"; c->train_freq = 0; break;
    case 23: b.what = "gradient_steps 0"; c->gradient_steps = 0; break;
    case 24: b.what = "max_grad_norm -1"; c->max_grad_norm = -1.0f; break;
    case 25: b.what = "cfg size 0"; c->size = 0; break;
    case 26: b.what = "allocator with alloc only"; c->allocator.free = NULL; break;
    case 27: b.what = "hidden width 0"; c->hidden[1] = 0; break;
    case 28: b.what = "unknown hidden_act"; c->hidden_act = (contrl_activation)99; break;
    case 29: b.what = "DDPG unknown noise"; b.only = DDPG; b.ddpg.noise = (contrl_noise)7; break;
    case 30: b.what = "DDPG sigma NaN"; b.only = DDPG; b.ddpg.sigma = NAN; break;
    case 31: b.what = "DDPG ou_dt 0"; b.only = DDPG; b.ddpg.ou_dt = 0.0f; break;
    case 32: b.what = "DDPG weight decay -1"; b.only = DDPG; b.ddpg.critic_weight_decay = -1; break;
    case 33: b.what = "DDPG config size 0"; b.only = DDPG; b.ddpg.size = 0; break;
    case 34: b.what = "TD3 policy_delay 0"; b.only = TD3; b.td3.policy_delay = 0; break;
    case 35: b.what = "TD3 target_noise -0.2"; b.only = TD3; b.td3.target_noise = -0.2f; break;
    case 36: b.what = "TD3 expl_noise NaN"; b.only = TD3; b.td3.expl_noise = NAN; break;
    case 37: b.what = "SAC init_alpha 0"; b.only = SAC; b.sac.init_alpha = 0.0f; break;
    case 38: b.what = "SAC init_alpha -1"; b.only = SAC; b.sac.init_alpha = -1.0f; break;
    case 39: b.what = "SAC log_std_min == max"; b.only = SAC; b.sac.log_std_min = 2.0f; break;
    case 40: b.what = "SAC log_std_min > max"; b.only = SAC; b.sac.log_std_min = 3.0f; break;
    case 41: b.what = "SAC alpha_lr 0"; b.only = SAC; b.sac.alpha_lr = 0.0f; break;
    case 42: b.what = "SAC target_entropy Inf"; b.only = SAC; b.sac.target_entropy = INFINITY;
        break;
    case 43: b.what = "SAC v1 init_alpha NaN"; b.only = SAC_V1; b.sac.value_net = true;
        b.sac.init_alpha = NAN;
        break;
    default: b.what = "?"; break;
    }
    return b;
}

START_TEST(creators_reject_bad_configs_and_leave_out_null)
{
    bad_cfg b = make_bad(_i);
    alloc_counter c;
    int tried = 0;
    for (int v = DDPG; v <= SAC; v++) {
        if (b.only >= 0 && b.only != v && !(b.only == SAC_V1 && v == SAC))
            continue;
        contrl_agent *out = (contrl_agent *)&b; /* must be set to NULL */
        alloc_counter_reset(&c);
        b.cfg.allocator.user = &c;
        contrl_clear_error();
        contrl_status st = v == DDPG  ? contrl_ddpg_create(&b.cfg, &b.ddpg, &out)
                           : v == TD3 ? contrl_td3_create(&b.cfg, &b.td3, &out)
                                      : contrl_sac_create(&b.cfg, &b.sac, &out);
        ck_assert_msg(st == CONTRL_ERR_INVALID_ARG, "%s with %s: status %d (%s)",
                      creator_names[v], b.what, (int)st, contrl_last_error());
        ck_assert_msg(out == NULL, "%s with %s left *out set", creator_names[v], b.what);
        assert_error_names(creator_names[v]);
        ck_assert_msg(c.allocs == c.frees && c.n_live == 0 && c.bad_free == 0,
                      "%s with %s: %ld allocations, %ld frees", creator_names[v], b.what,
                      c.allocs, c.frees);
        tried++;
    }
    ck_assert_int_gt(tried, 0);
    /* Control: the unmodified config is accepted by each creator. */
    if (_i == 0) {
        bad_cfg good = make_bad(-1);
        alloc_counter_reset(&c);
        good.cfg.allocator.user = &c;
        contrl_agent *a = NULL;
        ck_assert_int_eq(contrl_ddpg_create(&good.cfg, &good.ddpg, &a), CONTRL_OK);
        contrl_agent_destroy(a);
        ck_assert_int_eq(contrl_td3_create(&good.cfg, &good.td3, &a), CONTRL_OK);
        contrl_agent_destroy(a);
        ck_assert_int_eq(contrl_sac_create(&good.cfg, &good.sac, &a), CONTRL_OK);
        contrl_agent_destroy(a);
        ck_assert_int_gt(c.allocs, 0);
        ck_assert_int_eq(c.allocs, c.frees);
    }
}
END_TEST

/* Loop over variants. An env whose dims differ from the agent's, and an
 * eval_env that is env itself, are refused before any step. */
START_TEST(learn_and_evaluate_reject_envs_of_the_wrong_dims_and_eval_env_equal_to_env)
{
    const variant v = (variant)_i;
    contrl_agent *a = make_agent(v, 1);
    const float low[2] = {-2.0f, -2.0f}, high[2] = {2.0f, 2.0f};
    user_env u_obs, u_act, u_ok;
    contrl_env wrong_obs = user_env_make(&u_obs, 4, 1, low, high);
    contrl_env wrong_act = user_env_make(&u_act, 3, 2, low, high);
    contrl_env ok = user_env_make(&u_ok, 3, 1, low, high);
    contrl_env pend = make_pendulum();
    contrl_learn_config lc = contrl_learn_config_default();
    contrl_env *wrong[] = {&wrong_obs, &wrong_act};
    for (int w = 0; w < 2; w++) {
        contrl_clear_error();
        ck_assert_int_eq(contrl_agent_learn(a, wrong[w], 100, NULL, NULL), CONTRL_ERR_INVALID_ARG);
        assert_error_names("contrl_agent_learn");
        lc.eval_env = wrong[w];
        ck_assert_int_eq(contrl_agent_learn_ex(a, &pend, 100, &lc), CONTRL_ERR_INVALID_ARG);
        ck_assert_int_eq(contrl_agent_evaluate(a, wrong[w], 1, 0, NULL, NULL),
                         CONTRL_ERR_INVALID_ARG);
        assert_error_names("contrl_agent_evaluate");
    }
    lc.eval_env = &pend;
    contrl_clear_error();
    ck_assert_int_eq(contrl_agent_learn_ex(a, &pend, 100, &lc), CONTRL_ERR_INVALID_ARG);
    assert_error_names("eval_env");
    ck_assert_int_eq(u_obs.steps + u_obs.resets + u_act.steps + u_act.resets, 0);
    ck_assert_uint_eq(contrl_agent_steps(a), 0);
    /* Control: the right dims work. */
    lc.eval_env = &ok;
    lc.eval_interval = 50;
    lc.eval_episodes = 1;
    ck_assert_int_eq(contrl_agent_learn_ex(a, &pend, 100, &lc), CONTRL_OK);
    ck_assert_uint_eq(contrl_agent_steps(a), 100);
    ck_assert_int_eq(u_ok.resets, 2); /* two evaluations of one episode */
    ck_assert_int_eq(u_ok.steps, 100);
    contrl_env_close(&pend);
    contrl_agent_destroy(a);
}
END_TEST

/* ==== learn's loop contract ================================================== */

typedef struct progress_log {
    int calls;
    uint64_t step[64], agent_steps[64], episodes[64];
    double last_return[64], mean_return[64];
    bool is_eval[64];
    uint64_t stop_at;
} progress_log;

static int log_progress(const contrl_progress *p, void *user)
{
    progress_log *l = user;
    if (l->calls < 64) {
        l->step[l->calls] = p->step;
        l->agent_steps[l->calls] = p->agent_steps;
        l->episodes[l->calls] = p->episodes;
        l->last_return[l->calls] = p->last_return;
        l->mean_return[l->calls] = p->mean_return;
        l->is_eval[l->calls] = p->is_eval;
    }
    l->calls++;
    return l->stop_at != 0 && p->step >= l->stop_at;
}

/* learning_starts 500, batch 64: no gradient step during the first 500 env
 * steps, whose actions are uniform on [-2, 2] (a policy's actions would
 * not be); then one per step. Callbacks every progress_interval steps with
 * consistent counters; a non-zero return stops learning. */
START_TEST(learn_takes_random_actions_until_learning_starts_then_updates_every_step)
{
    const variant v = (variant)_i;
    contrl_agent *a = make_agent(v, 31);
    contrl_env env = make_pendulum();
    progress_log log;
    memset(&log, 0, sizeof log);
    contrl_learn_config lc = contrl_learn_config_default();
    lc.progress_interval = 100;
    lc.callback = log_progress;
    lc.user = &log;
    ck_assert_int_eq(contrl_agent_learn_ex(a, &env, 400, &lc), CONTRL_OK);
    ck_assert_uint_eq(contrl_agent_updates(a), 0);
    ck_assert_uint_eq(contrl_agent_steps(a), 400);
    ck_assert_int_eq(log.calls, 4);
    for (int i = 0; i < 4; i++) {
        ck_assert_uint_eq(log.step[i], (uint64_t)(i + 1) * 100);
        ck_assert_uint_eq(log.agent_steps[i], (uint64_t)(i + 1) * 100);
        ck_assert_uint_eq(log.episodes[i], (uint64_t)(i + 1) / 2); /* 200-step episodes */
        ck_assert(!log.is_eval[i]);
    }
    ck_assert(isnan(log.last_return[0]) && isnan(log.mean_return[0]));
    ck_assert(isfinite(log.last_return[1]) && log.last_return[1] < 0.0);
    ck_assert(log.mean_return[3] == 0.5 * (log.last_return[1] + log.last_return[3]));

    /* The stored warm-up actions are uniform on [-1, 1] (normalised). */
    const contrl_buffer *b = contrl_agent_buffer(a);
    double sum = 0.0;
    float lo = INFINITY, hi = -INFINITY;
    int bins[4] = {0};
    for (uint64_t i = 0; i < 400; i++) {
        float x[ACT];
        ck_assert_int_eq(contrl_buffer_get(b, i, NULL, x, NULL, NULL, NULL, NULL), CONTRL_OK);
        sum += x[0];
        lo = fminf(lo, x[0]);
        hi = fmaxf(hi, x[0]);
        bins[x[0] < -0.5f ? 0 : x[0] < 0.0f ? 1 : x[0] < 0.5f ? 2 : 3]++;
    }
    ck_assert_float_lt(lo, -0.95f);
    ck_assert_float_gt(hi, 0.95f);
    for (int k = 0; k < 4; k++) /* 100 expected each, sd 8.7 */
        ck_assert_msg(bins[k] > 60 && bins[k] < 140, "quarter %d holds %d of 400", k, bins[k]);

    /* 200 more steps: updates start once 500 transitions were seen. */
    ck_assert_int_eq(contrl_agent_learn(a, &env, 200, NULL, NULL), CONTRL_OK);
    ck_assert_uint_eq(contrl_agent_steps(a), 600);
    const uint64_t u = contrl_agent_updates(a);
    ck_assert_msg(u == 100 || u == 101, "%llu gradient steps for env steps 401..600 with "
                  "learning_starts 500", (unsigned long long)u);

    /* Stopping early: the callback asks to stop at step 300 of 1000. */
    memset(&log, 0, sizeof log);
    log.stop_at = 300;
    ck_assert_int_eq(contrl_agent_learn_ex(a, &env, 1000, &lc), CONTRL_OK);
    ck_assert_uint_eq(contrl_agent_steps(a), 900);
    ck_assert_int_eq(log.calls, 3);
    contrl_env_close(&env);
    contrl_agent_destroy(a);
}
END_TEST

/* ==== determinism =========================================================== */

enum { N_PROBE = 32 };

static void probe(contrl_agent *a, float *out)
{
    float obs[N_PROBE * OBS];
    fixed_obs(obs, N_PROBE, 2024);
    for (int i = 0; i < N_PROBE; i++)
        ck_assert_int_eq(contrl_agent_act(a, obs + i * OBS, out + i, false), CONTRL_OK);
}

static contrl_agent *trained(variant v, uint64_t seed, const uint64_t *chunks, int n_chunks)
{
    contrl_agent *a = make_agent(v, seed);
    contrl_env env = make_pendulum();
    for (int i = 0; i < n_chunks; i++)
        ck_assert_msg(contrl_agent_learn(a, &env, chunks[i], NULL, NULL) == CONTRL_OK, "%s: %s",
                      variant_names[v], contrl_last_error());
    contrl_env_close(&env);
    return a;
}

/* Loop over variants (TD3 and SAC are the ones asked for; DDPG and SAC v1
 * come free). 3000 env steps, 2501 gradient steps each. */
START_TEST(same_seed_gives_bit_identical_agents_and_another_seed_does_not)
{
    const variant v = (variant)_i;
    const uint64_t steps[1] = {3000};
    contrl_agent *a = trained(v, 77, steps, 1), *b = trained(v, 77, steps, 1);
    contrl_agent *c = trained(v, 78, steps, 1);
    float pa[N_PROBE], pb[N_PROBE], pc[N_PROBE];
    probe(a, pa);
    probe(b, pb);
    probe(c, pc);
    ck_assert_msg(memcmp(pa, pb, sizeof pa) == 0, "%s: same seed, actions differ: %.9g vs %.9g",
                  variant_names[v], (double)pa[0], (double)pb[0]);
    ck_assert_msg(memcmp(pa, pc, sizeof pa) != 0, "%s: seeds 77 and 78 gave the same actions",
                  variant_names[v]);
    ck_assert_uint_eq(contrl_agent_updates(a), contrl_agent_updates(b));

    /* One more gradient step each, from the same buffer and RNG states. */
    contrl_update_stats sa, sb;
    ck_assert_int_eq(contrl_agent_update(a, 1, &sa), CONTRL_OK);
    ck_assert_int_eq(contrl_agent_update(b, 1, &sb), CONTRL_OK);
    float qa[N_PROBE], qb[N_PROBE];
    probe(a, qa);
    probe(b, qb);
    ck_assert_int_eq(memcmp(qa, qb, sizeof qa), 0);
    ck_assert_int_eq(memcmp(&sa.critic_loss, &sb.critic_loss, sizeof sa.critic_loss), 0);
    ck_assert_int_eq(memcmp(&sa.mean_q, &sb.mean_q, sizeof sa.mean_q), 0);
    /* Exploring actions too (same RNG and noise state). */
    float obs[OBS] = {0.3f, -0.9f, 1.5f}, xa[ACT], xb[ACT];
    for (int i = 0; i < 10; i++) {
        ck_assert_int_eq(contrl_agent_act(a, obs, xa, true), CONTRL_OK);
        ck_assert_int_eq(contrl_agent_act(b, obs, xb, true), CONTRL_OK);
        ck_assert_int_eq(memcmp(xa, xb, sizeof xa), 0);
    }
    contrl_agent_destroy(a);
    contrl_agent_destroy(b);
    contrl_agent_destroy(c);
}
END_TEST


/* Loop over variants. Two threads (contrl_agent_set_threads) give the bits
 * of one: trained 1400 steps on 1 thread, 1600 on 2, then 500 on 1 again,
 * against 3500 steps on 1 thread, and the stats of one
 * more gradient step. Splits fall between Pendulum's 200-step episodes. */
START_TEST(two_threads_give_bit_identical_agents)
{
    const variant v = (variant)_i;
    contrl_agent *a = make_agent(v, 91), *b = make_agent(v, 91);
    contrl_env env_a = make_pendulum(), env_b = make_pendulum();
    ck_assert_uint_eq(contrl_agent_threads(a), 1);
    ck_assert_int_eq(contrl_agent_learn(a, &env_a, 1400, NULL, NULL), CONTRL_OK);
    ck_assert_int_eq(contrl_agent_set_threads(a, 2), CONTRL_OK);
    ck_assert_int_eq(contrl_agent_set_threads(a, 2), CONTRL_OK); /* again: no second worker */
    ck_assert_uint_eq(contrl_agent_threads(a), 2);
    ck_assert_int_eq(contrl_agent_learn(a, &env_a, 1600, NULL, NULL), CONTRL_OK);
    ck_assert_int_eq(contrl_agent_set_threads(a, 1), CONTRL_OK);
    ck_assert_int_eq(contrl_agent_learn(a, &env_a, 500, NULL, NULL), CONTRL_OK);
    ck_assert_int_eq(contrl_agent_learn(b, &env_b, 3500, NULL, NULL), CONTRL_OK);
    ck_assert_uint_gt(contrl_agent_updates(a), 2000);
    ck_assert_uint_eq(contrl_agent_updates(a), contrl_agent_updates(b));
    float pa[N_PROBE], pb[N_PROBE];
    probe(a, pa);
    probe(b, pb);
    ck_assert_msg(memcmp(pa, pb, sizeof pa) == 0, "%s: 1-2-1 threads %.9g vs 1 thread %.9g",
                  variant_names[v], (double)pa[0], (double)pb[0]);
    ck_assert_int_eq(contrl_agent_set_threads(a, 2), CONTRL_OK);
    /* 3 ms idle: the worker has stopped spinning (1 ms) and sleeps; the
     * next step must wake it. Twice. */
    contrl_update_stats sa, sb;
    for (int i = 0; i < 2; i++) {
        const struct timespec idle = {0, 3000000};
        nanosleep(&idle, NULL);
        ck_assert_int_eq(contrl_agent_update(a, 1, &sa), CONTRL_OK);
        ck_assert_int_eq(contrl_agent_update(b, 1, &sb), CONTRL_OK);
    }
    ck_assert_int_eq(memcmp(&sa.critic_loss, &sb.critic_loss, sizeof sa.critic_loss), 0);
    ck_assert_int_eq(memcmp(&sa.mean_q, &sb.mean_q, sizeof sa.mean_q), 0);
    ck_assert_int_eq(memcmp(&sa.actor_loss, &sb.actor_loss, sizeof sa.actor_loss), 0);
    probe(a, pa);
    probe(b, pb);
    ck_assert_int_eq(memcmp(pa, pb, sizeof pa), 0);
    contrl_env_close(&env_a);
    contrl_env_close(&env_b);
    contrl_agent_destroy(a); /* stops the worker */
    contrl_agent_destroy(b);
}
END_TEST

/* overlap_env (contrl_learn_config): the update runs while the env steps
 * (on the worker with 2 threads) and samples from the transitions stored
 * before that step. Same agent on 1 and 2 threads, as many updates as
 * without (learning_starts 500 is above the batch of 64), and not the same
 * agent as without: the option does something. */
static contrl_agent *learned_overlap(variant v, uint32_t threads, uint32_t overlap, uint64_t steps)
{
    contrl_agent *a = make_agent(v, 37);
    ck_assert_int_eq(contrl_agent_set_threads(a, threads), CONTRL_OK);
    contrl_env env = make_pendulum();
    contrl_learn_config lc = contrl_learn_config_default();
    ck_assert_uint_eq(lc.overlap_env, 0);
    lc.overlap_env = overlap;
    contrl_status st = contrl_agent_learn_ex(a, &env, steps, &lc);
    ck_assert_msg(st == CONTRL_OK, "%s: %s", variant_names[v], contrl_last_error());
    contrl_env_close(&env);
    return a;
}

START_TEST(overlap_env_gives_the_same_agent_on_one_and_two_threads)
{
    const variant v = (variant)_i;
    contrl_agent *one = learned_overlap(v, 1, 1, 1500), *two = learned_overlap(v, 2, 1, 1500);
    contrl_agent *plain = learned_overlap(v, 1, 0, 1500);
    ck_assert_uint_eq(contrl_agent_updates(plain), 1500 - 500 + 1);
    ck_assert_uint_eq(contrl_agent_updates(one), contrl_agent_updates(plain));
    ck_assert_uint_eq(contrl_agent_updates(two), contrl_agent_updates(one));
    ck_assert_uint_eq(contrl_agent_steps(two), 1500);
    float p1[N_PROBE], p2[N_PROBE], p0[N_PROBE];
    probe(one, p1);
    probe(two, p2);
    probe(plain, p0);
    ck_assert_msg(memcmp(p1, p2, sizeof p1) == 0, "%s: 1 thread %.9g, 2 threads %.9g",
                  variant_names[v], (double)p1[0], (double)p2[0]);
    ck_assert_msg(memcmp(p1, p0, sizeof p1) != 0, "%s: overlap_env changed nothing",
                  variant_names[v]);
    contrl_agent_destroy(one);
    contrl_agent_destroy(two);
    contrl_agent_destroy(plain);
}
END_TEST

/* An env that fails on its 700th step: overlapped (on the worker thread),
 * learn_ex returns the env's status with the env's message. */
static contrl_status failing_step(void *user, const float *action, float *next_obs, float *reward,
                                  bool *terminated, bool *truncated)
{
    user_env *u = user;
    if (u->steps + 1 == 700)
        return contrl_set_error(CONTRL_ERR_IO, "user env: env step %d failed", 700);
    return user_step(user, action, next_obs, reward, terminated, truncated);
}

START_TEST(overlap_env_returns_an_env_failure_on_the_worker_with_its_message)
{
    for (uint32_t threads = 1; threads <= 2; threads++) {
        contrl_agent *a = make_agent(TD3, 5);
        ck_assert_int_eq(contrl_agent_set_threads(a, threads), CONTRL_OK);
        user_env u;
        contrl_env env = user_env_make(&u, OBS, ACT, PEND_LOW, PEND_HIGH);
        env.step = failing_step;
        contrl_learn_config lc = contrl_learn_config_default();
        lc.overlap_env = 1;
        contrl_clear_error();
        ck_assert_int_eq(contrl_agent_learn_ex(a, &env, 1000, &lc), CONTRL_ERR_IO);
        ck_assert_msg(strstr(contrl_last_error(), "env step 700 failed") != NULL, "message: %s",
                      contrl_last_error());
        ck_assert_uint_eq(contrl_agent_steps(a), 699);
        /* the update of step 700 ran beside it: steps 500 to 700 */
        ck_assert_uint_eq(contrl_agent_updates(a), 201);
        contrl_agent_destroy(a);
    }
}
END_TEST

START_TEST(set_threads_rejects_null_0_and_3_and_keeps_the_setting)
{
    contrl_agent *a = make_agent(TD3, 5);
    ck_assert_int_eq(contrl_agent_set_threads(NULL, 2), CONTRL_ERR_INVALID_ARG);
    ck_assert_ptr_nonnull(strstr(contrl_last_error(), "contrl_agent_set_threads"));
    ck_assert_uint_eq(contrl_agent_threads(NULL), 0);
    ck_assert_int_eq(contrl_agent_set_threads(a, 2), CONTRL_OK);
    for (uint32_t t = 0; t <= 3; t += 3) {
        contrl_clear_error();
        ck_assert_int_eq(contrl_agent_set_threads(a, t), CONTRL_ERR_INVALID_ARG);
        ck_assert_ptr_nonnull(strstr(contrl_last_error(), "threads"));
        ck_assert_uint_eq(contrl_agent_threads(a), 2);
    }
    contrl_agent_destroy(a);
}
END_TEST

/* Loop over variants. learn(2000) then learn(1000) equals learn(3000):
 * 2000 is a multiple of the pendulum's 200-step episodes, so the split
 * falls between episodes. What resuming from a checkpoint will rely on. */
START_TEST(learning_in_two_calls_equals_learning_in_one)
{
    const variant v = (variant)_i;
    const uint64_t split[2] = {2000, 1000}, whole[1] = {3000};
    contrl_agent *a = trained(v, 55, split, 2), *b = trained(v, 55, whole, 1);
    ck_assert_uint_eq(contrl_agent_steps(a), 3000);
    ck_assert_uint_eq(contrl_agent_steps(b), 3000);
    ck_assert_uint_eq(contrl_agent_updates(a), contrl_agent_updates(b));
    ck_assert_uint_gt(contrl_agent_updates(a), 2000);
    float pa[N_PROBE], pb[N_PROBE];
    probe(a, pa);
    probe(b, pb);
    ck_assert_msg(memcmp(pa, pb, sizeof pa) == 0, "%s: split %.9g vs whole %.9g",
                  variant_names[v], (double)pa[0], (double)pb[0]);
    /* The same transitions were stored. */
    const contrl_buffer *ba = contrl_agent_buffer(a), *bb = contrl_agent_buffer(b);
    ck_assert_uint_eq(contrl_buffer_size(ba), contrl_buffer_size(bb));
    for (uint64_t i = 0; i < contrl_buffer_size(ba); i += 97) {
        float oa[OBS], ob[OBS], xa[ACT], xb[ACT];
        ck_assert_int_eq(contrl_buffer_get(ba, i, oa, xa, NULL, NULL, NULL, NULL), CONTRL_OK);
        ck_assert_int_eq(contrl_buffer_get(bb, i, ob, xb, NULL, NULL, NULL, NULL), CONTRL_OK);
        ck_assert_int_eq(memcmp(oa, ob, sizeof oa), 0);
        ck_assert_int_eq(memcmp(xa, xb, sizeof xa), 0);
    }
    /* And the RNGs are in the same state. */
    float ra[ACT], rb[ACT];
    ck_assert_int_eq(contrl_agent_act_random(a, ra), CONTRL_OK);
    ck_assert_int_eq(contrl_agent_act_random(b, rb), CONTRL_OK);
    ck_assert_int_eq(memcmp(ra, rb, sizeof ra), 0);
    contrl_agent_destroy(a);
    contrl_agent_destroy(b);
}
END_TEST

/* ==== memory ================================================================ */

/* Loop over variants. Every allocation creation makes, failed in turn:
 * NOMEM, *out NULL, a message naming the creator, nothing leaked. */
START_TEST(failing_any_allocation_of_create_gives_nomem_null_and_no_leak)
{
    const variant v = (variant)_i;
    alloc_counter c;
    alloc_counter_reset(&c);
    contrl_agent_config cfg = small_config(v, 1);
    cfg.allocator.alloc = alloc_counter_alloc;
    cfg.allocator.free = alloc_counter_free;
    cfg.allocator.user = &c;
    contrl_agent *a = NULL;
    ck_assert_int_eq(create_variant(v, &cfg, &a), CONTRL_OK);
    contrl_agent_destroy(a);
    const long needed = c.allocs;
    ck_assert_int_gt(needed, 3); /* handle, nets, optimisers, buffer at least */
    for (long n = 1; n <= needed; n++) {
        alloc_counter_reset(&c);
        c.fail_at = n;
        a = (contrl_agent *)&c; /* must be set to NULL */
        contrl_clear_error();
        contrl_status st = create_variant(v, &cfg, &a);
        ck_assert_msg(st == CONTRL_ERR_NOMEM, "%s with allocation %ld of %ld failing: %d",
                      variant_names[v], n, needed, (int)st);
        ck_assert_ptr_null(a);
        assert_error_names(creator_names[v]);
        ck_assert_msg(c.allocs == c.frees && c.n_live == 0 && c.bad_free == 0,
                      "%s, allocation %ld failing: %ld allocations, %ld frees",
                      variant_names[v], n, c.allocs, c.frees);
    }
}
END_TEST

enum hot_op { HOT_ACT, HOT_ACT_EXPLORE, HOT_ACT_BATCH, HOT_ACT_BATCH_EXPLORE, HOT_ACT_RANDOM,
              HOT_RESET_NOISE, HOT_OBSERVE, HOT_UPDATE, N_HOT };
static const char *const hot_names[N_HOT] = {
    "act", "act(explore)", "act_batch", "act_batch(explore)", "act_random", "reset_noise",
    "observe", "update(2 gradient steps)"};

static contrl_status hot(contrl_agent *a, enum hot_op op, const float *obs, float *out, int i)
{
    switch (op) {
    case HOT_ACT: return contrl_agent_act(a, obs, out, false);
    case HOT_ACT_EXPLORE: return contrl_agent_act(a, obs, out, true);
    case HOT_ACT_BATCH: return contrl_agent_act_batch(a, obs, BATCH, out, false);
    case HOT_ACT_BATCH_EXPLORE: return contrl_agent_act_batch(a, obs, BATCH, out, true);
    case HOT_ACT_RANDOM: return contrl_agent_act_random(a, out);
    case HOT_RESET_NOISE: return contrl_agent_reset_noise(a);
    case HOT_OBSERVE: return contrl_agent_observe(a, obs, out, -1.0f, obs + OBS, false, i & 1);
    case HOT_UPDATE: return contrl_agent_update(a, 2, NULL);
    case N_HOT: break;
    }
    return CONTRL_ERR_INVALID_ARG;
}

/* Creates a variant with a counting allocator, warms every hot-path call
 * up once and fills the buffer with a batch. */
static contrl_agent *warm_agent(variant v, alloc_counter *c, float *obs, float *out)
{
    alloc_counter_reset(c);
    contrl_agent_config cfg = small_config(v, 3);
    cfg.allocator.alloc = alloc_counter_alloc;
    cfg.allocator.free = alloc_counter_free;
    cfg.allocator.user = c;
    contrl_agent *a = NULL;
    ck_assert_int_eq(create_variant(v, &cfg, &a), CONTRL_OK);
    observe_n(a, BATCH, 0);
    fixed_obs(obs, BATCH, 5);
    for (int op = 0; op < N_HOT; op++)
        ck_assert_msg(hot(a, (enum hot_op)op, obs, out, 0) == CONTRL_OK, "warm-up %s: %s",
                      hot_names[op], contrl_last_error());
    return a;
}

/* Loop over variants. Creation allocates through the config's allocator
 * (handle and replay storage included), the hot paths never call it, and
 * destroy gives back exactly what was allocated. */
START_TEST(agent_allocates_through_the_config_allocator_and_never_on_the_hot_paths)
{
    const variant v = (variant)_i;
    alloc_counter c;
    float obs[BATCH * OBS], out[BATCH * ACT];
    contrl_agent *a = warm_agent(v, &c, obs, out);
    ck_assert_int_gt(c.allocs, 0);
    ck_assert_int_eq(c.frees, 0);
    ck_assert(alloc_counter_holds(&c, a, 1));
    ck_assert_uint_ge(c.bytes, (size_t)5000 * (2 * OBS + ACT + 1) * 4);
    ck_assert(alloc_counter_holds(&c, contrl_agent_buffer(a), 1));

    char report[1024] = "";
    size_t used = 0;
    int bad = 0;
    for (int op = 0; op < N_HOT; op++) {
        long before = c.attempts + c.frees;
        for (int rep = 0; rep < 3; rep++)
            ck_assert_int_eq(hot(a, (enum hot_op)op, obs, out, rep), CONTRL_OK);
        long calls = c.attempts + c.frees - before;
        if (calls != 0) {
            bad++;
            used += (size_t)snprintf(report + used, sizeof report - used,
                                     "; %s: %ld allocator calls", hot_names[op], calls);
            if (used >= sizeof report)
                used = sizeof report - 1;
        }
    }
    ck_assert_msg(bad == 0, "%s: %d hot-path calls use the allocator after warm-up%s",
                  variant_names[v], bad, report);
    contrl_agent_destroy(a);
    ck_assert_int_eq(c.allocs, c.frees);
    ck_assert_uint_eq(c.bytes, c.freed_bytes);
    ck_assert_int_eq(c.n_live, 0);
    ck_assert_int_eq(c.bad_free, 0);
    ck_assert_int_eq(c.bad_align, 0);
}
END_TEST

#if LIBC_COUNT_INTERPOSED
/* Loop over variants. The same hot-path calls make no malloc-family call
 * either, in libcontrl.so, its BLIS or libgomp (any thread). */
START_TEST(agent_hot_paths_make_no_c_library_allocation)
{
    const variant v = (variant)_i;
    alloc_counter c;
    float obs[BATCH * OBS], out[BATCH * ACT];
    contrl_agent *a = warm_agent(v, &c, obs, out);
    /* The interposer works: this program's own malloc is seen. */
    libc_count_begin();
    void *volatile p = malloc(10);
    free(p);
    libc_count_end();
    ck_assert_int_eq(libc_count_allocs(), 1);

    char report[1024] = "";
    size_t used = 0;
    int bad = 0;
    for (int op = 0; op < N_HOT; op++) {
        contrl_status st[3];
        libc_count_begin();
        for (int rep = 0; rep < 3; rep++) /* no Check assertion inside: they allocate */
            st[rep] = hot(a, (enum hot_op)op, obs, out, rep);
        libc_count_end();
        for (int rep = 0; rep < 3; rep++)
            ck_assert_int_eq(st[rep], CONTRL_OK);
        long la = libc_count_allocs(), lf = libc_count_frees();
        if (la != 0 || lf != 0) {
            bad++;
            used += (size_t)snprintf(report + used, sizeof report - used,
                                     "; %s x3: %ld mallocs, %ld frees", hot_names[op], la, lf);
            if (used >= sizeof report)
                used = sizeof report - 1;
        }
    }
    ck_assert_msg(bad == 0, "%s: %d hot-path calls allocate after warm-up%s", variant_names[v],
                  bad, report);
    contrl_agent_destroy(a);
}
END_TEST
#endif

/* ---------------------------------------------------------------------------- */

static Suite *agent_suite(void)
{
    Suite *s = suite_create("agents");
    TCase *tc = tcase_create("api");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, algo_names_and_agent_queries_report_what_was_created);
    tcase_add_loop_test(tc, config_defaults_match_the_header_table, 0, 4);
    tcase_add_test(tc, algorithm_config_defaults_match_the_header);
    tcase_add_loop_test(tc, act_returns_actions_within_the_env_bounds_with_and_without_exploration,
                        0, N_VARIANTS);
    tcase_add_loop_test(tc, act_without_exploration_is_deterministic_and_leaves_the_rng_alone, 0,
                        N_VARIANTS);
    tcase_add_loop_test(tc, act_batch_of_n_rows_equals_n_single_acts_without_exploration, 0,
                        N_VARIANTS);
    tcase_add_loop_test(tc, act_random_stays_in_bounds_and_covers_them_uniformly, 0, N_VARIANTS);
    tcase_add_loop_test(tc, observe_stores_the_clipped_action_in_normalised_units, 0, N_VARIANTS);
    tcase_add_loop_test(tc, update_before_the_buffer_holds_batch_size_transitions_is_a_state_error,
                        0, N_VARIANTS);
    tcase_add_test(tc, ddpg_reset_noise_restarts_the_ou_process);
    tcase_add_loop_test(tc, evaluate_leaves_the_agent_unchanged, 0, N_VARIANTS);
    tcase_add_loop_test(tc, actions_are_scaled_to_a_user_envs_bounds, 0, N_VARIANTS);
    tcase_add_loop_test(tc, act_stays_within_bounds_whose_centre_and_half_width_are_inexact, 0,
                        N_VARIANTS);
    tcase_add_loop_test(tc, observe_rejects_nonfinite_values_and_stores_nothing, 0, N_VARIANTS);
    tcase_add_loop_test(tc, act_rejects_nonfinite_observations, 0, N_VARIANTS);
    tcase_add_loop_test(tc, act_batch_rejects_zero_rows_and_more_than_batch_size, 0, N_VARIANTS);
    tcase_add_loop_test(tc, null_and_out_of_range_arguments_are_invalid_and_name_the_function, 0,
                        N_NULL_CALLS);
    tcase_add_loop_test(tc, creators_reject_bad_configs_and_leave_out_null, 0, N_BAD_CONFIGS);
    tcase_add_loop_test(tc,
                        learn_and_evaluate_reject_envs_of_the_wrong_dims_and_eval_env_equal_to_env,
                        0, N_VARIANTS);
    tcase_add_loop_test(tc,
                        learn_takes_random_actions_until_learning_starts_then_updates_every_step,
                        0, N_VARIANTS);
    tcase_add_loop_test(tc,
                        agent_allocates_through_the_config_allocator_and_never_on_the_hot_paths,
                        0, N_VARIANTS);
    tcase_add_loop_test(tc, failing_any_allocation_of_create_gives_nomem_null_and_no_leak, 0,
                        N_VARIANTS);
    tcase_add_test(tc, learn_on_an_env_with_inexact_bounds_hands_it_only_actions_within_them);
#if LIBC_COUNT_INTERPOSED
    tcase_add_loop_test(tc, agent_hot_paths_make_no_c_library_allocation, 0, N_VARIANTS);
#else
    fprintf(stderr, "AddressSanitizer build: C library allocations on the hot paths not "
                    "checked\n");
#endif
    suite_add_tcase(s, tc);

    /* Thousands of gradient steps per agent: minutes under the sanitizers. */
    TCase *det = tcase_create("determinism");
    tcase_set_timeout(det, 300);
    tcase_add_loop_test(det, same_seed_gives_bit_identical_agents_and_another_seed_does_not, 0,
                        N_VARIANTS);
    tcase_add_loop_test(det, learning_in_two_calls_equals_learning_in_one, 0, N_VARIANTS);
    tcase_add_loop_test(det, two_threads_give_bit_identical_agents, 0, N_VARIANTS);
    tcase_add_test(det, set_threads_rejects_null_0_and_3_and_keeps_the_setting);
    tcase_add_loop_test(det, overlap_env_gives_the_same_agent_on_one_and_two_threads, 0,
                        N_VARIANTS);
    tcase_add_test(det, overlap_env_returns_an_env_failure_on_the_worker_with_its_message);
    suite_add_tcase(s, det);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(agent_suite());
    srunner_run_all(sr, CK_ENV); /* CK_VERBOSITY=verbose lists every test */
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
