/*
 * rename.c -- rename(2) and renameat2(2): moving a name, replacing a
 * target (RENAME_NOREPLACE refuses to), or exchanging two names
 * (RENAME_EXCHANGE), each in one transaction.
 *
 * Lock order (doc/locking.md): RENAME (only when the parents differ) ->
 * the parents' DIR locks (an ancestor first, otherwise the lower inode
 * number first) -> the source's and target's DIR locks or ILOCKs (lower
 * inode number first).  Errors come in the order the kernel's
 * do_renameat2 and vfs_rename give them.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>

#include "defer.h"
#include "dir.h"
#include "namei.h"
#include "namespace.h"
#include "out.h"
#include "permission.h"
#include "pool.h"
#include "tx.h"

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
	unsigned flags;		/* RENAME_* */
	struct dx_cred cred;
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

/*
 * rename_lock_children -- the source and target: a directory's DIR lock
 * before a file's ILOCK (the rank order: RENAME_EXCHANGE can pair the
 * two), otherwise the lower inode number first.
 */
static void
rename_lock_children(struct rename_ctx *rc)
{
	struct dx_inode *x = rc->src, *y = rc->tgt;
	unsigned fx, fy;

	if (y != NULL && (y->isdir != x->isdir ? y->isdir : y->ino < x->ino)) {
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
 * rename_lookup -- the source and the target (NULL if absent), under the
 * parents' locks, with the errors of the lookups.
 */
static int
rename_lookup(struct rename_ctx *rc)
{
	if (dx_ns_alive(rc->from.dir) != 0)
		return -1;
	rc->src = dx_namei_child(&rc->from);
	if (rc->src == NULL)
		return -1;
	if (dx_ns_alive(rc->to.dir) != 0)
		return -1;
	rc->tgt = dx_namei_child(&rc->to);
	if (rc->tgt == NULL && errno != ENOENT)
		return -1;
	if (rc->tgt != NULL && (rc->flags & RENAME_NOREPLACE))
		return dx_err(EEXIST, "target exists (RENAME_NOREPLACE)");
	return 0;
}

/*
 * rename_check -- the errors the kernel gives before anything changes,
 * checked before the children are locked: trailing slashes on what is
 * not a directory (ENOTDIR), a directory moved below itself (EINVAL), a
 * target that is an ancestor of the source (ENOTEMPTY; EINVAL for an
 * exchange).  Locking the children in the last two cases would break the
 * lock order.
 */
static int
rename_check(struct rename_ctx *rc)
{
	struct dx_inode *src = rc->src, *tgt = rc->tgt;
	bool exchange = rc->flags & RENAME_EXCHANGE;

	if (exchange) {
		if (tgt == NULL)
			return dx_err(ENOENT, "target does not exist (RENAME_EXCHANGE)");
		if (!tgt->isdir && rc->to.trailing_slash)
			return dx_err(ENOTDIR, "target is not a directory");
	}
	if (!src->isdir && (rc->from.trailing_slash ||
	    (!exchange && rc->to.trailing_slash)))
		return dx_err(ENOTDIR, "source is not a directory");
	if (src->ino == rc->src_trap)
		return dx_err(EINVAL, "cannot move a directory into itself");
	if (tgt != NULL && tgt->ino == rc->tgt_trap) {
		if (exchange)
			return dx_err(EINVAL, "cannot exchange a directory with its ancestor");
		return dx_err(ENOTEMPTY, "target directory is not empty");
	}
	return 0;
}

/*
 * rename_may -- what vfs_rename checks once it knows the two are different
 * files, in its order: removing the source (may_delete), removing the
 * target or creating the new name, and the kinds of source and target
 * (not for an exchange); write permission on a directory that moves to
 * another parent (its ".." changes); the link count of a parent that
 * would gain a subdirectory.
 */
static int
rename_may(struct rename_ctx *rc)
{
	struct dx_inode *src = rc->src, *tgt = rc->tgt;
	bool exchange = rc->flags & RENAME_EXCHANGE;
	struct dx_cred *cr = &rc->cred;

	if (dx_perm_may_delete(cr, rc->from.dir, src) != 0)
		return -1;
	if (tgt == NULL) {
		if (dx_perm_may_create(cr, rc->to.dir) != 0)
			return -1;
	} else {
		if (dx_perm_may_delete(cr, rc->to.dir, tgt) != 0)
			return -1;
		if (!exchange && src->isdir && !tgt->isdir)
			return dx_err(ENOTDIR, "target is not a directory");
		if (!exchange && !src->isdir && tgt->isdir)
			return dx_err(EISDIR, "target is a directory");
	}
	if (rc->from.dir == rc->to.dir)
		return 0;
	if (src->isdir && dx_perm_inode(cr, src, DX_MAY_WRITE) != 0)
		return -1;
	if (exchange && tgt->isdir && dx_perm_inode(cr, tgt, DX_MAY_WRITE) != 0)
		return -1;
	if (src->isdir && (tgt == NULL || !tgt->isdir) &&
	    rc->to.dir->di->nlink >= DX_LINK_MAX)
		return dx_err(EMLINK, "target directory has %d links already",
			DX_LINK_MAX);
	if (exchange && !src->isdir && tgt->isdir &&
	    rc->from.dir->di->nlink >= DX_LINK_MAX)
		return dx_err(EMLINK, "source directory has %d links already",
			DX_LINK_MAX);
	return 0;
}

/*
 * rename_check_empty -- a directory target must be empty (its lock held):
 * EEXIST otherwise, as XFS says (POSIX allows it or ENOTEMPTY).
 */
static int
rename_check_empty(struct rename_ctx *rc)
{
	if (!(rc->flags & RENAME_EXCHANGE) && rc->tgt != NULL &&
	    rc->tgt->isdir && !dx_dir_is_empty(rc->tgt))
		return dx_err(EEXIST, "target directory is not empty");
	return 0;
}

/* rename_move_dir -- directory 'ip' moves from 'from' to 'to' (in tx). */
static void
rename_move_dir(struct dx_tx *tx, struct dx_inode *ip, struct dx_inode *from,
	struct dx_inode *to)
{
	dx_dir_set_parent(tx, ip, to->ino);
	dx_ns_nlink(tx, from, -1);
	dx_ns_nlink(tx, to, +1);
}

/* rename_replace -- the target's entry now names the source (in tx). */
static void
rename_replace(struct dx_tx *tx, struct rename_ctx *rc)
{
	struct dx_inode *tgt = rc->tgt, *tdir = rc->to.dir;

	dx_dir_retarget(tx, tdir, rc->to.name, rc->to.len, rc->src->ino,
		dx_inode_dtype(rc->src));
	if (tgt->isdir)
		dx_ns_nlink(tx, tdir, -1);
	dx_inode_drop_link(tx, tgt);
}

/* rename_exchange -- the two entries swap their inodes (in tx). */
static void
rename_exchange(struct dx_tx *tx, struct rename_ctx *rc)
{
	struct dx_inode *src = rc->src, *tgt = rc->tgt;
	struct dx_inode *fdir = rc->from.dir, *tdir = rc->to.dir;

	dx_dir_retarget(tx, fdir, rc->from.name, rc->from.len, tgt->ino,
		dx_inode_dtype(tgt));
	dx_dir_retarget(tx, tdir, rc->to.name, rc->to.len, src->ino,
		dx_inode_dtype(src));
	if (fdir == tdir)
		return;
	if (src->isdir)
		rename_move_dir(tx, src, fdir, tdir);
	if (tgt->isdir)
		rename_move_dir(tx, tgt, tdir, fdir);
}

static int
rename_commit(struct rename_ctx *rc)
{
	struct dx_inode *src = rc->src, *tgt = rc->tgt;
	struct dx_inode *fdir = rc->from.dir, *tdir = rc->to.dir;
	struct dx_tx tx;
	int ret;

	if (dx_tx_begin(&tx, rc->pool) != 0)
		return -1;
	if (rc->flags & RENAME_EXCHANGE) {
		rename_exchange(&tx, rc);
		dx_inode_touch(&tx, tgt->di, DX_TOUCH_CTIME);
	} else {
		if (tgt != NULL) {
			rename_replace(&tx, rc);
			dx_dir_remove(&tx, fdir, rc->from.name, rc->from.len);
		} else {
			dx_dir_move(&tx, fdir, rc->from.name, rc->from.len,
				tdir, rc->to.name, rc->to.len,
				src->isdir ? NULL : src->di);
		}
		if (src->isdir && fdir != tdir)
			rename_move_dir(&tx, src, fdir, tdir);
	}
	dx_inode_touch(&tx, fdir->di, DX_TOUCH_MTIME | DX_TOUCH_CTIME);
	if (fdir != tdir)
		dx_inode_touch(&tx, tdir->di, DX_TOUCH_MTIME | DX_TOUCH_CTIME);
	dx_inode_touch(&tx, src->di, DX_TOUCH_CTIME);
	ret = dx_tx_commit(&tx);
	if (ret == 0 && tgt != NULL && tgt->isdir && !tgt->unhashed &&
	    tgt->di->nlink == 0)
		dx_ns_removed(tgt, tdir);
	return ret;
}

/* rename_flags_check -- the flags renameat2(2) takes. */
static int
rename_flags_check(unsigned flags)
{
	const unsigned known = RENAME_NOREPLACE | RENAME_EXCHANGE |
		RENAME_WHITEOUT;

	if (flags & ~known)
		return dx_err(EINVAL, "unknown flags %#x", flags & ~known);
	if ((flags & RENAME_EXCHANGE) &&
	    (flags & (RENAME_NOREPLACE | RENAME_WHITEOUT)))
		return dx_err(EINVAL, "RENAME_EXCHANGE with RENAME_NOREPLACE or RENAME_WHITEOUT");
	return 0;
}

/* rename_resolve -- both parents, and the errors of their last components. */
static int
rename_resolve(struct rename_ctx *rc, daxfile_file *olddir,
	const char *oldpath, daxfile_file *newdir, const char *newpath)
{
	if (dx_namei_parent(rc->pool, olddir, oldpath, &rc->cred, &rc->from) != 0)
		return -1;
	if (dx_namei_parent(rc->pool, newdir, newpath, &rc->cred, &rc->to) != 0)
		return -1;
	if (rc->from.kind != DX_LAST_NAME)
		return dx_err(EBUSY, "cannot rename '.', '..' or '/'");
	if (rc->to.kind != DX_LAST_NAME) {
		if (rc->flags & RENAME_NOREPLACE)
			return dx_err(EEXIST, "target exists (RENAME_NOREPLACE)");
		return dx_err(EBUSY, "cannot rename onto '.', '..' or '/'");
	}
	return 0;
}

DX_EXPORT int
daxfile_renameat2(daxfile_pool *pool, daxfile_file *olddir,
	const char *oldpath, daxfile_file *newdir, const char *newpath,
	unsigned flags)
{
	DX_CALL();
	struct rename_ctx rc;
	int ret = -1;

	if (dx_pool_check_handle(pool) != 0 || rename_flags_check(flags) != 0)
		return -1;
	memset(&rc, 0, sizeof(rc));
	rc.pool = pool;
	rc.flags = flags;
	dx_cred_init(&rc.cred, DX_CRED_FS);
	if (rename_resolve(&rc, olddir, oldpath, newdir, newpath) != 0)
		goto out;
	if (rename_lock_parents(&rc) != 0)
		goto out;
	if (rename_lookup(&rc) != 0 || rename_check(&rc) != 0)
		goto out;
	if (rc.tgt == rc.src) {
		ret = 0; /* two names of one file: nothing to do */
		goto out;
	}
	if (rename_may(&rc) != 0)
		goto out;
	if (flags & RENAME_WHITEOUT) {
		/* the file system's answer, after the walk and the checks */
		dx_err(EINVAL, "RENAME_WHITEOUT is not supported");
		goto out;
	}
	rename_lock_children(&rc);
	if (rename_check_empty(&rc) != 0)
		goto out;
	ret = rename_commit(&rc);
	if (ret != 0)
		dx_err_keep("cannot rename '%s' to '%s'", oldpath, newpath);
out:
	rename_unlock(&rc);
	return ret;
}

DX_EXPORT int
daxfile_rename(daxfile_pool *pool, const char *from, const char *to)
{
	DX_CALL();
	return daxfile_renameat2(pool, NULL, from, NULL, to, 0);
}
