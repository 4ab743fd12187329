// RUN: %check_pageref_tidy %s pageref-unbalanced-release,pageref-release-mismatch,pageref-async-bvec-drop %t -- -- -I%S/../include
// Family: net/rds/rdma.c (6.1): an RDS atomic op pins the 8-byte local buffer's page through
// rds_pin_pages(), stores it in the op's scatterlist (sg_set_page()) and rds_atomic_free_op()
// unpins sg_page() of it when the message is purged (only while op_active is set).
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/scatterlist.h>

struct rds_notifier { u64 n_user_token; int n_status; };
struct rm_atomic_op {
	int op_type;
	u64 op_remote_addr;
	unsigned int op_rkey;
	unsigned int op_notify:1;
	unsigned int op_recverr:1;
	unsigned int op_active:1;
	struct scatterlist *op_sg;
	struct rds_notifier *op_notifier;
};
struct rds_message { struct rm_atomic_op atomic; };
struct rds_atomic_args { u64 local_addr; u64 remote_addr; u64 cookie; u64 user_token; u64 flags; };
#define RDS_RDMA_NOTIFY_ME 0x0008
#define RDS_RDMA_SUCCESS 0
struct scatterlist *rds_message_alloc_sgs(struct rds_message *rm, int nents);
unsigned int rds_rdma_cookie_key(u64 cookie);
u32 rds_rdma_cookie_offset(u64 cookie);

// helper (not a case), as in rdma.c:rds_pin_pages(): a short pin is undone here.
static int rds_pin_pages(unsigned long user_addr, unsigned int nr_pages, struct page **pages,
			 int write)
{
	unsigned int gup_flags = FOLL_LONGTERM;
	int ret;

	if (write)
		gup_flags |= FOLL_WRITE;

	ret = pin_user_pages_fast(user_addr, nr_pages, gup_flags, pages);
	if (ret >= 0 && ret < nr_pages) {
		unpin_user_pages(pages, ret);
		ret = -EFAULT;
	}

	return ret;
}

// CASE NEGATIVE release-mismatch: modelled on net/rds/rdma.c:rds_cmsg_atomic() in 6.1
// The pinned page goes into rm->atomic.op_sg; if the notifier allocation fails afterwards the
// page is unpinned here and op_active cleared, so rds_atomic_free_op() will not unpin it again.
// One pin, one unpin, right family. Correct code.
static int rds_cmsg_atomic(struct rds_message *rm, struct rds_atomic_args *args)
{
	struct page *page = NULL;
	int ret = 0;

	rm->atomic.op_notify = !!(args->flags & RDS_RDMA_NOTIFY_ME);
	rm->atomic.op_active = 1;
	rm->atomic.op_sg = rds_message_alloc_sgs(rm, 1);
	if (IS_ERR(rm->atomic.op_sg)) {
		ret = PTR_ERR(rm->atomic.op_sg);
		goto err;
	}

	if (args->local_addr & 0x7) {
		ret = -EFAULT;
		goto err;
	}

	ret = rds_pin_pages(args->local_addr, 1, &page, 1);
	if (ret != 1)
		goto err;
	ret = 0;

	sg_set_page(rm->atomic.op_sg, page, 8, offset_in_page(args->local_addr));

	if (rm->atomic.op_notify || rm->atomic.op_recverr) {
		rm->atomic.op_notifier = kmalloc(sizeof(*rm->atomic.op_notifier), GFP_KERNEL);
		if (!rm->atomic.op_notifier) {
			ret = -ENOMEM;
			goto err;
		}

		rm->atomic.op_notifier->n_user_token = args->user_token;
		rm->atomic.op_notifier->n_status = RDS_RDMA_SUCCESS;
	}

	rm->atomic.op_rkey = rds_rdma_cookie_key(args->cookie);
	rm->atomic.op_remote_addr = args->remote_addr + rds_rdma_cookie_offset(args->cookie);

	return ret;
err:
	if (page)
		unpin_user_page(page);
	rm->atomic.op_active = 0;
	kfree(rm->atomic.op_notifier);

	return ret;
}

// CASE NEGATIVE release-mismatch: modelled on net/rds/rdma.c:rds_atomic_free_op() in 6.1
// The page stored by rds_cmsg_atomic() is a pin, released through the sg_page() view with
// unpin_user_pages_dirty_lock(). Correct code.
void rds_atomic_free_op(struct rm_atomic_op *ao)
{
	struct page *page = sg_page(ao->op_sg);

	unpin_user_pages_dirty_lock(&page, 1, true);

	kfree(ao->op_notifier);
	ao->op_notifier = NULL;
	ao->op_active = 0;
}

// CASE POSITIVE release-mismatch: mutation of net/rds/rdma.c:rds_atomic_free_op() in 6.1
// The pre-FOLL_PIN release kept after rds_pin_pages() became pin_user_pages_fast():
// set_page_dirty() + put_page(sg_page(...)) on a page that rds_cmsg_atomic() pinned into the
// same op_sg field. The pin is never dropped.
void rds_atomic_free_op_put(struct rm_atomic_op *ao)
{
	struct page *page = sg_page(ao->op_sg);

	set_page_dirty(page);
	put_page(page);
	// CHECK-MESSAGES: :[[@LINE-1]]:{{[0-9]+}}: warning: {{.*}} [pageref-release-mismatch]

	kfree(ao->op_notifier);
	ao->op_notifier = NULL;
	ao->op_active = 0;
}
