"""Dataset statistics: the paper's tables on any Anim-400K release, streamed.

Definitions (see ``docs/statistics.md``):

- hours: sum of Japanese clip durations (``jp_end_time - jp_start_time``);
- single/multi-speaker: the clip's ``multi_speaker`` flag, or more than one ``speakers`` entry;
- sentences: Japanese text is split after a run of ``。｡！？!?‼⁇⁈⁉`` (with the closing brackets or quotes right
  after it) and at newlines; English after ``.``, ``!`` or ``?`` (with a closing quote/bracket) followed by
  whitespace, and at newlines; pieces without a word character (blank, ``...``, ``♪``) are dropped;
- words: Japanese words are the tokens of fugashi with unidic-lite, leaving out
  punctuation and symbols (UniDic ``補助記号``) and whitespace; English words are runs of
  letters/digits with inner apostrophes or hyphens (``don't``, ``well-known``) or, between digits, a
  ``.`` or ``,`` (``3.5``, ``1,000``);
- words/sentence = total words / total sentences; words/clip and sentences/clip divide by
  the number of clips with text in that language (an empty text is no transcript: left out);
- genres/themes per show (over shows with metadata; a show without any is left out), synopsis
  and character-description lengths (English words),
  poll voters (sum of ``number_of_voters``) and mean vote (``sum(score * ratio / 100)``) are
  mean ± population standard deviation (``ddof=0``) over the items that have them
  (episodes with a non-empty synopsis, characters with a non-empty description, episodes
  with a poll).

How it runs (fast and flat): the annotations file is stream-parsed one show at a time
(``ijson``'s C backend, :meth:`Dataset.iter_raw`) and each show's raw clip dicts are read
directly, without building typed records. Clips feed running sums and a duration
histogram; only per-show and per-episode numbers are kept (thousands, not hundreds of
thousands), so memory stays flat whatever the number of clips. The clip *texts* of a show
are counted by :func:`count_texts` (sentence splitting, MeCab tokenisation: about half of
the work); on a large file that runs in worker processes while the main process parses on,
and since text counts are integers the merged result is exactly the single-process one.
"""

from __future__ import annotations

from .accumulate import (
    DURATION_BIN_WIDTH,
    DURATION_MAX,
    MAX_WORKERS,
    PARALLEL_MIN_BYTES,
    StatsAccumulator,
    compute_stats,
    default_jobs,
    mean_std,
)
from .report import stats_rows, write_figures
from .textcount import count_texts, count_words_en, count_words_jp, split_sentences_en, split_sentences_jp

__all__ = [
    "DURATION_BIN_WIDTH", "DURATION_MAX", "MAX_WORKERS", "PARALLEL_MIN_BYTES", "StatsAccumulator", "compute_stats",
    "count_texts", "count_words_en", "count_words_jp", "default_jobs", "mean_std", "split_sentences_en",
    "split_sentences_jp", "stats_rows", "write_figures",
]
