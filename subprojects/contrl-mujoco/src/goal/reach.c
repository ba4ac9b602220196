/*
 * src/goal/reach.c - "reach": a three-joint arm's fingertip to a sampled 3-D
 * target, FetchReach (Gymnasium-Robotics) in spirit. The model is
 * models/reach.xml; docs/mujoco-goal-tasks.md gives the definition and how
 * it was checked.
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

#include "internal.h"

enum {
    OBS_DIM = 12, /* fingertip pos 3, fingertip vel * dt 3, joint angles 3, joint vel * dt 3 */
    GOAL_DIM = 3,
    ACTION_DIM = 3,
    N_JOINTS = 3,
    N_SUBSTEPS = 20,
    MAX_EPISODE_STEPS = 50
};
static const double ACTION_SCALE = 0.05; /* metres of mocap displacement per unit action */
static const double THRESHOLD = 0.05;    /* success: |achieved - desired|_2 <= 0.05 */
static const double TARGET_RANGE = 0.15; /* goal = start + U(-0.15, 0.15)^3 */
/* The fingertip's starting position (the inverse kinematics target) and the
 * centre of the goal box. */
static const double START[3] = {0.45, 0.0, 0.6};
static const char *const JOINTS[N_JOINTS] = {"yaw", "shoulder", "elbow"};

enum phase { NOT_STARTED, RUNNING, ENDED };

typedef struct reach {
    contrl_mj__handle h; /* first: contrl_mj_goal_env_model() finds it */
    contrl_allocator allocator;
    int ee_site, mocap;
    int arm_bodies[8], n_arm_bodies; /* the bodies the joints move, for gravity compensation */
    int qpos_adr[N_JOINTS], dof_adr[N_JOINTS];
    double home[N_JOINTS]; /* joint angles that put the fingertip at START */
    float action_low[ACTION_DIM], action_high[ACTION_DIM];
    float goal[GOAL_DIM];
    float last_obs[OBS_DIM], last_achieved[GOAL_DIM]; /* of the last good state */
    uint32_t steps;
    enum phase phase;
    contrl_rng rng;
} reach;

static bool reached(const float *achieved, const float *desired)
{
    double d2 = 0.0;
    for (int i = 0; i < GOAL_DIM; i++) {
        double d = (double)achieved[i] - (double)desired[i];
        d2 += d * d;
    }
    return sqrt(d2) <= THRESHOLD; /* false for NaN */
}

static void reach_compute_reward(void *user, const float *achieved, const float *desired,
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

/* The arm's controller cancels gravity on its links, as a real arm's does:
 * qfrc_applied = -sum_b J_b^T m_b g over the arm's bodies, with J_b the
 * Jacobian of body b's centre of mass. Without it the soft constraint lets
 * the fingertip sag 3 mm per 50 steps under a zero action. Evaluated before
 * each substep at the positions mj_step last computed (one substep old). */
static void compensate_gravity(const reach *r)
{
    const mjModel *m = r->h.m;
    mjData *d = r->h.d;
    mjtNum jacp[3 * N_JOINTS];
    for (int j = 0; j < N_JOINTS; j++)
        d->qfrc_applied[r->dof_adr[j]] = 0.0;
    for (int k = 0; k < r->n_arm_bodies; k++) {
        const int b = r->arm_bodies[k];
        mj_jacBodyCom(m, d, jacp, NULL, b);
        for (int j = 0; j < N_JOINTS; j++) {
            const int dof = r->dof_adr[j];
            double g = 0.0;
            for (int i = 0; i < 3; i++)
                g += jacp[i * m->nv + dof] * m->opt.gravity[i];
            d->qfrc_applied[dof] -= m->body_mass[b] * g;
        }
    }
}

static void observe(const reach *r, float *obs, float *achieved)
{
    const mjModel *m = r->h.m;
    const mjData *d = r->h.d;
    const double dt = m->opt.timestep * N_SUBSTEPS;
    mjtNum vel[6]; /* angular then linear, world frame */
    mj_objectVelocity(m, d, mjOBJ_SITE, r->ee_site, vel, 0);
    const mjtNum *p = d->site_xpos + 3 * r->ee_site;
    for (int i = 0; i < 3; i++) {
        obs[i] = (float)p[i];
        obs[3 + i] = (float)(vel[3 + i] * dt);
        achieved[i] = obs[i];
    }
    for (int j = 0; j < N_JOINTS; j++) {
        obs[6 + j] = (float)d->qpos[r->qpos_adr[j]];
        obs[9 + j] = (float)(d->qvel[r->dof_adr[j]] * dt);
    }
}

static contrl_status reach_reset(void *user, uint64_t seed, float *obs, float *achieved_goal,
                                 float *desired_goal)
{
    reach *r = user;
    const mjModel *m = r->h.m;
    mjData *d = r->h.d;
    contrl_rng_seed(&r->rng, seed);
    mj_resetData(m, d);
    for (int j = 0; j < N_JOINTS; j++)
        d->qpos[r->qpos_adr[j]] = r->home[j];
    mj_forward(m, d);
    mju_copy3(d->mocap_pos + 3 * r->mocap, d->site_xpos + 3 * r->ee_site);
    /* Fetch keeps its goals where they fall, even within the threshold of the
     * start (about 2% of the box here); so do we. */
    for (int i = 0; i < GOAL_DIM; i++)
        r->goal[i] = (float)(START[i] + contrl_mj__uniform(&r->rng, -TARGET_RANGE, TARGET_RANGE));
    observe(r, obs, achieved_goal);
    memcpy(desired_goal, r->goal, sizeof r->goal);
    memcpy(r->last_obs, obs, sizeof r->last_obs);
    memcpy(r->last_achieved, achieved_goal, sizeof r->last_achieved);
    r->steps = 0;
    r->phase = RUNNING;
    return CONTRL_OK;
}

static contrl_status reach_step(void *user, const float *action, float *next_obs,
                                float *achieved_goal, float *reward, bool *terminated,
                                bool *truncated)
{
    reach *r = user;
    const mjModel *m = r->h.m;
    mjData *d = r->h.d;
    if (r->phase == NOT_STARTED)
        return contrl_set_error(CONTRL_ERR_STATE, "reach: step before the first reset");
    if (r->phase == ENDED)
        return contrl_set_error(CONTRL_ERR_STATE, "reach: step after the episode ended; reset first");
    for (int i = 0; i < ACTION_DIM; i++)
        if (isnan(action[i]))
            return contrl_set_error(CONTRL_ERR_INVALID_ARG, "reach: action[%d] is NaN", i);

    const mjtNum *ee = d->site_xpos + 3 * r->ee_site;
    mjtNum *target = d->mocap_pos + 3 * r->mocap;
    for (int i = 0; i < 3; i++) {
        double a = action[i] < -1.0f ? -1.0 : action[i] > 1.0f ? 1.0 : (double)action[i];
        target[i] = ee[i] + ACTION_SCALE * a;
    }
    const int warnings = unstable_warnings(d);
    for (int k = 0; k < N_SUBSTEPS; k++) {
        compensate_gravity(r);
        mj_step(m, d);
    }
    r->steps++;
    *terminated = false;

    if (unstable_warnings(d) != warnings || !state_finite(m, d)) {
        /* MuJoCo reset mjData (bad qpos/qvel/qacc) or the state is garbage:
         * end the episode on the last good observation; its reward is that
         * of the last good achieved goal, so relabelling stays consistent. */
        memcpy(next_obs, r->last_obs, sizeof r->last_obs);
        memcpy(achieved_goal, r->last_achieved, sizeof r->last_achieved);
        reach_compute_reward(r, achieved_goal, r->goal, 1, reward);
        *truncated = true;
        r->phase = ENDED;
        return CONTRL_OK;
    }
    mj_forward(m, d);
    observe(r, next_obs, achieved_goal);
    memcpy(r->last_obs, next_obs, sizeof r->last_obs);
    memcpy(r->last_achieved, achieved_goal, sizeof r->last_achieved);
    reach_compute_reward(r, achieved_goal, r->goal, 1, reward);
    *truncated = r->steps >= MAX_EPISODE_STEPS;
    if (*truncated)
        r->phase = ENDED;
    return CONTRL_OK;
}

void contrl_mj__reach_destroy(void *user)
{
    reach *r = user;
    if (r == NULL)
        return;
    mj_deleteData(r->h.d);
    mj_deleteModel(r->h.m);
    r->h.magic = 0;
    contrl_allocator a = r->allocator;
    a.free(a.user, r, sizeof *r);
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

contrl_status contrl_mj__reach_make(const contrl_allocator *allocator, contrl_goal_env *env)
{
    static const char fn[] = "contrl_mj_goal_make";
    mjModel *m;
    contrl_status st = contrl_mj__load_xml(fn, "reach", contrl_mj__xml_reach, &m);
    if (st != CONTRL_OK)
        return st;
    reach *r = allocator->alloc(allocator->user, sizeof *r, _Alignof(reach));
    if (r == NULL) {
        mj_deleteModel(m);
        return contrl_set_error(CONTRL_ERR_NOMEM, "%s: out of memory for \"reach\"", fn);
    }
    memset(r, 0, sizeof *r);
    r->allocator = *allocator;
    r->h.m = m;
    r->h.d = mj_makeData(m);
    if (r->h.d == NULL) {
        st = contrl_set_error(CONTRL_ERR_NOMEM, "%s: MuJoCo could not allocate mjData", fn);
        goto fail_free;
    }
    r->h.magic = CONTRL_MJ__MAGIC;

    r->ee_site = mj_name2id(m, mjOBJ_SITE, "ee");
    const int target = mj_name2id(m, mjOBJ_BODY, "target");
    r->mocap = target >= 0 ? m->body_mocapid[target] : -1;
    const int upper = mj_name2id(m, mjOBJ_BODY, "upper_arm");
    const int fore = mj_name2id(m, mjOBJ_BODY, "forearm");
    const int tip = mj_name2id(m, mjOBJ_BODY, "fingertip");
    bool ok = r->ee_site >= 0 && r->mocap >= 0 && upper >= 0 && fore >= 0 && tip >= 0 &&
              m->neq == 1 && m->eq_type[0] == mjEQ_CONNECT;
    for (int j = 0; j < N_JOINTS && ok; j++) {
        int id = mj_name2id(m, mjOBJ_JOINT, JOINTS[j]);
        ok = id >= 0 && m->jnt_type[id] == mjJNT_HINGE;
        if (ok) {
            r->qpos_adr[j] = m->jnt_qposadr[id];
            r->dof_adr[j] = m->jnt_dofadr[id];
        }
    }
    const int turret = mj_name2id(m, mjOBJ_BODY, "turret");
    ok = ok && turret >= 0 && m->nv == N_JOINTS;
    for (int b = 1; b < m->nbody && ok; b++)
        if (m->body_rootid[b] == turret && r->n_arm_bodies < 8)
            r->arm_bodies[r->n_arm_bodies++] = b;
    if (!ok) {
        st = contrl_set_error(CONTRL_ERR_FORMAT, "%s: the reach model lacks a body, joint, site "
                              "or its connect constraint", fn);
        goto fail_free;
    }
    /* The constraint's anchor is the mocap body's origin (the compiler put
     * it there to within rounding): the mocap position is then exactly the
     * fingertip's target, as after Fetch's reset_mocap_welds. */
    m->eq_data[3] = m->eq_data[4] = m->eq_data[5] = 0.0;

    /* Shoulder height from the zero pose; link lengths from the body offsets. */
    mj_resetData(m, r->h.d);
    mj_kinematics(m, r->h.d);
    const double zs = r->h.d->xpos[3 * upper + 2];
    const double l1 = mju_norm3(m->body_pos + 3 * fore), l2 = mju_norm3(m->body_pos + 3 * tip);
    if (!arm_ik(zs, l1, l2, START, r->home)) {
        st = contrl_set_error(CONTRL_ERR_FORMAT, "%s: the reach arm cannot reach its start", fn);
        goto fail_free;
    }

    for (int i = 0; i < ACTION_DIM; i++) {
        r->action_low[i] = -1.0f;
        r->action_high[i] = 1.0f;
    }
    r->phase = NOT_STARTED;
    memset(env, 0, sizeof *env);
    env->size = sizeof *env;
    env->name = "reach";
    env->obs_dim = OBS_DIM;
    env->goal_dim = GOAL_DIM;
    env->action_dim = ACTION_DIM;
    env->action_low = r->action_low;
    env->action_high = r->action_high;
    env->max_episode_steps = MAX_EPISODE_STEPS;
    env->user = r;
    env->reset = reach_reset;
    env->step = reach_step;
    env->compute_reward = reach_compute_reward;
    env->destroy = contrl_mj__reach_destroy;
    return CONTRL_OK;

fail_free:
    if (r->h.d != NULL)
        mj_deleteData(r->h.d);
    mj_deleteModel(m);
    allocator->free(allocator->user, r, sizeof *r);
    return st;
}
