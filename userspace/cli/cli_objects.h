/* SPDX-License-Identifier: Apache-2.0 */
/*
 * How cinderctl shows library objects: one JSON object per struct (the
 * --json output, stable field names as in the structs) and the human
 * "key: value" / table forms.
 */
#ifndef CINDERCTL_CLI_OBJECTS_H
#define CINDERCTL_CLI_OBJECTS_H

#include "cinderlib/cinderlib.h"
#include "cli_output.h"

struct json_object *cli_dict_json(const struct cl_dict *d);
struct json_object *cli_volume_json(const struct cl_volume *vol);
struct json_object *cli_snapshot_json(const struct cl_snapshot *snap);
struct json_object *cli_connection_json(const struct cl_connection *conn);
struct json_object *cli_stats_json(const struct cl_backend_stats *stats);
struct json_object *cli_driver_json(const struct cl_driver_info *drv);

/*
 * How one kind of object prints: as JSON (--json), as "key: value" lines
 * (show) and as a table row under @headers (list).
 */
struct cli_object_form {
	struct json_object *(*to_json)(const void *obj);
	void (*add_fields)(struct cli_show *s, const void *obj);
	size_t nr_columns;
	const char *const *headers;
	void (*add_row)(struct cli_table *t, const void *obj);
};

extern const struct cli_object_form cli_volume_form;
extern const struct cli_object_form cli_snapshot_form;
extern const struct cli_object_form cli_connection_form;

/*
 * A list being printed: a table, or a JSON array with cli_globals.json.
 * cli_list_print() prints it and frees it.
 */
struct cli_list;

struct cli_list *cli_list_new(const struct cli_object_form *form);
void cli_list_add(struct cli_list *l, const void *obj);
void cli_list_print(struct cli_list *l);

/*
 * What an action made or changed: @text (an id, a device path), or the
 * whole @obj as JSON with cli_globals.json.
 */
void cli_print_result(const struct cli_object_form *form, const void *obj,
		      const char *text);

/* Print one object as "key: value" lines, or as JSON with cli_globals.json. */
void cli_volume_print(const struct cl_volume *vol);
void cli_snapshot_print(const struct cl_snapshot *snap);
void cli_connection_print(const struct cl_connection *conn);

/* Print a list as a table, or as a JSON array with cli_globals.json. */
void cli_volume_list_print(const struct cl_volume_list *list);
void cli_snapshot_list_print(const struct cl_snapshot_list *list);
void cli_connection_list_print(const struct cl_connection_list *list);

/* Oldest first, then by id: the order of "list". */
void cli_volume_list_sort(struct cl_volume_list *list);
void cli_snapshot_list_sort(struct cl_snapshot_list *list);

/* Pools of @stats as a table (human form). */
void cli_stats_print(const struct cl_backend_stats *stats);

#endif /* CINDERCTL_CLI_OBJECTS_H */
