/*
 * process.h -- the layer's state across exec: pool descriptors without
 * FD_CLOEXEC and a current directory inside a pool are written to a memfd
 * whose number the new image finds in DAXFILE_PRELOAD_STATE; the new image
 * re-attaches each descriptor (path, inode, flags, offset) at its first use.
 */
#ifndef DXP_PROCESS_H
#define DXP_PROCESS_H 1

/* the environment variable that carries the state's descriptor */
#define DXP_STATE_ENV "DAXFILE_PRELOAD_STATE"

/* dxp_process_restore -- at start: take the state the old image left. */
void dxp_process_restore(void);

/* dxp_process_forked -- in a forked child: note the new pid. */
void dxp_process_forked(void);

#endif /* DXP_PROCESS_H */
