/*
 * preload_fts.c -- walks a tree with fts(3) under several option sets and
 * prints every entry fts_read returns (info, level, path, name, errno, and
 * the size of files; the roots fts_children lists before the first read
 * and the names of a directory's children by name only), so that calls-check.sh can compare the walk of a
 * tree in a pool, served by the layer, with the C library's walk of the
 * same tree on tmpfs.  Usage: preload_fts DIR (the tree is made in DIR).
 */
#define _GNU_SOURCE 1
#include <errno.h>
#include <fcntl.h>
#include <fts.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *base;

/* rel -- 'path' with the tree's directory written as "D" */
static const char *
rel(const char *path)
{
	static char buf[4096];
	size_t n = strlen(base);

	if (strncmp(path, base, n) == 0)
		snprintf(buf, sizeof(buf), "D%s", path + n);
	else
		snprintf(buf, sizeof(buf), "%s", path);
	/* the C library leaves a slash after a skipped directory's name */
	for (n = strlen(buf); n > 1 && buf[n - 1] == '/'; n--)
		buf[n - 1] = '\0';
	return buf;
}

static int
by_name(const FTSENT **a, const FTSENT **b)
{
	return strcmp((*a)->fts_name, (*b)->fts_name);
}

static void
put(const char *path, const char *text)
{
	int fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0644);

	if (fd < 0 || write(fd, text, strlen(text)) < 0 || close(fd) != 0) {
		perror(path);
		exit(2);
	}
}

static void
make_tree(void)
{
	char p[4096];

#define AT(name) (snprintf(p, sizeof(p), "%s/%s", base, name), p)
	mkdir(AT("a"), 0755);
	mkdir(AT("a/b"), 0755);
	mkdir(AT("a/b/c"), 0755);
	mkdir(AT("a/empty"), 0755);
	put(AT("a/f1"), "one");
	put(AT("a/b/f2"), "two!");
	put(AT("a/b/c/f3"), "three");
	symlink("f1", AT("a/link-to-f1"));
	symlink("nowhere", AT("a/dangling"));
	symlink("b", AT("a/link-to-b"));
	symlink("..", AT("a/b/c/up"));	/* a cycle when followed */
#undef AT
}

static void
walk(const char *title, const char *root, int options, int skip_b, int again)
{
	char path[4096];
	char *roots[] = {path, NULL};
	FTS *fts;
	FTSENT *e;
	int agained = 0;

	snprintf(path, sizeof(path), "%s/%s", base, root);
	printf("== %s\n", title);
	fts = fts_open(roots, options, by_name);
	if (fts == NULL) {
		printf("fts_open: %s\n", strerror(errno));
		return;
	}
	e = fts_children(fts, 0);
	printf("roots:");
	for (; e != NULL; e = e->fts_link)
		printf(" %s(%d)", rel(e->fts_name), e->fts_info);
	printf("\n");
	errno = 0;
	while ((e = fts_read(fts)) != NULL) {
		printf("%d %d %s %s %d", e->fts_info, e->fts_level,
			rel(e->fts_path), e->fts_name, e->fts_errno);
		if (e->fts_info == FTS_F)
			printf(" size %ld", (long)e->fts_statp->st_size);
		if (e->fts_info == FTS_DC)
			printf(" cycle %s", e->fts_cycle->fts_name);
		printf("\n");
		if (e->fts_info == FTS_D && e->fts_level == 1) {
			FTSENT *c = fts_children(fts, FTS_NAMEONLY);

			printf("  children:");
			for (; c != NULL; c = c->fts_link)
				printf(" %s", c->fts_name);
			printf("\n");
		}
		if (skip_b && e->fts_info == FTS_D && strcmp(e->fts_name, "b") == 0)
			fts_set(fts, e, FTS_SKIP);
		if (again && !agained && e->fts_info == FTS_F) {
			agained = 1;
			fts_set(fts, e, FTS_AGAIN);
		}
		if (e->fts_info == FTS_SL && strcmp(e->fts_name, "link-to-b") == 0 &&
		    !(options & FTS_LOGICAL))
			fts_set(fts, e, FTS_FOLLOW);
		errno = 0;
	}
	printf("end errno %d\n", errno);
	if (fts_close(fts) != 0)
		printf("fts_close: %s\n", strerror(errno));
}

int
main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: preload_fts DIR\n");
		return 2;
	}
	base = argv[1];
	make_tree();
	walk("physical", "a", FTS_PHYSICAL, 0, 0);
	walk("physical, seedot, nostat", "a", FTS_PHYSICAL | FTS_SEEDOT | FTS_NOSTAT, 0, 0);
	walk("logical", "a", FTS_LOGICAL, 0, 0);
	walk("physical, skip b, again", "a", FTS_PHYSICAL | FTS_NOCHDIR, 1, 1);
	walk("comfollow of a link", "a/link-to-b", FTS_PHYSICAL | FTS_COMFOLLOW, 0, 0);
	walk("a missing root", "missing", FTS_PHYSICAL, 0, 0);
	walk("a file root", "a/f1", FTS_PHYSICAL, 0, 0);
	return 0;
}
