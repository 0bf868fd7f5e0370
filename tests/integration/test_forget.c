/*
 * test_forget.c -- daxfile_pool_forget: a forked child lets go of the
 * pool its parent has open, without disturbing the parent, at once (it
 * copies almost nothing of its parent's memory), and can open the pool
 * once the parent has closed it, even after other processes changed it.
 */
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include "testpool.h"

/* child_status -- wait for 'pid'; its exit status, or -1 if it died. */
static int
child_status(pid_t pid)
{
	int st;

	cr_assert_eq(waitpid(pid, &st, 0), pid);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

Test(forget, the_parent_keeps_working_after_its_child_forgets_the_pool)
{
	struct test_pool tp;
	daxfile_file *f;
	char buf[8] = "";
	pid_t pid;

	test_pool_create(&tp, "forget", TEST_POOL_SIZE);
	f = daxfile_open(tp.pool, "/f", O_CREAT | O_RDWR, 0644);
	cr_assert_not_null(f);
	cr_assert_eq(daxfile_write(f, "before", 6), 6);
	pid = fork();
	if (pid == 0)
		_exit(daxfile_pool_forget(tp.pool) == 0 ? 0 : 1);
	cr_assert_eq(child_status(pid), 0, "the child's forget failed");
	cr_assert_eq(daxfile_pwrite(f, "after!", 6, 6), 6, "%s", daxfile_errormsg());
	cr_assert_eq(daxfile_pread(f, buf, 6, 6), 6);
	cr_assert_eq(memcmp(buf, "after!", 6), 0);
	cr_assert_eq(daxfile_close(f), 0);
	test_pool_destroy(&tp);
}

Test(forget, a_child_opens_the_pool_once_the_parent_has_closed_it)
{
	struct test_pool tp;
	int go[2], ready[2];
	char c;
	pid_t pid;

	test_pool_create(&tp, "forget", TEST_POOL_SIZE);
	cr_assert_eq(daxfile_mkdir(tp.pool, "/d", 0755), 0);
	cr_assert_eq(pipe(go), 0);
	cr_assert_eq(pipe(ready), 0);
	pid = fork();
	if (pid == 0) {
		daxfile_pool *p;
		struct stat st;

		if (daxfile_pool_forget(tp.pool) != 0)
			_exit(1);
		/* the parent still has it: busy, not stuck */
		p = daxfile_pool_open(tp.path);
		if (p != NULL || errno != EBUSY)
			_exit(2);
		if (write(ready[1], "r", 1) != 1 || read(go[0], &c, 1) != 1)
			_exit(3);
		p = daxfile_pool_open(tp.path);
		if (p == NULL)
			_exit(4);
		if (daxfile_stat(p, "/d", &st) != 0 || !S_ISDIR(st.st_mode))
			_exit(5);
		_exit(daxfile_pool_close(p) == 0 ? 0 : 6);
	}
	/* the parent closes only after the child found the pool busy */
	close(ready[1]);
	if (read(ready[0], &c, 1) != 1)
		cr_assert_fail("the child failed before it found the pool busy: "
			"step %d", child_status(pid));
	cr_assert_eq(daxfile_pool_close(tp.pool), 0, "%s", daxfile_errormsg());
	tp.pool = NULL;
	cr_assert_eq(write(go[1], "x", 1), 1);
	cr_assert_eq(child_status(pid), 0, "the child failed a step");
	test_pool_destroy(&tp);
}

/* minor_faults -- the calling process's minor page faults so far. */
static long
minor_faults(void)
{
	struct rusage ru;

	return getrusage(RUSAGE_SELF, &ru) == 0 ? ru.ru_minflt : -1;
}

/*
 * a child's forget leaves libpmemobj's release of its DRAM state (some
 * 2,800 pages copied on write) to the child's next pool open: a child that
 * execs or exits pays nothing for it; the owed release runs on a copy of
 * the pool descriptor taken at the forget, so it works however the pool
 * changed meanwhile
 */
Test(forget, the_forget_is_cheap_and_a_later_open_finds_the_pool_as_others_left_it)
{
	struct test_pool tp;
	int go[2], ready[2];
	daxfile_file *f;
	char c;
	pid_t pid, other;

	test_pool_create(&tp, "forget", TEST_POOL_SIZE);
	f = daxfile_open(tp.pool, "/f", O_CREAT | O_RDWR, 0644);
	cr_assert_not_null(f);
	cr_assert_eq(daxfile_write(f, "parent", 6), 6);
	cr_assert_eq(pipe(go), 0);
	cr_assert_eq(pipe(ready), 0);
	pid = fork();
	if (pid == 0) {
		char buf[16] = "";
		daxfile_file *g;
		daxfile_pool *p;
		long before = minor_faults();

		if (daxfile_pool_forget(tp.pool) != 0)
			_exit(1);
		if (minor_faults() - before > 200)
			_exit(2);
		if (write(ready[1], "r", 1) != 1 || read(go[0], &c, 1) != 1)
			_exit(3);
		p = daxfile_pool_open(tp.path);
		if (p == NULL)
			_exit(4);
		g = daxfile_open(p, "/f", O_RDONLY);
		if (g == NULL || daxfile_read(g, buf, sizeof(buf)) != 5 ||
		    memcmp(buf, "other", 5) != 0)
			_exit(5);
		daxfile_close(g);
		if (daxfile_access(p, "/o99", F_OK) != 0)
			_exit(6);
		_exit(daxfile_pool_close(p) == 0 ? 0 : 7);
	}
	close(ready[1]);
	if (read(ready[0], &c, 1) != 1)
		cr_assert_fail("the child failed before its open: step %d",
			child_status(pid));
	/* the parent goes on, closes; another process changes the pool */
	cr_assert_eq(daxfile_pwrite(f, "parent2", 7, 0), 7);
	cr_assert_eq(daxfile_close(f), 0);
	cr_assert_eq(daxfile_pool_close(tp.pool), 0, "%s", daxfile_errormsg());
	tp.pool = NULL;
	other = fork();
	if (other == 0) {
		daxfile_pool *p = daxfile_pool_open(tp.path);
		daxfile_file *g;

		if (p == NULL)
			_exit(1);
		g = daxfile_open(p, "/f", O_RDWR | O_TRUNC);
		if (g == NULL || daxfile_write(g, "other", 5) != 5)
			_exit(2);
		daxfile_close(g);
		for (int i = 0; i < 100; i++) {
			char name[16];

			snprintf(name, sizeof(name), "/o%d", i);
			g = daxfile_open(p, name, O_CREAT | O_WRONLY, 0644);
			if (g == NULL || daxfile_close(g) != 0)
				_exit(3);
		}
		_exit(daxfile_pool_close(p) == 0 ? 0 : 4);
	}
	cr_assert_eq(child_status(other), 0, "the other process failed a step");
	cr_assert_eq(write(go[1], "x", 1), 1);
	cr_assert_eq(child_status(pid), 0, "the child failed a step");
	test_pool_destroy(&tp);
}

Test(forget, a_closed_handle_is_refused)
{
	struct test_pool tp;
	daxfile_pool *p;

	test_pool_create(&tp, "forget", TEST_POOL_SIZE);
	p = tp.pool;
	cr_assert_eq(daxfile_pool_close(p), 0);
	tp.pool = NULL;
	cr_assert_eq(daxfile_pool_forget(p), -1);
	cr_assert_eq(errno, EINVAL);
	test_pool_destroy(&tp);
}
