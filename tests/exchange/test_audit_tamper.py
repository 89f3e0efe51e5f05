"""Tamper tests at the exchange level: an instance of its own (built in a tmp dir, copied per
test), its database edited behind the exchange's back, and ``govex audit verify`` — the real
command, its HTTP calls answered in process by the Flask app — catching each edit in words an
auditor understands. Also: a delivery whose audit append fails delivers nothing; the evidence
``govex pull`` keeps; a checkpoint saved before a key rotation still verifies after it."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from audit import Checkpoint, NoteSigner, NoteVerifier, open_checkpoint, verify_entry
from audit.errors import ProofInvalid
from audit.merkle import verify_consistency
from exchange.app import create_app
from exchange.auth import Principal
from exchange.cli import Context, cli
from exchange.client import ApiError, Client
from exchange.config import load_settings
from exchange.demo import build_demo
from exchange.events import Event
from exchange.usecases.admin import rotate_keys


@dataclasses.dataclass(frozen=True, kw_only=True)
class Note(Event):
    """An entry of the tests' own kind, to grow the log."""

    TYPE = "note"
    actor: str
    outcome: str = "recorded"


ROWS = 30
URL = "http://govex.test"


# -- an instance of our own, and the real client talking to it in process --------------------


class _Response:
    def __init__(self, status: int, body: bytes) -> None:
        self.status_code, self.content = status, body
        self.text = body.decode("utf-8", errors="replace")

    def json(self) -> Any:
        return json.loads(self.content)


class InProcessClient(Client):
    """The real API client; its requests go to the Flask app instead of the network.
    ``rewrite`` (path → function of the JSON body) lets a test play a lying server."""

    def __init__(self, app, token: str | None, rewrite: dict[str, Any] | None = None) -> None:
        super().__init__(URL, token=token)
        self._app, self._rewrite = app, rewrite or {}

    def _call(self, method: str, path: str, **kwargs: Any) -> _Response:
        headers = dict(self._session.headers)
        answer = self._app.test_client().open(path, method=method, headers=headers,
                                              query_string=kwargs.get("params"),
                                              json=kwargs.get("json"))
        body = answer.get_data()
        for prefix, change in self._rewrite.items():
            if path.startswith(prefix):
                body = json.dumps(change(json.loads(body))).encode()
        response = _Response(answer.status_code, body)
        if answer.status_code >= 400:
            error = response.json()["error"]
            raise ApiError(answer.status_code, error["code"], error["message"])
        return response


class Instance:
    """One exchange: its data directory, app, services and demo users."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.app = create_app({"home": home})
        self.svc = self.app.extensions["govex"]
        self.users = {u["username"]: u for u in
                      json.loads((home / "demo-users.json").read_text())}

    def client(self, user: str | None, **rewrite: Any) -> InProcessClient:
        token = self.users[user]["token"] if user else None
        return InProcessClient(self.app, token, rewrite)

    def vkey(self) -> str:
        return self.client(None).audit_key()["vkey"]

    def log_events(self, count: int, tag: str) -> None:
        for n in range(count):
            self.svc.record(Note(actor=f"{tag}-{n}"))

    def sql(self, *statements: str) -> None:
        """Edit the database behind the exchange's back."""
        with sqlite3.connect(self.home / "govex.db") as db:
            for statement in statements:
                db.execute(statement)
        db.close()

    def settle(self) -> None:
        """Fold the WAL into the database file, so a file copy is the whole database."""
        db = sqlite3.connect(self.home / "govex.db", isolation_level=None)
        busy, _, _ = db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        db.close()
        assert busy == 0


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> Path:
    home = tmp_path_factory.mktemp("tamper-base")
    build_demo(load_settings({"home": home}, environ={}), rows=ROWS, echo=lambda _m: None)
    Instance(home).settle()
    return home


@pytest.fixture
def instances(base, tmp_path):
    """``make()`` a fresh instance; ``make(copy_of=other)`` a copy of another one's database
    as it stands (a backup to roll back to, or the shared past of a fork)."""
    made: list[Instance] = []

    def make(copy_of: Instance | None = None) -> Instance:
        source = base
        if copy_of is not None:
            copy_of.settle()
            source = copy_of.home
        home = tmp_path / f"instance-{len(made)}"
        shutil.copytree(source, home)
        made.append(Instance(home))
        return made[-1]

    yield make
    for instance in made:
        instance.svc.engine.dispose()


@pytest.fixture
def govex(monkeypatch):
    """Run ``govex`` as ``user`` against ``instance``; returns click's Result."""
    def run(instance: Instance, user: str | None, *args: str, **rewrite: Any) -> Result:
        monkeypatch.setattr(Context, "client",
                            lambda ctx: InProcessClient(instance.app, ctx.token, rewrite))
        token = ["--token", instance.users[user]["token"]] if user else []
        return CliRunner().invoke(cli, ["--url", URL, *token, *args])
    return run


def _failed(result: Result, *words: str) -> None:
    assert result.exit_code == 1, result.output
    assert "FAILED:" in result.output
    for word in words:
        assert word in result.output, result.output


def _export(govex, instance: Instance, path: Path) -> Path:
    done = govex(instance, "audit-auditor", "audit", "export", "-o", str(path))
    assert done.exit_code == 0, done.output
    return path


# -- edits behind the exchange's back ----------------------------------------------------------


EDITS = {
    "edit": (["UPDATE audit_entries SET entry = replace(entry, '\"admin\"', '\"nobody\"') "
              "WHERE idx = 3"], ("root mismatch", "altered")),
    "delete": (["DELETE FROM audit_entries WHERE idx = 4"],
               ("entry 4 is missing", "deleted")),
    "swap": (["UPDATE audit_entries SET idx = -1 WHERE idx = 2",
              "UPDATE audit_entries SET idx = 2 WHERE idx = 5",
              "UPDATE audit_entries SET idx = 5 WHERE idx = -1"],
             ("root mismatch", "reordered")),
    "truncate": (["DELETE FROM audit_entries WHERE idx >= (SELECT size - 3 FROM audit_head)"],
                 ("entries were deleted (truncation)",)),
}


@pytest.mark.parametrize("how", list(EDITS))
def test_an_edited_log_fails_verification_offline_and_live(instances, govex, tmp_path, how):
    instance = instances()
    vkey = instance.vkey()
    clean = govex(instance, "audit-auditor", "audit", "verify", "--key", vkey)
    assert clean.exit_code == 0 and clean.output.startswith("OK"), clean.output
    statements, words = EDITS[how]
    instance.sql(*statements)

    bundle = tmp_path / "evidence.jsonl"
    exported = govex(instance, "audit-auditor", "audit", "export", "-o", str(bundle))
    if how == "delete":  # a gap in the indexes: refused at once, no bundle to pass on
        _failed(exported, *words, "nothing written")
        assert not bundle.exists()
    else:
        assert exported.exit_code == 0, exported.output
        offline = govex(instance, None, "audit", "verify", "--export", str(bundle), "--key",
                        vkey)
        _failed(offline, *words)
    _failed(govex(instance, "audit-auditor", "audit", "verify", "--key", vkey), *words)


def test_a_swap_that_keeps_each_entry_intact_still_changes_the_root(instances, govex):
    instance = instances()
    instance.sql("UPDATE audit_entries SET entry = (SELECT entry FROM audit_entries "
                 "WHERE idx = 1) WHERE idx = 0")
    _failed(govex(instance, "audit-auditor", "audit", "verify", "--key", instance.vkey()),
            "root mismatch")


def test_a_rolled_back_log_is_caught_by_an_earlier_checkpoint(instances, govex, tmp_path):
    live = instances()
    backup = instances(copy_of=live)
    live.log_events(4, "after-backup")
    saved = tmp_path / "seen.txt"
    vkey = live.vkey()
    seen = govex(live, "audit-auditor", "audit", "verify", "--key", vkey,
                 "--save-checkpoint", str(saved))
    assert seen.exit_code == 0, seen.output

    # the operator restores the backup: a valid, signed log, just shorter than one we saw
    alone = govex(backup, "audit-auditor", "audit", "verify", "--key", vkey)
    assert alone.exit_code == 0, alone.output
    _failed(govex(backup, "audit-auditor", "audit", "verify", "--key", vkey,
                  "--checkpoint", str(saved)), "rollback", "rolled back or truncated")


def test_a_forked_history_served_to_two_clients(instances, govex, tmp_path):
    first = instances()
    second = instances(copy_of=first)  # the same past, then each its own future
    first.log_events(3, "first")
    second.log_events(5, "second")
    vkey = first.vkey()
    assert second.vkey() == vkey
    seen_first, seen_second = tmp_path / "first.txt", tmp_path / "second.txt"
    for instance, saved in ((first, seen_first), (second, seen_second)):
        alone = govex(instance, "audit-auditor", "audit", "verify", "--key", vkey,
                      "--save-checkpoint", str(saved))
        assert alone.exit_code == 0, alone.output  # each history verifies on its own

    # the clients compare notes: the second's log does not extend what the first was shown
    _failed(govex(second, "audit-auditor", "audit", "verify", "--key", vkey,
                  "--checkpoint", str(seen_first)), "history rewritten", "forked")
    bundle = _export(govex, second, tmp_path / "second.json")
    _failed(govex(second, None, "audit", "verify", "--export", str(bundle), "--key", vkey,
                  "--checkpoint", str(seen_first)), "history rewritten")

    # and no consistency proof the second exchange can give links the two checkpoints
    verifier = NoteVerifier.from_vkey(vkey)
    old = open_checkpoint(seen_first.read_text(), verifier)
    new = open_checkpoint(seen_second.read_text(), verifier)
    proof = second.client("audit-auditor").consistency_proof(old.size, new.size)["hashes"]
    with pytest.raises(ProofInvalid):
        verify_consistency(old_size=old.size, new_size=new.size, old_root=old.root_hash,
                           new_root=new.root_hash, proof=[base64.b64decode(h) for h in proof])


def test_the_servers_consistency_proof_is_checked(instances, govex, tmp_path):
    instance = instances()
    saved = tmp_path / "seen.txt"
    vkey = instance.vkey()
    assert govex(instance, "audit-auditor", "audit", "verify", "--key", vkey,
                 "--save-checkpoint", str(saved)).exit_code == 0
    instance.log_events(3, "later")
    good = govex(instance, "audit-auditor", "audit", "verify", "--key", vkey,
                 "--checkpoint", str(saved))
    assert good.exit_code == 0, good.output
    assert "the server's consistency proof from" in good.output

    def flip(body: dict) -> dict:
        first = bytearray(base64.b64decode(body["hashes"][0]))
        first[0] ^= 1
        return body | {"hashes": [base64.b64encode(first).decode(), *body["hashes"][1:]]}

    lying = govex(instance, "audit-auditor", "audit", "verify", "--key", vkey,
                  "--checkpoint", str(saved), **{"/api/v1/audit/proofs/consistency": flip})
    _failed(lying, "consistency proof", "does not verify")


# -- keys: rotation and forgery ----------------------------------------------------------------


def test_a_checkpoint_saved_before_a_key_rotation_still_verifies(instances, govex, tmp_path):
    instance = instances()
    old_vkey = instance.vkey()
    saved = tmp_path / "before-rotation.txt"
    assert govex(instance, "audit-auditor", "audit", "verify", "--key", old_vkey,
                 "--save-checkpoint", str(saved)).exit_code == 0
    rotate_keys(instance.svc)
    instance.log_events(2, "after-rotation")

    key = instance.client(None).audit_key()
    new_vkey = key["vkey"]
    assert new_vkey != old_vkey
    assert [(k["status"], k["vkey"]) for k in key["keys"]] == [("active", new_vkey),
                                                              ("retired", old_vkey)]
    live = govex(instance, "audit-auditor", "audit", "verify", "--key", new_vkey,
                 "--checkpoint", str(saved))
    assert live.exit_code == 0, live.output
    assert "the log only grew" in live.output and "retired key" in live.output
    pinned_old = govex(instance, "audit-auditor", "audit", "verify", "--key", new_vkey,
                       "--checkpoint", str(saved), "--old-key", old_vkey)
    assert pinned_old.exit_code == 0 and "retired key" not in pinned_old.output

    bundle = _export(govex, instance, tmp_path / "evidence.jsonl")
    offline = govex(instance, None, "audit", "verify", "--export", str(bundle), "--key",
                    new_vkey, "--checkpoint", str(saved))
    assert offline.exit_code == 0, offline.output
    stale = govex(instance, "audit-auditor", "audit", "verify", "--key", old_vkey)
    _failed(stale, "no signature by", "rotated its signing key")


def test_a_checkpoint_signed_by_a_foreign_key_is_refused(instances, govex, tmp_path):
    instance = instances()
    origin = instance.svc.settings.log_origin
    forger = NoteSigner(origin, Ed25519PrivateKey.generate())
    real = open_checkpoint(instance.client("audit-auditor").checkpoint(),
                           NoteVerifier.from_vkey(instance.vkey()))
    forged = tmp_path / "forged.txt"
    forged.write_text(forger.sign(real.to_text()))
    _failed(govex(instance, "audit-auditor", "audit", "verify", "--key", instance.vkey(),
                  "--checkpoint", str(forged)), "signed by none of the keys")


# -- the auditor's page: a saved checkpoint checked against today's log -----------------------

AUDITOR = Principal("audit-auditor", "审计员", "audit", "auditor")


def _saved(instance: Instance) -> bytes:
    """The checkpoint as an auditor saves it from the checkpoint page."""
    return instance.client("audit-auditor").checkpoint().encode()


def _rolled_back(instances) -> tuple[Instance, bytes]:
    live = instances()
    backup = instances(copy_of=live)
    live.log_events(4, "after-backup")
    return backup, _saved(live)


def _forked(instances) -> tuple[Instance, bytes]:
    first = instances()
    second = instances(copy_of=first)
    first.log_events(3, "first")
    second.log_events(5, "second")
    return second, _saved(first)


def _grown(instances) -> tuple[Instance, bytes]:
    instance = instances()
    saved = _saved(instance)
    instance.log_events(3, "later")
    return instance, saved


def _rotated(instances) -> tuple[Instance, bytes]:
    instance = instances()
    saved = _saved(instance)
    rotate_keys(instance.svc)
    instance.log_events(2, "after-rotation")
    return instance, saved


def _edited(instances) -> tuple[Instance, bytes]:
    instance, saved = _grown(instances)
    instance.sql(*EDITS["edit"][0])
    return instance, saved


def _foreign(instances) -> tuple[Instance, bytes]:
    instance = instances()
    real = Checkpoint.unverified(_saved(instance).decode())
    forger = NoteSigner(instance.svc.settings.log_origin, Ed25519PrivateKey.generate())
    return instance, forger.sign(real.to_text()).encode()


def _other_log(instances) -> tuple[Instance, bytes]:
    instance = instances()
    real = Checkpoint.unverified(_saved(instance).decode())
    other = dataclasses.replace(real, origin="other.example/audit")
    return instance, NoteSigner(other.origin, Ed25519PrivateKey.generate()).sign(
        other.to_text()).encode()


def _flipped(instances) -> tuple[Instance, bytes]:
    instance = instances()
    note = bytearray(_saved(instance))
    note[len(note) // 2] ^= 0x01  # one bit of the root or the signature
    return instance, bytes(note)


SAVED = {
    "grown since": (_grown, "consistent", "active"),
    "saved before a key rotation": (_rotated, "consistent", "retired"),
    "rolled back to a backup": (_rolled_back, "rolled_back", "active"),
    "forked history": (_forked, "rewritten", "active"),
    "entry edited in the database": (_edited, "log_fails", "active"),
    "signed by a foreign key": (_foreign, "unknown_signer", ""),
    "another exchange's log": (_other_log, "other_log", ""),
    "one bit flipped": (_flipped, None, ""),
    "not a checkpoint": (lambda make: (make(), "剪贴板里的一段话\n".encode()),
                         "not_a_checkpoint", ""),
    "binary": (lambda make: (make(), bytes(range(256))), "not_a_checkpoint", ""),
    "too large": (lambda make: (make(), b"x\n" * 20_000), "not_a_checkpoint", ""),
}


@pytest.mark.parametrize("case", list(SAVED))
def test_a_saved_checkpoint_checked_on_the_page_finds_what_changed(instances, case):
    from exchange.usecases import auditing
    build, expected, signer = SAVED[case]
    instance, note = build(instances)
    found = auditing.check_saved_checkpoint(instance.svc, AUDITOR, note)
    if expected is None:  # a flipped bit breaks the note or its signature: never consistent
        assert found.outcome in ("not_a_checkpoint", "unknown_signer"), found
        return
    assert found.outcome == expected, found
    assert found.ok == (expected == "consistent")
    assert found.signer_status == signer
    if expected == "consistent":
        assert found.size > found.saved_size and found.proof  # the proof that links them
        old = Checkpoint.unverified(note.decode())
        verify_consistency(old_size=old.size, new_size=found.size, old_root=old.root_hash,
                           new_root=bytes.fromhex(found.root),
                           proof=[bytes.fromhex(h) for h in found.proof])


def test_only_auditors_check_a_saved_checkpoint(instances):
    from exchange.errors import Forbidden
    from exchange.usecases import auditing
    instance = instances()
    steward = Principal("civil-steward", "民政", "civil", "steward")
    with pytest.raises(Forbidden):
        auditing.check_saved_checkpoint(instance.svc, steward, _saved(instance))


# -- deliveries: evidence, and nothing delivered without its entry -----------------------------


def _grant(instance: Instance) -> str:
    requester = instance.client("civil-requester")
    market = next(d for d in requester.datasets() if d["department"] == "market")
    asked = requester.request(market["id"], purpose="核验企业法人信息",
                              columns=["企业名称", "法定代表人"])
    assert asked["status"] == "granted"
    return asked["grant_id"]


def test_pull_keeps_evidence_that_the_delivery_was_logged(instances, govex, tmp_path):
    instance = instances()
    grant = _grant(instance)
    out = tmp_path / "market.csv"
    done = govex(instance, "civil-requester", "pull", grant, "-o", str(out))
    assert done.exit_code == 0, done.output
    evidence = json.loads(Path(f"{out}.evidence.json").read_text())
    assert evidence["entry"]["type"] == "exchange"
    assert evidence["entry"]["sha256"] == hashlib.sha256(out.read_bytes()).hexdigest()
    signed = verify_entry(evidence["entry"], index=evidence["audit_index"],
                          proof=[base64.b64decode(h) for h in evidence["inclusion_proof"]],
                          checkpoint=evidence["checkpoint"],
                          verifier=NoteVerifier.from_vkey(instance.vkey()))
    assert signed.size == evidence["tree_size"] > evidence["audit_index"]

    def forge(body: dict) -> dict:
        return body | {"audit_entry": body["audit_entry"] | {"row_count": 0}}

    lied = tmp_path / "lied.csv"
    bad = govex(instance, "civil-requester", "pull", grant, "-o", str(lied),
                **{f"/api/v1/grants/{grant}/exchanges": forge})
    assert bad.exit_code != 0 and isinstance(bad.exception, ProofInvalid)
    assert not list(tmp_path.glob("lied.csv*"))


def test_pull_into_a_folder_that_cannot_take_the_file_asks_for_nothing(instances, govex,
                                                                      tmp_path):
    instance = instances()
    grant = _grant(instance)
    before = len(instance.client("audit-auditor").all_audit_entries())
    done = govex(instance, "civil-requester", "pull", grant, "-o",
                 str(tmp_path / "no-such-folder" / "x.csv"))
    assert done.exit_code == 1 and "is not a writable folder" in done.output
    assert len(instance.client("audit-auditor").all_audit_entries()) == before  # nothing logged


def test_a_delivery_whose_audit_append_fails_delivers_nothing(instances):
    instance = instances()
    grant = _grant(instance)
    instance.sql("CREATE TRIGGER refuse_exchanges BEFORE INSERT ON audit_entries "
                 "WHEN NEW.type = 'exchange' BEGIN SELECT RAISE(ABORT, 'audit refused'); END")
    with sqlite3.connect(instance.home / "govex.db") as db:
        before = db.execute("SELECT count(*) FROM audit_entries").fetchone()[0]
    db.close()

    requester = instance.client("civil-requester")
    with pytest.raises(ApiError) as failed:
        requester.deliver(grant)
    assert failed.value.status == 500
    assert "audit" not in failed.value.message and "refused" not in failed.value.message
    with sqlite3.connect(instance.home / "govex.db") as db:
        assert db.execute("SELECT count(*) FROM exchange_exchanges").fetchone()[0] == 0
        assert db.execute("SELECT count(*) FROM audit_entries").fetchone()[0] == before
    db.close()

    instance.sql("DROP TRIGGER refuse_exchanges")
    delivered = requester.deliver(grant)  # the same grant works once the log accepts entries
    assert requester.download(delivered["data_url"])
    assert delivered["audit_index"] == before
