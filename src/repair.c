/*
 * repair.c -- daxfile_pool_repair, behind `daxfile check -r`: the check,
 * then what can be mended without guessing, each repair one transaction:
 *
 *  1. the superblock: a damaged primary is written again from an intact
 *     copy, damaged copies from the superblock;
 *  1b. the undo log lanes: made anew where mkfs puts them when the root
 *     names an area that is not one, or one elsewhere (what a crash left
 *     in a damaged area cannot be put back: the checks after this one
 *     find what it leaves inconsistent);
 *  2. directory entries that name no sound inode are removed (with the
 *     parent's link, for an entry of a directory), so that `daxfile rm`
 *     is not needed, and cannot fail, on them;
 *  3. inode objects that are damaged are freed (those of slabs with the
 *     entry that named them);
 *  4. the AG bitmaps and free counts are set to the blocks the files own,
 *     and damaged AG headers rebuilt from the superblock's geometry, when
 *     every file's extent records are sound (dx_check): before 2 (a pool
 *     opens only with sound AG headers), and again after 3, which frees
 *     the blocks of the inodes freed.
 *
 * Everything else is left as the check reported it: daxfile salvage
 * copies out what can still be read.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>

#include "check.h"
#include "daxfile.h"
#include "defer.h"
#include "dir.h"
#include "inode.h"
#include "mem.h"
#include "out.h"
#include "pool.h"
#include "probe.h"
#include "slab.h"
#include "super.h"
#include "tx.h"
#include "undo.h"

/* One entry of a directory, read before anything changes it. */
struct rp_entry {
	uint64_t ino;
	unsigned type;
	char name[DX_NAME_MAX + 1];
};

/* The entries of one directory. */
struct rp_list {
	struct rp_entry *v;
	size_t n, cap;
	dx_arena arena;
};

/* rp_super -- 1: the superblock and its copies, from the intact one. */
static void
rp_super(const char *path, FILE *report)
{
	struct daxfile_pool *pool = dx_pool_attach(path, true);
	uint64_t first;
	struct dx_tx tx;

	if (pool == NULL)
		return;
	if (dx_super_check(pool) == 0 && pool->sb_copy != 0 &&
	    dx_tx_begin(&tx, pool) == 0) {
		if (dx_tx_add(&tx, &pool->root->sb, sizeof(pool->root->sb)) == 0)
			memcpy(&pool->root->sb, pool->sb, sizeof(pool->root->sb));
		if (dx_tx_commit(&tx) == 0) {
			fprintf(report, "repaired: the superblock, from its copy at %#lx\n",
				(unsigned long)pool->sb_copy);
			pool->sb = &pool->root->sb;
			pool->sb_copy = 0;
		}
	}
	if (pool->sb != NULL && pool->sb_copy == 0 &&
	    dx_super_copies_damaged(pool, &first) != 0) {
		dx_super_write_copies(pool, pool->sb);
		fprintf(report, "repaired: the copies of the superblock\n");
	}
	dx_pool_detach(pool);
}

/* rp_undo -- 1b: the undo log lanes, made anew. */
static void
rp_undo(const char *path, FILE *report)
{
	struct daxfile_pool *pool = dx_pool_attach(path, true);

	if (pool == NULL)
		return;
	if (dx_super_check(pool) == 0 && dx_undo_problem(pool) != NULL) {
		if (dx_undo_rebuild(pool) == 0)
			fprintf(report, "repaired: the undo log lanes, made anew "
				"at %#lx\n", (unsigned long)pool->root->undo);
		else
			fprintf(report, "cannot make the undo log lanes anew: "
				"%s\n", daxfile_errormsg());
	}
	dx_pool_detach(pool);
}

/* rp_collect -- note one entry of the directory being read. */
static int
rp_collect(void *arg, const char *name, size_t len, uint64_t ino,
	unsigned type)
{
	struct rp_list *l = arg;

	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 64;
		struct rp_entry *v = dx_realloc(l->arena, l->v, cap * sizeof(*v));

		if (v == NULL)
			return dx_err(ENOMEM, "cannot list a directory");
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n].ino = ino;
	l->v[l->n].type = type;
	memcpy(l->v[l->n].name, name, len);
	l->v[l->n].name[len] = '\0';
	l->n++;
	return 0;
}

/*
 * rp_unname -- remove the entry 'e' of 'dp', which names no sound inode,
 * and free that inode's object when it is one of a slab (3 frees those of
 * libpmemobj's own objects).
 */
static void
rp_unname(struct daxfile_pool *pool, struct dx_inode *dp,
	const struct rp_entry *e, const char *dir, FILE *report)
{
	bool obj = dx_slab_is_object(pool, e->ino);
	struct dx_tx tx;

	if (dx_tx_begin(&tx, pool) != 0)
		return;
	dx_dir_remove(&tx, dp, e->name, strlen(e->name));
	if (e->type == DT_DIR && DX_TX_ADD_FIELD(&tx, dp->di, nlink) == 0)
		dp->di->nlink--;
	dx_inode_touch(&tx, dp->di, DX_TOUCH_MTIME | DX_TOUCH_CTIME);
	if (obj)
		dx_slab_free(&tx, e->ino);
	if (dx_tx_commit(&tx) == 0)
		fprintf(report, "repaired: removed the entry %s%s%s, which named the damaged inode %#lx%s\n",
			dir, strcmp(dir, "/") ? "/" : "", e->name,
			(unsigned long)e->ino, obj ? ", and freed that inode" : "");
}

/*
 * rp_dir -- 2: remove the entries of directory 'ino' (at 'dir') that name
 * no sound inode, then do the same in its subdirectories.  No directory
 * lock is held while a subdirectory is visited.
 */
static void
rp_dir(struct daxfile_pool *pool, uint64_t ino, char *dir, unsigned depth,
	FILE *report)
{
	struct rp_list l = {NULL, 0, 0, pool->arena};
	size_t len = strlen(dir);
	struct dx_inode *dp = dx_iget(pool, ino);
	unsigned damaged;

	if (dp == NULL || !dp->isdir || depth > PATH_MAX / 2) {
		if (dp != NULL)
			dx_iput(dp);
		return;
	}
	dx_ilock(dp, DX_IOLOCK_EXCL);
	dx_dir_foreach_intact(pool, dx_dir_hdr(dp), rp_collect, &l, &damaged);
	for (size_t i = 0; i < l.n; i++) {
		struct dx_inode *ip = dx_iget(pool, l.v[i].ino);

		if (ip == NULL && errno == EFSCORRUPTED)
			rp_unname(pool, dp, &l.v[i], dir, report);
		if (ip == NULL || !ip->isdir)
			l.v[i].ino = 0;
		if (ip != NULL)
			dx_iput(ip);
	}
	dx_iunlock(dp, DX_IOLOCK_EXCL);
	dx_iput(dp);
	for (size_t i = 0; i < l.n; i++) {
		if (l.v[i].ino == 0 ||
		    len + 1 + strlen(l.v[i].name) >= PATH_MAX)
			continue;
		snprintf(dir + len, PATH_MAX - len, "%s%s",
			len > 1 ? "/" : "", l.v[i].name);
		rp_dir(pool, l.v[i].ino, dir, depth + 1, report);
		dir[len] = '\0';
	}
	dx_free(pool->arena, l.v);
}

/* rp_free_damaged -- 3: free the inode objects that are damaged. */
static void
rp_free_damaged(struct daxfile_pool *pool, const uint64_t *offs, size_t n,
	FILE *report)
{
	for (size_t k = 0; k < n; k++) {
		struct dx_inode *ip = dx_iget(pool, offs[k]);
		struct dx_tx tx;

		if (ip != NULL) {
			dx_iput(ip);
			continue;
		}
		if (errno != EFSCORRUPTED || dx_tx_begin(&tx, pool) != 0)
			continue;
		dx_tx_free(&tx, offs[k]);
		if (dx_tx_commit(&tx) == 0)
			fprintf(report, "repaired: freed the damaged inode %#lx\n",
				(unsigned long)offs[k]);
	}
}

/* rp_names -- 2 and 3, on the pool opened as any user opens it. */
static void
rp_names(const char *path, FILE *report)
{
	char dir[PATH_MAX] = "/";
	uint64_t *offs = NULL;
	size_t n = 0;
	daxfile_pool *pool;

	if (dx_probe_run(path, &offs, &n, DX_ARENA_GLOBAL) != DX_PROBE_OPENED)
		goto out;
	pool = daxfile_pool_open(path);
	if (pool == NULL) {
		fprintf(report, "not repaired: entries and inodes, as the pool does not open: %s\n",
			daxfile_errormsg());
		goto out;
	}
	rp_dir(pool, pool->sb->root_ino, dir, 0, report);
	rp_free_damaged(pool, offs, n, report);
	if (daxfile_pool_close(pool) != 0)
		fprintf(report, "cannot close the pool: %s\n", daxfile_errormsg());
out:
	dx_free(DX_ARENA_GLOBAL, offs);
}

DX_EXPORT int
daxfile_pool_repair(const char *path, FILE *report)
{
	DX_CALL();
	FILE *out = report != NULL ? report : fopen("/dev/null", "we");
	int ret;

	if (out == NULL)
		return dx_err_keep("cannot open /dev/null");
	ret = dx_check(path, report, NULL);
	if (ret == 1) {
		rp_super(path, out);
		rp_undo(path, out);
		/* the pool opens only with sound AG headers */
		dx_check(path, NULL, out);
		rp_names(path, out);
		dx_check(path, NULL, out);
	}
	if (report == NULL)
		fclose(out);
	return ret;
}
