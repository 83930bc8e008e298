"""Voice-cloning TTS: Coqui XTTS-v2 through the ``coqui-tts`` package (``pip install 'anim400k[xtts]'``).

The model is loaded only from a local folder holding ``config.json``, ``model.pth`` and
``vocab.json`` (and optionally ``speakers_xtts.pth``); nothing is downloaded. Each line is
spoken in the voice of the segment's speaker, cloned from ``VoiceProfile.reference`` (the
speaker's separated vocals). Conditioning latents are computed once per speaker.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ..errors import AnimError, BackendUnavailable, InputError, ModelRequired, reason, torch_load_failure
from ..offline import force_offline
from ..signal import resample
from .base import UnspeakableText, VoiceProfile, clean_text

REQUIRED_FILES = ("config.json", "model.pth", "vocab.json")
#: Sample rate XTTS expects for reference audio.
REFERENCE_SR = 22050


def _import_coqui() -> tuple[Any, Any]:
    force_offline()
    try:
        from TTS.tts.configs.xtts_config import XttsConfig
        from TTS.tts.models.xtts import Xtts
    except Exception as exc:  # ImportError, or OSError from a torchaudio built for another torch
        raise BackendUnavailable(
            "xtts", "xtts", f"coqui-tts (with torchaudio/torchcodec built for this torch) failed: {exc}"
        ) from exc
    return XttsConfig, Xtts


#: What ``model_path`` must be (in the message when it is missing).
MODEL_WHAT = "a local XTTS v2 folder with " + ", ".join(REQUIRED_FILES)


def check_model_folder(folder: Path) -> None:
    """Raise :class:`InputError` naming the folder or the file unless ``folder`` holds the model's files,
    none of them empty, ``config.json`` and ``vocab.json`` readable JSON objects (coqpit and the tokenizer
    would fail with a bare ``Expecting value: line 1 column 1`` that names no file)."""
    import json

    if not folder.is_dir():
        raise InputError("XTTS model folder not found", folder)
    missing = [f for f in REQUIRED_FILES if not (folder / f).is_file()]
    if missing:
        raise InputError(f"XTTS model folder lacks {', '.join(missing)}", folder)
    for name in REQUIRED_FILES:
        path = folder / name
        if path.stat().st_size == 0:
            raise InputError("empty file in the XTTS model folder", path)
        if name.endswith(".json"):
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError, ValueError) as exc:
                raise InputError(f"not a readable JSON file ({exc})", path) from None
            if not isinstance(data, dict):
                raise InputError("not a JSON object", path)
            if name == "vocab.json":  # the tokenizer's file ({"x": 1} failed as a bare JSON syntax error)
                try:
                    from tokenizers import Tokenizer

                    Tokenizer.from_file(str(path))
                except ImportError:
                    pass
                except Exception as exc:  # noqa: BLE001 - the tokenizers library raises a bare Exception
                    raise InputError(f"not a tokenizer file the XTTS model can use ({exc})", path) from None


class XttsSynthesizer:
    """XTTS voice cloning: ``synthesize(text, voice, sr, speed)`` in ``voice.reference``'s voice."""

    name = "xtts"

    def __init__(
        self,
        model_path: str | Path | None = None,
        language: str = "en",
        device: str = "cpu",
        temperature: float = 0.7,
        max_chars: int = 250,
        seed: int = 0,
    ) -> None:
        if model_path is None:
            raise ModelRequired("xtts", MODEL_WHAT, option="model_path")
        folder = Path(model_path)
        check_model_folder(folder)
        import torch

        if device.startswith("cuda") and not torch.cuda.is_available():
            raise AnimError(f"xtts: device {device!r} was asked for, but torch sees no CUDA GPU (use --device cpu)")
        xtts_config_cls, xtts_cls = _import_coqui()
        config = xtts_config_cls()
        try:
            config.load_json(str(folder / "config.json"))
            model = xtts_cls(config)
            model.load_checkpoint(config, checkpoint_dir=str(folder), use_deepspeed=False)
        except Exception as exc:  # noqa: BLE001 - torch/coqpit raise many kinds of errors for bad files
            failure = torch_load_failure(exc, "an XTTS checkpoint")
            if failure is not None:  # model.pth (or speakers_xtts.pth) junk or another program's file
                name = Path(failure[1]).name if failure[1] else "model.pth"  # named as the user named the folder
                raise InputError(failure[0], folder / name if (folder / name).is_file() else failure[1]) from None
            raise InputError(f"cannot load the XTTS model: {reason(exc)}", folder) from None
        model.to(device)
        model.eval()
        self.model = model
        self.config = config
        self.language = language
        self.device = device
        self.temperature = temperature
        self.max_chars = max_chars
        self.seed = seed
        self.output_sr = int(config.audio.output_sample_rate)
        self._torch = torch
        self._conditioning: dict[str, tuple[Any, Any]] = {}

    def conditioning(self, voice: VoiceProfile | None) -> tuple[Any, Any]:
        """GPT conditioning latents and speaker embedding for ``voice`` (cached per speaker)."""
        key = voice.speaker if voice is not None else ""
        if key in self._conditioning:
            return self._conditioning[key]
        if voice is None or voice.reference is None or voice.reference.size == 0:
            manager = getattr(self.model, "speaker_manager", None)
            if manager is not None and manager.speakers:
                first = next(iter(manager.speakers.values()))
                latents = (first["gpt_cond_latent"], first["speaker_embedding"])
            else:
                raise AnimError("xtts needs a reference recording of the speaker (none was given)")
        else:
            ref = resample(np.asarray(voice.reference, dtype=np.float32), voice.reference_sr, REFERENCE_SR, "soxr_hq")
            peak = float(np.max(np.abs(ref))) or 1.0
            audio = self._torch.from_numpy(ref / peak * 0.75).unsqueeze(0).to(self.device)
            with self._torch.inference_mode():
                gpt = self.model.get_gpt_cond_latents(
                    audio,
                    REFERENCE_SR,
                    length=int(self.config.gpt_cond_len),
                    chunk_length=int(self.config.gpt_cond_chunk_len),
                )
                spk = self.model.get_speaker_embedding(audio, REFERENCE_SR)
            latents = (gpt, spk)
        self._conditioning[key] = latents
        return latents

    def voice_name(self, voice: VoiceProfile | None) -> str:
        """``xtts:SPEAKER``: the voice cloned from that speaker's reference (one per speaker)."""
        return f"xtts:{voice.speaker if voice is not None else 'default'}"

    def synthesize(self, text: str, voice: VoiceProfile | None, sr: int, speed: float = 1.0) -> np.ndarray:
        """Speak ``text`` in ``voice``'s cloned voice, resampled to ``sr``."""

        line = clean_text(text, self.max_chars)
        gpt, spk = self.conditioning(voice)
        self._torch.manual_seed(self.seed)
        try:
            out = self.model.inference(line, self.language, gpt, spk, temperature=self.temperature, speed=float(speed))
        except AssertionError as exc:  # XTTS asserts on over-long token sequences
            raise UnspeakableText(f"xtts refused the text: {exc}") from exc
        wav = np.asarray(out["wav"], dtype=np.float32).reshape(-1)
        if wav.size == 0 or not np.all(np.isfinite(wav)):
            raise UnspeakableText("xtts produced no usable audio")
        if self.output_sr != sr:
            wav = resample(wav, self.output_sr, sr, "soxr_hq")
        return np.ascontiguousarray(wav, dtype=np.float32)
