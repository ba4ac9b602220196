/* src/internal.h - shared inside libcontrl-mujoco; never installed. */
#ifndef CONTRL_MJ_INTERNAL_H
#define CONTRL_MJ_INTERNAL_H

#include <mujoco/mujoco.h>

#include "contrl/mujoco.h"

/* ---- Loading (loader.c) -------------------------------------------------
 * Compile an MJCF text (in memory) or file into a model. MuJoCo's parser is
 * serialised by a mutex. On failure: NULL model, the status returned and a
 * message "<func>: ..." recorded with MuJoCo's own text appended.
 * `what` names the model in messages (a path or a task name). */
contrl_status contrl_mj__load_xml(const char *func, const char *what, const char *xml,
                                  mjModel **out);
contrl_status contrl_mj__load_file(const char *func, const char *path, mjModel **out);

/* ---- Built-in tasks (builtin.c and tasks/<name>.c) ---------------------------
 * A built-in task is its model text (embedded at build time from
 * models/<name>.xml as the array contrl_mj__xml_<name>) and a function that
 * fills a contrl_mj_task for the compiled model. `fill` starts from
 * contrl_mj_task_default(); it may allocate state for its callbacks through
 * `allocator` (already resolved: never NULL, alloc/free set) and must then
 * set task->user and a destroy callback that frees it with the same
 * allocator (keep a copy of *allocator in the state). On error it frees what
 * it allocated and returns the status with a message. */
typedef struct contrl_mj__builtin {
    const char *name;   /* "halfcheetah" */
    const char *gym_id; /* "HalfCheetah-v4" */
    const char *xml;    /* the embedded model text */
    contrl_status (*fill)(const mjModel *m, const contrl_allocator *allocator,
                          contrl_mj_task *task);
} contrl_mj__builtin;

/* Each tasks/<name>.c defines one of these. */
extern const contrl_mj__builtin contrl_mj__invertedpendulum;
extern const contrl_mj__builtin contrl_mj__inverteddoublependulum;
extern const contrl_mj__builtin contrl_mj__reacher;
extern const contrl_mj__builtin contrl_mj__swimmer;
extern const contrl_mj__builtin contrl_mj__halfcheetah;
extern const contrl_mj__builtin contrl_mj__hopper;
extern const contrl_mj__builtin contrl_mj__walker2d;
extern const contrl_mj__builtin contrl_mj__ant;
extern const contrl_mj__builtin contrl_mj__humanoid;

/* Generated from models/<name>.xml (models.c, built by gen_models.py). */
extern const char contrl_mj__xml_invertedpendulum[];
extern const char contrl_mj__xml_inverteddoublependulum[];
extern const char contrl_mj__xml_reacher[];
extern const char contrl_mj__xml_swimmer[];
extern const char contrl_mj__xml_halfcheetah[];
extern const char contrl_mj__xml_hopper[];
extern const char contrl_mj__xml_walker2d[];
extern const char contrl_mj__xml_ant[];
extern const char contrl_mj__xml_humanoid[];
extern const char contrl_mj__xml_reach[];
extern const char contrl_mj__xml_push[];

/* Make an env from an already compiled model (takes ownership of m, also on
 * failure). env.c. */
contrl_status contrl_mj__env_from_model(const char *func, mjModel *m, const contrl_mj_task *task,
                                        const contrl_allocator *allocator, contrl_env *env);

/* Every env this library makes keeps one of these at the start of its
 * `user` block, so contrl_mj_env_model() and friends can find the model.
 * Plain envs and goal envs have different blocks and different magics, so
 * a block of one kind behind the other kind's callbacks is refused, not
 * read as the wrong struct. */
enum { CONTRL_MJ__MAGIC = 0x6d6a6376u, CONTRL_MJ__MAGIC_GOAL = 0x6d6a6367u };
typedef struct contrl_mj__handle {
    uint32_t magic; /* CONTRL_MJ__MAGIC, or CONTRL_MJ__MAGIC_GOAL in a goal env */
    mjModel *m;
    mjData *d;
} contrl_mj__handle;

/* Goal tasks (goal/<name>.c): fill *env; same conventions as contrl_mj_make.
 * The env's user block starts with a contrl_mj__handle, and its destroy is
 * the task's *_destroy function below (that is how the accessors know the
 * env is ours). */
contrl_status contrl_mj__reach_make(const contrl_allocator *allocator, contrl_goal_env *env);
contrl_status contrl_mj__push_make(const contrl_allocator *allocator, contrl_goal_env *env);
void contrl_mj__reach_destroy(void *user);
void contrl_mj__push_destroy(void *user);

/* The shared start of every make function: zero the caller's env struct
 * (env_size bytes, so a failed make leaves something close() accepts),
 * refuse a NULL env or a NULL `arg` (named arg_name in the message), and
 * resolve the allocator into *out. */
contrl_status contrl_mj__make_begin(const char *func, void *env, size_t env_size, const void *arg,
                                    const char *arg_name, const contrl_allocator *in,
                                    contrl_allocator *out);

/* Resolve a possibly-NULL allocator to the C library's (never NULL result);
 * INVALID_ARG if only some of its functions are set. */
contrl_status contrl_mj__allocator(const char *func, const contrl_allocator *in,
                                   contrl_allocator *out);

/* Instability, as every env here detects it around a step: the sum of
 * MuJoCo's bad-qpos/qvel/qacc/ctrl warning counters (compare before and
 * after), and whether qpos and qvel are all finite. util.c. */
int contrl_mj__unstable_warnings(const mjData *d);
bool contrl_mj__state_finite(const mjModel *m, const mjData *d);

/* A caller's string (a task name, a path) made fit for an error message:
 * control and non-ASCII bytes as \xNN, cut with "..." to fit n bytes (n >=
 * 8), so that a message stays one readable line that still has room for
 * what follows it. Returns buf. */
const char *contrl_mj__quote(char *buf, size_t n, const char *s);

/* qpos address of a named joint, -1 when the model has no such joint. */
int contrl_mj__qpos_of(const mjModel *m, const char *joint);

/* Uniform double in [lo, hi) and standard normal from a contrl_rng. */
double contrl_mj__uniform(contrl_rng *rng, double lo, double hi);
double contrl_mj__normal(contrl_rng *rng);

#endif /* CONTRL_MJ_INTERNAL_H */
