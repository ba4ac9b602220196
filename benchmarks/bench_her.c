/* benchmarks/bench_her.c - the Hindsight Experience Replay paper's
 * experiment (Andrychowicz et al. 2017, figure 1) in miniature: success rate
 * against environment steps, with HER (strategy future, k = 4) and without
 * (k = 0), on pointreach-2, -5, -10 and bitflip-10, -20, -40.
 *
 * Every run: TD3 with 64-64 relu nets, batch 256, actor and critic lr 1e-3,
 * gamma 0.98 (the paper's), exploration noise 0.2 (the paper's 20% of the
 * action range; with TD3's default 0.1, pointreach-10 was still at 0-2%
 * after 150,000 steps in trials), 1000 random warm-up steps, one gradient
 * step per env step, a replay buffer that holds the whole run, normalised
 * inputs, one training seed (1). Success rate: contrl_her_evaluate, 50 deterministic episodes
 * with seeds 1000..1049, before training and at 10 evenly spaced
 * checkpoints. Budgets (env steps, both arms):
 *
 *   pointreach-2    10,000      bitflip-10    50,000
 *   pointreach-5    40,000      bitflip-20   100,000
 *   pointreach-10  200,000      bitflip-40   100,000
 *
 * 1,000,000 env steps in all: 15 minutes (903 s) on the 2-core development
 * machine (one thread) while other builds shared it; less when it is idle.
 *
 * bitflip-N episodes end on reaching the goal (else after N steps), so every
 * goal is reachable; the "reachable" line of the figure is drawn only for a
 * task where some evaluation goal could not be reached in time. The paper
 * plays bitflip with DQN over N discrete actions; here TD3 picks the bit
 * with one continuous action (SAC did no better in trials on bitflip-10 and
 * -20).
 *
 * Measured (final success with HER / without): pointreach-2 1.00 / 0.04
 * (1.00 from 3,000 steps), pointreach-5 1.00 / 0.00 (from 24,000),
 * pointreach-10 0.98 / 0.00 (0.84 at 140,000). bitflip-10 0.18 / 0.00,
 * bitflip-20 and -40 0.00 / 0.00 were measured while bitflip episodes still
 * ran all N steps (only 48-50% of goals reachable then); to be measured
 * again with episodes ending on the goal.
 *
 * usage: bench_her [figure.svg]   (default her_curves.svg): one panel per
 * task, success rate against env steps, with and without HER. */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L /* open_memstream (meson sets it for the whole project) */
#endif
#include <math.h>
#include <stdint.h>

#include "bench_common.h"
#include "svg.h"

enum { N_CHECKS = 10, N_POINTS = N_CHECKS + 1, EVAL_EPISODES = 50 };
#define EVAL_SEED 1000u
#define HER_K 4u

typedef struct task {
    const char *name;
    uint64_t budget; /* env steps per arm; a multiple of 10 episode lengths */
} task;

static const task tasks[] = {
    {"pointreach-2", 10000}, {"pointreach-5", 40000}, {"pointreach-10", 200000},
    {"bitflip-10", 50000},   {"bitflip-20", 100000},  {"bitflip-40", 100000},
};
enum { N_TASKS = sizeof tasks / sizeof tasks[0] };

typedef struct curve {
    double steps[N_POINTS], success[N_POINTS];
    double final_return, seconds;
} curve;

static void die(const char *what)
{
    fprintf(stderr, "bench_her: %s: %s\n", what, contrl_last_error());
    exit(1);
}

static void make_env(const char *name, contrl_goal_env *env)
{
    if (contrl_goal_env_make(name, NULL, env) != CONTRL_OK)
        die(name);
}

/* Share of the evaluation episodes whose goal can be reached within
 * max_episode_steps steps: 1 for pointreach (every goal is within 20 steps
 * of every start, a step moving up to 0.1 per axis); for bitflip, the
 * episodes whose start-goal Hamming distance is at most N (all of them,
 * since the episode ends on the goal). */
static double ceiling(contrl_goal_env *env)
{
    if (strncmp(env->name, "bitflip-", 8) != 0)
        return 1.0;
    float obs[64], achieved[64], goal[64];
    int reachable = 0;
    for (uint32_t e = 0; e < EVAL_EPISODES; e++) {
        if (env->reset(env->user, EVAL_SEED + e, obs, achieved, goal) != CONTRL_OK)
            die("reset");
        uint32_t d = 0;
        for (uint32_t i = 0; i < env->goal_dim; i++)
            d += achieved[i] != goal[i];
        reachable += d <= env->max_episode_steps;
    }
    return (double)reachable / EVAL_EPISODES;
}

static void run(const task *t, uint32_t k, curve *out)
{
    contrl_goal_env env, eval;
    make_env(t->name, &env);
    make_env(t->name, &eval);
    contrl_agent_config c = contrl_agent_config_default(CONTRL_ALGO_TD3);
    c.obs_dim = env.obs_dim;
    c.action_dim = env.action_dim;
    c.action_low = env.action_low;
    c.action_high = env.action_high;
    c.hidden[0] = c.hidden[1] = 64;
    c.batch_size = 256;
    c.actor_lr = c.critic_lr = 1e-3f;
    c.gamma = 0.98f;
    c.learning_starts = 1000;
    c.buffer_capacity = t->budget * (k + 1);
    c.seed = 1;
    contrl_td3_config td3 = contrl_td3_config_default();
    td3.expl_noise = 0.2f;
    contrl_her_config hc = contrl_her_config_default(); /* future, on store, normalised */
    hc.k = k;
    contrl_her *h = NULL;
    if (contrl_her_create(CONTRL_ALGO_TD3, &c, &td3, &hc, &env, &h) != CONTRL_OK)
        die("contrl_her_create");
    const double t0 = now();
    for (int i = 0; i < N_POINTS; i++) {
        if (i > 0 && contrl_her_learn(h, &env, t->budget / N_CHECKS, NULL, 0, NULL, NULL) !=
                         CONTRL_OK)
            die("contrl_her_learn");
        if (contrl_her_evaluate(h, &eval, EVAL_EPISODES, EVAL_SEED, &out->success[i],
                                &out->final_return) != CONTRL_OK)
            die("contrl_her_evaluate");
        out->steps[i] = (double)contrl_agent_steps(contrl_her_agent(h));
    }
    out->seconds = now() - t0;
    contrl_her_destroy(h);
    contrl_goal_env_close(&env);
    contrl_goal_env_close(&eval);
}

/* One panel: the chart svg_write_chart draws, without its XML declaration
 * and placed at (x, y) - nested <svg> elements with x and y are SVG 1.1. */
static int write_panel(FILE *f, const svg_chart *chart, double x, double y)
{
    char *text = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&text, &len);
    if (mem == NULL)
        return -1;
    int rc = svg_write_chart(mem, chart);
    if (fclose(mem) != 0)
        rc = -1;
    const char *root = rc == 0 ? strstr(text, "<svg ") : NULL;
    if (root == NULL)
        rc = -1;
    else if (fprintf(f, "<svg x=\"%.0f\" y=\"%.0f\" %s", x, y, root + 5) < 0)
        rc = -1;
    free(text);
    return rc;
}

enum { PANEL_W = 480, PANEL_H = 330, COLS = 3 };

static int write_figure(const char *path, const curve with[N_TASKS],
                        const curve without[N_TASKS], const double ceil[N_TASKS])
{
    FILE *f = fopen(path, "w");
    if (f == NULL)
        return -1;
    const int rows = (N_TASKS + COLS - 1) / COLS;
    int rc = fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                        "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" "
                        "width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\">\n",
                     COLS * PANEL_W, rows * PANEL_H, COLS * PANEL_W, rows * PANEL_H) < 0
                 ? -1
                 : 0;
    for (int i = 0; i < N_TASKS && rc == 0; i++) {
        /* The y axis fits the data, so an invisible series pins it to 0..1. */
        const double frame_x[2] = {0.0, (double)tasks[i].budget}, frame_y[2] = {0.0, 1.0};
        const double ceil_y[2] = {ceil[i], ceil[i]};
        svg_series s[4];
        memset(s, 0, sizeof s);
        s[0] = (svg_series){.x = frame_x, .y = frame_y, .n = 2, .color = "none"};
        s[1] = (svg_series){.label = "with HER (future, k=4)", .x = with[i].steps,
                            .y = with[i].success, .n = N_POINTS, .color = "#1f77b4",
                            .width = 2.0, .markers = 1};
        s[2] = (svg_series){.label = "without HER", .x = without[i].steps,
                            .y = without[i].success, .n = N_POINTS, .color = "#d62728",
                            .width = 2.0, .markers = 1};
        s[3] = (svg_series){.label = "reachable", .x = frame_x, .y = ceil_y, .n = 2,
                            .color = "#888888", .width = 1.0};
        char title[64];
        snprintf(title, sizeof title, "%s, TD3", tasks[i].name);
        svg_chart chart = {.title = title,
                           .xlabel = "environment steps",
                           .ylabel = "success rate (50 episodes)",
                           .width = PANEL_W,
                           .height = PANEL_H,
                           .series = s,
                           .n_series = ceil[i] < 1.0 ? 4 : 3,
                           .x_include_zero = 1};
        rc = write_panel(f, &chart, (double)(i % COLS * PANEL_W), (double)(i / COLS * PANEL_H));
    }
    if (rc == 0 && fputs("</svg>\n", f) < 0)
        rc = -1;
    if (fclose(f) != 0)
        rc = -1;
    return rc;
}

static void print_row(const char *arm, const curve *c)
{
    printf("  %-13s", arm);
    for (int i = 0; i < N_POINTS; i++)
        printf(" %6.2f", c->success[i]);
    printf("   %7.1f %6.0f s\n", c->final_return, c->seconds);
}

int main(int argc, char **argv)
{
    const char *path = argc > 1 ? argv[1] : "her_curves.svg";
    print_kernels();
    printf("HER (future, k=%u) vs none; TD3 64-64, batch 256, lr 1e-3, gamma 0.98, expl noise "
           "0.2, seed 1;\nsuccess rate over %d deterministic episodes (seeds %u..%u) at each "
           "checkpoint of env steps\n",
           HER_K, EVAL_EPISODES, EVAL_SEED, EVAL_SEED + EVAL_EPISODES - 1);
    curve with[N_TASKS], without[N_TASKS];
    double ceil[N_TASKS];
    const double t0 = now();
    for (int i = 0; i < N_TASKS; i++) {
        contrl_goal_env env;
        make_env(tasks[i].name, &env);
        ceil[i] = ceiling(&env);
        contrl_goal_env_close(&env);
        run(&tasks[i], HER_K, &with[i]);
        run(&tasks[i], 0, &without[i]);
        printf("\n%s (reachable: %.2f)\n  %-13s", tasks[i].name, ceil[i], "env steps");
        for (int j = 0; j < N_POINTS; j++) {
            if (with[i].steps[j] >= 1000.0)
                printf(" %5.0fk", with[i].steps[j] / 1000.0);
            else
                printf(" %6.0f", with[i].steps[j]);
        }
        printf("   %7s %8s\n", "return", "time");
        print_row("with HER", &with[i]);
        print_row("without HER", &without[i]);
        fflush(stdout);
    }
    printf("\nfinal success, with HER / without:");
    for (int i = 0; i < N_TASKS; i++)
        printf("%s %s %.2f / %.2f", i ? "," : "", tasks[i].name, with[i].success[N_CHECKS],
               without[i].success[N_CHECKS]);
    printf("\ntotal time %.0f s\n", now() - t0);
    if (write_figure(path, with, without, ceil) != 0) {
        fprintf(stderr, "bench_her: could not write %s\n", path);
        return 1;
    }
    printf("figure: %s\n", path);
    return 0;
}
