/*
 * file.c -- open file descriptions: daxfile_open, daxfile_close,
 * daxfile_fstat, and handle validation.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <string.h>

#include "bmap.h"
#include "data.h"
#include "file.h"
#include "locks.h"
#include "map.h"
#include "mem.h"
#include "namespace.h"
#include "out.h"
#include "pool.h"

static struct dx_handle_cache file_cache = DX_HANDLE_CACHE_INIT(daxfile_file);

int
dx_file_check(const daxfile_file *file)
{
	dx_err_begin();
	if (file == NULL)
		return dx_err(EBADF, "file handle is NULL");
	if (!dx_handle_is(file, DX_FILE_MAGIC))
		return dx_err(EBADF, "file handle is closed");
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

/* open_flags_check -- reject what open(2) rejects or we cannot honour. */
static int
open_flags_check(int flags)
{
	if ((flags & O_ACCMODE) == O_ACCMODE)
		return dx_err(EINVAL, "invalid access mode in flags %#x", flags);
#ifdef O_TMPFILE
	if ((flags & O_TMPFILE) == O_TMPFILE)
		return dx_err(EOPNOTSUPP, "O_TMPFILE is not supported");
#endif
	/* as Linux 6.4+: it would create a regular file and then fail */
	if ((flags & O_CREAT) && (flags & O_DIRECTORY))
		return dx_err(EINVAL, "O_CREAT with O_DIRECTORY");
	return 0;
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

DX_EXPORT daxfile_file *
daxfile_open(daxfile_pool *pool, const char *path, int flags, ...)
{
	struct dx_inode *ip;
	daxfile_file *f;
	mode_t mode = 0;
	va_list ap;

	if (dx_pool_check_handle(pool) != 0)
		return NULL;
	if (flags & O_CREAT) {
		va_start(ap, flags);
		mode = (mode_t)va_arg(ap, int);
		va_end(ap);
	}
	if (open_flags_check(flags) != 0)
		return NULL;
	ip = dx_open_inode(pool, path, flags, mode);
	if (ip == NULL)
		return NULL;
	if ((flags & O_DIRECTORY) && !ip->isdir) {
		dx_err(ENOTDIR, "'%s' is not a directory", path);
		goto err_put;
	}
	if (ip->isdir &&
	    ((flags & O_ACCMODE) != O_RDONLY || (flags & (O_CREAT | O_TRUNC)))) {
		dx_err(EISDIR, "'%s' is a directory", path);
		goto err_put;
	}
	if (!ip->isdir && dx_file_load(ip) != 0)
		goto err_put;
	if (!ip->isdir && (flags & O_TRUNC) && dx_truncate(ip, 0) != 0)
		goto err_put;
	f = dx_handle_get(&file_cache);
	if (f == NULL) {
		dx_err(ENOMEM, "cannot allocate a file handle");
		goto err_put;
	}
	f->pool = pool;
	f->ip = ip;
	f->flags = flags;
	dx_mutex_init(&f->pos_lock, DX_LC_FPOS);
	if (!ip->isdir && (flags & O_ACCMODE) != O_RDONLY)
		dx_data_writer_open(ip);
	dx_pool_busy_get(pool);
	dx_handle_live(f, DX_FILE_MAGIC);
	return f;

err_put:
	dx_iput(ip);
	return NULL;
}

DX_EXPORT int
daxfile_close(daxfile_file *file)
{
	struct daxfile_pool *pool;
	struct dx_inode *ip;

	if (dx_file_check(file) != 0)
		return -1;
	pool = file->pool;
	ip = file->ip;
	dx_locks_close(file);
	if (!ip->isdir && (file->flags & O_ACCMODE) != O_RDONLY)
		dx_data_writer_close(ip);
	dx_mutex_destroy(&file->pos_lock);
	dx_handle_put(&file_cache, file);
	dx_iput(ip);
	dx_pool_busy_put(pool);
	dx_map_retry_wait();
	return 0;
}

DX_EXPORT int
daxfile_fstat(daxfile_file *file, struct stat *st)
{
	if (dx_file_check(file) != 0)
		return -1;
	if (st == NULL)
		return dx_err(EFAULT, "stat buffer is NULL");
	dx_inode_lock_attrs(file->ip, false);
	dx_inode_stat(file->ip, st);
	dx_inode_unlock_attrs(file->ip, false);
	return 0;
}
