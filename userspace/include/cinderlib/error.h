/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Error reporting shared by every part of libcinderlib: functions return 0
 * or a negative errno and, when given one, fill a struct cl_error with a
 * message meant for a person. The library never prints.
 */
#ifndef CINDERLIB_ERROR_H
#define CINDERLIB_ERROR_H

#include "cinderlib/api.h"

#ifdef __cplusplus
extern "C" {
#endif

#define CL_ERROR_MSG_MAX 512

struct cl_error {
	int code;			/* negative errno, 0 when no error */
	char msg[CL_ERROR_MSG_MAX];	/* human-readable, NUL-terminated */
};

/* Reset @err to "no error". @err may be NULL. */
CL_API void cl_error_clear(struct cl_error *err);

/*
 * Record an error and return @code (a negative errno) so that callers can
 * write "return cl_error_set(err, -EINVAL, ...);". @err may be NULL.
 */
CL_API int cl_error_set(struct cl_error *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#ifdef __cplusplus
}
#endif

#endif /* CINDERLIB_ERROR_H */
