#ifndef _CASES_LINUX_COMPILER_H
#define _CASES_LINUX_COMPILER_H
#include <linux/types.h>
#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)
#define READ_ONCE(x) (x)
#define WRITE_ONCE(x, val) ((x) = (val))
#define barrier() __asm__ __volatile__("" : : : "memory")
#define __stringify(x) #x
#endif
