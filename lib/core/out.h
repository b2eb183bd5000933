/* out — the one stdout writer.  Block-buffered, or line-buffered on a
 * terminal and with --line-buffered.  It knows exactly how many bytes
 * reached the kernel, so a receiver can tell which lines were delivered
 * when the reader goes away (EPIPE) and put the rest back. */
#ifndef EVKIT_OUT_H
#define EVKIT_OUT_H

#include <stddef.h>
#include <stdnoreturn.h>

void out_init(int line_buffered);
/* 1 when every line is to go out at once (a terminal, --line-buffered). */
int out_line_mode(void);
void out_write(const void *p, size_t n);
/* Appends p and a newline; in line-buffered mode the line goes out now. */
void out_line(const char *p, size_t n);
void out_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Bytes waiting in the buffer. */
size_t out_pending(void);
/* Writes the buffer.  0 on success; -1 with errno on failure, and then
 * out_flushed() tells how many bytes of it did get written. */
int out_flush(void);
size_t out_flushed(void);
/* fn(errno) is called when a flush that out_line makes fails (the
 * command's choice: msg_flush_failed dies, quietly on EPIPE). */
void out_on_failure(void (*fn)(int err));

#endif
