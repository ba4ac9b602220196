/* tests/fuzz/fuzz_agent_load.c - agent checkpoints from hostile bytes.
 *
 * Each input is loaded through the in-memory path (contrl__st_load_memory
 * + the agent loader); every input that loads, and one in 8 of the others
 * (by size), also through the public contrl_agent_load from a file.
 * Invariants: both give the same status;
 * a failure leaves *out NULL and a non-empty message; every byte allocated
 * is freed; an agent that loads acts with finite actions. */
#include <math.h>
#include <string.h>

#include "agent_internal.h"
#include "contrl/contrl.h"
#include "fuzz_support.h"

static void exercise(contrl_agent *a)
{
    uint32_t O = contrl_agent_obs_dim(a), A = contrl_agent_action_dim(a);
    float obs[256] = {0}, act[64];
    if (O > 256 || A > 64)
        return;
    for (uint32_t i = 0; i < O; i++)
        obs[i] = 0.25f * (float)i - 0.5f;
    for (int explore = 0; explore < 2; explore++) {
        contrl_status st = contrl_agent_act(a, obs, act, explore != 0);
        FUZZ_CHECK(st == CONTRL_OK, "act of a loaded agent failed: %s", contrl_last_error());
        for (uint32_t j = 0; j < A; j++)
            FUZZ_CHECK(isfinite(act[j]), "a loaded agent acts with a non-finite action");
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    contrl_allocator alloc = fuzz_allocator();

    contrl__st_file *f = NULL;
    contrl_agent *mem_agent = (contrl_agent *)&alloc; /* must become NULL on failure */
    contrl_status mem_st = contrl__st_load_memory(data, size, &alloc, &f);
    if (mem_st == CONTRL_OK) {
        mem_st = contrl__agent_load_st(f, "<memory>", &alloc, &mem_agent, "contrl_agent_load");
        contrl__st_close(f);
    } else {
        FUZZ_CHECK(f == NULL, "st_load_memory failed but left a file");
        mem_agent = NULL;
    }
    if (mem_st != CONTRL_OK) {
        FUZZ_CHECK(mem_agent == NULL, "failed load left an agent");
        FUZZ_CHECK(contrl_last_error()[0] != '\0', "failed load without a message");
        FUZZ_CHECK(mem_st == CONTRL_ERR_FORMAT || mem_st == CONTRL_ERR_NOMEM,
                   "unexpected status %d", (int)mem_st);
    } else {
        exercise(mem_agent);
        contrl_agent_destroy(mem_agent);
    }
    fuzz_allocator_check_balanced("memory path");

    /* The file path costs as much again; one input in 8 (by size) takes it. */
    if (size % 8 == 3 || mem_st == CONTRL_OK) {
        contrl_agent *file_agent = NULL;
        contrl_status file_st = contrl_agent_load(fuzz_memfile(data, size), &alloc, &file_agent);
        FUZZ_CHECK(file_st == mem_st, "file path gives %d, memory path %d", (int)file_st,
                   (int)mem_st);
        FUZZ_CHECK((file_agent != NULL) == (file_st == CONTRL_OK), "status and handle disagree");
        contrl_agent_destroy(file_agent);
        fuzz_allocator_check_balanced("file path");
    }
    fuzz_accepted = mem_st == CONTRL_OK;
    return 0;
}
