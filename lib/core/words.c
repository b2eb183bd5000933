#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "buf.h"
#include "words.h"

static void
push(char ***v, size_t *n, size_t *cap, struct buf *w)
{
	XGROW(v, cap, *n + 2);
	buf_addc(w, '\0');
	(*v)[(*n)++] = buf_detach(w);
	(*v)[*n] = NULL;
}

/* One quoted run at s (its opening quote) into w; the closing quote, or
 * NULL when there is none. */
static const char *
quoted(const char *s, struct buf *w)
{
	if (*s == '\'') {
		const char *e = strchr(s + 1, '\'');
		if (e != NULL)
			buf_add(w, s + 1, (size_t)(e - s - 1));
		return e;
	}
	for (s++; *s != '"'; s++) {
		if (*s == '\0')
			return NULL;
		if (*s == '\\' && s[1] != '\0' && strchr("\"\\$`", s[1]) != NULL)
			s++;
		buf_addc(w, *s);
	}
	return s;
}

char **
words_split(const char *s, const char **why)
{
	struct buf w = { 0 };
	char **v = NULL;
	size_t n = 0, cap = 0;
	int in_word = 0;

	for (; *s != '\0'; s++) {
		if (*s == ' ' || *s == '\t' || *s == '\n') {
			if (in_word)
				push(&v, &n, &cap, &w);
			in_word = 0;
			continue;
		}
		in_word = 1;
		buf_add(&w, "", 0);	/* '' is a word too */
		if (*s == '\'' || *s == '"') {
			if ((s = quoted(s, &w)) == NULL) {
				buf_free(&w);
				words_free(v);
				*why = "unbalanced quote in the command";
				return NULL;
			}
		} else if (*s == '\\' && s[1] != '\0') {
			buf_addc(&w, *++s);
		} else {
			buf_addc(&w, *s);
		}
	}
	if (in_word)
		push(&v, &n, &cap, &w);
	if (n == 0)
		*why = "no command";
	return v;
}

void
words_free(char **v)
{
	for (char **a = v; a != NULL && *a != NULL; a++)
		free(*a);
	free(v);
}
