/*
 * test_forget.c -- daxfile_pool_forget: a forked child lets go of the
 * pool its parent has open, without disturbing the parent, and can open
 * the pool once the parent has closed it.
 */
#include <fcntl.h>
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
	int go[2];
	pid_t pid;

	test_pool_create(&tp, "forget", TEST_POOL_SIZE);
	cr_assert_eq(daxfile_mkdir(tp.pool, "/d", 0755), 0);
	cr_assert_eq(pipe(go), 0);
	pid = fork();
	if (pid == 0) {
		daxfile_pool *p;
		struct stat st;
		char c;

		if (daxfile_pool_forget(tp.pool) != 0)
			_exit(1);
		/* the parent still has it: busy, not stuck */
		p = daxfile_pool_open(tp.path);
		if (p != NULL || errno != EBUSY)
			_exit(2);
		if (read(go[0], &c, 1) != 1)
			_exit(3);
		p = daxfile_pool_open(tp.path);
		if (p == NULL)
			_exit(4);
		if (daxfile_stat(p, "/d", &st) != 0 || !S_ISDIR(st.st_mode))
			_exit(5);
		_exit(daxfile_pool_close(p) == 0 ? 0 : 6);
	}
	usleep(100000);
	cr_assert_eq(daxfile_pool_close(tp.pool), 0, "%s", daxfile_errormsg());
	tp.pool = NULL;
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
