// LD_PRELOAD shim for tests/bench/allocs.sh: counts the process's heap allocations (malloc,
// calloc, realloc, and the aligned ones Asio uses for coroutine frames) and frees, and writes
// the totals to stderr on SIGUSR2. Counting only: every call goes on to glibc's own allocator.
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stddef.h>
#include <unistd.h>

extern void* __libc_malloc(size_t);
extern void* __libc_calloc(size_t, size_t);
extern void* __libc_realloc(void*, size_t);
extern void* __libc_memalign(size_t, size_t);
extern void __libc_free(void*);

static atomic_long allocations, aligned, frees;

static void count(atomic_long* c) { atomic_fetch_add_explicit(c, 1, memory_order_relaxed); }

void* malloc(size_t n) { count(&allocations); return __libc_malloc(n); }
void* calloc(size_t n, size_t size) { count(&allocations); return __libc_calloc(n, size); }
void* realloc(void* p, size_t n) { count(&allocations); return __libc_realloc(p, n); }
void* memalign(size_t a, size_t n) { count(&aligned); return __libc_memalign(a, n); }
void* aligned_alloc(size_t a, size_t n) { count(&aligned); return __libc_memalign(a, n); }
int posix_memalign(void** out, size_t a, size_t n) {
  count(&aligned);
  void* p = __libc_memalign(a, n);
  if (p == NULL) return ENOMEM;
  *out = p;
  return 0;
}
void free(void* p) {
  if (p != NULL) count(&frees);
  __libc_free(p);
}

// Async-signal-safe: digits by hand, one write.
static char* put(char* out, const char* label, long v) {
  while (*label) *out++ = *label++;
  char digits[24];
  int n = 0;
  do digits[n++] = (char)('0' + v % 10); while ((v /= 10) > 0);
  while (n > 0) *out++ = digits[--n];
  return out;
}

static void dump(int sig) {
  (void)sig;
  char line[128];
  char* p = put(line, "ALLOCS allocations=", atomic_load(&allocations));
  p = put(p, " aligned=", atomic_load(&aligned));
  p = put(p, " frees=", atomic_load(&frees));
  *p++ = '\n';
  (void)!write(2, line, (size_t)(p - line));
}

__attribute__((constructor)) static void install(void) { signal(SIGUSR2, dump); }
