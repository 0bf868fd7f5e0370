/*
 * out.c -- the thread-local error message behind daxfile_errormsg() and
 * the failure paths of assertions.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <string.h>

#include "daxfile.h"
#include "out.h"
#include "util.h"

#define DX_ERRMSG_MAX 512

static __thread char errmsg[DX_ERRMSG_MAX];
static __thread int errmsg_errno;	/* the errno the message explains */
/* set during the current call; every call clears it, so no TLS lookup */
#ifdef DX_DLOPENED
/* loaded with dlopen (src/mem.c): no initial-exec storage at all, or the
 * whole thread-local block must fit the little static room left */
static __thread bool errmsg_fresh;
#else
static __thread bool errmsg_fresh __attribute__((tls_model("initial-exec")));
#endif

void
dx_err_begin(void)
{
	errmsg_fresh = false;
}

int
dx_err(int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(errmsg, sizeof(errmsg), fmt, ap);
	va_end(ap);
	errmsg_errno = err;
	errmsg_fresh = true;
	errno = err;
	return -1;
}

/*
 * dx_err_keep -- put context before the cause: the message of the failure
 * that set errno, if it explains this errno, else the errno text.
 */
int
dx_err_keep(const char *fmt, ...)
{
	int err = errno;
	char cause[DX_ERRMSG_MAX];
	int n;
	va_list ap;

	if (errmsg_fresh && errmsg_errno == err && errmsg[0] != '\0')
		snprintf(cause, sizeof(cause), "%s", errmsg);
	else
		snprintf(cause, sizeof(cause), "%s", strerror(err));
	va_start(ap, fmt);
	n = vsnprintf(errmsg, sizeof(errmsg), fmt, ap);
	va_end(ap);
	if (n >= 0 && (size_t)n + 2 < sizeof(errmsg)) {
		size_t room = sizeof(errmsg) - (size_t)n - 3;
		size_t len = strnlen(cause, room);

		memcpy(errmsg + n, ": ", 2);
		memcpy(errmsg + n + 2, cause, len);
		errmsg[n + 2 + len] = '\0';
	}
	errmsg_errno = err;
	errmsg_fresh = true;
	errno = err;
	return -1;
}

DX_EXPORT const char *
daxfile_errormsg(void)
{
	return errmsg;
}

void
dx_assert_fail(const char *expr, const char *file, int line, const char *func)
{
	fprintf(stderr, "libdaxfile: %s:%d: %s: assertion '%s' failed\n",
		file, line, func, expr);
	abort();
}
