#ifndef _CASES_LINUX_HIGHMEM_H
#define _CASES_LINUX_HIGHMEM_H
#include <linux/mm.h>
void *kmap(struct page *page);
void kunmap(struct page *page);
void *kmap_atomic(struct page *page);
void kunmap_atomic(void *addr);
void *kmap_local_page(struct page *page);
void kunmap_local(const void *addr);
void copy_highpage(struct page *to, struct page *from);
#endif
