/*
 * layout.h -- the on-media format: every structure libdaxfile keeps in the
 * pool, with its magic and its place (doc/design.md draws them).
 *
 * A pool is one libpmemobj pool file with the layout name DX_LAYOUT_NAME.
 * Objects refer to each other by pool offsets (uint64_t, 0 = none), which
 * equal offsets in the pool file.  File data lives in data segments: large
 * reservations made at creation, page-aligned and starting on a 2 MiB
 * boundary of the pool file, handed out in 4 KiB blocks by the allocator.
 * A block is named by its pool-file offset divided by the block size (its
 * "pblk"), so a block can be mapped from the pool file at pblk * 4096.
 *
 * Everything here is little-endian x86-64 layout; sizes are asserted so that
 * a compiler change cannot move a field silently.
 */
#ifndef DX_LAYOUT_H
#define DX_LAYOUT_H 1

#include <stdint.h>

#define DX_LAYOUT_NAME "libdaxfile"
/*
 * Version 2 added symbolic links (S_IFLNK inodes and their target blocks),
 * hard links (regular files and links with several entries), files
 * created unnamed on the orphan list (O_TMPFILE), and the dinode words
 * 'xattr' and 'btime_ns' (zero in version 1 pools, where they were
 * padding), ordered hash chains in directories (DX_DIRF_ORDERED), and
 * slabs (struct dx_slab) from which inodes and directory
 * entries are claimed: a version 1 pool has none until it makes its first
 * inode or entry after the upgrade, and its older inodes and entries stay
 * libpmemobj objects of their own.  A version 1 pool is upgraded when it
 * is opened (upgrade.c).
 *
 * Version 3 added the undo log lanes (struct dx_undo_area, named by the
 * root's 'undo' word): a short transaction logs the bytes it changes there
 * instead of in libpmemobj's undo log (undo.c), so a library that does not
 * know them would open a pool that a crash left half changed.  Older pools
 * get the lanes when they are opened (upgrade.c).
 */
#define DX_FORMAT_VERSION 3
#define DX_FORMAT_VERSION_MIN 1	/* the oldest version this library opens */

#define DX_BLOCK_SHIFT 12
#define DX_BLOCK_SIZE (1u << DX_BLOCK_SHIFT)
#define DX_HUGE_SHIFT 21
#define DX_HUGE_SIZE (1u << DX_HUGE_SHIFT)
#define DX_HUGE_BLOCKS (DX_HUGE_SIZE / DX_BLOCK_SIZE)

/* Largest file size; offsets beyond it give EFBIG. */
#define DX_MAX_FILE_SIZE ((uint64_t)1 << 53)

#define DX_NAME_MAX 255
#define DX_PATH_MAX 4096 /* including the terminating NUL */

/* Most directory entries one inode may have (its link count), as ext4. */
#define DX_LINK_MAX 65000

/* Magic numbers: 8 ASCII bytes each, readable in a hex dump. */
#define DX_MAGIC(a, b, c, d, e, f, g, h) \
	((uint64_t)(a) | (uint64_t)(b) << 8 | (uint64_t)(c) << 16 | \
	 (uint64_t)(d) << 24 | (uint64_t)(e) << 32 | (uint64_t)(f) << 40 | \
	 (uint64_t)(g) << 48 | (uint64_t)(h) << 56)
#define DX_SUPER_MAGIC DX_MAGIC('D', 'A', 'X', 'F', 'I', 'L', 'E', '!')
#define DX_INODE_MAGIC DX_MAGIC('D', 'X', 'I', 'N', 'O', 'D', 'E', 0)
#define DX_DIRENT_MAGIC DX_MAGIC('D', 'X', 'D', 'E', 'N', 'T', 0, 0)
#define DX_DIRBLK_MAGIC DX_MAGIC('D', 'X', 'D', 'B', 'L', 'K', 0, 0)
#define DX_EXTCHUNK_MAGIC DX_MAGIC('D', 'X', 'E', 'X', 'T', 'S', 0, 0)
#define DX_AG_MAGIC DX_MAGIC('D', 'X', 'A', 'G', 'H', 'D', 'R', 0)
#define DX_SYMBLK_MAGIC DX_MAGIC('D', 'X', 'S', 'Y', 'M', 'L', 'N', 'K')
#define DX_SLAB_MAGIC DX_MAGIC('D', 'X', 'S', 'L', 'A', 'B', 0, 0)
#define DX_XATTR_MAGIC DX_MAGIC('D', 'X', 'X', 'A', 'T', 'T', 'R', 0)
#define DX_UNDO_MAGIC DX_MAGIC('D', 'X', 'U', 'N', 'D', 'O', 0, 0)

/* pmemobj type numbers of the pool's objects (pmempool info shows them). */
enum dx_type_num {
	DX_TYPE_ROOT = 1,
	DX_TYPE_INODE = 2,
	DX_TYPE_DIRENT = 3,
	DX_TYPE_DIRBLK = 4,
	DX_TYPE_EXTCHUNK = 5,
	DX_TYPE_DATASEG = 6,
	DX_TYPE_AG = 7,
	DX_TYPE_SYMBLK = 8,
	DX_TYPE_XATTR = 9,
	DX_TYPE_SLAB = 10,
};

/* Feature bits.  An unknown incompat bit refuses the open. */
#define DX_FEATURE_INCOMPAT_SUPP 0ULL

/*
 * Compatible features (a library that does not know one reads and writes
 * the pool correctly all the same).
 * SB_COPIES: every data segment is followed, at the 2 MiB boundary of the
 * pool file where its blocks end, by a copy of the superblock (in
 * DX_SB_COPY_SIZE bytes its allocation has beyond the blocks), so that
 * damage to the superblock does not lose the pool.
 */
#define DX_FEATURE_COMPAT_SB_COPIES 0x1ULL

#define DX_MAX_SEGS 64	/* data segments (each below 16 GiB: one pmemobj zone) */
#define DX_MAX_AGS 1024	/* allocation groups */

/* A data segment: one pmemobj allocation holding 2 MiB-aligned blocks. */
struct dx_dseg {
	uint64_t obj_off;	/* the pmemobj allocation */
	uint64_t start;		/* first block (pblk) */
	uint64_t nblocks;
};

/*
 * The superblock: written once at creation, then read-only.  The checksum
 * covers every byte before it.
 */
struct dx_super {
	uint64_t magic;
	uint32_t version;
	uint32_t block_size;
	uint64_t feature_compat;
	uint64_t feature_incompat;
	uint64_t pool_size;	/* bytes of the pool file at creation */
	uint8_t uuid[16];
	int64_t create_time;
	uint64_t root_ino;	/* the root directory's inode */
	uint64_t data_blocks;	/* blocks in all data segments */
	uint32_t nsegs;
	uint32_t nags;
	struct dx_dseg segs[DX_MAX_SEGS];
	uint64_t ag_off[DX_MAX_AGS];	/* each AG's header (struct dx_ag) */
	uint64_t checksum;
};

/* Room for a copy of the superblock after a data segment (SB_COPIES). */
#define DX_SB_COPY_SIZE (3 * DX_BLOCK_SIZE)

/* The pmemobj root object. */
struct dx_root {
	struct dx_super sb;
	/* mutable, changed in transactions under the ORPHAN lock */
	uint64_t orphan_head;	/* inodes with no name that are still open
				   (unlinked, or made by O_TMPFILE): freed at
				   their last close, or at the next open */
	/* changed in transactions under the SLABLIST lock */
	uint64_t slabs;		/* the newest slab (struct dx_slab), 0 = none */
	/* written once, by mkfs or the upgrade to version 3 */
	uint64_t undo;		/* the undo log lanes (struct dx_undo_area) */
	uint64_t pad[5];
};

struct dx_time {
	int64_t sec;
	int64_t nsec;
};

/* Inode flags. */
#define DX_DIFLAG_PREALLOC 0x1	/* fallocate put blocks past EOF: keep them */

/*
 * An inode.  Its number (st_ino) is its pool offset.  A directory's inode
 * object is followed by its struct dx_dirhdr in the same allocation, a
 * symbolic link's by DX_SYMLINK_INLINE bytes that hold a short target.
 */
struct dx_dinode {
	uint64_t magic;
	uint32_t mode;
	uint32_t nlink;
	uint32_t uid;
	uint32_t gid;
	uint64_t size;
	uint64_t nblocks;	/* blocks owned, including preallocation */
	struct dx_time atime;
	struct dx_time mtime;
	struct dx_time ctime;
	uint64_t generation;
	uint64_t flags;		/* DX_DIFLAG_* */
	uint64_t extents;	/* regular file: first struct dx_extchunk;
				   symbolic link: its struct dx_symblk, 0 when
				   the target is inline */
	uint64_t orphan_next;	/* on the orphan list: the next inode */
	uint64_t orphan_prev;
	uint64_t xattr;		/* extended attributes (xattr.c), 0 = none */
	int64_t btime_ns;	/* creation time, ns since the epoch; 0 = unknown
				   (pools made before it was kept) */
};

/*
 * A directory: a linear hash table of entry chains.  Buckets in use:
 * (DX_DIR_B0 << level) + split.  Bucket i < DX_DIR_B0 is embedded here;
 * bucket DX_DIR_B0 + j lives in leaf block j / DX_DIRBLK_SLOTS, reached
 * through a two-level radix of blocks (radix -> index block -> leaf), so
 * that the table grows by 4 KiB blocks and never needs a large allocation.
 */
#define DX_DIR_B0 16
#define DX_DIRBLK_SLOTS 511

/*
 * Directory flags.  ORDERED: every chain runs in increasing order of its
 * entries' hashes read bit-reversed, so that the entries a split moves
 * are the tail of their chain (version 2; a version 1 directory becomes
 * ordered when it is empty).
 */
#define DX_DIRF_ORDERED 0x1u

struct dx_dirhdr {
	uint64_t parent;	/* ".." */
	uint64_t nentries;
	uint64_t seed;		/* per-directory hash seed */
	uint32_t level;
	uint32_t flags;		/* DX_DIRF_*; 0 in version 1 */
	uint64_t split;
	uint64_t radix;		/* top index block, 0 while only bucket0 is used */
	uint64_t bucket0[DX_DIR_B0];
};

/* A 4 KiB directory block: index slots or bucket heads. */
struct dx_dirblk {
	uint64_t magic;
	uint64_t slot[DX_DIRBLK_SLOTS];
};

struct dx_dirent {
	uint64_t magic;
	uint64_t next;		/* next entry in the bucket chain */
	uint64_t ino;
	uint64_t hash;
	uint16_t namelen;
	uint8_t type;		/* DT_* */
	uint8_t pad[5];
	char name[];		/* namelen bytes, then a NUL */
};

/*
 * A symbolic link's target: di->size bytes (1 to DX_PATH_MAX - 1) and a
 * NUL, no NUL inside.  Targets of up to DX_SYMLINK_INLINE - 1 bytes follow
 * the dinode in the inode object; longer ones live in a struct dx_symblk
 * of their own, sized to the target.  A target never changes.
 */
#define DX_SYMLINK_INLINE 112

struct dx_symblk {
	uint64_t magic;
	uint64_t owner;		/* the link's inode */
	char target[];
};

/*
 * A slab: DX_SLAB_UNITS units of 64 bytes from which inodes and directory
 * entries are claimed, so that a new file costs a bitmap word in its
 * transaction instead of a libpmemobj allocation per object.  It lives in
 * DX_SLAB_BLOCKS data blocks in a row, marked used in their AG's bitmap
 * and owned by no file, so that the inodes a pool can hold grow with its
 * free space; or, where no free extent is that long (and in pools made
 * before this), in a libpmemobj allocation of one whole heap chunk
 * (256 KiB) of the metadata heap.  An object is
 * a run of units inside one map word: its first unit has its 'start' bit
 * set, and every unit of it its 'used' bit, up to the next start or free
 * unit.  The header and the map are the slab's first DX_SLAB_HDR_UNITS
 * units, marked used with no start bit.  A slab starts on a 64-byte
 * boundary, so that every unit is one cache line; slabs are never freed,
 * and each links the one made before it.
 */
#define DX_SLAB_UNIT 64
#define DX_SLAB_WORDS 63
#define DX_SLAB_UNITS (DX_SLAB_WORDS * 64)
#define DX_SLAB_SIZE ((uint64_t)DX_SLAB_UNITS * DX_SLAB_UNIT)	/* 252 KiB */
#define DX_SLAB_BLOCKS (DX_SLAB_SIZE / DX_BLOCK_SIZE)	/* 63 data blocks */

struct dx_slabmap {
	uint64_t used;		/* bit i: unit 64 * word + i is taken */
	uint64_t start;		/* bit i: an object starts there */
};

struct dx_slab {
	uint64_t magic;
	uint64_t next;		/* the slab made before this one, 0 = none */
	uint64_t nunits;	/* DX_SLAB_UNITS */
	uint64_t pad[5];
	struct dx_slabmap map[DX_SLAB_WORDS];
};

#define DX_SLAB_HDR_UNITS \
	((sizeof(struct dx_slab) + DX_SLAB_UNIT - 1) / DX_SLAB_UNIT)

/* An extent of a regular file. */
#define DX_EXT_UNWRITTEN 0x1	/* allocated, reads as zeros */

struct dx_extent {
	uint64_t lblk;		/* first file block */
	uint64_t pblk;		/* first pool block */
	uint32_t len;		/* blocks; 0 marks a free slot */
	uint32_t flags;		/* DX_EXT_* */
};

#define DX_EXT_PER_CHUNK 41

/* Extent records of a file: an unordered list of chunks of slots. */
struct dx_extchunk {
	uint64_t magic;
	uint64_t next;
	uint64_t owner;		/* the inode */
	struct dx_extent ext[DX_EXT_PER_CHUNK];
};

/* An allocation group: a run of blocks inside one data segment. */
struct dx_ag {
	uint64_t magic;
	uint64_t agno;
	uint64_t start;		/* first block (pblk) */
	uint64_t nblocks;
	uint64_t nfree;
	uint64_t pad[3];
	uint64_t bitmap[];	/* bit set: block in use */
};

_Static_assert(sizeof(struct dx_super) <= DX_SB_COPY_SIZE, "superblock copy");
/*
 * The undo log lanes (undo.c): one lane per transaction in flight.  A lane
 * holds the entries of one transaction: each the bytes that were at pool
 * offset 'off' before the transaction changed them, written and made
 * durable before the change.  An entry counts while its 'gen' is the
 * lane's and its checksum is right; the first that does not ends the log.
 * Raising the lane's 'gen' (one 8-byte store) retires every entry at once:
 * that store is the commit.  Recovery (at open) puts the bytes of the live
 * entries back, the last first, then raises 'gen'.
 *
 * The area is no object of its own: it lives in the first data segment's
 * allocation, in the 2 MiB that the alignment of its blocks leaves unused
 * (before the first block, or after the superblock copy), so that it takes
 * nothing from the metadata heap.
 */
#define DX_UNDO_LANES 32
#define DX_UNDO_LANE_SIZE 4096

struct dx_undo_entry {
	uint64_t csum;		/* of gen, off, len and the bytes (undo.c) */
	uint64_t gen;
	uint64_t off;		/* where the bytes go back */
	uint32_t len;		/* bytes; the entry takes them rounded up to 32 */
	uint32_t pad;
	unsigned char bytes[];
};

struct dx_undo_lane {
	uint64_t gen;		/* never 0 */
	uint64_t pad[7];
	unsigned char log[DX_UNDO_LANE_SIZE - 64];	/* entries */
};

struct dx_undo_area {
	uint64_t magic;		/* DX_UNDO_MAGIC */
	uint32_t nlanes;	/* DX_UNDO_LANES */
	uint32_t lane_size;	/* DX_UNDO_LANE_SIZE */
	uint64_t pad[6];
	struct dx_undo_lane lanes[];
};

/*
 * An extended attribute: one object per name, chained from the inode's
 * 'xattr' word (xattr.c).  The full name (with its namespace prefix,
 * "user." or "trusted.") is followed by the value, with no terminator.
 */
#define DX_XATTR_NAME_MAX 255		/* bytes of a full name */
#define DX_XATTR_SIZE_MAX 65536		/* bytes of a value */

struct dx_xattr {
	uint64_t magic;
	uint64_t next;		/* the next attribute of the inode, 0 = none */
	uint64_t owner;		/* the inode */
	uint32_t valuelen;
	uint16_t namelen;
	uint16_t pad;
	char data[];		/* namelen bytes of name, valuelen of value */
};

_Static_assert(sizeof(struct dx_dinode) == 144, "dinode layout");
_Static_assert(sizeof(struct dx_undo_entry) == 32, "undo entry layout");
_Static_assert(sizeof(struct dx_undo_lane) == DX_UNDO_LANE_SIZE, "undo lane");
_Static_assert(sizeof(struct dx_xattr) == 32, "xattr layout");
_Static_assert(sizeof(struct dx_extent) == 24, "extent layout");
_Static_assert(sizeof(struct dx_extchunk) == 1008, "extent chunk layout");
_Static_assert(sizeof(struct dx_dirent) == 40, "dirent layout");
_Static_assert(sizeof(struct dx_dirblk) == 4096, "directory block layout");
_Static_assert(sizeof(struct dx_slab) == 1072, "slab header layout");
_Static_assert(DX_SLAB_SIZE % DX_BLOCK_SIZE == 0, "a slab is whole blocks");
_Static_assert(sizeof(struct dx_root) == sizeof(struct dx_super) + 64,
	"root layout");

#endif /* DX_LAYOUT_H */
