/*
 * poolpages.h -- a new pool file on tmpfs made of 2 MiB pages
 * (poolpages.c).
 */
#ifndef DX_POOLPAGES_H
#define DX_POOLPAGES_H 1

#include <stdint.h>
#include <sys/types.h>

/*
 * dx_poolpages_create -- where 'path' names no file on a tmpfs (or a file
 * system like it), create it with mode 'mode' (less the umask) and 'size'
 * bytes of memory, as many of them in 2 MiB pages as the kernel gives;
 * then libpmemobj makes the pool in the file as it stands.  1 if it made
 * the file, 0 if the file system is not one where it does (the caller
 * lets libpmemobj create the file), -1 with errno (and no file left)
 * on an error.
 */
int dx_poolpages_create(const char *path, uint64_t size, mode_t mode);

#endif /* DX_POOLPAGES_H */
