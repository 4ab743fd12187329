// Sites pageref convert refuses, each with its reason, and writes no patch
// for. Every one is extract-ready for the scan.
// RUN: %python %S/Inputs/convert-test.py --pageref %pageref --include %kernel_include --input %s --work %t | FileCheck %s

#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/scatterlist.h>

struct completion;
int wait_for_completion_killable(struct completion *x);
struct page *alloc_page(unsigned int gfp);

// --- The references are owned by a completion and the submitter's wait can
// be interrupted: the I/O may still use the pages when the caller returns.
struct kreq {
	struct page *pages[4];
	unsigned int npages;
	struct completion *done;
};
void ksubmit(struct kreq *r, void (*end)(struct kreq *r));

static void kreq_end(struct kreq *r)
{
	unsigned int i;

	for (i = 0; i < r->npages; i++)
		put_page(r->pages[i]);
}

static int killable(struct kreq *r, struct iov_iter *iter)
{
	size_t start;
	ssize_t n;

	n = iov_iter_get_pages2(iter, r->pages, 16384, 4, &start);
	if (n <= 0)
		return n;
	r->npages = DIV_ROUND_UP(start + n, PAGE_SIZE);
	ksubmit(r, kreq_end);
	return wait_for_completion_killable(r->done);
}

// --- The call is the body of an unbraced if: no statement before it runs
// only when it does.
static ssize_t unbraced(struct iov_iter *iter, struct page **pages)
{
	size_t start;
	ssize_t n = 0;

	if (iov_iter_count(iter))
		n = iov_iter_get_pages2(iter, pages, PAGE_SIZE, 1, &start);
	if (n > 0)
		put_page(pages[0]);
	return n;
}

// --- Pages of another origin go into the same field, and reach the release.
struct holder {
	struct page *pg;
};

static void holder_drop(struct holder *h)
{
	if (h->pg)
		put_page(h->pg);
	h->pg = NULL;
}

static int holder_fill(struct holder *h, struct iov_iter *iter)
{
	size_t off;
	ssize_t n;
	struct page *page;

	n = iov_iter_get_pages2(iter, &page, PAGE_SIZE, 1, &off);
	if (n <= 0)
		return n;
	h->pg = page;
	holder_drop(h);
	return 0;
}

static void holder_alloc(struct holder *h)
{
	h->pg = alloc_page(0);
	holder_drop(h);
}

// --- An extra reference on the same pages: which put balances which?
static ssize_t extra_ref(struct iov_iter *iter, struct page **pages)
{
	size_t start;
	ssize_t n;

	n = iov_iter_get_pages2(iter, pages, PAGE_SIZE, 1, &start);
	if (n <= 0)
		return n;
	get_page(pages[0]);
	put_page(pages[0]);
	put_page(pages[0]);
	return n;
}

// --- The code checks the reference count the conversion takes away.
static ssize_t counted(struct iov_iter *iter, struct page **pages)
{
	size_t start;
	ssize_t n;

	n = iov_iter_get_pages2(iter, pages, PAGE_SIZE, 1, &start);
	if (n <= 0)
		return n;
	if (page_count(pages[0]) < 2)
		return -EIO;
	put_page(pages[0]);
	return n;
}

// --- A release in a function that neither the acquiring function calls nor
// a struct carries the decision to.
static int map_sg(struct scatterlist *sg, struct iov_iter *iter, struct page **pages)
{
	size_t off;
	ssize_t n;

	n = iov_iter_get_pages2(iter, pages, PAGE_SIZE, 1, &off);
	if (n <= 0)
		return -EFAULT;
	sg_set_page(sg, pages[0], n, off);
	return 1;
}

static void sg_release(struct scatterlist *sg, int n)
{
	int i;

	for (i = 0; i < n; i++)
		put_page(sg_page(&sg[i]));
}

static int map_all(struct scatterlist *sg, struct iov_iter *iter, struct page **pages)
{
	struct scatterlist *p = sg;
	int ret;

	while (iov_iter_count(iter)) {
		ret = map_sg(sg, iter, pages);
		if (ret < 0) {
			while (p < sg)
				put_page(sg_page(p++));
			return ret;
		}
		sg += ret;
	}
	sg_release(sg, 1);
	return 0;
}

// --- A completion wired in a callee drops pages of the same kind of
// container that the analysis could not connect to these pages (the
// scatterlist went through a function of another file).
struct areq;
void areq_set_dst(struct areq *a, struct scatterlist *sg);
struct scatterlist *areq_dst(struct areq *a);
void crypt_submit(struct areq *a, void (*done)(struct areq *a));

static void crypt_done(struct areq *a)
{
	put_page(sg_page(areq_dst(a)));
}

static int crypt(struct areq *a, struct scatterlist *sg)
{
	areq_set_dst(a, sg);
	crypt_submit(a, crypt_done);
	return 0;
}

static int fill_one(struct iov_iter *from, struct scatterlist *to, struct page **pages)
{
	size_t off;
	ssize_t n;

	n = iov_iter_get_pages2(from, pages, PAGE_SIZE, 1, &off);
	if (n <= 0)
		return -EFAULT;
	sg_set_page(to, pages[0], n, off);
	return 0;
}

static int decrypt(struct areq *a, struct scatterlist *sg, struct iov_iter *out, struct page **pages)
{
	int err = fill_one(out, sg, pages);

	if (err)
		return err;
	err = crypt(a, sg);
	if (err)
		put_page(sg_page(sg));
	return err;
}

static ssize_t my_read_iter(struct kiocb *iocb, struct iov_iter *to)
{
	static struct kreq r;
	static struct holder h;
	static struct scatterlist sg[4], sg2[1];
	struct page *p1[1], *p2[1], *p3[1], *p4[1], *p5[1];

	holder_alloc(&h);
	return killable(&r, to) + holder_fill(&h, to) + extra_ref(to, p1) + map_all(sg, to, p2) + unbraced(to, p3) +
	       decrypt(NULL, sg2, to, p4) + counted(to, p5);
}
const struct file_operations my_fops = { .read_iter = my_read_iter };

// CHECK-DAG: SITE killable: refused: the references are owned by the async completion kreq_end() and the submitting path waits with wait_for_completion_killable(), which can return while the I/O still uses the pages
// CHECK-DAG: SITE unbraced: refused: the call is in a loop condition or an unbraced body, where the pin decision cannot be taken just before it
// CHECK-DAG: SITE holder_fill: refused: pages of another origin are stored into h->pg in holder_alloc() at line {{[0-9]+}}, and holder_alloc() reaches the release that would now unpin them
// CHECK-DAG: SITE extra_ref: refused: an extra reference is taken with get_page() in extra_ref() at line {{[0-9]+}} on pages the converted release drops
// CHECK-DAG: SITE map_sg: refused: the release put_page() in sg_release() at line {{[0-9]+}} reads the pages from no struct that the acquiring function map_sg() can reach, and is not a helper it calls with them
// CHECK-DAG: SITE fill_one: refused: put_page() in crypt_done() at line {{[0-9]+}} drops pages read back from a container on the route of these pages, and the analysis did not attribute it to them
// CHECK-DAG: SITE counted: refused: the code reads the pages' reference count (page_count() in counted() at line {{[0-9]+}})
// CHECK-NOT: PATCH
