/*
 * open.c -- entry points that make, copy and drop descriptors: the open
 * family (with the 64-bit and fortified variants), close, close_range,
 * dup, dup2, dup3, fcntl, flock, ioctl.
 */
#define _GNU_SOURCE 1
#include <fcntl.h>
#include <linux/fiemap.h>
#include <linux/fs.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/file.h>
#include <sys/ioctl.h>

#include "entry.h"
#include "hidefd.h"

/* flags the kernel accepts and the library does not need to see */
#define DXP_OPEN_LOCAL (O_CLOEXEC | O_NOCTTY | 0100000 /* O_LARGEFILE */)

struct dxp_ofd *
dxp_ofd_open(struct dxp_mount *m, daxfile_file *dir, const char *path,
	const char *name, int flags, mode_t mode)
{
	int lflags = flags & ~DXP_OPEN_LOCAL;
	daxfile_pool *pool = dxp_mount_get(m);
	char norm[PATH_MAX];
	struct dxp_ofd *o;
	daxfile_file *f;

	if (pool == NULL)
		return NULL;
	if (flags & O_CREAT)
		mode = dxp_create_mode(pool, mode);
	f = dir != NULL ? daxfile_openat(pool, dir, path, lflags, mode) :
		daxfile_open(pool, path, lflags, mode);
	if (f == NULL && (lflags & O_PATH) && errno == EINVAL) {
		lflags = (lflags & ~O_PATH & ~O_ACCMODE) | O_RDONLY;
		f = dir != NULL ? daxfile_openat(pool, dir, path, lflags) :
			daxfile_open(pool, path, lflags);
	}
	if (f == NULL) {
		dxp_mret(m, -1);	/* errno kept */
		return NULL;
	}
	/* the name kept for the description: the path resolved lexically */
	if (name == NULL)
		name = dxp_path_normalize(path, norm, sizeof(norm)) == 0 ?
			norm : path;
	o = dxp_ofd_new(m, f, name, flags);
	if (o == NULL) {
		daxfile_close(f);
		dxp_mret(m, -1);
		return NULL;
	}
	return o;
}

int
dxp_open_pool_at(struct dxp_mount *m, daxfile_file *dir, const char *path,
	const char *name, int flags, mode_t mode)
{
	struct dxp_ofd *o = dxp_ofd_open(m, dir, path, name, flags, mode);
	int fd;

	if (o == NULL)
		return -1;
	fd = dxp_fd_reserve(m, 0, flags & O_CLOEXEC);
	if (fd < 0)
		return (int)dxp_oret(o, -1);
	dxp_fd_install(fd, o, flags & O_CLOEXEC);
	return fd;
}

int
dxp_open_pool(struct dxp_mount *m, const char *path, int flags, mode_t mode)
{
	return dxp_open_pool_at(m, NULL, path, NULL, flags, mode);
}

/* open_at -- openat(2) for every variant. */
static int
open_at(int dirfd, const char *path, int flags, mode_t mode)
{
	struct dxp_where w;
	int fd;

	if (dxp_resolve_at(dirfd, path, &w, 0) != 0)
		return -1;
	if (w.m == NULL)
		return REAL(openat)(w.dirfd, w.host, flags, mode);
	fd = dxp_open_pool_at(w.m, w.dirf, w.path, w.norm, flags, mode);
	dxp_where_put(&w);
	return fd;
}

DXP_EXPORT int
open(const char *path, int flags, ...)
{
	mode_t mode;

	DXP_OPEN_MODE(flags, mode);
	if (dxp_from_lib(__builtin_return_address(0)))
		return dxp_fd_hide(REAL(openat)(AT_FDCWD, path, flags, mode));
	return open_at(AT_FDCWD, path, flags, mode);
}

DXP_EXPORT int
open64(const char *path, int flags, ...)
{
	mode_t mode;

	DXP_OPEN_MODE(flags, mode);
	return open_at(AT_FDCWD, path, flags, mode);
}

DXP_EXPORT int
openat(int dirfd, const char *path, int flags, ...)
{
	mode_t mode;

	DXP_OPEN_MODE(flags, mode);
	return open_at(dirfd, path, flags, mode);
}

DXP_EXPORT int
openat64(int dirfd, const char *path, int flags, ...)
{
	mode_t mode;

	DXP_OPEN_MODE(flags, mode);
	return open_at(dirfd, path, flags, mode);
}

DXP_EXPORT int
__open_2(const char *path, int flags)
{
	return open_at(AT_FDCWD, path, flags, 0);
}

DXP_EXPORT int
__open64_2(const char *path, int flags)
{
	return open_at(AT_FDCWD, path, flags, 0);
}

DXP_EXPORT int
__openat_2(int dirfd, const char *path, int flags)
{
	return open_at(dirfd, path, flags, 0);
}

DXP_EXPORT int
__openat64_2(int dirfd, const char *path, int flags)
{
	return open_at(dirfd, path, flags, 0);
}

DXP_EXPORT int
creat(const char *path, mode_t mode)
{
	return open_at(AT_FDCWD, path, O_CREAT | O_WRONLY | O_TRUNC, mode);
}

DXP_EXPORT int
creat64(const char *path, mode_t mode)
{
	return open_at(AT_FDCWD, path, O_CREAT | O_WRONLY | O_TRUNC, mode);
}

DXP_EXPORT int
close(int fd)
{
	struct dxp_ofd *o;
	int r;

	if (dxp_fd_is_hidden(fd)) {
		/* not the program's: closed only by its owner */
		if (!dxp_from_lib(__builtin_return_address(0)))
			return errno = EBADF, -1;
		dxp_fd_unhide(fd);
	}
	if (fd <= 2 && dxp_fd_is_pool(fd))
		dxp_std_flush(fd);
	o = dxp_fd_remove(fd);
	r = REAL(close)(fd);

	if (o != NULL) {
		struct dxp_mount *m = o->m;

		dxp_ofd_put(o);
		/* the last close of a description releases its locks */
		dxp_mount_locks_sync(m);
		if (fd <= 2)
			dxp_std_adopt(fd);
		return 0;
	}
	return r;
}

/* close_range_open -- close_range(2) around the hidden descriptors. */
static int
close_range_open(unsigned first, unsigned last, int flags)
{
	for (unsigned fd = first; fd <= last && fd < (1u << 20); fd++) {
		if (!dxp_fd_is_hidden((int)fd))
			continue;
		if (fd > first && REAL(close_range)(first, fd - 1, flags) != 0)
			return -1;
		first = fd + 1;
		if (fd == ~0u)
			return 0;
	}
	return first > last ? 0 : REAL(close_range)(first, last, flags);
}

DXP_EXPORT int
close_range(unsigned first, unsigned last, int flags)
{
	int r = close_range_open(first, last, flags);

	if (r != 0 || atomic_load(&dxp_nfds) == 0)
		return r;
	for (unsigned fd = first; fd <= last && fd < (1u << 20); fd++) {
		if (!dxp_fd_is_pool((int)fd))
			continue;
		if (flags & CLOSE_RANGE_CLOEXEC) {
			dxp_fd_set_cloexec((int)fd, true);
		} else {
			struct dxp_ofd *o = dxp_fd_remove((int)fd);

			if (o != NULL)
				dxp_ofd_put(o);
		}
	}
	return 0;
}

DXP_EXPORT void
closefrom(int lowfd)
{
	close_range((unsigned)(lowfd < 0 ? 0 : lowfd), ~0u, 0);
}

/* dup_to -- 'newfd' (made by the kernel) now names what 'oldfd' names. */
static int
dup_to(int oldfd, int newfd, bool cloexec)
{
	struct dxp_ofd *o = dxp_fd_get(oldfd);

	if (newfd < 0) {
		if (o != NULL)
			dxp_ofd_put(o);
		return newfd;
	}
	if (o != NULL) {
		dxp_fd_install(newfd, o, cloexec);
	} else {
		o = dxp_fd_remove(newfd);
		if (o != NULL)
			dxp_ofd_put(o);
	}
	if (newfd <= 2)
		dxp_std_adopt(newfd);
	return newfd;
}

DXP_EXPORT int
dup(int fd)
{
	if (!dxp_fd_is_pool(fd))
		return REAL(dup)(fd);
	return dup_to(fd, REAL(dup)(fd), false);
}

DXP_EXPORT int
dup2(int oldfd, int newfd)
{
	if (!dxp_fd_is_pool(oldfd) && !dxp_fd_is_pool(newfd) &&
	    (newfd > 2 || atomic_load(&dxp_nfds) == 0))
		return REAL(dup2)(oldfd, newfd);
	if (oldfd == newfd)
		return REAL(dup2)(oldfd, newfd);
	dxp_std_flush(newfd);
	return dup_to(oldfd, REAL(dup2)(oldfd, newfd), false);
}

DXP_EXPORT int
dup3(int oldfd, int newfd, int flags)
{
	if (!dxp_fd_is_pool(oldfd) && !dxp_fd_is_pool(newfd) &&
	    (newfd > 2 || atomic_load(&dxp_nfds) == 0))
		return REAL(dup3)(oldfd, newfd, flags);
	dxp_std_flush(newfd);
	return dup_to(oldfd, REAL(dup3)(oldfd, newfd, flags),
		flags & O_CLOEXEC);
}

/* the status flags F_GETFL reports and F_SETFL may change */
#define DXP_GETFL (O_ACCMODE | O_APPEND | O_NONBLOCK | O_SYNC | O_DSYNC | \
	O_DIRECT | O_NOATIME | O_PATH)
#define DXP_SETFL (O_APPEND | O_NONBLOCK | O_NOATIME | O_DIRECT)

/*
 * fcntl_lock -- the record-lock commands.  Without the library's locks,
 * process-associated (POSIX) locks are still answered exactly: only one
 * process uses a pool at a time, and a process's own locks never conflict
 * with each other (F_GETLK reports only other processes' locks).  Open
 * file description locks can conflict inside a process and need the
 * library.
 */
static int
fcntl_lock(struct dxp_ofd *o, daxfile_file *f, int cmd, struct flock *fl)
{
	if (DXP_HAVE(daxfile_fcntl))
		return daxfile_fcntl(f, cmd, fl);
	if (cmd == F_OFD_GETLK || cmd == F_OFD_SETLK || cmd == F_OFD_SETLKW)
		return dxp_lib_missing("daxfile_fcntl");
	if (fl == NULL)
		return errno = EFAULT, -1;
	if ((fl->l_type != F_RDLCK && fl->l_type != F_WRLCK &&
	    fl->l_type != F_UNLCK) || fl->l_whence < SEEK_SET ||
	    fl->l_whence > SEEK_END)
		return errno = EINVAL, -1;
	if (cmd == F_GETLK) {
		fl->l_type = F_UNLCK;
		return 0;
	}
	if ((fl->l_type == F_RDLCK && (o->flags & O_ACCMODE) == O_WRONLY) ||
	    (fl->l_type == F_WRLCK && (o->flags & O_ACCMODE) == O_RDONLY))
		return errno = EBADF, -1;
	return 0;
}

/* fcntl_pool -- fcntl(2) on a pool descriptor. */
static int
fcntl_pool(int fd, struct dxp_ofd *o, int cmd, void *arg)
{
	daxfile_file *f;
	int fl;

	switch (cmd) {
	case F_DUPFD:
	case F_DUPFD_CLOEXEC: {
		int nfd = REAL(fcntl64)(fd, cmd, (long)arg);

		if (nfd < 0)
			return (int)dxp_oret(o, -1);
		dxp_fd_install(nfd, o, cmd == F_DUPFD_CLOEXEC);
		return nfd;
	}
	case F_GETFD:
		fl = REAL(fcntl64)(fd, F_GETFD);
		break;
	case F_SETFD:
		fl = REAL(fcntl64)(fd, F_SETFD, (long)arg);
		if (fl == 0)
			dxp_fd_set_cloexec(fd, (long)arg & FD_CLOEXEC);
		break;
	case F_GETFL:
		fl = (o->flags & DXP_GETFL) | 0100000;
		break;
	case F_SETFL:
		f = dxp_ofd_file(o);
		if (f == NULL) {
			fl = -1;
			break;
		}
		if (((long)arg ^ o->flags) & O_APPEND) {
			if (!DXP_HAVE(daxfile_fcntl)) {
				fl = dxp_lib_missing("daxfile_fcntl");
				break;
			}
			if (daxfile_fcntl(f, F_SETFL, (int)(long)arg & DXP_SETFL) != 0) {
				fl = -1;
				break;
			}
		}
		o->flags = (o->flags & ~DXP_SETFL) | ((int)(long)arg & DXP_SETFL);
		fl = 0;
		break;
	case F_GETLK:
	case F_SETLK:
	case F_SETLKW:
	case F_OFD_GETLK:
	case F_OFD_SETLK:
	case F_OFD_SETLKW:
		f = dxp_ofd_file(o);
		fl = f == NULL ? -1 : fcntl_lock(o, f, cmd, arg);
		dxp_mount_locks_sync(o->m);
		break;
	case F_GET_SEALS:
	case F_ADD_SEALS:
		errno = EINVAL;
		fl = -1;
		break;
	case F_GETLEASE:
		fl = F_UNLCK;
		break;
	case F_SETLEASE:
		/* no lease can be broken: a pool tells nobody of an open */
		fl = (long)arg == F_UNLCK ? 0 : (errno = ENOTSUP, -1);
		break;
	case F_NOTIFY:
		/* nothing to notify of (notify.c) */
		errno = ENOTSUP;
		fl = -1;
		break;
	default:
		errno = EINVAL;
		fl = -1;
	}
	return (int)dxp_oret(o, fl);
}

DXP_EXPORT int
fcntl(int fd, int cmd, ...)
{
	struct dxp_ofd *o;
	va_list ap;
	void *arg;

	va_start(ap, cmd);
	arg = va_arg(ap, void *);
	va_end(ap);
	o = dxp_fd_get(fd);
	if (o == NULL)
		return REAL(fcntl64)(fd, cmd, arg);
	return fcntl_pool(fd, o, cmd, arg);
}

DXP_EXPORT int
fcntl64(int fd, int cmd, ...)
{
	struct dxp_ofd *o;
	va_list ap;
	void *arg;

	va_start(ap, cmd);
	arg = va_arg(ap, void *);
	va_end(ap);
	o = dxp_fd_get(fd);
	if (o == NULL)
		return REAL(fcntl64)(fd, cmd, arg);
	return fcntl_pool(fd, o, cmd, arg);
}

DXP_EXPORT int
flock(int fd, int op)
{
	struct dxp_ofd *o = dxp_fd_get(fd);
	daxfile_file *f;
	int r;

	if (o == NULL)
		return REAL(flock)(fd, op);
	f = dxp_ofd_file(o);
	if (f == NULL)
		return (int)dxp_oret(o, -1);
	if (!DXP_HAVE(daxfile_flock))
		return (int)dxp_oret(o, dxp_lib_missing("daxfile_flock"));
	r = daxfile_flock(f, op);
	dxp_mount_locks_sync(o->m);
	return (int)dxp_oret(o, r);
}

/*
 * lockf -- the C library's lockf calls its fcntl inside itself: on a pool
 * descriptor it is the layer's fcntl here, with the C library's mapping
 * of the commands onto record locks from the current offset.
 */
DXP_EXPORT int
lockf64(int fd, int cmd, off64_t len)
{
	struct flock fl = {.l_whence = SEEK_CUR, .l_start = 0, .l_len = len};

	if (!dxp_fd_is_pool(fd))
		return REAL(lockf64)(fd, cmd, len);
	switch (cmd) {
	case F_TEST:
		fl.l_type = F_RDLCK;
		if (fcntl(fd, F_GETLK, &fl) < 0)
			return -1;
		if (fl.l_type == F_UNLCK || fl.l_pid == getpid())
			return 0;
		errno = EACCES;
		return -1;
	case F_ULOCK:
		fl.l_type = F_UNLCK;
		return fcntl(fd, F_SETLK, &fl);
	case F_LOCK:
		fl.l_type = F_WRLCK;
		return fcntl(fd, F_SETLKW, &fl);
	case F_TLOCK:
		fl.l_type = F_WRLCK;
		return fcntl(fd, F_SETLK, &fl);
	}
	errno = EINVAL;
	return -1;
}

DXP_EXPORT int
lockf(int fd, int cmd, off_t len)
{
	return lockf64(fd, cmd, len);
}

/* ioctl_pool -- the requests a DAX file answers; others ENOTTY. */
static int
ioctl_pool(struct dxp_ofd *o, unsigned long req, void *arg)
{
	daxfile_file *f = dxp_ofd_file(o);
	struct stat st;
	off_t pos;

	if (f == NULL)
		return -1;
	switch (req) {
	case FIONREAD:
		if (daxfile_fstat(f, &st) != 0)
			return -1;
		if (S_ISDIR(st.st_mode))
			return errno = ENOTTY, -1;
		pos = daxfile_lseek(f, 0, SEEK_CUR);
		*(int *)arg = st.st_size > pos ? (int)(st.st_size - pos) : 0;
		return 0;
	case FS_IOC_GETFLAGS:
		*(int *)arg = FS_DAX_FL;
		return 0;
	case FIGETBSZ:
		*(int *)arg = 4096;
		return 0;
	case FICLONE:
	case FICLONERANGE:
	case FIDEDUPERANGE:
	case FS_IOC_SETFLAGS:
	case FS_IOC_FIEMAP:
		return errno = EOPNOTSUPP, -1;
	default:
		return errno = ENOTTY, -1;
	}
}

DXP_EXPORT int
ioctl(int fd, unsigned long req, ...)
{
	struct dxp_ofd *o;
	va_list ap;
	void *arg;

	va_start(ap, req);
	arg = va_arg(ap, void *);
	va_end(ap);
	o = dxp_fd_get(fd);
	if (o == NULL)
		return REAL(ioctl)(fd, req, arg);
	return (int)dxp_oret(o, ioctl_pool(o, req, arg));
}
