/*
 * inode.h -- in-core inodes: the table of inodes in use, their locks, and the
 * persistent inode's life cycle (allocation, orphan list, reclaim).
 */
#ifndef DX_INODE_H
#define DX_INODE_H 1

#include <dirent.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>

#include "bias.h"
#include "layout.h"
#include "lock.h"
#include "util.h"

#include "defer.h"

struct daxfile_pool;
struct dx_tx;
struct dx_bmap;
struct dx_fmap;
struct dx_lockctx;

struct dx_inode {
	struct daxfile_pool *pool;
	uint64_t ino;
	struct dx_dinode *di;
	struct dx_inode *hnext;		/* icache chain */
	unsigned refcnt;		/* atomic; 0 only under the ICACHE
					   lock, by the last dx_iput */
	bool isdir;
	bool islnk;			/* a symbolic link */
	bool linkable;			/* made by O_TMPFILE without O_EXCL and
					   not yet named: linkat may name it
					   (under ilock) */
	bool unhashed;			/* out of the table: its dinode is
					   freed by its unlinker's transaction */

	/*
	 * A removed directory that is still referenced (a current directory,
	 * an open handle): the parent it had, referenced, for "..".  Set
	 * under its DIR lock, put with the inode.
	 */
	struct dx_inode *gone_parent;

	/*
	 * A directory's iolock is its DIR lock: it covers its entries and
	 * every field of its dinode.  The dinode fields of a regular file or
	 * a symbolic link, and a file's extent map, are covered by ilock.
	 */
	struct dx_rwlock iolock;
	uint64_t ioseq;			/* odd while the iolock is held
					   exclusive: reads that ran without
					   the iolock check it (inode.c) */
	struct dx_bias iobias;		/* the writer that takes the iolock
					   without the rwlock (bias.h) */
	struct dx_rwlock mmaplock;
	struct dx_rwlock ilock;

	/* regular files */
	struct dx_bmap *bmap;		/* extent cache: under ilock */
	unsigned nwriters;		/* open for writing: under ilock */
	bool ts_seen;			/* timestamps read since last change */

	/* its mappings and their fault queue (map.c), from its first mmap */
	struct dx_fmap *fmap;

	struct dx_deferred reclaim;	/* the last reference to an unlinked
					   inode went: freed with no lock held */

	/* advisory locks (locks.c): made at the first lock, atomic pointer */
	struct dx_lockctx *locks;
};

/*
 * The table of in-core inodes, by inode number, and the in-core inodes
 * kept for reuse once their last reference is gone (at most
 * DX_ICACHE_SPARE): a file created, closed and removed takes one from
 * there twice instead of allocating it twice.
 */
#define DX_ICACHE_SPARE 256

struct dx_icache {
	struct dx_mutex lock;
	struct dx_inode **tab;
	uint64_t mask;
	uint64_t count;
	struct dx_inode *spare;		/* chained by hnext */
	unsigned nspare;
	unsigned freeing;	/* inodes out of the table being freed */
	uint64_t free_seq;	/* frees of inodes out of the table, ended */
};

/* Lock flags for dx_ilock(): which of the inode's locks, in which mode. */
#define DX_IOLOCK_EXCL		0x01u
#define DX_IOLOCK_SHARED	0x02u
#define DX_MMAPLOCK_EXCL	0x04u
#define DX_MMAPLOCK_SHARED	0x08u
#define DX_ILOCK_EXCL		0x10u
#define DX_ILOCK_SHARED		0x20u

/*
 * dx_ilock -- take the named locks of 'ip' in hierarchy order (iolock ->
 * mmaplock -> ilock).  'sub' is the lockdep subclass when two inodes are
 * locked together (ancestor or lower inode number first).
 */
void dx_ilock_nested(struct dx_inode *ip, unsigned flags, unsigned sub);
#define dx_ilock(ip, flags) dx_ilock_nested((ip), (flags), 0)
void dx_iunlock(struct dx_inode *ip, unsigned flags);
/* dx_itrylock_io_excl -- the iolock exclusive if it is free at once. */
bool dx_itrylock_io_excl(struct dx_inode *ip);

/*
 * dx_ioseq_end -- the iolock exclusive about to be released: the sequence
 * turns even, after every store of the holder.  Only the holder changes
 * it.  On x86 a store fence orders the non-temporal copies before the
 * plain store; unlike a locked instruction it does not stall the
 * pipeline until they reached memory.
 */
static inline void
dx_ioseq_end(struct dx_inode *ip)
{
#if defined(__x86_64__)
	uint64_t s = __atomic_load_n(&ip->ioseq, __ATOMIC_RELAXED);

	__builtin_ia32_sfence();
	__atomic_store_n(&ip->ioseq, s + 1, __ATOMIC_RELEASE);
#else
	__atomic_fetch_add(&ip->ioseq, 1, __ATOMIC_SEQ_CST);
#endif
}

/*
 * dx_iolock_write / dx_iounlock_write -- the iolock exclusive for a write
 * of file data: by the file's bias if this thread owns it (bias.h), else
 * by the rwlock, and then the bias for this thread if it is free.  The
 * unlock is told which (the return value of the lock).  The owner of the
 * bias is the only holder: it makes the sequence odd with a plain store
 * and a store fence (which orders it before the copy's non-temporal
 * stores, as the locked instruction of ioseq_begin in inode.c does), and
 * even with dx_ioseq_end.  Inline: measured, a call and return around
 * these fences cost a tenth of a 4 KiB overwrite.
 */
static inline bool
dx_iolock_write(struct dx_inode *ip)
{
#ifdef DX_BIAS
	if (dx_bias_enter(&ip->iobias)) {
		dx_rwlock_owned(&ip->iolock, 0);
		__atomic_store_n(&ip->ioseq,
			__atomic_load_n(&ip->ioseq, __ATOMIC_RELAXED) + 1,
			__ATOMIC_RELAXED);
		__builtin_ia32_sfence();
		return true;
	}
#endif
	dx_ilock(ip, DX_IOLOCK_EXCL);
	dx_bias_grant(&ip->iobias);
	return false;
}

static inline void
dx_iounlock_write(struct dx_inode *ip, bool biased)
{
#ifdef DX_BIAS
	if (biased) {
		dx_ioseq_end(ip);
		dx_rwlock_disowned(&ip->iolock);
		dx_bias_exit(&ip->iobias);
		return;
	}
#endif
	(void)biased;
	dx_iunlock(ip, DX_IOLOCK_EXCL);
}

/*
 * dx_ioseq_begin / dx_ioseq_changed -- a read of a regular file without its
 * iolock: begin returns false when a holder of the iolock exclusive is at
 * work; changed, after the copy, says whether one worked meanwhile (then
 * the copy may be torn and is done again under the iolock shared).
 * ThreadSanitizer does not model the reader's fence and would call every
 * lost race a data race: its builds always take the iolock.
 */
static inline bool
dx_ioseq_begin(const struct dx_inode *ip, uint64_t *seq)
{
#ifdef DX_TSAN
	*seq = 0;
	return (void)ip, false;
#else
	*seq = __atomic_load_n(&ip->ioseq, __ATOMIC_ACQUIRE);
	return (*seq & 1) == 0;
#endif
}

static inline bool
dx_ioseq_changed(const struct dx_inode *ip, uint64_t seq)
{
#ifdef DX_TSAN
	return (void)ip, (void)seq, true;
#else
	/* every load of the copy before the second read of the sequence */
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	return __atomic_load_n(&ip->ioseq, __ATOMIC_RELAXED) != seq;
#endif
}

int dx_icache_init(struct daxfile_pool *pool);
void dx_icache_fini(struct daxfile_pool *pool);

/*
 * dx_inode_valid -- is 'ino' the offset of a sound persistent inode (for
 * the checker and salvage too, which read pools without in-core inodes)?
 */
bool dx_inode_valid(const struct daxfile_pool *pool, uint64_t ino);

/* dx_iget -- a counted reference to inode 'ino'; NULL with errno if damaged. */
struct dx_inode *dx_iget(struct daxfile_pool *pool, uint64_t ino);
/*
 * dx_iget_handle -- a counted reference to inode 'ino' if it is alive and
 * of 'generation', with no directory lock held; NULL with ESTALE if not.
 */
struct dx_inode *dx_iget_handle(struct daxfile_pool *pool, uint64_t ino,
	uint64_t generation);
/* dx_ihold -- one more reference to an inode already held (no lock). */
void dx_ihold(struct dx_inode *ip);

/*
 * dx_islot_get / dx_islot_swap -- a reference kept in a slot that threads
 * share (the pool's current directory), read and replaced under the
 * ICACHE lock.  get: a new reference to what the slot holds, or NULL;
 * swap: the slot takes the caller's reference to 'ip' and its old one is
 * returned, for the caller to dx_iput.
 */
struct dx_inode *dx_islot_get(struct daxfile_pool *pool,
	struct dx_inode **slot);
struct dx_inode *dx_islot_swap(struct daxfile_pool *pool,
	struct dx_inode **slot, struct dx_inode *ip);
/*
 * dx_iput -- drop a reference; only the last one takes the ICACHE lock.
 * The last one to an unlinked inode reclaims it when the call ends
 * (deferred work: no lock held), holding the pool busy until then.
 */
void dx_iput(struct dx_inode *ip);

/*
 * dx_inode_on_destroy -- have 'fn' tear down what an upper layer hung off
 * in-core inodes (the mapping layer's ip->fmap) when one goes.
 */
void dx_inode_on_destroy(void (*fn)(struct dx_inode *ip));
/*
 * dx_icache_writers -- up to 'max' referenced regular files that are open
 * for writing (the ones that may hold speculative preallocation).
 */
unsigned dx_icache_writers(struct daxfile_pool *pool, struct dx_inode **out,
	unsigned max);

/*
 * dx_inode_alloc -- a new persistent inode of type and permission bits
 * 'mode' (as dx_perm_create_mode made them) in directory 'dir' (NULL for
 * the root of a new pool), owned as dx_perm_init_owner says for the
 * credentials 'cr', in 'tx'; its number, or 0.  Directories get their
 * dirhdr in the same object, links room for a short target.
 */
struct dx_cred;
uint64_t dx_inode_alloc(struct dx_tx *tx, const struct dx_inode *dir,
	mode_t mode, struct dx_cred *cr);

/*
 * dx_inode_tx_add -- snapshot, in one range, every field of the dinode that
 * its attribute lock covers (ILOCK, or the DIR lock of a directory): all
 * but the orphan links and what follows them.  The orphan links are the
 * ORPHAN lock's, which may change them in another transaction while the
 * caller holds the inode's lock.  The caller holds that lock exclusive
 * until 'tx' ends.
 */
int dx_inode_tx_add(struct dx_tx *tx, struct dx_dinode *di);

/* dx_inode_touch -- set mtime and/or ctime to now, in 'tx'. */
#define DX_TOUCH_MTIME 0x1u
#define DX_TOUCH_CTIME 0x2u
#define DX_TOUCH_ATIME 0x4u
void dx_inode_touch(struct dx_tx *tx, struct dx_dinode *di, unsigned what);

/*
 * dx_inode_accessed -- 'ip' was read (file data, a directory listing, a
 * symbolic link's target): move its atime as Linux's relatime does
 * (relatime_need_update: when atime is not later than mtime or ctime, or
 * a day old).  A lone 16-byte store under the lock of its attributes (a
 * directory's DIR lock, else the ilock), persisted, outside any
 * transaction.  Reads call it every time: the common case reads the times
 * and the clock's seconds and returns.  The caller holds neither lock.
 */
void dx_inode_accessed(struct dx_inode *ip);

/*
 * dx_inode_drop_link -- one entry naming 'ip' is gone in 'tx' (the caller
 * holds the parent's DIR lock and ip's ILOCK or DIR lock, exclusive): a
 * directory loses every link (its entry and its "."), anything else one,
 * and its ctime is stamped.  An inode left with no link is freed in the
 * same transaction when the caller's reference is the only one -- nothing
 * of it is snapshotted or written then -- else it goes on the orphan list
 * for its last dx_iput().
 */
void dx_inode_drop_link(struct dx_tx *tx, struct dx_inode *ip);

/*
 * dx_inode_orphan / dx_inode_unorphan -- put a new unnamed inode on the
 * orphan list, or take one off it as it gets its first name, in 'tx'
 * (for unorphan, the caller holds the inode's ilock).
 */
void dx_inode_orphan(struct dx_tx *tx, struct dx_dinode *di);
void dx_inode_unorphan(struct dx_tx *tx, struct dx_dinode *di);

/*
 * dx_inode_count -- inodes in use: the tree walked from the root, plus the
 * orphans (libpmemobj's own object list is not trusted with a damaged
 * heap).  -1 with errno on failure.
 */
int64_t dx_inode_count(struct daxfile_pool *pool);

/* dx_orphans_reclaim -- free the orphans a crash left (at pool open). */
int dx_orphans_reclaim(struct daxfile_pool *pool);

/* dx_inode_stat -- fill 'st' (caller holds the inode's attribute lock). */
void dx_inode_stat(struct dx_inode *ip, struct stat *st);

/* dx_inode_dtype -- the DT_* type of the inode, for directory entries. */
static inline unsigned
dx_inode_dtype(const struct dx_inode *ip)
{
	return ip->isdir ? DT_DIR : ip->islnk ? DT_LNK : DT_REG;
}

/* dx_inode_lock_attrs -- lock what covers the dinode fields, shared/excl. */
void dx_inode_lock_attrs(struct dx_inode *ip, bool excl);
void dx_inode_unlock_attrs(struct dx_inode *ip, bool excl);

#endif /* DX_INODE_H */
