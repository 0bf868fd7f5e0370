/*
 * readdir.c -- listing directories: daxfile_getdents64 on a directory
 * handle, and directory streams (opendir, fdopendir, readdir, telldir,
 * seekdir, rewinddir, closedir) on top of it.
 *
 * A listing is a cursor, not a copy: the file offset of the directory
 * handle is a position in hash order (dir.h), 0 for ".", 1 for "..", and
 * 2 + the position of each entry.  Every call takes the directory's DIR
 * lock shared, copies the entries from the offset on in position order
 * while they fit, and leaves the offset after the last one.  Entries never
 * move in that order when the hash table splits, so an entry that exists
 * for the whole walk is returned exactly once, whatever is created or
 * removed meanwhile, and an offset (d_off, telldir) stays valid for the
 * life of the directory.  Memory is constant; a call costs the entries it
 * returns plus one bucket chain per bucket it crosses.
 *
 * Two names whose hashes agree in all DX_DIR_POS_BITS bits share an
 * offset: a call returns both or neither (EINVAL when neither would fit
 * an empty buffer), and seeking to the d_off of the first returns both
 * again.
 *
 * A stream owns its handle and reads it through a buffer; the handle's
 * FPOS lock covers the offset and the stream (FPOS -> DIR, as the kernel's
 * f_pos_lock comes before the inode lock in getdents).
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stddef.h>
#include <string.h>
#include <time.h>

#include "dir.h"
#include "file.h"
#include "handle.h"
#include "mem.h"
#include "out.h"
#include "pool.h"

#define DX_DIR_STREAM_MAGIC 0x6d61657274737864ULL	/* "dxstream" */

/* Offsets of a directory handle. */
#define OFF_DOT 0
#define OFF_DOTDOT 1
#define OFF_ENTRIES 2	/* + the entry's position */

/* Bytes of getdents64 records a stream reads at once (glibc's size). */
#define STREAM_BUF 32768

/* The record of getdents64(2) (struct linux_dirent64 of the kernel). */
struct dx_dirent64 {
	uint64_t d_ino;
	int64_t d_off;
	uint16_t d_reclen;
	uint8_t d_type;
	char d_name[];
};

struct daxfile_dir {
	struct dx_handle h;	/* DX_DIR_STREAM_MAGIC while open */
	struct daxfile_pool *pool;	/* kept busy while the stream is open */
	daxfile_file *file;	/* owned: closed with the stream */
	char *buf;		/* records read, [at, len) not yet returned */
	size_t at, len;
	int64_t pos;		/* telldir: the offset after the last entry */
	struct dirent dent;
};

static struct dx_handle_cache stream_cache =
	DX_HANDLE_CACHE_INIT(struct daxfile_dir);

/* --- getdents64 ----------------------------------------------------------- */

/* An entry of one bucket, to be sorted by position. */
struct ent {
	const struct dx_dirent *de;
	uint64_t pos;
};

/* The output of one call and the bucket being copied. */
struct emit {
	struct daxfile_pool *pool;
	char *buf;
	size_t size, used;
	size_t last;		/* offset of the last record, for its d_off */
	struct ent small[64], *ents;
	size_t n, cap;
};

static int
collect(void *arg, const struct dx_dirent *de, uint64_t pos)
{
	struct emit *em = arg;

	if (em->n == em->cap) {
		size_t cap = em->cap * 2;
		struct ent *e = em->ents == em->small ?
			dx_malloc(em->pool->arena, cap * sizeof(*e)) :
			dx_realloc(em->pool->arena, em->ents, cap * sizeof(*e));

		if (e == NULL)
			return dx_err(ENOMEM, "cannot list a directory bucket");
		if (em->ents == em->small)
			memcpy(e, em->small, sizeof(em->small));
		em->ents = e;
		em->cap = cap;
	}
	em->ents[em->n++] = (struct ent){de, pos};
	return 0;
}

static int
ent_cmp(const void *a, const void *b)
{
	uint64_t x = ((const struct ent *)a)->pos, y = ((const struct ent *)b)->pos;

	return x < y ? -1 : x > y;
}

static size_t
reclen(size_t namelen)
{
	return DX_ALIGN_UP(offsetof(struct dx_dirent64, d_name) + namelen + 1, 8);
}

/*
 * put -- append a record whose d_off is 'next' (the offset after it);
 * false when it does not fit.
 */
static bool
put(struct emit *em, uint64_t ino, uint8_t type, const char *name,
	size_t len, uint64_t next)
{
	size_t rl = reclen(len);
	struct dx_dirent64 *d;

	if (rl > em->size - em->used)
		return false;
	d = (struct dx_dirent64 *)(em->buf + em->used);
	d->d_ino = ino;
	d->d_off = (int64_t)next;
	d->d_reclen = (uint16_t)rl;
	d->d_type = type;
	memcpy(d->d_name, name, len);
	memset(d->d_name + len, 0, rl - offsetof(struct dx_dirent64, d_name) - len);
	em->last = em->used;
	em->used += rl;
	return true;
}

/*
 * put_bucket -- copy the sorted entries of one bucket; a group of entries
 * at one position goes whole or not at all.  False when the buffer filled.
 */
static bool
put_bucket(struct emit *em)
{
	size_t i = 0;

	while (i < em->n) {
		size_t j = i, used = em->used, last = em->last;
		uint64_t next = OFF_ENTRIES + em->ents[i].pos + 1;

		while (j < em->n && em->ents[j].pos == em->ents[i].pos) {
			const struct dx_dirent *de = em->ents[j].de;

			if (!put(em, de->ino, de->type, de->name, de->namelen,
			    next)) {
				em->used = used;
				em->last = last;
				return false;
			}
			j++;
		}
		i = j;
	}
	return true;
}

/*
 * getdents_locked -- fill 'buf' from the handle's offset on (caller holds
 * the handle's FPOS lock); the bytes used, 0 at the end, -1 with errno.
 */
static ssize_t
getdents_locked(daxfile_file *file, void *buf, size_t size)
{
	struct dx_inode *dp = file->ip;
	struct emit em = {.pool = dp->pool, .buf = buf,
		.size = DX_MIN(size, (size_t)INT_MAX)};
	uint64_t off = file->pos;
	ssize_t ret = 0;

	em.ents = em.small;
	em.cap = DX_ARRAY_SIZE(em.small);
	dx_ilock(dp, DX_IOLOCK_SHARED);
	/* the kernel's filldir copies under the inode lock shared, too */
	dx_might_fault();
	if (dp->di->nlink == 0) {
		ret = dx_err(ENOENT, "the directory was removed");
		goto out;
	}
	if (off == OFF_DOT) {
		if (!put(&em, dp->ino, DT_DIR, ".", 1, OFF_DOTDOT))
			goto full;
		off = OFF_DOTDOT;
	}
	if (off == OFF_DOTDOT) {
		if (!put(&em, dx_dir_hdr(dp)->parent, DT_DIR, "..", 2,
		    OFF_ENTRIES))
			goto full;
		off = OFF_ENTRIES;
	}
	while (off >= OFF_ENTRIES && off - OFF_ENTRIES < DX_DIR_POS_END) {
		uint64_t next;

		em.n = 0;
		if (dx_dir_scan(dp, off - OFF_ENTRIES, collect, &em, &next) != 0) {
			ret = -1;
			goto out;
		}
		qsort(em.ents, em.n, sizeof(*em.ents), ent_cmp);
		if (!put_bucket(&em))
			goto full;
		off = OFF_ENTRIES + next;
	}
	goto done;
full:
	if (em.used == 0) {
		ret = dx_err(EINVAL, "buffer of %zu bytes too small for the next entry",
			size);
		goto out;
	}
done:
	/* the offset to resume at: after the last record, or past the end */
	if (em.used > 0)
		off = (uint64_t)((struct dx_dirent64 *)(em.buf + em.last))->d_off;
	file->pos = off;
	ret = (ssize_t)em.used;
out:
	dx_iunlock(dp, DX_IOLOCK_SHARED);
	if (em.ents != em.small)
		dx_free(em.pool->arena, em.ents);
	return ret;
}

/*
 * dir_accessed -- a listing read the directory: its atime moves by
 * relatime, unless the handle has O_NOATIME.
 */
static void
dir_accessed(daxfile_file *file)
{
	if (!(file->flags & O_NOATIME))
		dx_inode_accessed(file->ip);
}

/* dir_handle_check -- a live handle (not O_PATH) of a directory. */
static int
dir_handle_check(const daxfile_file *file)
{
	if (dx_file_check(file) != 0)
		return -1;
	if (!file->ip->isdir)
		return dx_err(ENOTDIR, "not a directory");
	return 0;
}

DX_EXPORT ssize_t
daxfile_getdents64(daxfile_file *dir, void *buf, size_t size)
{
	ssize_t ret;

	if (dir_handle_check(dir) != 0)
		return -1;
	if (buf == NULL && size >= reclen(1))
		return dx_err(EFAULT, "buffer is NULL");
	dx_mutex_lock(&dir->pos_lock);
	ret = getdents_locked(dir, buf, size);
	dx_mutex_unlock(&dir->pos_lock);
	if (ret >= 0)
		dir_accessed(dir);
	return ret;
}

/* --- streams -------------------------------------------------------------- */

DX_EXPORT daxfile_dir *
daxfile_fdopendir(daxfile_file *dir)
{
	struct daxfile_dir *d;

	/* as glibc: an O_PATH handle makes a stream whose reads fail (EBADF) */
	if (dx_file_check_any(dir) != 0)
		return NULL;
	if (!dir->ip->isdir) {
		dx_err(ENOTDIR, "not a directory");
		return NULL;
	}
	d = dx_handle_get(&stream_cache);
	if (d == NULL) {
		dx_err(ENOMEM, "cannot allocate a directory stream");
		return NULL;
	}
	d->buf = dx_malloc(dir->pool->arena, STREAM_BUF);
	if (d->buf == NULL) {
		dx_handle_put(&stream_cache, d);
		dx_err(ENOMEM, "cannot allocate a directory stream");
		return NULL;
	}
	d->pool = dir->pool;
	d->file = dir;
	dx_mutex_lock(&dir->pos_lock);
	d->pos = (int64_t)dir->pos;
	dx_mutex_unlock(&dir->pos_lock);
	dx_pool_busy_get(d->pool);
	dx_handle_live(d, DX_DIR_STREAM_MAGIC);
	return d;
}

DX_EXPORT daxfile_dir *
daxfile_opendir(daxfile_pool *pool, const char *path)
{
	daxfile_file *f = daxfile_open(pool, path, O_RDONLY | O_DIRECTORY);
	daxfile_dir *d;

	if (f == NULL)
		return NULL;
	d = daxfile_fdopendir(f);
	if (d == NULL) {
		int err = errno;

		daxfile_close(f);
		errno = err;
	}
	return d;
}

static int
stream_check(const daxfile_dir *d)
{
	dx_err_begin();
	if (!dx_handle_is(d, DX_DIR_STREAM_MAGIC))
		return dx_err(EBADF, "directory stream is NULL or closed");
	return 0;
}

DX_EXPORT struct dirent *
daxfile_readdir(daxfile_dir *d)
{
	const struct dx_dirent64 *r;
	struct dirent *de = NULL;
	daxfile_file *f;
	ssize_t n;

	if (stream_check(d) != 0)
		return NULL;
	f = d->file;
	if (dir_handle_check(f) != 0)
		return NULL;
	dx_mutex_lock(&f->pos_lock);
	if (d->at == d->len) {
		n = getdents_locked(f, d->buf, STREAM_BUF);
		if (n >= 0)
			dir_accessed(f);
		if (n <= 0)
			goto out;
		d->at = 0;
		d->len = (size_t)n;
	}
	r = (const struct dx_dirent64 *)(d->buf + d->at);
	d->at += r->d_reclen;
	d->pos = r->d_off;
	de = &d->dent;
	de->d_ino = r->d_ino;
	de->d_off = r->d_off;
	de->d_reclen = sizeof(*de);
	de->d_type = r->d_type;
	memcpy(de->d_name, r->d_name, strlen(r->d_name) + 1);
out:
	dx_mutex_unlock(&f->pos_lock);
	return de;
}

DX_EXPORT daxfile_file *
daxfile_dirfile(daxfile_dir *d)
{
	dx_err_begin();
	if (!dx_handle_is(d, DX_DIR_STREAM_MAGIC)) {
		dx_err(EINVAL, "directory stream is NULL or closed");
		return NULL;
	}
	return d->file;
}

DX_EXPORT long
daxfile_telldir(daxfile_dir *d)
{
	long pos;

	if (stream_check(d) != 0 || dx_file_check_any(d->file) != 0)
		return -1;
	dx_mutex_lock(&d->file->pos_lock);
	pos = (long)d->pos;
	dx_mutex_unlock(&d->file->pos_lock);
	return pos;
}

DX_EXPORT void
daxfile_seekdir(daxfile_dir *d, long loc)
{
	if (stream_check(d) != 0 || dx_file_check_any(d->file) != 0 || loc < 0)
		return;
	dx_mutex_lock(&d->file->pos_lock);
	d->file->pos = (uint64_t)loc;
	d->pos = loc;
	d->at = d->len = 0;
	dx_mutex_unlock(&d->file->pos_lock);
}

DX_EXPORT void
daxfile_rewinddir(daxfile_dir *d)
{
	daxfile_seekdir(d, 0);
}

DX_EXPORT int
daxfile_closedir(daxfile_dir *d)
{
	struct daxfile_pool *pool;
	daxfile_file *f;

	if (stream_check(d) != 0)
		return -1;
	pool = d->pool;
	f = d->file;
	dx_free(pool->arena, d->buf);
	dx_handle_put(&stream_cache, d);
	dx_pool_busy_put(pool);
	return daxfile_close(f);
}
