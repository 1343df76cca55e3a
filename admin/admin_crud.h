// Admin API create/read/update/delete of tenants, prompts and inventory (table-driven: every field has a type
// and limits; column names come only from the tables here), and the usage report.
#ifndef ADMIN_CRUD_H
#define ADMIN_CRUD_H

#include "admin_util.h"
#include "lull_db.h"

#include <cJSON.h>
#include <stdbool.h>

// The resources, in the order of the field tables (a route row's argument, req->arg).
typedef enum { ADMIN_CRUD_TENANTS = 0, ADMIN_CRUD_PROMPTS, ADMIN_CRUD_INVENTORY } admin_crud_resource_t;

// The handlers of the resource routes (admin_routes.def; admin thread only): GET /api/v1/<resource> (a
// keyset page), POST (create), GET|PATCH|PUT|DELETE /api/v1/<resource>/{id} (id = req->id_s); the resource
// is req->arg.
void admin_crud_list(admin_ctx_t *ctx, admin_req_t *req);
void admin_crud_create(admin_ctx_t *ctx, admin_req_t *req);
void admin_crud_get(admin_ctx_t *ctx, admin_req_t *req);
void admin_crud_update(admin_ctx_t *ctx, admin_req_t *req);
void admin_crud_delete(admin_ctx_t *ctx, admin_req_t *req);
// GET /api/v1/usage: requests, tokens and cost per tenant, contact and day.
void admin_crud_usage(admin_ctx_t *ctx, admin_req_t *req);
// Adds the OpenAPI 3.0 schemas of every resource to schemas (an object): <Name>Row (a stored row),
// <Name>Create (POST body) and <Name>Update (PATCH/PUT body), Name = the resource name capitalised
// (Tenants, Prompts, Inventory), rendered from the field tables that validate the bodies. 0, or -1 when
// out of memory.
int admin_crud_schemas(cJSON *schemas) __attribute__((warn_unused_result));

#endif
