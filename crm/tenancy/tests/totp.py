"""RFC 6238 TOTP (SHA-1, 30 s, 6 digits): what an authenticator app computes from the secret."""

import base64
import hashlib
import hmac
import struct
import time


def totp_code(secret: str, at: float | None = None, step: int = 30, digits: int = 6) -> str:
    """The code for time `at` (default: now). For "now", a code about to expire is not returned:
    the server accepts only the current window, so near its end this waits for the next one."""
    if at is None:
        left = step - time.time() % step
        if left < 3:
            time.sleep(left + 0.1)
        at = time.time()
    secret = secret.replace(" ", "").upper()
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    digest = hmac.new(key, struct.pack(">Q", int(at // step)), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    value = struct.unpack(">I", digest[offset:offset + 4])[0] & 0x7FFFFFFF
    return str(value % 10**digits).zfill(digits)
