/* src/tasks/ant.c - Ant-v4 (Gymnasium's ant_v4.py with its defaults:
 * use_contact_forces = False).
 *
 * Everything is declarative (env.c):
 *   observation  qpos[2:] (torso z, torso quaternion, 8 joint angles) then
 *                qvel (14): 13 + 14 = 27 entries, nothing clipped;
 *   reward       (x after - x before) / dt - 0.5 |action|^2 + 1, where x is
 *                the torso body's xpos[0] read from mjData before and after
 *                the frame_skip substeps (Gymnasium's get_body_com, which
 *                after mj_step holds the kinematics of the last
 *                Runge-Kutta stage, not of the final state); the 1 is also
 *                paid on the step that ends the episode. No contact cost:
 *                v4 adds it only when use_contact_forces is set;
 *   healthy      the state is finite and 0.2 <= qpos[2] <= 1.0 (closed
 *                interval, unlike the other tasks);
 *   reset        qpos0 + U(-0.1, 0.1) per qpos entry (the quaternion too;
 *                MuJoCo 2.2.2's mj_forward then normalises it in qpos, for
 *                Gymnasium's set_state as here) and qvel = 0.1 N(0, 1);
 *   dt           frame_skip 5 x timestep 0.01 = 0.05 s, 1000 steps. */
#include <math.h>

#include "internal.h"

static contrl_status fill(const mjModel *m, const contrl_allocator *allocator,
                          contrl_mj_task *task)
{
    (void)allocator;
    const int torso = mj_name2id(m, mjOBJ_BODY, "torso");
    /* qpos[2] must be the torso's height: the free joint comes first */
    if (m->nq != 15 || m->nv != 14 || m->nu != 8 || torso < 0 || m->njnt < 1 ||
        m->jnt_type[0] != mjJNT_FREE || m->jnt_bodyid[0] != torso)
        return contrl_set_error(CONTRL_ERR_FORMAT,
                                "contrl_mj_make: the ant model is not laid out as expected");
    task->frame_skip = 5;
    task->max_episode_steps = 1000;

    task->obs_qpos[0] = CONTRL_MJ_FROM(2);
    task->n_obs_qpos = 1;
    task->obs_qvel[0] = -1;
    task->n_obs_qvel = 1;

    task->forward_body = torso;
    task->forward_weight = 1.0;
    task->ctrl_cost_weight = 0.5;
    task->healthy_reward = 1.0;
    task->terminate_when_unhealthy = true;
    /* env.c's bounds are open; the next doubles outward make them the
     * closed interval [0.2, 1.0] exactly. */
    task->healthy_z_qpos = 2;
    task->healthy_z_min = nextafter(0.2, -INFINITY);
    task->healthy_z_max = nextafter(1.0, INFINITY);

    task->reset_noise_scale = 0.1;
    task->qpos_noise = CONTRL_MJ_NOISE_UNIFORM;
    task->qvel_noise = CONTRL_MJ_NOISE_NORMAL;
    return CONTRL_OK;
}

const contrl_mj__builtin contrl_mj__ant = {"ant", "Ant-v4", contrl_mj__xml_ant, fill};
