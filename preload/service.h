/*
 * service.h -- the hand-over of idle pools between processes: a process
 * that holds a pool listens on an abstract Unix socket named after its pid;
 * another process that wants the pool asks there, and the holder gives the
 * pool up if nothing of it is in use.
 */
#ifndef DXP_SERVICE_H
#define DXP_SERVICE_H 1

#include <sys/types.h>

/* dxp_service_start -- start this process's listener (once per process). */
void dxp_service_start(void);

/*
 * dxp_service_request -- ask process 'holder' to give up the pool at
 * 'pool_path'.  0 if it did, 1 if it is in the middle of a call (ask
 * again), 2 if it has no listener (libdaxfile's daxfile-probe, a process
 * of the layer still attaching the pool, a program outside the layer:
 * wait for it to let go), -1 if something of the pool is open there (a
 * mapping, an advisory lock), -2 if it does not answer within 5 s.
 */
int dxp_service_request(pid_t holder, const char *pool_path);

/*
 * dxp_service_release_idle -- before an exec: give up every pool nothing
 * of which is open, so that it is closed cleanly (sealed) and the next
 * process, the new image included, opens it without libdaxfile's probe.
 */
void dxp_service_release_idle(void);

/*
 * dxp_service_fork_prepare / dxp_service_fork_parent -- around fork: no
 * hand-over is half done in the child's copy (a detach holds the
 * descriptor table's lock and descriptions' locks while it works, and the
 * child, which has only the forking thread, would wait for them forever).
 */
void dxp_service_fork_prepare(void);
void dxp_service_fork_parent(void);

/* dxp_service_forget -- in a forked child: the parent's listener is not ours. */
void dxp_service_forget(void);

#endif /* DXP_SERVICE_H */
