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
 * another on-media version; EIO: the pool file cannot be read; EBUSY: the
 * pool is open (the message names the process).
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
 * Namespace.  Paths are absolute inside the pool, '/'-separated; "." and
 * ".." work; names up to 255 bytes, paths up to 4095.
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
/* daxfile_opendir -- opendir(3); the stream sees the entries of that moment. */
daxfile_dir *daxfile_opendir(daxfile_pool *pool, const char *path);
/* daxfile_readdir -- readdir(3): NULL at the end (errno unchanged). */
struct dirent *daxfile_readdir(daxfile_dir *dir);
/* daxfile_closedir -- closedir(3). */
int daxfile_closedir(daxfile_dir *dir);

/* daxfile_errormsg -- the cause of the calling thread's last failure. */
const char *daxfile_errormsg(void);

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
