"""Frames on the wire: length-prefixed msgpack, split from a byte stream with a size
limit (a frame over it is a bug or an attack, and ends trust in the stream)."""

from __future__ import annotations

import struct
from collections.abc import Iterator
from typing import Any

import msgpack

MAX_FRAME_BYTES = 1 << 20  # a single frame above 1 MiB is a bug or an attack
_LENGTH = struct.Struct("!I")


def frame(payload: Any) -> bytes:
    """One length-prefixed msgpack frame."""
    body = msgpack.packb(payload, use_bin_type=True)
    return _LENGTH.pack(len(body)) + body


class FrameTooLarge(ValueError):
    """A length prefix above the limit: the stream cannot be trusted any more."""


class FrameReader:
    """Splits a byte stream into decoded frames, refusing frames over the size limit."""

    def __init__(self, max_frame_bytes: int = MAX_FRAME_BYTES) -> None:
        self._buffer = bytearray()
        self._max = max_frame_bytes

    def bodies(self, data: bytes) -> Iterator[bytes]:
        """Add received bytes; yield the body of every frame now complete (undecoded)."""
        buffer = self._buffer
        buffer += data
        # frames are cut at an offset and the consumed bytes dropped once per call: deleting
        # each frame from the front would move the rest of a large read once per frame
        start = 0
        try:
            while len(buffer) - start >= _LENGTH.size:
                (length,) = _LENGTH.unpack_from(buffer, start)
                if length > self._max:
                    raise FrameTooLarge(
                        f"frame length: {length} bytes exceeds the {self._max} limit"
                    )
                end = start + _LENGTH.size + length
                if len(buffer) < end:
                    return
                body = bytes(buffer[start + _LENGTH.size : end])
                start = end
                yield body
        finally:
            del buffer[:start]

    def decode(self, body: bytes) -> Any:
        """One frame body as msgpack, with the size limits on its strings and bytes."""
        return msgpack.unpackb(body, raw=False, max_bin_len=self._max, max_str_len=self._max)

    def feed(self, data: bytes) -> Iterator[Any]:
        """Add received bytes; yield every frame now complete, decoded."""
        for body in self.bodies(data):
            yield self.decode(body)
