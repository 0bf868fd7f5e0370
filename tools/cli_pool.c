/*
 * cli_pool.c -- the daxfile commands that act on the pool as a whole:
 * mkfs, info and check.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "cli.h"

/* Permission bits of a new pool file. */
#define POOL_MODE 0644

/* cmd_mkfs -- create a pool file of the given size. */
int
cmd_mkfs(const struct cli *cli, int argc, char **argv)
{
	daxfile_pool *pool;
	uint64_t size;
	int first = cli_operands(argc, argv);

	if (first < 0 || argc - first != 2)
		return cli_usage(cli);
	if (cli_parse_size(argv[first + 1], &size) < 0) {
		cli_msg(cli, "invalid size '%s'", argv[first + 1]);
		return cli_usage(cli);
	}

	pool = daxfile_pool_create(argv[first], size, POOL_MODE);
	if (!pool)
		return cli_fail(cli, argv[first], errno);
	if (daxfile_pool_close(pool) < 0)
		return cli_fail(cli, argv[first], errno);
	return CLI_OK;
}

/* print_space -- one line of info: a number of blocks and their bytes. */
static void
print_space(const char *label, uint64_t blocks, uint64_t block_size)
{
	char human[32];

	cli_human(blocks * block_size, human, sizeof(human));
	printf("%-12s %s (%" PRIu64 " blocks)\n", label, human, blocks);
}

/* print_info -- the space and inodes of the pool, as statvfs reports them. */
static void
print_info(const char *path, const struct statvfs *vfs)
{
	/* f_blocks counts fragments; the two sizes agree unless set apart. */
	uint64_t block_size = vfs->f_frsize ? vfs->f_frsize : vfs->f_bsize;
	uint64_t used = vfs->f_blocks - vfs->f_bfree;
	uint64_t inodes_used = vfs->f_files - vfs->f_ffree;

	printf("%-12s %s\n", "pool:", path);
	printf("%-12s %" PRIu64 "\n", "block size:", block_size);
	print_space("total:", vfs->f_blocks, block_size);
	print_space("used:", used, block_size);
	print_space("free:", vfs->f_bfree, block_size);
	printf("%-12s %" PRIu64 " total, %" PRIu64 " used, %" PRIu64 " free\n",
		"inodes:", (uint64_t)vfs->f_files, inodes_used,
		(uint64_t)vfs->f_ffree);
}

/*
 * print_huge_pages -- whether the kernel maps the pool file with 2 MiB
 * pages, which mappings of its files of 2 MiB or more then get too (see
 * daxfile_mmap(3)): on a tmpfs mounted huge=always or huge=within_size
 * (any tmpfs when shmem_enabled is force, none when it is deny), and on a
 * file system mounted with dax.  The pool file's file system and its
 * options come from /proc/self/mountinfo.
 */
static void
print_huge_pages(const char *path)
{
	char line[4096], type[64] = "?", opts[1024] = ",", shmem[128] = "";
	const char *why;
	struct stat st;
	FILE *f;
	bool yes;

	if (stat(path, &st) != 0)
		return;
	if ((f = fopen("/proc/self/mountinfo", "r")) != NULL) {
		while (fgets(line, sizeof(line), f) != NULL) {
			unsigned maj, min;
			char *rest = strstr(line, " - ");

			if (sscanf(line, "%*s %*s %u:%u", &maj, &min) == 2 &&
			    makedev(maj, min) == st.st_dev && rest != NULL &&
			    sscanf(rest + 3, "%63s %*s %1021s", type, opts + 1) == 2)
				strcat(opts, ",");
		}
		fclose(f);
	}
	if ((f = fopen("/sys/kernel/mm/transparent_hugepage/shmem_enabled",
	    "r")) != NULL) {
		if (fgets(shmem, sizeof(shmem), f) == NULL)
			shmem[0] = '\0';
		fclose(f);
	}
	if (strcmp(type, "tmpfs") != 0) {
		yes = strstr(opts, ",dax,") || strstr(opts, ",dax=always,");
		why = yes ? "mounted with dax" : type;
	} else if (strstr(shmem, "[deny]") || strstr(shmem, "[force]")) {
		yes = strstr(shmem, "[force]") != NULL;
		why = yes ? "tmpfs, shmem_enabled force" : "tmpfs, shmem_enabled deny";
	} else {
		yes = strstr(opts, ",huge=always,") ||
			strstr(opts, ",huge=within_size,");
		why = yes ? "tmpfs mounted huge=always or huge=within_size" :
			"tmpfs mounted without huge=always or huge=within_size";
	}
	printf("%-12s %s (%s): %s\n", "huge pages:", yes ? "yes" : "no", why,
		yes ? "mappings of files of 2 MiB or more use 2 MiB pages" :
		"mappings use 4 KiB pages, see daxfile_mmap(3)");
}

/* cmd_info -- show the space and inodes of the pool. */
int
cmd_info(const struct cli *cli, int argc, char **argv)
{
	struct statvfs vfs;
	daxfile_pool *pool;
	int first = cli_operands(argc, argv);
	int status = CLI_OK;

	if (first < 0 || first != argc)
		return cli_usage(cli);
	pool = cli_pool_open(cli);
	if (!pool)
		return CLI_FAILURE;

	if (daxfile_statvfs(pool, &vfs) < 0) {
		status = cli_fail(cli, cli->pool_path, errno);
	} else {
		print_info(cli->pool_path, &vfs);
		print_huge_pages(cli->pool_path);
	}
	return cli_pool_close(cli, pool, status);
}

/* cmd_check -- check the pool without opening it; 1 if it has problems. */
int
cmd_check(const struct cli *cli, int argc, char **argv)
{
	int first = cli_operands(argc, argv);
	int ret;

	if (first < 0 || first != argc)
		return cli_usage(cli);
	ret = daxfile_pool_check(cli->pool_path, stdout);
	if (ret < 0)
		return cli_fail(cli, cli->pool_path, errno);
	return ret == 0 ? CLI_OK : CLI_FAILURE;
}
