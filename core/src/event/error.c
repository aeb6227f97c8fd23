/* error.c: names and sentences for the return codes, from one list. */
#include "internal.h"

const char *wsevent_err_name(int code) {
  switch (code) {
#define XX(name, value, text)                                                 \
  case value:                                                                 \
    return "WSEVENT_" #name;
    WSEVENT_ERRNO_MAP(XX)
#undef XX
  }
  return "WSEVENT_UNKNOWN";
}

const char *wsevent_strerror(int code) {
  switch (code) {
#define XX(name, value, text)                                                 \
  case value:                                                                 \
    return text;
    WSEVENT_ERRNO_MAP(XX)
#undef XX
  }
  return "unknown wsevent code";
}
