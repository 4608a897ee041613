/*
 * admin.c -- the paths that are not MCP: /metrics (admin listeners only:
 * Prometheus text of every process, from the scoreboard), /readyz and
 * /healthz (both listeners: a load balancer asks the port it balances).
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

static void
serve_healthz(struct conn *c)
{
	struct child	*ch = worker->w_child;
	char		 body[256];
	int		 n;

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

int
admin_serve(struct conn *c)
{
	struct rhead	*h = &c->c_req->r_head;
	int		 m = c->c_parser.method;

	if (m != HTTP_GET && m != HTTP_HEAD)
		return 0;
	if (c->c_kind == LISTEN_ADMIN && head_path_is(h, "/metrics"))
		serve_metrics(c);
	else if (head_path_is(h, "/readyz")) {
		if (worker->w_quitting)
			reply(c, 503, "text/plain", NO_STORE, "draining\n", 9);
		else
			reply(c, 200, "text/plain", NO_STORE, "ready\n", 6);
	} else if (head_path_is(h, "/healthz"))
		serve_healthz(c);
	else
		return 0;
	return 1;
}
