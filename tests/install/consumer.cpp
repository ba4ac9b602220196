// The same consumer in C++: the headers must be C++-clean with extern "C".
#include <contrl/contrl.h>

#include <cstdio>
#include <vector>

int main()
{
    contrl_buffer_config bc = contrl_buffer_config_default();
    bc.obs_dim = 3;
    bc.action_dim = 1;
    bc.capacity = 16;
    contrl_buffer *buf = nullptr;
    if (contrl_buffer_create(&bc, &buf) != CONTRL_OK)
        return 1;
    std::vector<float> obs{1, 2, 3}, next{2, 3, 4}, act{0.5f};
    if (contrl_buffer_add(buf, obs.data(), act.data(), -1.0f, next.data(), false, true) != CONTRL_OK)
        return 1;
    contrl_buffer_destroy(buf);

    contrl_net_config nc = contrl_net_config_default();
    nc.in = 3;
    nc.out = 2;
    contrl_net *net = nullptr;
    if (contrl_net_create(&nc, &net) != CONTRL_OK)
        return 1;
    contrl_adam_config ac = contrl_adam_config_default();
    contrl_adam *adam = nullptr;
    if (contrl_adam_create(&ac, contrl_net_param_count(net), &adam) != CONTRL_OK)
        return 1;
    std::vector<float> y(2), dy{1, -1};
    contrl_net_forward(net, obs.data(), 1, y.data());
    contrl_net_backward(net, dy.data(), nullptr);
    contrl_status st = contrl_adam_step(adam, net);
    contrl_adam_destroy(adam);
    contrl_net_destroy(net);
    std::printf("C++ consumer OK: %s\n", contrl_status_string(st));
    return st == CONTRL_OK ? 0 : 1;
}
