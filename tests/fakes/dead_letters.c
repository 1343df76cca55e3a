// dead_letters: exercises the sender's dead-letter functions (common/lull_dead.h) the way the admin API
// will, from another process with only a database handle.
//   dead_letters URL list [--channel X] [--tenant N] [--since TS] [--limit N]   → JSON array on stdout
//   dead_letters URL replay ID                                                  → "replayed 1|0"
//   dead_letters URL replay-all [--channel X] [--tenant N] [--since TS]         → "replayed N"
#include "lull_db.h"
#include "lull_log.h"
#include "lull_dead.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int s_usage(void)
{
    fprintf(stderr, "usage: dead_letters URL list|replay ID|replay-all [--channel X] [--tenant N] [--since TS] [--limit N]\n");
    return 64;
}

int main(int argc, char **argv)
{
    int rc = 1;
    lull_db_t *db = NULL;
    if (argc >= 2 && strcmp(argv[1], "--help") == 0) {
        (void)s_usage();
        return 0;
    }
    if (argc < 3) return s_usage();
    const char *cmd = argv[2];
    lull_dead_filter_t f = {0};
    int64_t id = 0;
    int i = 3;
    if (strcmp(cmd, "replay") == 0) {
        if (argc < 4) return s_usage();
        id = strtoll(argv[3], NULL, 10);
        i = 4;
    }
    for (; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--channel") == 0) f.channel = argv[i + 1];
        else if (strcmp(argv[i], "--tenant") == 0) f.tenant_id = strtoll(argv[i + 1], NULL, 10);
        else if (strcmp(argv[i], "--since") == 0) f.since = argv[i + 1];
        else if (strcmp(argv[i], "--limit") == 0) f.limit = atoi(argv[i + 1]);
        else return s_usage();
    }
    if (i != argc) return s_usage();
    lull_log_open("dead_letters", NULL, LULL_LOG_WARN);
    db = lull_db_new(argv[1]);
    if (!db || !lull_db_connected(db)) {
        fprintf(stderr, "dead_letters: cannot connect\n");
        goto cleanup;
    }
    if (strcmp(cmd, "list") == 0) {
        char *out = lull_dead_list(db, &f);
        if (!out) goto cleanup;
        printf("%s\n", out);
        free(out);
    } else if (strcmp(cmd, "replay") == 0) {
        int n = lull_dead_replay(db, id);
        if (n < 0) goto cleanup;
        printf("replayed %d\n", n);
    } else if (strcmp(cmd, "replay-all") == 0) {
        int64_t n = lull_dead_replay_all(db, &f);
        if (n < 0) goto cleanup;
        printf("replayed %lld\n", (long long)n);
    } else {
        rc = s_usage();
        goto cleanup;
    }
    rc = 0;
cleanup:
    lull_db_destroy(&db);
    lull_log_close();
    return rc;
}
