/*
 * src/goal/push.c - "push": the arm of "reach" pushes a 5 cm box across a
 * table to a target on the table, FetchPush (Gymnasium-Robotics) in spirit.
 * The model is models/push.xml; docs/mujoco-goal-tasks.md gives the
 * definition and how it was checked.
 *
 * Control, stepping and instability handling are those of reach.c (Fetch's
 * mocap control: a in [-1, 1]^3 puts the mocap at fingertip + 0.05 a, 20
 * substeps of 0.002 s, gravity compensated on the arm, mj_forward before
 * observing); the arm helpers are repeated here rather than shared because
 * each goal task is one file. The achieved goal is the box's centre.
 *
 * Reset, as FetchPush's: the arm at its start (fingertip at START), the box
 * upright at rest on the table, its centre uniform within +-0.15 of the
 * fingertip in x and y but at least 0.1 from it; the goal uniform within
 * +-0.15 of the fingertip in x and y, at the height of the box's centre
 * resting on the table.
 */
#include <float.h>
#include <math.h>
#include <string.h>

#include "internal.h"

enum {
    OBS_DIM = 27,
    GOAL_DIM = 3,
    ACTION_DIM = 3,
    N_JOINTS = 3,
    MAX_NV = 9, /* 3 arm hinges + the box's free joint */
    N_SUBSTEPS = 20,
    MAX_EPISODE_STEPS = 50
};
static const double ACTION_SCALE = 0.05; /* metres of mocap displacement per unit action */
static const double THRESHOLD = 0.05;    /* success: |box - goal|_2 <= 0.05 */
static const double OBJ_RANGE = 0.15;    /* box start: fingertip xy + U(-0.15, 0.15)^2 */
static const double OBJ_MIN_DIST = 0.1;  /* ... at least 0.1 from the fingertip in xy */
static const double TARGET_RANGE = 0.15; /* goal: fingertip xy + U(-0.15, 0.15)^2 */
/* Fingertip start: above the table top (0.4) by the box's half height. */
static const double START[3] = {0.45, 0.0, 0.425};
static const double BOX_Z = 0.425; /* the box's centre resting on the table; the goal's z */
static const char *const JOINTS[N_JOINTS] = {"yaw", "shoulder", "elbow"};

enum phase { NOT_STARTED, RUNNING, ENDED };

typedef struct push {
    contrl_mj__handle h; /* first: contrl_mj_goal_env_model() finds it */
    contrl_allocator allocator;
    int ee_site, obj_site, mocap;
    int obj_qpos, obj_dof; /* the box's free joint: qpos x y z qw qx qy qz, qvel 6 */
    int arm_bodies[8], n_arm_bodies;
    int qpos_adr[N_JOINTS], dof_adr[N_JOINTS];
    double home[N_JOINTS];
    float action_low[ACTION_DIM], action_high[ACTION_DIM];
    float goal[GOAL_DIM];
    float last_obs[OBS_DIM], last_achieved[GOAL_DIM];
    uint32_t steps;
    enum phase phase;
    contrl_rng rng;
} push;

static bool reached(const float *achieved, const float *desired)
{
    double d2 = 0.0;
    for (int i = 0; i < GOAL_DIM; i++) {
        double d = (double)achieved[i] - (double)desired[i];
        d2 += d * d;
    }
    return sqrt(d2) <= THRESHOLD; /* false for NaN */
}

static void push_compute_reward(void *user, const float *achieved, const float *desired,
                                uint32_t n, float *reward)
{
    (void)user;
    for (uint32_t r = 0; r < n; r++)
        reward[r] = reached(achieved + (size_t)r * GOAL_DIM, desired + (size_t)r * GOAL_DIM)
                        ? 0.0f
                        : -1.0f;
}

static int unstable_warnings(const mjData *d)
{
    return d->warning[mjWARN_BADQPOS].number + d->warning[mjWARN_BADQVEL].number +
           d->warning[mjWARN_BADQACC].number;
}

static bool state_finite(const mjModel *m, const mjData *d)
{
    for (int i = 0; i < m->nq; i++)
        if (!isfinite(d->qpos[i]))
            return false;
    for (int i = 0; i < m->nv; i++)
        if (!isfinite(d->qvel[i]))
            return false;
    return true;
}

/* As reach.c: qfrc_applied = -sum_b J_b^T m_b g over the arm's bodies. */
static void compensate_gravity(const push *p)
{
    const mjModel *m = p->h.m;
    mjData *d = p->h.d;
    mjtNum jacp[3 * MAX_NV];
    for (int j = 0; j < N_JOINTS; j++)
        d->qfrc_applied[p->dof_adr[j]] = 0.0;
    for (int k = 0; k < p->n_arm_bodies; k++) {
        const int b = p->arm_bodies[k];
        mj_jacBodyCom(m, d, jacp, NULL, b);
        for (int j = 0; j < N_JOINTS; j++) {
            const int dof = p->dof_adr[j];
            double g = 0.0;
            for (int i = 0; i < 3; i++)
                g += jacp[i * m->nv + dof] * m->opt.gravity[i];
            d->qfrc_applied[dof] -= m->body_mass[b] * g;
        }
    }
}

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
static void observe(const push *p, float *obs, float *achieved)
{
    const mjModel *m = p->h.m;
    const mjData *d = p->h.d;
    const double dt = m->opt.timestep * N_SUBSTEPS;
    mjtNum ev[6], ov[6]; /* angular then linear, world frame */
    mj_objectVelocity(m, d, mjOBJ_SITE, p->ee_site, ev, 0);
    mj_objectVelocity(m, d, mjOBJ_SITE, p->obj_site, ov, 0);
    const mjtNum *e = d->site_xpos + 3 * p->ee_site;
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
        obs[21 + j] = (float)d->qpos[p->qpos_adr[j]];
        obs[24 + j] = (float)(d->qvel[p->dof_adr[j]] * dt);
    }
}

static contrl_status push_reset(void *user, uint64_t seed, float *obs, float *achieved_goal,
                                float *desired_goal)
{
    push *p = user;
    const mjModel *m = p->h.m;
    mjData *d = p->h.d;
    contrl_rng_seed(&p->rng, seed);
    mj_resetData(m, d);
    for (int j = 0; j < N_JOINTS; j++)
        d->qpos[p->qpos_adr[j]] = p->home[j];
    /* The box: uniform in the square around the fingertip, redrawn while
     * closer than OBJ_MIN_DIST (under a third of the square, so a few draws). */
    double x, y;
    do {
        x = START[0] + contrl_mj__uniform(&p->rng, -OBJ_RANGE, OBJ_RANGE);
        y = START[1] + contrl_mj__uniform(&p->rng, -OBJ_RANGE, OBJ_RANGE);
    } while (hypot(x - START[0], y - START[1]) < OBJ_MIN_DIST);
    double *q = d->qpos + p->obj_qpos;
    q[0] = x;
    q[1] = y;
    q[2] = BOX_Z;
    q[3] = 1.0;
    q[4] = q[5] = q[6] = 0.0;
    /* Fetch's goal for push: xy as for the box (no minimum distance), z on the table. */
    p->goal[0] = (float)(START[0] + contrl_mj__uniform(&p->rng, -TARGET_RANGE, TARGET_RANGE));
    p->goal[1] = (float)(START[1] + contrl_mj__uniform(&p->rng, -TARGET_RANGE, TARGET_RANGE));
    p->goal[2] = (float)BOX_Z;
    mj_forward(m, d);
    mju_copy3(d->mocap_pos + 3 * p->mocap, d->site_xpos + 3 * p->ee_site);
    observe(p, obs, achieved_goal);
    memcpy(desired_goal, p->goal, sizeof p->goal);
    memcpy(p->last_obs, obs, sizeof p->last_obs);
    memcpy(p->last_achieved, achieved_goal, sizeof p->last_achieved);
    p->steps = 0;
    p->phase = RUNNING;
    return CONTRL_OK;
}

static contrl_status push_step(void *user, const float *action, float *next_obs,
                               float *achieved_goal, float *reward, bool *terminated,
                               bool *truncated)
{
    push *p = user;
    const mjModel *m = p->h.m;
    mjData *d = p->h.d;
    if (p->phase == NOT_STARTED)
        return contrl_set_error(CONTRL_ERR_STATE, "push: step before the first reset");
    if (p->phase == ENDED)
        return contrl_set_error(CONTRL_ERR_STATE, "push: step after the episode ended; reset first");
    for (int i = 0; i < ACTION_DIM; i++)
        if (isnan(action[i]))
            return contrl_set_error(CONTRL_ERR_INVALID_ARG, "push: action[%d] is NaN", i);

    const mjtNum *ee = d->site_xpos + 3 * p->ee_site;
    mjtNum *target = d->mocap_pos + 3 * p->mocap;
    for (int i = 0; i < 3; i++) {
        double a = action[i] < -1.0f ? -1.0 : action[i] > 1.0f ? 1.0 : (double)action[i];
        target[i] = ee[i] + ACTION_SCALE * a;
    }
    const int warnings = unstable_warnings(d);
    for (int k = 0; k < N_SUBSTEPS; k++) {
        compensate_gravity(p);
        mj_step(m, d);
    }
    p->steps++;
    *terminated = false;

    if (unstable_warnings(d) != warnings || !state_finite(m, d)) {
        /* As reach.c: end on the last good observation and its reward. */
        memcpy(next_obs, p->last_obs, sizeof p->last_obs);
        memcpy(achieved_goal, p->last_achieved, sizeof p->last_achieved);
        push_compute_reward(p, achieved_goal, p->goal, 1, reward);
        *truncated = true;
        p->phase = ENDED;
        return CONTRL_OK;
    }
    mj_forward(m, d);
    observe(p, next_obs, achieved_goal);
    memcpy(p->last_obs, next_obs, sizeof p->last_obs);
    memcpy(p->last_achieved, achieved_goal, sizeof p->last_achieved);
    push_compute_reward(p, achieved_goal, p->goal, 1, reward);
    *truncated = p->steps >= MAX_EPISODE_STEPS;
    if (*truncated)
        p->phase = ENDED;
    return CONTRL_OK;
}

void contrl_mj__push_destroy(void *user)
{
    push *p = user;
    if (p == NULL)
        return;
    mj_deleteData(p->h.d);
    mj_deleteModel(p->h.m);
    p->h.magic = 0;
    contrl_allocator a = p->allocator;
    a.free(a.user, p, sizeof *p);
}

/* As reach.c: elbow-up joint angles putting the fingertip at `t`. */
static bool arm_ik(double zs, double l1, double l2, const double *t, double *q)
{
    const double u = hypot(t[0], t[1]), w = zs - t[2]; /* forward, down */
    const double c = (u * u + w * w - l1 * l1 - l2 * l2) / (2.0 * l1 * l2);
    if (!(c > -1.0 && c < 1.0))
        return false;
    q[0] = atan2(t[1], t[0]);
    q[2] = acos(c);
    q[1] = atan2(w, u) - atan2(l2 * sin(q[2]), l1 + l2 * cos(q[2]));
    return true;
}

contrl_status contrl_mj__push_make(const contrl_allocator *allocator, contrl_goal_env *env)
{
    static const char fn[] = "contrl_mj_goal_make";
    mjModel *m;
    contrl_status st = contrl_mj__load_xml(fn, "push", contrl_mj__xml_push, &m);
    if (st != CONTRL_OK)
        return st;
    push *p = allocator->alloc(allocator->user, sizeof *p, _Alignof(push));
    if (p == NULL) {
        mj_deleteModel(m);
        return contrl_set_error(CONTRL_ERR_NOMEM, "%s: out of memory for \"push\"", fn);
    }
    memset(p, 0, sizeof *p);
    p->allocator = *allocator;
    p->h.m = m;
    p->h.d = mj_makeData(m);
    if (p->h.d == NULL) {
        st = contrl_set_error(CONTRL_ERR_NOMEM, "%s: MuJoCo could not allocate mjData", fn);
        goto fail_free;
    }
    p->h.magic = CONTRL_MJ__MAGIC;

    p->ee_site = mj_name2id(m, mjOBJ_SITE, "ee");
    p->obj_site = mj_name2id(m, mjOBJ_SITE, "object");
    const int target = mj_name2id(m, mjOBJ_BODY, "target");
    p->mocap = target >= 0 ? m->body_mocapid[target] : -1;
    const int turret = mj_name2id(m, mjOBJ_BODY, "turret");
    const int upper = mj_name2id(m, mjOBJ_BODY, "upper_arm");
    const int fore = mj_name2id(m, mjOBJ_BODY, "forearm");
    const int tip = mj_name2id(m, mjOBJ_BODY, "fingertip");
    const int obj = mj_name2id(m, mjOBJ_JOINT, "object");
    bool ok = p->ee_site >= 0 && p->obj_site >= 0 && p->mocap >= 0 && turret >= 0 &&
              upper >= 0 && fore >= 0 && tip >= 0 && obj >= 0 && m->jnt_type[obj] == mjJNT_FREE &&
              m->nv == MAX_NV && m->neq == 1 && m->eq_type[0] == mjEQ_CONNECT;
    for (int j = 0; j < N_JOINTS && ok; j++) {
        int id = mj_name2id(m, mjOBJ_JOINT, JOINTS[j]);
        ok = id >= 0 && m->jnt_type[id] == mjJNT_HINGE;
        if (ok) {
            p->qpos_adr[j] = m->jnt_qposadr[id];
            p->dof_adr[j] = m->jnt_dofadr[id];
        }
    }
    for (int b = 1; b < m->nbody && ok; b++)
        if (m->body_rootid[b] == turret && p->n_arm_bodies < 8)
            p->arm_bodies[p->n_arm_bodies++] = b;
    if (!ok) {
        st = contrl_set_error(CONTRL_ERR_FORMAT, "%s: the push model lacks a body, joint, site "
                              "or its connect constraint", fn);
        goto fail_free;
    }
    p->obj_qpos = m->jnt_qposadr[obj];
    p->obj_dof = m->jnt_dofadr[obj];
    m->eq_data[3] = m->eq_data[4] = m->eq_data[5] = 0.0; /* as reach.c */

    mj_resetData(m, p->h.d);
    mj_kinematics(m, p->h.d);
    const double zs = p->h.d->xpos[3 * upper + 2];
    const double l1 = mju_norm3(m->body_pos + 3 * fore), l2 = mju_norm3(m->body_pos + 3 * tip);
    if (!arm_ik(zs, l1, l2, START, p->home)) {
        st = contrl_set_error(CONTRL_ERR_FORMAT, "%s: the push arm cannot reach its start", fn);
        goto fail_free;
    }

    for (int i = 0; i < ACTION_DIM; i++) {
        p->action_low[i] = -1.0f;
        p->action_high[i] = 1.0f;
    }
    p->phase = NOT_STARTED;
    memset(env, 0, sizeof *env);
    env->size = sizeof *env;
    env->name = "push";
    env->obs_dim = OBS_DIM;
    env->goal_dim = GOAL_DIM;
    env->action_dim = ACTION_DIM;
    env->action_low = p->action_low;
    env->action_high = p->action_high;
    env->max_episode_steps = MAX_EPISODE_STEPS;
    env->user = p;
    env->reset = push_reset;
    env->step = push_step;
    env->compute_reward = push_compute_reward;
    env->destroy = contrl_mj__push_destroy;
    return CONTRL_OK;

fail_free:
    if (p->h.d != NULL)
        mj_deleteData(p->h.d);
    mj_deleteModel(m);
    allocator->free(allocator->user, p, sizeof *p);
    return st;
}
