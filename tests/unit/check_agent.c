/*
 * check_agent.c -- what the agent reads from other servers: where an
 * issuer's metadata is (keys_meta_url), and what an introspection answer
 * says (introspect_judge), with the answers a hostile or broken
 * authorization server gives; the registry's replay events: an event in
 * parts (agt_ev_take), the bounds of a session's events, and events shed
 * before a record is refused.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "agent.h"
#include "agtev.h"
#include "conf.h"
#include "msg.h"

#define AUD	"https://mcp.example.com/mcp"
#define ISS	"https://login.example.com"
#define NOW	1800000000

static struct introspection in;

static void
judge(const char *json)
{
	introspect_judge(json, strlen(json), AUD, ISS, 300000, NOW, &in);
}

START_TEST(test_meta_url)
{
	char buf[512];

	ck_assert_int_eq(keys_meta_url("https://a.example", 0, buf,
	    sizeof(buf)), 0);
	ck_assert_str_eq(buf,
	    "https://a.example/.well-known/oauth-authorization-server");
	/* RFC 8414 3.1: the well-known part goes before the path */
	keys_meta_url("https://a.example/realms/mcp/", 0, buf, sizeof(buf));
	ck_assert_str_eq(buf, "https://a.example/.well-known/"
	    "oauth-authorization-server/realms/mcp");
	/* OIDC Discovery 4: after it */
	keys_meta_url("https://a.example/realms/mcp/", 1, buf, sizeof(buf));
	ck_assert_str_eq(buf,
	    "https://a.example/realms/mcp/.well-known/openid-configuration");
	keys_meta_url("http://127.0.0.1:9", 1, buf, sizeof(buf));
	ck_assert_str_eq(buf,
	    "http://127.0.0.1:9/.well-known/openid-configuration");
	/* what does not fit is an error, not a cut URL */
	ck_assert_int_eq(keys_meta_url("https://a.example/realms/mcp", 0, buf,
	    40), -1);
}
END_TEST

START_TEST(test_active)
{
	judge("{\"active\":true,\"sub\":\"alice\",\"scope\":\"mcp:tools a\","
	    "\"exp\":1800000100,\"aud\":[\"x\",\"" AUD "\"]}");
	ck_assert_int_eq(in.in_verdict, AGT_ACTIVE);
	ck_assert_str_eq(in.in_principal, "oauth:" ISS "#alice");
	ck_assert_str_eq(in.in_scopes, "mcp:tools a");
	/* kept until exp, which comes before the cache's 5 minutes */
	ck_assert_uint_eq(in.in_until, 1800000100);
	judge("{\"active\":true,\"client_id\":\"svc\",\"iss\":\"https://o\"}");
	ck_assert_int_eq(in.in_verdict, AGT_ACTIVE);
	ck_assert_str_eq(in.in_principal, "oauth:https://o#client:svc");
	ck_assert_str_eq(in.in_scopes, "");
	ck_assert_uint_eq(in.in_until, NOW + 300);
}
END_TEST

START_TEST(test_refused)
{
	static const char *inactive[] = {
		"{\"active\":false,\"sub\":\"alice\"}",
		"{\"active\":true}",				/* nobody */
		"{\"active\":true,\"sub\":\"\"}",
		"{\"active\":true,\"sub\":\"a\",\"exp\":1800000000}",
		"{\"active\":true,\"sub\":\"a\",\"exp\":\"never\"}",
		"{\"active\":true,\"sub\":\"a\",\"aud\":\"https://other\"}",
		"{\"active\":true,\"sub\":\"a\",\"aud\":[]}",
		"{\"active\":true,\"sub\":\"a\",\"aud\":[1,2]}",
		"{\"active\":true,\"sub\":\"a\\nb\"}",		/* a log line */
		"{\"active\":true,\"sub\":\"a\\u0000b\"}",
		"{\"active\":true,\"sub\":\"a\",\"iss\":\"x#y\"}",
		"{\"active\":true,\"sub\":7}",
		"{\"active\":true,\"sub\":\"a\",\"scope\":\"a\\tb\"}",
		NULL
	};
	static const char *garbage[] = {
		"", "[]", "\"active\"", "{\"active\":1,\"sub\":\"a\"}",
		"{\"active\":\"true\",\"sub\":\"a\"}", "{\"sub\":\"a\"}",
		"{\"active\":true,\"active\":true,\"sub\":\"a\"}",
		"{\"active\":true,\"sub\":\"a\"", NULL
	};
	char	 big[4096], sub[3001];
	int	 i;

	for (i = 0; inactive[i] != NULL; i++) {
		judge(inactive[i]);
		ck_assert_msg(in.in_verdict == AGT_INACTIVE, "%s", inactive[i]);
		ck_assert_str_eq(in.in_principal, "");
	}
	for (i = 0; garbage[i] != NULL; i++) {
		judge(garbage[i]);
		ck_assert_msg(in.in_verdict == AGT_UNAVAILABLE, "%s",
		    garbage[i]);
		ck_assert_uint_eq(in.in_until, 0);	/* not kept */
	}
	/* a subject longer than a principal holds */
	memset(sub, 'a', sizeof(sub) - 1);
	sub[sizeof(sub) - 1] = '\0';
	snprintf(big, sizeof(big), "{\"active\":true,\"sub\":\"%s\"}", sub);
	judge(big);
	ck_assert_int_eq(in.in_verdict, AGT_INACTIVE);
}
END_TEST

/* one frame of an event, as the channel would decode it */
static struct msg *
part(const char *sid, uint64_t stream, uint64_t seq, uint64_t flags,
    const char *data, size_t len)
{
	static struct msg m;

	memset(&m, 0, sizeof(m));
	m.m_type = MSG_AGT_EV_PUT;
	m.m_nfields = 5;
	m.m_f[0].s.p = sid;
	m.m_f[0].s.len = strlen(sid);
	m.m_f[1].u = stream;
	m.m_f[2].u = seq;
	m.m_f[3].u = flags;
	m.m_f[4].s.p = data;
	m.m_f[4].s.len = (uint32_t)len;
	return &m;
}

START_TEST(test_ev_parts)
{
	struct agt_ev	 ev;
	char		*big;

	memset(&ev, 0, sizeof(ev));
	ck_assert_int_eq(agt_ev_take(&ev, part("s1", 7, 3, AGT_EV_MORE, "ab",
	    2)), 0);
	ck_assert_int_eq(agt_ev_take(&ev, part("s1", 7, 3, AGT_EV_MORE, "cd",
	    2)), 0);
	ck_assert_int_eq(agt_ev_take(&ev, part("s1", 7, 3, AGT_EV_FINAL, "e",
	    1)), 1);
	ck_assert_uint_eq(ev.ev_len, 5);
	ck_assert(memcmp(ev.ev_data, "abcde", 5) == 0);
	ck_assert_int_eq(ev.ev_final, 1);
	ck_assert_uint_eq(ev.ev_stream, 7);
	ck_assert_uint_eq(ev.ev_seq, 3);
	/* a part of another event while one is open: both dropped */
	ck_assert_int_eq(agt_ev_take(&ev, part("s1", 7, 4, AGT_EV_MORE, "x",
	    1)), 0);
	ck_assert_int_eq(agt_ev_take(&ev, part("s1", 8, 4, 0, "y", 1)), -1);
	ck_assert_int_eq(agt_ev_take(&ev, part("s2", 1, 1, 0, "z", 1)), 1);
	ck_assert_uint_eq(ev.ev_len, 1);
	/* unknown flags; an event past AGT_EV_MAX_BYTES */
	ck_assert_int_eq(agt_ev_take(&ev, part("s2", 1, 2, 0x10, "z", 1)), -1);
	big = calloc(1, AGT_EV_CHUNK_BYTES);
	ck_assert_ptr_nonnull(big);
	for (size_t n = 0; ; n += AGT_EV_CHUNK_BYTES) {
		int r = agt_ev_take(&ev, part("s3", 1, 1, AGT_EV_MORE, big,
		    AGT_EV_CHUNK_BYTES));

		if (n + AGT_EV_CHUNK_BYTES > AGT_EV_MAX_BYTES) {
			ck_assert_int_eq(r, -1);
			break;
		}
		ck_assert_int_eq(r, 0);
	}
	free(big);
	agt_ev_free(&ev);
}
END_TEST

static void
put_event(uint32_t slot, const char *sid, uint64_t seq, size_t len)
{
	struct agt_ev	 ev;
	static char	 data[64 * 1024];

	memset(&ev, 0, sizeof(ev));
	snprintf(ev.ev_sid, sizeof(ev.ev_sid), "%s", sid);
	ev.ev_stream = 1;
	ev.ev_seq = seq;
	ev.ev_data = data;
	ev.ev_len = len;
	registry_event(slot, &ev);
}

START_TEST(test_registry_events)
{
	struct conf		c;
	struct registry_stats	st;
	uint64_t		i;
	static char		rec[200 * 1024];

	memset(&c, 0, sizeof(c));
	c.c_workers = 2;
	c.c_registry_records = 10;
	c.c_registry_bytes = 1024 * 1024;
	registry_load(&c);
	registry_put(0, "a", "{}", 2);
	registry_put(0, "b", "{}", 2);
	/* a session not kept, a slot not its own: no events kept */
	put_event(0, "nobody", 1, 10);
	put_event(1, "a", 1, 10);
	registry_stats(&st);
	ck_assert_uint_eq(st.rs_events, 0);
	/* a session keeps its last 64 */
	for (i = 1; i <= 100; i++)
		put_event(0, "a", i, 10);
	registry_stats(&st);
	ck_assert_uint_eq(st.rs_events, 64);
	ck_assert_uint_eq(st.rs_shed, 0);
	/* past the bytes: the node's oldest events go, the records stay */
	for (i = 1; i <= 40; i++)
		put_event(0, "b", i, 60 * 1024);
	registry_stats(&st);
	ck_assert_uint_le(st.rs_bytes, c.c_registry_bytes);
	ck_assert_uint_gt(st.rs_shed, 0);
	ck_assert_uint_eq(st.rs_records, 2);
	/* a record finds room by shedding events, not by refusal */
	i = st.rs_shed;
	registry_put(0, "c", rec, sizeof(rec));
	registry_stats(&st);
	ck_assert_uint_eq(st.rs_records, 3);
	ck_assert_uint_eq(st.rs_refused, 0);
	ck_assert_uint_gt(st.rs_shed, i);
	ck_assert_uint_le(st.rs_bytes, c.c_registry_bytes);
	/* a session gone takes its events */
	registry_del(0, "b");
	registry_del(0, "a");
	registry_stats(&st);
	ck_assert_uint_eq(st.rs_events, 0);
	ck_assert_uint_eq(st.rs_records, 1);
	/* a reload down to one worker: worker 1's records go, and stay out */
	registry_put(1, "d", "{}", 2);
	registry_stats(&st);
	ck_assert_uint_eq(st.rs_records, 2);
	c.c_workers = 1;
	registry_load(&c);
	registry_put(1, "e", "{}", 2);
	registry_stats(&st);
	ck_assert_uint_eq(st.rs_records, 1);
	registry_forget(0);
	registry_stats(&st);
	ck_assert_uint_eq(st.rs_records, 0);
	ck_assert_uint_eq(st.rs_bytes, 0);
}
END_TEST

static Suite *
suite(void)
{
	Suite	*s = suite_create("agent");
	TCase	*tc = tcase_create("core");

	tcase_add_test(tc, test_meta_url);
	tcase_add_test(tc, test_active);
	tcase_add_test(tc, test_refused);
	tcase_add_test(tc, test_ev_parts);
	tcase_add_test(tc, test_registry_events);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr = srunner_create(suite());
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
