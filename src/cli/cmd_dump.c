// SPDX-License-Identifier: GPL-2.0-only
/* tdpsim dump: placeholder until the trace module lands. */
#include <tdpsim/errors.h>
#include <tdpsim/util.h>

#include "cmd.h"

int cmd_dump(int argc, char **argv)
{
	return tdp_error(TDP_E_UNSUPP, "'dump' is not implemented yet") ? EXIT_USAGE : 0;
}
