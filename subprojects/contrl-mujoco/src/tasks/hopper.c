/* src/tasks/hopper.c - Hopper-v4 (Gymnasium's hopper_v4.py with its defaults).
 *
 * Everything is declarative (env.c):
 *   observation  qpos[1:] (z, pitch, 3 leg angles) then qvel clipped to
 *                +-10: 5 + 6 = 11 entries;
 *   reward       (qpos[0] after - qpos[0] before) / dt - 1e-3 |action|^2
 *                + 1, the 1 also paid on the step that ends the episode;
 *   healthy      z = qpos[1] > 0.7, pitch = qpos[2] in (-0.2, 0.2) and every
 *                entry of [qpos, qvel][2:] in (-100, 100);
 *   reset        qpos0 and zero qvel, each entry + U(-5e-3, 5e-3);
 *   dt           frame_skip 4 x timestep 0.002 = 0.008 s, 1000 steps. */
#include <math.h>

#include "internal.h"

static contrl_status fill(const mjModel *m, const contrl_allocator *allocator,
                          contrl_mj_task *task)
{
    (void)allocator;
    /* The rules below index qpos by position: x, z, pitch first. */
    if (m->nq != 6 || m->nv != 6 || m->nu != 3 || contrl_mj__qpos_of(m, "rootx") != 0 ||
        contrl_mj__qpos_of(m, "rootz") != 1 || contrl_mj__qpos_of(m, "rooty") != 2)
        return contrl_set_error(CONTRL_ERR_FORMAT,
                                "contrl_mj_make: the hopper model is not laid out as expected");
    task->frame_skip = 4;
    task->max_episode_steps = 1000;

    task->obs_qpos[0] = CONTRL_MJ_FROM(1);
    task->n_obs_qpos = 1;
    task->obs_qvel[0] = -1;
    task->n_obs_qvel = 1;
    task->obs_qvel_clip = 10.0;

    task->forward_qpos = 0;
    task->forward_weight = 1.0;
    task->ctrl_cost_weight = 1e-3;
    task->healthy_reward = 1.0;
    task->terminate_when_unhealthy = true;
    task->healthy_z_qpos = 1;
    task->healthy_z_min = 0.7;
    task->healthy_z_max = INFINITY;
    task->healthy_angle_qpos = 2;
    task->healthy_angle_min = -0.2;
    task->healthy_angle_max = 0.2;
    task->healthy_state_max = 100.0;
    task->healthy_state_from = 2;

    task->reset_noise_scale = 5e-3;
    task->qpos_noise = CONTRL_MJ_NOISE_UNIFORM;
    task->qvel_noise = CONTRL_MJ_NOISE_UNIFORM;
    return CONTRL_OK;
}

const contrl_mj__builtin contrl_mj__hopper = {"hopper", "Hopper-v4", contrl_mj__xml_hopper, fill};
