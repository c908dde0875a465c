"""Classical frames between hosts over asyncio TCP (Nagle off, frames coalesced per tick).

Every connection starts with a handshake: the listening side sends a magic string and a
random nonce, the dialling side answers with its host id and HMAC-SHA256(secret, nonce +
host id), checked with :func:`hmac.compare_digest`. The secret is the run's own (the
driver draws it and hands it to every actor), so a process outside the run cannot inject
anything: a peer that fails the handshake is dropped and counted (``peers_rejected``).

After the handshake a frame that cannot be decoded or handled (:class:`BadFrame`) is
dropped and counted (``frames_rejected``); the connection stays up. Only a frame longer
than the size limit ends a connection (the byte stream cannot be re-synchronized). A
connection from a known peer that ends while the run is going is recorded in ``lost``.

A peer whose process was killed on purpose (a planned node crash, see
:mod:`qnemu.runtime.crashes`) is first marked down (:meth:`SocketTransport.peer_down`):
its connections closing is then no loss, and frames for it are dropped and counted
(``frames_lost``) until it rejoins and is dialled again (:meth:`SocketTransport.connect`,
with a fresh handshake on the run secret).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import math
import os
import socket
import struct
import time
from collections.abc import Callable
from typing import Any

from qnemu.wire.frames import FrameReader, FrameTooLarge, frame

MAGIC = b"QNEMU1"
NONCE_BYTES = 16
MAC_BYTES = 32
HANDSHAKE_TIMEOUT_S = 5.0
_HELLO = struct.Struct("!i")  # the dialling host's id


class BadFrame(ValueError):
    """A frame that is well framed but not a message this host can take: dropped, counted."""


def mac(secret: bytes, nonce: bytes, host_id: int) -> bytes:
    """The handshake answer: HMAC-SHA256 over the server's nonce and the client's host id."""
    return hmac.new(secret, nonce + _HELLO.pack(host_id), hashlib.sha256).digest()


class FrameSplitter(FrameReader):
    """Splits a byte stream into decoded frames; an undecodable frame comes back as BadFrame
    (only an oversize length prefix, :class:`FrameTooLarge`, ends the stream)."""

    def feed(self, data: bytes) -> list[Any]:  # type: ignore[override]
        """Add received bytes; every frame now complete, decoded, or a BadFrame in its place."""
        out: list[Any] = []
        for body in self.bodies(data):
            try:
                out.append(self.decode(body))
            except Exception as exc:
                out.append(BadFrame(f"undecodable frame: {type(exc).__name__}: {exc}"))
        return out


class SocketTransport:
    """One listening socket per host and one outgoing connection to every other host."""

    def __init__(
        self,
        host_id: int,
        on_frame: Callable[[list[Any]], None],
        bind_host: str = "127.0.0.1",
        secret: bytes = b"",
        on_reject: Callable[[str], None] | None = None,
    ) -> None:
        self.host_id = host_id
        self.bind_host = bind_host
        self._secret = secret
        self._on_frame = on_frame
        self._on_reject = on_reject or (lambda reason: None)
        self._server: asyncio.base_events.Server | None = None
        self._writers: dict[int, asyncio.StreamWriter] = {}
        self._outbox: dict[int, list[bytes]] = {}
        self._flush_pending = False
        self._peers: set[int] = set()  # hosts of this run: losing one of them fails the run
        self._down: set[int] = set()  # peers killed on purpose: frames to them are lost
        self._generation: dict[int, int] = {}  # bumped when a peer goes down on purpose
        self.watching = False  # set while the run goes; a lost peer connection then counts
        self.lost: str | None = None
        self.lost_at_wall: float = math.inf  # when (wall clock) ``lost`` happened
        self.error: BaseException | None = None  # a handler failed on a well-formed frame
        self.frames_sent = 0
        self.frames_received = 0
        self.frames_rejected = 0
        self.frames_lost = 0  # frames for a peer that was down on purpose
        self.frames_cpu_s = 0.0  # the loop thread's CPU handling received frames
        self.peers_rejected = 0

    @property
    def port(self) -> int:
        """The listening port."""
        if self._server is None:
            raise OSError("transport: not listening")
        return int(self._server.sockets[0].getsockname()[1])

    async def listen(self) -> tuple[str, int]:
        """Start accepting connections; returns the address other hosts dial."""
        self._server = await asyncio.start_server(self._serve, self.bind_host, 0)
        return self.bind_host, self.port

    # -- inbound -----------------------------------------------------------------------------
    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        _nodelay(writer)
        peer = None
        generation = -1
        try:
            peer = await self._authenticate(reader, writer)
            if peer is not None:
                generation = self._generation.get(peer, 0)
                await self._read_frames(peer, reader)
        except FrameTooLarge as exc:
            self._reject(f"host {peer}: {exc}; connection closed")
        except (ConnectionError, OSError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()
            if (
                peer in self._peers
                and generation == self._generation.get(peer, 0)
                and self.watching
                and self.lost is None
            ):
                self._lose(f"the connection from host {peer} closed during the run")

    async def _authenticate(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> int | None:
        """The peer's host id once it proved it knows the secret; None (counted) if not."""
        nonce = os.urandom(NONCE_BYTES)
        writer.write(MAGIC + nonce)
        try:
            hello = await asyncio.wait_for(
                reader.readexactly(_HELLO.size + MAC_BYTES), HANDSHAKE_TIMEOUT_S
            )
        except (TimeoutError, asyncio.IncompleteReadError, ConnectionError, OSError):
            self._refuse("no handshake")
            return None
        (peer,) = _HELLO.unpack_from(hello)
        if not self._secret or not hmac.compare_digest(
            hello[_HELLO.size :], mac(self._secret, nonce, peer)
        ):
            self._refuse("bad handshake")
            return None
        return peer

    def _refuse(self, why: str) -> None:
        self.peers_rejected += 1
        self._on_reject(f"peer refused: {why}")

    async def _read_frames(self, peer: int, reader: asyncio.StreamReader) -> None:
        frames = FrameSplitter()
        while data := await reader.read(1 << 16):
            cpu_start = time.thread_time()
            for payload in frames.feed(data):
                self._dispatch(peer, payload)
            self.frames_cpu_s += time.thread_time() - cpu_start

    def _dispatch(self, peer: int, payload: Any) -> None:
        """Hand one frame on; a bad one is dropped and counted, never fatal to the socket."""
        if isinstance(payload, BadFrame):
            self._reject(f"host {peer}: {payload}")
            return
        self.frames_received += 1
        try:
            if not isinstance(payload, list) or not payload or not isinstance(payload[0], int):
                raise BadFrame(f"not a message: {_preview(payload)}")
            self._on_frame(payload)
        except BadFrame as exc:
            self._reject(f"host {peer}: {exc}")
        except Exception as exc:
            if self.error is None:
                self.error = exc

    def _reject(self, reason: str) -> None:
        self.frames_rejected += 1
        self._on_reject(f"frame rejected: {reason}")

    # -- outbound ----------------------------------------------------------------------------
    async def connect(self, book: dict[int, tuple[str, int]]) -> None:
        """Open an authenticated connection to every other host in the address book."""
        for peer, (address, port) in book.items():
            if peer == self.host_id or peer in self._writers:
                continue
            reader, writer = await asyncio.open_connection(address, port)
            _nodelay(writer)
            greeting = await asyncio.wait_for(
                reader.readexactly(len(MAGIC) + NONCE_BYTES), HANDSHAKE_TIMEOUT_S
            )
            if not greeting.startswith(MAGIC):
                writer.close()
                raise ConnectionError(f"host {peer} at {address}:{port} is not a qnemu host")
            nonce = greeting[len(MAGIC) :]
            writer.write(_HELLO.pack(self.host_id) + mac(self._secret, nonce, self.host_id))
            self._writers[peer] = writer
            if peer >= 0:
                self._peers.add(peer)
                self._down.discard(peer)

    def peer_down(self, peer: int) -> None:
        """``peer``'s process is about to be killed on purpose: its connections ending is no
        loss, and frames for it are lost (counted) until :meth:`connect` dials it again."""
        self._generation[peer] = self._generation.get(peer, 0) + 1
        self._peers.discard(peer)
        self._down.add(peer)
        self._outbox.pop(peer, None)
        writer = self._writers.pop(peer, None)
        if writer is not None:
            writer.close()

    def send(self, peer: int, payload: list[Any]) -> None:
        """Queue a frame for ``peer``; everything queued in one loop tick leaves in one write.

        A frame for a peer that is down on purpose is lost and counted (``frames_lost``)."""
        if peer in self._down:
            self.frames_lost += 1
            return
        if peer not in self._writers:
            raise BadFrame(f"no connection to host {peer!r}")
        self._outbox.setdefault(peer, []).append(frame(payload))
        if not self._flush_pending:
            self._flush_pending = True
            asyncio.get_running_loop().call_soon(self._flush)

    def _flush(self) -> None:
        self._flush_pending = False
        outbox, self._outbox = self._outbox, {}
        for peer, frames in outbox.items():
            writer = self._writers.get(peer)
            if peer in self._down:
                self.frames_lost += len(frames)
                continue
            if writer is None or writer.is_closing():
                if self.watching and self.lost is None:
                    self._lose(f"the connection to host {peer} is closed")
                continue
            writer.write(b"".join(frames))
            self.frames_sent += len(frames)

    async def flush(self) -> None:
        """Write everything queued now and wait until the sockets took it."""
        self._flush()
        for writer in list(self._writers.values()):
            if not writer.is_closing():
                await writer.drain()

    def _lose(self, what: str) -> None:
        self.lost, self.lost_at_wall = what, time.time()

    async def close(self) -> None:
        """Close every connection and stop listening."""
        self.watching = False
        for writer in self._writers.values():
            writer.close()
        self._writers.clear()
        if self._server is not None:
            self._server.close()


def _preview(payload: Any, limit: int = 60) -> str:
    text = repr(payload)
    return text if len(text) <= limit else text[:limit] + "..."


def _nodelay(writer: asyncio.StreamWriter) -> None:
    sock = writer.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
