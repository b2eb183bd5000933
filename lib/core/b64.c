/* b64 — standard base64. */
#include <string.h>

#include "b64.h"

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

void
b64_encode(struct buf *out, const unsigned char *p, size_t n)
{
	buf_grow(out, (n + 2) / 3 * 4 + 1);
	for (size_t i = 0; i < n; i += 3) {
		unsigned v = (unsigned)p[i] << 16;
		if (i + 1 < n)
			v |= (unsigned)p[i + 1] << 8;
		if (i + 2 < n)
			v |= p[i + 2];
		char q[4] = { b64[v >> 18], b64[(v >> 12) & 63], i + 1 < n ? b64[(v >> 6) & 63] : '=',
			i + 2 < n ? b64[v & 63] : '=' };
		buf_add(out, q, 4);
	}
}

int
b64_decode(struct buf *out, const char *s, size_t n)
{
	unsigned acc = 0;
	int bits = 0;

	while (n > 0 && s[n - 1] == '=')
		n--;
	buf_add(out, "", 0);
	for (size_t i = 0; i < n; i++) {
		const char *at = s[i] != '\0' ? strchr(b64, s[i]) : NULL;
		if (at == NULL)
			return -1;
		acc = (acc << 6) | (unsigned)(at - b64);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			buf_addc(out, (char)((acc >> bits) & 0xff));
		}
	}
	return 0;
}

int
b64_decode_strict(struct buf *out, const char *s, size_t n)
{
	size_t pad = 0;

	while (pad < n && pad < 3 && s[n - 1 - pad] == '=')
		pad++;
	if (n == 0 || n % 4 != 0 || pad > 2)
		return -1;
	return b64_decode(out, s, n);
}
