/*
 * NAME
 *	fuzz_introspect.c -- libFuzzer target for what the agent reads from
 *	an authorization server
 *
 * DESCRIPTION
 *	Each input is an RFC 7662 introspection answer for
 *	introspect_judge() (agent/introspect.c), and, up to its first NUL,
 *	an issuer for keys_meta_url() (agent/keys.c).  An answer taken as
 *	active must name a principal "oauth:ISS#SUB" of printable characters
 *	without a second '#' in its issuer, scopes of printable characters,
 *	and be kept no longer than the cache time; one that is not an answer
 *	must not be kept at all.  A metadata URL is NUL-terminated within
 *	its buffer, or the call says it does not fit.
 *
 *	Built by "make fuzz" (fuzz.am); "make fuzz-run" runs it over
 *	tests/fuzz/corpus/introspect.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "msg.h"

#define AUD		"https://mcp.example/mcp"
#define ISS		"https://as.example"
#define NOW		1800000000
#define CACHE_MS	300000

#define CHECK(c) do {							\
	if (!(c)) {							\
		fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__,	\
		    __LINE__, #c);					\
		abort();						\
	}								\
} while (0)

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static int
printable(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < ' ' || *s == 0x7f)
			return 0;
	return 1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct introspection	 in;
	char			 iss[1024], url[256];
	const char		*hash;
	size_t			 n;
	int			 r;

	introspect_judge((const char *)data, size, AUD, ISS, CACHE_MS, NOW,
	    &in);
	switch (in.in_verdict) {
	case AGT_ACTIVE:
		CHECK(strncmp(in.in_principal, "oauth:", 6) == 0);
		CHECK(printable(in.in_principal));
		CHECK(printable(in.in_scopes));
		hash = strchr(in.in_principal, '#');
		CHECK(hash != NULL && hash[1] != '\0');
		CHECK(in.in_until > NOW && in.in_until <= NOW + CACHE_MS / 1000);
		break;
	case AGT_INACTIVE:
		CHECK(in.in_principal[0] == '\0');
		CHECK(in.in_until <= NOW + 10);
		break;
	case AGT_UNAVAILABLE:
		CHECK(in.in_until == 0 && in.in_principal[0] == '\0');
		break;
	default:
		CHECK(0);
	}

	n = strnlen((const char *)data, size);
	if (n >= sizeof(iss))
		n = sizeof(iss) - 1;
	memcpy(iss, data, n);
	iss[n] = '\0';
	for (r = 0; r < 2; r++) {
		memset(url, 'x', sizeof(url));
		if (keys_meta_url(iss, r, url, sizeof(url)) == 0)
			CHECK(memchr(url, '\0', sizeof(url)) != NULL &&
			    strstr(url, "/.well-known/") != NULL);
	}
	return 0;
}
