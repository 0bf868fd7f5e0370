/*
 * dir.c -- hashed directories: a persistent linear hash table.
 *
 * A directory keeps its entries in bucket chains addressed by a seeded hash
 * of the name.  The table grows one bucket at a time (linear hashing): when
 * the entries outnumber DIR_LOAD per bucket, the bucket 'split' is divided
 * between itself and a new bucket at split + (B0 << level).  So an insert
 * changes O(1) objects in its transaction however large the directory is,
 * and a lookup reads one short chain.
 *
 * The chains of an ordered directory (DX_DIRF_ORDERED) run in increasing
 * order of their hashes read bit-reversed ("split-ordered"): the entries
 * of a bucket agree in the bits that chose it, so the ones the next bit
 * sends to the new bucket are the chain's tail, and a split cuts the chain
 * in two with two writes, where rebuilding both chains wrote every entry's
 * link (a snapshot each).  A lookup stops at the first greater key.  Buckets live in 4 KiB blocks under a
 * two-level radix: the table grows a block at a time and never needs a
 * large allocation, which pmemobj's heap may not have when it is full of
 * small objects.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <string.h>

#include "dir.h"
#include "hash.h"
#include "out.h"
#include "pool.h"
#include "slab.h"
#include "tx.h"

#define DIR_LOAD 2	/* average entries per bucket before a split */

struct dx_dirhdr *
dx_dir_hdr(const struct dx_inode *dp)
{
	return (struct dx_dirhdr *)(dp->di + 1);
}

/*
 * dir_tx_add -- snapshot a directory's dinode and header whole, in one
 * range, before a change of its entries: every field an entry change
 * touches (the count, the embedded buckets, the table's shape, the times,
 * the link count) is then covered.  The caller holds its DIR lock
 * exclusive and the directory is alive, so it is on no orphan list and no
 * other transaction changes its orphan links, which the range includes.
 */
static int
dir_tx_add(struct dx_tx *tx, struct dx_inode *dp)
{
	dx_assert_held_excl(&dp->iolock);
	ASSERT(dp->di->nlink != 0);
	return dx_tx_add(tx, dp->di,
		sizeof(struct dx_dinode) + sizeof(struct dx_dirhdr));
}

static inline uint64_t
dir_nbuckets(const struct dx_dirhdr *hdr)
{
	return ((uint64_t)DX_DIR_B0 << hdr->level) + hdr->split;
}

#define DIR_MAX_BUCKETS (DX_DIR_B0 + \
	(uint64_t)DX_DIRBLK_SLOTS * DX_DIRBLK_SLOTS * DX_DIRBLK_SLOTS)

static struct dx_dirblk *
dir_block(struct daxfile_pool *pool, uint64_t off)
{
	struct dx_dirblk *b;

	if (!dx_obj_ok(pool, off, sizeof(*b)))
		return NULL;
	b = dx_ptr(pool, off);
	return b->magic == DX_DIRBLK_MAGIC ? b : NULL;
}

/*
 * dir_bucket -- the head slot of bucket i, or NULL with EFSCORRUPTED if a
 * block on the way is damaged or missing.  With a transaction, missing
 * blocks are allocated (zeroed: empty buckets) on the way.
 */
static uint64_t *
dir_bucket(struct daxfile_pool *pool, struct dx_tx *tx, struct dx_dirhdr *hdr,
	uint64_t i)
{
	uint64_t j, idx[3], *link = &hdr->radix;

	if (i < DX_DIR_B0)
		return &hdr->bucket0[i];
	if (i >= DIR_MAX_BUCKETS) {
		dx_corrupt(pool, "directory bucket out of range", i);
		return NULL;
	}
	j = i - DX_DIR_B0;
	idx[2] = j % DX_DIRBLK_SLOTS;
	j /= DX_DIRBLK_SLOTS;
	idx[1] = j % DX_DIRBLK_SLOTS;
	idx[0] = j / DX_DIRBLK_SLOTS;
	for (int level = 0; level < 3; level++) {
		struct dx_dirblk *b;

		if (*link == 0 && tx != NULL) {
			uint64_t off = dx_tx_alloc(tx, sizeof(*b), DX_TYPE_DIRBLK,
				true);

			if (off == 0 || dx_tx_add(tx, link, sizeof(*link)) != 0)
				return NULL;
			((struct dx_dirblk *)dx_ptr(pool, off))->magic =
				DX_DIRBLK_MAGIC;
			*link = off;
		}
		b = dir_block(pool, *link);
		if (b == NULL) {
			dx_corrupt(pool, "damaged directory block", *link);
			return NULL;
		}
		link = &b->slot[idx[level]];
	}
	return link;
}

/*
 * dir_key -- the order of an ordered chain: the hash read bit-reversed
 * (also the order of positions, dx_dir_pos).
 */
static inline uint64_t
dir_key(uint64_t x)
{
	x = (x >> 1 & 0x5555555555555555ULL) | (x & 0x5555555555555555ULL) << 1;
	x = (x >> 2 & 0x3333333333333333ULL) | (x & 0x3333333333333333ULL) << 2;
	x = (x >> 4 & 0x0f0f0f0f0f0f0f0fULL) | (x & 0x0f0f0f0f0f0f0f0fULL) << 4;
	return __builtin_bswap64(x);
}

static inline bool
dir_ordered(const struct dx_dirhdr *hdr)
{
	return hdr->flags & DX_DIRF_ORDERED;
}

static inline uint64_t
dir_bucket_index(const struct dx_dirhdr *hdr, uint64_t hash)
{
	uint64_t n = (uint64_t)DX_DIR_B0 << hdr->level;
	uint64_t b = hash & (n - 1);

	if (b < hdr->split)
		b = hash & (2 * n - 1);
	return b;
}

static struct dx_dirent *
dir_entry(struct daxfile_pool *pool, uint64_t off)
{
	struct dx_dirent *de;

	if (!dx_obj_ok(pool, off, sizeof(*de)))
		return NULL;
	de = dx_ptr(pool, off);
	if (de->magic != DX_DIRENT_MAGIC || de->namelen == 0 ||
	    de->namelen > DX_NAME_MAX ||
	    !dx_obj_ok(pool, off, sizeof(*de) + de->namelen + 1u))
		return NULL;
	return de;
}

void
dx_dir_init(struct daxfile_pool *pool, uint64_t ino, uint64_t parent)
{
	struct dx_dirhdr *hdr = dx_ptr(pool, ino + sizeof(struct dx_dinode));
	struct timespec now = dx_now();

	/* the inode was zero-allocated in this transaction: no snapshot */
	hdr->parent = parent;
	hdr->seed = (uint64_t)now.tv_nsec * 0x9e3779b97f4a7c15ULL ^ ino;
	hdr->flags = DX_DIRF_ORDERED;
}

/*
 * dir_walk -- walk the chain of 'hash' for the entry 'name': the slot that
 * points at it (a bucket head or the previous entry's next field), with
 * '*dep' set; or NULL with errno ENOENT, '*at' then the slot a new entry
 * of that hash goes into (in an ordered chain before the first greater
 * key, else at the head); or NULL with EFSCORRUPTED.
 */
static uint64_t *
dir_walk(struct dx_inode *dp, const char *name, size_t len, uint64_t hash,
	struct dx_dirent **dep, uint64_t **at)
{
	struct daxfile_pool *pool = dp->pool;
	struct dx_dirhdr *hdr = dx_dir_hdr(dp);
	uint64_t *head = dir_bucket(pool, NULL, hdr, dir_bucket_index(hdr, hash));
	uint64_t *link = head, key = dir_key(hash);
	uint64_t limit = hdr->nentries + 1;
	bool ordered = dir_ordered(hdr);

	if (link == NULL)
		return NULL;
	*at = head;
	while (*link != 0) {
		struct dx_dirent *de = dir_entry(pool, *link);

		if (de == NULL || limit-- == 0) {
			dx_corrupt(pool, "damaged directory entry", *link);
			return NULL;
		}
		if (ordered && dir_key(de->hash) > key)
			break;
		if (de->hash == hash && de->namelen == len &&
		    memcmp(de->name, name, len) == 0) {
			*dep = de;
			return link;
		}
		link = &de->next;
	}
	if (ordered)
		*at = link;
	errno = ENOENT;
	return NULL;
}

/* dir_find -- dir_walk for the entry 'name' only. */
static uint64_t *
dir_find(struct dx_inode *dp, const char *name, size_t len,
	struct dx_dirent **dep)
{
	uint64_t *at;

	return dir_walk(dp, name, len,
		dx_name_hash(dx_dir_hdr(dp)->seed, name, len), dep, &at);
}

uint64_t
dx_dir_lookup(struct dx_inode *dp, const char *name, size_t len,
	unsigned *type)
{
	struct dx_dirent *de;

	if (dir_find(dp, name, len, &de) == NULL)
		return 0;
	*type = de->type;
	return de->ino;
}

/* dir_split_next -- the table has one bucket more: advance split, level. */
static void
dir_split_next(struct dx_dirhdr *hdr, uint64_t n)
{
	if (++hdr->split == n) {
		hdr->split = 0;
		hdr->level++;
	}
}

/*
 * dir_split_cut -- split an ordered chain: its entries with the next bit
 * of the hash set are its tail, which becomes the image bucket's chain.
 * The header is snapshotted already (dir_tx_add).
 */
static int
dir_split_cut(struct dx_tx *tx, struct dx_dirhdr *hdr, uint64_t n,
	uint64_t *src, uint64_t *dst)
{
	struct daxfile_pool *pool = tx->pool;
	uint64_t *link = src, limit = hdr->nentries + 1;

	while (*link != 0) {
		struct dx_dirent *de = dir_entry(pool, *link);

		if (de == NULL || limit-- == 0)
			return dx_corrupt(pool, "damaged directory entry", *link);
		if (de->hash & n)
			break;
		link = &de->next;
	}
	if (*link != 0) {
		if (dx_tx_add(tx, link, sizeof(*link)) != 0 ||
		    dx_tx_add(tx, dst, sizeof(*dst)) != 0)
			return -1;
		*dst = *link;
		*link = 0;
	}
	dir_split_next(hdr, n);
	return 0;
}

/*
 * dir_split_rebuild -- split an unordered chain (a directory of version 1):
 * both chains are rebuilt, every entry's link rewritten.
 */
static int
dir_split_rebuild(struct dx_tx *tx, struct dx_dirhdr *hdr, uint64_t n,
	uint64_t *src, uint64_t *dst)
{
	struct daxfile_pool *pool = tx->pool;
	uint64_t off, keep = 0, move = 0, *keep_tail = &keep, *move_tail = &move;

	if (dx_tx_add(tx, src, sizeof(*src)) != 0 ||
	    dx_tx_add(tx, dst, sizeof(*dst)) != 0)
		return -1;
	for (off = *src; off != 0;) {
		struct dx_dirent *de = dir_entry(pool, off);
		uint64_t next;

		if (de == NULL)
			return dx_corrupt(pool, "damaged directory entry", off);
		next = de->next;
		if (DX_TX_ADD_FIELD(tx, de, next) != 0)
			return -1;
		de->next = 0;
		if (de->hash & n) {
			*move_tail = off;
			move_tail = &de->next;
		} else {
			*keep_tail = off;
			keep_tail = &de->next;
		}
		off = next;
	}
	*src = keep;
	*dst = move;
	dir_split_next(hdr, n);
	return 0;
}

/*
 * dir_split -- divide bucket 'split' between itself and its image bucket
 * split + (B0 << level), by the next bit of the hash.
 */
static int
dir_split(struct dx_tx *tx, struct dx_dirhdr *hdr)
{
	struct daxfile_pool *pool = tx->pool;
	uint64_t n = (uint64_t)DX_DIR_B0 << hdr->level;
	uint64_t from = hdr->split, to = from + n;
	uint64_t *src, *dst;

	if (to >= DIR_MAX_BUCKETS)
		return 0; /* as large as it gets: chains grow instead */
	dst = dir_bucket(pool, tx, hdr, to);
	src = dir_bucket(pool, NULL, hdr, from);
	if (src == NULL || dst == NULL)
		return -1;
	if (dir_ordered(hdr))
		return dir_split_cut(tx, hdr, n, src, dst);
	return dir_split_rebuild(tx, hdr, n, src, dst);
}

/*
 * dir_link -- put the entry at 'off' (its fields but 'next' written) into
 * the slot 'link' that dir_walk found for it; the table splits a bucket
 * when it is full.
 */
static int
dir_link(struct dx_tx *tx, struct dx_dirhdr *hdr, uint64_t *link, uint64_t off)
{
	struct dx_dirent *de = dx_ptr(tx->pool, off);

	if (dx_tx_add(tx, link, sizeof(*link)) != 0)
		return -1;
	de->next = *link;
	*link = off;
	hdr->nentries++;
	if (hdr->nentries > DIR_LOAD * dir_nbuckets(hdr))
		return dir_split(tx, hdr);
	return 0;
}

int
dx_dir_add(struct dx_tx *tx, struct dx_inode *dp, const char *name,
	size_t len, uint64_t ino, unsigned type)
{
	struct daxfile_pool *pool = tx->pool;
	struct dx_dirhdr *hdr = dx_dir_hdr(dp);
	uint64_t hash = dx_name_hash(hdr->seed, name, len);
	uint64_t *link, off;
	struct dx_dirent *de;

	if (dir_tx_add(tx, dp) != 0)
		return -1;
	/* an empty directory's chains are in any order: ordered from now on */
	if (hdr->nentries == 0)
		hdr->flags |= DX_DIRF_ORDERED;
	if (dir_walk(dp, name, len, hash, &de, &link) != NULL) {
		dx_tx_fail(tx, EEXIST);
		return dx_err(EEXIST, "entry '%.*s' exists", (int)len, name);
	}
	if (errno != ENOENT) {
		dx_tx_fail(tx, errno);
		return -1;
	}
	off = dx_slab_alloc(tx, sizeof(*de) + len + 1);
	if (off == 0)
		return -1;
	de = dx_ptr(pool, off);
	de->magic = DX_DIRENT_MAGIC;
	de->ino = ino;
	de->hash = hash;
	de->namelen = (uint16_t)len;
	de->type = (uint8_t)type;
	memset(de->pad, 0, sizeof(de->pad));
	memcpy(de->name, name, len);
	de->name[len] = '\0';
	return dir_link(tx, hdr, link, off);
}

int
dx_dir_remove(struct dx_tx *tx, struct dx_inode *dp, const char *name,
	size_t len)
{
	struct dx_dirhdr *hdr = dx_dir_hdr(dp);
	struct dx_dirent *de;
	uint64_t *link;

	if (dir_tx_add(tx, dp) != 0)
		return -1;
	link = dir_find(dp, name, len, &de);
	if (link == NULL)
		return dx_err_keep("cannot find entry '%.*s' to remove",
			(int)len, name);
	if (dx_tx_add(tx, link, sizeof(*link)) != 0)
		return -1;
	*link = de->next;
	hdr->nentries--;
	dx_slab_free(tx, dx_off(tx->pool, de));
	return 0;
}

int
dx_dir_move(struct dx_tx *tx, struct dx_inode *fdir, const char *fname,
	size_t flen, struct dx_inode *tdir, const char *tname, size_t tlen,
	struct dx_dinode *with)
{
	struct daxfile_pool *pool = tx->pool;
	struct dx_dirhdr *th = dx_dir_hdr(tdir);
	struct dx_dirent *de, *other;
	uint64_t *link, *at, off, hash;
	void *lo;
	size_t span;

	if (dir_tx_add(tx, fdir) != 0 || dir_tx_add(tx, tdir) != 0)
		return -1;
	link = dir_find(fdir, fname, flen, &de);
	if (link == NULL) {
		dx_tx_fail(tx, errno);
		return dx_err_keep("cannot find entry '%.*s' to move",
			(int)flen, fname);
	}
	off = *link;
	if (!dx_slab_fits(pool, off, sizeof(*de) + tlen + 1)) {
		if (dx_dir_add(tx, tdir, tname, tlen, de->ino, de->type) != 0)
			return -1;
		return dx_dir_remove(tx, fdir, fname, flen);
	}
	/*
	 * The entry of a file made by a create usually follows its inode in
	 * the slab: then one snapshot covers both (a snapshot costs a drain,
	 * its size little).  The units between them are the inode object's
	 * own: fields the caller's ilock covers, the orphan links of an inode
	 * that has a name (on no orphan list), the birth time.
	 */
	lo = de;
	span = sizeof(*de) + DX_MAX(flen, tlen) + 1;
	if (with != NULL && dx_slab_follows(pool, dx_off(pool, with), off)) {
		span += off - dx_off(pool, with);
		lo = with;
	}
	/* out of its chain, renamed, into the chain of its new hash */
	if (dx_tx_add(tx, link, sizeof(*link)) != 0 ||
	    dx_tx_add(tx, lo, span) != 0)
		return -1;
	*link = de->next;
	dx_dir_hdr(fdir)->nentries--;
	if (th->nentries == 0)
		th->flags |= DX_DIRF_ORDERED;
	hash = dx_name_hash(th->seed, tname, tlen);
	link = dir_walk(tdir, tname, tlen, hash, &other, &at);
	if (link != NULL || errno != ENOENT) {
		int err = link != NULL ? EEXIST : errno;

		dx_tx_fail(tx, err);
		return dx_err(err, "cannot move entry '%.*s' to '%.*s'",
			(int)flen, fname, (int)tlen, tname);
	}
	de->hash = hash;
	de->namelen = (uint16_t)tlen;
	memcpy(de->name, tname, tlen);
	memset(de->name + tlen, 0, (flen > tlen ? flen - tlen : 0) + 1);
	return dir_link(tx, th, at, off);
}

int
dx_dir_retarget(struct dx_tx *tx, struct dx_inode *dp, const char *name,
	size_t len, uint64_t ino, unsigned type)
{
	struct dx_dirent *de;

	if (dir_tx_add(tx, dp) != 0)
		return -1;
	if (dir_find(dp, name, len, &de) == NULL)
		return dx_err_keep("cannot find entry '%.*s' to replace",
			(int)len, name);
	if (DX_TX_ADD_FIELD(tx, de, ino) != 0 ||
	    DX_TX_ADD_FIELD(tx, de, type) != 0)
		return -1;
	de->ino = ino;
	de->type = (uint8_t)type;
	return 0;
}

void
dx_dir_set_parent(struct dx_tx *tx, struct dx_inode *dp, uint64_t parent)
{
	struct dx_dirhdr *hdr = dx_dir_hdr(dp);

	if (dir_tx_add(tx, dp) == 0)
		hdr->parent = parent;
}

bool
dx_dir_is_empty(const struct dx_inode *dp)
{
	return dx_dir_hdr(dp)->nentries == 0;
}

uint64_t
dx_dir_size(const struct dx_inode *dp)
{
	/* "." and ".." count, as in the entries readdir returns */
	return (dx_dir_hdr(dp)->nentries + 2) * sizeof(struct dx_dirent);
}

/*
 * dir_visit -- call fn for every entry; a damaged chain or radix block ends
 * the walk with EFSCORRUPTED, or, given 'damaged', only its bucket (counted
 * there).
 */
static int
dir_visit(struct daxfile_pool *pool, const struct dx_dirhdr *hdr,
	dx_dir_visit_fn fn, void *arg, unsigned *damaged)
{
	uint64_t nb = dir_nbuckets(hdr);
	uint64_t limit = hdr->nentries;

	for (uint64_t b = 0; b < nb; b++) {
		uint64_t *head = dir_bucket(pool, NULL, (struct dx_dirhdr *)hdr, b);
		uint64_t off = head != NULL ? *head : 0;

		if (head == NULL && damaged == NULL)
			return -1;
		if (head == NULL)
			(*damaged)++;
		while (off != 0) {
			struct dx_dirent *de = dir_entry(pool, off);
			int ret;

			if (de == NULL || limit-- == 0) {
				if (damaged == NULL)
					return dx_corrupt(pool,
						"damaged directory entry", off);
				(*damaged)++;
				break;
			}
			ret = fn(arg, de->name, de->namelen, de->ino, de->type);
			if (ret != 0)
				return ret;
			off = de->next;
		}
	}
	return 0;
}

int
dx_dir_foreach(struct daxfile_pool *pool, const struct dx_dirhdr *hdr,
	dx_dir_visit_fn fn, void *arg)
{
	return dir_visit(pool, hdr, fn, arg, NULL);
}

int
dx_dir_foreach_intact(struct daxfile_pool *pool, const struct dx_dirhdr *hdr,
	dx_dir_visit_fn fn, void *arg, unsigned *damaged)
{
	*damaged = 0;
	return dir_visit(pool, hdr, fn, arg, damaged);
}

const char *
dx_dir_check_chains(struct daxfile_pool *pool, const struct dx_dirhdr *hdr,
	uint64_t *where)
{
	uint64_t nb = dir_nbuckets(hdr), limit = hdr->nentries;

	for (uint64_t b = 0; b < nb; b++) {
		uint64_t *head = dir_bucket(pool, NULL, (struct dx_dirhdr *)hdr, b);
		uint64_t key = 0;

		if (head == NULL) {
			*where = b;
			return "a bucket's block is damaged";
		}
		for (uint64_t off = *head; off != 0;) {
			const struct dx_dirent *de = dir_entry(pool, off);

			*where = off;
			if (de == NULL || limit-- == 0)
				return "damaged directory entry";
			if (dir_bucket_index(hdr, de->hash) != b)
				return "an entry is in another bucket than its hash names";
			if (dir_ordered(hdr) && dir_key(de->hash) < key)
				return "an entry is out of its chain's order";
			key = dir_key(de->hash);
			off = de->next;
		}
	}
	return NULL;
}

uint64_t
dx_dir_pos(uint64_t hash)
{
	return dir_key(hash) >> (64 - DX_DIR_POS_BITS);
}

/*
 * dir_bucket_bits -- how many low bits of the hash select bucket 'b': one
 * more for the buckets already split in this round (below 'split') and
 * their images (at or above B0 << level).
 */
static unsigned
dir_bucket_bits(const struct dx_dirhdr *hdr, uint64_t b)
{
	unsigned k = (unsigned)__builtin_ctzll(DX_DIR_B0) + hdr->level;

	return b < hdr->split || b >= (uint64_t)DX_DIR_B0 << hdr->level ?
		k + 1 : k;
}

int
dx_dir_scan(struct dx_inode *dp, uint64_t pos, dx_dir_scan_fn fn, void *arg,
	uint64_t *next)
{
	struct daxfile_pool *pool = dp->pool;
	struct dx_dirhdr *hdr = dx_dir_hdr(dp);
	/* dx_dir_pos is its own inverse on the position bits */
	uint64_t b = dir_bucket_index(hdr, dx_dir_pos(pos));
	uint64_t span = DX_DIR_POS_END >> dir_bucket_bits(hdr, b);
	uint64_t first = pos & ~(span - 1), end = first + span;
	uint64_t limit = hdr->nentries + 1;
	uint64_t *head = dir_bucket(pool, NULL, hdr, b);

	if (head == NULL)
		return -1;
	*next = end;
	for (uint64_t off = *head; off != 0;) {
		struct dx_dirent *de = dir_entry(pool, off);
		uint64_t p;
		int ret;

		if (de == NULL || limit-- == 0)
			return dx_corrupt(pool, "damaged directory entry", off);
		p = dx_dir_pos(de->hash);
		if (p < first || p >= end)
			return dx_corrupt(pool, "directory entry in the wrong bucket",
				off);
		if (p >= pos) {
			ret = fn(arg, de, p);
			if (ret != 0)
				return ret;
		}
		off = de->next;
	}
	return 0;
}

/* dir_free_blocks -- free a radix block and what hangs below it. */
static void
dir_free_blocks(struct dx_tx *tx, uint64_t off, int level)
{
	struct dx_dirblk *b = dir_block(tx->pool, off);

	if (b == NULL)
		return;
	if (level < 2)
		for (unsigned i = 0; i < DX_DIRBLK_SLOTS; i++)
			if (b->slot[i] != 0)
				dir_free_blocks(tx, b->slot[i], level + 1);
	dx_tx_free(tx, off);
}

void
dx_dir_destroy(struct dx_tx *tx, struct dx_inode *dp)
{
	struct dx_dirhdr *hdr = dx_dir_hdr(dp);

	if (hdr->radix != 0)
		dir_free_blocks(tx, hdr->radix, 0);
}
