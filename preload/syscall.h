/*
 * syscall.h -- file system calls by number: the layer's entry point for a
 * call made through syscall(2) (and any other way the layer catches a
 * bare system call).
 */
#ifndef DXP_SYSCALL_H
#define DXP_SYSCALL_H 1

#include <stdbool.h>

/*
 * dxp_syscall_serve -- serve system call 'nr' with arguments 'a' through
 * the layer: true and *ret set (-1 with errno, as syscall(2) returns) if
 * it is a file system call the layer handles, false if it is not.
 */
bool dxp_syscall_serve(long nr, const long a[6], long *ret);

#endif /* DXP_SYSCALL_H */
