#include <foo/foo.h>

/* Pins pages; on the error path hands them to foo_drop_pages(), which is
 * defined in another file: only its summary says whether that releases
 * them, and with which family. */
int foo_pin(unsigned long addr, int nr)
{
	struct page *pages[16];
	int ret = pin_user_pages_fast(addr, nr, FOLL_WRITE, pages);

	if (ret <= 0)
		return ret;
	if (foo_setup() < 0) {
		foo_drop_pages(pages, ret);
		return -EINVAL;
	}
	unpin_user_pages(pages, ret);
	return 0;
}
