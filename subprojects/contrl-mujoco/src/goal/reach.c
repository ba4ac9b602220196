/*
 * src/goal/reach.c - "reach": a three-joint arm's fingertip to a sampled 3-D
 * target, FetchReach (Gymnasium-Robotics) in spirit. The model is
 * models/reach.xml; docs/mujoco-goal-tasks.md gives the definition and how
 * it was checked.
 *
 * The arm, its control (Fetch's mocap control with gravity compensation),
 * stepping, instability handling and the reward are arm.c's; this file
 * holds what is reach's own: the start, the goal's sampling and the
 * observation. The achieved goal is the fingertip's position.
 */
#include "arm.h"

enum {
    OBS_DIM = 12, /* fingertip pos 3, fingertip vel * dt 3, joint angles 3, joint vel * dt 3 */
    GOAL_DIM = CONTRL_MJ__ARM_GOAL_DIM,
    N_JOINTS = CONTRL_MJ__ARM_JOINTS
};
_Static_assert((int)OBS_DIM <= (int)CONTRL_MJ__ARM_MAX_OBS, "the arm keeps the last obs");
static const double TARGET_RANGE = 0.15; /* goal = start + U(-0.15, 0.15)^3 */
/* The fingertip's starting position (the inverse kinematics target) and the
 * centre of the goal box. */
static const double START[3] = {0.45, 0.0, 0.6};

/* reach has no state of its own: its env's user block is a contrl_mj__arm. */

static void reach_observe(const contrl_mj__arm *arm, float *obs, float *achieved)
{
    const mjModel *m = arm->h.m;
    const mjData *d = arm->h.d;
    const double dt = m->opt.timestep * CONTRL_MJ__ARM_SUBSTEPS;
    mjtNum vel[6]; /* angular then linear, world frame */
    mj_objectVelocity(m, d, mjOBJ_SITE, arm->ee_site, vel, 0);
    const mjtNum *p = d->site_xpos + 3 * arm->ee_site;
    for (int i = 0; i < 3; i++) {
        obs[i] = (float)p[i];
        obs[3 + i] = (float)(vel[3 + i] * dt);
        achieved[i] = obs[i];
    }
    for (int j = 0; j < N_JOINTS; j++) {
        obs[6 + j] = (float)d->qpos[arm->qpos_adr[j]];
        obs[9 + j] = (float)(d->qvel[arm->dof_adr[j]] * dt);
    }
}

static contrl_status reach_reset(void *user, uint64_t seed, float *obs, float *achieved_goal,
                                 float *desired_goal)
{
    contrl_mj__arm *arm = user;
    contrl_mj__arm_reset_begin(arm, seed);
    /* Fetch keeps its goals where they fall, even within the threshold of the
     * start (about 2% of the box here); so do we. */
    for (int i = 0; i < GOAL_DIM; i++)
        arm->goal[i] =
            (float)(START[i] + contrl_mj__uniform(&arm->rng, -TARGET_RANGE, TARGET_RANGE));
    contrl_mj__arm_reset_end(arm, obs, achieved_goal, desired_goal);
    return CONTRL_OK;
}

void contrl_mj__reach_destroy(void *user)
{
    contrl_mj__arm_destroy(user);
}

static const contrl_mj__arm_task REACH = {
    .name = "reach",
    .xml = contrl_mj__xml_reach,
    .size = sizeof(contrl_mj__arm),
    .align = _Alignof(contrl_mj__arm),
    .obs_dim = OBS_DIM,
    .observe = reach_observe,
    .reset = reach_reset,
    .destroy = contrl_mj__reach_destroy,
};

contrl_status contrl_mj__reach_make(const contrl_allocator *allocator, contrl_goal_env *env)
{
    contrl_mj__arm *arm;
    contrl_status st = contrl_mj__arm_create(&REACH, allocator, &arm);
    if (st != CONTRL_OK)
        return st;
    /* The arm's three hinges and nothing else. */
    st = contrl_mj__arm_setup(arm, START, arm->h.m->nv == N_JOINTS);
    if (st != CONTRL_OK) {
        contrl_mj__arm_destroy(arm);
        return st;
    }
    contrl_mj__arm_fill_env(arm, env);
    return CONTRL_OK;
}
