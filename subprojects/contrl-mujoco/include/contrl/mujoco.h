/*
 * contrl/mujoco.h - libcontrl-mujoco: MuJoCo models as libcontrl environments.
 *
 * A separate library (libcontrl-mujoco.so, pkg-config name contrl-mujoco)
 * on top of libcontrl's public API and Debian's libmujoco (2.2.x). It makes
 * a plain contrl_env (or contrl_goal_env) out of a MuJoCo model, so every
 * agent, the HER wrapper, contrl_agent_learn and the vectoriser of
 * contrl/vec_env.h use it like any other environment.
 *
 * Three ways in:
 *  - contrl_mj_make("halfcheetah", ...): a built-in task. The standard
 *    continuous-control benchmarks (Gymnasium's v4 definitions) and two goal
 *    tasks for HER; docs/mujoco.md lists them and how each was checked.
 *  - contrl_mj_env_from_file / contrl_mj_env_from_xml with a contrl_mj_task:
 *    your own model plus a declarative task (frame skip, observed qpos/qvel
 *    entries, Gymnasium-style locomotion reward and health rules, reset
 *    noise, time limit).
 *  - the same with callbacks in the contrl_mj_task: observation, reward and
 *    termination, reset, written in C over mjModel/mjData.
 *
 * One step of an env: data->ctrl = action; mj_step frame_skip times;
 * mj_rnePostConstraint when the task asks for it (Gymnasium calls it after
 * every step; only cacc/cfrc_int/cfrc_ext depend on it); then observation
 * and reward are read, without another mj_forward. Quantities MuJoCo
 * computes inside mj_step (xpos, xipos, site_xpos, cinert, cvel...) are
 * therefore not those of the final state but of the last state mj_step
 * evaluated: with the Euler integrator the state before the last substep,
 * with RK4 its last Runge-Kutta stage; exactly as Gymnasium reads them.
 *
 * Unstable simulation: when MuJoCo flags a bad qpos/qvel/qacc during a step
 * (it then resets mjData on its own), the step reports truncated = true,
 * reward 0 and the last good observation, so learners never see garbage;
 * contrl_mj_env_unstable_count() counts such steps. Use
 * `unstable_is_error` in the task to get CONTRL_ERR_NUMERIC instead.
 *
 * Threads: every env owns its mjModel and mjData; different envs may be used
 * from different threads at once. One env is used by one thread at a time.
 * MuJoCo's XML parser is serialised inside this library.
 */
#ifndef CONTRL_MUJOCO_H
#define CONTRL_MUJOCO_H

#include <stdbool.h>
#include <stdint.h>

#include "contrl/env.h"
#include "contrl/goal_env.h"

#if defined(_WIN32)
#define CONTRL_MJ_API
#elif defined(__GNUC__) && defined(CONTRL_MJ_BUILDING)
#define CONTRL_MJ_API __attribute__((visibility("default")))
#else
#define CONTRL_MJ_API
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* MuJoCo's types (typedef'd as mjModel and mjData by <mujoco/mujoco.h>). */
struct mjModel_;
struct mjData_;

#define CONTRL_MJ_MAX_OBS_INDICES 128

/* How reset perturbs qpos0 and the zero qvel, per entry. */
typedef enum contrl_mj_noise {
    CONTRL_MJ_NOISE_UNIFORM = 0, /* + U(-scale, scale) */
    CONTRL_MJ_NOISE_NORMAL = 1   /* + scale * N(0, 1) */
} contrl_mj_noise;

/* A task over a model. Start from contrl_mj_task_default(): every rule is
 * off, frame_skip 1, no time limit. The declarative parts are what
 * Gymnasium's locomotion tasks need; callbacks replace them where set.
 *
 * Observation (when `observe` is NULL): the qpos entries listed in
 * obs_qpos[0..n_obs_qpos), then the qvel entries obs_qvel[0..n_obs_qvel),
 * each multiplied by nothing and clipped to +-obs_qvel_clip when that is
 * > 0. An entry of -1 as the only element (n = 1) means "all of them";
 * CONTRL_MJ_FROM(k) (= -2 - k) as the only element means "entries k.. end".
 *
 * Reward (when `reward` is NULL):
 *   forward_weight * (x_after - x_before) / (frame_skip * timestep)
 *     where x is qpos[forward_qpos], or when forward_body >= 0 the x
 *     coordinate of that body's xpos (read as Gymnasium reads it);
 * - ctrl_cost_weight * sum(action^2)
 * + healthy_reward when healthy (also on the step that ends the episode
 *   unless healthy_reward_only_when_healthy is set: Gymnasium v4 pays it
 *   when terminate_when_unhealthy is set, i.e. on every step that is taken,
 *   and only while healthy otherwise).
 * Healthy: every rule enabled below holds:
 *   healthy_z_qpos >= 0:     qpos[healthy_z_qpos] in (healthy_z_min, healthy_z_max)
 *   healthy_angle_qpos >= 0: qpos[healthy_angle_qpos] in (healthy_angle_min, healthy_angle_max)
 *   healthy_state_max > 0:   |s_i| < healthy_state_max for i >= healthy_state_from,
 *                            s = [qpos, qvel] (Gymnasium's state_vector())
 *   and the state is finite.
 * terminated = !healthy when terminate_when_unhealthy.
 * truncated at max_episode_steps (0: never).
 *
 * Reset (when `reset` is NULL): mj_resetData, qpos = qpos0 + noise(qpos_noise),
 * qvel = 0 + noise(qvel_noise), both scaled by reset_noise_scale; mj_forward.
 * With a `reset` callback: mj_resetData, then the callback sets the state,
 * then mj_forward. */
#define CONTRL_MJ_FROM(k) (-2 - (int32_t)(k))

typedef struct contrl_mj_task {
    size_t size;                 /* sizeof(contrl_mj_task), set by contrl_mj_task_init */
    const char *name;            /* copied; NULL for "mujoco" */
    uint32_t frame_skip;         /* >= 1 */
    uint32_t max_episode_steps;  /* 0 = no time limit */
    bool post_constraint;        /* call mj_rnePostConstraint after each step */
    bool unstable_is_error;      /* bad qacc etc.: CONTRL_ERR_NUMERIC instead of truncation */

    /* observation */
    int32_t obs_qpos[CONTRL_MJ_MAX_OBS_INDICES];
    uint32_t n_obs_qpos;
    int32_t obs_qvel[CONTRL_MJ_MAX_OBS_INDICES];
    uint32_t n_obs_qvel;
    double obs_qvel_clip;        /* > 0: clip observed qvel to +-this */

    /* reward and termination */
    double forward_weight;
    int32_t forward_qpos;        /* -1: none */
    int32_t forward_body;        /* -1: none; else body id whose xpos[0] is x */
    double ctrl_cost_weight;
    double healthy_reward;
    bool terminate_when_unhealthy;
    bool healthy_reward_only_when_healthy;
    int32_t healthy_z_qpos;      /* -1: rule off */
    double healthy_z_min, healthy_z_max;
    int32_t healthy_angle_qpos;  /* -1: rule off */
    double healthy_angle_min, healthy_angle_max;
    double healthy_state_max;    /* <= 0: rule off */
    uint32_t healthy_state_from;

    /* reset */
    double reset_noise_scale;
    contrl_mj_noise qpos_noise, qvel_noise;

    /* Callbacks, each optional; all get `user`. The model and data belong to
     * the env: read them, and write data only in reset. */
    void *user;
    uint32_t obs_dim;            /* required when observe is set */
    void (*observe)(void *user, const struct mjModel_ *m, const struct mjData_ *d, float *obs);
    /* Called before ctrl is set and the model stepped: save what the reward
     * needs from the state before the step (e.g. a position). */
    void (*before_step)(void *user, const struct mjModel_ *m, const struct mjData_ *d);
    /* Reward and termination after the step; action is the env-unit action. */
    void (*reward)(void *user, const struct mjModel_ *m, const struct mjData_ *d,
                   const float *action, float *reward, bool *terminated);
    /* Set the initial state (data is fresh from mj_resetData). rng is the
     * episode's generator, seeded from the reset seed. Return CONTRL_OK or
     * an error status (use contrl_set_error for the message). */
    contrl_status (*reset)(void *user, const struct mjModel_ *m, struct mjData_ *d,
                           contrl_rng *rng);
    /* Called when the env is closed (may be NULL). */
    void (*destroy)(void *user);
} contrl_mj_task;

/* Fill *task (size bytes; pass sizeof *task) with the defaults above.
 * INVALID_ARG for NULL or a size this library does not know. */
CONTRL_MJ_API contrl_status contrl_mj_task_init(contrl_mj_task *task, size_t size);
static inline contrl_mj_task contrl_mj_task_default(void)
{
    contrl_mj_task t;
    contrl_mj_task_init(&t, sizeof t);
    return t;
}

/* Make *env from an MJCF file, or from MJCF text in memory (which cannot
 * include other files or meshes: text naming a file - include, mesh,
 * texture, skin, heightfield - is refused with FORMAT rather than read
 * from disk). The task is checked against the model:
 * indices in range, dims non-zero, the action is the model's actuators
 * (nu >= 1, action bounds = ctrlrange, or [-1, 1] for actuators without
 * ctrllimited). Errors: INVALID_ARG (NULL, bad task, a mismatch between
 * task and model, each with a message naming it), IO (missing file),
 * FORMAT (MuJoCo could not compile the model: its own message follows
 * ours), NOMEM. *env is zeroed on failure and contrl_env_close is always
 * safe; the task's destroy callback is called only by a successful env. */
CONTRL_MJ_API contrl_status contrl_mj_env_from_file(const char *path, const contrl_mj_task *task,
                                                    const contrl_allocator *allocator,
                                                    contrl_env *env);
CONTRL_MJ_API contrl_status contrl_mj_env_from_xml(const char *xml, const contrl_mj_task *task,
                                                   const contrl_allocator *allocator,
                                                   contrl_env *env);

/* The built-in tasks, by name: "invertedpendulum", "inverteddoublependulum",
 * "reacher", "swimmer", "halfcheetah", "hopper", "walker2d", "ant",
 * "humanoid". Gymnasium's ids ("HalfCheetah-v4") are accepted too, case
 * insensitively. The models are compiled into the library (the same files
 * are installed under <datadir>/contrl-mujoco/models for reading). */
CONTRL_MJ_API contrl_status contrl_mj_make(const char *name, const contrl_allocator *allocator,
                                           contrl_env *env);
/* NULL-terminated list of the built-in task names above. */
CONTRL_MJ_API const char *const *contrl_mj_names(void);

/* Goal tasks for HER: "reach" (a 3-joint arm's fingertip to a sampled 3-D
 * target; sparse reward -1/0 with a 0.05 threshold, 50-step episodes) and
 * "push" (the fingertip pushes a box on a table to a target on the table;
 * reward on the box's position). */
CONTRL_MJ_API contrl_status contrl_mj_goal_make(const char *name,
                                                const contrl_allocator *allocator,
                                                contrl_goal_env *env);
CONTRL_MJ_API const char *const *contrl_mj_goal_names(void);

/* The model and data behind an env made by this library (NULL for any
 * other env). Use them to read the state, render, or set a state for a
 * test: after writing qpos/qvel, call mj_forward. Changing the model's
 * sizes is not allowed. */
CONTRL_MJ_API const struct mjModel_ *contrl_mj_env_model(const contrl_env *env);
CONTRL_MJ_API struct mjData_ *contrl_mj_env_data(contrl_env *env);
CONTRL_MJ_API const struct mjModel_ *contrl_mj_goal_env_model(const contrl_goal_env *env);
CONTRL_MJ_API struct mjData_ *contrl_mj_goal_env_data(contrl_goal_env *env);
/* Steps that MuJoCo flagged as unstable since the env was made. */
CONTRL_MJ_API uint64_t contrl_mj_env_unstable_count(const contrl_env *env);

/* MuJoCo's version as it reports it (e.g. "2.2.2"). */
CONTRL_MJ_API const char *contrl_mj_mujoco_version(void);

#ifdef __cplusplus
}
#endif

#endif /* CONTRL_MUJOCO_H */
