#ifndef _CASES_LINUX_STRING_H
#define _CASES_LINUX_STRING_H
#include <linux/types.h>
void *memcpy(void *dest, const void *src, size_t n);
void *memset(void *s, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
#endif
