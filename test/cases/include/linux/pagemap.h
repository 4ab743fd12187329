#ifndef _CASES_LINUX_PAGEMAP_H
#define _CASES_LINUX_PAGEMAP_H
#include <linux/mm.h>
struct address_space { struct inode *host; unsigned long nrpages; };
struct page *find_get_page(struct address_space *mapping, pgoff_t offset);
struct page *grab_cache_page_write_begin(struct address_space *mapping, pgoff_t index);
#endif
