"""A real HTTP server on 127.0.0.1 that speaks the OpenAI chat-completions API, with scripts.

Each incoming request takes the next step of the script: a reply text (or a function of the
request that returns one), an HTTP error, a delay, or a malformed body. Every request is kept,
headers and JSON, so tests can check what was sent to the model.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from retrieval.answer.chain import ChatModelConfig


@dataclass
class Step:
    reply: str | Callable[[dict[str, Any]], str] = ""
    status: int = 200
    delay: float = 0.0
    raw: bytes | None = None  # sent as the body instead of a well-formed completion
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Request:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]

    @property
    def messages(self) -> list[dict[str, str]]:
        return list(self.body.get("messages", []))

    @property
    def text(self) -> str:
        return "\n".join(str(m.get("content", "")) for m in self.messages)


class FakeOpenAI:
    def __init__(self) -> None:
        self.script: list[Step] = []
        self.requests: list[Request] = []
        self._lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = json.loads(self.rfile.read(length) or b"{}")
                with fake._lock:
                    fake.requests.append(
                        Request(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                    )
                    step = fake.script.pop(0) if fake.script else Step("(no scripted reply)")
                if step.delay:
                    time.sleep(step.delay)
                if step.raw is not None:
                    payload = step.raw
                elif step.status != 200:
                    error = {"message": f"scripted {step.status}", "type": "server_error"}
                    payload = json.dumps({"error": error}).encode()
                else:
                    text = step.reply(body) if callable(step.reply) else step.reply
                    payload = json.dumps(_completion(text, body.get("model", "gpt-test"))).encode()
                try:
                    self.send_response(step.status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    for key, value in step.headers.items():
                        self.send_header(key, value)
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a timeout test)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self.server.server_address[:2]
        assert isinstance(host, str)  # an AF_INET server's address: (host, port)
        return f"http://{host}:{port}/v1"

    def config(self, *, api_key: str = "sk-test", **options: Any) -> ChatModelConfig:
        """The chat model configuration that points newsbot at this server."""
        return ChatModelConfig(
            model="openai:gpt-test", base_url=self.base_url, api_key=api_key, **options
        )

    def start(self) -> FakeOpenAI:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def then(self, *steps: Step | str | Callable[[dict[str, Any]], str]) -> FakeOpenAI:
        self.script.extend(s if isinstance(s, Step) else Step(s) for s in steps)
        return self


def _completion(text: str, model: str) -> dict[str, Any]:
    return {
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": text},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 10, "completion_tokens": 10, "total_tokens": 20},
    }
