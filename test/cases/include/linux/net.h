#ifndef _CASES_LINUX_NET_H
#define _CASES_LINUX_NET_H
#include <linux/uio.h>
struct sock;
struct socket {
	struct sock *sk;
	const struct proto_ops *ops;
	struct file *file;
};
struct msghdr {
	void *msg_name;
	int msg_namelen;
	int msg_inq;
	struct iov_iter msg_iter;
	unsigned int msg_flags;
	struct kiocb *msg_iocb;
};
#define MSG_DONTWAIT 0x40
#define MSG_MORE 0x8000
#define MSG_SPLICE_PAGES 0x8000000
#define MSG_ZEROCOPY 0x4000000
int kernel_sendmsg(struct socket *sock, struct msghdr *msg, struct kvec *vec, size_t num,
		   size_t len);
int sock_sendmsg(struct socket *sock, struct msghdr *msg);
#endif
