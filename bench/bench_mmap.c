/*
 * bench_mmap.c -- mappings: the first touch of a mapped, fully written file
 * (faults served through userfaultfd, which install the file's contiguous
 * blocks from the faulting 2 MiB window on) and the passes after it, right away and after an
 * idle wait, beside a MAP_SHARED mapping of a tmpfs file; the same with the
 * pool on a tmpfs mounted huge=always (2 MiB pages), beside a file of that
 * tmpfs and a file of /dev/shm; the worst case,
 * a file whose every 4 KiB block is an extent of its own, beside a
 * contiguous file; and truncate / punch of a file with N live mappings and
 * E extents, beside the same calls on a tmpfs file with N mappings.
 *
 * Faults are counted as the touching thread's page faults (getrusage
 * RUSAGE_THREAD): a fault served by the library shows there once, when the
 * thread retries the access after the window is installed, and so do the
 * kernel's own faults on windows installed unpopulated.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bench.h"

#define PAGE	((uint64_t)4096)
#define WINDOW	((uint64_t)2 << 20)	/* what one fault installs */
#define CHUNK	((size_t)1 << 20)
#define MAX_MAPS 16

struct sizes {
	uint64_t pool;
	uint64_t touch;		/* the first-touch file */
	uint64_t frag;		/* the fragmented file */
	uint64_t tsize[2];	/* the truncate files */
	uint64_t extents[2];	/* their extent counts */
	int maps[4];		/* live mappings during truncate */
};

static const struct sizes full = {
	.pool = 2 * BENCH_GIB + BENCH_GIB / 2,
	.touch = BENCH_GIB,
	.frag = 64 * BENCH_MIB,
	.tsize = { 64 * BENCH_MIB, 512 * BENCH_MIB },
	.extents = { 1, 1024 },
	.maps = { 0, 1, 4, 16 },
};

static const struct sizes quick = {
	.pool = 256 * BENCH_MIB,
	.touch = 64 * BENCH_MIB,
	.frag = 8 * BENCH_MIB,
	.tsize = { 4 * BENCH_MIB, 16 * BENCH_MIB },
	.extents = { 1, 1024 },
	.maps = { 0, 1, 4, 16 },
};

struct run {
	struct bench *b;
	const struct sizes *sz;
	daxfile_pool *pool;
	char pool_path[PATH_MAX];
	char *chunk;
};

/* --- files and layouts ---------------------------------------------------- */

/*
 * dx_build -- a new file of 'size' bytes in 'extents' extents: equal
 * chunks written from the last to the first (each chunk ascending, in
 * 1 MiB writes), so that no chunk continues the one written before it.
 * One extent: plain sequential writes.
 */
static daxfile_file *
dx_build(struct run *r, const char *path, uint64_t size, uint64_t extents)
{
	daxfile_file *f = daxfile_open(r->pool, path, O_RDWR | O_CREAT | O_TRUNC,
		0644);
	uint64_t chunk = size / extents;

	if (f == NULL)
		bench_dx_die(path);
	for (uint64_t k = extents; k-- > 0;)
		for (uint64_t o = 0; o < chunk; o += CHUNK)
			bench_dx_write_all(f, r->chunk, (size_t)(chunk - o < CHUNK ?
				chunk - o : CHUNK), k * chunk + o);
	/* the last close of a writer trims preallocation: reopen clean */
	if (daxfile_close(f) != 0)
		bench_dx_die(path);
	f = daxfile_open(r->pool, path, O_RDWR);
	if (f == NULL)
		bench_dx_die(path);
	return f;
}

/* host_build -- a tmpfs file of 'size' written bytes. */
static int
host_build(struct run *r, const char *name, uint64_t size)
{
	int fd = bench_host_create(r->b, name);

	bench_host_fill(fd, r->chunk, CHUNK, size);
	return fd;
}

/* dx_map -- a MAP_SHARED read-write mapping of the whole file. */
static char *
dx_map(daxfile_file *f, uint64_t size)
{
	char *p = daxfile_mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED,
		f, 0);

	if (p == MAP_FAILED)
		bench_dx_die("daxfile_mmap");
	return p;
}

/* dx_unmap -- daxfile_munmap, dying on failure. */
static void
dx_unmap(char *p, uint64_t size)
{
	if (daxfile_munmap(p, size) != 0)
		bench_dx_die("daxfile_munmap");
}

/* host_map -- a MAP_SHARED read-write mapping of a host file from 'off'. */
static char *
host_map(int fd, uint64_t off, uint64_t size)
{
	char *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		(off_t)off);

	if (p == MAP_FAILED)
		bench_sys_die("mmap");
	return p;
}

/* touch -- one read per page; seconds.  *faults: the thread's faults. */
static double
touch(const char *p, uint64_t size, uint64_t *faults)
{
	uint64_t sink = 0, f0 = bench_thread_faults();
	double t = bench_now();

	for (uint64_t off = 0; off < size; off += PAGE)
		sink += *(const volatile unsigned char *)(p + off);
	t = bench_now() - t;
	if (faults != NULL)
		*faults = bench_thread_faults() - f0;
	bench_sink += sink;
	return t;
}

/* vma_count -- lines of /proc/self/maps. */
static long
vma_count(void)
{
	FILE *f = fopen("/proc/self/maps", "r");
	long n = 0;
	int c;

	if (f == NULL)
		return -1;
	while ((c = fgetc(f)) != EOF)
		n += c == '\n';
	fclose(f);
	return n;
}

/* --- first touch ---------------------------------------------------------- */

/* A side of a first-touch comparison: a file of the pool, or a host file. */
struct side {
	daxfile_file *f;	/* NULL for a host file */
	int fd;
	uint64_t off;		/* where the host file's bytes start */
};

/* The figures of one side over the repetitions. */
struct passes {
	struct bench_sample first, second, third, waited;	/* ms */
	struct bench_sample faults, per_fault;			/* pass 1 */
	struct bench_sample huge;				/* MiB */
};

static char *
side_map(const struct side *s, uint64_t size)
{
	return s->f != NULL ? dx_map(s->f, size) :
		host_map(s->fd, s->off, size);
}

static void
side_unmap(const struct side *s, char *m, uint64_t size)
{
	if (s->f != NULL)
		dx_unmap(m, size);
	else
		munmap(m, size);
}

/*
 * pmd_mapped -- MiB of [p, p+size) mapped with 2 MiB page table entries,
 * per /proc/self/smaps (ShmemPmdMapped, FilePmdMapped).
 */
static double
pmd_mapped(const char *p, uint64_t size)
{
	FILE *f = fopen("/proc/self/smaps", "r");
	uintptr_t lo = (uintptr_t)p, hi = lo + size;
	bool in = false;
	char line[512];
	uint64_t kib = 0;

	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL) {
		unsigned long a, e, k;

		if (sscanf(line, "%lx-%lx ", &a, &e) == 2 &&
		    line[strspn(line, "0123456789abcdef")] == '-')
			in = a < hi && e > lo;
		else if (in && (sscanf(line, "ShmemPmdMapped: %lu kB", &k) == 1 ||
		    sscanf(line, "FilePmdMapped: %lu kB", &k) == 1))
			kib += k;
	}
	fclose(f);
	return (double)kib / 1024;
}

/*
 * side_passes -- one repetition on one side: a fresh mapping, its first
 * pass (the faults), then passes 2 and 3; when 'wait' > 0 a second fresh
 * mapping, its first pass, 'wait' seconds idle, then its pass 2.
 */
static void
side_passes(const struct side *s, uint64_t size, double wait,
	struct passes *p)
{
	uint64_t faults;
	char *m = side_map(s, size);
	double t = touch(m, size, &faults);

	bench_add(&p->first, t * 1e3);
	bench_add(&p->faults, (double)faults);
	bench_add(&p->per_fault, t * 1e6 / (double)(faults ? faults : 1));
	bench_add(&p->second, touch(m, size, NULL) * 1e3);
	bench_add(&p->third, touch(m, size, NULL) * 1e3);
	bench_add(&p->huge, pmd_mapped(m, size));
	side_unmap(s, m, size);
	if (wait <= 0)
		return;
	m = side_map(s, size);
	touch(m, size, NULL);
	usleep((useconds_t)(wait * 1e6));
	bench_add(&p->waited, touch(m, size, NULL) * 1e3);
	side_unmap(s, m, size);
}

/*
 * The first-touch file's pages begin with a tag and their index, so that
 * the file's blocks can be found in the pool file and mapped plainly.
 */
#define TOUCH_TAG 0x68637554786164ULL	/* "daxTuch" */

/* touch_tag -- stamp the pages of 'buf' (bytes 'off'.. of the file). */
static void
touch_tag(char *buf, size_t len, uint64_t off)
{
	for (size_t k = 0; k < len; k += PAGE) {
		uint64_t tag[2] = { TOUCH_TAG, (off + k) / PAGE };

		memcpy(buf + k, tag, sizeof(tag));
	}
}

/*
 * touch_build -- the first-touch file of 'size' bytes, the same bytes in
 * the pool (written sequentially, one extent) and in a tmpfs file.
 */
static void
touch_build(struct run *r, uint64_t size, struct side *dx, struct side *host)
{
	daxfile_file *f = daxfile_open(r->pool, "/touch",
		O_RDWR | O_CREAT | O_TRUNC, 0644);
	int fd = bench_host_create(r->b, "touch");

	if (f == NULL)
		bench_dx_die("/touch");
	for (uint64_t o = 0; o < size; o += CHUNK) {
		size_t n = (size_t)(size - o < CHUNK ? size - o : CHUNK);

		touch_tag(r->chunk, n, o);
		bench_dx_write_all(f, r->chunk, n, o);
		bench_host_write_all(fd, r->chunk, n, o);
	}
	/* the last close of a writer trims preallocation: reopen clean */
	if (daxfile_close(f) != 0)
		bench_dx_die("/touch");
	f = daxfile_open(r->pool, "/touch", O_RDWR);
	if (f == NULL)
		bench_dx_die("/touch");
	*dx = (struct side){ f, -1, 0 };
	*host = (struct side){ NULL, fd, 0 };
}

/*
 * pool_pages -- the pool file's own pages under the first-touch file: a
 * side that maps the pool file from where the file's first page lies, if
 * its pages follow each other there; false otherwise.
 */
static bool
pool_pages(struct run *r, uint64_t size, struct side *s)
{
	int fd = open(r->pool_path, O_RDWR);
	struct stat st;
	char *p;
	uint64_t first = UINT64_MAX;

	if (fd < 0 || fstat(fd, &st) != 0)
		bench_sys_die(r->pool_path);
	p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED | MAP_POPULATE,
		fd, 0);
	if (p == MAP_FAILED)
		bench_sys_die("mmap of the pool file");
	for (uint64_t o = 0; o + size <= (uint64_t)st.st_size; o += PAGE) {
		const uint64_t *t = (const uint64_t *)(p + o);

		if (t[0] == TOUCH_TAG && t[1] == 0) {
			first = o;
			break;
		}
	}
	for (uint64_t k = 0; first != UINT64_MAX && k < size; k += PAGE) {
		const uint64_t *t = (const uint64_t *)(p + first + k);

		if (t[0] != TOUCH_TAG || t[1] != k / PAGE)
			first = UINT64_MAX;
	}
	munmap(p, (size_t)st.st_size);
	if (first == UINT64_MAX) {
		close(fd);
		return false;
	}
	*s = (struct side){ NULL, fd, first };
	return true;
}

/*
 * ascending -- the share of [p, p+size)'s pages whose physical page is the
 * one after the previous page's (/proc/self/pagemap; -1 without the
 * privilege to read page frame numbers).
 */
static double
ascending(const char *p, uint64_t size)
{
	int fd = open("/proc/self/pagemap", O_RDONLY);
	uint64_t prev = 0, next = 0, n = 0;

	if (fd < 0)
		return -1;
	for (uint64_t o = 0; o < size; o += PAGE) {
		uint64_t e, pfn;

		if (pread(fd, &e, sizeof(e), (off_t)((uintptr_t)(p + o) / PAGE *
		    sizeof(e))) != (ssize_t)sizeof(e))
			break;
		pfn = e & ((1ULL << 55) - 1);
		if (pfn == 0) {
			close(fd);
			return -1;
		}
		next += o != 0 && pfn == prev + 1;
		prev = pfn;
		n++;
	}
	close(fd);
	return n > 1 ? (double)next / (double)(n - 1) : -1;
}

/* side_ascending -- ascending() of a fresh mapping of s, every page read. */
static double
side_ascending(const struct side *s, uint64_t size)
{
	char *m = side_map(s, size);
	double a;

	touch(m, size, NULL);
	a = ascending(m, size);
	side_unmap(s, m, size);
	return a;
}

/*
 * bench_first_touch -- first, second and third pass over a mapped file,
 * and the second pass after an idle wait, beside a tmpfs mapping and a
 * plain mapping of the pool file's pages under the same file.
 */
static void
bench_first_touch(struct run *r)
{
	struct bench *b = r->b;
	uint64_t size = r->sz->touch;
	double wait = b->quick ? 0.5 : 2;
	struct passes d = {0}, h = {0}, p = {0};
	struct side dx, host, plain;
	bool have_plain;
	char title[200], hs[32], name[96];

	touch_build(r, size, &dx, &host);
	have_plain = pool_pages(r, size, &plain);
	for (int rep = 0; rep < b->reps; rep++) {
		side_passes(&dx, size, wait, &d);
		side_passes(&host, size, wait, &h);
		if (have_plain)
			side_passes(&plain, size, 0, &p);
	}
	snprintf(title, sizeof(title),
		"First touch of a mapped, fully written %s file (MAP_SHARED, one read per 4 KiB page, fresh mapping each repetition)",
		bench_human(size, hs, sizeof(hs)));
	bench_section(b, title);
	bench_report(b, "first pass (faults)", "ms", BENCH_LOWER, &d.first,
		"tmpfs first pass", &h.first, 0, NULL);
	bench_report(b, "second pass (pages installed)", "ms", BENCH_LOWER,
		&d.second, "tmpfs second pass", &h.second, 0.97, NULL);
	bench_report(b, "third pass", "ms", BENCH_LOWER, &d.third,
		"tmpfs third pass", &h.third, 0.97, NULL);
	snprintf(name, sizeof(name), "second pass after %.1f s idle", wait);
	bench_report(b, name, "ms", BENCH_LOWER, &d.waited,
		"tmpfs, same wait", &h.waited, 0.97, NULL);
	if (have_plain) {
		bench_report(b, "second pass, against the same pages mapped plainly",
			"ms", BENCH_LOWER, &d.second, "mmap of the pool file",
			&p.second, 0, NULL);
		bench_report(b, "third pass, against the same pages mapped plainly",
			"ms", BENCH_LOWER, &d.third, "mmap of the pool file",
			&p.third, 0, NULL);
		bench_report(b, "the same pages mapped plainly: second pass",
			"ms", BENCH_LOWER, &p.second, "tmpfs second pass",
			&h.second, 0, NULL);
	} else {
		bench_note(b, "the file's blocks are not contiguous in the pool file: no plain mapping of them");
	}
	bench_report(b, "page faults taken by the touching thread", "faults",
		BENCH_LOWER, &d.faults, "tmpfs faults", &h.faults, 0, NULL);
	bench_report(b, "cost per fault (first pass / faults)", "us",
		BENCH_LOWER, &d.per_fault, "tmpfs per fault", &h.per_fault, 0,
		NULL);
	bench_note(b, "a libdaxfile fault installs its 2 MiB window and the rest of the file's contiguous blocks (up to 1 GiB); the kernel then faults their pages in as for tmpfs (up to 16 pages per fault)");
	bench_note(b, "the passes after the first take no fault on either side and run no library code: a slower pass there means the page table entries or the pages differ; the plain mapping of the pool file has the pool's pages with the kernel's own page table entries");
	{
		double a[2] = { side_ascending(&dx, size),
			side_ascending(&host, size) };

		if (a[0] >= 0 && a[1] >= 0)
			bench_note(b, "pages whose physical page follows the previous page's: %.1f %% of the pool's under the file, %.1f %% of the tmpfs file's (a pass over pages out of physical order runs slower on this machine, whoever maps them)",
				100 * a[0], 100 * a[1]);
		else
			bench_note(b, "physical page order unknown (reading page frame numbers needs CAP_SYS_ADMIN)");
	}
	if (have_plain)
		close(plain.fd);
	bench_dx_remove(r->pool, dx.f, "/touch");
	bench_host_remove(r->b, host.fd, "touch");
}

/* --- huge pages: the pool on a tmpfs mounted huge=always ------------------- */

#define HUGE_DIR "huge"

/*
 * huge_mount -- mount a tmpfs with huge=always of 'bytes' at <work>/huge;
 * false (with the reason in 'why') when this process cannot.
 */
static bool
huge_mount(struct run *r, uint64_t bytes, char *why, size_t len)
{
	char dir[PATH_MAX], opts[64];

	bench_path(r->b, dir, HUGE_DIR);
	if (geteuid() != 0) {
		snprintf(why, len, "mounting a tmpfs needs root");
		return false;
	}
	if (mkdir(dir, 0755) != 0) {
		snprintf(why, len, "cannot make the mount point: %s",
			strerror(errno));
		return false;
	}
	snprintf(opts, sizeof(opts), "huge=always,size=%lum",
		(unsigned long)(bytes >> 20));
	if (mount("none", dir, "tmpfs", 0, opts) != 0) {
		snprintf(why, len, "mount -t tmpfs -o %s: %s", opts,
			strerror(errno));
		rmdir(dir);
		return false;
	}
	return true;
}

static void
huge_umount(struct run *r)
{
	char dir[PATH_MAX];

	bench_path(r->b, dir, HUGE_DIR);
	if (umount2(dir, MNT_DETACH) != 0)
		bench_sys_die(dir);
	rmdir(dir);
}

/*
 * bench_huge -- the pool on a tmpfs mounted huge=always: first touch and
 * second pass of a mapped file beside a file of the same tmpfs (the
 * kernel's own 2 MiB faults) and beside a file of /dev/shm.
 */
static void
bench_huge(struct run *r)
{
	struct bench *b = r->b;
	uint64_t size = r->sz->touch;
	uint64_t pool_size = size + size / 4 + 64 * BENCH_MIB;
	struct passes d = {0}, h = {0}, s = {0};
	struct side dx, huge, shm;
	struct run hr = *r;
	char title[200], hs[32], why[200];

	snprintf(title, sizeof(title),
		"The pool on a tmpfs mounted huge=always: first touch of a mapped, fully written %s file",
		bench_human(size, hs, sizeof(hs)));
	bench_section(b, title);
	if (!huge_mount(r, pool_size + size + 64 * BENCH_MIB, why,
		sizeof(why))) {
		bench_note(b, "skipped: %s", why);
		return;
	}
	hr.pool = bench_pool_create(b, HUGE_DIR "/mmap.pool", pool_size, NULL);
	dx = (struct side){ dx_build(&hr, "/touch", size, 1), -1, 0 };
	huge = (struct side){ NULL, host_build(r, HUGE_DIR "/touch", size), 0 };
	shm = (struct side){ NULL, host_build(r, "touch", size), 0 };
	for (int rep = 0; rep < b->reps; rep++) {
		side_passes(&dx, size, 0, &d);
		side_passes(&huge, size, 0, &h);
		side_passes(&shm, size, 0, &s);
	}
	bench_report(b, "first pass", "ms", BENCH_LOWER, &d.first,
		"same tmpfs file", &h.first, 0.9, NULL);
	bench_report(b, "second pass", "ms", BENCH_LOWER, &d.second,
		"same tmpfs file", &h.second, 0.9, NULL);
	bench_report(b, "first pass, against /dev/shm", "ms", BENCH_LOWER,
		&d.first, "/dev/shm file", &s.first, 0, NULL);
	bench_report(b, "second pass, against /dev/shm", "ms", BENCH_LOWER,
		&d.second, "/dev/shm file", &s.second, 0, NULL);
	bench_report(b, "page faults of the first pass", "faults",
		BENCH_LOWER, &d.faults, "same tmpfs file", &h.faults, 0, NULL);
	bench_note(b, "mapped with 2 MiB pages (smaps): libdaxfile %.0f MiB, same tmpfs file %.0f MiB, /dev/shm file %.0f MiB of %s",
		bench_median(&d.huge), bench_median(&h.huge),
		bench_median(&s.huge), hs);
	bench_dx_remove(hr.pool, dx.f, "/touch");
	bench_pool_close(hr.pool);
	bench_host_remove(b, huge.fd, HUGE_DIR "/touch");
	bench_host_remove(b, shm.fd, "touch");
	huge_umount(r);
}

/* --- the worst case: 4 KiB extents ---------------------------------------- */

/* bench_fragmented -- first touch of one-block extents vs one extent. */
static void
bench_fragmented(struct run *r)
{
	struct bench *b = r->b;
	uint64_t size = r->sz->frag;
	uint64_t nblocks = size / PAGE;
	struct bench_sample fw = {0}, cw = {0}, fp = {0}, cp = {0};
	struct bench_sample ff = {0}, cf = {0};
	daxfile_file *frag, *cont;
	char title[200], hs[32];
	long vmas0, vmas1 = 0;
	double t = bench_now();

	cont = dx_build(r, "/cont", size, 1);
	t = bench_now() - t;
	for (int rep = 0; rep < b->reps; rep++) {
		uint64_t n;
		double s;
		char *m;

		/* anew each time: the first touch moves its blocks together */
		frag = dx_build(r, "/frag", size, nblocks);
		m = dx_map(frag, size);

		vmas0 = vma_count();
		s = touch(m, size, &n);
		vmas1 = vma_count() - vmas0;
		bench_add(&fw, s * 1e6 / (double)(n ? n : 1));
		bench_add(&fp, s * 1e6 / (double)nblocks);
		bench_add(&ff, (double)n);
		dx_unmap(m, size);
		bench_dx_remove(r->pool, frag, "/frag");

		m = dx_map(cont, size);
		s = touch(m, size, &n);
		bench_add(&cw, s * 1e6 / (double)(n ? n : 1));
		bench_add(&cp, s * 1e6 / (double)nblocks);
		bench_add(&cf, (double)n);
		dx_unmap(m, size);
	}
	snprintf(title, sizeof(title),
		"Worst case: first touch of a %s file of %lu one-block extents (every block written alone, last to first)",
		bench_human(size, hs, sizeof(hs)), (unsigned long)nblocks);
	bench_section(b, title);
	bench_report(b, "cost per fault, fragmented", "us", BENCH_LOWER, &fw,
		"contiguous file", &cw, 0, NULL);
	bench_report(b, "first touch per page, fragmented", "us", BENCH_LOWER,
		&fp, "contiguous file", &cp, 0, NULL);
	bench_report(b, "page faults, fragmented", "faults", BENCH_LOWER, &ff,
		"contiguous file", &cf, 0, NULL);
	bench_note(b, "a fault moves its window's %lu scattered blocks to one run first (doc/design.md, fragmented windows) and maps it whole; %ld VMAs added by one first pass (run by run where the pool is too full: vm.max_map_count bounds them)",
		(unsigned long)(WINDOW / PAGE), vmas1);
	bench_note(b, "writing the contiguous file took %.1f s; the fragmented one is written anew before each repetition",
		t);
	bench_dx_remove(r->pool, cont, "/cont");
}

/* --- truncate and punch under live mappings ------------------------------- */

enum change { TRUNCATE, PUNCH };

/*
 * change_pass -- build the file, map it n times and touch every page of
 * every mapping, then time the change: ftruncate to half and back, or a
 * punch of the second half.  dx: libdaxfile with 'extents' extents, else
 * tmpfs.  Microseconds.
 */
static double
change_pass(struct run *r, bool dx, enum change c, uint64_t size,
	uint64_t extents, int n)
{
	char *m[MAX_MAPS];
	daxfile_file *f = NULL;
	int fd = -1, ret;
	double t;

	if (dx)
		f = dx_build(r, "/trunc", size, extents);
	else
		fd = host_build(r, "trunc", size);
	for (int i = 0; i < n; i++) {
		m[i] = dx ? dx_map(f, size) : host_map(fd, 0, size);
		touch(m[i], size, NULL);
	}
	t = bench_now();
	if (c == TRUNCATE && dx)
		ret = daxfile_ftruncate(f, (off_t)(size / 2)) ||
			daxfile_ftruncate(f, (off_t)size);
	else if (c == TRUNCATE)
		ret = ftruncate(fd, (off_t)(size / 2)) ||
			ftruncate(fd, (off_t)size);
	else if (dx)
		ret = daxfile_fallocate(f, FALLOC_FL_PUNCH_HOLE |
			FALLOC_FL_KEEP_SIZE, (off_t)(size / 2), (off_t)(size / 2));
	else
		ret = fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
			(off_t)(size / 2), (off_t)(size / 2));
	t = bench_now() - t;
	if (ret != 0) {
		if (dx)
			bench_dx_die(c == TRUNCATE ? "daxfile_ftruncate" :
				"daxfile_fallocate");
		bench_sys_die(c == TRUNCATE ? "ftruncate" : "fallocate");
	}
	for (int i = 0; i < n; i++) {
		if (dx)
			dx_unmap(m[i], size);
		else
			munmap(m[i], size);
	}
	if (dx)
		bench_dx_remove(r->pool, f, "/trunc");
	else
		bench_host_remove(r->b, fd, "trunc");
	return t * 1e6;
}

/* bench_changes -- truncate or punch under N mappings, E extents. */
static void
bench_changes(struct run *r, enum change c)
{
	struct bench *b = r->b;
	const struct sizes *sz = r->sz;
	char title[220], name[96], hs[32];

	snprintf(title, sizeof(title),
		"%s with N live mappings of the whole file (every page touched first), file of E extents",
		c == TRUNCATE ? "ftruncate to half the size and back" :
		"PUNCH_HOLE of the second half");
	bench_section(b, title);
	for (int s = 0; s < 2; s++) {
		uint64_t size = sz->tsize[s];

		for (int k = 0; k < 4; k++) {
			int n = sz->maps[k];
			struct bench_sample d[2] = {{{0}, 0}, {{0}, 0}};
			struct bench_sample h = {{0}, 0};

			for (int rep = 0; rep < b->reps; rep++) {
				for (int e = 0; e < 2; e++)
					bench_add(&d[e], change_pass(r, true, c,
						size, sz->extents[e], n));
				bench_add(&h, change_pass(r, false, c, size, 0,
					n));
			}
			for (int e = 0; e < 2; e++) {
				snprintf(name, sizeof(name), "%s %s  E=%lu  N=%d",
					c == TRUNCATE ? "truncate" : "punch",
					bench_human(size, hs, sizeof(hs)),
					(unsigned long)sz->extents[e], n);
				/* many extents: tmpfs speed is the goal */
				bench_report(b, name, "us", BENCH_LOWER, &d[e],
					"tmpfs same N", &h,
					sz->extents[e] >= 1024 ? 1.0 : 0,
					sz->extents[e] >= 1024 ? ">=1x tmpfs" :
					NULL);
			}
		}
	}
}

#define DX_BENCH_SPONGE_MAX (4 * BENCH_GIB)

/*
 * sponge_size -- the bytes the kernel's free lists hold in blocks of less
 * than 512 KiB (/proc/buddyinfo, orders 0 to 6), plus 64 MiB for the
 * per-CPU lists: what a large allocation takes first, scattered.
 */
static uint64_t
sponge_size(void)
{
	FILE *f = fopen("/proc/buddyinfo", "r");
	uint64_t pages = 0;
	char line[512];

	if (f == NULL)
		return 512 * BENCH_MIB;
	while (fgets(line, sizeof(line), f) != NULL) {
		char *p = strstr(line, "zone");
		unsigned long n;
		int used = 0;

		if (p == NULL || sscanf(p, "zone %*s%n", &used) != 0 ||
		    used == 0)
			continue;
		p += used;
		for (int order = 0; order <= 6 &&
		    sscanf(p, "%lu%n", &n, &used) == 1; order++, p += used)
			pages += (uint64_t)n << order;
	}
	fclose(f);
	/* whole MiB, at most 4 GiB */
	pages = (pages + 255) / 256 * 256;
	return DX_BENCH_SPONGE_MAX < pages * PAGE + 64 * BENCH_MIB ?
		DX_BENCH_SPONGE_MAX : pages * PAGE + 64 * BENCH_MIB;
}

int
main(int argc, char **argv)
{
	struct bench b;
	struct run r;
	FILE *f;
	char shmem[64] = "unknown", hs[32];
	uint64_t sponge_bytes;
	int sponge;

	bench_init(&b, argc, argv, "bench_mmap",
		"mappings: first touch, fragmented files, truncate and punch under live mappings, vs tmpfs mappings");
	r.b = &b;
	r.sz = b.quick ? &quick : &full;
	r.chunk = bench_buf(CHUNK, 9);
	f = fopen("/sys/kernel/mm/transparent_hugepage/shmem_enabled", "r");
	if (f != NULL) {
		if (fgets(shmem, sizeof(shmem), f) != NULL)
			shmem[strcspn(shmem, "\n")] = '\0';
		fclose(f);
	}
	bench_note(&b, "tmpfs huge pages (shmem_enabled): %s", shmem);
	/*
	 * A pass over pages out of physical order is slower, and the first
	 * large allocation takes the scattered free pages the kernel has;
	 * the sponge takes them before either side allocates anything, and
	 * stays allocated to the end.
	 */
	sponge_bytes = sponge_size();
	sponge = bench_host_create(&b, "sponge");
	if (posix_fallocate(sponge, 0, (off_t)sponge_bytes) != 0)
		bench_sys_die("fallocate of the sponge file");
	bench_note(&b, "a tmpfs file of %s (the free memory in blocks under 512 KiB, per /proc/buddyinfo) is allocated first and kept, so that the pool and the tmpfs files get pages of the same physical order (see bench/README.md)",
		bench_human(sponge_bytes, hs, sizeof(hs)));
	r.pool = bench_pool_create(&b, "mmap.pool", r.sz->pool, r.pool_path);

	bench_first_touch(&r);
	bench_huge(&r);
	bench_fragmented(&r);
	bench_changes(&r, TRUNCATE);
	bench_changes(&r, PUNCH);

	bench_pool_close(r.pool);
	bench_host_remove(&b, sponge, "sponge");
	bench_fini(&b);
	return 0;
}
