/*
 * util.h -- small helpers shared by every module: assertions, arithmetic on
 * block sizes, branch hints.
 */
#ifndef DX_UTIL_H
#define DX_UTIL_H 1

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <time.h>

#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

#define DX_MIN(a, b) ((a) < (b) ? (a) : (b))
#define DX_MAX(a, b) ((a) > (b) ? (a) : (b))
#define DX_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define DX_ALIGN_UP(x, a) (((x) + ((a) - 1)) & ~((uint64_t)(a) - 1))
#define DX_ALIGN_DOWN(x, a) ((x) & ~((uint64_t)(a) - 1))
#define DX_IS_ALIGNED(x, a) (((x) & ((uint64_t)(a) - 1)) == 0)
#define container_of(ptr, type, member) \
	((type *)((char *)(ptr) - offsetof(type, member)))

#define DX_EXPORT __attribute__((visibility("default")))

/*
 * DX_TLS_FAST -- thread-local storage reached without a lookup
 * (initial-exec), but in the build of the library that
 * libdaxfile-preload.so loads with dlopen (DX_DLOPENED, src/mem.c): a
 * module with any initial-exec storage needs its whole thread-local block
 * in the little static room left after start-up, so there all of it is
 * reached by lookup.
 */
#ifdef DX_DLOPENED
#define DX_TLS_FAST
#else
#define DX_TLS_FAST __attribute__((tls_model("initial-exec")))
#endif

/* DX_TSAN -- built for ThreadSanitizer (GCC's macro or clang's feature). */
#if defined(__SANITIZE_THREAD__)
#define DX_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define DX_TSAN 1
#endif
#endif

/*
 * dx_tsan_ignore_begin/end -- ThreadSanitizer does not record this thread's
 * memory accesses in between.  The library maps pages into an
 * application's mapping (a window installed, SIGBUS markers) while a
 * thread that touched them waits in the kernel until the worker wakes it
 * (userfaultfd): a happens-before no interceptor sees.  TSan takes such an
 * mmap for a write by the installing thread, and reports the woken
 * thread's access as a race (with the installer's stack often gone from
 * its history, so no suppression can name it); ignored, the mmap resets
 * the range's state instead.  No-ops but in builds for TSan whose runtime
 * has the interface (configure's check).
 */
#if defined(DX_TSAN) && defined(HAVE___TSAN_IGNORE_THREAD_BEGIN)
void __tsan_ignore_thread_begin(void);
void __tsan_ignore_thread_end(void);

static inline void
dx_tsan_ignore_begin(void)
{
	__tsan_ignore_thread_begin();
}

static inline void
dx_tsan_ignore_end(void)
{
	__tsan_ignore_thread_end();
}
#else
static inline void
dx_tsan_ignore_begin(void)
{
}

static inline void
dx_tsan_ignore_end(void)
{
}
#endif

void dx_assert_fail(const char *expr, const char *file, int line,
	const char *func) __attribute__((noreturn));

/* ASSERT -- an invariant of the library itself; checked in debug builds. */
#ifdef DX_DEBUG
#define ASSERT(x) \
	((x) ? (void)0 : dx_assert_fail(#x, __FILE__, __LINE__, __func__))
#else
#define ASSERT(x) ((void)0)
#endif

/* VERIFY -- an invariant whose violation must stop the process in any build. */
#define VERIFY(x) \
	((x) ? (void)0 : dx_assert_fail(#x, __FILE__, __LINE__, __func__))

/* dx_now -- the current time for timestamps. */
static inline struct timespec
dx_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts;
}

/* dx_u64_cmp -- qsort(3)/bsearch(3) order of uint64_t values. */
static inline int
dx_u64_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

#endif /* DX_UTIL_H */
