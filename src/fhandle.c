/*
 * fhandle.c -- file handles: name_to_handle_at(2) and open_by_handle_at(2)
 * for a pool.  A handle is an inode's number (its pool offset) and its
 * generation, set at the inode's birth, so that a later inode at the same
 * offset is told apart; opening one walks no directory.
 *
 * The kernel asks CAP_DAC_READ_SEARCH for open_by_handle_at because a
 * handle bypasses the search permission of every directory above the
 * file.  Here it asks nothing: a process that has the pool open can read
 * and write every byte of the pool file, so the permission checks of a
 * pool order what its users may name and change, and protect no bytes;
 * the file's own permissions are still checked as open(2) checks them.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>

#include "file.h"
#include "inode.h"
#include "namei.h"
#include "out.h"
#include "permission.h"
#include "pool.h"
#include "util.h"

DX_EXPORT int
daxfile_name_to_handle_at(daxfile_pool *pool, daxfile_file *dir,
	const char *path, struct daxfile_handle *handle, int flags)
{
	DX_CALL();
	unsigned lookup = 0;
	struct dx_inode *ip;
	struct dx_cred cr;

	dx_err_begin();
	if (flags & ~(AT_EMPTY_PATH | AT_SYMLINK_FOLLOW))
		return dx_err(EINVAL, "unknown flags %#x",
			flags & ~(AT_EMPTY_PATH | AT_SYMLINK_FOLLOW));
	if (handle == NULL)
		return dx_err(EFAULT, "handle is NULL");
	if (dx_pool_check_handle(pool) != 0)
		return -1;
	/* as name_to_handle_at(2): a last link is the link's own handle */
	if (flags & AT_SYMLINK_FOLLOW)
		lookup |= DX_LOOKUP_FOLLOW;
	if (flags & AT_EMPTY_PATH)
		lookup |= DX_LOOKUP_EMPTY;
	dx_cred_init(&cr, DX_CRED_FS);
	ip = dx_namei(pool, dir, path, lookup, &cr);
	if (ip == NULL)
		return -1;
	handle->ino = ip->ino;
	handle->generation = __atomic_load_n(&ip->di->generation,
		__ATOMIC_RELAXED);
	dx_iput(ip);
	return 0;
}

DX_EXPORT daxfile_file *
daxfile_open_by_handle(daxfile_pool *pool, const struct daxfile_handle *handle,
	int flags)
{
	DX_CALL();
	dx_err_begin();
	if (handle == NULL) {
		dx_err(EFAULT, "handle is NULL");
		return NULL;
	}
	if (dx_pool_check_handle(pool) != 0)
		return NULL;
	return dx_file_open_handle(pool, handle->ino, handle->generation, flags);
}
