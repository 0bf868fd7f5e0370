/*
 * bmap.c -- the extent map of a regular file.
 *
 * On media a file's extents are records in a list of chunks, in no order:
 * an insert or a removal changes one record, and a free slot is found in
 * DRAM, so no change ever shifts records around.  In DRAM the same extents
 * sit in a red-black tree keyed by file block, each remembering its record.
 * If a transaction aborts, the tree is rebuilt from the rolled-back records,
 * with no new memory: the nodes a transaction drops are kept until it
 * ends, and a rollback brings back at most as many records as there are
 * nodes then (records it added go, records it dropped come back).
 */
#include "config.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "alloc.h"
#include "bmap.h"
#include "inode.h"
#include "mem.h"
#include "out.h"
#include "pool.h"
#include "rbtree.h"
#include "tx.h"

struct bext {
	struct dx_rb_node node;
	struct bext *gnext;		/* dropped in the open transaction */
	uint64_t lblk;
	uint64_t pblk;
	uint64_t len;
	bool unwritten;
	struct dx_extent *slot;
};

struct dx_bmap {
	struct dx_bmap_lcache lcache;	/* first: see dx_bmap_lcache_of() */
	struct dx_rb_root tree;
	uint64_t count;
	struct dx_extent **free;	/* free record slots */
	size_t nfree, capfree;
	struct dx_tx *tx;		/* transaction with our end hook */
	struct bext *grave;		/* nodes it dropped, kept until it ends */
};

_Static_assert(offsetof(struct dx_bmap, lcache) == 0,
	"dx_bmap_lcache_of() finds the lookup cache at the start of the map");

static inline struct bext *
bext_of(const struct dx_rb_node *n)
{
	return n ? dx_rb_entry(n, struct bext, node) : NULL;
}

static inline uint64_t
bext_end(const struct bext *e)
{
	return e->lblk + e->len;
}

static struct bext *
bext_next(const struct bext *e)
{
	return bext_of(dx_rb_next(&e->node));
}

/* bext_floor -- the extent with the greatest lblk <= 'lblk'. */
static struct bext *
bext_floor(const struct dx_bmap *bm, uint64_t lblk)
{
	struct dx_rb_node *n = bm->tree.node;
	struct bext *best = NULL;

	while (n != NULL) {
		struct bext *e = bext_of(n);

		if (e->lblk <= lblk) {
			best = e;
			n = n->right;
		} else {
			n = n->left;
		}
	}
	return best;
}

/* bext_first_after -- the first extent that ends after 'lblk'. */
static struct bext *
bext_first_after(const struct dx_bmap *bm, uint64_t lblk)
{
	struct bext *e = bext_floor(bm, lblk);

	if (e == NULL)
		return bext_of(dx_rb_first(&bm->tree));
	return bext_end(e) > lblk ? e : bext_next(e);
}

static void
tree_insert(struct dx_bmap *bm, struct bext *e)
{
	struct dx_rb_node **link = &bm->tree.node, *parent = NULL;

	while (*link != NULL) {
		parent = *link;
		link = e->lblk < bext_of(parent)->lblk ? &parent->left :
			&parent->right;
	}
	dx_rb_link(&e->node, parent, link);
	dx_rb_insert_color(&e->node, &bm->tree);
	bm->count++;
}

/* --- the lookup cache ---------------------------------------------------- */

/*
 * lcache_clear -- empty the cache before the map changes (ilock excl).
 * Fillers hold the ilock shared, so none is at work; readers retry.  The
 * release stores keep every slot store after the odd sequence.
 */
static void
lcache_clear(struct dx_bmap *bm)
{
	struct dx_bmap_lcache *c = &bm->lcache;
	uint64_t s = __atomic_load_n(&c->seq, __ATOMIC_RELAXED);

	ASSERT((s & 1) == 0);
	__atomic_store_n(&c->seq, s + 1, __ATOMIC_RELAXED);
	for (unsigned i = 0; i < DX_BMAP_LCACHE_SLOTS; i++)
		__atomic_store_n(&c->slot[i].len, 0, __ATOMIC_RELEASE);
	__atomic_store_n(&c->seq, s + 2, __ATOMIC_RELEASE);
}

/*
 * lcache_fill -- remember extent 'e' in the next slot, round robin (ilock
 * shared).  Another filler at work wins; a lost fill only costs a later
 * lookup under the lock.  The release stores keep every slot store after
 * the odd sequence.
 */
static void
lcache_fill(struct dx_bmap *bm, const struct bext *e)
{
	struct dx_bmap_lcache *c = &bm->lcache;
	uint64_t seq = __atomic_load_n(&c->seq, __ATOMIC_RELAXED);
	uint64_t end = seq + 2;
	unsigned i;

	if ((seq & 1) != 0 || !__atomic_compare_exchange_n(&c->seq, &seq,
	    seq + 1, false, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
		return;
	i = c->hand++ % DX_BMAP_LCACHE_SLOTS;
	__atomic_store_n(&c->slot[i].lblk, e->lblk, __ATOMIC_RELEASE);
	__atomic_store_n(&c->slot[i].pblk, e->pblk, __ATOMIC_RELEASE);
	__atomic_store_n(&c->slot[i].unwritten, e->unwritten, __ATOMIC_RELEASE);
	__atomic_store_n(&c->slot[i].len, e->len, __ATOMIC_RELEASE);
	__atomic_store_n(&c->seq, end, __ATOMIC_RELEASE);
}

static int
free_push(struct daxfile_pool *pool, struct dx_bmap *bm, struct dx_extent *s)
{
	if (bm->nfree == bm->capfree) {
		size_t cap = bm->capfree ? bm->capfree * 2 : DX_EXT_PER_CHUNK;
		void *p = dx_realloc(pool->arena, bm->free, cap * sizeof(*bm->free));

		if (p == NULL)
			return -1;
		bm->free = p;
		bm->capfree = cap;
	}
	bm->free[bm->nfree++] = s;
	return 0;
}

/* --- load ---------------------------------------------------------------- */

/* record_ok -- is a record from the media a sane extent of this pool? */
static bool
record_ok(struct daxfile_pool *pool, const struct dx_extent *x)
{
	uint32_t agno = dx_alloc_agno(pool, x->pblk);

	return agno < pool->alloc.nags &&
		x->len <= pool->alloc.ags[agno].end - x->pblk &&
		x->lblk < (DX_MAX_FILE_SIZE >> DX_BLOCK_SHIFT) &&
		x->len <= (DX_MAX_FILE_SIZE >> DX_BLOCK_SHIFT) - x->lblk &&
		(x->flags & ~DX_EXT_UNWRITTEN) == 0;
}

/* chunk_at -- the extent chunk at 'off' of inode 'ino', or NULL if damaged. */
static struct dx_extchunk *
chunk_at(struct daxfile_pool *pool, uint64_t off, uint64_t ino)
{
	struct dx_extchunk *c;

	if (!dx_obj_ok(pool, off, sizeof(*c)))
		return NULL;
	c = dx_ptr(pool, off);
	return c->magic == DX_EXTCHUNK_MAGIC && c->owner == ino ? c : NULL;
}

/*
 * bext_new -- a node: from the list 'spare' (a rebuild after an abort)
 * while it has one, else new.
 */
static struct bext *
bext_new(struct daxfile_pool *pool, struct bext **spare)
{
	struct bext *e = spare != NULL ? *spare : NULL;

	if (e == NULL)
		return dx_malloc(pool->arena, sizeof(struct bext));
	*spare = e->gnext;
	return e;
}

static int
bmap_load_records(struct dx_inode *ip, struct dx_bmap *bm, struct bext **spare)
{
	struct daxfile_pool *pool = ip->pool;
	uint64_t limit = pool->size / sizeof(struct dx_extchunk);

	for (uint64_t off = ip->di->extents; off != 0;) {
		struct dx_extchunk *c = chunk_at(pool, off, ip->ino);

		if (c == NULL || limit-- == 0)
			return dx_corrupt(pool, "damaged extent chunk", off);
		for (unsigned i = 0; i < DX_EXT_PER_CHUNK; i++) {
			struct dx_extent *x = &c->ext[i];
			struct bext *e, *prev;

			if (x->len == 0) {
				/* a rebuild may lose a free slot, never a record */
				if (free_push(pool, bm, x) != 0 && spare == NULL)
					return dx_err(ENOMEM, "cannot load extents");
				continue;
			}
			if (!record_ok(pool, x))
				return dx_corrupt(pool, "damaged extent record",
					dx_off(pool, x));
			prev = bext_floor(bm, x->lblk + x->len - 1);
			if (prev != NULL && bext_end(prev) > x->lblk)
				return dx_corrupt(pool, "overlapping extents",
					dx_off(pool, x));
			e = bext_new(pool, spare);
			if (e == NULL)
				return dx_err(ENOMEM, "cannot load extents");
			*e = (struct bext){.lblk = x->lblk, .pblk = x->pblk,
				.len = x->len,
				.unwritten = x->flags & DX_EXT_UNWRITTEN,
				.slot = x};
			tree_insert(bm, e);
		}
		off = c->next;
	}
	return 0;
}

static void
bmap_free(struct daxfile_pool *pool, struct dx_bmap *bm)
{
	struct dx_rb_node *n;

	/* erase before freeing: dx_rb_next would climb through freed parents */
	while ((n = dx_rb_first(&bm->tree)) != NULL) {
		dx_rb_erase(n, &bm->tree);
		dx_free(pool->arena, bext_of(n));
	}
	dx_free(pool->arena, bm->free);
	dx_free(pool->arena, bm);
}

int
dx_bmap_load(struct dx_inode *ip)
{
	struct dx_bmap *bm;

	dx_assert_held_excl(&ip->ilock);
	if (ip->bmap != NULL)
		return 0;
	bm = dx_zalloc(ip->pool->arena, sizeof(*bm));
	if (bm == NULL)
		return dx_err(ENOMEM, "cannot allocate an extent map");
	if (bmap_load_records(ip, bm, NULL) != 0) {
		bmap_free(ip->pool, bm);
		return -1;
	}
	ip->bmap = bm;
	return 0;
}

void
dx_bmap_destroy(struct dx_inode *ip)
{
	if (ip->bmap != NULL)
		bmap_free(ip->pool, ip->bmap);
	ip->bmap = NULL;
}

/*
 * bmap_tx_end -- an aborted transaction: rebuild the tree from the
 * rolled-back media, in the same map, which readers of an open file find
 * without a lock (its lookup cache).
 */
static void
bmap_tx_end(void *arg, bool committed)
{
	struct dx_inode *ip = arg;
	struct dx_bmap *bm = ip->bmap;
	struct bext *spare = bm->grave;
	struct dx_rb_node *n;

	bm->tx = NULL;
	bm->grave = NULL;
	if (committed) {
		while (spare != NULL) {
			struct bext *next = spare->gnext;

			dx_free(ip->pool->arena, spare);
			spare = next;
		}
		return;
	}
	lcache_clear(bm);
	while ((n = dx_rb_first(&bm->tree)) != NULL) {
		dx_rb_erase(n, &bm->tree);
		bext_of(n)->gnext = spare;
		spare = bext_of(n);
	}
	bm->count = 0;
	bm->nfree = 0;
	/* enough nodes (see the top of this file): only damage can fail it */
	if (bmap_load_records(ip, bm, &spare) != 0)
		dx_log("extent map of inode %#lx not rebuilt after an abort: %s",
			(unsigned long)ip->ino, daxfile_errormsg());
	while (spare != NULL) {
		struct bext *next = spare->gnext;

		dx_free(ip->pool->arena, spare);
		spare = next;
	}
}

static struct dx_bmap *
bmap_for_tx(struct dx_tx *tx, struct dx_inode *ip)
{
	struct dx_bmap *bm = ip->bmap;

	dx_assert_held_excl(&ip->ilock);
	VERIFY(bm != NULL);
	lcache_clear(bm);
	if (bm->tx != tx) {
		bm->tx = tx;
		dx_tx_on_end(tx, bmap_tx_end, ip);
	}
	return bm;
}

/* --- lookups ------------------------------------------------------------- */

/*
 * map_at -- the answer for 'lblk' given e, the first extent that ends
 * after it (or NULL).
 */
static void
map_at(const struct bext *e, uint64_t lblk, uint64_t maxlen, struct dx_map *m)
{
	m->lblk = lblk;
	if (e != NULL && e->lblk <= lblk) {
		m->len = DX_MIN(maxlen, bext_end(e) - lblk);
		m->pblk = e->pblk + (lblk - e->lblk);
		m->unwritten = e->unwritten;
		return;
	}
	m->len = e != NULL ? DX_MIN(maxlen, e->lblk - lblk) : maxlen;
	m->pblk = 0;
	m->unwritten = false;
}

void
dx_bmap_lookup(const struct dx_inode *ip, uint64_t lblk, uint64_t maxlen,
	struct dx_map *m)
{
	map_at(bext_first_after(ip->bmap, lblk), lblk, maxlen, m);
}

void
dx_bmap_lookup_remember(struct dx_inode *ip, uint64_t lblk, uint64_t maxlen,
	struct dx_map *m)
{
	struct bext *e;

	dx_ilock(ip, DX_ILOCK_SHARED);
	e = bext_first_after(ip->bmap, lblk);
	map_at(e, lblk, maxlen, m);
	if (e != NULL && e->lblk <= lblk)
		lcache_fill(ip->bmap, e);
	dx_iunlock(ip, DX_ILOCK_SHARED);
}

void
dx_bmap_last(const struct dx_inode *ip, struct dx_map *m)
{
	struct bext *e = bext_of(dx_rb_last(&ip->bmap->tree));

	memset(m, 0, sizeof(*m));
	if (e != NULL)
		*m = (struct dx_map){e->lblk, e->len, e->pblk, e->unwritten};
}

uint64_t
dx_bmap_count(const struct dx_inode *ip)
{
	return ip->bmap->count;
}

int
dx_bmap_foreach(const struct dx_inode *ip, dx_bmap_visit_fn fn, void *arg)
{
	for (struct bext *e = bext_of(dx_rb_first(&ip->bmap->tree)); e != NULL;
	    e = bext_next(e)) {
		int ret = fn(arg, e->lblk, e->pblk, e->len, e->unwritten);

		if (ret != 0)
			return ret;
	}
	return 0;
}

/* --- record changes ------------------------------------------------------ */

/* record_write -- store an extent's fields into its record, in tx. */
static int
record_write(struct dx_tx *tx, const struct bext *e)
{
	struct dx_extent *x = e->slot;

	if (dx_tx_add(tx, x, sizeof(*x)) != 0)
		return -1;
	x->lblk = e->lblk;
	x->pblk = e->pblk;
	x->len = (uint32_t)e->len;
	x->flags = e->unwritten ? DX_EXT_UNWRITTEN : 0;
	return 0;
}

/* slot_get -- a free record slot; a new chunk when none is left. */
static struct dx_extent *
slot_get(struct dx_tx *tx, struct dx_inode *ip, struct dx_bmap *bm)
{
	struct daxfile_pool *pool = tx->pool;
	struct dx_extchunk *c;
	uint64_t off;

	if (bm->nfree > 0)
		return bm->free[--bm->nfree];
	off = dx_tx_alloc(tx, sizeof(*c), DX_TYPE_EXTCHUNK, true);
	if (off == 0)
		return NULL;
	c = dx_ptr(pool, off);
	c->magic = DX_EXTCHUNK_MAGIC;
	c->owner = ip->ino;
	c->next = ip->di->extents;
	if (DX_TX_ADD_FIELD(tx, ip->di, extents) != 0)
		return NULL;
	ip->di->extents = off;
	for (unsigned i = DX_EXT_PER_CHUNK - 1; i > 0; i--) {
		if (free_push(pool, bm, &c->ext[i]) != 0) {
			dx_tx_fail(tx, ENOMEM);
			return NULL;
		}
	}
	return &c->ext[0];
}

/* bext_add -- a new extent with a record, no merging. */
static int
bext_add(struct dx_tx *tx, struct dx_inode *ip, struct dx_bmap *bm,
	uint64_t lblk, uint64_t pblk, uint64_t len, bool unwritten)
{
	struct bext *e = dx_malloc(tx->pool->arena, sizeof(*e));

	if (e == NULL) {
		dx_tx_fail(tx, ENOMEM);
		return -1;
	}
	*e = (struct bext){.lblk = lblk, .pblk = pblk, .len = len,
		.unwritten = unwritten};
	e->slot = slot_get(tx, ip, bm);
	if (e->slot == NULL) {
		dx_free(tx->pool->arena, e);
		return -1;
	}
	tree_insert(bm, e);
	return record_write(tx, e);
}

/*
 * bext_drop -- drop an extent whose record the transaction has snapshotted
 * (blocks untouched).
 */
static int
bext_drop(struct dx_tx *tx, struct dx_bmap *bm, struct bext *e)
{
	e->slot->len = 0;
	if (free_push(tx->pool, bm, e->slot) != 0) {
		dx_tx_fail(tx, ENOMEM);
		return -1;
	}
	dx_rb_erase(&e->node, &bm->tree);
	bm->count--;
	/* kept until the transaction ends: a rollback needs its node again */
	e->gnext = bm->grave;
	bm->grave = e;
	return 0;
}

/* bext_delete -- drop an extent and its record (blocks untouched). */
static int
bext_delete(struct dx_tx *tx, struct dx_bmap *bm, struct bext *e)
{
	if (DX_TX_ADD_FIELD(tx, e->slot, len) != 0)
		return -1;
	return bext_drop(tx, bm, e);
}

/*
 * A run of whole extents a punch drops, whose records lie next to each
 * other in one chunk (a file written in order fills its chunks' slots in
 * order, in either direction of the file): one snapshot for all of them,
 * not one per record, which is what a punch of many small extents spent
 * most of its time on.  The extents wait on their 'gnext' links.
 */
struct drop_run {
	struct dx_extent *lo, *hi;	/* the records: [lo, hi) */
	struct bext *list;
};

/* drop_run_flush -- snapshot the run's records once and drop its extents. */
static void
drop_run_flush(struct dx_tx *tx, struct dx_bmap *bm, struct drop_run *r)
{
	struct bext *e = r->list;

	if (e != NULL && dx_tx_add(tx, r->lo,
		(size_t)(r->hi - r->lo) * sizeof(*r->lo)) == 0) {
		while (e != NULL && !tx->err) {
			struct bext *next = e->gnext;

			bext_drop(tx, bm, e);
			e = next;
		}
	}
	*r = (struct drop_run){NULL, NULL, NULL};
}

/* drop_run_add -- 'e' goes with the run, which is flushed first if apart. */
static void
drop_run_add(struct dx_tx *tx, struct dx_bmap *bm, struct drop_run *r,
	struct bext *e)
{
	if (r->list != NULL && e->slot == r->hi) {
		r->hi++;
	} else if (r->list != NULL && e->slot + 1 == r->lo) {
		r->lo--;
	} else {
		drop_run_flush(tx, bm, r);
		r->lo = e->slot;
		r->hi = e->slot + 1;
	}
	e->gnext = r->list;
	r->list = e;
}

/*
 * bext_contiguous -- may [lblk, pblk, len) 'a' be followed by [b...) in one
 * extent?  Contiguous in the file and in the pool, the same state, and in
 * one AG: like XFS's, an extent never crosses an AG boundary.
 */
static bool
bext_contiguous(const struct daxfile_pool *pool, uint64_t alblk,
	uint64_t apblk, uint64_t alen, bool auw, uint64_t blblk, uint64_t bpblk,
	uint64_t blen, bool buw)
{
	return auw == buw && alblk + alen == blblk && apblk + alen == bpblk &&
		alen + blen <= DX_BEXT_MAX &&
		dx_alloc_agno(pool, apblk) == dx_alloc_agno(pool, bpblk);
}

/* bmap_map -- map a hole, merging with contiguous neighbours. */
static int
bmap_map(struct dx_tx *tx, struct dx_inode *ip, struct dx_bmap *bm,
	uint64_t lblk, uint64_t pblk, uint64_t len, bool unwritten)
{
	struct bext *prev = bext_floor(bm, lblk);
	struct bext *next = prev ? bext_next(prev) :
		bext_of(dx_rb_first(&bm->tree));
	bool mprev, mnext;

	ASSERT(prev == NULL || bext_end(prev) <= lblk);
	ASSERT(next == NULL || next->lblk >= lblk + len);
	if (len > DX_BEXT_MAX) {
		if (bmap_map(tx, ip, bm, lblk, pblk, DX_BEXT_MAX, unwritten))
			return -1;
		return bmap_map(tx, ip, bm, lblk + DX_BEXT_MAX,
			pblk + DX_BEXT_MAX, len - DX_BEXT_MAX, unwritten);
	}
	mprev = prev != NULL && bext_contiguous(tx->pool, prev->lblk,
		prev->pblk, prev->len, prev->unwritten, lblk, pblk, len, unwritten);
	mnext = next != NULL && bext_contiguous(tx->pool, lblk, pblk, len,
		unwritten, next->lblk, next->pblk, next->len, next->unwritten);
	if (mprev && mnext && prev->len + len + next->len <= DX_BEXT_MAX) {
		prev->len += len + next->len;
		if (bext_delete(tx, bm, next) != 0)
			return -1;
		return record_write(tx, prev);
	}
	if (mprev) {
		prev->len += len;
		return record_write(tx, prev);
	}
	if (mnext) {
		next->lblk = lblk;
		next->pblk = pblk;
		next->len += len;
		return record_write(tx, next);
	}
	return bext_add(tx, ip, bm, lblk, pblk, len, unwritten);
}

static int
nblocks_add(struct dx_tx *tx, struct dx_inode *ip, int64_t delta)
{
	if (DX_TX_ADD_FIELD(tx, ip->di, nblocks) != 0)
		return -1;
	ip->di->nblocks = (uint64_t)((int64_t)ip->di->nblocks + delta);
	return 0;
}

int
dx_bmap_insert(struct dx_tx *tx, struct dx_inode *ip, uint64_t lblk,
	uint64_t pblk, uint64_t len, bool unwritten)
{
	struct dx_bmap *bm = bmap_for_tx(tx, ip);

	if (bmap_map(tx, ip, bm, lblk, pblk, len, unwritten) != 0)
		return -1;
	return nblocks_add(tx, ip, (int64_t)len);
}

int
dx_bmap_punch(struct dx_tx *tx, struct dx_inode *ip, uint64_t lblk,
	uint64_t len)
{
	struct dx_bmap *bm = bmap_for_tx(tx, ip);
	uint64_t end = lblk + len, freed = 0;
	struct bext *e = bext_first_after(bm, lblk);
	struct drop_run run = {NULL, NULL, NULL};

	while (e != NULL && e->lblk < end && !tx->err) {
		struct bext *next = bext_next(e);
		uint64_t s = DX_MAX(lblk, e->lblk), t = DX_MIN(end, bext_end(e));
		uint64_t eend = bext_end(e);

		dx_alloc_free(tx, e->pblk + (s - e->lblk), t - s);
		freed += t - s;
		if (s == e->lblk && t == eend) {
			drop_run_add(tx, bm, &run, e);
		} else if (s == e->lblk) {
			e->pblk += t - e->lblk;
			e->len = eend - t;
			e->lblk = t;
			record_write(tx, e);
		} else if (t == eend) {
			e->len = s - e->lblk;
			record_write(tx, e);
		} else {
			uint64_t rpblk = e->pblk + (t - e->lblk);

			e->len = s - e->lblk;
			if (record_write(tx, e) == 0)
				bext_add(tx, ip, bm, t, rpblk, eend - t,
					e->unwritten);
		}
		e = next;
	}
	drop_run_flush(tx, bm, &run);
	if (tx->err)
		return -1;
	return nblocks_add(tx, ip, -(int64_t)freed);
}

int
dx_bmap_convert(struct dx_tx *tx, struct dx_inode *ip, uint64_t lblk,
	uint64_t len, bool unwritten)
{
	struct dx_bmap *bm = bmap_for_tx(tx, ip);
	uint64_t end = lblk + len;
	uint64_t pos = lblk;

	while (pos < end && !tx->err) {
		struct bext *e = bext_first_after(bm, pos);
		struct bext piece;
		uint64_t s, t;

		if (e == NULL || e->lblk >= end)
			break;
		s = DX_MAX(pos, e->lblk);
		t = DX_MIN(end, bext_end(e));
		pos = t;
		if (e->unwritten == unwritten)
			continue;
		/* take the extent out, put its pieces back (merging) */
		piece = *e;
		if (bext_delete(tx, bm, e) != 0)
			return -1;
		if (s > piece.lblk && bmap_map(tx, ip, bm, piece.lblk,
			piece.pblk, s - piece.lblk, piece.unwritten) != 0)
			return -1;
		if (bmap_map(tx, ip, bm, s, piece.pblk + (s - piece.lblk),
			t - s, unwritten) != 0)
			return -1;
		if (t < bext_end(&piece) && bmap_map(tx, ip, bm, t,
			piece.pblk + (t - piece.lblk), bext_end(&piece) - t,
			piece.unwritten) != 0)
			return -1;
	}
	return tx->err ? -1 : 0;
}

int
dx_bmap_split(struct dx_tx *tx, struct dx_inode *ip, uint64_t lblk)
{
	struct dx_bmap *bm = bmap_for_tx(tx, ip);
	struct bext *e = bext_floor(bm, lblk);
	uint64_t eend;

	if (e == NULL || e->lblk == lblk || bext_end(e) <= lblk)
		return 0;
	eend = bext_end(e);
	e->len = lblk - e->lblk;
	if (record_write(tx, e) != 0)
		return -1;
	return bext_add(tx, ip, bm, lblk, e->pblk + e->len, eend - lblk,
		e->unwritten);
}

int
dx_bmap_shift(struct dx_tx *tx, struct dx_inode *ip, uint64_t from,
	int64_t delta)
{
	struct dx_bmap *bm = bmap_for_tx(tx, ip);
	struct bext *e = bext_first_after(bm, from);

	ASSERT(e == NULL || e->lblk >= from);
	/* every key moves by the same amount: the tree order stays */
	for (; e != NULL; e = bext_next(e)) {
		e->lblk = (uint64_t)((int64_t)e->lblk + delta);
		if (record_write(tx, e) != 0)
			return -1;
	}
	return 0;
}

void
dx_bmap_free_all(struct dx_tx *tx, struct dx_inode *ip)
{
	struct daxfile_pool *pool = tx->pool;
	uint64_t limit = pool->size / sizeof(struct dx_extchunk);
	uint64_t off = ip->di->extents;

	if (ip->bmap != NULL)
		lcache_clear(ip->bmap);
	/* from the records: the DRAM map may never have been loaded */
	while (off != 0 && !tx->err) {
		struct dx_extchunk *c = chunk_at(pool, off, ip->ino);

		if (c == NULL || limit-- == 0) {
			dx_tx_fail(tx, EFSCORRUPTED);
			dx_corrupt(pool, "damaged extent chunk", off);
			return;
		}
		for (unsigned i = 0; i < DX_EXT_PER_CHUNK; i++)
			if (c->ext[i].len != 0)
				dx_alloc_free(tx, c->ext[i].pblk, c->ext[i].len);
		dx_tx_free(tx, off);
		off = c->next;
	}
}
