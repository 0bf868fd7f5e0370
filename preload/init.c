/*
 * init.c -- the layer's start in each process image (the mount table, the
 * current directory, state handed across exec, the standard streams) and
 * its part in fork: a child gives up its parent's pools.
 */
#define _GNU_SOURCE 1
#include <linux/futex.h>
#include <linux/membarrier.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "dispatch.h"
#include "entry.h"
#include "process.h"
#include "service.h"

int
dxp_lib_missing(const char *fn)
{
	static const char *said[16];
	static atomic_int nsaid;
	int n = atomic_load(&nsaid);
	bool known = false;

	for (int i = 0; i < n && i < 16; i++)
		known |= said[i] == fn;
	if (!known && n < 16 && atomic_compare_exchange_strong(&nsaid, &n, n + 1)) {
		said[n] = fn;
		if (!dxp_fd_is_pool(2) && getenv("DAXFILE_PRELOAD_VERBOSE") != NULL)
			dprintf(2, "libdaxfile-preload: this libdaxfile has no %s: ENOSYS\n",
				fn);
	}
	errno = ENOSYS;
	return -1;
}

/*
 * The fork gate.  A child lets go of the pools it inherits (fork_child,
 * daxfile_pool_forget) by copying the run-time fields libpmemobj keeps in
 * the pool's first pages, for the pmemobj_close it owes; they are the
 * shared file's pages.  Were the parent to give a pool up meanwhile (its
 * close rewrites those fields), the child would copy a closed pool and
 * crash in that close.  So a parent with a pool attached keeps what every
 * giving up takes (dxp_service_fork_prepare) until its child has let go:
 * the child says so in a page the two share, or the parent sees it gone.
 */
static _Atomic uint32_t *fork_gate;

/* gate_make -- the page of this fork's gate, if the child has pools to forget. */
static _Atomic uint32_t *
gate_make(void)
{
	void *p;
	bool attached = false;

	for (int i = 0; i < dxp_nmounts && !attached; i++)
		attached = atomic_load(&dxp_mounts[i].pool) != NULL;
	if (!attached)
		return NULL;
	p = mmap(NULL, (size_t)sysconf(_SC_PAGESIZE), PROT_READ | PROT_WRITE,
		MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	return p == MAP_FAILED ? NULL : p;
}

/* gate_open -- in the child, once its pools are forgotten. */
static void
gate_open(void)
{
	_Atomic uint32_t *g = fork_gate;

	if (g == NULL)
		return;
	fork_gate = NULL;
	atomic_store(g, 1);
	(void)syscall(SYS_futex, g, FUTEX_WAKE, 1, NULL, NULL, 0);
	munmap((void *)g, (size_t)sysconf(_SC_PAGESIZE));
}

/*
 * gate_wait -- in the parent, until child 'pid' has opened the gate or is
 * gone (looked at without reaping it; with SIGCHLD ignored the kernel
 * reaps it and waitid says ECHILD), for 5 s at most: a child stopped in
 * its fork handlers (a debugger's, SIGSTOP) does not stop its parent.
 */
static void
gate_wait(_Atomic uint32_t *g, pid_t pid)
{
	for (int waits = 0; atomic_load(g) == 0 && waits < 500; waits++) {
		struct timespec ts = {0, 10 * 1000 * 1000};
		siginfo_t si;

		(void)syscall(SYS_futex, g, FUTEX_WAIT, 0, &ts, NULL, 0);
		if (atomic_load(g) != 0)
			break;
		si.si_pid = 0;
		if (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) != 0 ||
		    si.si_pid == pid)
			break;
	}
}

/*
 * fork -- note every offset for the child to start from, and wait for a
 * hand-over in progress to end, before the fork handlers run: the
 * library's take its mapping locks, which rank below a file's offset lock
 * (doc/locking.md) and which a hand-over's pool close may need, so
 * neither can be a prepare handler.  No pool is given up then until the
 * child has let go of its copy (the fork gate).
 */
DXP_EXPORT pid_t
fork(void)
{
	_Atomic uint32_t *gate;
	pid_t pid;

	if (dxp_nmounts == 0)
		return REAL(fork)();
	if (atomic_load(&dxp_nfds) != 0)
		dxp_fd_save_offsets();
	dxp_service_fork_prepare();
	gate = fork_gate = gate_make();
	pid = REAL(fork)();
	if (pid != 0) {
		if (gate != NULL) {
			if (pid > 0)
				gate_wait(gate, pid);
			munmap((void *)gate, (size_t)sysconf(_SC_PAGESIZE));
		}
		fork_gate = NULL;
		dxp_service_fork_parent();	/* the child's: fork_child */
	}
	return pid;
}

/*
 * vfork -- fork.  A child of vfork runs in its parent's memory until it
 * execs, and what it does before (Python's subprocess dup2s a pool
 * descriptor onto its stdout there) would change the parent's descriptor
 * table and pools.  A wrapper cannot call the C library's vfork (the child
 * would return from the wrapper's frame, which the parent needs), and
 * POSIX lets vfork be fork.
 */
DXP_EXPORT pid_t
vfork(void)
{
	return fork();
}

/*
 * fork_child -- the child shares its parent's open pools' descriptors but
 * not the library's threads nor a consistent copy of its memory: it drops
 * the library's descriptors (which would keep the parent's lock on the
 * pool file alive) and opens a pool again, as its own, at its first use.
 */
static void
fork_child(void)
{
	dxp_fd_forked();
	dxp_cwd_forked();
	if (dxp_mount_forget())
		dxp_mount_close_inherited();
	gate_open();
	dxp_service_forget();
	dxp_mmap_forget();
	dxp_fd_detach_all();
	dxp_process_forked();
	dxp_dispatch_thread();
}

/*
 * dxp_membarrier_register -- the library's writer bias (its
 * doc/locking.md) revokes with membarrier(2), for which a process
 * registers once.  Registering costs microseconds while the process has
 * one thread and an RCU grace period (15 to 20 ms measured) once it has
 * more, as it may when the library is loaded at the first use of a pool:
 * so it is done here, at the start of the image.  The library's own
 * registration then finds it done.  A kernel without it refuses; the
 * library then goes without the bias.
 */
static void
dxp_membarrier_register(void)
{
	(void)syscall(SYS_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED,
		0, 0);
}

/*
 * dxp_fini -- at exit, the offsets of descriptions other processes share
 * (a shell's child goes on writing where its parent stopped).
 */
__attribute__((destructor)) static void
dxp_fini(void)
{
	if (atomic_load(&dxp_nfds) != 0)
		dxp_fd_save_offsets();
}

__attribute__((constructor)) static void
dxp_init(void)
{
	dxp_real_init();
	if (dxp_mount_init() != 0 || dxp_nmounts == 0)
		return;
	dxp_umask_init();
	dxp_cwd_init();
	dxp_membarrier_register();
	dxp_process_restore();
	for (int fd = 0; fd <= 2; fd++)
		if (dxp_fd_is_pool(fd))
			dxp_std_adopt(fd);
	pthread_atfork(NULL, NULL, fork_child);
	dxp_dispatch_start();
}
