/* benchmarks/bench_vec_env.c - env steps per second of a vec env of 8
 * envs on 1 and 2 threads, next to the same 8 envs stepped by hand in one
 * loop (the vec env's own cost), for:
 *  - Pendulum (about 0.1 us a step: the synchronisation dominates);
 *  - Pendulum wrapped to do a fixed amount of extra arithmetic per step
 *    (about 2 us and 20 us), standing in for a real simulator.
 * Prints the 2-thread / 1-thread ratio of each, and the CPU time per env
 * step over all threads (what the threads cost, whatever the load of the
 * machine). The figures of this machine
 * are in docs/vec-env.md.
 *
 * usage: bench_vec_env [seconds per measurement, default 0.3] */
#include "bench_common.h"

enum { N = 8 };

/* Pendulum plus `work` rounds of a dependent multiply-add chain. */
typedef struct heavy {
    contrl_env inner;
    uint32_t work;
    double sink;
} heavy;

static double burn(uint32_t work, double x)
{
    for (uint32_t k = 0; k < work; k++)
        x = x * 0.999999 + 1e-9;
    return x;
}

static contrl_status heavy_reset(void *user, uint64_t seed, float *obs)
{
    heavy *h = user;
    return contrl_env_reset(&h->inner, seed, obs);
}

static contrl_status heavy_step(void *user, const float *action, float *next_obs, float *reward,
                                bool *terminated, bool *truncated)
{
    heavy *h = user;
    h->sink = burn(h->work, h->sink + 1.0);
    return contrl_env_step(&h->inner, action, next_obs, reward, terminated, truncated);
}

static void heavy_destroy(void *user)
{
    heavy *h = user;
    contrl_env_close(&h->inner);
}

static void make_envs(contrl_env *envs, heavy *hs, uint32_t work)
{
    for (int i = 0; i < N; i++) {
        contrl_env p;
        if (contrl_env_make("pendulum", NULL, &p) != CONTRL_OK) {
            fprintf(stderr, "make: %s\n", contrl_last_error());
            exit(1);
        }
        if (work == 0) {
            envs[i] = p;
            continue;
        }
        hs[i].inner = p;
        hs[i].work = work;
        hs[i].sink = 0.0;
        envs[i] = p;
        envs[i].user = &hs[i];
        envs[i].reset = heavy_reset;
        envs[i].step = heavy_step;
        envs[i].destroy = heavy_destroy;
    }
}

/* Process CPU time (every thread) per env step of `steps` more steps. */
static double process_cpu_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

typedef struct result {
    double rate; /* env steps per second of wall time */
    double cpu;  /* CPU seconds per env step, all threads */
} result;

static float actions[N];
static float next_obs[N * 3], rewards[N];
static bool terminated[N], truncated[N];

/* Env steps per second of the 8 envs stepped by hand, with resets. */
static result by_hand(uint32_t work, double min_s)
{
    contrl_env envs[N];
    heavy hs[N];
    make_envs(envs, hs, work);
    float obs[3];
    for (int i = 0; i < N; i++)
        contrl_env_reset(&envs[i], (uint64_t)i, obs);
#define BY_HAND_STEP                                                                      \
    for (int i = 0; i < N; i++) {                                                          \
        contrl_env_step(&envs[i], &actions[i], next_obs + 3 * i, &rewards[i], &terminated[i], \
                        &truncated[i]);                                                    \
        if (terminated[i] || truncated[i])                                                 \
            contrl_env_reset(&envs[i], (uint64_t)i, obs);                                  \
    }
    double t;
    TIME_IT(t, min_s, BY_HAND_STEP);
    long reps = (long)(min_s / t) + 1;
    double c0 = process_cpu_s();
    for (long r = 0; r < reps; r++)
        BY_HAND_STEP;
    result res = {N / t, (process_cpu_s() - c0) / (double)(reps * N)};
    for (int i = 0; i < N; i++)
        contrl_env_close(&envs[i]);
    return res;
}

static result vec(uint32_t work, uint32_t threads, double min_s)
{
    contrl_env envs[N];
    heavy hs[N];
    make_envs(envs, hs, work);
    contrl_vec_env_config cfg = contrl_vec_env_config_default();
    cfg.threads = threads;
    contrl_vec_env *v;
    if (contrl_vec_env_create(envs, N, &cfg, &v) != CONTRL_OK ||
        contrl_vec_env_reset(v, 1) != CONTRL_OK) {
        fprintf(stderr, "vec env: %s\n", contrl_last_error());
        exit(1);
    }
#define VEC_STEP                                                                          \
    if (contrl_vec_env_step(v, actions, next_obs, rewards, terminated, truncated) !=       \
        CONTRL_OK) {                                                                       \
        fprintf(stderr, "step: %s\n", contrl_last_error());                                \
        exit(1);                                                                           \
    }
    double t;
    TIME_IT(t, min_s, VEC_STEP);
    long reps = (long)(min_s / t) + 1;
    double c0 = process_cpu_s();
    for (long r = 0; r < reps; r++) {
        VEC_STEP;
    }
    result res = {N / t, (process_cpu_s() - c0) / (double)(reps * N)};
    contrl_vec_env_destroy(v);
    return res;
}

int main(int argc, char **argv)
{
    double min_s = argc > 1 ? atof(argv[1]) : 0.3;
    if (!(min_s > 0.0))
        min_s = 0.3;
    print_kernels();
    printf("vec env of %d envs: env steps/s (median of 5 rounds of %.2f s)\n", N, min_s);
    /* The cost of a work round, in CPU time (wall time on a loaded machine
     * would count the time slices of other processes too). */
    volatile double x = 0.0;
    double c0 = process_cpu_s();
    x = burn(20000000, x);
    const double per_round = (process_cpu_s() - c0) / 20000000.0;
    const uint32_t work[3] = {0, (uint32_t)(2e-6 / per_round), (uint32_t)(20e-6 / per_round)};
    printf("%-28s %14s %14s %14s %9s   CPU us per env step: %s\n", "env", "by hand",
           "1 thread", "2 threads", "2t / 1t", "by hand, 1 thread, 2 threads");
    for (int k = 0; k < 3; k++) {
        char name[64];
        if (work[k] == 0)
            snprintf(name, sizeof name, "pendulum");
        else
            snprintf(name, sizeof name, "pendulum + %.0f us of work", work[k] * per_round * 1e6);
        result h = by_hand(work[k], min_s);
        result one = vec(work[k], 1, min_s);
        result two = vec(work[k], 2, min_s);
        printf("%-28s %14.0f %14.0f %14.0f %8.2fx   %.3f, %.3f, %.3f\n", name, h.rate, one.rate,
               two.rate, two.rate / one.rate, 1e6 * h.cpu, 1e6 * one.cpu, 1e6 * two.cpu);
        fflush(stdout);
    }
    return 0;
}
