/* SPDX-License-Identifier: Apache-2.0 */
/**
 * @file
 * The export marker of libcinderlib's public API, included by the other
 * headers.
 */
#ifndef CINDERLIB_API_H
#define CINDERLIB_API_H

/** Marks the functions libcinderlib exports; everything else is hidden. */
#define CL_API __attribute__((visibility("default")))

#endif /* CINDERLIB_API_H */
