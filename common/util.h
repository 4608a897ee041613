/*
 * util.h -- small helpers shared by every process.
 */
#ifndef MCPD_UTIL_H
#define MCPD_UTIL_H

#include <stddef.h>
#include <stdint.h>

/*
 * The clocks: now_* is CLOCK_MONOTONIC (durations, deadlines), wall_ms
 * CLOCK_REALTIME (dates); libev's ev_now() is the loop's cached wall time.
 */
uint64_t	 now_us(void);
uint64_t	 now_ms(void);
uint64_t	 wall_ms(void);
/* c may be in a token of HTTP (RFC 9110 5.6.2): a header's name */
int		 is_tchar(int c);
int		 fd_nonblock(int);
int		 fd_cloexec(int, int on);
void		 close_from(int lowfd);
/*
 * A memfd of a's alen bytes then b's blen, at offset 0, sealed against
 * any change (a message's large part, sent by SCM_RIGHTS): its fd, or -1.
 */
/*
 * A regular file of at most max bytes, read whole (non-blocking open: a
 * FIFO does not hang us), NUL-terminated in *buf (free it): 0, or -1 and
 * "path: why" in err.
 */
int		 file_read(const char *path, size_t max, char **buf,
		    size_t *len, char *err, size_t errlen);
int		 memfd_sealed(const char *name, const void *a, size_t alen,
		    const void *b, size_t blen);
/* "signal 9" / "status 1" for a wait status */
const char	*wait_status_str(int status, char *buf, size_t len);

/* proctitle.c */
void		 proctitle_init(int argc, char **argv);
void		 proctitle_set(const char *fmt, ...)
		    __attribute__((format(printf, 1, 2)));

#endif
