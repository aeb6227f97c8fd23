/*
 * test_echo.c: runs demo/winsock_echo (a Winsock event-select server
 * compiled unchanged against wsevent's <winsock2.h>) as a user would, and
 * talks to it: ten clients at once doing 64-byte round trips, and one
 * that sends a megabyte before reading anything, so the server's sends
 * block and FD_WRITE must resume them.  Every byte must come back, in
 * order, and the server must exit by itself once all have gone.
 */
#include <winsock2.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "../tap.h"

#define CLIENTS 10
#define ROUNDS 300
#define BIG (1 << 20)

static int port;

static SOCKET dial(void) {
  struct sockaddr_in addr;
  SOCKET s = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
  memset(&addr, 0, sizeof addr);
  addr.sin_family = AF_INET;
  addr.sin_port = htons((u_short)port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (s == INVALID_SOCKET || connect(s, (struct sockaddr *)&addr, sizeof addr) != 0)
    return INVALID_SOCKET;
  return s;
}

static int recv_all(SOCKET s, char *buf, int len) {
  int got = 0;
  while (got < len) {
    int n = recv(s, buf + got, len - got, 0);
    if (n <= 0)
      return -1;
    got += n;
  }
  return 0;
}

static void *round_trips(void *arg) {
  long id = (long)(intptr_t)arg, bad = 0;
  char out[64], in[64];
  SOCKET s = dial();
  if (s == INVALID_SOCKET)
    return (void *)1;
  for (int i = 0; i < ROUNDS && !bad; i++) {
    for (int j = 0; j < 64; j++)
      out[j] = (char)(id * 31 + i * 7 + j);
    bad = send(s, out, 64, 0) != 64 || recv_all(s, in, 64) != 0 ||
          memcmp(in, out, 64) != 0;
  }
  closesocket(s);
  return (void *)(intptr_t)bad;
}

struct big {
  SOCKET s;
  char *data;
};

static void *send_big(void *arg) {
  struct big *b = arg;
  int sent = 0;
  while (sent < BIG) {
    int n = send(b->s, b->data + sent, BIG - sent, 0);
    if (n <= 0)
      return (void *)1;
    sent += n;
  }
  shutdown(b->s, SD_SEND);
  return NULL;
}

TEST(test_the_winsock_echo_server_echoes_every_byte) {
  const char *server = getenv("WSEVENT_ECHO");
  if (server == NULL)
    SKIP("WSEVENT_ECHO names the server (make test-winsock sets it)");
  WSADATA wsa;
  ASSERT_EQ(WSAStartup(MAKEWORD(2, 2), &wsa), 0); /* closesocket needs it */
  char cmd[4096];
  snprintf(cmd, sizeof cmd, "%s 0 %d", server, CLIENTS + 1);
  FILE *out = popen(cmd, "r");
  ASSERT(out != NULL);
  ASSERT_EQ(fscanf(out, "listening on %d", &port), 1);

  pthread_t t[CLIENTS];
  for (long i = 0; i < CLIENTS; i++)
    ASSERT_EQ(pthread_create(&t[i], NULL, round_trips, (void *)(intptr_t)i), 0);

  /* The big one: everything is sent before anything is read. */
  struct big b = {dial(), malloc(BIG)};
  ASSERT(b.s != INVALID_SOCKET && b.data != NULL);
  for (int i = 0; i < BIG; i++)
    b.data[i] = (char)(i * 13 + (i >> 9));
  pthread_t bt;
  ASSERT_EQ(pthread_create(&bt, NULL, send_big, &b), 0);
  char *back = malloc(BIG);
  ASSERT(back != NULL);
  ASSERT_EQ(recv_all(b.s, back, BIG), 0);
  char extra;
  ASSERT_EQ(recv(b.s, &extra, 1, 0), 0); /* the server closed after the FIN */
  void *r;
  pthread_join(bt, &r);
  ASSERT(r == NULL);
  ASSERT(memcmp(back, b.data, BIG) == 0);
  closesocket(b.s);

  for (int i = 0; i < CLIENTS; i++) {
    pthread_join(t[i], &r);
    ASSERT(r == NULL);
  }
  int status = pclose(out);
  ASSERT(WIFEXITED(status));
  ASSERT_EQ(WEXITSTATUS(status), 0);
  free(back);
  free(b.data);
  WSACleanup();
}
