/*
 * dir.h -- directories: a persistent linear hash table of named entries.
 * Every function expects the directory's DIR lock (its iolock): shared for
 * lookups and listing, exclusive (inside a transaction) for changes.
 */
#ifndef DX_DIR_H
#define DX_DIR_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct dx_tx;
struct dx_inode;
struct dx_dinode;
struct daxfile_pool;

/* dx_dir_hdr -- the directory header that follows a directory's dinode. */
struct dx_dirhdr *dx_dir_hdr(const struct dx_inode *dp);

/* dx_dir_init -- set up an empty directory in the new inode 'ino' (in tx). */
void dx_dir_init(struct daxfile_pool *pool, uint64_t ino, uint64_t parent);

/*
 * dx_dir_lookup -- the inode number 'name' refers to, or 0 with errno
 * (ENOENT, or EFSCORRUPTED for a damaged chain); '*type' gets its DT_*.
 */
uint64_t dx_dir_lookup(struct dx_inode *dp, const char *name, size_t len,
	unsigned *type);

/* dx_dir_add -- add the entry name -> ino (the name must be absent). */
int dx_dir_add(struct dx_tx *tx, struct dx_inode *dp, const char *name,
	size_t len, uint64_t ino, unsigned type);

/* dx_dir_remove -- remove the entry 'name' (it must exist). */
int dx_dir_remove(struct dx_tx *tx, struct dx_inode *dp, const char *name,
	size_t len);

/*
 * dx_dir_move -- the entry 'fname' of fdir becomes 'tname' of tdir (which
 * must be absent; fdir may be tdir): the entry is rewritten in place when
 * the new name takes as many slab units, which spares a claim and a free.
 * 'with': NULL, or the dinode of the entry's inode, not a directory, whose
 * ilock the caller holds and which it snapshots in 'tx' too: taken in the
 * same snapshot as the entry when the entry's object follows its object.
 */
int dx_dir_move(struct dx_tx *tx, struct dx_inode *fdir, const char *fname,
	size_t flen, struct dx_inode *tdir, const char *tname, size_t tlen,
	struct dx_dinode *with);

/* dx_dir_retarget -- point the existing entry 'name' at another inode. */
int dx_dir_retarget(struct dx_tx *tx, struct dx_inode *dp, const char *name,
	size_t len, uint64_t ino, unsigned type);

/* dx_dir_set_parent -- change ".." (a directory moved to another parent). */
void dx_dir_set_parent(struct dx_tx *tx, struct dx_inode *dp, uint64_t parent);

/* dx_dir_is_empty -- does the directory hold no entries? */
bool dx_dir_is_empty(const struct dx_inode *dp);

/* dx_dir_size -- st_size of a directory. */
uint64_t dx_dir_size(const struct dx_inode *dp);

/*
 * dx_dir_foreach -- call fn for every entry (not "." and ".."); stops and
 * returns fn's value when it is non-zero; -1 with EFSCORRUPTED on damage.
 */
typedef int (*dx_dir_visit_fn)(void *arg, const char *name, size_t len,
	uint64_t ino, unsigned type);
int dx_dir_foreach(struct daxfile_pool *pool, const struct dx_dirhdr *hdr,
	dx_dir_visit_fn fn, void *arg);

/*
 * dx_dir_foreach_intact -- dx_dir_foreach that goes on past damage: a
 * damaged chain ends only its bucket, counted in '*damaged' (for the
 * checker and salvage, which want every entry that can be read).
 */
int dx_dir_foreach_intact(struct daxfile_pool *pool, const struct dx_dirhdr *hdr,
	dx_dir_visit_fn fn, void *arg, unsigned *damaged);

/*
 * dx_dir_check_chains -- NULL if every entry is in the bucket its hash
 * names and every chain of an ordered directory runs in order; else what
 * is wrong, with '*where' the entry (or bucket) at fault.  For the checker.
 */
const char *dx_dir_check_chains(struct daxfile_pool *pool,
	const struct dx_dirhdr *hdr, uint64_t *where);

/*
 * Positions for directory streams (readdir cookies).  An entry's position
 * is the low DX_DIR_POS_BITS bits of its hash, bit-reversed.  A bucket,
 * whose index is the low bits of the hash, then holds one interval of
 * positions, and a split cuts an interval in two: a walk in position order
 * that resumes at a position never misses or repeats an entry that stays,
 * however the table grows or shrinks meanwhile.
 */
#define DX_DIR_POS_BITS 62
#define DX_DIR_POS_END ((uint64_t)1 << DX_DIR_POS_BITS)

struct dx_dirent;

/* dx_dir_pos -- the position of an entry whose name hashes to 'hash'. */
uint64_t dx_dir_pos(uint64_t hash);

/*
 * dx_dir_scan -- call fn for each entry of position >= 'pos' in the bucket
 * that holds 'pos' (in chain order, not sorted), and set '*next' to the
 * first position past that bucket (DX_DIR_POS_END after the last).  Stops
 * with fn's value when non-zero; -1 with EFSCORRUPTED on damage.
 */
typedef int (*dx_dir_scan_fn)(void *arg, const struct dx_dirent *de,
	uint64_t pos);
int dx_dir_scan(struct dx_inode *dp, uint64_t pos, dx_dir_scan_fn fn,
	void *arg, uint64_t *next);

/* dx_dir_destroy -- free the segments of an empty directory (in tx). */
void dx_dir_destroy(struct dx_tx *tx, struct dx_inode *dp);

#endif /* DX_DIR_H */
