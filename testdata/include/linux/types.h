/* Kernel-like declarations for pageref's tests, mirroring Linux 6.1. */
#ifndef _PAGEREF_TEST_LINUX_TYPES_H
#define _PAGEREF_TEST_LINUX_TYPES_H
typedef unsigned long size_t;
typedef long ssize_t;
typedef long long loff_t;
typedef unsigned int gfp_t;
typedef _Bool bool;
#define true 1
#define false 0
#define NULL ((void *)0)
#define PAGE_SIZE 4096UL
#define PAGE_SHIFT 12
#define LONG_MAX 0x7fffffffffffffffL
#define UINT_MAX 0xffffffffU
#define EFAULT 14
#define EIO 5
#define ENOMEM 12
#define EINVAL 22
#define EIOCBQUEUED 529
#define GFP_KERNEL 0u
#define DIV_ROUND_UP(n, d) (((n) + (d) - 1) / (d))
#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)
#define WARN_ON(condition) ({ int __ret_warn_on = !!(condition); unlikely(__ret_warn_on); })
#define IS_ERR_VALUE(x) unlikely((unsigned long)(void *)(x) >= (unsigned long)-4095)
static inline bool IS_ERR(const void *ptr) { return IS_ERR_VALUE((unsigned long)ptr); }
static inline long PTR_ERR(const void *ptr) { return (long)ptr; }
void *kmalloc(size_t size, gfp_t flags);
void *kcalloc(size_t n, size_t size, gfp_t flags);
void kfree(const void *p);
void kvfree(const void *p);
#endif
