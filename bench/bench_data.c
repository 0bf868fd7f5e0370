/*
 * bench_data.c -- the data path: 4 KiB random pread/pwrite, 1 MiB
 * sequential transfers, 4 KiB appends that allocate, hole punching and
 * truncation, and two writers on two files, each beside the same work on a
 * tmpfs file (pread/pwrite/fallocate/ftruncate on /dev/shm) and, for the
 * copies, beside raw libpmem copies into a mapped /dev/shm file.
 *
 * The raw baseline maps a /dev/shm file of the same size as the test file
 * (MAP_SHARED, populated) and copies with pmem_memcpy_persist (writes) or
 * memcpy (reads): the cost of the bytes alone, without any file system.
 * The three sides of a copy row take turns in running first (side_order).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <libpmem.h>
#include <linux/falloc.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "bench.h"

#define SMALL	((size_t)4096)
#define CHUNK	((size_t)1 << 20)

/* The sizes of one run. */
struct sizes {
	uint64_t pool;		/* the pool */
	uint64_t file;		/* file of the random, sequential, punch tests */
	size_t nrand;		/* 4 KiB ops per repetition */
	uint64_t seq;		/* bytes moved per sequential repetition */
	uint64_t append;	/* bytes appended per repetition */
	uint64_t tfile;		/* file of each thread (overwrites) */
	size_t tops;		/* 4 KiB overwrites per thread */
	uint64_t tappend;	/* bytes appended by each thread */
};

static const struct sizes full = {
	.pool = BENCH_GIB,
	.file = 256 * BENCH_MIB,
	.nrand = 100000,
	.seq = BENCH_GIB,
	.append = 64 * BENCH_MIB,
	.tfile = 64 * BENCH_MIB,
	.tops = 400000,
	.tappend = 64 * BENCH_MIB,
};

static const struct sizes quick = {
	.pool = 256 * BENCH_MIB,
	.file = 32 * BENCH_MIB,
	.nrand = 40000,
	.seq = 256 * BENCH_MIB,
	.append = 8 * BENCH_MIB,
	.tfile = 16 * BENCH_MIB,
	.tops = 100000,
	.tappend = 16 * BENCH_MIB,
};

struct run {
	struct bench *b;
	const struct sizes *sz;
	daxfile_pool *pool;
	char *chunk;		/* CHUNK bytes of data */
	char *small;		/* SMALL bytes to write */
	char *rbuf;		/* CHUNK bytes to read into */
};

/* --- files ---------------------------------------------------------------- */

/* dx_create -- a new, empty file of the pool, open read-write. */
static daxfile_file *
dx_create(struct run *r, const char *path)
{
	daxfile_file *f = daxfile_open(r->pool, path, O_RDWR | O_CREAT | O_TRUNC,
		0644);

	if (f == NULL)
		bench_dx_die(path);
	return f;
}

/* raw_fill -- the raw side's data into 'p', as the files get it. */
static void
raw_fill(struct run *r, char *p, uint64_t size)
{
	for (uint64_t off = 0; off < size; off += CHUNK)
		pmem_memcpy_persist(p + off, r->chunk, CHUNK);
}

/* raw_map -- a populated MAP_SHARED mapping of a new /dev/shm file. */
static char *
raw_map(struct run *r, const char *name, uint64_t size, int *fdp)
{
	int fd = bench_host_create(r->b, name);
	char *p;

	if (ftruncate(fd, (off_t)size) != 0)
		bench_sys_die("ftruncate");
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE,
		fd, 0);
	if (p == MAP_FAILED)
		bench_sys_die("mmap");
	raw_fill(r, p, size);
	*fdp = fd;
	return p;
}

/*
 * same_map -- the raw side of the copies: the file's own blocks through
 * daxfile_mmap, every page stored to once first (no repetition takes a
 * fault).  The calls and the raw copies then move the same memory: two
 * files of /dev/shm got different physical pages, and 1 MiB copies from
 * one or the other differed by up to 1.4x from one run to the next.
 */
static char *
same_map(struct run *r, daxfile_file *f, uint64_t size)
{
	char *p = daxfile_mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED,
		f, 0);

	if (p == MAP_FAILED)
		bench_dx_die("daxfile_mmap");
	raw_fill(r, p, size);
	return p;
}

/* --- 4 KiB random I/O and 1 MiB sequential I/O ---------------------------- */

enum side { DX, HOST, RAW };

/*
 * side_order -- the side that runs i-th in repetition 'rep': the order
 * turns with each repetition, so that no side always runs first (on cold
 * caches) or right after the same neighbour; the median sees each side
 * in every position.
 */
static enum side
side_order(int rep, int i)
{
	return (enum side)((rep + i) % 3);
}

/* rand_pass -- one repetition of random 4 KiB reads or writes; seconds. */
static double
rand_pass(enum side s, bool write, daxfile_file *f, int fd, char *map,
	const uint64_t *off, size_t n, char *rbuf, const char *wbuf)
{
	uint64_t sink = 0;
	double t = bench_now();

	for (size_t i = 0; i < n; i++) {
		ssize_t k = (ssize_t)SMALL;

		switch (s) {
		case DX:
			k = write ? daxfile_pwrite(f, wbuf, SMALL, (off_t)off[i]) :
				daxfile_pread(f, rbuf, SMALL, (off_t)off[i]);
			break;
		case HOST:
			k = write ? pwrite(fd, wbuf, SMALL, (off_t)off[i]) :
				pread(fd, rbuf, SMALL, (off_t)off[i]);
			break;
		case RAW:
			if (write)
				pmem_memcpy_persist(map + off[i], wbuf, SMALL);
			else
				memcpy(rbuf, map + off[i], SMALL);
			break;
		}
		if (k != (ssize_t)SMALL)
			bench_die("4 KiB %s returned %zd", write ? "write" : "read", k);
		sink += (unsigned char)rbuf[i & (SMALL - 1)];
	}
	t = bench_now() - t;
	bench_sink += sink;
	return t;
}

/*
 * seq_pass -- one repetition of 1 MiB transfers over the file, 'passes'
 * times over (so that a repetition lasts long enough to shrug off a
 * preemption); GB/s.
 */
static double
seq_pass(enum side s, bool write, daxfile_file *f, int fd, char *map,
	uint64_t size, int passes, char *rbuf, const char *wbuf)
{
	uint64_t sink = 0;
	double t = bench_now();

	for (uint64_t i = 0; i < (uint64_t)passes * size; i += CHUNK) {
		uint64_t off = i % size;
		ssize_t k = (ssize_t)CHUNK;

		switch (s) {
		case DX:
			k = write ? daxfile_pwrite(f, wbuf, CHUNK, (off_t)off) :
				daxfile_pread(f, rbuf, CHUNK, (off_t)off);
			break;
		case HOST:
			k = write ? pwrite(fd, wbuf, CHUNK, (off_t)off) :
				pread(fd, rbuf, CHUNK, (off_t)off);
			break;
		case RAW:
			if (write)
				pmem_memcpy_persist(map + off, wbuf, CHUNK);
			else
				memcpy(rbuf, map + off, CHUNK);
			break;
		}
		if (k != (ssize_t)CHUNK)
			bench_die("1 MiB %s returned %zd", write ? "write" : "read", k);
		sink += (unsigned char)rbuf[(off >> 20) & (CHUNK - 1)];
	}
	t = bench_now() - t;
	bench_sink += sink;
	return (double)passes * (double)size / t / 1e9;
}

/* bench_copies -- 4 KiB random and 1 MiB sequential I/O, three sides. */
static void
bench_copies(struct run *r)
{
	struct bench *b = r->b;
	uint64_t size = r->sz->file;
	size_t n = r->sz->nrand;
	uint64_t *off = bench_offsets(n, size, SMALL, 42);
	struct bench_sample dr = {0}, hr = {0}, rr = {0};
	struct bench_sample dw = {0}, hw = {0}, rw = {0};
	struct bench_sample dsr = {0}, hsr = {0}, rsr = {0};
	struct bench_sample dsw = {0}, hsw = {0}, rsw = {0};
	char title[160], hs[32], name[80];
	int passes = (int)(r->sz->seq / size);
	daxfile_file *f = dx_create(r, "/data");
	int fd = bench_host_create(r->b, "data");
	char *map;

	bench_dx_fill(f, r->chunk, CHUNK, size);
	bench_host_fill(fd, r->chunk, CHUNK, size);
	map = same_map(r, f, size);

	for (int rep = 0; rep < b->reps; rep++) {
		for (int i = 0; i < 3; i++) {
			enum side s = side_order(rep, i);
			struct bench_sample *smp[] = {&dr, &hr, &rr};

			bench_add(smp[s], rand_pass(s, false, f, fd, map, off, n,
				r->rbuf, r->small) / (double)n * 1e6);
		}
		for (int i = 0; i < 3; i++) {
			enum side s = side_order(rep, i);
			struct bench_sample *smp[] = {&dw, &hw, &rw};

			bench_add(smp[s], rand_pass(s, true, f, fd, map, off, n,
				r->rbuf, r->small) / (double)n * 1e6);
		}
	}
	snprintf(title, sizeof(title),
		"4 KiB random I/O on a %s file (%zu ops per repetition, same offsets on every side)",
		bench_human(size, hs, sizeof(hs)), n);
	bench_section(b, title);
	bench_report(b, "4 KiB random pread", "us/op", BENCH_LOWER, &dr,
		"tmpfs pread", &hr, 2.0, NULL);
	bench_report(b, "4 KiB random pread", "us/op", BENCH_LOWER, &dr,
		"raw memcpy", &rr, 1 / 1.5, "within 1.5x");
	bench_report(b, "4 KiB random overwrite pwrite", "us/op", BENCH_LOWER,
		&dw, "tmpfs pwrite", &hw, 2.0, NULL);
	bench_report(b, "4 KiB random overwrite pwrite", "us/op", BENCH_LOWER,
		&dw, "raw memcpy_persist", &rw, 0.9, NULL);

	for (int rep = 0; rep < b->reps; rep++) {
		for (int i = 0; i < 3; i++) {
			enum side s = side_order(rep, i);
			struct bench_sample *smp[] = {&dsw, &hsw, &rsw};

			bench_add(smp[s], seq_pass(s, true, f, fd, map, size,
				passes, r->rbuf, r->chunk));
		}
		for (int i = 0; i < 3; i++) {
			enum side s = side_order(rep, i);
			struct bench_sample *smp[] = {&dsr, &hsr, &rsr};

			bench_add(smp[s], seq_pass(s, false, f, fd, map, size,
				passes, r->rbuf, r->chunk));
		}
	}
	snprintf(title, sizeof(title),
		"1 MiB sequential I/O over the %s file (overwrite, then read; %d passes per repetition)",
		hs, passes);
	bench_section(b, title);
	snprintf(name, sizeof(name), "1 MiB sequential pwrite");
	bench_report(b, name, "GB/s", BENCH_HIGHER, &dsw, "raw memcpy_persist",
		&rsw, 0.95, NULL);
	bench_report(b, name, "GB/s", BENCH_HIGHER, &dsw, "tmpfs pwrite", &hsw,
		0, NULL);
	snprintf(name, sizeof(name), "1 MiB sequential pread");
	bench_report(b, name, "GB/s", BENCH_HIGHER, &dsr, "raw memcpy", &rsr,
		0.95, NULL);
	bench_report(b, name, "GB/s", BENCH_HIGHER, &dsr, "tmpfs pread", &hsr,
		0, NULL);

	if (daxfile_munmap(map, size) != 0)
		bench_dx_die("daxfile_munmap");
	bench_host_remove(r->b, fd, "data");
	bench_dx_remove(r->pool, f, "/data");
	free(off);
}

/* --- appends -------------------------------------------------------------- */

/* append_pass -- append 'bytes' to a new file in 4 KiB writes; us per write. */
static double
append_pass(struct run *r, enum side s, uint64_t bytes, const char *name)
{
	daxfile_file *f = NULL;
	int fd = -1;
	char dxname[64];
	size_t n = bytes / SMALL;
	double t;

	snprintf(dxname, sizeof(dxname), "/%s", name);
	if (s == DX)
		f = dx_create(r, dxname);
	else
		fd = bench_host_create(r->b, name);
	t = bench_now();
	for (size_t i = 0; i < n; i++) {
		ssize_t k = s == DX ? daxfile_write(f, r->small, SMALL) :
			write(fd, r->small, SMALL);

		if (k != (ssize_t)SMALL)
			bench_die("append returned %zd", k);
	}
	t = bench_now() - t;
	if (s == DX)
		bench_dx_remove(r->pool, f, dxname);
	else
		bench_host_remove(r->b, fd, name);
	return t / (double)n * 1e6;
}

/* bench_appends -- allocating 4 KiB appends. */
static void
bench_appends(struct run *r)
{
	struct bench *b = r->b;
	struct bench_sample d = {0}, h = {0};
	char title[160], hs[32];

	for (int rep = 0; rep < b->reps; rep++) {
		bench_add(&d, append_pass(r, DX, r->sz->append, "append"));
		bench_add(&h, append_pass(r, HOST, r->sz->append, "append"));
	}
	snprintf(title, sizeof(title),
		"Allocation: %s appended to a new file in 4 KiB writes",
		bench_human(r->sz->append, hs, sizeof(hs)));
	bench_section(b, title);
	bench_report(b, "4 KiB append (allocating)", "us/op", BENCH_LOWER, &d,
		"tmpfs write", &h, 1.0, "no slower");
}

/* --- punch and truncate --------------------------------------------------- */

/*
 * free_pass -- build a written file, then punch it all in 1 MiB holes
 * (punch) or truncate it to 0; returns us per punch or per truncate.
 */
static double
free_pass(struct run *r, enum side s, bool punch)
{
	uint64_t size = r->sz->file;
	daxfile_file *f = NULL;
	int fd = -1;
	double t;
	int ret = 0;

	if (s == DX) {
		f = dx_create(r, "/free");
		bench_dx_fill(f, r->chunk, CHUNK, size);
	} else {
		fd = bench_host_create(r->b, "free");
		bench_host_fill(fd, r->chunk, CHUNK, size);
	}
	t = bench_now();
	if (punch) {
		for (uint64_t off = 0; off < size && ret == 0; off += CHUNK)
			ret = s == DX ? daxfile_fallocate(f, FALLOC_FL_PUNCH_HOLE |
				FALLOC_FL_KEEP_SIZE, (off_t)off, (off_t)CHUNK) :
				fallocate(fd, FALLOC_FL_PUNCH_HOLE |
				FALLOC_FL_KEEP_SIZE, (off_t)off, (off_t)CHUNK);
	} else {
		ret = s == DX ? daxfile_ftruncate(f, 0) : ftruncate(fd, 0);
	}
	t = bench_now() - t;
	if (ret != 0) {
		if (s == DX)
			bench_dx_die(punch ? "daxfile_fallocate" : "daxfile_ftruncate");
		bench_sys_die(punch ? "fallocate" : "ftruncate");
	}
	if (s == DX)
		bench_dx_remove(r->pool, f, "/free");
	else
		bench_host_remove(r->b, fd, "free");
	return punch ? t / (double)(size / CHUNK) * 1e6 : t * 1e6;
}

/* bench_free -- hole punching and truncation to 0. */
static void
bench_free(struct run *r)
{
	struct bench *b = r->b;
	struct bench_sample dp = {0}, hp = {0}, dt = {0}, ht = {0};
	char title[160], hs[32];

	for (int rep = 0; rep < b->reps; rep++) {
		bench_add(&dp, free_pass(r, DX, true));
		bench_add(&hp, free_pass(r, HOST, true));
		bench_add(&dt, free_pass(r, DX, false));
		bench_add(&ht, free_pass(r, HOST, false));
	}
	snprintf(title, sizeof(title),
		"Freeing blocks of a written %s file",
		bench_human(r->sz->file, hs, sizeof(hs)));
	bench_section(b, title);
	bench_report(b, "PUNCH_HOLE of 1 MiB (every MiB of the file)", "us/op",
		BENCH_LOWER, &dp, "tmpfs fallocate", &hp, 1.0, "no slower");
	snprintf(title, sizeof(title), "ftruncate %s to 0", hs);
	bench_report(b, title, "us", BENCH_LOWER, &dt, "tmpfs ftruncate", &ht,
		1.0, "no slower");
}

/* --- two writers ---------------------------------------------------------- */

struct writer {
	struct run *r;
	enum side side;
	bool append;
	daxfile_file *f;
	int fd;
	char *map;
	const uint64_t *off;
	pthread_barrier_t *start;
	double t0, t1;		/* when this writer started and ended */
};

/* writer_main -- one writer thread of writers_pass(). */
static void *
writer_main(void *arg)
{
	struct writer *w = arg;
	struct run *r = w->r;
	size_t n = w->append ? r->sz->tappend / SMALL : r->sz->tops;

	pthread_barrier_wait(w->start);
	w->t0 = bench_now();
	for (size_t i = 0; i < n; i++) {
		ssize_t k;

		if (w->side == RAW) {
			pmem_memcpy_persist(w->map + w->off[i], r->small, SMALL);
			k = (ssize_t)SMALL;
		} else if (w->append) {
			k = w->side == DX ? daxfile_write(w->f, r->small, SMALL) :
				write(w->fd, r->small, SMALL);
		} else {
			k = w->side == DX ? daxfile_pwrite(w->f, r->small, SMALL,
				(off_t)w->off[i]) : pwrite(w->fd, r->small, SMALL,
				(off_t)w->off[i]);
		}
		if (k != (ssize_t)SMALL)
			bench_die("writer: write returned %zd", k);
	}
	w->t1 = bench_now();
	return NULL;
}

/*
 * writers_pass -- 'nthreads' threads, each writing its own file (random
 * overwrites of a written file, or appends to a new one) or, for the raw
 * side, its own mapping; aggregate MB/s.
 */
static double
writers_pass(struct run *r, enum side s, bool append, int nthreads,
	daxfile_file **files, int *fds, char **maps, const uint64_t *off)
{
	struct writer w[2];
	pthread_t tid[2];
	pthread_barrier_t start;
	char dxname[2][32], hname[2][32];
	size_t per = append ? r->sz->tappend / SMALL : r->sz->tops;
	double t, t0, t1;

	pthread_barrier_init(&start, NULL, (unsigned)nthreads + 1);
	for (int i = 0; i < nthreads; i++) {
		w[i] = (struct writer){r, s, append, NULL, -1, maps[i], off,
			&start, 0, 0};
		snprintf(dxname[i], sizeof(dxname[i]), "/append%d", i);
		snprintf(hname[i], sizeof(hname[i]), "append%d", i);
		if (append && s == DX)
			w[i].f = dx_create(r, dxname[i]);
		else if (append)
			w[i].fd = bench_host_create(r->b, hname[i]);
		else if (s == DX)
			w[i].f = files[i];
		else
			w[i].fd = fds[i];
		if (pthread_create(&tid[i], NULL, writer_main, &w[i]) != 0)
			bench_die("pthread_create failed");
	}
	/*
	 * The writers time themselves: with as many writers as CPUs, this
	 * thread may not run again before they are done.  The span is from
	 * the first start to the last end.
	 */
	pthread_barrier_wait(&start);
	for (int i = 0; i < nthreads; i++)
		pthread_join(tid[i], NULL);
	t0 = w[0].t0;
	t1 = w[0].t1;
	for (int i = 1; i < nthreads; i++) {
		t0 = w[i].t0 < t0 ? w[i].t0 : t0;
		t1 = w[i].t1 > t1 ? w[i].t1 : t1;
	}
	t = t1 - t0;
	pthread_barrier_destroy(&start);
	for (int i = 0; append && i < nthreads; i++) {
		if (s == DX)
			bench_dx_remove(r->pool, w[i].f, dxname[i]);
		else
			bench_host_remove(r->b, w[i].fd, hname[i]);
	}
	return (double)nthreads * (double)per * (double)SMALL / t / 1e6;
}

/* bench_threads -- two writers on two files vs one. */
static void
bench_threads(struct run *r)
{
	struct bench *b = r->b;
	uint64_t size = r->sz->tfile;
	uint64_t *off = bench_offsets(r->sz->tops, size, SMALL, 7);
	struct bench_sample d1 = {0}, d2 = {0}, h1 = {0}, h2 = {0};
	struct bench_sample a1 = {0}, a2 = {0}, g1 = {0}, g2 = {0};
	struct bench_sample m1 = {0}, m2 = {0};
	daxfile_file *f[2];
	int fd[2], rawfd[2];
	char *map[2];
	char title[200], hs[32], ha[32], name[80];

	for (int i = 0; i < 2; i++) {
		char dn[32], hn[32];

		snprintf(dn, sizeof(dn), "/thread%d", i);
		snprintf(hn, sizeof(hn), "thread%d", i);
		f[i] = dx_create(r, dn);
		fd[i] = bench_host_create(r->b, hn);
		snprintf(hn, sizeof(hn), "raw%d", i);
		map[i] = raw_map(r, hn, size, &rawfd[i]);
		snprintf(hn, sizeof(hn), "thread%d", i);
		bench_dx_fill(f[i], r->chunk, CHUNK, size);
		bench_host_fill(fd[i], r->chunk, CHUNK, size);
	}
	for (int rep = 0; rep < b->reps; rep++) {
		bench_add(&d1, writers_pass(r, DX, false, 1, f, fd, map, off));
		bench_add(&d2, writers_pass(r, DX, false, 2, f, fd, map, off));
		bench_add(&a1, writers_pass(r, DX, true, 1, f, fd, map, off));
		bench_add(&a2, writers_pass(r, DX, true, 2, f, fd, map, off));
		bench_add(&h1, writers_pass(r, HOST, false, 1, f, fd, map, off));
		bench_add(&h2, writers_pass(r, HOST, false, 2, f, fd, map, off));
		bench_add(&g1, writers_pass(r, HOST, true, 1, f, fd, map, off));
		bench_add(&g2, writers_pass(r, HOST, true, 2, f, fd, map, off));
		bench_add(&m1, writers_pass(r, RAW, false, 1, f, fd, map, off));
		bench_add(&m2, writers_pass(r, RAW, false, 2, f, fd, map, off));
	}
	snprintf(title, sizeof(title),
		"Two threads writing two files vs one thread writing one (aggregate throughput; %ld CPUs)",
		sysconf(_SC_NPROCESSORS_ONLN));
	bench_section(b, title);
	snprintf(name, sizeof(name), "2 threads: 4 KiB random overwrites (%s files)",
		bench_human(size, hs, sizeof(hs)));
	bench_report(b, name, "MB/s", BENCH_HIGHER, &d2, "1 thread", &d1, 1.7,
		NULL);
	snprintf(name, sizeof(name), "2 threads: 4 KiB appends (%s each)",
		bench_human(r->sz->tappend, ha, sizeof(ha)));
	bench_report(b, name, "MB/s", BENCH_HIGHER, &a2, "1 thread", &a1, 1.7,
		NULL);
	snprintf(name, sizeof(name), "tmpfs 2 threads: 4 KiB random overwrites");
	bench_report(b, name, "MB/s", BENCH_HIGHER, &h2, "tmpfs 1 thread", &h1,
		0, NULL);
	snprintf(name, sizeof(name), "tmpfs 2 threads: 4 KiB appends");
	bench_report(b, name, "MB/s", BENCH_HIGHER, &g2, "tmpfs 1 thread", &g1,
		0, NULL);
	snprintf(name, sizeof(name), "raw 2 threads: 4 KiB memcpy_persist");
	bench_report(b, name, "MB/s", BENCH_HIGHER, &m2, "raw 1 thread", &m1,
		0, NULL);
	bench_note(b, "the tmpfs and raw rows show how far this machine scales two writers at all");

	for (int i = 0; i < 2; i++) {
		char dn[32], hn[32];

		snprintf(dn, sizeof(dn), "/thread%d", i);
		snprintf(hn, sizeof(hn), "thread%d", i);
		bench_dx_remove(r->pool, f[i], dn);
		bench_host_remove(r->b, fd[i], hn);
		snprintf(hn, sizeof(hn), "raw%d", i);
		munmap(map[i], size);
		bench_host_remove(r->b, rawfd[i], hn);
	}
	free(off);
}

int
main(int argc, char **argv)
{
	struct bench b;
	struct run r;

	bench_init(&b, argc, argv, "bench_data",
		"the data path: libdaxfile calls vs tmpfs (/dev/shm) and raw libpmem copies");
	r.b = &b;
	r.sz = b.quick ? &quick : &full;
	r.chunk = bench_buf(CHUNK, 1);
	r.small = bench_buf(SMALL, 2);
	r.rbuf = bench_buf(CHUNK, 3);
	r.pool = bench_pool_create(&b, "data.pool", r.sz->pool, NULL);
	bench_note(&b, "raw baseline: a /dev/shm file of the same size mapped MAP_SHARED and populated; writes pmem_memcpy_persist, reads memcpy");

	bench_copies(&r);
	bench_appends(&r);
	bench_free(&r);
	bench_threads(&r);

	bench_pool_close(r.pool);
	bench_fini(&b);
	return 0;
}
