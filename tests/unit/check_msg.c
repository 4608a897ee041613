/*
 * NAME
 *	check_msg.c -- unit tests of the msgpack codec and the libev channel
 *
 * DESCRIPTION
 *	The codec (common/msg.c) is checked without sockets: every message
 *	type of both protocols round trips with boundary values, and every
 *	way a frame can be malformed is rejected with a reason.  The channel
 *	(common/chan.c) is checked over real SOCK_SEQPACKET socketpairs in
 *	one process: ordering, batching, fd passing, generations, sequence
 *	numbers, EOF, malformed frames and the queue bound.  A test protocol
 *	adds the 'i' field type, which no .def list uses yet.
 */
#include "config.h"

#include <sys/resource.h>
#include <sys/socket.h>

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "msg.h"
#include "util.h"

#define NVARIANTS		5	/* value sets per message type */
#define STR_MAX			300	/* longest string of a variant */
#define RECMAX			4096	/* messages a peer records */
#define RUN_TIMEOUT_SECS	20.	/* generous for valgrind */
#define TEST_TIMEOUT_SECS	120
#define AS_SLACK		(64UL * 1024 * 1024)

/* A protocol for the field types and fd rules the .def lists lack. */
enum { T_UIS, T_I, T_FD, T_BAD, T_COUNT };
static const struct msg_def test_defs[] = {
	{ "T_UIS",	"uis",	0, "a>b" },
	{ "T_I",	"i",	0, "a>b" },
	{ "T_FD",	"u",	1, "a>b" },
	{ "T_BAD",	"x",	0, "b>a" }
};
static const struct msg_proto test_proto = { "test", test_defs, T_COUNT };

/* Field values to pack: numbers in f, strings as C strings in s. */
struct tval {
	union msg_field	 f[MSG_FIELDS_MAX];
	const char	*s[MSG_FIELDS_MAX];
};

static char		 sbuf[MSG_FIELDS_MAX][STR_MAX + 1];
static struct msg	 rx[MSG_PER_FRAME_MAX];
static msgpack_sbuffer	 sb;
static msgpack_packer	 pk;

/*
 * msg_pack() is variadic, so each field format needs its own call.  A new
 * format in a .def list lands here first.
 */
static int
pack_fields(msgpack_sbuffer *b, const struct msg_proto *p, uint32_t type,
    uint32_t gen, uint32_t seq, const struct tval *v)
{
	const char	*fmt = p->mp_defs[type].md_fmt;

#define U(k)	(v->f[k].u)
#define I(k)	(v->f[k].i)
#define S(k)	(v->s[k])
	if (strcmp(fmt, "") == 0)
		return msg_pack(b, p, type, gen, seq);
	if (strcmp(fmt, "u") == 0)
		return msg_pack(b, p, type, gen, seq, U(0));
	if (strcmp(fmt, "i") == 0)
		return msg_pack(b, p, type, gen, seq, I(0));
	if (strcmp(fmt, "s") == 0)
		return msg_pack(b, p, type, gen, seq, S(0));
	if (strcmp(fmt, "b") == 0)
		return msg_pack(b, p, type, gen, seq, S(0), strlen(S(0)));
	if (strcmp(fmt, "sb") == 0)
		return msg_pack(b, p, type, gen, seq, S(0), S(1), strlen(S(1)));
	if (strcmp(fmt, "ss") == 0)
		return msg_pack(b, p, type, gen, seq, S(0), S(1));
	if (strcmp(fmt, "uub") == 0)
		return msg_pack(b, p, type, gen, seq, U(0), U(1), S(2),
		    strlen(S(2)));
	if (strcmp(fmt, "uu") == 0)
		return msg_pack(b, p, type, gen, seq, U(0), U(1));
	if (strcmp(fmt, "us") == 0)
		return msg_pack(b, p, type, gen, seq, U(0), S(1));
	if (strcmp(fmt, "uuu") == 0)
		return msg_pack(b, p, type, gen, seq, U(0), U(1), U(2));
	if (strcmp(fmt, "usu") == 0)
		return msg_pack(b, p, type, gen, seq, U(0), S(1), U(2));
	if (strcmp(fmt, "usuu") == 0)
		return msg_pack(b, p, type, gen, seq, U(0), S(1), U(2), U(3));
	if (strcmp(fmt, "uuuu") == 0)
		return msg_pack(b, p, type, gen, seq, U(0), U(1), U(2), U(3));
	if (strcmp(fmt, "uis") == 0)
		return msg_pack(b, p, type, gen, seq, U(0), I(1), S(2));
	if (strcmp(fmt, "uuusus") == 0)
		return msg_pack(b, p, type, gen, seq, U(0), U(1), U(2), S(3),
		    U(4), S(5));
	if (strcmp(fmt, "ussu") == 0)
		return msg_pack(b, p, type, gen, seq, U(0), S(1), S(2), U(3));
	if (strcmp(fmt, "suuusuuuu") == 0)
		return msg_pack(b, p, type, gen, seq, S(0), U(1), U(2), U(3),
		    S(4), U(5), U(6), U(7), U(8));
	/* msg_agent.def, msg_node.def */
	if (strcmp(fmt, "uus") == 0)
		return msg_pack(b, p, type, gen, seq, U(0), U(1), S(2));
	if (strcmp(fmt, "uussu") == 0)
		return msg_pack(b, p, type, gen, seq, U(0), U(1), S(2), S(3),
		    U(4));
	if (strcmp(fmt, "suuub") == 0)
		return msg_pack(b, p, type, gen, seq, S(0), U(1), U(2), U(3),
		    S(4), strlen(S(4)));
	if (strcmp(fmt, "suussssb") == 0)
		return msg_pack(b, p, type, gen, seq, S(0), U(1), U(2), S(3),
		    S(4), S(5), S(6), S(7), strlen(S(7)));
	if (strcmp(fmt, "suub") == 0)
		return msg_pack(b, p, type, gen, seq, S(0), U(1), U(2), S(3),
		    strlen(S(3)));
	/* msg_run.def */
	if (strcmp(fmt, "usbuubs") == 0)
		return msg_pack(b, p, type, gen, seq, U(0), S(1), S(2),
		    strlen(S(2)), U(3), U(4), S(5), strlen(S(5)), S(6));
	if (strcmp(fmt, "uuuuuubbs") == 0)
		return msg_pack(b, p, type, gen, seq, U(0), U(1), U(2), U(3),
		    U(4), U(5), S(6), strlen(S(6)), S(7), strlen(S(7)), S(8));
#undef U
#undef I
#undef S
	ck_abort_msg("pack_fields: add format \"%s\" (%s)", fmt,
	    msg_name(p, type));
	return -1;
}

/* Boundary values: msgpack changes encoding at each of them. */
static void
fill(struct tval *v, const char *fmt, int variant)
{
	size_t	len = 0;
	int	k;

	memset(v, 0, sizeof(*v));
	for (k = 0; fmt[k] != '\0'; k++) {
		switch (variant) {
		case 0:
			v->f[k].u = UINT64_MAX;
			len = 0;
			break;
		case 1:
			v->f[k].u = 0;
			len = 31;			/* fixstr */
			break;
		case 2:
			v->f[k].u = (uint64_t)UINT32_MAX + k;
			len = 32;			/* str8 */
			break;
		case 3:
			v->f[k].u = 127 + k;		/* fixint, uint8 */
			len = 255 + k;			/* str8, str16 */
			break;
		default:
			v->f[k].u = 0x10000ULL * (k + 1);
			len = 9;
			break;
		}
		if (fmt[k] == 'i') {
			static const int64_t iv[NVARIANTS] = {
				INT64_MIN, INT64_MAX, -1, -32, INT32_MIN
			};
			v->f[k].i = iv[variant] - (variant >= 2 ? k : 0);
		}
		if (fmt[k] == 's' || fmt[k] == 'b') {
			memset(sbuf[k], 'A' + k, len);
			sbuf[k][len] = '\0';
			if (variant == 4)
				memcpy(sbuf[k], "caf\xc3\xa9 \xff\x01", len);
			v->s[k] = sbuf[k];
		}
	}
}

static void
check_fields(const struct msg *m, const struct msg_proto *p, uint32_t type,
    uint32_t gen, uint32_t seq, const struct tval *v)
{
	const char	*fmt = p->mp_defs[type].md_fmt;
	uint32_t	 k;

	ck_assert_uint_eq(m->m_type, type);
	ck_assert_uint_eq(m->m_gen, gen);
	ck_assert_uint_eq(m->m_seq, seq);
	ck_assert_uint_eq(m->m_nfields, strlen(fmt));
	for (k = 0; k < m->m_nfields; k++) {
		switch (fmt[k]) {
		case 'u':
			ck_assert_msg(m->m_f[k].u == v->f[k].u,
			    "%s field %u: %ju != %ju", msg_name(p, type), k + 1,
			    (uintmax_t)m->m_f[k].u, (uintmax_t)v->f[k].u);
			break;
		case 'i':
			ck_assert_msg(m->m_f[k].i == v->f[k].i,
			    "%s field %u: %jd != %jd", msg_name(p, type), k + 1,
			    (intmax_t)m->m_f[k].i, (intmax_t)v->f[k].i);
			break;
		case 's':
		case 'b':
			ck_assert_uint_eq(m->m_f[k].s.len, strlen(v->s[k]));
			/* an empty string may come back as NULL */
			ck_assert(m->m_f[k].s.len == 0 ||
			    memcmp(m->m_f[k].s.p, v->s[k],
			    m->m_f[k].s.len) == 0);
			break;
		default:
			ck_abort_msg("bad format");
		}
	}
}

static void
codec_setup(void)
{
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
}

static void
codec_teardown(void)
{
	msgpack_sbuffer_destroy(&sb);
}

/* The envelope of a hand-made message with nfields fields to follow. */
static void
env(uint32_t nfields, uint64_t type, uint64_t gen, uint64_t seq)
{
	msgpack_pack_array(&pk, 3 + nfields);
	msgpack_pack_uint64(&pk, type);
	msgpack_pack_uint64(&pk, gen);
	msgpack_pack_uint64(&pk, seq);
}

static void
put_str(const char *s)
{
	msgpack_pack_str(&pk, strlen(s));
	msgpack_pack_str_body(&pk, s, strlen(s));
}

/* The frame in sb must be rejected with a reason containing want. */
static void
expect_reject(const struct msg_proto *p, int fd, int allow_fd,
    const char *want)
{
	char	err[160];
	int	n;

	strcpy(err, "(unset)");
	n = msg_unpack_frame(p, sb.data, sb.size, fd, allow_fd, rx, err,
	    sizeof(err));
	ck_assert_msg(n == -1, "accepted %d message(s), want \"%s\"", n, want);
	ck_assert_msg(strstr(err, want) != NULL, "reason \"%s\", want \"%s\"",
	    err, want);
	msgpack_sbuffer_clear(&sb);
}

/* The frame in sb must decode to n messages. */
static void
expect_accept(const struct msg_proto *p, int fd, int allow_fd, int want)
{
	char	err[160];
	int	n;

	err[0] = '\0';
	n = msg_unpack_frame(p, sb.data, sb.size, fd, allow_fd, rx, err,
	    sizeof(err));
	ck_assert_msg(n == want, "got %d (%s), want %d", n, err, want);
	msgpack_sbuffer_clear(&sb);
}

START_TEST(test_name)
{
	ck_assert_str_eq(msg_name(&msg_proto_sup, MSG_SUP_QUIT), "SUP_QUIT");
	ck_assert_str_eq(msg_name(&msg_proto_sup, MSG_CHILD_READY),
	    "CHILD_READY");
	ck_assert_str_eq(msg_dir(&msg_proto_sup, MSG_CHILD_READY),
	    "child>sup");
	ck_assert_str_eq(msg_dir(&msg_proto_ctl, MSG_CTL_RESULT), "sup>ctl");
	ck_assert_str_eq(msg_dir(&msg_proto_ctl, UINT32_MAX), "");
	ck_assert_str_eq(msg_name(&msg_proto_ctl, MSG_CTL_RESULT),
	    "CTL_RESULT");
	ck_assert_str_eq(msg_name(&msg_proto_sup, MSG_SUP_COUNT), "unknown");
	ck_assert_str_eq(msg_name(&msg_proto_ctl, UINT32_MAX), "unknown");
	ck_assert_uint_eq(msg_proto_sup.mp_ndefs, MSG_SUP_COUNT);
	ck_assert_uint_eq(msg_proto_ctl.mp_ndefs, MSG_CTL_COUNT);
	ck_assert_uint_eq(msg_proto_run.mp_ndefs, MSG_RUN_COUNT);
	ck_assert_str_eq(msg_dir(&msg_proto_run, MSG_RUN_START),
	    "worker>runner");
	ck_assert_str_eq(msg_dir(&msg_proto_run, MSG_RUN_DONE),
	    "runner>worker");
}
END_TEST

/* Every type of every protocol, alone in a frame, with boundary values. */
START_TEST(test_roundtrip_types)
{
	static const struct msg_proto *protos[] = {
		&msg_proto_sup, &msg_proto_ctl, &msg_proto_run,
		&msg_proto_agent, &msg_proto_node, &test_proto
	};
	static const uint32_t gens[NVARIANTS] = {
		UINT32_MAX, 0, 1, 255, 65536
	};
	static const uint32_t seqs[NVARIANTS] = {
		0, UINT32_MAX, 256, 65535, 1
	};
	const struct msg_proto	*p;
	struct tval		 v;
	char			 err[160];
	uint32_t		 type, ntypes = 0;
	size_t			 i;
	int			 var, n, fd;

	for (i = 0; i < sizeof(protos) / sizeof(protos[0]); i++) {
		p = protos[i];
		for (type = 0; type < p->mp_ndefs; type++) {
			if (p == &test_proto && type == T_BAD)
				continue;
			ntypes++;
			for (var = 0; var < NVARIANTS; var++) {
				fill(&v, p->mp_defs[type].md_fmt, var);
				ck_assert_int_eq(pack_fields(&sb, p, type,
				    gens[var], seqs[var], &v), 0);
				fd = p->mp_defs[type].md_fd ? 42 : -1;
				n = msg_unpack_frame(p, sb.data, sb.size, fd,
				    fd != -1, rx, err, sizeof(err));
				ck_assert_msg(n == 1, "%s variant %d: %s",
				    msg_name(p, type), var, err);
				check_fields(&rx[0], p, type, gens[var],
				    seqs[var], &v);
				ck_assert_int_eq(rx[0].m_fd, fd);
				msgpack_sbuffer_clear(&sb);
			}
		}
	}
	ck_assert_uint_eq(ntypes, MSG_SUP_COUNT + MSG_CTL_COUNT +
	    MSG_RUN_COUNT + MSG_AGENT_COUNT + MSG_NODE_COUNT + T_COUNT - 1);
}
END_TEST

/* MSG_PER_FRAME_MAX messages of all fd-less types in one frame. */
START_TEST(test_roundtrip_batch)
{
	const struct msg_proto	*p = _i == 0 ? &msg_proto_sup :
				    &msg_proto_ctl;
	struct tval		 v[MSG_PER_FRAME_MAX];
	uint32_t		 types[MSG_PER_FRAME_MAX], type = 0;
	char			 err[160];
	int			 i, n;

	for (i = 0; i < MSG_PER_FRAME_MAX; i++) {
		do
			type = (type + 1) % p->mp_ndefs;
		while (p->mp_defs[type].md_fd);
		types[i] = type;
		/* variants 0 and 2 keep strings short enough for one frame */
		fill(&v[i], p->mp_defs[type].md_fmt, (i % 2) * 2);
		ck_assert_int_eq(pack_fields(&sb, p, type, 9, i + 1, &v[i]),
		    0);
		/* the strings live in sbuf: check each one now */
		n = msg_unpack_frame(p, sb.data, sb.size, -1, 0, rx, err,
		    sizeof(err));
		ck_assert_msg(n == i + 1, "%d: %s", i, err);
		check_fields(&rx[i], p, type, 9, i + 1, &v[i]);
	}
	ck_assert_uint_le(sb.size, MSG_FRAME_MAX_BYTES);
	n = msg_unpack_frame(p, sb.data, sb.size, -1, 1, rx, err, sizeof(err));
	ck_assert_int_eq(n, MSG_PER_FRAME_MAX);
	for (i = 0; i < n; i++) {
		ck_assert_uint_eq(rx[i].m_type, types[i]);
		ck_assert_uint_eq(rx[i].m_seq, i + 1);
		ck_assert_int_eq(rx[i].m_fd, -1);
	}
	/* one more is one too many */
	ck_assert_int_eq(pack_fields(&sb, p, types[0], 9, 0, &v[0]), 0);
	expect_reject(p, -1, 0, "more than 256 messages");
}
END_TEST

START_TEST(test_pack_emsgsize)
{
	char		*big, *copy;
	size_t		 before, h0, len;
	int		 n = 0, rv;

	big = malloc(MSG_FRAME_MAX_BYTES + 2);
	ck_assert_ptr_nonnull(big);
	memset(big, 'x', MSG_FRAME_MAX_BYTES + 1);
	big[MSG_FRAME_MAX_BYTES + 1] = '\0';

	/* one string longer than a frame: buf unchanged */
	ck_assert_int_eq(msg_pack(&sb, &msg_proto_ctl, MSG_CTL_STATUS, 0, 1,
	    (uint64_t)CTL_PROTO_VERSION), 0);
	before = sb.size;
	copy = malloc(before);
	memcpy(copy, sb.data, before);
	errno = 0;
	ck_assert_int_eq(msg_pack(&sb, &msg_proto_ctl, MSG_CTL_RESULT, 0, 2,
	    (uint64_t)0, big), -1);
	ck_assert_int_eq(errno, EMSGSIZE);
	ck_assert_uint_eq(sb.size, before);
	ck_assert(memcmp(sb.data, copy, before) == 0);
	free(copy);

	/* fill a frame with 1000-byte messages until the next does not fit */
	big[1000] = '\0';
	for (;;) {
		before = sb.size;
		copy = malloc(before);
		memcpy(copy, sb.data, before);
		errno = 0;
		rv = msg_pack(&sb, &msg_proto_ctl, MSG_CTL_RESULT, 0, n + 2,
		    (uint64_t)n, big);
		if (rv == -1)
			break;
		free(copy);
		n++;
		ck_assert_int_lt(n, 1000);
	}
	ck_assert_int_eq(errno, EMSGSIZE);
	ck_assert_uint_eq(sb.size, before);
	ck_assert(memcmp(sb.data, copy, before) == 0);
	free(copy);
	ck_assert_uint_le(sb.size, MSG_FRAME_MAX_BYTES);
	ck_assert_uint_gt(sb.size + 1020, MSG_FRAME_MAX_BYTES);
	expect_accept(&msg_proto_ctl, -1, 0, n + 1);

	/* exactly MSG_FRAME_MAX_BYTES fits, one byte more does not */
	big[1000] = 'x';
	ck_assert_int_eq(msg_pack(&sb, &msg_proto_ctl, MSG_CTL_RESULT, 0, 1,
	    (uint64_t)0, ""), 0);
	h0 = sb.size - 1 + 3;		/* fixstr header -> str16 header */
	msgpack_sbuffer_clear(&sb);
	len = MSG_FRAME_MAX_BYTES - h0;
	ck_assert_uint_gt(len, 255);
	big[len] = '\0';
	ck_assert_int_eq(msg_pack(&sb, &msg_proto_ctl, MSG_CTL_RESULT, 0, 1,
	    (uint64_t)0, big), 0);
	ck_assert_uint_eq(sb.size, MSG_FRAME_MAX_BYTES);
	expect_accept(&msg_proto_ctl, -1, 0, 1);
	big[len] = 'x';
	big[len + 1] = '\0';
	errno = 0;
	ck_assert_int_eq(msg_pack(&sb, &msg_proto_ctl, MSG_CTL_RESULT, 0, 1,
	    (uint64_t)0, big), -1);
	ck_assert_int_eq(errno, EMSGSIZE);
	ck_assert_uint_eq(sb.size, 0);
	free(big);
}
END_TEST

START_TEST(test_pack_einval)
{
	char	*copy;
	size_t	 before;

	ck_assert_int_eq(msg_pack(&sb, &msg_proto_sup, MSG_SUP_START, 1, 1),
	    0);
	before = sb.size;
	copy = malloc(before);
	memcpy(copy, sb.data, before);
	errno = 0;
	ck_assert_int_eq(msg_pack(&sb, &msg_proto_sup, MSG_SUP_COUNT, 1, 2),
	    -1);
	ck_assert_int_eq(errno, EINVAL);
	errno = 0;
	ck_assert_int_eq(msg_pack(&sb, &msg_proto_ctl, UINT32_MAX, 1, 2), -1);
	ck_assert_int_eq(errno, EINVAL);
	/* a format character the codec does not know */
	errno = 0;
	ck_assert_int_eq(msg_pack(&sb, &test_proto, T_BAD, 1, 2, (uint64_t)1),
	    -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_uint_eq(sb.size, before);
	ck_assert(memcmp(sb.data, copy, before) == 0);
	free(copy);
	msgpack_sbuffer_clear(&sb);
	/* a NULL string packs as "" */
	ck_assert_int_eq(msg_pack(&sb, &msg_proto_ctl, MSG_CTL_RESULT, 1, 2,
	    (uint64_t)1, (const char *)NULL), 0);
	expect_accept(&msg_proto_ctl, -1, 0, 1);
	ck_assert_uint_eq(rx[0].m_f[1].s.len, 0);
}
END_TEST

START_TEST(test_reject_type)
{
	env(0, MSG_SUP_COUNT, 0, 1);
	expect_reject(&msg_proto_sup, -1, 1, "unknown message type");
	env(1, MSG_CTL_COUNT, 0, 1);
	msgpack_pack_uint64(&pk, 1);
	expect_reject(&msg_proto_ctl, -1, 0, "unknown message type");
	env(0, (uint64_t)UINT32_MAX + MSG_SUP_START + 1, 0, 1);
	expect_reject(&msg_proto_sup, -1, 1, "unknown message type");
	msgpack_pack_array(&pk, 3);
	msgpack_pack_int64(&pk, -1);
	msgpack_pack_uint64(&pk, 0);
	msgpack_pack_uint64(&pk, 1);
	expect_reject(&msg_proto_sup, -1, 1, "unknown message type");
	msgpack_pack_array(&pk, 3);
	put_str("SUP_START");
	msgpack_pack_uint64(&pk, 0);
	msgpack_pack_uint64(&pk, 1);
	expect_reject(&msg_proto_sup, -1, 1, "unknown message type");
	msgpack_pack_array(&pk, 3);
	msgpack_pack_nil(&pk);
	msgpack_pack_uint64(&pk, 0);
	msgpack_pack_uint64(&pk, 1);
	expect_reject(&msg_proto_sup, -1, 1, "unknown message type");
}
END_TEST

START_TEST(test_reject_count)
{
	env(0, MSG_SUP_QUIT, 0, 1);
	expect_reject(&msg_proto_sup, -1, 1, "SUP_QUIT: 0 fields, want 1");
	env(2, MSG_SUP_QUIT, 0, 1);
	msgpack_pack_uint64(&pk, 1);
	msgpack_pack_uint64(&pk, 2);
	expect_reject(&msg_proto_sup, -1, 1, "SUP_QUIT: 2 fields, want 1");
	env(1, MSG_SUP_START, 0, 1);
	msgpack_pack_uint64(&pk, 1);
	expect_reject(&msg_proto_sup, -1, 1, "SUP_START: 1 fields, want 0");
	env(8, MSG_CTL_PROC, 0, 1);
	put_str("worker");
	for (int k = 0; k < 7; k++)
		msgpack_pack_uint64(&pk, k);
	expect_reject(&msg_proto_ctl, -1, 0, "CTL_PROC: 8 fields, want 9");
	/* shorter than an envelope */
	msgpack_pack_array(&pk, 2);
	msgpack_pack_uint64(&pk, MSG_SUP_START);
	msgpack_pack_uint64(&pk, 0);
	expect_reject(&msg_proto_sup, -1, 1, "not an array");
	msgpack_pack_array(&pk, 0);
	expect_reject(&msg_proto_sup, -1, 1, "not an array");
}
END_TEST

START_TEST(test_reject_field_type)
{
	static const char *const uwant = "SUP_QUIT: field 1 is not of type 'u'";

	env(1, MSG_SUP_QUIT, 0, 1);
	put_str("5");
	expect_reject(&msg_proto_sup, -1, 1, uwant);
	env(1, MSG_SUP_QUIT, 0, 1);
	msgpack_pack_int64(&pk, -1);
	expect_reject(&msg_proto_sup, -1, 1, uwant);
	env(1, MSG_SUP_QUIT, 0, 1);
	msgpack_pack_nil(&pk);
	expect_reject(&msg_proto_sup, -1, 1, uwant);
	env(1, MSG_SUP_QUIT, 0, 1);
	msgpack_pack_true(&pk);
	expect_reject(&msg_proto_sup, -1, 1, uwant);
	env(1, MSG_SUP_QUIT, 0, 1);
	msgpack_pack_double(&pk, 5.0);
	expect_reject(&msg_proto_sup, -1, 1, uwant);
	env(1, MSG_SUP_QUIT, 0, 1);
	msgpack_pack_array(&pk, 1);
	msgpack_pack_uint64(&pk, 5);
	expect_reject(&msg_proto_sup, -1, 1, uwant);
	env(1, MSG_SUP_QUIT, 0, 1);
	msgpack_pack_map(&pk, 1);
	msgpack_pack_uint64(&pk, 5);
	msgpack_pack_uint64(&pk, 5);
	expect_reject(&msg_proto_sup, -1, 1, uwant);
	env(3, MSG_CHILD_READY, 0, 1);
	msgpack_pack_uint64(&pk, 1);
	msgpack_pack_uint64(&pk, 2);
	msgpack_pack_int64(&pk, -3);
	expect_reject(&msg_proto_sup, -1, 1,
	    "CHILD_READY: field 3 is not of type 'u'");
	/* a number or bin where a string is expected */
	env(2, MSG_CTL_RESULT, 0, 1);
	msgpack_pack_uint64(&pk, 0);
	msgpack_pack_uint64(&pk, 7);
	expect_reject(&msg_proto_ctl, -1, 0,
	    "CTL_RESULT: field 2 is not of type 's'");
	env(2, MSG_CTL_RESULT, 0, 1);
	msgpack_pack_uint64(&pk, 0);
	msgpack_pack_bin(&pk, 2);
	msgpack_pack_bin_body(&pk, "ok", 2);
	expect_reject(&msg_proto_ctl, -1, 0,
	    "CTL_RESULT: field 2 is not of type 's'");
	/* 'i': the int64 range, no more */
	env(1, T_I, 0, 1);
	msgpack_pack_uint64(&pk, (uint64_t)INT64_MAX + 1);
	expect_reject(&test_proto, -1, 0, "T_I: field 1 is not of type 'i'");
	env(1, T_I, 0, 1);
	msgpack_pack_uint64(&pk, UINT64_MAX);
	expect_reject(&test_proto, -1, 0, "T_I: field 1 is not of type 'i'");
	env(1, T_I, 0, 1);
	put_str("-1");
	expect_reject(&test_proto, -1, 0, "T_I: field 1 is not of type 'i'");
	env(1, T_I, 0, 1);
	msgpack_pack_uint64(&pk, INT64_MAX);
	expect_accept(&test_proto, -1, 0, 1);
	ck_assert(rx[0].m_f[0].i == INT64_MAX);
	env(1, T_I, 0, 1);
	msgpack_pack_int64(&pk, INT64_MIN);
	expect_accept(&test_proto, -1, 0, 1);
	ck_assert(rx[0].m_f[0].i == INT64_MIN);
	/* a non-negative number in a signed encoding is still a 'u' */
	env(1, MSG_SUP_QUIT, 0, 1);
	msgpack_pack_int8(&pk, 5);
	expect_accept(&msg_proto_sup, -1, 0, 1);
	ck_assert_uint_eq(rx[0].m_f[0].u, 5);
}
END_TEST

START_TEST(test_reject_envelope)
{
	env(0, MSG_SUP_START, (uint64_t)UINT32_MAX + 1, 1);
	expect_reject(&msg_proto_sup, -1, 1, "SUP_START: bad envelope");
	env(0, MSG_SUP_START, 0, (uint64_t)UINT32_MAX + 1);
	expect_reject(&msg_proto_sup, -1, 1, "SUP_START: bad envelope");
	msgpack_pack_array(&pk, 3);
	msgpack_pack_uint64(&pk, MSG_SUP_START);
	msgpack_pack_int64(&pk, -1);
	msgpack_pack_uint64(&pk, 1);
	expect_reject(&msg_proto_sup, -1, 1, "SUP_START: bad envelope");
	msgpack_pack_array(&pk, 3);
	msgpack_pack_uint64(&pk, MSG_SUP_START);
	msgpack_pack_uint64(&pk, 0);
	put_str("1");
	expect_reject(&msg_proto_sup, -1, 1, "SUP_START: bad envelope");
	msgpack_pack_array(&pk, 3);
	msgpack_pack_uint64(&pk, MSG_SUP_START);
	msgpack_pack_uint64(&pk, 0);
	msgpack_pack_nil(&pk);
	expect_reject(&msg_proto_sup, -1, 1, "SUP_START: bad envelope");
	env(0, MSG_SUP_START, UINT32_MAX, UINT32_MAX);
	expect_accept(&msg_proto_sup, -1, 1, 1);
}
END_TEST

START_TEST(test_reject_not_array)
{
	msgpack_pack_uint64(&pk, MSG_SUP_START);
	expect_reject(&msg_proto_sup, -1, 1, "not an array");
	put_str("SUP_START");
	expect_reject(&msg_proto_sup, -1, 1, "not an array");
	msgpack_pack_nil(&pk);
	expect_reject(&msg_proto_sup, -1, 1, "not an array");
	msgpack_pack_map(&pk, 1);
	msgpack_pack_uint64(&pk, 0);
	msgpack_pack_uint64(&pk, 0);
	expect_reject(&msg_proto_sup, -1, 1, "not an array");
	/* a good message, then a bad one: the whole frame goes */
	env(0, MSG_SUP_START, 0, 1);
	msgpack_pack_uint64(&pk, 3);
	expect_reject(&msg_proto_sup, -1, 1, "not an array");
}
END_TEST

START_TEST(test_reject_truncated)
{
	char	*frame;
	size_t	 len, cut;

	env(6, MSG_CTL_DAEMON, 7, 1);
	msgpack_pack_uint64(&pk, 1234);
	msgpack_pack_uint64(&pk, 7);
	msgpack_pack_uint64(&pk, UINT64_MAX);
	put_str("/etc/mcpd.conf");
	msgpack_pack_uint64(&pk, 4);
	put_str("running");
	len = sb.size;
	frame = malloc(len);
	memcpy(frame, sb.data, len);
	msgpack_sbuffer_clear(&sb);
	for (cut = 1; cut < len; cut++) {
		msgpack_sbuffer_write(&sb, frame, cut);
		expect_reject(&msg_proto_ctl, -1, 0, "truncated message");
	}
	/* a whole message, then part of the next */
	env(1, MSG_CTL_STATUS, 0, 1);
	msgpack_pack_uint64(&pk, 1);
	msgpack_sbuffer_write(&sb, frame, 2);
	expect_reject(&msg_proto_ctl, -1, 0, "truncated message");
	/* a whole message, then a lone array header */
	env(1, MSG_CTL_STATUS, 0, 1);
	msgpack_pack_uint64(&pk, 1);
	msgpack_sbuffer_write(&sb, "\x94", 1);
	expect_reject(&msg_proto_ctl, -1, 0, "truncated message");
	free(frame);
}
END_TEST

START_TEST(test_reject_garbage)
{
	msgpack_sbuffer_write(&sb, "\xc1", 1);		/* never used */
	expect_reject(&msg_proto_sup, -1, 1, "malformed msgpack");
	msgpack_sbuffer_write(&sb, "\xc1\x93\x00\x00\x01", 5);
	expect_reject(&msg_proto_sup, -1, 1, "malformed msgpack");
	env(0, MSG_SUP_START, 0, 1);
	msgpack_sbuffer_write(&sb, "\xc1", 1);
	expect_reject(&msg_proto_sup, -1, 1, "malformed msgpack");
	msgpack_sbuffer_write(&sb, "GET / HTTP/1.0\r\n\r\n", 18);
	expect_reject(&msg_proto_ctl, -1, 0, "not an array");
}
END_TEST

/* Pseudo-random frames: never a crash, and any accepted frame is sane. */
START_TEST(test_reject_random)
{
	const struct msg_proto	*p;
	unsigned char		 buf[64];
	uint32_t		 x = 2463534242U;
	char			 err[160];
	int			 round, i, n, k, rejected = 0;

	for (round = 0; round < 20000; round++) {
		p = round % 2 ? &msg_proto_sup : &msg_proto_ctl;
		for (i = 0; i < (int)sizeof(buf); i++) {
			x ^= x << 13;
			x ^= x >> 17;
			x ^= x << 5;
			buf[i] = x & 0xff;
		}
		/* start most frames like a message to get past byte 0 */
		if (round % 4 != 0)
			buf[0] = 0x93 + round % 10;
		err[0] = '\0';
		n = msg_unpack_frame(p, (char *)buf, 1 + round % sizeof(buf),
		    -1, 0, rx, err, sizeof(err));
		if (n == -1) {
			ck_assert_msg(err[0] != '\0', "no reason");
			rejected++;
			continue;
		}
		ck_assert_int_ge(n, 1);
		for (k = 0; k < n; k++) {
			ck_assert_uint_lt(rx[k].m_type, p->mp_ndefs);
			ck_assert(!p->mp_defs[rx[k].m_type].md_fd);
			ck_assert_uint_eq(rx[k].m_nfields,
			    strlen(p->mp_defs[rx[k].m_type].md_fmt));
		}
	}
	ck_assert_int_gt(rejected, 0);
}
END_TEST

START_TEST(test_reject_size)
{
	char	*buf, err[160];
	int	 i;

	strcpy(err, "(unset)");
	ck_assert_int_eq(msg_unpack_frame(&msg_proto_sup, "", 0, -1, 1, rx,
	    err, sizeof(err)), -1);
	ck_assert_str_eq(err, "empty frame");

	/* a frame of valid messages, one byte too long */
	buf = malloc(MSG_FRAME_MAX_BYTES + 1);
	for (i = 0; i < MSG_FRAME_MAX_BYTES + 1; i++)
		buf[i] = 0;
	ck_assert_int_eq(msg_unpack_frame(&msg_proto_sup, buf,
	    MSG_FRAME_MAX_BYTES + 1, -1, 1, rx, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "exceeds") != NULL, "%s", err);
	free(buf);

	for (i = 0; i < MSG_PER_FRAME_MAX; i++)
		env(0, MSG_SUP_START, 0, i + 1);
	expect_accept(&msg_proto_sup, -1, 0, MSG_PER_FRAME_MAX);
	for (i = 0; i < MSG_PER_FRAME_MAX + 1; i++)
		env(0, MSG_SUP_START, 0, i + 1);
	expect_reject(&msg_proto_sup, -1, 0, "more than 256 messages");
}
END_TEST

START_TEST(test_reject_fd)
{
	/* fd with a type that carries none */
	env(0, MSG_SUP_START, 0, 1);
	expect_reject(&msg_proto_sup, 5, 1, "fd passed with SUP_START");
	env(1, MSG_CTL_STATUS, 0, 1);
	msgpack_pack_uint64(&pk, 1);
	expect_reject(&msg_proto_ctl, 5, 1, "fd passed with CTL_STATUS");
	/* fd on a channel without fd passing */
	env(0, MSG_SUP_CONF, 0, 1);
	expect_reject(&msg_proto_sup, 5, 0,
	    "fd passed on a channel without fds");
	env(1, MSG_CTL_STATUS, 0, 1);
	msgpack_pack_uint64(&pk, 1);
	expect_reject(&msg_proto_ctl, 5, 0,
	    "fd passed on a channel without fds");
	/* an fd type without its fd, alone or in a batch */
	env(0, MSG_SUP_CONF, 0, 1);
	expect_reject(&msg_proto_sup, -1, 1, "SUP_CONF without its fd");
	env(4, MSG_SUP_LISTENER, 0, 1);
	msgpack_pack_uint64(&pk, 1);
	put_str("127.0.0.1");
	msgpack_pack_uint64(&pk, 80);
	msgpack_pack_uint64(&pk, 0);
	expect_reject(&msg_proto_sup, -1, 1, "SUP_LISTENER without its fd");
	env(0, MSG_SUP_START, 0, 1);
	env(2, MSG_SUP_SCOREBOARD, 0, 2);
	msgpack_pack_uint64(&pk, 1);
	msgpack_pack_uint64(&pk, 0);
	expect_reject(&msg_proto_sup, -1, 1, "SUP_SCOREBOARD without its fd");
	/* an fd with a batch of 2 */
	env(0, MSG_SUP_CONF, 0, 1);
	env(0, MSG_SUP_START, 0, 2);
	expect_reject(&msg_proto_sup, 5, 1, "fd passed with a batch");
	env(0, MSG_SUP_CONF, 0, 1);
	env(0, MSG_SUP_CONF, 0, 2);
	expect_reject(&msg_proto_sup, 5, 1, "fd passed with a batch");
	/* and the good case */
	env(0, MSG_SUP_CONF, 0, 1);
	expect_accept(&msg_proto_sup, 5, 1, 1);
	ck_assert_int_eq(rx[0].m_fd, 5);
	env(1, T_FD, 0, 1);
	msgpack_pack_uint64(&pk, 9);
	expect_accept(&test_proto, 0, 1, 1);
	ck_assert_int_eq(rx[0].m_fd, 0);
}
END_TEST

/*
 * msgpack-c allocates an array's elements when it reads the header, so a
 * 9-byte frame claiming 16M elements costs 384 MiB before it is found
 * truncated.  The decoder must not need memory in proportion to what a
 * frame claims: with the address space limited it must give the same
 * answer as without.
 */
START_TEST(test_unpack_bounded_memory)
{
	/* [SUP_QUIT, 0, 1, array32 of 0x01000000 elements...] */
	static const char frame[] = "\x94\x05\x00\x01\xdd\x01\x00\x00\x00";
	struct rlimit	 rl, lim;
	char		 err[160], lerr[160];
	unsigned long	 pages;
	FILE		*f;
	const char	*pre = getenv("LD_PRELOAD");

	ck_assert_uint_eq(sizeof(frame) - 1, 9);
	ck_assert_int_eq(msg_unpack_frame(&msg_proto_sup, frame, 9, -1, 0, rx,
	    err, sizeof(err)), -1);
	/* valgrind's own heap does not live with a small RLIMIT_AS */
	if (pre != NULL && strstr(pre, "vgpreload") != NULL)
		return;
	f = fopen("/proc/self/statm", "r");
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(fscanf(f, "%lu", &pages), 1);
	fclose(f);
	ck_assert_int_eq(getrlimit(RLIMIT_AS, &rl), 0);
	lim = rl;
	lim.rlim_cur = pages * sysconf(_SC_PAGESIZE) + AS_SLACK;
	if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < lim.rlim_cur)
		lim.rlim_cur = rl.rlim_cur;
	ck_assert_int_eq(setrlimit(RLIMIT_AS, &lim), 0);
	strcpy(lerr, "(accepted)");
	(void)msg_unpack_frame(&msg_proto_sup, frame, 9, -1, 0, rx, lerr,
	    sizeof(lerr));
	ck_assert_int_eq(setrlimit(RLIMIT_AS, &rl), 0);
	ck_assert_msg(strcmp(err, lerr) == 0,
	    "with %lu MiB more address space: \"%s\", without a limit: \"%s\"",
	    AS_SLACK >> 20, lerr, err);
}
END_TEST

START_TEST(test_strcpy)
{
	union msg_field	f;
	char		dst[8];

	f.s.p = "abcdefg";
	f.s.len = 7;
	ck_assert_int_eq(msg_strcpy(dst, sizeof(dst), &f), 0);
	ck_assert_str_eq(dst, "abcdefg");
	f.s.p = "abcdefgh";
	f.s.len = 8;
	ck_assert_int_eq(msg_strcpy(dst, sizeof(dst), &f), -1);
	f.s.p = "";
	f.s.len = 0;
	ck_assert_int_eq(msg_strcpy(dst, 1, &f), 0);
	ck_assert_str_eq(dst, "");
	ck_assert_int_eq(msg_strcpy(dst, 0, &f), -1);
	f.s.p = "ab\0cd";
	f.s.len = 5;
	ck_assert_int_eq(msg_strcpy(dst, sizeof(dst), &f), -1);
	f.s.p = "abcd\0";
	f.s.len = 5;
	ck_assert_int_eq(msg_strcpy(dst, sizeof(dst), &f), -1);
	/* not NUL-terminated in the frame: only len bytes are read */
	f.s.p = "xyzzy";
	f.s.len = 3;
	ck_assert_int_eq(msg_strcpy(dst, sizeof(dst), &f), 0);
	ck_assert_str_eq(dst, "xyz");
}
END_TEST

/* ---- the channel ---- */

struct rec {
	uint32_t	 type;
	uint32_t	 gen;
	uint32_t	 seq;
	int		 fd;
	uint64_t	 u[MSG_FIELDS_MAX];
	uint32_t	 slen[MSG_FIELDS_MAX];
	uint32_t	 ssum[MSG_FIELDS_MAX];
	char		 s[MSG_FIELDS_MAX][16];	/* truncated copies */
};

struct peer {
	const struct msg_proto	*proto;
	struct chan		*ch;
	int			 nmsg;
	int			 nfd;
	uint32_t		 last_seq;
	int			 seq_gaps;
	int			 nerr;
	int			 eof;
	char			 err[160];
	int			 free_after;	/* chan_free at that message */
	int			 free_on_err;
	int			 reply;		/* answer SUP_QUIT */
	struct rec		 rec[RECMAX];
};

static struct ev_loop	*loop;
static int		 sp[2];
static struct peer	 A, B;

static uint32_t
fnv(const char *p, size_t len)
{
	uint32_t	h = 2166136261U;
	size_t		i;

	for (i = 0; i < len; i++)
		h = (h ^ (unsigned char)p[i]) * 16777619U;
	return h;
}

static void
on_msg(struct chan *ch, struct msg *m, void *arg)
{
	struct peer	*p = arg;
	struct rec	*r;
	const char	*fmt = p->proto->mp_defs[m->m_type].md_fmt;
	uint32_t	 k;

	if (m->m_seq != p->last_seq + 1)
		p->seq_gaps++;
	p->last_seq = m->m_seq;
	if (m->m_fd != -1)
		p->nfd++;
	if (p->nmsg < RECMAX) {
		r = &p->rec[p->nmsg];
		r->type = m->m_type;
		r->gen = m->m_gen;
		r->seq = m->m_seq;
		r->fd = m->m_fd;
		for (k = 0; k < m->m_nfields; k++) {
			if (fmt[k] != 's' && fmt[k] != 'b') {
				r->u[k] = m->m_f[k].u;
				continue;
			}
			r->slen[k] = m->m_f[k].s.len;
			r->ssum[k] = fnv(m->m_f[k].s.p, m->m_f[k].s.len);
			snprintf(r->s[k], sizeof(r->s[k]), "%.*s",
			    (int)m->m_f[k].s.len, m->m_f[k].s.p);
		}
	} else if (m->m_fd != -1)
		close(m->m_fd);
	p->nmsg++;
	if (p->reply && m->m_type == MSG_SUP_QUIT)
		ck_assert_int_eq(chan_send(ch, MSG_CHILD_READY, -1,
		    m->m_f[0].u + 1, (uint64_t)0, (uint64_t)0), 0);
	if (p->free_after != 0 && p->nmsg == p->free_after) {
		ck_assert_ptr_eq(ch, p->ch);
		chan_free(&p->ch);
	}
}

static void
on_err(struct chan *ch, const char *reason, void *arg)
{
	struct peer *p = arg;

	p->nerr++;
	if (reason == NULL)
		p->eof = 1;
	snprintf(p->err, sizeof(p->err), "%s", reason ? reason : "(eof)");
	if (p->free_on_err)
		chan_free(&p->ch);
}

static void
peer_init(struct peer *p)
{
	memset(p, 0, sizeof(*p));
	p->proto = &msg_proto_sup;
}

/* Put a channel on our end s of the socketpair; it owns the fd. */
static void
peer_open(struct peer *p, int s, const struct msg_proto *proto,
    int allow_fd)
{
	p->proto = proto;
	p->ch = chan_new(loop, sp[s], proto, allow_fd, on_msg, on_err, p,
	    s == 0 ? "A" : "B");
	ck_assert_ptr_nonnull(p->ch);
	ck_assert_int_eq(chan_fd(p->ch), sp[s]);
	ck_assert_str_eq(chan_peer(p->ch), s == 0 ? "A" : "B");
	sp[s] = -1;
}

static void
peer_close(struct peer *p)
{
	int i;

	chan_free(&p->ch);
	for (i = 0; i < p->nmsg && i < RECMAX; i++)
		if (p->rec[i].fd != -1)
			close(p->rec[i].fd);
}

static void
chan_setup(void)
{
	loop = ev_loop_new(EVFLAG_AUTO);
	ck_assert_ptr_nonnull(loop);
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC,
	    0, sp), 0);
	ck_assert_int_eq(fd_nonblock(sp[0]), 0);
	ck_assert_int_eq(fd_nonblock(sp[1]), 0);
	peer_init(&A);
	peer_init(&B);
}

static void
chan_teardown(void)
{
	peer_close(&A);
	peer_close(&B);
	if (sp[0] != -1)
		close(sp[0]);
	if (sp[1] != -1)
		close(sp[1]);
	ev_loop_destroy(loop);
}

static int	timed_out;

static void
timeout_cb(struct ev_loop *l, ev_timer *w, int revents)
{
	timed_out = 1;
	ev_break(l, EVBREAK_ONE);
}

/*
 * Run the loop until p has nmsg messages (0: until it fails) or either
 * peer fails; 1 when p got there.
 */
static int
run_until(struct peer *p, int nmsg)
{
	ev_timer to;

	ev_now_update(loop);
	ev_timer_init(&to, timeout_cb, RUN_TIMEOUT_SECS, 0.);
	ev_timer_start(loop, &to);
	timed_out = 0;
	while (!timed_out && !(nmsg > 0 && p->nmsg >= nmsg) &&
	    p->nerr == 0 && A.nerr == 0 && B.nerr == 0)
		ev_run(loop, EVRUN_ONCE);
	ev_timer_stop(loop, &to);
	return nmsg > 0 ? p->nmsg >= nmsg : p->nerr > 0;
}

#define ck_assert_run(p, n)						\
	ck_assert_msg(run_until((p), (n)), "%d of %d messages; A: %s; B: %s", \
	    (p)->nmsg, (n), A.nerr ? A.err : "ok", B.nerr ? B.err : "ok")

/* All read ends of the pipe whose write end is wfd are closed. */
static int
reader_gone(int wfd)
{
	return write(wfd, "x", 1) == -1 && errno == EPIPE;
}

static int
fd_cloexec_set(int fd)
{
	int fl = fcntl(fd, F_GETFD);

	return fl != -1 && (fl & FD_CLOEXEC);
}

/* message i of a mixed stream on the sup channel */
static void
send_mixed(struct chan *ch, int i)
{
	int rv = -1;

	switch (i % 5) {
	case 0:
		rv = chan_send(ch, MSG_SUP_QUIT, -1, (uint64_t)i);
		break;
	case 1:
		rv = chan_send(ch, MSG_CHILD_READY, -1, (uint64_t)1,
		    (uint64_t)7, (uint64_t)i);
		break;
	case 2:
		rv = chan_send(ch, MSG_SUP_QUIT, -1, UINT64_MAX - i);
		break;
	case 3:
		rv = chan_send(ch, MSG_SUP_START, -1);
		break;
	case 4:
		rv = chan_send(ch, MSG_SUP_LOG_REOPEN, -1);
		break;
	}
	ck_assert_int_eq(rv, 0);
}

static void
check_mixed(const struct rec *r, int i, uint32_t gen)
{
	static const uint32_t types[] = {
		MSG_SUP_QUIT, MSG_CHILD_READY, MSG_SUP_QUIT,
		MSG_SUP_START, MSG_SUP_LOG_REOPEN
	};

	ck_assert_uint_eq(r->type, types[i % 5]);
	ck_assert_uint_eq(r->gen, gen);
	ck_assert_uint_eq(r->seq, i + 1);
	ck_assert_int_eq(r->fd, -1);
	switch (i % 5) {
	case 0:
		ck_assert_uint_eq(r->u[0], i);
		break;
	case 1:
		ck_assert_uint_eq(r->u[0], 1);
		ck_assert_uint_eq(r->u[1], 7);
		ck_assert_uint_eq(r->u[2], i);
		break;
	case 2:
		ck_assert(r->u[0] == UINT64_MAX - i);
		break;
	}
}

START_TEST(test_chan_order)
{
	int i, n = 3000;

	peer_open(&A, 0, &msg_proto_sup, 1);
	peer_open(&B, 1, &msg_proto_sup, 1);
	chan_set_gen(A.ch, 7, 0);
	chan_set_gen(B.ch, 0, 7);
	for (i = 0; i < n; i++) {
		send_mixed(A.ch, i);
		/* let some batches go out early */
		if (i % 700 == 0)
			ev_run(loop, EVRUN_NOWAIT);
	}
	ck_assert_run(&B, n);
	ck_assert_int_eq(B.nmsg, n);
	ck_assert_int_eq(B.nerr, 0);
	ck_assert_int_eq(A.nerr, 0);
	ck_assert_int_eq(B.seq_gaps, 0);
	for (i = 0; i < n; i++)
		check_mixed(&B.rec[i], i, 7);
	ck_assert_uint_eq(chan_queued(A.ch), 0);
}
END_TEST

/* Replies sent from inside the message callback. */
START_TEST(test_chan_both_ways)
{
	int i, n = 500;

	peer_open(&A, 0, &msg_proto_sup, 1);
	peer_open(&B, 1, &msg_proto_sup, 1);
	chan_set_gen(A.ch, 2, 3);
	chan_set_gen(B.ch, 3, 2);
	B.reply = 1;
	for (i = 0; i < n; i++)
		ck_assert_int_eq(chan_send(A.ch, MSG_SUP_QUIT, -1,
		    (uint64_t)i * 1000), 0);
	ck_assert_run(&A, n);
	ck_assert_int_eq(B.nmsg, n);
	ck_assert_int_eq(A.seq_gaps + B.seq_gaps, 0);
	for (i = 0; i < n; i++) {
		ck_assert_uint_eq(A.rec[i].type, MSG_CHILD_READY);
		ck_assert_uint_eq(A.rec[i].gen, 3);
		ck_assert_uint_eq(A.rec[i].seq, i + 1);
		ck_assert_uint_eq(A.rec[i].u[0], (uint64_t)i * 1000 + 1);
	}
}
END_TEST

/* A message going the way the receiver does not take fails its channel. */
START_TEST(test_chan_direction)
{
	peer_open(&A, 0, &msg_proto_sup, 1);
	peer_open(&B, 1, &msg_proto_sup, 1);
	chan_set_accept(B.ch, "sup>child");
	ck_assert_int_eq(chan_send(A.ch, MSG_SUP_QUIT, -1, (uint64_t)5), 0);
	ck_assert_int_eq(chan_send(A.ch, MSG_CHILD_READY, -1, (uint64_t)1,
	    (uint64_t)1, (uint64_t)1), 0);
	chan_flush(A.ch);
	/* one frame: refused whole, before any of it is handled */
	ck_assert_run(&B, 0);
	ck_assert_int_eq(B.nmsg, 0);
	ck_assert_int_eq(B.nerr, 1);
	ck_assert_msg(strstr(B.err, "CHILD_READY goes child>sup, not "
	    "sup>child") != NULL, "reason: %s", B.err);
}
END_TEST

/* Strings up to nearly a frame, on the control protocol. */
START_TEST(test_chan_strings)
{
	char	*big;
	size_t	 len = MSG_FRAME_MAX_BYTES - 64;

	big = malloc(len + 1);
	memset(big, 'q', len);
	big[0] = '<';
	big[len - 1] = '>';
	big[len] = '\0';
	peer_open(&A, 0, &msg_proto_ctl, 0);
	peer_open(&B, 1, &msg_proto_ctl, 0);
	ck_assert_int_eq(chan_send(A.ch, MSG_CTL_RESULT, -1, (uint64_t)0,
	    ""), 0);
	ck_assert_int_eq(chan_send(A.ch, MSG_CTL_RESULT, -1, (uint64_t)1,
	    big), 0);
	ck_assert_int_eq(chan_send(A.ch, MSG_CTL_DAEMON, -1, (uint64_t)42,
	    (uint64_t)UINT32_MAX, UINT64_MAX, "/etc/mcpd.conf", (uint64_t)8,
	    "running"), 0);
	ck_assert_int_eq(chan_send(A.ch, MSG_CTL_PROC, -1, "worker",
	    (uint64_t)3, (uint64_t)4242, (uint64_t)1, "ready", (uint64_t)5,
	    (uint64_t)0, (uint64_t)17, UINT64_MAX), 0);
	ck_assert_run(&B, 4);
	ck_assert_int_eq(B.nerr, 0);
	ck_assert_uint_eq(B.rec[0].type, MSG_CTL_RESULT);
	ck_assert_uint_eq(B.rec[0].slen[1], 0);
	ck_assert_uint_eq(B.rec[1].slen[1], len);
	ck_assert_uint_eq(B.rec[1].ssum[1], fnv(big, len));
	ck_assert_uint_eq(B.rec[2].type, MSG_CTL_DAEMON);
	ck_assert(B.rec[2].u[2] == UINT64_MAX);
	ck_assert_str_eq(B.rec[2].s[3], "/etc/mcpd.conf");
	ck_assert_str_eq(B.rec[2].s[5], "running");
	ck_assert_uint_eq(B.rec[3].type, MSG_CTL_PROC);
	ck_assert_str_eq(B.rec[3].s[0], "worker");
	ck_assert_str_eq(B.rec[3].s[4], "ready");
	ck_assert(B.rec[3].u[8] == UINT64_MAX);
	ck_assert_int_eq(B.seq_gaps, 0);
	free(big);
}
END_TEST

/*
 * Read every frame waiting on the raw end: count frames and messages and
 * check the sequence numbers run on from *seq.
 */
static void
read_raw(int fd, int *frames, int *msgs, uint32_t *seq)
{
	static char	 buf[MSG_FRAME_MAX_BYTES + 1];
	char		 err[160];
	ssize_t		 n;
	int		 nm, i;

	while ((n = recv(fd, buf, sizeof(buf), 0)) > 0) {
		ck_assert_int_le(n, MSG_FRAME_MAX_BYTES);
		nm = msg_unpack_frame(&msg_proto_sup, buf, n, -1, 1, rx, err,
		    sizeof(err));
		ck_assert_msg(nm > 0, "%s", err);
		for (i = 0; i < nm; i++)
			ck_assert_uint_eq(rx[i].m_seq, ++*seq);
		(*frames)++;
		*msgs += nm;
	}
	ck_assert_msg(n == -1 && errno == EAGAIN, "recv: %zd %s", n,
	    strerror(errno));
}

START_TEST(test_chan_batching)
{
	uint32_t	 seq = 0;
	int		 frames = 0, msgs = 0, i, spins;

	peer_open(&A, 0, &msg_proto_sup, 1);
	/* small messages of one loop iteration share one frame */
	for (i = 0; i < 200; i++)
		send_mixed(A.ch, i);
	ck_assert_uint_gt(chan_queued(A.ch), 0);
	ev_run(loop, EVRUN_NOWAIT);
	ck_assert_uint_eq(chan_queued(A.ch), 0);
	read_raw(sp[1], &frames, &msgs, &seq);
	ck_assert_int_eq(msgs, 200);
	ck_assert_int_eq(frames, 1);

	/* a full batch goes out as soon as the next message would not fit */
	frames = msgs = 0;
	for (i = 200; i < 60000; i++)
		send_mixed(A.ch, i);
	for (spins = 0; msgs < 59800 && spins < 1000; spins++) {
		ev_run(loop, EVRUN_NOWAIT);
		read_raw(sp[1], &frames, &msgs, &seq);
	}
	ck_assert_int_eq(msgs, 59800);
	ck_assert_int_ge(frames, 59800 * 5 / MSG_FRAME_MAX_BYTES);
	ck_assert_int_lt(frames, 59800 / 100);
	ck_assert_int_eq(A.nerr, 0);
}
END_TEST

START_TEST(test_chan_fdpass)
{
	int	p1[2], p2[2], p3[2], fd;
	char	buf[8];

	ck_assert_int_eq(pipe(p1), 0);
	ck_assert_int_eq(pipe(p2), 0);
	ck_assert_int_eq(pipe(p3), 0);
	peer_open(&A, 0, &msg_proto_sup, 1);
	peer_open(&B, 1, &msg_proto_sup, 1);
	/* batched, fd, fd, fd, batched: order and sequence hold */
	ck_assert_int_eq(chan_send(A.ch, MSG_SUP_QUIT, -1, (uint64_t)5), 0);
	ck_assert_int_eq(chan_send(A.ch, MSG_SUP_CONF, p1[0]), 0);
	ck_assert_int_eq(chan_send(A.ch, MSG_SUP_LISTENER, p2[0], (uint64_t)2,
	    "127.0.0.1", (uint64_t)8080, (uint64_t)1), 0);
	ck_assert_int_eq(chan_send(A.ch, MSG_SUP_SCOREBOARD, p3[0],
	    (uint64_t)3, (uint64_t)1), 0);
	ck_assert_int_eq(chan_send(A.ch, MSG_SUP_START, -1), 0);
	ck_assert_run(&B, 5);
	ck_assert_int_eq(B.nerr, 0);
	ck_assert_int_eq(B.seq_gaps, 0);
	ck_assert_uint_eq(B.rec[0].type, MSG_SUP_QUIT);
	ck_assert_int_eq(B.rec[0].fd, -1);
	ck_assert_uint_eq(B.rec[1].type, MSG_SUP_CONF);
	ck_assert_uint_eq(B.rec[2].type, MSG_SUP_LISTENER);
	ck_assert_uint_eq(B.rec[2].u[0], 2);
	ck_assert_str_eq(B.rec[2].s[1], "127.0.0.1");
	ck_assert_uint_eq(B.rec[2].u[2], 8080);
	ck_assert_uint_eq(B.rec[2].u[3], 1);
	ck_assert_uint_eq(B.rec[3].type, MSG_SUP_SCOREBOARD);
	ck_assert_uint_eq(B.rec[3].u[0], 3);
	ck_assert_uint_eq(B.rec[4].type, MSG_SUP_START);
	ck_assert_int_eq(B.rec[4].fd, -1);
	ck_assert_int_eq(B.nfd, 3);

	/* each received fd is the read end of its pipe, close-on-exec */
	for (int i = 1; i <= 3; i++) {
		int w = i == 1 ? p1[1] : i == 2 ? p2[1] : p3[1];

		fd = B.rec[i].fd;
		ck_assert_int_ge(fd, 0);
		ck_assert(fd_cloexec_set(fd));
		ck_assert_int_eq(write(w, "ping", 4), 4);
		ck_assert_int_eq(read(fd, buf, sizeof(buf)), 4);
		ck_assert(memcmp(buf, "ping", 4) == 0);
		/* the sender closed its copy: ours was the last reader */
		close(fd);
		B.rec[i].fd = -1;
		ck_assert(reader_gone(w));
		close(w);
	}
}
END_TEST

START_TEST(test_chan_gen_drop)
{
	int p1[2];

	ck_assert_int_eq(pipe(p1), 0);
	peer_open(&A, 0, &msg_proto_sup, 1);
	peer_open(&B, 1, &msg_proto_sup, 1);
	chan_set_gen(A.ch, 3, 0);
	chan_set_gen(B.ch, 0, 4);
	ck_assert_int_eq(chan_send(A.ch, MSG_SUP_QUIT, -1, (uint64_t)1), 0);
	ck_assert_int_eq(chan_send(A.ch, MSG_SUP_CONF, p1[0]), 0);
	ck_assert_int_eq(chan_send(A.ch, MSG_CHILD_READY, -1, (uint64_t)1,
	    (uint64_t)3, (uint64_t)99), 0);
	/* stamped when sent: these carry generation 4 */
	chan_set_gen(A.ch, 4, 0);
	ck_assert_int_eq(chan_send(A.ch, MSG_SUP_QUIT, -1, (uint64_t)2), 0);
	ck_assert_int_eq(chan_send(A.ch, MSG_SUP_START, -1), 0);
	ck_assert_run(&B, 2);
	ck_assert_int_eq(B.nerr, 0);
	ck_assert_int_eq(B.nmsg, 2);
	ck_assert_uint_eq(B.rec[0].type, MSG_SUP_QUIT);
	ck_assert_uint_eq(B.rec[0].u[0], 2);
	ck_assert_uint_eq(B.rec[0].gen, 4);
	ck_assert_uint_eq(B.rec[0].seq, 4);	/* dropped ones count */
	ck_assert_uint_eq(B.rec[1].type, MSG_SUP_START);
	ck_assert_uint_eq(B.rec[1].seq, 5);
	/* the fd of the dropped SUP_CONF was closed */
	ck_assert(reader_gone(p1[1]));
	close(p1[1]);
}
END_TEST

/* Write one raw message from the bare end 0 to a channel on end 1. */
static void
raw_send(uint32_t type, uint32_t gen, uint32_t seq)
{
	msgpack_sbuffer	b;

	msgpack_sbuffer_init(&b);
	ck_assert_int_eq(msg_pack(&b, &msg_proto_sup, type, gen, seq,
	    (uint64_t)1), 0);
	ck_assert_int_eq(send(sp[0], b.data, b.size, 0), (ssize_t)b.size);
	msgpack_sbuffer_destroy(&b);
}

START_TEST(test_chan_bad_seq)
{
	peer_open(&B, 1, &msg_proto_sup, 1);
	raw_send(MSG_SUP_QUIT, 0, 1);
	raw_send(MSG_SUP_QUIT, 0, 3);
	raw_send(MSG_SUP_QUIT, 0, 4);
	ck_assert_run(&B, 0);
	ck_assert_int_eq(B.nmsg, 1);
	ck_assert_int_eq(B.nerr, 1);
	ck_assert_msg(strstr(B.err, "SUP_QUIT: sequence 3, want 2") != NULL,
	    "%s", B.err);
	/* the channel is stopped: nothing more is delivered */
	ev_run(loop, EVRUN_NOWAIT);
	ck_assert_int_eq(B.nmsg, 1);
	ck_assert_int_eq(B.nerr, 1);
}
END_TEST

START_TEST(test_chan_bad_seq_start)
{
	peer_open(&B, 1, &msg_proto_sup, 1);
	raw_send(MSG_SUP_QUIT, 0, 0);
	ck_assert_run(&B, 0);
	ck_assert_int_eq(B.nmsg, 0);
	ck_assert_msg(strstr(B.err, "sequence 0, want 1") != NULL, "%s",
	    B.err);
}
END_TEST

START_TEST(test_chan_eof)
{
	peer_open(&A, 0, &msg_proto_sup, 1);
	peer_open(&B, 1, &msg_proto_sup, 1);
	B.free_on_err = 1;
	ck_assert_int_eq(chan_send(A.ch, MSG_SUP_QUIT, -1, (uint64_t)1), 0);
	ck_assert_int_eq(chan_flush(A.ch), 0);
	chan_free(&A.ch);
	ck_assert_ptr_null(A.ch);
	ck_assert_run(&B, 0);
	ck_assert_int_eq(B.nmsg, 1);
	ck_assert_int_eq(B.nerr, 1);
	ck_assert_int_eq(B.eof, 1);
	ck_assert_ptr_null(B.ch);
}
END_TEST

START_TEST(test_chan_send_after_eof)
{
	int p1[2];

	ck_assert_int_eq(pipe(p1), 0);
	peer_open(&B, 1, &msg_proto_sup, 1);
	close(sp[0]);
	sp[0] = -1;
	ck_assert_run(&B, 0);
	ck_assert_int_eq(B.eof, 1);
	errno = 0;
	ck_assert_int_eq(chan_send(B.ch, MSG_SUP_QUIT, -1, (uint64_t)1), -1);
	ck_assert_int_eq(errno, EPIPE);
	ck_assert_int_eq(chan_send(B.ch, MSG_SUP_CONF, p1[0]), -1);
	ck_assert(reader_gone(p1[1]));
	close(p1[1]);
	ck_assert_int_eq(chan_flush(B.ch), -1);
}
END_TEST

START_TEST(test_chan_free_in_callback)
{
	int i;

	peer_open(&A, 0, &msg_proto_sup, 1);
	peer_open(&B, 1, &msg_proto_sup, 1);
	B.free_after = 3;
	for (i = 0; i < 10; i++)
		send_mixed(A.ch, i);
	ck_assert_run(&A, 0);
	ck_assert_int_eq(B.nmsg, 3);
	ck_assert_ptr_null(B.ch);
	ck_assert_int_eq(B.nerr, 0);
	ck_assert_int_eq(A.nerr, 1);
	ck_assert(A.eof);
}
END_TEST

/*
 * Send a raw frame with nfds pipe read ends to a fresh channel; return its
 * error and check every fd reached no one (closed by the receiver).
 */
static const char *
raw_reason(const struct msg_proto *proto, int allow_fd, const void *buf,
    size_t len, int nfds)
{
	static char	 reason[160];
	struct msghdr	 mh;
	struct iovec	 iov;
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(sizeof(int) * 2)];
	} cm;
	struct cmsghdr	*c;
	int		 pp[2][2], rfd[2], i;

	ck_assert_int_le(nfds, 2);
	peer_close(&B);
	peer_init(&B);
	if (sp[0] != -1)
		close(sp[0]);
	if (sp[1] != -1)
		close(sp[1]);
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC,
	    0, sp), 0);
	ck_assert_int_eq(fd_nonblock(sp[1]), 0);
	peer_open(&B, 1, proto, allow_fd);
	memset(&mh, 0, sizeof(mh));
	iov.iov_base = (void *)buf;
	iov.iov_len = len;
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	for (i = 0; i < nfds; i++) {
		ck_assert_int_eq(pipe(pp[i]), 0);
		rfd[i] = pp[i][0];
	}
	if (nfds > 0) {
		memset(&cm, 0, sizeof(cm));
		mh.msg_control = cm.buf;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		memcpy(CMSG_DATA(c), rfd, sizeof(int) * nfds);
	}
	ck_assert_int_eq(sendmsg(sp[0], &mh, 0), (ssize_t)len);
	for (i = 0; i < nfds; i++)
		close(pp[i][0]);
	if (!run_until(&B, 0))
		snprintf(reason, sizeof(reason), "(no error)");
	else
		snprintf(reason, sizeof(reason), "%s", B.err);
	ck_assert_int_eq(B.nmsg, 0);
	for (i = 0; i < nfds; i++) {
		ck_assert_msg(reader_gone(pp[i][1]), "fd %d of \"%s\" leaked",
		    i, reason);
		close(pp[i][1]);
	}
	return reason;
}

#define ck_assert_reason(r, want)					\
	ck_assert_msg(strstr((r), (want)) != NULL,			\
	    "reason \"%s\", want \"%s\"", (r), (want))

START_TEST(test_chan_malformed)
{
	msgpack_sbuffer	 b;
	char		*big;
	const char	*r;

	msgpack_sbuffer_init(&b);
	r = raw_reason(&msg_proto_sup, 1, "\xc1", 1, 0);
	ck_assert_reason(r, "malformed msgpack");
	r = raw_reason(&msg_proto_sup, 1, "\x93\x63\x00\x01", 4, 0);
	ck_assert_reason(r, "unknown message type");
	r = raw_reason(&msg_proto_sup, 1, "\x93\x00", 2, 0);
	ck_assert_reason(r, "truncated message");
	/* fd rules, with the fds closed by the receiver */
	ck_assert_int_eq(msg_pack(&b, &msg_proto_sup, MSG_SUP_START, 0, 1), 0);
	r = raw_reason(&msg_proto_sup, 1, b.data, b.size, 1);
	ck_assert_reason(r, "fd passed with SUP_START");
	msgpack_sbuffer_clear(&b);
	ck_assert_int_eq(msg_pack(&b, &msg_proto_sup, MSG_SUP_CONF, 0, 1), 0);
	r = raw_reason(&msg_proto_sup, 1, b.data, b.size, 0);
	ck_assert_reason(r, "SUP_CONF without its fd");
	r = raw_reason(&msg_proto_sup, 1, b.data, b.size, 2);
	ck_assert_reason(r, "more than one fd");
	r = raw_reason(&msg_proto_sup, 0, b.data, b.size, 1);
	ck_assert_reason(r, "fd passed on a channel without fds");
	msgpack_sbuffer_clear(&b);
	ck_assert_int_eq(msg_pack(&b, &msg_proto_ctl, MSG_CTL_STATUS, 0, 1,
	    (uint64_t)1), 0);
	r = raw_reason(&msg_proto_ctl, 0, b.data, b.size, 1);
	ck_assert_reason(r, "fd passed on a channel without fds");
	msgpack_sbuffer_destroy(&b);
	/* frames longer than MSG_FRAME_MAX_BYTES, by one byte and by far */
	big = calloc(1, MSG_FRAME_MAX_BYTES + 4096);
	r = raw_reason(&msg_proto_sup, 1, big, MSG_FRAME_MAX_BYTES + 1, 0);
	ck_assert_reason(r, "exceeds");
	r = raw_reason(&msg_proto_sup, 1, big, MSG_FRAME_MAX_BYTES + 4096, 1);
	ck_assert_reason(r, "oversize frame");
	free(big);
}
END_TEST

/* chan_send with an fd to a peer that takes none. */
START_TEST(test_chan_fd_not_allowed)
{
	int p1[2];

	ck_assert_int_eq(pipe(p1), 0);
	peer_open(&A, 0, &msg_proto_sup, 1);
	peer_open(&B, 1, &msg_proto_sup, 0);
	ck_assert_int_eq(chan_send(A.ch, MSG_SUP_CONF, p1[0]), 0);
	ck_assert_run(&B, 0);
	ck_assert_int_eq(B.nmsg, 0);
	ck_assert_msg(strstr(B.err, "fd passed on a channel without fds") !=
	    NULL, "%s", B.err);
	ck_assert(reader_gone(p1[1]));
	close(p1[1]);
}
END_TEST

/*
 * Send until chan_send has refused NOFIT_TRIES times in a row; check the
 * bound after every success.  Returns the number accepted.
 */
#define NOFIT_TRIES	100
static int
fill_queue(struct chan *ch, int ctl, const char *str)
{
	int	accepted = 0, fails = 0, rv;

	while (fails < NOFIT_TRIES) {
		errno = 0;
		if (ctl)
			rv = chan_send(ch, MSG_CTL_RESULT, -1, (uint64_t)1,
			    str);
		else
			rv = chan_send(ch, MSG_CHILD_READY, -1, UINT64_MAX,
			    UINT64_MAX, UINT64_MAX);
		if (rv == -1) {
			ck_assert_int_eq(errno, ENOBUFS);
			fails++;
			continue;
		}
		fails = 0;
		accepted++;
		ck_assert_uint_le(chan_queued(ch),
		    CHAN_QUEUE_MAX_BYTES + MSG_FRAME_MAX_BYTES);
		ck_assert_int_lt(accepted, 1000000);
	}
	return accepted;
}

/* A peer that never reads: chan_send fails with ENOBUFS, bounded. */
START_TEST(test_chan_queue_bound)
{
	char	 str[1001];
	size_t	 q;
	int	 i, p1[2];

	memset(str, 'z', 1000);
	str[1000] = '\0';
	peer_open(&A, 0, &msg_proto_ctl, 0);
	ck_assert_int_gt(fill_queue(A.ch, 1, str), CHAN_QUEUE_MAX_BYTES / 1100);
	q = chan_queued(A.ch);
	ck_assert_uint_le(q, CHAN_QUEUE_MAX_BYTES + MSG_FRAME_MAX_BYTES);
	/* it did not give up early: the peer has about CHAN_QUEUE_MAX_BYTES */
	ck_assert_uint_gt(q + MSG_FRAME_MAX_BYTES, CHAN_QUEUE_MAX_BYTES);
	/* small messages do not slip in, and nothing grows */
	for (i = 0; i < 100; i++) {
		errno = 0;
		ck_assert_int_eq(chan_send(A.ch, MSG_CTL_STATUS, -1,
		    (uint64_t)1), -1);
		ck_assert_int_eq(errno, ENOBUFS);
	}
	ck_assert_uint_eq(chan_queued(A.ch), q);
	ck_assert_int_eq(A.nerr, 0);

	/* an fd refused for a full queue is closed */
	chan_free(&A.ch);
	close(sp[1]);
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC,
	    0, sp), 0);
	ck_assert_int_eq(fd_nonblock(sp[0]), 0);
	peer_open(&A, 0, &msg_proto_sup, 1);
	ck_assert_int_gt(fill_queue(A.ch, 0, NULL), CHAN_QUEUE_MAX_BYTES / 40);
	q = chan_queued(A.ch);
	ck_assert_int_eq(pipe(p1), 0);
	errno = 0;
	ck_assert_int_eq(chan_send(A.ch, MSG_SUP_CONF, p1[0]), -1);
	ck_assert_int_eq(errno, ENOBUFS);
	ck_assert(reader_gone(p1[1]));
	close(p1[1]);
	ck_assert_uint_eq(chan_queued(A.ch), q);
}
END_TEST

/*
 * ENOBUFS is the caller's to handle ("kill or drop it"): what chan_send
 * accepted before must still arrive, in sequence, and a full queue must
 * not kill the channel by itself.
 */
START_TEST(test_chan_queue_full_keeps_accepted)
{
	char	 str[1001];
	int	 i, accepted = 0, spins = 0;

	memset(str, 'z', 1000);
	str[1000] = '\0';
	peer_open(&A, 0, &msg_proto_ctl, 0);
	for (i = 0; i < 100000; i++) {
		if (chan_send(A.ch, MSG_CTL_RESULT, -1, (uint64_t)i, str) ==
		    -1) {
			ck_assert_int_eq(errno, ENOBUFS);
			/* drop it, as a caller may, and go on */
			if (++spins > 50)
				break;
			continue;
		}
		accepted++;
		spins = 0;
		if (i % 8 == 0)
			ev_run(loop, EVRUN_NOWAIT);
		ck_assert_msg(A.nerr == 0, "after %d messages: %s", accepted,
		    A.err);
	}
	for (i = 0; i < 5; i++)
		ev_run(loop, EVRUN_NOWAIT);
	ck_assert_msg(A.nerr == 0, "after %d messages: %s", accepted, A.err);
	ck_assert_uint_le(chan_queued(A.ch), CHAN_QUEUE_MAX_BYTES +
	    MSG_FRAME_MAX_BYTES);
	/* now the peer reads */
	peer_open(&B, 1, &msg_proto_ctl, 0);
	run_until(&B, accepted);
	ck_assert_msg(A.nerr == 0, "sender: %s", A.err);
	ck_assert_msg(B.nerr == 0, "receiver: %s", B.err);
	ck_assert_int_eq(B.nmsg, accepted);
	ck_assert_int_eq(B.seq_gaps, 0);
	ck_assert_uint_eq(chan_queued(A.ch), 0);
}
END_TEST

/*
 * The same at the fd path: a message with an fd that meets a nearly full
 * queue is either sent or refused without using up a sequence number.
 */
START_TEST(test_chan_queue_fd_keeps_seq)
{
	msgpack_sbuffer	 b;
	char		 addr[1001];
	size_t		 fdlen;
	int		 p1[2], accepted = 0, rv;

	memset(addr, 'a', 1000);
	addr[1000] = '\0';
	msgpack_sbuffer_init(&b);
	ck_assert_int_eq(msg_pack(&b, &msg_proto_sup, MSG_SUP_LISTENER, 0,
	    UINT32_MAX, (uint64_t)1, addr, (uint64_t)80, (uint64_t)0), 0);
	fdlen = b.size;
	msgpack_sbuffer_destroy(&b);
	ck_assert_int_eq(pipe(p1), 0);
	peer_open(&A, 0, &msg_proto_sup, 1);
	/* big batches, then one-message frames up to just below the fit */
	while (chan_queued(A.ch) + 2 * MSG_FRAME_MAX_BYTES <
	    CHAN_QUEUE_MAX_BYTES) {
		ck_assert_int_eq(chan_send(A.ch, MSG_CHILD_READY, -1,
		    UINT64_MAX, UINT64_MAX, UINT64_MAX), 0);
		accepted++;
	}
	ck_assert_int_eq(chan_flush(A.ch), 0);
	while (chan_queued(A.ch) + fdlen <= CHAN_QUEUE_MAX_BYTES) {
		ck_assert_int_eq(chan_send(A.ch, MSG_CHILD_READY, -1,
		    UINT64_MAX, UINT64_MAX, UINT64_MAX), 0);
		ck_assert_int_eq(chan_flush(A.ch), 0);
		accepted++;
	}
	ck_assert_uint_le(chan_queued(A.ch), CHAN_QUEUE_MAX_BYTES);
	rv = chan_send(A.ch, MSG_SUP_LISTENER, p1[0], (uint64_t)1, addr,
	    (uint64_t)80, (uint64_t)0);
	if (rv == 0)
		accepted++;
	if (chan_send(A.ch, MSG_SUP_QUIT, -1, (uint64_t)77) == 0)
		accepted++;
	ev_run(loop, EVRUN_NOWAIT);
	ck_assert_msg(A.nerr == 0, "sender: %s", A.err);
	peer_open(&B, 1, &msg_proto_sup, 1);
	run_until(&B, accepted);
	ck_assert_msg(A.nerr == 0, "sender: %s", A.err);
	ck_assert_msg(B.nerr == 0, "receiver: %s", B.err);
	ck_assert_int_eq(B.nmsg, accepted);
	ck_assert_int_eq(B.seq_gaps, 0);
	ck_assert_int_eq(B.nfd, rv == 0);
	ck_assert(reader_gone(p1[1]));
	close(p1[1]);
}
END_TEST

static Suite *
msg_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("msg");

	tc = tcase_create("codec");
	tcase_add_checked_fixture(tc, codec_setup, codec_teardown);
	tcase_set_timeout(tc, TEST_TIMEOUT_SECS);
	tcase_add_test(tc, test_name);
	tcase_add_test(tc, test_roundtrip_types);
	tcase_add_loop_test(tc, test_roundtrip_batch, 0, 2);
	tcase_add_test(tc, test_pack_emsgsize);
	tcase_add_test(tc, test_pack_einval);
	tcase_add_test(tc, test_reject_type);
	tcase_add_test(tc, test_reject_count);
	tcase_add_test(tc, test_reject_field_type);
	tcase_add_test(tc, test_reject_envelope);
	tcase_add_test(tc, test_reject_not_array);
	tcase_add_test(tc, test_reject_truncated);
	tcase_add_test(tc, test_reject_garbage);
	tcase_add_test(tc, test_reject_random);
	tcase_add_test(tc, test_reject_size);
	tcase_add_test(tc, test_reject_fd);
	tcase_add_test(tc, test_unpack_bounded_memory);
	tcase_add_test(tc, test_strcpy);
	suite_add_tcase(s, tc);

	tc = tcase_create("chan");
	tcase_add_checked_fixture(tc, chan_setup, chan_teardown);
	tcase_set_timeout(tc, TEST_TIMEOUT_SECS);
	tcase_add_test(tc, test_chan_order);
	tcase_add_test(tc, test_chan_direction);
	tcase_add_test(tc, test_chan_both_ways);
	tcase_add_test(tc, test_chan_strings);
	tcase_add_test(tc, test_chan_batching);
	tcase_add_test(tc, test_chan_fdpass);
	tcase_add_test(tc, test_chan_gen_drop);
	tcase_add_test(tc, test_chan_bad_seq);
	tcase_add_test(tc, test_chan_bad_seq_start);
	tcase_add_test(tc, test_chan_eof);
	tcase_add_test(tc, test_chan_send_after_eof);
	tcase_add_test(tc, test_chan_free_in_callback);
	tcase_add_test(tc, test_chan_malformed);
	tcase_add_test(tc, test_chan_fd_not_allowed);
	tcase_add_test(tc, test_chan_queue_bound);
	tcase_add_test(tc, test_chan_queue_full_keeps_accepted);
	tcase_add_test(tc, test_chan_queue_fd_keeps_seq);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr;
	int	 failed;

	/* a write to a pipe without readers is a test result, not a death */
	signal(SIGPIPE, SIG_IGN);
	sr = srunner_create(msg_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
}
