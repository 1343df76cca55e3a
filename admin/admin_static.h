// The files of admin/static/, embedded at build time (lull_static.h).
#ifndef ADMIN_STATIC_H
#define ADMIN_STATIC_H

#include "lull_static.h"

LULL_STATIC_FILE(admin_static_openapi_admin_json);  // GET /openapi.json: info, admin tags and components
LULL_STATIC_FILE(admin_static_inbox_html);          // GET /inbox: the agents' inbox page
LULL_STATIC_FILE(admin_static_inbox_js);            // GET /inbox.js: its script
LULL_STATIC_FILE(admin_static_inbox_css);           // GET /inbox.css: its style sheet

#endif
