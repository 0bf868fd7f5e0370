/*
 * inode.c -- in-core inodes: the inode table, the inode locks, and the life
 * of a persistent inode from allocation through unlink to reclaim.
 *
 * An in-core inode lives while someone holds a reference (a path walk, an
 * open file, a mapping).  The last reference of an inode whose link count
 * dropped to zero reclaims it: its blocks, its directory segments and the
 * inode itself are freed, and it leaves the orphan list, in one transaction.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <sched.h>
#include <stddef.h>
#include <string.h>
#include <unistd.h>

#include "bmap.h"
#include "defer.h"
#include "dir.h"
#include "locks.h"
#include "mem.h"
#include "out.h"
#include "permission.h"
#include "pool.h"
#include "slab.h"
#include "symlink.h"
#include "tx.h"
#include "xattr.h"

#define ICACHE_MIN_BUCKETS 1024

static inline uint64_t
icache_slot(const struct dx_icache *ic, uint64_t ino)
{
	/* inode numbers are object offsets: drop the allocation granularity */
	uint64_t h = (ino >> 4) * 0x9e3779b97f4a7c15ULL;

	return (h >> 32) & ic->mask;
}

int
dx_icache_init(struct daxfile_pool *pool)
{
	struct dx_icache *ic = &pool->icache;

	dx_mutex_init(&ic->lock, DX_LC_ICACHE);
	ic->tab = dx_zalloc(pool->arena, ICACHE_MIN_BUCKETS * sizeof(*ic->tab));
	if (ic->tab == NULL)
		return dx_err(ENOMEM, "cannot allocate the inode table");
	ic->mask = ICACHE_MIN_BUCKETS - 1;
	ic->count = 0;
	ic->spare = NULL;
	ic->nspare = 0;
	return 0;
}

void
dx_icache_fini(struct daxfile_pool *pool)
{
	struct dx_icache *ic = &pool->icache;

	VERIFY(ic->count == 0);
	while (ic->spare != NULL) {
		struct dx_inode *ip = ic->spare;

		ic->spare = ip->hnext;
		dx_free(pool->arena, ip);
	}
	dx_free(pool->arena, ic->tab);
	dx_mutex_destroy(&ic->lock);
}

/* icache_grow -- double the table when it is full (caller holds the lock). */
static void
icache_grow(struct daxfile_pool *pool)
{
	struct dx_icache *ic = &pool->icache;
	uint64_t n = (ic->mask + 1) * 2;
	struct dx_inode **tab = dx_zalloc(pool->arena, n * sizeof(*tab));
	struct dx_inode **old = ic->tab;
	uint64_t oldn = ic->mask + 1;

	dx_assert_held(&pool->icache.lock);
	if (tab == NULL)
		return; /* keep the longer chains */
	ic->tab = tab;
	ic->mask = n - 1;
	for (uint64_t i = 0; i < oldn; i++) {
		struct dx_inode *ip = old[i], *next;

		for (; ip != NULL; ip = next) {
			uint64_t s = icache_slot(ic, ip->ino);

			next = ip->hnext;
			ip->hnext = tab[s];
			tab[s] = ip;
		}
	}
	dx_free(pool->arena, old);
}

static struct dx_inode *
icache_find(struct dx_icache *ic, uint64_t ino)
{
	struct dx_inode *ip = ic->tab[icache_slot(ic, ino)];

	while (ip != NULL && ip->ino != ino)
		ip = ip->hnext;
	return ip;
}

/* icache_insert -- put 'ip' in the table (its lock held), growing it first. */
static void
icache_insert(struct daxfile_pool *pool, struct dx_inode *ip)
{
	struct dx_icache *ic = &pool->icache;

	if (ic->count >= ic->mask + 1)
		icache_grow(pool);
	ip->hnext = ic->tab[icache_slot(ic, ip->ino)];
	ic->tab[icache_slot(ic, ip->ino)] = ip;
	ic->count++;
}

/*
 * icache_frees_end -- 'n' frees of inodes out of the table are over
 * (dx_iget_handle waits for them).
 */
static void
icache_frees_end(struct dx_icache *ic, unsigned n)
{
	dx_mutex_lock(&ic->lock);
	ic->freeing -= n;
	ic->free_seq++;
	dx_mutex_unlock(&ic->lock);
}

static void
icache_remove(struct dx_icache *ic, struct dx_inode *ip)
{
	struct dx_inode **pp = &ic->tab[icache_slot(ic, ip->ino)];

	while (*pp != ip)
		pp = &(*pp)->hnext;
	*pp = ip->hnext;
	ic->count--;
}

bool
dx_inode_valid(const struct daxfile_pool *pool, uint64_t ino)
{
	const struct dx_dinode *di;
	uint64_t size = sizeof(*di);

	if (!dx_obj_ok(pool, ino, size))
		return false;
	di = dx_ptr(pool, ino);
	if (di->magic != DX_INODE_MAGIC)
		return false;
	if (S_ISDIR(di->mode)) {
		const struct dx_dirhdr *hdr = (const void *)(di + 1);

		return dx_obj_ok(pool, ino, size + sizeof(*hdr)) &&
			hdr->level < 40 &&
			hdr->split < ((uint64_t)DX_DIR_B0 << hdr->level);
	}
	if (S_ISLNK(di->mode))
		return dx_obj_ok(pool, ino, size + DX_SYMLINK_INLINE) &&
			dx_symlink_check(pool, ino) == NULL;
	/* a size past the largest file would lead walks of the file past
	   the block numbers the extent maps can hold */
	return S_ISREG(di->mode) && di->size <= DX_MAX_FILE_SIZE;
}

/* inode_spare_put -- keep a destroyed in-core inode for reuse, or free it. */
static void
inode_spare_put(struct daxfile_pool *pool, struct dx_inode *ip)
{
	struct dx_icache *ic = &pool->icache;

	dx_mutex_lock(&ic->lock);
	if (ic->nspare < DX_ICACHE_SPARE) {
		ip->hnext = ic->spare;
		ic->spare = ip;
		ic->nspare++;
		ip = NULL;
	}
	dx_mutex_unlock(&ic->lock);
	dx_free(pool->arena, ip);
}

/*
 * inode_new -- an in-core inode for 'ino', referenced once, not in the
 * table yet: a spare one (the caller holds the table's lock) or a new
 * allocation made after the lock is let go.
 */
static struct dx_inode *
inode_new(struct daxfile_pool *pool, uint64_t ino, struct dx_inode *spare)
{
	struct dx_inode *ip = spare;

	if (ip == NULL)
		ip = dx_malloc(pool->arena, sizeof(*ip));
	if (ip == NULL)
		return NULL;
	memset(ip, 0, sizeof(*ip));
	ip->pool = pool;
	ip->ino = ino;
	ip->di = dx_ptr(pool, ino);
	ip->isdir = S_ISDIR(ip->di->mode);
	ip->islnk = S_ISLNK(ip->di->mode);
	ip->refcnt = 1;
	dx_rwlock_init(&ip->iolock, ip->isdir ? DX_LC_DIR : DX_LC_IOLOCK);
	dx_rwlock_init(&ip->mmaplock, DX_LC_MMAPLOCK);
	dx_rwlock_init(&ip->ilock, DX_LC_ILOCK);
	return ip;
}

/* The teardown of what upper layers hang off an inode (dx_inode_on_destroy). */
static void (*inode_teardown)(struct dx_inode *ip);

void
dx_inode_on_destroy(void (*fn)(struct dx_inode *ip))
{
	inode_teardown = fn;
}

/* inode_destroy -- tear down an in-core inode nobody holds. */
static void
inode_destroy(struct dx_inode *ip)
{
	if (ip->fmap != NULL)
		inode_teardown(ip);
	dx_bmap_destroy(ip);
	dx_locks_inode_free(ip);
	dx_rwlock_destroy(&ip->iolock);
	dx_rwlock_destroy(&ip->mmaplock);
	dx_rwlock_destroy(&ip->ilock);
	inode_spare_put(ip->pool, ip);
}

/*
 * dx_iget -- the table is searched under its lock; a miss checks the
 * persistent inode and builds the in-core one outside it (the caller's
 * directory lock, or the pool's opening, keeps the inode from being freed
 * meanwhile), then searches again before it inserts, in case another
 * thread got there first.
 */
struct dx_inode *
dx_iget(struct daxfile_pool *pool, uint64_t ino)
{
	struct dx_icache *ic = &pool->icache;
	struct dx_inode *ip, *fresh, *spare;

	dx_mutex_lock(&ic->lock);
	ip = icache_find(ic, ino);
	if (ip != NULL) {
		__atomic_add_fetch(&ip->refcnt, 1, __ATOMIC_RELAXED);
		dx_mutex_unlock(&ic->lock);
		return ip;
	}
	spare = ic->spare;
	if (spare != NULL) {
		ic->spare = spare->hnext;
		ic->nspare--;
	}
	dx_mutex_unlock(&ic->lock);

	if (!dx_inode_valid(pool, ino)) {
		if (spare != NULL)
			inode_spare_put(pool, spare);
		dx_corrupt(pool, "directory entry names a damaged inode", ino);
		return NULL;
	}
	fresh = inode_new(pool, ino, spare);
	if (fresh == NULL) {
		dx_err(ENOMEM, "cannot allocate an in-core inode");
		return NULL;
	}
	dx_mutex_lock(&ic->lock);
	ip = icache_find(ic, ino);
	if (ip != NULL) {
		__atomic_add_fetch(&ip->refcnt, 1, __ATOMIC_RELAXED);
		dx_mutex_unlock(&ic->lock);
		inode_destroy(fresh);
		return ip;
	}
	icache_insert(pool, fresh);
	dx_mutex_unlock(&ic->lock);
	return fresh;
}

/*
 * handle_live -- is 'ino' the live inode of 'generation'?  A slab object
 * that starts there, sound, with links: an inode freed at once by an
 * unlink keeps its link count (dx_inode_drop_link), so it is its slab
 * unit, free again, that tells.  Inodes of pools made before slabs (each
 * a libpmemobj object, whose freeing nothing here can see) have none.
 */
static bool
handle_live(struct daxfile_pool *pool, uint64_t ino, uint64_t generation)
{
	const struct dx_dinode *di;

	if (!dx_inode_valid(pool, ino) || !dx_slab_is_object(pool, ino))
		return false;
	di = dx_ptr(pool, ino);
	return __atomic_load_n(&di->nlink, __ATOMIC_ACQUIRE) != 0 &&
		__atomic_load_n(&di->generation, __ATOMIC_RELAXED) == generation;
}

/*
 * dx_iget_handle -- dx_iget for a number that no directory vouches for
 * (daxfile_open_by_handle): no directory lock keeps the inode from being
 * freed.  In the table, it is held (open, mapped, or in a call) and cannot
 * be freed before our reference goes, named or not.  Out of it, it is
 * judged outside the table's lock (the slab map has locks of its own) at
 * a moment when no transaction that frees inodes is in flight, and
 * inserted under the lock only if none began or ended meanwhile
 * (icache's freeing and free_seq, kept by the two ways an inode is freed:
 * at once by its unlink, dx_inode_drop_link, or by its last reference,
 * dx_iput): a named inode out of the table cannot lose its last name
 * otherwise, since an unlink holds it in the table.
 * The generation tells it from a later inode at the same number.  ESTALE
 * if it is not the inode of the handle.
 */
struct dx_inode *
dx_iget_handle(struct daxfile_pool *pool, uint64_t ino, uint64_t generation)
{
	struct dx_icache *ic = &pool->icache;
	struct dx_inode *ip, *fresh = NULL, *ret = NULL;
	int err = ESTALE;

	for (;;) {
		uint64_t seq;
		bool busy;

		dx_mutex_lock(&ic->lock);
		ip = icache_find(ic, ino);
		if (ip != NULL) {
			if (ip->di->generation == generation) {
				__atomic_add_fetch(&ip->refcnt, 1, __ATOMIC_RELAXED);
				ret = ip;
			}
			dx_mutex_unlock(&ic->lock);
			break;
		}
		seq = ic->free_seq;
		busy = ic->freeing != 0;
		dx_mutex_unlock(&ic->lock);
		if (busy) {
			sched_yield();
			continue;
		}
		if (!handle_live(pool, ino, generation))
			break;
		if (fresh == NULL)
			fresh = inode_new(pool, ino, NULL);
		if (fresh == NULL) {
			err = ENOMEM;
			break;
		}
		dx_mutex_lock(&ic->lock);
		if (ic->free_seq == seq && ic->freeing == 0 &&
		    icache_find(ic, ino) == NULL) {
			icache_insert(pool, fresh);
			ret = fresh;
			fresh = NULL;
		}
		dx_mutex_unlock(&ic->lock);
		if (ret != NULL)
			break;
	}
	if (fresh != NULL)
		inode_destroy(fresh);
	if (ret == NULL && err == ESTALE)
		dx_err(ESTALE, "no live inode %#lx of generation %#lx",
			(unsigned long)ino, (unsigned long)generation);
	else if (ret == NULL)
		dx_err(err, "cannot allocate an in-core inode");
	return ret;
}

void
dx_ihold(struct dx_inode *ip)
{
	VERIFY(__atomic_fetch_add(&ip->refcnt, 1, __ATOMIC_RELAXED) > 0);
}

struct dx_inode *
dx_islot_get(struct daxfile_pool *pool, struct dx_inode **slot)
{
	struct dx_inode *ip;

	dx_mutex_lock(&pool->icache.lock);
	ip = *slot;
	if (ip != NULL)
		__atomic_add_fetch(&ip->refcnt, 1, __ATOMIC_RELAXED);
	dx_mutex_unlock(&pool->icache.lock);
	return ip;
}

struct dx_inode *
dx_islot_swap(struct daxfile_pool *pool, struct dx_inode **slot,
	struct dx_inode *ip)
{
	struct dx_inode *old;

	dx_mutex_lock(&pool->icache.lock);
	old = *slot;
	*slot = ip;
	dx_mutex_unlock(&pool->icache.lock);
	return old;
}

unsigned
dx_icache_writers(struct daxfile_pool *pool, struct dx_inode **out,
	unsigned max)
{
	struct dx_icache *ic = &pool->icache;
	unsigned n = 0;

	dx_mutex_lock(&ic->lock);
	for (uint64_t b = 0; b <= ic->mask && n < max; b++)
		for (struct dx_inode *ip = ic->tab[b]; ip != NULL && n < max;
		    ip = ip->hnext)
			if (!ip->isdir &&
			    __atomic_load_n(&ip->nwriters, __ATOMIC_RELAXED) > 0) {
				__atomic_add_fetch(&ip->refcnt, 1,
					__ATOMIC_RELAXED);
				out[n++] = ip;
			}
	dx_mutex_unlock(&ic->lock);
	return n;
}

/* dx_inode_unorphan -- unlink 'di' from the orphan list in 'tx'. */
void
dx_inode_unorphan(struct dx_tx *tx, struct dx_dinode *di)
{
	struct daxfile_pool *pool = tx->pool;
	uint64_t ino = dx_off(pool, di);

	dx_tx_hold(tx, &pool->orphan_lock);
	if (di->orphan_prev != 0) {
		struct dx_dinode *prev = dx_ptr(pool, di->orphan_prev);

		DX_TX_ADD_FIELD(tx, prev, orphan_next);
		prev->orphan_next = di->orphan_next;
	} else if (pool->root->orphan_head == ino) {
		DX_TX_ADD_FIELD(tx, pool->root, orphan_head);
		pool->root->orphan_head = di->orphan_next;
	}
	if (di->orphan_next != 0) {
		struct dx_dinode *next = dx_ptr(pool, di->orphan_next);

		DX_TX_ADD_FIELD(tx, next, orphan_prev);
		next->orphan_prev = di->orphan_prev;
	}
}

/* dx_inode_orphan -- put 'di' at the head of the orphan list in 'tx'. */
void
dx_inode_orphan(struct dx_tx *tx, struct dx_dinode *di)
{
	struct daxfile_pool *pool = tx->pool;
	uint64_t ino = dx_off(pool, di);
	uint64_t head;

	dx_tx_hold(tx, &pool->orphan_lock);
	head = pool->root->orphan_head;
	if (head != 0) {
		struct dx_dinode *h = dx_ptr(pool, head);

		DX_TX_ADD_FIELD(tx, h, orphan_prev);
		h->orphan_prev = ino;
	}
	DX_TX_ADD_FIELD(tx, di, orphan_next);
	DX_TX_ADD_FIELD(tx, di, orphan_prev);
	di->orphan_next = head;
	di->orphan_prev = 0;
	DX_TX_ADD_FIELD(tx, pool->root, orphan_head);
	pool->root->orphan_head = ino;
}

/*
 * inode_free_tx -- free the inode's blocks, segments and object in 'tx'
 * (caller holds the only reference, or runs at pool open).
 */
static void
inode_free_tx(struct dx_tx *tx, struct dx_inode *ip)
{
	if (ip->isdir)
		dx_dir_destroy(tx, ip);
	else if (ip->islnk)
		dx_symlink_free(tx, ip->di);
	else
		dx_bmap_free_all(tx, ip);
	dx_xattr_free_all(tx, ip);
	dx_slab_free(tx, ip->ino);
}

/*
 * inode_reclaim -- the last reference to an orphan is gone: free it.  If
 * that fails, it stays an orphan, which the next pool open frees.
 */
static int
inode_reclaim(struct dx_inode *ip)
{
	struct dx_tx tx;
	int ret;

	if (!ip->isdir)
		dx_ilock(ip, DX_ILOCK_EXCL);
	ret = dx_tx_begin(&tx, ip->pool);
	if (ret == 0) {
		dx_inode_unorphan(&tx, ip->di);
		inode_free_tx(&tx, ip);
		ret = dx_tx_commit(&tx);
	}
	if (!ip->isdir)
		dx_iunlock(ip, DX_ILOCK_EXCL);
	return ret;
}

/*
 * inode_put_destroy -- free the in-core inode nobody can reach any more,
 * and drop the reference a removed directory kept to its parent ('..').
 */
static void
inode_put_destroy(struct dx_inode *ip)
{
	struct dx_inode *parent = ip->gone_parent;

	inode_destroy(ip);
	if (parent != NULL)
		dx_iput(parent);
}

/* inode_reclaim_deferred -- inode_reclaim, as the call ends (no lock held). */
static void
inode_reclaim_deferred(struct dx_deferred *d)
{
	struct dx_inode *ip = container_of(d, struct dx_inode, reclaim);
	struct daxfile_pool *pool = ip->pool;

	if (inode_reclaim(ip) != 0)
		dx_log("cannot free unlinked inode %#lx (%s); the next pool "
			"open frees it", (unsigned long)ip->ino, daxfile_errormsg());
	icache_frees_end(&pool->icache, 1);
	inode_put_destroy(ip);
	dx_pool_busy_put(pool);
}

void
dx_iput(struct dx_inode *ip)
{
	struct dx_icache *ic = &ip->pool->icache;
	unsigned r = __atomic_load_n(&ip->refcnt, __ATOMIC_RELAXED);
	bool reclaim;

	/* not the last reference: no lock (only dx_iget adds one to 0) */
	while (r > 1)
		if (__atomic_compare_exchange_n(&ip->refcnt, &r, r - 1, false,
		    __ATOMIC_RELEASE, __ATOMIC_RELAXED))
			return;
	dx_mutex_lock(&ic->lock);
	r = __atomic_fetch_sub(&ip->refcnt, 1, __ATOMIC_ACQ_REL);
	VERIFY(r > 0);
	if (r > 1) {
		dx_mutex_unlock(&ic->lock);
		return;
	}
	/*
	 * Decide under the table lock: once it is released, an unlink may
	 * look the inode up again into a new in-core inode and free it.  An
	 * unhashed inode left the table when its unlinker freed it.
	 */
	reclaim = false;
	if (!ip->unhashed) {
		icache_remove(ic, ip);
		reclaim = ip->di->nlink == 0;
		ic->freeing += reclaim;	/* dx_iget_handle waits for it */
	}
	dx_mutex_unlock(&ic->lock);
	/* unreachable now: no path leads to it, nobody holds it */
	if (reclaim) {
		dx_pool_busy_get(ip->pool);
		ip->reclaim.fn = inode_reclaim_deferred;
		dx_defer_item(&ip->reclaim);
		return;
	}
	inode_put_destroy(ip);
}

uint64_t
dx_inode_alloc(struct dx_tx *tx, const struct dx_inode *dir, mode_t mode,
	struct dx_cred *cr)
{
	size_t size = sizeof(struct dx_dinode);
	struct dx_dinode *di;
	struct timespec now = dx_now();
	uint32_t uid, gid;
	uint64_t ino;

	if (S_ISDIR(mode))
		size += sizeof(struct dx_dirhdr);
	else if (S_ISLNK(mode))
		size += DX_SYMLINK_INLINE;
	ino = dx_slab_alloc(tx, size);
	if (ino == 0)
		return 0;
	di = dx_ptr(tx->pool, ino);
	memset(di, 0, size);
	dx_perm_init_owner(cr, dir, &mode, &uid, &gid);
	di->magic = DX_INODE_MAGIC;
	di->mode = mode;
	di->nlink = S_ISDIR(mode) ? 2 : 1;
	di->uid = uid;
	di->gid = gid;
	di->atime = di->mtime = di->ctime =
		(struct dx_time){now.tv_sec, now.tv_nsec};
	di->btime_ns = now.tv_sec * 1000000000LL + now.tv_nsec;
	di->generation = (uint64_t)now.tv_nsec ^ ino;
	return ino;
}

int
dx_inode_tx_add(struct dx_tx *tx, struct dx_dinode *di)
{
	return dx_tx_add(tx, di, offsetof(struct dx_dinode, orphan_next));
}

void
dx_inode_touch(struct dx_tx *tx, struct dx_dinode *di, unsigned what)
{
	struct timespec now = dx_now();
	struct dx_time t = {now.tv_sec, now.tv_nsec};

	if (dx_inode_tx_add(tx, di) != 0)
		return;
	if (what & DX_TOUCH_ATIME)
		di->atime = t;
	if (what & DX_TOUCH_MTIME)
		di->mtime = t;
	if (what & DX_TOUCH_CTIME)
		di->ctime = t;
}

/* time_not_after -- is 'a' earlier than or equal to 'b'? */
static bool
time_not_after(const struct dx_time *a, const struct dx_time *b)
{
	return a->sec < b->sec || (a->sec == b->sec && a->nsec <= b->nsec);
}

void
dx_inode_accessed(struct dx_inode *ip)
{
	struct dx_dinode *di = ip->di;
	struct timespec now;

	if (!time_not_after(&di->atime, &di->mtime) &&
	    !time_not_after(&di->atime, &di->ctime) &&
	    di->atime.sec + 24 * 3600 > (int64_t)time(NULL))
		return;
	now = dx_now();
	dx_inode_lock_attrs(ip, true);
	di->atime = (struct dx_time){now.tv_sec, now.tv_nsec};
	dx_persist_times(ip->pool, &di->atime, sizeof(di->atime));
	dx_inode_unlock_attrs(ip, true);
}

/* inode_free_end -- the frees of dx_inode_drop_link's transaction are done. */
static void
inode_free_end(void *arg, bool committed)
{
	struct dx_tx *tx = arg;

	(void)committed;
	icache_frees_end(&tx->pool->icache, tx->ifree);
}

/*
 * dx_inode_drop_link -- an inode left with no link and held by the caller
 * alone is freed in 'tx' at once, and it leaves the table first: once 'tx'
 * commits, its offset can come back as a new inode's number, and that
 * inode's lookups must not find this one.  (Should 'tx' abort, the next
 * lookup, after the caller lets go of the parent, builds a fresh in-core
 * inode.)  Otherwise it joins the orphan list and its last reference
 * reclaims it.
 */
void
dx_inode_drop_link(struct dx_tx *tx, struct dx_inode *ip)
{
	struct dx_icache *ic = &ip->pool->icache;
	struct dx_dinode *di = ip->di;
	bool sole;

	dx_assert_held_excl(ip->isdir ? &ip->iolock : &ip->ilock);
	if (!ip->isdir && di->nlink > 1) {
		if (dx_inode_tx_add(tx, di) == 0)
			di->nlink--;
		dx_inode_touch(tx, di, DX_TOUCH_CTIME);
		return;
	}
	dx_mutex_lock(&ic->lock);
	sole = __atomic_load_n(&ip->refcnt, __ATOMIC_ACQUIRE) == 1;
	if (sole) {
		icache_remove(ic, ip);
		ip->unhashed = true;
		ic->freeing++;	/* its link count stays: dx_iget_handle waits */
	}
	dx_mutex_unlock(&ic->lock);
	if (sole) {
		inode_free_tx(tx, ip);
		/* after the slabs' own end, which frees its units in DRAM */
		if (tx->ifree++ == 0)
			dx_tx_on_end(tx, inode_free_end, tx);
		return;
	}
	if (dx_inode_tx_add(tx, di) == 0)
		di->nlink = 0;
	dx_inode_touch(tx, di, DX_TOUCH_CTIME);
	dx_inode_orphan(tx, di);
}

/* A growing list of inode numbers. */
struct ino_list {
	uint64_t *v;
	size_t n, cap;
};

static int
ino_list_push(struct daxfile_pool *pool, struct ino_list *l, uint64_t ino)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 64;
		uint64_t *v = dx_realloc(pool->arena, l->v, cap * sizeof(*v));

		if (v == NULL)
			return dx_err(ENOMEM, "cannot count inodes");
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n++] = ino;
	return 0;
}

static int
ino_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* ino_list_unique -- how many different numbers the list holds. */
static int64_t
ino_list_unique(struct ino_list *l)
{
	int64_t n = 0;

	if (l->n == 0)
		return 0; /* qsort may not be given the NULL of an empty list */
	qsort(l->v, l->n, sizeof(*l->v), ino_cmp);
	for (size_t i = 0; i < l->n; i++)
		n += i == 0 || l->v[i] != l->v[i - 1];
	return n;
}

struct count_walk {
	struct daxfile_pool *pool;
	struct ino_list dirs;	/* directories still to walk */
	struct ino_list shared;	/* inodes of several names, once a name */
	int64_t count;		/* the others */
};

static int
count_entry(void *arg, const char *name, size_t len, uint64_t ino,
	unsigned type)
{
	struct count_walk *cw = arg;

	(void)name;
	(void)len;
	if (type == DT_DIR) {
		cw->count++;
		return ino_list_push(cw->pool, &cw->dirs, ino);
	}
	/* the entry pins the inode: its link count is safe to read */
	if (dx_obj_ok(cw->pool, ino, sizeof(struct dx_dinode)) &&
	    ((const struct dx_dinode *)dx_ptr(cw->pool, ino))->nlink > 1)
		return ino_list_push(cw->pool, &cw->shared, ino);
	cw->count++;
	return 0;
}

int64_t
dx_inode_count(struct daxfile_pool *pool)
{
	struct count_walk cw = {.pool = pool};
	uint64_t limit = pool->size / sizeof(struct dx_dinode);
	int ret = count_entry(&cw, "/", 1, pool->sb->root_ino, DT_DIR);

	while (ret == 0 && cw.dirs.n > 0) {
		struct dx_inode *dp = dx_iget(pool, cw.dirs.v[--cw.dirs.n]);

		if (dp == NULL || limit-- == 0) {
			ret = dp == NULL ? -1 : dx_corrupt(pool, "directory cycle", 0);
			if (dp != NULL)
				dx_iput(dp);
			break;
		}
		dx_ilock(dp, DX_IOLOCK_SHARED);
		ret = dx_dir_foreach(pool, dx_dir_hdr(dp), count_entry, &cw);
		dx_iunlock(dp, DX_IOLOCK_SHARED);
		dx_iput(dp);
	}
	cw.count += ino_list_unique(&cw.shared);
	dx_free(pool->arena, cw.dirs.v);
	dx_free(pool->arena, cw.shared.v);
	if (ret != 0)
		return -1;
	dx_mutex_lock(&pool->orphan_lock);
	for (uint64_t ino = pool->root->orphan_head; ino != 0 && limit-- > 0;
	    ino = ((struct dx_dinode *)dx_ptr(pool, ino))->orphan_next) {
		if (!dx_inode_valid(pool, ino))
			break;
		cw.count++;
	}
	dx_mutex_unlock(&pool->orphan_lock);
	return cw.count;
}

int
dx_orphans_reclaim(struct daxfile_pool *pool)
{
	uint64_t limit = pool->size / sizeof(struct dx_dinode);

	while (pool->root->orphan_head != 0) {
		uint64_t ino = pool->root->orphan_head;
		struct dx_inode *ip;

		if (limit-- == 0 || !dx_inode_valid(pool, ino) ||
		    ((struct dx_dinode *)dx_ptr(pool, ino))->nlink != 0)
			return dx_corrupt(pool, "damaged orphan list", ino);
		ip = dx_iget(pool, ino);
		if (ip == NULL)
			return -1;
		dx_iput(ip); /* last reference: its reclaim is due */
		dx_defer_run();
		if (pool->root->orphan_head == ino)
			return dx_err_keep("cannot reclaim orphan inode %#lx",
				(unsigned long)ino);
	}
	return 0;
}

/*
 * ioseq_begin -- the iolock exclusive taken: the sequence turns odd.  A
 * locked instruction, so that no store of the holder (non-temporal copies
 * included, which x86 lets pass earlier stores) is seen before it.
 */
static inline void
ioseq_begin(struct dx_inode *ip)
{
	__atomic_fetch_add(&ip->ioseq, 1, __ATOMIC_SEQ_CST);
}

void
dx_ilock_nested(struct dx_inode *ip, unsigned flags, unsigned sub)
{
	if (flags & DX_IOLOCK_EXCL) {
		dx_rwlock_wrlock_nested(&ip->iolock, sub);
		dx_bias_revoke(&ip->iobias, true);
		ioseq_begin(ip);
	} else if (flags & DX_IOLOCK_SHARED) {
		dx_rwlock_rdlock_nested(&ip->iolock, sub);
		dx_bias_revoke(&ip->iobias, true);
	}
	if (flags & DX_MMAPLOCK_EXCL)
		dx_rwlock_wrlock_nested(&ip->mmaplock, sub);
	else if (flags & DX_MMAPLOCK_SHARED)
		dx_rwlock_rdlock_nested(&ip->mmaplock, sub);
	if (flags & DX_ILOCK_EXCL)
		dx_rwlock_wrlock_nested(&ip->ilock, sub);
	else if (flags & DX_ILOCK_SHARED)
		dx_rwlock_rdlock_nested(&ip->ilock, sub);
}

void
dx_iunlock(struct dx_inode *ip, unsigned flags)
{
	if (flags & (DX_ILOCK_EXCL | DX_ILOCK_SHARED))
		dx_rwlock_unlock(&ip->ilock);
	if (flags & (DX_MMAPLOCK_EXCL | DX_MMAPLOCK_SHARED))
		dx_rwlock_unlock(&ip->mmaplock);
	if (flags & DX_IOLOCK_EXCL)
		dx_ioseq_end(ip);
	if (flags & (DX_IOLOCK_EXCL | DX_IOLOCK_SHARED))
		dx_rwlock_unlock(&ip->iolock);
}

bool
dx_itrylock_io_excl(struct dx_inode *ip)
{
	if (!dx_rwlock_trywrlock(&ip->iolock))
		return false;
	if (!dx_bias_revoke(&ip->iobias, false)) {
		dx_rwlock_unlock(&ip->iolock);
		return false;
	}
	ioseq_begin(ip);
	return true;
}

void
dx_inode_lock_attrs(struct dx_inode *ip, bool excl)
{
	if (ip->isdir)
		dx_ilock(ip, excl ? DX_IOLOCK_EXCL : DX_IOLOCK_SHARED);
	else
		dx_ilock(ip, excl ? DX_ILOCK_EXCL : DX_ILOCK_SHARED);
}

void
dx_inode_unlock_attrs(struct dx_inode *ip, bool excl)
{
	if (ip->isdir)
		dx_iunlock(ip, excl ? DX_IOLOCK_EXCL : DX_IOLOCK_SHARED);
	else
		dx_iunlock(ip, excl ? DX_ILOCK_EXCL : DX_ILOCK_SHARED);
}

void
dx_inode_stat(struct dx_inode *ip, struct stat *st)
{
	const struct dx_dinode *di = ip->di;
	const struct daxfile_pool *pool = ip->pool;

	dx_assert_held(ip->isdir ? &ip->iolock : &ip->ilock);
	memset(st, 0, sizeof(*st));
	st->st_dev = (dev_t)dx_pool_dev(pool);
	st->st_ino = ip->ino;
	st->st_mode = di->mode;
	st->st_nlink = di->nlink;
	st->st_uid = di->uid;
	st->st_gid = di->gid;
	st->st_blksize = DX_BLOCK_SIZE;
	if (ip->isdir) {
		st->st_size = (off_t)dx_dir_size(ip);
		st->st_blocks = 0;
	} else {
		st->st_size = (off_t)di->size;
		st->st_blocks = (blkcnt_t)(di->nblocks * (DX_BLOCK_SIZE / 512));
	}
	st->st_atim = (struct timespec){di->atime.sec, di->atime.nsec};
	st->st_mtim = (struct timespec){di->mtime.sec, di->mtime.nsec};
	st->st_ctim = (struct timespec){di->ctime.sec, di->ctime.nsec};
	/* the next data change gets a fine-grained time (data.c) */
	__atomic_store_n(&ip->ts_seen, true, __ATOMIC_RELAXED);
}
