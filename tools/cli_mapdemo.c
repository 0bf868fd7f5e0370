/*
 * cli_mapdemo.c -- `daxfile map-demo [-f] [PATH]`: map a file of the pool
 * and show direct access and a live hole punch: stores through the mapping
 * are seen by pread, a pwrite is seen through the mapping, a punch turns
 * the mapped bytes to zeros at once (the blocks go back to the pool), and
 * a truncate makes the pages past EOF raise SIGBUS.  The file is created;
 * an existing one is overwritten only with -f.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <linux/falloc.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

#define DEMO_SIZE ((size_t)8 << 20)	/* four 2 MiB windows */
#define DEMO_PAGE 4096

static sigjmp_buf demo_jmp;

static void
demo_sigbus(int sig)
{
	(void)sig;
	siglongjmp(demo_jmp, 1);
}

/* demo_blocks -- st_blocks of the file, in 4 KiB blocks. */
static long
demo_blocks(daxfile_file *f)
{
	struct stat st;

	return daxfile_fstat(f, &st) == 0 ? (long)(st.st_blocks / 8) : -1;
}

/* demo_show -- print the first bytes of each MiB of the mapping. */
static void
demo_show(const char *when, const unsigned char *m, size_t len)
{
	printf("%-34s", when);
	for (size_t off = 0; off < len; off += 1 << 20)
		printf(" %c", m[off] ? m[off] : '.');
	printf("\n");
}

/* demo_probe -- a load at 'p': 0, or 1 if it raised SIGBUS. */
static int
demo_probe(const volatile unsigned char *p)
{
	struct sigaction sa = {.sa_handler = demo_sigbus}, old;
	int bus = 0;

	sigaction(SIGBUS, &sa, &old);
	if (sigsetjmp(demo_jmp, 1) == 0)
		(void)*p;
	else
		bus = 1;
	sigaction(SIGBUS, &old, NULL);
	return bus;
}

/* cmd_map_demo -- run the demonstration on PATH (default /map-demo). */
int
cmd_map_demo(const struct cli *cli, int argc, char **argv)
{
	char buf[PATH_MAX];
	const char *path;
	daxfile_pool *pool;
	daxfile_file *f;
	unsigned char *m, c;
	int status = CLI_OK;
	int flags = O_RDWR | O_CREAT | O_EXCL;
	int opt;

	while ((opt = getopt(argc, argv, "f")) != -1) {
		if (opt != 'f')
			return cli_usage(cli);
		flags = O_RDWR | O_CREAT | O_TRUNC;
	}
	if (argc - optind > 1)
		return cli_usage(cli);
	path = cli_pool_path_or_fail(cli,
		argc - optind == 1 ? argv[optind] : "/map-demo", buf);
	if (path == NULL)
		return CLI_FAILURE;
	pool = cli_pool_open(cli);
	if (!pool)
		return CLI_FAILURE;
	f = daxfile_open(pool, path, flags, 0644);
	if (!f) {
		if (errno == EEXIST)
			cli_msg(cli, "%s exists: map-demo would overwrite it (-f allows that)",
				path);
		else
			cli_fail(cli, path, errno);
		return cli_pool_close(cli, pool, CLI_FAILURE);
	}
	if (daxfile_ftruncate(f, (off_t)DEMO_SIZE) < 0) {
		status = cli_fail(cli, path, errno);
		goto out_close;
	}
	m = daxfile_mmap(NULL, DEMO_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
		f, 0);
	if (m == MAP_FAILED) {
		status = cli_fail(cli, path, errno);
		goto out_close;
	}
	printf("mapped %s: %zu MiB at %p (one byte shown per MiB, '.' = 0)\n",
		path, DEMO_SIZE >> 20, (void *)m);
	demo_show("a fresh file reads zeros:", m, DEMO_SIZE);
	printf("  blocks allocated: %ld\n", demo_blocks(f));

	for (size_t off = 0; off < DEMO_SIZE; off += 1 << 20)
		memset(m + off, 'A' + (int)(off >> 20), 1 << 20);
	demo_show("after stores through the mapping:", m, DEMO_SIZE);
	printf("  blocks allocated: %ld (the stores allocated them)\n",
		demo_blocks(f));
	daxfile_pread(f, &c, 1, 3 << 20);
	printf("  pread at 3 MiB sees '%c': the same pool pages\n", c);

	daxfile_pwrite(f, "Z", 1, 5 << 20);
	demo_show("after pwrite('Z') at 5 MiB:", m, DEMO_SIZE);

	if (daxfile_fallocate(f, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
		2 << 20, 4 << 20) < 0) {
		status = cli_fail(cli, path, errno);
		goto out_unmap;
	}
	demo_show("after punching [2 MiB, 6 MiB):", m, DEMO_SIZE);
	printf("  blocks allocated: %ld (the punched blocks went back to the pool)\n",
		demo_blocks(f));

	if (daxfile_ftruncate(f, 1 << 20) < 0) {
		status = cli_fail(cli, path, errno);
		goto out_unmap;
	}
	printf("after truncating to 1 MiB:         a load at 0 %s, a load at 4 MiB %s\n",
		demo_probe(m) ? "raises SIGBUS" : "works",
		demo_probe(m + (4 << 20)) ? "raises SIGBUS" : "works");

out_unmap:
	if (daxfile_munmap(m, DEMO_SIZE) < 0 && status == CLI_OK)
		status = cli_fail(cli, path, errno);
out_close:
	if (daxfile_close(f) < 0 && status == CLI_OK)
		status = cli_fail(cli, path, errno);
	return cli_pool_close(cli, pool, status);
}
