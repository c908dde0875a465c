"""Classical frames between hosts over asyncio TCP (Nagle off, frames coalesced per tick)."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable
from typing import Any

from qnemu.messages import FrameReader, frame


class SocketTransport:
    """One listening socket per host and one outgoing connection to every other host."""

    def __init__(self, host_id: int, on_frame: Callable[[list[Any]], None],
                 bind_host: str = "127.0.0.1") -> None:
        self.host_id = host_id
        self.bind_host = bind_host
        self._on_frame = on_frame
        self._server: asyncio.base_events.Server | None = None
        self._writers: dict[int, asyncio.StreamWriter] = {}
        self._outbox: dict[int, list[bytes]] = {}
        self._flush_pending = False
        self.frames_sent = 0
        self.frames_received = 0

    async def listen(self) -> tuple[str, int]:
        """Start accepting connections; returns the address other hosts dial."""
        self._server = await asyncio.start_server(self._serve, self.bind_host, 0)
        sock = self._server.sockets[0]
        return self.bind_host, sock.getsockname()[1]

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        _nodelay(writer)
        frames = FrameReader()
        while data := await reader.read(1 << 16):
            for payload in frames.feed(data):
                self.frames_received += 1
                self._on_frame(payload)

    async def connect(self, book: dict[int, tuple[str, int]]) -> None:
        """Open a connection to every other host in the address book."""
        for peer, (address, port) in book.items():
            if peer == self.host_id or peer in self._writers:
                continue
            _, writer = await asyncio.open_connection(address, port)
            _nodelay(writer)
            self._writers[peer] = writer

    def send(self, peer: int, payload: list[Any]) -> None:
        """Queue a frame for ``peer``; everything queued in one loop tick leaves in one write."""
        self._outbox.setdefault(peer, []).append(frame(payload))
        if not self._flush_pending:
            self._flush_pending = True
            asyncio.get_running_loop().call_soon(self._flush)

    def _flush(self) -> None:
        self._flush_pending = False
        for peer, frames in self._outbox.items():
            if frames:
                self._writers[peer].write(b"".join(frames))
                self.frames_sent += len(frames)
        self._outbox.clear()

    async def close(self) -> None:
        """Close every connection and stop listening."""
        for writer in self._writers.values():
            writer.close()
        self._writers.clear()
        if self._server is not None:
            self._server.close()


def _nodelay(writer: asyncio.StreamWriter) -> None:
    sock = writer.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
