/*
 * file.c -- open file descriptions: daxfile_open and daxfile_openat (with
 * O_PATH handles and unnamed O_TMPFILE files), daxfile_close,
 * daxfile_fstat, and handle validation.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <string.h>

#include "bmap.h"
#include "data.h"
#include "defer.h"
#include "file.h"
#include "locks.h"
#include "map.h"
#include "mem.h"
#include "namei.h"
#include "namespace.h"
#include "out.h"
#include "permission.h"
#include "pool.h"

static struct dx_handle_cache file_cache = DX_HANDLE_CACHE_INIT(daxfile_file);

int
dx_file_check_any(const daxfile_file *file)
{
	dx_err_begin();
	if (file == NULL)
		return dx_err(EBADF, "file handle is NULL");
	if (!dx_handle_is(file, DX_FILE_MAGIC))
		return dx_err(EBADF, "file handle is closed");
	return 0;
}

int
dx_file_check(const daxfile_file *file)
{
	if (dx_file_check_any(file) != 0)
		return -1;
	if (file->flags & O_PATH)
		return dx_err(EBADF, "file handle was opened with O_PATH");
	return 0;
}

int
dx_file_check_read(const daxfile_file *file)
{
	if (dx_file_check(file) != 0)
		return -1;
	if ((file->flags & O_ACCMODE) == O_WRONLY)
		return dx_err(EBADF, "file is not open for reading");
	return 0;
}

int
dx_file_check_write(const daxfile_file *file)
{
	if (dx_file_check(file) != 0)
		return -1;
	if ((file->flags & O_ACCMODE) == O_RDONLY)
		return dx_err(EBADF, "file is not open for writing");
	return 0;
}

/* The flags that O_PATH keeps; it drops the others, as open(2) does. */
#define OPEN_PATH_FLAGS (O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)

/* O_TMPFILE's own bit (glibc's O_TMPFILE includes O_DIRECTORY) */
#define OPEN_TMPFILE_BIT (O_TMPFILE & ~O_DIRECTORY)

/* open_flags_check -- reject what open(2) rejects or we cannot honour. */
static int
open_flags_check(int flags)
{
	if ((flags & O_ACCMODE) == O_ACCMODE)
		return dx_err(EINVAL, "invalid access mode in flags %#x", flags);
	/* as Linux 6.4+: it would create a regular file and then fail */
	if ((flags & O_CREAT) && (flags & O_DIRECTORY))
		return dx_err(EINVAL, "O_CREAT with O_DIRECTORY");
	if ((flags & OPEN_TMPFILE_BIT) &&
	    ((flags & (O_TMPFILE | O_CREAT)) != O_TMPFILE ||
	     ((flags & O_ACCMODE) == O_RDONLY && !(flags & O_TRUNC))))
		return dx_err(EINVAL, "O_TMPFILE needs O_DIRECTORY and write access, and no O_CREAT");
	return 0;
}

/*
 * open_check -- what open(2) checks of the file it found (the kernel's
 * do_open and may_open), in its order; a file the call created or made
 * unnamed needs no permission.
 */
static int
open_check(struct dx_inode *ip, int flags, const char *path,
	struct dx_cred *cr, bool created)
{
	if ((flags & O_DIRECTORY) && !ip->isdir && !(flags & OPEN_TMPFILE_BIT))
		return dx_err(ENOTDIR, "'%s' is not a directory", path);
	if (flags & O_PATH)
		return 0;
	if (ip->islnk)
		return dx_err(ELOOP, "'%s' is a symbolic link (O_NOFOLLOW)", path);
	if (ip->isdir &&
	    ((flags & O_ACCMODE) != O_RDONLY || (flags & (O_CREAT | O_TRUNC))))
		return dx_err(EISDIR, "'%s' is a directory", path);
	if (created || (flags & OPEN_TMPFILE_BIT))
		return 0;
	return dx_perm_open(cr, ip, flags);
}

int
dx_file_load(struct dx_inode *ip)
{
	int ret;

	dx_ilock(ip, DX_ILOCK_EXCL);
	ret = dx_bmap_load(ip);
	dx_iunlock(ip, DX_ILOCK_EXCL);
	return ret;
}

/*
 * file_begin -- the start of every open: '*flags' trimmed as O_PATH
 * trims them and checked, then a new handle; NULL with errno.
 */
static daxfile_file *
file_begin(int *flags)
{
	daxfile_file *f;

	if (*flags & O_PATH)
		*flags &= OPEN_PATH_FLAGS;
	if (open_flags_check(*flags) != 0)
		return NULL;
	f = dx_handle_get(&file_cache);
	if (f == NULL)
		dx_err(ENOMEM, "cannot allocate a file handle");
	return f;
}

static daxfile_file *file_open_inode(daxfile_pool *pool, daxfile_file *f,
	struct dx_inode *ip, int flags, const char *path, struct dx_cred *cr,
	bool created);

/*
 * file_open -- openat(2): a new handle, then the file's inode, looked up,
 * created or made unnamed, and checked.  'ap' holds the mode_t when flags
 * create a file.
 */
static daxfile_file *
file_open(daxfile_pool *pool, daxfile_file *dir, const char *path, int flags,
	va_list ap)
{
	struct dx_inode *ip;
	struct dx_cred cr;
	daxfile_file *f;
	bool created = false;
	mode_t mode = 0;

	if (flags & (O_CREAT | OPEN_TMPFILE_BIT))
		mode = (mode_t)va_arg(ap, int);
	if (dx_pool_check_handle(pool) != 0)
		return NULL;
	/* as the kernel's struct file: taken before anything is created */
	f = file_begin(&flags);
	if (f == NULL)
		return NULL;
	dx_cred_init(&cr, DX_CRED_FS);
	if (flags & OPEN_TMPFILE_BIT)
		ip = dx_open_tmpfile(pool, dir, path, flags, mode, &cr);
	else
		ip = dx_open_inode(pool, dir, path, flags, mode, &cr, &created);
	if (ip == NULL) {
		dx_handle_put(&file_cache, f);
		return NULL;
	}
	return file_open_inode(pool, f, ip, flags, path, &cr, created);
}

/*
 * file_open_inode -- the rest of an open once its inode 'ip' (referenced:
 * the reference goes to the handle, or is dropped on failure) is found:
 * the checks, the extent map, O_TRUNC, and handle 'f' made live.
 */
static daxfile_file *
file_open_inode(daxfile_pool *pool, daxfile_file *f, struct dx_inode *ip,
	int flags, const char *path, struct dx_cred *cr, bool created)
{
	bool regular;

	if (open_check(ip, flags, path, cr, created) != 0)
		goto err_put;
	regular = !ip->isdir && !ip->islnk && !(flags & O_PATH);
	if (regular && dx_file_load(ip) != 0)
		goto err_put;
	/* a file this call created is empty: nothing to truncate */
	if (regular && (flags & O_TRUNC) && !created && dx_truncate(ip, 0) != 0)
		goto err_put;
	f->pool = pool;
	f->ip = ip;
	f->flags = flags;
	dx_mutex_init(&f->pos_lock, DX_LC_FPOS);
	if (regular && (flags & O_ACCMODE) != O_RDONLY)
		dx_data_writer_open(ip);
	dx_pool_busy_get(pool);
	dx_handle_live(f, DX_FILE_MAGIC);
	return f;

err_put:
	dx_iput(ip);
	dx_handle_put(&file_cache, f);
	return NULL;
}

daxfile_file *
dx_file_open_handle(daxfile_pool *pool, uint64_t ino, uint64_t generation,
	int flags)
{
	struct dx_inode *ip;
	struct dx_cred cr;
	daxfile_file *f;

	f = file_begin(&flags);
	if (f == NULL)
		return NULL;
	if (flags & (O_CREAT | OPEN_TMPFILE_BIT)) {
		dx_err(EINVAL, "a handle names a file that exists: no O_CREAT or O_TMPFILE");
		dx_handle_put(&file_cache, f);
		return NULL;
	}
	ip = dx_iget_handle(pool, ino, generation);
	if (ip == NULL) {
		dx_handle_put(&file_cache, f);
		return NULL;
	}
	dx_cred_init(&cr, DX_CRED_FS);
	return file_open_inode(pool, f, ip, flags, "(handle)", &cr, false);
}

DX_EXPORT daxfile_file *
daxfile_open(daxfile_pool *pool, const char *path, int flags, ...)
{
	DX_CALL();
	daxfile_file *f;
	va_list ap;

	va_start(ap, flags);
	f = file_open(pool, NULL, path, flags, ap);
	va_end(ap);
	return f;
}

DX_EXPORT daxfile_file *
daxfile_openat(daxfile_pool *pool, daxfile_file *dir, const char *path,
	int flags, ...)
{
	DX_CALL();
	daxfile_file *f;
	va_list ap;

	va_start(ap, flags);
	f = file_open(pool, dir, path, flags, ap);
	va_end(ap);
	return f;
}

DX_EXPORT int
daxfile_close(daxfile_file *file)
{
	DX_CALL();
	struct daxfile_pool *pool;
	struct dx_inode *ip;

	if (dx_file_check_any(file) != 0)
		return -1;
	pool = file->pool;
	ip = file->ip;
	dx_locks_close(file);
	if (!ip->isdir && !(file->flags & O_PATH) &&
	    (file->flags & O_ACCMODE) != O_RDONLY)
		dx_data_writer_close(ip);
	dx_mutex_destroy(&file->pos_lock);
	dx_handle_put(&file_cache, file);
	dx_iput(ip);
	dx_pool_busy_put(pool);
	return 0;
}

DX_EXPORT int
daxfile_fstat(daxfile_file *file, struct stat *st)
{
	DX_CALL();
	if (dx_file_check_any(file) != 0)
		return -1;
	if (st == NULL)
		return dx_err(EFAULT, "stat buffer is NULL");
	dx_inode_lock_attrs(file->ip, false);
	dx_inode_stat(file->ip, st);
	dx_inode_unlock_attrs(file->ip, false);
	return 0;
}
