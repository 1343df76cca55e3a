// lullctl tenants and prompts (stub)
#include "lullctl.h"
int lullctl_tenants(const lullctl_opts_t *o, int argc, char **argv) { (void)o; (void)argc; (void)argv; return 0; }
int lullctl_prompts(const lullctl_opts_t *o, int argc, char **argv) { (void)o; (void)argc; (void)argv; return 0; }
