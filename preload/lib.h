/*
 * lib.h -- the library calls the layer forwards to.  Those of the POSIX
 * surface that may be missing from an older libdaxfile.so are weak
 * references: a call whose function is absent fails with ENOSYS and says
 * so (dxp_lib_missing), it never pretends to work.
 */
#ifndef DXP_LIB_H
#define DXP_LIB_H 1

#include <daxfile.h>

#pragma weak daxfile_chdir
#pragma weak daxfile_openat
#pragma weak daxfile_unlinkat
#pragma weak daxfile_renameat2
#pragma weak daxfile_link
#pragma weak daxfile_symlink
#pragma weak daxfile_readlink
#pragma weak daxfile_lstat
#pragma weak daxfile_statx
#pragma weak daxfile_chmod
#pragma weak daxfile_fchmod
#pragma weak daxfile_fchmodat
#pragma weak daxfile_fchownat
#pragma weak daxfile_linkat
#pragma weak daxfile_chown
#pragma weak daxfile_lchown
#pragma weak daxfile_fchown
#pragma weak daxfile_faccessat
#pragma weak daxfile_utimensat
#pragma weak daxfile_futimens
#pragma weak daxfile_truncate
#pragma weak daxfile_umask
#pragma weak daxfile_fcntl
#pragma weak daxfile_flock
#pragma weak daxfile_getdents64
#pragma weak daxfile_copy_file_range
#pragma weak daxfile_getxattr
#pragma weak daxfile_lgetxattr
#pragma weak daxfile_fgetxattr
#pragma weak daxfile_setxattr
#pragma weak daxfile_lsetxattr
#pragma weak daxfile_fsetxattr
#pragma weak daxfile_listxattr
#pragma weak daxfile_llistxattr
#pragma weak daxfile_flistxattr
#pragma weak daxfile_removexattr
#pragma weak daxfile_lremovexattr
#pragma weak daxfile_fremovexattr
#pragma weak daxfile_syncfs

/* DXP_HAVE -- is the library's 'fn' present? */
#define DXP_HAVE(fn) (&(fn) != NULL)

/* dxp_lib_missing -- ENOSYS for a call this libdaxfile.so lacks. */
int dxp_lib_missing(const char *fn);

#endif /* DXP_LIB_H */
