/* arn — Amazon Resource Names (see arn.h). */
#include <stdlib.h>

#include "arn.h"
#include "buf.h"

const char *
arn_region(void)
{
	const char *r = getenv("AWS_REGION");

	if (r == NULL || *r == '\0')
		r = getenv("AWS_DEFAULT_REGION");
	return r != NULL && *r != '\0' ? r : "us-east-1";
}

char *
arn_make(const char *service, const char *region, const char *prefix, const char *name)
{
	struct buf b = { 0 };

	buf_printf(&b, "arn:aws:%s:%s:000000000000:%s%s", service,
	    region != NULL ? region : arn_region(), prefix, name);
	return buf_detach(&b);
}
