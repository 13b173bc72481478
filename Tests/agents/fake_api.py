#!/usr/bin/env python3
"""A local fake of the agents' model APIs, over HTTPS with a test CA, for the agents lane.

It answers Anthropic's Messages API (Claude Code), OpenAI's Responses API (Codex) and Chat
Completions API (aider through LiteLLM), streamed or not, always with the same text:
ANSWER, which the checks look for in the agent's output. Every request is appended to LOG
as one JSON line (host, method, path), so a check can tell that the agent reached the fake.

    fake_api.py ADDRESS PORT CERT KEY LOG

Listens on loopback only; prints "ready" when it accepts connections.
"""
import json
import ssl
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ANSWER = "SBX-FAKE-ANSWER-7f3a"


def anthropic_events(model):
    message = {"id": "msg_fake", "type": "message", "role": "assistant", "model": model, "content": [],
               "stop_reason": None, "stop_sequence": None, "usage": {"input_tokens": 5, "output_tokens": 1}}
    return [
        ("message_start", {"type": "message_start", "message": message}),
        ("content_block_start", {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}),
        ("content_block_delta", {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": ANSWER}}),
        ("content_block_stop", {"type": "content_block_stop", "index": 0}),
        ("message_delta", {"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence": None},
                           "usage": {"output_tokens": 5}}),
        ("message_stop", {"type": "message_stop"}),
    ]


def anthropic_message(model):
    return {"id": "msg_fake", "type": "message", "role": "assistant", "model": model,
            "content": [{"type": "text", "text": ANSWER}], "stop_reason": "end_turn", "stop_sequence": None,
            "usage": {"input_tokens": 5, "output_tokens": 5}}


def responses_events(model):
    item = {"type": "message", "role": "assistant", "id": "msg_fake", "status": "completed",
            "content": [{"type": "output_text", "text": ANSWER, "annotations": []}]}
    response = {"id": "resp_fake", "object": "response", "model": model, "status": "completed", "output": [item],
                "usage": {"input_tokens": 5, "input_tokens_details": {"cached_tokens": 0}, "output_tokens": 5,
                          "output_tokens_details": {"reasoning_tokens": 0}, "total_tokens": 10}}
    return [
        ("response.created", {"type": "response.created", "response": dict(response, status="in_progress", output=[])}),
        ("response.output_item.added", {"type": "response.output_item.added", "output_index": 0, "item": dict(item, status="in_progress", content=[])}),
        ("response.output_text.delta", {"type": "response.output_text.delta", "output_index": 0, "content_index": 0,
                                        "item_id": "msg_fake", "delta": ANSWER}),
        ("response.output_item.done", {"type": "response.output_item.done", "output_index": 0, "item": item}),
        ("response.completed", {"type": "response.completed", "response": response}),
    ]


def chat_chunks(model):
    base = {"id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": 1700000000, "model": model}
    return [
        dict(base, choices=[{"index": 0, "delta": {"role": "assistant", "content": ANSWER}, "finish_reason": None}]),
        dict(base, choices=[{"index": 0, "delta": {}, "finish_reason": "stop"}],
             usage={"prompt_tokens": 5, "completion_tokens": 5, "total_tokens": 10}),
    ]


def chat_completion(model):
    return {"id": "chatcmpl-fake", "object": "chat.completion", "created": 1700000000, "model": model,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": ANSWER}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 5, "completion_tokens": 5, "total_tokens": 10}}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    log_path = None
    lock = threading.Lock()

    def log_message(self, format, *args):
        pass

    def record(self, body):
        # The credential's last characters: enough to tell which login the agent used.
        credential = self.headers.get("Authorization") or self.headers.get("x-api-key") or ""
        entry = {"host": self.headers.get("Host", ""), "method": self.command, "path": self.path,
                 "stream": bool(body.get("stream")) if isinstance(body, dict) else False,
                 "credential_tail": credential[-16:]}
        with self.lock, open(self.log_path, "a") as log:
            log.write(json.dumps(entry) + "\n")

    def read_body(self):
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            return json.loads(raw or b"{}")
        except ValueError:
            return {}

    def send_json(self, value, status=200):
        data = json.dumps(value).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def send_events(self, events, named=True, done=False):
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Connection", "close")
        self.end_headers()
        for name, payload in events:
            text = (f"event: {name}\n" if named else "") + f"data: {json.dumps(payload)}\n\n"
            self.wfile.write(text.encode())
        if done:
            self.wfile.write(b"data: [DONE]\n\n")
        self.wfile.flush()
        self.close_connection = True

    def do_GET(self):
        self.record({})
        # No WebSockets here (Codex tries its Responses stream over one first): 426 sends it
        # to plain HTTPS.
        if self.headers.get("Upgrade", "").lower() == "websocket":
            self.send_response(426)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        path = self.path.split("?")[0]
        if path.endswith("/models"):
            self.send_json({"object": "list", "data": [], "models": []})
        else:
            self.send_json({})

    def do_HEAD(self):
        self.record({})
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_POST(self):
        body = self.read_body()
        self.record(body)
        path = self.path.split("?")[0]
        model = body.get("model", "fake-model") if isinstance(body, dict) else "fake-model"
        stream = isinstance(body, dict) and body.get("stream")
        if path.endswith("/messages/count_tokens"):
            self.send_json({"input_tokens": 5})
        elif path.endswith("/messages"):
            self.send_events(anthropic_events(model)) if stream else self.send_json(anthropic_message(model))
        elif path.endswith("/responses"):
            self.send_events(responses_events(model))
        elif path.endswith("/chat/completions"):
            if stream:
                self.send_events([(None, chunk) for chunk in chat_chunks(model)], named=False, done=True)
            else:
                self.send_json(chat_completion(model))
        else:
            self.send_json({})


def main():
    address, port, cert, key, log = sys.argv[1:6]
    Handler.log_path = log
    server = ThreadingHTTPServer((address, int(port)), Handler)
    server.daemon_threads = True
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    print("ready", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
