/*
 * defer.h -- the per-call context: work that must not run under a lock,
 * queued by whoever finds it due, run when the outermost library call (or
 * the job of a library thread) ends, with no lock held.
 *
 * Lower layers only queue: the allocator says that blocks were freed, the
 * mapping layer that it ran out of VMAs or used a spare reserve, the inode
 * table that an unlinked inode lost its last reference.  The work itself
 * belongs to the layer that registered it (dx_defer_register), so no layer
 * calls up into one above it, and nothing that can wait for another file's
 * locks (VMA reclaim, clearing SIGBUS markers in every mapping, inode
 * reclaim) runs while a lock is held.  The model is XFS's deferred
 * operations and jemalloc's deferred work.
 */
#ifndef DX_DEFER_H
#define DX_DEFER_H 1

#include <stdbool.h>

/* Work queued by kind: registered by its owner, run once per call. */
enum dx_defer_kind {
	DX_DEFER_SPACE_FREED,	/* blocks were freed: stores that found no
				   space may retry (map.c) */
	DX_DEFER_VMA_RECLAIM,	/* installed windows hold too many VMAs, or
				   the kernel refused one (map.c) */
	DX_DEFER_SPARE_REFILL,	/* a spare reserve was used (map.c) */
	DX_DEFER_NKINDS
};

/* Work queued as an item (an inode to reclaim): run, then forgotten. */
struct dx_deferred {
	struct dx_deferred *next;
	void (*fn)(struct dx_deferred *d);
};

/* dx_defer_register -- the function that does the work of 'kind'. */
void dx_defer_register(enum dx_defer_kind kind, void (*fn)(void));

/* dx_defer -- 'kind' is due at the end of this thread's call. */
void dx_defer(enum dx_defer_kind kind);

/* dx_defer_item -- run d->fn(d) at the end of this thread's call. */
void dx_defer_item(struct dx_deferred *d);

/*
 * dx_defer_run -- run what is due now; the caller holds no lock (asserted
 * in debug builds).  Calls that must see the work done before they go on
 * (a fault retried after VMA reclaim) use it; everyone else leaves it to
 * the end of the call.
 */
void dx_defer_run(void);

/* The context of one call: see DX_CALL. */
struct dx_call {
	bool outermost;
};

struct dx_call dx_call_begin(bool worker);
void dx_call_end(struct dx_call *c);

/* dx_call_worker -- is this thread's call the job of a library thread? */
bool dx_call_worker(void);

/* dx_call_app -- is this thread inside an application's call? */
bool dx_call_app(void);

/* The number of forks this process descends from (handle.h). */
extern unsigned dx_fork_gen;

/*
 * DX_CALL -- the first line of every public function: opens the call's
 * context, which closes on every return path (deferred work run, no lock
 * held).  DX_JOB -- the same for the job of a library thread.
 */
#define DX_CALL() \
	struct dx_call dx_call_ctx_ __attribute__((cleanup(dx_call_end))) = \
		dx_call_begin(false)
#define DX_JOB() \
	struct dx_call dx_call_ctx_ __attribute__((cleanup(dx_call_end))) = \
		dx_call_begin(true)

#endif /* DX_DEFER_H */
