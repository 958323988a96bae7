"""Drive the real yaml-language-server (from npm) over stdio LSP: open one file, get its diagnostics.

Used by tests/e2e/test_editor_schemas.py; also runnable by hand:
``python tests/yaml_language_server.py FILE`` prints ``line:col: message`` per diagnostic.
"""
from __future__ import annotations

import json
import os
import queue
import shutil
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# Where .ci/run installs it (npm install --prefix .ci/node); OPSGOV_YAML_LS names another server binary.
DEFAULT_SERVER = ROOT / ".ci" / "node" / "node_modules" / ".bin" / "yaml-language-server"
SETTINGS = {"validate": True, "hover": False, "completion": False, "format": {"enable": False},
            "schemaStore": {"enable": False}, "schemas": {}}
WAIT = 60.0   # seconds: a hang guard only (a run takes about a second)


def server_command() -> list[str] | None:
    named = os.environ.get("OPSGOV_YAML_LS")
    path = Path(named) if named else DEFAULT_SERVER
    if not path.exists() or shutil.which("node") is None:
        return None
    return [str(path), "--stdio"]


class LanguageServer:
    def __init__(self, command: list[str], root: Path) -> None:
        self.proc = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL, cwd=root)
        self.messages: queue.Queue[dict[str, Any]] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        self.next_id = 0
        self.request("initialize", {"processId": os.getpid(), "rootUri": root.as_uri(),
                                    "capabilities": {"workspace": {"configuration": True},
                                                     "textDocument": {"publishDiagnostics": {}}}})
        self.notify("initialized", {})
        self.notify("workspace/didChangeConfiguration", {"settings": {"yaml": SETTINGS}})

    def _read(self) -> None:
        stream = self.proc.stdout
        assert stream is not None
        while True:
            length = None
            while True:
                line = stream.readline()
                if not line:
                    return
                if line in (b"\r\n", b"\n"):
                    break
                name, _, value = line.decode("ascii").partition(":")
                if name.lower() == "content-length":
                    length = int(value.strip())
            if length is None:
                return
            self.messages.put(json.loads(stream.read(length)))

    def _send(self, message: dict[str, Any]) -> None:
        body = json.dumps({"jsonrpc": "2.0", **message}).encode("utf-8")
        assert self.proc.stdin is not None
        self.proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        self.proc.stdin.flush()

    def notify(self, method: str, params: Any) -> None:
        self._send({"method": method, "params": params})

    def request(self, method: str, params: Any) -> Any:
        self.next_id += 1
        self._send({"id": self.next_id, "method": method, "params": params})
        return self._until(lambda m: m.get("id") == self.next_id and "method" not in m)

    def _answer(self, message: dict[str, Any]) -> None:
        """Requests from the server: our settings for workspace/configuration, nothing for the rest."""
        if message.get("method") == "workspace/configuration":
            result: Any = [SETTINGS for _item in message["params"]["items"]]
        else:
            result = None
        self._send({"id": message["id"], "result": result})

    def _until(self, wanted: Any) -> dict[str, Any]:
        while True:
            try:
                message = self.messages.get(timeout=WAIT)
            except queue.Empty:
                raise TimeoutError("yaml-language-server said nothing for a minute") from None
            if "method" in message and "id" in message:
                self._answer(message)
            elif wanted(message):
                return message

    def diagnostics(self, path: Path) -> list[dict[str, Any]]:
        uri = path.resolve().as_uri()
        self.notify("textDocument/didOpen", {"textDocument": {
            "uri": uri, "languageId": "yaml", "version": 1, "text": path.read_text(encoding="utf-8")}})
        message = self._until(lambda m: m.get("method") == "textDocument/publishDiagnostics"
                              and m["params"]["uri"] == uri)
        return list(message["params"]["diagnostics"])

    def close(self) -> None:
        try:
            self.request("shutdown", None)
            self.notify("exit", None)
            self.proc.wait(timeout=10)
        except (OSError, TimeoutError, subprocess.TimeoutExpired):
            self.proc.kill()
            self.proc.wait()


def main(argv: list[str]) -> int:
    command = server_command()
    if command is None:
        print(f"yaml-language-server not found at {DEFAULT_SERVER} (set OPSGOV_YAML_LS)", file=sys.stderr)
        return 2
    server = LanguageServer(command, Path.cwd())
    try:
        for name in argv:
            for d in server.diagnostics(Path(name)):
                start = d["range"]["start"]
                print(f"{name}:{start['line'] + 1}:{start['character'] + 1}: {d['message']}")
    finally:
        server.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
