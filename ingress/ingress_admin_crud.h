// Admin API create/read/update/delete of tenants, prompts and inventory (table-driven: every field has a type
// and limits; column names come only from the tables here), and the usage report.
#ifndef INGRESS_ADMIN_CRUD_H
#define INGRESS_ADMIN_CRUD_H

#include "ingress_admin.h"
#include "lull_db.h"

#include <stdbool.h>

// Answers req when path is /api/v1/tenants[/{id}], /api/v1/prompts[/{id}], /api/v1/inventory[/{id}] or
// /api/v1/usage and returns true; false (req untouched) for any other path. Admin thread only.
bool ingress_admin_crud_handle(lull_db_t *db, ingress_admin_req_t *req, const char *path);

#endif
