"""The remote engine: a model served over an OpenAI-compatible API (`vllm serve`, or any server that
takes token-id prompts and vLLM's `logprob_token_ids`).

Generative judges: `POST /v1/completions` with the prompt as token ids, `max_tokens: 1` and
`logprob_token_ids` (the label ids), `return_tokens_as_token_ids` so the answer is keyed by id, not by
decoded text. Reward models (served with `--runner pooling`): `POST /classify` without the activation.

Timeouts on every request, bounded retries with exponential backoff on connection errors, 429 and 5xx;
a server that stays down is a JudgeUnavailableError (pytest-flame: an ERROR, never a FAIL). The API key
is read from the environment only (FLAME_API_KEY, else OPENAI_API_KEY) and never logged or put in errors.
"""

from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flame_judge.backends import EngineName, ModelKind
from flame_judge.errors import JudgeError, JudgeUnavailableError, ModelSpecError

if TYPE_CHECKING:
    from flame_judge.loading import LoadedModel

_KEY_VARS = ("FLAME_API_KEY", "OPENAI_API_KEY")
_RETRY_STATUS = {408, 425, 429, 500, 502, 503, 504}


class RemoteEngine:
    engine: EngineName = "remote"

    def __init__(
        self,
        url: str,
        model: str | None = None,
        *,
        fingerprint: str | None = None,
        kind: ModelKind | None = None,
        timeout_s: float = 60.0,
        retries: int = 3,
        backoff_s: float = 0.5,
        chunk: int = 64,
    ) -> None:
        self.url = url.rstrip("/")
        self.timeout_s, self.retries, self.backoff_s, self.chunk = timeout_s, retries, backoff_s, chunk
        models = self._get("/models").get("data") or []
        served = {str(m.get("id")): m for m in models if isinstance(m, dict)}
        if model is None:
            if len(served) != 1:
                raise ModelSpecError(f"{self.url} serves {sorted(served) or 'no models'}; name one: {self.url}#NAME")
            model = next(iter(served))
        if model not in served:
            raise ModelSpecError(f"{self.url} does not serve {model!r}; it serves {sorted(served)}")
        self.model = model
        self._root = str(served[model].get("root") or model)
        self._given_fingerprint = fingerprint
        self._kind = kind
        self.fingerprint = f"served:{model}@{fingerprint or self._root}"
        self.model_kind: ModelKind = kind or "generative"

    def tokenizer_hint(self) -> str:
        """Where the tokenizer likely is: the folder the server loaded (same machine), else its served name."""
        return self._root if Path(self._root).is_dir() else self.model

    def bind(self, loaded: LoadedModel) -> None:
        """Settle the fingerprint and kind once the judge's local copy of the model (its tokenizer) is known.

        With no fingerprint given, a server whose loaded folder is this local folder is pinned by the
        hash of its weights; otherwise by the folder name it reports (give `fingerprint=` to pin weights
        on another machine).
        """
        local = Path(self._root)
        if self._given_fingerprint is None and local.is_dir() and local.resolve() == loaded.directory.resolve():
            self.fingerprint = f"served:{self.model}@{loaded.fingerprint}"
        if self._kind is None:
            self.model_kind = loaded.kind

    # -- HTTP -------------------------------------------------------------------------------------

    def _headers(self) -> dict[str, str]:
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        for var in _KEY_VARS:
            key = os.environ.get(var)
            if key:
                headers["Authorization"] = f"Bearer {key}"
                break
        return headers

    def _request(self, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        target = self.url + path if path.startswith("/") else path
        data = None if body is None else json.dumps(body).encode()
        last = ""
        for attempt in range(self.retries + 1):
            if attempt:
                time.sleep(self.backoff_s * 2 ** (attempt - 1))
            request = urllib.request.Request(target, data=data, method=method, headers=self._headers())
            try:
                with urllib.request.urlopen(request, timeout=self.timeout_s) as response:
                    return json.loads(response.read())
            except urllib.error.HTTPError as exc:
                detail = _error_text(exc)
                if exc.code in _RETRY_STATUS:
                    last = f"HTTP {exc.code}: {detail}"
                    continue
                raise JudgeError(f"{method} {target} was refused: HTTP {exc.code}: {detail}") from None
            except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
                last = str(getattr(exc, "reason", exc))
            except json.JSONDecodeError as exc:
                raise JudgeError(f"{method} {target} answered with something that is not JSON ({exc})") from None
        raise JudgeUnavailableError(
            f"the judge server {self.url} did not answer {method} {path} after {self.retries + 1} tries "
            f"(timeout {self.timeout_s:g} s): {last}; is it running?"
        )

    def _get(self, path: str) -> dict[str, Any]:
        return self._request("GET", path)

    def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        return self._request("POST", path, body)

    # -- the protocol -----------------------------------------------------------------------------

    def label_logprobs(
        self, rows: Sequence[Sequence[int]], labels: Sequence[Sequence[int]], *, batch_size: int | None = None
    ) -> list[list[float]]:
        if self.model_kind != "generative":
            raise JudgeError(f"the served {self.model!r} is a reward model: it gives pairwise verdicts only")
        results: list[list[float]] = [[] for _ in rows]
        groups: dict[tuple[int, ...], list[int]] = {}
        for i, ids in enumerate(labels):
            groups.setdefault(tuple(ids), []).append(i)
        step = batch_size or self.chunk
        for label_ids, members in groups.items():
            for start in range(0, len(members), step):
                part = members[start : start + step]
                body = {
                    "model": self.model,
                    "prompt": [list(rows[i]) for i in part],
                    "max_tokens": 1,
                    "temperature": 0.0,
                    "logprobs": len(label_ids),
                    "logprob_token_ids": list(label_ids),
                    "return_tokens_as_token_ids": True,
                }
                answer = self._post("/completions", body)
                for choice in answer.get("choices") or []:
                    results[part[int(choice["index"])]] = _label_values(choice, label_ids)
        if any(not r for r in results):
            raise JudgeError(f"{self.url} answered fewer completions than it was sent")
        return results

    def rewards(self, rows: Sequence[Sequence[int]], *, batch_size: int | None = None) -> list[float]:
        if self.model_kind != "reward":
            raise JudgeError(f"the served {self.model!r} is not a reward model (a sequence classifier)")
        out: list[float] = [0.0] * len(rows)
        step = batch_size or self.chunk
        root = self.url.removesuffix("/v1")
        for start in range(0, len(rows), step):
            body = {
                "model": self.model,
                "input": [list(r) for r in rows[start : start + step]],
                "use_activation": False,
            }
            answer = self._request("POST", f"{root}/classify", body)
            for item in answer.get("data") or []:
                out[start + int(item["index"])] = float(item["probs"][0])
        return out

    def close(self) -> None:
        pass


def _label_values(choice: dict[str, Any], label_ids: Sequence[int]) -> list[float]:
    """The label log-probs of one completion choice, keyed `token_id:N` (return_tokens_as_token_ids)."""
    try:
        step = choice["logprobs"]["top_logprobs"][0]
        return [float(step[f"token_id:{i}"]) for i in label_ids]
    except (KeyError, IndexError, TypeError) as exc:
        raise JudgeError(
            f"the server's answer has no log-probability for label token {exc}: it must support vLLM's "
            "logprob_token_ids (vLLM >= 0.32)"
        ) from None


def _error_text(exc: urllib.error.HTTPError) -> str:
    try:
        text = exc.read().decode(errors="replace")
        message = json.loads(text).get("error", text) if text.startswith("{") else text
        if isinstance(message, dict):
            message = message.get("message", message)
        return str(message)[:300]
    except (OSError, ValueError):
        return exc.reason if isinstance(exc.reason, str) else "no detail"
