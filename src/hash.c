/*
 * hash.c -- checksums for on-media headers and the hash that places names in
 * a directory's buckets.
 */
#include <string.h>

#include "hash.h"

uint64_t
dx_checksum64(const void *buf, size_t len)
{
	const uint8_t *p = buf;
	uint64_t lo = 0, hi = 0;

	for (size_t i = 0; i + 4 <= len; i += 4) {
		uint32_t w;

		memcpy(&w, p + i, sizeof(w));
		lo += w;
		hi += lo;
	}
	return hi << 32 | (lo & 0xffffffffu);
}

#define H_P1 0x9e3779b185ebca87ULL
#define H_P2 0xc2b2ae3d27d4eb4fULL

/* hash_round -- one xxHash64 round of lane 'acc' over the word 'w'. */
static inline uint64_t
hash_round(uint64_t acc, uint64_t w)
{
	acc += w * H_P2;
	acc = acc << 31 | acc >> 33;
	return acc * H_P1;
}

uint64_t
dx_hash64(const void *buf, size_t len)
{
	const uint8_t *p = buf;
	uint64_t v[4] = {H_P1 + H_P2, H_P2, 0, -H_P1};
	uint64_t h = len;

	for (size_t i = 0; i + 32 <= len; i += 32)
		for (int k = 0; k < 4; k++) {
			uint64_t w;

			memcpy(&w, p + i + 8 * k, sizeof(w));
			v[k] = hash_round(v[k], w);
		}
	for (int k = 0; k < 4; k++)
		h = (h ^ hash_round(0, v[k])) * H_P1 + H_P2;
	h ^= h >> 33;
	h *= H_P2;
	return h ^ h >> 29;
}

static inline uint64_t
mix64(uint64_t x)
{
	x ^= x >> 32;
	x *= 0xd6e8feb86659fd93ULL;
	x ^= x >> 32;
	x *= 0xd6e8feb86659fd93ULL;
	x ^= x >> 32;
	return x;
}

uint64_t
dx_name_hash(uint64_t seed, const char *name, size_t len)
{
	uint64_t h = seed ^ (len * 0x9e3779b97f4a7c15ULL);
	size_t i = 0;

	for (; i + 8 <= len; i += 8) {
		uint64_t w;

		memcpy(&w, name + i, sizeof(w));
		h = mix64(h ^ w) + 0x9e3779b97f4a7c15ULL;
	}
	if (i < len) {
		uint64_t w = 0;

		memcpy(&w, name + i, len - i);
		h = mix64(h ^ w ^ ((uint64_t)(len - i) << 56));
	}
	return mix64(h);
}
