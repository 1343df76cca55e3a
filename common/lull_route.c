// Path patterns and the route lookup shared by the HTTP servers.
#include "lull_route.h"

#include <stdio.h>
#include <string.h>

bool lull_route_match(const char *pattern, const char *path, lull_route_args_t *args)
{
    lull_route_args_t a = {.nargs = 0};
    const char *p = pattern, *s = path;
    while (*p) {
        if (*p != '{') {
            if (*p++ != *s++) return false;
            continue;
        }
        const char *close = strchr(p, '}');
        size_t n = strcspn(s, "/");
        if (!close || n == 0 || a.nargs == LULL_ROUTE_MAX_ARGS) return false;
        a.arg[a.nargs] = s;
        a.len[a.nargs++] = n;
        p = close + 1;
        s += n;
    }
    if (*s) return false;
    if (args) *args = a;
    return true;
}

int lull_route_find(const lull_route_t *rows, size_t n, const char *method, const char *path, lull_route_args_t *args,
                    char *allow, size_t cap)
{
    bool known = false;
    size_t used = 0;
    if (cap) allow[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        if (!lull_route_match(rows[i].path, path, args)) continue;
        if (strcmp(rows[i].method, method) == 0) return (int)i;
        known = true;
        if (cap && used < cap) {
            int w = snprintf(allow + used, cap - used, "%s%s", used ? ", " : "", rows[i].method);
            used += w > 0 ? (size_t)w : 0;
        }
    }
    return known ? -2 : -1;
}
