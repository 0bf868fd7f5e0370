/*
 * data.h -- the data path shared by read/write, truncate, fallocate and the
 * fault handler: block copies into the pool with the right persistence,
 * zeroing, block allocation for a range, and size changes.
 */
#ifndef DX_DATA_H
#define DX_DATA_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct daxfile_pool;
struct dx_inode;
struct dx_tx;

/* dx_blk -- the block holding byte 'off'; dx_blk_up -- blocks to cover it. */
static inline uint64_t
dx_blk(uint64_t off)
{
	return off >> 12;
}

static inline uint64_t
dx_blk_up(uint64_t off)
{
	return (off + 4095) >> 12;
}

/*
 * dx_data_expose -- in 'tx', before bytes [old, new) come below EOF
 * without being written: the rest of the block holding old EOF is zeroed,
 * and whole blocks past it (preallocation, whose contents are undefined)
 * become unwritten, so they read zero and SEEK_DATA sees holes.  Caller
 * holds the iolock and the ilock exclusive.
 */
void dx_data_expose(struct dx_tx *tx, struct dx_inode *ip, uint64_t old,
	uint64_t new);

/*
 * dx_data_zero_tx -- zero the written blocks of [off, off+len) inside 'tx':
 * the bytes are snapshotted first, so an abort or a crash before the
 * commit leaves them as they were (punch, zero range and truncate stay
 * all-or-nothing).  Caller holds the ilock exclusive; keep 'len' small.
 */
void dx_data_zero_tx(struct dx_tx *tx, struct dx_inode *ip, uint64_t off,
	uint64_t len);

/* dx_data_persist -- make stores to pool memory durable (flush or msync). */
void dx_data_persist(struct daxfile_pool *pool, const void *addr, size_t len);

/*
 * dx_data_make_written -- give [lblk, lblk+len) written blocks: holes get
 * new zeroed blocks, unwritten extents are zeroed and converted, all
 * durable before the transaction that links them.  Caller holds ilock excl.
 */
int dx_data_make_written(struct dx_inode *ip, uint64_t lblk, uint64_t len);

/* dx_truncate -- set the size (iolock and mmaplock taken inside). */
int dx_truncate(struct dx_inode *ip, uint64_t size);

/* dx_data_writer_open/close -- count writers; the last close trims preallocation. */
void dx_data_writer_open(struct dx_inode *ip);
void dx_data_writer_close(struct dx_inode *ip);

/* dx_data_note_stat -- someone read the timestamps: the next change gets a fresh one. */
void dx_data_note_stat(struct dx_inode *ip);

#endif /* DX_DATA_H */
