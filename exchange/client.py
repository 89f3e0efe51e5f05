"""A Python client of the govex API; the CLI uses it too.

>>> client = Client("http://127.0.0.1:8080", token="gvx_...")   # doctest: +SKIP
>>> client.datasets(q="热线")                                     # doctest: +SKIP
"""

from __future__ import annotations

import io
import json
import os
import secrets
from pathlib import Path
from typing import Any

import requests

__all__ = ["Client", "ApiError", "MultipartUpload"]


class ApiError(Exception):
    """The server answered with an error (``status``, ``code``, ``message``)."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message if status == 0 else f"{message} (HTTP {status}, {code})")
        self.status, self.code, self.message = status, code, message


def locale_language(environ: Any = None) -> str:
    """``zh`` when the user's locale is Chinese (LC_ALL, LC_MESSAGES, LANG), else ``en``."""
    env = os.environ if environ is None else environ
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        if env.get(name):
            return "zh" if env[name].lower().startswith("zh") else "en"
    return "en"


class Client:
    """Talks to one govex server as one user."""

    def __init__(self, url: str, *, token: str | None = None, timeout: float = 120,
                 language: str | None = None) -> None:
        self.url = url.rstrip("/")
        self._session = requests.Session()
        if token:
            self._session.headers["Authorization"] = f"Bearer {token}"
        # the server words its refusals in the user's language (zh or en)
        self._session.headers["Accept-Language"] = language or locale_language()
        self.timeout = timeout

    def _call(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        try:
            response = self._session.request(method, self.url + path, timeout=self.timeout,
                                             **kwargs)
        except requests.Timeout as exc:
            raise ApiError(0, "unreachable",
                           f"no answer from {self.url} within {self.timeout:g} s") from exc
        except requests.ConnectionError as exc:
            raise ApiError(0, "unreachable", f"cannot reach {self.url}: is the server running "
                           "there? (--url or GOVEX_URL)") from exc
        except requests.RequestException as exc:
            raise ApiError(0, "unreachable",
                           f"cannot talk to {self.url}: {type(exc).__name__}") from exc
        if response.status_code >= 400:
            raise _error(response)
        return response

    def _json(self, method: str, path: str, **kwargs: Any) -> Any:
        return self._call(method, path, **kwargs).json()

    # catalog
    def datasets(self, **filters: str | None) -> list[dict]:
        """Search the catalog."""
        params = {k: v for k, v in filters.items() if v}
        return self._every("/api/v1/datasets", "datasets", params)

    def dataset(self, dataset_id: str) -> dict:
        """One dataset with its columns, profile and quality report."""
        return self._json("GET", f"/api/v1/datasets/{dataset_id}")

    def publish(self, filename: str, data: bytes | Path, metadata: dict, *,
                new_version_of: str | None = None) -> dict:
        """Publish a file (steward): its bytes, or a file on disk, sent as it is read (a
        register of millions of rows never sits in the client's memory) — as a new dataset,
        or as the next version of the dataset ``new_version_of`` (``metadata`` then holds
        only ``strict`` and ``not_null``)."""
        path = (f"/api/v1/datasets/{new_version_of}/versions" if new_version_of
                else "/api/v1/datasets")
        meta = json.dumps(metadata, ensure_ascii=False)
        if not isinstance(data, Path):
            return self._json("POST", path, files={"file": (filename, data)},
                              data={"metadata": meta})
        with MultipartUpload(data, filename=filename, metadata=meta) as body:
            return self._json("POST", path, data=body, headers={
                "Content-Type": body.content_type, "Content-Length": str(len(body))})

    def withdraw(self, dataset_id: str, *, reason: str) -> dict:
        """Withdraw a dataset from the catalog (steward): its grants end."""
        return self._json("POST", f"/api/v1/datasets/{dataset_id}/withdraw",
                          json={"reason": reason})

    def edit_dataset(self, dataset_id: str, **changes: Any) -> dict:
        """Edit a dataset's metadata (steward)."""
        return self._json("PATCH", f"/api/v1/datasets/{dataset_id}", json=changes)

    # access
    def request(self, dataset_id: str, *, purpose: str, columns: list[str],
                key_columns: list[str] | None = None) -> dict:
        """Ask for a dataset (with ``key_columns``: lookups by them, not the table)."""
        body: dict[str, Any] = {"dataset_id": dataset_id, "purpose": purpose,
                                "columns": columns}
        if key_columns:
            body |= {"mode": "query", "key_columns": key_columns}
        return self._json("POST", "/api/v1/requests", json=body)

    def requests(self, status: str | None = None) -> list[dict]:
        """My department's requests (requester) or those for its datasets (steward)."""
        params = {"status": status} if status else {}
        return self._every("/api/v1/requests", "requests", params)

    def approve(self, request_id: str, **conditions: Any) -> dict:
        """Approve with conditions: columns, masking, expires_in_days, follows, rows."""
        body = {k: v for k, v in conditions.items() if v is not None}
        return self._json("POST", f"/api/v1/requests/{request_id}/approve", json=body)

    def withdraw_request(self, request_id: str, *, reason: str | None = None) -> dict:
        """Withdraw a pending request of my department."""
        body = {"reason": reason} if reason else {}
        return self._json("POST", f"/api/v1/requests/{request_id}/withdraw", json=body)

    def get_request(self, request_id: str) -> dict:
        """One request with its due time, timeline and appeals."""
        return self._json("GET", f"/api/v1/requests/{request_id}")

    def appeal(self, request_id: str, *, reason: str) -> dict:
        """Appeal a refusal of my department's request to the data authority."""
        return self._json("POST", f"/api/v1/requests/{request_id}/appeal",
                          json={"reason": reason})

    def decide_appeal(self, request_id: str, *, outcome: str,
                      instruction: str | None = None) -> dict:
        """Decide an appeal (data authority): upheld, or returned with an instruction."""
        body = {"outcome": outcome} | ({"instruction": instruction} if instruction else {})
        return self._json("POST", f"/api/v1/requests/{request_id}/appeal/decision", json=body)

    def notifications(self, *, unread_only: bool = False) -> dict:
        """My notices (every page) and the unread count."""
        params = {"unread": "true"} if unread_only else {}
        found = self._every("/api/v1/notifications", "notifications", params)
        count = self._json("GET", "/api/v1/notifications", params={"page_size": 1})["unread"]
        return {"notifications": found, "unread": count}

    def read_notifications(self, ids: list[int] | None = None) -> dict:
        """Mark my notices read (every one when ``ids`` is None)."""
        return self._json("POST", "/api/v1/notifications/read",
                          json={} if ids is None else {"ids": ids})

    def lookup(self, grant_id: str, key: dict[str, str]) -> dict:
        """Look one record up under a query grant."""
        return self._json("POST", f"/api/v1/grants/{grant_id}/lookup", json={"key": key})

    def verify_claims(self, grant_id: str, claims: dict[str, str]) -> dict:
        """Check claims against a record under a query grant (核验)."""
        return self._json("POST", f"/api/v1/grants/{grant_id}/verify", json={"claims": claims})

    def exchanges(self) -> list[dict]:
        """Deliveries received (requester) or provided (steward), newest first."""
        return self._every("/api/v1/exchanges", "exchanges", {})

    def rate(self, exchange_id: str, *, rating: int, comment: str | None = None) -> dict:
        """Rate a delivery 1-5 (好差评)."""
        body: dict[str, Any] = {"rating": rating} | ({"comment": comment} if comment else {})
        return self._json("POST", f"/api/v1/exchanges/{exchange_id}/feedback", json=body)

    def object_to(self, exchange_id: str, *, columns: list[str], rows: list[int],
                  description: str) -> dict:
        """Report errors in a delivery (校核纠错)."""
        return self._json("POST", f"/api/v1/exchanges/{exchange_id}/objections",
                          json={"columns": columns, "rows": rows,
                                "description": description})

    def objections(self, *, state: str | None = None) -> list[dict]:
        """Error reports filed, received or overseen."""
        return self._every("/api/v1/objections", "objections",
                           {"state": state} if state else {})

    def answer_objection(self, objection_id: str, *, outcome: str,
                         explanation: str | None = None, version: int | None = None) -> dict:
        """Answer an error report: fixed (in ``version``) or explained."""
        body: dict[str, Any] = {"outcome": outcome}
        if explanation:
            body["explanation"] = explanation
        if version is not None:
            body["version"] = version
        return self._json("POST", f"/api/v1/objections/{objection_id}/answer", json=body)

    def metrics(self, **params: str) -> dict:
        """How departments serve, per period (authority, auditors)."""
        return self._json("GET", "/api/v1/metrics/departments",
                          params={k: v for k, v in params.items() if v})

    def metrics_csv(self, **params: str) -> bytes:
        """The same figures as CSV."""
        query = {k: v for k, v in params.items() if v} | {"format": "csv"}
        return self._call("GET", "/api/v1/metrics/departments", params=query).content

    def deny(self, request_id: str, *, reason: str) -> dict:
        """Refuse a request."""
        return self._json("POST", f"/api/v1/requests/{request_id}/deny", json={"reason": reason})

    def grants(self) -> list[dict]:
        """Grants received or given."""
        return self._every("/api/v1/grants", "grants", {})

    def _every(self, path: str, key: str, params: dict[str, Any]) -> list[dict]:
        """Every item of a paged list, page after page (1,000 at a time)."""
        found: list[dict] = []
        token = None
        while True:
            page = self._json("GET", path, params=params | {"page_size": 1000} | (
                {"page_token": token} if token else {}))
            found += page[key]
            token = page.get("next_page_token")
            if not token:
                return found

    def revoke(self, grant_id: str, *, reason: str | None = None) -> dict:
        """Revoke a grant."""
        return self._json("POST", f"/api/v1/grants/{grant_id}/revoke", json={"reason": reason})

    def flow_back(self, dataset_id: str, **decision: Any) -> dict:
        """回流: the dataset flows back to the districts (purpose, legal_basis, columns,
        masking, review_in_days)."""
        body = {k: v for k, v in decision.items() if v is not None}
        return self._json("POST", f"/api/v1/datasets/{dataset_id}/flowback", json=body)

    def flowbacks(self) -> list[dict]:
        """The 回流 decisions of my department."""
        return self._json("GET", "/api/v1/flowbacks")["flowbacks"]

    def flowback_confirm(self, flowback_id: str) -> dict:
        """Confirm an L4 回流 decision (the second steward)."""
        return self._json("POST", f"/api/v1/flowbacks/{flowback_id}/confirm")

    def flowback_end(self, flowback_id: str, *, reason: str) -> dict:
        """End a 回流 decision and its grants."""
        return self._json("POST", f"/api/v1/flowbacks/{flowback_id}/end",
                          json={"reason": reason})

    #: ``catalog_export``'s formats and where the server serves each.
    CATALOG_EXPORTS = {"jsonld": "/api/v1/catalog.jsonld",
                       "directory-json": "/api/v1/catalog/directory.json",
                       "directory-xlsx": "/api/v1/catalog/directory.xlsx"}

    def catalog_export(self, fmt: str, output: Path) -> int:
        """Write the whole catalog as ``fmt`` (DCAT-AP JSON-LD, or the national directory as
        JSON or XLSX) to ``output``, block by block as it arrives; a file cut short is
        removed. Returns the bytes written."""
        response = self._call("GET", self.CATALOG_EXPORTS[fmt], stream=True)
        partial = output.with_name(output.name + ".part")
        written = 0
        try:
            with response, partial.open("wb") as out:
                for block in response.iter_content(1 << 16):
                    written += out.write(block)
            partial.replace(output)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
        return written

    # delivery
    def deliver(self, grant_id: str, *, fmt: str = "csv", bom: bool = False) -> dict:
        """Start a delivery; returns the exchange with its receipt."""
        body: dict[str, Any] = {"format": fmt} | ({"bom": True} if bom else {})
        return self._json("POST", f"/api/v1/grants/{grant_id}/exchanges", json=body)

    def download(self, data_url: str) -> bytes:
        """The delivered bytes."""
        return self._call("GET", data_url).content

    def jwks(self) -> dict:
        """The exchange's published signing keys."""
        return self._json("GET", "/.well-known/jwks.json")

    # audit
    def audit_entries(self, **filters: Any) -> dict:
        """One page of audit entries."""
        params = {k: v for k, v in filters.items() if v not in (None, "")}
        return self._json("GET", "/api/v1/audit/entries", params=params)

    def all_audit_entries(self, page: int = 1000, *, form: str = "object",
                          upto: int | None = None) -> list[dict]:
        """Every entry (or the first ``upto``), page by page, in order (``form="logged"``: as
        the exact text logged)."""
        found: list[dict] = []
        while upto is None or len(found) < upto:
            limit = page if upto is None else min(page, upto - len(found))
            batch = self.audit_entries(offset=len(found), limit=limit, form=form)["entries"]
            found += batch
            if len(batch) < limit:
                break
        return found

    def checkpoint(self) -> str:
        """The latest signed checkpoint."""
        return self._call("GET", "/api/v1/audit/checkpoint").text

    def audit_key(self) -> dict:
        """The checkpoint signer's verifier key."""
        return self._json("GET", "/api/v1/audit/key")

    def consistency_proof(self, old: int, new: int) -> dict:
        """Consistency proof between two tree sizes."""
        return self._json("GET", "/api/v1/audit/proofs/consistency",
                          params={"old": old, "new": new})


class MultipartUpload(io.RawIOBase):
    """A ``multipart/form-data`` body of the ``metadata`` field and the file at ``path``, read
    from disk as it is sent; its length is known beforehand (no chunked encoding)."""

    def __init__(self, path: Path, *, filename: str, metadata: str) -> None:
        super().__init__()
        boundary = "govex-" + secrets.token_hex(16)
        quoted = filename.replace("\r", "").replace("\n", "").replace('"', "%22")
        head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"metadata\"\r\n\r\n"
                f"{metadata}\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; "
                f'filename="{quoted}"\r\nContent-Type: application/octet-stream\r\n\r\n')
        self.content_type = f"multipart/form-data; boundary={boundary}"
        self._parts = [io.BytesIO(head.encode()), path.open("rb"),
                       io.BytesIO(f"\r\n--{boundary}--\r\n".encode())]
        self._length = sum(len(p.getvalue()) for p in self._parts[::2]) + path.stat().st_size
        self._sent = 0

    def __len__(self) -> int:
        return self._length

    def tell(self) -> int:  # requests subtracts it from the length
        return self._sent

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        for part in self._parts:
            count = part.readinto(buffer)
            if count:
                self._sent += count
                return count
        return 0

    def close(self) -> None:
        for part in self._parts:
            part.close()
        super().close()


def _error(response: requests.Response) -> ApiError:
    try:
        body = response.json()["error"]
        return ApiError(response.status_code, body["code"], body["message"])
    except (ValueError, KeyError, TypeError):
        return ApiError(response.status_code, "http_error", response.text[:200] or "error")
