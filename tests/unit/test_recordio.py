"""RecordIO framing: MXNet's format, including records that hold the magic number."""

from __future__ import annotations

import struct

import pytest

from orchestrator import recordio


def test_a_record_is_magic_length_data_and_padding() -> None:
    framed = recordio.frame(b"hello")
    magic, lrec = struct.unpack_from("<II", framed)
    assert magic == 0xCED7230A and lrec == 5
    assert framed[8:] == b"hello\0\0\0" and len(framed) % 4 == 0


@pytest.mark.parametrize(
    "record",
    [
        b"",
        b"abcd",
        recordio.MAGIC_BYTES,
        b"xxxx" + recordio.MAGIC_BYTES + b"yy",
        recordio.MAGIC_BYTES * 3 + b"z",
        b"x" + recordio.MAGIC_BYTES + b"unaligned, so not cut",
    ],
)
def test_records_read_back_whole_whatever_they_hold(record: bytes) -> None:
    stream = recordio.frame(record) + recordio.frame(b"next")
    assert list(recordio.records(stream)) == [record, b"next"]


def test_an_aligned_magic_cuts_the_record_into_flagged_parts() -> None:
    framed = recordio.frame(b"abcd" + recordio.MAGIC_BYTES + b"ef")
    first = struct.unpack_from("<II", framed)[1]
    assert (first >> 29, first & recordio.MAX_RECORD_BYTES) == (recordio.FIRST, 4)
    last = struct.unpack_from("<II", framed, 12)[1]
    assert (last >> 29, last & recordio.MAX_RECORD_BYTES) == (recordio.LAST, 2)
    assert recordio.MAGIC_BYTES not in framed[8:12] + framed[20:]


def test_a_part_longer_than_the_length_field_is_refused() -> None:
    with pytest.raises(ValueError, match="at most"):
        recordio.header(recordio.WHOLE, recordio.MAX_RECORD_BYTES + 1)
