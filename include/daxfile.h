/*
 * daxfile.h -- the public API of libdaxfile: a POSIX-like file tree kept in
 * a persistent-memory pool, with DAX-style mappings served in userspace.
 *
 * Every call mirrors its POSIX namesake: the same arguments after the pool
 * or file handle and the same return convention (-1, NULL or MAP_FAILED with
 * errno set).  After a failure, daxfile_errormsg() names the cause in the
 * calling thread.  All calls are thread-safe.
 */
#ifndef DAXFILE_H
#define DAXFILE_H 1

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <time.h>

#ifdef __cplusplus
extern "C" {
#endif

#define DAXFILE_MAJOR_VERSION 0
#define DAXFILE_MINOR_VERSION 1

typedef struct daxfile_pool daxfile_pool; /* an open pool */
typedef struct daxfile_file daxfile_file; /* an open file description */
typedef struct daxfile_dir daxfile_dir;   /* an open directory stream */

/* Smallest pool daxfile_pool_create() accepts, in bytes. */
#define DAXFILE_MIN_POOL_SIZE ((uint64_t)16 << 20)

/*
 * daxfile_pool_create -- create a pool file of 'size' bytes at 'path' with
 * permission bits 'mode'; fails with EEXIST if the file exists, EINVAL if
 * 'size' is below DAXFILE_MIN_POOL_SIZE.
 */
daxfile_pool *daxfile_pool_create(const char *path, uint64_t size, mode_t mode);

/*
 * daxfile_pool_size_for -- the smallest size (in whole MiB) to give
 * daxfile_pool_create() for a pool with room for at least 'usable' bytes of
 * file data; 0 with EFBIG if no pool holds that much.
 */
uint64_t daxfile_pool_size_for(uint64_t usable);

/*
 * daxfile_pool_open -- open an existing pool.  ENOENT: no such file (or
 * the helper daxfile-probe is missing); EINVAL: not a libdaxfile pool;
 * EUCLEAN: a libdaxfile pool that is damaged (truncated, or metadata that
 * libpmemobj or the library cannot use); EPROTO: a libdaxfile pool of
 * a newer on-media version; EIO: the pool file cannot be read; EBUSY: the
 * pool is open (the message names the process).  A pool of an older
 * on-media version is upgraded in place, in one crash-safe step.
 */
daxfile_pool *daxfile_pool_open(const char *path);

/* What backs a pool, from daxfile_pool_backing(). */
enum daxfile_backing {
	/* persistent memory (as libpmem reports): stores are flushed from
	 * the CPU caches, no system call */
	DAXFILE_BACKING_PMEM = 1,
	/* memory (tmpfs, ramfs, hugetlbfs): nothing to flush to; the pool
	 * survives a crash of the process, not of the machine */
	DAXFILE_BACKING_MEMORY = 2,
	/* a disk (any other file system): durable through msync(2), which
	 * waits for the device */
	DAXFILE_BACKING_DISK = 3,
};

/* daxfile_pool_backing -- what backs the open pool: DAXFILE_BACKING_*. */
int daxfile_pool_backing(daxfile_pool *pool);

/*
 * daxfile_pool_close -- close a pool.  EBUSY if files, directory streams or
 * mappings of it are still open (the pool stays open then).
 */
int daxfile_pool_close(daxfile_pool *pool);

/*
 * daxfile_pool_forget -- in a child process made by fork(2) while 'pool'
 * was open: give up the child's hold on the pool (libpmemobj's mapping, its
 * lock on the pool file and its registration) without changing the pool or
 * the parent's use of it.  The handle and everything opened from it are
 * gone in the child (their memory is not freed: other threads' locks may
 * be held in it); the child may open the pool again once the parent has
 * closed it.  Never call it in the process that opened the pool.
 */
int daxfile_pool_forget(daxfile_pool *pool);

/*
 * daxfile_pool_check -- check the pool file at 'path' (which must not be
 * open) without changing the library's structures (opening it lets
 * libpmemobj finish or roll back a transaction a crash interrupted); one
 * line per problem goes to 'report' (may be NULL).  Returns 0 if clean, 1
 * if problems were found, -1 on error.
 */
int daxfile_pool_check(const char *path, FILE *report);

/*
 * daxfile_pool_repair -- daxfile_pool_check, repairing what can be (see
 * daxfile_pool_check(3)); each problem found, and what was done, is a line
 * of 'report'.  Returns 0 if the pool was clean, 1 if problems were found
 * (check again to see what is left), -1 on error.
 */
int daxfile_pool_repair(const char *path, FILE *report);

/*
 * daxfile_pool_salvage -- copy every file of the pool at 'path' (which
 * must not be open) whose own metadata is intact into the host directory
 * 'dir' (made, or empty), without changing the pool, even when libpmemobj
 * cannot open it; what could not be copied, and a summary, go to
 * 'report'.  Returns 0 if every file was copied, 1 if some could not be
 * (or went to lost+found), -1 on error.
 */
int daxfile_pool_salvage(const char *path, const char *dir, FILE *report);

/* daxfile_statvfs -- statvfs(3) of the pool: blocks and inodes. */
int daxfile_statvfs(daxfile_pool *pool, struct statvfs *buf);

/*
 * Namespace.  Paths are '/'-separated: an absolute path starts at the
 * pool's root, a relative one at the pool's current directory
 * (daxfile_chdir, below); "." and ".." work and symbolic links are
 * followed; names up to 255 bytes, paths up to 4095.
 */

/* daxfile_open -- open(2); a mode_t follows 'flags' when O_CREAT is set. */
daxfile_file *daxfile_open(daxfile_pool *pool, const char *path, int flags, ...);
/* daxfile_close -- close(2) of a file description. */
int daxfile_close(daxfile_file *file);
/* daxfile_mkdir -- mkdir(2). */
int daxfile_mkdir(daxfile_pool *pool, const char *path, mode_t mode);
/* daxfile_rmdir -- rmdir(2). */
int daxfile_rmdir(daxfile_pool *pool, const char *path);
/* daxfile_unlink -- unlink(2); data stays until the last close. */
int daxfile_unlink(daxfile_pool *pool, const char *path);
/* daxfile_rename -- rename(2), atomic, replacing an existing target. */
int daxfile_rename(daxfile_pool *pool, const char *from, const char *to);
/* daxfile_stat -- stat(2). */
int daxfile_stat(daxfile_pool *pool, const char *path, struct stat *st);
/* daxfile_fstat -- fstat(2). */
int daxfile_fstat(daxfile_file *file, struct stat *st);
/*
 * daxfile_opendir -- opendir(3).  An entry that exists for the whole walk
 * is returned exactly once, whatever is created or removed meanwhile.
 */
daxfile_dir *daxfile_opendir(daxfile_pool *pool, const char *path);
/* daxfile_readdir -- readdir(3): NULL at the end (errno unchanged). */
struct dirent *daxfile_readdir(daxfile_dir *dir);
/* daxfile_closedir -- closedir(3). */
int daxfile_closedir(daxfile_dir *dir);

/*
 * The rest of the POSIX file-system surface.  Paths are resolved as Linux
 * resolves them: an absolute path starts at the pool's root, a relative one
 * at the pool's current directory (daxfile_chdir) or, in the *at calls, at
 * 'dir' (NULL: the current directory; an absolute path ignores 'dir').
 * Symbolic links are followed inside the pool (an absolute target is
 * relative to the pool's root).  A directory opened with O_RDONLY |
 * O_DIRECTORY, or anything opened with O_PATH, is a daxfile_file usable as
 * 'dir'.  Permission checks use the calling thread's credentials at the
 * time of the call (fsuid, fsgid, supplementary groups, capabilities).
 * The flags are those of <fcntl.h> and <stdio.h> (AT_*, RENAME_*), some of
 * which need _GNU_SOURCE.
 */
struct statx;
struct timespec;

/* daxfile_chdir / daxfile_fchdir -- chdir(2) / fchdir(2) inside the pool. */
int daxfile_chdir(daxfile_pool *pool, const char *path);
int daxfile_fchdir(daxfile_file *dir);
/* daxfile_getcwd -- getcwd(3): the pool's current directory, from its root. */
char *daxfile_getcwd(daxfile_pool *pool, char *buf, size_t size);
/* daxfile_openat -- openat(2); a mode_t follows 'flags' with O_CREAT or O_TMPFILE. */
daxfile_file *daxfile_openat(daxfile_pool *pool, daxfile_file *dir,
	const char *path, int flags, ...);
/*
 * A file's handle (name_to_handle_at(2), open_by_handle_at(2)): names an
 * inode of the pool by its number and generation, whatever its names, for
 * as long as it lives (named, or unnamed but open).  It can be kept, and
 * passed to another process that opens the same pool.
 */
struct daxfile_handle {
	uint64_t ino;		/* st_ino */
	uint64_t generation;	/* tells it from a later inode of that number */
};
/* daxfile_name_to_handle_at -- name_to_handle_at(2): AT_EMPTY_PATH, AT_SYMLINK_FOLLOW. */
int daxfile_name_to_handle_at(daxfile_pool *pool, daxfile_file *dir,
	const char *path, struct daxfile_handle *handle, int flags);
/*
 * daxfile_open_by_handle -- open_by_handle_at(2): no walk, so no search
 * permission on any directory, and no capability needed (whoever has the
 * pool open can read all of it); the file's own permissions are checked
 * as open(2) checks them.  ESTALE if the inode is gone.
 */
daxfile_file *daxfile_open_by_handle(daxfile_pool *pool,
	const struct daxfile_handle *handle, int flags);
/* daxfile_mkdirat -- mkdirat(2). */
int daxfile_mkdirat(daxfile_pool *pool, daxfile_file *dir, const char *path,
	mode_t mode);
/* daxfile_unlinkat -- unlinkat(2): AT_REMOVEDIR. */
int daxfile_unlinkat(daxfile_pool *pool, daxfile_file *dir, const char *path,
	int flags);
/* daxfile_renameat2 -- renameat2(2): RENAME_NOREPLACE, RENAME_EXCHANGE. */
int daxfile_renameat2(daxfile_pool *pool, daxfile_file *olddir,
	const char *oldpath, daxfile_file *newdir, const char *newpath,
	unsigned flags);
/* daxfile_link -- link(2). */
int daxfile_link(daxfile_pool *pool, const char *oldpath, const char *newpath);
/* daxfile_linkat -- linkat(2): AT_SYMLINK_FOLLOW, AT_EMPTY_PATH. */
int daxfile_linkat(daxfile_pool *pool, daxfile_file *olddir,
	const char *oldpath, daxfile_file *newdir, const char *newpath,
	int flags);
/* daxfile_symlink -- symlink(2). */
int daxfile_symlink(daxfile_pool *pool, const char *target,
	const char *linkpath);
/* daxfile_symlinkat -- symlinkat(2). */
int daxfile_symlinkat(daxfile_pool *pool, const char *target,
	daxfile_file *dir, const char *linkpath);
/*
 * daxfile_pool_set_mountpoint -- the absolute path at which the caller
 * shows the pool's root (NULL: none): an absolute link target that starts
 * with it is followed from the pool's root past it.
 */
int daxfile_pool_set_mountpoint(daxfile_pool *pool, const char *path);
/* daxfile_readlink -- readlink(2): no terminating NUL. */
ssize_t daxfile_readlink(daxfile_pool *pool, const char *path, char *buf,
	size_t size);
/* daxfile_readlinkat -- readlinkat(2). */
ssize_t daxfile_readlinkat(daxfile_pool *pool, daxfile_file *dir,
	const char *path, char *buf, size_t size);
/* daxfile_lstat -- lstat(2). */
int daxfile_lstat(daxfile_pool *pool, const char *path, struct stat *st);
/* daxfile_fstatat -- fstatat(2): AT_SYMLINK_NOFOLLOW, AT_EMPTY_PATH. */
int daxfile_fstatat(daxfile_pool *pool, daxfile_file *dir, const char *path,
	struct stat *st, int flags);
/* daxfile_statx -- statx(2); STATX_ATTR_DAX is set for regular files. */
int daxfile_statx(daxfile_pool *pool, daxfile_file *dir, const char *path,
	int flags, unsigned mask, struct statx *stx);
/* daxfile_chmod / fchmod / fchmodat -- chmod(2) and friends. */
int daxfile_chmod(daxfile_pool *pool, const char *path, mode_t mode);
int daxfile_fchmod(daxfile_file *file, mode_t mode);
int daxfile_fchmodat(daxfile_pool *pool, daxfile_file *dir, const char *path,
	mode_t mode, int flags);
/* daxfile_chown / lchown / fchown / fchownat -- chown(2) and friends. */
int daxfile_chown(daxfile_pool *pool, const char *path, uid_t owner,
	gid_t group);
int daxfile_lchown(daxfile_pool *pool, const char *path, uid_t owner,
	gid_t group);
int daxfile_fchown(daxfile_file *file, uid_t owner, gid_t group);
int daxfile_fchownat(daxfile_pool *pool, daxfile_file *dir, const char *path,
	uid_t owner, gid_t group, int flags);
/* daxfile_access / faccessat -- access(2): real ids unless AT_EACCESS. */
int daxfile_access(daxfile_pool *pool, const char *path, int mode);
int daxfile_faccessat(daxfile_pool *pool, daxfile_file *dir, const char *path,
	int mode, int flags);
/* daxfile_utimensat / futimens -- utimensat(2): UTIME_NOW, UTIME_OMIT. */
int daxfile_utimensat(daxfile_pool *pool, daxfile_file *dir, const char *path,
	const struct timespec times[2], int flags);
int daxfile_futimens(daxfile_file *file, const struct timespec times[2]);
/* daxfile_truncate -- truncate(2). */
int daxfile_truncate(daxfile_pool *pool, const char *path, off_t length);
/* daxfile_umask -- umask(2) of the pool; the previous mask. */
mode_t daxfile_umask(daxfile_pool *pool, mode_t mask);
/*
 * daxfile_fcntl -- fcntl(2): F_GETFL/F_SETFL (O_APPEND, O_NONBLOCK,
 * O_NOATIME), F_GETFD/F_SETFD, F_GETLK/F_SETLK/F_SETLKW and
 * F_OFD_GETLK/F_OFD_SETLK/F_OFD_SETLKW.
 */
int daxfile_fcntl(daxfile_file *file, int cmd, ...);
/* daxfile_flock -- flock(2). */
int daxfile_flock(daxfile_file *file, int operation);
/*
 * daxfile_pool_locks_held -- how many files of the pool have advisory
 * locks (fcntl record locks, OFD locks, flock locks) set now; -1 with
 * EINVAL for a bad pool handle.
 */
int daxfile_pool_locks_held(daxfile_pool *pool);
/* daxfile_fdopendir -- fdopendir(3): the stream owns 'dir' from now on. */
daxfile_dir *daxfile_fdopendir(daxfile_file *dir);
/* daxfile_dirfile -- dirfd(3): the directory handle under a stream. */
daxfile_file *daxfile_dirfile(daxfile_dir *d);
/* daxfile_rewinddir / telldir / seekdir -- as rewinddir(3) and friends. */
void daxfile_rewinddir(daxfile_dir *d);
long daxfile_telldir(daxfile_dir *d);
void daxfile_seekdir(daxfile_dir *d, long loc);
/* daxfile_getdents64 -- getdents64(2): struct linux_dirent64 records. */
ssize_t daxfile_getdents64(daxfile_file *dir, void *buf, size_t size);
/* daxfile_copy_file_range -- copy_file_range(2) inside a pool. */
ssize_t daxfile_copy_file_range(daxfile_file *in, off_t *off_in,
	daxfile_file *out, off_t *off_out, size_t len, unsigned flags);
/* Extended attributes: user.* and trusted.*, as getxattr(2) and friends. */
ssize_t daxfile_getxattr(daxfile_pool *pool, const char *path,
	const char *name, void *value, size_t size);
ssize_t daxfile_lgetxattr(daxfile_pool *pool, const char *path,
	const char *name, void *value, size_t size);
ssize_t daxfile_fgetxattr(daxfile_file *file, const char *name, void *value,
	size_t size);
int daxfile_setxattr(daxfile_pool *pool, const char *path, const char *name,
	const void *value, size_t size, int flags);
int daxfile_lsetxattr(daxfile_pool *pool, const char *path, const char *name,
	const void *value, size_t size, int flags);
int daxfile_fsetxattr(daxfile_file *file, const char *name, const void *value,
	size_t size, int flags);
ssize_t daxfile_listxattr(daxfile_pool *pool, const char *path, char *list,
	size_t size);
ssize_t daxfile_llistxattr(daxfile_pool *pool, const char *path, char *list,
	size_t size);
ssize_t daxfile_flistxattr(daxfile_file *file, char *list, size_t size);
int daxfile_removexattr(daxfile_pool *pool, const char *path,
	const char *name);
int daxfile_lremovexattr(daxfile_pool *pool, const char *path,
	const char *name);
int daxfile_fremovexattr(daxfile_file *file, const char *name);
/* daxfile_syncfs -- syncfs(2): everything of the pool durable. */
int daxfile_syncfs(daxfile_pool *pool);

/* daxfile_errormsg -- the cause of the calling thread's last failure. */
const char *daxfile_errormsg(void);

/*
 * daxfile_log_fn -- receives one line the library reports outside any
 * call's result: a fault it could not serve (the faulting thread gets
 * SIGBUS), mapped pages it had to make inaccessible, an unlinked file it
 * could not free (the next pool open frees it).  It may be called from
 * any thread, the library's own included, several at once, and with
 * library locks held: it must not call libdaxfile and should return soon.
 */
typedef void daxfile_log_fn(const char *msg, void *arg);

/*
 * daxfile_set_log -- report through fn(msg, arg) from now on; NULL (the
 * default) reports nothing.  The library never writes to stderr itself.
 */
void daxfile_set_log(daxfile_log_fn *fn, void *arg);

/*
 * Data.  Reads and writes copy straight between the caller's buffer and the
 * pool.  On a pool that libpmem reports as persistent memory the bytes of a
 * write are persistent when it returns; elsewhere fsync makes them so.
 */

/* daxfile_read -- read(2) at the file offset. */
ssize_t daxfile_read(daxfile_file *file, void *buf, size_t count);
/* daxfile_write -- write(2) at the file offset (at EOF with O_APPEND). */
ssize_t daxfile_write(daxfile_file *file, const void *buf, size_t count);
/* daxfile_pread -- pread(2). */
ssize_t daxfile_pread(daxfile_file *file, void *buf, size_t count, off_t offset);
/* daxfile_pwrite -- pwrite(2). */
ssize_t daxfile_pwrite(daxfile_file *file, const void *buf, size_t count,
	off_t offset);
/* daxfile_preadv -- preadv(2). */
ssize_t daxfile_preadv(daxfile_file *file, const struct iovec *iov, int iovcnt,
	off_t offset);
/* daxfile_pwritev -- pwritev(2). */
ssize_t daxfile_pwritev(daxfile_file *file, const struct iovec *iov, int iovcnt,
	off_t offset);
/* daxfile_lseek -- lseek(2): SEEK_SET, SEEK_CUR, SEEK_END, SEEK_DATA, SEEK_HOLE. */
off_t daxfile_lseek(daxfile_file *file, off_t offset, int whence);
/* daxfile_ftruncate -- ftruncate(2). */
int daxfile_ftruncate(daxfile_file *file, off_t length);
/* daxfile_fallocate -- fallocate(2); 'mode' takes FALLOC_FL_* of <linux/falloc.h>. */
int daxfile_fallocate(daxfile_file *file, int mode, off_t offset, off_t len);
/* daxfile_fsync -- fsync(2): data and metadata durable. */
int daxfile_fsync(daxfile_file *file);
/* daxfile_fdatasync -- fdatasync(2). */
int daxfile_fdatasync(daxfile_file *file);

/*
 * Mappings.  MAP_SHARED maps the file's own blocks in the pool; the first
 * touch of a range is served by the library through userfaultfd.
 */

/* daxfile_mmap -- mmap(2) of a file of the pool. */
void *daxfile_mmap(void *addr, size_t length, int prot, int flags,
	daxfile_file *file, off_t offset);
/* daxfile_munmap -- munmap(2) of (part of) a daxfile_mmap() mapping. */
int daxfile_munmap(void *addr, size_t length);
/* daxfile_msync -- msync(2) of (part of) a daxfile_mmap() mapping. */
int daxfile_msync(void *addr, size_t length, int flags);

#ifdef __cplusplus
}
#endif

#endif /* DAXFILE_H */
