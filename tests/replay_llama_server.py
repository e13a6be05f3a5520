"""A stand-in for the llama-server binary that replays recorded completions on loopback.

Run with llama-server's own arguments (`-m MODEL --host H --port P ...`); it
answers `/health`, `/v1/models` and `/v1/completions` (and chat) with the
texts of tests/data/recorded_bin_packing.jsonl, each request taking
$REPLAY_DELAY seconds. Like the real server it dies of Ctrl-C (SIGINT), which
is what the interrupt tests need; it writes its pid to $REPLAY_PID_FILE so a
test can check that the run stopped it. No model runs.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

RECORDED = Path(__file__).resolve().parent / "data" / "recorded_bin_packing.jsonl"
TEXTS = itertools.cycle([json.loads(line)["text"] for line in RECORDED.read_text().splitlines() if line])


def _reply(request: dict[str, Any]) -> dict[str, Any]:
    chat = "messages" in request
    texts = [next(TEXTS) for _ in range(int(request.get("n", 1)))]
    choices = [
        {"index": i, "finish_reason": "stop", "logprobs": None,
         **({"message": {"role": "assistant", "content": t}} if chat else {"text": t})}
        for i, t in enumerate(texts)
    ]  # fmt: skip
    tokens = sum(len(t.split()) for t in texts)
    return {"id": "replay", "object": "chat.completion" if chat else "text_completion", "created": 0,
            "model": request.get("model", "replay"), "choices": choices,
            "usage": {"prompt_tokens": 10, "completion_tokens": tokens, "total_tokens": 10 + tokens}}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as clients expect of llama-server

    def do_GET(self) -> None:
        if self.path == "/health":
            self._send({"status": "ok"})
        else:
            self._send({"object": "list", "data": [{"id": "replay", "object": "model"}]})

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        time.sleep(float(os.environ.get("REPLAY_DELAY", "0")))
        self._send(_reply(body))

    def _send(self, payload: dict[str, Any]) -> None:
        data = json.dumps(payload).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: Any) -> None:
        pass


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args, _ = parser.parse_known_args()
    if os.environ.get("REPLAY_PID_FILE"):
        Path(os.environ["REPLAY_PID_FILE"]).write_text(str(os.getpid()))
    server = ThreadingHTTPServer((args.host, args.port), Handler)
    server.daemon_threads = True
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
