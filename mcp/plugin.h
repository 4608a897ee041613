/*
 * <mcpd/plugin.h> -- the C ABI of mcpd plugins (mcpd-plugin(3)).
 *
 * A plugin is a shared object named in mcpd.conf ("plugin PATH [ARG]").
 * Every worker (and mcpd --stdio) loads it with dlopen(3) and calls
 *
 *	int mcpd_plugin_init(struct mcpd_host *host, const char *arg);
 *
 * after checking that the plugin's "mcpd_plugin_abi" equals
 * MCPD_PLUGIN_ABI.  init registers tools, resources, resource templates,
 * prompts and a completion handler, and returns 0 (or -1 to refuse to
 * load, after mcpd_log() saying why).  Every string passed to a register
 * function is copied.
 *
 * Handlers run on the worker's event loop and must not block: a handler
 * gets a call context and finishes it -- now or later, from a timer or
 * from the completion of a request to the client -- with exactly one of
 * mcpd_call_result*() or mcpd_call_error().  Until then it may report
 * progress, log to the client, and ask the client (sampling, elicitation,
 * roots).  A call the client cancels is told through its cancel hook, and
 * must still be finished; the result then goes nowhere.
 *
 * JSON crosses the ABI as text: arguments arrive as the JSON object the
 * client sent, results are given as a JSON object's text.
 */
#ifndef MCPD_PLUGIN_H
#define MCPD_PLUGIN_H

#include <stddef.h>

#define MCPD_PLUGIN_ABI		1

struct mcpd_host;
struct mcpd_call;

typedef void	(*mcpd_tool_fn)(struct mcpd_call *, const char *args,
		    size_t argslen, void *arg);
/* uri: the resource's or, for a template, the concrete URI asked for */
typedef void	(*mcpd_read_fn)(struct mcpd_call *, const char *uri,
		    void *arg);
typedef void	(*mcpd_prompt_fn)(struct mcpd_call *, const char *args,
		    size_t argslen, void *arg);
/*
 * completion/complete: ref is "ref/prompt" or "ref/resource", name the
 * prompt name or template URI; finish with a result like
 * {"completion":{"values":[...],"total":N,"hasMore":false}}.
 */
typedef void	(*mcpd_complete_fn)(struct mcpd_call *, const char *ref,
		    const char *name, const char *argname, const char *value,
		    void *arg);
/* the answer to mcpd_call_request(): result JSON, or error JSON */
typedef void	(*mcpd_reply_fn)(struct mcpd_call *, int is_error,
		    const char *json, size_t len, void *arg);
typedef void	(*mcpd_timer_fn)(struct mcpd_call *, void *arg);
typedef void	(*mcpd_cancel_fn)(struct mcpd_call *, void *arg);

struct mcpd_tool {
	const char	*name;
	const char	*title;		/* NULL: none */
	const char	*description;
	const char	*input_schema;	/* JSON object text */
	const char	*annotations;	/* JSON object text or NULL */
	mcpd_tool_fn	 call;
	void		*arg;
};

struct mcpd_resource {
	const char	*uri;		/* or an RFC 6570 {var} template */
	const char	*name;
	const char	*title;
	const char	*description;
	const char	*mime_type;
	mcpd_read_fn	 read;
	void		*arg;
};

struct mcpd_prompt_arg {
	const char	*name;
	const char	*description;
	int		 required;
};

struct mcpd_prompt {
	const char			*name;
	const char			*title;
	const char			*description;
	const struct mcpd_prompt_arg	*args;
	size_t				 nargs;
	mcpd_prompt_fn			 get;
	void				*arg;
};

enum mcpd_log_level {
	MCPD_LOG_DEBUG,
	MCPD_LOG_INFO,
	MCPD_LOG_NOTICE,
	MCPD_LOG_WARNING,
	MCPD_LOG_ERROR,
	MCPD_LOG_CRITICAL,
	MCPD_LOG_ALERT,
	MCPD_LOG_EMERGENCY
};

/* What a plugin defines. */
extern const int mcpd_plugin_abi;	/* = MCPD_PLUGIN_ABI */
int	mcpd_plugin_init(struct mcpd_host *, const char *arg);

/* Registration, from mcpd_plugin_init() only.  0, or -1 (duplicate, ...). */
int	mcpd_register_tool(struct mcpd_host *, const struct mcpd_tool *);
int	mcpd_register_resource(struct mcpd_host *,
	    const struct mcpd_resource *);
int	mcpd_register_template(struct mcpd_host *,
	    const struct mcpd_resource *);
int	mcpd_register_prompt(struct mcpd_host *, const struct mcpd_prompt *);
int	mcpd_register_completion(struct mcpd_host *, mcpd_complete_fn,
	    void *arg);
/*
 * Whether a registered tool may run as a task (the tasks extension of
 * 2026-07-28, io.modelcontextprotocol/tasks).  FORBIDDEN (the default):
 * never.  OPTIONAL: when the client declares the extension, the tool may
 * call mcpd_call_task().  REQUIRED: a client without the extension gets
 * MissingRequiredClientCapability (-32021) before the tool runs.
 */
enum mcpd_task_support {
	MCPD_TASK_FORBIDDEN,
	MCPD_TASK_OPTIONAL,
	MCPD_TASK_REQUIRED
};
int	mcpd_set_task_support(struct mcpd_host *, const char *tool,
	    enum mcpd_task_support);
/*
 * Step-up authorization: the OAuth scopes (RFC 6749 3.3) a caller needs,
 * all of them, to call a registered tool, read a resource (or a URI of a
 * template), get a prompt.  name is the tool's or prompt's name, or the
 * resource's URI or template as registered; scopes is " "-separated (at
 * most 16, in 511 bytes), or NULL for none.  On an HTTP listener with an
 * auth block, a request whose token lacks one of them is answered 403
 * (insufficient_scope) before the handler runs; lists are not filtered,
 * and a listener without auth, and stdio, do not look.  0, or -1 (no
 * such item, a scope that is not a scope token).  Adding this function
 * left MCPD_PLUGIN_ABI as it was: a plugin that calls it does not load
 * into an mcpd without it (dlopen(3) finds no such symbol).
 */
enum mcpd_item {
	MCPD_ITEM_TOOL,
	MCPD_ITEM_RESOURCE,
	MCPD_ITEM_TEMPLATE,
	MCPD_ITEM_PROMPT
};
int	mcpd_set_scope(struct mcpd_host *, enum mcpd_item, const char *name,
	    const char *scopes);

/* A line in mcpd's own log, not to the client. */
void	mcpd_log(struct mcpd_host *, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));

/* The call context. */
/* progress; total < 0 means unknown; message may be NULL */
void	mcpd_call_progress(struct mcpd_call *, double progress, double total,
	    const char *message);
/* notifications/message, if the client's log level lets it through */
void	mcpd_call_log(struct mcpd_call *, enum mcpd_log_level,
	    const char *logger, const char *text);
/*
 * A request to the client (sampling/createMessage, elicitation/create,
 * roots/list) related to this call; reply is called exactly once: with the
 * client's answer, or with is_error and a JSON-RPC error object when it
 * times out, the client lacks the capability, or the call is cancelled.
 * Returns 0, or -1 when it could not be sent (reply is not called).
 *
 * The same code serves both protocol eras.  In the session era (2025-x)
 * this is a JSON-RPC request on the call's stream.  In the stateless era
 * (2026-07-28) it is an input request: once the handler returns, the call
 * ends with resultType "input_required" listing every request it made, and
 * the client retries the whole call with the answers.  The handler then
 * runs again from the start and makes the same requests: those the client
 * answered (in this round or an earlier one, kept sealed in requestState)
 * are replied to once the handler has returned, the others are asked
 * again.  So a handler must make its requests in a deterministic way and
 * keep its state in what the replies give it.  When the client did not
 * declare the capability, the stateless era ends the call with
 * MissingRequiredClientCapability (-32021) and -1 is returned.
 *
 * mcpd_call_input() names the request: key is its key in inputRequests and
 * inputResponses (unique within the call); mcpd_call_request() uses
 * "input-N" for the call's Nth request.
 */
int	mcpd_call_request(struct mcpd_call *, const char *method,
	    const char *params_json, mcpd_reply_fn reply, void *arg);
int	mcpd_call_input(struct mcpd_call *, const char *key,
	    const char *method, const char *params_json, mcpd_reply_fn reply,
	    void *arg);
/*
 * Become a task: the client gets a task handle now (CreateTaskResult) and
 * polls with tasks/get; the call goes on, and how it ends (a result, an
 * error) is what tasks/get shows.  From then on mcpd_call_input() adds
 * input requests to the task (status input_required) that the client
 * answers with tasks/update; progress and log messages go nowhere; a
 * tasks/cancel cancels the call.  Returns 0, or -1 when the call cannot be
 * a task (the session era, a client without the extension, a tool whose
 * task support is FORBIDDEN, too many tasks): then carry on as a plain
 * call.
 */
int	mcpd_call_task(struct mcpd_call *);
/* call fn once after ms milliseconds (the timer dies with the call) */
int	mcpd_call_after(struct mcpd_call *, unsigned ms, mcpd_timer_fn fn,
	    void *arg);
void	mcpd_call_on_cancel(struct mcpd_call *, mcpd_cancel_fn, void *arg);
/*
 * Let the transport close this request's stream now, while the call goes
 * on (SSE polling, SEP-1699): a client of 2025-11-25 or later comes back
 * with GET and Last-Event-ID and receives the rest.  Elsewhere a no-op.
 */
void	mcpd_call_close_stream(struct mcpd_call *);
int	mcpd_call_cancelled(const struct mcpd_call *);
/* the protocol version the client speaks, e.g. "2025-11-25", "2026-07-28" */
const char *mcpd_call_protocol(const struct mcpd_call *);
/* the client declared this capability ("sampling", "elicitation", ...) */
int	mcpd_call_client_has(const struct mcpd_call *, const char *cap);

/*
 * Tell every client that listens (subscriptions/listen streams that asked
 * for it, session-era GET streams), on every worker: a list changed
 * ("tools", "prompts", "resources"; -1 for anything else), or a resource.
 */
int	mcpd_notify_list_changed(struct mcpd_call *, const char *list);
void	mcpd_notify_resource_updated(struct mcpd_call *, const char *uri);

/* Finish: a result object's JSON text, or a JSON-RPC error. */
void	mcpd_call_result(struct mcpd_call *, const char *json);
/* Finish with {"content":[{"type":"text","text":TEXT}],"isError":...} */
void	mcpd_call_result_text(struct mcpd_call *, const char *text,
	    int is_error);
void	mcpd_call_error(struct mcpd_call *, int code, const char *message);

/*
 * JSON helpers for plugins: the string at a JSON Pointer (RFC 6901, e.g.
 * "/content/text") in json, unescaped into out.  Returns its length, or
 * -1 when absent, not a string, or too long.  mcpd_json_text copies the
 * raw JSON text of any value instead.
 */
int	mcpd_json_string(const char *json, size_t len, const char *pointer,
	    char *out, size_t outlen);
int	mcpd_json_text(const char *json, size_t len, const char *pointer,
	    char *out, size_t outlen);
/* Escape text as a JSON string, quotes included; -1 when it does not fit. */
int	mcpd_json_quote(const char *text, char *out, size_t outlen);

#endif
