/*
 * testmap.h -- helpers the mapping tests share: probes (one access that may
 * fault, the signal it raised) and mappings that must be made.
 */
#ifndef DX_TESTMAP_H
#define DX_TESTMAP_H 1

#include <setjmp.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/mman.h>

#include "testpool.h"

/*
 * A probe is one access that may fault: the handler records the signal and
 * jumps back.  A fault outside a probe reports itself and crashes the test.
 */
static sigjmp_buf probe_env;
static volatile sig_atomic_t probe_armed;
static volatile int probe_sig, probe_code;
static void *volatile probe_addr;

static void
probe_handler(int sig, siginfo_t *si, void *ctx)
{
	(void)ctx;
	if (!probe_armed) {
		static const char msg[] = "unexpected fault outside a probe\n";

		(void)!write(2, msg, sizeof(msg) - 1);
		signal(sig, SIG_DFL);
		return;
	}
	probe_armed = 0;
	probe_sig = sig;
	probe_code = si->si_code;
	probe_addr = si->si_addr;
	siglongjmp(probe_env, 1);
}

static inline void
probe_install(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = probe_handler;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	cr_assert_eq(sigaction(SIGBUS, &sa, NULL), 0);
	cr_assert_eq(sigaction(SIGSEGV, &sa, NULL), 0);
}

/* probe -- load (or store v) one byte at p: 0, or the signal it raised. */
static __attribute__((noinline)) int
probe(volatile unsigned char *p, bool store, unsigned char v,
	unsigned char *out)
{
	probe_sig = 0;
	if (sigsetjmp(probe_env, 1) != 0)
		return probe_sig;
	probe_armed = 1;
	if (store)
		*p = v;
	else
		*out = *p;
	probe_armed = 0;
	return 0;
}

static inline unsigned char *
xmap(size_t len, int prot, int flags, daxfile_file *f, uint64_t off)
{
	void *p = daxfile_mmap(NULL, len, prot, flags, f, (off_t)off);

	cr_assert_neq(p, MAP_FAILED, "daxfile_mmap(%zu at %lu): %s (%s)", len,
		(unsigned long)off, strerror(errno), daxfile_errormsg());
	return p;
}

static inline void
xunmap(void *p, size_t len)
{
	TEST_OK(daxfile_munmap(p, len));
}

#endif /* DX_TESTMAP_H */
