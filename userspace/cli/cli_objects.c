// SPDX-License-Identifier: Apache-2.0
/*
 * JSON and human forms of volumes, snapshots, connections, backend stats
 * and driver descriptions.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_args.h"
#include "cli_objects.h"

static void add(struct json_object *obj, const char *key, struct json_object *v)
{
	json_object_object_add(obj, key, v);
}

/* "attached", "stale", ... checked live (the context is open by now). */
static const char *device_state(const struct cl_connection *conn)
{
	struct cl_context *ctx;

	if (cli_context(&ctx))
		return "unknown";
	return cl_device_state_name(cl_connection_device_state(ctx, conn));
}

static struct json_object *time_json(int64_t usec)
{
	char buf[64];

	if (usec <= 0)
		return NULL;
	return json_object_new_string(cli_format_time(usec, buf, sizeof(buf)));
}

struct json_object *cli_dict_json(const struct cl_dict *d)
{
	struct json_object *obj = json_object_new_object();

	for (size_t i = 0; i < d->count; i++)
		add(obj, d->entries[i].key,
		    json_object_new_string(d->entries[i].value));
	return obj;
}

/*
 * connection_info as the library serializes it (booleans and arrays typed
 * as Cinder's drivers give them), so that both say the same.
 */
static struct json_object *connection_info_json(const struct cl_connection *conn)
{
	struct json_object *whole, *info = NULL;
	char *text = NULL;

	if (cl_connection_to_json(conn, false, &text, NULL) == 0 &&
	    (whole = json_tokener_parse(text))) {
		if (json_object_object_get_ex(whole, "connection_info", &info))
			json_object_get(info);
		json_object_put(whole);
	}
	free(text);
	return info ? info : json_object_new_object();
}

struct json_object *cli_volume_json(const struct cl_volume *vol)
{
	struct json_object *o = json_object_new_object();

	add(o, "id", json_object_new_string(vol->id));
	add(o, "name", cli_json_string(vol->name));
	add(o, "description", cli_json_string(vol->description));
	add(o, "size", json_object_new_uint64(vol->size));
	add(o, "status", json_object_new_string(cl_status_name(vol->status)));
	add(o, "bootable", json_object_new_boolean(vol->bootable));
	add(o, "backend", cli_json_string(vol->backend_name));
	add(o, "host", cli_json_string(vol->host));
	add(o, "metadata", cli_dict_json(&vol->metadata));
	add(o, "admin_metadata", cli_dict_json(&vol->admin_metadata));
	add(o, "extra_specs", cli_dict_json(&vol->extra_specs));
	add(o, "qos_specs", cli_dict_json(&vol->qos_specs));
	add(o, "provider_location", cli_json_string(vol->provider_location));
	add(o, "provider_id", cli_json_string(vol->provider_id));
	add(o, "source_volid", cli_json_string(vol->source_volid));
	add(o, "snapshot_id", cli_json_string(vol->snapshot_id));
	add(o, "created_at", time_json(vol->created_at));
	add(o, "updated_at", time_json(vol->updated_at));
	return o;
}

struct json_object *cli_snapshot_json(const struct cl_snapshot *snap)
{
	struct json_object *o = json_object_new_object();

	add(o, "id", json_object_new_string(snap->id));
	add(o, "volume_id", json_object_new_string(snap->volume_id));
	add(o, "name", cli_json_string(snap->name));
	add(o, "description", cli_json_string(snap->description));
	add(o, "volume_size", json_object_new_uint64(snap->volume_size));
	add(o, "status", json_object_new_string(cl_status_name(snap->status)));
	add(o, "backend", cli_json_string(snap->backend_name));
	add(o, "metadata", cli_dict_json(&snap->metadata));
	add(o, "provider_location", cli_json_string(snap->provider_location));
	add(o, "provider_id", cli_json_string(snap->provider_id));
	add(o, "created_at", time_json(snap->created_at));
	add(o, "updated_at", time_json(snap->updated_at));
	return o;
}

struct json_object *cli_connection_json(const struct cl_connection *conn)
{
	struct json_object *o = json_object_new_object();
	struct json_object *info = connection_info_json(conn);

	add(o, "id", json_object_new_string(conn->id));
	add(o, "volume_id", json_object_new_string(conn->volume_id));
	add(o, "backend", cli_json_string(conn->backend_name));
	add(o, "status", json_object_new_string(
		cl_attach_status_name(conn->status)));
	add(o, "attach_mode", json_object_new_string(
		cl_attach_mode_name(conn->attach_mode)));
	add(o, "attached_host", cli_json_string(conn->attached_host));
	add(o, "connector", cli_dict_json(&conn->connector));
	add(o, "connection_info", info);
	add(o, "device_path", cli_json_string(conn->device_path));
	add(o, "device_state", json_object_new_string(device_state(conn)));
	if (conn->provider_data.count)
		add(o, "provider_data", cli_dict_json(&conn->provider_data));
	add(o, "created_at", time_json(conn->created_at));
	add(o, "updated_at", time_json(conn->updated_at));
	return o;
}

struct json_object *cli_stats_json(const struct cl_backend_stats *stats)
{
	struct json_object *o = json_object_new_object();
	struct json_object *pools = json_object_new_array();

	add(o, "volume_backend_name", cli_json_string(stats->volume_backend_name));
	add(o, "driver_name", cli_json_string(stats->driver_name));
	add(o, "vendor_name", cli_json_string(stats->vendor_name));
	add(o, "driver_version", cli_json_string(stats->driver_version));
	add(o, "storage_protocol", cli_json_string(stats->storage_protocol));
	for (size_t i = 0; i < stats->nr_pools; i++) {
		const struct cl_pool_stats *p = &stats->pools[i];
		struct json_object *j = json_object_new_object();

		add(j, "pool_name", cli_json_string(p->pool_name));
		add(j, "total_capacity_gb", json_object_new_double(p->total_capacity_gb));
		add(j, "free_capacity_gb", json_object_new_double(p->free_capacity_gb));
		add(j, "provisioned_capacity_gb",
		    json_object_new_double(p->provisioned_capacity_gb));
		add(j, "allocated_capacity_gb",
		    json_object_new_double(p->allocated_capacity_gb));
		add(j, "max_over_subscription_ratio",
		    json_object_new_double(p->max_over_subscription_ratio));
		add(j, "reserved_percentage", json_object_new_int(p->reserved_percentage));
		add(j, "thin_provisioning_support",
		    json_object_new_boolean(p->thin_provisioning_support));
		add(j, "thick_provisioning_support",
		    json_object_new_boolean(p->thick_provisioning_support));
		add(j, "total_volumes", json_object_new_uint64(p->total_volumes));
		json_object_array_add(pools, j);
	}
	add(o, "pools", pools);
	return o;
}

struct json_object *cli_driver_json(const struct cl_driver_info *drv)
{
	struct json_object *o = json_object_new_object();
	struct json_object *opts = json_object_new_array();

	add(o, "name", cli_json_string(drv->name));
	add(o, "version", cli_json_string(drv->version));
	add(o, "description", cli_json_string(drv->description));
	add(o, "path", cli_json_string(drv->path));
	for (size_t i = 0; i < drv->nr_options; i++) {
		const struct cl_driver_option *opt = &drv->options[i];
		struct json_object *j = json_object_new_object();

		add(j, "name", cli_json_string(opt->name));
		add(j, "type", json_object_new_string(cl_option_type_name(opt->type)));
		add(j, "default", cli_json_string(opt->default_value));
		add(j, "help", cli_json_string(opt->help));
		json_object_array_add(opts, j);
	}
	add(o, "options", opts);
	return o;
}

static void show_dict(struct cli_show *s, const char *key, const struct cl_dict *d)
{
	char *text = cli_format_dict(d);

	cli_show_add(s, key, text);
	free(text);
}

static void show_time(struct cli_show *s, const char *key, int64_t usec)
{
	char buf[64];

	cli_show_add(s, key, cli_format_time(usec, buf, sizeof(buf)));
}

/* ---------------------------------------------------------------------- */

struct cli_list {
	const struct cli_object_form *form;
	struct json_object *array;	/* with --json */
	struct cli_table *table;	/* without */
};

struct cli_list *cli_list_new(const struct cli_object_form *form)
{
	struct cli_list *l = calloc(1, sizeof(*l));

	if (!l) {
		cli_error("out of memory");
		exit(CLI_EXIT_FAILED);
	}
	l->form = form;
	if (cli_globals.json)
		l->array = json_object_new_array();
	else
		l->table = cli_table_new(form->nr_columns, form->headers);
	return l;
}

void cli_list_add(struct cli_list *l, const void *obj)
{
	if (l->array)
		json_object_array_add(l->array, l->form->to_json(obj));
	else
		l->form->add_row(l->table, obj);
}

void cli_list_print(struct cli_list *l)
{
	if (l->array) {
		cli_json_print(l->array);
	} else {
		cli_table_print(l->table, stdout);
		cli_table_free(l->table);
	}
	free(l);
}

/* One object as JSON with --json, else as "key: value" lines. */
static void print_object(const struct cli_object_form *form, const void *obj)
{
	struct cli_show *s;

	if (cli_globals.json) {
		cli_json_print(form->to_json(obj));
		return;
	}
	s = cli_show_new();
	form->add_fields(s, obj);
	cli_show_print(s, stdout);
	cli_show_free(s);
}

void cli_print_result(const struct cli_object_form *form, const void *obj,
		      const char *text)
{
	if (cli_globals.json)
		cli_json_print(form->to_json(obj));
	else
		puts(text);
}

/* Oldest first; the id breaks ties so that the order is stable. */
static int compare_created(int64_t a_created, const char *a_id,
			   int64_t b_created, const char *b_id)
{
	if (a_created != b_created)
		return a_created < b_created ? -1 : 1;
	return strcmp(a_id, b_id);
}

/* ---------------------------------------------------------------------- */

static void volume_fields(struct cli_show *s, const void *obj)
{
	const struct cl_volume *vol = obj;

	cli_show_add(s, "id", vol->id);
	cli_show_add(s, "name", vol->name);
	cli_show_add(s, "description", vol->description);
	cli_show_addf(s, "size", "%" PRIu64 " GiB", vol->size);
	cli_show_add(s, "status", cl_status_name(vol->status));
	cli_show_add(s, "bootable", vol->bootable ? "true" : "false");
	cli_show_add(s, "backend", vol->backend_name);
	cli_show_add(s, "host", vol->host);
	show_dict(s, "metadata", &vol->metadata);
	show_dict(s, "admin_metadata", &vol->admin_metadata);
	show_dict(s, "extra_specs", &vol->extra_specs);
	show_dict(s, "qos_specs", &vol->qos_specs);
	cli_show_add(s, "provider_location", vol->provider_location);
	cli_show_add(s, "provider_id", vol->provider_id);
	cli_show_add(s, "source_volid", vol->source_volid);
	cli_show_add(s, "snapshot_id", vol->snapshot_id);
	show_time(s, "created_at", vol->created_at);
	show_time(s, "updated_at", vol->updated_at);
}

static void volume_row(struct cli_table *t, const void *obj)
{
	const struct cl_volume *v = obj;
	char size[32], created[64];
	const char *cells[6] = {
		v->id, v->name, size, cl_status_name(v->status),
		v->backend_name,
		cli_format_time(v->created_at, created, sizeof(created)),
	};

	snprintf(size, sizeof(size), "%" PRIu64 " GiB", v->size);
	cli_table_add(t, cells);
}

static struct json_object *volume_json(const void *obj)
{
	return cli_volume_json(obj);
}

static const char *const volume_headers[] = {
	"ID", "NAME", "SIZE", "STATUS", "BACKEND", "CREATED"
};

const struct cli_object_form cli_volume_form = {
	volume_json, volume_fields, 6, volume_headers, volume_row
};

static int compare_volumes(const void *x, const void *y)
{
	const struct cl_volume *a = *(struct cl_volume *const *)x;
	const struct cl_volume *b = *(struct cl_volume *const *)y;

	return compare_created(a->created_at, a->id, b->created_at, b->id);
}

void cli_volume_list_sort(struct cl_volume_list *list)
{
	qsort(list->items, list->count, sizeof(list->items[0]), compare_volumes);
}

void cli_volume_print(const struct cl_volume *vol)
{
	print_object(&cli_volume_form, vol);
}

void cli_volume_list_print(const struct cl_volume_list *list)
{
	struct cli_list *l = cli_list_new(&cli_volume_form);

	for (size_t i = 0; i < list->count; i++)
		cli_list_add(l, list->items[i]);
	cli_list_print(l);
}

/* ---------------------------------------------------------------------- */

static void snapshot_fields(struct cli_show *s, const void *obj)
{
	const struct cl_snapshot *snap = obj;

	cli_show_add(s, "id", snap->id);
	cli_show_add(s, "name", snap->name);
	cli_show_add(s, "description", snap->description);
	cli_show_add(s, "volume_id", snap->volume_id);
	cli_show_addf(s, "volume_size", "%" PRIu64 " GiB", snap->volume_size);
	cli_show_add(s, "status", cl_status_name(snap->status));
	cli_show_add(s, "backend", snap->backend_name);
	show_dict(s, "metadata", &snap->metadata);
	cli_show_add(s, "provider_location", snap->provider_location);
	cli_show_add(s, "provider_id", snap->provider_id);
	show_time(s, "created_at", snap->created_at);
	show_time(s, "updated_at", snap->updated_at);
}

static void snapshot_row(struct cli_table *t, const void *obj)
{
	const struct cl_snapshot *s = obj;
	char size[32], created[64];
	const char *cells[6] = {
		s->id, s->name, s->volume_id, size,
		cl_status_name(s->status),
		cli_format_time(s->created_at, created, sizeof(created)),
	};

	snprintf(size, sizeof(size), "%" PRIu64 " GiB", s->volume_size);
	cli_table_add(t, cells);
}

static struct json_object *snapshot_json(const void *obj)
{
	return cli_snapshot_json(obj);
}

static const char *const snapshot_headers[] = {
	"ID", "NAME", "VOLUME", "SIZE", "STATUS", "CREATED"
};

const struct cli_object_form cli_snapshot_form = {
	snapshot_json, snapshot_fields, 6, snapshot_headers, snapshot_row
};

static int compare_snapshots(const void *x, const void *y)
{
	const struct cl_snapshot *a = *(struct cl_snapshot *const *)x;
	const struct cl_snapshot *b = *(struct cl_snapshot *const *)y;

	return compare_created(a->created_at, a->id, b->created_at, b->id);
}

void cli_snapshot_list_sort(struct cl_snapshot_list *list)
{
	qsort(list->items, list->count, sizeof(list->items[0]),
	      compare_snapshots);
}

void cli_snapshot_print(const struct cl_snapshot *snap)
{
	print_object(&cli_snapshot_form, snap);
}

void cli_snapshot_list_print(const struct cl_snapshot_list *list)
{
	struct cli_list *l = cli_list_new(&cli_snapshot_form);

	for (size_t i = 0; i < list->count; i++)
		cli_list_add(l, list->items[i]);
	cli_list_print(l);
}

/* ---------------------------------------------------------------------- */

static void connection_fields(struct cli_show *s, const void *obj)
{
	const struct cl_connection *conn = obj;

	cli_show_add(s, "id", conn->id);
	cli_show_add(s, "volume_id", conn->volume_id);
	cli_show_add(s, "backend", conn->backend_name);
	cli_show_add(s, "status", cl_attach_status_name(conn->status));
	cli_show_add(s, "attach_mode", cl_attach_mode_name(conn->attach_mode));
	cli_show_add(s, "attached_host", conn->attached_host);
	show_dict(s, "connector", &conn->connector);
	cli_show_add(s, "driver_volume_type", conn->driver_volume_type);
	show_dict(s, "connection_data", &conn->connection_data);
	cli_show_add(s, "device_path", conn->device_path);
	if (conn->device_path && !strcmp(device_state(conn), "stale"))
		cli_show_add(s, "device_state",
			     "stale (device missing: run 'cinderctl connection reconcile')");
	else
		cli_show_add(s, "device_state", device_state(conn));
	if (conn->provider_data.count)
		show_dict(s, "provider_data", &conn->provider_data);
	show_time(s, "created_at", conn->created_at);
	show_time(s, "updated_at", conn->updated_at);
}

static void connection_row(struct cli_table *t, const void *obj)
{
	const struct cl_connection *c = obj;
	const char *cells[8] = {
		c->id, c->volume_id, c->attached_host,
		c->driver_volume_type, cl_attach_mode_name(c->attach_mode),
		cl_attach_status_name(c->status), c->device_path,
		device_state(c),
	};

	cli_table_add(t, cells);
}

static struct json_object *connection_json(const void *obj)
{
	return cli_connection_json(obj);
}

static const char *const connection_headers[] = {
	"ID", "VOLUME", "HOST", "TYPE", "MODE", "STATUS", "DEVICE", "STATE"
};

const struct cli_object_form cli_connection_form = {
	connection_json, connection_fields, 8, connection_headers,
	connection_row
};

void cli_connection_print(const struct cl_connection *conn)
{
	print_object(&cli_connection_form, conn);
}

void cli_connection_list_print(const struct cl_connection_list *list)
{
	struct cli_list *l = cli_list_new(&cli_connection_form);

	for (size_t i = 0; i < list->count; i++)
		cli_list_add(l, list->items[i]);
	cli_list_print(l);
}

/* ---------------------------------------------------------------------- */

void cli_stats_print(const struct cl_backend_stats *stats)
{
	static const char *const headers[] = {
		"POOL", "TOTAL GiB", "FREE GiB", "PROVISIONED GiB",
		"ALLOCATED GiB", "VOLUMES", "THIN", "THICK"
	};
	struct cli_table *t = cli_table_new(8, headers);

	for (size_t i = 0; i < stats->nr_pools; i++) {
		const struct cl_pool_stats *p = &stats->pools[i];
		char total[32], free_gb[32], prov[32], alloc[32], vols[32];
		const char *cells[8] = {
			p->pool_name, total, free_gb, prov, alloc, vols,
			p->thin_provisioning_support ? "yes" : "no",
			p->thick_provisioning_support ? "yes" : "no",
		};

		snprintf(total, sizeof(total), "%.2f", p->total_capacity_gb);
		snprintf(free_gb, sizeof(free_gb), "%.2f", p->free_capacity_gb);
		snprintf(prov, sizeof(prov), "%.2f", p->provisioned_capacity_gb);
		snprintf(alloc, sizeof(alloc), "%.2f", p->allocated_capacity_gb);
		snprintf(vols, sizeof(vols), "%" PRIu64, p->total_volumes);
		cli_table_add(t, cells);
	}
	cli_table_print(t, stdout);
	cli_table_free(t);
}
