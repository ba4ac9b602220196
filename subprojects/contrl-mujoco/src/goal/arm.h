/*
 * src/goal/arm.h - what the goal tasks (reach.c, push.c) share: the arm of
 * models/reach.xml and models/push.xml, its Fetch-style mocap control, and
 * the episode logic around it. Internal to libcontrl-mujoco; never installed.
 * docs/mujoco-goal-tasks.md describes the arm and the control.
 *
 * A task's state starts with a contrl_mj__arm (so the env's user block
 * starts with the contrl_mj__handle that contrl_mj_goal_env_model() finds);
 * the task adds its own fields after it. The arm code does the model
 * checks, the inverse kinematics of the start, gravity compensation,
 * stepping, instability handling and the reward; the task supplies its
 * observation, its reset sampling and its destroy function (env.c tells
 * our goal envs apart by that function's address).
 *
 * Life of a task's env:
 *   make:  contrl_mj__arm_create -> the task's own model look-ups ->
 *          contrl_mj__arm_setup -> contrl_mj__arm_fill_env
 *          (on an error after create: contrl_mj__arm_destroy)
 *   reset: contrl_mj__arm_reset_begin -> the task's sampling into the state
 *          and arm->goal -> contrl_mj__arm_reset_end
 *   step, compute_reward: contrl_mj__arm_step, contrl_mj__arm_compute_reward
 *   destroy: the task's function, which calls contrl_mj__arm_destroy
 * Not thread-safe: one env per thread, as every contrl_goal_env.
 */
#ifndef CONTRL_MJ_GOAL_ARM_H
#define CONTRL_MJ_GOAL_ARM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "internal.h"

enum {
    CONTRL_MJ__ARM_JOINTS = 3,      /* the hinges "yaw", "shoulder", "elbow" */
    CONTRL_MJ__ARM_ACTION_DIM = 3,  /* mocap displacement x y z */
    CONTRL_MJ__ARM_GOAL_DIM = 3,    /* a point */
    CONTRL_MJ__ARM_MAX_OBS = 27,    /* the largest obs_dim of a task (push) */
    CONTRL_MJ__ARM_MAX_NV = 9,      /* the largest nv of a task's model (push) */
    CONTRL_MJ__ARM_MAX_BODIES = 8,  /* bodies below the turret, for gravity compensation */
    CONTRL_MJ__ARM_SUBSTEPS = 20,   /* MuJoCo steps of 0.002 s per env step */
    CONTRL_MJ__ARM_EPISODE_STEPS = 50
};

typedef struct contrl_mj__arm contrl_mj__arm;

/* A task's constant description, kept by pointer in its arm. */
typedef struct contrl_mj__arm_task {
    const char *name;    /* "reach": the env's name and the prefix of step errors */
    const char *xml;     /* the embedded model text (contrl_mj__xml_<name>) */
    size_t size, align;  /* of the task's state, which starts with a contrl_mj__arm */
    uint32_t obs_dim;    /* <= CONTRL_MJ__ARM_MAX_OBS */
    /* Write the observation and the achieved goal of the current state
     * (positions and velocities up to date). */
    void (*observe)(const contrl_mj__arm *arm, float *obs, float *achieved);
    /* The env's reset and destroy callbacks; destroy is the task's
     * contrl_mj__<name>_destroy. */
    contrl_status (*reset)(void *user, uint64_t seed, float *obs, float *achieved_goal,
                           float *desired_goal);
    void (*destroy)(void *user);
} contrl_mj__arm_task;

enum contrl_mj__arm_phase {
    CONTRL_MJ__ARM_NOT_STARTED,
    CONTRL_MJ__ARM_RUNNING,
    CONTRL_MJ__ARM_ENDED
};

struct contrl_mj__arm {
    contrl_mj__handle h; /* first: contrl_mj_goal_env_model() finds it */
    const contrl_mj__arm_task *task;
    contrl_allocator allocator; /* that allocated the task's state */
    int ee_site, mocap;
    int arm_bodies[CONTRL_MJ__ARM_MAX_BODIES], n_arm_bodies; /* the bodies the joints move */
    int qpos_adr[CONTRL_MJ__ARM_JOINTS], dof_adr[CONTRL_MJ__ARM_JOINTS];
    double home[CONTRL_MJ__ARM_JOINTS]; /* joint angles that put the fingertip at the start */
    float action_low[CONTRL_MJ__ARM_ACTION_DIM], action_high[CONTRL_MJ__ARM_ACTION_DIM];
    float goal[CONTRL_MJ__ARM_GOAL_DIM]; /* the desired goal; the task's reset draws it */
    /* of the last good state (obs_dim values used) */
    float last_obs[CONTRL_MJ__ARM_MAX_OBS], last_achieved[CONTRL_MJ__ARM_GOAL_DIM];
    uint32_t steps;
    enum contrl_mj__arm_phase phase;
    contrl_rng rng; /* seeded by each reset; the task's sampling draws from it */
};

/* Load task->xml and allocate task->size bytes (aligned to task->align)
 * with `allocator` (resolved: never NULL), zeroed, its arm holding the
 * model, a new mjData, the task, the allocator and bounds [-1, 1] on the
 * action. *out is the arm at the start of that block. On failure *out is
 * NULL, nothing is left allocated and the status (FORMAT etc. from the
 * loader, NOMEM) carries a "contrl_mj_goal_make: ..." message. */
contrl_status contrl_mj__arm_create(const contrl_mj__arm_task *task,
                                    const contrl_allocator *allocator, contrl_mj__arm **out);

/* Find the arm in the model (site "ee", mocap body "target", bodies
 * "turret", "upper_arm", "forearm", "fingertip", hinges "yaw", "shoulder",
 * "elbow", one connect constraint, nv <= CONTRL_MJ__ARM_MAX_NV), move the
 * constraint's anchor to the mocap body's origin (the model is changed)
 * and solve the elbow-up inverse kinematics that puts the fingertip at
 * `start` (3 values). `task_parts_found` is the result of the task's own
 * checks of the model; false gives the same FORMAT error as a missing arm
 * part. Returns OK, or FORMAT with a message (the arm is then only fit for
 * contrl_mj__arm_destroy). Leaves mjData reset. Does not allocate. */
contrl_status contrl_mj__arm_setup(contrl_mj__arm *arm, const double *start,
                                   bool task_parts_found);

/* Fill *env (all of it) for the task: its name, dims, bounds, 50-step
 * episodes, user = arm, reset and destroy from the task, step and
 * compute_reward below. The episode is NOT_STARTED: step fails until a
 * reset. */
void contrl_mj__arm_fill_env(contrl_mj__arm *arm, contrl_goal_env *env);

/* Free the mjData, the model and the task's block (with its allocator);
 * clears the handle's magic first. NULL is fine. */
void contrl_mj__arm_destroy(contrl_mj__arm *arm);

/* First half of a reset: seed the arm's rng with `seed`, reset mjData and
 * put the joints at home. The task then sets its own state and arm->goal. */
void contrl_mj__arm_reset_begin(contrl_mj__arm *arm, uint64_t seed);

/* Second half: mj_forward, the mocap onto the fingertip, write obs and
 * achieved_goal (task->observe) and desired_goal (arm->goal), keep them as
 * the last good state and start the episode (RUNNING, 0 steps). */
void contrl_mj__arm_reset_end(contrl_mj__arm *arm, float *obs, float *achieved_goal,
                              float *desired_goal);

/* The env's step (user = the arm): the mocap to fingertip + 0.05 clip(a),
 * 20 substeps with gravity compensated on the arm, then mj_forward and
 * task->observe. If MuJoCo flagged bad qpos/qvel/qacc during the substeps
 * or the state is not finite, the episode ends (truncated) on the last good
 * observation and achieved goal and their reward. terminated is always
 * false; truncated after 50 steps. STATE before a reset or after the end,
 * INVALID_ARG for a NaN action: the env is then unchanged. */
contrl_status contrl_mj__arm_step(void *user, const float *action, float *next_obs,
                                  float *achieved_goal, float *reward, bool *terminated,
                                  bool *truncated);

/* The env's compute_reward: 0 where |achieved - desired|_2 <= 0.05 (NaN is
 * not), else -1; n rows of 3. `user` is not used. */
void contrl_mj__arm_compute_reward(void *user, const float *achieved, const float *desired,
                                   uint32_t n, float *reward);

#endif /* CONTRL_MJ_GOAL_ARM_H */
