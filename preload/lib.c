/*
 * lib.c -- libdaxfile, loaded at the first use of a pool (lib.h).  The
 * layer's calls to the library go through the functions below, which the
 * layer's own code binds to (they are hidden: the library's exported
 * names stay the library's).
 */
#define _GNU_SOURCE 1
#include "config.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "fdtable.h"
#include "lib.h"

struct dxp_lib dxp_lib;
static pthread_once_t lib_once = PTHREAD_ONCE_INIT;
static void *lib_handle;

static void
lib_load(void)
{
	const char *path = getenv("DAXFILE_PRELOAD_CORE");
	struct dxp_lib l;

	if (path == NULL)
		path = DX_PRELOAD_CORE_PATH;
	lib_handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (lib_handle == NULL) {
		if (!dxp_fd_is_pool(2))
			dprintf(2, "libdaxfile-preload: cannot load %s: %s\n",
				path, dlerror());
		return;
	}
#define DXP_LIB_LOOKUP(name) \
	l.name = (__typeof__(&name))dlsym(lib_handle, #name);
	DXP_LIB_LIST(DXP_LIB_LOOKUP)
#undef DXP_LIB_LOOKUP
	dxp_lib = l;
}

int
dxp_lib_load(void)
{
	pthread_once(&lib_once, lib_load);
	if (dxp_lib.daxfile_pool_open == NULL)
		return errno = ELIBACC, -1;
	return 0;
}

daxfile_file *
daxfile_open(daxfile_pool *pool, const char *path, int flags, ...)
{
	mode_t mode;

	DXP_OPEN_MODE(flags, mode);
	return dxp_lib.daxfile_open(pool, path, flags, mode);
}

daxfile_file *
daxfile_openat(daxfile_pool *pool, daxfile_file *dir, const char *path,
	int flags, ...)
{
	mode_t mode;

	DXP_OPEN_MODE(flags, mode);
	return dxp_lib.daxfile_openat(pool, dir, path, flags, mode);
}

int
daxfile_fcntl(daxfile_file *file, int cmd, ...)
{
	va_list ap;
	void *arg;

	va_start(ap, cmd);
	arg = va_arg(ap, void *);
	va_end(ap);
	return dxp_lib.daxfile_fcntl(file, cmd, arg);
}

int
daxfile_close(daxfile_file *file)
{
	return dxp_lib.daxfile_close(file);
}

int
daxfile_closedir(daxfile_dir *dir)
{
	return dxp_lib.daxfile_closedir(dir);
}

ssize_t
daxfile_copy_file_range(daxfile_file *in, off_t *off_in, daxfile_file *out,
	off_t *off_out, size_t len, unsigned flags)
{
	return dxp_lib.daxfile_copy_file_range(in, off_in, out, off_out, len, flags);
}

const char *
daxfile_errormsg(void)
{
	return dxp_lib.daxfile_errormsg();
}

int
daxfile_faccessat(daxfile_pool *pool, daxfile_file *dir, const char *path,
	int mode, int flags)
{
	return dxp_lib.daxfile_faccessat(pool, dir, path, mode, flags);
}

int
daxfile_fchdir(daxfile_file *dir)
{
	return dxp_lib.daxfile_fchdir(dir);
}

char *
daxfile_getcwd(daxfile_pool *pool, char *buf, size_t size)
{
	return dxp_lib.daxfile_getcwd(pool, buf, size);
}

int
daxfile_name_to_handle_at(daxfile_pool *pool, daxfile_file *dir,
	const char *path, struct daxfile_handle *handle, int flags)
{
	return dxp_lib.daxfile_name_to_handle_at(pool, dir, path, handle, flags);
}

daxfile_file *
daxfile_open_by_handle(daxfile_pool *pool, const struct daxfile_handle *handle,
	int flags)
{
	return dxp_lib.daxfile_open_by_handle(pool, handle, flags);
}

int
daxfile_fallocate(daxfile_file *file, int mode, off_t offset, off_t len)
{
	return dxp_lib.daxfile_fallocate(file, mode, offset, len);
}

int
daxfile_fchmod(daxfile_file *file, mode_t mode)
{
	return dxp_lib.daxfile_fchmod(file, mode);
}

int
daxfile_fchmodat(daxfile_pool *pool, daxfile_file *dir, const char *path,
	mode_t mode, int flags)
{
	return dxp_lib.daxfile_fchmodat(pool, dir, path, mode, flags);
}

int
daxfile_fchown(daxfile_file *file, uid_t owner, gid_t group)
{
	return dxp_lib.daxfile_fchown(file, owner, group);
}

int
daxfile_fchownat(daxfile_pool *pool, daxfile_file *dir, const char *path,
	uid_t owner, gid_t group, int flags)
{
	return dxp_lib.daxfile_fchownat(pool, dir, path, owner, group, flags);
}

int
daxfile_fdatasync(daxfile_file *file)
{
	return dxp_lib.daxfile_fdatasync(file);
}

ssize_t
daxfile_fgetxattr(daxfile_file *file, const char *name, void *value,
	size_t size)
{
	return dxp_lib.daxfile_fgetxattr(file, name, value, size);
}

ssize_t
daxfile_flistxattr(daxfile_file *file, char *list, size_t size)
{
	return dxp_lib.daxfile_flistxattr(file, list, size);
}

int
daxfile_flock(daxfile_file *file, int operation)
{
	return dxp_lib.daxfile_flock(file, operation);
}

int
daxfile_pool_locks_held(daxfile_pool *pool)
{
	return dxp_lib.daxfile_pool_locks_held(pool);
}

int
daxfile_fremovexattr(daxfile_file *file, const char *name)
{
	return dxp_lib.daxfile_fremovexattr(file, name);
}

int
daxfile_fsetxattr(daxfile_file *file, const char *name, const void *value,
	size_t size, int flags)
{
	return dxp_lib.daxfile_fsetxattr(file, name, value, size, flags);
}

int
daxfile_fstat(daxfile_file *file, struct stat *st)
{
	return dxp_lib.daxfile_fstat(file, st);
}

int
daxfile_fstatat(daxfile_pool *pool, daxfile_file *dir, const char *path,
	struct stat *st, int flags)
{
	return dxp_lib.daxfile_fstatat(pool, dir, path, st, flags);
}

int
daxfile_fsync(daxfile_file *file)
{
	return dxp_lib.daxfile_fsync(file);
}

int
daxfile_ftruncate(daxfile_file *file, off_t length)
{
	return dxp_lib.daxfile_ftruncate(file, length);
}

int
daxfile_futimens(daxfile_file *file, const struct timespec times[2])
{
	return dxp_lib.daxfile_futimens(file, times);
}

ssize_t
daxfile_getdents64(daxfile_file *dir, void *buf, size_t size)
{
	return dxp_lib.daxfile_getdents64(dir, buf, size);
}

ssize_t
daxfile_getxattr(daxfile_pool *pool, const char *path, const char *name,
	void *value, size_t size)
{
	return dxp_lib.daxfile_getxattr(pool, path, name, value, size);
}

ssize_t
daxfile_lgetxattr(daxfile_pool *pool, const char *path, const char *name,
	void *value, size_t size)
{
	return dxp_lib.daxfile_lgetxattr(pool, path, name, value, size);
}

int
daxfile_linkat(daxfile_pool *pool, daxfile_file *olddir, const char *oldpath,
	daxfile_file *newdir, const char *newpath, int flags)
{
	return dxp_lib.daxfile_linkat(pool, olddir, oldpath, newdir, newpath, flags);
}

ssize_t
daxfile_listxattr(daxfile_pool *pool, const char *path, char *list, size_t size)
{
	return dxp_lib.daxfile_listxattr(pool, path, list, size);
}

ssize_t
daxfile_llistxattr(daxfile_pool *pool, const char *path, char *list,
	size_t size)
{
	return dxp_lib.daxfile_llistxattr(pool, path, list, size);
}

int
daxfile_lremovexattr(daxfile_pool *pool, const char *path, const char *name)
{
	return dxp_lib.daxfile_lremovexattr(pool, path, name);
}

off_t
daxfile_lseek(daxfile_file *file, off_t offset, int whence)
{
	return dxp_lib.daxfile_lseek(file, offset, whence);
}

int
daxfile_lsetxattr(daxfile_pool *pool, const char *path, const char *name,
	const void *value, size_t size, int flags)
{
	return dxp_lib.daxfile_lsetxattr(pool, path, name, value, size, flags);
}

int
daxfile_lstat(daxfile_pool *pool, const char *path, struct stat *st)
{
	return dxp_lib.daxfile_lstat(pool, path, st);
}

int
daxfile_mkdir(daxfile_pool *pool, const char *path, mode_t mode)
{
	return dxp_lib.daxfile_mkdir(pool, path, mode);
}

int
daxfile_mkdirat(daxfile_pool *pool, daxfile_file *dir, const char *path,
	mode_t mode)
{
	return dxp_lib.daxfile_mkdirat(pool, dir, path, mode);
}

void *
daxfile_mmap(void *addr, size_t length, int prot, int flags,
	daxfile_file *file, off_t offset)
{
	return dxp_lib.daxfile_mmap(addr, length, prot, flags, file, offset);
}

int
daxfile_msync(void *addr, size_t length, int flags)
{
	return dxp_lib.daxfile_msync(addr, length, flags);
}

int
daxfile_munmap(void *addr, size_t length)
{
	return dxp_lib.daxfile_munmap(addr, length);
}

daxfile_dir *
daxfile_opendir(daxfile_pool *pool, const char *path)
{
	return dxp_lib.daxfile_opendir(pool, path);
}

int
daxfile_pool_close(daxfile_pool *pool)
{
	return dxp_lib.daxfile_pool_close(pool);
}

int
daxfile_pool_forget(daxfile_pool *pool)
{
	return dxp_lib.daxfile_pool_forget(pool);
}

int
daxfile_pool_set_mountpoint(daxfile_pool *pool, const char *path)
{
	if (!DXP_HAVE(daxfile_pool_set_mountpoint))
		return dxp_lib_missing("daxfile_pool_set_mountpoint");
	return dxp_lib.daxfile_pool_set_mountpoint(pool, path);
}

daxfile_pool *
daxfile_pool_open(const char *path)
{
	return dxp_lib.daxfile_pool_open(path);
}

ssize_t
daxfile_pread(daxfile_file *file, void *buf, size_t count, off_t offset)
{
	return dxp_lib.daxfile_pread(file, buf, count, offset);
}

ssize_t
daxfile_preadv(daxfile_file *file, const struct iovec *iov, int iovcnt,
	off_t offset)
{
	return dxp_lib.daxfile_preadv(file, iov, iovcnt, offset);
}

ssize_t
daxfile_pwrite(daxfile_file *file, const void *buf, size_t count, off_t offset)
{
	return dxp_lib.daxfile_pwrite(file, buf, count, offset);
}

ssize_t
daxfile_pwritev(daxfile_file *file, const struct iovec *iov, int iovcnt,
	off_t offset)
{
	return dxp_lib.daxfile_pwritev(file, iov, iovcnt, offset);
}

ssize_t
daxfile_read(daxfile_file *file, void *buf, size_t count)
{
	return dxp_lib.daxfile_read(file, buf, count);
}

struct dirent *
daxfile_readdir(daxfile_dir *dir)
{
	return dxp_lib.daxfile_readdir(dir);
}

ssize_t
daxfile_readlink(daxfile_pool *pool, const char *path, char *buf, size_t size)
{
	return dxp_lib.daxfile_readlink(pool, path, buf, size);
}

ssize_t
daxfile_readlinkat(daxfile_pool *pool, daxfile_file *dir, const char *path,
	char *buf, size_t size)
{
	return dxp_lib.daxfile_readlinkat(pool, dir, path, buf, size);
}

int
daxfile_removexattr(daxfile_pool *pool, const char *path, const char *name)
{
	return dxp_lib.daxfile_removexattr(pool, path, name);
}

int
daxfile_rename(daxfile_pool *pool, const char *from, const char *to)
{
	return dxp_lib.daxfile_rename(pool, from, to);
}

int
daxfile_renameat2(daxfile_pool *pool, daxfile_file *olddir,
	const char *oldpath, daxfile_file *newdir, const char *newpath,
	unsigned flags)
{
	return dxp_lib.daxfile_renameat2(pool, olddir, oldpath, newdir,
		newpath, flags);
}

void
daxfile_rewinddir(daxfile_dir *d)
{
	dxp_lib.daxfile_rewinddir(d);
}

int
daxfile_rmdir(daxfile_pool *pool, const char *path)
{
	return dxp_lib.daxfile_rmdir(pool, path);
}

int
daxfile_setxattr(daxfile_pool *pool, const char *path, const char *name,
	const void *value, size_t size, int flags)
{
	return dxp_lib.daxfile_setxattr(pool, path, name, value, size, flags);
}

int
daxfile_stat(daxfile_pool *pool, const char *path, struct stat *st)
{
	return dxp_lib.daxfile_stat(pool, path, st);
}

int
daxfile_statvfs(daxfile_pool *pool, struct statvfs *buf)
{
	return dxp_lib.daxfile_statvfs(pool, buf);
}

int
daxfile_statx(daxfile_pool *pool, daxfile_file *dir, const char *path,
	int flags, unsigned mask, struct statx *stx)
{
	return dxp_lib.daxfile_statx(pool, dir, path, flags, mask, stx);
}

int
daxfile_symlink(daxfile_pool *pool, const char *target, const char *linkpath)
{
	return dxp_lib.daxfile_symlink(pool, target, linkpath);
}

int
daxfile_symlinkat(daxfile_pool *pool, const char *target, daxfile_file *dir,
	const char *linkpath)
{
	return dxp_lib.daxfile_symlinkat(pool, target, dir, linkpath);
}

int
daxfile_syncfs(daxfile_pool *pool)
{
	return dxp_lib.daxfile_syncfs(pool);
}

int
daxfile_truncate(daxfile_pool *pool, const char *path, off_t length)
{
	return dxp_lib.daxfile_truncate(pool, path, length);
}

mode_t
daxfile_umask(daxfile_pool *pool, mode_t mask)
{
	return dxp_lib.daxfile_umask(pool, mask);
}

int
daxfile_unlink(daxfile_pool *pool, const char *path)
{
	return dxp_lib.daxfile_unlink(pool, path);
}

int
daxfile_unlinkat(daxfile_pool *pool, daxfile_file *dir, const char *path,
	int flags)
{
	return dxp_lib.daxfile_unlinkat(pool, dir, path, flags);
}

int
daxfile_utimensat(daxfile_pool *pool, daxfile_file *dir, const char *path,
	const struct timespec times[2], int flags)
{
	return dxp_lib.daxfile_utimensat(pool, dir, path, times, flags);
}

ssize_t
daxfile_write(daxfile_file *file, const void *buf, size_t count)
{
	return dxp_lib.daxfile_write(file, buf, count);
}
