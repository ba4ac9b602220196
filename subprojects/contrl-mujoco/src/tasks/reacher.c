/* src/tasks/reacher.c - Reacher-v4 (placeholder until the task is written). */
#include "internal.h"

static contrl_status fill(const mjModel *m, const contrl_allocator *allocator,
                          contrl_mj_task *task)
{
    (void)m;
    (void)allocator;
    (void)task;
    return contrl_set_error(CONTRL_ERR_UNSUPPORTED, "contrl_mj_make: reacher is not written yet");
}

const contrl_mj__builtin contrl_mj__reacher = {"reacher", "Reacher-v4", contrl_mj__xml_reacher, fill};
