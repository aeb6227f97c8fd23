/* device.i: the sample provider wrapped for Python and Lua. */
%module device

%include "wsevent.i"
WSEVENT_STARTUP(device_startup)
WSEVENT_SHUTDOWN(device_shutdown)

%{
#include "device.h"
%}

typedef wsevent_t wsevent_new_t;
%include "device.h"
