/* device.i: the sample provider wrapped for Python and Lua. */
%module device

%include "wsevent.i"
WSEVENT_STARTUP(device_startup)

%{
#include "device.h"
%}

typedef wsevent_t wsevent_new_t;
%include "device.h"
