/*
 * undo.h -- the library's own undo logs: lanes in the pool (layout.h:
 * struct dx_undo_area) where a transaction keeps the bytes it changes, so
 * that a short metadata change costs a copy and one 8-byte store to
 * commit, not libpmemobj's transaction machinery.
 *
 * tx.c uses a lane for every transaction that can have one and opens a
 * libpmemobj transaction beside it only when the transaction allocates or
 * frees a libpmemobj object, or outgrows the lane; the commit of that
 * libpmemobj transaction then also retires the lane, so that both logs end
 * at one durable point (tx.c).
 */
#ifndef DX_UNDO_H
#define DX_UNDO_H 1

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct daxfile_pool;
struct dx_tx;
struct dx_undo_lane;

/* An open pool's lanes (in struct daxfile_pool). */
struct dx_undo {
	struct dx_undo_area *area;	/* NULL: none (not started, or an
					   older pool that has no room) */
	atomic_uint free;		/* a bit per lane not in use */
	bool damaged;			/* the root names an area that is not
					   one: the open refuses the pool */
};

/*
 * dx_undo_make -- a new lane area (layout.h says where), named by the
 * root's 'undo' word in 'tx'; 0, or -1 with errno.
 */
int dx_undo_make(struct dx_tx *tx);

/*
 * dx_undo_recover -- put back what the transactions a crash cut left in
 * the lanes, before anything reads the pool's metadata.  Where the root
 * names an area that is not one, nothing can be put back: the pool is
 * marked (dx_undo.damaged) for daxfile_pool_open to refuse, the checker
 * to report and the repair to rebuild (dx_undo_rebuild).
 */
void dx_undo_recover(struct daxfile_pool *pool);

/*
 * dx_undo_rebuild -- fresh lanes where mkfs puts them, named by the root,
 * in one transaction (for the repair); 0, or -1 with errno.
 */
int dx_undo_rebuild(struct daxfile_pool *pool);

/*
 * dx_undo_problem -- what is wrong with the lanes of a recovered pool (for
 * the checker), or NULL.
 */
const char *dx_undo_problem(struct daxfile_pool *pool);

/* dx_undo_start -- let transactions use the lanes (after recovery). */
void dx_undo_start(struct daxfile_pool *pool);

/* dx_undo_claim -- a lane for one transaction, or NULL if none is free. */
struct dx_undo_lane *dx_undo_claim(struct daxfile_pool *pool);

/* dx_undo_release -- give back a lane whose entries are retired. */
void dx_undo_release(struct daxfile_pool *pool, struct dx_undo_lane *lane);

/*
 * dx_undo_log -- log the 'len' bytes at 'ptr' at byte '*pos' of the lane,
 * durably, and advance '*pos'; -1 if the lane has no room for them.
 */
int dx_undo_log(struct daxfile_pool *pool, struct dx_undo_lane *lane,
	uint32_t *pos, const void *ptr, size_t len);

/*
 * dx_undo_flush -- make durable every range logged in the first 'pos'
 * bytes of the lane (the changes the transaction made to them).
 */
void dx_undo_flush(struct daxfile_pool *pool, struct dx_undo_lane *lane,
	uint32_t pos);

/* dx_undo_retire -- retire the lane's entries, durably: the commit. */
void dx_undo_retire(struct daxfile_pool *pool, struct dx_undo_lane *lane);

/* dx_undo_gen -- the lane's generation word (for a libpmemobj commit). */
uint64_t *dx_undo_gen(struct dx_undo_lane *lane);

/*
 * dx_undo_rollback -- put back the bytes logged in the first 'pos' bytes
 * of the lane, the last first, durably, and retire the entries.
 */
void dx_undo_rollback(struct daxfile_pool *pool, struct dx_undo_lane *lane,
	uint32_t pos);

#endif /* DX_UNDO_H */
