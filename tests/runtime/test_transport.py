"""The socket transport on real loopback sockets: handshake, bad frames, no Ray."""

import asyncio
import socket

import msgpack
import pytest

from qnemu.runtime.transport import MAGIC, NONCE_BYTES, BadFrame, SocketTransport, mac
from qnemu.wire.frames import frame

SECRET = b"s" * 32


def _handshake(sock: socket.socket, secret: bytes, host_id: int = 7) -> None:
    greeting = _read_exactly(sock, len(MAGIC) + NONCE_BYTES)
    assert greeting.startswith(MAGIC)
    sock.sendall(
        host_id.to_bytes(4, "big", signed=True) + mac(secret, greeting[len(MAGIC) :], host_id)
    )


def _read_exactly(sock: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        assert chunk, "connection closed"
        data += chunk
    return data


async def _serve(client, on_frame=None):
    """Run a server transport, let ``client(port)`` talk to it in a thread, settle."""
    received = []

    def handle(payload):
        if on_frame is not None:
            on_frame(payload)
        received.append(payload)

    server = SocketTransport(0, handle, secret=SECRET)
    _, port = await server.listen()
    await asyncio.to_thread(client, port)
    for _ in range(100):  # let the server read what was sent
        await asyncio.sleep(0.01)
    await server.close()
    return server, received


def _connect(port: int) -> socket.socket:
    return socket.create_connection(("127.0.0.1", port), timeout=5)


def test_garbage_without_handshake_is_refused_and_counted():
    def client(port):
        with _connect(port) as sock:
            sock.sendall(b"\x00\x00\x00\x05hello" * 100 + bytes(range(256)))

    server, received = asyncio.run(_serve(client))
    assert received == []
    assert server.peers_rejected == 1


def test_wrong_secret_cannot_inject_well_formed_frames():
    def client(port):
        with _connect(port) as sock:
            _handshake(sock, b"x" * 32)
            sock.sendall(frame([-1, "a", "b", 0]) * 3 + frame([1, "a", "b", 0.0, 0.0]))

    server, received = asyncio.run(_serve(client))
    assert received == []
    assert server.peers_rejected == 1


def test_bad_frames_are_dropped_one_by_one_and_the_connection_survives():
    def refuse(payload):
        if payload[0] == 99:
            raise BadFrame("not for me")

    def client(port):
        with _connect(port) as sock:
            _handshake(sock, SECRET)
            body = b"\xc1\xc1"  # 0xc1 is never valid msgpack
            sock.sendall(len(body).to_bytes(4, "big") + body)
            sock.sendall(frame({"not": "a list"}) + frame([]) + frame(["str"]) + frame([99]))
            sock.sendall(frame([5, "good"]))

    server, received = asyncio.run(_serve(client, refuse))
    assert received[-1] == [5, "good"]
    assert server.frames_rejected == 5
    assert server.peers_rejected == 0


def test_an_oversize_frame_ends_only_that_connection():
    def client(port):
        with _connect(port) as sock:
            _handshake(sock, SECRET)
            sock.sendall((1 << 30).to_bytes(4, "big") + b"x" * 10)
        with _connect(port) as sock:
            _handshake(sock, SECRET)
            sock.sendall(frame([5, "after"]))

    server, received = asyncio.run(_serve(client))
    assert received == [[5, "after"]]
    assert server.frames_rejected == 1


def test_authenticated_hosts_exchange_frames():
    async def scenario():
        got = []
        a = SocketTransport(0, got.append, secret=SECRET)
        b = SocketTransport(1, got.append, secret=SECRET)
        book = {0: await a.listen(), 1: await b.listen()}
        await a.connect(book)
        await b.connect(book)
        a.send(1, [5, "hello"])
        b.send(0, [6, "back"])
        for _ in range(100):
            if len(got) == 2:
                break
            await asyncio.sleep(0.01)
        with pytest.raises(BadFrame):
            a.send(9, [5, "nobody"])
        await a.close()
        await b.close()
        return got, a, b

    got, a, b = asyncio.run(scenario())
    assert sorted(map(str, got)) == ["[5, 'hello']", "[6, 'back']"]
    assert a.peers_rejected == b.peers_rejected == 0
    assert msgpack.unpackb(frame([1])[4:]) == [1]
