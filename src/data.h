/*
 * data.h -- what the data path (read, write, truncate) offers the rest of
 * the library: truncation, and the count of writers that decides when
 * preallocation past EOF is given back.
 */
#ifndef DX_DATA_H
#define DX_DATA_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct dx_inode;

/* dx_truncate -- set the size (iolock and mmaplock taken inside). */
int dx_truncate(struct dx_inode *ip, uint64_t size);

/* dx_data_writer_open/close -- count writers; the last close trims preallocation. */
void dx_data_writer_open(struct dx_inode *ip);
void dx_data_writer_close(struct dx_inode *ip);

#endif /* DX_DATA_H */
