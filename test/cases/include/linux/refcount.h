#ifndef _CASES_LINUX_REFCOUNT_H
#define _CASES_LINUX_REFCOUNT_H
#include <linux/atomic.h>
typedef struct refcount_struct { atomic_t refs; } refcount_t;
void refcount_set(refcount_t *r, int n);
void refcount_inc(refcount_t *r);
bool refcount_dec_and_test(refcount_t *r);
#endif
