/*
 * super.h -- the superblock: seal, checks, copies (super.c).
 */
#ifndef DX_SUPER_H
#define DX_SUPER_H 1

#include <stdbool.h>
#include <stdint.h>

#include "layout.h"

struct daxfile_pool;
struct dx_tx;

/* dx_super_seal -- compute the superblock checksum. */
void dx_super_seal(struct dx_super *sb);

/* dx_super_intact -- are its magic and checksum right? */
bool dx_super_intact(const struct dx_super *sb);

/* dx_super_copy_off -- the pool offset of the copy after segment 'seg'. */
uint64_t dx_super_copy_off(const struct dx_super *sb, uint32_t seg);

/*
 * dx_super_write_copies -- put the sealed 'sb' after every data segment and
 * make the copies durable (mkfs, before its transaction commits).
 */
void dx_super_write_copies(struct daxfile_pool *pool, const struct dx_super *sb);

/*
 * dx_super_tx_copies -- in 'tx', put 'sb' (sealed, already added to the
 * transaction) into every copy of a pool that has them, so that the
 * transaction changes them with it (an upgrade).
 */
int dx_super_tx_copies(struct dx_tx *tx, struct daxfile_pool *pool,
	const struct dx_super *sb);

/*
 * dx_super_find -- point pool->sb at an intact superblock: 0 for the
 * primary, 1 for a copy (pool->sb_copy is its offset), -1 with
 * EFSCORRUPTED if there is none.
 */
int dx_super_find(struct daxfile_pool *pool);

/*
 * dx_super_readable -- dx_super_find, then: is it of our version and
 * features, with a geometry this library can read?  EPROTO for another
 * version, EFSCORRUPTED for damage.
 */
int dx_super_readable(struct daxfile_pool *pool);

/*
 * dx_super_check -- dx_super_readable, and is the pool file as large as it
 * was made, do its segments lie inside it?
 */
int dx_super_check(struct daxfile_pool *pool);

/*
 * dx_super_copies_damaged -- how many copies differ from pool->sb (the
 * first one's offset in '*first').
 */
unsigned dx_super_copies_damaged(const struct daxfile_pool *pool, uint64_t *first);

#endif /* DX_SUPER_H */
