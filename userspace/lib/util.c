// SPDX-License-Identifier: Apache-2.0
/* Small helpers: strings, time, UUIDs, UTF-8, edit distance, logging. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cl_internal.h"

char *cl_strdup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

/* Replace *dst by a copy of @src (NULL allowed); -ENOMEM leaves *dst. */
int cl_set_str(char **dst, const char *src)
{
	char *copy = NULL;

	if (src) {
		copy = strdup(src);
		if (!copy)
			return -ENOMEM;
	}
	free(*dst);
	*dst = copy;
	return 0;
}

int64_t cl_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* @len random bytes: the kernel's generator, else whatever is at hand. */
static void random_bytes(unsigned char *buf, size_t len)
{
	ssize_t n = getrandom(buf, len, 0);
	int fd;

	if (n == (ssize_t)len)
		return;
	fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		n = read(fd, buf, len);
		close(fd);
		if (n == (ssize_t)len)
			return;
	}
	srandom((unsigned int)(cl_now_us() ^ getpid()));
	for (size_t i = 0; i < len; i++)
		buf[i] = (unsigned char)random();
}

/* A random (version 4) UUID in lower case, as libuuid would make it. */
void cl_new_uuid(char out[CL_ID_LEN])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char u[16];
	char *p = out;

	random_bytes(u, sizeof(u));
	u[6] = (u[6] & 0x0f) | 0x40;	/* version 4 */
	u[8] = (u[8] & 0x3f) | 0x80;	/* RFC 4122 variant */
	for (int i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			*p++ = '-';
		*p++ = hex[u[i] >> 4];
		*p++ = hex[u[i] & 0x0f];
	}
	*p = '\0';
}

/* 8-4-4-4-12 hex digits (either case), as uuid_parse() accepts. */
bool cl_uuid_valid(const char *s)
{
	if (!s || strlen(s) != 36)
		return false;
	for (int i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return false;
		} else if (!isxdigit((unsigned char)s[i])) {
			return false;
		}
	}
	return true;
}

/* Well-formed UTF-8 without control characters (names end up in logs). */
bool cl_utf8_valid(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	while (*p) {
		unsigned char c = *p;
		int extra;
		uint32_t cp;

		if (c < 0x80) {
			if (c < 0x20 || c == 0x7f)
				return false;
			p++;
			continue;
		}
		if ((c & 0xe0) == 0xc0) {
			extra = 1;
			cp = c & 0x1f;
		} else if ((c & 0xf0) == 0xe0) {
			extra = 2;
			cp = c & 0x0f;
		} else if ((c & 0xf8) == 0xf0) {
			extra = 3;
			cp = c & 0x07;
		} else {
			return false;
		}
		for (int i = 1; i <= extra; i++) {
			if ((p[i] & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (p[i] & 0x3f);
		}
		/* Overlong forms, surrogates, beyond Unicode. */
		if ((extra == 1 && cp < 0x80) || (extra == 2 && cp < 0x800) ||
		    (extra == 3 && cp < 0x10000) || cp > 0x10ffff ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		p += extra + 1;
	}
	return true;
}

size_t cl_edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	size_t *row = calloc(lb + 1, sizeof(*row));
	size_t result;

	if (!row)
		return (size_t)-1;
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t diag = row[0];

		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t up = row[j];
			size_t best = diag + (a[i - 1] != b[j - 1]);

			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diag = up;
		}
	}
	result = row[lb];
	free(row);
	return result;
}

const char *cl_closest(const char *word, const char *const *cands, size_t n)
{
	const char *best = NULL;
	size_t best_d = (size_t)-1;

	for (size_t i = 0; i < n; i++) {
		size_t d = cl_edit_distance(word, cands[i]);

		if (d < best_d) {
			best_d = d;
			best = cands[i];
		}
	}
	return best;
}

int cl_mkdir_p(const char *path, mode_t mode)
{
	char *copy;
	int ret = 0;

	if (!*path)
		return -ENOENT;
	/* Most often it is there already: one call, not one per component. */
	if (mkdir(path, mode) == 0 || errno == EEXIST)
		return 0;
	if (errno != ENOENT)
		return -errno;
	copy = strdup(path);
	if (!copy)
		return -ENOMEM;
	for (char *p = copy + 1; ; p++) {
		if (*p == '/' || *p == '\0') {
			char saved = *p;

			*p = '\0';
			if (mkdir(copy, mode) < 0 && errno != EEXIST) {
				ret = -errno;
				break;
			}
			*p = saved;
			if (!saved)
				break;
		}
	}
	free(copy);
	return ret;
}

void cl_log(struct cl_context *ctx, enum cl_log_level level, const char *fmt,
	    ...)
{
	char buf[1024];
	va_list ap;

	if (!ctx || !ctx->log_fn || level > ctx->log_level)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	ctx->log_fn(level, buf, ctx->log_data);
}

int cl_parse_bool(const char *s, bool *out)
{
	static const char *const yes[] = { "true", "yes", "on", "1" };
	static const char *const no[] = { "false", "no", "off", "0" };

	for (size_t i = 0; i < 4; i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*out = true;
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*out = false;
			return 0;
		}
	}
	return -EINVAL;
}

/*
 * Days since 1970-01-01 of a proleptic Gregorian date and back (H. Hinnant's
 * algorithms). Done here rather than with gmtime_r()/timegm(): glibc reads
 * the local time zone file for those, UTC or not, and every object saved
 * or loaded converts its timestamps.
 */
static int64_t days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
	int64_t era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

/* ISO 8601 UTC with microseconds: 2024-01-31T12:00:00.123456Z */
int cl_time_format(int64_t us, char *buf, size_t len)
{
	int64_t sec = us / 1000000, days, year;
	long frac = (long)(us % 1000000);
	int month, day, rem;

	if (frac < 0) {
		frac += 1000000;
		sec--;
	}
	days = sec >= 0 ? sec / 86400 : (sec - 86399) / 86400;
	rem = (int)(sec - days * 86400);
	civil_from_days(days, &year, &month, &day);
	if (year < -2147481748LL || year > 2147485547LL)
		return -EINVAL;		/* what gmtime_r() cannot express */
	snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ",
		 (int)year, month, day, rem / 3600, rem / 60 % 60, rem % 60,
		 frac);
	return 0;
}

/* @n digits at @s as a number, or -1. */
static int digits(const char *s, int n)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

int cl_time_parse(const char *s, int64_t *us)
{
	struct tm tm = { 0 };
	long frac = 0;
	int n = 0, fdigits = 0;
	const char *p;

	/* What cl_time_format() writes; anything else goes through sscanf. */
	bool canonical = strnlen(s, 19) == 19 && s[4] == '-' &&
			 s[7] == '-' && s[10] == 'T' && s[13] == ':' &&
			 s[16] == ':';

	if (canonical) {
		tm.tm_year = digits(s, 4);
		tm.tm_mon = digits(s + 5, 2);
		tm.tm_mday = digits(s + 8, 2);
		tm.tm_hour = digits(s + 11, 2);
		tm.tm_min = digits(s + 14, 2);
		tm.tm_sec = digits(s + 17, 2);
		canonical = tm.tm_year >= 0 && tm.tm_mon >= 1 &&
			    tm.tm_mon <= 12 && tm.tm_mday >= 0 &&
			    tm.tm_hour >= 0 && tm.tm_min >= 0 && tm.tm_sec >= 0;
	}
	if (canonical) {
		n = 19;
	} else if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year,
			  &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min,
			  &tm.tm_sec, &n) != 6) {
		return -EINVAL;
	}
	p = s + n;
	if (*p == '.') {
		for (p++; isdigit((unsigned char)*p); p++) {
			if (fdigits < 6) {
				frac = frac * 10 + (*p - '0');
				fdigits++;
			}
		}
		for (; fdigits < 6; fdigits++)
			frac *= 10;
	}
	if (*p == 'Z')
		p++;
	else if (strcmp(p, "+00:00") == 0)
		p += 6;
	if (*p)
		return -EINVAL;
	if (canonical) {
		int64_t days = days_from_civil(tm.tm_year, tm.tm_mon, 1) +
			       tm.tm_mday - 1;

		*us = (days * 86400 + tm.tm_hour * 3600 + tm.tm_min * 60 +
		       tm.tm_sec) * 1000000 + frac;
		return 0;
	}
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	*us = (int64_t)timegm(&tm) * 1000000 + frac;
	return 0;
}

char *cl_state_dir(void)
{
	const char *env = getenv("CINDERLIB_STATE_DIR");
	const char *xdg, *home;
	char *out = NULL;

	if (env && *env)
		return strdup(env);
	if (geteuid() == 0)
		return strdup("/var/lib/cinderlib");
	xdg = getenv("XDG_DATA_HOME");
	if (xdg && *xdg) {
		if (asprintf(&out, "%s/cinderlib", xdg) < 0)
			return NULL;
		return out;
	}
	home = getenv("HOME");
	if (asprintf(&out, "%s/.local/share/cinderlib", home ? home : "") < 0)
		return NULL;
	return out;
}

void cl_strv_free(char **v, size_t count)
{
	if (!v)
		return;
	for (size_t i = 0; i < count; i++)
		free(v[i]);
	free(v);
}
