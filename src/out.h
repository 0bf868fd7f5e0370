/*
 * out.h -- error reporting: errno plus a thread-local message that names the
 * cause, returned by daxfile_errormsg().
 */
#ifndef DX_OUT_H
#define DX_OUT_H 1

#include <errno.h>
#include <stdbool.h>

/* dx_err -- set errno to 'err' and the thread's message; returns -1. */
int dx_err(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* dx_err_keep -- add context to the cause of errno (from a failed call). */
int dx_err_keep(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A saved error message (dx_err_save / dx_err_restore). */
struct dx_errsave {
	char msg[512];
	int err;
	bool fresh;
};

/* dx_err_save/restore -- keep the thread's message across other work. */
void dx_err_save(struct dx_errsave *s);
void dx_err_restore(const struct dx_errsave *s);

/*
 * dx_log -- report what no call can return (a fault that could not be
 * served, pages revoked, an inode not reclaimed) to the application's log
 * function (daxfile_set_log); nothing when it has none.
 */
void dx_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * dx_err_begin -- a public call starts: an earlier call's message no longer
 * explains anything (called by the handle checks every call makes).
 */
void dx_err_begin(void);

#endif /* DX_OUT_H */
