/* src/tasks/walker2d.c - Walker2d-v4 (placeholder until the task is written). */
#include "internal.h"

static contrl_status fill(const mjModel *m, const contrl_allocator *allocator,
                          contrl_mj_task *task)
{
    (void)m;
    (void)allocator;
    (void)task;
    return contrl_set_error(CONTRL_ERR_UNSUPPORTED, "contrl_mj_make: walker2d is not written yet");
}

const contrl_mj__builtin contrl_mj__walker2d = {"walker2d", "Walker2d-v4", contrl_mj__xml_walker2d, fill};
