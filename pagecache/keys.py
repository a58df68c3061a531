"""Cache keys: a readable namespace and a digest of the parts (client input included, so hashed)."""

import hashlib

# Entries are found by their versioned keys; the timeout only evicts what nobody asks for any more.
TIMEOUT = 60 * 60 * 24


def make_key(namespace: str, *parts: object) -> str:
    digest = hashlib.blake2b("\x1f".join(map(str, parts)).encode(), digest_size=16).hexdigest()
    return f"{namespace}:{digest}"
