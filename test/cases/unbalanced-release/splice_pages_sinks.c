// RUN: %check_pageref_tidy %s pageref-unbalanced-release,pageref-release-mismatch,pageref-async-bvec-drop %t -- -- -I%S/../include
// Family: MSG_SPLICE_PAGES senders in 6.12: net/core/skbuff.c:skb_splice_from_iter() and
// net/tls/tls_sw.c:tls_sw_sendmsg_splice() list the pages of a kernel (BVEC/KVEC/...)
// iterator with iov_iter_extract_pages(), which takes no reference for those, and give them
// to skb_append_pagefrags() / sk_msg_page_add(), which take their own references.
#define CASES_6_12
#include <linux/mm.h>
#include <linux/uio.h>
#include <linux/skbuff.h>
#include <linux/skmsg.h>
#include <net/sock.h>

extern int sysctl_max_skb_frags;
void skb_splice_csum_page(struct sk_buff *skb, struct page *page, size_t offset, size_t len,
			  size_t skb_off);

// CASE NEGATIVE unbalanced-release: modelled on net/core/skbuff.c:skb_splice_from_iter() in 6.12
// MSG_SPLICE_PAGES is an internal flag (stripped from user sendmsg()), so the iterator is never
// user-backed: iov_iter_extract_pages() pins nothing, and skb_append_pagefrags() takes the
// skb's own reference (get_page()). Nothing is owed on any exit. Correct code.
ssize_t skb_splice_from_iter(struct sk_buff *skb, struct iov_iter *iter, ssize_t maxsize,
			     gfp_t gfp)
{
	size_t frag_limit = READ_ONCE(sysctl_max_skb_frags);
	struct page *pages[8], **ppages = pages;
	ssize_t spliced = 0, ret = 0;
	unsigned int i;

	while (iter->count > 0) {
		ssize_t space, nr, len;
		size_t off;

		ret = -EMSGSIZE;
		space = frag_limit - skb_shinfo(skb)->nr_frags;
		if (space < 0)
			break;

		nr = clamp_t(size_t, space, 1, ARRAY_SIZE(pages));

		len = iov_iter_extract_pages(iter, &ppages, maxsize, nr, 0, &off);
		if (len <= 0) {
			ret = len ?: -EIO;
			break;
		}

		i = 0;
		do {
			struct page *page = pages[i++];
			size_t part = min_t(size_t, PAGE_SIZE - off, len);

			ret = -EIO;
			if (WARN_ON_ONCE(!sendpage_ok(page)))
				goto out;

			ret = skb_append_pagefrags(skb, page, off, part, frag_limit);
			if (ret < 0) {
				iov_iter_revert(iter, len);
				goto out;
			}

			if (skb->ip_summed == CHECKSUM_NONE)
				skb_splice_csum_page(skb, page, off, part, skb->len + spliced);

			off = 0;
			spliced += part;
			maxsize -= part;
			len -= part;
		} while (len > 0);

		if (maxsize <= 0)
			break;
	}

out:
	skb_len_add(skb, spliced);
	return spliced ?: ret;
}

// CASE NEGATIVE unbalanced-release: modelled on net/tls/tls_sw.c:tls_sw_sendmsg_splice() in 6.12
// Same contract: one page at a time is listed (not pinned) from a MSG_SPLICE_PAGES iterator
// and sk_msg_page_add() takes the msg's own reference with get_page(). Correct code.
static int tls_sw_sendmsg_splice(struct sock *sk, struct msghdr *msg, struct sk_msg *msg_pl,
				 size_t try_to_copy, ssize_t *copied)
{
	struct page *page = NULL, **pages = &page;

	do {
		ssize_t part;
		size_t off;

		part = iov_iter_extract_pages(&msg->msg_iter, &pages, try_to_copy, 1, 0, &off);
		if (part <= 0)
			return part ?: -EIO;

		if (WARN_ON_ONCE(!sendpage_ok(page))) {
			iov_iter_revert(&msg->msg_iter, part);
			return -EIO;
		}

		sk_msg_page_add(msg_pl, page, part, off);
		msg_pl->sg.copybreak = 0;
		msg_pl->sg.curr = msg_pl->sg.end;
		sk_mem_charge(sk, part);
		*copied += part;
		try_to_copy -= part;
	} while (try_to_copy && !sk_msg_full(msg_pl));

	return 0;
}

// helper (not a case): the caller, as in tls_sw_sendmsg_locked(), takes the splice path only
// for MSG_SPLICE_PAGES messages, whose iterators are kernel page iterators.
int tls_sw_sendmsg_copy(struct sock *sk, struct msghdr *msg, struct sk_msg *msg_pl, size_t n);
int tls_sw_sendmsg_locked(struct sock *sk, struct msghdr *msg, struct sk_msg *msg_pl, size_t try_to_copy)
{
	ssize_t copied = 0;
	int ret;

	if (try_to_copy && (msg->msg_flags & MSG_SPLICE_PAGES)) {
		ret = tls_sw_sendmsg_splice(sk, msg, msg_pl, try_to_copy, &copied);
		if (ret < 0)
			return ret;
		return copied;
	}
	return tls_sw_sendmsg_copy(sk, msg, msg_pl, try_to_copy);
}

// CASE POSITIVE unbalanced-release: mutation of net/tls/tls_sw.c:tls_sw_sendmsg_splice() in 6.12
// The zero-copy path opened to plain user sendmsg() buffers (ITER_UBUF accepted besides
// MSG_SPLICE_PAGES): for a user iterator iov_iter_extract_pages() pins the page, while
// sk_msg_page_add() takes the msg's own get_page() reference, so the pin is never dropped.
static int tls_sw_sendmsg_zc_user(struct sock *sk, struct msghdr *msg, struct sk_msg *msg_pl,
				  size_t try_to_copy, ssize_t *copied)
{
	struct page *page = NULL, **pages = &page;

	if (!(msg->msg_flags & MSG_SPLICE_PAGES) && !iter_is_ubuf(&msg->msg_iter))
		return -EINVAL;

	do {
		ssize_t part;
		size_t off;

		part = iov_iter_extract_pages(&msg->msg_iter, &pages, try_to_copy, 1, 0, &off);
		if (part <= 0)
			return part ?: -EIO;

		sk_msg_page_add(msg_pl, page, part, off);
		msg_pl->sg.copybreak = 0;
		msg_pl->sg.curr = msg_pl->sg.end;
		sk_mem_charge(sk, part);
		*copied += part;
		try_to_copy -= part;
	} while (try_to_copy && !sk_msg_full(msg_pl));

	return 0;
	// CHECK-MESSAGES: :[[@LINE-1]]:{{[0-9]+}}: warning: {{.*}} [pageref-unbalanced-release]
}

// helper (not a case): every message reaches the zero-copy path above, user ones included.
int tls_sw_sendmsg_zc(struct sock *sk, struct msghdr *msg, struct sk_msg *msg_pl, size_t try_to_copy)
{
	ssize_t copied = 0;
	int ret = tls_sw_sendmsg_zc_user(sk, msg, msg_pl, try_to_copy, &copied);

	return ret < 0 ? ret : copied;
}
