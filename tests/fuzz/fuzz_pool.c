/*
 * fuzz_pool.c -- a libFuzzer target for damaged pools: it mutates a small
 * valid pool image, then checks it, opens it, lists and reads the whole
 * tree, writes, truncates and punches a file, and closes it.  Nothing may
 * crash, hang or trip a sanitizer: a damaged pool is bad input, answered
 * with an errno.
 *
 * An input is a list of patches over the base image (built once, at
 * start): each names a region -- anywhere in the file, or one of the pool's
 * objects (superblock, AG headers, inodes, directory entries and blocks,
 * extent chunks, extended attributes, symbolic links and their target
 * blocks), which is where damage matters -- an offset in it, and the bytes
 * to write there.  Inputs stay small and mean the same on every run,
 * so findings replay as regression tests (tests/fuzz/regressions/, run by
 * `make check` through fuzz-replay.c).  Objects are numbered in the order
 * of their offsets in the base image: a change to the image renumbers
 * them, and the inputs are then rewritten to name the same objects.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <libpmemobj.h>
#include <linux/falloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "daxfile.h"

#define BASE_SIZE ((uint64_t)16 << 20)
#define MAX_REGIONS 4096
#define WALK_BUDGET 2000

struct region {
	uint64_t off;
	uint64_t len;
};

static struct {
	char base_path[128];
	char work_path[128];
	uint8_t *image;
	struct region regions[MAX_REGIONS];
	unsigned nregions;
	unsigned budget;	/* tree entries left to visit */
	char bigvalue[20000];	/* a large attribute value */
} fz;

static void
die(const char *what)
{
	fprintf(stderr, "fuzz_pool: %s: %s\n", what, daxfile_errormsg());
	abort();
}

static void
put_file(daxfile_pool *p, const char *path, uint64_t off, uint64_t len)
{
	daxfile_file *f = daxfile_open(p, path, O_CREAT | O_RDWR, 0644);
	char buf[8192];

	if (f == NULL)
		die(path);
	memset(buf, path[1], sizeof(buf));
	for (uint64_t done = 0; done < len; done += sizeof(buf))
		if (daxfile_pwrite(f, buf, sizeof(buf), (off_t)(off + done)) < 0)
			die(path);
	daxfile_close(f);
}

/* base_build -- a small pool with something of every structure in it. */
static void
base_build(void)
{
	daxfile_pool *p;
	daxfile_file *f;
	char name[64];

	unlink(fz.base_path);
	p = daxfile_pool_create(fz.base_path, BASE_SIZE, 0600);
	if (p == NULL)
		die("create");
	daxfile_mkdir(p, "/a", 0755);
	daxfile_mkdir(p, "/a/b", 0755);
	daxfile_mkdir(p, "/many", 0755);
	put_file(p, "/small", 0, 100);
	put_file(p, "/big", 0, 2 << 20);
	for (int i = 0; i < 40; i++)	/* a fragmented file */
		put_file(p, "/a/frag", (uint64_t)(80 - 2 * i) * 4096, 4096);
	f = daxfile_open(p, "/a/b/prealloc", O_CREAT | O_RDWR, 0644);
	daxfile_fallocate(f, FALLOC_FL_KEEP_SIZE, 0, 256 << 10);
	daxfile_close(f);
	for (int i = 0; i < 60; i++) {	/* enough to grow a directory block */
		snprintf(name, sizeof(name), "/many/entry-%d", i);
		put_file(p, name, 0, 10);
	}
	/* extended attributes: a chain of three, a large value, a directory's */
	daxfile_setxattr(p, "/small", "user.a", "value-a", 7, 0);
	daxfile_setxattr(p, "/small", "trusted.b", "", 0, 0);
	daxfile_setxattr(p, "/small", "user.c", name, sizeof(name), 0);
	daxfile_setxattr(p, "/big", "user.big", fz.bigvalue,
		sizeof(fz.bigvalue), 0);
	daxfile_setxattr(p, "/a", "user.dir", "d", 1, 0);
	/* links: a second name, a short target, a long one (its own block) */
	memset(name, 'x', sizeof(name) - 1);
	name[0] = '/';
	name[sizeof(name) - 1] = '\0';
	if (daxfile_link(p, "/small", "/a/hard") != 0 ||
	    daxfile_symlink(p, "../small", "/a/short") != 0 ||
	    daxfile_symlink(p, "/a/b/../../a/b/../../a/b/../../a/b/../../a/b/../../"
		"a/b/../../a/b/../../a/b/../../a/b/../../a/b/../../a/b/../../a/b/../../"
		"a/b/../../a/b/../../a/b/../../small", "/a/b/long") != 0 ||
	    daxfile_symlink(p, name, "/a/dangling") != 0)
		die("links");
	if (daxfile_pool_close(p) != 0)
		die("close");
}

/* base_regions -- every object of the base pool, via pmemobj's own list. */
static void
base_regions(void)
{
	PMEMobjpool *pop = pmemobj_open(fz.base_path, "libdaxfile");

	if (pop == NULL)
		die("pmemobj_open");
	fz.regions[fz.nregions++] = (struct region){0, 16 << 10};
	for (PMEMoid o = pmemobj_first(pop); !OID_IS_NULL(o) &&
	    fz.nregions < MAX_REGIONS; o = pmemobj_next(o)) {
		uint64_t len = pmemobj_alloc_usable_size(o);

		/* data segments are file bytes: their first pages only */
		fz.regions[fz.nregions++] = (struct region){o.off,
			len > 8192 ? 8192 : len};
	}
	pmemobj_close(pop);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *dir = getenv("DAXFILE_TEST_DIR");
	int fd;

	(void)argc;
	(void)argv;
	setenv("PMEM_IS_PMEM_FORCE", "1", 0);
	snprintf(fz.base_path, sizeof(fz.base_path), "%s/daxfile-fuzz-base-%d.pool",
		dir ? dir : "/dev/shm", (int)getpid());
	snprintf(fz.work_path, sizeof(fz.work_path), "%s/daxfile-fuzz-%d.pool",
		dir ? dir : "/dev/shm", (int)getpid());
	base_build();
	base_regions();
	fz.image = malloc(BASE_SIZE);
	fd = open(fz.base_path, O_RDONLY);
	if (fz.image == NULL || fd < 0 ||
	    pread(fd, fz.image, BASE_SIZE, 0) != (ssize_t)BASE_SIZE)
		die("reading the base image");
	close(fd);
	unlink(fz.base_path);
	return 0;
}

/* work_write -- the base image with the input's patches, as the work pool. */
static void
work_write(const uint8_t *data, size_t size)
{
	int fd = open(fz.work_path, O_CREAT | O_TRUNC | O_WRONLY, 0600);
	size_t i = 0;

	if (fd < 0 || pwrite(fd, fz.image, BASE_SIZE, 0) != (ssize_t)BASE_SIZE)
		abort();
	/* patch: region (2 bytes), offset (2 bytes), length (1), bytes */
	while (i + 5 <= size) {
		unsigned r = (data[i] | data[i + 1] << 8) % (fz.nregions + 1);
		uint64_t delta = data[i + 2] | (uint64_t)data[i + 3] << 8;
		size_t n = data[i + 4] % 16 + 1;
		uint64_t off;

		i += 5;
		if (i + n > size)
			n = size - i;
		if (r == fz.nregions)	/* anywhere: the offset in 4 KiB units */
			off = (delta << 12 | (delta & 0xfff)) % BASE_SIZE;
		else
			off = fz.regions[r].off + delta % fz.regions[r].len;
		if (off + n > BASE_SIZE)
			n = BASE_SIZE - off;
		if (pwrite(fd, data + i, n, (off_t)off) < 0)
			abort();
		i += n;
	}
	close(fd);
}

static void
read_file(daxfile_pool *p, const char *path)
{
	daxfile_file *f = daxfile_open(p, path, O_RDWR);
	static char buf[64 << 10];
	struct stat st;

	if (f == NULL)
		return;
	for (off_t off = 0; off < (1 << 20); off += (off_t)sizeof(buf))
		if (daxfile_pread(f, buf, sizeof(buf), off) <= 0)
			break;
	daxfile_fstat(f, &st);
	daxfile_lseek(f, 0, SEEK_DATA);
	daxfile_lseek(f, 0, SEEK_HOLE);
	daxfile_pwrite(f, buf, 4096, 8192);
	daxfile_fallocate(f, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, 4096);
	daxfile_ftruncate(f, st.st_size / 2);
	daxfile_close(f);
}

/* xattrs -- list the attributes of 'path', read each, set and remove one. */
static void
xattrs(daxfile_pool *p, const char *path)
{
	static char list[4096], value[64 << 10];
	ssize_t n = daxfile_listxattr(p, path, list, sizeof(list));

	for (ssize_t at = 0; at < n; at += (ssize_t)strnlen(list + at, n - at) + 1)
		daxfile_getxattr(p, path, list + at, value, sizeof(value));
	daxfile_setxattr(p, path, "user.new", "n", 1, 0);
	daxfile_removexattr(p, path, "user.a");
}

/* walk -- list, stat and read everything below 'dir', within a budget. */
static void
walk(daxfile_pool *p, const char *dir, int depth)
{
	daxfile_dir *d;
	struct dirent *e;

	if (depth > 16 || (d = daxfile_opendir(p, dir)) == NULL)
		return;
	while ((e = daxfile_readdir(d)) != NULL && fz.budget > 0) {
		char path[4096];
		struct stat st;

		fz.budget--;
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		snprintf(path, sizeof(path), "%s/%s", strcmp(dir, "/") ? dir : "",
			e->d_name);
		if (daxfile_lstat(p, path, &st) == 0 && S_ISLNK(st.st_mode))
			daxfile_readlink(p, path, path + 2048, 2048);
		if (daxfile_stat(p, path, &st) != 0)
			continue;
		xattrs(p, path);
		if (S_ISDIR(st.st_mode))
			walk(p, path, depth + 1);
		else
			read_file(p, path);
	}
	daxfile_closedir(d);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	daxfile_pool *p;

	work_write(data, size);
	if (getenv("DAXFILE_FUZZ_WRITE_ONLY") != NULL)
		return 0; /* leave the patched image for a closer look */
	daxfile_pool_check(fz.work_path, NULL);
	p = daxfile_pool_open(fz.work_path);
	if (p != NULL) {
		struct statvfs sv;

		fz.budget = WALK_BUDGET;
		daxfile_statvfs(p, &sv);
		walk(p, "/", 0);
		daxfile_mkdir(p, "/new", 0755);
		daxfile_link(p, "/a/hard", "/new/third");
		daxfile_symlink(p, "/a/b", "/new/link");
		daxfile_renameat2(p, NULL, "/a/short", NULL, "/new/link",
			RENAME_EXCHANGE);
		daxfile_rename(p, "/small", "/a/b/moved");
		daxfile_unlink(p, "/big");
		daxfile_unlink(p, "/a/b/long");
		daxfile_unlink(p, "/a/hard");
		if (daxfile_pool_close(p) != 0)
			abort(); /* everything opened above was closed */
	}
	unlink(fz.work_path);
	return 0;
}
