/* rules_words — an exec: target's command split into words once, when
 * the rules file is loaded; no shell ever sees it or any event data. */
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/alloc.h"
#include "rules.h"

static void
push(char ***v, size_t *n, struct buf *w)
{
	char **nv = *v = xreallocarray(*v, *n + 2, sizeof **v);

	buf_addc(w, '\0');
	nv[(*n)++] = buf_detach(w);
	nv[*n] = NULL;
}

static void
free_words(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

char **
rules_words(const char *s, const char **why)
{
	struct buf w = { 0 };
	char **v = NULL;
	size_t n = 0;
	int in_word = 0;

	for (; *s != '\0'; s++) {
		if (*s == ' ' || *s == '\t' || *s == '\n') {
			if (in_word)
				push(&v, &n, &w);
			in_word = 0;
			continue;
		}
		in_word = 1;
		if (*s == '\'') {
			const char *e = strchr(s + 1, '\'');
			if (e == NULL)
				goto unbalanced;
			buf_add(&w, s + 1, (size_t)(e - s - 1));
			s = e;
		} else if (*s == '"') {
			for (s++; *s != '"'; s++) {
				if (*s == '\0')
					goto unbalanced;
				if (*s == '\\' && strchr("\"\\$`", s[1]) != NULL && s[1] != '\0')
					s++;
				buf_addc(&w, *s);
			}
		} else if (*s == '\\' && s[1] != '\0') {
			buf_addc(&w, *++s);
		} else {
			buf_addc(&w, *s);
		}
	}
	if (in_word)
		push(&v, &n, &w);
	if (n == 0) {
		*why = "no command";
		free(v);
		return NULL;
	}
	return v;
unbalanced:
	buf_free(&w);
	free_words(v, n);
	*why = "unbalanced quote in the command";
	return NULL;
}
