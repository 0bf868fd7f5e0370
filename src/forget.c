/*
 * forget.c -- daxfile_pool_forget: a forked child lets go of the pools its
 * parent had open, so that the parent (or, once the parent has closed it,
 * the child itself) can open the pool again.
 *
 * A child inherits libpmemobj's mapping of the pool file, which keeps the
 * file and so libpmemobj's lock on it referenced after the parent closes
 * the pool, and libpmemobj's list of open pools, which makes the child's
 * own pmemobj_open of the same pool fail.  The child cannot use the
 * handle: the library's threads did not come along and its locks may be
 * held by threads that do not exist in the child.  So the handle's DRAM is
 * left as it is (never freed, never locked) and only the mapping, the
 * registration and the descriptor go.  Nothing of the pool file changes:
 * pmemobj_close keeps run-time fields in the pool's first pages, so the
 * child first maps the pool privately over the shared mapping, and the
 * close works on the child's own copy.
 */
#include "config.h"

#include <sys/mman.h>
#include <unistd.h>

#include "out.h"
#include "pool.h"
#include "util.h"

DX_EXPORT int
daxfile_pool_forget(daxfile_pool *pool)
{
	if (dx_pool_check_handle(pool) != 0)
		return -1;
	if (mmap(pool->base, pool->size, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_FIXED, pool->fd, 0) == MAP_FAILED)
		return dx_err_keep("cannot map pool '%s' privately", pool->path);
	pool->h.magic = 0;
	close(pool->fd);
	pmemobj_close(pool->pop);
	return 0;
}
