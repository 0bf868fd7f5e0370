/*
 * testcred.h -- running a piece of a test with other credentials: a new
 * thread switches its own fsuid, fsgid (or real ids), supplementary groups
 * and effective capabilities with raw system calls (the kernel keeps them
 * per thread; glibc's wrappers would change every thread), runs the
 * function and ends.  Needs root: need_root() skips the test otherwise,
 * saying so.
 */
#ifndef DX_TESTCRED_H
#define DX_TESTCRED_H 1

#include <criterion/criterion.h>
#include <errno.h>
#include <linux/capability.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Ids the tests use: two users, two groups, none of them root's. */
#define U1 1001
#define U2 1002
#define G1 2001
#define G2 2002

/* The credentials a test thread takes before it runs its checks. */
struct who {
	uid_t uid;		/* fsuid (and, with 'real', the real uid) */
	gid_t gid;		/* fsgid */
	int ngroups;
	const gid_t *groups;
	uint64_t drop;		/* capabilities taken out of the effective set */
	bool real;		/* setresuid(uid, 0, 0): real id differs from euid */
};

static inline void
become(const struct who *w)
{
	struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
	struct __user_cap_data_struct d[2];

	cr_assert_eq(syscall(SYS_setgroups, w->ngroups, w->groups), 0,
		"setgroups: %s", strerror(errno));
	if (w->real) {
		cr_assert_eq(syscall(SYS_setresgid, w->gid, 0, 0), 0);
		cr_assert_eq(syscall(SYS_setresuid, w->uid, 0, 0), 0);
	} else {
		syscall(SYS_setfsgid, w->gid);
		syscall(SYS_setfsuid, w->uid);
	}
	if (w->drop) {
		cr_assert_eq(syscall(SYS_capget, &h, d), 0);
		d[0].effective &= ~(uint32_t)w->drop;
		d[1].effective &= ~(uint32_t)(w->drop >> 32);
		cr_assert_eq(syscall(SYS_capset, &h, d), 0, "capset: %s",
			strerror(errno));
	}
}

struct job {
	const struct who *w;
	void (*fn)(void);
};

static inline void *
job_main(void *arg)
{
	struct job *j = arg;

	become(j->w);
	j->fn();
	return NULL;
}

/* as -- run fn in a new thread with the credentials 'w'. */
static inline void
as(const struct who *w, void (*fn)(void))
{
	struct job j = {w, fn};
	pthread_t t;

	cr_assert_eq(pthread_create(&t, NULL, job_main, &j), 0);
	cr_assert_eq(pthread_join(t, NULL), 0);
}

static inline void
need_root(void)
{
	if (geteuid() != 0)
		cr_skip_test("SKIPPED: switching credentials needs root");
}

#endif /* DX_TESTCRED_H */
