/*
 * stdio_mode.h -- mcpd --stdio.
 */
#ifndef MCPD_STDIO_MODE_H
#define MCPD_STDIO_MODE_H

void	stdio_main(const char *conffile, int debug) __attribute__((noreturn));

#endif
