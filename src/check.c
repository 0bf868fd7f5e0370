/*
 * check.c -- the pool checker behind daxfile_pool_check and `daxfile check`.
 *
 * It reads everything and changes nothing of the library's own: superblock,
 * AG headers against their bitmaps, the tree from the root (every entry
 * names a live inode of the entry's type, every directory has one parent,
 * no cycles, every link count matches the entries that name the inode),
 * every entry in the bucket its hash names and in its chain's order,
 * the orphan list (unnamed inodes only), every symbolic link's target,
 * every file's extents (sane, no block owned twice, the bitmaps mark
 * exactly the owned blocks), every inode's extended attributes (sound,
 * well named, each name once), and the slabs (sound maps; every object an
 * inode or an entry of a directory, big enough for what it holds).  Each
 * problem is one line of the report, and one piece of damage one problem:
 * what only follows from damage already reported (the inodes a damaged
 * directory chain cut off, the blocks of a damaged AG) is summed up, not
 * listed.  (Opening the pmemobj pool lets libpmemobj finish or roll back a
 * transaction a crash interrupted, as any open does.)
 *
 * For daxfile_pool_repair it also sets the AG bitmaps and free counts to
 * the blocks the files own, when that is safe: every AG header and every
 * file's extent records sound.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "daxfile.h"
#include "defer.h"
#include "dir.h"
#include "hash.h"
#include "mem.h"
#include "mkfs.h"
#include "out.h"
#include "pool.h"
#include "probe.h"
#include "slab.h"
#include "super.h"
#include "symlink.h"
#include "tx.h"
#include "undo.h"
#include "xattr.h"

/* What the checker learns of one inode. */
struct ck_inode {
	uint64_t ino;
	uint32_t refs;		/* directory entries naming it */
	uint32_t subdirs;	/* for directories: entries that are dirs */
	uint32_t objlen;	/* bytes of its slab object; 0: its own object */
	bool visited;		/* directory already walked */
	bool orphan;		/* on the orphan list */
};

/* An object of a slab: an inode, or an entry reached by a walk or not. */
struct ck_dirent {
	uint64_t off;
	uint32_t len;		/* bytes of its run of units */
	bool reached;
};

struct ck {
	struct daxfile_pool *pool;
	FILE *report;
	FILE *repairs;		/* daxfile_pool_repair: fix bitmaps, say so here */
	unsigned problems;
	bool cut_off;		/* a directory chain is damaged: entries unread */
	bool extents_unsure;	/* a damaged inode or extent: blocks unknown */
	bool ag_damaged;	/* an AG header is damaged */
	bool *rebuilt;		/* repairs: ags[i] is a header rebuilt in DRAM */
	/* the inode table: open addressing on inode numbers */
	struct ck_inode *tab;
	uint64_t mask;
	/* per AG, the blocks extents claim */
	uint64_t **owned;
	uint32_t nags;
	const struct dx_ag **ags;
	/* the objects of the slabs: inodes and entries, each by offset */
	struct ck_dirent *sino;
	size_t nsino, capsino;
	struct ck_dirent *sde;
	size_t nsde, capsde;
	struct ck_dirent *sbad;	/* neither an inode nor an entry */
	size_t nsbad, capsbad;
	uint64_t cut;		/* inodes the damaged chains explain */
	uint64_t *slabs;	/* the sound slabs of the list */
	size_t nslabs;
	/* objects the tree reaches that hang off inodes (ck_reach) */
	uint64_t *reached;
	size_t nreached, capreached;
	bool reach_failed;	/* out of memory: no leak check */
};

static void __attribute__((format(printf, 2, 3)))
ck_problem(struct ck *ck, const char *fmt, ...)
{
	va_list ap;

	ck->problems++;
	if (ck->report == NULL)
		return;
	va_start(ap, fmt);
	vfprintf(ck->report, fmt, ap);
	va_end(ap);
	fputc('\n', ck->report);
}

static struct ck_inode *
ck_find(struct ck *ck, uint64_t ino)
{
	uint64_t i = ((ino >> 4) * 0x9e3779b97f4a7c15ULL) & ck->mask;

	for (;; i = (i + 1) & ck->mask) {
		if (ck->tab[i].ino == ino)
			return &ck->tab[i];
		if (ck->tab[i].ino == 0)
			return NULL;
	}
}

/*
 * ck_list_here -- the offsets of every inode object from libpmemobj's own
 * object list, read in this process (when daxfile-probe cannot run).
 */
static int64_t
ck_list_here(struct ck *ck, uint64_t **out)
{
	PMEMobjpool *pop = ck->pool->pop;
	uint64_t *offs = NULL;
	size_t n = 0, cap = 0;

	for (PMEMoid o = POBJ_FIRST_TYPE_NUM(pop, DX_TYPE_INODE);
	    !OID_IS_NULL(o); o = POBJ_NEXT_TYPE_NUM(o)) {
		if (n == cap) {
			uint64_t *p;

			cap = cap ? 2 * cap : 1024;
			p = dx_realloc(DX_ARENA_GLOBAL, offs, cap * sizeof(*p));
			if (p == NULL) {
				dx_free(DX_ARENA_GLOBAL, offs);
				return dx_err(ENOMEM, "cannot list the heap's objects");
			}
			offs = p;
		}
		offs[n++] = o.off;
	}
	*out = offs;
	return (int64_t)n;
}

/*
 * ck_merge_slab_inodes -- the slabs' inodes after libpmemobj's inode
 * objects in *offs (an array of the global arena, as the probe gives).
 */
static int
ck_merge_slab_inodes(struct ck *ck, uint64_t **offs, size_t *n)
{
	uint64_t *p;

	if (ck->nsino == 0)
		return 0;
	p = dx_realloc(DX_ARENA_GLOBAL, *offs, (*n + ck->nsino) * sizeof(*p));
	if (p == NULL)
		return dx_err(ENOMEM, "cannot list the slabs' inodes");
	for (size_t i = 0; i < ck->nsino; i++)
		p[*n + i] = ck->sino[i].off;
	*offs = p;
	*n += ck->nsino;
	return 0;
}

/* ck_inodes -- the table of the inode objects at offs[0..n). */
static int
ck_inodes(struct ck *ck, const uint64_t *offs, size_t n)
{
	uint64_t cap = 1024;

	while (cap < n * 2)
		cap *= 2;
	ck->tab = dx_zalloc(ck->pool->arena, cap * sizeof(*ck->tab));
	if (ck->tab == NULL)
		return dx_err(ENOMEM, "cannot allocate the checker's inode table");
	ck->mask = cap - 1;
	for (size_t k = 0; k < n; k++) {
		uint64_t i = ((offs[k] >> 4) * 0x9e3779b97f4a7c15ULL) & ck->mask;

		while (ck->tab[i].ino != 0)
			i = (i + 1) & ck->mask;
		ck->tab[i].ino = offs[k];
	}
	return 0;
}

/* --- slabs ------------------------------------------------------------------- */

static int
ck_obj_cmp(const void *a, const void *b)
{
	uint64_t x = ((const struct ck_dirent *)a)->off;
	uint64_t y = ((const struct ck_dirent *)b)->off;

	return x < y ? -1 : x > y;
}

/* ck_grow -- room for one more element in *v (n used, *cap allocated). */
static int
ck_grow(struct ck *ck, void **v, size_t n, size_t *cap, size_t size)
{
	void *p;

	if (n < *cap)
		return 0;
	p = dx_realloc(ck->pool->arena, *v, (*cap ? 2 * *cap : 256) * size);
	if (p == NULL)
		return dx_err(ENOMEM, "cannot allocate the checker's slab tables");
	*v = p;
	*cap = *cap ? 2 * *cap : 256;
	return 0;
}

/* ck_slab_object -- one object of a slab: an inode or an entry. */
static int
ck_slab_object(void *arg, uint64_t off, uint64_t len)
{
	struct ck *ck = arg;
	const uint64_t magic = *(const uint64_t *)dx_ptr(ck->pool, off);

	if (magic == DX_INODE_MAGIC) {
		if (ck_grow(ck, (void **)&ck->sino, ck->nsino, &ck->capsino,
		    sizeof(*ck->sino)) != 0)
			return -1;
		ck->sino[ck->nsino++] = (struct ck_dirent){off, (uint32_t)len,
			false};
		return 0;
	}
	if (magic == DX_DIRENT_MAGIC) {
		if (ck_grow(ck, (void **)&ck->sde, ck->nsde, &ck->capsde,
		    sizeof(*ck->sde)) != 0)
			return -1;
		ck->sde[ck->nsde++] = (struct ck_dirent){off, (uint32_t)len,
			false};
		return 0;
	}
	/* reported after the walk, unless an entry or damage explains it */
	if (ck_grow(ck, (void **)&ck->sbad, ck->nsbad, &ck->capsbad,
	    sizeof(*ck->sbad)) != 0)
		return -1;
	ck->sbad[ck->nsbad++] = (struct ck_dirent){off, (uint32_t)len, false};
	return 0;
}

/*
 * ck_slab_list -- the slabs of the list, sound ones only, each once: a
 * damaged slab or a loop ends the list with a problem.  Their number, or
 * -1; '*out' is an array of the pool's arena.
 */
static int64_t
ck_slab_list(struct ck *ck, uint64_t **out)
{
	const char *why;
	uint64_t at;
	int64_t n = dx_slab_list(ck->pool, ck->pool->arena, out, &why, &at);

	if (n >= 0 && why != NULL)
		ck_problem(ck, "slab list at %#lx: %s", (unsigned long)at, why);
	return n;
}

/*
 * ck_slabs -- every slab of the list: its header and map, then its
 * objects, sorted by offset into the inode and entry tables.
 */
static int
ck_slabs(struct ck *ck)
{
	uint64_t *v = NULL;
	int64_t n = ck_slab_list(ck, &v);
	int ret = 0;

	for (int64_t i = 0; i < n && ret == 0; i++)
		ret = dx_slab_objects(ck->pool, v[i], ck_slab_object, ck);
	if (n < 0 || ret != 0) {
		dx_free(ck->pool->arena, v);
		return -1;
	}
	ck->slabs = v;
	ck->nslabs = (size_t)n;
	if (ck->nsino > 0)
		qsort(ck->sino, ck->nsino, sizeof(*ck->sino), ck_obj_cmp);
	if (ck->nsde > 0)
		qsort(ck->sde, ck->nsde, sizeof(*ck->sde), ck_obj_cmp);
	if (ck->nsbad > 0)
		qsort(ck->sbad, ck->nsbad, sizeof(*ck->sbad), ck_obj_cmp);
	return 0;
}

/* ck_slab_find -- the object at 'off' in a sorted table, or NULL. */
static struct ck_dirent *
ck_slab_find(struct ck_dirent *v, size_t n, uint64_t off)
{
	struct ck_dirent key = {.off = off};

	return n ? bsearch(&key, v, n, sizeof(*v), ck_obj_cmp) : NULL;
}

/*
 * ck_slab_entries -- every entry of a slab belongs to a directory, and
 * every object of a slab is an inode or an entry.  Where damaged chains
 * hid entries, the entries no walk reached and the unreadable objects are
 * most likely those: they join the inodes those chains cut off in one
 * line.  An unreadable object that an entry names as its inode was
 * reported with that entry.
 */
static void
ck_slab_entries(struct ck *ck)
{
	uint64_t entries = 0, unreadable = 0;

	for (size_t i = 0; i < ck->nsde; i++) {
		if (ck->sde[i].reached)
			continue;
		if (ck->cut_off)
			entries++;
		else
			ck_problem(ck, "slab object %#lx is a directory entry of no directory",
				(unsigned long)ck->sde[i].off);
	}
	for (size_t i = 0; i < ck->nsbad; i++) {
		if (ck->sbad[i].reached)
			continue;
		if (ck->cut_off)
			unreadable++;
		else
			ck_problem(ck, "slab object %#lx (%u bytes) is neither an inode nor a directory entry",
				(unsigned long)ck->sbad[i].off, ck->sbad[i].len);
	}
	if (ck->cut != 0 || entries != 0 || unreadable != 0)
		ck_problem(ck, "%lu inodes unreachable or with links not found, %lu directory entries of no directory and %lu unreadable objects, most likely behind or on the damaged entry chains above (daxfile salvage puts the inodes in lost+found)",
			(unsigned long)ck->cut, (unsigned long)entries,
			(unsigned long)unreadable);
}

/* ck_inode_room -- the bytes an inode of 'mode' takes. */
static uint64_t
ck_inode_room(uint32_t mode)
{
	return sizeof(struct dx_dinode) + (S_ISDIR(mode) ?
		sizeof(struct dx_dirhdr) : S_ISLNK(mode) ? DX_SYMLINK_INLINE : 0);
}

static const struct dx_dinode *
ck_dinode(struct ck *ck, uint64_t ino)
{
	const struct dx_dinode *di;

	if (!dx_obj_ok(ck->pool, ino, sizeof(*di)))
		return NULL;
	di = dx_ptr(ck->pool, ino);
	if (di->magic != DX_INODE_MAGIC || !(S_ISDIR(di->mode) ||
	    S_ISREG(di->mode) || S_ISLNK(di->mode)))
		return NULL;
	if (S_ISDIR(di->mode) &&
	    !dx_obj_ok(ck->pool, ino, sizeof(*di) + sizeof(struct dx_dirhdr)))
		return NULL;
	if (S_ISLNK(di->mode) &&
	    !dx_obj_ok(ck->pool, ino, sizeof(*di) + DX_SYMLINK_INLINE))
		return NULL;
	return di;
}

/* --- blocks ---------------------------------------------------------------- */

/*
 * ck_ag_rebuild -- repairs: AG i's header as mkfs made it, in DRAM (its
 * bitmap is set from the files' extents later), if the superblock's
 * geometry and the header's place allow; NULL if not.
 */
static const struct dx_ag *
ck_ag_rebuild(struct ck *ck, uint32_t i, uint64_t off)
{
	uint64_t start, nblocks, size;
	struct dx_ag *ag;

	if (ck->repairs == NULL ||
	    dx_mkfs_ag_geometry(ck->pool->sb, i, &start, &nblocks) != 0)
		return NULL;
	size = sizeof(*ag) + (nblocks + 63) / 64 * 8;
	if (!dx_obj_ok(ck->pool, off, size))
		return NULL;
	ag = dx_zalloc(ck->pool->arena, size);
	if (ag == NULL)
		return NULL;
	ag->magic = DX_AG_MAGIC;
	ag->agno = i;
	ag->start = start;
	ag->nblocks = nblocks;
	ck->rebuilt[i] = true;
	return ag;
}

static int
ck_ags(struct ck *ck)
{
	struct daxfile_pool *pool = ck->pool;
	const struct dx_super *sb = pool->sb;

	ck->nags = sb->nags;
	ck->ags = dx_zalloc(pool->arena, ck->nags * sizeof(*ck->ags));
	ck->owned = dx_zalloc(pool->arena, ck->nags * sizeof(*ck->owned));
	ck->rebuilt = dx_zalloc(pool->arena, ck->nags * sizeof(*ck->rebuilt));
	if (ck->ags == NULL || ck->owned == NULL || ck->rebuilt == NULL)
		return dx_err(ENOMEM, "cannot allocate the checker's AG table");
	for (uint32_t i = 0; i < ck->nags; i++) {
		uint64_t off = sb->ag_off[i], nfree = 0;
		const struct dx_ag *ag;

		if (!dx_obj_ok(pool, off, sizeof(*ag))) {
			ck_problem(ck, "AG %u: header offset %#lx outside the pool",
				i, (unsigned long)off);
			ck->ag_damaged = true;
			continue;
		}
		ag = dx_ptr(pool, off);
		if (ag->magic != DX_AG_MAGIC || ag->agno != i ||
		    ag->nblocks == 0 ||
		    ag->start + ag->nblocks > pool->size >> DX_BLOCK_SHIFT ||
		    !dx_obj_ok(pool, off, sizeof(*ag) + (ag->nblocks + 63) / 64 * 8)) {
			ag = ck_ag_rebuild(ck, i, off);
			if (ag == NULL) {
				ck_problem(ck, "AG %u: damaged header", i);
				ck->ag_damaged = true;
				continue;
			}
		}
		ck->ags[i] = ag;
		ck->owned[i] = dx_zalloc(pool->arena, (ag->nblocks + 63) / 64 * 8);
		if (ck->owned[i] == NULL)
			return dx_err(ENOMEM, "cannot allocate the checker's block map");
		if (ck->rebuilt[i])
			continue;
		for (uint64_t b = 0; b < ag->nblocks; b++)
			nfree += !(ag->bitmap[b / 64] >> (b % 64) & 1);
		if (nfree != ag->nfree)
			ck_problem(ck, "AG %u: free count %lu, bitmap has %lu free",
				i, (unsigned long)ag->nfree, (unsigned long)nfree);
	}
	return 0;
}

/* ck_own_by -- 'who' at 'id' owns [pblk, pblk+len): note it, once. */
static void
ck_own_by(struct ck *ck, const char *who, uint64_t id, uint64_t pblk,
	uint64_t len)
{
	for (uint32_t i = 0; i < ck->nags; i++) {
		const struct dx_ag *ag = ck->ags[i];

		if (ag == NULL || pblk < ag->start ||
		    pblk >= ag->start + ag->nblocks)
			continue;
		if (len > ag->start + ag->nblocks - pblk) {
			ck_problem(ck, "%s %#lx: extent at block %#lx runs past AG %u",
				who, (unsigned long)id, (unsigned long)pblk, i);
			len = ag->start + ag->nblocks - pblk;
		}
		for (uint64_t b = pblk - ag->start; b < pblk - ag->start + len; b++) {
			uint64_t bit = 1ULL << (b % 64);

			if (ck->owned[i][b / 64] & bit) {
				ck_problem(ck, "block %#lx is owned twice (again by %s %#lx)",
					(unsigned long)(ag->start + b), who,
					(unsigned long)id);
				return;
			}
			ck->owned[i][b / 64] |= bit;
		}
		return;
	}
	/* the blocks of an AG whose header is damaged are reported with it */
	if (!ck->ag_damaged)
		ck_problem(ck, "%s %#lx: extent at block %#lx is outside every AG",
			who, (unsigned long)id, (unsigned long)pblk);
}

/* ck_own -- inode 'ino' owns [pblk, pblk+len). */
static void
ck_own(struct ck *ck, uint64_t ino, uint64_t pblk, uint64_t len)
{
	ck_own_by(ck, "inode", ino, pblk, len);
}

/*
 * ck_slab_blocks -- a slab made of data blocks owns them: every slab that
 * starts inside an AG (a slab of the metadata heap lies outside them all).
 */
static void
ck_slab_blocks(struct ck *ck)
{
	for (size_t k = 0; k < ck->nslabs; k++) {
		uint64_t off = ck->slabs[k], pblk = off >> DX_BLOCK_SHIFT;

		for (uint32_t i = 0; i < ck->nags; i++) {
			const struct dx_ag *ag = ck->ags[i];

			if (ag == NULL || pblk < ag->start ||
			    pblk >= ag->start + ag->nblocks)
				continue;
			if (off % DX_BLOCK_SIZE != 0)
				ck_problem(ck, "slab %#lx: inside AG %u but not on a block",
					(unsigned long)off, i);
			else
				ck_own_by(ck, "slab", off, pblk, DX_SLAB_BLOCKS);
			break;
		}
	}
}

/*
 * ck_fix_bitmap -- daxfile_pool_repair: set AG i's bitmap and free count to
 * the blocks the files own, and its header if it was rebuilt (one
 * transaction).
 */
static void
ck_fix_bitmap(struct ck *ck, uint32_t i)
{
	const struct dx_ag *good = ck->ags[i];
	struct dx_ag *ag = dx_ptr(ck->pool, ck->pool->sb->ag_off[i]);
	uint64_t words = (good->nblocks + 63) / 64, nfree = 0;
	struct dx_tx tx;

	for (uint64_t b = 0; b < good->nblocks; b++)
		nfree += !(ck->owned[i][b / 64] >> (b % 64) & 1);
	if (dx_tx_begin(&tx, ck->pool) != 0)
		return;
	if (dx_tx_add(&tx, ag, sizeof(*ag) + words * 8) == 0) {
		if (ck->rebuilt[i])
			memcpy(ag, good, sizeof(*ag));
		memcpy(ag->bitmap, ck->owned[i], words * 8);
		ag->nfree = nfree;
	}
	if (dx_tx_commit(&tx) == 0)
		fprintf(ck->repairs, "repaired: AG %u %smarks in use exactly the blocks files own (%lu free)\n",
			i, ck->rebuilt[i] ?
			"has its header again, from the superblock, and " : "",
			(unsigned long)nfree);
}

static void
ck_bitmaps(struct ck *ck, uint64_t *used, uint64_t *total)
{
	for (uint32_t i = 0; i < ck->nags; i++) {
		const struct dx_ag *ag = ck->ags[i];
		uint64_t leaked = 0, unmarked = 0, first_l = 0, first_u = 0;
		uint64_t owned_n = 0;

		if (ag == NULL)
			continue;
		*total += ag->nblocks;
		for (uint64_t b = 0; b < ag->nblocks; b++) {
			bool marked = ag->bitmap[b / 64] >> (b % 64) & 1;
			bool owned = ck->owned[i][b / 64] >> (b % 64) & 1;

			owned_n += owned;
			if (marked && !owned && leaked++ == 0)
				first_l = ag->start + b;
			if (owned && !marked && unmarked++ == 0)
				first_u = ag->start + b;
		}
		if (leaked)
			ck_problem(ck, "AG %u: %lu blocks marked used but owned by no file (first %#lx)%s",
				i, (unsigned long)leaked, (unsigned long)first_l,
				ck->extents_unsure ?
				", maybe those of the damaged inodes above" : "");
		if (unmarked)
			ck_problem(ck, "AG %u: %lu blocks owned by files but marked free (first %#lx)",
				i, (unsigned long)unmarked, (unsigned long)first_u);
		*used += owned_n;
		if (ck->repairs == NULL ||
		    (!leaked && !unmarked && ag->nfree == ag->nblocks - owned_n))
			continue;
		if (!ck->extents_unsure && !ck->ag_damaged)
			ck_fix_bitmap(ck, i);
		else if (ck->rebuilt[i])
			fprintf(ck->repairs, "not repaired: AG %u's header, as damaged inodes leave its blocks unknown\n",
				i);
	}
}

/* ck_file -- a regular file's extent records. */
static void
ck_file(struct ck *ck, uint64_t ino, const struct dx_dinode *di)
{
	struct daxfile_pool *pool = ck->pool;
	uint64_t limit = pool->size / sizeof(struct dx_extchunk);
	uint64_t blocks = 0;

	if (di->size > DX_MAX_FILE_SIZE)
		ck_problem(ck, "inode %#lx: size %#lx is past the largest file",
			(unsigned long)ino, (unsigned long)di->size);
	for (uint64_t off = di->extents; off != 0;) {
		const struct dx_extchunk *c;

		if (!dx_obj_ok(pool, off, sizeof(*c)) || limit-- == 0) {
			ck_problem(ck, "inode %#lx: extent chunk %#lx outside the pool",
				(unsigned long)ino, (unsigned long)off);
			ck->extents_unsure = true;
			return;
		}
		c = dx_ptr(pool, off);
		if (c->magic != DX_EXTCHUNK_MAGIC || c->owner != ino) {
			ck_problem(ck, "inode %#lx: damaged extent chunk %#lx",
				(unsigned long)ino, (unsigned long)off);
			ck->extents_unsure = true;
			return;
		}
		for (unsigned i = 0; i < DX_EXT_PER_CHUNK; i++) {
			const struct dx_extent *x = &c->ext[i];

			if (x->len == 0)
				continue;
			if (x->flags & ~DX_EXT_UNWRITTEN ||
			    x->lblk + x->len > DX_MAX_FILE_SIZE >> DX_BLOCK_SHIFT) {
				ck_problem(ck, "inode %#lx: damaged extent record at %#lx",
					(unsigned long)ino,
					(unsigned long)dx_off(pool, x));
				ck->extents_unsure = true;
			}
			ck_own(ck, ino, x->pblk, x->len);
			blocks += x->len;
		}
		off = c->next;
	}
	if (blocks != di->nblocks)
		ck_problem(ck, "inode %#lx: counts %lu blocks, extents hold %lu",
			(unsigned long)ino, (unsigned long)di->nblocks,
			(unsigned long)blocks);
}

/* --- objects that hang off inodes ------------------------------------------ */

/* ck_reach -- the tree reaches the object at 'off' (an attribute, a target). */
static int
ck_reach(struct ck *ck, uint64_t off)
{
	if (ck->nreached == ck->capreached) {
		size_t cap = ck->capreached ? 2 * ck->capreached : 256;
		uint64_t *p = dx_realloc(ck->pool->arena, ck->reached,
			cap * sizeof(*p));

		if (p == NULL) {
			ck->reach_failed = true;
			return dx_err(ENOMEM, "cannot allocate the checker's object list");
		}
		ck->reached = p;
		ck->capreached = cap;
	}
	ck->reached[ck->nreached++] = off;
	return 0;
}

/*
 * ck_free_leaked -- daxfile_pool_repair: free the objects at offs[0..n),
 * which no inode reaches, in one transaction, when the check is sure of
 * them: no inode is damaged (its attributes or target would be among
 * these) and no entry chain hides one.
 */
static void
ck_free_leaked(struct ck *ck, const uint64_t *offs, size_t n)
{
	struct dx_tx tx;

	if (n == 0 || ck->extents_unsure || ck->cut_off ||
	    dx_tx_begin(&tx, ck->pool) != 0)
		return;
	for (size_t i = 0; i < n; i++)
		dx_tx_free(&tx, offs[i]);
	if (dx_tx_commit(&tx) == 0)
		fprintf(ck->repairs, "repaired: freed %zu objects (attributes, link targets) that belonged to no inode\n",
			n);
}

/*
 * ck_unreached -- every heap object of the types that hang off inodes
 * (extended attributes, long symbolic-link targets) must be one the tree
 * reached: any other is space leaked for good.  The heap's object list is
 * walked in this process only after the probe (or ck_list_here) walked it;
 * for repairs, the objects are freed after the walk, which a free would cut.
 */
static void
ck_unreached(struct ck *ck)
{
	static const struct {
		unsigned type;
		const char *what;
	} types[] = {
		{DX_TYPE_XATTR, "extended attribute"},
		{DX_TYPE_SYMBLK, "symbolic link target block"},
	};
	PMEMobjpool *pop = ck->pool->pop;
	uint64_t *leaked = NULL;
	size_t n = 0, cap = 0;

	if (ck->reach_failed)
		return;
	if (ck->nreached > 1)
		qsort(ck->reached, ck->nreached, sizeof(uint64_t), dx_u64_cmp);
	for (size_t t = 0; t < sizeof(types) / sizeof(types[0]); t++) {
		for (PMEMoid o = POBJ_FIRST_TYPE_NUM(pop, types[t].type);
		    !OID_IS_NULL(o); o = POBJ_NEXT_TYPE_NUM(o)) {
			if (ck->nreached != 0 &&
			    bsearch(&o.off, ck->reached, ck->nreached,
			    sizeof(uint64_t), dx_u64_cmp) != NULL)
				continue;
			ck_problem(ck, "%s at %#lx belongs to no inode",
				types[t].what, (unsigned long)o.off);
			if (ck->repairs == NULL)
				continue;
			if (n == cap) {
				uint64_t *p;

				cap = cap ? 2 * cap : 64;
				p = dx_realloc(ck->pool->arena, leaked,
					cap * sizeof(*p));
				if (p == NULL)
					break; /* repaired by a later run */
				leaked = p;
			}
			leaked[n++] = o.off;
		}
	}
	if (ck->repairs != NULL)
		ck_free_leaked(ck, leaked, n);
	dx_free(ck->pool->arena, leaked);
}

/* ck_symlink -- a symbolic link's target storage. */
static void
ck_symlink(struct ck *ck, uint64_t ino)
{
	const char *why = dx_symlink_check(ck->pool, ino);
	const struct dx_dinode *di = dx_ptr(ck->pool, ino);

	if (why != NULL)
		ck_problem(ck, "symbolic link %#lx: %s", (unsigned long)ino, why);
	else if (di->extents != 0)
		(void)ck_reach(ck, di->extents);
}

/* --- extended attributes ---------------------------------------------------- */

/* A name seen in an inode's attributes, to find it twice. */
struct ck_xname {
	uint64_t hash;
	const struct dx_xattr *x;
};

static int
ck_xname_cmp(const void *a, const void *b)
{
	uint64_t x = ((const struct ck_xname *)a)->hash;
	uint64_t y = ((const struct ck_xname *)b)->hash;

	return x < y ? -1 : x > y;
}

/*
 * ck_xattrs -- the extended attributes of an inode: sound objects that
 * name it as their owner, a chain that ends, names of a kept namespace
 * (user.* only on regular files and directories), no name twice.
 */
static int
ck_xattrs(struct ck *ck, uint64_t ino, const struct dx_dinode *di)
{
	struct daxfile_pool *pool = ck->pool;
	uint64_t limit = pool->size / sizeof(struct dx_xattr);
	struct ck_xname *names = NULL;
	size_t n = 0, cap = 0;

	for (uint64_t off = di->xattr; off != 0;) {
		const struct dx_xattr *x = dx_xattr_entry(pool, off, ino);

		if (x == NULL || limit-- == 0) {
			ck_problem(ck, "inode %#lx: damaged extended attribute at %#lx",
				(unsigned long)ino, (unsigned long)off);
			break;
		}
		if (!dx_xattr_name_ok(x->data, x->namelen))
			ck_problem(ck, "inode %#lx: extended attribute at %#lx has a bad name",
				(unsigned long)ino, (unsigned long)off);
		else if (x->data[0] == 'u' && !S_ISREG(di->mode) &&
		    !S_ISDIR(di->mode))
			ck_problem(ck, "inode %#lx: user.* attribute on a file that cannot have one",
				(unsigned long)ino);
		if (n == cap) {
			struct ck_xname *p;

			cap = cap ? 2 * cap : 16;
			p = dx_realloc(pool->arena, names, cap * sizeof(*p));
			if (p == NULL) {
				dx_free(pool->arena, names);
				return dx_err(ENOMEM, "cannot allocate the checker's attribute table");
			}
			names = p;
		}
		names[n++] = (struct ck_xname){dx_name_hash(0, x->data, x->namelen), x};
		if (ck_reach(ck, off) != 0) {
			dx_free(pool->arena, names);
			return -1;
		}
		off = x->next;
	}
	if (n > 1)
		qsort(names, n, sizeof(*names), ck_xname_cmp);
	for (size_t i = 1; i < n; i++) {
		const struct dx_xattr *a = names[i - 1].x, *b = names[i].x;

		if (names[i].hash == names[i - 1].hash &&
		    a->namelen == b->namelen &&
		    memcmp(a->data, b->data, a->namelen) == 0)
			ck_problem(ck, "inode %#lx: extended attribute '%.*s' twice",
				(unsigned long)ino, (int)a->namelen, a->data);
	}
	dx_free(pool->arena, names);
	return 0;
}

/* --- the tree -------------------------------------------------------------- */

struct ck_walk {
	struct ck *ck;
	uint64_t dir;
	struct ck_inode *dirinfo;
	uint64_t *stack;
	uint64_t *depth;
	uint64_t cap;
	uint64_t nentries;	/* of the directory being walked */
};

static int
ck_entry(void *arg, const char *name, size_t len, uint64_t ino, unsigned type)
{
	struct ck_walk *w = arg;
	struct ck *ck = w->ck;
	struct ck_inode *ci = ck_find(ck, ino);
	const struct dx_dinode *di = ck_dinode(ck, ino);
	uint64_t deoff = dx_off(ck->pool, name) - offsetof(struct dx_dirent, name);
	struct ck_dirent *sd = ck_slab_find(ck->sde, ck->nsde, deoff);

	w->nentries++;
	if (sd != NULL) {
		sd->reached = true;
		if (sd->len < sizeof(struct dx_dirent) + len + 1)
			ck_problem(ck, "directory %#lx: entry '%.*s' is longer than its slab object",
				(unsigned long)w->dir, (int)len, name);
	}
	if (ci == NULL || di == NULL) {
		struct ck_dirent *bad = ck_slab_find(ck->sbad, ck->nsbad, ino);

		if (bad != NULL)
			bad->reached = true;
		ck_problem(ck, "directory %#lx: entry '%.*s' names %#lx, which is not a live inode",
			(unsigned long)w->dir, (int)len, name, (unsigned long)ino);
		return 0;
	}
	ci->refs++;
	if (type != (S_ISDIR(di->mode) ? DT_DIR : S_ISLNK(di->mode) ? DT_LNK :
	    DT_REG))
		ck_problem(ck, "directory %#lx: entry '%.*s' has the wrong type",
			(unsigned long)w->dir, (int)len, name);
	if (!S_ISDIR(di->mode))
		return 0;
	w->dirinfo->subdirs++;
	if (ci->visited || ci->refs > 1) {
		ck_problem(ck, "directory %#lx is reached twice ('%.*s' in %#lx): a cycle or a second parent",
			(unsigned long)ino, (int)len, name, (unsigned long)w->dir);
		return 0;
	}
	if (((const struct dx_dirhdr *)(di + 1))->parent != w->dir)
		ck_problem(ck, "directory %#lx: '..' is %#lx, but it is an entry of %#lx",
			(unsigned long)ino,
			(unsigned long)((const struct dx_dirhdr *)(di + 1))->parent,
			(unsigned long)w->dir);
	if (*w->depth == w->cap) {
		uint64_t *p = dx_realloc(ck->pool->arena, w->stack,
			2 * w->cap * sizeof(*p));

		if (p == NULL)
			return dx_err(ENOMEM, "cannot allocate the checker's stack");
		w->stack = p;
		w->cap *= 2;
	}
	w->stack[(*w->depth)++] = ino;
	return 0;
}

/*
 * ck_entry_count -- a directory's header counts its entries (rmdir's
 * emptiness test); for daxfile_pool_repair, set it to what its chains hold.
 */
static void
ck_entry_count(struct ck *ck, uint64_t dir, struct dx_dirhdr *hdr,
	uint64_t n)
{
	struct dx_tx tx;

	ck_problem(ck, "directory %#lx: its header counts %lu entries, its chains hold %lu",
		(unsigned long)dir, (unsigned long)hdr->nentries,
		(unsigned long)n);
	if (ck->repairs == NULL || dx_tx_begin(&tx, ck->pool) != 0)
		return;
	if (DX_TX_ADD_FIELD(&tx, hdr, nentries) == 0)
		hdr->nentries = n;
	if (dx_tx_commit(&tx) == 0)
		fprintf(ck->repairs, "repaired: directory %#lx counts its %lu entries\n",
			(unsigned long)dir, (unsigned long)n);
}

static int
ck_tree(struct ck *ck)
{
	struct daxfile_pool *pool = ck->pool;
	uint64_t root = pool->sb->root_ino, depth = 0;
	struct ck_walk w = {.ck = ck, .cap = 64, .depth = &depth};
	struct ck_inode *ri = ck_find(ck, root);
	unsigned damaged;
	int ret = 0;

	if (ri == NULL || ck_dinode(ck, root) == NULL ||
	    !S_ISDIR(((const struct dx_dinode *)dx_ptr(pool, root))->mode)) {
		ck_problem(ck, "the root directory %#lx is not a live directory",
			(unsigned long)root);
		return 0;
	}
	ri->refs++; /* its own ".." */
	w.stack = dx_malloc(pool->arena, w.cap * sizeof(*w.stack));
	if (w.stack == NULL)
		return dx_err(ENOMEM, "cannot allocate the checker's stack");
	w.stack[depth++] = root;
	while (depth > 0 && ret == 0) {
		uint64_t dir = w.stack[--depth];
		const struct dx_dinode *di = dx_ptr(pool, dir);
		struct dx_dirhdr *hdr = (struct dx_dirhdr *)(di + 1);

		w.dir = dir;
		w.nentries = 0;
		w.dirinfo = ck_find(ck, dir);
		w.dirinfo->visited = true;
		if (hdr->level >= 40 ||
		    hdr->split >= ((uint64_t)DX_DIR_B0 << hdr->level)) {
			ck_problem(ck, "directory %#lx: damaged hash table header",
				(unsigned long)dir);
			continue;
		}
		ret = dx_dir_foreach_intact(pool, hdr, ck_entry, &w, &damaged);
		if (damaged != 0) {
			ck_problem(ck, "directory %#lx: %u damaged entry chains: the entries on them cannot be read",
				(unsigned long)dir, damaged);
			ck->cut_off = true;
		} else if (ret == 0) {
			uint64_t where;
			const char *why = dx_dir_check_chains(pool, hdr, &where);

			if (why != NULL)
				ck_problem(ck, "directory %#lx: %s (%#lx)",
					(unsigned long)dir, why, (unsigned long)where);
			if (w.nentries != hdr->nentries)
				ck_entry_count(ck, dir, hdr, w.nentries);
		}
	}
	dx_free(pool->arena, w.stack);
	return ret;
}

static void
ck_orphans(struct ck *ck)
{
	struct daxfile_pool *pool = ck->pool;
	uint64_t limit = pool->size / sizeof(struct dx_dinode);
	uint64_t prev = 0;

	for (uint64_t ino = pool->root->orphan_head; ino != 0;) {
		struct ck_inode *ci = ck_find(ck, ino);
		const struct dx_dinode *di = ck_dinode(ck, ino);

		if (ci == NULL || di == NULL || limit-- == 0) {
			ck_problem(ck, "orphan list: %#lx is not a live inode",
				(unsigned long)ino);
			return;
		}
		if (ci->orphan) {
			ck_problem(ck, "orphan list: loops at %#lx", (unsigned long)ino);
			return;
		}
		ci->orphan = true;
		if (di->orphan_prev != prev)
			ck_problem(ck, "orphan list: %#lx has a wrong back link",
				(unsigned long)ino);
		prev = ino;
		ino = di->orphan_next;
	}
}

/* ck_links -- every inode: reached as often as its link count says. */
static void
ck_links(struct ck *ck)
{
	uint64_t cut = 0;

	for (uint64_t i = 0; i <= ck->mask; i++) {
		struct ck_inode *ci = &ck->tab[i];
		const struct dx_dinode *di;
		uint64_t want;

		if (ci->ino == 0)
			continue;
		di = ck_dinode(ck, ci->ino);
		if (di == NULL) {
			ck_problem(ck, "inode %#lx: damaged", (unsigned long)ci->ino);
			ck->extents_unsure = true;
			continue;
		}
		if (ci->objlen != 0 && ci->objlen < ck_inode_room(di->mode))
			ck_problem(ck, "inode %#lx: its slab object is too small for its type",
				(unsigned long)ci->ino);
		if (S_ISREG(di->mode))
			ck_file(ck, ci->ino, di);
		if (S_ISLNK(di->mode))
			ck_symlink(ck, ci->ino);
		if (ci->orphan) {
			if (di->nlink != 0 || ci->refs != 0)
				ck_problem(ck, "inode %#lx: on the orphan list but linked",
					(unsigned long)ci->ino);
			continue;
		}
		/* a directory: its entry (or its own ".."), ".", and its subdirectories' ".." */
		want = S_ISDIR(di->mode) ? 2 + ci->subdirs : ci->refs;
		/* entries a damaged chain hides explain too few references */
		if (ck->cut_off && (ci->refs == 0 || di->nlink > want)) {
			cut++;
			continue;
		}
		if (ci->refs == 0) {
			ck_problem(ck, "inode %#lx: unreachable (link count %u) and not an orphan",
				(unsigned long)ci->ino, di->nlink);
			continue;
		}
		if (di->nlink != want)
			ck_problem(ck, "inode %#lx: link count %u, expected %lu",
				(unsigned long)ci->ino, di->nlink,
				(unsigned long)want);
	}
	ck->cut = cut;	/* reported with the slabs' leftovers */
}

/* ck_every_xattr -- the extended attributes of every sound inode. */
static int
ck_every_xattr(struct ck *ck)
{
	for (uint64_t i = 0; i <= ck->mask; i++) {
		const struct dx_dinode *di;

		if (ck->tab[i].ino == 0)
			continue;
		di = ck_dinode(ck, ck->tab[i].ino);
		if (di != NULL && ck_xattrs(ck, ck->tab[i].ino, di) != 0)
			return -1;
	}
	return 0;
}

/*
 * ck_without_pmemobj -- libpmemobj cannot open the pool (the caller has
 * reported why): can the library's own structures still be read, for
 * daxfile salvage?  Maps the file without libpmemobj to see.
 */
static void
ck_without_pmemobj(struct ck *ck, const char *path)
{
	struct daxfile_pool *pool = dx_pool_attach_raw(path);

	if (pool == NULL || dx_super_readable(pool) != 0)
		ck_problem(ck, "%s: nothing can be read out of the pool",
			daxfile_errormsg());
	else
		ck_problem(ck, "the library's own superblock is intact: daxfile salvage can copy out the files whose metadata is intact");
	if (pool != NULL)
		dx_pool_detach(pool);
}

/* ck_super -- the superblock and its copies. */
static void
ck_super(struct ck *ck)
{
	struct daxfile_pool *pool = ck->pool;
	uint64_t first = 0;
	const char *why;
	unsigned bad;

	if (pool->sb_copy != 0)
		ck_problem(ck, "superblock: damaged; the pool is read through its copy at %#lx (daxfile check -r writes it back)",
			(unsigned long)pool->sb_copy);
	bad = dx_super_copies_damaged(pool, &first);
	if (bad != 0)
		ck_problem(ck, "superblock: %u of its copies damaged, the first at %#lx (daxfile check -r writes them again)",
			bad, (unsigned long)first);
	why = dx_undo_problem(pool);
	if (why != NULL)
		ck_problem(ck, "undo log lanes at %#lx: %s (daxfile check -r "
			"makes them anew)", (unsigned long)pool->root->undo, why);
}

int
dx_check(const char *path, FILE *report, FILE *repairs)
{
	struct ck ck = {.report = report, .repairs = repairs};
	uint64_t used = 0, total = 0, size, *offs = NULL;
	size_t n = 0;
	int64_t here;
	int fd, probe, ret;

	dx_err_begin();
	if (path == NULL)
		return dx_err(EFAULT, "path is NULL");
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return dx_err_keep("cannot check pool '%s'", path);
	ret = dx_pool_file_check(path, fd, &size);
	close(fd);
	if (ret != 0) {
		if (errno != EFSCORRUPTED)
			return -1;
		ck_problem(&ck, "%s", daxfile_errormsg());
		ck_without_pmemobj(&ck, path);
		return 1;
	}
	ret = -1;
	/*
	 * libpmemobj's object list is read by daxfile-probe, in a process of
	 * its own: on a damaged heap that iteration (even the open) can loop
	 * or crash inside libpmemobj, which must not take the caller with it.
	 */
	probe = dx_probe_run(path, &offs, &n, DX_ARENA_GLOBAL);
	if (probe < 0)
		return dx_err_keep("cannot check pool '%s'", path);
	if (probe == DX_PROBE_CRASHED || probe == DX_PROBE_HUNG) {
		ck_problem(&ck, "libpmemobj %s opening the pool: its own metadata is damaged",
			probe == DX_PROBE_CRASHED ? "crashes" : "stalls");
		ck_without_pmemobj(&ck, path);
		dx_free(DX_ARENA_GLOBAL, offs);
		return 1;
	}
	ck.pool = dx_pool_attach(path, false);
	if (ck.pool == NULL) {
		if (errno == EFSCORRUPTED) {
			ck_problem(&ck, "%s", daxfile_errormsg());
			ck_without_pmemobj(&ck, path);
			ret = 1;
		}
		goto out_free;
	}
	if (dx_super_check(ck.pool) != 0) {
		if (errno == EFSCORRUPTED) {
			ck_problem(&ck, "superblock: %s", daxfile_errormsg());
			ret = 1;
		}
		goto out;
	}
	ck_super(&ck);
	if (probe != DX_PROBE_OPENED) {
		/* it found the pool locked: read the list here */
		here = ck_list_here(&ck, &offs);
		if (here < 0)
			goto out;
		n = (size_t)here;
	}
	if (ck_slabs(&ck) != 0 || ck_merge_slab_inodes(&ck, &offs, &n) != 0 ||
	    ck_inodes(&ck, offs, n) != 0 || ck_ags(&ck) != 0)
		goto out;
	for (size_t i = 0; i < ck.nsino; i++)
		ck_find(&ck, ck.sino[i].off)->objlen = ck.sino[i].len;
	ck_slab_blocks(&ck);
	ck_orphans(&ck);
	if (ck_tree(&ck) != 0)
		goto out;
	ck_links(&ck);
	ck_slab_entries(&ck);
	if (ck_every_xattr(&ck) != 0)
		goto out;
	ck_unreached(&ck);
	ck_bitmaps(&ck, &used, &total);
	if (total != ck.pool->sb->data_blocks && !ck.ag_damaged)
		ck_problem(&ck, "AGs hold %lu blocks, superblock says %lu",
			(unsigned long)total,
			(unsigned long)ck.pool->sb->data_blocks);
	ret = ck.problems ? 1 : 0;
out:
	dx_free(ck.pool->arena, ck.sino);
	dx_free(ck.pool->arena, ck.sde);
	dx_free(ck.pool->arena, ck.sbad);
	dx_free(ck.pool->arena, ck.slabs);
	dx_pool_detach(ck.pool);
out_free:
	dx_free(DX_ARENA_GLOBAL, offs);
	return ret;
}

DX_EXPORT int
daxfile_pool_check(const char *path, FILE *report)
{
	DX_CALL();
	return dx_check(path, report, NULL);
}
