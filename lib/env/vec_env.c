/*
 * lib/env/vec_env.c - n envs stepped together on a fixed pool of workers
 * (contrl/vec_env.h, docs/vec-env.md).
 *
 * Worker w (0 <= w < threads) always runs envs w, w + threads, w + 2
 * threads, ...; worker 0 is the calling thread, the others are threads
 * started at create. A call publishes a job (reset or step) by bumping
 * `generation`; each worker runs its share and counts itself into `done`.
 * Waiting on either side spins for up to SPIN_NS, then sleeps on a
 * condition variable: a Pendulum step takes about 0.1 us, far less than a
 * futex wake-up (docs/vec-env.md has the measurements).
 *
 * Each worker records the first env of its share that fails, with the
 * message from its own thread's last-error buffer; since every share is
 * run in increasing env order, the lowest failing env over all workers is
 * the same for any thread count, and the calling thread re-raises its
 * status and message.
 */
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "vec_env_internal.h"
#include "spin.h"

/* How long a waiting worker, or the caller waiting for the workers, spins
 * (and yields) before sleeping on a condition variable. */
#ifndef SPIN_NS
#define SPIN_NS 20000
#endif

enum job { JOB_NONE, JOB_RESET, JOB_STEP, JOB_QUIT };

typedef struct worker {
    _Alignas(64) contrl_vec_env *v; /* own cache line: workers write their status */
    uint32_t index;
    uint32_t failed_env;            /* the first env of this share that failed */
    contrl_status status;
    char msg[512];                  /* that env's message, from this worker's thread */
} worker;

struct contrl_vec_env {
    contrl_allocator alloc; /* frees this block */
    size_t block_size;
    uint32_t n, obs_dim, act_dim, threads;
    contrl_env *envs;    /* [n], owned */
    float *obs;          /* [n, obs_dim] current observations */
    uint32_t *ep_steps;  /* [n] steps in the current episode */
    uint64_t *episode;   /* [n] episode number since the last reset */
    uint64_t seed;       /* of the last reset */
    bool ready;          /* reset, and no failure since */
    worker *workers;     /* [threads] */
    pthread_t *tids;     /* [threads - 1] */
    uint32_t started;    /* threads running */

    /* The job, written by the caller before it bumps `generation`. */
    enum job job;
    const float *actions;
    float *next_obs, *rewards;
    bool *terminated, *truncated;

    pthread_mutex_t mu;
    pthread_cond_t wake;    /* generation changed */
    pthread_cond_t all_done;
    bool sync_ready;        /* mu and the conds are initialised */
    uint32_t sleepers;      /* workers waiting on wake (under mu) */
    bool caller_sleeping;   /* the caller waits on all_done (under mu) */
    char saved_msg[512];    /* the caller's last error, kept across a call */
    /* One cache line each: workers poll the first while others add to the second. */
    _Alignas(64) _Atomic uint64_t generation;
    _Alignas(64) _Atomic uint32_t done;

    contrl__vec_scratch scratch;
};

/* ---- seeds ---------------------------------------------------------------- */

static const uint64_t GOLDEN = 0x9e3779b97f4a7c15u;

static uint64_t mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

uint64_t contrl_vec_env_seed(uint64_t seed, uint32_t env, uint64_t episode)
{
    return mix64(mix64(seed + ((uint64_t)env + 1) * GOLDEN) + episode * GOLDEN);
}

/* ---- the work ------------------------------------------------------------ */

static void record_failure(worker *w, uint32_t env, contrl_status st, const char *call)
{
    w->status = st;
    w->failed_env = env;
    const char *msg = contrl_last_error();
    if (msg[0] != '\0')
        snprintf(w->msg, sizeof w->msg, "%s", msg);
    else
        snprintf(w->msg, sizeof w->msg, "its %s callback returned \"%s\" without a message",
                 call, contrl_status_string(st));
}

static void run_reset(contrl_vec_env *v, worker *w)
{
    const uint32_t O = v->obs_dim;
    for (uint32_t i = w->index; i < v->n; i += v->threads) {
        v->ep_steps[i] = 0;
        v->episode[i] = 0;
        contrl_clear_error(); /* a failure without a message must not show an old one */
        contrl_status st = contrl_env_reset(&v->envs[i], contrl_vec_env_seed(v->seed, i, 0),
                                            v->obs + (size_t)i * O);
        if (st != CONTRL_OK) {
            record_failure(w, i, st, "reset");
            return;
        }
    }
}

static void run_step(contrl_vec_env *v, worker *w)
{
    const uint32_t O = v->obs_dim, A = v->act_dim;
    for (uint32_t i = w->index; i < v->n; i += v->threads) {
        contrl_env *e = &v->envs[i];
        float *next = v->next_obs + (size_t)i * O;
        bool term = false, trunc = false;
        contrl_clear_error();
        contrl_status st = contrl_env_step(e, v->actions + (size_t)i * A, next, &v->rewards[i],
                                           &term, &trunc);
        if (st != CONTRL_OK) {
            record_failure(w, i, st, "step");
            return;
        }
        v->ep_steps[i]++;
        /* The time limit, for an env that does not truncate itself. */
        if (!term && !trunc && e->max_episode_steps > 0 && v->ep_steps[i] >= e->max_episode_steps)
            trunc = true;
        v->terminated[i] = term;
        v->truncated[i] = trunc;
        float *obs = v->obs + (size_t)i * O;
        if (term || trunc) {
            v->ep_steps[i] = 0;
            v->episode[i]++;
            contrl_clear_error();
            st = contrl_env_reset(e, contrl_vec_env_seed(v->seed, i, v->episode[i]), obs);
            if (st != CONTRL_OK) {
                record_failure(w, i, st, "reset");
                return;
            }
        } else {
            memcpy(obs, next, O * sizeof(float));
        }
    }
}

static void run_share(contrl_vec_env *v, worker *w)
{
    w->status = CONTRL_OK;
    if (v->job == JOB_RESET)
        run_reset(v, w);
    else if (v->job == JOB_STEP)
        run_step(v, w);
}

/* ---- synchronisation ------------------------------------------------------ */

/* Wait for ready(v, arg) without sleeping for up to SPIN_NS: 64 pause
 * instructions (the other side is usually about to finish), then
 * sched_yield, which costs little on an idle core and gives the core away
 * when the machine is oversubscribed (pure spinning measured several times
 * slower there: docs/vec-env.md). true if it became ready. */
static bool spin_until(bool (*ready)(contrl_vec_env *, uint64_t), contrl_vec_env *v,
                       uint64_t arg)
{
    if (SPIN_NS <= 0)
        return ready(v, arg);
    uint64_t start = 0;
    for (uint32_t k = 0;; k++) {
        if (ready(v, arg))
            return true;
        if (k < 64) {
            contrl__cpu_relax();
            continue;
        }
        if (k == 64) {
            start = contrl__now_ns();
        } else if ((k & 7) == 0 && contrl__now_ns() - start >= (uint64_t)SPIN_NS) {
            return false;
        }
        sched_yield();
    }
}

static bool generation_moved(contrl_vec_env *v, uint64_t seen)
{
    return atomic_load_explicit(&v->generation, memory_order_acquire) != seen;
}

static bool all_workers_done(contrl_vec_env *v, uint64_t unused)
{
    (void)unused;
    return atomic_load_explicit(&v->done, memory_order_acquire) == v->threads - 1;
}

static void *worker_main(void *arg)
{
    worker *w = arg;
    contrl_vec_env *v = w->v;
    uint64_t seen = 0;
    for (;;) {
        if (!spin_until(generation_moved, v, seen)) {
            pthread_mutex_lock(&v->mu);
            while (!generation_moved(v, seen)) {
                v->sleepers++;
                pthread_cond_wait(&v->wake, &v->mu);
                v->sleepers--;
            }
            pthread_mutex_unlock(&v->mu);
        }
        seen = atomic_load_explicit(&v->generation, memory_order_acquire);
        if (v->job == JOB_QUIT)
            return NULL;
        run_share(v, w);
        /* The last worker to finish wakes the caller if it sleeps; it checks
         * under the mutex, which the caller holds from its own check of
         * `done` until it waits, so the wake-up cannot be lost. */
        uint32_t d = atomic_fetch_add_explicit(&v->done, 1, memory_order_acq_rel) + 1;
        if (d == v->threads - 1) {
            pthread_mutex_lock(&v->mu);
            if (v->caller_sleeping)
                pthread_cond_signal(&v->all_done);
            pthread_mutex_unlock(&v->mu);
        }
    }
}

/* Run v->job on every worker, the calling thread as worker 0. */
static void run_job(contrl_vec_env *v)
{
    if (v->threads > 1) {
        atomic_store_explicit(&v->done, 0, memory_order_relaxed);
        pthread_mutex_lock(&v->mu);
        atomic_fetch_add_explicit(&v->generation, 1, memory_order_release);
        if (v->sleepers > 0)
            pthread_cond_broadcast(&v->wake);
        pthread_mutex_unlock(&v->mu);
    }
    if (v->job != JOB_QUIT)
        run_share(v, &v->workers[0]);
    if (v->threads > 1 && v->job != JOB_QUIT && !spin_until(all_workers_done, v, 0)) {
        pthread_mutex_lock(&v->mu);
        while (!all_workers_done(v, 0)) {
            v->caller_sleeping = true;
            pthread_cond_wait(&v->all_done, &v->mu);
        }
        v->caller_sleeping = false;
        pthread_mutex_unlock(&v->mu);
    }
}

/* Run v->job; return the status of the lowest-numbered failing env with
 * its message re-raised on the calling thread. The workers empty their
 * message buffers before every env call, the caller's included: its
 * message is kept aside and put back after a success. */
static contrl_status run_and_collect(contrl_vec_env *v, const char *fn)
{
    const char *caller_msg = contrl_last_error();
    size_t len = strlen(caller_msg);
    if (len >= sizeof v->saved_msg)
        len = sizeof v->saved_msg - 1;
    memcpy(v->saved_msg, caller_msg, len);
    v->saved_msg[len] = '\0';

    run_job(v);

    const worker *first = NULL;
    for (uint32_t w = 0; w < v->threads; w++) {
        const worker *k = &v->workers[w];
        if (k->status != CONTRL_OK && (first == NULL || k->failed_env < first->failed_env))
            first = k;
    }
    if (first == NULL) {
        if (len > 0)
            contrl__fail(CONTRL_OK, "%s", v->saved_msg);
        else
            contrl_clear_error();
        return CONTRL_OK;
    }
    v->ready = false;
    return contrl__fail(first->status, "%s: env %u: %s", fn, first->failed_env, first->msg);
}

/* ---- life cycle ------------------------------------------------------------ */

static contrl_vec_env_config vec_env_defaults(void)
{
    contrl_vec_env_config c;
    memset(&c, 0, sizeof c); /* padding too: config_copy compares bytes */
    c.size = sizeof c;
    c.threads = 1;
    return c;
}

/* The whole struct is the first published layout. */
contrl_status contrl_vec_env_config_init(contrl_vec_env_config *cfg, size_t size)
{
    contrl_vec_env_config d = vec_env_defaults();
    return contrl__config_init(cfg, size, &d, sizeof d, sizeof d, "contrl_vec_env_config_init");
}

static const char *name_of(const contrl_env *e)
{
    return e->name != NULL ? e->name : "(unnamed)";
}

/* envs[i] is usable and matches envs[0]. */
static contrl_status check_env(const contrl_env *envs, uint32_t i, const char *fn)
{
    const contrl_env *e = &envs[i], *e0 = &envs[0];
    contrl_status st = contrl_env_check(e);
    if (st != CONTRL_OK) {
        char msg[400];
        snprintf(msg, sizeof msg, "%s", contrl_last_error());
        return contrl__fail(st, "%s: envs[%u]: %s", fn, i, msg);
    }
    if (i == 0)
        return CONTRL_OK;
    if (e->obs_dim != e0->obs_dim || e->action_dim != e0->action_dim)
        return contrl__fail(CONTRL_ERR_INVALID_ARG,
                            "%s: envs[%u] (\"%s\") has obs_dim %u, action_dim %u; envs[0] "
                            "(\"%s\") has %u, %u", fn, i, name_of(e), e->obs_dim, e->action_dim,
                            name_of(e0), e0->obs_dim, e0->action_dim);
    for (uint32_t j = 0; j < e->action_dim; j++) {
        if (e->action_low[j] != e0->action_low[j] || e->action_high[j] != e0->action_high[j])
            return contrl__fail(CONTRL_ERR_INVALID_ARG,
                                "%s: envs[%u] (\"%s\") has action bounds [%g, %g] in dimension "
                                "%u; envs[0] (\"%s\") has [%g, %g]", fn, i, name_of(e),
                                (double)e->action_low[j], (double)e->action_high[j], j,
                                name_of(e0), (double)e0->action_low[j],
                                (double)e0->action_high[j]);
    }
    for (uint32_t k = 0; k < i && e->user != NULL; k++)
        if (envs[k].user == e->user)
            return contrl__fail(CONTRL_ERR_INVALID_ARG,
                                "%s: envs[%u] and envs[%u] share one instance (the same user "
                                "pointer); make a separate env for each", fn, k, i);
    return CONTRL_OK;
}

/* Carve `count` elements of `size` bytes, 64-aligned, from a running total:
 * returns the offset, or SIZE_MAX on overflow. */
static size_t take(size_t *total, size_t count, size_t size)
{
    size_t bytes;
    if (*total == SIZE_MAX || !contrl__mul_size(count, size, &bytes) ||
        bytes > SIZE_MAX - 64 - *total) {
        *total = SIZE_MAX;
        return SIZE_MAX;
    }
    size_t at = *total;
    *total = contrl__round_up(at + bytes, 64);
    return at;
}

static void stop_workers(contrl_vec_env *v)
{
    if (v->started > 0) {
        v->job = JOB_QUIT;
        run_job(v);
        for (uint32_t t = 0; t < v->started; t++)
            pthread_join(v->tids[t], NULL);
        v->started = 0;
    }
    if (v->sync_ready) {
        pthread_cond_destroy(&v->all_done);
        pthread_cond_destroy(&v->wake);
        pthread_mutex_destroy(&v->mu);
        v->sync_ready = false;
    }
}

/* Start threads - 1 workers with every signal blocked, so that signals go
 * to the program's own threads. */
static contrl_status start_workers(contrl_vec_env *v, const char *fn)
{
    if (v->threads == 1)
        return CONTRL_OK;
    if (pthread_mutex_init(&v->mu, NULL) != 0)
        return contrl__fail(CONTRL_ERR_NOMEM, "%s: pthread_mutex_init failed", fn);
    if (pthread_cond_init(&v->wake, NULL) != 0) {
        pthread_mutex_destroy(&v->mu);
        return contrl__fail(CONTRL_ERR_NOMEM, "%s: pthread_cond_init failed", fn);
    }
    if (pthread_cond_init(&v->all_done, NULL) != 0) {
        pthread_cond_destroy(&v->wake);
        pthread_mutex_destroy(&v->mu);
        return contrl__fail(CONTRL_ERR_NOMEM, "%s: pthread_cond_init failed", fn);
    }
    v->sync_ready = true;
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int rc = 0;
    for (uint32_t t = 1; t < v->threads && rc == 0; t++) {
        rc = pthread_create(&v->tids[t - 1], NULL, worker_main, &v->workers[t]);
        if (rc == 0)
            v->started++;
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) {
        uint32_t got = v->started;
        stop_workers(v);
        return contrl__fail(CONTRL_ERR_NOMEM,
                            "%s: could not start worker thread %u of %u (pthread_create "
                            "returned %d)", fn, got + 1, v->threads - 1, rc);
    }
    return CONTRL_OK;
}

contrl_status contrl_vec_env_create(contrl_env *envs, uint32_t n, const contrl_vec_env_config *cfg_in,
                                    contrl_vec_env **out)
{
    static const char fn[] = "contrl_vec_env_create";
    if (out == NULL)
        return contrl__fail(CONTRL_ERR_INVALID_ARG, "%s: out is NULL", fn);
    *out = NULL;
    if (envs == NULL)
        return contrl__fail(CONTRL_ERR_INVALID_ARG, "%s: envs is NULL", fn);
    if (n == 0)
        return contrl__fail(CONTRL_ERR_INVALID_ARG, "%s: n is 0", fn);
    contrl_vec_env_config cfg = vec_env_defaults();
    contrl_status st;
    if (cfg_in != NULL &&
        (st = contrl__config_copy(&cfg, cfg_in, sizeof cfg, sizeof cfg, fn)) != CONTRL_OK)
        return st;
    if ((st = contrl__check_allocator(&cfg.allocator, fn)) != CONTRL_OK)
        return st;
    if (cfg.threads == 0)
        return contrl__fail(CONTRL_ERR_INVALID_ARG, "%s: threads is 0 (1 runs every env on the "
                            "calling thread)", fn);
    for (uint32_t i = 0; i < n; i++)
        if ((st = check_env(envs, i, fn)) != CONTRL_OK)
            return st;

    const uint32_t threads = cfg.threads < n ? cfg.threads : n;
    const size_t O = envs[0].obs_dim, A = envs[0].action_dim;
    size_t total = sizeof(contrl_vec_env), rows_o = SIZE_MAX, rows_a = SIZE_MAX;
    if (!contrl__mul_size(n, O, &rows_o) || !contrl__mul_size(n, A, &rows_a))
        total = SIZE_MAX;
    total = contrl__round_up(total, 64);
    size_t at_workers = take(&total, threads, sizeof(worker));
    size_t at_envs = take(&total, n, sizeof(contrl_env));
    size_t at_obs = take(&total, rows_o, sizeof(float));
    size_t at_ep_steps = take(&total, n, sizeof(uint32_t));
    size_t at_episode = take(&total, n, sizeof(uint64_t));
    size_t at_tids = take(&total, threads, sizeof(pthread_t));
    size_t at_s_obs = take(&total, rows_o, sizeof(float));
    size_t at_s_act = take(&total, rows_a, sizeof(float));
    size_t at_s_next = take(&total, rows_o, sizeof(float));
    size_t at_s_rew = take(&total, n, sizeof(float));
    size_t at_s_term = take(&total, n, sizeof(bool));
    size_t at_s_trunc = take(&total, n, sizeof(bool));
    size_t at_s_ret = take(&total, n, sizeof(double));
    size_t at_s_noise = take(&total, rows_a, sizeof(float));
    if (total == SIZE_MAX)
        return contrl__fail(CONTRL_ERR_NOMEM, "%s: %u envs of obs_dim %zu, action_dim %zu "
                            "overflow the address space", fn, n, O, A);
    unsigned char *block = contrl__alloc(&cfg.allocator, total);
    if (block == NULL)
        return contrl__fail(CONTRL_ERR_NOMEM, "%s: could not allocate %zu bytes", fn, total);
    memset(block, 0, total);

    contrl_vec_env *v = (contrl_vec_env *)(void *)block;
    v->alloc = cfg.allocator;
    v->block_size = total;
    v->n = n;
    v->obs_dim = (uint32_t)O;
    v->act_dim = (uint32_t)A;
    v->threads = threads;
    v->workers = (worker *)(void *)(block + at_workers);
    v->envs = (contrl_env *)(void *)(block + at_envs);
    v->obs = (float *)(void *)(block + at_obs);
    v->ep_steps = (uint32_t *)(void *)(block + at_ep_steps);
    v->episode = (uint64_t *)(void *)(block + at_episode);
    v->tids = (pthread_t *)(void *)(block + at_tids);
    v->scratch.obs = (float *)(void *)(block + at_s_obs);
    v->scratch.actions = (float *)(void *)(block + at_s_act);
    v->scratch.next_obs = (float *)(void *)(block + at_s_next);
    v->scratch.rewards = (float *)(void *)(block + at_s_rew);
    v->scratch.terminated = (bool *)(void *)(block + at_s_term);
    v->scratch.truncated = (bool *)(void *)(block + at_s_trunc);
    v->scratch.returns = (double *)(void *)(block + at_s_ret);
    v->scratch.noise = (float *)(void *)(block + at_s_noise);
    v->job = JOB_NONE;
    atomic_init(&v->generation, 0);
    atomic_init(&v->done, 0);
    for (uint32_t w = 0; w < threads; w++) {
        v->workers[w].v = v;
        v->workers[w].index = w;
        v->workers[w].status = CONTRL_OK;
    }
    if ((st = start_workers(v, fn)) != CONTRL_OK) {
        contrl__free(&v->alloc, block, total);
        return st;
    }
    memcpy(v->envs, envs, (size_t)n * sizeof(contrl_env));
    memset(envs, 0, (size_t)n * sizeof(contrl_env));
    *out = v;
    return CONTRL_OK;
}

void contrl_vec_env_destroy(contrl_vec_env *v)
{
    if (v == NULL)
        return;
    stop_workers(v);
    for (uint32_t i = 0; i < v->n; i++)
        contrl_env_close(&v->envs[i]);
    contrl_allocator a = v->alloc;
    contrl__free(&a, v, v->block_size);
}

/* ---- reset and step -------------------------------------------------------- */

contrl_status contrl_vec_env_reset(contrl_vec_env *v, uint64_t seed)
{
    static const char fn[] = "contrl_vec_env_reset";
    if (v == NULL)
        return contrl__fail(CONTRL_ERR_INVALID_ARG, "%s: v is NULL", fn);
    v->seed = seed;
    v->job = JOB_RESET;
    contrl_status st = run_and_collect(v, fn);
    v->ready = st == CONTRL_OK;
    return st;
}

contrl_status contrl_vec_env_step(contrl_vec_env *v, const float *actions, float *next_obs,
                                  float *rewards, bool *terminated, bool *truncated)
{
    static const char fn[] = "contrl_vec_env_step";
    if (v == NULL || actions == NULL || next_obs == NULL || rewards == NULL ||
        terminated == NULL || truncated == NULL)
        return contrl__fail(CONTRL_ERR_INVALID_ARG, "%s: %s is NULL", fn,
                            v == NULL          ? "v"
                            : actions == NULL  ? "actions"
                            : next_obs == NULL ? "next_obs"
                            : rewards == NULL  ? "rewards"
                            : terminated == NULL ? "terminated"
                                                 : "truncated");
    if (!v->ready)
        return contrl__fail(CONTRL_ERR_STATE,
                            "%s: the envs need a reset (none yet, or a call failed); call "
                            "contrl_vec_env_reset", fn);
    const uint32_t A = v->act_dim;
    const float *lo = v->envs[0].action_low, *hi = v->envs[0].action_high;
    for (uint32_t i = 0; i < v->n; i++)
        for (uint32_t j = 0; j < A; j++) {
            float a = actions[(size_t)i * A + j];
            if (!(a >= lo[j] && a <= hi[j])) /* a NaN fails too */
                return contrl__fail(CONTRL_ERR_INVALID_ARG,
                                    "%s: actions[%zu] (env %u, action[%u]) = %g is %s [%g, %g]",
                                    fn, (size_t)i * A + j, i, j, (double)a,
                                    isnan(a) ? "NaN, not in" : "outside", (double)lo[j],
                                    (double)hi[j]);
        }
    v->job = JOB_STEP;
    v->actions = actions;
    v->next_obs = next_obs;
    v->rewards = rewards;
    v->terminated = terminated;
    v->truncated = truncated;
    return run_and_collect(v, fn);
}

/* ---- queries --------------------------------------------------------------- */

const float *contrl_vec_env_obs(const contrl_vec_env *v)
{
    return v != NULL ? v->obs : NULL;
}

uint32_t contrl_vec_env_num_envs(const contrl_vec_env *v)
{
    return v != NULL ? v->n : 0;
}

uint32_t contrl_vec_env_obs_dim(const contrl_vec_env *v)
{
    return v != NULL ? v->obs_dim : 0;
}

uint32_t contrl_vec_env_action_dim(const contrl_vec_env *v)
{
    return v != NULL ? v->act_dim : 0;
}

uint32_t contrl_vec_env_threads(const contrl_vec_env *v)
{
    return v != NULL ? v->threads : 0;
}

const float *contrl_vec_env_action_low(const contrl_vec_env *v)
{
    return v != NULL ? v->envs[0].action_low : NULL;
}

const float *contrl_vec_env_action_high(const contrl_vec_env *v)
{
    return v != NULL ? v->envs[0].action_high : NULL;
}

const char *contrl_vec_env_name(const contrl_vec_env *v)
{
    return v != NULL ? v->envs[0].name : NULL;
}

contrl__vec_scratch *contrl__vec_env_scratch(contrl_vec_env *v)
{
    return &v->scratch;
}
