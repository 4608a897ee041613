/*
 * admit.c -- admission: what a worker refuses before the engine sees a
 * request, so that overload is answered, never absorbed.
 *
 *  - the emergency alert tier sheds new work (503; tasks/ requests, which
 *    only look at accepted work, still pass);
 *  - a principal past request-rate gets 429 (the principal of its
 *    verified token, else its address);
 *  - requests in flight are bounded by this worker's share of max-pending
 *    (503);
 *  - a new session is bounded by this worker's share of max-sessions and
 *    by initialize-rate per address (503).
 *
 * Every refusal carries Retry-After and a JSON-RPC error with the
 * request's id, and is counted by reason in mcpd_rejections_total.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "http.h"
#include "metrics.h"
#include "scoreboard.h"

/* A word the supervisor publishes in the scoreboard (0 without one). */
static uint64_t
sup_says(int word)
{
	const struct scoreboard *sb = &worker->w_child->c_sb;

	return sb->sb_hdr != NULL ? SB_HDR_GET(sb, word) : 0;
}

/* The emergency tier's response is on (the supervisor says so). */
static int
shedding(void)
{
	return sup_says(SB_H_SHEDDING) != 0;
}

/*
 * This worker, or the whole daemon, is going: no more keep-alive, and
 * HAProxy's checks hear so (the daemon serves on for shutdown-delay).
 */
int
admit_stopping(void)
{
	return worker->w_quitting || sup_says(SB_H_STOPPING) != 0;
}

/*
 * Who a request is from, for request-rate: the principal its token was
 * verified for (auth.c), hashed, or its address.  An unverified token
 * names nobody: one made up for each request was a fresh budget.
 */
static const unsigned char *
principal(struct conn *c)
{
	static unsigned char	 key[ADDR_KEY_BYTES];
	const char		*p = c->c_req->r_principal;

	if (p[0] == '\0')
		return c->c_addr;
	crypto_generichash(key, sizeof(key), (const unsigned char *)p,
	    strlen(p), NULL, 0);
	return key;
}

/* The refusal: status, Retry-After, the request's id, counted by why. */
static int
refuse(struct conn *c, const struct mcp_msg *m, int status,
    enum mx_reason why, const char *message)
{
	mcp_write_error_data(worker->w_mcp, m->m_kind == MCP_REQUEST ? m :
	    NULL, MCP_SERVER_ERROR, message, MCP_RETRY_DATA);
	if (worker->w_metrics != NULL)
		MX_ADD(&worker->w_metrics->m_rejected[why], 1);
	reply_out(c, status, "Retry-After: 1\r\n");
	return -1;
}

static int
overloaded(struct conn *c, const struct mcp_msg *m, enum mx_reason why,
    const char *what)
{
	char msg[128];

	snprintf(msg, sizeof(msg), "Server overloaded: %s", what);
	return refuse(c, m, 503, why, msg);
}

int
admit_request(struct conn *c, const struct mcp_msg *m)
{
	struct hreq		*r = c->c_req;
	const struct hcfg	*h = &worker->w_http;

	if (m->m_kind != MCP_REQUEST && m->m_kind != MCP_BATCH)
		return 0;
	/* the emergency tier: new work waits outside (accepted work not) */
	if (r->r_mx != MX_TASKS && shedding())
		return overloaded(c, m, MX_R_SHED, "shedding load");
	/* a hand-over's rate was taken by the worker that read it */
	if (h->h_request_rate != 0 && !r->r_admitted &&
	    !worker_rate(RATE_REQUEST, principal(c), h->h_request_rate))
		return refuse(c, m, 429, MX_R_RATE, "Rate limit exceeded: "
		    "too many requests a second");
	/* the requests in flight are bounded: new work waits outside */
	if (h->h_pending_max != 0 && worker->w_pending >= h->h_pending_max &&
	    r->r_mx != MX_LISTEN)
		return overloaded(c, m, MX_R_PENDING,
		    "too many requests in flight");
	return 0;
}

int
admit_session(struct conn *c, const struct mcp_msg *m)
{
	const struct hcfg *h = &worker->w_http;

	if (h->h_sessions_max != 0 &&
	    mcp_session_count(worker->w_mcp) >= h->h_sessions_max)
		return overloaded(c, m, MX_R_SESSIONS, "too many sessions");
	if (!worker_rate(RATE_INITIALIZE, c->c_addr, h->h_initialize_rate))
		return overloaded(c, m, MX_R_SESSIONS, "too many new "
		    "sessions from one address");
	return 0;
}
