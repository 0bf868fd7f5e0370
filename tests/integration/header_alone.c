/*
 * header_alone.c -- the public header compiles on its own, with no other
 * include before it, and names every call of the API.
 */
#include "daxfile.h"

int
main(void)
{
	void *calls[] = {
		(void *)daxfile_pool_create, (void *)daxfile_pool_open,
		(void *)daxfile_pool_close, (void *)daxfile_pool_check,
		(void *)daxfile_statvfs, (void *)daxfile_open,
		(void *)daxfile_close, (void *)daxfile_mkdir,
		(void *)daxfile_rmdir, (void *)daxfile_unlink,
		(void *)daxfile_rename, (void *)daxfile_stat,
		(void *)daxfile_fstat, (void *)daxfile_opendir,
		(void *)daxfile_readdir, (void *)daxfile_closedir,
		(void *)daxfile_errormsg, (void *)daxfile_read,
		(void *)daxfile_write, (void *)daxfile_pread,
		(void *)daxfile_pwrite, (void *)daxfile_preadv,
		(void *)daxfile_pwritev, (void *)daxfile_lseek,
		(void *)daxfile_ftruncate, (void *)daxfile_fallocate,
		(void *)daxfile_fsync, (void *)daxfile_fdatasync,
		(void *)daxfile_mmap, (void *)daxfile_munmap,
		(void *)daxfile_msync, (void *)daxfile_chmod,
		(void *)daxfile_fchmod, (void *)daxfile_fchmodat,
		(void *)daxfile_chown, (void *)daxfile_lchown,
		(void *)daxfile_fchown, (void *)daxfile_fchownat,
		(void *)daxfile_access, (void *)daxfile_faccessat,
		(void *)daxfile_utimensat, (void *)daxfile_futimens,
		(void *)daxfile_truncate, (void *)daxfile_umask,
		(void *)daxfile_statx, (void *)daxfile_lstat,
		(void *)daxfile_fstatat,
		(void *)daxfile_fcntl, (void *)daxfile_flock,
		(void *)daxfile_fdopendir, (void *)daxfile_dirfile,
		(void *)daxfile_rewinddir, (void *)daxfile_telldir,
		(void *)daxfile_seekdir, (void *)daxfile_getdents64,
		(void *)daxfile_copy_file_range,
		(void *)daxfile_getxattr, (void *)daxfile_lgetxattr,
		(void *)daxfile_fgetxattr, (void *)daxfile_setxattr,
		(void *)daxfile_lsetxattr, (void *)daxfile_fsetxattr,
		(void *)daxfile_listxattr, (void *)daxfile_llistxattr,
		(void *)daxfile_flistxattr, (void *)daxfile_removexattr,
		(void *)daxfile_lremovexattr, (void *)daxfile_fremovexattr,
		(void *)daxfile_syncfs,
		(void *)daxfile_chdir,
		(void *)daxfile_fchdir, (void *)daxfile_getcwd,
		(void *)daxfile_openat, (void *)daxfile_mkdirat,
		(void *)daxfile_unlinkat, (void *)daxfile_renameat2,
		(void *)daxfile_link, (void *)daxfile_linkat,
		(void *)daxfile_symlink, (void *)daxfile_symlinkat,
		(void *)daxfile_readlink, (void *)daxfile_readlinkat,
	};

	for (unsigned i = 0; i < sizeof(calls) / sizeof(calls[0]); i++)
		if (calls[i] == 0)
			return 1;
	return 0;
}
