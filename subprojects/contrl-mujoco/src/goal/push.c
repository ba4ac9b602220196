/*
 * src/goal/push.c - "push": the arm of "reach" pushes a 5 cm box across a
 * table to a target on the table, FetchPush (Gymnasium-Robotics) in spirit.
 * The model is models/push.xml; docs/mujoco-goal-tasks.md gives the
 * definition and how it was checked.
 *
 * Control, stepping, instability handling and the reward are reach's,
 * shared in arm.c (Fetch's mocap control: a in [-1, 1]^3 puts the mocap at
 * fingertip + 0.05 a, 20 substeps of 0.002 s, gravity compensated on the
 * arm, mj_forward before observing). The achieved goal is the box's centre.
 *
 * Reset, as FetchPush's: the arm at its start (fingertip at START), the box
 * upright at rest on the table, its centre uniform within +-0.15 of the
 * fingertip in x and y but at least 0.1 from it; the goal uniform within
 * +-0.15 of the fingertip in x and y, at the height of the box's centre
 * resting on the table.
 */
#include <float.h>
#include <math.h>

#include "arm.h"

enum {
    OBS_DIM = 27,
    N_JOINTS = CONTRL_MJ__ARM_JOINTS,
    NV = 9 /* 3 arm hinges + the box's free joint */
};
_Static_assert((int)OBS_DIM <= (int)CONTRL_MJ__ARM_MAX_OBS, "the arm keeps the last obs");
_Static_assert((int)NV <= (int)CONTRL_MJ__ARM_MAX_NV, "the arm sizes its Jacobian by that");
static const double OBJ_RANGE = 0.15;    /* box start: fingertip xy + U(-0.15, 0.15)^2 */
static const double OBJ_MIN_DIST = 0.1;  /* ... at least 0.1 from the fingertip in xy */
static const double TARGET_RANGE = 0.15; /* goal: fingertip xy + U(-0.15, 0.15)^2 */
/* Fingertip start: above the table top (0.4) by the box's half height. */
static const double START[3] = {0.45, 0.0, 0.425};
static const double BOX_Z = 0.425; /* the box's centre resting on the table; the goal's z */

typedef struct push {
    contrl_mj__arm arm; /* first: the env's user block is also the arm's */
    int obj_site;
    int obj_qpos, obj_dof; /* the box's free joint: qpos x y z qw qx qy qz, qvel 6 */
} push;

/* Euler angles of a rotation matrix (row-major), Fetch's rotations.mat2euler. */
static void mat2euler(const mjtNum *r, double *e)
{
    const double cy = sqrt(r[8] * r[8] + r[5] * r[5]);
    if (cy > 4.0 * DBL_EPSILON) { /* Fetch's _EPS4 */
        e[2] = -atan2(r[1], r[0]);
        e[1] = -atan2(-r[2], cy);
        e[0] = -atan2(r[5], r[8]);
    } else {
        e[2] = -atan2(-r[3], r[4]);
        e[1] = -atan2(-r[2], cy);
        e[0] = 0.0;
    }
}

/* obs = [fingertip pos 3, box pos 3, box - fingertip 3, box Euler angles 3,
 *        (box vel - fingertip vel) * dt 3, box angular vel * dt 3,
 *        fingertip vel * dt 3, joint angles 3, joint vel * dt 3]:
 * FetchPush's layout without the gripper's fingers, plus the arm's joints. */
static void push_observe(const contrl_mj__arm *arm, float *obs, float *achieved)
{
    const push *p = (const push *)arm; /* the arm is push's first member */
    const mjModel *m = arm->h.m;
    const mjData *d = arm->h.d;
    const double dt = m->opt.timestep * CONTRL_MJ__ARM_SUBSTEPS;
    mjtNum ev[6], ov[6]; /* angular then linear, world frame */
    mj_objectVelocity(m, d, mjOBJ_SITE, arm->ee_site, ev, 0);
    mj_objectVelocity(m, d, mjOBJ_SITE, p->obj_site, ov, 0);
    const mjtNum *e = d->site_xpos + 3 * arm->ee_site;
    const mjtNum *o = d->site_xpos + 3 * p->obj_site;
    double euler[3];
    mat2euler(d->site_xmat + 9 * p->obj_site, euler);
    for (int i = 0; i < 3; i++) {
        obs[i] = (float)e[i];
        obs[3 + i] = (float)o[i];
        obs[6 + i] = (float)(o[i] - e[i]);
        obs[9 + i] = (float)euler[i];
        obs[12 + i] = (float)((ov[3 + i] - ev[3 + i]) * dt);
        obs[15 + i] = (float)(ov[i] * dt);
        obs[18 + i] = (float)(ev[3 + i] * dt);
        achieved[i] = obs[3 + i];
    }
    for (int j = 0; j < N_JOINTS; j++) {
        obs[21 + j] = (float)d->qpos[arm->qpos_adr[j]];
        obs[24 + j] = (float)(d->qvel[arm->dof_adr[j]] * dt);
    }
}

static contrl_status push_reset(void *user, uint64_t seed, float *obs, float *achieved_goal,
                                float *desired_goal)
{
    push *p = user;
    contrl_mj__arm *arm = &p->arm;
    contrl_mj__arm_reset_begin(arm, seed);
    /* The box: uniform in the square around the fingertip, redrawn while
     * closer than OBJ_MIN_DIST (under a third of the square, so a few draws). */
    double x, y;
    do {
        x = START[0] + contrl_mj__uniform(&arm->rng, -OBJ_RANGE, OBJ_RANGE);
        y = START[1] + contrl_mj__uniform(&arm->rng, -OBJ_RANGE, OBJ_RANGE);
    } while (hypot(x - START[0], y - START[1]) < OBJ_MIN_DIST);
    double *q = arm->h.d->qpos + p->obj_qpos;
    q[0] = x;
    q[1] = y;
    q[2] = BOX_Z;
    q[3] = 1.0;
    q[4] = q[5] = q[6] = 0.0;
    /* Fetch's goal for push: xy as for the box (no minimum distance), z on the table. */
    arm->goal[0] = (float)(START[0] + contrl_mj__uniform(&arm->rng, -TARGET_RANGE, TARGET_RANGE));
    arm->goal[1] = (float)(START[1] + contrl_mj__uniform(&arm->rng, -TARGET_RANGE, TARGET_RANGE));
    arm->goal[2] = (float)BOX_Z;
    contrl_mj__arm_reset_end(arm, obs, achieved_goal, desired_goal);
    return CONTRL_OK;
}

void contrl_mj__push_destroy(void *user)
{
    contrl_mj__arm_destroy(user);
}

static const contrl_mj__arm_task PUSH = {
    .name = "push",
    .xml = contrl_mj__xml_push,
    .size = sizeof(push),
    .align = _Alignof(push),
    .obs_dim = OBS_DIM,
    .observe = push_observe,
    .reset = push_reset,
    .destroy = contrl_mj__push_destroy,
};

contrl_status contrl_mj__push_make(const contrl_allocator *allocator, contrl_goal_env *env)
{
    contrl_mj__arm *arm;
    contrl_status st = contrl_mj__arm_create(&PUSH, allocator, &arm);
    if (st != CONTRL_OK)
        return st;
    push *p = (push *)arm;
    const mjModel *m = arm->h.m;
    p->obj_site = mj_name2id(m, mjOBJ_SITE, "object");
    const int obj = mj_name2id(m, mjOBJ_JOINT, "object");
    const bool found =
        p->obj_site >= 0 && obj >= 0 && m->jnt_type[obj] == mjJNT_FREE && m->nv == NV;
    st = contrl_mj__arm_setup(arm, START, found);
    if (st != CONTRL_OK) {
        contrl_mj__arm_destroy(arm);
        return st;
    }
    p->obj_qpos = m->jnt_qposadr[obj];
    p->obj_dof = m->jnt_dofadr[obj];
    contrl_mj__arm_fill_env(arm, env);
    return CONTRL_OK;
}
