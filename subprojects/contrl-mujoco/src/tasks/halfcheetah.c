/* src/tasks/halfcheetah.c - HalfCheetah-v4 (Gymnasium).
 *
 * obs = [qpos[1:], qvel] (17: the x of the root left out); action = six
 * joint torques in [-1, 1]; frame skip 5 at dt 0.01 (Euler); reward
 * (x after - x before) / 0.05 - 0.1 |action|^2 with x = qpos[0] (the rootx
 * slide); never terminated; reset qpos0 + U(-0.1, 0.1) and qvel
 * 0.1 N(0, 1); 1000 steps. The declarative rules say all of it. */
#include "internal.h"

static contrl_status fill(const mjModel *m, const contrl_allocator *allocator,
                          contrl_mj_task *task)
{
    (void)allocator;
    const int rootx = mj_name2id(m, mjOBJ_JOINT, "rootx");
    if (rootx < 0)
        return contrl_set_error(CONTRL_ERR_FORMAT,
                                "contrl_mj_make: halfcheetah: the model has no joint \"rootx\"");
    task->frame_skip = 5;
    task->max_episode_steps = 1000;
    task->obs_qpos[0] = CONTRL_MJ_FROM(1);
    task->n_obs_qpos = 1;
    task->obs_qvel[0] = -1;
    task->n_obs_qvel = 1;
    task->forward_weight = 1.0;
    task->forward_qpos = m->jnt_qposadr[rootx];
    task->ctrl_cost_weight = 0.1;
    task->reset_noise_scale = 0.1;
    task->qpos_noise = CONTRL_MJ_NOISE_UNIFORM;
    task->qvel_noise = CONTRL_MJ_NOISE_NORMAL;
    return CONTRL_OK;
}

const contrl_mj__builtin contrl_mj__halfcheetah = {"halfcheetah", "HalfCheetah-v4",
                                                   contrl_mj__xml_halfcheetah, fill};
