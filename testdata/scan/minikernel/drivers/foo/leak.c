#include <foo/foo.h>

int foo_leak(unsigned long addr, int nr)
{
	struct page *pages[16];
	int ret = pin_user_pages_fast(addr, nr, FOLL_WRITE, pages);

	if (ret <= 0)
		return ret;
	if (foo_setup() < 0)
		return -EINVAL;
	unpin_user_pages(pages, ret);
	return 0;
}
