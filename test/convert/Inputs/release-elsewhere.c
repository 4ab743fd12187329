// The release helper of other-tu.c, in its own translation unit.
#include <linux/mm.h>

void drop_pages(struct page **pages, int n)
{
	int i;

	for (i = 0; i < n; i++)
		put_page(pages[i]);
}
