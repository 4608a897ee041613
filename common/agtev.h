/*
 * agtev.h -- a replay event on the agent channel (msg_agent.def:
 * AGT_EV_PUT, AGT_EV_REC): an event longer than a frame takes goes in
 * parts of AGT_EV_CHUNK_BYTES, which the receiver joins.
 */
#ifndef MCPD_AGTEV_H
#define MCPD_AGTEV_H

#include <stddef.h>
#include <stdint.h>

#define AGT_EV_SID_MAX_BYTES	128	/* a session id, with NUL (any record's) */
#define AGT_EV_MAX_BYTES	(1024 * 1024) /* an event; MCP_REPLAY_BYTES */

struct chan;
struct msg;

struct agt_ev {
	char		 ev_sid[AGT_EV_SID_MAX_BYTES];
	uint64_t	 ev_stream;
	uint64_t	 ev_seq;
	int		 ev_final;
	char		*ev_data;	/* whole when agt_ev_take says so */
	size_t		 ev_len;
	size_t		 ev_cap;
	int		 ev_open;	/* a part came, more to come */
};

/* the event as one message of type (AGT_EV_PUT or _REC) or several */
int	agt_ev_send(struct chan *, uint32_t type, const char *sid,
	    uint64_t stream, uint64_t seq, const char *data, size_t len,
	    int final);
/*
 * A message of an event: 1 when ev holds a whole event now, 0 when more
 * is to come, -1 for a message that is not the part that was due (or an
 * event past AGT_EV_MAX_BYTES, or no memory): what came of it is dropped.
 */
int	agt_ev_take(struct agt_ev *, const struct msg *);
void	agt_ev_free(struct agt_ev *);

#endif
