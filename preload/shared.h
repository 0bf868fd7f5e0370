/*
 * shared.h -- the part of an open file description that processes share
 * after fork and exec: its offset and status flags.  It lives in a memfd
 * mapped by every process of a tree (inherited across fork, handed across
 * exec), because the process that holds the pool changes: the one that
 * gives it up writes the offset there, the one that takes it reads it.
 */
#ifndef DXP_SHARED_H
#define DXP_SHARED_H 1

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct dxp_shofd {
	_Atomic off_t offset;	/* while no process has the file open */
	atomic_int flags;	/* status flags (F_SETFL) */
};

/* dxp_shared_alloc -- a shared record, or NULL when none is left. */
struct dxp_shofd *dxp_shared_alloc(void);

/* dxp_shared_index / dxp_shared_at -- a record's number and back. */
long dxp_shared_index(const struct dxp_shofd *s);
struct dxp_shofd *dxp_shared_at(long index);

/*
 * The renames made in pools by the processes of the tree, in a ring of
 * the same region: a description given up at a hand-over is opened again
 * by its path, which a rename made meanwhile by the process that had the
 * pool (a shell's child's mv) would leave behind; the log says where it
 * went.  Paths are the normalized ones inside mount 'mount' (an index of
 * the mount table, the same in every process of the tree).
 */

/* dxp_shared_rename -- log a rename (RENAME_EXCHANGE: both ways). */
void dxp_shared_rename(int mount, const char *from, const char *to,
	bool exchange);

/* dxp_shared_renames -- the renames logged so far: a stamp for _follow. */
unsigned long dxp_shared_renames(void);

/*
 * dxp_shared_follow -- bring 'path' of mount 'mount' through the renames
 * logged since stamp 'since', in order; 0, or -1 if the ring has lost some
 * of them ('path' unchanged).
 */
int dxp_shared_follow(int mount, unsigned long since, char *path,
	size_t size);

/* dxp_shared_fd -- the memfd, for the state handed across exec (-1: none). */
int dxp_shared_fd(void);

/* dxp_shared_adopt -- in a new image: map the memfd the old one used. */
void dxp_shared_adopt(int fd);

#endif /* DXP_SHARED_H */
