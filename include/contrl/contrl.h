/*
 * contrl/contrl.h - libcontrl, deep reinforcement learning for continuous
 * control in C. Include this one header; link with
 * `pkg-config --cflags --libs contrl`.
 */
#ifndef CONTRL_CONTRL_H
#define CONTRL_CONTRL_H

#include "contrl/core.h"
#include "contrl/net.h"
#include "contrl/adam.h"
#include "contrl/buffer.h"
#include "contrl/env.h"
#include "contrl/vec_env.h"
#include "contrl/agent.h"
#include "contrl/goal_env.h"
#include "contrl/normalizer.h"
#include "contrl/her.h"

#endif /* CONTRL_CONTRL_H */
