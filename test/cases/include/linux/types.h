/* Kernel-like base types for pageref's case corpus (test/cases). Written for the corpus; names
 * and widths follow include/linux/types.h of Linux 6.1/6.12. A case modelled on 6.12 defines
 * CASES_6_12 before its first include to get the 6.12 forms of the APIs that changed. */
#ifndef _CASES_LINUX_TYPES_H
#define _CASES_LINUX_TYPES_H

#define NULL ((void *)0)
#define __user
#define __iomem
#define __force
#define __bitwise
#define __must_check
#define __always_inline inline
#define noinline
#define __maybe_unused
#define __printf(a, b)
#define __cold
#define __init
#define __exit
#define ____cacheline_aligned

typedef _Bool bool;
#define true 1
#define false 0

typedef signed char s8;
typedef unsigned char u8;
typedef short s16;
typedef unsigned short u16;
typedef int s32;
typedef unsigned int u32;
typedef long long s64;
typedef unsigned long long u64;
typedef u8 uint8_t;
typedef u16 uint16_t;
typedef u32 uint32_t;
typedef u64 uint64_t;
typedef u8 __u8;
typedef u16 __u16;
typedef u32 __u32;
typedef u64 __u64;
typedef s32 __s32;
typedef s64 __s64;
typedef u32 __wsum;
typedef u16 __be16;
typedef u32 __be32;
typedef u64 __be64;

typedef unsigned long size_t;
typedef long ssize_t;
typedef long ptrdiff_t;
typedef unsigned long uintptr_t;
typedef long long loff_t;
typedef u64 sector_t;
typedef u64 dma_addr_t;
typedef u64 phys_addr_t;
typedef u64 resource_size_t;
typedef unsigned int gfp_t;
typedef unsigned int fmode_t;
typedef unsigned short umode_t;
typedef int pid_t;
typedef unsigned int uid_t;
typedef unsigned long vm_flags_t;
typedef unsigned long pgoff_t;
typedef int rwf_t;

typedef struct { int counter; } atomic_t;
typedef struct { long counter; } atomic_long_t;
typedef struct { s64 counter; } atomic64_t;

struct list_head {
	struct list_head *next, *prev;
};

struct hlist_node {
	struct hlist_node *next, **pprev;
};

struct rcu_head {
	struct rcu_head *next;
	void (*func)(struct rcu_head *head);
};

#endif
