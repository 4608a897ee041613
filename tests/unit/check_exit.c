/*
 * NAME
 *	check_exit.c -- a bad frame on a trusted channel ends the process
 *
 * DESCRIPTION
 *	Trust decides the reaction to a bad message (STYLE.md, lessons 4
 *	and 13).  On an internal channel it is a bug: fatalx(), the process
 *	exits 1 (common/log.c) and the supervisor restarts it.  On the
 *	control channel only that client is dropped and the daemon lives.
 *
 *	Each case goes through the real entry points, in a process of its
 *	own (Check's exit tests):
 *
 *	- a child's channel to the supervisor: the frames are queued on a
 *	  SOCK_SEQPACKET socketpair whose other end is put on CHILD_CHAN_FD,
 *	  as the supervisor's exec does, and child_main() (an agent) reads
 *	  them (common/child.c: chan_err and dispatch_sup call fatalx);
 *	- a worker's channel to a peer worker, made by peer_add() as a
 *	  SUP_PEER message makes it (worker/peer.c: peer_err and
 *	  peer_dispatch call fatalx);
 *	- the run channel at both ends: the runner's end to a worker, as
 *	  mcpd --stdio makes it (runner_local(); runner/runner.c:
 *	  client_err and client_dispatch call fatalx), and a worker's end
 *	  to the runner (mcp_exec_runner(); mcp/exec.c: rx_err and
 *	  rx_dispatch call fatalx);
 *	- the control socket, set up by control_open() and control_start()
 *	  (supervisor/control.c: client_err drops the client).
 *
 *	The frames are sent and the sending end closed before the reader
 *	runs, so a frame that were wrongly taken would end in the orderly
 *	exit 0 of a closed channel (as the good-frame cases show), not in a
 *	hang: exit 1 is the frame's rejection.  A message of another
 *	generation is not a bad frame: a child takes the supervisor's of any
 *	generation (test_child_any_generation), the supervisor drops a
 *	child's of a retired one (chan.c), and a peer channel has none set.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "child.h"
#include "mcp.h"
#include "msg.h"
#include "runner.h"
#include "sup.h"
#include "util.h"
#include "worker.h"

#define TEST_TIMEOUT_SECS	60	/* a sanitized build on a busy host */
#define EXIT_FATAL		1	/* fatalx() in common/log.c */
#define PUMP_ROUNDS		2000	/* 10 ms each */

static msgpack_sbuffer	sb;

/* ---------------------------------------------------------------- frames */

/* Append one well-formed message; fields as for msg_pack(). */
#define PACK(proto, type, gen, seq, ...)				\
	ck_assert_int_eq(msg_pack(&sb, (proto), (type), (gen), (seq),	\
	    ##__VA_ARGS__), 0)

/* Append raw bytes (garbage, trailing bytes, a hand-made envelope). */
static void
raw(const void *p, size_t len)
{
	ck_assert_int_eq(msgpack_sbuffer_write(&sb, p, len), 0);
}

/* Send what sb holds as one frame, with nfds copies of /dev/null. */
static void
send_frame(int fd, int nfds)
{
	struct msghdr	 mh;
	struct iovec	 iov;
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(sizeof(int) * 2)];
	} cm;
	struct cmsghdr	*c;
	int		 fds[2], i;

	ck_assert_int_le(nfds, 2);
	memset(&mh, 0, sizeof(mh));
	iov.iov_base = sb.data;
	iov.iov_len = sb.size;
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	if (nfds > 0) {
		for (i = 0; i < nfds; i++)
			ck_assert_int_ge(fds[i] = open("/dev/null", O_RDONLY),
			    0);
		memset(&cm, 0, sizeof(cm));
		mh.msg_control = cm.buf;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
	}
	ck_assert_int_eq(sendmsg(fd, &mh, MSG_NOSIGNAL), (ssize_t)sb.size);
	for (i = 0; i < nfds; i++)
		close(fds[i]);
	msgpack_sbuffer_clear(&sb);
}

static void
pair(int sp[2])
{
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0,
	    sp), 0);
}

static void
frames_setup(void)
{
	msgpack_sbuffer_init(&sb);
}

static void
frames_teardown(void)
{
	msgpack_sbuffer_destroy(&sb);
}

/* ------------------------------------- a child's channel to the supervisor */

/*
 * The supervisor's end is sup; what it sent waits in the socket.  Close it
 * (EOF after the frames) and run the child: an agent, in the foreground
 * (its log goes to stderr).  Never returns.
 */
static void
run_child(int sup_end, int child_end)
{
	close(sup_end);
	if (child_end != CHILD_CHAN_FD) {
		ck_assert_int_eq(dup2(child_end, CHILD_CHAN_FD), CHILD_CHAN_FD);
		close(child_end);
	}
	child_main(ROLE_AGENT, 0, 1, 0, 1);
}

/* Control: a good frame, then EOF: the orphan's drain, exit 0. */
START_TEST(test_child_good_frame)
{
	int sp[2];

	pair(sp);
	PACK(&msg_proto_sup, MSG_SUP_LOG_REOPEN, 1, 1);
	send_frame(sp[0], 0);
	run_child(sp[0], sp[1]);
}
END_TEST

/* The child takes the supervisor's messages of any generation. */
START_TEST(test_child_any_generation)
{
	int sp[2];

	pair(sp);
	PACK(&msg_proto_sup, MSG_SUP_LOG_REOPEN, 7, 1);
	send_frame(sp[0], 0);
	run_child(sp[0], sp[1]);
}
END_TEST

START_TEST(test_child_garbage)
{
	static const char junk[] = "not msgpack at all";
	int sp[2];

	pair(sp);
	raw(junk, sizeof(junk) - 1);
	send_frame(sp[0], 0);
	run_child(sp[0], sp[1]);
}
END_TEST

/* A good message and a byte after it: the frame is refused whole. */
START_TEST(test_child_trailing_bytes)
{
	int sp[2];

	pair(sp);
	PACK(&msg_proto_sup, MSG_SUP_LOG_REOPEN, 1, 1);
	raw("\xc0", 1);
	send_frame(sp[0], 0);
	run_child(sp[0], sp[1]);
}
END_TEST

/* A message cut short: an array of 4 with 3 elements. */
START_TEST(test_child_truncated)
{
	static const char cut[] = { (char)0x94, 0x07, 0x01, 0x01 };
	int sp[2];

	pair(sp);
	raw(cut, sizeof(cut));
	send_frame(sp[0], 0);
	run_child(sp[0], sp[1]);
}
END_TEST

/* A type number the protocol does not have: [200, 1, 1]. */
START_TEST(test_child_unknown_type)
{
	static const char env[] = { (char)0x93, (char)0xcc, (char)200, 0x01,
	    0x01 };
	int sp[2];

	pair(sp);
	raw(env, sizeof(env));
	send_frame(sp[0], 0);
	run_child(sp[0], sp[1]);
}
END_TEST

/* A type of the protocol that goes the other way (child > sup). */
START_TEST(test_child_unexpected_type)
{
	int sp[2];

	pair(sp);
	PACK(&msg_proto_sup, MSG_CHILD_READY, 1, 1, (uint64_t)MCPD_PROTO_VERSION,
	    (uint64_t)1, (uint64_t)getpid());
	send_frame(sp[0], 0);
	run_child(sp[0], sp[1]);
}
END_TEST

/* The first message numbered 2: one was lost. */
START_TEST(test_child_bad_sequence)
{
	int sp[2];

	pair(sp);
	PACK(&msg_proto_sup, MSG_SUP_LOG_REOPEN, 1, 2);
	send_frame(sp[0], 0);
	run_child(sp[0], sp[1]);
}
END_TEST

/* The wrong number of fields: LOG_REOPEN has none. */
START_TEST(test_child_field_count)
{
	static const char env[] = { (char)0x94, MSG_SUP_LOG_REOPEN, 0x01, 0x01,
	    0x05 };
	int sp[2];

	pair(sp);
	raw(env, sizeof(env));
	send_frame(sp[0], 0);
	run_child(sp[0], sp[1]);
}
END_TEST

/* An fd with a message that carries none. */
START_TEST(test_child_fd_not_expected)
{
	int sp[2];

	pair(sp);
	PACK(&msg_proto_sup, MSG_SUP_START, 1, 1);
	send_frame(sp[0], 1);
	run_child(sp[0], sp[1]);
}
END_TEST

/* CONF without its memfd. */
START_TEST(test_child_fd_missing)
{
	int sp[2];

	pair(sp);
	PACK(&msg_proto_sup, MSG_SUP_CONF, 1, 1);
	send_frame(sp[0], 0);
	run_child(sp[0], sp[1]);
}
END_TEST

/* A well-formed LISTENER of a listener kind that does not exist. */
START_TEST(test_child_bad_value)
{
	int sp[2];

	pair(sp);
	PACK(&msg_proto_sup, MSG_SUP_LISTENER, 1, 1, (uint64_t)99,
	    "127.0.0.1", (uint64_t)80, (uint64_t)0);
	send_frame(sp[0], 1);
	run_child(sp[0], sp[1]);
}
END_TEST

/* START before CONF and SCOREBOARD. */
START_TEST(test_child_out_of_order)
{
	int sp[2];

	pair(sp);
	PACK(&msg_proto_sup, MSG_SUP_START, 1, 1);
	send_frame(sp[0], 0);
	run_child(sp[0], sp[1]);
}
END_TEST

/* ----------------------------------------------- a worker's peer channel */

/*
 * A channel to worker 1, as worker 0 gets it from SUP_PEER: peer_add()
 * on this process's loop, the frames waiting in it, then EOF.  Returns
 * when the loop has nothing left to do (the channel closed in order).
 */
static void
run_peer(int other_end, int our_end)
{
	struct child	c;

	close(other_end);
	memset(&c, 0, sizeof(c));
	c.c_role = ROLE_WORKER;
	c.c_index = 0;
	c.c_gen = 1;
	ck_assert_ptr_nonnull(c.c_loop = ev_default_loop(EVFLAG_AUTO));
	ck_assert_int_eq(fd_nonblock(our_end), 0);
	peer_add(&c, 1, 0, 1, our_end);
	peer_start();		/* held until then */
	ev_run(c.c_loop, 0);
}

/* Control: a good NOTIFY (this worker is not started: ignored), EOF. */
START_TEST(test_peer_good_frame)
{
	int sp[2];

	pair(sp);
	PACK(&msg_proto_peer, MSG_PEER_NOTIFY, 1, 1,
	    "notifications/tools/list_changed", "");
	send_frame(sp[0], 0);
	run_peer(sp[0], sp[1]);
}
END_TEST

START_TEST(test_peer_garbage)
{
	static const char junk[] = "\xc1\xc1\xc1 garbage";
	int sp[2];

	pair(sp);
	raw(junk, sizeof(junk) - 1);
	send_frame(sp[0], 0);
	run_peer(sp[0], sp[1]);
}
END_TEST

START_TEST(test_peer_trailing_bytes)
{
	int sp[2];

	pair(sp);
	PACK(&msg_proto_peer, MSG_PEER_NOTIFY, 1, 1,
	    "notifications/tools/list_changed", "");
	raw("\x01\x02", 2);
	send_frame(sp[0], 0);
	run_peer(sp[0], sp[1]);
}
END_TEST

START_TEST(test_peer_unknown_type)
{
	static const char env[] = { (char)0x93, MSG_PEER_COUNT, 0x01, 0x01 };
	int sp[2];

	pair(sp);
	raw(env, sizeof(env));
	send_frame(sp[0], 0);
	run_peer(sp[0], sp[1]);
}
END_TEST

START_TEST(test_peer_bad_sequence)
{
	int sp[2];

	pair(sp);
	PACK(&msg_proto_peer, MSG_PEER_NOTIFY, 1, 1,
	    "notifications/tools/list_changed", "");
	PACK(&msg_proto_peer, MSG_PEER_NOTIFY, 1, 3,
	    "notifications/tools/list_changed", "");
	send_frame(sp[0], 0);
	run_peer(sp[0], sp[1]);
}
END_TEST

/* A string where a number goes: NOTIFY's fields are strings. */
START_TEST(test_peer_field_type)
{
	static const char env[] = { (char)0x95, MSG_PEER_NOTIFY, 0x01, 0x01,
	    0x2a, (char)0xa0 };
	int sp[2];

	pair(sp);
	raw(env, sizeof(env));
	send_frame(sp[0], 0);
	run_peer(sp[0], sp[1]);
}
END_TEST

/* A connection handed over without the connection. */
START_TEST(test_peer_fd_missing)
{
	int sp[2];

	pair(sp);
	PACK(&msg_proto_peer, MSG_PEER_BODY, 1, 1, (uint64_t)10);
	send_frame(sp[0], 0);
	run_peer(sp[0], sp[1]);
}
END_TEST

START_TEST(test_peer_fd_not_expected)
{
	int sp[2];

	pair(sp);
	PACK(&msg_proto_peer, MSG_PEER_NOTIFY, 1, 1,
	    "notifications/tools/list_changed", "");
	send_frame(sp[0], 1);
	run_peer(sp[0], sp[1]);
}
END_TEST

START_TEST(test_peer_two_fds)
{
	int sp[2];

	pair(sp);
	PACK(&msg_proto_peer, MSG_PEER_BODY, 1, 1, (uint64_t)10);
	send_frame(sp[0], 2);
	run_peer(sp[0], sp[1]);
}
END_TEST

/* -------------------------------------------- the run channel, both ends */

/*
 * The runner's end of a worker's channel, with a configuration of no
 * tools (mcpd --stdio's way); EOF ends the loop: exit 0.
 */
static void
run_runner(int other_end, int our_end)
{
	struct ev_loop	*loop;
	struct conf	*c;

	close(other_end);
	ck_assert_ptr_nonnull(c = calloc(1, sizeof(*c)));
	conf_defaults(c);
	ck_assert_ptr_nonnull(loop = ev_default_loop(EVFLAG_AUTO));
	runner_local(loop, c, our_end);
	ev_run(loop, 0);
}

/* A worker's end of its channel to the runner. */
static void
run_worker(int other_end, int our_end)
{
	struct ev_loop *loop;

	close(other_end);
	ck_assert_ptr_nonnull(loop = ev_default_loop(EVFLAG_AUTO));
	mcp_exec_runner(loop, our_end);
	ev_run(loop, 0);
}

static const unsigned char no_digest[CONF_TOOL_DIGEST_BYTES];

/* Control: a cancel of a run that ended (ignored), EOF. */
START_TEST(test_run_good_frame)
{
	int sp[2];

	pair(sp);
	PACK(&msg_proto_run, MSG_RUN_CANCEL, 0, 1, (uint64_t)5);
	send_frame(sp[0], 0);
	run_runner(sp[0], sp[1]);
}
END_TEST

/* A tool the runner does not know is refused, not a bad frame. */
START_TEST(test_run_unknown_tool)
{
	int sp[2];

	pair(sp);
	PACK(&msg_proto_run, MSG_RUN_START, 0, 1, (uint64_t)1, "nope",
	    (const char *)no_digest, sizeof(no_digest), (uint64_t)6,
	    (uint64_t)0, "\0/bin/", (size_t)6);
	send_frame(sp[0], 0);
	run_runner(sp[0], sp[1]);
}
END_TEST

START_TEST(test_run_garbage)
{
	static const char junk[] = "\xc1\xc1\xc1 garbage";
	int sp[2];

	pair(sp);
	raw(junk, sizeof(junk) - 1);
	send_frame(sp[0], 0);
	run_runner(sp[0], sp[1]);
}
END_TEST

/* What the runner sends, sent to it. */
START_TEST(test_run_wrong_way)
{
	int sp[2];

	pair(sp);
	PACK(&msg_proto_run, MSG_RUN_DONE, 0, 1, (uint64_t)1, (uint64_t)0,
	    (uint64_t)0, (uint64_t)0, (uint64_t)0, (uint64_t)0, "", (size_t)0,
	    "", (size_t)0, "");
	send_frame(sp[0], 0);
	run_runner(sp[0], sp[1]);
}
END_TEST

/* A digest that is not one. */
START_TEST(test_run_bad_digest)
{
	int sp[2];

	pair(sp);
	PACK(&msg_proto_run, MSG_RUN_START, 0, 1, (uint64_t)1, "nope",
	    "abc", (size_t)3, (uint64_t)0, (uint64_t)0, "", (size_t)0);
	send_frame(sp[0], 0);
	run_runner(sp[0], sp[1]);
}
END_TEST

/* Words said to be in a RUN_ARGS that never came. */
START_TEST(test_run_args_missing)
{
	int sp[2];

	pair(sp);
	PACK(&msg_proto_run, MSG_RUN_START, 0, 1, (uint64_t)1, "nope",
	    (const char *)no_digest, sizeof(no_digest), (uint64_t)6,
	    (uint64_t)1, "", (size_t)0);
	send_frame(sp[0], 0);
	run_runner(sp[0], sp[1]);
}
END_TEST

/* Control on the worker's end: nothing, EOF (the runner stopped). */
START_TEST(test_exec_eof)
{
	int sp[2];

	pair(sp);
	run_worker(sp[0], sp[1]);
}
END_TEST

/* What a worker sends, sent to it. */
START_TEST(test_exec_wrong_way)
{
	int sp[2];

	pair(sp);
	PACK(&msg_proto_run, MSG_RUN_CANCEL, 0, 1, (uint64_t)5);
	send_frame(sp[0], 0);
	run_worker(sp[0], sp[1]);
}
END_TEST

/* The end of a run that was never asked for. */
START_TEST(test_exec_unknown_run)
{
	int sp[2];

	pair(sp);
	PACK(&msg_proto_run, MSG_RUN_DONE, 0, 1, (uint64_t)1, (uint64_t)0,
	    (uint64_t)0, (uint64_t)0, (uint64_t)0, (uint64_t)0, "", (size_t)0,
	    "", (size_t)0, "");
	send_frame(sp[0], 0);
	run_worker(sp[0], sp[1]);
}
END_TEST

/* ------------------------------------------------- the control socket */

static char	ctl_dir[64], ctl_path[128];

static void
ctl_setup(void)
{
	frames_setup();
	snprintf(ctl_dir, sizeof(ctl_dir), "/tmp/mcpd-check-exit-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(ctl_dir));
	snprintf(ctl_path, sizeof(ctl_path), "%s/ctl.sock", ctl_dir);
	ck_assert_ptr_nonnull(sup->s_loop = ev_default_loop(EVFLAG_AUTO));
	sup->s_ctl_fd = -1;
	ck_assert_int_eq(control_open(ctl_path), 0);
	control_start();
}

static void
ctl_teardown(void)
{
	control_close(ctl_path);
	rmdir(ctl_dir);
	frames_teardown();
}

static int
ctl_connect(void)
{
	struct sockaddr_un	sun;
	int			fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	ck_assert_uint_lt(strlen(ctl_path), sizeof(sun.sun_path));
	memcpy(sun.sun_path, ctl_path, strlen(ctl_path) + 1);
	ck_assert_int_ge(fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0),
	    0);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	return fd;
}

/*
 * Run the daemon's side (this process's loop) until the client has
 * something to read; returns what it read (0: EOF).
 */
static ssize_t
ctl_pump(int fd, char *buf, size_t len)
{
	struct pollfd	pfd;
	int		i;

	for (i = 0; i < PUMP_ROUNDS; i++) {
		ev_run(sup->s_loop, EVRUN_NOWAIT);
		pfd.fd = fd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, 10) == 1)
			return recv(fd, buf, len, 0);
	}
	ck_abort_msg("no answer on the control socket");
	return -1;
}

/*
 * A control client that sends garbage is dropped (EOF), and the daemon
 * serves the next one: this test ends normally, in the process that ran
 * the control socket.
 */
START_TEST(test_ctl_garbage_drops_client)
{
	static const char junk[] = "not msgpack at all";
	struct msg	m[MSG_PER_FRAME_MAX];
	char		buf[4096], err[160];
	ssize_t		n;
	int		fd;

	fd = ctl_connect();
	raw(junk, sizeof(junk) - 1);
	send_frame(fd, 0);
	n = ctl_pump(fd, buf, sizeof(buf));
	ck_assert_msg(n == 0, "the bad client got %zd bytes, not EOF", n);
	close(fd);
	ck_assert_uint_eq(sup->s_nctl, 0);

	/* an fd is never accepted there either */
	fd = ctl_connect();
	PACK(&msg_proto_ctl, MSG_CTL_STATUS, 0, 1,
	    (uint64_t)CTL_PROTO_VERSION);
	send_frame(fd, 1);
	n = ctl_pump(fd, buf, sizeof(buf));
	ck_assert_msg(n == 0, "the fd-passing client got %zd bytes, not EOF",
	    n);
	close(fd);
	ck_assert_uint_eq(sup->s_nctl, 0);

	/* the next client is answered: a request of another version */
	fd = ctl_connect();
	PACK(&msg_proto_ctl, MSG_CTL_STATUS, 0, 1, (uint64_t)99);
	send_frame(fd, 0);
	n = ctl_pump(fd, buf, sizeof(buf));
	ck_assert_int_gt(n, 0);
	ck_assert_int_eq(msg_unpack_frame(&msg_proto_ctl, buf, n, -1, 0, m,
	    err, sizeof(err)), 1);
	ck_assert_uint_eq(m[0].m_type, MSG_CTL_RESULT);
	ck_assert_uint_eq(m[0].m_f[0].u, 1);
	ck_assert_msg(m[0].m_f[1].s.len > 0 && memmem(m[0].m_f[1].s.p,
	    m[0].m_f[1].s.len, "control protocol 99", 19) != NULL,
	    "the answer: %.*s", (int)m[0].m_f[1].s.len, m[0].m_f[1].s.p);
	close(fd);
	/* its close is seen, and the client freed */
	for (n = 0; n < PUMP_ROUNDS && sup->s_nctl != 0; n++) {
		ev_run(sup->s_loop, EVRUN_NOWAIT);
		usleep(1000);
	}
	ck_assert_uint_eq(sup->s_nctl, 0);
}
END_TEST

static Suite *
exit_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("exit");

	tc = tcase_create("child");
	tcase_add_checked_fixture(tc, frames_setup, frames_teardown);
	tcase_set_timeout(tc, TEST_TIMEOUT_SECS);
	tcase_add_exit_test(tc, test_child_good_frame, 0);
	tcase_add_exit_test(tc, test_child_any_generation, 0);
	tcase_add_exit_test(tc, test_child_garbage, EXIT_FATAL);
	tcase_add_exit_test(tc, test_child_trailing_bytes, EXIT_FATAL);
	tcase_add_exit_test(tc, test_child_truncated, EXIT_FATAL);
	tcase_add_exit_test(tc, test_child_unknown_type, EXIT_FATAL);
	tcase_add_exit_test(tc, test_child_unexpected_type, EXIT_FATAL);
	tcase_add_exit_test(tc, test_child_bad_sequence, EXIT_FATAL);
	tcase_add_exit_test(tc, test_child_field_count, EXIT_FATAL);
	tcase_add_exit_test(tc, test_child_fd_not_expected, EXIT_FATAL);
	tcase_add_exit_test(tc, test_child_fd_missing, EXIT_FATAL);
	tcase_add_exit_test(tc, test_child_bad_value, EXIT_FATAL);
	tcase_add_exit_test(tc, test_child_out_of_order, EXIT_FATAL);
	suite_add_tcase(s, tc);

	tc = tcase_create("peer");
	tcase_add_checked_fixture(tc, frames_setup, frames_teardown);
	tcase_set_timeout(tc, TEST_TIMEOUT_SECS);
	tcase_add_exit_test(tc, test_peer_good_frame, 0);
	tcase_add_exit_test(tc, test_peer_garbage, EXIT_FATAL);
	tcase_add_exit_test(tc, test_peer_trailing_bytes, EXIT_FATAL);
	tcase_add_exit_test(tc, test_peer_unknown_type, EXIT_FATAL);
	tcase_add_exit_test(tc, test_peer_bad_sequence, EXIT_FATAL);
	tcase_add_exit_test(tc, test_peer_field_type, EXIT_FATAL);
	tcase_add_exit_test(tc, test_peer_fd_missing, EXIT_FATAL);
	tcase_add_exit_test(tc, test_peer_fd_not_expected, EXIT_FATAL);
	tcase_add_exit_test(tc, test_peer_two_fds, EXIT_FATAL);
	suite_add_tcase(s, tc);

	tc = tcase_create("run");
	tcase_add_checked_fixture(tc, frames_setup, frames_teardown);
	tcase_set_timeout(tc, TEST_TIMEOUT_SECS);
	tcase_add_exit_test(tc, test_run_good_frame, 0);
	tcase_add_exit_test(tc, test_run_unknown_tool, 0);
	tcase_add_exit_test(tc, test_run_garbage, EXIT_FATAL);
	tcase_add_exit_test(tc, test_run_wrong_way, EXIT_FATAL);
	tcase_add_exit_test(tc, test_run_bad_digest, EXIT_FATAL);
	tcase_add_exit_test(tc, test_run_args_missing, EXIT_FATAL);
	tcase_add_exit_test(tc, test_exec_eof, 0);
	tcase_add_exit_test(tc, test_exec_wrong_way, EXIT_FATAL);
	tcase_add_exit_test(tc, test_exec_unknown_run, EXIT_FATAL);
	suite_add_tcase(s, tc);

	tc = tcase_create("control");
	tcase_add_checked_fixture(tc, ctl_setup, ctl_teardown);
	tcase_set_timeout(tc, TEST_TIMEOUT_SECS);
	tcase_add_test(tc, test_ctl_garbage_drops_client);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr;
	int	 failed, fd;

	signal(SIGPIPE, SIG_IGN);
	/*
	 * The child's channel goes on CHILD_CHAN_FD: hold that descriptor
	 * now, so that Check's own files (opened by the runner) get others
	 * and a test that takes it over cannot write into them.
	 */
	if (fcntl(CHILD_CHAN_FD, F_GETFD) == -1) {
		if ((fd = open("/dev/null", O_RDONLY)) == -1)
			return 99;
		if (fd != CHILD_CHAN_FD) {
			if (dup2(fd, CHILD_CHAN_FD) == -1)
				return 99;
			close(fd);
		}
	}
	sr = srunner_create(exit_suite());
	if (srunner_fork_status(sr) == CK_NOFORK) {
		/* an exit test would end the runner itself */
		printf("check_exit: the exit tests need CK_FORK=yes; "
		    "skipped\n");
		srunner_free(sr);
		return 77;
	}
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
}
