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

/* dxp_shared_fd -- the memfd, for the state handed across exec (-1: none). */
int dxp_shared_fd(void);

/* dxp_shared_adopt -- in a new image: map the memfd the old one used. */
void dxp_shared_adopt(int fd);

#endif /* DXP_SHARED_H */
