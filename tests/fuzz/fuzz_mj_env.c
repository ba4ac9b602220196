/* tests/fuzz/fuzz_mj_env.c - libcontrl-mujoco's envs from hostile MJCF text
 * and task descriptions (contrl_mj_env_from_xml, and contrl_mj_env_from_file
 * on the same bytes).
 *
 * An input is a task description, a line "%%", then the model:
 *
 *     frame_skip 2
 *     obs_qpos -1
 *     obs_qvel 0 2
 *     forward_qpos 0
 *     %%
 *     <mujoco> ... </mujoco>
 *
 * Each task line is a contrl_mj_task field and its value(s), stored as the
 * field's C type takes them (so "frame_skip 4294967296" is 0, "nan" a NaN);
 * the harness adds a few of its own: observe_dim N (an observe callback
 * with obs_dim N), reward_cb 1 (a reward callback), reset_fail 1 (a reset
 * callback that fails), seed S and steps N (what to run). Without a "%%"
 * line the whole input is the model, with a task observing all of qpos and
 * qvel.
 *
 * Invariants: both ways in give the same status (except for text that
 * names other files, which text in memory refuses); a failure is
 * INVALID_ARG, FORMAT or NOMEM (IO for the file path only if the file
 * cannot be read) with a one-line printable message and *env zeroed; an
 * env that is made passes contrl_env_check, has the dimensions the task and
 * model give (computed here independently) and the model's control ranges
 * as bounds; it resets and steps through the checked contrl_env_* calls
 * with statuses only from a documented set, each with a message, never
 * counts more unstable steps than steps taken, and gives back every block
 * of the allocator when closed.
 *
 * MuJoCo allocates what a model's <size> asks for (nstack, nuserdata, ...)
 * from its own allocator: the harness caps it through mju_user_malloc at
 * 256 MiB a block, as a program compiling untrusted MJCF should; MuJoCo's
 * compiler then reports the failure (FORMAT). MuJoCo's fatal errors
 * (mju_error) abort with the message: every one is a finding. */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mujoco/mujoco.h>

#include "contrl/contrl.h"
#include "contrl/mujoco.h"
#include "fuzz_support.h"

enum { MAX_INPUT = 1 << 16, MAX_STEPS = 64, MAX_SUBSTEPS = 2000, MAX_OBS = 1 << 16 };

static const size_t MJ_ALLOC_CAP = (size_t)256 << 20;

/* Under AddressSanitizer every large block is fresh mmap'ed memory, and
 * MuJoCo takes megabytes per model (mjData's buffer and stack, twice: its
 * compiler tries one): page faults were most of the time of an input. So
 * freed blocks of 1 MiB and more are kept (poisoned, so that a use after
 * free is still reported) and handed out again for the same size. */
#if defined(__SANITIZE_ADDRESS__)
#define HAVE_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define HAVE_ASAN 1
#endif
#endif
#ifdef HAVE_ASAN
#include <sanitizer/asan_interface.h>
#define POISON(p, n) ASAN_POISON_MEMORY_REGION(p, n)
#define UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION(p, n)
#else
#define POISON(p, n) ((void)(p), (void)(n))
#define UNPOISON(p, n) ((void)(p), (void)(n))
#endif

enum { PREFIX = 64, CACHE_SLOTS = 8, CACHE_MIN = 1 << 20 };
static struct {
    unsigned char *p; /* the prefix's address; NULL: empty slot */
    size_t size;      /* rounded size after the prefix */
} cache[CACHE_SLOTS];

static void *capped_mj_malloc(size_t n)
{
    if (n > MJ_ALLOC_CAP)
        return NULL;
    /* MuJoCo lays its buffers out for 64-byte aligned blocks */
    const size_t size = (n + 63) / 64 * 64;
    unsigned char *b = NULL;
    for (int i = 0; i < CACHE_SLOTS && b == NULL; i++) {
        if (cache[i].p != NULL && cache[i].size == size) {
            b = cache[i].p;
            cache[i].p = NULL;
            UNPOISON(b + PREFIX, size);
        }
    }
    if (b == NULL && (b = aligned_alloc(64, PREFIX + size)) == NULL)
        return NULL;
    *(size_t *)(void *)b = size;
    return b + PREFIX;
}

static void mj_free(void *p)
{
    if (p == NULL)
        return;
    unsigned char *b = (unsigned char *)p - PREFIX;
    const size_t size = *(size_t *)(void *)b;
    if (size >= CACHE_MIN) {
        for (int i = 0; i < CACHE_SLOTS; i++) {
            if (cache[i].p == NULL) {
                POISON(p, size);
                cache[i].p = b;
                cache[i].size = size;
                return;
            }
        }
    }
    free(b);
}

static void mj_fatal(const char *msg)
{
    fuzz_fail("MuJoCo fatal error (mju_error): %s", msg);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    mju_user_malloc = capped_mj_malloc;
    mju_user_free = mj_free;
    mju_user_error = mj_fatal;
    return 0;
}

/* ---- the task description ------------------------------------------------- */

typedef struct harness {
    contrl_mj_task task;
    bool reward_cb, reset_fail;
    uint64_t seed;
    uint32_t steps;
    uint32_t n_qpos_given, n_qvel_given; /* list lengths as written */
} harness;

static void observe_cb(void *user, const mjModel *m, const mjData *d, float *obs)
{
    const uint32_t n = *(const uint32_t *)user;
    for (uint32_t i = 0; i < n; i++)
        obs[i] = m->nq > 0 ? (float)d->qpos[i % (uint32_t)m->nq] : 0.0f;
}

static void reward_cb(void *user, const mjModel *m, const mjData *d, const float *action,
                      float *reward, bool *terminated)
{
    (void)user;
    double r = 0.0;
    for (int i = 0; i < m->nv; i++)
        r += d->qvel[i];
    *reward = (float)r + action[0];
    *terminated = m->nq > 0 && d->qpos[0] > 1e3;
}

static contrl_status reset_fail_cb(void *user, const mjModel *m, mjData *d, contrl_rng *rng)
{
    (void)user;
    (void)m;
    (void)d;
    (void)rng;
    return contrl_set_error(CONTRL_ERR_STATE, "fuzz reset callback: refused on purpose");
}

static uint32_t observe_dim_store;

static void parse_ints(const char *s, int32_t *out, uint32_t *n, uint32_t *given)
{
    uint32_t k = 0;
    char *end;
    for (;;) {
        long long v = strtoll(s, &end, 10);
        if (end == s)
            break;
        if (k < CONTRL_MJ_MAX_OBS_INDICES)
            out[k] = (int32_t)v;
        k++;
        s = end;
    }
    *n = k;
    *given = k;
}

/* Applies one "key values" line to h. */
static void parse_line(harness *h, char *line)
{
    char *val = line;
    while (*val != '\0' && *val != ' ')
        val++;
    if (*val == ' ')
        *val++ = '\0';
    contrl_mj_task *t = &h->task;
    const long long i = strtoll(val, NULL, 10);
    const double f = strtod(val, NULL);
    static char name[64];
#define IS(k) (strcmp(line, k) == 0)
    if (IS("name")) {
        snprintf(name, sizeof name, "%s", val);
        t->name = name;
    } else if (IS("size"))
        t->size = (size_t)i;
    else if (IS("frame_skip"))
        t->frame_skip = (uint32_t)i;
    else if (IS("max_episode_steps"))
        t->max_episode_steps = (uint32_t)i;
    else if (IS("post_constraint"))
        t->post_constraint = i != 0;
    else if (IS("unstable_is_error"))
        t->unstable_is_error = i != 0;
    else if (IS("obs_qpos"))
        parse_ints(val, t->obs_qpos, &t->n_obs_qpos, &h->n_qpos_given);
    else if (IS("obs_qvel"))
        parse_ints(val, t->obs_qvel, &t->n_obs_qvel, &h->n_qvel_given);
    else if (IS("n_obs_qpos"))
        t->n_obs_qpos = (uint32_t)i;
    else if (IS("n_obs_qvel"))
        t->n_obs_qvel = (uint32_t)i;
    else if (IS("obs_qvel_clip"))
        t->obs_qvel_clip = f;
    else if (IS("forward_weight"))
        t->forward_weight = f;
    else if (IS("forward_qpos"))
        t->forward_qpos = (int32_t)i;
    else if (IS("forward_body"))
        t->forward_body = (int32_t)i;
    else if (IS("ctrl_cost_weight"))
        t->ctrl_cost_weight = f;
    else if (IS("healthy_reward"))
        t->healthy_reward = f;
    else if (IS("terminate_when_unhealthy"))
        t->terminate_when_unhealthy = i != 0;
    else if (IS("healthy_reward_only_when_healthy"))
        t->healthy_reward_only_when_healthy = i != 0;
    else if (IS("healthy_z_qpos"))
        t->healthy_z_qpos = (int32_t)i;
    else if (IS("healthy_z_min"))
        t->healthy_z_min = f;
    else if (IS("healthy_z_max"))
        t->healthy_z_max = f;
    else if (IS("healthy_angle_qpos"))
        t->healthy_angle_qpos = (int32_t)i;
    else if (IS("healthy_angle_min"))
        t->healthy_angle_min = f;
    else if (IS("healthy_angle_max"))
        t->healthy_angle_max = f;
    else if (IS("healthy_state_max"))
        t->healthy_state_max = f;
    else if (IS("healthy_state_from"))
        t->healthy_state_from = (uint32_t)i;
    else if (IS("reset_noise_scale"))
        t->reset_noise_scale = f;
    else if (IS("qpos_noise"))
        t->qpos_noise = (contrl_mj_noise)i;
    else if (IS("qvel_noise"))
        t->qvel_noise = (contrl_mj_noise)i;
    else if (IS("observe_dim")) {
        t->observe = observe_cb;
        t->obs_dim = (uint32_t)i;
        observe_dim_store = t->obs_dim;
        t->user = &observe_dim_store;
    } else if (IS("reward_cb"))
        h->reward_cb = i != 0;
    else if (IS("reset_fail"))
        h->reset_fail = i != 0;
    else if (IS("seed"))
        h->seed = (uint64_t)i;
    else if (IS("steps"))
        h->steps = (uint32_t)i;
#undef IS
}

/* Splits the input into the task (h) and the model text (returned, a
 * NUL-terminated copy in buf). */
static const char *parse_input(const uint8_t *data, size_t size, harness *h, char *buf)
{
    memcpy(buf, data, size);
    buf[size] = '\0';
    memset(h, 0, sizeof *h);
    h->task = contrl_mj_task_default();
    h->steps = 20;
    char *sep = NULL;
    if (strncmp(buf, "%%\n", 3) == 0)
        sep = buf;
    else if ((sep = strstr(buf, "\n%%\n")) != NULL)
        sep++;
    if (sep == NULL) { /* the model alone: observe everything */
        h->task.obs_qpos[0] = -1;
        h->task.n_obs_qpos = 1;
        h->task.obs_qvel[0] = -1;
        h->task.n_obs_qvel = 1;
        return buf;
    }
    *sep = '\0';
    for (char *line = buf; line != NULL;) {
        char *next = strchr(line, '\n');
        if (next != NULL)
            *next++ = '\0';
        parse_line(h, line);
        line = next;
    }
    if (h->reward_cb)
        h->task.reward = reward_cb;
    if (h->reset_fail)
        h->task.reset = reset_fail_cb;
    return sep + 3;
}

/* ---- the oracle: what the env's dimensions must be ----------------------- */

/* The count of an observation index list (as contrl/mujoco.h defines it), or
 * -1 if the list is invalid for `size` entries. */
static long list_count(const int32_t *idx, uint32_t n, int32_t size)
{
    if (n > CONTRL_MJ_MAX_OBS_INDICES)
        return -1;
    if (n == 1 && idx[0] == -1)
        return size;
    if (n == 1 && idx[0] < -1) {
        long from = -2L - (long)idx[0];
        return from <= size ? size - from : -1;
    }
    for (uint32_t i = 0; i < n; i++)
        if (idx[i] < 0 || idx[i] >= size)
            return -1;
    return n;
}

static bool printable_line(const char *s)
{
    if (s[0] == '\0')
        return false;
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f)
            return false;
    return true;
}

static bool all_zero(const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        if (b[i] != 0)
            return false;
    return true;
}

/* ---- running an env ---------------------------------------------------------- */

static float obs_buf[MAX_OBS];

static void exercise(const harness *h, contrl_env *env)
{
    const mjModel *m = contrl_mj_env_model(env);
    FUZZ_CHECK(m != NULL && contrl_mj_env_data(env) != NULL, "an env without model or data");
    FUZZ_CHECK(contrl_env_check(env) == CONTRL_OK, "a made env fails contrl_env_check: %s",
               contrl_last_error());
    const contrl_mj_task *t = &h->task;
    long want_obs = t->observe != NULL
                        ? (long)t->obs_dim
                        : list_count(t->obs_qpos, t->n_obs_qpos, m->nq) +
                              list_count(t->obs_qvel, t->n_obs_qvel, m->nv);
    FUZZ_CHECK(t->observe != NULL || (list_count(t->obs_qpos, t->n_obs_qpos, m->nq) >= 0 &&
                                      list_count(t->obs_qvel, t->n_obs_qvel, m->nv) >= 0),
               "an invalid observation list was accepted");
    FUZZ_CHECK(env->obs_dim == (uint32_t)want_obs, "obs_dim %u, expected %ld", env->obs_dim,
               want_obs);
    FUZZ_CHECK(env->action_dim == (uint32_t)m->nu, "action_dim %u, nu %d", env->action_dim,
               m->nu);
    for (int i = 0; i < m->nu; i++) {
        const bool lim = m->actuator_ctrllimited[i] != 0;
        const float lo = lim ? (float)m->actuator_ctrlrange[2 * i] : -1.0f;
        const float hi = lim ? (float)m->actuator_ctrlrange[2 * i + 1] : 1.0f;
        FUZZ_CHECK(env->action_low[i] == lo && env->action_high[i] == hi,
                   "action bounds of actuator %d are not its ctrlrange", i);
    }
    if (env->obs_dim > MAX_OBS || t->frame_skip > MAX_SUBSTEPS)
        return; /* valid, but too big or too slow to run here */
    uint32_t steps = h->steps < MAX_STEPS ? h->steps : MAX_STEPS;
    if ((uint64_t)steps * t->frame_skip > MAX_SUBSTEPS)
        steps = MAX_SUBSTEPS / t->frame_skip;
    float action[256];
    if (env->action_dim > 256)
        return;
    uint64_t taken = 0;
    for (int episode = 0; episode < 2; episode++) {
        contrl_clear_error();
        contrl_status st = contrl_env_reset(env, h->seed + (uint64_t)episode, obs_buf);
        if (h->reset_fail) {
            FUZZ_CHECK(st == CONTRL_ERR_STATE && strstr(contrl_last_error(), "on purpose"),
                       "a failing reset callback gives %d: %s", (int)st, contrl_last_error());
            float r;
            bool te, tr;
            for (uint32_t k = 0; k < env->action_dim; k++)
                action[k] = env->action_low[k];
            st = contrl_env_step(env, action, obs_buf, &r, &te, &tr);
            FUZZ_CHECK(st == CONTRL_ERR_STATE, "a step after a failed reset gives %d", (int)st);
            return;
        }
        FUZZ_CHECK(st == CONTRL_OK || st == CONTRL_ERR_NONFINITE,
                   "reset gives %d: %s", (int)st, contrl_last_error());
        FUZZ_CHECK(st == CONTRL_OK || printable_line(contrl_last_error()),
                   "reset failed without a readable message");
        if (st != CONTRL_OK)
            continue;
        for (uint32_t s = 0; s < steps; s++) {
            for (uint32_t k = 0; k < env->action_dim; k++) {
                const float frac = (float)((s * 7 + k * 3) % 11) / 10.0f;
                float a = env->action_low[k] * (1.0f - frac) + env->action_high[k] * frac;
                action[k] = a < env->action_low[k]    ? env->action_low[k]
                            : a > env->action_high[k] ? env->action_high[k]
                                                      : a;
            }
            float r;
            bool te = false, tr = false;
            contrl_clear_error();
            st = contrl_env_step(env, action, obs_buf, &r, &te, &tr);
            taken++;
            FUZZ_CHECK(st == CONTRL_OK || st == CONTRL_ERR_NONFINITE ||
                           (st == CONTRL_ERR_NUMERIC && t->unstable_is_error),
                       "step gives %d: %s", (int)st, contrl_last_error());
            if (st != CONTRL_OK) {
                FUZZ_CHECK(printable_line(contrl_last_error()),
                           "a failed step without a readable message");
                break;
            }
            FUZZ_CHECK(!(te && tr), "a step both terminated and truncated");
            if (te || tr) {
                FUZZ_CHECK(contrl_env_step(env, action, obs_buf, &r, &te, &tr) ==
                               CONTRL_ERR_STATE,
                           "a step after the end of an episode is not STATE");
                break;
            }
        }
    }
    FUZZ_CHECK(contrl_mj_env_unstable_count(env) <= taken, "%llu unstable steps in %llu",
               (unsigned long long)contrl_mj_env_unstable_count(env),
               (unsigned long long)taken);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char buf[MAX_INPUT + 1];
    if (mju_user_error != mj_fatal)
        LLVMFuzzerInitialize(NULL, NULL);
    fuzz_accepted = 0;
    if (size > MAX_INPUT)
        return 0;
    harness h;
    const char *xml = parse_input(data, size, &h, buf);
    contrl_allocator alloc = fuzz_allocator();

    contrl_env env;
    memset(&env, 0xa5, sizeof env);
    contrl_clear_error();
    contrl_status st = contrl_mj_env_from_xml(xml, &h.task, &alloc, &env);
    if (st != CONTRL_OK) {
        FUZZ_CHECK(st == CONTRL_ERR_INVALID_ARG || st == CONTRL_ERR_FORMAT ||
                       st == CONTRL_ERR_NOMEM,
                   "from_xml: unexpected status %d", (int)st);
        FUZZ_CHECK(printable_line(contrl_last_error()),
                   "from_xml failed without a one-line message: \"%s\"", contrl_last_error());
        FUZZ_CHECK(all_zero(&env, sizeof env), "a failed from_xml left *env not zeroed");
    } else {
        exercise(&h, &env);
        contrl_env_close(&env);
    }
    fuzz_allocator_check_balanced("from_xml");

    /* The same bytes as a file. Not when the text names other files: text
     * in memory refuses them, a file reads them relative to its directory,
     * here /proc/self/fd (file="0" would read stdin). */
    if (st == CONTRL_ERR_FORMAT && strstr(contrl_last_error(), "names a file") != NULL) {
        fuzz_accepted = 0;
        return 0;
    }
    contrl_env fenv;
    const char *path = fuzz_memfile((const uint8_t *)xml, strlen(xml));
    contrl_status fst = contrl_mj_env_from_file(path, &h.task, &alloc, &fenv);
    /* an empty text is FORMAT in memory; the file route must agree */
    FUZZ_CHECK(fst == st, "file path gives %d (%s), memory path %d", (int)fst,
               contrl_last_error(), (int)st);
    if (fst == CONTRL_OK)
        contrl_env_close(&fenv);
    fuzz_allocator_check_balanced("from_file");
    fuzz_accepted = st == CONTRL_OK;
    return 0;
}
