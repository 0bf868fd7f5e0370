/*
 * attr.c -- entry points that change a file's attributes: chmod, chown
 * and their relatives, the times (utime, utimes, futimes, lutimes,
 * futimesat, utimensat, futimens), and extended attributes.
 */
#define _GNU_SOURCE 1
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/time.h>
#include <sys/xattr.h>
#include <utime.h>

#include "entry.h"

#define NEED(fn) (DXP_HAVE(fn) ? 0 : dxp_lib_missing(#fn))
/* XNEED -- a library without extended attributes: a file system without them */
#define XNEED(fn) (DXP_HAVE(fn) ? 0 : (errno = ENOTSUP, -1))

DXP_EXPORT int
fchmodat(int dirfd, const char *path, mode_t mode, int flags)
{
	DXP_PATH_CALL(dirfd, path, flags & DXP_EMPTY_OK,
		REAL(fchmodat)(w.dirfd, w.host, mode, flags),
		NEED(daxfile_fchmodat) ? -1 :
		daxfile_fchmodat(pool, w.dirf, w.path, mode, flags));
}

DXP_EXPORT int
chmod(const char *path, mode_t mode)
{
	return fchmodat(AT_FDCWD, path, mode, 0);
}

DXP_EXPORT int
lchmod(const char *path, mode_t mode)
{
	return fchmodat(AT_FDCWD, path, mode, AT_SYMLINK_NOFOLLOW);
}

DXP_EXPORT int
fchmod(int fd, mode_t mode)
{
	DXP_FD_CALL(fd, REAL(fchmod)(fd, mode),
		NEED(daxfile_fchmod) ? -1 : daxfile_fchmod(f, mode));
}

DXP_EXPORT int
fchownat(int dirfd, const char *path, uid_t uid, gid_t gid, int flags)
{
	DXP_PATH_CALL(dirfd, path, flags & DXP_EMPTY_OK,
		REAL(fchownat)(w.dirfd, w.host, uid, gid, flags),
		NEED(daxfile_fchownat) ? -1 :
		daxfile_fchownat(pool, w.dirf, w.path, uid, gid, flags));
}

DXP_EXPORT int
chown(const char *path, uid_t uid, gid_t gid)
{
	return fchownat(AT_FDCWD, path, uid, gid, 0);
}

DXP_EXPORT int
lchown(const char *path, uid_t uid, gid_t gid)
{
	return fchownat(AT_FDCWD, path, uid, gid, AT_SYMLINK_NOFOLLOW);
}

DXP_EXPORT int
fchown(int fd, uid_t uid, gid_t gid)
{
	DXP_FD_CALL(fd, REAL(fchown)(fd, uid, gid),
		NEED(daxfile_fchown) ? -1 : daxfile_fchown(f, uid, gid));
}

DXP_EXPORT int
utimensat(int dirfd, const char *path, const struct timespec ts[2], int flags)
{
	struct dxp_ofd *o;

	/* the kernel's own extension: a NULL path is the file 'dirfd' itself */
	if ((uintptr_t)path == 0) {
		o = dxp_fd_get(dirfd);
		if (o == NULL)
			return REAL(utimensat)(dirfd, path, ts, flags);
		daxfile_file *f = dxp_ofd_file(o);

		return (int)dxp_oret(o, f == NULL ? -1 : NEED(daxfile_futimens) ?
			-1 : daxfile_futimens(f, ts));
	}
	DXP_PATH_CALL(dirfd, path, flags & DXP_EMPTY_OK,
		REAL(utimensat)(w.dirfd, w.host, ts, flags),
		NEED(daxfile_utimensat) ? -1 :
		daxfile_utimensat(pool, w.dirf, w.path, ts, flags));
}

DXP_EXPORT int
futimens(int fd, const struct timespec ts[2])
{
	DXP_FD_CALL(fd, REAL(futimens)(fd, ts),
		NEED(daxfile_futimens) ? -1 : daxfile_futimens(f, ts));
}

/* tv_to_ts -- timevals as timespecs (NULL: now). */
static const struct timespec *
tv_to_ts(const struct timeval tv[2], struct timespec ts[2])
{
	if (tv == NULL)
		return NULL;
	for (int i = 0; i < 2; i++) {
		if (tv[i].tv_usec < 0 || tv[i].tv_usec >= 1000000)
			return errno = EINVAL, (const struct timespec *)-1;
		ts[i].tv_sec = tv[i].tv_sec;
		ts[i].tv_nsec = tv[i].tv_usec * 1000;
	}
	return ts;
}

DXP_EXPORT int
utimes(const char *path, const struct timeval tv[2])
{
	struct timespec ts[2];
	const struct timespec *p = tv_to_ts(tv, ts);

	if (p == (const struct timespec *)-1)
		return -1;
	return utimensat(AT_FDCWD, path, p, 0);
}

DXP_EXPORT int
lutimes(const char *path, const struct timeval tv[2])
{
	struct timespec ts[2];
	const struct timespec *p = tv_to_ts(tv, ts);

	if (p == (const struct timespec *)-1)
		return -1;
	return utimensat(AT_FDCWD, path, p, AT_SYMLINK_NOFOLLOW);
}

DXP_EXPORT int
futimesat(int dirfd, const char *path, const struct timeval tv[2])
{
	struct timespec ts[2];
	const struct timespec *p = tv_to_ts(tv, ts);

	if (p == (const struct timespec *)-1)
		return -1;
	return utimensat(dirfd, path, p, 0);
}

DXP_EXPORT int
futimes(int fd, const struct timeval tv[2])
{
	struct timespec ts[2];
	const struct timespec *p = tv_to_ts(tv, ts);

	if (p == (const struct timespec *)-1)
		return -1;
	return futimens(fd, p);
}

DXP_EXPORT int
utime(const char *path, const struct utimbuf *ut)
{
	struct timespec ts[2];

	if (ut == NULL)
		return utimensat(AT_FDCWD, path, NULL, 0);
	ts[0].tv_sec = ut->actime;
	ts[0].tv_nsec = 0;
	ts[1].tv_sec = ut->modtime;
	ts[1].tv_nsec = 0;
	return utimensat(AT_FDCWD, path, ts, 0);
}

/* XPATH -- an xattr call on a path (l: not following a last link). */
#define XPATH(path, host, poolfn, ...) \
	DXP_PATH_CALL(AT_FDCWD, path, DXP_BY_NAME, host, XNEED(poolfn) ? -1 : \
		poolfn(pool, w.path, __VA_ARGS__))

DXP_EXPORT ssize_t
getxattr(const char *path, const char *name, void *value, size_t size)
{
	XPATH(path, REAL(getxattr)(w.host, name, value, size),
		daxfile_getxattr, name, value, size);
}

DXP_EXPORT ssize_t
lgetxattr(const char *path, const char *name, void *value, size_t size)
{
	XPATH(path, REAL(lgetxattr)(w.host, name, value, size),
		daxfile_lgetxattr, name, value, size);
}

DXP_EXPORT ssize_t
fgetxattr(int fd, const char *name, void *value, size_t size)
{
	DXP_FD_CALL(fd, REAL(fgetxattr)(fd, name, value, size),
		XNEED(daxfile_fgetxattr) ? -1 :
		daxfile_fgetxattr(f, name, value, size));
}

DXP_EXPORT int
setxattr(const char *path, const char *name, const void *value, size_t size,
	int flags)
{
	XPATH(path, REAL(setxattr)(w.host, name, value, size, flags),
		daxfile_setxattr, name, value, size, flags);
}

DXP_EXPORT int
lsetxattr(const char *path, const char *name, const void *value, size_t size,
	int flags)
{
	XPATH(path, REAL(lsetxattr)(w.host, name, value, size, flags),
		daxfile_lsetxattr, name, value, size, flags);
}

DXP_EXPORT int
fsetxattr(int fd, const char *name, const void *value, size_t size, int flags)
{
	DXP_FD_CALL(fd, REAL(fsetxattr)(fd, name, value, size, flags),
		XNEED(daxfile_fsetxattr) ? -1 :
		daxfile_fsetxattr(f, name, value, size, flags));
}

DXP_EXPORT ssize_t
listxattr(const char *path, char *list, size_t size)
{
	XPATH(path, REAL(listxattr)(w.host, list, size), daxfile_listxattr,
		list, size);
}

DXP_EXPORT ssize_t
llistxattr(const char *path, char *list, size_t size)
{
	XPATH(path, REAL(llistxattr)(w.host, list, size), daxfile_llistxattr,
		list, size);
}

DXP_EXPORT ssize_t
flistxattr(int fd, char *list, size_t size)
{
	DXP_FD_CALL(fd, REAL(flistxattr)(fd, list, size),
		XNEED(daxfile_flistxattr) ? -1 : daxfile_flistxattr(f, list, size));
}

DXP_EXPORT int
removexattr(const char *path, const char *name)
{
	XPATH(path, REAL(removexattr)(w.host, name), daxfile_removexattr, name);
}

DXP_EXPORT int
lremovexattr(const char *path, const char *name)
{
	XPATH(path, REAL(lremovexattr)(w.host, name), daxfile_lremovexattr, name);
}

DXP_EXPORT int
fremovexattr(int fd, const char *name)
{
	DXP_FD_CALL(fd, REAL(fremovexattr)(fd, name),
		XNEED(daxfile_fremovexattr) ? -1 : daxfile_fremovexattr(f, name));
}
