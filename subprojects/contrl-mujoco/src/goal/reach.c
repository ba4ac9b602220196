/* src/goal/reach.c - the reach goal task (placeholder until written). */
#include "internal.h"

void contrl_mj__reach_destroy(void *user)
{
    (void)user;
}

contrl_status contrl_mj__reach_make(const contrl_allocator *allocator, contrl_goal_env *env)
{
    (void)allocator;
    (void)env;
    return contrl_set_error(CONTRL_ERR_UNSUPPORTED, "contrl_mj_goal_make: reach is not written yet");
}
