/* ws2tcpip.h: on Linux, the TCP/IP declarations come with winsock2.h. */
#ifndef WSEVENT_WS2TCPIP_H
#define WSEVENT_WS2TCPIP_H
#include "winsock2.h"
#include <netdb.h>
#endif
