/*
 * test_windows_h.c: a program written as Microsoft's Winsock samples are,
 * starting with <windows.h>, compiled unchanged.
 */
#include <windows.h>
#include <winsock2.h>
#include <ws2tcpip.h>

#include <stdio.h>

#include "../tap.h"

static int __cdecl compare(const void *a, const void *b) {
  return *(const int *)a - *(const int *)b;
}

TEST(test_the_memory_calls_of_the_samples) {
  char *g = (char *)GlobalAlloc(GPTR, 64);
  ASSERT(g != NULL);
  for (int i = 0; i < 64; i++)
    ASSERT_EQ(g[i], 0); /* GPTR: zeroed */
  ASSERT(GlobalLock(g) == g);
  ASSERT(GlobalFree(g) == NULL);
  LPVOID l = LocalAlloc(LPTR, 16);
  ASSERT(l != NULL && ((char *)l)[15] == 0);
  ASSERT(LocalFree(l) == NULL);
  HANDLE heap = GetProcessHeap();
  ASSERT(heap != NULL);
  unsigned char *h = (unsigned char *)HeapAlloc(heap, HEAP_ZERO_MEMORY, 8);
  memset(h, 0xff, 8);
  h = (unsigned char *)HeapReAlloc(heap, HEAP_ZERO_MEMORY, h, 4096);
  ASSERT(h != NULL);
  ASSERT_EQ(h[7], 0xff); /* kept */
  ASSERT_EQ(h[4095], 0); /* the growth, zeroed */
  ASSERT_EQ(HeapFree(heap, 0, h), TRUE);
  int v[3] = {3, 1, 2};
  qsort(v, 3, sizeof v[0], compare);
  ASSERT_EQ(v[0], 1);
}

TEST(test_the_complete_winsock_client_opening) {
  /* As "Complete Winsock Client Code" opens: WSAStartup, getaddrinfo,
   * socket; here with nobody listening, so connect fails as it says. */
  WSADATA wsaData;
  ASSERT_EQ(WSAStartup(MAKEWORD(2, 2), &wsaData), 0);
  struct addrinfo *result = NULL, hints;
  ZeroMemory(&hints, sizeof(hints));
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_protocol = IPPROTO_TCP;
  ASSERT_EQ(getaddrinfo("127.0.0.1", "1", &hints, &result), 0);
  SOCKET ConnectSocket = socket(result->ai_family, result->ai_socktype, result->ai_protocol);
  ASSERT_NE(ConnectSocket, INVALID_SOCKET);
  ASSERT_EQ(connect(ConnectSocket, result->ai_addr, (int)result->ai_addrlen), SOCKET_ERROR);
  ASSERT_EQ(WSAGetLastError(), WSAECONNREFUSED);
  freeaddrinfo(result);
  closesocket(ConnectSocket);
  WSACleanup();
}
