/*
 * check_agent.c -- what the agent reads from other servers: where an
 * issuer's metadata is (keys_meta_url), and what an introspection answer
 * says (introspect_judge), with the answers a hostile or broken
 * authorization server gives.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "agent.h"
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

static Suite *
suite(void)
{
	Suite	*s = suite_create("agent");
	TCase	*tc = tcase_create("core");

	tcase_add_test(tc, test_meta_url);
	tcase_add_test(tc, test_active);
	tcase_add_test(tc, test_refused);
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
