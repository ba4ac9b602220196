/* lib/core/duo.h - a second thread for an agent's update (internal).
 *
 * contrl_agent_set_threads(agent, 2) gives the agent one worker thread;
 * the update then runs the two critics' independent work (their target
 * predictions, regressions, Adam steps and soft updates, SAC's actor-step
 * passes) one on each thread. Each job writes only its own outputs and the
 * caller combines them in a fixed order, so the results are bit-identical
 * to the one-thread update (tests/agents checks). */
#ifndef CONTRL_DUO_H
#define CONTRL_DUO_H

#include "internal.h"

typedef struct contrl__duo contrl__duo;

/* Starts the worker. NOMEM / STATE (thread creation failed) with a message
 * naming fn. */
contrl_status contrl__duo_create(const contrl_allocator *al, contrl__duo **out, const char *fn);
/* Stops and joins the worker, frees d (NULL: nothing). */
void contrl__duo_destroy(contrl__duo *d, const contrl_allocator *al);

/* Runs mine(marg) on the calling thread and theirs(targ) on the worker,
 * and returns when both are done. d NULL: both on the calling thread, mine
 * first. The worker spins briefly for the next job, then sleeps. */
void contrl__duo_both(contrl__duo *d, void (*mine)(void *), void *marg,
                      void (*theirs)(void *), void *targ);

/* Starts fn(arg) on the worker and returns at once (d NULL: runs it here,
 * now). contrl__duo_wait returns when it is done; contrl__duo_both and the
 * next post wait for it first. Only one job is pending at a time. */
void contrl__duo_post(contrl__duo *d, void (*fn)(void *), void *arg);
void contrl__duo_wait(contrl__duo *d);

/* true if d is not inside contrl__duo_both: a product may then split its
 * rows over both threads (blas.c). Inside a job nothing splits again. */
bool contrl__duo_idle(const contrl__duo *d);

#endif /* CONTRL_DUO_H */
