/*
 * namespace.c -- the calls that change or query the tree: mkdir, rmdir,
 * unlink, rename, stat, and the lookup-or-create step of open.
 *
 * Every change is one transaction taken under the parent directory's DIR
 * lock (exclusive): after a crash the tree is before or after the call.
 * Lock order (doc/locking.md): RENAME -> parent DIRs (ancestor first,
 * otherwise lower inode number first) -> child DIRs or ILOCKs (lower inode
 * number first).
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

/* parent_alive -- a directory removed while we walked gets no new entries. */
static int
parent_alive(struct dx_inode *dir)
{
	if (dir->di->nlink == 0)
		return dx_err(ENOENT, "directory was removed");
	return 0;
}

/* dir_link_count -- change a directory's link count by 'delta' (in tx). */
static void
dir_link_count(struct dx_tx *tx, struct dx_inode *dp, int delta)
{
	if (DX_TX_ADD_FIELD(tx, dp->di, nlink) == 0)
		dp->di->nlink = (uint32_t)((int)dp->di->nlink + delta);
}

static unsigned
dirent_type(const struct dx_inode *ip)
{
	return ip->isdir ? DT_DIR : DT_REG;
}

DX_EXPORT int
daxfile_mkdir(daxfile_pool *pool, const char *path, mode_t mode)
{
	struct dx_nameidata nd;
	struct dx_cred cr;
	struct dx_tx tx;
	unsigned type;
	uint64_t ino;
	int ret = -1;

	if (dx_pool_check_handle(pool) != 0)
		return -1;
	if (dx_namei_parent(pool, path, &nd) != 0)
		return -1;
	if (nd.kind != DX_LAST_NAME) {
		dx_namei_done(&nd);
		return dx_err(EEXIST, "'%s' exists", path);
	}
	dx_ilock(nd.dir, DX_IOLOCK_EXCL);
	if (parent_alive(nd.dir) != 0)
		goto out;
	if (dx_dir_lookup(nd.dir, nd.name, nd.len, &type) != 0) {
		dx_err(EEXIST, "'%s' exists", path);
		goto out;
	}
	if (errno != ENOENT)
		goto out;
	if (dx_tx_begin(&tx, pool) != 0)
		goto out;
	dx_cred_init(&cr, DX_CRED_FS);
	ino = dx_inode_alloc(&tx, nd.dir, dx_perm_create_mode(&cr, nd.dir,
		S_IFDIR | (mode & 07777), dx_pool_umask(pool)), &cr);
	if (ino != 0) {
		dx_dir_init(pool, ino, nd.dir->ino);
		dx_dir_add(&tx, nd.dir, nd.name, nd.len, ino, DT_DIR);
		dir_link_count(&tx, nd.dir, +1);
		dx_inode_touch(&tx, nd.dir->di, DX_TOUCH_MTIME | DX_TOUCH_CTIME);
	}
	ret = dx_tx_commit(&tx);
	if (ret != 0)
		dx_err_keep("cannot create directory '%s'", path);
out:
	dx_iunlock(nd.dir, DX_IOLOCK_EXCL);
	dx_namei_done(&nd);
	return ret;
}

DX_EXPORT int
daxfile_rmdir(daxfile_pool *pool, const char *path)
{
	struct dx_nameidata nd;
	struct dx_inode *ip;
	struct dx_tx tx;
	int ret = -1;

	if (dx_pool_check_handle(pool) != 0)
		return -1;
	if (dx_namei_parent(pool, path, &nd) != 0)
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
	if (!ip->isdir) {
		dx_err(ENOTDIR, "'%s' is not a directory", path);
		goto out_put;
	}
	dx_ilock_nested(ip, DX_IOLOCK_EXCL, DX_LSC_1);
	if (!dx_dir_is_empty(ip)) {
		dx_err(ENOTEMPTY, "directory '%s' is not empty", path);
		goto out_unlock;
	}
	if (dx_tx_begin(&tx, pool) != 0)
		goto out_unlock;
	dx_dir_remove(&tx, nd.dir, nd.name, nd.len);
	dir_link_count(&tx, nd.dir, -1);
	dx_inode_touch(&tx, nd.dir->di, DX_TOUCH_MTIME | DX_TOUCH_CTIME);
	DX_TX_ADD_FIELD(&tx, ip->di, nlink);
	ip->di->nlink = 0;
	dx_inode_touch(&tx, ip->di, DX_TOUCH_CTIME);
	dx_inode_unlinked(&tx, ip);
	ret = dx_tx_commit(&tx);
	if (ret != 0)
		dx_err_keep("cannot remove directory '%s'", path);
out_unlock:
	dx_iunlock(ip, DX_IOLOCK_EXCL);
out_put:
	dx_iput(ip);
out:
	dx_iunlock(nd.dir, DX_IOLOCK_EXCL);
	dx_namei_done(&nd);
	dx_map_retry_wait();
	return ret;
}

DX_EXPORT int
daxfile_unlink(daxfile_pool *pool, const char *path)
{
	struct dx_nameidata nd;
	struct dx_inode *ip;
	struct dx_tx tx;
	int ret = -1;

	if (dx_pool_check_handle(pool) != 0)
		return -1;
	if (dx_namei_parent(pool, path, &nd) != 0)
		return -1;
	if (nd.kind != DX_LAST_NAME) {
		dx_namei_done(&nd);
		return dx_err(EISDIR, "'%s' is a directory", path);
	}
	dx_ilock(nd.dir, DX_IOLOCK_EXCL);
	ip = dx_namei_child(&nd);
	if (ip == NULL)
		goto out;
	if (ip->isdir) {
		dx_err(EISDIR, "'%s' is a directory", path);
		goto out_put;
	}
	dx_ilock(ip, DX_ILOCK_EXCL);
	if (dx_tx_begin(&tx, pool) == 0) {
		dx_dir_remove(&tx, nd.dir, nd.name, nd.len);
		dx_inode_touch(&tx, nd.dir->di, DX_TOUCH_MTIME | DX_TOUCH_CTIME);
		DX_TX_ADD_FIELD(&tx, ip->di, nlink);
		ip->di->nlink--;
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
daxfile_stat(daxfile_pool *pool, const char *path, struct stat *st)
{
	struct dx_inode *ip;

	if (dx_pool_check_handle(pool) != 0)
		return -1;
	if (st == NULL)
		return dx_err(EFAULT, "stat buffer is NULL");
	ip = dx_namei(pool, path);
	if (ip == NULL)
		return -1;
	dx_inode_lock_attrs(ip, false);
	dx_inode_stat(ip, st);
	dx_inode_unlock_attrs(ip, false);
	dx_iput(ip);
	return 0;
}

/* --- rename ------------------------------------------------------------ */

/*
 * rename_trap -- is directory 'a' a proper ancestor of 'b'?  If so, '*trap'
 * gets the child of 'a' on the path down to 'b' (as the kernel's
 * lock_rename returns it).  Caller holds the pool's RENAME lock, so no
 * directory moves meanwhile; each step up is taken under the child's DIR
 * lock (shared, alone), so no step lands on a freed inode.  Runs before
 * any other directory lock is taken.
 */
static int
rename_trap(struct dx_inode *a, struct dx_inode *b, uint64_t *trap)
{
	struct daxfile_pool *pool = a->pool;
	struct dx_inode *cur = b;
	uint64_t limit = pool->size / sizeof(struct dx_dinode);

	dx_ihold(cur);
	for (;;) {
		struct dx_inode *up;
		uint64_t parent;

		if (cur->ino == pool->sb->root_ino) {
			dx_iput(cur);
			return 0;
		}
		if (limit-- == 0) {
			dx_iput(cur);
			return dx_corrupt(pool, "directory cycle", cur->ino);
		}
		dx_ilock(cur, DX_IOLOCK_SHARED);
		parent = dx_dir_hdr(cur)->parent;
		up = cur->di->nlink != 0 ? dx_iget(pool, parent) : NULL;
		if (cur->di->nlink == 0)
			dx_err(ENOENT, "directory was removed");
		dx_iunlock(cur, DX_IOLOCK_SHARED);
		if (up == a) {
			*trap = cur->ino;
			dx_iput(up);
			dx_iput(cur);
			return 1;
		}
		dx_iput(cur);
		if (up == NULL)
			return -1;
		cur = up;
	}
}

struct rename_ctx {
	struct daxfile_pool *pool;
	struct dx_nameidata from, to;
	struct dx_inode *first, *second;	/* parents in lock order */
	struct dx_inode *src, *tgt;
	unsigned src_locks, tgt_locks;
	bool cross;
	uint64_t src_trap;	/* a source here moves below itself */
	uint64_t tgt_trap;	/* a target here is an ancestor of the source */
};

/*
 * rename_lock_parents -- lock both parents: an ancestor first, otherwise
 * the lower inode number first; remember the traps on the way.
 */
static int
rename_lock_parents(struct rename_ctx *rc)
{
	struct dx_inode *a = rc->from.dir, *b = rc->to.dir;
	uint64_t trap = 0;
	int anc;

	if (a == b) {
		rc->first = a;
		dx_ilock(a, DX_IOLOCK_EXCL);
		return 0;
	}
	rc->cross = true;
	dx_mutex_lock(&rc->pool->rename_lock);
	anc = rename_trap(a, b, &trap);
	if (anc == 1) {
		rc->src_trap = trap;
	} else if (anc == 0) {
		anc = rename_trap(b, a, &trap);
		if (anc == 1) {
			rc->tgt_trap = trap;
			anc = 2;
		}
	}
	if (anc < 0)
		return -1;
	if (anc == 1 || (anc == 0 && a->ino < b->ino)) {
		rc->first = a;
		rc->second = b;
	} else {
		rc->first = b;
		rc->second = a;
	}
	dx_ilock_nested(rc->first, DX_IOLOCK_EXCL, DX_LSC_0);
	dx_ilock_nested(rc->second, DX_IOLOCK_EXCL, DX_LSC_1);
	return 0;
}

static void
rename_unlock(struct rename_ctx *rc)
{
	if (rc->tgt != NULL && rc->tgt_locks)
		dx_iunlock(rc->tgt, rc->tgt_locks);
	if (rc->src != NULL && rc->src_locks)
		dx_iunlock(rc->src, rc->src_locks);
	if (rc->second != NULL)
		dx_iunlock(rc->second, DX_IOLOCK_EXCL);
	if (rc->first != NULL)
		dx_iunlock(rc->first, DX_IOLOCK_EXCL);
	if (rc->cross)
		dx_mutex_unlock(&rc->pool->rename_lock);
	if (rc->tgt != NULL)
		dx_iput(rc->tgt);
	if (rc->src != NULL)
		dx_iput(rc->src);
	dx_namei_done(&rc->to);
	dx_namei_done(&rc->from);
}

/* rename_lock_children -- the source and target, lower inode number first. */
static void
rename_lock_children(struct rename_ctx *rc)
{
	struct dx_inode *x = rc->src, *y = rc->tgt;
	unsigned fx, fy;

	if (y != NULL && y->ino < x->ino) {
		x = rc->tgt;
		y = rc->src;
	}
	fx = x->isdir ? DX_IOLOCK_EXCL : DX_ILOCK_EXCL;
	dx_ilock_nested(x, fx, x->isdir ? DX_LSC_2 : DX_LSC_0);
	if (y != NULL) {
		fy = y->isdir ? DX_IOLOCK_EXCL : DX_ILOCK_EXCL;
		dx_ilock_nested(y, fy, y->isdir ? DX_LSC_3 : DX_LSC_1);
	}
	rc->src_locks = rc->src->isdir ? DX_IOLOCK_EXCL : DX_ILOCK_EXCL;
	if (rc->tgt != NULL)
		rc->tgt_locks = rc->tgt->isdir ? DX_IOLOCK_EXCL : DX_ILOCK_EXCL;
}

/*
 * rename_check -- the errors POSIX gives before anything changes, checked
 * before the children are locked: a directory moved below itself (EINVAL),
 * a target that is an ancestor of the source (ENOTEMPTY), and a kind
 * mismatch (which never changes, so it needs no lock).  Locking the
 * children in any of these cases would break the lock order.
 */
static int
rename_check(struct rename_ctx *rc)
{
	struct dx_inode *src = rc->src, *tgt = rc->tgt;

	if (src->ino == rc->src_trap)
		return dx_err(EINVAL, "cannot move a directory into itself");
	if (tgt != NULL && tgt->ino == rc->tgt_trap)
		return dx_err(ENOTEMPTY, "target directory is not empty");
	if (src->isdir && tgt != NULL && !tgt->isdir)
		return dx_err(ENOTDIR, "target is not a directory");
	if (!src->isdir && tgt != NULL && tgt->isdir)
		return dx_err(EISDIR, "target is a directory");
	if (!src->isdir && rc->to.trailing_slash)
		return dx_err(ENOTDIR, "source is not a directory");
	return 0;
}

/*
 * rename_check_empty -- a directory target must be empty (its lock held):
 * EEXIST otherwise, as XFS says (POSIX allows it or ENOTEMPTY).
 */
static int
rename_check_empty(struct rename_ctx *rc)
{
	if (rc->tgt != NULL && rc->tgt->isdir && !dx_dir_is_empty(rc->tgt))
		return dx_err(EEXIST, "target directory is not empty");
	return 0;
}

static int
rename_commit(struct rename_ctx *rc)
{
	struct dx_inode *src = rc->src, *tgt = rc->tgt;
	struct dx_inode *fdir = rc->from.dir, *tdir = rc->to.dir;
	unsigned type = dirent_type(src);
	struct dx_tx tx;

	if (dx_tx_begin(&tx, rc->pool) != 0)
		return -1;
	if (tgt != NULL) {
		dx_dir_retarget(&tx, tdir, rc->to.name, rc->to.len, src->ino,
			type);
		DX_TX_ADD_FIELD(&tx, tgt->di, nlink);
		tgt->di->nlink = 0;
		dx_inode_touch(&tx, tgt->di, DX_TOUCH_CTIME);
		if (tgt->isdir)
			dir_link_count(&tx, tdir, -1);
		dx_inode_unlinked(&tx, tgt);
	} else {
		dx_dir_add(&tx, tdir, rc->to.name, rc->to.len, src->ino, type);
	}
	dx_dir_remove(&tx, fdir, rc->from.name, rc->from.len);
	if (src->isdir && fdir != tdir) {
		dx_dir_set_parent(&tx, src, tdir->ino);
		dir_link_count(&tx, fdir, -1);
		dir_link_count(&tx, tdir, +1);
	}
	dx_inode_touch(&tx, fdir->di, DX_TOUCH_MTIME | DX_TOUCH_CTIME);
	if (fdir != tdir)
		dx_inode_touch(&tx, tdir->di, DX_TOUCH_MTIME | DX_TOUCH_CTIME);
	dx_inode_touch(&tx, src->di, DX_TOUCH_CTIME);
	return dx_tx_commit(&tx);
}

DX_EXPORT int
daxfile_rename(daxfile_pool *pool, const char *from, const char *to)
{
	struct rename_ctx rc;
	unsigned type;
	int ret = -1;

	if (dx_pool_check_handle(pool) != 0)
		return -1;
	memset(&rc, 0, sizeof(rc));
	rc.pool = pool;
	if (dx_namei_parent(pool, from, &rc.from) != 0)
		return -1;
	if (dx_namei_parent(pool, to, &rc.to) != 0) {
		dx_namei_done(&rc.from);
		return -1;
	}
	if (rc.from.kind != DX_LAST_NAME || rc.to.kind != DX_LAST_NAME) {
		rename_unlock(&rc);
		return dx_err(EBUSY, "cannot rename '.', '..' or '/'");
	}
	if (rename_lock_parents(&rc) != 0) {
		rename_unlock(&rc);
		return -1;
	}
	if (parent_alive(rc.from.dir) != 0 || parent_alive(rc.to.dir) != 0)
		goto out;
	rc.src = dx_namei_child(&rc.from);
	if (rc.src == NULL)
		goto out;
	if (dx_dir_lookup(rc.to.dir, rc.to.name, rc.to.len, &type) != 0) {
		rc.tgt = dx_namei_child(&rc.to);
		if (rc.tgt == NULL)
			goto out;
	} else if (errno != ENOENT) {
		goto out;
	}
	if (rc.tgt == rc.src) {
		ret = 0; /* the same file: nothing to do */
		goto out;
	}
	if (rename_check(&rc) != 0)
		goto out;
	rename_lock_children(&rc);
	if (rename_check_empty(&rc) != 0)
		goto out;
	ret = rename_commit(&rc);
	if (ret != 0)
		dx_err_keep("cannot rename '%s' to '%s'", from, to);
out:
	rename_unlock(&rc);
	dx_map_retry_wait();
	return ret;
}

/* --- open ------------------------------------------------------------ */

/* create_file -- add a new regular file 'nd' (parent locked exclusive). */
static struct dx_inode *
create_file(struct dx_nameidata *nd, mode_t mode)
{
	struct daxfile_pool *pool = nd->dir->pool;
	struct dx_cred cr;
	struct dx_tx tx;
	uint64_t ino;

	if (nd->trailing_slash) {
		dx_err(EISDIR, "cannot create a regular file '%.*s/'",
			(int)nd->len, nd->name);
		return NULL;
	}
	if (dx_tx_begin(&tx, pool) != 0)
		return NULL;
	dx_cred_init(&cr, DX_CRED_FS);
	ino = dx_inode_alloc(&tx, nd->dir, dx_perm_create_mode(&cr, nd->dir,
		S_IFREG | (mode & 07777), dx_pool_umask(pool)), &cr);
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

struct dx_inode *
dx_open_inode(struct daxfile_pool *pool, const char *path, int flags,
	mode_t mode)
{
	struct dx_nameidata nd;
	struct dx_inode *ip;
	unsigned type;

	if (dx_namei_parent(pool, path, &nd) != 0)
		return NULL;
	if (!(flags & O_CREAT)) {
		dx_ilock(nd.dir, DX_IOLOCK_SHARED);
		ip = dx_namei_child(&nd);
		dx_iunlock(nd.dir, DX_IOLOCK_SHARED);
		dx_namei_done(&nd);
		return ip;
	}
	if (nd.kind != DX_LAST_NAME) {
		dx_namei_done(&nd);
		if (flags & O_EXCL)
			dx_err(EEXIST, "'%s' exists", path);
		else
			dx_err(EISDIR, "'%s' is a directory", path);
		return NULL;
	}
	dx_ilock(nd.dir, DX_IOLOCK_EXCL);
	ip = NULL;
	if (parent_alive(nd.dir) != 0)
		goto out;
	if (dx_dir_lookup(nd.dir, nd.name, nd.len, &type) != 0) {
		if (flags & O_EXCL)
			dx_err(EEXIST, "'%s' exists", path);
		else
			ip = dx_namei_child(&nd);
	} else if (errno == ENOENT) {
		ip = create_file(&nd, mode);
	}
out:
	dx_iunlock(nd.dir, DX_IOLOCK_EXCL);
	dx_namei_done(&nd);
	return ip;
}
