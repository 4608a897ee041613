/*
 * audit.h -- the audit log (access-log in mcpd.conf): one line for each
 * tools/call, resources/read and prompts/get a worker serves, and for
 * each request refused for its token.
 */
#ifndef MCPD_WORKER_AUDIT_H
#define MCPD_WORKER_AUDIT_H

#define AUDIT_LINE_MAX_BYTES	8192	/* a line, longer values cut */
#define AUDIT_NAME_MAX_BYTES	256	/* a tool, prompt or URI kept */

struct conf;
struct conn;

/* Open (or close) the log the configuration names. */
void	audit_open(const struct conf *);
/* SIGUSR1: a rotated file is opened again by its name. */
void	audit_reopen(void);
/* The request of c is answered: its line, when it is one audited. */
void	audit_request(struct conn *);
/* c's request was refused for its token: why ("invalid_token"...). */
void	audit_denied(struct conn *, const char *why);

#endif
