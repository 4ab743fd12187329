#include <foo/foo.h>

/* The right release for pinned pages. */
void foo_drop_pages(struct page **pages, int n)
{
	unpin_user_pages(pages, n);
}
