/*
 * tokens.h -- static bearer tokens: a file that holds only their hashes.
 *
 * A line of the file (static-tokens in an auth block of mcpd.conf) is
 *
 *	NAME sha256:HEX [SCOPE ...]
 *
 * NAME the principal the token stands for (letters, digits, "_", ".",
 * "-", "@", up to TOKEN_NAME_MAX_BYTES - 1), HEX the SHA-256 of the token
 * in 64 lowercase hex digits, then the scopes it grants.  "#" starts a
 * comment; blank lines are skipped.  "mcpctl token new" prints a token
 * and its line.  The token itself is never stored: a copy of the file
 * gives nobody a token.
 */
#ifndef MCPD_TOKENS_H
#define MCPD_TOKENS_H

#include <stddef.h>
#include <stdint.h>

#define TOKENS_FILE_MAX_BYTES	(4 * 1024 * 1024)	/* the whole file */
#define TOKENS_MAX		10000		/* lines with a token */
#define TOKEN_NAME_MAX_BYTES	65		/* a name, with NUL */
#define TOKEN_SCOPES_MAX_BYTES	512		/* its scopes, with NUL */
#define TOKEN_HASH_BYTES	32		/* SHA-256 */
#define TOKEN_RANDOM_BYTES	32		/* of a new token */
#define TOKEN_PREFIX		"mcpd_"		/* what a new one starts with */
/* a new token: the prefix, then base64url of the random bytes */
#define TOKEN_TEXT_MAX_BYTES	(sizeof(TOKEN_PREFIX) + 48)

struct token {
	unsigned char	tk_hash[TOKEN_HASH_BYTES];
	char		tk_name[TOKEN_NAME_MAX_BYTES];
	char		tk_scopes[TOKEN_SCOPES_MAX_BYTES]; /* " "-separated */
};

struct tokens {
	struct token	*ts_tok;	/* sorted by hash */
	size_t		 ts_n;
};

/*
 * Read a file of token hashes: 0, or -1 with "LINE: why" (or the open's
 * error) in err.  On success *out holds them; tokens_free() frees.
 */
int	tokens_load(const char *path, struct tokens *out, char *err,
	    size_t errlen);
/* The same, from text (the tests, the fuzzer). */
int	tokens_parse(const char *text, size_t len, struct tokens *out,
	    char *err, size_t errlen);
void	tokens_free(struct tokens *);
/* The entry of a presented token, or NULL: a hash and a binary search. */
const struct token *tokens_find(const struct tokens *, const char *token,
	    size_t len);
/* Does a " "-separated scope list hold scope? */
int	tokens_scope_has(const char *scopes, const char *scope);
/*
 * An OAuth client's secret (introspection-secret-file): one line of
 * printable ASCII, at most CLIENT_SECRET_MAX_BYTES - 1.  Trims the line's
 * end in place and NUL-terminates (buf holds len + 1 bytes, as
 * file_read() leaves it); returns the secret's length, 0 when it is not
 * one.
 */
#define CLIENT_SECRET_MAX_BYTES	1024
size_t	client_secret_trim(char *buf, size_t len);
/* A new token into buf (TOKEN_TEXT_MAX_BYTES) and its hash's hex (65). */
void	tokens_new(char *buf, size_t len, char *hex, size_t hexlen);

#endif
