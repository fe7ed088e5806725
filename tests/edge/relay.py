"""A TCP relay into another network namespace, for a test server that cannot be told which
address to bind (Orthanc 1.10's DICOM port listens on every address).

The server runs in a namespace of its own (``unshare --net``: nothing there but its loopback),
so no other machine can reach it. ``Relay`` listens on 127.0.0.1 here and forwards each
connection to a port on that namespace's 127.0.0.1: its listening socket is made in this
namespace, and its one accepting thread joins the server's namespace (``setns`` acts on the
calling thread only), so the connections it opens to the server are made there.
"""

import contextlib
import ctypes
import os
import socket
import threading

CLONE_NEWNET = 0x40000000
CHUNK = 65536


class NamespaceUnavailable(Exception):
    """This process may not enter the server's network namespace (it takes CAP_SYS_ADMIN)."""


class Relay:
    """127.0.0.1:``port`` here -> 127.0.0.1:``target_port`` in the namespace of process
    ``pid``; forwarding starts at once and stops with ``close``."""

    def __init__(self, pid: int, target_port: int) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self.listener.getsockname()[1])
        self._entered = threading.Event()
        self._error: OSError | None = None
        thread = threading.Thread(target=self._serve, args=(pid, target_port), daemon=True)
        thread.start()
        self._entered.wait(timeout=10)
        if self._error is not None:
            self.close()
            raise NamespaceUnavailable(f"cannot enter the namespace of {pid}: {self._error}")

    def close(self) -> None:
        _shutdown(self.listener, socket.SHUT_RDWR)  # wakes the thread blocked in accept
        self.listener.close()

    def _serve(self, pid: int, target_port: int) -> None:
        try:
            _enter_namespace(pid)
        except OSError as error:
            self._error = error
            return
        finally:
            self._entered.set()
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return  # closed
            try:
                server = socket.create_connection(("127.0.0.1", target_port), timeout=10)
            except OSError:
                client.close()  # the server is not up (yet): the client sees a closed connection
                continue
            server.settimeout(None)
            _pipe(client, server)


def _enter_namespace(pid: int) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    fd = os.open(f"/proc/{pid}/ns/net", os.O_RDONLY)
    try:
        if libc.setns(fd, CLONE_NEWNET) != 0:
            error = ctypes.get_errno()
            raise OSError(error, os.strerror(error))
    finally:
        os.close(fd)


def _pipe(one: socket.socket, other: socket.socket) -> None:
    """Bytes both ways until both sides have finished; then both sockets are closed."""
    pumps = [
        threading.Thread(target=_pump, args=(one, other), daemon=True),
        threading.Thread(target=_pump, args=(other, one), daemon=True),
    ]
    for pump in pumps:
        pump.start()

    def close_when_done() -> None:
        for pump in pumps:
            pump.join()
        one.close()
        other.close()

    threading.Thread(target=close_when_done, daemon=True).start()


def _pump(source: socket.socket, target: socket.socket) -> None:
    try:
        while data := source.recv(CHUNK):
            target.sendall(data)
    except OSError:
        _shutdown(source, socket.SHUT_RDWR)  # a reset: the other pump must not wait on it
    _shutdown(target, socket.SHUT_WR)  # pass the end on, as a half-close


def _shutdown(sock: socket.socket, how: int) -> None:
    with contextlib.suppress(OSError):  # already closed
        sock.shutdown(how)
