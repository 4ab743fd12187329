// Pages kept in a struct until a completion drops them: the decision goes
// into the struct, next to the pages (as upstream did with fuse's is_pinned
// and dio->is_pinned), set before each extraction and tested where the
// completion releases them. A release in a caller, through the argument it
// passed, reads the same flag.
// RUN: %python %S/Inputs/convert-test.py --pageref %pageref --include %kernel_include --input %s --work %t | FileCheck %s

#include <linux/fs.h>
#include <linux/mm.h>

struct my_req {
	struct page **pages;
	unsigned int npages;
	void (*done)(struct my_req *req);
};

void submit(struct my_req *req);

static void my_req_done(struct my_req *req)
{
	unsigned int i;

	for (i = 0; i < req->npages; i++)
		put_page(req->pages[i]);
}

static int my_fill(struct my_req *req, struct iov_iter *iter)
{
	size_t start;
	ssize_t n;

	n = iov_iter_get_pages2(iter, req->pages, 65536, 16, &start);
	if (n <= 0)
		return n;
	req->npages = DIV_ROUND_UP(start + n, PAGE_SIZE);
	req->done = my_req_done;
	submit(req);
	return 0;
}

static ssize_t my_read_iter(struct kiocb *iocb, struct iov_iter *to)
{
	static struct my_req req;

	return my_fill(&req, to);
}
const struct file_operations my_fops = { .read_iter = my_read_iter };

// CHECK: SITE my_fill: unverified
// CHECK: struct my_req {
// CHECK-NEXT:  	struct page **pages;
// CHECK-NEXT: +	bool is_pinned;
// CHECK:       	for (i = 0; i < req->npages; i++)
// CHECK-NEXT: -		put_page(req->pages[i]);
// CHECK-NEXT: +		if (req->is_pinned)
// CHECK-NEXT: +			unpin_user_page(req->pages[i]);
// CHECK:      +	struct page **pages_dst;
// CHECK:      -	n = iov_iter_get_pages2(iter, req->pages, 65536, 16, &start);
// CHECK-NEXT: +	req->is_pinned = iov_iter_extract_will_pin(iter);
// CHECK-NEXT: +	pages_dst = req->pages;
// CHECK-NEXT: +	n = iov_iter_extract_pages(iter, &pages_dst, 65536, 16, 0, &start);
// CHECK: COMPILE: ok
// CHECK: RESCAN my_fill: iov_iter_extract_pages already-conditional
// CHECK-NOT: NEW FINDING
// CHECK: END
