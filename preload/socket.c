/*
 * socket.c -- UNIX domain sockets at pool paths.  A pool holds no socket
 * inodes, so a bind there fails as the kernel's does on a file system
 * without mknod (EPERM), and a connect finds no listener (ECONNREFUSED if
 * something else is at the path, else why the path does not resolve):
 * neither reaches the host under a mount point.  Every other address is
 * the kernel's.
 */
#define _GNU_SOURCE 1
#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "entry.h"

/*
 * unix_pool_path -- the path of a pathname AF_UNIX address, in 'buf', if
 * it leads into a pool; else NULL (abstract and unnamed addresses,
 * other families, host paths).
 */
static const char *
unix_pool_path(const struct sockaddr *sa, socklen_t len, char *buf,
	size_t size)
{
	const struct sockaddr_un *un = (const struct sockaddr_un *)sa;
	size_t max = len - offsetof(struct sockaddr_un, sun_path), n;

	if (dxp_nmounts == 0 || sa == NULL ||
	    len <= offsetof(struct sockaddr_un, sun_path) ||
	    sa->sa_family != AF_UNIX || un->sun_path[0] == '\0')
		return NULL;
	n = strnlen(un->sun_path, max < sizeof(un->sun_path) ? max :
		sizeof(un->sun_path));
	if (n >= size)
		return NULL;
	memcpy(buf, un->sun_path, n);
	buf[n] = '\0';
	return dxp_path_in_pool(buf) ? buf : NULL;
}

DXP_EXPORT int
bind(int fd, const struct sockaddr *sa, socklen_t len)
{
	char path[sizeof(((struct sockaddr_un *)0)->sun_path) + 1];

	if (unix_pool_path(sa, len, path, sizeof(path)) != NULL)
		return errno = EPERM, -1;
	return REAL(bind)(fd, sa, len);
}

DXP_EXPORT int
connect(int fd, const struct sockaddr *sa, socklen_t len)
{
	char path[sizeof(((struct sockaddr_un *)0)->sun_path) + 1];
	struct stat st;

	if (unix_pool_path(sa, len, path, sizeof(path)) == NULL)
		return REAL(connect)(fd, sa, len);
	if (stat(path, &st) == 0)
		errno = ECONNREFUSED;
	return -1;
}
