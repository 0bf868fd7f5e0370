/*
 * pool.h -- an open pool: the libpmemobj pool, its superblock, and the DRAM
 * state the other modules hang off it.
 */
#ifndef DX_POOL_H
#define DX_POOL_H 1

#include <libpmemobj.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <string.h>
#include <sys/statvfs.h>

#include "alloc.h"
#include "daxfile.h"
#include "handle.h"
#include "inode.h"
#include "layout.h"
#include "lock.h"
#include "mem.h"
#include "slab.h"
#include "undo.h"

/* errno for damaged metadata, as XFS's EFSCORRUPTED */
#define EFSCORRUPTED EUCLEAN

#define DX_POOL_MAGIC 0x6c6f6f7078616466ULL	/* "fdaxpool" */

struct daxfile_pool {
	struct dx_handle h;	/* DX_POOL_MAGIC while open */
	PMEMobjpool *pop;
	char *base;		/* == pop: pool offset 0 */
	uint64_t size;		/* bytes mapped */
	uint64_t uuid_lo;	/* for building PMEMoids from offsets */
	struct dx_root *root;
	const struct dx_super *sb;
	int fd;			/* the pool file, to map blocks from */
	char *path;
	dx_arena arena;
	bool is_pmem;		/* flush with CPU instructions, not msync */
	enum daxfile_backing backing;	/* memory: nothing to flush to */
	uint64_t sb_copy;	/* sb is the copy at this offset (primary damaged) */
	bool raw;		/* mapped read-only without libpmemobj (pop NULL) */
	uint64_t *populated;	/* a bit per 2 MiB chunk (populate.h) */

	struct dx_icache icache;
	struct dx_inode *cwd;	/* current directory, NULL: the root
				   (referenced; under the ICACHE lock) */
	struct dx_alloc alloc;
	struct dx_slabs slabs;
	struct dx_undo undo;
	struct dx_mutex rename_lock;
	struct dx_mutex orphan_lock;

	struct dx_mountpoint *mountpoint;	/* daxfile_pool_set_mountpoint
						   (atomic; NULL: none) */
	struct dx_mountpoint *mountpoints_old;	/* replaced ones, freed at
						   close (walks may read them) */
	atomic_long nopen;	/* open files, directory streams, mappings */
	long locked_files;	/* files with advisory locks (locks.c; atomic) */
	unsigned umask;		/* daxfile_umask: cleared from new inodes'
				   modes; the process umask at open (atomic) */
	struct daxfile_pool *owed_next;	/* forgotten in a forked child, its
					   pmemobj_close owed (forget.c) */
};

/*
 * dx_pool_dev -- the pool's st_dev and f_fsid: 63 bits of its UUID.  Never
 * a kernel device number (those fit 32 bits), and never negative for the
 * programs that read a dev_t as signed (Python's os.stat does).
 */
static inline uint64_t
dx_pool_dev(const struct daxfile_pool *pool)
{
	uint64_t dev;

	memcpy(&dev, pool->sb->uuid, sizeof(dev));
	return dev & ~(1ULL << 63);
}

/* dx_ptr -- the address of pool offset 'off'. */
static inline void *
dx_ptr(const struct daxfile_pool *pool, uint64_t off)
{
	return pool->base + off;
}

/* dx_off -- the pool offset of address 'p' inside the pool. */
static inline uint64_t
dx_off(const struct daxfile_pool *pool, const void *p)
{
	return (uint64_t)((const char *)p - pool->base);
}

/* dx_oid -- the PMEMoid of the object at pool offset 'off'. */
static inline PMEMoid
dx_oid(const struct daxfile_pool *pool, uint64_t off)
{
	PMEMoid oid = {pool->uuid_lo, off};

	return oid;
}

/*
 * dx_obj_ok -- may 'size' bytes at offset 'off' (read from the media) be
 * dereferenced?  Guards every pointer a damaged pool could hold.
 */
static inline bool
dx_obj_ok(const struct daxfile_pool *pool, uint64_t off, uint64_t size)
{
	return off >= 4096 && (off & 7) == 0 && off < pool->size &&
		size <= pool->size - off;
}

/*
 * Below this many bytes libpmem stores through the cache and flushes the
 * lines (its non-temporal threshold); from it on, non-temporal stores.
 */
#define DX_NT_STORE_MIN 256

/*
 * dx_pmem_store -- do stores of 'n' bytes into the pool go through
 * libpmem's copies (pmem_memcpy_nodrain, pmem_memset_nodrain: a drain
 * before they count), or plain memcpy and memset?  Through libpmem on
 * persistent memory.  On memory backing reported as persistent memory
 * (PMEM_IS_PMEM_FORCE=1 on tmpfs) only from DX_NT_STORE_MIN bytes on,
 * whose non-temporal stores beat the cache (4 KiB random overwrites about
 * 1.4x on this machine's AMD EPYC): a smaller store would be flushed, for
 * nothing on memory, and an append that reads its block's tail next would
 * wait for the flushed line (small appends took 1.5x the CPU time).
 */
static inline bool
dx_pmem_store(const struct daxfile_pool *pool, size_t n)
{
	return pool->is_pmem && (pool->backing != DAXFILE_BACKING_MEMORY ||
		n >= DX_NT_STORE_MIN);
}

/* dx_block_ptr -- the address of block 'pblk'. */
static inline void *
dx_block_ptr(const struct daxfile_pool *pool, uint64_t pblk)
{
	return pool->base + (pblk << DX_BLOCK_SHIFT);
}

/*
 * dx_pool_attach -- open the pmemobj pool at 'path' into a new handle, with
 * none of the checks or DRAM state of daxfile_pool_open (the checker's
 * way in), first in daxfile-probe if 'probe'; dx_pool_detach undoes it.
 * A pool that libpmemobj refuses for damage fails with EFSCORRUPTED.
 */
struct daxfile_pool *dx_pool_attach(const char *path, bool probe);
void dx_pool_detach(struct daxfile_pool *pool);

/*
 * dx_pool_forget_finish -- the pmemobj_close of every pool a forked child
 * forgot (forget.c); before libpmemobj opens or creates a pool.
 */
void dx_pool_forget_finish(void);

/*
 * dx_pool_fd_open -- open pool->fd, the pool file that backs mappings, by
 * its path; ESTALE if the path no longer names the file libpmemobj mapped
 * (replaced by a rename or another create meanwhile).
 */
int dx_pool_fd_open(struct daxfile_pool *pool);

/*
 * dx_pool_file_check -- can the file 'path', open at 'fd', be a pool?  Its
 * size in '*size'; EINVAL if it cannot (not a regular file, too small),
 * EFSCORRUPTED if it is one of ours cut short.
 */
int dx_pool_file_check(const char *path, int fd, uint64_t *size);

/*
 * dx_pool_attach_raw -- map the pool file at 'path' read-only, without
 * libpmemobj (pool->raw): for reading what a pool holds when libpmemobj
 * cannot open it.  Nothing in it is trusted: pool->root is where the
 * pmemobj descriptor says (NULL if that is outside the file), pool->sb is
 * NULL until dx_super_find.  dx_pool_detach undoes it.
 */
struct daxfile_pool *dx_pool_attach_raw(const char *path);
/* dx_super_check -- is the superblock ours, of a version we read, intact? */
int dx_super_check(struct daxfile_pool *pool);

/* dx_pool_check_handle -- EINVAL for NULL or a closed pool handle. */
int dx_pool_check_handle(const struct daxfile_pool *pool);

/* dx_pool_inode_counts -- inodes in use plus an estimate of room for more. */
int dx_pool_inode_counts(struct daxfile_pool *pool, fsfilcnt_t *files,
	fsfilcnt_t *ffree);

/*
 * dx_persist -- make 'len' bytes at 'addr' durable (flush or msync; nothing
 * on memory backing).
 */
void dx_persist(struct daxfile_pool *pool, const void *addr, size_t len);

/*
 * dx_persist_times -- make timestamps at 'addr' durable: at once on
 * persistent memory; on a disk at the next fsync, which msyncs the inode
 * (as Linux file systems keep times), so that a write costs no msync for
 * them.
 */
void dx_persist_times(struct daxfile_pool *pool, const void *addr, size_t len);

/* dx_corrupt -- report damaged metadata found at run time: EFSCORRUPTED. */
int dx_corrupt(struct daxfile_pool *pool, const char *what, uint64_t off);

/* dx_pool_umask -- the pool's umask (daxfile_umask). */
static inline mode_t
dx_pool_umask(const struct daxfile_pool *pool)
{
	return __atomic_load_n(&pool->umask, __ATOMIC_RELAXED);
}

/* dx_pool_busy_get/put -- count an open file, stream or mapping. */
static inline void
dx_pool_busy_get(struct daxfile_pool *pool)
{
	atomic_fetch_add(&pool->nopen, 1);
}

static inline void
dx_pool_busy_put(struct daxfile_pool *pool)
{
	atomic_fetch_sub(&pool->nopen, 1);
}

#endif /* DX_POOL_H */
