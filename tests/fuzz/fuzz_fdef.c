/* Fuzzes fnflow's definition loader (lib/flow/fdef through flow_check):
 * any text is a definition or a reason, never a crash, a leak or a
 * reason left empty; a valid one loads the same way twice. */
#include <stdint.h>
#include <stdlib.h>

#include "core/msg.h"
#include "flow/flow.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ev_err e;
	int rc = flow_check((const char *)data, size, &e);

	if (rc != 0 && (rc != EV_USAGE || e.msg[0] == '\0'))
		abort();
	if (rc == 0 && flow_check((const char *)data, size, &e) != 0)
		abort();
	return 0;
}
