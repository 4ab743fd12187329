// RUN: %check_pageref_tidy %s pageref-unbalanced-release,pageref-release-mismatch,pageref-async-bvec-drop %t -- -- -I%S/../include
// Family: zero-copy senders in net/ and crypto/ (6.1): iov_iter_get_pages2() references handed
// to an skb frag (__zerocopy_sg_from_iter()), to an sk_msg scatterlist
// (sk_msg_zerocopy_from_iter()) or to an AF_ALG sgl (af_alg_make_sg()), all released later by
// the owner of the skb / msg / sgl.
#include <linux/mm.h>
#include <linux/uio.h>
#include <linux/skbuff.h>
#include <linux/skmsg.h>
#include <linux/scatterlist.h>
#include <net/sock.h>

#define ALG_MAX_PAGES 16
struct af_alg_sgl {
	struct scatterlist sg[ALG_MAX_PAGES + 1];
	struct page *pages[ALG_MAX_PAGES];
	unsigned int npages;
};

// CASE NEGATIVE unbalanced-release: modelled on net/core/datagram.c:__zerocopy_sg_from_iter() in 6.1
// Every page becomes an skb frag (skb_fill_page_desc_noacc()), except pages that continue the
// previous frag, whose extra references are dropped in a batch with page_ref_sub(). The skb
// owns the frags; an error return leaves the earlier iterations' frags in the skb, which the
// caller frees. Correct code.
int __zerocopy_sg_from_iter(struct msghdr *msg, struct sock *sk, struct sk_buff *skb,
			    struct iov_iter *from, size_t length)
{
	int frag;

	frag = skb_shinfo(skb)->nr_frags;

	while (length && iov_iter_count(from)) {
		struct page *pages[MAX_SKB_FRAGS];
		struct page *last_head = NULL;
		size_t start;
		ssize_t copied;
		unsigned long truesize;
		int refs, n = 0;

		if (frag == MAX_SKB_FRAGS)
			return -EMSGSIZE;

		copied = iov_iter_get_pages2(from, pages, length, MAX_SKB_FRAGS - frag, &start);
		if (copied < 0)
			return -EFAULT;

		length -= copied;

		truesize = PAGE_ALIGN(copied + start);
		skb->data_len += copied;
		skb->len += copied;
		skb->truesize += truesize;
		if (sk && sk->sk_type == SOCK_STREAM) {
			sk_wmem_queued_add(sk, truesize);
			if (!skb_zcopy_pure(skb))
				sk_mem_charge(sk, truesize);
		} else {
			refcount_add(truesize, &skb->sk->sk_wmem_alloc);
		}
		for (refs = 0; copied != 0; start = 0) {
			int size = min_t(int, copied, PAGE_SIZE - start);
			struct page *head = compound_head(pages[n]);

			start += (pages[n] - head) << PAGE_SHIFT;
			copied -= size;
			n++;
			if (frag) {
				skb_frag_t *last = &skb_shinfo(skb)->frags[frag - 1];

				if (head == skb_frag_page(last) &&
				    start == skb_frag_off(last) + skb_frag_size(last)) {
					skb_frag_size_add(last, size);
					last_head = head;
					refs++;
					continue;
				}
			}
			if (refs) {
				page_ref_sub(last_head, refs);
				refs = 0;
			}
			skb_fill_page_desc_noacc(skb, frag++, head, start, size);
		}
		if (refs)
			page_ref_sub(last_head, refs);
	}
	return 0;
}

// CASE NEGATIVE unbalanced-release: modelled on net/core/skmsg.c:sk_msg_zerocopy_from_iter() in 6.1
// Each page goes into msg->sg.data[] with sg_set_page(); the msg owns them (sk_msg_free()
// puts them). The error exits happen before any page of that iteration was taken. Correct.
int sk_msg_zerocopy_from_iter(struct sock *sk, struct iov_iter *from, struct sk_msg *msg,
			      u32 bytes)
{
	int i, maxpages, ret = 0, num_elems = sk_msg_elem_used(msg);
	const int to_max_pages = MAX_MSG_FRAGS;
	struct page *pages[MAX_MSG_FRAGS];
	ssize_t orig, copied, use;
	size_t offset;

	orig = msg->sg.size;
	while (bytes > 0) {
		i = 0;
		maxpages = to_max_pages - num_elems;
		if (maxpages == 0) {
			ret = -EFAULT;
			goto out;
		}

		copied = iov_iter_get_pages2(from, pages, bytes, maxpages, &offset);
		if (copied <= 0) {
			ret = -EFAULT;
			goto out;
		}

		bytes -= copied;
		msg->sg.size += copied;

		while (copied) {
			use = min_t(int, copied, PAGE_SIZE - offset);
			sg_set_page(&msg->sg.data[msg->sg.end], pages[i], use, offset);
			sg_unmark_end(&msg->sg.data[msg->sg.end]);
			sk_mem_charge(sk, use);

			offset = 0;
			copied -= use;
			sk_msg_iter_next(msg, end);
			num_elems++;
			i++;
		}
		msg->sg.copybreak = 0;
		msg->sg.curr = msg->sg.end;
	}
out:
	if (ret)
		iov_iter_revert(from, msg->sg.size - orig);
	return ret;
}

// CASE POSITIVE unbalanced-release: mutation of net/core/skmsg.c:sk_msg_zerocopy_from_iter() in 6.1
// A per-element charge check added inside the fill loop bails out with -ENOMEM: pages[i..) of
// this iteration were referenced by iov_iter_get_pages2() but never placed in the msg, and
// nothing puts them.
int sk_msg_zerocopy_from_iter_charge(struct sock *sk, struct iov_iter *from, struct sk_msg *msg,
				     u32 bytes)
{
	int i, maxpages, ret = 0, num_elems = sk_msg_elem_used(msg);
	struct page *pages[MAX_MSG_FRAGS];
	ssize_t orig, copied, use;
	size_t offset;

	orig = msg->sg.size;
	while (bytes > 0) {
		i = 0;
		maxpages = MAX_MSG_FRAGS - num_elems;
		if (maxpages == 0) {
			ret = -EFAULT;
			goto out;
		}

		copied = iov_iter_get_pages2(from, pages, bytes, maxpages, &offset);
		if (copied <= 0) {
			ret = -EFAULT;
			goto out;
		}

		bytes -= copied;
		msg->sg.size += copied;

		while (copied) {
			use = min_t(int, copied, PAGE_SIZE - offset);
			if (!sk_wmem_schedule(sk, use)) {
				ret = -ENOMEM;
				goto out;
			}
			sg_set_page(&msg->sg.data[msg->sg.end], pages[i], use, offset);
			sg_unmark_end(&msg->sg.data[msg->sg.end]);
			sk_mem_charge(sk, use);

			offset = 0;
			copied -= use;
			sk_msg_iter_next(msg, end);
			num_elems++;
			i++;
		}
		msg->sg.curr = msg->sg.end;
	}
out:
	if (ret)
		iov_iter_revert(from, msg->sg.size - orig);
	return ret;
	// CHECK-MESSAGES: :[[@LINE-1]]:{{[0-9]+}}: warning: {{.*}} [pageref-unbalanced-release]
}

// CASE NEGATIVE unbalanced-release: modelled on crypto/af_alg.c:af_alg_make_sg() in 6.1
// The references sit in sgl->pages[] with their count in sgl->npages and are set into the sg
// table; af_alg_free_sg() puts sgl->npages pages. The WARN_ON(npages == 0) exit cannot happen
// after a positive result. Correct code.
int af_alg_make_sg(struct af_alg_sgl *sgl, struct iov_iter *iter, int len)
{
	size_t off;
	ssize_t n;
	int npages, i;

	n = iov_iter_get_pages2(iter, sgl->pages, len, ALG_MAX_PAGES, &off);
	if (n < 0)
		return n;

	npages = DIV_ROUND_UP(off + n, PAGE_SIZE);
	if (WARN_ON(npages == 0))
		return -EINVAL;
	sg_init_table(sgl->sg, npages + 1);

	for (i = 0, len = n; i < npages; i++) {
		int plen = min_t(int, len, PAGE_SIZE - off);

		sg_set_page(sgl->sg + i, sgl->pages[i], plen, off);

		off = 0;
		len -= plen;
	}
	sg_mark_end(sgl->sg + npages - 1);
	sgl->npages = npages;

	return n;
}

// helper (not a case), as in af_alg.c:af_alg_free_sg().
void af_alg_free_sg(struct af_alg_sgl *sgl)
{
	int i;

	for (i = 0; i < sgl->npages; i++)
		put_page(sgl->pages[i]);
}
