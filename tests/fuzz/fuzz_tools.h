/*
 * fuzz_tools.h -- the catalog the engine fuzzers register: what the
 * handlers of a small plugin would do (fuzz_tools.c).
 */
#ifndef MCPD_FUZZ_TOOLS_H
#define MCPD_FUZZ_TOOLS_H

struct mcp_server;

/*
 * Tools "echo" (at once, with a log message and progress), "pick" (the
 * JSON at args.ptr, or the arguments themselves as the result), "bad"
 * (invalid JSON), "slow" (after args.steps & 3 turns of the loop, a
 * stream closed early with args.close, or args.closenow in the handler;
 * finishes when cancelled), "ask" (a request to the client whose answer
 * finishes it, its stream closed likewise), t000 to t119 (echo: two pages
 * of tools/list); resource mem://a, templates mem://item/{id} and
 * mem://tree/{+path}, prompt "greet" (name required), a completion
 * handler.  Every call ends: now, after timers of 0 ms, or when the
 * client answers, cancels or its session closes.
 */
void	fuzz_tools(struct mcp_server *);

#endif
