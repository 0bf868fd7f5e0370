/*
 * forget.c -- daxfile_pool_forget: a forked child lets go of the pools its
 * parent had open, so that the parent (or, once the parent has closed it,
 * the child itself) can open the pool again.
 *
 * A child inherits libpmemobj's mapping of the pool file, which keeps the
 * file and so libpmemobj's lock on it referenced after the parent closes
 * the pool, and libpmemobj's list of open pools, which makes the child's
 * own pmemobj_open of the same pool fail until pmemobj_close has taken the
 * pool off it.  The child cannot use the handle: the library's threads
 * did not come along and its locks may be held by threads that do not
 * exist in the child.  So the handle's DRAM is left as it is (never freed,
 * never locked).
 *
 * Only the file's references go at once: the mapping is replaced by
 * anonymous memory holding a copy of libpmemobj's pool descriptor (its
 * run-time fields, which pmemobj_close reads, are in the pool's first
 * pages), and the descriptor is closed.  pmemobj_close itself, which
 * frees libpmemobj's DRAM state of the pool and so copies on write some
 * 2,800 pages the parent shares with the child (10 ms), waits for the
 * child's next pool open or create: a child that execs or exits, as most
 * do, never pays for it.  Nothing of the pool file changes.  The copy is
 * taken from the shared mapping, so the parent must not close the pool
 * before this returns (daxfile_pool_forget(3); the preload layer's fork
 * gate waits for it).
 */
#include "config.h"

#include <pthread.h>
#include <sys/mman.h>
#include <unistd.h>

#include "defer.h"
#include "handle.h"
#include "out.h"
#include "pool.h"
#include "util.h"

/*
 * libpmemobj's pool descriptor (struct pmemobjpool, page-aligned: 8 KiB
 * in libpmemobj 1.x) with its run-time fields; the rest of the pool is
 * not read by pmemobj_close.
 */
#define FORGET_DESCRIPTOR_SIZE (8u << 10)

/* The pools forgotten here whose pmemobj_close is owed. */
static pthread_mutex_t owed_lock = PTHREAD_MUTEX_INITIALIZER;
static struct daxfile_pool *owed;

DX_EXPORT int
daxfile_pool_forget(daxfile_pool *pool)
{
	static char desc[FORGET_DESCRIPTOR_SIZE];

	DX_CALL();
	dx_err_begin();
	/* the handle is the parent's: it reads as closed to every other call */
	if (!dx_handle_inherited(pool, DX_POOL_MAGIC))
		return dx_err(EINVAL, "pool handle is NULL or closed");
	memcpy(desc, pool->base, sizeof(desc));
	if (mmap(pool->base, pool->size, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED, -1, 0) ==
	    MAP_FAILED)
		return dx_err_keep("cannot let go of pool '%s'", pool->path);
	memcpy(pool->base, desc, sizeof(desc));
	pool->h.magic = 0;
	close(pool->fd);
	/* a forked child: a parent's thread may have held it */
	pthread_mutex_init(&owed_lock, NULL);
	if (pool->pop != NULL) {	/* not a checker's raw mapping */
		pool->owed_next = owed;
		owed = pool;
	}
	return 0;
}

void
dx_pool_forget_finish(void)
{
	struct daxfile_pool *pool;

	if (__atomic_load_n(&owed, __ATOMIC_RELAXED) == NULL)
		return;
	pthread_mutex_lock(&owed_lock);
	while ((pool = owed) != NULL) {
		owed = pool->owed_next;
		pmemobj_close(pool->pop);
	}
	pthread_mutex_unlock(&owed_lock);
}
