#ifndef _CASES_NET_SOCK_H
#define _CASES_NET_SOCK_H
#include <linux/skbuff.h>
#include <linux/refcount.h>
#define SOCK_STREAM 1
struct page_frag { struct page *page; u32 offset; u32 size; };
struct sock {
	int sk_type;
	refcount_t sk_wmem_alloc;
	int sk_sndbuf;
	int sk_wmem_queued;
	struct page_frag sk_frag;
	gfp_t sk_allocation;
};
void sk_mem_charge(struct sock *sk, int size);
void sk_wmem_queued_add(struct sock *sk, int val);
void refcount_add(int i, refcount_t *r);
bool sk_wmem_schedule(struct sock *sk, int size);
void lock_sock(struct sock *sk);
void release_sock(struct sock *sk);
#endif
