/*
 * head.h -- the head of an HTTP request as the MCP endpoint reads it: the
 * target and the headers it looks at, gathered from the parser's pieces
 * under the rules of head.c.  Nothing here knows a socket, so the same code
 * reads a request from a client, from a hand-over (peer.c) and from a test.
 */
#ifndef MCPD_HEAD_H
#define MCPD_HEAD_H

#include <stddef.h>
#include <stdint.h>

#include "mcp.h"

#define HEAD_URL_BYTES		256	/* a target we keep; longer is no path of ours */
#define HEAD_NAME_BYTES		80	/* a header name we look at */
#define HEAD_AUTH_BYTES		4096	/* Authorization: a JWT of RS256 and claims */

/* The headers the endpoint reads, each kept whole or refused (431). */
enum head_hdr {
	HH_HOST,
	HH_ORIGIN,
	HH_ACCEPT,
	HH_CTYPE,
	HH_SID,			/* Mcp-Session-Id */
	HH_PROTO,		/* MCP-Protocol-Version */
	HH_LASTEVENT,		/* Last-Event-ID */
	HH_METHOD,		/* Mcp-Method */
	HH_NAME,		/* Mcp-Name */
	HH_AUTH,		/* Authorization */
	HH_TE,			/* Transfer-Encoding: refused (411) */
	HH_EXPECT,		/* Expect */
	HH_COUNT
};

/* why a head was refused: head_status() and head_why() tell the client */
enum head_err {
	HEAD_OK,
	HEAD_E_TOO_BIG,		/* past max-header-size: 431 */
	HEAD_E_VALUE_LONG,	/* one header's value longer than we keep: 431 */
	HEAD_E_REPEATED,	/* a header that may come once came twice: 400 */
	HEAD_E_BAD_NAME		/* not a token (a space before the colon): 400 */
};

struct rhead {
	char		 rh_url[HEAD_URL_BYTES];
	size_t		 rh_urllen;
	int		 rh_url_long;		/* longer than rh_url */
	/* the header being read: its name, then its value in pieces */
	char		 rh_field[HEAD_NAME_BYTES];
	size_t		 rh_fieldlen;
	int		 rh_in_value;
	int		 rh_cur;		/* enum head_hdr, or HH_PARAM, -1 */
	/* the values, NUL-terminated, "" when absent */
	char		 rh_host[256];
	char		 rh_origin[256];
	char		 rh_accept[256];
	char		 rh_ctype[128];
	char		 rh_sid[MCP_SID_MAX_CHARS + 2];
	char		 rh_proto[32];
	char		 rh_lastevent[80];
	char		 rh_method[80];
	char		 rh_name[1024];
	char		 rh_auth[HEAD_AUTH_BYTES];
	char		 rh_te[64];
	char		 rh_expect[64];
	/* an absolute-form target (RFC 9112 3.2.2): its host, not Host's */
	char		 rh_authority[256];
	int		 rh_absolute;
	uint32_t	 rh_seen;		/* 1 << enum head_hdr */
	/* Mcp-Param-*: name NUL value NUL ..., at rh_poff[] / rh_pval[] */
	char		 rh_params[MCP_PARAM_HEADER_BYTES];
	size_t		 rh_paramslen;
	uint16_t	 rh_poff[MCP_PARAM_HEADERS_MAX];
	uint16_t	 rh_pval[MCP_PARAM_HEADERS_MAX];
	unsigned	 rh_nparams;
	int		 rh_params_over;	/* more than the engine takes */
	/* bounds */
	uint32_t	 rh_bytes;		/* target, names and values */
	uint32_t	 rh_max;		/* max-header-size */
	enum head_err	 rh_err;
	char		 rh_errhdr[HEAD_NAME_BYTES];	/* the header it names */
};

/* head.c */
void	 head_init(struct rhead *, uint32_t max_bytes);
/*
 * The parser's pieces, in the order they come: 0, or -1 once the head is
 * refused (rh_err says why; what follows is not looked at).
 */
int	 head_url(struct rhead *, const char *, size_t);
int	 head_field(struct rhead *, const char *, size_t);
int	 head_value(struct rhead *, const char *, size_t);
/* the last header is whole: 0, or -1 as above */
int	 head_end(struct rhead *);
/* one whole header, as a hand-over or a test gives it */
int	 head_add(struct rhead *, const char *name, const char *value);
/* a header's value ("" when absent), and whether it came */
const char *head_get(const struct rhead *, enum head_hdr);
int	 head_has(const struct rhead *, enum head_hdr);
/*
 * every header kept, by its canonical name, as head_add() takes them
 * (rh_params_over is not among them: a hand-over carries it apart)
 */
typedef int	(*head_each_fn)(void *, const char *name, const char *value);
int	 head_each(const struct rhead *, head_each_fn, void *);
/* the headers that mirror the body, for the engine */
void	 head_mcp_headers(const struct rhead *, struct mcp_headers *);
/* the HTTP status of a refused head and a line that says why */
int	 head_status(const struct rhead *);
const char *head_why(const struct rhead *, char *buf, size_t len);
/* the request's path is path (the target up to a query) */
int	 head_path_is(const struct rhead *, const char *path);
/* the host the request names: an absolute target's, else Host's */
const char *head_host(const struct rhead *);
/* v, a list-valued header, holds the token (case-insensitive) */
int	 head_list_has(const char *v, const char *token);

#endif
