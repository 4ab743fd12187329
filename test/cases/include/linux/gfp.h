#ifndef _CASES_LINUX_GFP_H
#define _CASES_LINUX_GFP_H
#include <linux/types.h>
#define __GFP_NOWARN 0x2000u
#define __GFP_ZERO 0x100u
#define __GFP_HIGHMEM 0x02u
#define __GFP_NORETRY 0x10000u
#define GFP_ATOMIC 0x820u
#define GFP_KERNEL 0xcc0u
#define GFP_NOIO 0xc00u
#define GFP_NOFS 0xc40u
#define GFP_USER 0x100cc0u
#define GFP_HIGHUSER (GFP_USER | __GFP_HIGHMEM)
#define GFP_KERNEL_ACCOUNT (GFP_KERNEL | 0x400000u)
struct page;
struct page *alloc_pages(gfp_t gfp, unsigned int order);
#define alloc_page(gfp_mask) alloc_pages(gfp_mask, 0)
unsigned long __get_free_pages(gfp_t gfp_mask, unsigned int order);
#define __get_free_page(gfp_mask) __get_free_pages((gfp_mask), 0)
unsigned long get_zeroed_page(gfp_t gfp_mask);
void __free_pages(struct page *page, unsigned int order);
void free_pages(unsigned long addr, unsigned int order);
#define __free_page(page) __free_pages((page), 0)
#define free_page(addr) free_pages((addr), 0)
#endif
