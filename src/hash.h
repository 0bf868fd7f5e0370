/*
 * hash.h -- the superblock checksum and the seeded hash of directory names.
 */
#ifndef DX_HASH_H
#define DX_HASH_H 1

#include <stddef.h>
#include <stdint.h>

/* dx_checksum64 -- Fletcher-64 over 'len' bytes (len a multiple of 4). */
uint64_t dx_checksum64(const void *buf, size_t len);

/*
 * dx_hash64 -- a 64-bit hash of 'len' bytes (len a multiple of 32) that
 * any change of a few bytes changes: the xxHash64 rounds over four lanes,
 * for megabytes in a millisecond.
 */
uint64_t dx_hash64(const void *buf, size_t len);

/* dx_name_hash -- 64-bit hash of a name under a per-directory seed. */
uint64_t dx_name_hash(uint64_t seed, const char *name, size_t len);

#endif /* DX_HASH_H */
