/*
 * mkfs.h -- laying out a new pool.
 */
#ifndef DX_MKFS_H
#define DX_MKFS_H 1

#include <stdint.h>

struct daxfile_pool;
struct dx_super;

/* dx_mkfs -- lay out a fresh pmemobj pool of 'size' bytes (one transaction). */
int dx_mkfs(struct daxfile_pool *pool, uint64_t size);

/*
 * dx_mkfs_ag_geometry -- where mkfs put AG 'agno' of a pool with superblock
 * 'sb': its first block and its length; -1 if it has no such AG.
 */
int dx_mkfs_ag_geometry(const struct dx_super *sb, uint32_t agno,
	uint64_t *start, uint64_t *nblocks);

#endif /* DX_MKFS_H */
