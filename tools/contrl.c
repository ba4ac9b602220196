/*
 * tools/contrl.c - the `contrl` command: train an agent on a built-in task
 * (a HER learner on a goal task), evaluate a checkpoint, describe the
 * library. Uses only the public API (contrl/contrl.h); see docs/cli.md.
 *
 * Exit status: 0 success, 1 a library or file error, 2 bad arguments,
 * 130 training interrupted by Ctrl-C (results still written).
 */
#include <contrl/contrl.h>

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>
#if defined(__linux__) || defined(__APPLE__) || defined(__FreeBSD__)
#include <sys/ioctl.h> /* TIOCGWINSZ: not POSIX, so only where known to exist */
#endif

#include "svg.h"

#ifdef CONTRL_HAVE_MUJOCO
#include <contrl/mujoco.h>
#endif

enum { EXIT_USAGE = 2, EXIT_INTERRUPTED = 130 };

/* Final evaluations (train's and eval's default) reset episode i with seed
 * FINAL_EVAL_SEED + i, so `contrl eval` of a checkpoint repeats the number
 * `contrl train` printed. */
#define FINAL_EVAL_SEED 1000000000ull
#define FINAL_EVAL_EPISODES 10u
/* Goal tasks end with a success rate: 50 episodes give it in steps of 2%
 * (10 would give 10%), and cost little (no gradient steps). */
#define FINAL_EVAL_EPISODES_GOAL 50u
/* contrl_her_learn evaluates this many episodes; it takes no setting. */
#define HER_EVAL_EPISODES 10u
#define MAX_STEPS 1000000000000ull /* 1e12: flags above this are typos */

/* Set by the SIGINT handler, polled by the progress callback. */
static volatile sig_atomic_t g_interrupted;

static void on_sigint(int sig)
{
    (void)sig;
    g_interrupted = 1;
}

/* ---- Messages -------------------------------------------------------------- */

/* One-line error and a hint; returns EXIT_USAGE. cmd: "train", "eval",
 * "info" or NULL for the top level. */
static int usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("contrl: ", stderr);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nTry 'contrl%s%s --help'.\n", cmd ? " " : "", cmd ? cmd : "");
    return EXIT_USAGE;
}

/* "contrl: <what>: <status text>: <detail>"; returns EXIT_FAILURE. */
static int library_error(const char *what, contrl_status st)
{
    const char *detail = contrl_last_error();
    fprintf(stderr, "contrl: %s: %s%s%s\n", what, contrl_status_string(st),
            detail[0] != '\0' ? ": " : "", detail);
    return EXIT_FAILURE;
}

static int file_error(const char *what, const char *path)
{
    fprintf(stderr, "contrl: %s '%s': %s\n", what, path, strerror(errno));
    return EXIT_FAILURE;
}

/* ---- Argument parsing ------------------------------------------------------ */

/* If argv[*i] is `flag`, as "--flag VALUE" or "--flag=VALUE", point *value at
 * VALUE and return 1; return 0 for another argument, -1 (error printed) if
 * the value is missing. */
static int flag_value(const char *cmd, int argc, char **argv, int *i, const char *flag,
                      const char **value)
{
    const char *a = argv[*i];
    size_t n = strlen(flag);
    if (strncmp(a, flag, n) != 0)
        return 0;
    if (a[n] == '=') {
        *value = a + n + 1;
        return 1;
    }
    if (a[n] != '\0')
        return 0;
    if (*i + 1 >= argc || strncmp(argv[*i + 1], "--", 2) == 0) {
        usage_error(cmd, "option %s needs a value", flag);
        return -1;
    }
    *value = argv[++*i];
    return 1;
}

/* Whole decimal number in [min, max]; 0, or EXIT_USAGE after an error. */
static int parse_u64(const char *cmd, const char *flag, const char *s, uint64_t min, uint64_t max,
                     uint64_t *out)
{
    /* strtoull would accept " 12", "+12" and "-1" (as a huge value) */
    if (s[0] < '0' || s[0] > '9')
        return usage_error(cmd, "%s expects a whole number, not '%s'", flag, s);
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (*end != '\0')
        return usage_error(cmd, "%s expects a whole number, not '%s'", flag, s);
    if (errno == ERANGE || v < min || v > max)
        return usage_error(cmd, "%s %s is out of range [%llu, %llu]", flag, s,
                           (unsigned long long)min, (unsigned long long)max);
    *out = v;
    return 0;
}

static int parse_u32(const char *cmd, const char *flag, const char *s, uint32_t min, uint32_t max,
                     uint32_t *out)
{
    uint64_t v;
    int rc = parse_u64(cmd, flag, s, min, max, &v);
    if (rc == 0)
        *out = (uint32_t)v;
    return rc;
}

/* Finite real number in (min, max]. */
static int parse_real(const char *cmd, const char *flag, const char *s, double min, double max,
                      double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (s[0] == '\0' || s[0] == ' ' || *end != '\0' || !isfinite(v))
        return usage_error(cmd, "%s expects a number, not '%s'", flag, s);
    if (errno == ERANGE || !(v > min && v <= max))
        return usage_error(cmd, "%s %s is out of range (%g, %g]", flag, s, min, max);
    *out = v;
    return 0;
}

/* "256,256": 1..CONTRL_NET_MAX_HIDDEN widths of 1..65536. */
static int parse_hidden(const char *cmd, const char *s, uint32_t *hidden, uint32_t *n_hidden)
{
    char buf[256];
    if (strlen(s) >= sizeof buf)
        return usage_error(cmd, "--hidden '%s' is too long", s);
    strcpy(buf, s);
    uint32_t n = 0;
    char *tok = buf;
    for (;;) {
        char *comma = strchr(tok, ',');
        if (comma != NULL)
            *comma = '\0';
        if (n == CONTRL_NET_MAX_HIDDEN)
            return usage_error(cmd, "--hidden '%s' has more than %d layers", s,
                               CONTRL_NET_MAX_HIDDEN);
        if (tok[0] == '\0')
            return usage_error(cmd, "--hidden expects comma-separated layer widths like 256,256, "
                                    "not '%s'", s);
        if (parse_u32(cmd, "--hidden", tok, 1, 65536, &hidden[n]) != 0)
            return EXIT_USAGE;
        n++;
        if (comma == NULL)
            break;
        tok = comma + 1;
    }
    *n_hidden = n;
    return 0;
}

static bool is_help(const char *a)
{
    return strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0;
}

/* The MuJoCo tasks of libcontrl-mujoco, when the trainer was built with it
 * (NULL-terminated; empty without it). */
static const char *const *mujoco_names(void)
{
#ifdef CONTRL_HAVE_MUJOCO
    return contrl_mj_names();
#else
    static const char *const none[] = {NULL};
    return none;
#endif
}

static const char *const *mujoco_goal_names(void)
{
#ifdef CONTRL_HAVE_MUJOCO
    return contrl_mj_goal_names();
#else
    static const char *const none[] = {NULL};
    return none;
#endif
}

static bool in_list(const char *const *list, const char *name)
{
    for (; *list != NULL; list++)
        if (strcmp(*list, name) == 0)
            return true;
    return false;
}

static bool is_mujoco_task(const char *name)
{
    return in_list(mujoco_names(), name);
}

/* A plain task by name: the core's, else libcontrl-mujoco's. */
static contrl_status env_make(const char *name, contrl_env *env)
{
#ifdef CONTRL_HAVE_MUJOCO
    if (is_mujoco_task(name))
        return contrl_mj_make(name, NULL, env);
#endif
    return contrl_env_make(name, NULL, env);
}

/* A goal task by name: the core's, else libcontrl-mujoco's. */
static contrl_status goal_env_make(const char *name, contrl_goal_env *env)
{
#ifdef CONTRL_HAVE_MUJOCO
    if (in_list(mujoco_goal_names(), name))
        return contrl_mj_goal_make(name, NULL, env);
#endif
    return contrl_goal_env_make(name, NULL, env);
}

static bool known_task(const char *name)
{
    return in_list(contrl_env_names(), name) || is_mujoco_task(name);
}

/* The goal tasks' name patterns (contrl/goal_env.h): prefix + N, N in
 * 1..max_n. contrl_goal_env_make decides what is a goal task; these are
 * for messages, help and `contrl info`. */
static const struct goal_pattern {
    const char *prefix;
    uint32_t max_n;
} goal_patterns[] = {{"pointreach-", 10}, {"bitflip-", 64}};
enum { N_GOAL_PATTERNS = sizeof goal_patterns / sizeof goal_patterns[0] };

/* "pointreach-N (N = 1..10), bitflip-N (N = 1..64)" into buf. */
static const char *goal_task_list(char *buf, size_t size)
{
    buf[0] = '\0';
    for (int i = 0; i < N_GOAL_PATTERNS; i++) {
        size_t len = strlen(buf);
        snprintf(buf + len, size - len, "%s%sN (N = 1..%u)", len ? ", " : "",
                 goal_patterns[i].prefix, goal_patterns[i].max_n);
    }
    for (const char *const *t = mujoco_goal_names(); *t != NULL; t++) {
        size_t len = strlen(buf);
        snprintf(buf + len, size - len, ", %s", *t);
    }
    return buf;
}

/* "pendulum, mountaincar, pointreach-N (N = 1..10), ..." into buf; the
 * goal tasks only if `goal`. */
static const char *task_list_ex(char *buf, size_t size, bool goal)
{
    buf[0] = '\0';
    for (const char *const *t = contrl_env_names(); *t != NULL; t++) {
        size_t len = strlen(buf);
        snprintf(buf + len, size - len, "%s%s", len ? ", " : "", *t);
    }
    for (const char *const *t = mujoco_names(); *t != NULL; t++) {
        size_t len = strlen(buf);
        snprintf(buf + len, size - len, "%s%s", len ? ", " : "", *t);
    }
    if (goal) {
        char g[128];
        size_t len = strlen(buf);
        snprintf(buf + len, size - len, "%s%s", len ? ", " : "", goal_task_list(g, sizeof g));
    }
    return buf;
}

/* The plain (contrl_env) tasks. */
static const char *task_list(char *buf, size_t size)
{
    return task_list_ex(buf, size, false);
}

/* Whether contrl_goal_env_make accepts `name`: CONTRL_OK, or its status
 * with contrl_last_error() saying why not. */
static contrl_status probe_goal_task(const char *name)
{
    contrl_goal_env env;
    contrl_status st = goal_env_make(name, &env);
    contrl_goal_env_close(&env);
    return st;
}

/* Usage error for a task name that is neither a plain nor a goal task.
 * A goal pattern with N out of range gets the library's reason. The list
 * of known tasks includes the goal tasks if `list_goal`. */
static int unknown_task_error(const char *cmd, const char *name, contrl_status goal_st,
                              bool list_goal)
{
    char tasks[384];
    if (goal_st == CONTRL_ERR_INVALID_ARG)
        for (int i = 0; i < N_GOAL_PATTERNS; i++) {
            const char *prefix = goal_patterns[i].prefix;
            size_t n = strlen(prefix);
            if (strncmp(name, prefix, n) == 0 && name[n] >= '1' && name[n] <= '9') {
                const char *err = contrl_last_error();
                const char *why = strstr(err, " is outside ") ? strstr(err, "N = ") : NULL;
                if (why != NULL)
                    return usage_error(cmd, "task '%s': %s", name, why);
            }
        }
    return usage_error(cmd, "unknown task '%s' (known: %s)", name,
                       task_list_ex(tasks, sizeof tasks, list_goal));
}

/* ---- Help -------------------------------------------------------------------- */

static void print_usage(FILE *f)
{
    fprintf(f,
            "usage: contrl <command> [options]\n"
            "\n"
            "Deep reinforcement learning for continuous control with libcontrl %s.\n"
            "\n"
            "commands:\n"
            "  train <algo> <task>   train an agent (with HER on goal tasks); writes a learning\n"
            "                        curve, logs and a checkpoint\n"
            "  eval <checkpoint>     evaluate a saved agent\n"
            "  info                  library version, matrix kernels and built-in tasks\n"
            "\n"
            "  contrl <command> --help   the options of a command\n"
            "  contrl --version          print the version\n",
            contrl_version_string());
}

static void print_train_help(void)
{
    char tasks[256], goal_tasks[128];
    printf("usage: contrl train <algo> <task> [options]\n"
           "\n"
           "Train an agent on a built-in task and write, in the output directory:\n"
           "progress.csv, episodes.csv, evals.csv, curve.svg and agent.safetensors.\n"
           "On a goal task the agent learns with Hindsight Experience Replay (HER).\n"
           "\n"
           "  <algo>   ddpg, td3, sac, sac-v1 (SAC with its state-value network), or sql\n"
           "           (Soft Q-learning; --reward-scale X sets its inverse temperature,\n"
           "           30 on pendulum, 1 elsewhere)\n"
           "  <task>   %s\n"
           "           goal tasks: %s\n"
           "\n"
           "options:\n"
           "  --steps N            environment steps to train for\n"
           "  --seed S             seed of networks, noise, sampling and episodes (0)\n"
           "  --out DIR            output directory, created with its parents\n"
           "                       (runs/<algo>-<task>-<seed>)\n"
           "  --eval-every N       evaluate every N steps; 0 = never (5000)\n"
           "  --eval-episodes N    deterministic episodes per evaluation (10; goal\n"
           "                       tasks: always %u, contrl_her_learn's number)\n"
           "  --hidden W,W,...     hidden layer widths of actor and critics\n"
           "  --batch N            minibatch size\n"
           "  --lr X               learning rate of actor and critics\n"
           "  --actor-lr X, --critic-lr X   each one separately\n"
           "  --learning-starts N  uniform random actions for the first N steps\n"
           "  --buffer N           replay buffer capacity (1000000, or the steps if fewer)\n"
           "  --log-every N        steps between progress.csv rows and log lines (1000)\n"
           "  --envs N             step N instances of the task together (1); steps\n"
           "                       count over all of them\n"
           "  --threads T          threads stepping them (1; results do not depend on it)\n"
           "  --update-threads T   1 or 2 threads for each gradient step (TD3 and SAC use\n"
           "                       the second; results do not depend on it) (1)\n"
           "  --overlap-env        step the env while the update runs (with\n"
           "                       --update-threads 2, on the other thread); updates then\n"
           "                       sample the transitions before the current one\n"
           "  --quiet              no progress line; only the final evaluation\n"
           "\n"
           "goal tasks only:\n"
           "  --her STRATEGY[:K]   relabel each transition with K goals achieved later in\n"
           "                       its episode (future), at its end (final), anywhere in it\n"
           "                       (episode) or in any stored episode (random); K 0..64,\n"
           "                       4 if left out; none = no relabelling (future:4)\n"
           "  --relabel store|sample   relabel when an episode is stored (the paper's\n"
           "                       algorithm 1) or afresh at every minibatch (store)\n"
           "\n"
           "defaults: the algorithm's own (contrl/agent.h: TD3 and SAC hidden 256,256,\n"
           "lr 3e-4, batch 256, learning starts 25000 (TD3) or 10000 (SAC); DDPG hidden\n"
           "400,300, lr 1e-4/1e-3 (actor/critic), batch 64, learning starts 0), except:\n"
           "  pendulum      steps 20000, learning-starts 1000, batch 256, lr 1e-3,\n"
           "                hidden 64,64\n"
           "  mountaincar   steps 100000, learning-starts 10000\n"
           "  (other tasks  steps 100000)\n"
           "  goal tasks    steps 10000 (pointreach-N) or 20000 (bitflip-N),\n"
           "                learning-starts 1000, batch 256, lr 1e-3, gamma 0.98,\n"
           "                hidden 64,64, eval-every 1000, buffer (steps + one\n"
           "                episode) x (K + 1) up to 1000000\n"
           "The pendulum settings follow the TD3 paper's setup for its small tasks (1000\n"
           "random warm-up steps, lr 1e-3), the RL Zoo's Pendulum-v1 budget for TD3 and\n"
           "SAC (20000 steps, lr 1e-3), the TD3 reference code's batch of 256, and\n"
           "64-64 networks, ample for a 3-dimensional task (RLtools uses the same);\n"
           "the goal-task settings follow tests/her (gamma 0.98 is the HER paper's);\n"
           "docs/cli.md gives the details. Every flag overrides them.\n"
           "\n"
           "Ctrl-C stops training cleanly: results are written, exit status 130.\n"
           "Ends with the final evaluation: %u deterministic episodes on a separate env\n"
           "instance, seeds %llu..%llu (as `contrl eval` uses by default).\n"
           "On goal tasks: %u episodes from the same first seed, reported as the success\n"
           "rate and mean return; the checkpoint is a HER checkpoint (contrl_her_load).\n",
           task_list(tasks, sizeof tasks), goal_task_list(goal_tasks, sizeof goal_tasks),
           HER_EVAL_EPISODES, FINAL_EVAL_EPISODES, (unsigned long long)FINAL_EVAL_SEED,
           (unsigned long long)FINAL_EVAL_SEED + FINAL_EVAL_EPISODES - 1,
           FINAL_EVAL_EPISODES_GOAL);
}

static void print_eval_help(void)
{
    char tasks[256];
    printf("usage: contrl eval <checkpoint> [options]\n"
           "\n"
           "Load a checkpoint written by `contrl train` (or contrl_agent_save) and print\n"
           "the mean and standard deviation of the return of deterministic episodes.\n"
           "\n"
           "options:\n"
           "  --task T        the task to evaluate on: %s\n"
           "                  (default: the task the checkpoint records)\n"
           "  --episodes N    episodes to run (%u)\n"
           "  --seed S        episode i starts from seed S + i (%llu, as the final\n"
           "                  evaluation of `contrl train`)\n"
           "\n"
           "Goal tasks (pointreach-N, bitflip-N) cannot be evaluated: HER learners have no\n"
           "checkpoints yet.\n",
           task_list(tasks, sizeof tasks), FINAL_EVAL_EPISODES,
           (unsigned long long)FINAL_EVAL_SEED);
}

static void print_info_help(void)
{
    printf("usage: contrl info\n"
           "\n"
           "Print the library's version, the matrix kernel set it selects on this machine\n"
           "(CONTRL_BLIS_ARCH=skx|zen3|haswell|generic|blis overrides it), the BLIS version\n"
           "and what BLIS's own detection would pick, the built-in tasks and the goal\n"
           "tasks for Hindsight Experience Replay.\n");
}

/* ---- contrl --version, contrl info --------------------------------------- */

static int cmd_version(void)
{
    if (strcmp(contrl_version_string(), CONTRL_VERSION_STRING) == 0)
        printf("contrl %s\n", contrl_version_string());
    else
        printf("contrl %s (built against headers %s)\n", contrl_version_string(),
               CONTRL_VERSION_STRING);
    return 0;
}

static int cmd_info(int argc, char **argv)
{
    for (int i = 0; i < argc; i++) {
        if (is_help(argv[i])) {
            print_info_help();
            return 0;
        }
        return usage_error("info", "unexpected argument '%s'", argv[i]);
    }
    int rc = 0;
    printf("libcontrl %s (headers %s)\n", contrl_version_string(), CONTRL_VERSION_STRING);

    contrl_blas_info bi;
    memset(&bi, 0, sizeof bi);
    bi.size = sizeof bi;
    contrl_status st = contrl_blas_query(CONTRL_KERNELS_AUTO, &bi);
    printf("\nmatrix kernels\n");
    if (st == CONTRL_OK) {
        printf("  kernel set       %s\n", bi.name);
        printf("  description      %s\n", bi.description);
        printf("  chosen by        %s\n", bi.source);
        printf("  BLIS version     %s\n", bi.blis_version);
        printf("  BLIS detection   %s (what BLIS alone would use)\n", bi.blis_detected);
        printf("  CPU features     AVX-512F %s, AVX2+FMA %s\n", bi.cpu_avx512f ? "yes" : "no",
               bi.cpu_avx2_fma ? "yes" : "no");
    } else {
        rc = library_error("cannot resolve the kernel set", st);
    }

    printf("\nbuilt-in tasks\n");
    for (const char *const *t = contrl_env_names(); *t != NULL; t++) {
        contrl_env env;
        st = contrl_env_make(*t, NULL, &env);
        if (st != CONTRL_OK) {
            rc = library_error(*t, st);
            continue;
        }
        printf("  %-14s obs %u, action %u in [%g, %g]", *t, env.obs_dim, env.action_dim,
               (double)env.action_low[0], (double)env.action_high[0]);
        if (env.max_episode_steps > 0)
            printf(", at most %u steps per episode", env.max_episode_steps);
        printf("\n");
        contrl_env_close(&env);
    }

#ifdef CONTRL_HAVE_MUJOCO
    printf("\nMuJoCo tasks (libcontrl-mujoco, MuJoCo %s; Gymnasium v4 definitions)\n",
           contrl_mj_mujoco_version());
    for (const char *const *t = mujoco_names(); *t != NULL; t++) {
        contrl_env env;
        st = contrl_mj_make(*t, NULL, &env);
        if (st != CONTRL_OK) {
            rc = library_error(*t, st);
            continue;
        }
        printf("  %-22s obs %u, action %u in [%g, %g], at most %u steps per episode\n", *t,
               env.obs_dim, env.action_dim, (double)env.action_low[0],
               (double)env.action_high[0], env.max_episode_steps);
        contrl_env_close(&env);
    }
#endif

    /* Sizes read from the largest instance: one equal to N prints as "N". */
    printf("\ngoal tasks (trained with Hindsight Experience Replay)\n");
    for (int i = 0; i < N_GOAL_PATTERNS; i++) {
        const struct goal_pattern *g = &goal_patterns[i];
        char name[32], pattern[32];
        snprintf(name, sizeof name, "%s%u", g->prefix, g->max_n);
        snprintf(pattern, sizeof pattern, "%sN", g->prefix);
        contrl_goal_env env;
        st = contrl_goal_env_make(name, NULL, &env);
        if (st != CONTRL_OK) {
            rc = library_error(name, st);
            continue;
        }
        const uint32_t dims[4] = {env.obs_dim, env.goal_dim, env.action_dim, env.max_episode_steps};
        char text[4][16];
        for (int k = 0; k < 4; k++) {
            if (dims[k] == g->max_n)
                snprintf(text[k], sizeof text[k], "N");
            else
                snprintf(text[k], sizeof text[k], "%u", dims[k]);
        }
        printf("  %-14s N = 1..%u: obs %s, goal %s, action %s in [%g, %g], at most %s steps per "
               "episode\n", pattern, g->max_n, text[0], text[1], text[2],
               (double)env.action_low[0], (double)env.action_high[0], text[3]);
        contrl_goal_env_close(&env);
    }
    for (const char *const *t = mujoco_goal_names(); *t != NULL; t++) {
        contrl_goal_env env;
        st = goal_env_make(*t, &env);
        if (st != CONTRL_OK) {
            rc = library_error(*t, st);
            continue;
        }
        printf("  %-14s MuJoCo: obs %u, goal %u, action %u in [%g, %g], at most %u steps per "
               "episode\n", *t, env.obs_dim, env.goal_dim, env.action_dim,
               (double)env.action_low[0], (double)env.action_high[0], env.max_episode_steps);
        contrl_goal_env_close(&env);
    }
    printf("\nalgorithms\n  ddpg, td3, sac, sac-v1, sql\n");
    return rc;
}

/* ---- contrl eval ------------------------------------------------------------ */

static int cmd_eval(int argc, char **argv)
{
    const char *path = NULL, *task = NULL, *v;
    uint64_t seed = FINAL_EVAL_SEED;
    uint32_t episodes = FINAL_EVAL_EPISODES;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        int m;
        if (is_help(a)) {
            print_eval_help();
            return 0;
        } else if ((m = flag_value("eval", argc, argv, &i, "--task", &v)) != 0) {
            if (m < 0)
                return EXIT_USAGE;
            task = v;
        } else if ((m = flag_value("eval", argc, argv, &i, "--episodes", &v)) != 0) {
            if (m < 0 || parse_u32("eval", "--episodes", v, 1, 1000000, &episodes) != 0)
                return EXIT_USAGE;
        } else if ((m = flag_value("eval", argc, argv, &i, "--seed", &v)) != 0) {
            if (m < 0 || parse_u64("eval", "--seed", v, 0, UINT64_MAX, &seed) != 0)
                return EXIT_USAGE;
        } else if (a[0] == '-' && a[1] != '\0') {
            return usage_error("eval", "unknown option '%s'", a);
        } else if (path == NULL) {
            path = a;
        } else {
            return usage_error("eval", "unexpected argument '%s'", a);
        }
    }
    char tasks[256];
    if (path == NULL)
        return usage_error("eval", "missing the checkpoint file");
    if (task != NULL && !known_task(task)) {
        contrl_status goal_st = probe_goal_task(task);
        if (goal_st == CONTRL_OK)
            return usage_error("eval", "'%s' is a goal task: evaluating HER learners is not "
                                       "supported (they have no checkpoints yet)", task);
        return unknown_task_error("eval", task, goal_st, false);
    }

    contrl_agent *agent = NULL;
    contrl_status st = contrl_agent_load(path, NULL, &agent);
    if (st != CONTRL_OK) {
        char what[512];
        snprintf(what, sizeof what, "cannot load checkpoint '%s'", path);
        return library_error(what, st);
    }
    /* the task the agent was trained on, as its checkpoint records it */
    const char *saved = contrl_agent_env_name(agent);
    if (task == NULL) {
        if (saved == NULL || saved[0] == '\0' || !known_task(saved)) {
            int rc;
            if (saved == NULL || saved[0] == '\0')
                rc = usage_error("eval", "checkpoint '%s' does not record its task; pass --task "
                                         "(one of: %s)", path, task_list(tasks, sizeof tasks));
            else
                rc = usage_error("eval", "checkpoint '%s' was trained on '%s', not a built-in "
                                         "task; pass --task (one of: %s)", path, saved,
                                 task_list(tasks, sizeof tasks));
            contrl_agent_destroy(agent);
            return rc;
        }
        task = saved;
    } else if (saved != NULL && saved[0] != '\0' && strcmp(saved, task) != 0) {
        fprintf(stderr, "contrl: note: the agent was trained on '%s', evaluating it on '%s'\n",
                saved, task);
    }
    contrl_env env;
    if ((st = env_make(task, &env)) != CONTRL_OK) {
        contrl_agent_destroy(agent);
        return library_error("cannot create the task", st);
    }
    double mean, std;
    st = contrl_agent_evaluate(agent, &env, episodes, seed, &mean, &std);
    contrl_env_close(&env);
    contrl_agent_destroy(agent);
    if (st != CONTRL_OK)
        return library_error("evaluation failed", st);
    printf("%.2f ± %.2f over %u episodes\n", mean, std, episodes);
    return 0;
}

/* ---- contrl train ------------------------------------------------------------ */

typedef struct train_opts {
    const char *algo_name, *task, *out;
    contrl_algo algo;
    bool value_net; /* sac-v1 */
    bool quiet;
    uint64_t steps, seed, eval_every, learning_starts, buffer, log_every;
    uint32_t eval_episodes, batch, n_hidden, hidden[CONTRL_NET_MAX_HIDDEN];
    double actor_lr, critic_lr;
    double reward_scale; /* sql */
    bool has_reward_scale;
    /* which of them the command line set */
    bool has_steps, has_learning_starts, has_buffer, has_batch, has_hidden, has_actor_lr,
        has_critic_lr, has_eval_every, has_eval_episodes;
    /* goal tasks: a HER learner (contrl/her.h) instead of a plain agent */
    bool goal;
    contrl_her_config her; /* strategy, k and relabel from --her, --relabel */
    bool has_her, has_relabel;
    /* plain tasks: envs stepped together by a contrl_vec_env on threads */
    uint32_t envs, threads;
    bool has_envs, has_threads;
    uint32_t update_threads; /* contrl_agent_set_threads: 1 or 2 */
    bool overlap_env;        /* contrl_learn_config.overlap_env */
} train_opts;

/* Growable columns of doubles (the curve's data). */
typedef struct columns {
    double *c[3];
    size_t n, cap;
} columns;

static int columns_push(columns *t, double a, double b, double c)
{
    if (t->n == t->cap) {
        size_t cap = t->cap ? 2 * t->cap : 256;
        for (int k = 0; k < 3; k++) {
            double *p = realloc(t->c[k], cap * sizeof *p);
            if (p == NULL)
                return -1;
            t->c[k] = p;
        }
        t->cap = cap;
    }
    t->c[0][t->n] = a;
    t->c[1][t->n] = b;
    t->c[2][t->n] = c;
    t->n++;
    return 0;
}

static void columns_free(columns *t)
{
    for (int k = 0; k < 3; k++)
        free(t->c[k]);
}

/* State shared with the progress callback. */
typedef struct run {
    const train_opts *o;
    bool goal;          /* eval_mean is a success rate (0..1), eval_std unset */
    struct timespec start; /* goal tasks: contrl_her_learn reports no time */
    bool is_sac;
    bool show;          /* progress output on stderr */
    bool tty;           /* stderr is a terminal: one line redrawn with \r */
    bool line_open;     /* a \r line is on screen, not yet ended with \n */
    bool out_of_memory;
    FILE *progress_csv, *episodes_csv, *evals_csv;
    columns episodes;   /* step at episode end, return, - */
    columns evals;      /* step, mean, std */
    uint64_t episodes_seen;
    uint64_t row_step;  /* last progress.csv row */
    double row_time;
    uint64_t rate_step; /* window for the displayed speed */
    double rate_time, rate;
    double drawn_at;    /* p->seconds of the last redraw */
    contrl_progress last;
} run;

static double seconds_since(const struct timespec *t0)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - t0->tv_sec) + 1e-9 * (double)(t.tv_nsec - t0->tv_nsec);
}

static void csv_num(FILE *f, double v, const char *fmt, char sep)
{
    if (isfinite(v))
        fprintf(f, fmt, v);
    fputc(sep, f);
}

static void write_row(run *r, const contrl_progress *p)
{
    FILE *f = r->progress_csv;
    double dt = p->seconds - r->row_time;
    double rate = dt > 0.0 ? (double)(p->step - r->row_step) / dt : NAN;
    bool trained = p->stats.updates > 0;
    fprintf(f, "%llu,%llu,", (unsigned long long)p->step, (unsigned long long)p->episodes);
    csv_num(f, p->mean_return, "%.6g", ',');
    /* goal tasks: the evaluation's return is not reported, its success
     * rate goes in the last column */
    csv_num(f, r->goal ? NAN : p->eval_mean, "%.6g", ',');
    csv_num(f, r->goal ? NAN : p->eval_std, "%.6g", ',');
    csv_num(f, trained ? p->stats.critic_loss : NAN, "%.6g", ',');
    csv_num(f, trained ? p->stats.actor_loss : NAN, "%.6g", ',');
    csv_num(f, trained ? p->stats.mean_q : NAN, "%.6g", ',');
    csv_num(f, r->is_sac ? p->stats.alpha : NAN, "%.6g", ',');
    csv_num(f, rate, "%.1f", r->goal ? ',' : '\n');
    if (r->goal)
        csv_num(f, p->eval_mean, "%.6g", '\n');
    fflush(f); /* so `tail -f progress.csv` follows the run */
    r->row_step = p->step;
    r->row_time = p->seconds;
}

static int terminal_width(void)
{
#ifdef TIOCGWINSZ
    struct winsize ws;
    if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 20)
        return ws.ws_col;
#endif
    return 80;
}

static size_t utf8_chars(const char *s)
{
    size_t n = 0;
    for (; *s != '\0'; s++)
        n += (*s & 0xC0) != 0x80;
    return n;
}

/* The progress line: steps, %, speed, recent return, last evaluation (its
 * success rate on goal tasks), ETA, alpha (SAC). On a terminal, redrawn in
 * place and cut to its width. */
static void draw(run *r, const contrl_progress *p)
{
    /* speed over a window of >= 2 s: the random warm-up runs much faster
     * than training, so the average since the start would mislead the ETA */
    if (p->seconds - r->rate_time >= 2.0) {
        r->rate = (double)(p->step - r->rate_step) / (p->seconds - r->rate_time);
        r->rate_step = p->step;
        r->rate_time = p->seconds;
    }
    double rate = r->rate > 0.0 ? r->rate : p->steps_per_s;
    /* parts in display order; rank: which to keep first on a narrow terminal */
    enum { STEPS, SPEED, RETURN, EVAL, ETA, ALPHA, N_PARTS };
    static const int rank[N_PARTS] = {STEPS, ETA, EVAL, RETURN, SPEED, ALPHA};
    char part[N_PARTS][96] = {{0}};
    int digits = snprintf(NULL, 0, "%llu", (unsigned long long)p->total_steps);
    /* a HER run ends with a whole episode and may pass total_steps */
    uint64_t left = p->step < p->total_steps ? p->total_steps - p->step : 0;
    snprintf(part[STEPS], sizeof part[0], "%*llu/%llu %3.0f%%", digits,
             (unsigned long long)p->step, (unsigned long long)p->total_steps,
             100.0 * (double)(p->total_steps - left) / (double)p->total_steps);
    snprintf(part[SPEED], sizeof part[0], "%5.0f steps/s", rate);
    if (isfinite(p->mean_return))
        snprintf(part[RETURN], sizeof part[0], "return %7.1f", p->mean_return);
    else
        snprintf(part[RETURN], sizeof part[0], "return %7s", "-");
    if (isfinite(p->eval_mean) && r->goal)
        snprintf(part[EVAL], sizeof part[0], "success %3.0f%%", 100.0 * p->eval_mean);
    else if (isfinite(p->eval_mean))
        snprintf(part[EVAL], sizeof part[0], "eval %.1f ± %.1f", p->eval_mean, p->eval_std);
    if (r->rate > 0.0) {
        unsigned long s = (unsigned long)((double)left / r->rate + 0.5);
        snprintf(part[ETA], sizeof part[0], "ETA %02lu:%02lu", s / 60, s % 60);
    } else {
        snprintf(part[ETA], sizeof part[0], "ETA --:--"); /* no 2 s window measured yet */
    }
    if (r->is_sac && isfinite(p->stats.alpha))
        snprintf(part[ALPHA], sizeof part[0], "alpha %.3g", (double)p->stats.alpha);

    /* On a terminal the line must not wrap, which would defeat the \r
     * redraw: the parts that do not fit its width are left out whole. */
    size_t cols = r->tty ? (size_t)terminal_width() - 1 : (size_t)-1, used = 0;
    bool keep[N_PARTS] = {false};
    for (int k = 0; k < N_PARTS; k++) {
        size_t len = utf8_chars(part[rank[k]]);
        if (len > 0 && used + len + (used ? 2 : 0) <= cols) {
            keep[rank[k]] = true;
            used += len + (used ? 2 : 0);
        }
    }
    char line[N_PARTS * 98] = "";
    for (int i = 0; i < N_PARTS; i++) {
        if (!keep[i])
            continue;
        if (line[0] != '\0')
            strcat(line, "  ");
        strcat(line, part[i]);
    }
    if (r->tty) {
        fprintf(stderr, "\r%s\033[K", line);
        r->line_open = true;
    } else {
        fprintf(stderr, "%s\n", line);
    }
    fflush(stderr);
    r->drawn_at = p->seconds;
}

/* End an open \r line before other output on stderr. */
static void end_line(run *r)
{
    if (r->line_open) {
        fputc('\n', stderr);
        r->line_open = false;
    }
}

/* Called after every env step (progress_interval 1) so that each finished
 * episode is seen: the library reports only the last episode's return.
 * contrl_her_learn calls it after every episode, through on_her_progress. */
static int on_progress(const contrl_progress *p, void *user)
{
    run *r = user;
    r->last = *p;
    if (p->episodes > r->episodes_seen) {
        /* at most one episode ends per step, so this is every episode */
        r->episodes_seen = p->episodes;
        if (columns_push(&r->episodes, (double)p->step, p->last_return, 0.0) != 0)
            r->out_of_memory = true;
        fprintf(r->episodes_csv, "%llu,%llu,%.6g\n", (unsigned long long)p->episodes,
                (unsigned long long)p->step, p->last_return);
    }
    if (p->is_eval) {
        if (columns_push(&r->evals, (double)p->step, p->eval_mean, p->eval_std) != 0)
            r->out_of_memory = true;
        if (r->goal)
            fprintf(r->evals_csv, "%llu,%.6g\n", (unsigned long long)p->step, p->eval_mean);
        else
            fprintf(r->evals_csv, "%llu,%.6g,%.6g\n", (unsigned long long)p->step, p->eval_mean,
                    p->eval_std);
        fflush(r->evals_csv);
    }
    bool stop = g_interrupted != 0 || r->out_of_memory;
    /* a row when the step passes a multiple of log_every: HER runs report
     * whole episodes, so the step need not land on one */
    const uint64_t every = r->o->log_every;
    bool row = p->is_eval || p->step >= p->total_steps || p->step / every != r->row_step / every ||
               stop;
    if (row) {
        write_row(r, p);
        fflush(r->episodes_csv);
    }
    if (r->show && (row || (r->tty && p->seconds - r->drawn_at >= 0.25)))
        draw(r, p);
    return stop;
}

/* contrl_her_learn leaves seconds and steps_per_s at 0: fill them in. */
static int on_her_progress(const contrl_progress *p, void *user)
{
    run *r = user;
    contrl_progress q = *p;
    q.seconds = seconds_since(&r->start);
    q.steps_per_s = q.seconds > 0.0 ? (double)q.step / q.seconds : 0.0;
    return on_progress(&q, user);
}

static int make_dirs(const char *path)
{
    char *tmp = strdup(path);
    if (tmp == NULL)
        return -1;
    int rc = 0;
    for (char *c = tmp + 1; rc == 0; c++) {
        if (*c != '/' && *c != '\0')
            continue;
        char saved = *c;
        *c = '\0';
        if (mkdir(tmp, 0777) != 0 && errno != EEXIST)
            rc = -1;
        *c = saved;
        if (saved == '\0')
            break;
    }
    free(tmp);
    struct stat sb;
    if (rc == 0 && stat(path, &sb) != 0)
        rc = -1;
    if (rc == 0 && !S_ISDIR(sb.st_mode)) {
        errno = ENOTDIR;
        rc = -1;
    }
    return rc;
}

/* dir/name into a new string (NULL if out of memory). */
static char *path_join(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);
    if (p != NULL)
        snprintf(p, n, "%s/%s", dir, name);
    return p;
}

static const char *algo_title(const train_opts *o)
{
    switch (o->algo) {
    case CONTRL_ALGO_DDPG: return "DDPG";
    case CONTRL_ALGO_TD3: return "TD3";
    default: return o->value_net ? "SAC (v1, value network)" : "SAC";
    }
}

static const char *strategy_name(contrl_her_strategy s)
{
    switch (s) {
    case CONTRL_HER_FUTURE: return "future";
    case CONTRL_HER_FINAL: return "final";
    case CONTRL_HER_EPISODE: return "episode";
    default: return "random";
    }
}

/* "TD3 + HER (future, k 4)" or "TD3 without HER (k 0)" for goal tasks,
 * "TD3" otherwise. */
static const char *run_title(const train_opts *o, char *buf, size_t size)
{
    if (!o->goal)
        snprintf(buf, size, "%s", algo_title(o));
    else if (o->her.k == 0)
        snprintf(buf, size, "%s without HER (k 0)", algo_title(o));
    else
        snprintf(buf, size, "%s + HER (%s, k %u)", algo_title(o), strategy_name(o->her.strategy),
                 o->her.k);
    return buf;
}

/* Goal tasks: the success rate of the evaluations, in percent, and the
 * final one (final_mean, 0..1) as the last point. */
static int write_success_curve(const char *path, const train_opts *o, const run *r,
                               double final_step, double final_mean)
{
    columns ev = r->evals;
    size_t n = ev.n;
    bool add_final = isfinite(final_mean) && (n == 0 || ev.c[0][n - 1] < final_step);
    size_t m = n + (add_final ? 1 : 0);
    double *buf = malloc(2 * (m ? m : 1) * sizeof *buf);
    if (buf == NULL) {
        errno = ENOMEM;
        return -1;
    }
    double *x = buf, *y = buf + m;
    for (size_t i = 0; i < n; i++) {
        x[i] = ev.c[0][i];
        y[i] = 100.0 * ev.c[1][i];
    }
    if (add_final) {
        x[n] = final_step;
        y[n] = 100.0 * final_mean;
    }
    char what[96], title[200];
    snprintf(title, sizeof title, "%s on %s, seed %llu", run_title(o, what, sizeof what), o->task,
             (unsigned long long)o->seed);
    /* The writer fits the y axis to the data; a band of zero width at x = 0
     * (invisible) from 0 to 100 makes it span every possible success rate,
     * so that runs compare at a glance and a flat 100% is not drawn mid-plot. */
    static const double span_x[2] = {0.0, 0.0}, span_lo[2] = {0.0, 0.0},
                        span_hi[2] = {100.0, 100.0};
    svg_series s[2];
    memset(s, 0, sizeof s);
    s[0].x = span_x;
    s[0].y_lo = span_lo;
    s[0].y_hi = span_hi;
    s[0].n = 2;
    s[0].color = "#ffffff";
    s[1].label = "evaluation success rate";
    s[1].x = x;
    s[1].y = y;
    s[1].n = m;
    s[1].color = "#d62728";
    s[1].width = 2.5;
    s[1].markers = 1;
    svg_chart c;
    memset(&c, 0, sizeof c);
    c.title = title;
    c.xlabel = "environment steps";
    c.ylabel = "success rate (%)";
    c.series = m > 0 ? s : s + 1; /* no points: the writer's empty chart and note */
    c.n_series = m > 0 ? 2 : 1;
    c.x_include_zero = 1;
    c.empty_note = "no evaluations";
    int rc = svg_save_chart(path, &c);
    int saved = errno;
    free(buf);
    errno = saved;
    return rc;
}

static int write_curve(const char *path, const train_opts *o, const run *r, double final_step,
                       double final_mean, double final_std)
{
    if (o->goal)
        return write_success_curve(path, o, r, final_step, final_mean);
    columns ev = r->evals;
    size_t n = ev.n;
    /* the final evaluation joins the curve unless one ran at that step */
    bool add_final = isfinite(final_mean) && (n == 0 || ev.c[0][n - 1] < final_step);
    size_t m = n + (add_final ? 1 : 0);
    double *buf = malloc(4 * (m ? m : 1) * sizeof *buf);
    if (buf == NULL) {
        errno = ENOMEM;
        return -1;
    }
    double *x = buf, *mean = buf + m, *lo = buf + 2 * m, *hi = buf + 3 * m;
    for (size_t i = 0; i < n; i++) {
        x[i] = ev.c[0][i];
        mean[i] = ev.c[1][i];
        lo[i] = ev.c[1][i] - ev.c[2][i];
        hi[i] = ev.c[1][i] + ev.c[2][i];
    }
    if (add_final) {
        x[n] = final_step;
        mean[n] = final_mean;
        lo[n] = final_mean - final_std;
        hi[n] = final_mean + final_std;
    }
    char title[160];
    snprintf(title, sizeof title, "%s on %s, seed %llu", algo_title(o), o->task,
             (unsigned long long)o->seed);
    svg_series s[2];
    memset(s, 0, sizeof s);
    s[0].label = "training episode return";
    s[0].x = r->episodes.c[0];
    s[0].y = r->episodes.c[1];
    s[0].n = r->episodes.n;
    s[0].color = "#1f77b4";
    s[0].width = 1.0;
    s[0].opacity = 0.45;
    s[1].label = "evaluation mean ± std";
    s[1].x = x;
    s[1].y = mean;
    s[1].y_lo = lo;
    s[1].y_hi = hi;
    s[1].n = m;
    s[1].color = "#d62728";
    s[1].width = 2.5;
    s[1].band_opacity = 0.2;
    s[1].markers = 1;
    svg_chart c;
    memset(&c, 0, sizeof c);
    c.title = title;
    c.xlabel = "environment steps";
    c.ylabel = "episode return";
    c.series = s;
    c.n_series = 2;
    c.x_include_zero = 1;
    c.empty_note = "no finished episodes";
    int rc = svg_save_chart(path, &c);
    int saved = errno;
    free(buf);
    errno = saved;
    return rc;
}

/* Task defaults, applied before the command-line overrides; returns the
 * default step budget. docs/cli.md says where they come from. */
static uint64_t task_defaults(const char *task, contrl_agent_config *cfg)
{
    if (strcmp(task, "pendulum") == 0) {
        cfg->learning_starts = 1000;
        cfg->batch_size = 256;
        cfg->n_hidden = 2;
        cfg->hidden[0] = cfg->hidden[1] = 64;
        cfg->actor_lr = 1e-3f;
        cfg->critic_lr = 1e-3f;
        return 20000;
    }
    if (strcmp(task, "mountaincar") == 0) {
        cfg->learning_starts = 10000;
        return 100000;
    }
    if (is_mujoco_task(task)) {
        /* The TD3 paper's MuJoCo setup: 256-256 networks (the agents'
         * defaults), 1000 random steps on the small tasks and 10000 on the
         * locomotion ones, one million steps. */
        bool small = strcmp(task, "invertedpendulum") == 0 ||
                     strcmp(task, "inverteddoublependulum") == 0 || strcmp(task, "reacher") == 0;
        cfg->learning_starts = small ? 1000 : 10000;
        return 1000000;
    }
    return 100000;
}

/* Goal tasks: tests/her's settings (TD3 + HER reaches 100% on pointreach-2
 * in 4000 steps with them), gamma 0.98 as in the HER paper. */
static uint64_t goal_task_defaults(const char *task, contrl_agent_config *cfg)
{
    cfg->learning_starts = 1000;
    cfg->batch_size = 256;
    cfg->n_hidden = 2;
    cfg->hidden[0] = cfg->hidden[1] = 64;
    cfg->actor_lr = 1e-3f;
    cfg->critic_lr = 1e-3f;
    cfg->gamma = 0.98f;
    return strncmp(task, "bitflip-", 8) == 0 ? 20000 : 10000;
}

/* --her STRATEGY[:K] (K 4 if left out) or none (k = 0). */
static int parse_her(const char *cmd, const char *s, contrl_her_config *her)
{
    static const contrl_her_strategy strategies[] = {CONTRL_HER_FUTURE, CONTRL_HER_FINAL,
                                                     CONTRL_HER_EPISODE, CONTRL_HER_RANDOM};
    if (strcmp(s, "none") == 0) {
        her->k = 0;
        return 0;
    }
    const char *colon = strchr(s, ':');
    size_t len = colon != NULL ? (size_t)(colon - s) : strlen(s);
    for (size_t i = 0; i < sizeof strategies / sizeof strategies[0]; i++) {
        const char *name = strategy_name(strategies[i]);
        if (strlen(name) != len || strncmp(s, name, len) != 0)
            continue;
        her->strategy = strategies[i];
        her->k = 4;
        return colon != NULL ? parse_u32(cmd, "--her K", colon + 1, 0, 64, &her->k) : 0;
    }
    return usage_error(cmd, "--her expects STRATEGY[:K] with STRATEGY future, final, episode or "
                            "random and K 0..64, or none; not '%s'", s);
}

static int parse_relabel(const char *cmd, const char *s, contrl_her_config *her)
{
    if (strcmp(s, "store") == 0)
        her->relabel = CONTRL_HER_RELABEL_ON_STORE;
    else if (strcmp(s, "sample") == 0)
        her->relabel = CONTRL_HER_RELABEL_ON_SAMPLE;
    else
        return usage_error(cmd, "--relabel expects store or sample, not '%s'", s);
    return 0;
}

static int parse_train(int argc, char **argv, train_opts *o, bool *help)
{
    const char *v;
    const char *pos[2] = {NULL, NULL};
    int n_pos = 0;
    static const char C[] = "train";
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        int m = 0, rc = 0;
        if (is_help(a)) {
            *help = true;
            return 0;
        }
        if (strcmp(a, "--quiet") == 0 || strcmp(a, "-q") == 0) {
            o->quiet = true;
        } else if (strcmp(a, "--overlap-env") == 0) {
            o->overlap_env = true;
        } else if ((m = flag_value(C, argc, argv, &i, "--steps", &v)) != 0) {
            rc = m < 0 ? EXIT_USAGE : parse_u64(C, "--steps", v, 1, MAX_STEPS, &o->steps);
            o->has_steps = true;
        } else if ((m = flag_value(C, argc, argv, &i, "--seed", &v)) != 0) {
            rc = m < 0 ? EXIT_USAGE : parse_u64(C, "--seed", v, 0, UINT64_MAX, &o->seed);
        } else if ((m = flag_value(C, argc, argv, &i, "--out", &v)) != 0) {
            rc = m < 0 ? EXIT_USAGE : 0;
            if (rc == 0 && v[0] == '\0')
                rc = usage_error(C, "--out expects a directory");
            o->out = v;
        } else if ((m = flag_value(C, argc, argv, &i, "--eval-every", &v)) != 0) {
            rc = m < 0 ? EXIT_USAGE : parse_u64(C, "--eval-every", v, 0, MAX_STEPS, &o->eval_every);
            o->has_eval_every = true;
        } else if ((m = flag_value(C, argc, argv, &i, "--eval-episodes", &v)) != 0) {
            rc = m < 0 ? EXIT_USAGE
                       : parse_u32(C, "--eval-episodes", v, 1, 100000, &o->eval_episodes);
            o->has_eval_episodes = true;
        } else if ((m = flag_value(C, argc, argv, &i, "--her", &v)) != 0) {
            rc = m < 0 ? EXIT_USAGE : parse_her(C, v, &o->her);
            o->has_her = true;
        } else if ((m = flag_value(C, argc, argv, &i, "--relabel", &v)) != 0) {
            rc = m < 0 ? EXIT_USAGE : parse_relabel(C, v, &o->her);
            o->has_relabel = true;
        } else if ((m = flag_value(C, argc, argv, &i, "--hidden", &v)) != 0) {
            rc = m < 0 ? EXIT_USAGE : parse_hidden(C, v, o->hidden, &o->n_hidden);
            o->has_hidden = true;
        } else if ((m = flag_value(C, argc, argv, &i, "--batch", &v)) != 0) {
            rc = m < 0 ? EXIT_USAGE : parse_u32(C, "--batch", v, 1, 65536, &o->batch);
            o->has_batch = true;
        } else if ((m = flag_value(C, argc, argv, &i, "--lr", &v)) != 0) {
            rc = m < 0 ? EXIT_USAGE : parse_real(C, "--lr", v, 0.0, 1.0, &o->actor_lr);
            o->critic_lr = o->actor_lr;
            o->has_actor_lr = o->has_critic_lr = true;
        } else if ((m = flag_value(C, argc, argv, &i, "--reward-scale", &v)) != 0) {
            rc = m < 0 ? EXIT_USAGE
                       : parse_real(C, "--reward-scale", v, 1e-6, 1e6, &o->reward_scale);
            o->has_reward_scale = true;
        } else if ((m = flag_value(C, argc, argv, &i, "--actor-lr", &v)) != 0) {
            rc = m < 0 ? EXIT_USAGE : parse_real(C, "--actor-lr", v, 0.0, 1.0, &o->actor_lr);
            o->has_actor_lr = true;
        } else if ((m = flag_value(C, argc, argv, &i, "--critic-lr", &v)) != 0) {
            rc = m < 0 ? EXIT_USAGE : parse_real(C, "--critic-lr", v, 0.0, 1.0, &o->critic_lr);
            o->has_critic_lr = true;
        } else if ((m = flag_value(C, argc, argv, &i, "--learning-starts", &v)) != 0) {
            rc = m < 0 ? EXIT_USAGE
                       : parse_u64(C, "--learning-starts", v, 0, MAX_STEPS, &o->learning_starts);
            o->has_learning_starts = true;
        } else if ((m = flag_value(C, argc, argv, &i, "--buffer", &v)) != 0) {
            rc = m < 0 ? EXIT_USAGE : parse_u64(C, "--buffer", v, 1, MAX_STEPS, &o->buffer);
            o->has_buffer = true;
        } else if ((m = flag_value(C, argc, argv, &i, "--envs", &v)) != 0) {
            rc = m < 0 ? EXIT_USAGE : parse_u32(C, "--envs", v, 1, 256, &o->envs);
            o->has_envs = true;
        } else if ((m = flag_value(C, argc, argv, &i, "--threads", &v)) != 0) {
            rc = m < 0 ? EXIT_USAGE : parse_u32(C, "--threads", v, 1, 64, &o->threads);
            o->has_threads = true;
        } else if ((m = flag_value(C, argc, argv, &i, "--update-threads", &v)) != 0) {
            rc = m < 0 ? EXIT_USAGE
                       : parse_u32(C, "--update-threads", v, 1, 2, &o->update_threads);
        } else if ((m = flag_value(C, argc, argv, &i, "--log-every", &v)) != 0) {
            rc = m < 0 ? EXIT_USAGE : parse_u64(C, "--log-every", v, 1, MAX_STEPS, &o->log_every);
        } else if (a[0] == '-' && a[1] != '\0') {
            rc = usage_error(C, "unknown option '%s'", a);
        } else if (n_pos < 2) {
            pos[n_pos++] = a;
        } else {
            rc = usage_error(C, "unexpected argument '%s'", a);
        }
        if (rc != 0)
            return rc;
    }
    char tasks[384];
    if (n_pos == 0)
        return usage_error(C, "missing <algo> (ddpg, td3, sac, sac-v1 or sql) and <task> (%s)",
                           task_list_ex(tasks, sizeof tasks, true));
    o->algo_name = pos[0];
    if (strcmp(pos[0], "ddpg") == 0)
        o->algo = CONTRL_ALGO_DDPG;
    else if (strcmp(pos[0], "td3") == 0)
        o->algo = CONTRL_ALGO_TD3;
    else if (strcmp(pos[0], "sac") == 0)
        o->algo = CONTRL_ALGO_SAC;
    else if (strcmp(pos[0], "sac-v1") == 0) {
        o->algo = CONTRL_ALGO_SAC;
        o->value_net = true;
    } else if (strcmp(pos[0], "sql") == 0)
        o->algo = CONTRL_ALGO_SQL;
    else
        return usage_error(C, "unknown algorithm '%s' (known: ddpg, td3, sac, sac-v1, sql)",
                           pos[0]);
    if (o->has_reward_scale && o->algo != CONTRL_ALGO_SQL)
        return usage_error(C, "--reward-scale applies to sql only");
    if (n_pos < 2)
        return usage_error(C, "missing <task> (%s)", task_list_ex(tasks, sizeof tasks, true));
    o->task = pos[1];
    if (!known_task(o->task)) {
        contrl_status st = probe_goal_task(o->task);
        if (st == CONTRL_ERR_INVALID_ARG)
            return unknown_task_error(C, o->task, st, true);
        if (st != CONTRL_OK)
            return library_error("cannot create the task", st);
        o->goal = true;
    }
    if (o->goal && (o->has_envs || o->has_threads))
        return usage_error(C, "--envs and --threads apply only to plain tasks, not the goal task "
                              "'%s'", o->task);
    if (o->overlap_env && (o->goal || o->envs > 1))
        return usage_error(C, "--overlap-env applies only to one env of a plain task (not %s)",
                           o->goal ? "a goal task" : "--envs above 1");
    if (!o->goal && (o->has_her || o->has_relabel))
        return usage_error(C, "%s applies only to goal tasks (%s), not '%s'",
                           o->has_her ? "--her" : "--relabel", goal_task_list(tasks, sizeof tasks),
                           o->task);
    if (o->goal && o->has_eval_episodes && o->eval_episodes != HER_EVAL_EPISODES)
        return usage_error(C, "--eval-episodes: evaluations during HER training always run %u "
                              "episodes (contrl_her_learn has no setting for it)",
                           HER_EVAL_EPISODES);
    return 0;
}

/* The task instances and the learner of a run: a plain agent on a
 * contrl_env task, a HER learner on a goal task. */
typedef struct learner {
    contrl_env env, eval_env;
    contrl_vec_env *vec; /* --envs N > 1: N more instances, stepped together */
    contrl_goal_env goal_env, goal_eval_env;
    contrl_agent *agent;
    contrl_her *her;
} learner;

/* Two instances of the task: one to train on, a separate one to evaluate. */
static contrl_status make_tasks(const train_opts *o, learner *l)
{
    contrl_status st;
    if (o->goal) {
        if ((st = goal_env_make(o->task, &l->goal_env)) != CONTRL_OK)
            return st;
        return goal_env_make(o->task, &l->goal_eval_env);
    }
    if ((st = env_make(o->task, &l->env)) != CONTRL_OK)
        return st;
    if ((st = env_make(o->task, &l->eval_env)) != CONTRL_OK)
        return st;
    if (o->envs <= 1)
        return CONTRL_OK;
    contrl_env *envs = calloc(o->envs, sizeof *envs);
    if (envs == NULL)
        return contrl_set_error(CONTRL_ERR_NOMEM, "out of memory");
    for (uint32_t i = 0; i < o->envs && st == CONTRL_OK; i++)
        st = env_make(o->task, &envs[i]);
    if (st == CONTRL_OK) {
        contrl_vec_env_config vc = contrl_vec_env_config_default();
        vc.threads = o->threads > 0 ? o->threads : 1;
        st = contrl_vec_env_create(envs, o->envs, &vc, &l->vec);
    }
    if (st != CONTRL_OK) /* on success the vec env owns them and zeroed these */
        for (uint32_t i = 0; i < o->envs; i++)
            contrl_env_close(&envs[i]);
    free(envs);
    return st;
}

/* The agent, or on a goal task the HER learner around it, for the task's
 * sizes (written into cfg). */
static contrl_status create_learner_only(const train_opts *o, contrl_agent_config *cfg,
                                         learner *l);

/* The learner, then its update threads (--update-threads). */
static contrl_status create_learner(const train_opts *o, contrl_agent_config *cfg, learner *l)
{
    contrl_status st = create_learner_only(o, cfg, l);
    if (st != CONTRL_OK || o->update_threads <= 1)
        return st;
    return contrl_agent_set_threads(o->goal ? contrl_her_agent(l->her) : l->agent,
                                    o->update_threads);
}

static contrl_status create_learner_only(const train_opts *o, contrl_agent_config *cfg,
                                         learner *l)
{
    contrl_sac_config sac = contrl_sac_config_default();
    sac.value_net = o->value_net;
    /* SQL's temperature is 1 / reward_scale; 30 suits Pendulum's -16..0
     * rewards (tests/agents), the authors tuned it per task. */
    contrl_sql_config sql = contrl_sql_config_default();
    sql.reward_scale = o->has_reward_scale ? (float)o->reward_scale
                       : strcmp(o->task, "pendulum") == 0 ? 30.0f
                                                          : 1.0f;
    const void *algo_cfg = o->algo == CONTRL_ALGO_SAC   ? (const void *)&sac
                           : o->algo == CONTRL_ALGO_SQL ? (const void *)&sql
                                                        : NULL;
    if (o->goal) {
        cfg->obs_dim = l->goal_env.obs_dim;
        cfg->action_dim = l->goal_env.action_dim;
        cfg->action_low = l->goal_env.action_low;
        cfg->action_high = l->goal_env.action_high;
        return contrl_her_create(o->algo, cfg, algo_cfg, &o->her, &l->goal_env, &l->her);
    }
    cfg->obs_dim = l->env.obs_dim;
    cfg->action_dim = l->env.action_dim;
    cfg->action_low = l->env.action_low;
    cfg->action_high = l->env.action_high;
    if (o->algo == CONTRL_ALGO_DDPG)
        return contrl_ddpg_create(cfg, NULL, &l->agent);
    if (o->algo == CONTRL_ALGO_TD3)
        return contrl_td3_create(cfg, NULL, &l->agent);
    if (o->algo == CONTRL_ALGO_SQL)
        return contrl_sql_create(cfg, &sql, &l->agent);
    return contrl_sac_create(cfg, &sac, &l->agent);
}

static void learner_free(learner *l)
{
    contrl_her_destroy(l->her);
    contrl_agent_destroy(l->agent);
    contrl_vec_env_destroy(l->vec);
    contrl_goal_env_close(&l->goal_eval_env);
    contrl_goal_env_close(&l->goal_env);
    contrl_env_close(&l->eval_env);
    contrl_env_close(&l->env);
}

static void print_hidden(FILE *f, const contrl_agent_config *cfg)
{
    for (uint32_t i = 0; i < cfg->n_hidden; i++)
        fprintf(f, "%s%u", i ? "," : "", cfg->hidden[i]);
}

static int cmd_train(int argc, char **argv)
{
    train_opts o;
    memset(&o, 0, sizeof o);
    o.eval_every = 5000;
    o.eval_episodes = 10;
    o.log_every = 1000;
    o.her = contrl_her_config_default();
    bool help = false;
    int rc = parse_train(argc, argv, &o, &help);
    if (rc != 0)
        return rc;
    if (help) {
        print_train_help();
        return 0;
    }

    char *p_progress = NULL, *p_episodes = NULL, *p_evals = NULL, *p_curve = NULL,
         *p_ckpt = NULL;
    learner l;
    memset(&l, 0, sizeof l);
    run r;
    memset(&r, 0, sizeof r);
    contrl_status st;
    rc = EXIT_FAILURE;
    if ((st = make_tasks(&o, &l)) != CONTRL_OK) {
        library_error("cannot create the task", st);
        goto done;
    }

    /* settings: algorithm defaults, then the task's, then the flags */
    contrl_agent_config cfg = contrl_agent_config_default(o.algo);
    uint64_t default_steps = o.goal ? goal_task_defaults(o.task, &cfg)
                                    : task_defaults(o.task, &cfg);
    if (!o.has_steps)
        o.steps = default_steps;
    if (o.goal && !o.has_eval_every)
        o.eval_every = 1000; /* 10 episodes without updates: cheap, and a curve worth drawing */
    if (o.has_learning_starts)
        cfg.learning_starts = o.learning_starts;
    if (o.has_batch)
        cfg.batch_size = o.batch;
    if (o.has_actor_lr)
        cfg.actor_lr = (float)o.actor_lr;
    if (o.has_critic_lr)
        cfg.critic_lr = (float)o.critic_lr;
    if (o.has_hidden) {
        cfg.n_hidden = o.n_hidden;
        memcpy(cfg.hidden, o.hidden, sizeof cfg.hidden);
    }
    /* a buffer larger than the run never fills: same learning, less memory.
     * A HER run stores k relabelled copies of every transition and ends
     * with a whole episode, possibly past --steps. */
    if (o.has_buffer) {
        cfg.buffer_capacity = o.buffer;
    } else {
        uint64_t need = o.goal ? (o.steps + l.goal_env.max_episode_steps) * (o.her.k + 1ull)
                               : o.steps;
        if (need < cfg.buffer_capacity)
            cfg.buffer_capacity = need > cfg.batch_size ? need : cfg.batch_size;
    }
    cfg.seed = o.seed;
    if ((st = create_learner(&o, &cfg, &l)) != CONTRL_OK) {
        library_error("cannot create the agent", st);
        goto done;
    }

    char default_out[512];
    if (o.out == NULL) {
        snprintf(default_out, sizeof default_out, "runs/%s-%s-%llu", o.algo_name, o.task,
                 (unsigned long long)o.seed);
        o.out = default_out;
    }
    p_progress = path_join(o.out, "progress.csv");
    p_episodes = path_join(o.out, "episodes.csv");
    p_evals = path_join(o.out, "evals.csv");
    p_curve = path_join(o.out, "curve.svg");
    p_ckpt = path_join(o.out, "agent.safetensors");
    if (!p_progress || !p_episodes || !p_evals || !p_curve || !p_ckpt) {
        fprintf(stderr, "contrl: out of memory\n");
        goto done;
    }
    if (make_dirs(o.out) != 0) {
        file_error("cannot create the output directory", o.out);
        goto done;
    }
    r.o = &o;
    r.goal = o.goal;
    r.is_sac = o.algo == CONTRL_ALGO_SAC;
    r.show = !o.quiet;
    r.tty = isatty(STDERR_FILENO) != 0;
    r.drawn_at = -1.0;
    if ((r.progress_csv = fopen(p_progress, "w")) == NULL) {
        file_error("cannot create", p_progress);
        goto done;
    }
    if ((r.episodes_csv = fopen(p_episodes, "w")) == NULL) {
        file_error("cannot create", p_episodes);
        goto done;
    }
    if ((r.evals_csv = fopen(p_evals, "w")) == NULL) {
        file_error("cannot create", p_evals);
        goto done;
    }
    fprintf(r.progress_csv, "step,episodes,mean_return,eval_mean,eval_std,critic_loss,actor_loss,"
                            "mean_q,alpha,steps_per_s%s\n", o.goal ? ",success_rate" : "");
    fputs("episode,step,return\n", r.episodes_csv);
    fputs(o.goal ? "step,success_rate\n" : "step,eval_mean,eval_std\n", r.evals_csv);

    if (!o.quiet) {
        contrl_blas_info bi;
        memset(&bi, 0, sizeof bi);
        bi.size = sizeof bi;
        bool kernels = contrl_blas_query(CONTRL_KERNELS_AUTO, &bi) == CONTRL_OK;
        char title[96];
        fprintf(stderr, "contrl: training %s on %s for %llu steps, seed %llu -> %s\n",
                run_title(&o, title, sizeof title), o.task, (unsigned long long)o.steps,
                (unsigned long long)o.seed, o.out);
        fprintf(stderr, "contrl: hidden ");
        print_hidden(stderr, &cfg);
        fprintf(stderr, ", batch %u, lr %g/%g (actor/critic), ", cfg.batch_size,
                (double)cfg.actor_lr, (double)cfg.critic_lr);
        if (o.goal)
            fprintf(stderr, "gamma %g, relabel on %s, ", (double)cfg.gamma,
                    o.her.relabel == CONTRL_HER_RELABEL_ON_SAMPLE ? "sample" : "store");
        fprintf(stderr, "learning starts %llu, buffer %llu, kernels %s\n",
                (unsigned long long)cfg.learning_starts, (unsigned long long)cfg.buffer_capacity,
                kernels ? bi.name : "?");
    }
    if (cfg.learning_starts >= o.steps)
        fprintf(stderr, "contrl: warning: learning starts at step %llu, after the last step "
                        "(%llu): the agent will only act randomly\n",
                (unsigned long long)cfg.learning_starts, (unsigned long long)o.steps);

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigint;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESETHAND; /* a second Ctrl-C kills at once */
    struct sigaction old_sa;
    /* a shell starts background jobs of scripts with SIGINT ignored, so
     * that Ctrl-C spares them: keep it that way */
    if (sigaction(SIGINT, NULL, &old_sa) == 0 && old_sa.sa_handler != SIG_IGN)
        sigaction(SIGINT, &sa, NULL);

    contrl_status learn_st;
    if (o.goal) {
        clock_gettime(CLOCK_MONOTONIC, &r.start);
        learn_st = contrl_her_learn(l.her, &l.goal_env, o.steps,
                                    o.eval_every > 0 ? &l.goal_eval_env : NULL, o.eval_every,
                                    on_her_progress, &r);
    } else {
        contrl_learn_config lc = contrl_learn_config_default();
        lc.eval_env = o.eval_every > 0 ? &l.eval_env : NULL;
        lc.eval_interval = o.eval_every > 0 ? o.eval_every : lc.eval_interval;
        lc.eval_episodes = o.eval_episodes;
        lc.progress_interval = 1;
        lc.callback = on_progress;
        lc.user = &r;
        lc.overlap_env = o.overlap_env ? 1 : 0;
        learn_st = l.vec != NULL ? contrl_agent_learn_vec(l.agent, l.vec, o.steps, &lc)
                                 : contrl_agent_learn_ex(l.agent, &l.env, o.steps, &lc);
    }
    end_line(&r);
    bool interrupted = g_interrupted != 0;
    rc = 0;
    if (learn_st != CONTRL_OK)
        rc = library_error("training failed", learn_st);
    else if (r.out_of_memory) {
        fprintf(stderr, "contrl: out of memory recording the learning curve\n");
        rc = EXIT_FAILURE;
    }
    if (interrupted)
        fprintf(stderr, "contrl: interrupted at step %llu of %llu; writing the results\n",
                (unsigned long long)r.last.step, (unsigned long long)o.steps);

    /* the final evaluation, on the separate eval env with fixed seeds; on
     * goal tasks final_mean is the success rate */
    double final_mean = NAN, final_std = NAN;
    if (rc == 0 && o.goal) {
        double mean_return;
        st = contrl_her_evaluate(l.her, &l.goal_eval_env, FINAL_EVAL_EPISODES_GOAL,
                                 FINAL_EVAL_SEED, &final_mean, &mean_return);
        if (st != CONTRL_OK) {
            rc = library_error("final evaluation failed", st);
        } else {
            printf("final evaluation over %u episodes: success %.1f%%, mean return %.1f\n",
                   FINAL_EVAL_EPISODES_GOAL, 100.0 * final_mean, mean_return);
            fflush(stdout);
        }
    } else if (rc == 0) {
        st = contrl_agent_evaluate(l.agent, &l.eval_env, FINAL_EVAL_EPISODES, FINAL_EVAL_SEED,
                                   &final_mean, &final_std);
        if (st != CONTRL_OK) {
            rc = library_error("final evaluation failed", st);
        } else {
            printf("final evaluation over %u episodes: %.2f ± %.2f\n", FINAL_EVAL_EPISODES,
                   final_mean, final_std);
            fflush(stdout);
        }
    }
    bool saved = false;
    if (rc == 0 && o.goal) {
        st = contrl_her_save(l.her, p_ckpt, 0);
        saved = st == CONTRL_OK;
        if (st != CONTRL_OK)
            rc = library_error("cannot write the checkpoint", st);
    } else if (rc == 0) {
        st = contrl_agent_save(l.agent, p_ckpt, 0);
        saved = st == CONTRL_OK;
        if (st == CONTRL_ERR_UNSUPPORTED) /* save not in this build yet: a warning only */
            fprintf(stderr, "contrl: warning: checkpoint %s not written: %s: %s\n", p_ckpt,
                    contrl_status_string(st), contrl_last_error());
        else if (st != CONTRL_OK)
            rc = library_error("cannot write the checkpoint", st);
    }
    if (write_curve(p_curve, &o, &r, (double)r.last.step, final_mean, final_std) != 0)
        rc = file_error("cannot write", p_curve);
    FILE **files[] = {&r.progress_csv, &r.episodes_csv, &r.evals_csv};
    const char *names[] = {p_progress, p_episodes, p_evals};
    for (int k = 0; k < 3; k++) {
        bool bad = ferror(*files[k]) != 0;
        if (fclose(*files[k]) != 0 || bad)
            rc = file_error("cannot write", names[k]);
        *files[k] = NULL;
    }
    if (!o.quiet && rc == 0)
        fprintf(stderr, "contrl: wrote %s/{progress.csv,episodes.csv,evals.csv,curve.svg%s}\n",
                o.out, saved ? ",agent.safetensors" : "");
    if (rc == 0 && interrupted)
        rc = EXIT_INTERRUPTED;

done:
    if (r.progress_csv)
        fclose(r.progress_csv);
    if (r.episodes_csv)
        fclose(r.episodes_csv);
    if (r.evals_csv)
        fclose(r.evals_csv);
    columns_free(&r.episodes);
    columns_free(&r.evals);
    learner_free(&l);
    free(p_progress);
    free(p_episodes);
    free(p_evals);
    free(p_curve);
    free(p_ckpt);
    return rc;
}

/* ---- main --------------------------------------------------------------------- */

int main(int argc, char **argv)
{
    if (argc < 2)
        return usage_error(NULL, "missing command (train, eval or info)");
    const char *cmd = argv[1];
    if (is_help(cmd)) {
        print_usage(stdout);
        return 0;
    }
    if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "-V") == 0)
        return cmd_version();
    if (strcmp(cmd, "train") == 0)
        return cmd_train(argc - 2, argv + 2);
    if (strcmp(cmd, "eval") == 0)
        return cmd_eval(argc - 2, argv + 2);
    if (strcmp(cmd, "info") == 0)
        return cmd_info(argc - 2, argv + 2);
    if (strcmp(cmd, "help") == 0) {
        print_usage(stdout);
        return 0;
    }
    if (cmd[0] == '-')
        return usage_error(NULL, "unknown option '%s'", cmd);
    return usage_error(NULL, "unknown command '%s' (train, eval, info)", cmd);
}
