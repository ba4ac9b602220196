/* tests/test_alloc_fail_mj.c - every create of libcontrl-mujoco under a
 * contrl_allocator that fails its n-th allocation, for every n until the
 * create no longer allocates that many times: contrl_mj_env_from_xml and
 * contrl_mj_env_from_file (a declarative task, and a task with callbacks
 * and a destroy), contrl_mj_make for every built-in task and
 * contrl_mj_goal_make for every goal task. Each failure must be a clean
 * NOMEM with a readable message naming the function, *env zeroed, every
 * block the allocator handed out freed with its size, and the task's
 * destroy never called (the header: "called only by a successful env").
 * Each success must allocate nothing more while resetting and stepping, and
 * give everything back on close.
 *
 * mjModel and mjData come from MuJoCo's own allocator (docs/mujoco.md), not
 * from the contrl_allocator: whether a failed create deletes them is
 * checked by LeakSanitizer in the ASan build. (A failure of MuJoCo's own
 * allocator cannot be tested: MuJoCo 2.2.2 reports it with mju_error,
 * which ends the process; docs/reliability.md.) */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <mujoco/mujoco.h>

#include "contrl/contrl.h"
#include "contrl/mujoco.h"

/* ---- an allocator that counts, checks sizes and fails on demand ----------- */

enum { MAX_LIVE = 64 };
typedef struct counter {
    long attempts, allocs, frees;
    long fail_at; /* fail the fail_at-th attempt (1-based); 0: never */
    long bad;     /* bad align, unknown pointer, wrong size, too many blocks */
    struct {
        void *p;
        size_t size;
    } live[MAX_LIVE];
    int n_live;
} counter;

static void *counter_alloc(void *user, size_t size, size_t align)
{
    counter *c = user;
    c->attempts++;
    if (align == 0 || align > 64 || (align & (align - 1)) != 0 || c->n_live == MAX_LIVE) {
        c->bad++;
        return NULL;
    }
    if (c->attempts == c->fail_at)
        return NULL;
    void *p = aligned_alloc(align, (size + align - 1) / align * align);
    if (p == NULL)
        return NULL;
    c->live[c->n_live].p = p;
    c->live[c->n_live].size = size;
    c->n_live++;
    c->allocs++;
    return p;
}

static void counter_free(void *user, void *ptr, size_t size)
{
    counter *c = user;
    for (int i = 0; i < c->n_live; i++) {
        if (c->live[i].p == ptr) {
            if (c->live[i].size != size)
                c->bad++;
            c->live[i] = c->live[--c->n_live];
            c->frees++;
            free(ptr);
            return;
        }
    }
    c->bad++; /* not ours: leaked rather than freed wrongly */
}

/* ---- the creates ------------------------------------------------------------ */

static const char cart_xml[] =
    "<mujoco model=\"cart\">"
    "  <option timestep=\"0.01\"/>"
    "  <worldbody>"
    "    <body name=\"cart\" pos=\"0 0 1\">"
    "      <joint name=\"x\" type=\"slide\" axis=\"1 0 0\"/>"
    "      <geom type=\"box\" size=\"0.2 0.1 0.05\" mass=\"2\"/>"
    "      <body name=\"pole\">"
    "        <joint name=\"hinge\" type=\"hinge\" axis=\"0 1 0\" damping=\"0.1\"/>"
    "        <geom type=\"capsule\" fromto=\"0 0 0 0 0 0.6\" size=\"0.03\" mass=\"0.5\"/>"
    "      </body>"
    "    </body>"
    "  </worldbody>"
    "  <actuator><motor joint=\"x\" ctrllimited=\"true\" ctrlrange=\"-1 1\"/></actuator>"
    "</mujoco>";

static char cart_path[64];
static int destroy_calls;

static void observe2(void *user, const mjModel *m, const mjData *d, float *obs)
{
    (void)user;
    (void)m;
    obs[0] = (float)d->qpos[0];
    obs[1] = (float)d->qpos[1];
}

static void reward_x(void *user, const mjModel *m, const mjData *d, const float *action,
                     float *reward, bool *terminated)
{
    (void)user;
    (void)m;
    (void)action;
    *reward = (float)d->qpos[0];
    *terminated = false;
}

static void count_destroy(void *user)
{
    (void)user;
    destroy_calls++;
}

static contrl_mj_task cart_task(bool callbacks)
{
    contrl_mj_task t = contrl_mj_task_default();
    t.frame_skip = 2;
    t.max_episode_steps = 100;
    if (callbacks) {
        t.obs_dim = 2;
        t.observe = observe2;
        t.reward = reward_x;
        t.destroy = count_destroy;
    } else {
        t.obs_qpos[0] = -1;
        t.n_obs_qpos = 1;
        t.obs_qvel[0] = -1;
        t.n_obs_qvel = 1;
        t.forward_qpos = 0;
        t.forward_weight = 1.0;
        t.reset_noise_scale = 0.01;
    }
    return t;
}

typedef struct make_case {
    const char *func;  /* the public function, for the message check */
    const char *label; /* what is made */
    int kind;          /* 0 xml, 1 xml with callbacks, 2 file, 3 file with callbacks,
                          4 built-in task, 5 goal task */
} make_case;

/* Makes the case through `a` into *env or *genv. */
static contrl_status make(const make_case *c, const contrl_allocator *a, contrl_env *env,
                          contrl_goal_env *genv)
{
    contrl_mj_task t = cart_task(c->kind == 1 || c->kind == 3);
    switch (c->kind) {
    case 0:
    case 1:
        return contrl_mj_env_from_xml(cart_xml, &t, a, env);
    case 2:
    case 3:
        return contrl_mj_env_from_file(cart_path, &t, a, env);
    case 4:
        return contrl_mj_make(c->label, a, env);
    default:
        return contrl_mj_goal_make(c->label, a, genv);
    }
}

static bool all_zero(const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        if (b[i] != 0)
            return false;
    return true;
}

/* Runs one case for n = 1, 2, ... and returns how many allocations the
 * successful create made (each of which was failed once before). */
static long fail_each_allocation(const make_case *c)
{
    for (long n = 1;; n++) {
        counter k;
        memset(&k, 0, sizeof k);
        k.fail_at = n;
        contrl_allocator a = {counter_alloc, counter_free, &k};
        contrl_env env;
        contrl_goal_env genv;
        memset(&env, 0xa5, sizeof env);
        memset(&genv, 0xa5, sizeof genv);
        destroy_calls = 0;
        contrl_clear_error();
        contrl_status st = make(c, &a, &env, &genv);
        if (st == CONTRL_OK) {
            ck_assert_msg(k.attempts < n, "%s %s: succeeded although allocation %ld failed",
                          c->func, c->label, n);
            ck_assert_int_eq(k.bad, 0);
            /* no allocation while resetting and stepping */
            const long before = k.attempts;
            float obs[512], ag[3], dg[3], r;
            bool te, tr;
            if (c->kind == 5) {
                const float act[3] = {0.2f, -0.1f, 0.3f};
                ck_assert_int_eq(contrl_goal_env_check(&genv), CONTRL_OK);
                ck_assert_int_eq(genv.reset(genv.user, 1, obs, ag, dg), CONTRL_OK);
                for (int i = 0; i < 3; i++)
                    ck_assert_int_eq(genv.step(genv.user, act, obs, ag, &r, &te, &tr), CONTRL_OK);
            } else {
                float act[32] = {0};
                ck_assert_int_eq(contrl_env_check(&env), CONTRL_OK);
                ck_assert_uint_le(env.obs_dim, 512);
                ck_assert_int_eq(contrl_env_reset(&env, 1, obs), CONTRL_OK);
                for (int i = 0; i < 3; i++)
                    ck_assert_int_eq(contrl_env_step(&env, act, obs, &r, &te, &tr), CONTRL_OK);
            }
            ck_assert_int_eq(k.attempts, before);
            if (c->kind == 5)
                contrl_goal_env_close(&genv);
            else
                contrl_env_close(&env);
            ck_assert_msg(k.n_live == 0 && k.frees == k.allocs && k.bad == 0,
                          "%s %s: close left %d blocks (%ld bad frees)", c->func, c->label,
                          k.n_live, k.bad);
            ck_assert_int_eq(destroy_calls, c->kind == 1 || c->kind == 3 ? 1 : 0);
            return n - 1;
        }
        ck_assert_msg(st == CONTRL_ERR_NOMEM, "%s %s, allocation %ld failing: status %d (%s)",
                      c->func, c->label, n, (int)st, contrl_last_error());
        const char *msg = contrl_last_error();
        ck_assert_msg(strstr(msg, c->func) != NULL && strlen(msg) > strlen(c->func) + 4,
                      "%s %s, allocation %ld failing: message \"%s\"", c->func, c->label, n, msg);
        ck_assert_msg(k.n_live == 0 && k.frees == k.allocs && k.bad == 0,
                      "%s %s, allocation %ld failing: %d blocks left, %ld bad calls", c->func,
                      c->label, n, k.n_live, k.bad);
        ck_assert_msg(c->kind == 5 ? all_zero(&genv, sizeof genv) : all_zero(&env, sizeof env),
                      "%s %s, allocation %ld failing: *env not zeroed", c->func, c->label, n);
        ck_assert_msg(destroy_calls == 0,
                      "%s %s, allocation %ld failing: the task's destroy was called", c->func,
                      c->label, n);
        ck_assert_msg(n < 100, "%s %s: still failing at allocation %ld", c->func, c->label, n);
    }
}

START_TEST(every_create_fails_cleanly_at_each_of_its_allocations)
{
    snprintf(cart_path, sizeof cart_path, "/tmp/contrl-mj-allocfail-%ld.xml", (long)getpid());
    FILE *f = fopen(cart_path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(cart_xml, 1, strlen(cart_xml), f), strlen(cart_xml));
    ck_assert_int_eq(fclose(f), 0);

    make_case cases[32];
    int n = 0;
    cases[n++] = (make_case){"contrl_mj_env_from_xml", "cart", 0};
    cases[n++] = (make_case){"contrl_mj_env_from_xml", "cart with callbacks", 1};
    cases[n++] = (make_case){"contrl_mj_env_from_file", "cart", 2};
    cases[n++] = (make_case){"contrl_mj_env_from_file", "cart with callbacks", 3};
    for (const char *const *p = contrl_mj_names(); *p != NULL; p++)
        cases[n++] = (make_case){"contrl_mj_make", *p, 4};
    for (const char *const *p = contrl_mj_goal_names(); *p != NULL; p++)
        cases[n++] = (make_case){"contrl_mj_goal_make", *p, 5};
    ck_assert_int_eq(n, 4 + 9 + 2);
    long total = 0;
    for (int i = 0; i < n; i++) {
        long allocs = fail_each_allocation(&cases[i]);
        /* every create takes at least its env block from the allocator */
        ck_assert_msg(allocs >= 1, "%s %s allocated nothing through the allocator",
                      cases[i].func, cases[i].label);
        printf("alloc_fail_mj: %s %s: %ld allocation(s), each failed once\n", cases[i].func,
               cases[i].label, allocs);
        total += allocs;
    }
    printf("alloc_fail_mj: %d creates, %ld failure points, all clean\n", n, total);
    remove(cart_path);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("alloc_fail_mj");
    TCase *tc = tcase_create("alloc_fail_mj");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, every_create_fails_cleanly_at_each_of_its_allocations);
    suite_add_tcase(s, tc);
    SRunner *r = srunner_create(s);
    srunner_run_all(r, CK_NORMAL);
    int failed = srunner_ntests_failed(r);
    srunner_free(r);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
