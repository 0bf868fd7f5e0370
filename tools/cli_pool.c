/*
 * cli_pool.c -- the daxfile commands that act on the pool as a whole:
 * mkfs, info, check and salvage.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <linux/magic.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "cli.h"

/* Permission bits of a new pool file. */
#define POOL_MODE 0644

/* Label width of the lines of mkfs and info. */
#define LABEL "%-12s "

/* fs_name -- the name of the file system holding 'path', as df -T says. */
static const char *
fs_name(const char *path)
{
	static const struct {
		long type;
		const char *name;
	} names[] = {
		{ EXT4_SUPER_MAGIC, "ext4" },	/* and ext2, ext3 */
		{ XFS_SUPER_MAGIC, "xfs" },
		{ BTRFS_SUPER_MAGIC, "btrfs" },
		{ TMPFS_MAGIC, "tmpfs" },
		{ RAMFS_MAGIC, "ramfs" },
		{ HUGETLBFS_MAGIC, "hugetlbfs" },
		{ NFS_SUPER_MAGIC, "nfs" },
		{ OVERLAYFS_SUPER_MAGIC, "overlay" },
		{ F2FS_SUPER_MAGIC, "f2fs" },
	};
	struct statfs fs;

	if (statfs(path, &fs) != 0)
		return "unknown file system";
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (fs.f_type == names[i].type)
			return names[i].name;
	return "another file system";
}

/* print_backing -- what backs the pool, and what that costs. */
static void
print_backing(const char *path, int backing)
{
	const char *fs = fs_name(path);

	switch (backing) {
	case DAXFILE_BACKING_PMEM:
		printf(LABEL "persistent memory (%s): writes are made durable by flushing\n"
			LABEL "CPU caches, with no system call\n", "backing:", fs, "");
		break;
	case DAXFILE_BACKING_MEMORY:
		printf(LABEL "memory (%s): nothing to flush to, so calls run at memory\n"
			LABEL "speed; the pool survives a crash of a process, not of the machine\n",
			"backing:", fs, "");
		break;
	default:
		printf(LABEL "disk (%s): each metadata change and each append waits for\n"
			LABEL "msync(2) to reach the device; overwrites wait for fsync\n",
			"backing:", fs, "");
		break;
	}
}

/* print_space -- one line of info: a number of blocks and their bytes. */
static void
print_space(const char *label, uint64_t blocks, uint64_t block_size)
{
	char human[32];

	cli_human(blocks * block_size, human, sizeof(human));
	printf(LABEL "%s (%" PRIu64 " blocks)\n", label, human, blocks);
}

/* print_made -- what mkfs made: the file, the room for file data, the backing. */
static int
print_made(const struct cli *cli, const char *path, daxfile_pool *pool,
	uint64_t size)
{
	struct statvfs vfs;
	char file[32], usable[32];

	if (daxfile_statvfs(pool, &vfs) < 0)
		return cli_fail(cli, path, errno);
	cli_human(size, file, sizeof(file));
	cli_human((uint64_t)vfs.f_blocks * vfs.f_frsize, usable, sizeof(usable));
	printf(LABEL "%s\n", "pool:", path);
	printf(LABEL "%s (%" PRIu64 " bytes)\n", "file size:", file, size);
	printf(LABEL "%s (%" PRIu64 " blocks of %lu bytes) for file data\n",
		"usable:", usable, (uint64_t)vfs.f_blocks, vfs.f_frsize);
	print_backing(path, daxfile_pool_backing(pool));
	return CLI_OK;
}

/*
 * cmd_mkfs -- create a pool file of the given size, or of the size that
 * holds the given bytes of file data.
 */
int
cmd_mkfs(const struct cli *cli, int argc, char **argv)
{
	const char *usable_arg = NULL, *path;
	daxfile_pool *pool;
	uint64_t size, usable;
	int opt, status;

	while ((opt = getopt(argc, argv, "u:")) != -1) {
		if (opt != 'u')
			return cli_usage(cli);
		usable_arg = optarg;
	}
	if (argc - optind != (usable_arg ? 1 : 2))
		return cli_usage(cli);
	path = argv[optind];
	if (usable_arg != NULL) {
		if (cli_parse_size(usable_arg, &usable) < 0)
			return cli_bad_size(cli, "usable size", usable_arg);
		size = daxfile_pool_size_for(usable);
		if (size == 0)
			return cli_fail(cli, usable_arg, errno);
	} else if (cli_parse_size(argv[optind + 1], &size) < 0) {
		return cli_bad_size(cli, "size", argv[optind + 1]);
	}

	pool = daxfile_pool_create(path, size, POOL_MODE);
	if (!pool)
		return cli_fail(cli, path, errno);
	status = print_made(cli, path, pool, size);
	if (daxfile_pool_close(pool) < 0)
		return cli_fail(cli, path, errno);
	return status;
}

/* print_info -- the space and inodes of the pool, as statvfs reports them. */
static void
print_info(const char *path, const struct statvfs *vfs)
{
	/* f_blocks counts fragments; the two sizes agree unless set apart. */
	uint64_t block_size = vfs->f_frsize ? vfs->f_frsize : vfs->f_bsize;
	uint64_t used = vfs->f_blocks - vfs->f_bfree;
	uint64_t inodes_used = vfs->f_files - vfs->f_ffree;
	struct stat st;

	printf(LABEL "%s\n", "pool:", path);
	if (stat(path, &st) == 0) {
		char file[32];

		cli_human((uint64_t)st.st_size, file, sizeof(file));
		printf(LABEL "%s\n", "file size:", file);
	}
	printf(LABEL "%" PRIu64 "\n", "block size:", block_size);
	print_space("total:", vfs->f_blocks, block_size);
	print_space("used:", used, block_size);
	print_space("free:", vfs->f_bfree, block_size);
	printf(LABEL "%" PRIu64 " total, %" PRIu64 " used, %" PRIu64 " free\n",
		"inodes:", (uint64_t)vfs->f_files, inodes_used,
		(uint64_t)vfs->f_ffree);
}

/*
 * huge_share -- of up to HUGE_SAMPLES 2 MiB ranges of the tmpfs file at
 * 'path', spread over it, how many the kernel maps with one 2 MiB page
 * (*sampled: how many were looked at); -1 if it cannot say.  Each range
 * is mapped and populated alone, and /proc/self/smaps says how much of
 * the mapping took 2 MiB entries.
 */
#define HUGE_SIZE ((size_t)2 << 20)
#define HUGE_SAMPLES 64

#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22
#endif

static int
huge_share(const char *path, int *sampled)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), huge = 0;
	struct stat st;
	size_t chunks;

	*sampled = 0;
	if (fd < 0 || fstat(fd, &st) != 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	chunks = (size_t)st.st_size / HUGE_SIZE;
	for (size_t k = 0; k < HUGE_SAMPLES && k < chunks; k++) {
		size_t c = chunks <= HUGE_SAMPLES ? k : k * chunks / HUGE_SAMPLES;
		char line[256], *r, *p;
		unsigned long lo, hi, kib = 0;
		bool in = false;
		FILE *f;

		r = mmap(NULL, 2 * HUGE_SIZE, PROT_NONE, MAP_PRIVATE |
			MAP_ANONYMOUS, -1, 0);
		if (r == MAP_FAILED)
			break;
		p = (char *)(((uintptr_t)r + HUGE_SIZE - 1) &
			~(uintptr_t)(HUGE_SIZE - 1));
		if (mmap(p, HUGE_SIZE, PROT_READ, MAP_SHARED | MAP_FIXED, fd,
		    (off_t)(c * HUGE_SIZE)) == MAP_FAILED ||
		    madvise(p, HUGE_SIZE, MADV_POPULATE_READ) != 0 ||
		    (f = fopen("/proc/self/smaps", "r")) == NULL) {
			munmap(r, 2 * HUGE_SIZE);
			break;
		}
		while (fgets(line, sizeof(line), f) != NULL) {
			if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2 &&
			    line[strspn(line, "0123456789abcdef")] == '-')
				in = lo == (uintptr_t)p;
			else if (in && sscanf(line, "ShmemPmdMapped: %lu kB",
			    &kib) == 1)
				break;
		}
		fclose(f);
		munmap(r, 2 * HUGE_SIZE);
		huge += kib * 1024 == HUGE_SIZE;
		(*sampled)++;
	}
	close(fd);
	return *sampled > 0 ? huge : -1;
}

/*
 * print_huge_pages -- whether the kernel maps the pool file with 2 MiB
 * pages, which mappings of its files of 2 MiB or more then get too (see
 * daxfile_mmap(3)).  On tmpfs the file's own pages say it
 * (daxfile_pool_create makes them 2 MiB where the kernel gives them); on
 * another file system, its mount options (dax), from
 * /proc/self/mountinfo.
 */
static void
print_huge_pages(const char *path)
{
	char line[4096], type[64] = "?", opts[1024] = ",", why[128];
	int huge, sampled;
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
	if (strcmp(type, "tmpfs") != 0) {
		yes = strstr(opts, ",dax,") || strstr(opts, ",dax=always,");
		snprintf(why, sizeof(why), "%s", yes ? "mounted with dax" : type);
	} else if ((huge = huge_share(path, &sampled)) < 0) {
		yes = false;
		snprintf(why, sizeof(why), "tmpfs, pages not readable");
	} else {
		yes = huge == sampled;
		snprintf(why, sizeof(why), "tmpfs, %d of %d places sampled in "
			"2 MiB pages", huge, sampled);
	}
	printf("%-12s %s (%s): %s\n", "huge pages:", yes ? "yes" : "no", why,
		yes ? "mappings of files of 2 MiB or more use 2 MiB pages" :
		"mappings use 4 KiB pages, see daxfile_mmap(3)");
}

/* cmd_info -- show the space, inodes, backing and huge pages of the pool. */
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
		print_backing(cli->pool_path, daxfile_pool_backing(pool));
		print_huge_pages(cli->pool_path);
	}
	return cli_pool_close(cli, pool, status);
}

/* print_clean -- the line of check for a clean pool, as e2fsck's. */
static void
print_clean(const struct cli *cli)
{
	daxfile_pool *pool = daxfile_pool_open(cli->pool_path);
	struct statvfs vfs;
	char used[32], total[32];

	if (pool == NULL || daxfile_statvfs(pool, &vfs) != 0) {
		printf("%s: clean\n", cli->pool_path);
	} else {
		cli_human((uint64_t)(vfs.f_blocks - vfs.f_bfree) * vfs.f_frsize,
			used, sizeof(used));
		cli_human((uint64_t)vfs.f_blocks * vfs.f_frsize, total,
			sizeof(total));
		printf("%s: clean, %" PRIu64 " inodes, %s of %s used\n",
			cli->pool_path, (uint64_t)(vfs.f_files - vfs.f_ffree),
			used, total);
	}
	if (pool != NULL)
		daxfile_pool_close(pool);
}

/*
 * cmd_check -- check the pool, with -r repair it: 0 clean, 1 damage found
 * (left, with -r), 2 not checked, as fsck(8).
 */
int
cmd_check(const struct cli *cli, int argc, char **argv)
{
	static const struct option options[] = {
		{ "repair", no_argument, NULL, 'r' },
		{ NULL, 0, NULL, 0 },
	};
	bool repair = false;
	int opt, ret;

	while ((opt = getopt_long(argc, argv, "r", options, NULL)) != -1) {
		if (opt != 'r')
			return cli_usage(cli);
		repair = true;
	}
	if (optind != argc)
		return cli_usage(cli);
	ret = repair ? daxfile_pool_repair(cli->pool_path, stdout) :
		daxfile_pool_check(cli->pool_path, stdout);
	if (ret < 0) {
		cli_fail(cli, cli->pool_path, errno);
		return CLI_CHECK_FAILED;
	}
	if (ret == 0) {
		print_clean(cli);
		return CLI_OK;
	}
	if (repair && daxfile_pool_check(cli->pool_path, NULL) == 0)
		printf("%s: was damaged, is clean now\n", cli->pool_path);
	else
		printf("%s: damaged; see \"DAMAGED POOLS\" in daxfile(1)\n",
			cli->pool_path);
	return CLI_CHECK_DAMAGED;
}

/* cmd_salvage -- copy the intact files of the pool into a host directory. */
int
cmd_salvage(const struct cli *cli, int argc, char **argv)
{
	int first = cli_operands(argc, argv);
	int ret;

	if (first < 0 || argc - first != 1)
		return cli_usage(cli);
	ret = daxfile_pool_salvage(cli->pool_path, argv[first], stdout);
	if (ret < 0)
		return cli_fail(cli, cli->pool_path, errno);
	return ret == 0 ? CLI_OK : CLI_FAILURE;
}
