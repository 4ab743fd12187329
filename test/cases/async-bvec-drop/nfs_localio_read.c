// RUN: %check_pageref_tidy %s pageref-unbalanced-release,pageref-release-mismatch,pageref-async-bvec-drop %t -- -- -I%S/../include
// Family: fs/nfs/localio.c (6.12): a LOCALIO read builds an ITER_BVEC over iocb->bvec (a
// kmalloc'd copy of the pgio header's page vector) and calls the local file's ->read_iter();
// with O_DIRECT semantics nfs_do_local_read() sets ki_complete, and the completion work frees
// iocb and its bvec through nfs_local_pgio_release().
#define CASES_6_12
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/uio.h>
#include <linux/fs.h>
#include <linux/bvec.h>
#include <linux/workqueue.h>

struct nfs_page_array { struct page **pagevec; unsigned int npages; };
struct nfs_pgio_args { u64 offset; u32 count; unsigned int pgbase; };
struct nfs_pgio_header {
	struct nfs_page_array page_array;
	struct nfs_pgio_args args;
	unsigned long flags;
};
struct nfsd_file;
struct nfs_local_kiocb {
	struct kiocb kiocb;
	struct bio_vec *bvec;
	struct nfs_pgio_header *hdr;
	struct work_struct work;
	void (*aio_complete_work)(struct work_struct *);
	struct nfsd_file *localio;
};
#define NFS_IOHDR_ODIRECT 8
extern bool localio_O_DIRECT_semantics;
extern struct workqueue_struct *nfsiod_workqueue;
extern struct workqueue_struct *nfslocaliod_workqueue;
bool test_bit(long nr, const volatile unsigned long *addr);
void nfs_to_nfsd_file_put_local(struct nfsd_file *localio);
void nfs_local_hdr_release_done(struct nfs_pgio_header *hdr);
void nfs_local_read_done(struct nfs_local_kiocb *iocb, long status);
struct file *nfsd_file_file(struct nfsd_file *localio);

// helper (not a case), as in localio.c:nfs_bvec_alloc_and_import_pagevec().
static struct bio_vec *nfs_bvec_alloc_and_import_pagevec(struct page **pagevec,
							 unsigned int npages, gfp_t flags)
{
	struct bio_vec *bvec, *p;

	bvec = kmalloc_array(npages, sizeof(*bvec), flags);
	if (bvec != NULL) {
		for (p = bvec; npages > 0; p++, pagevec++, npages--) {
			p->bv_page = *pagevec;
			p->bv_len = PAGE_SIZE;
			p->bv_offset = 0;
		}
	}
	return bvec;
}

// helper (not a case), as in localio.c:nfs_local_iocb_free().
static void nfs_local_iocb_free(struct nfs_local_kiocb *iocb)
{
	kfree(iocb->bvec);
	kfree(iocb);
}

// helper (not a case), as in localio.c:nfs_local_pgio_release().
static void nfs_local_pgio_release(struct nfs_local_kiocb *iocb)
{
	struct nfs_pgio_header *hdr = iocb->hdr;

	nfs_to_nfsd_file_put_local(iocb->localio);
	nfs_local_iocb_free(iocb);
	nfs_local_hdr_release_done(hdr);
}

// helper (not a case), as in localio.c:nfs_local_iocb_alloc(): sync kiocb unless O_DIRECT.
static struct nfs_local_kiocb *nfs_local_iocb_alloc(struct nfs_pgio_header *hdr,
						    struct file *file, gfp_t flags)
{
	struct nfs_local_kiocb *iocb;

	iocb = kmalloc(sizeof(*iocb), flags);
	if (iocb == NULL)
		return NULL;
	iocb->bvec = nfs_bvec_alloc_and_import_pagevec(hdr->page_array.pagevec,
						       hdr->page_array.npages, flags);
	if (iocb->bvec == NULL) {
		kfree(iocb);
		return NULL;
	}

	if (localio_O_DIRECT_semantics && test_bit(NFS_IOHDR_ODIRECT, &hdr->flags)) {
		iocb->kiocb.ki_filp = file;
		iocb->kiocb.ki_flags = IOCB_DIRECT;
	} else
		init_sync_kiocb(&iocb->kiocb, file);

	iocb->kiocb.ki_pos = hdr->args.offset;
	iocb->hdr = hdr;
	iocb->aio_complete_work = NULL;

	return iocb;
}

// helper (not a case), as in localio.c:nfs_local_iter_init(): the ITER_BVEC over iocb->bvec.
static void nfs_local_iter_init(struct iov_iter *i, struct nfs_local_kiocb *iocb, int dir)
{
	struct nfs_pgio_header *hdr = iocb->hdr;

	iov_iter_bvec(i, dir, iocb->bvec, hdr->page_array.npages,
		      hdr->args.count + hdr->args.pgbase);
	if (hdr->args.pgbase != 0)
		iov_iter_advance(i, hdr->args.pgbase);
}

// helper (not a case), as in localio.c:nfs_local_read_aio_complete_work(): frees at completion.
static void nfs_local_read_aio_complete_work(struct work_struct *work)
{
	struct nfs_local_kiocb *iocb = container_of(work, struct nfs_local_kiocb, work);

	nfs_local_pgio_release(iocb);
}

// helper (not a case), as in localio.c:nfs_local_read_aio_complete(): the kiocb's ki_complete.
static void nfs_local_read_aio_complete(struct kiocb *kiocb, long ret)
{
	struct nfs_local_kiocb *iocb = container_of(kiocb, struct nfs_local_kiocb, kiocb);

	nfs_local_read_done(iocb, ret);
	INIT_WORK(&iocb->work, iocb->aio_complete_work);
	queue_work(nfsiod_workqueue, &iocb->work);
}

// CASE NEGATIVE async-bvec-drop: modelled on fs/nfs/localio.c:nfs_local_call_read() in 6.12
// The kiocb may be async (ki_complete set by nfs_do_local_read() for O_DIRECT): the release
// that frees iocb->bvec runs here only when the result is not -EIOCBQUEUED, otherwise in the
// completion work. Correct code.
static void nfs_local_call_read(struct work_struct *work)
{
	struct nfs_local_kiocb *iocb = container_of(work, struct nfs_local_kiocb, work);
	struct file *filp = iocb->kiocb.ki_filp;
	struct iov_iter iter;
	ssize_t status;

	nfs_local_iter_init(&iter, iocb, READ);

	status = filp->f_op->read_iter(&iocb->kiocb, &iter);

	if (status != -EIOCBQUEUED) {
		nfs_local_read_done(iocb, status);
		nfs_local_pgio_release(iocb);
	}
}

// CASE POSITIVE async-bvec-drop: mutation of fs/nfs/localio.c:nfs_local_call_read() in 6.12
// The -EIOCBQUEUED test is gone: the request is completed and released (iocb->bvec freed by
// nfs_local_pgio_release() -> nfs_local_iocb_free()) right after ->read_iter(), also when an
// O_DIRECT read was only queued.
static void nfs_local_call_read_release(struct work_struct *work)
{
	struct nfs_local_kiocb *iocb = container_of(work, struct nfs_local_kiocb, work);
	struct file *filp = iocb->kiocb.ki_filp;
	struct iov_iter iter;
	ssize_t status;

	nfs_local_iter_init(&iter, iocb, READ);

	status = filp->f_op->read_iter(&iocb->kiocb, &iter);

	nfs_local_read_done(iocb, status);
	nfs_local_pgio_release(iocb);
	// CHECK-MESSAGES: :[[@LINE-1]]:{{[0-9]+}}: warning: {{.*}} [pageref-async-bvec-drop]
}

// helper (not a case), as in localio.c:nfs_do_local_read(): makes the kiocb async for O_DIRECT.
static int nfs_do_local_read(struct nfs_pgio_header *hdr, struct nfsd_file *localio)
{
	struct nfs_local_kiocb *iocb;
	struct file *file = nfsd_file_file(localio);

	if (!file->f_op->read_iter)
		return -EAGAIN;

	iocb = nfs_local_iocb_alloc(hdr, file, GFP_KERNEL);
	if (iocb == NULL)
		return -ENOMEM;
	iocb->localio = localio;

	if (iocb->kiocb.ki_flags & IOCB_DIRECT) {
		iocb->kiocb.ki_complete = nfs_local_read_aio_complete;
		iocb->aio_complete_work = nfs_local_read_aio_complete_work;
	}

	INIT_WORK(&iocb->work, nfs_local_call_read);
	queue_work(nfslocaliod_workqueue, &iocb->work);

	return 0;
}
