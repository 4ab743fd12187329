#ifndef _PAGEREF_TEST_LINUX_SCATTERLIST_H
#define _PAGEREF_TEST_LINUX_SCATTERLIST_H
#include <linux/mm.h>
struct scatterlist { unsigned long page_link; unsigned int offset, length; };
void sg_set_page(struct scatterlist *sg, struct page *page, unsigned int len, unsigned int offset);
struct page *sg_page(struct scatterlist *sg);
#endif
