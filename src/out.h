/*
 * out.h -- error reporting: errno plus a thread-local message that names the
 * cause, returned by daxfile_errormsg().
 */
#ifndef DX_OUT_H
#define DX_OUT_H 1

#include <errno.h>

/* dx_err -- set errno to 'err' and the thread's message; returns -1. */
int dx_err(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* dx_err_keep -- add context to the cause of errno (from a failed call). */
int dx_err_keep(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * dx_err_begin -- a public call starts: an earlier call's message no longer
 * explains anything (called by the handle checks every call makes).
 */
void dx_err_begin(void);

#endif /* DX_OUT_H */
