/*
 * app.c -- a program of a user of the installed library (install-check.sh
 * builds it with pkg-config): it creates a pool, writes a file, reads it
 * back, closes the pool and checks it.  Usage: app POOL
 */
#include <daxfile.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>

int
main(int argc, char **argv)
{
	const char text[] = "written through the installed library\n";
	char back[sizeof(text)];
	daxfile_pool *pool;
	daxfile_file *f;

	if (argc != 2)
		return 2;
	pool = daxfile_pool_create(argv[1], 32 << 20, 0600);
	if (pool == NULL) {
		fprintf(stderr, "create: %s\n", daxfile_errormsg());
		return 1;
	}
	f = daxfile_open(pool, "/f", O_CREAT | O_RDWR, 0644);
	if (f == NULL ||
	    daxfile_write(f, text, sizeof(text)) != (ssize_t)sizeof(text) ||
	    daxfile_pread(f, back, sizeof(back), 0) != (ssize_t)sizeof(back) ||
	    memcmp(text, back, sizeof(text)) != 0 || daxfile_close(f) != 0 ||
	    daxfile_pool_close(pool) != 0) {
		fprintf(stderr, "/f: %s\n", daxfile_errormsg());
		return 1;
	}
	if (daxfile_pool_check(argv[1], stderr) != 0) {
		fprintf(stderr, "check: %s\n", daxfile_errormsg());
		return 1;
	}
	return 0;
}
