/*
 * cli_list.c -- the daxfile commands that show files without changing
 * them: ls, which lists directories, and stat.
 */
#include <errno.h>
#include <grp.h>
#include <inttypes.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

/* ls_entry -- one line of ls: the name shown and, for -l, its status. */
struct ls_entry {
	char *name;
	struct stat st;
};

/* ls_list -- the entries of one directory, sorted before printing. */
struct ls_list {
	struct ls_entry *entries;
	size_t count;
	size_t alloc;
};

/* digits -- how many decimal digits 'value' takes. */
static int
digits(uintmax_t value)
{
	int n = 1;

	while (value >= 10) {
		value /= 10;
		n++;
	}
	return n;
}

/* ls_link_name -- a link's entry shows its target: "name -> target". */
static int
ls_link_name(daxfile_pool *pool, const char *path, struct ls_entry *e)
{
	char target[PATH_MAX];
	ssize_t n = daxfile_readlink(pool, path, target, sizeof(target) - 1);
	size_t len;
	char *name;

	if (n < 0)
		return -1;
	target[n] = '\0';
	len = strlen(e->name) + (size_t)n + 5;
	name = malloc(len);
	if (name == NULL)
		return -1;
	snprintf(name, len, "%s -> %s", e->name, target);
	free(e->name);
	e->name = name;
	return 0;
}

/* ls_print_long -- one line of ls -l, the counts padded to the given widths. */
static void
ls_print_long(const char *name, const struct stat *st, int links_width,
	int size_width)
{
	char mode[11];
	char mtime[32] = "?";
	struct tm tm;

	cli_mode_string(st->st_mode, mode);
	if (localtime_r(&st->st_mtim.tv_sec, &tm))
		strftime(mtime, sizeof(mtime), "%Y-%m-%d %H:%M", &tm);
	printf("%s %*ju %*jd %s %s\n", mode, links_width,
		(uintmax_t)st->st_nlink, size_width, (intmax_t)st->st_size,
		mtime, name);
}

/* ls_print -- print entries in order, in columns aligned across them. */
static void
ls_print(const struct ls_entry *entries, size_t count, bool lng)
{
	int links_width = 1;
	int size_width = 1;
	size_t i;

	for (i = 0; i < count && lng; i++) {
		int lw = digits(entries[i].st.st_nlink);
		int sw = digits((uintmax_t)entries[i].st.st_size);

		links_width = lw > links_width ? lw : links_width;
		size_width = sw > size_width ? sw : size_width;
	}
	for (i = 0; i < count; i++) {
		if (lng)
			ls_print_long(entries[i].name, &entries[i].st,
				links_width, size_width);
		else
			printf("%s\n", entries[i].name);
	}
}

/* ls_add -- append a copy of 'name' to the list; -1 with errno on failure. */
static int
ls_add(struct ls_list *list, const char *name)
{
	struct ls_entry *e;

	if (list->count == list->alloc) {
		size_t alloc = list->alloc ? 2 * list->alloc : 64;

		e = realloc(list->entries, alloc * sizeof(*e));
		if (!e)
			return -1;
		list->entries = e;
		list->alloc = alloc;
	}
	e = &list->entries[list->count];
	e->name = strdup(name);
	if (!e->name)
		return -1;
	memset(&e->st, 0, sizeof(e->st));
	list->count++;
	return 0;
}

/* ls_free -- release the list and its names. */
static void
ls_free(struct ls_list *list)
{
	size_t i;

	for (i = 0; i < list->count; i++)
		free(list->entries[i].name);
	free(list->entries);
}

/* ls_compare -- byte order of names, as ls in the C locale. */
static int
ls_compare(const void *a, const void *b)
{
	const struct ls_entry *ea = a;
	const struct ls_entry *eb = b;

	return strcmp(ea->name, eb->name);
}

/* ls_read -- the names in directory 'path' but "." and "..", into list. */
static int
ls_read(const struct cli *cli, daxfile_pool *pool, const char *path,
	struct ls_list *list)
{
	daxfile_dir *dir = daxfile_opendir(pool, path);
	struct dirent *de;
	int status = CLI_OK;

	if (!dir)
		return cli_fail(cli, path, errno);
	for (;;) {
		/* NULL is also the end, which leaves errno alone. */
		errno = 0;
		de = daxfile_readdir(dir);
		if (!de) {
			if (errno)
				status = cli_fail(cli, path, errno);
			break;
		}
		if (cli_is_dot(de->d_name))
			continue;
		if (ls_add(list, de->d_name) < 0) {
			status = cli_fail_host(cli, path, errno);
			break;
		}
	}
	if (daxfile_closedir(dir) < 0 && status == CLI_OK)
		status = cli_fail(cli, path, errno);
	return status;
}

/*
 * ls_stat_all -- the status of each entry of directory 'path'; an entry that
 * fails, removed meanwhile for one, is reported and dropped.
 */
static int
ls_stat_all(const struct cli *cli, daxfile_pool *pool, const char *path,
	struct ls_list *list)
{
	char child[PATH_MAX];
	int status = CLI_OK;
	size_t i, kept = 0;

	for (i = 0; i < list->count; i++) {
		struct ls_entry *e = &list->entries[i];

		if (cli_path_join(child, sizeof(child), path, e->name) < 0) {
			status = cli_fail_host(cli, e->name, errno);
			free(e->name);
			continue;
		}
		/* entries as they are, as ls -l shows them: links unfollowed */
		if (daxfile_lstat(pool, child, &e->st) < 0 ||
		    (S_ISLNK(e->st.st_mode) && ls_link_name(pool, child, e) < 0)) {
			status = cli_fail(cli, child, errno);
			free(e->name);
			continue;
		}
		list->entries[kept++] = *e;
	}
	list->count = kept;
	return status;
}

/* ls_dir -- list the directory 'path'. */
static int
ls_dir(const struct cli *cli, daxfile_pool *pool, const char *path, bool lng)
{
	struct ls_list list = { NULL, 0, 0 };
	int status = ls_read(cli, pool, path, &list);

	if (status != CLI_OK) {
		ls_free(&list);
		return status;
	}
	if (lng)
		status = ls_stat_all(cli, pool, path, &list);
	if (list.count > 1)
		qsort(list.entries, list.count, sizeof(*list.entries),
			ls_compare);
	ls_print(list.entries, list.count, lng);
	ls_free(&list);
	return status;
}

/*
 * ls_one -- list 'path': a directory's entries, under a heading when several
 * operands are listed, or else the file itself.  'printed' says whether
 * anything came before, which a heading must be set apart from.
 */
static int
ls_one(const struct cli *cli, daxfile_pool *pool, const char *path, bool lng,
	bool heading, bool *printed)
{
	struct stat st;

	if (daxfile_stat(pool, path, &st) < 0)
		return cli_fail(cli, path, errno);
	if (heading && S_ISDIR(st.st_mode))
		printf("%s%s:\n", *printed ? "\n" : "", path);
	*printed = true;
	if (S_ISDIR(st.st_mode))
		return ls_dir(cli, pool, path, lng);
	if (lng)
		ls_print_long(path, &st, 1, 1);
	else
		printf("%s\n", path);
	return CLI_OK;
}

/* cmd_ls -- list directories, or files themselves; "/" by default. */
int
cmd_ls(const struct cli *cli, int argc, char **argv)
{
	daxfile_pool *pool;
	bool lng = false;
	bool printed = false;
	int status = CLI_OK;
	int opt, i;

	while ((opt = getopt(argc, argv, "l")) != -1) {
		if (opt != 'l')
			return cli_usage(cli);
		lng = true;
	}
	pool = cli_pool_open(cli);
	if (!pool)
		return CLI_FAILURE;

	if (optind == argc)
		status = ls_one(cli, pool, "/", lng, false, &printed);
	for (i = optind; i < argc; i++) {
		char buf[PATH_MAX];
		const char *path = cli_pool_path_or_fail(cli, argv[i], buf);

		if (path == NULL || ls_one(cli, pool, path, lng,
				argc - optind > 1, &printed) != CLI_OK)
			status = CLI_FAILURE;
	}
	return cli_pool_close(cli, pool, status);
}

/* file_type -- the name stat(1) gives the type of a file. */
static const char *
file_type(const struct stat *st)
{
	switch (st->st_mode & S_IFMT) {
	case S_IFREG:
		return st->st_size == 0 ? "regular empty file" : "regular file";
	case S_IFDIR:
		return "directory";
	case S_IFLNK:
		return "symbolic link";
	case S_IFCHR:
		return "character special file";
	case S_IFBLK:
		return "block special file";
	case S_IFIFO:
		return "fifo";
	case S_IFSOCK:
		return "socket";
	default:
		return "weird file";
	}
}

/* print_time -- one time line of stat(1), with nanoseconds and the zone. */
static void
print_time(const char *label, const struct timespec *ts)
{
	char date[32], zone[8];
	struct tm tm;

	if (!localtime_r(&ts->tv_sec, &tm)) {
		printf("%s: %jd.%09ld\n", label, (intmax_t)ts->tv_sec,
			ts->tv_nsec);
		return;
	}
	strftime(date, sizeof(date), "%Y-%m-%d %H:%M:%S", &tm);
	strftime(zone, sizeof(zone), "%z", &tm);
	printf("%s: %s.%09ld %s\n", label, date, ts->tv_nsec, zone);
}

/* user_name -- the name of 'uid', or "UNKNOWN" as stat(1) says. */
static const char *
user_name(uid_t uid)
{
	struct passwd *pw = getpwuid(uid);

	return pw ? pw->pw_name : "UNKNOWN";
}

/* group_name -- the name of 'gid', or "UNKNOWN" as stat(1) says. */
static const char *
group_name(gid_t gid)
{
	struct group *gr = getgrgid(gid);

	return gr ? gr->gr_name : "UNKNOWN";
}

/* print_stat -- the status of 'path' in the layout of stat(1). */
static void
print_stat(const char *path, const struct stat *st)
{
	char mode[11];

	cli_mode_string(st->st_mode, mode);
	printf("  File: %s\n", path);
	printf("  Size: %-10jd\tBlocks: %-10jd IO Block: %-6jd %s\n",
		(intmax_t)st->st_size, (intmax_t)st->st_blocks,
		(intmax_t)st->st_blksize, file_type(st));
	/* st_dev is the pool's 64-bit id, which major,minor would mangle */
	printf("Device: %jxh\tInode: %-11ju Links: %ju\n",
		(uintmax_t)st->st_dev, (uintmax_t)st->st_ino,
		(uintmax_t)st->st_nlink);
	printf("Access: (%04o/%s)  Uid: (%5ju/%8s)   Gid: (%5ju/%8s)\n",
		(unsigned int)(st->st_mode & 07777), mode,
		(uintmax_t)st->st_uid, user_name(st->st_uid),
		(uintmax_t)st->st_gid, group_name(st->st_gid));
	print_time("Access", &st->st_atim);
	print_time("Modify", &st->st_mtim);
	print_time("Change", &st->st_ctim);
	printf(" Birth: -\n");
}

/* cmd_stat -- show the status of files of the pool. */
int
cmd_stat(const struct cli *cli, int argc, char **argv)
{
	daxfile_pool *pool;
	struct stat st;
	int status = CLI_OK;
	int first = cli_operands(argc, argv);
	int i;

	if (first < 0 || first == argc)
		return cli_usage(cli);
	pool = cli_pool_open(cli);
	if (!pool)
		return CLI_FAILURE;

	for (i = first; i < argc; i++) {
		char buf[PATH_MAX];
		const char *path = cli_pool_path_or_fail(cli, argv[i], buf);

		if (path == NULL) {
			status = CLI_FAILURE;
			continue;
		}
		if (daxfile_stat(pool, path, &st) < 0) {
			status = cli_fail(cli, path, errno);
			continue;
		}
		print_stat(path, &st);
	}
	return cli_pool_close(cli, pool, status);
}
