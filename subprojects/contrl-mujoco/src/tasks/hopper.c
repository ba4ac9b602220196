/* src/tasks/hopper.c - Hopper-v4 (placeholder until the task is written). */
#include "internal.h"

static contrl_status fill(const mjModel *m, const contrl_allocator *allocator,
                          contrl_mj_task *task)
{
    (void)m;
    (void)allocator;
    (void)task;
    return contrl_set_error(CONTRL_ERR_UNSUPPORTED, "contrl_mj_make: hopper is not written yet");
}

const contrl_mj__builtin contrl_mj__hopper = {"hopper", "Hopper-v4", contrl_mj__xml_hopper, fill};
