/*
 * salvage.c -- daxfile_pool_salvage: copy every file of a damaged pool
 * whose own metadata is intact into a directory of the host, as fsck users
 * expect to be able to.
 *
 * It never writes the pool.  When libpmemobj opens the pool (in
 * daxfile-probe first), the pool is read through it and the inodes that
 * no directory reaches any more go to lost+found/#<inode>; when libpmemobj
 * refuses, crashes or stalls on it, the pool file is mapped read-only and
 * read as it is, from its superblock (or a copy of it) down; there only
 * the slabs' inodes can go to lost+found.  Every offset
 * read from the pool is checked before use; a file is copied only if its
 * inode and every one of its extent records are sound, and a directory's
 * entries are read past damaged chains (dx_dir_foreach_intact).  Symbolic
 * links are made again, a file's further names become hard links to its
 * first copy, and every file gets its owner, mode, times and extended
 * attributes back, as far as the host lets it.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <limits.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

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
#include "symlink.h"
#include "xattr.h"

/* A file with more than one name, copied once: where its copy is. */
struct sv_copy {
	uint64_t ino;
	char *host;
};

/* One salvage: the pool, the report, the inodes reached, the counts. */
struct sv {
	struct daxfile_pool *pool;
	FILE *report;
	uint64_t *seen;		/* open addressing on inode numbers */
	uint64_t mask;
	uint64_t nseen;
	struct sv_copy *copies;	/* files with nlink > 1 copied so far */
	size_t ncopies, capcopies;
	unsigned files, dirs, lost, failed;
	char host[PATH_MAX];	/* where the current entry goes */
	char name[PATH_MAX];	/* its path in the pool, for the report */
};

static void __attribute__((format(printf, 2, 3)))
sv_say(struct sv *sv, const char *fmt, ...)
{
	va_list ap;

	if (sv->report == NULL)
		return;
	va_start(ap, fmt);
	vfprintf(sv->report, fmt, ap);
	va_end(ap);
	fputc('\n', sv->report);
}

/* sv_failed -- one entry could not be salvaged: say which and why. */
static void
sv_failed(struct sv *sv, const char *why)
{
	sv->failed++;
	sv_say(sv, "not salvaged: %s: %s", sv->name, why);
}

/* sv_seen -- note 'ino' as reached; false if it was already. */
static bool
sv_seen(struct sv *sv, uint64_t ino)
{
	uint64_t i;

	if ((sv->nseen + 1) * 2 > sv->mask + 1) {
		uint64_t *old = sv->seen, omask = sv->mask;
		uint64_t *tab = dx_zalloc(DX_ARENA_GLOBAL,
			(omask + 1) * 2 * sizeof(*tab));

		if (tab == NULL)
			return true; /* out of memory: no lost+found then */
		sv->seen = tab;
		sv->mask = omask * 2 + 1;
		for (uint64_t k = 0; k <= omask; k++) {
			if (old[k] == 0)
				continue;
			for (i = (old[k] >> 4) & sv->mask; tab[i] != 0;
			    i = (i + 1) & sv->mask)
				;
			tab[i] = old[k];
		}
		dx_free(DX_ARENA_GLOBAL, old);
	}
	for (i = (ino >> 4) & sv->mask; sv->seen[i] != 0; i = (i + 1) & sv->mask)
		if (sv->seen[i] == ino)
			return false;
	sv->seen[i] = ino;
	sv->nseen++;
	return true;
}

/* sv_dinode -- the inode at 'ino' if it is sound, else NULL. */
static const struct dx_dinode *
sv_dinode(struct sv *sv, uint64_t ino)
{
	const struct dx_dinode *di;

	if (!dx_inode_valid(sv->pool, ino))
		return NULL;
	di = dx_ptr(sv->pool, ino);
	return S_ISDIR(di->mode) || di->size <= DX_MAX_FILE_SIZE ? di : NULL;
}

/* sv_blocks_ok -- do blocks [pblk, pblk+len) lie in a data segment? */
static bool
sv_blocks_ok(const struct sv *sv, uint64_t pblk, uint64_t len)
{
	const struct dx_super *sb = sv->pool->sb;

	for (uint32_t i = 0; i < sb->nsegs; i++) {
		const struct dx_dseg *s = &sb->segs[i];

		if (pblk >= s->start && pblk - s->start < s->nblocks &&
		    len <= s->nblocks - (pblk - s->start))
			return dx_obj_ok(sv->pool, pblk << DX_BLOCK_SHIFT,
				len << DX_BLOCK_SHIFT);
	}
	return false;
}

/*
 * sv_extents -- call 'copy' for each written extent of the file, after
 * checking every chunk and record (fd < 0: check only); why not, or NULL.
 */
static const char *
sv_extents(struct sv *sv, uint64_t ino, const struct dx_dinode *di, int fd)
{
	struct daxfile_pool *pool = sv->pool;
	uint64_t limit = pool->size / sizeof(struct dx_extchunk);

	for (uint64_t off = di->extents; off != 0;) {
		const struct dx_extchunk *c;

		if (!dx_obj_ok(pool, off, sizeof(*c)) || limit-- == 0)
			return "an extent chunk lies outside the pool";
		c = dx_ptr(pool, off);
		if (c->magic != DX_EXTCHUNK_MAGIC || c->owner != ino)
			return "an extent chunk is damaged";
		for (unsigned i = 0; i < DX_EXT_PER_CHUNK; i++) {
			const struct dx_extent *x = &c->ext[i];
			uint64_t from, to;

			if (x->len == 0)
				continue;
			if (x->flags & ~DX_EXT_UNWRITTEN ||
			    x->lblk + x->len > DX_MAX_FILE_SIZE >> DX_BLOCK_SHIFT ||
			    !sv_blocks_ok(sv, x->pblk, x->len))
				return "an extent record is damaged";
			from = x->lblk << DX_BLOCK_SHIFT;
			to = DX_MIN((x->lblk + x->len) << DX_BLOCK_SHIFT, di->size);
			if (fd < 0 || (x->flags & DX_EXT_UNWRITTEN) || from >= to)
				continue;
			for (uint64_t done = 0; done < to - from;) {
				ssize_t n = pwrite(fd, (char *)dx_block_ptr(pool,
					x->pblk) + done, to - from - done,
					(off_t)(from + done));

				if (n <= 0)
					return strerror(n < 0 ? errno : ENOSPC);
				done += (uint64_t)n;
			}
		}
		off = c->next;
	}
	return NULL;
}

/*
 * sv_xattrs -- give sv->host the inode's extended attributes; one that
 * cannot be read or set is reported.
 */
static void
sv_xattrs(struct sv *sv, uint64_t ino, const struct dx_dinode *di)
{
	uint64_t limit = sv->pool->size / sizeof(struct dx_xattr);
	char name[DX_XATTR_NAME_MAX + 1];

	for (uint64_t off = di->xattr; off != 0;) {
		const struct dx_xattr *x = dx_xattr_entry(sv->pool, off, ino);

		if (x == NULL || limit-- == 0) {
			sv->failed++;
			sv_say(sv, "not salvaged: extended attributes of %s from a damaged one on",
				sv->name);
			return;
		}
		memcpy(name, x->data, x->namelen);
		name[x->namelen] = '\0';
		if (lsetxattr(sv->host, name, x->data + x->namelen, x->valuelen,
		    0) != 0) {
			sv->failed++;
			sv_say(sv, "not salvaged: extended attribute %s of %s: %s",
				name, sv->name, strerror(errno));
		}
		off = x->next;
	}
}

/*
 * sv_attrs -- give sv->host the inode's extended attributes, owner, mode
 * and times (the owner before the mode: a chown clears setuid).
 */
static void
sv_attrs(struct sv *sv, uint64_t ino, const struct dx_dinode *di)
{
	struct timespec ts[2] = {
		{ (time_t)di->atime.sec, (long)di->atime.nsec },
		{ (time_t)di->mtime.sec, (long)di->mtime.nsec },
	};

	if (ts[0].tv_nsec < 0 || ts[0].tv_nsec >= 1000000000)
		ts[0].tv_nsec = UTIME_OMIT;
	if (ts[1].tv_nsec < 0 || ts[1].tv_nsec >= 1000000000)
		ts[1].tv_nsec = UTIME_OMIT;
	sv_xattrs(sv, ino, di);
	(void)lchown(sv->host, di->uid, di->gid);
	if (!S_ISLNK(di->mode))
		(void)chmod(sv->host, di->mode & 07777);
	(void)utimensat(AT_FDCWD, sv->host, ts, AT_SYMLINK_NOFOLLOW);
}

/*
 * sv_copied -- note that file 'ino', which has further names, was copied
 * to sv->host (out of memory: its further names are copied again).
 */
static void
sv_copied(struct sv *sv, uint64_t ino)
{
	char *host;

	if (sv->ncopies == sv->capcopies) {
		size_t cap = sv->capcopies ? 2 * sv->capcopies : 64;
		struct sv_copy *p = dx_realloc(DX_ARENA_GLOBAL, sv->copies,
			cap * sizeof(*p));

		if (p == NULL)
			return;
		sv->copies = p;
		sv->capcopies = cap;
	}
	host = dx_strdup(DX_ARENA_GLOBAL, sv->host);
	if (host != NULL)
		sv->copies[sv->ncopies++] = (struct sv_copy){ino, host};
}

/*
 * sv_link_again -- make sv->host a hard link to the copy of file 'ino'
 * made for an earlier name; false if there is none.
 */
static bool
sv_link_again(struct sv *sv, uint64_t ino)
{
	for (size_t i = 0; i < sv->ncopies; i++) {
		if (sv->copies[i].ino != ino)
			continue;
		if (link(sv->copies[i].host, sv->host) != 0)
			return false;
		sv->files++;
		return true;
	}
	return false;
}

/* sv_file -- copy the regular file 'ino' to sv->host. */
static void
sv_file(struct sv *sv, uint64_t ino, const struct dx_dinode *di)
{
	const char *why = sv_extents(sv, ino, di, -1);
	int fd;

	if (why != NULL) {
		sv_failed(sv, why);
		return;
	}
	fd = open(sv->host, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		sv_failed(sv, strerror(errno));
		return;
	}
	why = ftruncate(fd, (off_t)di->size) != 0 ? strerror(errno) :
		sv_extents(sv, ino, di, fd);
	if (close(fd) != 0 && why == NULL)
		why = strerror(errno);
	if (why != NULL) {
		unlink(sv->host);
		sv_failed(sv, why);
		return;
	}
	sv_attrs(sv, ino, di);
	if (di->nlink > 1)
		sv_copied(sv, ino);
	sv->files++;
}

/* sv_symlink -- make sv->host the symbolic link 'ino'. */
static void
sv_symlink(struct sv *sv, uint64_t ino, const struct dx_dinode *di)
{
	if (symlink(dx_symlink_stored(sv->pool, di), sv->host) != 0) {
		sv_failed(sv, strerror(errno));
		return;
	}
	sv_attrs(sv, ino, di);
	sv->files++;
}

static void sv_dir(struct sv *sv, uint64_t ino, const struct dx_dinode *di);

/* sv_put -- salvage the sound inode 'ino' to sv->host, by its type. */
static void
sv_put(struct sv *sv, uint64_t ino, const struct dx_dinode *di)
{
	if (S_ISDIR(di->mode))
		sv_dir(sv, ino, di);
	else if (S_ISLNK(di->mode))
		sv_symlink(sv, ino, di);
	else
		sv_file(sv, ino, di);
}

static void sv_entry(struct sv *sv, uint64_t ino);

/* A directory being read: where its entries go. */
struct sv_dir {
	struct sv *sv;
	size_t host_len, name_len;
};

/* sv_dir_entry -- one entry of a directory: salvage what it names. */
static int
sv_dir_entry(void *arg, const char *name, size_t len, uint64_t ino,
	unsigned type)
{
	struct sv_dir *d = arg;
	struct sv *sv = d->sv;

	(void)type;
	if (d->host_len + 1 + len >= sizeof(sv->host) ||
	    d->name_len + 1 + len >= sizeof(sv->name) || memchr(name, '/', len)) {
		snprintf(sv->name + d->name_len, sizeof(sv->name) - d->name_len,
			"/%.*s", (int)len, name);
		sv_failed(sv, "its name is too long or damaged");
		return 0;
	}
	snprintf(sv->host + d->host_len, sizeof(sv->host) - d->host_len,
		"/%.*s", (int)len, name);
	snprintf(sv->name + d->name_len, sizeof(sv->name) - d->name_len,
		"%s%.*s", d->name_len > 1 ? "/" : "", (int)len, name);
	sv_entry(sv, ino);
	sv->host[d->host_len] = '\0';
	sv->name[d->name_len] = '\0';
	return 0;
}

/* sv_dir -- make sv->host a directory and salvage what 'ino' holds. */
static void
sv_dir(struct sv *sv, uint64_t ino, const struct dx_dinode *di)
{
	struct sv_dir d = {sv, strlen(sv->host), strlen(sv->name)};
	unsigned damaged = 0;

	if (mkdir(sv->host, 0700) != 0 && errno != EEXIST) {
		sv_failed(sv, strerror(errno));
		return;
	}
	sv->dirs++;
	dx_dir_foreach_intact(sv->pool, (const struct dx_dirhdr *)(di + 1),
		sv_dir_entry, &d, &damaged);
	if (damaged != 0) {
		sv->failed++;
		sv_say(sv, "not salvaged: entries of %s in %u damaged chains",
			sv->name, damaged);
	}
	sv_attrs(sv, ino, di);
}

/* sv_entry -- salvage inode 'ino' to sv->host. */
static void
sv_entry(struct sv *sv, uint64_t ino)
{
	const struct dx_dinode *di = sv_dinode(sv, ino);

	if (di == NULL) {
		sv_failed(sv, "its inode is damaged");
		return;
	}
	if (!sv_seen(sv, ino)) {
		if (S_ISDIR(di->mode)) {
			sv_failed(sv, "a directory reached twice (a cycle)");
			return;
		}
		if (sv_link_again(sv, ino))
			return;
	}
	sv_put(sv, ino, di);
}

/*
 * sv_lost_root -- is 'di' an unreached directory to start from: one whose
 * parent is not itself an unreached directory (whose walk will reach it)?
 */
static bool
sv_lost_root(struct sv *sv, const struct dx_dinode *di)
{
	uint64_t parent = ((const struct dx_dirhdr *)(di + 1))->parent;
	const struct dx_dinode *pd = sv_dinode(sv, parent);
	uint64_t i;

	if (pd == NULL || !S_ISDIR(pd->mode))
		return true;
	for (i = (parent >> 4) & sv->mask; sv->seen[i] != 0;
	    i = (i + 1) & sv->mask)
		if (sv->seen[i] == parent)
			return true;
	return false;
}

/*
 * sv_lost -- the inodes libpmemobj and the slabs list that no directory
 * reached, each as lost+found/#<inode>: the top directories of what was
 * cut off first (with all they hold), then the other directories
 * (cycles), then files.
 */
static void
sv_lost(struct sv *sv, const uint64_t *offs, size_t n, size_t base_len)
{
	for (int pass = 0; pass < 3; pass++) {
		for (size_t k = 0; k < n; k++) {
			const struct dx_dinode *di = sv_dinode(sv, offs[k]);

			if (di == NULL || di->nlink == 0 ||
			    !!S_ISDIR(di->mode) != (pass < 2) ||
			    (pass == 0 && !sv_lost_root(sv, di)) ||
			    !sv_seen(sv, offs[k]))
				continue;
			snprintf(sv->host + base_len, sizeof(sv->host) - base_len,
				"/lost+found");
			if (mkdir(sv->host, 0700) != 0 && errno != EEXIST)
				return;
			snprintf(sv->host + base_len, sizeof(sv->host) - base_len,
				"/lost+found/#%lu", (unsigned long)offs[k]);
			snprintf(sv->name, sizeof(sv->name), "lost+found/#%lu",
				(unsigned long)offs[k]);
			sv->lost++;
			sv_put(sv, offs[k], di);
			sv->host[base_len] = '\0';
		}
	}
}

/* The inodes sv_lost looks at, as the slabs add theirs. */
struct sv_inodes {
	const struct daxfile_pool *pool;
	uint64_t *v;
	size_t n, cap;
};

/* sv_slab_object -- dx_slab_objects: an inode of a slab joins the list. */
static int
sv_slab_object(void *arg, uint64_t off, uint64_t len)
{
	struct sv_inodes *l = arg;

	(void)len;
	if (*(const uint64_t *)dx_ptr(l->pool, off) != DX_INODE_MAGIC)
		return 0;
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 256;
		uint64_t *v = dx_realloc(DX_ARENA_GLOBAL, l->v, cap * sizeof(*v));

		if (v == NULL)
			return dx_err(ENOMEM, "cannot list the slabs' inodes");
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n++] = off;
	return 0;
}

/*
 * sv_slab_inodes -- the inodes of the pool's slabs join offs[0..n), which
 * libpmemobj's object list gives only for a pool made before slabs: those
 * of every sound slab of the list, which ends at the first damaged slab or
 * where it loops.
 */
static void
sv_slab_inodes(struct sv *sv, uint64_t **offs, size_t *n)
{
	struct daxfile_pool *pool = sv->pool;
	struct sv_inodes l = {pool, *offs, *n, *n};
	const char *why;
	uint64_t *slabs, at;
	int64_t ns;

	if (pool->root == NULL)
		return;
	ns = dx_slab_list(pool, DX_ARENA_GLOBAL, &slabs, &why, &at);
	if (ns < 0) {
		sv_say(sv, "%s: lost inodes are not looked for in the slabs",
			daxfile_errormsg());
		return;
	}
	if (why != NULL)
		sv_say(sv, "slab list at %#lx: %s: the slabs after it are not searched for lost inodes",
			(unsigned long)at, why);
	for (int64_t i = 0; i < ns; i++)
		if (dx_slab_objects(pool, slabs[i], sv_slab_object, &l) != 0) {
			sv_say(sv, "%s: lost inodes are looked for in part of the slabs only",
				daxfile_errormsg());
			break;
		}
	dx_free(DX_ARENA_GLOBAL, slabs);
	*offs = l.v;
	*n = l.n;
}

/* sv_dest -- make 'dir' (or take it if it is an empty directory). */
static int
sv_dest(const char *dir)
{
	DIR *d;
	struct dirent *de;
	int n = 0;

	if (mkdir(dir, 0700) == 0)
		return 0;
	if (errno != EEXIST)
		return dx_err_keep("cannot make the directory '%s'", dir);
	d = opendir(dir);
	if (d == NULL)
		return dx_err_keep("cannot open the directory '%s'", dir);
	while ((de = readdir(d)) != NULL)
		n += strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0;
	closedir(d);
	if (n != 0)
		return dx_err(EEXIST, "'%s' is not empty: salvage into a new directory",
			dir);
	return 0;
}

/*
 * sv_attach -- the pool, through libpmemobj if it opens it (then 'offs'
 * lists its inodes), else read-only as it is.
 */
static struct daxfile_pool *
sv_attach(struct sv *sv, const char *path, uint64_t **offs, size_t *n)
{
	int probe = dx_probe_run(path, offs, n, DX_ARENA_GLOBAL);
	struct daxfile_pool *pool;

	if (probe < 0)
		return NULL;
	if (probe == DX_PROBE_OPENED || probe == DX_PROBE_REFUSED) {
		pool = dx_pool_attach(path, false);
		if (pool != NULL || errno != EFSCORRUPTED)
			return pool;
		sv_say(sv, "%s", daxfile_errormsg());
	} else {
		sv_say(sv, "libpmemobj %s opening the pool",
			probe == DX_PROBE_CRASHED ? "crashes" : "stalls");
	}
	dx_free(DX_ARENA_GLOBAL, *offs);
	*offs = NULL;
	*n = 0;
	sv_say(sv, "reading the pool file as it is, without libpmemobj");
	return dx_pool_attach_raw(path);
}

DX_EXPORT int
daxfile_pool_salvage(const char *path, const char *dir, FILE *report)
{
	DX_CALL();
	struct sv sv = {.report = report, .mask = 1023};
	uint64_t *offs = NULL;
	size_t n = 0, base_len;
	int ret = -1;

	dx_err_begin();
	if (path == NULL || dir == NULL)
		return dx_err(EFAULT, "path is NULL");
	base_len = strlen(dir);
	while (base_len > 1 && dir[base_len - 1] == '/')
		base_len--;
	if (base_len + 2 >= sizeof(sv.host))
		return dx_err(ENAMETOOLONG, "'%s' is too long", dir);
	sv.seen = dx_zalloc(DX_ARENA_GLOBAL, (sv.mask + 1) * sizeof(*sv.seen));
	if (sv.seen == NULL)
		return dx_err(ENOMEM, "cannot allocate the salvage's inode table");
	sv.pool = sv_attach(&sv, path, &offs, &n);
	if (sv.pool == NULL)
		goto out_free;
	if (dx_super_readable(sv.pool) != 0)
		goto out;
	if (sv.pool->sb_copy != 0)
		sv_say(&sv, "the superblock is damaged: reading its copy at %#lx",
			(unsigned long)sv.pool->sb_copy);
	if (sv.pool->sb->pool_size > sv.pool->size)
		sv_say(&sv, "the pool file is truncated (%lu of %lu bytes): what lay past its end is lost",
			(unsigned long)sv.pool->size,
			(unsigned long)sv.pool->sb->pool_size);
	if (sv_dest(dir) != 0)
		goto out;
	memcpy(sv.host, dir, base_len);
	sv.host[base_len] = '\0';
	snprintf(sv.name, sizeof(sv.name), "/");
	sv_entry(&sv, sv.pool->sb->root_ino);
	sv_slab_inodes(&sv, &offs, &n);
	sv_lost(&sv, offs, n, base_len);
	sv_say(&sv, "salvaged %u files and %u directories into %s%s; %u entries could not be",
		sv.files, sv.dirs, dir, sv.lost ? " (some into lost+found)" : "",
		sv.failed);
	ret = sv.failed != 0 || sv.lost != 0;
out:
	dx_pool_detach(sv.pool);
out_free:
	dx_free(DX_ARENA_GLOBAL, offs);
	dx_free(DX_ARENA_GLOBAL, sv.seen);
	for (size_t i = 0; i < sv.ncopies; i++)
		dx_free(DX_ARENA_GLOBAL, sv.copies[i].host);
	dx_free(DX_ARENA_GLOBAL, sv.copies);
	return ret;
}
