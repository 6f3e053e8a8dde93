/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Output helpers for cinderctl: aligned tables for lists, "key: value"
 * blocks for single objects, and JSON documents for --json.
 */
#ifndef CINDERCTL_CLI_OUTPUT_H
#define CINDERCTL_CLI_OUTPUT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <json-c/json.h>

#include "cinderlib/cinderlib.h"

/* A table of strings, printed with every column as wide as its widest cell. */
struct cli_table;

/* @headers: @ncols strings. */
struct cli_table *cli_table_new(size_t ncols, const char *const *headers);
/* Append a row of @ncols cells (copied); a NULL cell prints as "-". */
void cli_table_add(struct cli_table *t, const char *const *cells);
/* Print the header and rows; nothing but the header when there are no rows. */
void cli_table_print(const struct cli_table *t, FILE *out);
size_t cli_table_rows(const struct cli_table *t);
void cli_table_free(struct cli_table *t);

/* "key: value" lines, values aligned on one column. */
struct cli_show;

struct cli_show *cli_show_new(void);
/* A NULL or empty value prints as "-". */
void cli_show_add(struct cli_show *s, const char *key, const char *value);
void cli_show_addf(struct cli_show *s, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void cli_show_print(const struct cli_show *s, FILE *out);
void cli_show_free(struct cli_show *s);

/* Print @obj pretty on stdout followed by a newline; drops the reference. */
void cli_json_print(struct json_object *obj);
/* A JSON string, or JSON null for NULL. */
struct json_object *cli_json_string(const char *s);

/* Microseconds since the epoch as "2024-05-01T12:00:00Z" into @buf. */
const char *cli_format_time(int64_t usec, char *buf, size_t len);
/* "k=v, k2=v2" (malloc'd; "" for an empty dict). */
char *cli_format_dict(const struct cl_dict *d);
/* The display width of UTF-8 text (code points, not bytes). */
size_t cli_text_width(const char *s);

#endif /* CINDERCTL_CLI_OUTPUT_H */
