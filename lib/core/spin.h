/* lib/core/spin.h - what the threads' waiting loops share (internal):
 * vec_env.c's workers and duo.c's agent worker. */
#ifndef CONTRL_SPIN_H
#define CONTRL_SPIN_H

#include <stdint.h>
#include <time.h>

/* One spin-wait hint to the CPU (pause / yield). */
static inline void contrl__cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

/* CLOCK_MONOTONIC in nanoseconds. */
static inline uint64_t contrl__now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

#endif /* CONTRL_SPIN_H */
