/*
 * dispatch.c -- system call instructions outside the C library.  With the
 * kernel's syscall user dispatch (PR_SET_SYSCALL_USER_DISPATCH), a system
 * call made by code outside one address range traps with SIGSYS before the
 * kernel runs it; the handler serves it as syscall(2) is served
 * (syscall.c) and puts the result where the instruction would have.  The
 * range runs from the C library's code up to the loader's, so it holds
 * the C library, the vDSO (its clock fallbacks), the loader and the
 * libraries loaded before the C library, this layer among them: the
 * calls of the hot path, which the layer interposes by symbol, never take
 * a signal; a program's own syscall instructions (inline assembly, a
 * runtime's own wrappers) and those of libraries loaded after the C
 * library do.
 *
 * Dispatch is per thread and neither threads nor fork children inherit
 * it: the layer turns it on in the first thread, in threads made with
 * pthread_create, and in fork children.  A trapped call in a thread that
 * blocks SIGSYS would kill the process, so the layer keeps SIGSYS out of
 * every mask a program sets, and keeps its handler while the program
 * believes it has its own (which is called for every other SIGSYS).
 * DAXFILE_PRELOAD_DISPATCH=0 turns it off.
 */
#define _GNU_SOURCE 1
#include <link.h>
#include <linux/audit.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <ucontext.h>

#include "dispatch.h"
#include "entry.h"
#include "syscall.h"

#ifndef PR_SET_SYSCALL_USER_DISPATCH
#define PR_SET_SYSCALL_USER_DISPATCH 59
#define PR_SYS_DISPATCH_OFF 0
#define PR_SYS_DISPATCH_ON 1
#endif
#ifndef SYSCALL_DISPATCH_FILTER_ALLOW
#define SYSCALL_DISPATCH_FILTER_ALLOW 0
#define SYSCALL_DISPATCH_FILTER_BLOCK 1
#endif
#ifndef SA_RESTORER
#define SA_RESTORER 0x04000000
#endif
#ifndef SYS_USER_DISPATCH
#define SYS_USER_DISPATCH 2	/* si_code of a dispatched call's SIGSYS */
#endif

/* the kernel's sigaction, as rt_sigaction(2) takes it */
struct kernel_sigaction {
	void *handler;
	unsigned long flags;
	void *restorer;
	uint64_t mask;
};

#define SIGSYS_BIT (UINT64_C(1) << (SIGSYS - 1))
#define UNBLOCKABLE (SIGSYS_BIT | (UINT64_C(1) << (SIGKILL - 1)) | \
	(UINT64_C(1) << (SIGSTOP - 1)))

bool dxp_dispatch_on;
static uintptr_t range_start, range_len;
static __thread char selector __attribute__((tls_model("initial-exec")));

/* the program's SIGSYS action, which it believes is installed */
static struct sigaction program_sigsys;
static pthread_mutex_t program_sigsys_lock = PTHREAD_MUTEX_INITIALIZER;

/* the range: the C library's code up to the vDSO's and the loader's */
struct range_search {
	uintptr_t libc_fn, ldso, vdso;
	uintptr_t libc_lo, libc_hi, hi;
};

static int
range_of_object(struct dl_phdr_info *info, size_t size, void *arg)
{
	struct range_search *s = arg;
	uintptr_t lo = UINTPTR_MAX, hi = 0, any_lo = UINTPTR_MAX, any_hi = 0;

	(void)size;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *p = &info->dlpi_phdr[i];
		uintptr_t a = info->dlpi_addr + p->p_vaddr;

		if (p->p_type != PT_LOAD)
			continue;
		if (a < any_lo)
			any_lo = a;
		if (a + p->p_memsz > any_hi)
			any_hi = a + p->p_memsz;
		if (!(p->p_flags & PF_X))
			continue;
		if (a < lo)
			lo = a;
		if (a + p->p_memsz > hi)
			hi = a + p->p_memsz;
	}
	if (hi == 0)
		return 0;
	if (s->libc_fn >= lo && s->libc_fn < hi) {
		s->libc_lo = lo;
		s->libc_hi = hi;
	} else if ((s->ldso >= any_lo && s->ldso < any_hi) ||
			(s->vdso >= any_lo && s->vdso < any_hi)) {
		if (hi > s->hi)
			s->hi = hi;
	}
	return 0;
}

/* find_range -- false if the C library's code was not found */
static bool
find_range(void)
{
	struct range_search s = {
		.libc_fn = (uintptr_t)REAL(syscall),
		.ldso = getauxval(AT_BASE),
		.vdso = getauxval(AT_SYSINFO_EHDR),
	};

	dl_iterate_phdr(range_of_object, &s);
	if (s.libc_hi == 0)
		return false;
	range_start = s.libc_lo;
	range_len = (s.hi > s.libc_hi ? s.hi : s.libc_hi) - s.libc_lo;
	return true;
}

void
dxp_dispatch_thread(void)
{
	if (!dxp_dispatch_on)
		return;
	selector = SYSCALL_DISPATCH_FILTER_BLOCK;
	prctl(PR_SET_SYSCALL_USER_DISPATCH, PR_SYS_DISPATCH_ON, range_start,
		range_len, &selector);
}

/* the program's SIGSYS: a seccomp trap, kill(2), ... */
static void
program_sigsys_deliver(int sig, siginfo_t *si, void *ctx)
{
	struct sigaction a;

	pthread_mutex_lock(&program_sigsys_lock);
	a = program_sigsys;
	if (a.sa_flags & SA_RESETHAND)
		program_sigsys.sa_handler = SIG_DFL;
	pthread_mutex_unlock(&program_sigsys_lock);
	if (a.sa_flags & SA_SIGINFO) {
		a.sa_sigaction(sig, si, ctx);
	} else if (a.sa_handler == SIG_DFL) {
		struct sigaction dfl = {.sa_handler = SIG_DFL};

		REAL(sigaction)(SIGSYS, &dfl, NULL);
		raise(SIGSYS);	/* SIGSYS is not blocked here (SA_NODEFER) */
	} else if (a.sa_handler != SIG_IGN) {
		a.sa_handler(sig);
	}
}

/* the program's rt_sigprocmask: on the mask its context returns to */
static long
trapped_sigprocmask(ucontext_t *uc, const long a[6])
{
	uint64_t *cur = (uint64_t *)&uc->uc_sigmask, old = *cur, set;

	if (a[3] != sizeof(uint64_t))
		return -EINVAL;
	if (a[1] != 0) {
		set = *(const uint64_t *)a[1];
		switch (a[0]) {
		case SIG_BLOCK: *cur |= set; break;
		case SIG_UNBLOCK: *cur &= ~set; break;
		case SIG_SETMASK: *cur = set; break;
		default: return -EINVAL;
		}
		*cur &= ~UNBLOCKABLE;
	}
	if (a[2] != 0)
		*(uint64_t *)a[2] = old;
	return 0;
}

/* the program's rt_sigaction of SIGSYS: kept, not installed */
static long
trapped_sigaction(const long a[6])
{
	const struct kernel_sigaction *act = (const void *)a[1];
	struct kernel_sigaction *old = (void *)a[2];

	if (a[3] != sizeof(uint64_t))
		return -EINVAL;
	pthread_mutex_lock(&program_sigsys_lock);
	if (old != NULL) {
		memset(old, 0, sizeof(*old));
		old->handler = (void *)program_sigsys.sa_handler;
		old->flags = (unsigned long)program_sigsys.sa_flags;
		memcpy(&old->mask, &program_sigsys.sa_mask, sizeof(old->mask));
	}
	if (act != NULL) {
		memset(&program_sigsys, 0, sizeof(program_sigsys));
		program_sigsys.sa_handler = (void (*)(int))act->handler;
		program_sigsys.sa_flags = (int)(act->flags & ~SA_RESTORER);
		memcpy(&program_sigsys.sa_mask, &act->mask, sizeof(act->mask));
	}
	pthread_mutex_unlock(&program_sigsys_lock);
	return 0;
}

/*
 * must_run_in_place -- calls that depend on the instruction's own stack
 * and registers (a new thread or a vfork child starts from them; a
 * sigreturn restores them) and calls of another ABI: the thread stops
 * trapping and the instruction runs again, now allowed.
 */
static bool
must_run_in_place(long nr, const long a[6], const siginfo_t *si)
{
	if (si->si_arch != AUDIT_ARCH_X86_64 || (nr & __X32_SYSCALL_BIT))
		return true;
	switch (nr) {
	case SYS_rt_sigreturn:
	case SYS_clone3:
	case SYS_vfork:
		return true;
	case SYS_clone:
		return a[0] != SIGCHLD || a[1] != 0;
	default:
		return false;
	}
}

static void
on_sigsys(int sig, siginfo_t *si, void *ctx)
{
	ucontext_t *uc = ctx;
	greg_t *g = uc->uc_mcontext.gregs;
	long nr = si->si_syscall, r;
	long a[6] = {g[REG_RDI], g[REG_RSI], g[REG_RDX], g[REG_R10], g[REG_R8],
		g[REG_R9]};
	int e = errno;

	if (si->si_code != SYS_USER_DISPATCH) {
		program_sigsys_deliver(sig, si, ctx);
		return;
	}
	if (must_run_in_place(nr, a, si)) {
		selector = SYSCALL_DISPATCH_FILTER_ALLOW;
		g[REG_RIP] -= 2;	/* syscall and int $0x80 are 2 bytes */
		g[REG_RAX] = nr;
		return;
	}
	if (nr == SYS_rt_sigprocmask) {
		r = trapped_sigprocmask(uc, a);
	} else if (nr == SYS_rt_sigaction && a[0] == SIGSYS) {
		r = trapped_sigaction(a);
	} else {
		if (nr == SYS_fork || nr == SYS_clone)
			r = fork();	/* the layer's: the child gives up pools */
		else if (!dxp_syscall_serve(nr, a, &r))
			r = REAL(syscall)(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
		if (r == -1)
			r = -errno;
		if (r == 0 && nr == SYS_sigaltstack && a[0] != 0)
			memcpy(&uc->uc_stack, (const void *)a[0], sizeof(stack_t));
	}
	g[REG_RAX] = r;
	errno = e;
}

void
dxp_dispatch_start(void)
{
	const char *env = getenv("DAXFILE_PRELOAD_DISPATCH");
	struct sigaction sa = {.sa_sigaction = on_sigsys,
		.sa_flags = SA_SIGINFO | SA_NODEFER | SA_RESTART};
	sigset_t sys;

	if (env != NULL && strcmp(env, "0") == 0)
		return;
	if (!find_range())
		return;
	/* the program's own action, if it set one before the layer started */
	if (REAL(sigaction)(SIGSYS, &sa, &program_sigsys) != 0)
		return;
	sigemptyset(&sys);
	sigaddset(&sys, SIGSYS);
	REAL(pthread_sigmask)(SIG_UNBLOCK, &sys, NULL);
	dxp_dispatch_on = true;
	dxp_dispatch_thread();
}

/* strip -- a program's signal mask without SIGSYS */
static const sigset_t *
strip(int how, const sigset_t *set, sigset_t *copy)
{
	if (!dxp_dispatch_on || set == NULL || how == SIG_UNBLOCK ||
			!sigismember(set, SIGSYS))
		return set;
	*copy = *set;
	sigdelset(copy, SIGSYS);
	return copy;
}

DXP_EXPORT int
sigprocmask(int how, const sigset_t *set, sigset_t *old)
{
	sigset_t copy;

	return REAL(sigprocmask)(how, strip(how, set, &copy), old);
}

DXP_EXPORT int
pthread_sigmask(int how, const sigset_t *set, sigset_t *old)
{
	sigset_t copy;

	return REAL(pthread_sigmask)(how, strip(how, set, &copy), old);
}

DXP_EXPORT int
sigaction(int sig, const struct sigaction *act, struct sigaction *old)
{
	if (sig != SIGSYS || !dxp_dispatch_on)
		return REAL(sigaction)(sig, act, old);
	pthread_mutex_lock(&program_sigsys_lock);
	if (old != NULL)
		*old = program_sigsys;
	if (act != NULL)
		program_sigsys = *act;
	pthread_mutex_unlock(&program_sigsys_lock);
	return 0;
}

DXP_EXPORT sighandler_t
signal(int sig, sighandler_t handler)
{
	struct sigaction act = {.sa_handler = handler, .sa_flags = SA_RESTART},
		old;

	if (sig != SIGSYS || !dxp_dispatch_on)
		return REAL(signal)(sig, handler);
	sigaction(sig, &act, &old);
	return old.sa_handler;
}

/* a thread made by the program traps as its creator does */
struct thread_start {
	void *(*fn)(void *);
	void *arg;
};

static void *
thread_main(void *p)
{
	struct thread_start s = *(struct thread_start *)p;

	free(p);
	dxp_dispatch_thread();
	return s.fn(s.arg);
}

DXP_EXPORT int
pthread_create(pthread_t *t, const pthread_attr_t *attr,
	void *(*fn)(void *), void *arg)
{
	struct thread_start *s;
	int ret;

	if (!dxp_dispatch_on)
		return REAL(pthread_create)(t, attr, fn, arg);
	if ((s = malloc(sizeof(*s))) == NULL)
		return EAGAIN;
	s->fn = fn;
	s->arg = arg;
	ret = REAL(pthread_create)(t, attr, thread_main, s);
	if (ret != 0)
		free(s);
	return ret;
}
