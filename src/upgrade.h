/*
 * upgrade.h -- bringing a pool of an older on-media version to the current
 * one when it is opened.
 */
#ifndef DX_UPGRADE_H
#define DX_UPGRADE_H 1

struct daxfile_pool;

/*
 * dx_upgrade -- make the pool (its superblock checked, nothing else of
 * the library started) DX_FORMAT_VERSION, in one transaction: after a
 * crash it is of its old version or of the new one.  0 if it already was.
 */
int dx_upgrade(struct daxfile_pool *pool);

#endif /* DX_UPGRADE_H */
