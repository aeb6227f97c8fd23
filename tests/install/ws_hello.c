/* ws_hello.c: a Winsock program built against an installed wsevent with
 * pkg-config alone (make test-install).  Exits 0 if the calls work. */
#include <stdio.h>
#include <winsock2.h>

int main(void) {
  WSADATA wsa;
  if (WSAStartup(MAKEWORD(2, 2), &wsa) != 0)
    return 1;
  WSAEVENT ev = WSACreateEvent();
  if (ev == WSA_INVALID_EVENT || !WSASetEvent(ev))
    return 2;
  if (WSAWaitForMultipleEvents(1, &ev, FALSE, 0, FALSE) != WSA_WAIT_EVENT_0)
    return 3;
  if (!WSACloseEvent(ev) || WSACleanup() != 0)
    return 4;
  printf("installed wsevent-winsock works\n");
  return 0;
}
