/*
 * json.h -- JSON for mcpd (the MCP engine, the config parser): a
 * zero-allocation tokenizer (jsmn, in strict mode, plus the checks jsmn
 * leaves out) and a writer that appends to a reusable buffer.
 *
 * Parsing never allocates: tokens go into an array the caller owns (one per
 * worker), and strings are read in place.  Writing appends into a growable
 * buffer that is reset, not freed, between messages, so a warmed-up worker
 * allocates nothing per request.
 */
#ifndef MCPD_JSON_H
#define MCPD_JSON_H

#include <stddef.h>
#include <stdint.h>

/* jsmn is header-only: json.c (JSON_IMPL) holds its one definition */
#define JSMN_STRICT
#define JSMN_PARENT_LINKS
#ifndef JSON_IMPL
#define JSMN_HEADER
#endif
#include <jsmn.h>

#define JSON_TOKENS_MAX		65536	/* tokens in one message */
#define JSON_DEPTH_MAX		64	/* nesting of arrays and objects */
#define JW_DEPTH_MAX		64	/* nesting the writer can produce */

enum json_err {
	JSON_OK = 0,
	JSON_E_SYNTAX = -1,	/* not JSON (JSON-RPC -32700) */
	JSON_E_TOKENS = -2,	/* more than the token array holds */
	JSON_E_DEPTH = -3,	/* nested deeper than JSON_DEPTH_MAX */
	JSON_E_DUPKEY = -4	/* a key twice in one object */
};

enum json_type {
	JSON_NONE,
	JSON_OBJECT,
	JSON_ARRAY,
	JSON_STRING,
	JSON_NUMBER,
	JSON_TRUE,
	JSON_FALSE,
	JSON_NULL
};

struct json {
	const char	*js;
	size_t		 len;
	jsmntok_t	*t;
	int		 ntok;
};

/*
 * Parse exactly one JSON value (with surrounding whitespace) of len bytes.
 * Checks what strict jsmn does not: number and literal grammar, control
 * characters and escapes in strings, UTF-8, depth, nothing after the value,
 * and no key twice in an object (compared unescaped: JavaScript and Python
 * parsers take the last, ours the first, so a gateway and mcpd could
 * disagree).  Returns JSON_OK or a json_err.
 */
int		 json_parse(struct json *, const char *buf, size_t len,
		    jsmntok_t *toks, int maxtoks);
const char	*json_strerror(int);
enum json_type	 json_type(const struct json *, int i);
/* The index of the token after token i and everything inside it. */
int		 json_skip(const struct json *, int i);
/* In object token obj, the value token of key (exact match), or -1. */
int		 json_get(const struct json *, int obj, const char *key);
/* Token i is a string equal to s (compared after unescaping). */
int		 json_streq(const struct json *, int i, const char *s);
/*
 * Unescape string token i into dst (NUL-terminated); returns its length,
 * or -1 when it does not fit, i is not a string or it holds a NUL
 * (\u0000: as a C string it would be cut short, a name taken for
 * another).
 */
int		 json_strcpy(const struct json *, int i, char *dst, size_t dstlen);
/* The same, NULs and all: a decoder, for what is not a C string. */
int		 json_unescape(const struct json *, int i, char *dst,
		    size_t dstlen);
/* String token i holds a NUL (\u0000) once unescaped. */
int		 json_has_nul(const struct json *, int i);
/* The raw bytes of token i (for strings: without quotes, still escaped). */
const char	*json_raw(const struct json *, int i, size_t *len);
/* The raw text of token i as it appeared, quotes included for strings. */
const char	*json_text(const struct json *, int i, size_t *len);
/* Numbers: -1 when i is not a number or does not fit. */
int		 json_int64(const struct json *, int i, int64_t *);
int		 json_double(const struct json *, int i, double *);
/* -1 when i is not true or false. */
int		 json_bool(const struct json *, int i, int *);

/* The writer.  Commas are placed automatically. */
struct jw {
	char		*buf;
	size_t		 len;
	size_t		 cap;
	int		 err;		/* out of memory or nesting overflow */
	int		 depth;
	uint8_t		 need_comma[JW_DEPTH_MAX + 1];
	uint8_t		 after_key;
	size_t		 mark;		/* the caller's: an offset to return to */
};

void	jw_init(struct jw *);
void	jw_reset(struct jw *);		/* keep the buffer */
void	jw_free(struct jw *);
void	jw_obj(struct jw *);
void	jw_obj_end(struct jw *);
void	jw_arr(struct jw *);
void	jw_arr_end(struct jw *);
void	jw_key(struct jw *, const char *);
void	jw_str(struct jw *, const char *);
void	jw_strn(struct jw *, const char *, size_t);
/* a string from a string token, copied as escaped in the source */
void	jw_str_tok(struct jw *, const struct json *, int i);
void	jw_int(struct jw *, int64_t);
void	jw_uint(struct jw *, uint64_t);
void	jw_double(struct jw *, double);
void	jw_bool(struct jw *, int);
void	jw_null(struct jw *);
/* any JSON text (already valid), e.g. a token copied from a request */
void	jw_raw(struct jw *, const char *, size_t);
void	jw_tok(struct jw *, const struct json *, int i);
/*
 * Valid JSON text from elsewhere (a plugin) on one line: CR and LF can only
 * be whitespace between tokens there, and become spaces, so one message
 * stays one line (stdio) and one SSE data: field.
 */
void	jw_raw_line(struct jw *, const char *, size_t);
/* bytes as a base64 string */
void	jw_base64(struct jw *, const void *, size_t);
/* append bytes outside the JSON grammar (framing around a message) */
void	jw_append(struct jw *, const void *, size_t);
/* insert bytes at offset off of what was written (off <= len) */
void	jw_insert(struct jw *, size_t off, const void *, size_t);

#endif
