/*
 * real.c -- finding the C library's definitions of the interposed functions
 * (real.h).  Calls can arrive before the layer's constructor (from other
 * libraries' constructors), so every use goes through REAL(), which looks
 * the table up at the first need.
 */
#define _GNU_SOURCE 1
#include <dlfcn.h>

#include "real.h"

struct dxp_real dxp_real;

void
dxp_real_init(void)
{
	struct dxp_real r;

#define DXP_REAL_LOOKUP(name) \
	r.name = (__typeof__(&name))dlsym(RTLD_NEXT, #name);
	DXP_REAL_LIST(DXP_REAL_LOOKUP)
#undef DXP_REAL_LOOKUP
	dxp_real = r;
}
