/*
 * error.c - ev_strerror: one message per ev_status.
 *
 * The switch has no default, so the compiler names a code without a message.
 */
#include "evault.h"

const char *
ev_strerror(int code)
{
    switch ((ev_status)code) {
    case EV_OK:
        return "success";
    case EV_EINVAL:
        return "invalid argument or input";
    case EV_ENOMEM:
        return "out of memory";
    case EV_EIO:
        return "input/output error";
    case EV_ENOSPC:
        return "no space left on device";
    case EV_ENOTVAULT:
        return "not an evault vault";
    case EV_EVERSION:
        return "vault format is newer than this evault";
    case EV_EKEY:
        return "wrong passphrase or key";
    case EV_ECORRUPT:
        return "data altered or damaged (authentication failed)";
    case EV_EBUSY:
        return "vault busy: another evault process is writing to it";
    case EV_ENOENT:
        return "no such file or record";
    case EV_ECHANGED:
        return "file changed while it was being read";
    case EV_EEXIST:
        return "already exists";
    case EV_ELOCKED:
        return "vault is locked";
    case EV_ESEALED:
        return "record is sealed and cannot change";
    case EV_ENOTSEALED:
        return "record is not sealed";
    case EV_EDESTROYED:
        return "record was destroyed";
    case EV_ESTORE:
        return "the object store failed a request";
    case EV_EDENIED:
        return "the object store refused the credentials";
    case EV_ELAST:
        break;
    }
    return "unknown error";
}
