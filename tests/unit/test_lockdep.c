/*
 * test_lockdep.c -- the lock-order validator itself: orders that follow the
 * hierarchy pass; an inversion, a cycle, recursion, decreasing keys of an
 * ordered class and a user-memory access under the mmaplock abort with both
 * lock classes and both call sites named.
 */
#include <criterion/criterion.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lock.h"

/*
 * run_child -- run fn in a child process; return how it ended and what it
 * wrote to stderr.
 */
static int
run_child(void (*fn)(void), char *out, size_t n)
{
	int pfd[2], status;
	ssize_t got, total = 0;
	pid_t pid;

	cr_assert_eq(pipe(pfd), 0);
	pid = fork();
	cr_assert_neq(pid, -1);
	if (pid == 0) {
		dup2(pfd[1], 2);
		close(pfd[0]);
		fn();
		_exit(0);
	}
	close(pfd[1]);
	while ((got = read(pfd[0], out + total, n - 1 - (size_t)total)) > 0)
		total += got;
	out[total] = '\0';
	close(pfd[0]);
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	return status;
}

static struct dx_rwlock ilock_a, ilock_b;
static struct dx_mutex ag0, ag1, orphan;

static void
init_locks(void)
{
	dx_rwlock_init(&ilock_a, DX_LC_ILOCK);
	dx_rwlock_init(&ilock_b, DX_LC_ILOCK);
	dx_mutex_init(&ag0, DX_LC_AG);
	dx_mutex_init(&ag1, DX_LC_AG);
	dx_mutex_init(&orphan, DX_LC_ORPHAN);
}

static void
hierarchy_order(void)
{
	init_locks();
	dx_rwlock_wrlock(&ilock_a);
	dx_mutex_lock(&orphan);
	dx_mutex_lock_ordered(&ag0, 0);
	dx_mutex_lock_ordered(&ag1, 1);
	dx_mutex_unlock(&ag1);
	dx_mutex_unlock(&ag0);
	dx_mutex_unlock(&orphan);
	dx_rwlock_unlock(&ilock_a);
}

Test(lockdep, locks_taken_in_hierarchy_order_pass)
{
	char out[4096];
	int st = run_child(hierarchy_order, out, sizeof(out));

	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "stderr: %s", out);
	cr_assert_str_empty(out);
}

static void
inversion(void)
{
	init_locks();
	dx_mutex_lock(&ag0);
	dx_rwlock_rdlock(&ilock_a); /* ILOCK after AG: inverted */
}

Test(lockdep, an_inversion_aborts_naming_both_classes_and_sites)
{
	char out[4096];
	int st = run_child(inversion, out, sizeof(out));

	cr_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT,
		"the inversion was not caught");
	cr_assert(strstr(out, "lock order violation") != NULL, "%s", out);
	cr_assert(strstr(out, "acquiring ILOCK/0") != NULL, "%s", out);
	cr_assert(strstr(out, "holding AG/0") != NULL, "%s", out);
	cr_assert(strstr(out, "test_lockdep.c:") != NULL, "%s", out);
}

static void
cycle(void)
{
	init_locks();
	/* legal once: ILOCK -> ORPHAN records the edge */
	dx_rwlock_wrlock(&ilock_a);
	dx_mutex_lock(&orphan);
	dx_mutex_unlock(&orphan);
	dx_rwlock_unlock(&ilock_a);
	/* then the reverse closes a cycle */
	dx_mutex_lock(&orphan);
	dx_rwlock_wrlock(&ilock_b);
}

Test(lockdep, a_cycle_in_the_order_graph_aborts)
{
	char out[4096];
	int st = run_child(cycle, out, sizeof(out));

	cr_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT);
	cr_assert(strstr(out, "cycle") != NULL, "%s", out);
	cr_assert(strstr(out, "ORPHAN/0") != NULL && strstr(out, "ILOCK/0"),
		"%s", out);
	cr_assert(strstr(out, "edge first seen at") != NULL, "%s", out);
}

static void
recursion(void)
{
	init_locks();
	dx_rwlock_rdlock(&ilock_a);
	dx_rwlock_rdlock(&ilock_a);
}

Test(lockdep, taking_a_held_lock_again_aborts)
{
	char out[4096];
	int st = run_child(recursion, out, sizeof(out));

	cr_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT);
	cr_assert(strstr(out, "recursive locking") != NULL, "%s", out);
}

static void
same_class_without_subclass(void)
{
	init_locks();
	dx_rwlock_wrlock(&ilock_a);
	dx_rwlock_wrlock(&ilock_b);
}

static void
same_class_with_subclasses(void)
{
	init_locks();
	dx_rwlock_wrlock_nested(&ilock_a, DX_LSC_0);
	dx_rwlock_wrlock_nested(&ilock_b, DX_LSC_1);
	dx_rwlock_unlock(&ilock_b);
	dx_rwlock_unlock(&ilock_a);
}

Test(lockdep, two_locks_of_one_class_need_increasing_subclasses)
{
	char out[4096];
	int st = run_child(same_class_without_subclass, out, sizeof(out));

	cr_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT);
	st = run_child(same_class_with_subclasses, out, sizeof(out));
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "%s", out);
}

static void
ordered_keys_decreasing(void)
{
	init_locks();
	dx_mutex_lock_ordered(&ag1, 1);
	dx_mutex_lock_ordered(&ag0, 0);
}

Test(lockdep, ordered_class_keys_must_increase)
{
	char out[4096];
	int st = run_child(ordered_keys_decreasing, out, sizeof(out));

	cr_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT);
	cr_assert(strstr(out, "keys must increase") != NULL, "%s", out);
}

static void
fault_under_ilock(void)
{
	init_locks();
	dx_rwlock_rdlock(&ilock_a);
	dx_might_fault();
}

Test(lockdep, a_user_copy_under_the_ilock_aborts)
{
	char out[4096];
	int st = run_child(fault_under_ilock, out, sizeof(out));

	cr_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT);
	cr_assert(strstr(out, "may fault") != NULL, "%s", out);
}

static void
trylock_out_of_order(void)
{
	init_locks();
	dx_mutex_lock(&ag0);
	/* a trylock cannot deadlock: allowed against the order */
	if (dx_mutex_trylock(&orphan))
		dx_mutex_unlock(&orphan);
	dx_mutex_unlock(&ag0);
}

Test(lockdep, a_trylock_against_the_order_passes)
{
	char out[4096];
	int st = run_child(trylock_out_of_order, out, sizeof(out));

	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "%s", out);
}
