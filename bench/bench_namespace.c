/*
 * bench_namespace.c -- the namespace: create+close and unlink of files in
 * one directory, lookup (stat) of existing names in directories of 10,000
 * and 100,000 entries, each beside the same calls on a tmpfs directory
 * (openat/close/unlinkat/fstatat on /dev/shm, same names, same order);
 * stat, lstat, chmod and utimensat of existing files beside fstatat,
 * fchmodat and utimensat on tmpfs; stat, lstat and open+close through
 * symbolic links, and link+unlink of a second name, beside the same on
 * tmpfs; and
 * the cost of opening a pool that holds 100,000 extents, with every file
 * opened (extent maps load at open), beside opening an empty pool of the
 * same size.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bench.h"

#define NAME_LEN 48

struct sizes {
	uint64_t pool;		/* the namespace pool */
	size_t ncreate;		/* files created per repetition */
	size_t dir_small;	/* entries of the two lookup directories */
	size_t dir_large;
	size_t nlookup;		/* stats per repetition */
	uint64_t epool;		/* the pools of the open test */
	size_t efiles;		/* files of the extent pool */
	size_t eper;		/* extents per file */
};

static const struct sizes full = {
	.pool = BENCH_GIB + BENCH_GIB / 2,
	.ncreate = 10000,
	.dir_small = 10000,
	.dir_large = 100000,
	.nlookup = 100000,
	.epool = 768 * BENCH_MIB,
	.efiles = 1000,
	.eper = 100,
};

static const struct sizes quick = {
	.pool = 256 * BENCH_MIB,
	.ncreate = 2000,
	.dir_small = 1000,
	.dir_large = 10000,
	.nlookup = 20000,
	.epool = 128 * BENCH_MIB,
	.efiles = 100,
	.eper = 100,
};

struct run {
	struct bench *b;
	const struct sizes *sz;
	daxfile_pool *pool;
	int workfd;		/* the work directory, for the *at() calls */
	char *block;		/* 4 KiB of data */
};

/*
 * names -- n paths "/<dir>/f<index>" for indexes idx[i] (or i when idx is
 * NULL); the tmpfs side uses the same string without the leading '/',
 * relative to the work directory: two components on both sides.
 */
static char (*names(const char *dir, size_t n, const uint64_t *idx))[NAME_LEN]
{
	char (*v)[NAME_LEN] = malloc(n * NAME_LEN);

	if (v == NULL)
		bench_sys_die("names");
	for (size_t i = 0; i < n; i++)
		snprintf(v[i], NAME_LEN, "/%s/f%07lu", dir,
			(unsigned long)(idx ? idx[i] : i));
	return v;
}

/* dx_mkdir -- mkdir in the pool, dying on failure. */
static void
dx_mkdir(struct run *r, const char *path)
{
	if (daxfile_mkdir(r->pool, path, 0755) != 0)
		bench_dx_die(path);
}

/* --- create, unlink ------------------------------------------------------- */

/* create_pass -- create+close then unlink n files in a new directory. */
static void
create_pass(struct run *r, bool dx, char (*v)[NAME_LEN], size_t n,
	double *create_us, double *unlink_us)
{
	const char *dir = v[0];
	char d[NAME_LEN];
	double t;

	snprintf(d, sizeof(d), "%.*s", (int)(strchr(dir + 1, '/') - dir), dir);
	if (dx)
		dx_mkdir(r, d);
	else if (mkdirat(r->workfd, d + 1, 0755) != 0)
		bench_sys_die(d);

	t = bench_now();
	for (size_t i = 0; i < n; i++) {
		if (dx) {
			daxfile_file *f = daxfile_open(r->pool, v[i],
				O_WRONLY | O_CREAT | O_EXCL, 0644);

			if (f == NULL || daxfile_close(f) != 0)
				bench_dx_die(v[i]);
		} else {
			int fd = openat(r->workfd, v[i] + 1,
				O_WRONLY | O_CREAT | O_EXCL, 0644);

			if (fd < 0 || close(fd) != 0)
				bench_sys_die(v[i]);
		}
	}
	*create_us = (bench_now() - t) / (double)n * 1e6;

	t = bench_now();
	for (size_t i = 0; i < n; i++) {
		if (dx ? daxfile_unlink(r->pool, v[i]) != 0 :
		    unlinkat(r->workfd, v[i] + 1, 0) != 0) {
			if (dx)
				bench_dx_die(v[i]);
			bench_sys_die(v[i]);
		}
	}
	*unlink_us = (bench_now() - t) / (double)n * 1e6;

	if (dx ? daxfile_rmdir(r->pool, d) != 0 :
	    unlinkat(r->workfd, d + 1, AT_REMOVEDIR) != 0)
		bench_die("cannot remove %s", d);
}

/* bench_create -- create+close and unlink in one directory. */
static void
bench_create(struct run *r)
{
	struct bench *b = r->b;
	size_t n = r->sz->ncreate;
	struct bench_sample dc = {0}, hc = {0}, du = {0}, hu = {0};
	char title[160];

	for (int rep = 0; rep < b->reps; rep++) {
		char dir[16];
		char (*v)[NAME_LEN];
		double c, u;

		snprintf(dir, sizeof(dir), "c%d", rep);
		v = names(dir, n, NULL);
		create_pass(r, true, v, n, &c, &u);
		bench_add(&dc, c);
		bench_add(&du, u);
		create_pass(r, false, v, n, &c, &u);
		bench_add(&hc, c);
		bench_add(&hu, u);
		free(v);
	}
	snprintf(title, sizeof(title),
		"Create and remove %zu files in one new directory", n);
	bench_section(b, title);
	bench_report(b, "open(O_CREAT|O_EXCL) + close", "us/op", BENCH_LOWER,
		&dc, "tmpfs openat+close", &hc, 0, NULL);
	bench_report(b, "unlink", "us/op", BENCH_LOWER, &du, "tmpfs unlinkat",
		&hu, 0, NULL);
}

/* --- lookup --------------------------------------------------------------- */

/* populate -- a directory 'dir' of n empty files on both sides. */
static void
populate(struct run *r, const char *dir, size_t n)
{
	char (*v)[NAME_LEN] = names(dir, n, NULL);
	char d[NAME_LEN];

	snprintf(d, sizeof(d), "/%s", dir);
	dx_mkdir(r, d);
	if (mkdirat(r->workfd, dir, 0755) != 0)
		bench_sys_die(dir);
	for (size_t i = 0; i < n; i++) {
		daxfile_file *f = daxfile_open(r->pool, v[i],
			O_WRONLY | O_CREAT | O_EXCL, 0644);
		int fd = openat(r->workfd, v[i] + 1, O_WRONLY | O_CREAT | O_EXCL,
			0644);

		if (f == NULL || daxfile_close(f) != 0)
			bench_dx_die(v[i]);
		if (fd < 0 || close(fd) != 0)
			bench_sys_die(v[i]);
	}
	free(v);
}

/* lookup_pass -- stat every name of v; us per stat. */
static double
lookup_pass(struct run *r, bool dx, char (*v)[NAME_LEN], size_t n)
{
	struct stat st;
	uint64_t sink = 0;
	double t = bench_now();

	for (size_t i = 0; i < n; i++) {
		if (dx ? daxfile_stat(r->pool, v[i], &st) != 0 :
		    fstatat(r->workfd, v[i] + 1, &st, 0) != 0) {
			if (dx)
				bench_dx_die(v[i]);
			bench_sys_die(v[i]);
		}
		sink += (uint64_t)st.st_ino;
	}
	t = bench_now() - t;
	bench_sink += sink;
	return t / (double)n * 1e6;
}

/* bench_lookup -- stat of existing names in two directory sizes. */
static void
bench_lookup(struct run *r)
{
	struct bench *b = r->b;
	size_t sizes[2] = { r->sz->dir_small, r->sz->dir_large };
	size_t n = r->sz->nlookup;
	struct bench_sample d[2], h[2];
	char (*v[2])[NAME_LEN];
	char title[160], name[80];
	double t = bench_now();

	memset(d, 0, sizeof(d));
	memset(h, 0, sizeof(h));
	for (int k = 0; k < 2; k++) {
		char dir[16];
		uint64_t *idx = bench_offsets(n, sizes[k], 1, 11 + (uint64_t)k);

		snprintf(dir, sizeof(dir), "l%zu", sizes[k]);
		populate(r, dir, sizes[k]);
		v[k] = names(dir, n, idx);
		free(idx);
	}
	t = bench_now() - t;
	for (int rep = 0; rep < b->reps; rep++) {
		for (int k = 0; k < 2; k++) {
			bench_add(&d[k], lookup_pass(r, true, v[k], n));
			bench_add(&h[k], lookup_pass(r, false, v[k], n));
		}
	}
	snprintf(title, sizeof(title),
		"Lookup: stat of existing names, random order (%zu per repetition)",
		n);
	bench_section(b, title);
	for (int k = 0; k < 2; k++) {
		snprintf(name, sizeof(name), "stat in a directory of %zu entries",
			sizes[k]);
		bench_report(b, name, "us/op", BENCH_LOWER, &d[k], "tmpfs fstatat",
			&h[k], 0, NULL);
	}
	bench_note(b, "lookup cost, %zu vs %zu entries: libdaxfile %.2fx, tmpfs %.2fx (1.00x = independent of the directory size)",
		sizes[1], sizes[0], bench_median(&d[1]) / bench_median(&d[0]),
		bench_median(&h[1]) / bench_median(&h[0]));
	bench_note(b, "both sides resolve two components: \"/lN/fI\" in the pool, \"lN/fI\" under the work directory's descriptor");
	bench_note(b, "populating both directories on both sides took %.1f s", t);
	free(v[0]);
	free(v[1]);
}

/* --- attributes ------------------------------------------------------------ */

enum attr_call { A_STAT, A_LSTAT, A_CHMOD, A_UTIMES, A_NCALLS };

/* attr_pass -- one attribute call on every name of v; us per call. */
static double
attr_pass(struct run *r, bool dx, enum attr_call c, char (*v)[NAME_LEN],
	size_t n)
{
	struct timespec times[2] = {{1000000000, 0}, {1000000000, 0}};
	struct stat st;
	uint64_t sink = 0;
	double t = bench_now();

	for (size_t i = 0; i < n; i++) {
		const char *p = v[i] + (dx ? 0 : 1);
		mode_t mode = (i & 1) ? 0600 : 0644;
		int ret;

		times[1].tv_nsec = (long)i;
		switch (c) {
		case A_STAT:
			ret = dx ? daxfile_stat(r->pool, p, &st) :
				fstatat(r->workfd, p, &st, 0);
			sink += (uint64_t)st.st_ino;
			break;
		case A_LSTAT:
			ret = dx ? daxfile_lstat(r->pool, p, &st) :
				fstatat(r->workfd, p, &st, AT_SYMLINK_NOFOLLOW);
			sink += (uint64_t)st.st_ino;
			break;
		case A_CHMOD:
			ret = dx ? daxfile_chmod(r->pool, p, mode) :
				fchmodat(r->workfd, p, mode, 0);
			break;
		default:
			ret = dx ? daxfile_utimensat(r->pool, NULL, p, times, 0) :
				utimensat(r->workfd, p, times, 0);
			break;
		}
		if (ret != 0) {
			if (dx)
				bench_dx_die(v[i]);
			bench_sys_die(v[i]);
		}
	}
	t = bench_now() - t;
	bench_sink += sink;
	return t / (double)n * 1e6;
}

/*
 * bench_attrs -- stat, lstat, chmod and utimensat of existing files of a
 * directory of dir_small entries, random order; each a permission check
 * (owner, or search of every directory) against the caller's credentials.
 */
static void
bench_attrs(struct run *r)
{
	static const char *const what[A_NCALLS] = {"stat", "lstat", "chmod",
		"utimensat (explicit times)"};
	static const char *const base[A_NCALLS] = {"tmpfs fstatat",
		"tmpfs fstatat NOFOLLOW", "tmpfs fchmodat", "tmpfs utimensat"};
	struct bench *b = r->b;
	size_t n = r->sz->nlookup, size = r->sz->dir_small;
	struct bench_sample d[A_NCALLS], h[A_NCALLS];
	uint64_t *idx = bench_offsets(n, size, 1, 21);
	char (*v)[NAME_LEN];
	char title[160];

	memset(d, 0, sizeof(d));
	memset(h, 0, sizeof(h));
	populate(r, "attr", size);
	v = names("attr", n, idx);
	free(idx);
	for (int rep = 0; rep < b->reps; rep++)
		for (int c = 0; c < A_NCALLS; c++) {
			bench_add(&d[c], attr_pass(r, true, c, v, n));
			bench_add(&h[c], attr_pass(r, false, c, v, n));
		}
	snprintf(title, sizeof(title),
		"Attributes: calls on existing names of a directory of %zu entries, random order (%zu per repetition)",
		size, n);
	bench_section(b, title);
	for (int c = 0; c < A_NCALLS; c++)
		bench_report(b, what[c], "us/op", BENCH_LOWER, &d[c], base[c],
			&h[c], 0, NULL);
	bench_note(b, "chmod and utimensat are one transaction each in the pool; every call checks the caller's credentials (directories 0755: search needs no credential; the owner check reads the fsuid)");
	free(v);
}

/* --- links ------------------------------------------------------------------ */

enum link_call { L_STAT, L_LSTAT, L_OPEN, L_LINK, L_NCALLS };

/* link_one -- one call of kind c on a link (for L_LINK: on its file). */
static int
link_one(struct run *r, bool dx, enum link_call c, const char *link,
	const char *file, const char *name2, uint64_t *sink)
{
	struct stat st;
	daxfile_file *f;
	int fd;

	switch (c) {
	case L_STAT:
	case L_LSTAT:
		if ((dx ? (c == L_STAT ? daxfile_stat(r->pool, link, &st) :
		    daxfile_lstat(r->pool, link, &st)) :
		    fstatat(r->workfd, link + 1, &st,
		    c == L_STAT ? 0 : AT_SYMLINK_NOFOLLOW)) != 0)
			return -1;
		*sink += (uint64_t)st.st_ino;
		return 0;
	case L_OPEN:
		if (dx) {
			f = daxfile_open(r->pool, link, O_RDONLY);
			return f == NULL ? -1 : daxfile_close(f);
		}
		fd = openat(r->workfd, link + 1, O_RDONLY);
		return fd < 0 ? -1 : close(fd);
	default:
		if (dx)
			return daxfile_link(r->pool, file, name2) != 0 ? -1 :
				daxfile_unlink(r->pool, name2);
		return linkat(r->workfd, file + 1, r->workfd, name2 + 1, 0) != 0 ?
			-1 : unlinkat(r->workfd, name2 + 1, 0);
	}
}

/* link_pass -- call c on every link of lv (files fv); us per call. */
static double
link_pass(struct run *r, bool dx, enum link_call c, char (*lv)[NAME_LEN],
	char (*fv)[NAME_LEN], size_t n)
{
	uint64_t sink = 0;
	double t = bench_now();

	for (size_t i = 0; i < n; i++)
		if (link_one(r, dx, c, lv[i], fv[i], "/hard/second", &sink) != 0) {
			if (dx)
				bench_dx_die(lv[i]);
			bench_sys_die(lv[i]);
		}
	t = bench_now() - t;
	bench_sink += sink;
	return t / (double)n * 1e6;
}

/*
 * bench_links -- a directory of dir_small links "/lnk/fI" to "../attr/fI"
 * (made by bench_attrs): stat and open through them, lstat of them, and a
 * second name made and removed for each file, in random order.
 */
static void
bench_links(struct run *r)
{
	static const char *const what[L_NCALLS] = {"stat through a link",
		"lstat of a link", "open+close through a link",
		"link + unlink of a second name"};
	static const char *const base[L_NCALLS] = {"tmpfs fstatat",
		"tmpfs fstatat NOFOLLOW", "tmpfs openat+close",
		"tmpfs linkat+unlinkat"};
	struct bench *b = r->b;
	size_t n = r->sz->nlookup, size = r->sz->dir_small;
	struct bench_sample d[L_NCALLS], h[L_NCALLS];
	uint64_t *idx = bench_offsets(n, size, 1, 31);
	char (*lv)[NAME_LEN], (*fv)[NAME_LEN], (*all)[NAME_LEN];
	char title[160], target[NAME_LEN];

	memset(d, 0, sizeof(d));
	memset(h, 0, sizeof(h));
	dx_mkdir(r, "/lnk");
	dx_mkdir(r, "/hard");
	if (mkdirat(r->workfd, "lnk", 0755) != 0 ||
	    mkdirat(r->workfd, "hard", 0755) != 0)
		bench_sys_die("lnk");
	all = names("lnk", size, NULL);
	for (size_t i = 0; i < size; i++) {
		snprintf(target, sizeof(target), "../attr/f%07zu", i);
		if (daxfile_symlink(r->pool, target, all[i]) != 0)
			bench_dx_die(all[i]);
		if (symlinkat(target, r->workfd, all[i] + 1) != 0)
			bench_sys_die(all[i]);
	}
	free(all);
	lv = names("lnk", n, idx);
	fv = names("attr", n, idx);
	free(idx);
	for (int rep = 0; rep < b->reps; rep++)
		for (int c = 0; c < L_NCALLS; c++) {
			bench_add(&d[c], link_pass(r, true, c, lv, fv, n));
			bench_add(&h[c], link_pass(r, false, c, lv, fv, n));
		}
	snprintf(title, sizeof(title),
		"Links: %zu symbolic links to the files of a directory of as many, random order (%zu per repetition)",
		size, n);
	bench_section(b, title);
	for (int c = 0; c < L_NCALLS; c++)
		bench_report(b, what[c], "us/op", BENCH_LOWER, &d[c], base[c],
			&h[c], 0, NULL);
	bench_note(b, "a link's target (\"../attr/fI\") is kept in its inode; following it walks two more components; link and unlink are one transaction each");
	free(lv);
	free(fv);
}

/* --- pool open with many extents ------------------------------------------ */

/*
 * build_extent_pool -- 'files' files of 'per' one-block extents each: every
 * other block written, in descending order, so that no write extends the
 * one before it (an append would be preallocated and merged).
 */
static void
build_extent_pool(struct run *r, const char *path, size_t files, size_t per,
	bool data)
{
	daxfile_pool *pool = daxfile_pool_open(path);

	if (pool == NULL)
		bench_dx_die(path);
	if (daxfile_mkdir(pool, "/e", 0755) != 0)
		bench_dx_die("/e");
	for (size_t i = 0; i < files; i++) {
		char name[NAME_LEN];
		daxfile_file *f;

		snprintf(name, sizeof(name), "/e/f%05zu", i);
		f = daxfile_open(pool, name, O_WRONLY | O_CREAT | O_EXCL, 0644);
		if (f == NULL)
			bench_dx_die(name);
		for (size_t k = per; data && k-- > 0;)
			bench_dx_write_all(f, r->block, BENCH_BLOCK,
				(uint64_t)(2 * k) * BENCH_BLOCK);
		if (daxfile_close(f) != 0)
			bench_dx_die(name);
	}
	bench_pool_close(pool);
}

/*
 * open_pass -- open the pool, then every file, OPENS_PER_REP times (all
 * closed between, untimed); ms per open.
 */
#define OPENS_PER_REP 5

static double
open_pass(const char *path, size_t files)
{
	daxfile_file **f = malloc((files ? files : 1) * sizeof(*f));
	double total = 0;

	if (f == NULL)
		bench_sys_die("files");
	for (int k = 0; k < OPENS_PER_REP; k++) {
		daxfile_pool *pool;
		double t = bench_now();

		pool = daxfile_pool_open(path);
		if (pool == NULL)
			bench_dx_die(path);
		for (size_t i = 0; i < files; i++) {
			char name[NAME_LEN];

			snprintf(name, sizeof(name), "/e/f%05zu", i);
			f[i] = daxfile_open(pool, name, O_RDONLY);
			if (f[i] == NULL)
				bench_dx_die(name);
		}
		total += bench_now() - t;
		for (size_t i = 0; i < files; i++)
			if (daxfile_close(f[i]) != 0)
				bench_dx_die("daxfile_close");
		bench_pool_close(pool);
	}
	free(f);
	return total / OPENS_PER_REP * 1e3;
}

/* bench_open -- pool open with 100,000 extents vs empty pools. */
static void
bench_open(struct run *r)
{
	struct bench *b = r->b;
	size_t files = r->sz->efiles, per = r->sz->eper;
	struct bench_sample full_s = {0}, nodata = {0}, empty = {0};
	char px[PATH_MAX], pz[PATH_MAX], pe[PATH_MAX];
	char title[200], name[80], hs[32];
	double t = bench_now(), tc, per_extent, per_file;

	bench_pool_close(bench_pool_create(b, "extents.pool", r->sz->epool, px));
	bench_pool_close(bench_pool_create(b, "files.pool", r->sz->epool, pz));
	bench_pool_close(bench_pool_create(b, "empty.pool", r->sz->epool, pe));
	tc = bench_now() - t;
	t = bench_now();
	build_extent_pool(r, px, files, per, true);
	build_extent_pool(r, pz, files, per, false);
	t = bench_now() - t;

	for (int rep = 0; rep < b->reps; rep++) {
		bench_add(&full_s, open_pass(px, files));
		bench_add(&nodata, open_pass(pz, files));
		bench_add(&empty, open_pass(pe, 0));
	}
	snprintf(title, sizeof(title),
		"Pool open: daxfile_pool_open + daxfile_open of every file (%s pools)",
		bench_human(r->sz->epool, hs, sizeof(hs)));
	bench_section(b, title);
	snprintf(name, sizeof(name), "%zu files x %zu extents (%zu extents)",
		files, per, files * per);
	bench_report(b, name, "ms", BENCH_LOWER, &full_s, "empty pool", &empty,
		0, NULL);
	snprintf(name, sizeof(name), "%zu files, no extents", files);
	bench_report(b, name, "ms", BENCH_LOWER, &nodata, "empty pool", &empty,
		0, NULL);
	per_extent = (bench_median(&full_s) - bench_median(&nodata)) * 1e6 /
		(double)(files * per);
	per_file = (bench_median(&nodata) - bench_median(&empty)) * 1e3 /
		(double)files;
	if (per_extent > 0 && per_file > 0)
		bench_note(b, "extent maps: %.0f ns per extent loaded; %.1f us per file opened (differences of the medians)",
			per_extent, per_file);
	else
		bench_note(b, "per-extent and per-file costs are within the noise of this run");
	bench_note(b, "each repetition is the mean of %d opens", OPENS_PER_REP);
	bench_note(b, "extents made by writing every other 4 KiB block in descending order (no write extends the previous one)");
	bench_note(b, "creating the three pools took %.1f s, filling two of them %.1f s",
		tc, t);
}

int
main(int argc, char **argv)
{
	struct bench b;
	struct run r;

	bench_init(&b, argc, argv, "bench_namespace",
		"the namespace: create, unlink, lookup, attribute and link calls vs tmpfs; pool open with many extents");
	r.b = &b;
	r.sz = b.quick ? &quick : &full;
	r.block = bench_buf(BENCH_BLOCK, 5);
	r.workfd = open(b.work, O_RDONLY | O_DIRECTORY);
	if (r.workfd < 0)
		bench_sys_die(b.work);
	r.pool = bench_pool_create(&b, "namespace.pool", r.sz->pool, NULL);

	bench_create(&r);
	bench_lookup(&r);
	bench_attrs(&r);
	bench_links(&r);
	bench_pool_close(r.pool);
	bench_open(&r);

	close(r.workfd);
	bench_fini(&b);
	return 0;
}
