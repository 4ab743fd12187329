#ifndef _CASES_LINUX_ATOMIC_H
#define _CASES_LINUX_ATOMIC_H
#include <linux/types.h>
void atomic_set(atomic_t *v, int i);
int atomic_read(const atomic_t *v);
void atomic_inc(atomic_t *v);
void atomic_dec(atomic_t *v);
bool atomic_dec_and_test(atomic_t *v);
int atomic_add_return(int i, atomic_t *v);
int atomic_sub_return(int i, atomic_t *v);
long atomic_long_add_return(long i, atomic_long_t *v);
void atomic_long_sub(long i, atomic_long_t *v);
void atomic64_add(s64 i, atomic64_t *v);
void atomic64_sub(s64 i, atomic64_t *v);
#endif
