#include <foo/foo.h>

int foo_broken(unsigned long addr)
{
	struct page *page;
	int ret = get_user_pages_fast(addr, 1, 0, &page);
	return ret + undeclared_thing;
}
