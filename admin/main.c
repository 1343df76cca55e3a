// lull-admin: parse settings, open the log, serve the operators' API until SIGTERM/SIGINT, shut down in order.
#include "admin_app.h"
#include "lull_proc.h"

int main(int argc, char **argv)
{
    admin_cfg_t cfg = {0};
    int rc = 0;
    if (lull_proc_init(argc, argv, &ADMIN_PROC, &cfg, &rc) != 0) return rc;
    admin_app_t *app = admin_app_new(&cfg);
    rc = app ? admin_app_run(app) : 1;
    admin_app_destroy(&app);
    lull_proc_fini(&ADMIN_PROC, &cfg, rc);
    return rc;
}
