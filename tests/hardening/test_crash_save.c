/* tests/hardening/test_crash_save.c - a process killed with SIGKILL at a
 * random moment while it trains and saves checkpoints in a loop, 100 times:
 * the checkpoint on disk always loads, and it is exactly what was saved.
 *
 * Each child resumes from the checkpoint the previous one left (so every
 * round also proves the file loads and training resumes), then loops:
 * train 8 environment steps (with gradient steps), append "P <steps>
 * <hash>" to a log, save, append "S <steps> <hash>". hash is FNV-1a over
 * every parameter of every net, the optimiser states, the counters and
 * the RNG state - bit-exact state, not a tolerance. After the kill the
 * parent loads the checkpoint and requires its hash to be the last "S"
 * record's, or a "P" record after it (killed after the rename, before
 * logging "S"); never older, never torn. The files live in /dev/shm when it
 * exists, so fsync costs nothing (a SIGKILL loses no page-cache data: the
 * fsyncs matter for power loss, which this test does not simulate). */
#include <check.h>
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "agent_internal.h"
#include "contrl/contrl.h"

enum { ROUNDS = 100 };

static char dir[96], ckpt[160], log_path[160];

static void setup(void)
{
    struct stat sb;
    const char *base = stat("/dev/shm", &sb) == 0 && S_ISDIR(sb.st_mode) ? "/dev/shm" : "/tmp";
    snprintf(dir, sizeof dir, "%s/contrl-crash-XXXXXX", base);
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(ckpt, sizeof ckpt, "%s/agent.safetensors", dir);
    snprintf(log_path, sizeof log_path, "%s/log", dir);
}

static void teardown(void)
{
    char cmd[160];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
}

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

/* Everything a resumed run depends on. */
static uint64_t agent_hash(const contrl_agent *a)
{
    uint64_t h = 0xcbf29ce484222325u;
    h = hash_net(h, a->actor, a->actor_opt);
    h = hash_net(h, a->actor_target, NULL);
    for (uint32_t k = 0; k < a->n_critics; k++) {
        h = hash_net(h, a->q[k], a->q_opt[k]);
        h = hash_net(h, a->q_target[k], NULL);
    }
    h = fnv(h, &a->steps, sizeof a->steps);
    h = fnv(h, &a->updates, sizeof a->updates);
    h = fnv(h, a->rng.s, sizeof a->rng.s);
    contrl_rng brng;
    contrl_buffer_get_rng(a->buffer, &brng);
    h = fnv(h, brng.s, sizeof brng.s);
    uint64_t size = contrl_buffer_size(a->buffer);
    return fnv(h, &size, sizeof size);
}

static contrl_agent *new_agent(void)
{
    contrl_agent_config c = contrl_agent_config_default(CONTRL_ALGO_TD3);
    c.obs_dim = 3;
    c.action_dim = 1;
    static const float lo[1] = {-2}, hi[1] = {2};
    c.action_low = lo;
    c.action_high = hi;
    c.hidden[0] = c.hidden[1] = 16;
    c.batch_size = 16;
    c.buffer_capacity = 200;
    c.learning_starts = 16;
    c.seed = 11;
    contrl_agent *a = NULL;
    if (contrl_td3_create(&c, NULL, &a) != CONTRL_OK)
        return NULL;
    return a;
}

static void log_record(int fd, char kind, const contrl_agent *a)
{
    char line[64];
    int n = snprintf(line, sizeof line, "%c %llu %016llx\n", kind,
                     (unsigned long long)a->steps, (unsigned long long)agent_hash(a));
    if (write(fd, line, (size_t)n) != n)
        _exit(3);
}

/* The child: never returns. Exit codes: 2 the checkpoint did not load, 3 a
 * write failed, 4 training or saving failed. */
static void child(int ready_fd)
{
    contrl_agent *a = NULL;
    if (access(ckpt, F_OK) == 0) {
        if (contrl_agent_load(ckpt, NULL, &a) != CONTRL_OK)
            _exit(2);
    } else if ((a = new_agent()) == NULL) {
        _exit(4);
    }
    contrl_env env;
    if (contrl_env_make("pendulum", NULL, &env) != CONTRL_OK)
        _exit(4);
    int fd = open(log_path, O_WRONLY | O_APPEND | O_CREAT, 0644);
    if (fd < 0)
        _exit(3);
    char one = 1;
    if (write(ready_fd, &one, 1) != 1)
        _exit(3);
    close(ready_fd);
    for (;;) {
        if (contrl_agent_learn(a, &env, 8, NULL, NULL) != CONTRL_OK)
            _exit(4);
        log_record(fd, 'P', a);
        if (contrl_agent_save(a, ckpt, CONTRL_SAVE_BUFFER) != CONTRL_OK)
            _exit(4);
        log_record(fd, 'S', a);
    }
}

/* Time of one train (8 steps) + save cycle, measured on a scratch file. */
static long cycle_ns(void)
{
    contrl_agent *a = new_agent();
    ck_assert_ptr_nonnull(a);
    contrl_env env;
    ck_assert_int_eq(contrl_env_make("pendulum", NULL, &env), CONTRL_OK);
    char scratch[200];
    snprintf(scratch, sizeof scratch, "%s/calibrate.safetensors", dir);
    ck_assert_int_eq(contrl_agent_learn(a, &env, 64, NULL, NULL), CONTRL_OK);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int i = 0; i < 8; i++) {
        ck_assert_int_eq(contrl_agent_learn(a, &env, 8, NULL, NULL), CONTRL_OK);
        ck_assert_int_eq(contrl_agent_save(a, scratch, CONTRL_SAVE_BUFFER), CONTRL_OK);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    remove(scratch);
    contrl_env_close(&env);
    contrl_agent_destroy(a);
    return ((t1.tv_sec - t0.tv_sec) * 1000000000L + (t1.tv_nsec - t0.tv_nsec)) / 8;
}

typedef struct record {
    char kind;
    unsigned long long steps, hash;
} record;

static int read_log(record *r, int cap)
{
    FILE *f = fopen(log_path, "r");
    if (f == NULL)
        return 0;
    int n = 0;
    while (n < cap && fscanf(f, " %c %llu %llx", &r[n].kind, &r[n].steps, &r[n].hash) == 3)
        n++;
    fclose(f);
    return n;
}

START_TEST(sigkilled_saver_always_leaves_the_last_complete_checkpoint)
{
    enum { MAX_RECORDS = 1 << 16 };
    record *rec = malloc(MAX_RECORDS * sizeof *rec);
    ck_assert_ptr_nonnull(rec);
    unsigned seed = 12345;
    /* Kill within about 4 train-and-save cycles of the child's start, as
     * long as a cycle takes on this build and machine (sanitizers, load). */
    long window_ns = 4 * cycle_ns();
    if (window_ns < 2000000L)
        window_ns = 2000000L;
    int mid_save = 0, newer = 0, saves_total = 0;
    for (int round = 0; round < ROUNDS; round++) {
        int pipefd[2];
        ck_assert_int_eq(pipe(pipefd), 0);
        pid_t pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
            close(pipefd[0]);
            child(pipefd[1]);
        }
        close(pipefd[1]);
        char ready;
        ck_assert_int_eq(read(pipefd[0], &ready, 1), 1); /* the child loaded and is training */
        close(pipefd[0]);
        seed = seed * 1103515245u + 12345u;
        long ns = (long)((seed >> 8) % (unsigned long)window_ns);
        struct timespec wait = {ns / 1000000000L, ns % 1000000000L};
        nanosleep(&wait, NULL);
        kill(pid, SIGKILL);
        int status;
        ck_assert_int_eq(waitpid(pid, &status, 0), pid);
        ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
                      "round %d: the child exited by itself (status %d)", round, status);

        int n = read_log(rec, MAX_RECORDS);
        int last_s = -1;
        for (int i = 0; i < n; i++)
            if (rec[i].kind == 'S')
                last_s = i;
        if (access(ckpt, F_OK) != 0) {
            ck_assert_msg(last_s < 0, "round %d: saved, but no checkpoint", round);
            continue;
        }
        contrl_agent *a = NULL;
        contrl_status st = contrl_agent_load(ckpt, NULL, &a);
        ck_assert_msg(st == CONTRL_OK, "round %d: checkpoint does not load: %s", round,
                      contrl_last_error());
        unsigned long long h = agent_hash(a), steps = a->steps;
        contrl_agent_destroy(a);
        bool ok = false;
        if (last_s >= 0 && rec[last_s].hash == h && rec[last_s].steps == steps)
            ok = true;
        /* Killed between the rename and the "S" record: a "P" after the last
         * "S" (not always the last "P": the next child resumed from that
         * file, logged its own "P" and was killed before its rename). */
        for (int i = last_s + 1; !ok && i < n; i++)
            if (rec[i].kind == 'P' && rec[i].hash == h && rec[i].steps == steps) {
                ok = true;
                newer++;
            }
        ck_assert_msg(ok, "round %d: checkpoint (steps %llu, hash %016llx) is not the last one "
                          "saved", round, steps, h);
        if (n > 0 && rec[n - 1].kind == 'P')
            mid_save++;
        saves_total = 0;
        for (int i = 0; i < n; i++)
            saves_total += rec[i].kind == 'S';
    }
    /* The kills must have hit saves in progress, or the test proved little. */
    ck_assert_int_ge(mid_save, 10);
    printf("crash_save: %d kills within %.1f ms of each start, %d during a save (%d after its "
           "rename), %d saves completed\n",
           ROUNDS, 1e-6 * (double)window_ns, mid_save, newer, saves_total);
    free(rec);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("crash_save");
    TCase *tc = tcase_create("crash_save");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, sigkilled_saver_always_leaves_the_last_complete_checkpoint);
    suite_add_tcase(s, tc);
    SRunner *r = srunner_create(s);
    srunner_run_all(r, CK_NORMAL);
    int failed = srunner_ntests_failed(r);
    srunner_free(r);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
