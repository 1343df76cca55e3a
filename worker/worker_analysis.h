// The structured analysis of a burst: the JSON Schema the model must follow (with the tenant's extraction
// fields) and the validation of the model's answer into plain values for the analyses table.
#ifndef WORKER_ANALYSIS_H
#define WORKER_ANALYSIS_H

#include <stdbool.h>
#include <stddef.h>

#define WORKER_ANALYSIS_MAX_FIELDS 20
#define WORKER_ANALYSIS_MAX_ANSWER (64 * 1024)  // bytes of an answer text (analysis or combined)

struct cJSON;

typedef struct {
    char sentiment[16];      // positive / neutral / negative
    double confidence;       // 0..1
    char intent[16];         // support, booking, inquiry, complaint, purchase, feedback, other
    char priority[16];       // low / normal / high / urgent
    bool escalate;
    char *escalate_reason;   // owned, "" when none
    char *entities;          // owned JSON {"names":[…],"emails":[…],"phones":[…],"order_numbers":[…]}
    char *moderation;        // owned JSON {"flagged":bool,"categories":[…]}
    char *extracted;         // owned JSON object of the tenant's fields (string or null each)
    char *raw;               // owned JSON: the validated answer as a whole
} worker_analysis_t;

// The JSON Schema (strict: every property required, no extra properties) for a tenant whose
// extraction_fields is the JSON array text given (may be NULL; invalid entries are skipped). Caller frees.
char *worker_analysis_schema(const char *extraction_fields);
// A copy of build(key) (caller frees; NULL when out of memory), kept per slot and key for the process's
// life: the schema texts a job asks for are built once per tenant setting, not once per request (a few
// dozen distinct keys kept, the oldest replaced; a key over 16 KiB is never kept). key NULL counts as "".
char *worker_analysis_memo(int slot, const char *key, char *(*build)(const char *key));
// Validates the model's answer text against the schema's rules into out (zeroed first). 0, or -1 with a
// reason in err (out then owns nothing).
int worker_analysis_parse(const char *text, const char *extraction_fields, worker_analysis_t *out, char *err,
                          size_t errlen) __attribute__((warn_unused_result));
// worker_analysis_parse over an answer already parsed (doc: the answer object, borrowed; its text at most
// WORKER_ANALYSIS_MAX_ANSWER bytes): the combined answer's validation parses its text once.
int worker_analysis_from(const struct cJSON *doc, const char *extraction_fields, worker_analysis_t *out, char *err,
                         size_t errlen) __attribute__((warn_unused_result));
// Frees what out owns and zeroes it.
void worker_analysis_clear(worker_analysis_t *a);

#endif
