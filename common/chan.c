/*
 * chan.c -- a msgpack channel on a SOCK_SEQPACKET socket, driven by libev.
 *
 * Outgoing messages are packed into a batch frame that is sent at the end of
 * the loop iteration (ev_prepare) or as soon as the next message would not
 * fit.  A frame the socket cannot take now waits in a queue bounded by
 * CHAN_QUEUE_MAX_BYTES.  Incoming frames are decoded strictly, checked for
 * sequence and generation, and handed to the owner one message at a time.
 */
#include "config.h"

#include <sys/ioctl.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include <linux/sockios.h>

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "msg.h"

struct frame {
	TAILQ_ENTRY(frame)	 f_entry;
	size_t			 f_len;
	int			 f_fd;
	char			 f_data[];
};

struct chan {
	struct ev_loop		*ch_loop;
	int			 ch_fd;
	ev_io			 ch_rd;
	ev_io			 ch_wr;
	ev_prepare		 ch_flush;
	const struct msg_proto	*ch_proto;
	int			 ch_allow_fd;
	uint32_t		 ch_gen_out;
	uint32_t		 ch_gen_in;	/* 0: any */
	const char		*ch_accept;	/* direction taken, NULL: any */
	uint32_t		 ch_seq_out;
	uint32_t		 ch_seq_in;
	msgpack_sbuffer		 ch_batch;
	int			 ch_batch_n;	/* messages in ch_batch */
	TAILQ_HEAD(, frame)	 ch_queue;
	size_t			 ch_queued;
	size_t			 ch_queue_max;	/* CHAN_QUEUE_MAX_BYTES, or more */
	chan_msg_cb		 ch_msg;
	chan_err_cb		 ch_err;
	void			*ch_arg;
	int			 ch_dead;
	int			 ch_broken;	/* a write found the peer gone */
	int			 ch_busy;	/* in a callback: free later */
	int			 ch_freeme;
	char			 ch_peer[48];
};

/* one receive buffer per process; frames are handled before the next read */
static char	rxbuf[MSG_FRAME_MAX_BYTES + 1];

static void	chan_read_cb(struct ev_loop *, ev_io *, int);
static void	chan_write_cb(struct ev_loop *, ev_io *, int);
static void	chan_prepare_cb(struct ev_loop *, ev_prepare *, int);

struct chan *
chan_new(struct ev_loop *loop, int fd, const struct msg_proto *proto,
    int allow_fd, chan_msg_cb msg, chan_err_cb err, void *arg,
    const char *peer)
{
	struct chan *ch;

	if ((ch = calloc(1, sizeof(*ch))) == NULL)
		return NULL;
	ch->ch_loop = loop;
	ch->ch_fd = fd;
	ch->ch_proto = proto;
	ch->ch_allow_fd = allow_fd;
	ch->ch_queue_max = CHAN_QUEUE_MAX_BYTES;
	ch->ch_msg = msg;
	ch->ch_err = err;
	ch->ch_arg = arg;
	ch->ch_seq_out = 1;
	ch->ch_seq_in = 1;
	snprintf(ch->ch_peer, sizeof(ch->ch_peer), "%s", peer);
	msgpack_sbuffer_init(&ch->ch_batch);
	TAILQ_INIT(&ch->ch_queue);
	ev_io_init(&ch->ch_rd, chan_read_cb, fd, EV_READ);
	ev_io_init(&ch->ch_wr, chan_write_cb, fd, EV_WRITE);
	ev_prepare_init(&ch->ch_flush, chan_prepare_cb);
	ch->ch_rd.data = ch->ch_wr.data = ch->ch_flush.data = ch;
	ev_io_start(loop, &ch->ch_rd);
	return ch;
}

void
chan_set_gen(struct chan *ch, uint32_t ours, uint32_t theirs)
{
	ch->ch_gen_out = ours;
	ch->ch_gen_in = theirs;
}

void
chan_set_accept(struct chan *ch, const char *dir)
{
	ch->ch_accept = dir;
}

const char *
chan_peer(const struct chan *ch)
{
	return ch->ch_peer;
}

int
chan_broken(const struct chan *ch)
{
	return ch->ch_dead || ch->ch_broken;
}

int
chan_fd(const struct chan *ch)
{
	return ch->ch_fd;
}

void
chan_hold(struct chan *ch, int on)
{
	if (ch->ch_dead)
		return;
	if (on)
		ev_io_stop(ch->ch_loop, &ch->ch_rd);
	else
		ev_io_start(ch->ch_loop, &ch->ch_rd);
}

void
chan_set_queue_max(struct chan *ch, size_t bytes)
{
	ch->ch_queue_max = bytes > CHAN_QUEUE_MAX_BYTES ? bytes :
	    CHAN_QUEUE_MAX_BYTES;
}

size_t
chan_queued(const struct chan *ch)
{
	return ch->ch_queued + ch->ch_batch.size;
}

size_t
chan_unread(const struct chan *ch)
{
	int n = 0;

	/* SIOCOUTQ: what the socket holds that the peer has not read */
	if (ioctl(ch->ch_fd, SIOCOUTQ, &n) == -1 || n < 0)
		n = 0;
	return chan_queued(ch) + (size_t)n;
}

static void
chan_stop(struct chan *ch)
{
	ev_io_stop(ch->ch_loop, &ch->ch_rd);
	ev_io_stop(ch->ch_loop, &ch->ch_wr);
	ev_prepare_stop(ch->ch_loop, &ch->ch_flush);
	ch->ch_dead = 1;
}

static void
chan_fail(struct chan *ch, const char *reason)
{
	if (ch->ch_dead)
		return;
	chan_stop(ch);
	ch->ch_busy++;
	ch->ch_err(ch, reason, ch->ch_arg);
	ch->ch_busy--;
	if (ch->ch_freeme && ch->ch_busy == 0)
		chan_free(&ch);
}

/*
 * A system call failed: a peer that went away is the end of the channel
 * (reason NULL), whether a read or a write finds out first (a worker
 * killed while a message to it waits to be flushed); anything else is
 * the error it is.
 */
static void
chan_fail_errno(struct chan *ch)
{
	if (errno == EPIPE || errno == ECONNRESET)
		chan_fail(ch, NULL);
	else
		chan_fail(ch, strerror(errno));
}

/* Send one frame now; 1 sent, 0 would block, -1 error. */
static int
send_frame(struct chan *ch, const char *buf, size_t len, int fd)
{
	struct msghdr	 mh;
	struct iovec	 iov;
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(sizeof(int))];
	} cm;
	struct cmsghdr	*c;

	memset(&mh, 0, sizeof(mh));
	iov.iov_base = (void *)buf;
	iov.iov_len = len;
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	if (fd != -1) {
		memset(&cm, 0, sizeof(cm));
		mh.msg_control = cm.buf;
		mh.msg_controllen = sizeof(cm.buf);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof(int));
	}
	for (;;) {
		if (sendmsg(ch->ch_fd, &mh, MSG_NOSIGNAL) != -1)
			return 1;
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS)
			return 0;
		return -1;
	}
}

static int
enqueue(struct chan *ch, const char *buf, size_t len, int fd)
{
	struct frame *f;

	if ((f = malloc(sizeof(*f) + len)) == NULL)
		return -1;
	memcpy(f->f_data, buf, len);
	f->f_len = len;
	f->f_fd = fd;
	TAILQ_INSERT_TAIL(&ch->ch_queue, f, f_entry);
	ch->ch_queued += len;
	ev_io_start(ch->ch_loop, &ch->ch_wr);
	return 0;
}

/* Send or queue one frame, keeping order; owns fd. */
static int
put_frame(struct chan *ch, const char *buf, size_t len, int fd)
{
	int rv;

	if (TAILQ_EMPTY(&ch->ch_queue)) {
		rv = send_frame(ch, buf, len, fd);
		if (rv == 1) {
			if (fd != -1)
				close(fd);
			return 0;
		}
		if (rv == -1) {
			/*
			 * The peer is gone (EPIPE) and our read has not said
			 * so yet: chan_broken() tells at once, the read's end
			 * of the channel comes in the loop as usual.
			 */
			if (errno == EPIPE || errno == ECONNRESET)
				ch->ch_broken = 1;
			if (fd != -1)
				close(fd);
			return -1;
		}
	}
	if (enqueue(ch, buf, len, fd) == -1) {
		if (fd != -1)
			close(fd);
		return -1;
	}
	return 0;
}

int
chan_flush(struct chan *ch)
{
	int rv = 0;

	if (ch->ch_dead)
		return -1;
	ev_prepare_stop(ch->ch_loop, &ch->ch_flush);
	if (ch->ch_batch.size > 0) {
		rv = put_frame(ch, ch->ch_batch.data, ch->ch_batch.size, -1);
		msgpack_sbuffer_clear(&ch->ch_batch);
		ch->ch_batch_n = 0;
	}
	return rv;
}

int
chan_send(struct chan *ch, uint32_t type, int fd, ...)
{
	msgpack_sbuffer	 one;
	va_list		 ap;
	size_t		 before;
	int		 rv;

	if (ch->ch_dead) {
		if (fd != -1)
			close(fd);
		errno = EPIPE;
		return -1;
	}
	if (chan_queued(ch) > ch->ch_queue_max) {
		if (fd != -1)
			close(fd);
		errno = ENOBUFS;
		return -1;
	}
	if (fd != -1) {
		/* a message with an fd travels alone, after what is batched */
		if (chan_flush(ch) == -1) {
			close(fd);
			return -1;
		}
		msgpack_sbuffer_init(&one);
		va_start(ap, fd);
		rv = msg_vpack(&one, ch->ch_proto, type, ch->ch_gen_out,
		    ch->ch_seq_out, ap);
		va_end(ap);
		if (rv == 0) {
			rv = put_frame(ch, one.data, one.size, fd);
			if (rv == 0)
				ch->ch_seq_out++;
		} else
			close(fd);
		msgpack_sbuffer_destroy(&one);
		return rv;
	}
	if (ch->ch_batch_n == MSG_PER_FRAME_MAX && chan_flush(ch) == -1)
		return -1;
	before = ch->ch_batch.size;
	va_start(ap, fd);
	rv = msg_vpack(&ch->ch_batch, ch->ch_proto, type, ch->ch_gen_out,
	    ch->ch_seq_out, ap);
	va_end(ap);
	if (rv == -1 && errno == EMSGSIZE && before > 0) {
		/* the batch is full: send it and start a new one */
		if (chan_flush(ch) == -1)
			return -1;
		va_start(ap, fd);
		rv = msg_vpack(&ch->ch_batch, ch->ch_proto, type,
		    ch->ch_gen_out, ch->ch_seq_out, ap);
		va_end(ap);
	}
	if (rv == -1)
		return -1;
	ch->ch_seq_out++;
	ch->ch_batch_n++;
	ev_prepare_start(ch->ch_loop, &ch->ch_flush);
	return 0;
}

static void
chan_prepare_cb(struct ev_loop *loop, ev_prepare *w, int revents)
{
	struct chan *ch = w->data;

	if (chan_flush(ch) == -1)
		chan_fail_errno(ch);
}

static void
chan_write_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct chan	*ch = w->data;
	struct frame	*f;
	int		 rv;

	while ((f = TAILQ_FIRST(&ch->ch_queue)) != NULL) {
		rv = send_frame(ch, f->f_data, f->f_len, f->f_fd);
		if (rv == 0)
			return;
		if (rv == -1) {
			chan_fail_errno(ch);
			return;
		}
		TAILQ_REMOVE(&ch->ch_queue, f, f_entry);
		ch->ch_queued -= f->f_len;
		if (f->f_fd != -1)
			close(f->f_fd);
		free(f);
	}
	ev_io_stop(loop, &ch->ch_wr);
}

/* Read one frame; 1 got one, 0 nothing now, -1 EOF or error (reported). */
static int
read_frame(struct chan *ch)
{
	struct msg	 msgs[MSG_PER_FRAME_MAX];
	struct msghdr	 mh;
	struct iovec	 iov;
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(sizeof(int) * 4)];
	} cm;
	struct cmsghdr	*c;
	char		 err[160];
	ssize_t		 n;
	int		 fd = -1, extra = 0, nmsg, i;

	memset(&mh, 0, sizeof(mh));
	iov.iov_base = rxbuf;
	iov.iov_len = sizeof(rxbuf);
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = cm.buf;
	mh.msg_controllen = sizeof(cm.buf);
	n = recvmsg(ch->ch_fd, &mh, MSG_CMSG_CLOEXEC);
	if (n == -1) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
			return 0;
		chan_fail_errno(ch);
		return -1;
	}
	for (c = CMSG_FIRSTHDR(&mh); c != NULL; c = CMSG_NXTHDR(&mh, c)) {
		int *fds, nfds, k;

		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		fds = (int *)CMSG_DATA(c);
		nfds = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (k = 0; k < nfds; k++) {
			if (fd == -1)
				fd = fds[k];
			else {
				close(fds[k]);
				extra = 1;
			}
		}
	}
	if (n == 0 && fd == -1) {
		chan_fail(ch, NULL);
		return -1;
	}
	if (extra || (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC))) {
		if (fd != -1)
			close(fd);
		chan_fail(ch, extra ? "more than one fd in a frame" :
		    "oversize frame");
		return -1;
	}
	nmsg = msg_unpack_frame(ch->ch_proto, rxbuf, n, fd, ch->ch_allow_fd,
	    msgs, err, sizeof(err));
	if (nmsg == -1) {
		if (fd != -1)
			close(fd);
		chan_fail(ch, err);
		return -1;
	}
	for (i = 0; i < nmsg; i++) {
		if (msgs[i].m_seq != ch->ch_seq_in)
			snprintf(err, sizeof(err), "%s: sequence %u, want %u",
			    msg_name(ch->ch_proto, msgs[i].m_type),
			    msgs[i].m_seq, ch->ch_seq_in);
		else if (ch->ch_accept != NULL && strcmp(msg_dir(ch->ch_proto,
		    msgs[i].m_type), ch->ch_accept) != 0)
			snprintf(err, sizeof(err), "%s goes %s, not %s",
			    msg_name(ch->ch_proto, msgs[i].m_type),
			    msg_dir(ch->ch_proto, msgs[i].m_type),
			    ch->ch_accept);
		else
			err[0] = '\0';
		if (err[0] != '\0') {
			for (i = 0; i < nmsg; i++)
				if (msgs[i].m_fd != -1)
					close(msgs[i].m_fd);
			chan_fail(ch, err);
			return -1;
		}
		ch->ch_seq_in++;
	}
	ch->ch_busy++;
	for (i = 0; i < nmsg && !ch->ch_dead; i++) {
		if (ch->ch_gen_in != 0 && msgs[i].m_gen != ch->ch_gen_in) {
			log_debug("%s: dropped %s of retired generation %u",
			    ch->ch_peer, msg_name(ch->ch_proto,
			    msgs[i].m_type), msgs[i].m_gen);
			if (msgs[i].m_fd != -1)
				close(msgs[i].m_fd);
			continue;
		}
		ch->ch_msg(ch, &msgs[i], ch->ch_arg);
	}
	for (; i < nmsg; i++)
		if (msgs[i].m_fd != -1)
			close(msgs[i].m_fd);
	ch->ch_busy--;
	if (ch->ch_freeme && ch->ch_busy == 0) {
		chan_free(&ch);
		return -1;
	}
	return ch->ch_dead ? -1 : 1;
}

int
chan_wait(struct chan *ch, int timeout_ms)
{
	struct pollfd	pfd;
	int		n, r;

	if (ch->ch_dead || chan_flush(ch) == -1)
		return -1;
	/*
	 * A failure calls the owner's error callback, which may free the
	 * channel: held (ch_busy) until we are done with it
	 */
	ch->ch_busy++;
	/* what the flush left queued: out before we wait for an answer */
	while (!TAILQ_EMPTY(&ch->ch_queue) && !ch->ch_dead) {
		pfd.fd = ch->ch_fd;
		pfd.events = POLLOUT;
		if (poll(&pfd, 1, timeout_ms) <= 0) {
			r = 0;
			goto out;
		}
		chan_write_cb(ch->ch_loop, &ch->ch_wr, EV_WRITE);
	}
	if (ch->ch_dead) {
		r = -1;
		goto out;
	}
	pfd.fd = ch->ch_fd;
	pfd.events = POLLIN;
	if ((n = poll(&pfd, 1, timeout_ms)) <= 0)
		r = n == -1 && errno != EINTR ? -1 : 0;
	else
		r = read_frame(ch) == 1 ? 1 : 0;
	if (ch->ch_dead)
		r = -1;
 out:
	ch->ch_busy--;
	if (ch->ch_freeme && ch->ch_busy == 0)
		chan_free(&ch);
	return r;
}

static void
chan_read_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct chan	*ch = w->data;
	int		 i;

	for (i = 0; i < CHAN_READ_ROUNDS; i++)
		if (read_frame(ch) != 1)
			return;
}

void
chan_free(struct chan **chp)
{
	struct chan	*ch = *chp;
	struct frame	*f;

	if (ch == NULL)
		return;
	*chp = NULL;
	if (!ch->ch_dead)
		chan_stop(ch);
	if (ch->ch_busy) {
		ch->ch_freeme = 1;
		return;
	}
	while ((f = TAILQ_FIRST(&ch->ch_queue)) != NULL) {
		TAILQ_REMOVE(&ch->ch_queue, f, f_entry);
		if (f->f_fd != -1)
			close(f->f_fd);
		free(f);
	}
	msgpack_sbuffer_destroy(&ch->ch_batch);
	close(ch->ch_fd);
	free(ch);
}
