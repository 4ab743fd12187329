// The pages are released by a function of another translation unit: the
// scan's summary says drop_pages() releases them, and pageref convert writes
// no patch (the release would have to change there, for every caller).
// RUN: %python %S/Inputs/convert-test.py --pageref %pageref --include %kernel_include --input %s --input %S/Inputs/release-elsewhere.c --work %t | FileCheck %s

#include <linux/fs.h>

void drop_pages(struct page **pages, int n);

static ssize_t take(struct iov_iter *iter, struct page **pages)
{
	size_t start;
	ssize_t n;

	n = iov_iter_get_pages2(iter, pages, 8192, 2, &start);
	if (n <= 0)
		return n;
	drop_pages(pages, DIV_ROUND_UP(start + n, PAGE_SIZE));
	return n;
}

static ssize_t my_read_iter(struct kiocb *iocb, struct iov_iter *to)
{
	struct page *pages[2];

	return take(to, pages);
}
const struct file_operations my_fops = { .read_iter = my_read_iter };

// CHECK: SITE take: refused: the pages are passed to drop_pages(), which releases them (ref, put_page() at line 9 in drv/release-elsewhere.c): a release in another translation unit
// CHECK-NOT: PATCH
