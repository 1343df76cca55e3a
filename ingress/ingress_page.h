// The web chat page served on GET /chat, embedded in the binary.
#ifndef INGRESS_PAGE_H
#define INGRESS_PAGE_H

#include <microhttpd.h>

// The page as a response MHD may queue on any number of connections; MHD_destroy_response() it at exit.
// NULL when out of memory.
struct MHD_Response *ingress_page_response(void);

#endif
