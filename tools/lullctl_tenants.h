// lullctl's tenant and prompt commands (tools/lullctl_tenants.c), called by lullctl's command dispatch.
#ifndef LULLCTL_TENANTS_H
#define LULLCTL_TENANTS_H

#include "lullctl_client.h"

// lullctl tenants [list|show|create|update] …: returns the exit status.
int lullctl_tenants(const lullctl_opts_t *o, int argc, char **argv);

// lullctl prompts [list|show|set] …: returns the exit status.
int lullctl_prompts(const lullctl_opts_t *o, int argc, char **argv);

#endif
