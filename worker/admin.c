/*
 * admin.c -- the paths that are not MCP: /metrics (admin listeners only:
 * Prometheus text of every process, from the scoreboard), /agent (admin
 * listeners: HAProxy's agent check), /readyz and /healthz (both
 * listeners: a load balancer asks the port it balances).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "http.h"
#include "metrics.h"
#include "scoreboard.h"

#define NO_STORE	"Cache-Control: no-store\r\n"

static void
serve_metrics(struct conn *c)
{
	char	*text;
	size_t	 len;

	update_gauges();
	if ((text = mx_prometheus(&worker->w_child->c_sb, &len)) == NULL) {
		reply(c, 500, NULL, NULL, NULL, 0);
		return;
	}
	reply(c, 200, "text/plain; version=0.0.4; charset=utf-8", NO_STORE,
	    text, len);
	free(text);
}

/*
 * /healthz: this worker answers.  On a public listener that is all it
 * says (healthz admin, the default); its figures and process ids only
 * on admin listeners, or on every one with healthz all.
 */
static void
serve_healthz(struct conn *c)
{
	struct child	*ch = worker->w_child;
	char		 body[256];
	int		 n;

	if (c->c_kind != LISTEN_ADMIN &&
	    ch->c_conf->c_healthz != HEALTHZ_ALL) {
		static const char ok[] = "{\"status\":\"ok\"}\n";

		reply(c, 200, "application/json", NO_STORE, ok,
		    sizeof(ok) - 1);
		return;
	}
	n = snprintf(body, sizeof(body),
	    "{\"status\":\"ok\",\"pid\":%ld,\"worker\":%u,"
	    "\"generation\":%u,\"connections\":%llu,\"sessions\":%u,"
	    "\"listeners\":%u,\"tasks\":%u,\"overflows\":%llu,"
	    "\"pending\":%llu}\n",
	    (long)getpid(), ch->c_index, ch->c_gen,
	    (unsigned long long)worker->w_conns,
	    mcp_session_count(worker->w_mcp),
	    mcp_listener_count(worker->w_mcp),
	    mcp_task_count(worker->w_mcp),
	    (unsigned long long)overflows,
	    (unsigned long long)worker->w_pending);
	reply(c, 200, "application/json", NO_STORE, body, n);
}

/*
 * HAProxy's agent check (etc/haproxy/mcpd.cfg: agent-send "GET /agent
 * HTTP/1.0"): HAProxy takes the words of the first line it reads, the
 * status line, and ignores the others, so the reason phrase is the
 * answer.  "ready up 100%": serve; "drain": no new clients, those with a
 * session id of ours still come (a draining worker, load being shed);
 * "down": a fenced node, which must serve nothing it may have lost.  A
 * cluster node cut from Redis says "ready up 1%": the others, if they
 * still reach it, take nearly all new clients (what needs shared state
 * would fail here), yet when Redis itself is down and every node says
 * so, HAProxy still has servers for the stateless requests -- "drain"
 * from all of them would leave it none.
 */
static void
serve_agent(struct conn *c)
{
	const struct mx_cluster	*cl = worker->w_child->c_sb.sb_cluster;
	const char		*words = "ready up 100%", *why = "serving";
	int			 status = 200;
	char			 body[128];
	int			 n;

	if (cl != NULL && MX_GET(&cl->c_enabled) &&
	    MX_GET(&cl->c_fenced_now)) {
		status = 503;
		words = "down";
		why = "fenced: a newer run has this node's id";
	} else if (admit_stopping()) {
		words = "drain";
		why = "this worker is stopping";
	} else if (SB_HDR_GET(&worker->w_child->c_sb, SB_H_SHEDDING)) {
		words = "drain";
		why = "shedding load (alert tier emergency)";
	} else if (cl != NULL && MX_GET(&cl->c_enabled) &&
	    !MX_GET(&cl->c_up)) {
		words = "ready up 1%";
		why = "cut from Redis";
	}
	n = snprintf(body, sizeof(body), "%s: %s\n", words, why);
	reply_as(c, status, words, "text/plain", NO_STORE, body, (size_t)n);
}

int
admin_serve(struct conn *c)
{
	struct rhead	*h = &c->c_req->r_head;
	int		 m = c->c_parser.method;

	if (m != HTTP_GET && m != HTTP_HEAD)
		return 0;
	if (c->c_kind == LISTEN_ADMIN && head_path_is(h, "/metrics"))
		serve_metrics(c);
	else if (c->c_kind == LISTEN_ADMIN && head_path_is(h, "/agent"))
		serve_agent(c);
	else if (head_path_is(h, "/readyz")) {
		if (admit_stopping())
			reply(c, 503, "text/plain", NO_STORE, "draining\n", 9);
		else
			reply(c, 200, "text/plain", NO_STORE, "ready\n", 6);
	} else if (head_path_is(h, "/healthz"))
		serve_healthz(c);
	else
		return 0;
	return 1;
}
