/*
 * pool.c -- pools: create, open (with every check a damaged or foreign file
 * needs), close, statvfs, and persistence of metadata written outside
 * transactions.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <libpmem.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "defer.h"
#include "hash.h"
#include "mkfs.h"
#include "out.h"
#include "permission.h"
#include "pool.h"
#include "probe.h"
#include "upgrade.h"

static struct dx_handle_cache pool_cache =
	DX_HANDLE_CACHE_INIT(struct daxfile_pool);

void
dx_persist(struct daxfile_pool *pool, const void *addr, size_t len)
{
	pmemobj_persist(pool->pop, addr, len);
}

int
dx_corrupt(struct daxfile_pool *pool, const char *what, uint64_t off)
{
	return dx_err(EFSCORRUPTED, "pool %s is damaged: %s (offset %#lx)",
		pool->path, what, (unsigned long)off);
}

static struct daxfile_pool *
pool_new(const char *path)
{
	struct daxfile_pool *pool = dx_handle_get(&pool_cache);

	if (pool == NULL) {
		dx_err(ENOMEM, "cannot allocate a pool handle");
		return NULL;
	}
	pool->fd = -1;
	pool->path = dx_strdup(DX_ARENA_GLOBAL, path);
	if (pool->path == NULL || dx_arena_create(&pool->arena) != 0) {
		dx_free(DX_ARENA_GLOBAL, pool->path);
		dx_handle_put(&pool_cache, pool);
		dx_err(ENOMEM, "cannot allocate a pool handle");
		return NULL;
	}
	dx_mutex_init(&pool->rename_lock, DX_LC_RENAME);
	dx_mutex_init(&pool->orphan_lock, DX_LC_ORPHAN);
	dx_slab_init(pool);
	return pool;
}

static void
pool_delete(struct daxfile_pool *pool)
{
	dx_slab_fini(pool);
	dx_mutex_destroy(&pool->rename_lock);
	dx_mutex_destroy(&pool->orphan_lock);
	dx_arena_destroy(pool->arena);
	dx_free(DX_ARENA_GLOBAL, pool->path);
	dx_handle_put(&pool_cache, pool);
}

/* pool_attach -- fill the handle from an open pmemobj pool. */
static void
pool_attach(struct daxfile_pool *pool, PMEMobjpool *pop, uint64_t size)
{
	pool->pop = pop;
	pool->base = (char *)pop;
	pool->size = size;
	pool->uuid_lo = pmemobj_oid(pop).pool_uuid_lo;
	pool->is_pmem = pmem_is_pmem(pop, size) != 0;
}

/*
 * mapped_file -- the device and inode of the file mapped at 'addr', from
 * /proc/self/maps; false if that cannot be read.
 */
static bool
mapped_file(const void *addr, dev_t *dev, ino_t *ino)
{
	FILE *f = fopen("/proc/self/maps", "re");
	char line[512];
	bool found = false;

	if (f == NULL)
		return false;
	while (!found && fgets(line, sizeof(line), f) != NULL) {
		unsigned long start, end, off, inode;
		unsigned maj, min;

		if (sscanf(line, "%lx-%lx %*s %lx %x:%x %lu", &start, &end, &off,
			&maj, &min, &inode) != 6 ||
		    (uintptr_t)addr < start || (uintptr_t)addr >= end)
			continue;
		*dev = makedev(maj, min);
		*ino = (ino_t)inode;
		found = true;
	}
	fclose(f);
	return found;
}

int
dx_pool_fd_open(struct daxfile_pool *pool)
{
	struct stat st;
	dev_t dev;
	ino_t ino;

	pool->fd = open(pool->path, O_RDWR | O_CLOEXEC);
	if (pool->fd < 0)
		return dx_err_keep("cannot open pool file '%s'", pool->path);
	/*
	 * The path was opened again: it must still name the file libpmemobj
	 * mapped, or mappings would show another file than read and write.
	 */
	if (fstat(pool->fd, &st) != 0 ||
	    (mapped_file(pool->base, &dev, &ino) &&
	     (st.st_dev != dev || st.st_ino != ino))) {
		close(pool->fd);
		pool->fd = -1;
		return dx_err(ESTALE, "pool file '%s' was replaced while it was "
			"being opened", pool->path);
	}
	return 0;
}

/* pool_start -- the DRAM side of an open pool. */
static int
pool_start(struct daxfile_pool *pool)
{
	if (dx_pool_fd_open(pool) != 0)
		return -1;
	if (dx_icache_init(pool) != 0)
		goto err_close;
	if (dx_alloc_init(pool) != 0)
		goto err_icache;
	if (dx_slab_load(pool) != 0 || dx_orphans_reclaim(pool) != 0)
		goto err_alloc;
	pool->umask = dx_cred_umask();
	return 0;

err_alloc:
	dx_alloc_fini(pool);
err_icache:
	dx_icache_fini(pool);
err_close:
	close(pool->fd);
	pool->fd = -1;
	return -1;
}

DX_EXPORT daxfile_pool *
daxfile_pool_create(const char *path, uint64_t size, mode_t mode)
{
	DX_CALL();
	struct daxfile_pool *pool;
	PMEMobjpool *pop;
	struct stat st;

	dx_err_begin();
	if (path == NULL) {
		dx_err(EFAULT, "path is NULL");
		return NULL;
	}
	if (size < DAXFILE_MIN_POOL_SIZE) {
		dx_err(EINVAL, "pool size %lu is below the minimum of %lu bytes",
			(unsigned long)size, (unsigned long)DAXFILE_MIN_POOL_SIZE);
		return NULL;
	}
	if (stat(path, &st) == 0) {
		dx_err(EEXIST, "'%s' exists", path);
		return NULL;
	}
	pop = pmemobj_create(path, DX_LAYOUT_NAME, size, mode);
	if (pop == NULL) {
		dx_err_keep("cannot create pool '%s'", path);
		return NULL;
	}
	pool = pool_new(path);
	if (pool == NULL)
		goto err_unlink;
	pool_attach(pool, pop, size);
	pool->root = pmemobj_direct(pmemobj_root(pop, sizeof(struct dx_root)));
	pool->sb = &pool->root->sb;
	if (pool->root == NULL) {
		dx_err(ENOSPC, "cannot allocate the root object");
		goto err_delete;
	}
	if (dx_mkfs(pool, size) != 0 || pool_start(pool) != 0)
		goto err_delete;
	dx_handle_live(pool, DX_POOL_MAGIC);
	return pool;

err_delete:
	pool_delete(pool);
err_unlink: {
	int err = errno;

	pmemobj_close(pop);
	unlink(path);
	errno = err;
	}
	return NULL;
}

int
dx_super_check(struct daxfile_pool *pool)
{
	const struct dx_super *sb = pool->sb;
	uint64_t file_size = pool->size;

	if (sb->magic != DX_SUPER_MAGIC)
		return dx_err(EINVAL, "'%s' is not a libdaxfile pool (bad magic)",
			pool->path);
	if (sb->version < DX_FORMAT_VERSION_MIN ||
	    sb->version > DX_FORMAT_VERSION)
		return dx_err(EPROTO, "pool '%s' has on-media version %u; this library reads versions %u to %u",
			pool->path, sb->version, DX_FORMAT_VERSION_MIN,
			DX_FORMAT_VERSION);
	if (sb->checksum !=
	    dx_checksum64(sb, offsetof(struct dx_super, checksum)))
		return dx_err(EPROTO, "pool '%s' has a damaged superblock (checksum)",
			pool->path);
	if (sb->feature_incompat & ~DX_FEATURE_INCOMPAT_SUPP)
		return dx_err(EPROTO, "pool '%s' uses unknown features %#lx",
			pool->path, (unsigned long)sb->feature_incompat);
	if (sb->pool_size > file_size)
		return dx_err(EINVAL, "pool file '%s' is truncated (%lu of %lu bytes)",
			pool->path, (unsigned long)file_size,
			(unsigned long)sb->pool_size);
	if (sb->block_size != DX_BLOCK_SIZE || sb->nsegs == 0 ||
	    sb->nsegs > DX_MAX_SEGS || sb->nags == 0 || sb->nags > DX_MAX_AGS)
		return dx_err(EPROTO, "pool '%s' has a damaged superblock (geometry)",
			pool->path);
	for (uint32_t i = 0; i < sb->nsegs; i++) {
		const struct dx_dseg *s = &sb->segs[i];

		if (s->nblocks == 0 || s->start > pool->size >> DX_BLOCK_SHIFT ||
		    s->nblocks > (pool->size >> DX_BLOCK_SHIFT) - s->start)
			return dx_err(EPROTO, "pool '%s' has a damaged superblock (segment %u)",
				pool->path, i);
	}
	return 0;
}

/*
 * pmemobj_cause -- libpmemobj's message, printable: it may quote bytes of a
 * file that is not a pool.
 */
static const char *
pmemobj_cause(void)
{
	static __thread char buf[256];
	const char *m = pmemobj_errormsg();
	size_t i;

	for (i = 0; m[i] != '\0' && i < sizeof(buf) - 1; i++)
		buf[i] = (m[i] >= 0x20 && m[i] < 0x7f) ? m[i] : '?';
	buf[i] = '\0';
	return buf;
}

/*
 * pmemobj_probe -- open the pool with libpmemobj in a process of its own
 * first (daxfile-probe): libpmemobj 1.12 itself can crash or loop on a
 * pool whose own metadata (heap headers, lanes) is damaged, and that must
 * not take the caller down.  0 if the probe came back (opened or refused)
 * or cannot run (not installed: the open goes ahead unprobed); -1 with
 * EINVAL if it crashed or hung.
 */
static int
pmemobj_probe(const char *path)
{
	int ret = dx_probe_run(path, NULL, NULL, DX_ARENA_GLOBAL);

	if (ret == DX_PROBE_CRASHED)
		return dx_err(EINVAL, "'%s': libpmemobj crashes opening it: its metadata is damaged",
			path);
	if (ret == DX_PROBE_HUNG)
		return dx_err(EINVAL, "'%s': libpmemobj hangs opening it: its metadata is damaged",
			path);
	return 0;
}

/* pool_open_pmemobj -- pmemobj_open, with errno turned into our causes. */
static PMEMobjpool *
pool_open_pmemobj(const char *path, uint64_t *size, bool probe)
{
	PMEMobjpool *pop;
	struct stat st;

	if (stat(path, &st) != 0) {
		dx_err_keep("cannot open pool '%s'", path);
		return NULL;
	}
	if (!S_ISREG(st.st_mode)) {
		dx_err(EINVAL, "'%s' is not a regular file", path);
		return NULL;
	}
	if ((uint64_t)st.st_size < PMEMOBJ_MIN_POOL) {
		dx_err(EINVAL, "'%s' is too small to be a pool (%ld bytes)",
			path, (long)st.st_size);
		return NULL;
	}
	if (probe && pmemobj_probe(path) != 0)
		return NULL;
	pop = pmemobj_open(path, DX_LAYOUT_NAME);
	if (pop == NULL) {
		int err = errno;

		if (err == EAGAIN || err == EWOULDBLOCK)
			dx_err(EBUSY, "pool '%s' is already open", path);
		else if (err == EINVAL)
			dx_err(EINVAL, "'%s' is not a libdaxfile pool (%s)",
				path, pmemobj_cause());
		else
			dx_err(err, "cannot open pool '%s' (%s)", path,
				pmemobj_cause());
		return NULL;
	}
	*size = (uint64_t)st.st_size;
	return pop;
}

struct daxfile_pool *
dx_pool_attach(const char *path, bool probe)
{
	struct daxfile_pool *pool;
	PMEMobjpool *pop;
	PMEMoid root;
	uint64_t size;

	dx_err_begin();
	if (path == NULL) {
		dx_err(EFAULT, "path is NULL");
		return NULL;
	}
	pop = pool_open_pmemobj(path, &size, probe);
	if (pop == NULL)
		return NULL;
	pool = pool_new(path);
	if (pool == NULL) {
		int err = errno;

		pmemobj_close(pop);
		errno = err;
		return NULL;
	}
	pool_attach(pool, pop, size);
	root = pmemobj_root(pop, 0);
	/* a damaged pool descriptor can name any offset: check before use */
	if (OID_IS_NULL(root) ||
	    !dx_obj_ok(pool, root.off, sizeof(struct dx_root)) ||
	    pmemobj_root_size(pop) < sizeof(struct dx_root)) {
		dx_err(EINVAL, "'%s' is not a libdaxfile pool (no root object)",
			path);
		dx_pool_detach(pool);
		return NULL;
	}
	pool->root = dx_ptr(pool, root.off);
	pool->sb = &pool->root->sb;
	return pool;
}

void
dx_pool_detach(struct daxfile_pool *pool)
{
	int err = errno;

	pmemobj_close(pool->pop);
	pool_delete(pool);
	errno = err;
}

DX_EXPORT daxfile_pool *
daxfile_pool_open(const char *path)
{
	DX_CALL();
	struct daxfile_pool *pool = dx_pool_attach(path, true);

	if (pool == NULL)
		return NULL;
	if (dx_super_check(pool) != 0 || dx_upgrade(pool) != 0 ||
	    pool_start(pool) != 0) {
		dx_pool_detach(pool);
		return NULL;
	}
	dx_handle_live(pool, DX_POOL_MAGIC);
	return pool;
}

int
dx_pool_check_handle(const struct daxfile_pool *pool)
{
	dx_err_begin();
	if (pool == NULL)
		return dx_err(EINVAL, "pool is NULL");
	if (!dx_handle_is(pool, DX_POOL_MAGIC))
		return dx_err(EINVAL, "pool handle is closed");
	return 0;
}

DX_EXPORT int
daxfile_pool_close(daxfile_pool *pool)
{
	DX_CALL();
	long busy;

	if (dx_pool_check_handle(pool) != 0)
		return -1;
	busy = atomic_load(&pool->nopen);
	if (busy != 0)
		return dx_err(EBUSY, "pool '%s' still has %ld open files, directory streams or mappings",
			pool->path, busy);
	if (pool->cwd != NULL) {
		dx_iput(dx_islot_swap(pool, &pool->cwd, NULL));
		/* a removed current directory is freed now, before the close */
		dx_defer_run();
	}
	dx_alloc_fini(pool);
	dx_icache_fini(pool);
	close(pool->fd);
	pmemobj_close(pool->pop);
	pool_delete(pool);
	return 0;
}

int
dx_pool_inode_counts(struct daxfile_pool *pool, fsfilcnt_t *files,
	fsfilcnt_t *ffree)
{
	/*
	 * Inodes and entries are claimed from slabs, and a slab is made of
	 * free data blocks when none has room: the files a pool can still
	 * take are the free units of its slabs and of its free blocks, a
	 * regular file's inode and a short name (four units) each, as XFS
	 * counts the inodes its free space could hold.
	 */
	const uint64_t per_file = 4;
	uint64_t units = dx_slab_free_units(pool) + dx_alloc_free_blocks(pool) *
		(DX_BLOCK_SIZE / DX_SLAB_UNIT);
	int64_t used = dx_inode_count(pool);

	if (used < 0)
		return -1;
	*ffree = units / per_file;
	*files = (uint64_t)used + *ffree;
	return 0;
}

DX_EXPORT int
daxfile_statvfs(daxfile_pool *pool, struct statvfs *buf)
{
	DX_CALL();
	const struct dx_super *sb;
	uint64_t fsid;

	if (dx_pool_check_handle(pool) != 0)
		return -1;
	if (buf == NULL)
		return dx_err(EFAULT, "statvfs buffer is NULL");
	sb = pool->sb;
	memset(buf, 0, sizeof(*buf));
	memcpy(&fsid, sb->uuid, sizeof(fsid));
	buf->f_bsize = DX_BLOCK_SIZE;
	buf->f_frsize = DX_BLOCK_SIZE;
	buf->f_blocks = sb->data_blocks;
	buf->f_bfree = dx_alloc_free_blocks(pool);
	buf->f_bavail = buf->f_bfree;
	if (dx_pool_inode_counts(pool, &buf->f_files, &buf->f_ffree) != 0)
		return -1;
	buf->f_favail = buf->f_ffree;
	buf->f_fsid = (unsigned long)fsid;
	buf->f_namemax = DX_NAME_MAX;
	return 0;
}

/*
 * daxfile_syncfs -- everything of the pool durable: on persistent memory
 * every write and transaction already is, once the pending flushes drain;
 * the pool file's fsync then covers what stores through mappings left in
 * the page cache (or, on a DAX file system, in CPU caches), and on other
 * backing every overwrite not yet made durable by fsync.
 */
DX_EXPORT int
daxfile_syncfs(daxfile_pool *pool)
{
	DX_CALL();
	if (dx_pool_check_handle(pool) != 0)
		return -1;
	pmem_drain();
	if (fsync(pool->fd) != 0)
		return dx_err(errno, "cannot sync pool file '%s'", pool->path);
	return 0;
}
