/*
 * check.h -- the pool checker (check.c), for daxfile_pool_check and
 * daxfile_pool_repair.
 */
#ifndef DX_CHECK_H
#define DX_CHECK_H 1

#include <stdio.h>

/*
 * dx_check -- check the closed pool at 'path', one line per problem to
 * 'report' (may be NULL); with 'repairs', also set the AG bitmaps and free
 * counts to the blocks the files own where that is safe, a line for each
 * to 'repairs'.  0 if clean, 1 if problems were found, -1 with errno.
 */
int dx_check(const char *path, FILE *report, FILE *repairs);

#endif /* DX_CHECK_H */
