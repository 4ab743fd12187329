// RUN: %check_pageref_tidy %s pageref-unbalanced-release,pageref-release-mismatch,pageref-async-bvec-drop %t -- -- -I%S/../include
// Family: a get_page() taken for a container the page already went into: net/core/skbuff.c
// skb_zerocopy() (6.12) puts the head page into the destination skb, then takes the frag's
// reference; net/rxrpc/txbuf.c rxrpc_alloc_ack_txbuf() (6.12) points the txbuf it returns into
// a page fragment, then takes the reference the txbuf drops when it is freed.
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/skbuff.h>
#include <linux/uio.h>
#include <linux/errno.h>

struct page *virt_to_head_page(const void *x);
void *page_frag_alloc_buf(unsigned int size, gfp_t gfp);
void page_frag_free(void *addr);
int skb_orphan_frags(struct sk_buff *skb, gfp_t gfp);

// CASE NEGATIVE unbalanced-release: modelled on net/core/skbuff.c:skb_zerocopy() in 6.12
// The page is in to's frags before get_page(): the reference is the frag's, and the caller's
// kfree_skb(to) drops it on the -ENOMEM exit. Correct code.
static int zerocopy_head(struct sk_buff *to, struct page *head, unsigned int offset, int plen,
			 struct sk_buff *from)
{
	struct page *page;

	if (plen) {
		page = virt_to_head_page(page_address(head) + offset);
		skb_fill_page_desc(to, 0, page, offset, plen);
		get_page(page);
	}
	if (skb_orphan_frags(from, GFP_ATOMIC))
		return -ENOMEM;
	return 0;
}

// CASE POSITIVE unbalanced-release: mutation of net/core/skbuff.c:skb_zerocopy() in 6.12
// The reference is now taken before the page goes into the skb, and the failure between the
// two returns with it: no container holds the page for that reference.
static int zerocopy_head_early_ref(struct sk_buff *to, struct page *head, unsigned int offset, int plen,
				   struct sk_buff *from)
{
	struct page *page;

	if (plen) {
		page = virt_to_head_page(page_address(head) + offset);
		get_page(page);
		if (skb_orphan_frags(from, GFP_ATOMIC))
			return -ENOMEM;
			// CHECK-MESSAGES: :[[@LINE-1]]:{{[0-9]+}}: warning: {{.*}} [pageref-unbalanced-release]
		skb_fill_page_desc(to, 0, page, offset, plen);
	}
	return 0;
}

struct txbuf {
	struct kvec kvec[3];
	int nr_kvec;
};

// CASE NEGATIVE unbalanced-release: modelled on net/rxrpc/txbuf.c:rxrpc_alloc_ack_txbuf() in 6.12
// The txbuf's kvecs point into the fragment before get_page(): the reference goes with the
// returned txbuf, whose free drops it. Correct code.
static struct txbuf *alloc_ack_txbuf(gfp_t gfp)
{
	struct txbuf *txb;
	void *buf, *hdr, *trailer;

	txb = kmalloc(sizeof(*txb), gfp);
	if (!txb)
		return NULL;
	buf = page_frag_alloc_buf(64, gfp);
	if (!buf) {
		kfree(txb);
		return NULL;
	}
	hdr = buf;
	trailer = buf + 32 + 4;
	txb->kvec[0].iov_base = hdr;
	txb->kvec[0].iov_len = 32;
	txb->kvec[1].iov_base = trailer;
	txb->kvec[1].iov_len = 16;
	txb->nr_kvec = 2;
	get_page(virt_to_head_page(trailer));
	return txb;
}

// CASE POSITIVE unbalanced-release: mutation of net/rxrpc/txbuf.c:rxrpc_alloc_ack_txbuf() in 6.12
// The reference is taken before the txbuf points into the fragment, and the exit in between
// (no txbuf) returns NULL: the reference has no holder.
static struct txbuf *alloc_ack_txbuf_early_ref(gfp_t gfp, struct txbuf *txb)
{
	void *buf, *hdr, *trailer;

	buf = page_frag_alloc_buf(64, gfp);
	if (!buf)
		return NULL;
	hdr = buf;
	trailer = buf + 32 + 4;
	get_page(virt_to_head_page(trailer));
	if (!txb)
		return NULL;
	// CHECK-MESSAGES: :[[@LINE-1]]:{{[0-9]+}}: warning: {{.*}} [pageref-unbalanced-release]
	txb->kvec[0].iov_base = hdr;
	txb->kvec[0].iov_len = 32;
	txb->kvec[1].iov_base = trailer;
	txb->kvec[1].iov_len = 16;
	txb->nr_kvec = 2;
	return txb;
}
