/*
 * NAME
 *	fuzz_msg.c -- libFuzzer target for the frame decoder
 *
 * DESCRIPTION
 *	Feeds each input to msg_unpack_frame() as one frame of the supervisor,
 *	the control, the run, the agent and the node protocol (the last is
 *	what a node takes from Redis), with fd passing off and on and no fd,
 *	then once more with an fd (never touched: the codec only hands the
 *	number on).  A frame that decodes must be sane, and each of its
 *	messages, packed again with msg_pack(), must decode to the same
 *	envelope and fields; the whole batch packed again must decode to as
 *	many messages.  Strings with a NUL cannot be packed again (msg_pack
 *	takes C strings) and are only checked in place.  See README.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "msg.h"

#define FAKE_FD		1000	/* passed with the frame, never used */

#define CHECK(c) do {							\
	if (!(c)) {							\
		fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__,	\
		    __LINE__, #c);					\
		abort();						\
	}								\
} while (0)

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static struct msg	 msgs[MSG_PER_FRAME_MAX];
static struct msg	 again[MSG_PER_FRAME_MAX];
static char		 str[MSG_FIELDS_MAX][MSG_FRAME_MAX_BYTES + 1];

/* msg_pack() is variadic: one call per field format of the .def lists. */
static int
repack(msgpack_sbuffer *sb, const struct msg_proto *p, const struct msg *m)
{
	const char	*fmt = p->mp_defs[m->m_type].md_fmt;
	const char	*s[MSG_FIELDS_MAX];
	uint32_t	 k;

	for (k = 0; k < m->m_nfields; k++) {
		s[k] = NULL;
		if (fmt[k] != 's')
			continue;
		if (m->m_f[k].s.len > 0)	/* (NULL when empty) */
			memcpy(str[k], m->m_f[k].s.p, m->m_f[k].s.len);
		str[k][m->m_f[k].s.len] = '\0';
		s[k] = str[k];
	}
#define U(k)	(m->m_f[k].u)
/* bytes: NULs and all */
#define B(k)	(m->m_f[k].s.len ? m->m_f[k].s.p : ""), \
		(size_t)m->m_f[k].s.len
#define PACK(...) msg_pack(sb, p, m->m_type, m->m_gen, m->m_seq, __VA_ARGS__)
	if (strcmp(fmt, "") == 0)
		return msg_pack(sb, p, m->m_type, m->m_gen, m->m_seq);
	if (strcmp(fmt, "u") == 0)
		return PACK(U(0));
	if (strcmp(fmt, "s") == 0)
		return PACK(s[0]);
	if (strcmp(fmt, "b") == 0)	/* bytes: NULs and all */
		return PACK(m->m_f[0].s.len ? m->m_f[0].s.p : "",
		    (size_t)m->m_f[0].s.len);
	if (strcmp(fmt, "uu") == 0)
		return PACK(U(0), U(1));
	if (strcmp(fmt, "us") == 0)
		return PACK(U(0), s[1]);
	if (strcmp(fmt, "uuu") == 0)
		return PACK(U(0), U(1), U(2));
	if (strcmp(fmt, "usu") == 0)
		return PACK(U(0), s[1], U(2));
	if (strcmp(fmt, "usuu") == 0)
		return PACK(U(0), s[1], U(2), U(3));
	if (strcmp(fmt, "uuuu") == 0)
		return PACK(U(0), U(1), U(2), U(3));
	if (strcmp(fmt, "suuub") == 0)
		return PACK(s[0], U(1), U(2), U(3), B(4));
	if (strcmp(fmt, "uus") == 0)
		return PACK(U(0), U(1), s[2]);
	if (strcmp(fmt, "uub") == 0)
		return PACK(U(0), U(1), B(2));
	if (strcmp(fmt, "ss") == 0)
		return PACK(s[0], s[1]);
	if (strcmp(fmt, "uussu") == 0)
		return PACK(U(0), U(1), s[2], s[3], U(4));
	if (strcmp(fmt, "sb") == 0)
		return PACK(s[0], B(1));
	if (strcmp(fmt, "uuusus") == 0)
		return PACK(U(0), U(1), U(2), s[3], U(4), s[5]);
	if (strcmp(fmt, "ussu") == 0)
		return PACK(U(0), s[1], s[2], U(3));
	if (strcmp(fmt, "suuusuuuu") == 0)
		return PACK(s[0], U(1), U(2), U(3), s[4], U(5), U(6), U(7),
		    U(8));
	if (strcmp(fmt, "usbuubs") == 0)
		return PACK(U(0), s[1], B(2), U(3), U(4), B(5), s[6]);
	if (strcmp(fmt, "suussssb") == 0)
		return PACK(s[0], U(1), U(2), s[3], s[4], s[5], s[6], B(7));
	if (strcmp(fmt, "suub") == 0)
		return PACK(s[0], U(1), U(2), B(3));
	if (strcmp(fmt, "uuuuuubbs") == 0)
		return PACK(U(0), U(1), U(2), U(3), U(4), U(5), B(6), B(7),
		    s[8]);
#undef PACK
#undef B
#undef U
	fprintf(stderr, "fuzz_msg: add format \"%s\" (%s) to repack()\n", fmt,
	    msg_name(p, m->m_type));
	abort();
}

static int
has_nul(const struct msg_proto *p, const struct msg *m)
{
	const char	*fmt = p->mp_defs[m->m_type].md_fmt;
	uint32_t	 k;

	for (k = 0; k < m->m_nfields; k++)
		if (fmt[k] == 's' && m->m_f[k].s.len > 0 &&
		    memchr(m->m_f[k].s.p, '\0', m->m_f[k].s.len) != NULL)
			return 1;
	return 0;
}

static void
same(const struct msg_proto *p, const struct msg *a, const struct msg *b)
{
	const char	*fmt = p->mp_defs[a->m_type].md_fmt;
	uint32_t	 k;

	CHECK(a->m_type == b->m_type);
	CHECK(a->m_gen == b->m_gen);
	CHECK(a->m_seq == b->m_seq);
	CHECK(a->m_nfields == b->m_nfields);
	for (k = 0; k < a->m_nfields; k++) {
		switch (fmt[k]) {
		case 's':
		case 'b':
			CHECK(a->m_f[k].s.len == b->m_f[k].s.len);
			CHECK(a->m_f[k].s.len == 0 ||
			    memcmp(a->m_f[k].s.p, b->m_f[k].s.p,
			    a->m_f[k].s.len) == 0);
			break;
		case 'i':
			CHECK(a->m_f[k].i == b->m_f[k].i);
			break;
		default:
			CHECK(a->m_f[k].u == b->m_f[k].u);
			break;
		}
	}
}

/* A decoded frame: sane, and each message survives a second trip. */
static void
check_frame(const struct msg_proto *p, const char *buf, size_t len, int n,
    int fd)
{
	msgpack_sbuffer	 one, all;
	const char	*fmt;
	char		 err[160];
	uint32_t	 k;
	int		 i, n2, whole = 1;

	CHECK(n >= 1 && n <= MSG_PER_FRAME_MAX);
	CHECK(fd == -1 || n == 1);
	msgpack_sbuffer_init(&all);
	for (i = 0; i < n; i++) {
		const struct msg *m = &msgs[i];

		CHECK(m->m_type < p->mp_ndefs);
		fmt = p->mp_defs[m->m_type].md_fmt;
		CHECK(m->m_nfields == strlen(fmt));
		CHECK(m->m_nfields <= MSG_FIELDS_MAX);
		CHECK(m->m_fd == (p->mp_defs[m->m_type].md_fd ? fd : -1));
		CHECK(!p->mp_defs[m->m_type].md_fd || fd != -1);
		for (k = 0; k < m->m_nfields; k++)
			if (fmt[k] == 's' && m->m_f[k].s.len > 0)
				/* (an empty string may come back as NULL) */
				CHECK(m->m_f[k].s.p >= buf && m->m_f[k].s.len <=
				    len - (size_t)(m->m_f[k].s.p - buf));
		if (has_nul(p, m)) {
			whole = 0;
			continue;
		}
		msgpack_sbuffer_init(&one);
		CHECK(repack(&one, p, m) == 0);
		CHECK(one.size <= len);
		n2 = msg_unpack_frame(p, one.data, one.size, fd, fd != -1,
		    again, err, sizeof(err));
		if (n2 != 1)
			fprintf(stderr, "repacked %s: %s\n",
			    msg_name(p, m->m_type), err);
		CHECK(n2 == 1);
		same(p, m, &again[0]);
		msgpack_sbuffer_destroy(&one);
		CHECK(repack(&all, p, m) == 0);
	}
	if (whole) {
		/* canonical encodings are never longer than the input's */
		CHECK(all.size <= len);
		n2 = msg_unpack_frame(p, all.data, all.size, fd, fd != -1,
		    again, err, sizeof(err));
		CHECK(n2 == n);
		for (i = 0; i < n; i++)
			same(p, &msgs[i], &again[i]);
	}
	msgpack_sbuffer_destroy(&all);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct msg_proto *protos[] = {
		&msg_proto_sup, &msg_proto_ctl, &msg_proto_run,
		&msg_proto_agent, &msg_proto_node
	};
	const char	*buf = (const char *)data;
	char		 err[160];
	size_t		 i;
	int		 n, n0;

	for (i = 0; i < sizeof(protos) / sizeof(protos[0]); i++) {
		memset(err, 0, sizeof(err));
		n0 = msg_unpack_frame(protos[i], buf, size, -1, 0, msgs, err,
		    sizeof(err));
		if (n0 == -1)
			CHECK(err[0] != '\0');
		else
			check_frame(protos[i], buf, size, n0, -1);

		/* without an fd, allowing fds changes nothing */
		n = msg_unpack_frame(protos[i], buf, size, -1, 1, msgs, err,
		    sizeof(err));
		CHECK(n == n0);
		if (n != -1)
			check_frame(protos[i], buf, size, n, -1);

		/* with one, only a lone message of an fd type decodes */
		n = msg_unpack_frame(protos[i], buf, size, FAKE_FD, 1, msgs,
		    err, sizeof(err));
		if (n != -1)
			check_frame(protos[i], buf, size, n, FAKE_FD);
		CHECK(msg_unpack_frame(protos[i], buf, size, FAKE_FD, 0, msgs,
		    err, sizeof(err)) == -1);
	}
	return 0;
}
