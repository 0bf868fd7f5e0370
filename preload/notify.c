/*
 * notify.c -- file change notifications (inotify, fanotify, and fcntl's
 * F_NOTIFY in open.c).  A pool's changes are made in processes, not in
 * the kernel, which has nothing to report: a watch of a pool path fails
 * with ENOTSUP rather than with the kernel's ENOENT for the mount point's
 * host path, so that a program (tail -f) knows to poll instead.  Every
 * other watch is the kernel's.
 */
#define _GNU_SOURCE 1
#include <fcntl.h>
#include <sys/fanotify.h>
#include <sys/inotify.h>

#include "entry.h"

DXP_EXPORT int
inotify_add_watch(int fd, const char *path, uint32_t mask)
{
	if (dxp_path_in_pool(path))
		return errno = ENOTSUP, -1;
	return REAL(inotify_add_watch)(fd, path, mask);
}

DXP_EXPORT int
fanotify_mark(int fd, unsigned flags, uint64_t mask, int dirfd,
	const char *path)
{
	if (path == NULL ? dxp_fd_is_pool(dirfd) :
	    dxp_path_in_pool_at(dirfd, path))
		return errno = ENOTSUP, -1;
	return REAL(fanotify_mark)(fd, flags, mask, dirfd, path);
}
