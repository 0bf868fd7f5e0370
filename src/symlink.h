/*
 * symlink.h -- symbolic links: where a link's target lives in the pool
 * (inline in the inode object, or in a block of its own), how it is read,
 * checked and freed.
 */
#ifndef DX_SYMLINK_H
#define DX_SYMLINK_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct daxfile_pool;
struct dx_dinode;
struct dx_inode;
struct dx_tx;

/*
 * dx_symlink_init -- store 'target' (len bytes, 1 to DX_PATH_MAX - 1) in
 * the link inode 'ino' that 'tx' just allocated.
 */
void dx_symlink_init(struct dx_tx *tx, uint64_t ino, const char *target,
	size_t len);

/*
 * dx_symlink_target -- the NUL-terminated target of link 'ip' (checked when
 * the inode was read in: dx_symlink_valid).  It never changes, and stays
 * in place while 'ip' is referenced.
 */
const char *dx_symlink_target(const struct dx_inode *ip);

/*
 * dx_symlink_absolute -- where a walk goes on from the pool's root for
 * the absolute target 'target': past the pool's mount point (an empty
 * string for the mount point itself) if the target starts with it, else
 * the whole target.
 */
const char *dx_symlink_absolute(const struct daxfile_pool *pool,
	const char *target);

/* dx_symlink_fini -- the pool's mount point strings go (pool closing). */
void dx_symlink_fini(struct daxfile_pool *pool);

/*
 * dx_symlink_stored -- the NUL-terminated target of the link whose dinode
 * is 'di', once dx_symlink_check found its storage sound (salvage reads
 * links of pools it does not open).
 */
const char *dx_symlink_stored(const struct daxfile_pool *pool,
	const struct dx_dinode *di);

/*
 * dx_symlink_check -- NULL if the target storage of link inode 'ino' is
 * sound, else what is wrong with it.
 */
const char *dx_symlink_check(const struct daxfile_pool *pool, uint64_t ino);

/* dx_symlink_free -- free the link's target block, if any (in tx). */
void dx_symlink_free(struct dx_tx *tx, const struct dx_dinode *di);

#endif /* DX_SYMLINK_H */
