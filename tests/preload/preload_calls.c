/*
 * preload_calls.c -- the layer's contract call by call, run through
 * libdaxfile-preload.so by calls-check.sh with one mount point ($MNT) and
 * a second one ($MNT2): descriptor numbers and their sharing, FD_CLOEXEC,
 * /proc/self/fd, bare syscall(2) and syscall instructions, mappings,
 * threads, signals arriving during pool calls, fork, the current
 * directory, directory streams, statx of a descriptor, a program's own
 * definition of a C library function, temporary names, posix_spawn's file
 * actions, vfork, UNIX sockets at pool paths, stdio, poll/epoll/inotify
 * and leases, host errors kept, nameless files and locks across a pool's
 * turns, a hand-over that takes no descriptor number, forks while
 * another process asks for the pool, and EXDEV across pools.  Prints one line per check and "N passed, N failed".
 */
#define _GNU_SOURCE 1
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <glob.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/file.h>
#include <sys/fsuid.h>
#include <sys/inotify.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/vfs.h>
#include <sys/xattr.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static int passed, failed;
static const char *mnt, *mnt2;

#define CHECK(cond, what) do { \
	if (cond) { \
		passed++; \
		printf("ok   %s\n", what); \
	} else { \
		failed++; \
		printf("FAIL %s (line %d, errno %s)\n", what, __LINE__, \
			strerror(errno)); \
	} \
} while (0)

/* in -- a path under the mount point */
static const char *
in(const char *name)
{
	static char buf[8][PATH_MAX];
	static int i;

	i = (i + 1) % 8;
	snprintf(buf[i], sizeof(buf[i]), "%s/%s", mnt, name);
	return buf[i];
}

static void
descriptors_are_kernel_numbers(void)
{
	int a = open(in("d1"), O_CREAT | O_RDWR | O_TRUNC, 0644);
	int h = open("/dev/null", O_RDONLY);
	int b = open(in("d2"), O_CREAT | O_RDWR | O_TRUNC, 0644);
	char link[PATH_MAX], proc[64];
	ssize_t n;

	CHECK(a >= 0 && h == a + 1 && b == h + 1,
		"pool descriptors_take_the_lowest_free_numbers");
	close(h);
	CHECK(write(a, "abc", 3) == 3 && write(b, "xy", 2) == 2,
		"closing_a_host_descriptor_leaves_pool_ones_working");
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", a);
	n = readlink(proc, link, sizeof(link) - 1);
	link[n > 0 ? n : 0] = '\0';
	CHECK(n > 0 && strstr(link, ".pool") != NULL,
		"proc_self_fd_names_the_pool_file");
	close(a);
	close(b);
}

static void
dup_shares_the_offset(void)
{
	int a = open(in("dup"), O_CREAT | O_RDWR | O_TRUNC, 0644);
	int b = dup(a), c = fcntl(a, F_DUPFD_CLOEXEC, 50);
	int d = dup2(a, 40);
	char buf[8] = "";

	CHECK(write(a, "12", 2) == 2 && write(b, "34", 2) == 2 &&
		write(c, "56", 2) == 2 && write(d, "78", 2) == 2 &&
		lseek(a, 0, SEEK_CUR) == 8, "dup_dup2_and_F_DUPFD_share_the_offset");
	CHECK(fcntl(c, F_GETFD) == FD_CLOEXEC && fcntl(b, F_GETFD) == 0,
		"F_DUPFD_CLOEXEC_is_honoured");
	close(a);
	CHECK(pread(d, buf, 8, 0) == 8 && memcmp(buf, "12345678", 8) == 0,
		"a_copy_works_after_the_original_closes");
	/* a host descriptor over a pool number: the pool file is gone there */
	int h = open("/dev/zero", O_RDONLY);

	CHECK(dup2(h, d) == d && read(d, buf, 4) == 4 && buf[0] == 0,
		"dup2_of_a_host_descriptor_over_a_pool_number");
	close(h);
	close(b);
	close(c);
	close(d);
}

static void
cloexec_is_honoured(void)
{
	int a = open(in("ce"), O_CREAT | O_RDWR | O_CLOEXEC, 0644);

	CHECK(fcntl(a, F_GETFD) == FD_CLOEXEC, "O_CLOEXEC_sets_FD_CLOEXEC");
	CHECK(fcntl(a, F_SETFD, 0) == 0 && fcntl(a, F_GETFD) == 0,
		"F_SETFD_clears_it");
	CHECK((fcntl(a, F_GETFL) & O_ACCMODE) == O_RDWR, "F_GETFL_reports_O_RDWR");
	close(a);
}

static void
bare_syscall_is_served(void)
{
	long fd = syscall(SYS_openat, AT_FDCWD, in("raw"), O_CREAT | O_WRONLY, 0600);
	struct stat st;

	CHECK(fd >= 0 && syscall(SYS_write, fd, "raw", 3) == 3,
		"syscall_openat_and_write_on_a_pool_path");
	close((int)fd);
	CHECK(stat(in("raw"), &st) == 0 && st.st_size == 3,
		"the_file_is_in_the_pool");
}

#if defined(__x86_64__)
/* insn -- a system call made by the program's own syscall instruction */
static long
insn(long nr, long a, long b, long c, long d)
{
	register long r10 __asm__("r10") = d;
	long r;

	__asm__ volatile ("syscall" : "=a"(r) : "a"(nr), "D"(a), "S"(b), "d"(c),
		"r"(r10) : "rcx", "r11", "memory");
	return r;
}

/* insn_reads -- a pool file read by syscall instructions holds 'want' */
static bool
insn_reads(const char *path, const char *want)
{
	char buf[64] = "";
	long fd = insn(SYS_openat, AT_FDCWD, (long)path, O_RDONLY, 0);
	long n = fd < 0 ? -1 : insn(SYS_read, fd, (long)buf, sizeof(buf) - 1, 0);

	if (fd >= 0)
		insn(SYS_close, fd, 0, 0, 0);
	return n == (long)strlen(want) && memcmp(buf, want, (size_t)n) == 0;
}

static void *
insn_in_a_blocking_thread(void *arg)
{
	sigset_t all;

	(void)arg;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, NULL);
	return (void *)(long)(insn_reads(in("insn"), "insn!") &&
		insn(SYS_getppid, 0, 0, 0, 0) == getppid());
}

static int program_sigsys;

static void
on_program_sigsys(int sig)
{
	program_sigsys++;
}

static void
syscall_instructions_are_served(void)
{
	char dents[4096];
	struct stat st = {0};
	sigset_t cur;
	unsigned long usr1 = 1UL << (SIGUSR1 - 1), old = 0;
	long fd, n, pid;
	void *r = NULL;
	pthread_t t;
	int status = -1;

	fd = insn(SYS_openat, AT_FDCWD, (long)in("insn"), O_CREAT | O_RDWR, 0644);
	CHECK(fd >= 0 && insn(SYS_write, fd, (long)"insn!", 5, 0) == 5 &&
		insn(SYS_fstat, fd, (long)&st, 0, 0) == 0 && st.st_size == 5,
		"syscall_instructions_create_write_and_fstat_a_pool_file");
	CHECK(insn(SYS_lseek, fd, 0, SEEK_SET, 0) == 0 &&
		insn(SYS_read, fd, (long)dents, 5, 0) == 5 &&
		memcmp(dents, "insn!", 5) == 0,
		"syscall_instructions_seek_and_read_it_back");
	CHECK(insn(SYS_close, fd, 0, 0, 0) == 0 && stat(in("insn"), &st) == 0 &&
		st.st_size == 5, "the_C_library_sees_what_they_wrote");
	fd = insn(SYS_openat, AT_FDCWD, (long)mnt, O_RDONLY | O_DIRECTORY, 0);
	n = fd < 0 ? -1 : insn(SYS_getdents64, fd, (long)dents, sizeof(dents), 0);
	insn(SYS_close, fd, 0, 0, 0);
	bool listed = false;
	for (long off = 0; off < n; ) {
		struct dirent64 *d = (struct dirent64 *)(dents + off);

		listed |= strcmp(d->d_name, "insn") == 0;
		off += d->d_reclen;
	}
	CHECK(listed, "a_getdents64_instruction_lists_the_pool_directory");
	CHECK(insn(SYS_openat, AT_FDCWD, (long)in("no-such"), O_RDONLY, 0) ==
		-ENOENT, "an_instruction_gets_the_errno_negated_as_from_the_kernel");
	CHECK(pthread_create(&t, NULL, insn_in_a_blocking_thread, NULL) == 0 &&
		pthread_join(t, &r) == 0 && r == (void *)1,
		"a_thread_blocking_every_signal_is_served_and_lives");

	signal(SIGSYS, on_program_sigsys);
	kill(getpid(), SIGSYS);
	CHECK(program_sigsys == 1 && insn_reads(in("insn"), "insn!") &&
		program_sigsys == 1,
		"the_programs_SIGSYS_handler_gets_its_signals_and_no_trap");
	signal(SIGSYS, SIG_DFL);

	CHECK(insn(SYS_rt_sigprocmask, SIG_BLOCK, (long)&usr1, (long)&old, 8) == 0 &&
		sigprocmask(SIG_BLOCK, NULL, &cur) == 0 &&
		sigismember(&cur, SIGUSR1) == 1 &&
		insn(SYS_rt_sigprocmask, SIG_UNBLOCK, (long)&usr1, 0, 8) == 0 &&
		sigprocmask(SIG_BLOCK, NULL, &cur) == 0 &&
		sigismember(&cur, SIGUSR1) == 0,
		"an_rt_sigprocmask_instruction_changes_the_threads_mask");

	fflush(stdout);
	pid = insn(SYS_fork, 0, 0, 0, 0);
	if (pid == 0)
		_exit(insn_reads(in("insn"), "insn!") ? 0 : 1);
	CHECK(pid > 0 && waitpid((pid_t)pid, &status, 0) == pid &&
		WIFEXITED(status) && WEXITSTATUS(status) == 0,
		"a_fork_instruction_child_is_served_too");
}
#endif

static void
mappings_go_through_the_library(void)
{
	int fd = open(in("map"), O_CREAT | O_RDWR | O_TRUNC, 0644);
	char buf[16] = "";
	char *p, *q;

	ftruncate(fd, 1 << 20);
	p = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	CHECK(p != MAP_FAILED, "mmap_of_a_pool_file");
	if (p == MAP_FAILED)
		return;
	memcpy(p + 4096, "mapped", 6);
	CHECK(msync(p, 1 << 20, MS_SYNC) == 0 && pread(fd, buf, 6, 4096) == 6 &&
		memcmp(buf, "mapped", 6) == 0, "a_store_is_in_the_file");
	pwrite(fd, "written", 7, 8192);
	CHECK(memcmp(p + 8192, "written", 7) == 0, "a_write_shows_in_the_mapping");
	CHECK(madvise(p, 1 << 20, MADV_DONTNEED) == 0 &&
		memcmp(p + 4096, "mapped", 6) == 0, "MADV_DONTNEED_keeps_the_file");
	ftruncate(fd, 2 << 20);
	q = mremap(p, 1 << 20, 2 << 20, MREMAP_MAYMOVE);
	CHECK(q != MAP_FAILED && memcmp(q + 8192, "written", 7) == 0 &&
		(q[(2 << 20) - 1] = 1) == 1, "mremap_grows_a_mapping");
	CHECK(mprotect(q, 4096, PROT_READ) == 0 && q[4096] == 'm',
		"mprotect_of_a_pool_mapping");
	close(fd);
	CHECK(q[8192] == 'w', "a_mapping_outlives_its_descriptor");
	CHECK(munmap(q, 2 << 20) == 0, "munmap_of_a_pool_mapping");
}

static int tfd;

static void *
writer(void *arg)
{
	long t = (long)arg;
	char buf[4096];

	memset(buf, 'a' + (int)t, sizeof(buf));
	for (int i = 0; i < 256; i++)
		if (pwrite(tfd, buf, sizeof(buf), (off_t)(i * 4 + t) * 4096) != 4096)
			return (void *)1;
	return NULL;
}

static void
threads_write_at_once(void)
{
	pthread_t th[4];
	void *r;
	int bad = 0;
	char buf[4096];

	tfd = open(in("threads"), O_CREAT | O_RDWR | O_TRUNC, 0644);
	for (long t = 0; t < 4; t++)
		pthread_create(&th[t], NULL, writer, (void *)t);
	for (int t = 0; t < 4; t++) {
		pthread_join(th[t], &r);
		bad |= r != NULL;
	}
	for (int i = 0; i < 1024 && !bad; i++)
		bad |= pread(tfd, buf, 4096, (off_t)i * 4096) != 4096 ||
			buf[0] != 'a' + i % 4 || buf[4095] != 'a' + i % 4;
	CHECK(!bad, "four_threads_write_and_read_back");
	close(tfd);
}

static volatile sig_atomic_t ticks;

static void
tick(int sig)
{
	ticks++;
}

static void
signals_during_pool_calls(int restart)
{
	struct sigaction sa = {.sa_handler = tick, .sa_flags = restart};
	struct itimerval it = {{0, 200}, {0, 200}};
	size_t len = 32 << 20;
	char *buf = malloc(len), *back = malloc(len);
	int fd = open(in("sig"), O_CREAT | O_RDWR | O_TRUNC, 0644);
	bool whole = true;

	memset(buf, restart ? 'r' : 'n', len);
	sigaction(SIGALRM, &sa, NULL);
	ticks = 0;
	setitimer(ITIMER_REAL, &it, NULL);
	for (int i = 0; i < 8; i++) {
		whole &= pwrite(fd, buf, len, 0) == (ssize_t)len;
		whole &= pread(fd, back, len, 0) == (ssize_t)len;
	}
	memset(&it, 0, sizeof(it));
	setitimer(ITIMER_REAL, &it, NULL);
	CHECK(whole && memcmp(buf, back, len) == 0,
		restart ? "SIGALRM_with_SA_RESTART_never_tears_a_call" :
		"SIGALRM_without_SA_RESTART_never_tears_a_call");
	close(fd);
	free(buf);
	free(back);
}

static void
fork_child_uses_the_pool_in_turn(void)
{
	int fd = open(in("fork"), O_CREAT | O_RDWR | O_TRUNC, 0644), st;
	pid_t pid;

	write(fd, "parent", 6);
	pid = fork();
	if (pid == 0) {
		/* the parent is idle: the pool comes to the child */
		_exit(write(fd, "+child", 6) == 6 ? 0 : 1);
	}
	waitpid(pid, &st, 0);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0,
		"a_child_writes_to_an_inherited_descriptor");
	CHECK(lseek(fd, 0, SEEK_CUR) == 12 && write(fd, "+again", 6) == 6,
		"the_offset_is_shared_with_the_child");
	char buf[32] = "";

	CHECK(pread(fd, buf, sizeof(buf), 0) == 18 &&
		strcmp(buf, "parent+child+again") == 0, "the_writes_are_in_order");
	close(fd);
}

/* pool_turn -- a child takes the pool; with 'name', makes that file anew */
static bool
pool_turn(const char *name)
{
	struct stat sb;
	int st = -1;
	pid_t pid = fork();

	if (pid == 0) {
		int fd = name == NULL ? -2 :
			open(in(name), O_CREAT | O_WRONLY | O_TRUNC, 0644);

		_exit(stat(mnt, &sb) == 0 && fd != -1 &&
			(fd < 0 || write(fd, "new", 3) == 3) ? 0 : 1);
	}
	return pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st) &&
		WEXITSTATUS(st) == 0;
}

/*
 * a file without a name does not outlive its pool's turn in another
 * process: its descriptor reads ESTALE afterwards, never another file
 */
static void
nameless_files_across_a_turn(void)
{
	int t = open(mnt, O_TMPFILE | O_RDWR, 0600), u;
	char buf[16] = "";

	CHECK(t >= 0 && write(t, "tmp", 3) == 3 && pool_turn(NULL),
		"an_O_TMPFILE_file_and_a_childs_turn");
	CHECK(pread(t, buf, sizeof(buf), 0) == -1 && errno == ESTALE,
		"the_O_TMPFILE_descriptor_reads_ESTALE_not_a_new_empty_file");
	close(t);
	u = open(in("gone"), O_CREAT | O_RDWR | O_TRUNC, 0644);
	CHECK(u >= 0 && write(u, "old", 3) == 3 && unlink(in("gone")) == 0 &&
		pool_turn("gone"), "an_unlinked_file_and_a_child_making_its_name");
	CHECK(pread(u, buf, sizeof(buf), 0) == -1 && errno == ESTALE,
		"the_unlinked_descriptor_reads_ESTALE_not_the_new_file_of_its_name");
	close(u);
	unlink(in("gone"));
}

/*
 * a hand-over takes no descriptor number of the holder's: with every
 * number below its limit in use (as a shell between close(1) and
 * dup2(fd, 1) has 1 free for its own use), the holder still answers
 */
static void
a_hand_over_takes_no_descriptor_number(void)
{
	struct rlimit rl, low;
	int first = -1, last = -1, fd, st = -1;
	pid_t pid;

	CHECK(access(mnt, F_OK) == 0 && getrlimit(RLIMIT_NOFILE, &rl) == 0,
		"the_pool_is_in_this_process");
	low = rl;
	low.rlim_cur = 64;
	if (setrlimit(RLIMIT_NOFILE, &low) != 0)
		return;
	while ((fd = dup(0)) >= 0) {
		if (first < 0)
			first = fd;
		last = fd;
	}
	pid = fork();
	if (pid == 0) {
		struct stat sb;

		setrlimit(RLIMIT_NOFILE, &rl);
		for (int i = first; i >= 0 && i <= last; i++)
			close(i);
		_exit(stat(mnt, &sb) == 0 ? 0 : 1);
	}
	waitpid(pid, &st, 0);
	for (int i = first; i >= 0 && i <= last; i++)
		close(i);
	setrlimit(RLIMIT_NOFILE, &rl);
	CHECK(first >= 0 && pid > 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0,
		"a_holder_without_a_free_number_gives_its_pool");
	CHECK(access(mnt, F_OK) == 0, "and_takes_it_back");
}

/*
 * a fork's child lets go of the pools it inherits while another process
 * asks the parent for them: the parent gives a pool up only once its
 * child has let go (a child that read the pool's run-time fields after
 * the parent had closed it crashed in the C library's fork handler)
 */
static void
fork_while_the_pool_is_asked_for(void)
{
	int stop[2], crashed = 0, forks = 0;
	pid_t taker;

	if (pipe2(stop, O_CLOEXEC) != 0)
		return;
	taker = fork();
	if (taker == 0) {
		struct pollfd p = {.fd = stop[0], .events = POLLIN};
		struct stat sb;

		close(stop[1]);
		while (poll(&p, 1, 0) == 0)	/* takes the pool again and again */
			(void)stat(in("."), &sb);
		exit(0);
	}
	close(stop[0]);
	for (int i = 0; i < 150 && taker > 0; i++) {
		struct stat sb;
		int st = -1;
		pid_t c;

		(void)stat(in("."), &sb);	/* takes it back */
		c = fork();
		if (c == 0)
			_exit(0);
		forks += c > 0;
		if (c > 0 && (waitpid(c, &st, 0) != c || !WIFEXITED(st)))
			crashed++;
	}
	close(stop[1]);
	if (taker > 0)
		waitpid(taker, NULL, 0);
	CHECK(forks == 150 && crashed == 0,
		"children_forked_while_another_process_takes_the_pool_live");
	CHECK(access(mnt, F_OK) == 0, "and_the_pool_comes_back");
}

/* child_locks -- in a child: can it take a write lock on 'path'? */
static int
child_locks(const char *path)
{
	int st = -1;
	pid_t pid = fork();

	if (pid == 0) {
		int fd = open(path, O_RDWR);
		struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};

		_exit(fd >= 0 && fcntl(fd, F_SETLK, &fl) == 0 ? 0 :
			(errno == EAGAIN || errno == EACCES || errno == EBUSY) ? 1 : 2);
	}
	waitpid(pid, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 3;
}

/*
 * a lock held by a process is never given away with its pool: a child
 * cannot take it (EBUSY for the pool, after the holder's 5 s), and can
 * once the parent lets go
 */
static void
locks_stay_with_their_process(void)
{
	int fd = open(in("locked"), O_CREAT | O_RDWR, 0644);
	struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};

	CHECK(fd >= 0 && fcntl(fd, F_SETLK, &fl) == 0, "the_parent_locks_a_file");
	CHECK(child_locks(in("locked")) == 1,
		"a_child_cannot_take_the_parents_lock_with_the_pool");
	fl.l_type = F_UNLCK;
	CHECK(fcntl(fd, F_SETLK, &fl) == 0 && child_locks(in("locked")) == 0,
		"once_the_parent_unlocks_the_child_gets_the_pool_and_the_lock");
	CHECK(flock(fd, LOCK_EX) == 0 && child_locks(in("locked")) == 1 &&
		flock(fd, LOCK_UN) == 0, "a_flock_lock_keeps_the_pool_too");
	close(fd);
}

static void
current_directory_in_a_pool(void)
{
	char buf[PATH_MAX], *r;
	int fd;

	mkdir(in("cwd"), 0755);
	CHECK(chdir(in("cwd")) == 0 && getcwd(buf, sizeof(buf)) != NULL &&
		strcmp(buf, in("cwd")) == 0, "getcwd_reports_the_mount_point_path");
	fd = open("rel", O_CREAT | O_WRONLY, 0644);
	CHECK(fd >= 0 && access(in("cwd/rel"), F_OK) == 0,
		"a_relative_open_lands_in_the_pool");
	close(fd);
#if defined(__x86_64__)
	/* a syscall instruction of the program's own with a relative path:
	   trapped and served from the pool's current directory */
	long k = insn(SYS_openat, AT_FDCWD, (long)"inline-rel",
		O_CREAT | O_WRONLY, 0644);

	CHECK(k >= 0 && access(in("cwd/inline-rel"), F_OK) == 0,
		"a_relative_create_by_a_syscall_instruction_lands_in_the_pool");
	insn(SYS_close, k, 0, 0, 0);
#endif
	r = realpath("../cwd/./rel", NULL);
	CHECK(r != NULL && strcmp(r, in("cwd/rel")) == 0, "realpath_in_a_pool");
	free(r);
	CHECK(chdir("/") == 0, "chdir_back_to_the_host");
}

static void
directory_streams(void)
{
	struct dirent **list;
	char parent[PATH_MAX], *slash;
	struct dirent *de;
	bool seen = false;
	DIR *d;
	int n;

	n = scandir(mnt, &list, NULL, alphasort);
	CHECK(n > 2 && strcmp(list[0]->d_name, ".") == 0, "scandir_of_the_mount_point");
	while (n-- > 0)
		free(list[n]);
	free(list);
	snprintf(parent, sizeof(parent), "%s", mnt);
	slash = strrchr(parent, '/');
	*slash = '\0';
	d = opendir(parent);
	while (d != NULL && (de = readdir(d)) != NULL)
		seen |= strcmp(de->d_name, slash + 1) == 0;
	CHECK(d != NULL && seen, "the_parent_lists_the_mount_point");
	if (d != NULL)
		closedir(d);
	d = opendir(mnt);
	CHECK(d != NULL && dirfd(d) >= 0 && fcntl(dirfd(d), F_GETFD) >= 0,
		"dirfd_of_a_pool_stream");
	if (d != NULL)
		closedir(d);
}

/* count_dents -- entries in getdents64 records of 'n' bytes */
static int
count_dents(const char *buf, long n)
{
	int k = 0;

	for (long o = 0; o < n; o += ((const struct dirent64 *)(buf + o))->d_reclen)
		k++;
	return k;
}

/*
 * a directory stream or a directory descriptor being read does not keep
 * the pool from a child, and goes on where it was after the child's turn:
 * every entry once, telldir positions valid, as tar's and find's walks
 * with compressors and -exec children need
 */
static void
directory_reads_across_a_turn(void)
{
	char name[PATH_MAX], buf[512];
	struct dirent *de;
	long n = 0, at = -1, r;
	int fd, got = 0, turns = 0, after = 0;
	char mark[256] = "";
	DIR *d;

	snprintf(name, sizeof(name), "%s/turns", mnt);
	mkdir(name, 0755);
	for (int i = 0; i < 100; i++) {
		snprintf(name, sizeof(name), "%s/turns/entry-with-a-long-name-%03d",
			mnt, i);
		close(open(name, O_CREAT | O_WRONLY, 0644));
	}
	snprintf(name, sizeof(name), "%s/turns", mnt);
	fd = open(name, O_RDONLY | O_DIRECTORY);
	while ((r = syscall(SYS_getdents64, fd, buf, sizeof(buf))) > 0) {
		got += count_dents(buf, r);
		turns += pool_turn(NULL);
	}
	CHECK(r == 0 && got == 102 && turns > 5,
		"getdents64_goes_on_after_a_childs_turns");
	CHECK(lseek(fd, 0, SEEK_SET) == 0 &&
		(r = syscall(SYS_getdents64, fd, buf, sizeof(buf))) > 0 &&
		lseek(fd, ((struct dirent64 *)buf)->d_off, SEEK_SET) ==
		((struct dirent64 *)buf)->d_off &&
		syscall(SYS_getdents64, fd, buf, sizeof(buf)) > 0,
		"lseek_of_a_directory_to_a_d_off");
	close(fd);
	d = opendir(name);
	turns = 0;
	while (d != NULL && (de = readdir(d)) != NULL) {
		if (++n == 50) {
			at = telldir(d);
		} else if (n == 51) {
			snprintf(mark, sizeof(mark), "%s", de->d_name);
		}
		if (n % 10 == 0)
			turns += pool_turn(NULL);
	}
	CHECK(n == 102 && turns == 10, "readdir_goes_on_after_a_childs_turns");
	if (d != NULL) {
		seekdir(d, at);
		de = readdir(d);
		CHECK(de != NULL && strcmp(de->d_name, mark) == 0,
			"seekdir_to_a_telldir_position_after_the_turns");
		while (readdir(d) != NULL)
			after++;
		CHECK(after == 51, "the_rest_of_the_stream_after_seekdir");
		rewinddir(d);
		n = 0;
		while (readdir(d) != NULL)
			n++;
		CHECK(n == 102, "rewinddir_after_the_turns");
		closedir(d);
	}
}

static int nvisited;

static int
visit(const char *path, const struct stat *st, int type, struct FTW *f)
{
	nvisited += type == FTW_F || type == FTW_D || type == FTW_DP;
	return 0;
}

static void
walkers(void)
{
	glob_t g;

	mkdir(in("walk"), 0755);
	mkdir(in("walk/sub"), 0755);
	close(open(in("walk/sub/a.txt"), O_CREAT | O_WRONLY, 0644));
	close(open(in("walk/b.txt"), O_CREAT | O_WRONLY, 0644));
	nvisited = 0;
	CHECK(nftw(in("walk"), visit, 4, FTW_PHYS | FTW_DEPTH) == 0 &&
		nvisited == 4, "nftw_walks_a_pool_tree");
	CHECK(glob(in("walk/*/*.txt"), 0, NULL, &g) == 0 && g.gl_pathc == 1 &&
		strcmp(g.gl_pathv[0], in("walk/sub/a.txt")) == 0,
		"glob_matches_in_a_pool");
	globfree(&g);
}

/* statx_of_a_descriptor -- the same record by path and by descriptor. */
static void
statx_of_a_descriptor(void)
{
	struct statx a, b;
	int fd = open(in("stx"), O_CREAT | O_RDWR | O_TRUNC, 0640);

	CHECK(fd >= 0 && write(fd, "abc", 3) == 3, "statx_file_made");
	if (fd < 0)
		return;
	memset(&a, 0xff, sizeof(a));
	memset(&b, 0, sizeof(b));
	CHECK(statx(AT_FDCWD, in("stx"), 0, STATX_ALL, &a) == 0 &&
		statx(fd, "", AT_EMPTY_PATH, STATX_ALL, &b) == 0 &&
		(b.stx_mask & STATX_BTIME) && b.stx_btime.tv_sec > 0 &&
		a.stx_btime.tv_sec == b.stx_btime.tv_sec &&
		a.stx_btime.tv_nsec == b.stx_btime.tv_nsec &&
		a.stx_ino == b.stx_ino && b.stx_size == 3 &&
		(b.stx_mode & 07777) == 0640 &&
		(b.stx_attributes & STATX_ATTR_DAX),
		"statx_of_a_descriptor_is_that_of_its_path_birth_time_included");
	close(fd);
}

/*
 * renameat2 -- as gnulib defines it in programs built where the C library
 * lacked it (GNU patch): a bare syscall, which the layer serves with its
 * own renameat2, never with this one (that recursed until the stack ran
 * out).
 */
int
renameat2(int olddir, const char *old, int newdir, const char *new,
	unsigned flags)
{
	return (int)syscall(SYS_renameat2, olddir, old, newdir, new, flags);
}

static void
a_programs_own_libc_function_is_not_the_layers(void)
{
	int fd = open(in("gnulib-a"), O_CREAT | O_WRONLY | O_TRUNC, 0644);

	close(fd);
	CHECK(renameat2(AT_FDCWD, in("gnulib-a"), AT_FDCWD, in("gnulib-b"), 0) == 0 &&
		access(in("gnulib-b"), F_OK) == 0,
		"a_programs_own_renameat2_over_syscall_is_served");
}

/* absolute_links -- "ln -s $PWD/f l": the target is the mount point path. */
static void
absolute_links(void)
{
	char buf[16] = "";
	int fd = open(in("abs-target"), O_CREAT | O_WRONLY | O_TRUNC, 0644);

	CHECK(fd >= 0 && write(fd, "abs", 3) == 3, "abs_target_made");
	close(fd);
	CHECK(symlink(in("abs-target"), in("abs-link")) == 0,
		"symlink_with_an_absolute_target_under_the_mount_point");
	fd = open(in("abs-link"), O_RDONLY);
	CHECK(fd >= 0 && read(fd, buf, sizeof(buf)) == 3 &&
		memcmp(buf, "abs", 3) == 0, "it_leads_to_the_file_in_the_pool");
	close(fd);
	CHECK(readlink(in("abs-link"), buf, sizeof(buf)) > 0 &&
		access(in("abs-link"), R_OK) == 0, "readlink_and_access_through_it");
}

/* trailing_slashes -- they survive the layer's path handling. */
static void
trailing_slashes(void)
{
	char buf[PATH_MAX], p[PATH_MAX];
	struct stat st;
	int fd;

	snprintf(p, sizeof(p), "%s/", in("slash-new"));
	errno = 0;
	CHECK(open(p, O_CREAT | O_WRONLY, 0644) == -1 && errno == EISDIR &&
		access(in("slash-new"), F_OK) != 0,
		"open_O_CREAT_with_a_trailing_slash_is_EISDIR");
	fd = open(in("slash-file"), O_CREAT | O_WRONLY, 0644);
	close(fd);
	snprintf(p, sizeof(p), "%s/", in("slash-file"));
	errno = 0;
	CHECK(stat(p, &st) == -1 && errno == ENOTDIR,
		"stat_of_a_file_with_a_trailing_slash_is_ENOTDIR");
	mkdir(in("slash-dir"), 0755);
	snprintf(p, sizeof(p), "%s/", in("slash-dir"));
	CHECK(chdir(p) == 0 && getcwd(buf, sizeof(buf)) != NULL &&
		strcmp(buf, in("slash-dir")) == 0 && chdir("/") == 0,
		"chdir_dir_slash_and_getcwd_has_no_slash");
}

/* fails -- did 'r' fail with 'e'? */
static bool
fails(int r, int e)
{
	return r == -1 && errno == e;
}

/*
 * dot_components -- "." and ".." are walked, not dropped from the text:
 * the kernel's errors for them as the last component, ENOENT for a
 * missing directory before "..", ENOTDIR for a file before it, and no
 * parent removed by rmdir of "d/.."
 */
static void
dot_components(void)
{
	char p[PATH_MAX], q[PATH_MAX], cwd[PATH_MAX];
	struct stat st;

	snprintf(p, sizeof(p), "%s/dots/e", mnt);
	mkdir(in("dots"), 0755);
	mkdir(p, 0755);
	close(open(in("dots/f"), O_CREAT | O_WRONLY, 0644));
	CHECK(getcwd(cwd, sizeof(cwd)) != NULL && chdir(in("dots")) == 0,
		"chdir_into_a_pool_directory");
	CHECK(fails(rmdir("."), EINVAL) && fails(rmdir(".."), ENOTEMPTY) &&
		fails(rmdir("e/."), EINVAL) && fails(rmdir("e/.."), ENOTEMPTY) &&
		stat("e", &st) == 0 && stat(in("dots"), &st) == 0,
		"rmdir_of_dot_and_dotdot_fails_as_the_kernel_says_and_removes_nothing");
	CHECK(fails(unlink("."), EISDIR) && fails(unlink("e/."), EISDIR) &&
		fails(unlink("f/."), ENOTDIR),
		"unlink_of_dot_components");
	CHECK(fails(mkdir(".", 0755), EEXIST) && fails(mkdir("..", 0755), EEXIST) &&
		fails(mkdir("nx/..", 0755), ENOENT),
		"mkdir_of_dot_components");
	CHECK(fails(rename("e", "."), EBUSY) && fails(rename(".", "x"), EBUSY) &&
		fails(rename("e/..", "x"), EBUSY) && fails(link("f", "."), EEXIST) &&
		fails(symlink("f", "e/.."), EEXIST),
		"rename_link_and_symlink_of_dot_components");
	CHECK(fails(stat("nx/..", &st), ENOENT) && fails(stat("f/..", &st), ENOTDIR) &&
		fails(stat("f/.", &st), ENOTDIR) &&
		fails(open("nx/../f", O_RDONLY), ENOENT) &&
		fails(stat("e/nx/../..", &st), ENOENT),
		"a_missing_directory_or_a_file_before_dotdot");
	snprintf(q, sizeof(q), "%s/dots/nx/../f", mnt);
	CHECK(fails(stat(q, &st), ENOENT) && fails(access(q, F_OK), ENOENT),
		"the_same_in_an_absolute_path");
	/* le -> e/g: le/.. is e, where h is, not the directory holding le */
	CHECK(mkdir("e/g", 0755) == 0 &&
		close(open("e/h", O_CREAT | O_WRONLY, 0644)) == 0 &&
		symlink("e/g", "le") == 0 && stat("le/../h", &st) == 0 &&
		S_ISREG(st.st_mode) && fails(stat("le/../f", &st), ENOENT),
		"dotdot_after_a_symbolic_link_to_a_directory");
	CHECK(chdir(cwd) == 0, "chdir_back");
}

/*
 * chdir_asks_search_permission -- chdir and fchdir into a directory the
 * caller may not search fail with EACCES (fs ids of another user: the
 * kernel drops root's file capabilities with them)
 */
static void
chdir_asks_search_permission(void)
{
	char cwd[PATH_MAX];
	int fd;

	mkdir(in("private"), 0700);
	mkdir(in("public"), 0755);
	fd = open(in("private"), O_RDONLY | O_DIRECTORY);
	CHECK(getcwd(cwd, sizeof(cwd)) != NULL && fd >= 0, "a_private_directory");
	setfsuid(1000);
	CHECK(fails(chdir(in("private")), EACCES) && fails(fchdir(fd), EACCES),
		"chdir_and_fchdir_into_a_directory_without_search_permission");
	CHECK(chdir(in("public")) == 0, "chdir_into_a_searchable_one");
	setfsuid(0);
	CHECK(chdir(in("private")) == 0 && chdir(cwd) == 0,
		"root_may_enter_it");
	close(fd);
}

/*
 * the current directory is the directory, not its name: relative paths
 * follow it when it or its parent is renamed, and need no search
 * permission above it; and a thread with another user's fs ids, which
 * cannot reach the pool file's host directory (0700, the test's), still
 * opens pool files
 */
static void
current_directory_follows_the_directory(void)
{
	char cwd[PATH_MAX], buf[PATH_MAX];
	struct statfs sfs;
	struct stat st;
	FILE *fp = NULL;
	int fd;

	mkdir(in("up"), 0755);
	mkdir(in("up/here"), 0777);
	chmod(in("up/here"), 0777);
	mkdir(in("open"), 0777);
	chmod(in("open"), 0777);
	CHECK(getcwd(cwd, sizeof(cwd)) != NULL && chdir(in("up/here")) == 0 &&
		rename(in("up"), in("up2")) == 0 &&
		rename(in("up2/here"), in("up2/there")) == 0,
		"chdir_then_rename_the_directory_and_its_parent");
	fd = open("made", O_CREAT | O_WRONLY, 0666);
	CHECK(fd >= 0 && stat(in("up2/there/made"), &st) == 0 &&
		stat(in("up/here/made"), &st) == -1 && mkdir("sub", 0777) == 0 &&
		stat(in("up2/there/sub"), &st) == 0,
		"a_relative_create_lands_in_the_directory_under_its_new_name");
	close(fd);
	/* the calls the library has no *at form for name it by its path */
	CHECK(realpath("made", buf) != NULL &&
		strcmp(buf, in("up2/there/made")) == 0,
		"realpath_of_a_relative_name_says_the_new_name");
	CHECK(statfs("made", &sfs) == 0 &&
		setxattr("made", "user.t", "v", 1, 0) == 0 &&
		getxattr(in("up2/there/made"), "user.t", buf, sizeof(buf)) == 1 &&
		(fp = fopen(in("up2/there/sub/f"), "w")) != NULL &&
		(fp = freopen("made", "r", fp)) != NULL && fgetc(fp) == EOF,
		"statfs_xattr_and_freopen_of_a_relative_name_too");
	if (fp != NULL)
		fclose(fp);
	CHECK(getcwd(buf, sizeof(buf)) != NULL &&
		strcmp(buf, in("up2/there")) == 0, "getcwd_says_the_new_name");
	CHECK(pool_turn(NULL) && stat("made", &st) == 0 &&
		mkdir("after", 0755) == 0 && stat(in("up2/there/after"), &st) == 0,
		"and_after_a_childs_turn_with_the_pool");
	CHECK(pool_turn(NULL) && getcwd(buf, sizeof(buf)) != NULL &&
		strcmp(buf, in("up2/there")) == 0, "getcwd_too");
	/* (while this process has the pool: after another's turn the
	   directory is opened again by its path, with the caller's rights) */
	CHECK(stat(".", &st) == 0 && chmod(in("up2"), 0700) == 0 &&
		setfsuid(1000) >= 0 && stat("made", &st) == 0 &&
		fails(stat(in("up2/there/made"), &st), EACCES),
		"a_relative_path_needs_no_search_permission_above");
	fd = open(in("open/mine"), O_CREAT | O_WRONLY, 0666);
	CHECK(fd >= 0 && write(fd, "1", 1) == 1,
		"other_fs_ids_open_a_pool_file_the_host_directory_hides");
	close(fd);
	setfsuid(0);
	mkdir(in("gone"), 0755);
	CHECK(chdir(in("gone")) == 0 && rmdir(in("gone")) == 0 &&
		fails(mkdir("x", 0755), ENOENT) &&
		getcwd(buf, sizeof(buf)) == NULL && errno == ENOENT,
		"a_removed_current_directory");
	DIR *d = opendir(".");

	errno = 0;
	CHECK(d != NULL && readdir(d) == NULL && errno == 0,
		"reads_as_empty_as_the_c_library_reads_it_on_the_host");
	if (d != NULL)
		closedir(d);
	CHECK(chdir(cwd) == 0, "chdir_back");
}

/*
 * a description given up to another process is opened again by its
 * handle: a rename the layer never saw (another program's) and search
 * permission taken away above the file meanwhile do not stop it, as they
 * do not stop the kernel's
 */
static void
descriptions_come_back_by_handle(void)
{
	const char *cli = getenv("DAXFILE"), *pool = getenv("POOL_ONE");
	char buf[8] = "";
	int fd, st = -1;
	pid_t pid;

	CHECK(cli != NULL && pool != NULL, "calls_check_names_the_cli_and_the_pool");
	if (cli == NULL || pool == NULL)
		return;
	mkdir(in("far"), 0755);
	fd = open(in("far/f"), O_CREAT | O_RDWR | O_TRUNC, 0666);
	CHECK(fd >= 0 && fchmod(fd, 0666) == 0 && write(fd, "abc", 3) == 3 &&
		pool_turn(NULL), "a_file_open_and_a_childs_turn");
	pid = fork();
	if (pid == 0) {
		char *argv[] = {(char *)cli, "-p", (char *)pool, "mv", "/far",
			"/near", NULL};
		char *envp[] = {"PMEM_IS_PMEM_FORCE=1", NULL};

		execve(cli, argv, envp);
		_exit(127);
	}
	CHECK(pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st) &&
		WEXITSTATUS(st) == 0, "a_program_outside_the_layer_renames_its_directory");
	CHECK(pread(fd, buf, sizeof(buf), 0) == 3 && memcmp(buf, "abc", 3) == 0,
		"the_descriptor_still_reads_its_file");
	/* (the pool taken back as root: its file is root's, 0600) */
	CHECK(chmod(in("near"), 0700) == 0 && pool_turn(NULL) &&
		access(mnt, F_OK) == 0 && setfsuid(1000) >= 0 &&
		pwrite(fd, "X", 1, 0) == 1,
		"and_writes_it_with_other_ids_without_search_permission_above");
	setfsuid(0);
	close(fd);
}

/* lockf_on_a_pool_file -- the C library's lockf calls fcntl inside it. */
static void
lockf_on_a_pool_file(void)
{
	int fd = open(in("lockf"), O_CREAT | O_RDWR, 0644);

	CHECK(fd >= 0 && lockf(fd, F_TLOCK, 0) == 0 && lockf(fd, F_TEST, 0) == 0 &&
		lockf(fd, F_ULOCK, 0) == 0, "lockf_locks_tests_and_unlocks");
	close(fd);
}

/* spawnp_from_a_pool_directory -- PATH=. while the cwd is in a pool. */
static void
spawnp_from_a_pool_directory(void)
{
	char *argv[] = {"prog.sh", NULL};
	char *envp[] = {"PATH=/nowhere", NULL};
	int fd, st = -1;
	pid_t pid;

	mkdir(in("spawnp"), 0755);
	fd = open(in("spawnp/prog.sh"), O_CREAT | O_WRONLY | O_TRUNC, 0755);
	CHECK(fd >= 0 && write(fd, "#!/bin/sh\nexit 7\n", 18) == 18,
		"spawnp_program_made");
	close(fd);
	/* posix_spawnp searches the caller's PATH, not the child's */
	char *saved = getenv("PATH") ? strdup(getenv("PATH")) : NULL;

	setenv("PATH", ".", 1);
	CHECK(chdir(in("spawnp")) == 0 &&
		posix_spawnp(&pid, "prog.sh", NULL, NULL, argv, envp) == 0 &&
		waitpid(pid, &st, 0) == pid && WIFEXITED(st) &&
		WEXITSTATUS(st) == 7, "posix_spawnp_finds_a_program_by_a_relative_PATH");
	CHECK(posix_spawnp(&pid, "no-such-prog", NULL, NULL, argv, envp) == ENOENT,
		"posix_spawnp_of_a_missing_program_is_ENOENT");
	if (saved != NULL)
		setenv("PATH", saved, 1);
	free(saved);
	chdir("/");
}

/* temporary_names -- mkstemp and its kin make their names in the pool. */
static void
temporary_names(void)
{
	char t1[PATH_MAX], t2[PATH_MAX], t3[PATH_MAX], t4[PATH_MAX];
	struct stat st;
	int fd;

	snprintf(t1, sizeof(t1), "%s", in("tmp.XXXXXX"));
	fd = mkstemp(t1);
	CHECK(fd >= 0 && strncmp(t1, in("tmp."), strlen(in("tmp."))) == 0 &&
		strcmp(t1, in("tmp.XXXXXX")) != 0 && write(fd, "t", 1) == 1 &&
		fstat(fd, &st) == 0 && (st.st_mode & 0777) == 0600 &&
		stat(t1, &st) == 0 && st.st_size == 1, "mkstemp_makes_a_pool_file");
	close(fd);
	snprintf(t2, sizeof(t2), "%s", in("tmp.XXXXXX.sfx"));
	fd = mkostemps(t2, 4, O_CLOEXEC);
	CHECK(fd >= 0 && strcmp(t2 + strlen(t2) - 4, ".sfx") == 0 &&
		(fcntl(fd, F_GETFD) & FD_CLOEXEC) && access(t2, F_OK) == 0,
		"mkostemps_keeps_the_suffix_and_the_flags");
	close(fd);
	snprintf(t3, sizeof(t3), "%s", in("dir.XXXXXX"));
	CHECK(mkdtemp(t3) == t3 && stat(t3, &st) == 0 && S_ISDIR(st.st_mode) &&
		(st.st_mode & 0777) == 0700, "mkdtemp_makes_a_pool_directory");
	snprintf(t4, sizeof(t4), "%s", in("bad.XXXXX"));
	errno = 0;
	CHECK(mkstemp(t4) == -1 && errno == EINVAL, "mkstemp_of_a_bad_template_is_EINVAL");
	/* mktemp by its address: a reference by name makes the linker warn */
	char *(*mktemp_fn)(char *) = (char *(*)(char *))dlsym(RTLD_DEFAULT, "mktemp");

	snprintf(t4, sizeof(t4), "%s", in("name.XXXXXX"));
	CHECK(mktemp_fn != NULL && mktemp_fn(t4) == t4 && t4[0] != '\0' && access(t4, F_OK) != 0 &&
		errno == ENOENT, "mktemp_names_a_free_pool_path");
}

/* spawned -- run argv with the file actions; its exit status, or -errno. */
static int
spawned(posix_spawn_file_actions_t *fa, char *const argv[])
{
	pid_t pid;
	int st, r = posix_spawnp(&pid, argv[0], fa, NULL, argv, environ);

	if (r != 0)
		return -r;
	waitpid(pid, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

/* spawn_file_actions -- posix_spawn's opens, dup2s and closes of pool files. */
static void
spawn_file_actions(void)
{
	char *echo[] = {"echo", "spawned", NULL};
	char *cat[] = {"cat", NULL};
	posix_spawn_file_actions_t fa;
	char buf[64] = "";
	int fd;

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, in("spawn-out"),
		O_WRONLY | O_CREAT | O_TRUNC, 0644);
	CHECK(spawned(&fa, echo) == 0, "spawn_with_an_open_of_a_pool_path");
	posix_spawn_file_actions_destroy(&fa);
	fd = open(in("spawn-out"), O_RDONLY);
	CHECK(fd >= 0 && read(fd, buf, sizeof(buf)) == 8 &&
		memcmp(buf, "spawned\n", 8) == 0, "its_output_is_in_the_pool_file");
	close(fd);

	fd = open(in("spawn-dup"), O_WRONLY | O_CREAT | O_TRUNC, 0644);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, fd, 1);
	posix_spawn_file_actions_addclose(&fa, fd);
	CHECK(spawned(&fa, echo) == 0, "spawn_with_a_dup2_of_a_pool_descriptor");
	posix_spawn_file_actions_destroy(&fa);
	CHECK(lseek(fd, 0, SEEK_CUR) == 8, "the_child_moved_the_shared_offset");
	close(fd);

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, in("no-such-file"), O_RDONLY, 0);
	CHECK(spawned(&fa, cat) == -ENOENT, "a_failed_action_is_the_spawns_error");
	posix_spawn_file_actions_destroy(&fa);
}

/* unix_sockets -- none at pool paths, and none reaches the host there. */
static void
unix_sockets(void)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int s = socket(AF_UNIX, SOCK_STREAM, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", in("sock"));
	errno = 0;
	CHECK(s >= 0 && bind(s, (struct sockaddr *)&sa, sizeof(sa)) == -1 &&
		errno == EPERM, "bind_at_a_pool_path_is_EPERM");
	close(s);
	s = socket(AF_UNIX, SOCK_STREAM, 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", in("d1"));
	errno = 0;
	CHECK(s >= 0 && connect(s, (struct sockaddr *)&sa, sizeof(sa)) == -1 &&
		errno == ECONNREFUSED, "connect_to_a_pool_file_is_ECONNREFUSED");
	close(s);
}

/* vfork_child_redirects -- what a vfork child does is not its parent's. */
static void
vfork_child_redirects(void)
{
	int fd = open(in("vfork-out"), O_WRONLY | O_CREAT | O_TRUNC, 0644), st;
	struct stat before, after;
	pid_t pid;

	fstat(1, &before);
	fflush(stdout);
	pid = vfork();
	if (pid == 0) {
		/* as Python's subprocess does with stdout=<a pool file> */
		dup2(fd, 1);
		execlp("echo", "echo", "vforked", (char *)NULL);
		_exit(127);
	}
	waitpid(pid, &st, 0);
	close(fd);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0 && fstat(1, &after) == 0 &&
		after.st_ino == before.st_ino && after.st_dev == before.st_dev,
		"a_vfork_childs_dup2_leaves_the_parents_stdout");
	fd = open(in("vfork-out"), O_RDONLY);
	char buf[16] = "";

	CHECK(fd >= 0 && read(fd, buf, sizeof(buf)) == 8 &&
		memcmp(buf, "vforked\n", 8) == 0, "the_vfork_childs_output_is_in_the_pool");
	close(fd);
}

static void
stdio_streams(void)
{
	FILE *f = fopen(in("stdio"), "w");
	char line[64] = "";

	CHECK(f != NULL && fileno(f) >= 0 && fprintf(f, "line %d\n", 42) > 0 &&
		fclose(f) == 0, "fopen_fprintf_fclose");
	f = fopen(in("stdio"), "r");
	CHECK(f != NULL && fgets(line, sizeof(line), f) != NULL &&
		strcmp(line, "line 42\n") == 0, "fgets_reads_it_back");
	if (f != NULL)
		fclose(f);
}

/* host paths keep the kernel's errors; a mount point's parents are directories */
static void
host_errors_and_mount_parents(void)
{
	char dir[] = "/tmp/daxfile-preload-errs.XXXXXX", p[PATH_MAX], parent[PATH_MAX];
	struct stat st;
	struct statx stx;
	char *slash;

	CHECK(mkdtemp(dir) != NULL, "a_host_directory");
	snprintf(p, sizeof(p), "%s/loop", dir);
	CHECK(symlink("loop/inside", p) == 0, "a_host_link_to_itself");
	snprintf(p, sizeof(p), "%s/loop/inside", dir);
	CHECK(lstat(p, &st) == -1 && errno == ELOOP,
		"lstat_of_a_host_link_loop_is_ELOOP_as_from_the_kernel");
	snprintf(p, sizeof(p), "%s/file", dir);
	close(open(p, O_CREAT | O_WRONLY, 0644));
	snprintf(p, sizeof(p), "%s/file/below", dir);
	CHECK(stat(p, &st) == -1 && errno == ENOTDIR,
		"stat_below_a_host_file_is_ENOTDIR_as_from_the_kernel");
	snprintf(parent, sizeof(parent), "%s", mnt);
	slash = strrchr(parent, '/');
	*slash = '\0';
	CHECK(stat(parent, &st) == 0 && S_ISDIR(st.st_mode) &&
		statx(AT_FDCWD, parent, 0, STATX_BASIC_STATS, &stx) == 0 &&
		S_ISDIR(stx.stx_mode),
		"stat_and_statx_find_a_mount_points_missing_parent_a_directory");
	snprintf(p, sizeof(p), "%s/loop", dir);
	unlink(p);
	snprintf(p, sizeof(p), "%s/file", dir);
	unlink(p);
	rmdir(dir);
}

/* a pool file is a regular file to poll; notifications are refused */
static void
readiness_and_notifications(void)
{
	int fd = open(in("ready"), O_CREAT | O_RDWR, 0644), p[2], ep, in_fd;
	struct epoll_event ev = {.events = EPOLLIN};
	struct timespec zero = {0, 0};

	CHECK(fd >= 0 && pipe(p) == 0, "a_pool_file_and_a_pipe");
	struct pollfd pf[3] = {{fd, POLLIN | POLLOUT, 0}, {p[0], POLLIN, 0},
		{p[1], POLLOUT, 0}};
	CHECK(poll(pf, 3, -1) == 2 && pf[0].revents == (POLLIN | POLLOUT) &&
		pf[1].revents == 0 && pf[2].revents == POLLOUT,
		"poll_finds_a_pool_file_ready_and_asks_the_kernel_for_the_rest");
	pf[0].events = POLLIN;
	pf[2].fd = -1;
	CHECK(ppoll(pf, 3, &zero, NULL) == 1 && pf[0].revents == POLLIN &&
		pf[1].revents == 0, "ppoll_reports_only_the_events_asked");
	fd_set r, w, e;
	struct timeval tv = {5, 0};

	FD_ZERO(&r);
	FD_ZERO(&w);
	FD_ZERO(&e);
	FD_SET(fd, &r);
	FD_SET(fd, &w);
	FD_SET(fd, &e);
	FD_SET(p[0], &r);
	FD_SET(p[0], &e);
	CHECK(select((fd > p[0] ? fd : p[0]) + 1, &r, &w, &e, &tv) == 2 &&
		FD_ISSET(fd, &r) && FD_ISSET(fd, &w) && !FD_ISSET(fd, &e) &&
		!FD_ISSET(p[0], &r) && !FD_ISSET(p[0], &e),
		"select_finds_a_pool_file_readable_and_writable_not_exceptional");
	ep = epoll_create1(0);
	CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) == -1 && errno == EPERM &&
		epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev) == 0,
		"epoll_refuses_a_pool_file_with_EPERM_as_a_regular_file");
	in_fd = inotify_init1(IN_CLOEXEC);
	CHECK(inotify_add_watch(in_fd, mnt, IN_CREATE) == -1 && errno == ENOTSUP &&
		inotify_add_watch(in_fd, "/tmp", IN_CREATE) >= 0,
		"inotify_of_a_pool_path_is_ENOTSUP_and_of_the_host_works");
	CHECK(fcntl(fd, F_GETLEASE) == F_UNLCK &&
		fcntl(fd, F_SETLEASE, F_UNLCK) == 0 &&
		fcntl(fd, F_SETLEASE, F_RDLCK) == -1 && errno == ENOTSUP,
		"no_leases_on_pool_files");
	close(in_fd);
	close(ep);
	close(p[0]);
	close(p[1]);
	close(fd);
}

static void
exdev_across_pools(void)
{
	char other[PATH_MAX];
	int fd = open(in("x"), O_CREAT | O_WRONLY, 0644);

	close(fd);
	snprintf(other, sizeof(other), "%s/x", mnt2);
	CHECK(rename(in("x"), other) == -1 && errno == EXDEV, "rename_across_pools_is_EXDEV");
	CHECK(rename(in("x"), "/tmp/daxfile-preload-x") == -1 && errno == EXDEV,
		"rename_to_the_host_is_EXDEV");
}

int
main(void)
{
	mnt = getenv("MNT");
	mnt2 = getenv("MNT2");
	if (mnt == NULL || mnt2 == NULL) {
		fprintf(stderr, "MNT and MNT2 must name two mount points\n");
		return 2;
	}
	descriptors_are_kernel_numbers();
	dup_shares_the_offset();
	cloexec_is_honoured();
	bare_syscall_is_served();
#if defined(__x86_64__)
	syscall_instructions_are_served();
#endif
	mappings_go_through_the_library();
	threads_write_at_once();
	signals_during_pool_calls(SA_RESTART);
	signals_during_pool_calls(0);
	fork_child_uses_the_pool_in_turn();
	nameless_files_across_a_turn();
	a_hand_over_takes_no_descriptor_number();
	fork_while_the_pool_is_asked_for();
	locks_stay_with_their_process();
	current_directory_in_a_pool();
	directory_streams();
	directory_reads_across_a_turn();
	walkers();
	statx_of_a_descriptor();
	a_programs_own_libc_function_is_not_the_layers();
	absolute_links();
	trailing_slashes();
	dot_components();
	chdir_asks_search_permission();
	current_directory_follows_the_directory();
	descriptions_come_back_by_handle();
	lockf_on_a_pool_file();
	spawnp_from_a_pool_directory();
	temporary_names();
	spawn_file_actions();
	vfork_child_redirects();
	unix_sockets();
	stdio_streams();
	readiness_and_notifications();
	host_errors_and_mount_parents();
	exdev_across_pools();
	printf("%d passed, %d failed\n", passed, failed);
	return failed != 0;
}
