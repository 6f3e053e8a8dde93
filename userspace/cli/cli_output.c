// SPDX-License-Identifier: Apache-2.0
/*
 * Tables, "key: value" blocks and JSON printing for cinderctl.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli_output.h"

struct cli_table {
	size_t ncols;
	size_t nrows;
	size_t cap;
	char **cells;		/* (nrows + 1) * ncols, row 0 = headers */
};

static void *xrealloc(void *p, size_t size)
{
	p = realloc(p, size);
	if (!p) {
		fputs("cinderctl: error: out of memory\n", stderr);
		exit(1);
	}
	return p;
}

static char *xstrdup(const char *s)
{
	char *copy = strdup(s);

	if (!copy) {
		fputs("cinderctl: error: out of memory\n", stderr);
		exit(1);
	}
	return copy;
}

size_t cli_text_width(const char *s)
{
	size_t width = 0;

	for (; *s; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			width++;
	return width;
}

static void table_append_row(struct cli_table *t, const char *const *cells)
{
	size_t row = t->nrows;

	if (row + 1 > t->cap) {
		t->cap = t->cap ? t->cap * 2 : 16;
		t->cells = xrealloc(t->cells,
				    t->cap * t->ncols * sizeof(*t->cells));
	}
	for (size_t c = 0; c < t->ncols; c++) {
		const char *cell = cells[c] && cells[c][0] ? cells[c] : "-";

		t->cells[row * t->ncols + c] = xstrdup(cell);
	}
	t->nrows++;
}

struct cli_table *cli_table_new(size_t ncols, const char *const *headers)
{
	struct cli_table *t = xrealloc(NULL, sizeof(*t));

	memset(t, 0, sizeof(*t));
	t->ncols = ncols;
	table_append_row(t, headers);
	return t;
}

void cli_table_add(struct cli_table *t, const char *const *cells)
{
	table_append_row(t, cells);
}

size_t cli_table_rows(const struct cli_table *t)
{
	return t->nrows - 1;
}

void cli_table_print(const struct cli_table *t, FILE *out)
{
	size_t *width = xrealloc(NULL, t->ncols * sizeof(*width));

	for (size_t c = 0; c < t->ncols; c++) {
		width[c] = 0;
		for (size_t r = 0; r < t->nrows; r++) {
			size_t w = cli_text_width(t->cells[r * t->ncols + c]);

			if (w > width[c])
				width[c] = w;
		}
	}
	for (size_t r = 0; r < t->nrows; r++) {
		for (size_t c = 0; c < t->ncols; c++) {
			const char *cell = t->cells[r * t->ncols + c];

			fputs(cell, out);
			/* No trailing blanks after the last column. */
			if (c + 1 < t->ncols) {
				size_t pad = width[c] - cli_text_width(cell) + 2;

				fprintf(out, "%*s", (int)pad, "");
			}
		}
		fputc('\n', out);
	}
	free(width);
}

void cli_table_free(struct cli_table *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	free(t);
}

struct cli_show {
	struct cli_table *table;
};

struct cli_show *cli_show_new(void)
{
	static const char *const no_headers[2] = { "", "" };
	struct cli_show *s = xrealloc(NULL, sizeof(*s));

	s->table = cli_table_new(2, no_headers);
	return s;
}

void cli_show_add(struct cli_show *s, const char *key, const char *value)
{
	char label[128];
	const char *cells[2] = { label, value };

	snprintf(label, sizeof(label), "%s:", key);
	cli_table_add(s->table, cells);
}

void cli_show_addf(struct cli_show *s, const char *key, const char *fmt, ...)
{
	char value[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(value, sizeof(value), fmt, ap);
	va_end(ap);
	cli_show_add(s, key, value);
}

void cli_show_print(const struct cli_show *s, FILE *out)
{
	const struct cli_table *t = s->table;
	size_t width = 0;

	for (size_t r = 1; r < t->nrows; r++) {
		size_t w = cli_text_width(t->cells[r * 2]);

		if (w > width)
			width = w;
	}
	for (size_t r = 1; r < t->nrows; r++) {
		const char *key = t->cells[r * 2];

		fprintf(out, "%s%*s %s\n", key,
			(int)(width - cli_text_width(key)), "",
			t->cells[r * 2 + 1]);
	}
}

void cli_show_free(struct cli_show *s)
{
	if (!s)
		return;
	cli_table_free(s->table);
	free(s);
}

void cli_json_print(struct json_object *obj)
{
	puts(json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PRETTY |
					    JSON_C_TO_STRING_SPACED |
					    JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(obj);
}

struct json_object *cli_json_string(const char *s)
{
	return s ? json_object_new_string(s) : NULL;
}

const char *cli_format_time(int64_t usec, char *buf, size_t len)
{
	time_t secs = (time_t)(usec / 1000000);
	struct tm tm;

	if (usec <= 0 || !gmtime_r(&secs, &tm)) {
		snprintf(buf, len, "-");
		return buf;
	}
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
	return buf;
}

char *cli_format_dict(const struct cl_dict *d)
{
	size_t len = 1;
	char *out, *p;

	for (size_t i = 0; i < d->count; i++)
		len += strlen(d->entries[i].key) +
		       strlen(d->entries[i].value) + 3;
	out = xrealloc(NULL, len);
	p = out;
	*p = '\0';
	for (size_t i = 0; i < d->count; i++)
		p += sprintf(p, "%s%s=%s", i ? ", " : "", d->entries[i].key,
			     d->entries[i].value);
	return out;
}
