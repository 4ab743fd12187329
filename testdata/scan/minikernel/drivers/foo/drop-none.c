#include <foo/foo.h>

/* Looks at the pages and releases nothing. */
void foo_drop_pages(struct page **pages, int n)
{
	int i;

	for (i = 0; i < n; i++)
		flush_dcache_page(pages[i]);
}
