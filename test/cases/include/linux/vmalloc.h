#ifndef _CASES_LINUX_VMALLOC_H
#define _CASES_LINUX_VMALLOC_H
#include <linux/types.h>
struct page;
void *vmalloc(unsigned long size);
void *vzalloc(unsigned long size);
void *vmalloc_array(size_t n, size_t size);
void vfree(const void *addr);
void *vmap(struct page **pages, unsigned int count, unsigned long flags, unsigned long prot);
void vunmap(const void *addr);
#define VM_MAP 0x00000004
#define PAGE_KERNEL 0
#endif
