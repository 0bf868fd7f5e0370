/*
 * populate.c -- the pool mapping's page table entries made 2 MiB at a time
 * (populate.h says why): mincore(2) finds the chunk's pages that the pool
 * file holds, one MADV_POPULATE_READ per run of them maps them.
 */
#include "config.h"

#include <errno.h>
#include <sys/mman.h>
#include <unistd.h>

#include "mem.h"
#include "populate.h"
#include "util.h"

#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22
#endif

#define CHUNK_PAGES	((1u << DX_POPULATE_SHIFT) / 4096u)

void
dx_populate_init(struct daxfile_pool *pool)
{
	uint64_t nchunks = (pool->size >> DX_POPULATE_SHIFT) + 1;

	pool->populated = NULL;
	if (sysconf(_SC_PAGESIZE) == 4096)
		pool->populated = dx_zalloc(pool->arena,
			(size_t)((nchunks + 63) / 64) * sizeof(uint64_t));
}

void
dx_populate_fini(struct daxfile_pool *pool)
{
	dx_free(pool->arena, pool->populated);
	pool->populated = NULL;
}

/* chunk -- map the resident pages of chunk 'c'. */
static void
chunk(struct daxfile_pool *pool, uint64_t c)
{
	uint64_t off = c << DX_POPULATE_SHIFT;
	uint64_t len = DX_MIN((uint64_t)1 << DX_POPULATE_SHIFT,
		pool->size - off);
	unsigned char vec[CHUNK_PAGES];
	size_t npages = (size_t)(len / 4096), i = 0;
	char *base = pool->base + off;
	int err = errno;

	if (mincore(base, npages * 4096, vec) != 0)
		npages = 0;
	while (i < npages) {
		size_t j;

		if (!(vec[i] & 1)) {
			i++;
			continue;
		}
		for (j = i + 1; j < npages && (vec[j] & 1); j++)
			;
		/* a kernel without it (before 5.14): ordinary faults serve */
		(void)madvise(base + i * 4096, (j - i) * 4096,
			MADV_POPULATE_READ);
		i = j;
	}
	errno = err;
}

void
dx_populate_slow(struct daxfile_pool *pool, uint64_t first, uint64_t last)
{
	uint64_t *bits = pool->populated;
	uint64_t c;

	for (c = first; c <= last && (c << DX_POPULATE_SHIFT) < pool->size;
	     c++) {
		uint64_t bit = (uint64_t)1 << (c % 64);

		if (__atomic_load_n(&bits[c / 64], __ATOMIC_RELAXED) & bit)
			continue;
		/* two threads may both map a chunk: that does no harm */
		chunk(pool, c);
		__atomic_fetch_or(&bits[c / 64], bit, __ATOMIC_RELAXED);
	}
}
