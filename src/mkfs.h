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

/* dx_super_seal -- compute the superblock checksum. */
void dx_super_seal(struct dx_super *sb);

#endif /* DX_MKFS_H */
