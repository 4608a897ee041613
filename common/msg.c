/*
 * msg.c -- strict msgpack codec for internal and control channels.
 *
 * The message lists live in msg_*.def; this file turns them into tables and
 * packs and unpacks messages against them.  Nothing here blocks or touches
 * sockets: chan.c moves frames.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "msg.h"

#define MSG(name, fmt, fd, dir)	{ #name, fmt, fd, dir },
static const struct msg_def sup_defs[] = {
#include "msg_sup.def"
};
static const struct msg_def ctl_defs[] = {
#include "msg_ctl.def"
};
static const struct msg_def peer_defs[] = {
#include "msg_peer.def"
};
static const struct msg_def run_defs[] = {
#include "msg_run.def"
};
static const struct msg_def agent_defs[] = {
#include "msg_agent.def"
};
static const struct msg_def node_defs[] = {
#include "msg_node.def"
};
#undef MSG

const struct msg_proto msg_proto_sup = {
	"sup", sup_defs, sizeof(sup_defs) / sizeof(sup_defs[0])
};
const struct msg_proto msg_proto_ctl = {
	"ctl", ctl_defs, sizeof(ctl_defs) / sizeof(ctl_defs[0])
};
const struct msg_proto msg_proto_peer = {
	"peer", peer_defs, sizeof(peer_defs) / sizeof(peer_defs[0])
};
const struct msg_proto msg_proto_run = {
	"run", run_defs, sizeof(run_defs) / sizeof(run_defs[0])
};
const struct msg_proto msg_proto_agent = {
	"agent", agent_defs, sizeof(agent_defs) / sizeof(agent_defs[0])
};
const struct msg_proto msg_proto_node = {
	"node", node_defs, sizeof(node_defs) / sizeof(node_defs[0])
};

const char *
msg_name(const struct msg_proto *p, uint32_t type)
{
	if (type >= p->mp_ndefs)
		return "unknown";
	return p->mp_defs[type].md_name;
}

const char *
msg_dir(const struct msg_proto *p, uint32_t type)
{
	if (type >= p->mp_ndefs)
		return "";
	return p->mp_defs[type].md_dir;
}

int
msg_vpack(msgpack_sbuffer *sb, const struct msg_proto *p, uint32_t type,
    uint32_t gen, uint32_t seq, va_list ap)
{
	msgpack_packer	 pk;
	const char	*f, *s;
	size_t		 before = sb->size, n;

	if (type >= p->mp_ndefs) {
		errno = EINVAL;
		return -1;
	}
	f = p->mp_defs[type].md_fmt;
	msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
	if (msgpack_pack_array(&pk, 3 + strlen(f)) != 0 ||
	    msgpack_pack_uint32(&pk, type) != 0 ||
	    msgpack_pack_uint32(&pk, gen) != 0 ||
	    msgpack_pack_uint32(&pk, seq) != 0)
		goto nomem;
	for (; *f != '\0'; f++) {
		switch (*f) {
		case 'u':
			if (msgpack_pack_uint64(&pk, va_arg(ap, uint64_t)) != 0)
				goto nomem;
			break;
		case 'i':
			if (msgpack_pack_int64(&pk, va_arg(ap, int64_t)) != 0)
				goto nomem;
			break;
		case 's':
			s = va_arg(ap, const char *);
			n = s != NULL ? strlen(s) : 0;
			if (n > MSG_FRAME_MAX_BYTES) {
				sb->size = before;
				errno = EMSGSIZE;
				return -1;
			}
			if (msgpack_pack_str(&pk, n) != 0 ||
			    msgpack_pack_str_body(&pk, s, n) != 0)
				goto nomem;
			break;
		case 'b':
			s = va_arg(ap, const char *);
			n = va_arg(ap, size_t);
			if (n > MSG_FRAME_MAX_BYTES) {
				sb->size = before;
				errno = EMSGSIZE;
				return -1;
			}
			if (msgpack_pack_bin(&pk, n) != 0 ||
			    msgpack_pack_bin_body(&pk, s, n) != 0)
				goto nomem;
			break;
		default:
			sb->size = before;
			errno = EINVAL;
			return -1;
		}
	}
	if (sb->size > MSG_FRAME_MAX_BYTES) {
		sb->size = before;
		errno = EMSGSIZE;
		return -1;
	}
	return 0;
nomem:
	sb->size = before;
	errno = ENOMEM;
	return -1;
}

int
msg_pack(msgpack_sbuffer *sb, const struct msg_proto *p, uint32_t type,
    uint32_t gen, uint32_t seq, ...)
{
	va_list	ap;
	int	rv;

	va_start(ap, seq);
	rv = msg_vpack(sb, p, type, gen, seq, ap);
	va_end(ap);
	return rv;
}

static int
get_u32(const msgpack_object *o, uint32_t *v)
{
	if (o->type != MSGPACK_OBJECT_POSITIVE_INTEGER ||
	    o->via.u64 > UINT32_MAX)
		return -1;
	*v = (uint32_t)o->via.u64;
	return 0;
}

static int
decode_one(const struct msg_proto *p, const msgpack_object *o, struct msg *m,
    char *err, size_t errlen)
{
	const msgpack_object	*a;
	const char		*f;
	uint32_t		 i, n;

	if (o->type != MSGPACK_OBJECT_ARRAY || o->via.array.size < 3) {
		snprintf(err, errlen, "message is not an array of >= 3");
		return -1;
	}
	a = o->via.array.ptr;
	if (get_u32(&a[0], &m->m_type) == -1 || m->m_type >= p->mp_ndefs) {
		snprintf(err, errlen, "unknown message type");
		return -1;
	}
	if (get_u32(&a[1], &m->m_gen) == -1 ||
	    get_u32(&a[2], &m->m_seq) == -1) {
		snprintf(err, errlen, "%s: bad envelope",
		    msg_name(p, m->m_type));
		return -1;
	}
	f = p->mp_defs[m->m_type].md_fmt;
	n = strlen(f);
	if (o->via.array.size != 3 + n) {
		snprintf(err, errlen, "%s: %u fields, want %u",
		    msg_name(p, m->m_type), o->via.array.size - 3, n);
		return -1;
	}
	m->m_nfields = n;
	for (i = 0; i < n; i++) {
		const msgpack_object *v = &a[3 + i];

		switch (f[i]) {
		case 'u':
			if (v->type != MSGPACK_OBJECT_POSITIVE_INTEGER)
				goto bad;
			m->m_f[i].u = v->via.u64;
			break;
		case 'i':
			if (v->type == MSGPACK_OBJECT_POSITIVE_INTEGER) {
				if (v->via.u64 > INT64_MAX)
					goto bad;
				m->m_f[i].i = (int64_t)v->via.u64;
			} else if (v->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
				m->m_f[i].i = v->via.i64;
			else
				goto bad;
			break;
		case 's':
			if (v->type != MSGPACK_OBJECT_STR)
				goto bad;
			m->m_f[i].s.p = v->via.str.ptr;
			m->m_f[i].s.len = v->via.str.size;
			break;
		case 'b':
			if (v->type != MSGPACK_OBJECT_BIN)
				goto bad;
			m->m_f[i].s.p = v->via.bin.ptr;
			m->m_f[i].s.len = v->via.bin.size;
			break;
		}
	}
	return 0;
bad:
	snprintf(err, errlen, "%s: field %u is not of type '%c'",
	    msg_name(p, m->m_type), i + 1, f[i]);
	return -1;
}

/*
 * msgpack-c allocates a container's elements as soon as it reads the
 * header; refuse headers that claim more elements than bytes remain, so a
 * frame costs at most a few times its size.  Other errors are left to
 * msgpack_unpack_next().
 */
static int
claims_fit(const unsigned char *p, size_t len, char *err, size_t errlen)
{
	size_t		 off = 0, need = 0, skip, cnt, at, w;
	uint64_t	 n;
	unsigned char	 b;

	while (off < len) {
		at = off;
		b = p[off++];
		if (need > 0)
			need--;
		skip = cnt = w = 0;
		if (b <= 0x7f || b >= 0xe0 || b == 0xc0 || b == 0xc2 ||
		    b == 0xc3)
			;
		else if (b >= 0x80 && b <= 0x8f)
			cnt = 2 * (b & 0x0f);
		else if (b >= 0x90 && b <= 0x9f)
			cnt = b & 0x0f;
		else if (b >= 0xa0 && b <= 0xbf)
			skip = b & 0x1f;
		else switch (b) {
		case 0xc4: case 0xd9: w = 1; break;
		case 0xc5: case 0xda: w = 2; break;
		case 0xc6: case 0xdb: w = 4; break;
		case 0xc7: w = 1; skip = 1; break;
		case 0xc8: w = 2; skip = 1; break;
		case 0xc9: w = 4; skip = 1; break;
		case 0xca: skip = 4; break;
		case 0xcb: skip = 8; break;
		case 0xcc: case 0xd0: skip = 1; break;
		case 0xcd: case 0xd1: skip = 2; break;
		case 0xce: case 0xd2: skip = 4; break;
		case 0xcf: case 0xd3: skip = 8; break;
		case 0xd4: skip = 2; break;
		case 0xd5: skip = 3; break;
		case 0xd6: skip = 5; break;
		case 0xd7: skip = 9; break;
		case 0xd8: skip = 17; break;
		case 0xdc: case 0xdd: case 0xde: case 0xdf:
			w = b & 1 ? 4 : 2;
			break;
		default:
			return 0;		/* 0xc1: malformed */
		}
		if (w > 0) {
			if (len - off < w)
				return 0;	/* truncated */
			for (n = 0; w > 0; w--)
				n = n << 8 | p[off++];
			if (b >= 0xdc)
				cnt = b >= 0xde ? 2 * n : n;
			else
				skip += n;
		}
		need += cnt;
		if (need > len - off) {
			snprintf(err, errlen, "truncated message at byte %zu: a "
			    "container claims more than the frame holds", at);
			return -1;
		}
		if (skip > len - off)
			return 0;		/* truncated */
		off += skip;
	}
	return 0;
}

int
msg_unpack_frame(const struct msg_proto *p, const char *buf, size_t len,
    int fd, int allow_fd, struct msg *msgs, char *err, size_t errlen)
{
	msgpack_unpacked	 up;
	msgpack_unpack_return	 ret;
	size_t			 off = 0;
	int			 n = 0;

	if (len == 0) {
		snprintf(err, errlen, "empty frame");
		return -1;
	}
	if (len > MSG_FRAME_MAX_BYTES) {
		snprintf(err, errlen, "frame of %zu bytes exceeds %d", len,
		    MSG_FRAME_MAX_BYTES);
		return -1;
	}
	if (fd != -1 && !allow_fd) {
		snprintf(err, errlen, "fd passed on a channel without fds");
		return -1;
	}
	if (claims_fit((const unsigned char *)buf, len, err, errlen) == -1)
		return -1;
	msgpack_unpacked_init(&up);
	while (off < len) {
		if (n == MSG_PER_FRAME_MAX) {
			snprintf(err, errlen, "more than %d messages in a frame",
			    MSG_PER_FRAME_MAX);
			goto fail;
		}
		ret = msgpack_unpack_next(&up, buf, len, &off);
		if (ret != MSGPACK_UNPACK_SUCCESS) {
			snprintf(err, errlen, "%s at byte %zu",
			    ret == MSGPACK_UNPACK_CONTINUE ?
			    "truncated message" : "malformed msgpack", off);
			goto fail;
		}
		if (decode_one(p, &up.data, &msgs[n], err, errlen) == -1)
			goto fail;
		msgs[n].m_fd = -1;
		n++;
	}
	msgpack_unpacked_destroy(&up);
	if (fd != -1) {
		if (n != 1 || !p->mp_defs[msgs[0].m_type].md_fd) {
			snprintf(err, errlen, "fd passed with %s",
			    n != 1 ? "a batch" : msg_name(p, msgs[0].m_type));
			return -1;
		}
		msgs[0].m_fd = fd;
	} else {
		int i;

		for (i = 0; i < n; i++) {
			if (p->mp_defs[msgs[i].m_type].md_fd) {
				snprintf(err, errlen, "%s without its fd",
				    msg_name(p, msgs[i].m_type));
				return -1;
			}
		}
	}
	return n;
fail:
	msgpack_unpacked_destroy(&up);
	return -1;
}

int
msg_strcpy(char *dst, size_t dstlen, const union msg_field *f)
{
	if (f->s.len >= dstlen ||
	    (f->s.len > 0 && memchr(f->s.p, '\0', f->s.len) != NULL))
		return -1;
	if (f->s.len > 0)
		memcpy(dst, f->s.p, f->s.len);
	dst[f->s.len] = '\0';
	return 0;
}
