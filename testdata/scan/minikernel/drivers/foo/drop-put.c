#include <foo/foo.h>

/* The wrong release for pinned pages: put_page() drops a reference, not a pin. */
void foo_drop_pages(struct page **pages, int n)
{
	int i;

	for (i = 0; i < n; i++)
		put_page(pages[i]);
}
