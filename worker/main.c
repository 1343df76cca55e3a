// lull-worker: parse settings, open the log, run the process until SIGTERM/SIGINT, shut down in order.
#include "worker_app.h"
#include "worker_config.h"
#include "lull_proc.h"

int main(int argc, char **argv)
{
    worker_cfg_t cfg = {0};
    int rc = 0;
    if (lull_proc_init(argc, argv, &WORKER_PROC, &cfg, &rc) != 0) return rc;
    lull_proc_t *proc = lull_proc_new(&WORKER_PROC, &cfg, true);
    worker_app_t *app = proc ? worker_app_new(proc, &cfg) : NULL;
    rc = app ? lull_proc_run(proc) : 1;
    worker_app_destroy(&app);
    lull_proc_destroy(&proc);
    lull_proc_fini(&WORKER_PROC, &cfg, rc);
    return rc;
}
