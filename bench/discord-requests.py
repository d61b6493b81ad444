#!/usr/bin/env python3
"""Turn a ../shared/bench gen_requests.py file (Flinks-signed) into the same requests signed the
way Discord signs: X-Signature-Ed25519 = hex(Ed25519(timestamp ‖ body)) and
X-Signature-Timestamp = now, with RFC 8032 TEST 1's key (its public key is in
bench/hookgate-discord.toml). Same bodies, same record format, so the two schemes are loaded with
identical bytes. Needs Python's `cryptography`.

    python3 bench/discord-requests.py IN.dat OUT.dat
"""
import sys
import time

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

SEED = bytes.fromhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")


def main(src: str, dst: str) -> None:
    key = Ed25519PrivateKey.from_private_bytes(SEED)
    ts = str(int(time.time())).encode()
    data = open(src, "rb").read()
    header, rest = data.split(b"\n", 1)
    out = [header.replace(b"scheme=flinks", b"scheme=discord") + b"\n"]
    i = 0
    while i < len(rest):
        nl = rest.index(b"\n", i)
        _, length, verdict, n = rest[i:nl].split(b" ")
        i = nl + 1
        headers = []
        for _ in range(int(n)):
            nl = rest.index(b"\n", i)
            line = rest[i:nl]
            i = nl + 1
            if not line.lower().startswith(b"x-flinks-signature"):
                headers.append(line)
        body = rest[i:i + int(length)]
        i += int(length) + 1
        sig = key.sign(ts + body).hex().encode()
        if verdict == b"bad":
            sig = bytes(reversed(sig))
        headers += [b"X-Signature-Ed25519: " + sig, b"X-Signature-Timestamp: " + ts]
        out.append(b"@ %d %s %d\n" % (len(body), verdict, len(headers)))
        out.extend(h + b"\n" for h in headers)
        out.append(body + b"\n")
    open(dst, "wb").write(b"".join(out))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
