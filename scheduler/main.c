// lull-scheduler: parse settings, open the log, run the process until SIGTERM/SIGINT, shut down in order.
#include "sched_app.h"
#include "sched_config.h"
#include "lull_proc.h"

int main(int argc, char **argv)
{
    sched_cfg_t cfg = {0};
    int rc = 0;
    if (lull_proc_init(argc, argv, &SCHED_PROC, &cfg, &rc) != 0) return rc;
    lull_proc_t *proc = lull_proc_new(&SCHED_PROC, &cfg, true);
    sched_app_t *app = proc ? sched_app_new(&cfg, proc) : NULL;
    rc = app ? lull_proc_run(proc) : 1;
    sched_app_destroy(&app);
    lull_proc_destroy(&proc);
    lull_proc_fini(&SCHED_PROC, &cfg, rc);
    return rc;
}
