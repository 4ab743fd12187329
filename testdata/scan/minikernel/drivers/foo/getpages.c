#include <foo/foo.h>
#include <linux/uio.h>

/* Takes page references from any iterator and hands them to
 * foo_drop_pages(), defined in another file: only that file's summary says
 * they are released. */
int foo_get_pages(struct iov_iter *iter)
{
	struct page *pages[16];
	size_t start;
	ssize_t n = iov_iter_get_pages2(iter, pages, 65536, 16, &start);

	if (n <= 0)
		return n;
	foo_drop_pages(pages, 16);
	return 0;
}
