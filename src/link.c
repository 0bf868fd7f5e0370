/*
 * link.c -- hard and symbolic links: link, linkat (naming an O_TMPFILE
 * file too), symlink, symlinkat, readlink and readlinkat.
 *
 * A new name is one transaction under its parent's DIR lock (exclusive);
 * link also takes the file's ILOCK for its link count (DIR -> ILOCK, as
 * unlink).  Where the target of a symbolic link lives is symlink.c's.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>

#include "dir.h"
#include "namei.h"
#include "namespace.h"
#include "out.h"
#include "permission.h"
#include "pool.h"
#include "symlink.h"
#include "tx.h"

/* --- hard links ---------------------------------------------------------- */

/*
 * link_add -- give 'ip' the new name nd names (nd->dir locked, and checked
 * by dx_ns_create_begin).
 */
static int
link_add(struct dx_nameidata *nd, struct dx_inode *ip)
{
	struct dx_tx tx;
	int ret = -1;

	if (ip->isdir)
		return dx_err(EPERM, "cannot link a directory");
	dx_ilock(ip, DX_ILOCK_EXCL);
	if (ip->di->nlink == 0 && !ip->linkable) {
		dx_err(ENOENT, "the file has no name left");
		goto out;
	}
	if (ip->di->nlink >= DX_LINK_MAX) {
		dx_err(EMLINK, "the file has %d links already", DX_LINK_MAX);
		goto out;
	}
	if (dx_tx_begin(&tx, ip->pool) != 0)
		goto out;
	dx_dir_add(&tx, nd->dir, nd->name, nd->len, ip->ino,
		dx_inode_dtype(ip));
	if (ip->di->nlink == 0)
		dx_inode_unorphan(&tx, ip->di);
	dx_ns_nlink(&tx, ip, +1);
	dx_inode_touch(&tx, ip->di, DX_TOUCH_CTIME);
	dx_inode_touch(&tx, nd->dir->di, DX_TOUCH_MTIME | DX_TOUCH_CTIME);
	ret = dx_tx_commit(&tx);
	if (ret == 0)
		ip->linkable = false;
out:
	dx_iunlock(ip, DX_ILOCK_EXCL);
	return ret;
}

DX_EXPORT int
daxfile_linkat(daxfile_pool *pool, daxfile_file *olddir,
	const char *oldpath, daxfile_file *newdir, const char *newpath,
	int flags)
{
	const int known = AT_SYMLINK_FOLLOW | AT_EMPTY_PATH;
	struct dx_nameidata nd;
	struct dx_inode *ip;
	struct dx_cred cr;
	unsigned lookup = 0;
	int ret = -1;

	if (dx_pool_check_handle(pool) != 0)
		return -1;
	if (flags & ~known)
		return dx_err(EINVAL, "unknown flags %#x", flags & ~known);
	if (flags & AT_SYMLINK_FOLLOW)
		lookup |= DX_LOOKUP_FOLLOW;
	if (flags & AT_EMPTY_PATH)
		lookup |= DX_LOOKUP_EMPTY;
	dx_cred_init(&cr, DX_CRED_FS);
	ip = dx_namei(pool, olddir, oldpath, lookup, &cr);
	if (ip == NULL)
		return -1;
	if (dx_namei_parent(pool, newdir, newpath, &cr, &nd) != 0)
		goto out_put;
	if (dx_ns_create_begin(&nd, newpath, false) == 0) {
		/* may_linkat comes between filename_create and may_create */
		if (dx_perm_may_linkat(&cr, ip) == 0 && dx_ns_may_create(&nd) == 0)
			ret = link_add(&nd, ip);
		dx_iunlock(nd.dir, DX_IOLOCK_EXCL);
	}
	if (ret != 0)
		dx_err_keep("cannot link '%s' to '%s'", newpath, oldpath);
	dx_namei_done(&nd);
out_put:
	dx_iput(ip);
	return ret;
}

DX_EXPORT int
daxfile_link(daxfile_pool *pool, const char *oldpath, const char *newpath)
{
	return daxfile_linkat(pool, NULL, oldpath, NULL, newpath, 0);
}

/* --- symbolic links ------------------------------------------------------ */

/* symlink_target_check -- what symlink(2) refuses as a target. */
static int
symlink_target_check(const char *target, size_t *len)
{
	if (target == NULL)
		return dx_err(EFAULT, "target is NULL");
	*len = strnlen(target, DX_PATH_MAX);
	if (*len == 0)
		return dx_err(ENOENT, "empty target");
	if (*len >= DX_PATH_MAX)
		return dx_err(ENAMETOOLONG, "target longer than %d bytes",
			DX_PATH_MAX - 1);
	return 0;
}

DX_EXPORT int
daxfile_symlinkat(daxfile_pool *pool, const char *target, daxfile_file *dir,
	const char *linkpath)
{
	struct dx_nameidata nd;
	struct dx_cred cr;
	struct dx_tx tx;
	uint64_t ino;
	size_t len = 0;
	int ret = -1;

	if (dx_pool_check_handle(pool) != 0 ||
	    symlink_target_check(target, &len) != 0)
		return -1;
	dx_cred_init(&cr, DX_CRED_FS);
	if (dx_namei_parent(pool, dir, linkpath, &cr, &nd) != 0)
		return -1;
	if (dx_ns_create_begin(&nd, linkpath, false) != 0)
		goto out;
	if (dx_ns_may_create(&nd) == 0 && dx_tx_begin(&tx, pool) == 0) {
		/* a link's mode is 0777, whatever the umask */
		ino = dx_inode_alloc(&tx, nd.dir, S_IFLNK | 0777, &cr);
		if (ino != 0) {
			dx_symlink_init(&tx, ino, target, len);
			dx_dir_add(&tx, nd.dir, nd.name, nd.len, ino, DT_LNK);
			dx_inode_touch(&tx, nd.dir->di,
				DX_TOUCH_MTIME | DX_TOUCH_CTIME);
		}
		ret = dx_tx_commit(&tx);
		if (ret != 0)
			dx_err_keep("cannot create symbolic link '%s'", linkpath);
	}
	dx_iunlock(nd.dir, DX_IOLOCK_EXCL);
out:
	dx_namei_done(&nd);
	return ret;
}

DX_EXPORT int
daxfile_symlink(daxfile_pool *pool, const char *target, const char *linkpath)
{
	return daxfile_symlinkat(pool, target, NULL, linkpath);
}

DX_EXPORT ssize_t
daxfile_readlinkat(daxfile_pool *pool, daxfile_file *dir, const char *path,
	char *buf, size_t size)
{
	struct dx_inode *ip;
	struct dx_cred cr;
	const char *target;
	size_t n;

	if (dx_pool_check_handle(pool) != 0)
		return -1;
	if (size == 0 || size > INT32_MAX)
		return dx_err(EINVAL, "buffer size %zu", size);
	dx_cred_init(&cr, DX_CRED_FS);
	ip = dx_namei(pool, dir, path, DX_LOOKUP_EMPTY, &cr);
	if (ip == NULL)
		return -1;
	if (!ip->islnk) {
		dx_iput(ip);
		if (path[0] == '\0')
			return dx_err(ENOENT, "the handle is not a symbolic link");
		return dx_err(EINVAL, "'%s' is not a symbolic link", path);
	}
	if (buf == NULL) {
		dx_iput(ip);
		return dx_err(EFAULT, "buffer is NULL");
	}
	target = dx_symlink_target(ip);
	n = DX_MIN(size, (size_t)ip->di->size);
	dx_might_fault();
	memcpy(buf, target, n);
	dx_inode_accessed(ip);
	dx_iput(ip);
	return (ssize_t)n;
}

DX_EXPORT ssize_t
daxfile_readlink(daxfile_pool *pool, const char *path, char *buf, size_t size)
{
	return daxfile_readlinkat(pool, NULL, path, buf, size);
}
