/*
 * mkfs.h -- laying out a new pool.
 */
#ifndef DX_MKFS_H
#define DX_MKFS_H 1

#include <stdint.h>

struct daxfile_pool;

/* dx_mkfs -- lay out a fresh pmemobj pool of 'size' bytes (one transaction). */
int dx_mkfs(struct daxfile_pool *pool, uint64_t size);

#endif /* DX_MKFS_H */
