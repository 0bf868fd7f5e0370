/*
 * hidefd.h -- descriptors the layer and libdaxfile keep for themselves
 * (the pool file, the userfaultfd, a memfd, the shared records, the
 * current directory's description in a pool) are moved to the top of the descriptor range and kept
 * from the program's close, close_range and closefrom: a shell that
 * redirects to descriptor 3 or 4, or a daemon that closes everything at
 * start, must not take them away.
 */
#ifndef DXP_HIDEFD_H
#define DXP_HIDEFD_H 1

#include <stdbool.h>

/* dxp_fd_hide -- move 'fd' high (keeping FD_CLOEXEC); the number to use. */
int dxp_fd_hide(int fd);

/* dxp_fd_hidden_floor -- the lowest number they take. */
int dxp_fd_hidden_floor(void);

/* dxp_fd_hide_number -- 'fd', already at or above the floor, is one. */
void dxp_fd_hide_number(int fd);

/* dxp_fd_is_hidden -- is 'fd' one of them? */
bool dxp_fd_is_hidden(int fd);

/* dxp_fd_unhide -- 'fd' is being closed by its owner. */
void dxp_fd_unhide(int fd);

#endif /* DXP_HIDEFD_H */
