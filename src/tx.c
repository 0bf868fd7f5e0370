/*
 * tx.c -- transactions: undo logs (the lanes of undo.c, and libpmemobj's
 * where a transaction allocates, frees or outgrows its lane) with sticky
 * errors, locks held to the end, and end callbacks.
 *
 * Why locks are held to the end: an undo log restores whole snapshotted
 * ranges.  If another thread changed a range that this transaction
 * snapshotted and this one then aborted (or the process crashed before the
 * commit), the restore would wipe the other thread's committed change.  So
 * every lock protecting a snapshotted range stays held until commit.
 *
 * Two logs, one commit.  A transaction that opened a libpmemobj
 * transaction after its lane had entries keeps both: the lane holds the
 * oldest bytes of the ranges it logged, libpmemobj's log those of the
 * ranges snapshotted later (and the allocator's redo log).  At commit the
 * lane's ranges are made durable first, then the lane's generation is
 * raised inside the libpmemobj transaction, so that libpmemobj's commit
 * retires the lane in the same durable step.  A crash before it: the
 * libpmemobj recovery at open puts back its ranges and the lane's old
 * generation, and the lane's recovery (after it) its own ranges, the
 * oldest bytes, last.  The abort does the same in the same order.
 */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "crash.h"
#include "errinj.h"
#include "mem.h"
#include "out.h"
#include "pool.h"
#include "tx.h"
#include "undo.h"
#include "util.h"

#ifdef DX_DEBUG
/*
 * Transactions do not nest: each has its own lane and commits alone, so an
 * inner one would not roll back with the outer.
 */
static __thread unsigned tx_depth;
#endif

/* tx_obj_begin -- open the libpmemobj transaction. */
static int
tx_obj_begin(struct dx_tx *tx)
{
	if (pmemobj_tx_begin(tx->pool->pop, NULL, TX_PARAM_NONE) != 0)
		return -1;
	pmemobj_tx_set_failure_behavior(POBJ_TX_FAILURE_RETURN);
	tx->obj = true;
	return 0;
}

int
dx_tx_begin(struct dx_tx *tx, struct daxfile_pool *pool)
{
	tx->pool = pool;
	tx->err = 0;
	memset(tx->pre, 0, sizeof(tx->pre));
	tx->saved = NULL;
	tx->nranges = 0;
	tx->nslab = 0;
	tx->slab_new = NULL;
	tx->ifree = 0;
	tx->nlocks = 0;
	tx->ncb = 0;
	tx->obj = false;
	tx->lane = NULL;
	tx->lane_pos = 0;
	if (dx_ei_fail(DX_EI_POOL))
		return dx_err(ENOMEM, "cannot begin a transaction (injected)");
	tx->lane = pool->undo.area != NULL ? dx_undo_claim(pool) : NULL;
	if (tx->lane == NULL && tx_obj_begin(tx) != 0)
		return dx_err(errno ? errno : ENOMEM,
			"cannot begin a transaction");
#ifdef DX_DEBUG
	ASSERT(tx_depth == 0);
	tx_depth++;
#endif
	return 0;
}

int
dx_tx_obj(struct dx_tx *tx)
{
	if (tx->obj)
		return 0;
	if (tx->err)
		return -1;
	if (tx_obj_begin(tx) != 0) {
		dx_tx_fail(tx, errno ? errno : ENOMEM);
		return dx_err(tx->err, "cannot begin a transaction");
	}
	return 0;
}

void
dx_tx_fail(struct dx_tx *tx, int err)
{
	if (tx->err == 0)
		tx->err = err;
}

/* tx_save -- keep the bytes libpmemobj did not snapshot, for the abort. */
static void
tx_save(struct dx_tx *tx, const void *ptr, size_t len)
{
	struct dx_tx_save *sv = dx_malloc(DX_ARENA_GLOBAL, sizeof(*sv) + len);

	if (sv == NULL) {
		dx_log("out of memory: a change the aborted transaction made at "
			"pool offset %#lx may stay", (unsigned long)dx_off(tx->pool,
			ptr));
		return;
	}
	sv->ptr = (void *)ptr;
	sv->len = len;
	memcpy(sv->bytes, ptr, len);
	sv->next = tx->saved;
	tx->saved = sv;
}

/*
 * tx_restore -- an abort is coming: the bytes of tx_save back, durably,
 * the latest saved first, so the earliest (the state before the
 * transaction touched them) is what stays; then libpmemobj's rollback
 * puts back what it did snapshot, which is older still.  Without
 * 'restore', the copies are only dropped.
 */
static void
tx_restore(struct dx_tx *tx, bool restore)
{
	while (tx->saved != NULL) {
		struct dx_tx_save *sv = tx->saved;

		tx->saved = sv->next;
		if (restore) {
			memcpy(sv->ptr, sv->bytes, sv->len);
			dx_persist(tx->pool, sv->ptr, sv->len);
		}
		dx_free(DX_ARENA_GLOBAL, sv);
	}
}

/* tx_covered -- is [p, p+len) inside a range this transaction snapshotted? */
static bool
tx_covered(const struct dx_tx *tx, uintptr_t p, size_t len)
{
	for (unsigned i = 0; i < tx->nranges; i++)
		if (p >= tx->ranges[i].start && p + len <= tx->ranges[i].end)
			return true;
	return false;
}

int
dx_tx_add(struct dx_tx *tx, const void *ptr, size_t len)
{
	uintptr_t p = (uintptr_t)ptr;
	int err;

	if (tx->err == 0 && tx_covered(tx, p, len))
		return 0;
	if (dx_ei_fail(DX_EI_POOL))
		errno = ENOMEM;
	else if (tx->err == 0 && ((!tx->obj && dx_undo_log(tx->pool, tx->lane,
	    &tx->lane_pos, ptr, len) == 0) ||
	    (dx_tx_obj(tx) == 0 && pmemobj_tx_add_range_direct(ptr, len) == 0))) {
		if (tx->nranges < DX_TX_MAX_RANGES) {
			tx->ranges[tx->nranges].start = p;
			tx->ranges[tx->nranges].end = p + len;
			tx->nranges++;
		}
		return 0;
	}
	/* pmemobj's undo log lives in the pool: out of room there */
	err = tx->err ? tx->err : errno == ENOMEM ? ENOSPC : (errno ? errno : EIO);
	dx_tx_fail(tx, err);
	tx_save(tx, ptr, len);
	return dx_err(err, "cannot snapshot %zu bytes in a transaction", len);
}

uint64_t
dx_tx_alloc(struct dx_tx *tx, size_t size, unsigned type, bool zero)
{
	PMEMoid oid;

	if (tx->err || dx_tx_obj(tx) != 0)
		return 0;
	oid = dx_ei_fail(DX_EI_POOL) ? OID_NULL :
		pmemobj_tx_xalloc(size, type, zero ? POBJ_XALLOC_ZERO : 0);
	if (OID_IS_NULL(oid)) {
		dx_tx_fail(tx, ENOSPC);
		dx_err(ENOSPC, "no room for %zu bytes of metadata in the pool", size);
		return 0;
	}
	return oid.off;
}

void
dx_tx_free(struct dx_tx *tx, uint64_t off)
{
	if (tx->err || off == 0 || dx_tx_obj(tx) != 0)
		return;
	if (pmemobj_tx_free(dx_oid(tx->pool, off)) != 0)
		dx_tx_fail(tx, errno ? errno : EIO);
}

bool
dx_tx_holds(const struct dx_tx *tx, const struct dx_mutex *m)
{
	for (unsigned i = 0; i < tx->nlocks; i++)
		if (tx->locks[i] == m)
			return true;
	return false;
}

/* the bounds below are the library's own: mkfs keeps pools within them */
void
dx_tx_hold(struct dx_tx *tx, struct dx_mutex *m)
{
	if (dx_tx_holds(tx, m))
		return;
	VERIFY(tx->nlocks < DX_TX_MAX_LOCKS);
	dx_mutex_lock(m);
	tx->locks[tx->nlocks++] = m;
}

void
dx_tx_hold_ordered(struct dx_tx *tx, struct dx_mutex *m, uint64_t key)
{
	if (dx_tx_holds(tx, m))
		return;
	VERIFY(tx->nlocks < DX_TX_MAX_LOCKS);
	dx_mutex_lock_ordered(m, key);
	tx->locks[tx->nlocks++] = m;
}

void
dx_tx_on_precommit(struct dx_tx *tx, enum dx_tx_stage stage,
	dx_tx_precommit_fn fn, void *arg)
{
	ASSERT(tx->pre[stage].fn == NULL || tx->pre[stage].fn == fn);
	tx->pre[stage].fn = fn;
	tx->pre[stage].arg = arg;
}

void
dx_tx_on_end(struct dx_tx *tx, dx_tx_end_fn fn, void *arg)
{
	VERIFY(tx->ncb < DX_TX_MAX_CALLBACKS);
	tx->cb[tx->ncb].fn = fn;
	tx->cb[tx->ncb].arg = arg;
	tx->ncb++;
}

static void
tx_finish(struct dx_tx *tx, bool committed)
{
	if (tx->obj)
		pmemobj_tx_end();
	if (tx->lane != NULL)
		dx_undo_release(tx->pool, tx->lane);
	tx->lane = NULL;
	tx->obj = false;
#ifdef DX_DEBUG
	tx_depth--;
#endif
	tx_restore(tx, false);
	/* release in reverse order of acquisition */
	while (tx->nlocks > 0)
		dx_mutex_unlock(tx->locks[--tx->nlocks]);
	for (unsigned i = 0; i < tx->ncb; i++)
		tx->cb[i].fn(tx->cb[i].arg, committed);
	tx->ncb = 0;
}

int
dx_tx_commit(struct dx_tx *tx)
{
	int err;

	for (unsigned i = 0; i < DX_TX_PRE_STAGES; i++)
		if (tx->pre[i].fn != NULL && !tx->err)
			tx->pre[i].fn(tx, tx->pre[i].arg);
	if (tx->err) {
		dx_tx_abort(tx, tx->err);
		return dx_err_keep("metadata transaction aborted");
	}
	dx_crash_point("tx-commit");
	if (tx->lane_pos != 0)
		dx_undo_flush(tx->pool, tx->lane, tx->lane_pos);
	if (!tx->obj) {
		if (tx->lane_pos != 0)
			dx_undo_retire(tx->pool, tx->lane);
		tx_finish(tx, true);
		dx_crash_point("tx-committed");
		return 0;
	}
	if (tx->lane_pos != 0) {
		uint64_t *gen = dx_undo_gen(tx->lane);

		/* libpmemobj's commit retires the lane (above) */
		if (pmemobj_tx_add_range_direct(gen, sizeof(*gen)) != 0) {
			dx_tx_abort(tx, errno == ENOMEM ? ENOSPC :
				(errno ? errno : EIO));
			return dx_err_keep("metadata transaction aborted");
		}
		(*gen)++;
	}
	pmemobj_tx_commit();
	err = pmemobj_tx_errno();
	if (err != 0) {
		/* libpmemobj rolled its ranges back: the lane's next */
		if (tx->lane_pos != 0)
			dx_undo_rollback(tx->pool, tx->lane, tx->lane_pos);
		tx_finish(tx, false);
		return dx_err(err, "transaction failed");
	}
	tx_finish(tx, true);
	dx_crash_point("tx-committed");
	return 0;
}

int
dx_tx_abort(struct dx_tx *tx, int err)
{
	tx_restore(tx, true);
	if (tx->obj)
		pmemobj_tx_abort(err);
	if (tx->lane_pos != 0)
		dx_undo_rollback(tx->pool, tx->lane, tx->lane_pos);
	tx_finish(tx, false);
	errno = err;
	return -1;
}
