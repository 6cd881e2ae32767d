#!/usr/bin/env python3
"""SHA-256 of a file, in hex, reading only its data: its holes (SEEK_HOLE)
are fed to the digest as zeros without reading them, so a sparse 8 GiB
image costs its data and the hashing of its zeros, not 8 GiB of reads.
Python's hashlib (OpenSSL's code): independent of azrp's own hashing, which
the specs check with it.  Usage: sparse_sha256.py FILE"""
import hashlib
import os
import sys

ZEROS = memoryview(bytes(1 << 20))
CHUNK = 1 << 20


def digest(path):
    h = hashlib.sha256()
    fd = os.open(path, os.O_RDONLY)
    try:
        size = os.fstat(fd).st_size
        pos = 0
        while pos < size:
            try:
                data = os.lseek(fd, pos, os.SEEK_DATA)
            except OSError:        # ENXIO: a hole to the end
                data = size
            while pos < data:
                n = min(data - pos, len(ZEROS))
                h.update(ZEROS[:n])
                pos += n
            if pos >= size:
                break
            hole = os.lseek(fd, pos, os.SEEK_HOLE)
            while pos < hole:
                buf = os.pread(fd, min(CHUNK, hole - pos), pos)
                if not buf:
                    raise OSError("file shrank while hashed: " + path)
                h.update(buf)
                pos += len(buf)
    finally:
        os.close(fd)
    return h.hexdigest()


if __name__ == "__main__":
    try:
        print(digest(sys.argv[1]))
    except (OSError, IndexError) as e:
        sys.stderr.write("sparse_sha256: %s\n" % e)
        sys.exit(1)
