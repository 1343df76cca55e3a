// The tools the model may call, in one table (adding a tool = one entry): name, description, JSON Schema
// of the arguments, and the function that runs it against the database.
#ifndef WORKER_TOOLS_H
#define WORKER_TOOLS_H

#include <stddef.h>
#include <stdint.h>

#include "lull_db.h"

#define WORKER_TOOL_MAX_RESULT (16 * 1024)  // bytes of one tool result

typedef struct {
    const char *name;
    const char *description;
    const char *parameters;  // JSON Schema (object) of the arguments
    // Runs the tool for tenant_id with parsed arguments; returns a JSON text result the caller frees
    // (an {"error": …} object on bad arguments or a database failure; NULL only when out of memory).
    char *(*run)(lull_db_t *db, int64_t tenant_id, const void *args_json_obj);
} worker_tool_t;

// Number of tools in the table.
size_t worker_tools_count(void);
// Tool number i (borrowed, static), or NULL.
const worker_tool_t *worker_tool_at(size_t i);
// Runs the tool called name with the JSON arguments text; returns JSON result text (caller frees), an
// {"error": …} object for an unknown tool or invalid arguments; NULL only when out of memory.
char *worker_tools_run(lull_db_t *db, int64_t tenant_id, const char *name, const char *args);

#endif
