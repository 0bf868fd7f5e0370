/*
 * lib.h -- the library calls the layer forwards to.  libdaxfile.so is
 * loaded at the first use of a pool, not with the layer: a program that
 * never touches a mount point does not load it (nor libpmemobj and what it
 * pulls in, which cost 10 ms at every start here).  A function the
 * loaded library lacks (an older libdaxfile) makes its calls fail with
 * ENOSYS (dxp_lib_missing); none pretends to work.
 */
#ifndef DXP_LIB_H
#define DXP_LIB_H 1

#include <fcntl.h>
#include <stdarg.h>

#include <daxfile.h>

/*
 * The library build the layer loads (Makefile: libdaxfile-preload-core) is
 * the installed one, DX_PRELOAD_CORE_PATH of config.h (so that configuring
 * another prefix rebuilds what names it); DAXFILE_PRELOAD_CORE names
 * another (the build tree's, in the tests).
 */

#define DXP_LIB_LIST(X) \
	X(daxfile_close) X(daxfile_closedir) X(daxfile_copy_file_range) \
	X(daxfile_errormsg) X(daxfile_faccessat) X(daxfile_fallocate) \
	X(daxfile_fchdir) X(daxfile_getcwd) \
	X(daxfile_fchmod) X(daxfile_fchmodat) X(daxfile_fchown) \
	X(daxfile_fchownat) X(daxfile_fcntl) X(daxfile_fdatasync) \
	X(daxfile_fgetxattr) X(daxfile_flistxattr) X(daxfile_flock) \
	X(daxfile_fremovexattr) X(daxfile_fsetxattr) X(daxfile_fstat) \
	X(daxfile_fstatat) X(daxfile_fsync) X(daxfile_ftruncate) \
	X(daxfile_futimens) X(daxfile_getdents64) X(daxfile_getxattr) \
	X(daxfile_lgetxattr) X(daxfile_linkat) X(daxfile_listxattr) \
	X(daxfile_llistxattr) X(daxfile_lremovexattr) X(daxfile_lseek) \
	X(daxfile_lsetxattr) X(daxfile_lstat) X(daxfile_mkdir) \
	X(daxfile_mkdirat) X(daxfile_mmap) X(daxfile_msync) \
	X(daxfile_munmap) X(daxfile_name_to_handle_at) X(daxfile_open) \
	X(daxfile_open_by_handle) X(daxfile_openat) \
	X(daxfile_opendir) X(daxfile_pool_close) X(daxfile_pool_forget) \
	X(daxfile_pool_locks_held) X(daxfile_pool_open) \
	X(daxfile_pool_set_mountpoint) X(daxfile_pread) X(daxfile_preadv) \
	X(daxfile_pwrite) X(daxfile_pwritev) X(daxfile_read) \
	X(daxfile_readdir) X(daxfile_readlink) X(daxfile_readlinkat) \
	X(daxfile_removexattr) X(daxfile_rename) X(daxfile_renameat2) \
	X(daxfile_rewinddir) X(daxfile_rmdir) X(daxfile_setxattr) \
	X(daxfile_stat) X(daxfile_statvfs) X(daxfile_statx) \
	X(daxfile_symlink) X(daxfile_symlinkat) X(daxfile_syncfs) \
	X(daxfile_truncate) X(daxfile_umask) X(daxfile_unlink) \
	X(daxfile_unlinkat) X(daxfile_utimensat) X(daxfile_write)

#define DXP_LIB_FIELD(name) __typeof__(&name) name;
struct dxp_lib {
	DXP_LIB_LIST(DXP_LIB_FIELD)
};
#undef DXP_LIB_FIELD

extern struct dxp_lib dxp_lib;

/* dxp_lib_load -- load libdaxfile (once); 0, or -1 with ELIBACC. */
int dxp_lib_load(void);

/* DXP_HAVE -- does the loaded library have 'fn'? */
#define DXP_HAVE(fn) (dxp_lib.fn != NULL)

/*
 * DXP_OPEN_MODE -- in a function whose last named parameter is 'flags':
 * the mode argument that follows it with O_CREAT or O_TMPFILE, else 0.
 */
#define DXP_OPEN_MODE(flags, mode) do { \
	(mode) = 0; \
	if (((flags) & O_CREAT) || ((flags) & O_TMPFILE) == O_TMPFILE) { \
		va_list ap_; \
		va_start(ap_, flags); \
		(mode) = va_arg(ap_, mode_t); \
		va_end(ap_); \
	} \
} while (0)

/* dxp_lib_missing -- ENOSYS for a call this libdaxfile.so lacks. */
int dxp_lib_missing(const char *fn);

#endif /* DXP_LIB_H */
