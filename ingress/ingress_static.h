// The files of ingress/static/, embedded at build time (lull_static.h).
#ifndef INGRESS_STATIC_H
#define INGRESS_STATIC_H

#include "lull_static.h"

LULL_STATIC_FILE(ingress_static_chat_html);     // the web chat page (GET /chat)
LULL_STATIC_FILE(ingress_static_openapi_json);  // GET /openapi.json: info, webhook and web chat components

#endif
