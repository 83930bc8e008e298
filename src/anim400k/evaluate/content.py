"""Voice and content of a dub: speaker similarity (Resemblyzer) and BLEU/chrF/WER of transcripts."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from ..errors import BackendUnavailable
from ..signal import ANALYSIS_SR as SR


class SpeakerEncoder:
    """Resemblyzer speaker embeddings (its package ships the weights); CPU."""

    def __init__(self) -> None:
        try:
            from resemblyzer import VoiceEncoder
        except ImportError as exc:  # pragma: no cover - a declared dependency
            raise BackendUnavailable("resemblyzer", None, "pip install resemblyzer") from exc
        self.encoder = VoiceEncoder("cpu", verbose=False)

    def embed(self, x: np.ndarray, sr: int) -> np.ndarray | None:
        """L2-normalised utterance embedding (None for silence or when too little speech remains)."""
        from resemblyzer import preprocess_wav

        from ..signal import below_absolute_gate

        if below_absolute_gate(x, sr):  # silent by BS.1770 (resemblyzer would divide by zero normalising it)
            return None
        with np.errstate(all="ignore"):
            wav = preprocess_wav(np.asarray(x, dtype=np.float32), source_sr=sr)
        if wav.size < int(0.3 * SR):
            return None
        return np.asarray(self.encoder.embed_utterance(wav), dtype=np.float64)

    def similarity(self, a: np.ndarray, b: np.ndarray, sr: int) -> float:
        """Cosine similarity of the two signals' speakers (NaN if either has too little speech)."""
        ea, eb = self.embed(a, sr), self.embed(b, sr)
        if ea is None or eb is None:
            return math.nan
        return round(float(ea @ eb / (np.linalg.norm(ea) * np.linalg.norm(eb))), 4)


def text_scores(hypothesis: str, reference: str) -> dict[str, float]:
    """Sentence BLEU and chrF (sacrebleu) and WER (jiwer after :func:`anim400k.textnorm.normalize_english`)."""
    import sacrebleu

    from ..textnorm import wer

    out = {
        "bleu": round(sacrebleu.sentence_bleu(hypothesis, [reference]).score, 2),
        "chrf": round(sacrebleu.sentence_chrf(hypothesis, [reference]).score, 2),
    }
    w = wer(reference, hypothesis)
    out["wer"] = round(w, 4) if math.isfinite(w) else math.nan
    return out


def text_signatures() -> dict[str, str]:
    """How the text scores are computed, to quote beside them: sacrebleu's signatures of the sentence and corpus
    BLEU and chrF (13a tokenizer on the transcripts as the ASR wrote them, case kept; sentence BLEU with
    effective order and exponential smoothing; chrF with 6-char n-grams and no word n-grams, i.e. chrF, not
    chrF++) and the jiwer version with the normalisation applied before WER."""
    from importlib.metadata import version

    from sacrebleu.metrics import BLEU, CHRF

    sentence, corpus, chrf = BLEU(effective_order=True), BLEU(), CHRF()
    sentence.sentence_score("a", ["a"])  # sacrebleu knows the number of references only after scoring
    corpus.corpus_score(["a"], [["a"]])
    chrf.corpus_score(["a"], [["a"]])
    return {
        "bleu": str(sentence.get_signature()),
        "bleu_corpus": str(corpus.get_signature()),
        "chrf": str(chrf.get_signature()),
        "wer": f"jiwer {version('jiwer')} on anim400k.textnorm.normalize_english of both texts",
    }


def corpus_text_scores(hypotheses: Sequence[str], references: Sequence[str]) -> dict[str, float]:
    """Corpus BLEU/chrF and WER over all clips."""
    import sacrebleu

    from ..textnorm import wer

    if not hypotheses:
        return {}
    w = wer(list(references), list(hypotheses))
    return {
        "bleu": round(sacrebleu.corpus_bleu(list(hypotheses), [list(references)]).score, 2),
        "chrf": round(sacrebleu.corpus_chrf(list(hypotheses), [list(references)]).score, 2),
        "wer": round(w, 4) if math.isfinite(w) else math.nan,
    }
