/* tests/test_bad_input_mj.c - the bad-input matrix of libcontrl-mujoco, as
 * tests/hardening/test_bad_input.c is libcontrl's: every public contrl_mj_
 * function called with NULL for each pointer, tasks with each field out of
 * range or NaN/Inf, unknown names, bad observation indices, half
 * allocators, models that do not compile. For each bad call: the
 * documented status, a readable message on the calling thread that names
 * the function, *env zeroed (as the header promises), and every env of the
 * fixture exactly as before: its contrl_env struct, its mjModel and mjData
 * (structs and buffers, byte for byte) and its unstable count after each call,
 * and at the end the same trajectory as a twin env that never saw a bad
 * call (which also covers the env's private state: time step, RNG, the
 * position before the step). Accessors without a status must return their
 * neutral value (NULL, 0) for anything that is not an env of this library.
 *
 * The list of functions is generated from include/contrl/mujoco.h at build
 * time (tests/hardening/list_api.py with CONTRL_MJ_API -> mj_api_functions.h):
 * a function without a row here fails the test. */
#include <check.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <mujoco/mujoco.h>

#include "contrl/contrl.h"
#include "contrl/mujoco.h"

/* A cart on a rail with a hinged pole, as in test_binding.c: nq = nv = 3
 * (x, z, hinge), nbody = 3, one motor with ctrlrange [-2, 3]. */
static const char cart_xml[] =
    "<mujoco model=\"cart\">"
    "  <option timestep=\"0.01\" integrator=\"Euler\"/>"
    "  <worldbody>"
    "    <body name=\"cart\" pos=\"0 0 1\">"
    "      <joint name=\"x\" type=\"slide\" axis=\"1 0 0\"/>"
    "      <joint name=\"z\" type=\"slide\" axis=\"0 0 1\" stiffness=\"100\"/>"
    "      <geom type=\"box\" size=\"0.2 0.1 0.05\" mass=\"2\"/>"
    "      <body name=\"pole\">"
    "        <joint name=\"hinge\" type=\"hinge\" axis=\"0 1 0\" damping=\"0.1\"/>"
    "        <geom type=\"capsule\" fromto=\"0 0 0 0 0 0.6\" size=\"0.03\" mass=\"0.5\"/>"
    "      </body>"
    "    </body>"
    "  </worldbody>"
    "  <actuator>"
    "    <motor joint=\"x\" gear=\"10\" ctrllimited=\"true\" ctrlrange=\"-2 3\"/>"
    "  </actuator>"
    "</mujoco>";

static contrl_mj_task cart_task(void)
{
    contrl_mj_task t = contrl_mj_task_default();
    t.name = "cart";
    t.frame_skip = 2;
    t.max_episode_steps = 1000;
    t.obs_qpos[0] = -1;
    t.n_obs_qpos = 1;
    t.obs_qvel[0] = -1;
    t.n_obs_qvel = 1;
    t.forward_weight = 1.5;
    t.forward_qpos = 0;
    t.ctrl_cost_weight = 0.1;
    t.healthy_reward = 1.0;
    t.healthy_z_qpos = 1;
    t.healthy_z_min = -1.0;
    t.healthy_z_max = 1.0;
    t.reset_noise_scale = 0.05;
    return t;
}

/* ---- the fixture: envs in mid-episode, and a copy of all their state ------ */

typedef struct world {
    contrl_env cart, cart_twin, hopper;
    contrl_goal_env reach;
    char path[64]; /* the cart model as a file */
} world;
static world W;

/* The state of every env of the fixture, copied byte for byte (the mjData
 * buffers are megabytes: a copy and memcmp are much cheaper than hashing). */
static unsigned char *state_before, *state_now;
static size_t state_len;

static size_t put(unsigned char *dst, size_t at, const void *p, size_t n)
{
    if (dst != NULL)
        memcpy(dst + at, p, n);
    return at + n;
}

static size_t put_mj(unsigned char *dst, size_t at, const mjModel *m, const mjData *d)
{
    ck_assert_ptr_nonnull(m);
    ck_assert_ptr_nonnull(d);
    at = put(dst, at, m, sizeof *m);
    at = put(dst, at, m->buffer, (size_t)m->nbuffer);
    at = put(dst, at, d, sizeof *d);
    return put(dst, at, d->buffer, (size_t)d->nbuffer);
}

/* Copies the state into dst (NULL: only measures it); returns its size. */
static size_t world_state(unsigned char *dst)
{
    size_t at = put(dst, 0, &W.cart, sizeof W.cart);
    at = put_mj(dst, at, contrl_mj_env_model(&W.cart), contrl_mj_env_data(&W.cart));
    uint64_t u = contrl_mj_env_unstable_count(&W.cart);
    at = put(dst, at, &u, sizeof u);
    at = put(dst, at, &W.hopper, sizeof W.hopper);
    at = put_mj(dst, at, contrl_mj_env_model(&W.hopper), contrl_mj_env_data(&W.hopper));
    at = put(dst, at, &W.reach, sizeof W.reach);
    return put_mj(dst, at, contrl_mj_goal_env_model(&W.reach), contrl_mj_goal_env_data(&W.reach));
}

static void world_capture(void)
{
    world_state(state_before);
}

static bool world_unchanged(void)
{
    world_state(state_now);
    return memcmp(state_before, state_now, state_len) == 0;
}

/* A few steps of a fixed action sequence; the observations and rewards
 * appended to trace (obs_dim + 1 floats per step). */
static void run_steps(contrl_env *env, int steps, int phase, float *trace)
{
    float obs[64], r;
    bool te, tr;
    ck_assert_uint_le(env->obs_dim, 64);
    for (int i = 0; i < steps; i++) {
        float a[8];
        for (uint32_t k = 0; k < env->action_dim && k < 8; k++)
            a[k] = env->action_low[k] +
                   (env->action_high[k] - env->action_low[k]) *
                       (0.5f + 0.4f * sinf(0.7f * (float)(i + phase) + (float)k));
        ck_assert_int_eq(contrl_env_step(env, a, obs, &r, &te, &tr), CONTRL_OK);
        ck_assert(!te && !tr);
        if (trace != NULL) {
            memcpy(trace, obs, env->obs_dim * sizeof(float));
            trace[env->obs_dim] = r;
            trace += env->obs_dim + 1;
        }
    }
}

static void world_make(void)
{
    memset(&W, 0, sizeof W);
    contrl_mj_task t = cart_task();
    float obs[64], ag[3], dg[3], r;
    bool te, tr;
    ck_assert_int_eq(contrl_mj_env_from_xml(cart_xml, &t, NULL, &W.cart), CONTRL_OK);
    ck_assert_int_eq(contrl_mj_env_from_xml(cart_xml, &t, NULL, &W.cart_twin), CONTRL_OK);
    ck_assert_int_eq(contrl_env_reset(&W.cart, 3, obs), CONTRL_OK);
    ck_assert_int_eq(contrl_env_reset(&W.cart_twin, 3, obs), CONTRL_OK);
    run_steps(&W.cart, 3, 0, NULL);
    run_steps(&W.cart_twin, 3, 0, NULL);
    ck_assert_int_eq(contrl_mj_make("hopper", NULL, &W.hopper), CONTRL_OK);
    ck_assert_int_eq(contrl_env_reset(&W.hopper, 4, obs), CONTRL_OK);
    run_steps(&W.hopper, 2, 0, NULL);
    ck_assert_int_eq(contrl_mj_goal_make("reach", NULL, &W.reach), CONTRL_OK);
    ck_assert_int_eq(W.reach.reset(W.reach.user, 5, obs, ag, dg), CONTRL_OK);
    const float a[3] = {0.5f, -0.25f, 0.1f};
    ck_assert_int_eq(W.reach.step(W.reach.user, a, obs, ag, &r, &te, &tr), CONTRL_OK);
    snprintf(W.path, sizeof W.path, "/tmp/contrl-mj-badinput-%ld.xml", (long)getpid());
    FILE *f = fopen(W.path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(cart_xml, 1, strlen(cart_xml), f), strlen(cart_xml));
    ck_assert_int_eq(fclose(f), 0);
    state_len = world_state(NULL);
    state_before = malloc(state_len);
    state_now = malloc(state_len);
    ck_assert(state_before != NULL && state_now != NULL);
}

static void world_free(void)
{
    contrl_env_close(&W.cart);
    contrl_env_close(&W.cart_twin);
    contrl_env_close(&W.hopper);
    contrl_goal_env_close(&W.reach);
    remove(W.path);
    free(state_before);
    free(state_now);
}

/* ---- checks ---------------------------------------------------------------- */

static const char *row_name;
static long n_checks, n_failures;

/* Every broken expectation is printed and counted; the test fails at the
 * end with all of them listed, not at the first. */
#define EXPECT(cond, ...)                                                                          \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            printf("bad_input_mj: FAIL %s: ", row_name);                                          \
            printf(__VA_ARGS__);                                                                   \
            printf("\n");                                                                         \
            n_failures++;                                                                          \
        }                                                                                          \
    } while (0)

/* A message a person can read: non-empty, printable, naming the function. */
static bool readable(const char *msg, const char *func)
{
    if (msg == NULL || strlen(msg) < strlen(func) + 4 || strstr(msg, func) == NULL)
        return false;
    for (const char *p = msg; *p; p++)
        if (*p < 0x20 || *p > 0x7e)
            return false;
    return true;
}

/* A bad call: status `want`, a readable message naming `func`, nothing
 * changed. */
#define BAD_IN(func, want, call)                                                                   \
    do {                                                                                           \
        world_capture();                                                               \
        contrl_clear_error();                                                                      \
        contrl_status st_ = (call);                                                                \
        EXPECT(st_ == (want), "%s gives %d (%s), expected %d", #call, (int)st_,                   \
               contrl_last_error(), (int)(want));                                                  \
        EXPECT(readable(contrl_last_error(), func), "%s: message \"%s\" is empty, unreadable or " \
               "does not name %s", #call, contrl_last_error(), func);                              \
        EXPECT(world_unchanged(), "%s changed the state of an env", #call);                     \
        n_checks++;                                                                                \
    } while (0)
#define BAD(want, call) BAD_IN(row_name, want, call)

/* A bad make into *out: also *out zeroed (it starts as garbage). */
#define BAD_MAKE(want, out, call)                                                                  \
    do {                                                                                           \
        memset((out), 0xa5, sizeof *(out));                                                        \
        BAD(want, call);                                                                           \
        static const unsigned char zero_[sizeof *(out)];                                          \
        EXPECT(memcmp((out), zero_, sizeof *(out)) == 0, "%s left *env not zeroed", #call);       \
    } while (0)

/* A call with no status and a bad argument: returns `want`, changes nothing. */
#define NEUTRAL(want, expr)                                                                        \
    do {                                                                                           \
        world_capture();                                                               \
        EXPECT((expr) == (want), "%s is not %s", #expr, #want);                                    \
        EXPECT(world_unchanged(), "%s changed the state of an env", #expr);                     \
        n_checks++;                                                                                \
    } while (0)

/* A call that must be accepted. */
#define GOOD(call)                                                                                 \
    do {                                                                                           \
        contrl_status st_ = (call);                                                                \
        EXPECT(st_ == CONTRL_OK, "%s gives %d (%s)", #call, (int)st_, contrl_last_error());       \
        n_checks++;                                                                                \
    } while (0)

#define INV CONTRL_ERR_INVALID_ARG
#define FMT CONTRL_ERR_FORMAT

static void *dummy_alloc(void *user, size_t size, size_t align)
{
    (void)user;
    (void)size;
    (void)align;
    return NULL;
}

static void dummy_free(void *user, void *ptr, size_t size)
{
    (void)user;
    (void)ptr;
    (void)size;
}

static void observe_zero(void *user, const mjModel *m, const mjData *d, float *obs)
{
    (void)user;
    (void)m;
    (void)d;
    obs[0] = 0.0f;
}

/* ---- rows ------------------------------------------------------------------ */

static void row_task_init(void)
{
    contrl_mj_task t, keep;
    memset(&t, 0x5a, sizeof t);
    memcpy(&keep, &t, sizeof t);
    BAD(INV, contrl_mj_task_init(NULL, sizeof t));
    BAD(INV, contrl_mj_task_init(&t, 0));
    BAD(INV, contrl_mj_task_init(&t, 4));
    BAD(INV, contrl_mj_task_init(&t, sizeof t - 8)); /* an older, smaller header */
    BAD(INV, contrl_mj_task_init(&t, sizeof t + 8));
    BAD(INV, contrl_mj_task_init(&t, SIZE_MAX));
    EXPECT(memcmp(&t, &keep, sizeof t) == 0, "a refused contrl_mj_task_init wrote the task");
    GOOD(contrl_mj_task_init(&t, sizeof t));
    EXPECT(t.size == sizeof t && t.frame_skip == 1 && t.forward_qpos == -1 &&
               t.forward_body == -1 && t.healthy_z_qpos == -1 && t.healthy_angle_qpos == -1 &&
               t.observe == NULL && t.n_obs_qpos == 0,
           "contrl_mj_task_init does not give the documented defaults");
}

/* The double fields of a task, for NaN and Inf. `inf_ok`: +-Inf is a
 * meaningful value there (an open health bound). */
static const struct {
    const char *name;
    size_t offset;
    bool inf_ok;
} double_fields[] = {
    {"obs_qvel_clip", offsetof(contrl_mj_task, obs_qvel_clip), false},
    {"forward_weight", offsetof(contrl_mj_task, forward_weight), false},
    {"ctrl_cost_weight", offsetof(contrl_mj_task, ctrl_cost_weight), false},
    {"healthy_reward", offsetof(contrl_mj_task, healthy_reward), false},
    {"healthy_z_min", offsetof(contrl_mj_task, healthy_z_min), true},
    {"healthy_z_max", offsetof(contrl_mj_task, healthy_z_max), true},
    {"healthy_angle_min", offsetof(contrl_mj_task, healthy_angle_min), true},
    {"healthy_angle_max", offsetof(contrl_mj_task, healthy_angle_max), true},
    {"healthy_state_max", offsetof(contrl_mj_task, healthy_state_max), true},
    {"reset_noise_scale", offsetof(contrl_mj_task, reset_noise_scale), false},
};

/* The ways a task can be wrong for the cart model (nq = nv = nbody = 3,
 * nu = 1); each returns the task, the expected status and a label. */
enum { N_TASK_CASES = 64 };
typedef struct task_case {
    contrl_mj_task task;
    char label[96];
} task_case;

static int bad_tasks(task_case *c)
{
    int n = 0;
#define CASE(label_, ...)                                                                          \
    do {                                                                                           \
        ck_assert_int_lt(n, N_TASK_CASES);                                                         \
        contrl_mj_task *t = &c[n].task;                                                            \
        *t = cart_task();                                                                          \
        __VA_ARGS__;                                                                               \
        snprintf(c[n].label, sizeof c[n].label, "%s", label_);                                     \
        n++;                                                                                       \
    } while (0)
    CASE("size 0", t->size = 0);
    CASE("size of an older header", t->size = sizeof *t - 8);
    CASE("size of a newer header", t->size = sizeof *t + 8);
    CASE("frame_skip 0", t->frame_skip = 0);
    CASE("n_obs_qpos 129", t->n_obs_qpos = CONTRL_MJ_MAX_OBS_INDICES + 1);
    CASE("n_obs_qpos UINT32_MAX", t->n_obs_qpos = UINT32_MAX);
    CASE("n_obs_qvel 129", t->n_obs_qvel = CONTRL_MJ_MAX_OBS_INDICES + 1);
    CASE("obs_qpos[0] = nq", t->obs_qpos[0] = 3);
    CASE("obs_qpos[0] = INT32_MAX", t->obs_qpos[0] = INT32_MAX);
    CASE("obs_qpos = {0, -1}", t->obs_qpos[0] = 0; t->obs_qpos[1] = -1; t->n_obs_qpos = 2);
    CASE("obs_qpos = {1, FROM(0)}", t->obs_qpos[0] = 1; t->obs_qpos[1] = CONTRL_MJ_FROM(0);
         t->n_obs_qpos = 2);
    CASE("obs_qpos = FROM(4)", t->obs_qpos[0] = CONTRL_MJ_FROM(4));
    CASE("obs_qpos = INT32_MIN", t->obs_qpos[0] = INT32_MIN);
    CASE("obs_qvel[1] = nv", t->obs_qvel[0] = 0; t->obs_qvel[1] = 3; t->n_obs_qvel = 2);
    CASE("obs_qvel = FROM(4)", t->obs_qvel[0] = CONTRL_MJ_FROM(4));
    CASE("obs_qvel = FROM(1000000)", t->obs_qvel[0] = CONTRL_MJ_FROM(1000000));
    CASE("observes nothing", t->n_obs_qpos = 0; t->n_obs_qvel = 0);
    CASE("observe set, obs_dim 0", t->observe = observe_zero; t->obs_dim = 0);
    for (size_t i = 0; i < sizeof double_fields / sizeof double_fields[0]; i++) {
        const double bad[3] = {NAN, INFINITY, -INFINITY};
        for (int k = 0; k < (double_fields[i].inf_ok ? 1 : 3); k++) {
            char label[96];
            snprintf(label, sizeof label, "%s = %g", double_fields[i].name, bad[k]);
            CASE(label, memcpy((char *)t + double_fields[i].offset, &bad[k], sizeof(double)));
        }
    }
    CASE("reset_noise_scale < 0", t->reset_noise_scale = -0.1);
    CASE("forward_qpos = nq", t->forward_qpos = 3);
    CASE("forward_qpos = -2", t->forward_qpos = -2);
    CASE("forward_qpos = INT32_MIN", t->forward_qpos = INT32_MIN);
    CASE("forward_body = nbody", t->forward_body = 3);
    CASE("forward_body = -2", t->forward_body = -2);
    CASE("healthy_z_qpos = nq", t->healthy_z_qpos = 3);
    CASE("healthy_z_qpos = -2", t->healthy_z_qpos = -2);
    CASE("healthy_angle_qpos = INT32_MAX", t->healthy_angle_qpos = INT32_MAX);
    CASE("healthy_angle_qpos = INT32_MIN", t->healthy_angle_qpos = INT32_MIN);
    CASE("healthy_state_from beyond nq + nv", t->healthy_state_max = 100.0;
         t->healthy_state_from = 7);
    CASE("qpos_noise = 2", t->qpos_noise = (contrl_mj_noise)2);
    CASE("qpos_noise = -1", t->qpos_noise = (contrl_mj_noise)-1);
    CASE("qvel_noise = 99", t->qvel_noise = (contrl_mj_noise)99);
#undef CASE
    return n;
}

static void row_env_from_xml(void)
{
    contrl_env out;
    contrl_mj_task t = cart_task();
    BAD_MAKE(INV, &out, contrl_mj_env_from_xml(NULL, &t, NULL, &out));
    BAD_MAKE(INV, &out, contrl_mj_env_from_xml(cart_xml, NULL, NULL, &out));
    BAD(INV, contrl_mj_env_from_xml(cart_xml, &t, NULL, NULL));
    contrl_allocator half1 = {dummy_alloc, NULL, NULL}, half2 = {NULL, dummy_free, NULL};
    BAD_MAKE(INV, &out, contrl_mj_env_from_xml(cart_xml, &t, &half1, &out));
    BAD_MAKE(INV, &out, contrl_mj_env_from_xml(cart_xml, &t, &half2, &out));
    contrl_allocator none = {dummy_alloc, dummy_free, NULL};
    BAD_MAKE(CONTRL_ERR_NOMEM, &out, contrl_mj_env_from_xml(cart_xml, &t, &none, &out));

    static task_case cases[N_TASK_CASES];
    int n = bad_tasks(cases);
    for (int i = 0; i < n; i++) {
        memset(&out, 0xa5, sizeof out);
        world_capture();
        contrl_clear_error();
        contrl_status st = contrl_mj_env_from_xml(cart_xml, &cases[i].task, NULL, &out);
        EXPECT(st == INV, "task with %s gives %d (%s), expected INVALID_ARG", cases[i].label,
               (int)st, contrl_last_error());
        EXPECT(readable(contrl_last_error(), row_name), "task with %s: message \"%s\"",
               cases[i].label, contrl_last_error());
        EXPECT(out.user == NULL && out.step == NULL && out.obs_dim == 0,
               "task with %s left *env not zeroed", cases[i].label);
        EXPECT(world_unchanged(), "task with %s changed the state of an env", cases[i].label);
        n_checks++;
        if (st == CONTRL_OK)
            contrl_env_close(&out);
    }

    /* models that do not compile, or do not fit a task */
    BAD_MAKE(FMT, &out, contrl_mj_env_from_xml("", &t, NULL, &out));
    BAD_MAKE(FMT, &out, contrl_mj_env_from_xml("not xml at all", &t, NULL, &out));
    BAD_MAKE(FMT, &out, contrl_mj_env_from_xml("<mujoco><worldbody><body>", &t, NULL, &out));
    /* MuJoCo reads URDF too: an empty robot compiles, and has nothing to act on */
    BAD_MAKE(INV, &out, contrl_mj_env_from_xml("<robot name=\"urdf\"/>", &t, NULL, &out));
    BAD_MAKE(FMT, &out,
             contrl_mj_env_from_xml("<mujoco><worldbody><body><joint/><geom size=\"1\"/></body>"
                                    "</worldbody><actuator><motor joint=\"nosuch\"/></actuator>"
                                    "</mujoco>",
                                    &t, NULL, &out));
    /* nu = 0: nothing to act on */
    BAD_MAKE(INV, &out,
             contrl_mj_env_from_xml("<mujoco><worldbody><body><joint type=\"slide\"/>"
                                    "<geom size=\"1\"/></body></worldbody></mujoco>",
                                    &t, NULL, &out));
    /* a model smaller than the task's indices (nq = nv = 1) */
    static const char one_joint[] =
        "<mujoco><worldbody><body><joint name=\"j\" type=\"slide\"/><geom size=\"0.1\"/>"
        "</body></worldbody><actuator><motor joint=\"j\"/></actuator></mujoco>";
    BAD_MAKE(INV, &out, contrl_mj_env_from_xml(one_joint, &t, NULL, &out));
    /* an actuator whose ctrlrange is empty */
    static const char empty_range[] =
        "<mujoco><worldbody><body><joint name=\"j\" type=\"slide\"/><geom size=\"0.1\"/>"
        "</body></worldbody><actuator><motor joint=\"j\" ctrllimited=\"true\" "
        "ctrlrange=\"1 1\"/></actuator></mujoco>";
    contrl_mj_task t1 = contrl_mj_task_default();
    t1.obs_qpos[0] = -1;
    t1.n_obs_qpos = 1;
    contrl_clear_error();
    contrl_status st = contrl_mj_env_from_xml(empty_range, &t1, NULL, &out);
    /* MuJoCo's compiler may refuse it first (FORMAT); either way no env */
    EXPECT(st == INV || st == FMT, "an empty ctrlrange gives %d (%s)", (int)st,
           contrl_last_error());
    EXPECT(readable(contrl_last_error(), row_name), "empty ctrlrange: message \"%s\"",
           contrl_last_error());
    if (st == CONTRL_OK)
        contrl_env_close(&out);
    /* ranges valid in double that are empty or infinite as the env's float
     * bounds (found by the mj_env fuzz target's contrl_env_check invariant) */
    static const char *const float_ranges[] = {"1 1.00000001", "-1e39 1e39", "0 1e39",
                                               "-3.5e38 -3.4e38"};
    for (size_t i = 0; i < sizeof float_ranges / sizeof float_ranges[0]; i++) {
        char xml[400];
        snprintf(xml, sizeof xml,
                 "<mujoco><worldbody><body><joint name=\"j\" type=\"slide\"/><geom "
                 "size=\"0.1\"/></body></worldbody><actuator><motor joint=\"j\" "
                 "ctrllimited=\"true\" ctrlrange=\"%s\"/></actuator></mujoco>",
                 float_ranges[i]);
        BAD_MAKE(INV, &out, contrl_mj_env_from_xml(xml, &t1, NULL, &out));
        EXPECT(strstr(contrl_last_error(), "ctrlrange") != NULL, "ctrlrange %s: message %s",
               float_ranges[i], contrl_last_error());
    }

    /* Text in memory cannot use other files (the header says so): MuJoCo
     * would look them up on disk by their own path (found by the mj_env
     * fuzz target: an <include> of an existing file loaded from memory but
     * not from a file). The file named here exists. */
    const char *const file_refs[] = {"<include file=\"%s\"/>",
                                     "<asset><mesh name=\"m\" file=\"%s\"/></asset>",
                                     ("<asset><texture name=\"t\" type=\"cube\" "
                                      "fileright=\"%s\"/></asset>"),
                                     "<asset><hfield name=\"h\"\vfile = \"%s\"/></asset>",
                                     "<asset><skin name=\"s\"file='%s'/></asset>"};
    for (size_t i = 0; i < sizeof file_refs / sizeof file_refs[0]; i++) {
        char ref[300], xml[800];
        snprintf(ref, sizeof ref, file_refs[i], W.path);
        snprintf(xml, sizeof xml,
                 "<mujoco>\n<!-- a comment -->\n%s\n<worldbody><body><joint name=\"j\" "
                 "type=\"slide\"/><geom size=\"0.1\"/></body></worldbody><actuator><motor "
                 "joint=\"j\"/></actuator></mujoco>",
                 ref);
        BAD_MAKE(FMT, &out, contrl_mj_env_from_xml(xml, &t1, NULL, &out));
        EXPECT(strstr(contrl_last_error(), "names a file") != NULL &&
                   strstr(contrl_last_error(), "line 3") != NULL,
               "%s: message %s", ref, contrl_last_error());
    }
    /* "file=" that is no attribute: in a comment, a CDATA section, a value */
    static const char not_files[] =
        "<mujoco model=\"file=x\"><!-- <include file=\"a.xml\"/> --><worldbody>"
        "<body name=\"b\"><joint name=\"j\" type=\"slide\"/><geom size=\"0.1\"/></body>"
        "</worldbody><custom><text name=\"t\" data=\" file=y\"/></custom>"
        "<actuator><motor joint=\"j\"/></actuator></mujoco>";
    GOOD(contrl_mj_env_from_xml(not_files, &t1, NULL, &out));
    contrl_env_close(&out);

    /* accepted edge values */
    contrl_mj_task e = cart_task();
    e.reset_noise_scale = 1e-310; /* a denormal: a small number like any other */
    e.healthy_z_min = -INFINITY;  /* open bounds */
    e.healthy_z_max = INFINITY;
    e.healthy_state_max = INFINITY;
    e.healthy_state_from = 6; /* = nq + nv: the rule covers nothing, but is valid */
    e.obs_qvel_clip = -1.0;   /* <= 0: off */
    e.obs_qpos[0] = CONTRL_MJ_FROM(3); /* = nq: no qpos observed, qvel still */
    char long_name[300];
    memset(long_name, 'n', sizeof long_name - 1);
    long_name[sizeof long_name - 1] = '\0';
    e.name = long_name; /* copied, cut to the env's buffer */
    GOOD(contrl_mj_env_from_xml(cart_xml, &e, NULL, &out));
    if (out.user != NULL) {
        EXPECT(out.obs_dim == 3, "FROM(nq) + all qvel gives obs_dim %u", out.obs_dim);
        EXPECT(out.name != NULL && strncmp(out.name, long_name, 16) == 0,
               "a long task name is not kept as its prefix");
        float obs[3];
        GOOD(contrl_env_reset(&out, 1, obs));
        contrl_env_close(&out);
    }
}

static void row_env_from_file(void)
{
    contrl_env out;
    contrl_mj_task t = cart_task();
    BAD_MAKE(INV, &out, contrl_mj_env_from_file(NULL, &t, NULL, &out));
    BAD_MAKE(INV, &out, contrl_mj_env_from_file(W.path, NULL, NULL, &out));
    BAD(INV, contrl_mj_env_from_file(W.path, &t, NULL, NULL));
    contrl_allocator half = {NULL, dummy_free, NULL};
    BAD_MAKE(INV, &out, contrl_mj_env_from_file(W.path, &t, &half, &out));
    BAD_MAKE(CONTRL_ERR_IO, &out, contrl_mj_env_from_file("/nonexistent-dir/m.xml", &t, NULL, &out));
    BAD_MAKE(CONTRL_ERR_IO, &out, contrl_mj_env_from_file("", &t, NULL, &out));
    BAD_MAKE(CONTRL_ERR_IO, &out, contrl_mj_env_from_file("/tmp", &t, NULL, &out)); /* a dir */
    t.frame_skip = 0;
    BAD_MAKE(INV, &out, contrl_mj_env_from_file(W.path, &t, NULL, &out));
    t = cart_task();
    t.forward_weight = NAN;
    BAD_MAKE(INV, &out, contrl_mj_env_from_file(W.path, &t, NULL, &out));
    /* a file that is not MJCF */
    char junk[80];
    snprintf(junk, sizeof junk, "%s.junk", W.path);
    FILE *f = fopen(junk, "wb");
    ck_assert_ptr_nonnull(f);
    fputs("<mujoco><worldbody><body name=\"a\"><body name=\"a\"/></body>", f);
    fclose(f);
    t = cart_task();
    BAD_MAKE(FMT, &out, contrl_mj_env_from_file(junk, &t, NULL, &out));
    f = fopen(junk, "wb"); /* empty */
    ck_assert_ptr_nonnull(f);
    fclose(f);
    BAD_MAKE(FMT, &out, contrl_mj_env_from_file(junk, &t, NULL, &out));
    remove(junk);
    GOOD(contrl_mj_env_from_file(W.path, &t, NULL, &out));
    contrl_env_close(&out);
}

static void row_make(void)
{
    contrl_env out;
    BAD_MAKE(INV, &out, contrl_mj_make(NULL, NULL, &out));
    BAD(INV, contrl_mj_make("hopper", NULL, NULL));
    BAD_MAKE(INV, &out, contrl_mj_make("", NULL, &out));
    BAD_MAKE(INV, &out, contrl_mj_make("cheetah", NULL, &out));
    BAD_MAKE(INV, &out, contrl_mj_make("hopper ", NULL, &out));
    BAD_MAKE(INV, &out, contrl_mj_make("Hopper-v3", NULL, &out));
    BAD_MAKE(INV, &out, contrl_mj_make("reach", NULL, &out)); /* a goal task */
    BAD_MAKE(INV, &out, contrl_mj_make("%s%s%n", NULL, &out));
    EXPECT(strstr(contrl_last_error(), "halfcheetah") != NULL,
           "the unknown-name message does not list the known names: %s", contrl_last_error());
    char long_name[5000];
    memset(long_name, 'h', sizeof long_name - 1);
    long_name[sizeof long_name - 1] = '\0';
    BAD_MAKE(INV, &out, contrl_mj_make(long_name, NULL, &out));
    EXPECT(strstr(contrl_last_error(), "...") != NULL &&
               strstr(contrl_last_error(), "humanoid") != NULL,
           "a long unknown name is not cut to leave room for the known names: %s",
           contrl_last_error());
    contrl_allocator half = {dummy_alloc, NULL, NULL};
    BAD_MAKE(INV, &out, contrl_mj_make("hopper", &half, &out));
    contrl_allocator none = {dummy_alloc, dummy_free, NULL};
    BAD_MAKE(CONTRL_ERR_NOMEM, &out, contrl_mj_make("humanoid", &none, &out));
    GOOD(contrl_mj_make("SWIMMER-V4", NULL, &out)); /* Gymnasium's id, any case */
    EXPECT(out.name != NULL && strcmp(out.name, "swimmer") == 0, "SWIMMER-V4 is not swimmer");
    contrl_env_close(&out);
}

static void row_names(void)
{
    const char *const *names = contrl_mj_names();
    NEUTRAL(true, names != NULL);
    int n = 0;
    for (; names != NULL && names[n] != NULL && n < 100; n++)
        EXPECT(names[n][0] != '\0', "empty task name at %d", n);
    EXPECT(n == 9, "%d built-in tasks listed, expected 9", n);
    NEUTRAL(names, contrl_mj_names()); /* the same static list every time */
    const char *const *goals = contrl_mj_goal_names();
    n = 0;
    for (; goals != NULL && goals[n] != NULL && n < 100; n++)
        ;
    EXPECT(n == 2, "%d goal tasks listed, expected 2", n);
    NEUTRAL(goals, contrl_mj_goal_names());
}

static void row_goal_make(void)
{
    contrl_goal_env out;
    BAD_MAKE(INV, &out, contrl_mj_goal_make(NULL, NULL, &out));
    BAD(INV, contrl_mj_goal_make("reach", NULL, NULL));
    BAD_MAKE(INV, &out, contrl_mj_goal_make("", NULL, &out));
    BAD_MAKE(INV, &out, contrl_mj_goal_make("fetch", NULL, &out));
    BAD_MAKE(INV, &out, contrl_mj_goal_make("hopper", NULL, &out)); /* not a goal task */
    BAD_MAKE(INV, &out, contrl_mj_goal_make("reach\n", NULL, &out));
    EXPECT(strstr(contrl_last_error(), "push") != NULL,
           "the unknown-name message does not list the known names: %s", contrl_last_error());
    EXPECT(strstr(contrl_last_error(), "reach\\x0a") != NULL,
           "a control character of the name is not escaped: %s", contrl_last_error());
    contrl_allocator half = {NULL, dummy_free, NULL};
    BAD_MAKE(INV, &out, contrl_mj_goal_make("push", &half, &out));
    contrl_allocator none = {dummy_alloc, dummy_free, NULL};
    BAD_MAKE(CONTRL_ERR_NOMEM, &out, contrl_mj_goal_make("push", &none, &out));
    GOOD(contrl_mj_goal_make("PUSH", NULL, &out));
    contrl_goal_env_close(&out);
}

static void row_env_accessors(void)
{
    NEUTRAL(NULL, contrl_mj_env_model(NULL));
    NEUTRAL(NULL, contrl_mj_env_data(NULL));
    NEUTRAL((uint64_t)0, contrl_mj_env_unstable_count(NULL));
    contrl_env zero;
    memset(&zero, 0, sizeof zero);
    NEUTRAL(NULL, contrl_mj_env_model(&zero));
    NEUTRAL(NULL, contrl_mj_env_data(&zero));
    NEUTRAL((uint64_t)0, contrl_mj_env_unstable_count(&zero));
    contrl_env pend;
    GOOD(contrl_env_make("pendulum", NULL, &pend)); /* not made by the add-on */
    NEUTRAL(NULL, contrl_mj_env_model(&pend));
    NEUTRAL(NULL, contrl_mj_env_data(&pend));
    NEUTRAL((uint64_t)0, contrl_mj_env_unstable_count(&pend));
    contrl_env_close(&pend);
    /* our callbacks, but no block, or a block that is not an env's */
    contrl_env fake = W.cart;
    fake.user = NULL;
    NEUTRAL(NULL, contrl_mj_env_model(&fake));
    NEUTRAL(NULL, contrl_mj_env_data(&fake));
    NEUTRAL((uint64_t)0, contrl_mj_env_unstable_count(&fake));
    static _Alignas(64) unsigned char block[4096];
    fake.user = block;
    NEUTRAL(NULL, contrl_mj_env_model(&fake));
    NEUTRAL(NULL, contrl_mj_env_data(&fake));
    NEUTRAL((uint64_t)0, contrl_mj_env_unstable_count(&fake));
    /* a goal env's user block behind a plain env's callbacks, and the reverse */
    fake.user = W.reach.user;
    NEUTRAL(NULL, contrl_mj_env_model(&fake));
    contrl_env from_goal = W.hopper;
    from_goal.destroy = W.reach.destroy;
    NEUTRAL(NULL, contrl_mj_env_model(&from_goal));
    NEUTRAL(NULL, contrl_mj_env_data(&from_goal));
    /* a closed env */
    contrl_env closed;
    GOOD(contrl_mj_make("swimmer", NULL, &closed));
    NEUTRAL(true, contrl_mj_env_model(&closed) != NULL);
    contrl_env_close(&closed);
    NEUTRAL(NULL, contrl_mj_env_model(&closed));
    NEUTRAL(NULL, contrl_mj_env_data(&closed));
}

static void row_goal_env_accessors(void)
{
    NEUTRAL(NULL, contrl_mj_goal_env_model(NULL));
    NEUTRAL(NULL, contrl_mj_goal_env_data(NULL));
    contrl_goal_env zero;
    memset(&zero, 0, sizeof zero);
    NEUTRAL(NULL, contrl_mj_goal_env_model(&zero));
    NEUTRAL(NULL, contrl_mj_goal_env_data(&zero));
    contrl_goal_env pr;
    GOOD(contrl_goal_env_make("pointreach-2", NULL, &pr));
    NEUTRAL(NULL, contrl_mj_goal_env_model(&pr));
    NEUTRAL(NULL, contrl_mj_goal_env_data(&pr));
    contrl_goal_env_close(&pr);
    contrl_goal_env fake = W.reach;
    fake.user = NULL;
    NEUTRAL(NULL, contrl_mj_goal_env_model(&fake));
    NEUTRAL(NULL, contrl_mj_goal_env_data(&fake));
    static _Alignas(64) unsigned char block[4096];
    fake.user = block;
    NEUTRAL(NULL, contrl_mj_goal_env_model(&fake));
    NEUTRAL(NULL, contrl_mj_goal_env_data(&fake));
    fake = W.reach;
    fake.destroy = W.cart.destroy; /* a plain env's callbacks */
    NEUTRAL(NULL, contrl_mj_goal_env_model(&fake));
    fake = W.reach;
    fake.user = W.hopper.user; /* a plain env's block behind a goal env's callbacks */
    NEUTRAL(NULL, contrl_mj_goal_env_model(&fake));
    NEUTRAL(NULL, contrl_mj_goal_env_data(&fake));
    NEUTRAL(true, contrl_mj_goal_env_model(&W.reach) != NULL);
}

static void row_version(void)
{
    const char *v = contrl_mj_mujoco_version();
    NEUTRAL(true, v != NULL && v[0] != '\0');
    NEUTRAL(0, strcmp(v, mj_versionString()));
}

/* ---- the table: every public function and the row that covers it ---------- */

typedef struct row {
    const char *function;
    void (*run)(void);
} row;

static const row rows[] = {
    {"contrl_mj_task_init", row_task_init},
    {"contrl_mj_env_from_xml", row_env_from_xml},
    {"contrl_mj_env_from_file", row_env_from_file},
    {"contrl_mj_make", row_make},
    {"contrl_mj_names", row_names},
    {"contrl_mj_goal_names", row_names},
    {"contrl_mj_goal_make", row_goal_make},
    {"contrl_mj_env_model", row_env_accessors},
    {"contrl_mj_env_data", row_env_accessors},
    {"contrl_mj_env_unstable_count", row_env_accessors},
    {"contrl_mj_goal_env_model", row_goal_env_accessors},
    {"contrl_mj_goal_env_data", row_goal_env_accessors},
    {"contrl_mj_mujoco_version", row_version},
};
enum { N_ROWS = sizeof rows / sizeof rows[0] };

static const char *const api_functions[] = {
#define API_FUNCTION(name) name,
#include "mj_api_functions.h"
#undef API_FUNCTION
};
enum { N_API = sizeof api_functions / sizeof api_functions[0] };

START_TEST(every_public_function_of_the_addon_has_a_row)
{
    int missing = 0;
    for (int i = 0; i < N_API; i++) {
        bool found = false;
        for (int r = 0; r < N_ROWS && !found; r++)
            found = strcmp(rows[r].function, api_functions[i]) == 0;
        if (!found) {
            printf("bad_input_mj: NO ROW for %s: add one to "
                   "subprojects/contrl-mujoco/tests/test_bad_input_mj.c\n",
                   api_functions[i]);
            missing++;
        }
    }
    /* and no row for a function the header no longer declares */
    for (int r = 0; r < N_ROWS; r++) {
        bool found = false;
        for (int i = 0; i < N_API && !found; i++)
            found = strcmp(rows[r].function, api_functions[i]) == 0;
        ck_assert_msg(found, "row for %s, which include/contrl/mujoco.h does not declare",
                      rows[r].function);
    }
    ck_assert_msg(missing == 0, "%d public functions of the add-on have no row", missing);
    printf("bad_input_mj: %d public functions, all covered by rows\n", N_API);
}
END_TEST

START_TEST(every_row_rejects_bad_input_and_changes_no_env)
{
    world_make();
    void (*done[N_ROWS])(void);
    int n_done = 0;
    for (int r = 0; r < N_ROWS; r++) {
        bool seen = false;
        for (int k = 0; k < n_done; k++)
            seen |= done[k] == rows[r].run;
        if (seen)
            continue;
        done[n_done++] = rows[r].run;
        row_name = rows[r].function;
        rows[r].run();
    }
    /* The cart went through every bad call; its twin through none: the
     * same next steps, bit for bit. */
    enum { STEPS = 20 };
    float a[STEPS * 7], b[STEPS * 7];
    run_steps(&W.cart, STEPS, 3, a);
    run_steps(&W.cart_twin, STEPS, 3, b);
    world_free();
    printf("bad_input_mj: %d rows, %ld checked calls, %ld failures\n", n_done, n_checks,
           n_failures);
    ck_assert_msg(memcmp(a, b, sizeof a) == 0,
                  "the env that saw the bad calls no longer steps like its twin");
    ck_assert_msg(n_failures == 0, "%ld bad-input expectations broken (listed above)",
                  n_failures);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("bad_input_mj");
    TCase *tc = tcase_create("bad_input_mj");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, every_public_function_of_the_addon_has_a_row);
    tcase_add_test(tc, every_row_rejects_bad_input_and_changes_no_env);
    suite_add_tcase(s, tc);
    SRunner *r = srunner_create(s);
    srunner_run_all(r, CK_NORMAL);
    int failed = srunner_ntests_failed(r);
    srunner_free(r);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
