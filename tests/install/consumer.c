/* A program that knows libcontrl only through its installed headers and
 * pkg-config: creates a net, runs it, and checks the version it loaded. */
#include <contrl/contrl.h>
#include <stdio.h>

int main(void)
{
    if (contrl_version() != CONTRL_VERSION_NUMBER) {
        fprintf(stderr, "header %s, library %s\n", CONTRL_VERSION_STRING, contrl_version_string());
        return 1;
    }
    contrl_net_config cfg = contrl_net_config_default();
    cfg.in = 3;
    cfg.out = 1;
    contrl_net *net = NULL;
    if (contrl_net_create(&cfg, &net) != CONTRL_OK) {
        fprintf(stderr, "create: %s\n", contrl_last_error());
        return 1;
    }
    float x[3] = {0.1f, 0.2f, 0.3f}, y[1];
    contrl_status st = contrl_net_forward(net, x, 1, y);
    contrl_net_destroy(net);
    if (st != CONTRL_OK || !(y[0] == y[0]))
        return 1;
    /* A bad call returns a status and a message, never aborts. */
    if (contrl_net_forward(NULL, x, 1, y) != CONTRL_ERR_INVALID_ARG)
        return 1;
    printf("C consumer OK: libcontrl %s, y = %g\n", contrl_version_string(), (double)y[0]);
    return 0;
}
