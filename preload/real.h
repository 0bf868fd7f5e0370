/*
 * real.h -- the C library's own definitions of every function the layer
 * interposes, found with dlsym(RTLD_NEXT): what a call that is not about a
 * pool goes on to.
 */
#ifndef DXP_REAL_H
#define DXP_REAL_H 1

#include <aio.h>
#include <dirent.h>
#include <fcntl.h>
#include <fts.h>
#include <ftw.h>
#include <glob.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/epoll.h>
#include <sys/fanotify.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/select.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/xattr.h>
#include <unistd.h>
#include <utime.h>

/* entry points the headers do not declare (fortified and legacy variants) */
int __open_2(const char *path, int flags);
int __open64_2(const char *path, int flags);
int __openat_2(int dirfd, const char *path, int flags);
int __openat64_2(int dirfd, const char *path, int flags);
ssize_t __read_chk(int fd, void *buf, size_t n, size_t buflen);
ssize_t __pread_chk(int fd, void *buf, size_t n, off_t off, size_t buflen);
ssize_t __pread64_chk(int fd, void *buf, size_t n, off64_t off, size_t buflen);
ssize_t __readlink_chk(const char *path, char *buf, size_t n, size_t buflen);
ssize_t __readlinkat_chk(int dirfd, const char *path, char *buf, size_t n,
	size_t buflen);
char *__getcwd_chk(char *buf, size_t size, size_t buflen);
char *__realpath_chk(const char *path, char *resolved, size_t resolvedlen);
int __xstat(int ver, const char *path, struct stat *st);
int __xstat64(int ver, const char *path, struct stat64 *st);
int __lxstat(int ver, const char *path, struct stat *st);
int __lxstat64(int ver, const char *path, struct stat64 *st);
int __fxstat(int ver, int fd, struct stat *st);
int __fxstat64(int ver, int fd, struct stat64 *st);
int __fxstatat(int ver, int dirfd, const char *path, struct stat *st, int flags);
int __fxstatat64(int ver, int dirfd, const char *path, struct stat64 *st,
	int flags);

/* X(name): every interposed function whose C library definition is needed */
#define DXP_REAL_LIST(X) \
	X(open) X(openat) X(close) X(close_range) X(read) X(write) \
	X(pread64) X(pwrite64) X(readv) X(writev) X(preadv64) X(pwritev64) \
	X(preadv64v2) X(pwritev64v2) X(lseek64) X(fstat64) X(stat64) \
	X(lstat64) X(fstatat64) X(statx) X(faccessat) X(access) \
	X(ftruncate64) X(truncate64) X(fallocate64) X(posix_fallocate64) \
	X(fsync) X(fdatasync) X(syncfs) X(sync_file_range) \
	X(posix_fadvise64) X(readahead) X(unlinkat) X(unlink) X(rmdir) \
	X(mkdirat) X(renameat2) X(rename) X(linkat) X(symlinkat) X(readlinkat) \
	X(fchmodat) X(fchmod) X(fchownat) X(fchown) X(utimensat) X(futimens) \
	X(chdir) X(fchdir) X(getcwd) X(realpath) X(opendir) X(fdopendir) \
	X(readdir64) X(readdir) X(closedir) X(dirfd) X(rewinddir) X(telldir) \
	X(seekdir) X(scandirat64) X(getdents64) X(dup) X(dup2) X(dup3) \
	X(fcntl64) X(flock) X(ioctl) X(getxattr) X(lgetxattr) X(fgetxattr) \
	X(setxattr) X(lsetxattr) X(fsetxattr) X(listxattr) X(llistxattr) \
	X(flistxattr) X(removexattr) X(lremovexattr) X(fremovexattr) \
	X(copy_file_range) X(sendfile64) X(splice) X(mmap64) X(munmap) \
	X(msync) X(mprotect) X(mremap) X(madvise) X(statfs64) X(fstatfs64) \
	X(statvfs64) X(fstatvfs64) X(fopen64) X(fdopen) X(freopen64) \
	X(execve) X(posix_spawn) X(posix_spawnp) X(mknodat) X(fpathconf) \
	X(pathconf) X(isatty) X(aio_read) X(aio_write) X(aio_fsync) \
	X(lio_listio) X(syscall) X(umask) X(sync) X(nftw) X(ftw) X(glob) X(fork) \
	X(pthread_create) X(mkostemps64) X(mkdtemp) X(mktemp) \
	X(posix_spawn_file_actions_init) X(posix_spawn_file_actions_destroy) \
	X(posix_spawn_file_actions_addopen) X(posix_spawn_file_actions_addclose) \
	X(posix_spawn_file_actions_adddup2) \
	X(posix_spawn_file_actions_addchdir_np) \
	X(posix_spawn_file_actions_addfchdir_np) \
	X(posix_spawn_file_actions_addclosefrom_np) \
	X(posix_spawn_file_actions_addtcsetpgrp_np) X(bind) X(connect) \
	X(fts_open) X(fts_read) X(fts_children) X(fts_set) X(fts_close) \
	X(lockf64) X(sigprocmask) X(pthread_sigmask) X(sigaction) X(signal) \
	X(poll) X(ppoll) X(select) X(pselect) X(epoll_ctl) X(inotify_add_watch) X(fanotify_mark)

#define DXP_REAL_FIELD(name) __typeof__(&name) name;
struct dxp_real {
	DXP_REAL_LIST(DXP_REAL_FIELD)
};
#undef DXP_REAL_FIELD

extern struct dxp_real dxp_real;

/* dxp_real_init -- look every function up; safe to call more than once. */
void dxp_real_init(void);

/* REAL -- the C library's 'name', looked up at the first need. */
#define REAL(name) \
	(__builtin_expect(dxp_real.name != NULL, 1) ? dxp_real.name : \
	 (dxp_real_init(), dxp_real.name))

#endif /* DXP_REAL_H */
