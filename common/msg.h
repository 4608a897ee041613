/*
 * msg.h -- msgpack messages on internal channels, and the libev channel.
 *
 * A frame is one SOCK_SEQPACKET record holding one or more messages, each a
 * msgpack array [type, generation, sequence, field...] whose fields follow
 * the type's format in the channel's .def list.  Decoding is strict: an
 * unknown type, a wrong field count or type, a field too long, trailing
 * bytes, an fd where none is allowed or a missing fd rejects the frame.
 *
 * fd passing (SCM_RIGHTS): one fd per message, and a message carrying an fd
 * travels alone in its frame; only message types declared with an fd may
 * carry one, and only on channels created with fd passing allowed.  The
 * sender's copy is closed once sent (dup() first to keep one).  A receiver
 * closes any fd it did not take.
 */
#ifndef MCPD_MSG_H
#define MCPD_MSG_H

#include <stddef.h>
#include <stdint.h>

#include <ev.h>
#include <msgpack.h>

#define MSG_FRAME_MAX_BYTES	(64 * 1024)	/* one frame */
#define MSG_FIELDS_MAX		24		/* fields in one message */
#define MSG_PER_FRAME_MAX	256		/* messages in one frame */
#define CHAN_QUEUE_MAX_BYTES	(4 * 1024 * 1024) /* queued to a peer */
#define CHAN_READ_ROUNDS	64		/* frames read per wakeup */

#define MSG(name, fmt, fd, dir)	MSG_##name,
enum msg_sup_type {
#include "msg_sup.def"
	MSG_SUP_COUNT
};
enum msg_ctl_type {
#include "msg_ctl.def"
	MSG_CTL_COUNT
};
enum msg_peer_type {
#include "msg_peer.def"
	MSG_PEER_COUNT
};
enum msg_run_type {
#include "msg_run.def"
	MSG_RUN_COUNT
};
enum msg_agent_type {
#include "msg_agent.def"
	MSG_AGENT_COUNT
};
enum msg_node_type {
#include "msg_node.def"
	MSG_NODE_COUNT
};
#undef MSG

#define CTL_PROTO_VERSION	4

/* the run channel (msg_run.def): what both ends agree on */
#define RUN_INLINE_MAX_BYTES	(48 * 1024)	/* words, output in a frame */
#define RUN_ARGV_MAX_BYTES	(2 * 1024 * 1024) /* a run's words, packed */
#define RUN_TAIL_BYTES		2048		/* of standard error, kept */
#define RUN_MSG_MAX_BYTES	512		/* RUN_DONE's message */

/* the agent channel (msg_agent.def): AGT_INTROSPECTED's verdict */
enum agt_verdict {
	AGT_ACTIVE = 0,		/* the token is good: principal, scopes */
	AGT_INACTIVE = 1,	/* the server says not active (or not ours) */
	AGT_UNAVAILABLE = 2	/* no answer: the server is down, slow, odd */
};
/* AGT_TAKEN's verdict */
enum agt_take {
	AGT_TAKEN_OK = 0,	/* ours now: its record follows */
	AGT_TAKEN_NONE = 1,	/* no such session in the cluster (404) */
	AGT_TAKEN_UNAVAILABLE = 2, /* Redis out of reach: ask again (503) */
	AGT_TAKEN_ELSEWHERE = 3, /* a task running on a live node: its name */
	AGT_TAKEN_RECORD = 4	/* the record: adopt it; its events follow,
				   then AGT_TAKEN_OK without one */
};
/* AGT_EV_PUT, AGT_EV_REC: an event's flags, and a frame's part of it */
#define AGT_EV_FINAL		0x1	/* the last event of its stream */
#define AGT_EV_MORE		0x2	/* the data goes on in the next frame */
#define AGT_EV_CHUNK_BYTES	(48 * 1024)
/*
 * AGT_FWD and the rest, NODE_ASK, NODE_ANSWER: a request's body and an
 * answer's (one frame, through Redis); a principal, a protocol version
 */
#define AGT_FWD_BODY_MAX_BYTES	(48 * 1024)
#define AGT_FWD_PRINCIPAL_MAX_BYTES 800
#define AGT_FWD_VERSION_MAX_BYTES 32
#define AGT_FWD_METHOD_MAX_BYTES 80	/* Mcp-Method, with NUL */
#define AGT_FWD_NAME_MAX_BYTES	1024	/* Mcp-Name (a task id), with NUL */

struct msg_def {
	const char	*md_name;
	const char	*md_fmt;
	int		 md_fd;
	const char	*md_dir;	/* "sender>receiver", the .def's */
};

struct msg_proto {
	const char		*mp_name;
	const struct msg_def	*mp_defs;
	uint32_t		 mp_ndefs;
};

extern const struct msg_proto msg_proto_sup;
extern const struct msg_proto msg_proto_ctl;
extern const struct msg_proto msg_proto_peer;
extern const struct msg_proto msg_proto_run;
extern const struct msg_proto msg_proto_agent;
extern const struct msg_proto msg_proto_node;

union msg_field {
	uint64_t	u;
	int64_t		i;
	struct {
		const char	*p;	/* into the frame; not NUL-terminated */
		uint32_t	 len;
	} s;
};

struct msg {
	uint32_t	 m_type;
	uint32_t	 m_gen;
	uint32_t	 m_seq;
	int		 m_fd;		/* -1: none; the handler owns it */
	uint32_t	 m_nfields;
	union msg_field	 m_f[MSG_FIELDS_MAX];
};

const char	*msg_name(const struct msg_proto *, uint32_t type);
/* the way a message type goes, "sup>child" and the like ("" unknown) */
const char	*msg_dir(const struct msg_proto *, uint32_t type);

/*
 * Codec, usable without a channel (tests, fuzzers).  msg_pack appends one
 * message to buf; fields are passed as uint64_t (u), int64_t (i),
 * const char * (s) and const void *, size_t (b: bytes).  Returns 0, or -1 with errno EMSGSIZE when the frame
 * would pass MSG_FRAME_MAX_BYTES (buf unchanged) or EINVAL for a bad type.
 */
int	msg_pack(msgpack_sbuffer *, const struct msg_proto *, uint32_t type,
	    uint32_t gen, uint32_t seq, ...);
int	msg_vpack(msgpack_sbuffer *, const struct msg_proto *, uint32_t type,
	    uint32_t gen, uint32_t seq, va_list);
/*
 * Decode a whole frame into msgs (at most MSG_PER_FRAME_MAX); fd is the fd
 * that came with the frame or -1.  Returns the number of messages, or -1
 * with a reason in err.  Strings point into buf.
 */
int	msg_unpack_frame(const struct msg_proto *, const char *buf, size_t len,
	    int fd, int allow_fd, struct msg *msgs, char *err, size_t errlen);
/* Copy a string field into a C string; -1 when it does not fit. */
int	msg_strcpy(char *dst, size_t dstlen, const union msg_field *);

struct chan;
typedef void (*chan_msg_cb)(struct chan *, struct msg *, void *);
/* EOF (reason NULL) or a protocol/system error; the channel is stopped. */
typedef void (*chan_err_cb)(struct chan *, const char *reason, void *);

struct chan	*chan_new(struct ev_loop *, int fd, const struct msg_proto *,
		    int allow_fd, chan_msg_cb, chan_err_cb, void *arg,
		    const char *peer);
/*
 * The direction of what this end receives ("sup>child", the .def lists'
 * last column): a message that goes the other way fails the channel like
 * any malformed frame.  NULL (the default): any.
 */
void		 chan_set_accept(struct chan *, const char *dir);
/* Our generation, stamped on what we send; the one we accept (0: any). */
void		 chan_set_gen(struct chan *, uint32_t ours, uint32_t theirs);
/*
 * Queue one message (fields as for msg_pack); a message with fd >= 0 takes
 * ownership of fd.  Batched messages go out at the end of the loop
 * iteration or when the frame is full.  -1 with errno ENOBUFS when the peer
 * has CHAN_QUEUE_MAX_BYTES bytes unread (the caller decides: kill or drop it).
 */
int		 chan_send(struct chan *, uint32_t type, int fd, ...);
int		 chan_flush(struct chan *);
/*
 * Block, outside the loop, until a frame comes (its messages go to the
 * channel's callback as usual) or timeout_ms pass: 1, 0 (nothing yet),
 * -1 (the channel failed; its error callback ran).  For a process that
 * must have an answer before it goes on (a worker adopting its records).
 */
int		 chan_wait(struct chan *, int timeout_ms);
/*
 * Read nothing until told to go on (1, then 0): what comes waits in the
 * socket (a worker's peers, until it has started and adopted its records).
 */
void		 chan_hold(struct chan *, int on);
size_t		 chan_queued(const struct chan *);
/* queued, and in the socket: what the peer has not read yet */
size_t		 chan_unread(const struct chan *);
/*
 * What may wait queued to the peer before chan_send() says ENOBUFS, when
 * more than CHAN_QUEUE_MAX_BYTES (a worker's records to a new agent)
 */
void		 chan_set_queue_max(struct chan *, size_t bytes);
const char	*chan_peer(const struct chan *);
int		 chan_fd(const struct chan *);
/* the channel is dead, or a write to it found its peer gone */
int		 chan_broken(const struct chan *);
void		 chan_free(struct chan **);

#endif
