// lull-sender: parse settings, open the log, run the process until SIGTERM/SIGINT, shut down in order.
#include "sender_config.h"
#include "lull_proc.h"

int main(int argc, char **argv)
{
    sender_cfg_t cfg = {0};
    int rc = 0;
    if (lull_proc_init(argc, argv, &SENDER_PROC, &cfg, &rc) != 0) return rc;
    lull_proc_t *proc = lull_proc_new(&SENDER_PROC, &cfg, true);
    rc = proc ? lull_proc_run(proc) : 1;
    lull_proc_destroy(&proc);
    lull_proc_fini(&SENDER_PROC, &cfg, rc);
    return rc;
}
