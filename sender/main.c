// lull-sender: parse settings, open the log, run the process until SIGTERM/SIGINT, shut down in order.
#include "lull_log.h"
#include "lull_proc.h"
#include "sender_app.h"
#include "sender_config.h"

int main(int argc, char **argv)
{
    sender_cfg_t cfg = {0};
    int rc = 0;
    if (lull_proc_init(argc, argv, &SENDER_PROC, &cfg, &rc) != 0) return rc;
    if (cfg.lease_ms <= cfg.timeout_ms) {
        LOG_ERROR("config.invalid", "LULL_SENDER_LEASE_MS must exceed LULL_SENDER_TIMEOUT_MS");
        lull_proc_fini(&SENDER_PROC, &cfg, LULL_EXIT_CONFIG);
        return LULL_EXIT_CONFIG;
    }
    lull_proc_t *proc = lull_proc_new(&SENDER_PROC, &cfg, true);
    sender_app_t *app = proc ? sender_app_new(&cfg, proc) : NULL;
    rc = app ? lull_proc_run(proc) : 1;
    sender_app_drain(app);
    sender_app_destroy(&app);
    lull_proc_destroy(&proc);
    lull_proc_fini(&SENDER_PROC, &cfg, rc);
    return rc;
}
