"""``govex audit``: read the log and verify it without trusting the exchange."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from ._root import Context, pass_ctx

__all__ = ["COMMANDS"]


@click.group()
def audit() -> None:
    """The tamper-evident audit log (auditors)."""


@audit.command("log")
@click.option("--type", "type_", help="Event type: publish, request, approve, deny, revoke, "
                                      "exchange, authz_denied...")
@click.option("--department", help="As provider, receiver or actor's department: a code, a "
                                   "name or part of one (民政, civil).")
@click.option("--dataset", "dataset_id", help="A dataset id, or part of its title.")
@click.option("--actor", help="A username or a name, or part of one.")
@click.option("--since", help="RFC 3339 time, e.g. 2026-11-01T00:00:00Z")
@click.option("--until")
@click.option("--offset", type=int, default=0)
@click.option("--limit", type=int, default=100)
@pass_ctx
def log_(ctx: Context, type_: str | None, department: str | None, dataset_id: str | None,
         actor: str | None, since: str | None, until: str | None, offset: int,
         limit: int) -> None:
    """List audit entries."""
    page = ctx.client().audit_entries(type=type_, department=department, dataset_id=dataset_id,
                                      actor=actor, since=since, until=until, offset=offset,
                                      limit=limit)
    lines = [_line(e["index"], e["entry"]) for e in page["entries"]]
    lines += [f"no {_KINDS.get(name, name)} matches {m['text']!r}"
              for name, m in page.get("matched", {}).items() if not m["values"]]
    ctx.emit(page, "\n".join(lines) or "no entries")


_KINDS = {"department": "department", "actor": "user", "dataset_id": "dataset"}


def _line(index: int, e: dict[str, Any]) -> str:
    flow = f"{e.get('provider', '')}→{e.get('receiver', '')}" if e.get("receiver") else \
        e.get("provider", "")
    extra = f" rows={e['row_count']}" if "row_count" in e else ""
    extra += "".join(f" {column} in {','.join(values)}"
                     for column, values in (e.get("rows") or {}).items())
    return (f"#{index:<5} {e['time']}  {e['type']:<12} {e.get('actor', ''):<16} {flow:<18} "
            f"{e.get('dataset_id', '')} {e.get('outcome', '')}{extra}")


@audit.command("export")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path))
@pass_ctx
def export(ctx: Context, output: Path) -> None:
    """Write an evidence bundle (entries, checkpoint, public key) that verifies offline."""
    from audit import AuditError
    try:
        bundle = _fetch_bundle(ctx)
    except AuditError as exc:  # e.g. the server's entries skip an index
        raise click.ClickException(f"FAILED: {exc} (nothing written)") from exc
    output.write_bytes(bundle.to_bytes())
    ctx.emit({"file": str(output), "entries": len(bundle)},
             f"wrote {output}: {len(bundle)} entries and the signed checkpoint")


def _fetch_bundle(ctx: Context) -> Any:
    """The signed checkpoint and exactly the entries it covers, each as the exact text the
    log hashed (entries appended meanwhile belong to the next checkpoint)."""
    from audit import EvidenceBundle
    client = ctx.client()
    return EvidenceBundle.collect(
        checkpoint=client.checkpoint(), key=client.audit_key(),
        entries=lambda size: client.all_audit_entries(form="logged", upto=size))


@audit.command("verify")
@click.option("--export", "export_file", type=click.Path(exists=True, dir_okay=False,
                                                        path_type=Path),
              help="Verify this evidence bundle offline instead of asking the server.")
@click.option("--checkpoint", "old_file", type=click.Path(exists=True, dir_okay=False,
                                                         path_type=Path),
              help="A checkpoint saved earlier: prove the log only grew since.")
@click.option("--key", "key", help="The pinned verifier key: vkey text, or a file holding it "
              "or the JSON of GET /api/v1/audit/key.")
@click.option("--old-key", "old_key", help="The key that signed the --checkpoint, if the "
              "exchange rotated its key since (default: the matching key the log publishes).")
@click.option("--save-checkpoint", type=click.Path(dir_okay=False, path_type=Path),
              help="Keep the verified checkpoint here for the next run.")
@pass_ctx
def verify_(ctx: Context, export_file: Path | None, old_file: Path | None, key: str | None,
            old_key: str | None, save_checkpoint: Path | None) -> None:
    """Recompute the tree from every entry, check the signed checkpoint, and with
    --checkpoint check consistency (detects edits, deletions, reordering, rollback); against
    a server, its consistency proof is checked too. Exits non-zero if anything fails."""
    from audit import AuditError, EvidenceBundle
    pinned = _read_key(key)
    old = old_file.read_text() if old_file else None
    try:
        bundle = (EvidenceBundle.from_bytes(export_file.read_bytes()) if export_file
                  else _fetch_bundle(ctx))
        check = _Check(bundle, pinned=pinned, old=old, old_key=_read_key(old_key))
        proof = check.server_proof(ctx.client()) if old and not export_file else None
        result = bundle.verify(verifier=check.verifier, old_checkpoint=old,
                               old_consistency_proof=proof, old_verifier=check.old_verifier)
    except AuditError as exc:
        raise click.ClickException(f"FAILED: {exc}{_hint(exc, pinned)}") from exc
    if save_checkpoint:
        save_checkpoint.write_text(bundle.checkpoint)
    notes = [f"OK: {result.size} entries; root {result.root_hash.hex()[:16]}… matches the "
             f"checkpoint signed by {bundle.origin}"]
    if old:
        notes.append("consistent with the earlier checkpoint: the log only grew")
    if proof is not None:
        notes.append(f"the server's consistency proof from {check.old_size} to {result.size} "
                     f"entries verifies")
    notes += check.notes
    ctx.emit({"ok": True, "size": result.size, "root_hash": result.root_hash.hex(),
              "pinned_key": bool(pinned), "consistent_with_old": bool(old),
              "consistency_proof_checked": proof is not None}, "\n".join(notes))


class _Check:
    """The keys a verification uses, and the notes it leaves for the auditor."""

    def __init__(self, bundle: Any, *, pinned: str | None, old: str | None,
                 old_key: str | None) -> None:
        """Raises SignatureInvalid, InvalidFormat (a key or checkpoint is malformed)."""
        from audit import NoteVerifier, open_checkpoint, pick_verifier
        self.notes: list[str] = []
        self.verifier = NoteVerifier.from_vkey(pinned or bundle.vkey)
        self.new = open_checkpoint(bundle.checkpoint, self.verifier, origin=bundle.origin)
        if not pinned:
            self.notes.append("note: the key came with the log itself; pin it with --key to "
                              "rule out a forged log signed by another key")
        self.old_verifier = self.old_size = None
        if old is None:
            return
        if old_key:
            self.old_verifier = NoteVerifier.from_vkey(old_key)
        else:
            published = [NoteVerifier.from_vkey(v) for v in bundle.retired_vkeys]
            self.old_verifier = pick_verifier(old, [self.verifier, *published])
            if self.old_verifier.key_id != self.verifier.key_id:
                self.notes.append(f"note: the earlier checkpoint was signed by the retired "
                                  f"key {self.old_verifier.verifier_key}, as the log publishes "
                                  f"it; pin it with --old-key")
        self.old_size = open_checkpoint(old, self.old_verifier, origin=bundle.origin).size

    def server_proof(self, client: Any) -> list[bytes] | None:
        """The server's consistency proof from the earlier checkpoint to this one (None when
        there is nothing to prove). Raises LogInconsistent if the server will not give one."""
        import base64

        from audit import LogInconsistent

        from ..client import ApiError
        if self.old_size is None or not 0 < self.old_size <= self.new.size:
            return None
        try:
            body = client.consistency_proof(self.old_size, self.new.size)
        except ApiError as exc:
            raise LogInconsistent(f"the server gives no consistency proof from {self.old_size} "
                                  f"to {self.new.size} entries: {exc.message}") from exc
        return [base64.b64decode(h) for h in body["hashes"]]


def _hint(exc: Exception, pinned: str | None) -> str:
    from audit import SignatureInvalid
    if isinstance(exc, SignatureInvalid) and pinned:
        return (" — if the exchange rotated its signing key, confirm the new key with its "
                "operator and pin it with --key (the old one goes to --old-key)")
    return ""


def _read_key(key: str | None) -> str | None:
    """The vkey text of ``--key``/``--old-key``: given as is, or in a file, either alone or as
    the ``vkey`` of the JSON document ``GET /api/v1/audit/key`` serves."""
    if not key:
        return None
    path = Path(key)
    text = (path.read_text() if path.is_file() else key).strip()
    if not text.startswith("{"):
        return text
    try:
        vkey = json.loads(text).get("vkey")
    except (ValueError, AttributeError):
        vkey = None
    if not isinstance(vkey, str):
        raise click.ClickException("FAILED: the key is JSON but has no \"vkey\" string (give "
                                   "the vkey text or the document GET /api/v1/audit/key serves)")
    return vkey.strip()


#: The commands this module adds to ``govex`` (see :mod:`exchange.cli`).
COMMANDS: tuple[click.Command, ...] = (audit,)
