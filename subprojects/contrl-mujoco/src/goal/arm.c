/*
 * src/goal/arm.c - the arm and episode logic of the goal tasks (arm.h).
 *
 * Control is Fetch's: the action a in [-1, 1]^3 (clipped) puts the mocap
 * body at fingertip + 0.05 a, then 20 substeps of 0.002 s run while the
 * model's connect constraint pulls the fingertip after the mocap. The
 * mocap starts from the fingertip's current position every step, as in
 * Fetch (reset_mocap2body_xpos), so targets never accumulate out of reach.
 * Gravity on the arm is compensated (compensate_gravity). After the
 * substeps mj_forward brings positions and velocities up to the new state,
 * so the observation and the achieved goal are those of the state the next
 * step starts from (Fetch reads them one substep stale).
 *
 * Goals are kept in float and the step's reward is compute_reward of the
 * float achieved and desired goals handed to the caller, so HER's
 * relabelled rewards agree with the env's exactly.
 */
#include <math.h>
#include <string.h>

#include "arm.h"

static const char FN[] = "contrl_mj_goal_make"; /* the public function that makes the envs */
static const double ACTION_SCALE = 0.05; /* metres of mocap displacement per unit action */
static const double THRESHOLD = 0.05;    /* success: |achieved - desired|_2 <= 0.05 */
static const char *const JOINTS[CONTRL_MJ__ARM_JOINTS] = {"yaw", "shoulder", "elbow"};

static bool reached(const float *achieved, const float *desired)
{
    double d2 = 0.0;
    for (int i = 0; i < CONTRL_MJ__ARM_GOAL_DIM; i++) {
        double d = (double)achieved[i] - (double)desired[i];
        d2 += d * d;
    }
    return sqrt(d2) <= THRESHOLD; /* false for NaN */
}

void contrl_mj__arm_compute_reward(void *user, const float *achieved, const float *desired,
                                   uint32_t n, float *reward)
{
    (void)user;
    for (uint32_t r = 0; r < n; r++)
        reward[r] = reached(achieved + (size_t)r * CONTRL_MJ__ARM_GOAL_DIM,
                            desired + (size_t)r * CONTRL_MJ__ARM_GOAL_DIM)
                        ? 0.0f
                        : -1.0f;
}


/* The arm's controller cancels gravity on its links, as a real arm's does:
 * qfrc_applied = -sum_b J_b^T m_b g over the arm's bodies, with J_b the
 * Jacobian of body b's centre of mass. Without it the soft constraint lets
 * the fingertip sag 3 mm per 50 steps under a zero action. Evaluated before
 * each substep at the positions mj_step last computed (one substep old). */
static void compensate_gravity(const contrl_mj__arm *arm)
{
    const mjModel *m = arm->h.m;
    mjData *d = arm->h.d;
    mjtNum jacp[3 * CONTRL_MJ__ARM_MAX_NV];
    for (int j = 0; j < CONTRL_MJ__ARM_JOINTS; j++)
        d->qfrc_applied[arm->dof_adr[j]] = 0.0;
    for (int k = 0; k < arm->n_arm_bodies; k++) {
        const int b = arm->arm_bodies[k];
        mj_jacBodyCom(m, d, jacp, NULL, b);
        for (int j = 0; j < CONTRL_MJ__ARM_JOINTS; j++) {
            const int dof = arm->dof_adr[j];
            double g = 0.0;
            for (int i = 0; i < 3; i++)
                g += jacp[i * m->nv + dof] * m->opt.gravity[i];
            d->qfrc_applied[dof] -= m->body_mass[b] * g;
        }
    }
}

/* Joint angles (yaw, shoulder, elbow) that put the fingertip at `p`, elbow
 * up, from the link lengths in the model: the shoulder is at height zs on
 * the yaw axis, the upper arm and the forearm (to the fingertip) are l1 and
 * l2 long and both point along +x at zero angles; positive pitch is down. */
static bool arm_ik(double zs, double l1, double l2, const double *p, double *q)
{
    const double u = hypot(p[0], p[1]), w = zs - p[2]; /* forward, down */
    const double c = (u * u + w * w - l1 * l1 - l2 * l2) / (2.0 * l1 * l2);
    if (!(c > -1.0 && c < 1.0))
        return false;
    q[0] = atan2(p[1], p[0]);
    q[2] = acos(c);
    q[1] = atan2(w, u) - atan2(l2 * sin(q[2]), l1 + l2 * cos(q[2]));
    return true;
}

contrl_status contrl_mj__arm_create(const contrl_mj__arm_task *task,
                                    const contrl_allocator *allocator, contrl_mj__arm **out)
{
    *out = NULL;
    mjModel *m;
    contrl_status st = contrl_mj__load_xml(FN, task->name, task->xml, &m);
    if (st != CONTRL_OK)
        return st;
    contrl_mj__arm *arm = allocator->alloc(allocator->user, task->size, task->align);
    if (arm == NULL) {
        mj_deleteModel(m);
        return contrl_set_error(CONTRL_ERR_NOMEM, "%s: out of memory for \"%s\"", FN, task->name);
    }
    memset(arm, 0, task->size);
    arm->task = task;
    arm->allocator = *allocator;
    arm->h.m = m;
    arm->h.d = mj_makeData(m);
    if (arm->h.d == NULL) {
        mj_deleteModel(m);
        allocator->free(allocator->user, arm, task->size);
        return contrl_set_error(CONTRL_ERR_NOMEM, "%s: MuJoCo could not allocate mjData", FN);
    }
    arm->h.magic = CONTRL_MJ__MAGIC_GOAL;
    for (int i = 0; i < CONTRL_MJ__ARM_ACTION_DIM; i++) {
        arm->action_low[i] = -1.0f;
        arm->action_high[i] = 1.0f;
    }
    arm->phase = CONTRL_MJ__ARM_NOT_STARTED;
    *out = arm;
    return CONTRL_OK;
}

contrl_status contrl_mj__arm_setup(contrl_mj__arm *arm, const double *start,
                                   bool task_parts_found)
{
    mjModel *m = arm->h.m;
    mjData *d = arm->h.d;
    arm->ee_site = mj_name2id(m, mjOBJ_SITE, "ee");
    const int target = mj_name2id(m, mjOBJ_BODY, "target");
    arm->mocap = target >= 0 ? m->body_mocapid[target] : -1;
    const int turret = mj_name2id(m, mjOBJ_BODY, "turret");
    const int upper = mj_name2id(m, mjOBJ_BODY, "upper_arm");
    const int fore = mj_name2id(m, mjOBJ_BODY, "forearm");
    const int tip = mj_name2id(m, mjOBJ_BODY, "fingertip");
    bool ok = task_parts_found && arm->ee_site >= 0 && arm->mocap >= 0 && turret >= 0 &&
              upper >= 0 && fore >= 0 && tip >= 0 && m->nv <= CONTRL_MJ__ARM_MAX_NV &&
              m->neq == 1 && m->eq_type[0] == mjEQ_CONNECT;
    for (int j = 0; j < CONTRL_MJ__ARM_JOINTS && ok; j++) {
        int id = mj_name2id(m, mjOBJ_JOINT, JOINTS[j]);
        ok = id >= 0 && m->jnt_type[id] == mjJNT_HINGE;
        if (ok) {
            arm->qpos_adr[j] = m->jnt_qposadr[id];
            arm->dof_adr[j] = m->jnt_dofadr[id];
        }
    }
    for (int b = 1; b < m->nbody && ok; b++)
        if (m->body_rootid[b] == turret && arm->n_arm_bodies < CONTRL_MJ__ARM_MAX_BODIES)
            arm->arm_bodies[arm->n_arm_bodies++] = b;
    if (!ok)
        return contrl_set_error(CONTRL_ERR_FORMAT, "%s: the %s model lacks a body, joint, site "
                                "or its connect constraint", FN, arm->task->name);
    /* The constraint's anchor is the mocap body's origin (the compiler put
     * it there to within rounding): the mocap position is then exactly the
     * fingertip's target, as after Fetch's reset_mocap_welds. */
    m->eq_data[3] = m->eq_data[4] = m->eq_data[5] = 0.0;

    /* Shoulder height from the zero pose; link lengths from the body offsets. */
    mj_resetData(m, d);
    mj_kinematics(m, d);
    const double zs = d->xpos[3 * upper + 2];
    const double l1 = mju_norm3(m->body_pos + 3 * fore), l2 = mju_norm3(m->body_pos + 3 * tip);
    if (!arm_ik(zs, l1, l2, start, arm->home))
        return contrl_set_error(CONTRL_ERR_FORMAT, "%s: the %s arm cannot reach its start", FN,
                                arm->task->name);
    return CONTRL_OK;
}

void contrl_mj__arm_fill_env(contrl_mj__arm *arm, contrl_goal_env *env)
{
    memset(env, 0, sizeof *env);
    env->size = sizeof *env;
    env->name = arm->task->name;
    env->obs_dim = arm->task->obs_dim;
    env->goal_dim = CONTRL_MJ__ARM_GOAL_DIM;
    env->action_dim = CONTRL_MJ__ARM_ACTION_DIM;
    env->action_low = arm->action_low;
    env->action_high = arm->action_high;
    env->max_episode_steps = CONTRL_MJ__ARM_EPISODE_STEPS;
    env->user = arm;
    env->reset = arm->task->reset;
    env->step = contrl_mj__arm_step;
    env->compute_reward = contrl_mj__arm_compute_reward;
    env->destroy = arm->task->destroy;
}

void contrl_mj__arm_destroy(contrl_mj__arm *arm)
{
    if (arm == NULL)
        return;
    if (arm->h.d != NULL)
        mj_deleteData(arm->h.d);
    mj_deleteModel(arm->h.m);
    arm->h.magic = 0;
    contrl_allocator a = arm->allocator;
    a.free(a.user, arm, arm->task->size);
}

void contrl_mj__arm_reset_begin(contrl_mj__arm *arm, uint64_t seed)
{
    mjData *d = arm->h.d;
    contrl_rng_seed(&arm->rng, seed);
    mj_resetData(arm->h.m, d);
    for (int j = 0; j < CONTRL_MJ__ARM_JOINTS; j++)
        d->qpos[arm->qpos_adr[j]] = arm->home[j];
}

void contrl_mj__arm_reset_end(contrl_mj__arm *arm, float *obs, float *achieved_goal,
                              float *desired_goal)
{
    mjData *d = arm->h.d;
    mj_forward(arm->h.m, d);
    mju_copy3(d->mocap_pos + 3 * arm->mocap, d->site_xpos + 3 * arm->ee_site);
    arm->task->observe(arm, obs, achieved_goal);
    memcpy(desired_goal, arm->goal, sizeof arm->goal);
    memcpy(arm->last_obs, obs, arm->task->obs_dim * sizeof *obs);
    memcpy(arm->last_achieved, achieved_goal, sizeof arm->last_achieved);
    arm->steps = 0;
    arm->phase = CONTRL_MJ__ARM_RUNNING;
}

contrl_status contrl_mj__arm_step(void *user, const float *action, float *next_obs,
                                  float *achieved_goal, float *reward, bool *terminated,
                                  bool *truncated)
{
    contrl_mj__arm *arm = user;
    const mjModel *m = arm->h.m;
    mjData *d = arm->h.d;
    const char *name = arm->task->name;
    const size_t obs_size = arm->task->obs_dim * sizeof *next_obs;
    if (arm->phase == CONTRL_MJ__ARM_NOT_STARTED)
        return contrl_set_error(CONTRL_ERR_STATE, "%s: step before the first reset", name);
    if (arm->phase == CONTRL_MJ__ARM_ENDED)
        return contrl_set_error(CONTRL_ERR_STATE, "%s: step after the episode ended; reset first",
                                name);
    for (int i = 0; i < CONTRL_MJ__ARM_ACTION_DIM; i++)
        if (isnan(action[i]))
            return contrl_set_error(CONTRL_ERR_INVALID_ARG, "%s: action[%d] is NaN", name, i);

    const mjtNum *ee = d->site_xpos + 3 * arm->ee_site;
    mjtNum *target = d->mocap_pos + 3 * arm->mocap;
    for (int i = 0; i < 3; i++) {
        double a = action[i] < -1.0f ? -1.0 : action[i] > 1.0f ? 1.0 : (double)action[i];
        target[i] = ee[i] + ACTION_SCALE * a;
    }
    const int warnings = contrl_mj__unstable_warnings(d);
    for (int k = 0; k < CONTRL_MJ__ARM_SUBSTEPS; k++) {
        compensate_gravity(arm);
        mj_step(m, d);
    }
    arm->steps++;
    *terminated = false;

    if (contrl_mj__unstable_warnings(d) != warnings || !contrl_mj__state_finite(m, d)) {
        /* MuJoCo reset mjData (bad qpos/qvel/qacc) or the state is garbage:
         * end the episode on the last good observation; its reward is that
         * of the last good achieved goal, so relabelling stays consistent. */
        memcpy(next_obs, arm->last_obs, obs_size);
        memcpy(achieved_goal, arm->last_achieved, sizeof arm->last_achieved);
        contrl_mj__arm_compute_reward(arm, achieved_goal, arm->goal, 1, reward);
        *truncated = true;
        arm->phase = CONTRL_MJ__ARM_ENDED;
        return CONTRL_OK;
    }
    mj_forward(m, d);
    arm->task->observe(arm, next_obs, achieved_goal);
    memcpy(arm->last_obs, next_obs, obs_size);
    memcpy(arm->last_achieved, achieved_goal, sizeof arm->last_achieved);
    contrl_mj__arm_compute_reward(arm, achieved_goal, arm->goal, 1, reward);
    *truncated = arm->steps >= CONTRL_MJ__ARM_EPISODE_STEPS;
    if (*truncated)
        arm->phase = CONTRL_MJ__ARM_ENDED;
    return CONTRL_OK;
}
