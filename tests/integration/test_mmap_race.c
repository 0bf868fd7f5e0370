/*
 * test_mmap_race.c -- mappings under concurrency.
 *
 * Security: threads read and write a 16 MiB file A through one shared
 * mapping while another thread punches, zeroes, collapses, inserts,
 * truncates and extends A, and a last one keeps writing file B (a marker of
 * its own) into the blocks A frees in a small pool, then unlinks it.  No
 * word read from A's mapping (or by pread of A) may ever be anything but
 * A's bytes or zeros, and SIGBUS may only come from pages past EOF.
 *
 * Deadlock hazards: pwrite from and pread into a mapping of the same file
 * (over holes and data) while another thread truncates down and up and
 * punches, and a third maps, touches, unmaps (partly) and closes and opens
 * the file; a watchdog aborts, naming the thread, if one makes no progress
 * for 60 s.
 *
 * Write faults racing read faults on the same hole (and preallocated)
 * pages, as xfstests generic/340 and generic/344: no store is lost.
 *
 * fork() while other threads fault pages in and punch holes: no hang, and
 * every child that touches the mapping dies with SIGSEGV.
 *
 * Insert and collapse range against faults in flight: right after each
 * shift, every page read through a mapping holds the bytes that were
 * shifted there (zeros only in an inserted range).
 *
 * Every test has a deadline: a stuck thread aborts the test with a message
 * naming what hangs instead of hanging the suite.
 *
 * Worker threads never assert (Criterion's assertions belong to the test's
 * own thread): they record the first failure, the others stop, and the
 * test asserts after joining them.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <execinfo.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/ucontext.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "daxfile.h"
#include "testpool.h"
#include "testutil.h"

#define PG ((uint64_t)4096)
#define KIB ((uint64_t)1024)
#define MIB ((uint64_t)1024 * 1024)
#define RW (PROT_READ | PROT_WRITE)

/* --- shared helpers ------------------------------------------------------- */


static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * race_scale -- how long the races run: 1 in make check; .ci/run and
 * make stress set DAXFILE_RACE_SCALE to run every race that many times
 * longer (seconds, rounds, forks and iteration targets alike).  Read once:
 * the races' loops ask for it on every round.
 */
static double race_scale_value;
static pthread_once_t race_scale_once = PTHREAD_ONCE_INIT;

static void
race_scale_read(void)
{
	const char *s = getenv("DAXFILE_RACE_SCALE");
	double v = s != NULL ? strtod(s, NULL) : 1.0;

	race_scale_value = v > 0 ? v : 1.0;
}

static double
race_scale(void)
{
	pthread_once(&race_scale_once, race_scale_read);
	return race_scale_value;
}

static uint64_t
min64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

static void
count(uint64_t *c, uint64_t n)
{
	__atomic_add_fetch(c, n, __ATOMIC_RELAXED);
}

static uint64_t
get(const uint64_t *c)
{
	return __atomic_load_n(c, __ATOMIC_RELAXED);
}

/*
 * A deadline for a whole test: still running after 'seconds' means a
 * thread is stuck, so abort with a message instead of hanging.
 */
struct deadline {
	pthread_t tid;
	const char *what;
	unsigned seconds;
	int done;
};

static void *
deadline_main(void *arg)
{
	struct deadline *dl = arg;
	double t0 = now();

	while (!__atomic_load_n(&dl->done, __ATOMIC_ACQUIRE)) {
		usleep(100000);
		if (now() - t0 > dl->seconds) {
			fprintf(stderr, "test_mmap_race: DEADLOCK: %s still running "
				"after %u s\n", dl->what, dl->seconds);
			abort();
		}
	}
	return NULL;
}

static void
deadline_start(struct deadline *dl, const char *what, unsigned seconds)
{
	dl->what = what;
	dl->seconds = seconds;
	dl->done = 0;
	cr_assert_eq(pthread_create(&dl->tid, NULL, deadline_main, dl), 0);
}

static void
deadline_stop(struct deadline *dl)
{
	__atomic_store_n(&dl->done, 1, __ATOMIC_RELEASE);
	pthread_join(dl->tid, NULL);
}

/* --- guarded accesses ----------------------------------------------------- */

/*
 * Each thread arms its own jump buffer around accesses that may fault; the
 * handler records the signal and jumps back.  A fault anywhere else is
 * reported and kills the test.
 */
static __thread sigjmp_buf tl_env;
static __thread volatile sig_atomic_t tl_armed;
static __thread volatile int tl_sig, tl_code;
static __thread void *volatile tl_addr;

static __thread const char *tl_role = "main";

/* put_hex -- 16 hex digits of v at p. */
static void
put_hex(char *p, uint64_t v)
{
	for (int i = 15; i >= 0; i--, v >>= 4)
		p[i] = "0123456789abcdef"[v & 15];
}

/*
 * unexpected -- a fault outside a guarded access: say which, where (the
 * instruction and the stack, for a log that is all one has of a rare
 * crash), and let it kill the process.
 */
static void
unexpected(int sig, const siginfo_t *si, const void *ctx)
{
	static const char head[] = "test_mmap_race: unexpected signal ";
	char num[2] = {(char)('0' + sig / 10), (char)('0' + sig % 10)};
	char addr[19] = " 0x", ip[23] = " at ip 0x", code[16];
	void *frames[32];
	int n;

	put_hex(addr + 3, (uint64_t)(uintptr_t)si->si_addr);
	put_hex(code, (uint64_t)(uint32_t)si->si_code);
	(void)!write(2, head, sizeof(head) - 1);
	(void)!write(2, num, 2);
	(void)!write(2, addr, sizeof(addr));
	(void)!write(2, " code 0x", 8);
	(void)!write(2, code + 12, 4);
	(void)!write(2, " in thread ", 11);
	(void)!write(2, tl_role, strlen(tl_role));
#if defined(__x86_64__)
	put_hex(ip + 7, (uint64_t)((const ucontext_t *)ctx)->uc_mcontext.gregs[REG_RIP]);
	(void)!write(2, ip, sizeof(ip));
#else
	(void)ctx;
	(void)ip;
#endif
	(void)!write(2, "\n", 1);
	n = backtrace(frames, 32);
	backtrace_symbols_fd(frames, n, 2);
	signal(sig, SIG_DFL);
}

static void
fault_handler(int sig, siginfo_t *si, void *ctx)
{
	if (!tl_armed) {
		unexpected(sig, si, ctx);
		return;
	}
	tl_armed = 0;
	tl_sig = sig;
	tl_code = si->si_code;
	tl_addr = si->si_addr;
	siglongjmp(tl_env, 1);
}

static void
handlers_install(void)
{
	struct sigaction sa;

	void *frame;

	/* backtrace() loads its unwinder at its first call: not in a handler */
	(void)backtrace(&frame, 1);
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = fault_handler;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	cr_assert_eq(sigaction(SIGBUS, &sa, NULL), 0);
	cr_assert_eq(sigaction(SIGSEGV, &sa, NULL), 0);
}

/* ===================================================================== */
/* 1. Security: A's mapping never shows B's bytes                          */
/* ===================================================================== */

#define A_MAX (16 * MIB)
#define A_MIN (4 * MIB)
#define A_CONST 0xaaaaaaaaaaaaaaaaULL
#define A_KEY 0xa1ce000000000000ULL
#define B_KEY 0xb0b0000000000000ULL
#define A_FOOTPRINT_MAX (33 * MIB)	/* 16 MiB in the file + preallocation */
#define SEC_SECONDS (2.0 * race_scale())
#define SEC_READERS 2
#define SEC_WRITERS 1

/* a_word -- A's word at file offset 'off' (8-byte aligned). */
static uint64_t
a_word(uint64_t off)
{
	return ((off >> 12) % 3 == 0) ? A_CONST : (off ^ A_KEY);
}

/* is_a_word -- zero, or a word of A (possibly shifted by collapse/insert). */
static bool
is_a_word(uint64_t v)
{
	uint64_t o = v ^ A_KEY;

	return v == 0 || v == A_CONST || (o < 2 * A_MAX && (o & 7) == 0);
}

static bool
is_b_word(uint64_t v)
{
	uint64_t o = v ^ B_KEY;

	return o < 64 * MIB && (o & 7) == 0;
}

struct sec {
	daxfile_pool *pool;
	daxfile_file *fa;
	unsigned char *map;
	int stop;
	uint64_t size;		/* A's size, as the mutator last set it */
	uint64_t shrink_seq;	/* odd while A may be shorter than 'size' */
	/* counters */
	uint64_t scans, words, stores, preads, sigbus;
	uint64_t foreign, foreign_b, first_off, first_val;
	uint64_t ops[8], refill_bytes, enospc, nospace_sigbus;
	uint64_t b_files, b_bytes;
};

static bool
sec_stop(struct sec *s)
{
	return __atomic_load_n(&s->stop, __ATOMIC_ACQUIRE) || failed();
}

static void
note_foreign(struct sec *s, uint64_t off, uint64_t v)
{
	if (__atomic_add_fetch(&s->foreign, 1, __ATOMIC_RELAXED) == 1) {
		s->first_off = off;
		s->first_val = v;
	}
	if (is_b_word(v))
		count(&s->foreign_b, 1);
}

/* A snapshot of A's size before an access, to judge a SIGBUS by. */
struct sizesnap {
	uint64_t seq, size;
};

static struct sizesnap
size_snap(struct sec *s)
{
	struct sizesnap z;

	z.seq = __atomic_load_n(&s->shrink_seq, __ATOMIC_ACQUIRE);
	z.size = __atomic_load_n(&s->size, __ATOMIC_ACQUIRE);
	return z;
}

/*
 * eof_floor -- no page below this offset can have been past EOF during
 * the access: A's size when it began if nothing shrank A meanwhile (A only
 * grows faster than 'size' says), else A_MIN, below which A never goes.
 */
static uint64_t
eof_floor(struct sec *s, struct sizesnap z)
{
	if ((z.seq & 1) == 0 &&
	    __atomic_load_n(&s->shrink_seq, __ATOMIC_ACQUIRE) == z.seq)
		return (z.size + PG - 1) & ~(PG - 1);
	return A_MIN;
}

/*
 * The pages whose store fault found no free block: the library marks them
 * SIGBUS (as a DAX fault answers ENOSPC) and says so to the log function.
 * A SIGBUS there, below EOF, is the pool being full, not a stale marker.
 */
#define NOSPACE_MAX 4096
static uintptr_t nospace_pages[NOSPACE_MAX];
static unsigned nospace_n;

static void
nospace_log(const char *msg, void *arg)
{
	unsigned long addr;
	unsigned i;

	(void)arg;
	if (strstr(msg, "no free blocks") == NULL ||
	    sscanf(msg, "cannot serve a fault at %lx", &addr) != 1)
		return;
	i = __atomic_fetch_add(&nospace_n, 1, __ATOMIC_RELAXED);
	if (i < NOSPACE_MAX)
		__atomic_store_n(&nospace_pages[i], (uintptr_t)addr & ~(PG - 1),
			__ATOMIC_RELEASE);
}

/* nospace_at -- did a store fault find no space at the page of 'addr'? */
static bool
nospace_at(const void *addr)
{
	uintptr_t page = (uintptr_t)addr & ~(PG - 1);
	unsigned n = __atomic_load_n(&nospace_n, __ATOMIC_ACQUIRE);

	for (unsigned i = 0; i < n && i < NOSPACE_MAX; i++)
		if (__atomic_load_n(&nospace_pages[i], __ATOMIC_ACQUIRE) == page)
			return true;
	return false;
}

/*
 * sec_signal -- a guarded access at [lo, hi) of A faulted: only SIGBUS
 * with BUS_ADRERR inside that range, at an offset that may have been past
 * EOF, is right.
 */
static void
sec_signal(struct sec *s, uint64_t lo, uint64_t hi, struct sizesnap z)
{
	uint64_t off = (uint64_t)((unsigned char *)tl_addr - s->map);
	uint64_t least = eof_floor(s, z);

	if (tl_sig != SIGBUS || tl_code != BUS_ADRERR)
		thread_fail("signal %d (si_code %d) at A offset %lu", tl_sig,
			tl_code, (unsigned long)off);
	else if (off < lo || off >= hi)
		thread_fail("SIGBUS at A offset %lu, outside the access [%lu, %lu)",
			(unsigned long)off, (unsigned long)lo, (unsigned long)hi);
	else if (off < least && nospace_at(tl_addr))
		count(&s->nospace_sigbus, 1);
	else if (off < least)
		thread_fail("SIGBUS at A offset %lu, below EOF (A was at least %lu "
			"bytes during the access)", (unsigned long)off,
			(unsigned long)least);
	else
		count(&s->sigbus, 1);
}

/* guarded_scan -- check nw words of the mapping from 'off': 0 or a signal. */
static __attribute__((noinline)) int
guarded_scan(struct sec *s, uint64_t off, size_t nw)
{
	const volatile uint64_t *w = (const volatile uint64_t *)(s->map + off);

	if (sigsetjmp(tl_env, 1) != 0)
		return tl_sig;
	tl_armed = 1;
	for (size_t i = 0; i < nw; i++) {
		uint64_t v = w[i];

		if (!is_a_word(v))
			note_foreign(s, (uint64_t)((const unsigned char *)&w[i] -
				s->map), v);
	}
	tl_armed = 0;
	return 0;
}

/* guarded_fill -- store A's words into nw words from 'off': 0 or a signal. */
static __attribute__((noinline)) int
guarded_fill(struct sec *s, uint64_t off, size_t nw)
{
	volatile uint64_t *w = (volatile uint64_t *)(s->map + off);

	if (sigsetjmp(tl_env, 1) != 0)
		return tl_sig;
	tl_armed = 1;
	for (size_t i = 0; i < nw; i++)
		w[i] = a_word((uint64_t)((unsigned char *)&w[i] - s->map));
	tl_armed = 0;
	return 0;
}

struct sec_thread {
	struct sec *s;
	uint64_t seed;
	pthread_t tid;
};

static void *
sec_reader(void *arg)
{
	struct sec_thread *t = arg;
	struct sec *s = t->s;
	uint64_t r = t->seed, *buf = malloc(64 * KIB);

	tl_role = "reader";
	if (buf == NULL) {
		thread_fail("malloc");
		return NULL;
	}
	while (!sec_stop(s)) {
		uint64_t x = mix64(r++);
		uint64_t off = (x % A_MAX) & ~(uint64_t)7;
		size_t nw = 1 + (size_t)((x >> 40) % (64 * KIB / 8));
		struct sizesnap z;

		nw = (size_t)min64(nw, (A_MAX - off) / 8);
		if ((x >> 24) % 16 == 0) {
			/* now and then through pread */
			ssize_t n = daxfile_pread(s->fa, buf, nw * 8, (off_t)off);

			if (n < 0) {
				thread_fail("pread of A at %lu", (unsigned long)off);
				break;
			}
			for (size_t i = 0; i < (size_t)n / 8; i++)
				if (!is_a_word(buf[i]))
					note_foreign(s, off + 8 * i, buf[i]);
			count(&s->preads, 1);
			continue;
		}
		z = size_snap(s);
		if (guarded_scan(s, off, nw) != 0)
			sec_signal(s, off, off + nw * 8, z);
		count(&s->scans, 1);
		count(&s->words, nw);
	}
	free(buf);
	return NULL;
}

static void *
sec_writer(void *arg)
{
	struct sec_thread *t = arg;
	struct sec *s = t->s;
	uint64_t r = t->seed;

	tl_role = "writer";
	while (!sec_stop(s)) {
		uint64_t x = mix64(r++);
		uint64_t off = (x % A_MAX) & ~(uint64_t)7;
		size_t nw = 1 + (size_t)((x >> 40) % (16 * KIB / 8));
		struct sizesnap z;

		nw = (size_t)min64(nw, (A_MAX - off) / 8);
		z = size_snap(s);
		if (guarded_fill(s, off, nw) != 0)
			sec_signal(s, off, off + nw * 8, z);
		count(&s->stores, nw);
	}
	return NULL;
}

/* refill -- pwrite A's words over [off, off+len), waiting out ENOSPC. */
static int
refill(struct sec *s, uint64_t off, uint64_t len)
{
	uint64_t *buf = malloc(MIB);

	if (buf == NULL) {
		thread_fail("malloc");
		return -1;
	}
	while (len > 0) {
		uint64_t n = min64(len, MIB);
		ssize_t w;

		for (uint64_t i = 0; i < n / 8; i++)
			buf[i] = a_word(off + 8 * i);
		for (int tries = 0;; tries++) {
			w = daxfile_pwrite(s->fa, buf, n, (off_t)off);
			if (w == (ssize_t)n)
				break;
			if (w < 0 && errno == ENOSPC && tries < 1000) {
				count(&s->enospc, 1);
				usleep(1000);
				continue;
			}
			thread_fail("refill pwrite of %lu at %lu: %zd", (unsigned long)n,
				(unsigned long)off, w);
			free(buf);
			return -1;
		}
		count(&s->refill_bytes, n);
		off += n;
		len -= n;
	}
	free(buf);
	return 0;
}

/* rnd8 -- a multiple of 8 in [0, n). */
static uint64_t
rnd8(uint64_t x, uint64_t n)
{
	return n < 8 ? 0 : (x % n) & ~(uint64_t)7;
}

static int
sec_falloc(struct sec *s, int mode, uint64_t off, uint64_t len)
{
	if (daxfile_fallocate(s->fa, mode, (off_t)off, (off_t)len) != 0) {
		thread_fail("fallocate(%#x, %lu, %lu) of A", mode, (unsigned long)off,
			(unsigned long)len);
		return -1;
	}
	return 0;
}

/* shrink_begin/end -- around anything that makes A shorter. */
static void
shrink_begin(struct sec *s)
{
	__atomic_add_fetch(&s->shrink_seq, 1, __ATOMIC_ACQ_REL);
}

static void
shrink_end(struct sec *s, uint64_t size)
{
	__atomic_store_n(&s->size, size, __ATOMIC_RELEASE);
	__atomic_add_fetch(&s->shrink_seq, 1, __ATOMIC_ACQ_REL);
}

/* sec_truncate -- A from 'old' to 'size' bytes, published. */
static int
sec_truncate(struct sec *s, uint64_t old, uint64_t size)
{
	int ret;

	if (size < old)
		shrink_begin(s);
	ret = daxfile_ftruncate(s->fa, (off_t)size);
	if (ret != 0)
		thread_fail("ftruncate A to %lu", (unsigned long)size);
	if (size < old)
		shrink_end(s, ret == 0 ? size : old);
	else if (ret == 0)
		__atomic_store_n(&s->size, size, __ATOMIC_RELEASE);
	return ret;
}

/*
 * sec_mutator -- change A's layout and size over and over (size kept in
 * [A_MIN, A_MAX], 8-byte aligned), filling what changed with A's words
 * again afterwards.
 */
static void *
sec_mutator(void *arg)
{
	struct sec_thread *t = arg;
	struct sec *s = t->s;
	uint64_t r = t->seed, size = A_MAX;

	tl_role = "mutator";
	while (!sec_stop(s)) {
		uint64_t x = mix64(r++), y = mix64(r++);
		unsigned op = (unsigned)(x % 7);
		uint64_t off, len, to;
		int ret = 0;

		switch (op) {
		case 0:	/* punch a hole, then fill it again */
		case 1:	/* zero a range, then fill it again */
			off = rnd8(y, size - 8);
			len = 8 + rnd8(y >> 32, min64(2 * MIB, size - off));
			ret = sec_falloc(s, op == 0 ? FALLOC_FL_PUNCH_HOLE |
				FALLOC_FL_KEEP_SIZE : FALLOC_FL_ZERO_RANGE, off, len);
			if (ret == 0)
				ret = refill(s, off, len);
			break;
		case 2:	/* collapse a range: everything after it moved */
			if (size < A_MIN + 2 * PG)
				continue;
			len = PG * (1 + (y >> 32) % min64(512, (size - A_MIN) / PG - 1));
			off = PG * (y % ((size - len - 1) / PG));
			shrink_begin(s);
			ret = sec_falloc(s, FALLOC_FL_COLLAPSE_RANGE, off, len);
			if (ret == 0)
				size -= len;
			shrink_end(s, size);
			if (ret == 0)
				ret = refill(s, off, size - off);
			break;
		case 3:	/* insert a range: everything after it moved */
			if (size + PG > A_MAX)
				continue;
			len = PG * (1 + (y >> 32) % min64(512, (A_MAX - size) / PG));
			off = PG * (y % (size / PG));
			ret = sec_falloc(s, FALLOC_FL_INSERT_RANGE, off, len);
			if (ret == 0) {
				size += len;
				__atomic_store_n(&s->size, size, __ATOMIC_RELEASE);
				ret = refill(s, off, size - off);
			}
			break;
		case 4:	/* truncate to any size */
			to = A_MIN + rnd8(y, A_MAX - A_MIN + 8);
			ret = sec_truncate(s, size, to);
			if (ret == 0 && to > size)
				ret = refill(s, size, to - size);
			size = to;
			break;
		case 5:	/* truncate down, then up again */
			to = A_MIN + rnd8(y, size - A_MIN + 8);
			ret = sec_truncate(s, size, to);
			if (ret == 0)
				size = to;
			to = size + rnd8(y >> 32, A_MAX - size + 8);
			if (ret == 0)
				ret = sec_truncate(s, size, to);
			if (ret == 0)
				ret = refill(s, size, to - size);
			size = to;
			break;
		case 6:	/* truncate down, then grow again by appending */
			to = A_MIN + rnd8(y, size - A_MIN + 8);
			ret = sec_truncate(s, size, to);
			size = to;
			to = size + rnd8(y >> 32, A_MAX - size + 8);
			if (ret == 0)
				ret = refill(s, size, to - size);
			size = to;
			__atomic_store_n(&s->size, size, __ATOMIC_RELEASE);
			break;
		}
		if (ret != 0)
			break;
		count(&s->ops[op], 1);
	}
	return NULL;
}

/*
 * sec_b -- write file B backwards in small pieces (each piece takes the
 * smallest free extent that fits: the fragments A freed), with B's words,
 * as much as the pool can spare without starving A, then unlink it.
 */
static void *
sec_b(void *arg)
{
	struct sec_thread *t = arg;
	struct sec *s = t->s;
	const uint64_t chunk = 16 * KIB;
	uint64_t *buf = malloc(chunk);

	tl_role = "B";
	if (buf == NULL) {
		thread_fail("malloc");
		return NULL;
	}
	while (!sec_stop(s)) {
		struct stat st;
		struct statvfs sv;
		uint64_t fp, fr, target, written = 0;
		daxfile_file *fb;

		/* A's footprint first, then the free space: errs on the safe side */
		if (daxfile_fstat(s->fa, &st) != 0 ||
		    daxfile_statvfs(s->pool, &sv) != 0) {
			thread_fail("fstat/statvfs");
			break;
		}
		fp = (uint64_t)st.st_blocks * 512;
		fr = (uint64_t)sv.f_bfree * sv.f_bsize;
		if (fp > A_FOOTPRINT_MAX || fr < A_FOOTPRINT_MAX - fp + 2 * MIB + chunk) {
			usleep(500);
			continue;
		}
		target = min64(16 * MIB, fr - (A_FOOTPRINT_MAX - fp) - 2 * MIB);
		target -= target % chunk;
		fb = daxfile_open(s->pool, "/B", O_RDWR | O_CREAT | O_TRUNC, 0600);
		if (fb == NULL) {
			thread_fail("open B");
			break;
		}
		for (uint64_t off = target; off >= chunk && !sec_stop(s);) {
			ssize_t w;

			off -= chunk;
			for (uint64_t i = 0; i < chunk / 8; i++)
				buf[i] = (off + 8 * i) ^ B_KEY;
			w = daxfile_pwrite(fb, buf, chunk, (off_t)off);
			if (w < 0 && errno == ENOSPC)
				break;
			if (w != (ssize_t)chunk) {
				thread_fail("pwrite B at %lu", (unsigned long)off);
				break;
			}
			written += chunk;
		}
		if (daxfile_close(fb) != 0 || daxfile_unlink(s->pool, "/B") != 0) {
			thread_fail("close/unlink B");
			break;
		}
		count(&s->b_files, 1);
		count(&s->b_bytes, written);
	}
	free(buf);
	return NULL;
}

Test(mmap_race, a_mapping_never_shows_another_files_bytes_while_its_blocks_are_freed_and_reused)
{
	struct test_pool tp;
	struct sec s;
	struct sec_thread th[SEC_READERS + SEC_WRITERS + 2];
	unsigned nth = 0;
	struct deadline dl;
	uint64_t *buf;
	struct stat st;
	double t0;

	handlers_install();
	daxfile_set_log(nospace_log, NULL);
	memset(&s, 0, sizeof(s));
	test_pool_create(&tp, "mmrace", 64 * MIB);
	s.pool = tp.pool;
	s.fa = xopen(tp.pool, "/A", O_RDWR | O_CREAT);
	s.size = A_MAX;
	cr_assert_eq(refill(&s, 0, A_MAX), 0, "%s", failure.msg);
	s.map = daxfile_mmap(NULL, A_MAX, RW, MAP_SHARED, s.fa, 0);
	cr_assert_neq(s.map, MAP_FAILED, "mmap A: %s", daxfile_errormsg());

	deadline_start(&dl, "the security race", 60);
	t0 = now();
	for (unsigned i = 0; i < SEC_READERS + SEC_WRITERS + 2; i++) {
		void *(*fn)(void *) = i < SEC_READERS ? sec_reader :
			i < SEC_READERS + SEC_WRITERS ? sec_writer :
			i == SEC_READERS + SEC_WRITERS ? sec_mutator : sec_b;

		th[i] = (struct sec_thread){&s, 1000 * (i + 1), 0};
		cr_assert_eq(pthread_create(&th[i].tid, NULL, fn, &th[i]), 0);
		nth++;
	}
	while (now() - t0 < SEC_SECONDS && !failed())
		usleep(20000);
	__atomic_store_n(&s.stop, 1, __ATOMIC_RELEASE);
	for (unsigned i = 0; i < nth; i++)
		pthread_join(th[i].tid, NULL);
	deadline_stop(&dl);
	daxfile_set_log(NULL, NULL);

	cr_log_info("security race: %.1f s; scans %lu (%lu words), preads %lu, "
		"stored words %lu, SIGBUS past EOF %lu; punch %lu zero %lu "
		"collapse %lu insert %lu truncate %lu down/up %lu append %lu, "
		"refilled %lu MiB, ENOSPC %lu (SIGBUS of stores without space "
		"%lu); B files %lu (%lu MiB)",
		now() - t0, get(&s.scans), get(&s.words), get(&s.preads),
		get(&s.stores), get(&s.sigbus), get(&s.ops[0]), get(&s.ops[1]),
		get(&s.ops[2]), get(&s.ops[3]), get(&s.ops[4]), get(&s.ops[5]),
		get(&s.ops[6]), get(&s.refill_bytes) / MIB, get(&s.enospc),
		get(&s.nospace_sigbus), get(&s.b_files), get(&s.b_bytes) / MIB);
	assert_no_failure();
	cr_assert_eq(s.foreign, 0, "%lu words of A read as neither A's bytes nor "
		"zero (%lu of them B's marker); first at offset %lu: %#lx",
		(unsigned long)s.foreign, (unsigned long)s.foreign_b,
		(unsigned long)s.first_off, (unsigned long)s.first_val);
	cr_assert_gt(get(&s.b_files), 0, "file B was never written");
	cr_assert_gt(get(&s.ops[0]) + get(&s.ops[2]) + get(&s.ops[4]), 0);
	cr_assert_gt(get(&s.scans), 0);

	/* quiet now: the whole file, through the mapping and pread, is A's */
	TEST_OK(daxfile_fstat(s.fa, &st));
	cr_assert_eq((uint64_t)st.st_size, s.size);
	buf = malloc(s.size);
	cr_assert_not_null(buf);
	cr_assert_eq(daxfile_pread(s.fa, buf, s.size, 0), (ssize_t)s.size);
	cr_assert_eq(memcmp(buf, s.map, s.size), 0, "the mapping and pread differ");
	for (uint64_t i = 0; i < s.size / 8; i++)
		cr_assert_eq(buf[i], a_word(8 * i), "word at %lu is %#lx after the "
			"run, expected %#lx", (unsigned long)(8 * i),
			(unsigned long)buf[i], (unsigned long)a_word(8 * i));
	free(buf);

	TEST_OK(daxfile_munmap(s.map, A_MAX));
	TEST_OK(daxfile_close(s.fa));
	test_pool_destroy(&tp);
}

/* ===================================================================== */
/* 2. Deadlock hazards: copies from and to mappings of the same file     */
/* ===================================================================== */

#define DL_SIZE (8 * MIB)
#define DL_MIN (4 * MIB)	/* buffers live below this: never past EOF */
#define DL_WATCHDOG_SECONDS 60
#define DL_MAX_SECONDS (60.0 + 40.0 * race_scale())	/* to reach the targets; a stall is the watchdog's */

enum { DL_X, DL_Y, DL_Z, DL_NTHREADS };

static const char *const dl_names[DL_NTHREADS] = {
	"X (pwrite from / pread into a mapping of A)",
	"Y (truncate down/up and punch A)",
	"Z (mmap/munmap and close/open A)",
};

static const uint64_t dl_base[DL_NTHREADS] = {1000, 200, 100};

/* dl_target -- the iterations each thread must reach */
static uint64_t
dl_target(int who)
{
	return (uint64_t)((double)dl_base[who] * race_scale());
}

struct dl {
	daxfile_pool *pool;
	daxfile_file *fx;
	unsigned char *mx;	/* X's mapping of A, DL_SIZE bytes */
	uint64_t iters[DL_NTHREADS];
	int exited[DL_NTHREADS];
	int stop, done;
	double t0;
};

static bool
dl_stop(struct dl *d)
{
	return __atomic_load_n(&d->stop, __ATOMIC_ACQUIRE) || failed();
}

/* dl_keep_going -- a thread past its target goes on until all are past theirs. */
static bool
dl_keep_going(struct dl *d, int who)
{
	uint64_t n = get(&d->iters[who]);

	if (dl_stop(d))
		return false;
	if (n == dl_target(who))
		__atomic_add_fetch(&d->done, 1, __ATOMIC_ACQ_REL);
	if (__atomic_load_n(&d->done, __ATOMIC_ACQUIRE) == DL_NTHREADS ||
	    now() - d->t0 > DL_MAX_SECONDS)
		__atomic_store_n(&d->stop, 1, __ATOMIC_RELEASE);
	return !dl_stop(d);
}

static void *
dl_x(void *arg)
{
	struct dl *d = arg;
	uint64_t r = 77;

	tl_role = "X";
	while (dl_keep_going(d, DL_X)) {
		uint64_t x = mix64(r++), y = mix64(r++);
		uint64_t n = 1 + (x >> 48) % (64 * KIB);
		uint64_t buf = (x % (DL_MIN - n));
		uint64_t foff = (y % (DL_SIZE - n));
		ssize_t ret;

		if (x & 1) {
			/* page-aligned now and then: whole pages of holes */
			buf &= ~(PG - 1);
			foff &= ~(PG - 1);
		}
		ret = daxfile_pwrite(d->fx, d->mx + buf, n, (off_t)foff);
		if (ret != (ssize_t)n) {
			thread_fail("X: pwrite of %lu at %lu from the mapping at %lu: %zd",
				(unsigned long)n, (unsigned long)foff, (unsigned long)buf,
				ret);
			break;
		}
		buf = (y >> 8) % (DL_MIN - n);
		foff = (x >> 8) % (DL_SIZE - n);
		ret = daxfile_pread(d->fx, d->mx + buf, n, (off_t)foff);
		if (ret < 0) {
			thread_fail("X: pread of %lu at %lu into the mapping at %lu",
				(unsigned long)n, (unsigned long)foff, (unsigned long)buf);
			break;
		}
		count(&d->iters[DL_X], 1);
	}
	return NULL;
}

static void *
dl_y(void *arg)
{
	struct dl *d = arg;
	daxfile_file *fy = daxfile_open(d->pool, "/A", O_RDWR);
	uint64_t r = 78;

	tl_role = "Y";
	if (fy == NULL) {
		thread_fail("Y: open");
		return NULL;
	}
	while (dl_keep_going(d, DL_Y)) {
		uint64_t x = mix64(r++);
		uint64_t down = DL_MIN + x % (DL_SIZE - DL_MIN);
		uint64_t poff = (x >> 24) % DL_MIN, plen = 1 + (x >> 44) % (512 * KIB);

		if (daxfile_ftruncate(fy, (off_t)down) != 0 ||
		    daxfile_ftruncate(fy, (off_t)DL_SIZE) != 0) {
			thread_fail("Y: truncate to %lu and back", (unsigned long)down);
			break;
		}
		plen = min64(plen, DL_MIN - poff);
		if (daxfile_fallocate(fy, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
			(off_t)poff, (off_t)plen) != 0) {
			thread_fail("Y: punch %lu at %lu", (unsigned long)plen,
				(unsigned long)poff);
			break;
		}
		count(&d->iters[DL_Y], 1);
	}
	if (daxfile_close(fy) != 0)
		thread_fail("Y: close");
	return NULL;
}

static void *
dl_z(void *arg)
{
	struct dl *d = arg;
	uint64_t r = 79;

	tl_role = "Z";
	while (dl_keep_going(d, DL_Z)) {
		uint64_t x = mix64(r++);
		daxfile_file *fz = daxfile_open(d->pool, "/A", O_RDWR);
		volatile unsigned char *m;
		bool priv = x % 4 == 0;
		uint64_t cut;

		if (fz == NULL) {
			thread_fail("Z: open");
			break;
		}
		m = daxfile_mmap(NULL, DL_MIN, RW, priv ? MAP_PRIVATE : MAP_SHARED,
			fz, 0);
		if (m == MAP_FAILED) {
			thread_fail("Z: mmap");
			daxfile_close(fz);
			break;
		}
		/* touch: loads, and stores of what was there (allocating holes) */
		for (int i = 0; i < 16; i++) {
			uint64_t o = mix64(x + (uint64_t)i) % DL_MIN;

			if (i & 1)
				m[o] = m[o];
			else
				(void)m[o];
		}
		/* close before unmapping half the time: the mapping outlives it */
		if ((x >> 8) & 1 && daxfile_close(fz) != 0) {
			thread_fail("Z: close");
			break;
		}
		cut = PG * (1 + (x >> 16) % (DL_MIN / PG - 1));
		if (daxfile_munmap((void *)m, cut) != 0 ||
		    daxfile_munmap((void *)(m + cut), DL_MIN - cut) != 0) {
			thread_fail("Z: munmap");
			break;
		}
		if (!((x >> 8) & 1) && daxfile_close(fz) != 0) {
			thread_fail("Z: close");
			break;
		}
		count(&d->iters[DL_Z], 1);
	}
	return NULL;
}

/*
 * dl_watchdog -- abort, naming who is stuck, when a thread that has not
 * finished made no progress for a minute.
 */
static void *
dl_watchdog(void *arg)
{
	struct dl *d = arg;
	uint64_t last[DL_NTHREADS] = {0};
	double since[DL_NTHREADS];
	int exited;

	for (int i = 0; i < DL_NTHREADS; i++)
		since[i] = now();
	do {
		usleep(100000);
		exited = 0;
		for (int i = 0; i < DL_NTHREADS; i++) {
			uint64_t n = get(&d->iters[i]);

			if (__atomic_load_n(&d->exited[i], __ATOMIC_ACQUIRE)) {
				exited++;
				continue;
			}
			if (n != last[i]) {
				last[i] = n;
				since[i] = now();
				continue;
			}
			if (now() - since[i] < DL_WATCHDOG_SECONDS)
				continue;
			fprintf(stderr, "test_mmap_race: DEADLOCK: %s made no progress "
				"for %d s\n", dl_names[i], DL_WATCHDOG_SECONDS);
			for (int k = 0; k < DL_NTHREADS; k++)
				fprintf(stderr, "  %s: %lu of %lu iterations%s\n",
					dl_names[k], (unsigned long)get(&d->iters[k]),
					(unsigned long)dl_target(k),
					d->exited[k] ? ", finished" : "");
			abort();
		}
	} while (exited < DL_NTHREADS);
	return NULL;
}

/* A thread of the deadlock test: its body, then it is marked finished. */
struct dl_start {
	struct dl *d;
	int who;
	void *(*fn)(void *);
};

static void *
dl_run(void *arg)
{
	struct dl_start *st = arg;

	st->fn(st->d);
	__atomic_store_n(&st->d->exited[st->who], 1, __ATOMIC_RELEASE);
	return NULL;
}

Test(mmap_race, copies_between_a_file_and_its_own_mapping_do_not_deadlock_with_truncate_and_munmap)
{
	struct test_pool tp;
	struct dl d;
	pthread_t t[DL_NTHREADS], wd;
	struct dl_start st[DL_NTHREADS] = {
		{&d, DL_X, dl_x}, {&d, DL_Y, dl_y}, {&d, DL_Z, dl_z},
	};
	unsigned char *buf;
	struct stat sb;

	handlers_install();
	memset(&d, 0, sizeof(d));
	test_pool_create(&tp, "mmrace", TEST_POOL_SIZE);
	d.pool = tp.pool;
	d.fx = xopen(tp.pool, "/A", O_RDWR | O_CREAT);
	buf = malloc(DL_SIZE);
	cr_assert_not_null(buf);
	memset(buf, 0x5e, DL_SIZE);
	cr_assert_eq(daxfile_pwrite(d.fx, buf, 2 * MIB, 0), (ssize_t)(2 * MIB));
	cr_assert_eq(daxfile_pwrite(d.fx, buf, 3 * MIB, 5 * MIB),
		(ssize_t)(3 * MIB));	/* [2, 5) MiB is a hole */
	d.mx = daxfile_mmap(NULL, DL_SIZE, RW, MAP_SHARED, d.fx, 0);
	cr_assert_neq(d.mx, MAP_FAILED, "mmap A: %s", daxfile_errormsg());

	d.t0 = now();
	cr_assert_eq(pthread_create(&wd, NULL, dl_watchdog, &d), 0);
	for (int i = 0; i < DL_NTHREADS; i++)
		cr_assert_eq(pthread_create(&t[i], NULL, dl_run, &st[i]), 0);
	for (int i = 0; i < DL_NTHREADS; i++)
		pthread_join(t[i], NULL);
	pthread_join(wd, NULL);

	cr_log_info("deadlock hazards: %.1f s; X %lu, Y %lu, Z %lu iterations",
		now() - d.t0, (unsigned long)d.iters[DL_X],
		(unsigned long)d.iters[DL_Y], (unsigned long)d.iters[DL_Z]);
	assert_no_failure();
	for (int i = 0; i < DL_NTHREADS; i++)
		cr_assert_geq(d.iters[i], dl_target(i),
			"%s made %lu of %lu iterations in %.0f s", dl_names[i],
			(unsigned long)d.iters[i], (unsigned long)dl_target(i),
			DL_MAX_SECONDS);

	/* quiet now: the mapping and pread agree on every byte */
	TEST_OK(daxfile_fstat(d.fx, &sb));
	cr_assert_eq(sb.st_size, (off_t)DL_SIZE);
	cr_assert_eq(daxfile_pread(d.fx, buf, DL_SIZE, 0), (ssize_t)DL_SIZE);
	cr_assert_eq(memcmp(buf, d.mx, DL_SIZE), 0, "the mapping and pread differ");
	free(buf);
	TEST_OK(daxfile_munmap(d.mx, DL_SIZE));
	TEST_OK(daxfile_close(d.fx));
	test_pool_destroy(&tp);
}

/* ===================================================================== */
/* 3. Write faults racing read faults on holes: no store is lost          */
/* ===================================================================== */

#define WF_WRITERS 4
#define WF_READERS 2
#define WF_ROUNDS ((unsigned)(60 * race_scale()))
#define WF_PAGES 64
#define WF_BASE (2 * MIB - 32 * PG)	/* the pages straddle a 2 MiB edge */

struct wf {
	unsigned char *map;
	pthread_barrier_t start, end;
	unsigned round;
	int quit;
};

struct wf_thread {
	struct wf *w;
	unsigned id;
	pthread_t tid;
};

static uint32_t
wf_value(unsigned round, unsigned id)
{
	return 0x5a000000u | (round << 8) | (id + 1);
}

static void *
wf_writer(void *arg)
{
	struct wf_thread *t = arg;
	struct wf *w = t->w;

	tl_role = "fault writer";
	for (;;) {
		pthread_barrier_wait(&w->start);
		if (__atomic_load_n(&w->quit, __ATOMIC_ACQUIRE))
			break;
		for (unsigned p = 0; p < WF_PAGES; p++) {
			volatile uint32_t *slot = (volatile uint32_t *)(w->map + WF_BASE +
				p * PG) + t->id;

			*slot = wf_value(w->round, t->id);
		}
		pthread_barrier_wait(&w->end);
	}
	return NULL;
}

static void *
wf_reader(void *arg)
{
	struct wf_thread *t = arg;
	struct wf *w = t->w;
	uint64_t sum = 0;

	tl_role = "fault reader";
	for (;;) {
		pthread_barrier_wait(&w->start);
		if (__atomic_load_n(&w->quit, __ATOMIC_ACQUIRE))
			break;
		for (int pass = 0; pass < 2; pass++)
			for (unsigned p = 0; p < WF_PAGES; p++) {
				const volatile uint32_t *pg = (const volatile uint32_t *)
					(w->map + WF_BASE + p * PG);

				sum += pg[WF_WRITERS + t->id] + pg[t->id];
			}
		pthread_barrier_wait(&w->end);
	}
	return (void *)(uintptr_t)sum;
}

Test(mmap_race, write_faults_racing_read_faults_on_hole_pages_lose_no_store)
{
	struct test_pool tp;
	struct wf w;
	struct wf_thread th[WF_WRITERS + WF_READERS];
	struct deadline dl;
	daxfile_file *f;
	uint32_t page[PG / 4];
	struct stat st;

	handlers_install();
	memset(&w, 0, sizeof(w));
	test_pool_create(&tp, "mmrace", TEST_POOL_SIZE);
	f = xopen(tp.pool, "/f", O_RDWR | O_CREAT);
	TEST_OK(daxfile_ftruncate(f, 4 * MIB));
	w.map = daxfile_mmap(NULL, 4 * MIB, RW, MAP_SHARED, f, 0);
	cr_assert_neq(w.map, MAP_FAILED, "mmap: %s", daxfile_errormsg());
	deadline_start(&dl, "the write/read fault race", 60);
	cr_assert_eq(pthread_barrier_init(&w.start, NULL, WF_WRITERS + WF_READERS + 1), 0);
	cr_assert_eq(pthread_barrier_init(&w.end, NULL, WF_WRITERS + WF_READERS + 1), 0);
	for (unsigned i = 0; i < WF_WRITERS + WF_READERS; i++) {
		th[i] = (struct wf_thread){&w, i < WF_WRITERS ? i : i - WF_WRITERS, 0};
		cr_assert_eq(pthread_create(&th[i].tid, NULL, i < WF_WRITERS ?
			wf_writer : wf_reader, &th[i]), 0);
	}

	for (unsigned round = 0; round < WF_ROUNDS; round++) {
		/* the pages become holes again (every third round: preallocated) */
		TEST_OK(daxfile_fallocate(f, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
			(off_t)WF_BASE, (off_t)(WF_PAGES * PG)));
		if (round % 3 == 2)
			TEST_OK(daxfile_fallocate(f, FALLOC_FL_KEEP_SIZE, (off_t)WF_BASE,
				(off_t)(WF_PAGES * PG)));
		if (round % 5 == 4) {
			/* or the whole file truncated away and back */
			TEST_OK(daxfile_ftruncate(f, 0));
			TEST_OK(daxfile_ftruncate(f, 4 * MIB));
		}
		w.round = round;
		pthread_barrier_wait(&w.start);
		pthread_barrier_wait(&w.end);
		for (unsigned p = 0; p < WF_PAGES; p++) {
			uint64_t off = WF_BASE + p * PG;
			const uint32_t *mp = (const uint32_t *)(w.map + off);

			cr_assert_eq(daxfile_pread(f, page, PG, (off_t)off), (ssize_t)PG);
			for (unsigned s = 0; s < PG / 4; s++) {
				uint32_t want = s < WF_WRITERS ? wf_value(round, s) : 0;

				cr_assert_eq(page[s], want,
					"round %u, page %u, slot %u: pread %#x, expected %#x "
					"(a store was lost)", round, p, s, page[s], want);
				cr_assert_eq(mp[s], want,
					"round %u, page %u, slot %u: mapping %#x, expected %#x",
					round, p, s, mp[s], want);
			}
		}
	}
	__atomic_store_n(&w.quit, 1, __ATOMIC_RELEASE);
	pthread_barrier_wait(&w.start);
	for (unsigned i = 0; i < WF_WRITERS + WF_READERS; i++)
		pthread_join(th[i].tid, NULL);
	deadline_stop(&dl);
	cr_log_info("write/read fault race: %u rounds of %u pages, %u writers, "
		"%u readers", WF_ROUNDS, WF_PAGES, WF_WRITERS, WF_READERS);

	TEST_OK(daxfile_fstat(f, &st));
	cr_assert_geq((uint64_t)st.st_blocks * 512, WF_PAGES * PG);
	pthread_barrier_destroy(&w.start);
	pthread_barrier_destroy(&w.end);
	TEST_OK(daxfile_munmap(w.map, 4 * MIB));
	TEST_OK(daxfile_close(f));
	test_pool_destroy(&tp);
}

/* ===================================================================== */
/* 4. fork() while faults are served and pages are replaced              */
/* ===================================================================== */

#define FK_SIZE (8 * MIB)
#define FK_FORKS ((int)(150 * race_scale()))

struct fk {
	daxfile_file *f;
	unsigned char *map;
	int stop;
	uint64_t touches, punches;
};

static void *
fk_toucher(void *arg)
{
	struct fk *k = arg;
	uint64_t r = (uint64_t)(uintptr_t)&r;

	tl_role = "toucher";
	while (!__atomic_load_n(&k->stop, __ATOMIC_ACQUIRE)) {
		uint64_t o = mix64(r++) % FK_SIZE;
		volatile unsigned char *p = k->map + o;

		*p = (unsigned char)(*p + 1);
		count(&k->touches, 1);
	}
	return NULL;
}

static void *
fk_puncher(void *arg)
{
	struct fk *k = arg;
	uint64_t r = 5;

	tl_role = "puncher";
	while (!__atomic_load_n(&k->stop, __ATOMIC_ACQUIRE)) {
		uint64_t x = mix64(r++);
		uint64_t off = x % (FK_SIZE - 256 * KIB), len = 1 + (x >> 40) % (256 * KIB);

		if (daxfile_fallocate(k->f, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
			(off_t)off, (off_t)len) != 0) {
			thread_fail("punch %lu at %lu", (unsigned long)len,
				(unsigned long)off);
			break;
		}
		count(&k->punches, 1);
		usleep(200);
	}
	return NULL;
}

Test(mmap_race, fork_while_faults_are_served_neither_hangs_nor_hands_the_mapping_to_the_child)
{
	struct test_pool tp;
	struct fk k;
	struct deadline dl;
	pthread_t t[3];
	unsigned char *buf;
	int segv = 0;

	handlers_install();
	memset(&k, 0, sizeof(k));
	test_pool_create(&tp, "mmrace", TEST_POOL_SIZE);
	k.f = xopen(tp.pool, "/f", O_RDWR | O_CREAT);
	buf = malloc(FK_SIZE / 2);
	cr_assert_not_null(buf);
	memset(buf, 0x3c, FK_SIZE / 2);
	cr_assert_eq(daxfile_pwrite(k.f, buf, FK_SIZE / 2, 0),
		(ssize_t)(FK_SIZE / 2));
	TEST_OK(daxfile_ftruncate(k.f, FK_SIZE));
	k.map = daxfile_mmap(NULL, FK_SIZE, RW, MAP_SHARED, k.f, 0);
	cr_assert_neq(k.map, MAP_FAILED, "mmap: %s", daxfile_errormsg());

	deadline_start(&dl, "the fork race", 60);
	cr_assert_eq(pthread_create(&t[0], NULL, fk_toucher, &k), 0);
	cr_assert_eq(pthread_create(&t[1], NULL, fk_toucher, &k), 0);
	cr_assert_eq(pthread_create(&t[2], NULL, fk_puncher, &k), 0);
	for (int i = 0; i < FK_FORKS && !failed(); i++) {
		pid_t pid = fork();
		int status;

		if (pid < 0) {
			thread_fail("fork");
			break;
		}
		if (pid == 0) {
			/* the child: its copy of the mapping's range is empty */
			signal(SIGSEGV, SIG_DFL);
			signal(SIGBUS, SIG_DFL);
			if (i % 2)
				(void)*(volatile unsigned char *)(k.map +
					mix64((uint64_t)i) % FK_SIZE);
			_exit(3);
		}
		if (waitpid(pid, &status, 0) != pid) {
			thread_fail("waitpid");
			break;
		}
		if (i % 2 && !(WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV)) {
			thread_fail("child %d touching the mapping: status %#x, expected "
				"death by SIGSEGV", i, status);
			break;
		}
		if (!(i % 2) && !(WIFEXITED(status) && WEXITSTATUS(status) == 3)) {
			thread_fail("child %d: status %#x, expected exit 3", i, status);
			break;
		}
		segv += i % 2;
	}
	__atomic_store_n(&k.stop, 1, __ATOMIC_RELEASE);
	for (int i = 0; i < 3; i++)
		pthread_join(t[i], NULL);
	deadline_stop(&dl);
	cr_log_info("fork race: %d forks (%d children killed by SIGSEGV), %lu "
		"touches, %lu punches", FK_FORKS, segv, (unsigned long)k.touches,
		(unsigned long)k.punches);
	assert_no_failure();
	cr_assert_gt(k.touches, 0);

	/* the parent's mapping still agrees with the file */
	cr_assert_eq(daxfile_pread(k.f, buf, FK_SIZE / 2, FK_SIZE / 2),
		(ssize_t)(FK_SIZE / 2));
	cr_assert_eq(memcmp(buf, k.map + FK_SIZE / 2, FK_SIZE / 2), 0);
	free(buf);
	TEST_OK(daxfile_munmap(k.map, FK_SIZE));
	TEST_OK(daxfile_close(k.f));
	test_pool_destroy(&tp);
}

/* ===================================================================== */
/* 5. write() racing store faults over preallocated (unwritten) blocks   */
/* ===================================================================== */

/*
 * Every round turns the file's blocks unwritten again (ZERO_RANGE); then a
 * writer pwrites the first half of every block, in ascending order, while
 * a storer, once the writer is a random way in, stores the second half of
 * every block through a shared mapping, in descending order.  The store
 * fault converts the unwritten run while the writer is at work on it.
 * Every byte of every successful pwrite and every store must be there
 * afterwards.
 */
#define UW_SIZE (2 * MIB)
#define UW_HALF (PG / 2)
#define UW_SECONDS (1.5 * race_scale())

struct uw {
	daxfile_file *f;
	unsigned char *map;
	pthread_barrier_t start, end;
	unsigned round;
	uint64_t progress;	/* blocks the writer has written this round */
	int quit;
};

/* uw_byte -- what byte i of half 'half' of block b holds after 'round'. */
static unsigned char
uw_byte(unsigned round, uint64_t b, unsigned half, uint64_t i)
{
	return (unsigned char)(mix64(((uint64_t)round << 40) ^ (b << 12) ^
		(half << 11) ^ (i >> 3)) >> (8 * (i & 7))) | 1;
}

static void
uw_fill(unsigned char *p, unsigned round, uint64_t b, unsigned half)
{
	for (uint64_t i = 0; i < UW_HALF; i++)
		p[i] = uw_byte(round, b, half, i);
}

/* uw_check -- the first byte of the file that is not what the round left. */
static void
uw_check(const unsigned char *got, unsigned char *want, unsigned round)
{
	for (uint64_t b = 0; b < UW_SIZE / PG; b++) {
		uw_fill(want + b * PG, round, b, 0);
		uw_fill(want + b * PG + UW_HALF, round, b, 1);
	}
	if (memcmp(got, want, UW_SIZE) == 0)
		return;
	for (uint64_t i = 0; i < UW_SIZE; i++) {
		bool stored = i % PG >= UW_HALF;

		cr_assert_eq(got[i], want[i], "round %u: byte %lu of block %lu (%s) "
			"is %#x: a successful %s was lost", round,
			(unsigned long)(i % PG), (unsigned long)(i / PG),
			stored ? "stored" : "written", got[i],
			stored ? "store" : "pwrite");
	}
}

static void *
uw_writer(void *arg)
{
	struct uw *u = arg;
	unsigned char buf[UW_HALF];

	tl_role = "unwritten writer";
	for (;;) {
		pthread_barrier_wait(&u->start);
		if (__atomic_load_n(&u->quit, __ATOMIC_ACQUIRE))
			break;
		for (uint64_t b = 0; b < UW_SIZE / PG && !failed(); b++) {
			uw_fill(buf, u->round, b, 0);
			if (daxfile_pwrite(u->f, buf, UW_HALF, (off_t)(b * PG)) !=
			    (ssize_t)UW_HALF)
				thread_fail("pwrite of block %lu", (unsigned long)b);
			__atomic_store_n(&u->progress, b + 1, __ATOMIC_RELEASE);
		}
		pthread_barrier_wait(&u->end);
	}
	return NULL;
}

static void *
uw_storer(void *arg)
{
	struct uw *u = arg;
	unsigned char buf[UW_HALF];

	tl_role = "unwritten storer";
	for (;;) {
		uint64_t at;

		pthread_barrier_wait(&u->start);
		if (__atomic_load_n(&u->quit, __ATOMIC_ACQUIRE))
			break;
		at = mix64(u->round) % (UW_SIZE / PG);
		while (__atomic_load_n(&u->progress, __ATOMIC_ACQUIRE) < at)
			;
		for (uint64_t b = UW_SIZE / PG; b-- > 0;) {
			uw_fill(buf, u->round, b, 1);
			memcpy(u->map + b * PG + UW_HALF, buf, UW_HALF);
		}
		pthread_barrier_wait(&u->end);
	}
	return NULL;
}

Test(mmap_race, writes_and_store_faults_into_preallocated_blocks_lose_no_byte)
{
	struct test_pool tp;
	struct uw u;
	pthread_t writer, storer;
	struct deadline dl;
	unsigned char *got, *want;
	unsigned rounds = 0;
	double t0;

	handlers_install();
	memset(&u, 0, sizeof(u));
	test_pool_create(&tp, "mmrace", TEST_POOL_SIZE);
	u.f = xopen(tp.pool, "/f", O_RDWR | O_CREAT);
	TEST_OK(daxfile_ftruncate(u.f, UW_SIZE));
	u.map = daxfile_mmap(NULL, UW_SIZE, RW, MAP_SHARED, u.f, 0);
	cr_assert_neq(u.map, MAP_FAILED, "mmap: %s", daxfile_errormsg());
	got = xmalloc(UW_SIZE);
	want = xmalloc(UW_SIZE);
	deadline_start(&dl, "the write/store race over unwritten blocks", 120);
	cr_assert_eq(pthread_barrier_init(&u.start, NULL, 3), 0);
	cr_assert_eq(pthread_barrier_init(&u.end, NULL, 3), 0);
	cr_assert_eq(pthread_create(&writer, NULL, uw_writer, &u), 0);
	cr_assert_eq(pthread_create(&storer, NULL, uw_storer, &u), 0);
	t0 = now();
	for (unsigned round = 0; now() - t0 < UW_SECONDS && !failed(); round++) {
		TEST_OK(daxfile_fallocate(u.f, FALLOC_FL_ZERO_RANGE, 0, UW_SIZE));
		u.round = round;
		u.progress = 0;
		pthread_barrier_wait(&u.start);
		pthread_barrier_wait(&u.end);
		cr_assert_eq(daxfile_pread(u.f, got, UW_SIZE, 0), (ssize_t)UW_SIZE);
		uw_check(got, want, round);
		rounds++;
	}
	__atomic_store_n(&u.quit, 1, __ATOMIC_RELEASE);
	pthread_barrier_wait(&u.start);
	pthread_join(writer, NULL);
	pthread_join(storer, NULL);
	deadline_stop(&dl);
	assert_no_failure();
	cr_log_info("write/store race over unwritten blocks: %u rounds", rounds);
	cr_assert_gt(rounds, 0);
	free(got);
	free(want);
	pthread_barrier_destroy(&u.start);
	pthread_barrier_destroy(&u.end);
	TEST_OK(daxfile_munmap(u.map, UW_SIZE));
	TEST_OK(daxfile_close(u.f));
	test_pool_destroy(&tp);
}

/* ===================================================================== */
/* 6. Insert and collapse range against faults in flight                  */
/* ===================================================================== */

/*
 * One thread shifts a file by insert and collapse range (mostly at offset
 * 0, often by 0xe000, as in the exerciser run that once read zeros there)
 * while two others keep reading its first megabyte through a shared
 * mapping, so that faults are queued or being served whenever a shift
 * waits for the mmaplock.  Right after each shift the shifter reads every
 * page of the file through that mapping and through a new one: each must
 * hold what the model says (the tags of the pages shifted there, zeros in
 * an inserted range), never a hole where data was.  Then it fills the
 * inserted range.
 */
#define SH_MIN (1 * MIB)
#define SH_MAX (2 * MIB)
#define SH_PAGES (SH_MAX / PG)
#define SH_SECONDS (1.5 * race_scale())
#define SH_KEY 0x5e1f000000000000ULL
#define SH_KEY_MASK 0xffff000000000000ULL

struct sh {
	daxfile_file *f;
	volatile uint64_t *map;		/* SH_MAX bytes, shared, the whole test */
	uint64_t tag[SH_PAGES];		/* page p's words: tag[p] + index; 0: zeros */
	uint64_t size;			/* bytes, a whole number of pages */
	uint64_t next;			/* tags handed out */
	int stop;
};

static uint64_t
sh_word(uint64_t tag, uint64_t i)
{
	return tag == 0 ? 0 : tag + i;
}

/* sh_fill -- write fresh tags into pages [p, p + n). */
static void
sh_fill(struct sh *s, uint64_t p, uint64_t n)
{
	uint64_t buf[PG / 8];

	for (uint64_t q = p; q < p + n && !failed(); q++) {
		s->tag[q] = SH_KEY | (++s->next << 12);
		for (uint64_t i = 0; i < PG / 8; i++)
			buf[i] = sh_word(s->tag[q], i);
		if (daxfile_pwrite(s->f, buf, PG, (off_t)(q * PG)) != (ssize_t)PG)
			thread_fail("pwrite of page %lu: %s", (unsigned long)q,
				daxfile_errormsg());
	}
}

/* sh_check -- two words of every page below EOF, read through 'm'. */
static void
sh_check(const struct sh *s, const volatile uint64_t *m, const char *what,
	const char *op)
{
	for (uint64_t p = 0; p < s->size / PG && !failed(); p++) {
		uint64_t idx[2] = {0, mix64(p ^ s->next) % (PG / 8)};

		for (int k = 0; k < 2; k++) {
			uint64_t got = m[p * (PG / 8) + idx[k]];
			uint64_t want = sh_word(s->tag[p], idx[k]);

			if (got != want)
				thread_fail("right after %s, %s reads %#lx at file "
					"offset %#lx, expected %#lx", op, what,
					(unsigned long)got,
					(unsigned long)(p * PG + idx[k] * 8),
					(unsigned long)want);
		}
	}
}

/* sh_shift -- one insert or collapse range, the model shifted alike. */
static void
sh_shift(struct sh *s, uint64_t round, char *op, size_t oplen)
{
	uint64_t pages = s->size / PG, r = mix64(round);
	uint64_t n = r % 3 == 0 ? 0xe000 / PG : 1 + (r >> 8) % 16;
	uint64_t at = (r >> 16) % 4 == 0 ? (r >> 24) % (pages - n) : 0;
	bool insert = (r >> 40) & 1;
	int mode;

	if (s->size + n * PG > SH_MAX)
		insert = false;
	else if (s->size - n * PG < SH_MIN)
		insert = true;
	mode = insert ? FALLOC_FL_INSERT_RANGE : FALLOC_FL_COLLAPSE_RANGE;
	snprintf(op, oplen, "%s range of %#lx at %#lx",
		insert ? "insert" : "collapse", (unsigned long)(n * PG),
		(unsigned long)(at * PG));
	if (daxfile_fallocate(s->f, mode, (off_t)(at * PG), (off_t)(n * PG)) != 0) {
		thread_fail("%s: %s", op, daxfile_errormsg());
		return;
	}
	if (insert) {
		memmove(&s->tag[at + n], &s->tag[at], (pages - at) * 8);
		memset(&s->tag[at], 0, n * 8);
		s->size += n * PG;
	} else {
		memmove(&s->tag[at], &s->tag[at + n], (pages - at - n) * 8);
		s->size -= n * PG;
	}
}

static void *
sh_toucher(void *arg)
{
	struct sh *s = arg;

	tl_role = "shift toucher";
	for (uint64_t k = mix64((uintptr_t)&k); !failed() &&
	     !__atomic_load_n(&s->stop, __ATOMIC_ACQUIRE); k++) {
		/* half of the reads in the first 64 KiB, where shifts start */
		uint64_t r = mix64(k);
		uint64_t w = r % ((r & 1 ? 64 * KIB : SH_MIN) / 8);
		uint64_t v = s->map[w];

		if (v != 0 && (v & SH_KEY_MASK) != SH_KEY)
			thread_fail("a reader found %#lx at file offset %#lx: "
				"not the file's bytes", (unsigned long)v,
				(unsigned long)(w * 8));
	}
	return NULL;
}

Test(mmap_race, a_mapped_read_right_after_insert_or_collapse_range_sees_the_shifted_bytes)
{
	struct test_pool tp;
	struct deadline dl;
	struct sh *s = (struct sh *)xmalloc(sizeof(*s));
	pthread_t t[2];
	unsigned rounds = 0;
	char op[96];
	double t0;

	handlers_install();
	memset(s, 0, sizeof(*s));
	test_pool_create(&tp, "mmrace", TEST_POOL_SIZE);
	s->f = xopen(tp.pool, "/f", O_RDWR | O_CREAT);
	s->size = (SH_MIN + SH_MAX) / 2;
	sh_fill(s, 0, s->size / PG);
	s->map = daxfile_mmap(NULL, SH_MAX, PROT_READ, MAP_SHARED, s->f, 0);
	cr_assert_neq(s->map, MAP_FAILED, "mmap: %s", daxfile_errormsg());
	deadline_start(&dl, "insert and collapse range against mapped reads", 120);
	for (int i = 0; i < 2; i++)
		cr_assert_eq(pthread_create(&t[i], NULL, sh_toucher, s), 0);
	t0 = now();
	while (now() - t0 < SH_SECONDS && !failed()) {
		volatile uint64_t *m2;
		uint64_t before = s->size;

		sh_shift(s, rounds, op, sizeof(op));
		sh_check(s, s->map, "the mapping that readers use", op);
		m2 = daxfile_mmap(NULL, s->size, PROT_READ, MAP_SHARED, s->f, 0);
		if (m2 == MAP_FAILED) {
			thread_fail("mmap: %s", daxfile_errormsg());
			break;
		}
		sh_check(s, m2, "a new mapping", op);
		daxfile_munmap((void *)m2, s->size);
		for (uint64_t p = 0; p < s->size / PG && s->size > before; p++)
			if (s->tag[p] == 0)
				sh_fill(s, p, 1);
		rounds++;
	}
	__atomic_store_n(&s->stop, 1, __ATOMIC_RELEASE);
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	deadline_stop(&dl);
	assert_no_failure();
	cr_log_info("insert and collapse range against mapped reads: %u shifts",
		rounds);
	cr_assert_gt(rounds, 0);
	TEST_OK(daxfile_munmap((void *)s->map, SH_MAX));
	TEST_OK(daxfile_close(s->f));
	test_pool_destroy(&tp);
	free(s);
}
