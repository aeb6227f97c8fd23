/* probe.i: the typemap probe, wrapped for Python and Lua as a provider
 * author would wrap theirs. */
%module probe

%include "wsevent.i"
WSEVENT_STARTUP(probe_startup)

%{
#include "probe.h"
%}

%include "probe.h"
