"""RecordIO framing, decided purely: what RecordWrapperType `RecordIO` puts around each record.

SageMaker wraps each S3 object (each attribute, for an augmented manifest) "in a RecordIO
record" (API reference, Channel.RecordWrapperType; developer guide, "Augmented Manifest File
Format for Pipe Mode Training"), in MXNet's RecordIO format (dmlc-core's recordio, which the
guide links to). A record is one or more parts, each:

    magic   uint32 little-endian 0xCED7230A
    lrec    uint32 little-endian: continuation flag in the top 3 bits, part length in the rest
    data    the part's bytes, then zeros up to a multiple of 4 after the record's last part

A record whose data holds the magic at a 4-byte-aligned offset is cut there: the magic is left
out and readers put it back between parts (flags 1 first, 2 middle, 3 last; 0 for a record in
one part), so a reader that scans for the magic never mistakes data for a header.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator

MAGIC = 0xCED7230A
MAGIC_BYTES = struct.pack("<I", MAGIC)
LENGTH_BITS = 29
MAX_RECORD_BYTES = (1 << LENGTH_BITS) - 1  # what the length field holds

WHOLE, FIRST, MIDDLE, LAST = 0, 1, 2, 3


def header(flag: int, length: int) -> bytes:
    if not 0 <= length <= MAX_RECORD_BYTES:
        raise ValueError(f"a RecordIO part holds at most {MAX_RECORD_BYTES} bytes, not {length}")
    return MAGIC_BYTES + struct.pack("<I", (flag << LENGTH_BITS) | length)


def padding(length: int) -> bytes:
    return b"\0" * (-length % 4)


def aligned_magic_offsets(data: bytes, base: int = 0) -> Iterator[int]:
    """Offsets (from `base`, the position of `data` in its record, a multiple of 4) where the
    magic sits at a 4-byte-aligned position of the record."""
    start = data.find(MAGIC_BYTES)
    while start != -1:
        if (base + start) % 4 == 0:
            yield base + start
        start = data.find(MAGIC_BYTES, start + 1)


def parts(length: int, cuts: list[int]) -> list[tuple[int, int, int]]:
    """(flag, start, end) of each part of a record of `length` bytes cut at the magics found at
    `cuts` (aligned offsets, ascending)."""
    bounds: list[tuple[int, int]] = []
    start = 0
    for cut in cuts:
        bounds.append((start, cut))
        start = cut + len(MAGIC_BYTES)
    bounds.append((start, length))
    if len(bounds) == 1:
        return [(WHOLE, 0, length)]
    last = len(bounds) - 1
    flags = [FIRST] + [MIDDLE] * (last - 1) + [LAST]
    return [(flag, a, b) for flag, (a, b) in zip(flags, bounds, strict=True)]


def frame(record: bytes) -> bytes:
    """One whole record, framed (small records; large ones go through `parts`)."""
    cuts = list(aligned_magic_offsets(record))
    out = bytearray()
    for flag, start, end in parts(len(record), cuts):
        out += header(flag, end - start) + record[start:end]
    out += padding(len(record))
    return bytes(out)


def records(stream: bytes) -> Iterator[bytes]:
    """Read framed records back (the tests' reader, and the format's definition in reverse)."""
    position, pending = 0, bytearray()
    while position < len(stream):
        magic, lrec = struct.unpack_from("<II", stream, position)
        if magic != MAGIC:
            raise ValueError(f"no RecordIO magic at offset {position}")
        flag, length = lrec >> LENGTH_BITS, lrec & MAX_RECORD_BYTES
        position += 8
        data = stream[position : position + length]
        position += length
        if flag in (WHOLE, LAST):
            position += -position % 4
        if flag == WHOLE:
            yield bytes(data)
        elif flag == FIRST:
            pending = bytearray(data)
        elif flag == MIDDLE:
            pending += MAGIC_BYTES + data
        else:
            yield bytes(pending + MAGIC_BYTES + data)
            pending = bytearray()
