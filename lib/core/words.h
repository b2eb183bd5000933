/* words — a command split into words once, when it is configured (an
 * exec: target, a credential_process), as a POSIX shell splits it but
 * with no expansion at all: blanks separate words; '...' quotes
 * everything; "..." quotes everything but a backslash before " \ $ or `;
 * outside quotes a backslash takes the next character as it is (a last
 * one stays a backslash, as in sh).  No shell ever sees the text. */
#ifndef EVKIT_WORDS_H
#define EVKIT_WORDS_H

/* The words, NULL-terminated, to free with words_free; NULL and *why
 * ("no command", "unbalanced quote in the command") when there are none
 * or a quote is not closed. */
char **words_split(const char *s, const char **why);
void words_free(char **v);

#endif
