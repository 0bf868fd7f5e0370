/*
 * namespace.c -- the calls that change or query the tree by name: mkdir,
 * rmdir, unlink (and their *at forms), stat (fstatat and lstat are in
 * attr.c, with statx), the steps every new name shares, and the
 * lookup-or-create step of open, with unnamed O_TMPFILE files.  Links are
 * in link.c, rename in rename.c.
 *
 * Every change is one transaction taken under the parent directory's DIR
 * lock (exclusive): after a crash the tree is before or after the call.
 * Lock order (doc/locking.md): parent DIR -> child DIR or ILOCK.  Each
 * call checks the caller's permissions where the kernel does, so that the
 * errors come in the kernel's order.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>

#include "dir.h"
#include "map.h"
#include "namei.h"
#include "namespace.h"
#include "out.h"
#include "permission.h"
#include "pool.h"
#include "tx.h"

int
dx_ns_alive(struct dx_inode *dir)
{
	if (dir->di->nlink == 0)
		return dx_err(ENOENT, "directory was removed");
	return 0;
}

void
dx_ns_nlink(struct dx_tx *tx, struct dx_inode *ip, int delta)
{
	if (DX_TX_ADD_FIELD(tx, ip->di, nlink) == 0)
		ip->di->nlink = (uint32_t)((int)ip->di->nlink + delta);
}

void
dx_ns_removed(struct dx_inode *ip, struct dx_inode *parent)
{
	dx_assert_held_excl(&ip->iolock);
	if (ip->unhashed || ip->gone_parent != NULL)
		return;
	dx_ihold(parent);
	ip->gone_parent = parent;
}

int
dx_ns_create_begin(struct dx_nameidata *nd, const char *path, bool isdir)
{
	unsigned type;

	if (nd->kind != DX_LAST_NAME)
		return dx_err(EEXIST, "'%s' exists", path);
	dx_ilock(nd->dir, DX_IOLOCK_EXCL);
	if (dx_dir_lookup(nd->dir, nd->name, nd->len, &type) != 0) {
		dx_err(EEXIST, "'%s' exists", path);
		goto err;
	}
	if (errno != ENOENT)
		goto err;
	if (nd->trailing_slash && !isdir) {
		dx_err(ENOENT, "'%s' ends in a slash but is not a directory", path);
		goto err;
	}
	return 0;
err:
	dx_iunlock(nd->dir, DX_IOLOCK_EXCL);
	return -1;
}

int
dx_ns_may_create(struct dx_nameidata *nd)
{
	if (dx_ns_alive(nd->dir) != 0)
		return -1;
	return dx_perm_may_create(nd->cred, nd->dir);
}

/* --- mkdir ------------------------------------------------------------ */

DX_EXPORT int
daxfile_mkdirat(daxfile_pool *pool, daxfile_file *dir, const char *path,
	mode_t mode)
{
	struct dx_nameidata nd;
	struct dx_cred cr;
	struct dx_tx tx;
	uint64_t ino;
	int ret = -1;

	if (dx_pool_check_handle(pool) != 0)
		return -1;
	dx_cred_init(&cr, DX_CRED_FS);
	if (dx_namei_parent(pool, dir, path, &cr, &nd) != 0)
		return -1;
	if (dx_ns_create_begin(&nd, path, true) != 0)
		goto out_done;
	if (dx_ns_may_create(&nd) != 0)
		goto out;
	if (nd.dir->di->nlink >= DX_LINK_MAX) {
		dx_err(EMLINK, "directory of '%s' has %d links already", path,
			DX_LINK_MAX);
		goto out;
	}
	if (dx_tx_begin(&tx, pool) != 0)
		goto out;
	ino = dx_inode_alloc(&tx, nd.dir, dx_perm_create_mode(&cr, nd.dir,
		S_IFDIR | (mode & 07777), dx_pool_umask(pool)), &cr);
	if (ino != 0) {
		dx_dir_init(pool, ino, nd.dir->ino);
		dx_dir_add(&tx, nd.dir, nd.name, nd.len, ino, DT_DIR);
		dx_ns_nlink(&tx, nd.dir, +1);
		dx_inode_touch(&tx, nd.dir->di, DX_TOUCH_MTIME | DX_TOUCH_CTIME);
	}
	ret = dx_tx_commit(&tx);
	if (ret != 0)
		dx_err_keep("cannot create directory '%s'", path);
out:
	dx_iunlock(nd.dir, DX_IOLOCK_EXCL);
out_done:
	dx_namei_done(&nd);
	return ret;
}

DX_EXPORT int
daxfile_mkdir(daxfile_pool *pool, const char *path, mode_t mode)
{
	return daxfile_mkdirat(pool, NULL, path, mode);
}

/* --- rmdir and unlink ---------------------------------------------------- */

/* ns_rmdir_commit -- remove the empty directory 'ip' named by nd (locked). */
static int
ns_rmdir_commit(struct dx_nameidata *nd, struct dx_inode *ip)
{
	struct dx_tx tx;
	int ret;

	if (!dx_dir_is_empty(ip))
		return dx_err(ENOTEMPTY, "directory is not empty");
	if (dx_tx_begin(&tx, ip->pool) != 0)
		return -1;
	dx_dir_remove(&tx, nd->dir, nd->name, nd->len);
	dx_ns_nlink(&tx, nd->dir, -1);
	dx_inode_touch(&tx, nd->dir->di, DX_TOUCH_MTIME | DX_TOUCH_CTIME);
	DX_TX_ADD_FIELD(&tx, ip->di, nlink);
	ip->di->nlink = 0;
	dx_inode_touch(&tx, ip->di, DX_TOUCH_CTIME);
	dx_inode_unlinked(&tx, ip);
	ret = dx_tx_commit(&tx);
	if (ret == 0)
		dx_ns_removed(ip, nd->dir);
	return ret;
}

/* ns_rmdir -- rmdir(2) of 'path' from 'dir'. */
static int
ns_rmdir(daxfile_pool *pool, daxfile_file *dir, const char *path)
{
	struct dx_nameidata nd;
	struct dx_inode *ip;
	struct dx_cred cr;
	int ret = -1;

	dx_cred_init(&cr, DX_CRED_FS);
	if (dx_namei_parent(pool, dir, path, &cr, &nd) != 0)
		return -1;
	switch (nd.kind) {
	case DX_LAST_ROOT:
		dx_namei_done(&nd);
		return dx_err(EBUSY, "cannot remove the root directory");
	case DX_LAST_DOT:
		dx_namei_done(&nd);
		return dx_err(EINVAL, "cannot remove '.'");
	case DX_LAST_DOTDOT:
		dx_namei_done(&nd);
		return dx_err(ENOTEMPTY, "cannot remove '..'");
	default:
		break;
	}
	dx_ilock(nd.dir, DX_IOLOCK_EXCL);
	ip = dx_namei_child(&nd);
	if (ip == NULL)
		goto out;
	if (dx_perm_may_delete(&cr, nd.dir, ip) != 0)
		goto out_put;
	if (!ip->isdir) {
		dx_err(ENOTDIR, "'%s' is not a directory", path);
		goto out_put;
	}
	dx_ilock_nested(ip, DX_IOLOCK_EXCL, DX_LSC_1);
	ret = ns_rmdir_commit(&nd, ip);
	if (ret != 0)
		dx_err_keep("cannot remove directory '%s'", path);
	dx_iunlock(ip, DX_IOLOCK_EXCL);
out_put:
	dx_iput(ip);
out:
	dx_iunlock(nd.dir, DX_IOLOCK_EXCL);
	dx_namei_done(&nd);
	dx_map_retry_wait();
	return ret;
}

/*
 * ns_unlink_check -- what do_unlinkat and may_delete refuse, in their
 * order: a trailing slash (EISDIR on a directory, else ENOTDIR), then the
 * permissions, then a directory.
 */
static int
ns_unlink_check(struct dx_nameidata *nd, struct dx_inode *ip,
	const char *path)
{
	if (nd->trailing_slash)
		return dx_err(ip->isdir ? EISDIR : ENOTDIR,
			"'%s' ends in a slash", path);
	if (dx_perm_may_delete(nd->cred, nd->dir, ip) != 0)
		return -1;
	if (ip->isdir)
		return dx_err(EISDIR, "'%s' is a directory", path);
	return 0;
}

/* ns_unlink -- unlink(2) of 'path' from 'dir'. */
static int
ns_unlink(daxfile_pool *pool, daxfile_file *dir, const char *path)
{
	struct dx_nameidata nd;
	struct dx_inode *ip;
	struct dx_cred cr;
	struct dx_tx tx;
	int ret = -1;

	dx_cred_init(&cr, DX_CRED_FS);
	if (dx_namei_parent(pool, dir, path, &cr, &nd) != 0)
		return -1;
	if (nd.kind != DX_LAST_NAME) {
		dx_namei_done(&nd);
		return dx_err(EISDIR, "'%s' is a directory", path);
	}
	dx_ilock(nd.dir, DX_IOLOCK_EXCL);
	ip = dx_namei_child(&nd);
	if (ip == NULL)
		goto out;
	if (ns_unlink_check(&nd, ip, path) != 0)
		goto out_put;
	dx_ilock(ip, DX_ILOCK_EXCL);
	if (dx_tx_begin(&tx, pool) == 0) {
		dx_dir_remove(&tx, nd.dir, nd.name, nd.len);
		dx_inode_touch(&tx, nd.dir->di, DX_TOUCH_MTIME | DX_TOUCH_CTIME);
		dx_ns_nlink(&tx, ip, -1);
		dx_inode_touch(&tx, ip->di, DX_TOUCH_CTIME);
		if (ip->di->nlink == 0)
			dx_inode_unlinked(&tx, ip);
		ret = dx_tx_commit(&tx);
		if (ret != 0)
			dx_err_keep("cannot unlink '%s'", path);
	}
	dx_iunlock(ip, DX_ILOCK_EXCL);
out_put:
	dx_iput(ip);
out:
	dx_iunlock(nd.dir, DX_IOLOCK_EXCL);
	dx_namei_done(&nd);
	dx_map_retry_wait();
	return ret;
}

DX_EXPORT int
daxfile_unlinkat(daxfile_pool *pool, daxfile_file *dir, const char *path,
	int flags)
{
	if (dx_pool_check_handle(pool) != 0)
		return -1;
	if (flags & ~AT_REMOVEDIR)
		return dx_err(EINVAL, "unknown flags %#x", flags & ~AT_REMOVEDIR);
	if (flags & AT_REMOVEDIR)
		return ns_rmdir(pool, dir, path);
	return ns_unlink(pool, dir, path);
}

DX_EXPORT int
daxfile_rmdir(daxfile_pool *pool, const char *path)
{
	return daxfile_unlinkat(pool, NULL, path, AT_REMOVEDIR);
}

DX_EXPORT int
daxfile_unlink(daxfile_pool *pool, const char *path)
{
	return daxfile_unlinkat(pool, NULL, path, 0);
}

/* --- stat ------------------------------------------------------------- */

DX_EXPORT int
daxfile_stat(daxfile_pool *pool, const char *path, struct stat *st)
{
	return daxfile_fstatat(pool, NULL, path, st, 0);
}

/* --- open ------------------------------------------------------------ */

/* create_file -- add a new regular file 'nd' (parent locked exclusive). */
static struct dx_inode *
create_file(struct dx_nameidata *nd, mode_t mode)
{
	struct daxfile_pool *pool = nd->dir->pool;
	struct dx_tx tx;
	uint64_t ino;

	if (dx_ns_may_create(nd) != 0)
		return NULL;
	if (dx_tx_begin(&tx, pool) != 0)
		return NULL;
	ino = dx_inode_alloc(&tx, nd->dir, dx_perm_create_mode(nd->cred, nd->dir,
		S_IFREG | (mode & 07777), dx_pool_umask(pool)), nd->cred);
	if (ino != 0) {
		dx_dir_add(&tx, nd->dir, nd->name, nd->len, ino, DT_REG);
		dx_inode_touch(&tx, nd->dir->di, DX_TOUCH_MTIME | DX_TOUCH_CTIME);
	}
	if (dx_tx_commit(&tx) != 0) {
		dx_err_keep("cannot create '%.*s'", (int)nd->len, nd->name);
		return NULL;
	}
	return dx_iget(pool, ino);
}

/*
 * open_create -- the last step of an open with O_CREAT, under nd->dir's
 * DIR lock exclusive: the existing file, a new one (*created), or (*link)
 * the link to follow.
 */
static struct dx_inode *
open_create(struct dx_nameidata *nd, const char *path, int flags,
	mode_t mode, struct dx_inode **link, bool *created)
{
	struct dx_inode *ip;
	unsigned type;
	uint64_t ino;

	ino = dx_dir_lookup(nd->dir, nd->name, nd->len, &type);
	if (ino == 0) {
		if (errno != ENOENT)
			return NULL;
		ip = create_file(nd, mode);
		*created = ip != NULL;
		return ip;
	}
	if (flags & O_EXCL) {
		dx_err(EEXIST, "'%s' exists", path);
		return NULL;
	}
	ip = dx_iget(nd->dir->pool, ino);
	if (ip != NULL && ip->islnk && !(flags & O_NOFOLLOW)) {
		*link = ip;
		return NULL;
	}
	/* the kernel's do_open: a directory first, then the sticky rule */
	if (ip != NULL && !ip->isdir &&
	    dx_perm_create_in_sticky(nd->cred, nd->dir, ip) != 0) {
		dx_iput(ip);
		return NULL;
	}
	return ip;
}

struct dx_inode *
dx_open_inode(struct daxfile_pool *pool, struct daxfile_file *dir,
	const char *path, int flags, mode_t mode, struct dx_cred *cr,
	bool *created)
{
	struct dx_nameidata nd;
	struct dx_inode *ip, *link;

	*created = false;
	if (dx_namei_parent(pool, dir, path, cr, &nd) != 0)
		return NULL;
	if (!(flags & O_CREAT))
		return dx_namei_last(&nd,
			(flags & O_NOFOLLOW) ? 0 : DX_LOOKUP_FOLLOW);
	for (;;) {
		if (nd.kind != DX_LAST_NAME) {
			if (flags & O_EXCL)
				dx_err(EEXIST, "'%s' exists", path);
			else
				dx_err(EISDIR, "'%s' is a directory", path);
			ip = NULL;
			break;
		}
		if (nd.trailing_slash) {
			dx_err(EISDIR, "cannot create a regular file '%.*s/'",
				(int)nd.len, nd.name);
			ip = NULL;
			break;
		}
		link = NULL;
		dx_ilock(nd.dir, DX_IOLOCK_EXCL);
		ip = open_create(&nd, path, flags, mode, &link, created);
		dx_iunlock(nd.dir, DX_IOLOCK_EXCL);
		/* a link: create or open its target */
		if (link == NULL || dx_namei_follow(&nd, link) != 0)
			break;
	}
	dx_namei_done(&nd);
	return ip;
}

struct dx_inode *
dx_open_tmpfile(struct daxfile_pool *pool, struct daxfile_file *dir,
	const char *path, int flags, mode_t mode, struct dx_cred *cr)
{
	struct dx_inode *dp, *ip = NULL;
	struct dx_tx tx;
	uint64_t ino;

	dp = dx_namei(pool, dir, path, DX_LOOKUP_FOLLOW, cr);
	if (dp == NULL)
		return NULL;
	if (!dp->isdir) {
		dx_err(ENOTDIR, "'%s' is not a directory", path);
		goto out;
	}
	if (dx_perm_inode(cr, dp, DX_MAY_WRITE | DX_MAY_EXEC) != 0)
		goto out;
	if (dx_tx_begin(&tx, pool) != 0)
		goto out;
	ino = dx_inode_alloc(&tx, dp, dx_perm_create_mode(cr, dp,
		S_IFREG | (mode & 07777), dx_pool_umask(pool)), cr);
	if (ino != 0) {
		struct dx_dinode *di = dx_ptr(pool, ino);

		di->nlink = 0;
		dx_inode_orphan(&tx, di);
	}
	if (dx_tx_commit(&tx) != 0) {
		dx_err_keep("cannot create an unnamed file in '%s'", path);
		goto out;
	}
	ip = dx_iget(pool, ino);
	if (ip != NULL)
		ip->linkable = !(flags & O_EXCL);
out:
	dx_iput(dp);
	return ip;
}
