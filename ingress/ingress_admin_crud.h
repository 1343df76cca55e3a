// Admin API create/read/update/delete of tenants, prompts and inventory (table-driven: every field has a type
// and limits; column names come only from the tables here), and the usage report.
#ifndef INGRESS_ADMIN_CRUD_H
#define INGRESS_ADMIN_CRUD_H

#include "ingress_admin_util.h"
#include "lull_db.h"

#include <cJSON.h>
#include <stdbool.h>

// Answers req when path is /api/v1/tenants[/{id}], /api/v1/prompts[/{id}], /api/v1/inventory[/{id}] or
// /api/v1/usage and returns true; false (req untouched) for any other path. Admin thread only.
bool ingress_admin_crud_handle(lull_db_t *db, ingress_admin_req_t *req, const char *path);
// Adds the OpenAPI 3.0 schemas of every resource to schemas (an object): <Name>Row (a stored row),
// <Name>Create (POST body) and <Name>Update (PATCH/PUT body), Name = the resource name capitalised
// (Tenants, Prompts, Inventory), rendered from the field tables that validate the bodies. 0, or -1 when
// out of memory.
int ingress_admin_crud_schemas(cJSON *schemas) __attribute__((warn_unused_result));

#endif
