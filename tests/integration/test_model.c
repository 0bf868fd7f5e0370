/*
 * test_model.c -- model-based random testing of one file's data path.
 *
 * For each seed, random operations go to one file of a pool and to an
 * in-memory model of that file (its bytes, its size, and for every 4 KiB
 * block whether it holds data or is a hole for SEEK_DATA/SEEK_HOLE): write,
 * read, truncate up and down, fallocate in every mode (allocate, KEEP_SIZE,
 * PUNCH_HOLE, ZERO_RANGE with and without KEEP_SIZE, COLLAPSE_RANGE,
 * INSERT_RANGE), SEEK_DATA/SEEK_HOLE, close and reopen of the file, and
 * close and reopen of the pool.  The size is compared after every
 * operation, the whole contents and the data/hole layout every 50.  A
 * second test runs the same operations in a nearly full pool, where the
 * model applies only what the library reports done (short writes, ENOSPC).
 * Three short tests pin down what the random runs found once: a hole
 * before EOF stays zero when a write lands at its start, growing a file
 * without writing leaves holes, and speculative preallocation of many open
 * files does not use up the pool.
 *
 * The model of SEEK_DATA/SEEK_HOLE: a block is data once a write touched
 * it, until a punch, zero-range or truncate removes it whole (or a collapse
 * removes it); fallocated, zeroed, punched and never-written blocks are
 * holes.  Partial punches and zero-ranges change bytes, not the state.
 *
 * Seeds are 1..20 by default (half as many in the nearly full pool);
 * DAXFILE_MODEL_SEEDS raises the count,
 * DAXFILE_MODEL_OPS the operations per seed, DAXFILE_MODEL_FIRST_SEED
 * replays from another seed.  A failure names the seed, the operation
 * number and the last 20 operations.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <linux/falloc.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include "testpool.h"

#define BLK 4096ULL
#define MODEL_MAX ((uint64_t)4 << 20)	/* the file stays below 4 MiB */
#define MODEL_BLOCKS (MODEL_MAX / BLK)
#define HIST 20
#define HIST_LEN 160
#define FILE_PATH "/model"

struct run {
	struct test_pool tp;
	daxfile_file *f;
	bool tight;		/* ENOSPC may happen */
	unsigned seed;
	unsigned op;
	uint64_t rng;
	/* the model */
	unsigned char *buf;	/* MODEL_MAX bytes, zero at and past size */
	uint64_t size;
	bool data[MODEL_BLOCKS];
	/* scratch */
	unsigned char *wbuf;
	unsigned char *rbuf;
	/* the last operations, for the failure report */
	char hist[HIST][HIST_LEN];
	unsigned nhist;
	unsigned enospc;	/* operations that hit ENOSPC */
};

/* --- random numbers ------------------------------------------------------ */

static uint64_t
rnd(struct run *r)
{
	uint64_t z = (r->rng += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* below -- uniform in [0, n); 0 when n is 0. */
static uint64_t
below(struct run *r, uint64_t n)
{
	return n == 0 ? 0 : rnd(r) % n;
}

/* between -- uniform in [lo, hi]. */
static uint64_t
between(struct run *r, uint64_t lo, uint64_t hi)
{
	return lo + below(r, hi - lo + 1);
}

static void
fill_random(struct run *r, unsigned char *p, size_t n)
{
	while (n >= 8) {
		uint64_t v = rnd(r);

		memcpy(p, &v, 8);
		p += 8;
		n -= 8;
	}
	if (n > 0) {
		uint64_t v = rnd(r);

		memcpy(p, &v, n);
	}
}

/* rand_len -- mostly small, sometimes a few blocks, rarely 256 KiB. */
static uint64_t
rand_len(struct run *r)
{
	unsigned k = (unsigned)below(r, 10);

	if (k < 5)
		return between(r, 1, 600);
	if (k < 9)
		return between(r, 1, 32768);
	return between(r, 1, 262144);
}

/* --- history and failure --------------------------------------------- */

static void
note(struct run *r, const char *fmt, ...)
{
	char *h = r->hist[r->nhist++ % HIST];
	int n = snprintf(h, HIST_LEN, "#%u ", r->op);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(h + n, HIST_LEN - (size_t)n, fmt, ap);
	va_end(ap);
}

static void
fail(struct run *r, const char *fmt, ...)
{
	char what[512];
	char *report;
	size_t cap = HIST * (HIST_LEN + 8) + 1024, len;
	unsigned first = r->nhist > HIST ? r->nhist - HIST : 0;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	report = malloc(cap);
	cr_assert_not_null(report);
	len = (size_t)snprintf(report, cap,
		"seed %u, operation %u%s: %s (errno %d %s; last library message: %s)\nlast operations:\n",
		r->seed, r->op, r->tight ? " (nearly full pool)" : "", what,
		errno, strerror(errno), daxfile_errormsg());
	for (unsigned i = first; i < r->nhist && len < cap; i++)
		len += (size_t)snprintf(report + len, cap - len, "  %s\n",
			r->hist[i % HIST]);
	/* the seed replays the run: the pool file need not stay behind */
	unlink(r->tp.path);
	cr_assert_fail("%s", report);
}

/* --- the model ------------------------------------------------------------ */

static uint64_t
blk_up(uint64_t off)
{
	return (off + BLK - 1) / BLK;
}

/* model_zero -- bytes [off, off+len) read zero from now on (below size). */
static void
model_zero(struct run *r, uint64_t off, uint64_t len)
{
	uint64_t end = off + len;

	if (end > r->size)
		end = r->size;
	if (off < end)
		memset(r->buf + off, 0, end - off);
}

/* model_unmap -- the whole blocks inside [off, off+len) become holes. */
static void
model_unmap(struct run *r, uint64_t off, uint64_t len)
{
	uint64_t fb = blk_up(off), eb = (off + len) / BLK;

	for (uint64_t b = fb; b < eb && b < MODEL_BLOCKS; b++)
		r->data[b] = false;
}

static void
model_write(struct run *r, uint64_t off, const unsigned char *src, uint64_t n)
{
	if (n == 0)
		return;
	memcpy(r->buf + off, src, n);
	if (off + n > r->size)
		r->size = off + n;
	for (uint64_t b = off / BLK; b <= (off + n - 1) / BLK; b++)
		r->data[b] = true;
}

static void
model_truncate(struct run *r, uint64_t size)
{
	if (size < r->size) {
		memset(r->buf + size, 0, r->size - size);
		for (uint64_t b = blk_up(size); b < MODEL_BLOCKS; b++)
			r->data[b] = false;
	}
	r->size = size;
}

/* model_seek -- the expected SEEK_DATA/SEEK_HOLE answer, -1 for ENXIO. */
static int64_t
model_seek(const struct run *r, uint64_t off, bool data)
{
	uint64_t nblk = blk_up(r->size);

	if (off >= r->size)
		return -1;
	for (uint64_t b = off / BLK; b < nblk; b++) {
		if (r->data[b] == data)
			return (int64_t)(b * BLK > off ? b * BLK : off);
	}
	return data ? -1 : (int64_t)r->size;
}

/* --- checks ------------------------------------------------------------- */

static void
check_size(struct run *r)
{
	struct stat st;

	if (daxfile_fstat(r->f, &st) != 0)
		fail(r, "fstat failed");
	if ((uint64_t)st.st_size != r->size)
		fail(r, "st_size %lld, model %llu", (long long)st.st_size,
			(unsigned long long)r->size);
	if (!S_ISREG(st.st_mode) || st.st_nlink != 1)
		fail(r, "st_mode %#o st_nlink %lu", (unsigned)st.st_mode,
			(unsigned long)st.st_nlink);
}

/* check_bytes -- [off, off+got) of the file as read into rbuf. */
static void
check_bytes(struct run *r, uint64_t off, uint64_t got)
{
	if (memcmp(r->rbuf, r->buf + off, got) == 0)
		return;
	for (uint64_t i = 0; i < got; i++) {
		if (r->rbuf[i] != r->buf[off + i])
			fail(r, "byte at %llu reads %#x, model %#x (block %llu is %s)",
				(unsigned long long)(off + i), r->rbuf[i],
				r->buf[off + i],
				(unsigned long long)((off + i) / BLK),
				r->data[(off + i) / BLK] ? "data" : "a hole");
	}
}

static void
check_seek(struct run *r, uint64_t off, bool data)
{
	int64_t want = model_seek(r, off, data);
	off_t got;

	errno = 0;
	got = daxfile_lseek(r->f, (off_t)off, data ? SEEK_DATA : SEEK_HOLE);
	if (want < 0) {
		if (got != -1 || errno != ENXIO)
			fail(r, "%s at %llu gives %lld, model: ENXIO",
				data ? "SEEK_DATA" : "SEEK_HOLE",
				(unsigned long long)off, (long long)got);
	} else if (got != (off_t)want) {
		fail(r, "%s at %llu gives %lld, model %lld (size %llu)",
			data ? "SEEK_DATA" : "SEEK_HOLE", (unsigned long long)off,
			(long long)got, (long long)want,
			(unsigned long long)r->size);
	}
}

/*
 * check_all -- the whole contents, the layout walked with lseek, and
 * st_blocks at least the data blocks (preallocation may add more).
 */
static void
check_all(struct run *r)
{
	ssize_t n;
	uint64_t pos = 0, ndata = 0;
	struct stat st;

	check_size(r);
	for (uint64_t b = 0; b < MODEL_BLOCKS; b++)
		ndata += r->data[b];
	if (daxfile_fstat(r->f, &st) != 0)
		fail(r, "fstat failed");
	if ((uint64_t)st.st_blocks < ndata * (BLK / 512))
		fail(r, "st_blocks %lld for %llu blocks of data",
			(long long)st.st_blocks, (unsigned long long)ndata);
	n = daxfile_pread(r->f, r->rbuf, MODEL_MAX + BLK, 0);
	if (n != (ssize_t)r->size)
		fail(r, "full read gives %zd, size %llu", n,
			(unsigned long long)r->size);
	check_bytes(r, 0, r->size);
	while (pos < r->size) {
		int64_t d = model_seek(r, pos, true);

		check_seek(r, pos, true);
		if (d < 0)
			break;
		check_seek(r, (uint64_t)d, false);
		pos = (uint64_t)model_seek(r, (uint64_t)d, false);
	}
}

/* --- operations ----------------------------------------------------------- */

static void
open_file(struct run *r, int flags)
{
	r->f = daxfile_open(r->tp.pool, FILE_PATH, flags, 0644);
	if (r->f == NULL)
		fail(r, "open of %s failed", FILE_PATH);
}

static uint64_t
rand_offset(struct run *r, uint64_t past_eof)
{
	unsigned k = (unsigned)below(r, 10);
	uint64_t off;

	if (k < 7)
		off = below(r, r->size + 1);
	else if (k < 9)
		off = r->size + below(r, past_eof + 1);
	else
		off = below(r, r->size / BLK + 1) * BLK;
	if (off >= MODEL_MAX)
		off = below(r, MODEL_MAX);
	return off;
}

static void
op_write(struct run *r)
{
	uint64_t off = rand_offset(r, 65536);
	uint64_t len = rand_len(r);
	bool seq = below(r, 5) == 0;
	ssize_t n;

	if (len > MODEL_MAX - off)
		len = MODEL_MAX - off;
	fill_random(r, r->wbuf, len);
	note(r, "%s off=%llu len=%llu (size %llu)", seq ? "lseek+write" : "pwrite",
		(unsigned long long)off, (unsigned long long)len,
		(unsigned long long)r->size);
	errno = 0;
	if (seq) {
		if (daxfile_lseek(r->f, (off_t)off, SEEK_SET) != (off_t)off)
			fail(r, "lseek SEEK_SET %llu", (unsigned long long)off);
		n = daxfile_write(r->f, r->wbuf, len);
	} else {
		n = daxfile_pwrite(r->f, r->wbuf, len, (off_t)off);
	}
	if (n < 0) {
		if (r->tight && errno == ENOSPC) {
			r->enospc++;
			return;
		}
		fail(r, "write failed");
	}
	if ((uint64_t)n != len && !r->tight)
		fail(r, "short write %zd of %llu", n, (unsigned long long)len);
	if ((uint64_t)n > len)
		fail(r, "write returns %zd for %llu bytes", n,
			(unsigned long long)len);
	if ((uint64_t)n < len)
		r->enospc++;
	model_write(r, off, r->wbuf, (uint64_t)n);
	if (seq && daxfile_lseek(r->f, 0, SEEK_CUR) != (off_t)(off + (uint64_t)n))
		fail(r, "file offset after write is not %llu",
			(unsigned long long)(off + (uint64_t)n));
}

static void
op_read(struct run *r)
{
	uint64_t off = rand_offset(r, 8192);
	uint64_t len = rand_len(r);
	uint64_t want = off >= r->size ? 0 : (r->size - off < len ?
		r->size - off : len);
	bool seq = below(r, 5) == 0;
	ssize_t n;

	note(r, "%s off=%llu len=%llu", seq ? "lseek+read" : "pread",
		(unsigned long long)off, (unsigned long long)len);
	if (seq) {
		if (daxfile_lseek(r->f, (off_t)off, SEEK_SET) != (off_t)off)
			fail(r, "lseek SEEK_SET %llu", (unsigned long long)off);
		n = daxfile_read(r->f, r->rbuf, len);
	} else {
		n = daxfile_pread(r->f, r->rbuf, len, (off_t)off);
	}
	if (n != (ssize_t)want)
		fail(r, "read gives %zd, model %llu", n,
			(unsigned long long)want);
	check_bytes(r, off, want);
}

static void
op_truncate(struct run *r)
{
	uint64_t size;

	if (below(r, 2) == 0) {
		size = below(r, r->size + 1);
	} else {
		size = r->size + below(r, 262144);
		if (size > MODEL_MAX)
			size = MODEL_MAX;
	}
	note(r, "ftruncate %llu (size %llu)", (unsigned long long)size,
		(unsigned long long)r->size);
	if (daxfile_ftruncate(r->f, (off_t)size) != 0)
		fail(r, "ftruncate failed");
	model_truncate(r, size);
}

static const char *
mode_name(int mode)
{
	switch (mode) {
	case 0:
		return "ALLOCATE";
	case FALLOC_FL_KEEP_SIZE:
		return "KEEP_SIZE";
	case FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE:
		return "PUNCH_HOLE|KEEP_SIZE";
	case FALLOC_FL_ZERO_RANGE:
		return "ZERO_RANGE";
	case FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE:
		return "ZERO_RANGE|KEEP_SIZE";
	case FALLOC_FL_COLLAPSE_RANGE:
		return "COLLAPSE_RANGE";
	case FALLOC_FL_INSERT_RANGE:
		return "INSERT_RANGE";
	default:
		return "?";
	}
}

/* op_falloc -- allocate, keep-size, punch or zero a random range. */
static void
op_falloc(struct run *r, int mode)
{
	uint64_t off = rand_offset(r, 65536);
	uint64_t len = below(r, 3) == 0 ? between(r, 1, 3) * BLK : rand_len(r);
	int ret;

	if (below(r, 3) == 0)
		off &= ~(BLK - 1);
	if (len > MODEL_MAX - off)
		len = MODEL_MAX - off;
	note(r, "fallocate %s off=%llu len=%llu (size %llu)", mode_name(mode),
		(unsigned long long)off, (unsigned long long)len,
		(unsigned long long)r->size);
	errno = 0;
	ret = daxfile_fallocate(r->f, mode, (off_t)off, (off_t)len);
	if (ret != 0) {
		if (!r->tight || errno != ENOSPC ||
		    (mode & FALLOC_FL_PUNCH_HOLE))
			fail(r, "fallocate %s failed", mode_name(mode));
		/* a failed call changes nothing */
		r->enospc++;
		return;
	}
	if (mode & (FALLOC_FL_PUNCH_HOLE | FALLOC_FL_ZERO_RANGE)) {
		model_zero(r, off, len);
		model_unmap(r, off, len);
	}
	if (!(mode & FALLOC_FL_KEEP_SIZE) && off + len > r->size)
		r->size = off + len;
}

static void
op_collapse(struct run *r)
{
	uint64_t last = r->size == 0 ? 0 : (r->size - 1) / BLK;
	uint64_t b, n, off, len;

	if (last < 1) {
		op_write(r);
		return;
	}
	b = below(r, last);
	n = between(r, 1, last - b < 64 ? last - b : 64);
	off = b * BLK;
	len = n * BLK;
	note(r, "fallocate COLLAPSE_RANGE off=%llu len=%llu (size %llu)",
		(unsigned long long)off, (unsigned long long)len,
		(unsigned long long)r->size);
	if (daxfile_fallocate(r->f, FALLOC_FL_COLLAPSE_RANGE, (off_t)off,
		(off_t)len) != 0)
		fail(r, "collapse failed");
	memmove(r->buf + off, r->buf + off + len, r->size - off - len);
	memset(r->buf + r->size - len, 0, len);
	memmove(&r->data[b], &r->data[b + n],
		(MODEL_BLOCKS - b - n) * sizeof(r->data[0]));
	memset(&r->data[MODEL_BLOCKS - n], 0, n * sizeof(r->data[0]));
	r->size -= len;
}

static void
op_insert(struct run *r)
{
	uint64_t room = (MODEL_MAX - r->size) / BLK;
	uint64_t b, n, off, len;

	if (r->size == 0 || room == 0) {
		op_truncate(r);
		return;
	}
	b = below(r, (r->size - 1) / BLK + 1);
	n = between(r, 1, room < 64 ? room : 64);
	off = b * BLK;
	len = n * BLK;
	note(r, "fallocate INSERT_RANGE off=%llu len=%llu (size %llu)",
		(unsigned long long)off, (unsigned long long)len,
		(unsigned long long)r->size);
	if (daxfile_fallocate(r->f, FALLOC_FL_INSERT_RANGE, (off_t)off,
		(off_t)len) != 0)
		fail(r, "insert failed");
	memmove(r->buf + off + len, r->buf + off, r->size - off);
	memset(r->buf + off, 0, len);
	memmove(&r->data[b + n], &r->data[b],
		(MODEL_BLOCKS - b - n) * sizeof(r->data[0]));
	memset(&r->data[b], 0, n * sizeof(r->data[0]));
	r->size += len;
}

static void
op_seek(struct run *r)
{
	uint64_t off = rand_offset(r, 8192);
	bool data = below(r, 2) == 0;

	note(r, "lseek %s %llu (size %llu)", data ? "SEEK_DATA" : "SEEK_HOLE",
		(unsigned long long)off, (unsigned long long)r->size);
	check_seek(r, off, data);
}

static void
op_reopen_file(struct run *r)
{
	note(r, "close and reopen the file");
	if (daxfile_close(r->f) != 0)
		fail(r, "close failed");
	r->f = NULL;
	open_file(r, O_RDWR);
}

static void
op_reopen_pool(struct run *r)
{
	note(r, "close and reopen the pool");
	if (daxfile_close(r->f) != 0)
		fail(r, "close failed");
	r->f = NULL;
	if (daxfile_pool_close(r->tp.pool) != 0)
		fail(r, "pool close failed");
	r->tp.pool = daxfile_pool_open(r->tp.path);
	if (r->tp.pool == NULL)
		fail(r, "pool open failed");
	open_file(r, O_RDWR);
}

static void
step(struct run *r)
{
	unsigned k = (unsigned)below(r, 100);

	if (k < 28)
		op_write(r);
	else if (k < 40)
		op_read(r);
	else if (k < 46)
		op_truncate(r);
	else if (k < 51)
		op_falloc(r, 0);
	else if (k < 56)
		op_falloc(r, FALLOC_FL_KEEP_SIZE);
	else if (k < 63)
		op_falloc(r, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE);
	else if (k < 68)
		op_falloc(r, FALLOC_FL_ZERO_RANGE);
	else if (k < 73)
		op_falloc(r, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE);
	else if (k < 78)
		op_collapse(r);
	else if (k < 83)
		op_insert(r);
	else if (k < 98)
		op_seek(r);
	else
		op_reopen_file(r);
}

/* --- the smallest failing sequences ---------------------------------------- */

/*
 * The random runs reduce to the two cases below when they fail on the
 * contents of a hole or on SEEK_HOLE after the file grew; they stand alone
 * so that a failure names its cause.
 */

/* dirty_free_blocks -- leave most free blocks of the pool holding 0x66. */
static void
dirty_free_blocks(daxfile_pool *pool)
{
	daxfile_file *f = daxfile_open(pool, "/dirty", O_RDWR | O_CREAT | O_EXCL,
		0644);
	unsigned char *chunk = malloc(1 << 20);
	struct statvfs sv;
	uint64_t nbytes;

	cr_assert(f != NULL && chunk != NULL, "open /dirty: %s",
		daxfile_errormsg());
	memset(chunk, 0x66, 1 << 20);
	TEST_OK(daxfile_statvfs(pool, &sv));
	nbytes = (sv.f_bfree - 1024) * BLK & ~(uint64_t)((1 << 20) - 1);
	for (uint64_t off = 0; off < nbytes; off += 1 << 20)
		cr_assert_eq(daxfile_pwrite(f, chunk, 1 << 20, (off_t)off),
			1 << 20, "pwrite /dirty: %s", daxfile_errormsg());
	TEST_OK(daxfile_close(f));
	TEST_OK(daxfile_unlink(pool, "/dirty"));
	free(chunk);
}

Test(model, a_write_into_a_hole_before_eof_leaves_the_rest_of_the_hole_zero)
{
	struct test_pool tp;
	unsigned char *buf = malloc(1 << 20);
	daxfile_file *f;
	uint64_t bad = 0;

	cr_assert_not_null(buf);
	test_pool_create(&tp, "model-hole", TEST_POOL_SIZE);
	dirty_free_blocks(tp.pool);
	f = daxfile_open(tp.pool, "/f", O_RDWR | O_CREAT | O_EXCL, 0644);
	cr_assert_not_null(f, "open: %s", daxfile_errormsg());
	/* 1 MiB of hole, then one byte written at its start */
	TEST_OK(daxfile_ftruncate(f, 1 << 20));
	cr_assert_eq(daxfile_pwrite(f, "x", 1, 0), 1);
	cr_assert_eq(daxfile_pread(f, buf, 1 << 20, 0), 1 << 20);
	cr_assert_eq(buf[0], 'x');
	for (uint64_t i = 1; i < (1 << 20); i++) {
		if (buf[i] != 0) {
			bad = i;
			break;
		}
	}
	cr_assert_eq(bad, 0,
		"the hole after the written block reads %#x at offset %llu",
		buf[bad], (unsigned long long)bad);
	cr_assert_eq(daxfile_lseek(f, 0, SEEK_HOLE), (off_t)BLK);
	TEST_FAILS(daxfile_lseek(f, (off_t)BLK, SEEK_DATA), (off_t)-1, ENXIO);
	TEST_OK(daxfile_close(f));
	test_pool_destroy(&tp);
	free(buf);
}

Test(model, growing_a_file_without_writing_leaves_a_hole_for_seek_hole)
{
	struct test_pool tp;
	daxfile_file *f;
	char b[100];

	memset(b, 'w', sizeof(b));
	test_pool_create(&tp, "model-grow", TEST_POOL_SIZE);

	/* truncate up */
	f = daxfile_open(tp.pool, "/t", O_RDWR | O_CREAT | O_EXCL, 0644);
	cr_assert_not_null(f, "open: %s", daxfile_errormsg());
	cr_assert_eq(daxfile_pwrite(f, b, sizeof(b), 0), (ssize_t)sizeof(b));
	TEST_OK(daxfile_ftruncate(f, 65536));
	cr_assert_eq(daxfile_lseek(f, 0, SEEK_HOLE), (off_t)BLK,
		"after truncate up, SEEK_HOLE(0) is %lld",
		(long long)daxfile_lseek(f, 0, SEEK_HOLE));
	TEST_FAILS(daxfile_lseek(f, 8192, SEEK_DATA), (off_t)-1, ENXIO);
	TEST_OK(daxfile_close(f));

	/* a write past EOF */
	f = daxfile_open(tp.pool, "/w", O_RDWR | O_CREAT | O_EXCL, 0644);
	cr_assert_not_null(f, "open: %s", daxfile_errormsg());
	cr_assert_eq(daxfile_pwrite(f, b, sizeof(b), 0), (ssize_t)sizeof(b));
	cr_assert_eq(daxfile_pwrite(f, b, sizeof(b), 40000), (ssize_t)sizeof(b));
	cr_assert_eq(daxfile_lseek(f, 0, SEEK_HOLE), (off_t)BLK,
		"after a write past EOF, SEEK_HOLE(0) is %lld",
		(long long)daxfile_lseek(f, 0, SEEK_HOLE));
	cr_assert_eq(daxfile_lseek(f, (off_t)BLK, SEEK_DATA), 36864);
	TEST_OK(daxfile_close(f));

	/* fallocate growing the file */
	f = daxfile_open(tp.pool, "/a", O_RDWR | O_CREAT | O_EXCL, 0644);
	cr_assert_not_null(f, "open: %s", daxfile_errormsg());
	cr_assert_eq(daxfile_pwrite(f, b, sizeof(b), 0), (ssize_t)sizeof(b));
	TEST_OK(daxfile_fallocate(f, 0, 8192, 8192));
	TEST_FAILS(daxfile_lseek(f, (off_t)BLK, SEEK_DATA), (off_t)-1, ENXIO);
	TEST_OK(daxfile_close(f));
	test_pool_destroy(&tp);
}

/*
 * Space that speculative preallocation holds past EOF is not space the
 * files use: a pool whose data fits many times over does not run out
 * because many files are open for writing at once.
 */
Test(model, many_files_open_for_writing_do_not_run_out_of_space_on_preallocation)
{
	enum { NOPEN = 1000 };
	static daxfile_file *files[NOPEN];
	struct test_pool tp;
	struct statvfs empty, sv;
	char path[32], b[100];

	memset(b, 'p', sizeof(b));
	test_pool_create(&tp, "model-prealloc", TEST_POOL_SIZE);
	TEST_OK(daxfile_statvfs(tp.pool, &empty));
	cr_assert_gt(empty.f_bfree, 4 * NOPEN, "the pool is too small");
	for (unsigned i = 0; i < NOPEN; i++) {
		snprintf(path, sizeof(path), "/p%u", i);
		files[i] = daxfile_open(tp.pool, path, O_WRONLY | O_CREAT | O_EXCL,
			0644);
		cr_assert_not_null(files[i], "open %s: %s", path,
			daxfile_errormsg());
		TEST_OK(daxfile_statvfs(tp.pool, &sv));
		cr_assert_eq(daxfile_write(files[i], b, sizeof(b)),
			(ssize_t)sizeof(b),
			"write of %zu bytes to file %u of %d open ones: %s (%s), "
			"%lu of %lu blocks free before it, %u written",
			sizeof(b), i, NOPEN, strerror(errno), daxfile_errormsg(),
			(unsigned long)sv.f_bfree, (unsigned long)empty.f_bfree, i);
	}
	for (unsigned i = 0; i < NOPEN; i++)
		TEST_OK(daxfile_close(files[i]));
	TEST_OK(daxfile_statvfs(tp.pool, &sv));
	cr_assert_eq(sv.f_bfree, empty.f_bfree - NOPEN);
	test_pool_destroy(&tp);
}

/* --- the runs ----------------------------------------------------------- */

static unsigned
env_count(const char *name, unsigned def)
{
	const char *s = getenv(name);
	long v;

	if (s == NULL || *s == '\0')
		return def;
	v = strtol(s, NULL, 10);
	return v > 0 ? (unsigned)v : def;
}

static struct run *
run_new(void)
{
	struct run *r = calloc(1, sizeof(*r));

	cr_assert_not_null(r);
	r->buf = calloc(1, MODEL_MAX + BLK);
	r->wbuf = malloc(MODEL_MAX + BLK);
	r->rbuf = malloc(MODEL_MAX + 2 * BLK);
	cr_assert(r->buf != NULL && r->wbuf != NULL && r->rbuf != NULL);
	return r;
}

static void
run_reset(struct run *r, unsigned seed, bool tight)
{
	r->seed = seed;
	r->tight = tight;
	r->op = 0;
	r->rng = 0x5eed0000ULL + seed * 0x100000001b3ULL;
	memset(r->buf, 0, MODEL_MAX + BLK);
	memset(r->data, 0, sizeof(r->data));
	r->size = 0;
	r->nhist = 0;
	r->enospc = 0;
}

static void
run_free(struct run *r)
{
	free(r->buf);
	free(r->wbuf);
	free(r->rbuf);
	free(r);
}

/* run_ops -- the random operations on the open file of an open pool. */
static void
run_ops(struct run *r, unsigned nops)
{
	for (r->op = 0; r->op < nops; r->op++) {
		if (r->op % 200 == 199)
			op_reopen_pool(r);
		else
			step(r);
		check_size(r);
		if (r->op % 50 == 49)
			check_all(r);
	}
	note(r, "final check");
	check_all(r);
}

Test(model, random_operations_on_one_file_match_the_model, .timeout = 300)
{
	unsigned nseeds = env_count("DAXFILE_MODEL_SEEDS", 20);
	unsigned nops = env_count("DAXFILE_MODEL_OPS", 1500);
	unsigned first = env_count("DAXFILE_MODEL_FIRST_SEED", 1);
	struct run *r = run_new();

	for (unsigned seed = first; seed < first + nseeds; seed++) {
		run_reset(r, seed, false);
		test_pool_create(&r->tp, "model", TEST_POOL_SIZE);
		open_file(r, O_RDWR | O_CREAT | O_EXCL);
		run_ops(r, nops);
		cr_assert_eq(daxfile_close(r->f), 0, "close: %s",
			daxfile_errormsg());
		r->f = NULL;
		test_pool_destroy(&r->tp);
	}
	run_free(r);
}

/*
 * fill_pool -- a file that takes all but about 'left' free blocks, so that
 * the model file runs out of space.
 */
static void
fill_pool(struct run *r, uint64_t left)
{
	daxfile_file *f = daxfile_open(r->tp.pool, "/filler",
		O_RDWR | O_CREAT | O_EXCL, 0644);
	struct statvfs sv;
	uint64_t off = 0;

	cr_assert_not_null(f, "open /filler: %s", daxfile_errormsg());
	memset(r->wbuf, 0xf1, 256 * BLK);
	for (;;) {
		uint64_t n;

		TEST_OK(daxfile_statvfs(r->tp.pool, &sv));
		if (sv.f_bfree <= left + 256)
			break;
		n = (sv.f_bfree - left - 256 < 256 ? sv.f_bfree - left - 256 :
			256) * BLK;
		cr_assert_eq(daxfile_pwrite(f, r->wbuf, n, (off_t)off),
			(ssize_t)n, "filling: %s", daxfile_errormsg());
		off += n;
	}
	/* closed, the file gives back its speculative preallocation */
	TEST_OK(daxfile_close(f));
	f = daxfile_open(r->tp.pool, "/filler", O_RDWR);
	cr_assert_not_null(f, "open /filler: %s", daxfile_errormsg());
	TEST_OK(daxfile_statvfs(r->tp.pool, &sv));
	if (sv.f_bfree > left)
		TEST_OK(daxfile_fallocate(f, 0, (off_t)off,
			(off_t)((sv.f_bfree - left) * BLK)));
	TEST_OK(daxfile_close(f));
}

Test(model, random_operations_in_a_nearly_full_pool_match_the_model,
	.timeout = 300)
{
	unsigned nseeds = env_count("DAXFILE_MODEL_SEEDS", 20) / 2;
	unsigned nops = env_count("DAXFILE_MODEL_OPS", 1500);
	unsigned first = env_count("DAXFILE_MODEL_FIRST_SEED", 1);
	unsigned enospc = 0;
	struct run *r = run_new();

	if (nseeds < 3)
		nseeds = 3;
	for (unsigned seed = first; seed < first + nseeds; seed++) {
		struct statvfs empty, sv;

		run_reset(r, seed, true);
		test_pool_create(&r->tp, "model-tight", DAXFILE_MIN_POOL_SIZE);
		TEST_OK(daxfile_statvfs(r->tp.pool, &empty));
		fill_pool(r, 64 + below(r, 400));
		TEST_OK(daxfile_statvfs(r->tp.pool, &sv));
		cr_assert_lt(sv.f_bfree, 600, "the pool is not nearly full: %lu free",
			(unsigned long)sv.f_bfree);
		open_file(r, O_RDWR | O_CREAT | O_EXCL);
		run_ops(r, nops);
		enospc += r->enospc;
		cr_assert_eq(daxfile_close(r->f), 0, "close: %s",
			daxfile_errormsg());
		r->f = NULL;
		/* every block comes back once both files are gone */
		TEST_OK(daxfile_unlink(r->tp.pool, FILE_PATH));
		TEST_OK(daxfile_unlink(r->tp.pool, "/filler"));
		TEST_OK(daxfile_statvfs(r->tp.pool, &sv));
		cr_assert_eq(sv.f_bfree, empty.f_bfree,
			"seed %u: %lu blocks free after removing everything, %lu in the empty pool",
			seed, (unsigned long)sv.f_bfree,
			(unsigned long)empty.f_bfree);
		test_pool_destroy(&r->tp);
	}
	/* the point of this test: the library did run out of space */
	cr_assert_gt(enospc, 0, "no operation ran out of space");
	cr_log_info("%u operations ran out of space", enospc);
	run_free(r);
}
