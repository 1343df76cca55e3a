// An outbox row's payload ({"body","kind","media"}) and a tenant's credential references, read and checked before
// an adapter builds its request.
#include "sender_payload.h"
#include "lull_config.h"
#include "lull_json.h"

#include <stdio.h>
#include <string.h>

int sender_payload_parse(const cJSON *j, sender_payload_t *p, char *err, size_t errlen)
{
    memset(p, 0, sizeof *p);
    if (!cJSON_IsObject(j)) {
        snprintf(err, errlen, "payload is not a JSON object");
        return -1;
    }
    if (lull_json_str(j, "body", false, SENDER_PAYLOAD_MAX_BODY, &p->body, err, errlen) != 0) return -1;
    if (lull_json_str(j, "kind", false, 32, &p->kind, err, errlen) != 0) return -1;
    bool present = false;
    const cJSON *media = lull_json_child(j, "media", true, false, &present, err, errlen);
    if (present && !media && !cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(j, "media"))) return -1;
    const cJSON *m;
    cJSON_ArrayForEach(m, media)
    {
        if (p->nmedia == SENDER_PAYLOAD_MAX_MEDIA) {
            snprintf(err, errlen, "payload.media has more than %d entries", SENDER_PAYLOAD_MAX_MEDIA);
            return -1;
        }
        if (!cJSON_IsString(m) || strlen(m->valuestring) > 2048 ||
            (strncmp(m->valuestring, "https://", 8) != 0 && strncmp(m->valuestring, "http://", 7) != 0)) {
            snprintf(err, errlen, "payload.media entries must be http(s) URLs");
            return -1;
        }
        p->media[p->nmedia++] = m->valuestring;
    }
    if ((!p->body || !*p->body) && p->nmedia == 0) {
        snprintf(err, errlen, "payload has neither body nor media");
        return -1;
    }
    return 0;
}

int sender_credential(const cJSON *creds, int64_t tenant, const char *key, const char *def, const char **out,
                        char *err, size_t errlen)
{
    const char *name = NULL;
    *out = def;
    if (!creds) return 0;
    if (lull_json_str(creds, key, false, LULL_TENANT_REF_MAX, &name, err, errlen) != 0) return -1;
    if (!name || !*name) return 0;
    bool refused = false;
    const char *v = lull_config_tenant_env(name, key, tenant, &refused);
    if (!v) {
        if (refused) snprintf(err, errlen, "tenant credential %s must name a " LULL_TENANT_REF_PREFIX "* variable", key);
        else snprintf(err, errlen, "tenant credential %s names env %s, which is not set", key, name);
        return -1;
    }
    *out = v;
    return 0;
}

