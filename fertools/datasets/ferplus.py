"""FERPlus (Barsoum et al., ICMI 2016): FER2013 images re-labelled by 10 crowd-sourced taggers each."""
import csv
import os.path as osp
import re
from collections import Counter
from typing import Optional, Tuple

import numpy as np

from fertools.registry import DATASETS

from .expressions import FER2013_CLASSES, FERPLUS_CLASSES
from .reader_utils import DatasetLayoutError, FERReaderBase

__all__ = ['FERPlusDataset', 'process_ferplus_votes', 'FERPLUS_VOTE_COLUMNS', 'VOTE_RULES']

#: The ten vote columns of fer2013new.csv / label.csv, in file order.
FERPLUS_VOTE_COLUMNS = ('neutral', 'happiness', 'surprise', 'sadness', 'anger', 'disgust', 'fear', 'contempt',
                        'unknown', 'NF')
_UNKNOWN, _NF = 8, 9
_BOX = re.compile(r'^\s*\(\s*\d+\s*,\s*\d+\s*,\s*\d+\s*,\s*\d+\s*\)\s*$')
_USAGE = {'train': 'Training', 'val': 'PublicTest', 'test': 'PrivateTest'}
_PNG_DIRS = {'train': 'FER2013Train', 'val': 'FER2013Valid', 'test': 'FER2013Test'}
LABEL_MODES = ('majority', 'probability', 'crossentropy', 'multi_target', 'fer2013')
#: Vote rules: the reference code of Barsoum et al. (default) and fertools' former, stricter rule.
VOTE_RULES = ('reference', 'strict_unknown')


def _drop_reason(column: int) -> str:
    return 'not_face' if column == _NF else 'unknown'


def _walk_reference(v: np.ndarray, total: float):
    """Reference PLD/CEL walk: ``(kept[10], count)`` or ``(None, reason)`` when 'unknown'/'NF' alone tops."""
    kept, remaining, covered, count = np.zeros(10), v.copy(), 0.0, 0
    while covered < 0.75 * total and count < 3:
        val = remaining.max()
        group = np.flatnonzero(remaining == val)
        emotions, special = group[group < _UNKNOWN], group[group >= _UNKNOWN]
        if special.size:  # 'unknown' / 'NF' tie with this group: keep the group's emotions, end the walk
            if kept.sum() == 0 and emotions.size == 0:
                return None, _drop_reason(special[0])
            kept[emotions] = val
            return kept, count + emotions.size
        kept[group] = val
        remaining[group] = 0
        covered += val * group.size
        count += group.size
    return kept, count


def _walk_strict_unknown(v: np.ndarray, total: float):
    """Former fertools walk: a group tied with 'unknown' / 'NF' ends the walk without being taken."""
    kept, remaining, covered, count = np.zeros(10), v.copy(), 0.0, 0
    while covered < 0.75 * total and count < 3:
        val = remaining.max()
        group = np.flatnonzero(remaining == val)
        if val <= 0 or (group >= _UNKNOWN).any():
            break
        kept[group] = val
        remaining[group] = 0
        covered += val * group.size
        count += group.size
    return kept, count


def process_ferplus_votes(votes, mode: str = 'majority', remove_single_votes: bool = True,
                          multi_target_threshold: float = 0.3,
                          vote_rule: str = 'reference') -> Tuple[Optional[np.ndarray], str]:
    """Turn one row of ten FERPlus votes into a target distribution over the 8 emotions.

    The schemes of Barsoum et al. 2016 (Sec. 3), by default (``vote_rule='reference'``) exactly as the
    authors' reference code (``src/ferplus.py`` of the FERPlus repository, ``_process_data`` then the
    "arg-max is not unknown / NF" filter of ``load_folders``). With ``remove_single_votes`` an emotion voted by a
    single tagger first gets 0 votes (outlier removal); ``total`` = the remaining votes, unknown and NF
    included.

    - ``'majority'`` (MV): one-hot of the column with **more than half** of ``total``; excluded when there
      is none (``'no_majority'``) or it is unknown / NF;
    - ``'probability'`` (PLD) and ``'crossentropy'`` (CEL): the vote distribution of the emotions taken by a
      walk in decreasing vote order (tied columns together) until they hold >= 75% of ``total`` or 3 are
      taken. When 'unknown' or 'NF' ties with a group, the group's emotions are still taken, only unknown /
      NF is dropped, and the walk ends (votes ``[5,2,0,0,0,0,0,0,2,0]`` give neutral 5/7, happiness 2/7);
      when unknown / NF alone holds the most votes the face is excluded. Rows where the taken emotions hold
      <= 50% of ``total``, or more than 3 are taken, are ``'ambiguous'``;
    - ``'multi_target'`` (ML): every column (unknown and NF included) with >= ``multi_target_threshold`` of
      ``total`` is kept; a face whose kept columns hold <= 50% of ``total`` is ``'ambiguous'``, one whose
      most-voted kept column is unknown / NF is excluded; the target is uniform over the kept *emotions*
      (the reference trains on their indicator with ``-log max_k t_k p_k``).

    ``vote_rule='strict_unknown'`` is fertools' former rule: a face where unknown / NF has or *shares* the
    most votes is excluded, a group tied with unknown / NF ends the PLD/CEL walk *without* being taken
    (``[5,2,0,0,0,0,0,0,2,0]`` → neutral 1.0), and ``multi_target`` keeps the emotions with >=
    ``multi_target_threshold`` of ``total`` without the 50% check.

    Returns:
        ``(distribution[8] float32 summing to 1, 'ok')`` or ``(None, reason)`` with reason one of
        ``'no_votes'``, ``'not_face'`` (NF wins), ``'unknown'`` (unknown wins), ``'no_majority'`` (majority
        mode), ``'ambiguous'`` (distribution modes).
    """
    if vote_rule not in VOTE_RULES:
        raise ValueError(f'vote_rule must be one of {VOTE_RULES}, got {vote_rule!r}.')
    if mode not in LABEL_MODES[:4]:
        raise ValueError(f'label mode must be one of {LABEL_MODES[:4]}, got {mode!r}.')
    v = np.asarray(votes, dtype=np.float64).copy()
    if v.shape != (10, ):
        raise ValueError(f'expected 10 vote counts {FERPLUS_VOTE_COLUMNS}, got {v.shape[0]}.')
    if remove_single_votes:
        v[v <= 1.0] = 0.0
    total = v.sum()
    if total <= 0:
        return None, 'no_votes'
    strict = vote_rule == 'strict_unknown'
    top_idx = np.flatnonzero(v == v.max())
    if strict and (top_idx >= _UNKNOWN).any():  # 'unknown' or 'NF' has (or shares) the most votes
        return None, 'not_face' if _NF in top_idx else 'unknown'
    dist = np.zeros(8, dtype=np.float64)
    if mode == 'majority':
        if v[top_idx[0]] <= 0.5 * total:
            return None, 'no_majority'
        if top_idx[0] >= _UNKNOWN:
            return None, _drop_reason(top_idx[0])
        dist[top_idx[0]] = 1.0
        return dist.astype(np.float32), 'ok'
    if mode in ('probability', 'crossentropy'):
        kept, count = (_walk_strict_unknown if strict else _walk_reference)(v, total)
        if kept is None:
            return None, count
        if kept.sum() <= 0.5 * total or count > 3:
            return None, 'ambiguous'
        return (kept[:8] / kept[:8].sum()).astype(np.float32), 'ok'
    kept = np.where(v >= multi_target_threshold * total, v, 0.0)
    if strict:
        kept[_UNKNOWN:] = 0
    elif kept.sum() <= 0.5 * total:
        return None, 'ambiguous'
    elif np.argmax(kept) >= _UNKNOWN:
        return None, _drop_reason(int(np.argmax(kept)))
    members = kept[:8] > 0
    if not members.any():
        return None, 'ambiguous'
    dist[members] = 1.0
    return (dist / dist.sum()).astype(np.float32), 'ok'


@DATASETS.register_module()
class FERPlusDataset(FERReaderBase):
    """FERPlus: FER2013's 35,887 48x48 grey faces with 10 crowd votes each (8 emotions + unknown + NF).

    Two on-disk forms are read (``source='auto'`` picks the CSV form when ``fer2013new.csv`` is there)::

        data_root/                              # source='csv'
          fer2013.csv      # Kaggle FER2013; header "emotion,pixels,Usage"; one row per image:
                           #   0,"70 80 82 ... (2304 grey values 0-255, row-major 48x48)",Training
                           # emotion 0..6 = Angry, Disgust, Fear, Happy, Sad, Surprise, Neutral
                           # Usage: Training (28,709) | PublicTest (3,589) | PrivateTest (3,589)
          fer2013new.csv   # FERPlus votes, SAME number and order of rows as fer2013.csv; header
                           #   Usage,Image name,neutral,happiness,surprise,sadness,anger,disgust,fear,
                           #   contempt,unknown,NF
                           # e.g. "Training,fer0000000.png,4,0,0,1,3,2,0,0,0,0"; an empty "Image name"
                           # marks an image FERPlus removed (not a face) and is excluded.

        data_root/                              # source='png': the FERPlus repository's data/ folder
          FER2013Train/fer0000000.png ... + label.csv
          FER2013Valid/...              + label.csv
          FER2013Test/...               + label.csv
          # label.csv, no header, one of two forms (each row may be either):
          #   fer0000000.png,"(0, 0, 48, 48)",4,0,0,1,3,2,0,0,0,0   12 fields: name, face box, 10 votes
          #   fer0000000.png,4,0,0,1,3,2,0,0,0,0                    11 fields: name, 10 votes

    The 12-field ``label.csv`` files ship in the FERPlus repository itself, in
    ``data/FER2013{Train,Valid,Test}/``; its ``src/generate_training_data.py`` writes the PNGs there from
    ``fer2013.csv`` (older versions) and, in later versions, also rewrites ``label.csv`` from
    ``fer2013new.csv`` without the box (11 fields, the form later versions of the reference reader take). The
    box (always the whole 48x48 image) is checked for form and otherwise ignored.

    Splits: ``'train'`` = Training / FER2013Train, ``'val'`` = PublicTest / FER2013Valid, ``'test'`` =
    PrivateTest / FER2013Test, ``'all'``. In the CSV form images are decoded from the pixel strings into
    in-memory ``img`` (grey replicated to 3 channels, i.e. valid BGR; kept grey [48, 48] in the data list
    to save memory) and ``img_path`` is ``'<fer2013.csv>#<Image name>'`` for messages only.

    Labels (``label_mode``; the vote rules, by default those of the authors' reference code, are in
    :func:`process_ferplus_votes`, ``vote_rule='strict_unknown'`` gives fertools' former rules):

    - ``'majority'``: ``gt_label`` = the emotion with > 50% of the votes (after single-vote outlier removal);
      rows without a majority, or whose majority is unknown / NF, are excluded;
    - ``'probability'`` (PLD): ``gt_score`` = vote distribution; during training (``test_mode=False``) each
      fetch draws ``gt_label`` from ``gt_score`` with numpy's global RNG (seeded per worker by MMEngine),
      at test time ``gt_label`` is the arg-max;
    - ``'crossentropy'`` (CEL): ``gt_score`` = vote distribution (the loss uses it as a soft target),
      ``gt_label`` = arg-max;
    - ``'multi_target'`` (ML): ``gt_score`` uniform over the emotions with >= ``multi_target_threshold``
      of the votes; ``gt_label`` = the most voted of them (first column on ties);
    - ``'fer2013'``: the original FER2013 ``emotion`` column (7 classes, FER2013 order); needs only
      ``fer2013.csv`` (CSV form).

    Every exclusion is counted in ``self.exclusions`` (e.g. ``{'not_face': 177, 'unknown': 4, ...}``) and
    logged. ``num_classes=8`` keeps contempt (``FERPLUS_CLASSES``); ``num_classes=7`` drops it: rows whose
    label is contempt are excluded (counted as ``'contempt'``) and contempt's share of a distribution is
    removed and the rest renormalised. ``gt_score`` follows ``metainfo['classes']`` order.
    Every sample has ``subject_id=''`` (FER2013 has no identities) and ``modality='vis'``.

    Args:
        data_root (str): folder holding the CSV files or the FER2013Train/Valid/Test folders.
        split (str): ``'train'``, ``'val'``, ``'test'`` or ``'all'``.
        label_mode (str): see above; default ``'majority'``.
        num_classes (int): 8 (with contempt) or 7.
        source (str): ``'auto'``, ``'csv'`` or ``'png'``.
        remove_single_votes (bool): treat single votes as outliers (default True).
        multi_target_threshold (float): vote share for ``'multi_target'``.
        vote_rule (str): ``'reference'`` (Barsoum et al.'s code, default) or ``'strict_unknown'``.
        fer2013_file, ferplus_file (str): CSV names relative to ``data_root``.
    """

    METAINFO = dict(classes=FERPLUS_CLASSES)
    LAYOUT = ('data_root/fer2013.csv (emotion,pixels,Usage) + data_root/fer2013new.csv (Usage,Image name,'
              'neutral,happiness,surprise,sadness,anger,disgust,fear,contempt,unknown,NF), or '
              'data_root/FER2013{Train,Valid,Test}/fer0000000.png + label.csv rows '
              '"fer0000000.png,\\"(0, 0, 48, 48)\\",<10 votes>" (12 fields) or "fer0000000.png,<10 votes>" '
              '(11 fields)')
    SPLITS = ('train', 'val', 'test', 'all')

    def __init__(self, data_root: str, split: str = 'train', label_mode: str = 'majority', num_classes: int = 8,
                 source: str = 'auto', remove_single_votes: bool = True, multi_target_threshold: float = 0.3,
                 fer2013_file: str = 'fer2013.csv', ferplus_file: str = 'fer2013new.csv', vote_rule: str = 'reference',
                 metainfo=None, **kwargs):
        if split not in self.SPLITS:
            raise ValueError(f'FERPlusDataset: split must be one of {self.SPLITS}, got {split!r}.')
        if label_mode not in LABEL_MODES:
            raise ValueError(f'FERPlusDataset: label_mode must be one of {LABEL_MODES}, got {label_mode!r}.')
        if num_classes not in (7, 8):
            raise ValueError(f'FERPlusDataset: num_classes must be 7 or 8, got {num_classes!r}.')
        if vote_rule not in VOTE_RULES:
            raise ValueError(f'FERPlusDataset: vote_rule must be one of {VOTE_RULES}, got {vote_rule!r}.')
        if source not in ('auto', 'csv', 'png'):
            raise ValueError(f"FERPlusDataset: source must be 'auto', 'csv' or 'png', got {source!r}.")
        self.split, self.label_mode, self.num_classes = split, label_mode, num_classes
        self.source, self.remove_single_votes = source, remove_single_votes
        self.multi_target_threshold, self.vote_rule = multi_target_threshold, vote_rule
        self.fer2013_file, self.ferplus_file = fer2013_file, ferplus_file
        self.exclusions: Counter = Counter()
        default = FER2013_CLASSES if label_mode == 'fer2013' else FERPLUS_CLASSES[:num_classes]
        super().__init__(data_root=data_root, metainfo=self.with_default_classes(metainfo, default), **kwargs)

    # ------------------------------------------------------------------ loading
    def _resolve_source(self) -> str:
        if self.source != 'auto':
            return self.source
        if self.label_mode == 'fer2013' or osp.isfile(osp.join(self.data_root, self.ferplus_file)):
            return 'csv'
        if osp.isdir(osp.join(self.data_root, _PNG_DIRS['train'])):
            return 'png'
        raise FileNotFoundError(f'FERPlusDataset: neither {osp.join(self.data_root, self.ferplus_file)!r} nor '
                                f'{osp.join(self.data_root, _PNG_DIRS["train"])!r} exists. '
                                f'Expected layout: {self.LAYOUT}.')

    def load_data_list(self):
        self.reset_counters()
        self.exclusions = Counter()
        self.require_dir(self.data_root, 'data_root')
        self._column_to_class = [self.classes.index(c) if c in self.classes else None for c in FERPLUS_CLASSES]
        data_list = self._load_csv() if self._resolve_source() == 'csv' else self._load_png()
        self.report(dict(self.exclusions))
        return data_list

    def _target(self, votes, where):
        """``(gt_label, gt_score or None)`` for a vote row, or ``None`` (counted in ``exclusions``)."""
        dist, reason = process_ferplus_votes(votes, self.label_mode, self.remove_single_votes,
                                             self.multi_target_threshold, self.vote_rule)
        if dist is None:
            self.exclusions[reason] += 1
            return None
        winner = int(np.argmax(np.where(dist > 0, np.asarray(votes[:8], np.float64), -1.0)))  # most voted kept
        if self._column_to_class[winner] is None:
            self.exclusions[FERPLUS_CLASSES[winner]] += 1
            return None
        score = np.zeros(len(self.classes), dtype=np.float32)
        for col, cls in enumerate(self._column_to_class):
            if cls is not None:
                score[cls] += dist[col]
        score /= score.sum()
        return self._column_to_class[winner], (None if self.label_mode == 'majority' else score)

    def _read_csv(self, path, header_start):
        self.require_file(path, 'CSV file')
        with open(path, newline='', encoding='utf-8') as f:
            rows = list(csv.reader(f))
        if not rows or [h.strip() for h in rows[0][:len(header_start)]] != list(header_start):
            raise DatasetLayoutError(f'FERPlusDataset: {path!r} has header {rows[0] if rows else None}, '
                                     f'expected it to start with {list(header_start)}. Expected layout: '
                                     f'{self.LAYOUT}.')
        return rows[1:]

    def _load_csv(self):
        fer_path = osp.join(self.data_root, self.fer2013_file)
        fer_rows = self._read_csv(fer_path, ('emotion', 'pixels', 'Usage'))
        new_rows = None
        if self.label_mode != 'fer2013':
            new_path = osp.join(self.data_root, self.ferplus_file)
            new_rows = self._read_csv(new_path, ('Usage', 'Image name') + FERPLUS_VOTE_COLUMNS)
            if len(new_rows) != len(fer_rows):
                raise DatasetLayoutError(
                    f'FERPlusDataset: {new_path!r} has {len(new_rows)} rows but {fer_path!r} has '
                    f'{len(fer_rows)}; fer2013new.csv must have the same rows in the same order.')
        usages = ({_USAGE[self.split]} if self.split != 'all' else set(_USAGE.values()))
        data_list = []
        for i, row in enumerate(fer_rows):
            where = f'{fer_path}:{i + 2}'
            if len(row) != 3:
                self.bad(where, f'row has {len(row)} fields, expected 3 (emotion,pixels,Usage)')
                continue
            usage = row[2].strip()
            if usage not in _USAGE.values():
                self.bad(where, f'Usage {usage!r} is not one of {sorted(_USAGE.values())}')
                continue
            if usage not in usages:
                continue
            if new_rows is None:
                if not row[0].strip().isdigit() or int(row[0]) >= len(FER2013_CLASSES):
                    self.bad(where, f'emotion {row[0]!r} is not an integer 0..6')
                    continue
                label = self.label_index(FER2013_CLASSES[int(row[0])])
                if label is None:
                    continue
                target, name = (label, None), f'row{i:07d}'
            else:
                new = new_rows[i]
                nwhere = f'{osp.join(self.data_root, self.ferplus_file)}:{i + 2}'
                if len(new) != 12:
                    self.bad(nwhere, f'row has {len(new)} fields, expected 12')
                    continue
                if new[0].strip() != usage:
                    raise DatasetLayoutError(f'FERPlusDataset: Usage {new[0]!r} at {nwhere} differs from '
                                             f'{usage!r} at {where}; the two CSVs are not row-aligned.')
                name = new[1].strip()
                if not name:
                    self.exclusions['no_image_name'] += 1
                    continue
                try:
                    votes = [float(x) for x in new[2:]]
                except ValueError:
                    self.bad(nwhere, f'vote counts {new[2:]} are not numbers')
                    continue
                target = self._target(votes, nwhere)
                if target is None:
                    continue
            try:
                pixels = np.array(row[1].split(), dtype=np.int64)
            except ValueError:
                pixels = np.zeros(0)
            if pixels.size != 48 * 48 or pixels.min() < 0 or pixels.max() > 255:
                self.bad(where, f'pixels field has {pixels.size} values, expected 2304 grey values 0-255')
                continue
            info = dict(img=pixels.astype(np.uint8).reshape(48, 48), img_path=f'{fer_path}#{name}',
                        gt_label=target[0], subject_id='', modality='vis')
            if target[1] is not None:
                info['gt_score'] = target[1]
            data_list.append(info)
        return data_list

    def _load_png(self):
        if self.label_mode == 'fer2013':
            raise ValueError("FERPlusDataset: label_mode='fer2013' needs fer2013.csv (source='csv').")
        splits = list(_PNG_DIRS) if self.split == 'all' else [self.split]
        data_list = []
        for split in splits:
            folder = self.require_dir(osp.join(self.data_root, _PNG_DIRS[split]), f'{split} image folder')
            label_path = self.require_file(osp.join(folder, 'label.csv'), 'label file')
            with open(label_path, newline='', encoding='utf-8') as f:
                for line_no, row in enumerate(csv.reader(f), 1):
                    if not row:
                        continue
                    where = f'{label_path}:{line_no}'
                    if len(row) not in (11, 12):
                        self.bad(where, f'row has {len(row)} fields, expected 12 (name, box "(0, 0, 48, 48)", '
                                 '10 votes) or 11 (name, 10 votes)')
                        continue
                    if len(row) == 12 and not _BOX.match(row[1]):
                        self.bad(where, f'second of 12 fields is {row[1]!r}, expected a face box such as '
                                 '"(0, 0, 48, 48)"')
                        continue
                    try:
                        votes = [float(x) for x in row[-10:]]
                    except ValueError:
                        self.bad(where, f'vote counts {row[-10:]} are not numbers')
                        continue
                    target = self._target(votes, where)
                    if target is None:
                        continue
                    img_path = osp.join(folder, row[0].strip())
                    if not self.image_ok(img_path):
                        continue
                    info = dict(img_path=img_path, gt_label=target[0], subject_id='', modality='vis')
                    if target[1] is not None:
                        info['gt_score'] = target[1]
                    data_list.append(info)
        return data_list

    # ------------------------------------------------------------------ fetching
    def get_data_info(self, idx: int) -> dict:
        info = super().get_data_info(idx)
        img = info.get('img')
        if img is not None and img.ndim == 2:
            info['img'] = np.repeat(img[:, :, None], 3, axis=2)
            info['ori_shape'] = info['img_shape'] = img.shape[:2]
        if self.label_mode == 'probability' and not self.test_mode and 'gt_score' in info:
            p = info['gt_score'].astype(np.float64)
            info['gt_label'] = int(np.random.choice(len(p), p=p / p.sum()))
        return info

    def get_gt_labels(self) -> np.ndarray:
        """Arg-max labels (not PLD draws) of every sample."""
        return np.array([self._get_stored(i)['gt_label'] for i in range(len(self))], dtype=np.int64)

    def _get_stored(self, idx):
        return super().get_data_info(idx)
