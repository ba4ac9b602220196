/* benchmarks/bench_multigoal.c - the evidence behind docs/sql.md: which
 * goals of the "multigoal" task SQL, SAC and TD3 reach, and SQL's Pendulum
 * learning curve next to SAC's.
 *
 *  1. Multigoal, the settings of tests/agents/test_multigoal.c (its file
 *     comment gives every setting and its source): SQL (stochastic policy),
 *     SAC at alpha 10 = SQL's temperature (stochastic), TD3
 *     (deterministic), seed 1; 100 episodes from the start state each,
 *     drawn as trajectories over the distance cost's level curves in one
 *     three-panel SVG (argv[1], default multigoal.svg).
 *  2. The same goal counts for seeds 1-5, plus two rows that are not in the
 *     test: SAC with automatic alpha (target entropy -2, its default) and
 *     SQL at the authors' full size (128-128 nets, 32 kernel particles),
 *     trained longer (20,000 env steps).
 *  3. Pendulum, 64-64 nets, seeds 1-3: deterministic evaluation (10
 *     episodes) every 2000 env steps up to 20,000, SQL (reward_scale 30,
 *     batch 128, as tests/agents/test_learning.c) and SAC (automatic alpha,
 *     batch 256, as there).
 *
 * usage: bench_multigoal [out.svg] */
#include <math.h>

#include "bench_common.h"

enum { EPISODES = 100, N_GOALS = 4, MAX_T = 30, MIN_MODE = 5 };
static const double GOALS[N_GOALS][2] = {{5.0, 0.0}, {-5.0, 0.0}, {0.0, 5.0}, {0.0, -5.0}};
static const uint64_t EVAL_SEED = 1000000; /* as the test */
static const double PI = 3.14159265358979323846;

/* ---- agents ----------------------------------------------------------------- */

typedef enum kind { SQL, SQL_FULL, SAC, SAC_AUTO, TD3, N_KINDS } kind;
static const char *const kind_names[] = {"sql", "sql-128/K32", "sac a=10", "sac auto", "td3"};

static contrl_agent *make_multigoal(kind k, const contrl_env *env, uint64_t seed, uint64_t *steps)
{
    const contrl_algo algo = k == SQL || k == SQL_FULL ? CONTRL_ALGO_SQL
                             : k == TD3                ? CONTRL_ALGO_TD3
                                                       : CONTRL_ALGO_SAC;
    contrl_agent_config c = contrl_agent_config_default(algo);
    c.obs_dim = env->obs_dim;
    c.action_dim = env->action_dim;
    c.action_low = env->action_low;
    c.action_high = env->action_high;
    c.n_hidden = 2;
    c.hidden[0] = c.hidden[1] = k == SQL_FULL ? 128 : 64;
    c.gamma = 0.99f;
    c.buffer_capacity = 100000;
    c.seed = seed;
    contrl_agent *a = NULL;
    contrl_status st;
    if (algo == CONTRL_ALGO_SQL) {
        /* examples/multigoal_sql.py; 64-64 nets and K 16 for speed (SQL) */
        c.actor_lr = c.critic_lr = 3e-4f;
        c.batch_size = 64;
        c.learning_starts = 100;
        contrl_sql_config q = contrl_sql_config_default();
        q.reward_scale = 0.1f;
        q.value_particles = 16;
        q.kernel_particles = k == SQL_FULL ? 32 : 16;
        q.kernel_update_ratio = 0.5f;
        q.target_update_interval = 1000;
        st = contrl_sql_create(&c, &q, &a);
        *steps = k == SQL_FULL ? 20000 : 6000;
    } else {
        c.actor_lr = c.critic_lr = 1e-3f;
        c.batch_size = algo == CONTRL_ALGO_SAC ? 256 : 64;
        c.learning_starts = 1000;
        c.tau = 0.005f;
        if (algo == CONTRL_ALGO_SAC) {
            contrl_sac_config s = contrl_sac_config_default();
            if (k == SAC) {
                s.auto_alpha = false;
                s.init_alpha = 10.0f;
            }
            st = contrl_sac_create(&c, &s, &a);
        } else {
            st = contrl_td3_create(&c, NULL, &a);
        }
        *steps = 10000;
    }
    if (st != CONTRL_OK) {
        fprintf(stderr, "create %s: %s\n", kind_names[k], contrl_last_error());
        exit(1);
    }
    return a;
}

/* ---- rollouts ----------------------------------------------------------------- */

typedef struct rollouts {
    int counts[N_GOALS + 1];       /* per goal; [N_GOALS]: none */
    int goal[EPISODES];            /* goal reached by each episode, N_GOALS: none */
    int len[EPISODES];             /* positions stored per episode */
    float pos[EPISODES][MAX_T + 1][2];
    double mean_return, train_s;
    uint64_t steps;                /* env steps of training */
} rollouts;

static void run_episodes(contrl_agent *a, contrl_env *env, bool explore, rollouts *r)
{
    memset(r->counts, 0, sizeof r->counts);
    double total = 0.0;
    for (int e = 0; e < EPISODES; e++) {
        float obs[2], next[2], act[2], rew;
        bool term = false, trunc = false;
        if (contrl_env_reset(env, EVAL_SEED + (uint64_t)e, obs) != CONTRL_OK) {
            fprintf(stderr, "reset: %s\n", contrl_last_error());
            exit(1);
        }
        contrl_agent_reset_noise(a);
        int n = 0;
        memcpy(r->pos[e][n++], obs, sizeof obs);
        while (!term && !trunc) {
            if (contrl_agent_act(a, obs, act, explore) != CONTRL_OK ||
                contrl_env_step(env, act, next, &rew, &term, &trunc) != CONTRL_OK) {
                fprintf(stderr, "episode: %s\n", contrl_last_error());
                exit(1);
            }
            total += rew;
            memcpy(obs, next, sizeof obs);
            if (n <= MAX_T)
                memcpy(r->pos[e][n++], obs, sizeof obs);
        }
        int g_hit = N_GOALS;
        if (term)
            for (int g = 0; g < N_GOALS; g++)
                if (hypot(obs[0] - GOALS[g][0], obs[1] - GOALS[g][1]) < 1.0 + 1e-6)
                    g_hit = g;
        r->goal[e] = g_hit;
        r->len[e] = n;
        r->counts[g_hit]++;
    }
    r->mean_return = total / EPISODES;
}

static void train_and_roll(kind k, uint64_t seed, rollouts *r)
{
    contrl_env env;
    contrl_env_make("multigoal", NULL, &env);
    contrl_agent *a = make_multigoal(k, &env, seed, &r->steps);
    double t0 = now();
    if (contrl_agent_learn(a, &env, r->steps, NULL, NULL) != CONTRL_OK) {
        fprintf(stderr, "learn %s: %s\n", kind_names[k], contrl_last_error());
        exit(1);
    }
    r->train_s = now() - t0;
    run_episodes(a, &env, k != TD3, r);
    contrl_agent_destroy(a);
    contrl_env_close(&env);
}

static int modes(const rollouts *r)
{
    int n = 0;
    for (int g = 0; g < N_GOALS; g++)
        n += r->counts[g] >= MIN_MODE;
    return n;
}

static void print_row(kind k, uint64_t seed, const rollouts *r)
{
    printf("%-12s %4llu %6llu %7d %7d %7d %7d %5d %6d %9.1f %8.1f\n", kind_names[k],
           (unsigned long long)seed, (unsigned long long)r->steps, r->counts[0], r->counts[1],
           r->counts[2], r->counts[3], r->counts[N_GOALS], modes(r), r->mean_return, r->train_s);
    fflush(stdout);
}

/* ---- SVG ---------------------------------------------------------------------- */

enum { PANEL = 380, MARGIN = 30, TOP = 50 };
static const double VIEW = 7.7; /* the authors' plot: 1.1 times the (-7, 7) box */
static const char *const GOAL_COLOURS[N_GOALS + 1] = {"#1f77b4", "#d62728", "#2ca02c",
                                                      "#9467bd", "#7f7f7f"};

static double sx(int panel, double x)
{
    return MARGIN + panel * (PANEL + MARGIN) + (x + VIEW) / (2.0 * VIEW) * PANEL;
}

static double sy(double y)
{
    return TOP + (VIEW - y) / (2.0 * VIEW) * PANEL;
}

static int nearest_goal(double x, double y)
{
    int best = 0;
    double bd = INFINITY;
    for (int g = 0; g < N_GOALS; g++) {
        double d = hypot(x - GOALS[g][0], y - GOALS[g][1]);
        if (d < bd) {
            bd = d;
            best = g;
        }
    }
    return best;
}

/* The level set min_g |s - g|^2 = v is, for each goal, the arc of the circle
 * of radius sqrt(v) around it that lies in the goal's own region (where it
 * is the nearest goal): drawn as polylines broken where the arc leaves the
 * region or the view. */
static void contour(FILE *f, int panel, double v)
{
    const int n = 720;
    const double r = sqrt(v);
    for (int g = 0; g < N_GOALS; g++) {
        bool open = false;
        for (int i = 0; i <= n; i++) {
            double th = 2.0 * PI * i / n;
            double x = GOALS[g][0] + r * cos(th), y = GOALS[g][1] + r * sin(th);
            bool in = nearest_goal(x, y) == g && fabs(x) <= VIEW && fabs(y) <= VIEW;
            if (in && !open) {
                fprintf(f, "<polyline class=\"c\" points=\"");
                open = true;
            }
            if (in)
                fprintf(f, "%.1f,%.1f ", sx(panel, x), sy(y));
            if (!in && open) {
                fprintf(f, "\"/>\n");
                open = false;
            }
        }
        if (open)
            fprintf(f, "\"/>\n");
    }
}

static void panel_svg(FILE *f, int p, const char *title, const rollouts *r)
{
    fprintf(f, "<rect x=\"%.1f\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"white\" "
               "stroke=\"black\"/>\n", sx(p, -VIEW), TOP, PANEL, PANEL);
    /* The authors' figure draws 20 automatic levels of the same cost; ours:
     * every 4 up to 64 (the corners of the view are at about 67). */
    for (int v = 4; v <= 64; v += 4)
        contour(f, p, v);
    /* Labels on the diagonal y = -x, where 2t^2 - 10t + 25 = v at (t, -t). */
    for (int v = 16; v <= 48; v += 16) {
        double t = (10.0 + sqrt(100.0 - 8.0 * (25.0 - v))) / 4.0;
        fprintf(f, "<text class=\"l\" x=\"%.1f\" y=\"%.1f\">%d</text>\n", sx(p, t) + 2.0,
                sy(-t) + 3.0, v);
    }
    for (int g = 0; g < N_GOALS; g++)
        fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"%.1f\" fill=\"none\" stroke=\"%s\" "
                   "stroke-dasharray=\"3,2\"/>\n",
                sx(p, GOALS[g][0]), sy(GOALS[g][1]), PANEL / (2.0 * VIEW), GOAL_COLOURS[g]);
    for (int e = 0; e < EPISODES; e++) {
        fprintf(f, "<polyline class=\"t\" stroke=\"%s\" points=\"", GOAL_COLOURS[r->goal[e]]);
        for (int i = 0; i < r->len[e]; i++)
            fprintf(f, "%.1f,%.1f ", sx(p, r->pos[e][i][0]), sy(r->pos[e][i][1]));
        fprintf(f, "\"/>\n");
    }
    for (int g = 0; g < N_GOALS; g++)
        fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"5\" fill=\"red\"/>\n", sx(p, GOALS[g][0]),
                sy(GOALS[g][1]));
    fprintf(f, "<text class=\"h\" x=\"%.1f\" y=\"%d\">%s</text>\n", sx(p, -VIEW), TOP - 24, title);
    fprintf(f, "<text class=\"s\" x=\"%.1f\" y=\"%d\">goals (5,0) %d, (-5,0) %d, (0,5) %d, "
               "(0,-5) %d, none %d</text>\n", sx(p, -VIEW), TOP - 8, r->counts[0],
            r->counts[1], r->counts[2], r->counts[3], r->counts[N_GOALS]);
}

static int write_svg(const char *path, const rollouts *r[3], const char *const titles[3])
{
    FILE *f = fopen(path, "w");
    if (f == NULL) {
        perror(path);
        return -1;
    }
    const int w = MARGIN + 3 * (PANEL + MARGIN), h = TOP + PANEL + 40;
    fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
               "viewBox=\"0 0 %d %d\" font-family=\"sans-serif\">\n", w, h, w, h);
    fprintf(f, "<style>.c{fill:none;stroke:#c8c8c8;stroke-width:0.8}"
               ".t{fill:none;stroke-width:1;stroke-opacity:0.6}"
               ".l{font-size:9px;fill:#999}.h{font-size:14px;font-weight:bold}"
               ".s{font-size:11px}.f{font-size:11px;fill:#444}</style>\n");
    fprintf(f, "<rect width=\"%d\" height=\"%d\" fill=\"white\"/>\n", w, h);
    for (int p = 0; p < 3; p++)
        panel_svg(f, p, titles[p], r[p]);
    fprintf(f, "<text class=\"f\" x=\"%d\" y=\"%d\">multigoal: %d episodes from the start state "
               "(x, y in [-7.7, 7.7]); grey: levels 4, 8, ..., 64 of min_g |s - g|^2; dashed: "
               "the goal regions (distance 1); colour: the goal the episode reached (grey: "
               "none)</text>\n", MARGIN, TOP + PANEL + 24, EPISODES);
    fprintf(f, "</svg>\n");
    if (fclose(f) != 0) {
        perror(path);
        return -1;
    }
    return 0;
}

/* ---- Pendulum ------------------------------------------------------------------ */

enum { PEND_STEPS = 20000, PEND_EVERY = 2000, PEND_POINTS = PEND_STEPS / PEND_EVERY,
       PEND_SEEDS = 3 };

typedef struct curve {
    int n;
    double ret[PEND_POINTS];
} curve;

static int on_eval(const contrl_progress *p, void *user)
{
    curve *c = user;
    if (p->is_eval && c->n < PEND_POINTS)
        c->ret[c->n++] = p->eval_mean;
    return 0;
}

static double pendulum_curve(bool sql, uint64_t seed, curve *out)
{
    contrl_env env, eval;
    contrl_env_make("pendulum", NULL, &env);
    contrl_env_make("pendulum", NULL, &eval);
    contrl_agent_config c = contrl_agent_config_default(sql ? CONTRL_ALGO_SQL : CONTRL_ALGO_SAC);
    c.obs_dim = env.obs_dim;
    c.action_dim = env.action_dim;
    c.action_low = env.action_low;
    c.action_high = env.action_high;
    c.n_hidden = 2;
    c.hidden[0] = c.hidden[1] = 64;
    c.actor_lr = c.critic_lr = 1e-3f;
    c.tau = 0.005f;
    c.learning_starts = 1000;
    c.buffer_capacity = 20000;
    c.batch_size = sql ? 128 : 256;
    c.seed = seed;
    contrl_agent *a = NULL;
    contrl_status st;
    if (sql) {
        contrl_sql_config q = contrl_sql_config_default();
        q.reward_scale = 30.0f;
        st = contrl_sql_create(&c, &q, &a);
    } else {
        st = contrl_sac_create(&c, NULL, &a);
    }
    if (st != CONTRL_OK) {
        fprintf(stderr, "create: %s\n", contrl_last_error());
        exit(1);
    }
    memset(out, 0, sizeof *out);
    contrl_learn_config lc = contrl_learn_config_default();
    lc.eval_env = &eval;
    lc.eval_interval = PEND_EVERY;
    lc.eval_episodes = 10;
    lc.progress_interval = 0;
    lc.callback = on_eval;
    lc.user = out;
    double t0 = now();
    if (contrl_agent_learn_ex(a, &env, PEND_STEPS, &lc) != CONTRL_OK) {
        fprintf(stderr, "learn: %s\n", contrl_last_error());
        exit(1);
    }
    double secs = now() - t0;
    contrl_agent_destroy(a);
    contrl_env_close(&env);
    contrl_env_close(&eval);
    return secs;
}

int main(int argc, char **argv)
{
    const char *svg = argc > 1 ? argv[1] : "multigoal.svg";
    print_kernels();

    static rollouts r[N_KINDS];
    printf("\nMultigoal, 100 episodes from the start state per agent (stochastic policy for sql "
           "and sac, deterministic for td3);\nmodes = goals reached in >= %d episodes; return = "
           "mean episode return; s = training time\n", MIN_MODE);
    printf("%-12s %4s %6s %7s %7s %7s %7s %5s %6s %9s %8s\n", "agent", "seed", "steps", "(5,0)",
           "(-5,0)", "(0,5)", "(0,-5)", "none", "modes", "return", "s");
    static const kind in_test[] = {SQL, SAC, TD3};
    for (int i = 0; i < 3; i++) {
        train_and_roll(in_test[i], 1, &r[in_test[i]]);
        print_row(in_test[i], 1, &r[in_test[i]]);
    }
    const rollouts *panels[3] = {&r[SQL], &r[SAC], &r[TD3]};
    static const char *const titles[3] = {"Soft Q-learning (stochastic)",
                                          "SAC, alpha 10 (stochastic)",
                                          "TD3 (deterministic)"};
    if (write_svg(svg, panels, titles) == 0)
        printf("trajectories of the seed-1 agents: %s\n", svg);

    static const kind all[] = {SQL, SAC, TD3, SAC_AUTO};
    static rollouts more;
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        for (uint64_t seed = all[i] == SAC_AUTO ? 1 : 2; seed <= 5; seed++) {
            train_and_roll(all[i], seed, &more);
            print_row(all[i], seed, &more);
        }
    train_and_roll(SQL_FULL, 1, &more);
    print_row(SQL_FULL, 1, &more);

    printf("\nPendulum, 64-64 nets: deterministic evaluation (mean of 10 episodes) every %d env "
           "steps;\nsql: reward_scale 30, batch 128; sac: automatic alpha, batch 256; both lr "
           "1e-3, 1000 warm-up steps\n", PEND_EVERY);
    static curve cs[2][PEND_SEEDS];
    double secs[2] = {0.0, 0.0};
    for (int algo = 0; algo < 2; algo++)
        for (int s = 0; s < PEND_SEEDS; s++)
            secs[algo] += pendulum_curve(algo == 0, (uint64_t)s + 1, &cs[algo][s]);
    printf("%6s  %8s %8s %8s %8s   %8s %8s %8s %8s\n", "step", "sql s1", "s2", "s3", "mean",
           "sac s1", "s2", "s3", "mean");
    for (int i = 0; i < PEND_POINTS; i++) {
        printf("%6d ", (i + 1) * PEND_EVERY);
        for (int algo = 0; algo < 2; algo++) {
            double m = 0.0;
            for (int s = 0; s < PEND_SEEDS; s++) {
                printf(" %8.1f", cs[algo][s].ret[i]);
                m += cs[algo][s].ret[i];
            }
            printf(" %8.1f  ", m / PEND_SEEDS);
        }
        printf("\n");
    }
    printf("training time per run: sql %.1f s, sac %.1f s\n", secs[0] / PEND_SEEDS,
           secs[1] / PEND_SEEDS);
    return 0;
}
