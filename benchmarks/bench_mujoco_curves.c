/* benchmarks/bench_mujoco_curves.c - TD3 and SAC learning curves on the
 * MuJoCo tasks Reacher, HalfCheetah and Hopper (libcontrl-mujoco), as in
 * the TD3 paper's figures: evaluation every 5000 steps, 10 deterministic
 * episodes, one training seed.
 *
 * Settings are the papers' (the agents' defaults): 256-256 relu networks,
 * batch 256, Adam lr 3e-4, gamma 0.99, tau 0.005, one gradient step per env
 * step, a replay buffer holding the whole run; TD3 policy delay 2, target
 * noise 0.2 clipped at 0.5, exploration noise 0.1; SAC with automatic
 * entropy tuning. Random warm-up: 1000 steps on Reacher, 10000 on the
 * others (the TD3 paper's start_timesteps).
 *
 *   bench_mujoco_curves all OUTDIR [STEPS]
 *       every run in turn (default budgets below, or STEPS for all), then plot
 *   bench_mujoco_curves run ALGO TASK STEPS OUTDIR
 *       one run (ALGO td3 or sac); writes OUTDIR/ALGO-TASK.csv (step,mean,std)
 *   bench_mujoco_curves plot OUTDIR
 *       the table of (steps, mean return) of every CSV found, and one SVG per
 *       task, OUTDIR/curves-TASK.svg, with the published TD3 figure at 1M
 *       steps for reference.
 *
 * Default budgets: Reacher 50,000, HalfCheetah 100,000, Hopper 100,000 env
 * steps per algorithm. */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "contrl/contrl.h"
#include "contrl/mujoco.h"
#include "svg.h"

enum { EVAL_INTERVAL = 5000, EVAL_EPISODES = 10, MAX_POINTS = 1024 };

typedef struct task_info {
    const char *name;
    uint64_t budget;
    uint64_t learning_starts;
    double td3_paper_1m; /* TD3 paper, table 1 (max average return over 1M steps) */
} task_info;

static const task_info tasks[] = {
    {"reacher", 50000, 1000, -3.6},
    {"halfcheetah", 100000, 10000, 9636.95},
    {"hopper", 100000, 10000, 3564.07},
};
enum { N_TASKS = sizeof tasks / sizeof tasks[0] };
static const char *const algos[] = {"td3", "sac"};

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static const task_info *find_task(const char *name)
{
    for (int i = 0; i < N_TASKS; i++)
        if (strcmp(tasks[i].name, name) == 0)
            return &tasks[i];
    return NULL;
}

typedef struct run_state {
    FILE *csv;
    const char *label;
    double t0;
} run_state;

static int on_progress(const contrl_progress *p, void *user)
{
    run_state *r = user;
    if (p->is_eval) {
        fprintf(r->csv, "%llu,%.3f,%.3f\n", (unsigned long long)p->step, p->eval_mean,
                p->eval_std);
        fflush(r->csv);
        printf("%-16s step %7llu  eval %9.1f +- %7.1f  recent %9.1f  %5.0f steps/s  %6.0f s\n",
               r->label, (unsigned long long)p->step, p->eval_mean, p->eval_std, p->mean_return,
               p->steps_per_s, now_s() - r->t0);
        fflush(stdout);
    }
    return 0;
}

static int run(const char *algo, const char *task_name, uint64_t steps, const char *outdir)
{
    const task_info *t = find_task(task_name);
    if (t == NULL || (strcmp(algo, "td3") != 0 && strcmp(algo, "sac") != 0)) {
        fprintf(stderr, "bench_mujoco_curves: unknown algorithm or task: %s %s\n", algo,
                task_name);
        return 2;
    }
    contrl_env env, eval_env;
    if (contrl_mj_make(task_name, NULL, &env) != CONTRL_OK ||
        contrl_mj_make(task_name, NULL, &eval_env) != CONTRL_OK) {
        fprintf(stderr, "bench_mujoco_curves: %s\n", contrl_last_error());
        return 1;
    }
    const bool td3 = strcmp(algo, "td3") == 0;
    contrl_agent_config cfg = contrl_agent_config_default(td3 ? CONTRL_ALGO_TD3 : CONTRL_ALGO_SAC);
    cfg.obs_dim = env.obs_dim;
    cfg.action_dim = env.action_dim;
    cfg.action_low = env.action_low;
    cfg.action_high = env.action_high;
    cfg.learning_starts = t->learning_starts;
    cfg.buffer_capacity = steps;
    cfg.seed = 1;
    contrl_agent *agent = NULL;
    contrl_status st = td3 ? contrl_td3_create(&cfg, NULL, &agent)
                           : contrl_sac_create(&cfg, NULL, &agent);
    if (st != CONTRL_OK) {
        fprintf(stderr, "bench_mujoco_curves: create: %s\n", contrl_last_error());
        return 1;
    }
    char path[1024];
    snprintf(path, sizeof path, "%s/%s-%s.csv", outdir, algo, task_name);
    run_state r = {fopen(path, "w"), NULL, now_s()};
    if (r.csv == NULL) {
        fprintf(stderr, "bench_mujoco_curves: cannot write %s: %s\n", path, strerror(errno));
        return 1;
    }
    char label[64];
    snprintf(label, sizeof label, "%s %s", algo, task_name);
    r.label = label;
    fprintf(r.csv, "step,mean,std\n");
    double m0 = NAN, s0 = NAN;
    contrl_agent_evaluate(agent, &eval_env, EVAL_EPISODES, 0x5eed0000e7a10000ull, &m0, &s0);
    fprintf(r.csv, "0,%.3f,%.3f\n", m0, s0);
    contrl_learn_config lc = contrl_learn_config_default();
    lc.eval_env = &eval_env;
    lc.eval_interval = EVAL_INTERVAL;
    lc.eval_episodes = EVAL_EPISODES;
    lc.progress_interval = 0;
    lc.callback = on_progress;
    lc.user = &r;
    st = contrl_agent_learn_ex(agent, &env, steps, &lc);
    fclose(r.csv);
    contrl_blas_info bi = {.size = sizeof bi};
    contrl_blas_query(CONTRL_KERNELS_AUTO, &bi);
    printf("%-16s %llu steps in %.0f s (%s); kernel set %s\n", label,
           (unsigned long long)steps, now_s() - r.t0, st == CONTRL_OK ? "ok" : contrl_last_error(),
           bi.name);
    contrl_agent_destroy(agent);
    contrl_env_close(&env);
    contrl_env_close(&eval_env);
    return st == CONTRL_OK ? 0 : 1;
}

typedef struct curve {
    double x[MAX_POINTS], y[MAX_POINTS];
    size_t n;
} curve;

static bool read_curve(const char *path, curve *c)
{
    FILE *f = fopen(path, "r");
    c->n = 0;
    if (f == NULL)
        return false;
    char line[256];
    if (fgets(line, sizeof line, f) == NULL) { /* header */
        fclose(f);
        return false;
    }
    unsigned long long s;
    double m, sd;
    while (c->n < MAX_POINTS && fscanf(f, "%llu,%lf,%lf\n", &s, &m, &sd) == 3) {
        c->x[c->n] = (double)s;
        c->y[c->n] = m;
        c->n++;
    }
    fclose(f);
    return c->n > 0;
}

static int plot(const char *outdir)
{
    static curve curves[N_TASKS][2];
    printf("\nevaluation return (10 episodes) against env steps; TD3 paper at 1M steps for "
           "reference\n");
    for (int t = 0; t < N_TASKS; t++) {
        bool any = false;
        for (int a = 0; a < 2; a++) {
            char path[1024];
            snprintf(path, sizeof path, "%s/%s-%s.csv", outdir, algos[a], tasks[t].name);
            any |= read_curve(path, &curves[t][a]);
        }
        if (!any)
            continue;
        printf("\n%s (TD3 paper, 1M steps: %.1f)\n%10s %10s %10s\n", tasks[t].name,
               tasks[t].td3_paper_1m, "steps", "TD3", "SAC");
        size_t n = curves[t][0].n > curves[t][1].n ? curves[t][0].n : curves[t][1].n;
        for (size_t i = 0; i < n; i++) {
            double x = i < curves[t][0].n ? curves[t][0].x[i] : curves[t][1].x[i];
            printf("%10.0f", x);
            for (int a = 0; a < 2; a++) {
                if (i < curves[t][a].n)
                    printf(" %10.1f", curves[t][a].y[i]);
                else
                    printf(" %10s", "");
            }
            printf("\n");
        }
        svg_series s[2];
        memset(s, 0, sizeof s);
        static const char *const colors[] = {"#d62728", "#1f77b4"};
        static const char *const labels[] = {"TD3", "SAC"};
        size_t ns = 0;
        for (int a = 0; a < 2; a++) {
            if (curves[t][a].n == 0)
                continue;
            s[ns].label = labels[a];
            s[ns].x = curves[t][a].x;
            s[ns].y = curves[t][a].y;
            s[ns].n = curves[t][a].n;
            s[ns].color = colors[a];
            s[ns].markers = 1;
            ns++;
        }
        char title[128], path[1024];
        snprintf(title, sizeof title, "%s: evaluation return (10 episodes), seed 1",
                 tasks[t].name);
        svg_chart c = {.title = title, .xlabel = "env steps", .ylabel = "return",
                       .series = s, .n_series = ns, .x_include_zero = 1};
        snprintf(path, sizeof path, "%s/curves-%s.svg", outdir, tasks[t].name);
        if (svg_save_chart(path, &c) != 0)
            fprintf(stderr, "bench_mujoco_curves: cannot write %s: %s\n", path, strerror(errno));
        else
            printf("wrote %s\n", path);
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 6 && strcmp(argv[1], "run") == 0)
        return run(argv[2], argv[3], strtoull(argv[4], NULL, 10), argv[5]);
    if (argc >= 3 && strcmp(argv[1], "plot") == 0)
        return plot(argv[2]);
    if (argc >= 3 && strcmp(argv[1], "all") == 0) {
        mkdir(argv[2], 0777);
        uint64_t steps = argc > 3 ? strtoull(argv[3], NULL, 10) : 0;
        int rc = 0;
        for (int t = 0; t < N_TASKS; t++)
            for (int a = 0; a < 2; a++)
                rc |= run(algos[a], tasks[t].name, steps ? steps : tasks[t].budget, argv[2]);
        return plot(argv[2]) | rc;
    }
    fprintf(stderr, "usage: bench_mujoco_curves all OUTDIR [STEPS] | run ALGO TASK STEPS OUTDIR"
                    " | plot OUTDIR\n");
    return 2;
}
