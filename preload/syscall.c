/*
 * syscall.c -- file system calls by number (syscall.h) and syscall(2)
 * itself: a program that calls syscall(SYS_openat, ...) on a pool path is
 * served like one that calls openat().  Every call of the layer's families
 * maps to its entry point; anything else goes to the kernel.
 */
#define _GNU_SOURCE 1
#include <fcntl.h>
#include <linux/openat2.h>
#include <poll.h>
#include <sched.h>
#include <stdarg.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/fanotify.h>
#include <sys/file.h>
#include <sys/select.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "entry.h"
#include "syscall.h"
#include "hidefd.h"

#define P(i) ((void *)a[i])
#define S(i) ((const char *)a[i])
#define I(i) ((int)a[i])

/* raw_getcwd -- getcwd(2): the length with the NUL, not the buffer. */
static long
raw_getcwd(char *buf, size_t size)
{
	if (getcwd(buf, size) == NULL)
		return -1;
	return (long)strlen(buf) + 1;
}

/* raw_openat2 -- openat2(2): the layer serves its flags and mode. */
static long
raw_openat2(int dirfd, const char *path, const struct open_how *how,
	size_t size)
{
	struct dxp_where w;
	long fd;

	if (dxp_resolve_at(dirfd, path, &w, 0) != 0)
		return -1;
	if (w.m == NULL)
		return REAL(syscall)(SYS_openat2, dirfd, path, how, size);
	if (size < sizeof(*how) || how->resolve != 0) {
		dxp_where_put(&w);
		return errno = EINVAL, -1;
	}
	fd = dxp_open_pool_at(w.m, w.dirf, w.path, w.norm, (int)how->flags,
		(mode_t)how->mode);
	dxp_where_put(&w);
	return fd;
}

bool
dxp_syscall_serve(long nr, const long a[6], long *ret)
{
	long r;

	switch (nr) {
	case SYS_open: r = open(S(0), I(1), (mode_t)a[2]); break;
	case SYS_openat: r = openat(I(0), S(1), I(2), (mode_t)a[3]); break;
	case SYS_openat2: r = raw_openat2(I(0), S(1), P(2), (size_t)a[3]); break;
	case SYS_creat: r = creat(S(0), (mode_t)a[1]); break;
	case SYS_close: r = close(I(0)); break;
	case SYS_close_range: r = close_range((unsigned)a[0], (unsigned)a[1], I(2)); break;
	case SYS_read: r = read(I(0), P(1), (size_t)a[2]); break;
	case SYS_write: r = write(I(0), P(1), (size_t)a[2]); break;
	case SYS_pread64: r = pread(I(0), P(1), (size_t)a[2], a[3]); break;
	case SYS_pwrite64: r = pwrite(I(0), P(1), (size_t)a[2], a[3]); break;
	case SYS_readv: r = readv(I(0), P(1), I(2)); break;
	case SYS_writev: r = writev(I(0), P(1), I(2)); break;
	case SYS_preadv: r = preadv(I(0), P(1), I(2), a[3]); break;
	case SYS_pwritev: r = pwritev(I(0), P(1), I(2), a[3]); break;
	case SYS_preadv2: r = preadv2(I(0), P(1), I(2), a[3], I(5)); break;
	case SYS_pwritev2: r = pwritev2(I(0), P(1), I(2), a[3], I(5)); break;
	case SYS_lseek: r = lseek(I(0), a[1], I(2)); break;
	case SYS_fstat: r = fstat(I(0), P(1)); break;
	case SYS_stat: r = stat(S(0), P(1)); break;
	case SYS_lstat: r = lstat(S(0), P(1)); break;
	case SYS_newfstatat: r = fstatat(I(0), S(1), P(2), I(3)); break;
	case SYS_statx: r = statx(I(0), S(1), I(2), (unsigned)a[3], P(4)); break;
	case SYS_access: r = access(S(0), I(1)); break;
	case SYS_faccessat: r = faccessat(I(0), S(1), I(2), 0); break;
	case SYS_faccessat2: r = faccessat(I(0), S(1), I(2), I(3)); break;
	case SYS_truncate: r = truncate(S(0), a[1]); break;
	case SYS_ftruncate: r = ftruncate(I(0), a[1]); break;
	case SYS_fallocate: r = fallocate(I(0), I(1), a[2], a[3]); break;
	case SYS_fsync: r = fsync(I(0)); break;
	case SYS_fdatasync: r = fdatasync(I(0)); break;
	case SYS_syncfs: r = syncfs(I(0)); break;
	case SYS_sync_file_range:
		r = sync_file_range(I(0), a[1], a[2], (unsigned)a[3]);
		break;
	case SYS_fadvise64:
		r = posix_fadvise(I(0), a[1], a[2], I(3));
		if (r != 0) {
			errno = (int)r;
			r = -1;
		}
		break;
	case SYS_readahead: r = readahead(I(0), a[1], (size_t)a[2]); break;
	case SYS_unlink: r = unlink(S(0)); break;
	case SYS_unlinkat: r = unlinkat(I(0), S(1), I(2)); break;
	case SYS_rmdir: r = rmdir(S(0)); break;
	case SYS_mkdir: r = mkdir(S(0), (mode_t)a[1]); break;
	case SYS_mkdirat: r = mkdirat(I(0), S(1), (mode_t)a[2]); break;
	case SYS_mknod: r = mknod(S(0), (mode_t)a[1], (dev_t)a[2]); break;
	case SYS_mknodat: r = mknodat(I(0), S(1), (mode_t)a[2], (dev_t)a[3]); break;
	case SYS_rename: r = rename(S(0), S(1)); break;
	case SYS_renameat: r = renameat(I(0), S(1), I(2), S(3)); break;
	case SYS_renameat2:
		r = renameat2(I(0), S(1), I(2), S(3), (unsigned)a[4]);
		break;
	case SYS_link: r = link(S(0), S(1)); break;
	case SYS_linkat: r = linkat(I(0), S(1), I(2), S(3), I(4)); break;
	case SYS_symlink: r = symlink(S(0), S(1)); break;
	case SYS_symlinkat: r = symlinkat(S(0), I(1), S(2)); break;
	case SYS_readlink: r = readlink(S(0), P(1), (size_t)a[2]); break;
	case SYS_readlinkat: r = readlinkat(I(0), S(1), P(2), (size_t)a[3]); break;
	case SYS_chmod: r = chmod(S(0), (mode_t)a[1]); break;
	case SYS_fchmod: r = fchmod(I(0), (mode_t)a[1]); break;
	case SYS_fchmodat: r = fchmodat(I(0), S(1), (mode_t)a[2], 0); break;
	case SYS_chown: r = chown(S(0), (uid_t)a[1], (gid_t)a[2]); break;
	case SYS_lchown: r = lchown(S(0), (uid_t)a[1], (gid_t)a[2]); break;
	case SYS_fchown: r = fchown(I(0), (uid_t)a[1], (gid_t)a[2]); break;
	case SYS_fchownat:
		r = fchownat(I(0), S(1), (uid_t)a[2], (gid_t)a[3], I(4));
		break;
	case SYS_utimensat: r = utimensat(I(0), S(1), P(2), I(3)); break;
	case SYS_chdir: r = chdir(S(0)); break;
	case SYS_fchdir: r = fchdir(I(0)); break;
	case SYS_getcwd: r = raw_getcwd(P(0), (size_t)a[1]); break;
	case SYS_getdents64: r = getdents64(I(0), P(1), (size_t)a[2]); break;
	case SYS_dup: r = dup(I(0)); break;
	case SYS_dup2: r = dup2(I(0), I(1)); break;
	case SYS_dup3: r = dup3(I(0), I(1), I(2)); break;
	case SYS_fcntl: r = fcntl(I(0), I(1), a[2]); break;
	case SYS_flock: r = flock(I(0), I(1)); break;
	case SYS_ioctl: r = ioctl(I(0), (unsigned long)a[1], a[2]); break;
	case SYS_getxattr: r = getxattr(S(0), S(1), P(2), (size_t)a[3]); break;
	case SYS_lgetxattr: r = lgetxattr(S(0), S(1), P(2), (size_t)a[3]); break;
	case SYS_fgetxattr: r = fgetxattr(I(0), S(1), P(2), (size_t)a[3]); break;
	case SYS_setxattr:
		r = setxattr(S(0), S(1), P(2), (size_t)a[3], I(4));
		break;
	case SYS_lsetxattr:
		r = lsetxattr(S(0), S(1), P(2), (size_t)a[3], I(4));
		break;
	case SYS_fsetxattr:
		r = fsetxattr(I(0), S(1), P(2), (size_t)a[3], I(4));
		break;
	case SYS_listxattr: r = listxattr(S(0), P(1), (size_t)a[2]); break;
	case SYS_llistxattr: r = llistxattr(S(0), P(1), (size_t)a[2]); break;
	case SYS_flistxattr: r = flistxattr(I(0), P(1), (size_t)a[2]); break;
	case SYS_removexattr: r = removexattr(S(0), S(1)); break;
	case SYS_lremovexattr: r = lremovexattr(S(0), S(1)); break;
	case SYS_fremovexattr: r = fremovexattr(I(0), S(1)); break;
	case SYS_copy_file_range:
		r = copy_file_range(I(0), P(1), I(2), P(3), (size_t)a[4],
			(unsigned)a[5]);
		break;
	case SYS_sendfile: r = sendfile(I(0), I(1), P(2), (size_t)a[3]); break;
	case SYS_splice:
		r = splice(I(0), P(1), I(2), P(3), (size_t)a[4], (unsigned)a[5]);
		break;
	case SYS_mmap:
		r = (long)mmap(P(0), (size_t)a[1], I(2), I(3), I(4), a[5]);
		break;
	case SYS_munmap: r = munmap(P(0), (size_t)a[1]); break;
	case SYS_msync: r = msync(P(0), (size_t)a[1], I(2)); break;
	case SYS_mprotect: r = mprotect(P(0), (size_t)a[1], I(2)); break;
	case SYS_madvise: r = madvise(P(0), (size_t)a[1], I(2)); break;
	case SYS_mremap:
		r = (long)mremap(P(0), (size_t)a[1], (size_t)a[2], I(3), P(4));
		break;
	case SYS_statfs: r = statfs(S(0), P(1)); break;
	case SYS_fstatfs: r = fstatfs(I(0), P(1)); break;
	case SYS_execve: r = execve(S(0), P(1), P(2)); break;
	case SYS_execveat: r = execveat(I(0), S(1), P(2), P(3), I(4)); break;
	case SYS_umask: r = umask((mode_t)a[0]); break;
	case SYS_poll: r = poll(P(0), (nfds_t)a[1], I(2)); break;
	case SYS_ppoll: r = ppoll(P(0), (nfds_t)a[1], P(2), P(3)); break;
	case SYS_select: r = select(I(0), P(1), P(2), P(3), P(4)); break;
	case SYS_pselect6: {
		const struct { const sigset_t *ss; size_t len; } *m = P(5);

		r = pselect(I(0), P(1), P(2), P(3), P(4), m != NULL ? m->ss : NULL);
		break;
	}
	case SYS_epoll_ctl: r = epoll_ctl(I(0), I(1), I(2), P(3)); break;
	case SYS_inotify_add_watch:
		r = inotify_add_watch(I(0), S(1), (uint32_t)a[2]);
		break;
	case SYS_fanotify_mark:
		r = fanotify_mark(I(0), (unsigned)a[1], (uint64_t)a[2], I(3), S(4));
		break;
	default:
		return false;
	}
	*ret = r;
	return true;
}

DXP_EXPORT long
syscall(long nr, ...)
{
	long a[6], r;
	va_list ap;

	va_start(ap, nr);
	for (int i = 0; i < 6; i++)
		a[i] = va_arg(ap, long);
	va_end(ap);
	if (dxp_nmounts != 0 && dxp_syscall_serve(nr, a, &r))
		return r;
	r = REAL(syscall)(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
	if (nr == SYS_userfaultfd && dxp_from_lib(__builtin_return_address(0)))
		r = dxp_fd_hide((int)r);
	return r;
}

DXP_EXPORT int
memfd_create(const char *name, unsigned flags)
{
	int fd = (int)REAL(syscall)(SYS_memfd_create, name, flags);

	if (dxp_from_lib(__builtin_return_address(0)))
		fd = dxp_fd_hide(fd);
	return fd;
}
