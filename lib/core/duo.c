/* lib/core/duo.c - the agent's worker thread (duo.h).
 *
 * One job at a time: the caller writes fn/arg, then bumps `posted`
 * (release); the worker runs it and stores the same number in `finished`
 * (release). Both sides wait by spinning; the worker sleeps on a condition
 * variable once DUO_SPIN_NS pass without a job. The jobs of one update are
 * a few microseconds apart, far less than a futex wake-up. */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <string.h>
#include <time.h>

#include "duo.h"
#include "spin.h"

#ifndef DUO_SPIN_NS
#define DUO_SPIN_NS 1000000
#endif
#ifndef PAUSE_NS
#define PAUSE_NS 50000
#endif

struct contrl__duo {
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t wake;
    void (*fn)(void *);
    void *arg;
    bool quit;
    atomic_bool sleeping;   /* set under mu by the worker before it waits */
    atomic_bool busy;       /* inside contrl__duo_both, or a posted job pending */
    bool pending;           /* contrl__duo_post'ed, not yet waited for (caller's side) */
    _Alignas(64) atomic_uint_fast64_t posted;
    _Alignas(64) atomic_uint_fast64_t finished;
};

/* Spin until *x != seen, or (bounded) until DUO_SPIN_NS have passed; true
 * if it changed. Pause for the first PAUSE_NS (the jobs of one update are
 * microseconds apart), then sched_yield, which gives the core away when
 * the machine is oversubscribed; a yield hands the core to another
 * runnable task for its time slice, so it comes second. */
static bool spin_while(atomic_uint_fast64_t *x, uint64_t seen, bool bounded)
{
    const uint64_t start = contrl__now_ns();
    bool yielding = false;
    for (uint32_t k = 1;; k++) {
        if (atomic_load_explicit(x, memory_order_acquire) != seen)
            return true;
        if (yielding) {
            sched_yield();
        } else {
            contrl__cpu_relax();
            if ((k & 255) == 0 && contrl__now_ns() - start >= (uint64_t)PAUSE_NS)
                yielding = true;
        }
        if (bounded && yielding && (k & 15) == 0 &&
            contrl__now_ns() - start >= (uint64_t)DUO_SPIN_NS)
            return false;
    }
}

static void *worker_main(void *p)
{
    contrl__duo *d = p;
    uint64_t seen = 0;
    for (;;) {
        if (!spin_while(&d->posted, seen, true)) {
            /* sleeping, then posted; the caller stores posted, then reads
             * sleeping (both sequentially consistent): at least one of
             * the two sees the other's store, so either this re-check
             * sees the job or the caller signals, under the mutex, which
             * this thread holds until it waits. */
            pthread_mutex_lock(&d->mu);
            atomic_store(&d->sleeping, true);
            while (atomic_load(&d->posted) == seen)
                pthread_cond_wait(&d->wake, &d->mu);
            atomic_store(&d->sleeping, false);
            pthread_mutex_unlock(&d->mu);
        }
        seen = atomic_load_explicit(&d->posted, memory_order_acquire);
        if (d->quit)
            return NULL;
        d->fn(d->arg);
        atomic_store_explicit(&d->finished, seen, memory_order_release);
    }
}

static void post(contrl__duo *d, void (*fn)(void *), void *arg, bool quit)
{
    d->fn = fn;
    d->arg = arg;
    d->quit = quit;
    /* The mutex only when the worker sleeps (see worker_main): a spinning
     * worker sees the new count by itself. */
    atomic_fetch_add(&d->posted, 1);
    if (atomic_load(&d->sleeping)) {
        pthread_mutex_lock(&d->mu);
        pthread_cond_signal(&d->wake);
        pthread_mutex_unlock(&d->mu);
    }
}

contrl_status contrl__duo_create(const contrl_allocator *al, contrl__duo **out, const char *fn)
{
    *out = NULL;
    contrl__duo *d = contrl__alloc(al, sizeof *d);
    if (d == NULL)
        return contrl__fail(CONTRL_ERR_NOMEM, "%s: cannot allocate the worker's state", fn);
    memset(d, 0, sizeof *d);
    atomic_init(&d->posted, 0);
    atomic_init(&d->finished, 0);
    atomic_init(&d->busy, false);
    atomic_init(&d->sleeping, false);
    if (pthread_mutex_init(&d->mu, NULL) != 0) {
        contrl__free(al, d, sizeof *d);
        return contrl__fail(CONTRL_ERR_STATE, "%s: cannot create a mutex", fn);
    }
    if (pthread_cond_init(&d->wake, NULL) != 0) {
        pthread_mutex_destroy(&d->mu);
        contrl__free(al, d, sizeof *d);
        return contrl__fail(CONTRL_ERR_STATE, "%s: cannot create a condition variable", fn);
    }
    if (pthread_create(&d->thread, NULL, worker_main, d) != 0) {
        pthread_cond_destroy(&d->wake);
        pthread_mutex_destroy(&d->mu);
        contrl__free(al, d, sizeof *d);
        return contrl__fail(CONTRL_ERR_STATE, "%s: cannot start a thread", fn);
    }
    *out = d;
    return CONTRL_OK;
}

void contrl__duo_destroy(contrl__duo *d, const contrl_allocator *al)
{
    if (d == NULL)
        return;
    contrl__duo_wait(d);
    post(d, NULL, NULL, true);
    pthread_join(d->thread, NULL);
    pthread_cond_destroy(&d->wake);
    pthread_mutex_destroy(&d->mu);
    contrl__free(al, d, sizeof *d);
}

/* Returns once the worker has finished its last job. */
static void wait_finished(contrl__duo *d)
{
    const uint64_t job = atomic_load_explicit(&d->posted, memory_order_relaxed);
    while (atomic_load_explicit(&d->finished, memory_order_acquire) != job)
        spin_while(&d->finished, job - 1, false);
}

void contrl__duo_post(contrl__duo *d, void (*fn)(void *), void *arg)
{
    if (d == NULL) {
        fn(arg);
        return;
    }
    if (d->pending)
        wait_finished(d);
    atomic_store_explicit(&d->busy, true, memory_order_relaxed);
    d->pending = true;
    post(d, fn, arg, false);
}

void contrl__duo_wait(contrl__duo *d)
{
    if (d == NULL || !d->pending)
        return;
    wait_finished(d);
    d->pending = false;
    atomic_store_explicit(&d->busy, false, memory_order_relaxed);
}

void contrl__duo_both(contrl__duo *d, void (*mine)(void *), void *marg,
                      void (*theirs)(void *), void *targ)
{
    if (d == NULL) {
        mine(marg);
        theirs(targ);
        return;
    }
    contrl__duo_wait(d); /* a job posted earlier finishes first */
    atomic_store_explicit(&d->busy, true, memory_order_relaxed);
    post(d, theirs, targ, false);
    mine(marg);
    wait_finished(d);
    atomic_store_explicit(&d->busy, false, memory_order_relaxed);
}

bool contrl__duo_idle(const contrl__duo *d)
{
    return !atomic_load_explicit(&d->busy, memory_order_relaxed);
}
