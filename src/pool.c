/*
 * pool.c -- pools: create, open (with every check a damaged or foreign file
 * needs, and an errno for each refusal), close, statvfs, and persistence of
 * metadata written outside transactions.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <libpmem.h>
#include <stdarg.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "defer.h"
#include "hash.h"
#include "mkfs.h"
#include "out.h"
#include "permission.h"
#include "pool.h"
#include "poolfile.h"
#include "poolpages.h"
#include "populate.h"
#include "probe.h"
#include "super.h"
#include "symlink.h"
#include "upgrade.h"

static struct dx_handle_cache pool_cache =
	DX_HANDLE_CACHE_INIT(struct daxfile_pool);

void
dx_persist(struct daxfile_pool *pool, const void *addr, size_t len)
{
	if (pool->backing != DAXFILE_BACKING_MEMORY)
		pmemobj_persist(pool->pop, addr, len);
}

void
dx_persist_times(struct daxfile_pool *pool, const void *addr, size_t len)
{
	if (pool->backing == DAXFILE_BACKING_PMEM)
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
	pool->mountpoint = pool->mountpoints_old = NULL;
	pool->populated = NULL;
	pool->undo.area = NULL;
	atomic_store(&pool->undo.free, 0);
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
	dx_symlink_fini(pool);
	dx_slab_fini(pool);
	dx_populate_fini(pool);
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
	dx_populate_init(pool);
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
	pool->backing = dx_poolfile_backing(pool->fd, pool->is_pmem);
	if (dx_icache_init(pool) != 0)
		goto err_close;
	if (dx_alloc_init(pool) != 0)
		goto err_icache;
	dx_undo_start(pool);
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

/*
 * pool_zero_pages -- on a memory backing, have every page of the data
 * segments zeroed now.  libpmemobj fallocates the pool file, but tmpfs
 * zeroes a fallocated page only at its first touch, and until then
 * mincore(2) does not count it resident, so populate.c leaves it out and
 * the first write to each block takes a page fault of its own (10-20 us
 * on a virtual machine whose faults exit to the host).  One
 * MADV_POPULATE_WRITE does it for the whole pool at 0.1-0.2 s a GiB; it
 * allocates nothing the fallocate did not, and a kernel without it
 * (before 5.14) leaves the pages to their faults.
 */
static void
pool_zero_pages(struct daxfile_pool *pool)
{
	const struct dx_super *sb = pool->sb;

	if (pool->backing != DAXFILE_BACKING_MEMORY)
		return;
	for (uint32_t i = 0; i < sb->nsegs; i++)
		(void)madvise(dx_block_ptr(pool, sb->segs[i].start),
			sb->segs[i].nblocks << DX_BLOCK_SHIFT,
			MADV_POPULATE_WRITE);
}

DX_EXPORT daxfile_pool *
daxfile_pool_create(const char *path, uint64_t size, mode_t mode)
{
	DX_CALL();
	struct daxfile_pool *pool;
	PMEMobjpool *pop;
	struct stat st;
	int made;

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
	dx_pool_forget_finish();
	made = dx_poolpages_create(path, size, mode);
	if (made < 0) {
		dx_err_keep("cannot create pool '%s'", path);
		return NULL;
	}
	/* a file made here: libpmemobj takes it as it stands (size 0) */
	pop = pmemobj_create(path, DX_LAYOUT_NAME, made ? 0 : size, mode);
	if (pop == NULL) {
		dx_err_keep("cannot create pool '%s'", path);
		if (made) {
			int err = errno;

			unlink(path);
			errno = err;
		}
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
	/* what pool_start finds again; mkfs persists the superblock copies */
	pool->backing = pool->is_pmem ? DAXFILE_BACKING_PMEM :
		DAXFILE_BACKING_DISK;
	if (dx_mkfs(pool, size) != 0 || pool_start(pool) != 0)
		goto err_delete;
	pool_zero_pages(pool);
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
 * not take the caller down.  0 if the probe came back (opened or refused);
 * -1 with EFSCORRUPTED if it crashed or hung, or with the errno of the
 * failure if the helper cannot run (the open is refused, never done
 * unprobed).  A pool whose last close was clean, and which holds exactly
 * what that close left where libpmemobj's open reads, needs no probe
 * (dx_poolfile_sealed): the probe's process costs 15 ms to a second.
 */
static int
pmemobj_probe(const char *path)
{
	int ret = dx_probe_run(path, NULL, NULL, DX_ARENA_GLOBAL);

	if (ret < 0)
		return dx_err_keep("cannot open pool '%s'", path);
	if (ret == DX_PROBE_CRASHED)
		return dx_err(EFSCORRUPTED, "pool '%s' is damaged: libpmemobj crashes opening it (its own metadata is damaged; daxfile salvage can copy the files out)",
			path);
	if (ret == DX_PROBE_HUNG)
		return dx_err(EFSCORRUPTED, "pool '%s' is damaged: libpmemobj stalls opening it (its own metadata is damaged; daxfile salvage can copy the files out)",
			path);
	return 0;
}

/* pool_busy -- EBUSY for a pool that another handle has open: whose? */
static int
pool_busy(const char *path)
{
	pid_t pid = dx_poolfile_holder(path);
	char comm[64] = "";
	char proc[64];
	FILE *f;

	if (pid == getpid())
		return dx_err(EBUSY, "pool '%s' is already open in this process",
			path);
	if (pid == 0)
		return dx_err(EBUSY, "pool '%s' is already open", path);
	snprintf(proc, sizeof(proc), "/proc/%d/comm", (int)pid);
	f = fopen(proc, "re");
	if (f != NULL) {
		if (fgets(comm, sizeof(comm), f) != NULL)
			comm[strcspn(comm, "\n")] = '\0';
		fclose(f);
	}
	return dx_err(EBUSY, "pool '%s' is open in process %d%s%s%s", path,
		(int)pid, *comm ? " (" : "", comm, *comm ? ")" : "");
}

/*
 * pool_refused -- the errno and message for a pool libpmemobj refused.
 * It refuses what it reads with EINVAL, or with no errno at all (-1 for a
 * damaged heap): then what the file says of itself decides, EINVAL for a
 * file that was never a pool of ours, EFSCORRUPTED for one of ours.  A
 * real errno of another kind (ENOMEM, EACCES, EIO) is kept.
 */
static int
pool_refused(const char *path, int fd, uint64_t size, int err)
{
	struct dx_poolfile pf;

	if (err == EAGAIN || err == EWOULDBLOCK)
		return pool_busy(path);
	if (err > 0 && err != EINVAL)
		return dx_err(err, "cannot open pool '%s' (libpmemobj: %s)",
			path, pmemobj_cause());
	if (dx_poolfile_read(fd, size, &pf) != 0)
		return dx_err_keep("cannot read pool file '%s'", path);
	if (!pf.ours)
		return dx_err(EINVAL, "'%s' is not a libdaxfile pool (libpmemobj: %s)",
			path, pmemobj_cause());
	return dx_err(EFSCORRUPTED, "pool '%s' is damaged: libpmemobj refuses it (%s; daxfile salvage can copy the files out)",
		path, pmemobj_cause());
}

int
dx_pool_file_check(const char *path, int fd, uint64_t *size)
{
	struct dx_poolfile pf;
	struct stat st;

	if (fstat(fd, &st) != 0)
		return dx_err_keep("cannot open pool '%s'", path);
	if (!S_ISREG(st.st_mode))
		return dx_err(EINVAL, "'%s' is not a regular file", path);
	*size = (uint64_t)st.st_size;
	if (dx_poolfile_read(fd, *size, &pf) != 0)
		return dx_err_keep("cannot read pool file '%s'", path);
	if (pf.ours && pf.made_size > *size)
		return dx_err(EFSCORRUPTED, "pool file '%s' is truncated (%lu of %lu bytes)",
			path, (unsigned long)*size, (unsigned long)pf.made_size);
	if (*size < PMEMOBJ_MIN_POOL)
		return dx_err(EINVAL, "'%s' is too small to be a pool (%lu bytes)",
			path, (unsigned long)*size);
	return 0;
}

/* pool_open_pmemobj -- pmemobj_open, with each refusal given its errno. */
static PMEMobjpool *
pool_open_pmemobj(const char *path, uint64_t *size, bool probe)
{
	PMEMobjpool *pop;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		dx_err_keep("cannot open pool '%s'", path);
		return NULL;
	}
	if (dx_pool_file_check(path, fd, size) != 0) {
		close(fd);
		return NULL;
	}
	/* held by another handle: EBUSY now, not after a probe says so */
	if (flock(fd, LOCK_EX | LOCK_NB) != 0 && errno == EWOULDBLOCK) {
		pool_busy(path);
		close(fd);
		return NULL;
	}
	flock(fd, LOCK_UN);
	if (probe && !dx_poolfile_sealed(fd, *size) &&
	    pmemobj_probe(path) != 0) {
		close(fd);
		return NULL;
	}
	dx_pool_forget_finish();
	pop = pmemobj_open(path, DX_LAYOUT_NAME);
	if (pop == NULL)
		pool_refused(path, fd, *size, errno);
	close(fd);
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
		dx_err(EFSCORRUPTED, "pool '%s' is damaged: it has no root object",
			path);
		dx_pool_detach(pool);
		return NULL;
	}
	pool->root = dx_ptr(pool, root.off);
	pool->sb = &pool->root->sb;
	/* libpmemobj recovered its own log in its open; now the lanes' */
	dx_undo_recover(pool);
	return pool;
}

struct daxfile_pool *
dx_pool_attach_raw(const char *path)
{
	struct daxfile_pool *pool;
	struct dx_poolfile pf;
	struct stat st;
	uint64_t size;
	void *map;
	int fd;

	dx_err_begin();
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		dx_err_keep("cannot open pool '%s'", path);
		return NULL;
	}
	/* a truncated pool is read as far as it goes */
	if (fstat(fd, &st) != 0) {
		dx_err_keep("cannot open pool '%s'", path);
		goto err_close;
	}
	size = (uint64_t)st.st_size;
	if (dx_poolfile_read(fd, size, &pf) != 0) {
		dx_err_keep("cannot read pool file '%s'", path);
		goto err_close;
	}
	if (!S_ISREG(st.st_mode) || !pf.ours || size == 0) {
		dx_err(EINVAL, "'%s' is not a libdaxfile pool", path);
		goto err_close;
	}
	map = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED) {
		dx_err_keep("cannot map pool file '%s'", path);
		goto err_close;
	}
	close(fd);
	pool = pool_new(path);
	if (pool == NULL) {
		munmap(map, size);
		return NULL;
	}
	pool->raw = true;
	pool->base = map;
	pool->size = size;
	pool->root = pf.root_off != 0 ? dx_ptr(pool, pf.root_off) : NULL;
	return pool;

err_close:
	close(fd);
	return NULL;
}

void
dx_pool_detach(struct daxfile_pool *pool)
{
	int err = errno;

	if (pool->raw)
		munmap(pool->base, pool->size);
	else
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
	if (pool->undo.damaged) {
		dx_err(EFSCORRUPTED, "pool '%s' is damaged: its undo log area "
			"at %#lx cannot be read (daxfile check -r rebuilds it)",
			path, (unsigned long)pool->root->undo);
		dx_pool_detach(pool);
		return NULL;
	}
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
daxfile_pool_backing(daxfile_pool *pool)
{
	DX_CALL();
	if (dx_pool_check_handle(pool) != 0)
		return -1;
	return (int)pool->backing;
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
	pmemobj_close(pool->pop);
	dx_poolfile_seal(pool->fd);
	close(pool->fd);
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

	if (dx_pool_check_handle(pool) != 0)
		return -1;
	if (buf == NULL)
		return dx_err(EFAULT, "statvfs buffer is NULL");
	sb = pool->sb;
	memset(buf, 0, sizeof(*buf));
	buf->f_bsize = DX_BLOCK_SIZE;
	buf->f_frsize = DX_BLOCK_SIZE;
	buf->f_blocks = sb->data_blocks;
	buf->f_bfree = dx_alloc_free_blocks(pool);
	buf->f_bavail = buf->f_bfree;
	if (dx_pool_inode_counts(pool, &buf->f_files, &buf->f_ffree) != 0)
		return -1;
	buf->f_favail = buf->f_ffree;
	buf->f_fsid = (unsigned long)dx_pool_dev(pool);
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
