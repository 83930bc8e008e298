"""The sync estimator's constants: confidence threshold, feature rate, search grids, tolerances."""

from __future__ import annotations

from ..signal import ANALYSIS_SR

MIN_CONFIDENCE = 0.5
"""Below this confidence the build ignores the estimate and uses the identity map."""

FEATURE_RATE = 20.0
N_BANDS = 32
DRIFT_STEP = 0.0025
FINE_RATE = ANALYSIS_SR
FINE_WINDOW = 8.0
FINE_SEARCH = 0.25
COARSE_TOLERANCE = 0.12  # seconds: a coarse match agreeing with the line
FINE_TOLERANCE = 0.002  # seconds: a fine match agreeing with the line
SHORT_MEDIA_SECONDS = 45.0  # JP tracks up to this long take the short-media path (estimate._analyze_short)
SHORT_FALLBACK_SECONDS = 120.0  # up to this long, an unreliable long-path result is retried that way
VOTE_RATE = 2000  # Hz: the GCC vote (short media)
FINE_LOW_RATE = 4000  # Hz: the first fine passes and the coherence index (above 2 kHz is mostly dialogue)
VOTE_SEGMENT = 3.0  # seconds: longest vote segment
PHAT_SEARCH_S = 0.05  # seconds either side of a vote's offset searched on the whole overlap's GCC-PHAT
PHAT_PRECISE_PSR = 6.0  # ... whose peak, this many sidelobe deviations high, vouches for the offset (unrelated: ~3)
VOTE_SLOPE_TOLERANCE = 0.0005  # fine slope bounds around the vote's speed factor (its last step is 0.03 %)
DRIFT_SCAN_SPAN = 0.001  # speed factors within this of the vote's scanned when no candidate is confident (short)
DRIFT_SCAN_STEPS = (0.000125, 0.00003)  # ... on a grid of the first step, then of the second around the best
COHERENCE_LOW, COHERENCE_HIGH = 3.0, 10.0  # coherence index: ~1 for unrelated tracks, >100 for dubs
COHERENCE_FRAME = 256  # samples at FINE_LOW_RATE (64 ms, hop 32 ms): the coherence index's STFT frame
COHERENCE_BAND = (100.0, 1800.0)  # Hz: the coherence index's band (the M&E under the dialogue's energy)
RIVAL_EXCLUSION = 0.2  # seconds: a rival alignment is at least this far from the estimate (rival.py)
RIVAL_PHASES = 8  # rival alignments are scored every 1/8 of a frame hop (4 ms at 4 kHz)
LONG_COHERENCE_SECONDS = 60.0  # long path: JP excerpt whose coherence contrast may vouch for the fit
LONG_FINE_AGREEMENT = 0.4  # long path: fine agreement needed before the coherence contrast may vouch for the fit
UNMATCHED_MIN_MATCHES = 5  # a reliable estimate whose fine matches hold a run of this many off the line ...
UNMATCHED_SHARE = 0.4  # ... over this share of the JP track is not vouched for (estimate._vouch_coverage)
EDIT_MIN_WINDOWS = 3  # long path: outlier windows agreeing on another offset that make an edit ...
EDIT_MIN_FRACTION = 0.25  # ... when they are also this fraction of the windows (estimate._edit)
EDIT_MIN_SHIFT = 0.1  # seconds: ... and their offset differs from the fit's by more than this
EDIT_CONFIDENCE = 0.8 * MIN_CONFIDENCE  # an edited pair's confidence is at most this x the inlier fraction
SAME_AUDIO_PIECE = 1.0  # seconds: pieces compared by checks.same_audio_fraction
SAME_AUDIO_PIECES = 60  # at most this many pieces over the overlap
#: a piece the EN track repeats correlates at least this much (0.9 took a dub whose backing sits 10 dB over its
#: dialogue for the same audio: 82 % of its pieces reached 0.9, 38 % reach 0.97; re-encodes at 32 kb/s: 98 %)
SAME_AUDIO_CORRELATION = 0.97
SAME_AUDIO_FRACTION = 0.8  # pieces repeated for "the EN track is the same audio" (dubs: 0.08-0.13)
FINE_RETRY_INLIERS = 5  # fine pass 1: a line through this many matches (and 25 %) is retried from its slope
GCC_COARSE_EXCERPTS = 12  # long path, phase-based coarse stage (coarse_gcc.py): JP excerpts matched ...
GCC_COARSE_PIECES = 4  # ... each this many pieces ...
GCC_COARSE_PIECE = 3.0  # ... of this many seconds (12 s per excerpt), at VOTE_RATE
GCC_COARSE_STEP = 0.002  # its speed grid's step (the excerpt's votes tolerate half of it)
GCC_COARSE_LIKELY_DRIFTS = (0.0, 0.001, -0.001, 0.040, 0.042, -0.040, -0.042)  # tried first: none, 23.976/24, PAL
GCC_COARSE_AGREEMENT = 0.3  # fraction of the excerpts (and 3) on one line for the likely speeds to suffice
WINDOWS_AGREE = 0.75  # long path: inlier fraction of the band-energy windows at which they "agree" (full score)
STRETCH_MIN_DRIFT = 0.01  # long path: a coarse speed change this large may be pitch-corrected (stretch.py)
STRETCH_FINE_SCATTER = 0.00025  # s: fine inliers' median |residual| beyond which a speed change is not sample-precise
STRETCH_SEGMENT = 1.0  # seconds: unresampled JP segments located by stretch.stretch_line ...
STRETCH_SEGMENTS = 160  # ... at most this many, spread over the overlap ...
STRETCH_SEARCH = 0.3  # ... within this many seconds of the coarse line ...
STRETCH_MIN_SCORE = 5.0  # ... a match whose GCC-PHAT peak stands this many robust sigmas out is "clear"
STRETCH_TOLERANCE = 0.02  # seconds: a clear match agreeing with the stretch line
STRETCH_SLOPE = 0.002  # the stretch line's slope within this of the coarse line's
STRETCH_MIN_MATCHES = 10  # the stretch line is accepted with this many clear matches on it ...
STRETCH_MIN_AGREEMENT = 0.3  # ... and this fraction of the clear matches
