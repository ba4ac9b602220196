/* tests/fuzz/fuzz_her_load.c - HER checkpoints (an agent checkpoint plus
 * the normaliser's state, the learner's RNG, config and stored episodes)
 * from hostile bytes, for the goal task the seeds were made on (bitflip-3).
 * The normaliser has no loader of its own: its state is read here
 * (her.normalizer.*) through contrl_normalizer_set_state. Invariants as
 * for agents: same status through memory and file, NULL handle and a
 * message on failure, nothing leaked; a learner that loads acts finitely. */
#include <math.h>
#include <string.h>

#include "contrl/contrl.h"
#include "fuzz_support.h"
#include "her_internal.h"

static contrl_goal_env env;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    if (contrl_goal_env_make("bitflip-3", NULL, &env) != CONTRL_OK)
        fuzz_fail("bitflip-3: %s", contrl_last_error());
    return 0;
}

static void exercise(contrl_her *h)
{
    float obs[3] = {1, 0, 1}, goal[3] = {0, 0, 1}, act[1];
    for (int explore = 0; explore < 2; explore++) {
        contrl_status st = contrl_her_act(h, obs, goal, act, explore != 0);
        FUZZ_CHECK(st == CONTRL_OK, "act of a loaded learner failed: %s", contrl_last_error());
        FUZZ_CHECK(isfinite(act[0]), "a loaded learner acts with a non-finite action");
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (env.size == 0)
        LLVMFuzzerInitialize(NULL, NULL);
    contrl_allocator alloc = fuzz_allocator();
    contrl__st_file *f = NULL;
    contrl_her *mem_her = NULL;
    contrl_status mem_st = contrl__st_load_memory(data, size, &alloc, &f);
    if (mem_st == CONTRL_OK) {
        mem_st = contrl__her_load_st(f, "<memory>", &env, &alloc, &mem_her);
        contrl__st_close(f);
    }
    if (mem_st != CONTRL_OK) {
        FUZZ_CHECK(mem_her == NULL, "failed load left a learner");
        FUZZ_CHECK(contrl_last_error()[0] != '\0', "failed load without a message");
        FUZZ_CHECK(mem_st == CONTRL_ERR_FORMAT || mem_st == CONTRL_ERR_NOMEM,
                   "unexpected status %d", (int)mem_st);
    } else {
        exercise(mem_her);
        contrl_her_destroy(mem_her);
    }
    fuzz_allocator_check_balanced("memory path");

    contrl_her *file_her = NULL;
    contrl_status file_st = contrl_her_load(fuzz_memfile(data, size), &env, &alloc, &file_her);
    FUZZ_CHECK(file_st == mem_st, "file path gives %d, memory path %d", (int)file_st, (int)mem_st);
    FUZZ_CHECK((file_her != NULL) == (file_st == CONTRL_OK), "status and handle disagree");
    contrl_her_destroy(file_her);
    fuzz_allocator_check_balanced("file path");
    fuzz_accepted = mem_st == CONTRL_OK;
    return 0;
}
