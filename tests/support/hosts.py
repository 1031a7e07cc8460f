"""Separate hosts on one machine for the cluster tests: network namespaces joined by a bridge.

``Hosts.create(names)`` (as root) makes one network namespace per name, each with a veth pair
whose other end is on a bridge in this namespace ("host A"), all in one private /24 picked at
random (so tests under xdist do not meet). ``prefix(name)`` is the command prefix that runs a
program on that host, ``address(name)`` its IP, ``cut(name)``/``mend(name)`` take its link
down and up. ``Hosts.loopback(names)`` is the fallback when namespaces cannot be made (not
root): every host is 127.0.0.1 and the prefix is empty; ``real`` says which one it is.
"""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import uuid

__all__ = ["Hosts"]


def _ip(*argv: str) -> None:
    subprocess.run(["ip", *argv], check=True, capture_output=True)


class Hosts:
    def __init__(self, real: bool, subnet: str, tag: str, names: list[str]) -> None:
        self.real = real
        self.names = names
        self._subnet = subnet
        self._tag = tag

    @classmethod
    def possible(cls) -> bool:
        return os.geteuid() == 0 and shutil.which("ip") is not None

    @classmethod
    def loopback(cls, names: list[str]) -> Hosts:
        return cls(False, "", "", names)

    @classmethod
    def create(cls, names: list[str]) -> Hosts:
        tag = uuid.uuid4().hex[:6]
        subnet = f"10.{random.randrange(100, 250)}.{random.randrange(1, 250)}"
        hosts = cls(True, subnet, tag, names)
        try:
            _ip("link", "add", hosts._bridge, "type", "bridge")
            _ip("addr", "add", f"{subnet}.1/24", "dev", hosts._bridge)
            _ip("link", "set", hosts._bridge, "up")
            for index, name in enumerate(names, start=2):
                namespace, outside, inside = hosts._names(name)
                _ip("netns", "add", namespace)
                _ip("link", "add", outside, "type", "veth", "peer", "name", inside)
                _ip("link", "set", inside, "netns", namespace)
                _ip("link", "set", outside, "master", hosts._bridge, "up")
                _ip("-n", namespace, "addr", "add", f"{subnet}.{index}/24", "dev", inside)
                _ip("-n", namespace, "link", "set", inside, "up")
                _ip("-n", namespace, "link", "set", "lo", "up")
        except BaseException:
            hosts.remove()
            raise
        return hosts

    @property
    def _bridge(self) -> str:
        return f"bcbr{self._tag}"

    def _names(self, name: str) -> tuple[str, str, str]:
        index = self.names.index(name)
        return f"bc-{self._tag}-{name}", f"bcv{self._tag}{index}", f"bcp{self._tag}{index}"

    def here(self) -> str:
        """This namespace's address on the hosts' network (host A)."""
        return f"{self._subnet}.1" if self.real else "127.0.0.1"

    def address(self, name: str) -> str:
        return f"{self._subnet}.{self.names.index(name) + 2}" if self.real else "127.0.0.1"

    def prefix(self, name: str) -> list[str]:
        return ["ip", "netns", "exec", self._names(name)[0]] if self.real else []

    def cut(self, name: str) -> None:
        assert self.real, "only real hosts have a link to cut"
        _ip("link", "set", self._names(name)[1], "down")

    def mend(self, name: str) -> None:
        assert self.real
        _ip("link", "set", self._names(name)[1], "up")

    def remove(self) -> None:
        if not self.real:
            return
        for name in self.names:
            namespace, outside, _ = self._names(name)
            subprocess.run(["ip", "link", "del", outside], capture_output=True)
            subprocess.run(["ip", "netns", "del", namespace], capture_output=True)
        subprocess.run(["ip", "link", "del", self._bridge], capture_output=True)
