/* serve_sig — --check-signatures: a request's SigV4 signature (the
 * Authorization header's AWS4-HMAC-SHA256) computed again from the
 * request and the environment's keys, as AWS computes it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/digest.h"
#include "serve_int.h"

enum { SHA = 32, BLOCK = 64 };

static void
sha256(const void *p, size_t n, unsigned char out[SHA])
{
	char hex[DIGEST_SHA256_HEX];

	digest_hex_of(DIGEST_SHA256, p, n, hex);
	for (int i = 0; i < SHA; i++) {
		unsigned v;
		sscanf(hex + 2 * i, "%2x", &v);
		out[i] = (unsigned char)v;
	}
}

/* HMAC-SHA256 (RFC 2104) of msg under key. */
static void
hmac(const void *key, size_t kn, const void *msg, size_t mn, unsigned char out[SHA])
{
	unsigned char k[BLOCK] = { 0 }, pad[BLOCK + SHA], inner[SHA];
	struct buf b = { 0 };

	if (kn > BLOCK)
		sha256(key, kn, k);
	else
		memcpy(k, key, kn);
	for (int i = 0; i < BLOCK; i++)
		k[i] ^= 0x36;
	buf_add(&b, k, BLOCK);
	buf_add(&b, msg, mn);
	sha256(b.p, b.n, inner);
	for (int i = 0; i < BLOCK; i++)
		pad[i] = k[i] ^ 0x36 ^ 0x5c;
	memcpy(pad + BLOCK, inner, SHA);
	sha256(pad, sizeof pad, out);
	buf_free(&b);
}

/* The value of "Name=" in the Authorization header, up to ',' or end. */
static int
auth_field(const char *auth, const char *name, char *out, size_t n)
{
	const char *p = strstr(auth, name);
	size_t len;

	if (p == NULL)
		return 0;
	p += strlen(name);
	len = strcspn(p, ", ");
	if (len >= n)
		return 0;
	memcpy(out, p, len);
	out[len] = '\0';
	return 1;
}

/* A header's value trimmed, its inner runs of spaces made one. */
static void
add_trimmed(struct buf *b, const char *v)
{
	while (*v == ' ' || *v == '\t')
		v++;
	size_t start = b->n;
	for (; *v != '\0'; v++) {
		if ((*v == ' ' || *v == '\t') && b->n > start && b->p[b->n - 1] == ' ')
			continue;
		buf_addc(b, *v == '\t' ? ' ' : *v);
	}
	while (b->n > start && b->p[b->n - 1] == ' ')
		b->n--;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The query's pairs sorted (as the client encoded them). */
static void
add_query(struct buf *b, const char *q)
{
	char *copy = strdup(q), *save = NULL, *parts[256];
	size_t n = 0;

	if (copy == NULL)
		return;
	for (char *t = strtok_r(copy, "&", &save); t != NULL && n < 256;
	    t = strtok_r(NULL, "&", &save))
		parts[n++] = t;
	qsort(parts, n, sizeof *parts, cmp_str);
	for (size_t i = 0; i < n; i++) {
		buf_adds(b, i ? "&" : "");
		buf_adds(b, parts[i]);
		if (strchr(parts[i], '=') == NULL)
			buf_addc(b, '=');
	}
	free(copy);
}

static void
canonical(struct serve_call *c, const char *method, const char *signed_hdrs, struct buf *b)
{
	const char *q = strchr(c->uri, '?');
	char name[128], hex[DIGEST_SHA256_HEX];

	buf_printf(b, "%s\n%.*s\n", method, (int)(q ? (size_t)(q - c->uri) : strlen(c->uri)),
	    c->uri);
	if (q != NULL)
		add_query(b, q + 1);
	buf_addc(b, '\n');
	for (const char *h = signed_hdrs; *h != '\0';) {
		size_t len = strcspn(h, ";");
		snprintf(name, sizeof name, "%.*s", (int)len, h);
		const char *v = MHD_lookup_connection_value(c->conn, MHD_HEADER_KIND, name);
		buf_printf(b, "%s:", name);
		add_trimmed(b, v != NULL ? v : "");
		buf_addc(b, '\n');
		h += len + (h[len] == ';');
	}
	buf_printf(b, "\n%s\n", signed_hdrs);
	const char *ph = MHD_lookup_connection_value(c->conn, MHD_HEADER_KIND,
	    "x-amz-content-sha256");
	if (ph != NULL && strcmp(ph, "UNSIGNED-PAYLOAD") != 0) {
		buf_adds(b, ph);
	} else {
		digest_hex_of(DIGEST_SHA256, c->body.p != NULL ? c->body.p : "", c->body.n, hex);
		buf_adds(b, ph != NULL ? ph : hex);
	}
}

/* 0 when the signature verifies; else 1 none, 2 another key, 3 wrong. */
int
serve_sig_check(struct serve_call *c, const char *method, const char *akid,
    const char *secret)
{
	const char *auth = MHD_lookup_connection_value(c->conn, MHD_HEADER_KIND, "Authorization");
	const char *date = MHD_lookup_connection_value(c->conn, MHD_HEADER_KIND, "X-Amz-Date");
	char cred[512], hdrs[1024], sig[128], hex[DIGEST_SHA256_HEX];
	unsigned char k[SHA], h[SHA];
	struct buf b = { 0 }, key = { 0 };

	if (auth == NULL || date == NULL || strncmp(auth, "AWS4-HMAC-SHA256 ", 17) != 0 ||
	    !auth_field(auth, "Credential=", cred, sizeof cred) ||
	    !auth_field(auth, "SignedHeaders=", hdrs, sizeof hdrs) ||
	    !auth_field(auth, "Signature=", sig, sizeof sig))
		return 1;
	char *scope = strchr(cred, '/');
	if (scope == NULL)
		return 1;
	*scope++ = '\0';
	if (strcmp(cred, akid) != 0)
		return 2;
	canonical(c, method, hdrs, &b);
	digest_hex_of(DIGEST_SHA256, b.p, b.n, hex);
	buf_reset(&b);
	buf_printf(&b, "AWS4-HMAC-SHA256\n%s\n%s\n%s", date, scope, hex);
	buf_printf(&key, "AWS4%s", secret);
	/* kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" secret, date), region), service), "aws4_request") */
	const unsigned char *kp = (const unsigned char *)key.p;
	size_t kn = key.n;
	for (const char *part = scope; *part != '\0';) {
		size_t len = strcspn(part, "/");
		hmac(kp, kn, part, len, k);
		kp = k;
		kn = SHA;
		part += len + (part[len] == '/');
	}
	hmac(k, SHA, b.p, b.n, h);
	for (int i = 0; i < SHA; i++)
		snprintf(hex + 2 * i, 3, "%02x", h[i]);
	memset(key.p, 0, key.n);
	buf_free(&key);
	buf_free(&b);
	return strcmp(hex, sig) == 0 ? 0 : 3;
}
