/* tests/hardening/test_alloc_fail.c - every create, make, load and save
 * under an allocator that fails its n-th allocation, for every n until the
 * call no longer allocates that many times: each failure is a clean NOMEM
 * with a message, leaves no handle, and frees every block it took (counted
 * by the allocator; LeakSanitizer checks the C library's side in the ASan
 * build). A save that fails leaves the previous file as it was and no
 * temporary file behind. */
#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../support/counting_alloc.h"
#include "contrl/contrl.h"
#include "contrl/vec_env.h"

static char dir[64];

static void setup(void)
{
    snprintf(dir, sizeof dir, "/tmp/contrl-allocfail-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void teardown(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
}

static int files_in_dir(void)
{
    DIR *d = opendir(dir);
    ck_assert_ptr_nonnull(d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        n += e->d_name[0] != '.' || (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0);
    closedir(d);
    return n;
}

/* ---- the cases: create something through allocator `a` into *out ------- */

typedef struct fixture {
    contrl_goal_env goal_env; /* bitflip-3, for HER */
    char agent_path[5][128];  /* saved checkpoints, one per agent kind */
    char her_path[128];
} fixture;
static fixture fx;

typedef contrl_status (*make_fn)(const contrl_allocator *a, int variant, void **out);
typedef void (*free_fn)(void *obj);

static contrl_status make_net(const contrl_allocator *a, int variant, void **out)
{
    (void)variant;
    contrl_net_config c = contrl_net_config_default();
    c.in = 3;
    c.out = 2;
    c.hidden[0] = c.hidden[1] = 8;
    c.max_batch = 4;
    c.allocator = *a;
    return contrl_net_create(&c, (contrl_net **)out);
}

static contrl_status make_adam(const contrl_allocator *a, int variant, void **out)
{
    (void)variant;
    contrl_adam_config c = contrl_adam_config_default();
    c.allocator = *a;
    return contrl_adam_create(&c, 100, (contrl_adam **)out);
}

static contrl_status make_buffer(const contrl_allocator *a, int variant, void **out)
{
    (void)variant;
    contrl_buffer_config c = contrl_buffer_config_default();
    c.obs_dim = 3;
    c.action_dim = 1;
    c.capacity = 50;
    c.allocator = *a;
    return contrl_buffer_create(&c, (contrl_buffer **)out);
}

static contrl_status make_normalizer(const contrl_allocator *a, int variant, void **out)
{
    (void)variant;
    contrl_normalizer_config c = contrl_normalizer_config_default();
    c.dim = 5;
    c.allocator = *a;
    return contrl_normalizer_create(&c, (contrl_normalizer **)out);
}

/* variant: 0 DDPG, 1 TD3, 2 SAC, 3 SAC v1, 4 SQL */
static contrl_status make_agent_cfg(const contrl_allocator *a, int variant, void **out)
{
    static const contrl_algo algos[] = {CONTRL_ALGO_DDPG, CONTRL_ALGO_TD3, CONTRL_ALGO_SAC,
                                        CONTRL_ALGO_SAC, CONTRL_ALGO_SQL};
    contrl_agent_config c = contrl_agent_config_default(algos[variant]);
    c.obs_dim = 3;
    c.action_dim = 1;
    c.n_hidden = 1;
    c.hidden[0] = 8;
    c.batch_size = 4;
    c.buffer_capacity = 32;
    c.learning_starts = 0;
    c.seed = 5;
    c.allocator = *a;
    contrl_agent **agent = (contrl_agent **)out;
    switch (variant) {
    case 0:
        return contrl_ddpg_create(&c, NULL, agent);
    case 1:
        return contrl_td3_create(&c, NULL, agent);
    case 2:
    case 3: {
        contrl_sac_config s = contrl_sac_config_default();
        s.value_net = variant == 3;
        return contrl_sac_create(&c, &s, agent);
    }
    default: {
        contrl_sql_config q = contrl_sql_config_default();
        q.kernel_particles = 4;
        q.value_particles = 4;
        return contrl_sql_create(&c, &q, agent);
    }
    }
}

/* variant: 0 TD3 relabel on store, 1 SAC on sample, 2 DDPG on store */
static contrl_status make_her(const contrl_allocator *a, int variant, void **out)
{
    static const contrl_algo algos[] = {CONTRL_ALGO_TD3, CONTRL_ALGO_SAC, CONTRL_ALGO_DDPG};
    const contrl_goal_env *env = &fx.goal_env;
    contrl_agent_config c = contrl_agent_config_default(algos[variant]);
    c.obs_dim = env->obs_dim;
    c.action_dim = env->action_dim;
    c.action_low = env->action_low;
    c.action_high = env->action_high;
    c.n_hidden = 1;
    c.hidden[0] = 8;
    c.batch_size = 4;
    c.buffer_capacity = 64;
    c.learning_starts = 0;
    c.allocator = *a;
    contrl_her_config h = contrl_her_config_default();
    h.k = 2;
    h.relabel = variant == 1 ? CONTRL_HER_RELABEL_ON_SAMPLE : CONTRL_HER_RELABEL_ON_STORE;
    return contrl_her_create(algos[variant], &c, NULL, &h, env, (contrl_her **)out);
}

static const char *const env_names[] = {"pendulum", "mountaincar", "multigoal"};
static const char *const goal_env_names[] = {"pointreach-2", "bitflip-3"};

typedef struct env_box {
    contrl_env env;
    contrl_goal_env goal;
} env_box;

/* The env struct lives in a block of the C library's: the case owns it. */
static contrl_status make_env(const contrl_allocator *a, int variant, void **out)
{
    env_box *b = calloc(1, sizeof *b);
    ck_assert_ptr_nonnull(b);
    contrl_status st = contrl_env_make(env_names[variant], a, &b->env);
    if (st != CONTRL_OK) {
        ck_assert_uint_eq(b->env.size, 0); /* zeroed on failure */
        free(b);
        *out = NULL;
        return st;
    }
    *out = b;
    return st;
}

static contrl_status make_goal_env(const contrl_allocator *a, int variant, void **out)
{
    env_box *b = calloc(1, sizeof *b);
    ck_assert_ptr_nonnull(b);
    contrl_status st = contrl_goal_env_make(goal_env_names[variant], a, &b->goal);
    if (st != CONTRL_OK) {
        ck_assert_uint_eq(b->goal.size, 0);
        free(b);
        *out = NULL;
        return st;
    }
    *out = b;
    return st;
}

static void free_env(void *p)
{
    env_box *b = p;
    contrl_env_close(&b->env);
    contrl_goal_env_close(&b->goal);
    free(b);
}

static contrl_status load_agent(const contrl_allocator *a, int variant, void **out)
{
    return contrl_agent_load(fx.agent_path[variant], a, (contrl_agent **)out);
}

static contrl_status load_her(const contrl_allocator *a, int variant, void **out)
{
    (void)variant;
    return contrl_her_load(fx.her_path, &fx.goal_env, a, (contrl_her **)out);
}

/* variant: worker threads (1 or 3) for 3 pendulums. On failure the caller
 * keeps its envs (closed here); on success the vec env owns them. */
static contrl_status make_vec_env(const contrl_allocator *a, int variant, void **out)
{
    contrl_env e[3];
    for (int i = 0; i < 3; i++)
        ck_assert_int_eq(contrl_env_make("pendulum", NULL, &e[i]), CONTRL_OK);
    contrl_vec_env_config c = contrl_vec_env_config_default();
    c.threads = variant == 0 ? 1 : 3;
    c.allocator = *a;
    contrl_status st = contrl_vec_env_create(e, 3, &c, (contrl_vec_env **)out);
    if (st != CONTRL_OK)
        for (int i = 0; i < 3; i++) {
            ck_assert_uint_ne(e[i].size, 0); /* still the caller's */
            contrl_env_close(&e[i]);
        }
    return st;
}

static void free_vec_env(void *p) { contrl_vec_env_destroy(p); }
static void free_net(void *p) { contrl_net_destroy(p); }
static void free_adam(void *p) { contrl_adam_destroy(p); }
static void free_buffer(void *p) { contrl_buffer_destroy(p); }
static void free_normalizer(void *p) { contrl_normalizer_destroy(p); }
static void free_agent(void *p) { contrl_agent_destroy(p); }
static void free_her(void *p) { contrl_her_destroy(p); }

typedef struct alloc_case {
    const char *name;
    make_fn make;
    free_fn destroy;
    int variants;
} alloc_case;

static const alloc_case cases[] = {
    {"contrl_net_create", make_net, free_net, 1},
    {"contrl_adam_create", make_adam, free_adam, 1},
    {"contrl_buffer_create", make_buffer, free_buffer, 1},
    {"contrl_normalizer_create", make_normalizer, free_normalizer, 1},
    {"contrl_<algo>_create", make_agent_cfg, free_agent, 5},
    {"contrl_her_create", make_her, free_her, 3},
    {"contrl_env_make", make_env, free_env, 3},
    {"contrl_goal_env_make", make_goal_env, free_env, 2},
    {"contrl_agent_load", load_agent, free_agent, 5},
    {"contrl_her_load", load_her, free_her, 1},
    {"contrl_vec_env_create", make_vec_env, free_vec_env, 2},
};
enum { N_CASES = sizeof cases / sizeof cases[0] };

static void make_fixture(void)
{
    ck_assert_int_eq(contrl_goal_env_make("bitflip-3", NULL, &fx.goal_env), CONTRL_OK);
    contrl_allocator libc = {NULL, NULL, NULL};
    contrl_env pend;
    ck_assert_int_eq(contrl_env_make("pendulum", NULL, &pend), CONTRL_OK);
    for (int v = 0; v < 5; v++) {
        contrl_agent *agent;
        ck_assert_int_eq(make_agent_cfg(&libc, v, (void **)&agent), CONTRL_OK);
        ck_assert_int_eq(contrl_agent_learn(agent, &pend, 12, NULL, NULL), CONTRL_OK);
        snprintf(fx.agent_path[v], sizeof fx.agent_path[v], "%s/agent%d.safetensors", dir, v);
        ck_assert_int_eq(contrl_agent_save(agent, fx.agent_path[v], CONTRL_SAVE_BUFFER),
                         CONTRL_OK);
        contrl_agent_destroy(agent);
    }
    contrl_env_close(&pend);
    contrl_her *her;
    ck_assert_int_eq(make_her(&libc, 0, (void **)&her), CONTRL_OK);
    ck_assert_int_eq(contrl_her_learn(her, &fx.goal_env, 9, NULL, 0, NULL, NULL), CONTRL_OK);
    snprintf(fx.her_path, sizeof fx.her_path, "%s/her.safetensors", dir);
    ck_assert_int_eq(contrl_her_save(her, fx.her_path, CONTRL_SAVE_BUFFER), CONTRL_OK);
    contrl_her_destroy(her);
}

/* Fail allocation n = 1, 2, ... until the call succeeds without a failed
 * allocation. Returns how many allocations the successful call made. */
static long fail_every_allocation(const alloc_case *k, int variant)
{
    alloc_counter c;
    contrl_allocator a = alloc_counter_allocator(&c);
    for (long n = 1;; n++) {
        alloc_counter_reset(&c);
        c.fail_at = n;
        contrl_clear_error();
        void *obj = (void *)&c; /* must be set to NULL on failure */
        contrl_status st = k->make(&a, variant, &obj);
        char what[160];
        snprintf(what, sizeof what, "%s (variant %d), allocation %ld failing", k->name, variant,
                 n);
        if (st == CONTRL_OK) {
            ck_assert_msg(c.attempts < n, "%s: succeeded although an allocation failed", what);
            ck_assert_ptr_nonnull(obj);
            k->destroy(obj);
            alloc_counter_assert_balanced(&c, what);
            return c.allocs;
        }
        ck_assert_msg(st == CONTRL_ERR_NOMEM, "%s: status %d (%s), not NOMEM", what, (int)st,
                      contrl_last_error());
        ck_assert_msg(contrl_last_error()[0] != '\0', "%s: no message", what);
        ck_assert_msg(obj == NULL, "%s: handle not NULL", what);
        alloc_counter_assert_balanced(&c, what);
        ck_assert_msg(n < 1000, "%s: still failing", what);
    }
}

START_TEST(every_create_and_load_fails_cleanly_at_each_allocation)
{
    make_fixture();
    long total = 0;
    for (int i = 0; i < N_CASES; i++)
        for (int v = 0; v < cases[i].variants; v++) {
            long allocs = fail_every_allocation(&cases[i], v);
            ck_assert_msg(allocs >= 1, "%s allocates nothing?", cases[i].name);
            total += allocs;
        }
    printf("alloc_fail: %ld allocation points failed one by one\n", total);
    contrl_goal_env_close(&fx.goal_env);
}
END_TEST

static void slurp(const char *path, unsigned char **p, size_t *n)
{
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    fseek(f, 0, SEEK_END);
    *n = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    *p = malloc(*n ? *n : 1);
    ck_assert_uint_eq(fread(*p, 1, *n, f), *n);
    fclose(f);
}

/* A save allocates its work area through the agent's allocator: failing
 * each of those allocations gives NOMEM, keeps the old file byte for byte
 * and leaves no temporary file; the agent keeps every block it owns. */
START_TEST(every_save_fails_cleanly_at_each_allocation)
{
    make_fixture();
    for (int kind = 0; kind < 6; kind++) {
        alloc_counter c;
        contrl_allocator a = alloc_counter_allocator(&c);
        contrl_agent *agent = NULL;
        contrl_her *her = NULL;
        if (kind < 5)
            ck_assert_int_eq(make_agent_cfg(&a, kind, (void **)&agent), CONTRL_OK);
        else
            ck_assert_int_eq(make_her(&a, 0, (void **)&her), CONTRL_OK);
        const char *old = kind < 5 ? fx.agent_path[kind] : fx.her_path;
        unsigned char *before, *after;
        size_t n_before, n_after;
        slurp(old, &before, &n_before);
        int files = files_in_dir();
        int live = c.n_live;
        long failed = 0;
        for (long n = 1;; n++) {
            c.fail_at = c.attempts + n;
            long allocs = c.allocs, frees = c.frees;
            contrl_status st = kind < 5 ? contrl_agent_save(agent, old, CONTRL_SAVE_BUFFER)
                                        : contrl_her_save(her, old, CONTRL_SAVE_BUFFER);
            if (c.attempts < c.fail_at) {
                ck_assert_int_eq(st, CONTRL_OK);
                break;
            }
            failed++;
            ck_assert_msg(st == CONTRL_ERR_NOMEM, "save kind %d, allocation %ld: status %d (%s)",
                          kind, n, (int)st, contrl_last_error());
            ck_assert_str_ne(contrl_last_error(), "");
            ck_assert_int_eq(c.allocs - allocs, c.frees - frees);
            ck_assert_int_eq(c.n_live, live);
            slurp(old, &after, &n_after);
            ck_assert_uint_eq(n_after, n_before);
            ck_assert_int_eq(memcmp(after, before, n_before), 0);
            free(after);
            ck_assert_int_eq(files_in_dir(), files);
        }
        ck_assert_int_ge(failed, 2);
        free(before);
        contrl_agent_destroy(agent);
        contrl_her_destroy(her);
        alloc_counter_assert_balanced(&c, "save");
    }
    contrl_goal_env_close(&fx.goal_env);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("alloc_fail");
    TCase *tc = tcase_create("alloc_fail");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, every_create_and_load_fails_cleanly_at_each_allocation);
    tcase_add_test(tc, every_save_fails_cleanly_at_each_allocation);
    suite_add_tcase(s, tc);
    SRunner *r = srunner_create(s);
    srunner_run_all(r, CK_NORMAL);
    int failed = srunner_ntests_failed(r);
    srunner_free(r);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
