/*
 * readdir.c -- directory streams: opendir, readdir, closedir.
 *
 * A stream lists the entries the directory held when it was opened:
 * entries added or removed later may or may not appear, as POSIX allows,
 * and every entry that stays is returned exactly once, however the hash
 * table grows meanwhile.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <string.h>

#include "dir.h"
#include "handle.h"
#include "mem.h"
#include "namei.h"
#include "out.h"
#include "permission.h"
#include "pool.h"

#define DX_DIR_STREAM_MAGIC 0x6d61657274737864ULL	/* "dxstream" */

struct dx_snap_entry {
	uint64_t ino;
	uint32_t name_off;
	uint8_t type;
};

struct daxfile_dir {
	struct dx_handle h;
	struct daxfile_pool *pool;
	struct dx_inode *ip;
	struct dx_mutex lock;
	struct dx_snap_entry *ents;
	size_t n, cap, next;
	char *names;
	size_t names_len, names_cap;
	struct dirent dent;
};

static struct dx_handle_cache stream_cache =
	DX_HANDLE_CACHE_INIT(struct daxfile_dir);

static int
snap_add(struct daxfile_dir *d, const char *name, size_t len, uint64_t ino,
	unsigned type)
{
	dx_arena a = d->pool->arena;

	if (d->n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 64;
		void *p = dx_realloc(a, d->ents, cap * sizeof(*d->ents));

		if (p == NULL)
			return -1;
		d->ents = p;
		d->cap = cap;
	}
	if (d->names_len + len + 1 > d->names_cap) {
		size_t cap = DX_MAX(d->names_cap * 2, d->names_len + len + 1);
		char *p = dx_realloc(a, d->names, cap);

		if (p == NULL)
			return -1;
		d->names = p;
		d->names_cap = cap;
	}
	memcpy(d->names + d->names_len, name, len);
	d->names[d->names_len + len] = '\0';
	d->ents[d->n++] = (struct dx_snap_entry){ino, (uint32_t)d->names_len,
		(uint8_t)type};
	d->names_len += len + 1;
	return 0;
}

static int
snap_visit(void *arg, const char *name, size_t len, uint64_t ino,
	unsigned type)
{
	return snap_add(arg, name, len, ino, type) != 0 ? -1 : 0;
}

static void
stream_free(struct daxfile_dir *d)
{
	dx_arena a = d->pool->arena;

	dx_free(a, d->ents);
	dx_free(a, d->names);
	dx_mutex_destroy(&d->lock);
	dx_handle_put(&stream_cache, d);
}

DX_EXPORT daxfile_dir *
daxfile_opendir(daxfile_pool *pool, const char *path)
{
	struct daxfile_dir *d;
	struct dx_inode *ip;
	struct dx_cred cr;
	int ret;

	if (dx_pool_check_handle(pool) != 0)
		return NULL;
	dx_cred_init(&cr, DX_CRED_FS);
	ip = dx_namei(pool, NULL, path, DX_LOOKUP_FOLLOW, &cr);
	if (ip == NULL)
		return NULL;
	if (!ip->isdir) {
		dx_err(ENOTDIR, "'%s' is not a directory", path);
		goto err_put;
	}
	if (dx_perm_inode(&cr, ip, DX_MAY_READ) != 0)
		goto err_put;
	d = dx_handle_get(&stream_cache);
	if (d == NULL) {
		dx_err(ENOMEM, "cannot allocate a directory stream");
		goto err_put;
	}
	d->pool = pool;
	d->ip = ip;
	dx_mutex_init(&d->lock, DX_LC_LEAF);
	dx_ilock(ip, DX_IOLOCK_SHARED);
	ret = snap_add(d, ".", 1, ip->ino, DT_DIR);
	if (ret == 0)
		ret = snap_add(d, "..", 2, dx_dir_hdr(ip)->parent, DT_DIR);
	if (ret == 0)
		ret = dx_dir_foreach(pool, dx_dir_hdr(ip), snap_visit, d);
	dx_iunlock(ip, DX_IOLOCK_SHARED);
	if (ret != 0) {
		if (errno == ENOMEM)
			dx_err(ENOMEM, "cannot list directory '%s'", path);
		stream_free(d);
		goto err_put;
	}
	dx_pool_busy_get(pool);
	dx_handle_live(d, DX_DIR_STREAM_MAGIC);
	return d;

err_put:
	dx_iput(ip);
	return NULL;
}

DX_EXPORT struct dirent *
daxfile_readdir(daxfile_dir *d)
{
	const struct dx_snap_entry *e;
	const char *name;
	struct dirent *de;

	dx_err_begin();
	if (!dx_handle_is(d, DX_DIR_STREAM_MAGIC)) {
		dx_err(EBADF, "directory stream is NULL or closed");
		return NULL;
	}
	dx_mutex_lock(&d->lock);
	if (d->next >= d->n) {
		dx_mutex_unlock(&d->lock);
		return NULL;
	}
	e = &d->ents[d->next++];
	name = d->names + e->name_off;
	de = &d->dent;
	de->d_ino = e->ino;
	de->d_off = (off_t)d->next;
	de->d_reclen = sizeof(*de);
	de->d_type = e->type;
	strncpy(de->d_name, name, sizeof(de->d_name) - 1);
	de->d_name[sizeof(de->d_name) - 1] = '\0';
	dx_mutex_unlock(&d->lock);
	return de;
}

DX_EXPORT int
daxfile_closedir(daxfile_dir *d)
{
	struct daxfile_pool *pool;
	struct dx_inode *ip;

	dx_err_begin();
	if (!dx_handle_is(d, DX_DIR_STREAM_MAGIC))
		return dx_err(EBADF, "directory stream is NULL or closed");
	pool = d->pool;
	ip = d->ip;
	stream_free(d);
	dx_iput(ip);
	dx_pool_busy_put(pool);
	return 0;
}
