// bench_ingress_gen N TOKEN PUBLIC_URL: writes N webhook requests for scripts/bench/ingress, one per line as
// "path<TAB>x-twilio-signature<TAB>content-type<TAB>body": half generic JSON, half signed Twilio forms, bursts of a
// few messages per contact, and every 10th request a repeat of an earlier one (a duplicate delivery).
#include "../../ingress/ingress_sig.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: bench_ingress_gen N TOKEN PUBLIC_URL\n");
        return 64;
    }
    long n = strtol(argv[1], NULL, 10);
    const char *token = argv[2], *base = argv[3];
    char url[512];
    snprintf(url, sizeof url, "%s/webhook/twilio", base);
    char **lines = calloc((size_t)n, sizeof *lines);
    if (!lines) return 1;
    srand(42);
    for (long i = 0; i < n; i++) {
        char line[1024];
        if (i % 10 == 9 && i > 20) {  // a duplicate delivery of a recent request
            lines[i] = strdup(lines[i - 1 - rand() % 20]);
            printf("%s\n", lines[i]);
            continue;
        }
        long contact = i / 4;  // bursts of about 4 messages per contact
        if (i % 2 == 0) {
            snprintf(line, sizeof line,
                     "/webhook\t-\tapplication/json\t{\"contact_id\":\"bench-%ld\",\"message\":{\"body\":\"hello number %ld, "
                     "where is my order?\",\"id\":\"bench-g-%ld\"},\"first_name\":\"Bench\",\"last_name\":\"User\"}",
                     contact, i, i);
        } else {
            char sid[40], from[24], body[64];
            snprintf(sid, sizeof sid, "SM%032lx", (unsigned long)i);  // a well-formed Twilio SID
            snprintf(from, sizeof from, "+1555%07ld", contact % 10000000);
            snprintf(body, sizeof body, "hello number %ld", i);
            ingress_param_t p[5] = {{"MessageSid", sid}, {"From", from}, {"To", "+15550009999"}, {"Body", body},
                                    {"NumMedia", "0"}};
            char sig[64];
            if (ingress_sig_twilio_compute(token, url, p, 5, sig, sizeof sig) != 0) return 1;
            snprintf(line, sizeof line,
                     "/webhook/twilio\t%s\tapplication/x-www-form-urlencoded\tMessageSid=%s&From=%%2B1555%07ld&To=%%2B15550009999"
                     "&Body=hello+number+%ld&NumMedia=0",
                     sig, sid, contact % 10000000, i);
        }
        lines[i] = strdup(line);
        printf("%s\n", line);
    }
    for (long i = 0; i < n; i++) free(lines[i]);
    free(lines);
    return 0;
}
