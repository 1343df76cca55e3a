// lullctl's agent commands (tools/lullctl_agents.c), called by lullctl's command dispatch.
#ifndef LULLCTL_AGENTS_H
#define LULLCTL_AGENTS_H

#include "lullctl_client.h"

// lullctl agents [list | add NAME [--role agent|admin] [--display-name TEXT] | revoke NAME | me]: the exit status.
int lullctl_agents(const lullctl_opts_t *o, int argc, char **argv);

#endif
