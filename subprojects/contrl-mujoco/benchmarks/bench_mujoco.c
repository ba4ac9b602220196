/* benchmarks/bench_mujoco.c - what the binding costs, and what vectorised
 * stepping gains.
 *
 *   bench_mujoco overhead [seconds-per-task]
 *       For every built-in task: env steps per second through
 *       contrl_env_step (random actions within bounds, episodes reset as
 *       they end) against a bare loop on the same compiled model and a
 *       fresh mjData of its own doing only what any binding must:
 *       ctrl = action, mj_step x frame_skip (and mj_rnePostConstraint for
 *       Humanoid, whose observation needs it), resetting where the env's
 *       episodes ended. The overhead is t_env / t_bare - 1 (target <= 3%),
 *       in CPU time of the thread: the two loops alternate in rounds and
 *       the best round of each is kept, so other load on the machine
 *       inflates neither side more than the other.
 *
 *   bench_mujoco vec [envs] [seconds]
 *       Steps per second of a contrl_vec_env of `envs` (8) HalfCheetah and
 *       Hopper envs on 1 and 2 threads, and the speed-up.
 *
 *   bench_mujoco ant [steps] [warmup]
 *       TD3 on Ant (issue 9's setting: 256-256 nets, batch 256, one env
 *       step and one gradient step each): env steps per second of
 *       contrl_agent_learn after `warmup` (2000) steps, with the agent on 1
 *       and on 2 threads (contrl_agent_set_threads; same bits), the same
 *       with contrl_learn_config.overlap_env (the env steps beside each
 *       update), and the env step alone for reference. Target: >= 600
 *       steps/s on 2 cores.
 *
 * Every figure is printed next to its baseline from the same run. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <mujoco/mujoco.h>

#include "contrl/contrl.h"
#include "contrl/mujoco.h"

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* CPU time of the calling thread: the overhead comparison counts the work
 * done, so that other jobs on a busy machine do not decide it. */
static double cpu_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static void die(const char *what)
{
    fprintf(stderr, "bench_mujoco: %s: %s\n", what, contrl_last_error());
    exit(1);
}

enum { N_ACTIONS = 4096, ROUND_STEPS = 500 };

/* Random actions within bounds, drawn once. */
static float *make_actions(const contrl_env *env, uint64_t seed)
{
    float *a = malloc(sizeof(float) * N_ACTIONS * env->action_dim);
    contrl_rng rng;
    contrl_rng_seed(&rng, seed);
    for (uint32_t i = 0; i < N_ACTIONS * env->action_dim; i++) {
        uint32_t j = i % env->action_dim;
        a[i] = env->action_low[j] +
               (env->action_high[j] - env->action_low[j]) * contrl_rng_uniform(&rng);
    }
    return a;
}

/* One round of env steps; returns seconds. */
static double env_round(contrl_env *env, const float *actions, float *obs, uint64_t *seed,
                        bool *resets)
{
    float r;
    bool term, trunc;
    double t0 = cpu_s();
    for (uint32_t i = 0; i < ROUND_STEPS; i++) {
        const float *a = actions + (size_t)(i % N_ACTIONS) * env->action_dim;
        if (contrl_env_step(env, a, obs, &r, &term, &trunc) != CONTRL_OK)
            die("step");
        resets[i] = term || trunc;
        if (resets[i])
            if (contrl_env_reset(env, (*seed)++, obs) != CONTRL_OK)
                die("reset");
    }
    return cpu_s() - t0;
}

/* The same steps on the bare model, resetting (mj_resetData + mj_forward)
 * where the env's episodes ended in the env round. */
static double bare_round(const mjModel *m, mjData *d, uint32_t act_dim, uint32_t frame_skip,
                         bool post, const float *actions, const bool *resets)
{
    double t0 = cpu_s();
    for (uint32_t i = 0; i < ROUND_STEPS; i++) {
        const float *a = actions + (size_t)(i % N_ACTIONS) * act_dim;
        for (uint32_t j = 0; j < act_dim; j++)
            d->ctrl[j] = a[j];
        for (uint32_t k = 0; k < frame_skip; k++)
            mj_step(m, d);
        if (post)
            mj_rnePostConstraint(m, d);
        if (resets[i]) {
            mj_resetData(m, d);
            mj_forward(m, d);
        }
    }
    return cpu_s() - t0;
}

static int overhead(double seconds_per_task)
{
    printf("MuJoCo %s; %d env steps per round, rounds alternate, best round of each kept "
           "(thread CPU time)\n\n",
           contrl_mj_mujoco_version(), ROUND_STEPS);
    printf("%-24s %6s %12s %12s %9s\n", "task", "skip", "env steps/s", "bare steps/s",
           "overhead");
    double worst = 0.0;
    for (const char *const *name = contrl_mj_names(); *name != NULL; name++) {
        contrl_env env;
        if (contrl_mj_make(*name, NULL, &env) != CONTRL_OK)
            die(*name);
        const mjModel *m = contrl_mj_env_model(&env);
        mjData *d = mj_makeData(m);
        float *actions = make_actions(&env, 1);
        float *obs = malloc(sizeof(float) * env.obs_dim);
        uint64_t seed = 1;
        if (contrl_env_reset(&env, seed++, obs) != CONTRL_OK)
            die("reset");
        /* frame skip from the time one step advances */
        const mjData *ed = contrl_mj_env_data(&env);
        double t_before = ed->time;
        float r;
        bool term, trunc;
        if (contrl_env_step(&env, actions, obs, &r, &term, &trunc) != CONTRL_OK)
            die("step");
        uint32_t skip = (uint32_t)lround((ed->time - t_before) / m->opt.timestep);
        bool post = strcmp(*name, "humanoid") == 0;
        mj_resetData(m, d);
        mj_forward(m, d);

        bool resets[ROUND_STEPS];
        double best_env = INFINITY, best_bare = INFINITY, spent = 0.0;
        while (spent < seconds_per_task) {
            double te = env_round(&env, actions, obs, &seed, resets);
            double tb = bare_round(m, d, env.action_dim, skip, post, actions, resets);
            best_env = te < best_env ? te : best_env;
            best_bare = tb < best_bare ? tb : best_bare;
            spent += te + tb;
        }
        double ov = best_env / best_bare - 1.0;
        worst = ov > worst ? ov : worst;
        printf("%-24s %6u %12.0f %12.0f %8.2f%%\n", *name, skip, ROUND_STEPS / best_env,
               ROUND_STEPS / best_bare, 100.0 * ov);
        free(obs);
        free(actions);
        mj_deleteData(d);
        contrl_env_close(&env);
    }
    printf("\nworst overhead %.2f%% (target <= 3%%)\n", 100.0 * worst);
    return 0;
}

static double vec_rate(const char *task, uint32_t n, uint32_t threads, double seconds)
{
    contrl_env *envs = calloc(n, sizeof *envs);
    for (uint32_t i = 0; i < n; i++)
        if (contrl_mj_make(task, NULL, &envs[i]) != CONTRL_OK)
            die(task);
    float *actions = make_actions(&envs[0], 2);
    const uint32_t A = envs[0].action_dim, O = envs[0].obs_dim;
    contrl_vec_env_config cfg = contrl_vec_env_config_default();
    cfg.threads = threads;
    contrl_vec_env *v;
    if (contrl_vec_env_create(envs, n, &cfg, &v) != CONTRL_OK)
        die("contrl_vec_env_create");
    float *batch = malloc(sizeof(float) * n * A), *next = malloc(sizeof(float) * n * O);
    float *rew = malloc(sizeof(float) * n);
    bool *term = malloc(n), *trunc = malloc(n);
    if (contrl_vec_env_reset(v, 7) != CONTRL_OK)
        die("contrl_vec_env_reset");
    uint64_t steps = 0;
    double t0 = now_s(), t;
    uint32_t k = 0;
    do {
        for (uint32_t i = 0; i < n * A; i++)
            batch[i] = actions[(k * n * A + i) % (N_ACTIONS * A)];
        k++;
        for (int rep = 0; rep < 50; rep++)
            if (contrl_vec_env_step(v, batch, next, rew, term, trunc) != CONTRL_OK)
                die("contrl_vec_env_step");
        steps += 50u * n;
        t = now_s() - t0;
    } while (t < seconds);
    contrl_vec_env_destroy(v);
    free(batch), free(next), free(rew), free(term), free(trunc), free(actions), free(envs);
    return (double)steps / t;
}

static int vec(uint32_t n, double seconds)
{
    printf("contrl_vec_env of %u envs: env steps per second (all envs together)\n\n", n);
    printf("%-14s %12s %12s %9s\n", "task", "1 thread", "2 threads", "speed-up");
    static const char *const tasks[] = {"halfcheetah", "hopper", "ant"};
    for (size_t i = 0; i < sizeof tasks / sizeof tasks[0]; i++) {
        double r1 = vec_rate(tasks[i], n, 1, seconds);
        double r2 = vec_rate(tasks[i], n, 2, seconds);
        printf("%-14s %12.0f %12.0f %8.2fx\n", tasks[i], r1, r2, r2 / r1);
    }
    return 0;
}

static contrl_agent *ant_agent(const contrl_env *env, uint64_t warmup)
{
    contrl_agent_config c = contrl_agent_config_default(CONTRL_ALGO_TD3);
    c.obs_dim = env->obs_dim;
    c.action_dim = env->action_dim;
    c.action_low = env->action_low;
    c.action_high = env->action_high;
    c.hidden[0] = c.hidden[1] = 256;
    c.batch_size = 256;
    c.learning_starts = warmup;
    c.buffer_capacity = 1000000;
    c.seed = 1;
    contrl_agent *a = NULL;
    if (contrl_td3_create(&c, NULL, &a) != CONTRL_OK) {
        fprintf(stderr, "td3_create: %s\n", contrl_last_error());
        exit(1);
    }
    return a;
}

static int ant(uint64_t steps, uint64_t warmup)
{
    contrl_env env;
    if (contrl_mj_make("ant", NULL, &env) != CONTRL_OK) {
        fprintf(stderr, "ant: %s\n", contrl_last_error());
        return 1;
    }
    contrl_blas_info info;
    memset(&info, 0, sizeof info);
    info.size = sizeof info;
    contrl_blas_query(CONTRL_KERNELS_AUTO, &info);
    printf("TD3 on Ant (obs %u, act %u), 256-256 nets, batch 256, one update per env step; "
           "%llu timed steps after %llu warm-up steps (random actions, then updates); kernels "
           "%s%s%s\n",
           env.obs_dim, env.action_dim, (unsigned long long)steps, (unsigned long long)warmup,
           info.name, info.xsmm ? " + " : "", info.xsmm ? info.xsmm : "");
    /* The env alone, random actions, for reference. */
    {
        contrl_agent *a = ant_agent(&env, warmup);
        double t0 = now_s();
        contrl_agent_learn(a, &env, warmup, NULL, NULL); /* random actions only */
        printf("  env steps alone (random actions, no updates): %.0f steps/s\n",
               (double)warmup / (now_s() - t0));
        contrl_agent_destroy(a);
    }
    /* rows: 1 and 2 threads, then both again with overlap_env (the env
     * steps beside the update, on the worker with 2 threads) */
    double rate[4] = {0, 0, 0, 0};
    for (uint32_t row = 0; row < 4; row++) {
        const uint32_t threads = 1 + (row & 1), overlap = row >> 1;
        contrl_learn_config lc = contrl_learn_config_default();
        lc.overlap_env = overlap;
        contrl_agent *a = ant_agent(&env, warmup);
        if (contrl_agent_set_threads(a, threads) != CONTRL_OK ||
            contrl_agent_learn_ex(a, &env, warmup + 256, &lc) != CONTRL_OK) {
            fprintf(stderr, "learn: %s\n", contrl_last_error());
            return 1;
        }
        const uint64_t u0 = contrl_agent_updates(a);
        double t0 = now_s(), c0 = cpu_s();
        if (contrl_agent_learn_ex(a, &env, steps, &lc) != CONTRL_OK) {
            fprintf(stderr, "learn: %s\n", contrl_last_error());
            return 1;
        }
        double wall = now_s() - t0, cpu = cpu_s() - c0;
        rate[row] = (double)steps / wall;
        printf("  %u thread%s%s: %.0f env steps/s while training (%llu updates in %.2f s; "
               "calling thread's CPU %.2f s)\n",
               threads, threads == 1 ? " " : "s", overlap ? ", overlap_env" : "             ",
               rate[row], (unsigned long long)(contrl_agent_updates(a) - u0), wall, cpu);
        fflush(stdout);
        contrl_agent_destroy(a);
    }
    const double best = rate[1] > rate[3] ? rate[1] : rate[3];
    printf("  2 threads / 1 thread: %.2fx, with overlap_env %.2fx; target >= 600 steps/s: %s\n",
           rate[1] / rate[0], rate[3] / rate[2], best >= 600.0 ? "met" : "not met");
    contrl_env_close(&env);
    return 0;
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "overhead";
    if (strcmp(mode, "overhead") == 0)
        return overhead(argc > 2 ? atof(argv[2]) : 2.0);
    if (strcmp(mode, "vec") == 0)
        return vec(argc > 2 ? (uint32_t)atoi(argv[2]) : 8, argc > 3 ? atof(argv[3]) : 2.0);
    if (strcmp(mode, "ant") == 0)
        return ant(argc > 2 ? (uint64_t)atoll(argv[2]) : 2000,
                   argc > 3 ? (uint64_t)atoll(argv[3]) : 2000);
    fprintf(stderr, "usage: bench_mujoco overhead [seconds-per-task] | vec [envs] [seconds] | "
                    "ant [steps] [warmup]\n");
    return 2;
}
