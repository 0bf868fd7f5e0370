/*
 * dispatch.h -- system call instructions outside the C library, caught
 * with the kernel's syscall user dispatch (dispatch.c).
 */
#ifndef DXP_DISPATCH_H
#define DXP_DISPATCH_H 1

#include <stdbool.h>

/* dxp_dispatch_on -- the process's threads trap such calls */
extern bool dxp_dispatch_on;

/* dxp_dispatch_start -- at the layer's start: find the range, trap. */
void dxp_dispatch_start(void);

/* dxp_dispatch_thread -- the calling thread (new, or a fork child) traps. */
void dxp_dispatch_thread(void);

#endif /* DXP_DISPATCH_H */
