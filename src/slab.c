/*
 * slab.c -- inodes and directory entries claimed from slabs (slab.h): the
 * DRAM map of free units, claims and frees recorded in the transaction and
 * applied to the persistent maps at commit, new slabs made when none has
 * room, and the slab walk the checker uses.
 *
 * A thread starts looking in the slab it used last (threads start in
 * different ones), and a transaction's later claims in the word of its
 * first, which is chosen with room left beside the object: the entry of a
 * new file lands in its inode's map word.  A busy slab is passed over on
 * the first round, so threads creating files at once spread over slabs
 * rather than wait for each other's commits.
 */
#include "config.h"

#include <errno.h>
#include <libpmemobj.h>
#include <string.h>

#include "alloc.h"
#include "mem.h"
#include "out.h"
#include "pool.h"
#include "slab.h"
#include "tx.h"

/*
 * The widest run of map words a transaction snapshots in one range (a
 * snapshot costs a drain, its size little); words further apart are
 * snapshotted one by one.
 */
#define SLAB_SNAPSHOT_SPAN 512

/* Units a claim leaves free beside itself when it can: an entry's worth. */
#define SLAB_ROOM 5

/*
 * The libpmemobj allocation a slab lives in: one whole 256 KiB chunk of its
 * heap, less the allocation's header.  Smaller sizes come from runs of
 * several chunks, which a nearly full metadata heap may not have.
 */
#define SLAB_OBJ_SIZE (((uint64_t)256 << 10) - 16)
_Static_assert(DX_SLAB_SIZE + DX_SLAB_UNIT <= SLAB_OBJ_SIZE, "slab size");

/* The slab a thread tries first: 0 unset, else index + 1 into 'v'. */
static __thread unsigned slab_hint;
static unsigned slab_threads;	/* spreads the first hints (atomic) */

static inline unsigned
slab_units(size_t size)
{
	return (unsigned)((size + DX_SLAB_UNIT - 1) / DX_SLAB_UNIT);
}

static inline uint64_t
slab_run_mask(unsigned start, unsigned n)
{
	return (n == 64 ? ~0ULL : ((1ULL << n) - 1)) << start;
}

/* slab_run_start -- the first bit of a run of n set bits in x, or -1. */
static int
slab_run_start(uint64_t x, unsigned n)
{
	uint64_t y = x;

	for (unsigned k = 1; k < n && y != 0; k++)
		y &= x >> k;
	return y != 0 ? __builtin_ctzll(y) : -1;
}

/*
 * slab_obj_units -- the units of the object starting at 'bit' of map word
 * 'm': up to the next start or free unit.
 */
static unsigned
slab_obj_units(const struct dx_slabmap *m, unsigned bit)
{
	uint64_t stop = (~m->used | m->start) >> bit & ~1ULL;

	return stop != 0 ? (unsigned)__builtin_ctzll(stop) : 64 - bit;
}

/* --- DRAM state ------------------------------------------------------------ */

void
dx_slab_init(struct daxfile_pool *pool)
{
	struct dx_slabs *ss = &pool->slabs;

	memset(ss, 0, sizeof(*ss));
	dx_mutex_init(&ss->list_lock, DX_LC_SLABLIST);
	dx_rwlock_init(&ss->index_lock, DX_LC_LEAF);
}

/* slabi_delete -- a slab's DRAM state, gone. */
static void
slabi_delete(struct daxfile_pool *pool, struct dx_slabi *si)
{
	dx_mutex_destroy(&si->lock);
	dx_free(pool->arena, si);
}

/* slabs_clear -- forget every slab (DRAM only). */
static void
slabs_clear(struct daxfile_pool *pool)
{
	struct dx_slabs *ss = &pool->slabs;

	for (uint32_t i = 0; i < ss->n; i++)
		slabi_delete(pool, ss->v[i]);
	dx_free(pool->arena, ss->v);
	dx_free(pool->arena, ss->byoff);
	ss->v = ss->byoff = NULL;
	ss->n = ss->cap = 0;
	ss->next_index = 0;
}

void
dx_slab_fini(struct daxfile_pool *pool)
{
	struct dx_slabs *ss = &pool->slabs;

	slabs_clear(pool);
	dx_rwlock_destroy(&ss->index_lock);
	dx_mutex_destroy(&ss->list_lock);
}

/* slabi_new -- the DRAM state of the slab at 'off', from its map. */
static struct dx_slabi *
slabi_new(struct daxfile_pool *pool, uint64_t off, uint32_t index)
{
	struct dx_slabi *si = dx_zalloc(pool->arena, sizeof(*si));

	if (si == NULL)
		return NULL;
	dx_mutex_init(&si->lock, DX_LC_SLAB);
	si->s = dx_ptr(pool, off);
	si->off = off;
	si->index = index;
	for (unsigned w = 0; w < DX_SLAB_WORDS; w++) {
		si->avail[w] = ~si->s->map[w].used;
		si->nfree += (uint32_t)__builtin_popcountll(si->avail[w]);
	}
	return si;
}

/* slabs_publish -- make 'si' one of the pool's slabs; -1 on ENOMEM. */
static int
slabs_publish(struct daxfile_pool *pool, struct dx_slabi *si)
{
	struct dx_slabs *ss = &pool->slabs;
	uint32_t i;

	dx_rwlock_wrlock(&ss->index_lock);
	if (ss->n == ss->cap) {
		uint32_t cap = ss->cap ? 2 * ss->cap : 16;
		struct dx_slabi **v = dx_realloc(pool->arena, ss->v,
			cap * sizeof(*v));
		struct dx_slabi **b = v == NULL ? NULL :
			dx_realloc(pool->arena, ss->byoff, cap * sizeof(*b));

		if (v != NULL)
			ss->v = v;
		if (b == NULL) {
			dx_rwlock_unlock(&ss->index_lock);
			return -1;
		}
		ss->byoff = b;
		ss->cap = cap;
	}
	ss->v[ss->n] = si;
	for (i = ss->n; i > 0 && ss->byoff[i - 1]->off > si->off; i--)
		ss->byoff[i] = ss->byoff[i - 1];
	ss->byoff[i] = si;
	ss->n++;
	dx_rwlock_unlock(&ss->index_lock);
	return 0;
}

/* slabs_at -- the slab of index position i (of n read before), or NULL. */
static struct dx_slabi *
slabs_at(struct daxfile_pool *pool, uint32_t i)
{
	struct dx_slabs *ss = &pool->slabs;
	struct dx_slabi *si = NULL;

	dx_rwlock_rdlock(&ss->index_lock);
	if (i < ss->n)
		si = ss->v[i];
	dx_rwlock_unlock(&ss->index_lock);
	return si;
}

/* slabs_count -- how many slabs the pool has (in DRAM). */
static uint32_t
slabs_count(struct daxfile_pool *pool)
{
	struct dx_slabs *ss = &pool->slabs;
	uint32_t n;

	dx_rwlock_rdlock(&ss->index_lock);
	n = ss->n;
	dx_rwlock_unlock(&ss->index_lock);
	return n;
}

uint64_t
dx_slab_free_units(struct daxfile_pool *pool)
{
	struct dx_slabs *ss = &pool->slabs;
	uint64_t n = 0;

	dx_rwlock_rdlock(&ss->index_lock);
	for (uint32_t i = 0; i < ss->n; i++)
		n += __atomic_load_n(&ss->v[i]->nfree, __ATOMIC_RELAXED);
	dx_rwlock_unlock(&ss->index_lock);
	return n;
}

/* slabs_find -- the slab holding offset 'off', or NULL. */
static struct dx_slabi *
slabs_find(struct daxfile_pool *pool, uint64_t off)
{
	struct dx_slabs *ss = &pool->slabs;
	struct dx_slabi *si = NULL;
	uint32_t lo = 0, hi;

	dx_rwlock_rdlock(&ss->index_lock);
	hi = ss->n;
	while (lo < hi) {	/* the last slab starting at or below off */
		uint32_t mid = lo + (hi - lo) / 2;

		if (ss->byoff[mid]->off <= off)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo > 0 && off - ss->byoff[lo - 1]->off < DX_SLAB_SIZE)
		si = ss->byoff[lo - 1];
	dx_rwlock_unlock(&ss->index_lock);
	return si;
}

/*
 * slab_object_mask -- the units of the live object of si that starts at
 * 'off' (its start bit set, its units not free in the DRAM map), read
 * under the slab's lock, and its map word in '*word'; 0 if none starts
 * there.
 */
static uint64_t
slab_object_mask(struct dx_slabi *si, uint64_t off, unsigned *word)
{
	uint64_t unit = (off - si->off) / DX_SLAB_UNIT, mask = 0;
	unsigned w = (unsigned)(unit / 64), bit = (unsigned)(unit % 64);
	const struct dx_slabmap *m = &si->s->map[w];

	*word = w;
	if ((off - si->off) % DX_SLAB_UNIT != 0)
		return 0;
	dx_mutex_lock(&si->lock);
	if ((m->start >> bit & 1) && !(si->avail[w] >> bit & 1))
		mask = slab_run_mask(bit, slab_obj_units(m, bit));
	dx_mutex_unlock(&si->lock);
	return mask;
}

bool
dx_slab_is_object(struct daxfile_pool *pool, uint64_t off)
{
	struct dx_slabi *si = slabs_find(pool, off);
	unsigned w;

	return si != NULL && slab_object_mask(si, off, &w) != 0;
}

bool
dx_slab_follows(struct daxfile_pool *pool, uint64_t a, uint64_t b)
{
	struct dx_slabi *si = slabs_find(pool, a);
	unsigned w;
	uint64_t mask;

	if (si == NULL || b <= a || b - si->off >= DX_SLAB_SIZE)
		return false;
	mask = slab_object_mask(si, a, &w);
	return mask != 0 &&
		a + (uint64_t)__builtin_popcountll(mask) * DX_SLAB_UNIT == b &&
		slab_object_mask(si, b, &w) != 0;
}

bool
dx_slab_fits(struct daxfile_pool *pool, uint64_t off, size_t size)
{
	struct dx_slabi *si = slabs_find(pool, off);
	unsigned w;

	return si != NULL && size <= DX_SLAB_UNIT * 64 &&
		(unsigned)__builtin_popcountll(slab_object_mask(si, off, &w)) ==
		slab_units(size);
}

const char *
dx_slab_check(const struct daxfile_pool *pool, uint64_t off)
{
	const uint64_t hdr = (1ULL << DX_SLAB_HDR_UNITS) - 1;
	const struct dx_slab *s;

	if (off % DX_SLAB_UNIT != 0 || !dx_obj_ok(pool, off, DX_SLAB_SIZE))
		return "slab outside the pool";
	s = dx_ptr(pool, off);
	if (s->magic != DX_SLAB_MAGIC)
		return "slab with a bad magic";
	if (s->nunits != DX_SLAB_UNITS)
		return "slab with a bad unit count";
	if ((s->map[0].used & hdr) != hdr || (s->map[0].start & hdr) != 0)
		return "slab whose header units are not marked used";
	for (unsigned w = 0; w < DX_SLAB_WORDS; w++)
		if (s->map[w].start & ~s->map[w].used)
			return "slab whose map starts an object on a free unit";
	return NULL;
}

/*
 * slab_list_cut -- the length of the list v[0..n) up to its first slab
 * met again (n if none).  A sorted copy marks each slab seen, in list
 * order, in bit 0 of its first place (slabs are unit-aligned).
 */
static int64_t
slab_list_cut(dx_arena arena, const uint64_t *v, size_t n)
{
	uint64_t *sorted = dx_malloc(arena, (n ? n : 1) * sizeof(*sorted));

	if (sorted == NULL)
		return dx_err(ENOMEM, "cannot sort the slab list");
	if (n > 0) {
		memcpy(sorted, v, n * sizeof(*v));
		qsort(sorted, n, sizeof(*sorted), dx_u64_cmp);
	}
	for (size_t k = 0; k < n; k++) {
		size_t lo = 0, hi = n;

		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;

			if ((sorted[mid] & ~1ULL) < v[k])
				lo = mid + 1;
			else
				hi = mid;
		}
		if (sorted[lo] & 1) {
			n = k;
			break;
		}
		sorted[lo] |= 1;
	}
	dx_free(arena, sorted);
	return (int64_t)n;
}

int64_t
dx_slab_list(const struct daxfile_pool *pool, dx_arena arena, uint64_t **out,
	const char **why, uint64_t *at)
{
	/* a list longer than the pool holds slabs repeats one */
	uint64_t limit = pool->size / DX_SLAB_SIZE + 1;
	uint64_t *v = NULL, off;
	size_t n = 0, cap = 0;
	int64_t len;

	*why = NULL;
	*at = 0;
	for (off = pool->root->slabs; off != 0 && n < limit;
	    off = ((const struct dx_slab *)dx_ptr(pool, off))->next) {
		const char *bad = dx_slab_check(pool, off);

		if (bad != NULL) {
			*why = bad;
			*at = off;
			break;
		}
		if (n == cap) {
			size_t c = cap ? 2 * cap : 64;
			uint64_t *p = dx_realloc(arena, v, c * sizeof(*p));

			if (p == NULL) {
				dx_free(arena, v);
				return dx_err(ENOMEM, "cannot list the slabs");
			}
			v = p;
			cap = c;
		}
		v[n++] = off;
	}
	len = slab_list_cut(arena, v, n);
	if (len < 0) {
		dx_free(arena, v);
		return -1;
	}
	if ((size_t)len < n) {
		*why = "slab list loops";
		*at = v[len];
	}
	*out = v;
	return len;
}

int
dx_slab_load(struct daxfile_pool *pool)
{
	const char *why;
	uint64_t *list = NULL, at;
	int64_t n;
	int ret = 0;

	slabs_clear(pool);
	n = dx_slab_list(pool, pool->arena, &list, &why, &at);
	if (n < 0)
		return -1;
	if (why != NULL) {
		ret = dx_corrupt(pool, why, at);
		goto out;
	}
	/* the list runs newest first; the index counts from the oldest */
	for (int64_t i = n; i-- > 0;) {
		struct dx_slabi *si = slabi_new(pool, list[i],
			(uint32_t)(n - 1 - i));

		if (si == NULL || slabs_publish(pool, si) != 0) {
			if (si != NULL)
				slabi_delete(pool, si);
			ret = dx_err(ENOMEM, "cannot load the slabs");
			break;
		}
	}
	pool->slabs.next_index = (uint32_t)n;
out:
	dx_free(pool->arena, list);
	if (ret != 0)
		slabs_clear(pool);
	return ret;
}

/* --- claims ---------------------------------------------------------------- */

/*
 * slab_reserve -- take a run of 'units' units out of si's DRAM map
 * (caller holds si->lock): in word 'pref' if it fits there, else in a word
 * that keeps SLAB_ROOM units free beside it, else anywhere; the search
 * starts at the word of the last claim.  The word, or -1 when no word has
 * the run; '*mask' gets the units.
 */
static int
slab_reserve(struct dx_slabi *si, unsigned units, int pref, uint64_t *mask)
{
	int w = -1, bit = -1;

	if (pref >= 0)
		bit = slab_run_start(si->avail[pref], units);
	if (bit >= 0) {
		w = pref;
	} else {
		for (int pass = 0; pass < 2 && bit < 0; pass++)
			for (unsigned k = 0; k < DX_SLAB_WORDS; k++) {
				uint64_t a;

				w = (int)((si->rotor + k) % DX_SLAB_WORDS);
				a = si->avail[w];
				if (a == 0 || (pass == 0 &&
				    (unsigned)__builtin_popcountll(a) <
				    units + SLAB_ROOM))
					continue;
				bit = slab_run_start(a, units);
				if (bit >= 0)
					break;
			}
	}
	if (bit < 0)
		return -1;
	si->rotor = (unsigned)w;
	*mask = slab_run_mask((unsigned)bit, units);
	si->avail[w] &= ~*mask;
	__atomic_store_n(&si->nfree, si->nfree - units, __ATOMIC_RELAXED);
	return w;
}

/* slab_give -- units back into si's DRAM map. */
static void
slab_give(struct dx_slabi *si, unsigned w, uint64_t mask)
{
	dx_mutex_lock(&si->lock);
	si->avail[w] |= mask;
	__atomic_store_n(&si->nfree,
		si->nfree + (uint32_t)__builtin_popcountll(mask), __ATOMIC_RELAXED);
	dx_mutex_unlock(&si->lock);
}

/*
 * slab_tx_end -- after the transaction: the units of its frees (committed)
 * or of its claims (aborted) are free again; a slab it made becomes one of
 * the pool's, or is forgotten with the transaction.
 */
static void
slab_tx_end(void *arg, bool committed)
{
	struct dx_tx *tx = arg;
	struct daxfile_pool *pool = tx->pool;
	struct dx_slabi *fresh = tx->slab_new;

	for (unsigned i = 0; i < tx->nslab; i++) {
		struct dx_tx_slab_op *op = &tx->slab[i];

		if (op->slab == fresh && !committed)
			continue;
		if ((op->len != 0) != committed)
			slab_give(op->slab, op->word, op->mask);
	}
	tx->nslab = 0;
	tx->slab_new = NULL;
	if (fresh == NULL)
		return;
	if (!committed || slabs_publish(pool, fresh) != 0)
		/* without memory to index it, it waits for the next open */
		slabi_delete(pool, fresh);
}

static void slab_precommit(struct dx_tx *tx, void *arg);

/* slab_op -- record a claim (len > 0) or a free in tx. */
static void
slab_op(struct dx_tx *tx, struct dx_slabi *si, unsigned w, uint64_t mask,
	uint32_t len)
{
	VERIFY(tx->nslab < DX_TX_MAX_SLAB_OPS);
	if (tx->nslab == 0 && tx->slab_new == NULL)
		dx_tx_on_end(tx, slab_tx_end, tx);
	dx_tx_on_precommit(tx, DX_TX_PRE_SLABS, slab_precommit, NULL);
	tx->slab[tx->nslab++] = (struct dx_tx_slab_op){si,
		si->off + ((uint64_t)w * 64 + (unsigned)__builtin_ctzll(mask)) *
		DX_SLAB_UNIT, mask, w, len};
}

/*
 * slab_blocks -- the pool offset of DX_SLAB_BLOCKS free data blocks in a
 * row, claimed in tx, for a new slab; 0 when no free extent is that long
 * (or while the pool is being made, before its allocator starts).
 */
static uint64_t
slab_blocks(struct dx_tx *tx)
{
	struct daxfile_pool *pool = tx->pool;
	struct dx_resv r;

	if (pool->alloc.nags == 0 || dx_alloc_reserve(pool, dx_alloc_pick_ag(pool), 0, DX_SLAB_BLOCKS,
	    DX_SLAB_BLOCKS, -1, &r) != 0)
		return 0;
	if (r.len < DX_SLAB_BLOCKS) {
		dx_alloc_unreserve(pool, &r);
		return 0;
	}
	dx_alloc_claim(tx, &r);
	return r.pblk << DX_BLOCK_SHIFT;
}

/*
 * slab_create -- a new slab, linked at the head of the list in tx, known
 * to this transaction only until it commits.
 */
static struct dx_slabi *
slab_create(struct dx_tx *tx)
{
	struct daxfile_pool *pool = tx->pool;
	struct dx_slabs *ss = &pool->slabs;
	struct dx_slabi *si;
	struct dx_slab *s;
	uint64_t obj, off;

	VERIFY(tx->slab_new == NULL);
	dx_tx_hold(tx, &ss->list_lock);
	off = slab_blocks(tx);
	if (off == 0 && !tx->err) {
		obj = dx_tx_alloc(tx, SLAB_OBJ_SIZE, DX_TYPE_SLAB, false);
		off = DX_ALIGN_UP(obj, DX_SLAB_UNIT);
	}
	if (off == 0)
		return NULL;
	s = dx_ptr(pool, off);
	/* new memory: the snapshot only has the header flushed at commit */
	if (dx_tx_add(tx, s, sizeof(*s)) != 0 ||
	    DX_TX_ADD_FIELD(tx, pool->root, slabs) != 0)
		return NULL;
	memset(s, 0, sizeof(*s));
	s->magic = DX_SLAB_MAGIC;
	s->next = pool->root->slabs;
	s->nunits = DX_SLAB_UNITS;
	s->map[0].used = (1ULL << DX_SLAB_HDR_UNITS) - 1;
	pool->root->slabs = off;
	si = slabi_new(pool, off, ss->next_index);
	if (si == NULL) {
		dx_tx_fail(tx, ENOMEM);
		dx_err(ENOMEM, "cannot allocate a slab's DRAM state");
		return NULL;
	}
	ss->next_index++;
	if (tx->nslab == 0)
		dx_tx_on_end(tx, slab_tx_end, tx);
	tx->slab_new = si;
	return si;
}

/*
 * slab_try -- reserve in si (waiting for its lock unless 'trylock'): the
 * word, or -1.
 */
static int
slab_try(struct dx_slabi *si, unsigned units, int pref, bool trylock,
	uint64_t *mask)
{
	int w;

	if (__atomic_load_n(&si->nfree, __ATOMIC_RELAXED) < units)
		return -1;
	if (trylock) {
		if (!dx_mutex_trylock(&si->lock))
			return -1;
	} else {
		dx_mutex_lock(&si->lock);
	}
	w = slab_reserve(si, units, pref, mask);
	dx_mutex_unlock(&si->lock);
	return w;
}

uint64_t
dx_slab_alloc(struct dx_tx *tx, size_t size)
{
	struct daxfile_pool *pool = tx->pool;
	unsigned units = slab_units(size);
	struct dx_slabi *si = NULL;
	uint64_t mask = 0;
	int w = -1;

	VERIFY(units > 0 && units <= 64);
	if (tx->err)
		return 0;
	/* next to this transaction's last claim */
	for (unsigned i = tx->nslab; i-- > 0 && w < 0;)
		if (tx->slab[i].len != 0) {
			si = tx->slab[i].slab;
			w = slab_try(si, units, (int)tx->slab[i].word, false,
				&mask);
		}
	/* the thread's slab, then the others: busy ones last */
	for (int pass = 0; pass < 2 && w < 0; pass++) {
		uint32_t n = slabs_count(pool);

		if (slab_hint == 0)
			slab_hint = __atomic_add_fetch(&slab_threads, 1,
				__ATOMIC_RELAXED);
		for (uint32_t k = 0; k < n && w < 0; k++) {
			uint32_t i = (slab_hint - 1 + k) % n;

			si = slabs_at(pool, i);
			if (si != NULL)
				w = slab_try(si, units, -1, pass == 0, &mask);
			if (w >= 0)
				slab_hint = i + 1;
		}
	}
	if (w < 0 && tx->slab_new != NULL) {
		si = tx->slab_new;
		w = slab_try(si, units, -1, false, &mask);
	}
	if (w < 0) {
		si = slab_create(tx);
		if (si == NULL)
			return 0;
		w = slab_try(si, units, -1, false, &mask);
		VERIFY(w >= 0);
	}
	slab_op(tx, si, (unsigned)w, mask, (uint32_t)size);
	return tx->slab[tx->nslab - 1].off;
}

/* --- frees ----------------------------------------------------------------- */

/*
 * slab_free_mask -- the units of the object at 'off' of si, unless this
 * transaction freed it already; 0 if none starts there.
 */
static uint64_t
slab_free_mask(struct dx_tx *tx, struct dx_slabi *si, uint64_t off,
	unsigned *word)
{
	uint64_t mask = slab_object_mask(si, off, word);

	for (unsigned i = 0; i < tx->nslab && mask != 0; i++)
		if (tx->slab[i].slab == si && tx->slab[i].off == off)
			mask = 0;
	return mask;
}

void
dx_slab_free(struct dx_tx *tx, uint64_t off)
{
	struct dx_slabi *si;
	uint64_t mask;
	unsigned w;

	if (tx->err || off == 0)
		return;
	si = slabs_find(tx->pool, off);
	if (si == NULL && tx->slab_new != NULL &&
	    off - tx->slab_new->off < DX_SLAB_SIZE)
		si = tx->slab_new;
	if (si == NULL) {
		/* an object of a pool made before slabs */
		dx_tx_free(tx, off);
		return;
	}
	mask = slab_free_mask(tx, si, off, &w);
	if (mask == 0) {
		dx_tx_fail(tx, EFSCORRUPTED);
		dx_corrupt(tx->pool, "freeing what is no object of its slab", off);
		return;
	}
	slab_op(tx, si, w, mask, 0);
}

/* slab_op_before -- the order of precommit: slab index, then word. */
static bool
slab_op_before(const struct dx_tx_slab_op *a, const struct dx_tx_slab_op *b)
{
	if (a->slab->index != b->slab->index)
		return a->slab->index < b->slab->index;
	return a->word < b->word;
}

/*
 * slab_precommit -- apply the transaction's claims and frees to the maps,
 * flush the claimed objects, and hold the SLAB locks until the transaction
 * ends.
 */
static void
slab_precommit(struct dx_tx *tx, void *arg)
{
	(void)arg;
	struct daxfile_pool *pool = tx->pool;

	if (tx->nslab == 0 || tx->err)
		return;
	for (unsigned i = 1; i < tx->nslab; i++)	/* a handful: insertion */
		for (unsigned j = i; j > 0 &&
		    slab_op_before(&tx->slab[j], &tx->slab[j - 1]); j--) {
			struct dx_tx_slab_op t = tx->slab[j];

			tx->slab[j] = tx->slab[j - 1];
			tx->slab[j - 1] = t;
		}
	for (unsigned i = 0; i < tx->nslab && !tx->err; i++) {
		struct dx_tx_slab_op *op = &tx->slab[i];
		struct dx_slabmap *m = &op->slab->s->map[op->word];
		uint64_t first = op->mask & -op->mask;

		if (i == 0 || op->slab != tx->slab[i - 1].slab) {
			unsigned last = i;

			dx_tx_hold_ordered(tx, &op->slab->lock, op->slab->index);
			/* one snapshot for the slab's words, when they are near */
			while (last + 1 < tx->nslab &&
			    tx->slab[last + 1].slab == op->slab)
				last++;
			if ((tx->slab[last].word - op->word + 1) * sizeof(*m) <=
			    SLAB_SNAPSHOT_SPAN && dx_tx_add(tx, m,
			    (tx->slab[last].word - op->word + 1) * sizeof(*m)) != 0)
				return;
		}
		/* the object's bytes are durable before the commit point */
		if (op->len != 0)
			pmemobj_flush(pool->pop, dx_ptr(pool, op->off), op->len);
		if (dx_tx_add(tx, m, sizeof(*m)) != 0)
			return;
		if (op->len != 0) {
			m->used |= op->mask;
			m->start |= first;
		} else {
			m->used &= ~op->mask;
			m->start &= ~first;
		}
	}
}

/* --- the walk ---------------------------------------------------------------- */

int
dx_slab_objects(const struct daxfile_pool *pool, uint64_t slab,
	int (*fn)(void *arg, uint64_t off, uint64_t len), void *arg)
{
	const struct dx_slab *s = dx_ptr(pool, slab);

	for (unsigned w = 0; w < DX_SLAB_WORDS; w++) {
		uint64_t starts = s->map[w].start;

		while (starts != 0) {
			unsigned bit = (unsigned)__builtin_ctzll(starts);
			uint64_t off = slab + ((uint64_t)w * 64 + bit) * DX_SLAB_UNIT;
			int ret;

			starts &= starts - 1;
			ret = fn(arg, off, (uint64_t)slab_obj_units(&s->map[w],
				bit) * DX_SLAB_UNIT);
			if (ret != 0)
				return ret;
		}
	}
	return 0;
}
