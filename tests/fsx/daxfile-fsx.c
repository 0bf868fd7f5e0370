/*
 * daxfile-fsx.c -- a file-system exerciser in the manner of xfstests' fsx,
 * written for libdaxfile: random operations on a file of a pool, the same
 * operations on an in-memory model, and a comparison after each one.
 *
 * Operations: read, write, mapread, mapwrite (through daxfile_mmap),
 * truncate, fallocate (allocate, KEEP_SIZE, punch, zero, collapse, insert),
 * SEEK_DATA/SEEK_HOLE, fsync, close and reopen of the file, close and
 * reopen of the pool, and the namespace moving under the open file: a new
 * name by link and unlink, or by RENAME_NOREPLACE ("link"), an exchange
 * of names with another file ("exchange"), a reopen through a symbolic
 * link ("symreopen").  After each operation the size is checked (fstat and
 * SEEK_END), and every -f operations the whole file; mapped reads check
 * that the bytes past EOF in the page holding EOF are zero.  After every
 * operation that changes the size, the exerciser stores junk past EOF in
 * the page holding EOF through a mapping (POSIX allows the store; it must
 * never become file data) and checks, after the next operation that moves
 * EOF out of that page or moves the page (truncate down, growth past the
 * page, collapse, insert), that the new page holding EOF reads zero past
 * it ("eofstore"; -x eofstore turns it off).
 *
 * A seed reproduces a run; -L writes the operation log, -P replays one; a
 * failure prints the seed, the operation number and the last operations.
 * -t N runs N exercisers in threads, each on its own file, plus threads
 * that map and read one shared file while another truncates and punches
 * it, checking that no foreign data ever shows.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <linux/falloc.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "daxfile.h"

#define PAGE 4096ULL
#define LOG_RING 32

enum op_kind {
	OP_READ, OP_WRITE, OP_MAPREAD, OP_MAPWRITE, OP_TRUNCATE, OP_FALLOC,
	OP_KEEPSIZE, OP_PUNCH, OP_ZERO, OP_COLLAPSE, OP_INSERT, OP_SEEK,
	OP_FSYNC, OP_REOPEN, OP_POOLREOPEN, OP_LINK, OP_EXCHANGE, OP_SYMREOPEN,
	OP_EOFSTORE,	/* not drawn: follows every size change */
	OP_NKINDS
};

static const char *const op_names[OP_NKINDS] = {
	"read", "write", "mapread", "mapwrite", "truncate", "fallocate",
	"keepsize", "punch", "zero", "collapse", "insert", "seek", "fsync",
	"reopen", "poolreopen", "link", "exchange", "symreopen", "eofstore",
};

struct op {
	enum op_kind kind;
	uint64_t off, len;
	int extra;		/* zero: KEEP_SIZE flag; seek: whence */
};

/* Options, shared by every exerciser thread. */
static struct {
	uint64_t nops;
	uint64_t seed;
	uint64_t flen;		/* maximum file size */
	uint64_t oplen;		/* maximum operation size */
	unsigned check_every;	/* full compare period */
	unsigned threads;
	bool disabled[OP_NKINDS];
	const char *pool_path;
	uint64_t pool_size;
	const char *log_path;
	const char *replay_path;
	bool quiet;
	bool debug;
} opt = {
	.nops = 10000, .flen = 256 << 10, .oplen = 64 << 10,
	.check_every = 50, .threads = 1, .pool_size = 256 << 20,
};

/* The pool is shared by all threads; reopening it needs them all quiet. */
static pthread_rwlock_t pool_lock = PTHREAD_RWLOCK_INITIALIZER;
static daxfile_pool *pool;
static atomic_bool stop_all;

/* One exerciser: its file, its model and its log. */
struct fsx {
	unsigned id;
	char path[64];		/* the file's name now */
	unsigned names;		/* names made so far, for the next one */
	daxfile_file *file;
	uint64_t seed_state;
	uint64_t opno;
	uint64_t size;		/* model size */
	uint8_t *good;		/* model bytes */
	bool junk;		/* bytes past EOF stored through a mapping ... */
	uint64_t junk_pg;	/* ... in the page at this offset */
	uint8_t *buf;
	struct op ring[LOG_RING];
	FILE *log;
	FILE *replay;
};

static uint64_t
rnd(struct fsx *x)
{
	/* splitmix64: reproducible from the seed alone */
	uint64_t z = (x->seed_state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static void
op_print(FILE *f, uint64_t n, const struct op *o)
{
	fprintf(f, "%" PRIu64 " %s %#" PRIx64 " %#" PRIx64 " %d\n", n,
		op_names[o->kind], o->off, o->len, o->extra);
}

static void __attribute__((noreturn, format(printf, 2, 3)))
fail(struct fsx *x, const char *fmt, ...)
{
	va_list ap;
	uint64_t first = x->opno >= LOG_RING ? x->opno - LOG_RING + 1 : 1;

	flockfile(stderr);
	fprintf(stderr, "daxfile-fsx[%u]: FAILED at op %" PRIu64 " (seed %" PRIu64
		"): ", x->id, x->opno, opt.seed + x->id);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n  errno %d (%s), daxfile_errormsg: %s\n", errno,
		strerror(errno), daxfile_errormsg());
	fprintf(stderr, "  last operations (opno kind offset length extra):\n");
	for (uint64_t n = first; n <= x->opno; n++) {
		fprintf(stderr, "    ");
		op_print(stderr, n, &x->ring[n % LOG_RING]);
	}
	funlockfile(stderr);
	if (x->log != NULL)
		fflush(x->log);
	exit(1);
}

/* --- the file and the pool --------------------------------------------- */

static void
file_open(struct fsx *x, int flags)
{
	x->file = daxfile_open(pool, x->path, O_RDWR | flags, 0644);
	if (x->file == NULL)
		fail(x, "open %s", x->path);
}

static void
file_close(struct fsx *x)
{
	if (daxfile_close(x->file) != 0)
		fail(x, "close");
	x->file = NULL;
}

/* --- the namespace under the open file ----------------------------------- */

/* new_name -- a fresh name for the file, in the root or in /fsxd<id>. */
static void
new_name(struct fsx *x, char *buf, size_t n)
{
	x->names++;
	if (x->names & 1)
		snprintf(buf, n, "/fsxd%u/n%u", x->id, x->names);
	else
		snprintf(buf, n, "/fsx%u.%u", x->id, x->names);
}

/* check_nlink -- the open file has 'want' names. */
static void
check_nlink(struct fsx *x, nlink_t want)
{
	struct stat st;

	if (daxfile_fstat(x->file, &st) != 0)
		fail(x, "fstat");
	if (st.st_nlink != want)
		fail(x, "%lu names, expected %lu", (unsigned long)st.st_nlink,
			(unsigned long)want);
}

/*
 * do_link -- give the file a new name and drop the old one: link and
 * unlink, or rename with RENAME_NOREPLACE; the open handle stays.
 */
static void
do_link(struct fsx *x, const struct op *o)
{
	char path[64];

	new_name(x, path, sizeof(path));
	if (o->extra) {
		if (daxfile_renameat2(pool, NULL, x->path, NULL, path,
		    RENAME_NOREPLACE) != 0)
			fail(x, "rename %s %s", x->path, path);
	} else {
		if (daxfile_link(pool, x->path, path) != 0)
			fail(x, "link %s %s", x->path, path);
		check_nlink(x, 2);
		if (daxfile_unlink(pool, x->path) != 0)
			fail(x, "unlink %s", x->path);
	}
	check_nlink(x, 1);
	snprintf(x->path, sizeof(x->path), "%s", path);
}

/*
 * do_exchange -- a small other file takes the file's name and the file
 * takes the other's (RENAME_EXCHANGE), then the other goes.
 */
static void
do_exchange(struct fsx *x)
{
	char other[64];
	struct stat st;
	daxfile_file *f;

	new_name(x, other, sizeof(other));
	f = daxfile_open(pool, other, O_CREAT | O_EXCL | O_WRONLY, 0644);
	if (f == NULL || daxfile_write(f, "other", 5) != 5 ||
	    daxfile_close(f) != 0)
		fail(x, "create %s", other);
	if (daxfile_renameat2(pool, NULL, x->path, NULL, other,
	    RENAME_EXCHANGE) != 0)
		fail(x, "exchange %s %s", x->path, other);
	if (daxfile_stat(pool, x->path, &st) != 0 || st.st_size != 5)
		fail(x, "after the exchange %s is not the other file", x->path);
	if (daxfile_unlink(pool, x->path) != 0)
		fail(x, "unlink %s", x->path);
	snprintf(x->path, sizeof(x->path), "%s", other);
	check_nlink(x, 1);
}

/* do_symreopen -- close the file and open it again through a link. */
static void
do_symreopen(struct fsx *x)
{
	char link[64];
	struct stat a, b;

	snprintf(link, sizeof(link), "/fsxl%u", x->id);
	if (daxfile_symlink(pool, x->path, link) != 0)
		fail(x, "symlink %s %s", x->path, link);
	if (daxfile_open(pool, link, O_RDWR | O_NOFOLLOW) != NULL ||
	    errno != ELOOP)
		fail(x, "open of a link with O_NOFOLLOW did not fail with ELOOP");
	file_close(x);
	x->file = daxfile_open(pool, link, O_RDWR);
	if (x->file == NULL)
		fail(x, "open through %s", link);
	if (daxfile_fstat(x->file, &a) != 0 || daxfile_stat(pool, x->path, &b) != 0 ||
	    a.st_ino != b.st_ino)
		fail(x, "the link %s opened another file", link);
	if (daxfile_unlink(pool, link) != 0)
		fail(x, "unlink %s", link);
}

/* pool_reopen -- close and open the pool; every other thread waits. */
static void
pool_reopen(struct fsx *x)
{
	pthread_rwlock_unlock(&pool_lock);
	pthread_rwlock_wrlock(&pool_lock);
	file_close(x);
	if (daxfile_pool_close(pool) != 0)
		fail(x, "pool close");
	pool = daxfile_pool_open(opt.pool_path);
	if (pool == NULL)
		fail(x, "pool open");
	file_open(x, 0);
	pthread_rwlock_unlock(&pool_lock);
	pthread_rwlock_rdlock(&pool_lock);
}

/* --- checks ------------------------------------------------------------- */

static void
check_bytes(struct fsx *x, const uint8_t *got, uint64_t off, uint64_t len,
	const char *what)
{
	for (uint64_t i = 0; i < len; i++) {
		uint8_t want = off + i < x->size ? x->good[off + i] : 0;

		if (got[i] != want)
			fail(x, "%s: byte at %#" PRIx64 " is %#x, expected %#x "
				"(size %#" PRIx64 ")", what, off + i, got[i], want,
				x->size);
	}
}

static void
check_size(struct fsx *x)
{
	struct stat st;
	off_t end;

	if (daxfile_fstat(x->file, &st) != 0)
		fail(x, "fstat");
	if ((uint64_t)st.st_size != x->size)
		fail(x, "size %" PRIu64 ", expected %" PRIu64,
			(uint64_t)st.st_size, x->size);
	end = daxfile_lseek(x->file, 0, SEEK_END);
	if (end < 0 || (uint64_t)end != x->size)
		fail(x, "SEEK_END gives %ld, expected %" PRIu64, (long)end,
			x->size);
}

static void
check_all(struct fsx *x)
{
	uint64_t off = 0;

	while (off < x->size) {
		uint64_t n = x->size - off < opt.oplen ? x->size - off : opt.oplen;
		ssize_t r = daxfile_pread(x->file, x->buf, n, (off_t)off);

		if (r != (ssize_t)n)
			fail(x, "full check: pread at %#" PRIx64 " returned %zd",
				off, r);
		check_bytes(x, x->buf, off, n, "full check");
		off += n;
	}
}

/* --- operations ----------------------------------------------------------- */

static void
fill_random(struct fsx *x, uint8_t *p, uint64_t len)
{
	uint64_t v = rnd(x);

	for (uint64_t i = 0; i < len; i++) {
		if ((i & 7) == 0)
			v = v * 6364136223846793005ULL + 1442695040888963407ULL;
		p[i] = (uint8_t)(v >> (8 * (i & 7)));
	}
}

static void
do_read(struct fsx *x, struct op *o)
{
	ssize_t r = daxfile_pread(x->file, x->buf, o->len, (off_t)o->off);
	uint64_t want = o->off >= x->size ? 0 :
		(o->len < x->size - o->off ? o->len : x->size - o->off);

	if (r < 0 || (uint64_t)r != want)
		fail(x, "read %#" PRIx64 "+%#" PRIx64 " returned %zd, expected %" PRIu64,
			o->off, o->len, r, want);
	check_bytes(x, x->buf, o->off, want, "read");
}

static void
model_write(struct fsx *x, uint64_t off, uint64_t len)
{
	memcpy(x->good + off, x->buf, len);
	if (off + len > x->size)
		x->size = off + len;
}

static void
do_write(struct fsx *x, struct op *o)
{
	ssize_t r;

	fill_random(x, x->buf, o->len);
	r = daxfile_pwrite(x->file, x->buf, o->len, (off_t)o->off);
	if (r != (ssize_t)o->len)
		fail(x, "write %#" PRIx64 "+%#" PRIx64 " returned %zd", o->off,
			o->len, r);
	if (o->off > x->size)
		memset(x->good + x->size, 0, o->off - x->size);
	model_write(x, o->off, o->len);
}

/* map_range -- map the pages holding [off, off+len); the mapping address of off. */
static uint8_t *
map_range(struct fsx *x, uint64_t off, uint64_t len, int prot, void **base,
	size_t *mlen)
{
	uint64_t pg = off & ~(PAGE - 1);

	*mlen = (size_t)(off + len - pg);
	*base = daxfile_mmap(NULL, *mlen, prot, MAP_SHARED, x->file, (off_t)pg);
	if (*base == MAP_FAILED)
		fail(x, "mmap %#" PRIx64 "+%#zx", pg, *mlen);
	return (uint8_t *)*base + (off - pg);
}

static void
do_mapread(struct fsx *x, struct op *o)
{
	uint64_t len, eofpg;
	size_t mlen;
	void *base;
	uint8_t *p;

	if (x->size == 0 || o->off >= x->size)
		return;
	len = o->len < x->size - o->off ? o->len : x->size - o->off;
	/* up to the end of the page holding EOF when the read reaches it */
	eofpg = (x->size + PAGE - 1) & ~(PAGE - 1);
	if (o->off + len == x->size && !x->junk)
		len = eofpg - o->off;
	p = map_range(x, o->off, len, PROT_READ, &base, &mlen);
	check_bytes(x, p, o->off, len, "mapread (zero past EOF)");
	if (daxfile_munmap(base, mlen) != 0)
		fail(x, "munmap");
}

static void
do_mapwrite(struct fsx *x, struct op *o)
{
	size_t mlen;
	void *base;
	uint8_t *p;

	if (o->off + o->len > x->size) {
		/* as fsx: extend the file first, a mapping cannot */
		if (daxfile_ftruncate(x->file, (off_t)(o->off + o->len)) != 0)
			fail(x, "mapwrite: extending truncate");
		memset(x->good + x->size, 0, o->off + o->len - x->size);
		x->size = o->off + o->len;
	}
	fill_random(x, x->buf, o->len);
	p = map_range(x, o->off, o->len, PROT_READ | PROT_WRITE, &base, &mlen);
	memcpy(p, x->buf, o->len);
	if (daxfile_msync(base, mlen, MS_SYNC) != 0)
		fail(x, "msync");
	if (daxfile_munmap(base, mlen) != 0)
		fail(x, "munmap");
	model_write(x, o->off, o->len);
}

static void
do_truncate(struct fsx *x, struct op *o)
{
	if (daxfile_ftruncate(x->file, (off_t)o->off) != 0)
		fail(x, "truncate to %#" PRIx64, o->off);
	if (o->off > x->size)
		memset(x->good + x->size, 0, o->off - x->size);
	x->size = o->off;
}

static void
do_falloc(struct fsx *x, struct op *o, int mode)
{
	uint64_t end = o->off + o->len;

	if (daxfile_fallocate(x->file, mode, (off_t)o->off, (off_t)o->len) != 0)
		fail(x, "fallocate mode %#x %#" PRIx64 "+%#" PRIx64, mode,
			o->off, o->len);
	switch (mode & ~FALLOC_FL_KEEP_SIZE) {
	case FALLOC_FL_PUNCH_HOLE:
	case FALLOC_FL_ZERO_RANGE:
		if (o->off < x->size)
			memset(x->good + o->off, 0,
				(end < x->size ? end : x->size) - o->off);
		break;
	case FALLOC_FL_COLLAPSE_RANGE:
		memmove(x->good + o->off, x->good + end, x->size - end);
		x->size -= o->len;
		return;
	case FALLOC_FL_INSERT_RANGE:
		memmove(x->good + end, x->good + o->off, x->size - o->off);
		memset(x->good + o->off, 0, o->len);
		x->size += o->len;
		return;
	default:
		break;
	}
	if (!(mode & FALLOC_FL_KEEP_SIZE) && end > x->size) {
		memset(x->good + x->size, 0, end - x->size);
		x->size = end;
	}
}

/*
 * do_seek -- SEEK_DATA/SEEK_HOLE answers must be consistent with the
 * model: no non-zero byte is skipped on the way to data, a hole holds
 * zeros, ENXIO exactly at or past EOF.
 */
static void
do_seek(struct fsx *x, struct op *o)
{
	int whence = o->extra ? SEEK_HOLE : SEEK_DATA;
	off_t r = daxfile_lseek(x->file, (off_t)o->off, whence);
	uint64_t stop;

	if (o->off >= x->size) {
		if (r != -1 || errno != ENXIO)
			fail(x, "seek %s at/after EOF gave %ld", o->extra ? "hole" :
				"data", (long)r);
		return;
	}
	if (r < 0) {
		if (whence == SEEK_HOLE || errno != ENXIO)
			fail(x, "seek %s failed", o->extra ? "hole" : "data");
		stop = x->size; /* no data: all zero to EOF */
	} else {
		if ((uint64_t)r < o->off || (uint64_t)r > x->size)
			fail(x, "seek %s gave %ld outside [%#" PRIx64 ", size]",
				o->extra ? "hole" : "data", (long)r, o->off);
		if (whence == SEEK_HOLE) {
			/* the rest of the hole's first block reads zero */
			uint64_t e = ((uint64_t)r + PAGE) & ~(PAGE - 1);

			for (uint64_t i = (uint64_t)r; i < e && i < x->size; i++)
				if (x->good[i] != 0)
					fail(x, "SEEK_HOLE gave %ld, but byte %#" PRIx64
						" is not zero", (long)r, i);
			return;
		}
		stop = (uint64_t)r;
	}
	for (uint64_t i = o->off; i < stop; i++)
		if (x->good[i] != 0)
			fail(x, "SEEK_DATA from %#" PRIx64 " skipped data at %#" PRIx64,
				o->off, i);
}

/*
 * eof_check -- the page holding EOF reads zero past EOF (through a mapping,
 * the only way to see those bytes).
 */
static void
eof_check(struct fsx *x)
{
	uint64_t pg = x->size & ~(PAGE - 1), tail = x->size - pg;
	size_t mlen;
	void *base;
	uint8_t *p;

	if (tail == 0)
		return;
	p = map_range(x, pg, PAGE, PROT_READ, &base, &mlen);
	for (uint64_t i = tail; i < PAGE; i++)
		if (p[i] != 0)
			fail(x, "eofstore: byte at %#" PRIx64 " past EOF is %#x "
				"after the size changed (size %#" PRIx64 ")",
				pg + i, p[i], x->size);
	if (daxfile_munmap(base, mlen) != 0)
		fail(x, "munmap");
}

/* eof_store -- junk past EOF in the page holding it, through a mapping. */
static void
eof_store(struct fsx *x)
{
	uint64_t pg = x->size & ~(PAGE - 1), tail = x->size - pg;
	size_t mlen;
	void *base;
	uint8_t *p;

	if (tail == 0)
		return;
	p = map_range(x, pg, PAGE, PROT_READ | PROT_WRITE, &base, &mlen);
	fill_random(x, p + tail, PAGE - tail);
	if (daxfile_munmap(base, mlen) != 0)
		fail(x, "munmap");
	x->junk = true;
	x->junk_pg = pg;
}

/*
 * eof_after -- after an operation that took the size from 'old' to
 * x->size: junk stored past EOF earlier must be gone if EOF left its page
 * (a truncate down clears the tail of the new last block; growth past the
 * page zeroes from the old EOF on; collapse and insert move the page and
 * clear it), then store new junk.  Growth inside the page may keep the
 * junk past the new EOF, as the kernel's page cache does.
 */
static void
eof_after(struct fsx *x, const struct op *o, uint64_t old)
{
	bool moved = o->kind == OP_COLLAPSE || o->kind == OP_INSERT;

	if (opt.disabled[OP_EOFSTORE] || (x->size == old && !moved))
		return;
	if (x->junk && (moved || x->size < old ||
	    x->size >= x->junk_pg + PAGE))
		x->junk = false;
	if (!x->junk) {
		eof_check(x);
		eof_store(x);
	}
}

/* --- choosing operations ------------------------------------------------- */

static uint64_t
pick(struct fsx *x, uint64_t max)
{
	return max ? rnd(x) % max : 0;
}

/* op_make -- a random legal operation for the current model. */
static bool
op_make(struct fsx *x, struct op *o)
{
	uint64_t blocks;

	o->kind = (enum op_kind)pick(x, OP_NKINDS);
	if (opt.disabled[o->kind] || o->kind == OP_EOFSTORE)
		return false;
	o->off = pick(x, opt.flen);
	o->len = 1 + pick(x, opt.oplen);
	if (o->off + o->len > opt.flen)
		o->len = opt.flen - o->off;
	o->extra = (int)(rnd(x) & 1);
	switch (o->kind) {
	case OP_READ:
	case OP_MAPREAD:
		if (x->size == 0)
			return false;
		o->off = pick(x, x->size);
		return true;
	case OP_TRUNCATE:
		o->off = pick(x, opt.flen);
		return true;
	case OP_COLLAPSE:
		o->off &= ~(PAGE - 1);
		o->len = (o->len + PAGE - 1) & ~(PAGE - 1);
		if (x->size < 2 * PAGE || o->off + o->len >= x->size)
			return false;
		return true;
	case OP_INSERT:
		o->off &= ~(PAGE - 1);
		o->len = (o->len + PAGE - 1) & ~(PAGE - 1);
		blocks = o->len;
		if (o->off >= x->size || x->size + blocks > opt.flen)
			return false;
		return true;
	case OP_SEEK:
		o->off = pick(x, x->size + PAGE);
		return true;
	default:
		return o->len > 0;
	}
}

static bool
op_read_log(struct fsx *x, struct op *o)
{
	char name[32];
	uint64_t n;

	for (;;) {
		int k = fscanf(x->replay, "%" SCNu64 " %31s %" SCNx64 " %" SCNx64 " %d",
			&n, name, &o->off, &o->len, &o->extra);

		if (k != 5)
			return false;
		for (int i = 0; i < OP_NKINDS; i++)
			if (strcmp(name, op_names[i]) == 0) {
				o->kind = (enum op_kind)i;
				return true;
			}
	}
}

static void
op_run(struct fsx *x, struct op *o)
{
	switch (o->kind) {
	case OP_READ: do_read(x, o); break;
	case OP_WRITE: do_write(x, o); break;
	case OP_MAPREAD: do_mapread(x, o); break;
	case OP_MAPWRITE: do_mapwrite(x, o); break;
	case OP_TRUNCATE: do_truncate(x, o); break;
	case OP_FALLOC: do_falloc(x, o, 0); break;
	case OP_KEEPSIZE: do_falloc(x, o, FALLOC_FL_KEEP_SIZE); break;
	case OP_PUNCH:
		do_falloc(x, o, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE);
		break;
	case OP_ZERO:
		do_falloc(x, o, FALLOC_FL_ZERO_RANGE |
			(o->extra ? FALLOC_FL_KEEP_SIZE : 0));
		break;
	case OP_COLLAPSE: do_falloc(x, o, FALLOC_FL_COLLAPSE_RANGE); break;
	case OP_INSERT: do_falloc(x, o, FALLOC_FL_INSERT_RANGE); break;
	case OP_SEEK: do_seek(x, o); break;
	case OP_FSYNC:
		if (daxfile_fsync(x->file) != 0)
			fail(x, "fsync");
		break;
	case OP_REOPEN:
		file_close(x);
		file_open(x, 0);
		break;
	case OP_POOLREOPEN:
		pool_reopen(x);
		break;
	case OP_LINK: do_link(x, o); break;
	case OP_EXCHANGE: do_exchange(x); break;
	case OP_SYMREOPEN: do_symreopen(x); break;
	default:
		break;
	}
}

static void *
fsx_main(void *arg)
{
	struct fsx *x = arg;

	x->seed_state = opt.seed + x->id;
	x->good = calloc(1, opt.flen + opt.oplen + PAGE);
	x->buf = malloc(opt.flen + opt.oplen + PAGE);
	if (x->good == NULL || x->buf == NULL)
		fail(x, "out of memory");
	snprintf(x->path, sizeof(x->path), "/fsx%u", x->id);
	pthread_rwlock_rdlock(&pool_lock);
	snprintf((char *)x->buf, 64, "/fsxd%u", x->id);
	if (daxfile_mkdir(pool, (char *)x->buf, 0755) != 0 && errno != EEXIST)
		fail(x, "mkdir %s", (char *)x->buf);
	file_open(x, O_CREAT | O_TRUNC);
	for (x->opno = 1; x->opno <= opt.nops && !stop_all; x->opno++) {
		uint64_t old_size;
		struct op o;

		if (x->replay != NULL) {
			if (!op_read_log(x, &o))
				break;
		} else if (!op_make(x, &o)) {
			x->opno--;
			continue;
		}
		x->ring[x->opno % LOG_RING] = o;
		if (x->log != NULL)
			op_print(x->log, x->opno, &o);
		if (opt.debug)
			op_print(stdout, x->opno, &o);
		old_size = x->size;
		op_run(x, &o);
		check_size(x);
		eof_after(x, &o, old_size);
		if (x->opno % opt.check_every == 0)
			check_all(x);
	}
	check_all(x);
	file_close(x);
	pthread_rwlock_unlock(&pool_lock);
	free(x->good);
	free(x->buf);
	return NULL;
}

/* --- the shared file: mapped readers against truncate and punch ---------- */

#define SHARED_SIZE (4ULL << 20)
#define SHARED_KEY 0x5a5aa5a5f00dcafeULL

static __thread sigjmp_buf shared_jmp;
static __thread volatile int shared_in_read;
static uint64_t shared_reads, shared_sigbus;

static void
shared_handler(int sig, siginfo_t *si, void *uc)
{
	(void)si;
	(void)uc;
	if (sig == SIGBUS && shared_in_read)
		siglongjmp(shared_jmp, 1);
	signal(sig, SIG_DFL);
	raise(sig);
}

static uint64_t
shared_word(uint64_t off)
{
	return off ^ SHARED_KEY;
}

static void
shared_fill(daxfile_file *f, uint64_t off, uint64_t len)
{
	static __thread uint64_t buf[8192];

	while (len > 0) {
		uint64_t n = len < sizeof(buf) ? len : sizeof(buf);

		for (uint64_t i = 0; i < n / 8; i++)
			buf[i] = shared_word(off + 8 * i);
		if (daxfile_pwrite(f, buf, n, (off_t)off) != (ssize_t)n) {
			fprintf(stderr, "daxfile-fsx: shared fill: %s\n",
				daxfile_errormsg());
			exit(1);
		}
		off += n;
		len -= n;
	}
}

/* shared_reader -- read the mapping: A's words, zeros, or SIGBUS only. */
static void *
shared_reader(void *arg)
{
	daxfile_file *f = daxfile_open(pool, "/shared", O_RDONLY);
	volatile uint64_t *m;
	uint64_t local = 0;

	(void)arg;
	if (f == NULL)
		exit(1);
	m = daxfile_mmap(NULL, SHARED_SIZE, PROT_READ, MAP_SHARED, f, 0);
	if (m == MAP_FAILED) {
		fprintf(stderr, "daxfile-fsx: shared map: %s\n", daxfile_errormsg());
		exit(1);
	}
	while (!stop_all) {
		for (uint64_t i = 0; i < SHARED_SIZE / 8 && !stop_all; i += 509) {
			uint64_t v;

			shared_in_read = 1;
			if (sigsetjmp(shared_jmp, 1) != 0) {
				shared_in_read = 0;
				__atomic_add_fetch(&shared_sigbus, 1, __ATOMIC_RELAXED);
				continue;
			}
			v = m[i];
			shared_in_read = 0;
			if (v != 0 && v != shared_word(8 * i)) {
				fprintf(stderr, "daxfile-fsx: FOREIGN DATA in the shared file at %#" PRIx64
					": %#" PRIx64 "\n", 8 * i, v);
				exit(1);
			}
			local++;
		}
	}
	__atomic_add_fetch(&shared_reads, local, __ATOMIC_RELAXED);
	daxfile_munmap((void *)m, SHARED_SIZE);
	daxfile_close(f);
	return NULL;
}

/* shared_mutator -- truncate and punch the shared file, refill it. */
static void *
shared_mutator(void *arg)
{
	daxfile_file *f = daxfile_open(pool, "/shared", O_RDWR);
	struct fsx x = {.seed_state = opt.seed ^ 0xfeedULL};

	(void)arg;
	if (f == NULL)
		exit(1);
	while (!stop_all) {
		uint64_t off = rnd(&x) % SHARED_SIZE & ~(PAGE - 1);
		uint64_t len = (1 + rnd(&x) % 64) * PAGE;

		if (off + len > SHARED_SIZE)
			len = SHARED_SIZE - off;
		if (rnd(&x) & 1) {
			if (daxfile_ftruncate(f, (off_t)off) != 0 ||
			    daxfile_ftruncate(f, SHARED_SIZE) != 0)
				exit(1);
			shared_fill(f, off, SHARED_SIZE - off);
		} else {
			if (daxfile_fallocate(f, FALLOC_FL_PUNCH_HOLE |
				FALLOC_FL_KEEP_SIZE, (off_t)off, (off_t)len) != 0)
				exit(1);
			shared_fill(f, off, len);
		}
	}
	daxfile_close(f);
	return NULL;
}

/* --- main ------------------------------------------------------------------ */

static void
usage(void)
{
	fprintf(stderr,
		"usage: daxfile-fsx [-N ops] [-S seed] [-l flen] [-o oplen] [-f check_every]\n"
		"                   [-t threads] [-s pool_size] [-L log] [-P replay] [-q] [-d]\n"
		"                   [-x op[,op...]] POOL\n"
		"  -x disables operations by name: read write mapread mapwrite truncate\n"
		"     fallocate keepsize punch zero collapse insert seek fsync reopen poolreopen\n"
		"     link exchange symreopen (the file renamed, exchanged, opened by a link)\n"
		"     eofstore (junk stored past EOF through a mapping after size changes)\n"
		"  -t N runs N exercisers (each its own file) plus mapped readers and a\n"
		"     truncating/punching mutator on a shared file (poolreopen is off then)\n");
	exit(2);
}

static void
disable_ops(char *list)
{
	for (char *t = strtok(list, ","); t != NULL; t = strtok(NULL, ",")) {
		int i;

		for (i = 0; i < OP_NKINDS; i++)
			if (strcmp(t, op_names[i]) == 0)
				break;
		if (i == OP_NKINDS)
			usage();
		opt.disabled[i] = true;
	}
}

static void
parse(int argc, char **argv)
{
	int c;

	opt.seed = (uint64_t)time(NULL);
	while ((c = getopt(argc, argv, "N:S:l:o:f:t:s:L:P:x:qd")) != -1) {
		switch (c) {
		case 'N': opt.nops = strtoull(optarg, NULL, 0); break;
		case 'S': opt.seed = strtoull(optarg, NULL, 0); break;
		case 'l': opt.flen = strtoull(optarg, NULL, 0); break;
		case 'o': opt.oplen = strtoull(optarg, NULL, 0); break;
		case 'f': opt.check_every = (unsigned)strtoul(optarg, NULL, 0); break;
		case 't': opt.threads = (unsigned)strtoul(optarg, NULL, 0); break;
		case 's': opt.pool_size = strtoull(optarg, NULL, 0); break;
		case 'L': opt.log_path = optarg; break;
		case 'P': opt.replay_path = optarg; break;
		case 'x': disable_ops(optarg); break;
		case 'q': opt.quiet = true; break;
		case 'd': opt.debug = true; break;
		default: usage();
		}
	}
	if (optind != argc - 1 || opt.flen < 2 * PAGE || opt.oplen == 0 ||
	    opt.threads == 0 || opt.check_every == 0)
		usage();
	opt.pool_path = argv[optind];
}

int
main(int argc, char **argv)
{
	struct sigaction sa = {.sa_sigaction = shared_handler,
		.sa_flags = SA_SIGINFO};
	pthread_t *tids, shared[3];
	struct fsx *xs;
	unsigned nshared = 0;

	parse(argc, argv);
	unlink(opt.pool_path);
	pool = daxfile_pool_create(opt.pool_path, opt.pool_size, 0600);
	if (pool == NULL) {
		fprintf(stderr, "daxfile-fsx: %s: %s\n", opt.pool_path,
			daxfile_errormsg());
		return 1;
	}
	xs = calloc(opt.threads, sizeof(*xs));
	tids = calloc(opt.threads, sizeof(*tids));
	if (opt.threads > 1)
		opt.disabled[OP_POOLREOPEN] = true;
	for (unsigned i = 0; i < opt.threads; i++) {
		xs[i].id = i;
		if (opt.log_path != NULL && opt.threads == 1)
			xs[i].log = fopen(opt.log_path, "w");
		if (opt.replay_path != NULL && opt.threads == 1)
			xs[i].replay = fopen(opt.replay_path, "r");
		if (opt.replay_path != NULL && xs[i].replay == NULL)
			usage();
	}
	if (opt.threads > 1) {
		daxfile_file *f = daxfile_open(pool, "/shared", O_CREAT | O_RDWR, 0644);

		sigaction(SIGBUS, &sa, NULL);
		shared_fill(f, 0, SHARED_SIZE);
		daxfile_close(f);
		pthread_create(&shared[nshared++], NULL, shared_reader, NULL);
		pthread_create(&shared[nshared++], NULL, shared_reader, NULL);
		pthread_create(&shared[nshared++], NULL, shared_mutator, NULL);
	}
	for (unsigned i = 0; i < opt.threads; i++)
		pthread_create(&tids[i], NULL, fsx_main, &xs[i]);
	for (unsigned i = 0; i < opt.threads; i++)
		pthread_join(tids[i], NULL);
	stop_all = true;
	for (unsigned i = 0; i < nshared; i++)
		pthread_join(shared[i], NULL);
	for (unsigned i = 0; i < opt.threads; i++) {
		if (xs[i].log != NULL)
			fclose(xs[i].log);
		if (xs[i].replay != NULL)
			fclose(xs[i].replay);
	}
	free(xs);
	free(tids);
	if (daxfile_pool_close(pool) != 0) {
		fprintf(stderr, "daxfile-fsx: pool close: %s\n", daxfile_errormsg());
		return 1;
	}
	if (daxfile_pool_check(opt.pool_path, stderr) != 0) {
		fprintf(stderr, "daxfile-fsx: pool check found problems (seed %" PRIu64 ")\n",
			opt.seed);
		return 1;
	}
	if (!opt.quiet)
		printf("daxfile-fsx: %" PRIu64 " ops x %u threads, seed %" PRIu64
			": ok%s\n", opt.nops, opt.threads, opt.seed,
			opt.threads > 1 ? " (shared file: no foreign data)" : "");
	if (opt.threads > 1 && !opt.quiet)
		printf("daxfile-fsx: shared file: %" PRIu64 " mapped reads, %" PRIu64
			" SIGBUS past EOF\n", shared_reads, shared_sigbus);
	unlink(opt.pool_path);
	return 0;
}
