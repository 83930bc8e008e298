"""Test support shipped with the package (as ``lhotse.testing``): nothing here runs in a build or a dub.

- :mod:`.random_whisper`: a tiny random-weight Whisper in CTranslate2 format (faster-whisper loads it);
- :mod:`.random_xtts`: a tiny random-weight XTTS v2 folder (Coqui TTS loads it);
- :mod:`.random_anime_embedding`: a random ECAPA speaker-embedding model in the anime-speaker-embedding layout;
- :mod:`.random_pyannote`: a tiny random pyannote.audio diarization pipeline folder;
- :mod:`.demo_release`: a small espeak-ng release and dubbed "systems" for evaluation and MUSHRA tests;
- :mod:`.release`: a small hand-made release whose statistics are worked out by hand;
- :mod:`.mushra`: a small MUSHRA test imported from a webMUSHRA config of synthetic WAVs;
- :mod:`.speech`: espeak-ng speech tracks with their true speech regions;
- :mod:`.terminal`: a stand-in terminal for progress-bar tests.

Each builds its files offline in about a second and imports its heavy dependency lazily.
"""
