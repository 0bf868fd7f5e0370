/*
 * xattr.h -- extended attributes of an inode: the user.* and trusted.*
 * namespaces, kept in the pool as a chain of one object per name from the
 * dinode's 'xattr' word (layout.h), changed one transaction at a time.
 */
#ifndef DX_XATTR_H
#define DX_XATTR_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "layout.h"

struct daxfile_pool;
struct dx_inode;
struct dx_tx;

/*
 * dx_xattr_entry -- the attribute object at 'off' of inode 'owner', if it
 * is sound (inside the pool, its magic and owner, lengths within the
 * limits); NULL if damaged.
 */
const struct dx_xattr *dx_xattr_entry(const struct daxfile_pool *pool,
	uint64_t off, uint64_t owner);

/*
 * dx_xattr_name_ok -- may a stored attribute be called 'name' ('len'
 * bytes): a namespace the library keeps, a non-empty suffix, no NUL?
 */
bool dx_xattr_name_ok(const char *name, size_t len);

/*
 * dx_xattr_free_all -- free every attribute of 'ip' in 'tx' (the inode
 * is being freed: caller holds the only reference).  A damaged chain is
 * freed up to the damage.
 */
void dx_xattr_free_all(struct dx_tx *tx, struct dx_inode *ip);

#endif /* DX_XATTR_H */
