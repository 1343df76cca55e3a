// lull-ingress: parse settings, open the log, serve webhooks until SIGTERM/SIGINT, shut down in order.
#include "ingress_app.h"
#include "lull_proc.h"

int main(int argc, char **argv)
{
    ingress_cfg_t cfg = {0};
    int rc = 0;
    if (lull_proc_init(argc, argv, &INGRESS_PROC, &cfg, &rc) != 0) return rc;
    if (ingress_config_check(&cfg) != 0) {
        lull_proc_fini(&INGRESS_PROC, &cfg, LULL_EXIT_CONFIG);
        return LULL_EXIT_CONFIG;
    }
    ingress_app_t *app = ingress_app_new(&cfg);
    rc = app ? ingress_app_run(app) : 1;
    ingress_app_destroy(&app);
    lull_proc_fini(&INGRESS_PROC, &cfg, rc);
    return rc;
}
