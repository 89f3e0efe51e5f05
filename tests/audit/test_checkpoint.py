"""C2SP checkpoints in signed notes: the spec's worked example, round trips, and notes that
must be refused (wrong key, altered text, no em-dash signature line, malformed keys)."""

from __future__ import annotations

import base64
import re

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from audit import Checkpoint, NoteSigner, NoteVerifier, open_checkpoint
from audit.errors import InvalidFormat, SignatureInvalid

# c2sp.org/signed-note worked example (CC BY 4.0; see tests/audit/vectors/c2sp/README.md).
C2SP_VKEY = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"
C2SP_NOTE = ("This is an example message.\n\n\u2014 example.com/foo "
             "Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1"
             "Yu72IneyaQM=\n")
ROOT = bytes(range(32))
ORIGIN = "govex.test/audit"


def test_the_c2sp_example_verifies() -> None:
    verifier = NoteVerifier.from_vkey(C2SP_VKEY)
    assert verifier.key_id.hex() == "530d903a"
    assert verifier.verify(C2SP_NOTE) == "This is an example message.\n"
    assert verifier.verifier_key == C2SP_VKEY


def test_the_c2sp_example_with_one_character_changed_is_refused() -> None:
    altered = C2SP_NOTE.replace("example message", "example messagE")
    with pytest.raises(SignatureInvalid, match="does not verify"):
        NoteVerifier.from_vkey(C2SP_VKEY).verify(altered)


@pytest.fixture
def signer() -> NoteSigner:
    return NoteSigner(ORIGIN, Ed25519PrivateKey.generate())


def test_signed_checkpoint_round_trip(signer: NoteSigner) -> None:
    note = signer.sign(Checkpoint(ORIGIN, 7, ROOT).to_text())
    body = f"{ORIGIN}\n7\n{base64.b64encode(ROOT).decode()}\n"
    assert re.fullmatch(rf"{re.escape(body)}\n\u2014 {re.escape(ORIGIN)} [A-Za-z0-9+/]{{91}}=\n",
                        note)
    verifier = NoteVerifier.from_vkey(signer.verifier_key)
    assert open_checkpoint(note, verifier) == Checkpoint(ORIGIN, 7, ROOT)


def test_verifier_key_has_the_c2sp_shape(signer: NoteSigner) -> None:
    name, key_id, key = signer.verifier_key.split("+", 2)
    raw = base64.b64decode(key)
    assert name == ORIGIN and raw[0] == 1 and len(raw) == 33
    assert key_id == signer.key_id.hex() == signer.verifier.key_id.hex()


def test_a_cosigned_note_verifies_for_each_key(signer: NoteSigner) -> None:
    witness = NoteSigner("witness.example", Ed25519PrivateKey.generate())
    note = signer.sign("hello\n")
    cosigned = note + witness.sign("hello\n").split("\n\n", 1)[1]
    assert signer.verifier.verify(cosigned) == "hello\n"
    assert witness.verifier.verify(cosigned) == "hello\n"


def _other_key_same_name() -> NoteVerifier:
    return NoteVerifier(ORIGIN, Ed25519PrivateKey.generate().public_key())


NOTE_NEGATIVES = [
    ("wrong key", lambda note: note, _other_key_same_name, "no signature by"),
    ("altered text", lambda note: note.replace("\n7\n", "\n8\n"), None, "does not verify"),
    ("no signature line", lambda note: note.split("\n\n")[0] + "\n\n", None, "no signature"),
    ("no blank line", lambda note: note.split("\n\n")[0] + "\n", None, "no blank line"),
    ("hyphen for em dash", lambda note: note.replace("\u2014", "-"), None, "U\\+2014"),
    ("en dash for em dash", lambda note: note.replace("\u2014", "\u2013"), None, "U\\+2014"),
    ("signature cut short", lambda note: note[:-10] + "\n", None, "base64"),
    ("extra field", lambda note: note[:-1] + " x\n", None, "name signature"),
    ("no final newline", lambda note: note[:-1], None, "malformed"),
    ("control character", lambda note: note.replace(ORIGIN, ORIGIN + "\x07"), None,
     "control"),
    ("signature of another text", lambda note: "other\n" + note[note.index("\n\n"):], None,
     "does not verify"),
]


@pytest.mark.parametrize(("tamper", "verifier", "pattern"), [c[1:] for c in NOTE_NEGATIVES],
                         ids=[c[0] for c in NOTE_NEGATIVES])
def test_bad_notes_are_refused(signer: NoteSigner, tamper, verifier, pattern: str) -> None:
    note = signer.sign(Checkpoint(ORIGIN, 7, ROOT).to_text())
    with pytest.raises(SignatureInvalid, match=pattern):
        (verifier() if verifier else signer.verifier).verify(tamper(note))


def test_open_checkpoint_checks_the_origin(signer: NoteSigner) -> None:
    note = signer.sign(Checkpoint(ORIGIN, 1, ROOT).to_text())
    assert open_checkpoint(note, signer.verifier, origin=ORIGIN).size == 1
    with pytest.raises(SignatureInvalid, match="not 'other.log'"):
        open_checkpoint(note, signer.verifier, origin="other.log")


def test_a_signed_text_that_is_not_a_checkpoint_is_refused(signer: NoteSigner) -> None:
    with pytest.raises(InvalidFormat, match="origin, a size and a root"):
        open_checkpoint(signer.sign("just a message\n"), signer.verifier)


def test_checkpoint_text_and_extensions_round_trip() -> None:
    checkpoint = Checkpoint(ORIGIN, 0, ROOT, extensions=("timestamp 1",))
    text = checkpoint.to_text()
    assert text == f"{ORIGIN}\n0\n{base64.b64encode(ROOT).decode()}\ntimestamp 1\n"
    assert Checkpoint.from_text(text) == checkpoint


B64_ROOT = base64.b64encode(ROOT).decode()


@pytest.mark.parametrize(("text", "pattern"), [
    (f"{ORIGIN}\n7\n{B64_ROOT}", "ends with a newline"),
    (f"{ORIGIN}\n7\n", "origin, a size and a root"),
    (f"{ORIGIN}\n07\n{B64_ROOT}\n", "not a decimal"),
    (f"{ORIGIN}\n-7\n{B64_ROOT}\n", "not a decimal"),
    (f"{ORIGIN}\n７\n{B64_ROOT}\n", "not a decimal"),
    (f"{ORIGIN}\nseven\n{B64_ROOT}\n", "not a decimal"),
    (f"{ORIGIN}\n7\n{B64_ROOT[:-1]}\n", "base64"),
    (f"{ORIGIN}\n7\n{base64.b64encode(ROOT[:31]).decode()}\n", "32 bytes"),
    (f"\n7\n{B64_ROOT}\n", "origin"),
    (f"{ORIGIN}\n7\n{B64_ROOT}\n\n", "extension"),
], ids=["no final newline", "no root", "leading zero", "negative", "full-width digit", "words",
        "bad base64", "short root", "empty origin", "blank extension"])
def test_malformed_checkpoints_are_refused(text: str, pattern: str) -> None:
    with pytest.raises(InvalidFormat, match=pattern):
        Checkpoint.from_text(text)


def _vkey(name: str = "k", key_id: str | None = None, alg: int = 1, size: int = 32) -> str:
    public = NoteSigner(name, Ed25519PrivateKey.generate())
    right_id, key = public.verifier_key.split("+", 2)[1:]
    raw = bytes([alg]) + base64.b64decode(key)[1:][:size]
    return f"{name}+{key_id or right_id}+{base64.b64encode(raw).decode()}"


@pytest.mark.parametrize(("vkey", "pattern"), [
    (_vkey(key_id="00000000"), "id does not match"),
    (_vkey(alg=2), "not an Ed25519 key"),
    (_vkey(size=31), "32 bytes"),
    ("k+530d903a", "name\\+keyid\\+key"),
    ("k+530D903A+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k", "name\\+keyid\\+key"),
    ("k+530d903a+not base64!", "base64"),
    ("+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k", "key name"),
], ids=["wrong id", "other algorithm", "short key", "two parts", "upper-case id", "bad base64",
        "empty name"])
def test_malformed_verifier_keys_are_refused(vkey: str, pattern: str) -> None:
    with pytest.raises(InvalidFormat, match=pattern):
        NoteVerifier.from_vkey(vkey)


@pytest.mark.parametrize("text", ["", "no newline", "bell\x07\n"])
def test_signer_refuses_texts_that_cannot_be_notes(signer: NoteSigner, text: str) -> None:
    with pytest.raises(InvalidFormat):
        signer.sign(text)


@pytest.mark.parametrize("name", ["", "with space", "a+b", "tab\tname"])
def test_key_names_are_validated(name: str) -> None:
    with pytest.raises(InvalidFormat, match="key name"):
        NoteSigner(name, Ed25519PrivateKey.generate())


def test_verifier_keys_whose_base64_holds_a_plus_sign_parse() -> None:
    signers = (NoteSigner("k", Ed25519PrivateKey.generate()) for _ in range(500))
    signer = next(s for s in signers if "+" in s.verifier_key.split("+", 2)[2])
    assert NoteVerifier.from_vkey(signer.verifier_key).verify(signer.sign("x\n")) == "x\n"
