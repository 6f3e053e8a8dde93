/* SPDX-License-Identifier: Apache-2.0 */
/**
 * @file
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

/** Size of struct cl_error's message buffer, its NUL included. */
#define CL_ERROR_MSG_MAX 512

/** An error: its code and a message meant for a person. */
struct cl_error {
	int code;			/**< negative errno, 0 when no error */
	char msg[CL_ERROR_MSG_MAX];	/**< human-readable, NUL-terminated */
};

/** Reset @p err to "no error". @p err may be NULL. */
CL_API void cl_error_clear(struct cl_error *err);

/**
 * Record an error and return @p code (a negative errno) so that callers can
 * write "return cl_error_set(err, -EINVAL, ...);". @p err may be NULL.
 */
CL_API int cl_error_set(struct cl_error *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#ifdef __cplusplus
}
#endif

#endif /* CINDERLIB_ERROR_H */
