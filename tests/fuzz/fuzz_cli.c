/* tests/fuzz/fuzz_cli.c - the `contrl` command line (tools/contrl.c).
 *
 * The tool is compiled into this target as it is (its main renamed), with
 * its output sent to /dev/null. The input is split at NUL bytes into at
 * most 24 arguments. "train" command lines go through the tool's own
 * parse_train (running the training they ask for would take minutes);
 * "eval" command lines run cmd_eval whole when no argument holds a '/'
 * (the process works in an empty directory, so a checkpoint path names
 * nothing and loading fails cleanly); anything else runs main. Invariants:
 * no crash or sanitizer report, exit status 0, 1 or 2, and every train
 * command line that parses names a known algorithm and task. */
#include <stdio.h>
#include <stdlib.h>

static FILE *cli_sink;
static FILE *fuzz_cli_sink(void);
#undef stdout
#undef stderr
#define stdout fuzz_cli_sink()
#define stderr fuzz_cli_sink()
#define printf(...) fprintf(fuzz_cli_sink(), __VA_ARGS__)
#define main contrl_cli_main
int contrl_cli_main(int argc, char **argv);
#include "../../tools/contrl.c"
#undef main
#undef stdout
#undef stderr
#undef printf

#include "fuzz_support.h"

static FILE *fuzz_cli_sink(void)
{
    if (cli_sink == NULL && (cli_sink = fopen("/dev/null", "w")) == NULL)
        fuzz_fail("cannot open /dev/null");
    return cli_sink;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    static bool done;
    if (done)
        return 0;
    done = true;
    static char dir[] = "/tmp/contrl-fuzz-cli-XXXXXX";
    if (mkdtemp(dir) == NULL || chdir(dir) != 0)
        fuzz_fail("cannot make an empty working directory");
    /* Nothing will be written into it; remove it now so no run leaves it
     * behind (the process keeps working in the unlinked directory). */
    rmdir(dir);
    return 0;
}

enum { MAX_ARGS = 24 };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    LLVMFuzzerInitialize(NULL, NULL);
    if (size > 4096)
        return 0;
    char *text = malloc(size + 1);
    if (text == NULL)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    char *argv[MAX_ARGS + 2];
    int argc = 0;
    argv[argc++] = (char *)"contrl";
    bool slash = false;
    for (size_t i = 0; i <= size && argc <= MAX_ARGS;) {
        argv[argc++] = text + i;
        slash |= strchr(text + i, '/') != NULL;
        i += strlen(text + i) + 1;
    }
    argv[argc] = NULL;

    int rc;
    if (argc >= 2 && strcmp(argv[1], "train") == 0) {
        train_opts o; /* as cmd_train starts it */
        memset(&o, 0, sizeof o);
        o.eval_every = 5000;
        o.eval_episodes = 10;
        o.log_every = 1000;
        o.her = contrl_her_config_default();
        bool help = false;
        rc = parse_train(argc - 2, argv + 2, &o, &help);
        if (rc == 0 && !help) {
            FUZZ_CHECK(o.algo >= CONTRL_ALGO_DDPG && o.algo <= CONTRL_ALGO_SQL, "algo %d",
                       (int)o.algo);
            FUZZ_CHECK(o.task != NULL, "a train line parsed without a task");
            if (!o.goal)
                FUZZ_CHECK(known_task(o.task), "unknown task '%s' accepted", o.task);
        }
    } else if (argc >= 2 && strcmp(argv[1], "eval") == 0) {
        rc = slash ? 0 : contrl_cli_main(argc, argv);
    } else {
        rc = contrl_cli_main(argc, argv);
    }
    FUZZ_CHECK(rc == 0 || rc == 1 || rc == 2, "exit status %d", rc);
    fuzz_accepted = rc != 2; /* the command line parsed (eval then fails to find its file) */
    free(text);
    return 0;
}
