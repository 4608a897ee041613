/*
 * agtev.c -- a replay event on the agent channel, in one frame or in
 * parts (agtev.h).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agtev.h"
#include "msg.h"

int
agt_ev_send(struct chan *ch, uint32_t type, const char *sid, uint64_t stream,
    uint64_t seq, const char *data, size_t len, int final)
{
	size_t		n;
	uint64_t	flags;

	do {
		n = len > AGT_EV_CHUNK_BYTES ? AGT_EV_CHUNK_BYTES : len;
		flags = (final ? AGT_EV_FINAL : 0) |
		    (len > n ? AGT_EV_MORE : 0);
		if (chan_send(ch, type, -1, sid, stream, seq, flags, data,
		    n) == -1)
			return -1;
		data += n;
		len -= n;
	} while (len > 0);
	return 0;
}

void
agt_ev_free(struct agt_ev *ev)
{
	free(ev->ev_data);
	memset(ev, 0, sizeof(*ev));
}

int
agt_ev_take(struct agt_ev *ev, const struct msg *m)
{
	char		 sid[AGT_EV_SID_MAX_BYTES];
	uint64_t	 stream = m->m_f[1].u, seq = m->m_f[2].u;
	uint64_t	 flags = m->m_f[3].u;
	size_t		 n = m->m_f[4].s.len, cap;
	char		*p;

	if (msg_strcpy(sid, sizeof(sid), &m->m_f[0]) == -1 ||
	    (flags & ~(uint64_t)(AGT_EV_FINAL | AGT_EV_MORE)) != 0)
		goto bad;
	if (ev->ev_open) {
		/* the next part of the same event */
		if (strcmp(sid, ev->ev_sid) != 0 || stream != ev->ev_stream ||
		    seq != ev->ev_seq)
			goto bad;
	} else {
		snprintf(ev->ev_sid, sizeof(ev->ev_sid), "%s", sid);
		ev->ev_stream = stream;
		ev->ev_seq = seq;
		ev->ev_len = 0;
	}
	if (n > AGT_EV_MAX_BYTES - ev->ev_len)
		goto bad;
	if (ev->ev_len + n > ev->ev_cap || ev->ev_data == NULL) {
		cap = ev->ev_len + n > 0 ? ev->ev_len + n : 1;
		if (flags & AGT_EV_MORE)
			cap = AGT_EV_MAX_BYTES < cap * 2 ? AGT_EV_MAX_BYTES :
			    cap * 2;
		if ((p = realloc(ev->ev_data, cap)) == NULL)
			goto bad;
		ev->ev_data = p;
		ev->ev_cap = cap;
	}
	if (n > 0)
		memcpy(ev->ev_data + ev->ev_len, m->m_f[4].s.p, n);
	ev->ev_len += n;
	ev->ev_final = (flags & AGT_EV_FINAL) != 0;
	ev->ev_open = (flags & AGT_EV_MORE) != 0;
	return ev->ev_open ? 0 : 1;
bad:
	ev->ev_open = 0;
	ev->ev_len = 0;
	return -1;
}
